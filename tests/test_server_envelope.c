/*
 * test_server_envelope.c - the two CHANGE encoders of transport/envelope.c
 * agree: the text the broadcast writes (pc__envelope_change_text) parses
 * to the tree the `changes` request builds (pc__envelope_change), for
 * every kind of change (update, transition, event of each audience), for
 * the public and for each player, in a game with private paths and in
 * one without. And what each viewer gets of an event: its name and data
 * when the audience includes the viewer, else its seq alone (no name,
 * data or reason, "private": true). White-box: it calls the encoders
 * directly, on changes from a real room's history.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "phasecast/alloc.h"
#include "phasecast/history.h"
#include "phasecast/json.h"
#include "phasecast/room.h"
#include "phasecast/view.h"
#include "transport/envelope.h"

#define CANARY "CANARY-EVENT-77"

static const pc_phase phases[] = {{.name = "DAY"}, {.name = "NIGHT"}};
static const char *const secret_paths[] = {"/secrets/{player}", NULL};
static const pc_game secretive = {.name = "secretive",
                                  .phases = phases,
                                  .nphases = 2,
                                  .private_paths = secret_paths};
static const pc_game open_game = {
    .name = "open", .phases = phases, .nphases = 2};

/* seq 1 update (ann's secret), 2 transition, 3 public event, 4 ann's
 * event, 5 the gm's, 6 an event with no data. */
static pc_room *play(const pc_game *g)
{
    pc_room *room = NULL;
    assert_int_equal(pc_room_new(g, NULL, &room), PC_OK);
    assert_int_equal(pc_room_start(room), PC_OK);
    assert_int_equal(pc_update_phase_text(
                         room,
                         "{\"n\":1,\"secrets\":{\"ann\":\"" CANARY "-state\"}}",
                         "deal"),
                     PC_OK);
    assert_int_equal(pc_transition_text(room, "NIGHT", "{\"n\":2}", "dusk"),
                     PC_OK);
    cJSON *pub = cJSON_Parse("{\"roll\":20,\"quote\":\"a \\\"b\\\"\\n\"}");
    cJSON *mine = cJSON_Parse("{\"objective\":\"" CANARY "-ann\"}");
    cJSON *gm = cJSON_CreateString(CANARY "-gm");
    assert_int_equal(pc_room_event(room, "critical_hit", pub, "crit!"), PC_OK);
    assert_int_equal(pc_room_event_to(room, PC_AUDIENCE_PLAYER, "ann",
                                      "objective", mine, "ann's objective"),
                     PC_OK);
    assert_int_equal(pc_room_event_to(room, PC_AUDIENCE_GM, NULL, "gm.note", gm,
                                      "gm note " CANARY "-reason"),
                     PC_OK);
    assert_int_equal(pc_room_event(room, "bell", NULL, "the bell"), PC_OK);
    cJSON_Delete(pub);
    cJSON_Delete(mine);
    cJSON_Delete(gm);
    return room;
}

/* Both encodings of the change at seq for viewer; *text is the text
 * (caller frees with pc_free). Asserts they agree. */
static cJSON *both(pc_room *room, uint64_t seq, const char *viewer, char **text)
{
    const pc_change *c = NULL;
    assert_int_equal(pc_history_get(room, seq, &c), PC_OK);
    cJSON *after = NULL;
    assert_int_equal(pc_history_state_at(room, seq, &after), PC_OK);
    cJSON *tree = NULL;
    pc_viewer v = pc_viewer_of(viewer);
    if (viewer != NULL && strcmp(viewer, "(gm)") == 0) {
        v = (pc_viewer){PC_VIEWER_GM, NULL};
    }
    assert_int_equal(
        pc__envelope_change(pc_room_game(room), c, &v, after, &tree), PC_OK);
    pc__text t = {NULL, 0, 0};
    assert_int_equal(pc__text_put(&t, "x", 1), PC_OK); /* appends after */
    assert_int_equal(
        pc__envelope_change_text(pc_room_game(room), c, &v, after, NULL, 0, &t),
        PC_OK);
    cJSON *parsed = NULL;
    assert_int_equal(pc_json_parse(t.buf + 1, t.len - 1, NULL, &parsed, NULL),
                     PC_OK);
    if (!pc_json_equal(tree, parsed)) {
        char *p = cJSON_PrintUnformatted(tree);
        fail_msg("seq %llu for %s: tree %s, text %.*s", (unsigned long long)seq,
                 viewer != NULL ? viewer : "(public)", p, (int)(t.len - 1),
                 t.buf + 1);
    }
    *text = pc_malloc(t.len);
    memcpy(*text, t.buf + 1, t.len - 1);
    (*text)[t.len - 1] = '\0';
    pc__text_free(&t);
    cJSON_Delete(parsed);
    cJSON_Delete(after);
    return tree;
}

/* The game master's encoding of seq 5 holds its event's canaries; the
 * other seqs hold none of them. */
static void continue_gm(uint64_t seq, const char *text)
{
    bool has = strstr(text, CANARY "-gm") != NULL;
    assert_true(seq == 5 ? has : !has);
}

static void check_game(const pc_game *g)
{
    pc_room *room = play(g);
    /* "(gm)" stands for the game master, who sees everything. */
    const char *viewers[] = {NULL, "ann", "ben", "(gm)"};
    for (uint64_t seq = 1; seq <= pc_room_seq(room); seq++) {
        for (size_t v = 0; v < 4; v++) {
            char *text = NULL;
            cJSON *tree = both(room, seq, viewers[v], &text);
            const cJSON *ev = cJSON_GetObjectItemCaseSensitive(tree, "event");
            const char *kind =
                cJSON_GetObjectItemCaseSensitive(tree, "kind")->valuestring;
            bool priv =
                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(tree, "private"));
            bool is_ann = viewers[v] != NULL && strcmp(viewers[v], "ann") == 0;
            bool is_gm = viewers[v] != NULL && strcmp(viewers[v], "(gm)") == 0;
            switch (seq) {
            case 1:
                assert_string_equal(kind, "update");
                break;
            case 2:
                assert_string_equal(kind, "transition");
                break;
            case 3:
                assert_string_equal(kind, "event");
                assert_string_equal(
                    cJSON_GetObjectItemCaseSensitive(ev, "name")->valuestring,
                    "critical_hit");
                assert_false(priv);
                break;
            case 4:
                assert_true(priv);
                assert_true(is_ann || is_gm ? ev != NULL : ev == NULL);
                break;
            case 5: /* nobody but the game master sees its event */
                assert_true(priv);
                if (is_gm) {
                    assert_non_null(ev);
                    break;
                }
                assert_null(ev);
                assert_null(cJSON_GetObjectItemCaseSensitive(tree, "reason"));
                break;
            case 6:
                assert_true(
                    cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(ev, "data")));
                break;
            }
            if (seq < 3) {
                assert_null(ev);
            }
            /* Only ann's own view may hold ann's canaries; the gm's never
             * leave. Without private paths, the state is public. */
            bool state_canary_ok = is_ann || is_gm || !pc_view_has_private(g);
            if (strstr(text, CANARY "-state") != NULL) {
                assert_true(state_canary_ok);
            }
            if (strstr(text, CANARY "-ann") != NULL) {
                assert_true((is_ann || is_gm) && seq == 4);
            }
            if (is_gm) {
                continue_gm(seq, text);
            } else {
                assert_null(strstr(text, CANARY "-gm"));
                assert_null(strstr(text, CANARY "-reason"));
            }
            pc_free(text);
            cJSON_Delete(tree);
        }
    }
    pc_room_free(room);
}

static void test_encoders_agree_with_private_paths(void **state)
{
    (void)state;
    check_game(&secretive);
}

static void test_encoders_agree_without_private_paths(void **state)
{
    (void)state;
    check_game(&open_game);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encoders_agree_with_private_paths),
        cmocka_unit_test(test_encoders_agree_without_private_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
