/*
 * test_client_join.c - the client library's join is idempotent. Between
 * the client and the real server (tictactoe, whose join action seats a
 * player and commits a change) sits a proxy made of two raw nng sockets
 * that forwards requests and replies like nng_device, records every
 * request, and can lose replies. When the reply to a join is lost, the
 * client retries with the same nonce and gets its seat, where it used to
 * get name_taken; the game sees the join once. Real sockets over TCP on
 * 127.0.0.1; every wait polls against a deadline.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "phasecast/client.h"
#include "phasecast/json.h"
#include "phasecast/room.h"
#include "phasecast/server.h"
#include "tictactoe/tictactoe.h"

#include "testenv.h"
#include "testnet.h"

#define ROOM     "r1"
#define MAX_SEEN 16

/* ------------------------------------------------------------------ */
/* The lossy proxy                                                     */
/* ------------------------------------------------------------------ */

/* Raw REP in front (the client dials it), raw REQ behind (dialing the
 * server). Raw sockets keep each request's routing header in the message,
 * so forwarding the message as it is routes the reply back. */
typedef struct proxy {
    nng_socket front;
    nng_socket back;
    char url[64];
    pthread_t thread;
    pthread_mutex_t mu;
    /* Under mu: */
    bool stop;
    int lose_replies;         /* replies still to lose */
    int lost;                 /* replies lost */
    int joins;                /* join requests forwarded */
    char nonce[MAX_SEEN][72]; /* each join's nonce ("" if none) */
} proxy;

/* Note a request on its way to the server. Called locked. */
static void proxy_note(proxy *p, const nng_msg *m)
{
    cJSON *req = NULL;
    if (pc_json_parse(nng_msg_body((nng_msg *)m), nng_msg_len((nng_msg *)m),
                      NULL, &req, NULL) != PC_OK) {
        return;
    }
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(req, "op");
    if (cJSON_IsString(op) && strcmp(op->valuestring, "join") == 0 &&
        p->joins < MAX_SEEN) {
        const char *n = cJSON_GetStringValue(
            cJSON_GetObjectItemCaseSensitive(req, "nonce"));
        snprintf(p->nonce[p->joins], sizeof p->nonce[0], "%s", n ? n : "");
        p->joins++;
    }
    cJSON_Delete(req);
}

static void *proxy_main(void *arg)
{
    proxy *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        bool stop = p->stop;
        pthread_mutex_unlock(&p->mu);
        if (stop) {
            return NULL;
        }
        nng_msg *m;
        if (nng_recvmsg(p->front, &m, 0) == 0) { /* 10 ms timeout */
            pthread_mutex_lock(&p->mu);
            proxy_note(p, m);
            pthread_mutex_unlock(&p->mu);
            if (nng_sendmsg(p->back, m, 0) != 0) {
                nng_msg_free(m);
            }
        }
        if (nng_recvmsg(p->back, &m, 0) == 0) {
            pthread_mutex_lock(&p->mu);
            bool lose = p->lose_replies > 0;
            if (lose) {
                p->lose_replies--;
                p->lost++;
            }
            pthread_mutex_unlock(&p->mu);
            if (lose || nng_sendmsg(p->front, m, 0) != 0) {
                nng_msg_free(m);
            }
        }
    }
}

static proxy *proxy_new(const char *server_url, int lose_replies)
{
    proxy *p = calloc(1, sizeof *p);
    assert_non_null(p);
    p->lose_replies = lose_replies;
    assert_int_equal(pthread_mutex_init(&p->mu, NULL), 0);
    assert_int_equal(nng_rep0_open_raw(&p->front), 0);
    assert_int_equal(nng_req0_open_raw(&p->back), 0);
    assert_int_equal(nng_socket_set_ms(p->front, NNG_OPT_RECVTIMEO, 10), 0);
    assert_int_equal(nng_socket_set_ms(p->back, NNG_OPT_RECVTIMEO, 10), 0);
    testnet_listen_any(p->front, p->url, sizeof p->url);
    assert_int_equal(nng_dial(p->back, server_url, NULL, 0), 0);
    assert_int_equal(pthread_create(&p->thread, NULL, proxy_main, p), 0);
    return p;
}

static void proxy_free(proxy *p)
{
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    nng_close(p->front);
    nng_close(p->back);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

/* ------------------------------------------------------------------ */
/* Server and clients                                                  */
/* ------------------------------------------------------------------ */

static pc_server *server_up(void)
{
    return testnet_serve(NULL, tictactoe_game(), ROOM, PC_HISTORY_DEFAULT);
}

static void read_seq(pc_server *srv, void *arg)
{
    *(uint64_t *)arg = pc_room_seq(pc_server_find_room(srv, ROOM));
}

static uint64_t room_seq(pc_server *srv)
{
    uint64_t seq = 0;
    assert_int_equal(pc_server_call(srv, read_seq, &seq), PC_OK);
    return seq;
}

/* A player whose requests go through the proxy. */
static pc_client *player_open(pc_server *srv, const proxy *p, const char *name)
{
    pc_client_config cfg = {0};
    cfg.pub_url = pc_server_pub_url(srv);
    cfg.req_url = p->url;
    cfg.room = ROOM;
    cfg.role = PC_CLIENT_PLAYER;
    cfg.name = name;
    /* Short, so a lost reply costs little; under valgrind everything is
     * slow, and a late reply is simply one more retry. */
    cfg.request_timeout_ms = testenv_under_valgrind() ? 2000 : 250;
    pc_client *c = NULL;
    pc_error err = {0};
    pc_err rv = pc_client_open(&cfg, &c, &err);
    if (rv != PC_OK) {
        fail_msg("open %s: %s (%s)", name, pc_strerror(rv), err.code);
    }
    return c;
}

static bool nonce_ok(const char *n)
{
    size_t len = strlen(n);
    return len >= PC_SERVER_NONCE_MIN && len <= PC_SERVER_NONCE_MAX &&
           strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789_-") == len;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static void test_client_join_survives_a_lost_reply_and_joins_once(void **state)
{
    (void)state;
    pc_server *srv = server_up();
    proxy *p = proxy_new(pc_server_rep_url(srv), 1);
    pc_client *c = player_open(srv, p, "alice");

    pthread_mutex_lock(&p->mu);
    int lost = p->lost, joins = p->joins;
    char first[72], second[72];
    memcpy(first, p->nonce[0], sizeof first);
    memcpy(second, p->nonce[1], sizeof second);
    pthread_mutex_unlock(&p->mu);
    /* The first reply was lost, so the client asked again, with the same
     * nonce, and got its seat instead of name_taken. */
    assert_int_equal(lost, 1);
    assert_true(joins >= 2);
    assert_true(nonce_ok(first));
    assert_string_equal(first, second);
    pc_client_stats st;
    pc_client_stats_get(c, &st);
    assert_true(st.request_failures >= 1);
    /* tictactoe committed "alice joins as X" once: seq 1, not 2 (and a
     * second delivery would have been refused as already_joined). */
    assert_int_equal(room_seq(srv), 1);
    assert_int_equal(pc_client_seq(c), 1);
    const cJSON *x = pc_json_pointer_get(pc_client_state(c), "/data/players/X");
    assert_true(cJSON_IsString(x));
    assert_string_equal(x->valuestring, "alice");

    pc_server_free(srv); /* first: nng 1.5.2 close race, see client.md */
    pc_client_close(c);
    proxy_free(p);
}

static void test_each_client_joins_with_its_own_nonce(void **state)
{
    (void)state;
    pc_server *srv = server_up();
    proxy *p = proxy_new(pc_server_rep_url(srv), 0);
    pc_client *a = player_open(srv, p, "alice");
    pc_client *b = player_open(srv, p, "bob");
    pthread_mutex_lock(&p->mu);
    int joins = p->joins;
    char na[72], nb[72];
    memcpy(na, p->nonce[0], sizeof na);
    memcpy(nb, p->nonce[1], sizeof nb);
    pthread_mutex_unlock(&p->mu);
    assert_int_equal(joins, 2);
    assert_true(nonce_ok(na));
    assert_true(nonce_ok(nb));
    assert_string_not_equal(na, nb);
    assert_int_equal(room_seq(srv), 2);
    pc_server_free(srv);
    pc_client_close(a);
    pc_client_close(b);
    proxy_free(p);
}

/* A chosen join_nonce is what the join carries, and a second open with
 * the same name and nonce (a program retrying its own open) gets the same
 * seat and token back: the game sees one join. A malformed one is refused
 * before anything is sent. */
static void test_a_configured_nonce_keeps_the_seat_across_opens(void **state)
{
    (void)state;
    pc_server *srv = server_up();
    proxy *p = proxy_new(pc_server_rep_url(srv), 0);
    static const char nonce[] = "my-own-nonce_0123456789";
    pc_client_config cfg = {0};
    cfg.pub_url = pc_server_pub_url(srv);
    cfg.req_url = p->url;
    cfg.room = ROOM;
    cfg.role = PC_CLIENT_PLAYER;
    cfg.name = "alice";
    cfg.join_nonce = nonce;
    cfg.request_timeout_ms = testenv_under_valgrind() ? 2000 : 250;
    pc_client *a = NULL, *b = NULL;
    pc_error err = {0};
    assert_int_equal(pc_client_open(&cfg, &a, &err), PC_OK);
    assert_int_equal(pc_client_open(&cfg, &b, &err), PC_OK);
    pthread_mutex_lock(&p->mu);
    char n0[72], n1[72];
    memcpy(n0, p->nonce[0], sizeof n0);
    memcpy(n1, p->nonce[1], sizeof n1);
    pthread_mutex_unlock(&p->mu);
    assert_string_equal(n0, nonce);
    assert_string_equal(n1, nonce);
    assert_int_equal(room_seq(srv), 1); /* seated once */
    /* b holds alice's token: the server accepts it (a wrong token would
     * be PC_ERR_PERMISSION) and hands the move to the game, which refuses
     * it because the second player is missing. */
    uint64_t seq = 0;
    cJSON *cell = cJSON_CreateObject();
    cJSON_AddNumberToObject(cell, "cell", 4);
    assert_int_equal(pc_client_act(b, "move", cell, NULL, &seq, &err),
                     PC_ERR_ACTION);
    cJSON_Delete(cell);

    static const char *const bad[] = {"short", "has space in it 0123",
                                      "0123456789012345678901234567890123"
                                      "4567890123456789012345678901234"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pc_client *c = NULL;
        cfg.join_nonce = bad[i];
        assert_int_equal(pc_client_open(&cfg, &c, &err), PC_ERR_INVALID);
        assert_null(c);
    }
    pc_server_free(srv);
    pc_client_close(a);
    pc_client_close(b);
    proxy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_join_survives_a_lost_reply_and_joins_once),
        cmocka_unit_test(test_each_client_joins_with_its_own_nonce),
        cmocka_unit_test(test_a_configured_nonce_keeps_the_seat_across_opens),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    pc_transport_fini();
    return failed;
}
