/*
 * serve.c - phasecast-serve: host tictactoe, piles and encounter rooms on
 * the network.
 *
 * Opens a pc_server on the given PUB and REP URLs, hosts one room per
 * --room (ID alone is tictactoe, ID:GAME names the game), prints the URLs
 * it actually listens on (so port 0 is usable from scripts) and serves
 * until SIGINT or SIGTERM. The signals are blocked before the loop thread
 * starts, so that thread inherits the mask and the main thread alone takes
 * them with sigwait: no handler, no async-signal rules. Every piles room
 * shares one piles_config, and every encounter room one encounter_config,
 * built from the options and alive until the server is freed; every
 * encounter room gets the game master's credential read from the file
 * --gm-credential-file names (credfile.h), never from the command line. It
 * knows only the games in games/. With --log-dir it keeps every room durable
 * and recovers the logged rooms at start (serve_log.c, docs/durability.md).
 *
 * usage: phasecast-serve [--pub URL] [--rep URL] [--room ID[:GAME]]...
 *                        [--heartbeat MS] [--history N] [--max-message BYTES]
 *                        [--seed N] [piles options] [encounter options]
 *                        [--gm-credential-file FILE]
 *                        [--action-rate N [--action-burst N]]
 *                        [--log-dir DIR [--fsync POLICY] [--keyframe-every N]
 *                         [--keep-segments N|all]
 *                        [--repair]]
 *                        [--http HOST:PORT [--http-cors ORIGIN]
 *                         [--http-web-root DIR] [--http-rate N]
 *                         [--http-connections N] [--sse-buffer BYTES]]
 *        phasecast-serve --verify FILE [--verify FILE]...
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "credfile.h"
#include "encounter/encounter.h"
#include "phasecast/error.h"
#include "phasecast/room.h"
#include "phasecast/server.h"
#include "phasecast/version.h"
#include "piles/piles.h"
#include "serve_log.h"
#include "tictactoe/tictactoe.h"

#define MAX_ROOMS 64

/* The games a room may play, by the name --room ID:GAME uses. */
static const struct {
    const char *name;
    const pc_game *(*game)(void);
} games[] = {{"tictactoe", tictactoe_game},
             {"piles", piles_game},
             {"encounter", encounter_game}};

/* One --room: its id and its game's index in games[]. */
typedef struct room_arg {
    char id[PC_ROOM_ID_MAX + 1];
    size_t game;
} room_arg;

static void usage(FILE *to)
{
    fprintf(to,
            "usage: phasecast-serve [options]\n"
            "Host tictactoe, piles and encounter rooms over nng (wire protocol "
            "v%d, "
            "see\ndocs/protocol.md).\n"
            "\n"
            "  --pub URL            broadcast (PUB) URL "
            "[tcp://127.0.0.1:7700]\n"
            "  --rep URL            request (REP) URL "
            "[tcp://127.0.0.1:7701]\n"
            "  --room ID[:GAME]     host a room of GAME, tictactoe (the "
            "default),\n"
            "                       piles or encounter (repeatable) [r1]\n"
            "  --heartbeat MS       heartbeat period per room, 0 = none "
            "[%d]\n"
            "  --history N          changes each room keeps [%d]\n"
            "  --max-message BYTES  largest request answered [%d]\n"
            "  --action-rate N      actions per second each player may "
            "send, over\n"
            "                       a burst (rate_limited beyond) [0: no "
            "limit]\n"
            "  --action-burst N     the burst [the rate]\n"
            "  --seed N             seed every room's PRNG with N "
            "[from the clock]\n"
            "  --inspector-credential-file FILE\n"
            "                       enable the inspect request with the "
            "credential on\n"
            "                       FILE's first line (else "
            "PHASECAST_INSPECTOR_CREDENTIAL;\n"
            "                       neither: the inspector is off)\n"
            "  --gm-credential-file FILE\n"
            "                       the game master's credential of every "
            "encounter\n"
            "                       room, on FILE's first line (required "
            "with one;\n"
            "                       never on the command line)\n"
            "  --help               show this and exit\n"
            "\n"
            "HTTP bridge (docs/web.md; off unless --http is given):\n"
            "  --http HOST:PORT     serve the rooms, /metrics and the pages "
            "over HTTP\n"
            "                       and Server-Sent Events (port 0: a free "
            "port)\n"
            "  --http-cors ORIGIN   allow cross-origin requests from ORIGIN "
            "(or *)\n"
            "  --http-web-root DIR  serve the pages from DIR instead of the "
            "built-in ones\n"
            "  --http-rate N        requests per second per client address "
            "[%d]\n"
            "  --http-connections N open connections at most [%d]\n"
            "  --sse-buffer BYTES   unsent bytes per event stream before it "
            "is cut [%d]\n"
            "\n"
            "Durability (docs/durability.md):\n",
            PC_PROTOCOL_VERSION, PC_SERVER_HEARTBEAT_DEFAULT,
            PC_HISTORY_DEFAULT, PC_SERVER_MESSAGE_DEFAULT, PC_HTTP_RATE_DEFAULT,
            PC_HTTP_CONNECTIONS_DEFAULT, PC_HTTP_SSE_BUFFER_DEFAULT);
    serve_log_usage(to);
    fprintf(to,
            "\nPiles rooms (docs/games/piles.md), delays in "
            "milliseconds:\n%s",
            piles_config_usage());
    fprintf(to,
            "\nEncounter rooms (docs/games/encounter.md), delays in "
            "milliseconds:\n%s",
            encounter_config_usage());
    fprintf(to,
            "\n"
            "A TCP port 0 picks a free port; the URLs in use are printed as\n"
            "\"pub URL\" and \"rep URL\", then one \"room ID GAME\" line "
            "per room, and \"http URL\" with --http.\n"
            "Stops on SIGINT or SIGTERM.\n");
}

/* The inspector credential: FILE's first line (credfile_read), else the
 * environment's PHASECAST_INSPECTOR_CREDENTIAL, else none (NULL). buf
 * holds cap >= CREDFILE_BUF bytes. Returns false (with a message that
 * never holds the secret) when a file was named and gives none; whether
 * the credential is well-formed, pc_server_new says. */
static bool inspector_credential(const char *file, char *buf, size_t cap,
                                 const char **out)
{
    *out = NULL;
    if (file == NULL) {
        const char *env = getenv("PHASECAST_INSPECTOR_CREDENTIAL");
        *out = env != NULL && env[0] != '\0' ? env : NULL;
        return true;
    }
    if (!credfile_read("phasecast-serve", "the inspector credential", file, buf,
                       cap)) {
        return false;
    }
    *out = buf;
    return true;
}

/* Parse a non-negative integer argument of at most max. */
static bool number(const char *s, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0 || v > max) {
        return false;
    }
    *out = v;
    return true;
}

/* Parse "ID" (tictactoe) or "ID:GAME" into r; false if GAME is unknown
 * or the id too long (the server checks the id's characters). */
static bool room_spec(const char *spec, room_arg *r)
{
    const char *colon = strrchr(spec, ':');
    size_t len = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
    if (len == 0 || len > PC_ROOM_ID_MAX) {
        return false;
    }
    memcpy(r->id, spec, len);
    r->id[len] = '\0';
    r->game = 0;
    if (colon == NULL) {
        return true;
    }
    for (size_t i = 0; i < sizeof games / sizeof games[0]; i++) {
        if (strcmp(colon + 1, games[i].name) == 0) {
            r->game = i;
            return true;
        }
    }
    return false;
}

/* Parse a seed: any unsigned 64-bit decimal. */
static bool seed_number(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-') {
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

/*
 * The shutdown watchdog. nng 1.5.2 can hang for good in nng_close when a
 * request arrives on a connection at the moment its socket is closed
 * (docs/reference/client.md, "Known issue"; the start/stop loop,
 * tests/cli/chaos_startstop.sh, hit it in pc_server_free once in a few
 * dozen stops while clients kept sending). pc_server_free closes the
 * sockets last, after every room and change log is closed, so a process
 * stuck there has nothing left to save; and what is written to a change
 * log survives the process whatever happens (docs/durability.md). So if
 * pc_server_free has not returned after SHUTDOWN_GRACE_MS, the watchdog
 * says so and ends the process with status 0 instead of hanging.
 */
#define SHUTDOWN_GRACE_MS 1500

/* Set by main once pc_server_free returned; guarded by done_mu. */
static pthread_mutex_t done_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
static bool done;

static void *watchdog(void *arg)
{
    (void)arg;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += SHUTDOWN_GRACE_MS / 1000;
    until.tv_nsec += (long)(SHUTDOWN_GRACE_MS % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&done_mu);
    int rc = 0;
    while (!done && rc != ETIMEDOUT) {
        rc = pthread_cond_timedwait(&done_cv, &done_mu, &until);
    }
    bool finished = done;
    pthread_mutex_unlock(&done_mu);
    if (!finished) {
        static const char msg[] =
            "phasecast-serve: closing the sockets hung (nng 1.5.2, see "
            "docs/reference/client.md); exiting without waiting\n";
        (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
        _exit(0);
    }
    return NULL;
}

/* Every subscriber, client, HTTP stream and log file is a descriptor, and
 * many systems start processes with a soft limit of 1024, which would cap
 * a server at about a thousand connections: take the whole hard limit, as
 * servers commonly do (docs/security.md). A limit that cannot be raised
 * stays as it was. */
static void raise_descriptor_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    pc_server_options o;
    pc_server_options_init(&o);
    o.pub_url = "tcp://127.0.0.1:7700";
    o.rep_url = "tcp://127.0.0.1:7701";
    o.on_room_failed = serve_log_room_failed;
    static room_arg rooms[MAX_ROOMS];
    size_t nrooms = 0;
    long history = PC_HISTORY_DEFAULT;
    uint64_t seed = 0;
    bool seeded = false;
    piles_config piles;
    piles_config_init(&piles);
    serve_log sl = {0};
    const char *cred_file = NULL;
    static char cred[CREDFILE_BUF];
    encounter_config enc;
    encounter_config_init(&enc);
    const char *gm_file = NULL;
    static char gm_cred[CREDFILE_BUF];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (serve_log_flag(a, &sl)) {
            continue;
        }
        if (v == NULL) {
            fprintf(stderr, "phasecast-serve: %s needs a value\n", a);
            usage(stderr);
            return 2;
        }
        i++;
        if (strcmp(a, "--pub") == 0) {
            o.pub_url = v;
        } else if (strcmp(a, "--rep") == 0) {
            o.rep_url = v;
        } else if (strcmp(a, "--room") == 0 && nrooms < MAX_ROOMS &&
                   room_spec(v, &rooms[nrooms])) {
            nrooms++;
        } else if (strcmp(a, "--heartbeat") == 0 && number(v, 3600000, &n)) {
            o.heartbeat_ms = n == 0 ? -1 : (int)n;
        } else if (strcmp(a, "--history") == 0 && number(v, 1000000, &n)) {
            history = n;
        } else if (strcmp(a, "--max-message") == 0 && number(v, 1L << 30, &n) &&
                   n > 0) {
            o.max_message_bytes = (size_t)n;
        } else if (strcmp(a, "--action-rate") == 0 && number(v, 1000000, &n)) {
            o.action_rate = (unsigned)n;
        } else if (strcmp(a, "--action-burst") == 0 && number(v, 1000000, &n)) {
            o.action_burst = (unsigned)n;
        } else if (strcmp(a, "--inspector-credential-file") == 0) {
            cred_file = v;
        } else if (strcmp(a, "--gm-credential-file") == 0) {
            gm_file = v;
        } else if (strcmp(a, "--http") == 0) {
            o.http.addr = v;
        } else if (strcmp(a, "--http-cors") == 0) {
            o.http.cors_origin = v;
        } else if (strcmp(a, "--http-web-root") == 0) {
            o.http.web_root = v;
        } else if (strcmp(a, "--http-rate") == 0 && number(v, 1000000, &n) &&
                   n > 0) {
            o.http.rate = (unsigned)n;
        } else if (strcmp(a, "--http-connections") == 0 &&
                   number(v, 1000000, &n) && n > 0) {
            o.http.max_connections = (size_t)n;
        } else if (strcmp(a, "--sse-buffer") == 0 && number(v, 1L << 30, &n) &&
                   n >= 1024) {
            o.http.sse_buffer_bytes = (size_t)n;
        } else if (strcmp(a, "--seed") == 0 && seed_number(v, &seed)) {
            seeded = true;
        } else if (piles_config_option(&piles, a, v) == PC_OK) {
            /* stored in piles */
        } else if (encounter_config_option(&enc, a, v) == PC_OK) {
            /* stored in enc */
        } else if (serve_log_option(a, v, &o, &sl) > 0) {
            /* stored in o or sl */
        } else {
            fprintf(stderr, "phasecast-serve: bad option %s %s\n", a, v);
            usage(stderr);
            return 2;
        }
    }
    if (sl.nverify > 0) {
        return serve_log_verify(&sl);
    }
    if (encounter_config_check(&enc) != PC_OK) {
        fprintf(stderr, "phasecast-serve: the encounter options do not fit "
                        "together (docs/games/encounter.md)\n");
        return 2;
    }
    bool hosts_encounter = false;
    for (size_t i = 0; i < nrooms; i++) {
        hosts_encounter |= games[rooms[i].game].game == encounter_game;
    }
    if (gm_file == NULL && hosts_encounter) {
        fprintf(stderr,
                "phasecast-serve: an encounter room needs its game master's "
                "credential: --gm-credential-file FILE\n");
        return 2;
    }
    if (gm_file != NULL &&
        !credfile_read("phasecast-serve", "the game master's credential",
                       gm_file, gm_cred, sizeof gm_cred)) {
        credfile_wipe(gm_cred, sizeof gm_cred);
        return 1;
    }
    if (gm_file != NULL && !credfile_well_formed(gm_cred)) {
        fprintf(stderr,
                "phasecast-serve: the game master's credential in %s must be "
                "16 to %d printable ASCII characters without spaces\n",
                gm_file, PC_SERVER_CREDENTIAL_MAX);
        credfile_wipe(gm_cred, sizeof gm_cred);
        return 1;
    }
    if (!inspector_credential(cred_file, cred, sizeof cred,
                              &o.inspector_credential)) {
        credfile_wipe(cred, sizeof cred);
        credfile_wipe(gm_cred, sizeof gm_cred);
        return 1;
    }

    /* Blocked here, inherited by the loop thread, taken by sigwait below. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    raise_descriptor_limit();
    pc_server *srv = NULL;
    pc_error e = {0};
    pc_err made = pc_server_new(&o, &srv, &e);
    credfile_wipe(cred, sizeof cred);
    if (made != PC_OK) {
        fprintf(stderr, "phasecast-serve: %s\n", e.message);
        pc_transport_fini();
        return 1;
    }
    pc_changelog_game known[sizeof games / sizeof games[0]];
    for (size_t i = 0; i < sizeof games / sizeof games[0]; i++) {
        known[i].game = games[i].game();
        known[i].arg = known[i].game == piles_game()       ? (void *)&piles
                       : known[i].game == encounter_game() ? (void *)&enc
                                                           : NULL;
    }
    serve_recovered recovered = {0};
    if (serve_log_recover(srv, &o, &sl, known, sizeof known / sizeof known[0],
                          (size_t)history, gm_file != NULL ? gm_cred : NULL,
                          &recovered) != 0) {
        credfile_wipe(gm_cred, sizeof gm_cred);
        serve_recovered_free(&recovered);
        pc_server_free(srv);
        pc_transport_fini();
        return 1;
    }
    for (size_t i = 0; i < recovered.n && gm_file == NULL; i++) {
        if (strcmp(recovered.game[i], "encounter") == 0) {
            fprintf(stderr,
                    "phasecast-serve: recovered encounter room %s has no game "
                    "master until the server is restarted with "
                    "--gm-credential-file FILE\n",
                    recovered.id[i]);
        }
    }
    if (nrooms == 0 && recovered.n == 0) {
        (void)room_spec("r1", &rooms[nrooms++]);
    }
    for (size_t i = 0; i < nrooms; i++) {
        if (pc_server_find_room(srv, rooms[i].id) != NULL) {
            continue; /* recovered from its log, printed below */
        }
        pc_server_room_options ro;
        pc_server_room_options_init(&ro);
        ro.room.id = rooms[i].id;
        ro.room.history_capacity = (size_t)history;
        ro.room.seed = seed;
        ro.room.seed_set = seeded;
        const pc_game *game = games[rooms[i].game].game();
        if (game == piles_game()) {
            ro.room.arg = &piles; /* outlives the server: freed below */
        } else if (game == encounter_game()) {
            ro.room.arg = &enc;         /* likewise */
            ro.gm_credential = gm_cred; /* copied by the server */
        }
        pc_err rc = pc_server_add_room(srv, game, &ro, NULL);
        if (rc != PC_OK) {
            fprintf(stderr, "phasecast-serve: room %s: %s\n", rooms[i].id,
                    pc_strerror(rc));
            credfile_wipe(gm_cred, sizeof gm_cred);
            pc_server_free(srv);
            serve_recovered_free(&recovered);
            pc_transport_fini();
            return 1;
        }
    }
    credfile_wipe(gm_cred, sizeof gm_cred);
    if (pc_server_start(srv) != PC_OK) {
        fprintf(stderr, "phasecast-serve: cannot start the loop thread\n");
        pc_server_free(srv);
        serve_recovered_free(&recovered);
        pc_transport_fini();
        return 1;
    }
    size_t fresh = 0;
    for (size_t i = 0; i < nrooms; i++) {
        fresh += !serve_recovered_has(&recovered, rooms[i].id);
    }
    printf("phasecast-serve %s, protocol %d, %zu room(s)\n", pc_version(),
           PC_PROTOCOL_VERSION, recovered.n + fresh);
    if (o.inspector_credential != NULL) {
        fprintf(stderr, "phasecast-serve: inspector on (credential from %s)\n",
                cred_file != NULL ? cred_file : "the environment");
    }
    printf("pub %s\nrep %s\n", pc_server_pub_url(srv), pc_server_rep_url(srv));
    if (pc_server_http_url(srv) != NULL) {
        printf("http %s\n", pc_server_http_url(srv));
    }
    for (size_t i = 0; i < recovered.n; i++) {
        printf("room %s %s\n", recovered.id[i], recovered.game[i]);
    }
    for (size_t i = 0; i < nrooms; i++) {
        if (!serve_recovered_has(&recovered, rooms[i].id)) {
            printf("room %s %s\n", rooms[i].id, games[rooms[i].game].name);
        }
    }
    fflush(stdout);

    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr, "phasecast-serve: %s, stopping\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM");
    pthread_t dog;
    bool watched = pthread_create(&dog, NULL, watchdog, NULL) == 0;
    pc_server_free(srv);
    if (watched) {
        pthread_mutex_lock(&done_mu);
        done = true;
        pthread_cond_signal(&done_cv);
        pthread_mutex_unlock(&done_mu);
        pthread_join(dog, NULL);
    }
    serve_recovered_free(&recovered);
    pc_transport_fini();
    return 0;
}
