/*
 * test_server_broadcast.c - the server's PUB side over real nng sockets
 * (tcp on 127.0.0.1 with ephemeral ports, inproc, ipc in a fresh temporary
 * directory): every change arrives in order with a checksum a replica can
 * verify, room "a" never sees room "ab", heartbeats carry the latest seq
 * and never overtake a change, a phase timeout fires on the loop and is
 * broadcast, and private data never reaches PUB.
 */
#include "test_server_support.h"

#include <unistd.h>

#include "phasecast/alloc.h"
#include "phasecast/room.h"
#include "phasecast/view.h"
#include "tictactoe/tictactoe.h"

/* ---- a game whose middle phase times out after 50 ms ---- */

/* IDLE: "go" arms and moves to COUNTDOWN (two changes, one callback). */
static pc_err idle_action(pc_room *room, const pc_action *act, cJSON **result,
                          pc_error *err, void *arg)
{
    (void)result;
    (void)arg;
    if (strcmp(act->type, "go") != 0) {
        return pc_error_set(err, PC_ERR_ACTION, "unknown_action", "only go");
    }
    pc_err rc = pc_update_phase_text(room, "{\"armed\":true}", "armed");
    return rc != PC_OK ? rc
                       : pc_transition(room, "COUNTDOWN", NULL, "countdown");
}

static void countdown_timeout(pc_room *room, void *arg)
{
    cJSON *patch = cJSON_Parse("{\"fired\":true}");
    (void)arg;
    (void)pc_transition(room, "DONE", patch, "time is up");
    cJSON_Delete(patch);
}

static const pc_phase timed_phases[] = {
    {.name = "IDLE", .action = idle_action},
    {.name = "COUNTDOWN", .timeout = countdown_timeout, .timeout_ms = 50},
    {.name = "DONE"},
};

static const pc_game timed_game = {
    .name = "timed", .phases = timed_phases, .nphases = 3};

/* ---- a game with private hands ---- */

static pc_err draw_action(pc_room *room, const pc_action *act, cJSON **result,
                          pc_error *err, void *arg)
{
    (void)arg;
    if (strcmp(act->type, "draw") != 0) {
        return pc_error_set(err, PC_ERR_ACTION, "unknown_action", "only draw");
    }
    const cJSON *draws =
        cJSON_GetObjectItemCaseSensitive(pc_room_data(room), "draws");
    int card = 100 + (int)pc_room_random_below(room, 900);
    cJSON *patch = cJSON_CreateObject();
    cJSON *hands = cJSON_AddObjectToObject(patch, "hands");
    cJSON_AddNumberToObject(hands, act->player, card);
    cJSON_AddNumberToObject(patch, "draws",
                            cJSON_IsNumber(draws) ? draws->valuedouble + 1 : 1);
    pc_err rc = pc_update_phase_data(room, patch, "a card is drawn");
    cJSON_Delete(patch);
    if (rc == PC_OK) {
        *result = cJSON_CreateObject();
        cJSON_AddNumberToObject(*result, "card", card);
    }
    return rc;
}

static const char *const secret_paths[] = {"/hands/{player}", NULL};
static const pc_phase secret_phases[] = {
    {.name = "PLAY", .action = draw_action}};
static const pc_game secret_game = {.name = "secret",
                                    .phases = secret_phases,
                                    .nphases = 1,
                                    .private_paths = secret_paths};

/* ---- fixture ---- */

typedef struct fixture {
    pc_server *srv;
    char dir[64]; /* ipc directory, "" when none */
} fixture;

static fixture fx;

/* A started server on pub/rep with the given rooms (NULL-terminated ids,
 * games parallel), heartbeats every 50 ms. */
static void serve(const char *pub, const char *rep, const char *const *ids,
                  const pc_game *const *games)
{
    pc_server_options o;
    pc_server_options_init(&o);
    o.pub_url = pub;
    o.rep_url = rep;
    o.heartbeat_ms = 50;
    pc_error e = {0};
    if (pc_server_new(&o, &fx.srv, &e) != PC_OK) {
        fail_msg("server: %s", e.message);
    }
    for (size_t i = 0; ids[i] != NULL; i++) {
        pc_server_room_options ro;
        pc_server_room_options_init(&ro);
        ro.room.id = ids[i];
        if (games[i] != tictactoe_game()) {
            ro.join_action = NULL;
        }
        assert_int_equal(pc_server_add_room(fx.srv, games[i], &ro, NULL),
                         PC_OK);
    }
    assert_int_equal(pc_server_start(fx.srv), PC_OK);
}

static int setup(void **state)
{
    memset(&fx, 0, sizeof fx);
    *state = &fx;
    return 0;
}

/* SUB sockets a test is done with. They are closed after the server is
 * freed: nng 1.5.2's PUB leaks the message it is sending when a subscriber
 * disconnects at that moment (nng #1713, docs/reference/server.md). */
static nng_socket done_subs[4];
static size_t ndone_subs;

static void sub_done(nng_socket s)
{
    assert_true(ndone_subs < sizeof done_subs / sizeof done_subs[0]);
    done_subs[ndone_subs++] = s;
}

static int teardown(void **state)
{
    (void)state;
    pc_server_free(fx.srv);
    for (size_t i = 0; i < ndone_subs; i++) {
        nng_close(done_subs[i]);
    }
    ndone_subs = 0;
    if (fx.dir[0] != '\0') {
        char path[128];
        snprintf(path, sizeof path, "%s/pub", fx.dir);
        unlink(path);
        snprintf(path, sizeof path, "%s/rep", fx.dir);
        unlink(path);
        rmdir(fx.dir);
    }
    return 0;
}

/* Join name as a player of room; returns its token (caller frees). */
static char *join(nng_socket req, const char *room, const char *name)
{
    cJSON *r = request(req,
                       "{\"op\":\"join\",\"room\":\"%s\",\"role\":\"player\","
                       "\"name\":\"%s\"}",
                       room, name);
    const char *tok = str(ok_result(r), "token");
    assert_int_equal(strlen(tok), 32);
    char *copy = strdup(tok);
    cJSON_Delete(r);
    return copy;
}

/* Send an action; returns the seq in the reply. */
static uint64_t act(nng_socket req, const char *room, const char *token,
                    const char *id, const char *type, const char *payload)
{
    cJSON *r = request(req,
                       "{\"op\":\"action\",\"room\":\"%s\",\"token\":\"%s\","
                       "\"action_id\":\"%s\",\"type\":\"%s\",\"payload\":%s}",
                       room, token, id, type, payload);
    uint64_t seq = (uint64_t)num(ok_result(r), "seq");
    cJSON_Delete(r);
    return seq;
}

/* Read frames into the replica until it reaches seq; heartbeats on the
 * way must never announce a seq the replica has not received. */
static void follow(nng_socket sub, replica *r, const char *room, uint64_t seq)
{
    int64_t end = mono_ms() + WAIT_MS;
    while (r->seq < seq) {
        assert_true(mono_ms() < end);
        frame f = recv_frame(sub);
        assert_string_equal(f.room, room);
        const char *type = str(f.env, "type");
        if (strcmp(type, "heartbeat") == 0) {
            assert_true((uint64_t)num(f.env, "seq") <= r->seq);
        } else {
            assert_string_equal(type, "changes");
            const cJSON *list =
                cJSON_GetObjectItemCaseSensitive(f.env, "changes");
            assert_true(cJSON_GetArraySize(list) >= 1);
            const cJSON *c;
            cJSON_ArrayForEach(c, list)
            {
                replica_apply(r, c);
            }
        }
        cJSON_Delete(f.env);
    }
}

static void test_every_change_arrives_in_order_with_its_checksum(void **state)
{
    (void)state;
    const char *ids[] = {"r1", NULL};
    const pc_game *games[] = {tictactoe_game()};
    serve("tcp://127.0.0.1:0", "tcp://127.0.0.1:0", ids, games);
    const char *pub = pc_server_pub_url(fx.srv);
    assert_true(strncmp(pub, "tcp://127.0.0.1:", 16) == 0);
    assert_string_not_equal(pub + 16, "0");
    assert_string_not_equal(pc_server_rep_url(fx.srv) + 16, "0");

    nng_socket sub = sub_open(pub, "r1 ");
    wait_heartbeat(sub, "r1");
    nng_socket req = req_open(pc_server_rep_url(fx.srv));
    cJSON *snap = request(req, "{\"op\":\"snapshot\",\"room\":\"r1\"}");
    replica r = replica_from(ok_result(snap));
    cJSON_Delete(snap);
    assert_int_equal(r.seq, 0);

    char *x = join(req, "r1", "alice");
    char *o = join(req, "r1", "bob");
    const int cells[] = {0, 3, 1, 4, 2}; /* X takes the top row */
    for (int i = 0; i < 5; i++) {
        char id[16];
        char payload[32];
        snprintf(id, sizeof id, "m%d", i);
        snprintf(payload, sizeof payload, "{\"cell\":%d}", cells[i]);
        assert_int_equal(act(req, "r1", i % 2 ? o : x, id, "move", payload),
                         (uint64_t)(3 + i));
    }
    follow(sub, &r, "r1", 7);
    assert_string_equal(str(r.doc, "phase"), "FINISHED");
    /* The counters saw all seven changes leave in at most seven frames. */
    pc_server_stats st;
    assert_int_equal(pc_server_stats_get(fx.srv, &st), PC_OK);
    assert_int_equal(st.changes, 7);
    assert_int_equal(st.changes_lost, 0);
    assert_true(st.frames >= 1 && st.frames <= 7);
    assert_true(st.frame_bytes > st.frames * 60);
    assert_true(st.heartbeats >= 1);
    assert_true(st.publish_ns > 0);
    assert_true(st.send_ns > 0 && st.send_ns <= st.publish_ns);
    assert_int_equal(pc_server_stats_get(fx.srv, NULL), PC_ERR_INVALID);
    assert_int_equal(pc_server_stats_get(NULL, &st), PC_ERR_INVALID);
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(r.doc, "data"), "winner")
            ->valuestring,
        "X");
    snap = request(req, "{\"op\":\"snapshot\",\"room\":\"r1\"}");
    assert_true(pc_json_equal(
        r.doc, cJSON_GetObjectItemCaseSensitive(ok_result(snap), "state")));
    cJSON_Delete(snap);
    cJSON_Delete(r.doc);
    free(x);
    free(o);
    nng_close(req);
    sub_done(sub);
}

static void test_room_a_never_receives_room_ab(void **state)
{
    (void)state;
    const char *ids[] = {"ab", "a", NULL};
    const pc_game *games[] = {tictactoe_game(), tictactoe_game()};
    serve("inproc://bc-topic-pub", "inproc://bc-topic-rep", ids, games);
    nng_socket sub_a = sub_open(pc_server_pub_url(fx.srv), "a ");
    nng_socket sub_ab = sub_open(pc_server_pub_url(fx.srv), "ab ");
    wait_heartbeat(sub_a, "a");
    wait_heartbeat(sub_ab, "ab");
    nng_socket req = req_open(pc_server_rep_url(fx.srv));
    free(join(req, "ab", "p1"));
    free(join(req, "ab", "p2"));
    free(join(req, "a", "p3"));
    /* "ab" published its two changes... */
    replica rab = {cJSON_Parse("{\"phase\":\"WAITING\",\"data\":{}}"), 0};
    follow(sub_ab, &rab, "ab", 2);
    /* ...yet "a " sees only its own, and follow() asserts every frame's
     * topic and room are "a". */
    replica ra = {cJSON_Parse("{\"phase\":\"WAITING\",\"data\":{}}"), 0};
    follow(sub_a, &ra, "a", 1);
    cJSON_Delete(ra.doc);
    cJSON_Delete(rab.doc);
    nng_close(req);
    sub_done(sub_a);
    sub_done(sub_ab);
}

static void test_heartbeat_carries_the_latest_seq(void **state)
{
    (void)state;
    strcpy(fx.dir, "/tmp/pcsrvXXXXXX");
    assert_non_null(mkdtemp(fx.dir));
    char pub[128], rep[128];
    snprintf(pub, sizeof pub, "ipc://%s/pub", fx.dir);
    snprintf(rep, sizeof rep, "ipc://%s/rep", fx.dir);
    const char *ids[] = {"r1", NULL};
    const pc_game *games[] = {tictactoe_game()};
    serve(pub, rep, ids, games);
    assert_string_equal(pc_server_pub_url(fx.srv), pub);
    nng_socket sub = sub_open(pub, "r1 ");
    nng_socket req = req_open(rep);
    free(join(req, "r1", "alice"));
    free(join(req, "r1", "bob"));
    int64_t end = mono_ms() + WAIT_MS;
    bool seen = false;
    while (!seen && mono_ms() < end) {
        frame f = recv_frame(sub);
        if (strcmp(str(f.env, "type"), "heartbeat") == 0 &&
            num(f.env, "seq") == 2) {
            assert_string_equal(str(f.env, "phase"), "PLAYING");
            assert_int_equal(num(f.env, "interval_ms"), 50);
            assert_true(num(f.env, "time") > 1.5e12);
            seen = true;
        }
        cJSON_Delete(f.env);
    }
    assert_true(seen);
    nng_close(req);
    sub_done(sub);
}

static void test_phase_timeout_fires_on_the_loop_and_is_broadcast(void **state)
{
    (void)state;
    const char *ids[] = {"t", NULL};
    const pc_game *games[] = {&timed_game};
    serve("tcp://127.0.0.1:0", "inproc://bc-timed-rep", ids, games);
    nng_socket sub = sub_open(pc_server_pub_url(fx.srv), "t ");
    wait_heartbeat(sub, "t");
    nng_socket req = req_open(pc_server_rep_url(fx.srv));
    char *tok = join(req, "t", "solo"); /* no join action: seq stays 0 */
    assert_int_equal(act(req, "t", tok, "go-1", "go", "null"), 2);
    replica r = {cJSON_Parse("{\"phase\":\"IDLE\",\"data\":{}}"), 0};
    follow(sub, &r, "t", 3);
    assert_string_equal(str(r.doc, "phase"), "DONE");
    assert_true(cJSON_IsTrue(pc_json_pointer_get(r.doc, "/data/fired")));
    cJSON_Delete(r.doc);
    free(tok);
    nng_close(req);
    sub_done(sub);
}

static void test_private_data_never_reaches_pub(void **state)
{
    (void)state;
    const char *ids[] = {"s", NULL};
    const pc_game *games[] = {&secret_game};
    serve("tcp://127.0.0.1:0", "tcp://127.0.0.1:0", ids, games);
    nng_socket sub = sub_open(pc_server_pub_url(fx.srv), "s ");
    wait_heartbeat(sub, "s");
    nng_socket req = req_open(pc_server_rep_url(fx.srv));
    char *alice = join(req, "s", "alice");
    char *bob = join(req, "s", "bob");
    assert_int_equal(act(req, "s", alice, "d1", "draw", "null"), 1);
    assert_int_equal(act(req, "s", bob, "d2", "draw", "null"), 2);

    /* Public: no hand at all, "private" flagged, sums over the public view
     * (replica_apply checks them). */
    replica pub = {cJSON_Parse("{\"phase\":\"PLAY\",\"data\":{}}"), 0};
    int64_t end = mono_ms() + WAIT_MS;
    while (pub.seq < 2) {
        assert_true(mono_ms() < end);
        frame f = recv_frame(sub);
        const cJSON *c;
        cJSON_ArrayForEach(c,
                           cJSON_GetObjectItemCaseSensitive(f.env, "changes"))
        {
            assert_true(
                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "private")));
            assert_null(pc_json_pointer_get(c, "/patch/hands/alice"));
            assert_null(pc_json_pointer_get(c, "/patch/hands/bob"));
            replica_apply(&pub, c);
        }
        cJSON_Delete(f.env);
    }
    assert_int_equal(num(pc_json_pointer_get(pub.doc, "/data"), "draws"), 2);

    /* Alice's view, rebuilt from her changes, ends equal to her snapshot,
     * which holds her hand and not bob's. */
    replica mine = {cJSON_Parse("{\"phase\":\"PLAY\",\"data\":{}}"), 0};
    cJSON *ch = request(
        req, "{\"op\":\"changes\",\"room\":\"s\",\"since\":0,\"token\":\"%s\"}",
        alice);
    const cJSON *c;
    cJSON_ArrayForEach(
        c, cJSON_GetObjectItemCaseSensitive(ok_result(ch), "changes"))
    {
        replica_apply(&mine, c);
    }
    cJSON_Delete(ch);
    assert_int_equal(mine.seq, 2);
    cJSON *snap = request(
        req, "{\"op\":\"snapshot\",\"room\":\"s\",\"token\":\"%s\"}", alice);
    replica check = replica_from(ok_result(snap));
    assert_true(pc_json_equal(mine.doc, check.doc));
    assert_non_null(pc_json_pointer_get(check.doc, "/data/hands/alice"));
    assert_null(pc_json_pointer_get(check.doc, "/data/hands/bob"));
    cJSON_Delete(snap);
    /* The public snapshot has no hands either. */
    snap = request(req, "{\"op\":\"snapshot\",\"room\":\"s\"}");
    replica open = replica_from(ok_result(snap));
    assert_true(pc_json_equal(pub.doc, open.doc));
    assert_null(pc_json_pointer_get(open.doc, "/data/hands/alice"));
    cJSON_Delete(snap);
    cJSON_Delete(open.doc);
    cJSON_Delete(check.doc);
    cJSON_Delete(mine.doc);
    cJSON_Delete(pub.doc);
    free(alice);
    free(bob);
    nng_close(req);
    sub_done(sub);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_every_change_arrives_in_order_with_its_checksum, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_room_a_never_receives_room_ab,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_heartbeat_carries_the_latest_seq,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_phase_timeout_fires_on_the_loop_and_is_broadcast, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_private_data_never_reaches_pub,
                                        setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    pc_transport_fini();
    return failed;
}
