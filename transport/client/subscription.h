/*
 * subscription.h - the client's broadcast side: one nng SUB socket
 * subscribed to one room's topic, and the checks that turn a received
 * message into an envelope of that room (internal; the public API is
 * phasecast/client.h, the format docs/protocol.md "Broadcast (PUB)").
 *
 * It receives and checks; it does not apply changes, track seqs or decide
 * on repairs (client.c does). Never blocks. Not thread-safe: the client's
 * thread owns it.
 */
#ifndef PC_CLIENT_SUBSCRIPTION_H
#define PC_CLIENT_SUBSCRIPTION_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <nng/nng.h>

#include "phasecast/client.h"
#include "phasecast/error.h"
#include "phasecast/json.h"

#include "frame.h"

/* The SUB side of one client. Embedded in the client; the borrowed
 * pointers must outlive it. */
typedef struct pc__subscription {
    nng_socket sock;
    nng_dialer dialer; /* closed before sock, see pc__subscription_stop */
    bool open;         /* sock was opened */
    char *topic;       /* "<room> ", owned */
    size_t topic_len;
    const char *room;          /* borrowed */
    const pc_json_limits *lim; /* borrowed: limits for every envelope */
    pc_client_stats *st;       /* borrowed: the client's counters */
    pc__frame frame;           /* the last frame the fast path took */
    nng_aio *aio;              /* kept for every receive: nng_recvmsg would
                                  allocate one per message (and nng draws a
                                  random number, a system call, for each) */
} pc__subscription;

/* pc__subscription_init - an unopened subscription to room. Returns PC_OK
 * or PC_ERR_NOMEM; pc__subscription_close cleans up either way. */
pc_err pc__subscription_init(pc__subscription *s, const char *room,
                             const pc_json_limits *lim, pc_client_stats *st);

/* pc__subscription_open - open the SUB socket with cfg's receive limits,
 * subscribe to "<room> " and only then dial cfg->pub_url in the background,
 * so nothing the room publishes after the dial is missed for want of a
 * subscription. Returns 0 or an nng error. */
int pc__subscription_open(pc__subscription *s, const pc_client_config *cfg);

/* pc__subscription_stop - close the dialer (no new connections). */
void pc__subscription_stop(pc__subscription *s);

/* pc__subscription_close - close the socket, if open, and free the
 * topic. Call pc__subscription_stop first. */
void pc__subscription_close(pc__subscription *s);

/* pc__subscription_fd - the socket's NNG_OPT_RECVFD, or -1. */
int pc__subscription_fd(pc__subscription *s);

/*
 * pc__subscription_envelope - the checks pc__subscription_recv makes on
 * one received body (len bytes, the topic included; not NUL-terminated):
 * counts it in messages, and either *frame points to s->frame holding its
 * changes (a "changes" frame pc__frame_decode took; the caller calls
 * pc__frame_clear when done) or *doc receives its envelope (caller
 * deletes), or both are NULL (counted in bad_messages). Returns PC_OK or
 * PC_ERR_NOMEM.
 */
pc_err pc__subscription_envelope(pc__subscription *s, const char *body,
                                 size_t len, cJSON **doc, pc__frame **frame);

/*
 * pc__subscription_recv - take the next queued message without waiting.
 * *got is false when none is queued. Otherwise the message counts in
 * messages, and when it is "<room> " followed by a strict-JSON object with
 * "v": 1, a string "type" and "room" naming this room, either *frame
 * points to s->frame holding its changes (a "changes" frame that
 * pc__frame_decode took; the caller calls pc__frame_clear when done) or
 * *doc receives the envelope (caller deletes); anything else counts in
 * bad_messages and leaves both NULL. Returns PC_OK, PC_ERR_NOMEM or
 * PC_ERR_IO (the socket failed).
 */
pc_err pc__subscription_recv(pc__subscription *s, bool *got, cJSON **doc,
                             pc__frame **frame);

#endif
