/*
 * request.c - the client's request channel: the REQ socket, the retry loop
 * with its doubling timeout, and the join, snapshot, changes and action
 * requests with the checks on their replies.
 *
 * nng's own REQ resend is disabled, so the loop in pc__request_call is the
 * only retry policy: each attempt resends the same bytes and waits twice as
 * long as the one before. That is safe for every request the client sends
 * more than once: reads change nothing, the server applies an action id
 * once and answers every copy alike, and it answers a repeated join (same
 * name, same nonce) with the first join's reply. A checksum mismatch is
 * reported to the server (`report`) once, without retry, and its reply is
 * ignored. It does not decide what to ask or when (client.c does) and
 * never touches the replica.
 */
#include "request.h"

#include <stdio.h>
#include <string.h>

#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

#include "phasecast/alloc.h"
#include "phasecast/room.h"
#include "phasecast/view.h"

#include "replica.h"
#include "wire.h"

/* Longest single request attempt, however many doublings. */
#define ATTEMPT_CAP_MS 30000

pc_err pc__request_nng_err(int rv)
{
    switch (rv) {
    case 0:
        return PC_OK;
    case NNG_ENOMEM:
        return PC_ERR_NOMEM;
    case NNG_ETIMEDOUT:
        return PC_ERR_TIMEOUT;
    case NNG_EINVAL:
    case NNG_EADDRINVAL:
    case NNG_ENOTSUP:
        return PC_ERR_INVALID;
    case NNG_ECLOSED:
        return PC_ERR_CLOSED;
    default:
        return PC_ERR_IO;
    }
}

int pc__request_dial(nng_socket s, const char *url, const pc_client_config *cfg,
                     nng_dialer *out)
{
    nng_dialer d;
    int rv = nng_dialer_create(&d, s, url);
    if (rv == 0) {
        *out = d;
    }
    if (rv == 0) {
        rv = nng_dialer_set_ms(d, NNG_OPT_RECONNMINT, cfg->reconnect_min_ms);
    }
    if (rv == 0) {
        rv = nng_dialer_set_ms(d, NNG_OPT_RECONNMAXT, cfg->reconnect_max_ms);
    }
    if (rv == 0) {
        rv = nng_dialer_set_size(d, NNG_OPT_RECVMAXSZ, cfg->recv_max_bytes);
    }
    if (rv == 0) {
        rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK);
    }
    return rv;
}

void pc__request_init(pc__request *r, const char *room,
                      const pc_client_config *cfg, const pc_json_limits *lim,
                      pc_client_stats *st)
{
    memset(r, 0, sizeof(*r));
    r->timeout_ms = cfg->request_timeout_ms;
    r->room = room;
    r->lim = lim;
    r->st = st;
    snprintf(r->action_prefix, sizeof(r->action_prefix), "%08x%08x",
             (unsigned)nng_random(), (unsigned)nng_random());
    /* 32 characters of 6 random bits each: the nonce hands out the token
     * to whoever repeats the join, so it must be as hard to guess. */
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    if (cfg->join_nonce != NULL) {
        snprintf(r->nonce, sizeof(r->nonce), "%s", cfg->join_nonce);
        return;
    }
    for (size_t i = 0; i < 32; i++) {
        r->nonce[i] = alphabet[nng_random() % 64];
    }
    r->nonce[32] = '\0';
}

int pc__request_open(pc__request *r, const pc_client_config *cfg)
{
    int rv = nng_req0_open(&r->sock);
    if (rv != 0) {
        return rv;
    }
    r->open = true;
    /* pc__request_call is the only retry policy. */
    if ((rv = nng_socket_set_ms(r->sock, NNG_OPT_REQ_RESENDTIME,
                                NNG_DURATION_INFINITE)) != 0 ||
        (rv = nng_socket_set_ms(r->sock, NNG_OPT_SENDTIMEO,
                                cfg->request_timeout_ms)) != 0 ||
        (rv = nng_socket_set_size(r->sock, NNG_OPT_RECVMAXSZ,
                                  cfg->recv_max_bytes)) != 0 ||
        (rv = pc__request_dial(r->sock, cfg->req_url, cfg, &r->dialer)) != 0) {
        return rv;
    }
    return 0;
}

void pc__request_close(pc__request *r)
{
    if (nng_dialer_id(r->dialer) > 0) {
        nng_dialer_close(r->dialer);
    }
    if (r->open) {
        nng_close(r->sock);
    }
}

cJSON *pc__request_new(const pc__request *r, const char *op)
{
    cJSON *req = cJSON_CreateObject();
    if (req == NULL || cJSON_AddNumberToObject(req, "v", 1) == NULL ||
        cJSON_AddStringToObject(req, "op", op) == NULL ||
        cJSON_AddStringToObject(req, "room", r->room) == NULL ||
        (r->token[0] != '\0' &&
         cJSON_AddStringToObject(req, "token", r->token) == NULL)) {
        cJSON_Delete(req);
        return NULL;
    }
    return req;
}

/* One attempt: send text and wait up to timeout ms for the reply, whose
 * body (*body, *body_len) lives in *msg (nng_msg_free it; NULL for a
 * harnessed client, whose reply is the harness's). */
static pc_err exchange(pc__request *r, const char *text, size_t len,
                       int timeout, nng_msg **msg, const char **body,
                       size_t *body_len)
{
    if (r->harness != NULL) {
        return r->harness->exchange(text, len, body, body_len, r->harness->arg);
    }
    nng_socket_set_ms(r->sock, NNG_OPT_RECVTIMEO, timeout);
    nng_msg *m;
    int nrv = nng_msg_alloc(&m, 0);
    if (nrv == 0 && (nrv = nng_msg_append(m, text, len)) != 0) {
        nng_msg_free(m);
    }
    if (nrv == 0 && (nrv = nng_sendmsg(r->sock, m, 0)) != 0) {
        nng_msg_free(m); /* sendmsg takes ownership only on success */
    }
    if (nrv == 0) {
        nrv = nng_recvmsg(r->sock, &m, 0);
    }
    if (nrv != 0) {
        return pc__request_nng_err(nrv);
    }
    *msg = m;
    *body = nng_msg_body(m);
    *body_len = nng_msg_len(m);
    return PC_OK;
}

pc_err pc__request_call(pc__request *r, const cJSON *req, int attempts,
                        cJSON **root, const cJSON **result, pc_error *e)
{
    char *text = cJSON_PrintUnformatted(req);
    if (text == NULL) {
        return PC_ERR_NOMEM;
    }
    size_t len = strlen(text);
    pc_err rv = PC_ERR_TIMEOUT;
    int timeout = r->timeout_ms;
    for (int k = 0; k < attempts; k++) {
        if (k > 0) {
            timeout =
                timeout > ATTEMPT_CAP_MS / 2 ? ATTEMPT_CAP_MS : timeout * 2;
        }
        nng_msg *msg = NULL;
        const char *body = NULL;
        size_t body_len = 0;
        rv = exchange(r, text, len, timeout, &msg, &body, &body_len);
        r->st->requests++;
        if (rv != PC_OK) {
            r->st->request_failures++;
            if (rv == PC_ERR_NOMEM || rv == PC_ERR_CLOSED) {
                break;
            }
            rv = PC_ERR_TIMEOUT;
            continue;
        }
        cJSON *doc = NULL;
        rv = pc_json_parse(body, body_len, r->lim, &doc, NULL);
        if (msg != NULL) {
            nng_msg_free(msg);
        }
        if (rv != PC_OK) {
            r->st->bad_messages++;
            rv = rv == PC_ERR_NOMEM ? rv : PC_ERR_PROTOCOL;
            break;
        }
        const cJSON *res = NULL;
        rv = pc__wire_reply(doc, &res, e);
        if (rv != PC_OK) {
            if (rv == PC_ERR_PROTOCOL) {
                r->st->bad_messages++;
            }
            const cJSON *es = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(doc, "error"), "seq");
            r->has_error_seq = pc__wire_u64(es, &r->error_seq);
            cJSON_Delete(doc);
            break;
        }
        *root = doc;
        *result = res;
        break;
    }
    cJSON_free(text);
    return rv;
}

void pc__wipe(void *buf, size_t n)
{
    volatile unsigned char *p = buf;
    for (size_t i = 0; i < n; i++) {
        p[i] = 0;
    }
}

void pc__request_paths_free(char **paths)
{
    for (char **pp = paths; pp != NULL && *pp != NULL; pp++) {
        pc_free(*pp);
    }
    pc_free(paths);
}

/* Copy the private-path patterns a join announced into *out. Absent (an
 * older server) or malformed patterns leave *out NULL, and the client
 * probes with the token instead; only running out of memory is an error. */
static pc_err take_private_paths(pc__request *r, const cJSON *arr, char ***out)
{
    int n = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : -1;
    if (n < 0 || n > PC_VIEW_PATTERNS_MAX) {
        return PC_OK;
    }
    size_t size = sizeof(char *) * ((size_t)n + 1);
    char **paths = pc_malloc(size);
    if (paths == NULL) {
        return PC_ERR_NOMEM;
    }
    memset(paths, 0, size); /* NULL-terminated at every step */
    int i = 0;
    bool strings = true;
    for (const cJSON *it = arr->child; it != NULL && i < n; it = it->next) {
        if (!cJSON_IsString(it)) {
            strings = false;
            break;
        }
        if ((paths[i++] = pc_strdup(it->valuestring)) == NULL) {
            pc__request_paths_free(paths);
            return PC_ERR_NOMEM;
        }
    }
    pc_game probe = {.private_paths = (const char *const *)paths};
    if (!strings || pc_view_check_game(&probe) != PC_OK) {
        r->st->bad_messages++;
        pc__request_paths_free(paths);
        return PC_OK;
    }
    *out = paths;
    return PC_OK;
}

pc_err pc__request_join(pc__request *r, const char *name,
                        const char *gm_credential, int attempts, char ***paths,
                        pc_error *e)
{
    bool player = name != NULL;
    const char *role = gm_credential != NULL ? "gm"
                       : player              ? "player"
                                             : "spectator";
    cJSON *req = pc__request_new(r, "join");
    if (req == NULL || cJSON_AddStringToObject(req, "role", role) == NULL ||
        (player && (cJSON_AddStringToObject(req, "name", name) == NULL ||
                    cJSON_AddStringToObject(req, "nonce", r->nonce) == NULL)) ||
        (gm_credential != NULL &&
         cJSON_AddStringToObject(req, "credential", gm_credential) == NULL)) {
        cJSON_Delete(req);
        return PC_ERR_NOMEM;
    }
    cJSON *root = NULL;
    const cJSON *res = NULL;
    pc_err rv = pc__request_call(r, req, attempts, &root, &res, e);
    /* The credential leaves no copy behind in the request tree. */
    cJSON *cred = cJSON_GetObjectItemCaseSensitive(req, "credential");
    if (cJSON_IsString(cred)) {
        pc__wipe(cred->valuestring, strlen(cred->valuestring));
    }
    cJSON_Delete(req);
    if (rv != PC_OK) {
        return rv;
    }
    if (player) {
        const cJSON *token = cJSON_GetObjectItemCaseSensitive(res, "token");
        if (!cJSON_IsString(token) || strlen(token->valuestring) != 32 ||
            strspn(token->valuestring, "0123456789abcdefABCDEF") != 32) {
            r->st->bad_messages++;
            cJSON_Delete(root);
            return PC_ERR_PROTOCOL;
        }
        memcpy(r->token, token->valuestring, 33);
        rv = take_private_paths(
            r, cJSON_GetObjectItemCaseSensitive(res, "private_paths"), paths);
    }
    cJSON_Delete(root);
    return rv;
}

pc_err pc__request_snapshot(pc__request *r, int attempts, pc__replica *out,
                            pc_error *e)
{
    cJSON *req = pc__request_new(r, "snapshot");
    if (req == NULL) {
        return PC_ERR_NOMEM;
    }
    cJSON *root = NULL;
    const cJSON *res = NULL;
    pc_err rv = pc__request_call(r, req, attempts, &root, &res, e);
    cJSON_Delete(req);
    if (rv != PC_OK) {
        return rv;
    }
    uint64_t seq, sum;
    cJSON *state = cJSON_GetObjectItemCaseSensitive(res, "state");
    if (!pc__wire_u64(cJSON_GetObjectItemCaseSensitive(res, "seq"), &seq) ||
        !pc__wire_sum(cJSON_GetObjectItemCaseSensitive(res, "sum"), &sum) ||
        state == NULL) {
        r->st->bad_messages++;
        cJSON_Delete(root);
        return PC_ERR_PROTOCOL;
    }
    cJSON_DetachItemViaPointer((cJSON *)res, state);
    cJSON_Delete(root);
    pc__replica tmp;
    pc__replica_init(&tmp);
    rv = pc__replica_reset(&tmp, state, seq);
    if (rv != PC_OK) {
        cJSON_Delete(state);
        r->st->bad_messages++;
        return rv;
    }
    if (tmp.sum != sum) {
        /* The snapshot disagrees with its own checksum: the caller keeps
         * its old replica. */
        r->st->checksum_mismatches++;
        pc__replica_fini(&tmp);
        pc__request_report(r, seq);
        return PC_ERR_PROTOCOL;
    }
    *out = tmp;
    return PC_OK;
}

pc_err pc__request_changes(pc__request *r, uint64_t since, cJSON **root,
                           uint64_t *head, const cJSON **list)
{
    cJSON *req = pc__request_new(r, "changes");
    if (req == NULL ||
        cJSON_AddNumberToObject(req, "since", (double)since) == NULL) {
        cJSON_Delete(req);
        return PC_ERR_NOMEM;
    }
    cJSON *doc = NULL;
    const cJSON *res = NULL;
    pc_err rv = pc__request_call(r, req, 1, &doc, &res, NULL);
    cJSON_Delete(req);
    if (rv != PC_OK) {
        return rv;
    }
    uint64_t at = 0;
    const cJSON *changes = cJSON_GetObjectItemCaseSensitive(res, "changes");
    if (!pc__wire_u64(cJSON_GetObjectItemCaseSensitive(res, "seq"), &at) ||
        !cJSON_IsArray(changes)) {
        r->st->bad_messages++;
        cJSON_Delete(doc);
        return PC_ERR_PROTOCOL;
    }
    *root = doc;
    *head = at;
    *list = changes;
    return PC_OK;
}

void pc__request_action_id(pc__request *r, char id[PC__ACTION_ID_SIZE])
{
    snprintf(id, PC__ACTION_ID_SIZE, "%s-%llu", r->action_prefix,
             (unsigned long long)++r->action_counter);
}

pc_err pc__request_act(pc__request *r, const char *action_id, const char *type,
                       const cJSON *payload, const uint64_t *expected_seq,
                       int attempts, cJSON **value, uint64_t *seq,
                       pc_error *err)
{
    size_t id_len = action_id != NULL ? strlen(action_id) : 0;
    if (id_len == 0 || id_len > 64 || type == NULL) {
        return pc_error_set(err, PC_ERR_INVALID, NULL,
                            "action needs a type and a 1-64 byte id");
    }
    cJSON *req = pc__request_new(r, "action");
    cJSON *copy = payload != NULL ? cJSON_Duplicate(payload, 1) : NULL;
    if (req == NULL || (payload != NULL && copy == NULL) ||
        cJSON_AddStringToObject(req, "action_id", action_id) == NULL ||
        cJSON_AddStringToObject(req, "type", type) == NULL ||
        (expected_seq != NULL &&
         cJSON_AddNumberToObject(req, "expected_seq", (double)*expected_seq) ==
             NULL) ||
        (copy != NULL && !cJSON_AddItemToObject(req, "payload", copy))) {
        cJSON_Delete(copy);
        cJSON_Delete(req);
        return pc_error_set(err, PC_ERR_NOMEM, NULL, "out of memory");
    }
    cJSON *root = NULL;
    const cJSON *res = NULL;
    r->has_error_seq = false;
    pc_err rv = pc__request_call(r, req, attempts, &root, &res, err);
    cJSON_Delete(req);
    if (rv != PC_OK) {
        if (err != NULL && err->err == PC_OK) {
            pc_error_set(err, rv, NULL, "action %s: %s", type, pc_strerror(rv));
        }
        return rv;
    }
    uint64_t after = 0;
    if (!pc__wire_u64(cJSON_GetObjectItemCaseSensitive(res, "seq"), &after)) {
        r->st->bad_messages++;
        cJSON_Delete(root);
        return pc_error_set(err, PC_ERR_PROTOCOL, NULL,
                            "action reply without seq");
    }
    cJSON *v = cJSON_DetachItemFromObjectCaseSensitive((cJSON *)res, "value");
    if (v == NULL) {
        v = cJSON_CreateNull();
    }
    cJSON_Delete(root);
    if (v == NULL) {
        return pc_error_set(err, PC_ERR_NOMEM, NULL, "out of memory");
    }
    if (value != NULL) {
        *value = v;
    } else {
        cJSON_Delete(v);
    }
    if (seq != NULL) {
        *seq = after;
    }
    return PC_OK;
}

void pc__request_report(pc__request *r, uint64_t seq)
{
    cJSON *req = pc__request_new(r, "report");
    if (req == NULL ||
        cJSON_AddStringToObject(req, "kind", "checksum_mismatch") == NULL ||
        cJSON_AddNumberToObject(req, "seq", (double)seq) == NULL) {
        cJSON_Delete(req);
        return; /* out of memory: the report is only a courtesy */
    }
    cJSON *root = NULL;
    const cJSON *res = NULL;
    /* One attempt, whatever the reply: an older server answers
     * bad_request (unknown op), and that changes nothing here. */
    if (pc__request_call(r, req, 1, &root, &res, NULL) == PC_OK) {
        cJSON_Delete(root);
    }
    cJSON_Delete(req);
}
