/*
 * test_tictactoe.c - the example game played to every outcome through the
 * public API, every refusal shown to change nothing, the validator, the bot
 * and replay from a seed. Each test runs in a fresh started room and ends
 * with no allocation left alive.
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

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/change.h"
#include "phasecast/error.h"
#include "phasecast/history.h"
#include "phasecast/json.h"
#include "phasecast/room.h"
#include "testalloc.h"
#include "tictactoe/bot.h"
#include "tictactoe/tictactoe.h"

/* One started tictactoe room and what its sink saw. */
typedef struct fixture {
    pc_room *room;
    int changes; /* sink calls */
} fixture;

static fixture fx;
static size_t baseline; /* live blocks when the test started */

static void count_change(pc_room *room, const pc_change *change, void *arg)
{
    (void)room;
    (void)change;
    ((fixture *)arg)->changes++;
}

static int setup(void **state)
{
    testalloc_install();
    baseline = testalloc_live();
    memset(&fx, 0, sizeof fx);
    pc_room_options opts;
    pc_room_options_init(&opts);
    opts.seed = 42;
    opts.seed_set = true;
    if (pc_room_new(tictactoe_game(), &opts, &fx.room) != PC_OK ||
        pc_room_add_sink(fx.room, count_change, &fx) != PC_OK ||
        pc_room_start(fx.room) != PC_OK) {
        return -1;
    }
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pc_room_free(fx.room);
    fx.room = NULL;
    assert_int_equal(testalloc_live(), baseline);
    return 0;
}

/* Send an action whose payload is JSON text (NULL for none). */
static pc_err act(pc_room *room, const char *player, const char *type,
                  const char *payload, pc_error *err)
{
    cJSON *p = payload != NULL ? cJSON_Parse(payload) : NULL;
    if (payload != NULL) {
        assert_non_null(p);
    }
    pc_action a = {.player = player, .type = type, .payload = p};
    pc_err rc = pc_room_action(room, &a, NULL, err);
    cJSON_Delete(p);
    return rc;
}

static pc_err move(pc_room *room, const char *player, int cell)
{
    char payload[32];
    snprintf(payload, sizeof payload, "{\"cell\":%d}", cell);
    return act(room, player, "move", payload, NULL);
}

static void join_both(fixture *f)
{
    assert_int_equal(act(f->room, "alice", "join", NULL, NULL), PC_OK);
    assert_int_equal(act(f->room, "bob", "join", NULL, NULL), PC_OK);
}

/* Join alice (X) and bob (O), then play cells alternately from X, checking
 * that each accepted move commits exactly one change. */
static void play(fixture *f, const int *cells, size_t n)
{
    join_both(f);
    for (size_t i = 0; i < n; i++) {
        uint64_t seq = pc_room_seq(f->room);
        int changes = f->changes;
        assert_int_equal(move(f->room, i % 2 == 0 ? "alice" : "bob", cells[i]),
                         PC_OK);
        assert_int_equal(pc_room_seq(f->room), seq + 1);
        assert_int_equal(f->changes, changes + 1);
    }
}

static const char *data_string(const pc_room *room, const char *pointer)
{
    return cJSON_GetStringValue(
        pc_json_pointer_get(pc_room_data(room), pointer));
}

static void assert_finished(const pc_room *room, const char *winner)
{
    assert_string_equal(pc_room_phase(room), "FINISHED");
    assert_string_equal(data_string(room, "/winner"), winner);
    assert_null(pc_json_pointer_get(pc_room_data(room), "/turn"));
}

/* Everything a refused action must leave as it was. */
typedef struct before {
    uint64_t seq;
    uint64_t checksum;
    size_t history;
    int changes;
    char *canon;
} before;

static before snapshot(const fixture *f)
{
    before b = {pc_room_seq(f->room), pc_room_checksum(f->room),
                pc_history_count(f->room), f->changes, NULL};
    assert_int_equal(pc_canon_print(pc_room_state(f->room), &b.canon, NULL),
                     PC_OK);
    return b;
}

static void assert_unchanged(const fixture *f, before *b)
{
    char *now = NULL;
    assert_int_equal(pc_canon_print(pc_room_state(f->room), &now, NULL), PC_OK);
    bool same = strcmp(now, b->canon) == 0;
    pc_free(now);
    pc_free(b->canon);
    assert_true(same);
    assert_int_equal(pc_room_seq(f->room), b->seq);
    assert_int_equal(pc_room_checksum(f->room), b->checksum);
    assert_int_equal(pc_history_count(f->room), b->history);
    assert_int_equal(f->changes, b->changes);
}

/* The action is refused with err and code, and nothing changes. */
static void assert_refused(const fixture *f, const char *player,
                           const char *type, const char *payload, pc_err want,
                           const char *code)
{
    before b = snapshot(f);
    pc_error err = {0};
    assert_int_equal(act(f->room, player, type, payload, &err), want);
    assert_int_equal(err.err, want);
    assert_string_equal(err.code, code);
    assert_true(err.message[0] != '\0');
    assert_unchanged(f, &b);
}

/* ---- joining ---------------------------------------------------------- */

static void test_first_joiner_plays_x_and_the_room_keeps_waiting(void **s)
{
    fixture *f = *s;
    assert_int_equal(pc_room_seq(f->room), 0);
    assert_int_equal(act(f->room, "alice", "join", NULL, NULL), PC_OK);
    assert_int_equal(pc_room_seq(f->room), 1);
    assert_string_equal(pc_room_phase(f->room), "WAITING");
    assert_string_equal(data_string(f->room, "/players/X"), "alice");
    assert_null(pc_json_pointer_get(pc_room_data(f->room), "/board"));
}

static void
test_second_joiner_plays_o_and_starts_the_game_in_one_change(void **s)
{
    fixture *f = *s;
    join_both(f);
    assert_int_equal(pc_room_seq(f->room), 2);
    assert_int_equal(f->changes, 2);
    assert_string_equal(pc_room_phase(f->room), "PLAYING");
    assert_string_equal(data_string(f->room, "/players/O"), "bob");
    assert_string_equal(data_string(f->room, "/turn"), "X");
    const cJSON *board = pc_json_pointer_get(pc_room_data(f->room), "/board");
    assert_int_equal(cJSON_GetArraySize(board), TICTACTOE_CELLS);
    const cJSON *cell;
    cJSON_ArrayForEach(cell, board)
    {
        assert_string_equal(cJSON_GetStringValue(cell), "");
    }
    const pc_change *c = NULL;
    assert_int_equal(pc_history_get(f->room, 2, &c), PC_OK);
    assert_int_equal(c->kind, PC_CHANGE_TRANSITION);
    assert_string_equal(c->prev_phase, "WAITING");
    assert_string_equal(c->phase, "PLAYING");
}

static void test_joining_twice_while_waiting_is_refused(void **s)
{
    fixture *f = *s;
    assert_int_equal(act(f->room, "alice", "join", NULL, NULL), PC_OK);
    assert_refused(f, "alice", "join", NULL, PC_ERR_ACTION, "already_joined");
}

static void test_joining_again_while_playing_is_refused(void **s)
{
    fixture *f = *s;
    join_both(f);
    assert_refused(f, "bob", "join", NULL, PC_ERR_ACTION, "already_joined");
}

static void test_third_player_is_refused_because_the_room_is_full(void **s)
{
    fixture *f = *s;
    join_both(f);
    assert_refused(f, "carol", "join", NULL, PC_ERR_ACTION, "room_full");
}

/* ---- outcomes --------------------------------------------------------- */

static void test_x_wins_with_a_row(void **s)
{
    fixture *f = *s;
    play(f, (const int[]){0, 3, 1, 4, 2}, 5);
    assert_finished(f->room, "X");
    assert_int_equal(pc_room_seq(f->room), 7);
}

static void test_x_wins_with_a_column(void **s)
{
    fixture *f = *s;
    play(f, (const int[]){1, 0, 4, 2, 7}, 5);
    assert_finished(f->room, "X");
}

static void test_x_wins_with_either_diagonal(void **s)
{
    fixture *f = *s;
    play(f, (const int[]){0, 1, 4, 2, 8}, 5);
    assert_finished(f->room, "X");
    pc_room_free(f->room);
    f->room = NULL;
    assert_int_equal(setup(s), 0);
    play(f, (const int[]){2, 0, 4, 1, 6}, 5);
    assert_finished(f->room, "X");
}

static void test_o_wins_with_a_row(void **s)
{
    fixture *f = *s;
    play(f, (const int[]){0, 3, 1, 4, 8, 5}, 6);
    assert_finished(f->room, "O");
    assert_int_equal(pc_room_seq(f->room), 8);
}

static void test_full_board_without_a_line_is_a_draw(void **s)
{
    fixture *f = *s;
    play(f, (const int[]){0, 1, 2, 4, 3, 5, 7, 6, 8}, 9);
    assert_finished(f->room, "draw");
    assert_int_equal(pc_room_seq(f->room), 11);
}

static void test_line_made_on_the_ninth_cell_wins_rather_than_draws(void **s)
{
    fixture *f = *s;
    play(f, (const int[]){0, 1, 2, 4, 3, 5, 7, 8, 6}, 9);
    assert_finished(f->room, "X");
}

static void test_history_records_every_change_with_its_reason(void **s)
{
    fixture *f = *s;
    play(f, (const int[]){4, 0, 8, 2, 1, 7, 6, 5, 3}, 9);
    static const char *const reasons[] = {
        "alice joins as X", "bob joins as O",       "X plays cell 4",
        "O plays cell 0",   "X plays cell 8",       "O plays cell 2",
        "X plays cell 1",   "O plays cell 7",       "X plays cell 6",
        "O plays cell 5",   "X plays cell 3: draw",
    };
    assert_int_equal(pc_history_count(f->room), 11);
    for (uint64_t seq = 1; seq <= 11; seq++) {
        const pc_change *c = NULL;
        assert_int_equal(pc_history_get(f->room, seq, &c), PC_OK);
        assert_string_equal(c->reason, reasons[seq - 1]);
        assert_non_null(strstr(c->file, "tictactoe.c"));
    }
    assert_finished(f->room, "draw");
}

static void test_winning_move_is_one_transition_with_the_board(void **s)
{
    fixture *f = *s;
    play(f, (const int[]){0, 3, 1, 4, 2}, 5);
    const pc_change *c = NULL;
    assert_int_equal(pc_history_get(f->room, 7, &c), PC_OK);
    assert_int_equal(c->kind, PC_CHANGE_TRANSITION);
    assert_string_equal(c->reason, "X plays cell 2 and wins");
    assert_string_equal(c->phase, "FINISHED");
    assert_non_null(cJSON_GetObjectItemCaseSensitive(c->patch, "board"));
    assert_true(
        cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(c->patch, "turn")));
    cJSON *before_win = NULL;
    assert_int_equal(pc_history_state_at(f->room, 6, &before_win), PC_OK);
    assert_string_equal(
        cJSON_GetStringValue(pc_json_pointer_get(before_win, "/phase")),
        "PLAYING");
    cJSON_Delete(before_win);
}

/* ---- refused moves ---------------------------------------------------- */

static void test_move_out_of_turn_is_refused_and_changes_nothing(void **s)
{
    fixture *f = *s;
    join_both(f);
    assert_refused(f, "bob", "move", "{\"cell\":4}", PC_ERR_ACTION,
                   "not_your_turn");
    assert_int_equal(move(f->room, "alice", 4), PC_OK);
    assert_refused(f, "alice", "move", "{\"cell\":0}", PC_ERR_ACTION,
                   "not_your_turn");
}

static void test_move_on_a_taken_cell_is_refused_and_changes_nothing(void **s)
{
    fixture *f = *s;
    play(f, (const int[]){4}, 1);
    assert_refused(f, "bob", "move", "{\"cell\":4}", PC_ERR_ACTION,
                   "cell_taken");
}

static void test_cell_out_of_range_is_refused_and_changes_nothing(void **s)
{
    fixture *f = *s;
    join_both(f);
    static const char *const bad[] = {"{\"cell\":9}", "{\"cell\":-1}",
                                      "{\"cell\":1e300}", "{\"cell\":-0.5}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_refused(f, "alice", "move", bad[i], PC_ERR_ACTION, "bad_cell");
    }
}

static void test_non_integer_cell_is_refused_and_changes_nothing(void **s)
{
    fixture *f = *s;
    join_both(f);
    static const char *const bad[] = {"{\"cell\":4.5}",
                                      "{\"cell\":\"4\"}",
                                      "{\"cell\":true}",
                                      "{\"cell\":null}",
                                      "{\"cell\":[4]}",
                                      "{\"cell\":{}}",
                                      "[4]",
                                      "4",
                                      "\"cell\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_refused(f, "alice", "move", bad[i], PC_ERR_ACTION, "bad_cell");
    }
}

static void test_move_without_a_cell_is_refused_and_changes_nothing(void **s)
{
    fixture *f = *s;
    join_both(f);
    assert_refused(f, "alice", "move", NULL, PC_ERR_ACTION, "bad_cell");
    assert_refused(f, "alice", "move", "{}", PC_ERR_ACTION, "bad_cell");
    assert_refused(f, "alice", "move", "{\"Cell\":4}", PC_ERR_ACTION,
                   "bad_cell");
}

static void test_move_by_a_spectator_is_refused_and_changes_nothing(void **s)
{
    fixture *f = *s;
    join_both(f);
    assert_refused(f, "carol", "move", "{\"cell\":4}", PC_ERR_ACTION,
                   "not_a_player");
}

static void test_move_while_waiting_is_refused_and_changes_nothing(void **s)
{
    fixture *f = *s;
    assert_refused(f, "alice", "move", "{\"cell\":4}", PC_ERR_ACTION,
                   "not_started");
    assert_int_equal(act(f->room, "alice", "join", NULL, NULL), PC_OK);
    assert_refused(f, "alice", "move", "{\"cell\":4}", PC_ERR_ACTION,
                   "not_started");
}

static void test_unknown_action_is_refused_and_changes_nothing(void **s)
{
    fixture *f = *s;
    join_both(f);
    assert_refused(f, "alice", "resign", NULL, PC_ERR_ACTION, "unknown_action");
}

static void test_actions_after_the_game_are_refused_by_the_framework(void **s)
{
    fixture *f = *s;
    play(f, (const int[]){0, 3, 1, 4, 2}, 5);
    assert_refused(f, "bob", "move", "{\"cell\":8}", PC_ERR_PHASE,
                   "no_actions_in_phase");
    assert_refused(f, "carol", "join", NULL, PC_ERR_PHASE,
                   "no_actions_in_phase");
}

/* ---- validator -------------------------------------------------------- */

/* A direct update that the validator must refuse with code. */
static void assert_rejected_update(const fixture *f, const char *patch,
                                   const char *code)
{
    before b = snapshot(f);
    assert_int_equal(pc_update_phase_text(f->room, patch, "cheat"),
                     PC_ERR_REJECTED);
    const pc_error *e = pc_room_last_error(f->room);
    assert_int_equal(e->err, PC_ERR_REJECTED);
    assert_string_equal(e->code, code);
    assert_unchanged(f, &b);
}

static void test_validator_refuses_boards_that_break_the_invariant(void **s)
{
    fixture *f = *s;
    join_both(f);
    assert_rejected_update(f,
                           "{\"board\":[\"X\",\"X\",\"\",\"\",\"\",\"\","
                           "\"\",\"\",\"\"]}",
                           "bad_board");
    assert_rejected_update(f,
                           "{\"board\":[\"O\",\"\",\"\",\"\",\"\",\"\","
                           "\"\",\"\",\"\"]}",
                           "bad_board");
    assert_rejected_update(f,
                           "{\"board\":[\"\",\"\",\"\",\"\",\"\",\"\","
                           "\"\",\"\"]}",
                           "bad_board");
    assert_rejected_update(f,
                           "{\"board\":[\"Z\",\"\",\"\",\"\",\"\",\"\","
                           "\"\",\"\",\"\"]}",
                           "bad_board");
    assert_rejected_update(f, "{\"board\":null}", "bad_board");
    assert_rejected_update(f, "{\"board\":\".........\"}", "bad_board");
}

static void
test_validator_refuses_a_turn_that_disagrees_with_the_board(void **s)
{
    fixture *f = *s;
    join_both(f);
    assert_rejected_update(f, "{\"turn\":\"O\"}", "bad_turn");
    assert_rejected_update(f, "{\"turn\":null}", "bad_turn");
    assert_rejected_update(f, "{\"turn\":\"\"}", "bad_turn");
}

/* ---- robustness ------------------------------------------------------- */

/* Replace the fixture's room with a fresh one, X to win at cell 2. */
static void x_to_win_at_2(void **s)
{
    fixture *f = *s;
    pc_room_free(f->room);
    f->room = NULL;
    assert_int_equal(setup(s), 0);
    play(f, (const int[]){0, 3, 1, 4}, 4);
}

static void test_winning_move_is_atomic_when_any_allocation_fails(void **s)
{
    fixture *f = *s;
    for (size_t n = 1; n < 10000; n++) {
        x_to_win_at_2(s);
        cJSON *payload = cJSON_Parse("{\"cell\":2}");
        assert_non_null(payload);
        pc_action a = {.player = "alice", .type = "move", .payload = payload};
        before b = snapshot(f);
        testalloc_fail_at(n, false);
        pc_err rc = pc_room_action(f->room, &a, NULL, NULL);
        bool failed = testalloc_failed();
        testalloc_fail_at(0, false);
        cJSON_Delete(payload);
        if (rc != PC_OK) {
            assert_true(failed);
            assert_unchanged(f, &b);
            continue;
        }
        pc_free(b.canon);
        assert_int_equal(pc_room_seq(f->room), b.seq + 1);
        assert_finished(f->room, "X");
        if (!failed) {
            return; /* every allocation point has been failed once */
        }
    }
    fail_msg("the move never ran without an injected failure");
}

/* ---- bot and replay --------------------------------------------------- */

static int bot_on(const char *board_json, const char *mark, uint64_t rnd)
{
    cJSON *data = cJSON_Parse(board_json);
    assert_non_null(data);
    int cell = -1;
    pc_err rc = tictactoe_bot_move(data, mark, rnd, &cell);
    cJSON_Delete(data);
    return rc == PC_OK ? cell : -(int)rc;
}

static void test_bot_takes_a_winning_cell_before_blocking(void **s)
{
    (void)s;
    /* X . X / O O . / . . . : X wins at 1, O would win at 5. */
    const char *b = "{\"board\":[\"X\",\"\",\"X\",\"O\",\"O\",\"\","
                    "\"\",\"\",\"\"]}";
    assert_int_equal(bot_on(b, "X", 0), 1);
    assert_int_equal(bot_on(b, "O", 0), 5);
}

static void test_bot_blocks_the_opponents_line(void **s)
{
    (void)s;
    /* X X . / . O . / . . . : O has no win and must block at 2. */
    const char *b = "{\"board\":[\"X\",\"X\",\"\",\"\",\"O\",\"\","
                    "\"\",\"\",\"\"]}";
    for (uint64_t r = 0; r < 8; r++) {
        assert_int_equal(bot_on(b, "O", r), 2);
    }
}

static void test_bot_picks_a_free_cell_by_the_random_value(void **s)
{
    (void)s;
    const char *b = "{\"board\":[\"X\",\"\",\"\",\"\",\"\",\"\","
                    "\"\",\"\",\"\"]}";
    /* Free cells are 1..8; the pick is free[rnd % 8]. */
    for (uint64_t r = 0; r < 16; r++) {
        assert_int_equal(bot_on(b, "O", r), (int)(r % 8) + 1);
    }
}

static void test_bot_refuses_bad_input_and_full_boards(void **s)
{
    (void)s;
    assert_int_equal(bot_on("{}", "X", 0), -(int)PC_ERR_INVALID);
    assert_int_equal(bot_on("{\"board\":[\"\"]}", "X", 0),
                     -(int)PC_ERR_INVALID);
    assert_int_equal(
        bot_on("{\"board\":[\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"]}",
               "Z", 0),
        -(int)PC_ERR_INVALID);
    assert_int_equal(bot_on("{\"board\":[\"X\",\"O\",\"X\",\"X\",\"O\",\"O\","
                            "\"O\",\"X\",\"X\"]}",
                            "X", 0),
                     -(int)PC_ERR_NOT_FOUND);
}

/* Two bots play a room to the end; returns its final checksum. */
static uint64_t bot_game(fixture *f)
{
    join_both(f);
    while (strcmp(pc_room_phase(f->room), "PLAYING") == 0) {
        char mark[2] = {data_string(f->room, "/turn")[0], '\0'};
        int cell = -1;
        assert_int_equal(tictactoe_bot_move(pc_room_data(f->room), mark,
                                            pc_room_random(f->room), &cell),
                         PC_OK);
        assert_int_equal(move(f->room, mark[0] == 'X' ? "alice" : "bob", cell),
                         PC_OK);
    }
    return pc_room_checksum(f->room);
}

static void test_same_seed_replays_the_same_bot_game(void **s)
{
    fixture *f = *s;
    uint64_t first = bot_game(f);
    uint64_t seq = pc_room_seq(f->room);
    pc_room_free(f->room);
    f->room = NULL;
    assert_int_equal(setup(s), 0);
    assert_int_equal(bot_game(f), first);
    assert_int_equal(pc_room_seq(f->room), seq);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_first_joiner_plays_x_and_the_room_keeps_waiting),
        T(test_second_joiner_plays_o_and_starts_the_game_in_one_change),
        T(test_joining_twice_while_waiting_is_refused),
        T(test_joining_again_while_playing_is_refused),
        T(test_third_player_is_refused_because_the_room_is_full),
        T(test_x_wins_with_a_row),
        T(test_x_wins_with_a_column),
        T(test_x_wins_with_either_diagonal),
        T(test_o_wins_with_a_row),
        T(test_full_board_without_a_line_is_a_draw),
        T(test_line_made_on_the_ninth_cell_wins_rather_than_draws),
        T(test_history_records_every_change_with_its_reason),
        T(test_winning_move_is_one_transition_with_the_board),
        T(test_move_out_of_turn_is_refused_and_changes_nothing),
        T(test_move_on_a_taken_cell_is_refused_and_changes_nothing),
        T(test_cell_out_of_range_is_refused_and_changes_nothing),
        T(test_non_integer_cell_is_refused_and_changes_nothing),
        T(test_move_without_a_cell_is_refused_and_changes_nothing),
        T(test_move_by_a_spectator_is_refused_and_changes_nothing),
        T(test_move_while_waiting_is_refused_and_changes_nothing),
        T(test_unknown_action_is_refused_and_changes_nothing),
        T(test_actions_after_the_game_are_refused_by_the_framework),
        T(test_validator_refuses_boards_that_break_the_invariant),
        T(test_validator_refuses_a_turn_that_disagrees_with_the_board),
        T(test_winning_move_is_atomic_when_any_allocation_fails),
        T(test_bot_takes_a_winning_cell_before_blocking),
        T(test_bot_blocks_the_opponents_line),
        T(test_bot_picks_a_free_cell_by_the_random_value),
        T(test_bot_refuses_bad_input_and_full_boards),
        T(test_same_seed_replays_the_same_bot_game),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
