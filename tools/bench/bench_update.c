/*
 * bench_update.c - how long one pc_update_phase_data takes: a small patch on
 * a state of about 2 KB (or 20 KB), history on, no sinks. A measuring tool,
 * not a test: it asserts nothing about speed and prints what it saw.
 *
 *   phasecast-bench-update [--state-kb N] [--updates N] [--history N] [--json]
 *
 * Build with -DCMAKE_BUILD_TYPE=Release for meaningful numbers: Debug
 * builds are unoptimised and run the tamper check (a second full checksum)
 * on every update.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phasecast/canon.h"
#include "phasecast/room.h"

static const pc_phase phases[] = {{"PLAY", NULL, NULL, NULL, NULL, 0}};
static const pc_game game = {.name = "bench", .phases = phases, .nphases = 1};

static double now_ns(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Players with a few fields each until the canonical state reaches kb. */
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

int main(int argc, char **argv)
{
    size_t kb = 2;
    long updates = 200000;
    size_t history = PC_HISTORY_DEFAULT;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--state-kb") == 0 && i + 1 < argc) {
            kb = (size_t)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--updates") == 0 && i + 1 < argc) {
            updates = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--history") == 0 && i + 1 < argc) {
            history = (size_t)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else {
            fprintf(stderr,
                    "usage: %s [--state-kb N] [--updates N] [--history N] "
                    "[--json]\n",
                    argv[0]);
            return 2;
        }
    }
    if (updates < 1) {
        updates = 1;
    }

    pc_room_options o;
    pc_room_options_init(&o);
    o.history_capacity = history;
    o.seed = 1;
    o.seed_set = true;
    pc_room *room = NULL;
    if (pc_room_new(&game, &o, &room) != PC_OK ||
        pc_room_start(room) != PC_OK) {
        fprintf(stderr, "cannot create room\n");
        return 1;
    }
    int players = 0;
    cJSON *init = initial_state(kb, &players);
    pc_update_phase_data(room, init, "initial state");
    cJSON_Delete(init);

    /* The patch under test: one player's score, a typical small change. */
    cJSON *patch = cJSON_CreateObject();
    cJSON *ps = cJSON_AddObjectToObject(patch, "players");
    cJSON *p = cJSON_AddObjectToObject(ps, "p0001");
    cJSON *score = cJSON_AddNumberToObject(p, "score", 0);

    double *lat = malloc(sizeof(double) * (size_t)updates);
    if (lat == NULL) {
        return 1;
    }
    double t0 = now_ns();
    for (long i = 0; i < updates; i++) {
        cJSON_SetNumberValue(score, (double)i);
        double a = now_ns();
        pc_err rv = pc_update_phase_data(room, patch, "score");
        lat[i] = now_ns() - a;
        if (rv != PC_OK) {
            fprintf(stderr, "update failed: %s\n",
                    pc_room_last_error(room)->message);
            return 1;
        }
    }
    double total = now_ns() - t0;
    qsort(lat, (size_t)updates, sizeof(double), cmp_double);
    double p50 = lat[updates / 2];
    double p99 = lat[(size_t)((double)updates * 0.99)];
    double per_s = (double)updates / (total / 1e9);
    size_t state_bytes = 0;
    uint64_t sum;
    pc_canon_checksum(pc_room_state(room), &sum, &state_bytes);
#ifdef NDEBUG
    const char *build = "release";
#else
    const char *build = "debug";
#endif
    if (json) {
        printf("{\"bench\":\"update\",\"build\":\"%s\",\"state_bytes\":%zu,"
               "\"history\":%zu,\"updates\":%ld,\"updates_per_s\":%.0f,"
               "\"p50_ns\":%.0f,\"p99_ns\":%.0f}\n",
               build, state_bytes, history, updates, per_s, p50, p99);
    } else {
        printf("pc_update_phase_data, %s build: state %zu bytes (%d players), "
               "history %zu, no sinks\n",
               build, state_bytes, players, history);
        printf("  %ld updates: %.0f updates/s, mean %.2f us, p50 %.2f us, "
               "p99 %.2f us\n",
               updates, per_s, total / (double)updates / 1e3, p50 / 1e3,
               p99 / 1e3);
    }
    free(lat);
    cJSON_Delete(patch);
    pc_room_free(room);
    return 0;
}
