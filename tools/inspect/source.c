/*
 * source.c - phasecast-inspect's sources: a change log, or a live server
 * asked with `inspect` requests (see source.h and docs/protocol.md).
 *
 * A live history arrives in pages: the first reply carries the base state
 * (the state the oldest retained change was applied to) and the first
 * records; "more" asks for the rest from the last seq received. Every
 * record goes through pc_timeline_add, which checks its seq and recomputes
 * the state checksum, so a source never holds a history it has not
 * verified.
 */
#include "source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/protocol/reqrep0/req.h>

#include "phasecast/json.h"

/* Largest reply accepted from a server. */
#define REPLY_MAX ((size_t)64 << 20)

pc_err insp_source_open_log(insp_source *s, const char *path, pc_error *err)
{
    memset(s, 0, sizeof(*s));
    pc_changelog_report rep;
    memset(&rep, 0, sizeof(rep));
    pc_err rv = pc_timeline_open_log(path, 0, &s->tl, &rep, err);
    if (rv == PC_ERR_NOT_FOUND) {
        return pc_error_set(err, rv, "not_found", "no log at %s", path);
    }
    if (rv == PC_ERR_INVALID && err != NULL && err->code[0] == '\0') {
        snprintf(err->code, sizeof(err->code), "corrupt_log");
    }
    return rv;
}

static bool copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) {
        return false;
    }
    memcpy(dst, src, n + 1);
    return true;
}

/* One request, one reply; *result receives the reply's "result" (the
 * whole reply is returned in *reply for the caller to free). */
static pc_err ask(insp_source *s, cJSON *req, cJSON **reply,
                  const cJSON **result, pc_error *err)
{
    char *text = cJSON_PrintUnformatted(req);
    if (text == NULL) {
        return pc_error_set(err, PC_ERR_NOMEM, NULL, "out of memory");
    }
    int rv = nng_send(s->req, text, strlen(text), 0);
    cJSON_free(text);
    if (rv != 0) {
        return pc_error_set(err, PC_ERR_IO, "unreachable",
                            "cannot send to %s: %s", s->url, nng_strerror(rv));
    }
    char *buf = NULL;
    size_t len = 0;
    rv = nng_recv(s->req, &buf, &len, NNG_FLAG_ALLOC);
    if (rv != 0) {
        return pc_error_set(
            err, rv == NNG_ETIMEDOUT ? PC_ERR_TIMEOUT : PC_ERR_IO,
            "unreachable", "no answer from %s: %s", s->url, nng_strerror(rv));
    }
    /* A reply is as large as the history asked for: only its size is
     * capped here; its states are checked again by the timeline. */
    pc_json_limits lim = pc_json_limits_default();
    lim.max_bytes = REPLY_MAX;
    lim.max_nodes = REPLY_MAX;
    lim.max_string = REPLY_MAX;
    lim.max_depth = PC_JSON_DEPTH_CEILING;
    cJSON *doc = NULL;
    pc_error pe = {0};
    pc_err pr = pc_json_parse(buf, len, &lim, &doc, &pe);
    nng_free(buf, len);
    if (pr != PC_OK) {
        return pc_error_set(err, PC_ERR_PROTOCOL, "bad_reply",
                            "the server's reply is not JSON: %s", pe.message);
    }
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(doc, "ok");
    if (cJSON_IsFalse(ok)) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
        pc_error_set(err, PC_ERR_PERMISSION, NULL, "%s",
                     cJSON_IsString(msg) ? msg->valuestring : "refused");
        if (err != NULL) {
            snprintf(err->code, sizeof(err->code), "%s",
                     cJSON_IsString(code) ? code->valuestring : "refused");
        }
        cJSON_Delete(doc);
        return PC_ERR_PERMISSION;
    }
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(doc, "result");
    if (!cJSON_IsTrue(ok) || !cJSON_IsObject(res)) {
        cJSON_Delete(doc);
        return pc_error_set(err, PC_ERR_PROTOCOL, "bad_reply",
                            "the server's reply has no result");
    }
    *reply = doc;
    *result = res;
    return PC_OK;
}

static bool hex64(const cJSON *v, uint64_t *out)
{
    if (!cJSON_IsString(v) || strlen(v->valuestring) != 16) {
        return false;
    }
    uint64_t x = 0;
    for (const char *p = v->valuestring; *p != '\0'; p++) {
        int d;
        if (*p >= '0' && *p <= '9') {
            d = *p - '0';
        } else if (*p >= 'a' && *p <= 'f') {
            d = *p - 'a' + 10;
        } else {
            return false;
        }
        x = x << 4 | (uint64_t)d;
    }
    *out = x;
    return true;
}

static bool uint_of(const cJSON *v, uint64_t *out)
{
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 ||
        v->valuedouble > 9007199254740992.0 ||
        v->valuedouble != (double)(uint64_t)v->valuedouble) {
        return false;
    }
    *out = (uint64_t)v->valuedouble;
    return true;
}

static cJSON *inspect_request(const insp_source *s, bool since, uint64_t from)
{
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "op", "inspect");
    cJSON_AddStringToObject(req, "room", s->room);
    cJSON_AddStringToObject(req, "credential", s->credential);
    if (since) {
        cJSON_AddNumberToObject(req, "since", (double)from);
    }
    return req;
}

/* Add the records of one reply; *more receives its "more". */
static pc_err add_records(insp_source *s, const cJSON *res, size_t *added,
                          bool *more, pc_error *err)
{
    const cJSON *recs = cJSON_GetObjectItemCaseSensitive(res, "records");
    if (!cJSON_IsArray(recs)) {
        return pc_error_set(err, PC_ERR_PROTOCOL, "bad_reply",
                            "the server's reply has no records");
    }
    const cJSON *r;
    cJSON_ArrayForEach(r, recs)
    {
        pc_err rv = pc_timeline_add(s->tl, r, err);
        if (rv != PC_OK) {
            return rv;
        }
        (*added)++;
    }
    *more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "more"));
    return PC_OK;
}

/* Ask for the whole retained history and make a new timeline of it. */
static pc_err load_live(insp_source *s, size_t *added, pc_error *err)
{
    cJSON *req = inspect_request(s, false, 0);
    cJSON *reply = NULL;
    const cJSON *res = NULL;
    pc_err rv = req != NULL
                    ? ask(s, req, &reply, &res, err)
                    : pc_error_set(err, PC_ERR_NOMEM, NULL, "no memory");
    cJSON_Delete(req);
    if (rv != PC_OK) {
        return rv;
    }
    const cJSON *base = cJSON_GetObjectItemCaseSensitive(res, "base");
    const cJSON *game = cJSON_GetObjectItemCaseSensitive(res, "game");
    uint64_t seq;
    uint64_t sum;
    if (!cJSON_IsString(game) || !cJSON_IsObject(base) ||
        !uint_of(cJSON_GetObjectItemCaseSensitive(base, "seq"), &seq) ||
        !hex64(cJSON_GetObjectItemCaseSensitive(base, "sum"), &sum)) {
        cJSON_Delete(reply);
        return pc_error_set(err, PC_ERR_PROTOCOL, "bad_reply",
                            "the server's inspect reply has no base state");
    }
    pc_timeline *tl = NULL;
    rv = pc_timeline_new(s->room, game->valuestring, seq,
                         cJSON_GetObjectItemCaseSensitive(base, "state"), sum,
                         &tl, err);
    if (rv != PC_OK) {
        cJSON_Delete(reply);
        return rv;
    }
    pc_timeline_free(s->tl);
    s->tl = tl;
    uint64_t seed;
    uint64_t draws;
    if (hex64(cJSON_GetObjectItemCaseSensitive(res, "seed"), &seed) &&
        uint_of(cJSON_GetObjectItemCaseSensitive(base, "draws"), &draws)) {
        pc_timeline_set_seed(tl, seed, draws);
    }
    bool more = false;
    rv = add_records(s, res, added, &more, err);
    cJSON_Delete(reply);
    if (rv == PC_OK && more) {
        rv = insp_source_update(s, added, err); /* pages on by itself */
    }
    return rv;
}

pc_err insp_source_open_live(insp_source *s, const char *url, const char *room,
                             const char *credential, pc_error *err)
{
    memset(s, 0, sizeof(*s));
    s->live = true;
    if (!copy(s->url, sizeof(s->url), url) ||
        !copy(s->room, sizeof(s->room), room) ||
        !copy(s->credential, sizeof(s->credential), credential)) {
        return pc_error_set(err, PC_ERR_INVALID, "bad_argument",
                            "URL, room or credential too long");
    }
    int rv = nng_req0_open(&s->req);
    if (rv == 0) {
        s->req_open = true;
        nng_socket_set_ms(s->req, NNG_OPT_RECVTIMEO, INSP_REQUEST_TIMEOUT_MS);
        nng_socket_set_ms(s->req, NNG_OPT_SENDTIMEO, INSP_REQUEST_TIMEOUT_MS);
        nng_socket_set_size(s->req, NNG_OPT_RECVMAXSZ, REPLY_MAX);
        rv = nng_dial(s->req, url, NULL, 0);
    }
    if (rv != 0) {
        return pc_error_set(err, PC_ERR_IO, "unreachable",
                            "cannot connect to %s: %s", url, nng_strerror(rv));
    }
    size_t added = 0;
    return load_live(s, &added, err);
}

pc_err insp_source_update(insp_source *s, size_t *added, pc_error *err)
{
    if (!s->live) {
        size_t n = 0;
        pc_err rv = pc_timeline_refresh(s->tl, &n, err);
        *added += n;
        return rv;
    }
    bool more = true;
    while (more) {
        cJSON *req = inspect_request(s, true, pc_timeline_last_seq(s->tl));
        cJSON *reply = NULL;
        const cJSON *res = NULL;
        pc_err rv = req != NULL
                        ? ask(s, req, &reply, &res, err)
                        : pc_error_set(err, PC_ERR_NOMEM, NULL, "no memory");
        cJSON_Delete(req);
        if (rv == PC_ERR_PERMISSION && err != NULL &&
            strcmp(err->code, "too_old") == 0) {
            /* The ring moved on past what we hold: start again from its
             * oldest state and say how many changes were missed. */
            uint64_t last = pc_timeline_last_seq(s->tl);
            size_t n = 0;
            rv = load_live(s, &n, err);
            if (rv == PC_OK) {
                uint64_t first = pc_timeline_first_seq(s->tl);
                s->evicted += first > last ? first - last : 0;
                *added += n;
            }
            return rv;
        }
        if (rv != PC_OK) {
            return rv;
        }
        rv = add_records(s, res, added, &more, err);
        cJSON_Delete(reply);
        if (rv != PC_OK) {
            return rv;
        }
    }
    return PC_OK;
}

void insp_source_close(insp_source *s)
{
    pc_timeline_free(s->tl);
    s->tl = NULL;
    if (s->req_open) {
        nng_close(s->req);
        s->req_open = false;
    }
    memset(s->credential, 0, sizeof(s->credential));
}

bool insp_credential(const char *path, char *out, size_t cap, pc_error *err)
{
    if (path == NULL) {
        const char *env = getenv("PHASECAST_INSPECTOR_CREDENTIAL");
        if (env == NULL || env[0] == '\0') {
            pc_error_set(err, PC_ERR_INVALID, "no_credential",
                         "a live source needs the inspector credential: "
                         "--credential-file FILE or "
                         "PHASECAST_INSPECTOR_CREDENTIAL");
            return false;
        }
        if (!copy(out, cap, env)) {
            pc_error_set(err, PC_ERR_INVALID, "bad_credential",
                         "PHASECAST_INSPECTOR_CREDENTIAL is too long");
            return false;
        }
        return true;
    }
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        pc_error_set(err, PC_ERR_IO, "no_credential", "cannot read %s: %s",
                     path, strerror(errno));
        return false;
    }
    bool ok = fgets(out, (int)cap, f) != NULL;
    fclose(f);
    if (ok) {
        out[strcspn(out, "\r\n")] = '\0';
    }
    if (!ok || out[0] == '\0') {
        pc_error_set(err, PC_ERR_INVALID, "no_credential",
                     "%s holds no credential on its first line", path);
        return false;
    }
    return true;
}
