/*
 * test_gm_oom.c - allocation-failure loops over what issue 10 added to a
 * room: pc_room_event and pc_room_event_to (public, one player, the game
 * master) and actions carrying expected_seq, both the stale one a strict
 * type refuses and the one that applies. For N = 1, 2, ... the Nth
 * allocation from the call on fails (once, then persistently: every one
 * from the Nth), until the call runs without an injected failure. After
 * every attempt the state, seq, history, change log (a real file, read
 * back with pc_changelog_verify) and the sink standing for the broadcast
 * have either all stayed exactly as they were, with PC_ERR_NOMEM and no
 * block leaked, or all advanced by exactly one change; the room never
 * fails for want of memory. The game is arena (support/arenagame.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/changelog.h"
#include "phasecast/history.h"
#include "phasecast/room.h"
#include "arenagame.h"
#include "testalloc.h"

static char dir[64];
static char path[128];

static int make_dir(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/pc-gmoom-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    snprintf(path, sizeof path, "%s/g.pclog", dir);
    return testalloc_setup(state);
}

static int remove_dir(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    int failed = testalloc_teardown(state);
    return system(cmd) == 0 && failed == 0 ? 0 : -1;
}

static int64_t fixed_clock(void *arg)
{
    (void)arg;
    return 1700000000000;
}

static void count_sink(pc_room *room, const pc_change *c, void *arg)
{
    (void)room;
    (void)c;
    (*(int *)arg)++;
}

/* A logged arena room (history of 4, so pushes evict) with alice and bob
 * seated and a monster of 1000 hit points. */
typedef struct table {
    pc_room *room;
    pc_changelog *log;
    int sent; /* changes the sink saw */
} table;

static void act_ok(pc_room *room, const char *player, pc_role role,
                   const char *type, const char *payload)
{
    cJSON *p = payload != NULL ? cJSON_Parse(payload) : NULL;
    pc_action a = {.player = player, .type = type, .payload = p, .role = role};
    assert_int_equal(pc_room_action(room, &a, NULL, NULL), PC_OK);
    cJSON_Delete(p);
}

static void open_table(table *t)
{
    arenagame_init();
    pc_room_options ro;
    pc_room_options_init(&ro);
    ro.id = "g";
    ro.history_capacity = 4;
    ro.seed = 7;
    ro.seed_set = true;
    ro.clock = fixed_clock;
    pc_changelog_options lo;
    pc_changelog_options_init(&lo);
    lo.dir = dir;
    lo.fsync = PC_FSYNC_ALWAYS;
    pc_error err = {0};
    t->sent = 0;
    assert_int_equal(pc_room_new(arenagame(), &ro, &t->room), PC_OK);
    assert_int_equal(pc_changelog_create(&lo, t->room, &t->log, &err), PC_OK);
    assert_int_equal(pc_room_add_sink(t->room, count_sink, &t->sent), PC_OK);
    assert_int_equal(pc_room_start(t->room), PC_OK);
    act_ok(t->room, "alice", PC_ROLE_PLAYER, "join", NULL);
    act_ok(t->room, "bob", PC_ROLE_PLAYER, "join", NULL);
    act_ok(t->room, "gm", PC_ROLE_GM, "add", "{\"id\":\"orc\",\"hp\":1000}");
    for (int i = 0; i < 4; i++) {
        act_ok(t->room, "alice", PC_ROLE_PLAYER, "say", "[1,{\"x\":\"y\"}]");
    }
}

static void close_table(table *t)
{
    pc_room_free(t->room);
    pc_changelog_free(t->log);
    assert_int_equal(remove(path), 0); /* the next table logs afresh */
}

/* Everything an attempt may change. */
typedef struct probe {
    char *state; /* canonical text (pc_free) */
    uint64_t seq, first, sum;
    size_t count;
    uint64_t log_last, log_records;
    int sent;
} probe;

static void look(const table *t, probe *p)
{
    assert_int_equal(pc_canon_print(pc_room_state(t->room), &p->state, NULL),
                     PC_OK);
    p->seq = pc_room_seq(t->room);
    p->sum = pc_room_checksum(t->room);
    p->first = pc_history_first_seq(t->room);
    p->count = pc_history_count(t->room);
    pc_changelog_report rep;
    assert_int_equal(pc_changelog_verify(path, &rep), PC_OK);
    assert_int_equal(rep.problem, PC_CHANGELOG_CLEAN);
    p->log_last = rep.last_seq;
    p->log_records = rep.records;
    p->sent = t->sent;
    assert_int_equal(p->log_last, p->seq);
}

/* What one attempt does, and whether it may change the state itself
 * (an event never does). */
typedef struct op {
    pc_err (*fn)(pc_room *room, const cJSON *data);
    const char *data; /* JSON text handed to fn, parsed beforehand */
    bool changes_state;
    pc_err refusal; /* PC_OK, or the refusal it always gets */
} op;

static void compare(const probe *a, const probe *b, bool advanced,
                    bool changes_state)
{
    if (!advanced) {
        assert_string_equal(b->state, a->state);
        assert_int_equal(b->seq, a->seq);
        assert_int_equal(b->sum, a->sum);
        assert_int_equal(b->first, a->first);
        assert_int_equal(b->count, a->count);
        assert_int_equal(b->log_records, a->log_records);
        assert_int_equal(b->sent, a->sent);
        return;
    }
    assert_int_equal(b->seq, a->seq + 1);
    assert_int_equal(b->log_records, a->log_records + 1);
    assert_int_equal(b->sent, a->sent + 1);
    /* The history is full: the push evicted the oldest. */
    assert_int_equal(b->count, a->count);
    assert_int_equal(b->first, a->first + 1);
    if (changes_state) {
        assert_string_not_equal(b->state, a->state);
    } else {
        assert_string_equal(b->state, a->state);
        assert_int_equal(b->sum, a->sum);
    }
}

/* Fail allocation 1, 2, ... of op until it runs clean; returns how many
 * attempts failed. */
static int failure_loop(const op *o, bool persistent)
{
    table t;
    open_table(&t);
    cJSON *data = cJSON_Parse(o->data);
    int failures = 0;
    for (size_t n = 1;; n++) {
        probe a, b;
        look(&t, &a);
        size_t live = testalloc_live();
        testalloc_fail_at(n, persistent);
        pc_err rc = o->fn(t.room, data);
        bool injected = testalloc_failed();
        testalloc_fail_at(0, false);
        look(&t, &b);
        assert_false(pc_room_failed(t.room, NULL));
        bool advanced = rc == PC_OK;
        compare(&a, &b, advanced, o->changes_state);
        if (!advanced) {
            assert_int_equal(testalloc_live(), live + 1); /* b.state */
            if (rc == PC_ERR_NOMEM) {
                assert_true(injected);
                assert_int_equal(pc_room_last_error(t.room)->err, PC_ERR_NOMEM);
            } else {
                assert_int_equal(rc, o->refusal);
            }
        }
        pc_free(a.state);
        pc_free(b.state);
        if (!injected) {
            assert_int_equal(rc, o->refusal);
            break;
        }
        failures++;
    }
    cJSON_Delete(data);
    close_table(&t);
    return failures;
}

static pc_err event_public(pc_room *room, const cJSON *data)
{
    return pc_room_event(room, "cheer", data, "the crowd cheers");
}

static pc_err event_player(pc_room *room, const cJSON *data)
{
    return pc_room_event_to(room, PC_AUDIENCE_PLAYER, "alice", "whisper", data,
                            "a whisper");
}

static pc_err event_gm(pc_room *room, const cJSON *data)
{
    return pc_room_event_to(room, PC_AUDIENCE_GM, NULL, "gm.note", data,
                            "a note");
}

/* hit is strict: with expected_seq at the room's seq it applies ... */
static pc_err hit_expected(pc_room *room, const cJSON *data)
{
    pc_action a = {.player = "alice",
                   .type = "hit",
                   .payload = data,
                   .has_expected_seq = true,
                   .expected_seq = pc_room_seq(room)};
    return pc_room_action(room, &a, NULL, NULL);
}

/* ... and one seq behind it is refused with a conflict. */
static pc_err hit_stale(pc_room *room, const cJSON *data)
{
    pc_action a = {.player = "bob",
                   .type = "hit",
                   .payload = data,
                   .has_expected_seq = true,
                   .expected_seq = pc_room_seq(room) - 1};
    return pc_room_action(room, &a, NULL, NULL);
}

#define EVENT_DATA "{\"text\":\"a long way down\",\"n\":[1,2,{\"k\":null}]}"
#define HIT        "{\"target\":\"orc\",\"dmg\":1}"

static const op ops[] = {
    {event_public, EVENT_DATA, false, PC_OK},
    {event_player, EVENT_DATA, false, PC_OK},
    {event_gm, EVENT_DATA, false, PC_OK},
    {hit_expected, HIT, true, PC_OK},
    {hit_stale, HIT, false, PC_ERR_CONFLICT},
};

static void run_both(const op *o, int at_least)
{
    assert_true(failure_loop(o, false) >= at_least);
    assert_true(failure_loop(o, true) >= at_least);
}

static void test_public_event_is_atomic_when_allocation_fails(void **state)
{
    (void)state;
    run_both(&ops[0], 3);
}

static void test_player_event_is_atomic_when_allocation_fails(void **state)
{
    (void)state;
    run_both(&ops[1], 3);
}

static void test_gm_event_is_atomic_when_allocation_fails(void **state)
{
    (void)state;
    run_both(&ops[2], 3);
}

static void
test_expected_seq_action_is_atomic_when_allocation_fails(void **state)
{
    (void)state;
    run_both(&ops[3], 10);
}

static void
test_stale_action_changes_nothing_when_allocation_fails(void **state)
{
    (void)state;
    /* The conflict is decided before anything is allocated for the
     * change: maybe no allocation at all, and never a change. */
    run_both(&ops[4], 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_public_event_is_atomic_when_allocation_fails),
        T(test_player_event_is_atomic_when_allocation_fails),
        T(test_gm_event_is_atomic_when_allocation_fails),
        T(test_expected_seq_action_is_atomic_when_allocation_fails),
        T(test_stale_action_changes_nothing_when_allocation_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
