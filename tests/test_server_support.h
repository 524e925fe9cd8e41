/*
 * test_server_support.h - raw nng clients for the server's integration
 * tests (test_server_*.c): a REQ that sends one request and parses the
 * reply, a SUB that reads frames, and a replica that applies changes the
 * way docs/protocol.md tells clients to. Static functions only, so each
 * test executable gets its own copy; not installed, not a client library.
 *
 * Every wait is bounded (WAIT_MS) and polls for a condition; nothing here
 * sleeps for a fixed time.
 */
#ifndef PC_TEST_SERVER_SUPPORT_H
#define PC_TEST_SERVER_SUPPORT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/req.h>

#include "phasecast/canon.h"
#include "phasecast/json.h"
#include "phasecast/merge.h"
#include "phasecast/server.h"

#include "testenv.h"

/* Longest any single wait may take before the test fails: generous, and
 * six times longer under valgrind (scripts/valgrind sets
 * PHASECAST_VALGRIND=1), where a loaded 2-core machine runs everything
 * 20-50 times slower. */
static inline int pc_test_wait_ms(void)
{
    return testenv_under_valgrind() ? 60000 : 10000;
}
#define WAIT_MS pc_test_wait_ms()

/* The deadline clock (monotonic, so a clock step cannot stretch a wait). */
static inline int64_t mono_ms(void)
{
    return testenv_mono_ms();
}

/* A REQ socket dialed to url; resends are off so each request is sent
 * exactly once unless a test resends it on purpose. */
static inline nng_socket req_open(const char *url)
{
    nng_socket s;
    assert_int_equal(nng_req0_open(&s), 0);
    assert_int_equal(nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, WAIT_MS), 0);
    assert_int_equal(nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME, 0), 0);
    assert_int_equal(nng_dial(s, url, NULL, 0), 0);
    return s;
}

/* Send len bytes and return the raw reply (caller frees with free()). */
static inline char *request_raw(nng_socket s, const void *body, size_t len,
                                size_t *reply_len)
{
    assert_int_equal(nng_send(s, (void *)body, len, 0), 0);
    char *buf = NULL;
    size_t n = 0;
    int rv = nng_recv(s, &buf, &n, NNG_FLAG_ALLOC);
    if (rv != 0) {
        fail_msg("no reply: %s", nng_strerror(rv));
    }
    char *copy = malloc(n + 1);
    assert_non_null(copy);
    memcpy(copy, buf, n);
    copy[n] = '\0';
    nng_free(buf, n);
    if (reply_len != NULL) {
        *reply_len = n;
    }
    return copy;
}

/* Send a printf-formatted request; return the parsed reply (cJSON_Delete). */
static inline cJSON *request(nng_socket s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline cJSON *request(nng_socket s, const char *fmt, ...)
{
    char body[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof body);
    size_t len;
    char *text = request_raw(s, body, (size_t)n, &len);
    cJSON *reply = NULL;
    assert_int_equal(pc_json_parse(text, len, NULL, &reply, NULL), PC_OK);
    free(text);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(reply, "v")->valuedouble,
                     1);
    return reply;
}

/* The result of an ok reply (borrowed from reply). */
static inline const cJSON *ok_result(const cJSON *reply)
{
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(reply, "ok");
    if (!cJSON_IsTrue(ok)) {
        char *t = cJSON_PrintUnformatted(reply);
        fail_msg("expected ok, got %s", t);
    }
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(reply, "result");
    assert_non_null(r);
    return r;
}

/* Assert the reply is an error with this code and a message. */
static inline void assert_error(const cJSON *reply, const char *code)
{
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(reply, "ok");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(reply, "error");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
    if (!cJSON_IsFalse(ok) || !cJSON_IsString(c) || !cJSON_IsString(m) ||
        strcmp(c->valuestring, code) != 0) {
        char *t = cJSON_PrintUnformatted(reply);
        fail_msg("expected error %s, got %s", code, t);
    }
    assert_null(cJSON_GetObjectItemCaseSensitive(reply, "result"));
}

static inline double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static inline const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

/* A SUB socket dialed to url and subscribed to topic. */
static inline nng_socket sub_open(const char *url, const char *topic)
{
    nng_socket s;
    assert_int_equal(nng_sub0_open(&s), 0);
    assert_int_equal(nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, WAIT_MS), 0);
    assert_int_equal(nng_socket_set_int(s, NNG_OPT_RECVBUF, 1024), 0);
    assert_int_equal(
        nng_socket_set(s, NNG_OPT_SUB_SUBSCRIBE, topic, strlen(topic)), 0);
    assert_int_equal(nng_dial(s, url, NULL, 0), 0);
    return s;
}

/* One received PUB frame: its topic (room id) and envelope. */
typedef struct frame {
    char room[PC_ROOM_ID_MAX + 1];
    cJSON *env;
} frame;

/* Receive one frame (fails the test after WAIT_MS). */
static inline frame recv_frame(nng_socket s)
{
    char *buf = NULL;
    size_t n = 0;
    int rv = nng_recv(s, &buf, &n, NNG_FLAG_ALLOC);
    if (rv != 0) {
        fail_msg("no frame: %s", nng_strerror(rv));
    }
    frame f = {{0}, NULL};
    const char *sp = memchr(buf, ' ', n);
    assert_non_null(sp);
    size_t idlen = (size_t)(sp - buf);
    assert_true(idlen >= 1 && idlen <= PC_ROOM_ID_MAX);
    memcpy(f.room, buf, idlen);
    assert_int_equal(pc_json_parse(sp + 1, n - idlen - 1, NULL, &f.env, NULL),
                     PC_OK);
    nng_free(buf, n);
    assert_string_equal(str(f.env, "room"), f.room);
    assert_int_equal(num(f.env, "v"), 1);
    return f;
}

/* Wait for a heartbeat of room (proves the subscription is live). */
static inline void wait_heartbeat(nng_socket s, const char *room)
{
    int64_t end = mono_ms() + WAIT_MS;
    while (mono_ms() < end) {
        frame f = recv_frame(s);
        bool hb = strcmp(str(f.env, "type"), "heartbeat") == 0 &&
                  strcmp(f.room, room) == 0;
        cJSON_Delete(f.env);
        if (hb) {
            return;
        }
    }
    fail_msg("no heartbeat from %s", room);
}

/* A client's copy of a room: whole state document and its seq. */
typedef struct replica {
    cJSON *doc;
    uint64_t seq;
} replica;

static inline void hex_of(uint64_t v, char out[17])
{
    snprintf(out, 17, "%016" PRIx64, v);
}

/* Apply one CHANGE object; asserts seq is next and the checksum matches. */
static inline void replica_apply(replica *r, const cJSON *change)
{
    assert_int_equal((uint64_t)num(change, "seq"), r->seq + 1);
    const cJSON *patch = cJSON_GetObjectItemCaseSensitive(change, "patch");
    assert_true(cJSON_IsObject(patch));
    cJSON *data = cJSON_GetObjectItemCaseSensitive(r->doc, "data");
    cJSON *merged = NULL;
    assert_int_equal(pc_merge_patch(data, patch, &merged), PC_OK);
    assert_true(cJSON_ReplaceItemInObjectCaseSensitive(r->doc, "data", merged));
    assert_true(cJSON_ReplaceItemInObjectCaseSensitive(
        r->doc, "phase", cJSON_CreateString(str(change, "phase"))));
    uint64_t sum;
    char hex[17];
    assert_int_equal(pc_canon_checksum(r->doc, &sum, NULL), PC_OK);
    hex_of(sum, hex);
    assert_string_equal(hex, str(change, "sum"));
    const char *kind = str(change, "kind");
    bool event = strcmp(kind, "event") == 0;
    assert_true(event || strcmp(kind, "update") == 0 ||
                strcmp(kind, "transition") == 0);
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(change, "event");
    if (event) {
        /* An event changes nothing; one the viewer may not see is its seq
         * alone: no name, data or reason, and marked private. */
        assert_int_equal(cJSON_GetArraySize(patch), 0);
        if (ev == NULL) {
            assert_true(cJSON_IsTrue(
                cJSON_GetObjectItemCaseSensitive(change, "private")));
            assert_null(cJSON_GetObjectItemCaseSensitive(change, "reason"));
        } else {
            assert_true(strlen(str(ev, "name")) > 0);
            assert_non_null(cJSON_GetObjectItemCaseSensitive(ev, "data"));
        }
    } else {
        assert_null(ev);
    }
    if (!event || ev != NULL) {
        assert_true(strlen(str(change, "reason")) > 0);
    }
    assert_true(num(change, "time") > 1.5e12);
    r->seq++;
}

/* Start a replica from a snapshot result. */
static inline replica replica_from(const cJSON *snapshot)
{
    replica r;
    r.doc = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(snapshot, "state"),
                            true);
    assert_non_null(r.doc);
    r.seq = (uint64_t)num(snapshot, "seq");
    uint64_t sum;
    char hex[17];
    assert_int_equal(pc_canon_checksum(r.doc, &sum, NULL), PC_OK);
    hex_of(sum, hex);
    assert_string_equal(hex, str(snapshot, "sum"));
    return r;
}

#endif
