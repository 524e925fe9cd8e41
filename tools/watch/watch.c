/*
 * watch.c - phasecast-watch: follow a room as a spectator and print it.
 *
 * Joins one room of a phasecast server as a spectator through the client
 * library (include/phasecast/client.h) and prints every change the client
 * applies, one line each: seq, phase, reason, the public patch as compact
 * JSON and "sum ok", since the client verifies each change's checksum
 * before it reports it. An event the room recorded (pc_room_event) gets a
 * line of its own, marked EVENT, with its name and data; a private one
 * (a player's or the game master's) only its seq. When it stops it can print
 * members of its replica
 * (--show) and the room's last changes as the server's history holds them
 * (--history, one "changes" request on its own REQ socket, since the
 * client library has no call for it); then the seq and phase it reached
 * and the client's repair counters. It does not act, does not see private
 * data and, after a resnapshot, does not print the seqs the snapshot
 * covered.
 *
 * usage: phasecast-watch --pub URL --req URL --room ROOM [--count N]
 *                        [--until PHASE]... [--timeout S] [--show POINTER]...
 *                        [--history N]
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "phasecast/client.h"
#include "phasecast/error.h"
#include "phasecast/json.h"
#include "phasecast/server.h"

/* Most --show pointers; most changes --history asks for (the protocol's
 * largest "changes" answer). */
#define SHOW_MAX    8
#define UNTIL_MAX   4
#define HISTORY_MAX 1000
/* How long the --history request may take. */
#define HISTORY_TIMEOUT_MS 5000

/* What the change callback needs to decide when to stop. */
typedef struct watch {
    long count; /* stop after this many changes, 0 = no limit */
    const char *until[UNTIL_MAX]; /* stop once one of these phases is
                                     reached */
    int nuntil;
    long seen; /* changes printed so far */
    bool done;
} watch;

static void usage(FILE *to)
{
    fprintf(to,
            "usage: phasecast-watch --pub URL --req URL --room ROOM "
            "[options]\n"
            "Follow a room as a spectator; print one line per change.\n"
            "\n"
            "  --pub URL       the server's broadcast URL\n"
            "  --req URL       the server's request URL\n"
            "  --room ROOM     the room to follow\n"
            "  --count N       exit 0 after N changes\n"
            "  --until PHASE   exit 0 once the room is in PHASE (repeatable,\n"
            "                  up to %d: any of them, e.g. VICTORY and "
            "DEFEAT)\n"
            "  --timeout S     give up (exit 1) after S seconds [60]\n"
            "  --show POINTER  at the end, print this JSON Pointer of the\n"
            "                  replica, e.g. /data/scores (repeatable)\n"
            "  --history N     at the end, print the room's last N changes\n"
            "                  (up to %d) from the server's history\n"
            "  --help          show this and exit\n"
            "\n"
            "Line format: seq N phase P reason \"R\" patch {...} sum ok\n"
            "An event:    seq N phase P EVENT NAME data {...} reason \"R\"\n"
            "(or seq N phase P EVENT (private) sum ok, for one that is\n"
            "not public)\n",
            UNTIL_MAX, HISTORY_MAX);
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

static bool is_until(const watch *w, const char *phase)
{
    for (int i = 0; i < w->nuntil; i++) {
        if (strcmp(phase, w->until[i]) == 0) {
            return true;
        }
    }
    return false;
}

static void on_change(pc_client *c, const pc_client_change *ch, void *arg)
{
    (void)c;
    watch *w = arg;
    if (!ch->event) {
        char *patch = cJSON_PrintUnformatted(ch->patch);
        printf("seq %llu phase %s reason \"%s\" patch %s sum ok%s\n",
               (unsigned long long)ch->seq, ch->phase, ch->reason,
               patch != NULL ? patch : "?", ch->repaired ? " (repaired)" : "");
        cJSON_free(patch);
    } else if (!ch->event_visible) {
        /* A player's or the game master's: a spectator sees its seq. */
        printf("seq %llu phase %s EVENT (private) sum ok%s\n",
               (unsigned long long)ch->seq, ch->phase,
               ch->repaired ? " (repaired)" : "");
    } /* else on_room_event prints it, right after this */
    fflush(stdout);
    w->seen++;
    if ((w->count > 0 && w->seen >= w->count) || is_until(w, ch->phase)) {
        w->done = true;
    }
}

static void on_room_event(pc_client *c, const pc_client_room_event *ev,
                          void *arg)
{
    (void)c;
    (void)arg;
    char *data = cJSON_PrintUnformatted(ev->data);
    printf("seq %llu phase %s EVENT %s data %s reason \"%s\"%s\n",
           (unsigned long long)ev->seq, ev->phase, ev->name,
           data != NULL ? data : "?", ev->reason,
           ev->repaired ? " (repaired)" : "");
    fflush(stdout);
    cJSON_free(data);
}

static void on_event(pc_client *c, pc_client_event ev, void *arg)
{
    (void)c;
    (void)arg;
    printf("event %s\n", pc_client_event_name(ev));
    fflush(stdout);
}

/* The phase of the replica, or "" if it has none. */
static const char *replica_phase(const pc_client *c)
{
    const cJSON *p =
        cJSON_GetObjectItemCaseSensitive(pc_client_state(c), "phase");
    return cJSON_IsString(p) ? p->valuestring : "";
}

/* --show: print the replica's member at pointer; an object whose members
 * are all scalars (such as scores) as one "name value" line per member. */
static void print_show(const pc_client *c, const char *pointer)
{
    const cJSON *v = pc_json_pointer_get(pc_client_state(c), pointer);
    const cJSON *m;
    bool flat = cJSON_IsObject(v);
    cJSON_ArrayForEach(m, v)
    {
        flat = flat && !cJSON_IsObject(m) && !cJSON_IsArray(m);
    }
    if (v == NULL || !flat) {
        char *text = v != NULL ? cJSON_PrintUnformatted(v) : NULL;
        printf("%s %s\n", pointer,
               v == NULL      ? "(absent)"
               : text != NULL ? text
                              : "?");
        cJSON_free(text);
        return;
    }
    printf("%s:\n", pointer);
    cJSON_ArrayForEach(m, v)
    {
        char *text = cJSON_PrintUnformatted(m);
        printf("  %-12s %s\n", m->string, text != NULL ? text : "?");
        cJSON_free(text);
    }
}

/* Send one request on a fresh REQ socket and parse the reply's "result";
 * *out is the whole reply (cJSON_Delete). False, with a message on stderr,
 * when the server cannot be reached or refuses. */
static bool request(const char *url, const char *body, cJSON **out)
{
    nng_socket s = NNG_SOCKET_INITIALIZER;
    nng_msg *reply = NULL;
    int rv = nng_req0_open(&s);
    if (rv == 0) {
        rv = nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, HISTORY_TIMEOUT_MS);
    }
    if (rv == 0) {
        rv = nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, HISTORY_TIMEOUT_MS);
    }
    if (rv == 0) {
        rv = nng_dial(s, url, NULL, 0);
    }
    if (rv == 0) {
        rv = nng_send(s, (void *)body, strlen(body), 0);
    }
    if (rv == 0) {
        rv = nng_recvmsg(s, &reply, 0);
    }
    nng_close(s);
    if (rv != 0) {
        fprintf(stderr, "phasecast-watch: request to %s: %s\n", url,
                nng_strerror(rv));
        return false;
    }
    pc_json_limits lim;
    pc_json_limits_resolve(NULL, &lim);
    lim.max_bytes = nng_msg_len(reply) + 1;
    cJSON *tree = NULL;
    pc_error e = {0};
    pc_err rc =
        pc_json_parse(nng_msg_body(reply), nng_msg_len(reply), &lim, &tree, &e);
    nng_msg_free(reply);
    if (rc != PC_OK) {
        fprintf(stderr, "phasecast-watch: bad reply: %s\n", e.message);
        return false;
    }
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(tree, "ok"))) {
        const cJSON *err = cJSON_GetObjectItemCaseSensitive(tree, "error");
        fprintf(
            stderr, "phasecast-watch: the server refused: %s: %s\n",
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(err, "code")),
            cJSON_GetStringValue(
                cJSON_GetObjectItemCaseSensitive(err, "message")));
        cJSON_Delete(tree);
        return false;
    }
    *out = tree;
    return true;
}

/* --history: the last n changes up to seq, as the server's history holds
 * them (public view), one "seq N PHASE: reason" line each. */
static bool print_history(const char *url, const char *room, uint64_t seq,
                          long n)
{
    uint64_t since = seq > (uint64_t)n ? seq - (uint64_t)n : 0;
    char body[256];
    snprintf(body, sizeof body,
             "{\"op\":\"changes\",\"room\":\"%s\",\"since\":%llu,"
             "\"limit\":%ld}",
             room, (unsigned long long)since, n);
    cJSON *reply = NULL;
    if (!request(url, body, &reply)) {
        return false;
    }
    const cJSON *changes = pc_json_pointer_get(reply, "/result/changes");
    const cJSON *ch;
    printf("history: the last %d changes from the server (since seq %llu):\n",
           cJSON_GetArraySize(changes), (unsigned long long)since);
    cJSON_ArrayForEach(ch, changes)
    {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(ch, "seq");
        const char *phase =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ch, "phase"));
        const char *reason = cJSON_GetStringValue(
            cJSON_GetObjectItemCaseSensitive(ch, "reason"));
        const char *event =
            cJSON_GetStringValue(pc_json_pointer_get(ch, "/event/name"));
        const char *kind =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ch, "kind"));
        bool is_event = kind != NULL && strcmp(kind, "event") == 0;
        printf("  seq %-6.0f %-13s %s%s%s%s\n",
               cJSON_IsNumber(s) ? s->valuedouble : 0,
               phase != NULL ? phase : "?", is_event ? "EVENT " : "",
               is_event ? (event != NULL ? event : "(private)") : "",
               is_event && reason != NULL ? ": " : "",
               reason != NULL ? reason : "");
    }
    cJSON_Delete(reply);
    return true;
}

int main(int argc, char **argv)
{
    pc_client_config cfg = {0};
    cfg.role = PC_CLIENT_SPECTATOR;
    watch w = {0};
    long timeout_s = 60, history = 0;
    const char *show[SHOW_MAX];
    int nshow = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (v == NULL) {
            fprintf(stderr, "phasecast-watch: %s needs a value\n", a);
            usage(stderr);
            return 2;
        }
        i++;
        if (strcmp(a, "--pub") == 0) {
            cfg.pub_url = v;
        } else if (strcmp(a, "--req") == 0) {
            cfg.req_url = v;
        } else if (strcmp(a, "--room") == 0) {
            cfg.room = v;
        } else if (strcmp(a, "--until") == 0 && w.nuntil < UNTIL_MAX) {
            w.until[w.nuntil++] = v;
        } else if (strcmp(a, "--count") == 0 && number(v, 1L << 30, &w.count)) {
        } else if (strcmp(a, "--show") == 0 && nshow < SHOW_MAX &&
                   v[0] == '/') {
            show[nshow++] = v;
        } else if (strcmp(a, "--history") == 0 &&
                   number(v, HISTORY_MAX, &history) && history > 0) {
        } else if (strcmp(a, "--timeout") == 0 &&
                   number(v, 86400, &timeout_s) && timeout_s > 0) {
        } else {
            fprintf(stderr, "phasecast-watch: bad option %s %s\n", a, v);
            usage(stderr);
            return 2;
        }
    }
    if (cfg.pub_url == NULL || cfg.req_url == NULL || cfg.room == NULL) {
        fprintf(stderr, "phasecast-watch: --pub, --req and --room are "
                        "required\n");
        usage(stderr);
        return 2;
    }
    cfg.on_change = on_change;
    cfg.on_event = on_event;
    cfg.on_room_event = on_room_event;
    cfg.arg = &w;

    pc_client *c = NULL;
    pc_error e = {0};
    pc_err rc = pc_client_open(&cfg, &c, &e);
    if (rc != PC_OK) {
        fprintf(stderr, "phasecast-watch: %s%s%s\n", pc_strerror(rc),
                e.message[0] != '\0' ? ": " : "", e.message);
        pc_transport_fini();
        return 1;
    }
    printf("watching %s from seq %llu phase %s\n", cfg.room,
           (unsigned long long)pc_client_seq(c), replica_phase(c));
    fflush(stdout);
    if (is_until(&w, replica_phase(c))) {
        w.done = true;
    }

    int status = 0;
    time_t deadline = time(NULL) + timeout_s;
    while (!w.done) {
        if (time(NULL) >= deadline) {
            fprintf(stderr, "phasecast-watch: timed out after %ld s\n",
                    timeout_s);
            status = 1;
            break;
        }
        rc = pc_client_poll(c, 100);
        if (rc != PC_OK) {
            fprintf(stderr, "phasecast-watch: %s\n", pc_strerror(rc));
            status = 1;
            break;
        }
    }
    for (int i = 0; i < nshow; i++) {
        print_show(c, show[i]);
    }
    if (history > 0 &&
        !print_history(cfg.req_url, cfg.room, pc_client_seq(c), history)) {
        status = 1;
    }
    printf("end: seq %llu phase %s\n", (unsigned long long)pc_client_seq(c),
           replica_phase(c));
    pc_client_stats st;
    pc_client_stats_get(c, &st);
    printf("stats: changes %llu, gaps repaired %llu, snapshots %llu, "
           "mismatches %llu\n",
           (unsigned long long)st.changes_applied,
           (unsigned long long)st.repairs_changes,
           (unsigned long long)st.snapshots,
           (unsigned long long)st.checksum_mismatches);
    fflush(stdout);
    pc_client_close(c);
    pc_transport_fini();
    return status;
}
