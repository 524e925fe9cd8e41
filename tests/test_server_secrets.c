/*
 * test_server_secrets.c - private data never leaves the request channel of
 * its owner. In a counter room (tests/support/countergame.h, where
 * /hands/{player} is private) the test deals each of three players a hand
 * holding a unique canary string, re-dealt with fresh canaries on most of
 * 1,000 changes; a raw nng SUB subscribed to everything, a spectator client
 * and token-less requests (snapshots, `changes`, refused requests) must
 * never see the word CANARY nor any player's token, while each player's
 * replica ends holding its own current canary and nobody else's. Nor may
 * they see an action's payload: the room keeps it as the cause of the
 * change the action made (pc_change.cause), and causes stay on the server.
 * Real nng sockets over TCP on 127.0.0.1; every wait polls against a
 * deadline.
 */
#define _POSIX_C_SOURCE 200809L

#include "test_server_support.h"

#include "phasecast/alloc.h"
#include "phasecast/client.h"
#include "phasecast/history.h"
#include "phasecast/room.h"
#include "phasecast/view.h"

#include "countergame.h"
#include "testenv.h"
#include "testnet.h"

#define ROOM   "cards"
#define CANARY "CANARY"
/* In the payload of an action of dave's, which the server keeps as the
 * cause of its change and must never send. */
#define PAYLOAD_SECRET "PAYLOAD-SECRET-5e1d0c"

static const char *const players[] = {"alice", "bob", "carol", "dave"};
#define NPLAYERS 4 /* three pc_clients and one raw REQ player (dave) */

/* The canary of player p after the deal of change k. */
static void canary_of(const char *p, uint64_t k, char *out, size_t size)
{
    snprintf(out, size, CANARY "-%s-%016llx", p,
             (unsigned long long)(k * 0x9e3779b97f4a7c15u + 0x7f3a));
}

/* ------------------------------------------------------------------ */
/* The deals, on the counter game (countergame.h): public n, private  */
/* /hands/{player}.                                                    */
/* ------------------------------------------------------------------ */

/* Change k: n = k, and (on 9 of every 10) every hand re-dealt. */
static void deal(pc_room *room, uint64_t k)
{
    char text[1024];
    int len = snprintf(text, sizeof text, "{\"n\":%llu", (unsigned long long)k);
    if (k % 10 != 0) {
        len += snprintf(text + len, sizeof text - (size_t)len, ",\"hands\":{");
        for (int i = 0; i < NPLAYERS; i++) {
            char c[64];
            canary_of(players[i], k, c, sizeof c);
            len += snprintf(text + len, sizeof text - (size_t)len,
                            "%s\"%s\":{\"card\":\"%s\"}", i ? "," : "",
                            players[i], c);
        }
        len += snprintf(text + len, sizeof text - (size_t)len, "}");
    }
    snprintf(text + len, sizeof text - (size_t)len, "}");
    assert_int_equal(pc_update_phase_text(room, text, "dealt"), PC_OK);
}

typedef struct loop_job {
    int count;
    const char *viewer; /* view to print (NULL: public) */
    uint64_t seq;       /* out */
    uint64_t last_deal; /* out: k of the latest re-deal */
    char *canon;        /* out when print, pc_free */
    bool print;
} loop_job;

static void job_on_loop(pc_server *srv, void *arg)
{
    loop_job *j = arg;
    pc_room *room = pc_server_find_room(srv, ROOM);
    for (int i = 0; i < j->count; i++) {
        deal(room, pc_room_seq(room) + 1);
    }
    j->seq = pc_room_seq(room);
    if (j->print) {
        cJSON *view = NULL;
        assert_int_equal(
            pc_view_state(countergame(), pc_room_state(room), j->viewer, &view),
            PC_OK);
        pc_canon_print(view, &j->canon, NULL);
        cJSON_Delete(view);
    }
}

static uint64_t run_job(pc_server *srv, int count)
{
    loop_job j = {count, NULL, 0, 0, NULL, false};
    assert_int_equal(pc_server_call(srv, job_on_loop, &j), PC_OK);
    return j.seq;
}

static char *server_view(pc_server *srv, const char *viewer)
{
    loop_job j = {0, viewer, 0, 0, NULL, true};
    assert_int_equal(pc_server_call(srv, job_on_loop, &j), PC_OK);
    assert_non_null(j.canon);
    return j.canon;
}

/* The cause of change seq, copied on the loop (asserted by the test). */
typedef struct cause_job {
    uint64_t seq;
    bool found;
    pc_cause_kind kind;
    uint64_t first;
    char player[16];
    char note[64]; /* the payload's "note" */
} cause_job;

static void cause_on_loop(pc_server *srv, void *arg)
{
    cause_job *j = arg;
    const pc_change *c = NULL;
    if (pc_history_get(pc_server_find_room(srv, ROOM), j->seq, &c) != PC_OK) {
        return;
    }
    j->found = true;
    j->kind = c->cause.kind;
    j->first = c->cause.first_seq;
    snprintf(j->player, sizeof j->player, "%s",
             c->cause.player != NULL ? c->cause.player : "");
    const cJSON *note =
        cJSON_GetObjectItemCaseSensitive(c->cause.payload, "note");
    snprintf(j->note, sizeof j->note, "%s",
             cJSON_IsString(note) ? note->valuestring : "");
}

static cause_job cause_at(pc_server *srv, uint64_t seq)
{
    cause_job j = {.seq = seq};
    assert_int_equal(pc_server_call(srv, cause_on_loop, &j), PC_OK);
    assert_true(j.found);
    return j;
}

/* ------------------------------------------------------------------ */
/* Byte recorders                                                      */
/* ------------------------------------------------------------------ */

/* Everything an observer received, concatenated. */
typedef struct tape {
    char *buf;
    size_t len, cap;
    size_t messages;
} tape;

static void tape_add(tape *t, const void *p, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t cap = (t->len + n + 1) * 2;
        char *nb = realloc(t->buf, cap);
        assert_non_null(nb);
        t->buf = nb;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, p, n);
    t->len += n;
    t->buf[t->len] = '\0';
    t->messages++;
}

/* Occurrences of needle in the tape (bytes may contain NULs). */
static size_t tape_count(const tape *t, const char *needle)
{
    size_t n = strlen(needle), hits = 0;
    for (size_t i = 0; t->len >= n && i <= t->len - n; i++) {
        if (memcmp(t->buf + i, needle, n) == 0) {
            hits++;
        }
    }
    return hits;
}

/* Move every queued SUB message onto the tape. */
static void drain_sub(nng_socket s, tape *t)
{
    for (;;) {
        char *buf = NULL;
        size_t n = 0;
        int rv = nng_recv(s, &buf, &n, NNG_FLAG_ALLOC | NNG_FLAG_NONBLOCK);
        if (rv == NNG_EAGAIN) {
            return;
        }
        assert_int_equal(rv, 0);
        tape_add(t, buf, n);
        nng_free(buf, n);
    }
}

/* A request whose whole raw reply goes onto the tape; returns it parsed. */
static cJSON *recorded(nng_socket req, tape *t, const char *body)
{
    size_t n = 0;
    char *raw = request_raw(req, body, strlen(body), &n);
    tape_add(t, raw, n);
    cJSON *reply = NULL;
    assert_int_equal(pc_json_parse(raw, n, NULL, &reply, NULL), PC_OK);
    free(raw);
    return reply;
}

/* The spectator client's callbacks print every change onto a tape. */
static void spectator_change(pc_client *c, const pc_client_change *ch,
                             void *arg)
{
    (void)c;
    tape *t = arg;
    char *text = cJSON_PrintUnformatted(ch->patch);
    assert_non_null(text);
    tape_add(t, text, strlen(text));
    tape_add(t, ch->reason, strlen(ch->reason));
    tape_add(t, ch->phase, strlen(ch->phase));
    cJSON_free(text);
}

static pc_client *client_open(pc_server *srv, const char *name, tape *t)
{
    pc_client_config cfg = {0};
    cfg.pub_url = pc_server_pub_url(srv);
    cfg.req_url = pc_server_rep_url(srv);
    cfg.room = ROOM;
    cfg.role = name != NULL ? PC_CLIENT_PLAYER : PC_CLIENT_SPECTATOR;
    cfg.name = name;
    cfg.on_change = name == NULL ? spectator_change : NULL;
    cfg.arg = t;
    cfg.request_timeout_ms = 2000;
    pc_client *c = NULL;
    pc_error err = {0};
    if (pc_client_open(&cfg, &c, &err) != PC_OK) {
        fail_msg("open %s: %s", name ? name : "spectator", err.message);
    }
    return c;
}

static void canon_onto(const cJSON *doc, tape *t)
{
    char *text = NULL;
    assert_int_equal(pc_canon_print(doc, &text, NULL), PC_OK);
    tape_add(t, text, strlen(text));
    pc_free(text);
}

/* ------------------------------------------------------------------ */
/* The test                                                            */
/* ------------------------------------------------------------------ */

#define NCLIENTS 4 /* alice, bob, carol, spectator */

static void test_canaries_never_reach_the_public_or_other_players(void **state)
{
    (void)state;
    pc_server *srv = testnet_serve(NULL, countergame(), ROOM, 1000);

    tape pub_tape = {0}, spec_tape = {0}, req_tape = {0};
    /* Raw SUB with the empty subscription: every byte PUB sends. */
    nng_socket sub = sub_open(pc_server_pub_url(srv), "");
    assert_int_equal(nng_socket_set_int(sub, NNG_OPT_RECVBUF, 8192), 0);
    wait_heartbeat(sub, ROOM); /* connected; nothing secret exists yet */

    /* Dave joins by hand so the test knows a token; the others through
     * the client library. */
    nng_socket req = req_open(pc_server_rep_url(srv));
    cJSON *j = request(req, "{\"op\":\"join\",\"room\":\"" ROOM
                            "\",\"role\":\"player\",\"name\":\"dave\"}");
    char token[64];
    snprintf(token, sizeof token, "%s", str(ok_result(j), "token"));
    assert_int_equal(strlen(token), 32);
    cJSON_Delete(j);

    /* Dave counts, with a secret in the payload: the change goes out, the
     * payload stays with the room as the change's cause. */
    char body[512];
    j = request(req,
                "{\"op\":\"action\",\"room\":\"" ROOM "\",\"token\":\"%s\","
                "\"action_id\":\"inc-1\",\"type\":\"inc\","
                "\"payload\":{\"note\":\"" PAYLOAD_SECRET "\"}}",
                token);
    uint64_t inc_seq = (uint64_t)num(ok_result(j), "seq");
    cJSON_Delete(j);
    cause_job cj = cause_at(srv, inc_seq);
    assert_int_equal(cj.kind, PC_CAUSE_ACTION);
    assert_int_equal(cj.first, inc_seq);
    assert_string_equal(cj.player, "dave");
    assert_string_equal(cj.note, PAYLOAD_SECRET);
    /* The changes request serves that change, without its cause. */
    snprintf(body, sizeof body,
             "{\"op\":\"changes\",\"room\":\"" ROOM "\",\"since\":%llu}",
             (unsigned long long)(inc_seq - 1));
    j = recorded(req, &req_tape, body);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
                         ok_result(j), "changes")),
                     1);
    cJSON_Delete(j);

    pc_client *cs[NCLIENTS];
    for (int i = 0; i < 3; i++) {
        cs[i] = client_open(srv, players[i], NULL);
    }
    cs[3] = client_open(srv, NULL, &spec_tape);
    canon_onto(pc_client_state(cs[3]), &spec_tape);

    int total = testenv_scale(1000);
    uint64_t seq = 0;
    for (int done = 0; done < total; done += 10) {
        seq = run_job(srv, 10);
        drain_sub(sub, &pub_tape);
        for (int i = 0; i < NCLIENTS; i++) {
            assert_int_equal(pc_client_poll(cs[i], 0), PC_OK);
        }
    }
    /* seq: the players' joins, then the deals. */
    assert_true(seq >= (uint64_t)total);
    /* A deal is the host's own change (made through pc_server_call), one
     * stimulus each. */
    cj = cause_at(srv, seq);
    assert_int_equal(cj.kind, PC_CAUSE_HOST);
    assert_int_equal(cj.first, seq);
    assert_string_equal(cj.player, "");
    int64_t end = mono_ms() + WAIT_MS;
    for (bool all = false; !all;) {
        assert_true(mono_ms() < end);
        drain_sub(sub, &pub_tape);
        all = true;
        for (int i = 0; i < NCLIENTS; i++) {
            assert_int_equal(pc_client_poll(cs[i], 10), PC_OK);
            all = all && pc_client_seq(cs[i]) == seq;
        }
    }
    /* A heartbeat announcing the last seq proves the tape is complete:
     * every change is published before it. */
    char hb[64];
    snprintf(hb, sizeof hb, "\"type\":\"heartbeat\"");
    char hbseq[64];
    snprintf(hbseq, sizeof hbseq, "\"seq\":%llu,", (unsigned long long)seq);
    for (bool seen = false; !seen;) {
        assert_true(mono_ms() < end);
        char *buf = NULL;
        size_t n = 0;
        assert_int_equal(nng_recv(sub, &buf, &n, NNG_FLAG_ALLOC), 0);
        tape one = {0};
        tape_add(&one, buf, n);
        tape_add(&pub_tape, buf, n);
        nng_free(buf, n);
        seen = tape_count(&one, hb) == 1 && tape_count(&one, hbseq) == 1;
        free(one.buf);
    }

    /* Token-less requests: public snapshot and changes, and refusals. */
    cJSON *r =
        recorded(req, &req_tape, "{\"op\":\"snapshot\",\"room\":\"" ROOM "\"}");
    ok_result(r);
    cJSON_Delete(r);
    snprintf(body, sizeof body,
             "{\"op\":\"changes\",\"room\":\"" ROOM "\",\"since\":%llu}",
             (unsigned long long)(seq > 500 ? seq - 500 : 0));
    r = recorded(req, &req_tape, body);
    ok_result(r);
    cJSON_Delete(r);
    static const char *const bad[] = {
        "{\"op\":\"snapshot\",\"room\":\"" ROOM
        "\",\"token\":\"00000000000000000000000000000000\"}",
        "{\"op\":\"changes\",\"room\":\"" ROOM "\",\"since\":99999999}",
        "{\"op\":\"changes\",\"room\":\"" ROOM "\",\"since\":\"x\"}",
        "{\"op\":\"action\",\"room\":\"" ROOM
        "\",\"token\":\"ffffffffffffffffffffffffffffffff\","
        "\"action_id\":\"a1\",\"type\":\"peek\"}",
        "{\"op\":\"peek\",\"room\":\"" ROOM "\"}",
        "{\"op\":\"snapshot\",\"room\":\"nope\"}",
        "not json at all",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = recorded(req, &req_tape, bad[i]);
        assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "ok")));
        cJSON_Delete(r);
    }
    /* A game refusal for a real player must not echo the hand either. */
    snprintf(body, sizeof body,
             "{\"op\":\"action\",\"room\":\"" ROOM "\",\"token\":\"%s\","
             "\"action_id\":\"peek-1\",\"type\":\"peek\"}",
             token);
    r = recorded(req, &req_tape, body);
    assert_error(r, "unknown_action");
    cJSON_Delete(r);
    canon_onto(pc_client_state(cs[3]), &spec_tape);

    /* The public side saw a lot and no secret. */
    assert_true(pub_tape.messages >= 2);
    /* The public view keeps "hands" as an empty object, never a hand. */
    assert_int_equal(tape_count(&pub_tape, "\"hands\":{\""), 0);
    assert_int_equal(tape_count(&pub_tape, CANARY), 0);
    assert_int_equal(tape_count(&pub_tape, token), 0);
    assert_true(spec_tape.messages > 0);
    assert_int_equal(tape_count(&spec_tape, CANARY), 0);
    assert_int_equal(tape_count(&req_tape, CANARY), 0);
    assert_int_equal(tape_count(&req_tape, token), 0);
    /* Nor any action's payload: causes are not broadcast or served. */
    assert_int_equal(tape_count(&pub_tape, PAYLOAD_SECRET), 0);
    assert_int_equal(tape_count(&spec_tape, PAYLOAD_SECRET), 0);
    assert_int_equal(tape_count(&req_tape, PAYLOAD_SECRET), 0);

    /* Positive control: the canaries exist, and dave's token reaches his. */
    uint64_t last = seq % 10 != 0 ? seq : seq - 1;
    char mine[64];
    canary_of("dave", last, mine, sizeof mine);
    snprintf(body, sizeof body,
             "{\"op\":\"snapshot\",\"room\":\"" ROOM "\",\"token\":\"%s\"}",
             token);
    tape dave_tape = {0};
    r = recorded(req, &dave_tape, body);
    ok_result(r);
    cJSON_Delete(r);
    assert_int_equal(tape_count(&dave_tape, mine), 1);
    assert_int_equal(tape_count(&dave_tape, CANARY), 1);

    /* Each player holds its own current canary and no one else's. */
    for (int i = 0; i < 3; i++) {
        char *got = NULL;
        assert_int_equal(pc_canon_print(pc_client_state(cs[i]), &got, NULL),
                         PC_OK);
        char *want = server_view(srv, players[i]);
        assert_string_equal(got, want);
        pc_free(want);
        canary_of(players[i], last, mine, sizeof mine);
        assert_non_null(strstr(got, mine));
        for (int k = 0; k < NPLAYERS; k++) {
            char prefix[32];
            snprintf(prefix, sizeof prefix, CANARY "-%s-", players[k]);
            assert_true((strstr(got, prefix) != NULL) == (k == i));
        }
        pc_client_stats st;
        pc_client_stats_get(cs[i], &st);
        assert_int_equal(st.checksum_mismatches, 0);
        assert_true(st.private_fetches > 0);
        pc_free(got);
    }
    char *pub_view = server_view(srv, NULL);
    char *spec = NULL;
    assert_int_equal(pc_canon_print(pc_client_state(cs[3]), &spec, NULL),
                     PC_OK);
    assert_string_equal(spec, pub_view);
    pc_free(spec);
    pc_free(pub_view);
    print_message("PUB %zu messages, %zu bytes; spectator %zu changes\n",
                  pub_tape.messages, pub_tape.len, spec_tape.messages / 3);

    /* Server first (nng 1.5.2 TCP close race, docs/reference/client.md). */
    pc_server_free(srv);
    for (int i = 0; i < NCLIENTS; i++) {
        pc_client_close(cs[i]);
    }
    nng_close(sub);
    nng_close(req);
    free(pub_tape.buf);
    free(spec_tape.buf);
    free(req_tape.buf);
    free(dave_tape.buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canaries_never_reach_the_public_or_other_players),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    pc_transport_fini();
    return failed;
}
