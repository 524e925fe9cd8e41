/*
 * test_piles_rounds.c - the piles rules from the end of a round on,
 * through the framework only: scoring (exact declarations and their bonus
 * as a change of its own, misses), the next round, the end of the game at
 * 50 points or after 20 rounds, whole games played by the timers alone,
 * retries after a failed automatic step, and the state validator.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/room.h"
#include "piles/piles.h"
#include "piles/rules.h"
#include "test_piles_fixture.h"

/* ---- scoring and the end ---------------------------------------------- */

/* One-turn round: the lead's R8a wins 1 pile; v are the declarations in
 * order from the starter (the lead). Leaves the room in SCORING. */
static void one_turn_round(fixture *f, const int v[PILES_PLAYERS])
{
    const char *hands[] = {"R8a", "R1a", "R2a", "R3a"};
    assert_int_equal(turn_with(f, v, hands, hands), 0);
    fire_after(f, f->cfg.results_ms);
    assert_string_equal(pc_room_phase(f->room), "SCORING");
}

/* The change after seq that scores who: its reason, and whether its patch
 * holds a bonus. Returns its seq. */
static uint64_t find_score(const fixture *f, uint64_t from, const char *want,
                           bool bonus)
{
    for (uint64_t seq = from + 1; seq <= pc_room_seq(f->room); seq++) {
        const pc_change *c = NULL;
        assert_int_equal(pc_history_get(f->room, seq, &c), PC_OK);
        if (strcmp(c->reason, want) == 0) {
            assert_int_equal(cJSON_HasObjectItem(c->patch, "bonus"), bonus);
            assert_int_equal(cJSON_HasObjectItem(c->patch, "round_points"),
                             !bonus);
            return seq;
        }
    }
    fail_msg("no change \"%s\"", want);
    return 0;
}

static void test_exact_declaration_scores_plus_a_separate_bonus(void **s)
{
    fixture *f = *s;
    uint64_t from = pc_room_seq(f->room);
    one_turn_round(f, (const int[]){1, 0, 0, 0});
    const char *lead = str_at(f, "/turn/lead");
    char want[128], ptr[32];
    snprintf(want, sizeof want, "%s declared 1 and captured 1: +1", lead);
    uint64_t base = find_score(f, from, want, false);
    snprintf(want, sizeof want, "perfect declaration bonus for %s: +5", lead);
    assert_int_equal(find_score(f, from, want, true), base + 1);
    snprintf(ptr, sizeof ptr, "/scores/%s", lead);
    assert_int_equal(int_at(f, ptr), 6);
    snprintf(want, sizeof want, "%s declared 0 and captured 0: +0",
             after(f, lead, 1));
    find_score(f, from, want, false);
    snprintf(ptr, sizeof ptr, "/scores/%s", after(f, lead, 1));
    assert_int_equal(int_at(f, ptr), 5);
    /* Everyone was exact: a score then a bonus each, in seat order. */
    uint64_t first = pc_room_seq(f->room) - 7;
    for (int i = 0; i < PILES_PLAYERS; i++) {
        const char *r = reason_at(f, first + 2 * (uint64_t)i);
        assert_memory_equal(r, P[i], strlen(P[i]));
        snprintf(want, sizeof want, "perfect declaration bonus for %s: +5",
                 P[i]);
        assert_string_equal(reason_at(f, first + 2 * (uint64_t)i + 1), want);
    }
}

static void test_missed_declarations_lose_the_difference(void **s)
{
    fixture *f = *s;
    uint64_t from = pc_room_seq(f->room);
    one_turn_round(f, (const int[]){0, 2, 0, 0});
    const char *lead = str_at(f, "/turn/lead");
    char want[128], ptr[32];
    snprintf(want, sizeof want, "%s declared 0 but captured 1: -1", lead);
    find_score(f, from, want, false);
    snprintf(want, sizeof want, "%s declared 2 but captured 0: -2",
             after(f, lead, 1));
    find_score(f, from, want, false);
    snprintf(ptr, sizeof ptr, "/scores/%s", lead);
    assert_int_equal(int_at(f, ptr), -1);
    snprintf(ptr, sizeof ptr, "/bonus/%s", lead);
    assert_null(at(f, ptr));
}

static void test_next_round_clears_the_table_and_rotates_the_starter(void **s)
{
    fixture *f = *s;
    one_turn_round(f, (const int[]){1, 0, 0, 0});
    const char *first = str_at(f, "/starter");
    int seat = seat_of(f, first);
    fire_after(f, f->cfg.scoring_ms);
    assert_string_equal(pc_room_phase(f->room), "PREPARATION");
    assert_null(at(f, "/declared"));
    assert_null(at(f, "/turn"));
    assert_null(at(f, "/round_points"));
    fire_after(f, f->cfg.deal_ms);
    assert_int_equal(int_at(f, "/round"), 2);
    char ptr[16];
    snprintf(ptr, sizeof ptr, "/players/%d", (seat + 1) % PILES_PLAYERS);
    assert_string_equal(str_at(f, "/starter"), str_at(f, ptr));
    assert_int_equal(cJSON_GetArraySize(at(f, "/hands/dave")), PILES_HAND);
}

static void test_game_ends_after_the_round_someone_reaches_50(void **s)
{
    fixture *f = *s;
    start(f);
    declare_all(f, (const int[]){1, 0, 0, 0});
    const char *lead = str_at(f, "/turn/lead");
    cJSON *patch = cJSON_CreateObject();
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(patch, "scores"), lead, 48);
    assert_int_equal(pc_update_phase_data(f->room, patch, "rig"), PC_OK);
    cJSON_Delete(patch);
    const char *hands[] = {"R8a", "R1a", "R2a", "R3a"};
    rig(f, hands);
    for (int k = 0; k < PILES_PLAYERS; k++) {
        play_ids(f, after(f, lead, k), hands[k]);
    }
    fire_after(f, f->cfg.results_ms);
    fire_after(f, f->cfg.scoring_ms);
    assert_string_equal(pc_room_phase(f->room), "GAME_OVER");
    assert_string_equal(str_at(f, "/winners/0"), lead);
    assert_null(at(f, "/winners/1"));
    char want[96];
    snprintf(want, sizeof want,
             "game over after round 1: %s wins with 54 "
             "points",
             lead);
    assert_string_equal(reason_at(f, pc_room_seq(f->room)), want);
    assert_false(pc_room_timeout_deadline(f->room, NULL));
    assert_refused(f, lead, "play", "{\"pieces\":[\"R1a\"]}", "wrong_phase");
    assert_refused(f, "erin", "join", NULL, "room_full");
}

/* Fire every timer until GAME_OVER: nobody acts, timeouts play. */
static void autopilot(fixture *f)
{
    join_all(f);
    for (int i = 0;
         i < 100000 && strcmp(pc_room_phase(f->room), "GAME_OVER") != 0; i++) {
        int64_t deadline = 0;
        assert_true(pc_room_timeout_deadline(f->room, &deadline));
        now = deadline;
        assert_int_equal(pc_room_fire_timeout(f->room), PC_OK);
    }
    assert_string_equal(pc_room_phase(f->room), "GAME_OVER");
}

static void test_game_ends_after_20_rounds_without_a_50(void **s)
{
    fixture *f = *s;
    f->cfg.target_score = 10000;
    autopilot(f);
    assert_int_equal(int_at(f, "/round"), PILES_ROUNDS_DEFAULT);
}

static void test_timeouts_alone_play_a_whole_game(void **s)
{
    fixture *f = *s;
    autopilot(f);
    int top = -1000;
    for (int i = 0; i < PILES_PLAYERS; i++) {
        char ptr[32];
        snprintf(ptr, sizeof ptr, "/scores/%s", P[i]);
        top = int_at(f, ptr) > top ? int_at(f, ptr) : top;
    }
    assert_true(top >= PILES_TARGET_DEFAULT ||
                int_at(f, "/round") == PILES_ROUNDS_DEFAULT);
    char ptr[32];
    snprintf(ptr, sizeof ptr, "/scores/%s", str_at(f, "/winners/0"));
    assert_int_equal(int_at(f, ptr), top);
    assert_memory_equal(reason_at(f, pc_room_seq(f->room)), "game over", 9);
}

/* ---- robustness ------------------------------------------------------- */

static void test_a_failed_deal_changes_nothing_and_retries(void **s)
{
    fixture *f = *s;
    join_all(f);
    now += f->cfg.deal_ms;
    before b = snapshot(f);
    b.deadline = now + PILES_RETRY_MS;
    testalloc_fail_at(3, true);
    assert_int_equal(pc_room_fire_timeout(f->room), PC_OK);
    testalloc_fail_at(0, false);
    assert_unchanged(f, &b);
    fire_after(f, PILES_RETRY_MS);
    assert_string_equal(pc_room_phase(f->room), "DECLARATION");
}

static void test_validator_refuses_a_piece_in_two_hands(void **s)
{
    fixture *f = *s;
    start(f);
    const char *piece = at(f, "/hands/alice")->child->string;
    char patch[96];
    snprintf(patch, sizeof patch, "{\"hands\":{\"bob\":{\"%s\":true}}}", piece);
    before b = snapshot(f);
    assert_int_equal(pc_update_phase_text(f->room, patch, "cheat"),
                     PC_ERR_REJECTED);
    assert_string_equal(pc_room_last_error(f->room)->code, "bad_state");
    assert_unchanged(f, &b);
    assert_int_equal(
        pc_update_phase_text(f->room, "{\"to_act\":\"erin\"}", "cheat"),
        PC_ERR_REJECTED);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_exact_declaration_scores_plus_a_separate_bonus),
        T(test_missed_declarations_lose_the_difference),
        T(test_next_round_clears_the_table_and_rotates_the_starter),
        T(test_game_ends_after_the_round_someone_reaches_50),
        T(test_game_ends_after_20_rounds_without_a_50),
        T(test_timeouts_alone_play_a_whole_game),
        T(test_a_failed_deal_changes_nothing_and_retries),
        T(test_validator_refuses_a_piece_in_two_hands),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
