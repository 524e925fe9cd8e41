/*
 * test_timeline.c - the timeline (phasecast/timeline.h) over real change
 * logs written by real rooms: the state at every seq, across archived
 * segments, pruning and a missing segment; a torn tail and refresh while
 * the room keeps writing, across compactions; corruption; records fed
 * one by one; touches, find and blame; allocation failures.
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
#include <sys/stat.h>
#include <unistd.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/changelog.h"
#include "phasecast/json.h"
#include "phasecast/room.h"
#include "phasecast/timeline.h"
#include "testalloc.h"

#define MAXSEQ 400

static const pc_phase phases[] = {{.name = "A"}, {.name = "B"}};
static const pc_game game = {
    .name = "tl", .phases = phases, .nphases = 2, .initial_phase = "A"};

/* A room logging into dir, and the canonical state after every seq. */
typedef struct fixture {
    char dir[64];
    char path[128];
    pc_room *room;
    pc_changelog *log;
    char *states[MAXSEQ + 1];
    uint64_t seq;
} fixture;

static void record_state(pc_room *room, const pc_change *c, void *arg)
{
    fixture *f = arg;
    assert_true(c->seq <= MAXSEQ);
    size_t len;
    pc_free(f->states[c->seq]);
    assert_int_equal(
        pc_canon_print(pc_room_state(room), &f->states[c->seq], &len), PC_OK);
    f->seq = c->seq;
}

static void open_fixture(fixture *f, uint64_t keyframe, size_t keep)
{
    memset(f, 0, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/pc-timeline.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/t1.pclog", f->dir);
    pc_room_options ro;
    pc_room_options_init(&ro);
    ro.id = "t1";
    ro.seed = 9;
    ro.seed_set = true;
    assert_int_equal(pc_room_new(&game, &ro, &f->room), PC_OK);
    pc_changelog_options lo;
    pc_changelog_options_init(&lo);
    lo.dir = f->dir;
    lo.fsync = PC_FSYNC_NONE;
    lo.keyframe_every = keyframe;
    lo.keep_segments = keep;
    assert_int_equal(pc_changelog_create(&lo, f->room, &f->log, NULL), PC_OK);
    assert_int_equal(pc_room_add_sink(f->room, record_state, f), PC_OK);
    assert_int_equal(pc_room_start(f->room), PC_OK);
    size_t len;
    assert_int_equal(
        pc_canon_print(pc_room_state(f->room), &f->states[0], &len), PC_OK);
}

/* Change i: counters, a nested object that is set, replaced and deleted,
 * and a transition every 10th change. */
static void change(fixture *f, uint64_t i)
{
    char patch[256];
    if (i % 10 == 9) {
        const char *to = strcmp(pc_room_phase(f->room), "A") == 0 ? "B" : "A";
        snprintf(patch, sizeof patch, "{\"flips\":%llu}",
                 (unsigned long long)i / 10);
        assert_int_equal(pc_transition_text(f->room, to, patch, "flip"), PC_OK);
        return;
    }
    if (i % 7 == 3) {
        snprintf(patch, sizeof patch, "{\"box\":null}");
    } else if (i % 7 == 5) {
        snprintf(patch, sizeof patch, "{\"box\":%llu}", (unsigned long long)i);
    } else {
        snprintf(patch, sizeof patch,
                 "{\"n\":%llu,\"box\":{\"k%llu\":{\"v\":%llu}}}",
                 (unsigned long long)i, (unsigned long long)(i % 4),
                 (unsigned long long)i);
    }
    assert_int_equal(pc_update_phase_text(f->room, patch, "step"), PC_OK);
}

static void drive(fixture *f, uint64_t n)
{
    uint64_t from = f->seq;
    for (uint64_t i = from; i < from + n; i++) {
        change(f, i);
    }
}

static void close_fixture(fixture *f)
{
    pc_room_free(f->room);
    pc_changelog_free(f->log);
    for (size_t i = 0; i <= MAXSEQ; i++) {
        pc_free(f->states[i]);
    }
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
}

static void assert_states(pc_timeline *tl, const fixture *f)
{
    for (uint64_t s = pc_timeline_first_seq(tl); s <= pc_timeline_last_seq(tl);
         s++) {
        cJSON *doc = NULL;
        assert_int_equal(pc_timeline_state_at(tl, s, &doc), PC_OK);
        char *text = NULL;
        size_t len;
        assert_int_equal(pc_canon_print(doc, &text, &len), PC_OK);
        if (strcmp(text, f->states[s]) != 0) {
            fail_msg("seq %llu: timeline %s, room %s", (unsigned long long)s,
                     text, f->states[s]);
        }
        pc_free(text);
        cJSON_Delete(doc);
    }
}

static size_t count_segments(const fixture *f)
{
    char cmd[200];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c 't1\\.pclog\\.[0-9]' > %s/n",
             f->dir, f->dir);
    (void)system(cmd);
    char p[100];
    snprintf(p, sizeof p, "%s/n", f->dir);
    FILE *fp = fopen(p, "r");
    assert_non_null(fp);
    unsigned n = 0;
    assert_int_equal(fscanf(fp, "%u", &n), 1);
    fclose(fp);
    unlink(p);
    return n;
}

static void every_state_from_a_whole_log(void **state)
{
    (void)state;
    fixture f;
    open_fixture(&f, 0, PC_CHANGELOG_KEEP_ALL);
    drive(&f, 300);
    pc_timeline *tl = NULL;
    assert_int_equal(pc_timeline_open_log(f.path, 0, &tl, NULL, NULL), PC_OK);
    assert_string_equal(pc_timeline_room(tl), "t1");
    assert_string_equal(pc_timeline_game(tl), "tl");
    assert_int_equal(pc_timeline_first_seq(tl), 0);
    assert_int_equal(pc_timeline_last_seq(tl), 300);
    assert_states(tl, &f);
    pc_timeline_entry e;
    assert_int_equal(pc_timeline_get(tl, 10, &e), PC_OK);
    assert_int_equal(e.kind, PC_CHANGE_TRANSITION);
    assert_string_equal(e.prev, "A");
    assert_string_equal(e.phase, "B");
    assert_string_equal(e.reason, "flip");
    assert_int_equal(e.patch_bytes, strlen("{\"flips\":0}"));
    assert_int_equal(pc_timeline_get(tl, 0, &e), PC_ERR_NOT_FOUND);
    assert_int_equal(pc_timeline_get(tl, 301, &e), PC_ERR_NOT_FOUND);
    cJSON *doc = NULL;
    assert_int_equal(pc_timeline_state_at(tl, 301, &doc), PC_ERR_NOT_FOUND);
    uint64_t seed;
    uint64_t draws;
    assert_true(pc_timeline_prng_at(tl, 150, &seed, &draws));
    assert_int_equal(seed, 9);
    pc_timeline_free(tl);
    close_fixture(&f);
}

static void segments_make_one_history(void **state)
{
    (void)state;
    fixture f;
    open_fixture(&f, 25, PC_CHANGELOG_KEEP_ALL);
    drive(&f, 310);
    assert_int_equal(count_segments(&f), 12);
    pc_timeline *tl = NULL;
    assert_int_equal(pc_timeline_open_log(f.path, 0, &tl, NULL, NULL), PC_OK);
    assert_int_equal(pc_timeline_first_seq(tl), 0);
    assert_int_equal(pc_timeline_last_seq(tl), 310);
    assert_states(tl, &f);
    pc_timeline_free(tl);
    /* The live file alone starts at the last compaction. */
    assert_int_equal(
        pc_timeline_open_log(f.path, PC_TIMELINE_NO_SEGMENTS, &tl, NULL, NULL),
        PC_OK);
    assert_int_equal(pc_timeline_first_seq(tl), 300);
    assert_states(tl, &f);
    pc_timeline_free(tl);
    /* Without a middle segment, the history starts after the gap. */
    char seg[160];
    snprintf(seg, sizeof seg, "%s.100", f.path);
    assert_int_equal(unlink(seg), 0);
    assert_int_equal(pc_timeline_open_log(f.path, 0, &tl, NULL, NULL), PC_OK);
    assert_int_equal(pc_timeline_first_seq(tl), 125);
    assert_int_equal(pc_timeline_last_seq(tl), 310);
    assert_states(tl, &f);
    pc_timeline_free(tl);
    close_fixture(&f);
}

static void keep_segments_prunes_the_oldest(void **state)
{
    (void)state;
    fixture f;
    open_fixture(&f, 20, 3);
    drive(&f, 205);
    assert_int_equal(count_segments(&f), 3);
    pc_changelog_stats st;
    pc_changelog_stats_get(f.log, &st);
    assert_int_equal(st.segments_archived, 10);
    assert_int_equal(st.segments_pruned, 7);
    pc_timeline *tl = NULL;
    assert_int_equal(pc_timeline_open_log(f.path, 0, &tl, NULL, NULL), PC_OK);
    assert_int_equal(pc_timeline_first_seq(tl), 140);
    assert_states(tl, &f);
    pc_timeline_free(tl);
    close_fixture(&f);
    /* keep 0: compaction throws the old file away, as before. */
    open_fixture(&f, 20, 0);
    drive(&f, 45);
    assert_int_equal(count_segments(&f), 0);
    close_fixture(&f);
}

static void a_torn_tail_waits_and_refresh_follows(void **state)
{
    (void)state;
    fixture f;
    open_fixture(&f, 30, PC_CHANGELOG_KEEP_ALL);
    drive(&f, 20);
    /* Cut the last record short, as a reader racing the writer sees it. */
    struct stat st;
    assert_int_equal(stat(f.path, &st), 0);
    char copy[160];
    snprintf(copy, sizeof copy, "%s/whole", f.dir);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "cp %s %s", f.path, copy);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(truncate(f.path, st.st_size - 5), 0);
    pc_timeline *tl = NULL;
    assert_int_equal(pc_timeline_open_log(f.path, 0, &tl, NULL, NULL), PC_OK);
    assert_int_equal(pc_timeline_last_seq(tl), 19);
    /* The write completes: refresh reads the record. */
    snprintf(cmd, sizeof cmd, "cat %s > %s", copy, f.path);
    assert_int_equal(system(cmd), 0);
    size_t added = 0;
    assert_int_equal(pc_timeline_refresh(tl, &added, NULL), PC_OK);
    assert_int_equal(added, 1);
    assert_int_equal(pc_timeline_last_seq(tl), 20);
    /* The room goes on, through three compactions. */
    drive(&f, 85);
    assert_int_equal(pc_timeline_refresh(tl, &added, NULL), PC_OK);
    assert_int_equal(added, 85);
    assert_int_equal(pc_timeline_last_seq(tl), 105);
    assert_states(tl, &f);
    assert_int_equal(pc_timeline_refresh(tl, &added, NULL), PC_OK);
    assert_int_equal(added, 0);
    pc_timeline_free(tl);
    close_fixture(&f);
}

static void a_corrupt_log_is_refused_with_its_offset(void **state)
{
    (void)state;
    fixture f;
    open_fixture(&f, 0, PC_CHANGELOG_KEEP_ALL);
    drive(&f, 40);
    FILE *fp = fopen(f.path, "r+");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 2000, SEEK_SET), 0);
    fputs("@@@@", fp);
    fclose(fp);
    pc_timeline *tl = NULL;
    pc_error err = {0};
    pc_changelog_report rep;
    assert_int_equal(pc_timeline_open_log(f.path, 0, &tl, &rep, &err),
                     PC_ERR_INVALID);
    assert_null(tl);
    assert_non_null(strstr(err.message, "offset"));
    assert_string_equal(err.code, "corrupt_log");
    assert_int_equal(
        pc_timeline_open_log("/nonexistent/x.pclog", 0, &tl, NULL, &err),
        PC_ERR_NOT_FOUND);
    close_fixture(&f);
}

static cJSON *parse(const char *text)
{
    cJSON *v = NULL;
    assert_int_equal(pc_json_parse(text, strlen(text), NULL, &v, NULL), PC_OK);
    return v;
}

static void records_fed_one_by_one(void **state)
{
    (void)state;
    cJSON *base = parse("{\"data\":{\"a\":1},\"phase\":\"A\"}");
    uint64_t sum;
    size_t len;
    assert_int_equal(pc_canon_checksum(base, &sum, &len), PC_OK);
    pc_timeline *tl = NULL;
    assert_int_equal(pc_timeline_new("r", "g", 7, base, sum + 1, &tl, NULL),
                     PC_ERR_INVALID);
    assert_int_equal(pc_timeline_new("r", "g", 7, base, sum, &tl, NULL), PC_OK);
    cJSON *next = parse("{\"data\":{\"a\":2},\"phase\":\"A\"}");
    uint64_t s2;
    assert_int_equal(pc_canon_checksum(next, &s2, &len), PC_OK);
    char text[512];
    snprintf(text, sizeof text,
             "{\"type\":\"change\",\"seq\":8,\"time\":5,\"kind\":\"update\","
             "\"phase\":\"A\",\"prev\":\"A\",\"reason\":\"r\",\"file\":\"f\","
             "\"line\":1,\"func\":\"fn\",\"draws\":0,\"sum\":\"%016llx\","
             "\"bytes\":%zu,\"patch\":{\"a\":2}}",
             (unsigned long long)s2 ^ 1, len);
    cJSON *bad = parse(text);
    pc_error err = {0};
    assert_int_equal(pc_timeline_add(tl, bad, &err), PC_ERR_INVALID);
    assert_non_null(strstr(err.message, "checksum"));
    assert_int_equal(pc_timeline_last_seq(tl), 7);
    snprintf(text, sizeof text,
             "{\"type\":\"change\",\"seq\":8,\"time\":5,\"kind\":\"update\","
             "\"phase\":\"A\",\"prev\":\"A\",\"reason\":\"r\",\"file\":\"f\","
             "\"line\":1,\"func\":\"fn\",\"draws\":0,\"sum\":\"%016llx\","
             "\"bytes\":%zu,\"patch\":{\"a\":2}}",
             (unsigned long long)s2, len);
    cJSON *good = parse(text);
    assert_int_equal(pc_timeline_add(tl, good, NULL), PC_OK);
    assert_int_equal(pc_timeline_add(tl, good, NULL), PC_ERR_INVALID);
    cJSON *timer = parse("{\"type\":\"timer\",\"seq\":8,\"deadline\":null}");
    assert_int_equal(pc_timeline_add(tl, timer, NULL), PC_OK);
    assert_int_equal(pc_timeline_first_seq(tl), 7);
    assert_int_equal(pc_timeline_last_seq(tl), 8);
    cJSON *d = NULL;
    assert_int_equal(pc_timeline_diff(tl, 7, 8, &d), PC_OK);
    assert_int_equal(cJSON_GetArraySize(d), 1);
    size_t added;
    assert_int_equal(pc_timeline_refresh(tl, &added, NULL), PC_ERR_STATE);
    cJSON_Delete(d);
    cJSON_Delete(timer);
    cJSON_Delete(good);
    cJSON_Delete(bad);
    cJSON_Delete(next);
    cJSON_Delete(base);
    pc_timeline_free(tl);
}

static void touches_find_and_blame(void **state)
{
    (void)state;
    fixture f;
    open_fixture(&f, 0, PC_CHANGELOG_KEEP_ALL);
    drive(&f, 40);
    pc_timeline *tl = NULL;
    assert_int_equal(pc_timeline_open_log(f.path, 0, &tl, NULL, NULL), PC_OK);
    /* Change i is seq i + 1: seq 4 (i 3) deletes box, seq 13 (i 12) sets
     * it to a number, seq 10 (i 9) is a transition. */
    assert_true(pc_timeline_touches(tl, 4, "/data/box"));
    assert_true(pc_timeline_touches(tl, 4, "/data/box/k1/v")); /* ancestor */
    assert_true(pc_timeline_touches(tl, 2, "/data/box"));      /* inside */
    assert_false(pc_timeline_touches(tl, 2, "/data/flips"));
    assert_true(pc_timeline_touches(tl, 10, "/phase"));
    assert_false(pc_timeline_touches(tl, 9, "/phase"));
    assert_false(pc_timeline_touches(tl, 9, "/data/~2"));
    assert_false(pc_timeline_touches(tl, 99, "/data/n"));
    uint64_t s = 0;
    cJSON *six = parse("12");
    assert_int_equal(pc_timeline_find(tl, "/data/box", six, 0, &s), PC_OK);
    assert_int_equal(s, 13);
    assert_int_equal(pc_timeline_find(tl, "/data/box", NULL, 0, &s), PC_OK);
    assert_int_equal(s, 39); /* i 38: 38 % 7 == 3 */
    cJSON *b = parse("\"B\"");
    assert_int_equal(pc_timeline_find(tl, "/phase", b, 0, &s), PC_OK);
    assert_int_equal(s, 30);
    assert_int_equal(pc_timeline_find(tl, "/phase", b, 29, &s), PC_OK);
    assert_int_equal(s, 10);
    assert_int_equal(pc_timeline_find(tl, "/phase", b, 9, &s),
                     PC_ERR_NOT_FOUND);
    assert_int_equal(pc_timeline_find(tl, "data", b, 0, &s), PC_ERR_INVALID);
    /* blame: the last change of /data/n, then the one before it. */
    assert_int_equal(pc_timeline_blame(tl, "/data/n", 0, &s), PC_OK);
    assert_int_equal(s, 38); /* 40 flips, 39 deletes box; 38 is i 37 */
    assert_int_equal(pc_timeline_blame(tl, "/data/n", 37, &s), PC_OK);
    assert_int_equal(s, 37);
    assert_int_equal(pc_timeline_blame(tl, "/data/flips", 0, &s), PC_OK);
    assert_int_equal(s, 40);
    assert_int_equal(pc_timeline_blame(tl, "/data/flips", 39, &s), PC_OK);
    assert_int_equal(s, 30);
    assert_int_equal(pc_timeline_blame(tl, "/data/none", 0, &s),
                     PC_ERR_NOT_FOUND);
    cJSON_Delete(six);
    cJSON_Delete(b);
    pc_timeline_free(tl);
    close_fixture(&f);
}

static void open_survives_every_allocation_failure(void **state)
{
    (void)state;
    fixture f;
    open_fixture(&f, 15, PC_CHANGELOG_KEEP_ALL);
    drive(&f, 40);
    testalloc_install();
    size_t base = testalloc_live();
    bool done = false;
    for (size_t n = 1; !done && n < 100000; n++) {
        testalloc_fail_at(n, false);
        pc_timeline *tl = NULL;
        pc_err rv = pc_timeline_open_log(f.path, 0, &tl, NULL, NULL);
        bool failed = testalloc_failed();
        testalloc_fail_at(0, false);
        if (rv == PC_OK) {
            cJSON *doc = NULL;
            assert_int_equal(pc_timeline_state_at(tl, 1, &doc), PC_OK);
            cJSON_Delete(doc);
            done = !failed;
        } else {
            assert_int_equal(rv, PC_ERR_NOMEM);
            assert_true(failed);
        }
        pc_timeline_free(tl);
        assert_int_equal(testalloc_live(), base);
    }
    assert_true(done);
    close_fixture(&f);
}

int main(void)
{
    testalloc_install(); /* before any room: it frees with this allocator */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_state_from_a_whole_log),
        cmocka_unit_test(segments_make_one_history),
        cmocka_unit_test(keep_segments_prunes_the_oldest),
        cmocka_unit_test(a_torn_tail_waits_and_refresh_follows),
        cmocka_unit_test(a_corrupt_log_is_refused_with_its_offset),
        cmocka_unit_test(records_fed_one_by_one),
        cmocka_unit_test(touches_find_and_blame),
        cmocka_unit_test(open_survives_every_allocation_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
