/*
 * bot.c - the encounter bots (see bot.h): a hero that heals, thunderwaves,
 * attacks or moves from its own replica, and a game master that places
 * monsters, starts the encounter and writes notes.
 *
 * The decisions read the document tolerantly (a missing or mistyped
 * member reads as absent) and mirror the rules only as far as choosing a
 * legal action needs: the spell's pushes are simulated so the bot does not
 * cast one the validator would refuse. The game has the last word; a
 * refusal that comes from racing other players is expected (bot.h).
 */
#include "encounter/bot.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "encounter/encounter.h"
#include "phasecast/client.h"
#include "phasecast/error.h"

/* Most entities the bots consider (the map has 100 cells). */
#define ENTITIES_MAX (ENCOUNTER_MAP * ENCOUNTER_MAP)
/* Reach of the spell's target cell and of a move (Chebyshev). */
#define SPELL_RANGE 4
#define MOVE_RANGE  2

/* One hero or monster as the replica shows it. */
typedef struct entity {
    const char *id;
    bool monster;
    bool living; /* hero not down, monster not defeated */
    int x, y;
    int hp;   /* heroes only (public); -1 when unknown */
    int rank; /* how hurt it looks: 0 bloodied, 1 wounded, 2 unhurt */
} entity;

static const cJSON *member(const cJSON *o, const char *key)
{
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

static int int_at(const cJSON *o, const char *key, int dflt)
{
    const cJSON *v = member(o, key);
    if (!cJSON_IsNumber(v) || v->valuedouble < -1e9 || v->valuedouble > 1e9) {
        return dflt;
    }
    return (int)v->valuedouble;
}

static const char *str_at(const cJSON *o, const char *key)
{
    const cJSON *v = member(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool str_is(const cJSON *o, const char *key, const char *want)
{
    const char *s = str_at(o, key);
    return s != NULL && strcmp(s, want) == 0;
}

static int iabs(int v)
{
    return v < 0 ? -v : v;
}

static int sign(int v)
{
    return (v > 0) - (v < 0);
}

static int chebyshev(int ax, int ay, int bx, int by)
{
    int dx = iabs(ax - bx), dy = iabs(ay - by);
    return dx > dy ? dx : dy;
}

static bool on_map(int x, int y)
{
    return x >= 0 && y >= 0 && x < ENCOUNTER_MAP && y < ENCOUNTER_MAP;
}

/* splitmix64 */
static uint64_t next_random(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int rank_of(const char *condition)
{
    if (condition == NULL) {
        return 2;
    }
    return strcmp(condition, "bloodied") == 0  ? 0
           : strcmp(condition, "wounded") == 0 ? 1
                                               : 2;
}

/* The heroes then the monsters of data, each map in its key order. */
static int entities_of(const cJSON *data, entity *out)
{
    int n = 0;
    for (int pass = 0; pass < 2; pass++) {
        const cJSON *e;
        cJSON_ArrayForEach(e, member(data, pass ? "monsters" : "heroes"))
        {
            if (n == ENTITIES_MAX || !cJSON_IsObject(e)) {
                continue;
            }
            const char *cond = str_at(e, "condition");
            entity *t = &out[n++];
            t->id = e->string;
            t->monster = pass == 1;
            t->living = cond == NULL || (strcmp(cond, "down") != 0 &&
                                         strcmp(cond, "defeated") != 0);
            t->x = int_at(e, "x", -100);
            t->y = int_at(e, "y", -100);
            t->hp = int_at(e, "hp", -1);
            t->rank = rank_of(cond);
        }
    }
    return n;
}

static bool occupied(const entity *es, int n, int x, int y)
{
    for (int i = 0; i < n; i++) {
        if (es[i].living && es[i].x == x && es[i].y == y) {
            return true;
        }
    }
    return false;
}

/* The thunderwave centred on (x, y) cast from (cx, cy): how many living
 * monsters it catches, or -1 if it catches an ally, pushes anyone off the
 * map or makes two living entities share a cell (the validator would
 * refuse it). me is the caster's index. */
static int wave_score(const entity *es, int n, int me, int x, int y)
{
    int nx[ENTITIES_MAX], ny[ENTITIES_MAX], caught = 0;
    int cx = es[me].x, cy = es[me].y;
    for (int i = 0; i < n; i++) {
        nx[i] = es[i].x;
        ny[i] = es[i].y;
        if (i == me || !es[i].living || chebyshev(es[i].x, es[i].y, x, y) > 1) {
            continue;
        }
        if (!es[i].monster) {
            return -1; /* it would hurt an ally */
        }
        int dx = sign(es[i].x - x), dy = sign(es[i].y - y);
        if (dx == 0 && dy == 0) {
            dx = sign(x - cx);
            dy = sign(y - cy);
        }
        nx[i] += dx;
        ny[i] += dy;
        if (!on_map(nx[i], ny[i])) {
            return -1;
        }
        caught++;
    }
    for (int i = 0; i < n; i++) {
        for (int j = i + 1; j < n; j++) {
            if (es[i].living && es[j].living && nx[i] == nx[j] &&
                ny[i] == ny[j]) {
                return -1;
            }
        }
    }
    return caught;
}

static cJSON *cell_payload(int x, int y)
{
    cJSON *p = cJSON_CreateObject();
    if (p == NULL || cJSON_AddNumberToObject(p, "x", x) == NULL ||
        cJSON_AddNumberToObject(p, "y", y) == NULL) {
        cJSON_Delete(p);
        return NULL;
    }
    return p;
}

static cJSON *target_payload(const char *id)
{
    cJSON *p = cJSON_CreateObject();
    if (p == NULL || cJSON_AddStringToObject(p, "target", id) == NULL) {
        cJSON_Delete(p);
        return NULL;
    }
    return p;
}

/* A free cell up to MOVE_RANGE towards (tx, ty), not onto it; false if
 * the hero cannot get closer. */
static bool step_towards(const entity *es, int n, int me, int tx, int ty,
                         int *ox, int *oy)
{
    int best = chebyshev(es[me].x, es[me].y, tx, ty);
    bool found = false;
    for (int dy = -MOVE_RANGE; dy <= MOVE_RANGE; dy++) {
        for (int dx = -MOVE_RANGE; dx <= MOVE_RANGE; dx++) {
            int x = es[me].x + dx, y = es[me].y + dy;
            int d = chebyshev(x, y, tx, ty);
            if (on_map(x, y) && d >= 1 && d < best && !occupied(es, n, x, y)) {
                best = d;
                *ox = x;
                *oy = y;
                found = true;
            }
        }
    }
    return found;
}

pc_err encounter_bot_choose(const cJSON *state, const char *me,
                            uint64_t random_value, const char **type,
                            cJSON **payload)
{
    if (state == NULL || me == NULL || type == NULL || payload == NULL) {
        return PC_ERR_INVALID;
    }
    const cJSON *data = member(state, "data");
    const cJSON *self = member(member(data, "heroes"), me);
    const cJSON *acted = member(self, "acted"); /* null is absent (RFC 7386) */
    if (!str_is(state, "phase", "ROUND") || !cJSON_IsObject(self) ||
        (acted != NULL && !cJSON_IsNull(acted))) {
        return PC_ERR_NOT_FOUND;
    }
    entity local[ENTITIES_MAX];
    int n = entities_of(data, local), i_me = -1, monsters = 0;
    for (int i = 0; i < n; i++) {
        if (!local[i].monster && strcmp(local[i].id, me) == 0) {
            i_me = i;
        }
        monsters += local[i].monster && local[i].living;
    }
    const entity *mine = i_me >= 0 ? &local[i_me] : NULL;
    if (mine == NULL || !mine->living) {
        return PC_ERR_NOT_FOUND;
    }
    if (monsters == 0) {
        /* The others felled the last one: end the round now rather than
         * leave it to the timer. */
        *type = "defend";
        *payload = NULL;
        return PC_OK;
    }
    int slots = int_at(member(self, "sheet"), "slots", 0);
    cJSON *p = NULL;

    /* 1. Heal the most hurt bloodied hero (itself included). */
    const entity *hurt = NULL;
    for (int i = 0; i < n && slots > 0; i++) {
        const entity *e = &local[i];
        if (!e->monster && e->living && e->rank == 0 &&
            (hurt == NULL || (e->hp >= 0 && e->hp < hurt->hp))) {
            hurt = e;
        }
    }
    if (hurt != NULL) {
        *type = "heal";
        p = target_payload(hurt->id);
        goto done;
    }

    /* 2. Thunderwave the cell in range catching the most monsters (2+). */
    int best = 1, bx = 0, by = 0;
    for (int y = mine->y - SPELL_RANGE; slots > 0 && y <= mine->y + SPELL_RANGE;
         y++) {
        for (int x = mine->x - SPELL_RANGE; x <= mine->x + SPELL_RANGE; x++) {
            int s = on_map(x, y) ? wave_score(local, n, i_me, x, y) : -1;
            if (s > best) {
                best = s;
                bx = x;
                by = y;
            }
        }
    }
    if (best >= 2) {
        *type = "spell";
        p = cell_payload(bx, by);
        goto done;
    }

    /* 3. The weakest-looking monster: the most hurt, then the first id. */
    const entity *weak = NULL;
    const entity *near = NULL;
    for (int i = 0; i < n; i++) {
        const entity *e = &local[i];
        if (!e->monster || !e->living) {
            continue;
        }
        if (weak == NULL || e->rank < weak->rank ||
            (e->rank == weak->rank && strcmp(e->id, weak->id) < 0)) {
            weak = e;
        }
        if (near == NULL || chebyshev(e->x, e->y, mine->x, mine->y) <
                                chebyshev(near->x, near->y, mine->x, mine->y)) {
            near = e;
        }
    }
    /* Now and then, with a slot left to cast, close in instead: the spell
     * needs monsters within reach. */
    int mx = 0, my = 0;
    if (slots > 0 && random_value % 4 == 0 &&
        chebyshev(near->x, near->y, mine->x, mine->y) > SPELL_RANGE &&
        step_towards(local, n, i_me, near->x, near->y, &mx, &my)) {
        *type = "move";
        p = cell_payload(mx, my);
        goto done;
    }
    *type = "attack";
    p = target_payload(weak->id);
done:
    if (p == NULL) {
        return PC_ERR_NOMEM;
    }
    *payload = p;
    return PC_OK;
}

bool encounter_bot_race_code(pc_err rc, const char *code)
{
    static const char *const races[] = {
        "conflict", "already_acted", "target_defeated",     "target_down",
        "blocked",  "game_over",     "no_actions_in_phase", "wrong_phase"};
    if (rc == PC_ERR_CONFLICT || rc == PC_ERR_PHASE) {
        return true;
    }
    for (size_t i = 0; code != NULL && i < sizeof races / sizeof races[0];
         i++) {
        if (strcmp(code, races[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- the steps ------------------------------------------------------- */

/* What a decision function needs: the bot and where to note the action. */
typedef struct decision {
    encounter_hero_bot *hero;
    encounter_gm_bot *gm;
    encounter_bot_report *out;
} decision;

static void describe(encounter_bot_report *out, const char *type,
                     const cJSON *payload)
{
    const char *target = str_at(payload, "target");
    const char *id = str_at(payload, "id");
    if (target != NULL || id != NULL) {
        snprintf(out->what, sizeof out->what, "%s %s", type,
                 target != NULL ? target : id);
    } else if (member(payload, "x") != NULL) {
        snprintf(out->what, sizeof out->what, "%s %d,%d", type,
                 int_at(payload, "x", -1), int_at(payload, "y", -1));
    } else {
        snprintf(out->what, sizeof out->what, "%s", type);
    }
}

static pc_err decide(pc_client *c, const cJSON *state, uint64_t seq,
                     const char **type, cJSON **payload, void *arg)
{
    (void)c;
    (void)seq;
    decision *d = arg;
    pc_err rc =
        d->hero != NULL
            ? encounter_bot_choose(state, d->hero->me,
                                   next_random(&d->hero->rng), type, payload)
            : encounter_gm_choose(state, d->gm, type, payload);
    if (rc == PC_OK) {
        d->out->type = *type;
        describe(d->out, *type, *payload);
    }
    return rc;
}

/* Act through the retry helper; fill out; move *next_at on. */
static pc_err step(pc_client *c, decision *d, uint64_t *next_at, pc_error *err)
{
    encounter_bot_report *out = d->out;
    memset(out, 0, sizeof *out);
    uint64_t at = pc_client_seq(c);
    if (at < *next_at) {
        return PC_OK;
    }
    pc_error e = {0};
    uint64_t seq = 0;
    pc_err rc = pc_client_act_retry(c, decide, d, ENCOUNTER_BOT_RETRIES, NULL,
                                    &seq, &e);
    if (rc == PC_ERR_NOT_FOUND && out->type == NULL) {
        return PC_OK; /* nothing to do now */
    }
    if (rc == PC_OK) {
        out->applied = true;
        out->seq = seq;
        *next_at = seq;
        return PC_OK;
    }
    if (out->type == NULL) { /* the decision itself failed */
        if (err != NULL) {
            *err = e;
        }
        return rc;
    }
    out->refusal = e;
    *next_at = (pc_client_seq(c) > at ? pc_client_seq(c) : at) + 1;
    /* After a conflict the replica caught up and there was nothing left
     * to do (the round ended, it acted meanwhile): a race lost too. */
    if (encounter_bot_race_code(rc, e.code) || rc == PC_ERR_NOT_FOUND) {
        out->raced = true;
        return PC_OK;
    }
    if (err != NULL) {
        *err = e;
    }
    return rc;
}

void encounter_hero_bot_init(encounter_hero_bot *b, const char *me,
                             uint64_t seed)
{
    memset(b, 0, sizeof *b);
    b->me = me;
    b->rng = seed;
}

pc_err encounter_bot_step(pc_client *c, encounter_hero_bot *b,
                          encounter_bot_report *out, pc_error *err)
{
    if (c == NULL || b == NULL || b->me == NULL || out == NULL) {
        return pc_error_set(err, PC_ERR_INVALID, NULL,
                            "encounter_bot_step needs a client, a bot and "
                            "a report");
    }
    decision d = {.hero = b, .out = out};
    return step(c, &d, &b->next_at, err);
}

/* ---- the game master ------------------------------------------------- */

static const encounter_monster_spec builtin[] = {
    {"m1", "goblin", 12, 13, 3, 2, "cowardly: flees when bloodied"},
    {"m2", "goblin", 12, 13, 6, 2, "carries the cellar key"},
    {"m3", "ogre", 30, 11, 5, 0, "the goblins' boss; hates fire"},
};

void encounter_gm_bot_init(encounter_gm_bot *b, int heroes, uint64_t seed)
{
    memset(b, 0, sizeof *b);
    b->monsters = builtin;
    b->nmonsters = sizeof builtin / sizeof builtin[0];
    b->heroes = heroes;
    b->rng = seed;
}

static cJSON *monster_payload(const encounter_monster_spec *m)
{
    cJSON *p = cJSON_CreateObject();
    if (p == NULL || cJSON_AddStringToObject(p, "id", m->id) == NULL ||
        cJSON_AddStringToObject(p, "name", m->name) == NULL ||
        cJSON_AddNumberToObject(p, "hp", m->hp) == NULL ||
        cJSON_AddNumberToObject(p, "armour", m->armour) == NULL ||
        cJSON_AddNumberToObject(p, "x", m->x) == NULL ||
        cJSON_AddNumberToObject(p, "y", m->y) == NULL ||
        (m->note != NULL &&
         cJSON_AddStringToObject(p, "note", m->note) == NULL)) {
        cJSON_Delete(p);
        return NULL;
    }
    return p;
}

pc_err encounter_gm_choose(const cJSON *state, encounter_gm_bot *b,
                           const char **type, cJSON **payload)
{
    if (state == NULL || b == NULL || type == NULL || payload == NULL) {
        return PC_ERR_INVALID;
    }
    const cJSON *data = member(state, "data");
    const encounter_monster_spec *list =
        b->monsters != NULL ? b->monsters : builtin;
    size_t count =
        b->monsters != NULL ? b->nmonsters : sizeof builtin / sizeof builtin[0];
    if (str_is(state, "phase", "SETUP")) {
        for (size_t i = 0; i < count; i++) {
            if (member(member(data, "monsters"), list[i].id) == NULL) {
                *type = "add_monster";
                *payload = monster_payload(&list[i]);
                return *payload != NULL ? PC_OK : PC_ERR_NOMEM;
            }
        }
        if (cJSON_GetArraySize(member(data, "heroes")) < b->heroes) {
            return PC_ERR_NOT_FOUND;
        }
        *type = "start";
        *payload = NULL;
        return PC_OK;
    }
    int round = int_at(data, "round", 0);
    if (!str_is(state, "phase", "ROUND") || round == b->noted_round) {
        return PC_ERR_NOT_FOUND;
    }
    b->noted_round = round;
    if (next_random(&b->rng) % 2 != 0) {
        return PC_ERR_NOT_FOUND;
    }
    char text[256];
    snprintf(text, sizeof text, "%s %d: round %d",
             b->note_prefix != NULL ? b->note_prefix : "GM note", ++b->notes,
             round);
    cJSON *p = cJSON_CreateObject();
    if (p == NULL || cJSON_AddStringToObject(p, "text", text) == NULL) {
        cJSON_Delete(p);
        return PC_ERR_NOMEM;
    }
    *type = "note";
    *payload = p;
    return PC_OK;
}

pc_err encounter_gm_step(pc_client *c, encounter_gm_bot *b,
                         encounter_bot_report *out, pc_error *err)
{
    if (c == NULL || b == NULL || out == NULL) {
        return pc_error_set(err, PC_ERR_INVALID, NULL,
                            "encounter_gm_step needs a client, a bot and a "
                            "report");
    }
    decision d = {.gm = b, .out = out};
    return step(c, &d, &b->next_at, err);
}
