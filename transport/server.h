/*
 * server.h - what the server's other modules may see of it (internal; the
 * public API is phasecast/server.h).
 */
#ifndef PC_TRANSPORT_SERVER_H
#define PC_TRANSPORT_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "phasecast/changelog.h"
#include "phasecast/json.h"
#include "phasecast/room.h"
#include "phasecast/server.h"

#include "broadcast.h"
#include "players.h"

struct event;

/* One hosted room and everything the server keeps beside it. */
typedef struct pc__host {
    pc_room *room;
    pc__broadcast *bc;
    pc__players *players;
    struct event *timer;     /* the room's phase timer */
    char *join_action;       /* NULL: joining only registers the name */
    pc_changelog *log;       /* the room's journal; NULL without a log dir */
    struct pc__sse_hub *sse; /* its event streams; NULL without a bridge */
    pc_server *srv;
    bool failure_told; /* on_room_failed was called for this room */
    /* The room's game-master credential, zero-padded, and its length (0:
     * nobody may join as the game master). Wiped when the host goes. */
    char gm_credential[PC_SERVER_CREDENTIAL_MAX];
    size_t gm_credential_len;
} pc__host;

/* If h's room has failed and nobody was told yet, call on_room_failed. */
void pc__server_tell_failed(pc__host *h);

/* The hosted room with this id, or NULL. */
pc__host *pc__server_find_host(pc_server *srv, const char *id);
size_t pc__server_host_count(const pc_server *srv);
pc__host *pc__server_host_at(pc_server *srv, size_t i);
/* Limits for request bodies (max_bytes is the answered-size limit). */
const pc_json_limits *pc__server_request_limits(const pc_server *srv);
/* Check an inspector credential in constant time: 1 right, 0 wrong, -1
 * the inspector is disabled on this server. */
int pc__server_inspector(const pc_server *srv, const char *given);
/* The same check against h's game-master credential. */
int pc__server_gm(const pc__host *h, const char *given);
/* True when opts' game-master credential is absent, "" or well formed
 * (like the inspector's). */
bool pc__server_gm_credential_ok(const pc_server_room_options *opts);
/* Compare given (any NUL-terminated string) with the stored_len bytes of
 * stored (a zero-padded PC_SERVER_CREDENTIAL_MAX buffer) in time that
 * does not depend on where they differ: 1 equal, 0 not, -1 nothing is
 * stored (the feature is off). */
int pc__secret_check(const char *stored, size_t stored_len, const char *given);
/* Overwrite n bytes of buf with zeros in a way the compiler keeps. */
void pc__secret_wipe(void *buf, size_t n);
int pc__server_heartbeat_ms(const pc_server *srv);
/* The per-player action rate limit: *rate actions per second, buckets of
 * *burst (both 0: none). */
void pc__server_action_rate(const pc_server *srv, unsigned *rate,
                            unsigned *burst);
/* True when the calling thread owns the server's loop. */
bool pc__server_is_owner(pc_server *srv);
/* The log settings (dir set), or NULL when rooms are not logged. */
const pc_changelog_options *pc__server_log(const pc_server *srv);
/* Host room (and its log, which may be NULL): attach the broadcast sink
 * and timers, start it. Takes ownership of both, on failure too (they are
 * freed). Loop owner. Returns PC_OK or PC_ERR_NOMEM. */
pc_err pc__server_host(pc_server *srv, pc_room *room, pc_changelog *log,
                       const pc_server_room_options *opts, pc__host **out);

#endif
