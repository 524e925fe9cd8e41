/*
 * httpd.c - the HTTP front shared by the server's bridge and the
 * inspector's page server (see httpd.h).
 *
 * Connections are counted from the moment evhttp accepts them, not from
 * their first request, so half-sent requests count too: evhttp asks us
 * for each new connection's bufferevent (evhttp_set_bevcb), we take a
 * reference on it and, in the same loop iteration, read its owner (the
 * bufferevent's callback argument is the evhttp_connection) and install
 * a close callback. At the cap the listener is disabled, so further
 * clients wait in the kernel's backlog instead of costing descriptors.
 * evhttp allows one close callback per connection; an SSE stream that
 * needs one registers through pc__httpd_on_close. Requests are rate
 * limited per client address with token buckets in a fixed table (two
 * addresses that hash alike share a bucket: the table never grows).
 */
#include "httpd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "phasecast/alloc.h"
#include "phasecast/server.h"

#define URL_MAX    128
#define RATE_SLOTS 1024
#define ADDR_MAX   64
/* Largest page file served from a web root directory. */
#define ASSET_FILE_MAX (8 * 1024 * 1024)

typedef struct conn {
    struct conn *prev, *next;
    struct evhttp_connection *evcon; /* NULL until attached */
    struct bufferevent *bev;         /* referenced until attached */
    pc__httpd *d;
    pc__httpd_close_fn close_fn;
    void *close_arg;
    struct evhttp_request *close_req;
} conn;

typedef struct bucket {
    char addr[ADDR_MAX];
    double tokens;
    int64_t at_ms; /* last refill */
} bucket;

struct pc__httpd {
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    struct event *attach_ev;
    conn *pending; /* accepted, not yet attached */
    conn *live;    /* attached */
    bool accepting;
    pc__httpd_handler fn;
    void *arg;
    pc_server_http_options o;
    char *cors, *web_root;
    pc_json_limits limits;
    pc__httpd_stats stats;
    char url[URL_MAX];
    bucket rate[RATE_SLOTS];
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void list_del(conn **head, conn *c)
{
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        *head = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    c->prev = c->next = NULL;
}

static void list_add(conn **head, conn *c)
{
    c->prev = NULL;
    c->next = *head;
    if (*head != NULL) {
        (*head)->prev = c;
    }
    *head = c;
}

/* Accept again once below the cap. */
static void update_accepting(pc__httpd *d)
{
    bool want = d->stats.connections < d->o.max_connections;
    if (want == d->accepting || d->bound == NULL) {
        return;
    }
    struct evconnlistener *l = evhttp_bound_socket_get_listener(d->bound);
    if ((want ? evconnlistener_enable(l) : evconnlistener_disable(l)) == 0) {
        d->accepting = want;
    }
}

static void conn_gone(pc__httpd *d, conn *c)
{
    d->stats.connections--;
    pc_free(c);
    update_accepting(d);
}

static void on_conn_close(struct evhttp_connection *evcon, void *arg)
{
    conn *c = arg;
    pc__httpd *d = c->d;
    (void)evcon;
    list_del(&d->live, c);
    if (c->close_fn != NULL) {
        struct evhttp_request *req = c->close_req;
        c->close_fn(req, evhttp_request_get_connection(req) == NULL,
                    c->close_arg);
    }
    conn_gone(d, c);
}

/* Attach the connections accepted in this loop iteration. */
static void on_attach(evutil_socket_t fd, short what, void *arg)
{
    pc__httpd *d = arg;
    (void)fd;
    (void)what;
    while (d->pending != NULL) {
        conn *c = d->pending;
        list_del(&d->pending, c);
        bufferevent_data_cb rcb, wcb;
        bufferevent_event_cb ecb;
        void *owner;
        bufferevent_getcb(c->bev, &rcb, &wcb, &ecb, &owner);
        struct bufferevent *bev = c->bev;
        c->bev = NULL;
        if (rcb == NULL || owner == NULL) {
            conn_gone(d, c); /* evhttp dropped it already */
        } else {
            c->evcon = owner;
            list_add(&d->live, c);
            evhttp_connection_set_closecb(c->evcon, on_conn_close, c);
        }
        bufferevent_decref(bev); /* may close it, if evhttp let it go */
    }
}

static struct bufferevent *on_new_bev(struct event_base *base, void *arg)
{
    pc__httpd *d = arg;
    conn *c = pc_malloc(sizeof *c);
    struct bufferevent *bev =
        c != NULL ? bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE)
                  : NULL;
    if (bev == NULL) {
        pc_free(c);
        return NULL; /* evhttp makes its own; that connection goes uncounted */
    }
    *c = (conn){.bev = bev, .d = d};
    bufferevent_incref(bev);
    list_add(&d->pending, c);
    d->stats.connections++;
    d->stats.connections_total++;
    event_active(d->attach_ev, 0, 0);
    update_accepting(d);
    return bev;
}

static conn *find_conn(pc__httpd *d, struct evhttp_connection *evcon)
{
    for (conn *c = d->live; c != NULL; c = c->next) {
        if (c->evcon == evcon) {
            return c;
        }
    }
    return NULL;
}

pc_err pc__httpd_on_close(pc__httpd *d, struct evhttp_request *req,
                          pc__httpd_close_fn fn, void *arg)
{
    on_attach(-1, 0, d); /* a connection accepted in this very iteration */
    conn *c = find_conn(d, evhttp_request_get_connection(req));
    if (c == NULL) {
        return PC_ERR_NOT_FOUND;
    }
    c->close_fn = fn;
    c->close_arg = arg;
    c->close_req = req;
    return PC_OK;
}

void pc__httpd_forget(pc__httpd *d, struct evhttp_request *req)
{
    conn *c = find_conn(d, evhttp_request_get_connection(req));
    if (c != NULL) {
        c->close_fn = NULL;
        c->close_arg = NULL;
        c->close_req = NULL;
    }
}

size_t pc__httpd_pending(struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    if (evcon == NULL) {
        return 0;
    }
    return evbuffer_get_length(
        bufferevent_get_output(evhttp_connection_get_bufferevent(evcon)));
}

void pc__httpd_cut(struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    if (evcon != NULL) {
        struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
        evutil_socket_t fd = bufferevent_getfd(bev);
        if (fd >= 0) {
            shutdown(fd, SHUT_RDWR);
        }
        /* Make sure the loop looks at the socket again even if nothing is
         * queued for it: a read event reports the shutdown. */
        bufferevent_enable(bev, EV_READ | EV_WRITE);
    }
}

/* ---- replies ---------------------------------------------------------- */

int pc__httpd_status(const char *code)
{
    static const struct {
        const char *code;
        int status;
    } map[] = {
        {"bad_request", 400},
        {"bad_token", 401},
        {"forbidden", 403},
        {"unknown_room", 404},
        {"not_found", 404},
        {"method_not_allowed", 405},
        {"too_old", 410},
        {"limit_exceeded", 413},
        {"unsupported_media_type", 415},
        {"name_taken", 409},
        {"room_full", 409},
        {"no_actions_in_phase", 409},
        {"conflict", 409},
        {"rate_limited", 429},
        {"internal", 500},
        {"log_write_failed", 503},
        {"room_failed", 503},
        {"busy", 503},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(map[i].code, code) == 0) {
            return map[i].status;
        }
    }
    return 422; /* a game's own refusal */
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 302:
        return "Found";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Status";
    }
}

void pc__httpd_count_status(pc__httpd *d, int status)
{
    int cls = status / 100;
    if (cls >= 1 && cls <= 5) {
        d->stats.status[cls]++;
    }
}

void pc__httpd_cors(pc__httpd *d, struct evhttp_request *req)
{
    if (d->cors == NULL) {
        return;
    }
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    evhttp_add_header(out, "Access-Control-Allow-Origin", d->cors);
    if (strcmp(d->cors, "*") != 0) {
        evhttp_add_header(out, "Vary", "Origin");
    }
}

static void send_body(pc__httpd *d, struct evhttp_request *req, int status,
                      const char *type, const void *body, size_t len)
{
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    struct evbuffer *buf = evbuffer_new();
    if (type != NULL) {
        evhttp_add_header(out, "Content-Type", type);
    }
    evhttp_add_header(out, "Cache-Control", "no-store");
    evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
    pc__httpd_cors(d, req);
    if (buf != NULL && len > 0) {
        evbuffer_add(buf, body, len);
    }
    pc__httpd_count_status(d, status);
    evhttp_send_reply(req, status, reason_phrase(status), buf);
    if (buf != NULL) {
        evbuffer_free(buf);
    }
}

void pc__httpd_reply(pc__httpd *d, struct evhttp_request *req, int status,
                     const char *body, size_t len)
{
    send_body(d, req, status, "application/json", body, len);
}

void pc__httpd_reply_error(pc__httpd *d, struct evhttp_request *req,
                           const pc_error *e)
{
    static const char nomem[] =
        "{\"v\":1,\"ok\":false,\"error\":{\"code\":\"internal\","
        "\"message\":\"the server is out of memory\"}}";
    const char *code = e->code[0] != '\0' ? e->code : "internal";
    cJSON *o = cJSON_CreateObject();
    cJSON *err = NULL;
    char *text = NULL;
    if (cJSON_AddNumberToObject(o, "v", PC_PROTOCOL_VERSION) &&
        cJSON_AddFalseToObject(o, "ok") &&
        (err = cJSON_AddObjectToObject(o, "error")) != NULL &&
        cJSON_AddStringToObject(err, "code", code) &&
        cJSON_AddStringToObject(err, "message", e->message)) {
        text = cJSON_PrintUnformatted(o);
    }
    cJSON_Delete(o);
    int status = text != NULL ? pc__httpd_status(code) : 500;
    if (status == 429) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
                          "1");
    }
    pc__httpd_reply(d, req, status, text != NULL ? text : nomem,
                    text != NULL ? strlen(text) : sizeof nomem - 1);
    cJSON_free(text);
}

/* ---- pages ------------------------------------------------------------ */

static const char *content_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot == NULL) {
        return "application/octet-stream";
    }
    if (strcmp(dot, ".html") == 0) {
        return "text/html; charset=utf-8";
    }
    if (strcmp(dot, ".js") == 0) {
        return "text/javascript; charset=utf-8";
    }
    if (strcmp(dot, ".css") == 0) {
        return "text/css; charset=utf-8";
    }
    if (strcmp(dot, ".svg") == 0) {
        return "image/svg+xml";
    }
    return strcmp(dot, ".png") == 0 ? "image/png" : "application/octet-stream";
}

/* Read root/name (name already checked by the route: no slashes, no
 * dot segments). */
static unsigned char *read_asset(const char *root, const char *name,
                                 size_t *len)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", root, name);
    if (n < 0 || (size_t)n >= sizeof path) {
        return NULL;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        return NULL;
    }
    unsigned char *buf = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
        st.st_size <= ASSET_FILE_MAX &&
        (buf = pc_malloc((size_t)st.st_size + 1)) != NULL) {
        size_t got = 0;
        while (got < (size_t)st.st_size) {
            ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
            if (r <= 0) {
                break;
            }
            got += (size_t)r;
        }
        *len = got;
    }
    close(fd);
    return buf;
}

static void serve_asset(pc__httpd *d, struct evhttp_request *req,
                        const char *asked)
{
    const char *name = asked[0] != '\0' ? asked : "index.html";
    const unsigned char *data = NULL;
    unsigned char *owned = NULL;
    size_t len = 0;
    if (d->web_root != NULL) {
        data = owned = read_asset(d->web_root, name, &len);
    } else if (!pc__web_asset(name, &data, &len)) {
        data = NULL;
    }
    if (data == NULL) {
        pc_error e = {0};
        pc_error_set(&e, PC_ERR_NOT_FOUND, "not_found", "no page %s", name);
        pc__httpd_reply_error(d, req, &e);
        return;
    }
    evhttp_add_header(evhttp_request_get_output_headers(req),
                      "Content-Security-Policy",
                      "default-src 'self'; img-src 'self' data:; "
                      "style-src 'self' 'unsafe-inline'");
    send_body(d, req, 200, content_type(name), data, len);
    pc_free(owned);
}

/* ---- requests ---------------------------------------------------------- */

static bool rate_ok(pc__httpd *d, struct evhttp_request *req)
{
    char *host = NULL;
    ev_uint16_t port = 0;
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    if (evcon == NULL) {
        return true;
    }
    evhttp_connection_get_peer(evcon, &host, &port);
    if (host == NULL) {
        return true;
    }
    uint64_t h = 0xcbf29ce484222325u;
    for (const char *p = host; *p != '\0'; p++) {
        h = (h ^ (unsigned char)*p) * 0x100000001b3u;
    }
    bucket *b = &d->rate[h % RATE_SLOTS];
    int64_t now = mono_ms();
    double burst = 2.0 * d->o.rate;
    if (strncmp(b->addr, host, ADDR_MAX - 1) != 0) {
        snprintf(b->addr, ADDR_MAX, "%s", host);
        b->tokens = burst;
        b->at_ms = now;
    }
    b->tokens += (double)(now - b->at_ms) * d->o.rate / 1000.0;
    b->at_ms = now;
    if (b->tokens > burst) {
        b->tokens = burst;
    }
    if (b->tokens < 1.0) {
        return false;
    }
    b->tokens -= 1.0;
    return true;
}

static bool json_body(struct evhttp_request *req)
{
    const char *t = evhttp_find_header(evhttp_request_get_input_headers(req),
                                       "Content-Type");
    if (t == NULL || strncasecmp(t, "application/json", 16) != 0) {
        return false;
    }
    return t[16] == '\0' || t[16] == ';' || t[16] == ' ';
}

static void on_request(struct evhttp_request *req, void *arg)
{
    pc__httpd *d = arg;
    pc_error e = {0};
    pc__route route;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    d->stats.requests++;
    if (!rate_ok(d, req)) {
        d->stats.rate_limited++;
        pc_error_set(&e, PC_ERR_LIMIT, "rate_limited",
                     "more than %u requests per second from this address",
                     d->o.rate);
        pc__httpd_reply_error(d, req, &e);
        return;
    }
    if (path == NULL || path[0] == '\0') {
        path = "/";
    }
    if (pc__route_parse(path, strlen(path), &route, &e) != PC_OK) {
        pc__httpd_reply_error(d, req, &e);
        return;
    }
    const char *method = pc__route_method(route.kind);
    if (cmd == EVHTTP_REQ_OPTIONS && d->cors != NULL) {
        struct evkeyvalq *out = evhttp_request_get_output_headers(req);
        evhttp_add_header(out, "Access-Control-Allow-Methods", method);
        evhttp_add_header(out, "Access-Control-Allow-Headers",
                          "Authorization, Content-Type, Last-Event-ID");
        evhttp_add_header(out, "Access-Control-Max-Age", "600");
        send_body(d, req, 204, NULL, NULL, 0);
        return;
    }
    bool get = strcmp(method, "GET") == 0;
    bool allowed = get ? cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD
                       : cmd == EVHTTP_REQ_POST;
    if (!allowed) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
                          get ? "GET, HEAD" : "POST");
        pc_error_set(&e, PC_ERR_INVALID, "method_not_allowed",
                     "this resource takes %s only", method);
        pc__httpd_reply_error(d, req, &e);
        return;
    }
    if (!get) {
        size_t n = evbuffer_get_length(evhttp_request_get_input_buffer(req));
        if (n > d->limits.max_bytes) {
            pc_error_set(&e, PC_ERR_LIMIT, "limit_exceeded",
                         "the body has %zu bytes, more than %zu", n,
                         d->limits.max_bytes);
            pc__httpd_reply_error(d, req, &e);
            return;
        }
        if (!json_body(req)) {
            pc_error_set(&e, PC_ERR_INVALID, "unsupported_media_type",
                         "send the body as application/json");
            pc__httpd_reply_error(d, req, &e);
            return;
        }
    }
    if (route.kind == PC__ROUTE_ROOT) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Location",
                          "/ui/");
        send_body(d, req, 302, NULL, NULL, 0);
        return;
    }
    if (route.kind == PC__ROUTE_UI) {
        serve_asset(d, req, route.asset);
        return;
    }
    d->fn(d, req, &route, d->arg);
}

/* ---- life -------------------------------------------------------------- */

void pc__http_options_resolve(pc_server_http_options *o)
{
    if (o->max_connections == 0) {
        o->max_connections = PC_HTTP_CONNECTIONS_DEFAULT;
    }
    if (o->max_header_bytes == 0) {
        o->max_header_bytes = PC_HTTP_HEADER_BYTES_DEFAULT;
    }
    if (o->rate == 0) {
        o->rate = PC_HTTP_RATE_DEFAULT;
    }
    if (o->idle_timeout_ms <= 0) {
        o->idle_timeout_ms = PC_HTTP_IDLE_TIMEOUT_DEFAULT;
    }
    if (o->sse_buffer_bytes == 0) {
        o->sse_buffer_bytes = PC_HTTP_SSE_BUFFER_DEFAULT;
    }
}

/* Split "host:port" ("[v6]:port" too). */
static bool split_addr(const char *addr, char *host, size_t cap, int *port)
{
    const char *colon = strrchr(addr, ':');
    if (colon == NULL || colon == addr) {
        return false;
    }
    const char *h = addr;
    size_t hn = (size_t)(colon - addr);
    if (h[0] == '[' && hn >= 2 && h[hn - 1] == ']') {
        h++;
        hn -= 2;
    }
    if (hn == 0 || hn >= cap) {
        return false;
    }
    char *end;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || errno != 0 || p < 0 || p > 65535) {
        return false;
    }
    memcpy(host, h, hn);
    host[hn] = '\0';
    *port = (int)p;
    return true;
}

static void bound_url(pc__httpd *d, const char *host)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int port = 0;
    evutil_socket_t fd = evhttp_bound_socket_get_fd(d->bound);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        port = ss.ss_family == AF_INET6
                   ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                   : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
    bool v6 = strchr(host, ':') != NULL;
    snprintf(d->url, sizeof d->url, "http://%s%s%s:%d", v6 ? "[" : "", host,
             v6 ? "]" : "", port);
}

pc_err pc__httpd_new(struct event_base *base,
                     const pc_server_http_options *opts,
                     const pc_json_limits *limits, pc__httpd_handler fn,
                     void *arg, pc__httpd **out, pc_error *err)
{
    char host[ADDR_MAX];
    int port;
    if (opts == NULL || opts->addr == NULL ||
        !split_addr(opts->addr, host, sizeof host, &port)) {
        return pc_error_set(err, PC_ERR_INVALID, NULL,
                            "the HTTP address must be host:port, e.g. "
                            "127.0.0.1:8080");
    }
    pc__httpd *d = pc_malloc(sizeof *d);
    if (d == NULL) {
        return pc_error_set(err, PC_ERR_NOMEM, NULL, "out of memory");
    }
    memset(d, 0, sizeof *d);
    d->base = base;
    d->fn = fn;
    d->arg = arg;
    d->o = *opts;
    d->limits = *limits;
    d->accepting = true;
    pc__http_options_resolve(&d->o);
    pc_err rc = PC_OK;
    if ((opts->cors_origin != NULL &&
         (d->cors = pc_strdup(opts->cors_origin)) == NULL) ||
        (opts->web_root != NULL &&
         (d->web_root = pc_strdup(opts->web_root)) == NULL) ||
        (d->attach_ev = event_new(base, -1, 0, on_attach, d)) == NULL ||
        (d->http = evhttp_new(base)) == NULL) {
        rc = pc_error_set(err, PC_ERR_NOMEM, NULL, "out of memory");
    }
    if (rc == PC_OK) {
        evhttp_set_bevcb(d->http, on_new_bev, d);
        evhttp_set_gencb(d->http, on_request, d);
        evhttp_set_allowed_methods(
            d->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                         EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                         EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
        evhttp_set_max_headers_size(d->http, (ev_ssize_t)d->o.max_header_bytes);
        /* Bodies up to twice the limit get a JSON limit_exceeded; larger
         * ones are refused by evhttp itself (413, connection closed). */
        evhttp_set_max_body_size(d->http, (ev_ssize_t)(limits->max_bytes * 2));
        struct timeval tv = {d->o.idle_timeout_ms / 1000,
                             (d->o.idle_timeout_ms % 1000) * 1000};
        evhttp_set_timeout_tv(d->http, &tv);
        d->bound =
            evhttp_bind_socket_with_handle(d->http, host, (ev_uint16_t)port);
        if (d->bound == NULL) {
            rc = pc_error_set(err, PC_ERR_IO, NULL,
                              "cannot listen for HTTP on %s: %s", opts->addr,
                              strerror(errno));
        }
    }
    if (rc != PC_OK) {
        pc__httpd_free(d);
        return rc;
    }
    bound_url(d, host);
    *out = d;
    return PC_OK;
}

void pc__httpd_free(pc__httpd *d)
{
    if (d == NULL) {
        return;
    }
    if (d->attach_ev != NULL) {
        on_attach(-1, 0, d);
    }
    d->bound = NULL; /* evhttp_free frees the listener first */
    if (d->http != NULL) {
        evhttp_free(d->http); /* close hooks run for live connections */
    }
    while (d->live != NULL) { /* connections evhttp never reported */
        conn *c = d->live;
        list_del(&d->live, c);
        pc_free(c);
    }
    if (d->attach_ev != NULL) {
        event_free(d->attach_ev);
    }
    pc_free(d->cors);
    pc_free(d->web_root);
    pc_free(d);
}

const char *pc__httpd_url(const pc__httpd *d)
{
    return d->url;
}

const pc_json_limits *pc__httpd_limits(const pc__httpd *d)
{
    return &d->limits;
}

void pc__httpd_get_stats(const pc__httpd *d, pc__httpd_stats *out)
{
    *out = d->stats;
}
