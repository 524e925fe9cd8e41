/*
 * requests.c - the request service: one REP socket, answered on the loop.
 *
 * The socket's NNG_OPT_RECVFD is watched with a persistent, level-triggered
 * EV_READ event; each callback receives requests with NNG_FLAG_NONBLOCK
 * until NNG_EAGAIN (or a batch limit, so one busy socket cannot starve the
 * loop's timers - the descriptor stays readable and the loop comes back)
 * and answers each one at once. That suits cooked REP, which holds one
 * request at a time: every operation here completes synchronously on the
 * loop thread, where the rooms live.
 *
 * Every body is untrusted: it is measured, parsed by pc_json_parse with the
 * server's request limits (never cJSON alone), and every field is checked
 * for presence, type and size before it is used. A request can reach a
 * room's state only through pc_room_action, that is through the game's
 * action callback; everything else here reads. Error replies carry the
 * client's own words and the game's refusal, never state. Replies to
 * actions, and to joins that carry a nonce, are remembered per player
 * (players.c), so a request nng resends is answered with the first reply
 * instead of acting (or joining) twice. Every answer is timed and counted
 * by op and error code in the server's metrics (metrics.c); the member
 * checks the operations share are in reqfields.c.
 */
#include "requests.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "phasecast/alloc.h"
#include "phasecast/history.h"
#include "phasecast/json.h"
#include "phasecast/merge.h"
#include "phasecast/version.h"
#include "phasecast/view.h"
#include "durable.h"
#include "envelope.h"
#include "inspect.h"
#include "metrics.h"
#include "players.h"
#include "reqfields.h"
#include "server.h"

/* Requests answered per readable callback before yielding to the loop. */
#define BATCH 256
/* Most changes one "changes" reply carries. */
#define CHANGES_MAX 1000

struct pc__requests {
    pc_server *srv;
    nng_socket rep;
    struct event *ev;
};

const char pc__requests_nomem_reply[] =
    "{\"v\":1,\"ok\":false,\"error\":{\"code\":\"internal\","
    "\"message\":\"the server is out of memory\"}}";

static int64_t now_ms(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool op_ping(const cJSON *req, pc__outcome *o)
{
    (void)req;
    o->result = cJSON_CreateObject();
    if (o->result == NULL ||
        cJSON_AddNumberToObject(o->result, "time", (double)now_ms()) == NULL) {
        return pc__req_nomem(o);
    }
    return true;
}

static bool op_info(pc_server *srv, pc__outcome *o)
{
    const pc_json_limits *lim = pc__server_request_limits(srv);
    cJSON *r = o->result = cJSON_CreateObject();
    if (cJSON_AddStringToObject(r, "server", "phasecast") == NULL ||
        cJSON_AddStringToObject(r, "version", pc_version()) == NULL ||
        cJSON_AddNumberToObject(r, "protocol", PC_PROTOCOL_VERSION) == NULL ||
        cJSON_AddNumberToObject(r, "heartbeat_ms",
                                pc__server_heartbeat_ms(srv)) == NULL) {
        return pc__req_nomem(o);
    }
    cJSON *rooms = cJSON_AddArrayToObject(r, "rooms");
    cJSON *l = cJSON_AddObjectToObject(r, "limits");
    if (rooms == NULL || l == NULL ||
        cJSON_AddNumberToObject(l, "max_message_bytes",
                                (double)lim->max_bytes) == NULL ||
        cJSON_AddNumberToObject(l, "max_depth", lim->max_depth) == NULL ||
        cJSON_AddNumberToObject(l, "max_string", (double)lim->max_string) ==
            NULL ||
        cJSON_AddNumberToObject(l, "max_nodes", (double)lim->max_nodes) ==
            NULL ||
        cJSON_AddNumberToObject(l, "max_changes", CHANGES_MAX) == NULL) {
        return pc__req_nomem(o);
    }
    for (size_t i = 0; i < pc__server_host_count(srv); i++) {
        const pc_room *room = pc__server_host_at(srv, i)->room;
        cJSON *e = cJSON_CreateObject();
        if (!cJSON_AddItemToArray(rooms, e)) {
            cJSON_Delete(e);
            return pc__req_nomem(o);
        }
        if (cJSON_AddStringToObject(e, "room", pc_room_id(room)) == NULL ||
            cJSON_AddStringToObject(e, "game", pc_room_game(room)->name) ==
                NULL ||
            cJSON_AddStringToObject(e, "phase", pc_room_phase(room)) == NULL ||
            cJSON_AddNumberToObject(e, "seq", (double)pc_room_seq(room)) ==
                NULL) {
            return pc__req_nomem(o);
        }
    }
    return true;
}

static bool want_inspector(pc_server *srv, const cJSON *req, pc__outcome *o);

static bool op_snapshot(pc_server *srv, const cJSON *req, pc__outcome *o)
{
    pc__player *p = NULL;
    /* With the inspector credential: the whole state, no view. */
    bool whole = pc__req_field(req, "credential") != NULL;
    if (whole && !want_inspector(srv, req, o)) {
        return false;
    }
    pc__host *h = pc__req_room(srv, req, o);
    if (h == NULL || (!whole && !pc__req_player(h, req, false, &p, o))) {
        return false;
    }
    const pc_game *g = pc_room_game(h->room);
    pc_viewer who = pc__player_viewer(p);
    cJSON *state = NULL;
    uint64_t sum = pc_room_checksum(h->room);
    if (!whole && pc_view_has_private(g)) {
        if (pc_view_state_as(g, pc_room_state(h->room), &who, &state) !=
                PC_OK ||
            pc_view_checksum_as(g, pc_room_state(h->room), &who, &sum) !=
                PC_OK) {
            cJSON_Delete(state);
            return pc__req_nomem(o);
        }
    } else if ((state = cJSON_Duplicate(pc_room_state(h->room), true)) ==
               NULL) {
        return pc__req_nomem(o);
    }
    char hex[PC__SUM_HEX];
    pc__envelope_hex(sum, hex);
    cJSON *r = o->result = cJSON_CreateObject();
    if (cJSON_AddStringToObject(r, "room", pc_room_id(h->room)) == NULL ||
        cJSON_AddNumberToObject(r, "seq", (double)pc_room_seq(h->room)) ==
            NULL ||
        cJSON_AddStringToObject(r, "sum", hex) == NULL ||
        !cJSON_AddItemToObject(r, "state", state)) {
        cJSON_Delete(state);
        return pc__req_nomem(o);
    }
    return true;
}

/* Add "changes": the CHANGE objects since+1..last (all in the room's
 * history) in who's view, to r. False when out of memory (or when the
 * history no longer holds them). */
static bool add_changes(pc_room *room, const pc_viewer *who, uint64_t since,
                        uint64_t last, cJSON *r)
{
    const pc_game *g = pc_room_game(room);
    cJSON *doc = NULL; /* the state as of each change, for view checksums */
    if (pc_view_has_private(g) && since < last &&
        pc_history_state_at(room, since, &doc) != PC_OK) {
        return false;
    }
    cJSON *list = cJSON_AddArrayToObject(r, "changes");
    bool ok = list != NULL;
    for (uint64_t s = since + 1; ok && s <= last; s++) {
        const pc_change *c;
        cJSON *item = NULL;
        ok = pc_history_get(room, s, &c) == PC_OK &&
             (doc == NULL || pc__envelope_replay(doc, c)) &&
             pc__envelope_change(g, c, who, doc, &item) == PC_OK;
        if (ok && !cJSON_AddItemToArray(list, item)) {
            cJSON_Delete(item);
            ok = false;
        }
    }
    cJSON_Delete(doc);
    return ok;
}

static bool op_changes(pc_server *srv, const cJSON *req, pc__outcome *o)
{
    pc__player *p;
    uint64_t since, limit;
    pc__host *h = pc__req_room(srv, req, o);
    if (h == NULL || !pc__req_player(h, req, false, &p, o) ||
        !pc__req_uint(req, "since", true, 0, &since, o) ||
        !pc__req_uint(req, "limit", false, CHANGES_MAX, &limit, o)) {
        return false;
    }
    pc_room *room = h->room;
    uint64_t seq = pc_room_seq(room), first = pc_history_first_seq(room);
    if (since > seq) {
        pc_error_set(&o->e, PC_ERR_INVALID, "bad_request",
                     "since %llu is after the room's seq %llu",
                     (unsigned long long)since, (unsigned long long)seq);
        return false;
    }
    if (since < seq && (first == 0 || since + 1 < first)) {
        pc_error_set(&o->e, PC_ERR_EVICTED, "too_old",
                     "changes before seq %llu are no longer kept; take a "
                     "snapshot",
                     (unsigned long long)(first == 0 ? seq + 1 : first));
        return false;
    }
    if (limit == 0 || limit > CHANGES_MAX) {
        limit = CHANGES_MAX;
    }
    uint64_t last = seq - since > limit ? since + limit : seq;
    pc_viewer who = pc__player_viewer(p);
    cJSON *r = o->result = cJSON_CreateObject();
    bool ok = cJSON_AddStringToObject(r, "room", pc_room_id(room)) != NULL &&
              cJSON_AddNumberToObject(r, "seq", (double)seq) != NULL &&
              add_changes(room, &who, since, last, r);
    if (ok) {
        o->repair_changes = last - since;
    }
    return ok ? true : pc__req_nomem(o);
}

/* The inspector credential comes first: nothing about the server or its
 * rooms is said to a caller without it. */
static bool want_inspector(pc_server *srv, const cJSON *req, pc__outcome *o)
{
    const cJSON *v = pc__req_field(req, "credential");
    int ok = pc__server_inspector(srv, cJSON_IsString(v) ? v->valuestring : "");
    if (ok < 0) {
        pc_error_set(&o->e, PC_ERR_PERMISSION, "forbidden",
                     "the inspector is disabled on this server");
    } else if (v == NULL) {
        pc_error_set(&o->e, PC_ERR_PERMISSION, "forbidden",
                     "inspector credential required");
    } else if (ok == 0) {
        pc_error_set(&o->e, PC_ERR_PERMISSION, "forbidden",
                     "wrong inspector credential");
    }
    return ok == 1 && v != NULL;
}

static bool op_inspect(pc_server *srv, const cJSON *req, pc__outcome *o)
{
    pc__inspect_ask ask;
    if (!want_inspector(srv, req, o)) {
        return false;
    }
    pc__host *h = pc__req_room(srv, req, o);
    ask.has_since = pc__req_field(req, "since") != NULL;
    if (h == NULL || !pc__req_uint(req, "since", false, 0, &ask.since, o) ||
        !pc__req_uint(req, "limit", false, PC__INSPECT_LIMIT, &ask.limit, o)) {
        return false;
    }
    if (ask.limit == 0 || ask.limit > PC__INSPECT_LIMIT) {
        ask.limit = PC__INSPECT_LIMIT;
    }
    return pc__inspect_result(h->room, &ask, &o->result, &o->e) == PC_OK;
}

static bool op_action(pc_server *srv, const cJSON *req, pc__outcome *o)
{
    pc__player *p;
    const char *id, *type;
    pc__host *h = pc__req_room(srv, req, o);
    if (h == NULL || !pc__req_player(h, req, true, &p, o) ||
        !pc__req_string(req, "action_id", true, PC_SERVER_ACTION_ID_MAX, &id,
                        o) ||
        !pc__req_string(req, "type", true, 64, &type, o)) {
        return false;
    }
    o->cached = pc__player_reply(p, id, &o->cached_len);
    if (o->cached != NULL) {
        return true;
    }
    uint64_t expected = 0;
    bool has_expected = pc__req_field(req, "expected_seq") != NULL;
    if (!pc__req_uint(req, "expected_seq", false, 0, &expected, o)) {
        return false;
    }
    /* Before remember_for is set: a refusal for speed is not remembered,
     * so the same action may be resent once the bucket has refilled. */
    unsigned rate, burst;
    pc__server_action_rate(srv, &rate, &burst);
    if (!pc__player_take_action(p, rate, burst, pc_room_now_ms(h->room))) {
        pc_error_set(&o->e, PC_ERR_LIMIT, "rate_limited",
                     "more than %u actions per second (bursts of %u) from "
                     "one player; resend it later",
                     rate, burst);
        return false;
    }
    o->remember_for = p;
    o->action_id = id;
    o->spare_reply = cJSON_malloc(PC__SPARE_REPLY);
    o->spare_cache = pc_malloc(PC__SPARE_REPLY);
    if (o->spare_reply == NULL || o->spare_cache == NULL) {
        return pc__req_nomem(o); /* nothing was applied; finish frees */
    }
    pc_action act = {.player = pc__player_name(p),
                     .type = type,
                     .payload = pc__req_field(req, "payload"),
                     .role = pc__player_is_gm(p) ? PC_ROLE_GM : PC_ROLE_PLAYER,
                     .has_expected_seq = has_expected,
                     .expected_seq = expected};
    pc_error ge = {0};
    cJSON *value = NULL;
    uint64_t before = pc_room_seq(h->room);
    pc_err rc = pc_room_action(h->room, &act, &value, &ge);
    if (rc != PC_OK) {
        cJSON_Delete(value);
        pc__req_action_error(h, rc, &ge, o);
        return false;
    }
    /* Applied: from here on the answer is a success, at worst this one. */
    o->applied = true;
    snprintf(o->spare_reply, PC__SPARE_REPLY,
             "{\"v\":%d,\"ok\":true,\"result\":{\"room\":\"%s\",\"seq\":%llu,"
             "\"value\":null}}",
             PC_PROTOCOL_VERSION, pc_room_id(h->room),
             (unsigned long long)pc_room_seq(h->room));
    if (value != NULL && pc_json_check(value, NULL, NULL) != PC_OK) {
        cJSON_Delete(value); /* the game's result is unprintable: drop it */
        value = NULL;
    }
    if (value == NULL) {
        value = cJSON_CreateNull();
    }
    cJSON *r = o->result = cJSON_CreateObject();
    uint64_t after = pc_room_seq(h->room);
    if (cJSON_AddStringToObject(r, "room", pc_room_id(h->room)) == NULL ||
        cJSON_AddNumberToObject(r, "seq", (double)after) == NULL ||
        !cJSON_AddItemToObject(r, "value", value)) {
        cJSON_Delete(value);
        return pc__req_nomem(o);
    }
    /* What the action changed, in the sender's view, when the history
     * still holds all of it (docs/protocol.md "action"). */
    uint64_t first = pc_history_first_seq(h->room);
    pc_viewer who = pc__player_viewer(p);
    if (after - before <= CHANGES_MAX &&
        (after == before || (first != 0 && first <= before + 1)) &&
        !add_changes(h->room, &who, before, after, r)) {
        return pc__req_nomem(o);
    }
    return true;
}

/* A client reports a problem it saw in a room: only counted (metrics.c),
 * so the answer says nothing about the room beyond its existence. */
static bool op_report(pc_server *srv, const cJSON *req, pc__outcome *o)
{
    pc__player *p;
    const char *kind;
    uint64_t seq;
    pc__host *h = pc__req_room(srv, req, o);
    if (h == NULL || !pc__req_player(h, req, false, &p, o) ||
        !pc__req_string(req, "kind", true, 32, &kind, o) ||
        !pc__req_uint(req, "seq", true, 0, &seq, o)) {
        return false;
    }
    int k = pc__metrics_report_named(kind);
    if (k < 0) {
        pc_error_set(&o->e, PC_ERR_INVALID, "bad_request",
                     "\"kind\" must be \"checksum_mismatch\"");
        return false;
    }
    pc__metrics_report(pc__server_metrics(srv), (pc__report_kind)k);
    o->result = cJSON_CreateObject();
    if (o->result == NULL ||
        cJSON_AddStringToObject(o->result, "room", pc_room_id(h->room)) ==
            NULL) {
        return pc__req_nomem(o);
    }
    return true;
}

/* Run the operation req (a parsed request of any shape) names. */
static void dispatch_tree(pc_server *srv, const cJSON *req, pc__outcome *o)
{
    const char *op;
    if (!cJSON_IsObject(req)) {
        pc_error_set(&o->e, PC_ERR_INVALID, "bad_request",
                     "a request is a JSON object");
        return;
    }
    if (!pc__req_string(req, "op", true, 32, &op, o)) {
        return;
    }
    o->op = pc__metrics_op_named(op);
    if (strcmp(op, "ping") == 0) {
        op_ping(req, o);
    } else if (strcmp(op, "info") == 0) {
        op_info(srv, o);
    } else if (strcmp(op, "join") == 0) {
        pc__req_join(srv, req, o);
    } else if (strcmp(op, "snapshot") == 0) {
        op_snapshot(srv, req, o);
    } else if (strcmp(op, "changes") == 0) {
        op_changes(srv, req, o);
    } else if (strcmp(op, "action") == 0) {
        op_action(srv, req, o);
    } else if (strcmp(op, "inspect") == 0) {
        op_inspect(srv, req, o);
    } else if (strcmp(op, "report") == 0) {
        op_report(srv, req, o);
    } else {
        pc_error_set(&o->e, PC_ERR_INVALID, "bad_request", "unknown op \"%s\"",
                     op);
    }
}

static void dispatch(pc_server *srv, const char *body, size_t len,
                     const pc_json_limits *lim, cJSON **req, pc__outcome *o)
{
    if (len > lim->max_bytes) {
        pc_error_set(&o->e, PC_ERR_LIMIT, "limit_exceeded",
                     "the request has %zu bytes, more than %zu", len,
                     lim->max_bytes);
        return;
    }
    pc_error pe = {0};
    pc_err rc = pc_json_parse(body, len, lim, req, &pe);
    if (rc == PC_ERR_NOMEM) {
        pc__req_nomem(o);
        return;
    }
    if (rc != PC_OK) {
        pc_error_set(&o->e, rc,
                     rc == PC_ERR_LIMIT ? "limit_exceeded" : "bad_request",
                     "%s", pe.message[0] ? pe.message : pc_strerror(rc));
        return;
    }
    dispatch_tree(srv, *req, o);
}

/* {"v":1,"ok":true,"result":R} or {"v":1,"ok":false,"error":{...}}. */
static cJSON *reply_tree(pc__outcome *o)
{
    cJSON *r = cJSON_CreateObject();
    if (r == NULL ||
        cJSON_AddNumberToObject(r, "v", PC_PROTOCOL_VERSION) == NULL) {
        cJSON_Delete(r);
        return NULL;
    }
    if (o->e.err == PC_OK) {
        if (cJSON_AddTrueToObject(r, "ok") == NULL ||
            !cJSON_AddItemToObject(r, "result", o->result)) {
            cJSON_Delete(r);
            return NULL;
        }
        o->result = NULL; /* now r's */
        return r;
    }
    cJSON *e = cJSON_CreateObject();
    if (cJSON_AddFalseToObject(r, "ok") == NULL ||
        !cJSON_AddItemToObject(r, "error", e)) {
        cJSON_Delete(e);
        cJSON_Delete(r);
        return NULL;
    }
    if (cJSON_AddStringToObject(e, "code", o->e.code) == NULL ||
        cJSON_AddStringToObject(e, "message", o->e.message) == NULL ||
        (o->has_seq &&
         cJSON_AddNumberToObject(e, "seq", (double)o->seq) == NULL)) {
        cJSON_Delete(r);
        return NULL;
    }
    return r;
}

/* Print o's reply into *text (or copy the remembered one); code (may be
 * NULL) receives the error code, "" for a success. Frees o's result. */
static pc_err finish(pc__outcome *o, char **text, size_t *text_len,
                     char code[PC_ERROR_CODE_MAX])
{
    pc_err rc = PC_OK;
    if (code != NULL) {
        code[0] = '\0';
    }
    if (o->cached != NULL) {
        /* A repeat: nothing was done, nothing set aside is needed. */
        cJSON_free(o->spare_reply);
        o->spare_reply = NULL;
        char *copy = cJSON_malloc(o->cached_len + 1);
        if (copy == NULL) {
            return PC_ERR_NOMEM;
        }
        memcpy(copy, o->cached, o->cached_len + 1);
        *text = copy;
        *text_len = o->cached_len;
        if (code != NULL) { /* a remembered reply may be a refusal */
            cJSON *r = cJSON_ParseWithLength(copy, o->cached_len);
            const cJSON *c = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(r, "error"), "code");
            if (cJSON_IsString(c)) {
                snprintf(code, PC_ERROR_CODE_MAX, "%s", c->valuestring);
            }
            cJSON_Delete(r);
        }
        return PC_OK;
    }
    if (o->e.err == PC_OK && o->result == NULL) {
        pc__req_nomem(o);
    }
    if (o->e.err != PC_OK) {
        cJSON_Delete(o->result); /* partial */
        o->result = NULL;
        if (code != NULL) {
            snprintf(code, PC_ERROR_CODE_MAX, "%s", o->e.code);
        }
    }
    cJSON *tree = reply_tree(o);
    char *s = NULL;
    size_t n = 0;
    if (tree == NULL || pc__envelope_print(tree, &s, &n) != PC_OK) {
        rc = PC_ERR_NOMEM;
    }
    cJSON_Delete(tree);
    cJSON_Delete(o->result);
    o->result = NULL;
    if (o->applied && (rc != PC_OK || o->e.err == PC_ERR_NOMEM)) {
        /* The action was applied (the join made) but its full reply
         * could not be built: answer what was set aside, a success
         * without changes or value (or private_paths), or the join's
         * log_write_failed. */
        cJSON_free(s);
        s = o->spare_reply;
        o->spare_reply = NULL;
        n = strlen(s);
        rc = PC_OK;
        if (o->spare_code == NULL) {
            pc_error_clear(&o->e);
        }
        if (code != NULL) {
            snprintf(code, PC_ERROR_CODE_MAX, "%s",
                     o->spare_code != NULL ? o->spare_code : "");
        }
    }
    if (rc == PC_OK) {
        if (o->remember_for != NULL && o->e.err != PC_ERR_NOMEM &&
            pc__player_remember(o->remember_for, o->action_id, s, n) != PC_OK &&
            o->applied) {
            /* A repeat must find the action answered, not apply it
             * again: remember at least the set-aside success. */
            const char *min = o->spare_reply != NULL ? o->spare_reply : s;
            size_t m = strlen(min);
            memcpy(o->spare_cache, min, m + 1);
            (void)pc__player_remember_owned(o->remember_for, o->action_id,
                                            o->spare_cache, m);
            o->spare_cache = NULL;
        }
        if (o->joined != NULL && o->e.err == PC_OK) {
            (void)pc__player_remember_join(o->joined, s, n);
        }
        *text = s;
        *text_len = n;
    }
    cJSON_free(o->spare_reply);
    pc_free(o->spare_cache);
    o->spare_reply = o->spare_cache = NULL;
    return rc;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Count one answered request: its op, the time since t0 and its error
 * code ("" for a success; a reply that could not be built is internal). */
static void count(pc_server *srv, const pc__outcome *o, pc_err rc,
                  const char *code, uint64_t t0)
{
    pc__metrics *m = pc__server_metrics(srv);
    uint64_t t1 = now_ns();
    pc__metrics_request(m, o->op, t1 > t0 ? t1 - t0 : 0,
                        rc != PC_OK ? "internal" : code);
    if (rc == PC_OK && code[0] == '\0' && o->cached == NULL) {
        pc__metrics_repair_changes(m, o->repair_changes);
    }
}

pc_err pc__requests_answer(pc_server *srv, const char *body, size_t len,
                           char **text, size_t *text_len)
{
    uint64_t t0 = now_ns();
    pc__outcome o = {.op = PC__OP_UNKNOWN};
    cJSON *req = NULL;
    char code[PC_ERROR_CODE_MAX];
    dispatch(srv, body, len, pc__server_request_limits(srv), &req, &o);
    pc_err rc = finish(&o, text, text_len, code);
    cJSON_Delete(req);
    count(srv, &o, rc, code, t0);
    return rc;
}

pc_err pc__requests_answer_tree(pc_server *srv, const cJSON *req, char **text,
                                size_t *text_len, char code[PC_ERROR_CODE_MAX])
{
    uint64_t t0 = now_ns();
    pc__outcome o = {.op = PC__OP_UNKNOWN};
    char mine[PC_ERROR_CODE_MAX];
    dispatch_tree(srv, req, &o);
    pc_err rc = finish(&o, text, text_len, mine);
    if (code != NULL) {
        memcpy(code, mine, sizeof mine);
    }
    count(srv, &o, rc, mine, t0);
    return rc;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    pc__requests *rq = arg;
    (void)fd;
    (void)what;
    for (int i = 0; i < BATCH; i++) {
        nng_msg *m;
        if (nng_recvmsg(rq->rep, &m, NNG_FLAG_NONBLOCK) != 0) {
            break; /* NNG_EAGAIN: drained; anything else: closing */
        }
        char *text = NULL;
        size_t n = 0;
        const char *out = pc__requests_nomem_reply;
        size_t outlen = sizeof pc__requests_nomem_reply - 1;
        if (pc__requests_answer(rq->srv, nng_msg_body(m), nng_msg_len(m), &text,
                                &n) == PC_OK) {
            out = text;
            outlen = n;
        }
        /* Reuse the request's message for the reply; cooked REP keeps the
         * request's routing (its backtrace) in the socket, not here. The
         * send may block: nng 1.5.2's REP queues a reply behind the
         * connection's previous one, and a non-blocking send would drop it
         * instead. NNG_OPT_SENDTIMEO bounds the wait (a peer that stopped
         * reading), and then the reply is dropped and the requester's
         * retry asks again. */
        nng_msg_clear(m);
        if (nng_msg_append(m, out, outlen) != 0 ||
            nng_sendmsg(rq->rep, m, 0) != 0) {
            nng_msg_free(m);
        }
        cJSON_free(text);
    }
}

pc_err pc__requests_new(pc_server *srv, struct event_base *base, nng_socket rep,
                        pc__requests **out)
{
    int fd;
    if (nng_socket_get_int(rep, NNG_OPT_RECVFD, &fd) != 0) {
        return PC_ERR_IO;
    }
    pc__requests *rq = pc_malloc(sizeof *rq);
    if (rq == NULL) {
        return PC_ERR_NOMEM;
    }
    *rq = (pc__requests){.srv = srv, .rep = rep};
    rq->ev = event_new(base, fd, EV_READ | EV_PERSIST, on_readable, rq);
    if (rq->ev == NULL || event_add(rq->ev, NULL) != 0) {
        if (rq->ev != NULL) {
            event_free(rq->ev);
        }
        pc_free(rq);
        return PC_ERR_NOMEM;
    }
    *out = rq;
    return PC_OK;
}

void pc__requests_free(pc__requests *rq)
{
    if (rq == NULL) {
        return;
    }
    event_free(rq->ev);
    pc_free(rq);
}
