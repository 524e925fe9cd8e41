/*
 * httpserve.c - `phasecast-inspect --http ADDR`: the time-travel page for
 * the history the inspector has open (a change log, or a live room read
 * with the inspect request).
 *
 * It serves the same routes and shapes as a server's HTTP bridge where
 * the page needs them (docs/web.md): GET /rooms, GET /rooms/{room} (the
 * whole state at the newest seq) and GET /rooms/{room}/history (the
 * inspect op's result: base state and records, paged by since and
 * limit), plus the pages under /ui/. Every history request first picks up
 * what the source gained (appends to the log, new changes of the live
 * room), so the page's "follow live" works on both. The records are the
 * inspector's --json change objects (seq, time, kind, phase, prev,
 * reason, file, line, func, sum, patch, event, cause). With a credential
 * (--credential-file or PHASECAST_INSPECTOR_CREDENTIAL) every route but
 * the pages needs it as a bearer token; without one, anyone who can reach
 * the address reads the log, so the default address is loopback.
 */
#include "httpserve.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "phasecast/canon.h"
#include "httpd.h"

/* Most records one history reply carries. */
#define HISTORY_LIMIT 1000

typedef struct serve_ctx {
    insp_ctx *cx;
    const char *credential; /* "" : none */
    struct event_base *base;
} serve_ctx;

static void reply_error(pc__httpd *d, struct evhttp_request *req,
                        const char *code, const char *msg)
{
    pc_error e = {0};
    pc_error_set(&e, PC_ERR_INVALID, code, "%s", msg);
    pc__httpd_reply_error(d, req, &e);
}

/* Send {"v":1,"ok":true,"result":r}; takes r. */
static void reply_result(pc__httpd *d, struct evhttp_request *req, cJSON *r)
{
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;
    if (r != NULL && o != NULL && cJSON_AddNumberToObject(o, "v", 1) &&
        cJSON_AddTrueToObject(o, "ok") &&
        cJSON_AddItemToObject(o, "result", r)) {
        r = NULL;
        text = cJSON_PrintUnformatted(o);
    }
    cJSON_Delete(r);
    cJSON_Delete(o);
    if (text == NULL) {
        reply_error(d, req, "internal", "out of memory");
        return;
    }
    pc__httpd_reply(d, req, 200, text, strlen(text));
    cJSON_free(text);
}

/* Constant-time comparison of a bearer credential with the expected one. */
static bool credential_ok(const char *want, const char *given)
{
    size_t n = strlen(want), m = strlen(given);
    unsigned diff = (unsigned)(n ^ m);
    for (size_t i = 0; i < n; i++) {
        diff |= (unsigned char)(want[i] ^ (i < m ? given[i] : 0));
    }
    return diff == 0;
}

static cJSON *room_entry(pc_timeline *tl)
{
    cJSON *e = cJSON_CreateObject();
    pc_timeline_entry last;
    const char *phase = "";
    if (pc_timeline_last_seq(tl) > pc_timeline_first_seq(tl) &&
        pc_timeline_get(tl, pc_timeline_last_seq(tl), &last) == PC_OK) {
        phase = last.phase;
    }
    if (e == NULL ||
        !cJSON_AddStringToObject(e, "room", pc_timeline_room(tl)) ||
        !cJSON_AddStringToObject(e, "game", pc_timeline_game(tl)) ||
        !cJSON_AddStringToObject(e, "phase", phase) ||
        !cJSON_AddNumberToObject(e, "seq", (double)pc_timeline_last_seq(tl))) {
        cJSON_Delete(e);
        return NULL;
    }
    return e;
}

/* {"seq","sum","state"} of the whole state right after seq. */
static cJSON *state_object(pc_timeline *tl, uint64_t seq)
{
    cJSON *state = NULL, *o = cJSON_CreateObject();
    uint64_t sum = 0;
    char hex[17];
    if (o == NULL || pc_timeline_state_at(tl, seq, &state) != PC_OK ||
        pc_canon_checksum(state, &sum, NULL) != PC_OK) {
        cJSON_Delete(state);
        cJSON_Delete(o);
        return NULL;
    }
    insp_hex64(sum, hex);
    if (!cJSON_AddNumberToObject(o, "seq", (double)seq) ||
        !cJSON_AddStringToObject(o, "sum", hex) ||
        !cJSON_AddItemToObject(o, "state", state)) {
        cJSON_Delete(state);
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static void history(serve_ctx *sc, pc__httpd *d, struct evhttp_request *req)
{
    insp_source *src = sc->cx->src;
    pc_error err = {0};
    size_t added = 0;
    if (insp_source_update(src, &added, &err) != PC_OK) {
        reply_error(d, req, "internal", err.message);
        return;
    }
    pc_timeline *tl = src->tl;
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
    const char *query = u != NULL ? evhttp_uri_get_query(u) : NULL;
    bool has_since, has_limit;
    uint64_t since = 0, limit = HISTORY_LIMIT;
    pc_error e = {0};
    if (pc__query_uint(query, "since", &has_since, &since, &e) != PC_OK ||
        pc__query_uint(query, "limit", &has_limit, &limit, &e) != PC_OK) {
        pc__httpd_reply_error(d, req, &e);
        return;
    }
    uint64_t first = pc_timeline_first_seq(tl), last = pc_timeline_last_seq(tl);
    if (limit == 0 || limit > HISTORY_LIMIT) {
        limit = HISTORY_LIMIT;
    }
    if (has_since && since > last) {
        reply_error(d, req, "bad_request", "since is after the newest seq");
        return;
    }
    if (has_since && since < first) {
        pc_error_set(&e, PC_ERR_EVICTED, "too_old",
                     "the history starts at seq %llu",
                     (unsigned long long)first);
        pc__httpd_reply_error(d, req, &e);
        return;
    }
    uint64_t from = has_since ? since : first;
    uint64_t to = last - from > limit ? from + limit : last;
    cJSON *r = room_entry(tl);
    cJSON *records = cJSON_CreateArray();
    bool ok = r != NULL && records != NULL &&
              cJSON_AddNumberToObject(r, "first", (double)first) &&
              cJSON_AddItemToObject(r, "records", records);
    if (!ok) {
        cJSON_Delete(records);
    }
    if (ok && !has_since) {
        cJSON *base = state_object(tl, first);
        ok = base != NULL && cJSON_AddItemToObject(r, "base", base);
        if (!ok) {
            cJSON_Delete(base);
        }
    }
    for (uint64_t s = from + 1; ok && s <= to; s++) {
        pc_timeline_entry en;
        cJSON *rec = NULL;
        ok = pc_timeline_get(tl, s, &en) == PC_OK &&
             (rec = insp_entry_json(&en, true)) != NULL &&
             cJSON_AddItemToArray(records, rec);
        if (!ok) {
            cJSON_Delete(rec);
        }
    }
    ok = ok && cJSON_AddBoolToObject(r, "more", to < last);
    if (!ok) {
        cJSON_Delete(r);
        reply_error(d, req, "internal", "out of memory");
        return;
    }
    reply_result(d, req, r);
}

static void on_route(pc__httpd *d, struct evhttp_request *req,
                     const pc__route *route, void *arg)
{
    serve_ctx *sc = arg;
    pc_timeline *tl = sc->cx->src->tl;
    if (sc->credential[0] != '\0') {
        char given[PC__BEARER_MAX + 1] = "";
        const char *h = evhttp_find_header(
            evhttp_request_get_input_headers(req), "Authorization");
        if (pc__bearer(h, given) != 1 ||
            !credential_ok(sc->credential, given)) {
            reply_error(d, req, "forbidden",
                        "this inspector needs its credential as a bearer "
                        "token");
            memset(given, 0, sizeof given);
            return;
        }
        memset(given, 0, sizeof given);
    }
    bool this_room = strcmp(route->room, pc_timeline_room(tl)) == 0;
    switch (route->kind) {
    case PC__ROUTE_ROOMS: {
        cJSON *r = cJSON_CreateObject(),
              *list = cJSON_AddArrayToObject(r, "rooms");
        cJSON *e = list != NULL ? room_entry(tl) : NULL;
        if (e == NULL || !cJSON_AddItemToArray(list, e)) {
            cJSON_Delete(e);
            cJSON_Delete(r);
            r = NULL;
        }
        reply_result(d, req, r);
        return;
    }
    case PC__ROUTE_ROOM:
    case PC__ROUTE_HISTORY:
        if (!this_room) {
            reply_error(d, req, "unknown_room", "this inspector has one room");
        } else if (route->kind == PC__ROUTE_HISTORY) {
            history(sc, d, req);
        } else {
            cJSON *r = state_object(tl, pc_timeline_last_seq(tl));
            if (r != NULL) {
                cJSON_AddStringToObject(r, "room", pc_timeline_room(tl));
            }
            reply_result(d, req, r);
        }
        return;
    default:
        reply_error(d, req, "not_found",
                    "the inspector serves /rooms, /rooms/{room}, "
                    "/rooms/{room}/history and the pages");
        return;
    }
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    serve_ctx *sc = arg;
    (void)fd;
    (void)what;
    if (insp_stop) {
        event_base_loopbreak(sc->base);
    }
}

int insp_http(insp_ctx *cx, const char *addr, const char *credential)
{
    serve_ctx sc = {cx, credential != NULL ? credential : "", NULL};
    pc_server_http_options o = {.addr = addr};
    pc__http_options_resolve(&o);
    pc_json_limits lim;
    pc_json_limits_resolve(NULL, &lim);
    lim.max_bytes = 64 * 1024;
    pc__httpd *d = NULL;
    pc_error err = {0};
    struct event *tick = NULL;
    sc.base = event_base_new();
    if (sc.base == NULL) {
        return insp_failf(cx->o, "internal", "cannot create an event loop");
    }
    /* A browser that leaves mid-reply must not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    if (pc__httpd_new(sc.base, &o, &lim, on_route, &sc, &d, &err) != PC_OK) {
        event_base_free(sc.base);
        return insp_fail(cx->o, &err);
    }
    struct timeval tv = {0, 200000};
    tick = event_new(sc.base, -1, EV_PERSIST, on_tick, &sc);
    if (tick == NULL || event_add(tick, &tv) != 0) {
        pc__httpd_free(d);
        event_base_free(sc.base);
        return insp_failf(cx->o, "internal", "cannot start a timer");
    }
    fprintf(cx->o->f, "http %s\ntravel %s/ui/travel.html?room=%s\n",
            pc__httpd_url(d), pc__httpd_url(d), pc_timeline_room(cx->src->tl));
    fflush(cx->o->f);
    event_base_dispatch(sc.base);
    event_free(tick);
    pc__httpd_free(d);
    event_base_free(sc.base);
    return 0;
}
