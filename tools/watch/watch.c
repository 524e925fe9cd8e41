/*
 * watch.c - phasecast-watch: follow a room as a spectator and print it.
 *
 * Joins one room of a phasecast server as a spectator through the client
 * library (include/phasecast/client.h) and prints every change the client
 * applies, one line each: seq, phase, reason, the public patch as compact
 * JSON and "sum ok", since the client verifies each change's checksum
 * before it reports it. At exit it prints the client's repair counters. It
 * does not act, does not see private data and, after a resnapshot, does not
 * print the seqs the snapshot covered.
 *
 * usage: phasecast-watch --pub URL --req URL --room ROOM [--count N]
 *                        [--until PHASE] [--timeout S]
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "phasecast/client.h"
#include "phasecast/error.h"
#include "phasecast/server.h"

/* What the change callback needs to decide when to stop. */
typedef struct watch {
    long count;        /* stop after this many changes, 0 = no limit */
    const char *until; /* stop once this phase is reached, or NULL */
    long seen;         /* changes printed so far */
    bool done;
} watch;

static void usage(FILE *to)
{
    fprintf(to, "usage: phasecast-watch --pub URL --req URL --room ROOM "
                "[options]\n"
                "Follow a room as a spectator; print one line per change.\n"
                "\n"
                "  --pub URL       the server's broadcast URL\n"
                "  --req URL       the server's request URL\n"
                "  --room ROOM     the room to follow\n"
                "  --count N       exit 0 after N changes\n"
                "  --until PHASE   exit 0 once the room is in PHASE\n"
                "  --timeout S     give up (exit 1) after S seconds [60]\n"
                "  --help          show this and exit\n"
                "\n"
                "Line format: seq N phase P reason \"R\" patch {...} sum ok\n");
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

static void on_change(pc_client *c, const pc_client_change *ch, void *arg)
{
    (void)c;
    watch *w = arg;
    char *patch = cJSON_PrintUnformatted(ch->patch);
    printf("seq %llu phase %s reason \"%s\" patch %s sum ok%s\n",
           (unsigned long long)ch->seq, ch->phase, ch->reason,
           patch != NULL ? patch : "?", ch->repaired ? " (repaired)" : "");
    fflush(stdout);
    cJSON_free(patch);
    w->seen++;
    if ((w->count > 0 && w->seen >= w->count) ||
        (w->until != NULL && strcmp(ch->phase, w->until) == 0)) {
        w->done = true;
    }
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

int main(int argc, char **argv)
{
    pc_client_config cfg = {0};
    cfg.role = PC_CLIENT_SPECTATOR;
    watch w = {0};
    long timeout_s = 60;
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
        } else if (strcmp(a, "--until") == 0) {
            w.until = v;
        } else if (strcmp(a, "--count") == 0 && number(v, 1L << 30, &w.count)) {
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
    if (w.until != NULL && strcmp(replica_phase(c), w.until) == 0) {
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
