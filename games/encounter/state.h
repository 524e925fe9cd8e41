/*
 * state.h - reading and patching the encounter state document, the rules'
 * small arithmetic (conditions, distances) and the invariant every
 * committed state keeps; shared by the game's files (encounter.c, rules.c,
 * gm.c) and usable by a bot on its replica. Not installed: the game's
 * public surface is encounter.h.
 *
 * The readers tolerate any document: members of the wrong type read as
 * absent or 0, so they are safe on a replica received over the network
 * (where hidden members are simply missing). They never allocate. The
 * patch builder turns a run of allocations into one check: after the
 * first failure every further addition is dropped and the patch reports
 * not ok. None of this changes a room; encounter_validate_state is the
 * game's validator, which the framework calls. docs/games/encounter.md
 * describes the document.
 */
#ifndef PHASECAST_GAMES_ENCOUNTER_STATE_H
#define PHASECAST_GAMES_ENCOUNTER_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "encounter/encounter.h"
#include "phasecast/error.h"
#include "phasecast/room.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Phase names. */
#define ENCOUNTER_SETUP      "SETUP"
#define ENCOUNTER_ROUND      "ROUND"
#define ENCOUNTER_RESOLUTION "RESOLUTION"
#define ENCOUNTER_VICTORY    "VICTORY"
#define ENCOUNTER_DEFEAT     "DEFEAT"

/* Hero numbers (docs/games/encounter.md "Rules"). */
#define ENCOUNTER_HERO_HP        24
#define ENCOUNTER_HERO_SLOTS     2
#define ENCOUNTER_OBJECTIVE_MAX  200  /* bytes of a secret objective */
#define ENCOUNTER_NOTE_MAX       1000 /* bytes of a note (GM or monster) */
#define ENCOUNTER_MONSTER_HP_MAX 1000000
#define ENCOUNTER_ARMOUR_MAX     30

/* Most members encounter_sorted returns: every hero and monster fits. */
#define ENCOUNTER_IDS_MAX (ENCOUNTER_MONSTERS_MAX + ENCOUNTER_HEROES_MAX)

/* encounter_settings - the room's settings (its user pointer, or the
 * defaults), clamped into the ranges encounter_config_check accepts. */
encounter_config encounter_settings(void *arg);

/* encounter_member - object[key], case-sensitive; NULL for a NULL or
 * non-object. */
const cJSON *encounter_member(const cJSON *object, const char *key);

/* encounter_int_at - object[key] as an int, or 0 when it is not a number
 * within +-1e9. */
int encounter_int_at(const cJSON *object, const char *key);

/* encounter_is_int - v is a number with an integral value in lo..hi. */
bool encounter_is_int(const cJSON *v, double lo, double hi);

/* encounter_id_ok - id is 1..ENCOUNTER_NAME_MAX bytes of [A-Za-z0-9_.-]. */
bool encounter_id_ok(const char *id);

/* The members of an object sorted by key (byte order), at most
 * ENCOUNTER_IDS_MAX; items borrowed from the document. */
typedef struct encounter_ids {
    const cJSON *item[ENCOUNTER_IDS_MAX];
    int n;
} encounter_ids;

/* encounter_sorted - the object members of object, sorted by key. */
encounter_ids encounter_sorted(const cJSON *object);

/* encounter_alive - the entity (hero or monster) has hp > 0. A hidden hp
 * (a monster in a player's replica) counts by its public condition. */
bool encounter_alive(const cJSON *entity);

/* encounter_condition - the public condition of hp out of max_hp:
 * "unhurt" (hp == max_hp), "wounded" (2 * hp > max_hp), "bloodied"
 * (hp > 0), then "down" for a hero or "defeated" for a monster. */
const char *encounter_condition(int hp, int max_hp, bool hero);

/* encounter_distance - Chebyshev distance between two cells. */
int encounter_distance(int x1, int y1, int x2, int y2);

/* encounter_on_map - 0 <= x, y < ENCOUNTER_MAP. */
bool encounter_on_map(int x, int y);

/* encounter_living_at - the living hero or monster on (x, y), or NULL. */
const cJSON *encounter_living_at(const cJSON *data, int x, int y);

/* encounter_count_living - how many heroes (or monsters) are alive; *all
 * (may be NULL) receives how many there are. */
int encounter_count_living(const cJSON *group, int *all);

/* A merge patch under construction: root is the patch, ok turns false at
 * the first failed allocation. Free root with encounter_patch_done. */
typedef struct encounter_patch {
    cJSON *root;
    bool ok;
} encounter_patch;

/* encounter_patch_new - an empty patch ({}). */
encounter_patch encounter_patch_new(void);

/* encounter_put - add item (owned; dropped on failure) under key of
 * parent, replacing a member of that name already in the patch. */
void encounter_put(encounter_patch *p, cJSON *parent, const char *key,
                   cJSON *item);
void encounter_put_int(encounter_patch *p, cJSON *parent, const char *key,
                       int v);
void encounter_put_str(encounter_patch *p, cJSON *parent, const char *key,
                       const char *s);
void encounter_put_bool(encounter_patch *p, cJSON *parent, const char *key,
                        bool v);
void encounter_put_null(encounter_patch *p, cJSON *parent, const char *key);

/* encounter_object_at - parent's object member key, created empty if
 * absent; NULL once the patch has failed. */
cJSON *encounter_object_at(encounter_patch *p, cJSON *parent, const char *key);

/* encounter_entity_patch - the patch's object for heroes.<id> (hero) or
 * monsters.<id>, created empty if absent; NULL once the patch failed. */
cJSON *encounter_entity_patch(encounter_patch *p, bool hero, const char *id);

/*
 * encounter_put_hp - into ep (an entity's patch object), hp and the
 * condition it gives for entity (whose max_hp is read from the state);
 * when hp reaches 0 from above, "fell": round (the round it fell in, for
 * RESOLUTION's announcements); when a fallen entity gets hp back, "fell"
 * is removed. hp is clamped to 0..max_hp.
 */
void encounter_put_hp(encounter_patch *p, cJSON *ep, const cJSON *entity,
                      int hp, bool hero, int round);

/* encounter_patch_done - free p's tree and return rc, so that a commit and
 * the cleanup fit one expression. */
pc_err encounter_patch_done(encounter_patch *p, pc_err rc);

/* Commit p and free it. Macros, so that the change records the line (and
 * function) that decided it rather than a helper's. */
#define ENCOUNTER_UPDATE(room, p, reason)                                      \
    encounter_patch_done(                                                      \
        &(p), (p).ok ? pc_update_phase_data((room), (p).root, (reason))        \
                     : PC_ERR_NOMEM)
#define ENCOUNTER_TRANSITION(room, next, p, reason)                            \
    encounter_patch_done(                                                      \
        &(p), (p).ok ? pc_transition((room), (next), (p).root, (reason))       \
                     : PC_ERR_NOMEM)

/*
 * encounter_validate_state - the game's validator (pc_game.validate): at
 * most ENCOUNTER_HEROES_MAX heroes and ENCOUNTER_MONSTERS_MAX monsters;
 * every hero and monster has integer 0 <= hp <= max_hp, a condition that
 * matches, a cell on the map, heroes a sheet with slots >= 0; no two
 * living entities share a cell. Refuses with PC_ERR_REJECTED, code
 * "blocked" (a cell shared or off the map) or "invalid_state" (anything
 * else). Pure apart from filling why.
 */
pc_err encounter_validate_state(const pc_room *room, const cJSON *proposed,
                                pc_error *why, void *arg);

#ifdef __cplusplus
}
#endif

#endif /* PHASECAST_GAMES_ENCOUNTER_STATE_H */
