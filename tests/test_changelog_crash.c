/*
 * test_changelog_crash.c - crash a real process at exact points of the
 * append path and of compaction, then recover in the parent.
 *
 * A forked child runs a logged room (fsync=always, a keyframe every 4
 * changes) and reports every change it got PC_OK for through a pipe; a
 * failpoint kills it with SIGKILL (no atexit, no flush, like kill -9) at
 * one step: before a write, half-way through a write, before an fsync, or
 * at each step of compaction. The parent then recovers the room and checks
 * that nothing acknowledged was lost, that at most the one change in
 * flight was kept (it is "in doubt": durable but never acknowledged), that
 * the state is exactly the state at the recovered seq (the game is
 * deterministic, so the parent can compute it), that no temporary file is
 * left, and that the recovered room logs on. The network-level version of
 * this test, with phasecast-serve and clients, is tests/cli/durlog_*.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "phasecast/changelog.h"
#include "phasecast/room.h"
#include "failpoint.h"

#define STEPS    20
#define KEYFRAME 4

static const pc_phase phases[] = {{.name = "A"}, {.name = "B"}};
static const pc_game game = {.name = "crashy", .phases = phases, .nphases = 2};
static const pc_changelog_game games[] = {{&game, NULL}};

static char dir[64];
static char path[128];

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/pc-crash-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    snprintf(path, sizeof(path), "%s/r1.pclog", dir);
    return 0;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static pc_room_options room_options(void)
{
    pc_room_options ro;
    pc_room_options_init(&ro);
    ro.id = "r1";
    ro.seed = 9;
    ro.seed_set = true;
    return ro;
}

static pc_changelog_options log_options(void)
{
    pc_changelog_options o;
    pc_changelog_options_init(&o);
    o.dir = dir;
    o.fsync = PC_FSYNC_ALWAYS;
    o.keyframe_every = KEYFRAME;
    return o;
}

/* Change i: deterministic given the seed. */
static pc_err step(pc_room *room, int i)
{
    char t[96];
    snprintf(t, sizeof(t), "{\"i\":%d,\"roll\":%llu,\"k%d\":%d}", i,
             (unsigned long long)pc_room_random_below(room, 100), i % 3, i);
    return i % 7 == 0 ? pc_transition_text(room, i % 2 ? "A" : "B", t, "turn")
                      : pc_update_phase_text(room, t, "step");
}

/* The checksum after each seq, from an unlogged run of the same game. */
static void expected_sums(uint64_t sums[STEPS + 1])
{
    pc_room_options ro = room_options();
    pc_room *room;
    assert_int_equal(pc_room_new(&game, &ro, &room), PC_OK);
    assert_int_equal(pc_room_start(room), PC_OK);
    sums[0] = pc_room_checksum(room);
    for (int i = 1; i <= STEPS; i++) {
        assert_int_equal(step(room, i), PC_OK);
        sums[i] = pc_room_checksum(room);
    }
    pc_room_free(room);
}

/* The child: log STEPS changes, acknowledging each through fd. */
static _Noreturn void child(const char *spec, int fd)
{
    pc_room_options ro = room_options();
    pc_changelog_options o = log_options();
    pc_room *room;
    pc_changelog *log;
    if (pc_room_new(&game, &ro, &room) != PC_OK ||
        pc_changelog_create(&o, room, &log, NULL) != PC_OK ||
        pc_room_start(room) != PC_OK || !pc__failpoint_configure(spec)) {
        _exit(2);
    }
    for (int i = 1; i <= STEPS; i++) {
        if (step(room, i) != PC_OK) {
            _exit(3);
        }
        uint64_t seq = pc_room_seq(room);
        if (write(fd, &seq, sizeof(seq)) != (ssize_t)sizeof(seq)) {
            _exit(4);
        }
    }
    _exit(0); /* the failpoint never fired */
}

/* Crash at spec; recovery must find a torn tail (torn) and a leftover
 * temporary file (tmp) or not. */
static void crash_at(const char *spec, bool torn, bool tmp_left)
{
    uint64_t sums[STEPS + 1];
    expected_sums(sums);
    int p[2];
    assert_int_equal(pipe(p), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        child(spec, p[1]);
    }
    close(p[1]);
    uint64_t acked = 0, seq;
    while (read(p[0], &seq, sizeof(seq)) == (ssize_t)sizeof(seq)) {
        assert_int_equal(seq, acked + 1);
        acked = seq;
    }
    close(p[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);

    pc_changelog_options o = log_options();
    pc_room_options ro = room_options();
    pc_room *room;
    pc_changelog *log;
    pc_changelog_report rep;
    pc_error e = {0};
    assert_int_equal(
        pc_changelog_recover(&o, "r1", games, 1, &ro, 0, &room, &log, &rep, &e),
        PC_OK);
    assert_int_equal(rep.problem,
                     torn ? PC_CHANGELOG_TORN : PC_CHANGELOG_CLEAN);
    assert_int_equal(rep.cut, torn);
    assert_int_equal(rep.stale_tmp, tmp_left);
    uint64_t got = pc_room_seq(room);
    /* Nothing acknowledged is lost; only the change in flight may stay. */
    assert_true(got == acked || got == acked + 1);
    assert_int_equal(pc_room_checksum(room), sums[got]);
    char tmp[160];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    assert_int_equal(access(tmp, F_OK), -1);
    /* The recovered room logs on, with the next seq. */
    assert_int_equal(pc_room_start(room), PC_OK);
    assert_int_equal(step(room, (int)got + 1), PC_OK);
    assert_int_equal(pc_room_checksum(room), sums[got + 1]);
    pc_room_free(room);
    pc_changelog_free(log);
    assert_int_equal(pc_changelog_verify(path, &rep), PC_OK);
    assert_int_equal(rep.last_seq, got + 1);
}

static void test_crash_before_a_write_loses_nothing_acknowledged(void **s)
{
    (void)s;
    crash_at("log.write=crash@6", false, false);
}

static void test_crash_half_way_through_a_write_is_a_torn_tail(void **s)
{
    (void)s;
    crash_at("log.write=tear@6", true, false);
}

static void test_crash_before_the_fsync_keeps_the_change_in_doubt(void **s)
{
    (void)s;
    crash_at("log.fsync=crash@6", false, false);
}

static void test_crash_at_each_step_of_compaction(void **s)
{
    (void)s;
    /* "create.*" points are the first publish; "compact.*" count from
     * the first compaction. Each compaction writes twice (header, base). */
    static const struct {
        const char *spec;
        bool tmp_left;
    } points[] = {
        {"compact.open=crash@2", false},    {"compact.write=crash@2", true},
        {"compact.write=tear@3", true},     {"compact.fsync=crash@2", true},
        {"compact.rename=crash@2", true},   {"compact.dirsync=crash@2", false},
        {"compact.dirsync=crash@1", false}, {"compact.open=crash@1", false}};
    for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
        crash_at(points[i].spec, false, points[i].tmp_left);
        assert_int_equal(unlink(path), 0);
    }
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
    const struct CMUnitTest tests[] = {
        T(test_crash_before_a_write_loses_nothing_acknowledged),
        T(test_crash_half_way_through_a_write_is_a_torn_tail),
        T(test_crash_before_the_fsync_keeps_the_change_in_doubt),
        T(test_crash_at_each_step_of_compaction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
