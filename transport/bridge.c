/*
 * bridge.c - the rooms over HTTP (see bridge.h).
 *
 * Each route becomes a request of the request channel - its members come
 * from the path, the query, the Authorization header and, for POST, the
 * JSON body checked against the server's request limits - answered by
 * requests.c exactly as if it had come over nng. The reply's bytes are
 * sent as they are, with the HTTP status its error code maps to. A
 * bearer credential is the inspector's when it matches the server's
 * inspector credential (compared in constant time) and a player's token
 * otherwise; neither is ever echoed.
 */
#include "bridge.h"

#include <string.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "phasecast/alloc.h"
#include "phasecast/json.h"
#include "requests.h"
#include "server.h"
#include "sse.h"

struct pc__bridge {
    pc_server *srv;
    pc__httpd *d;
    size_t sse_cap;
    pc__sse_stats sse;
};

/* Answer req with the reply to the request channel's request r. */
static void answer(pc__bridge *b, struct evhttp_request *req, cJSON *r)
{
    char *text = NULL;
    size_t len = 0;
    char code[PC_ERROR_CODE_MAX];
    if (pc__requests_answer_tree(b->srv, r, &text, &len, code) != PC_OK) {
        pc_error e = {0};
        pc_error_set(&e, PC_ERR_NOMEM, "internal", "out of memory");
        pc__httpd_reply_error(b->d, req, &e);
        return;
    }
    int status = code[0] != '\0' ? pc__httpd_status(code) : 200;
    if (status == 429) {
        /* The per-player action rate (pc_server_options.action_rate), as
         * for the bridge's own per-address limit. */
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
                          "1");
    }
    pc__httpd_reply(b->d, req, status, text, len);
    cJSON_free(text);
}

static const char *header(struct evhttp_request *req, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(req), name);
}

/* The bearer credential, "" when none; false (answered) when malformed. */
static bool bearer(pc__bridge *b, struct evhttp_request *req,
                   char out[PC__BEARER_MAX + 1])
{
    int got = pc__bearer(header(req, "Authorization"), out);
    if (got < 0) {
        pc_error e = {0};
        pc_error_set(&e, PC_ERR_PERMISSION, "bad_token",
                     "the Authorization header must be \"Bearer <token>\"");
        evhttp_add_header(evhttp_request_get_output_headers(req),
                          "WWW-Authenticate", "Bearer");
        pc__httpd_reply_error(b->d, req, &e);
        return false;
    }
    if (got == 0) {
        out[0] = '\0';
    }
    return true;
}

static const char *query_of(struct evhttp_request *req)
{
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
    return u != NULL ? evhttp_uri_get_query(u) : NULL;
}

/* Add query integer key to r as a number; false (answered) if malformed. */
static bool add_query_uint(pc__bridge *b, struct evhttp_request *req, cJSON *r,
                           const char *key)
{
    bool present;
    uint64_t v;
    pc_error e = {0};
    if (pc__query_uint(query_of(req), key, &present, &v, &e) != PC_OK) {
        pc__httpd_reply_error(b->d, req, &e);
        return false;
    }
    if (present && cJSON_AddNumberToObject(r, key, (double)v) == NULL) {
        pc_error_set(&e, PC_ERR_NOMEM, "internal", "out of memory");
        pc__httpd_reply_error(b->d, req, &e);
        return false;
    }
    return true;
}

/* The POST body as a JSON object checked against the request limits, with
 * none of the members the route sets itself; NULL (answered) otherwise. */
static cJSON *body_object(pc__bridge *b, struct evhttp_request *req)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    const char *text = n > 0 ? (const char *)evbuffer_pullup(in, -1) : "";
    pc_error e = {0}, pe = {0};
    cJSON *o = NULL;
    pc_err rc = pc_json_parse(text, n, pc__httpd_limits(b->d), &o, &pe);
    if (rc != PC_OK) {
        pc_error_set(&e, rc,
                     rc == PC_ERR_NOMEM   ? "internal"
                     : rc == PC_ERR_LIMIT ? "limit_exceeded"
                                          : "bad_request",
                     "%s", pe.message[0] ? pe.message : pc_strerror(rc));
    } else if (!cJSON_IsObject(o)) {
        pc_error_set(&e, PC_ERR_INVALID, "bad_request",
                     "the body must be a JSON object");
    } else {
        static const char *const reserved[] = {"op", "room", "token",
                                               "credential"};
        for (size_t i = 0; i < 4; i++) {
            if (cJSON_GetObjectItemCaseSensitive(o, reserved[i]) != NULL) {
                pc_error_set(&e, PC_ERR_INVALID, "bad_request",
                             "\"%s\" comes from the URL or the Authorization "
                             "header, not the body",
                             reserved[i]);
                break;
            }
        }
    }
    if (e.err != PC_OK) {
        cJSON_Delete(o);
        pc__httpd_reply_error(b->d, req, &e);
        return NULL;
    }
    return o;
}

static bool is_inspector(pc__bridge *b, const char *cred)
{
    return cred[0] != '\0' && pc__server_inspector(b->srv, cred) == 1;
}

static void rooms(pc__bridge *b, struct evhttp_request *req)
{
    cJSON *r = cJSON_CreateObject();
    cJSON *result = cJSON_CreateObject();
    bool ok = r != NULL && result != NULL &&
              cJSON_AddNumberToObject(r, "v", PC_PROTOCOL_VERSION) != NULL &&
              cJSON_AddTrueToObject(r, "ok") != NULL &&
              cJSON_AddItemToObject(r, "result", result);
    if (!ok) {
        cJSON_Delete(result);
    }
    cJSON *list = ok ? cJSON_AddArrayToObject(result, "rooms") : NULL;
    ok = list != NULL;
    for (size_t i = 0; ok && i < pc__server_host_count(b->srv); i++) {
        const pc_room *room = pc__server_host_at(b->srv, i)->room;
        cJSON *e = cJSON_CreateObject();
        ok = cJSON_AddItemToArray(list, e) &&
             cJSON_AddStringToObject(e, "room", pc_room_id(room)) &&
             cJSON_AddStringToObject(e, "game", pc_room_game(room)->name) &&
             cJSON_AddStringToObject(e, "phase", pc_room_phase(room)) &&
             cJSON_AddNumberToObject(e, "seq", (double)pc_room_seq(room));
    }
    char *text = ok ? cJSON_PrintUnformatted(r) : NULL;
    cJSON_Delete(r);
    if (text == NULL) {
        pc_error e = {0};
        pc_error_set(&e, PC_ERR_NOMEM, "internal", "out of memory");
        pc__httpd_reply_error(b->d, req, &e);
        return;
    }
    pc__httpd_reply(b->d, req, 200, text, strlen(text));
    cJSON_free(text);
}

static void events(pc__bridge *b, struct evhttp_request *req, const char *room,
                   const char *cred)
{
    pc_error e = {0};
    pc__host *h = pc__server_find_host(b->srv, room);
    if (h == NULL) {
        pc_error_set(&e, PC_ERR_NOT_FOUND, "unknown_room", "no room %s", room);
        pc__httpd_reply_error(b->d, req, &e);
        return;
    }
    pc__player *p = NULL;
    if (cred[0] != '\0') {
        p = pc__players_find_token(h->players, cred);
        if (p == NULL) {
            pc_error_set(&e, PC_ERR_PERMISSION, "bad_token",
                         "the token is not valid in room %s", room);
            pc__httpd_reply_error(b->d, req, &e);
            return;
        }
    }
    /* A player's token opens its own view, the game master's token the
     * whole state (docs/web.md). */
    pc_viewer viewer = pc__player_viewer(p);
    bool present;
    uint64_t since = 0, last;
    if (pc__query_uint(query_of(req), "since", &present, &since, &e) != PC_OK) {
        pc__httpd_reply_error(b->d, req, &e);
        return;
    }
    /* The browser's own Last-Event-ID wins over the page's first ?since. */
    bool resume = pc__last_event_id(header(req, "Last-Event-ID"), &last);
    if (!resume && present) {
        last = since;
        resume = true;
    }
    pc__sse_open(h->sse, req, &viewer, resume ? &last : NULL);
}

/* GET /metrics: pc_server_metrics_text as Prometheus text 0.0.4. */
static void metrics(pc__bridge *b, struct evhttp_request *req)
{
    char *text = NULL;
    size_t len = 0;
    struct evbuffer *buf = evbuffer_new();
    if (buf == NULL || pc_server_metrics_text(b->srv, &text, &len) != PC_OK ||
        evbuffer_add(buf, text, len) != 0) {
        pc_error e = {0};
        pc_error_set(&e, PC_ERR_NOMEM, "internal", "out of memory");
        pc__httpd_reply_error(b->d, req, &e);
    } else {
        struct evkeyvalq *out = evhttp_request_get_output_headers(req);
        evhttp_add_header(out, "Content-Type",
                          "text/plain; version=0.0.4; charset=utf-8");
        evhttp_add_header(out, "Cache-Control", "no-store");
        pc__httpd_cors(b->d, req);
        pc__httpd_count_status(b->d, 200);
        evhttp_send_reply(req, 200, "OK", buf);
    }
    if (buf != NULL) {
        evbuffer_free(buf);
    }
    pc_free(text);
}

static void on_route(pc__httpd *d, struct evhttp_request *req,
                     const pc__route *route, void *arg)
{
    pc__bridge *b = arg;
    char cred[PC__BEARER_MAX + 1];
    (void)d;
    if (route->kind == PC__ROUTE_ROOMS) {
        rooms(b, req);
        return;
    }
    if (route->kind == PC__ROUTE_METRICS) {
        metrics(b, req);
        return;
    }
    if (!bearer(b, req, cred)) {
        return;
    }
    if (route->kind == PC__ROUTE_EVENTS) {
        events(b, req, route->room, cred);
        return;
    }
    cJSON *r = NULL;
    const char *op = NULL;
    switch (route->kind) {
    case PC__ROUTE_ROOM:
        op = "snapshot";
        break;
    case PC__ROUTE_CHANGES:
        op = "changes";
        break;
    case PC__ROUTE_HISTORY:
        op = "inspect";
        break;
    case PC__ROUTE_ACTIONS:
        op = "action";
        break;
    case PC__ROUTE_JOIN:
        op = "join";
        break;
    default:
        break;
    }
    if (route->kind == PC__ROUTE_ACTIONS || route->kind == PC__ROUTE_JOIN) {
        if ((r = body_object(b, req)) == NULL) {
            return;
        }
    } else {
        r = cJSON_CreateObject();
    }
    bool inspector = is_inspector(b, cred);
    bool ok = r != NULL && cJSON_AddStringToObject(r, "op", op) != NULL &&
              cJSON_AddStringToObject(r, "room", route->room) != NULL;
    if (ok && cred[0] != '\0') {
        /* The credential goes where the op looks for it; a player's token
         * never opens the inspector, nor the credential a player's view. */
        bool as_credential = route->kind == PC__ROUTE_HISTORY ||
                             route->kind == PC__ROUTE_JOIN || /* a GM's */
                             (route->kind == PC__ROUTE_ROOM && inspector);
        ok = cJSON_AddStringToObject(r, as_credential ? "credential" : "token",
                                     cred) != NULL;
    }
    if (ok && route->kind == PC__ROUTE_CHANGES) {
        if (!add_query_uint(b, req, r, "since") ||
            !add_query_uint(b, req, r, "limit")) {
            cJSON_Delete(r);
            return;
        }
    }
    if (ok && route->kind == PC__ROUTE_HISTORY) {
        if (!add_query_uint(b, req, r, "since") ||
            !add_query_uint(b, req, r, "limit")) {
            cJSON_Delete(r);
            return;
        }
    }
    if (!ok) {
        cJSON_Delete(r);
        pc_error e = {0};
        pc_error_set(&e, PC_ERR_NOMEM, "internal", "out of memory");
        pc__httpd_reply_error(b->d, req, &e);
        return;
    }
    answer(b, req, r);
    volatile char *wipe = cred;
    for (size_t i = 0; i < sizeof cred; i++) {
        wipe[i] = 0;
    }
    cJSON_Delete(r);
}

pc_err pc__bridge_new(pc_server *srv, struct event_base *base,
                      const pc_server_http_options *opts, pc__bridge **out,
                      pc_error *err)
{
    pc__bridge *b = pc_malloc(sizeof *b);
    if (b == NULL) {
        return pc_error_set(err, PC_ERR_NOMEM, NULL, "out of memory");
    }
    *b = (pc__bridge){.srv = srv};
    pc_server_http_options o = *opts;
    pc__http_options_resolve(&o);
    b->sse_cap = o.sse_buffer_bytes;
    pc_err rc = pc__httpd_new(base, &o, pc__server_request_limits(srv),
                              on_route, b, &b->d, err);
    if (rc != PC_OK) {
        pc_free(b);
        return rc;
    }
    *out = b;
    return PC_OK;
}

void pc__bridge_free(pc__bridge *b)
{
    if (b == NULL) {
        return;
    }
    pc__httpd_free(b->d);
    pc_free(b);
}

pc__httpd *pc__bridge_httpd(pc__bridge *b)
{
    return b->d;
}

size_t pc__bridge_sse_cap(const pc__bridge *b)
{
    return b->sse_cap;
}

pc__sse_stats *pc__bridge_sse_stats(pc__bridge *b)
{
    return &b->sse;
}
