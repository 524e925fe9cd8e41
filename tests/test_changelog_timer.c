/*
 * test_changelog_timer.c - a recovered room's phase timer fires when the
 * original's would have. The log records every arm, disarm and firing of
 * the timer (timer records, and the deadline in each base record), so a
 * game that arms its own timers from enter callbacks with
 * pc_room_arm_timeout, as piles does, does not stall after a restart. A
 * clock the test controls makes every deadline exact.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasecast/changelog.h"
#include "phasecast/room.h"
#include "failpoint.h"

#define T0 1700000000000LL

static char dir[64];
#define DELAY 1234

static int64_t now_ms = T0;

static int64_t fake_clock(void *arg)
{
    (void)arg;
    return now_ms;
}

/* Every enter callback's runs, and the phase the last one came from. */
static int enters;
static char entered_from[16];

static void count_enter(const char *from)
{
    enters++;
    snprintf(entered_from, sizeof(entered_from), "%s",
             from != NULL ? from : "(start)");
}

/* Set by a test: the log as a crash at that moment would leave it. */
static char snap_dir[80];
static bool snap_in_exit, snap_in_timeout, snap_in_enter;
static void snapshot_log(void);

/* WAIT arms its own timer (no timeout_ms); its timeout moves to DONE. */
static void wait_enter(pc_room *room, const char *from, void *arg)
{
    (void)arg;
    count_enter(from);
    if (snap_in_enter) { /* entered, nothing of the callback's logged */
        snapshot_log();
    }
    assert_int_equal(pc_room_arm_timeout(room, DELAY), PC_OK);
}

static void snapshot_log(void)
{
    char from[160], to[160], cmd[400];
    snprintf(from, sizeof(from), "%s/t1.pclog", dir);
    snprintf(to, sizeof(to), "%s/t1.pclog", snap_dir);
    snprintf(cmd, sizeof(cmd), "cp %s %s", from, to);
    assert_int_equal(system(cmd), 0);
}

static void wait_exit(pc_room *room, const char *to, void *arg)
{
    (void)room;
    (void)to;
    (void)arg;
    if (snap_in_exit) { /* the change is logged, its timer records not */
        snapshot_log();
    }
}

/* LONG's own timer (timeout_ms) goes back to WAIT. */
static void long_timeout(pc_room *room, void *arg)
{
    (void)arg;
    assert_int_equal(
        pc_transition_text(room, "WAIT", "{\"again\":true}", "wait again"),
        PC_OK);
}

/* BOTH has a timeout_ms and an enter callback that makes a change. */
static void both_enter(pc_room *room, const char *from, void *arg)
{
    (void)arg;
    count_enter(from);
    if (snap_in_enter) { /* its timeout_ms is logged, the change not */
        snapshot_log();
    }
    assert_int_equal(pc_update_phase_text(room, "{\"both\":1}", "in both"),
                     PC_OK);
}

static void wait_timeout(pc_room *room, void *arg)
{
    (void)arg;
    if (snap_in_timeout) { /* fired, its change not made yet */
        snapshot_log();
    }
    assert_int_equal(
        pc_transition_text(room, "DONE", "{\"late\":true}", "time is up"),
        PC_OK);
}

static const pc_phase phases[] = {{.name = "WAIT",
                                   .enter = wait_enter,
                                   .exit = wait_exit,
                                   .timeout = wait_timeout},
                                  {.name = "DONE"},
                                  {.name = "LONG",
                                   .exit = wait_exit,
                                   .timeout = long_timeout,
                                   .timeout_ms = 5000},
                                  {.name = "BOTH",
                                   .enter = both_enter,
                                   .timeout = long_timeout,
                                   .timeout_ms = 5000}};
static const pc_game game = {.name = "timed", .phases = phases, .nphases = 4};
static const pc_changelog_game games[] = {{&game, NULL}};

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/pc-timer-XXXXXX");
    snprintf(snap_dir, sizeof(snap_dir), "/tmp/pc-timer-snap-XXXXXX");
    now_ms = T0;
    snap_in_exit = snap_in_timeout = snap_in_enter = false;
    enters = 0;
    entered_from[0] = '\0';
    pc__failpoint_configure(NULL);
    return mkdtemp(dir) != NULL && mkdtemp(snap_dir) != NULL ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[200];
    pc__failpoint_configure(NULL);
    snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir, snap_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static pc_changelog_options log_options(uint64_t keyframe)
{
    pc_changelog_options o;
    pc_changelog_options_init(&o);
    o.dir = dir;
    o.fsync = PC_FSYNC_ALWAYS;
    o.keyframe_every = keyframe;
    return o;
}

static pc_room_options room_options(void)
{
    pc_room_options ro;
    pc_room_options_init(&ro);
    ro.id = "t1";
    ro.clock = fake_clock;
    return ro;
}

static pc_room *logged_room(uint64_t keyframe, pc_changelog **log)
{
    pc_room_options ro = room_options();
    pc_room *room = NULL;
    assert_int_equal(pc_room_new(&game, &ro, &room), PC_OK);
    pc_changelog_options o = log_options(keyframe);
    assert_int_equal(pc_changelog_create(&o, room, log, NULL), PC_OK);
    assert_int_equal(pc_room_start(room), PC_OK);
    return room;
}

static pc_room *recovered_from(const char *from, pc_changelog **log)
{
    pc_changelog_options o = log_options(0);
    o.dir = from;
    pc_room_options ro = room_options();
    pc_room *room = NULL;
    pc_changelog_report rep;
    pc_error e = {0};
    assert_int_equal(
        pc_changelog_recover(&o, "t1", games, 1, &ro, 0, &room, log, &rep, &e),
        PC_OK);
    assert_int_equal(pc_room_start(room), PC_OK);
    return room;
}

static pc_room *recovered(uint64_t keyframe, pc_changelog **log)
{
    pc_changelog_options o = log_options(keyframe);
    pc_room_options ro = room_options();
    pc_room *room = NULL;
    pc_changelog_report rep;
    pc_error e = {0};
    assert_int_equal(
        pc_changelog_recover(&o, "t1", games, 1, &ro, 0, &room, log, &rep, &e),
        PC_OK);
    assert_int_equal(rep.problem, PC_CHANGELOG_CLEAN);
    assert_int_equal(pc_room_start(room), PC_OK);
    return room;
}

static int64_t deadline_of(const pc_room *room)
{
    int64_t d = -1;
    return pc_room_timeout_deadline(room, &d) ? d : -1;
}

static void check_verifies(void)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/t1.pclog", dir);
    pc_changelog_report rep;
    assert_int_equal(pc_changelog_verify(path, &rep), PC_OK);
}

static void run_deadline_survives(uint64_t keyframe)
{
    pc_changelog *log;
    pc_room *room = logged_room(keyframe, &log);
    assert_int_equal(deadline_of(room), T0 + DELAY);
    now_ms += 100;
    assert_int_equal(pc_update_phase_text(room, "{\"n\":1}", "one"), PC_OK);
    assert_int_equal(pc_update_phase_text(room, "{\"n\":2}", "two"), PC_OK);
    pc_room_free(room);
    pc_changelog_free(log);
    check_verifies();

    now_ms = T0 + 1000; /* the restart: 234 ms before the deadline */
    enters = 0;
    room = recovered(keyframe, &log);
    assert_string_equal(pc_room_phase(room), "WAIT");
    assert_int_equal(deadline_of(room), T0 + DELAY);
    assert_int_equal(enters, 0); /* its arm is logged: it ran */
    /* It fires as the original would have: WAIT -> DONE. */
    now_ms = T0 + DELAY;
    assert_int_equal(pc_room_fire_timeout(room), PC_OK);
    assert_string_equal(pc_room_phase(room), "DONE");
    assert_int_equal(deadline_of(room), -1);
    pc_room_free(room);
    pc_changelog_free(log);
    check_verifies();

    /* After the firing the log says "no timer": none is armed again. */
    room = recovered(keyframe, &log);
    assert_string_equal(pc_room_phase(room), "DONE");
    assert_int_equal(deadline_of(room), -1);
    pc_room_free(room);
    pc_changelog_free(log);
}

static void test_a_game_armed_deadline_survives_a_restart(void **state)
{
    (void)state;
    run_deadline_survives(0);
}

static void test_the_deadline_survives_compaction(void **state)
{
    (void)state;
    run_deadline_survives(1); /* a keyframe after every change */
}

static void test_a_passed_deadline_fires_at_once(void **state)
{
    (void)state;
    pc_changelog *log;
    pc_room *room = logged_room(0, &log);
    pc_room_free(room);
    pc_changelog_free(log);
    now_ms = T0 + 60000; /* down for a minute: the deadline has passed */
    room = recovered(0, &log);
    /* Armed with no delay left: due now, so a host fires it at once. */
    assert_int_equal(deadline_of(room), now_ms);
    assert_int_equal(pc_room_fire_timeout(room), PC_OK);
    assert_string_equal(pc_room_phase(room), "DONE");
    pc_room_free(room);
    pc_changelog_free(log);
}

static void
test_a_timer_that_cannot_be_logged_fails_the_next_change(void **state)
{
    (void)state;
    pc_changelog *log;
    assert_true(pc__failpoint_configure("timer.write=eio@1"));
    pc_room *room = logged_room(0, &log); /* the arm in enter fails */
    pc_error e = {0};
    assert_int_equal(pc_update_phase_text(room, "{\"n\":1}", "one"), PC_ERR_IO);
    assert_true(pc_room_failed(room, &e));
    assert_int_equal(pc_room_seq(room), 0);
    pc_room_free(room);
    pc_changelog_free(log);
    pc__failpoint_configure(NULL);
    check_verifies(); /* nothing half-written was left */
}

static int64_t deadline_of(const pc_room *room);

/* A crash after a transition's change record and before the timer
 * records that follow it: the restored room runs the new phase's own
 * timeout_ms from the restart, never the old phase's deadline. */
static void
test_a_crash_right_after_a_transition_arms_the_new_phase(void **state)
{
    (void)state;
    pc_changelog *log;
    pc_room *room = logged_room(0, &log); /* WAIT, deadline T0 + DELAY */
    snap_in_exit = true;
    assert_int_equal(pc_transition_text(room, "LONG", "{}", "go long"), PC_OK);
    snap_in_exit = false;
    pc_room_free(room);
    pc_changelog_free(log);
    now_ms = T0 + 100;
    room = recovered_from(snap_dir, &log);
    assert_string_equal(pc_room_phase(room), "LONG");
    assert_int_equal(deadline_of(room), T0 + 100 + 5000);
    pc_room_free(room);
    pc_changelog_free(log);
}

/* Recover the room from snap_dir at the moment at, and check it: its
 * phase, how many enter callbacks ran at its start (and from which phase,
 * unless from is NULL) and its timer's deadline. */
static pc_room *recover_at(int64_t at, const char *phase, int runs,
                           const char *from, int64_t deadline,
                           pc_changelog **log)
{
    now_ms = at;
    enters = 0;
    pc_room *room = recovered_from(snap_dir, log);
    assert_string_equal(pc_room_phase(room), phase);
    assert_int_equal(enters, runs);
    if (from != NULL) {
        assert_string_equal(entered_from, from);
    }
    assert_int_equal(deadline_of(room), deadline);
    return room;
}

static void close_room(pc_room *room, pc_changelog *log)
{
    pc_room_free(room);
    pc_changelog_free(log);
}

/* Make the transition to next with the log snapshot taken inside next's
 * enter callback: as a crash there would leave it. */
static void transition_snapped(pc_room *room, const char *next)
{
    snap_in_enter = true;
    assert_int_equal(pc_transition_text(room, next, "{}", "next"), PC_OK);
    snap_in_enter = false;
}

/* A crash after a transition's record, before the new phase's enter
 * callback logged anything, where that callback arms the phase's timer
 * itself (as piles' TURN_RESULTS does): the restored room runs the enter
 * callback again, so the phase does not wait forever for a timer nobody
 * armed. It runs with the phase the transition came from. */
static void
test_a_crash_before_enter_logged_anything_runs_it_again(void **state)
{
    (void)state;
    pc_changelog *log;
    pc_room *room = logged_room(0, &log);
    assert_int_equal(pc_transition_text(room, "LONG", "{}", "go long"), PC_OK);
    transition_snapped(room, "WAIT");
    close_room(room, log);
    room = recover_at(T0 + 700, "WAIT", 1, "LONG", T0 + 700 + DELAY, &log);
    assert_int_equal(pc_room_seq(room), 2);
    close_room(room, log);
    /* The arm is logged now: a second restart keeps its deadline and does
     * not run the callback a third time. */
    room = recover_at(T0 + 900, "WAIT", 0, NULL, T0 + 700 + DELAY, &log);
    assert_int_equal(pc_room_fire_timeout(room), PC_OK);
    assert_string_equal(pc_room_phase(room), "DONE");
    close_room(room, log);
}

/* The same when the transition came from a timeout (LONG's fires and goes
 * to WAIT): the timer fired, so the log never says it was disarmed before
 * the transition. */
static void test_a_crash_inside_a_timed_out_entry_runs_it_again(void **state)
{
    (void)state;
    pc_changelog *log;
    pc_room *room = logged_room(0, &log);
    assert_int_equal(pc_transition_text(room, "LONG", "{}", "go long"), PC_OK);
    now_ms = T0 + 5000;
    snap_in_enter = true;
    assert_int_equal(pc_room_fire_timeout(room), PC_OK);
    snap_in_enter = false;
    assert_string_equal(pc_room_phase(room), "WAIT");
    close_room(room, log);
    room = recover_at(T0 + 6000, "WAIT", 1, "LONG", T0 + 6000 + DELAY, &log);
    close_room(room, log);
}

/* A phase with a timeout_ms whose enter callback makes a change: a crash
 * after the arm of its timeout_ms is logged but before the change. The
 * restored room keeps the logged deadline (the turn clock runs on) and
 * the enter callback makes its change after all. */
static void test_a_crash_after_the_phase_timer_runs_enter_again(void **state)
{
    (void)state;
    pc_changelog *log;
    pc_room *room = logged_room(0, &log);
    now_ms = T0 + 10;
    transition_snapped(room, "BOTH");
    assert_int_equal(pc_room_seq(room), 2);
    close_room(room, log);
    room = recover_at(T0 + 300, "BOTH", 1, "WAIT", T0 + 10 + 5000, &log);
    assert_int_equal(pc_room_seq(room), 2);
    const cJSON *both =
        cJSON_GetObjectItemCaseSensitive(pc_room_data(room), "both");
    assert_true(cJSON_IsNumber(both));
    close_room(room, log);
    /* Once the change is logged, a restart leaves the phase alone. */
    room = recover_at(T0 + 400, "BOTH", 0, NULL, T0 + 10 + 5000, &log);
    assert_int_equal(pc_room_seq(room), 2);
    close_room(room, log);
}

/* A compaction at a transition's record writes a base record inside the
 * new phase's entry: the base says so ("enter"), and a crash right after
 * it runs the enter callback again, as without the compaction. */
static void test_a_base_record_at_a_transition_keeps_the_entry(void **state)
{
    (void)state;
    pc_changelog *log;
    pc_room *room = logged_room(1, &log); /* a keyframe every change */
    assert_int_equal(pc_transition_text(room, "LONG", "{}", "go long"), PC_OK);
    transition_snapped(room, "WAIT");
    close_room(room, log);
    char path[128];
    snprintf(path, sizeof(path), "%s/t1.pclog", snap_dir);
    pc_changelog_report rep;
    assert_int_equal(pc_changelog_verify(path, &rep), PC_OK);
    assert_int_equal(rep.records, 1); /* the base record alone */
    room = recover_at(T0 + 50, "WAIT", 1, "LONG", T0 + 50 + DELAY, &log);
    close_room(room, log);
}

/* A crash between creating a room's log and starting it: the first
 * phase's enter callback runs at the restart, as the start's. */
static void test_a_crash_before_the_start_runs_the_first_enter(void **state)
{
    (void)state;
    pc_room_options ro = room_options();
    pc_room *room = NULL;
    assert_int_equal(pc_room_new(&game, &ro, &room), PC_OK);
    pc_changelog_options o = log_options(0);
    pc_changelog *log;
    assert_int_equal(pc_changelog_create(&o, room, &log, NULL), PC_OK);
    snapshot_log();
    close_room(room, log);
    room = recover_at(T0 + 40, "WAIT", 1, "(start)", T0 + 40 + DELAY, &log);
    close_room(room, log);
}

/* A crash while the timeout callback runs, before its change: the log
 * still says the timer is armed, so the restored room fires it again
 * (at once: its deadline has passed) instead of waiting forever. */
static void test_a_crash_inside_a_timeout_fires_it_again(void **state)
{
    (void)state;
    pc_changelog *log;
    pc_room *room = logged_room(0, &log);
    now_ms = T0 + DELAY;
    snap_in_timeout = true;
    assert_int_equal(pc_room_fire_timeout(room), PC_OK);
    snap_in_timeout = false;
    assert_string_equal(pc_room_phase(room), "DONE");
    pc_room_free(room);
    pc_changelog_free(log);
    now_ms = T0 + DELAY + 500;
    room = recovered_from(snap_dir, &log);
    assert_string_equal(pc_room_phase(room), "WAIT");
    assert_int_equal(deadline_of(room), now_ms); /* due at once */
    assert_int_equal(pc_room_fire_timeout(room), PC_OK);
    assert_string_equal(pc_room_phase(room), "DONE");
    pc_room_free(room);
    pc_changelog_free(log);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
    const struct CMUnitTest tests[] = {
        T(test_a_game_armed_deadline_survives_a_restart),
        T(test_the_deadline_survives_compaction),
        T(test_a_passed_deadline_fires_at_once),
        T(test_a_timer_that_cannot_be_logged_fails_the_next_change),
        T(test_a_crash_right_after_a_transition_arms_the_new_phase),
        T(test_a_crash_inside_a_timeout_fires_it_again),
        T(test_a_crash_before_enter_logged_anything_runs_it_again),
        T(test_a_crash_inside_a_timed_out_entry_runs_it_again),
        T(test_a_crash_after_the_phase_timer_runs_enter_again),
        T(test_a_base_record_at_a_transition_keeps_the_entry),
        T(test_a_crash_before_the_start_runs_the_first_enter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
