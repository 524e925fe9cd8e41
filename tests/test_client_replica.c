/*
 * test_client_replica.c - the client's replica, ordering and repair logic
 * against a scripted peer: a real nng PUB socket the test publishes on and
 * a real REP socket answered by a peer thread, both speaking protocol v1
 * from a precomputed list of changes. Covers in-order following, gap
 * repair with `changes`, too_old -> snapshot, checksum mismatch ->
 * snapshot, the bounded snapshot budget, staleness, duplicates, private
 * data for players, and actions (retries reuse the action id, server
 * errors come back typed).
 */
/* clock_gettime */
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

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/reqrep0/rep.h>

#include "phasecast/canon.h"
#include "phasecast/client.h"
#include "phasecast/json.h"
#include "phasecast/merge.h"

#define ROOM   "r1"
#define TOKEN  "0123456789abcdef0123456789abcdef"
#define MAXSEQ 2000
/* Bounded waits: longer under valgrind (PHASECAST_VALGRIND=1). */
static int wait_ms(void)
{
    const char *vg = getenv("PHASECAST_VALGRIND");
    return vg != NULL && vg[0] != '\0' && strcmp(vg, "0") != 0 ? 60000 : 10000;
}
#define WAIT_MS wait_ms()

/* ------------------------------------------------------------------ */
/* The scripted peer                                                   */
/* ------------------------------------------------------------------ */

/* A fake server for one room: its changes are fixed up front; the test
 * decides what is published and how far the request side reaches. */
typedef struct peer {
    nng_socket pub;
    nng_socket rep;
    char pub_url[64];
    char rep_url[64];
    pthread_t thread;
    pthread_mutex_t mu;
    bool stop;
    int pub_pipes;

    /* The room: patch i takes state i-1 to state i, in two views. */
    bool with_private;
    cJSON *pub_patch[MAXSEQ + 1];
    cJSON *own_patch[MAXSEQ + 1];
    bool priv[MAXSEQ + 1];
    uint64_t pub_sum[MAXSEQ + 1];
    uint64_t own_sum[MAXSEQ + 1];

    /* Under the mutex: */
    uint64_t head;         /* the server's seq */
    uint64_t oldest;       /* oldest seq `changes` still returns */
    uint64_t corrupt_from; /* published sums wrong from this seq (0: no) */
    bool corrupt_snapshot; /* snapshot sums wrong */
    int drop_actions;      /* leave this many action requests unanswered */
    bool refuse_actions;   /* answer actions with not_your_turn */
    int snapshots;         /* requests seen, by op */
    int changes_reqs;
    int changes_with_token;
    int actions_seen;
    int actions_applied;
    char first_action_id[65];
    bool action_ids_differ;
} peer;

static const char *phase_at(uint64_t seq)
{
    static const char *phases[] = {"LOBBY", "PLAY", "SCORE"};
    return phases[(seq / 25) % 3];
}

/* {"phase":..., "data":...} at seq in one view, by folding the patches. */
static cJSON *peer_state(const peer *p, uint64_t seq, bool own)
{
    cJSON *data = cJSON_CreateObject();
    for (uint64_t i = 1; i <= seq; i++) {
        assert_int_equal(pc_merge_patch_inplace(data, own ? p->own_patch[i]
                                                          : p->pub_patch[i]),
                         PC_OK);
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "phase", seq == 0 ? "LOBBY" : phase_at(seq));
    cJSON_AddItemToObject(doc, "data", data);
    return doc;
}

static void make_changes(peer *p)
{
    for (uint64_t i = 1; i <= MAXSEQ; i++) {
        char key[16];
        cJSON *patch = cJSON_CreateObject();
        cJSON_AddNumberToObject(patch, "n", (double)i);
        snprintf(key, sizeof(key), "k%u", (unsigned)(i % 7));
        cJSON_AddNumberToObject(patch, key, (double)i);
        if (i % 5 == 0) {
            snprintf(key, sizeof(key), "k%u", (unsigned)((i + 3) % 7));
            cJSON_AddNullToObject(patch, key);
        }
        p->pub_patch[i] = patch;
        p->own_patch[i] = cJSON_Duplicate(patch, 1);
        p->priv[i] = p->with_private && i % 4 == 0;
        if (p->priv[i]) {
            cJSON *hand = cJSON_AddObjectToObject(p->own_patch[i], "hand");
            cJSON_AddNumberToObject(hand, "alice", (double)i);
        }
    }
    /* Sums by incremental folding. */
    cJSON *pub = peer_state(p, 0, false);
    cJSON *own = peer_state(p, 0, true);
    for (uint64_t i = 1; i <= MAXSEQ; i++) {
        cJSON *views[2] = {pub, own};
        for (int v = 0; v < 2; v++) {
            cJSON *d = cJSON_GetObjectItemCaseSensitive(views[v], "data");
            pc_merge_patch_inplace(d, v ? p->own_patch[i] : p->pub_patch[i]);
            cJSON_ReplaceItemInObjectCaseSensitive(
                views[v], "phase", cJSON_CreateString(phase_at(i)));
            pc_canon_checksum(views[v], v ? &p->own_sum[i] : &p->pub_sum[i],
                              NULL);
        }
    }
    cJSON_Delete(pub);
    cJSON_Delete(own);
}

static cJSON *change_json(const peer *p, uint64_t i, bool own, bool corrupt)
{
    char sum[17];
    uint64_t s = own ? p->own_sum[i] : p->pub_sum[i];
    snprintf(sum, sizeof(sum), "%016llx",
             (unsigned long long)(corrupt ? s ^ 1 : s));
    cJSON *ch = cJSON_CreateObject();
    cJSON_AddNumberToObject(ch, "seq", (double)i);
    cJSON_AddNumberToObject(ch, "time", 1700000000000.0 + (double)i);
    cJSON_AddStringToObject(ch, "kind", "update");
    cJSON_AddStringToObject(ch, "phase", phase_at(i));
    cJSON_AddStringToObject(ch, "reason", "scripted");
    cJSON_AddItemToObject(
        ch, "patch",
        cJSON_Duplicate(own ? p->own_patch[i] : p->pub_patch[i], 1));
    cJSON_AddStringToObject(ch, "sum", sum);
    if (p->priv[i]) {
        cJSON_AddBoolToObject(ch, "private", true);
    }
    return ch;
}

static void send_text(nng_socket s, const char *prefix, const cJSON *doc)
{
    char *text = cJSON_PrintUnformatted(doc);
    size_t plen = strlen(prefix), tlen = strlen(text);
    nng_msg *msg;
    assert_int_equal(nng_msg_alloc(&msg, 0), 0);
    nng_msg_append(msg, prefix, plen);
    nng_msg_append(msg, text, tlen);
    if (nng_sendmsg(s, msg, 0) != 0) {
        nng_msg_free(msg);
    }
    cJSON_free(text);
}

static cJSON *reply_ok(cJSON *result)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "v", 1);
    cJSON_AddBoolToObject(r, "ok", true);
    cJSON_AddItemToObject(r, "result", result);
    return r;
}

static cJSON *reply_err(const char *code, const char *message)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "v", 1);
    cJSON_AddBoolToObject(r, "ok", false);
    cJSON *e = cJSON_AddObjectToObject(r, "error");
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", message);
    return r;
}

/* Answer one request; NULL means "do not answer". Called locked. */
static cJSON *peer_answer(peer *p, const cJSON *req)
{
    const char *op = cJSON_GetStringValue(cJSON_GetObjectItem(req, "op"));
    const char *token = cJSON_GetStringValue(cJSON_GetObjectItem(req, "token"));
    bool own = token != NULL && strcmp(token, TOKEN) == 0;
    const char *room = cJSON_GetStringValue(cJSON_GetObjectItem(req, "room"));
    if (op == NULL || room == NULL) {
        return reply_err("bad_request", "no op");
    }
    if (strcmp(room, ROOM) != 0) {
        return reply_err("unknown_room", "no such room");
    }
    if (strcmp(op, "join") == 0) {
        cJSON *res = cJSON_CreateObject();
        cJSON_AddStringToObject(res, "room", ROOM);
        cJSON_AddStringToObject(res, "token", TOKEN);
        cJSON_AddNumberToObject(res, "seq", (double)p->head);
        return reply_ok(res);
    }
    if (strcmp(op, "snapshot") == 0) {
        char sum[17];
        uint64_t s = p->head == 0 ? 0
                     : own        ? p->own_sum[p->head]
                                  : p->pub_sum[p->head];
        cJSON *state = peer_state(p, p->head, own);
        if (p->head == 0) {
            pc_canon_checksum(state, &s, NULL);
        }
        snprintf(sum, sizeof(sum), "%016llx",
                 (unsigned long long)(p->corrupt_snapshot ? s ^ 1 : s));
        p->snapshots++;
        cJSON *res = cJSON_CreateObject();
        cJSON_AddStringToObject(res, "room", ROOM);
        cJSON_AddNumberToObject(res, "seq", (double)p->head);
        cJSON_AddStringToObject(res, "sum", sum);
        cJSON_AddItemToObject(res, "state", state);
        return reply_ok(res);
    }
    if (strcmp(op, "changes") == 0) {
        uint64_t since =
            (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(req, "since"));
        p->changes_reqs++;
        p->changes_with_token += own;
        if (since + 1 < p->oldest) {
            return reply_err("too_old", "history does not reach back");
        }
        cJSON *res = cJSON_CreateObject();
        cJSON_AddStringToObject(res, "room", ROOM);
        cJSON_AddNumberToObject(res, "seq", (double)p->head);
        cJSON *list = cJSON_AddArrayToObject(res, "changes");
        for (uint64_t i = since + 1; i <= p->head; i++) {
            cJSON_AddItemToArray(list, change_json(p, i, own, false));
        }
        return reply_ok(res);
    }
    if (strcmp(op, "action") == 0) {
        const char *id =
            cJSON_GetStringValue(cJSON_GetObjectItem(req, "action_id"));
        p->actions_seen++;
        if (p->first_action_id[0] == '\0') {
            snprintf(p->first_action_id, sizeof(p->first_action_id), "%s", id);
        } else if (strcmp(p->first_action_id, id) != 0) {
            p->action_ids_differ = true;
        }
        if (p->actions_seen <= p->drop_actions) {
            return NULL;
        }
        if (p->refuse_actions) {
            return reply_err("not_your_turn", "it is bob's turn");
        }
        if (p->actions_applied == 0) {
            p->actions_applied = 1;
        }
        cJSON *res = cJSON_CreateObject();
        cJSON_AddStringToObject(res, "room", ROOM);
        cJSON_AddNumberToObject(res, "seq", (double)p->head);
        cJSON_AddStringToObject(res, "value", "placed");
        return reply_ok(res);
    }
    return reply_err("bad_request", "unknown op");
}

static void *peer_main(void *arg)
{
    peer *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        bool stop = p->stop;
        pthread_mutex_unlock(&p->mu);
        if (stop) {
            return NULL;
        }
        nng_msg *msg;
        if (nng_recvmsg(p->rep, &msg, 0) != 0) {
            continue; /* receive timeout: check stop */
        }
        cJSON *req = cJSON_ParseWithLength(nng_msg_body(msg), nng_msg_len(msg));
        nng_msg_free(msg);
        pthread_mutex_lock(&p->mu);
        cJSON *reply = peer_answer(p, req);
        pthread_mutex_unlock(&p->mu);
        cJSON_Delete(req);
        if (reply != NULL) {
            send_text(p->rep, "", reply);
            cJSON_Delete(reply);
        }
    }
}

static void pipe_cb(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
    peer *p = arg;
    (void)pipe;
    pthread_mutex_lock(&p->mu);
    p->pub_pipes += ev == NNG_PIPE_EV_ADD_POST ? 1 : -1;
    pthread_mutex_unlock(&p->mu);
}

static void listen_any(nng_socket s, char *url, size_t cap)
{
    nng_listener l;
    nng_sockaddr sa;
    assert_int_equal(nng_listen(s, "tcp://127.0.0.1:0", &l, 0), 0);
    assert_int_equal(nng_listener_get_addr(l, NNG_OPT_LOCADDR, &sa), 0);
    snprintf(
        url, cap, "tcp://127.0.0.1:%u",
        (unsigned)((sa.s_in.sa_port >> 8 | sa.s_in.sa_port << 8) & 0xffff));
}

static peer *peer_new(bool with_private, uint64_t head)
{
    peer *p = calloc(1, sizeof(*p));
    p->with_private = with_private;
    make_changes(p);
    p->head = head;
    p->oldest = 1;
    pthread_mutex_init(&p->mu, NULL);
    assert_int_equal(nng_pub0_open(&p->pub), 0);
    assert_int_equal(nng_rep0_open(&p->rep), 0);
    nng_socket_set_int(p->pub, NNG_OPT_SENDBUF, 8192);
    nng_socket_set_ms(p->rep, NNG_OPT_RECVTIMEO, 20);
    nng_pipe_notify(p->pub, NNG_PIPE_EV_ADD_POST, pipe_cb, p);
    nng_pipe_notify(p->pub, NNG_PIPE_EV_REM_POST, pipe_cb, p);
    listen_any(p->pub, p->pub_url, sizeof(p->pub_url));
    listen_any(p->rep, p->rep_url, sizeof(p->rep_url));
    pthread_create(&p->thread, NULL, peer_main, p);
    return p;
}

static void peer_free(peer *p)
{
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    nng_close(p->rep);
    nng_close(p->pub);
    for (int i = 1; i <= MAXSEQ; i++) {
        cJSON_Delete(p->pub_patch[i]);
        cJSON_Delete(p->own_patch[i]);
    }
    pthread_mutex_destroy(&p->mu);
    free(p);
}

/* Publish changes from..to in one frame; the server's head follows. */
static void peer_publish(peer *p, uint64_t from, uint64_t to)
{
    pthread_mutex_lock(&p->mu);
    cJSON *env = cJSON_CreateObject();
    cJSON_AddNumberToObject(env, "v", 1);
    cJSON_AddStringToObject(env, "type", "changes");
    cJSON_AddStringToObject(env, "room", ROOM);
    cJSON *list = cJSON_AddArrayToObject(env, "changes");
    for (uint64_t i = from; i <= to; i++) {
        bool corrupt = p->corrupt_from != 0 && i >= p->corrupt_from;
        cJSON_AddItemToArray(list, change_json(p, i, false, corrupt));
    }
    if (to > p->head) {
        p->head = to;
    }
    pthread_mutex_unlock(&p->mu);
    send_text(p->pub, ROOM " ", env);
    cJSON_Delete(env);
}

/* Commit up to seq without publishing (as if every frame was lost). */
static void peer_advance(peer *p, uint64_t seq)
{
    pthread_mutex_lock(&p->mu);
    p->head = seq;
    pthread_mutex_unlock(&p->mu);
}

static void peer_heartbeat(peer *p, int interval_ms)
{
    pthread_mutex_lock(&p->mu);
    cJSON *hb = cJSON_CreateObject();
    cJSON_AddNumberToObject(hb, "v", 1);
    cJSON_AddStringToObject(hb, "type", "heartbeat");
    cJSON_AddStringToObject(hb, "room", ROOM);
    cJSON_AddNumberToObject(hb, "seq", (double)p->head);
    cJSON_AddStringToObject(hb, "phase", phase_at(p->head));
    cJSON_AddNumberToObject(hb, "time", 1700000000000.0);
    cJSON_AddNumberToObject(hb, "interval_ms", interval_ms);
    pthread_mutex_unlock(&p->mu);
    send_text(p->pub, ROOM " ", hb);
    cJSON_Delete(hb);
}

static int peer_get(peer *p, const int *field)
{
    pthread_mutex_lock(&p->mu);
    int v = *field;
    pthread_mutex_unlock(&p->mu);
    return v;
}

/* ------------------------------------------------------------------ */
/* The client side                                                     */
/* ------------------------------------------------------------------ */

/* What the callbacks saw. */
typedef struct rec {
    uint64_t expect; /* seq the next change callback must carry */
    int changes;
    bool disorder;  /* a change arrived out of order or twice */
    bool state_lag; /* the replica did not include the change yet */
    int events[5];
    bool close_on_change;
} rec;

static void on_change(pc_client *c, const pc_client_change *ch, void *arg)
{
    rec *r = arg;
    if (ch->seq != r->expect) {
        r->disorder = true;
    }
    if (pc_client_seq(c) != ch->seq) {
        r->state_lag = true;
    }
    r->expect = ch->seq + 1;
    r->changes++;
    if (r->close_on_change) {
        pc_client_close(c);
    }
}

static void on_event(pc_client *c, pc_client_event ev, void *arg)
{
    rec *r = arg;
    r->events[ev]++;
    if (ev == PC_CLIENT_EVENT_SNAPSHOT) {
        r->expect = pc_client_seq(c) + 1;
    }
}

/* Test fixture: one peer, one client, one recorder. */
typedef struct fix {
    peer *p;
    pc_client *c;
    rec r;
    pc_client_config cfg;
} fix;

static fix *fix_new(bool with_private, uint64_t head, pc_client_role role)
{
    fix *f = calloc(1, sizeof(*f));
    f->p = peer_new(with_private, head);
    f->cfg.pub_url = f->p->pub_url;
    f->cfg.req_url = f->p->rep_url;
    f->cfg.room = ROOM;
    f->cfg.role = role;
    f->cfg.name = role == PC_CLIENT_PLAYER ? "alice" : NULL;
    f->cfg.on_change = on_change;
    f->cfg.on_event = on_event;
    f->cfg.arg = &f->r;
    f->cfg.request_timeout_ms = 2000;
    f->cfg.heartbeat_ms = 60000; /* no staleness unless a test wants it */
    f->cfg.repair_backoff_ms = 20;
    return f;
}

/* Open the client and wait until the peer's PUB has its pipe, so that
 * what the test publishes next reaches the client. */
static void fix_open(fix *f)
{
    pc_error err = {0};
    assert_int_equal(pc_client_open(&f->cfg, &f->c, &err), PC_OK);
    f->r.expect = pc_client_seq(f->c) + 1;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (peer_get(f->p, &f->p->pub_pipes) < 1) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        assert_true(t.tv_sec - t0.tv_sec < WAIT_MS / 1000);
        pc_client_poll(f->c, 5);
    }
}

static int fix_setup(void **state)
{
    *state = NULL;
    return 0;
}

static int fix_teardown(void **state)
{
    fix *f = *state;
    if (f != NULL) {
        pc_client_close(f->c);
        peer_free(f->p);
        free(f);
    }
    return 0;
}

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Poll until the replica reaches seq or the deadline passes. */
static bool wait_seq(pc_client *c, uint64_t seq)
{
    int64_t end = mono_ms() + WAIT_MS;
    while (pc_client_seq(c) < seq && mono_ms() < end) {
        pc_client_poll(c, 20);
    }
    return pc_client_seq(c) == seq;
}

/* The replica equals the peer's state at seq in the given view. */
static void assert_state_is(fix *f, uint64_t seq, bool own)
{
    cJSON *want = peer_state(f->p, seq, own);
    assert_true(pc_json_equal(pc_client_state(f->c), want));
    cJSON_Delete(want);
}

static pc_client_stats stats(const pc_client *c)
{
    pc_client_stats st;
    pc_client_stats_get(c, &st);
    return st;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static void test_client_join_starts_from_snapshot(void **state)
{
    fix *f = *state = fix_new(false, 30, PC_CLIENT_SPECTATOR);
    fix_open(f);
    assert_int_equal(pc_client_seq(f->c), 30);
    assert_state_is(f, 30, false);
    assert_string_equal(pc_client_room(f->c), ROOM);
    assert_null(pc_client_player(f->c));
    assert_int_equal(stats(f->c).snapshots, 1);
    assert_int_equal(f->r.events[PC_CLIENT_EVENT_SNAPSHOT], 0);
}

static void test_client_follows_changes_in_order(void **state)
{
    fix *f = *state = fix_new(false, 0, PC_CLIENT_SPECTATOR);
    fix_open(f);
    for (uint64_t i = 1; i <= 100; i++) {
        peer_publish(f->p, i, i);
    }
    assert_true(wait_seq(f->c, 100));
    assert_state_is(f, 100, false);
    pc_client_stats st = stats(f->c);
    assert_int_equal(st.changes_applied, 100);
    assert_int_equal(st.gaps_detected, 0);
    assert_int_equal(st.checksum_mismatches, 0);
    assert_int_equal(st.snapshots, 1);
    assert_int_equal(st.unverified, 0);
    assert_int_equal(f->r.changes, 100);
    assert_false(f->r.disorder);
    assert_false(f->r.state_lag);
}

static void test_client_applies_multi_change_frames(void **state)
{
    fix *f = *state = fix_new(false, 0, PC_CLIENT_SPECTATOR);
    fix_open(f);
    peer_publish(f->p, 1, 7);
    peer_publish(f->p, 8, 40);
    assert_true(wait_seq(f->c, 40));
    assert_state_is(f, 40, false);
    assert_int_equal(stats(f->c).changes_applied, 40);
    assert_int_equal(f->r.changes, 40);
    assert_false(f->r.disorder);
}

static void test_client_repairs_skipped_changes_with_changes_since(void **state)
{
    fix *f = *state = fix_new(false, 0, PC_CLIENT_SPECTATOR);
    fix_open(f);
    uint64_t reached = 0;
    for (uint64_t i = 1; i <= 100; i++) {
        if (i == 10 || i == 11 || i == 50 || i == 100) {
            peer_advance(f->p, i); /* committed, frame lost */
        } else {
            peer_publish(f->p, i, i);
            reached = i;
        }
        /* Step in lockstep so the counts below are exact. */
        assert_true(wait_seq(f->c, reached));
    }
    /* Seq 100 was lost and nothing follows it: the heartbeat tells. */
    peer_heartbeat(f->p, 1000);
    assert_true(wait_seq(f->c, 100));
    assert_state_is(f, 100, false);
    pc_client_stats st = stats(f->c);
    assert_int_equal(st.gaps_detected, 3);
    assert_int_equal(st.repairs_changes, 3);
    assert_int_equal(st.changes_applied, 100);
    assert_int_equal(st.snapshots, 1);
    assert_int_equal(st.duplicates_ignored, 2); /* the frames 12 and 51 */
    assert_int_equal(f->r.changes, 100);
    assert_false(f->r.disorder);
}

static void test_client_ignores_duplicate_and_reordered_frames(void **state)
{
    fix *f = *state = fix_new(false, 0, PC_CLIENT_SPECTATOR);
    fix_open(f);
    peer_publish(f->p, 1, 5);
    assert_true(wait_seq(f->c, 5));
    peer_publish(f->p, 3, 4);
    peer_publish(f->p, 1, 5);
    peer_publish(f->p, 5, 6);
    assert_true(wait_seq(f->c, 6));
    peer_publish(f->p, 6, 6);
    peer_publish(f->p, 7, 7);
    assert_true(wait_seq(f->c, 7));
    pc_client_stats st = stats(f->c);
    assert_int_equal(st.changes_applied, 7);
    assert_int_equal(st.duplicates_ignored, 2 + 5 + 1 + 1);
    assert_int_equal(st.gaps_detected, 0);
    assert_int_equal(f->r.changes, 7);
    assert_false(f->r.disorder);
    assert_state_is(f, 7, false);
}

static void test_client_too_old_falls_back_to_snapshot(void **state)
{
    fix *f = *state = fix_new(false, 10, PC_CLIENT_SPECTATOR);
    fix_open(f);
    pthread_mutex_lock(&f->p->mu);
    f->p->oldest = 20; /* history no longer reaches seq 11 */
    pthread_mutex_unlock(&f->p->mu);
    peer_advance(f->p, 25);
    peer_publish(f->p, 26, 26);
    assert_true(wait_seq(f->c, 26));
    assert_state_is(f, 26, false);
    pc_client_stats st = stats(f->c);
    assert_int_equal(st.gaps_detected, 1);
    assert_int_equal(st.repairs_changes, 0);
    assert_int_equal(st.snapshots, 2);
    assert_int_equal(f->r.events[PC_CLIENT_EVENT_SNAPSHOT], 1);
    assert_int_equal(peer_get(f->p, &f->p->snapshots), 2);
    /* Following resumes normally after the snapshot. */
    peer_publish(f->p, 27, 27);
    assert_true(wait_seq(f->c, 27));
    assert_state_is(f, 27, false);
    assert_false(f->r.disorder);
}

static void test_client_checksum_mismatch_resyncs_with_snapshot(void **state)
{
    fix *f = *state = fix_new(false, 0, PC_CLIENT_SPECTATOR);
    fix_open(f);
    peer_publish(f->p, 1, 4);
    assert_true(wait_seq(f->c, 4));
    pthread_mutex_lock(&f->p->mu);
    f->p->corrupt_from = 5;
    pthread_mutex_unlock(&f->p->mu);
    peer_publish(f->p, 5, 5);
    pthread_mutex_lock(&f->p->mu);
    f->p->corrupt_from = 0;
    pthread_mutex_unlock(&f->p->mu);
    int64_t end = mono_ms() + WAIT_MS;
    while (stats(f->c).snapshots < 2 && mono_ms() < end) {
        pc_client_poll(f->c, 20);
    }
    pc_client_stats st = stats(f->c);
    assert_int_equal(st.checksum_mismatches, 1);
    assert_int_equal(st.snapshots, 2);
    assert_int_equal(pc_client_seq(f->c), 5);
    assert_state_is(f, 5, false);
    peer_publish(f->p, 6, 6);
    assert_true(wait_seq(f->c, 6));
    assert_state_is(f, 6, false);
    assert_false(f->r.disorder);
}

static void test_client_gives_up_after_bounded_snapshots(void **state)
{
    fix *f = *state = fix_new(false, 0, PC_CLIENT_SPECTATOR);
    f->cfg.cooldown_ms = 600000;
    fix_open(f);
    pthread_mutex_lock(&f->p->mu);
    f->p->corrupt_from = 1; /* every broadcast sum disagrees */
    pthread_mutex_unlock(&f->p->mu);
    uint64_t seq = 0;
    int64_t end = mono_ms() + WAIT_MS;
    /* One change every 20 ms of wall time, however fast the client drains
     * them: the client backs off between snapshots, and a loop that
     * published as fast as it polled could run out of seqs inside one
     * back-off on a loaded machine (it did: 1,900 published, client still
     * waiting to take its fourth repair snapshot). */
    while (f->r.events[PC_CLIENT_EVENT_GAVE_UP] == 0 && mono_ms() < end &&
           seq < MAXSEQ - 100) {
        seq++;
        peer_publish(f->p, seq, seq);
        int64_t next = mono_ms() + 20;
        while (f->r.events[PC_CLIENT_EVENT_GAVE_UP] == 0 && mono_ms() < next) {
            pc_client_poll(f->c, 5);
        }
    }
    if (f->r.events[PC_CLIENT_EVENT_GAVE_UP] != 1) {
        pc_client_stats d = stats(f->c);
        print_message("no give-up: seq %llu published, client at %llu, "
                      "%llu snapshots, %llu mismatches, %llu applied\n",
                      (unsigned long long)seq,
                      (unsigned long long)pc_client_seq(f->c),
                      (unsigned long long)d.snapshots,
                      (unsigned long long)d.checksum_mismatches,
                      (unsigned long long)d.changes_applied);
    }
    assert_int_equal(f->r.events[PC_CLIENT_EVENT_GAVE_UP], 1);
    /* The join's snapshot plus the budget of 3, and no more while it cools
     * down, however much keeps arriving. */
    assert_int_equal(stats(f->c).snapshots, 4);
    for (int i = 0; i < 50; i++) {
        seq++;
        peer_publish(f->p, seq, seq);
        pc_client_poll(f->c, 5);
    }
    assert_int_equal(stats(f->c).snapshots, 4);
    assert_int_equal(peer_get(f->p, &f->p->snapshots), 4);
    assert_int_equal(f->r.events[PC_CLIENT_EVENT_GAVE_UP], 1);
}

static void test_client_goes_stale_and_repairs_with_changes(void **state)
{
    fix *f = *state = fix_new(false, 0, PC_CLIENT_SPECTATOR);
    f->cfg.heartbeat_ms = 30;
    fix_open(f);
    peer_heartbeat(f->p, 30);
    peer_publish(f->p, 1, 3);
    assert_true(wait_seq(f->c, 3));
    int stale0 = f->r.events[PC_CLIENT_EVENT_STALE];
    int live0 = f->r.events[PC_CLIENT_EVENT_LIVE];
    /* Silence: three intervals later the room is stale. */
    int64_t end = mono_ms() + WAIT_MS;
    while (!pc_client_stale(f->c) && mono_ms() < end) {
        pc_client_poll(f->c, 20);
    }
    assert_true(pc_client_stale(f->c));
    assert_int_equal(f->r.events[PC_CLIENT_EVENT_STALE], stale0 + 1);
    /* Meanwhile the server moved on; every frame was lost. The new
     * interval keeps the room live for the rest of the test. */
    peer_advance(f->p, 40);
    peer_heartbeat(f->p, 60000);
    assert_true(wait_seq(f->c, 40));
    assert_false(pc_client_stale(f->c));
    assert_int_equal(f->r.events[PC_CLIENT_EVENT_LIVE], live0 + 1);
    pc_client_stats st = stats(f->c);
    assert_int_equal(st.repairs_changes, 1);
    assert_int_equal(st.snapshots, 1); /* no snapshot storm */
    assert_state_is(f, 40, false);
    assert_false(f->r.disorder);
}

static void test_client_player_fetches_private_changes_with_token(void **state)
{
    fix *f = *state = fix_new(true, 0, PC_CLIENT_PLAYER);
    fix_open(f);
    assert_string_equal(pc_client_player(f->c), "alice");
    for (uint64_t i = 1; i <= 40; i++) {
        peer_publish(f->p, i, i);
        assert_true(wait_seq(f->c, i));
    }
    assert_state_is(f, 40, true);
    pc_client_stats st = stats(f->c);
    assert_int_equal(st.private_fetches, 10); /* seqs 4, 8, ..., 40 */
    assert_int_equal(st.checksum_mismatches, 0);
    assert_int_equal(st.snapshots, 1);
    assert_int_equal(st.changes_applied, 40);
    assert_int_equal(peer_get(f->p, &f->p->changes_with_token),
                     peer_get(f->p, &f->p->changes_reqs));
    assert_int_equal(f->r.changes, 40);
    assert_false(f->r.disorder);
}

static void
test_client_player_joining_with_private_data_learns_its_view(void **state)
{
    fix *f = *state = fix_new(true, 10, PC_CLIENT_PLAYER);
    fix_open(f);
    assert_state_is(f, 10, true); /* the snapshot carried alice's hand */
    peer_publish(f->p, 11, 11);   /* public sum cannot match her replica */
    assert_true(wait_seq(f->c, 11));
    peer_publish(f->p, 12, 15);
    assert_true(wait_seq(f->c, 15));
    assert_state_is(f, 15, true);
    pc_client_stats st = stats(f->c);
    assert_int_equal(st.checksum_mismatches, 0);
    assert_int_equal(st.snapshots, 1);
    assert_int_equal(st.changes_applied, 5);
    assert_false(f->r.disorder);
}

static void test_client_spectator_never_sees_private_data(void **state)
{
    fix *f = *state = fix_new(true, 10, PC_CLIENT_SPECTATOR);
    fix_open(f);
    peer_publish(f->p, 11, 20);
    assert_true(wait_seq(f->c, 20));
    assert_state_is(f, 20, false);
    assert_null(pc_json_pointer_get(pc_client_state(f->c), "/data/hand"));
    pc_client_stats st = stats(f->c);
    assert_int_equal(st.private_fetches, 0);
    assert_int_equal(st.checksum_mismatches, 0);
    assert_int_equal(st.unverified, 0);
}

static void test_client_act_retries_with_the_same_action_id(void **state)
{
    fix *f = *state = fix_new(false, 0, PC_CLIENT_PLAYER);
    f->cfg.request_timeout_ms = 50;
    f->cfg.request_attempts = 5;
    fix_open(f);
    pthread_mutex_lock(&f->p->mu);
    f->p->drop_actions = 2;
    pthread_mutex_unlock(&f->p->mu);
    cJSON *payload = cJSON_Parse("{\"cell\":4}");
    cJSON *value = NULL;
    uint64_t seq = 99;
    pc_error err = {0};
    assert_int_equal(pc_client_act(f->c, "place", payload, &value, &seq, &err),
                     PC_OK);
    cJSON_Delete(payload);
    assert_string_equal(cJSON_GetStringValue(value), "placed");
    cJSON_Delete(value);
    assert_int_equal(seq, 0);
    assert_int_equal(peer_get(f->p, &f->p->actions_seen), 3);
    assert_int_equal(peer_get(f->p, &f->p->actions_applied), 1);
    pthread_mutex_lock(&f->p->mu);
    assert_false(f->p->action_ids_differ);
    assert_non_null(strchr(f->p->first_action_id, '-'));
    pthread_mutex_unlock(&f->p->mu);
    assert_true(stats(f->c).request_failures >= 2);
}

static void test_client_act_returns_the_servers_typed_error(void **state)
{
    fix *f = *state = fix_new(false, 0, PC_CLIENT_PLAYER);
    fix_open(f);
    pthread_mutex_lock(&f->p->mu);
    f->p->refuse_actions = true;
    pthread_mutex_unlock(&f->p->mu);
    cJSON *value = NULL;
    pc_error err = {0};
    assert_int_equal(pc_client_act(f->c, "place", NULL, &value, NULL, &err),
                     PC_ERR_ACTION);
    assert_null(value);
    assert_int_equal(err.err, PC_ERR_ACTION);
    assert_string_equal(err.code, "not_your_turn");
    assert_string_equal(err.message, "it is bob's turn");
}

static void test_client_spectator_cannot_act(void **state)
{
    fix *f = *state = fix_new(false, 0, PC_CLIENT_SPECTATOR);
    fix_open(f);
    pc_error err = {0};
    assert_int_equal(pc_client_act(f->c, "place", NULL, NULL, NULL, &err),
                     PC_ERR_PERMISSION);
    assert_int_equal(peer_get(f->p, &f->p->actions_seen), 0);
}

static void test_client_open_reports_unknown_room(void **state)
{
    fix *f = *state = fix_new(false, 0, PC_CLIENT_SPECTATOR);
    f->cfg.room = "nope";
    pc_client *c = NULL;
    pc_error err = {0};
    assert_int_equal(pc_client_open(&f->cfg, &c, &err), PC_ERR_NOT_FOUND);
    assert_null(c);
    assert_string_equal(err.code, "unknown_room");
}

static void test_client_open_times_out_without_server(void **state)
{
    (void)state;
    pc_client_config cfg = {0};
    cfg.pub_url = "tcp://127.0.0.1:1";
    cfg.req_url = "tcp://127.0.0.1:1";
    cfg.room = ROOM;
    cfg.request_timeout_ms = 20;
    cfg.request_attempts = 2;
    pc_client *c = NULL;
    pc_error err = {0};
    assert_int_equal(pc_client_open(&cfg, &c, &err), PC_ERR_TIMEOUT);
    assert_null(c);
}

static void test_client_open_rejects_bad_config(void **state)
{
    (void)state;
    pc_client_config cfg = {0};
    pc_client *c = NULL;
    cfg.pub_url = cfg.req_url = "inproc://x";
    cfg.room = "a b";
    assert_int_equal(pc_client_open(&cfg, &c, NULL), PC_ERR_INVALID);
    cfg.room = ROOM;
    cfg.role = PC_CLIENT_PLAYER;
    cfg.name = NULL;
    assert_int_equal(pc_client_open(&cfg, &c, NULL), PC_ERR_INVALID);
    assert_null(c);
    pc_client_close(NULL);
}

static void test_client_may_be_closed_from_its_callback(void **state)
{
    fix *f = *state = fix_new(false, 0, PC_CLIENT_SPECTATOR);
    fix_open(f);
    f->r.close_on_change = true;
    peer_publish(f->p, 1, 3);
    pc_err rv = PC_OK;
    int64_t end = mono_ms() + WAIT_MS;
    while (rv == PC_OK && mono_ms() < end) {
        rv = pc_client_poll(f->c, 20);
    }
    assert_int_equal(rv, PC_ERR_CLOSED);
    assert_int_equal(f->r.changes, 1); /* nothing after the close */
    f->c = NULL;                       /* already freed */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fix_setup, fix_teardown)
        T(test_client_join_starts_from_snapshot),
        T(test_client_follows_changes_in_order),
        T(test_client_applies_multi_change_frames),
        T(test_client_repairs_skipped_changes_with_changes_since),
        T(test_client_ignores_duplicate_and_reordered_frames),
        T(test_client_too_old_falls_back_to_snapshot),
        T(test_client_checksum_mismatch_resyncs_with_snapshot),
        T(test_client_gives_up_after_bounded_snapshots),
        T(test_client_goes_stale_and_repairs_with_changes),
        T(test_client_player_fetches_private_changes_with_token),
        T(test_client_player_joining_with_private_data_learns_its_view),
        T(test_client_spectator_never_sees_private_data),
        T(test_client_act_retries_with_the_same_action_id),
        T(test_client_act_returns_the_servers_typed_error),
        T(test_client_spectator_cannot_act),
        T(test_client_open_reports_unknown_room),
        T(test_client_open_times_out_without_server),
        T(test_client_open_rejects_bad_config),
        T(test_client_may_be_closed_from_its_callback),
#undef T
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    nng_fini();
    return failed;
}
