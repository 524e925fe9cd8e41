/*
 * arenagame.c - the "arena" game of arenagame.h. Every action builds its whole
 * patch first and commits it with one update, so a refusal or a failed
 * allocation changes nothing; an event that follows an update (note)
 * is a second change of its own.
 */
#include "arenagame.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

static char gm_secret[35];
static char player_key[33];

static void hex(char *out, size_t n)
{
    unsigned char raw[16];
    FILE *f = fopen("/dev/urandom", "rb");
    if (f == NULL || fread(raw, 1, sizeof raw, f) != sizeof raw) {
        /* No /dev/urandom: still unguessable enough for a canary. */
        unsigned long x = (unsigned long)time(NULL) ^ (unsigned long)getpid();
        for (size_t i = 0; i < sizeof raw; i++) {
            x = x * 6364136223846793005UL + 1442695040888963407UL;
            raw[i] = (unsigned char)(x >> 56);
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    for (size_t i = 0; i < sizeof raw && 2 * i + 2 < n + 1; i++) {
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    }
}

void arenagame_init(void)
{
    if (gm_secret[0] != '\0') {
        return;
    }
    gm_secret[0] = 'G';
    gm_secret[1] = 'S';
    hex(gm_secret + 2, 32);
    hex(player_key, 32);
}

void arenagame_init_fixed(void)
{
    snprintf(gm_secret, sizeof gm_secret, "GS%032d", 0);
    snprintf(player_key, sizeof player_key, "%032d", 0);
}

const char *arenagame_gm_secret(void)
{
    return gm_secret;
}

void arenagame_player_secret(const char *name, char *buf)
{
    snprintf(buf, ARENAGAME_SECRET_MAX, "PS%s-%.32s", player_key, name);
}

/* ---- reading the state ---------------------------------------------- */

static const cJSON *member(const cJSON *obj, const char *key)
{
    return key != NULL ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

static const cJSON *monster(const pc_room *room, const char *id)
{
    return member(member(pc_room_data(room), "monsters"), id);
}

static double number(const cJSON *obj, const char *key, double dflt)
{
    const cJSON *v = member(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* ---- building patches ------------------------------------------------ */

/* Commit patch (NULL: out of memory) with reason; deletes it. */
static pc_err commit(pc_room *room, cJSON *patch, const char *reason)
{
    if (patch == NULL) {
        return PC_ERR_NOMEM;
    }
    pc_err rc = pc_update_phase_data(room, patch, reason);
    cJSON_Delete(patch);
    return rc;
}

/* {k1: {k2: value}} with value taken over; NULL when out of memory (value
 * deleted then). */
static cJSON *nest2(const char *k1, const char *k2, cJSON *value)
{
    cJSON *patch = cJSON_CreateObject();
    cJSON *inner = cJSON_AddObjectToObject(patch, k1);
    if (value == NULL || inner == NULL ||
        !cJSON_AddItemToObject(inner, k2, value)) {
        cJSON_Delete(value);
        cJSON_Delete(patch);
        return NULL;
    }
    return patch;
}

static const char *condition(double hp, double max)
{
    return hp >= max ? "fresh" : hp * 2 <= max ? "bloodied" : "wounded";
}

/* Add {"hp", "condition"} (and "max" when with_max) for id to monsters. */
static bool put_monster(cJSON *monsters, const char *id, double hp, double max,
                        bool with_max)
{
    cJSON *m = cJSON_CreateObject();
    if (m == NULL || !cJSON_AddItemToObject(monsters, id, m)) {
        cJSON_Delete(m);
        return false;
    }
    return cJSON_AddNumberToObject(m, "hp", hp) != NULL &&
           (!with_max || cJSON_AddNumberToObject(m, "max", max) != NULL) &&
           cJSON_AddStringToObject(m, "condition", condition(hp, max)) != NULL;
}

/* ---- actions ------------------------------------------------------------ */

static pc_err act_join(pc_room *room, const pc_action *act)
{
    char secret[ARENAGAME_SECRET_MAX];
    arenagame_player_secret(act->player, secret);
    cJSON *patch = cJSON_CreateObject();
    cJSON *sheets = cJSON_AddObjectToObject(patch, "sheets");
    cJSON *sheet = cJSON_CreateObject();
    cJSON *party = cJSON_AddObjectToObject(patch, "party");
    bool ok = sheets != NULL && sheet != NULL &&
              cJSON_AddItemToObject(sheets, act->player, sheet);
    if (!ok) {
        cJSON_Delete(sheet);
    }
    ok = ok && cJSON_AddStringToObject(sheet, "secret", secret) != NULL &&
         cJSON_AddNumberToObject(sheet, "slots", 2) != NULL && party != NULL &&
         cJSON_AddTrueToObject(party, act->player) != NULL;
    if (!ok) {
        cJSON_Delete(patch);
        patch = NULL;
    }
    return commit(room, patch, "a player sits down");
}

static pc_err act_add(pc_room *room, const pc_action *act, pc_error *err)
{
    const char *id = cJSON_GetStringValue(member(act->payload, "id"));
    const cJSON *hp = member(act->payload, "hp");
    if (id == NULL || !cJSON_IsNumber(hp)) {
        return pc_error_set(err, PC_ERR_ACTION, "bad_payload",
                            "add needs an id and hp");
    }
    cJSON *patch = cJSON_CreateObject();
    cJSON *ms = cJSON_AddObjectToObject(patch, "monsters");
    cJSON *gm = cJSON_AddObjectToObject(patch, "gm");
    if (ms == NULL || gm == NULL ||
        !put_monster(ms, id, hp->valuedouble, hp->valuedouble, true) ||
        cJSON_AddStringToObject(gm, "secret", gm_secret) == NULL) {
        cJSON_Delete(patch);
        patch = NULL;
    }
    return commit(room, patch, "a monster appears");
}

static pc_err act_note(pc_room *room, const pc_action *act, pc_error *err)
{
    const cJSON *text = member(act->payload, "text");
    if (!cJSON_IsString(text)) {
        return pc_error_set(err, PC_ERR_ACTION, "bad_payload",
                            "note needs text");
    }
    pc_err rc = commit(room, nest2("gm", "note", cJSON_Duplicate(text, 0)),
                       "the game master writes a note");
    if (rc != PC_OK) {
        return rc;
    }
    cJSON *data = cJSON_CreateObject();
    if (data == NULL ||
        !cJSON_AddItemToObject(data, "text", cJSON_Duplicate(text, 0)) ||
        cJSON_AddStringToObject(data, "secret", gm_secret) == NULL) {
        cJSON_Delete(data);
        return PC_ERR_NOMEM;
    }
    rc = pc_room_event_to(room, PC_AUDIENCE_GM, NULL, "gm.note", data,
                          "a note for the game master");
    cJSON_Delete(data);
    return rc;
}

/* hit (one target) and area (a list): one patch for all of them. */
static pc_err act_damage(pc_room *room, const pc_action *act, pc_error *err)
{
    bool area = strcmp(act->type, "area") == 0;
    const cJSON *dmg = member(act->payload, "dmg");
    const cJSON *list = member(act->payload, area ? "targets" : "target");
    if (!cJSON_IsNumber(dmg) ||
        !(area ? cJSON_IsArray(list) : cJSON_IsString(list))) {
        return pc_error_set(err, PC_ERR_ACTION, "bad_payload",
                            "%s needs %s and dmg", act->type,
                            area ? "targets" : "a target");
    }
    cJSON *patch = cJSON_CreateObject();
    cJSON *ms = cJSON_AddObjectToObject(patch, "monsters");
    if (ms == NULL) {
        cJSON_Delete(patch);
        return PC_ERR_NOMEM;
    }
    const cJSON *t = area ? list->child : list;
    for (; t != NULL; t = area ? t->next : NULL) {
        const char *id = cJSON_GetStringValue(t);
        const cJSON *m = monster(room, id);
        if (m == NULL) {
            cJSON_Delete(patch);
            return pc_error_set(err, PC_ERR_ACTION, "no_target",
                                "no such monster");
        }
        if (member(ms, id) != NULL) {
            continue; /* named twice: hit once */
        }
        double max = number(m, "max", 0);
        if (!put_monster(ms, id, number(m, "hp", 0) - dmg->valuedouble, max,
                         false)) {
            cJSON_Delete(patch);
            return PC_ERR_NOMEM;
        }
    }
    return commit(room, patch, area ? "an area spell" : "a hit");
}

static pc_err act_roll(pc_room *room, const pc_action *act)
{
    double d20 = (double)pc_room_random_below(room, 20) + 1;
    pc_err rc =
        commit(room, nest2("rolls", act->player, cJSON_CreateNumber(d20)),
               "a d20 is rolled");
    if (rc != PC_OK || d20 < 20) {
        return rc;
    }
    cJSON *data = cJSON_CreateObject();
    if (data == NULL ||
        cJSON_AddStringToObject(data, "by", act->player) == NULL) {
        cJSON_Delete(data);
        return PC_ERR_NOMEM;
    }
    rc = pc_room_event(room, "critical_hit", data, "a natural 20");
    cJSON_Delete(data);
    return rc;
}

static pc_err act_scout(pc_room *room, const pc_action *act, pc_error *err)
{
    if (act->has_expected_seq && act->expected_seq < pc_room_seq(room)) {
        return pc_error_set(err, PC_ERR_CONFLICT, "conflict",
                            "the room moved since seq %llu",
                            (unsigned long long)act->expected_seq);
    }
    return commit(room, nest2("scouted", act->player, cJSON_CreateTrue()),
                  "a scout reports");
}

static pc_err arena_action(pc_room *room, const pc_action *act, cJSON **result,
                           pc_error *err, void *arg)
{
    (void)result;
    (void)arg;
    const char *type = act->type;
    const cJSON *p = act->payload;
    if (strcmp(type, "join") == 0) {
        return act_join(room, act);
    }
    if (strcmp(type, "add") == 0 || strcmp(type, "note") == 0) {
        if (act->role != PC_ROLE_GM) {
            return pc_error_set(err, PC_ERR_ACTION, "gm_only",
                                "only the game master may do that");
        }
        return type[0] == 'a' ? act_add(room, act, err)
                              : act_note(room, act, err);
    }
    if (strcmp(type, "hit") == 0 || strcmp(type, "area") == 0) {
        return act_damage(room, act, err);
    }
    if (strcmp(type, "roll") == 0) {
        return act_roll(room, act);
    }
    if (strcmp(type, "say") == 0) {
        return pc_room_event(room, "said", p, "someone speaks");
    }
    if (strcmp(type, "whisper") == 0) {
        return pc_room_event_to(room, PC_AUDIENCE_PLAYER,
                                cJSON_GetStringValue(member(p, "to")),
                                "whisper", member(p, "data"), "a whisper");
    }
    if (strcmp(type, "shout") == 0) {
        return pc_room_event(room, cJSON_GetStringValue(member(p, "name")),
                             member(p, "data"),
                             cJSON_GetStringValue(member(p, "reason")));
    }
    if (strcmp(type, "scout") == 0) {
        return act_scout(room, act, err);
    }
    return pc_error_set(err, PC_ERR_ACTION, "unknown_action", "no such action");
}

/* Hit points never below zero: one bad target refuses the whole change. */
static pc_err arena_validate(const pc_room *room, const cJSON *proposed,
                             pc_error *why, void *arg)
{
    (void)room;
    (void)arg;
    const cJSON *m;
    cJSON_ArrayForEach(m, member(member(proposed, "data"), "monsters"))
    {
        if (number(m, "hp", 0) < 0) {
            return pc_error_set(why, PC_ERR_REJECTED, "hp_below_zero",
                                "a monster would fall below zero");
        }
    }
    return PC_OK;
}

static const pc_phase arena_phases[] = {
    {.name = "ROUND", .action = arena_action}};
static const char *const arena_private[] = {"/gm", "/monsters/*/hp",
                                            "/sheets/{player}", NULL};
static const char *const arena_strict[] = {"hit", "area", NULL};
static const pc_game arena = {.name = "arena",
                              .phases = arena_phases,
                              .nphases = 1,
                              .validate = arena_validate,
                              .private_paths = arena_private,
                              .strict_actions = arena_strict};

const pc_game *arenagame(void)
{
    return &arena;
}
