/*
 * test_client_e2e.c - the client library against the real server
 * (phasecast/server.h) over TCP on 127.0.0.1: many clients on their own
 * threads follow a counter room through 10,000 changes committed in
 * bursts and end with the server's exact state; a slow subscriber and a
 * late joiner converge; a repeated action id is applied once; players see
 * their own private data and nobody else's. Every wait polls with a
 * deadline; nothing asserts on elapsed time. Under valgrind the tests run
 * a tenth of the changes (testenv_scale), so memcheck stays fast.
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
#include <time.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/client.h"
#include "phasecast/json.h"
#include "phasecast/room.h"
#include "phasecast/server.h"
#include "phasecast/view.h"

#include "countergame.h"
#include "testenv.h"
#include "testnet.h"

#define ROOM    "count"
#define WAIT_MS 60000

/* ------------------------------------------------------------------ */
/* Server side                                                         */
/* ------------------------------------------------------------------ */

static pc_server *server_up(size_t history)
{
    return testnet_serve(NULL, countergame(), ROOM, history);
}

/* Work for the loop thread: commit `count` changes, or read the state. */
typedef struct loop_job {
    int count;
    const char *player; /* view to print: NULL public, "" whole state */
    uint64_t seq;       /* out */
    char *canon;        /* out, pc_free */
} loop_job;

static void burst_on_loop(pc_server *srv, void *arg)
{
    loop_job *j = arg;
    pc_room *room = pc_server_find_room(srv, ROOM);
    for (int i = 0; i < j->count; i++) {
        if (countergame_count(room, "burst") != PC_OK) {
            break;
        }
    }
    j->seq = pc_room_seq(room);
}

static void read_on_loop(pc_server *srv, void *arg)
{
    loop_job *j = arg;
    pc_room *room = pc_server_find_room(srv, ROOM);
    cJSON *view = NULL;
    j->seq = pc_room_seq(room);
    if (j->player != NULL && j->player[0] == '\0') {
        pc_canon_print(pc_room_state(room), &j->canon, NULL);
        return;
    }
    if (pc_view_state(countergame(), pc_room_state(room), j->player, &view) ==
        PC_OK) {
        pc_canon_print(view, &j->canon, NULL);
        cJSON_Delete(view);
    }
}

static uint64_t burst(pc_server *srv, int count)
{
    loop_job j = {count, NULL, 0, NULL};
    assert_int_equal(pc_server_call(srv, burst_on_loop, &j), PC_OK);
    return j.seq;
}

/* The server's canonical state in a viewer's view; caller pc_frees. */
static char *server_view(pc_server *srv, const char *player, uint64_t *seq)
{
    loop_job j = {0, player, 0, NULL};
    assert_int_equal(pc_server_call(srv, read_on_loop, &j), PC_OK);
    assert_non_null(j.canon);
    if (seq != NULL) {
        *seq = j.seq;
    }
    return j.canon;
}

/* ------------------------------------------------------------------ */
/* Client side                                                         */
/* ------------------------------------------------------------------ */

/* Per-client bookkeeping from its callbacks. */
typedef struct follower {
    pc_server *srv;
    const char *name; /* NULL: spectator */
    int sleep_us;     /* slow subscriber: sleep this long per change */
    int recv_buffer;  /* SUB queue; small ones overflow in bursts */
    pc_client *c;
    uint64_t expect;
    bool disorder;
    uint64_t changes;
    /* Shared with the main thread (under mu). */
    pthread_mutex_t *mu;
    uint64_t *target; /* 0 until the producer is done */
    /* Results, read after join. */
    pc_err open_rv;
    bool reached;
    char *canon; /* replica at the end, pc_free */
    pc_client_stats st;
} follower;

static void f_change(pc_client *c, const pc_client_change *ch, void *arg)
{
    follower *f = arg;
    (void)c;
    if (ch->seq != f->expect) {
        f->disorder = true;
    }
    f->expect = ch->seq + 1;
    f->changes++;
    if (f->sleep_us > 0) {
        struct timespec ts = {0, (long)f->sleep_us * 1000};
        nanosleep(&ts, NULL);
    }
}

static void f_event(pc_client *c, pc_client_event ev, void *arg)
{
    follower *f = arg;
    if (ev == PC_CLIENT_EVENT_SNAPSHOT) {
        f->expect = pc_client_seq(c) + 1;
    }
}

static pc_err follower_open(follower *f)
{
    pc_client_config cfg = {0};
    cfg.pub_url = pc_server_pub_url(f->srv);
    cfg.req_url = pc_server_rep_url(f->srv);
    cfg.room = ROOM;
    cfg.role = f->name != NULL ? PC_CLIENT_PLAYER : PC_CLIENT_SPECTATOR;
    cfg.name = f->name;
    cfg.on_change = f_change;
    cfg.on_event = f_event;
    cfg.arg = f;
    cfg.request_timeout_ms = 2000;
    cfg.recv_buffer = f->recv_buffer;
    pc_err rv = pc_client_open(&cfg, &f->c, NULL);
    if (rv == PC_OK) {
        f->expect = pc_client_seq(f->c) + 1;
    }
    return rv;
}

static uint64_t read_target(follower *f)
{
    pthread_mutex_lock(f->mu);
    uint64_t t = *f->target;
    pthread_mutex_unlock(f->mu);
    return t;
}

/* Poll until the producer is done and the replica reached its seq. */
static void follower_finish(follower *f)
{
    int64_t end = testenv_mono_ms() + WAIT_MS;
    while (testenv_mono_ms() < end) {
        uint64_t t = read_target(f);
        if (t != 0 && pc_client_seq(f->c) >= t) {
            break;
        }
        pc_client_poll(f->c, 20);
    }
    uint64_t t = read_target(f);
    f->reached = t != 0 && pc_client_seq(f->c) == t;
    pc_canon_print(pc_client_state(f->c), &f->canon, NULL);
    pc_client_stats_get(f->c, &f->st);
}

static void *follower_main(void *arg)
{
    follower *f = arg;
    if (f->c == NULL && (f->open_rv = follower_open(f)) != PC_OK) {
        return NULL;
    }
    follower_finish(f);
    return NULL;
}

static void follower_check(follower *f, const char *want, uint64_t seq)
{
    assert_int_equal(f->open_rv, PC_OK);
    assert_true(f->reached);
    assert_int_equal(pc_client_seq(f->c), seq);
    assert_non_null(f->canon);
    assert_string_equal(f->canon, want);
    assert_false(f->disorder);
    /* Every seq was applied at most once (a snapshot skips some), and
     * every applied change reached the callback. */
    assert_true(f->changes <= seq);
    assert_int_equal(f->st.changes_applied, f->changes);
}

static void follower_free(follower *f)
{
    pc_client_close(f->c);
    pc_free(f->canon);
}

/*
 * server_down_first: every test frees the server before it closes its
 * clients. nng 1.5.2 has a race in its TCP transport (fixed upstream only in
 * nng 2.0, which fails restarted operations with NNG_ESTOPPED): if data
 * arrives on a connection at the moment its socket is closed, the read the
 * transport restarts from its callback can be dropped without completing,
 * and nng_close then waits for it forever. With the server gone first, the
 * clients' connections end with EOF, nothing restarts, and close is prompt.
 * docs/reference/client.md describes the hazard for applications.
 */

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

#define NFOLLOW 10

static void test_ten_clients_follow_ten_thousand_changes(void **state)
{
    (void)state;
    pc_server *srv = server_up(1000);
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    uint64_t target = 0;
    static const char *names[NFOLLOW] = {"p0", "p1", "p2", NULL, NULL,
                                         NULL, NULL, NULL, NULL, NULL};
    follower fs[NFOLLOW];
    pthread_t th[NFOLLOW];
    memset(fs, 0, sizeof(fs));
    for (int i = 0; i < NFOLLOW; i++) {
        fs[i].srv = srv;
        fs[i].name = names[i];
        fs[i].mu = &mu;
        fs[i].target = &target;
        /* Half of them with a tiny queue: bursts overflow it and the
         * client must repair what its own SUB dropped. */
        fs[i].recv_buffer = i % 2 ? 2 : 0;
        /* Open here so every client is joined before the first burst. */
        fs[i].open_rv = follower_open(&fs[i]);
        assert_int_equal(fs[i].open_rv, PC_OK);
    }
    for (int i = 0; i < NFOLLOW; i++) {
        pthread_create(&th[i], NULL, follower_main, &fs[i]);
    }
    uint64_t seq = 0;
    int bursts = testenv_scale(100);
    for (int b = 0; b < bursts; b++) {
        seq = burst(srv, 100);
    }
    assert_int_equal(seq, (uint64_t)bursts * 100);
    pthread_mutex_lock(&mu);
    target = seq;
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < NFOLLOW; i++) {
        pthread_join(th[i], NULL);
    }
    /* No private data was dealt: every view is the public one. */
    char *want = server_view(srv, NULL, NULL);
    uint64_t applied = 0, gaps = 0, snaps = 0;
    for (int i = 0; i < NFOLLOW; i++) {
        follower_check(&fs[i], want, seq);
        assert_int_equal(fs[i].st.checksum_mismatches, 0);
        applied += fs[i].st.changes_applied;
        gaps += fs[i].st.gaps_detected;
        snaps += fs[i].st.snapshots;
    }
    print_message("10 clients: %llu applied, %llu gaps, %llu snapshots\n",
                  (unsigned long long)applied, (unsigned long long)gaps,
                  (unsigned long long)snaps);
    pc_free(want);
    pc_server_free(srv); /* first: see server_down_first */
    for (int i = 0; i < NFOLLOW; i++) {
        follower_free(&fs[i]);
    }
}

static void test_slow_subscriber_converges(void **state)
{
    (void)state;
    pc_server *srv = server_up(100);
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    uint64_t target = 0;
    follower f;
    memset(&f, 0, sizeof(f));
    f.srv = srv;
    f.sleep_us = 2000;
    f.mu = &mu;
    f.target = &target;
    assert_int_equal(follower_open(&f), PC_OK);
    pthread_t th;
    pthread_create(&th, NULL, follower_main, &f);
    uint64_t seq = 0;
    for (int b = 0; b < testenv_scale(20); b++) {
        seq = burst(srv, 150); /* more than the history holds */
    }
    pthread_mutex_lock(&mu);
    target = seq;
    pthread_mutex_unlock(&mu);
    pthread_join(th, NULL);
    char *want = server_view(srv, NULL, NULL);
    follower_check(&f, want, seq);
    assert_int_equal(f.st.checksum_mismatches, 0);
    print_message("slow: %llu applied, %llu gaps, %llu repairs, %llu "
                  "snapshots\n",
                  (unsigned long long)f.st.changes_applied,
                  (unsigned long long)f.st.gaps_detected,
                  (unsigned long long)f.st.repairs_changes,
                  (unsigned long long)f.st.snapshots);
    pc_free(want);
    pc_server_free(srv); /* first: see server_down_first */
    follower_free(&f);
}

/* Producer thread for the late joiner: bursts until told to stop. */
typedef struct producer {
    pc_server *srv;
    int bursts;
    uint64_t seq;
} producer;

static void *producer_main(void *arg)
{
    producer *p = arg;
    for (int b = 0; b < p->bursts; b++) {
        loop_job j = {50, NULL, 0, NULL};
        pc_server_call(p->srv, burst_on_loop, &j);
        p->seq = j.seq;
    }
    return NULL;
}

static void test_late_joiner_during_a_burst_converges(void **state)
{
    (void)state;
    pc_server *srv = server_up(100);
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    uint64_t target = 0;
    producer p = {srv, testenv_scale(60), 0};
    pthread_t pt;
    pthread_create(&pt, NULL, producer_main, &p);
    /* Join once the room is well under way, while it keeps changing. */
    uint64_t seq = 0;
    int64_t end = testenv_mono_ms() + WAIT_MS;
    uint64_t late = (uint64_t)p.bursts * 50 / 6; /* 500 normally */
    while (seq < late && testenv_mono_ms() < end) {
        char *s = server_view(srv, NULL, &seq);
        pc_free(s);
    }
    follower f;
    memset(&f, 0, sizeof(f));
    f.srv = srv;
    f.mu = &mu;
    f.target = &target;
    assert_int_equal(follower_open(&f), PC_OK);
    assert_true(pc_client_seq(f.c) >= late);
    pthread_t th;
    pthread_create(&th, NULL, follower_main, &f);
    pthread_join(pt, NULL);
    pthread_mutex_lock(&mu);
    target = p.seq;
    pthread_mutex_unlock(&mu);
    pthread_join(th, NULL);
    char *want = server_view(srv, NULL, NULL);
    follower_check(&f, want, (uint64_t)p.bursts * 50);
    pc_free(want);
    pc_server_free(srv); /* first: see server_down_first */
    follower_free(&f);
}

static void test_repeated_action_id_is_applied_once(void **state)
{
    (void)state;
    pc_server *srv = server_up(100);
    pc_client_config cfg = {0};
    cfg.pub_url = pc_server_pub_url(srv);
    cfg.req_url = pc_server_rep_url(srv);
    cfg.room = ROOM;
    cfg.role = PC_CLIENT_PLAYER;
    cfg.name = "alice";
    pc_client *c = NULL;
    assert_int_equal(pc_client_open(&cfg, &c, NULL), PC_OK);
    uint64_t seq0 = pc_client_seq(c);
    cJSON *v1 = NULL, *v2 = NULL;
    uint64_t s1 = 0, s2 = 0;
    pc_error err = {0};
    assert_int_equal(
        pc_client_act_id(c, "alice-fixed-1", "inc", NULL, &v1, &s1, &err),
        PC_OK);
    assert_int_equal(
        pc_client_act_id(c, "alice-fixed-1", "inc", NULL, &v2, &s2, &err),
        PC_OK);
    assert_int_equal(s1, seq0 + 1);
    assert_int_equal(s2, s1);
    assert_true(pc_json_equal(v1, v2));
    cJSON_Delete(v1);
    cJSON_Delete(v2);
    /* A fresh id counts again. */
    assert_int_equal(pc_client_act(c, "inc", NULL, NULL, &s2, &err), PC_OK);
    assert_int_equal(s2, s1 + 1);
    int64_t end = testenv_mono_ms() + WAIT_MS;
    while (pc_client_seq(c) < s2 && testenv_mono_ms() < end) {
        pc_client_poll(c, 20);
    }
    const cJSON *n = pc_json_pointer_get(pc_client_state(c), "/data/n");
    assert_true(cJSON_IsNumber(n));
    assert_int_equal((int)n->valuedouble, 2);
    /* The game's refusal comes back typed. */
    assert_int_equal(pc_client_act(c, "fly", NULL, NULL, NULL, &err),
                     PC_ERR_ACTION);
    assert_string_equal(err.code, "unknown_action");
    pc_server_free(srv); /* first: see server_down_first */
    pc_client_close(c);
}

static void test_players_see_only_their_own_private_data(void **state)
{
    (void)state;
    pc_server *srv = server_up(100);
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    uint64_t target = 0;
    static const char *names[3] = {"alice", "bob", NULL};
    follower fs[3];
    memset(fs, 0, sizeof(fs));
    for (int i = 0; i < 3; i++) {
        fs[i].srv = srv;
        fs[i].name = names[i];
        fs[i].mu = &mu;
        fs[i].target = &target;
        assert_int_equal(follower_open(&fs[i]), PC_OK);
    }
    /* Interleave public changes and private deals from both players. */
    uint64_t seq = 0;
    for (int round = 0; round < 20; round++) {
        burst(srv, 5);
        pc_error err = {0};
        assert_int_equal(
            pc_client_act(fs[round % 2].c, "deal", NULL, NULL, &seq, &err),
            PC_OK);
        for (int i = 0; i < 3; i++) {
            pc_client_poll(fs[i].c, 0);
        }
    }
    seq = burst(srv, 5);
    pthread_mutex_lock(&mu);
    target = seq;
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < 3; i++) {
        follower_finish(&fs[i]);
        char *want = server_view(srv, names[i], NULL);
        follower_check(&fs[i], want, seq);
        assert_int_equal(fs[i].st.checksum_mismatches, 0);
        pc_free(want);
    }
    assert_null(strstr(fs[1].canon, "alice"));
    assert_null(strstr(fs[0].canon, "bob"));
    assert_null(strstr(fs[2].canon, "card"));
    assert_true(fs[0].st.private_fetches > 0);
    assert_int_equal(fs[2].st.private_fetches, 0);
    /* With the announced private paths every change is checked: players
     * against the public view of their replica, spectators directly. */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(fs[i].st.unverified, 0);
    }
    pc_server_free(srv); /* first: see server_down_first */
    for (int i = 0; i < 3; i++) {
        follower_free(&fs[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ten_clients_follow_ten_thousand_changes),
        cmocka_unit_test(test_slow_subscriber_converges),
        cmocka_unit_test(test_late_joiner_during_a_burst_converges),
        cmocka_unit_test(test_repeated_action_id_is_applied_once),
        cmocka_unit_test(test_players_see_only_their_own_private_data),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    pc_transport_fini();
    return failed;
}
