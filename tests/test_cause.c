/*
 * test_cause.c - every change says which outside stimulus made it
 * (pc_change.cause): the room's start, an action, a timeout, or the host;
 * the outermost stimulus wins when callbacks chain; first_seq ties the
 * changes of one stimulus together; the history keeps causes, the change
 * log writes them and recovery reads them back; a payload the log cannot
 * hold is dropped, never the change; a malformed cause is corruption.
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
#include <unistd.h>

#include "phasecast/canon.h"
#include "phasecast/changelog.h"
#include "phasecast/history.h"
#include "phasecast/json.h"
#include "phasecast/room.h"
#include "phasecast/timeline.h"

/* LOBBY --start--> (enter: one update)
 * LOBBY --action "go"--> two updates, then a transition to PLAY, whose
 *                       enter makes one more update (all one stimulus)
 * PLAY  --timeout--> one update; --action "bad"--> refused */
static pc_err lobby_action(pc_room *room, const pc_action *act, cJSON **result,
                           pc_error *err, void *arg)
{
    (void)result;
    (void)arg;
    if (strcmp(act->type, "go") != 0) {
        return pc_error_set(err, PC_ERR_ACTION, "bad_action", "no %s",
                            act->type);
    }
    pc_update_phase_text(room, "{\"a\":1}", "first");
    pc_update_phase_text(room, "{\"b\":2}", "second");
    return pc_transition_text(room, "PLAY", "{}", "to play");
}

static void lobby_enter(pc_room *room, const char *from, void *arg)
{
    (void)from;
    (void)arg;
    pc_update_phase_text(room, "{\"opened\":true}", "opened");
}

static void play_enter(pc_room *room, const char *from, void *arg)
{
    (void)from;
    (void)arg;
    pc_update_phase_text(room, "{\"entered\":true}", "entered play");
}

static pc_err play_action(pc_room *room, const pc_action *act, cJSON **result,
                          pc_error *err, void *arg)
{
    (void)result;
    (void)arg;
    if (strcmp(act->type, "big") == 0) {
        return pc_update_phase_text(room, "{\"big\":1}", "big payload");
    }
    (void)act;
    return pc_error_set(err, PC_ERR_ACTION, "refused", "always refused");
}

static void play_timeout(pc_room *room, void *arg)
{
    (void)arg;
    pc_update_phase_text(room, "{\"late\":true}", "too late");
}

static const pc_phase phases[] = {
    {.name = "LOBBY", .enter = lobby_enter, .action = lobby_action},
    {.name = "PLAY",
     .enter = play_enter,
     .action = play_action,
     .timeout = play_timeout,
     .timeout_ms = 1000},
};
static const pc_game game = {
    .name = "causes", .phases = phases, .nphases = 2, .initial_phase = "LOBBY"};

/* What a sink saw. */
static pc_cause seen[32];
static char seen_player[32][16];
static int nseen;

static void sink(pc_room *room, const pc_change *c, void *arg)
{
    (void)room;
    (void)arg;
    assert_true(nseen < 32);
    seen[nseen] = c->cause;
    snprintf(seen_player[nseen], sizeof seen_player[0], "%s",
             c->cause.player != NULL ? c->cause.player : "");
    nseen++;
}

static size_t big_strings; /* room limits for big payloads; 0 default */

static pc_room *room_with(const char *dir, pc_changelog **log)
{
    pc_room_options ro;
    pc_room_options_init(&ro);
    ro.limits.max_string = big_strings;
    ro.limits.max_bytes = big_strings * 2;
    ro.id = "c1";
    ro.seed = 1;
    ro.seed_set = true;
    pc_room *room = NULL;
    assert_int_equal(pc_room_new(&game, &ro, &room), PC_OK);
    if (dir != NULL) {
        pc_changelog_options lo;
        pc_changelog_options_init(&lo);
        lo.dir = dir;
        lo.fsync = PC_FSYNC_NONE;
        assert_int_equal(pc_changelog_create(&lo, room, log, NULL), PC_OK);
    }
    assert_int_equal(pc_room_add_sink(room, sink, NULL), PC_OK);
    nseen = 0;
    return room;
}

/* Start; "go" by alice (4 changes); a refused action; a timeout; a host
 * update. Seqs: 1 start, 2-5 go, 6 timeout, 7 host. */
static void play(pc_room *room)
{
    assert_int_equal(pc_room_start(room), PC_OK);
    cJSON *payload = NULL;
    assert_int_equal(pc_json_parse("{\"n\":5}", 7, NULL, &payload, NULL),
                     PC_OK);
    pc_action go = {"alice", "go", payload};
    cJSON *result = NULL;
    assert_int_equal(pc_room_action(room, &go, &result, NULL), PC_OK);
    cJSON_Delete(result);
    cJSON_Delete(payload);
    pc_action bad = {"bob", "nope", NULL};
    assert_int_equal(pc_room_action(room, &bad, &result, NULL), PC_ERR_ACTION);
    assert_int_equal(pc_room_fire_timeout(room), PC_OK);
    assert_int_equal(pc_update_phase_text(room, "{\"host\":1}", "by hand"),
                     PC_OK);
}

static void check_causes(const pc_cause *c, const char players[][16])
{
    assert_int_equal(c[0].kind, PC_CAUSE_START);
    assert_int_equal(c[0].first_seq, 1);
    for (int i = 1; i <= 4; i++) {
        assert_int_equal(c[i].kind, PC_CAUSE_ACTION);
        assert_int_equal(c[i].first_seq, 2);
        assert_string_equal(players[i], "alice");
    }
    assert_int_equal(c[5].kind, PC_CAUSE_TIMEOUT);
    assert_int_equal(c[5].first_seq, 6);
    assert_int_equal(c[6].kind, PC_CAUSE_HOST);
    assert_int_equal(c[6].first_seq, 7);
}

static void sinks_see_the_outermost_stimulus(void **state)
{
    (void)state;
    pc_room *room = room_with(NULL, NULL);
    play(room);
    assert_int_equal(nseen, 7);
    check_causes(seen, (const char(*)[16])seen_player);
    /* The history keeps them, with the action's payload. */
    const pc_change *c;
    assert_int_equal(pc_history_get(room, 3, &c), PC_OK);
    assert_int_equal(c->cause.kind, PC_CAUSE_ACTION);
    assert_string_equal(c->cause.type, "go");
    assert_int_equal(
        cJSON_GetObjectItemCaseSensitive(c->cause.payload, "n")->valueint, 5);
    assert_int_equal(pc_history_get(room, 6, &c), PC_OK);
    assert_string_equal(c->cause.phase, "PLAY");
    pc_room_free(room);
}

static void the_log_keeps_causes_through_recovery(void **state)
{
    (void)state;
    char dir[] = "/tmp/pc-cause.XXXXXX";
    assert_non_null(mkdtemp(dir));
    pc_changelog *log = NULL;
    pc_room *room = room_with(dir, &log);
    play(room);
    pc_room_free(room);
    pc_changelog_free(log);
    pc_changelog_options lo;
    pc_changelog_options_init(&lo);
    lo.dir = dir;
    pc_changelog_game g = {&game, NULL};
    pc_changelog_report rep;
    assert_int_equal(pc_changelog_recover(&lo, "c1", &g, 1, NULL, 0, &room,
                                          &log, &rep, NULL),
                     PC_OK);
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
    pc_room_free(room);
    pc_changelog_free(log);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void a_payload_too_big_for_the_log_is_dropped(void **state)
{
    (void)state;
    char dir[] = "/tmp/pc-cause.XXXXXX";
    assert_non_null(mkdtemp(dir));
    pc_changelog *log = NULL;
    big_strings = (size_t)2 << 20; /* the room itself accepts it */
    pc_room *room = room_with(dir, &log);
    big_strings = 0;
    play(room);
    /* 1.5 MiB of payload: more than a record keeps. */
    size_t n = 1536 * 1024;
    cJSON *payload = cJSON_CreateObject();
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'x', n);
    big[n] = '\0';
    cJSON_AddStringToObject(payload, "blob", big);
    free(big);
    pc_action act = {"carol", "big", payload};
    cJSON *result = NULL;
    assert_int_equal(pc_room_action(room, &act, &result, NULL), PC_OK);
    cJSON_Delete(payload);
    assert_int_equal(pc_room_seq(room), 8);
    pc_room_free(room);
    pc_changelog_free(log);
    char path[96];
    snprintf(path, sizeof path, "%s/c1.pclog", dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char buf[8192];
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[got] = '\0';
    /* Frames hold binary headers: search past NULs. */
    bool found = false;
    for (size_t i = 0; i + 20 < got; i++) {
        if (memcmp(buf + i, "\"payload_dropped\":true", 22) == 0) {
            found = true;
        }
    }
    assert_true(found);
    pc_changelog_report rep;
    assert_int_equal(pc_changelog_verify(path, &rep), PC_OK);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* A record whose cause is malformed is refused like any bad member;
 * one without a cause is fine (logs written before causes). */
static void a_malformed_cause_is_refused(void **state)
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
            assert_non_null(strstr(err.message, "cause"));
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sinks_see_the_outermost_stimulus),
        cmocka_unit_test(the_log_keeps_causes_through_recovery),
        cmocka_unit_test(a_payload_too_big_for_the_log_is_dropped),
        cmocka_unit_test(a_malformed_cause_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
