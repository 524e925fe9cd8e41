/*
 * durlog.h - what phasecast-bench-durlog's parts share (internal to the
 * tool): its settings and the rows it measures. bench_durlog.c runs the
 * workload and measures; durlog_out.c prints and writes JSON; durlog_fs.c
 * handles the working directory. Include it after defining _GNU_SOURCE
 * (PATH_MAX).
 */
#ifndef PC_BENCH_DURLOG_H
#define PC_BENCH_DURLOG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "phasecast/changelog.h"

/* The initial data and one patch per player: {"players": {ID: {"score":
 * N}}}, with a pointer to N to bump between changes. */
typedef struct workload {
    cJSON *init;
    int players;
    cJSON **patches;
    cJSON **scores;
} workload;

typedef struct append_row {
    const char *policy_name; /* "no log" or the policy's name */
    bool logged;
    pc_fsync_policy policy;
    uint64_t keyframe;
    /* results */
    uint64_t changes;
    double wall_s;
    double per_s;
    double mean_ns, p50_ns, p99_ns, p999_ns, max_ns;
    double bytes_per_change;
    double syncs_per_change;
    uint64_t syncs;        /* counted by the logs in the timed part */
    uint64_t host_syncs;   /* pc_changelog_sync calls that synced */
    uint64_t inline_syncs; /* syncs inside pc_update_phase_data */
    uint64_t compactions;  /* in the timed part */
    double host_sync_ms;   /* time in pc_changelog_sync */
    double vs_baseline;    /* time per change / the no-log row's */
    bool checked;          /* the logs were recovered and compared */
} append_row;

typedef struct config {
    char dir[PATH_MAX];
    int rooms;
    double seconds;
    int64_t sync_ns;
    uint64_t recover_changes;
    int reps;
    bool smoke;
    workload w;
} config;

typedef struct recover_row {
    uint64_t keyframe;
    uint64_t written; /* changes the room made after the log's creation */
    uint64_t records; /* in the file: base + replayed changes */
    uint64_t file_bytes;
    double write_s;    /* making those changes (fsync none) */
    double verify_s;   /* median */
    double recover_s;  /* median */
    double cold_s;     /* once, after dropping the file from the cache */
    bool cold_dropped; /* posix_fadvise said yes */
    bool ok;
} recover_row;

/* The tables, as text on stdout. */
void durlog_print_append(const config *c, const append_row *rs, int n);
void durlog_print_recover(const recover_row *rs, int n, int reps);
/* Everything, as JSON (--json). */
void durlog_write_json(FILE *f, const config *c, const char *build,
                       const char *fs, size_t state_bytes, const append_row *ar,
                       int na, const recover_row *rr, int nr);

#endif
