/*
 * test_server_http.c - the HTTP bridge's routes over real TCP: every
 * route and its errors with their HTTP statuses, the limits (body size,
 * content type, rate, methods), CORS, idempotent actions, and the views:
 * a player's secret never reaches another player or the public over
 * HTTP, the inspector credential opens the whole state and the history.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/room.h"
#include "phasecast/server.h"
#include "countergame.h"
#include "framework/failpoint.h"
#include "httpc.h"
#include "testnet.h"

#define CREDENTIAL "inspector-credential-0123456789"
#define JSON       "Content-Type: application/json\r\n"

typedef struct fixture {
    pc_server *srv;
    const char *url;
} fixture;

static pc_server *serve(const pc_server_options *extra)
{
    pc_server_options o;
    if (extra != NULL) {
        o = *extra;
    } else {
        pc_server_options_init(&o);
    }
    o.pub_url = "tcp://127.0.0.1:0";
    o.rep_url = "tcp://127.0.0.1:0";
    o.http.addr = "127.0.0.1:0";
    o.heartbeat_ms = 100;
    if (o.inspector_credential == NULL) {
        o.inspector_credential = CREDENTIAL;
    }
    pc_server *srv = NULL;
    pc_error e = {0};
    if (pc_server_new(&o, &srv, &e) != PC_OK) {
        fail_msg("pc_server_new: %s", e.message);
    }
    pc_server_room_options ro;
    pc_server_room_options_init(&ro);
    ro.room.id = "r1";
    ro.room.history_capacity = 20;
    assert_int_equal(pc_server_add_room(srv, countergame(), &ro, NULL), PC_OK);
    assert_int_equal(pc_server_start(srv), PC_OK);
    return srv;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->srv = serve(NULL);
    f->url = pc_server_http_url(f->srv);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pc_server_free(f->srv);
    free(f);
    return 0;
}

/* Do a request; fail unless the status is want; the parsed body. */
static cJSON *call(const fixture *f, const char *method, const char *path,
                   const char *headers, const char *body, int want)
{
    httpc_reply r;
    assert_int_equal(httpc_do(f->url, method, path, headers, body,
                              body != NULL ? strlen(body) : 0, &r),
                     0);
    if (r.status != want) {
        fail_msg("%s %s: status %d, want %d: %s", method, path, r.status, want,
                 r.body);
    }
    char type[128] = "";
    if (r.body_len > 0) {
        assert_int_equal(httpc_header(&r, "Content-Type", type, sizeof type),
                         0);
        assert_string_equal(type, "application/json");
    }
    cJSON *j = r.body_len > 0 ? cJSON_Parse(r.body) : NULL;
    if (r.body_len > 0) {
        assert_non_null(j);
        assert_int_equal(cJSON_GetObjectItem(j, "v")->valueint, 1);
    }
    httpc_reply_free(&r);
    return j;
}

/* Fail unless the reply is the error code with status. */
static void expect_error(const fixture *f, const char *method, const char *path,
                         const char *headers, const char *body, int status,
                         const char *code)
{
    cJSON *j = call(f, method, path, headers, body, status);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(j, "ok")));
    const cJSON *e = cJSON_GetObjectItem(j, "error");
    assert_string_equal(cJSON_GetObjectItem(e, "code")->valuestring, code);
    assert_true(cJSON_IsString(cJSON_GetObjectItem(e, "message")));
    cJSON_Delete(j);
}

static const cJSON *result(const cJSON *j)
{
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "ok")));
    return cJSON_GetObjectItem(j, "result");
}

/* Join name; its token copied into tok (33 bytes). */
static void join(const fixture *f, const char *name, char *tok)
{
    char body[128];
    snprintf(body, sizeof body, "{\"role\":\"player\",\"name\":\"%s\"}", name);
    cJSON *j = call(f, "POST", "/rooms/r1/join", JSON, body, 200);
    snprintf(tok, 33, "%s",
             cJSON_GetObjectItem(result(j), "token")->valuestring);
    cJSON_Delete(j);
}

static void auth(char *out, size_t cap, const char *extra, const char *tok)
{
    snprintf(out, cap, "%sAuthorization: Bearer %s\r\n", extra, tok);
}

static void commit(fixture *f, const char *text, int count)
{
    testnet_commit(f->srv, "r1", text, count);
}

static void test_rooms_and_snapshots(void **state)
{
    fixture *f = *state;
    commit(f, NULL, 3);
    cJSON *j = call(f, "GET", "/rooms", NULL, NULL, 200);
    const cJSON *rooms = cJSON_GetObjectItem(result(j), "rooms");
    assert_int_equal(cJSON_GetArraySize(rooms), 1);
    const cJSON *r0 = cJSON_GetArrayItem(rooms, 0);
    assert_string_equal(cJSON_GetObjectItem(r0, "room")->valuestring, "r1");
    assert_string_equal(cJSON_GetObjectItem(r0, "game")->valuestring,
                        "counter");
    assert_int_equal(cJSON_GetObjectItem(r0, "seq")->valueint, 3);
    cJSON_Delete(j);

    j = call(f, "GET", "/rooms/r1", NULL, NULL, 200);
    assert_int_equal(cJSON_GetObjectItem(result(j), "seq")->valueint, 3);
    const cJSON *st = cJSON_GetObjectItem(result(j), "state");
    assert_int_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(st, "data"), "n")->valueint, 3);
    cJSON_Delete(j);

    expect_error(f, "GET", "/rooms/nope", NULL, NULL, 404, "unknown_room");
    expect_error(f, "GET", "/nothing/here", NULL, NULL, 404, "not_found");
    expect_error(f, "GET", "/rooms/r1/", NULL, NULL, 404, "not_found");
    expect_error(f, "GET", "/rooms/a%20b", NULL, NULL, 404, "not_found");
    expect_error(f, "GET", "/ui/../../etc/passwd", NULL, NULL, 404,
                 "not_found");
    expect_error(f, "GET", "/rooms/r1",
                 "Authorization: Basic YWxhZGRpbjpvcGVu\r\n", NULL, 401,
                 "bad_token");
    expect_error(f, "GET", "/rooms/r1",
                 "Authorization: Bearer 0123456789abcdef0123456789abcdef\r\n",
                 NULL, 401, "bad_token");

    httpc_reply r;
    assert_int_equal(httpc_do(f->url, "GET", "/", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 302);
    char loc[64];
    assert_int_equal(httpc_header(&r, "Location", loc, sizeof loc), 0);
    assert_string_equal(loc, "/ui/");
    httpc_reply_free(&r);
    /* /metrics: Prometheus text, counting this very traffic. */
    assert_int_equal(httpc_do(f->url, "GET", "/metrics", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    char type[96];
    assert_int_equal(httpc_header(&r, "Content-Type", type, sizeof type), 0);
    assert_string_equal(type, "text/plain; version=0.0.4; charset=utf-8");
    assert_non_null(
        strstr(r.body, "phasecast_http_requests_total{class=\"4xx\"} 7\n"));
    assert_non_null(
        strstr(r.body, "phasecast_http_requests_total{class=\"3xx\"} 1\n"));
    assert_non_null(strstr(r.body, "phasecast_rooms 1\n"));
    httpc_reply_free(&r);
    assert_int_equal(httpc_do(f->url, "GET", "/ui/", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "<html"));
    httpc_reply_free(&r);
}

static void test_changes_and_too_old(void **state)
{
    fixture *f = *state;
    commit(f, NULL, 5);
    cJSON *j = call(f, "GET", "/rooms/r1/changes?since=2", NULL, NULL, 200);
    const cJSON *ch = cJSON_GetObjectItem(result(j), "changes");
    assert_int_equal(cJSON_GetArraySize(ch), 3);
    assert_int_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(ch, 0), "seq")->valueint, 3);
    cJSON_Delete(j);
    j = call(f, "GET", "/rooms/r1/changes?since=0&limit=2&cachebust=x", NULL,
             NULL, 200);
    assert_int_equal(
        cJSON_GetArraySize(cJSON_GetObjectItem(result(j), "changes")), 2);
    cJSON_Delete(j);
    expect_error(f, "GET", "/rooms/r1/changes", NULL, NULL, 400, "bad_request");
    expect_error(f, "GET", "/rooms/r1/changes?since=-1", NULL, NULL, 400,
                 "bad_request");
    expect_error(f, "GET", "/rooms/r1/changes?since=1&since=2", NULL, NULL, 400,
                 "bad_request");
    expect_error(f, "GET", "/rooms/r1/changes?since=99", NULL, NULL, 400,
                 "bad_request");
    commit(f, NULL, 30); /* the ring keeps 20 */
    expect_error(f, "GET", "/rooms/r1/changes?since=1", NULL, NULL, 410,
                 "too_old");
}

static void test_actions_join_and_limits(void **state)
{
    fixture *f = *state;
    char alice[33], h[256];
    join(f, "alice", alice);
    expect_error(f, "POST", "/rooms/r1/join", JSON,
                 "{\"role\":\"player\",\"name\":\"alice\"}", 409, "name_taken");
    auth(h, sizeof h, JSON, alice);
    const char *inc = "{\"action_id\":\"a1\",\"type\":\"inc\"}";
    cJSON *j1 = call(f, "POST", "/rooms/r1/actions", h, inc, 200);
    assert_int_equal(cJSON_GetObjectItem(result(j1), "seq")->valueint, 1);
    /* The same action id again: the first reply, nothing applied. */
    cJSON *j2 = call(f, "POST", "/rooms/r1/actions", h, inc, 200);
    char *t1 = cJSON_PrintUnformatted(j1), *t2 = cJSON_PrintUnformatted(j2);
    assert_string_equal(t1, t2);
    free(t1);
    free(t2);
    cJSON_Delete(j1);
    cJSON_Delete(j2);
    expect_error(f, "POST", "/rooms/r1/actions", h,
                 "{\"action_id\":\"a2\",\"type\":\"fly\"}", 422,
                 "unknown_action");
    expect_error(f, "POST", "/rooms/r1/actions", JSON,
                 "{\"action_id\":\"a3\",\"type\":\"inc\"}", 401, "bad_token");
    expect_error(f, "POST", "/rooms/r1/actions", h,
                 "{\"action_id\":\"a3\",\"type\":\"inc\",\"token\":\"x\"}", 400,
                 "bad_request");
    expect_error(f, "POST", "/rooms/r1/actions", h, "{\"action_id\":", 400,
                 "bad_request");
    expect_error(f, "POST", "/rooms/r1/actions", h, "[1,2]", 400,
                 "bad_request");
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 99);
    deep[199] = '\0';
    expect_error(f, "POST", "/rooms/r1/actions", h, deep, 413,
                 "limit_exceeded");
    expect_error(f, "POST", "/rooms/r1/actions", NULL, inc, 415,
                 "unsupported_media_type");
    expect_error(f, "GET", "/rooms/r1/actions", NULL, NULL, 405,
                 "method_not_allowed");
    expect_error(f, "DELETE", "/rooms/r1", NULL, NULL, 405,
                 "method_not_allowed");
    expect_error(f, "OPTIONS", "/rooms/r1", NULL, NULL, 405,
                 "method_not_allowed");
    /* Nothing above changed the room but the one inc. */
    cJSON *s = call(f, "GET", "/rooms/r1", NULL, NULL, 200);
    assert_int_equal(cJSON_GetObjectItem(result(s), "seq")->valueint, 1);
    cJSON_Delete(s);
}

static void test_body_limit(void **state)
{
    (void)state;
    pc_server_options o;
    pc_server_options_init(&o);
    o.max_message_bytes = 1024;
    fixture f = {.srv = serve(&o)};
    f.url = pc_server_http_url(f.srv);
    char tok[33], h[256];
    join(&f, "alice", tok);
    auth(h, sizeof h, JSON, tok);
    char big[1500];
    memset(big, 'x', sizeof big);
    memcpy(big, "{\"action_id\":\"a\",\"type\":\"inc\",\"payload\":\"", 41);
    memcpy(big + sizeof big - 3, "\"}", 3);
    expect_error(&f, "POST", "/rooms/r1/actions", h, big, 413,
                 "limit_exceeded");
    /* Past twice the limit evhttp itself refuses it, on the announced
     * length alone: 413 (its own page, not JSON) and the connection
     * closed. (The body is not sent: a server closing with unread bytes
     * resets the connection, and the reset can discard the reply.) */
    httpc_reply r;
    char h2[320];
    snprintf(h2, sizeof h2, "%sContent-Length: 4096\r\n", h);
    assert_int_equal(
        httpc_do(f.url, "POST", "/rooms/r1/actions", h2, NULL, 0, &r), 0);
    assert_int_equal(r.status, 413);
    httpc_reply_free(&r);
    /* A header block over the cap: evhttp answers 400 and closes (the
     * client may see only the reset, if the close beat the reply). */
    static char hdr[16384];
    snprintf(hdr, sizeof hdr, "X-Pad: %0*d\r\n", 12000, 0);
    if (httpc_do(f.url, "GET", "/rooms", hdr, NULL, 0, &r) == 0) {
        assert_int_equal(r.status, 400);
        httpc_reply_free(&r);
    }
    cJSON *s = call(&f, "GET", "/rooms/r1", NULL, NULL, 200);
    assert_int_equal(cJSON_GetObjectItem(result(s), "seq")->valueint, 0);
    cJSON_Delete(s);
    pc_server_free(f.srv);
}

static void test_rate_limit_and_cors(void **state)
{
    (void)state;
    pc_server_options o;
    pc_server_options_init(&o);
    o.http.rate = 5; /* bursts of 10 */
    o.http.cors_origin = "https://game.example";
    fixture f = {.srv = serve(&o)};
    f.url = pc_server_http_url(f.srv);
    int ok = 0, limited = 0;
    for (int i = 0; i < 40; i++) {
        httpc_reply r;
        assert_int_equal(httpc_do(f.url, "GET", "/rooms", NULL, NULL, 0, &r),
                         0);
        if (r.status == 200) {
            ok++;
            char acao[64];
            assert_int_equal(httpc_header(&r, "Access-Control-Allow-Origin",
                                          acao, sizeof acao),
                             0);
            assert_string_equal(acao, "https://game.example");
        } else {
            assert_int_equal(r.status, 429);
            char ra[16];
            assert_int_equal(httpc_header(&r, "Retry-After", ra, sizeof ra), 0);
            assert_non_null(strstr(r.body, "\"rate_limited\""));
            limited++;
        }
        httpc_reply_free(&r);
    }
    /* At most the burst plus what refilled meanwhile got through. */
    assert_true(ok >= 10);
    assert_true(limited > 0);
    pc_server_http_stats hs;
    assert_int_equal(pc_server_http_stats_get(f.srv, &hs), PC_OK);
    assert_int_equal(hs.rate_limited, (uint64_t)limited);
    assert_int_equal(hs.responses[4], (uint64_t)limited);
    pc_server_free(f.srv);

    /* A CORS preflight is answered when CORS is on. */
    o.http.rate = 0;
    f.srv = serve(&o);
    f.url = pc_server_http_url(f.srv);
    httpc_reply r;
    assert_int_equal(httpc_do(f.url, "OPTIONS", "/rooms/r1/actions",
                              "Origin: https://game.example\r\n"
                              "Access-Control-Request-Method: POST\r\n",
                              NULL, 0, &r),
                     0);
    assert_int_equal(r.status, 204);
    char m[64];
    assert_int_equal(
        httpc_header(&r, "Access-Control-Allow-Methods", m, sizeof m), 0);
    assert_string_equal(m, "POST");
    httpc_reply_free(&r);
    pc_server_free(f.srv);
}

static void test_views_and_inspector(void **state)
{
    fixture *f = *state;
    char alice[33], bob[33], h[256];
    join(f, "alice", alice);
    join(f, "bob", bob);
    commit(f,
           "{\"hands\":{\"alice\":{\"secret\":\"CANARY-alice\"},"
           "\"bob\":{\"secret\":\"CANARY-bob\"}}}",
           1);
    /* The public view and each player's. */
    httpc_reply r;
    assert_int_equal(httpc_do(f->url, "GET", "/rooms/r1", NULL, NULL, 0, &r),
                     0);
    assert_null(strstr(r.body, "CANARY"));
    httpc_reply_free(&r);
    auth(h, sizeof h, "", alice);
    assert_int_equal(httpc_do(f->url, "GET", "/rooms/r1", h, NULL, 0, &r), 0);
    assert_non_null(strstr(r.body, "CANARY-alice"));
    assert_null(strstr(r.body, "CANARY-bob"));
    httpc_reply_free(&r);
    assert_int_equal(
        httpc_do(f->url, "GET", "/rooms/r1/changes?since=0", h, NULL, 0, &r),
        0);
    assert_non_null(strstr(r.body, "CANARY-alice"));
    assert_null(strstr(r.body, "CANARY-bob"));
    httpc_reply_free(&r);
    assert_int_equal(
        httpc_do(f->url, "GET", "/rooms/r1/changes?since=0", NULL, NULL, 0, &r),
        0);
    assert_null(strstr(r.body, "CANARY"));
    httpc_reply_free(&r);
    /* The inspector: the whole state and the history; nobody else. */
    auth(h, sizeof h, "", CREDENTIAL);
    assert_int_equal(httpc_do(f->url, "GET", "/rooms/r1", h, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "CANARY-alice"));
    assert_non_null(strstr(r.body, "CANARY-bob"));
    assert_null(strstr(r.body, CREDENTIAL));
    httpc_reply_free(&r);
    cJSON *j = call(f, "GET", "/rooms/r1/history", h, NULL, 200);
    assert_int_equal(cJSON_GetObjectItem(result(j), "seq")->valueint, 1);
    assert_int_equal(
        cJSON_GetArraySize(cJSON_GetObjectItem(result(j), "records")), 1);
    cJSON_Delete(j);
    j = call(f, "GET", "/rooms/r1/history?since=1", h, NULL, 200);
    assert_int_equal(
        cJSON_GetArraySize(cJSON_GetObjectItem(result(j), "records")), 0);
    cJSON_Delete(j);
    expect_error(f, "GET", "/rooms/r1/history", NULL, NULL, 403, "forbidden");
    auth(h, sizeof h, "", alice);
    expect_error(f, "GET", "/rooms/r1/history", h, NULL, 403, "forbidden");
    auth(h, sizeof h, "", "inspector-credential-0123456780");
    expect_error(f, "GET", "/rooms/r1", h, NULL, 401, "bad_token");
}

static void arm_on_loop(pc_server *srv, void *arg)
{
    (void)srv;
    *(bool *)arg =
        pc__failpoint_configure(*(bool *)arg ? "log.write=eio@1" : NULL);
}

/* A change log that cannot be written: 503 for the action whose change
 * it lost, 503 room_failed after; reads still answer 200. */
static void test_log_failure_is_503(void **state)
{
    (void)state;
    char dir[] = "/tmp/pc-http-XXXXXX";
    assert_non_null(mkdtemp(dir));
    pc_server_options o;
    pc_server_options_init(&o);
    o.log_dir = dir;
    o.fsync = PC_FSYNC_ALWAYS;
    fixture f = {.srv = serve(&o)};
    f.url = pc_server_http_url(f.srv);
    char tok[33], h[256];
    join(&f, "alice", tok);
    auth(h, sizeof h, JSON, tok);
    cJSON *j = call(&f, "POST", "/rooms/r1/actions", h,
                    "{\"action_id\":\"a1\",\"type\":\"inc\"}", 200);
    cJSON_Delete(j);
    bool arm = true;
    assert_int_equal(pc_server_call(f.srv, arm_on_loop, &arm), PC_OK);
    assert_true(arm);
    expect_error(&f, "POST", "/rooms/r1/actions", h,
                 "{\"action_id\":\"a2\",\"type\":\"inc\"}", 503,
                 "log_write_failed");
    expect_error(&f, "POST", "/rooms/r1/actions", h,
                 "{\"action_id\":\"a3\",\"type\":\"inc\"}", 503, "room_failed");
    j = call(&f, "GET", "/rooms/r1", NULL, NULL, 200);
    assert_int_equal(cJSON_GetObjectItem(result(j), "seq")->valueint, 1);
    cJSON_Delete(j);
    arm = false;
    assert_int_equal(pc_server_call(f.srv, arm_on_loop, &arm), PC_OK);
    pc_server_free(f.srv);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rooms_and_snapshots, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_changes_and_too_old, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_actions_join_and_limits, setup,
                                        teardown),
        cmocka_unit_test(test_body_limit),
        cmocka_unit_test(test_rate_limit_and_cors),
        cmocka_unit_test(test_log_failure_is_503),
        cmocka_unit_test_setup_teardown(test_views_and_inspector, setup,
                                        teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    pc_transport_fini();
    return failed;
}
