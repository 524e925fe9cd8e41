/*
 * subscription.c - the client's SUB socket: subscribe-then-dial, and the
 * checks every broadcast message passes before client.c looks at it.
 *
 * nng SUB filters by prefix, so the topic is the room id plus the space
 * that ends it ("a " never matches room "ab"). The check is repeated here
 * anyway, along with the envelope's own "room", because a subscription is
 * only a filter and the body is untrusted. Messages of other types (a newer
 * protocol) pass; client.c ignores what it does not know.
 */
#include "subscription.h"

#include <stdio.h>
#include <string.h>

#include <nng/protocol/pubsub0/sub.h>

#include "phasecast/alloc.h"

#include "request.h"
#include "wire.h"

pc_err pc__subscription_init(pc__subscription *s, const char *room,
                             const pc_json_limits *lim, pc_client_stats *st)
{
    memset(s, 0, sizeof(*s));
    s->room = room;
    s->lim = lim;
    s->st = st;
    pc__frame_init(&s->frame);
    s->topic_len = strlen(room) + 1;
    s->topic = pc_malloc(s->topic_len + 1);
    if (s->topic == NULL) {
        return PC_ERR_NOMEM;
    }
    snprintf(s->topic, s->topic_len + 1, "%s ", room);
    return PC_OK;
}

int pc__subscription_open(pc__subscription *s, const pc_client_config *cfg)
{
    int rv = nng_sub0_open(&s->sock);
    if (rv != 0) {
        return rv;
    }
    s->open = true;
    if ((rv = nng_aio_alloc(&s->aio, NULL, NULL)) != 0) {
        return rv;
    }
    if ((rv = nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ,
                                  cfg->recv_max_bytes)) != 0 ||
        (rv = nng_socket_set_int(s->sock, NNG_OPT_RECVBUF, cfg->recv_buffer)) !=
            0 ||
        (rv = nng_socket_set(s->sock, NNG_OPT_SUB_SUBSCRIBE, s->topic,
                             s->topic_len)) != 0 ||
        (rv = pc__request_dial(s->sock, cfg->pub_url, cfg, &s->dialer)) != 0) {
        return rv;
    }
    return 0;
}

void pc__subscription_stop(pc__subscription *s)
{
    if (nng_dialer_id(s->dialer) > 0) {
        nng_dialer_close(s->dialer);
    }
}

void pc__subscription_close(pc__subscription *s)
{
    if (s->open) {
        nng_close(s->sock);
    }
    nng_aio_free(s->aio); /* accepts NULL */
    s->aio = NULL;
    pc_free(s->topic);
    s->topic = NULL;
    pc__frame_fini(&s->frame);
}

int pc__subscription_fd(pc__subscription *s)
{
    int fd;
    if (nng_socket_get_int(s->sock, NNG_OPT_RECVFD, &fd) != 0) {
        return -1;
    }
    return fd;
}

/* The envelope of one message, or NULL (counted) if it is not one of this
 * room's. PC_ERR_NOMEM only when parsing ran out of memory. */
static pc_err envelope(pc__subscription *s, const char *body, size_t len,
                       cJSON **out, pc__frame **frame)
{
    s->st->messages++;
    if (len <= s->topic_len || memcmp(body, s->topic, s->topic_len) != 0) {
        s->st->bad_messages++;
        return PC_OK;
    }
    bool taken = false;
    pc_err rv = pc__frame_decode(&s->frame, body + s->topic_len,
                                 len - s->topic_len, s->room, s->lim, &taken);
    if (rv != PC_OK || taken) {
        *frame = taken ? &s->frame : NULL;
        return rv;
    }
    cJSON *doc = NULL;
    rv = pc_json_parse(body + s->topic_len, len - s->topic_len, s->lim, &doc,
                       NULL);
    if (rv != PC_OK) {
        s->st->bad_messages++;
        return rv == PC_ERR_NOMEM ? rv : PC_OK;
    }
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(doc, "type");
    const cJSON *room = cJSON_GetObjectItemCaseSensitive(doc, "room");
    if (!cJSON_IsObject(doc) || !pc__wire_v1(doc) || !cJSON_IsString(type) ||
        !cJSON_IsString(room) || strcmp(room->valuestring, s->room) != 0) {
        s->st->bad_messages++;
        cJSON_Delete(doc);
        return PC_OK;
    }
    *out = doc;
    return PC_OK;
}

pc_err pc__subscription_recv(pc__subscription *s, bool *got, cJSON **doc,
                             pc__frame **frame)
{
    *got = false;
    *doc = NULL;
    *frame = NULL;
    /* What nng_recvmsg(NNG_FLAG_NONBLOCK) does, with the kept aio. */
    nng_aio_set_timeout(s->aio, NNG_DURATION_ZERO);
    nng_recv_aio(s->sock, s->aio);
    nng_aio_wait(s->aio);
    int nrv = nng_aio_result(s->aio);
    if (nrv == NNG_ETIMEDOUT) {
        return PC_OK; /* nothing queued */
    }
    if (nrv != 0) {
        return pc__request_nng_err(nrv) == PC_ERR_NOMEM ? PC_ERR_NOMEM
                                                        : PC_ERR_IO;
    }
    nng_msg *msg = nng_aio_get_msg(s->aio);
    nng_aio_set_msg(s->aio, NULL);
    *got = true;
    pc_err rv = envelope(s, nng_msg_body(msg), nng_msg_len(msg), doc, frame);
    nng_msg_free(msg);
    return rv;
}

pc_err pc__subscription_envelope(pc__subscription *s, const char *body,
                                 size_t len, cJSON **doc, pc__frame **frame)
{
    *doc = NULL;
    *frame = NULL;
    return envelope(s, body, len, doc, frame);
}
