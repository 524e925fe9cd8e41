/*
 * changelog_example.c - a durable room without a server: log a room to a
 * directory, lose it, rebuild it from its log and carry on.
 *
 * The game ("dice") has a ROLLING phase whose "roll" action adds a roll of
 * the room's seeded PRNG to a total, and a 60 s phase timer. The program
 * creates the room, starts its change log with pc_changelog_create (a
 * keyframe every 4 changes, so one compaction happens), plays a few rolls,
 * and frees the room and the log; under fsync=always the file then holds
 * what a kill -9 at that moment would have left. It verifies the file and
 * recovers the room with pc_changelog_recover. A second room that is never
 * logged gets the same seed and the same actions: after the recovery both must
 * roll the same numbers, which shows that the PRNG continues exactly. The
 * program is its own host (it fires no timers and has no network). It checks
 * every result and exits non-zero on the first surprise; it removes its
 * temporary directory on success.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "phasecast/changelog.h"
#include "phasecast/error.h"
#include "phasecast/json.h"
#include "phasecast/room.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
            return 1;                                                          \
        }                                                                      \
    } while (0)

/* A clock the example controls, so that timer deadlines are predictable. */
static int64_t fake_now = 1700000000000;

static int64_t fake_clock(void *arg)
{
    (void)arg;
    return fake_now;
}

/* How often ROLLING's enter callback ran, over every room of the game. */
static int enters;

static void rolling_enter(pc_room *room, const char *from, void *arg)
{
    (void)room;
    (void)from;
    (void)arg;
    enters++;
}

/* ROLLING: "roll" adds 1..6 from the room's PRNG to /total. */
static pc_err rolling_action(pc_room *room, const pc_action *act,
                             cJSON **result, pc_error *err, void *arg)
{
    (void)result;
    (void)arg;
    if (strcmp(act->type, "roll") != 0) {
        return pc_error_set(err, PC_ERR_ACTION, "unknown_action",
                            "only \"roll\" while rolling");
    }
    const cJSON *total = pc_json_pointer_get(pc_room_data(room), "/total");
    double sum = cJSON_IsNumber(total) ? total->valuedouble : 0;
    sum += (double)(pc_room_random_below(room, 6) + 1);
    cJSON *patch = cJSON_CreateObject();
    if (cJSON_AddNumberToObject(patch, "total", sum) == NULL) {
        cJSON_Delete(patch);
        return pc_error_set(err, PC_ERR_NOMEM, NULL, NULL);
    }
    pc_err rv = pc_update_phase_data(room, patch, "rolled");
    cJSON_Delete(patch);
    return rv;
}

static void rolling_timeout(pc_room *room, void *arg)
{
    (void)arg;
    pc_transition(room, "DONE", NULL, "time is up");
}

static const pc_phase dice_phases[] = {
    {.name = "ROLLING",
     .enter = rolling_enter,
     .action = rolling_action,
     .timeout = rolling_timeout,
     .timeout_ms = 60000},
    {.name = "DONE"},
};

static const pc_game dice = {
    .name = "dice",
    .phases = dice_phases,
    .nphases = sizeof(dice_phases) / sizeof(dice_phases[0]),
};

/* One "roll" by alice in each room given (twin may be NULL). */
static pc_err roll(pc_room *room, pc_room *twin)
{
    pc_action act = {.player = "alice", .type = "roll", .payload = NULL};
    pc_err rv = pc_room_action(room, &act, NULL, NULL);
    if (rv == PC_OK && twin != NULL) {
        rv = pc_room_action(twin, &act, NULL, NULL);
    }
    return rv;
}

/* Remove what the example wrote, then the directory itself. */
static void remove_dir(const char *dir)
{
    static const char *const names[] = {"table-1.pclog", "table-1.pclog.tmp",
                                        "table-1.pclog.broken"};
    char path[PC_CHANGELOG_PATH_MAX];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        (void)unlink(path);
    }
    (void)rmdir(dir);
}

int main(void)
{
    char dir[] = "/tmp/pc-changelog-example-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);

    pc_room_options ro;
    pc_room_options_init(&ro);
    ro.id = "table-1";
    ro.seed = 2024;
    ro.seed_set = true;
    ro.clock = fake_clock;

    /* The twin: same game, seed and inputs, never logged. */
    pc_room *twin = NULL;
    CHECK(pc_room_new(&dice, &ro, &twin) == PC_OK);
    CHECK(pc_room_start(twin) == PC_OK);

    /* Log a new room: create the log after pc_room_new, before the start,
     * so the base record holds seq 0 and every change follows it. */
    pc_changelog_options lo;
    pc_changelog_options_init(&lo);
    lo.dir = dir;
    lo.fsync = PC_FSYNC_ALWAYS; /* each change is on disk before it commits */
    lo.keyframe_every = 4;      /* compact after every 4 changes */

    pc_room *room = NULL;
    pc_changelog *log = NULL;
    pc_error err = {0};
    CHECK(pc_room_new(&dice, &ro, &room) == PC_OK);
    if (pc_changelog_create(&lo, room, &log, &err) != PC_OK) {
        fprintf(stderr, "cannot log the room: %s\n", err.message);
        return 1;
    }
    CHECK(pc_room_start(room) == PC_OK);
    for (int i = 0; i < 6; i++) {
        CHECK(roll(room, twin) == PC_OK);
    }
    CHECK(pc_room_seq(room) == 6);
    uint64_t sum = pc_room_checksum(room);
    CHECK(sum == pc_room_checksum(twin));
    pc_changelog_stats st;
    pc_changelog_stats_get(log, &st);
    CHECK(st.appends == 6 && st.compactions == 1);

    /* Lose the room: free it, then its log (in that order). */
    pc_room_free(room);
    pc_changelog_free(log);

    /* Check the file without changing it: a base record at seq 4 (the
     * keyframe) and the two changes after it. */
    char path[PC_CHANGELOG_PATH_MAX];
    snprintf(path, sizeof(path), "%s/table-1%s", dir, PC_CHANGELOG_SUFFIX);
    pc_changelog_report rep;
    CHECK(pc_changelog_verify(path, &rep) == PC_OK);
    CHECK(rep.problem == PC_CHANGELOG_CLEAN);
    CHECK(strcmp(rep.room, "table-1") == 0 && strcmp(rep.game, "dice") == 0);
    CHECK(rep.base_seq == 4 && rep.last_seq == 6 && rep.records == 3);

    /* Rebuild it. The log names its game; the caller lists the games it
     * can run. The clock is not in the log, so pass the room options. */
    fake_now += 5000;
    const pc_changelog_game games[] = {{.game = &dice, .arg = NULL}};
    if (pc_changelog_recover(&lo, "table-1", games, 1, &ro, 0, &room, &log,
                             &rep, &err) != PC_OK) {
        fprintf(stderr, "cannot recover: %s\n", err.message);
        return 1;
    }
    CHECK(!rep.cut && !rep.stale_tmp);
    CHECK(pc_room_seq(room) == 6 && pc_room_checksum(room) == sum);

    /* Starting a restored room does not run ROLLING's enter again, and
     * arms its timer for the deadline the log recorded: 60 s after the
     * first start, 5 s ago, so 55 s from now. */
    int entered = enters;
    CHECK(pc_room_start(room) == PC_OK);
    CHECK(enters == entered);
    int64_t deadline = 0;
    CHECK(pc_room_timeout_deadline(room, &deadline));
    CHECK(deadline == fake_now + 55000);

    /* It carries on: seq 7, 8, 9, and the same rolls as the twin's. */
    for (int i = 0; i < 3; i++) {
        CHECK(roll(room, twin) == PC_OK);
    }
    CHECK(pc_room_seq(room) == 9);
    CHECK(pc_room_checksum(room) == pc_room_checksum(twin));

    pc_room_free(room);
    pc_changelog_free(log);
    pc_room_free(twin);
    CHECK(pc_changelog_verify(path, &rep) == PC_OK && rep.last_seq == 9);
    remove_dir(dir);
    printf("recovered table-1 at seq 6 and continued to seq 9\n");
    return 0;
}
