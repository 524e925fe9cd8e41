/*
 * test_cause_log.c - the change log keeps every change's cause
 * (docs/durability.md, the "cause" member): records carry it, recovery
 * rebuilds it into the history, and the log reads the same as the live
 * room. An action payload the log cannot hold (over the 1 MiB cap, or one
 * that would push the record past the frame limit) is written as dropped
 * and the change still commits; a number beyond 2^53 is written exactly
 * as the double it is. A cause that is present but malformed makes the
 * record corrupt, with a message saying what is wrong; a record without
 * one (older logs) reads back as having none. Allocation failures on the
 * way in and out leak nothing. Real files in a temporary directory.
 */
#define _POSIX_C_SOURCE 200809L
#include "test_cause_fixture.h"

#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/crc32c.h"
#include "phasecast/history.h"
#include "phasecast/timeline.h"
#include "testalloc.h"

static char dir[64];
static char path[128];

static int make_dir(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/pc-cause-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    snprintf(path, sizeof path, "%s/c1.pclog", dir);
    big_strings = 0; /* whatever a failed test left */
    history_capacity = 0;
    return testalloc_setup(state);
}

static int remove_dir(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    int failed = testalloc_teardown(state);
    return system(cmd) == 0 && failed == 0 ? 0 : -1;
}

/* The whole file at p; *n its size. Caller frees. */
static unsigned char *slurp(const char *p, size_t *n)
{
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)size + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *n = (size_t)size;
    return b;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (unsigned char)(v >> (8 * i));
    }
}

/* Change a record in place (rec is the parsed record). */
typedef void (*mutate_fn)(cJSON *rec, void *arg);

/* Rewrite the log bytes b[0..n) to path with fn applied to every record,
 * each frame's length and CRC-32C made right again (docs/durability.md:
 * header of 16 bytes, then frames of le32 length, le32 CRC-32C of the
 * length's bytes and the payload, payload). */
static void rewrite(const unsigned char *b, size_t n, mutate_fn fn, void *arg)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, 16, f), 16);
    for (size_t off = 16; off < n;) {
        uint32_t len = le32(b + off);
        cJSON *rec = cJSON_ParseWithLength((const char *)b + off + 8, len);
        assert_non_null(rec);
        fn(rec, arg);
        char *text = cJSON_PrintUnformatted(rec);
        assert_non_null(text);
        unsigned char head[8];
        uint32_t tlen = (uint32_t)strlen(text);
        put_le32(head, tlen);
        put_le32(head + 4,
                 pc_crc32c(pc_crc32c(0, head, 4), text, (size_t)tlen));
        assert_int_equal(fwrite(head, 1, 8, f), 8);
        assert_int_equal(fwrite(text, 1, tlen, f), tlen);
        cJSON_free(text);
        cJSON_Delete(rec);
        off += 8 + len;
    }
    fclose(f);
}

static pc_err recover(pc_room **room, pc_changelog **log,
                      pc_changelog_report *rep)
{
    pc_changelog_options lo;
    pc_changelog_options_init(&lo);
    lo.dir = dir;
    lo.fsync = PC_FSYNC_NONE;
    pc_changelog_game g = {&game, NULL};
    pc_room_options ro;
    pc_room_options_init(&ro);
    if (big_strings > 0) { /* the limits room_with gave the room */
        ro.limits.max_string = big_strings;
        ro.limits.max_bytes = big_strings;
        ro.limits.max_state_bytes = big_strings * 2;
    }
    return pc_changelog_recover(&lo, "c1", &g, 1, &ro, 0, room, log, rep, NULL);
}

/* The record text of every seq 1..n of room, in texts[0..n). */
static void record_texts(const pc_room *room, char **texts, int n)
{
    for (int i = 0; i < n; i++) {
        size_t len;
        assert_int_equal(
            pc_changelog_record_text(room, (uint64_t)i + 1, &texts[i], &len),
            PC_OK);
    }
}

static void test_the_log_keeps_causes_through_recovery(void **state)
{
    (void)state;
    pc_changelog *log = NULL;
    pc_room *room = room_with(dir, &log);
    play(room);
    char *live[7];
    record_texts(room, live, 7);
    assert_non_null(strstr(live[2], ",\"patch\":{\"b\":2},\"cause\":{"
                                    "\"kind\":\"action\",\"first\":2,"
                                    "\"player\":\"alice\",\"type\":\"go\","
                                    "\"payload\":{\"n\":5}}}"));
    assert_non_null(strstr(live[0], "\"cause\":{\"kind\":\"start\","
                                    "\"first\":1}}"));
    assert_non_null(strstr(live[5], "\"cause\":{\"kind\":\"timeout\","
                                    "\"first\":6,\"phase\":\"PLAY\"}}"));
    assert_non_null(strstr(live[6], "\"cause\":{\"kind\":\"host\","
                                    "\"first\":7}}"));
    pc_room_free(room);
    pc_changelog_free(log);

    pc_changelog_report rep;
    assert_int_equal(pc_changelog_verify(path, &rep), PC_OK);
    assert_int_equal(rep.last_seq, 7);
    assert_int_equal(recover(&room, &log, &rep), PC_OK);
    pc_cause back[7];
    char players[7][16];
    for (uint64_t s = 1; s <= 7; s++) {
        const pc_change *c;
        assert_int_equal(pc_history_get(room, s, &c), PC_OK);
        back[s - 1] = c->cause;
        snprintf(players[s - 1], sizeof players[0], "%s",
                 c->cause.player != NULL ? c->cause.player : "");
    }
    check_causes(back, (const char(*)[16])players);
    /* The rebuilt records read exactly as the live room's. */
    char *again[7];
    record_texts(room, again, 7);
    for (int i = 0; i < 7; i++) {
        assert_string_equal(again[i], live[i]);
        pc_free(again[i]);
        pc_free(live[i]);
    }
    /* The recovered room goes on making causes, from where it stands. */
    assert_int_equal(pc_room_start(room), PC_OK);
    assert_int_equal(pc_update_phase_text(room, "{\"z\":1}", "host"), PC_OK);
    const pc_change *c;
    assert_int_equal(pc_history_get(room, 8, &c), PC_OK);
    assert_int_equal(c->cause.kind, PC_CAUSE_HOST);
    assert_int_equal(c->cause.first_seq, 8);
    pc_room_free(room);
    pc_changelog_free(log);
}

/* One "big" action by carol with a payload of one string of n bytes. */
static void act_with_blob(pc_room *room, const char *type, size_t n)
{
    char *blob = malloc(n + 1);
    assert_non_null(blob);
    memset(blob, 'x', n);
    blob[n] = '\0';
    cJSON *payload = cJSON_CreateObject();
    assert_non_null(cJSON_AddStringToObject(payload, "blob", blob));
    free(blob);
    pc_action act = {.player = "carol", .type = type, .payload = payload};
    pc_error err = {0};
    if (pc_room_action(room, &act, NULL, &err) != PC_OK) {
        fail_msg("%s: %s", type, err.message);
    }
    cJSON_Delete(payload);
}

/* Recover the room of dir and check that seq 8's payload was dropped. */
static void expect_dropped_at_8(void)
{
    pc_changelog_report rep;
    assert_int_equal(pc_changelog_verify(path, &rep), PC_OK);
    assert_int_equal(rep.last_seq, 8);
    pc_room *room = NULL;
    pc_changelog *log = NULL;
    assert_int_equal(recover(&room, &log, &rep), PC_OK);
    const pc_change *c;
    assert_int_equal(pc_history_get(room, 8, &c), PC_OK);
    assert_int_equal(c->cause.kind, PC_CAUSE_ACTION);
    assert_int_equal(c->cause.first_seq, 8);
    assert_string_equal(c->cause.player, "carol");
    assert_null(c->cause.payload);
    assert_true(c->cause.payload_dropped);
    char *text;
    size_t len;
    assert_int_equal(pc_changelog_record_text(room, 8, &text, &len), PC_OK);
    assert_non_null(strstr(text, "\"payload\":null,\"payload_dropped\":true}"));
    pc_free(text);
    pc_room_free(room);
    pc_changelog_free(log);
}

static void test_a_payload_over_the_cap_is_dropped_not_the_change(void **state)
{
    (void)state;
    pc_changelog *log = NULL;
    big_strings = (size_t)2 << 20; /* the room itself accepts it */
    pc_room *room = room_with(dir, &log);
    play(room);
    act_with_blob(room, "big", 1536 * 1024); /* over the 1 MiB cap */
    assert_int_equal(pc_room_seq(room), 8);
    /* The live history keeps the payload; only the log goes without. */
    const pc_change *c;
    assert_int_equal(pc_history_get(room, 8, &c), PC_OK);
    assert_non_null(c->cause.payload);
    assert_false(c->cause.payload_dropped);
    pc_room_free(room);
    pc_changelog_free(log);
    expect_dropped_at_8();
    big_strings = 0;
}

static void test_a_payload_that_overflows_the_frame_is_dropped(void **state)
{
    (void)state;
    pc_changelog *log = NULL;
    big_strings = (size_t)20 << 20;
    pc_room *room = room_with(dir, &log);
    play(room);
    /* A 15.5 MiB patch fits in a 16 MiB frame; with a 0.9 MiB payload
     * (under the cap) the record would not. */
    size_t n = (size_t)31 << 19;
    char *blob = malloc(n + 1);
    assert_non_null(blob);
    memset(blob, 'y', n);
    blob[n] = '\0';
    cJSON *patch = cJSON_CreateObject();
    assert_non_null(cJSON_AddStringToObject(patch, "huge", blob));
    free(blob);
    fill_patch = patch;
    act_with_blob(room, "fill", 900 * 1024);
    fill_patch = NULL;
    cJSON_Delete(patch);
    assert_int_equal(pc_room_seq(room), 8);
    assert_false(pc_room_failed(room, NULL));
    pc_room_free(room);
    pc_changelog_free(log);
    expect_dropped_at_8();
    big_strings = 0;
}

static void test_numbers_beyond_2e53_are_written_exactly(void **state)
{
    (void)state;
    pc_changelog *log = NULL;
    pc_room *room = room_with(dir, &log);
    play(room);
    /* 2^60, -(2^60 + 2^10) and 0.1: doubles a payload (and a patch) may
     * hold; the canonical text reads back as the very same doubles. */
    const char *t = "{\"big\":1152921504606846976,"
                    "\"neg\":-1152921504606848000,\"f\":0.1}";
    cJSON *payload = NULL;
    assert_int_equal(pc_json_parse(t, strlen(t), NULL, &payload, NULL), PC_OK);
    fill_patch = payload;
    pc_action act = {.player = "dave", .type = "fill", .payload = payload};
    assert_int_equal(pc_room_action(room, &act, NULL, NULL), PC_OK);
    fill_patch = NULL;
    char *text;
    size_t len;
    assert_int_equal(pc_changelog_record_text(room, 8, &text, &len), PC_OK);
    assert_null(strstr(text, "payload_dropped"));
    assert_non_null(strstr(text, "\"payload\":{\"big\":1.152921504606847e+18,"
                                 "\"f\":0.1,\"neg\":-1.152921504606848e+18}"));
    pc_free(text);
    pc_room_free(room);
    pc_changelog_free(log);

    pc_changelog_report rep;
    assert_int_equal(recover(&room, &log, &rep), PC_OK);
    const pc_change *c;
    assert_int_equal(pc_history_get(room, 8, &c), PC_OK);
    assert_false(c->cause.payload_dropped);
    assert_true(pc_json_equal(c->cause.payload, payload));
    assert_true(pc_json_equal(c->patch, payload));
    const cJSON *big =
        cJSON_GetObjectItemCaseSensitive(c->cause.payload, "big");
    assert_true(big->valuedouble == 1152921504606846976.0);
    cJSON_Delete(payload);
    pc_room_free(room);
    pc_changelog_free(log);
}

/* Set member `key` of the cause of change `seq` to the JSON text `value`
 * (NULL: remove it; key "" means the cause itself). */
typedef struct edit {
    uint64_t seq;
    const char *key;
    const char *value;
    const char *says; /* in the corruption message */
} edit;

static void apply_edit(cJSON *rec, void *arg)
{
    const edit *e = arg;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(rec, "type");
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(rec, "seq");
    if (strcmp(type->valuestring, "change") != 0 ||
        (e->seq != 0 && seq->valuedouble != (double)e->seq)) {
        return;
    }
    cJSON *o = rec;
    const char *key = "cause";
    if (e->key[0] != '\0') {
        o = cJSON_GetObjectItemCaseSensitive(rec, "cause");
        key = e->key;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(o, key);
    if (e->value != NULL) {
        cJSON *v = cJSON_Parse(e->value);
        assert_non_null(v);
        cJSON_AddItemToObject(o, key, v);
    }
}

static void test_a_malformed_cause_makes_the_log_corrupt(void **state)
{
    (void)state;
    pc_changelog *log = NULL;
    pc_room *room = room_with(dir, &log);
    play(room);
    pc_room_free(room);
    pc_changelog_free(log);
    size_t n;
    unsigned char *orig = slurp(path, &n);
    static const edit cases[] = {
        {3, "", "7", "not an object"},
        {3, "kind", "\"nope\"", "\"kind\""},
        {3, "kind", NULL, "\"kind\""},
        {3, "first", "0", "\"first\""},
        {3, "first", "99", "\"first\""},
        {3, "first", "1.5", "\"first\""},
        {3, "first", "\"2\"", "\"first\""},
        {3, "player", NULL, "\"player\""},
        {3, "type", "5", "\"type\""},
        {3, "payload", NULL, "\"payload\""},
        {3, "payload_dropped", "\"yes\"", "payload_dropped"},
        {3, "payload_dropped", "true", "payload_dropped"},
        {6, "phase", NULL, "\"phase\""},
        {6, "phase",
         "\"PLAY_PLAY_PLAY_PLAY_PLAY_PLAY_PLAY_PLAY_PLAY_PLAY_"
         "PLAY_PLAY_PLAY_\"",
         "\"phase\""},
        {1, "kind", "\"timeout\"", "\"phase\""},
        {4, "first", "3", "seq 3 began its stimulus at 2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rewrite(orig, n, apply_edit, (void *)&cases[i]);
        pc_changelog_report rep;
        assert_int_equal(pc_changelog_verify(path, &rep), PC_ERR_INVALID);
        assert_int_equal(rep.problem, PC_CHANGELOG_CORRUPT);
        assert_int_equal(rep.last_seq, cases[i].seq - 1);
        if (strstr(rep.message, "malformed \"cause\"") == NULL ||
            strstr(rep.message, cases[i].says) == NULL) {
            fail_msg("case %zu: %s", i, rep.message);
        }
        /* Recovery refuses it too (a repair would cut it off). */
        assert_int_equal(recover(&room, &log, &rep), PC_ERR_INVALID);
    }
    /* Control: the rewriting itself keeps a log valid, and a member a
     * reader does not know is ignored. */
    static const edit unknown = {3, "later", "{\"x\":1}", NULL};
    rewrite(orig, n, apply_edit, (void *)&unknown);
    pc_changelog_report rep;
    assert_int_equal(pc_changelog_verify(path, &rep), PC_OK);
    assert_int_equal(rep.last_seq, 7);
    free(orig);
}

static void test_records_without_a_cause_read_back_with_none(void **state)
{
    (void)state;
    pc_changelog *log = NULL;
    pc_room *room = room_with(dir, &log);
    play(room);
    pc_room_free(room);
    pc_changelog_free(log);
    size_t n;
    unsigned char *orig = slurp(path, &n);
    /* Seqs 1-4 as a log from before causes wrote them; 5-7 with theirs
     * (seq 5 continues seq 4's stimulus, which the file does not show). */
    for (uint64_t s = 1; s <= 4; s++) {
        edit strip = {s, "", NULL, NULL};
        rewrite(orig, n, apply_edit, &strip);
        free(orig);
        orig = slurp(path, &n);
    }
    pc_changelog_report rep;
    assert_int_equal(pc_changelog_verify(path, &rep), PC_OK);
    assert_int_equal(recover(&room, &log, &rep), PC_OK);
    for (uint64_t s = 1; s <= 7; s++) {
        const pc_change *c;
        assert_int_equal(pc_history_get(room, s, &c), PC_OK);
        assert_int_equal(c->cause.first_seq, s <= 4 ? 0 : s == 5 ? 2 : s);
        if (s <= 4) {
            assert_int_equal(c->cause.kind, PC_CAUSE_HOST);
            assert_null(c->cause.player);
            assert_null(c->cause.payload);
            char *text;
            size_t len;
            assert_int_equal(pc_changelog_record_text(room, s, &text, &len),
                             PC_OK);
            assert_null(strstr(text, "\"cause\":"));
            pc_free(text);
        }
    }
    free(orig);
    pc_room_free(room);
    pc_changelog_free(log);
}

/* The timeline (time travel over records) reads causes with the same
 * parser: a malformed one is refused, a missing one is "none". */
static void test_the_timeline_refuses_a_malformed_cause(void **state)
{
    (void)state;
    cJSON *doc = NULL;
    const char *text = "{\"data\":{},\"phase\":\"A\"}";
    assert_int_equal(pc_json_parse(text, strlen(text), NULL, &doc, NULL),
                     PC_OK);
    uint64_t sum;
    size_t len;
    assert_int_equal(pc_canon_checksum(doc, &sum, &len), PC_OK);
    pc_timeline *tl = NULL;
    assert_int_equal(pc_timeline_new("r", "g", 0, doc, sum, &tl, NULL), PC_OK);
    static const char *const causes[] = {
        ",\"cause\":{\"kind\":\"nope\",\"first\":1}",
        ",\"cause\":{\"kind\":\"host\",\"first\":2}",
        ",\"cause\":{\"kind\":\"action\",\"first\":1}",
        ",\"cause\":{\"kind\":\"timeout\",\"first\":1}",
        ",\"cause\":7",
        ""};
    for (size_t i = 0; i < 6; i++) {
        char rec[512];
        snprintf(rec, sizeof rec,
                 "{\"type\":\"change\",\"seq\":1,\"time\":0,"
                 "\"kind\":\"update\",\"phase\":\"A\",\"prev\":\"A\","
                 "\"reason\":\"r\",\"file\":\"f\",\"line\":1,"
                 "\"func\":\"f\",\"draws\":0,\"sum\":\"%016llx\","
                 "\"bytes\":%zu,\"patch\":{}%s}",
                 (unsigned long long)sum, len, causes[i]);
        cJSON *r = NULL;
        assert_int_equal(pc_json_parse(rec, strlen(rec), NULL, &r, NULL),
                         PC_OK);
        pc_error err = {0};
        pc_err rv = pc_timeline_add(tl, r, &err);
        cJSON_Delete(r);
        if (i < 5) {
            assert_int_equal(rv, PC_ERR_INVALID);
            assert_non_null(strstr(err.message, "malformed \"cause\""));
        } else {
            assert_int_equal(rv, PC_OK);
        }
    }
    pc_timeline_entry e;
    assert_int_equal(pc_timeline_get(tl, 1, &e), PC_OK);
    assert_null(e.cause);
    pc_timeline_free(tl);
    cJSON_Delete(doc);
}

static void
test_logging_causes_under_allocation_failure_leaks_nothing(void **state)
{
    (void)state;
    pc_changelog *log = NULL;
    history_capacity = 4;
    pc_room *room = room_with(dir, &log);
    history_capacity = 0;
    play(room);
    const char *t = "{\"k\":[1,2,{\"x\":\"y\"}],\"s\":\"zz\"}";
    cJSON *payload = NULL;
    assert_int_equal(pc_json_parse(t, strlen(t), NULL, &payload, NULL), PC_OK);
    pc_action act = {.player = "erin", .type = "big", .payload = payload};
    for (size_t k = 1;; k++) {
        size_t live = testalloc_live();
        testalloc_fail_at(k, false);
        pc_err rv = pc_room_action(room, &act, NULL, NULL);
        testalloc_fail_at(0, false);
        pc_changelog_report rep;
        assert_int_equal(pc_changelog_verify(path, &rep), PC_OK);
        if (rv == PC_OK) {
            assert_int_equal(rep.last_seq, 8);
            break;
        }
        assert_int_equal(rv, PC_ERR_NOMEM);
        assert_false(pc_room_failed(room, NULL));
        assert_int_equal(pc_room_seq(room), 7);
        assert_int_equal(rep.last_seq, 7);
        assert_int_equal(testalloc_live(), live);
    }
    pc_room_free(room);
    pc_changelog_free(log);
    /* Recovery under allocation failure: fails cleanly, or rebuilds the
     * action's cause. */
    for (size_t k = 1;; k++) {
        pc_changelog_report rep;
        size_t live = testalloc_live();
        testalloc_fail_at(k, false);
        pc_err rv = recover(&room, &log, &rep);
        testalloc_fail_at(0, false);
        if (rv != PC_OK) {
            assert_int_equal(rv, PC_ERR_NOMEM);
            assert_int_equal(testalloc_live(), live);
            continue;
        }
        const pc_change *c;
        assert_int_equal(pc_history_get(room, 8, &c), PC_OK);
        assert_string_equal(c->cause.player, "erin");
        assert_true(pc_json_equal(c->cause.payload, payload));
        pc_room_free(room);
        pc_changelog_free(log);
        break;
    }
    cJSON_Delete(payload);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
    const struct CMUnitTest tests[] = {
        T(test_the_log_keeps_causes_through_recovery),
        T(test_a_payload_over_the_cap_is_dropped_not_the_change),
        T(test_a_payload_that_overflows_the_frame_is_dropped),
        T(test_numbers_beyond_2e53_are_written_exactly),
        T(test_a_malformed_cause_makes_the_log_corrupt),
        T(test_records_without_a_cause_read_back_with_none),
        T(test_the_timeline_refuses_a_malformed_cause),
        T(test_logging_causes_under_allocation_failure_leaks_nothing),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
