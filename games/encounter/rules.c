/*
 * rules.c - the heroes' actions: join and objective in SETUP; attack, the
 * area spell thunderwave, heal, move and defend once per ROUND (rules.h;
 * docs/games/encounter.md has the numbers and the errors).
 *
 * Each action reads the committed state, refuses (committing nothing) or
 * builds one merge patch for everything it changes - the hero's record
 * ("acted", "last"), the target's hit points and condition, every entity a
 * spell hits and pushes - and commits it as one change, so the game's
 * validator judges the whole: a thunderwave that would push anything off
 * the map or onto an occupied cell is refused entirely. Dice are drawn
 * with pc_room_random_below before the commit; a refused spell has drawn
 * them, which a replay of the same actions draws the same way.
 */
#include "encounter/rules.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "encounter/encounter.h"
#include "encounter/state.h"
#include "phasecast/change.h"
#include "phasecast/error.h"
#include "phasecast/room.h"

/* Numbers of the rules. */
#define ATTACK_BONUS 4 /* a hero's attack: d20 + 4 against armour */
#define SPELL_RANGE  4 /* thunderwave's target cell, from the caster */
#define SPELL_RADIUS 1 /* ... hits everything this close to that cell */
#define MOVE_RANGE   2 /* a move's reach */

/* The secret objectives a hero may be dealt on joining. */
static const char *const objectives[] = {
    "end the fight with every ally standing",
    "land the blow that defeats the last monster",
    "never end a round farther from a monster than you began it",
    "keep one spell slot unused until the final round",
    "defeat a monster with thunderwave",
    "heal an ally who is bloodied",
};

static const char *str_at(const cJSON *object, const char *key)
{
    return cJSON_GetStringValue(encounter_member(object, key));
}

/* payload[key] as an int within +-1e6; false when it is not one. */
static bool payload_int(const cJSON *payload, const char *key, int *out)
{
    const cJSON *v = encounter_member(payload, key);
    if (!encounter_is_int(v, -1e6, 1e6)) {
        return false;
    }
    *out = (int)v->valuedouble;
    return true;
}

static int sign(int v)
{
    return (v > 0) - (v < 0);
}

/* d<sides>: 1..sides from the room's PRNG. */
static int roll(pc_room *room, int sides)
{
    return (int)pc_room_random_below(room, (uint64_t)sides) + 1;
}

/* ---- SETUP ------------------------------------------------------------- */

static pc_err join(pc_room *room, const char *player, pc_error *err, void *arg)
{
    const cJSON *data = pc_room_data(room);
    const cJSON *heroes = encounter_member(data, "heroes");
    int seated = 0;
    (void)encounter_count_living(heroes, &seated);
    if (strcmp(pc_room_phase(room), ENCOUNTER_SETUP) != 0) {
        return pc_error_set(err, PC_ERR_ACTION, "not_setup",
                            "heroes join in SETUP; the fight has begun");
    }
    if (encounter_member(heroes, player) != NULL) {
        return pc_error_set(err, PC_ERR_ACTION, "already_joined",
                            "%s has already joined", player);
    }
    if (!encounter_id_ok(player)) {
        return pc_error_set(err, PC_ERR_ACTION, "bad_name",
                            "a hero's id is 1 to %d bytes of A-Z a-z 0-9 "
                            "_ . -",
                            ENCOUNTER_NAME_MAX);
    }
    if (encounter_member(encounter_member(data, "monsters"), player) != NULL) {
        return pc_error_set(err, PC_ERR_ACTION, "id_taken",
                            "a monster is already called %s", player);
    }
    int x = 0;
    while (x < ENCOUNTER_MAP &&
           encounter_living_at(data, x, ENCOUNTER_MAP - 1) != NULL) {
        x++;
    }
    if (seated >= encounter_settings(arg).max_heroes || x == ENCOUNTER_MAP) {
        return pc_error_set(err, PC_ERR_ACTION, "room_full",
                            "every seat is taken (%d heroes)", seated);
    }
    int pick = (int)pc_room_random_below(room, sizeof objectives /
                                                   sizeof objectives[0]);
    encounter_patch p = encounter_patch_new();
    if (encounter_member(data, "round") == NULL) {
        encounter_put_int(&p, p.root, "round", 0);
    }
    cJSON *h = encounter_entity_patch(&p, true, player);
    encounter_put_int(&p, h, "hp", ENCOUNTER_HERO_HP);
    encounter_put_int(&p, h, "max_hp", ENCOUNTER_HERO_HP);
    encounter_put_int(&p, h, "x", x);
    encounter_put_int(&p, h, "y", ENCOUNTER_MAP - 1);
    encounter_put_str(&p, h, "condition", "unhurt");
    encounter_put_bool(&p, h, "defending", false);
    cJSON *sheet = encounter_object_at(&p, h, "sheet");
    encounter_put_int(&p, sheet, "slots", ENCOUNTER_HERO_SLOTS);
    encounter_put_str(&p, sheet, "objective", objectives[pick]);
    char reason[64 + ENCOUNTER_NAME_MAX];
    snprintf(reason, sizeof reason, "%s joins the party at (%d, %d)", player, x,
             ENCOUNTER_MAP - 1);
    return ENCOUNTER_UPDATE(room, p, reason);
}

static pc_err objective(pc_room *room, const pc_action *act, pc_error *err)
{
    const char *text = str_at(act->payload, "text");
    if (strcmp(pc_room_phase(room), ENCOUNTER_SETUP) != 0) {
        return pc_error_set(err, PC_ERR_ACTION, "wrong_phase",
                            "objectives are chosen in SETUP, not %s",
                            pc_room_phase(room));
    }
    if (text == NULL || text[0] == '\0' ||
        strlen(text) > ENCOUNTER_OBJECTIVE_MAX) {
        return pc_error_set(err, PC_ERR_ACTION, "bad_payload",
                            "the payload must be {\"text\": 1 to %d bytes}",
                            ENCOUNTER_OBJECTIVE_MAX);
    }
    encounter_patch p = encounter_patch_new();
    cJSON *h = encounter_entity_patch(&p, true, act->player);
    encounter_put_str(&p, encounter_object_at(&p, h, "sheet"), "objective",
                      text);
    char reason[64 + ENCOUNTER_NAME_MAX];
    snprintf(reason, sizeof reason, "%s chooses a secret objective",
             act->player);
    return ENCOUNTER_UPDATE(room, p, reason);
}

/* ---- ROUND: the hero's record ------------------------------------------ */

/* The patch of the acting hero with acted set and a fresh "last" record:
 * the members of the previous record are nulled (so the merge replaces
 * it) before the action puts its own; *last receives the record. */
static cJSON *acting(encounter_patch *p, const cJSON *hero, const char *id,
                     const char *action, cJSON **last)
{
    const cJSON *old;
    cJSON *h = encounter_entity_patch(p, true, id);
    encounter_put_str(p, h, "acted", action);
    *last = encounter_object_at(p, h, "last");
    cJSON_ArrayForEach(old, encounter_member(hero, "last"))
    {
        encounter_put_null(p, *last, old->string);
    }
    encounter_put_str(p, *last, "action", action);
    return h;
}

/* Damage a hero takes: halved (rounded down) while defending. */
static int taken(const cJSON *hero, int damage)
{
    return cJSON_IsTrue(encounter_member(hero, "defending")) ? damage / 2
                                                             : damage;
}

/* ---- ROUND: the actions ------------------------------------------------ */

static pc_err attack(pc_room *room, const pc_action *act, const cJSON *hero,
                     pc_error *err)
{
    const cJSON *data = pc_room_data(room);
    const char *target = str_at(act->payload, "target");
    const cJSON *m =
        target == NULL
            ? NULL
            : encounter_member(encounter_member(data, "monsters"), target);
    if (m == NULL) {
        return pc_error_set(err, PC_ERR_ACTION, "no_such_target",
                            "the payload must be {\"target\": a monster's "
                            "id}");
    }
    if (!encounter_alive(m)) {
        return pc_error_set(err, PC_ERR_ACTION, "target_defeated",
                            "%s is already defeated", target);
    }
    int d20 = roll(room, 20);
    bool crit = d20 == 20;
    bool hit = crit || d20 + ATTACK_BONUS >= encounter_int_at(m, "armour");
    int damage = hit ? (roll(room, 8) + 2) * (crit ? 2 : 1) : 0;
    int hp = encounter_int_at(m, "hp") - damage;
    int round = encounter_int_at(data, "round");
    char name[ENCOUNTER_NAME_MAX + 1]; /* copied: read again after commit */
    snprintf(name, sizeof name, "%s",
             str_at(m, "name") != NULL ? str_at(m, "name") : "?");

    encounter_patch p = encounter_patch_new();
    cJSON *last = NULL;
    (void)acting(&p, hero, act->player, "attack", &last);
    encounter_put_str(&p, last, "target", target);
    encounter_put_int(&p, last, "d20", d20);
    encounter_put_bool(&p, last, "hit", hit);
    encounter_put_int(&p, last, "damage", damage);
    if (hit) {
        encounter_put_hp(&p, encounter_entity_patch(&p, false, target), m, hp,
                         false, round);
    }
    char reason[256 + 2 * ENCOUNTER_NAME_MAX];
    int len = snprintf(reason, sizeof reason, "%s attacks %s (%s): d20 %d, ",
                       act->player, name, target, d20);
    if (!hit) {
        snprintf(reason + len, sizeof reason - (size_t)len, "misses");
    } else {
        snprintf(reason + len, sizeof reason - (size_t)len, "%s for %d%s",
                 crit ? "critical hit" : "hits", damage,
                 hp <= 0 ? "; it is defeated" : "");
    }
    pc_err rc = ENCOUNTER_UPDATE(room, p, reason);
    if (rc != PC_OK || !crit) {
        return rc;
    }
    /* The hit is committed; its announcement is a change of its own. An
     * announcement that cannot be made (out of memory) is lost, never the
     * hit: the action has succeeded. */
    cJSON *ev = cJSON_CreateObject();
    if (ev != NULL && cJSON_AddStringToObject(ev, "attacker", act->player) &&
        cJSON_AddStringToObject(ev, "target", target) &&
        cJSON_AddNumberToObject(ev, "damage", damage)) {
        snprintf(reason, sizeof reason,
                 "critical hit: %s rolls a natural 20 against %s (%s) for %d",
                 act->player, name, target, damage);
        (void)pc_room_event(room, "critical_hit", ev, reason);
    }
    cJSON_Delete(ev);
    return PC_OK;
}

/* Thunderwave at (x, y): every living monster and every other living hero
 * within SPELL_RADIUS takes one 2d6 roll (halved for a defending hero) and
 * is pushed one cell straight away from (x, y), or away from the caster
 * when it stands on (x, y). */
static pc_err spell(pc_room *room, const pc_action *act, const cJSON *hero,
                    pc_error *err)
{
    const cJSON *data = pc_room_data(room);
    int x = 0, y = 0;
    int cx = encounter_int_at(hero, "x"), cy = encounter_int_at(hero, "y");
    int slots = encounter_int_at(encounter_member(hero, "sheet"), "slots");
    if (!payload_int(act->payload, "x", &x) ||
        !payload_int(act->payload, "y", &y)) {
        return pc_error_set(err, PC_ERR_ACTION, "bad_payload",
                            "the payload must be {\"x\": int, \"y\": int}");
    }
    if (slots < 1) {
        return pc_error_set(err, PC_ERR_ACTION, "no_slots",
                            "%s has no spell slot left", act->player);
    }
    if (!encounter_on_map(x, y) ||
        encounter_distance(cx, cy, x, y) > SPELL_RANGE) {
        return pc_error_set(err, PC_ERR_ACTION, "out_of_range",
                            "thunderwave reaches a cell on the map within "
                            "%d cells of the caster",
                            SPELL_RANGE);
    }
    int damage = roll(room, 6) + roll(room, 6);
    int round = encounter_int_at(data, "round");
    encounter_patch p = encounter_patch_new();
    cJSON *last = NULL;
    cJSON *me = acting(&p, hero, act->player, "spell", &last);
    encounter_put_int(&p, encounter_object_at(&p, me, "sheet"), "slots",
                      slots - 1);
    encounter_put_int(&p, last, "x", x);
    encounter_put_int(&p, last, "y", y);
    encounter_put_int(&p, last, "damage", damage);
    cJSON *targets = cJSON_CreateArray();
    encounter_put(&p, last, "targets", targets);

    char reason[PC_REASON_MAX];
    size_t len = (size_t)snprintf(
        reason, sizeof reason,
        "%s casts thunderwave at (%d, %d) for %d:", act->player, x, y, damage);
    int hits = 0;
    for (int g = 0; g < 2; g++) {
        encounter_ids ids =
            encounter_sorted(encounter_member(data, g ? "heroes" : "monsters"));
        for (int i = 0; i < ids.n; i++) {
            const cJSON *e = ids.item[i];
            int ex = encounter_int_at(e, "x"), ey = encounter_int_at(e, "y");
            if (!encounter_alive(e) ||
                (g && strcmp(e->string, act->player) == 0) ||
                encounter_distance(ex, ey, x, y) > SPELL_RADIUS) {
                continue;
            }
            bool centre = ex == x && ey == y;
            int dx = centre ? sign(x - cx) : sign(ex - x);
            int dy = centre ? sign(y - cy) : sign(ey - y);
            int d = g ? taken(e, damage) : damage;
            cJSON *ep = encounter_entity_patch(&p, g == 1, e->string);
            encounter_put_hp(&p, ep, e, encounter_int_at(e, "hp") - d, g == 1,
                             round);
            encounter_put_int(&p, ep, "x", ex + dx);
            encounter_put_int(&p, ep, "y", ey + dy);
            cJSON *id = cJSON_CreateString(e->string);
            if (id == NULL || !p.ok || !cJSON_AddItemToArray(targets, id)) {
                cJSON_Delete(id);
                p.ok = false;
            }
            if (len < sizeof reason) {
                len += (size_t)snprintf(reason + len, sizeof reason - len,
                                        "%s %s", hits ? "," : "", e->string);
            }
            hits++;
        }
    }
    if (hits == 0 && len < sizeof reason) {
        snprintf(reason + len, sizeof reason - len, " it hits nobody");
    }
    return ENCOUNTER_UPDATE(room, p, reason);
}

static pc_err heal(pc_room *room, const pc_action *act, const cJSON *hero,
                   pc_error *err)
{
    const cJSON *data = pc_room_data(room);
    const char *target = str_at(act->payload, "target");
    const cJSON *t =
        target == NULL
            ? NULL
            : encounter_member(encounter_member(data, "heroes"), target);
    int slots = encounter_int_at(encounter_member(hero, "sheet"), "slots");
    if (t == NULL) {
        return pc_error_set(err, PC_ERR_ACTION, "no_such_target",
                            "the payload must be {\"target\": a hero's id}");
    }
    if (!encounter_alive(t)) {
        return pc_error_set(err, PC_ERR_ACTION, "target_down",
                            "%s is down and cannot be healed", target);
    }
    if (slots < 1) {
        return pc_error_set(err, PC_ERR_ACTION, "no_slots",
                            "%s has no spell slot left", act->player);
    }
    int amount = roll(room, 8) + 2;
    encounter_patch p = encounter_patch_new();
    cJSON *last = NULL;
    cJSON *me = acting(&p, hero, act->player, "heal", &last);
    encounter_put_int(&p, encounter_object_at(&p, me, "sheet"), "slots",
                      slots - 1);
    encounter_put_str(&p, last, "target", target);
    encounter_put_int(&p, last, "amount", amount);
    encounter_put_hp(&p, encounter_entity_patch(&p, true, target), t,
                     encounter_int_at(t, "hp") + amount, true,
                     encounter_int_at(data, "round"));
    char reason[64 + 2 * ENCOUNTER_NAME_MAX];
    snprintf(reason, sizeof reason, "%s heals %s for %d", act->player, target,
             amount);
    return ENCOUNTER_UPDATE(room, p, reason);
}

static pc_err move(pc_room *room, const pc_action *act, const cJSON *hero,
                   pc_error *err)
{
    int x = 0, y = 0;
    if (!payload_int(act->payload, "x", &x) ||
        !payload_int(act->payload, "y", &y)) {
        return pc_error_set(err, PC_ERR_ACTION, "bad_payload",
                            "the payload must be {\"x\": int, \"y\": int}");
    }
    if (!encounter_on_map(x, y) ||
        encounter_distance(encounter_int_at(hero, "x"),
                           encounter_int_at(hero, "y"), x, y) > MOVE_RANGE) {
        return pc_error_set(err, PC_ERR_ACTION, "out_of_range",
                            "a move reaches a cell on the map within %d "
                            "cells",
                            MOVE_RANGE);
    }
    encounter_patch p = encounter_patch_new();
    cJSON *last = NULL;
    cJSON *me = acting(&p, hero, act->player, "move", &last);
    encounter_put_int(&p, me, "x", x);
    encounter_put_int(&p, me, "y", y);
    encounter_put_int(&p, last, "x", x);
    encounter_put_int(&p, last, "y", y);
    char reason[64 + ENCOUNTER_NAME_MAX];
    snprintf(reason, sizeof reason, "%s moves to (%d, %d)", act->player, x, y);
    return ENCOUNTER_UPDATE(room, p, reason);
}

static pc_err defend(pc_room *room, const pc_action *act, const cJSON *hero)
{
    encounter_patch p = encounter_patch_new();
    cJSON *last = NULL;
    encounter_put_bool(&p, acting(&p, hero, act->player, "defend", &last),
                       "defending", true);
    char reason[64 + ENCOUNTER_NAME_MAX];
    snprintf(reason, sizeof reason, "%s defends", act->player);
    return ENCOUNTER_UPDATE(room, p, reason);
}

/* ---- Dispatch ---------------------------------------------------------- */

static pc_err round_action(pc_room *room, const pc_action *act,
                           const cJSON *hero, pc_error *err)
{
    const char *t = act->type;
    if (strcmp(pc_room_phase(room), ENCOUNTER_ROUND) != 0) {
        return pc_error_set(err, PC_ERR_ACTION, "wrong_phase",
                            "heroes %s in ROUND, not %s", t,
                            pc_room_phase(room));
    }
    if (!encounter_alive(hero)) {
        return pc_error_set(err, PC_ERR_ACTION, "hero_down",
                            "%s is down and cannot act", act->player);
    }
    if (encounter_member(hero, "acted") != NULL) {
        return pc_error_set(err, PC_ERR_ACTION, "already_acted",
                            "%s has already acted this round", act->player);
    }
    pc_err rc = strcmp(t, "attack") == 0  ? attack(room, act, hero, err)
                : strcmp(t, "spell") == 0 ? spell(room, act, hero, err)
                : strcmp(t, "heal") == 0  ? heal(room, act, hero, err)
                : strcmp(t, "move") == 0  ? move(room, act, hero, err)
                                          : defend(room, act, hero);
    if (rc == PC_OK) {
        (void)encounter_resolve_if_done(room);
    }
    return rc;
}

pc_err encounter_hero_action(pc_room *room, const pc_action *act, pc_error *err,
                             void *arg)
{
    static const char *const round_types[] = {"attack", "spell", "heal", "move",
                                              "defend"};
    if (strcmp(act->type, "join") == 0) {
        return join(room, act->player, err, arg);
    }
    const cJSON *hero = encounter_member(
        encounter_member(pc_room_data(room), "heroes"), act->player);
    bool known = strcmp(act->type, "objective") == 0;
    for (size_t i = 0; i < sizeof round_types / sizeof round_types[0]; i++) {
        known = known || strcmp(act->type, round_types[i]) == 0;
    }
    if (!known) {
        return pc_error_set(err, PC_ERR_ACTION, "unknown_action",
                            "encounter has no action \"%s\"", act->type);
    }
    if (hero == NULL || act->role == PC_ROLE_GM) {
        return pc_error_set(err, PC_ERR_ACTION, "not_a_player",
                            "%s has no hero in this room", act->player);
    }
    if (strcmp(act->type, "objective") == 0) {
        return objective(room, act, err);
    }
    return round_action(room, act, hero, err);
}

pc_err encounter_resolve_if_done(pc_room *room)
{
    const cJSON *data = pc_room_data(room);
    const cJSON *e;
    int monsters = 0;
    if (strcmp(pc_room_phase(room), ENCOUNTER_ROUND) != 0) {
        return PC_OK;
    }
    /* With every monster defeated there is nothing left to act on: the
     * heroes who have not acted are not made to wait for the timer. */
    bool won = encounter_count_living(encounter_member(data, "monsters"),
                                      &monsters) == 0 &&
               monsters > 0;
    cJSON_ArrayForEach(e, encounter_member(data, "heroes"))
    {
        if (!won && encounter_alive(e) &&
            encounter_member(e, "acted") == NULL) {
            return PC_OK;
        }
    }
    char reason[64];
    snprintf(reason, sizeof reason, "round %d: %s",
             encounter_int_at(data, "round"),
             won ? "every monster is defeated" : "every living hero has acted");
    return pc_transition(room, ENCOUNTER_RESOLUTION, NULL, reason);
}

void encounter_round_patch(encounter_patch *p, const cJSON *data, int n)
{
    const cJSON *e;
    encounter_put_int(p, p->root, "round", n);
    encounter_put_null(p, p->root, "resolution");
    cJSON_ArrayForEach(e, encounter_member(data, "heroes"))
    {
        cJSON *h = encounter_entity_patch(p, true, e->string);
        encounter_put_null(p, h, "acted");
        encounter_put_bool(p, h, "defending", false);
    }
}
