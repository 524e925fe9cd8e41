/*
 * test_gm.c - the game-master role, optimistic concurrency and
 * multi-target atomicity in the framework, without a network: the game
 * master's view holds every private member and every event, a player's
 * only its own; actions carry their role and expected_seq to the game
 * and into the cause; a stale action of a strict type is refused with
 * PC_ERR_CONFLICT before the game runs, changing nothing; one action
 * changing many monsters is one change, and a validator refusing any
 * part leaves state, seq, history, sinks, journal and PRNG untouched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "phasecast/canon.h"
#include "phasecast/history.h"
#include "phasecast/json.h"
#include "phasecast/view.h"

#include "test_gm_fixture.h"

typedef struct counts {
    int sinks;
    int journal;
} counts;

static void count_sink(pc_room *room, const pc_change *c, void *arg)
{
    (void)room;
    (void)c;
    ((counts *)arg)->sinks++;
}

static pc_err count_journal(pc_room *room, const pc_change *c, pc_error *why,
                            void *arg)
{
    (void)room;
    (void)c;
    (void)why;
    ((counts *)arg)->journal++;
    return PC_OK;
}

static pc_err act(pc_room *room, const char *player, pc_role role,
                  const char *type, const char *payload, const uint64_t *exp,
                  pc_error *err)
{
    cJSON *p = payload != NULL ? cJSON_Parse(payload) : NULL;
    pc_action a = {.player = player,
                   .type = type,
                   .payload = p,
                   .role = role,
                   .has_expected_seq = exp != NULL,
                   .expected_seq = exp != NULL ? *exp : 0};
    pc_err rc = pc_room_action(room, &a, NULL, err);
    cJSON_Delete(p);
    return rc;
}

/* A table with ann and ben seated, goblin (hp 10) and orc (hp 20), a gm
 * note and its gm-only event: seqs 1..6. */
static pc_room *table(table_seen *seen, counts *n)
{
    pc_room_options o;
    pc_room_options_init(&o);
    o.arg = seen;
    o.seed = 7;
    o.seed_set = true;
    pc_room *room = NULL;
    assert_int_equal(pc_room_new(&table_game, &o, &room), PC_OK);
    if (n != NULL) {
        assert_int_equal(pc_room_add_sink(room, count_sink, n), PC_OK);
        pc_room_set_journal(room, count_journal, NULL, n);
    }
    assert_int_equal(pc_room_start(room), PC_OK);
    assert_int_equal(act(room, "ann", PC_ROLE_PLAYER, "join", NULL, NULL, NULL),
                     PC_OK);
    assert_int_equal(act(room, "ben", PC_ROLE_PLAYER, "join", NULL, NULL, NULL),
                     PC_OK);
    assert_int_equal(act(room, "dm", PC_ROLE_GM, "add",
                         "{\"id\":\"goblin\",\"hp\":10}", NULL, NULL),
                     PC_OK);
    assert_int_equal(act(room, "dm", PC_ROLE_GM, "add",
                         "{\"id\":\"orc\",\"hp\":20}", NULL, NULL),
                     PC_OK);
    assert_int_equal(act(room, "dm", PC_ROLE_GM, "note",
                         "{\"text\":\"" GM_CANARY "-NOTE\"}", NULL, NULL),
                     PC_OK);
    assert_int_equal(pc_room_seq(room), 6);
    return room;
}

static char *view_text(pc_room *room, const pc_viewer *v)
{
    cJSON *view = NULL;
    assert_int_equal(
        pc_view_state_as(&table_game, pc_room_state(room), v, &view), PC_OK);
    char *t = cJSON_PrintUnformatted(view);
    cJSON_Delete(view);
    return t;
}

static void test_gm_view_is_the_whole_state(void **state)
{
    (void)state;
    pc_room *room = table(NULL, NULL);
    pc_viewer gm = {PC_VIEWER_GM, NULL};
    char *t = view_text(room, &gm);
    char *whole = cJSON_PrintUnformatted(pc_room_state(room));
    assert_string_equal(t, whole);
    assert_non_null(strstr(t, GM_CANARY "-NOTE"));
    assert_non_null(strstr(t, GM_CANARY "-SHEET-ann"));
    assert_non_null(strstr(t, GM_CANARY "-SHEET-ben"));
    uint64_t sum = 0;
    assert_int_equal(
        pc_view_checksum_as(&table_game, pc_room_state(room), &gm, &sum),
        PC_OK);
    assert_int_equal(sum, pc_room_checksum(room));
    cJSON_free(t);
    cJSON_free(whole);
    pc_room_free(room);
}

static void test_player_and_public_views_hold_no_gm_data(void **state)
{
    (void)state;
    pc_room *room = table(NULL, NULL);
    pc_viewer ann = pc_viewer_of("ann"), pub = pc_viewer_of(NULL);
    char *a = view_text(room, &ann);
    char *p = view_text(room, &pub);
    assert_non_null(strstr(a, GM_CANARY "-SHEET-ann"));
    assert_null(strstr(a, GM_CANARY "-SHEET-ben"));
    assert_null(strstr(a, GM_CANARY "-NOTE"));
    assert_null(strstr(a, "\"hp\""));
    assert_non_null(strstr(a, "\"condition\":\"fresh\""));
    assert_null(strstr(p, GM_CANARY));
    assert_null(strstr(p, "\"hp\""));
    cJSON_free(a);
    cJSON_free(p);
    pc_room_free(room);
}

static void test_gm_sees_every_event_players_only_theirs(void **state)
{
    (void)state;
    pc_room *room = table(NULL, NULL);
    const pc_change *c = NULL;
    assert_int_equal(pc_history_get(room, 6, &c), PC_OK);
    assert_int_equal(c->kind, PC_CHANGE_EVENT);
    pc_viewer gm = {PC_VIEWER_GM, NULL};
    pc_viewer ann = pc_viewer_of("ann"), pub = pc_viewer_of(NULL);
    assert_true(pc_view_event_as(&c->event, &gm));
    assert_false(pc_view_event_as(&c->event, &ann));
    assert_false(pc_view_event_as(&c->event, &pub));
    pc_event mine = {
        .name = "x", .audience = PC_AUDIENCE_PLAYER, .player = "ann"};
    assert_true(pc_view_event_as(&mine, &gm));
    assert_true(pc_view_event_as(&mine, &ann));
    assert_false(pc_view_event(&mine, "ben"));
    pc_room_free(room);
}

static void test_bad_viewers_are_refused(void **state)
{
    (void)state;
    pc_room *room = table(NULL, NULL);
    pc_viewer nameless = {PC_VIEWER_PLAYER, NULL};
    pc_viewer unknown = {(pc_viewer_kind)9, NULL};
    cJSON *out = NULL;
    uint64_t sum;
    assert_int_equal(
        pc_view_state_as(&table_game, pc_room_state(room), &nameless, &out),
        PC_ERR_INVALID);
    assert_int_equal(
        pc_view_state_as(&table_game, pc_room_state(room), &unknown, &out),
        PC_ERR_INVALID);
    assert_int_equal(
        pc_view_checksum_as(&table_game, pc_room_state(room), NULL, &sum),
        PC_ERR_INVALID);
    assert_null(out);
    pc_room_free(room);
}

static void test_gm_actions_reach_the_game_with_their_role_and_cause(void **s)
{
    (void)s;
    table_seen seen = {0};
    pc_room *room = table(&seen, NULL);
    assert_int_equal(seen.last_role, PC_ROLE_GM);
    const pc_change *c = NULL;
    assert_int_equal(pc_history_get(room, 5, &c), PC_OK);
    assert_int_equal(c->cause.kind, PC_CAUSE_ACTION);
    assert_int_equal(c->cause.role, PC_ROLE_GM);
    assert_int_equal(pc_history_get(room, 1, &c), PC_OK);
    assert_int_equal(c->cause.role, PC_ROLE_PLAYER);
    pc_error err = {0};
    assert_int_equal(act(room, "ann", PC_ROLE_PLAYER, "note",
                         "{\"text\":\"x\"}", NULL, &err),
                     PC_ERR_ACTION);
    assert_string_equal(err.code, "gm_only");
    assert_int_equal(act(room, "ann", (pc_role)5, "say", NULL, NULL, &err),
                     PC_ERR_INVALID);
    assert_string_equal(err.code, "invalid_action");
    assert_int_equal(pc_room_seq(room), 6);
    pc_room_free(room);
}

static void test_stale_strict_action_is_refused_and_changes_nothing(void **s)
{
    (void)s;
    table_seen seen = {0};
    counts n = {0};
    pc_room *room = table(&seen, &n);
    int saw = seen.actions;
    uint64_t sum = pc_room_checksum(room), draws = pc_room_draws(room);
    counts before = n;
    uint64_t stale = 4;
    pc_error err = {0};
    assert_int_equal(act(room, "ann", PC_ROLE_PLAYER, "hit",
                         "{\"target\":\"goblin\",\"dmg\":3}", &stale, &err),
                     PC_ERR_CONFLICT);
    assert_string_equal(err.code, "conflict");
    assert_non_null(strstr(err.message, "seq 6"));
    assert_int_equal(pc_room_last_error(room)->err, PC_ERR_CONFLICT);
    assert_int_equal(seen.actions, saw); /* the game never ran */
    assert_int_equal(pc_room_seq(room), 6);
    assert_int_equal(pc_room_checksum(room), sum);
    assert_int_equal(pc_room_draws(room), draws);
    assert_int_equal(n.sinks, before.sinks);
    assert_int_equal(n.journal, before.journal);
    assert_int_equal(table_hp(room, "goblin"), 10);
    const pc_change *c = NULL;
    assert_int_equal(pc_history_get(room, 7, &c), PC_ERR_NOT_FOUND);
    pc_room_free(room);
}

static void test_stale_lenient_action_is_applied_and_sees_expected(void **s)
{
    (void)s;
    table_seen seen = {0};
    pc_room *room = table(&seen, NULL);
    uint64_t stale = 2;
    assert_int_equal(
        act(room, "ann", PC_ROLE_PLAYER, "say", "{\"hi\":1}", &stale, NULL),
        PC_OK);
    assert_true(seen.last_had_expected);
    assert_int_equal(seen.last_expected, 2);
    assert_int_equal(pc_room_seq(room), 7);
    const pc_change *c = NULL;
    assert_int_equal(pc_history_get(room, 7, &c), PC_OK);
    assert_true(c->cause.has_expected_seq);
    assert_int_equal(c->cause.expected_seq, 2);
    pc_room_free(room);
}

static void test_current_expected_seq_is_applied(void **s)
{
    (void)s;
    pc_room *room = table(NULL, NULL);
    uint64_t now = pc_room_seq(room);
    assert_int_equal(act(room, "ann", PC_ROLE_PLAYER, "hit",
                         "{\"target\":\"goblin\",\"dmg\":3}", &now, NULL),
                     PC_OK);
    assert_int_equal(table_hp(room, "goblin"), 7);
    pc_room_free(room);
}

static void test_expected_seq_from_the_future_is_invalid(void **s)
{
    (void)s;
    pc_room *room = table(NULL, NULL);
    uint64_t later = 99;
    pc_error err = {0};
    assert_int_equal(
        act(room, "ann", PC_ROLE_PLAYER, "say", NULL, &later, &err),
        PC_ERR_INVALID);
    assert_string_equal(err.code, "invalid_action");
    assert_int_equal(pc_room_seq(room), 6);
    pc_room_free(room);
}

static void test_area_spell_is_one_change_for_many_monsters(void **s)
{
    (void)s;
    counts n = {0};
    pc_room *room = table(NULL, &n);
    int sinks = n.sinks;
    assert_int_equal(act(room, "ann", PC_ROLE_PLAYER, "area",
                         "{\"targets\":[\"goblin\",\"orc\"],\"dmg\":6}", NULL,
                         NULL),
                     PC_OK);
    assert_int_equal(pc_room_seq(room), 7);
    assert_int_equal(n.sinks, sinks + 1);
    const pc_change *c = NULL;
    assert_int_equal(pc_history_get(room, 7, &c), PC_OK);
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(c->patch, "monsters");
    assert_int_equal(cJSON_GetArraySize(ms), 2);
    assert_int_equal(table_hp(room, "goblin"), 4);
    assert_int_equal(table_hp(room, "orc"), 14);
    pc_room_free(room);
}

static void test_area_refused_in_part_changes_nothing_at_all(void **s)
{
    (void)s;
    counts n = {0};
    pc_room *room = table(NULL, &n);
    counts before = n;
    char *doc = cJSON_PrintUnformatted(pc_room_state(room));
    uint64_t sum = pc_room_checksum(room), draws = pc_room_draws(room);
    uint64_t first = pc_history_first_seq(room);
    pc_error err = {0};
    /* 12 damage: the orc (20) survives, the goblin (10) would not. */
    assert_int_equal(act(room, "ann", PC_ROLE_PLAYER, "area",
                         "{\"targets\":[\"orc\",\"goblin\"],\"dmg\":12}", NULL,
                         &err),
                     PC_ERR_REJECTED);
    assert_string_equal(err.code, "hp_below_zero");
    char *after = cJSON_PrintUnformatted(pc_room_state(room));
    assert_string_equal(after, doc);
    assert_int_equal(pc_room_seq(room), 6);
    assert_int_equal(pc_room_checksum(room), sum);
    assert_int_equal(pc_room_draws(room), draws);
    assert_int_equal(pc_history_first_seq(room), first);
    assert_int_equal(n.sinks, before.sinks);
    assert_int_equal(n.journal, before.journal);
    cJSON_free(doc);
    cJSON_free(after);
    pc_room_free(room);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gm_view_is_the_whole_state),
        cmocka_unit_test(test_player_and_public_views_hold_no_gm_data),
        cmocka_unit_test(test_gm_sees_every_event_players_only_theirs),
        cmocka_unit_test(test_bad_viewers_are_refused),
        cmocka_unit_test(
            test_gm_actions_reach_the_game_with_their_role_and_cause),
        cmocka_unit_test(
            test_stale_strict_action_is_refused_and_changes_nothing),
        cmocka_unit_test(
            test_stale_lenient_action_is_applied_and_sees_expected),
        cmocka_unit_test(test_current_expected_seq_is_applied),
        cmocka_unit_test(test_expected_seq_from_the_future_is_invalid),
        cmocka_unit_test(test_area_spell_is_one_change_for_many_monsters),
        cmocka_unit_test(test_area_refused_in_part_changes_nothing_at_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
