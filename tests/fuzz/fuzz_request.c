/*
 * fuzz_request.c - libFuzzer target: request-channel message bodies
 * answered by the server's request service (transport/requests.h,
 * pc__requests_answer), exactly as the REP socket hands them over.
 *
 * The server and its rooms are reqhost.h's: for every input, a fresh
 * tictactoe room "t", piles room "p", arena room "g" (arenagame.h: a game
 * master, strict action types, events of every audience, secrets) and
 * encounter room "e" (games/encounter), each with "alice" joined and g
 * and e with their game master, on one CALLER-OWNED server per process.
 * Tokens are random, so bodies name them by placeholders (@T@, @P@, @G@,
 * @W@, @E@, @V@, @M@, @L@, @1@..@8@; see reqhost.h) replaced before
 * answering. An input holds up to MSG_MAX bodies separated by SEP ("\0\n";
 * a body with a NUL byte is invalid JSON anyway); each is answered from
 * its own exact-size buffer, then the loop runs once without waiting
 * (broadcasts, 0 ms timers).
 * FZ_VERBOSE=1 in the environment prints every request and reply.
 *
 * Properties, after every body:
 *  - the reply parses (pc_json_parse) as {"v":1,"ok":true,"result":...}
 *    or {"v":1,"ok":false,"error":{"code":non-empty,"message":string}};
 *  - an error, or any op but join and action, changes no room (canonical
 *    state byte-identical, same seq); only the named room changes; an ok
 *    action's "seq" is the room's seq when it changed the room;
 *  - each room's seq only grows, by exactly the changes in its history,
 *    and replaying those patches onto the state before gives the state
 *    after, with the checksum the room reports; the state passes
 *    pc_json_check with the room's limits;
 *  - a tictactoe snapshot, a snapshot with the inspector credential and
 *    a game master's snapshot of g or e are the room's whole state;
 *  - optimistic concurrency: an ok action that carried expected_seq E was
 *    decided on a state no newer than the room's (E <= seq before), and
 *    for a strict type (the game's strict_actions, or arena's own rule
 *    for scout) on the room's very state (E == seq before); a "conflict"
 *    error carries the room's seq (all three unless the action repeats an
 *    earlier (token, action_id), which gets the first reply again);
 *  - no reply holds a credential, or a token fzr_reset's joins got, more
 *    often than its request (error messages may echo the client's own
 *    words, nothing more);
 *  - secrets of g: the game master's canary reaches only replies to a
 *    request carrying a game master's token or the inspector credential,
 *    a player's canary only those carrying that player's token too; the
 *    broadcast, every room's, never carries either.
 * A secret the input itself wrote as data in a body (a name, a note, an
 * event: libFuzzer learns strings from comparisons) is the input's to
 * publish, and exempt from these two checks from then on.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/history.h"
#include "phasecast/json.h"
#include "phasecast/merge.h"
#include "phasecast/room.h"
#include "phasecast/server.h"

#include "fuzz.h"
#include "arenagame.h"
#include "reqhost.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define SEP     "\0\n"
#define SEP_LEN 2
#define MSG_MAX 64
#define NROOMS  4

static const char *const rooms[NROOMS] = {"t", "p", "g", "e"};

static bool verbose; /* FZ_VERBOSE=1: print each request and reply */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fzr_init("request");
    verbose = getenv("FZ_VERBOSE") != NULL;
    return 0;
}

/* Limits wide enough for any reply: the envelope around a state. */
static pc_json_limits reply_limits(void)
{
    pc_json_limits lim;
    pc_json_limits_resolve(NULL, &lim);
    lim.max_depth = PC_JSON_DEPTH_CEILING;
    lim.max_string = lim.max_nodes = lim.max_bytes = SIZE_MAX;
    lim.max_state_bytes = SIZE_MAX;
    return lim;
}

/* Answer body[0..len); the parsed reply, its shape checked. */
static cJSON *answer(const char *body, size_t len, char **text, size_t *n)
{
    *text = fzr_answer(body, len, n);
    pc_json_limits lim = reply_limits();
    cJSON *reply = NULL;
    char *rcopy = fz_copy(*text, *n);
    pc_error e = {0};
    FZ_CHECK(pc_json_parse(rcopy, *n, &lim, &reply, &e) == PC_OK,
             "the reply is not valid JSON (%s): %.*s", e.message, (int)*n,
             *text);
    free(rcopy);
    FZ_CHECK(cJSON_IsObject(reply), "the reply is not an object");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(reply, "v");
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(reply, "ok");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(reply, "result");
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(reply, "error");
    FZ_CHECK(cJSON_IsNumber(v) && v->valuedouble == PC_PROTOCOL_VERSION,
             "reply without \"v\":1: %s", *text);
    FZ_CHECK(cJSON_IsBool(ok), "reply without a boolean ok: %s", *text);
    if (cJSON_IsTrue(ok)) {
        FZ_CHECK(res != NULL && err == NULL, "ok reply shape: %s", *text);
    } else {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(err, "code");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(err, "message");
        FZ_CHECK(res == NULL && cJSON_IsObject(err) && cJSON_IsString(code) &&
                     code->valuestring[0] != '\0' && cJSON_IsString(msg),
                 "error reply shape: %s", *text);
    }
    return reply;
}

static bool is_ok(const cJSON *reply)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"));
}

static size_t count(const char *hay, size_t n, const char *needle)
{
    size_t c = 0, nl = strlen(needle);
    for (size_t i = 0; nl != 0 && nl <= n && i <= n - nl; i++) {
        if (memcmp(hay + i, needle, nl) == 0) {
            c++;
        }
    }
    return c;
}

/* What one room looked like before a body was answered. */
typedef struct before {
    const char *id;
    pc_room *room;
    uint64_t seq;
    cJSON *doc; /* copy of the whole state */
    char *text; /* its canonical text */
    size_t len;
} before;

static void take(before *b, const char *id)
{
    b->id = id;
    b->room = pc_server_find_room(fzr_server(), id);
    FZ_CHECK(b->room != NULL, "room %s vanished", id);
    b->seq = pc_room_seq(b->room);
    b->doc = cJSON_Duplicate(pc_room_state(b->room), 1);
    FZ_CHECK(b->doc != NULL &&
                 pc_canon_print(b->doc, &b->text, &b->len) == PC_OK,
             "cannot copy room %s", id);
}

static void drop(before *b)
{
    cJSON_Delete(b->doc);
    pc_free(b->text);
}

static bool unchanged(const before *b)
{
    char *t = NULL;
    size_t n = 0;
    FZ_CHECK(pc_canon_print(pc_room_state(b->room), &t, &n) == PC_OK,
             "cannot print room %s", b->id);
    bool same = n == b->len && memcmp(t, b->text, n) == 0;
    pc_free(t);
    return same && pc_room_seq(b->room) == b->seq;
}

/* seq grew by the changes in history, and they replay to the state. */
static void replayed(const before *b)
{
    const pc_room *room = b->room;
    uint64_t seq = pc_room_seq(room);
    FZ_CHECK(seq >= b->seq, "room %s seq went back from %llu to %llu", b->id,
             (unsigned long long)b->seq, (unsigned long long)seq);
    cJSON *doc = cJSON_Duplicate(b->doc, 1);
    FZ_CHECK(doc != NULL, "out of memory");
    for (uint64_t s = b->seq + 1; s <= seq; s++) {
        const pc_change *c = NULL;
        FZ_CHECK(pc_history_get(room, s, &c) == PC_OK && c->seq == s,
                 "room %s: change %llu is not in history", b->id,
                 (unsigned long long)s);
        cJSON *data = cJSON_GetObjectItemCaseSensitive(doc, "data");
        cJSON *ph = cJSON_CreateString(c->phase);
        FZ_CHECK(ph != NULL &&
                     pc_merge_patch_inplace(data, c->patch) == PC_OK &&
                     cJSON_ReplaceItemInObjectCaseSensitive(doc, "phase", ph),
                 "room %s: change %llu does not apply", b->id,
                 (unsigned long long)s);
        uint64_t sum;
        FZ_CHECK(pc_canon_checksum(doc, &sum, NULL) == PC_OK &&
                     sum == c->checksum,
                 "room %s: change %llu has the wrong checksum", b->id,
                 (unsigned long long)s);
    }
    FZ_CHECK(pc_json_equal(doc, pc_room_state(room)),
             "room %s: the changes do not replay to its state", b->id);
    cJSON_Delete(doc);
    uint64_t sum;
    FZ_CHECK(pc_canon_checksum(pc_room_state(room), &sum, NULL) == PC_OK &&
                 sum == pc_room_checksum(room),
             "room %s: checksum is not its state's", b->id);
    FZ_CHECK(pc_json_check(pc_room_state(room), NULL, NULL) == PC_OK,
             "room %s: the state is outside the limits", b->id);
}

/* What the checks need to know of a request (any field may be absent). */
typedef struct asked {
    char op[16], room[16], type[16];
    char token[72], credential[72], action_id[72];
    bool has_expected; /* an expected_seq the server accepts */
    uint64_t expected;
} asked;

static void copy_field(const cJSON *req, const char *key, char *out, size_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);
    out[0] = '\0';
    if (cJSON_IsString(v) && strlen(v->valuestring) < n) {
        strcpy(out, v->valuestring);
    }
}

static void what(const char *body, size_t len, asked *a)
{
    cJSON *req = NULL;
    memset(a, 0, sizeof *a);
    if (pc_json_parse(body, len, NULL, &req, NULL) != PC_OK) {
        return;
    }
    copy_field(req, "op", a->op, sizeof a->op);
    copy_field(req, "room", a->room, sizeof a->room);
    copy_field(req, "type", a->type, sizeof a->type);
    copy_field(req, "token", a->token, sizeof a->token);
    copy_field(req, "credential", a->credential, sizeof a->credential);
    copy_field(req, "action_id", a->action_id, sizeof a->action_id);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(req, "expected_seq");
    if (cJSON_IsNumber(e) && e->valuedouble >= 0 &&
        e->valuedouble <= 9007199254740992.0 &&
        e->valuedouble == (double)(uint64_t)e->valuedouble) {
        a->has_expected = true;
        a->expected = (uint64_t)e->valuedouble;
    }
    cJSON_Delete(req);
}

/* A token of a game master of g, or the inspector credential, is in the
 * request: it may see every secret of g. */
static bool sees_all(const char *body, size_t len)
{
    if (count(body, len, FZR_CREDENTIAL) > 0) {
        return true;
    }
    for (int i = 0; i < fzr_njoins(); i++) {
        const fzr_join *j = fzr_joins(i);
        if (j->gm && strcmp(j->room, "g") == 0 &&
            count(body, len, j->token) > 0) {
            return true;
        }
    }
    return false;
}

/* The bodies of this input so far. A secret (a token, a credential, a
 * canary, which libFuzzer may learn from the comparisons below) that a
 * body holds as data, not as its own "token" or "credential", is the
 * input's to publish: a name, a note, an event may carry it anywhere. */
static struct {
    const char *body;
    size_t len;
    char token[72], credential[72];
} bodies[MSG_MAX];
static int nbodies;

static bool published(const char *secret)
{
    for (int i = 0; i < nbodies; i++) {
        size_t c = count(bodies[i].body, bodies[i].len, secret);
        c -= c > 0 && strcmp(bodies[i].token, secret) == 0;
        c -= c > 0 && strcmp(bodies[i].credential, secret) == 0;
        if (c > 0) {
            return true;
        }
    }
    return false;
}

/* The secrets of g in a reply only reach those who may see them. */
static void secrets(const char *body, size_t len, const char *text, size_t n)
{
    const char *gs = arenagame_gm_secret();
    bool all = sees_all(body, len);
    FZ_CHECK(count(text, n, gs) == 0 || all || published(gs),
             "the game master's secret leaks: %.*s -> %s", (int)len, body,
             text);
    char prefix[ARENAGAME_SECRET_MAX];
    arenagame_player_secret("", prefix); /* every player's starts so */
    for (int i = 0; !all && count(text, n, prefix) > 0 && i < fzr_njoins();
         i++) {
        const fzr_join *j = fzr_joins(i);
        if (j->gm || strcmp(j->room, "g") != 0) {
            continue;
        }
        char ps[ARENAGAME_SECRET_MAX + 1];
        arenagame_player_secret(j->name, ps);
        strcat(ps, "\""); /* the whole string, not a prefix of another */
        FZ_CHECK(count(text, n, ps) == 0 || count(body, len, j->token) > 0 ||
                     published(ps),
                 "%s's secret leaks: %.*s -> %s", j->name, (int)len, body,
                 text);
    }
}

/* No broadcast message holds a secret of g. */
static void broadcast_msg(const char *msg, size_t len, void *arg)
{
    (void)arg;
    const char *gs = arenagame_gm_secret();
    FZ_CHECK(count(msg, len, gs) == 0 || published(gs),
             "a broadcast carries the game master's secret: %.*s", (int)len,
             msg);
    char prefix[ARENAGAME_SECRET_MAX];
    arenagame_player_secret("", prefix);
    for (int i = 0; count(msg, len, prefix) > 0 && i < fzr_njoins(); i++) {
        char ps[ARENAGAME_SECRET_MAX + 1];
        arenagame_player_secret(fzr_joins(i)->name, ps);
        strcat(ps, "\"");
        FZ_CHECK(count(msg, len, ps) == 0 || published(ps),
                 "a broadcast carries %s's secret: %.*s", fzr_joins(i)->name,
                 (int)len, msg);
    }
}

/* No reply holds a token or credential more often than its request. */
static void tokens(const char *body, size_t len, const char *text, size_t n)
{
    const char *sec[] = {FZR_CREDENTIAL, FZR_GM_CREDENTIAL};
    for (size_t i = 0; i < sizeof sec / sizeof sec[0]; i++) {
        FZ_CHECK(count(text, n, sec[i]) <= count(body, len, sec[i]) ||
                     published(sec[i]),
                 "a reply leaks a credential: %.*s -> %s", (int)len, body,
                 text);
    }
    /* fzr_reset's joins: those of the input may be repeated with their
     * nonce, which hands out the token again. */
    for (int i = 0; i < FZR_RESET_JOINS && i < fzr_njoins(); i++) {
        const char *t = fzr_joins(i)->token;
        FZ_CHECK(count(text, n, t) <= count(body, len, t) || published(t),
                 "a reply leaks a token: %.*s -> %s", (int)len, body, text);
    }
}

/* token is the token of room's game master (fzr_reset's or a later
 * one). */
static bool gm_token(const char *room, const char *token)
{
    for (int i = 0; i < fzr_njoins(); i++) {
        const fzr_join *j = fzr_joins(i);
        if (j->gm && strcmp(j->room, room) == 0 &&
            strcmp(j->token, token) == 0) {
            return true;
        }
    }
    return false;
}

/* The game refuses type when it is stale (pc_game.strict_actions), or
 * by its own rule (arena's scout). */
static bool strict_type(const pc_room *room, const char *type)
{
    const char *const *s = pc_room_game(room)->strict_actions;
    for (; s != NULL && *s != NULL; s++) {
        if (strcmp(*s, "*") == 0 || strcmp(*s, type) == 0) {
            return true;
        }
    }
    return strcmp(pc_room_id(room), "g") == 0 && strcmp(type, "scout") == 0;
}

/* Snapshots that must hold the room's whole state. */
static void whole_snapshots(const asked *a, const char *body, size_t len,
                            const cJSON *reply, const before *b)
{
    if (strcmp(a->op, "snapshot") != 0 || !is_ok(reply)) {
        return;
    }
    bool whole = strcmp(a->room, "t") == 0 ||
                 strcmp(a->credential, FZR_CREDENTIAL) == 0 ||
                 gm_token(a->room, a->token);
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(reply, "result");
    for (int i = 0; whole && i < NROOMS; i++) {
        if (strcmp(a->room, b[i].id) == 0) {
            FZ_CHECK(
                pc_json_equal(cJSON_GetObjectItemCaseSensitive(res, "state"),
                              pc_room_state(b[i].room)),
                "a whole snapshot of %s is not the state: %.*s", b[i].id,
                (int)len, body);
        }
    }
}

/* The (token, action_id) pairs of this input's actions so far: the
 * server answers a repeat with the first reply, as it was then. */
static char acted[MSG_MAX][144];
static int nacted;

static bool repeat_action(const asked *a)
{
    char key[144];
    snprintf(key, sizeof key, "%s|%s", a->token, a->action_id);
    for (int i = 0; i < nacted; i++) {
        if (strcmp(acted[i], key) == 0) {
            return true;
        }
    }
    if (nacted < MSG_MAX) {
        strcpy(acted[nacted++], key);
    }
    return false;
}

/* expected_seq: what an ok action and a conflict say of the room. */
static void concurrency(const asked *a, const cJSON *reply, const char *text,
                        const before *b)
{
    if (strcmp(a->op, "action") != 0 || repeat_action(a)) {
        return;
    }
    for (int i = 0; i < NROOMS; i++) {
        if (strcmp(a->room, b[i].id) != 0) {
            continue;
        }
        const cJSON *err = cJSON_GetObjectItemCaseSensitive(reply, "error");
        const char *code =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(err, "code"));
        if (code != NULL && strcmp(code, "conflict") == 0) {
            const cJSON *s = cJSON_GetObjectItemCaseSensitive(err, "seq");
            FZ_CHECK(cJSON_IsNumber(s) && s->valuedouble == (double)b[i].seq,
                     "a conflict without the room's seq: %s", text);
        }
        if (!is_ok(reply) || !a->has_expected) {
            continue;
        }
        bool strict = strict_type(b[i].room, a->type);
        FZ_CHECK(a->expected <= b[i].seq,
                 "an action from the future was applied: %s", text);
        FZ_CHECK(!strict || a->expected == b[i].seq,
                 "a stale strict action was applied: %s", text);
    }
}

static void take_all(before *b)
{
    for (int i = 0; i < NROOMS; i++) {
        take(&b[i], rooms[i]);
    }
}

static void drop_all(before *b)
{
    for (int i = 0; i < NROOMS; i++) {
        drop(&b[i]);
    }
}

static void one(const char *raw, size_t rawlen)
{
    size_t len;
    char *body = fzr_substitute(raw, rawlen, &len);
    asked a;
    what(body, len, &a);
    if (nbodies < MSG_MAX) {
        bodies[nbodies].body = body;
        bodies[nbodies].len = len;
        strcpy(bodies[nbodies].token, a.token);
        strcpy(bodies[nbodies].credential, a.credential);
        nbodies++;
    }
    before b[NROOMS];
    take_all(b);

    char *text = NULL;
    size_t n = 0;
    cJSON *reply = answer(body, len, &text, &n);
    if (verbose) {
        fprintf(stderr, "> %.*s\n< %.*s\n", (int)len, body, (int)n, text);
    }
    bool mutating = is_ok(reply) &&
                    (strcmp(a.op, "join") == 0 || strcmp(a.op, "action") == 0);
    for (int i = 0; i < NROOMS; i++) {
        if (!mutating || strcmp(a.room, b[i].id) != 0) {
            FZ_CHECK(unchanged(&b[i]), "room %s changed by %s: %.*s -> %s",
                     b[i].id, a.op, (int)len, body, text);
        }
        replayed(&b[i]);
    }
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(reply, "result");
    for (int i = 0; i < NROOMS && strcmp(a.op, "action") == 0 && is_ok(reply);
         i++) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(res, "seq");
        if (strcmp(a.room, b[i].id) == 0 &&
            pc_room_seq(b[i].room) != b[i].seq) {
            FZ_CHECK(cJSON_IsNumber(s) &&
                         s->valuedouble == (double)pc_room_seq(b[i].room),
                     "action reply seq is not the room's: %s", text);
        }
    }
    whole_snapshots(&a, body, len, reply, b);
    concurrency(&a, reply, text, b);
    tokens(body, len, text, n);
    secrets(body, len, text, n);
    if (strcmp(a.op, "join") == 0) {
        fzr_note_join(reply);
    }
    cJSON_Delete(reply);
    cJSON_free(text);

    /* Timers of 0 ms and broadcasts; then the rooms again. Only a room
     * with its phase timer armed can change on its own: the others just
     * keep their seq (which saves copying them). */
    drop_all(b);
    bool timed[NROOMS];
    for (int i = 0; i < NROOMS; i++) {
        int64_t due;
        pc_room *r = pc_server_find_room(fzr_server(), rooms[i]);
        timed[i] = pc_room_timeout_deadline(r, &due);
        if (timed[i]) {
            take(&b[i], rooms[i]);
        } else {
            b[i].room = r;
            b[i].seq = pc_room_seq(r);
        }
    }
    FZ_CHECK(pc_server_run_once(fzr_server(), 0) == PC_OK,
             "pc_server_run_once failed");
    for (int i = 0; i < NROOMS; i++) {
        if (timed[i]) {
            replayed(&b[i]);
            drop(&b[i]);
        } else {
            FZ_CHECK(pc_room_seq(b[i].room) == b[i].seq,
                     "room %s changed with no timer armed", rooms[i]);
        }
    }
    fzr_broadcast(broadcast_msg, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fzr_reset();
    nacted = nbodies = 0;
    const char *p = (const char *)data, *end = p + size;
    for (int i = 0; i < MSG_MAX && p <= end; i++) {
        size_t n = fz_find(p, (size_t)(end - p), SEP, SEP_LEN);
        one(p, n);
        p += n + SEP_LEN;
    }
    /* Late broadcasts of this input, before the next one's reset. */
    fzr_broadcast(broadcast_msg, NULL);
    for (int i = 0; i < nbodies; i++) {
        free((char *)bodies[i].body);
    }
    return 0;
}
