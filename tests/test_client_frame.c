/*
 * test_client_frame.c - the client's fast "changes" frame decoder
 * (transport/client/frame.c) against the general path it shortcuts
 * (pc_json_parse, the envelope checks and pc__wire_change_decode). For
 * every frame here: when the fast decoder takes it, the general path
 * accepts it whole and decodes the same changes; the frames the server
 * writes are taken; and whatever the general path refuses is declined
 * (never taken), leaving the decoder empty and reusable. White-box: it
 * calls the internal decoder directly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "phasecast/json.h"

#include "frame.h"
#include "testalloc.h"
#include "wire.h"

#define ROOM "r1"

/* What the general path makes of text: accepted whole (parsed, checked,
 * an envelope of ROOM of type "changes" whose every CHANGE decodes). */
typedef struct general {
    cJSON *doc;
    pc__wire_change v[8];
    size_t n;
    bool accepted;
} general;

static void general_decode_lim(const char *text, const pc_json_limits *lim,
                               general *g)
{
    memset(g, 0, sizeof(*g));
    if (pc_json_parse(text, strlen(text), lim, &g->doc, NULL) != PC_OK) {
        return;
    }
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(g->doc, "type");
    const cJSON *room = cJSON_GetObjectItemCaseSensitive(g->doc, "room");
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(g->doc, "changes");
    if (!cJSON_IsObject(g->doc) || !pc__wire_v1(g->doc) ||
        !cJSON_IsString(type) || strcmp(type->valuestring, "changes") != 0 ||
        !cJSON_IsString(room) || strcmp(room->valuestring, ROOM) != 0 ||
        !cJSON_IsArray(list)) {
        return;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, list)
    {
        if (g->n == 8 || pc__wire_change_decode(item, &g->v[g->n]) != PC_OK) {
            return;
        }
        g->n++;
    }
    g->accepted = true;
}

static void general_decode(const char *text, general *g)
{
    pc_json_limits lim = pc_json_limits_default();
    general_decode_lim(text, &lim, g);
}

static void assert_same_change(const pc__wire_change *a,
                               const pc__wire_change *b)
{
    assert_true(a->seq == b->seq);
    assert_true(a->time_ms == b->time_ms);
    assert_int_equal(a->transition, b->transition);
    assert_int_equal(a->event, b->event);
    assert_string_equal(a->phase, b->phase);
    assert_string_equal(a->reason, b->reason);
    assert_true(a->sum == b->sum);
    assert_int_equal(a->private_data, b->private_data);
    assert_true(pc_json_equal(a->patch, b->patch));
    assert_null(a->event_name);
    assert_null(a->event_data);
}

/* Decode text both ways within lim; returns whether the fast decoder took
 * it, after checking that taking implies the general path's identical
 * result. *accepted (may be NULL) says whether the general path did. */
static bool both_lim(pc__frame *f, const char *text, const pc_json_limits *lim,
                     bool *accepted)
{
    general g;
    general_decode_lim(text, lim, &g);
    if (accepted != NULL) {
        *accepted = g.accepted;
    }
    bool taken = true;
    assert_int_equal(pc__frame_decode(f, text, strlen(text), ROOM, lim, &taken),
                     PC_OK);
    if (taken) {
        if (!g.accepted) {
            fail_msg("fast path took what the general path refuses: %s", text);
        }
        assert_int_equal(f->n, g.n);
        for (size_t i = 0; i < g.n; i++) {
            assert_same_change(&f->v[i], &g.v[i]);
        }
        pc__frame_clear(f);
    }
    assert_int_equal(f->n, 0);
    cJSON_Delete(g.doc);
    return taken;
}

static bool both(pc__frame *f, const char *text)
{
    pc_json_limits lim = pc_json_limits_default();
    return both_lim(f, text, &lim, NULL);
}

#define SUM "00000000deadbeef"
#define CHANGE(seq)                                                            \
    "{\"seq\":" #seq ",\"time\":1700000000000,\"kind\":\"update\","            \
    "\"phase\":\"PLAY\",\"reason\":\"bench\",\"file\":\"/src/game.c\","        \
    "\"line\":42,\"patch\":{\"t\":12,\"s\":\"x\"},\"sum\":\"" SUM "\"}"
#define FRAME(changes)                                                         \
    "{\"v\":1,\"type\":\"changes\",\"room\":\"" ROOM                           \
    "\",\"changes\":[" changes "]}"

static void test_frame_takes_the_frames_the_server_writes(void **state)
{
    (void)state;
    pc__frame f;
    pc__frame_init(&f);
    assert_true(both(&f, FRAME(CHANGE(1))));
    assert_true(both(&f, FRAME(CHANGE(7) "," CHANGE(8) "," CHANGE(9))));
    assert_true(both(&f, FRAME("")));
    /* Every member the server may write, kinds and private events too. */
    assert_true(both(
        &f, FRAME("{\"seq\":3,\"time\":-5,\"kind\":\"transition\","
                  "\"phase\":\"END\",\"patch\":{},\"sum\":\"" SUM "\"},"
                  "{\"seq\":4,\"time\":6,\"kind\":\"event\",\"phase\":\"END\","
                  "\"patch\":{},\"sum\":\"" SUM "\",\"private\":true},"
                  "{\"seq\":5,\"kind\":\"update\",\"phase\":\"END\","
                  "\"patch\":{\"a\":{\"b\":[1,2.5,null,\"\\u00e9\"]}},"
                  "\"sum\":\"" SUM "\",\"private\":false}")));
    /* Whitespace and member order are the writer's business. */
    assert_true(both(&f,
                     " { \"changes\" : [ " CHANGE(
                         2) " ] , \"room\" : \"" ROOM
                            "\" , \"type\" : \"changes\" , \"v\" : 1 } \n"));
    pc__frame_fini(&f);
}

static void test_frame_declines_what_the_general_path_refuses(void **state)
{
    (void)state;
    pc__frame f;
    pc__frame_init(&f);
    static const char *const bad[] = {
        "",
        "[]",
        "{\"v\":1,\"type\":\"changes\",\"room\":\"" ROOM "\",\"changes\":[",
        FRAME(CHANGE(1)) "x",
        FRAME(CHANGE(1)) "\x01",
        "{\"v\":2,\"type\":\"changes\",\"room\":\"" ROOM "\",\"changes\":[]}",
        "{\"v\":1,\"type\":\"changes\",\"room\":\"r2\",\"changes\":[]}",
        "{\"v\":1,\"v\":1,\"type\":\"changes\",\"room\":\"" ROOM
        "\",\"changes\":[]}",
        "{\"v\":1,\"type\":\"changes\",\"room\":\"" ROOM "\",\"changes\":{}}",
        "{\"v\":1,\"type\":\"changes\",\"room\":\"" ROOM "\"}",
        FRAME("{\"seq\":1,\"seq\":2,\"phase\":\"P\",\"patch\":{},"
              "\"sum\":\"" SUM "\"}"),
        FRAME("{\"seq\":0,\"phase\":\"P\",\"patch\":{},\"sum\":\"" SUM "\"}"),
        FRAME("{\"seq\":-1,\"phase\":\"P\",\"patch\":{},\"sum\":\"" SUM "\"}"),
        FRAME("{\"seq\":1,\"phase\":\"P\",\"patch\":{}}"),
        FRAME("{\"seq\":1,\"phase\":\"P\",\"patch\":{},"
              "\"sum\":\"00000000DEADBEEF\"}"),
        FRAME("{\"seq\":1,\"phase\":\"P\",\"patch\":{},\"sum\":\"abc\"}"),
        FRAME("{\"seq\":1,\"phase\":\"P\",\"patch\":[],\"sum\":\"" SUM "\"}"),
        FRAME("{\"seq\":1,\"phase\":7,\"patch\":{},\"sum\":\"" SUM "\"}"),
        FRAME("{\"seq\":1,\"patch\":{},\"sum\":\"" SUM "\"}"),
        FRAME("{\"seq\":1,\"phase\":\"P\",\"patch\":{\"a\":1,\"a\":2},"
              "\"sum\":\"" SUM "\"}"),
        FRAME("{\"seq\":1,\"phase\":\"P\",\"patch\":{\"a\":\"\\u0000\"},"
              "\"sum\":\"" SUM "\"}"),
        FRAME("{\"seq\":1,\"phase\":\"P\xff\",\"patch\":{},\"sum\":\"" SUM
              "\"}"),
        FRAME("{\"seq\":1,\"phase\":\"P\",\"patch\":{\"a\":\"\xc0\xaf\"},"
              "\"sum\":\"" SUM "\"}"),
        FRAME("{\"seq\":1,\"phase\":\"P\",\"patch\":{\"a\":01},"
              "\"sum\":\"" SUM "\"}"),
        FRAME("{\"seq\":1,\"phase\":\"P\",\"line\":1e999,\"patch\":{},"
              "\"sum\":\"" SUM "\"}"),
        FRAME("{\"seq\":1,\"phase\":\"P\",\"patch\":{},\"sum\":\"" SUM "\","
              "\"event\":{\"name\":\"x\"}}"),
        FRAME(CHANGE(1) ",{\"seq\":2}"),
        /* What the decoder must refuse itself, as the scan would. */
        FRAME("{\"seq\":1,\"phase\":\"P\x01\",\"patch\":{},"
              "\"sum\":\"" SUM "\"}"),
        FRAME("{\"seq\":1,\"phase\":\"P\tQ\",\"patch\":{},"
              "\"sum\":\"" SUM "\"}"),
        FRAME("{\"seq\":01,\"phase\":\"P\",\"patch\":{},\"sum\":\"" SUM "\"}"),
        FRAME("{\"seq\":1,\"time\":-,\"phase\":\"P\",\"patch\":{},"
              "\"sum\":\"" SUM "\"}"),
        FRAME("{\"seq\":1,\"time\":-01,\"phase\":\"P\",\"patch\":{},"
              "\"sum\":\"" SUM "\"}"),
        FRAME("{\"seq\":1x,\"phase\":\"P\",\"patch\":{},\"sum\":\"" SUM "\"}"),
        FRAME("{\"seq\":1,\"phase\":\"P\",\"private\":truex,"
              "\"patch\":{},\"sum\":\"" SUM "\"}"),
        FRAME("{\"seq\":1,\"phase\":\"P\",\"private\":tru,"
              "\"patch\":{},\"sum\":\"" SUM "\"}"),
        FRAME("{\"seq\":1,\"phase\":\"P\",\"patch\":{\"a\":tru},"
              "\"sum\":\"" SUM "\"}"),
        FRAME("{\"seq\":1,\"phase\":\"P\",\"patch\":{\"a\":1},"
              "\"sum\":\"" SUM "\",}"),
        FRAME("{\"seq\":1,\"phase\":\"P\",\"patch\":{\"a\":1,},"
              "\"sum\":\"" SUM "\"}"),
        FRAME("{\"seq\":1,\"phase\":\"P\",\"patch\":{\"a\":[1,]},"
              "\"sum\":\"" SUM "\"}"),
        FRAME("{\"seq\":1,\"phase\":\"P\",\"patch\":{\"a\":1}"
              "\"sum\":\"" SUM "\"}"),
        FRAME("{\"seq\":1,\"phase\":\"P\",\"patch\":{\"a\":\"x},"
              "\"sum\":\"" SUM "\"}"),
        FRAME(CHANGE(1) ","),
        FRAME(CHANGE(1) "," CHANGE(2)) "}",
        "{\"v\":1,\"type\":\"changes\",\"room\":\"" ROOM
        "\",\"changes\":[" CHANGE(1) "]",
        "\f" FRAME(CHANGE(1)),
        FRAME(CHANGE(1)) "\v",
        "\xef\xbb\xbf" FRAME(CHANGE(1)),
        "{\"v\" 1,\"type\":\"changes\",\"room\":\"" ROOM "\",\"changes\":[]}",
        "{\"v\":1 \"type\":\"changes\",\"room\":\"" ROOM "\",\"changes\":[]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (both(&f, bad[i])) {
            fail_msg("took case %zu: %s", i, bad[i]);
        }
    }
    /* Still usable afterwards. */
    assert_true(both(&f, FRAME(CHANGE(1))));
    pc__frame_fini(&f);
}

static void
test_frame_limits_mean_what_they_mean_for_the_whole_text(void **state)
{
    (void)state;
    pc__frame f;
    pc__frame_init(&f);
    const char *text =
        FRAME(CHANGE(1) ",{\"seq\":2,\"phase\":\"P\",\"patch\":"
                        "{\"a\":{\"b\":[1,{\"c\":null}]},\"d\":\"long "
                        "enough string\"},\"sum\":\"" SUM "\"}");
    for (int which = 0; which < 4; which++) {
        bool seen_accept = false;
        for (size_t k = 1; k < 1000; k++) {
            pc_json_limits lim = pc_json_limits_default();
            if (which == 0) {
                lim.max_nodes = k;
            } else if (which == 1) {
                lim.max_depth = (int)k;
                if (k > PC_JSON_DEPTH_CEILING) {
                    break;
                }
            } else if (which == 2) {
                lim.max_string = k;
            } else {
                lim.max_bytes = k;
                k += k < strlen(text) - 20 ? 19 : 0;
            }
            bool accepted = false;
            bool taken = both_lim(&f, text, &lim, &accepted);
            /* Monotone: once accepted at some limit, accepted above. */
            assert_true(!seen_accept || accepted);
            if (accepted && !seen_accept) {
                /* The first limit the general path accepts is the first
                 * the fast path takes: it counts exactly as it does. */
                if (!taken) {
                    fail_msg("limit %d: declined at %zu, which the general "
                             "path accepts",
                             which, k);
                }
            }
            seen_accept = seen_accept || accepted;
        }
        assert_true(seen_accept);
    }
    pc__frame_fini(&f);
}

static void test_frame_leaves_the_unusual_to_the_general_path(void **state)
{
    (void)state;
    pc__frame f;
    pc__frame_init(&f);
    /* All valid, all accepted by the general path, none taken here: the
     * decoder only recognises the plain shape. */
    static const char *const unusual[] = {
        FRAME("{\"seq\":1.0,\"phase\":\"P\",\"patch\":{},\"sum\":\"" SUM "\"}"),
        FRAME("{\"seq\":1,\"time\":1e3,\"phase\":\"P\",\"patch\":{},"
              "\"sum\":\"" SUM "\"}"),
        FRAME("{\"seq\":1,\"phase\":\"P\\u00e9\",\"patch\":{},\"sum\":\"" SUM
              "\"}"),
        FRAME("{\"seq\":1,\"phase\":\"caf\xc3\xa9\",\"patch\":{},"
              "\"sum\":\"" SUM "\"}"),
        FRAME("{\"seq\":1,\"phase\":\"P\",\"reason\":null,\"patch\":{},"
              "\"sum\":\"" SUM "\"}"),
        FRAME("{\"seq\":1,\"phase\":\"P\",\"extra\":[1],\"patch\":{},"
              "\"sum\":\"" SUM "\"}"),
        FRAME("{\"seq\":1,\"phase\":\"P\",\"private\":null,\"patch\":{},"
              "\"sum\":\"" SUM "\"}"),
        FRAME("{\"seq\":1234567890123456,\"phase\":\"P\",\"patch\":{},"
              "\"sum\":\"" SUM "\"}"),
        "{\"v\":1.0,\"type\":\"changes\",\"room\":\"" ROOM "\",\"changes\":[]}",
        "{\"v\":1,\"type\":\"changes\",\"room\":\"" ROOM
        "\",\"changes\":[],\"later\":true}",
    };
    for (size_t i = 0; i < sizeof(unusual) / sizeof(unusual[0]); i++) {
        general g;
        general_decode(unusual[i], &g);
        assert_true(g.accepted);
        cJSON_Delete(g.doc);
        if (both(&f, unusual[i])) {
            fail_msg("took case %zu: %s", i, unusual[i]);
        }
    }
    pc__frame_fini(&f);
}

static void test_frame_out_of_memory_declines_without_leaking(void **state)
{
    (void)state;
    const char *text = FRAME(CHANGE(1) "," CHANGE(2));
    pc_json_limits lim = pc_json_limits_default();
    size_t live = testalloc_live();
    size_t declined = 0;
    for (size_t n = 1; n < 200; n++) {
        pc__frame f;
        pc__frame_init(&f);
        testalloc_fail_at(n, false);
        bool taken = false;
        pc_err rv =
            pc__frame_decode(&f, text, strlen(text), ROOM, &lim, &taken);
        bool failed = testalloc_failed();
        testalloc_fail_at(0, false);
        assert_int_equal(rv, PC_OK);
        /* A failed allocation declines the frame (the general path then
         * meets the shortage itself); otherwise it is taken whole. */
        assert_int_equal(taken, !failed);
        assert_int_equal(f.n, taken ? 2 : 0);
        pc__frame_fini(&f);
        assert_int_equal(testalloc_live(), live);
        if (!failed) {
            break;
        }
        declined++;
    }
    assert_true(declined > 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_frame_takes_the_frames_the_server_writes, testalloc_setup,
            testalloc_teardown),
        cmocka_unit_test_setup_teardown(
            test_frame_declines_what_the_general_path_refuses, testalloc_setup,
            testalloc_teardown),
        cmocka_unit_test_setup_teardown(
            test_frame_limits_mean_what_they_mean_for_the_whole_text,
            testalloc_setup, testalloc_teardown),
        cmocka_unit_test_setup_teardown(
            test_frame_leaves_the_unusual_to_the_general_path, testalloc_setup,
            testalloc_teardown),
        cmocka_unit_test_setup_teardown(
            test_frame_out_of_memory_declines_without_leaking, testalloc_setup,
            testalloc_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
