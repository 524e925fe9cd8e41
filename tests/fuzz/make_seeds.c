/*
 * make_seeds.c - pc-fuzz-make-seeds: write the checked-in seed corpus of
 * every fuzz target into DIR/<target>/ (tests/fuzz/corpus; run it through
 * tests/fuzz/make-seeds, which builds it).
 *
 * Hostile shapes (for every target that parses JSON): nesting depths
 * 31/32/33/63/64/65/999/1000/1001 and 100,000, a 10,000-digit number,
 * escapes cut at the end of the buffer, invalid UTF-8, duplicate keys.
 * Real traffic: request bodies of every op, played through the same
 * server fuzz_request uses (reqhost.c: so a whole tictactoe game, the
 * piles deal and declarations and an arena session with its game master
 * replay), expected_seq of every shape (valid, stale, future, 2^53, 2^64
 * and beyond, negative, fractional, a string) on strict and plain
 * actions, game-master joins and snapshots with right, wrong, absent and
 * oddly sized or shaped credentials, merge patches from the rooms'
 * histories and RFC 7386's examples, and change logs written by
 * pc_changelog_create (tictactoe, piles; whole, framed, torn). The output
 * depends only on this file and the project's code: seeds, clocks and
 * choices are fixed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/changelog.h"
#include "phasecast/history.h"
#include "phasecast/room.h"
#include "piles/bot.h"
#include "piles/piles.h"
#include "tictactoe/tictactoe.h"

#include "fuzz.h"
#include "arenagame.h"
#include "reqhost.h"
#include "seeds.h"

static const char *root;

void add(str *s, const void *p, size_t n)
{
    if (s->n + n + 1 > s->cap) {
        s->cap = (s->n + n + 1) * 2;
        s->p = realloc(s->p, s->cap);
        FZ_CHECK(s->p != NULL, "out of memory");
    }
    memcpy(s->p + s->n, p, n);
    s->n += n;
    s->p[s->n] = '\0';
}

void addf(str *s, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    FZ_CHECK(n >= 0 && (size_t)n < sizeof buf, "addf overflow");
    add(s, buf, (size_t)n);
}

void rep(str *s, const char *p, size_t times)
{
    for (size_t i = 0; i < times; i++) {
        add(s, p, strlen(p));
    }
}

void put(const char *target, const char *name, const void *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, target);
    FZ_CHECK(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s", path);
    snprintf(path, sizeof path, "%s/%s/%s", root, target, name);
    FILE *f = fopen(path, "wb");
    FZ_CHECK(f != NULL, "cannot write %s", path);
    FZ_CHECK(n == 0 || fwrite(p, 1, n, f) == n, "short write %s", path);
    FZ_CHECK(fclose(f) == 0, "close %s", path);
}

static void puts_(const char *target, const char *name, const char *text)
{
    put(target, name, text, strlen(text));
}

/* ---- hostile JSON shapes ------------------------------------------------ */

static const int depths[] = {31, 32, 33, 63, 64, 65, 999, 1000, 1001, 100000};

static str nest_array(int d)
{
    str s = {0};
    rep(&s, "[", (size_t)d);
    rep(&s, "]", (size_t)d);
    return s;
}

static str nest_object(int d)
{
    str s = {0};
    rep(&s, "{\"a\":", (size_t)d - 1);
    add(&s, "{}", 2);
    rep(&s, "}", (size_t)d - 1);
    return s;
}

static const struct {
    const char *name;
    const char *text;
} shapes[] = {
    {"cut-backslash", "\"\\"},
    {"cut-u", "\"\\u"},
    {"cut-u2", "\"\\u00"},
    {"cut-high-surrogate", "\"\\ud83d"},
    {"cut-after-high", "\"\\ud83d\\"},
    {"cut-low-u", "\"\\ud83d\\u"},
    {"cut-low3", "\"\\ud83d\\ude0"},
    {"cut-escaped-quote", "\"abc\\\""},
    {"cut-key-escape", "{\"a\\"},
    {"cut-in-object", "{\"a\":\"\\u12"},
    {"lone-low-surrogate", "\"\\ude00\""},
    {"surrogate-pair",
     "[\"\\ud83d\\ude00\",\"\\u00e9\",\"\\/\\b\\f\\n\\r\\t\"]"},
    {"escaped-nul", "[\"a\\u0000b\"]"},
    {"utf8-ff", "[\"\xff\"]"},
    {"utf8-overlong", "[\"\xc0\xaf\"]"},
    {"utf8-surrogate", "[\"\xed\xa0\x80\"]"},
    {"utf8-truncated", "[\"\xe2\x82\"]"},
    {"utf8-5byte", "[\"\xf8\x88\x80\x80\x80\"]"},
    {"utf8-above-max", "[\"\xf4\x90\x80\x80\"]"},
    {"utf8-key", "{\"\xc3\x28\":1}"},
    {"utf8-valid",
     "{\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\":\"\xe2\x82\xac\"}"},
    {"dup-keys", "{\"a\":1,\"a\":2}"},
    {"dup-keys-nested", "{\"a\":{\"b\":1,\"c\":2,\"b\":null}}"},
    {"dup-keys-escaped", "{\"a\":1,\"\\u0061\":2}"},
    {"bom", "\xef\xbb\xbf{}"},
    {"leading-zero", "[01]"},
    {"dot-end", "[1.]"},
    {"exp-big", "[1e400,-1e400,1e-400]"},
    {"numbers", "[0,-0,1.5e3,-2E-2,9007199254740993,1.7976931348623157e308]"},
    {"trailing", "{} x"},
    {"trailing-ws", " \t\r\n{}\n"},
    {"raw-tab", "[\"a\tb\"]"},
    {"raw-control", "[\"a\x01b\"]"},
    {"nul-inside", "{\"a\":1}\0{}"},
    {"empty", ""},
    {"literals", "[true,false,null,tru,nul]"},
    {"key-control", "{\"a\\u0001\":1}"},
    {"long-string", NULL}, /* made below */
};

static void json_shapes(const char *target, const char *prefix)
{
    char name[128];
    for (size_t i = 0; i < sizeof depths / sizeof depths[0]; i++) {
        str a = nest_array(depths[i]), o = nest_object(depths[i]);
        snprintf(name, sizeof name, "%sdepth-%d-array", prefix, depths[i]);
        put(target, name, a.p, a.n);
        if (depths[i] <= 1001) {
            snprintf(name, sizeof name, "%sdepth-%d-object", prefix, depths[i]);
            put(target, name, o.p, o.n);
        }
        free(a.p);
        free(o.p);
    }
    str num = {0};
    add(&num, "[", 1);
    rep(&num, "1234567890", 1000);
    add(&num, ",-0.", 4);
    rep(&num, "0987654321", 1000);
    add(&num, "]", 1);
    snprintf(name, sizeof name, "%snumber-10000-digits", prefix);
    put(target, name, num.p, num.n);
    free(num.p);
    str ls = {0};
    add(&ls, "{\"s\":\"", 6);
    rep(&ls, "x", 65537);
    add(&ls, "\"}", 2);
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        snprintf(name, sizeof name, "%s%s", prefix, shapes[i].name);
        if (shapes[i].text == NULL) {
            put(target, name, ls.p, ls.n);
        } else if (strcmp(shapes[i].name, "nul-inside") == 0) {
            put(target, name, shapes[i].text, 9);
        } else {
            puts_(target, name, shapes[i].text);
        }
    }
    free(ls.p);
}

/* ---- requests ----------------------------------------------------------- */

static str req_seed;

/* Answer one body (with placeholders) as fuzz_request would, remember it
 * in the seed being built, and return the parsed reply. */
cJSON *ask(const char *fmt, ...)
{
    char body[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    FZ_CHECK(n > 0 && (size_t)n < sizeof body, "body too long");
    if (req_seed.n > 0) {
        add(&req_seed, "\0\n", 2);
    }
    add(&req_seed, body, (size_t)n);
    size_t len, rlen;
    char *sub = fzr_substitute(body, (size_t)n, &len);
    char *text = fzr_answer(sub, len, &rlen);
    cJSON *reply = cJSON_ParseWithLength(text, rlen);
    FZ_CHECK(reply != NULL, "reply does not parse");
    if (strstr(body, "\"op\":\"join\"") != NULL) {
        fzr_note_join(reply);
    }
    free(sub);
    cJSON_free(text);
    FZ_CHECK(pc_server_run_once(fzr_server(), 0) == PC_OK, "run_once");
    return reply;
}

void ask_ok(const char *body)
{
    cJSON *r = ask("%s", body);
    FZ_CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok")),
             "seed request refused: %s", body);
    cJSON_Delete(r);
}

void req_begin(void)
{
    fzr_reset();
    free(req_seed.p);
    req_seed = (str){0};
}

void req_end(const char *name)
{
    put("fuzz_request", name, req_seed.p, req_seed.n);
}

void req_free(void)
{
    free(req_seed.p);
    req_seed = (str){0};
}

static void request_seeds(void)
{
    static const char *singles[][2] = {
        {"ping", "{\"v\":1,\"op\":\"ping\"}"},
        {"info", "{\"v\":1,\"op\":\"info\"}"},
        {"join-spectator",
         "{\"v\":1,\"op\":\"join\",\"room\":\"t\",\"role\":\"spectator\"}"},
        {"join-nonce",
         "{\"v\":1,\"op\":\"join\",\"room\":\"p\",\"role\":\"player\",\"name\":"
         "\"bob\",\"nonce\":\"nonce-0123456789abcdef\"}\0\n"
         "{\"v\":1,\"op\":\"join\",\"room\":\"p\",\"role\":\"player\",\"name\":"
         "\"bob\",\"nonce\":\"nonce-0123456789abcdef\"}"},
        {"join-taken", "{\"v\":1,\"op\":\"join\",\"room\":\"t\",\"role\":"
                       "\"player\",\"name\":\"alice\"}"},
        {"join-bad-name", "{\"v\":1,\"op\":\"join\",\"room\":\"t\",\"role\":"
                          "\"player\",\"name\":\"a b\"}"},
        {"snapshot-public", "{\"v\":1,\"op\":\"snapshot\",\"room\":\"p\"}"},
        {"snapshot-player",
         "{\"v\":1,\"op\":\"snapshot\",\"room\":\"p\",\"token\":\"@P@\"}"},
        {"snapshot-bad-token",
         "{\"v\":1,\"op\":\"snapshot\",\"room\":\"t\",\"token\":"
         "\"0123456789abcdef0123456789abcdef\"}"},
        {"changes",
         "{\"v\":1,\"op\":\"changes\",\"room\":\"t\",\"since\":0,\"limit\":1}"},
        {"changes-player", "{\"v\":1,\"op\":\"changes\",\"room\":\"p\","
                           "\"since\":0,\"token\":\"@P@\"}"},
        {"changes-future", "{\"v\":1,\"op\":\"changes\",\"room\":\"t\","
                           "\"since\":9007199254740992}"},
        {"changes-fraction",
         "{\"v\":1,\"op\":\"changes\",\"room\":\"t\",\"since\":0.5}"},
        {"inspect", "{\"v\":1,\"op\":\"inspect\",\"room\":\"p\",\"credential\":"
                    "\"" FZR_CREDENTIAL "\",\"since\":0,\"limit\":5}"},
        {"inspect-no-since", "{\"v\":1,\"op\":\"inspect\",\"room\":\"t\","
                             "\"credential\":\"" FZR_CREDENTIAL "\"}"},
        {"inspect-wrong", "{\"v\":1,\"op\":\"inspect\",\"room\":\"p\","
                          "\"credential\":\"wrong-credential-123\"}"},
        {"inspect-none", "{\"v\":1,\"op\":\"inspect\",\"room\":\"p\"}"},
        {"action-waiting",
         "{\"v\":1,\"op\":\"action\",\"room\":\"t\",\"token\":\"@T@\",\"action_"
         "id\":\"x\",\"type\":\"move\",\"payload\":{\"cell\":0}}"},
        {"action-repeat",
         "{\"v\":1,\"op\":\"action\",\"room\":\"p\",\"token\":\"@P@\",\"action_"
         "id\":\"same\",\"type\":\"join\"}\0\n"
         "{\"v\":1,\"op\":\"action\",\"room\":\"p\",\"token\":\"@P@\",\"action_"
         "id\":\"same\",\"type\":\"join\"}"},
        {"action-no-token", "{\"v\":1,\"op\":\"action\",\"room\":\"t\","
                            "\"action_id\":\"x\",\"type\":\"move\"}"},
        {"unknown-op", "{\"v\":1,\"op\":\"launch\"}"},
        {"unknown-room", "{\"v\":1,\"op\":\"snapshot\",\"room\":\"nowhere\"}"},
        {"not-object", "[{\"op\":\"ping\"}]"},
        {"no-op", "{\"v\":1}"},
        {"op-not-string", "{\"v\":1,\"op\":7}"},
        {"deep-payload", NULL},
    };
    for (size_t i = 0; i < sizeof singles / sizeof singles[0]; i++) {
        const char *b = singles[i][1];
        size_t n;
        str deep = {0};
        if (b == NULL) {
            static const char head[] =
                "{\"v\":1,\"op\":\"action\",\"room\":\"t\",\"token\":\"@T@\","
                "\"action_id\":\"d\",\"type\":\"move\",\"payload\":";
            add(&deep, head, sizeof head - 1);
            str a = nest_object(33);
            add(&deep, a.p, a.n);
            free(a.p);
            add(&deep, "}", 1);
            b = deep.p;
            n = deep.n;
        } else {
            n = strlen(b);
            /* the two-body seeds hold the separator's NUL */
            const char *sep = b + n + 1;
            if (strncmp(singles[i][0], "join-nonce", 10) == 0 ||
                strncmp(singles[i][0], "action-repeat", 13) == 0) {
                n += 2 + strlen(sep + 1);
            }
        }
        put("fuzz_request", singles[i][0], b, n);
        free(deep.p);
    }
    json_shapes("fuzz_request", "body-");

    /* A whole tictactoe game: X wins on the diagonal. */
    req_begin();
    ask_ok("{\"v\":1,\"op\":\"join\",\"room\":\"t\",\"role\":\"player\","
           "\"name\":\"bob\"}");
    static const int cells[] = {4, 0, 2, 6, 3, 5, 1, 7, 8};
    for (int i = 0; i < 9; i++) {
        cJSON *r =
            ask("{\"v\":1,\"op\":\"action\",\"room\":\"t\",\"token\":\"%s\","
                "\"action_id\":\"m%d\",\"type\":\"move\",\"payload\":{\"cell\":"
                "%d}}",
                i % 2 == 0 ? "@T@" : "@1@", i, cells[i]);
        cJSON_Delete(r);
    }
    ask_ok("{\"v\":1,\"op\":\"changes\",\"room\":\"t\",\"since\":2}");
    ask_ok("{\"v\":1,\"op\":\"snapshot\",\"room\":\"t\",\"token\":\"@1@\"}");
    req_end("game-tictactoe");

    /* piles: four players, the deal, every declaration, the first turn. */
    req_begin();
    static const char *names[] = {"alice", "bob", "carol", "dave"};
    static const char *marks[] = {"@P@", "@1@", "@2@", "@3@"};
    for (int i = 1; i < 4; i++) {
        char b[256];
        snprintf(b, sizeof b,
                 "{\"v\":1,\"op\":\"join\",\"room\":\"p\",\"role\":\"player\","
                 "\"name\":\"%s\"}",
                 names[i]);
        ask_ok(b);
    }
    pc_room *room = pc_server_find_room(fzr_server(), "p");
    for (int step = 0; step < 12; step++) {
        int acted = 0;
        for (int i = 0; i < 4 && !acted; i++) {
            const char *type;
            cJSON *payload = NULL;
            if (piles_bot_choose(pc_room_state(room), names[i], (uint64_t)step,
                                 &type, &payload) != PC_OK) {
                continue;
            }
            char *pt = cJSON_PrintUnformatted(payload);
            cJSON *r = ask(
                "{\"v\":1,\"op\":\"action\",\"room\":\"p\",\"token\":\"%s\","
                "\"action_id\":\"s%d\",\"type\":\"%s\",\"payload\":%s}",
                marks[i], step, type, pt);
            FZ_CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok")),
                     "piles bot action refused");
            cJSON_Delete(r);
            cJSON_free(pt);
            cJSON_Delete(payload);
            acted = 1;
        }
        FZ_CHECK(acted, "no piles player could act at step %d", step);
    }
    ask_ok("{\"v\":1,\"op\":\"snapshot\",\"room\":\"p\",\"token\":\"@2@\"}");
    ask_ok("{\"v\":1,\"op\":\"changes\",\"room\":\"p\",\"since\":4,\"token\":"
           "\"@3@\"}");
    ask_ok("{\"v\":1,\"op\":\"inspect\",\"room\":\"p\",\"credential\":"
           "\"" FZR_CREDENTIAL "\",\"since\":3}");
    req_end("game-piles");
    free(req_seed.p);
    req_seed = (str){0};
}

/* ---- merge patches ------------------------------------------------------ */

static void merge_pair(const char *name, const cJSON *state, const cJSON *patch)
{
    char *s = NULL, *p = NULL;
    FZ_CHECK(pc_canon_print(state, &s, NULL) == PC_OK &&
                 pc_canon_print(patch, &p, NULL) == PC_OK,
             "print");
    str o = {0};
    addf(&o, "%s\n%s", s, p);
    put("fuzz_merge", name, o.p, o.n);
    free(o.p);
    pc_free(s);
    pc_free(p);
}

/* Every change of room's history as (data before, patch). */
static void history_pairs(pc_room *room, const char *game)
{
    for (uint64_t seq = pc_history_first_seq(room);
         seq != 0 && seq <= pc_room_seq(room); seq++) {
        const pc_change *c;
        cJSON *before = NULL;
        FZ_CHECK(pc_history_get(room, seq, &c) == PC_OK &&
                     pc_history_state_at(room, seq - 1, &before) == PC_OK,
                 "history %llu", (unsigned long long)seq);
        char name[64];
        snprintf(name, sizeof name, "%s-change-%02llu", game,
                 (unsigned long long)seq);
        merge_pair(name, cJSON_GetObjectItemCaseSensitive(before, "data"),
                   c->patch);
        cJSON_Delete(before);
    }
}

static void merge_seeds(void)
{
    /* RFC 7386 appendix A, state and patch per line. */
    static const char *rfc[] = {
        "{\"a\":\"b\"}\n{\"a\":\"c\"}",
        "{\"a\":\"b\"}\n{\"b\":\"c\"}",
        "{\"a\":\"b\"}\n{\"a\":null}",
        "{\"a\":\"b\",\"b\":\"c\"}\n{\"a\":null}",
        "{\"a\":[\"b\"]}\n{\"a\":\"c\"}",
        "{\"a\":\"c\"}\n{\"a\":[\"b\"]}",
        "{\"a\":{\"b\":\"c\"}}\n{\"a\":{\"b\":\"d\",\"c\":null}}",
        "{\"a\":[{\"b\":\"c\"}]}\n{\"a\":[1]}",
        "[\"a\",\"b\"]\n[\"c\",\"d\"]",
        "{\"a\":\"b\"}\n[\"c\"]",
        "{\"a\":\"foo\"}\nnull",
        "{\"a\":\"foo\"}\n\"bar\"",
        "{\"e\":null}\n{\"a\":1}",
        "[1,2]\n{\"a\":\"b\",\"c\":null}",
        "{}\n{\"a\":{\"bb\":{\"ccc\":null}}}",
    };
    for (size_t i = 0; i < sizeof rfc / sizeof rfc[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "rfc7386-%02zu", i + 1);
        puts_("fuzz_merge", name, rfc[i]);
    }
    json_shapes("fuzz_merge", "patch-");
    /* Deep state against deep patch, at and around the depth limit. */
    static const int d[][2] = {{32, 32}, {31, 33}, {33, 2}, {32, 1}, {2, 64}};
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        str a = nest_object(d[i][0]), b = nest_object(d[i][1]), o = {0};
        add(&o, a.p, a.n);
        add(&o, "\n", 1);
        add(&o, b.p, b.n);
        char name[48];
        snprintf(name, sizeof name, "depth-%d-by-%d", d[i][0], d[i][1]);
        put("fuzz_merge", name, o.p, o.n);
        free(a.p);
        free(b.p);
        free(o.p);
    }
    /* The rooms' real patches (the request seeds just played them). */
    req_begin();
    ask_ok("{\"v\":1,\"op\":\"join\",\"room\":\"t\",\"role\":\"player\","
           "\"name\":\"bob\"}");
    static const int cells[] = {4, 0, 2, 6, 3, 5, 1, 7, 8};
    for (int i = 0; i < 9; i++) {
        cJSON_Delete(
            ask("{\"v\":1,\"op\":\"action\",\"room\":\"t\",\"token\":\"%s\","
                "\"action_id\":\"m%d\",\"type\":\"move\",\"payload\":{\"cell\":"
                "%d}}",
                i % 2 == 0 ? "@T@" : "@1@", i, cells[i]));
    }
    history_pairs(pc_server_find_room(fzr_server(), "t"), "tictactoe");
    static const char *names[] = {"bob", "carol", "dave"};
    for (int i = 0; i < 3; i++) {
        char b[160];
        snprintf(b, sizeof b,
                 "{\"v\":1,\"op\":\"join\",\"room\":\"p\",\"role\":\"player\","
                 "\"name\":\"%s\"}",
                 names[i]);
        ask_ok(b);
    }
    history_pairs(pc_server_find_room(fzr_server(), "p"), "piles");
    free(req_seed.p);
    req_seed = (str){0};
}

/* ---- change logs -------------------------------------------------------- */

static int64_t log_clock(void *arg)
{
    (void)arg;
    return FZR_T0;
}

static str slurp(const char *path)
{
    str s = {0};
    FILE *f = fopen(path, "rb");
    FZ_CHECK(f != NULL, "open %s", path);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        add(&s, buf, n);
    }
    fclose(f);
    return s;
}

/* The log's seeds: whole (mode 0), framed payloads (mode 1), torn. */
static void log_seeds(const char *name, const str *file)
{
    char n[64];
    str o = {0};
    add(&o, "\0", 1);
    add(&o, file->p, file->n);
    snprintf(n, sizeof n, "%s-whole", name);
    put("fuzz_logframe", n, o.p, o.n);
    snprintf(n, sizeof n, "%s-torn", name);
    put("fuzz_logframe", n, o.p, o.n - 7);
    free(o.p);
    o = (str){0};
    add(&o, "\1", 1);
    size_t off = 16; /* the file header */
    while (off + 8 <= file->n) {
        const unsigned char *h = (const unsigned char *)file->p + off;
        size_t len = (size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16 |
                     (size_t)h[3] << 24;
        if (off > 16) {
            add(&o, "\n", 1);
        }
        add(&o, file->p + off + 8, len);
        off += 8 + len;
    }
    snprintf(n, sizeof n, "%s-framed", name);
    put("fuzz_logframe", n, o.p, o.n);
    free(o.p);
}

static void logged_room(const pc_game *game, void *arg, const char *tmp,
                        pc_room **room, pc_changelog **log)
{
    pc_room_options ro;
    pc_room_options_init(&ro);
    ro.id = "fz";
    ro.seed = 7;
    ro.seed_set = true;
    ro.clock = log_clock;
    ro.arg = arg;
    pc_changelog_options o;
    pc_changelog_options_init(&o);
    o.dir = tmp;
    o.fsync = PC_FSYNC_NONE;
    pc_error err = {0};
    FZ_CHECK(pc_room_new(game, &ro, room) == PC_OK &&
                 pc_changelog_create(&o, *room, log, &err) == PC_OK &&
                 pc_room_start(*room) == PC_OK,
             "logged room: %s", err.message);
}

static void act(pc_room *room, const char *player, const char *type,
                const char *payload)
{
    cJSON *p = payload != NULL ? cJSON_Parse(payload) : NULL;
    pc_action a = {.player = player, .type = type, .payload = p};
    FZ_CHECK(pc_room_action(room, &a, NULL, NULL) == PC_OK, "%s %s refused",
             player, type);
    cJSON_Delete(p);
}

static void logframe_seeds(void)
{
    char tmp[] = "/tmp/pc-fuzz-seeds.XXXXXX", path[256];
    FZ_CHECK(mkdtemp(tmp) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/fz.pclog", tmp);
    pc_room *room;
    pc_changelog *log;

    logged_room(tictactoe_game(), NULL, tmp, &room, &log);
    act(room, "alice", "join", NULL);
    act(room, "bob", "join", NULL);
    static const int cells[] = {4, 0, 2, 6, 3, 5, 1, 7, 8};
    for (int i = 0; i < 9 && strcmp(pc_room_phase(room), "FINISHED") != 0;
         i++) {
        char pl[32];
        snprintf(pl, sizeof pl, "{\"cell\":%d}", cells[i]);
        act(room, i % 2 == 0 ? "alice" : "bob", "move", pl);
    }
    pc_room_free(room);
    pc_changelog_free(log);
    str f = slurp(path);
    log_seeds("tictactoe", &f);
    free(f.p);
    unlink(path);

    piles_config cfg;
    piles_config_init(&cfg);
    logged_room(piles_game(), &cfg, tmp, &room, &log);
    static const char *names[] = {"alice", "bob", "carol", "dave"};
    for (int i = 0; i < 4; i++) {
        act(room, names[i], "join", NULL);
    }
    FZ_CHECK(pc_room_fire_timeout(room) == PC_OK, "deal"); /* the deal */
    for (int step = 0; step < 4; step++) {
        for (int i = 0; i < 4; i++) {
            const char *type;
            cJSON *payload = NULL;
            if (piles_bot_choose(pc_room_state(room), names[i], 1, &type,
                                 &payload) == PC_OK) {
                pc_action a = {
                    .player = names[i], .type = type, .payload = payload};
                FZ_CHECK(pc_room_action(room, &a, NULL, NULL) == PC_OK,
                         "piles bot refused");
                cJSON_Delete(payload);
                break;
            }
        }
    }
    pc_room_free(room);
    pc_changelog_free(log);
    f = slurp(path);
    log_seeds("piles", &f);
    free(f.p);
    unlink(path);
    rmdir(tmp);
    put("fuzz_logframe", "empty", "", 0);
    put("fuzz_logframe", "header-only", "\0PHASELOG\1\0\0\0", 13);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: pc-fuzz-make-seeds CORPUS_DIR\n");
        return 2;
    }
    root = argv[1];
    arenagame_init_fixed(); /* the same arena states every time */
    fzr_init("seeds");
    json_shapes("fuzz_json", "");
    request_seeds();
    arena_seeds();
    client_seeds();
    merge_seeds();
    logframe_seeds();
    return 0;
}
