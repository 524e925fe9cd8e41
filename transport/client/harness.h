/*
 * harness.h - a client without sockets, for the fuzz target fuzz_client
 * (internal; the public API is phasecast/client.h, the format
 * docs/protocol.md).
 *
 * A harnessed client is a real pc_client whose request channel is a
 * function and whose broadcast is whatever the harness hands it, one
 * message at a time, on the caller's thread, with a clock the harness
 * owns. Everything in between (the envelope checks, ordering, gap and
 * checksum repairs, the snapshot budget, staleness, callbacks) is the
 * client's own code, so a decoder fuzz target reaches all of it
 * deterministically. pc_client_poll, pc_client_fd and the retry helper
 * need the sockets and fail (PC_ERR_IO, -1) on a harnessed client; the
 * other public calls work, their requests going through the harness. It
 * is not a mock transport for integration tests (those use real
 * sockets), and it is not installed.
 */
#ifndef PC_CLIENT_HARNESS_H
#define PC_CLIENT_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "phasecast/client.h"
#include "phasecast/error.h"

/* What stands in for a harnessed client's sockets and clock. */
typedef struct pc__client_harness {
    /*
     * exchange - answer one request attempt: req[0..len) is the body the
     * client would send (not NUL-terminated). Returns PC_OK with *reply
     * and *reply_len set to the reply body, borrowed until the next call
     * or until the client is closed; PC_ERR_TIMEOUT (no reply: the client
     * retries as after a timeout), or PC_ERR_CLOSED / PC_ERR_NOMEM (the
     * request fails at once).
     */
    pc_err (*exchange)(const char *req, size_t len, const char **reply,
                       size_t *reply_len, void *arg);
    int64_t (*now_ms)(void *arg); /* the monotonic clock, ms */
    void *arg;
} pc__client_harness;

/*
 * pc__client_open_harnessed - pc_client_open without sockets: cfg is
 * checked and copied as there (its URLs must be well-formed but are never
 * dialed), and join and snapshot go through h->exchange. h is copied.
 * Returns as pc_client_open; the client is freed with pc_client_close.
 */
pc_err pc__client_open_harnessed(const pc_client_config *cfg,
                                 const pc__client_harness *h, pc_client **out,
                                 pc_error *err);

/*
 * pc__client_deliver - one broadcast message (msg[0..len), the topic
 * included, as the SUB socket would receive it), handled as pc_client_poll
 * handles a received message, followed by the client's timers (staleness
 * and due repairs). Returns as pc_client_poll: PC_ERR_CLOSED when a
 * callback closed the client, which is then freed.
 */
pc_err pc__client_deliver(pc_client *c, const void *msg, size_t len);

/* pc__client_tick - the client's timers alone, as a pc_client_poll that
 * received nothing would run them. Returns as pc__client_deliver. */
pc_err pc__client_tick(pc_client *c);

/* pc__client_sum - true, with *sum the checksum the client holds for its
 * replica, when it holds one. */
bool pc__client_sum(const pc_client *c, uint64_t *sum);

#endif
