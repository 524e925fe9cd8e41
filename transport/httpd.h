/*
 * httpd.h - a small HTTP/1.1 server on a libevent loop, with the limits
 * and the error shape every phasecast HTTP endpoint shares (internal).
 *
 * It wraps evhttp: binds one address, counts connections (and stops
 * accepting at the cap until one closes), limits header and body sizes,
 * closes idle connections, rate-limits requests per client address,
 * answers CORS preflights when configured, serves the pages under /ui/
 * and routes everything else to its owner's handler: the server's bridge
 * (bridge.c) or the inspector's (tools/inspect). Replies are JSON in the
 * request channel's envelope. Loop thread only, like evhttp itself.
 */
#ifndef PC_TRANSPORT_HTTPD_H
#define PC_TRANSPORT_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "phasecast/error.h"
#include "phasecast/server.h"
#include "httproute.h"

struct event_base;
struct evhttp_request;

typedef struct pc__httpd pc__httpd;

/* Replace every zero member of o by its default. */
void pc__http_options_resolve(pc_server_http_options *o);

/* What the server counted since it started (loop thread). */
typedef struct pc__httpd_stats {
    uint64_t connections;       /* open now */
    uint64_t connections_total; /* accepted */
    uint64_t requests;          /* routed requests */
    uint64_t rate_limited;      /* answered 429 */
    uint64_t status[6];         /* replies by class: [2]=2xx ... [5]=5xx */
} pc__httpd_stats;

/* Route a request that passed the method, rate and body checks. Must
 * answer it (pc__httpd_reply*) or take it over (SSE). */
typedef void (*pc__httpd_handler)(pc__httpd *d, struct evhttp_request *req,
                                  const pc__route *route, void *arg);

/*
 * pc__httpd_new - listen on opts->addr (resolved defaults in *opts
 * first: see pc_server_http_options) and route requests to fn on base's
 * loop. Returns PC_OK, PC_ERR_INVALID (bad address), PC_ERR_IO (cannot
 * listen; err says why) or PC_ERR_NOMEM.
 */
pc_err pc__httpd_new(struct event_base *base,
                     const pc_server_http_options *opts,
                     const pc_json_limits *limits, pc__httpd_handler fn,
                     void *arg, pc__httpd **out, pc_error *err);
/* Close every connection (their close hooks run first) and stop. */
void pc__httpd_free(pc__httpd *d);
/* "http://127.0.0.1:41234": the bound address. */
const char *pc__httpd_url(const pc__httpd *d);
const pc_json_limits *pc__httpd_limits(const pc__httpd *d);
void pc__httpd_get_stats(const pc__httpd *d, pc__httpd_stats *out);
/* Count a reply sent outside pc__httpd_reply* (SSE streams). */
void pc__httpd_count_status(pc__httpd *d, int status);

/* The HTTP status for an error code of the wire protocol. */
int pc__httpd_status(const char *code);

/* Send body (len bytes) as application/json with status; CORS headers
 * added as configured. */
void pc__httpd_reply(pc__httpd *d, struct evhttp_request *req, int status,
                     const char *body, size_t len);
/* Send {"v":1,"ok":false,"error":{code,message}} with its status. */
void pc__httpd_reply_error(pc__httpd *d, struct evhttp_request *req,
                           const pc_error *e);
/* Add the CORS headers (if configured) to req's reply. */
void pc__httpd_cors(pc__httpd *d, struct evhttp_request *req);

/* Called once when the connection carrying a taken-over request closes
 * (the peer left, the server cut it, or the server is freed); the
 * request is still allocated: the hook must release it with
 * evhttp_send_reply_end when detached is true, and must not touch it
 * otherwise (evhttp frees it). */
typedef void (*pc__httpd_close_fn)(struct evhttp_request *req, bool detached,
                                   void *arg);
/* Register fn for req's connection (replacing an earlier one). Returns
 * PC_OK or PC_ERR_NOT_FOUND (the connection is not tracked). */
pc_err pc__httpd_on_close(pc__httpd *d, struct evhttp_request *req,
                          pc__httpd_close_fn fn, void *arg);
/* Forget the close hook of req's connection (before ending it yourself). */
void pc__httpd_forget(pc__httpd *d, struct evhttp_request *req);
/* Bytes waiting to be sent on req's connection. */
size_t pc__httpd_pending(struct evhttp_request *req);
/* Cut req's connection: shut its socket down, so the loop notices and
 * closes it (the close hook runs then, not now). */
void pc__httpd_cut(struct evhttp_request *req);

/* A page compiled into the binary (webassets.c, generated from web/):
 * true and its bytes when name exists. */
bool pc__web_asset(const char *name, const unsigned char **data, size_t *len);

#endif
