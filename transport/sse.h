/*
 * sse.h - one room's Server-Sent Event streams on the HTTP bridge
 * (internal; docs/web.md is the contract).
 *
 * A hub per hosted room holds the room's open streams. Its sink turns
 * each committed change into one "changes" event per stream, in the
 * stream's view, queued and sent once per loop iteration; its timer sends
 * heartbeats. A stream opens with the changes after the client's
 * Last-Event-ID when the room still holds them, else with a snapshot.
 * A stream whose unsent bytes pass the cap is cut; the browser resumes.
 */
#ifndef PC_TRANSPORT_SSE_H
#define PC_TRANSPORT_SSE_H

#include <stddef.h>
#include <stdint.h>

#include "phasecast/change.h"
#include "phasecast/error.h"
#include "phasecast/room.h"
#include "phasecast/view.h"
#include "httpd.h"

struct event_base;
struct evhttp_request;

typedef struct pc__sse_hub pc__sse_hub;

/* Counters shared by every hub of a server (loop thread). */
typedef struct pc__sse_stats {
    uint64_t streams;   /* open now */
    uint64_t opened;    /* since the hub was made */
    uint64_t cut;       /* closed for passing the buffer cap */
    uint64_t events;    /* events queued, heartbeats included */
    uint64_t bytes;     /* their bytes */
    uint64_t resumed;   /* opened from Last-Event-ID inside the ring */
    uint64_t snapshots; /* opened (or resumed) with a snapshot */
} pc__sse_stats;

/* Streams of room, on d's connections, heartbeat every heartbeat_ms (<= 0:
 * a keep-alive comment every 15 s instead), counting into stats
 * (borrowed, outlives the hub). Attach pc__sse_sink with the hub as its
 * arg. Returns PC_OK or PC_ERR_NOMEM. */
pc_err pc__sse_hub_new(pc__httpd *d, struct event_base *base, pc_room *room,
                       int heartbeat_ms, size_t cap, pc__sse_stats *stats,
                       pc__sse_hub **out);
/* End every stream (the clients see the stream close) and free. NULL ok. */
void pc__sse_hub_free(pc__sse_hub *hub);
void pc__sse_sink(pc_room *room, const pc_change *change, void *arg);
/* Take req over as a stream in viewer's view (the public's, a player's or
 * the game master's; copied), resuming after *last (NULL: a snapshot
 * first). Answers req itself on failure. */
void pc__sse_open(pc__sse_hub *hub, struct evhttp_request *req,
                  const pc_viewer *viewer, const uint64_t *last);

#endif
