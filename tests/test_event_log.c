/*
 * test_event_log.c - events in the change log (docs/durability.md, the
 * "event" member): an event's record says "kind":"event" and holds its
 * name, audience and data; the log verifies clean; recovery replays it
 * (the state unchanged, the seq advanced) into the history, audiences
 * included, and the room continues; a timeline reads it back; and a
 * record that misstates an event (none on an event, one on an update, a
 * bad audience, a patch, a changed state) is refused with a message
 * saying what is wrong. Real files in a temporary directory.
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

#include "phasecast/canon.h"
#include "phasecast/changelog.h"
#include "phasecast/history.h"
#include "phasecast/json.h"
#include "phasecast/room.h"
#include "phasecast/timeline.h"
#include "testalloc.h"

static const pc_phase phases[] = {{.name = "ARENA"}};
static const pc_game arena = {.name = "arena", .phases = phases, .nphases = 1};

static char dir[64];
static char path[128];

static int make_dir(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/pc-event-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    snprintf(path, sizeof path, "%s/e1.pclog", dir);
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

static void options(pc_changelog_options *lo, pc_room_options *ro)
{
    pc_changelog_options_init(lo);
    lo->dir = dir;
    lo->fsync = PC_FSYNC_NONE;
    pc_room_options_init(ro);
    ro->id = "e1";
    ro->seed = 1;
    ro->seed_set = true;
    ro->clock = fixed_clock;
}

/* seq 1 update, 2 public event, 3 ann's event, 4 the gm's, 5 update. */
static uint64_t play(pc_room *room)
{
    cJSON *roll = cJSON_Parse("{\"roll\":20,\"target\":\"goblin\"}");
    cJSON *note = cJSON_CreateString("the goblin is the king");
    assert_int_equal(pc_update_phase_text(room, "{\"hp\":7}", "set"), PC_OK);
    uint64_t sum = pc_room_checksum(room);
    assert_int_equal(pc_room_event(room, "critical_hit", roll, "ann rolls 20"),
                     PC_OK);
    assert_int_equal(pc_room_event_to(room, PC_AUDIENCE_PLAYER, "ann",
                                      "objective", roll, "ann's secret"),
                     PC_OK);
    assert_int_equal(
        pc_room_event_to(room, PC_AUDIENCE_GM, NULL, "gm.note", note, "noted"),
        PC_OK);
    assert_int_equal(pc_room_checksum(room), sum);
    assert_int_equal(pc_update_phase_text(room, "{\"hp\":1}", "hit"), PC_OK);
    cJSON_Delete(roll);
    cJSON_Delete(note);
    return sum;
}

/* The text of the frame whose payload holds needle. Caller frees. */
static char *record_with(const char *needle)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    for (size_t off = 16; off + 8 <= n;) {
        uint32_t len = (uint32_t)(unsigned char)buf[off] |
                       (uint32_t)(unsigned char)buf[off + 1] << 8 |
                       (uint32_t)(unsigned char)buf[off + 2] << 16 |
                       (uint32_t)(unsigned char)buf[off + 3] << 24;
        char *rec = strndup(buf + off + 8, len);
        if (strstr(rec, needle) != NULL) {
            return rec;
        }
        free(rec);
        off += 8 + len;
    }
    fail_msg("no record holds %s", needle);
    return NULL;
}

static void test_event_records_say_what_the_event_is(void **state)
{
    (void)state;
    pc_changelog_options lo;
    pc_room_options ro;
    options(&lo, &ro);
    pc_room *room = NULL;
    pc_changelog *log = NULL;
    pc_error err = {0};
    assert_int_equal(pc_room_new(&arena, &ro, &room), PC_OK);
    assert_int_equal(pc_changelog_create(&lo, room, &log, &err), PC_OK);
    assert_int_equal(pc_room_start(room), PC_OK);
    play(room);
    pc_room_free(room);
    pc_changelog_free(log);

    char *rec = record_with("\"seq\":2,");
    const char *want =
        "\"kind\":\"event\",\"phase\":\"ARENA\",\"prev\":\"ARENA\","
        "\"reason\":\"ann rolls 20\"";
    assert_non_null(strstr(rec, want));
    assert_non_null(
        strstr(rec, ",\"patch\":{},\"event\":{\"name\":\"critical_hit\","
                    "\"audience\":\"public\",\"data\":{\"roll\":20,"
                    "\"target\":\"goblin\"}},\"cause\":{\"kind\":\"host\","
                    "\"first\":2}}"));
    free(rec);
    rec = record_with("\"seq\":3,");
    assert_non_null(strstr(rec, "\"event\":{\"name\":\"objective\","
                                "\"audience\":\"player\",\"player\":\"ann\","));
    free(rec);
    rec = record_with("\"seq\":4,");
    assert_non_null(strstr(rec, "\"event\":{\"name\":\"gm.note\","
                                "\"audience\":\"gm\",\"data\":\"the goblin "
                                "is the king\"}"));
    free(rec);

    pc_changelog_report rep;
    assert_int_equal(pc_changelog_verify(path, &rep), PC_OK);
    assert_int_equal(rep.problem, PC_CHANGELOG_CLEAN);
    assert_int_equal(rep.last_seq, 5);
}

static void test_recovery_replays_events_and_continues(void **state)
{
    (void)state;
    pc_changelog_options lo;
    pc_room_options ro;
    options(&lo, &ro);
    pc_room *room = NULL;
    pc_changelog *log = NULL;
    pc_error err = {0};
    assert_int_equal(pc_room_new(&arena, &ro, &room), PC_OK);
    assert_int_equal(pc_changelog_create(&lo, room, &log, &err), PC_OK);
    assert_int_equal(pc_room_start(room), PC_OK);
    play(room);
    /* A last event, so the log ends on one. */
    assert_int_equal(pc_room_event(room, "last", NULL, "the end"), PC_OK);
    uint64_t sum = pc_room_checksum(room);
    pc_room_free(room);
    pc_changelog_free(log);

    const pc_changelog_game games[] = {{.game = &arena, .arg = NULL}};
    pc_changelog_report rep;
    assert_int_equal(pc_changelog_recover(&lo, "e1", games, 1, &ro, 0, &room,
                                          &log, &rep, &err),
                     PC_OK);
    assert_int_equal(pc_room_seq(room), 6);
    assert_int_equal(pc_room_checksum(room), sum);
    const pc_change *c = NULL;
    assert_int_equal(pc_history_get(room, 3, &c), PC_OK);
    assert_int_equal(c->kind, PC_CHANGE_EVENT);
    assert_string_equal(c->event.name, "objective");
    assert_int_equal(c->event.audience, PC_AUDIENCE_PLAYER);
    assert_string_equal(c->event.player, "ann");
    assert_int_equal(
        cJSON_GetObjectItemCaseSensitive(c->event.data, "roll")->valueint, 20);
    assert_string_equal(c->reason, "ann's secret");
    assert_int_equal(pc_history_get(room, 4, &c), PC_OK);
    assert_int_equal(c->event.audience, PC_AUDIENCE_GM);
    assert_null(c->event.player);
    assert_int_equal(pc_history_get(room, 6, &c), PC_OK);
    assert_string_equal(c->event.name, "last");
    assert_true(cJSON_IsNull(c->event.data));
    assert_int_equal(pc_history_get(room, 5, &c), PC_OK);
    assert_int_equal(c->kind, PC_CHANGE_UPDATE);
    assert_null(c->event.name);

    /* The room goes on: the next event is seq 7, logged like the rest. */
    assert_int_equal(pc_room_start(room), PC_OK);
    assert_int_equal(pc_room_event(room, "again", NULL, "after restart"),
                     PC_OK);
    assert_int_equal(pc_room_seq(room), 7);
    pc_room_free(room);
    pc_changelog_free(log);
    assert_int_equal(pc_changelog_verify(path, &rep), PC_OK);
    assert_int_equal(rep.last_seq, 7);
}

static void test_timeline_reads_events(void **state)
{
    (void)state;
    pc_changelog_options lo;
    pc_room_options ro;
    options(&lo, &ro);
    lo.keyframe_every = 3; /* a segment boundary falls after an event */
    pc_room *room = NULL;
    pc_changelog *log = NULL;
    pc_error err = {0};
    assert_int_equal(pc_room_new(&arena, &ro, &room), PC_OK);
    assert_int_equal(pc_changelog_create(&lo, room, &log, &err), PC_OK);
    assert_int_equal(pc_room_start(room), PC_OK);
    play(room);
    pc_room_free(room);
    pc_changelog_free(log);

    pc_timeline *tl = NULL;
    assert_int_equal(pc_timeline_open_log(path, 0, &tl, NULL, &err), PC_OK);
    assert_int_equal(pc_timeline_first_seq(tl), 0);
    assert_int_equal(pc_timeline_last_seq(tl), 5);
    pc_timeline_entry e;
    assert_int_equal(pc_timeline_get(tl, 2, &e), PC_OK);
    assert_int_equal(e.kind, PC_CHANGE_EVENT);
    assert_string_equal(e.event.name, "critical_hit");
    assert_int_equal(e.event.audience, PC_AUDIENCE_PUBLIC);
    assert_int_equal(e.patch_bytes, 2);
    assert_int_equal(pc_timeline_get(tl, 3, &e), PC_OK);
    assert_string_equal(e.event.player, "ann");
    assert_int_equal(pc_timeline_get(tl, 1, &e), PC_OK);
    assert_null(e.event.name);
    cJSON *a = NULL, *b = NULL;
    assert_int_equal(pc_timeline_state_at(tl, 1, &a), PC_OK);
    assert_int_equal(pc_timeline_state_at(tl, 4, &b), PC_OK);
    assert_true(pc_json_equal(a, b));
    assert_false(pc_timeline_touches(tl, 2, "/data/hp"));
    uint64_t seq = 0;
    assert_int_equal(pc_timeline_blame(tl, "/data/hp", 4, &seq), PC_OK);
    assert_int_equal(seq, 1);
    cJSON_Delete(a);
    cJSON_Delete(b);
    pc_timeline_free(tl);
}

/* A timeline at seq 0 of {"phase":"ARENA","data":{}}. */
static pc_timeline *empty_timeline(void)
{
    cJSON *st = cJSON_Parse("{\"phase\":\"ARENA\",\"data\":{}}");
    uint64_t sum = 0;
    assert_int_equal(pc_canon_checksum(st, &sum, NULL), PC_OK);
    pc_timeline *tl = NULL;
    pc_error err = {0};
    assert_int_equal(pc_timeline_new("e1", "arena", 0, st, sum, &tl, &err),
                     PC_OK);
    cJSON_Delete(st);
    return tl;
}

/* Add a change record with these members (kind, patch, the rest) and
 * return what pc_timeline_add says; err gets its message. */
static pc_err add(pc_timeline *tl, const char *kind, const char *patch,
                  const char *rest, pc_error *err)
{
    cJSON *st = cJSON_Parse("{\"phase\":\"ARENA\",\"data\":{}}");
    uint64_t sum = 0;
    assert_int_equal(pc_canon_checksum(st, &sum, NULL), PC_OK);
    cJSON_Delete(st);
    char text[1024];
    snprintf(text, sizeof text,
             "{\"type\":\"change\",\"seq\":1,\"time\":0,\"kind\":\"%s\","
             "\"phase\":\"ARENA\",\"prev\":\"ARENA\",\"reason\":\"r\","
             "\"file\":\"f.c\",\"line\":1,\"func\":\"f\",\"draws\":0,"
             "\"sum\":\"%016llx\",\"bytes\":27,\"patch\":%s%s}",
             kind, (unsigned long long)sum, patch, rest);
    cJSON *rec = cJSON_Parse(text);
    assert_non_null(rec);
    memset(err, 0, sizeof *err);
    pc_err rc = pc_timeline_add(tl, rec, err);
    cJSON_Delete(rec);
    return rc;
}

static void test_misstated_events_are_refused(void **state)
{
    (void)state;
    static const struct {
        const char *kind, *patch, *rest, *says;
    } bad[] = {
        {"event", "{}", "", "needs an \"event\""},
        {"event", "{}", ",\"event\":{\"audience\":\"public\",\"data\":1}",
         "\"name\""},
        {"event", "{}",
         ",\"event\":{\"name\":\"a b\",\"audience\":\"public\",\"data\":1}",
         "\"name\""},
        {"event", "{}",
         ",\"event\":{\"name\":\"e\",\"audience\":\"all\",\"data\":1}",
         "\"audience\""},
        {"event", "{}",
         ",\"event\":{\"name\":\"e\",\"audience\":\"player\",\"data\":1}",
         "\"player\""},
        {"event", "{}",
         ",\"event\":{\"name\":\"e\",\"audience\":\"gm\",\"player\":\"ann\","
         "\"data\":1}",
         "\"player\""},
        {"event", "{}", ",\"event\":{\"name\":\"e\",\"audience\":\"gm\"}",
         "\"data\""},
        {"event", "{\"hp\":1}",
         ",\"event\":{\"name\":\"e\",\"audience\":\"gm\",\"data\":1}",
         "patch is not {}"},
        {"update", "{}",
         ",\"event\":{\"name\":\"e\",\"audience\":\"gm\",\"data\":1}",
         "only an event's record"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pc_timeline *tl = empty_timeline();
        pc_error err;
        assert_int_equal(add(tl, bad[i].kind, bad[i].patch, bad[i].rest, &err),
                         PC_ERR_INVALID);
        if (strstr(err.message, bad[i].says) == NULL) {
            fail_msg("case %zu: \"%s\" does not say %s", i, err.message,
                     bad[i].says);
        }
        assert_int_equal(pc_timeline_last_seq(tl), 0);
        pc_timeline_free(tl);
    }
    /* The well-formed one is accepted. */
    pc_timeline *tl = empty_timeline();
    pc_error err;
    assert_int_equal(add(tl, "event", "{}",
                         ",\"event\":{\"name\":\"e\",\"audience\":\"player\","
                         "\"player\":\"ann\",\"data\":[1,2]}",
                         &err),
                     PC_OK);
    pc_timeline_entry e;
    assert_int_equal(pc_timeline_get(tl, 1, &e), PC_OK);
    assert_int_equal(e.kind, PC_CHANGE_EVENT);
    assert_int_equal(cJSON_GetArraySize(e.event.data), 2);
    pc_timeline_free(tl);
}

#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_event_records_say_what_the_event_is),
        T(test_recovery_replays_events_and_continues),
        T(test_timeline_reads_events),
        T(test_misstated_events_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
