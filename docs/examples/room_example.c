/*
 * room_example.c - a two-phase game driven by hand: create a room, attach a
 * sink, start it, change state through actions, see a validator refuse a
 * change, transition on a timeout, and free the room.
 *
 * The game ("race") seats players in LOBBY and lets them roll a die in
 * PLAY; a timeout in PLAY ends the game. It is not a tutorial game (see
 * docs/tutorial.md for that) and it does not use a network: the program is
 * its own host, firing the phase timer itself. It checks every result it
 * relies on and exits non-zero on the first surprise, so ctest can run it.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/change.h"
#include "phasecast/error.h"
#include "phasecast/json.h"
#include "phasecast/room.h"
#include "phasecast/version.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
            return 1;                                                          \
        }                                                                      \
    } while (0)

/* A clock the example controls, so times in the changes are predictable. */
static int64_t fake_now = 1700000000000;

static int64_t fake_clock(void *arg)
{
    (void)arg;
    return fake_now;
}

/* What the sink saw: the seqs must arrive 1, 2, 3, ... in order. */
typedef struct seen {
    uint64_t last_seq;
    int changes;
    int transitions;
    pc_err reentrant; /* what a state change from inside the sink returned */
} seen;

static void count_changes(pc_room *room, const pc_change *c, void *arg)
{
    seen *s = arg;
    if (c->seq == s->last_seq + 1) {
        s->last_seq = c->seq;
    }
    s->changes++;
    if (c->kind == PC_CHANGE_TRANSITION) {
        s->transitions++;
    }
    /* Sinks are read-only: this is refused and changes nothing. */
    s->reentrant = pc_update_phase_text(room, "{\"x\":1}", "from a sink");
}

/* LOBBY: "join" seats a player with score 0; the second join starts PLAY. */
static pc_err lobby_action(pc_room *room, const pc_action *act, cJSON **result,
                           pc_error *err, void *arg)
{
    (void)result;
    (void)arg;
    if (strcmp(act->type, "join") != 0) {
        return pc_error_set(err, PC_ERR_ACTION, "not_started",
                            "only \"join\" in the lobby");
    }
    const cJSON *scores = pc_json_pointer_get(pc_room_data(room), "/scores");
    if (cJSON_GetObjectItemCaseSensitive(scores, act->player) != NULL) {
        return pc_error_set(err, PC_ERR_ACTION, "already_joined",
                            "%s has already joined", act->player);
    }
    /* Check first, change last: one update or transition per action. */
    cJSON *patch = cJSON_CreateObject();
    cJSON *add = cJSON_AddObjectToObject(patch, "scores");
    if (add == NULL || cJSON_AddNumberToObject(add, act->player, 0) == NULL) {
        cJSON_Delete(patch);
        return pc_error_set(err, PC_ERR_NOMEM, NULL, NULL);
    }
    pc_err rv;
    if (cJSON_GetArraySize(scores) + 1 == 2) {
        rv = pc_transition(room, "PLAY", patch, "second player joined");
    } else {
        rv = pc_update_phase_data(room, patch, "player joined");
    }
    cJSON_Delete(patch);
    return rv;
}

/* PLAY: "roll" adds a die roll from the room's seeded PRNG to the score,
 * or, with payload {"cheat": n}, tries to set the score to n. */
static pc_err play_action(pc_room *room, const pc_action *act, cJSON **result,
                          pc_error *err, void *arg)
{
    (void)arg;
    char pointer[128] = "/scores";
    if (!pc_json_pointer_append(pointer, sizeof(pointer), act->player)) {
        return pc_error_set(err, PC_ERR_ACTION, "bad_player", "id too long");
    }
    const cJSON *score = pc_json_pointer_get(pc_room_data(room), pointer);
    if (!cJSON_IsNumber(score)) {
        return pc_error_set(err, PC_ERR_ACTION, "not_playing",
                            "%s is not in this game", act->player);
    }
    const cJSON *cheat =
        cJSON_GetObjectItemCaseSensitive(act->payload, "cheat");
    double next =
        cJSON_IsNumber(cheat)
            ? cheat->valuedouble
            : score->valuedouble + (double)(pc_room_random_below(room, 6) + 1);
    cJSON *patch = cJSON_CreateObject();
    cJSON *scores = cJSON_AddObjectToObject(patch, "scores");
    if (scores == NULL ||
        cJSON_AddNumberToObject(scores, act->player, next) == NULL) {
        cJSON_Delete(patch);
        return pc_error_set(err, PC_ERR_NOMEM, NULL, NULL);
    }
    pc_err rv = pc_update_phase_data(room, patch, "rolled");
    cJSON_Delete(patch);
    if (rv == PC_OK) {
        *result = cJSON_CreateNumber(next); /* the reply; may be NULL */
    }
    return rv; /* a refused update: pc_room_action reports the room's error */
}

/* PLAY's timer: the round is over. */
static void play_timeout(pc_room *room, void *arg)
{
    (void)arg;
    pc_transition(room, "DONE", NULL, "time is up");
}

/* The validator: no score may be negative. */
static pc_err validate(const pc_room *room, const cJSON *proposed,
                       pc_error *why, void *arg)
{
    (void)room;
    (void)arg;
    const cJSON *scores = pc_json_pointer_get(proposed, "/data/scores");
    const cJSON *s;
    cJSON_ArrayForEach(s, scores)
    {
        if (!cJSON_IsNumber(s) || s->valuedouble < 0) {
            return pc_error_set(why, PC_ERR_REJECTED, "bad_score",
                                "score of %s must be a number >= 0", s->string);
        }
    }
    return PC_OK;
}

static const pc_phase race_phases[] = {
    {.name = "LOBBY", .action = lobby_action},
    {.name = "PLAY",
     .action = play_action,
     .timeout = play_timeout,
     .timeout_ms = 30000},
    {.name = "DONE"},
};

static const pc_game race = {
    .name = "race",
    .phases = race_phases,
    .nphases = sizeof(race_phases) / sizeof(race_phases[0]),
    .validate = validate,
};

int main(void)
{
    printf("phasecast %s\n", pc_version());
    /* The headers compiled against and the library linked with agree. */
    CHECK(strcmp(pc_version(), PC_VERSION_STRING) == 0);

    pc_room_options opts;
    pc_room_options_init(&opts);
    opts.id = "race-1";
    opts.seed = 42; /* same seed, same inputs: same game */
    opts.seed_set = true;
    opts.clock = fake_clock;

    pc_room *room = NULL;
    CHECK(pc_room_new(&race, &opts, &room) == PC_OK);
    seen s = {0};
    CHECK(pc_room_add_sink(room, count_changes, &s) == PC_OK);
    CHECK(pc_room_start(room) == PC_OK);
    CHECK(pc_room_seq(room) == 0); /* starting commits nothing */
    CHECK(strcmp(pc_room_phase(room), "LOBBY") == 0);

    /* Two joins: one update, then a transition into PLAY. */
    pc_action join = {.player = "ann", .type = "join"};
    CHECK(pc_room_action(room, &join, NULL, NULL) == PC_OK);
    join.player = "bob";
    CHECK(pc_room_action(room, &join, NULL, NULL) == PC_OK);
    CHECK(pc_room_seq(room) == 2);
    CHECK(strcmp(pc_room_phase(room), "PLAY") == 0);
    CHECK(s.last_seq == 2 && s.changes == 2 && s.transitions == 1);
    CHECK(s.reentrant == PC_ERR_REENTRANT);

    /* Entering PLAY armed its 30 s timer on the room's clock. */
    int64_t deadline = 0;
    CHECK(pc_room_timeout_deadline(room, &deadline));
    CHECK(deadline == fake_now + 30000);

    /* A roll: the reply is the new score, between 1 and 6. */
    pc_action roll = {.player = "ann", .type = "roll"};
    cJSON *reply = NULL;
    CHECK(pc_room_action(room, &roll, &reply, NULL) == PC_OK);
    CHECK(cJSON_IsNumber(reply) && reply->valuedouble >= 1 &&
          reply->valuedouble <= 6);
    cJSON_Delete(reply);
    CHECK(pc_room_seq(room) == 3);

    /* A refused change: the validator says no, and nothing changed. */
    uint64_t sum = pc_room_checksum(room);
    cJSON *cheat = cJSON_Parse("{\"cheat\": -5}");
    CHECK(cheat != NULL);
    roll.payload = cheat;
    pc_error err = {0};
    CHECK(pc_room_action(room, &roll, NULL, &err) == PC_ERR_REJECTED);
    roll.payload = NULL;
    cJSON_Delete(cheat);
    printf("refused: %s (%s)\n", err.message, err.code);
    CHECK(strcmp(err.code, "bad_score") == 0);
    CHECK(pc_room_seq(room) == 3 && pc_room_checksum(room) == sum);
    CHECK(s.changes == 3); /* the sink saw no change for the refusal */

    /* The action callback's own refusal comes back the same way. */
    pc_action stranger = {.player = "eve", .type = "roll"};
    CHECK(pc_room_action(room, &stranger, NULL, &err) == PC_ERR_ACTION);
    CHECK(strcmp(err.code, "not_playing") == 0);

    /* Bad patches are refused before anything is touched. */
    CHECK(pc_update_phase_text(room, "[1, 2]", "not an object") ==
          PC_ERR_INVALID);
    CHECK(strcmp(pc_room_last_error(room)->code, "invalid_patch") == 0);
    CHECK(pc_update_phase_text(room, "{}", "") == PC_ERR_INVALID);
    CHECK(pc_transition(room, "NOWHERE", NULL, "typo") == PC_ERR_PHASE);
    CHECK(pc_room_seq(room) == 3);

    /* The host's timer fires: the timeout callback moves to DONE. */
    fake_now = deadline;
    CHECK(pc_room_fire_timeout(room) == PC_OK);
    CHECK(strcmp(pc_room_phase(room), "DONE") == 0);
    CHECK(pc_room_seq(room) == 4);
    CHECK(!pc_room_timeout_deadline(room, NULL));
    CHECK(pc_room_fire_timeout(room) == PC_ERR_STATE); /* nothing armed */
    CHECK(s.last_seq == 4 && s.transitions == 2);

    /* DONE has no action callback. */
    CHECK(pc_room_action(room, &roll, NULL, &err) == PC_ERR_PHASE);

    const cJSON *state = pc_room_state(room);
    CHECK(strcmp(cJSON_GetStringValue(pc_json_pointer_get(state, "/phase")),
                 "DONE") == 0);
    pc_room_free(room);
    printf("room_example: ok\n");
    return 0;
}
