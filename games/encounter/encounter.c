/*
 * encounter.c - the encounter game: its phase table, the action callback
 * that routes every action to the heroes' rules (rules.c) or the game
 * master's (gm.c), the phases' enter and timeout callbacks (the round
 * timer, the monsters' turn in RESOLUTION, the end of the fight), and the
 * game's events (encounter.h has the phase diagram and the transition
 * table; docs/games/encounter.md the data shape, the errors and who sees
 * what).
 *
 * Automatic steps are written to be finished by whoever comes next: each
 * one reads from the state what is already done (a hero's "acted", the
 * "resolution" record), so a timeout that follows an enter callback cut
 * short by a failure, or a room recovered from its change log (which does
 * not rerun enter), completes the same work exactly once. Events are
 * announcements and are not recorded in the state: one that cannot be made
 * (out of memory) is lost rather than repeated.
 */
#include "encounter/encounter.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "encounter/rules.h"
#include "encounter/state.h"
#include "phasecast/change.h"
#include "phasecast/error.h"
#include "phasecast/room.h"

/* A monster's attack: d20 + 3 against 12, or 17 against a defender;
 * damage d6 + 1, halved (rounded down) against a defender. */
#define MONSTER_BONUS   3
#define MONSTER_TARGET  12
#define DEFENDING_BONUS 5

/* (Re)arm the current phase's timer; every phase that calls it has a
 * timeout callback, so it cannot fail. */
static void arm(pc_room *room, int64_t delay_ms)
{
    (void)pc_room_arm_timeout(room, delay_ms);
}

/* ---- ROUND ------------------------------------------------------------- */

/* The round's announcements: each hero is told the round and its own
 * objective (an event only that player and the game master see); the game
 * master gets every monster's hit points. */
static void announce_round(pc_room *room)
{
    const cJSON *data = pc_room_data(room);
    int round = encounter_int_at(data, "round");
    char reason[96 + ENCOUNTER_NAME_MAX];
    encounter_ids heroes = encounter_sorted(encounter_member(data, "heroes"));
    for (int i = 0; i < heroes.n; i++) {
        const cJSON *h = heroes.item[i];
        const char *objective = cJSON_GetStringValue(
            encounter_member(encounter_member(h, "sheet"), "objective"));
        cJSON *ev = cJSON_CreateObject();
        if (ev != NULL && cJSON_AddNumberToObject(ev, "round", round) &&
            cJSON_AddStringToObject(ev, "objective",
                                    objective == NULL ? "" : objective)) {
            snprintf(reason, sizeof reason, "round %d begins for %s", round,
                     h->string);
            (void)pc_room_event_to(room, PC_AUDIENCE_PLAYER, h->string,
                                   "round_started", ev, reason);
        }
        cJSON_Delete(ev);
    }
    cJSON *ev = cJSON_CreateObject();
    cJSON *hp = cJSON_AddObjectToObject(ev, "monsters");
    bool ok = hp != NULL;
    const cJSON *m;
    cJSON_ArrayForEach(m, encounter_member(data, "monsters"))
    {
        ok = ok && cJSON_AddNumberToObject(hp, m->string,
                                           encounter_int_at(m, "hp")) != NULL;
    }
    if (ok) {
        snprintf(reason, sizeof reason,
                 "round %d: the monsters' hit points, for the game master",
                 round);
        (void)pc_room_event_to(room, PC_AUDIENCE_GM, NULL, "gm_summary", ev,
                               reason);
    }
    cJSON_Delete(ev);
}

/* Arm first: the events below are changes, and a room recovered after
 * them must still have its round timer. */
static void round_enter(pc_room *room, const char *from, void *arg)
{
    (void)from;
    arm(room, encounter_settings(arg).round_ms);
    announce_round(room);
}

/* The first living hero (in id order) who has not acted, or NULL. */
static const cJSON *idle_hero(const cJSON *data)
{
    encounter_ids heroes = encounter_sorted(encounter_member(data, "heroes"));
    for (int i = 0; i < heroes.n; i++) {
        const cJSON *h = heroes.item[i];
        if (encounter_alive(h) && encounter_member(h, "acted") == NULL) {
            return h;
        }
    }
    return NULL;
}

/* Time is up: every living hero who has not acted defends (one change
 * each, in id order), then RESOLUTION. The state is read again after each
 * change: no pointer into it outlives a commit. */
static pc_err round_timeout_step(pc_room *room)
{
    char reason[64 + ENCOUNTER_NAME_MAX];
    const cJSON *h;
    while ((h = idle_hero(pc_room_data(room))) != NULL) {
        encounter_patch p = encounter_patch_new();
        cJSON *hp = encounter_entity_patch(&p, true, h->string);
        encounter_put_str(&p, hp, "acted", "defend");
        encounter_put_bool(&p, hp, "defending", true);
        snprintf(reason, sizeof reason, "%s did not act in time: defends",
                 h->string);
        pc_err rc = ENCOUNTER_UPDATE(room, p, reason);
        if (rc != PC_OK) {
            return rc;
        }
    }
    snprintf(reason, sizeof reason, "round %d: time is up",
             encounter_int_at(pc_room_data(room), "round"));
    return pc_transition(room, ENCOUNTER_RESOLUTION, NULL, reason);
}

static void round_timeout(pc_room *room, void *arg)
{
    (void)arg;
    if (round_timeout_step(room) != PC_OK) {
        arm(room, ENCOUNTER_RETRY_MS);
    }
}

/* ---- RESOLUTION -------------------------------------------------------- */

/* The living hero nearest to monster m (Chebyshev; ties: lowest id). */
static const cJSON *nearest_hero(const cJSON *data, const cJSON *m)
{
    encounter_ids heroes = encounter_sorted(encounter_member(data, "heroes"));
    const cJSON *best = NULL;
    int best_d = 0;
    int mx = encounter_int_at(m, "x"), my = encounter_int_at(m, "y");
    for (int i = 0; i < heroes.n; i++) {
        const cJSON *h = heroes.item[i];
        int d = encounter_distance(mx, my, encounter_int_at(h, "x"),
                                   encounter_int_at(h, "y"));
        if (encounter_alive(h) && (best == NULL || d < best_d)) {
            best = h;
            best_d = d;
        }
    }
    return best;
}

/* Monster m attacks hero h: one change, which also records in
 * "resolution" that m has attacked this round. */
static pc_err monster_attacks(pc_room *room, int round, const cJSON *m,
                              const cJSON *h)
{
    bool defending = cJSON_IsTrue(encounter_member(h, "defending"));
    int d20 = (int)pc_room_random_below(room, 20) + 1;
    bool hit = d20 + MONSTER_BONUS >=
               MONSTER_TARGET + (defending ? DEFENDING_BONUS : 0);
    int damage = hit ? (int)pc_room_random_below(room, 6) + 2 : 0;
    damage = defending ? damage / 2 : damage;
    int hp = encounter_int_at(h, "hp") - damage;

    encounter_patch p = encounter_patch_new();
    cJSON *res = encounter_object_at(&p, p.root, "resolution");
    encounter_put_int(&p, res, "round", round);
    encounter_put_bool(&p, encounter_object_at(&p, res, "attacked"), m->string,
                       true);
    if (hit) {
        encounter_put_hp(&p, encounter_entity_patch(&p, true, h->string), h, hp,
                         true, round);
    }
    char reason[128 + 3 * ENCOUNTER_NAME_MAX];
    const char *name = cJSON_GetStringValue(encounter_member(m, "name"));
    int len = snprintf(reason, sizeof reason, "%s (%s) attacks %s: d20 %d, ",
                       name == NULL ? "?" : name, m->string, h->string, d20);
    if (!hit) {
        snprintf(reason + len, sizeof reason - (size_t)len, "misses");
    } else {
        snprintf(reason + len, sizeof reason - (size_t)len, "hits for %d%s%s",
                 damage, defending ? " (defending: halved)" : "",
                 hp <= 0 ? "; down" : "");
    }
    return ENCOUNTER_UPDATE(room, p, reason);
}

/* One public event per entity of group that fell this round. */
static void announce_fallen(pc_room *room, bool heroes, int round)
{
    const cJSON *data = pc_room_data(room);
    encounter_ids ids = encounter_sorted(
        encounter_member(data, heroes ? "heroes" : "monsters"));
    char reason[64 + 2 * ENCOUNTER_NAME_MAX];
    for (int i = 0; i < ids.n; i++) {
        const cJSON *e = ids.item[i];
        const char *name = cJSON_GetStringValue(encounter_member(e, "name"));
        if (encounter_alive(e) || encounter_int_at(e, "fell") != round) {
            continue;
        }
        cJSON *ev = cJSON_CreateObject();
        if (ev != NULL && cJSON_AddStringToObject(ev, "id", e->string) &&
            (heroes ||
             cJSON_AddStringToObject(ev, "name", name == NULL ? "" : name))) {
            if (heroes) {
                snprintf(reason, sizeof reason, "%s is down", e->string);
            } else {
                snprintf(reason, sizeof reason, "%s (%s) is defeated",
                         name == NULL ? "" : name, e->string);
            }
            (void)pc_room_event(room, heroes ? "hero_down" : "monster_defeated",
                                ev, reason);
        }
        cJSON_Delete(ev);
    }
}

/* Everything RESOLUTION does before its pause that is not done yet: each
 * living monster that has not attacked this round attacks (in id order),
 * then the round is marked resolved and the fallen are announced. */
static pc_err resolve(pc_room *room)
{
    for (;;) {
        const cJSON *data = pc_room_data(room);
        int round = encounter_int_at(data, "round");
        const cJSON *res = encounter_member(data, "resolution");
        bool mine = encounter_int_at(res, "round") == round && res != NULL;
        if (mine && cJSON_IsTrue(encounter_member(res, "resolved"))) {
            return PC_OK;
        }
        const cJSON *attacked = mine ? encounter_member(res, "attacked") : NULL;
        encounter_ids monsters =
            encounter_sorted(encounter_member(data, "monsters"));
        const cJSON *m = NULL, *h = NULL;
        for (int i = 0; i < monsters.n && h == NULL; i++) {
            m = monsters.item[i];
            if (encounter_alive(m) &&
                encounter_member(attacked, m->string) == NULL) {
                h = nearest_hero(data, m);
            }
        }
        if (h != NULL) {
            pc_err rc = monster_attacks(room, round, m, h);
            if (rc != PC_OK) {
                return rc;
            }
            continue;
        }
        /* Marked before the announcements: an announcement is made at
         * most once, even if a failure cuts the list short. */
        encounter_patch p = encounter_patch_new();
        cJSON *r = encounter_object_at(&p, p.root, "resolution");
        encounter_put_int(&p, r, "round", round);
        encounter_put_bool(&p, r, "resolved", true);
        char reason[64];
        snprintf(reason, sizeof reason, "round %d: the monsters have struck",
                 round);
        pc_err rc = ENCOUNTER_UPDATE(room, p, reason);
        if (rc == PC_OK) {
            announce_fallen(room, false, round);
            announce_fallen(room, true, round);
        }
        return rc;
    }
}

/* Arm first: resolve() makes changes, and the timeout must find its timer
 * armed to finish them after a failure or a recovery. */
static void resolution_enter(pc_room *room, const char *from, void *arg)
{
    (void)from;
    arm(room, encounter_settings(arg).resolution_ms);
    (void)resolve(room);
}

/* After the pause: VICTORY, DEFEAT or the next ROUND. */
static pc_err next_round(pc_room *room, void *arg)
{
    const cJSON *data = pc_room_data(room);
    int round = encounter_int_at(data, "round");
    int heroes = encounter_count_living(encounter_member(data, "heroes"), NULL);
    int monsters =
        encounter_count_living(encounter_member(data, "monsters"), NULL);
    char reason[128];
    encounter_patch p = encounter_patch_new();
    if (monsters == 0) {
        encounter_put_str(&p, p.root, "outcome", "victory");
        snprintf(reason, sizeof reason,
                 "victory in round %d: every monster is defeated", round);
        return ENCOUNTER_TRANSITION(room, ENCOUNTER_VICTORY, p, reason);
    }
    if (heroes == 0 || round >= encounter_settings(arg).max_rounds) {
        encounter_put_str(&p, p.root, "outcome", "defeat");
        if (heroes == 0) {
            snprintf(reason, sizeof reason,
                     "defeat in round %d: every hero is down", round);
        } else {
            snprintf(reason, sizeof reason,
                     "defeat: the last round (%d) is over and %d monster%s "
                     "still stand%s",
                     round, monsters, monsters == 1 ? "" : "s",
                     monsters == 1 ? "s" : "");
        }
        return ENCOUNTER_TRANSITION(room, ENCOUNTER_DEFEAT, p, reason);
    }
    encounter_round_patch(&p, data, round + 1);
    snprintf(reason, sizeof reason, "round %d begins", round + 1);
    return ENCOUNTER_TRANSITION(room, ENCOUNTER_ROUND, p, reason);
}

static void resolution_timeout(pc_room *room, void *arg)
{
    if (resolve(room) != PC_OK || next_round(room, arg) != PC_OK) {
        arm(room, ENCOUNTER_RETRY_MS);
    }
}

/* ---- Actions, in every phase ------------------------------------------- */

static pc_err on_action(pc_room *room, const pc_action *act, cJSON **result,
                        pc_error *err, void *arg)
{
    (void)result;
    const char *phase = pc_room_phase(room);
    if (strcmp(phase, ENCOUNTER_VICTORY) == 0 ||
        strcmp(phase, ENCOUNTER_DEFEAT) == 0) {
        return pc_error_set(err, PC_ERR_ACTION, "game_over",
                            "the fight is over (%s)", phase);
    }
    if (encounter_is_gm_action(act->type)) {
        if (act->role != PC_ROLE_GM) {
            return pc_error_set(err, PC_ERR_ACTION, "not_gm",
                                "only the game master may %s", act->type);
        }
        return encounter_gm_action(room, act, err, arg);
    }
    return encounter_hero_action(room, act, err, arg);
}

/* ---- The game table ---------------------------------------------------- */

static const pc_phase phases[] = {
    {.name = ENCOUNTER_SETUP, .action = on_action},
    {.name = ENCOUNTER_ROUND,
     .enter = round_enter,
     .action = on_action,
     .timeout = round_timeout},
    {.name = ENCOUNTER_RESOLUTION,
     .enter = resolution_enter,
     .action = on_action,
     .timeout = resolution_timeout},
    {.name = ENCOUNTER_VICTORY, .action = on_action},
    {.name = ENCOUNTER_DEFEAT, .action = on_action},
};

static const char *const private_paths[] = {"/heroes/{player}/sheet",
                                            "/monsters/*/hp",
                                            "/monsters/*/max_hp",
                                            "/monsters/*/armour",
                                            "/monsters/*/note",
                                            "/gm_notes",
                                            NULL};

static const char *const strict_actions[] = {"move", "spell", NULL};

static const pc_game game = {
    .name = "encounter",
    .phases = phases,
    .nphases = sizeof phases / sizeof phases[0],
    .initial_phase = ENCOUNTER_SETUP,
    .validate = encounter_validate_state,
    .private_paths = private_paths,
    .strict_actions = strict_actions,
};

const pc_game *encounter_game(void)
{
    return &game;
}
