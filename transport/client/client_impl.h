/*
 * client_impl.h - the inside of a pc_client, shared by the files that
 * implement phasecast/client.h: client.c (opening, following the
 * broadcast, the repair state machine, polling, closing) and actions.c
 * (acting, catching up after a conflict, the accessors). Not installed.
 */
#ifndef PHASECAST_CLIENT_IMPL_H
#define PHASECAST_CLIENT_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "phasecast/client.h"
#include "phasecast/room.h"

#include "config.h"
#include "harness.h"
#include "replica.h"
#include "request.h"
#include "subscription.h"

/* What the replica needs next. */
enum need { NEED_NONE = 0, NEED_CHANGES = 1, NEED_SNAPSHOT = 2 };

/* Most `changes` rounds per repair (a server may cap each answer). */
#define REPAIR_ROUNDS 64
/* Most broadcast messages handled by one pc_client_poll. */
#define POLL_BATCH 4096

/* The client; see phasecast/client.h. */
struct pc_client {
    pc_client_config cfg; /* pc__config_copy's: resolved, strings owned */

    pc__subscription sub; /* the SUB socket and the room's envelopes */
    pc__request rq;       /* the REQ socket and every request */
    pc_json_limits lim;   /* for every received document */

    pc__replica rep;
    bool priv_mode; /* player's view differs from the public view, so
                       broadcast sums cannot check it */
    /* The game's private paths from `join`: with them a player checks the
     * public view of its replica against every broadcast sum. */
    char **paths;     /* NULL-terminated, owned; NULL if not announced */
    pc_game pub_game; /* only private_paths is used (pc_view_checksum) */

    enum need need;
    int64_t retry_at;       /* monotonic ms; repair waits until then */
    int backoff_ms;         /* next delay after a failed request */
    bool in_incident;       /* a repair is under way, see the top */
    int incident_snapshots; /* snapshots taken in this incident */
    int64_t cooldown_until; /* after GAVE_UP, no repair before this */

    int64_t last_msg; /* monotonic ms of the last message of the room */
    int heartbeat_ms;
    bool stale;

    /* A harnessed client (harness.h) has no sockets: requests, broadcast
     * messages and the clock come from the harness. */
    bool harnessed;
    pc__client_harness harness;

    uint64_t conflict_seq; /* the room's seq the last conflict reported */
    int depth;             /* >0 while a callback may run */
    bool closing;          /* pc_client_close was called from a callback */
    pc_client_stats st;
};

/* The client's monotonic clock in ms (the harness's, when harnessed). */
int64_t pc__client_now(const pc_client *c);

/* Ask for a repair; the strongest request wins, and an incident starts. */
void pc__client_need_repair(pc_client *c, enum need n);

/* Run the pending repair if it is due (see client.c). */
pc_err pc__client_run_repair(pc_client *c);

/* Handle what arrives for up to timeout_ms (-1: until something does),
 * without the deferred close pc_client_poll does. */
pc_err pc__client_poll_inner(pc_client *c, int timeout_ms);

/* Close the sockets and free everything. */
void pc__client_destroy(pc_client *c);

#endif /* PHASECAST_CLIENT_IMPL_H */
