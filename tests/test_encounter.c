/*
 * test_encounter.c - the encounter game's actions, played in process
 * through the framework only: seating and objectives, every game-master
 * action and its refusal from players, attack (hit rule, damage, floors),
 * the area spell thunderwave (several entities in one change; a push off
 * the map or onto a taken cell refused whole by the validator), heal,
 * move, defend, strict actions, and every error code with nothing
 * changed (state, checksum, seq, history, journal, sink). The phases,
 * timers, events, views, replay and allocation failures are in
 * test_encounter_play.c. Each test runs in a fresh started room and ends
 * with no allocation left alive.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "encounter/encounter.h"
#include "phasecast/room.h"
#include "test_encounter_fixture.h"

/* ---- SETUP ------------------------------------------------------------ */

static void test_join_seats_heroes_on_row_nine_with_a_secret_sheet(void **s)
{
    fixture *f = *s;
    accept(f, "alice", "join", NULL);
    accept(f, "bob", "join", NULL);
    assert_string_equal(pc_room_phase(f->room), "SETUP");
    assert_int_equal(int_at(f, "/round"), 0);
    assert_int_equal(int_at(f, "/heroes/alice/x"), 0);
    assert_int_equal(int_at(f, "/heroes/bob/x"), 1);
    assert_int_equal(int_at(f, "/heroes/bob/y"), 9);
    assert_int_equal(int_at(f, "/heroes/bob/hp"), 24);
    assert_int_equal(int_at(f, "/heroes/bob/max_hp"), 24);
    assert_string_equal(str_at(f, "/heroes/bob/condition"), "unhurt");
    assert_true(cJSON_IsFalse(at(f, "/heroes/bob/defending")));
    assert_null(at(f, "/heroes/bob/acted"));
    assert_int_equal(int_at(f, "/heroes/bob/sheet/slots"), 2);
    assert_true(strlen(str_at(f, "/heroes/bob/sheet/objective")) > 0);
    assert_string_equal(reason_at(f, 2), "bob joins the party at (1, 9)");
    /* A seat freed on row 9 (alice moved away) is taken first. */
    rig(f, "{\"heroes\":{\"alice\":{\"y\":5}}}");
    accept(f, "carol", "join", NULL);
    assert_int_equal(int_at(f, "/heroes/carol/x"), 0);
}

static void test_join_refusals_change_nothing(void **s)
{
    fixture *f = *s;
    f->cfg.max_heroes = 2;
    accept(f, "alice", "join", NULL);
    refuse(f, "alice", "join", NULL, "already_joined");
    refuse(f, "a b", "join", NULL, "bad_name");
    refuse(f, "", "join", NULL, "bad_name");
    gm(f, "add_monster",
       "{\"id\":\"m1\",\"name\":\"goblin\",\"hp\":5,\"armour\":1,\"x\":4,"
       "\"y\":4}");
    refuse(f, "m1", "join", NULL, "id_taken");
    accept(f, "bob", "join", NULL);
    refuse(f, "carol", "join", NULL, "room_full");
    gm(f, "start", NULL);
    refuse(f, "dave", "join", NULL, "not_setup");
}

static void test_objective_sets_the_secret_and_checks_its_payload(void **s)
{
    fixture *f = *s;
    accept(f, "alice", "join", NULL);
    accept(f, "alice", "objective", "{\"text\":\"CANARY-OBJ-alice\"}");
    assert_string_equal(str_at(f, "/heroes/alice/sheet/objective"),
                        "CANARY-OBJ-alice");
    /* The reason is public: it never repeats the secret. */
    assert_null(strstr(reason_at(f, pc_room_seq(f->room)), "CANARY"));
    char big[300];
    snprintf(big, sizeof big, "{\"text\":\"%0201d\"}", 0);
    refuse(f, "alice", "objective", big, "bad_payload");
    refuse(f, "alice", "objective", "{\"text\":\"\"}", "bad_payload");
    refuse(f, "alice", "objective", "{\"words\":\"x\"}", "bad_payload");
    refuse(f, "alice", "objective", NULL, "bad_payload");
    refuse(f, "zed", "objective", "{\"text\":\"x\"}", "not_a_player");
    refuse(f, "alice", "fly", NULL, "unknown_action");
}

static void test_gm_actions_are_refused_for_players(void **s)
{
    fixture *f = *s;
    setup_party(f);
    static const char *const types[] = {"add_monster", "adjust_hp", "note",
                                        "start", "end_round"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        refuse(f, "alice", types[i], "{\"text\":\"x\"}", "not_gm");
        refuse(f, "stranger", types[i], NULL, "not_gm");
    }
    gm(f, "start", NULL);
    refuse(f, "bob", "end_round", NULL, "not_gm");
    /* And the game master plays no hero. */
    refuse_as(f, GM, PC_ROLE_GM, "defend", NULL, PC_ERR_ACTION, "not_a_player");
}

static void test_add_monster_checks_payload_ids_and_cells(void **s)
{
    fixture *f = *s;
    setup_party(f);
    assert_string_equal(str_at(f, "/monsters/m2/name"), "orc");
    assert_int_equal(int_at(f, "/monsters/m2/hp"), 20);
    assert_int_equal(int_at(f, "/monsters/m2/max_hp"), 20);
    assert_int_equal(int_at(f, "/monsters/m2/armour"), 10);
    assert_string_equal(str_at(f, "/monsters/m2/condition"), "unhurt");
    assert_string_equal(str_at(f, "/monsters/m2/note"),
                        "CANARY-NOTE flees at half");
    assert_null(at(f, "/monsters/m1/note"));
    assert_null(strstr(reason_at(f, 4), "CANARY"));
    assert_null(strstr(reason_at(f, 4), "20"));
    static const char *const bad[] = {
        "{\"id\":\"m3\",\"name\":\"x\",\"hp\":0,\"armour\":1,\"x\":1,\"y\":1}",
        "{\"id\":\"m3\",\"name\":\"x\",\"hp\":5,\"armour\":31,\"x\":1,"
        "\"y\":1}",
        "{\"id\":\"m3\",\"hp\":5,\"armour\":1,\"x\":1,\"y\":1}",
        "{\"id\":\"m 3\",\"name\":\"x\",\"hp\":5,\"armour\":1,\"x\":1,"
        "\"y\":1}",
        "{\"id\":\"m3\",\"name\":\"x\",\"hp\":5.5,\"armour\":1,\"x\":1,"
        "\"y\":1}",
        "{\"id\":\"m3\",\"name\":\"x\",\"hp\":5,\"armour\":1,\"x\":\"1\","
        "\"y\":1}",
        "{\"id\":\"m3\",\"name\":\"x\",\"hp\":5,\"armour\":1,\"x\":1,\"y\":1,"
        "\"note\":7}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        refuse_as(f, GM, PC_ROLE_GM, "add_monster", bad[i], PC_ERR_ACTION,
                  "bad_payload");
    }
    refuse_as(f, GM, PC_ROLE_GM, "add_monster",
              "{\"id\":\"m1\",\"name\":\"x\",\"hp\":5,\"armour\":1,\"x\":1,"
              "\"y\":1}",
              PC_ERR_ACTION, "id_taken");
    refuse_as(f, GM, PC_ROLE_GM, "add_monster",
              "{\"id\":\"bob\",\"name\":\"x\",\"hp\":5,\"armour\":1,\"x\":1,"
              "\"y\":1}",
              PC_ERR_ACTION, "id_taken");
    /* A taken cell or one off the map: the validator refuses. */
    refuse_as(f, GM, PC_ROLE_GM, "add_monster",
              "{\"id\":\"m3\",\"name\":\"x\",\"hp\":5,\"armour\":1,\"x\":4,"
              "\"y\":2}",
              PC_ERR_REJECTED, "blocked");
    refuse_as(f, GM, PC_ROLE_GM, "add_monster",
              "{\"id\":\"m3\",\"name\":\"x\",\"hp\":5,\"armour\":1,\"x\":10,"
              "\"y\":2}",
              PC_ERR_REJECTED, "blocked");
}

static void test_the_game_master_places_at_most_64_monsters(void **s)
{
    fixture *f = *s;
    setup_party(f); /* m1 and m2 */
    int placed = 2;
    for (int cell = 0; placed < ENCOUNTER_MONSTERS_MAX; cell++) {
        int x = cell % 10, y = cell / 10;
        if ((y == 2 && (x == 4 || x == 6)) || (y == 9 && x < 2)) {
            continue;
        }
        char payload[128];
        snprintf(payload, sizeof payload,
                 "{\"id\":\"r%d\",\"name\":\"rat\",\"hp\":1,\"armour\":0,"
                 "\"x\":%d,\"y\":%d}",
                 placed, x, y);
        gm(f, "add_monster", payload);
        placed++;
    }
    refuse_as(f, GM, PC_ROLE_GM, "add_monster",
              "{\"id\":\"r99\",\"name\":\"rat\",\"hp\":1,\"armour\":0,"
              "\"x\":9,\"y\":8}",
              PC_ERR_ACTION, "too_many");
    /* The validator holds the same line against a host's own patch. */
    uint64_t seq = pc_room_seq(f->room);
    assert_int_equal(
        pc_update_phase_text(f->room,
                             "{\"monsters\":{\"r99\":{\"name\":\"rat\","
                             "\"hp\":1,\"max_hp\":1,\"armour\":0,\"x\":9,"
                             "\"y\":8,\"condition\":\"unhurt\"}}}",
                             "rig"),
        PC_ERR_REJECTED);
    assert_string_equal(pc_room_last_error(f->room)->code, "invalid_state");
    assert_int_equal(pc_room_seq(f->room), seq);
}

static void test_adjust_hp_clamps_and_the_condition_follows(void **s)
{
    fixture *f = *s;
    setup_party(f);
    gm(f, "adjust_hp", "{\"target\":\"m2\",\"delta\":-5}");
    assert_int_equal(int_at(f, "/monsters/m2/hp"), 15);
    assert_string_equal(str_at(f, "/monsters/m2/condition"), "wounded");
    assert_null(strstr(reason_at(f, pc_room_seq(f->room)), "5"));
    gm(f, "adjust_hp", "{\"target\":\"m2\",\"delta\":-5}");
    assert_string_equal(str_at(f, "/monsters/m2/condition"), "bloodied");
    gm(f, "adjust_hp", "{\"target\":\"m2\",\"delta\":-500}");
    assert_int_equal(int_at(f, "/monsters/m2/hp"), 0);
    assert_string_equal(str_at(f, "/monsters/m2/condition"), "defeated");
    assert_int_equal(int_at(f, "/monsters/m2/fell"), 0);
    gm(f, "adjust_hp", "{\"target\":\"m2\",\"delta\":500}");
    assert_int_equal(int_at(f, "/monsters/m2/hp"), 20);
    assert_string_equal(str_at(f, "/monsters/m2/condition"), "unhurt");
    assert_null(at(f, "/monsters/m2/fell"));
    gm(f, "adjust_hp", "{\"target\":\"bob\",\"delta\":-24}");
    assert_string_equal(str_at(f, "/heroes/bob/condition"), "down");
    refuse_as(f, GM, PC_ROLE_GM, "adjust_hp", "{\"target\":\"m9\",\"delta\":1}",
              PC_ERR_ACTION, "no_such_target");
    refuse_as(f, GM, PC_ROLE_GM, "adjust_hp",
              "{\"target\":\"m1\",\"delta\":1.5}", PC_ERR_ACTION,
              "bad_payload");
    refuse_as(f, GM, PC_ROLE_GM, "adjust_hp", "{\"target\":\"m1\"}",
              PC_ERR_ACTION, "bad_payload");
}

static void test_notes_are_numbered_and_checked(void **s)
{
    fixture *f = *s;
    gm(f, "note", "{\"text\":\"CANARY-GMNOTE one\"}");
    gm(f, "note", "{\"text\":\"two\"}");
    assert_string_equal(str_at(f, "/gm_notes/1"), "CANARY-GMNOTE one");
    assert_string_equal(str_at(f, "/gm_notes/2"), "two");
    assert_string_equal(reason_at(f, 1), "the game master writes a note");
    refuse_as(f, GM, PC_ROLE_GM, "note", "{\"text\":\"\"}", PC_ERR_ACTION,
              "bad_payload");
    char big[1100];
    snprintf(big, sizeof big, "{\"text\":\"%01001d\"}", 0);
    refuse_as(f, GM, PC_ROLE_GM, "note", big, PC_ERR_ACTION, "bad_payload");
}

static void test_start_needs_a_hero_and_a_living_monster(void **s)
{
    fixture *f = *s;
    refuse_as(f, GM, PC_ROLE_GM, "start", NULL, PC_ERR_ACTION, "not_ready");
    accept(f, "alice", "join", NULL);
    refuse_as(f, GM, PC_ROLE_GM, "start", NULL, PC_ERR_ACTION, "not_ready");
    gm(f, "add_monster",
       "{\"id\":\"m1\",\"name\":\"rat\",\"hp\":2,\"armour\":1,\"x\":4,"
       "\"y\":4}");
    gm(f, "adjust_hp", "{\"target\":\"m1\",\"delta\":-2}");
    refuse_as(f, GM, PC_ROLE_GM, "start", NULL, PC_ERR_ACTION, "not_ready");
    refuse_as(f, GM, PC_ROLE_GM, "end_round", NULL, PC_ERR_ACTION,
              "wrong_phase");
    refuse(f, "alice", "defend", NULL, "wrong_phase");
    gm(f, "adjust_hp", "{\"target\":\"m1\",\"delta\":2}");
    gm(f, "start", NULL);
    assert_string_equal(pc_room_phase(f->room), "ROUND");
    refuse_as(f, GM, PC_ROLE_GM, "start", NULL, PC_ERR_ACTION, "wrong_phase");
}

/* ---- ROUND: attack ---------------------------------------------------- */

static void test_attack_follows_the_hit_rule_and_floors_hp(void **s)
{
    fixture *f = *s;
    int hits = 0, misses = 0;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        reopen(f, seed);
        start_fight(f);
        uint64_t seq = pc_room_seq(f->room);
        int made = accept(f, "alice", "attack", "{\"target\":\"m1\"}");
        int d20 = int_at(f, "/heroes/alice/last/d20");
        /* The attack, and a critical_hit event on a natural 20. */
        assert_int_equal(made, d20 == 20 ? 2 : 1);
        int damage = int_at(f, "/heroes/alice/last/damage");
        bool hit = cJSON_IsTrue(at(f, "/heroes/alice/last/hit"));
        assert_true(d20 >= 1 && d20 <= 20);
        assert_int_equal(hit, d20 == 20 || d20 + 4 >= 13);
        assert_string_equal(str_at(f, "/heroes/alice/acted"), "attack");
        assert_string_equal(str_at(f, "/heroes/alice/last/target"), "m1");
        if (!hit) {
            assert_int_equal(damage, 0);
            assert_int_equal(int_at(f, "/monsters/m1/hp"), 12);
            misses++;
            continue;
        }
        hits++;
        assert_true(d20 == 20 ? damage >= 6 && damage <= 20 && damage % 2 == 0
                              : damage >= 3 && damage <= 10);
        int hp = 12 - damage < 0 ? 0 : 12 - damage;
        assert_int_equal(int_at(f, "/monsters/m1/hp"), hp);
        assert_string_equal(str_at(f, "/monsters/m1/condition"),
                            hp == 0       ? "defeated"
                            : 2 * hp > 12 ? "wounded"
                                          : "bloodied");
        /* The public reason gives the roll and the damage, never hp. */
        char want[128];
        snprintf(want, sizeof want, "alice attacks goblin (m1): d20 %d, ", d20);
        assert_memory_equal(reason_at(f, seq + 1), want, strlen(want));
    }
    assert_true(hits > 0 && misses > 0);
}

static void test_attack_refusals_change_nothing(void **s)
{
    fixture *f = *s;
    setup_party(f);
    refuse(f, "alice", "attack", "{\"target\":\"m1\"}", "wrong_phase");
    gm(f, "add_monster",
       "{\"id\":\"m3\",\"name\":\"rat\",\"hp\":2,\"armour\":1,\"x\":8,"
       "\"y\":8}");
    gm(f, "adjust_hp", "{\"target\":\"m3\",\"delta\":-2}");
    gm(f, "start", NULL);
    refuse(f, "alice", "attack", "{\"target\":\"m9\"}", "no_such_target");
    refuse(f, "alice", "attack", "{\"target\":\"bob\"}", "no_such_target");
    refuse(f, "alice", "attack", NULL, "no_such_target");
    refuse(f, "alice", "attack", "{\"target\":\"m3\"}", "target_defeated");
    refuse(f, "zed", "attack", "{\"target\":\"m1\"}", "not_a_player");
    accept(f, "alice", "defend", NULL);
    refuse(f, "alice", "attack", "{\"target\":\"m1\"}", "already_acted");
    gm(f, "adjust_hp", "{\"target\":\"bob\",\"delta\":-100}");
    /* bob was the last who had not acted: down, the round resolves. */
    assert_string_equal(pc_room_phase(f->room), "RESOLUTION");
    refuse(f, "bob", "attack", "{\"target\":\"m1\"}", "wrong_phase");
}

static void test_a_down_hero_cannot_act(void **s)
{
    fixture *f = *s;
    start_fight(f);
    gm(f, "adjust_hp", "{\"target\":\"bob\",\"delta\":-100}");
    refuse(f, "bob", "attack", "{\"target\":\"m1\"}", "hero_down");
    refuse(f, "bob", "defend", NULL, "hero_down");
}

/* ---- ROUND: thunderwave ----------------------------------------------- */

static void test_spell_hits_several_entities_in_one_change(void **s)
{
    fixture *f = *s;
    start_fight(f);
    rig(f, "{\"heroes\":{\"alice\":{\"x\":3,\"y\":7},\"bob\":{\"x\":3,"
           "\"y\":5}},\"monsters\":{\"m1\":{\"x\":4,\"y\":4},\"m2\":{\"x\":5,"
           "\"y\":5}}}");
    uint64_t seq = pc_room_seq(f->room);
    int changes = f->changes;
    accept(f, "alice", "spell", "{\"x\":4,\"y\":4}");
    assert_int_equal(pc_room_seq(f->room), seq + 1);
    assert_int_equal(f->changes, changes + 1);
    int dmg = int_at(f, "/heroes/alice/last/damage");
    assert_true(dmg >= 2 && dmg <= 12);
    /* m1 stood on the target cell: pushed away from the caster. */
    assert_int_equal(int_at(f, "/monsters/m1/x"), 5);
    assert_int_equal(int_at(f, "/monsters/m1/y"), 3);
    assert_int_equal(int_at(f, "/monsters/m1/hp"), 12 - dmg < 0 ? 0 : 12 - dmg);
    assert_int_equal(int_at(f, "/monsters/m2/x"), 6);
    assert_int_equal(int_at(f, "/monsters/m2/y"), 6);
    assert_int_equal(int_at(f, "/monsters/m2/hp"), 20 - dmg);
    /* The ally in the blast too. */
    assert_int_equal(int_at(f, "/heroes/bob/x"), 2);
    assert_int_equal(int_at(f, "/heroes/bob/y"), 6);
    assert_int_equal(int_at(f, "/heroes/bob/hp"), 24 - dmg);
    assert_int_equal(int_at(f, "/heroes/alice/hp"), 24);
    assert_int_equal(int_at(f, "/heroes/alice/sheet/slots"), 1);
    assert_string_equal(str_at(f, "/heroes/alice/acted"), "spell");
    const cJSON *t = at(f, "/heroes/alice/last/targets");
    assert_int_equal(cJSON_GetArraySize(t), 3);
    assert_string_equal(cJSON_GetArrayItem(t, 0)->valuestring, "m1");
    assert_string_equal(cJSON_GetArrayItem(t, 1)->valuestring, "m2");
    assert_string_equal(cJSON_GetArrayItem(t, 2)->valuestring, "bob");
    const pc_change *c = NULL;
    assert_int_equal(pc_history_get(f->room, seq + 1, &c), PC_OK);
    assert_non_null(pc_json_pointer_get(c->patch, "/monsters/m1/hp"));
    assert_non_null(pc_json_pointer_get(c->patch, "/monsters/m2/hp"));
    assert_non_null(pc_json_pointer_get(c->patch, "/heroes/bob/hp"));
}

/* The spell would push m1 (on the corner) off the map: refused whole. */
static void test_spell_pushing_off_the_map_is_refused_whole(void **s)
{
    fixture *f = *s;
    start_fight(f);
    rig(f, "{\"heroes\":{\"alice\":{\"x\":3,\"y\":3}},\"monsters\":{\"m1\":"
           "{\"x\":0,\"y\":0},\"m2\":{\"x\":1,\"y\":2}}}");
    refuse_as(f, "alice", PC_ROLE_PLAYER, "spell", "{\"x\":1,\"y\":1}",
              PC_ERR_REJECTED, "blocked");
    assert_int_equal(int_at(f, "/heroes/alice/sheet/slots"), 2);
    assert_null(at(f, "/heroes/alice/acted"));
    /* Nothing was committed, so alice may still act. */
    accept(f, "alice", "defend", NULL);
}

/* The spell would push m2 (hp 20: it survives any 2d6) onto bob, who is
 * outside the blast. */
static void test_spell_pushing_onto_a_taken_cell_is_refused_whole(void **s)
{
    fixture *f = *s;
    start_fight(f);
    rig(f, "{\"heroes\":{\"alice\":{\"x\":1,\"y\":3},\"bob\":{\"x\":4,"
           "\"y\":5}},\"monsters\":{\"m2\":{\"x\":4,\"y\":4},\"m1\":{\"x\":3,"
           "\"y\":2}}}");
    refuse_as(f, "alice", PC_ROLE_PLAYER, "spell", "{\"x\":4,\"y\":3}",
              PC_ERR_REJECTED, "blocked");
    assert_int_equal(int_at(f, "/monsters/m1/hp"), 12);
    assert_int_equal(int_at(f, "/monsters/m2/hp"), 20);
}

static void test_spell_refusals(void **s)
{
    fixture *f = *s;
    start_fight(f);
    refuse(f, "alice", "spell", "{\"x\":0}", "bad_payload");
    refuse(f, "alice", "spell", "{\"x\":0,\"y\":\"9\"}", "bad_payload");
    refuse(f, "alice", "spell", "{\"x\":5,\"y\":9}", "out_of_range");
    refuse(f, "alice", "spell", "{\"x\":0,\"y\":4}", "out_of_range");
    refuse(f, "alice", "spell", "{\"x\":-1,\"y\":9}", "out_of_range");
    rig(f, "{\"heroes\":{\"alice\":{\"sheet\":{\"slots\":0}}}}");
    refuse(f, "alice", "spell", "{\"x\":2,\"y\":7}", "no_slots");
    accept(f, "bob", "spell", "{\"x\":4,\"y\":7}");
    refuse(f, "bob", "spell", "{\"x\":4,\"y\":7}", "already_acted");
}

/* ---- ROUND: heal, move, defend ---------------------------------------- */

static void test_heal_restores_up_to_max_hp_for_a_slot(void **s)
{
    fixture *f = *s;
    start_fight(f);
    rig(f, "{\"heroes\":{\"bob\":{\"hp\":10,\"condition\":\"bloodied\"},"
           "\"alice\":{\"hp\":23,\"condition\":\"wounded\"}}}");
    /* Healing stops at max_hp. */
    accept(f, "bob", "heal", "{\"target\":\"alice\"}");
    assert_int_equal(int_at(f, "/heroes/alice/hp"), 24);
    assert_string_equal(str_at(f, "/heroes/alice/condition"), "unhurt");
    assert_int_equal(int_at(f, "/heroes/bob/sheet/slots"), 1);
    assert_string_equal(str_at(f, "/heroes/bob/acted"), "heal");
    /* alice acts last, so the monsters strike right after: read bob's hit
     * points from the heal's own change. */
    uint64_t seq = pc_room_seq(f->room);
    accept(f, "alice", "heal", "{\"target\":\"bob\"}");
    const pc_change *c = NULL;
    assert_int_equal(pc_history_get(f->room, seq + 1, &c), PC_OK);
    int amount = int_at(f, "/heroes/alice/last/amount");
    assert_true(amount >= 3 && amount <= 10);
    const cJSON *hp = pc_json_pointer_get(c->patch, "/heroes/bob/hp");
    assert_non_null(hp);
    assert_int_equal((int)hp->valuedouble, 10 + amount);
    char want[64];
    snprintf(want, sizeof want, "alice heals bob for %d", amount);
    assert_string_equal(c->reason, want);
}

static void test_heal_refusals(void **s)
{
    fixture *f = *s;
    start_fight(f);
    refuse(f, "alice", "heal", "{\"target\":\"m1\"}", "no_such_target");
    refuse(f, "alice", "heal", NULL, "no_such_target");
    gm(f, "adjust_hp", "{\"target\":\"bob\",\"delta\":-100}");
    refuse(f, "alice", "heal", "{\"target\":\"bob\"}", "target_down");
    rig(f, "{\"heroes\":{\"alice\":{\"sheet\":{\"slots\":0}}}}");
    refuse(f, "alice", "heal", "{\"target\":\"alice\"}", "no_slots");
}

static void test_move_reaches_two_cells_on_free_ground(void **s)
{
    fixture *f = *s;
    start_fight(f);
    refuse(f, "alice", "move", "{\"x\":3,\"y\":9}", "out_of_range");
    refuse(f, "alice", "move", "{\"x\":0,\"y\":10}", "out_of_range");
    refuse(f, "alice", "move", "{\"y\":7}", "bad_payload");
    refuse_as(f, "alice", PC_ROLE_PLAYER, "move", "{\"x\":1,\"y\":9}",
              PC_ERR_REJECTED, "blocked");
    accept(f, "alice", "move", "{\"x\":2,\"y\":7}");
    assert_int_equal(int_at(f, "/heroes/alice/x"), 2);
    assert_int_equal(int_at(f, "/heroes/alice/y"), 7);
    assert_string_equal(str_at(f, "/heroes/alice/acted"), "move");
    assert_string_equal(reason_at(f, pc_room_seq(f->room)),
                        "alice moves to (2, 7)");
    /* The record of the last action is replaced, not merged. */
    assert_null(at(f, "/heroes/alice/last/d20"));
}

static void test_defend_lasts_until_the_next_round(void **s)
{
    fixture *f = *s;
    start_fight(f);
    accept(f, "alice", "defend", NULL);
    assert_true(cJSON_IsTrue(at(f, "/heroes/alice/defending")));
    assert_string_equal(str_at(f, "/heroes/alice/acted"), "defend");
    accept(f, "bob", "attack", "{\"target\":\"m2\"}");
    assert_string_equal(pc_room_phase(f->room), "RESOLUTION");
    assert_true(cJSON_IsTrue(at(f, "/heroes/alice/defending")));
    fire_after(f, f->cfg.resolution_ms);
    assert_string_equal(pc_room_phase(f->room), "ROUND");
    assert_true(cJSON_IsFalse(at(f, "/heroes/alice/defending")));
    assert_null(at(f, "/heroes/alice/acted"));
    assert_null(at(f, "/resolution"));
}

/* ---- strict actions --------------------------------------------------- */

static void test_stale_moves_and_spells_conflict_attacks_apply(void **s)
{
    fixture *f = *s;
    start_fight(f);
    uint64_t stale = pc_room_seq(f->room);
    accept(f, "alice", "defend", NULL);
    static const char *const strict[][2] = {{"move", "{\"x\":1,\"y\":8}"},
                                            {"spell", "{\"x\":2,\"y\":7}"}};
    for (size_t i = 0; i < 2; i++) {
        cJSON *p = cJSON_Parse(strict[i][1]);
        pc_action a = {.player = "bob",
                       .type = strict[i][0],
                       .payload = p,
                       .has_expected_seq = true,
                       .expected_seq = stale};
        pc_error err = {0};
        uint64_t seq = pc_room_seq(f->room);
        assert_int_equal(pc_room_action(f->room, &a, NULL, &err),
                         PC_ERR_CONFLICT);
        assert_string_equal(err.code, "conflict");
        assert_int_equal(pc_room_seq(f->room), seq);
        cJSON_Delete(p);
    }
    cJSON *p = cJSON_Parse("{\"target\":\"m1\"}");
    pc_action a = {.player = "bob",
                   .type = "attack",
                   .payload = p,
                   .has_expected_seq = true,
                   .expected_seq = stale};
    assert_int_equal(pc_room_action(f->room, &a, NULL, NULL), PC_OK);
    assert_string_equal(str_at(f, "/heroes/bob/acted"), "attack");
    cJSON_Delete(p);
}

/* ---- settings --------------------------------------------------------- */

static void test_config_options_and_checks(void **s)
{
    (void)s;
    encounter_config c;
    encounter_config_init(&c);
    assert_int_equal(c.round_ms, ENCOUNTER_ROUND_MS_DEFAULT);
    assert_int_equal(encounter_config_check(&c), PC_OK);
    assert_int_equal(encounter_config_option(&c, "--round-ms", "500"), PC_OK);
    assert_int_equal(c.round_ms, 500);
    assert_int_equal(encounter_config_option(&c, "--resolution-ms", "0"),
                     PC_OK);
    assert_int_equal(c.resolution_ms, 0);
    assert_int_equal(encounter_config_option(&c, "--max-rounds", "3"), PC_OK);
    assert_int_equal(c.max_rounds, 3);
    assert_int_equal(encounter_config_option(&c, "--max-heroes", "8"), PC_OK);
    assert_int_equal(c.max_heroes, 8);
    assert_int_equal(encounter_config_option(&c, "--max-heroes", "9"),
                     PC_ERR_INVALID);
    assert_int_equal(encounter_config_option(&c, "--max-rounds", "0"),
                     PC_ERR_INVALID);
    assert_int_equal(encounter_config_option(&c, "--round-ms", "-1"),
                     PC_ERR_INVALID);
    assert_int_equal(encounter_config_option(&c, "--round-ms", NULL),
                     PC_ERR_INVALID);
    assert_int_equal(encounter_config_option(&c, "--target", "3"),
                     PC_ERR_NOT_FOUND);
    assert_int_equal(c.max_heroes, 8);
    c.max_heroes = 0;
    assert_int_equal(encounter_config_check(&c), PC_ERR_INVALID);
    assert_int_equal(encounter_config_check(NULL), PC_ERR_INVALID);
    assert_non_null(strstr(encounter_config_usage(), "--round-ms"));
    assert_non_null(strstr(encounter_config_usage(), "[20000]"));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_join_seats_heroes_on_row_nine_with_a_secret_sheet),
        T(test_join_refusals_change_nothing),
        T(test_objective_sets_the_secret_and_checks_its_payload),
        T(test_gm_actions_are_refused_for_players),
        T(test_add_monster_checks_payload_ids_and_cells),
        T(test_the_game_master_places_at_most_64_monsters),
        T(test_adjust_hp_clamps_and_the_condition_follows),
        T(test_notes_are_numbered_and_checked),
        T(test_start_needs_a_hero_and_a_living_monster),
        T(test_attack_follows_the_hit_rule_and_floors_hp),
        T(test_attack_refusals_change_nothing),
        T(test_a_down_hero_cannot_act),
        T(test_spell_hits_several_entities_in_one_change),
        T(test_spell_pushing_off_the_map_is_refused_whole),
        T(test_spell_pushing_onto_a_taken_cell_is_refused_whole),
        T(test_spell_refusals),
        T(test_heal_restores_up_to_max_hp_for_a_slot),
        T(test_heal_refusals),
        T(test_move_reaches_two_cells_on_free_ground),
        T(test_defend_lasts_until_the_next_round),
        T(test_stale_moves_and_spells_conflict_attacks_apply),
        T(test_config_options_and_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
