/*
 * test_server_requests.c - the server's REP side over real nng sockets
 * (tcp on 127.0.0.1, ephemeral ports): every operation's happy path, the
 * game's typed refusals, idempotent actions and joins, and hostile bodies
 * that each get a structured error while the room's seq and state stay as
 * they were and the server keeps answering.
 */
#include "test_server_support.h"

#include "phasecast/room.h"
#include "phasecast/version.h"
#include "tictactoe/tictactoe.h"

/* The request size answered normally in these tests; twice this is where
 * nng drops the connection instead. */
#define MAX_MESSAGE (64 * 1024)

typedef struct fixture {
    pc_server *srv;
    nng_socket req;
} fixture;

static fixture fx;

static int setup(void **state)
{
    memset(&fx, 0, sizeof fx);
    pc_server_options o;
    pc_server_options_init(&o);
    o.pub_url = "tcp://127.0.0.1:0";
    o.rep_url = "tcp://127.0.0.1:0";
    o.max_message_bytes = MAX_MESSAGE;
    if (pc_server_new(&o, &fx.srv, NULL) != PC_OK) {
        return -1;
    }
    pc_server_room_options ro;
    pc_server_room_options_init(&ro);
    ro.room.id = "r1";
    ro.room.history_capacity = 4;
    if (pc_server_add_room(fx.srv, tictactoe_game(), &ro, NULL) != PC_OK ||
        pc_server_start(fx.srv) != PC_OK) {
        return -1;
    }
    fx.req = req_open(pc_server_rep_url(fx.srv));
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nng_close(fx.req);
    pc_server_free(fx.srv);
    return 0;
}

/* What the room looks like, read on the loop thread. */
typedef struct probe {
    uint64_t seq;
    uint64_t sum;
} probe;

static void read_room(pc_server *srv, void *arg)
{
    probe *p = arg;
    pc_room *room = pc_server_find_room(srv, "r1");
    assert_non_null(room);
    p->seq = pc_room_seq(room);
    p->sum = pc_room_checksum(room);
}

static probe room_now(void)
{
    probe p = {0, 0};
    assert_int_equal(pc_server_call(fx.srv, read_room, &p), PC_OK);
    return p;
}

/* Join name as a player of r1; returns its token (caller frees). */
static char *join(const char *name)
{
    cJSON *r = request(fx.req,
                       "{\"op\":\"join\",\"room\":\"r1\",\"role\":\"player\","
                       "\"name\":\"%s\"}",
                       name);
    char *tok = strdup(str(ok_result(r), "token"));
    cJSON_Delete(r);
    return tok;
}

static cJSON *move(const char *token, const char *id, int cell)
{
    return request(fx.req,
                   "{\"op\":\"action\",\"room\":\"r1\",\"token\":\"%s\","
                   "\"action_id\":\"%s\",\"type\":\"move\","
                   "\"payload\":{\"cell\":%d}}",
                   token, id, cell);
}

static void test_ping_and_info_answer(void **state)
{
    (void)state;
    cJSON *r = request(fx.req, "{\"op\":\"ping\"}");
    assert_true(num(ok_result(r), "time") > 1.5e12);
    cJSON_Delete(r);
    r = request(fx.req, "{\"op\":\"info\"}");
    const cJSON *info = ok_result(r);
    assert_string_equal(str(info, "server"), "phasecast");
    assert_string_equal(str(info, "version"), PC_VERSION_STRING);
    assert_int_equal(num(info, "protocol"), 1);
    const cJSON *room =
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(info, "rooms"), 0);
    assert_string_equal(str(room, "room"), "r1");
    assert_string_equal(str(room, "game"), "tictactoe");
    assert_string_equal(str(room, "phase"), "WAITING");
    assert_int_equal(num(room, "seq"), 0);
    assert_int_equal(num(cJSON_GetObjectItemCaseSensitive(info, "limits"),
                         "max_message_bytes"),
                     MAX_MESSAGE);
    cJSON_Delete(r);
}

static void
test_join_issues_tokens_and_refuses_taken_names_and_full_rooms(void **state)
{
    (void)state;
    cJSON *r = request(fx.req, "{\"op\":\"join\",\"room\":\"r1\",\"role\":"
                               "\"player\",\"name\":\"alice\"}");
    const cJSON *res = ok_result(r);
    assert_string_equal(str(res, "room"), "r1");
    assert_string_equal(str(res, "role"), "player");
    assert_string_equal(str(res, "player"), "alice");
    const char *tok = str(res, "token");
    assert_int_equal(strlen(tok), 32);
    assert_int_equal(strspn(tok, "0123456789abcdef"), 32);
    assert_int_equal(num(res, "seq"), 1);
    cJSON_Delete(r);

    r = request(fx.req,
                "{\"op\":\"join\",\"room\":\"r1\",\"role\":\"spectator\"}");
    assert_null(cJSON_GetObjectItemCaseSensitive(ok_result(r), "token"));
    assert_int_equal(num(ok_result(r), "seq"), 1);
    cJSON_Delete(r);

    r = request(fx.req, "{\"op\":\"join\",\"room\":\"r1\",\"role\":"
                        "\"player\",\"name\":\"alice\"}");
    assert_error(r, "name_taken");
    cJSON_Delete(r);
    free(join("bob"));
    for (int i = 0; i < 2; i++) { /* refused, so carol's name stays free */
        r = request(fx.req, "{\"op\":\"join\",\"room\":\"r1\",\"role\":"
                            "\"player\",\"name\":\"carol\"}");
        assert_error(r, "room_full");
        cJSON_Delete(r);
    }
    r = request(fx.req, "{\"op\":\"join\",\"room\":\"r1\",\"role\":"
                        "\"player\",\"name\":\"no spaces\"}");
    assert_error(r, "bad_request");
    cJSON_Delete(r);
    r = request(fx.req, "{\"op\":\"join\",\"room\":\"r1\",\"role\":\"king\"}");
    assert_error(r, "bad_request");
    cJSON_Delete(r);
    assert_int_equal(room_now().seq, 2);
}

#define NONCE_A "nonce-A_0123456789abcdef"
#define NONCE_B "nonce-B_0123456789abcdef"

/* A join of name as a player of r1 with this nonce member (raw JSON, or
 * NULL for none); returns the raw reply (caller frees), *len its length. */
static char *join_raw(const char *name, const char *nonce_json, size_t *len)
{
    char body[512];
    int n = snprintf(body, sizeof body,
                     "{\"op\":\"join\",\"room\":\"r1\",\"role\":\"player\","
                     "\"name\":\"%s\"%s%s}",
                     name, nonce_json ? ",\"nonce\":" : "",
                     nonce_json ? nonce_json : "");
    assert_true(n > 0 && (size_t)n < sizeof body);
    return request_raw(fx.req, body, (size_t)n, len);
}

/* join_raw, parsed (caller deletes). */
static cJSON *join_with(const char *name, const char *nonce_json)
{
    size_t len;
    char *text = join_raw(name, nonce_json, &len);
    cJSON *r = NULL;
    assert_int_equal(pc_json_parse(text, len, NULL, &r, NULL), PC_OK);
    free(text);
    return r;
}

static void
test_join_repeated_with_the_same_nonce_gets_the_first_reply(void **state)
{
    (void)state;
    size_t l1, l2;
    char *first = join_raw("alice", "\"" NONCE_A "\"", &l1);
    assert_int_equal(room_now().seq, 1); /* tictactoe seats X */
    char *again = join_raw("alice", "\"" NONCE_A "\"", &l2);
    /* The same reply byte for byte: same token, same seq. */
    assert_int_equal(l1, l2);
    assert_memory_equal(first, again, l1);
    cJSON *r = NULL;
    assert_int_equal(pc_json_parse(again, l2, NULL, &r, NULL), PC_OK);
    assert_int_equal(strlen(str(ok_result(r), "token")), 32);
    assert_int_equal(num(ok_result(r), "seq"), 1);
    /* The game saw one join: the seq did not move. */
    assert_int_equal(room_now().seq, 1);
    /* And the token works. */
    char *o = join("bob");
    cJSON *m = move(str(ok_result(r), "token"), "m1", 4);
    assert_int_equal(num(ok_result(m), "seq"), 3);
    cJSON_Delete(m);
    /* Still the first reply after the room moved on. */
    char *late = join_raw("alice", "\"" NONCE_A "\"", &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(first, late, l1);
    assert_int_equal(room_now().seq, 3);
    cJSON_Delete(r);
    free(first);
    free(again);
    free(late);
    free(o);
}

static void test_join_with_another_nonce_or_none_is_name_taken(void **state)
{
    (void)state;
    size_t len;
    free(join_raw("alice", "\"" NONCE_A "\"", &len));
    const char *others[] = {"\"" NONCE_B "\"", NULL, "null"};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        char *text = join_raw("alice", others[i], &len);
        cJSON *r = NULL;
        assert_int_equal(pc_json_parse(text, len, NULL, &r, NULL), PC_OK);
        assert_error(r, "name_taken");
        assert_null(strstr(text, NONCE_A)); /* the nonce is a secret */
        cJSON_Delete(r);
        free(text);
    }
    /* A join without a nonce cannot be repeated, not even with one. */
    free(join("bob"));
    cJSON *r = join_with("bob", "\"" NONCE_B "\"");
    assert_error(r, "name_taken");
    cJSON_Delete(r);
    assert_int_equal(room_now().seq, 2);
}

static void test_a_malformed_nonce_is_refused_and_changes_nothing(void **state)
{
    (void)state;
    const char *bad[] = {
        "\"\"",
        "\"short_123456789\"",              /* 15 */
        "\"" NONCE_A NONCE_A NONCE_A "0\"", /* 73 */
        "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefX\"",
        "\"with space 0123456789\"",
        "\"with.dot.0123456789\"",
        "\"caf\xc3\xa9-0123456789abcdef\"",
        "\"nul\\u0001-0123456789abcdef\"",
        "7",
        "[\"" NONCE_A "\"]",
        "{\"n\":\"" NONCE_A "\"}",
        "true",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *r = join_with("alice", bad[i]);
        assert_error(r, "bad_request");
        cJSON_Delete(r);
        assert_int_equal(room_now().seq, 0);
    }
    cJSON *r = request(fx.req, "{\"op\":\"join\",\"room\":\"r1\",\"role\":"
                               "\"spectator\",\"nonce\":\"short\"}");
    assert_error(r, "bad_request");
    cJSON_Delete(r);
    /* Nothing was registered: the name is still free, and the shortest and
     * longest nonces are fine. */
    r = join_with("alice", "\"0123456789abcdef\"");
    assert_int_equal(num(ok_result(r), "seq"), 1);
    cJSON_Delete(r);
    r = join_with(
        "bob",
        "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789_-AZxy\"");
    assert_int_equal(num(ok_result(r), "seq"), 2);
    cJSON_Delete(r);
}

static void test_snapshot_gives_state_seq_and_checksum(void **state)
{
    (void)state;
    char *x = join("alice");
    cJSON *r = request(fx.req, "{\"op\":\"snapshot\",\"room\":\"r1\"}");
    replica pub = replica_from(ok_result(r)); /* checks sum */
    assert_int_equal(pub.seq, 1);
    assert_string_equal(str(ok_result(r), "room"), "r1");
    assert_string_equal(
        pc_json_pointer_get(pub.doc, "/data/players/X")->valuestring, "alice");
    cJSON_Delete(r);
    /* No private paths: a player's view is the public one. */
    r = request(fx.req,
                "{\"op\":\"snapshot\",\"room\":\"r1\",\"token\":\"%s\"}", x);
    replica mine = replica_from(ok_result(r));
    assert_true(pc_json_equal(pub.doc, mine.doc));
    cJSON_Delete(r);
    probe p = room_now();
    uint64_t sum;
    assert_int_equal(pc_canon_checksum(pub.doc, &sum, NULL), PC_OK);
    assert_true(sum == p.sum);
    r = request(fx.req, "{\"op\":\"snapshot\",\"room\":\"r1\",\"token\":"
                        "\"00000000000000000000000000000000\"}");
    assert_error(r, "bad_token");
    cJSON_Delete(r);
    cJSON_Delete(pub.doc);
    cJSON_Delete(mine.doc);
    free(x);
}

static void test_changes_since_returns_each_change_or_too_old(void **state)
{
    (void)state;
    char *x = join("alice");
    char *o = join("bob");
    cJSON *r = request(fx.req, "{\"op\":\"snapshot\",\"room\":\"r1\"}");
    replica rep = replica_from(ok_result(r));
    cJSON_Delete(r);
    const int cells[] = {4, 0, 8, 2};
    for (int i = 0; i < 4; i++) {
        char id[8];
        snprintf(id, sizeof id, "m%d", i);
        cJSON_Delete(move(i % 2 ? o : x, id, cells[i]));
    }
    assert_int_equal(room_now().seq, 6);

    r = request(fx.req,
                "{\"op\":\"changes\",\"room\":\"r1\",\"since\":2,\"limit\":3}");
    const cJSON *list =
        cJSON_GetObjectItemCaseSensitive(ok_result(r), "changes");
    assert_int_equal(cJSON_GetArraySize(list), 3);
    assert_int_equal(num(ok_result(r), "seq"), 6);
    cJSON_Delete(r);

    r = request(fx.req, "{\"op\":\"changes\",\"room\":\"r1\",\"since\":2}");
    const cJSON *c;
    cJSON_ArrayForEach(
        c, cJSON_GetObjectItemCaseSensitive(ok_result(r), "changes"))
    {
        replica_apply(&rep, c); /* contiguous, checksums verified */
    }
    assert_int_equal(rep.seq, 6);
    cJSON_Delete(r);
    r = request(fx.req, "{\"op\":\"snapshot\",\"room\":\"r1\"}");
    assert_true(pc_json_equal(
        rep.doc, cJSON_GetObjectItemCaseSensitive(ok_result(r), "state")));
    cJSON_Delete(r);

    r = request(fx.req, "{\"op\":\"changes\",\"room\":\"r1\",\"since\":6}");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
                         ok_result(r), "changes")),
                     0);
    cJSON_Delete(r);
    /* History keeps 4 changes (3..6): since 1 would need seq 2. */
    r = request(fx.req, "{\"op\":\"changes\",\"room\":\"r1\",\"since\":1}");
    assert_error(r, "too_old");
    cJSON_Delete(r);
    r = request(fx.req, "{\"op\":\"changes\",\"room\":\"r1\",\"since\":7}");
    assert_error(r, "bad_request");
    cJSON_Delete(r);
    cJSON_Delete(rep.doc);
    free(x);
    free(o);
}

static void test_action_replies_with_seq_or_the_games_error(void **state)
{
    (void)state;
    char *x = join("alice");
    char *o = join("bob");
    cJSON *r = move(x, "a1", 4);
    assert_int_equal(num(ok_result(r), "seq"), 3);
    assert_string_equal(str(ok_result(r), "room"), "r1");
    assert_true(
        cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(ok_result(r), "value")));
    cJSON_Delete(r);
    probe before = room_now();
    r = move(x, "a2", 0);
    assert_error(r, "not_your_turn");
    cJSON_Delete(r);
    r = move(o, "b1", 4);
    assert_error(r, "cell_taken");
    cJSON_Delete(r);
    r = move(o, "b2", 9);
    assert_error(r, "bad_cell");
    cJSON_Delete(r);
    probe after = room_now();
    assert_int_equal(after.seq, before.seq);
    assert_true(after.sum == before.sum);
    /* Finish the game: X takes the middle column. */
    cJSON_Delete(move(o, "b3", 0));
    cJSON_Delete(move(x, "a3", 1));
    cJSON_Delete(move(o, "b4", 2));
    r = move(x, "a4", 7);
    assert_int_equal(num(ok_result(r), "seq"), 7);
    cJSON_Delete(r);
    r = move(o, "b5", 8);
    assert_error(r, "no_actions_in_phase");
    cJSON_Delete(r);
    free(x);
    free(o);
}

static void
test_duplicate_action_id_is_applied_once_and_answered_identically(void **state)
{
    (void)state;
    char *x = join("alice");
    char *o = join("bob");
    char body[256];
    int n = snprintf(body, sizeof body,
                     "{\"op\":\"action\",\"room\":\"r1\",\"token\":\"%s\","
                     "\"action_id\":\"same\",\"type\":\"move\","
                     "\"payload\":{\"cell\":4}}",
                     x);
    size_t l1, l2;
    char *first = request_raw(fx.req, body, (size_t)n, &l1);
    char *again = request_raw(fx.req, body, (size_t)n, &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(first, again, l1);
    assert_non_null(strstr(first, "\"seq\":3"));
    assert_int_equal(room_now().seq, 3);
    free(first);
    free(again);
    /* A refused action is remembered too: same error, still nothing done. */
    n = snprintf(body, sizeof body,
                 "{\"op\":\"action\",\"room\":\"r1\",\"token\":\"%s\","
                 "\"action_id\":\"same\",\"type\":\"move\","
                 "\"payload\":{\"cell\":4}}",
                 o);
    first = request_raw(fx.req, body, (size_t)n, &l1);
    again = request_raw(fx.req, body, (size_t)n, &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(first, again, l1);
    assert_non_null(strstr(first, "cell_taken"));
    assert_int_equal(room_now().seq, 3);
    free(first);
    free(again);
    free(x);
    free(o);
}

/* A hostile body and the error code it must get. */
typedef struct bad {
    const char *body;
    size_t len; /* 0: strlen(body) */
    const char *code;
} bad;

static char *repeat(const char *head, char c, size_t n, const char *tail)
{
    size_t h = strlen(head), t = strlen(tail);
    char *s = malloc(h + n + t + 1);
    assert_non_null(s);
    memcpy(s, head, h);
    memset(s + h, c, n);
    memcpy(s + h + n, tail, t + 1);
    return s;
}

static void
test_bad_requests_get_structured_errors_and_change_nothing(void **state)
{
    (void)state;
    char *x = join("alice");
    free(join("bob"));
    probe before = room_now();
    char *deep = malloc(20001);
    assert_non_null(deep);
    memset(deep, '[', 10000);
    memset(deep + 10000, ']', 10000);
    deep[20000] = '\0';
    char *big =
        repeat("{\"op\":\"ping\",\"pad\":\"", 'x', MAX_MESSAGE + 100, "\"}");
    char *long_str = repeat("{\"op\":\"", 'o', 70000, "\"}");
    char *long_id = repeat("{\"op\":\"action\",\"room\":\"r1\",\"token\":"
                           "\"0\",\"type\":\"move\",\"action_id\":\"",
                           'i', 65, "\"}");
    char deep_payload[512];
    {
        char open[80], close[80];
        memset(open, '[', 40);
        open[40] = '\0';
        memset(close, ']', 40);
        close[40] = '\0';
        snprintf(deep_payload, sizeof deep_payload,
                 "{\"op\":\"action\",\"room\":\"r1\",\"token\":\"%s\","
                 "\"action_id\":\"d\",\"type\":\"move\",\"payload\":%s%s}",
                 x, open, close);
    }
    char wrong_id[256], no_type[256], str_cell[256];
    snprintf(wrong_id, sizeof wrong_id,
             "{\"op\":\"action\",\"room\":\"r1\",\"token\":\"%s\","
             "\"action_id\":7,\"type\":\"move\"}",
             x);
    snprintf(no_type, sizeof no_type,
             "{\"op\":\"action\",\"room\":\"r1\",\"token\":\"%s\","
             "\"action_id\":\"t\"}",
             x);
    snprintf(str_cell, sizeof str_cell,
             "{\"op\":\"action\",\"room\":\"r1\",\"token\":\"%s\","
             "\"action_id\":\"c\",\"type\":\"move\",\"payload\":{\"cell\":"
             "\"4\"}}",
             x);
    const bad cases[] = {
        {"", 0, "bad_request"},
        {"hello", 0, "bad_request"},
        {"{\"op\":\"ping\"} trailing", 0, "bad_request"},
        {"{\"op\":\"ping\"\0}", 14, "bad_request"},
        {"{\"op\":\"p\xff\xfeng\"}", 0, "bad_request"},
        {"[\"op\",\"ping\"]", 0, "bad_request"},
        {"42", 0, "bad_request"},
        {"{\"op\":5}", 0, "bad_request"},
        {"{\"nop\":\"ping\"}", 0, "bad_request"},
        {"{\"op\":\"launch\"}", 0, "bad_request"},
        {"{\"op\":\"ping\",\"op\":\"info\"}", 0, "bad_request"},
        {deep, 0, "limit_exceeded"},
        {big, 0, "limit_exceeded"},
        {long_str, 0, "limit_exceeded"},
        {deep_payload, 0, "limit_exceeded"},
        {"{\"op\":\"snapshot\",\"room\":\"r9\"}", 0, "unknown_room"},
        {"{\"op\":\"snapshot\",\"room\":[\"r1\"]}", 0, "bad_request"},
        {"{\"op\":\"snapshot\"}", 0, "bad_request"},
        {"{\"op\":\"snapshot\",\"room\":\"r1\",\"token\":17}", 0,
         "bad_request"},
        {"{\"op\":\"changes\",\"room\":\"r1\",\"since\":\"0\"}", 0,
         "bad_request"},
        {"{\"op\":\"changes\",\"room\":\"r1\",\"since\":-1}", 0, "bad_request"},
        {"{\"op\":\"changes\",\"room\":\"r1\",\"since\":1.5}", 0,
         "bad_request"},
        {"{\"op\":\"changes\",\"room\":\"r1\",\"since\":1e300}", 0,
         "bad_request"},
        {"{\"op\":\"changes\",\"room\":\"r1\"}", 0, "bad_request"},
        {"{\"op\":\"join\",\"room\":\"r1\",\"role\":\"player\"}", 0,
         "bad_request"},
        {"{\"op\":\"join\",\"room\":\"r1\",\"role\":\"player\",\"name\":"
         "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
         0, "bad_request"},
        {"{\"op\":\"action\",\"room\":\"r1\",\"action_id\":\"a\","
         "\"type\":\"move\"}",
         0, "bad_token"},
        {"{\"op\":\"action\",\"room\":\"r1\",\"token\":"
         "\"ffffffffffffffffffffffffffffffff\",\"action_id\":\"a\","
         "\"type\":\"move\"}",
         0, "bad_token"},
        {long_id, 0, "bad_token"}, /* the token is checked first */
        {wrong_id, 0, "bad_request"},
        {no_type, 0, "bad_request"},
        {str_cell, 0, "bad_cell"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const bad *b = &cases[i];
        size_t len = b->len ? b->len : strlen(b->body);
        size_t n;
        char *text = request_raw(fx.req, b->body, len, &n);
        cJSON *r = NULL;
        if (pc_json_parse(text, n, NULL, &r, NULL) != PC_OK) {
            fail_msg("case %zu: unparsable reply %s", i, text);
        }
        assert_error(r, b->code);
        cJSON_Delete(r);
        free(text);
        probe now = room_now();
        assert_int_equal(now.seq, before.seq);
        assert_true(now.sum == before.sum);
    }
    cJSON *r = request(fx.req, "{\"op\":\"ping\"}");
    ok_result(r);
    cJSON_Delete(r);
    free(deep);
    free(big);
    free(long_str);
    free(long_id);
    free(x);
}

static void
test_a_grossly_oversized_request_costs_only_its_connection(void **state)
{
    (void)state;
    nng_socket rude;
    assert_int_equal(nng_req0_open(&rude), 0);
    assert_int_equal(nng_socket_set_ms(rude, NNG_OPT_RECVTIMEO, 300), 0);
    assert_int_equal(nng_dial(rude, pc_server_rep_url(fx.srv), NULL, 0), 0);
    char *huge =
        repeat("{\"op\":\"ping\",\"pad\":\"", 'x', 3 * MAX_MESSAGE, "\"}");
    assert_int_equal(nng_send(rude, huge, strlen(huge), 0), 0);
    char *buf = NULL;
    size_t n = 0;
    assert_int_equal(nng_recv(rude, &buf, &n, NNG_FLAG_ALLOC), NNG_ETIMEDOUT);
    nng_close(rude);
    free(huge);
    cJSON *r = request(fx.req, "{\"op\":\"ping\"}");
    ok_result(r);
    cJSON_Delete(r);
    assert_int_equal(room_now().seq, 0);
}

/* Adds room "late" on the loop thread; arg receives the result. */
static void add_late_room(pc_server *srv, void *arg)
{
    pc_server_room_options ro;
    pc_server_room_options_init(&ro);
    ro.room.id = "late";
    *(pc_err *)arg = pc_server_add_room(srv, tictactoe_game(), &ro, NULL);
}

static void test_rooms_are_added_on_the_loop_and_refused_elsewhere(void **state)
{
    (void)state;
    /* The test thread does not own a running server's loop. */
    assert_int_equal(pc_server_add_room(fx.srv, tictactoe_game(), NULL, NULL),
                     PC_ERR_PERMISSION);
    assert_null(pc_server_find_room(fx.srv, "r1"));
    pc_err rc = PC_ERR_STATE;
    assert_int_equal(pc_server_call(fx.srv, add_late_room, &rc), PC_OK);
    assert_int_equal(rc, PC_OK);
    assert_int_equal(pc_server_call(fx.srv, add_late_room, &rc), PC_OK);
    assert_int_equal(rc, PC_ERR_INVALID); /* the id is taken */
    cJSON *r = request(fx.req, "{\"op\":\"join\",\"room\":\"late\","
                               "\"role\":\"player\",\"name\":\"zoe\"}");
    assert_int_equal(num(ok_result(r), "seq"), 1);
    cJSON_Delete(r);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_ping_and_info_answer),
        T(test_join_issues_tokens_and_refuses_taken_names_and_full_rooms),
        T(test_join_repeated_with_the_same_nonce_gets_the_first_reply),
        T(test_join_with_another_nonce_or_none_is_name_taken),
        T(test_a_malformed_nonce_is_refused_and_changes_nothing),
        T(test_snapshot_gives_state_seq_and_checksum),
        T(test_changes_since_returns_each_change_or_too_old),
        T(test_action_replies_with_seq_or_the_games_error),
        T(test_duplicate_action_id_is_applied_once_and_answered_identically),
        T(test_bad_requests_get_structured_errors_and_change_nothing),
        T(test_a_grossly_oversized_request_costs_only_its_connection),
        T(test_rooms_are_added_on_the_loop_and_refused_elsewhere),
    };
#undef T
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    pc_transport_fini();
    return failed;
}
