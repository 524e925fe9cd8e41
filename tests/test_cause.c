/*
 * test_cause.c - every change says which outside stimulus made it
 * (pc_change.cause): the room's start, an action, a timeout, or the host.
 * The outermost stimulus wins when callbacks chain (enter callbacks after
 * transitions, an action a timeout callback delivers); first_seq ties the
 * changes of one stimulus together; a refused action leaves nothing; the
 * journal sees the cause the sinks see; the history keeps causes, with
 * their own copies, through eviction; allocation failures leak nothing.
 * The change log's side is test_cause_log.c.
 */
#include "test_cause_fixture.h"

#include <stdbool.h>
#include <stdlib.h>

#include "phasecast/history.h"
#include "testalloc.h"

/* A second game whose callbacks chain:
 *   A --action "hop"--> B; A's timeout delivers "hop" as player "bot"
 *   B's enter: one update, then a transition to C
 *   C's enter: one update; C --action "back"--> A
 *   A's enter: one update (and arms A's timer) */
static void nest_enter_a(pc_room *room, const char *from, void *arg)
{
    (void)from;
    (void)arg;
    pc_update_phase_text(room, "{\"at\":\"a\"}", "in a");
}

static pc_err nest_action(pc_room *room, const pc_action *act, cJSON **result,
                          pc_error *err, void *arg)
{
    (void)result;
    (void)arg;
    const char *want = strcmp(pc_room_phase(room), "A") == 0 ? "hop" : "back";
    if (strcmp(act->type, want) != 0) {
        return pc_error_set(err, PC_ERR_ACTION, "refused", "no %s", act->type);
    }
    return pc_transition_text(room, want[0] == 'h' ? "B" : "A", "{}", want);
}

static void nest_timeout_a(pc_room *room, void *arg)
{
    (void)arg;
    pc_action hop = {.player = "bot", .type = "hop", .payload = NULL};
    assert_int_equal(pc_room_action(room, &hop, NULL, NULL), PC_OK);
}

static void nest_enter_b(pc_room *room, const char *from, void *arg)
{
    (void)from;
    (void)arg;
    pc_update_phase_text(room, "{\"at\":\"b\"}", "in b");
    pc_transition_text(room, "C", "{}", "on to c");
}

static void nest_enter_c(pc_room *room, const char *from, void *arg)
{
    (void)from;
    (void)arg;
    pc_update_phase_text(room, "{\"at\":\"c\"}", "in c");
}

static const pc_phase nest_phases[] = {
    {.name = "A",
     .enter = nest_enter_a,
     .action = nest_action,
     .timeout = nest_timeout_a,
     .timeout_ms = 500},
    {.name = "B", .enter = nest_enter_b},
    {.name = "C", .enter = nest_enter_c, .action = nest_action},
};
static const pc_game nest = {
    .name = "nest", .phases = nest_phases, .nphases = 3, .initial_phase = "A"};

/* The cause of seq in the room's history. */
static const pc_cause *cause_of(const pc_room *room, uint64_t seq)
{
    const pc_change *c = NULL;
    assert_int_equal(pc_history_get(room, seq, &c), PC_OK);
    return &c->cause;
}

static void test_sinks_see_the_outermost_stimulus(void **state)
{
    (void)state;
    pc_room *room = room_with(NULL, NULL);
    play(room);
    assert_int_equal(nseen, 7);
    check_causes(seen, (const char(*)[16])seen_player);
    /* The history keeps them, with the action's type and payload. */
    const pc_cause *c = cause_of(room, 3);
    assert_int_equal(c->kind, PC_CAUSE_ACTION);
    assert_string_equal(c->player, "alice");
    assert_string_equal(c->type, "go");
    assert_null(c->phase);
    assert_int_equal(
        cJSON_GetObjectItemCaseSensitive(c->payload, "n")->valueint, 5);
    c = cause_of(room, 6);
    assert_string_equal(c->phase, "PLAY");
    assert_null(c->player);
    assert_null(c->type);
    assert_null(c->payload);
    c = cause_of(room, 1);
    assert_null(c->phase);
    assert_null(c->payload);
    pc_room_free(room);
}

static void test_a_refused_action_leaves_no_trace(void **state)
{
    (void)state;
    pc_room *room = room_with(NULL, NULL);
    play(room);
    pc_action bad = {.player = "mallory", .type = "steal", .payload = NULL};
    pc_error err = {0};
    assert_int_equal(pc_room_action(room, &bad, NULL, &err), PC_ERR_ACTION);
    assert_string_equal(err.code, "refused");
    assert_int_equal(pc_room_seq(room), 7);
    assert_int_equal(nseen, 7);
    const pc_change *c = NULL;
    assert_int_equal(pc_history_get(room, 8, &c), PC_ERR_NOT_FOUND);
    /* The next change is the host's, begins its own stimulus and names no
     * player: nothing of the refused action lingers. */
    assert_int_equal(pc_update_phase_text(room, "{\"x\":1}", "after"), PC_OK);
    assert_int_equal(nseen, 8);
    assert_int_equal(seen[7].kind, PC_CAUSE_HOST);
    assert_int_equal(seen[7].first_seq, 8);
    assert_string_equal(seen_player[7], "");
    assert_null(cause_of(room, 8)->type);
    pc_room_free(room);
}

static pc_room *nest_room(void)
{
    pc_room_options ro;
    pc_room_options_init(&ro);
    ro.id = "n1";
    pc_room *room = NULL;
    assert_int_equal(pc_room_new(&nest, &ro, &room), PC_OK);
    assert_int_equal(pc_room_add_sink(room, sink, NULL), PC_OK);
    nseen = 0;
    return room;
}

/* Seqs first..first+n-1 all have this kind and first_seq. */
static void expect_run(int from, int n, pc_cause_kind kind, uint64_t first)
{
    for (int i = from; i < from + n; i++) {
        assert_int_equal(seen[i].kind, kind);
        assert_int_equal(seen[i].first_seq, first);
    }
}

static void test_chained_callbacks_share_the_outermost_cause(void **state)
{
    (void)state;
    pc_room *room = nest_room();
    assert_int_equal(pc_room_start(room), PC_OK); /* 1: A's enter */
    /* The host moves to B: B's enter updates and moves to C, whose enter
     * updates. Four changes, one HOST stimulus. */
    assert_int_equal(pc_transition_text(room, "B", "{}", "host moves"), PC_OK);
    assert_int_equal(pc_room_seq(room), 5);
    assert_string_equal(pc_room_phase(room), "C");
    /* An action from C back to A, whose enter updates: one ACTION. */
    cJSON *payload = cJSON_CreateString("please");
    pc_action back = {.player = "zed", .type = "back", .payload = payload};
    assert_int_equal(pc_room_action(room, &back, NULL, NULL), PC_OK);
    cJSON_Delete(payload);
    assert_int_equal(pc_room_seq(room), 7);
    /* A's timer fires; its callback delivers "hop" as a bot, which goes
     * through B to C: the action is inside the timeout, so all four
     * changes are the TIMEOUT's, of phase A. */
    assert_int_equal(pc_room_fire_timeout(room), PC_OK);
    assert_int_equal(pc_room_seq(room), 11);
    assert_int_equal(nseen, 11);
    expect_run(0, 1, PC_CAUSE_START, 1);
    expect_run(1, 4, PC_CAUSE_HOST, 2);
    expect_run(5, 2, PC_CAUSE_ACTION, 6);
    expect_run(7, 4, PC_CAUSE_TIMEOUT, 8);
    for (int i = 1; i <= 6; i++) {
        assert_string_equal(seen_player[i], i >= 5 ? "zed" : "");
    }
    for (uint64_t s = 8; s <= 11; s++) {
        const pc_cause *c = cause_of(room, s);
        assert_string_equal(c->phase, "A");
        assert_null(c->player);
    }
    const pc_cause *c = cause_of(room, 7);
    assert_string_equal(c->type, "back");
    assert_string_equal(c->payload->valuestring, "please");
    pc_room_free(room);
}

/* What the journal was shown. */
static pc_cause journaled[16];
static int njournaled;

static pc_err journal(pc_room *room, const pc_change *c, pc_error *why,
                      void *arg)
{
    (void)room;
    (void)why;
    (void)arg;
    assert_true(njournaled < 16);
    journaled[njournaled++] = c->cause;
    return PC_OK;
}

static void test_the_journal_sees_the_cause_the_sinks_see(void **state)
{
    (void)state;
    pc_room *room = room_with(NULL, NULL);
    njournaled = 0;
    pc_room_set_journal(room, journal, NULL, NULL);
    play(room);
    assert_int_equal(njournaled, 7);
    for (int i = 0; i < 7; i++) {
        assert_int_equal(journaled[i].kind, seen[i].kind);
        assert_int_equal(journaled[i].first_seq, seen[i].first_seq);
    }
    pc_room_free(room);
}

/* The step-k stimulus of the churn test, and what its cause must say. */
typedef struct expect {
    pc_cause_kind kind;
    int k; /* the action's step, for its player and payload */
} expect;

/* The retained records after play()'s seven. */
static void check_window(const pc_room *room, const expect *want)
{
    uint64_t last = pc_room_seq(room);
    uint64_t first = last - pc_history_count(room) + 1;
    for (uint64_t s = first > 7 ? first : 8; s <= last; s++) {
        const pc_cause *c = cause_of(room, s);
        assert_int_equal(c->kind, want[s].kind);
        assert_int_equal(c->first_seq, s); /* one change per stimulus */
        if (c->kind != PC_CAUSE_ACTION) {
            assert_null(c->player);
            assert_null(c->payload);
            continue;
        }
        char player[16];
        snprintf(player, sizeof player, "p%d", want[s].k);
        assert_string_equal(c->player, player);
        assert_string_equal(c->type, "big");
        const cJSON *i = cJSON_GetObjectItemCaseSensitive(c->payload, "i");
        const cJSON *pad = cJSON_GetObjectItemCaseSensitive(c->payload, "pad");
        assert_int_equal(i->valueint, want[s].k);
        assert_int_equal(strlen(pad->valuestring), (size_t)(want[s].k % 97));
    }
}

static void test_the_history_keeps_causes_through_eviction(void **state)
{
    (void)state;
    history_capacity = 5;
    pc_room *room = room_with(NULL, NULL);
    history_capacity = 0;
    play(room); /* seqs 1-7, in PLAY */
    static expect want[400];
    char pad[128];
    for (int k = 0; k < 300; k++) {
        if (k % 7 == 3) {
            assert_int_equal(pc_update_phase_text(room, "{\"h\":1}", "host"),
                             PC_OK);
            want[pc_room_seq(room)] = (expect){PC_CAUSE_HOST, k};
        } else if (k % 11 == 5) {
            assert_int_equal(pc_room_arm_timeout(room, 10), PC_OK);
            assert_int_equal(pc_room_fire_timeout(room), PC_OK);
            want[pc_room_seq(room)] = (expect){PC_CAUSE_TIMEOUT, k};
        } else {
            /* Payloads of varied sizes, freed before the history is read:
             * the records must hold copies. */
            memset(pad, 'a' + k % 26, (size_t)(k % 97));
            pad[k % 97] = '\0';
            cJSON *payload = cJSON_CreateObject();
            cJSON_AddNumberToObject(payload, "i", k);
            cJSON_AddStringToObject(payload, "pad", pad);
            char player[16];
            snprintf(player, sizeof player, "p%d", k);
            pc_action act = {
                .player = player, .type = "big", .payload = payload};
            pc_error e = {0};
            pc_err rv = pc_room_action(room, &act, NULL, &e);
            if (rv != PC_OK) {
                fail_msg("step %d: %s", k, e.message);
            }
            cJSON_Delete(payload);
            memset(player, 'X', sizeof player - 1);
            want[pc_room_seq(room)] = (expect){PC_CAUSE_ACTION, k};
        }
        check_window(room, want);
    }
    assert_int_equal(pc_history_count(room), 5);
    assert_int_equal(pc_room_seq(room), 307);
    pc_room_free(room);
}

static void test_allocation_failures_leave_no_cause_and_no_leak(void **state)
{
    (void)state;
    history_capacity = 4;
    pc_room *room = room_with(NULL, NULL);
    history_capacity = 0;
    play(room); /* the history ring is full: it never grows again */
    cJSON *payload = NULL;
    const char *text = "{\"k\":[1,2,{\"x\":\"y\"}],\"s\":\"zz\"}";
    assert_int_equal(pc_json_parse(text, strlen(text), NULL, &payload, NULL),
                     PC_OK);
    pc_action act = {.player = "erin", .type = "big", .payload = payload};
    bool done = false;
    for (size_t n = 1; !done; n++) {
        size_t live = testalloc_live();
        int before = nseen;
        testalloc_fail_at(n, false);
        pc_err rv = pc_room_action(room, &act, NULL, NULL);
        testalloc_fail_at(0, false);
        if (rv != PC_OK) {
            assert_int_equal(rv, PC_ERR_NOMEM);
            assert_int_equal(pc_room_seq(room), 7);
            assert_int_equal(nseen, before);
            assert_int_equal(testalloc_live(), live);
            continue;
        }
        done = true;
        assert_int_equal(pc_room_seq(room), 8);
        assert_int_equal(seen[nseen - 1].kind, PC_CAUSE_ACTION);
        assert_int_equal(seen[nseen - 1].first_seq, 8);
        const pc_cause *c = cause_of(room, 8);
        assert_string_equal(c->player, "erin");
        assert_true(pc_json_equal(c->payload, payload));
    }
    cJSON_Delete(payload);
    /* The next stimulus starts afresh. */
    assert_int_equal(pc_update_phase_text(room, "{\"y\":1}", "host"), PC_OK);
    assert_int_equal(cause_of(room, 9)->kind, PC_CAUSE_HOST);
    assert_int_equal(cause_of(room, 9)->first_seq, 9);
    pc_room_free(room);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sinks_see_the_outermost_stimulus),
        cmocka_unit_test(test_a_refused_action_leaves_no_trace),
        cmocka_unit_test(test_chained_callbacks_share_the_outermost_cause),
        cmocka_unit_test(test_the_journal_sees_the_cause_the_sinks_see),
        cmocka_unit_test(test_the_history_keeps_causes_through_eviction),
        cmocka_unit_test_setup_teardown(
            test_allocation_failures_leave_no_cause_and_no_leak,
            testalloc_setup, testalloc_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
