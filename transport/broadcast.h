/*
 * broadcast.h - one room's publisher on the server's PUB socket: the sink
 * that turns committed changes into "changes" frames, and the room's
 * heartbeat (internal; docs/protocol.md is the wire format).
 */
#ifndef PC_TRANSPORT_BROADCAST_H
#define PC_TRANSPORT_BROADCAST_H

#include <stdint.h>

#include <nng/nng.h>

#include "phasecast/change.h"
#include "phasecast/error.h"
#include "phasecast/room.h"

struct event_base;

/* Most changes one frame carries, and the size past which a frame is sent
 * rather than grown (a single large change may still exceed it). */
#define PC__FRAME_CHANGES_MAX 64
#define PC__FRAME_BYTES_SOFT  (64 * 1024)

typedef struct pc__broadcast pc__broadcast;

/* Publishing counters, shared by every room of a server (loop thread). */
typedef struct pc__pub_stats {
    uint64_t frames;     /* change frames sent */
    uint64_t bytes;      /* their bytes, topic included */
    uint64_t changes;    /* changes in those frames */
    uint64_t lost;       /* committed changes never sent */
    uint64_t heartbeats; /* heartbeats sent */
    uint64_t publish_ns; /* time spent encoding and sending changes */
    uint64_t send_ns;    /* the part of it spent sending frames */
} pc__pub_stats;

/* Publish room on pub from the loop of base, with a heartbeat every
 * heartbeat_ms (< 0: none), counting into stats (borrowed, outlives b).
 * Attach pc__broadcast_sink with the result as its arg yourself. Returns
 * PC_OK or PC_ERR_NOMEM. */
pc_err pc__broadcast_new(struct event_base *base, nng_socket pub, pc_room *room,
                         int heartbeat_ms, pc__pub_stats *stats,
                         pc__broadcast **out);
/* Stop the heartbeat and drop anything unsent (flush first). NULL ok. */
void pc__broadcast_free(pc__broadcast *b);
/* The room's sink: queue the public CHANGE for the frame now open. */
void pc__broadcast_sink(pc_room *room, const pc_change *change, void *arg);
/* Send the open frame, if any, now. */
void pc__broadcast_flush(pc__broadcast *b);
/* For tests: suppress about permille/1000 of the changes (never sent, as
 * if PUB dropped them), chosen by a PRNG seeded from seed and the room id.
 * 0 turns it off (the default). */
void pc__broadcast_set_drop(pc__broadcast *b, unsigned permille, uint64_t seed);
/* Changes that could not be encoded or sent (clients repair from them). */
uint64_t pc__broadcast_lost(const pc__broadcast *b);

#endif
