/*
 * broadcast.c - one room's changes and heartbeats on the PUB socket.
 *
 * The sink writes each committed change (public view) as text straight
 * into the room's open frame, a buffer kept from frame to frame that
 * already holds the topic "<room> " and the envelope's head (no tree is
 * built for the envelope, the patch is not copied, and the only copy of
 * the frame is into the nng message at send); it then activates the flush
 * event. libevent runs that event after the callbacks already active in
 * this loop iteration, so the changes one callback commits (a move that
 * also ends the game, a burst of requests drained together) share a frame,
 * while a lone change goes out at once - the Redis beforesleep pattern
 * without its latency. A frame only ever holds consecutive seqs: a change
 * that cannot be encoded (out of memory) closes the frame before it and
 * is counted as lost, and clients repair the gap from the request channel
 * as for any PUB drop. The heartbeat sends the open frame first, so a
 * heartbeat never announces a seq whose change is still unsent. Nothing
 * here blocks: nng PUB drops instead (by design). For tests only, a
 * seeded fraction of changes can be suppressed the same way (a gap that
 * clients must repair); the hook is off unless a server option sets it.
 */
#include "broadcast.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "phasecast/alloc.h"
#include "phasecast/server.h"
#include "envelope.h"
#include "room.h"

struct pc__broadcast {
    nng_socket pub;
    pc_room *room;
    struct event *flush_ev;
    struct event *heartbeat_ev; /* NULL when heartbeats are off */
    int heartbeat_ms;
    pc__text frame;    /* open frame (kept between frames); len 0: none */
    size_t count;      /* changes in the open frame */
    bool flush_armed;  /* flush_ev is active: the frame goes out this
                          loop iteration */
    uint64_t last_seq; /* seq of the frame's last change */
    uint64_t lost;
    unsigned drop_permille; /* test hook: see pc__broadcast_set_drop */
    uint64_t drop_state;    /* its xorshift64 state, never 0 */
    pc__pub_stats *stats;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    pc__broadcast_flush(arg);
}

/* Publish text (len bytes) as "<room> " + text. */
static bool publish(pc__broadcast *b, const char *text, size_t len)
{
    const char *id = pc_room_id(b->room);
    size_t idlen = strlen(id);
    nng_msg *m;
    if (nng_msg_alloc(&m, idlen + 1 + len) != 0) {
        return false;
    }
    char *body = nng_msg_body(m);
    memcpy(body, id, idlen);
    body[idlen] = ' ';
    memcpy(body + idlen + 1, text, len);
    if (nng_sendmsg(b->pub, m, NNG_FLAG_NONBLOCK) != 0) {
        nng_msg_free(m);
        return false;
    }
    return true;
}

static void on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
    pc__broadcast *b = arg;
    (void)fd;
    (void)what;
    pc__broadcast_flush(b);
    cJSON *o = cJSON_CreateObject();
    bool ok =
        o != NULL &&
        cJSON_AddNumberToObject(o, "v", PC_PROTOCOL_VERSION) != NULL &&
        cJSON_AddStringToObject(o, "type", "heartbeat") != NULL &&
        cJSON_AddStringToObject(o, "room", pc_room_id(b->room)) != NULL &&
        cJSON_AddNumberToObject(o, "seq", (double)pc_room_seq(b->room)) !=
            NULL &&
        cJSON_AddStringToObject(o, "phase", pc_room_phase(b->room)) != NULL &&
        cJSON_AddNumberToObject(o, "time", (double)pc_room_now_ms(b->room)) !=
            NULL &&
        cJSON_AddNumberToObject(o, "interval_ms", b->heartbeat_ms) != NULL;
    char *text;
    size_t len;
    if (ok && pc__envelope_print(o, &text, &len) == PC_OK) {
        if (publish(b, text, len)) {
            b->stats->heartbeats++;
        }
        cJSON_free(text);
    }
    cJSON_Delete(o);
}

pc_err pc__broadcast_new(struct event_base *base, nng_socket pub, pc_room *room,
                         int heartbeat_ms, pc__pub_stats *stats,
                         pc__broadcast **out)
{
    pc__broadcast *b = pc_malloc(sizeof *b);
    if (b == NULL) {
        return PC_ERR_NOMEM;
    }
    *b = (pc__broadcast){
        .pub = pub, .room = room, .heartbeat_ms = heartbeat_ms, .stats = stats};
    b->flush_ev = event_new(base, -1, 0, on_flush, b);
    if (b->flush_ev == NULL) {
        pc_free(b);
        return PC_ERR_NOMEM;
    }
    if (heartbeat_ms > 0) {
        b->heartbeat_ev = event_new(base, -1, EV_PERSIST, on_heartbeat, b);
        struct timeval tv = {heartbeat_ms / 1000, (heartbeat_ms % 1000) * 1000};
        if (b->heartbeat_ev == NULL || event_add(b->heartbeat_ev, &tv) != 0) {
            if (b->heartbeat_ev != NULL) {
                event_free(b->heartbeat_ev);
            }
            event_free(b->flush_ev);
            pc_free(b);
            return PC_ERR_NOMEM;
        }
    }
    *out = b;
    return PC_OK;
}

void pc__broadcast_free(pc__broadcast *b)
{
    if (b == NULL) {
        return;
    }
    event_free(b->flush_ev);
    if (b->heartbeat_ev != NULL) {
        event_free(b->heartbeat_ev);
    }
    pc__text_free(&b->frame);
    pc_free(b);
}

/* Send the open frame. Callers account its time in publish_ns; it
 * accounts its own in send_ns. */
static void flush_frame(pc__broadcast *b)
{
    if (b->frame.len == 0) {
        return;
    }
    size_t count = b->count;
    b->count = 0;
    if (count == 0) {
        b->frame.len = 0;
        return;
    }
    uint64_t t0 = now_ns();
    nng_msg *m = NULL;
    size_t len = b->frame.len + 2;
    if (nng_msg_alloc(&m, len) == 0) {
        char *body = nng_msg_body(m);
        memcpy(body, b->frame.buf, b->frame.len);
        memcpy(body + b->frame.len, "]}", 2);
    }
    b->frame.len = 0;
    if (b->frame.cap > 4 * PC__FRAME_BYTES_SOFT) {
        pc__text_free(&b->frame); /* one huge change: do not keep it */
    }
    if (m == NULL || nng_sendmsg(b->pub, m, NNG_FLAG_NONBLOCK) != 0) {
        b->lost += count;
        b->stats->lost += count;
        nng_msg_free(m);
    } else {
        b->stats->frames++;
        b->stats->bytes += len;
        b->stats->changes += count;
    }
    b->stats->send_ns += now_ns() - t0;
}

void pc__broadcast_flush(pc__broadcast *b)
{
    b->flush_armed = false;
    if (b->frame.len != 0) {
        uint64_t t0 = now_ns();
        flush_frame(b);
        b->stats->publish_ns += now_ns() - t0;
    }
}

/* Open a frame: topic and envelope head. */
static bool open_frame(pc__broadcast *b)
{
    const char *id = pc_room_id(b->room);
    char head[PC_ROOM_ID_MAX * 2 + 64];
    int n = snprintf(head, sizeof head,
                     "%s {\"v\":%d,\"type\":\"changes\",\"room\":\"%s\","
                     "\"changes\":[",
                     id, PC_PROTOCOL_VERSION, id);
    b->frame.len = 0;
    return pc__text_put(&b->frame, head, (size_t)n) == PC_OK;
}

void pc__broadcast_set_drop(pc__broadcast *b, unsigned permille, uint64_t seed)
{
    /* FNV-1a of the room id mixed into the seed, so rooms drop differently. */
    uint64_t h = 0xcbf29ce484222325u ^ seed;
    for (const char *p = pc_room_id(b->room); *p != '\0'; p++) {
        h = (h ^ (unsigned char)*p) * 0x100000001b3u;
    }
    b->drop_permille = permille;
    b->drop_state = h != 0 ? h : 1;
}

/* Test hook: whether to suppress this change (xorshift64). */
static bool drop_next(pc__broadcast *b)
{
    if (b->drop_permille == 0) {
        return false;
    }
    uint64_t x = b->drop_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b->drop_state = x;
    return x % 1000 < b->drop_permille;
}

/* The broadcast is public: every SUB socket receives it, whatever topic
 * it subscribed to. */
static const pc_viewer public_viewer = {PC_VIEWER_PUBLIC, NULL};

/* Append change to the open frame (opening one if needed); false when it
 * could not be encoded or appended, and so will never be sent. */
static bool add_change(pc__broadcast *b, pc_room *room, const pc_change *change)
{
    if (b->frame.len != 0 &&
        (change->seq != b->last_seq + 1 || b->count >= PC__FRAME_CHANGES_MAX ||
         b->frame.len >= PC__FRAME_BYTES_SOFT)) {
        flush_frame(b);
    }
    if (b->frame.len == 0 && !open_frame(b)) {
        return false;
    }
    size_t before = b->frame.len;
    size_t text_len = 0;
    const char *text = pc__room_patch_text(room, change->patch, &text_len);
    if ((b->count > 0 && pc__text_put(&b->frame, ",", 1) != PC_OK) ||
        pc__envelope_change_text(pc_room_game(room), change, &public_viewer,
                                 pc_room_state(room), text, text_len,
                                 &b->frame) != PC_OK) {
        b->frame.len = before; /* back to the last complete change */
        flush_frame(b);        /* never let a frame skip this seq */
        return false;
    }
    b->count++;
    b->last_seq = change->seq;
    return true;
}

void pc__broadcast_sink(pc_room *room, const pc_change *change, void *arg)
{
    pc__broadcast *b = arg;
    if (drop_next(b)) {
        /* Send what precedes it; the next change then opens a new frame
         * because its seq no longer follows last_seq. */
        pc__broadcast_flush(b);
        return;
    }
    uint64_t t0 = now_ns();
    if (add_change(b, room, change)) {
        if (!b->flush_armed) {
            b->flush_armed = true;
            event_active(b->flush_ev, 0, 0);
        }
    } else {
        b->lost++;
        b->stats->lost++;
    }
    b->stats->publish_ns += now_ns() - t0;
}

uint64_t pc__broadcast_lost(const pc__broadcast *b)
{
    return b->lost;
}
