/*
 * reqjoin.c - the request channel's "join" operation: a spectator, a
 * player or the room's game master joins a hosted room (internal;
 * docs/protocol.md "join"). Split from requests.c, which dispatches to
 * it; shared request helpers live in reqfields.c.
 *
 * A player's join is registered, saved (with a log directory) before the
 * game sees it, delivered to the game as its join action, and saved again
 * once committed; a refusal anywhere undoes the registration. A join that
 * repeats an earlier one with the same nonce gets that first reply. A
 * join that was made is answered with a success even when memory runs out
 * building the reply (the smallest one, set aside before).
 */
#include "reqfields.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/room.h"
#include "durable.h"
#include "players.h"
#include "server.h"

/* The game's private-path patterns, so a player can compute the public
 * view of its own replica and check every broadcast sum against it. The
 * patterns say where secrets are, never what they hold. */
static bool add_private_paths(cJSON *r, const pc_game *game)
{
    cJSON *paths = cJSON_AddArrayToObject(r, "private_paths");
    if (paths == NULL) {
        return false;
    }
    for (const char *const *pp = game->private_paths; pp != NULL && *pp != NULL;
         pp++) {
        cJSON *item = cJSON_CreateString(*pp);
        if (item == NULL || !cJSON_AddItemToArray(paths, item)) {
            cJSON_Delete(item);
            return false;
        }
    }
    return true;
}

/* The optional join nonce; false (with o->e set) when it is malformed. The
 * message never repeats the nonce: it hands out a token. */
static bool want_nonce(const cJSON *req, const char **nonce, pc__outcome *o)
{
    if (!pc__req_string(req, "nonce", false, PC_SERVER_NONCE_MAX, nonce, o)) {
        return false;
    }
    if (*nonce != NULL && !pc__players_valid_nonce(*nonce)) {
        pc_error_set(&o->e, PC_ERR_INVALID, "bad_request",
                     "\"nonce\" must match [A-Za-z0-9_-]{%d,%d}",
                     PC_SERVER_NONCE_MIN, PC_SERVER_NONCE_MAX);
        return false;
    }
    return true;
}

/*
 * Register name (joining with nonce, may be NULL) and deliver the game's
 * join action. A repeat of an earlier join - same name, same nonce - is
 * answered with that join's reply and delivers nothing; *p is then the
 * player and o->cached the reply, or NULL if none was remembered.
 */
static bool join_player(pc_server *srv, pc__host *h, const char *name,
                        const char *nonce, bool gm, pc__player **p,
                        pc__outcome *o)
{
    pc__player *known = pc__players_find_name(h->players, name);
    if (known != NULL && nonce != NULL && pc__player_nonce_is(known, nonce)) {
        *p = known;
        o->cached = pc__player_join_reply(known, &o->cached_len);
        o->joined = known; /* remember the fresh reply if none was */
        return true;
    }
    pc_err rc = pc__players_add(h->players, name, nonce, p);
    if (rc == PC_ERR_STATE) {
        pc_error_set(&o->e, rc, "name_taken", "%s has already joined", name);
        return false;
    }
    if (rc == PC_ERR_LIMIT) {
        pc_error_set(&o->e, rc, "room_full", "room %s is full",
                     pc_room_id(h->room));
        return false;
    }
    if (rc != PC_OK) {
        return pc__req_nomem(o);
    }
    if (gm) {
        pc__player_set_gm(*p);
    }
    /* Durable before the game sees it, marked pending until its action
     * has committed: a token a client gets survives a restart, and a join
     * cut short by a crash is undone (durable.c). */
    if (pc__durable_save_players(srv, h, true, NULL) != PC_OK) {
        pc__players_remove_last(h->players);
        pc_error_set(&o->e, PC_ERR_IO, "log_write_failed",
                     "room %s cannot save its players, so the join was not "
                     "made; try again later",
                     pc_room_id(h->room));
        return false;
    }
    /* The game master takes no seat: the game is not asked. */
    if (h->join_action != NULL && !gm) {
        pc_action act = {.player = name, .type = h->join_action};
        pc_error ge = {0};
        cJSON *value = NULL;
        rc = pc_room_action(h->room, &act, &value, &ge);
        cJSON_Delete(value);
        if (rc != PC_OK) {
            pc__players_remove_last(h->players);
            (void)pc__durable_save_players(srv, h, false, NULL);
            pc__req_action_error(h, rc, &ge, o);
            return false;
        }
    }
    if (pc__durable_save_players(srv, h, false, NULL) != PC_OK) {
        /* The join committed but cannot be confirmed on disk: the game has
         * seated the player, so keep it; a restart drops the join only if
         * the room's seq did not move, which it did here unless the join
         * action changed nothing. The same answer is set aside, should
         * building it run out of memory: never `internal`. */
        pc_error_set(&o->e, PC_ERR_IO, "log_write_failed",
                     "the join was made, but room %s cannot confirm it on "
                     "disk; repeat it with the same nonce",
                     pc_room_id(h->room));
        o->applied = true;
        o->spare_code = "log_write_failed";
        snprintf(o->spare_reply, PC__SPARE_REPLY,
                 "{\"v\":%d,\"ok\":false,\"error\":{\"code\":"
                 "\"log_write_failed\",\"message\":\"the join was made, but "
                 "room %s cannot confirm it on disk; repeat it with the same "
                 "nonce\"}}",
                 PC_PROTOCOL_VERSION, pc_room_id(h->room));
        return false;
    }
    if (nonce != NULL) {
        o->joined = *p; /* only a join with a nonce can be repeated */
    }
    return true;
}

/* A join as the game master must carry the room's game-master credential;
 * it is checked before anything else about the join, and never echoed. */
static bool want_gm(pc__host *h, const cJSON *req, pc__outcome *o)
{
    const cJSON *v = pc__req_field(req, "credential");
    int ok = pc__server_gm(h, cJSON_IsString(v) ? v->valuestring : "");
    if (ok < 0) {
        pc_error_set(&o->e, PC_ERR_PERMISSION, "forbidden",
                     "room %s has no game master", pc_room_id(h->room));
    } else if (v == NULL) {
        pc_error_set(&o->e, PC_ERR_PERMISSION, "forbidden",
                     "game-master credential required");
    } else if (ok == 0) {
        pc_error_set(&o->e, PC_ERR_PERMISSION, "forbidden",
                     "wrong game-master credential");
    }
    return ok == 1 && v != NULL;
}

bool pc__req_join(pc_server *srv, const cJSON *req, pc__outcome *o)
{
    const char *role, *name = NULL, *nonce = NULL;
    pc__host *h = pc__req_room(srv, req, o);
    if (h == NULL || !pc__req_string(req, "role", true, 16, &role, o)) {
        return false;
    }
    bool gm = strcmp(role, "gm") == 0;
    bool player = gm || strcmp(role, "player") == 0;
    if (!player && strcmp(role, "spectator") != 0) {
        pc_error_set(&o->e, PC_ERR_INVALID, "bad_request",
                     "\"role\" must be \"player\", \"spectator\" or \"gm\"");
        return false;
    }
    if (gm && !want_gm(h, req, o)) {
        return false;
    }
    pc__player *p = NULL;
    if (player) {
        if (!pc__req_string(req, "name", true, PC_SERVER_NAME_MAX, &name, o)) {
            return false;
        }
        if (!pc__players_valid_name(name)) {
            pc_error_set(&o->e, PC_ERR_INVALID, "bad_request",
                         "\"name\" must match [A-Za-z0-9_.-]{1,%d}",
                         PC_SERVER_NAME_MAX);
            return false;
        }
    }
    /* Checked for spectators too (strict input), though only a player's
     * join can be repeated. */
    if (!want_nonce(req, &nonce, o)) {
        return false;
    }
    if (player) {
        /* Once the join is made it is never answered `internal`: room
         * for the smallest success is set aside before (requests.c). */
        o->spare_reply = cJSON_malloc(PC__SPARE_REPLY);
        if (o->spare_reply == NULL) {
            return pc__req_nomem(o);
        }
        if (!join_player(srv, h, name, nonce, gm, &p, o)) {
            return false;
        }
        if (o->cached != NULL) {
            return true; /* a repeat: the first reply, byte for byte */
        }
        o->applied = true;
        snprintf(o->spare_reply, PC__SPARE_REPLY,
                 "{\"v\":%d,\"ok\":true,\"result\":{\"room\":\"%s\","
                 "\"role\":\"%s\",\"player\":\"%s\",\"token\":\"%s\","
                 "\"seq\":%llu}}",
                 PC_PROTOCOL_VERSION, pc_room_id(h->room), role, name,
                 pc__player_token(p), (unsigned long long)pc_room_seq(h->room));
    }
    cJSON *r = o->result = cJSON_CreateObject();
    if (cJSON_AddStringToObject(r, "room", pc_room_id(h->room)) == NULL ||
        cJSON_AddStringToObject(r, "role", role) == NULL ||
        (player &&
         (cJSON_AddStringToObject(r, "player", name) == NULL ||
          cJSON_AddStringToObject(r, "token", pc__player_token(p)) == NULL)) ||
        cJSON_AddNumberToObject(r, "seq", (double)pc_room_seq(h->room)) ==
            NULL ||
        !add_private_paths(r, pc_room_game(h->room))) {
        /* The player stays registered: its join already reached the game.
         * The answer is the set-aside success (no private_paths); a
         * repeat with the same nonce gets a fresh full reply. */
        return pc__req_nomem(o);
    }
    return true;
}
