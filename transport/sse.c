/*
 * sse.c - Server-Sent Event streams of one room (see sse.h).
 *
 * Every stream has its own queue (an evbuffer) of whole events. The sink
 * appends to the queues of all the room's streams - the public event
 * text is encoded once per change, a player's view once per stream - and
 * activates the flush event, which libevent runs after the callbacks of
 * this loop iteration: the changes committed together leave as one HTTP
 * chunk per stream, a lone change at once. Before a queue is handed to
 * the connection the stream's backlog is measured: the bytes evhttp has
 * not yet written plus the queue. Past the cap the stream is cut (its
 * socket shut down; the close hook frees it when the loop notices), so a
 * stalled reader costs at most the cap and never delays anyone else.
 * Nothing here blocks or waits for a client.
 */
#include "sse.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "phasecast/alloc.h"
#include "phasecast/history.h"
#include "phasecast/server.h"
#include "phasecast/view.h"
#include "envelope.h"
#include "room.h"

/* Keep-alive comment period when the room sends no heartbeats. */
#define KEEPALIVE_MS 15000

typedef struct stream {
    struct stream *prev, *next;
    pc__sse_hub *hub;
    struct evhttp_request *req;
    pc_viewer_kind kind; /* whose view the stream carries ... */
    char *player;        /* ... and, for a player's, whose (owned) */
    struct evbuffer *queue;
    bool cut;
} stream;

struct pc__sse_hub {
    pc__httpd *d;
    pc_room *room;
    stream *streams;
    struct event *flush_ev;
    struct event *beat_ev;
    int heartbeat_ms;
    size_t cap;
    pc__text scratch; /* event text being built */
    pc__sse_stats *stats;
};

static void unlink_stream(pc__sse_hub *hub, stream *s)
{
    if (s->prev != NULL) {
        s->prev->next = s->next;
    } else {
        hub->streams = s->next;
    }
    if (s->next != NULL) {
        s->next->prev = s->prev;
    }
    hub->stats->streams--;
}

static void free_stream(stream *s)
{
    if (s->queue != NULL) {
        evbuffer_free(s->queue);
    }
    pc_free(s->player);
    pc_free(s);
}

/* The connection closed: the peer left, the server cut it or is freed. */
static void on_close(struct evhttp_request *req, bool detached, void *arg)
{
    stream *s = arg;
    unlink_stream(s->hub, s);
    if (detached) {
        evhttp_send_reply_end(req); /* releases the detached request */
    }
    free_stream(s);
}

/* Queue text as one event on s. */
static void queue_event(pc__sse_hub *hub, stream *s, const char *text,
                        size_t len)
{
    if (s->cut) {
        return;
    }
    if (evbuffer_add(s->queue, text, len) != 0) {
        s->cut = true; /* out of memory: the client resumes */
        pc__httpd_cut(s->req);
        return;
    }
    hub->stats->events++;
    hub->stats->bytes += len;
}

static void send_queue(pc__sse_hub *hub, stream *s)
{
    size_t n = evbuffer_get_length(s->queue);
    if (s->cut || n == 0) {
        return;
    }
    if (pc__httpd_pending(s->req) + n > hub->cap) {
        s->cut = true;
        hub->stats->cut++;
        evbuffer_drain(s->queue, n);
        pc__httpd_cut(s->req);
        return;
    }
    evhttp_send_reply_chunk(s->req, s->queue);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    pc__sse_hub *hub = arg;
    (void)fd;
    (void)what;
    for (stream *s = hub->streams; s != NULL; s = s->next) {
        send_queue(hub, s);
    }
}

/* Frame the JSON in hub->scratch from offset json as an SSE event. */
static pc_err frame(pc__text *t, const char *name, const uint64_t *id,
                    const char *json, size_t len)
{
    char head[96];
    int n = id != NULL
                ? snprintf(head, sizeof head,
                           "event: %s\nid: %" PRIu64 "\ndata: ", name, *id)
                : snprintf(head, sizeof head, "event: %s\ndata: ", name);
    if (pc__text_put(t, head, (size_t)n) != PC_OK ||
        pc__text_put(t, json, len) != PC_OK ||
        pc__text_put(t, "\n\n", 2) != PC_OK) {
        return PC_ERR_NOMEM;
    }
    return PC_OK;
}

/* The viewer s streams to. */
static pc_viewer viewer_of(const stream *s)
{
    pc_viewer v = {s->kind, s->player};
    return v;
}

/* The "changes" event for c in viewer's view, appended to out. */
static pc_err change_event(const pc_room *room, const pc_change *c,
                           const pc_viewer *viewer, const cJSON *after,
                           pc__text *out)
{
    char head[PC_ROOM_ID_MAX + 128];
    const char *id = pc_room_id(room);
    int n = snprintf(head, sizeof head,
                     "event: changes\nid: %" PRIu64
                     "\ndata: {\"v\":%d,\"type\":\"changes\",\"room\":\"%s\","
                     "\"changes\":[",
                     c->seq, PC_PROTOCOL_VERSION, id);
    size_t before = out->len;
    size_t text_len = 0;
    const char *text = pc__room_patch_text(room, c->patch, &text_len);
    if (pc__text_put(out, head, (size_t)n) != PC_OK ||
        pc__envelope_change_text(pc_room_game(room), c, viewer, after, text,
                                 text_len, out) != PC_OK ||
        pc__text_put(out, "]}\n\n", 4) != PC_OK) {
        out->len = before;
        return PC_ERR_NOMEM;
    }
    return PC_OK;
}

void pc__sse_sink(pc_room *room, const pc_change *change, void *arg)
{
    pc__sse_hub *hub = arg;
    if (hub->streams == NULL) {
        return;
    }
    const cJSON *after = pc_room_state(room);
    pc__text *t = &hub->scratch;
    t->len = 0;
    bool have_public = false;
    for (stream *s = hub->streams; s != NULL; s = s->next) {
        if (s->cut) {
            continue;
        }
        pc_viewer v = viewer_of(s);
        if (s->kind == PC_VIEWER_PUBLIC) {
            if (!have_public) {
                t->len = 0;
                if (change_event(room, change, &v, after, t) != PC_OK) {
                    pc__httpd_cut(s->req); /* a gap: let it resume */
                    s->cut = true;
                    continue;
                }
                have_public = true;
            }
            queue_event(hub, s, t->buf, t->len);
        } else {
            pc__text own = {0};
            if (change_event(room, change, &v, after, &own) != PC_OK) {
                pc__httpd_cut(s->req);
                s->cut = true;
            } else {
                queue_event(hub, s, own.buf, own.len);
            }
            pc__text_free(&own);
        }
    }
    if (t->cap > 1024 * 1024) {
        pc__text_free(t);
    }
    event_active(hub->flush_ev, 0, 0);
}

static void on_beat(evutil_socket_t fd, short what, void *arg)
{
    pc__sse_hub *hub = arg;
    (void)fd;
    (void)what;
    if (hub->streams == NULL) {
        return;
    }
    pc__text *t = &hub->scratch;
    t->len = 0;
    if (hub->heartbeat_ms <= 0) {
        if (pc__text_put(t, ": keep-alive\n\n", 14) != PC_OK) {
            return;
        }
    } else {
        char json[PC_ROOM_ID_MAX * 2 + 256];
        int n = snprintf(
            json, sizeof json,
            "{\"v\":%d,\"type\":\"heartbeat\",\"room\":\"%s\",\"seq\":%" PRIu64
            ",\"phase\":\"%s\",\"time\":%" PRId64 ",\"interval_ms\":%d}",
            PC_PROTOCOL_VERSION, pc_room_id(hub->room), pc_room_seq(hub->room),
            pc_room_phase(hub->room), pc_room_now_ms(hub->room),
            hub->heartbeat_ms);
        if (n < 0 || (size_t)n >= sizeof json ||
            frame(t, "heartbeat", NULL, json, (size_t)n) != PC_OK) {
            return;
        }
    }
    for (stream *s = hub->streams; s != NULL; s = s->next) {
        queue_event(hub, s, t->buf, t->len);
        send_queue(hub, s);
    }
}

pc_err pc__sse_hub_new(pc__httpd *d, struct event_base *base, pc_room *room,
                       int heartbeat_ms, size_t cap, pc__sse_stats *stats,
                       pc__sse_hub **out)
{
    pc__sse_hub *hub = pc_malloc(sizeof *hub);
    if (hub == NULL) {
        return PC_ERR_NOMEM;
    }
    *hub = (pc__sse_hub){.d = d,
                         .room = room,
                         .heartbeat_ms = heartbeat_ms,
                         .cap = cap,
                         .stats = stats};
    int every = heartbeat_ms > 0 ? heartbeat_ms : KEEPALIVE_MS;
    struct timeval tv = {every / 1000, (every % 1000) * 1000};
    hub->flush_ev = event_new(base, -1, 0, on_flush, hub);
    hub->beat_ev = event_new(base, -1, EV_PERSIST, on_beat, hub);
    if (hub->flush_ev == NULL || hub->beat_ev == NULL ||
        event_add(hub->beat_ev, &tv) != 0) {
        pc__sse_hub_free(hub);
        return PC_ERR_NOMEM;
    }
    *out = hub;
    return PC_OK;
}

void pc__sse_hub_free(pc__sse_hub *hub)
{
    if (hub == NULL) {
        return;
    }
    while (hub->streams != NULL) {
        stream *s = hub->streams;
        unlink_stream(hub, s);
        pc__httpd_forget(hub->d, s->req);
        if (!s->cut) {
            send_queue(hub, s);
        }
        evhttp_send_reply_end(s->req);
        free_stream(s);
    }
    if (hub->flush_ev != NULL) {
        event_free(hub->flush_ev);
    }
    if (hub->beat_ev != NULL) {
        event_free(hub->beat_ev);
    }
    pc__text_free(&hub->scratch);
    pc_free(hub);
}

/* The snapshot event of the room in viewer's view, appended to t. */
static pc_err snapshot_event(const pc_room *room, const pc_viewer *viewer,
                             pc__text *t)
{
    const pc_game *g = pc_room_game(room);
    cJSON *state = NULL;
    uint64_t sum = pc_room_checksum(room);
    if (pc_view_has_private(g)) {
        if (pc_view_state_as(g, pc_room_state(room), viewer, &state) != PC_OK ||
            pc_view_checksum_as(g, pc_room_state(room), viewer, &sum) !=
                PC_OK) {
            cJSON_Delete(state);
            return PC_ERR_NOMEM;
        }
    } else if ((state = cJSON_Duplicate(pc_room_state(room), true)) == NULL) {
        return PC_ERR_NOMEM;
    }
    char hex[PC__SUM_HEX];
    pc__envelope_hex(sum, hex);
    uint64_t seq = pc_room_seq(room);
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;
    size_t len = 0;
    pc_err rc = PC_ERR_NOMEM;
    if (o != NULL && cJSON_AddNumberToObject(o, "v", PC_PROTOCOL_VERSION) &&
        cJSON_AddStringToObject(o, "type", "snapshot") &&
        cJSON_AddStringToObject(o, "room", pc_room_id(room)) &&
        cJSON_AddNumberToObject(o, "seq", (double)seq) &&
        cJSON_AddStringToObject(o, "sum", hex) &&
        cJSON_AddItemToObject(o, "state", state)) {
        state = NULL;
        if (pc__envelope_print(o, &text, &len) == PC_OK) {
            rc = frame(t, "snapshot", &seq, text, len);
        }
    }
    cJSON_free(text);
    cJSON_Delete(state);
    cJSON_Delete(o);
    return rc;
}

/* The changes after last, in viewer's view, appended to t; PC_ERR_EVICTED
 * when the room no longer holds them all, PC_ERR_LIMIT when they pass
 * budget bytes (a snapshot is cheaper then). */
static pc_err backlog(const pc_room *room, const pc_viewer *viewer,
                      uint64_t last, size_t budget, pc__text *t)
{
    uint64_t seq = pc_room_seq(room), first = pc_history_first_seq(room);
    if (last > seq) {
        return PC_ERR_EVICTED; /* a newer room than the client saw: restart */
    }
    if (last == seq) {
        return PC_OK;
    }
    if (first == 0 || last + 1 < first) {
        return PC_ERR_EVICTED;
    }
    const pc_game *g = pc_room_game(room);
    cJSON *doc = NULL;
    if (pc_view_has_private(g) &&
        pc_history_state_at(room, last, &doc) != PC_OK) {
        return PC_ERR_EVICTED;
    }
    pc_err rc = PC_OK;
    for (uint64_t s = last + 1; rc == PC_OK && s <= seq; s++) {
        const pc_change *c;
        if (pc_history_get(room, s, &c) != PC_OK ||
            (doc != NULL && !pc__envelope_replay(doc, c))) {
            rc = PC_ERR_NOMEM;
        } else {
            rc = change_event(room, c, viewer, doc, t);
        }
        if (rc == PC_OK && t->len > budget) {
            rc = PC_ERR_LIMIT;
        }
    }
    cJSON_Delete(doc);
    return rc;
}

void pc__sse_open(pc__sse_hub *hub, struct evhttp_request *req,
                  const pc_viewer *viewer, const uint64_t *last)
{
    stream *s = pc_malloc(sizeof *s);
    pc__text t = {0};
    pc_err rc = PC_ERR_NOMEM;
    if (s != NULL) {
        *s = (stream){.hub = hub, .req = req, .kind = viewer->kind};
        s->queue = evbuffer_new();
        if (s->queue != NULL &&
            (viewer->player == NULL ||
             (s->player = pc_strdup(viewer->player)) != NULL) &&
            pc__text_put(&t, "retry: 1000\n\n", 13) == PC_OK) {
            pc_viewer v = viewer_of(s);
            rc = last != NULL ? backlog(hub->room, &v, *last, hub->cap / 2, &t)
                              : PC_ERR_EVICTED;
            if (rc == PC_OK) {
                hub->stats->resumed++;
            } else if (rc == PC_ERR_EVICTED || rc == PC_ERR_LIMIT) {
                t.len = 13;
                rc = snapshot_event(hub->room, &v, &t);
                hub->stats->snapshots++;
            }
        }
    }
    if (rc == PC_OK && evbuffer_add(s->queue, t.buf, t.len) != 0) {
        rc = PC_ERR_NOMEM;
    }
    pc__text_free(&t);
    if (rc != PC_OK) {
        if (s != NULL) {
            free_stream(s);
        }
        pc_error e = {0};
        pc_error_set(&e, PC_ERR_NOMEM, "internal", "out of memory");
        pc__httpd_reply_error(hub->d, req, &e);
        return;
    }
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "text/event-stream");
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "X-Accel-Buffering", "no");
    pc__httpd_cors(hub->d, req);
    evhttp_send_reply_start(req, 200, "OK");
    pc__httpd_count_status(hub->d, 200);
    if (pc__httpd_on_close(hub->d, req, on_close, s) != PC_OK) {
        /* an untracked connection (its accounting failed): no stream */
        evhttp_send_reply_end(req);
        free_stream(s);
        return;
    }
    s->next = hub->streams;
    if (hub->streams != NULL) {
        hub->streams->prev = s;
    }
    hub->streams = s;
    hub->stats->streams++;
    hub->stats->opened++;
    send_queue(hub, s);
}
