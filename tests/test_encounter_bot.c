/*
 * test_encounter_bot.c - the encounter bots' decisions (games/encounter/
 * bot.h) on hand-written documents, without a network: what a hero does
 * in each situation, that its spells never hit an ally or push anyone off
 * the map or onto someone, that it acts once per round, and what the game
 * master does in SETUP and ROUND; and, on many random rooms of the real
 * game (in process), that every action a hero bot chooses from its own
 * view is one the game accepts. The steps over a real server are in
 * test_server_encounter.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "encounter/bot.h"
#include "encounter/encounter.h"
#include "phasecast/room.h"
#include "phasecast/view.h"

/* A ROUND document: alice at (ax, ay) with slots, her acted, and the
 * extra heroes and monsters given as JSON members. */
static cJSON *round_doc(const char *heroes, const char *monsters)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"phase\":\"ROUND\",\"data\":{\"round\":1,\"heroes\":{%s},"
             "\"monsters\":{%s}}}",
             heroes, monsters);
    cJSON *d = cJSON_Parse(text);
    assert_non_null(d);
    return d;
}

#define ALICE(x, y, slots, cond, hp)                                           \
    "\"alice\":{\"hp\":" #hp ",\"max_hp\":24,\"x\":" #x ",\"y\":" #y           \
    ",\"condition\":\"" cond "\",\"sheet\":{\"slots\":" #slots "}}"
#define HERO(id, x, y, cond, hp)                                               \
    "\"" id "\":{\"hp\":" #hp ",\"max_hp\":24,\"x\":" #x ",\"y\":" #y          \
    ",\"condition\":\"" cond "\"}"
#define MONSTER(id, x, y, cond)                                                \
    "\"" id "\":{\"name\":\"goblin\",\"x\":" #x ",\"y\":" #y                   \
    ",\"condition\":\"" cond "\"}"

/* alice's choice on doc, with a random value that never moves her. */
static const char *choose(const cJSON *doc, cJSON **payload)
{
    const char *type = NULL;
    *payload = NULL;
    pc_err rc = encounter_bot_choose(doc, "alice", 1, &type, payload);
    return rc == PC_OK ? type : NULL;
}

static int int_at(const cJSON *o, const char *k)
{
    return (int)cJSON_GetObjectItemCaseSensitive(o, k)->valuedouble;
}

static const char *str_at(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k)->valuestring;
}

static void test_hero_heals_a_bloodied_ally_while_it_has_a_slot(void **state)
{
    (void)state;
    cJSON *doc = round_doc(
        ALICE(0, 9, 1, "unhurt", 24) "," HERO("bob", 1, 9, "bloodied", 5),
        MONSTER("m1", 4, 2, "unhurt"));
    cJSON *p;
    assert_string_equal(choose(doc, &p), "heal");
    assert_string_equal(str_at(p, "target"), "bob");
    cJSON_Delete(p);
    cJSON_Delete(doc);
    /* No slot left: it attacks instead. */
    doc = round_doc(
        ALICE(0, 9, 0, "unhurt", 24) "," HERO("bob", 1, 9, "bloodied", 5),
        MONSTER("m1", 4, 2, "unhurt"));
    assert_string_equal(choose(doc, &p), "attack");
    cJSON_Delete(p);
    cJSON_Delete(doc);
}

static void test_hero_attacks_the_most_hurt_monster(void **state)
{
    (void)state;
    cJSON *doc = round_doc(
        ALICE(0, 9, 0, "unhurt", 24),
        MONSTER("m1", 4, 2, "unhurt") "," MONSTER(
            "m2", 8, 2, "bloodied") "," MONSTER("m3", 6, 2, "defeated"));
    cJSON *p;
    assert_string_equal(choose(doc, &p), "attack");
    assert_string_equal(str_at(p, "target"), "m2");
    cJSON_Delete(p);
    cJSON_Delete(doc);
}

static void test_hero_thunderwaves_two_monsters_in_reach(void **state)
{
    (void)state;
    cJSON *doc = round_doc(
        ALICE(4, 8, 2, "unhurt", 24),
        MONSTER("m1", 4, 5, "unhurt") "," MONSTER("m2", 5, 5, "unhurt"));
    cJSON *p;
    assert_string_equal(choose(doc, &p), "spell");
    int x = int_at(p, "x"), y = int_at(p, "y");
    /* Within 4 of alice, within 1 of both monsters. */
    assert_true(x >= 0 && x <= 8 && y >= 4 && y <= 9);
    assert_true(x >= 4 && x <= 5 && y >= 4 && y <= 6);
    cJSON_Delete(p);
    cJSON_Delete(doc);
}

static void test_hero_never_casts_on_an_ally_or_off_the_map(void **state)
{
    (void)state;
    /* bob stands between the monsters: every cell catching both catches
     * him. */
    cJSON *doc = round_doc(
        ALICE(4, 8, 2, "unhurt", 24) "," HERO("bob", 4, 5, "unhurt", 24),
        MONSTER("m1", 3, 5, "unhurt") "," MONSTER("m2", 5, 5, "unhurt"));
    cJSON *p;
    assert_string_equal(choose(doc, &p), "attack");
    cJSON_Delete(p);
    cJSON_Delete(doc);
    /* Two monsters in the corner: any wave pushes one off the map. */
    doc = round_doc(
        ALICE(3, 3, 2, "unhurt", 24),
        MONSTER("m1", 0, 0, "unhurt") "," MONSTER("m2", 1, 0, "unhurt"));
    assert_string_equal(choose(doc, &p), "attack");
    cJSON_Delete(p);
    cJSON_Delete(doc);
}

static void test_hero_acts_once_per_round_and_only_in_round(void **state)
{
    (void)state;
    cJSON *doc = cJSON_Parse(
        "{\"phase\":\"ROUND\",\"data\":{\"heroes\":{\"alice\":{\"x\":0,\"y\":"
        "9,\"condition\":\"unhurt\",\"acted\":\"attack\"}},\"monsters\":{"
        "\"m1\":{\"x\":4,\"y\":2,\"condition\":\"unhurt\"}}}}");
    const char *type = NULL;
    cJSON *p = NULL;
    assert_int_equal(encounter_bot_choose(doc, "alice", 1, &type, &p),
                     PC_ERR_NOT_FOUND);
    cJSON_Delete(doc);
    doc = cJSON_Parse("{\"phase\":\"SETUP\",\"data\":{}}");
    assert_int_equal(encounter_bot_choose(doc, "alice", 1, &type, &p),
                     PC_ERR_NOT_FOUND);
    cJSON_Delete(doc);
    /* Down, or garbage: nothing to do. */
    doc = round_doc(ALICE(0, 9, 2, "down", 0), MONSTER("m1", 4, 2, "unhurt"));
    assert_int_equal(encounter_bot_choose(doc, "alice", 1, &type, &p),
                     PC_ERR_NOT_FOUND);
    cJSON_Delete(doc);
    /* Every monster down: defend, so the round ends without the timer. */
    doc = round_doc(ALICE(0, 9, 2, "unhurt", 24),
                    MONSTER("m1", 4, 2, "defeated"));
    assert_int_equal(encounter_bot_choose(doc, "alice", 1, &type, &p), PC_OK);
    assert_string_equal(type, "defend");
    assert_null(p);
    cJSON_Delete(doc);
    doc = cJSON_Parse("[1,2,3]");
    assert_int_equal(encounter_bot_choose(doc, "alice", 1, &type, &p),
                     PC_ERR_NOT_FOUND);
    assert_int_equal(encounter_bot_choose(NULL, "alice", 1, &type, &p),
                     PC_ERR_INVALID);
    cJSON_Delete(doc);
}

static void test_gm_places_its_monsters_then_starts(void **state)
{
    (void)state;
    static const encounter_monster_spec ms[] = {
        {"m1", "goblin", 12, 13, 3, 2, "secret"},
        {"m2", "ogre", 30, 11, 5, 0, NULL},
    };
    encounter_gm_bot gm;
    encounter_gm_bot_init(&gm, 2, 5);
    gm.monsters = ms;
    gm.nmonsters = 2;
    cJSON *doc = cJSON_Parse("{\"phase\":\"SETUP\",\"data\":{\"heroes\":{"
                             "\"alice\":{}},\"monsters\":{}}}");
    const char *type = NULL;
    cJSON *p = NULL;
    assert_int_equal(encounter_gm_choose(doc, &gm, &type, &p), PC_OK);
    assert_string_equal(type, "add_monster");
    assert_string_equal(str_at(p, "id"), "m1");
    assert_int_equal(int_at(p, "hp"), 12);
    assert_string_equal(str_at(p, "note"), "secret");
    cJSON_Delete(p);
    cJSON_AddObjectToObject(
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(doc, "data"), "monsters"),
        "m1");
    assert_int_equal(encounter_gm_choose(doc, &gm, &type, &p), PC_OK);
    assert_string_equal(str_at(p, "id"), "m2");
    assert_null(cJSON_GetObjectItemCaseSensitive(p, "note"));
    cJSON_Delete(p);
    cJSON_AddObjectToObject(
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(doc, "data"), "monsters"),
        "m2");
    /* One hero of two: it waits. */
    assert_int_equal(encounter_gm_choose(doc, &gm, &type, &p),
                     PC_ERR_NOT_FOUND);
    cJSON_AddObjectToObject(
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(doc, "data"), "heroes"),
        "bob");
    assert_int_equal(encounter_gm_choose(doc, &gm, &type, &p), PC_OK);
    assert_string_equal(type, "start");
    assert_null(p);
    cJSON_Delete(doc);
}

static void test_gm_considers_one_note_per_round(void **state)
{
    (void)state;
    encounter_gm_bot gm;
    encounter_gm_bot_init(&gm, 1, 1);
    gm.note_prefix = "N";
    int notes = 0;
    for (int round = 1; round <= 40; round++) {
        char text[128];
        snprintf(text, sizeof text,
                 "{\"phase\":\"ROUND\",\"data\":{\"round\":%d}}", round);
        cJSON *doc = cJSON_Parse(text);
        for (int again = 0; again < 3; again++) {
            const char *type = NULL;
            cJSON *p = NULL;
            pc_err rc = encounter_gm_choose(doc, &gm, &type, &p);
            if (rc == PC_OK) {
                assert_int_equal(again, 0);
                assert_string_equal(type, "note");
                assert_true(strncmp(str_at(p, "text"), "N ", 2) == 0);
                notes++;
            } else {
                assert_int_equal(rc, PC_ERR_NOT_FOUND);
            }
            cJSON_Delete(p);
        }
        cJSON_Delete(doc);
    }
    assert_int_equal(gm.notes, notes);
    assert_true(notes > 5 && notes < 35); /* about half the rounds */
}

static void test_race_codes_are_the_documented_ones(void **state)
{
    (void)state;
    assert_true(encounter_bot_race_code(PC_ERR_CONFLICT, "conflict"));
    assert_true(encounter_bot_race_code(PC_ERR_ACTION, "already_acted"));
    assert_true(encounter_bot_race_code(PC_ERR_ACTION, "target_defeated"));
    assert_true(encounter_bot_race_code(PC_ERR_REJECTED, "blocked"));
    assert_true(encounter_bot_race_code(PC_ERR_PHASE, "no_actions_in_phase"));
    assert_false(encounter_bot_race_code(PC_ERR_ACTION, "bad_payload"));
    assert_false(encounter_bot_race_code(PC_ERR_TIMEOUT, NULL));
}

/* splitmix64, for the random rooms */
static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static pc_err act(pc_room *room, const char *player, pc_role role,
                  const char *type, const char *payload, pc_error *err)
{
    cJSON *p = payload != NULL ? cJSON_Parse(payload) : NULL;
    pc_action a = {.player = player, .type = type, .payload = p, .role = role};
    pc_err rc = pc_room_action(room, &a, NULL, err);
    cJSON_Delete(p);
    return rc;
}

#define ROOMS 300

static void test_hero_choices_are_legal_on_the_real_game(void **state)
{
    (void)state;
    static const char *const names[] = {"ann", "ben", "cy", "di"};
    uint64_t rng = 2024;
    int acted = 0, spells = 0, moves = 0, heals = 0;
    for (int r = 0; r < ROOMS; r++) {
        encounter_config cfg;
        encounter_config_init(&cfg);
        pc_room_options o;
        pc_room_options_init(&o);
        o.arg = &cfg;
        o.seed = (uint64_t)r;
        o.seed_set = true;
        pc_room *room = NULL;
        assert_int_equal(pc_room_new(encounter_game(), &o, &room), PC_OK);
        assert_int_equal(pc_room_start(room), PC_OK);
        pc_error err = {0};
        for (int h = 0; h < 4; h++) {
            assert_int_equal(
                act(room, names[h], PC_ROLE_PLAYER, "join", NULL, &err), PC_OK);
        }
        /* Monsters close to the party, some hurt, on random cells (a
         * taken cell is refused by the validator: fine). */
        int placed = 0;
        for (int m = 0; m < 6; m++) {
            char body[160];
            snprintf(body, sizeof body,
                     "{\"id\":\"m%d\",\"name\":\"goblin\",\"hp\":40,"
                     "\"armour\":12,\"x\":%d,\"y\":%d}",
                     m, (int)(next(&rng) % 10), 4 + (int)(next(&rng) % 5));
            placed +=
                act(room, "gm", PC_ROLE_GM, "add_monster", body, &err) == PC_OK;
        }
        assert_true(placed > 0);
        /* Some heroes bloodied, so that healing comes up. */
        for (int h = 0; h < 4; h++) {
            if (next(&rng) % 3 == 0) {
                char body[96];
                snprintf(body, sizeof body, "{\"target\":\"%s\",\"delta\":-15}",
                         names[h]);
                assert_int_equal(
                    act(room, "gm", PC_ROLE_GM, "adjust_hp", body, &err),
                    PC_OK);
            }
        }
        assert_int_equal(act(room, "gm", PC_ROLE_GM, "start", NULL, &err),
                         PC_OK);
        for (int h = 0; h < 4 && strcmp(pc_room_phase(room), "ROUND") == 0;
             h++) {
            pc_viewer me = pc_viewer_of(names[h]);
            cJSON *view = NULL;
            assert_int_equal(pc_view_state_as(encounter_game(),
                                              pc_room_state(room), &me, &view),
                             PC_OK);
            const char *type = NULL;
            cJSON *payload = NULL;
            pc_err rc = encounter_bot_choose(view, names[h], next(&rng), &type,
                                             &payload);
            cJSON_Delete(view);
            if (rc == PC_ERR_NOT_FOUND) {
                continue;
            }
            assert_int_equal(rc, PC_OK);
            pc_action a = {.player = names[h],
                           .type = type,
                           .payload = payload,
                           .role = PC_ROLE_PLAYER};
            rc = pc_room_action(room, &a, NULL, &err);
            if (rc != PC_OK) {
                char *t = cJSON_PrintUnformatted(payload);
                fail_msg("room %d: %s %s %s refused: %s: %s", r, names[h], type,
                         t, err.code, err.message);
            }
            cJSON_Delete(payload);
            acted++;
            spells += strcmp(type, "spell") == 0;
            moves += strcmp(type, "move") == 0;
            heals += strcmp(type, "heal") == 0;
        }
        pc_room_free(room);
    }
    print_message("encounter bot: %d actions in %d random rooms, all legal: "
                  "%d spells, %d moves, %d heals\n",
                  acted, ROOMS, spells, moves, heals);
    assert_true(spells > 0 && moves > 0 && heals > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hero_heals_a_bloodied_ally_while_it_has_a_slot),
        cmocka_unit_test(test_hero_attacks_the_most_hurt_monster),
        cmocka_unit_test(test_hero_thunderwaves_two_monsters_in_reach),
        cmocka_unit_test(test_hero_never_casts_on_an_ally_or_off_the_map),
        cmocka_unit_test(test_hero_acts_once_per_round_and_only_in_round),
        cmocka_unit_test(test_gm_places_its_monsters_then_starts),
        cmocka_unit_test(test_gm_considers_one_note_per_round),
        cmocka_unit_test(test_race_codes_are_the_documented_ones),
        cmocka_unit_test(test_hero_choices_are_legal_on_the_real_game),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
