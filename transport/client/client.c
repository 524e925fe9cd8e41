/*
 * client.c - the networked room client: opening and joining, following
 * the broadcast, the replica's ordering and repair state machine,
 * staleness and closing. The sockets live in their own modules:
 * subscription.c owns the SUB socket and checks every envelope, request.c
 * owns the REQ socket and its retries. It is driven entirely by the caller's
 * thread (pc_client_poll); nng's own threads never run client code, so nothing
 * here is locked. It does not interpret game rules and does not keep
 * history: it holds one replica at one seq.
 *
 * Repair state machine (c->need), per docs/protocol.md "Joining and
 * repairing":
 *
 *             seq jump / heartbeat ahead / private change
 *   +--------+ ------------------------------------------> +---------+
 *   |  NONE  |                                            | CHANGES |
 *   +--------+ <------------------------------------------ +---------+
 *     ^    ^       changes applied and verified               |
 *     |    |                                                  | too_old,
 *     |    |  snapshot verified               checksum        | mismatch,
 *     |    +--------------------------+       mismatch        | hole
 *     |                               |   +-------------+     v
 *     +-- cooldown over <-- GAVE_UP <-+---|  SNAPSHOT   | <---+
 *                           (budget spent) +-------------+
 *
 *   transition                      function
 *   NONE -> CHANGES                 need_repair (from on_change, on_heartbeat)
 *   CHANGES -> NONE | SNAPSHOT      repair_changes
 *   NONE -> SNAPSHOT                need_repair (from apply_change,
 *                                   changes_round)
 *   SNAPSHOT -> NONE                run_repair (after take_snapshot)
 *   SNAPSHOT -> GAVE_UP (-> NONE)   run_repair (budget check)
 *
 * An incident starts when need leaves NONE and ends when a change is
 * applied and verified; it may take at most snapshots_per_incident
 * snapshots, spaced by a doubling backoff, so a server whose broadcast
 * checksums disagree with its snapshots cannot cause a snapshot storm.
 * Failed requests are retried after a doubling backoff, and no repair runs
 * while the room is stale: the replica is kept and repaired (with
 * `changes`) once the room speaks again.
 */
/* clock_gettime, poll */
#define _POSIX_C_SOURCE 200809L

#include "phasecast/client.h"
#include "phasecast/view.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>

#include "phasecast/alloc.h"
#include "phasecast/json.h"

#include "catchup.h"
#include "config.h"
#include "client_impl.h"
#include "harness.h"
#include "replica.h"
#include "request.h"
#include "subscription.h"
#include "wire.h"

/* The struct, enum need and the functions shared with actions.c are in
 * client_impl.h. */

int64_t pc__client_now(const pc_client *c)
{
    if (c->harnessed) {
        return c->harness.now_ms(c->harness.arg);
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* Callbacks and the replica                                          */
/* ------------------------------------------------------------------ */

/* Raise ev. Returns PC_ERR_CLOSED if the callback closed the client. */
static pc_err emit(pc_client *c, pc_client_event ev)
{
    if (c->cfg.on_event != NULL) {
        c->depth++;
        c->cfg.on_event(c, ev, c->cfg.arg);
        c->depth--;
    }
    return c->closing ? PC_ERR_CLOSED : PC_OK;
}

static void end_incident(pc_client *c)
{
    c->in_incident = false;
    c->incident_snapshots = 0;
    c->backoff_ms = c->cfg.repair_backoff_ms;
}

/* Ask for a repair; the strongest request wins. */
void pc__client_need_repair(pc_client *c, enum need n)
{
    if (n > c->need) {
        c->need = n;
    }
    c->in_incident = true;
}

/* How apply_change checks the announced sum. */
enum verify {
    VERIFY,        /* the sum is in the replica's view: a mismatch diverges */
    VERIFY_PUBLIC, /* a player's replica; the sum is its public view's */
    NO_VERIFY,     /* the sum cannot check this replica */
    PROBE          /* a player's replica: a mismatch may just be private data */
};

/*
 * Apply ch (seq must be replica seq + 1) and call the change callback.
 * Returns PC_OK; PC_ERR_STATE when a PROBE did not match (the caller asks
 * for the player's own sum); PC_ERR_PROTOCOL after scheduling a snapshot
 * (no callback then: the replica is known to be wrong); PC_ERR_CLOSED.
 */
static pc_err apply_change(pc_client *c, const pc__wire_change *ch,
                           bool repaired, enum verify how)
{
    pc_err rv = pc__replica_apply(&c->rep, ch->phase, ch->patch);
    if (rv != PC_OK) {
        /* Nothing changed; only a snapshot can get past this change. */
        pc__client_need_repair(c, NEED_SNAPSHOT);
        return PC_ERR_PROTOCOL;
    }
    c->st.changes_applied++;
    bool match = c->rep.sum_known && c->rep.sum == ch->sum;
    if (how == VERIFY_PUBLIC) {
        uint64_t pub = 0;
        match =
            pc_view_checksum(&c->pub_game, c->rep.doc, NULL, &pub) == PC_OK &&
            pub == ch->sum;
        how = VERIFY;
    }
    bool probe = false;
    if (how == VERIFY && !match) {
        c->st.checksum_mismatches++;
        pc__request_report(&c->rq, ch->seq);
        pc__client_need_repair(c, NEED_SNAPSHOT);
        return PC_ERR_PROTOCOL;
    }
    if (how == NO_VERIFY || (how == PROBE && !match)) {
        c->st.unverified++;
        probe = how == PROBE;
    } else if (c->need == NEED_NONE) {
        end_incident(c);
    }
    if (c->cfg.on_change != NULL) {
        pc_client_change out;
        out.seq = ch->seq;
        out.time_ms = ch->time_ms;
        out.transition = ch->transition;
        out.event = ch->event;
        out.event_visible = ch->event_name != NULL;
        out.phase = ch->phase;
        out.reason = ch->reason;
        out.patch = ch->patch;
        out.sum = c->rep.sum;
        out.repaired = repaired;
        c->depth++;
        c->cfg.on_change(c, &out, c->cfg.arg);
        c->depth--;
    }
    if (!c->closing && ch->event_name != NULL && c->cfg.on_room_event != NULL) {
        pc_client_room_event ev;
        ev.seq = ch->seq;
        ev.time_ms = ch->time_ms;
        ev.name = ch->event_name;
        ev.data = ch->event_data;
        ev.reason = ch->reason;
        ev.phase = ch->phase;
        ev.private_event = ch->private_data;
        ev.repaired = repaired;
        c->depth++;
        c->cfg.on_room_event(c, &ev, c->cfg.arg);
        c->depth--;
    }
    if (c->closing) {
        return PC_ERR_CLOSED;
    }
    return probe ? PC_ERR_STATE : PC_OK;
}

/* A broadcast public sum for seq, remembered while a player fetches its
 * own view of the same change (to learn whether the views differ). */
typedef struct sum_hint {
    uint64_t seq; /* 0: none */
    uint64_t sum;
} sum_hint;

/*
 * One `changes` round: everything after the replica's seq, in the
 * client's view (with the token for players). Applies and verifies every
 * change. Returns PC_OK (*more set if the server holds newer changes than
 * it sent), PC_ERR_CLOSED, PC_ERR_EVICTED (too_old), PC_ERR_PROTOCOL (a
 * mismatch or hole; snapshot scheduled) or a request failure.
 */
static pc_err changes_round(pc_client *c, const sum_hint *hint, bool *more)
{
    /* A hint asks for its own seq too, even if the replica holds it. */
    uint64_t since = c->rep.seq;
    if (hint->seq != 0 && hint->seq - 1 < since) {
        since = hint->seq - 1;
    }
    cJSON *root = NULL;
    uint64_t head = 0;
    const cJSON *list = NULL;
    pc_err rv = pc__request_changes(&c->rq, since, &root, &head, &list);
    if (rv != PC_OK) {
        return rv;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, list)
    {
        pc__wire_change ch;
        if (pc__wire_change_decode(item, &ch) != PC_OK) {
            c->st.bad_messages++;
            rv = PC_ERR_PROTOCOL;
            break;
        }
        if (hint->seq != 0 && ch.seq == hint->seq) {
            c->priv_mode = ch.sum != hint->sum;
        }
        if (ch.seq < c->rep.seq) {
            continue;
        }
        if (ch.seq == c->rep.seq) {
            /* The change the replica already reflects, in our view: a
             * free check of the replica (it verifies a player's replica
             * that broadcast sums could not). */
            if (!c->rep.sum_known || ch.sum != c->rep.sum) {
                c->st.checksum_mismatches++;
                pc__request_report(&c->rq, ch.seq);
                pc__client_need_repair(c, NEED_SNAPSHOT);
                rv = PC_ERR_PROTOCOL;
                break;
            }
            continue;
        }
        if (ch.seq != c->rep.seq + 1) {
            /* The server skipped a seq: do not guess, resynchronise. */
            c->st.bad_messages++;
            pc__client_need_repair(c, NEED_SNAPSHOT);
            rv = PC_ERR_PROTOCOL;
            break;
        }
        rv = apply_change(c, &ch, true, VERIFY);
        if (rv != PC_OK) {
            break;
        }
    }
    if (rv == PC_OK) {
        *more = c->rep.seq < head && cJSON_GetArraySize(list) > 0;
        if (c->rep.seq < head && cJSON_GetArraySize(list) == 0) {
            pc__client_need_repair(c, NEED_SNAPSHOT);
            rv = PC_ERR_PROTOCOL;
        }
    }
    cJSON_Delete(root);
    return rv;
}

/* NEED_CHANGES: fetch and apply until the replica reaches the server's
 * head. */
static pc_err repair_changes(pc_client *c, const sum_hint *hint)
{
    for (int round = 0; round < REPAIR_ROUNDS; round++) {
        bool more = false;
        pc_err rv = changes_round(c, hint, &more);
        if (rv == PC_ERR_EVICTED) {
            pc__client_need_repair(c, NEED_SNAPSHOT);
            return rv;
        }
        if (rv != PC_OK) {
            return rv;
        }
        if (!more) {
            c->st.repairs_changes++;
            if (c->need == NEED_CHANGES) {
                /* The server vouched for every seq up to its head. */
                c->need = NEED_NONE;
                end_incident(c);
            }
            return PC_OK;
        }
    }
    return PC_OK; /* still behind: the next gap or heartbeat continues */
}

/* Take a snapshot (with the token for players) and reset the replica. */
static pc_err take_snapshot(pc_client *c, pc_error *e)
{
    pc__replica tmp;
    pc_err rv = pc__request_snapshot(&c->rq,
                                     c->need == NEED_NONE && c->rep.doc == NULL
                                         ? c->cfg.request_attempts
                                         : 1,
                                     &tmp, e);
    if (rv != PC_OK) {
        /* A snapshot that disagrees with its own checksum leaves the old
         * replica; the budget bounds how often this is retried. */
        return rv;
    }
    pc__replica_fini(&c->rep);
    c->rep = tmp;
    c->priv_mode = false;
    c->st.snapshots++;
    return PC_OK;
}

/* The doubling delay after a failed repair request. */
static void back_off(pc_client *c)
{
    c->retry_at = pc__client_now(c) + c->backoff_ms;
    c->backoff_ms = c->backoff_ms > c->cfg.repair_backoff_max_ms / 2
                        ? c->cfg.repair_backoff_max_ms
                        : c->backoff_ms * 2;
}

/* Run the pending repair if it is due. */
pc_err pc__client_run_repair(pc_client *c)
{
    static const sum_hint no_hint = {0, 0};
    for (int step = 0; step < 4 && c->need != NEED_NONE; step++) {
        int64_t now = pc__client_now(c);
        if (c->stale || now < c->retry_at || now < c->cooldown_until) {
            return PC_OK;
        }
        if (c->need == NEED_CHANGES) {
            pc_err rv = repair_changes(c, &no_hint);
            if (rv == PC_ERR_CLOSED || rv == PC_ERR_NOMEM) {
                return rv;
            }
            if (rv != PC_OK && c->need == NEED_CHANGES) {
                back_off(c);
                return PC_OK;
            }
            continue;
        }
        /* NEED_SNAPSHOT */
        if (c->incident_snapshots >= c->cfg.snapshots_per_incident) {
            c->st.gave_up++;
            c->need = NEED_NONE;
            end_incident(c);
            c->cooldown_until = now + c->cfg.cooldown_ms;
            return emit(c, PC_CLIENT_EVENT_GAVE_UP);
        }
        c->incident_snapshots++;
        pc_err rv = take_snapshot(c, NULL);
        if (rv == PC_ERR_NOMEM) {
            return rv;
        }
        /* Spread the snapshots of one incident out: the next waits. */
        back_off(c);
        if (rv == PC_OK) {
            c->need = NEED_NONE;
            rv = emit(c, PC_CLIENT_EVENT_SNAPSHOT);
            if (rv != PC_OK) {
                return rv;
            }
        }
    }
    return PC_OK;
}

/* ------------------------------------------------------------------ */
/* Broadcast messages                                                  */
/* ------------------------------------------------------------------ */

/*
 * A player asks `changes` since ch->seq - 1 with its token: its own view
 * of ch (and of what followed), whose sums check the replica. Comparing
 * them with the broadcast's public sum for the same seq tells whether the
 * player's view differs from the public one (priv_mode).
 */
static pc_err fetch_own_view(pc_client *c, const pc__wire_change *ch)
{
    sum_hint hint = {ch->seq, ch->sum};
    pc__client_need_repair(c, NEED_CHANGES);
    pc_err rv = repair_changes(c, &hint);
    if (rv == PC_ERR_CLOSED || rv == PC_ERR_NOMEM) {
        return rv;
    }
    if (rv != PC_OK && c->need == NEED_CHANGES) {
        back_off(c);
    }
    return pc__client_run_repair(c);
}

/* One change from the broadcast, in the public view. */
static pc_err on_change(pc_client *c, const pc__wire_change *ch)
{
    if (ch->seq <= c->rep.seq) {
        c->st.duplicates_ignored++;
        return PC_OK;
    }
    if (c->need != NEED_NONE) {
        /* A repair is pending (backing off or cooling down); it will
         * fetch everything after the replica's seq. */
        return pc__client_run_repair(c);
    }
    if (ch->seq > c->rep.seq + 1) {
        c->st.gaps_detected++;
        pc__client_need_repair(c, NEED_CHANGES);
        pc_err rv = pc__client_run_repair(c);
        if (rv != PC_OK) {
            return rv;
        }
        if (ch->seq <= c->rep.seq) {
            c->st.duplicates_ignored++;
            return PC_OK;
        }
        if (ch->seq != c->rep.seq + 1 || c->need != NEED_NONE) {
            return PC_OK;
        }
    }
    /* A game master follows like a player: its token fetches its view. */
    bool player = c->cfg.role != PC_CLIENT_SPECTATOR;
    if (player && ch->private_data) {
        /* The broadcast carries only the public part: fetch our view of
         * this change (and whatever followed) with the token. */
        c->st.private_fetches++;
        return fetch_own_view(c, ch);
    }
    enum verify how = VERIFY;
    if (player && c->paths != NULL) {
        how = VERIFY_PUBLIC;
    } else if (player) {
        /* Once our view is known to hold private members the public sum
         * cannot check it; by the view/merge commutation (view.h) the
         * public patch is still our view's patch. Until then a mismatch
         * is a question for the server, not yet a divergence. */
        how = c->priv_mode ? NO_VERIFY : PROBE;
    }
    pc_err rv = apply_change(c, ch, false, how);
    if (rv == PC_ERR_STATE) {
        return fetch_own_view(c, ch);
    }
    if (rv == PC_ERR_PROTOCOL) {
        return pc__client_run_repair(c);
    }
    return rv;
}

static pc_err on_heartbeat(pc_client *c, const cJSON *doc)
{
    uint64_t seq, interval;
    c->st.heartbeats++;
    if (pc__wire_u64(cJSON_GetObjectItemCaseSensitive(doc, "interval_ms"),
                     &interval) &&
        interval > 0 && interval < 3600000) {
        c->heartbeat_ms = (int)interval;
    }
    if (!pc__wire_u64(cJSON_GetObjectItemCaseSensitive(doc, "seq"), &seq)) {
        c->st.bad_messages++;
        return PC_OK;
    }
    if (seq > c->rep.seq && c->need == NEED_NONE) {
        c->st.gaps_detected++;
        pc__client_need_repair(c, NEED_CHANGES);
    }
    return pc__client_run_repair(c);
}

/* A message of the room arrived: it is live again. */
static pc_err heard(pc_client *c)
{
    c->last_msg = pc__client_now(c);
    if (c->stale) {
        c->stale = false;
        return emit(c, PC_CLIENT_EVENT_LIVE);
    }
    return PC_OK;
}

/* A "changes" frame that the fast decoder took (frame.h): the same steps
 * as on_envelope's for the same changes. */
static pc_err on_frame(pc_client *c, const pc__frame *f)
{
    pc_err rv = heard(c);
    for (size_t i = 0; rv == PC_OK && i < f->n; i++) {
        rv = on_change(c, &f->v[i]);
    }
    return rv;
}

/* One envelope of the room, already checked by pc__subscription_recv. */
static pc_err on_envelope(pc_client *c, const cJSON *doc)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(doc, "type");
    pc_err rv = heard(c);
    if (rv == PC_OK && strcmp(type->valuestring, "changes") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "changes");
        const cJSON *item;
        if (!cJSON_IsArray(list)) {
            c->st.bad_messages++;
            list = NULL;
        }
        cJSON_ArrayForEach(item, list)
        {
            pc__wire_change ch;
            if (pc__wire_change_decode(item, &ch) != PC_OK) {
                c->st.bad_messages++;
                break; /* the rest will show up as a gap */
            }
            rv = on_change(c, &ch);
            if (rv != PC_OK) {
                break;
            }
        }
    } else if (rv == PC_OK && strcmp(type->valuestring, "heartbeat") == 0) {
        rv = on_heartbeat(c, doc);
    }
    /* Other types are from a newer protocol: ignored. */
    return rv;
}

/* Staleness and due repairs. */
static pc_err tick(pc_client *c)
{
    int64_t now = pc__client_now(c);
    if (!c->stale && now - c->last_msg >=
                         (int64_t)c->cfg.stale_intervals * c->heartbeat_ms) {
        c->stale = true;
        c->st.stale_events++;
        pc_err rv = emit(c, PC_CLIENT_EVENT_STALE);
        if (rv != PC_OK) {
            return rv;
        }
    }
    return pc__client_run_repair(c);
}

int pc_client_timeout_ms(const pc_client *c)
{
    int64_t now = pc__client_now(c);
    int64_t due = INT32_MAX;
    if (!c->stale) {
        due = c->last_msg + (int64_t)c->cfg.stale_intervals * c->heartbeat_ms;
    }
    if (c->need != NEED_NONE && !c->stale) {
        int64_t r =
            c->retry_at > c->cooldown_until ? c->retry_at : c->cooldown_until;
        due = r < due ? r : due;
    }
    if (due <= now) {
        return 0;
    }
    return due - now > INT32_MAX ? INT32_MAX : (int)(due - now);
}

void pc__client_destroy(pc_client *c)
{
    /* Stop the dialers (and their reconnect timers) before the sockets,
     * so no pipe is added while a socket shuts down. This does not cure a
     * rarer nng 1.5.2 hazard: a TCP read that the transport restarts from
     * its callback just as the socket closes can be lost, and nng_close then
     * never returns (fixed upstream in nng 2.0 with NNG_ESTOPPED). It needs
     * data arriving at the moment of close; see client.md. */
    pc__subscription_stop(&c->sub);
    pc__request_close(&c->rq);
    pc__subscription_close(&c->sub);
    pc__replica_fini(&c->rep);
    pc__request_paths_free(c->paths);
    pc__config_fini(&c->cfg);
    pc_free(c);
}

/* Handle one received message, a decoded frame or an envelope, if the
 * receive that produced it (rv) succeeded; free it either way. */
static pc_err take_message(pc_client *c, pc_err rv, cJSON *doc,
                           pc__frame *frame)
{
    if (rv == PC_OK && frame != NULL) {
        rv = on_frame(c, frame);
    } else if (rv == PC_OK && doc != NULL) {
        rv = on_envelope(c, doc);
    }
    if (frame != NULL) {
        pc__frame_clear(frame);
    }
    cJSON_Delete(doc);
    return rv;
}

/* After a step from outside (a poll, or a harness's delivery or tick):
 * free a client its callback closed. */
static pc_err step_done(pc_client *c, pc_err rv)
{
    if (c->closing) {
        pc__client_destroy(c);
        return PC_ERR_CLOSED;
    }
    return rv;
}

pc_err pc__client_poll_inner(pc_client *c, int timeout_ms)
{
    int64_t deadline =
        timeout_ms < 0 ? INT64_MAX : pc__client_now(c) + timeout_ms;
    int fd = pc_client_fd(c);
    for (;;) {
        pc_err rv = tick(c);
        if (rv != PC_OK) {
            return rv;
        }
        int handled = 0;
        while (handled < POLL_BATCH) {
            bool got = false;
            cJSON *doc = NULL;
            pc__frame *frame = NULL;
            rv = pc__subscription_recv(&c->sub, &got, &doc, &frame);
            if (rv == PC_OK && !got) {
                break;
            }
            rv = take_message(c, rv, doc, frame);
            handled++;
            if (rv != PC_OK) {
                return rv;
            }
        }
        if (handled > 0) {
            return tick(c);
        }
        int64_t now = pc__client_now(c);
        if (now >= deadline) {
            return PC_OK;
        }
        int64_t wait = deadline - now;
        int next = pc_client_timeout_ms(c);
        if (next < wait) {
            wait = next;
        }
        if (wait > 0) {
            struct pollfd pfd = {fd, POLLIN, 0};
            if (fd < 0 || poll(&pfd, 1, wait > 60000 ? 60000 : (int)wait) < 0) {
                if (fd < 0 || errno != EINTR) {
                    return PC_ERR_IO;
                }
            }
        }
    }
}

pc_err pc_client_poll(pc_client *c, int timeout_ms)
{
    if (c->depth > 0) {
        return PC_ERR_REENTRANT;
    }
    return step_done(c, pc__client_poll_inner(c, timeout_ms));
}

int pc_client_fd(pc_client *c)
{
    return pc__subscription_fd(&c->sub);
}

void pc_client_close(pc_client *c)
{
    if (c == NULL) {
        return;
    }
    if (c->depth > 0) {
        c->closing = true;
        return;
    }
    pc__client_destroy(c);
}

/* ------------------------------------------------------------------ */
/* Open and join                                                       */
/* ------------------------------------------------------------------ */

/* SUB first and subscribed before anything else, so that changes
 * committed while we join are buffered, not lost. */
static int open_sockets(pc_client *c)
{
    int rv = pc__subscription_open(&c->sub, &c->cfg);
    return rv != 0 ? rv : pc__request_open(&c->rq, &c->cfg);
}

/* pc_client_open, or pc__client_open_harnessed when h is not NULL. */
static pc_err open_client(const pc_client_config *cfg,
                          const pc__client_harness *h, pc_client **out,
                          pc_error *err)
{
    pc_client_config own;
    /* A NULL out is refused like a bad config. */
    pc_err rv = pc__config_copy(out != NULL ? cfg : NULL, &own, err);
    if (rv != PC_OK) {
        return rv;
    }
    pc_client *c = pc_malloc(sizeof(*c));
    if (c == NULL) {
        pc__config_fini(&own);
        return pc_error_set(err, PC_ERR_NOMEM, NULL, "out of memory");
    }
    memset(c, 0, sizeof(*c));
    c->cfg = own;
    if (pc__subscription_init(&c->sub, c->cfg.room, &c->lim, &c->st) != PC_OK) {
        pc__client_destroy(c);
        return pc_error_set(err, PC_ERR_NOMEM, NULL, "out of memory");
    }
    pc__replica_init(&c->rep);
    c->lim = pc_json_limits_default();
    c->lim.max_depth = PC_JSON_DEPTH_CEILING;
    c->lim.max_bytes = c->cfg.recv_max_bytes;
    c->lim.max_nodes = 4 * c->lim.max_nodes + 1000;
    c->backoff_ms = c->cfg.repair_backoff_ms;
    c->heartbeat_ms = c->cfg.heartbeat_ms;
    pc__request_init(&c->rq, c->cfg.room, &c->cfg, &c->lim, &c->st);
    if (h != NULL) {
        c->harnessed = true;
        c->harness = *h;
        c->rq.harness = &c->harness;
    }

    int nrv = h != NULL ? 0 : open_sockets(c);
    if (nrv != 0) {
        rv = pc__request_nng_err(nrv);
        pc__client_destroy(c);
        return pc_error_set(err, rv, NULL, "nng: %s", nng_strerror(nrv));
    }
    rv = pc__request_join(&c->rq, c->cfg.name, c->cfg.gm_credential,
                          c->cfg.request_attempts, &c->paths, err);
    c->pub_game.private_paths = (const char *const *)c->paths;
    if (rv == PC_OK) {
        rv = take_snapshot(c, err);
    }
    if (rv != PC_OK) {
        pc__client_destroy(c);
        if (err != NULL && err->err == PC_OK) {
            pc_error_set(err, rv, NULL, "joining room %s: %s", cfg->room,
                         pc_strerror(rv));
        }
        return rv;
    }
    c->last_msg = pc__client_now(c);
    *out = c;
    return PC_OK;
}

pc_err pc_client_open(const pc_client_config *cfg, pc_client **out,
                      pc_error *err)
{
    return open_client(cfg, NULL, out, err);
}

pc_err pc__client_open_harnessed(const pc_client_config *cfg,
                                 const pc__client_harness *h, pc_client **out,
                                 pc_error *err)
{
    if (h == NULL || h->exchange == NULL || h->now_ms == NULL) {
        return pc_error_set(err, PC_ERR_INVALID, NULL, "no harness");
    }
    return open_client(cfg, h, out, err);
}

pc_err pc__client_deliver(pc_client *c, const void *msg, size_t len)
{
    if (c->depth > 0) {
        return PC_ERR_REENTRANT;
    }
    cJSON *doc = NULL;
    pc__frame *frame = NULL;
    pc_err rv = pc__subscription_envelope(&c->sub, msg, len, &doc, &frame);
    rv = take_message(c, rv, doc, frame);
    if (rv == PC_OK) {
        rv = tick(c);
    }
    return step_done(c, rv);
}

pc_err pc__client_tick(pc_client *c)
{
    if (c->depth > 0) {
        return PC_ERR_REENTRANT;
    }
    return step_done(c, tick(c));
}

bool pc__client_sum(const pc_client *c, uint64_t *sum)
{
    if (c->rep.doc == NULL || !c->rep.sum_known) {
        return false;
    }
    *sum = c->rep.sum;
    return true;
}
