/*
 * test_encounter_monkey.c - whole encounters driven by random actions
 * (valid and not, from heroes, strangers and the game master) and random
 * timer fires, in process on an injected clock, checking after every step
 * what must always hold: a refused action changes nothing; no secret (the
 * objectives, monster notes and game-master notes carry canary strings)
 * reaches the public view of the state, any change's public patch, a
 * reason, an error message or an event the public may see, and no hero
 * sees another's objective; the fight always ends (VICTORY or DEFEAT)
 * when only the timers run; and the same seed plays the same game. The
 * rules themselves are checked one by one in test_encounter.c.
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
#include "phasecast/history.h"
#include "phasecast/room.h"
#include "phasecast/view.h"
#include "test_encounter_fixture.h"

static const char *const heroes[] = {"alice", "bob", "carol"};

static uint64_t rng;
static int accepted, refused; /* actions, over a test */

/* xorshift64: the test's own dice, apart from the room's. */
static int pick(int n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (int)(rng % (uint64_t)n);
}

static bool has(const char *text, const char *needle)
{
    return text != NULL && strstr(text, needle) != NULL;
}

/* The view of tree for viewer v contains needle. */
static bool view_has(const cJSON *doc, bool patch, const pc_viewer *v,
                     const char *needle)
{
    cJSON *view = NULL;
    pc_err rc = patch ? pc_view_patch_as(encounter_game(), doc, v, &view, NULL)
                      : pc_view_state_as(encounter_game(), doc, v, &view);
    assert_int_equal(rc, PC_OK);
    char *text = cJSON_PrintUnformatted(view);
    bool found = has(text, needle);
    cJSON_free(text);
    cJSON_Delete(view);
    return found;
}

/* Every change after seq `from` keeps the secrets where they belong. */
static void check_changes(const fixture *f, uint64_t from)
{
    static const pc_viewer pub = {.kind = PC_VIEWER_PUBLIC};
    static const pc_viewer alice = {.kind = PC_VIEWER_PLAYER,
                                    .player = "alice"};
    for (uint64_t s = from + 1; s <= pc_room_seq(f->room); s++) {
        const pc_change *c = NULL;
        assert_int_equal(pc_history_get(f->room, s, &c), PC_OK);
        assert_false(has(c->reason, "CANARY"));
        assert_false(view_has(c->patch, true, &pub, "CANARY"));
        assert_false(view_has(c->patch, true, &alice, "CANARY-NOTE"));
        assert_false(view_has(c->patch, true, &alice, "CANARY-GM"));
        assert_false(view_has(c->patch, true, &alice, "CANARY-OBJ-bob"));
        if (c->kind == PC_CHANGE_EVENT) {
            char *text = cJSON_PrintUnformatted(c->event.data);
            bool secret = has(text, "CANARY");
            bool bobs = has(text, "CANARY-OBJ-bob");
            cJSON_free(text);
            assert_false(secret && pc_view_event_as(&c->event, &pub));
            assert_false(bobs && pc_view_event_as(&c->event, &alice));
        }
    }
    assert_false(view_has(pc_room_state(f->room), false, &pub, "CANARY"));
    assert_false(
        view_has(pc_room_state(f->room), false, &alice, "CANARY-OBJ-bob"));
}

/* A random action: a hero's (sometimes a stranger's), or the game
 * master's (sometimes sent without the role), with a payload that mostly
 * fits its type and sometimes does not. */
static void random_action(char *type, size_t tcap, char *payload, size_t pcap,
                          const char **who, pc_role *role)
{
    static const char *const hero_types[] = {"attack", "attack",    "attack",
                                             "spell",  "heal",      "move",
                                             "defend", "objective", "fly"};
    static const char *const gm_types[] = {"add_monster", "adjust_hp", "note",
                                           "end_round", "start"};
    static const char *const targets[] = {"m1",    "m2",  "m1", "m2",
                                          "alice", "bob", "x3", "nobody"};
    int x = pick(12) - 1, y = pick(12) - 1;
    const char *target = targets[pick(8)];
    *role = PC_ROLE_PLAYER;
    *who = pick(30) == 0 ? "stranger" : heroes[pick(3)];
    if (pick(8) == 0) {
        *who = GM;
        *role = pick(10) == 0 ? PC_ROLE_PLAYER : PC_ROLE_GM;
        snprintf(type, tcap, "%s", gm_types[pick(5)]);
    } else {
        snprintf(type, tcap, "%s", hero_types[pick(9)]);
    }
    int shape = pick(8) == 0                                    ? pick(3)
                : strstr("attack heal adjust_hp", type) != NULL ? 0
                : strstr("objective note", type) != NULL        ? 2
                                                                : 1;
    switch (shape) {
    case 0:
        snprintf(payload, pcap, "{\"target\":\"%s\",\"delta\":%d}", target,
                 pick(21) - 14);
        break;
    case 1:
        snprintf(payload, pcap,
                 "{\"x\":%d,\"y\":%d,\"id\":\"x%d\",\"name\":\"imp\","
                 "\"hp\":%d,\"armour\":%d,\"note\":\"CANARY-NOTE\"}",
                 x, y, pick(50), pick(8) + 1, pick(15));
        break;
    default:
        snprintf(payload, pcap, "{\"text\":\"CANARY-%s\"}",
                 *role == PC_ROLE_GM ? "GM" : "OBJ-nobody");
        break;
    }
}

/* One fight of `steps` random steps from seed, then only the timers until
 * it ends. Returns the number of changes. */
static uint64_t monkey(fixture *f, uint64_t seed, int steps)
{
    reopen(f, seed);
    rng = seed * 0x9E3779B97F4A7C15ull | 1;
    f->cfg.max_rounds = 10;
    for (int i = 0; i < 3; i++) {
        char text[64];
        accept(f, heroes[i], "join", NULL);
        snprintf(text, sizeof text, "{\"text\":\"CANARY-OBJ-%s\"}", heroes[i]);
        accept(f, heroes[i], "objective", text);
    }
    gm(f, "add_monster",
       "{\"id\":\"m1\",\"name\":\"goblin\",\"hp\":9,\"armour\":12,\"x\":3,"
       "\"y\":3,\"note\":\"CANARY-NOTE\"}");
    gm(f, "add_monster",
       "{\"id\":\"m2\",\"name\":\"orc\",\"hp\":15,\"armour\":10,\"x\":5,"
       "\"y\":4}");
    gm(f, "note", "{\"text\":\"CANARY-GM\"}");
    gm(f, "start", NULL);
    check_changes(f, 0);
    for (int i = 0; i < steps && pc_room_timeout_deadline(f->room, NULL); i++) {
        uint64_t seq = pc_room_seq(f->room), sum = pc_room_checksum(f->room);
        now += pick(500);
        if (pick(12) == 0) {
            int64_t deadline = 0;
            assert_true(pc_room_timeout_deadline(f->room, &deadline));
            now = deadline > now ? deadline : now;
            assert_int_equal(pc_room_fire_timeout(f->room), PC_OK);
        } else {
            char type[32], payload[256];
            const char *who = NULL;
            pc_role role = PC_ROLE_PLAYER;
            random_action(type, sizeof type, payload, sizeof payload, &who,
                          &role);
            pc_error err = {0};
            pc_err rc = act_as(f->room, who, role, type,
                               pick(8) == 0 ? NULL : payload, &err);
            if (rc != PC_OK) {
                assert_int_equal(pc_room_seq(f->room), seq);
                assert_true(pc_room_checksum(f->room) == sum);
                assert_false(has(err.message, "CANARY"));
                refused++;
            } else {
                accepted++;
                assert_true(pc_room_seq(f->room) > seq);
            }
        }
        check_changes(f, seq);
    }
    /* Only the timers from here: the fight must end. */
    int fires = 0;
    int64_t deadline = 0;
    while (pc_room_timeout_deadline(f->room, &deadline) && fires < 100) {
        uint64_t seq = pc_room_seq(f->room);
        now = deadline > now ? deadline : now;
        assert_int_equal(pc_room_fire_timeout(f->room), PC_OK);
        check_changes(f, seq);
        fires++;
    }
    const char *phase = pc_room_phase(f->room);
    assert_true(strcmp(phase, "VICTORY") == 0 || strcmp(phase, "DEFEAT") == 0);
    assert_non_null(at(f, "/outcome"));
    return pc_room_seq(f->room);
}

static void test_random_fights_keep_secrets_and_always_end(void **s)
{
    fixture *f = *s;
    int victories = 0, defeats = 0;
    for (uint64_t seed = 1; seed <= 24; seed++) {
        (void)monkey(f, seed, 300);
        victories += strcmp(pc_room_phase(f->room), "VICTORY") == 0;
        defeats += strcmp(pc_room_phase(f->room), "DEFEAT") == 0;
    }
    assert_int_equal(victories + defeats, 24);
    print_message("%d victories, %d defeats; %d actions applied, %d refused\n",
                  victories, defeats, accepted, refused);
    assert_true(victories > 0 && defeats > 0);
    assert_true(accepted > 300 && refused > 300);
}

static void test_a_random_fight_replays_from_its_seed(void **s)
{
    fixture *f = *s;
    uint64_t n = monkey(f, 77, 300);
    uint64_t sum = pc_room_checksum(f->room);
    assert_int_equal(monkey(f, 77, 300), n);
    assert_true(pc_room_checksum(f->room) == sum);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_random_fights_keep_secrets_and_always_end),
        T(test_a_random_fight_replays_from_its_seed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
