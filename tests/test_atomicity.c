/*
 * test_atomicity.c - fail allocation 1, 2, 3, ... of one update (and one
 * transition) until it succeeds; every failure must leave state, seq,
 * history and sinks exactly as they were and leak nothing, and the final
 * success must advance everything by exactly one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/history.h"
#include "phasecast/room.h"
#include "testalloc.h"

static pc_err always_ok(const pc_room *room, const cJSON *proposed,
                        pc_error *why, void *arg)
{
    (void)room;
    (void)proposed;
    (void)why;
    (void)arg;
    return PC_OK;
}

static const pc_phase phases[] = {
    {"A", NULL, NULL, NULL, NULL, 0},
    {"B", NULL, NULL, NULL, NULL, 0},
};
static const pc_game game = {
    .name = "atomic", .phases = phases, .nphases = 2, .validate = always_ok};

static void sink(pc_room *room, const pc_change *c, void *arg)
{
    (void)room;
    (void)c;
    (*(int *)arg)++;
}

static char *canon(const cJSON *doc)
{
    char *t = NULL;
    assert_int_equal(pc_canon_print(doc, &t, NULL), PC_OK);
    return t;
}

/* A room whose data has 50 members of mixed shapes. */
static pc_room *make_room(int *calls)
{
    pc_room_options o;
    pc_room_options_init(&o);
    o.history_capacity = 3; /* small, so the loop also crosses eviction */
    pc_room *room = NULL;
    assert_int_equal(pc_room_new(&game, &o, &room), PC_OK);
    assert_int_equal(pc_room_add_sink(room, sink, calls), PC_OK);
    assert_int_equal(pc_room_start(room), PC_OK);
    cJSON *init = cJSON_CreateObject();
    for (int i = 0; i < 50; i++) {
        char k[8];
        snprintf(k, sizeof(k), "m%02d", i);
        if (i % 3 == 0) {
            cJSON *o2 = cJSON_AddObjectToObject(init, k);
            cJSON_AddNumberToObject(o2, "x", i);
            cJSON_AddStringToObject(o2, "y", "old");
        } else {
            cJSON_AddNumberToObject(init, k, i);
        }
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pc_update_phase_data(room, init, "fill"), PC_OK);
    }
    cJSON_Delete(init);
    return room;
}

/* A 50-key patch: replaces, deletes, nested merges, type changes and new
 * members, so every allocation site of the apply is on the path. */
static cJSON *make_patch(void)
{
    cJSON *p = cJSON_CreateObject();
    for (int i = 0; i < 50; i++) {
        char k[8];
        snprintf(k, sizeof(k), i < 40 ? "m%02d" : "n%02d", i);
        switch (i % 5) {
        case 0:
            cJSON_AddNullToObject(p, k);
            break;
        case 1:
            cJSON_AddStringToObject(p, k, "new");
            break;
        case 2: {
            cJSON *o = cJSON_AddObjectToObject(p, k);
            cJSON_AddNumberToObject(o, "z", i);
            cJSON_AddNullToObject(o, "gone");
            break;
        }
        case 3: {
            cJSON *o = cJSON_AddObjectToObject(p, k);
            cJSON_AddNullToObject(o, "x");
            cJSON_AddStringToObject(o, "y", "changed");
            break;
        }
        default: {
            cJSON *a = cJSON_AddArrayToObject(p, k);
            cJSON_AddItemToArray(a, cJSON_CreateNumber(i));
            break;
        }
        }
    }
    return p;
}

typedef pc_err (*op_fn)(pc_room *room, const cJSON *patch);

static pc_err do_update(pc_room *room, const cJSON *patch)
{
    return pc_update_phase_data(room, patch, "fifty keys");
}

static pc_err do_transition(pc_room *room, const cJSON *patch)
{
    return pc_transition(room, "B", patch, "fifty keys and a phase");
}

/* One attempt on a fresh room with allocation n failing; returns true
 * when the operation ran without any injected failure (the loop is done). */
static bool attempt(op_fn op, size_t n, bool persistent, size_t *failures)
{
    int calls = 0;
    pc_room *room = make_room(&calls);
    cJSON *patch = make_patch();
    char *before = canon(pc_room_state(room));
    uint64_t seq = pc_room_seq(room);
    uint64_t first = pc_history_first_seq(room);
    size_t count = pc_history_count(room);
    size_t live = testalloc_live();

    testalloc_fail_at(n, persistent);
    pc_err rv = op(room, patch);
    bool injected = testalloc_failed();
    testalloc_fail_at(0, false);

    char *after = canon(pc_room_state(room));
    if (rv != PC_OK) {
        assert_true(injected);
        assert_int_equal(rv, PC_ERR_NOMEM);
        assert_int_equal(pc_room_last_error(room)->err, PC_ERR_NOMEM);
        assert_string_equal(after, before);
        assert_int_equal(pc_room_seq(room), seq);
        assert_int_equal(pc_history_first_seq(room), first);
        assert_int_equal(pc_history_count(room), count);
        assert_int_equal(calls, 4);
        assert_string_equal(pc_room_phase(room), "A");
        /* Nothing leaked by the failed attempt (after is the only new
         * block). */
        assert_int_equal(testalloc_live(), live + 1);
        (*failures)++;
    } else {
        /* Success, possibly after a failure the callee absorbed (the JSON
         * checker falls back to a slower scan): exactly one step forward. */
        assert_string_not_equal(after, before);
        assert_int_equal(pc_room_seq(room), seq + 1);
        assert_int_equal(calls, 5);
        const pc_change *c = NULL;
        assert_int_equal(pc_history_get(room, seq + 1, &c), PC_OK);
        cJSON *prev = NULL;
        assert_int_equal(pc_history_state_at(room, seq, &prev), PC_OK);
        char *prev_text = canon(prev);
        assert_string_equal(prev_text, before);
        pc_free(prev_text);
        cJSON_Delete(prev);
    }
    pc_free(before);
    pc_free(after);
    cJSON_Delete(patch);
    pc_room_free(room);
    assert_int_equal(testalloc_live(), 0);
    return !injected;
}

static void failure_loop(op_fn op, bool persistent)
{
    testalloc_install();
    assert_int_equal(testalloc_live(), 0);
    size_t failures = 0;
    size_t n = 1;
    while (!attempt(op, n, persistent, &failures)) {
        n++;
    }
    /* The patch allocates at dozens of points; all of them were tried. */
    assert_true(failures > 50);
}

static void test_update_is_atomic_when_any_allocation_fails_once(void **s)
{
    (void)s;
    failure_loop(do_update, false);
}

static void test_update_is_atomic_when_allocation_fails_persistently(void **s)
{
    (void)s;
    failure_loop(do_update, true);
}

static void test_transition_is_atomic_when_any_allocation_fails(void **s)
{
    (void)s;
    failure_loop(do_transition, false);
}

static void test_room_creation_fails_cleanly_at_every_allocation(void **s)
{
    (void)s;
    testalloc_install();
    assert_int_equal(testalloc_live(), 0);
    for (size_t n = 1;; n++) {
        pc_room *room = NULL;
        testalloc_fail_at(n, false);
        pc_err rv = pc_room_new(&game, NULL, &room);
        bool injected = testalloc_failed();
        testalloc_fail_at(0, false);
        if (rv == PC_OK) {
            assert_false(injected);
            pc_room_free(room);
            break;
        }
        assert_int_equal(rv, PC_ERR_NOMEM);
        assert_null(room);
        assert_int_equal(testalloc_live(), 0);
    }
    assert_int_equal(testalloc_live(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_update_is_atomic_when_any_allocation_fails_once),
        cmocka_unit_test(
            test_update_is_atomic_when_allocation_fails_persistently),
        cmocka_unit_test(test_transition_is_atomic_when_any_allocation_fails),
        cmocka_unit_test(test_room_creation_fails_cleanly_at_every_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
