/*
 * bridge.h - the server's HTTP bridge: its routes over the rooms
 * (internal; docs/web.md is the contract). The bridge turns each HTTP
 * request into the request channel's own request and answers with that
 * reply, so both transports obey the same views, limits and errors;
 * event streams go to each room's SSE hub.
 */
#ifndef PC_TRANSPORT_BRIDGE_H
#define PC_TRANSPORT_BRIDGE_H

#include "phasecast/error.h"
#include "phasecast/server.h"
#include "httpd.h"

struct event_base;

typedef struct pc__bridge pc__bridge;

/* Listen as opts says, on base's loop. Returns what pc__httpd_new does. */
pc_err pc__bridge_new(pc_server *srv, struct event_base *base,
                      const pc_server_http_options *opts, pc__bridge **out,
                      pc_error *err);
/* Close every connection and stop. Free the rooms' hubs first. */
void pc__bridge_free(pc__bridge *b);
pc__httpd *pc__bridge_httpd(pc__bridge *b);
size_t pc__bridge_sse_cap(const pc__bridge *b);

#endif
