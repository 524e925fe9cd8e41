/*
 * gm.c - the game master's actions: add_monster, adjust_hp and note in
 * any phase but the final two, start in SETUP and end_round in ROUND
 * (rules.h; docs/games/encounter.md "Actions").
 *
 * The game master sees everything, and so may send hidden values (a
 * monster's hit points, armour and notes); the reasons of the changes it
 * makes are public and never repeat them. Who is the game master is the
 * host's business (pc_action.role); encounter.c refuses these actions
 * from anyone else before they get here.
 */
#include "encounter/rules.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "encounter/encounter.h"
#include "encounter/state.h"
#include "phasecast/error.h"
#include "phasecast/room.h"

bool encounter_is_gm_action(const char *type)
{
    static const char *const types[] = {"add_monster", "adjust_hp", "note",
                                        "start", "end_round"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (strcmp(type, types[i]) == 0) {
            return true;
        }
    }
    return false;
}

static const char *text_at(const cJSON *payload, const char *key, size_t max)
{
    const char *s = cJSON_GetStringValue(encounter_member(payload, key));
    return s != NULL && s[0] != '\0' && strlen(s) <= max ? s : NULL;
}

static pc_err add_monster(pc_room *room, const pc_action *act, pc_error *err)
{
    const cJSON *data = pc_room_data(room);
    const cJSON *pl = act->payload;
    const cJSON *monsters = encounter_member(data, "monsters");
    const char *id = cJSON_GetStringValue(encounter_member(pl, "id"));
    const char *name = text_at(pl, "name", ENCOUNTER_NAME_MAX);
    const cJSON *hp = encounter_member(pl, "hp");
    const cJSON *armour = encounter_member(pl, "armour");
    const cJSON *x = encounter_member(pl, "x"), *y = encounter_member(pl, "y");
    const cJSON *note = encounter_member(pl, "note");
    int count = 0;
    (void)encounter_count_living(monsters, &count);
    if (!encounter_id_ok(id) || name == NULL ||
        !encounter_is_int(hp, 1, ENCOUNTER_MONSTER_HP_MAX) ||
        !encounter_is_int(armour, 0, ENCOUNTER_ARMOUR_MAX) ||
        !encounter_is_int(x, -1e6, 1e6) || !encounter_is_int(y, -1e6, 1e6) ||
        (note != NULL && text_at(pl, "note", ENCOUNTER_NOTE_MAX) == NULL)) {
        return pc_error_set(
            err, PC_ERR_ACTION, "bad_payload",
            "the payload must be {\"id\": 1 to %d bytes of A-Z a-z 0-9 _ . -, "
            "\"name\", \"hp\": 1..%d, \"armour\": 0..%d, \"x\", \"y\", "
            "\"note\"?}",
            ENCOUNTER_NAME_MAX, ENCOUNTER_MONSTER_HP_MAX, ENCOUNTER_ARMOUR_MAX);
    }
    if (encounter_member(monsters, id) != NULL ||
        encounter_member(encounter_member(data, "heroes"), id) != NULL) {
        return pc_error_set(err, PC_ERR_ACTION, "id_taken",
                            "%s already names a hero or a monster", id);
    }
    if (count >= ENCOUNTER_MONSTERS_MAX) {
        return pc_error_set(err, PC_ERR_ACTION, "too_many",
                            "a fight has at most %d monsters",
                            ENCOUNTER_MONSTERS_MAX);
    }
    encounter_patch p = encounter_patch_new();
    if (encounter_member(data, "round") == NULL) {
        encounter_put_int(&p, p.root, "round", 0);
    }
    cJSON *m = encounter_entity_patch(&p, false, id);
    encounter_put_str(&p, m, "name", name);
    encounter_put_int(&p, m, "x", (int)x->valuedouble);
    encounter_put_int(&p, m, "y", (int)y->valuedouble);
    encounter_put_str(&p, m, "condition", "unhurt");
    encounter_put_int(&p, m, "hp", (int)hp->valuedouble);
    encounter_put_int(&p, m, "max_hp", (int)hp->valuedouble);
    encounter_put_int(&p, m, "armour", (int)armour->valuedouble);
    if (note != NULL) {
        encounter_put_str(&p, m, "note", note->valuestring);
    }
    char reason[64 + 2 * ENCOUNTER_NAME_MAX];
    snprintf(reason, sizeof reason, "the game master adds %s (%s) at (%d, %d)",
             name, id, (int)x->valuedouble, (int)y->valuedouble);
    return ENCOUNTER_UPDATE(room, p, reason);
}

static pc_err adjust_hp(pc_room *room, const pc_action *act, pc_error *err)
{
    const cJSON *data = pc_room_data(room);
    const char *target =
        cJSON_GetStringValue(encounter_member(act->payload, "target"));
    const cJSON *delta = encounter_member(act->payload, "delta");
    const cJSON *m = encounter_member(encounter_member(data, "monsters"),
                                      target == NULL ? "" : target);
    const cJSON *h = encounter_member(encounter_member(data, "heroes"),
                                      target == NULL ? "" : target);
    if (!encounter_is_int(delta, -ENCOUNTER_MONSTER_HP_MAX,
                          ENCOUNTER_MONSTER_HP_MAX)) {
        return pc_error_set(err, PC_ERR_ACTION, "bad_payload",
                            "the payload must be {\"target\": id, \"delta\": "
                            "an integer}");
    }
    if (m == NULL && h == NULL) {
        return pc_error_set(err, PC_ERR_ACTION, "no_such_target",
                            "no hero or monster is called %s",
                            target == NULL ? "(none)" : target);
    }
    const cJSON *e = h != NULL ? h : m;
    encounter_patch p = encounter_patch_new();
    encounter_put_hp(&p, encounter_entity_patch(&p, h != NULL, target), e,
                     encounter_int_at(e, "hp") + (int)delta->valuedouble,
                     h != NULL, encounter_int_at(data, "round"));
    /* A monster's hit points are the game master's secret: the public
     * reason names the monster, never the amount. */
    char reason[64 + ENCOUNTER_NAME_MAX];
    if (h != NULL) {
        snprintf(reason, sizeof reason,
                 "the game master changes %s's hit points by %d", target,
                 (int)delta->valuedouble);
    } else {
        snprintf(reason, sizeof reason,
                 "the game master changes %s's hit points", target);
    }
    pc_err rc = ENCOUNTER_UPDATE(room, p, reason);
    if (rc == PC_OK) {
        (void)encounter_resolve_if_done(room);
    }
    return rc;
}

static pc_err note(pc_room *room, const pc_action *act, pc_error *err)
{
    const char *text = text_at(act->payload, "text", ENCOUNTER_NOTE_MAX);
    if (text == NULL) {
        return pc_error_set(err, PC_ERR_ACTION, "bad_payload",
                            "the payload must be {\"text\": 1 to %d bytes}",
                            ENCOUNTER_NOTE_MAX);
    }
    char key[16];
    snprintf(
        key, sizeof key, "%d",
        cJSON_GetArraySize(encounter_member(pc_room_data(room), "gm_notes")) +
            1);
    encounter_patch p = encounter_patch_new();
    encounter_put_str(&p, encounter_object_at(&p, p.root, "gm_notes"), key,
                      text);
    return ENCOUNTER_UPDATE(room, p, "the game master writes a note");
}

static pc_err start(pc_room *room, pc_error *err)
{
    const cJSON *data = pc_room_data(room);
    if (strcmp(pc_room_phase(room), ENCOUNTER_SETUP) != 0) {
        return pc_error_set(err, PC_ERR_ACTION, "wrong_phase",
                            "the fight starts from SETUP, not %s",
                            pc_room_phase(room));
    }
    int heroes = encounter_count_living(encounter_member(data, "heroes"), NULL);
    int monsters =
        encounter_count_living(encounter_member(data, "monsters"), NULL);
    if (heroes == 0 || monsters == 0) {
        return pc_error_set(err, PC_ERR_ACTION, "not_ready",
                            "the fight needs a living hero and a living "
                            "monster (%d and %d now)",
                            heroes, monsters);
    }
    encounter_patch p = encounter_patch_new();
    encounter_round_patch(&p, data, 1);
    char reason[96];
    snprintf(reason, sizeof reason,
             "the game master starts the fight: %d heroes against %d "
             "monsters; round 1",
             heroes, monsters);
    return ENCOUNTER_TRANSITION(room, ENCOUNTER_ROUND, p, reason);
}

static pc_err end_round(pc_room *room, pc_error *err)
{
    if (strcmp(pc_room_phase(room), ENCOUNTER_ROUND) != 0) {
        return pc_error_set(err, PC_ERR_ACTION, "wrong_phase",
                            "only a ROUND can be ended, not %s",
                            pc_room_phase(room));
    }
    char reason[64];
    snprintf(reason, sizeof reason, "the game master ends round %d",
             encounter_int_at(pc_room_data(room), "round"));
    return pc_transition(room, ENCOUNTER_RESOLUTION, NULL, reason);
}

pc_err encounter_gm_action(pc_room *room, const pc_action *act, pc_error *err,
                           void *arg)
{
    (void)arg;
    const char *t = act->type;
    return strcmp(t, "add_monster") == 0 ? add_monster(room, act, err)
           : strcmp(t, "adjust_hp") == 0 ? adjust_hp(room, act, err)
           : strcmp(t, "note") == 0      ? note(room, act, err)
           : strcmp(t, "start") == 0     ? start(room, err)
                                         : end_round(room, err);
}
