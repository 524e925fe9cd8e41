/*
 * test_event.c - custom events (pc_room_event, pc_room_event_to): each is
 * a change of its own, with a seq, a reason, the caller's location, a
 * history record and a trip through every sink and the journal, while the
 * state and its checksum stay as they were; its data is copied; a refused
 * event (bad name, audience or data, no reason, a read-only context, a
 * journal refusal, no memory) changes nothing; events made by callbacks
 * carry their stimulus as cause; pc_view_event applies the audience. The
 * change log's side is test_event_log.c, the network's
 * test_server_events.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "phasecast/history.h"
#include "phasecast/json.h"
#include "phasecast/room.h"
#include "phasecast/view.h"
#include "testalloc.h"

/* ---- the "herald" game ---------------------------------------------- */

static int validations;

static pc_err herald_validate(const pc_room *room, const cJSON *proposed,
                              pc_error *why, void *arg)
{
    (void)room;
    (void)proposed;
    (void)why;
    (void)arg;
    validations++;
    return PC_OK;
}

static void herald_enter(pc_room *room, const char *from, void *arg)
{
    (void)from;
    (void)arg;
    pc_room_event(room, "opened", NULL, "the herald opens the hall");
}

/* "shout": an update, then a public event with the payload; "whisper": an
 * event for the acting player only; "secret": one for the game master. */
static pc_err herald_action(pc_room *room, const pc_action *act, cJSON **result,
                            pc_error *err, void *arg)
{
    (void)result;
    (void)arg;
    if (strcmp(act->type, "shout") == 0) {
        pc_err rc = pc_update_phase_text(room, "{\"shouts\":1}", "counted");
        return rc != PC_OK ? rc
                           : pc_room_event(room, "shouted", act->payload,
                                           "somebody shouted");
    }
    if (strcmp(act->type, "whisper") == 0) {
        return pc_room_event_to(room, PC_AUDIENCE_PLAYER, act->player,
                                "whispered", act->payload, "a whisper");
    }
    if (strcmp(act->type, "secret") == 0) {
        return pc_room_event_to(room, PC_AUDIENCE_GM, NULL, "gm.note",
                                act->payload, "a note");
    }
    return pc_error_set(err, PC_ERR_ACTION, "unknown_action", "no %s",
                        act->type);
}

static void herald_timeout(pc_room *room, void *arg)
{
    (void)arg;
    pc_room_event(room, "tick", NULL, "the bell rings");
}

static const pc_phase herald_phases[] = {
    {.name = "HALL",
     .enter = herald_enter,
     .action = herald_action,
     .timeout = herald_timeout,
     .timeout_ms = 1000},
};
static const pc_game herald = {.name = "herald",
                               .phases = herald_phases,
                               .nphases = 1,
                               .validate = herald_validate};

/* ---- a sink that keeps what it is shown ------------------------------ */

typedef struct seen {
    int calls;
    uint64_t seq;
    pc_change_kind kind;
    char name[PC_EVENT_NAME_MAX + 1];
    char player[PC_EVENT_NAME_MAX + 1];
    pc_audience audience;
    cJSON *data; /* a copy */
    uint64_t checksum;
    pc_err from_inside; /* an event made inside the sink */
} seen;

static void sink(pc_room *room, const pc_change *c, void *arg)
{
    seen *s = arg;
    s->calls++;
    s->seq = c->seq;
    s->kind = c->kind;
    s->checksum = c->checksum;
    s->audience = c->event.audience;
    snprintf(s->name, sizeof s->name, "%s",
             c->event.name != NULL ? c->event.name : "");
    snprintf(s->player, sizeof s->player, "%s",
             c->event.player != NULL ? c->event.player : "");
    cJSON_Delete(s->data);
    s->data =
        c->event.data != NULL ? cJSON_Duplicate(c->event.data, true) : NULL;
    s->from_inside = pc_room_event(room, "echo", NULL, "from a sink");
}

static pc_room *open_room(size_t history, seen *s)
{
    pc_room_options o;
    pc_room_options_init(&o);
    o.history_capacity = history;
    o.seed = 7;
    o.seed_set = true;
    pc_room *room = NULL;
    assert_int_equal(pc_room_new(&herald, &o, &room), PC_OK);
    if (s != NULL) {
        memset(s, 0, sizeof *s);
        assert_int_equal(pc_room_add_sink(room, sink, s), PC_OK);
    }
    assert_int_equal(pc_room_start(room), PC_OK);
    return room;
}

static void close_room(pc_room *room, seen *s)
{
    pc_room_free(room);
    if (s != NULL) {
        cJSON_Delete(s->data);
        s->data = NULL;
    }
}

/* ---- tests ------------------------------------------------------------ */

static void test_event_is_a_change_with_its_own_seq_and_record(void **state)
{
    (void)state;
    seen s;
    pc_room *room = open_room(PC_HISTORY_DEFAULT, &s);
    assert_int_equal(pc_room_seq(room), 1); /* the enter's "opened" */
    assert_int_equal(pc_update_phase_text(room, "{\"hp\":12}", "set up"),
                     PC_OK);
    uint64_t sum = pc_room_checksum(room);
    cJSON *before = cJSON_Duplicate(pc_room_state(room), true);
    int validated = validations;

    cJSON *data = cJSON_Parse("{\"target\":\"goblin\",\"roll\":20}");
    int line = __LINE__ + 1;
    pc_err rc = pc_room_event(room, "critical_hit", data, "alice rolls 20");
    if (rc != PC_OK) {
        fail_msg("%s", pc_room_last_error(room)->message);
    }

    /* Its own seq; the state, its checksum and the phase as they were;
     * the validator was not asked. */
    assert_int_equal(pc_room_seq(room), 3);
    assert_int_equal(pc_room_checksum(room), sum);
    assert_true(pc_json_equal(pc_room_state(room), before));
    assert_int_equal(validations, validated);

    /* The history keeps it whole. */
    const pc_change *c = NULL;
    assert_int_equal(pc_history_get(room, 3, &c), PC_OK);
    assert_int_equal(c->kind, PC_CHANGE_EVENT);
    assert_string_equal(c->reason, "alice rolls 20");
    assert_string_equal(c->file, __FILE__);
    assert_int_equal(c->line, line);
    assert_string_equal(c->func, __func__);
    assert_string_equal(c->phase, "HALL");
    assert_string_equal(c->prev_phase, "HALL");
    assert_int_equal(cJSON_GetArraySize(c->patch), 0);
    assert_int_equal(c->checksum, sum);
    assert_string_equal(c->event.name, "critical_hit");
    assert_int_equal(c->event.audience, PC_AUDIENCE_PUBLIC);
    assert_null(c->event.player);
    assert_true(pc_json_equal(c->event.data, data));
    assert_int_equal(c->cause.kind, PC_CAUSE_HOST);
    assert_int_equal(c->cause.first_seq, 3);

    /* The copy is the room's: changing the caller's tree changes nothing. */
    cJSON_ReplaceItemInObject(data, "roll", cJSON_CreateNumber(1));
    assert_int_equal(
        cJSON_GetObjectItemCaseSensitive(c->event.data, "roll")->valueint, 20);

    /* The sinks saw it like any change. */
    assert_int_equal(s.calls, 3);
    assert_int_equal(s.seq, 3);
    assert_int_equal(s.kind, PC_CHANGE_EVENT);
    assert_string_equal(s.name, "critical_hit");
    assert_int_equal(s.checksum, sum);
    assert_int_equal(s.from_inside, PC_ERR_REENTRANT);

    /* Time travel: the state at the event's seq is the one before it. */
    cJSON *at = NULL;
    assert_int_equal(pc_history_state_at(room, 3, &at), PC_OK);
    assert_true(pc_json_equal(at, before));
    cJSON_Delete(at);
    assert_int_equal(pc_history_state_at(room, 2, &at), PC_OK);
    assert_true(pc_json_equal(at, before));
    cJSON_Delete(at);

    /* An update after it continues the seqs. */
    assert_int_equal(pc_update_phase_text(room, "{\"hp\":2}", "hit"), PC_OK);
    assert_int_equal(pc_room_seq(room), 4);
    cJSON_Delete(data);
    cJSON_Delete(before);
    close_room(room, &s);
}

static void test_event_without_data_holds_null(void **state)
{
    (void)state;
    seen s;
    pc_room *room = open_room(PC_HISTORY_DEFAULT, &s);
    const pc_change *c = NULL;
    assert_int_equal(pc_history_get(room, 1, &c), PC_OK);
    assert_int_equal(c->kind, PC_CHANGE_EVENT);
    assert_string_equal(c->event.name, "opened");
    assert_true(cJSON_IsNull(c->event.data));
    /* A scalar is data too. */
    cJSON *n = cJSON_CreateNumber(42);
    assert_int_equal(pc_room_event(room, "answer", n, "asked"), PC_OK);
    assert_int_equal(pc_history_get(room, 2, &c), PC_OK);
    assert_int_equal(c->event.data->valueint, 42);
    cJSON_Delete(n);
    close_room(room, &s);
}

/* Call fn-like expressions that must fail with rc and code, and check
 * that nothing changed. */
#define REFUSED(call, rc, want)                                                \
    do {                                                                       \
        assert_int_equal((call), (rc));                                        \
        assert_string_equal(pc_room_last_error(room)->code, (want));           \
        assert_int_equal(pc_room_seq(room), seq);                              \
        assert_int_equal(pc_room_checksum(room), sum);                         \
        assert_int_equal(pc_history_count(room), count);                       \
        assert_int_equal(s.calls, calls);                                      \
    } while (0)

static void test_refused_event_changes_nothing(void **state)
{
    (void)state;
    seen s;
    pc_room_options o;
    pc_room_options_init(&o);
    o.limits.max_bytes = 64;
    o.limits.max_depth = 4;
    pc_room *room = NULL;
    assert_int_equal(pc_room_new(&herald, &o, &room), PC_OK);
    memset(&s, 0, sizeof s);
    assert_int_equal(pc_room_add_sink(room, sink, &s), PC_OK);
    cJSON *ok = cJSON_CreateObject();
    /* Not started yet. */
    assert_int_equal(pc_room_event(room, "early", ok, "too early"),
                     PC_ERR_STATE);
    assert_int_equal(pc_room_start(room), PC_OK);
    uint64_t seq = pc_room_seq(room), sum = pc_room_checksum(room);
    size_t count = pc_history_count(room);
    int calls = s.calls;

    char long_name[PC_EVENT_NAME_MAX + 2];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    REFUSED(pc_room_event(room, "", ok, "r"), PC_ERR_INVALID, "invalid_event");
    REFUSED(pc_room_event(room, NULL, ok, "r"), PC_ERR_INVALID,
            "invalid_event");
    REFUSED(pc_room_event(room, "two words", ok, "r"), PC_ERR_INVALID,
            "invalid_event");
    REFUSED(pc_room_event(room, long_name, ok, "r"), PC_ERR_INVALID,
            "invalid_event");
    REFUSED(pc_room_event_to(room, PC_AUDIENCE_PLAYER, NULL, "e", ok, "r"),
            PC_ERR_INVALID, "invalid_event");
    REFUSED(pc_room_event_to(room, PC_AUDIENCE_PLAYER, "bad id", "e", ok, "r"),
            PC_ERR_INVALID, "invalid_event");
    REFUSED(pc_room_event_to(room, PC_AUDIENCE_PUBLIC, "alice", "e", ok, "r"),
            PC_ERR_INVALID, "invalid_event");
    REFUSED(pc_room_event_to(room, PC_AUDIENCE_GM, "alice", "e", ok, "r"),
            PC_ERR_INVALID, "invalid_event");
    REFUSED(pc_room_event_to(room, (pc_audience)7, NULL, "e", ok, "r"),
            PC_ERR_INVALID, "invalid_event");
    REFUSED(pc_room_event(room, "e", ok, NULL), PC_ERR_INVALID,
            "invalid_reason");
    REFUSED(pc_room_event(room, "e", ok, ""), PC_ERR_INVALID, "invalid_reason");

    /* Data over the room's limits: 64 canonical bytes, depth 4 - 1. */
    cJSON *big = cJSON_CreateString("0123456789012345678901234567890123456789"
                                    "0123456789012345678901234567890123456789");
    REFUSED(pc_room_event(room, "e", big, "r"), PC_ERR_LIMIT, "limit_exceeded");
    cJSON *deep = cJSON_Parse("[[[[1]]]]");
    REFUSED(pc_room_event(room, "e", deep, "r"), PC_ERR_LIMIT,
            "limit_exceeded");
    /* Data that is not valid JSON for a room: a duplicate key. */
    cJSON *dup = cJSON_CreateObject();
    cJSON_AddNumberToObject(dup, "k", 1);
    cJSON_AddNumberToObject(dup, "k", 2);
    REFUSED(pc_room_event(room, "e", dup, "r"), PC_ERR_INVALID,
            "invalid_event");

    /* And the room still takes a good one. */
    assert_int_equal(pc_room_event(room, "fine", ok, "r"), PC_OK);
    assert_int_equal(pc_room_seq(room), seq + 1);
    cJSON_Delete(ok);
    cJSON_Delete(big);
    cJSON_Delete(deep);
    cJSON_Delete(dup);
    close_room(room, &s);
}

static pc_cause cause_at(pc_room *room, uint64_t seq, const pc_change **c)
{
    assert_int_equal(pc_history_get(room, seq, c), PC_OK);
    return (*c)->cause;
}

static void test_events_from_callbacks_carry_their_stimulus(void **state)
{
    (void)state;
    seen s;
    pc_room *room = open_room(PC_HISTORY_DEFAULT, &s);
    const pc_change *c = NULL;
    /* seq 1: the enter's, at the start. */
    assert_int_equal(cause_at(room, 1, &c).kind, PC_CAUSE_START);

    /* seq 2 and 3: "shout" makes an update and an event, one stimulus. */
    cJSON *payload = cJSON_Parse("{\"words\":\"hear ye\"}");
    pc_action shout = {.player = "bob", .type = "shout", .payload = payload};
    assert_int_equal(pc_room_action(room, &shout, NULL, NULL), PC_OK);
    pc_cause k = cause_at(room, 3, &c);
    assert_int_equal(c->kind, PC_CHANGE_EVENT);
    assert_int_equal(k.kind, PC_CAUSE_ACTION);
    assert_string_equal(k.player, "bob");
    assert_int_equal(k.first_seq, 2);
    assert_true(pc_json_equal(c->event.data, payload));

    /* seq 4: a whisper for bob alone. */
    pc_action whisper = {
        .player = "bob", .type = "whisper", .payload = payload};
    assert_int_equal(pc_room_action(room, &whisper, NULL, NULL), PC_OK);
    k = cause_at(room, 4, &c);
    assert_int_equal(c->event.audience, PC_AUDIENCE_PLAYER);
    assert_string_equal(c->event.player, "bob");
    assert_int_equal(k.first_seq, 4);
    assert_string_equal(s.player, "bob");

    /* seq 5: the game master's note. */
    pc_action secret = {.player = "bob", .type = "secret", .payload = NULL};
    assert_int_equal(pc_room_action(room, &secret, NULL, NULL), PC_OK);
    assert_int_equal(cause_at(room, 5, &c).kind, PC_CAUSE_ACTION);
    assert_int_equal(c->event.audience, PC_AUDIENCE_GM);
    assert_true(cJSON_IsNull(c->event.data));

    /* seq 6: the timer's. */
    assert_int_equal(pc_room_fire_timeout(room), PC_OK);
    k = cause_at(room, 6, &c);
    assert_int_equal(k.kind, PC_CAUSE_TIMEOUT);
    assert_string_equal(c->event.name, "tick");
    assert_int_equal(s.calls, 6);
    cJSON_Delete(payload);
    close_room(room, &s);
}

static void test_event_without_history_reaches_the_sinks_whole(void **state)
{
    (void)state;
    seen s;
    pc_room *room = open_room(0, &s);
    cJSON *data = cJSON_Parse("{\"who\":[\"ann\",\"ben\"]}");
    assert_int_equal(pc_room_event_to(room, PC_AUDIENCE_PLAYER, "ann", "toast",
                                      data, "raise a glass"),
                     PC_OK);
    assert_int_equal(pc_history_count(room), 0);
    assert_int_equal(s.seq, 2);
    assert_int_equal(s.kind, PC_CHANGE_EVENT);
    assert_string_equal(s.name, "toast");
    assert_string_equal(s.player, "ann");
    assert_int_equal(s.audience, PC_AUDIENCE_PLAYER);
    assert_true(pc_json_equal(s.data, data));
    cJSON_Delete(data);
    close_room(room, &s);
}

/* A journal that refuses what it is told to. */
static pc_err refusing_journal(pc_room *room, const pc_change *c, pc_error *why,
                               void *arg)
{
    (void)room;
    pc_err *answer = arg;
    assert_int_equal(c->kind, PC_CHANGE_EVENT);
    assert_string_equal(c->event.name, "logged");
    return pc_error_set(why, *answer, NULL, "refused by the test");
}

static void test_journal_refusal_of_an_event_changes_nothing(void **state)
{
    (void)state;
    seen s;
    pc_room *room = open_room(PC_HISTORY_DEFAULT, &s);
    pc_err answer = PC_ERR_LIMIT;
    pc_room_set_journal(room, refusing_journal, NULL, &answer);
    uint64_t seq = pc_room_seq(room);
    int calls = s.calls;
    assert_int_equal(pc_room_event(room, "logged", NULL, "r"), PC_ERR_LIMIT);
    assert_int_equal(pc_room_seq(room), seq);
    assert_int_equal(s.calls, calls);
    assert_false(pc_room_failed(room, NULL));
    /* Any other refusal fails the room, as for an update. */
    answer = PC_ERR_IO;
    assert_int_equal(pc_room_event(room, "logged", NULL, "r"), PC_ERR_IO);
    assert_true(pc_room_failed(room, NULL));
    assert_int_equal(pc_room_event(room, "later", NULL, "r"), PC_ERR_IO);
    assert_string_equal(pc_room_last_error(room)->code, "room_failed");
    assert_int_equal(pc_room_seq(room), seq);
    close_room(room, &s);
}

static void test_event_out_of_memory_changes_nothing(void **state)
{
    (void)state;
    pc_room *room = open_room(4, NULL);
    cJSON *data = cJSON_Parse("{\"a\":[1,2,{\"b\":\"c\"}],\"d\":\"e\"}");
    /* Fill the history so that pushes evict. */
    for (int i = 0; i < 6; i++) {
        assert_int_equal(pc_room_event(room, "fill", data, "fill"), PC_OK);
    }
    int failures = 0;
    for (size_t n = 1;; n++) {
        uint64_t seq = pc_room_seq(room);
        size_t live = testalloc_live();
        testalloc_fail_at(n, false);
        pc_err rc = pc_room_event(room, "oom", data, "under pressure");
        bool failed = testalloc_failed();
        testalloc_fail_at(0, false);
        if (!failed) {
            assert_int_equal(rc, PC_OK);
            break;
        }
        failures++;
        assert_int_equal(rc, PC_ERR_NOMEM);
        assert_int_equal(pc_room_seq(room), seq);
        assert_int_equal(testalloc_live(), live);
    }
    assert_true(failures >= 1);
    const pc_change *c = NULL;
    assert_int_equal(pc_history_get(room, pc_room_seq(room), &c), PC_OK);
    assert_true(pc_json_equal(c->event.data, data));
    cJSON_Delete(data);
    pc_room_free(room);
}

static void test_view_event_applies_the_audience(void **state)
{
    (void)state;
    pc_event pub = {.name = "e", .audience = PC_AUDIENCE_PUBLIC};
    pc_event ann = {
        .name = "e", .audience = PC_AUDIENCE_PLAYER, .player = "ann"};
    pc_event gm = {.name = "e", .audience = PC_AUDIENCE_GM};
    assert_true(pc_view_event(NULL, NULL));
    assert_true(pc_view_event(&pub, NULL));
    assert_true(pc_view_event(&pub, "ben"));
    assert_false(pc_view_event(&ann, NULL));
    assert_false(pc_view_event(&ann, "ben"));
    assert_false(pc_view_event(&ann, "anna"));
    assert_true(pc_view_event(&ann, "ann"));
    assert_false(pc_view_event(&gm, NULL));
    assert_false(pc_view_event(&gm, "ann"));
}

#define T(f)                                                                   \
    cmocka_unit_test_setup_teardown(f, testalloc_setup, testalloc_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_event_is_a_change_with_its_own_seq_and_record),
        T(test_event_without_data_holds_null),
        T(test_refused_event_changes_nothing),
        T(test_events_from_callbacks_carry_their_stimulus),
        T(test_event_without_history_reaches_the_sinks_whole),
        T(test_journal_refusal_of_an_event_changes_nothing),
        T(test_event_out_of_memory_changes_nothing),
        T(test_view_event_applies_the_audience),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
