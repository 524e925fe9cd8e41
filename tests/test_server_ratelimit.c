/*
 * test_server_ratelimit.c - the per-player action rate limit
 * (pc_server_options.action_rate and action_burst, docs/protocol.md
 * "action") over real nng sockets (tcp on 127.0.0.1): a flood from one
 * player is refused with rate_limited once its bucket is empty while
 * another player's actions keep succeeding, refusals change nothing and
 * are not remembered (the same action_id is applied once the bucket has
 * refilled), repeats of an answered action cost nothing, the HTTP bridge
 * answers the same refusal with 429 and Retry-After, and without a rate
 * nothing is limited. Time is the room's clock, which the test moves
 * by hand, so no assertion depends on how fast anything runs.
 */
#include "test_server_support.h"

#include <stdatomic.h>

#include "phasecast/room.h"
#include "countergame.h"
#include "httpc.h"

#define RATE  10 /* actions per second */
#define BURST 5

typedef struct fixture {
    pc_server *srv;
    nng_socket req;
    char *alice, *bob;
} fixture;

static fixture fx;
static _Atomic int64_t clock_ms = 1700000000000; /* the room's clock */

static int64_t test_clock(void *arg)
{
    (void)arg;
    return atomic_load(&clock_ms);
}

static char *join(const char *name)
{
    cJSON *r = request(fx.req,
                       "{\"v\":1,\"op\":\"join\",\"room\":\"r1\",\"role\":"
                       "\"player\",\"name\":\"%s\"}",
                       name);
    char *tok = strdup(str(ok_result(r), "token"));
    cJSON_Delete(r);
    return tok;
}

static int start(unsigned rate, unsigned burst, bool http)
{
    memset(&fx, 0, sizeof fx);
    pc_server_options o;
    pc_server_options_init(&o);
    o.pub_url = "tcp://127.0.0.1:0";
    o.rep_url = "tcp://127.0.0.1:0";
    o.heartbeat_ms = -1;
    o.action_rate = rate;
    o.action_burst = burst;
    o.http.addr = http ? "127.0.0.1:0" : NULL;
    if (pc_server_new(&o, &fx.srv, NULL) != PC_OK) {
        return -1;
    }
    pc_server_room_options ro;
    pc_server_room_options_init(&ro);
    ro.room.id = "r1";
    ro.room.clock = test_clock;
    if (pc_server_add_room(fx.srv, countergame(), &ro, NULL) != PC_OK ||
        pc_server_start(fx.srv) != PC_OK) {
        return -1;
    }
    fx.req = req_open(pc_server_rep_url(fx.srv));
    fx.alice = join("alice");
    fx.bob = join("bob");
    return 0;
}

static int setup(void **state)
{
    (void)state;
    return start(RATE, BURST, false);
}

static int setup_http(void **state)
{
    (void)state;
    return start(RATE, BURST, true);
}

static int setup_unlimited(void **state)
{
    (void)state;
    return start(0, 0, false);
}

static int teardown(void **state)
{
    (void)state;
    nng_close(fx.req);
    pc_server_free(fx.srv);
    free(fx.alice);
    free(fx.bob);
    return 0;
}

/* One "inc" by token with this action id; the parsed reply. */
static cJSON *inc(const char *token, const char *id)
{
    return request(fx.req,
                   "{\"v\":1,\"op\":\"action\",\"room\":\"r1\",\"token\":"
                   "\"%s\",\"action_id\":\"%s\",\"type\":\"inc\"}",
                   token, id);
}

static bool is_ok(const cJSON *reply)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"));
}

/* The room's seq, from a snapshot. */
static uint64_t room_seq(void)
{
    cJSON *r = request(fx.req, "{\"v\":1,\"op\":\"snapshot\",\"room\":\"r1\"}");
    uint64_t seq = (uint64_t)num(ok_result(r), "seq");
    cJSON_Delete(r);
    return seq;
}

static void
test_a_flood_from_one_player_is_refused_while_others_act(void **state)
{
    (void)state;
    uint64_t seq0 = room_seq();
    int alice_ok = 0, alice_limited = 0, bob_ok = 0;
    for (int i = 0; i < 200; i++) {
        char id[32];
        snprintf(id, sizeof id, "a%d", i);
        cJSON *r = inc(fx.alice, id);
        if (is_ok(r)) {
            alice_ok++;
        } else {
            assert_error(r, "rate_limited");
            alice_limited++;
        }
        cJSON_Delete(r);
        /* bob acts now and then, within his own budget: always applied */
        if (i % 50 == 0) {
            snprintf(id, sizeof id, "b%d", i);
            r = inc(fx.bob, id);
            assert_true(is_ok(r));
            bob_ok++;
            cJSON_Delete(r);
        }
    }
    /* The room's clock stood still: alice had her burst, no more. */
    assert_int_equal(alice_ok, BURST);
    assert_int_equal(alice_limited, 200 - BURST);
    assert_int_equal(bob_ok, 4);
    /* Refusals changed nothing: one change per applied action. */
    assert_int_equal(room_seq(), seq0 + (uint64_t)(alice_ok + bob_ok));
}

static void test_the_bucket_refills_with_the_rooms_clock(void **state)
{
    (void)state;
    for (int i = 0; i < BURST; i++) {
        char id[32];
        snprintf(id, sizeof id, "x%d", i);
        cJSON *r = inc(fx.alice, id);
        assert_true(is_ok(r));
        cJSON_Delete(r);
    }
    cJSON *r = inc(fx.alice, "late");
    assert_error(r, "rate_limited");
    cJSON_Delete(r);
    /* A tenth of a second: one action at 10 per second. */
    atomic_fetch_add(&clock_ms, 100);
    r = inc(fx.alice, "late"); /* the same id: refusals are not kept */
    assert_true(is_ok(r));
    cJSON_Delete(r);
    r = inc(fx.alice, "later");
    assert_error(r, "rate_limited");
    cJSON_Delete(r);
    /* A long pause fills the bucket up to the burst, not beyond. */
    atomic_fetch_add(&clock_ms, 60000);
    int ok = 0;
    for (int i = 0; i < 3 * BURST; i++) {
        char id[32];
        snprintf(id, sizeof id, "y%d", i);
        r = inc(fx.alice, id);
        ok += is_ok(r);
        cJSON_Delete(r);
    }
    assert_int_equal(ok, BURST);
}

static void test_a_repeated_action_id_costs_nothing(void **state)
{
    (void)state;
    cJSON *first = inc(fx.alice, "once");
    assert_true(is_ok(first));
    uint64_t seq = room_seq();
    /* Far more repeats than the bucket holds: each gets the first reply,
     * and the bucket still has room for burst - 1 new actions. */
    for (int i = 0; i < 3 * BURST; i++) {
        cJSON *r = inc(fx.alice, "once");
        assert_true(is_ok(r));
        assert_int_equal(num(ok_result(r), "seq"),
                         num(ok_result(first), "seq"));
        cJSON_Delete(r);
    }
    assert_int_equal(room_seq(), seq);
    for (int i = 0; i < BURST - 1; i++) {
        char id[32];
        snprintf(id, sizeof id, "n%d", i);
        cJSON *r = inc(fx.alice, id);
        assert_true(is_ok(r));
        cJSON_Delete(r);
    }
    cJSON_Delete(first);
}

static void test_the_bridge_answers_429_with_retry_after(void **state)
{
    (void)state;
    char headers[256];
    snprintf(headers, sizeof headers,
             "Content-Type: application/json\r\nAuthorization: Bearer %s\r\n",
             fx.alice);
    int ok = 0, limited = 0;
    for (int i = 0; i < 2 * BURST; i++) {
        char body[96];
        snprintf(body, sizeof body, "{\"action_id\":\"h%d\",\"type\":\"inc\"}",
                 i);
        httpc_reply r;
        assert_int_equal(httpc_do(pc_server_http_url(fx.srv), "POST",
                                  "/rooms/r1/actions", headers, body,
                                  strlen(body), &r),
                         0);
        if (r.status == 200) {
            ok++;
        } else {
            char retry[16];
            assert_int_equal(r.status, 429);
            assert_non_null(strstr(r.body, "\"rate_limited\""));
            assert_int_equal(
                httpc_header(&r, "Retry-After", retry, sizeof retry), 0);
            assert_string_equal(retry, "1");
            limited++;
        }
        httpc_reply_free(&r);
    }
    assert_int_equal(ok, BURST);
    assert_int_equal(limited, BURST);
    /* bob, over nng meanwhile, is not slowed */
    cJSON *r = inc(fx.bob, "b1");
    assert_true(is_ok(r));
    cJSON_Delete(r);
}

static void test_without_a_rate_nothing_is_limited(void **state)
{
    (void)state;
    for (int i = 0; i < 100; i++) {
        char id[32];
        snprintf(id, sizeof id, "u%d", i);
        cJSON *r = inc(fx.alice, id);
        assert_true(is_ok(r));
        cJSON_Delete(r);
    }
}

static void test_a_burst_without_a_rate_is_invalid(void **state)
{
    (void)state;
    pc_server_options o;
    pc_server_options_init(&o);
    o.pub_url = "tcp://127.0.0.1:0";
    o.rep_url = "tcp://127.0.0.1:0";
    o.action_burst = 3;
    pc_server *srv = NULL;
    pc_error err = {0};
    assert_int_equal(pc_server_new(&o, &srv, &err), PC_ERR_INVALID);
    assert_null(srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_a_flood_from_one_player_is_refused_while_others_act, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_the_bucket_refills_with_the_rooms_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_repeated_action_id_costs_nothing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_the_bridge_answers_429_with_retry_after, setup_http, teardown),
        cmocka_unit_test_setup_teardown(test_without_a_rate_nothing_is_limited,
                                        setup_unlimited, teardown),
        cmocka_unit_test(test_a_burst_without_a_rate_is_invalid),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    pc_transport_fini();
    return failed;
}
