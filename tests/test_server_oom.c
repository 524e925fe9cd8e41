/*
 * test_server_oom.c - allocation-failure loops over one request of each
 * kind through the server's request channel, issue 10's included (a game
 * master's join, actions carrying expected_seq, applied and stale): for
 * N = 1, 2, ... the Nth allocation from the request on fails (once, then
 * persistently), until the request is answered without an injected
 * failure. Requests are answered in-process by the request service
 * (pc__requests_answer, what the REP socket's handler calls) on a
 * CALLER-OWNED server with a log directory; the loop then runs once so
 * the broadcast goes out. After every attempt the room's state, seq and
 * history, its change log (read back with pc_changelog_verify) and the
 * broadcast (changes sent plus changes counted lost: a frame that cannot
 * be built is a gap clients repair) have either all stayed exactly as
 * they were or all advanced by exactly what one successful request does,
 * and over the whole loop that happens once: an attempt after the work
 * was done is a repeat (same action_id, same join nonce) that the server
 * answers without doing it again. An `internal` reply means nothing
 * changed and nothing leaked (docs/protocol.md), so an action the room
 * applied or a join that was made is never answered `internal`. The game
 * is arena (support/arenagame.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/changelog.h"
#include "phasecast/history.h"
#include "phasecast/room.h"
#include "phasecast/server.h"
#include "arenagame.h"
#include "requests.h"
#include "testalloc.h"

#define INSPECTOR "oom-inspector-credential"
#define GM_CRED   "oom-game-master-credential"

/* The server, its room and the tokens of its first two viewers. */
typedef struct fixture {
    char dir[64];
    pc_server *srv;
    pc_room *room;
    char alice[40], gm[40];
} fixture;

static fixture fx;

/* The reply to body (caller frees with cJSON_free), or NULL when the
 * service itself ran out of memory. */
static char *answer(const char *body)
{
    char *text = NULL;
    size_t n = 0;
    if (pc__requests_answer(fx.srv, body, strlen(body), &text, &n) != PC_OK) {
        return NULL;
    }
    return text;
}

static bool reply_ok(const char *text)
{
    cJSON *r = text != NULL ? cJSON_Parse(text) : NULL;
    bool ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok"));
    cJSON_Delete(r);
    return ok;
}

/* The reply says the server failed (or there is none at all). */
static bool reply_internal(const char *text)
{
    cJSON *r = text != NULL ? cJSON_Parse(text) : NULL;
    const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(r, "error"), "code"));
    bool internal =
        text == NULL || (code != NULL && strcmp(code, "internal") == 0);
    cJSON_Delete(r);
    return internal;
}

/* Join as name (game master with the credential when gm); the token. */
static void join(const char *name, bool gm, char *token)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"v\":1,\"op\":\"join\",\"room\":\"g\",\"role\":\"%s\","
             "\"name\":\"%s\"%s}",
             gm ? "gm" : "player", name,
             gm ? ",\"credential\":\"" GM_CRED "\"" : "");
    char *text = answer(body);
    cJSON *r = cJSON_Parse(text);
    const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(r, "result"), "token"));
    assert_non_null(t);
    snprintf(token, 40, "%s", t);
    cJSON_Delete(r);
    cJSON_free(text);
}

static int setup(void **state)
{
    testalloc_setup(state);
    arenagame_init();
    memset(&fx, 0, sizeof fx);
    snprintf(fx.dir, sizeof fx.dir, "/tmp/pc-srvoom-XXXXXX");
    if (mkdtemp(fx.dir) == NULL) {
        return -1;
    }
    pc_server_options o;
    pc_server_options_init(&o);
    o.pub_url = "inproc://pc-test-oom-pub";
    o.rep_url = "inproc://pc-test-oom-rep";
    o.heartbeat_ms = -1;
    o.inspector_credential = INSPECTOR;
    o.log_dir = fx.dir;
    o.fsync = PC_FSYNC_ALWAYS;
    pc_server_room_options ro;
    pc_server_room_options_init(&ro);
    ro.room.id = "g";
    ro.room.history_capacity = 8;
    ro.room.seed = 7;
    ro.room.seed_set = true;
    ro.gm_credential = GM_CRED;
    if (pc_server_new(&o, &fx.srv, NULL) != PC_OK ||
        pc_server_add_room(fx.srv, arenagame(), &ro, &fx.room) != PC_OK) {
        return -1;
    }
    join("alice", false, fx.alice);
    join("gm", true, fx.gm);
    char body[256];
    snprintf(body, sizeof body,
             "{\"v\":1,\"op\":\"action\",\"room\":\"g\",\"token\":\"%s\","
             "\"action_id\":\"a0\",\"type\":\"add\",\"payload\":{\"id\":"
             "\"orc\",\"hp\":1000}}",
             fx.gm);
    char *t = answer(body);
    assert_true(reply_ok(t));
    cJSON_free(t);
    assert_int_equal(pc_server_run_once(fx.srv, 0), PC_OK);
    return 0;
}

static int teardown(void **state)
{
    pc_server_free(fx.srv);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", fx.dir);
    int failed = testalloc_teardown(state);
    return system(cmd) == 0 && failed == 0 ? 0 : -1;
}

/* Everything a request may change. */
typedef struct probe {
    char *state; /* canonical text (pc_free) */
    uint64_t seq, first;
    size_t count;
    uint64_t log_records;
    uint64_t broadcast; /* changes sent plus changes lost */
} probe;

static void look(probe *p)
{
    char path[128];
    assert_int_equal(pc_canon_print(pc_room_state(fx.room), &p->state, NULL),
                     PC_OK);
    p->seq = pc_room_seq(fx.room);
    p->first = pc_history_first_seq(fx.room);
    p->count = pc_history_count(fx.room);
    pc_changelog_report rep;
    snprintf(path, sizeof path, "%s/g.pclog", fx.dir);
    assert_int_equal(pc_changelog_verify(path, &rep), PC_OK);
    assert_int_equal(rep.last_seq, p->seq);
    p->log_records = rep.records;
    pc_server_stats ss;
    assert_int_equal(pc_server_stats_get(fx.srv, &ss), PC_OK);
    p->broadcast = ss.changes + ss.changes_lost;
}

/* One request kind and what a success changes. Its body names alice's
 * token @A@, the game master's @G@, and @S@ the room's seq minus
 * `behind`. */
typedef struct req {
    const char *body;
    uint64_t behind;
    int changes;  /* seqs a success adds */
    bool refused; /* answered with an error even when all is well */
} req;

/* r->body with its placeholders filled in, into out. */
static void fill(const req *r, char *out, size_t size)
{
    char seq[24];
    snprintf(seq, sizeof seq, "%llu",
             (unsigned long long)(pc_room_seq(fx.room) - r->behind));
    size_t o = 0;
    for (const char *p = r->body; *p != '\0' && o + 1 < size;) {
        const char *v = strncmp(p, "@A@", 3) == 0   ? fx.alice
                        : strncmp(p, "@G@", 3) == 0 ? fx.gm
                        : strncmp(p, "@S@", 3) == 0 ? seq
                                                    : NULL;
        if (v == NULL) {
            out[o++] = *p++;
            continue;
        }
        size_t n = strlen(v);
        assert_true(o + n + 1 < size);
        memcpy(out + o, v, n);
        o += n;
        p += 3;
    }
    out[o] = '\0';
}

/* Fail allocation 1, 2, ... of r until it is answered clean; the number
 * of attempts that failed. Once a request has done its work (the action
 * applied, the join made), the next attempts are repeats: the same
 * action_id, the same join nonce, which the server must answer without
 * doing it again. So over the whole loop it is done exactly once. */
static int failure_loop(const req *r, bool persistent)
{
    char body[512];
    int failures = 0;
    uint64_t total = 0; /* seqs added over the whole loop */
    for (size_t n = 1;; n++) {
        fill(r, body, sizeof body);
        probe a, b;
        look(&a);
        size_t live = testalloc_live();
        testalloc_fail_at(n, persistent);
        char *text = answer(body);
        bool injected = testalloc_failed();
        testalloc_fail_at(0, false);
        bool ok = reply_ok(text), internal = reply_internal(text);
        if (getenv("OOM_DEBUG") != NULL) {
            fprintf(stderr, "n=%zu injected=%d reply=%s\n", n, injected,
                    text != NULL ? text : "(none)");
        }
        cJSON_free(text);
        assert_int_equal(pc_server_run_once(fx.srv, 0), PC_OK);
        look(&b);
        assert_false(pc_room_failed(fx.room, NULL));
        uint64_t k = b.seq != a.seq ? (uint64_t)r->changes : 0;
        /* All moved by exactly what one success does, or none did. */
        assert_int_equal(b.seq, a.seq + k);
        assert_int_equal(b.log_records, a.log_records + k);
        assert_int_equal(b.broadcast, a.broadcast + k);
        assert_int_equal(b.count - a.count + b.first - a.first, k);
        assert_true(k > 0 || strcmp(a.state, b.state) == 0);
        total += k;
        assert_true(total <= (uint64_t)r->changes); /* never twice */
        if (ok) {
            /* Done now, or a repeat of what was done before. */
            assert_false(r->refused);
            assert_int_equal(total, (uint64_t)r->changes);
        } else if (internal) {
            /* "internal": nothing changed and nothing leaked (a players
             * file may keep a pending join, which a restart undoes). */
            assert_int_equal(k, 0);
            assert_int_equal(testalloc_live(), live + 1); /* b.state */
        }
        /* Otherwise a typed refusal: the stale action's conflict, or a
         * join's log_write_failed (made or not, as its message says). */
        pc_free(a.state);
        pc_free(b.state);
        if (!injected) {
            assert_true(ok != r->refused);
            break;
        }
        failures++;
    }
    return failures;
}

#define REQ(op) "{\"v\":1,\"op\":\"" op "\",\"room\":\"g\""
#define ACT(id, type, tail)                                                    \
    REQ("action")                                                              \
    ",\"token\":\"@A@\",\"action_id\":\"" id "\",\"type\":\"" type             \
    "\",\"payload\":{\"target\":\"orc\",\"dmg\":1}" tail "}"

#define NONCE ",\"nonce\":\"oom-nonce-0123456789abcdef\""

static const req reqs[] = {
    {"{\"v\":1,\"op\":\"ping\"}", 0, 0, false},
    {"{\"v\":1,\"op\":\"info\"}", 0, 0, false},
    {REQ("join") ",\"role\":\"player\",\"name\":\"bob\"" NONCE "}", 0, 1,
     false},
    {REQ("join") ",\"role\":\"gm\",\"name\":\"gm2\",\"credential\":"
                 "\"" GM_CRED "\"" NONCE "}",
     0, 0, false},
    {REQ("join") ",\"role\":\"spectator\"}", 0, 0, false},
    {REQ("snapshot") ",\"token\":\"@A@\"}", 0, 0, false},
    {REQ("snapshot") ",\"credential\":\"" INSPECTOR "\"}", 0, 0, false},
    {REQ("changes") ",\"token\":\"@G@\",\"since\":@S@}", 1, 0, false},
    {ACT("s1", "say", ""), 0, 1, false},
    /* expected_seq is the room's seq as it was when the loop began */
    {ACT("h1", "hit", ",\"expected_seq\":2"), 0, 1, false},
    {ACT("h2", "hit", ",\"expected_seq\":@S@"), 1, 0, true},
    {REQ("inspect") ",\"credential\":\"" INSPECTOR "\",\"since\":@S@}", 1, 0,
     false},
    {REQ("report") ",\"token\":\"@A@\",\"kind\":\"checksum_mismatch\","
                   "\"seq\":1}",
     0, 0, false},
};

enum {
    PING,
    INFO,
    JOIN_PLAYER,
    JOIN_GM,
    JOIN_SPECTATOR,
    SNAPSHOT,
    SNAPSHOT_INSPECTOR,
    CHANGES,
    ACTION,
    ACTION_EXPECTED,
    ACTION_STALE,
    INSPECT,
    REPORT
};

/* One test per request kind and mode, each on a fresh server: a join
 * or an action that succeeded would be a repeat in the second loop. */
#define CASE(name, which)                                                      \
    static void name##_once(void **state)                                      \
    {                                                                          \
        (void)state;                                                           \
        /* Every request allocates (parsing it, at least). */                  \
        assert_true(failure_loop(&reqs[which], false) > 0);                    \
    }                                                                          \
    static void name##_persistently(void **state)                              \
    {                                                                          \
        (void)state;                                                           \
        assert_true(failure_loop(&reqs[which], true) > 0);                     \
    }

CASE(test_ping_survives_allocation_failures, PING)
CASE(test_info_survives_allocation_failures, INFO)
CASE(test_player_join_is_atomic_when_allocation_fails, JOIN_PLAYER)
CASE(test_gm_join_is_atomic_when_allocation_fails, JOIN_GM)
CASE(test_spectator_join_survives_allocation_failures, JOIN_SPECTATOR)
CASE(test_snapshot_survives_allocation_failures, SNAPSHOT)
CASE(test_inspector_snapshot_survives_allocation_failures, SNAPSHOT_INSPECTOR)
CASE(test_changes_survives_allocation_failures, CHANGES)
CASE(test_action_is_atomic_when_allocation_fails, ACTION)
CASE(test_expected_seq_action_is_atomic_when_allocation_fails, ACTION_EXPECTED)
CASE(test_stale_action_changes_nothing_when_allocation_fails, ACTION_STALE)
CASE(test_inspect_survives_allocation_failures, INSPECT)
CASE(test_report_survives_allocation_failures, REPORT)

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_ping_survives_allocation_failures_once),
        T(test_ping_survives_allocation_failures_persistently),
        T(test_info_survives_allocation_failures_once),
        T(test_info_survives_allocation_failures_persistently),
        T(test_player_join_is_atomic_when_allocation_fails_once),
        T(test_player_join_is_atomic_when_allocation_fails_persistently),
        T(test_gm_join_is_atomic_when_allocation_fails_once),
        T(test_gm_join_is_atomic_when_allocation_fails_persistently),
        T(test_spectator_join_survives_allocation_failures_once),
        T(test_spectator_join_survives_allocation_failures_persistently),
        T(test_snapshot_survives_allocation_failures_once),
        T(test_snapshot_survives_allocation_failures_persistently),
        T(test_inspector_snapshot_survives_allocation_failures_once),
        T(test_inspector_snapshot_survives_allocation_failures_persistently),
        T(test_changes_survives_allocation_failures_once),
        T(test_changes_survives_allocation_failures_persistently),
        T(test_action_is_atomic_when_allocation_fails_once),
        T(test_action_is_atomic_when_allocation_fails_persistently),
        T(test_expected_seq_action_is_atomic_when_allocation_fails_once),
        T(test_expected_seq_action_is_atomic_when_allocation_fails_persistently),
        T(test_stale_action_changes_nothing_when_allocation_fails_once),
        T(test_stale_action_changes_nothing_when_allocation_fails_persistently),
        T(test_inspect_survives_allocation_failures_once),
        T(test_inspect_survives_allocation_failures_persistently),
        T(test_report_survives_allocation_failures_once),
        T(test_report_survives_allocation_failures_persistently),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    pc_transport_fini();
    return failed;
}
