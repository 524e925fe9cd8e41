/*
 * bench_durlog.c - what the durable change log (phasecast/changelog.h)
 * costs: the time a change takes with its record appended under each fsync
 * policy, against the same rooms with no log, measured in the same run; and
 * how long recovery and verification take for a long log. A measuring
 * tool, not a test: it asserts nothing about speed. It exits 1 only if a
 * log does not give back the room that wrote it (seq, checksum, canonical
 * state, PRNG position), or a counter says something impossible, so CI can
 * run `--smoke` to check that much.
 *
 *   phasecast-bench-durlog [--dir DIR] [--seconds S] [--rooms N]
 *                          [--sync-ms MS] [--recover N] [--reps N]
 *                          [--json FILE] [--smoke]
 *
 * Appends. --rooms rooms (default 4), each a ~2 KB state of players with a
 * few fields (as phasecast-bench-update's 2 KB row), take turns at one
 * pc_update_phase_data each with a small patch ({"players": {ID: {"score":
 * N}}}, ID the next player in turn). One row per configuration: no log,
 * then fsync none, everysec and always, each with keyframe_every 1000 (the
 * default) and 0 (never compact). A row runs for --seconds (default 3)
 * after a tenth of that as warm-up; every call is timed. Under everysec the
 * loop plays the host and calls pc_changelog_sync on every log each
 * --sync-ms (default 1000) from the moment the logs were created, as a
 * 1-second event-loop timer would; that time counts in changes/s, not in
 * the per-call latencies. Counters come from pc_changelog_stats_get.
 *
 * Recovery. One room writes --recover changes (default 100,000) under
 * fsync none with keyframe_every 0, so recovery replays them all; another
 * writes 99,999 with keyframe_every 1000, the worst case after compaction
 * (a base record and 999 changes). pc_changelog_verify and
 * pc_changelog_recover are timed (medians of --reps runs, default 3, with
 * the file in the page cache), then recovery once more after the file is
 * synced and dropped from the page cache (posix_fadvise DONTNEED; a VM's
 * host may still cache it). The recovered room must equal the original.
 *
 * Everything happens in a new directory made under --dir (default /tmp)
 * and removed at the end; its filesystem is printed, since what an fsync
 * costs depends on it and on the disk below. Build with
 * -DCMAKE_BUILD_TYPE=Release for meaningful numbers (docs/performance.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/changelog.h"
#include "phasecast/room.h"

#include "durlog.h"
#include "durlog_fs.h"

static const pc_phase phases[] = {{.name = "PLAY"}};
static const pc_game game = {
    .name = "durbench", .phases = phases, .nphases = 1};

#define ROOMS_MAX 64
#define STATE_KB  2

static bool failed; /* a check failed: exit 1 */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "phasecast-bench-durlog: %s%s%s\n", what,
            detail != NULL ? ": " : "", detail != NULL ? detail : "");
    exit(1);
}

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 1, 2)))
#endif
static void
check_failed(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "phasecast-bench-durlog: CHECK FAILED: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    failed = true;
}

/* ---- The workload -------------------------------------------------------- */

/* Players of a few fields each until the canonical state passes kb. */
static void workload_init(workload *w, size_t kb)
{
    w->init = cJSON_CreateObject();
    cJSON_AddStringToObject(w->init, "round", "r1");
    cJSON *ps = cJSON_AddObjectToObject(w->init, "players");
    int n = 0;
    for (;;) {
        uint64_t sum;
        size_t len = 0;
        if (pc_canon_checksum(w->init, &sum, &len) != PC_OK) {
            die("cannot measure the initial state", NULL);
        }
        if (len >= kb * 1024) {
            break;
        }
        char id[16];
        snprintf(id, sizeof(id), "p%04d", n++);
        cJSON *p = cJSON_AddObjectToObject(ps, id);
        cJSON_AddNumberToObject(p, "score", 0);
        cJSON_AddNumberToObject(p, "hp", 100);
        cJSON_AddStringToObject(p, "name", "a player name");
        cJSON *items = cJSON_AddArrayToObject(p, "items");
        cJSON_AddItemToArray(items, cJSON_CreateString("sword"));
        cJSON_AddItemToArray(items, cJSON_CreateString("shield"));
    }
    w->players = n;
    w->patches = calloc((size_t)n, sizeof(*w->patches));
    w->scores = calloc((size_t)n, sizeof(*w->scores));
    if (w->patches == NULL || w->scores == NULL) {
        die("out of memory", NULL);
    }
    for (int i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof(id), "p%04d", i);
        cJSON *patch = cJSON_CreateObject();
        cJSON *p = cJSON_AddObjectToObject(
            cJSON_AddObjectToObject(patch, "players"), id);
        w->scores[i] = cJSON_AddNumberToObject(p, "score", 0);
        w->patches[i] = patch;
    }
}

static void workload_fini(workload *w)
{
    for (int i = 0; i < w->players; i++) {
        cJSON_Delete(w->patches[i]);
    }
    free(w->patches);
    free(w->scores);
    cJSON_Delete(w->init);
}

/* A started room with the workload's state (seq 1). */
static pc_room *new_room(const workload *w, const char *id)
{
    pc_room_options o;
    pc_room_options_init(&o);
    o.id = id;
    o.seed = 7;
    o.seed_set = true;
    pc_room *room = NULL;
    if (pc_room_new(&game, &o, &room) != PC_OK ||
        pc_room_start(room) != PC_OK ||
        pc_update_phase_data(room, w->init, "initial state") != PC_OK) {
        die("cannot create a room", id);
    }
    return room;
}

/* Change number i of a room: the next player in turn scores i. */
static void change(const workload *w, pc_room *room, uint64_t i)
{
    int p = (int)(i % (uint64_t)w->players);
    cJSON_SetNumberValue(w->scores[p], (double)i);
    if (pc_update_phase_data(room, w->patches[p], "score") != PC_OK) {
        die("a change failed", pc_room_last_error(room)->message);
    }
}

/* ---- Files and the filesystem -------------------------------------------- */

static void log_path(char *out, size_t n, const char *dir, const char *id)
{
    if (snprintf(out, n, "%s/%s%s", dir, id, PC_CHANGELOG_SUFFIX) >= (int)n) {
        die("path too long", dir);
    }
}

/* ---- Checking a log against its room ------------------------------------- */

/* Verify the log of room `id` and recover it: the recovered room must be
 * the one that wrote it. records: how many records the log must hold
 * (0: any). Returns true if so. */
static bool check_log(const char *dir, const char *id, const pc_room *orig,
                      uint64_t records)
{
    char path[PATH_MAX];
    log_path(path, sizeof(path), dir, id);
    pc_changelog_report rep;
    pc_err rv = pc_changelog_verify(path, &rep);
    if (rv != PC_OK || rep.last_seq != pc_room_seq(orig) ||
        (records != 0 && rep.records != records)) {
        check_failed("verify %s: %s, last seq %" PRIu64 " (room %" PRIu64
                     "), %" PRIu64 " records (want %" PRIu64 ") %s",
                     path, pc_strerror(rv), rep.last_seq, pc_room_seq(orig),
                     rep.records, records, rep.message);
        return false;
    }
    pc_changelog_options o;
    pc_changelog_options_init(&o);
    o.dir = dir;
    o.fsync = PC_FSYNC_NONE;
    o.keyframe_every = 0;
    pc_changelog_game g = {.game = &game, .arg = NULL};
    pc_room *room = NULL;
    pc_changelog *log = NULL;
    pc_error err = {0};
    rv = pc_changelog_recover(&o, id, &g, 1, NULL, 0, &room, &log, &rep, &err);
    if (rv != PC_OK) {
        check_failed("recover %s: %s", path, err.message);
        return false;
    }
    char *a = NULL, *b = NULL;
    size_t al = 0, bl = 0;
    bool same = pc_canon_print(pc_room_state(orig), &a, &al) == PC_OK &&
                pc_canon_print(pc_room_state(room), &b, &bl) == PC_OK &&
                al == bl && memcmp(a, b, al) == 0;
    bool ok = same && pc_room_seq(room) == pc_room_seq(orig) &&
              pc_room_checksum(room) == pc_room_checksum(orig) &&
              pc_room_draws(room) == pc_room_draws(orig) && !rep.cut;
    if (!ok) {
        check_failed("recovered room %s differs: seq %" PRIu64 " vs %" PRIu64
                     ", checksum %016" PRIx64 " vs %016" PRIx64
                     ", state %s, draws %" PRIu64 " vs %" PRIu64 "%s",
                     id, pc_room_seq(room), pc_room_seq(orig),
                     pc_room_checksum(room), pc_room_checksum(orig),
                     same ? "same" : "DIFFERENT", pc_room_draws(room),
                     pc_room_draws(orig), rep.cut ? ", log was cut" : "");
    }
    pc_free(a);
    pc_free(b);
    pc_room_free(room);
    pc_changelog_free(log);
    return ok;
}

/* ---- Appends ------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

typedef struct samples {
    uint64_t *v;
    size_t n, cap;
} samples;

static void samples_add(samples *s, uint64_t x)
{
    if (s->n == s->cap) {
        size_t cap = s->cap == 0 ? 1 << 16 : s->cap * 2;
        uint64_t *v = realloc(s->v, cap * sizeof(*v));
        if (v == NULL) {
            die("out of memory", NULL);
        }
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = x;
}

static double pct(const samples *s, double q)
{
    size_t i = (size_t)((double)s->n * q);
    return (double)s->v[i < s->n ? i : s->n - 1];
}

static void stats_sum(pc_changelog *const *logs, int n, pc_changelog_stats *t)
{
    memset(t, 0, sizeof(*t));
    for (int i = 0; i < n; i++) {
        pc_changelog_stats s;
        pc_changelog_stats_get(logs[i], &s);
        t->appends += s.appends;
        t->bytes += s.bytes;
        t->syncs += s.syncs;
        t->compactions += s.compactions;
        t->compaction_failures += s.compaction_failures;
    }
}

/* Host side of everysec: sync every log (each sync that had something to
 * write is counted by the log's stats; *host counts ours). */
static void host_sync(pc_changelog *const *logs, int n, uint64_t *host,
                      double *ns)
{
    for (int i = 0; i < n; i++) {
        pc_changelog_stats a, b;
        pc_changelog_stats_get(logs[i], &a);
        int64_t t0 = now_ns();
        pc_error err = {0};
        if (pc_changelog_sync(logs[i], &err) != PC_OK) {
            die("pc_changelog_sync failed", err.message);
        }
        *ns += (double)(now_ns() - t0);
        pc_changelog_stats_get(logs[i], &b);
        *host += b.syncs - a.syncs;
    }
}

static void run_append(const config *c, int index, append_row *r)
{
    int n = c->rooms;
    pc_room *rooms[ROOMS_MAX];
    pc_changelog *logs[ROOMS_MAX];
    char ids[ROOMS_MAX][24];
    for (int k = 0; k < n; k++) {
        snprintf(ids[k], sizeof(ids[k]), "row%d-%d", index, k);
        rooms[k] = new_room(&c->w, ids[k]);
        logs[k] = NULL;
        if (r->logged) {
            pc_changelog_options o;
            pc_changelog_options_init(&o);
            o.dir = c->dir;
            o.fsync = r->policy;
            o.keyframe_every = r->keyframe;
            pc_error err = {0};
            if (pc_changelog_create(&o, rooms[k], &logs[k], &err) != PC_OK) {
                die("pc_changelog_create failed", err.message);
            }
        }
    }
    bool host = r->logged && r->policy == PC_FSYNC_EVERYSEC;
    int64_t next_sync = now_ns() + c->sync_ns;
    uint64_t host_syncs = 0;
    double host_ns = 0;
    samples lat = {0};
    pc_changelog_stats before = {0}, after = {0};
    uint64_t i = 0;
    int64_t start = 0, end = 0;
    /* Pass 0 warms up (a tenth of the time), pass 1 is measured. */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            if (r->logged) {
                stats_sum(logs, n, &before);
            }
            host_syncs = 0;
            host_ns = 0;
        }
        int64_t dur = (int64_t)(c->seconds * 1e9 / (pass == 0 ? 10 : 1));
        start = now_ns();
        int64_t t1 = start;
        while (t1 - start < dur) {
            pc_room *room = rooms[i % (uint64_t)n];
            uint64_t turn = i / (uint64_t)n;
            int64_t t0 = now_ns();
            change(&c->w, room, turn);
            t1 = now_ns();
            if (pass == 1) {
                samples_add(&lat, (uint64_t)(t1 - t0));
            }
            i++;
            if (host && t1 >= next_sync) {
                host_sync(logs, n, &host_syncs, &host_ns);
                next_sync += c->sync_ns;
                if (next_sync <= t1) {
                    next_sync = t1 + c->sync_ns;
                }
                t1 = now_ns();
            }
        }
        end = t1;
    }
    r->changes = lat.n;
    r->wall_s = (double)(end - start) / 1e9;
    r->per_s = (double)lat.n / r->wall_s;
    double total = 0;
    for (size_t k = 0; k < lat.n; k++) {
        total += (double)lat.v[k];
    }
    qsort(lat.v, lat.n, sizeof(*lat.v), cmp_u64);
    r->mean_ns = total / (double)lat.n;
    r->p50_ns = pct(&lat, 0.5);
    r->p99_ns = pct(&lat, 0.99);
    r->p999_ns = pct(&lat, 0.999);
    r->max_ns = (double)lat.v[lat.n - 1];
    free(lat.v);

    if (r->logged) {
        stats_sum(logs, n, &after);
        uint64_t appends = after.appends - before.appends;
        r->syncs = after.syncs - before.syncs;
        r->compactions = after.compactions - before.compactions;
        r->host_syncs = host_syncs;
        r->host_sync_ms = host_ns / 1e6;
        /* Each compaction is one counted sync of the new file (plus one of
         * the directory, which the counters leave out). */
        r->inline_syncs = r->syncs - host_syncs - r->compactions;
        r->bytes_per_change =
            (double)(after.bytes - before.bytes) / (double)appends;
        r->syncs_per_change = (double)r->syncs / (double)appends;
        if (appends != r->changes) {
            check_failed("%s/%" PRIu64 ": %" PRIu64 " appends for %" PRIu64
                         " changes",
                         r->policy_name, r->keyframe, appends, r->changes);
        }
        if (after.compaction_failures != 0) {
            check_failed("%s/%" PRIu64 ": %" PRIu64 " compaction failures",
                         r->policy_name, r->keyframe,
                         after.compaction_failures);
        }
        uint64_t want_compactions = 0;
        for (int k = 0; r->keyframe > 0 && k < n; k++) {
            pc_changelog_stats s;
            pc_changelog_stats_get(logs[k], &s);
            want_compactions += s.appends / r->keyframe;
        }
        if (after.compactions != want_compactions) {
            check_failed("%s/%" PRIu64 ": %" PRIu64
                         " compactions, want %" PRIu64,
                         r->policy_name, r->keyframe, after.compactions,
                         want_compactions);
        }
        if (r->policy == PC_FSYNC_ALWAYS && r->inline_syncs != appends) {
            check_failed("always: %" PRIu64 " syncs in updates for %" PRIu64
                         " appends",
                         r->inline_syncs, appends);
        }
        if (r->policy == PC_FSYNC_NONE && r->syncs != r->compactions) {
            check_failed("none: %" PRIu64 " syncs, %" PRIu64 " compactions",
                         r->syncs, r->compactions);
        }
        if (r->bytes_per_change < 50 || r->bytes_per_change > 4096) {
            check_failed("%s: %.0f bytes per change", r->policy_name,
                         r->bytes_per_change);
        }
        if (host && (c->smoke || r->wall_s >= 2 * (double)c->sync_ns / 1e9) &&
            host_syncs == 0) {
            check_failed("everysec: the host never synced");
        }
    }
    /* Stop the logs as a server stopping would, then read them back: the
     * logs of short rows, or those compaction keeps short. */
    bool check = r->logged && (c->smoke || r->keyframe > 0);
    for (int k = 0; k < n; k++) {
        if (logs[k] != NULL) {
            pc_room_set_journal(rooms[k], NULL, NULL, NULL);
            pc_changelog_free(logs[k]);
        }
    }
    r->checked = check;
    for (int k = 0; k < n; k++) {
        if (check && !check_log(c->dir, ids[k], rooms[k], 0)) {
            r->checked = false;
        }
        pc_room_free(rooms[k]);
    }
    durlog_empty_dir(c->dir);
}

/* ---- Recovery ------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return v[n / 2];
}

/* One timed recovery of room id; frees what it made. */
static double time_recover(const config *c, const char *id,
                           pc_changelog_report *rep)
{
    pc_changelog_options o;
    pc_changelog_options_init(&o);
    o.dir = c->dir;
    o.fsync = PC_FSYNC_NONE;
    o.keyframe_every = 0;
    pc_changelog_game g = {.game = &game, .arg = NULL};
    pc_room *room = NULL;
    pc_changelog *log = NULL;
    pc_error err = {0};
    int64_t t0 = now_ns();
    pc_err rv =
        pc_changelog_recover(&o, id, &g, 1, NULL, 0, &room, &log, rep, &err);
    int64_t t1 = now_ns();
    if (rv != PC_OK) {
        check_failed("recover %s: %s", id, err.message);
        return 0;
    }
    pc_room_free(room);
    pc_changelog_free(log);
    return (double)(t1 - t0) / 1e9;
}

/* Sync the file and ask the kernel to drop its pages. */
static bool drop_cache(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    bool ok =
        fdatasync(fd) == 0 && posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0;
    close(fd);
    return ok;
}

static void run_recover(const config *c, uint64_t keyframe, uint64_t changes,
                        recover_row *r)
{
    char id[32];
    snprintf(id, sizeof(id), "recover-k%" PRIu64, keyframe);
    pc_room *room = new_room(&c->w, id);
    pc_changelog_options o;
    pc_changelog_options_init(&o);
    o.dir = c->dir;
    o.fsync = PC_FSYNC_NONE;
    o.keyframe_every = keyframe;
    pc_changelog *log = NULL;
    pc_error err = {0};
    if (pc_changelog_create(&o, room, &log, &err) != PC_OK) {
        die("pc_changelog_create failed", err.message);
    }
    int64_t t0 = now_ns();
    for (uint64_t i = 0; i < changes; i++) {
        change(&c->w, room, i);
    }
    r->write_s = (double)(now_ns() - t0) / 1e9;
    pc_room_set_journal(room, NULL, NULL, NULL);
    pc_changelog_free(log);
    r->keyframe = keyframe;
    r->written = changes;

    char path[PATH_MAX];
    log_path(path, sizeof(path), c->dir, id);
    double v[16], rc[16];
    int reps = c->reps < 16 ? c->reps : 16;
    pc_changelog_report rep;
    for (int k = 0; k < reps; k++) {
        t0 = now_ns();
        pc_err rv = pc_changelog_verify(path, &rep);
        v[k] = (double)(now_ns() - t0) / 1e9;
        if (rv != PC_OK) {
            check_failed("verify %s: %s", path, rep.message);
        }
        rc[k] = time_recover(c, id, &rep);
    }
    r->records = rep.records;
    r->file_bytes = rep.file_bytes;
    r->verify_s = median(v, reps);
    r->recover_s = median(rc, reps);
    r->cold_dropped = drop_cache(path);
    r->cold_s = time_recover(c, id, &rep);
    uint64_t want = (keyframe > 0 ? changes % keyframe : changes) + 1;
    r->ok = check_log(c->dir, id, room, want);
    pc_room_free(room);
    durlog_empty_dir(c->dir);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: phasecast-bench-durlog [options]\n"
            "  --dir DIR      make the temporary log directory in DIR "
            "(default /tmp)\n"
            "  --seconds S    timed seconds per append row (default 3)\n"
            "  --rooms N      rooms taking turns (default 4, at most %d)\n"
            "  --sync-ms MS   everysec: the host's pc_changelog_sync period "
            "(default 1000)\n"
            "  --recover N    changes in the recovery log (default 100000; "
            "0 skips)\n"
            "  --reps N       timed verify/recover runs, median (default 3)\n"
            "  --json FILE    also write the results as JSON\n"
            "  --smoke        a quick check (~2 s): 0.1 s rows, 2 rooms, "
            "30 ms syncs,\n"
            "                 5000-change recovery, every log recovered\n"
            "Exit status 1 if a log does not give back its room. See "
            "docs/performance.md.\n",
            ROOMS_MAX);
}

int main(int argc, char **argv)
{
    config c;
    memset(&c, 0, sizeof(c));
    c.rooms = 4;
    c.seconds = 3;
    c.sync_ns = 1000000000;
    c.recover_changes = 100000;
    c.reps = 3;
    const char *base = "/tmp";
    const char *json = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--smoke") == 0) {
            c.smoke = true;
            c.rooms = 2;
            c.seconds = 0.1;
            c.sync_ns = 30000000;
            c.recover_changes = 5000;
            c.reps = 1;
        } else if (v == NULL) {
            usage(stderr);
            return 2;
        } else if (strcmp(a, "--dir") == 0) {
            base = v, i++;
        } else if (strcmp(a, "--json") == 0) {
            json = v, i++;
        } else if (strcmp(a, "--seconds") == 0 && atof(v) > 0) {
            c.seconds = atof(v), i++;
        } else if (strcmp(a, "--rooms") == 0 && atoi(v) > 0 &&
                   atoi(v) <= ROOMS_MAX) {
            c.rooms = atoi(v), i++;
        } else if (strcmp(a, "--sync-ms") == 0 && atoi(v) > 0) {
            c.sync_ns = (int64_t)atoi(v) * 1000000, i++;
        } else if (strcmp(a, "--recover") == 0) {
            c.recover_changes = strtoull(v, NULL, 10), i++;
        } else if (strcmp(a, "--reps") == 0 && atoi(v) > 0) {
            c.reps = atoi(v) < 16 ? atoi(v) : 15, i++;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (snprintf(c.dir, sizeof(c.dir), "%s/pcdurlog.XXXXXX", base) >=
        (int)sizeof(c.dir)) {
        die("--dir is too long", base);
    }
    if (mkdtemp(c.dir) == NULL) {
        die("cannot make a directory", strerror(errno));
    }
#ifdef NDEBUG
    const char *build = "release";
#else
    const char *build = "debug";
#endif
    char fs[2600];
    durlog_describe_fs(c.dir, fs, sizeof(fs));
    workload_init(&c.w, STATE_KB);
    size_t state_bytes = 0;
    {
        pc_room *room = new_room(&c.w, "probe");
        uint64_t sum;
        pc_canon_checksum(pc_room_state(room), &sum, &state_bytes);
        pc_room_free(room);
    }

    printf("phasecast-bench-durlog, %s build; history %d, no sinks\n", build,
           PC_HISTORY_DEFAULT);
    printf("dir: %s\nfilesystem: %s\n", c.dir, fs);
    printf("state: %zu B canonical (%d players); everysec host sync every "
           "%.0f ms\n",
           state_bytes, c.w.players, (double)c.sync_ns / 1e6);
    fflush(stdout);

    append_row ar[] = {
        {.policy_name = "no log"},
        {.policy_name = "none",
         .logged = true,
         .policy = PC_FSYNC_NONE,
         .keyframe = PC_CHANGELOG_KEYFRAME_DEFAULT},
        {.policy_name = "none", .logged = true, .policy = PC_FSYNC_NONE},
        {.policy_name = "everysec",
         .logged = true,
         .policy = PC_FSYNC_EVERYSEC,
         .keyframe = PC_CHANGELOG_KEYFRAME_DEFAULT},
        {.policy_name = "everysec",
         .logged = true,
         .policy = PC_FSYNC_EVERYSEC},
        {.policy_name = "always",
         .logged = true,
         .policy = PC_FSYNC_ALWAYS,
         .keyframe = PC_CHANGELOG_KEYFRAME_DEFAULT},
        {.policy_name = "always", .logged = true, .policy = PC_FSYNC_ALWAYS},
    };
    int na = (int)(sizeof(ar) / sizeof(ar[0]));
    for (int i = 0; i < na; i++) {
        run_append(&c, i, &ar[i]);
        ar[i].vs_baseline = ar[0].per_s / ar[i].per_s;
        if (ar[i].logged) {
            fprintf(stderr, "bench: %s, keyframe %" PRIu64 ": %.0f changes/s\n",
                    ar[i].policy_name, ar[i].keyframe, ar[i].per_s);
        } else {
            fprintf(stderr, "bench: no log: %.0f changes/s\n", ar[i].per_s);
        }
    }
    durlog_print_append(&c, ar, na);

    recover_row rr[2];
    int nr = 0;
    if (c.recover_changes > 0) {
        uint64_t k = PC_CHANGELOG_KEYFRAME_DEFAULT;
        run_recover(&c, 0, c.recover_changes, &rr[nr++]);
        /* The worst case after compaction: keyframe - 1 changes to replay. */
        uint64_t worst = c.recover_changes >= k
                             ? (c.recover_changes / k) * k - 1
                             : c.recover_changes;
        run_recover(&c, k, worst, &rr[nr++]);
        durlog_print_recover(rr, nr, c.reps);
    }
    fflush(stdout);

    if (json != NULL) {
        FILE *f = fopen(json, "w");
        if (f == NULL) {
            perror(json);
            failed = true;
        } else {
            durlog_write_json(f, &c, build, fs, state_bytes, ar, na, rr, nr);
            fclose(f);
        }
    }
    durlog_empty_dir(c.dir);
    rmdir(c.dir);
    workload_fini(&c.w);
    if (failed) {
        fprintf(stderr, "phasecast-bench-durlog: FAILED (see above)\n");
    }
    return failed ? 1 : 0;
}
