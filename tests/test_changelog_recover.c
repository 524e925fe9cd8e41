/*
 * test_changelog_recover.c - rebuilding rooms from their logs: the room
 * continues exactly (seq, state, phase, PRNG, history), torn tails are cut
 * with a copy kept, corruption stops recovery unless repaired, and every
 * injected failure on the append path (allocation, write, short write,
 * fsync) and in compaction leaves "durable and committed, or neither".
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "phasecast/changelog.h"
#include "phasecast/history.h"
#include "phasecast/json.h"
#include "phasecast/room.h"
#include "failpoint.h"
#include "testalloc.h"

static pc_err no_bad(const pc_room *room, const cJSON *proposed, pc_error *why,
                     void *arg)
{
    (void)room;
    (void)arg;
    if (cJSON_IsTrue(pc_json_pointer_get(proposed, "/data/bad"))) {
        return pc_error_set(why, PC_ERR_REJECTED, "bad", "bad is refused");
    }
    return PC_OK;
}

static const pc_phase phases[] = {{.name = "A"}, {.name = "B"}};
static const pc_game game = {
    .name = "logged", .phases = phases, .nphases = 2, .validate = no_bad};
static const pc_game other = {.name = "other", .phases = phases, .nphases = 2};
static const pc_changelog_game games[] = {{&other, NULL}, {&game, NULL}};

static char dir[64];
static char path[128];

static int make_dir(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/pc-recover-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    snprintf(path, sizeof(path), "%s/r1.pclog", dir);
    pc__failpoint_configure(NULL);
    return testalloc_setup(state);
}

static int remove_dir(void **state)
{
    char cmd[128];
    pc__failpoint_configure(NULL);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0) {
        return -1;
    }
    return testalloc_teardown(state);
}

static pc_changelog_options log_options(pc_fsync_policy p, uint64_t keyframe)
{
    pc_changelog_options o;
    pc_changelog_options_init(&o);
    o.dir = dir;
    o.fsync = p;
    o.keyframe_every = keyframe;
    return o;
}

static pc_room_options room_options(void)
{
    pc_room_options ro;
    pc_room_options_init(&ro);
    ro.id = "r1";
    ro.seed = 42;
    ro.seed_set = true;
    ro.history_capacity = 8;
    return ro;
}

static pc_room *logged_room(pc_fsync_policy p, uint64_t keyframe,
                            pc_changelog **log)
{
    pc_room_options ro = room_options();
    pc_room *room = NULL;
    assert_int_equal(pc_room_new(&game, &ro, &room), PC_OK);
    pc_changelog_options o = log_options(p, keyframe);
    assert_int_equal(pc_changelog_create(&o, room, log, NULL), PC_OK);
    assert_int_equal(pc_room_start(room), PC_OK);
    return room;
}

static pc_err recover(unsigned flags, uint64_t keyframe, pc_room **room,
                      pc_changelog **log, pc_changelog_report *rep, pc_error *e)
{
    pc_changelog_options o = log_options(PC_FSYNC_ALWAYS, keyframe);
    pc_room_options ro = room_options();
    return pc_changelog_recover(&o, "r1", games, 2, &ro, flags, room, log, rep,
                                e);
}

/* A change that also draws from the PRNG, as games do. */
static pc_err step(pc_room *room, int i)
{
    char t[96];
    uint64_t roll = pc_room_random_below(room, 1000);
    snprintf(t, sizeof(t), "{\"n\":%d,\"roll\":%llu,\"m\":{\"k%d\":%d}}", i,
             (unsigned long long)roll, i % 5, i);
    return pc_update_phase_text(room, t, "step");
}

static void assert_same_room(pc_room *a, pc_room *b)
{
    assert_int_equal(pc_room_seq(a), pc_room_seq(b));
    assert_int_equal(pc_room_checksum(a), pc_room_checksum(b));
    assert_string_equal(pc_room_phase(a), pc_room_phase(b));
    assert_int_equal(pc_room_draws(a), pc_room_draws(b));
    assert_true(pc_json_equal(pc_room_state(a), pc_room_state(b)));
}

static void test_recovered_room_continues_exactly(void **state)
{
    (void)state;
    pc_changelog *log;
    pc_room *a = logged_room(PC_FSYNC_ALWAYS, 0, &log);
    for (int i = 1; i <= 12; i++) {
        assert_int_equal(step(a, i), PC_OK);
    }
    assert_int_equal(pc_transition_text(a, "B", "{\"m\":null}", "to B"), PC_OK);
    pc_changelog_free(log); /* as if the process died: a stays in memory */
    pc_room *b;
    pc_changelog_report rep;
    pc_error e = {0};
    assert_int_equal(recover(0, 0, &b, &log, &rep, &e), PC_OK);
    assert_int_equal(rep.problem, PC_CHANGELOG_CLEAN);
    assert_int_equal(rep.last_seq, 13);
    assert_same_room(a, b);
    /* The history holds the last records, with their text and time. */
    assert_int_equal(pc_history_count(b), 8);
    assert_int_equal(pc_history_first_seq(b), 6);
    for (uint64_t s = 5; s <= 13; s++) {
        cJSON *x = NULL, *y = NULL;
        assert_int_equal(pc_history_state_at(a, s, &x), PC_OK);
        assert_int_equal(pc_history_state_at(b, s, &y), PC_OK);
        assert_true(pc_json_equal(x, y));
        cJSON_Delete(x);
        cJSON_Delete(y);
    }
    const pc_change *ca, *cb;
    assert_int_equal(pc_history_get(a, 13, &ca), PC_OK);
    assert_int_equal(pc_history_get(b, 13, &cb), PC_OK);
    assert_string_equal(ca->reason, cb->reason);
    assert_int_equal(ca->line, cb->line);
    assert_int_equal(ca->time_ms, cb->time_ms);
    assert_int_equal(cb->kind, PC_CHANGE_TRANSITION);
    /* Both continue the same way, PRNG included, and b keeps logging. */
    assert_int_equal(pc_room_start(b), PC_OK);
    pc_room_set_journal(a, NULL, NULL, NULL);
    for (int i = 14; i <= 20; i++) {
        assert_int_equal(step(a, i), PC_OK);
        assert_int_equal(step(b, i), PC_OK);
    }
    assert_same_room(a, b);
    pc_room_free(b);
    pc_changelog_free(log);
    assert_int_equal(pc_changelog_verify(path, &rep), PC_OK);
    assert_int_equal(rep.last_seq, 20);
    pc_room_free(a);
}

static void test_recovery_after_compaction_matches(void **state)
{
    (void)state;
    pc_changelog *log;
    pc_room *a = logged_room(PC_FSYNC_NONE, 7, &log);
    for (int i = 1; i <= 30; i++) {
        assert_int_equal(step(a, i), PC_OK);
    }
    pc_changelog_free(log);
    pc_room *b;
    pc_changelog_report rep;
    assert_int_equal(recover(0, 7, &b, &log, &rep, NULL), PC_OK);
    assert_int_equal(rep.base_seq, 28);
    assert_same_room(a, b);
    assert_int_equal(pc_history_first_seq(b), 29);
    pc_room_free(b);
    pc_changelog_free(log);
    pc_room_free(a);
}

/* Cut n bytes off the end of the log. */
static void chop(long n)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, st.st_size - n), 0);
}

static void test_torn_tail_is_cut_and_kept_aside(void **state)
{
    (void)state;
    pc_changelog *log;
    pc_room *a = logged_room(PC_FSYNC_ALWAYS, 0, &log);
    for (int i = 1; i <= 5; i++) {
        assert_int_equal(step(a, i), PC_OK);
    }
    pc_changelog_free(log);
    pc_room_free(a);
    chop(3);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    pc_room *b;
    pc_changelog_report rep;
    pc_error e = {0};
    assert_int_equal(recover(0, 0, &b, &log, &rep, &e), PC_OK);
    assert_int_equal(rep.problem, PC_CHANGELOG_TORN);
    assert_true(rep.cut);
    assert_int_equal(pc_room_seq(b), 4);
    char broken[160];
    snprintf(broken, sizeof(broken), "%s.broken", path);
    assert_string_equal(rep.broken_path, broken);
    struct stat kept;
    assert_int_equal(stat(broken, &kept), 0);
    assert_int_equal(kept.st_size, st.st_size);
    /* The next change gets seq 5 and the log verifies clean again. */
    assert_int_equal(pc_room_start(b), PC_OK);
    assert_int_equal(step(b, 5), PC_OK);
    assert_int_equal(pc_room_seq(b), 5);
    pc_room_free(b);
    pc_changelog_free(log);
    assert_int_equal(pc_changelog_verify(path, &rep), PC_OK);
    /* A second torn tail keeps a second copy. */
    chop(1);
    assert_int_equal(recover(0, 0, &b, &log, &rep, &e), PC_OK);
    snprintf(broken, sizeof(broken), "%s.broken.1", path);
    assert_string_equal(rep.broken_path, broken);
    pc_room_free(b);
    pc_changelog_free(log);
}

static void test_corruption_stops_recovery_unless_repaired(void **state)
{
    (void)state;
    pc_changelog *log;
    pc_room *a = logged_room(PC_FSYNC_ALWAYS, 0, &log);
    for (int i = 1; i <= 5; i++) {
        assert_int_equal(step(a, i), PC_OK);
    }
    pc_changelog_free(log);
    pc_room_free(a);
    pc_changelog_report rep;
    assert_int_equal(pc_changelog_verify(path, &rep), PC_OK);
    /* Damage the middle: the third record's first payload byte. */
    FILE *f = fopen(path, "r+b");
    unsigned char h[8];
    long off = 16;
    for (int k = 0; k < 3; k++) {
        assert_int_equal(fseek(f, off, SEEK_SET), 0);
        assert_int_equal(fread(h, 1, 8, f), 8);
        off += 8 + (long)(h[0] | h[1] << 8 | h[2] << 16);
    }
    long third = off;
    assert_int_equal(fseek(f, third + 8, SEEK_SET), 0);
    fputc('X', f);
    fclose(f);
    pc_room *b = NULL;
    pc_error e = {0};
    assert_int_equal(recover(0, 0, &b, &log, &rep, &e), PC_ERR_INVALID);
    assert_null(b);
    assert_int_equal(rep.problem, PC_CHANGELOG_CORRUPT);
    assert_int_equal(rep.offset, (uint64_t)third);
    char want[64];
    snprintf(want, sizeof(want), "offset %ld", third);
    assert_non_null(strstr(e.message, want));
    assert_non_null(strstr(e.message, "r1.pclog"));
    assert_false(rep.cut);
    /* The operator repairs: the log is cut before the damage. */
    assert_int_equal(recover(PC_CHANGELOG_REPAIR, 0, &b, &log, &rep, &e),
                     PC_OK);
    assert_true(rep.cut);
    assert_int_equal(pc_room_seq(b), 2);
    pc_room_free(b);
    pc_changelog_free(log);
}

/* A log holding only its base record, damaged there (a byte flipped, or
 * cut short): nothing valid follows, but the base record is written whole
 * (synced, then renamed), so this is corruption, never a torn tail, and
 * not even repair rebuilds the room. */
static void test_damaged_base_record_is_corrupt_not_torn(void **state)
{
    (void)state;
    pc_changelog *log;
    pc_room *a = logged_room(PC_FSYNC_NONE, 0, &log);
    pc_room_free(a);
    pc_changelog_free(log);
    for (int k = 0; k < 2; k++) {
        if (k == 0) {
            FILE *f = fopen(path, "r+b");
            assert_int_equal(fseek(f, 16 + 8 + 2, SEEK_SET), 0);
            fputc('#', f);
            fclose(f);
        } else {
            chop(1);
        }
        pc_changelog_report rep;
        assert_int_equal(pc_changelog_verify(path, &rep), PC_ERR_INVALID);
        assert_int_equal(rep.problem, PC_CHANGELOG_CORRUPT);
        assert_int_equal(rep.offset, 16);
        assert_non_null(strstr(rep.message, "base record"));
        pc_room *b = NULL;
        pc_error e = {0};
        assert_int_equal(recover(PC_CHANGELOG_REPAIR, 0, &b, &log, &rep, &e),
                         PC_ERR_INVALID);
        assert_null(b);
        assert_int_equal(rep.problem, PC_CHANGELOG_CORRUPT);
        assert_false(rep.cut);
    }
}

static void test_recovery_refuses_wrong_room_game_and_missing_log(void **state)
{
    (void)state;
    pc_room *b = NULL;
    pc_changelog *log = NULL;
    pc_changelog_report rep;
    pc_error e = {0};
    assert_int_equal(recover(0, 0, &b, &log, &rep, &e), PC_ERR_NOT_FOUND);
    pc_room *a = logged_room(PC_FSYNC_NONE, 0, &log);
    pc_room_free(a);
    pc_changelog_free(log);
    pc_changelog_options o = log_options(PC_FSYNC_NONE, 0);
    pc_room_options ro = room_options();
    const pc_changelog_game only_other[] = {{&other, NULL}};
    assert_int_equal(pc_changelog_recover(&o, "r1", only_other, 1, &ro, 0, &b,
                                          &log, &rep, &e),
                     PC_ERR_NOT_FOUND);
    assert_string_equal(e.code, "unknown_game");
    char moved[160];
    snprintf(moved, sizeof(moved), "%s/r2.pclog", dir);
    assert_int_equal(rename(path, moved), 0);
    assert_int_equal(
        pc_changelog_recover(&o, "r2", games, 2, &ro, 0, &b, &log, &rep, &e),
        PC_ERR_INVALID);
    assert_null(b);
}

static void test_recovery_removes_a_stale_temporary_file(void **state)
{
    (void)state;
    pc_changelog *log;
    pc_room *a = logged_room(PC_FSYNC_NONE, 0, &log);
    pc_room_free(a);
    pc_changelog_free(log);
    char tmp[160];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    fputs("half a compaction", f);
    fclose(f);
    pc_room *b;
    pc_changelog_report rep;
    assert_int_equal(recover(0, 0, &b, &log, &rep, NULL), PC_OK);
    assert_true(rep.stale_tmp);
    assert_int_equal(access(tmp, F_OK), -1);
    pc_room_free(b);
    pc_changelog_free(log);
}

static void collect(const char *id, void *arg)
{
    char *out = arg;
    strcat(out, id);
    strcat(out, " ");
}

static void test_list_finds_logs_in_order(void **state)
{
    (void)state;
    const char *names[] = {"zeta.pclog", "a.b-c.pclog",  "x.pclog.tmp",
                           "notes.txt",  "bad id.pclog", ".pclog"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char p[160];
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        FILE *f = fopen(p, "w");
        fclose(f);
    }
    char got[256] = "";
    assert_int_equal(pc_changelog_list(dir, collect, got, NULL), PC_OK);
    assert_string_equal(got, "a.b-c zeta ");
}

/* Commit changes while a failpoint fires at the nth write or sync; each
 * change must be committed and in the log, or neither. */
static void check_append_failure(const char *spec, pc_fsync_policy policy)
{
    pc_changelog *log;
    pc_room *a = logged_room(policy, 0, &log);
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(step(a, i), PC_OK);
    }
    uint64_t sum = pc_room_checksum(a);
    assert_true(pc__failpoint_configure(spec));
    assert_int_equal(step(a, 4), PC_ERR_IO);
    pc__failpoint_configure(NULL);
    assert_string_equal(pc_room_last_error(a)->code, "log_write_failed");
    assert_int_equal(pc_room_seq(a), 3);
    assert_int_equal(pc_room_checksum(a), sum);
    assert_true(pc_room_failed(a, NULL));
    assert_int_equal(step(a, 5), PC_ERR_IO);
    pc_changelog_stats st;
    pc_changelog_stats_get(log, &st);
    assert_int_equal(st.appends, 3);
    pc_changelog_free(log);
    /* The file holds exactly the committed changes, nothing torn. */
    pc_changelog_report rep;
    assert_int_equal(pc_changelog_verify(path, &rep), PC_OK);
    assert_int_equal(rep.last_seq, 3);
    pc_room *b;
    assert_int_equal(recover(0, 0, &b, &log, &rep, NULL), PC_OK);
    assert_int_equal(pc_room_checksum(b), sum);
    pc_room_free(b);
    pc_changelog_free(log);
    pc_room_free(a);
    unlink(path);
}

static void test_failed_write_or_sync_commits_nothing(void **state)
{
    (void)state;
    check_append_failure("log.write=eio", PC_FSYNC_ALWAYS);
    check_append_failure("log.write=enospc", PC_FSYNC_NONE);
    check_append_failure("log.write=short", PC_FSYNC_ALWAYS);
    check_append_failure("log.fsync=eio", PC_FSYNC_ALWAYS);
}

static void test_failed_everysec_sync_fails_the_room(void **state)
{
    (void)state;
    pc_changelog *log;
    pc_room *a = logged_room(PC_FSYNC_EVERYSEC, 0, &log);
    assert_int_equal(step(a, 1), PC_OK);
    pc__failpoint_configure("log.fsync=eio");
    pc_error e = {0};
    assert_int_equal(pc_changelog_sync(log, &e), PC_ERR_IO);
    pc__failpoint_configure(NULL);
    assert_int_equal(step(a, 2), PC_ERR_IO);
    assert_true(pc_room_failed(a, NULL));
    assert_int_equal(pc_room_seq(a), 1);
    pc_room_free(a);
    pc_changelog_free(log);
}

static void test_allocation_failures_on_the_append_path(void **state)
{
    (void)state;
    pc_changelog *log;
    pc_room *a = logged_room(PC_FSYNC_ALWAYS, 0, &log);
    assert_int_equal(step(a, 1), PC_OK);
    /* Fail allocation 1, 2, ... of one change until it goes through. */
    int committed = 0;
    for (size_t n = 1; committed == 0; n++) {
        uint64_t seq = pc_room_seq(a);
        size_t live = testalloc_live();
        testalloc_fail_at(n, false);
        pc_err rv =
            pc_update_phase_text(a, "{\"big\":[1,2,3,{\"x\":\"y\"}]}", "grow");
        testalloc_fail_at(0, false);
        pc_changelog_report rep;
        assert_int_equal(pc_changelog_verify(path, &rep), PC_OK);
        if (rv == PC_OK) {
            committed = 1;
            assert_int_equal(pc_room_seq(a), seq + 1);
            assert_int_equal(rep.last_seq, seq + 1);
        } else {
            assert_int_equal(rv, PC_ERR_NOMEM);
            assert_false(pc_room_failed(a, NULL));
            assert_int_equal(pc_room_seq(a), seq);
            assert_int_equal(rep.last_seq, seq);
            assert_int_equal(testalloc_live(), live);
        }
    }
    pc_room_free(a);
    pc_changelog_free(log);
    /* Recovery itself under allocation failure: fails cleanly or works. */
    for (size_t n = 1;; n++) {
        pc_room *b = NULL;
        pc_changelog_report rep;
        size_t live = testalloc_live();
        testalloc_fail_at(n, false);
        pc_err rv = recover(0, 0, &b, &log, &rep, NULL);
        testalloc_fail_at(0, false);
        if (rv == PC_OK) {
            assert_int_equal(pc_room_seq(b), 2);
            pc_room_free(b);
            pc_changelog_free(log);
            break;
        }
        assert_int_equal(rv, PC_ERR_NOMEM);
        assert_int_equal(testalloc_live(), live);
    }
}

static void test_compaction_failures_lose_nothing(void **state)
{
    (void)state;
    static const char *const steps[] = {
        "compact.open=eio",  "compact.write=eio",  "compact.write=short",
        "compact.fsync=eio", "compact.rename=eio", "compact.dirsync=eio"};
    char tmp[160];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
        pc_changelog *log;
        pc_room *a = logged_room(PC_FSYNC_ALWAYS, 4, &log);
        for (int i = 1; i <= 3; i++) {
            assert_int_equal(step(a, i), PC_OK);
        }
        pc__failpoint_configure(steps[k]);
        assert_int_equal(step(a, 4), PC_OK); /* compaction after this one */
        pc__failpoint_configure(NULL);
        assert_int_equal(access(tmp, F_OK), -1);
        bool after_rename = strstr(steps[k], "dirsync") != NULL;
        /* Before the rename the old file stays whole and is used on;
         * after it, the log cannot trust its name and fails the room. */
        assert_int_equal(step(a, 5), after_rename ? PC_ERR_IO : PC_OK);
        pc_changelog_stats st;
        pc_changelog_stats_get(log, &st);
        assert_int_equal(st.compaction_failures, after_rename ? 0 : 1);
        pc_changelog_free(log);
        pc_room *b;
        pc_changelog_report rep;
        assert_int_equal(recover(0, 4, &b, &log, &rep, NULL), PC_OK);
        if (after_rename) {
            /* The refused step 5 drew a number that no record holds. */
            assert_int_equal(pc_room_draws(b), pc_room_draws(a) - 1);
            assert_int_equal(pc_room_checksum(b), pc_room_checksum(a));
        } else {
            assert_same_room(a, b);
        }
        pc_room_free(a);
        pc_room_free(b);
        pc_changelog_free(log);
        unlink(path);
    }
}

/* A torn log of another room, or of a game we cannot run, is refused
 * before anything is cut: no .broken copy, the file byte for byte as it
 * was. */
static void test_foreign_torn_log_is_refused_untouched(void **state)
{
    (void)state;
    pc_changelog *log = NULL;
    pc_room *a = logged_room(PC_FSYNC_NONE, 0, &log);
    assert_int_equal(step(a, 1), PC_OK);
    pc_room_free(a);
    pc_changelog_free(log);
    FILE *f = fopen(path, "ab");
    assert_non_null(f);
    fputs("torn tail", f);
    fclose(f);
    struct stat before;
    assert_int_equal(stat(path, &before), 0);
    pc_changelog_options o = log_options(PC_FSYNC_NONE, 0);
    pc_room_options ro = room_options();
    pc_room *b = NULL;
    pc_changelog_report rep;
    pc_error e = {0};
    const pc_changelog_game only_other[] = {{&other, NULL}};
    assert_int_equal(pc_changelog_recover(&o, "r1", only_other, 1, &ro,
                                          PC_CHANGELOG_REPAIR, &b, &log, &rep,
                                          &e),
                     PC_ERR_NOT_FOUND);
    assert_string_equal(e.code, "unknown_game");
    char moved[160], broken[200];
    snprintf(moved, sizeof(moved), "%s/r2.pclog", dir);
    assert_int_equal(rename(path, moved), 0);
    assert_int_equal(pc_changelog_recover(&o, "r2", games, 2, &ro,
                                          PC_CHANGELOG_REPAIR, &b, &log, &rep,
                                          &e),
                     PC_ERR_INVALID);
    assert_null(b);
    struct stat after;
    assert_int_equal(stat(moved, &after), 0);
    assert_int_equal(after.st_size, before.st_size);
    snprintf(broken, sizeof(broken), "%s.broken", path);
    assert_int_equal(access(broken, F_OK), -1);
    snprintf(broken, sizeof(broken), "%s.broken", moved);
    assert_int_equal(access(broken, F_OK), -1);
}

/* What a log could not read back is refused when written: a room allowed
 * JSON as deep as the reader's ceiling (a record nests the state one level
 * deeper), and integers beyond 2^53 (here from a clock far in the future):
 * the change is refused with PC_ERR_LIMIT and nothing is written. */
static int64_t far_clock(void *arg)
{
    (void)arg;
    return (int64_t)1 << 60;
}

static void test_what_the_reader_cannot_read_is_never_written(void **state)
{
    (void)state;
    pc_room_options ro = room_options();
    ro.limits.max_depth = PC_JSON_DEPTH_CEILING;
    pc_room *room = NULL;
    pc_changelog *log = NULL;
    assert_int_equal(pc_room_new(&game, &ro, &room), PC_OK);
    pc_changelog_options o = log_options(PC_FSYNC_NONE, 0);
    pc_error e = {0};
    assert_int_equal(pc_changelog_create(&o, room, &log, &e), PC_ERR_LIMIT);
    assert_int_equal(access(path, F_OK), -1);
    pc_room_free(room);
    pc_room *b = NULL;
    pc_changelog_report rep;
    assert_int_equal(
        pc_changelog_recover(&o, "r1", games, 2, &ro, 0, &b, &log, &rep, &e),
        PC_ERR_LIMIT);

    ro = room_options();
    ro.clock = far_clock;
    assert_int_equal(pc_room_new(&game, &ro, &room), PC_OK);
    assert_int_equal(pc_changelog_create(&o, room, &log, &e), PC_ERR_LIMIT);
    pc_room_free(room);
    ro = room_options();
    room = logged_room(PC_FSYNC_NONE, 0, &log);
    pc_room_free(room);
    pc_changelog_free(log);
    assert_int_equal(pc_changelog_verify(path, &rep), PC_OK);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
    const struct CMUnitTest tests[] = {
        T(test_recovered_room_continues_exactly),
        T(test_recovery_after_compaction_matches),
        T(test_torn_tail_is_cut_and_kept_aside),
        T(test_corruption_stops_recovery_unless_repaired),
        T(test_damaged_base_record_is_corrupt_not_torn),
        T(test_recovery_refuses_wrong_room_game_and_missing_log),
        T(test_recovery_removes_a_stale_temporary_file),
        T(test_list_finds_logs_in_order),
        T(test_failed_write_or_sync_commits_nothing),
        T(test_failed_everysec_sync_fails_the_room),
        T(test_allocation_failures_on_the_append_path),
        T(test_compaction_failures_lose_nothing),
        T(test_foreign_torn_log_is_refused_untouched),
        T(test_what_the_reader_cannot_read_is_never_written),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
