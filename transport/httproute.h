/*
 * httproute.h - what the HTTP bridge reads from a request line and its
 * headers: the route, query integers, the bearer credential and the SSE
 * resume point (internal; docs/web.md is the contract).
 *
 * Pure functions over untrusted bytes, with no libevent in sight, so the
 * fuzz target can call them directly. They never allocate. Paths are
 * matched exactly: no percent-decoding (room ids never need it), no
 * trailing slashes, no dot segments.
 */
#ifndef PC_TRANSPORT_HTTPROUTE_H
#define PC_TRANSPORT_HTTPROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "phasecast/error.h"
#include "phasecast/room.h"

/* Longest path the bridge looks at, and longest page asset name. */
#define PC__ROUTE_PATH_MAX  512
#define PC__ROUTE_ASSET_MAX 64
/* Longest bearer credential (a player's token or the inspector's). */
#define PC__BEARER_MAX 128

typedef enum pc__route_kind {
    PC__ROUTE_ROOT,    /* GET / */
    PC__ROUTE_ROOMS,   /* GET /rooms */
    PC__ROUTE_ROOM,    /* GET /rooms/{room} */
    PC__ROUTE_CHANGES, /* GET /rooms/{room}/changes */
    PC__ROUTE_HISTORY, /* GET /rooms/{room}/history */
    PC__ROUTE_EVENTS,  /* GET /rooms/{room}/events */
    PC__ROUTE_ACTIONS, /* POST /rooms/{room}/actions */
    PC__ROUTE_JOIN,    /* POST /rooms/{room}/join */
    PC__ROUTE_METRICS, /* GET /metrics */
    PC__ROUTE_UI       /* GET /ui/{asset}, asset "" for /ui/ */
} pc__route_kind;

typedef struct pc__route {
    pc__route_kind kind;
    char room[PC_ROOM_ID_MAX + 1];       /* rooms/{room} routes */
    char asset[PC__ROUTE_ASSET_MAX + 1]; /* PC__ROUTE_UI */
} pc__route;

/*
 * pc__route_parse - match path (len bytes, not NUL-terminated, without
 * the query) against the bridge's routes. Room ids must match
 * [A-Za-z0-9._-]{1,64}; asset names [A-Za-z0-9_-]{1,48} followed by one
 * of .html .js .css .svg .png. Returns PC_OK, or PC_ERR_NOT_FOUND with
 * e set ("not_found", the message never repeats the path).
 */
pc_err pc__route_parse(const char *path, size_t len, pc__route *out,
                       pc_error *e);

/* The methods a route accepts: "GET" or "POST". */
const char *pc__route_method(pc__route_kind kind);

/*
 * pc__query_uint - the value of key in query (a URL query string without
 * the '?', may be NULL): a decimal integer from 0 to 2^53. Other keys are
 * ignored. *present tells whether key was there. Returns PC_OK, or
 * PC_ERR_INVALID with e set ("bad_request") for a malformed value or a
 * key given twice.
 */
pc_err pc__query_uint(const char *query, const char *key, bool *present,
                      uint64_t *out, pc_error *e);

/*
 * pc__bearer - the credential of an Authorization header value (NULL:
 * none): "Bearer" (any case), spaces, then 1..PC__BEARER_MAX printable
 * ASCII characters without spaces, copied into out. Returns 1 when a
 * credential was found, 0 when header is NULL, -1 when it is malformed
 * (another scheme, empty, too long, bad characters).
 */
int pc__bearer(const char *header, char out[PC__BEARER_MAX + 1]);

/*
 * pc__last_event_id - the seq an SSE client resumes after: the value of
 * a Last-Event-ID header (NULL: none) as a decimal integer from 0 to
 * 2^53. Returns true and sets *seq when it is one, false otherwise (a
 * malformed id is treated as no id: the stream starts with a snapshot).
 */
bool pc__last_event_id(const char *header, uint64_t *seq);

#endif
