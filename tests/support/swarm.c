/*
 * swarm.c - pc_test_swarm: many spectators in one process, for the chaos
 * tests (tests/cli/chaos_*.sh) and the soak (scripts/soak). It opens N
 * pc_client spectators spread over one or more rooms, each thread owning a
 * share of them, keeps them following, and on request checks every
 * replica against the server: a client at seq S with checksum X agrees
 * with the server when the server's change S announced X (a `changes`
 * request from S - 1 on a REQ socket of its own). That check needs no
 * pause in the room, so it runs while the room keeps changing. It is a
 * test fixture, never installed; its lines may change with the scripts
 * that read them. It never acts in a room.
 *
 * usage: pc_test_swarm --pub URL --req URL --room ROOM[,ROOM...]
 *                      [--clients N] [--threads T] [--credential-file F]
 *                      [--senders K] [--timeout S]
 *
 * --senders K starts K threads that each keep one `snapshot` request of
 * the first room outstanding on a REQ socket of their own (1 s timeout),
 * so a server stopped under the swarm always has requests pending.
 *
 * Client i follows the (i mod rooms)th room. Lines on stdout, flushed:
 *
 *   ready N                      every client joined once
 *   check clients N verified V behind B diverged D unjoined U
 *         min_seq M snapshots S gaps G repairs R mismatches X failures F
 *         max_new_snapshots K
 *                                (one line) on SIGUSR1: V replicas agree
 *                                with the server; B are older than its
 *                                history (or it did not answer), D disagree;
 *                                the rest are the clients' summed stats,
 *                                and the most snapshots one client took
 *                                since the previous check
 *   diverged I ROOM SEQ SUM SERVER_SUM   one per divergent client, first
 *   senders K sent N answered M  with --senders, after each check line
 *   history ROOM seq S first F capacity C   with --credential-file, per
 *                                room after each check (`inspect`)
 *
 * A client whose open fails (server down) is retried every 100 ms; one
 * whose poll fails is counted in "failures" and reopened. SIGTERM or
 * SIGINT ends the process with _exit(0) after one last check, without
 * closing the clients: nng 1.5.2 can hang in close after its server
 * restarted (docs/reference/client.md, "Known issue"), and the chaos
 * tests restart servers under it. Exit 1 if --timeout passed or the
 * parent died, 2 on a usage error.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "phasecast/canon.h"
#include "phasecast/client.h"
#include "phasecast/error.h"

#define PROG "pc_test_swarm"

#define CLIENTS_MAX 2000
#define THREADS_MAX 64
#define ROOMS_MAX   16
#define CACHE_MAX   4096

/* One spectator. */
typedef struct member {
    const char *room;
    pc_client *c;         /* NULL until joined, and after a failed poll */
    pc_client_stats past; /* stats of clients reopened after a failure */
    uint64_t failures;
    uint64_t checked_snapshots; /* its snapshots at the previous check */
} member;

/* One thread and the members it owns; mu is held while it polls them. */
typedef struct worker {
    pthread_t tid;
    pthread_mutex_t mu;
    member *m;
    int n;
} worker;

/* The whole process. */
typedef struct swarm {
    pc_client_config cfg;
    worker w[THREADS_MAX];
    int nthreads;
    member m[CLIENTS_MAX];
    int n;
    const char *rooms[ROOMS_MAX];
    int nrooms;
    char credential[128];
    nng_socket req;
    int nsenders;
    pthread_t senders[THREADS_MAX];
    pthread_mutex_t sent_mu;
    uint64_t sent, answered; /* the senders' requests and their replies */
    volatile int stop;
} swarm;

/* A server checksum looked up during one check. */
typedef struct known {
    const char *room;
    uint64_t seq;
    bool found; /* false: too old, or no answer */
    char sum[17];
} known;

static known cache[CACHE_MAX];
static int ncache;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static swarm g;

static void *run(void *arg)
{
    worker *w = arg;
    while (!g.stop) {
        pthread_mutex_lock(&w->mu);
        for (int i = 0; i < w->n && !g.stop; i++) {
            member *m = &w->m[i];
            if (m->c == NULL) {
                pc_client_config cfg = g.cfg;
                cfg.room = m->room;
                if (pc_client_open(&cfg, &m->c, NULL) != PC_OK) {
                    m->c = NULL;
                }
                continue;
            }
            if (pc_client_poll(m->c, 0) != PC_OK) {
                /* Keep what it counted, leak the broken client rather
                 * than risk nng's close hang, and join again. */
                pc_client_stats st;
                pc_client_stats_get(m->c, &st);
                m->past.snapshots += st.snapshots;
                m->past.gaps_detected += st.gaps_detected;
                m->past.repairs_changes += st.repairs_changes;
                m->past.checksum_mismatches += st.checksum_mismatches;
                m->failures++;
                m->c = NULL;
            }
        }
        pthread_mutex_unlock(&w->mu);
        sleep_ms(5);
    }
    return NULL;
}

/* A sender: keeps a snapshot request outstanding on a REQ socket of its
 * own, whatever the server is doing, so that the server always has
 * requests pending when it is stopped. */
static void *send_loop(void *arg)
{
    (void)arg;
    nng_socket s;
    if (nng_req0_open(&s) != 0) {
        return NULL;
    }
    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 1000);
    nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 1000);
    nng_dial(s, g.cfg.req_url, NULL, NNG_FLAG_NONBLOCK);
    char body[128];
    snprintf(body, sizeof(body), "{\"op\":\"snapshot\",\"room\":\"%s\"}",
             g.rooms[0]);
    while (!g.stop) {
        bool ok = false;
        if (nng_send(s, body, strlen(body), 0) == 0) {
            char *buf = NULL;
            size_t len = 0;
            if (nng_recv(s, &buf, &len, NNG_FLAG_ALLOC) == 0) {
                nng_free(buf, len);
                ok = true;
            }
        } else {
            sleep_ms(10);
        }
        pthread_mutex_lock(&g.sent_mu);
        g.sent++;
        g.answered += ok ? 1 : 0;
        pthread_mutex_unlock(&g.sent_mu);
    }
    return NULL;
}

/* Send one request and return its "result" (caller deletes the root, via
 * *root), or NULL on error or no answer. */
static const cJSON *request(const char *body, cJSON **root)
{
    *root = NULL;
    if (nng_send(g.req, (void *)body, strlen(body), 0) != 0) {
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0;
    if (nng_recv(g.req, &buf, &len, NNG_FLAG_ALLOC) != 0) {
        return NULL;
    }
    *root = cJSON_ParseWithLength(buf, len);
    nng_free(buf, len);
    if (*root == NULL || !cJSON_IsTrue(cJSON_GetObjectItem(*root, "ok"))) {
        return NULL;
    }
    return cJSON_GetObjectItem(*root, "result");
}

/* The server's checksum after change seq of room, cached per check. */
static const known *server_sum(const char *room, uint64_t seq)
{
    for (int i = 0; i < ncache; i++) {
        if (cache[i].seq == seq && strcmp(cache[i].room, room) == 0) {
            return &cache[i];
        }
    }
    if (ncache == CACHE_MAX) {
        ncache = 0;
    }
    known *k = &cache[ncache++];
    memset(k, 0, sizeof(*k));
    k->room = room;
    k->seq = seq;
    char body[256];
    snprintf(body, sizeof(body),
             "{\"op\":\"changes\",\"room\":\"%s\",\"since\":%" PRIu64
             ",\"limit\":1}",
             room, seq - 1);
    cJSON *root;
    const cJSON *res = request(body, &root);
    const cJSON *ch =
        cJSON_GetArrayItem(cJSON_GetObjectItem(res, "changes"), 0);
    const cJSON *s = cJSON_GetObjectItem(ch, "seq");
    const cJSON *sum = cJSON_GetObjectItem(ch, "sum");
    if (cJSON_IsNumber(s) && (uint64_t)s->valuedouble == seq &&
        cJSON_IsString(sum) && strlen(sum->valuestring) == 16) {
        memcpy(k->sum, sum->valuestring, 17);
        k->found = true;
    }
    cJSON_Delete(root);
    return k;
}

static void history(const char *room)
{
    char body[512];
    snprintf(body, sizeof(body),
             "{\"op\":\"inspect\",\"credential\":\"%s\",\"room\":\"%s\","
             "\"since\":0,\"limit\":1}",
             g.credential, room);
    cJSON *root;
    const cJSON *res = request(body, &root);
    if (res == NULL) {
        /* since 0 is too old once the history moved: ask for its head. */
        cJSON_Delete(root);
        snprintf(body, sizeof(body),
                 "{\"op\":\"inspect\",\"credential\":\"%s\",\"room\":\"%s\","
                 "\"limit\":1}",
                 g.credential, room);
        res = request(body, &root);
    }
    const cJSON *seq = cJSON_GetObjectItem(res, "seq");
    const cJSON *first = cJSON_GetObjectItem(res, "first");
    const cJSON *cap = cJSON_GetObjectItem(res, "capacity");
    if (cJSON_IsNumber(seq) && cJSON_IsNumber(first) && cJSON_IsNumber(cap)) {
        printf("history %s seq %.0f first %.0f capacity %.0f\n", room,
               seq->valuedouble, first->valuedouble, cap->valuedouble);
    } else {
        printf("history %s unknown\n", room);
    }
    cJSON_Delete(root);
}

static void check(void)
{
    int verified = 0, behind = 0, diverged = 0, unjoined = 0;
    uint64_t min_seq = UINT64_MAX;
    pc_client_stats sum = {0};
    uint64_t failures = 0, max_new = 0;
    char lines[4096] = "";
    size_t used = 0;
    ncache = 0;
    for (int t = 0; t < g.nthreads; t++) {
        worker *w = &g.w[t];
        pthread_mutex_lock(&w->mu);
        for (int i = 0; i < w->n; i++) {
            member *m = &w->m[i];
            failures += m->failures;
            sum.snapshots += m->past.snapshots;
            sum.gaps_detected += m->past.gaps_detected;
            sum.repairs_changes += m->past.repairs_changes;
            sum.checksum_mismatches += m->past.checksum_mismatches;
            if (m->c == NULL) {
                unjoined++;
                continue;
            }
            pc_client_stats st;
            pc_client_stats_get(m->c, &st);
            uint64_t snaps = m->past.snapshots + st.snapshots;
            if (snaps - m->checked_snapshots > max_new) {
                max_new = snaps - m->checked_snapshots;
            }
            m->checked_snapshots = snaps;
            sum.snapshots += st.snapshots;
            sum.gaps_detected += st.gaps_detected;
            sum.repairs_changes += st.repairs_changes;
            sum.checksum_mismatches += st.checksum_mismatches;
            uint64_t seq = pc_client_seq(m->c);
            uint64_t mine = 0;
            if (pc_canon_checksum(pc_client_state(m->c), &mine, NULL) !=
                PC_OK) {
                unjoined++;
                continue;
            }
            if (seq < min_seq) {
                min_seq = seq;
            }
            const known *k = seq > 0 ? server_sum(m->room, seq) : NULL;
            if (k == NULL || !k->found) {
                behind++;
                continue;
            }
            char hex[17];
            snprintf(hex, sizeof(hex), "%016" PRIx64, mine);
            if (strcmp(hex, k->sum) == 0) {
                verified++;
            } else {
                diverged++;
                int wrote = snprintf(lines + used, sizeof(lines) - used,
                                     "diverged %d %s %" PRIu64 " %s %s\n",
                                     (int)(m - g.m), m->room, seq, hex, k->sum);
                if (wrote > 0 && (size_t)wrote < sizeof(lines) - used) {
                    used += (size_t)wrote;
                }
            }
        }
        pthread_mutex_unlock(&w->mu);
    }
    printf("check clients %d verified %d behind %d diverged %d unjoined %d "
           "min_seq %" PRIu64 " snapshots %" PRIu64 " gaps %" PRIu64
           " repairs %" PRIu64 " mismatches %" PRIu64 " failures %" PRIu64
           " max_new_snapshots %" PRIu64 "\n%s",
           g.n, verified, behind, diverged, unjoined,
           min_seq == UINT64_MAX ? 0 : min_seq, sum.snapshots,
           sum.gaps_detected, sum.repairs_changes, sum.checksum_mismatches,
           failures, max_new, lines);
    if (g.nsenders > 0) {
        pthread_mutex_lock(&g.sent_mu);
        printf("senders %d sent %" PRIu64 " answered %" PRIu64 "\n", g.nsenders,
               g.sent, g.answered);
        pthread_mutex_unlock(&g.sent_mu);
    }
    if (g.credential[0] != '\0') {
        for (int r = 0; r < g.nrooms; r++) {
            history(g.rooms[r]);
        }
    }
    fflush(stdout);
}

static bool all_joined(void)
{
    for (int t = 0; t < g.nthreads; t++) {
        pthread_mutex_lock(&g.w[t].mu);
        bool ok = true;
        for (int i = 0; i < g.w[t].n; i++) {
            ok = ok && g.w[t].m[i].c != NULL;
        }
        pthread_mutex_unlock(&g.w[t].mu);
        if (!ok) {
            return false;
        }
    }
    return true;
}

static bool read_credential(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL || fgets(g.credential, sizeof(g.credential), f) == NULL) {
        if (f != NULL) {
            fclose(f);
        }
        return false;
    }
    fclose(f);
    g.credential[strcspn(g.credential, "\r\n")] = '\0';
    /* It goes into a JSON string as it is: letters, digits, '-', '_'. */
    return strspn(g.credential,
                  "0123456789abcdefghijklmnopqrstuvwxyz"
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ-_") == strlen(g.credential);
}

static int usage(void)
{
    fprintf(stderr, "usage: " PROG " --pub URL --req URL --room ROOM[,ROOM...] "
                    "[--clients N] [--threads T] [--credential-file F] "
                    "[--senders K] [--timeout S]\n");
    return 2;
}

int main(int argc, char **argv)
{
    static char rooms[512];
    long clients = 1, threads = 0, timeout_s = 3600;
    g.cfg.role = PC_CLIENT_SPECTATOR;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (strcmp(a, "--pub") == 0) {
            g.cfg.pub_url = v;
        } else if (strcmp(a, "--req") == 0) {
            g.cfg.req_url = v;
        } else if (strcmp(a, "--room") == 0 && strlen(v) < sizeof(rooms)) {
            strcpy(rooms, v);
        } else if (strcmp(a, "--clients") == 0) {
            clients = strtol(v, NULL, 10);
        } else if (strcmp(a, "--threads") == 0) {
            threads = strtol(v, NULL, 10);
        } else if (strcmp(a, "--senders") == 0) {
            g.nsenders = (int)strtol(v, NULL, 10);
        } else if (strcmp(a, "--timeout") == 0) {
            timeout_s = strtol(v, NULL, 10);
        } else if (strcmp(a, "--credential-file") == 0) {
            if (!read_credential(v)) {
                fprintf(stderr, PROG ": bad credential file %s\n", v);
                return 2;
            }
        } else {
            return usage();
        }
    }
    if (argc % 2 == 0 || g.cfg.pub_url == NULL || g.cfg.req_url == NULL ||
        rooms[0] == '\0' || clients < 1 || clients > CLIENTS_MAX ||
        threads < 0 || threads > THREADS_MAX || timeout_s < 1 ||
        g.nsenders < 0 || g.nsenders > THREADS_MAX) {
        return usage();
    }
    for (char *save = NULL, *r = strtok_r(rooms, ",", &save);
         r != NULL && g.nrooms < ROOMS_MAX; r = strtok_r(NULL, ",", &save)) {
        g.rooms[g.nrooms++] = r;
    }
    g.n = (int)clients;
    g.nthreads = threads > 0 ? (int)threads : (g.n + 49) / 50;
    if (g.nthreads > THREADS_MAX) {
        g.nthreads = THREADS_MAX;
    }
    if (g.nthreads > g.n) {
        g.nthreads = g.n;
    }
    for (int i = 0; i < g.n; i++) {
        g.m[i].room = g.rooms[i % g.nrooms];
    }

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGUSR1);
    if (sigprocmask(SIG_BLOCK, &sigs, NULL) != 0) {
        return 1;
    }
    if (nng_req0_open(&g.req) != 0 ||
        nng_socket_set_ms(g.req, NNG_OPT_RECVTIMEO, 2000) != 0 ||
        nng_socket_set_ms(g.req, NNG_OPT_SENDTIMEO, 2000) != 0 ||
        nng_dial(g.req, g.cfg.req_url, NULL, NNG_FLAG_NONBLOCK) != 0) {
        fprintf(stderr, PROG ": cannot open the request socket\n");
        return 1;
    }
    int per = g.n / g.nthreads, extra = g.n % g.nthreads, at = 0;
    for (int t = 0; t < g.nthreads; t++) {
        worker *w = &g.w[t];
        w->m = &g.m[at];
        w->n = per + (t < extra ? 1 : 0);
        at += w->n;
        pthread_mutex_init(&w->mu, NULL);
        if (pthread_create(&w->tid, NULL, run, w) != 0) {
            fprintf(stderr, PROG ": pthread_create failed\n");
            return 1;
        }
    }

    pthread_mutex_init(&g.sent_mu, NULL);
    for (int t = 0; t < g.nsenders; t++) {
        if (pthread_create(&g.senders[t], NULL, send_loop, NULL) != 0) {
            fprintf(stderr, PROG ": pthread_create failed\n");
            return 1;
        }
    }
    const time_t deadline = time(NULL) + timeout_s;
    const pid_t parent = getppid();
    bool ready = false;
    const struct timespec tick = {0, 100000000L};
    for (;;) {
        int sig = sigtimedwait(&sigs, NULL, &tick);
        if (sig == SIGUSR1) {
            check();
        } else if (sig == SIGTERM || sig == SIGINT) {
            check();
            _exit(0);
        }
        if (!ready && all_joined()) {
            ready = true;
            printf("ready %d\n", g.n);
            fflush(stdout);
        }
        if (getppid() != parent) {
            fprintf(stderr, PROG ": parent exited\n");
            _exit(1);
        }
        if (time(NULL) >= deadline) {
            fprintf(stderr, PROG ": timed out\n");
            _exit(1);
        }
    }
}
