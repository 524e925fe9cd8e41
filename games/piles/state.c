/*
 * state.c - readers, the patch builder and the validator of the piles
 * state document (see state.h).
 *
 * The readers and the validator are two views of one shape: the readers
 * skip what does not fit it, the validator refuses to commit it, so the
 * game's callbacks, which read only committed states, never meet a
 * surprise, and the bot, which reads whatever the network gave it, never
 * trips over one.
 */
#include "piles/state.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/error.h"
#include "phasecast/room.h"
#include "piles/rules.h"

static const cJSON *member(const cJSON *object, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(object, key);
}

/* ---- Readers ----------------------------------------------------------- */

piles_seats piles_seats_of(const cJSON *data)
{
    piles_seats s = {{NULL}, 0};
    const cJSON *p;
    const cJSON *players = member(data, "players");
    if (!cJSON_IsArray(players)) {
        return s;
    }
    cJSON_ArrayForEach(p, players)
    {
        if (s.n < PILES_PLAYERS && cJSON_IsString(p)) {
            s.name[s.n++] = p->valuestring;
        }
    }
    return s;
}

int piles_seat_of(const piles_seats *s, const char *player)
{
    for (int i = 0; player != NULL && i < s->n; i++) {
        if (strcmp(s->name[i], player) == 0) {
            return i;
        }
    }
    return -1;
}

int piles_int_at(const cJSON *object, const char *key)
{
    const cJSON *v = member(object, key);
    if (!cJSON_IsNumber(v) ||
        !(v->valuedouble > -1e9 && v->valuedouble < 1e9)) {
        return 0;
    }
    return (int)v->valuedouble;
}

int piles_hand_of(const cJSON *data, const char *player, int out[PILES_DECK])
{
    bool held[PILES_DECK] = {false};
    const cJSON *hand = member(member(data, "hands"), player), *piece;
    if (player == NULL || !cJSON_IsObject(hand)) {
        return 0;
    }
    cJSON_ArrayForEach(piece, hand)
    {
        int i = piles_piece_parse(piece->string);
        if (i >= 0 && cJSON_IsTrue(piece)) {
            held[i] = true;
        }
    }
    int n = 0;
    for (int i = 0; i < PILES_DECK; i++) {
        if (held[i]) {
            out[n++] = i;
        }
    }
    return n;
}

int piles_played(const cJSON *array, int out[PILES_PLAY_MAX])
{
    int n = 0;
    const cJSON *id;
    if (!cJSON_IsArray(array)) {
        return 0;
    }
    cJSON_ArrayForEach(id, array)
    {
        int i = piles_piece_parse(cJSON_GetStringValue(id));
        if (i >= 0 && n < PILES_PLAY_MAX) {
            out[n++] = i;
        }
    }
    return n;
}

void piles_pieces_text(const int *pieces, int n, char *buf, size_t cap)
{
    size_t len = 0;
    if (cap == 0) {
        return;
    }
    buf[0] = '\0';
    for (int i = 0; i < n && len + PILES_ID_SIZE + 1 < cap; i++) {
        char id[PILES_ID_SIZE];
        piles_piece_id(pieces[i], id);
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? " " : "", id);
    }
}

/* ---- The patch builder ------------------------------------------------- */

piles_patch piles_patch_new(void)
{
    piles_patch p = {cJSON_CreateObject(), true};
    p.ok = p.root != NULL;
    return p;
}

void piles_put(piles_patch *p, cJSON *parent, const char *key, cJSON *item)
{
    if (!p->ok || item == NULL || parent == NULL ||
        !cJSON_AddItemToObject(parent, key, item)) {
        cJSON_Delete(item);
        p->ok = false;
    }
}

void piles_put_int(piles_patch *p, cJSON *parent, const char *key, int v)
{
    piles_put(p, parent, key, cJSON_CreateNumber(v));
}

void piles_put_str(piles_patch *p, cJSON *parent, const char *key,
                   const char *s)
{
    piles_put(p, parent, key, cJSON_CreateString(s));
}

void piles_put_null(piles_patch *p, cJSON *parent, const char *key)
{
    piles_put(p, parent, key, cJSON_CreateNull());
}

cJSON *piles_object_at(piles_patch *p, cJSON *parent, const char *key)
{
    cJSON *o = cJSON_GetObjectItemCaseSensitive(parent, key);
    if (o == NULL) {
        o = cJSON_CreateObject();
        piles_put(p, parent, key, o);
    }
    return p->ok ? o : NULL;
}

cJSON *piles_id_array(const int *pieces, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a != NULL && i < n; i++) {
        char id[PILES_ID_SIZE];
        piles_piece_id(pieces[i], id);
        cJSON *s = cJSON_CreateString(id);
        if (s == NULL || !cJSON_AddItemToArray(a, s)) {
            cJSON_Delete(s);
            cJSON_Delete(a);
            a = NULL;
        }
    }
    return a;
}

pc_err piles_patch_done(piles_patch *p, pc_err rc)
{
    cJSON_Delete(p->root);
    p->root = NULL;
    return rc;
}

/* ---- The invariant ----------------------------------------------------- */

static bool integer_in(const cJSON *v, int lo, int hi)
{
    return cJSON_IsNumber(v) && v->valuedouble >= lo && v->valuedouble <= hi &&
           v->valuedouble == (int)v->valuedouble;
}

static bool seated(const cJSON *v, const piles_seats *s)
{
    return cJSON_IsString(v) && piles_seat_of(s, v->valuestring) >= 0;
}

/* data.players: absent, or 1..4 distinct non-empty strings. */
static bool players_ok(const cJSON *data, const piles_seats *s)
{
    const cJSON *players = member(data, "players"), *p;
    int i = 0;
    if (players == NULL) {
        return true;
    }
    if (!cJSON_IsArray(players) || cJSON_GetArraySize(players) != s->n ||
        s->n == 0) {
        return false;
    }
    cJSON_ArrayForEach(p, players)
    {
        if (p->valuestring[0] == '\0' ||
            piles_seat_of(s, p->valuestring) != i++) {
            return false;
        }
    }
    return true;
}

/* An optional object mapping seated players to integers in lo..hi. */
static bool seat_map(const cJSON *data, const char *key, const piles_seats *s,
                     int lo, int hi)
{
    const cJSON *map = member(data, key), *v;
    if (map == NULL) {
        return true;
    }
    if (!cJSON_IsObject(map)) {
        return false;
    }
    cJSON_ArrayForEach(v, map)
    {
        if (piles_seat_of(s, v->string) < 0 || !integer_in(v, lo, hi)) {
            return false;
        }
    }
    return true;
}

/* Hands map piece ids to true, plays are arrays of 1..6 piece ids (as many
 * as turn.count, when set), and no piece is in two places at once. */
static bool pieces_ok(const cJSON *data, const piles_seats *s)
{
    bool seen[PILES_DECK] = {false};
    const cJSON *turn = member(data, "turn");
    const cJSON *hands = member(data, "hands"), *hand, *piece;
    const cJSON *plays = member(turn, "plays"), *play;
    const cJSON *count = member(turn, "count");
    if ((hands != NULL && !cJSON_IsObject(hands)) ||
        (plays != NULL && !cJSON_IsObject(plays)) ||
        (count != NULL && !integer_in(count, 1, PILES_PLAY_MAX))) {
        return false;
    }
    cJSON_ArrayForEach(hand, hands)
    {
        if (piles_seat_of(s, hand->string) < 0 || !cJSON_IsObject(hand)) {
            return false;
        }
        cJSON_ArrayForEach(piece, hand)
        {
            int i = piles_piece_parse(piece->string);
            if (i < 0 || seen[i] || !cJSON_IsTrue(piece)) {
                return false;
            }
            seen[i] = true;
        }
    }
    cJSON_ArrayForEach(play, plays)
    {
        int n = cJSON_GetArraySize(play);
        if (piles_seat_of(s, play->string) < 0 || !cJSON_IsArray(play) ||
            n < PILES_PLAY_MIN || n > PILES_PLAY_MAX ||
            (count != NULL && n != (int)count->valuedouble)) {
            return false;
        }
        cJSON_ArrayForEach(piece, play)
        {
            int i = piles_piece_parse(cJSON_GetStringValue(piece));
            if (i < 0 || seen[i]) {
                return false;
            }
            seen[i] = true;
        }
    }
    return true;
}

/* What the phase's callbacks need to find in place. */
static bool phase_ok(const char *phase, const cJSON *data, const piles_seats *s)
{
    const cJSON *turn = member(data, "turn");
    bool declaring = strcmp(phase, "DECLARATION") == 0;
    bool turning = strcmp(phase, "TURN") == 0;
    if ((declaring || turning) && !seated(member(data, "to_act"), s)) {
        return false;
    }
    if (declaring && !seated(member(data, "starter"), s)) {
        return false;
    }
    if (turning && (!seated(member(turn, "lead"), s) ||
                    !integer_in(member(turn, "number"), 1, PILES_HAND))) {
        return false;
    }
    if (strcmp(phase, "TURN_RESULTS") == 0 &&
        (!seated(member(turn, "winner"), s) ||
         !integer_in(member(turn, "count"), 1, PILES_PLAY_MAX))) {
        return false;
    }
    if (strcmp(phase, "LOBBY") != 0 && s->n != PILES_PLAYERS) {
        return false;
    }
    return true;
}

pc_err piles_validate_state(const pc_room *room, const cJSON *proposed,
                            pc_error *why, void *arg)
{
    const cJSON *data = member(proposed, "data");
    const char *phase = cJSON_GetStringValue(member(proposed, "phase"));
    const cJSON *to_act = member(data, "to_act");
    const cJSON *starter = member(data, "starter");
    piles_seats s = piles_seats_of(data);
    const char *what = NULL;
    (void)room;
    (void)arg;
    if (!players_ok(data, &s)) {
        what = "players must be 1 to 4 distinct non-empty ids";
    } else if (!seat_map(data, "scores", &s, -1000000, 1000000) ||
               !seat_map(data, "declared", &s, 0, PILES_HAND) ||
               !seat_map(data, "captured", &s, 0, PILES_HAND) ||
               !seat_map(data, "round_points", &s, -PILES_HAND, PILES_HAND) ||
               !seat_map(data, "bonus", &s, 0, 100)) {
        what = "scores, declared, captured, round_points and bonus map "
               "seated players to integers in range";
    } else if (!pieces_ok(data, &s)) {
        what = "hands hold piece ids (mapped to true) and plays arrays of "
               "1 to 6 piece ids, each piece in one place at most";
    } else if ((to_act != NULL && !seated(to_act, &s)) ||
               (starter != NULL && !seated(starter, &s))) {
        what = "to_act and starter name seated players";
    } else if (phase == NULL || !phase_ok(phase, data, &s)) {
        what = "the phase's members are missing or wrong";
    }
    if (what != NULL) {
        return pc_error_set(why, PC_ERR_REJECTED, "bad_state", "%s", what);
    }
    return PC_OK;
}
