/*
 * test_room_clock.c - the room's time during a stimulus: every change an
 * action, a timer firing or a host change makes, and every timer it arms,
 * count from the clock as it read when that stimulus began, however many
 * times the clock is read (or moves) while the callbacks run. This is what
 * lets phasecast-inspect import, which sets its clock once per stimulus,
 * reproduce a served game's change times and timer deadlines exactly.
 * The clock here ticks one millisecond on every reading.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "phasecast/history.h"
#include "phasecast/room.h"
#include "testalloc.h"

#define T0 1800000000000LL

static int64_t ticks; /* readings so far */

/* A clock that moves on by 1 ms every time it is read. */
static int64_t ticking_clock(void *arg)
{
    (void)arg;
    return T0 + ticks++;
}

/* "go": two updates and a timer armed in between, then a transition
 * whose enter callback makes one more change. */
static pc_err lobby_action(pc_room *room, const pc_action *act, cJSON **result,
                           pc_error *err, void *arg)
{
    (void)result;
    (void)arg;
    if (strcmp(act->type, "go") != 0) {
        return pc_error_set(err, PC_ERR_ACTION, "unknown_action", "no");
    }
    pc_err rv = pc_update_phase_text(room, "{\"a\":1}", "first");
    if (rv == PC_OK) {
        rv = pc_room_arm_timeout(room, 1000);
    }
    if (rv == PC_OK) {
        rv = pc_update_phase_text(room, "{\"b\":2}", "second");
    }
    return rv == PC_OK ? pc_transition(room, "PLAY", NULL, "third") : rv;
}

static void lobby_timeout(pc_room *room, void *arg)
{
    (void)arg;
    assert_int_equal(pc_update_phase_text(room, "{\"t\":1}", "late"), PC_OK);
    assert_int_equal(pc_room_arm_timeout(room, 500), PC_OK);
}

static void play_enter(pc_room *room, const char *from, void *arg)
{
    (void)from;
    (void)arg;
    assert_int_equal(pc_room_arm_timeout(room, 250), PC_OK);
    assert_int_equal(pc_update_phase_text(room, "{\"c\":3}", "entered"), PC_OK);
}

static void play_timeout(pc_room *room, void *arg)
{
    (void)room;
    (void)arg;
}

static const pc_phase phases[] = {
    {"LOBBY", NULL, NULL, lobby_action, lobby_timeout, 0},
    {"PLAY", play_enter, NULL, NULL, play_timeout, 0},
};

static const pc_game game = {
    .name = "clockgame", .phases = phases, .nphases = 2};

static pc_room *make_room(void)
{
    pc_room_options o;
    pc_room_options_init(&o);
    o.id = "c1";
    o.clock = ticking_clock;
    o.seed = 1;
    o.seed_set = true;
    pc_room *room = NULL;
    assert_int_equal(pc_room_new(&game, &o, &room), PC_OK);
    assert_int_equal(pc_room_start(room), PC_OK);
    return room;
}

static int64_t time_of(pc_room *room, uint64_t seq)
{
    const pc_change *c = NULL;
    assert_int_equal(pc_history_get(room, seq, &c), PC_OK);
    return c->time_ms;
}

static void test_one_action_has_one_time_for_changes_and_timers(void **s)
{
    (void)s;
    ticks = 0;
    pc_room *room = make_room();
    uint64_t before = pc_room_seq(room);
    /* Outside a stimulus the clock is read afresh. */
    int64_t a = pc_room_now_ms(room);
    int64_t b = pc_room_now_ms(room);
    assert_true(b > a);

    int64_t start = T0 + ticks; /* the reading the action will begin with */
    pc_action act = {.player = "p", .type = "go"};
    pc_error err = {0};
    assert_int_equal(pc_room_action(room, &act, NULL, &err), PC_OK);
    assert_int_equal(pc_room_seq(room), before + 4);
    for (uint64_t s2 = before + 1; s2 <= before + 4; s2++) {
        assert_int_equal(time_of(room, s2), start);
    }
    /* PLAY's enter armed 250 ms from the action's start, not from a later
     * reading (the clock was read many times since). */
    int64_t deadline = 0;
    assert_true(pc_room_timeout_deadline(room, &deadline));
    assert_int_equal(deadline, start + 250);
    /* Once the action is over, the clock reads afresh again. */
    assert_true(pc_room_now_ms(room) > start);
    pc_room_free(room);
}

static void test_a_timer_firing_is_one_stimulus_with_one_time(void **s)
{
    (void)s;
    ticks = 0;
    pc_room *room = make_room();
    assert_int_equal(pc_room_arm_timeout(room, 10), PC_OK);
    uint64_t before = pc_room_seq(room);
    int64_t fired = T0 + ticks;
    assert_int_equal(pc_room_fire_timeout(room), PC_OK);
    assert_int_equal(pc_room_seq(room), before + 1);
    assert_int_equal(time_of(room, before + 1), fired);
    int64_t deadline = 0;
    assert_true(pc_room_timeout_deadline(room, &deadline));
    assert_int_equal(deadline, fired + 500);
    pc_room_free(room);
}

static void test_a_host_change_and_its_enter_callback_share_a_time(void **s)
{
    (void)s;
    ticks = 0;
    pc_room *room = make_room();
    uint64_t before = pc_room_seq(room);
    int64_t start = T0 + ticks;
    assert_int_equal(pc_transition(room, "PLAY", NULL, "host moved on"), PC_OK);
    assert_int_equal(pc_room_seq(room), before + 2);
    assert_int_equal(time_of(room, before + 1), start);
    assert_int_equal(time_of(room, before + 2), start);
    int64_t deadline = 0;
    assert_true(pc_room_timeout_deadline(room, &deadline));
    assert_int_equal(deadline, start + 250);
    pc_room_free(room);
}

#define T(f)                                                                   \
    cmocka_unit_test_setup_teardown(f, testalloc_setup, testalloc_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_one_action_has_one_time_for_changes_and_timers),
        T(test_a_timer_firing_is_one_stimulus_with_one_time),
        T(test_a_host_change_and_its_enter_callback_share_a_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
