/*
 * phasecast/client.h - follow and act in a networked room (protocol v1).
 *
 * A pc_client connects to one server's broadcast (nng PUB) and request (nng
 * REP) endpoints, joins one room as a player or a spectator, and keeps a
 * local replica of the room's state document {"phase": P, "data": D}. It
 * implements the client algorithm of docs/protocol.md: subscribe first, then
 * snapshot, drop buffered changes the snapshot already holds, apply the rest
 * in order, repair gaps with `changes` (a snapshot only when the history no
 * longer reaches back), verify every applied change against its checksum
 * and resynchronise on divergence. It never applies a change twice or out
 * of order. It is not a server, does not validate game rules and does not
 * promise to see every intermediate state: after a snapshot the change
 * callback skips the seqs the snapshot covered.
 *
 * Threads: a pc_client has no thread of its own. It is driven by the
 * thread that calls pc_client_poll, and every callback runs on that thread,
 * inside pc_client_open, pc_client_poll or pc_client_close. A client must be
 * used by one thread at a time; different clients are independent and may
 * live on different threads. Only the functions declared here are public.
 */
#ifndef PHASECAST_CLIENT_H
#define PHASECAST_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "phasecast/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A connection to one room of one server. Opaque. */
typedef struct pc_client pc_client;

/* How the client joins. */
typedef enum pc_client_role {
    PC_CLIENT_SPECTATOR = 0, /* public view, cannot act */
    PC_CLIENT_PLAYER = 1,    /* own view (private data), may act */
    PC_CLIENT_GM = 2         /* the room's game master: the whole state and
                                every event; may act (the game sees
                                PC_ROLE_GM). Needs gm_credential */
} pc_client_role;

/* One change the client applied to its replica. */
typedef struct pc_client_change {
    uint64_t seq;
    int64_t time_ms;    /* server clock, ms since the Unix epoch */
    bool transition;    /* kind "transition" (else "update" or "event") */
    bool event;         /* kind "event": the room recorded an event; the
                           state did not change (patch is {}) */
    bool event_visible; /* event, and this client may see it: the room
                           event callback follows with its name and data
                           (else it was for another player or the game
                           master, and only its seq is known) */
    const char *phase;  /* phase after the change */
    const char *reason; /* the game's reason ("" for an event this client
                           may not see) */
    const cJSON *patch; /* merge patch on "data", as applied */
    uint64_t sum;       /* checksum of the replica after the change */
    bool repaired;      /* came from a `changes` request, not the broadcast */
} pc_client_change;

/* Things that happen to the connection rather than to the state. */
typedef enum pc_client_event {
    PC_CLIENT_EVENT_STALE = 1,    /* no message from the room for
                                     stale_intervals heartbeat intervals */
    PC_CLIENT_EVENT_LIVE = 2,     /* messages resumed after STALE */
    PC_CLIENT_EVENT_SNAPSHOT = 3, /* the replica was replaced by a snapshot;
                                     the seqs in between got no change
                                     callback */
    PC_CLIENT_EVENT_GAVE_UP = 4   /* the snapshot budget of a repair was
                                     spent; repair resumes after a cooldown */
} pc_client_event;

/* One event the room recorded (pc_room_event on the server) that this
 * client may see: a public one, or one addressed to this player. */
typedef struct pc_client_room_event {
    uint64_t seq;       /* the event's own seq */
    int64_t time_ms;    /* server clock, ms since the Unix epoch */
    const char *name;   /* [A-Za-z0-9_.-]{1,64} */
    const cJSON *data;  /* any JSON value (JSON null when none) */
    const char *reason; /* the game's reason */
    const char *phase;  /* the room's phase */
    bool private_event; /* addressed to this player only (the public
                           never saw it) */
    bool repaired;      /* came from a `changes` request */
} pc_client_room_event;

/* Change callback: ch and everything it points to are borrowed until the
 * callback returns; pc_client_state(c) already includes the change. */
typedef void (*pc_client_change_fn)(pc_client *c, const pc_client_change *ch,
                                    void *arg);
/* Room event callback: called for each event this client may see, right
 * after the change callback of the same seq (the replica is already at
 * that seq), whether it came from the broadcast or from a repair. ev and
 * everything it points to are borrowed until the callback returns. Events
 * in seqs a snapshot skipped are not delivered (like their changes). */
typedef void (*pc_client_room_event_fn)(pc_client *c,
                                        const pc_client_room_event *ev,
                                        void *arg);
/* Event callback. */
typedef void (*pc_client_event_fn)(pc_client *c, pc_client_event ev, void *arg);

/*
 * Everything pc_client_open needs. Zero-initialise, then set the URLs, the
 * room and the role; a zero numeric member means its default. The strings
 * are copied by pc_client_open.
 */
typedef struct pc_client_config {
    const char *pub_url; /* the server's broadcast URL */
    const char *req_url; /* the server's request URL */
    const char *room;
    pc_client_role role;
    const char *name; /* player id; players and game masters */
    /* The room's game-master credential (pc_server_room_options), for
     * PC_CLIENT_GM only; copied, and wiped when the client is closed.
     * Read it from a file or the environment, never a command line. */
    const char *gm_credential;

    pc_client_change_fn on_change;         /* may be NULL */
    pc_client_event_fn on_event;           /* may be NULL */
    pc_client_room_event_fn on_room_event; /* may be NULL */
    void *arg;                             /* passed to every callback */

    int request_timeout_ms;     /* first attempt's reply timeout, 1000 */
    int request_attempts;       /* attempts for open and act, 5; the timeout
                                   doubles after each */
    int repair_backoff_ms;      /* first delay between failed repairs, 50 */
    int repair_backoff_max_ms;  /* 2000 */
    int snapshots_per_incident; /* snapshot budget of one repair, 3 */
    int cooldown_ms;            /* pause after GAVE_UP, 5000 */
    int stale_intervals;        /* heartbeat intervals of silence, 3 */
    int heartbeat_ms;           /* assumed interval until one arrives, 1000 */
    int reconnect_min_ms;       /* NNG_OPT_RECONNMINT on both dialers, 100 */
    int reconnect_max_ms;       /* NNG_OPT_RECONNMAXT on both dialers, 2000 */
    size_t recv_max_bytes;      /* NNG_OPT_RECVMAXSZ on both sockets, 16 MiB */
    int recv_buffer;            /* NNG_OPT_RECVBUF on the SUB socket (messages,
                                   1..8192), 1024 */
    /* The nonce a player's join carries, [A-Za-z0-9_-]{16,64}, secret like
     * a token; NULL (the default) draws a random one per pc_client_open.
     * Set it (and keep it, with the name) to get the same seat back when
     * the program calls pc_client_open again after a failed open, for
     * example while the server restarts: the first join may have been
     * durable though its reply was lost, and the server recognises the
     * repeat, across a restart too (docs/durability.md). */
    const char *join_nonce;
} pc_client_config;

/* Counters for tests and benchmarks; they only grow. */
typedef struct pc_client_stats {
    uint64_t messages;            /* broadcast messages received */
    uint64_t heartbeats;          /* heartbeats received */
    uint64_t changes_applied;     /* changes applied to the replica */
    uint64_t duplicates_ignored;  /* changes with seq <= replica seq */
    uint64_t gaps_detected;       /* seq jumps and heartbeats ahead */
    uint64_t repairs_changes;     /* successful `changes` repairs */
    uint64_t snapshots;           /* snapshots applied (the join's too) */
    uint64_t checksum_mismatches; /* replica sum != announced sum */
    uint64_t private_fetches;     /* `changes` with token for private data */
    uint64_t unverified;          /* changes applied without a checksum
                                     they could be checked against (players
                                     holding private data, see the docs) */
    uint64_t requests;            /* request attempts sent */
    uint64_t request_failures;    /* attempts that timed out or failed */
    uint64_t bad_messages;        /* undecodable or off-protocol messages */
    uint64_t stale_events;        /* PC_CLIENT_EVENT_STALE raised */
    uint64_t gave_up;             /* PC_CLIENT_EVENT_GAVE_UP raised */
} pc_client_stats;

/*
 * pc_client_open - connect and join. Opens the SUB socket, subscribes to
 * "<room> " and dials (non-blocking, so it reconnects by itself), opens and
 * dials the REQ socket, sends `join` (players keep the token), then
 * `snapshot`, retrying each request up to request_attempts times. A
 * player's join carries cfg->join_nonce or a random nonce drawn for this
 * call, so a retry after a lost reply gets the same seat back rather than
 * name_taken. On
 * success *out receives the client, whose replica holds the snapshot;
 * broadcast changes are processed by pc_client_poll. The caller frees it
 * with pc_client_close. No callback fires during the call (the first
 * snapshot raises no SNAPSHOT event). On failure nothing is left open, *out is
 * untouched and err (may be NULL) holds the server's {code, message} when
 * the server refused. Returns PC_OK, PC_ERR_INVALID (bad config, room id
 * or name), PC_ERR_TIMEOUT (no reply), PC_ERR_IO (nng failed), PC_ERR_NOMEM,
 * PC_ERR_PROTOCOL (malformed reply) or the mapped server error
 * (PC_ERR_NOT_FOUND unknown_room, PC_ERR_STATE name_taken or room_full,
 * PC_ERR_PERMISSION bad_token, PC_ERR_ACTION for other codes). Any thread;
 * the client then belongs to that thread.
 */
pc_err pc_client_open(const pc_client_config *cfg, pc_client **out,
                      pc_error *err);

/*
 * pc_client_close - close both sockets and free the client. NULL is
 * allowed. May be called from inside the client's own callback: the client
 * is then freed when the dispatching call returns (which returns
 * PC_ERR_CLOSED). No callback fires after it.
 */
void pc_client_close(pc_client *c);

/*
 * pc_client_poll - wait up to timeout_ms (0: do not wait, negative: wait
 * forever) for broadcast messages, process every message then queued,
 * run due repairs (synchronously, over the request socket, which may take
 * up to request_timeout_ms), and update staleness. Callbacks fire on the
 * calling thread. Returns PC_OK, PC_ERR_CLOSED (the client was closed from
 * a callback and is freed), PC_ERR_REENTRANT (called from a callback), or
 * PC_ERR_IO (the socket failed).
 */
pc_err pc_client_poll(pc_client *c, int timeout_ms);

/*
 * pc_client_fd - a descriptor that becomes readable when a broadcast
 * message is queued, for callers who wait in their own poll/epoll/event
 * loop (then call pc_client_poll(c, 0)). Never read it. Also wake up after
 * pc_client_timeout_ms so repairs and staleness advance. Returns -1 if nng
 * cannot provide one.
 */
int pc_client_fd(pc_client *c);

/*
 * pc_client_timeout_ms - milliseconds until the client has timed work (a
 * due repair, a staleness check) even if no message arrives; 0 if it is
 * due now.
 */
int pc_client_timeout_ms(const pc_client *c);

/*
 * pc_client_act - send an `action` (players only) with a fresh action id
 * "<random>-<counter>" and wait for the reply, retrying on timeout with the
 * SAME id (the server applies it once) and a doubled timeout each attempt.
 * payload (may be NULL) is borrowed. On success *value (may be NULL)
 * receives the game's result (never NULL; JSON null when the game gave
 * none), which the caller frees with cJSON_Delete, and *seq (may be NULL)
 * the room's seq after the action; the replica catches up through
 * pc_client_poll. On a server refusal err holds its {code, message}.
 * Returns PC_OK, PC_ERR_ACTION (game code), PC_ERR_PHASE
 * (no_actions_in_phase), PC_ERR_PERMISSION (spectator or bad_token),
 * PC_ERR_TIMEOUT, PC_ERR_INVALID, PC_ERR_LIMIT (limit_exceeded, or
 * rate_limited: the server's per-player action rate, resend later),
 * PC_ERR_NOMEM, PC_ERR_PROTOCOL or PC_ERR_IO. Never invokes callbacks, so
 * it may be called from one.
 */
pc_err pc_client_act(pc_client *c, const char *type, const cJSON *payload,
                     cJSON **value, uint64_t *seq, pc_error *err);

/*
 * pc_client_act_id - pc_client_act with the caller's action_id (1-64
 * bytes), for resuming an action after a restart. Same returns.
 */
pc_err pc_client_act_id(pc_client *c, const char *action_id, const char *type,
                        const cJSON *payload, cJSON **value, uint64_t *seq,
                        pc_error *err);

/*
 * pc_client_act_expect - pc_client_act (players and game masters) with a
 * fresh action id and expected_seq: the seq of the state the caller
 * decided on (usually pc_client_seq). If the room has moved past it and
 * the game refuses stale actions of this type (pc_game.strict_actions),
 * nothing changes and it returns PC_ERR_CONFLICT (err code "conflict");
 * pc_client_conflict_seq then gives the room's seq at the refusal.
 * Otherwise as pc_client_act. Never invokes callbacks.
 */
pc_err pc_client_act_expect(pc_client *c, const char *type,
                            const cJSON *payload, uint64_t expected_seq,
                            cJSON **value, uint64_t *seq, pc_error *err);

/* pc_client_conflict_seq - the room's seq the last PC_ERR_CONFLICT of
 * pc_client_act_expect reported; 0 before any. */
uint64_t pc_client_conflict_seq(const pc_client *c);

/*
 * Decision function for pc_client_act_retry: given the replica (state,
 * borrowed until it returns, at seq), choose an action: *type (borrowed;
 * must stay valid until pc_client_act_retry returns or calls the function
 * again) and *payload (NULL or a tree pc_client_act_retry takes ownership
 * of). Return PC_OK to act, anything else to give up (that code is
 * returned).
 */
typedef pc_err (*pc_client_decide_fn)(pc_client *c, const cJSON *state,
                                      uint64_t seq, const char **type,
                                      cJSON **payload, void *arg);

/*
 * pc_client_act_retry - optimistic concurrency made easy: call decide on
 * the replica, send its action with the replica's seq as expected_seq
 * (pc_client_act_expect) and, while the room refuses it as a conflict,
 * catch the replica up to the seq the refusal reported (taking queued
 * broadcasts, then `changes`; change and event callbacks fire as in
 * pc_client_poll) and decide again, at most retries more times (0: one
 * attempt). The first action that is not a conflict ends it: its result
 * is returned (*value and *seq as pc_client_act), or its refusal. Past
 * the bound it returns PC_ERR_CONFLICT with the last conflict in err.
 * Returns what pc_client_act_expect returns, or decide's code,
 * PC_ERR_INVALID (NULL client or function, retries < 0, no type),
 * PC_ERR_REENTRANT (called from one of the client's callbacks),
 * PC_ERR_TIMEOUT (the replica could not catch up), PC_ERR_CLOSED (a
 * callback closed the client, which is now freed).
 */
pc_err pc_client_act_retry(pc_client *c, pc_client_decide_fn decide, void *arg,
                           int retries, cJSON **value, uint64_t *seq,
                           pc_error *err);

/*
 * pc_client_state - the replica {"phase", "data"}: the player's view for
 * players, the whole state for the game master, the public view for
 * spectators. Borrowed until the next
 * pc_client_poll or pc_client_close; never NULL after a successful open.
 */
const cJSON *pc_client_state(const pc_client *c);

/* pc_client_seq - the replica's seq. */
uint64_t pc_client_seq(const pc_client *c);

/* pc_client_stale - true between a STALE and the next LIVE event. */
bool pc_client_stale(const pc_client *c);

/* pc_client_room, pc_client_player - the room id; the player id (NULL for
 * spectators). Borrowed until pc_client_close. */
const char *pc_client_room(const pc_client *c);
const char *pc_client_player(const pc_client *c);

/* pc_client_stats_get - copy the counters into *out. */
void pc_client_stats_get(const pc_client *c, pc_client_stats *out);

/* pc_client_event_name - "stale", "live", "snapshot", "gave_up" or
 * "unknown". */
const char *pc_client_event_name(pc_client_event ev);

#ifdef __cplusplus
}
#endif

#endif /* PHASECAST_CLIENT_H */
