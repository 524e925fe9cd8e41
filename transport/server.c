/*
 * server.c - the server: its options, its two sockets and the rooms it
 * hosts.
 *
 * pc_server_new opens a PUB and a REP socket and starts their listeners
 * before anything else can go wrong late: NNG_OPT_RECVMAXSZ is set on both
 * sockets and on their listeners before the listeners start, because nng
 * applies the limit per connection and its unlimited default would let one
 * client make the server allocate without bound (nng reads a frame's
 * 64-bit length, allocates that much and then waits, with no timeout, for
 * the body). The REP limit is twice the largest request answered
 * normally, so an oversized but plausible request still gets a
 * limit_exceeded reply, while a grossly oversized one costs its sender the
 * connection. A subscriber has nothing to say: nng's PUB drops a peer
 * that sends anything, and PUB_RECV_MAX makes it do so before allocating
 * more than a few bytes. Hosting a room means
 * creating it with the broadcast sink attached and the loop's timer host
 * installed, then starting it, so its very first change is published. This
 * module owns no protocol logic (requests.c, broadcast.c do); rooms are
 * found by a linear scan, which is fine for hundreds of rooms per server.
 */
#include "server.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/reqrep0/rep.h>

#include "phasecast/alloc.h"
#include "bridge.h"
#include "durable.h"
#include "loop.h"
#include "metrics.h"
#include "requests.h"
#include "sse.h"

/* Longest URL (with its resolved port) a server reports. */
#define URL_MAX 512
/* Players per room when the options say 0. */
#define PLAYERS_DEFAULT 64
/* NNG_OPT_RECVMAXSZ of the PUB socket. Subscribers never send a message
 * (and 0 would mean "unlimited"), but nng's WebSocket transport counts
 * control frames against the limit too, and a browser's close frame may
 * carry up to 125 bytes: so room for those, and nothing a frame could
 * make expensive. */
#define PUB_RECV_MAX 128

struct pc_server {
    pc__loop *loop;
    nng_socket pub, rep;
    pc__requests *requests;
    pc__bridge *bridge; /* NULL: no HTTP */
    pc__host **hosts;
    size_t nhosts;
    int heartbeat_ms;       /* < 0: none */
    unsigned drop_permille; /* test hook, see pc_server_options */
    uint64_t drop_seed;
    unsigned action_rate, action_burst; /* 0: actions are not limited */
    void (*on_room_failed)(const char *room, const pc_error *why, void *arg);
    void *on_room_failed_arg;
    pc_json_limits limits;
    pc__pub_stats pub_stats; /* loop thread only */
    pc__metrics *metrics;    /* loop thread only */
    char pub_url[URL_MAX];
    char rep_url[URL_MAX];
    pc_changelog_options log; /* log.dir NULL: rooms are not logged */
    struct event *sync_ev;    /* fsync=everysec: the 1 s sync timer */
    /* The inspector credential, zero-padded, and its length (0: the
     * inspector is disabled). */
    char credential[PC_SERVER_CREDENTIAL_MAX];
    size_t credential_len;
};

/* A credential is 16..PC_SERVER_CREDENTIAL_MAX printable ASCII characters
 * without spaces. */
static bool credential_ok(const char *c)
{
    size_t n = strlen(c);
    if (n < 16 || n > PC_SERVER_CREDENTIAL_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (c[i] < 0x21 || c[i] > 0x7e) {
            return false;
        }
    }
    return true;
}

int pc__secret_check(const char *stored, size_t stored_len, const char *given)
{
    if (stored_len == 0) {
        return -1;
    }
    /* Every byte of the padded buffers is compared, whatever the input,
     * so the time taken says nothing about how much of it was right. */
    char padded[PC_SERVER_CREDENTIAL_MAX] = {0};
    size_t n = strnlen(given, PC_SERVER_CREDENTIAL_MAX + 1);
    memcpy(padded, given, n < sizeof(padded) ? n : sizeof(padded));
    unsigned diff = (unsigned)(n ^ stored_len);
    for (size_t i = 0; i < PC_SERVER_CREDENTIAL_MAX; i++) {
        diff |= (unsigned char)(padded[i] ^ stored[i]);
    }
    pc__secret_wipe(padded, sizeof padded);
    return diff == 0 ? 1 : 0;
}

void pc__secret_wipe(void *buf, size_t n)
{
    volatile unsigned char *wipe = buf;
    for (size_t i = 0; i < n; i++) {
        wipe[i] = 0;
    }
}

int pc__server_inspector(const pc_server *srv, const char *given)
{
    return pc__secret_check(srv->credential, srv->credential_len, given);
}

int pc__server_gm(const pc__host *h, const char *given)
{
    return pc__secret_check(h->gm_credential, h->gm_credential_len, given);
}

bool pc__server_gm_credential_ok(const pc_server_room_options *opts)
{
    return opts->gm_credential == NULL || opts->gm_credential[0] == '\0' ||
           credential_ok(opts->gm_credential);
}

void pc_server_options_init(pc_server_options *o)
{
    memset(o, 0, sizeof *o);
    o->max_message_bytes = PC_SERVER_MESSAGE_DEFAULT;
    o->heartbeat_ms = PC_SERVER_HEARTBEAT_DEFAULT;
    o->pub_sendbuf = PC_SERVER_SENDBUF_DEFAULT;
    o->fsync = PC_FSYNC_EVERYSEC;
    o->keyframe_every = PC_CHANGELOG_KEYFRAME_DEFAULT;
    o->keep_segments = PC_CHANGELOG_KEEP_ALL;
}

void pc_server_room_options_init(pc_server_room_options *o)
{
    memset(o, 0, sizeof *o);
    pc_room_options_init(&o->room);
    o->join_action = "join";
    o->max_players = PLAYERS_DEFAULT;
}

/* The URL l listens on; a TCP port 0 is replaced by the bound port. */
static void bound_url(nng_listener l, const char *asked, char *out)
{
    snprintf(out, URL_MAX, "%s", asked);
    int port;
    if (nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port) != 0) {
        return; /* not TCP */
    }
    const char *colon = strrchr(asked, ':');
    const char *slash = strstr(asked, "://");
    if (colon == NULL || slash == NULL || colon < slash + 3) {
        return;
    }
    const char *path = strchr(colon, '/'); /* ws://host:0/path */
    snprintf(out, URL_MAX, "%.*s:%d%s", (int)(colon - asked), asked, port,
             path != NULL ? path : "");
}

/* Create, limit and start a listener on s; *url receives the bound URL. */
static pc_err listen_on(nng_socket s, const char *url, size_t recvmax,
                        char *bound, pc_error *err)
{
    nng_listener l;
    int rv = nng_listener_create(&l, s, url);
    if (rv == 0 && recvmax > 0) {
        rv = nng_listener_set_size(l, NNG_OPT_RECVMAXSZ, recvmax);
        if (rv == NNG_ENOTSUP) { /* inproc has no per-listener limit */
            rv = 0;
        }
    }
    if (rv == 0) {
        rv = nng_listener_start(l, 0);
    }
    if (rv != 0) {
        pc_err code = rv == NNG_ENOMEM ? PC_ERR_NOMEM
                      : rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP
                          ? PC_ERR_INVALID
                          : PC_ERR_IO;
        return pc_error_set(err, code, NULL, "cannot listen on %s: %s", url,
                            nng_strerror(rv));
    }
    bound_url(l, url, bound);
    return PC_OK;
}

pc_err pc_server_new(const pc_server_options *opts, pc_server **out,
                     pc_error *err)
{
    if (opts == NULL || opts->pub_url == NULL || opts->rep_url == NULL ||
        opts->pub_sendbuf < 0 || opts->pub_sendbuf > 8192 ||
        opts->max_message_bytes > SIZE_MAX / 2 || opts->drop_permille > 1000 ||
        (unsigned)opts->fsync > PC_FSYNC_NONE ||
        (opts->action_rate == 0 && opts->action_burst != 0)) {
        return pc_error_set(err, PC_ERR_INVALID, NULL,
                            "bad server options (URLs are required)");
    }
    if (opts->inspector_credential != NULL &&
        opts->inspector_credential[0] != '\0' &&
        !credential_ok(opts->inspector_credential)) {
        return pc_error_set(err, PC_ERR_INVALID, NULL,
                            "the inspector credential must be 16 to %d "
                            "printable ASCII characters without spaces",
                            PC_SERVER_CREDENTIAL_MAX);
    }
    pc_server *srv = pc_malloc(sizeof *srv);
    if (srv == NULL) {
        return pc_error_set(err, PC_ERR_NOMEM, NULL, "out of memory");
    }
    memset(srv, 0, sizeof *srv);
    srv->heartbeat_ms = opts->heartbeat_ms == 0 ? PC_SERVER_HEARTBEAT_DEFAULT
                                                : opts->heartbeat_ms;
    srv->drop_permille = opts->drop_permille;
    srv->drop_seed = opts->drop_seed;
    srv->action_rate = opts->action_rate;
    srv->action_burst =
        opts->action_burst != 0 ? opts->action_burst : opts->action_rate;
    srv->on_room_failed = opts->on_room_failed;
    srv->on_room_failed_arg = opts->on_room_failed_arg;
    if (opts->inspector_credential != NULL) {
        srv->credential_len = strlen(opts->inspector_credential);
        memcpy(srv->credential, opts->inspector_credential,
               srv->credential_len);
    }
    pc_json_limits_resolve(&opts->request_limits, &srv->limits);
    srv->limits.max_bytes = opts->max_message_bytes != 0
                                ? opts->max_message_bytes
                                : PC_SERVER_MESSAGE_DEFAULT;
    int sendbuf =
        opts->pub_sendbuf != 0 ? opts->pub_sendbuf : PC_SERVER_SENDBUF_DEFAULT;
    size_t recvmax = srv->limits.max_bytes * 2;
    bool pub_open = false, rep_open = false;
    pc_err rc = pc__metrics_new(&srv->metrics);
    if (rc == PC_OK) {
        rc = pc__loop_new(srv, &srv->loop);
    }
    if (rc == PC_OK) {
        pub_open = nng_pub0_open(&srv->pub) == 0;
        rep_open = pub_open && nng_rep0_open(&srv->rep) == 0;
        if (!rep_open ||
            nng_socket_set_int(srv->pub, NNG_OPT_SENDBUF, sendbuf) != 0 ||
            nng_socket_set_size(srv->pub, NNG_OPT_RECVMAXSZ, PUB_RECV_MAX) !=
                0 ||
            nng_socket_set_size(srv->rep, NNG_OPT_RECVMAXSZ, recvmax) != 0 ||
            nng_socket_set_ms(srv->rep, NNG_OPT_SENDTIMEO,
                              PC__REPLY_SEND_TIMEOUT_MS) != 0) {
            rc = pc_error_set(err, PC_ERR_NOMEM, NULL, "cannot open sockets");
        }
    } else {
        pc_error_set(err, rc, NULL, "cannot create the event loop");
    }
    if (rc == PC_OK) {
        rc =
            listen_on(srv->pub, opts->pub_url, PUB_RECV_MAX, srv->pub_url, err);
    }
    if (rc == PC_OK) {
        rc = listen_on(srv->rep, opts->rep_url, recvmax, srv->rep_url, err);
    }
    if (rc == PC_OK) {
        rc = pc__requests_new(srv, pc__loop_base(srv->loop), srv->rep,
                              &srv->requests);
        if (rc != PC_OK) {
            pc_error_set(err, rc, NULL, "cannot watch the request socket");
        }
    }
    if (rc == PC_OK && opts->http.addr != NULL) {
        /* A browser that leaves mid-stream makes the next write fail with
         * EPIPE; libevent writes with writev, so SIGPIPE would kill the
         * process. Ignore it, unless the host handles it already. */
        struct sigaction sa;
        if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
            signal(SIGPIPE, SIG_IGN);
        }
        rc = pc__bridge_new(srv, pc__loop_base(srv->loop), &opts->http,
                            &srv->bridge, err);
    }
    if (rc == PC_OK && opts->log_dir != NULL) {
        rc = pc__durable_init(srv, pc__loop_base(srv->loop), opts, &srv->log,
                              &srv->sync_ev, err);
    }
    if (rc != PC_OK) {
        pc__bridge_free(srv->bridge);
        pc__requests_free(srv->requests);
        if (rep_open) {
            nng_close(srv->rep);
        }
        if (pub_open) {
            nng_close(srv->pub);
        }
        pc__loop_free(srv->loop);
        pc__metrics_free(srv->metrics);
        pc_free(srv);
        return rc;
    }
    *out = srv;
    return PC_OK;
}

static void host_free(pc__host *h)
{
    if (h->bc != NULL) {
        pc__broadcast_flush(h->bc);
    }
    pc__sse_hub_free(h->sse); /* its streams end before the room goes */
    pc_room_free(h->room);
    pc__broadcast_free(h->bc);
    pc__players_free(h->players);
    if (h->timer != NULL) {
        event_free(h->timer);
    }
    pc_free(h->join_action);
    pc_changelog_free(h->log); /* after the room, whose journal it was */
    pc__secret_wipe(h->gm_credential, sizeof h->gm_credential);
    pc_free(h);
}

void pc_server_free(pc_server *srv)
{
    if (srv == NULL) {
        return;
    }
    (void)pc__loop_stop(srv->loop); /* runs what was posted meanwhile */
    pc__requests_free(srv->requests);
    for (size_t i = 0; i < srv->nhosts; i++) {
        host_free(srv->hosts[i]);
    }
    pc_free(srv->hosts);
    pc__bridge_free(srv->bridge);
    pc__durable_fini(&srv->log, srv->sync_ev);
    volatile char *wipe = srv->credential;
    for (size_t i = 0; i < sizeof(srv->credential); i++) {
        wipe[i] = 0;
    }
    nng_close(srv->rep);
    nng_close(srv->pub);
    pc__loop_free(srv->loop);
    pc__metrics_free(srv->metrics); /* last: the logs and sinks told it */
    pc_free(srv);
}

const char *pc_server_pub_url(const pc_server *srv)
{
    return srv->pub_url;
}

const char *pc_server_rep_url(const pc_server *srv)
{
    return srv->rep_url;
}

const char *pc_server_http_url(const pc_server *srv)
{
    return srv->bridge != NULL ? pc__httpd_url(pc__bridge_httpd(srv->bridge))
                               : NULL;
}

pc_err pc_server_start(pc_server *srv)
{
    return pc__loop_start(srv->loop);
}

pc_err pc_server_stop(pc_server *srv)
{
    return pc__loop_stop(srv->loop);
}

pc_err pc_server_run_once(pc_server *srv, int timeout_ms)
{
    return pc__loop_run_once(srv->loop, timeout_ms);
}

pc_err pc_server_post(pc_server *srv, pc_server_fn fn, void *arg)
{
    return pc__loop_post(srv->loop, fn, arg);
}

pc_err pc_server_call(pc_server *srv, pc_server_fn fn, void *arg)
{
    return pc__loop_call(srv->loop, fn, arg);
}

static void schedule(pc_room *room, int64_t delay_ms, void *arg);

/* The room's phase timer fired on the loop. libevent counts a timer's
 * delay from the loop iteration's cached time, which can be a few ms
 * before the room clock the deadline was computed from (the callbacks of
 * that iteration ran in between: commits, log syncs), so the timer can go
 * off a little before the room's deadline. Then it is scheduled again for
 * what is left: a phase's timeout never runs before its deadline, and a
 * replay of the log (which fires it at the deadline's time, not before)
 * sees the same times. */
static void on_phase_timer(evutil_socket_t fd, short what, void *arg)
{
    pc__host *h = arg;
    (void)fd;
    (void)what;
    int64_t deadline;
    if (pc_room_timeout_deadline(h->room, &deadline)) {
        int64_t left = deadline - pc_room_now_ms(h->room);
        if (left > 0) {
            schedule(h->room, left, h);
            return;
        }
    }
    (void)pc_room_fire_timeout(h->room); /* a stale timer does nothing */
    pc__server_tell_failed(h);
}

void pc__server_tell_failed(pc__host *h)
{
    pc_error why = {0};
    if (h->failure_told || !pc_room_failed(h->room, &why)) {
        return;
    }
    h->failure_told = true;
    if (h->srv->on_room_failed != NULL) {
        h->srv->on_room_failed(pc_room_id(h->room), &why,
                               h->srv->on_room_failed_arg);
    }
}

/* The room's timer host: schedule (delay >= 0) or cancel (-1). */
static void schedule(pc_room *room, int64_t delay_ms, void *arg)
{
    pc__host *h = arg;
    (void)room;
    if (delay_ms < 0) {
        evtimer_del(h->timer);
        return;
    }
    struct timeval tv;
    tv.tv_sec = (time_t)(delay_ms / 1000);
    tv.tv_usec = (long)(delay_ms % 1000) * 1000;
    evtimer_add(h->timer, &tv);
}

pc_err pc__server_host(pc_server *srv, pc_room *room, pc_changelog *log,
                       const pc_server_room_options *opts, pc__host **out)
{
    pc__host **hosts =
        pc_realloc(srv->hosts, (srv->nhosts + 1) * sizeof *hosts);
    pc__host *h = hosts != NULL ? pc_malloc(sizeof *h) : NULL;
    if (hosts != NULL) {
        srv->hosts = hosts;
    }
    if (h == NULL) {
        pc_room_free(room);
        pc_changelog_free(log);
        return PC_ERR_NOMEM;
    }
    memset(h, 0, sizeof *h);
    h->room = room;
    h->srv = srv;
    h->log = log;
    if (opts->gm_credential != NULL) { /* checked by the callers */
        h->gm_credential_len = strlen(opts->gm_credential);
        memcpy(h->gm_credential, opts->gm_credential, h->gm_credential_len);
    }
    struct event_base *base = pc__loop_base(srv->loop);
    size_t max = opts->max_players ? opts->max_players : PLAYERS_DEFAULT;
    pc_err rc = pc__players_new(max, &h->players);
    if (rc == PC_OK && opts->join_action != NULL &&
        (h->join_action = pc_strdup(opts->join_action)) == NULL) {
        rc = PC_ERR_NOMEM;
    }
    if (rc == PC_OK &&
        (h->timer = evtimer_new(base, on_phase_timer, h)) == NULL) {
        rc = PC_ERR_NOMEM;
    }
    if (rc == PC_OK) {
        rc = pc__broadcast_new(base, srv->pub, h->room, srv->heartbeat_ms,
                               &srv->pub_stats, &h->bc);
    }
    if (rc == PC_OK) {
        pc__broadcast_set_drop(h->bc, srv->drop_permille, srv->drop_seed);
        rc = pc_room_add_sink(h->room, pc__broadcast_sink, h->bc);
    }
    if (rc == PC_OK) {
        rc = pc_room_add_sink(h->room, pc__metrics_sink, srv->metrics);
    }
    if (rc == PC_OK && h->log != NULL) {
        pc_changelog_set_observer(h->log, pc__metrics_log_io, srv->metrics);
    }
    if (rc == PC_OK && srv->bridge != NULL) {
        rc = pc__sse_hub_new(pc__bridge_httpd(srv->bridge), base, h->room,
                             srv->heartbeat_ms, pc__bridge_sse_cap(srv->bridge),
                             pc__bridge_sse_stats(srv->bridge), &h->sse);
        if (rc == PC_OK) {
            rc = pc_room_add_sink(h->room, pc__sse_sink, h->sse);
        }
    }
    if (rc != PC_OK) {
        host_free(h);
        return rc;
    }
    pc_room_set_timer_host(h->room, schedule, h);
    srv->hosts[srv->nhosts++] = h;
    *out = h;
    return PC_OK;
}

pc_err pc_server_add_room(pc_server *srv, const pc_game *game,
                          const pc_server_room_options *opts, pc_room **out)
{
    if (!pc__loop_is_owner(srv->loop)) {
        return PC_ERR_PERMISSION;
    }
    pc_server_room_options defaults;
    if (opts == NULL) {
        pc_server_room_options_init(&defaults);
        opts = &defaults;
    }
    const char *id = opts->room.id != NULL ? opts->room.id : "room";
    if (pc__server_find_host(srv, id) != NULL ||
        !pc__server_gm_credential_ok(opts)) {
        return PC_ERR_INVALID;
    }
    pc_room *room;
    pc_changelog *log = NULL;
    pc_err rc = pc_room_new(game, &opts->room, &room);
    if (rc != PC_OK) {
        return rc;
    }
    if (srv->log.dir != NULL &&
        (rc = pc__durable_create(srv, room, &log, NULL)) != PC_OK) {
        pc_room_free(room);
        return rc;
    }
    pc__host *h;
    if ((rc = pc__server_host(srv, room, log, opts, &h)) != PC_OK) {
        return rc;
    }
    (void)pc_room_start(h->room);
    if (out != NULL) {
        *out = h->room;
    }
    return PC_OK;
}

pc_room *pc_server_find_room(pc_server *srv, const char *id)
{
    if (!pc__loop_is_owner(srv->loop)) {
        return NULL;
    }
    pc__host *h = pc__server_find_host(srv, id);
    return h != NULL ? h->room : NULL;
}

pc_err pc_server_remove_room(pc_server *srv, const char *id)
{
    if (!pc__loop_is_owner(srv->loop)) {
        return PC_ERR_PERMISSION;
    }
    for (size_t i = 0; i < srv->nhosts; i++) {
        if (strcmp(pc_room_id(srv->hosts[i]->room), id) == 0) {
            host_free(srv->hosts[i]);
            memmove(&srv->hosts[i], &srv->hosts[i + 1],
                    (srv->nhosts - i - 1) * sizeof *srv->hosts);
            srv->nhosts--;
            return PC_OK;
        }
    }
    return PC_ERR_NOT_FOUND;
}

void pc_transport_fini(void)
{
    nng_fini();
    libevent_global_shutdown();
}

pc__host *pc__server_find_host(pc_server *srv, const char *id)
{
    for (size_t i = 0; i < srv->nhosts; i++) {
        if (strcmp(pc_room_id(srv->hosts[i]->room), id) == 0) {
            return srv->hosts[i];
        }
    }
    return NULL;
}

size_t pc__server_host_count(const pc_server *srv)
{
    return srv->nhosts;
}

pc__host *pc__server_host_at(pc_server *srv, size_t i)
{
    return srv->hosts[i];
}

const pc_json_limits *pc__server_request_limits(const pc_server *srv)
{
    return &srv->limits;
}

void pc__server_action_rate(const pc_server *srv, unsigned *rate,
                            unsigned *burst)
{
    *rate = srv->action_rate;
    *burst = srv->action_burst;
}

int pc__server_heartbeat_ms(const pc_server *srv)
{
    return srv->heartbeat_ms;
}

static void copy_stats(pc_server *srv, void *arg)
{
    const pc__pub_stats *p = &srv->pub_stats;
    *(pc_server_stats *)arg = (pc_server_stats){
        .frames = p->frames,
        .frame_bytes = p->bytes,
        .changes = p->changes,
        .changes_lost = p->lost,
        .heartbeats = p->heartbeats,
        .publish_ns = p->publish_ns,
        .send_ns = p->send_ns,
    };
}

pc_err pc_server_stats_get(pc_server *srv, pc_server_stats *out)
{
    if (srv == NULL || out == NULL) {
        return PC_ERR_INVALID;
    }
    return pc_server_call(srv, copy_stats, out);
}

static void copy_http_stats(pc_server *srv, void *arg)
{
    pc_server_http_stats *o = arg;
    pc__httpd_stats h;
    pc__httpd_get_stats(pc__bridge_httpd(srv->bridge), &h);
    const pc__sse_stats *s = pc__bridge_sse_stats(srv->bridge);
    *o = (pc_server_http_stats){
        .connections = h.connections,
        .connections_total = h.connections_total,
        .requests = h.requests,
        .rate_limited = h.rate_limited,
        .sse_streams = s->streams,
        .sse_opened = s->opened,
        .sse_resumed = s->resumed,
        .sse_snapshots = s->snapshots,
        .sse_cut = s->cut,
        .sse_events = s->events,
        .sse_bytes = s->bytes,
    };
    memcpy(o->responses, h.status, sizeof o->responses);
}

pc_err pc_server_http_stats_get(pc_server *srv, pc_server_http_stats *out)
{
    if (srv == NULL || out == NULL) {
        return PC_ERR_INVALID;
    }
    if (srv->bridge == NULL) {
        return PC_ERR_STATE;
    }
    return pc_server_call(srv, copy_http_stats, out);
}

pc__metrics *pc__server_metrics(pc_server *srv)
{
    return srv->metrics;
}

/* What pc_server_metrics_text asks of the loop. */
typedef struct metrics_job {
    char *text;
    size_t len;
    pc_err rc;
} metrics_job;

static void render_metrics(pc_server *srv, void *arg)
{
    metrics_job *j = arg;
    pc_server_http_stats h;
    if (srv->bridge != NULL) {
        copy_http_stats(srv, &h);
    }
    j->rc =
        pc__metrics_render(srv->metrics, &srv->pub_stats, srv->nhosts,
                           srv->bridge != NULL ? &h : NULL, &j->text, &j->len);
}

pc_err pc_server_metrics_text(pc_server *srv, char **text, size_t *len)
{
    if (srv == NULL || text == NULL || len == NULL) {
        return PC_ERR_INVALID;
    }
    metrics_job j = {NULL, 0, PC_ERR_NOMEM};
    pc_err rc = pc_server_call(srv, render_metrics, &j);
    if (rc != PC_OK) {
        return rc;
    }
    if (j.rc != PC_OK) {
        return j.rc;
    }
    *text = j.text;
    *len = j.len;
    return PC_OK;
}

const pc_changelog_options *pc__server_log(const pc_server *srv)
{
    return srv->log.dir != NULL ? &srv->log : NULL;
}

bool pc__server_is_owner(pc_server *srv)
{
    return pc__loop_is_owner(srv->loop);
}
