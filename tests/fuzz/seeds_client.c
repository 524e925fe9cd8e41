/*
 * seeds_client.c - pc-fuzz-make-seeds' fuzz_client seeds: real sessions
 * recorded, not written by hand. For each role (spectator, player, game
 * master) a harnessed client (transport/client/harness.h) follows the
 * arena room g of reqhost.c's server: its requests are answered by the
 * server's own request service, and the server's real broadcast (caught
 * by reqhost's SUB socket) is delivered to it message by message, with a
 * gap, a duplicate, a heartbeat, silence until stale, actions of its own
 * (one refused as stale) and events of every audience. Every reply and
 * message is written down in fuzz_client's framing (fuzz_client.c), so
 * the seed replays the session against the harness alone (and again with
 * an allocation failing in every step, "-faults"). The token a
 * join hands out is replaced by a fixed one in the recording, so the
 * seeds do not change from run to run (the harness ignores requests).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include "phasecast/canon.h"
#include "phasecast/client.h"
#include "phasecast/room.h"
#include "phasecast/server.h"

#include "client/harness.h"
#include "fuzz.h"
#include "reqhost.h"
#include "seeds.h"

#define FIXED_TOKEN "00112233445566778899aabbccddeeff"

/* Record kinds of fuzz_client's framing. */
enum { K_BROADCAST = 0, K_REPLY = 2, K_TIMEOUT = 3, K_TIME = 4, K_ACT = 5 };

/* The session being recorded. */
typedef struct recorder {
    str seed;
    char *last;     /* the reply lent to the client (cJSON_free) */
    char token[33]; /* the real token of the join, once known */
    int64_t now;
    str msgs[32]; /* broadcast messages of room g not yet delivered */
    int nmsgs;
    uint64_t seen; /* the highest seq of the messages already let go */
} recorder;

static void record(recorder *r, unsigned kind, const void *body, size_t n)
{
    FZ_CHECK(n < 65536, "a record of %zu bytes", n);
    unsigned char h[3] = {(unsigned char)kind, (unsigned char)(n & 0xff),
                          (unsigned char)(n >> 8)};
    add(&r->seed, h, 3);
    if (kind == K_BROADCAST || kind == K_REPLY) {
        add(&r->seed, body, n);
    }
}

/* Answer from the real server; record the reply, token made fixed. */
static pc_err rec_exchange(const char *req, size_t len, const char **body,
                           size_t *body_len, void *arg)
{
    recorder *r = arg;
    cJSON_free(r->last);
    size_t n = 0;
    r->last = fzr_answer(req, len, &n);
    cJSON *reply = cJSON_ParseWithLength(r->last, n);
    const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(reply, "result"), "token"));
    if (t != NULL && strlen(t) == 32) {
        memcpy(r->token, t, 33);
    }
    cJSON_Delete(reply);
    str copy = {0};
    add(&copy, r->last, n);
    char *at = r->token[0] != '\0' ? strstr(copy.p, r->token) : NULL;
    if (at != NULL) {
        memcpy(at, FIXED_TOKEN, 32);
    }
    record(r, K_REPLY, copy.p, copy.n);
    free(copy.p);
    *body = r->last;
    *body_len = n;
    return PC_OK;
}

static int64_t rec_clock(void *arg)
{
    return ((recorder *)arg)->now;
}

static void keep_msg(const char *msg, size_t len, void *arg)
{
    recorder *r = arg;
    if (len < 2 || memcmp(msg, "g ", 2) != 0) {
        return;
    }
    FZ_CHECK(r->nmsgs < 32, "too many broadcast messages");
    str *s = &r->msgs[r->nmsgs++];
    *s = (str){0};
    add(s, msg, len);
}

/* The highest seq the messages caught so far carry. */
static uint64_t caught_seq(const recorder *r)
{
    uint64_t top = r->seen;
    for (int i = 0; i < r->nmsgs; i++) {
        cJSON *doc = cJSON_Parse(r->msgs[i].p + 2);
        const cJSON *ch;
        cJSON_ArrayForEach(ch, cJSON_GetObjectItemCaseSensitive(doc, "changes"))
        {
            const cJSON *s = cJSON_GetObjectItemCaseSensitive(ch, "seq");
            if (cJSON_IsNumber(s) && s->valuedouble > (double)top) {
                top = (uint64_t)s->valuedouble;
            }
        }
        cJSON_Delete(doc);
    }
    return top;
}

/* Run the loop and wait until g's broadcast reached its seq. */
static void catch_broadcast(recorder *r)
{
    uint64_t want = pc_room_seq(pc_server_find_room(fzr_server(), "g"));
    for (int i = 0; i < 400 && caught_seq(r) < want; i++) {
        FZ_CHECK(pc_server_run_once(fzr_server(), 0) == PC_OK, "run_once");
        fzr_broadcast(keep_msg, r);
        if (caught_seq(r) < want) {
            nng_msleep(5);
        }
    }
    FZ_CHECK(caught_seq(r) >= want, "the broadcast never reached seq %llu",
             (unsigned long long)want);
}

/* Let the caught messages go, remembering how far they reached. */
static void forget(recorder *r)
{
    r->seen = caught_seq(r);
    for (int i = 0; i < r->nmsgs; i++) {
        free(r->msgs[i].p);
    }
    r->nmsgs = 0;
}

/* Forget whatever the broadcast still brings from before. */
static void drain(recorder *r)
{
    for (int quiet = 0; quiet < 4;) {
        FZ_CHECK(pc_server_run_once(fzr_server(), 0) == PC_OK, "run_once");
        fzr_broadcast(keep_msg, r);
        quiet = r->nmsgs == 0 ? quiet + 1 : 0;
        forget(r);
        nng_msleep(10);
    }
}

/* Hand message i (or every one, i < 0) to the client and record it;
 * forget them all. */
static void deliver(recorder *r, pc_client *c, int only)
{
    for (int i = 0; i < r->nmsgs; i++) {
        if (only < 0 || i == only) {
            record(r, K_BROADCAST, r->msgs[i].p + 2, r->msgs[i].n - 2);
            FZ_CHECK(pc__client_deliver(c, r->msgs[i].p, r->msgs[i].n) == PC_OK,
                     "the client refused a real message");
        }
    }
    forget(r);
}

static void heartbeat(recorder *r, pc_client *c)
{
    char hb[256];
    int n = snprintf(
        hb, sizeof hb,
        "g {\"v\":1,\"type\":\"heartbeat\",\"room\":\"g\","
        "\"seq\":%llu,\"phase\":\"ROUND\",\"time\":%lld,"
        "\"interval_ms\":1000}",
        (unsigned long long)pc_room_seq(pc_server_find_room(fzr_server(), "g")),
        (long long)FZR_T0);
    record(r, K_BROADCAST, hb + 2, (size_t)n - 2);
    FZ_CHECK(pc__client_deliver(c, hb, (size_t)n) == PC_OK, "heartbeat");
}

static void client_act(recorder *r, pc_client *c, bool expect)
{
    record(r, K_ACT, NULL, expect ? 1 : 2);
    cJSON *payload = cJSON_Parse("{\"target\":\"orc\",\"dmg\":1}");
    cJSON *value = NULL;
    pc_error err = {0};
    if (expect) {
        (void)pc_client_act_expect(c, "hit", payload, pc_client_seq(c), &value,
                                   NULL, &err);
    } else {
        (void)pc_client_act(c, "say", payload, &value, NULL, &err);
    }
    cJSON_Delete(value);
    cJSON_Delete(payload);
}

static void session(pc_client_role role, const char *name)
{
    recorder r;
    memset(&r, 0, sizeof r);
    r.now = 1000000;
    req_begin();
    drain(&r);
    ask_ok("{\"v\":1,\"op\":\"action\",\"room\":\"g\",\"token\":\"@W@\","
           "\"action_id\":\"s1\",\"type\":\"add\",\"payload\":{\"id\":"
           "\"orc\",\"hp\":30}}");
    ask_ok("{\"v\":1,\"op\":\"action\",\"room\":\"g\",\"token\":\"@W@\","
           "\"action_id\":\"s2\",\"type\":\"add\",\"payload\":{\"id\":"
           "\"gob\",\"hp\":9}}");
    drain(&r);
    /* Earlier rooms g (same id) broadcast higher seqs: start afresh. */
    r.seen = pc_room_seq(pc_server_find_room(fzr_server(), "g"));

    unsigned char head = (unsigned char)role;
    add(&r.seed, &head, 1);
    pc_client_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.pub_url = "inproc://fuzz-client-pub";
    cfg.req_url = "inproc://fuzz-client-req";
    cfg.room = "g";
    cfg.role = role;
    cfg.name = name;
    cfg.gm_credential = role == PC_CLIENT_GM ? FZR_GM_CREDENTIAL : NULL;
    cfg.join_nonce = "fuzz-nonce-0123456789";
    cfg.request_attempts = 2;
    pc__client_harness h = {rec_exchange, rec_clock, &r};
    pc_client *c = NULL;
    pc_error err = {0};
    FZ_CHECK(pc__client_open_harnessed(&cfg, &h, &c, &err) == PC_OK,
             "the recording client cannot join: %s", err.message);
    catch_broadcast(&r); /* a player's join is a change */
    deliver(&r, c, -1);

    static const char *steps[] = {
        "{\"v\":1,\"op\":\"action\",\"room\":\"g\",\"token\":\"@G@\","
        "\"action_id\":\"a1\",\"type\":\"hit\",\"payload\":{\"target\":"
        "\"orc\",\"dmg\":4}}",
        "{\"v\":1,\"op\":\"action\",\"room\":\"g\",\"token\":\"@G@\","
        "\"action_id\":\"a2\",\"type\":\"say\",\"payload\":{\"text\":"
        "\"for the realm\"}}",
        "{\"v\":1,\"op\":\"action\",\"room\":\"g\",\"token\":\"@W@\","
        "\"action_id\":\"w1\",\"type\":\"whisper\",\"payload\":{\"to\":"
        "\"carol\",\"data\":{\"hint\":\"the left door\"}}}",
        "{\"v\":1,\"op\":\"action\",\"room\":\"g\",\"token\":\"@W@\","
        "\"action_id\":\"w2\",\"type\":\"note\",\"payload\":{\"text\":"
        "\"the orc flees at 10\"}}",
        "{\"v\":1,\"op\":\"action\",\"room\":\"g\",\"token\":\"@G@\","
        "\"action_id\":\"a3\",\"type\":\"area\",\"payload\":{\"targets\":"
        "[\"orc\",\"gob\"],\"dmg\":2}}",
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        ask_ok(steps[i]);
        catch_broadcast(&r);
        deliver(&r, c, -1);
    }
    /* A gap: the first of two messages is lost. */
    for (int i = 0; i < 2; i++) {
        char b[256];
        snprintf(b, sizeof b,
                 "{\"v\":1,\"op\":\"action\",\"room\":\"g\",\"token\":"
                 "\"@G@\",\"action_id\":\"r%d\",\"type\":\"roll\"}",
                 i);
        ask_ok(b);
        catch_broadcast(&r);
        if (i == 0) {
            forget(&r);
        }
    }
    deliver(&r, c, -1);
    /* The same message twice. */
    ask_ok("{\"v\":1,\"op\":\"action\",\"room\":\"g\",\"token\":\"@G@\","
           "\"action_id\":\"a4\",\"type\":\"scout\"}");
    catch_broadcast(&r);
    str dup = {0};
    add(&dup, r.msgs[0].p, r.msgs[0].n);
    deliver(&r, c, -1);
    record(&r, K_BROADCAST, dup.p + 2, dup.n - 2);
    FZ_CHECK(pc__client_deliver(c, dup.p, dup.n) == PC_OK, "duplicate");
    free(dup.p);
    heartbeat(&r, c);
    /* Its own actions: one on the current state, one decided on a state
     * the room has left (refused with conflict). */
    if (role != PC_CLIENT_SPECTATOR) {
        client_act(&r, c, true);
        catch_broadcast(&r);
        deliver(&r, c, -1);
        ask_ok("{\"v\":1,\"op\":\"action\",\"room\":\"g\",\"token\":\"@G@\","
               "\"action_id\":\"a5\",\"type\":\"say\"}");
        client_act(&r, c, true);
        client_act(&r, c, false);
        catch_broadcast(&r);
        deliver(&r, c, -1);
    }
    /* Silence until stale, then the room speaks again (a heartbeat
     * ahead: a repair). */
    r.now += 5000;
    record(&r, K_TIME, NULL, 5000);
    FZ_CHECK(pc__client_tick(c) == PC_OK, "tick");
    ask_ok("{\"v\":1,\"op\":\"action\",\"room\":\"g\",\"token\":\"@G@\","
           "\"action_id\":\"a6\",\"type\":\"roll\"}");
    catch_broadcast(&r);
    forget(&r);
    heartbeat(&r, c);
    FZ_CHECK(pc_client_seq(c) ==
                 pc_room_seq(pc_server_find_room(fzr_server(), "g")),
             "the recording client did not follow the room");
    pc_client_close(c);
    cJSON_free(r.last);

    static const char *names[] = {"session-spectator", "session-player",
                                  "session-gm"};
    put("fuzz_client", names[role], r.seed.p, r.seed.n);
    /* The same session with an allocation failing in every step. */
    char faulty[64];
    snprintf(faulty, sizeof faulty, "%s-faults", names[role]);
    r.seed.p[0] |= 4;
    put("fuzz_client", faulty, r.seed.p, r.seed.n);
    free(r.seed.p);
    req_free();
}

/* A hand-made seed: role, then records "<kind char><text>" (B, Q, X, T,
 * A as in fuzz_client.c; for T and A the text is the number n). */
static void hand(const char *name, unsigned char head, const char *const *recs,
                 size_t n)
{
    recorder r;
    memset(&r, 0, sizeof r);
    add(&r.seed, &head, 1);
    for (size_t i = 0; i < n; i++) {
        const char *t = recs[i] + 1;
        switch (recs[i][0]) {
        case 'B':
            record(&r, K_BROADCAST, t, strlen(t));
            break;
        case 'Q':
            record(&r, K_REPLY, t, strlen(t));
            break;
        case 'X':
            record(&r, K_TIMEOUT, NULL, 0);
            break;
        case 'T':
            record(&r, K_TIME, NULL, (size_t)atoi(t));
            break;
        default:
            record(&r, K_ACT, NULL, (size_t)atoi(t));
            break;
        }
    }
    put("fuzz_client", name, r.seed.p, r.seed.n);
    free(r.seed.p);
}

/* Hostile messages after a join and a snapshot of {"phase":"ROUND",
 * "data":{}} at seq 3 whose sum is right. */
static void hostile_seeds(void)
{
    uint64_t sum;
    cJSON *st = cJSON_Parse("{\"phase\":\"ROUND\",\"data\":{}}");
    FZ_CHECK(pc_canon_checksum(st, &sum, NULL) == PC_OK, "checksum");
    cJSON_Delete(st);
    str snap = {0}, lie = {0}, deep = {0};
    addf(&snap,
         "Q{\"v\":1,\"ok\":true,\"result\":{\"room\":\"g\",\"seq\":3,\"sum\":"
         "\"%016llx\",\"state\":{\"phase\":\"ROUND\",\"data\":{}}}}",
         (unsigned long long)sum);
    addf(&lie,
         "Q{\"v\":1,\"ok\":true,\"result\":{\"room\":\"g\",\"seq\":3,\"sum\":"
         "\"%016llx\",\"state\":{\"phase\":\"ROUND\",\"data\":{}}}}",
         (unsigned long long)(sum ^ 1));
    add(&deep,
        "B{\"v\":1,\"type\":\"changes\",\"room\":\"g\",\"changes\":"
        "[{\"seq\":4,\"kind\":\"update\",\"phase\":\"ROUND\",\"patch\":",
        strlen(
            "B{\"v\":1,\"type\":\"changes\",\"room\":\"g\",\"changes\":"
            "[{\"seq\":4,\"kind\":\"update\",\"phase\":\"ROUND\",\"patch\":"));
    rep(&deep, "{\"a\":", 1000);
    add(&deep, "1", 1);
    rep(&deep, "}", 1000);
    add(&deep, ",\"sum\":\"0000000000000000\"}]}", 28);
    static const char join[] =
        "Q{\"v\":1,\"ok\":true,\"result\":{\"room\":\"g\",\"role\":"
        "\"spectator\",\"seq\":3}}";
    const char *lies[] = {join, lie.p};
    hand("snapshot-sum-lies", 0, lies, 2);
    const char *deeps[] = {join, snap.p, deep.p};
    hand("change-depth-1001", 0, deeps, 3);
    const char *odd[] = {
        join,
        snap.p,
        "B{\"v\":1,\"type\":\"heartbeat\",\"room\":\"g\",\"seq\":"
        "9007199254740993}",
        "B{\"v\":1,\"type\":\"heartbeat\",\"room\":\"g\",\"seq\":-1,"
        "\"interval_ms\":1e300}",
        "B{\"v\":1,\"type\":\"changes\",\"room\":\"g\",\"changes\":[{\"seq\":"
        "18446744073709551616,\"kind\":\"event\",\"phase\":\"ROUND\","
        "\"patch\":{},\"event\":{\"name\":7}}]}",
        "B{\"v\":1,\"type\":\"changes\",\"room\":\"g\",\"changes\":[{\"seq\":"
        "4,\"kind\":\"event\",\"phase\":\"ROUND\",\"patch\":{},\"sum\":"
        "\"0000000000000000\",\"event\":{\"name\":\"x\",\"data\":null}}]}",
        "X",
        "Q{\"v\":1,\"ok\":true,\"result\":{\"room\":\"g\",\"seq\":2,"
        "\"changes\":"
        "[]}}",
        "Q{\"v\":1,\"ok\":true,\"result\":{\"room\":\"g\",\"seq\":1,\"sum\":"
        "\"0000000000000000\",\"state\":{\"phase\":\"ROUND\",\"data\":[]}}}",
        "T60000",
        "B{\"v\":1,\"type\":\"changes\",\"room\":\"h\",\"changes\":[]}",
        "B{\"v\":2,\"type\":\"future\",\"room\":\"g\"}",
        "A1",
    };
    hand("hostile-frames", 0, odd, sizeof odd / sizeof odd[0]);
    const char *gm[] = {
        "Q{\"v\":1,\"ok\":false,\"error\":{\"code\":\"forbidden\","
        "\"message\":\"wrong game-master credential\"}}",
    };
    hand("gm-forbidden", 2, gm, 1);
    free(snap.p);
    free(lie.p);
    free(deep.p);
}

void client_seeds(void)
{
    session(PC_CLIENT_SPECTATOR, NULL);
    session(PC_CLIENT_PLAYER, "carol");
    session(PC_CLIENT_GM, "gm3");
    hostile_seeds();
    put("fuzz_client", "empty", "", 0);
}
