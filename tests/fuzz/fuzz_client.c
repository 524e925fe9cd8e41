/*
 * fuzz_client.c - libFuzzer target: the client library's handling of
 * arbitrary sequences of broadcast messages (changes, with and without
 * events, heartbeats, anything), request replies (join, snapshot,
 * changes, actions, reports) and the passing of time, for a spectator, a
 * player and a game-master replica of the room "g".
 *
 * The client is a real pc_client opened through the internal harness
 * (transport/client/harness.h): no sockets, its requests answered from a
 * queue of replies the input fills, its clock the harness's. Input:
 *
 *   byte 0: role (bits 0-1: 0 spectator, 1 player, 2 and 3 game master);
 *           bit 2: allocation failures: in every step one of the
 *           client's allocations fails, the Nth with N from 1 to 600
 *           drawn from the input's hash (the harness's own checks
 *           allocate freely); bit 3 with bit 2: in the open too;
 *           bits 4-7: close the client from inside the Nth change
 *           callback (0: never)
 *   then records: kind (1 byte), n (2 bytes, little-endian), and for
 *   kinds B, R and Q a body of n bytes (fewer if the input ends):
 *     B (kind % 6 == 0)  a broadcast message "g " + body
 *     R (1)              a broadcast message body, topic and all
 *     Q (2)              queue body as the reply to the next request
 *     X (3)              queue a timeout for the next request
 *     T (4)              advance the clock by n ms and run the timers
 *     A (5)              act: "hit" with expected_seq = the replica's
 *                        seq when n is odd, a plain "say" when even
 *   A request with no queued reply times out. FZ_VERBOSE=1 in the
 *   environment prints the client's counters at the end. The first two requests
 * are the join and the snapshot of pc_client_open; if it fails, the input ends
 * there. Every reply is handed over from an exact-size copy.
 *
 * Properties (FZ_CHECK, after every record and inside the callbacks):
 *  - seq only moves forward: every change callback has a seq after the
 *    last one's (or the last snapshot's) and is the replica's, and the
 *    replica's seq never goes back except to a snapshot's
 *    (PC_CLIENT_EVENT_SNAPSHOT);
 *  - in sync means in sync: when the client holds a checksum for its
 *    replica (pc__client_sum, and the sum every change callback reports)
 *    it is the checksum of the replica's state, recomputed from scratch;
 *  - the replica is always {"phase": string, "data": object}, the
 *    change callback's phase is the replica's;
 *  - a room event callback follows the change callback of its own seq;
 *  - no crash, no sanitizer finding, no leak (libFuzzer's leak check)
 *    once the client is closed, from a callback or at the end.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/canon.h"
#include "phasecast/client.h"

#include "client/harness.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_alloc_install(); /* so steps can fail an allocation (byte 0 bit 2) */
    return 0;
}

/* The armed failure is held while the harness itself checks, inside the
 * client's callbacks. */
static size_t paused;

static void pause_faults(void)
{
    paused = fz_alloc_countdown;
    fz_alloc_countdown = 0;
}

static void resume_faults(void)
{
    fz_alloc_countdown = paused;
    paused = 0;
}

#define QUEUE_MAX 64
#define TOPIC     "g "

/* One queued reply: a body, or a timeout (body NULL). */
typedef struct reply {
    const uint8_t *body;
    size_t len;
} reply;

/* The harness and what the checks remember. */
typedef struct run {
    reply queue[QUEUE_MAX];
    size_t head, tail;
    char *lent; /* the exact-size copy handed to the client */
    int64_t now;

    pc_client *c;
    bool closed;        /* the client was closed (from a callback) */
    int close_at;       /* close from the Nth change callback (0: never) */
    int changes;        /* change callbacks so far */
    uint64_t last_seq;  /* the seq the change callbacks have reached */
    bool snapshot;      /* a snapshot event since the last check */
    uint64_t event_seq; /* the seq of the last change callback, for the
                           room event that may follow it */
    bool event_ok;
} run;

static pc_err exchange(const char *req, size_t len, const char **body,
                       size_t *body_len, void *arg)
{
    (void)req;
    (void)len;
    run *r = arg;
    free(r->lent);
    r->lent = NULL;
    if (r->head == r->tail) {
        return PC_ERR_TIMEOUT;
    }
    reply q = r->queue[r->head++ % QUEUE_MAX];
    if (q.body == NULL) {
        return PC_ERR_TIMEOUT;
    }
    r->lent = fz_copy(q.body, q.len);
    *body = r->lent;
    *body_len = q.len;
    return PC_OK;
}

static int64_t clock_ms(void *arg)
{
    return ((run *)arg)->now;
}

/* The replica's shape and, when known, its checksum. */
static void check_replica(pc_client *c, const uint64_t *claimed)
{
    const cJSON *doc = pc_client_state(c);
    FZ_CHECK(doc != NULL, "an open client without a replica");
    const cJSON *phase = cJSON_GetObjectItemCaseSensitive(doc, "phase");
    FZ_CHECK(cJSON_IsObject(doc) && cJSON_IsString(phase) &&
                 cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "data")),
             "the replica is not {phase, data}");
    uint64_t held = 0, sum = 0;
    bool known = pc__client_sum(c, &held);
    if (claimed != NULL) {
        FZ_CHECK(known && held == *claimed,
                 "a change callback's sum is not the replica's");
    }
    if (known) {
        FZ_CHECK(pc_canon_checksum(doc, &sum, NULL) == PC_OK && sum == held,
                 "the replica's checksum is not its state's");
    }
}

static void on_change(pc_client *c, const pc_client_change *ch, void *arg)
{
    run *r = arg;
    pause_faults();
    FZ_CHECK(ch->seq > r->last_seq,
             "change callback for seq %llu after seq %llu",
             (unsigned long long)ch->seq, (unsigned long long)r->last_seq);
    FZ_CHECK(pc_client_seq(c) == ch->seq, "the replica is not at the change");
    check_replica(c, &ch->sum);
    const cJSON *phase =
        cJSON_GetObjectItemCaseSensitive(pc_client_state(c), "phase");
    FZ_CHECK(ch->phase != NULL && strcmp(phase->valuestring, ch->phase) == 0,
             "the change's phase is not the replica's");
    FZ_CHECK(ch->patch != NULL && cJSON_IsObject(ch->patch),
             "a change without an object patch");
    r->last_seq = ch->seq;
    r->event_seq = ch->seq;
    r->event_ok = ch->event && ch->event_visible;
    if (++r->changes == r->close_at) {
        pc_client_close(c);
        r->closed = true;
    }
    resume_faults();
}

static void on_room_event(pc_client *c, const pc_client_room_event *ev,
                          void *arg)
{
    run *r = arg;
    FZ_CHECK(r->event_ok && ev->seq == r->event_seq &&
                 pc_client_seq(c) == ev->seq && ev->name != NULL &&
                 ev->data != NULL && ev->reason != NULL,
             "a room event without its change");
    r->event_ok = false;
}

static void on_event(pc_client *c, pc_client_event ev, void *arg)
{
    run *r = arg;
    if (ev == PC_CLIENT_EVENT_SNAPSHOT) {
        r->snapshot = true;
        r->last_seq = pc_client_seq(c);
    }
}

/* After a record: seq forward (or to a snapshot), replica consistent. */
static void step_done(run *r, pc_err rv)
{
    fz_alloc_fail_at(0, 0);
    if (rv == PC_ERR_CLOSED) {
        FZ_CHECK(r->closed, "PC_ERR_CLOSED but nobody closed the client");
        r->c = NULL;
        return;
    }
    FZ_CHECK(!r->closed, "a client closed from a callback was not freed");
    uint64_t seq = pc_client_seq(r->c);
    FZ_CHECK(seq >= r->last_seq || r->snapshot,
             "seq went back from %llu to %llu without a snapshot",
             (unsigned long long)r->last_seq, (unsigned long long)seq);
    /* A change whose sum disagreed stays applied, without a callback,
     * until the snapshot it asked for replaces it. */
    r->last_seq = seq;
    r->snapshot = false;
    check_replica(r->c, NULL);
}

static void act(run *r, unsigned n, size_t fail_at)
{
    cJSON *payload = cJSON_Parse("{\"target\":\"orc\",\"dmg\":1}");
    cJSON *value = NULL;
    uint64_t seq = 0;
    pc_error err = {0};
    pc_err rv;
    FZ_CHECK(payload != NULL, "out of memory");
    fz_alloc_fail_at(fail_at, 0);
    if (n % 2 == 1) {
        rv = pc_client_act_expect(r->c, "hit", payload, pc_client_seq(r->c),
                                  &value, &seq, &err);
        if (rv == PC_ERR_CONFLICT) {
            (void)pc_client_conflict_seq(r->c);
        }
    } else {
        rv = pc_client_act(r->c, "say", payload, &value, &seq, &err);
    }
    fz_alloc_fail_at(0, 0);
    FZ_CHECK((rv == PC_OK) == (value != NULL), "an action's value");
    FZ_CHECK(rv == PC_OK || err.err != PC_OK || rv == PC_ERR_PERMISSION,
             "a failed action without an error");
    cJSON_Delete(value);
    cJSON_Delete(payload);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    run r;
    memset(&r, 0, sizeof r);
    r.now = 1000000;
    r.close_at = data[0] >> 4;
    static const pc_client_role roles[] = {
        PC_CLIENT_SPECTATOR, PC_CLIENT_PLAYER, PC_CLIENT_GM, PC_CLIENT_GM};
    pc_client_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.pub_url = "inproc://fuzz-client-pub";
    cfg.req_url = "inproc://fuzz-client-req";
    cfg.room = "g";
    cfg.role = roles[data[0] & 3];
    cfg.name = cfg.role == PC_CLIENT_SPECTATOR ? NULL
               : cfg.role == PC_CLIENT_GM      ? "gm3"
                                               : "carol";
    cfg.gm_credential =
        cfg.role == PC_CLIENT_GM ? "fuzz-game-master-credential" : NULL;
    cfg.join_nonce = "fuzz-nonce-0123456789";
    cfg.on_change = on_change;
    cfg.on_event = on_event;
    cfg.on_room_event = on_room_event;
    cfg.arg = &r;
    cfg.request_attempts = 2;
    pc__client_harness h = {exchange, clock_ms, &r};

    /* Queue every reply up front, in order; run the rest afterwards. */
    const uint8_t *p = data + 1;
    size_t left = size - 1;
    while (left >= 3 && r.tail - r.head < QUEUE_MAX) {
        unsigned kind = p[0] % 6, n = (unsigned)p[1] | (unsigned)p[2] << 8;
        size_t body = kind <= 2 ? (n < left - 3 ? n : left - 3) : 0;
        if (kind == 2 || kind == 3) {
            r.queue[r.tail++ % QUEUE_MAX] =
                (reply){kind == 2 ? p + 3 : NULL, body};
        }
        p += 3 + body;
        left -= 3 + body;
    }

    bool faults = (data[0] & 4) != 0;
    uint64_t hash = fz_hash(data, size);
    pc_error err = {0};
    /* With bit 3 too, the open can fail an allocation (and the input
     * mostly ends there). */
    fz_alloc_fail_at(faults && (data[0] & 8) != 0 ? 1 + hash % 600 : 0, 0);
    pc_err orv = pc__client_open_harnessed(&cfg, &h, &r.c, &err);
    fz_alloc_fail_at(0, 0);
    if (orv != PC_OK) {
        free(r.lent);
        return 0;
    }
    r.last_seq = pc_client_seq(r.c);
    step_done(&r, PC_OK);

    p = data + 1;
    left = size - 1;
    while (left >= 3 && r.c != NULL) {
        unsigned kind = p[0] % 6, n = (unsigned)p[1] | (unsigned)p[2] << 8;
        size_t body = kind <= 2 ? (n < left - 3 ? n : left - 3) : 0;
        const uint8_t *b = p + 3;
        p += 3 + body;
        left -= 3 + body;
        pc_err rv = PC_OK;
        hash = hash * 6364136223846793005u + 1442695040888963407u;
        if (kind == 0) {
            char *msg = malloc(sizeof TOPIC - 1 + body); /* exact size */
            FZ_CHECK(msg != NULL, "out of memory");
            memcpy(msg, TOPIC, sizeof TOPIC - 1);
            if (body != 0) {
                memcpy(msg + sizeof TOPIC - 1, b, body);
            }
            fz_alloc_fail_at(faults ? 1 + (hash >> 33) % 600 : 0, 0);
            rv = pc__client_deliver(r.c, msg, sizeof TOPIC - 1 + body);
            free(msg);
        } else if (kind == 1) {
            char *msg = fz_copy(b, body);
            fz_alloc_fail_at(faults ? 1 + (hash >> 33) % 600 : 0, 0);
            rv = pc__client_deliver(r.c, msg, body);
            free(msg);
        } else if (kind == 4) {
            r.now += n;
            fz_alloc_fail_at(faults ? 1 + (hash >> 33) % 600 : 0, 0);
            rv = pc__client_tick(r.c);
        } else if (kind == 5) {
            act(&r, n, faults ? 1 + (hash >> 33) % 600 : 0);
        }
        step_done(&r, rv);
    }
    if (r.c != NULL && getenv("FZ_VERBOSE") != NULL) {
        pc_client_stats st;
        pc_client_stats_get(r.c, &st);
        fprintf(stderr,
                "seq %llu, %d change callbacks; messages %llu, applied %llu, "
                "duplicates %llu, gaps %llu, repairs %llu, snapshots %llu, "
                "mismatches %llu, private fetches %llu, requests %llu "
                "(%llu failed), bad %llu, stale %llu, gave up %llu\n",
                (unsigned long long)pc_client_seq(r.c), r.changes,
                (unsigned long long)st.messages,
                (unsigned long long)st.changes_applied,
                (unsigned long long)st.duplicates_ignored,
                (unsigned long long)st.gaps_detected,
                (unsigned long long)st.repairs_changes,
                (unsigned long long)st.snapshots,
                (unsigned long long)st.checksum_mismatches,
                (unsigned long long)st.private_fetches,
                (unsigned long long)st.requests,
                (unsigned long long)st.request_failures,
                (unsigned long long)st.bad_messages,
                (unsigned long long)st.stale_events,
                (unsigned long long)st.gave_up);
    }
    pc_client_close(r.c);
    free(r.lent);
    return 0;
}
