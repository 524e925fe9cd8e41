/*
 * test_client_faults.c - the client library against a misbehaving server:
 * one change in a hundred never published (the server's drop_permille test
 * hook), a loop paused for several heartbeats, and clients joining late or
 * leaving in the middle of a burst. Real nng sockets over TCP on 127.0.0.1,
 * ipc:// in a private directory and inproc://. Every wait polls against a
 * deadline; nothing asserts on elapsed time.
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
#include <unistd.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/client.h"
#include "phasecast/room.h"
#include "phasecast/server.h"
#include "phasecast/view.h"

#include "countergame.h"
#include "testenv.h"
#include "testnet.h"

#define ROOM "faulty"

/* The longest any one wait may take before the test fails. */
static int wait_ms(void)
{
    return testenv_under_valgrind() ? 120000 : 20000;
}

/* ------------------------------------------------------------------ */
/* Server side                                                         */
/* ------------------------------------------------------------------ */

static pc_server *server_up(const char *pub, const char *rep, unsigned drop)
{
    pc_server_options o;
    pc_server_options_init(&o);
    o.pub_url = pub;
    o.rep_url = rep;
    o.heartbeat_ms = 50;
    o.drop_permille = drop;
    o.drop_seed = 0x5eed;
    return testnet_serve(&o, countergame_public(), ROOM, 1000);
}

/* Loop work: commit count changes, then report the seq and public state. */
typedef struct loop_job {
    int count;
    uint64_t seq;
    char *canon; /* pc_free; only when want_canon */
    bool want_canon;
} loop_job;

static void job_on_loop(pc_server *srv, void *arg)
{
    loop_job *j = arg;
    pc_room *room = pc_server_find_room(srv, ROOM);
    for (int i = 0; i < j->count; i++) {
        assert_int_equal(countergame_count(room, "counted"), PC_OK);
    }
    j->seq = pc_room_seq(room);
    if (j->want_canon) {
        cJSON *view = NULL;
        if (pc_view_state(countergame_public(), pc_room_state(room), NULL,
                          &view) == PC_OK) {
            pc_canon_print(view, &j->canon, NULL);
            cJSON_Delete(view);
        }
    }
}

static uint64_t burst(pc_server *srv, int count)
{
    loop_job j = {count, 0, NULL, false};
    assert_int_equal(pc_server_call(srv, job_on_loop, &j), PC_OK);
    return j.seq;
}

/* The server's public state, canonical text; caller pc_frees. */
static char *server_canon(pc_server *srv, uint64_t *seq)
{
    loop_job j = {0, 0, NULL, true};
    assert_int_equal(pc_server_call(srv, job_on_loop, &j), PC_OK);
    assert_non_null(j.canon);
    *seq = j.seq;
    return j.canon;
}

/* ------------------------------------------------------------------ */
/* Client side                                                         */
/* ------------------------------------------------------------------ */

/* What one client's callbacks saw. */
typedef struct watch {
    uint64_t next;    /* seq the next change must carry */
    bool disorder;    /* a change came out of order or twice */
    int stale, live;  /* STALE and LIVE events */
    int snapshot_evs; /* SNAPSHOT events */
} watch;

static void on_change(pc_client *c, const pc_client_change *ch, void *arg)
{
    watch *w = arg;
    (void)c;
    if (ch->seq != w->next) {
        w->disorder = true;
    }
    w->next = ch->seq + 1;
}

static void on_event(pc_client *c, pc_client_event ev, void *arg)
{
    watch *w = arg;
    if (ev == PC_CLIENT_EVENT_STALE) {
        w->stale++;
    } else if (ev == PC_CLIENT_EVENT_LIVE) {
        w->live++;
    } else if (ev == PC_CLIENT_EVENT_SNAPSHOT) {
        w->snapshot_evs++;
        w->next = pc_client_seq(c) + 1;
    }
}

static pc_client *client_open(pc_server *srv, const char *name, watch *w)
{
    pc_client_config cfg = {0};
    cfg.pub_url = pc_server_pub_url(srv);
    cfg.req_url = pc_server_rep_url(srv);
    cfg.room = ROOM;
    cfg.role = name != NULL ? PC_CLIENT_PLAYER : PC_CLIENT_SPECTATOR;
    cfg.name = name;
    cfg.on_change = on_change;
    cfg.on_event = on_event;
    cfg.arg = w;
    cfg.request_timeout_ms = 2000;
    cfg.heartbeat_ms = 50;
    pc_client *c = NULL;
    pc_error err = {0};
    pc_err rv = pc_client_open(&cfg, &c, &err);
    if (rv != PC_OK) {
        fail_msg("open %s: %s", name ? name : "spectator", err.message);
    }
    memset(w, 0, sizeof *w);
    w->next = pc_client_seq(c) + 1;
    return c;
}

/* Poll every client (NULL entries skipped) once, briefly. */
static void poll_all(pc_client **cs, size_t n, int timeout_ms)
{
    for (size_t i = 0; i < n; i++) {
        if (cs[i] != NULL) {
            assert_int_equal(pc_client_poll(cs[i], timeout_ms), PC_OK);
        }
    }
}

/* Poll until every client's replica is at seq (fails after the deadline). */
static void converge(pc_client **cs, size_t n, uint64_t seq)
{
    int64_t end = testenv_mono_ms() + wait_ms();
    for (;;) {
        bool all = true;
        for (size_t i = 0; i < n; i++) {
            if (cs[i] != NULL && pc_client_seq(cs[i]) < seq) {
                all = false;
            }
        }
        if (all) {
            break;
        }
        if (testenv_mono_ms() > end) {
            fail_msg("clients did not reach seq %llu", (unsigned long long)seq);
        }
        poll_all(cs, n, 10);
    }
}

/* Assert the client holds exactly the server's public state at seq. */
static void assert_replica(pc_client *c, const char *want, uint64_t seq)
{
    assert_int_equal(pc_client_seq(c), seq);
    char *got = NULL;
    assert_int_equal(pc_canon_print(pc_client_state(c), &got, NULL), PC_OK);
    assert_string_equal(got, want);
    pc_free(got);
}

/* Free the server before the clients: nng 1.5.2's TCP close race, see
 * docs/reference/client.md "Known issue". */
static void teardown(pc_server *srv, pc_client **cs, size_t n)
{
    pc_server_free(srv);
    for (size_t i = 0; i < n; i++) {
        pc_client_close(cs[i]);
    }
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

#define NDROP 5

static void test_one_percent_suppressed_changes_are_repaired(void **state)
{
    (void)state;
    pc_server *srv = server_up("tcp://127.0.0.1:0", "tcp://127.0.0.1:0", 10);
    static const char *names[NDROP] = {"ann", "ben", NULL, NULL, NULL};
    pc_client *cs[NDROP];
    watch ws[NDROP];
    for (int i = 0; i < NDROP; i++) {
        cs[i] = client_open(srv, names[i], &ws[i]);
    }
    int total = testenv_scale(5000);
    uint64_t seq = 0;
    for (int done = 0; done < total; done += 25) {
        seq = burst(srv, 25);
        poll_all(cs, NDROP, 0);
    }
    assert_int_equal(seq, (uint64_t)total);
    converge(cs, NDROP, seq);
    uint64_t at = 0;
    char *want = server_canon(srv, &at);
    assert_int_equal(at, seq);
    for (int i = 0; i < NDROP; i++) {
        pc_client_stats st;
        pc_client_stats_get(cs[i], &st);
        assert_replica(cs[i], want, seq);
        assert_false(ws[i].disorder);
        assert_true(st.gaps_detected > 0);
        assert_true(st.repairs_changes > 0);
        assert_int_equal(st.checksum_mismatches, 0);
        /* The history reaches back far enough: changes, never a snapshot
         * beyond the join's. */
        assert_int_equal(st.snapshots, 1);
        assert_int_equal(st.changes_applied, seq);
    }
    pc_free(want);
    teardown(srv, cs, NDROP);
}

/* The pause: a posted function that holds the loop until released. */
typedef struct pause_gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool entered, released;
} pause_gate;

static void hold_loop(pc_server *srv, void *arg)
{
    pause_gate *g = arg;
    /* Commit while paused: these go out only once the loop resumes. */
    pc_room *room = pc_server_find_room(srv, ROOM);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(countergame_count(room, "counted"), PC_OK);
    }
    pthread_mutex_lock(&g->mu);
    g->entered = true;
    while (!g->released) {
        pthread_cond_wait(&g->cv, &g->mu);
    }
    pthread_mutex_unlock(&g->mu);
}

#define NSTALE 3

static bool all_stale(pc_client **cs, size_t n, bool want)
{
    for (size_t i = 0; i < n; i++) {
        if (pc_client_stale(cs[i]) != want) {
            return false;
        }
    }
    return true;
}

static void
test_paused_server_goes_stale_and_recovers_without_snapshots(void **state)
{
    (void)state;
    char dir[] = "/tmp/pc-faults-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char pub[128], rep[128];
    snprintf(pub, sizeof pub, "ipc://%s/pub", dir);
    snprintf(rep, sizeof rep, "ipc://%s/rep", dir);
    pc_server *srv = server_up(pub, rep, 0);
    pc_client *cs[NSTALE];
    watch ws[NSTALE];
    static const char *names[NSTALE] = {"cat", NULL, NULL};
    for (int i = 0; i < NSTALE; i++) {
        cs[i] = client_open(srv, names[i], &ws[i]);
    }
    uint64_t seq = burst(srv, 50);
    converge(cs, NSTALE, seq);
    /* Let every client learn the real heartbeat interval. */
    int64_t end = testenv_mono_ms() + wait_ms();
    for (bool heard = false; !heard;) {
        assert_true(testenv_mono_ms() < end);
        poll_all(cs, NSTALE, 10);
        heard = true;
        for (int i = 0; i < NSTALE; i++) {
            pc_client_stats st;
            pc_client_stats_get(cs[i], &st);
            heard = heard && st.heartbeats > 0;
        }
    }
    pc_client_stats before[NSTALE];
    for (int i = 0; i < NSTALE; i++) {
        pc_client_stats_get(cs[i], &before[i]);
    }
    pause_gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false,
                    false};
    assert_int_equal(pc_server_post(srv, hold_loop, &g), PC_OK);
    /* While the loop is held, clients keep polling until all call the
     * room stale: that takes more than stale_intervals (3) heartbeats. */
    end = testenv_mono_ms() + wait_ms();
    while (!all_stale(cs, NSTALE, true)) {
        if (testenv_mono_ms() > end) {
            fail_msg("clients never reported the paused room stale");
        }
        poll_all(cs, NSTALE, 10);
    }
    pthread_mutex_lock(&g.mu);
    assert_true(g.entered);
    g.released = true;
    pthread_cond_signal(&g.cv);
    pthread_mutex_unlock(&g.mu);
    /* Resumed: more changes, and everyone converges and goes live. */
    seq = burst(srv, 100);
    assert_int_equal(seq, 160);
    converge(cs, NSTALE, seq);
    end = testenv_mono_ms() + wait_ms();
    while (!all_stale(cs, NSTALE, false)) {
        assert_true(testenv_mono_ms() < end);
        poll_all(cs, NSTALE, 10);
    }
    uint64_t at = 0;
    char *want = server_canon(srv, &at);
    for (int i = 0; i < NSTALE; i++) {
        pc_client_stats st;
        pc_client_stats_get(cs[i], &st);
        assert_replica(cs[i], want, at);
        assert_false(ws[i].disorder);
        assert_true(ws[i].stale >= 1);
        assert_true(ws[i].live >= 1);
        assert_true(st.stale_events >= 1);
        assert_int_equal(st.checksum_mismatches, 0);
        /* client.md: after STALE the client repairs with `changes`, not
         * a snapshot, so no snapshot storm - not even one. */
        assert_int_equal(st.snapshots, before[i].snapshots);
        assert_int_equal(ws[i].snapshot_evs, 0);
    }
    pc_free(want);
    teardown(srv, cs, NSTALE);
    char path[160];
    snprintf(path, sizeof path, "%s/pub", dir);
    (void)unlink(path);
    snprintf(path, sizeof path, "%s/rep", dir);
    (void)unlink(path);
    assert_int_equal(rmdir(dir), 0);
}

/* A producer thread committing bursts while the main thread joins and
 * leaves; it holds still at the half-way gate until the main thread lets
 * it go on. */
typedef struct producer {
    pc_server *srv;
    int bursts;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t seq; /* latest, under mu */
    bool held;    /* waiting at the gate, under mu */
    bool go_on;   /* released from the gate, under mu */
    bool done;    /* under mu */
} producer;

static void *producer_main(void *arg)
{
    producer *p = arg;
    for (int b = 0; b < p->bursts; b++) {
        if (b == p->bursts / 2) {
            pthread_mutex_lock(&p->mu);
            p->held = true;
            while (!p->go_on) {
                pthread_cond_wait(&p->cv, &p->mu);
            }
            pthread_mutex_unlock(&p->mu);
        }
        uint64_t s = burst(p->srv, 20);
        pthread_mutex_lock(&p->mu);
        p->seq = s;
        pthread_mutex_unlock(&p->mu);
    }
    pthread_mutex_lock(&p->mu);
    p->done = true;
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static uint64_t producer_seq(producer *p, bool *held, bool *done)
{
    pthread_mutex_lock(&p->mu);
    uint64_t s = p->seq;
    *held = p->held && !p->go_on;
    *done = p->done;
    pthread_mutex_unlock(&p->mu);
    return s;
}

/* Poll cs until the producer has committed at least seq changes (or is
 * held at the gate, or done). */
static void poll_until_produced(producer *p, pc_client **cs, size_t n,
                                uint64_t seq)
{
    int64_t end = testenv_mono_ms() + wait_ms();
    bool held = false, done = false;
    while (producer_seq(p, &held, &done) < seq && !held && !done) {
        assert_true(testenv_mono_ms() < end);
        poll_all(cs, n, 5);
    }
}

#define NJOIN 5

/*
 * Over inproc:// the player leaves while the producer is held and after
 * its replica caught up, so no broadcast is in flight to the socket being
 * closed: nng 1.5.2 can leak an inbound message when a SUB closes with
 * one in transit (seen once under valgrind). Heartbeats are off for the
 * same reason; with nothing suppressed, the changes alone converge.
 */
static void test_late_and_replacement_clients_converge_mid_burst(void **state)
{
    (void)state;
    pc_server_options o;
    pc_server_options_init(&o);
    o.pub_url = "inproc://pc-faults-pub";
    o.rep_url = "inproc://pc-faults-rep";
    o.heartbeat_ms = -1;
    pc_server *srv = testnet_serve(&o, countergame_public(), ROOM, 1000);
    pc_client *cs[NJOIN] = {NULL};
    watch ws[NJOIN];
    cs[0] = client_open(srv, "dan", &ws[0]);
    cs[1] = client_open(srv, NULL, &ws[1]);
    producer p = {.srv = srv, .bursts = testenv_scale(150)};
    assert_int_equal(pthread_mutex_init(&p.mu, NULL), 0);
    assert_int_equal(pthread_cond_init(&p.cv, NULL), 0);
    uint64_t total = (uint64_t)p.bursts * 20;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, producer_main, &p), 0);
    /* A late spectator joins a sixth of the way in, while bursts run. */
    poll_until_produced(&p, cs, NJOIN, total / 6);
    cs[2] = client_open(srv, NULL, &ws[2]);
    uint64_t joined_at = pc_client_seq(cs[2]);
    assert_true(joined_at > 0);
    /* Half way the producer holds; the player leaves once caught up, and a
     * new spectator and a new player take over (a player's name cannot be
     * joined twice). */
    poll_until_produced(&p, cs, NJOIN, total);
    bool held = false, done = false;
    uint64_t half = producer_seq(&p, &held, &done);
    assert_true(held);
    converge(cs, NJOIN, half);
    uint64_t left_at = pc_client_seq(cs[0]);
    pc_client_close(cs[0]);
    cs[0] = NULL;
    cs[3] = client_open(srv, NULL, &ws[3]);
    pthread_mutex_lock(&p.mu);
    p.go_on = true;
    pthread_cond_signal(&p.cv);
    pthread_mutex_unlock(&p.mu);
    cs[4] = client_open(srv, "eve", &ws[4]);
    poll_until_produced(&p, cs, NJOIN, total);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(producer_seq(&p, &held, &done), total);
    converge(cs, NJOIN, total);
    uint64_t at = 0;
    char *want = server_canon(srv, &at);
    assert_int_equal(at, total);
    for (int i = 1; i < NJOIN; i++) {
        pc_client_stats st;
        pc_client_stats_get(cs[i], &st);
        assert_replica(cs[i], want, total);
        assert_false(ws[i].disorder);
        assert_int_equal(st.checksum_mismatches, 0);
    }
    print_message("late joiner snapshot at %llu, player left at %llu of "
                  "%llu\n",
                  (unsigned long long)joined_at, (unsigned long long)left_at,
                  (unsigned long long)total);
    pc_free(want);
    teardown(srv, cs, NJOIN);
    pthread_cond_destroy(&p.cv);
    pthread_mutex_destroy(&p.mu);
}

static void test_drop_permille_over_a_thousand_is_invalid(void **state)
{
    (void)state;
    pc_server_options o;
    pc_server_options_init(&o);
    assert_int_equal(o.drop_permille, 0);
    o.pub_url = "inproc://pc-faults-bad-pub";
    o.rep_url = "inproc://pc-faults-bad-rep";
    o.drop_permille = 1001;
    pc_server *srv = NULL;
    assert_int_equal(pc_server_new(&o, &srv, NULL), PC_ERR_INVALID);
    assert_null(srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drop_permille_over_a_thousand_is_invalid),
        cmocka_unit_test(test_one_percent_suppressed_changes_are_repaired),
        cmocka_unit_test(
            test_paused_server_goes_stale_and_recovers_without_snapshots),
        cmocka_unit_test(test_late_and_replacement_clients_converge_mid_burst),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    pc_transport_fini();
    return failed;
}
