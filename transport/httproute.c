/*
 * httproute.c - route and header parsing for the HTTP bridge (see
 * httproute.h). Everything is bounded by the input length and checked
 * byte by byte; nothing is decoded in place.
 */
#include "httproute.h"

#include <string.h>

/* Largest integer a query or Last-Event-ID may carry: 2^53. */
#define UINT_LIMIT 9007199254740992ull

static bool id_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* Does [s, s+n) equal the NUL-terminated lit? */
static bool eq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

static bool valid_asset(const char *s, size_t n)
{
    static const char *const exts[] = {".html", ".js", ".css", ".svg", ".png"};
    const char *dot = memchr(s, '.', n);
    if (dot == NULL || dot == s || (size_t)(dot - s) > 48) {
        return false;
    }
    for (const char *p = s; p < dot; p++) {
        if (!id_char(*p) || *p == '.') {
            return false;
        }
    }
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        if (eq(dot, n - (size_t)(dot - s), exts[i])) {
            return true;
        }
    }
    return false;
}

static pc_err not_found(pc_error *e)
{
    return pc_error_set(e, PC_ERR_NOT_FOUND, "not_found",
                        "no such resource; see docs/web.md for the routes");
}

pc_err pc__route_parse(const char *path, size_t len, pc__route *out,
                       pc_error *e)
{
    memset(out, 0, sizeof *out);
    if (len == 0 || len > PC__ROUTE_PATH_MAX || path[0] != '/') {
        return not_found(e);
    }
    if (len == 1) {
        out->kind = PC__ROUTE_ROOT;
        return PC_OK;
    }
    if (eq(path, len, "/rooms")) {
        out->kind = PC__ROUTE_ROOMS;
        return PC_OK;
    }
    if (eq(path, len, "/metrics")) {
        out->kind = PC__ROUTE_METRICS;
        return PC_OK;
    }
    if (len >= 4 && memcmp(path, "/ui/", 4) == 0) {
        const char *a = path + 4;
        size_t n = len - 4;
        if (n != 0 && !valid_asset(a, n)) {
            return not_found(e);
        }
        out->kind = PC__ROUTE_UI;
        memcpy(out->asset, a, n);
        return PC_OK;
    }
    if (len <= 7 || memcmp(path, "/rooms/", 7) != 0) {
        return not_found(e);
    }
    const char *id = path + 7, *end = path + len;
    const char *slash = memchr(id, '/', (size_t)(end - id));
    const char *idend = slash != NULL ? slash : end;
    size_t idlen = (size_t)(idend - id);
    if (idlen == 0 || idlen > PC_ROOM_ID_MAX) {
        return not_found(e);
    }
    for (const char *p = id; p < idend; p++) {
        if (!id_char(*p)) {
            return not_found(e);
        }
    }
    static const struct {
        const char *tail;
        pc__route_kind kind;
    } tails[] = {{"/changes", PC__ROUTE_CHANGES},
                 {"/history", PC__ROUTE_HISTORY},
                 {"/events", PC__ROUTE_EVENTS},
                 {"/actions", PC__ROUTE_ACTIONS},
                 {"/join", PC__ROUTE_JOIN}};
    if (slash == NULL) {
        out->kind = PC__ROUTE_ROOM;
    } else {
        size_t i = 0, n = sizeof tails / sizeof tails[0];
        while (i < n && !eq(slash, (size_t)(end - slash), tails[i].tail)) {
            i++;
        }
        if (i == n) {
            return not_found(e);
        }
        out->kind = tails[i].kind;
    }
    memcpy(out->room, id, idlen);
    return PC_OK;
}

const char *pc__route_method(pc__route_kind kind)
{
    return kind == PC__ROUTE_ACTIONS || kind == PC__ROUTE_JOIN ? "POST" : "GET";
}

/* A decimal integer of n bytes, at most UINT_LIMIT. */
static bool parse_uint(const char *s, size_t n, uint64_t *out)
{
    if (n == 0 || n > 16) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > UINT_LIMIT) {
        return false;
    }
    *out = v;
    return true;
}

pc_err pc__query_uint(const char *query, const char *key, bool *present,
                      uint64_t *out, pc_error *e)
{
    *present = false;
    size_t klen = strlen(key);
    for (const char *p = query; p != NULL && *p != '\0';) {
        const char *amp = strchr(p, '&');
        size_t n = amp != NULL ? (size_t)(amp - p) : strlen(p);
        const char *eqs = memchr(p, '=', n);
        size_t name = eqs != NULL ? (size_t)(eqs - p) : n;
        if (name == klen && memcmp(p, key, klen) == 0) {
            const char *v = eqs != NULL ? eqs + 1 : p + n;
            size_t vlen = (size_t)(p + n - v);
            if (*present) {
                return pc_error_set(e, PC_ERR_INVALID, "bad_request",
                                    "\"%s\" is given twice", key);
            }
            if (!parse_uint(v, vlen, out)) {
                return pc_error_set(e, PC_ERR_INVALID, "bad_request",
                                    "\"%s\" must be an integer from 0 to 2^53",
                                    key);
            }
            *present = true;
        }
        p = amp != NULL ? amp + 1 : NULL;
    }
    return PC_OK;
}

int pc__bearer(const char *header, char out[PC__BEARER_MAX + 1])
{
    if (header == NULL) {
        return 0;
    }
    static const char scheme[] = "bearer";
    for (size_t i = 0; i < 6; i++) {
        char c = header[i];
        if (c >= 'A' && c <= 'Z') {
            c = (char)(c - 'A' + 'a');
        }
        if (c != scheme[i]) {
            return -1;
        }
    }
    const char *p = header + 6;
    if (*p != ' ') {
        return -1;
    }
    while (*p == ' ') {
        p++;
    }
    size_t n = 0;
    while (p[n] > 0x20 && p[n] < 0x7f && n <= PC__BEARER_MAX) {
        n++;
    }
    if (n == 0 || n > PC__BEARER_MAX) {
        return -1;
    }
    const char *rest = p + n;
    while (*rest == ' ') {
        rest++;
    }
    if (*rest != '\0') {
        return -1;
    }
    memcpy(out, p, n);
    out[n] = '\0';
    return 1;
}

bool pc__last_event_id(const char *header, uint64_t *seq)
{
    return header != NULL && parse_uint(header, strlen(header), seq);
}
