/*
 * test_changelog.c - the change log's writer and reader: what is written
 * for each change, the byte layout docs/durability.md promises, the fsync
 * policies, and how verify classifies torn tails and corruption.
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

#include "phasecast/alloc.h"
#include "phasecast/changelog.h"
#include "phasecast/crc32c.h"
#include "phasecast/room.h"
#include "testalloc.h"

static const pc_phase phases[] = {{.name = "A"}, {.name = "B"}};
static const pc_game game = {.name = "logged", .phases = phases, .nphases = 2};

static char dir[64];
static char path[128];

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/pc-changelog-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    snprintf(path, sizeof(path), "%s/r1.pclog", dir);
    return testalloc_setup(state);
}

static int remove_dir(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0) {
        return -1;
    }
    return testalloc_teardown(state);
}

/* A started room r1 logging into dir. */
static pc_room *logged_room(pc_fsync_policy p, uint64_t keyframe,
                            pc_changelog **log)
{
    pc_room_options ro;
    pc_room_options_init(&ro);
    ro.id = "r1";
    ro.seed = 42;
    ro.seed_set = true;
    pc_room *room = NULL;
    assert_int_equal(pc_room_new(&game, &ro, &room), PC_OK);
    pc_changelog_options o;
    pc_changelog_options_init(&o);
    o.dir = dir;
    o.fsync = p;
    o.keyframe_every = keyframe;
    pc_error e = {0};
    assert_int_equal(pc_changelog_create(&o, room, log, &e), PC_OK);
    assert_int_equal(pc_room_start(room), PC_OK);
    return room;
}

static void update_n(pc_room *room, int n)
{
    char t[64];
    snprintf(t, sizeof(t), "{\"n\":%d,\"l\":[%d,\"x\"]}", n, n);
    assert_int_equal(pc_update_phase_text(room, t, "count"), PC_OK);
}

static long file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static unsigned char *slurp(const char *p, long *n)
{
    *n = file_size(p);
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    unsigned char *b = malloc((size_t)*n + 1);
    assert_int_equal(fread(b, 1, (size_t)*n, f), (size_t)*n);
    fclose(f);
    b[*n] = '\0'; /* so the tests can search it as text */
    return b;
}

static void spit(const char *p, const unsigned char *b, long n)
{
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* Offsets of every frame in the file. */
static int frames(const unsigned char *b, long n, long *at, int max)
{
    int k = 0;
    for (long off = 16; off + 8 <= n && k < max; k++) {
        at[k] = off;
        off += 8 + (long)le32(b + off);
    }
    return k;
}

static void test_new_log_holds_one_base_record_and_verifies(void **state)
{
    (void)state;
    pc_changelog *log;
    pc_room *room = logged_room(PC_FSYNC_ALWAYS, 0, &log);
    pc_changelog_report rep;
    assert_int_equal(pc_changelog_verify(path, &rep), PC_OK);
    assert_int_equal(rep.problem, PC_CHANGELOG_CLEAN);
    assert_int_equal(rep.records, 1);
    assert_int_equal(rep.base_seq, 0);
    assert_int_equal(rep.last_seq, 0);
    assert_string_equal(rep.room, "r1");
    assert_string_equal(rep.game, "logged");
    assert_int_equal(rep.valid_bytes, rep.file_bytes);
    pc_room_free(room);
    pc_changelog_free(log);
}

static void test_every_committed_change_is_in_the_log(void **state)
{
    (void)state;
    pc_changelog *log;
    pc_room *room = logged_room(PC_FSYNC_ALWAYS, 0, &log);
    for (int i = 1; i <= 20; i++) {
        update_n(room, i);
    }
    assert_int_equal(pc_transition_text(room, "B", "{\"done\":true}", "end"),
                     PC_OK);
    pc_changelog_report rep;
    assert_int_equal(pc_changelog_verify(path, &rep), PC_OK);
    assert_int_equal(rep.records, 22);
    assert_int_equal(rep.last_seq, 21);
    pc_changelog_stats st;
    pc_changelog_stats_get(log, &st);
    assert_int_equal(st.appends, 21);
    assert_int_equal(st.syncs, 22); /* the base, then every append */
    long n, at[2];
    unsigned char *b = slurp(path, &n);
    frames(b, n, at, 2);
    free(b);
    assert_int_equal(st.bytes, (uint64_t)(n - at[1])); /* all but the base */
    pc_room_free(room);
    pc_changelog_free(log);
}

static void test_creating_a_second_log_for_a_room_is_refused(void **state)
{
    (void)state;
    pc_changelog *log, *again = NULL;
    pc_room *room = logged_room(PC_FSYNC_NONE, 0, &log);
    pc_changelog_options o;
    pc_changelog_options_init(&o);
    o.dir = dir;
    pc_error e = {0};
    assert_int_equal(pc_changelog_create(&o, room, &again, &e), PC_ERR_STATE);
    assert_string_equal(e.code, "log_exists");
    assert_null(again);
    pc_room_free(room);
    pc_changelog_free(log);
}

static void test_file_layout_is_the_documented_one(void **state)
{
    (void)state;
    pc_changelog *log;
    pc_room *room = logged_room(PC_FSYNC_NONE, 0, &log);
    update_n(room, 7);
    long n;
    unsigned char *b = slurp(path, &n);
    assert_memory_equal(b, "PHASELOG", 8);
    assert_int_equal(le32(b + 8), 1);
    assert_int_equal(le32(b + 12), pc_crc32c(0, b, 12));
    long at[4];
    assert_int_equal(frames(b, n, at, 4), 2);
    for (int i = 0; i < 2; i++) {
        uint32_t len = le32(b + at[i]);
        uint32_t crc =
            pc_crc32c(pc_crc32c(0, b + at[i], 4), b + at[i] + 8, len);
        assert_int_equal(le32(b + at[i] + 4), crc);
    }
    assert_memory_equal(b + at[0] + 8, "{\"type\":\"room\"", 14);
    assert_memory_equal(b + at[1] + 8, "{\"type\":\"change\",\"seq\":1,", 25);
    /* The host's own update: a HOST cause that begins at seq 1. */
    assert_non_null(strstr((char *)b + at[1] + 8,
                           "\"patch\":{\"l\":[7,\"x\"],\"n\":7},"
                           "\"cause\":{\"kind\":\"host\",\"first\":1}}"));
    assert_int_equal(at[1] + 8 + (long)le32(b + at[1]), n);
    free(b);
    pc_room_free(room);
    pc_changelog_free(log);
}

static void test_verify_calls_a_cut_last_record_torn(void **state)
{
    (void)state;
    pc_changelog *log;
    pc_room *room = logged_room(PC_FSYNC_NONE, 0, &log);
    for (int i = 1; i <= 5; i++) {
        update_n(room, i);
    }
    pc_room_free(room);
    pc_changelog_free(log);
    long n;
    unsigned char *b = slurp(path, &n);
    long at[8];
    assert_int_equal(frames(b, n, at, 8), 6);
    /* Every cut inside the last frame is a torn tail at its start. */
    for (long cut = at[5] + 1; cut < n; cut += 7) {
        spit(path, b, cut);
        pc_changelog_report rep;
        assert_int_equal(pc_changelog_verify(path, &rep), PC_ERR_INVALID);
        assert_int_equal(rep.problem, PC_CHANGELOG_TORN);
        assert_int_equal(rep.offset, at[5]);
        assert_int_equal(rep.valid_bytes, at[5]);
        assert_int_equal(rep.last_seq, 4);
    }
    /* So is a tail of zeros, as a crash can leave after a size update. */
    unsigned char *z = calloc(1, (size_t)n + 300);
    memcpy(z, b, (size_t)at[5]);
    spit(path, z, at[5] + 300);
    pc_changelog_report rep;
    assert_int_equal(pc_changelog_verify(path, &rep), PC_ERR_INVALID);
    assert_int_equal(rep.problem, PC_CHANGELOG_TORN);
    assert_int_equal(rep.offset, at[5]);
    free(z);
    free(b);
}

static void test_verify_calls_damage_before_valid_frames_corrupt(void **state)
{
    (void)state;
    pc_changelog *log;
    pc_room *room = logged_room(PC_FSYNC_NONE, 0, &log);
    for (int i = 1; i <= 5; i++) {
        update_n(room, i);
    }
    pc_room_free(room);
    pc_changelog_free(log);
    long n;
    unsigned char *b = slurp(path, &n);
    long at[8];
    frames(b, n, at, 8);
    /* A flipped payload byte, and a length that runs past the end. */
    for (int kind = 0; kind < 2; kind++) {
        unsigned char *c = malloc((size_t)n);
        memcpy(c, b, (size_t)n);
        if (kind == 0) {
            c[at[2] + 20] ^= 0x01;
        } else {
            c[at[2] + 2] = 0x7f;
        }
        spit(path, c, n);
        pc_changelog_report rep;
        assert_int_equal(pc_changelog_verify(path, &rep), PC_ERR_INVALID);
        assert_int_equal(rep.problem, PC_CHANGELOG_CORRUPT);
        assert_int_equal(rep.offset, at[2]);
        assert_int_equal(rep.last_seq, 1);
        assert_non_null(strstr(rep.message, "r1.pclog"));
        assert_non_null(strstr(rep.message, "offset"));
        free(c);
    }
    free(b);
}

/* Rewrite the frame at `at` with a new payload and a correct CRC. */
static long reframe(unsigned char *b, long n, long at, const char *payload)
{
    uint32_t old = le32(b + at);
    size_t len = strlen(payload);
    long rest = n - (at + 8 + (long)old);
    memmove(b + at + 8 + len, b + at + 8 + old, (size_t)rest);
    memcpy(b + at + 8, payload, len);
    unsigned char l[4] = {(unsigned char)len, (unsigned char)(len >> 8),
                          (unsigned char)(len >> 16),
                          (unsigned char)(len >> 24)};
    memcpy(b + at, l, 4);
    uint32_t crc = pc_crc32c(pc_crc32c(0, l, 4), payload, len);
    unsigned char c[4] = {(unsigned char)crc, (unsigned char)(crc >> 8),
                          (unsigned char)(crc >> 16),
                          (unsigned char)(crc >> 24)};
    memcpy(b + at + 4, c, 4);
    return at + 8 + (long)len + rest;
}

static void test_verify_recomputes_every_state_checksum(void **state)
{
    (void)state;
    pc_changelog *log;
    pc_room *room = logged_room(PC_FSYNC_NONE, 0, &log);
    for (int i = 1; i <= 3; i++) {
        update_n(room, i);
    }
    pc_room_free(room);
    pc_changelog_free(log);
    long n;
    unsigned char *b = slurp(path, &n);
    long at[8];
    frames(b, n, at, 8);
    /* A well-framed record whose patch no longer gives its checksum. */
    char payload[1024];
    uint32_t len = le32(b + at[2]);
    memcpy(payload, b + at[2] + 8, len);
    payload[len] = '\0';
    char *p = strstr(payload, "\"n\":2}");
    assert_non_null(p);
    p[4] = '9';
    unsigned char *c = malloc((size_t)n + 64);
    memcpy(c, b, (size_t)n);
    long m = reframe(c, n, at[2], payload);
    spit(path, c, m);
    pc_changelog_report rep;
    assert_int_equal(pc_changelog_verify(path, &rep), PC_ERR_INVALID);
    assert_int_equal(rep.problem, PC_CHANGELOG_CORRUPT);
    assert_int_equal(rep.offset, at[2]);
    assert_non_null(strstr(rep.message, "checksum mismatch"));
    free(c);
    free(b);
}

static void test_verify_refuses_a_file_that_is_not_a_log(void **state)
{
    (void)state;
    spit(path, (const unsigned char *)"hello, world\n", 13);
    pc_changelog_report rep;
    assert_int_equal(pc_changelog_verify(path, &rep), PC_ERR_INVALID);
    assert_int_equal(rep.problem, PC_CHANGELOG_CORRUPT);
    assert_int_equal(rep.offset, 0);
    char missing[160];
    snprintf(missing, sizeof(missing), "%s/none.pclog", dir);
    assert_int_equal(pc_changelog_verify(missing, &rep), PC_ERR_NOT_FOUND);
}

static void test_odd_reasons_are_logged_as_valid_json(void **state)
{
    (void)state;
    pc_changelog *log;
    pc_room *room = logged_room(PC_FSYNC_NONE, 0, &log);
    assert_int_equal(pc_update_phase_text(room, "{\"a\":\"\\u00e9\\t\"}",
                                          "bell \a, bad \xff\xfe, \"quoted\" "
                                          "\\ tab\t caf\xc3\xa9"),
                     PC_OK);
    pc_changelog_report rep;
    assert_int_equal(pc_changelog_verify(path, &rep), PC_OK);
    assert_int_equal(rep.last_seq, 1);
    pc_room_free(room);
    pc_changelog_free(log);
}

static void test_fsync_policies_sync_as_documented(void **state)
{
    (void)state;
    pc_fsync_policy ps[] = {PC_FSYNC_NONE, PC_FSYNC_EVERYSEC};
    for (int i = 0; i < 2; i++) {
        pc_changelog *log;
        pc_room *room = logged_room(ps[i], 0, &log);
        for (int k = 1; k <= 50; k++) {
            update_n(room, k);
        }
        pc_changelog_stats st;
        pc_changelog_stats_get(log, &st);
        assert_int_equal(st.appends, 50);
        /* The base record is always synced; appends at most once a
         * second (everysec; slow runs may cross a few seconds), or never
         * (none) until the host asks. */
        if (ps[i] == PC_FSYNC_NONE) {
            assert_int_equal(st.syncs, 1);
            pc_error e = {0};
            assert_int_equal(pc_changelog_sync(log, &e), PC_OK);
            assert_int_equal(pc_changelog_sync(log, &e), PC_OK);
            pc_changelog_stats_get(log, &st);
            assert_int_equal(st.syncs, 2); /* only the dirty one synced */
        } else {
            assert_true(st.syncs < 10);
        }
        pc_room_free(room);
        pc_changelog_free(log);
        unlink(path);
    }
    pc_fsync_policy p;
    assert_true(pc_fsync_policy_parse("always", &p));
    assert_int_equal(p, PC_FSYNC_ALWAYS);
    assert_false(pc_fsync_policy_parse("sometimes", &p));
    assert_string_equal(pc_fsync_policy_name(PC_FSYNC_NONE), "none");
}

static void test_keyframes_compact_the_log(void **state)
{
    (void)state;
    pc_changelog *log;
    pc_room *room = logged_room(PC_FSYNC_NONE, 10, &log);
    for (int i = 1; i <= 25; i++) {
        update_n(room, i);
    }
    pc_changelog_report rep;
    assert_int_equal(pc_changelog_verify(path, &rep), PC_OK);
    assert_int_equal(rep.base_seq, 20);
    assert_int_equal(rep.last_seq, 25);
    assert_int_equal(rep.records, 6);
    pc_changelog_stats st;
    pc_changelog_stats_get(log, &st);
    assert_int_equal(st.compactions, 2);
    char tmp[160];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    assert_int_equal(access(tmp, F_OK), -1);
    pc_room_free(room);
    pc_changelog_free(log);
}

/* A phase whose exit callback draws from the PRNG: after the change was
 * journaled, so the draws the log holds are those before it. */
static void exit_drawing(pc_room *room, const char *next, void *arg)
{
    (void)next;
    (void)arg;
    for (int i = 0; i < 3; i++) {
        (void)pc_room_random(room);
    }
}

/* A room r1 of game g (history_capacity history, 0: the default) with a
 * log in dir, not started. */
static pc_room *unstarted_room(const pc_game *g, size_t history,
                               pc_changelog **log)
{
    pc_room_options ro;
    pc_room_options_init(&ro);
    ro.id = "r1";
    if (history > 0) {
        ro.history_capacity = history;
    }
    pc_room *room = NULL;
    assert_int_equal(pc_room_new(g, &ro, &room), PC_OK);
    pc_changelog_options o;
    pc_changelog_options_init(&o);
    o.dir = dir;
    assert_int_equal(pc_changelog_create(&o, room, log, NULL), PC_OK);
    return room;
}

/* The base record's "enter" member (a base inside its phase's entry: here
 * the log of a room not yet started) must be {"from": a phase name or
 * null}; anything else is a damaged base record, and a name the game does
 * not have stops recovery. */
static void test_a_malformed_enter_member_is_corrupt(void **state)
{
    (void)state;
    pc_changelog *log = NULL;
    pc_room *room = unstarted_room(&game, 0, &log);
    pc_room_free(room);
    pc_changelog_free(log);
    long n, at[2];
    unsigned char *b = slurp(path, &n);
    assert_int_equal(frames(b, n, at, 2), 1);
    char base[2048];
    uint32_t len = le32(b + at[0]);
    assert_true(len < sizeof(base));
    memcpy(base, b + at[0] + 8, len);
    base[len] = '\0';
    const char *was = "\"enter\":{\"from\":null}";
    char *p = strstr(base, was);
    assert_non_null(p);
    static const char *bad[] = {
        "\"enter\":5",
        "\"enter\":{}",
        "\"enter\":{\"from\":\"\"}",
        "\"enter\":{\"from\":7}",
        "\"enter\":{\"from\":\"A\",\"x\":1}",
        "\"enter\":{\"from\":"
        "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\""
        "}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]) + 1; i++) {
        const char *with = i < sizeof(bad) / sizeof(bad[0])
                               ? bad[i]
                               : "\"enter\":{\"from\":\"NOPE\"}";
        char payload[2200];
        snprintf(payload, sizeof(payload), "%.*s%s%s", (int)(p - base), base,
                 with, p + strlen(was));
        unsigned char *c = malloc((size_t)n + 256);
        assert_non_null(c);
        memcpy(c, b, (size_t)n);
        long m = reframe(c, n, at[0], payload);
        spit(path, c, m);
        free(c);
        pc_changelog_report rep;
        pc_err want = i < sizeof(bad) / sizeof(bad[0]) ? PC_ERR_INVALID : PC_OK;
        assert_int_equal(pc_changelog_verify(path, &rep), want);
        if (want != PC_OK) {
            assert_int_equal(rep.problem, PC_CHANGELOG_CORRUPT);
            assert_non_null(strstr(rep.message, "\"enter\""));
            continue;
        }
        /* Well formed, but the game has no phase NOPE. */
        pc_changelog_game games[] = {{&game, NULL}};
        pc_changelog_options o;
        pc_changelog_options_init(&o);
        o.dir = dir;
        pc_room *r = NULL;
        pc_changelog *l = NULL;
        pc_error e = {0};
        assert_int_equal(
            pc_changelog_recover(&o, "r1", games, 1, NULL, 0, &r, &l, &rep, &e),
            PC_ERR_PHASE);
        assert_null(r);
        assert_null(l);
        assert_non_null(strstr(e.message, "cannot restore room r1"));
    }
    free(b);
}

static const pc_phase drawing_phases[] = {{.name = "A", .exit = exit_drawing},
                                          {.name = "B"}};
static const pc_game drawing = {
    .name = "logged", .phases = drawing_phases, .nphases = 2};

static void test_record_text_is_the_logs_record_byte_for_byte(void **state)
{
    (void)state;
    pc_changelog *log = NULL;
    pc_room *room = unstarted_room(&drawing, 3, &log);
    assert_int_equal(pc_room_start(room), PC_OK);
    update_n(room, 1);
    (void)pc_room_random(room);
    assert_int_equal(pc_transition_text(room, "B", "{\"f\":0.1}", "go"), PC_OK);
    update_n(room, 3);
    assert_int_equal(pc_update_phase_text(room, "{\"x\":1e-7}", "tiny"), PC_OK);
    long n, at[8];
    unsigned char *b = slurp(path, &n);
    assert_int_equal(frames(b, n, at, 8), 5); /* the base, then 4 changes */
    for (uint64_t seq = 2; seq <= 4; seq++) {
        char *text = NULL;
        size_t len = 0;
        assert_int_equal(pc_changelog_record_text(room, seq, &text, &len),
                         PC_OK);
        assert_int_equal(len, le32(b + at[seq]));
        assert_memory_equal(text, b + at[seq] + 8, len);
        assert_int_equal(text[len], '\0');
        pc_free(text);
    }
    /* The transition's record counts the one draw before it, not the
     * three its old phase's exit callback made after it was journaled. */
    assert_non_null(strstr((const char *)b + at[2] + 8, "\"draws\":1,"));
    free(b);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(pc_changelog_record_text(room, 1, &text, &len),
                     PC_ERR_NOT_FOUND); /* evicted */
    assert_int_equal(pc_changelog_record_text(room, 5, &text, &len),
                     PC_ERR_NOT_FOUND);
    assert_int_equal(pc_changelog_record_text(room, 2, NULL, &len),
                     PC_ERR_INVALID);
    assert_null(text);
    pc_room_free(room);
    pc_changelog_free(log);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
    const struct CMUnitTest tests[] = {
        T(test_new_log_holds_one_base_record_and_verifies),
        T(test_every_committed_change_is_in_the_log),
        T(test_creating_a_second_log_for_a_room_is_refused),
        T(test_file_layout_is_the_documented_one),
        T(test_verify_calls_a_cut_last_record_torn),
        T(test_verify_calls_damage_before_valid_frames_corrupt),
        T(test_verify_recomputes_every_state_checksum),
        T(test_verify_refuses_a_file_that_is_not_a_log),
        T(test_odd_reasons_are_logged_as_valid_json),
        T(test_fsync_policies_sync_as_documented),
        T(test_keyframes_compact_the_log),
        T(test_record_text_is_the_logs_record_byte_for_byte),
        T(test_a_malformed_enter_member_is_corrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
