/*
 * test_server_abuse.c - authority and abuse over the real request
 * channel. A durable server (tcp on 127.0.0.1, a fresh log directory)
 * hosts two tictactoe rooms (one playing, one still waiting) and a piles
 * room held in DECLARATION, each with players and, where the room has a
 * game-master credential, a game master. Then 20,000 actions that must
 * all be refused: no token, wrong tokens, tokens of other rooms, game
 * masters and credentials used as tokens, out of turn, wrong phase,
 * unknown types, malformed payloads and members, an expected_seq from the
 * future. Every reply must be a typed error ({"code","message"}, no
 * result), and no room may change: seq, checksum, history and the bytes
 * of the change logs stay as they were, and the broadcast carries no
 * change. Then every byte a raw SUB with the empty subscription received,
 * every reply (joins aside: a join reply is how a token reaches its
 * owner) and every change-log file (the <room>.players files aside: they
 * keep the tokens on purpose, mode 0600, docs/durability.md) are searched
 * for every token issued, both game-master credentials and the inspector
 * credential: 0 hits.
 */
#include "test_server_support.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "phasecast/history.h"
#include "phasecast/room.h"
#include "piles/piles.h"
#include "tictactoe/tictactoe.h"

#define ACTIONS     20000
#define INSPECTOR   "INSPECTOR-CANARY-5b0e8d21c7f4"
#define GM_T1       "GM-CANARY-T1-9a41c3e07d"
#define GM_P1       "GM-CANARY-P1-3f6b2d8e15"
#define NTOKENS     9
#define MAX_CODES   32
#define ROOMS       3
#define LOG_FILES   64
#define REQUEST_MAX 2048

static const char *const room_ids[ROOMS] = {"t1", "t2", "p1"};

/* Bytes received by one observer, concatenated (they may hold NULs). */
typedef struct tape {
    char *buf;
    size_t len, cap;
} tape;

/* What a room looks like, read on the loop. */
typedef struct look {
    uint64_t seq, sum, first;
    size_t count;
    char phase[32];
    char to_act[PC_SERVER_NAME_MAX + 1];
} look;

typedef struct fixture {
    char dir[64];
    pc_server *srv;
    nng_socket req, sub;
    tape pub, replies;
    /* ann (X) and ben (O) in t1, cat in t2, four in p1, the game masters
     * of t1 and p1: tokens[k] with its owner's room and name. */
    char tokens[NTOKENS][PC_SERVER_NAME_MAX + 1];
    const char *token_room[NTOKENS];
    const char *token_name[NTOKENS];
    piles_config cfg;
} fixture;

static fixture fx;

enum { ANN, BEN, CAT, P1A, P1B, P1C, P1D, GMT1, GMP1 };
static const char *const names[NTOKENS] = {"ann", "ben", "cat",  "pa",  "pb",
                                           "pc",  "pd",  "gm-t", "gm-p"};

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
}

static size_t count_in(const char *buf, size_t len, const char *needle)
{
    size_t n = strlen(needle), hits = 0;
    for (size_t i = 0; len >= n && i <= len - n; i++) {
        hits += memcmp(buf + i, needle, n) == 0;
    }
    return hits;
}

/* Move every queued broadcast onto the pub tape; returns how many of them
 * were change frames. */
static size_t drain_sub(void)
{
    size_t changes = 0;
    for (;;) {
        char *buf = NULL;
        size_t n = 0;
        int rv = nng_recv(fx.sub, &buf, &n, NNG_FLAG_ALLOC | NNG_FLAG_NONBLOCK);
        if (rv == NNG_EAGAIN) {
            return changes;
        }
        assert_int_equal(rv, 0);
        changes += count_in(buf, n, "\"type\":\"changes\"");
        tape_add(&fx.pub, buf, n);
        nng_free(buf, n);
    }
}

static void read_rooms(pc_server *srv, void *arg)
{
    look *l = arg;
    for (int i = 0; i < ROOMS; i++) {
        pc_room *room = pc_server_find_room(srv, room_ids[i]);
        assert_non_null(room);
        l[i].seq = pc_room_seq(room);
        l[i].sum = pc_room_checksum(room);
        l[i].first = pc_history_first_seq(room);
        l[i].count = pc_history_count(room);
        snprintf(l[i].phase, sizeof l[i].phase, "%s", pc_room_phase(room));
        const cJSON *who = pc_json_pointer_get(pc_room_data(room), "/to_act");
        snprintf(l[i].to_act, sizeof l[i].to_act, "%s",
                 cJSON_IsString(who) ? who->valuestring : "");
    }
}

static void rooms_now(look out[ROOMS])
{
    assert_int_equal(pc_server_call(fx.srv, read_rooms, out), PC_OK);
}

/* Total bytes of the files in the log directory. */
static long long log_bytes(void)
{
    DIR *d = opendir(fx.dir);
    assert_non_null(d);
    long long total = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[512];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", fx.dir, e->d_name);
        if (e->d_name[0] != '.' && stat(path, &st) == 0) {
            total += st.st_size;
        }
    }
    closedir(d);
    return total;
}

/* A join whose reply is not taped: it hands the token to its owner. */
static void join(int k, const char *room, const char *role,
                 const char *credential)
{
    char cred[128] = "";
    if (credential != NULL) {
        snprintf(cred, sizeof cred, ",\"credential\":\"%s\"", credential);
    }
    cJSON *r = request(fx.req,
                       "{\"op\":\"join\",\"room\":\"%s\",\"role\":\"%s\","
                       "\"name\":\"%s\"%s}",
                       room, role, names[k], cred);
    const char *tok = str(ok_result(r), "token");
    assert_int_equal(strlen(tok), 32);
    snprintf(fx.tokens[k], sizeof fx.tokens[k], "%s", tok);
    fx.token_room[k] = room;
    fx.token_name[k] = names[k];
    cJSON_Delete(r);
}

/* A request whose raw reply is taped; returns it parsed. */
static cJSON *taped(const char *body)
{
    size_t n = 0;
    char *raw = request_raw(fx.req, body, strlen(body), &n);
    tape_add(&fx.replies, raw, n);
    cJSON *reply = NULL;
    if (pc_json_parse(raw, n, NULL, &reply, NULL) != PC_OK) {
        fail_msg("unparsable reply %s to %s", raw, body);
    }
    free(raw);
    return reply;
}

static void move(int k, int cell)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"op\":\"action\",\"room\":\"t1\",\"token\":\"%s\","
             "\"action_id\":\"setup-%d\",\"type\":\"move\","
             "\"payload\":{\"cell\":%d}}",
             fx.tokens[k], cell, cell);
    cJSON_Delete(request(fx.req, "%s", body));
}

static void make_dir(void)
{
    snprintf(fx.dir, sizeof fx.dir, "/tmp/pc-abuse-XXXXXX");
    assert_non_null(mkdtemp(fx.dir));
}

static void remove_dir(void)
{
    DIR *d = opendir(fx.dir);
    if (d == NULL) {
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            char path[512];
            snprintf(path, sizeof path, "%s/%s", fx.dir, e->d_name);
            unlink(path);
        }
    }
    closedir(d);
    rmdir(fx.dir);
}

static void add_rooms(pc_server *srv, void *arg)
{
    (void)arg;
    pc_server_room_options ro;
    pc_server_room_options_init(&ro);
    ro.room.id = "t1";
    ro.gm_credential = GM_T1;
    assert_int_equal(pc_server_add_room(srv, tictactoe_game(), &ro, NULL),
                     PC_OK);
    pc_server_room_options_init(&ro);
    ro.room.id = "t2";
    assert_int_equal(pc_server_add_room(srv, tictactoe_game(), &ro, NULL),
                     PC_OK);
    pc_server_room_options_init(&ro);
    ro.room.id = "p1";
    ro.room.arg = &fx.cfg;
    ro.gm_credential = GM_P1;
    assert_int_equal(pc_server_add_room(srv, piles_game(), &ro, NULL), PC_OK);
}

static int setup(void **state)
{
    memset(&fx, 0, sizeof fx);
    make_dir();
    /* The deal at once; then no timer fires while the test runs. */
    piles_config_init(&fx.cfg);
    fx.cfg.deal_ms = 0;
    fx.cfg.declare_ms = PILES_DELAY_MAX;
    fx.cfg.play_ms = PILES_DELAY_MAX;
    pc_server_options o;
    pc_server_options_init(&o);
    o.pub_url = "tcp://127.0.0.1:0";
    o.rep_url = "tcp://127.0.0.1:0";
    o.max_message_bytes = 64 * 1024;
    o.heartbeat_ms = 50;
    o.log_dir = fx.dir;
    o.inspector_credential = INSPECTOR;
    if (pc_server_new(&o, &fx.srv, NULL) != PC_OK ||
        pc_server_start(fx.srv) != PC_OK ||
        pc_server_call(fx.srv, add_rooms, NULL) != PC_OK) {
        return -1;
    }
    fx.sub = sub_open(pc_server_pub_url(fx.srv), "");
    assert_int_equal(nng_socket_set_int(fx.sub, NNG_OPT_RECVBUF, 8192), 0);
    wait_heartbeat(fx.sub, "p1");
    fx.req = req_open(pc_server_rep_url(fx.srv));
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pc_server_free(fx.srv); /* NULL when the test freed it */
    nng_close(fx.req);
    nng_close(fx.sub);
    free(fx.pub.buf);
    free(fx.replies.buf);
    remove_dir();
    return 0;
}

/* Seat everyone: t1 playing with X to move and two cells taken, t2
 * waiting with one player, p1 dealt and waiting for a declaration. */
static void seat_everyone(look before[ROOMS])
{
    join(ANN, "t1", "player", NULL);
    join(BEN, "t1", "player", NULL);
    join(GMT1, "t1", "gm", GM_T1);
    move(ANN, 0);
    move(BEN, 4);
    join(CAT, "t2", "player", NULL);
    for (int k = P1A; k <= P1D; k++) {
        join(k, "p1", "player", NULL);
    }
    join(GMP1, "p1", "gm", GM_P1);
    int64_t end = mono_ms() + WAIT_MS;
    do {
        rooms_now(before);
    } while (strcmp(before[2].phase, "DECLARATION") != 0 && mono_ms() < end);
    assert_string_equal(before[0].phase, "PLAYING");
    assert_string_equal(before[1].phase, "WAITING");
    assert_string_equal(before[2].phase, "DECLARATION");
    assert_true(before[2].to_act[0] != '\0');
}

/* Tape broadcasts until each room's heartbeat reports the seq it had
 * after the seating: every change up to it has then arrived (a heartbeat
 * never overtakes a change, docs/protocol.md), so any change frame after
 * this would be one the abuse made. */
static void settle_broadcast(const look before[ROOMS])
{
    bool seen[ROOMS] = {false, false, false};
    int64_t end = mono_ms() + WAIT_MS;
    while (!(seen[0] && seen[1] && seen[2]) && mono_ms() < end) {
        char *buf = NULL;
        size_t n = 0;
        int rv = nng_recv(fx.sub, &buf, &n, NNG_FLAG_ALLOC);
        if (rv != 0) {
            fail_msg("no broadcast while settling: %s", nng_strerror(rv));
        }
        tape_add(&fx.pub, buf, n);
        const char *sp = memchr(buf, ' ', n);
        cJSON *env = NULL;
        assert_non_null(sp);
        assert_int_equal(
            pc_json_parse(sp + 1, n - (size_t)(sp + 1 - buf), NULL, &env, NULL),
            PC_OK);
        for (int i = 0; i < ROOMS; i++) {
            if (strcmp(str(env, "type"), "heartbeat") == 0 &&
                strcmp(str(env, "room"), room_ids[i]) == 0 &&
                (uint64_t)num(env, "seq") == before[i].seq) {
                seen[i] = true;
            }
        }
        cJSON_Delete(env);
        nng_free(buf, n);
    }
    assert_true(seen[0] && seen[1] && seen[2]);
}

/* ------------------------------------------------------------------ */
/* The refused actions                                                  */
/* ------------------------------------------------------------------ */

/* What one case sends: room, the token member's JSON (NULL: none), type
 * and the rest of the members (payload etc.), all as JSON text. */
typedef struct abuse {
    const char *room;
    char token[160];
    char type[96];
    char rest[512];
} abuse;

/* A 32-hex-digit token nobody holds, different for each i. */
static void fake_token(unsigned i, char out[40])
{
    uint64_t a = i * UINT64_C(0x9e3779b97f4a7c15) + 1, b = ~a * 31;
    snprintf(out, 40, "\"%016llx%016llx\"", (unsigned long long)a,
             (unsigned long long)b);
}

static void tok(abuse *a, int k)
{
    snprintf(a->token, sizeof a->token, "\"%s\"", fx.tokens[k]);
}

/* The index of p1's player whose turn it is, and one whose it is not. */
static int p1_to_act, p1_idle;

/*
 * Case i of the abuse: each is refused by the server (a request member)
 * or the game (a rule), never applied.
 */
static void make_case(unsigned i, abuse *a)
{
    memset(a, 0, sizeof *a);
    a->room = "t1";
    snprintf(a->type, sizeof a->type, "\"move\"");
    unsigned v = i / 24;
    switch (i % 24) {
    case 0: /* no token */
        snprintf(a->rest, sizeof a->rest, ",\"payload\":{\"cell\":%u}",
                 1 + v % 3);
        break;
    case 1: /* a well-formed token nobody holds */
        fake_token(i, a->token);
        snprintf(a->rest, sizeof a->rest, ",\"payload\":{\"cell\":1}");
        break;
    case 2: { /* tokens of the wrong type or shape */
        static const char *const bad[] = {
            "17",
            "\"\"",
            "[\"x\"]",
            "{}",
            "true",
            "\"zz\"",
            "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\""};
        snprintf(a->token, sizeof a->token, "%s", bad[v % 7]);
        break;
    }
    case 3: /* a token of another room: t2's and p1's players in t1 */
        tok(a, v % 2 ? CAT : P1A + (int)(v % 4));
        snprintf(a->rest, sizeof a->rest, ",\"payload\":{\"cell\":2}");
        break;
    case 4: /* t1's players in p1 */
        a->room = "p1";
        tok(a, v % 2 ? ANN : BEN);
        snprintf(a->type, sizeof a->type, "\"declare\"");
        snprintf(a->rest, sizeof a->rest, ",\"payload\":{\"piles\":1}");
        break;
    case 5: /* secrets that are not tokens, used as tokens */
        snprintf(a->token, sizeof a->token, "\"%s\"",
                 v % 3 == 0   ? INSPECTOR
                 : v % 3 == 1 ? GM_T1
                              : GM_P1);
        break;
    case 6: /* out of turn: O moves while X is to move */
        tok(a, BEN);
        snprintf(a->rest, sizeof a->rest, ",\"payload\":{\"cell\":%u}",
                 1 + v % 3);
        break;
    case 7: /* out of turn in p1: someone who is not to act declares */
        a->room = "p1";
        tok(a, p1_idle);
        snprintf(a->type, sizeof a->type, "\"declare\"");
        snprintf(a->rest, sizeof a->rest, ",\"payload\":{\"piles\":%u}", v % 9);
        break;
    case 8: /* wrong phase: a move in a room still waiting */
        a->room = "t2";
        tok(a, CAT);
        snprintf(a->rest, sizeof a->rest, ",\"payload\":{\"cell\":%u}", v % 9);
        break;
    case 9: /* wrong phase: a play during DECLARATION, by the one to act */
        a->room = "p1";
        tok(a, p1_to_act);
        snprintf(a->type, sizeof a->type, "\"play\"");
        snprintf(a->rest, sizeof a->rest,
                 ",\"payload\":{\"pieces\":[\"R1a\"]}");
        break;
    case 10: { /* unknown types */
        static const char *const types[] = {"\"fly\"", "\"MOVE\"", "\"move \"",
                                            "\"\\u00e9\"", "\"declare\""};
        tok(a, ANN);
        snprintf(a->type, sizeof a->type, "%s", types[v % 5]);
        snprintf(a->rest, sizeof a->rest, ",\"payload\":{\"cell\":1}");
        break;
    }
    case 11: /* types the server refuses before the game */
        tok(a, ANN);
        snprintf(a->type, sizeof a->type, "%s",
                 v % 3 == 0   ? "\"\""
                 : v % 3 == 1 ? "7"
                              : "\"ttttttttttttttttttttttttttttttttttttttttttt"
                                "tttttttttttttttttttttt\"");
        break;
    case 12: /* a join as an action, by a seated player */
        tok(a, ANN);
        snprintf(a->type, sizeof a->type, "\"join\"");
        break;
    case 13: { /* malformed payloads for the player to move */
        static const char *const p[] = {"{\"cell\":\"1\"}",
                                        "{\"cell\":-1}",
                                        "{\"cell\":9}",
                                        "{\"cell\":1.5}",
                                        "{\"cell\":null}",
                                        "{}",
                                        "[]",
                                        "\"1\"",
                                        "{\"cell\":1e300}",
                                        "{\"cell\":[1]}",
                                        "7",
                                        "{\"cell\":true}"};
        tok(a, ANN);
        snprintf(a->rest, sizeof a->rest, ",\"payload\":%s", p[v % 12]);
        break;
    }
    case 14: /* no payload */
        tok(a, ANN);
        break;
    case 15: /* cells taken */
        tok(a, ANN);
        snprintf(a->rest, sizeof a->rest, ",\"payload\":{\"cell\":%d}",
                 v % 2 ? 0 : 4);
        break;
    case 16: /* a payload nested past the limits */
        tok(a, ANN);
        snprintf(a->rest, sizeof a->rest,
                 ",\"payload\":{\"cell\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
                 "[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}");
        break;
    case 17: /* malformed declarations by the one to act */
    {
        static const char *const p[] = {"{\"piles\":9}",
                                        "{\"piles\":-1}",
                                        "{\"piles\":\"2\"}",
                                        "{\"piles\":1.5}",
                                        "{}",
                                        "{\"piles\":1,\"x\":1}",
                                        "[1]",
                                        "null"};
        a->room = "p1";
        tok(a, p1_to_act);
        snprintf(a->type, sizeof a->type, "\"declare\"");
        snprintf(a->rest, sizeof a->rest, ",\"payload\":%s", p[v % 8]);
        break;
    }
    case 18: /* the game masters act */
        tok(a, v % 2 ? GMT1 : GMP1);
        a->room = v % 2 ? "t1" : "p1";
        snprintf(a->type, sizeof a->type, v % 2 ? "\"move\"" : "\"declare\"");
        snprintf(a->rest, sizeof a->rest,
                 v % 2 ? ",\"payload\":{\"cell\":1}"
                       : ",\"payload\":{\"piles\":1}");
        break;
    case 19: /* an expected_seq the room has not reached */
        tok(a, ANN);
        snprintf(a->rest, sizeof a->rest,
                 ",\"payload\":{\"cell\":1},\"expected_seq\":%u", 1000000 + v);
        break;
    case 20: /* malformed expected_seq */
        tok(a, ANN);
        snprintf(a->rest, sizeof a->rest,
                 ",\"payload\":{\"cell\":1},\"expected_seq\":%s",
                 v % 2 ? "-1" : "\"3\"");
        break;
    case 21: /* a room that does not exist, with a real token */
        a->room = v % 2 ? "t9" : "T1";
        tok(a, ANN);
        snprintf(a->rest, sizeof a->rest, ",\"payload\":{\"cell\":1}");
        break;
    case 22: /* the right token under another player's name: names are
                not credentials */
        tok(a, CAT);
        snprintf(a->rest, sizeof a->rest,
                 ",\"player\":\"ann\",\"name\":\"ann\",\"payload\":{\"cell\":"
                 "1}");
        break;
    default: /* the token in the wrong case */
        snprintf(a->token, sizeof a->token, "\"%s\"", fx.tokens[ANN]);
        for (char *c = a->token; *c != '\0'; c++) {
            if (*c >= 'a' && *c <= 'f') {
                *c = (char)(*c - 'a' + 'A');
            }
        }
        snprintf(a->rest, sizeof a->rest, ",\"payload\":{\"cell\":1}");
        break;
    }
}

/* The action ids vary too: missing, wrong type, too long, or fresh. */
static void action_id(unsigned i, char *out, size_t cap)
{
    switch (i % 97) {
    case 0:
        out[0] = '\0';
        break;
    case 1:
        snprintf(out, cap, ",\"action_id\":%u", i);
        break;
    case 2:
        snprintf(out, cap, ",\"action_id\":\"%070u\"", i);
        break;
    default:
        snprintf(out, cap, ",\"action_id\":\"abuse-%u\"", i);
        break;
    }
}

/* A tally of error codes. */
typedef struct tally {
    char code[MAX_CODES][48];
    unsigned n[MAX_CODES];
    int used;
} tally;

static void count_code(tally *t, const char *code)
{
    for (int i = 0; i < t->used; i++) {
        if (strcmp(t->code[i], code) == 0) {
            t->n[i]++;
            return;
        }
    }
    assert_true(t->used < MAX_CODES);
    snprintf(t->code[t->used], sizeof t->code[0], "%s", code);
    t->n[t->used++] = 1;
}

/* Send action i and check its reply is a typed error. */
static void send_abuse(unsigned i, tally *t)
{
    abuse a;
    make_case(i, &a);
    char id[128], token[200] = "", body[REQUEST_MAX];
    action_id(i, id, sizeof id);
    if (a.token[0] != '\0') {
        snprintf(token, sizeof token, ",\"token\":%s", a.token);
    }
    int n = snprintf(body, sizeof body,
                     "{\"op\":\"action\",\"room\":\"%s\"%s%s,\"type\":%s%s}",
                     a.room, token, id, a.type, a.rest);
    assert_true(n > 0 && n < (int)sizeof body);
    cJSON *r = taped(body);
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(r, "ok");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "error");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
    if (!cJSON_IsFalse(ok) || !cJSON_IsString(c) || c->valuestring[0] == '\0' ||
        !cJSON_IsString(m) || m->valuestring[0] == '\0' ||
        cJSON_GetObjectItemCaseSensitive(r, "result") != NULL ||
        num(r, "v") != 1) {
        char *text = cJSON_PrintUnformatted(r);
        fail_msg("case %u: %s\n  got %s", i % 24, body, text);
    }
    count_code(t, c->valuestring);
    cJSON_Delete(r);
}

/* ------------------------------------------------------------------ */
/* The test                                                             */
/* ------------------------------------------------------------------ */

/* The secrets searched for, and where: returns the hits in buf. */
static size_t secret_hits(const char *what, const char *buf, size_t len)
{
    size_t hits = 0;
    for (int k = 0; k < NTOKENS; k++) {
        size_t h = count_in(buf, len, fx.tokens[k]);
        if (h != 0) {
            print_message("%s holds %s's token %zu times\n", what, names[k], h);
        }
        hits += h;
    }
    const char *const creds[] = {INSPECTOR, GM_T1, GM_P1};
    for (int k = 0; k < 3; k++) {
        size_t h = count_in(buf, len, creds[k]);
        if (h != 0) {
            print_message("%s holds %s %zu times\n", what, creds[k], h);
        }
        hits += h;
    }
    return hits;
}

/* Search every change-log file (not <room>.players); returns the hits and
 * counts the files and bytes searched, and in *kept the tokens found in
 * the players files, which must hold them (so the search can find one). */
static size_t log_hits(int *files, long long *bytes, size_t *kept)
{
    DIR *d = opendir(fx.dir);
    assert_non_null(d);
    size_t hits = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t nl = strlen(e->d_name);
        char path[512];
        snprintf(path, sizeof path, "%s/%s", fx.dir, e->d_name);
        struct stat st;
        if (e->d_name[0] == '.' || stat(path, &st) != 0 ||
            !S_ISREG(st.st_mode)) {
            continue;
        }
        bool players = nl > 8 && strcmp(e->d_name + nl - 8, ".players") == 0;
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        char *buf = malloc((size_t)st.st_size + 1);
        assert_non_null(buf);
        size_t n = fread(buf, 1, (size_t)st.st_size, f);
        fclose(f);
        if (players) {
            assert_int_equal(st.st_mode & 0777, 0600);
            for (int k = 0; k < NTOKENS; k++) {
                *kept += count_in(buf, n, fx.tokens[k]);
            }
        } else {
            hits += secret_hits(e->d_name, buf, n);
            (*files)++;
            *bytes += (long long)n;
        }
        free(buf);
    }
    closedir(d);
    return hits;
}

/* Snapshots and changes of every room in every player's view and the
 * public one, and the inspector's records, all taped. */
static void read_back(void)
{
    char body[256];
    for (int i = 0; i < ROOMS; i++) {
        for (int k = -1; k < NTOKENS; k++) {
            if (k >= 0 && strcmp(fx.token_room[k], room_ids[i]) != 0) {
                continue;
            }
            char token[64] = "";
            if (k >= 0) {
                snprintf(token, sizeof token, ",\"token\":\"%s\"",
                         fx.tokens[k]);
            }
            snprintf(body, sizeof body,
                     "{\"op\":\"snapshot\",\"room\":\"%s\"%s}", room_ids[i],
                     token);
            cJSON_Delete(taped(body));
            snprintf(body, sizeof body,
                     "{\"op\":\"changes\",\"room\":\"%s\",\"since\":0%s}",
                     room_ids[i], token);
            cJSON *r = taped(body);
            ok_result(r);
            cJSON_Delete(r);
        }
        snprintf(body, sizeof body,
                 "{\"op\":\"inspect\",\"room\":\"%s\",\"credential\":"
                 "\"" INSPECTOR "\"}",
                 room_ids[i]);
        cJSON *r = taped(body);
        ok_result(r);
        cJSON_Delete(r);
    }
}

static void
test_abusive_actions_get_typed_errors_and_change_nothing(void **state)
{
    (void)state;
    look before[ROOMS], after[ROOMS];
    seat_everyone(before);
    settle_broadcast(before);
    for (int k = P1A; k <= P1D; k++) {
        if (strcmp(names[k], before[2].to_act) == 0) {
            p1_to_act = k;
            p1_idle = k == P1D ? P1A : k + 1;
        }
    }
    long long bytes_before = log_bytes();
    size_t pub_before = fx.pub.len, changes_seen = 0;

    unsigned total = (unsigned)testenv_scale(ACTIONS);
    tally t = {0};
    int64_t t0 = mono_ms();
    for (unsigned i = 0; i < total; i++) {
        send_abuse(i, &t);
        if (i % 256 == 255) {
            changes_seen += drain_sub();
        }
    }
    int64_t took = mono_ms() - t0;
    rooms_now(after);
    changes_seen += drain_sub();

    print_message("%u refused actions in %lld ms, every one a typed error; "
                  "codes:\n",
                  total, (long long)took);
    unsigned sum = 0;
    for (int i = 0; i < t.used; i++) {
        print_message("  %-20s %u\n", t.code[i], t.n[i]);
        sum += t.n[i];
    }
    assert_int_equal(sum, total);
    for (int i = 0; i < ROOMS; i++) {
        print_message("room %s: seq %llu, history %zu from %llu, phase %s: "
                      "unchanged\n",
                      room_ids[i], (unsigned long long)after[i].seq,
                      after[i].count, (unsigned long long)after[i].first,
                      after[i].phase);
        assert_int_equal(after[i].seq, before[i].seq);
        assert_true(after[i].sum == before[i].sum);
        assert_int_equal(after[i].first, before[i].first);
        assert_int_equal(after[i].count, before[i].count);
        assert_string_equal(after[i].phase, before[i].phase);
        assert_string_equal(after[i].to_act, before[i].to_act);
    }
    assert_int_equal(changes_seen, 0);
    assert_int_equal(count_in(fx.pub.buf + pub_before, fx.pub.len - pub_before,
                              "\"type\":\"changes\""),
                     0);

    assert_int_equal(log_bytes(), bytes_before);

    /* Everything the rooms' histories say, onto the reply tape too: each
     * player's view, the public view, and the inspector's whole records. */
    read_back();

    /* Let the logs settle, then search everything. */
    pc_server_free(fx.srv);
    fx.srv = NULL;
    int files = 0;
    long long bytes = 0;
    size_t kept = 0;
    size_t hits = secret_hits("the broadcast", fx.pub.buf, fx.pub.len) +
                  secret_hits("the replies", fx.replies.buf, fx.replies.len) +
                  log_hits(&files, &bytes, &kept);
    print_message("searched %zu broadcast bytes, %zu reply bytes and %d "
                  "change-log files (%lld bytes) for %d tokens and 3 "
                  "credentials: %zu hits (the players files, mode 0600, "
                  "hold the tokens %zu times)\n",
                  fx.pub.len, fx.replies.len, files, bytes, NTOKENS, hits,
                  kept);
    assert_true(files >= ROOMS);
    assert_true(kept >= NTOKENS);
    assert_int_equal(hits, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_abusive_actions_get_typed_errors_and_change_nothing, setup,
            teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    pc_transport_fini();
    return failed;
}
