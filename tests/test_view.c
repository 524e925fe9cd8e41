/*
 * test_view.c - private-path views: who sees what, patch filtering, the
 * commutation property replicas rely on, pattern validation, and clean
 * failure when allocation fails.
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
#include "phasecast/json.h"
#include "phasecast/merge.h"
#include "phasecast/room.h"
#include "phasecast/view.h"
#include "testalloc.h"

static const pc_phase phases[] = {{"PLAY", NULL, NULL, NULL, NULL, 0}};
static const char *const secrets[] = {"/hands/{player}", "/deck",
                                      "/players/*/gm_note", NULL};
static const pc_game game = {
    .name = "cards", .phases = phases, .nphases = 1, .private_paths = secrets};
static const pc_game open_game = {
    .name = "open", .phases = phases, .nphases = 1};

static cJSON *parse(const char *text)
{
    cJSON *doc = NULL;
    assert_int_equal(pc_json_parse(text, strlen(text), NULL, &doc, NULL),
                     PC_OK);
    return doc;
}

static void assert_canon(const cJSON *doc, const char *expected)
{
    char *text = NULL;
    assert_int_equal(pc_canon_print(doc, &text, NULL), PC_OK);
    assert_string_equal(text, expected);
    pc_free(text);
}

static const char *state_text =
    "{\"phase\":\"PLAY\",\"data\":{\"hands\":{\"alice\":[1,2],\"bob\":[3]},"
    "\"deck\":[4,5,6],\"players\":{\"alice\":{\"score\":1,\"gm_note\":\"x\"}},"
    "\"turn\":\"alice\"}}";

static void test_public_view_omits_every_private_member(void **s)
{
    (void)s;
    cJSON *doc = parse(state_text);
    cJSON *view = NULL;
    assert_int_equal(pc_view_state(&game, doc, NULL, &view), PC_OK);
    assert_canon(view, "{\"data\":{\"hands\":{},\"players\":{\"alice\":{"
                       "\"score\":1}},\"turn\":\"alice\"},\"phase\":\"PLAY\"}");
    cJSON_Delete(view);
    cJSON_Delete(doc);
}

static void test_player_view_shows_only_that_players_own_secrets(void **s)
{
    (void)s;
    cJSON *doc = parse(state_text);
    cJSON *view = NULL;
    assert_int_equal(pc_view_state(&game, doc, "alice", &view), PC_OK);
    assert_canon(view, "{\"data\":{\"hands\":{\"alice\":[1,2]},\"players\":{"
                       "\"alice\":{\"score\":1}},\"turn\":\"alice\"},"
                       "\"phase\":\"PLAY\"}");
    cJSON_Delete(view);
    assert_int_equal(pc_view_state(&game, doc, "bob", &view), PC_OK);
    assert_canon(view, "{\"data\":{\"hands\":{\"bob\":[3]},\"players\":{"
                       "\"alice\":{\"score\":1}},\"turn\":\"alice\"},"
                       "\"phase\":\"PLAY\"}");
    cJSON_Delete(view);
    /* A name that owns nothing sees the public view. */
    assert_int_equal(pc_view_state(&game, doc, "carol", &view), PC_OK);
    cJSON *pub = NULL;
    assert_int_equal(pc_view_state(&game, doc, NULL, &pub), PC_OK);
    assert_true(pc_json_equal(view, pub));
    cJSON_Delete(view);
    cJSON_Delete(pub);
    cJSON_Delete(doc);
}

static void test_patch_view_filters_and_reports_private_touches(void **s)
{
    (void)s;
    cJSON *patch = parse("{\"hands\":{\"bob\":[9]},\"turn\":\"bob\"}");
    cJSON *view = NULL;
    bool priv = false;
    assert_int_equal(pc_view_patch(&game, patch, NULL, &view, &priv), PC_OK);
    assert_true(priv);
    assert_canon(view, "{\"hands\":{},\"turn\":\"bob\"}");
    cJSON_Delete(view);
    assert_int_equal(pc_view_patch(&game, patch, "bob", &view, &priv), PC_OK);
    assert_canon(view, "{\"hands\":{\"bob\":[9]},\"turn\":\"bob\"}");
    cJSON_Delete(view);
    cJSON_Delete(patch);

    patch = parse("{\"turn\":\"bob\",\"players\":{\"bob\":{\"score\":2}}}");
    assert_int_equal(pc_view_patch(&game, patch, NULL, &view, &priv), PC_OK);
    assert_false(priv);
    assert_true(pc_json_equal(view, patch));
    cJSON_Delete(view);
    cJSON_Delete(patch);

    /* Deleting a secret is itself private: the public patch says nothing. */
    patch = parse("{\"deck\":null}");
    assert_int_equal(pc_view_patch(&game, patch, "alice", &view, &priv), PC_OK);
    assert_true(priv);
    assert_canon(view, "{}");
    cJSON_Delete(view);
    cJSON_Delete(patch);
}

/* Small random documents over keys that hit every pattern. */
static uint64_t rng = 99;

static uint32_t rnd(uint32_t n)
{
    rng = rng * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
    return (uint32_t)(rng >> 33) % n;
}

static cJSON *random_object(int depth, bool nulls)
{
    static const char *keys[] = {"hands",   "alice",   "bob", "deck",
                                 "players", "gm_note", "x"};
    cJSON *o = cJSON_CreateObject();
    int n = (int)rnd(4);
    for (int i = 0; i < n; i++) {
        const char *k = keys[rnd(7)];
        if (cJSON_GetObjectItemCaseSensitive(o, k) != NULL) {
            continue;
        }
        cJSON *v;
        uint32_t pick = depth > 3 ? rnd(3) : rnd(5);
        if (pick == 0) {
            v = cJSON_CreateNumber(rnd(10));
        } else if (pick == 1) {
            v = nulls ? cJSON_CreateNull() : cJSON_CreateString("s");
        } else if (pick == 2) {
            v = cJSON_CreateArray();
            cJSON_AddItemToArray(v, cJSON_CreateNumber(rnd(10)));
        } else {
            v = random_object(depth + 1, nulls);
        }
        cJSON_AddItemToObject(o, k, v);
    }
    return o;
}

static void test_view_of_merged_state_equals_merge_of_views(void **s)
{
    (void)s;
    const char *viewers[] = {NULL, "alice", "bob"};
    for (int round = 0; round < 400; round++) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "phase", "PLAY");
        cJSON_AddItemToObject(doc, "data", random_object(1, false));
        cJSON *patch = random_object(1, true);
        cJSON *merged_data = NULL;
        assert_int_equal(
            pc_merge_patch(cJSON_GetObjectItemCaseSensitive(doc, "data"), patch,
                           &merged_data),
            PC_OK);
        cJSON *merged = cJSON_CreateObject();
        cJSON_AddStringToObject(merged, "phase", "PLAY");
        cJSON_AddItemToObject(merged, "data", merged_data);
        for (int v = 0; v < 3; v++) {
            cJSON *view_after = NULL, *view_before = NULL, *view_patch = NULL;
            assert_int_equal(
                pc_view_state(&game, merged, viewers[v], &view_after), PC_OK);
            assert_int_equal(
                pc_view_state(&game, doc, viewers[v], &view_before), PC_OK);
            assert_int_equal(
                pc_view_patch(&game, patch, viewers[v], &view_patch, NULL),
                PC_OK);
            cJSON *replica =
                cJSON_GetObjectItemCaseSensitive(view_before, "data");
            assert_int_equal(pc_merge_patch_inplace(replica, view_patch),
                             PC_OK);
            assert_true(pc_json_equal(view_after, view_before));
            uint64_t a = 0, b = 0;
            assert_int_equal(pc_view_checksum(&game, merged, viewers[v], &a),
                             PC_OK);
            assert_int_equal(pc_canon_checksum(view_before, &b, NULL), PC_OK);
            assert_int_equal(a, b);
            cJSON_Delete(view_after);
            cJSON_Delete(view_before);
            cJSON_Delete(view_patch);
        }
        cJSON_Delete(merged);
        cJSON_Delete(patch);
        cJSON_Delete(doc);
    }
}

static void test_game_without_private_paths_shows_everything(void **s)
{
    (void)s;
    cJSON *doc = parse(state_text);
    cJSON *view = NULL;
    assert_false(pc_view_has_private(&open_game));
    assert_true(pc_view_has_private(&game));
    assert_int_equal(pc_view_state(&open_game, doc, NULL, &view), PC_OK);
    assert_true(pc_json_equal(view, doc));
    uint64_t a = 0, b = 0;
    assert_int_equal(pc_view_checksum(&open_game, doc, NULL, &a), PC_OK);
    assert_int_equal(pc_canon_checksum(doc, &b, NULL), PC_OK);
    assert_int_equal(a, b);
    cJSON_Delete(view);
    cJSON_Delete(doc);
}

static void test_bad_private_path_patterns_are_refused(void **s)
{
    (void)s;
    static const char *const no_slash[] = {"hands", NULL};
    static const char *const two_players[] = {"/{player}/{player}", NULL};
    static const char *const trailing[] = {"/a/", NULL};
    static const char *const fine[] = {"/a~1b/*/{player}", "/", NULL};
    const char *const *bad[] = {no_slash, two_players};
    for (size_t i = 0; i < 2; i++) {
        pc_game g = {.name = "g",
                     .phases = phases,
                     .nphases = 1,
                     .private_paths = bad[i]};
        assert_int_equal(pc_view_check_game(&g), PC_ERR_INVALID);
        pc_room *room = NULL;
        assert_int_equal(pc_room_new(&g, NULL, &room), PC_ERR_INVALID);
    }
    pc_game g = {
        .name = "g", .phases = phases, .nphases = 1, .private_paths = trailing};
    /* "/a/" is the member "" under "a": legal JSON Pointer, accepted. */
    assert_int_equal(pc_view_check_game(&g), PC_OK);
    g.private_paths = fine;
    assert_int_equal(pc_view_check_game(&g), PC_OK);
    const char *many[PC_VIEW_PATTERNS_MAX + 2];
    for (int i = 0; i <= PC_VIEW_PATTERNS_MAX; i++) {
        many[i] = "/x";
    }
    many[PC_VIEW_PATTERNS_MAX + 1] = NULL;
    g.private_paths = many;
    assert_int_equal(pc_view_check_game(&g), PC_ERR_INVALID);
}

static void test_view_fails_cleanly_at_every_allocation(void **s)
{
    (void)s;
    cJSON *doc = parse(state_text);
    size_t live = testalloc_live();
    for (size_t n = 1;; n++) {
        cJSON *view = NULL;
        testalloc_fail_at(n, false);
        pc_err rv = pc_view_state(&game, doc, "alice", &view);
        bool injected = testalloc_failed();
        testalloc_fail_at(0, false);
        if (!injected) {
            assert_int_equal(rv, PC_OK);
            cJSON_Delete(view);
            break;
        }
        assert_int_equal(rv, PC_ERR_NOMEM);
        assert_null(view);
        assert_int_equal(testalloc_live(), live);
    }
    cJSON_Delete(doc);
}

#define T(f)                                                                   \
    cmocka_unit_test_setup_teardown(f, testalloc_setup, testalloc_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_public_view_omits_every_private_member),
        T(test_player_view_shows_only_that_players_own_secrets),
        T(test_patch_view_filters_and_reports_private_touches),
        T(test_view_of_merged_state_equals_merge_of_views),
        T(test_game_without_private_paths_shows_everything),
        T(test_bad_private_path_patterns_are_refused),
        T(test_view_fails_cleanly_at_every_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
