/*
 * test_room.c - the room, its phase machine and the one mutation path:
 * seq contiguity, change records, every refusal leaving everything as it
 * was, re-entrancy rules, transitions, actions, timers and determinism.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/history.h"
#include "phasecast/room.h"
#include "testalloc.h"

/* What the test game's callbacks saw, in order. */
typedef struct probe {
    char log[1024];
    int sink_calls;
    uint64_t last_seq;
    uint64_t seqs[256];
    pc_err reentrant_rv; /* what a forbidden update returned */
    bool update_in_sink;
    bool update_in_exit;
    bool free_in_sink;
    bool chain_forever;
    bool reject_negative;
    int timeouts;
    pc_room *room_to_free;
} probe;

/* Append "<what> <name>;" to the probe's log. */
static void note(probe *p, const char *what, const char *name)
{
    size_t used = strlen(p->log);
    snprintf(p->log + used, sizeof(p->log) - used, "%s %s;", what,
             name != NULL ? name : "-");
}

static void lobby_enter(pc_room *room, const char *from, void *arg)
{
    (void)room;
    note(arg, "enter LOBBY from", from);
}

static void lobby_exit(pc_room *room, const char *to, void *arg)
{
    probe *p = arg;
    note(p, "exit LOBBY to", to);
    if (p->update_in_exit) {
        cJSON *patch = cJSON_Parse("{\"x\":1}");
        p->reentrant_rv = pc_update_phase_data(room, patch, "from exit");
        cJSON_Delete(patch);
    }
}

static pc_err lobby_action(pc_room *room, const pc_action *act, cJSON **result,
                           pc_error *err, void *arg)
{
    (void)arg;
    if (strcmp(act->type, "set") == 0) {
        pc_err rv = pc_update_phase_data(room, act->payload, "player set");
        if (rv == PC_OK) {
            *result = cJSON_CreateString("done");
        }
        return rv; /* failed updates pass the room's error on */
    }
    if (strcmp(act->type, "start") == 0) {
        return pc_transition(room, "PLAY", NULL, "host started the game");
    }
    return pc_error_set(err, PC_ERR_ACTION, "unknown_action",
                        "no action %s here", act->type);
}

static void play_enter(pc_room *room, const char *from, void *arg)
{
    probe *p = arg;
    note(p, "enter PLAY from", from);
    if (p->chain_forever) {
        pc_transition(room, "PLAY", NULL, "again");
    }
}

static void play_timeout(pc_room *room, void *arg)
{
    probe *p = arg;
    p->timeouts++;
    cJSON *patch = cJSON_Parse("{\"timed_out\":true}");
    assert_int_equal(pc_transition(room, "END", patch, "turn timer expired"),
                     PC_OK);
    cJSON_Delete(patch);
}

static const pc_phase phases[] = {
    {"LOBBY", lobby_enter, lobby_exit, lobby_action, NULL, 0},
    {"PLAY", play_enter, NULL, NULL, play_timeout, 5000},
    {"END", NULL, NULL, NULL, NULL, 0},
};

static pc_err validate(const pc_room *room, const cJSON *proposed,
                       pc_error *why, void *arg)
{
    probe *p = arg;
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(proposed, "data");
    const cJSON *score = cJSON_GetObjectItemCaseSensitive(data, "score");
    if (p->update_in_sink) { /* reuse flag: try a change while validating */
        cJSON *patch = cJSON_Parse("{\"y\":1}");
        p->reentrant_rv = pc_update_phase_data((pc_room *)room, patch, "v");
        cJSON_Delete(patch);
    }
    if (p->reject_negative && cJSON_IsNumber(score) && score->valuedouble < 0) {
        return pc_error_set(why, PC_ERR_REJECTED, "negative_score",
                            "score may not be negative");
    }
    return PC_OK;
}

static const pc_game game = {
    .name = "testgame", .phases = phases, .nphases = 3, .validate = validate};

static int64_t fake_now = 1700000000000;

static int64_t fake_clock(void *arg)
{
    (void)arg;
    return fake_now;
}

static void sink(pc_room *room, const pc_change *c, void *arg)
{
    probe *p = arg;
    if (p->sink_calls < 256) {
        p->seqs[p->sink_calls] = c->seq;
    }
    p->sink_calls++;
    p->last_seq = c->seq;
    if (p->update_in_sink) {
        cJSON *patch = cJSON_Parse("{\"z\":1}");
        p->reentrant_rv = pc_update_phase_data(room, patch, "from sink");
        cJSON_Delete(patch);
    }
    if (p->free_in_sink) {
        pc_room_free(room);
    }
}

static pc_room *make_room(probe *p, size_t history)
{
    pc_room_options o;
    pc_room_options_init(&o);
    o.id = "r1";
    o.arg = p;
    o.clock = fake_clock;
    o.seed = 7;
    o.seed_set = true;
    o.history_capacity = history;
    pc_room *room = NULL;
    assert_int_equal(pc_room_new(&game, &o, &room), PC_OK);
    assert_int_equal(pc_room_add_sink(room, sink, p), PC_OK);
    assert_int_equal(pc_room_start(room), PC_OK);
    return room;
}

static pc_err update_text(pc_room *room, const char *text, const char *why)
{
    return pc_update_phase_text(room, text, why);
}

/* A snapshot of everything an update could change. */
typedef struct before {
    char *canon;
    char *raw; /* cJSON's own text: member order must be restored too */
    uint64_t seq;
    uint64_t checksum;
    size_t history;
    int sinks;
} before;

static before capture(pc_room *room, const probe *p)
{
    before b;
    assert_int_equal(pc_canon_print(pc_room_state(room), &b.canon, NULL),
                     PC_OK);
    b.raw = cJSON_PrintUnformatted(pc_room_state(room));
    b.seq = pc_room_seq(room);
    b.checksum = pc_room_checksum(room);
    b.history = pc_history_count(room);
    b.sinks = p->sink_calls;
    return b;
}

static void assert_unchanged(pc_room *room, const probe *p, before *b)
{
    char *now = NULL;
    assert_int_equal(pc_canon_print(pc_room_state(room), &now, NULL), PC_OK);
    assert_string_equal(now, b->canon);
    char *raw = cJSON_PrintUnformatted(pc_room_state(room));
    assert_string_equal(raw, b->raw);
    cJSON_free(raw);
    cJSON_free(b->raw);
    assert_int_equal(pc_room_seq(room), b->seq);
    assert_int_equal(pc_room_checksum(room), b->checksum);
    assert_int_equal(pc_history_count(room), b->history);
    assert_int_equal(p->sink_calls, b->sinks);
    pc_free(now);
    pc_free(b->canon);
}

static void test_new_room_starts_at_seq_zero_in_initial_phase(void **state)
{
    (void)state;
    pc_room *room = NULL;
    assert_int_equal(pc_room_new(&game, NULL, &room), PC_OK);
    assert_int_equal(pc_room_seq(room), 0);
    assert_string_equal(pc_room_phase(room), "LOBBY");
    assert_string_equal(pc_room_id(room), "room");
    assert_false(pc_room_started(room));
    char *text = NULL;
    assert_int_equal(pc_canon_print(pc_room_state(room), &text, NULL), PC_OK);
    assert_string_equal(text, "{\"data\":{},\"phase\":\"LOBBY\"}");
    pc_free(text);
    pc_room_free(room);
}

static void test_update_before_start_is_refused(void **state)
{
    (void)state;
    pc_room *room = NULL;
    assert_int_equal(pc_room_new(&game, NULL, &room), PC_OK);
    assert_int_equal(update_text(room, "{\"a\":1}", "early"), PC_ERR_STATE);
    assert_int_equal(pc_room_seq(room), 0);
    assert_string_equal(pc_room_last_error(room)->code, "not_started");
    pc_room_free(room);
}

static void test_each_update_bumps_seq_by_exactly_one(void **state)
{
    (void)state;
    probe p = {0};
    pc_room *room = make_room(&p, 100);
    for (int i = 1; i <= 200; i++) {
        char text[64];
        snprintf(text, sizeof(text), "{\"n\":%d}", i);
        assert_int_equal(update_text(room, text, "count"), PC_OK);
        assert_int_equal(pc_room_seq(room), (uint64_t)i);
    }
    assert_int_equal(p.sink_calls, 200);
    for (int i = 0; i < 200; i++) {
        assert_int_equal(p.seqs[i], (uint64_t)(i + 1));
    }
    pc_room_free(room);
}

static void test_update_applies_merge_patch_and_null_deletes(void **state)
{
    (void)state;
    probe p = {0};
    pc_room *room = make_room(&p, 10);
    assert_int_equal(
        update_text(room, "{\"a\":1,\"o\":{\"x\":1,\"y\":2},\"k\":\"v\"}", "s"),
        PC_OK);
    assert_int_equal(update_text(room, "{\"a\":null,\"o\":{\"x\":null}}", "d"),
                     PC_OK);
    char *text = NULL;
    assert_int_equal(pc_canon_print(pc_room_data(room), &text, NULL), PC_OK);
    assert_string_equal(text, "{\"k\":\"v\",\"o\":{\"y\":2}}");
    pc_free(text);
    pc_room_free(room);
}

static void test_change_record_carries_reason_location_and_checksum(void **s)
{
    (void)s;
    probe p = {0};
    pc_room *room = make_room(&p, 10);
    cJSON *patch = cJSON_Parse("{\"score\":3}");
    int line = __LINE__ + 1;
    assert_int_equal(pc_update_phase_data(room, patch, "X scored"), PC_OK);
    cJSON_Delete(patch);
    const pc_change *c = NULL;
    assert_int_equal(pc_history_get(room, 1, &c), PC_OK);
    assert_int_equal(c->seq, 1);
    assert_int_equal(c->kind, PC_CHANGE_UPDATE);
    assert_string_equal(c->reason, "X scored");
    assert_string_equal(c->file, __FILE__);
    assert_int_equal(c->line, line);
    assert_string_equal(c->func, __func__);
    assert_string_equal(c->phase, "LOBBY");
    assert_int_equal(c->time_ms, fake_now);
    uint64_t sum = 0;
    assert_int_equal(pc_canon_checksum(pc_room_state(room), &sum, NULL), PC_OK);
    assert_int_equal(c->checksum, sum);
    assert_int_equal(pc_room_checksum(room), sum);
    char *text = NULL;
    assert_int_equal(pc_canon_print(c->patch, &text, NULL), PC_OK);
    assert_string_equal(text, "{\"score\":3}");
    pc_free(text);
    pc_room_free(room);
}

static void test_non_object_patch_is_refused_and_changes_nothing(void **s)
{
    (void)s;
    probe p = {0};
    pc_room *room = make_room(&p, 10);
    assert_int_equal(update_text(room, "{\"a\":1}", "setup"), PC_OK);
    const char *bad[] = {"[1,2]", "3", "\"x\"", "null", "true"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        before b = capture(room, &p);
        assert_int_equal(update_text(room, bad[i], "bad"), PC_ERR_INVALID);
        assert_string_equal(pc_room_last_error(room)->code, "invalid_patch");
        assert_unchanged(room, &p, &b);
    }
    pc_room_free(room);
}

static void test_invalid_and_oversized_patches_change_nothing(void **s)
{
    (void)s;
    probe p = {0};
    pc_room *room = make_room(&p, 10);
    assert_int_equal(update_text(room, "{\"a\":1}", "setup"), PC_OK);

    /* One level deeper than the limit allows (the state document may be 32
     * deep and the patch lands under "data", so patches may be 31 deep),
     * then exactly at the limit. */
    char deep[256] = "";
    for (int i = 0; i < 32; i++) {
        strcat(deep, "{\"d\":");
    }
    strcat(deep, "1");
    for (int i = 0; i < 32; i++) {
        strcat(deep, "}");
    }
    before b = capture(room, &p);
    assert_int_equal(update_text(room, deep, "too deep"), PC_ERR_LIMIT);
    assert_unchanged(room, &p, &b);
    deep[strlen(deep) - 1] = '\0';
    memmove(deep, deep + 5, strlen(deep + 5) + 1);
    assert_int_equal(update_text(room, deep, "deep enough"), PC_OK);

    cJSON *dup = cJSON_CreateObject();
    cJSON_AddNumberToObject(dup, "k", 1);
    cJSON_AddNumberToObject(dup, "k", 2);
    b = capture(room, &p);
    assert_int_equal(pc_update_phase_data(room, dup, "dup"), PC_ERR_INVALID);
    assert_unchanged(room, &p, &b);
    cJSON_Delete(dup);

    b = capture(room, &p);
    assert_int_equal(update_text(room, "{\"s\":\"\xff\xfe\"}", "utf8"),
                     PC_ERR_INVALID);
    assert_unchanged(room, &p, &b);

    b = capture(room, &p);
    assert_int_equal(update_text(room, "{\"a\":2} trailing", "junk"),
                     PC_ERR_INVALID);
    assert_unchanged(room, &p, &b);
    pc_room_free(room);
}

static void test_state_size_limit_refuses_growth(void **s)
{
    (void)s;
    probe p = {0};
    pc_room_options o;
    pc_room_options_init(&o);
    o.arg = &p;
    o.limits.max_state_bytes = 200;
    pc_room *room = NULL;
    assert_int_equal(pc_room_new(&game, &o, &room), PC_OK);
    assert_int_equal(pc_room_start(room), PC_OK);
    char text[256];
    snprintf(text, sizeof(text), "{\"blob\":\"%0150d\"}", 0);
    assert_int_equal(update_text(room, text, "fits"), PC_OK);
    before b = capture(room, &p);
    assert_int_equal(
        update_text(room, "{\"more\":\"0123456789012345678901\"}", "too big"),
        PC_ERR_LIMIT);
    assert_string_equal(pc_room_last_error(room)->code, "limit_exceeded");
    assert_unchanged(room, &p, &b);
    pc_room_free(room);
}

static void test_validator_rejection_leaves_everything_unchanged(void **s)
{
    (void)s;
    probe p = {0};
    p.reject_negative = true;
    pc_room *room = make_room(&p, 10);
    assert_int_equal(
        update_text(room,
                    "{\"score\":1,\"o\":{\"a\":{\"b\":1},\"c\":[1]},\"d\":1}",
                    "setup"),
        PC_OK);
    before b = capture(room, &p);
    /* Touches nested members, deletes, replaces and inserts at once. */
    assert_int_equal(update_text(room,
                                 "{\"score\":-1,\"o\":{\"a\":{\"b\":null,\"n\":"
                                 "2},\"c\":null},\"d\":{\"x\":1},\"new\":5}",
                                 "bad score"),
                     PC_ERR_REJECTED);
    assert_string_equal(pc_room_last_error(room)->code, "negative_score");
    assert_string_equal(pc_room_last_error(room)->message,
                        "score may not be negative");
    assert_unchanged(room, &p, &b);
    pc_room_free(room);
}

static void test_empty_or_missing_reason_is_refused(void **s)
{
    (void)s;
    probe p = {0};
    pc_room *room = make_room(&p, 10);
    before b = capture(room, &p);
    assert_int_equal(update_text(room, "{\"a\":1}", ""), PC_ERR_INVALID);
    assert_int_equal(update_text(room, "{\"a\":1}", NULL), PC_ERR_INVALID);
    assert_string_equal(pc_room_last_error(room)->code, "invalid_reason");
    assert_unchanged(room, &p, &b);
    pc_room_free(room);
}

static void test_update_from_sink_is_refused_as_reentrant(void **s)
{
    (void)s;
    probe p = {0};
    pc_room *room = make_room(&p, 10);
    p.update_in_sink = true;
    /* The validator also tries (same flag); both must be refused. */
    assert_int_equal(update_text(room, "{\"a\":1}", "outer"), PC_OK);
    assert_int_equal(p.reentrant_rv, PC_ERR_REENTRANT);
    assert_int_equal(pc_room_seq(room), 1);
    const cJSON *data = pc_room_data(room);
    assert_null(cJSON_GetObjectItemCaseSensitive(data, "y"));
    assert_null(cJSON_GetObjectItemCaseSensitive(data, "z"));
    pc_room_free(room);
}

static void test_update_from_exit_callback_is_refused(void **s)
{
    (void)s;
    probe p = {0};
    pc_room *room = make_room(&p, 10);
    p.update_in_exit = true;
    assert_int_equal(pc_transition(room, "PLAY", NULL, "go"), PC_OK);
    assert_int_equal(p.reentrant_rv, PC_ERR_REENTRANT);
    assert_int_equal(pc_room_seq(room), 1);
    assert_null(cJSON_GetObjectItemCaseSensitive(pc_room_data(room), "x"));
    pc_room_free(room);
}

static void test_transition_runs_exit_commits_one_change_then_enter(void **s)
{
    (void)s;
    probe p = {0};
    pc_room *room = make_room(&p, 10);
    cJSON *patch = cJSON_Parse("{\"round\":1}");
    assert_int_equal(pc_transition(room, "PLAY", patch, "everyone ready"),
                     PC_OK);
    cJSON_Delete(patch);
    assert_string_equal(p.log, "enter LOBBY from -;exit LOBBY to PLAY;"
                               "enter PLAY from LOBBY;");
    assert_int_equal(pc_room_seq(room), 1);
    assert_int_equal(p.sink_calls, 1);
    assert_string_equal(pc_room_phase(room), "PLAY");
    const pc_change *c = NULL;
    assert_int_equal(pc_history_get(room, 1, &c), PC_OK);
    assert_int_equal(c->kind, PC_CHANGE_TRANSITION);
    assert_string_equal(c->prev_phase, "LOBBY");
    assert_string_equal(c->phase, "PLAY");
    const cJSON *phase =
        cJSON_GetObjectItemCaseSensitive(pc_room_state(room), "phase");
    assert_string_equal(phase->valuestring, "PLAY");
    assert_int_equal(
        cJSON_GetObjectItemCaseSensitive(pc_room_data(room), "round")->valueint,
        1);
    pc_room_free(room);
}

static void test_transition_text_parses_and_refuses_bad_text(void **s)
{
    (void)s;
    probe p = {0};
    pc_room *room = make_room(&p, 10);
    before b = capture(room, &p);
    assert_int_equal(pc_transition_text(room, "PLAY", "{\"a\":", "cut off"),
                     PC_ERR_INVALID);
    assert_string_equal(pc_room_last_error(room)->code, "invalid_patch");
    assert_int_equal(pc_transition_text(room, "PLAY", NULL, "no text"),
                     PC_ERR_INVALID);
    assert_unchanged(room, &p, &b);
    assert_string_equal(pc_room_phase(room), "LOBBY");
    assert_int_equal(
        pc_transition_text(room, "PLAY", "{\"round\":2}", "text patch"), PC_OK);
    assert_string_equal(pc_room_phase(room), "PLAY");
    assert_int_equal(
        cJSON_GetObjectItemCaseSensitive(pc_room_data(room), "round")->valueint,
        2);
    pc_room_free(room);
}

static void test_text_patch_out_of_memory_is_reported_as_nomem(void **s)
{
    (void)s;
    probe p = {0};
    pc_room *room = make_room(&p, 10);
    before b = capture(room, &p);
    testalloc_fail_at(1, true);
    pc_err rv = update_text(room, "{\"a\":[1,2,3]}", "no memory");
    testalloc_fail_at(0, false);
    assert_int_equal(rv, PC_ERR_NOMEM);
    assert_string_equal(pc_room_last_error(room)->code, "nomem");
    assert_unchanged(room, &p, &b);
    pc_room_free(room);
}

static void test_transition_to_unknown_phase_changes_nothing(void **s)
{
    (void)s;
    probe p = {0};
    pc_room *room = make_room(&p, 10);
    before b = capture(room, &p);
    assert_int_equal(pc_transition(room, "NOPE", NULL, "x"), PC_ERR_PHASE);
    assert_string_equal(pc_room_last_error(room)->code, "unknown_phase");
    assert_unchanged(room, &p, &b);
    assert_string_equal(pc_room_phase(room), "LOBBY");
    pc_room_free(room);
}

static void test_rejected_transition_runs_no_callbacks(void **s)
{
    (void)s;
    probe p = {0};
    p.reject_negative = true;
    pc_room *room = make_room(&p, 10);
    p.log[0] = '\0';
    cJSON *patch = cJSON_Parse("{\"score\":-5}");
    assert_int_equal(pc_transition(room, "PLAY", patch, "bad"),
                     PC_ERR_REJECTED);
    cJSON_Delete(patch);
    assert_string_equal(p.log, "");
    assert_string_equal(pc_room_phase(room), "LOBBY");
    assert_int_equal(pc_room_seq(room), 0);
    pc_room_free(room);
}

static void test_endless_transition_chain_stops_at_depth_limit(void **s)
{
    (void)s;
    probe p = {0};
    pc_room *room = make_room(&p, 100);
    p.chain_forever = true;
    assert_int_equal(pc_transition(room, "PLAY", NULL, "go"), PC_OK);
    /* The chain is cut at PC_TRANSITION_DEPTH_MAX transitions in all. */
    assert_int_equal(pc_room_seq(room), PC_TRANSITION_DEPTH_MAX);
    assert_int_equal(pc_room_last_error(room)->err, PC_ERR_LIMIT);
    pc_room_free(room);
}

static void test_action_reaches_current_phase_and_returns_result(void **s)
{
    (void)s;
    probe p = {0};
    pc_room *room = make_room(&p, 10);
    cJSON *payload = cJSON_Parse("{\"color\":\"red\"}");
    pc_action act = {.player = "alice", .type = "set", .payload = payload};
    cJSON *result = NULL;
    pc_error err = {0};
    assert_int_equal(pc_room_action(room, &act, &result, &err), PC_OK);
    assert_string_equal(result->valuestring, "done");
    assert_int_equal(pc_room_seq(room), 1);
    cJSON_Delete(result);
    cJSON_Delete(payload);
    pc_room_free(room);
}

static void
test_refused_action_returns_typed_error_and_changes_nothing(void **s)
{
    (void)s;
    probe p = {0};
    pc_room *room = make_room(&p, 10);
    pc_action act = {.player = "alice", .type = "dance", .payload = NULL};
    pc_error err = {0};
    cJSON *result = NULL;
    before b = capture(room, &p);
    assert_int_equal(pc_room_action(room, &act, &result, &err), PC_ERR_ACTION);
    assert_string_equal(err.code, "unknown_action");
    assert_string_equal(err.message, "no action dance here");
    assert_null(result);
    assert_unchanged(room, &p, &b);

    /* A failing update inside the handler surfaces with its own code. */
    cJSON *payload = cJSON_Parse("[1]");
    pc_action set = {.player = "alice", .type = "set", .payload = payload};
    b = capture(room, &p);
    assert_int_equal(pc_room_action(room, &set, &result, &err), PC_ERR_INVALID);
    assert_string_equal(err.code, "invalid_patch");
    assert_unchanged(room, &p, &b);
    cJSON_Delete(payload);
    pc_room_free(room);
}

static void test_action_in_phase_without_handler_is_refused(void **s)
{
    (void)s;
    probe p = {0};
    pc_room *room = make_room(&p, 10);
    assert_int_equal(pc_transition(room, "END", NULL, "skip"), PC_OK);
    pc_action act = {.player = "alice", .type = "set", .payload = NULL};
    pc_error err = {0};
    assert_int_equal(pc_room_action(room, &act, NULL, &err), PC_ERR_PHASE);
    assert_string_equal(err.code, "no_actions_in_phase");
    pc_room_free(room);
}

/* Timer host recording what the room asked for. */
typedef struct timer_log {
    int arms;
    int cancels;
    int64_t last_delay;
} timer_log;

static void timer_host(pc_room *room, int64_t delay_ms, void *arg)
{
    (void)room;
    timer_log *t = arg;
    if (delay_ms < 0) {
        t->cancels++;
    } else {
        t->arms++;
        t->last_delay = delay_ms;
    }
}

static void test_phase_timeout_is_armed_on_enter_and_changes_state(void **s)
{
    (void)s;
    probe p = {0};
    pc_room *room = make_room(&p, 10);
    timer_log t = {0};
    pc_room_set_timer_host(room, timer_host, &t);
    int64_t deadline = 0;
    assert_false(pc_room_timeout_deadline(room, &deadline));
    assert_int_equal(pc_room_fire_timeout(room), PC_ERR_STATE);

    assert_int_equal(pc_transition(room, "PLAY", NULL, "go"), PC_OK);
    assert_true(pc_room_timeout_deadline(room, &deadline));
    assert_int_equal(deadline, fake_now + 5000);
    assert_int_equal(t.arms, 1);
    assert_int_equal(t.last_delay, 5000);

    assert_int_equal(pc_room_fire_timeout(room), PC_OK);
    assert_int_equal(p.timeouts, 1);
    assert_string_equal(pc_room_phase(room), "END");
    const pc_change *c = NULL;
    assert_int_equal(pc_history_get(room, pc_room_seq(room), &c), PC_OK);
    assert_string_equal(c->reason, "turn timer expired");
    /* A stale second firing does nothing. */
    assert_int_equal(pc_room_fire_timeout(room), PC_ERR_STATE);
    assert_int_equal(p.timeouts, 1);
    pc_room_free(room);
}

static void test_transition_cancels_the_phase_timer(void **s)
{
    (void)s;
    probe p = {0};
    pc_room *room = make_room(&p, 10);
    timer_log t = {0};
    pc_room_set_timer_host(room, timer_host, &t);
    assert_int_equal(pc_transition(room, "PLAY", NULL, "go"), PC_OK);
    assert_int_equal(pc_transition(room, "LOBBY", NULL, "back"), PC_OK);
    assert_int_equal(t.cancels, 1);
    assert_false(pc_room_timeout_deadline(room, NULL));
    assert_int_equal(pc_room_fire_timeout(room), PC_ERR_STATE);
    assert_int_equal(pc_room_arm_timeout(room, 10), PC_ERR_PHASE);
    pc_room_free(room);
}

static void test_same_seed_gives_the_same_random_sequence(void **s)
{
    (void)s;
    probe p1 = {0}, p2 = {0};
    pc_room *a = make_room(&p1, 0);
    pc_room *b = make_room(&p2, 0);
    assert_int_equal(pc_room_seed(a), 7);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(pc_room_random(a), pc_room_random(b));
    }
    for (int i = 0; i < 1000; i++) {
        uint64_t v = pc_room_random_below(a, 6);
        assert_true(v < 6);
        assert_int_equal(v, pc_room_random_below(b, 6));
    }
    assert_int_equal(pc_room_random_below(a, 0), 0);
    pc_room_free(a);
    pc_room_free(b);

    pc_room_options o;
    pc_room_options_init(&o);
    o.seed = 8;
    o.seed_set = true;
    pc_room *c = NULL;
    assert_int_equal(pc_room_new(&game, &o, &c), PC_OK);
    probe p3 = {0};
    pc_room *d = make_room(&p3, 0);
    assert_int_not_equal(pc_room_random(c), pc_room_random(d));
    pc_room_free(c);
    pc_room_free(d);
}

static void test_tampered_state_is_detected_at_next_update(void **s)
{
    (void)s;
    probe p = {0};
    pc_room *room = make_room(&p, 10);
    assert_int_equal(update_text(room, "{\"gold\":10}", "loot"), PC_OK);
    /* A game cheating through a cast-away const. */
    cJSON *gold =
        cJSON_GetObjectItemCaseSensitive((cJSON *)pc_room_data(room), "gold");
    cJSON_SetNumberValue(gold, 9999);
    pc_err rv = update_text(room, "{\"hp\":3}", "hit");
#ifdef PC_TAMPER_CHECK
    assert_int_equal(rv, PC_ERR_TAMPERED);
    const pc_error *e = pc_room_last_error(room);
    assert_string_equal(e->code, "state_tampered");
    assert_non_null(strstr(e->message, "after seq 1"));
    assert_non_null(strstr(e->message, "\"loot\""));
    assert_int_equal(pc_room_seq(room), 1);
#else
    /* Release builds skip the check by design; the update proceeds. */
    assert_int_equal(rv, PC_OK);
#endif
    pc_room_free(room);
}

static void test_room_freed_from_its_own_sink_is_freed_after_return(void **s)
{
    (void)s;
    probe p = {0};
    pc_room *room = make_room(&p, 10);
    p.free_in_sink = true;
    assert_int_equal(update_text(room, "{\"a\":1}", "last"), PC_OK);
    assert_int_equal(p.sink_calls, 1);
    /* teardown asserts nothing leaked: the room is gone. */
}

static void sink_remover(pc_room *room, const pc_change *c, void *arg)
{
    (void)c;
    int *calls = arg;
    (*calls)++;
    assert_int_equal(pc_room_remove_sink(room, sink_remover, arg), PC_OK);
}

static void test_sink_may_remove_itself_during_dispatch(void **s)
{
    (void)s;
    probe p = {0};
    pc_room *room = make_room(&p, 10);
    int calls = 0;
    assert_int_equal(pc_room_add_sink(room, sink_remover, &calls), PC_OK);
    assert_int_equal(pc_room_add_sink(room, sink_remover, &calls),
                     PC_ERR_INVALID);
    assert_int_equal(update_text(room, "{\"a\":1}", "one"), PC_OK);
    assert_int_equal(update_text(room, "{\"a\":2}", "two"), PC_OK);
    assert_int_equal(calls, 1);
    assert_int_equal(p.sink_calls, 2);
    assert_int_equal(pc_room_remove_sink(room, sink_remover, &calls),
                     PC_ERR_NOT_FOUND);
    pc_room_free(room);
}

static void test_bad_room_ids_and_game_tables_are_refused(void **s)
{
    (void)s;
    pc_room *room = NULL;
    pc_room_options o;
    pc_room_options_init(&o);
    const char *bad_ids[] = {"", "a b", "x/y", "caf\xc3\xa9",
                             "0123456789012345678901234567890123456789012345"
                             "67890123456789012345"};
    for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
        o.id = bad_ids[i];
        assert_int_equal(pc_room_new(&game, &o, &room), PC_ERR_INVALID);
    }
    static const pc_phase twice[] = {{"A", NULL, NULL, NULL, NULL, 0},
                                     {"A", NULL, NULL, NULL, NULL, 0}};
    pc_game dup = {.name = "dup", .phases = twice, .nphases = 2};
    assert_int_equal(pc_room_new(&dup, NULL, &room), PC_ERR_INVALID);
    pc_game missing = {.name = "missing",
                       .phases = phases,
                       .nphases = 3,
                       .initial_phase = "NOWHERE"};
    assert_int_equal(pc_room_new(&missing, NULL, &room), PC_ERR_INVALID);
    pc_game empty = {.name = "empty", .phases = phases, .nphases = 0};
    assert_int_equal(pc_room_new(&empty, NULL, &room), PC_ERR_INVALID);
    assert_null(room);
    pc_room_free(NULL);
}

static void test_room_can_start_only_once(void **s)
{
    (void)s;
    probe p = {0};
    pc_room *room = make_room(&p, 10);
    assert_int_equal(pc_room_start(room), PC_ERR_STATE);
    assert_string_equal(pc_room_last_error(room)->code, "already_started");
    pc_room_free(room);
}

#define T(f)                                                                   \
    cmocka_unit_test_setup_teardown(f, testalloc_setup, testalloc_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_new_room_starts_at_seq_zero_in_initial_phase),
        T(test_update_before_start_is_refused),
        T(test_each_update_bumps_seq_by_exactly_one),
        T(test_update_applies_merge_patch_and_null_deletes),
        T(test_change_record_carries_reason_location_and_checksum),
        T(test_non_object_patch_is_refused_and_changes_nothing),
        T(test_invalid_and_oversized_patches_change_nothing),
        T(test_state_size_limit_refuses_growth),
        T(test_validator_rejection_leaves_everything_unchanged),
        T(test_empty_or_missing_reason_is_refused),
        T(test_update_from_sink_is_refused_as_reentrant),
        T(test_update_from_exit_callback_is_refused),
        T(test_transition_runs_exit_commits_one_change_then_enter),
        T(test_transition_text_parses_and_refuses_bad_text),
        T(test_text_patch_out_of_memory_is_reported_as_nomem),
        T(test_transition_to_unknown_phase_changes_nothing),
        T(test_rejected_transition_runs_no_callbacks),
        T(test_endless_transition_chain_stops_at_depth_limit),
        T(test_action_reaches_current_phase_and_returns_result),
        T(test_refused_action_returns_typed_error_and_changes_nothing),
        T(test_action_in_phase_without_handler_is_refused),
        T(test_phase_timeout_is_armed_on_enter_and_changes_state),
        T(test_transition_cancels_the_phase_timer),
        T(test_same_seed_gives_the_same_random_sequence),
        T(test_tampered_state_is_detected_at_next_update),
        T(test_room_freed_from_its_own_sink_is_freed_after_return),
        T(test_sink_may_remove_itself_during_dispatch),
        T(test_bad_room_ids_and_game_tables_are_refused),
        T(test_room_can_start_only_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
