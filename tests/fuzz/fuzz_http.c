/*
 * fuzz_http.c - everything the HTTP bridge reads from a request before it
 * becomes a request-channel request: the path (routes), the query
 * integers, the Authorization header, Last-Event-ID and the JSON body.
 *
 * Input: five fields separated by newlines - path, query, Authorization
 * value, Last-Event-ID value, body (the rest, newlines included). The
 * path and body go in as exact-size, non-NUL-terminated slices; the
 * header values as strings (evhttp hands them over NUL-terminated, and
 * never with a NUL or CR/LF inside). Properties: a matched route names a
 * valid room id or asset and matches again when rebuilt from its parts;
 * query integers, bearer credentials and event ids obey their documented
 * shapes; a body either parses within the limits or fails with a code and
 * a message, leaving no tree.
 */
#include <stdbool.h>

#include <cjson/cJSON.h>

#include "phasecast/json.h"
#include "fuzz.h"
#include "httproute.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > PC_ROOM_ID_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')) {
            return false;
        }
    }
    return true;
}

/* Rebuild the path of a parsed route. */
static void rebuild(const pc__route *r, char *out, size_t cap)
{
    static const char *const tails[] = {[PC__ROUTE_ROOM] = "",
                                        [PC__ROUTE_CHANGES] = "/changes",
                                        [PC__ROUTE_HISTORY] = "/history",
                                        [PC__ROUTE_EVENTS] = "/events",
                                        [PC__ROUTE_ACTIONS] = "/actions",
                                        [PC__ROUTE_JOIN] = "/join"};
    switch (r->kind) {
    case PC__ROUTE_ROOT:
        snprintf(out, cap, "/");
        break;
    case PC__ROUTE_ROOMS:
        snprintf(out, cap, "/rooms");
        break;
    case PC__ROUTE_METRICS:
        snprintf(out, cap, "/metrics");
        break;
    case PC__ROUTE_UI:
        snprintf(out, cap, "/ui/%s", r->asset);
        break;
    default:
        snprintf(out, cap, "/rooms/%s%s", r->room, tails[r->kind]);
        break;
    }
}

/* The next newline-ended field of [*p, end) as a fresh slice. */
static char *field(const char **p, const char *end, size_t *len)
{
    size_t rest = (size_t)(end - *p);
    size_t n = fz_find(*p, rest, "\n", 1);
    if (n > rest) {
        n = rest;
    }
    char *f = fz_copy(*p, n);
    *len = n;
    *p += n < rest ? n + 1 : n;
    return f;
}

/* A header value: the slice up to its first NUL, NUL-terminated. */
static char *cstr(const char *f, size_t n)
{
    size_t len = strnlen(f, n);
    char *c = malloc(len + 1);
    if (c == NULL) {
        fz_fail("out of memory");
    }
    memcpy(c, f, len);
    c[len] = '\0';
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    size_t plen, qlen, alen, llen;
    char *path = field(&p, end, &plen);
    char *query = field(&p, end, &qlen);
    char *auth = field(&p, end, &alen);
    char *leid = field(&p, end, &llen);
    size_t blen = (size_t)(end - p);
    char *body = fz_copy(p, blen);

    pc__route r;
    pc_error e = {0};
    pc_err rc = pc__route_parse(path, plen, &r, &e);
    if (rc == PC_OK) {
        if (r.kind != PC__ROUTE_ROOT && r.kind != PC__ROUTE_ROOMS &&
            r.kind != PC__ROUTE_METRICS && r.kind != PC__ROUTE_UI) {
            FZ_CHECK(id_ok(r.room), "route with bad room id");
        }
        if (r.kind == PC__ROUTE_UI) {
            FZ_CHECK(strchr(r.asset, '/') == NULL &&
                         strstr(r.asset, "..") == NULL,
                     "asset name escapes: %s", r.asset);
        }
        char again[PC__ROUTE_PATH_MAX + 8];
        rebuild(&r, again, sizeof again);
        FZ_CHECK(strlen(again) == plen && memcmp(again, path, plen) == 0,
                 "route does not rebuild to its path");
        pc__route r2;
        FZ_CHECK(pc__route_parse(again, strlen(again), &r2, &e) == PC_OK &&
                     r2.kind == r.kind,
                 "rebuilt route does not parse the same");
        FZ_CHECK(strcmp(pc__route_method(r.kind), "GET") == 0 ||
                     strcmp(pc__route_method(r.kind), "POST") == 0,
                 "odd method");
    } else {
        FZ_CHECK(rc == PC_ERR_NOT_FOUND && strcmp(e.code, "not_found") == 0 &&
                     e.message[0] != '\0',
                 "route error without code or message");
    }

    bool present;
    char *q = cstr(query, qlen);
    for (int k = 0; k < 2; k++) {
        uint64_t v = 0;
        pc_error qe = {0};
        rc = pc__query_uint(q, k == 0 ? "since" : "limit", &present, &v, &qe);
        if (rc == PC_OK) {
            FZ_CHECK(!present || v <= 9007199254740992ull, "query > 2^53");
        } else {
            FZ_CHECK(rc == PC_ERR_INVALID &&
                         strcmp(qe.code, "bad_request") == 0,
                     "query error without bad_request");
        }
    }

    char *a = cstr(auth, alen);
    char cred[PC__BEARER_MAX + 1];
    int got = pc__bearer(a, cred);
    FZ_CHECK(got == 1 || got == -1, "bearer of a present header: %d", got);
    (void)alen;
    if (got == 1) {
        size_t n = strlen(cred);
        FZ_CHECK(n >= 1 && n <= PC__BEARER_MAX && strchr(cred, ' ') == NULL &&
                     strstr(a, cred) != NULL,
                 "bad credential extracted");
    }
    FZ_CHECK(pc__bearer(NULL, cred) == 0, "absent header not 0");

    char *l = cstr(leid, llen);
    uint64_t seq = 0;
    if (pc__last_event_id(l, &seq)) {
        FZ_CHECK(seq <= 9007199254740992ull && l[0] >= '0' && l[0] <= '9',
                 "bad event id accepted");
    }

    pc_json_limits lim;
    pc_json_limits_resolve(NULL, &lim);
    lim.max_bytes = 1024 * 1024;
    cJSON *doc = NULL;
    pc_error je = {0};
    rc = pc_json_parse(body, blen, &lim, &doc, &je);
    if (rc == PC_OK) {
        FZ_CHECK(doc != NULL && pc_json_check(doc, &lim, NULL) == PC_OK,
                 "parsed body breaks the limits");
    } else {
        FZ_CHECK(doc == NULL && je.message[0] != '\0',
                 "failed body parse left a tree or no message");
    }
    cJSON_Delete(doc);
    free(path);
    free(query);
    free(q);
    free(auth);
    free(a);
    free(leid);
    free(l);
    free(body);
    return 0;
}
