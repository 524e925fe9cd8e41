/*
 * state.c - readers, the patch builder and the validator of the encounter
 * state document (see state.h).
 *
 * The readers and the validator are two views of one shape: the readers
 * skip what does not fit it, the validator refuses to commit it, so the
 * game's callbacks, which read only committed states, never meet a
 * surprise, and a bot, which reads whatever the network gave it, never
 * trips over one.
 */
#include "encounter/state.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "encounter/encounter.h"
#include "phasecast/error.h"
#include "phasecast/room.h"

/* ---- Settings ---------------------------------------------------------- */

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

encounter_config encounter_settings(void *arg)
{
    encounter_config c;
    encounter_config_init(&c);
    if (arg != NULL) {
        c = *(const encounter_config *)arg;
    }
    c.round_ms = clamp(c.round_ms, 0, ENCOUNTER_DELAY_MAX);
    c.resolution_ms = clamp(c.resolution_ms, 0, ENCOUNTER_DELAY_MAX);
    c.max_rounds = (int)clamp(c.max_rounds, 1, ENCOUNTER_ROUNDS_MAX);
    c.max_heroes = (int)clamp(c.max_heroes, 1, ENCOUNTER_HEROES_MAX);
    return c;
}

/* ---- Readers ----------------------------------------------------------- */

const cJSON *encounter_member(const cJSON *object, const char *key)
{
    if (!cJSON_IsObject(object)) {
        return NULL;
    }
    return cJSON_GetObjectItemCaseSensitive(object, key);
}

bool encounter_is_int(const cJSON *v, double lo, double hi)
{
    return cJSON_IsNumber(v) && v->valuedouble >= lo && v->valuedouble <= hi &&
           v->valuedouble == (double)(int64_t)v->valuedouble;
}

int encounter_int_at(const cJSON *object, const char *key)
{
    const cJSON *v = encounter_member(object, key);
    if (!cJSON_IsNumber(v) ||
        !(v->valuedouble > -1e9 && v->valuedouble < 1e9)) {
        return 0;
    }
    return (int)v->valuedouble;
}

bool encounter_id_ok(const char *id)
{
    size_t n = id == NULL ? 0 : strlen(id);
    if (n == 0 || n > ENCOUNTER_NAME_MAX) {
        return false;
    }
    return strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                      "0123456789_.-") == n;
}

static int by_key(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a;
    const cJSON *y = *(const cJSON *const *)b;
    return strcmp(x->string, y->string);
}

encounter_ids encounter_sorted(const cJSON *object)
{
    encounter_ids ids = {{NULL}, 0};
    const cJSON *item;
    if (!cJSON_IsObject(object)) {
        return ids;
    }
    cJSON_ArrayForEach(item, object)
    {
        if (ids.n < ENCOUNTER_IDS_MAX && cJSON_IsObject(item) &&
            item->string != NULL) {
            ids.item[ids.n++] = item;
        }
    }
    qsort(ids.item, (size_t)ids.n, sizeof ids.item[0], by_key);
    return ids;
}

bool encounter_alive(const cJSON *entity)
{
    const cJSON *hp = encounter_member(entity, "hp");
    if (cJSON_IsNumber(hp)) {
        return hp->valuedouble > 0;
    }
    const char *c = cJSON_GetStringValue(encounter_member(entity, "condition"));
    return cJSON_IsObject(entity) && c != NULL && strcmp(c, "down") != 0 &&
           strcmp(c, "defeated") != 0;
}

const char *encounter_condition(int hp, int max_hp, bool hero)
{
    if (hp >= max_hp) {
        return "unhurt";
    }
    if (2 * (int64_t)hp > max_hp) {
        return "wounded";
    }
    if (hp > 0) {
        return "bloodied";
    }
    return hero ? "down" : "defeated";
}

int encounter_distance(int x1, int y1, int x2, int y2)
{
    int dx = abs(x1 - x2), dy = abs(y1 - y2);
    return dx > dy ? dx : dy;
}

bool encounter_on_map(int x, int y)
{
    return x >= 0 && x < ENCOUNTER_MAP && y >= 0 && y < ENCOUNTER_MAP;
}

static const cJSON *living_in(const cJSON *group, int x, int y)
{
    const cJSON *e;
    if (!cJSON_IsObject(group)) {
        return NULL;
    }
    cJSON_ArrayForEach(e, group)
    {
        if (encounter_alive(e) && encounter_int_at(e, "x") == x &&
            encounter_int_at(e, "y") == y) {
            return e;
        }
    }
    return NULL;
}

const cJSON *encounter_living_at(const cJSON *data, int x, int y)
{
    const cJSON *e = living_in(encounter_member(data, "heroes"), x, y);
    return e != NULL ? e : living_in(encounter_member(data, "monsters"), x, y);
}

int encounter_count_living(const cJSON *group, int *all)
{
    int living = 0, n = 0;
    const cJSON *e;
    if (cJSON_IsObject(group)) {
        cJSON_ArrayForEach(e, group)
        {
            n++;
            living += encounter_alive(e);
        }
    }
    if (all != NULL) {
        *all = n;
    }
    return living;
}

/* ---- The patch builder ------------------------------------------------- */

encounter_patch encounter_patch_new(void)
{
    encounter_patch p = {cJSON_CreateObject(), true};
    p.ok = p.root != NULL;
    return p;
}

void encounter_put(encounter_patch *p, cJSON *parent, const char *key,
                   cJSON *item)
{
    if (!p->ok || item == NULL || parent == NULL) {
        cJSON_Delete(item);
        p->ok = false;
        return;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(parent, key);
    if (!cJSON_AddItemToObject(parent, key, item)) {
        cJSON_Delete(item);
        p->ok = false;
    }
}

void encounter_put_int(encounter_patch *p, cJSON *parent, const char *key,
                       int v)
{
    encounter_put(p, parent, key, cJSON_CreateNumber(v));
}

void encounter_put_str(encounter_patch *p, cJSON *parent, const char *key,
                       const char *s)
{
    encounter_put(p, parent, key, cJSON_CreateString(s));
}

void encounter_put_bool(encounter_patch *p, cJSON *parent, const char *key,
                        bool v)
{
    encounter_put(p, parent, key, cJSON_CreateBool(v));
}

void encounter_put_null(encounter_patch *p, cJSON *parent, const char *key)
{
    encounter_put(p, parent, key, cJSON_CreateNull());
}

cJSON *encounter_object_at(encounter_patch *p, cJSON *parent, const char *key)
{
    cJSON *o =
        parent == NULL ? NULL : cJSON_GetObjectItemCaseSensitive(parent, key);
    if (o == NULL) {
        o = cJSON_CreateObject();
        encounter_put(p, parent, key, o);
    }
    return p->ok ? o : NULL;
}

cJSON *encounter_entity_patch(encounter_patch *p, bool hero, const char *id)
{
    return encounter_object_at(
        p, encounter_object_at(p, p->root, hero ? "heroes" : "monsters"), id);
}

void encounter_put_hp(encounter_patch *p, cJSON *ep, const cJSON *entity,
                      int hp, bool hero, int round)
{
    int max_hp = encounter_int_at(entity, "max_hp");
    hp = hp < 0 ? 0 : hp > max_hp ? max_hp : hp;
    encounter_put_int(p, ep, "hp", hp);
    encounter_put_str(p, ep, "condition",
                      encounter_condition(hp, max_hp, hero));
    if (hp == 0 && encounter_alive(entity)) {
        encounter_put_int(p, ep, "fell", round);
    } else if (hp > 0 && encounter_member(entity, "fell") != NULL) {
        encounter_put_null(p, ep, "fell");
    }
}

pc_err encounter_patch_done(encounter_patch *p, pc_err rc)
{
    cJSON_Delete(p->root);
    p->root = NULL;
    return rc;
}

/* ---- The invariant ----------------------------------------------------- */

/* What is wrong with one hero or monster, or NULL; *off_map is set when
 * the only thing wrong is a cell off the map. */
static const char *entity_wrong(const cJSON *e, bool hero, bool *off_map)
{
    const cJSON *hp = encounter_member(e, "hp");
    const cJSON *max = encounter_member(e, "max_hp");
    const cJSON *x = encounter_member(e, "x"), *y = encounter_member(e, "y");
    const cJSON *sheet = encounter_member(e, "sheet");
    const char *cond = cJSON_GetStringValue(encounter_member(e, "condition"));
    *off_map = false;
    if (!encounter_is_int(max, 1, ENCOUNTER_MONSTER_HP_MAX) ||
        !encounter_is_int(hp, 0, max->valuedouble)) {
        return "hp must be an integer 0..max_hp";
    }
    if (cond == NULL ||
        strcmp(cond, encounter_condition((int)hp->valuedouble,
                                         (int)max->valuedouble, hero)) != 0) {
        return "condition must match hp";
    }
    if (!encounter_is_int(x, -1e9, 1e9) || !encounter_is_int(y, -1e9, 1e9)) {
        return "x and y must be integers";
    }
    if (hero && (!cJSON_IsObject(sheet) ||
                 !encounter_is_int(encounter_member(sheet, "slots"), 0,
                                   ENCOUNTER_HERO_SLOTS))) {
        return "a hero's sheet must have 0 or more slots";
    }
    if (!hero && (!encounter_is_int(encounter_member(e, "armour"), 0,
                                    ENCOUNTER_ARMOUR_MAX) ||
                  !cJSON_IsString(encounter_member(e, "name")))) {
        return "a monster has a name and armour 0..30";
    }
    if (!encounter_on_map((int)x->valuedouble, (int)y->valuedouble)) {
        *off_map = true;
        return "every hero and monster must stand on the 10 x 10 map";
    }
    return NULL;
}

pc_err encounter_validate_state(const pc_room *room, const cJSON *proposed,
                                pc_error *why, void *arg)
{
    const cJSON *data = encounter_member(proposed, "data");
    bool taken[ENCOUNTER_MAP][ENCOUNTER_MAP] = {{false}};
    (void)room;
    (void)arg;
    for (int g = 0; g < 2; g++) {
        const cJSON *group = encounter_member(data, g ? "monsters" : "heroes");
        const cJSON *e;
        if (group == NULL) {
            continue;
        }
        if (!cJSON_IsObject(group) ||
            cJSON_GetArraySize(group) >
                (g ? ENCOUNTER_MONSTERS_MAX : ENCOUNTER_HEROES_MAX)) {
            return pc_error_set(why, PC_ERR_REJECTED, "invalid_state",
                                "heroes and monsters must be objects of at "
                                "most %d and %d members",
                                ENCOUNTER_HEROES_MAX, ENCOUNTER_MONSTERS_MAX);
        }
        cJSON_ArrayForEach(e, group)
        {
            bool off = false;
            const char *what = entity_wrong(e, g == 0, &off);
            if (what != NULL) {
                return pc_error_set(why, PC_ERR_REJECTED,
                                    off ? "blocked" : "invalid_state", "%s: %s",
                                    e->string, what);
            }
            int x = encounter_int_at(e, "x"), y = encounter_int_at(e, "y");
            if (encounter_alive(e) && taken[x][y]) {
                return pc_error_set(why, PC_ERR_REJECTED, "blocked",
                                    "%s: cell (%d, %d) is taken", e->string, x,
                                    y);
            }
            taken[x][y] = taken[x][y] || encounter_alive(e);
        }
    }
    if (!encounter_is_int(encounter_member(data, "round"), 0,
                          ENCOUNTER_ROUNDS_MAX) &&
        encounter_member(data, "round") != NULL) {
        return pc_error_set(why, PC_ERR_REJECTED, "invalid_state",
                            "round must be an integer 0..%d",
                            ENCOUNTER_ROUNDS_MAX);
    }
    return PC_OK;
}
