/*
 * test_gm_fixture.h - "table", a small game-master game for the tests of
 * roles, optimistic concurrency and multi-target atomicity (test_gm.c,
 * test_server_gm.c). Static functions only; not installed, not the
 * encounter game (games/encounter is its own slice).
 *
 * One phase, ROUND. Private: /gm (game-master notes: no player sees
 * them), /monsters/ * /hp (hit points: game master only) and
 * /sheets/{player} (each player's sheet). Actions:
 *   join  - seats the player: its sheet holds CANARY "-SHEET-<name>"
 *   add   - game master only: {"id", "hp"} adds a monster
 *   note  - game master only: {"text"} sets /gm/note, then a
 *           game-master-only event "gm.note" with the same text
 *   hit   - {"target", "dmg"}: one monster loses dmg hit points
 *   area  - {"targets": [...], "dmg"}: every target loses dmg, in ONE
 *           patch; the validator refuses any hit points below zero, so
 *           one bad target refuses the whole spell
 *   say   - a public event "said"
 * hit and area are strict (refused with a conflict when stale); say is
 * not. The game counts the actions it saw, and the last role.
 */
#ifndef PC_TEST_GM_FIXTURE_H
#define PC_TEST_GM_FIXTURE_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/room.h"

#define GM_CANARY "CANARY-GMX"

/* What the game saw (the room's arg, may be NULL). */
typedef struct table_seen {
    int actions;
    pc_role last_role;
    bool last_had_expected;
    uint64_t last_expected;
} table_seen;

static cJSON *table_monster(pc_room *room, const char *id)
{
    return cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(pc_room_data(room), "monsters"), id);
}

static double table_hp(pc_room *room, const char *id)
{
    const cJSON *hp =
        cJSON_GetObjectItemCaseSensitive(table_monster(room, id), "hp");
    return cJSON_IsNumber(hp) ? hp->valuedouble : -1;
}

/* Add to patch {"monsters": {id: {"hp": hp, "condition": ...}}}. */
static bool table_put_hp(cJSON *monsters, const char *id, double hp, double max)
{
    cJSON *m = cJSON_AddObjectToObject(monsters, id);
    return m != NULL && cJSON_AddNumberToObject(m, "hp", hp) != NULL &&
           cJSON_AddStringToObject(
               m, "condition", hp * 2 <= max ? "bloodied" : "wounded") != NULL;
}

static pc_err table_action(pc_room *room, const pc_action *act, cJSON **result,
                           pc_error *err, void *arg)
{
    (void)result;
    table_seen *seen = arg;
    if (seen != NULL) {
        seen->actions++;
        seen->last_role = act->role;
        seen->last_had_expected = act->has_expected_seq;
        seen->last_expected = act->expected_seq;
    }
    const cJSON *p = act->payload;
    char text[512];
    if (strcmp(act->type, "join") == 0) {
        snprintf(text, sizeof text,
                 "{\"sheets\":{\"%s\":{\"secret\":\"" GM_CANARY
                 "-SHEET-%s\"}},\"party\":{\"%s\":true}}",
                 act->player, act->player, act->player);
        return pc_update_phase_text(room, text, "a player sits down");
    }
    if (strcmp(act->type, "say") == 0) {
        return pc_room_event(room, "said", p, "someone spoke");
    }
    bool gm_only =
        strcmp(act->type, "add") == 0 || strcmp(act->type, "note") == 0;
    if (gm_only && act->role != PC_ROLE_GM) {
        return pc_error_set(err, PC_ERR_ACTION, "gm_only",
                            "only the game master may %s", act->type);
    }
    if (strcmp(act->type, "add") == 0) {
        const char *id =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "id"));
        const cJSON *hp = cJSON_GetObjectItemCaseSensitive(p, "hp");
        if (id == NULL || !cJSON_IsNumber(hp)) {
            return pc_error_set(err, PC_ERR_ACTION, "bad_payload",
                                "add needs id and hp");
        }
        cJSON *patch = cJSON_CreateObject();
        cJSON *ms = cJSON_AddObjectToObject(patch, "monsters");
        cJSON *m = cJSON_AddObjectToObject(ms, id);
        cJSON_AddNumberToObject(m, "hp", hp->valuedouble);
        cJSON_AddNumberToObject(m, "max", hp->valuedouble);
        cJSON_AddStringToObject(m, "condition", "fresh");
        pc_err rc = pc_update_phase_data(room, patch, "a monster appears");
        cJSON_Delete(patch);
        return rc;
    }
    if (strcmp(act->type, "note") == 0) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(p, "text");
        if (!cJSON_IsString(t)) {
            return pc_error_set(err, PC_ERR_ACTION, "bad_payload",
                                "note needs text");
        }
        cJSON *patch = cJSON_CreateObject();
        cJSON *gm = cJSON_AddObjectToObject(patch, "gm");
        cJSON_AddStringToObject(gm, "note", t->valuestring);
        pc_err rc = pc_update_phase_data(room, patch, "the gm writes a note");
        cJSON_Delete(patch);
        return rc != PC_OK ? rc
                           : pc_room_event_to(room, PC_AUDIENCE_GM, NULL,
                                              "gm.note", p, "a gm note");
    }
    bool area = strcmp(act->type, "area") == 0;
    if (area || strcmp(act->type, "hit") == 0) {
        const cJSON *dmg = cJSON_GetObjectItemCaseSensitive(p, "dmg");
        const cJSON *targets = cJSON_GetObjectItemCaseSensitive(p, "targets");
        const cJSON *one = cJSON_GetObjectItemCaseSensitive(p, "target");
        bool shaped = area ? cJSON_IsArray(targets) : cJSON_IsString(one);
        if (!cJSON_IsNumber(dmg) || !shaped) {
            return pc_error_set(err, PC_ERR_ACTION, "bad_payload",
                                "%s needs targets and dmg", act->type);
        }
        /* Every target in one patch: the validator sees them together. */
        cJSON *patch = cJSON_CreateObject();
        cJSON *ms = cJSON_AddObjectToObject(patch, "monsters");
        const cJSON *t;
        const cJSON *list = area ? targets : p;
        cJSON_ArrayForEach(t, list)
        {
            if (!area && strcmp(t->string, "target") != 0) {
                continue;
            }
            const cJSON *m = table_monster(room, cJSON_GetStringValue(t));
            const cJSON *max = cJSON_GetObjectItemCaseSensitive(m, "max");
            if (m == NULL || !cJSON_IsNumber(max)) {
                cJSON_Delete(patch);
                return pc_error_set(err, PC_ERR_ACTION, "no_target",
                                    "no monster %s", cJSON_GetStringValue(t));
            }
            table_put_hp(ms, t->valuestring,
                         table_hp(room, t->valuestring) - dmg->valuedouble,
                         max->valuedouble);
        }
        pc_err rc =
            pc_update_phase_data(room, patch, area ? "an area spell" : "a hit");
        cJSON_Delete(patch);
        return rc;
    }
    return pc_error_set(err, PC_ERR_ACTION, "unknown_action", "no %s",
                        act->type);
}

/* Hit points never go below zero: one bad target refuses the change. */
static pc_err table_validate(const pc_room *room, const cJSON *proposed,
                             pc_error *why, void *arg)
{
    (void)room;
    (void)arg;
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(proposed, "data"), "monsters");
    const cJSON *m;
    cJSON_ArrayForEach(m, ms)
    {
        const cJSON *hp = cJSON_GetObjectItemCaseSensitive(m, "hp");
        if (cJSON_IsNumber(hp) && hp->valuedouble < 0) {
            return pc_error_set(why, PC_ERR_REJECTED, "hp_below_zero",
                                "%s would fall below zero", m->string);
        }
    }
    return PC_OK;
}

static const pc_phase table_phases[] = {
    {.name = "ROUND", .action = table_action}};
static const char *const table_private[] = {"/gm", "/monsters/*/hp",
                                            "/sheets/{player}", NULL};
static const char *const table_strict[] = {"hit", "area", NULL};
static const pc_game table_game = {.name = "table",
                                   .phases = table_phases,
                                   .nphases = 1,
                                   .validate = table_validate,
                                   .private_paths = table_private,
                                   .strict_actions = table_strict};

#endif
