/*
 * request.h - the client's request channel: one nng REQ socket, the retry
 * policy, and the protocol v1 requests a client sends and the checks on
 * their replies (internal; the public API is phasecast/client.h, the format
 * docs/protocol.md).
 *
 * client.c decides when to ask (open, repairs, actions); this module does
 * the asking. Every call blocks the calling thread for at most its attempts'
 * timeouts and runs no callback. Replies are parsed under the client's
 * limits and decoded just far enough to hand client.c plain values;
 * malformed replies count in the client's bad_messages and return
 * PC_ERR_PROTOCOL. Not thread-safe: the client's thread owns it.
 */
#ifndef PC_CLIENT_REQUEST_H
#define PC_CLIENT_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <nng/nng.h>

#include "phasecast/client.h"
#include "phasecast/error.h"
#include "phasecast/json.h"

#include "harness.h"
#include "replica.h"

/* Room for an action id made by pc__request_action_id. */
#define PC__ACTION_ID_SIZE 40

/* The REQ side of one client. Embedded in the client; the borrowed
 * pointers must outlive it. */
typedef struct pc__request {
    nng_socket sock;
    nng_dialer dialer;         /* closed before sock, see pc__request_close */
    bool open;                 /* sock was opened */
    int timeout_ms;            /* the first attempt's reply timeout */
    const char *room;          /* borrowed: the room every request names */
    const pc_json_limits *lim; /* borrowed: limits for every reply */
    pc_client_stats *st;       /* borrowed: the client's counters */
    char token[33];            /* players: 32 hex digits from join; "" before */
    char nonce[65];            /* [A-Za-z0-9_-], sent with a join: the
                                  config's, or 32 random characters */
    uint64_t action_counter;
    char action_prefix[17]; /* random, hex */
    /* The last reply that was an error carrying the room's seq (a
     * conflict): that seq. */
    bool has_error_seq;
    uint64_t error_seq;
    /* A harnessed client's stand-in for the socket (harness.h), borrowed
     * from the client; NULL for a networked one. */
    const pc__client_harness *harness;
} pc__request;

/* pc__request_nng_err - the pc_err for an nng error code (0 is PC_OK). */
pc_err pc__request_nng_err(int rv);

/*
 * pc__request_dial - create a dialer for s to url with cfg's reconnect
 * bounds and receive limit, and start it in the background (it reconnects
 * by itself). The client's SUB socket is dialed the same way. *out receives
 * the dialer as soon as it exists, so it can be closed even when a later
 * step fails. Returns 0 or an nng error.
 */
int pc__request_dial(nng_socket s, const char *url, const pc_client_config *cfg,
                     nng_dialer *out);

/* pc__request_init - an unopened channel for room, with cfg's (resolved)
 * timeout, a fresh random action-id prefix and a fresh random join nonce. */
void pc__request_init(pc__request *r, const char *room,
                      const pc_client_config *cfg, const pc_json_limits *lim,
                      pc_client_stats *st);

/* pc__request_open - open the REQ socket (nng's own resends off, so the
 * calls below are the only retry policy) and dial cfg->req_url. On failure
 * pc__request_close still cleans up. Returns 0 or an nng error. */
int pc__request_open(pc__request *r, const pc_client_config *cfg);

/* pc__request_close - close the dialer, then the socket, if open. */
void pc__request_close(pc__request *r);

/* pc__request_new - a new request {"v":1,"op":op,"room":room} plus the
 * token once there is one; NULL when out of memory. Caller deletes. */
cJSON *pc__request_new(const pc__request *r, const char *op);

/*
 * pc__request_call - send req and wait for its reply, up to attempts times;
 * attempt k waits timeout << k ms (capped). A new send on a cooked REQ
 * socket abandons the previous request. On PC_OK *root receives the parsed
 * reply (caller deletes) and *result borrows its result. Server refusals
 * return the mapped code with e (may be NULL) filled; otherwise
 * PC_ERR_TIMEOUT, PC_ERR_CLOSED, PC_ERR_NOMEM or PC_ERR_PROTOCOL.
 */
pc_err pc__request_call(pc__request *r, const cJSON *req, int attempts,
                        cJSON **root, const cJSON **result, pc_error *e);

/*
 * pc__request_join - send `join` as a player called name, or as a spectator
 * when name is NULL, or as the game master called name when gm_credential
 * is not NULL (it is sent as the join's "credential"). A player's join carries
 * the channel's nonce, so every attempt is the same join: a retry after a lost
 * reply gets the first reply again instead of name_taken. A player's token is
 * checked (32 hex digits) and kept for every later request, and *paths receives
 * the game's private-path patterns the reply announced (NULL-terminated; the
 * caller frees them with pc__request_paths_free), or NULL when they are absent
 * or malformed (counted in bad_messages). *paths is untouched for spectators
 * and on failure. Returns as pc__request_call.
 */
pc_err pc__request_join(pc__request *r, const char *name,
                        const char *gm_credential, int attempts, char ***paths,
                        pc_error *e);

/* pc__wipe - overwrite n bytes of buf with zeros (kept by the compiler),
 * for secrets. */
void pc__wipe(void *buf, size_t n);

/* pc__request_paths_free - free what pc__request_join put in *paths; NULL
 * is fine. */
void pc__request_paths_free(char **paths);

/*
 * pc__request_snapshot - ask `snapshot` and build a replica from it. On
 * PC_OK *out (not initialised; caller finis it) holds the state at the
 * announced seq, its checksum checked against the announced sum. A reply
 * whose state disagrees with its own sum is PC_ERR_PROTOCOL (counted in
 * checksum_mismatches); a malformed one too (bad_messages). Otherwise
 * returns as pc__request_call.
 */
pc_err pc__request_snapshot(pc__request *r, int attempts, pc__replica *out,
                            pc_error *e);

/*
 * pc__request_changes - ask `changes` since seq `since`, once. On PC_OK
 * *root receives the reply (caller deletes), *head the server's seq and
 * *list borrows the (not yet decoded) array of changes. Returns as
 * pc__request_call.
 */
pc_err pc__request_changes(pc__request *r, uint64_t since, cJSON **root,
                           uint64_t *head, const cJSON **list);

/* pc__request_action_id - the next "<prefix>-<counter>" action id. */
void pc__request_action_id(pc__request *r, char id[PC__ACTION_ID_SIZE]);

/*
 * pc__request_act - send `action` with action_id (1-64 bytes), type and
 * payload (may be NULL; borrowed), and *expected_seq when expected_seq is
 * not NULL, retrying with the same id. A conflict leaves the room's seq in
 * r->error_seq (has_error_seq). On PC_OK
 * *value (may be NULL) receives the game's result (JSON null when none;
 * caller deletes) and *seq (may be NULL) the room's seq after it. Returns
 * PC_ERR_INVALID for a bad id or type, otherwise as pc__request_call, with
 * err filled on every failure.
 */
pc_err pc__request_act(pc__request *r, const char *action_id, const char *type,
                       const cJSON *payload, const uint64_t *expected_seq,
                       int attempts, cJSON **value, uint64_t *seq,
                       pc_error *err);

/*
 * pc__request_report - tell the server that the replica's checksum
 * disagreed with the one announced for seq (the `report` op, kind
 * "checksum_mismatch"), so operators see divergence in the server's
 * metrics. Fire and forget: one attempt, the reply or its absence
 * ignored, so it blocks at most one request timeout, like the first
 * attempt of any request, and never fails the caller.
 */
void pc__request_report(pc__request *r, uint64_t seq);

#endif
