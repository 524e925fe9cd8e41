/*
 * test_room_journal.c - the room's journal hook, its failed state, the PRNG
 * draw counter and pc_room_restore: a change is journaled and committed, or
 * neither; a restored room continues where the image left off.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "phasecast/canon.h"
#include "phasecast/history.h"
#include "phasecast/room.h"
#include "testalloc.h"

static int enters;
static void on_enter(pc_room *room, const char *from, void *arg)
{
    (void)room;
    (void)from;
    (void)arg;
    enters++;
}

static void on_timeout(pc_room *room, void *arg)
{
    (void)room;
    (void)arg;
}

static const pc_phase phases[] = {
    {.name = "A", .enter = on_enter},
    {.name = "B", .enter = on_enter, .timeout = on_timeout, .timeout_ms = 500},
};
static const pc_game game = {.name = "journal", .phases = phases, .nphases = 2};

/* What the journal saw and what it should answer. */
typedef struct probe {
    int calls;
    pc_err answer;
    pc_change seen;
    uint64_t proposed_sum; /* checksum of pc_room_state inside the call */
    uint64_t draws;
    pc_err reentrant; /* what an update from inside returned */
    int sink_calls;
    pc_change sunk;
} probe;

static pc_err journal(pc_room *room, const pc_change *c, pc_error *why,
                      void *arg)
{
    probe *p = arg;
    p->calls++;
    p->seen = *c;
    p->seen.patch = NULL;
    assert_int_equal(
        pc_canon_checksum(pc_room_state(room), &p->proposed_sum, NULL), PC_OK);
    p->draws = pc_room_draws(room);
    p->reentrant = pc_update_phase_text(room, "{\"x\":1}", "inside");
    if (p->answer != PC_OK) {
        return pc_error_set(why, p->answer, "disk", "the disk said no");
    }
    return PC_OK;
}

static void sink(pc_room *room, const pc_change *c, void *arg)
{
    probe *p = arg;
    (void)room;
    p->sink_calls++;
    p->sunk = *c;
}

static pc_room *new_room(probe *p)
{
    pc_room_options o;
    pc_room_options_init(&o);
    o.seed = 7;
    o.seed_set = true;
    pc_room *room = NULL;
    assert_int_equal(pc_room_new(&game, &o, &room), PC_OK);
    pc_room_set_journal(room, journal, NULL, p);
    assert_int_equal(pc_room_add_sink(room, sink, p), PC_OK);
    assert_int_equal(pc_room_start(room), PC_OK);
    return room;
}

static void test_journal_sees_the_change_before_the_sinks_do(void **state)
{
    (void)state;
    probe p = {0};
    pc_room *room = new_room(&p);
    (void)pc_room_random(room);
    assert_int_equal(pc_update_phase_text(room, "{\"a\":1}", "set a"), PC_OK);
    assert_int_equal(p.calls, 1);
    assert_int_equal(p.sink_calls, 1);
    assert_int_equal(p.seen.seq, 1);
    assert_int_equal(p.sunk.seq, 1);
    assert_int_equal(p.seen.time_ms, p.sunk.time_ms);
    assert_int_equal(p.seen.checksum, p.sunk.checksum);
    assert_int_equal(p.seen.checksum, pc_room_checksum(room));
    assert_int_equal(p.proposed_sum, pc_room_checksum(room));
    assert_string_equal(p.seen.reason, "set a");
    assert_int_equal(p.seen.line, p.sunk.line);
    assert_int_equal(p.draws, 1);
    assert_int_equal(p.reentrant, PC_ERR_REENTRANT);
    assert_int_equal(pc_transition(room, "B", NULL, "to B"), PC_OK);
    assert_int_equal(p.seen.kind, PC_CHANGE_TRANSITION);
    assert_string_equal(p.seen.phase, "B");
    assert_string_equal(p.seen.prev_phase, "A");
    pc_room_free(room);
}

static void test_journal_io_failure_rolls_back_and_fails_the_room(void **state)
{
    (void)state;
    probe p = {0};
    pc_room *room = new_room(&p);
    assert_int_equal(pc_update_phase_text(room, "{\"a\":1}", "one"), PC_OK);
    uint64_t sum = pc_room_checksum(room);
    p.answer = PC_ERR_IO;
    assert_int_equal(pc_update_phase_text(room, "{\"a\":2}", "two"), PC_ERR_IO);
    assert_string_equal(pc_room_last_error(room)->code, "log_write_failed");
    assert_int_equal(pc_room_seq(room), 1);
    assert_int_equal(pc_room_checksum(room), sum);
    assert_int_equal(pc_history_count(room), 1);
    assert_int_equal(p.sink_calls, 1);
    pc_error why;
    assert_true(pc_room_failed(room, &why));
    assert_string_equal(why.code, "disk");

    /* Later changes and actions are refused without reaching the journal. */
    p.answer = PC_OK;
    int before = p.calls;
    assert_int_equal(pc_update_phase_text(room, "{\"a\":3}", "three"),
                     PC_ERR_IO);
    assert_string_equal(pc_room_last_error(room)->code, "room_failed");
    pc_action act = {.player = "p", .type = "t"};
    pc_error err = {0};
    assert_int_equal(pc_room_action(room, &act, NULL, &err), PC_ERR_IO);
    assert_string_equal(err.code, "room_failed");
    assert_int_equal(p.calls, before);

    /* An operator's fresh journal clears the failure. */
    pc_room_set_journal(room, journal, NULL, &p);
    assert_false(pc_room_failed(room, NULL));
    assert_int_equal(pc_update_phase_text(room, "{\"a\":3}", "three"), PC_OK);
    assert_int_equal(pc_room_seq(room), 2);
    pc_room_free(room);
}

static void test_journal_out_of_memory_refuses_but_room_carries_on(void **state)
{
    (void)state;
    probe p = {.answer = PC_ERR_NOMEM};
    pc_room *room = new_room(&p);
    assert_int_equal(pc_transition(room, "B", NULL, "to B"), PC_ERR_NOMEM);
    assert_string_equal(pc_room_phase(room), "A");
    assert_int_equal(pc_room_seq(room), 0);
    assert_false(pc_room_failed(room, NULL));
    p.answer = PC_OK;
    assert_int_equal(pc_transition(room, "B", NULL, "to B"), PC_OK);
    assert_int_equal(pc_room_seq(room), 1);
    pc_room_free(room);
}

static void test_refused_transition_runs_no_callback(void **state)
{
    (void)state;
    probe p = {.answer = PC_ERR_IO};
    enters = 0;
    pc_room *room = new_room(&p);
    assert_int_equal(enters, 1);
    assert_int_equal(pc_transition(room, "B", NULL, "to B"), PC_ERR_IO);
    assert_int_equal(enters, 1);
    assert_false(pc_room_timeout_deadline(room, NULL));
    pc_room_free(room);
}

static void test_draws_count_every_prng_output(void **state)
{
    (void)state;
    probe p = {0};
    pc_room *room = new_room(&p);
    assert_int_equal(pc_room_draws(room), 0);
    (void)pc_room_random(room);
    (void)pc_room_random_below(room, 6);
    assert_true(pc_room_draws(room) >= 2);
    pc_room_free(room);
}

static void test_restored_room_continues_seq_state_and_prng(void **state)
{
    (void)state;
    probe p = {0};
    pc_room *a = new_room(&p);
    assert_int_equal(pc_transition_text(a, "B", "{\"n\":1}", "go"), PC_OK);
    for (int i = 0; i < 5; i++) {
        (void)pc_room_random_below(a, 1000);
    }
    cJSON *snap = cJSON_Duplicate(pc_room_state(a), 1);
    int64_t a_deadline = -1;
    assert_true(pc_room_timeout_deadline(a, &a_deadline));
    pc_room_image img = {.state = snap,
                         .seq = pc_room_seq(a),
                         .seed = pc_room_seed(a),
                         .draws = pc_room_draws(a),
                         .timer = true,
                         .deadline_ms = a_deadline};
    pc_room *b = NULL;
    assert_int_equal(pc_room_restore(&game, NULL, &img, &b), PC_OK);
    cJSON_Delete(snap);
    assert_int_equal(pc_room_seq(b), pc_room_seq(a));
    assert_int_equal(pc_room_checksum(b), pc_room_checksum(a));
    assert_string_equal(pc_room_phase(b), "B");
    assert_int_equal(pc_room_draws(b), pc_room_draws(a));
    assert_int_equal(pc_history_count(b), 0);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(pc_room_random(b), pc_room_random(a));
    }
    enters = 0;
    assert_int_equal(pc_room_start(b), PC_OK);
    assert_int_equal(enters, 0);
    /* The timer fires when a's would: the image's deadline, not a fresh
     * timeout_ms from the restart. */
    int64_t deadline = 0;
    assert_true(pc_room_timeout_deadline(b, &deadline));
    assert_int_equal(deadline, a_deadline);
    assert_int_equal(pc_update_phase_text(a, "{\"n\":2}", "next"), PC_OK);
    assert_int_equal(pc_update_phase_text(b, "{\"n\":2}", "next"), PC_OK);
    assert_int_equal(pc_room_seq(b), pc_room_seq(a));
    assert_int_equal(pc_room_checksum(b), pc_room_checksum(a));
    pc_room_free(a);
    pc_room_free(b);
}

static void test_restore_refuses_bad_images(void **state)
{
    (void)state;
    pc_room *r = NULL;
    const char *bad[] = {"{\"phase\":\"A\"}", "{\"phase\":\"Z\",\"data\":{}}",
                         "{\"phase\":1,\"data\":{}}",
                         "{\"phase\":\"A\",\"data\":[]}",
                         "{\"phase\":\"A\",\"data\":{},\"x\":1}"};
    pc_err want[] = {PC_ERR_INVALID, PC_ERR_PHASE, PC_ERR_INVALID,
                     PC_ERR_INVALID, PC_ERR_INVALID};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cJSON *doc = cJSON_Parse(bad[i]);
        pc_room_image img = {.state = doc, .seq = 3};
        assert_int_equal(pc_room_restore(&game, NULL, &img, &r), want[i]);
        cJSON_Delete(doc);
    }
    assert_int_equal(pc_room_restore(&game, NULL, NULL, &r), PC_ERR_INVALID);
}

static void test_restore_out_of_memory_leaks_nothing(void **state)
{
    (void)state;
    cJSON *doc = cJSON_Parse("{\"phase\":\"B\",\"data\":{\"k\":[1,2,3]}}");
    pc_room_image img = {.state = doc, .seq = 9, .seed = 1, .draws = 3};
    for (size_t n = 1;; n++) {
        pc_room *r = NULL;
        size_t live = testalloc_live();
        testalloc_fail_at(n, false);
        pc_err rv = pc_room_restore(&game, NULL, &img, &r);
        testalloc_fail_at(0, false);
        if (rv == PC_OK) {
            assert_int_equal(pc_room_seq(r), 9);
            pc_room_free(r);
            break;
        }
        assert_int_equal(rv, PC_ERR_NOMEM);
        assert_int_equal(testalloc_live(), live);
    }
    cJSON_Delete(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_journal_sees_the_change_before_the_sinks_do, testalloc_setup,
            testalloc_teardown),
        cmocka_unit_test_setup_teardown(
            test_journal_io_failure_rolls_back_and_fails_the_room,
            testalloc_setup, testalloc_teardown),
        cmocka_unit_test_setup_teardown(
            test_journal_out_of_memory_refuses_but_room_carries_on,
            testalloc_setup, testalloc_teardown),
        cmocka_unit_test_setup_teardown(
            test_refused_transition_runs_no_callback, testalloc_setup,
            testalloc_teardown),
        cmocka_unit_test_setup_teardown(test_draws_count_every_prng_output,
                                        testalloc_setup, testalloc_teardown),
        cmocka_unit_test_setup_teardown(
            test_restored_room_continues_seq_state_and_prng, testalloc_setup,
            testalloc_teardown),
        cmocka_unit_test_setup_teardown(test_restore_refuses_bad_images,
                                        testalloc_setup, testalloc_teardown),
        cmocka_unit_test_setup_teardown(
            test_restore_out_of_memory_leaks_nothing, testalloc_setup,
            testalloc_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
