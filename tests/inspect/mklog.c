/*
 * mklog.c - pc-inspect-mklog: record a deterministic piles game into a
 * change log, for the inspector's black-box tests and docs/inspector.md.
 *
 * A piles room "p1" with a fixed seed runs on a fake clock: four bots
 * (alice, bob, carol, dave) join at fixed times and play with
 * piles_bot_choose, their choices drawn from a fixed counter; whenever no
 * bot has anything to do, the clock jumps to the phase timer's deadline
 * and the timer fires. The same arguments give the same log, byte for
 * byte, on every machine: times, seeds and choices are all fixed, and
 * source locations are relative to the source tree.
 *
 * usage: pc-inspect-mklog DIR [--seed N (92)] [--rounds N] [--keyframe-every N]
 *                         [--changes N] [--events 1]
 * writes DIR/p1.pclog (and its segments when --keyframe-every is set);
 * --changes stops after that many changes (0: play to the end). With
 * --events 1 the host also records events (pc_room_event): "welcome" for
 * alice alone after the joins, a public "round_over" {"round": k} each
 * time a round reaches SCORING, and a game master's "gm.note" at the end.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/changelog.h"
#include "phasecast/room.h"
#include "piles/bot.h"
#include "piles/piles.h"

/* 2026-11-23T10:00:00Z: where the fake clock starts. */
#define T0 1795428000000LL

static int64_t now = T0;

static int64_t fake_clock(void *arg)
{
    (void)arg;
    return now;
}

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static unsigned long long arg_num(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '\0' || *end != '\0') {
        fprintf(stderr, "pc-inspect-mklog: not a number: %s\n", s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    static const char *const players[] = {"alice", "bob", "carol", "dave"};
    if (argc < 2) {
        fprintf(stderr, "usage: pc-inspect-mklog DIR [--seed N] [--rounds N] "
                        "[--keyframe-every N] [--changes N]\n");
        return 2;
    }
    uint64_t seed = 92; /* bob loses 3 points in round 4 */
    uint64_t keyframe = 0;
    uint64_t limit = 0;
    bool events = false;
    piles_config cfg;
    piles_config_init(&cfg);
    cfg.max_rounds = 4;
    for (int i = 2; i + 1 < argc; i += 2) {
        unsigned long long v = arg_num(argv[i + 1]);
        if (strcmp(argv[i], "--seed") == 0) {
            seed = v;
        } else if (strcmp(argv[i], "--rounds") == 0) {
            cfg.max_rounds = (int)v;
        } else if (strcmp(argv[i], "--keyframe-every") == 0) {
            keyframe = v;
        } else if (strcmp(argv[i], "--changes") == 0) {
            limit = v;
        } else if (strcmp(argv[i], "--events") == 0) {
            events = v != 0;
        } else {
            fprintf(stderr, "pc-inspect-mklog: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    cfg.target_score = 10000;
    pc_room_options ro;
    pc_room_options_init(&ro);
    ro.id = "p1";
    ro.seed = seed;
    ro.seed_set = true;
    ro.clock = fake_clock;
    ro.arg = &cfg;
    pc_room *room = NULL;
    pc_changelog *log = NULL;
    pc_changelog_options lo;
    pc_changelog_options_init(&lo);
    lo.dir = argv[1];
    lo.fsync = PC_FSYNC_NONE;
    lo.keyframe_every = keyframe;
    pc_error err = {0};
    if (pc_room_new(piles_game(), &ro, &room) != PC_OK ||
        pc_changelog_create(&lo, room, &log, &err) != PC_OK ||
        pc_room_start(room) != PC_OK) {
        fprintf(stderr, "pc-inspect-mklog: cannot start: %s\n", err.message);
        return 1;
    }
    uint64_t bot_rng = 1;
    for (size_t p = 0; p < 4; p++) {
        now += 1500;
        pc_action act = {.player = players[p], .type = "join", .payload = NULL};
        cJSON *result = NULL;
        if (pc_room_action(room, &act, &result, &err) != PC_OK) {
            fprintf(stderr, "pc-inspect-mklog: join refused: %s\n",
                    err.message);
            return 1;
        }
        cJSON_Delete(result);
    }
    int status = 0;
    int rounds_announced = 0;
    bool announced = false; /* this SCORING phase's round_over is made */
    if (events) {
        cJSON *seat = cJSON_Parse("{\"seat\":1}");
        status = pc_room_event_to(room, PC_AUDIENCE_PLAYER, "alice", "welcome",
                                  seat, "alice is welcomed") != PC_OK;
        cJSON_Delete(seat);
    }
    while (status == 0 && strcmp(pc_room_phase(room), "GAME_OVER") != 0 &&
           (limit == 0 || pc_room_seq(room) < limit)) {
        bool scoring = strcmp(pc_room_phase(room), "SCORING") == 0;
        if (!scoring) {
            announced = false;
        } else if (events && !announced) {
            announced = true;
            cJSON *round = cJSON_CreateObject();
            cJSON_AddNumberToObject(round, "round", ++rounds_announced);
            char why[64];
            snprintf(why, sizeof why, "round %d is scored", rounds_announced);
            status = pc_room_event(room, "round_over", round, why) != PC_OK;
            cJSON_Delete(round);
            continue;
        }
        bool acted = false;
        for (size_t p = 0; p < 4 && !acted; p++) {
            const char *type;
            cJSON *payload = NULL;
            if (piles_bot_choose(pc_room_state(room), players[p],
                                 splitmix(&bot_rng), &type,
                                 &payload) != PC_OK) {
                continue;
            }
            now += 700 + (int64_t)(splitmix(&bot_rng) % 1800);
            pc_action act = {
                .player = players[p], .type = type, .payload = payload};
            cJSON *result = NULL;
            pc_err rv = pc_room_action(room, &act, &result, &err);
            cJSON_Delete(result);
            cJSON_Delete(payload);
            if (rv != PC_OK) {
                fprintf(stderr, "pc-inspect-mklog: %s's %s refused: %s\n",
                        players[p], type, err.message);
                status = 1;
                break;
            }
            acted = true;
        }
        if (status != 0) {
            break;
        }
        if (!acted) {
            int64_t deadline;
            if (!pc_room_timeout_deadline(room, &deadline)) {
                fprintf(stderr, "pc-inspect-mklog: stuck in %s\n",
                        pc_room_phase(room));
                status = 1;
                break;
            }
            now = deadline > now ? deadline : now;
            if (pc_room_fire_timeout(room) != PC_OK) {
                status = 1;
                break;
            }
        }
    }
    if (events && status == 0) {
        cJSON *note = cJSON_CreateString("bob never saw it coming");
        status = pc_room_event_to(room, PC_AUDIENCE_GM, NULL, "gm.note", note,
                                  "the game master's last word") != PC_OK;
        cJSON_Delete(note);
    }
    pc_room_free(room);
    pc_changelog_free(log);
    return status;
}
