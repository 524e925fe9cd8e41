/*
 * fuzz_request.c - libFuzzer target: request-channel message bodies
 * answered by the server's request service (transport/requests.h,
 * pc__requests_answer), exactly as the REP socket hands them over.
 *
 The server and its rooms are reqhost.h's: for every input, a fresh
 * tictactoe room "t" and piles room "p", each with "alice" joined, on one
 * CALLER-OWNED server per process. Tokens are random, so bodies name them
 * by placeholders (@T@, @P@, @L@, @1@..@8@; see reqhost.h) replaced before
 * answering. An input holds up
 * to MSG_MAX bodies separated by SEP ("\0\n"; a body with a NUL byte is
 * invalid JSON anyway); each is answered from its own exact-size buffer,
 * then the loop runs once without waiting (broadcasts, 0 ms timers).
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
 *  - a tictactoe snapshot is the room's state;
 *  - alice's tokens appear in a reply no more often than in its request
 *    (error messages may echo the client's own words, nothing more).
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
#include "reqhost.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define SEP     "\0\n"
#define SEP_LEN 2
#define MSG_MAX 64

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

/* The request's "op" and "room", when it is an object that has them. */
static void what(const char *body, size_t len, char *op, char *room)
{
    cJSON *req = NULL;
    op[0] = room[0] = '\0';
    if (pc_json_parse(body, len, NULL, &req, NULL) != PC_OK) {
        return;
    }
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(req, "op");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(req, "room");
    if (cJSON_IsString(o) && strlen(o->valuestring) < 16) {
        strcpy(op, o->valuestring);
    }
    if (cJSON_IsString(r) && strlen(r->valuestring) < 16) {
        strcpy(room, r->valuestring);
    }
    cJSON_Delete(req);
}

static void one(const char *raw, size_t rawlen)
{
    size_t len;
    char *body = fzr_substitute(raw, rawlen, &len);
    char op[16], room[16];
    what(body, len, op, room);
    before b[2];
    take(&b[0], "t");
    take(&b[1], "p");

    char *text = NULL;
    size_t n = 0;
    cJSON *reply = answer(body, len, &text, &n);
    if (verbose) {
        fprintf(stderr, "> %.*s\n< %.*s\n", (int)len, body, (int)n, text);
    }
    bool mutating =
        is_ok(reply) && (strcmp(op, "join") == 0 || strcmp(op, "action") == 0);
    for (int i = 0; i < 2; i++) {
        if (!mutating || strcmp(room, b[i].id) != 0) {
            FZ_CHECK(unchanged(&b[i]), "room %s changed by %s: %.*s -> %s",
                     b[i].id, op, (int)len, body, text);
        }
        replayed(&b[i]);
    }
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(reply, "result");
    for (int i = 0; i < 2 && strcmp(op, "action") == 0 && is_ok(reply); i++) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(res, "seq");
        if (strcmp(room, b[i].id) == 0 && pc_room_seq(b[i].room) != b[i].seq) {
            FZ_CHECK(cJSON_IsNumber(s) &&
                         s->valuedouble == (double)pc_room_seq(b[i].room),
                     "action reply seq is not the room's: %s", text);
        }
    }
    if (strcmp(op, "snapshot") == 0 && strcmp(room, "t") == 0 && is_ok(reply)) {
        FZ_CHECK(pc_json_equal(cJSON_GetObjectItemCaseSensitive(res, "state"),
                               pc_room_state(b[0].room)),
                 "a tictactoe snapshot is not the state");
    }
    const char *tt = fzr_token_t(), *tp = fzr_token_p();
    FZ_CHECK(count(text, n, tt) <= count(body, len, tt) &&
                 count(text, n, tp) <= count(body, len, tp),
             "a reply leaks a token: %.*s -> %s", (int)len, body, text);
    if (strcmp(op, "join") == 0) {
        fzr_note_join(reply);
    }
    cJSON_Delete(reply);
    cJSON_free(text);
    free(body);

    /* Timers of 0 ms and broadcasts; then the rooms again. */
    drop(&b[0]);
    drop(&b[1]);
    take(&b[0], "t");
    take(&b[1], "p");
    FZ_CHECK(pc_server_run_once(fzr_server(), 0) == PC_OK,
             "pc_server_run_once failed");
    replayed(&b[0]);
    replayed(&b[1]);
    drop(&b[0]);
    drop(&b[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fzr_reset();
    const char *p = (const char *)data, *end = p + size;
    for (int i = 0; i < MSG_MAX && p <= end; i++) {
        size_t n = fz_find(p, (size_t)(end - p), SEP, SEP_LEN);
        one(p, n);
        p += n + SEP_LEN;
    }
    return 0;
}
