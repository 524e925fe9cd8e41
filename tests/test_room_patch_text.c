/*
 * test_room_patch_text.c - the canonical text of a change's patch that the
 * room prints once at commit for its journal and sinks
 * (pc__room_patch_text, framework/room.h). It is exactly pc_canon_print's
 * text of the patch the journal and each sink are handed, only while they
 * run; never for a patch that is not the change's (a transition without a
 * patch, an event); and a room with neither journal nor sink keeps none.
 * White-box: it calls the internal accessor.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/room.h"
#include "room.h"
#include "testalloc.h"

static const pc_phase phases[] = {{.name = "A"}, {.name = "B"}};
static const pc_game game = {.name = "text", .phases = phases, .nphases = 2};

/* What the journal and the sink found. */
typedef struct probe {
    int journal_texts; /* calls that found the text, and it was right */
    int sink_texts;
    int sink_calls;
    int journal_calls;
    const cJSON *last_patch; /* the sink's patch, to ask again later */
} probe;

/* The room's text of patch, if any, equals its canonical print. */
static bool text_is_right(pc_room *room, const cJSON *patch)
{
    size_t len = 0;
    const char *text = pc__room_patch_text(room, patch, &len);
    if (text == NULL) {
        return false;
    }
    char *want = NULL;
    size_t want_len = 0;
    assert_int_equal(pc_canon_print(patch, &want, &want_len), PC_OK);
    assert_int_equal(len, want_len);
    assert_memory_equal(text, want, len);
    pc_free(want);
    return true;
}

static pc_err journal(pc_room *room, const pc_change *c, pc_error *why,
                      void *arg)
{
    (void)why;
    probe *p = arg;
    p->journal_calls++;
    p->journal_texts += text_is_right(room, c->patch);
    return PC_OK;
}

static void sink(pc_room *room, const pc_change *c, void *arg)
{
    probe *p = arg;
    p->sink_calls++;
    p->sink_texts += text_is_right(room, c->patch);
    p->last_patch = c->patch;
}

static pc_room *new_room(probe *p, bool with_journal, bool with_sink)
{
    pc_room *room = NULL;
    assert_int_equal(pc_room_new(&game, NULL, &room), PC_OK);
    if (with_journal) {
        pc_room_set_journal(room, journal, NULL, p);
    }
    if (with_sink) {
        assert_int_equal(pc_room_add_sink(room, sink, p), PC_OK);
    }
    assert_int_equal(pc_room_start(room), PC_OK);
    return room;
}

static void
test_journal_and_sinks_get_the_canonical_text_of_the_patch(void **state)
{
    (void)state;
    probe p = {0};
    pc_room *room = new_room(&p, true, true);
    /* Keys out of order and an escape: the text is the canonical one. */
    assert_int_equal(
        pc_update_phase_text(
            room, "{\"z\":[1,2.5,\"q\\\"\"],\"a\":{\"y\":null}}", "update"),
        PC_OK);
    assert_int_equal(pc_transition_text(room, "B", "{\"b\":true}", "go"),
                     PC_OK);
    assert_int_equal(p.journal_calls, 2);
    assert_int_equal(p.journal_texts, 2);
    assert_int_equal(p.sink_calls, 2);
    assert_int_equal(p.sink_texts, 2);
    /* Once the sinks have returned, the text is nobody's. */
    size_t len = 0;
    assert_null(pc__room_patch_text(room, p.last_patch, &len));
    assert_null(pc__room_patch_text(room, NULL, &len));
    pc_room_free(room);
}

static void test_changes_without_a_patch_of_their_own_get_no_text(void **state)
{
    (void)state;
    probe p = {0};
    pc_room *room = new_room(&p, true, true);
    assert_int_equal(pc_transition(room, "B", NULL, "no patch"), PC_OK);
    assert_int_equal(pc_room_event(room, "ping", NULL, "an event"), PC_OK);
    assert_int_equal(p.sink_calls, 2);
    assert_int_equal(p.sink_texts, 0);
    assert_int_equal(p.journal_texts, 0);
    pc_room_free(room);
}

static void test_sinks_alone_or_no_reader_at_all(void **state)
{
    (void)state;
    probe p = {0};
    pc_room *room = new_room(&p, false, true);
    assert_int_equal(pc_update_phase_text(room, "{\"a\":1}", "one"), PC_OK);
    assert_int_equal(p.sink_texts, 1);
    pc_room_free(room);
    /* Nobody to read it: nothing is printed or kept. */
    room = new_room(&p, false, false);
    assert_int_equal(pc_update_phase_text(room, "{\"a\":1}", "one"), PC_OK);
    assert_null(room->patch_text);
    pc_room_free(room);
}

static void test_a_refused_patch_leaves_no_text(void **state)
{
    (void)state;
    probe p = {0};
    pc_room_options o;
    pc_room_options_init(&o);
    o.limits = pc_json_limits_default();
    o.limits.max_bytes = 16;
    pc_room *room = NULL;
    assert_int_equal(pc_room_new(&game, &o, &room), PC_OK);
    assert_int_equal(pc_room_add_sink(room, sink, &p), PC_OK);
    assert_int_equal(pc_room_start(room), PC_OK);
    cJSON *big = cJSON_Parse("{\"a\":\"0123456789abcdef\"}");
    assert_int_equal(pc_update_phase_data(room, big, "too big"), PC_ERR_LIMIT);
    size_t len = 0;
    assert_null(pc__room_patch_text(room, big, &len));
    assert_int_equal(p.sink_calls, 0);
    cJSON_Delete(big);
    pc_room_free(room);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_journal_and_sinks_get_the_canonical_text_of_the_patch,
            testalloc_setup, testalloc_teardown),
        cmocka_unit_test_setup_teardown(
            test_changes_without_a_patch_of_their_own_get_no_text,
            testalloc_setup, testalloc_teardown),
        cmocka_unit_test_setup_teardown(test_sinks_alone_or_no_reader_at_all,
                                        testalloc_setup, testalloc_teardown),
        cmocka_unit_test_setup_teardown(test_a_refused_patch_leaves_no_text,
                                        testalloc_setup, testalloc_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
