/*
 * test_piles_net.c - one whole piles game over real sockets. An in-process
 * server (tcp on 127.0.0.1, ephemeral ports) hosts a piles room; four
 * pc_client players, each on its own thread, are driven by the piles bot;
 * a spectator pc_client and a raw nng SUB socket with an empty
 * subscription (every byte kept) watch it. The group setup plays the game
 * to GAME_OVER and records everything; the tests then check that every
 * client ends with the server's state in its own view, that the watchers'
 * seq streams have no undetected gap, that no hand ever crossed the public
 * stream, and that a framework-only room with the same seed, settings and
 * actions ends in the same state, change for change.
 *
 * The declare and play timeouts are long, so the bots act first; the
 * pauses between turns and rounds are 1 ms. Nothing asserts on time: the
 * deadlines only end a hung game. The setup itself never asserts (a failed
 * cmocka assert would skip its cleanup); it writes what went wrong into
 * the record, which the first test reports. Under valgrind
 * (PHASECAST_VALGRIND=1) the game stops after two rounds.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/client.h"
#include "phasecast/json.h"
#include "phasecast/room.h"
#include "phasecast/server.h"
#include "phasecast/view.h"
#include "piles/bot.h"
#include "piles/piles.h"
#include "piles/rules.h"

#define ROOM        "p1"
#define SEED        2024
#define WAIT_MS     90000 /* ends a hung game; never reached by a good one */
#define SEQ_MAX     4096  /* a game commits fewer than 1000 changes */
#define ACTION_MAX  1024  /* actions one player sends in a game */
#define PAYLOAD_MAX 160

static const char *const P[PILES_PLAYERS] = {"alice", "bob", "carol", "dave"};

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static bool under_valgrind(void)
{
    const char *vg = getenv("PHASECAST_VALGRIND");
    return vg != NULL && vg[0] != '\0' && strcmp(vg, "0") != 0;
}

/* splitmix64: the bots' random picks. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* ---- What the game leaves behind ------------------------------------ */

/* An action the server accepted: the seq it committed, and what it was. */
typedef struct sent {
    uint64_t seq;
    int player;
    char type[8];
    char payload[PAYLOAD_MAX];
} sent;

/* One watcher's seq stream, as its change callback saw it. */
typedef struct stream {
    uint64_t first;         /* the replica's seq when it joined */
    uint64_t seqs[SEQ_MAX]; /* every seq applied, in order */
    size_t n;
    size_t repaired;  /* of those, fetched after a gap */
    size_t snapshots; /* PC_CLIENT_EVENT_SNAPSHOT after joining */
} stream;

/* A client: a player (index >= 0) or the spectator (-1). */
typedef struct follower {
    int player;
    pc_client *c;
    stream s;
    sent *acts; /* players: accepted actions, ACTION_MAX */
    size_t nacts;
    size_t refused; /* stale-replica refusals (harmless) */
    char failure[160];
    pc_client_stats st;
    char *canon; /* the final replica, pc_free */
} follower;

/* The raw SUB socket's record: the bytes and what the frames announced. */
typedef struct raw {
    nng_socket sock;
    char *bytes; /* every body received, back to back; free() */
    size_t len, cap;
    size_t messages, frames, heartbeats, bad;
    uint64_t last_change; /* highest change seq in a frame so far */
    bool disorder;        /* a change seq not above the previous one */
    size_t gaps, undetected;
    uint64_t gap_from;       /* first seq of an open gap, 0 if none */
    uint64_t announced;      /* highest seq a heartbeat announced */
    _Atomic uint64_t target; /* stop once a heartbeat reaches this */
    _Atomic bool connected;  /* a first message arrived */
} raw;

/* Everything the group setup records. */
typedef struct record {
    char error[256]; /* empty when the game ran to its end */
    piles_config cfg;
    uint64_t final_seq;
    uint64_t sums[SEQ_MAX + 1]; /* the server room's checksum after seq */
    bool dealt[PILES_DECK];     /* pieces the sink saw go into a hand */
    size_t private_patches;     /* committed patches that carried a hand */
    char *server_full;          /* the final state, canonical, pc_free */
    char *server_view[PILES_PLAYERS + 1]; /* each player's, then public */
    follower f[PILES_PLAYERS + 1];        /* the players, then the spectator */
    raw r;
} record;

static record *rec;

static void fail_game(const char *fmt, ...)
{
    if (rec->error[0] != '\0') {
        return; /* keep the first reason */
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rec->error, sizeof rec->error, fmt, ap);
    va_end(ap);
}

/* ---- The server side ------------------------------------------------- */

/* A sink on the server's room (loop thread): the checksum after every
 * seq, and which pieces the full patches put into hands. */
static void server_sink(pc_room *room, const pc_change *c, void *arg)
{
    record *r = arg;
    (void)room;
    if (c->seq <= SEQ_MAX) {
        r->sums[c->seq] = c->checksum;
    }
    const cJSON *hands = cJSON_GetObjectItemCaseSensitive(c->patch, "hands");
    const cJSON *hand, *piece;
    bool carried = false;
    cJSON_ArrayForEach(hand, hands)
    {
        cJSON_ArrayForEach(piece, hand)
        {
            int id = piles_piece_parse(piece->string);
            if (id >= 0 && cJSON_IsTrue(piece)) {
                r->dealt[id] = true;
                carried = true;
            }
        }
    }
    r->private_patches += carried;
}

static void read_final(pc_server *srv, void *arg)
{
    record *r = arg;
    pc_room *room = pc_server_find_room(srv, ROOM);
    r->final_seq = pc_room_seq(room);
    pc_canon_print(pc_room_state(room), &r->server_full, NULL);
    for (int i = 0; i <= PILES_PLAYERS; i++) {
        cJSON *view = NULL;
        if (pc_view_state(piles_game(), pc_room_state(room),
                          i < PILES_PLAYERS ? P[i] : NULL, &view) == PC_OK) {
            pc_canon_print(view, &r->server_view[i], NULL);
        }
        cJSON_Delete(view);
    }
}

static pc_server *server_up(record *r)
{
    pc_server_options o;
    pc_server_options_init(&o);
    o.pub_url = "tcp://127.0.0.1:0";
    o.rep_url = "tcp://127.0.0.1:0";
    o.heartbeat_ms = 50;
    pc_server *srv = NULL;
    pc_room *room = NULL;
    pc_server_room_options ro;
    pc_server_room_options_init(&ro);
    ro.room.id = ROOM;
    ro.room.seed = SEED;
    ro.room.seed_set = true;
    ro.room.history_capacity = SEQ_MAX; /* repairs never need a snapshot */
    ro.room.arg = &r->cfg;
    if (pc_server_new(&o, &srv, NULL) != PC_OK) {
        fail_game("pc_server_new failed");
        return NULL;
    }
    /* Still caller-owned: the sink sees every change from the first. */
    if (pc_server_add_room(srv, piles_game(), &ro, &room) != PC_OK ||
        pc_room_add_sink(room, server_sink, r) != PC_OK ||
        pc_server_start(srv) != PC_OK) {
        fail_game("cannot host the piles room");
        pc_server_free(srv);
        return NULL;
    }
    return srv;
}

/* ---- The raw subscriber --------------------------------------------- */

/* Note what one PUB message announced: change seqs must rise by one; a
 * jump opens a gap, which counts as detected once a later change or
 * heartbeat announces a seq at or past it. */
static void raw_note(raw *w, const char *body, size_t len)
{
    const char *space = memchr(body, ' ', len);
    cJSON *msg = space == NULL
                     ? NULL
                     : cJSON_ParseWithLength(space + 1,
                                             len - (size_t)(space + 1 - body));
    const char *type =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg, "type"));
    uint64_t top = 0;
    if (type != NULL && strcmp(type, "changes") == 0) {
        const cJSON *ch;
        w->frames++;
        cJSON_ArrayForEach(ch, cJSON_GetObjectItemCaseSensitive(msg, "changes"))
        {
            const cJSON *s = cJSON_GetObjectItemCaseSensitive(ch, "seq");
            uint64_t seq = cJSON_IsNumber(s) ? (uint64_t)s->valuedouble : 0;
            w->disorder = w->disorder || seq <= w->last_change;
            if (seq > w->last_change + 1 && w->gap_from == 0) {
                w->gaps++;
                w->gap_from = w->last_change + 1;
            }
            w->last_change = seq > w->last_change ? seq : w->last_change;
            top = seq;
        }
    } else if (type != NULL && strcmp(type, "heartbeat") == 0) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(msg, "seq");
        w->heartbeats++;
        top = cJSON_IsNumber(s) ? (uint64_t)s->valuedouble : 0;
        w->announced = top > w->announced ? top : w->announced;
    } else {
        w->bad++;
    }
    if (w->gap_from != 0 && top >= w->gap_from) {
        w->gap_from = 0; /* a client would have noticed and repaired */
    }
    cJSON_Delete(msg);
}

static void *raw_main(void *arg)
{
    raw *w = arg;
    int64_t end = mono_ms() + WAIT_MS;
    while (mono_ms() < end) {
        uint64_t target = atomic_load(&w->target);
        if (target != 0 && w->announced >= target) {
            break;
        }
        nng_msg *m = NULL;
        if (nng_recvmsg(w->sock, &m, 0) != 0) {
            continue; /* the 100 ms receive timeout */
        }
        size_t n = nng_msg_len(m);
        if (w->len + n > w->cap) {
            size_t cap = (w->len + n) * 2;
            char *b = realloc(w->bytes, cap);
            if (b == NULL) {
                nng_msg_free(m);
                break;
            }
            w->bytes = b;
            w->cap = cap;
        }
        memcpy(w->bytes + w->len, nng_msg_body(m), n);
        raw_note(w, w->bytes + w->len, n);
        w->len += n;
        w->messages++;
        atomic_store(&w->connected, true);
        nng_msg_free(m);
    }
    w->undetected = w->gap_from != 0;
    return NULL;
}

/* Open the SUB socket with an empty subscription (every room, every
 * byte) and wait for its first message, so it sees the game from seq 1.
 * The socket is closed only after the server is gone. */
static bool raw_open(raw *w, const char *url, pthread_t *th)
{
    if (nng_sub0_open(&w->sock) != 0 ||
        nng_socket_set(w->sock, NNG_OPT_SUB_SUBSCRIBE, "", 0) != 0 ||
        nng_socket_set_ms(w->sock, NNG_OPT_RECVTIMEO, 100) != 0 ||
        nng_socket_set_int(w->sock, NNG_OPT_RECVBUF, 1024) != 0 ||
        nng_dial(w->sock, url, NULL, 0) != 0 ||
        pthread_create(th, NULL, raw_main, w) != 0) {
        fail_game("cannot open the raw subscriber");
        return false;
    }
    int64_t end = mono_ms() + WAIT_MS;
    while (!atomic_load(&w->connected) && mono_ms() < end) {
        struct timespec ts = {0, 5 * 1000000};
        nanosleep(&ts, NULL);
    }
    return true;
}

/* ---- The clients ------------------------------------------------------ */

static void on_change(pc_client *c, const pc_client_change *ch, void *arg)
{
    follower *f = arg;
    (void)c;
    if (f->s.n < SEQ_MAX) {
        f->s.seqs[f->s.n++] = ch->seq;
    }
    f->s.repaired += ch->repaired;
}

static void on_event(pc_client *c, pc_client_event ev, void *arg)
{
    follower *f = arg;
    (void)c;
    f->s.snapshots += ev == PC_CLIENT_EVENT_SNAPSHOT;
}

static const char *phase_of(const pc_client *c)
{
    return cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(pc_client_state(c), "phase"));
}

static pc_err follower_open(follower *f, const pc_server *srv)
{
    pc_client_config cfg = {0};
    cfg.pub_url = pc_server_pub_url(srv);
    cfg.req_url = pc_server_rep_url(srv);
    cfg.room = ROOM;
    cfg.role = f->player >= 0 ? PC_CLIENT_PLAYER : PC_CLIENT_SPECTATOR;
    cfg.name = f->player >= 0 ? P[f->player] : NULL;
    cfg.on_change = on_change;
    cfg.on_event = on_event;
    cfg.arg = f;
    cfg.request_timeout_ms = 2000;
    pc_err rc = pc_client_open(&cfg, &f->c, NULL);
    if (rc == PC_OK) {
        f->s.first = pc_client_seq(f->c);
    }
    return rc;
}

/* The bot's move at this seq, if it has one; false if the client broke.
 * Its random value depends only on the player and the seq, and when the
 * replica says it is the bot's turn nothing else can change the room (the
 * timeouts are long), so the same seed plays the same game in every run. */
static bool bot_step(follower *f, uint64_t *acted_at)
{
    const char *type = NULL;
    cJSON *payload = NULL;
    uint64_t rng = ((uint64_t)f->player << 32) ^ pc_client_seq(f->c);
    if (pc_client_seq(f->c) == *acted_at ||
        piles_bot_choose(pc_client_state(f->c), P[f->player], next_random(&rng),
                         &type, &payload) != PC_OK) {
        return true; /* nothing to do now, or not until the next change */
    }
    *acted_at = pc_client_seq(f->c);
    uint64_t seq = 0;
    pc_error e = {0};
    pc_err rc = pc_client_act(f->c, type, payload, NULL, &seq, &e);
    char *text = cJSON_PrintUnformatted(payload);
    cJSON_Delete(payload);
    bool ok = true;
    if (rc == PC_OK && f->nacts < ACTION_MAX && text != NULL) {
        sent *s = &f->acts[f->nacts++];
        s->seq = seq;
        s->player = f->player;
        snprintf(s->type, sizeof s->type, "%s", type);
        snprintf(s->payload, sizeof s->payload, "%s", text);
    } else if (rc == PC_ERR_ACTION) {
        f->refused++; /* acted on a replica behind the server */
    } else {
        snprintf(f->failure, sizeof f->failure, "%s: %s %s: %s", P[f->player],
                 type, text != NULL ? text : "?", pc_strerror(rc));
        ok = false;
    }
    cJSON_free(text);
    return ok;
}

/* A client's thread: play (players) or follow (the spectator) until the
 * replica is in GAME_OVER. */
static void *follower_main(void *arg)
{
    follower *f = arg;
    uint64_t acted_at = UINT64_MAX;
    int64_t end = mono_ms() + WAIT_MS;
    while (strcmp(phase_of(f->c), "GAME_OVER") != 0) {
        if (mono_ms() >= end) {
            snprintf(f->failure, sizeof f->failure, "no GAME_OVER at seq %llu",
                     (unsigned long long)pc_client_seq(f->c));
            break;
        }
        if (f->player >= 0 && !bot_step(f, &acted_at)) {
            break;
        }
        if (pc_client_poll(f->c, 20) != PC_OK) {
            snprintf(f->failure, sizeof f->failure, "pc_client_poll failed");
            break;
        }
    }
    return NULL;
}

/* ---- Playing the game (group setup) ---------------------------------- */

static void play_game(record *r)
{
    pc_server *srv = server_up(r);
    pthread_t raw_th, th[PILES_PLAYERS + 1];
    bool raw_running = false;
    int started = 0;
    if (srv == NULL) {
        return;
    }
    raw_running = raw_open(&r->r, pc_server_pub_url(srv), &raw_th);
    /* The spectator first, so that it sees seq 1; then the players, one
     * after another, so that they sit in the order of P (seqs 1 to 4). */
    for (int k = 0; raw_running && k <= PILES_PLAYERS; k++) {
        follower *f = &r->f[(k + PILES_PLAYERS) % (PILES_PLAYERS + 1)];
        if (follower_open(f, srv) != PC_OK) {
            fail_game("%s could not join",
                      f->player >= 0 ? P[f->player] : "the spectator");
            break;
        }
    }
    for (int i = 0; i <= PILES_PLAYERS && r->error[0] == '\0'; i++) {
        if (pthread_create(&th[i], NULL, follower_main, &r->f[i]) != 0) {
            break;
        }
        started++;
    }
    for (int i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        if (r->f[i].failure[0] != '\0') {
            fail_game("%s", r->f[i].failure);
        }
    }
    if (pc_server_call(srv, read_final, r) != PC_OK) {
        fail_game("cannot read the server's state");
    }
    if (raw_running) {
        atomic_store(&r->r.target, r->final_seq);
        pthread_join(raw_th, NULL);
    }
    for (int i = 0; i <= PILES_PLAYERS; i++) {
        if (r->f[i].c != NULL) {
            pc_canon_print(pc_client_state(r->f[i].c), &r->f[i].canon, NULL);
            pc_client_stats_get(r->f[i].c, &r->f[i].st);
        }
    }
    /* The server goes first: nng 1.5.2 can hang closing a socket that is
     * receiving (docs/reference/client.md, "Known issue"). */
    pc_server_free(srv);
    for (int i = 0; i <= PILES_PLAYERS; i++) {
        pc_client_close(r->f[i].c);
        r->f[i].c = NULL;
    }
    nng_close(r->r.sock);
}

static int setup(void **state)
{
    rec = calloc(1, sizeof *rec);
    if (rec == NULL) {
        return -1;
    }
    piles_config_init(&rec->cfg);
    rec->cfg.declare_ms = rec->cfg.play_ms = 60000; /* the bots act first */
    rec->cfg.deal_ms = rec->cfg.results_ms = rec->cfg.scoring_ms = 1;
    if (under_valgrind()) {
        rec->cfg.max_rounds = 2;
    }
    for (int i = 0; i <= PILES_PLAYERS; i++) {
        rec->f[i].player = i < PILES_PLAYERS ? i : -1;
        rec->f[i].acts =
            i < PILES_PLAYERS ? calloc(ACTION_MAX, sizeof(sent)) : NULL;
    }
    play_game(rec);
    *state = rec;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i <= PILES_PLAYERS; i++) {
        free(rec->f[i].acts);
        pc_free(rec->f[i].canon);
        pc_free(rec->server_view[i]);
    }
    pc_free(rec->server_full);
    free(rec->r.bytes);
    free(rec);
    rec = NULL;
    return 0;
}

/* ---- Tests ------------------------------------------------------------ */

static void test_four_bots_play_a_whole_game_over_tcp(void **state)
{
    record *r = *state;
    if (r->error[0] != '\0') {
        fail_msg("the game did not run to its end: %s", r->error);
    }
    assert_true(r->final_seq > 4 && r->final_seq < SEQ_MAX);
    size_t acts = 0;
    for (int i = 0; i < PILES_PLAYERS; i++) {
        acts += r->f[i].nacts;
        assert_true(r->f[i].nacts < ACTION_MAX);
    }
    assert_true(acts > 0);
    print_message("piles over tcp: %llu changes, %zu actions, %zu refused "
                  "as stale\n",
                  (unsigned long long)r->final_seq, acts,
                  r->f[0].refused + r->f[1].refused + r->f[2].refused +
                      r->f[3].refused);
}

static void test_every_client_ends_with_the_servers_state_in_its_view(void **s)
{
    record *r = *s;
    for (int i = 0; i <= PILES_PLAYERS; i++) {
        const follower *f = &r->f[i];
        assert_non_null(f->canon);
        assert_non_null(r->server_view[i]);
        assert_string_equal(f->canon, r->server_view[i]);
        assert_int_equal(f->st.checksum_mismatches, 0);
        assert_int_equal(f->st.unverified, 0);
    }
    /* The views differ where they should: a player sees its own hand. */
    assert_true(r->f[0].st.private_fetches > 0);
    assert_int_equal(r->f[PILES_PLAYERS].st.private_fetches, 0);
}

static void test_each_watcher_applied_every_seq_once_and_in_order(void **s)
{
    record *r = *s;
    for (int i = 0; i <= PILES_PLAYERS; i++) {
        const follower *f = &r->f[i];
        /* The spectator joined at seq 0 and so applied 1..N; a player
         * applied everything after the snapshot it joined with. */
        assert_true(f->s.first < r->final_seq);
        assert_int_equal(f->s.n, r->final_seq - f->s.first);
        for (size_t k = 0; k < f->s.n; k++) {
            assert_int_equal(f->s.seqs[k], f->s.first + 1 + k);
        }
        assert_int_equal(f->s.snapshots, 0);
        assert_int_equal(f->st.changes_applied, f->s.n);
    }
    assert_int_equal(r->f[PILES_PLAYERS].s.first, 0);
    print_message("spectator: %zu changes applied, %zu of them repaired "
                  "after %llu gaps\n",
                  r->f[PILES_PLAYERS].s.n, r->f[PILES_PLAYERS].s.repaired,
                  (unsigned long long)r->f[PILES_PLAYERS].st.gaps_detected);
}

static void test_the_raw_stream_left_no_gap_unannounced(void **s)
{
    record *r = *s;
    const raw *w = &r->r;
    assert_true(w->frames > 0);
    assert_int_equal(w->bad, 0);
    assert_false(w->disorder);
    assert_int_equal(w->undetected, 0);
    assert_true(w->last_change <= r->final_seq);
    assert_int_equal(w->announced, r->final_seq);
    print_message("raw subscriber: %zu messages (%zu frames, %zu heartbeats, "
                  "%zu bytes), %zu gaps\n",
                  w->messages, w->frames, w->heartbeats, w->len, w->gaps);
}

/* Whether needle occurs in the len bytes at hay (which need not end in
 * a NUL). */
static bool contains(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; n <= len && i <= len - n; i++) {
        if (memcmp(hay + i, needle, n) == 0) {
            return true;
        }
    }
    return false;
}

static void test_no_hand_ever_appeared_on_the_public_stream(void **s)
{
    record *r = *s;
    const raw *w = &r->r;
    size_t played = 0;
    /* Hands did go somewhere: every piece was dealt, in private patches. */
    assert_true(r->private_patches > 0);
    for (int id = 0; id < PILES_DECK; id++) {
        char piece[PILES_ID_SIZE], plain[16], escaped[16], quoted[16];
        assert_true(r->dealt[id]);
        piles_piece_id(id, piece);
        /* Hand form is an object key, "R7a": (docs/games/piles.md); the
         * escaped form would be that key inside a JSON string. */
        snprintf(plain, sizeof plain, "\"%s\":", piece);
        snprintf(escaped, sizeof escaped, "\\\"%s\\\":", piece);
        snprintf(quoted, sizeof quoted, "\"%s\"", piece);
        assert_false(contains(w->bytes, w->len, plain));
        assert_false(contains(w->bytes, w->len, escaped));
        assert_false(contains(r->f[PILES_PLAYERS].canon,
                              strlen(r->f[PILES_PLAYERS].canon), plain));
        played += contains(w->bytes, w->len, quoted);
    }
    /* ... and the scan looked at real traffic: played pieces are public. */
    assert_true(played > 0);
}

/* The replayed room's checksum after every seq. */
static void replay_sink(pc_room *room, const pc_change *c, void *arg)
{
    uint64_t *sums = arg;
    (void)room;
    if (c->seq <= SEQ_MAX) {
        sums[c->seq] = c->checksum;
    }
}

static int by_seq(const void *a, const void *b)
{
    const sent *x = a, *y = b;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static void replay_act(pc_room *room, const sent *a)
{
    cJSON *payload = a->payload[0] != '\0' ? cJSON_Parse(a->payload) : NULL;
    pc_action act = {
        .player = P[a->player], .type = a->type, .payload = payload};
    pc_error err = {0};
    pc_err rc = pc_room_action(room, &act, NULL, &err);
    cJSON_Delete(payload);
    if (rc != PC_OK) {
        fail_msg("replay: %s %s %s refused: %s", P[a->player], a->type,
                 a->payload, err.code);
    }
    assert_int_equal(pc_room_seq(room), a->seq);
}

/* Fire the phase timer until the room has committed seq. */
static void replay_timers_until(pc_room *room, uint64_t seq)
{
    for (int guard = 0; pc_room_seq(room) < seq; guard++) {
        assert_true(guard < 1000);
        assert_int_equal(pc_room_fire_timeout(room), PC_OK);
    }
    assert_int_equal(pc_room_seq(room), seq);
}

static void test_a_replay_of_seed_and_actions_ends_in_the_same_state(void **s)
{
    record *r = *s;
    /* The joins (seqs 1 to 4, in the order of P), then every accepted
     * action at the seq it committed; the timers made every other seq,
     * so firing the phase timer in between replays them too. */
    size_t n = 0;
    for (int i = 0; i < PILES_PLAYERS; i++) {
        n += r->f[i].nacts;
    }
    sent *all = calloc(n + PILES_PLAYERS, sizeof *all);
    uint64_t *sums = calloc(SEQ_MAX + 1, sizeof *sums);
    assert_non_null(all);
    assert_non_null(sums);
    for (int i = 0; i < PILES_PLAYERS; i++) {
        all[i] = (sent){.seq = (uint64_t)i + 1, .player = i, .type = "join"};
    }
    size_t k = PILES_PLAYERS;
    for (int i = 0; i < PILES_PLAYERS; i++) {
        memcpy(all + k, r->f[i].acts, r->f[i].nacts * sizeof *all);
        k += r->f[i].nacts;
    }
    qsort(all, k, sizeof *all, by_seq);

    pc_room_options opts;
    pc_room_options_init(&opts);
    opts.seed = SEED;
    opts.seed_set = true;
    opts.arg = &r->cfg;
    opts.history_capacity = 0;
    pc_room *room = NULL;
    assert_int_equal(pc_room_new(piles_game(), &opts, &room), PC_OK);
    assert_int_equal(pc_room_add_sink(room, replay_sink, sums), PC_OK);
    assert_int_equal(pc_room_start(room), PC_OK);
    for (size_t i = 0; i < k; i++) {
        replay_timers_until(room, all[i].seq - 1);
        replay_act(room, &all[i]);
    }
    replay_timers_until(room, r->final_seq);
    assert_string_equal(pc_room_phase(room), "GAME_OVER");
    for (uint64_t seq = 1; seq <= r->final_seq; seq++) {
        assert_int_equal(sums[seq], r->sums[seq]);
    }
    char *canon = NULL;
    assert_int_equal(pc_canon_print(pc_room_state(room), &canon, NULL), PC_OK);
    assert_string_equal(canon, r->server_full);
    pc_free(canon);
    pc_room_free(room);
    free(sums);
    free(all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_four_bots_play_a_whole_game_over_tcp),
        cmocka_unit_test(
            test_every_client_ends_with_the_servers_state_in_its_view),
        cmocka_unit_test(test_each_watcher_applied_every_seq_once_and_in_order),
        cmocka_unit_test(test_the_raw_stream_left_no_gap_unannounced),
        cmocka_unit_test(test_no_hand_ever_appeared_on_the_public_stream),
        cmocka_unit_test(
            test_a_replay_of_seed_and_actions_ends_in_the_same_state),
    };
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    pc_transport_fini();
    return failed;
}
