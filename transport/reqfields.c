/*
 * reqfields.c - the checks every request operation applies to the members
 * of its request, and the errors they answer with (see reqfields.h).
 */
#include "reqfields.h"

#include <math.h>
#include <string.h>

#include "phasecast/room.h"

bool pc__req_nomem(pc__outcome *o)
{
    pc_error_set(&o->e, PC_ERR_NOMEM, "internal", "out of memory");
    return false;
}

const cJSON *pc__req_field(const cJSON *req, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);
    return cJSON_IsNull(v) ? NULL : v;
}

/* The string member key (1..maxlen bytes), or NULL when absent and not
 * required; false (with o->e set) on error. */
bool pc__req_string(const cJSON *req, const char *key, bool required,
                    size_t maxlen, const char **out, pc__outcome *o)
{
    const cJSON *v = pc__req_field(req, key);
    *out = NULL;
    if (v == NULL) {
        if (required) {
            pc_error_set(&o->e, PC_ERR_INVALID, "bad_request", "missing \"%s\"",
                         key);
        }
        return !required;
    }
    size_t n = cJSON_IsString(v) ? strlen(v->valuestring) : 0;
    if (n == 0 || n > maxlen) {
        pc_error_set(&o->e, PC_ERR_INVALID, "bad_request",
                     "\"%s\" must be a string of 1 to %zu bytes", key, maxlen);
        return false;
    }
    *out = v->valuestring;
    return true;
}

/* A non-negative integer member (at most PC__REQ_SEQ_MAX). */
bool pc__req_uint(const cJSON *req, const char *key, bool required,
                  uint64_t dflt, uint64_t *out, pc__outcome *o)
{
    const cJSON *v = pc__req_field(req, key);
    if (v == NULL) {
        if (required) {
            pc_error_set(&o->e, PC_ERR_INVALID, "bad_request", "missing \"%s\"",
                         key);
            return false;
        }
        *out = dflt;
        return true;
    }
    double d = cJSON_IsNumber(v) ? v->valuedouble : -1;
    if (!(d >= 0 && d <= PC__REQ_SEQ_MAX && d == floor(d))) {
        pc_error_set(&o->e, PC_ERR_INVALID, "bad_request",
                     "\"%s\" must be an integer from 0 to 2^53", key);
        return false;
    }
    *out = (uint64_t)d;
    return true;
}

pc__host *pc__req_room(pc_server *srv, const cJSON *req, pc__outcome *o)
{
    const char *id;
    if (!pc__req_string(req, "room", true, PC_ROOM_ID_MAX, &id, o)) {
        return NULL;
    }
    pc__host *h = pc__server_find_host(srv, id);
    if (h == NULL) {
        pc_error_set(&o->e, PC_ERR_NOT_FOUND, "unknown_room", "no room %s", id);
    }
    return h;
}

/* The player holding the request's token; *p NULL when the token is
 * absent and not required. */
bool pc__req_player(pc__host *h, const cJSON *req, bool required,
                    pc__player **p, pc__outcome *o)
{
    const cJSON *v = pc__req_field(req, "token");
    *p = NULL;
    if (v == NULL) {
        if (required) {
            pc_error_set(&o->e, PC_ERR_PERMISSION, "bad_token",
                         "this request needs a player's token");
        }
        return !required;
    }
    if (!cJSON_IsString(v)) {
        pc_error_set(&o->e, PC_ERR_INVALID, "bad_request",
                     "\"token\" must be a string");
        return false;
    }
    *p = pc__players_find_token(h->players, v->valuestring);
    if (*p == NULL) {
        pc_error_set(&o->e, PC_ERR_PERMISSION, "bad_token",
                     "the token is not valid in room %s", pc_room_id(h->room));
        return false;
    }
    return true;
}

/* Turn a failed pc_room_action into a wire error. */
void pc__req_action_error(pc__host *h, pc_err rc, const pc_error *ge,
                          pc__outcome *o)
{
    pc__server_tell_failed(h); /* a journal failure stops the room */
    const char *code = ge->code[0] != '\0' ? ge->code : pc_err_name(rc);
    const char *msg = ge->message[0] != '\0' ? ge->message : pc_strerror(rc);
    switch (rc) {
    case PC_ERR_PHASE:
        pc_error_set(&o->e, rc, "no_actions_in_phase",
                     "phase %s takes no actions", pc_room_phase(h->room));
        break;
    case PC_ERR_LIMIT:
        pc_error_set(&o->e, rc, "limit_exceeded", "%s", msg);
        break;
    case PC_ERR_CONFLICT: /* the framework's or the game's: same shape */
        pc_error_set(&o->e, rc, "conflict", "%s", msg);
        o->has_seq = true;
        o->seq = pc_room_seq(h->room);
        break;
    case PC_ERR_IO: /* the change log failed: the room refuses changes */
        pc_error_set(&o->e, rc, code,
                     "room %s stopped accepting changes: its change log "
                     "cannot be written; an operator must restart the server",
                     pc_room_id(h->room));
        break;
    case PC_ERR_NOMEM:
    case PC_ERR_REENTRANT:
    case PC_ERR_STATE:
    case PC_ERR_CLOSED:
    case PC_ERR_TAMPERED:
        pc_error_set(&o->e, rc, "internal", "%s", pc_strerror(rc));
        break;
    default: /* the game's refusal (PC_ERR_ACTION), or its validator's */
        pc_error_set(&o->e, rc, code, "%s", msg);
        break;
    }
}
