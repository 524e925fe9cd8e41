/*
 * test_piles.c - the piles rules up to a turn's winner, played through the
 * framework only: seating, the deal, declarations and their constraint,
 * every play type, turn winners, the declaration and turn timers on an
 * injected clock, and refusals that change nothing (test_piles_rounds.c
 * goes on with scoring and the end of rounds and games). Hands are rigged
 * with direct updates where a test needs particular pieces. Each test runs
 * in a fresh started room and ends with no allocation left alive.
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

/* ---- seating and the deal --------------------------------------------- */

static void test_three_joins_seat_players_and_the_lobby_waits(void **s)
{
    fixture *f = *s;
    for (int i = 0; i < 3; i++) {
        accept(f, P[i], "join", NULL);
    }
    assert_string_equal(pc_room_phase(f->room), "LOBBY");
    assert_string_equal(str_at(f, "/players/2"), "carol");
    assert_int_equal(int_at(f, "/scores/carol"), 0);
    assert_string_equal(reason_at(f, 3), "carol joins in seat 3");
    assert_false(pc_room_timeout_deadline(f->room, NULL));
}

static void test_fourth_join_fills_the_table_and_enters_preparation(void **s)
{
    fixture *f = *s;
    join_all(f);
    assert_string_equal(pc_room_phase(f->room), "PREPARATION");
    assert_string_equal(reason_at(f, 4),
                        "dave joins in seat 4; the table is full");
    assert_null(at(f, "/hands"));
    int64_t deadline = 0;
    assert_true(pc_room_timeout_deadline(f->room, &deadline));
    assert_int_equal(deadline, T0 + f->cfg.deal_ms);
}

static void test_joining_twice_a_full_table_or_a_bad_name_is_refused(void **s)
{
    fixture *f = *s;
    assert_refused(f, "", "join", NULL, "bad_name");
    assert_refused(f, "R1a", "join", NULL, "bad_name");
    accept(f, "alice", "join", NULL);
    assert_refused(f, "alice", "join", NULL, "already_joined");
    for (int i = 1; i < PILES_PLAYERS; i++) {
        accept(f, P[i], "join", NULL);
    }
    assert_refused(f, "erin", "join", NULL, "room_full");
    assert_refused(f, "bob", "join", NULL, "already_joined");
}

static void test_deal_gives_eight_pieces_each_from_one_deck(void **s)
{
    fixture *f = *s;
    start(f);
    bool seen[PILES_DECK] = {false};
    for (int i = 0; i < PILES_PLAYERS; i++) {
        char ptr[32];
        snprintf(ptr, sizeof ptr, "/hands/%s", P[i]);
        const cJSON *hand = at(f, ptr), *piece;
        assert_int_equal(cJSON_GetArraySize(hand), PILES_HAND);
        cJSON_ArrayForEach(piece, hand)
        {
            int id = piles_piece_parse(piece->string);
            assert_true(id >= 0 && !seen[id] && cJSON_IsTrue(piece));
            seen[id] = true;
        }
        snprintf(ptr, sizeof ptr, "/captured/%s", P[i]);
        assert_int_equal(int_at(f, ptr), 0);
    }
    assert_int_equal(int_at(f, "/round"), 1);
    assert_string_equal(str_at(f, "/to_act"), str_at(f, "/starter"));
    char want[128];
    snprintf(want, sizeof want,
             "round 1: 8 pieces dealt to each player; %s declares first",
             str_at(f, "/starter"));
    assert_string_equal(reason_at(f, 5), want);
}

/* The canonical text of data after the deal in a room seeded with seed. */
static char *deal_with_seed(fixture *f, uint64_t seed)
{
    pc_room_free(f->room);
    f->room = NULL;
    now = T0;
    assert_int_equal(open_room(f, seed), 0);
    start(f);
    char *text = NULL;
    assert_int_equal(pc_canon_print(pc_room_data(f->room), &text, NULL), PC_OK);
    return text;
}

static void test_same_seed_deals_the_same_hands_and_starter(void **s)
{
    fixture *f = *s;
    char *a = deal_with_seed(f, 7), *b = deal_with_seed(f, 7);
    char *c = deal_with_seed(f, 8);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    pc_free(a);
    pc_free(b);
    pc_free(c);
}

/* ---- declarations ----------------------------------------------------- */

static void test_declarations_go_in_turn_order_from_the_starter(void **s)
{
    fixture *f = *s;
    start(f);
    const char *starter = str_at(f, "/starter");
    assert_refused(f, after(f, starter, 1), "declare", "{\"piles\":1}",
                   "not_your_turn");
    for (int k = 0; k < PILES_PLAYERS; k++) {
        assert_string_equal(str_at(f, "/to_act"), after(f, starter, k));
        accept(f, after(f, starter, k), "declare", "{\"piles\":1}");
    }
    char want[64];
    snprintf(want, sizeof want, "%s declares 1", after(f, starter, 3));
    assert_string_equal(reason_at(f, pc_room_seq(f->room)), want);
    assert_string_equal(pc_room_phase(f->room), "TURN");
    assert_string_equal(str_at(f, "/turn/lead"), starter);
    assert_string_equal(str_at(f, "/to_act"), starter);
    assert_int_equal(int_at(f, "/turn/number"), 1);
}

static void test_last_declarer_may_not_bring_the_total_to_eight(void **s)
{
    fixture *f = *s;
    start(f);
    for (int k = 0; k < 3; k++) {
        accept(f, str_at(f, "/to_act"), "declare", "{\"piles\":2}");
    }
    assert_refused(f, str_at(f, "/to_act"), "declare", "{\"piles\":2}",
                   "sum_forbidden");
    accept(f, str_at(f, "/to_act"), "declare", "{\"piles\":3}");
    assert_string_equal(pc_room_phase(f->room), "TURN");
}

static void test_malformed_declarations_are_refused(void **s)
{
    fixture *f = *s;
    start(f);
    static const char *const bad[] = {NULL,
                                      "{}",
                                      "{\"piles\":-1}",
                                      "{\"piles\":9}",
                                      "{\"piles\":2.5}",
                                      "{\"piles\":\"2\"}",
                                      "{\"piles\":null}",
                                      "{\"piles\":1,\"x\":0}",
                                      "[1]",
                                      "1",
                                      "{\"Piles\":1}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_refused(f, str_at(f, "/to_act"), "declare", bad[i],
                       "bad_declaration");
    }
}

static void test_declaration_timeout_declares_zero_and_says_so(void **s)
{
    fixture *f = *s;
    start(f);
    const char *who = str_at(f, "/to_act");
    fire_after(f, f->cfg.declare_ms);
    char want[96];
    snprintf(want, sizeof want, "%s's declaration timed out: default 0", who);
    assert_string_equal(reason_at(f, pc_room_seq(f->room)), want);
    char ptr[32];
    snprintf(ptr, sizeof ptr, "/declared/%s", who);
    assert_int_equal(int_at(f, ptr), 0);
}

static void test_each_declaration_gives_the_next_declarer_full_time(void **s)
{
    fixture *f = *s;
    start(f);
    now += 25000;
    accept(f, str_at(f, "/to_act"), "declare", "{\"piles\":1}");
    int64_t deadline = 0;
    assert_true(pc_room_timeout_deadline(f->room, &deadline));
    assert_int_equal(deadline, now + f->cfg.declare_ms);
}

static void test_timed_out_last_declarer_gets_one_where_zero_is_banned(void **s)
{
    fixture *f = *s;
    start(f);
    static const char *const v[] = {"{\"piles\":3}", "{\"piles\":3}",
                                    "{\"piles\":2}"};
    for (int k = 0; k < 3; k++) {
        accept(f, str_at(f, "/to_act"), "declare", v[k]);
    }
    const char *who = str_at(f, "/to_act");
    char want[96];
    snprintf(want, sizeof want, "%s's declaration timed out: default 1", who);
    fire_after(f, f->cfg.declare_ms);
    assert_string_equal(reason_at(f, pc_room_seq(f->room)), want);
    assert_string_equal(pc_room_phase(f->room), "TURN");
}

/* ---- plays and winners ------------------------------------------------ */

static void test_every_play_type_may_lead(void **s)
{
    fixture *f = *s;
    static const char *const leads[] = {"B5a", "R5a B5b", "R2a B3a R4b",
                                        "R2a R3a R4a R5a R6a R7a"};
    static const char *const types[] = {"single", "pair", "straight",
                                        "straight"};
    static const char *const names[] = {"single", "pair", "straight",
                                        "flush straight"};
    for (size_t i = 0; i < 4; i++) {
        if (i > 0) {
            pc_room_free(f->room);
            f->room = NULL;
            assert_int_equal(open_room(f, 42), 0);
        }
        start(f);
        declare_all(f, some);
        const char *hands[] = {leads[i], "R1a R1b B1a B1b B2a B2b",
                               "R8a R8b B8a B8b R7b B7a", "B7b B6a B6b R6b"};
        rig(f, hands);
        const char *lead = str_at(f, "/turn/lead");
        play_ids(f, lead, leads[i]);
        assert_string_equal(str_at(f, "/turn/type"), types[i]);
        char want[96];
        snprintf(want, sizeof want, "%s leads %s %s", lead, names[i], leads[i]);
        assert_string_equal(reason_at(f, pc_room_seq(f->room)), want);
    }
}

static void test_leads_that_form_no_play_are_refused(void **s)
{
    fixture *f = *s;
    start(f);
    declare_all(f, some);
    const char *hands[] = {"R1a R1b R2a R4a B5a B6a B7a", "R3a", "R3b", "B3a"};
    rig(f, hands);
    const char *lead = str_at(f, "/turn/lead");
    static const char *const bad[] = {
        "{\"pieces\":[\"R1a\",\"R2a\"]}",         /* pair of two ranks */
        "{\"pieces\":[\"R1a\",\"R2a\",\"R4a\"]}", /* gap */
        "{\"pieces\":[\"R1a\",\"R1b\",\"R2a\"]}", /* rank twice */
        "{\"pieces\":[\"B5a\",\"B7a\",\"B6a\",\"R4a\",\"R1a\"]}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_refused(f, lead, "play", bad[i], "invalid_play");
    }
}

static void test_malformed_plays_are_refused(void **s)
{
    fixture *f = *s;
    start(f);
    declare_all(f, some);
    const char *lead = str_at(f, "/to_act");
    static const char *const bad[] = {
        NULL,
        "{}",
        "{\"pieces\":[]}",
        "{\"pieces\":\"R1a\"}",
        "{\"pieces\":[\"R1a\",\"R1a\"]}",
        "{\"pieces\":[\"X9z\"]}",
        "{\"pieces\":[\"R9a\"]}",
        "{\"pieces\":[\"r1a\"]}",
        "{\"pieces\":[1]}",
        "{\"pieces\":[\"R1a\"],\"x\":1}",
        "{\"pieces\":[\"R1a\",\"R2a\",\"R3a\",\"R4a\",\"R5a\",\"R6a\","
        "\"R7a\"]}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_refused(f, lead, "play", bad[i], "bad_play");
    }
}

static void test_pieces_not_in_hand_and_wrong_counts_are_refused(void **s)
{
    fixture *f = *s;
    start(f);
    declare_all(f, some);
    const char *hands[] = {"R1a R2a", "R3a B3a", "R4a", "R5a"};
    rig(f, hands);
    const char *lead = str_at(f, "/turn/lead");
    assert_refused(f, lead, "play", "{\"pieces\":[\"R3a\"]}", "not_in_hand");
    assert_refused(f, lead, "play", "{\"pieces\":[\"R1a\",\"R2a\",\"R3a\"]}",
                   "wrong_count");
    play_ids(f, lead, "R1a");
    assert_refused(f, after(f, lead, 1), "play",
                   "{\"pieces\":[\"R3a\",\"B3a\"]}", "wrong_count");
    assert_refused(f, after(f, lead, 1), "play", "{\"pieces\":[\"R4a\"]}",
                   "not_in_hand");
    assert_refused(f, after(f, lead, 2), "play", "{\"pieces\":[\"R4a\"]}",
                   "not_your_turn");
    assert_refused(f, lead, "play", "{\"pieces\":[\"R2a\"]}", "not_your_turn");
}

static void test_actions_in_the_wrong_phase_or_from_strangers(void **s)
{
    fixture *f = *s;
    accept(f, "alice", "join", NULL);
    assert_refused(f, "alice", "declare", "{\"piles\":1}", "wrong_phase");
    assert_refused(f, "alice", "play", "{\"pieces\":[\"R1a\"]}", "wrong_phase");
    for (int i = 1; i < PILES_PLAYERS; i++) {
        accept(f, P[i], "join", NULL);
    }
    assert_refused(f, "alice", "declare", "{\"piles\":1}", "wrong_phase");
    fire_after(f, f->cfg.deal_ms);
    assert_refused(f, str_at(f, "/to_act"), "play", "{\"pieces\":[\"R1a\"]}",
                   "wrong_phase");
    assert_refused(f, "erin", "declare", "{\"piles\":1}", "not_a_player");
    assert_refused(f, "alice", "pass", NULL, "unknown_action");
    declare_all(f, some);
    assert_refused(f, str_at(f, "/to_act"), "declare", "{\"piles\":1}",
                   "wrong_phase");
}

static void test_strongest_single_wins_and_ties_go_to_the_earlier(void **s)
{
    fixture *f = *s;
    const char *hands[] = {"R3a", "R5a", "B5a", "R4a"};
    assert_int_equal(turn_with(f, some, hands, hands), 1);
    const char *lead = str_at(f, "/turn/lead");
    const char *w = str_at(f, "/turn/winner");
    char ptr[32], want[128];
    snprintf(ptr, sizeof ptr, "/captured/%s", w);
    assert_int_equal(int_at(f, ptr), 1);
    snprintf(want, sizeof want,
             "%s plays single R4a; %s wins turn 1 and captures 1 pile",
             after(f, lead, 3), w);
    assert_string_equal(reason_at(f, pc_room_seq(f->room)), want);
}

static void test_strongest_pair_wins_and_discards_never_do(void **s)
{
    fixture *f = *s;
    const char *hands[] = {"R2a R2b", "B6a B6b", "R8a B7a", "R6a R6b"};
    assert_int_equal(turn_with(f, some, hands, hands), 1);
    char ptr[32];
    snprintf(ptr, sizeof ptr, "/captured/%s", str_at(f, "/turn/winner"));
    assert_int_equal(int_at(f, ptr), 2);
}

static void test_a_lead_beaten_only_by_discards_wins(void **s)
{
    fixture *f = *s;
    const char *hands[] = {"R1a R1b", "R8a B7a", "R8b B7b", "B8b B6a"};
    assert_int_equal(turn_with(f, some, hands, hands), 0);
}

static void test_flush_straight_beats_a_higher_plain_straight(void **s)
{
    fixture *f = *s;
    const char *hands[] = {"R1a B2a R3a", "R4a R5a B6a", "B3a B4a B5a",
                           "R6b R7b B8a"};
    assert_int_equal(turn_with(f, some, hands, hands), 2);
    char ptr[32];
    snprintf(ptr, sizeof ptr, "/captured/%s", str_at(f, "/turn/winner"));
    assert_int_equal(int_at(f, ptr), 3);
}

static void test_six_piece_straights_compare_by_top_rank(void **s)
{
    fixture *f = *s;
    const char *hands[] = {"R1a R2a R3a R4a R5a R6a", "B1a B2a B3a B4a B5a B6a",
                           "R2b R3b R4b R5b R6b R7b",
                           "B2b B3b B4b B5b R7a B7a"};
    assert_int_equal(turn_with(f, some, hands, hands), 2);
}

static void test_turn_timeout_plays_the_lowest_pieces(void **s)
{
    fixture *f = *s;
    start(f);
    declare_all(f, some);
    const char *hands[] = {"B2a R1b R5a", "R3a R2b B7a", "R4a R6a B8a",
                           "R7a R8a B6a"};
    rig(f, hands);
    const char *lead = str_at(f, "/turn/lead");
    char want[96];
    fire_after(f, f->cfg.play_ms);
    snprintf(want, sizeof want, "%s's turn timed out: leads single R1b", lead);
    assert_string_equal(reason_at(f, pc_room_seq(f->room)), want);
    now += 5000;
    play_ids(f, after(f, lead, 1), "R2b");
    fire_after(f, f->cfg.play_ms);
    snprintf(want, sizeof want, "%s's turn timed out: plays single R4a",
             after(f, lead, 2));
    assert_string_equal(reason_at(f, pc_room_seq(f->room)), want);
}

static void test_turn_winner_leads_the_next_turn_after_the_pause(void **s)
{
    fixture *f = *s;
    const char *hands[] = {"R3a R1a", "R5a R1b", "B5a B1a", "R4a B1b"};
    const char *plays[] = {"R3a", "R5a", "B5a", "R4a"};
    turn_with(f, some, hands, plays);
    const char *w = after(f, str_at(f, "/turn/lead"), 1);
    assert_null(at(f, "/to_act"));
    fire_after(f, f->cfg.results_ms);
    assert_string_equal(pc_room_phase(f->room), "TURN");
    assert_string_equal(str_at(f, "/turn/lead"), w);
    assert_string_equal(str_at(f, "/to_act"), w);
    assert_int_equal(int_at(f, "/turn/number"), 2);
    assert_null(at(f, "/turn/plays"));
    assert_null(at(f, "/turn/count"));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_three_joins_seat_players_and_the_lobby_waits),
        T(test_fourth_join_fills_the_table_and_enters_preparation),
        T(test_joining_twice_a_full_table_or_a_bad_name_is_refused),
        T(test_deal_gives_eight_pieces_each_from_one_deck),
        T(test_same_seed_deals_the_same_hands_and_starter),
        T(test_declarations_go_in_turn_order_from_the_starter),
        T(test_last_declarer_may_not_bring_the_total_to_eight),
        T(test_malformed_declarations_are_refused),
        T(test_declaration_timeout_declares_zero_and_says_so),
        T(test_each_declaration_gives_the_next_declarer_full_time),
        T(test_timed_out_last_declarer_gets_one_where_zero_is_banned),
        T(test_every_play_type_may_lead),
        T(test_leads_that_form_no_play_are_refused),
        T(test_malformed_plays_are_refused),
        T(test_pieces_not_in_hand_and_wrong_counts_are_refused),
        T(test_actions_in_the_wrong_phase_or_from_strangers),
        T(test_strongest_single_wins_and_ties_go_to_the_earlier),
        T(test_strongest_pair_wins_and_discards_never_do),
        T(test_a_lead_beaten_only_by_discards_wins),
        T(test_flush_straight_beats_a_higher_plain_straight),
        T(test_six_piece_straights_compare_by_top_rank),
        T(test_turn_timeout_plays_the_lowest_pieces),
        T(test_turn_winner_leads_the_next_turn_after_the_pause),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
