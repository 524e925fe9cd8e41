/*
 * test_cause_fixture.h - the game, sink and script that test_cause.c and
 * test_cause_log.c share (not a test of its own; included by both).
 *
 * The "causes" game makes every kind of stimulus happen in a few calls,
 * and play() runs them in a fixed order so that the causes of seqs 1 to 7
 * are known (check_causes). The sink copies what it is shown, since a
 * change is borrowed only until the sink returns.
 */
#ifndef PC_TEST_CAUSE_FIXTURE_H
#define PC_TEST_CAUSE_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "phasecast/change.h"
#include "phasecast/changelog.h"
#include "phasecast/json.h"
#include "phasecast/room.h"

/* LOBBY --start--> (enter: one update)
 * LOBBY --action "go"--> two updates, then a transition to PLAY, whose
 *                        enter makes one more update (all one stimulus)
 * PLAY  --timeout--> one update
 * PLAY  --action "big"--> one update; "fill"--> the patch in fill_patch;
 *                         any other type is refused */
static pc_err lobby_action(pc_room *room, const pc_action *act, cJSON **result,
                           pc_error *err, void *arg)
{
    (void)result;
    (void)arg;
    if (strcmp(act->type, "go") != 0) {
        return pc_error_set(err, PC_ERR_ACTION, "bad_action", "no %s",
                            act->type);
    }
    pc_update_phase_text(room, "{\"a\":1}", "first");
    pc_update_phase_text(room, "{\"b\":2}", "second");
    return pc_transition_text(room, "PLAY", "{}", "to play");
}

static void lobby_enter(pc_room *room, const char *from, void *arg)
{
    (void)from;
    (void)arg;
    pc_update_phase_text(room, "{\"opened\":true}", "opened");
}

static void play_enter(pc_room *room, const char *from, void *arg)
{
    (void)from;
    (void)arg;
    pc_update_phase_text(room, "{\"entered\":true}", "entered play");
}

static const cJSON *fill_patch; /* what the "fill" action applies */

static pc_err play_action(pc_room *room, const pc_action *act, cJSON **result,
                          pc_error *err, void *arg)
{
    (void)result;
    (void)arg;
    if (strcmp(act->type, "big") == 0) {
        return pc_update_phase_text(room, "{\"big\":1}", "big payload");
    }
    if (strcmp(act->type, "fill") == 0) {
        return pc_update_phase_data(room, fill_patch, "filled");
    }
    return pc_error_set(err, PC_ERR_ACTION, "refused", "always refused");
}

static void play_timeout(pc_room *room, void *arg)
{
    (void)arg;
    pc_update_phase_text(room, "{\"late\":true}", "too late");
}

static const pc_phase phases[] = {
    {.name = "LOBBY", .enter = lobby_enter, .action = lobby_action},
    {.name = "PLAY",
     .enter = play_enter,
     .action = play_action,
     .timeout = play_timeout,
     .timeout_ms = 1000},
};
static const pc_game game = {
    .name = "causes", .phases = phases, .nphases = 2, .initial_phase = "LOBBY"};

/* What the sink saw: each cause, with its player copied. */
static pc_cause seen[512];
static char seen_player[512][16];
static int nseen;

static void sink(pc_room *room, const pc_change *c, void *arg)
{
    (void)room;
    (void)arg;
    assert_true(nseen < 512);
    seen[nseen] = c->cause;
    snprintf(seen_player[nseen], sizeof seen_player[0], "%s",
             c->cause.player != NULL ? c->cause.player : "");
    nseen++;
}

/* Room limits for big payloads and patches (0: the defaults), and the
 * history capacity (0: the default). */
static size_t big_strings;
static size_t history_capacity;

/* A started-or-not room "c1" with the sink, logged in dir when dir is not
 * NULL (*log receives the log). */
static pc_room *room_with(const char *dir, pc_changelog **log)
{
    pc_room_options ro;
    pc_room_options_init(&ro);
    if (big_strings > 0) {
        ro.limits.max_string = big_strings;
        ro.limits.max_bytes = big_strings;
        ro.limits.max_state_bytes = big_strings * 2;
    }
    if (history_capacity > 0) {
        ro.history_capacity = history_capacity;
    }
    ro.id = "c1";
    ro.seed = 1;
    ro.seed_set = true;
    pc_room *room = NULL;
    assert_int_equal(pc_room_new(&game, &ro, &room), PC_OK);
    if (dir != NULL) {
        pc_changelog_options lo;
        pc_changelog_options_init(&lo);
        lo.dir = dir;
        lo.fsync = PC_FSYNC_NONE;
        assert_int_equal(pc_changelog_create(&lo, room, log, NULL), PC_OK);
    }
    assert_int_equal(pc_room_add_sink(room, sink, NULL), PC_OK);
    nseen = 0;
    return room;
}

/* Start; "go" by alice (4 changes); a refused action by bob; a timeout;
 * a host update. Seqs: 1 start, 2-5 go, 6 timeout, 7 host. */
static void play(pc_room *room)
{
    assert_int_equal(pc_room_start(room), PC_OK);
    cJSON *payload = NULL;
    assert_int_equal(pc_json_parse("{\"n\":5}", 7, NULL, &payload, NULL),
                     PC_OK);
    pc_action go = {.player = "alice", .type = "go", .payload = payload};
    cJSON *result = NULL;
    assert_int_equal(pc_room_action(room, &go, &result, NULL), PC_OK);
    cJSON_Delete(result);
    cJSON_Delete(payload);
    pc_action bad = {.player = "bob", .type = "nope", .payload = NULL};
    assert_int_equal(pc_room_action(room, &bad, &result, NULL), PC_ERR_ACTION);
    assert_int_equal(pc_room_fire_timeout(room), PC_OK);
    assert_int_equal(pc_update_phase_text(room, "{\"host\":1}", "by hand"),
                     PC_OK);
}

/* The causes of play()'s seqs 1-7 in c[0..6], and the players in
 * players[0..6] ("" for none). */
static void check_causes(const pc_cause *c, const char players[][16])
{
    assert_int_equal(c[0].kind, PC_CAUSE_START);
    assert_int_equal(c[0].first_seq, 1);
    assert_string_equal(players[0], "");
    for (int i = 1; i <= 4; i++) {
        assert_int_equal(c[i].kind, PC_CAUSE_ACTION);
        assert_int_equal(c[i].first_seq, 2);
        assert_string_equal(players[i], "alice");
        assert_false(c[i].payload_dropped);
    }
    assert_int_equal(c[5].kind, PC_CAUSE_TIMEOUT);
    assert_int_equal(c[5].first_seq, 6);
    assert_int_equal(c[6].kind, PC_CAUSE_HOST);
    assert_int_equal(c[6].first_seq, 7);
    assert_string_equal(players[6], "");
}

#endif
