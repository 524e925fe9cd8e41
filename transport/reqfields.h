/*
 * reqfields.h - what every request operation shares: the outcome it
 * produces and the checks on the members of its request (internal;
 * requests.c runs the operations, docs/protocol.md lists the field rules).
 *
 * Each check reads one member of an untrusted request object, checks its
 * presence, type and size, and on failure fills the outcome's error with
 * the wire code the protocol names for it (bad_request, unknown_room,
 * bad_token), never repeating a secret the request carried. A member
 * whose value is null counts as absent. Loop thread, like the requests.
 */
#ifndef PC_TRANSPORT_REQFIELDS_H
#define PC_TRANSPORT_REQFIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "phasecast/error.h"
#include "phasecast/room.h"
#include "phasecast/server.h"

#include "metrics.h"
#include "players.h"
#include "server.h"

/* Largest seq or limit a request may name: integers cJSON keeps exact. */
#define PC__REQ_SEQ_MAX 9007199254740992.0

/* What an operation produced: a result, or an error in e. */
typedef struct pc__outcome {
    cJSON *result;
    pc_error e;
    pc__player *remember_for; /* action replies: cache under (player, id) */
    const char *action_id;
    pc__player *joined; /* a successful join: remember its reply */
    const char *cached; /* a remembered reply to send as it is */
    size_t cached_len;
    pc__metrics_op op;       /* the operation, for the metrics */
    uint64_t repair_changes; /* changes a `changes` reply carries */
    bool has_seq; /* a conflict: the error carries the room's seq ... */
    uint64_t seq; /* ... this one, to retry from */
    /* An action the room applied, or a join that was made, is never
     * answered `internal` (a retry would act again, or find the name
     * taken): before it runs, room is set aside for its smallest success
     * reply (and, for an action, a copy for the action cache), so that
     * once it is done, running out of memory can only shorten the reply
     * (docs/protocol.md). finish() frees what is left. */
    bool applied;           /* the action was applied, the join made */
    const char *spare_code; /* NULL: spare_reply is a success; else the
                               error code it carries */
    char *spare_reply;      /* cJSON_malloc'd, PC__SPARE_REPLY bytes */
    char *spare_cache;      /* pc_malloc'd, PC__SPARE_REPLY bytes (actions) */
} pc__outcome;

/* Room for the smallest success of an action or a join:
 * {"v":1,"ok":true,"result":{"room":ID,"seq":N,"value":null}} or
 * {...{"room":ID,"role":R,"player":NAME,"token":T,"seq":N}}. */
#define PC__SPARE_REPLY (PC_ROOM_ID_MAX + PC_SERVER_NAME_MAX + 192)

/* Turn a failed pc_room_action on h's room into o's wire error (and tell
 * the host if the room's journal failed). */
void pc__req_action_error(pc__host *h, pc_err rc, const pc_error *ge,
                          pc__outcome *o);

/* The "join" operation (reqjoin.c). */
bool pc__req_join(pc_server *srv, const cJSON *req, pc__outcome *o);

/* Set o's error to "internal: out of memory"; returns false. */
bool pc__req_nomem(pc__outcome *o);

/* The member key of req, or NULL when it is absent or null. */
const cJSON *pc__req_field(const cJSON *req, const char *key);

/* The string member key (1..maxlen bytes) in *out, NULL when absent and
 * not required; false (with o->e set) on error. */
bool pc__req_string(const cJSON *req, const char *key, bool required,
                    size_t maxlen, const char **out, pc__outcome *o);

/* A non-negative integer member (at most PC__REQ_SEQ_MAX), dflt when
 * absent and not required; false (with o->e set) on error. */
bool pc__req_uint(const cJSON *req, const char *key, bool required,
                  uint64_t dflt, uint64_t *out, pc__outcome *o);

/* The hosted room the request names, or NULL (with o->e set). */
pc__host *pc__req_room(pc_server *srv, const cJSON *req, pc__outcome *o);

/* The player holding the request's token; *p NULL when the token is
 * absent and not required. False (with o->e set) on error. */
bool pc__req_player(pc__host *h, const cJSON *req, bool required,
                    pc__player **p, pc__outcome *o);

#endif
