/*
 * phasecast/server.h - host rooms on the network (wire protocol v1).
 *
 * A pc_server owns one event loop (libevent), one nng PUB socket that
 * broadcasts every committed change of every room it hosts, and one nng REP
 * socket that answers requests (join, action, snapshot, changes, info,
 * ping); docs/protocol.md is the contract. It hosts any number of rooms,
 * each created by pc_server_add_room: the server attaches its broadcast
 * sink, drives the room's phase timers and heartbeat from the loop, and
 * delivers players' actions to the game. With a log directory it also
 * keeps every room durable (changelog.h, docs/durability.md): each change
 * is logged before it is committed, broadcast or acknowledged, and
 * pc_server_recover rebuilds the rooms after a restart. It does not rate
 * limit clients, or spread rooms over several loops or processes. Only the
 * declarations in this header are public.
 *
 * Threads. Everything a server hosts - its rooms above all - is touched on
 * one thread at a time, the loop's owner:
 *
 *   pc_server_new                pc_server_start
 *  ---------------> CALLER-OWNED ----------------> RUNNING (a loop thread
 *                   (the caller   <---------------  owns the rooms; other
 *                    thread owns   pc_server_stop   threads reach them with
 *                    the rooms)                      pc_server_post/_call)
 *   pc_server_free from CALLER-OWNED (it stops a RUNNING server first).
 *
 *   from          to            function          on which thread
 *   ------------  ------------  ----------------  ---------------------------
 *   (none)        CALLER-OWNED  pc_server_new     any
 *   CALLER-OWNED  RUNNING       pc_server_start   the owner
 *   RUNNING       CALLER-OWNED  pc_server_stop    any but the loop thread
 *   either        (freed)       pc_server_free    any but the loop thread
 *
 * While CALLER-OWNED the sockets already listen, but requests wait (in nng)
 * until the loop runs; a caller that never starts a thread can run the loop
 * itself with pc_server_run_once. Functions marked "loop owner" below must
 * be called by the thread that currently owns the loop: the RUNNING loop
 * thread (from a posted function, a room callback or a sink), or the
 * caller while CALLER-OWNED; elsewhere they fail with PC_ERR_PERMISSION.
 *
 * Every process that used a server calls pc_transport_fini() once at exit,
 * after freeing every server and every other nng or libevent object.
 */
#ifndef PHASECAST_SERVER_H
#define PHASECAST_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "phasecast/changelog.h"
#include "phasecast/error.h"
#include "phasecast/room.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pc_server pc_server;

/* The wire protocol version this server speaks ("v" in every message). */
#define PC_PROTOCOL_VERSION 1
/* Default largest request body answered normally (1 MiB); see options. */
#define PC_SERVER_MESSAGE_DEFAULT (1024 * 1024)
/* Longest inspector credential (pc_server_options.inspector_credential). */
#define PC_SERVER_CREDENTIAL_MAX 128
/* Bytes of records one "inspect" reply carries at most (one record
 * larger than this goes out alone). */
#define PC_SERVER_INSPECT_BUDGET (4 * 1024 * 1024)
/* Default heartbeat period per room. */
#define PC_SERVER_HEARTBEAT_DEFAULT 1000
/* Default PUB queue per subscriber, in messages (nng's own default is 16). */
#define PC_SERVER_SENDBUF_DEFAULT 1024
/* Action replies remembered per player for de-duplication. */
#define PC_SERVER_ACTION_CACHE 64
/* Longest action_id in bytes. */
#define PC_SERVER_ACTION_ID_MAX 64
/* Longest player name in bytes (names are [A-Za-z0-9_.-]{1,32}). */
#define PC_SERVER_NAME_MAX 32
/* Shortest and longest join nonce in bytes (nonces are [A-Za-z0-9_-]); see
 * docs/protocol.md "join". */
#define PC_SERVER_NONCE_MIN 16
#define PC_SERVER_NONCE_MAX 64

/* HTTP bridge defaults (pc_server_http_options; docs/web.md). */
#define PC_HTTP_CONNECTIONS_DEFAULT  1024
#define PC_HTTP_HEADER_BYTES_DEFAULT 8192
#define PC_HTTP_RATE_DEFAULT         100   /* requests per second per address */
#define PC_HTTP_IDLE_TIMEOUT_DEFAULT 30000 /* ms */
#define PC_HTTP_SSE_BUFFER_DEFAULT   (1024 * 1024)

/* The HTTP bridge (docs/web.md): the rooms over HTTP and Server-Sent
 * Events, the pages and /metrics, on the server's own loop. Zero members
 * take the defaults above. */
typedef struct pc_server_http_options {
    /* "host:port" to listen on, e.g. "127.0.0.1:8080" (port 0: any free
     * port, see pc_server_http_url). NULL (the default): no bridge. */
    const char *addr;
    size_t max_connections;  /* open at once; past it, new ones wait in
                                the kernel's accept queue */
    size_t max_header_bytes; /* request line and headers (evhttp says 400
                                past it); bodies obey max_message_bytes */
    unsigned rate;           /* requests per second per client address
                                (bursts of twice that); past it 429 */
    int idle_timeout_ms;     /* a connection silent this long is closed */
    size_t sse_buffer_bytes; /* unsent bytes one event stream may hold;
                                past it the stream is closed and the
                                browser resumes from Last-Event-ID */
    /* Access-Control-Allow-Origin for every reply ("*" or an origin),
     * and CORS preflights answered. NULL (the default): CORS off. */
    const char *cors_origin;
    /* A directory to serve the pages (/ui/) from instead of the copies
     * compiled into the library, for working on them. NULL: built in. */
    const char *web_root;
} pc_server_http_options;

/* Server settings; start from pc_server_options_init. */
typedef struct pc_server_options {
    /* nng URLs to listen on, e.g. "tcp://127.0.0.1:0" (port 0: any free
     * port; see pc_server_pub_url), "ipc:///tmp/x.sock", "inproc://x",
     * "ws://host:port/path". Copied. Both are required. */
    const char *pub_url;
    const char *rep_url;
    /* Largest request body answered normally; 0 = the default. A bigger
     * body, up to twice this, is answered with limit_exceeded; beyond that
     * nng drops the connection (NNG_OPT_RECVMAXSZ). */
    size_t max_message_bytes;
    int heartbeat_ms; /* per-room heartbeat period; 0 = default, < 0 none */
    int pub_sendbuf;  /* PUB queue per subscriber (1..8192); 0 = default */
    pc_json_limits request_limits; /* JSON limits on requests; zero = the
                                      defaults, max_bytes is ignored */
    /* The per-player action rate limit (docs/protocol.md "action"): a
     * token bucket for each player and game master of every room, holding
     * up to action_burst actions and refilled at action_rate actions per
     * second of the room's clock. An action that finds its sender's
     * bucket empty is refused with rate_limited before the game sees it:
     * nothing changes, and the refusal is not remembered under the
     * action_id, so the same action may be resent later. A repeat of an
     * action_id already answered costs nothing. Other players' buckets
     * are their own, so one player's flood never slows them. action_rate
     * 0 (the default): no limit. action_burst 0: action_rate (at least
     * 1); a burst without a rate is PC_ERR_INVALID. */
    unsigned action_rate;
    unsigned action_burst;
    /* For tests only: suppress publishing about drop_permille of every
     * 1000 changes (0..1000; 0, the default, publishes all), chosen by a
     * PRNG seeded with drop_seed (per room, mixed with the room id). A
     * suppressed change is committed and kept in history as usual, just
     * never sent on PUB, exactly as if PUB had dropped it: clients see a
     * gap and repair. Frames still hold only consecutive changes. */
    unsigned drop_permille;
    uint64_t drop_seed;
    /* Durability. log_dir NULL (the default): rooms live in memory only.
     * Otherwise every hosted room logs into log_dir (which must exist) as
     * changelog.h describes, with the players who joined it (names and
     * tokens, in <room>.players, mode 0600) so they can act after a
     * restart. fsync: default PC_FSYNC_EVERYSEC, synced by a 1 s timer on
     * the loop. keyframe_every: default PC_CHANGELOG_KEYFRAME_DEFAULT,
     * 0 never compacts. keep_segments: archived segments kept per room
     * (pc_changelog_options), default PC_CHANGELOG_KEEP_ALL. Copied. */
    const char *log_dir;
    pc_fsync_policy fsync;
    uint64_t keyframe_every;
    size_t keep_segments;
    /* Told once, on the loop thread, when a hosted room fails: its change
     * log could not be written, so it refuses every change until the
     * server restarts (docs/durability.md). room and why are borrowed for
     * the call. NULL (the default): nobody is told but the clients. */
    void (*on_room_failed)(const char *room, const pc_error *why, void *arg);
    void *on_room_failed_arg;
    /* The secret the time-travel inspector's "inspect" request must carry
     * (docs/inspector.md): 16 to PC_SERVER_CREDENTIAL_MAX printable ASCII
     * characters without spaces, copied. It reads whole states, every
     * player's secrets included. NULL or "" (the default): the inspector
     * is disabled and every inspect request is refused. */
    const char *inspector_credential;
    /* The HTTP bridge; off unless http.addr is set. Strings are copied. */
    pc_server_http_options http;
} pc_server_options;

/* pc_server_options_init - fill o with the defaults (URLs NULL). */
void pc_server_options_init(pc_server_options *o);

/*
 * pc_server_new - open the sockets, listen on both URLs and create the
 * loop; the new server is CALLER-OWNED by the calling thread. *out
 * receives the server, freed with pc_server_free. Any thread. Returns
 * PC_OK, PC_ERR_INVALID (opts or a URL missing or malformed, sizes out
 * of range, drop_permille over 1000), PC_ERR_IO (a socket could not listen,
 * e.g. the address is in use; the message in err (may be NULL) says which and
 * why) or PC_ERR_NOMEM.
 */
pc_err pc_server_new(const pc_server_options *opts, pc_server **out,
                     pc_error *err);

/*
 * pc_server_free - stop the server if it is running, free every room it
 * hosts (without calling sinks), run any work still posted (see
 * pc_server_post) and close the sockets. NULL is ignored. Never from the
 * loop thread.
 */
void pc_server_free(pc_server *srv);

/*
 * pc_server_pub_url, pc_server_rep_url - the URL each socket actually
 * listens on, with an ephemeral TCP port resolved (tcp://127.0.0.1:0
 * becomes tcp://127.0.0.1:41234). Borrowed for the life of the server. Any
 * thread.
 */
const char *pc_server_pub_url(const pc_server *srv);
const char *pc_server_rep_url(const pc_server *srv);

/*
 * pc_server_http_url - the bridge's URL, "http://127.0.0.1:41234" (the
 * bound port), or NULL when the server has no bridge. Borrowed for the
 * life of the server. Any thread.
 */
const char *pc_server_http_url(const pc_server *srv);

/*
 * pc_server_start - spawn the loop thread; the server becomes RUNNING.
 * Loop owner (the CALLER-OWNED caller). Returns PC_OK, PC_ERR_STATE
 * (already running), PC_ERR_PERMISSION or PC_ERR_IO (no thread).
 */
pc_err pc_server_start(pc_server *srv);

/*
 * pc_server_stop - let the loop finish its current callback, join the
 * loop thread and hand the server back to the calling thread
 * (CALLER-OWNED). Work posted before the stop still runs, on the loop
 * thread or, if the loop was already leaving, on the caller's. Any thread
 * but the loop's. Returns PC_OK, PC_ERR_STATE (not running) or
 * PC_ERR_PERMISSION (called on the loop thread).
 */
pc_err pc_server_stop(pc_server *srv);

/*
 * pc_server_run_once - run the loop on the calling thread: wait up to
 * timeout_ms (0: do not wait; < 0: until something happens) for events,
 * and handle those that are ready (requests, timers, posted work). For
 * hosts with their own main loop and for tests. Loop owner, CALLER-OWNED
 * only. Returns PC_OK, PC_ERR_STATE (RUNNING) or PC_ERR_PERMISSION.
 */
pc_err pc_server_run_once(pc_server *srv, int timeout_ms);

/* Work posted to the loop. srv is the server, arg the poster's pointer. */
typedef void (*pc_server_fn)(pc_server *srv, void *arg);

/*
 * pc_server_post - run fn(srv, arg) on the loop owner's thread, soon and
 * in posting order. Any thread (from the loop thread it is queued too, and
 * runs after the current callback). If it returns PC_OK, fn runs exactly
 * once: on the loop, or, if the server stops or is freed first, on the
 * thread calling pc_server_stop/pc_server_free. Returns PC_OK,
 * PC_ERR_INVALID (fn NULL) or PC_ERR_NOMEM (fn never runs).
 */
pc_err pc_server_post(pc_server *srv, pc_server_fn fn, void *arg);

/*
 * pc_server_call - run fn(srv, arg) on the loop owner's thread and wait
 * until it has returned. On the loop owner's thread it simply calls fn.
 * Any thread. Returns PC_OK, PC_ERR_INVALID (fn NULL) or PC_ERR_NOMEM (fn
 * did not run).
 */
pc_err pc_server_call(pc_server *srv, pc_server_fn fn, void *arg);

/* Hosting settings for one room; start from pc_server_room_options_init. */
typedef struct pc_server_room_options {
    pc_room_options room; /* the room's own settings (id, history, ...) */
    /* The action type a "join" request from a player delivers to the game,
     * with that player and no payload, before a token is issued: the game
     * seats the player or refuses (e.g. room_full). NULL: joining only
     * registers the name. Default "join". Copied. */
    const char *join_action;
    size_t max_players; /* tokens issued per room; 0 = 64 */
    /* The secret a "join" with role "gm" must carry to make its sender
     * this room's game master (docs/protocol.md "join"): a viewer who
     * sees the whole state, every player's private members and every
     * event, and whose actions reach the game with PC_ROLE_GM. Same
     * form as the inspector credential (16 to PC_SERVER_CREDENTIAL_MAX
     * printable ASCII characters without spaces), compared in constant
     * time, copied and wiped when the room goes. Hosts read it from a
     * file or the environment, never from a command line. NULL or ""
     * (the default): the room has no game master and every such join is
     * refused. */
    const char *gm_credential;
} pc_server_room_options;

/* pc_server_room_options_init - fill o with the defaults. */
void pc_server_room_options_init(pc_server_room_options *o);

/*
 * pc_server_add_room - create a room of game (see pc_room_new), attach the
 * broadcast sink and the loop's timers, and start it, so its first changes
 * are broadcast. Loop owner. game is borrowed for the life of the room;
 * opts is copied (NULL: defaults). On success *out (may be NULL) receives
 * the room, owned by the server: use it on the loop owner's thread only,
 * never pc_room_free it. With a log directory the room's log is created
 * before the room starts. Returns PC_OK, PC_ERR_INVALID (bad game or id,
 * or the id is taken on this server), PC_ERR_PERMISSION, PC_ERR_NOMEM, or
 * (with a log directory) PC_ERR_STATE (the room has a log already: call
 * pc_server_recover first), PC_ERR_LIMIT (the room allows JSON deeper
 * than a log can hold) or PC_ERR_IO.
 */
pc_err pc_server_add_room(pc_server *srv, const pc_game *game,
                          const pc_server_room_options *opts, pc_room **out);

/* Told about each log pc_server_recover reads, once, whether the room
 * was recovered (rc PC_OK) or not; rep and err are borrowed until the
 * callback returns. */
typedef void (*pc_server_recover_fn)(const pc_changelog_report *rep, pc_err rc,
                                     const pc_error *err, void *arg);

/*
 * pc_server_recover - host every room logged in the server's log
 * directory, in room id order: each is rebuilt with pc_changelog_recover
 * (flags: 0 or PC_CHANGELOG_REPAIR) from the game in games[0..ngames)
 * that its log names, given its players back, hosted with opts (NULL:
 * defaults; opts->room.id is ignored, and opts->room.arg is replaced by
 * the game entry's arg) and started (a restored room does
 * not re-run its phase's enter callback; its phase timer, if one was
 * armed, fires at the deadline the log recorded). fn (may be NULL) is told
 * about each log. Stops at the first room that cannot be recovered (rooms
 * recovered before it stay hosted), so a server does not start with a room
 * missing. Call it once, before pc_server_add_room. Loop owner. Returns PC_OK
 * (also when there is no log), PC_ERR_STATE (no log directory),
 * PC_ERR_PERMISSION, or what pc_changelog_recover returns, with err naming the
 * file and the problem.
 */
pc_err pc_server_recover(pc_server *srv, const pc_changelog_game *games,
                         size_t ngames, const pc_server_room_options *opts,
                         unsigned flags, pc_server_recover_fn fn, void *arg,
                         pc_error *err);

/*
 * pc_server_find_room - the hosted room with this id, or NULL. Loop
 * owner (NULL elsewhere). Borrowed until the room is removed.
 */
pc_room *pc_server_find_room(pc_server *srv, const char *id);

/*
 * pc_server_remove_room - stop hosting the room with this id and free it;
 * changes it committed are broadcast first. Loop owner, but not from
 * inside one of the room's own callbacks. Returns PC_OK,
 * PC_ERR_NOT_FOUND or PC_ERR_PERMISSION.
 */
pc_err pc_server_remove_room(pc_server *srv, const char *id);

/* What the server has published since pc_server_new; counters only grow. */
typedef struct pc_server_stats {
    uint64_t frames;       /* change frames sent on PUB */
    uint64_t frame_bytes;  /* their bytes, topic included */
    uint64_t changes;      /* changes in those frames */
    uint64_t changes_lost; /* committed changes never handed to PUB (the
                              frame could not be built or nng refused it);
                              clients repair them like any gap. Changes
                              suppressed by drop_permille are not counted */
    uint64_t heartbeats;   /* heartbeats sent */
    uint64_t publish_ns;   /* CLOCK_MONOTONIC time the loop spent encoding
                              changes into frames and sending them */
    uint64_t send_ns;      /* the part of publish_ns spent sending frames
                              (nng message, copy, nng_sendmsg); the rest
                              is encoding */
} pc_server_stats;

/*
 * pc_server_stats_get - copy the publishing counters into *out. Runs on the
 * loop (through pc_server_call), so it is safe from any thread and sees
 * every change committed before it. Returns PC_OK, PC_ERR_INVALID (NULL
 * argument) or PC_ERR_NOMEM.
 */
pc_err pc_server_stats_get(pc_server *srv, pc_server_stats *out);

/* What the HTTP bridge has done since pc_server_new; "now" members are
 * gauges, the rest only grow. */
typedef struct pc_server_http_stats {
    uint64_t connections;       /* open now */
    uint64_t connections_total; /* accepted */
    uint64_t requests;          /* requests read */
    uint64_t rate_limited;      /* answered 429 */
    uint64_t responses[6];      /* replies by class: [2] 2xx ... [5] 5xx */
    uint64_t sse_streams;       /* event streams open now */
    uint64_t sse_opened;        /* event streams opened */
    uint64_t sse_resumed;       /* opened from Last-Event-ID inside the ring */
    uint64_t sse_snapshots;     /* opened with a snapshot event */
    uint64_t sse_cut;           /* closed for passing sse_buffer_bytes */
    uint64_t sse_events;        /* events queued, heartbeats included */
    uint64_t sse_bytes;         /* their bytes */
} pc_server_http_stats;

/*
 * pc_server_http_stats_get - copy the bridge's counters into *out, on the
 * loop (through pc_server_call), so from any thread. Returns PC_OK,
 * PC_ERR_INVALID (NULL argument), PC_ERR_STATE (no bridge) or
 * PC_ERR_NOMEM.
 */
pc_err pc_server_http_stats_get(pc_server *srv, pc_server_http_stats *out);

/*
 * pc_server_metrics_text - the server's metrics (rooms, changes committed
 * and published, frames and bytes, heartbeats, requests and their latency
 * by operation, errors by code, gap repairs, checksum mismatches clients
 * reported, change-log append and fsync latency, HTTP and SSE
 * connections) as Prometheus text exposition format 0.0.4, every name
 * prefixed phasecast_; docs/metrics.md lists them. Renders on the loop
 * (through pc_server_call), so it is safe from any thread and sees
 * everything the loop did before it. On PC_OK *text receives the
 * NUL-terminated text, which the caller frees with pc_free, and *len its
 * length without the NUL. Returns PC_OK, PC_ERR_INVALID (NULL argument)
 * or PC_ERR_NOMEM.
 */
pc_err pc_server_metrics_text(pc_server *srv, char **text, size_t *len);

/*
 * pc_transport_fini - release the process-wide state of nng and libevent
 * (nng_fini, libevent_global_shutdown) so leak checkers see a clean exit.
 * Call once, at exit, after every server and every other nng socket and
 * libevent base of the process are gone, from one thread.
 */
void pc_transport_fini(void);

#ifdef __cplusplus
}
#endif

#endif /* PHASECAST_SERVER_H */
