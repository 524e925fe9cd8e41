/*
 * bench_timeline.c - phasecast-bench-timeline: what time travel over a
 * change log costs (docs/performance.md, docs/inspector.md#speed).
 *
 * Writes a room of about 2 KB of state through N changes (a small patch
 * each, a transition every 50) into a change log, once kept whole
 * (keyframe 0) and once compacted every 1000 changes with every segment
 * kept, then for each: opens it as a timeline (reading and checking every
 * record), and times the state at the oldest seq, the diff of the two
 * oldest seqs, the state at the newest, and blame of a path the last
 * change wrote. Each query is run 5 times and the median printed. The
 * timings are printed, never judged; the run fails only if an answer is
 * wrong (the state at a seq is checked against the room's own history).
 *
 * usage: phasecast-bench-timeline [--changes N] [--smoke] [--keep]
 *        --smoke: 2000 changes, for CI; --keep: leave the two logs (their
 *        directories are printed) to time phasecast-inspect on them
 */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/changelog.h"
#include "phasecast/room.h"
#include "phasecast/timeline.h"

static const pc_phase phases[] = {{.name = "A"}, {.name = "B"}};
static const pc_game game = {
    .name = "bench", .phases = phases, .nphases = 2, .initial_phase = "A"};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void die(const char *what)
{
    fprintf(stderr, "phasecast-bench-timeline: %s\n", what);
    exit(1);
}

/* Write n changes of a ~2 KB room into dir; returns the state after 1. */
static char *write_log(const char *dir, uint64_t n, uint64_t keyframe)
{
    pc_room_options ro;
    pc_room_options_init(&ro);
    ro.id = "b1";
    ro.seed = 1;
    ro.seed_set = true;
    pc_room *room = NULL;
    pc_changelog *log = NULL;
    pc_changelog_options lo;
    pc_changelog_options_init(&lo);
    lo.dir = dir;
    lo.fsync = PC_FSYNC_NONE;
    lo.keyframe_every = keyframe;
    if (pc_room_new(&game, &ro, &room) != PC_OK ||
        pc_changelog_create(&lo, room, &log, NULL) != PC_OK ||
        pc_room_start(room) != PC_OK) {
        die("cannot create the room and its log");
    }
    /* About 2 KB: 40 players with a name, a score and a hand. */
    char patch[4096];
    size_t k = (size_t)snprintf(patch, sizeof patch, "{\"players\":{");
    for (int p = 0; p < 40; p++) {
        k += (size_t)snprintf(patch + k, sizeof patch - k,
                              "%s\"p%02d\":{\"score\":0,\"hand\":[1,2,3]}",
                              p > 0 ? "," : "", p);
    }
    snprintf(patch + k, sizeof patch - k, "},\"turn\":0}");
    if (pc_update_phase_text(room, patch, "setup") != PC_OK) {
        die("setup failed");
    }
    char *first = NULL;
    size_t len;
    if (pc_canon_print(pc_room_state(room), &first, &len) != PC_OK) {
        die("out of memory");
    }
    for (uint64_t i = 1; i < n; i++) {
        pc_err rv;
        if (i % 50 == 0) {
            snprintf(patch, sizeof patch, "{\"turn\":%llu}",
                     (unsigned long long)i);
            rv = pc_transition_text(
                room, strcmp(pc_room_phase(room), "A") == 0 ? "B" : "A", patch,
                "next round");
        } else {
            snprintf(
                patch, sizeof patch,
                "{\"players\":{\"p%02llu\":{\"score\":%llu}},\"turn\":%llu}",
                (unsigned long long)(i % 40), (unsigned long long)i,
                (unsigned long long)i);
            rv = pc_update_phase_text(room, patch, "score");
        }
        if (rv != PC_OK) {
            die("a change failed");
        }
    }
    pc_room_free(room);
    pc_changelog_free(log);
    return first;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_d);
    return v[n / 2];
}

static void run(const char *label, const char *dir, uint64_t n,
                uint64_t keyframe)
{
    char *first_state = write_log(dir, n, keyframe);
    char path[256];
    snprintf(path, sizeof path, "%s/b1.pclog", dir);
    double t0 = now_ms();
    pc_timeline *tl = NULL;
    pc_error err = {0};
    if (pc_timeline_open_log(path, 0, &tl, NULL, &err) != PC_OK) {
        fprintf(stderr, "%s\n", err.message);
        die("cannot open the log");
    }
    double open_ms = now_ms() - t0;
    if (pc_timeline_last_seq(tl) != n || pc_timeline_first_seq(tl) != 0) {
        die("the timeline does not hold every seq");
    }
    double show[5];
    double diff[5];
    double newest[5];
    double blame[5];
    for (int r = 0; r < 5; r++) {
        cJSON *doc = NULL;
        t0 = now_ms();
        if (pc_timeline_state_at(tl, 1, &doc) != PC_OK) {
            die("state_at failed");
        }
        show[r] = now_ms() - t0;
        char *text = NULL;
        size_t len;
        if (pc_canon_print(doc, &text, &len) != PC_OK ||
            strcmp(text, first_state) != 0) {
            die("the state at seq 1 is wrong");
        }
        pc_free(text);
        cJSON_Delete(doc);
        cJSON *d = NULL;
        t0 = now_ms();
        if (pc_timeline_diff(tl, 0, 1, &d) != PC_OK) {
            die("diff failed");
        }
        diff[r] = now_ms() - t0;
        cJSON_Delete(d);
        t0 = now_ms();
        if (pc_timeline_state_at(tl, n, &doc) != PC_OK) {
            die("state_at failed");
        }
        newest[r] = now_ms() - t0;
        cJSON_Delete(doc);
        uint64_t s = 0;
        char ptr[64];
        snprintf(ptr, sizeof ptr, "/data/players/p%02llu/score",
                 (unsigned long long)((n - 1) % 40));
        t0 = now_ms();
        if (pc_timeline_blame(tl, ptr, 0, &s) != PC_OK) {
            die("blame failed");
        }
        blame[r] = now_ms() - t0;
    }
    printf("%-22s %8llu %10.1f %12.3f %12.3f %12.3f %12.3f\n", label,
           (unsigned long long)n, open_ms, median(show, 5), median(diff, 5),
           median(newest, 5), median(blame, 5));
    pc_timeline_free(tl);
    pc_free(first_state);
}

int main(int argc, char **argv)
{
    uint64_t n = 100000;
    bool keep = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--smoke") == 0) {
            n = 2000;
        } else if (strcmp(argv[i], "--keep") == 0) {
            keep = true;
        } else if (strcmp(argv[i], "--changes") == 0 && i + 1 < argc) {
            n = strtoull(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "usage: phasecast-bench-timeline [--changes N] "
                            "[--smoke] [--keep]\n");
            return 2;
        }
    }
    if (n < 100) {
        die("--changes must be at least 100");
    }
    char whole[] = "/tmp/pc-bench-tl.XXXXXX";
    char seg[] = "/tmp/pc-bench-tl.XXXXXX";
    if (mkdtemp(whole) == NULL || mkdtemp(seg) == NULL) {
        die("mkdtemp failed");
    }
    printf("%-22s %8s %10s %12s %12s %12s %12s\n", "log", "changes", "open ms",
           "oldest ms", "diff ms", "newest ms", "blame ms");
    run("whole (keyframe 0)", whole, n, 0);
    run("segments (every 1000)", seg, n, 1000);
    if (keep) {
        printf("logs kept in %s and %s\n", whole, seg);
        return 0;
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", whole, seg);
    return system(cmd) == 0 ? 0 : 1;
}
