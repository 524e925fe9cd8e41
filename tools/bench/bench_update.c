/*
 * bench_update.c - what a change costs in the framework core: the time of
 * one pc_update_phase_data with a small patch on states of about 2 KB and
 * 20 KB (history on, no sinks), the memory of many rooms with full
 * histories, and the time travel queries at the far end of the history. A
 * measuring tool, not a test: it asserts nothing about speed and prints
 * what it saw.
 *
 *   phasecast-bench-update [--updates N] [--rooms N] [--history LIST]
 *                          [--json FILE]
 *   phasecast-bench-update --profile 2|20|20-last [--updates N]
 *
 * --updates  changes per update row (default 200000)
 * --rooms    rooms in the memory row (default 1000; 0 skips it)
 * --history  history sizes for the time travel rows (default
 *            100,1000,10000; 0 skips them)
 * --json     also write every figure to FILE as one JSON object
 * --profile  only build one row's room and make N untimed changes, for
 *            callgrind: the difference between two N, over their
 *            difference, is the cost of one change
 *
 * Build with -DCMAKE_BUILD_TYPE=Release for meaningful numbers: Debug
 * builds are unoptimised and verify the checksum cache after every change.
 * The memory row reads VmRSS from /proc/self/status (Linux).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phasecast/canon.h"
#include "phasecast/history.h"
#include "phasecast/room.h"

static const pc_phase phases[] = {{.name = "PLAY"}};
static const pc_game game = {.name = "bench", .phases = phases, .nphases = 1};

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

static void die(const char *what)
{
    fprintf(stderr, "phasecast-bench-update: %s\n", what);
    exit(1);
}

/* Players with a few fields each until the canonical data reaches kb. */
static cJSON *initial_state(size_t kb, int *players)
{
    cJSON *data = cJSON_CreateObject();
    cJSON *ps = cJSON_AddObjectToObject(data, "players");
    cJSON_AddStringToObject(data, "round", "r1");
    int n = 0;
    for (;;) {
        size_t len = 0;
        uint64_t sum;
        pc_canon_checksum(data, &sum, &len);
        if (len >= kb * 1024) {
            break;
        }
        char id[16];
        snprintf(id, sizeof(id), "p%04d", n++);
        cJSON *p = cJSON_AddObjectToObject(ps, id);
        cJSON_AddNumberToObject(p, "score", 0);
        cJSON_AddNumberToObject(p, "hp", 100);
        cJSON_AddStringToObject(p, "name", "a player name");
        cJSON *inv = cJSON_AddArrayToObject(p, "items");
        cJSON_AddItemToArray(inv, cJSON_CreateString("sword"));
        cJSON_AddItemToArray(inv, cJSON_CreateString("shield"));
    }
    *players = n;
    return data;
}

static pc_room *new_room(size_t history, const cJSON *init)
{
    pc_room_options o;
    pc_room_options_init(&o);
    o.history_capacity = history;
    o.seed = 1;
    o.seed_set = true;
    pc_room *room = NULL;
    if (pc_room_new(&game, &o, &room) != PC_OK ||
        pc_room_start(room) != PC_OK ||
        pc_update_phase_data(room, init, "initial state") != PC_OK) {
        die("cannot create a room");
    }
    return room;
}

/* The patch under test: {"players": {ID: {"score": N}}}, a typical small
 * change. *score is the number to bump between updates. */
static cJSON *score_patch(const char *id, cJSON **score)
{
    cJSON *patch = cJSON_CreateObject();
    cJSON *ps = cJSON_AddObjectToObject(patch, "players");
    cJSON *p = cJSON_AddObjectToObject(ps, id);
    *score = cJSON_AddNumberToObject(p, "score", 0);
    return patch;
}

static void update(pc_room *room, const cJSON *patch)
{
    if (pc_update_phase_data(room, patch, "score") != PC_OK) {
        fprintf(stderr, "update failed: %s\n",
                pc_room_last_error(room)->message);
        exit(1);
    }
}

/* One row of the update table. */
typedef struct update_row {
    const char *what;
    size_t state_bytes;
    int players;
    double per_s;
    double p50_ns;
    double p99_ns;
} update_row;

/* Throughput from an untimed loop, then latencies from a timed one, so
 * the clock reads do not count against the rate. A warm-up loop first
 * fills the history ring and lets the CPU settle, so that the first row
 * measured is not the slow one. */
static void bench_update(size_t kb, bool last, long updates, update_row *row)
{
    int players = 0;
    cJSON *init = initial_state(kb, &players);
    pc_room *room = new_room(PC_HISTORY_DEFAULT, init);
    cJSON_Delete(init);
    char id[16];
    snprintf(id, sizeof(id), "p%04d", last ? players - 1 : 1);
    cJSON *score;
    cJSON *patch = score_patch(id, &score);

    for (long i = 0; i < updates / 4; i++) {
        cJSON_SetNumberValue(score, (double)-i);
        update(room, patch);
    }
    double t0 = now_ns();
    for (long i = 0; i < updates; i++) {
        cJSON_SetNumberValue(score, (double)i);
        update(room, patch);
    }
    double total = now_ns() - t0;

    double *lat = malloc(sizeof(double) * (size_t)updates);
    if (lat == NULL) {
        die("out of memory");
    }
    for (long i = 0; i < updates; i++) {
        cJSON_SetNumberValue(score, (double)(updates + i));
        double a = now_ns();
        update(room, patch);
        lat[i] = now_ns() - a;
    }
    qsort(lat, (size_t)updates, sizeof(double), cmp_double);
    row->p50_ns = lat[updates / 2];
    row->p99_ns = lat[(size_t)((double)updates * 0.99)];
    row->per_s = (double)updates / (total / 1e9);
    row->players = players;
    uint64_t sum;
    pc_canon_checksum(pc_room_state(room), &sum, &row->state_bytes);
    free(lat);
    cJSON_Delete(patch);
    pc_room_free(room);
}

/* Resident set size in bytes, or 0 when unknown. */
static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) {
        return 0;
    }
    char line[256];
    size_t kib = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "VmRSS: %zu kB", &kib) == 1) {
            break;
        }
    }
    fclose(f);
    return kib * 1024;
}

/* The memory row. */
typedef struct memory_row {
    int rooms;
    size_t records;
    size_t state_bytes;
    size_t rss_before;
    size_t rss_after;
} memory_row;

/* rooms rooms with a 20 KB state, each given history-size small changes
 * after its initial state, so every ring is full of small records. */
static void bench_memory(int rooms, memory_row *row)
{
    int players = 0;
    cJSON *init = initial_state(20, &players);
    pc_room **v = malloc(sizeof(*v) * (size_t)rooms);
    if (v == NULL) {
        die("out of memory");
    }
    cJSON *score;
    cJSON *patch = score_patch("p0001", &score);
    row->rooms = rooms;
    row->rss_before = rss_bytes();
    for (int r = 0; r < rooms; r++) {
        v[r] = new_room(PC_HISTORY_DEFAULT, init);
        for (int i = 0; i < PC_HISTORY_DEFAULT; i++) {
            cJSON_SetNumberValue(score, (double)i);
            update(v[r], patch);
        }
    }
    row->rss_after = rss_bytes();
    row->records = pc_history_count(v[0]);
    uint64_t sum;
    pc_canon_checksum(pc_room_state(v[0]), &sum, &row->state_bytes);
    for (int r = 0; r < rooms; r++) {
        pc_room_free(v[r]);
    }
    free(v);
    cJSON_Delete(patch);
    cJSON_Delete(init);
}

/* One time travel row: medians of a few calls. */
typedef struct travel_row {
    size_t history;
    size_t state_bytes;
    double state_at_ns;
    double diff_ns;
} travel_row;

#define TRAVEL_REPS 5

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return v[n / 2];
}

/* A 20 KB room with `history` retained changes that score each player in
 * turn; time the state at the oldest reachable seq and the diff from there
 * to now. */
static void bench_travel(size_t history, travel_row *row)
{
    int players = 0;
    cJSON *init = initial_state(20, &players);
    pc_room *room = new_room(history, init);
    cJSON_Delete(init);
    for (size_t i = 0; i < history; i++) {
        char id[16];
        snprintf(id, sizeof(id), "p%04d", (int)(i % (size_t)players));
        cJSON *score;
        cJSON *patch = score_patch(id, &score);
        cJSON_SetNumberValue(score, (double)i);
        update(room, patch);
        cJSON_Delete(patch);
    }
    uint64_t oldest = pc_history_first_seq(room) - 1;
    uint64_t now = pc_room_seq(room);
    double at[TRAVEL_REPS];
    double diff[TRAVEL_REPS];
    for (int k = 0; k < TRAVEL_REPS; k++) {
        cJSON *out = NULL;
        double a = now_ns();
        if (pc_history_state_at(room, oldest, &out) != PC_OK) {
            die("pc_history_state_at failed");
        }
        at[k] = now_ns() - a;
        cJSON_Delete(out);
        a = now_ns();
        if (pc_history_diff(room, oldest, now, &out) != PC_OK) {
            die("pc_history_diff failed");
        }
        diff[k] = now_ns() - a;
        cJSON_Delete(out);
    }
    row->history = history;
    uint64_t sum;
    pc_canon_checksum(pc_room_state(room), &sum, &row->state_bytes);
    row->state_at_ns = median(at, TRAVEL_REPS);
    row->diff_ns = median(diff, TRAVEL_REPS);
    pc_room_free(room);
}

/* --profile: the room of one update row and `updates` untimed changes,
 * nothing printed. */
static void profile(const char *row, long updates)
{
    bool last = strcmp(row, "20-last") == 0;
    size_t kb = last ? 20 : (size_t)strtoul(row, NULL, 10);
    int players = 0;
    cJSON *init = initial_state(kb, &players);
    pc_room *room = new_room(PC_HISTORY_DEFAULT, init);
    cJSON_Delete(init);
    char id[16];
    snprintf(id, sizeof(id), "p%04d", last ? players - 1 : 1);
    cJSON *score;
    cJSON *patch = score_patch(id, &score);
    for (long i = 0; i < updates; i++) {
        cJSON_SetNumberValue(score, (double)i);
        update(room, patch);
    }
    cJSON_Delete(patch);
    pc_room_free(room);
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--updates N] [--rooms N] [--history N,N,...] "
            "[--json FILE]\n"
            "       %s --profile 2|20|20-last [--updates N]\n",
            argv0, argv0);
    exit(2);
}

#define MAX_TRAVEL 8

int main(int argc, char **argv)
{
    long updates = 200000;
    int rooms = 1000;
    size_t travel[MAX_TRAVEL] = {100, 1000, 10000};
    int ntravel = 3;
    const char *json = NULL;
    const char *prof = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--updates") == 0 && i + 1 < argc) {
            updates = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--rooms") == 0 && i + 1 < argc) {
            rooms = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--history") == 0 && i + 1 < argc) {
            ntravel = 0;
            for (char *s = argv[++i]; *s != '\0' && ntravel < MAX_TRAVEL;) {
                char *end;
                unsigned long n = strtoul(s, &end, 10);
                if (end == s) {
                    usage(argv[0]);
                }
                if (n > 0) {
                    travel[ntravel++] = n;
                }
                s = *end == ',' ? end + 1 : end;
            }
        } else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
            json = argv[++i];
        } else if (strcmp(argv[i], "--profile") == 0 && i + 1 < argc) {
            prof = argv[++i];
        } else {
            usage(argv[0]);
        }
    }
    if (prof != NULL) {
        profile(prof, updates);
        return 0;
    }
    if (updates < 100) {
        updates = 100;
    }
#ifdef NDEBUG
    const char *build = "release";
#else
    const char *build = "debug";
#endif

    update_row up[3] = {{.what = "2 KB, small patch"},
                        {.what = "20 KB, small patch"},
                        {.what = "20 KB, patch to last member"}};
    bench_update(2, false, updates, &up[0]);
    bench_update(20, false, updates, &up[1]);
    bench_update(20, true, updates, &up[2]);
    memory_row mem = {0};
    if (rooms > 0) {
        bench_memory(rooms, &mem);
    }
    travel_row tr[MAX_TRAVEL];
    for (int i = 0; i < ntravel; i++) {
        bench_travel(travel[i], &tr[i]);
    }

    printf("phasecast-bench-update, %s build; history %d, no sinks\n\n", build,
           PC_HISTORY_DEFAULT);
    printf("%-30s %12s %12s %10s %10s\n", "pc_update_phase_data", "state B",
           "changes/s", "p50 us", "p99 us");
    for (int i = 0; i < 3; i++) {
        printf("%-30s %12zu %12.0f %10.2f %10.2f\n", up[i].what,
               up[i].state_bytes, up[i].per_s, up[i].p50_ns / 1e3,
               up[i].p99_ns / 1e3);
    }
    printf("  20 KB / 2 KB time per change: %.2fx by changes/s, %.2fx by p50\n",
           up[0].per_s / up[1].per_s, up[1].p50_ns / up[0].p50_ns);
    if (rooms > 0) {
        double per = (double)(mem.rss_after - mem.rss_before) / mem.rooms;
        printf("\nmemory: %d rooms x %zu records x %zu B state: RSS %.1f MiB "
               "(+%.1f MiB), %.1f KiB per room\n",
               mem.rooms, mem.records, mem.state_bytes,
               (double)mem.rss_after / 1048576.0,
               (double)(mem.rss_after - mem.rss_before) / 1048576.0,
               per / 1024.0);
    }
    if (ntravel > 0) {
        printf("\n%-30s %12s %16s %16s\n", "time travel to the oldest seq",
               "state B", "state_at us", "diff us");
        for (int i = 0; i < ntravel; i++) {
            char what[40];
            snprintf(what, sizeof(what), "history %zu", tr[i].history);
            printf("%-30s %12zu %16.1f %16.1f\n", what, tr[i].state_bytes,
                   tr[i].state_at_ns / 1e3, tr[i].diff_ns / 1e3);
        }
    }

    if (json != NULL) {
        FILE *f = fopen(json, "w");
        if (f == NULL) {
            die("cannot write the JSON file");
        }
        fprintf(f,
                "{\"bench\":\"update\",\"build\":\"%s\",\"history\":%d,"
                "\"updates\":[",
                build, PC_HISTORY_DEFAULT);
        for (int i = 0; i < 3; i++) {
            fprintf(f,
                    "%s{\"what\":\"%s\",\"state_bytes\":%zu,\"changes\":%ld,"
                    "\"changes_per_s\":%.0f,\"p50_ns\":%.0f,\"p99_ns\":%.0f}",
                    i ? "," : "", up[i].what, up[i].state_bytes, updates,
                    up[i].per_s, up[i].p50_ns, up[i].p99_ns);
        }
        fprintf(f, "]");
        if (rooms > 0) {
            fprintf(f,
                    ",\"memory\":{\"rooms\":%d,\"records\":%zu,"
                    "\"state_bytes\":%zu,\"rss_before\":%zu,"
                    "\"rss_after\":%zu}",
                    mem.rooms, mem.records, mem.state_bytes, mem.rss_before,
                    mem.rss_after);
        }
        fprintf(f, ",\"time_travel\":[");
        for (int i = 0; i < ntravel; i++) {
            fprintf(f,
                    "%s{\"history\":%zu,\"state_bytes\":%zu,"
                    "\"state_at_ns\":%.0f,\"diff_ns\":%.0f}",
                    i ? "," : "", tr[i].history, tr[i].state_bytes,
                    tr[i].state_at_ns, tr[i].diff_ns);
        }
        fprintf(f, "]}\n");
        fclose(f);
    }
    return 0;
}
