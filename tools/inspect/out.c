/*
 * out.c - phasecast-inspect's printing helpers (see out.h).
 */
#include "out.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phasecast/json.h"

const char *insp_sty(const insp_out *o, insp_style s)
{
    if (!o->color) {
        return "";
    }
    switch (s) {
    case S_RESET:
        return "\033[0m";
    case S_SEQ:
        return "\033[1m";
    case S_PHASE:
        return "\033[36m";
    case S_DIM:
        return "\033[2m";
    case S_ADDED:
        return "\033[32m";
    case S_REMOVED:
        return "\033[31m";
    case S_CHANGED:
        return "\033[33m";
    case S_KEY:
        return "\033[34m";
    case S_BAD:
        return "\033[1;31m";
    }
    return "";
}

static void utc(int64_t ms, struct tm *tm, int *milli)
{
    int64_t s = ms / 1000;
    int64_t r = ms % 1000;
    if (r < 0) {
        r += 1000;
        s--;
    }
    time_t t = (time_t)s;
    if (gmtime_r(&t, tm) == NULL) {
        memset(tm, 0, sizeof(*tm));
    }
    *milli = (int)r;
}

void insp_clock(int64_t ms, char buf[16])
{
    struct tm tm;
    int milli;
    utc(ms, &tm, &milli);
    snprintf(buf, 16, "%02d:%02d:%02d.%03d", tm.tm_hour % 100, tm.tm_min % 100,
             tm.tm_sec % 100, milli);
}

void insp_iso_time(int64_t ms, char buf[32])
{
    struct tm tm;
    int milli;
    utc(ms, &tm, &milli);
    snprintf(buf, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100,
             tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
             tm.tm_sec % 100, milli);
}

char *insp_compact(const cJSON *v, size_t max)
{
    char *s = v != NULL ? cJSON_PrintUnformatted(v) : NULL;
    char *out;
    if (s == NULL) {
        out = strdup(v == NULL ? "(none)" : "?");
        return out != NULL ? out : NULL;
    }
    size_t n = strlen(s);
    if (max > 3 && n > max) {
        out = malloc(max + 1);
        if (out != NULL) {
            size_t keep = max - 3;
            /* Do not cut a UTF-8 sequence in two. */
            while (keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80) {
                keep--;
            }
            memcpy(out, s, keep);
            memcpy(out + keep, "...", 4);
        }
    } else {
        out = strdup(s);
    }
    cJSON_free(s);
    return out;
}

static int key_cmp(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a;
    const cJSON *y = *(const cJSON *const *)b;
    return strcmp(x->string, y->string);
}

static void indent(FILE *f, int depth)
{
    for (int i = 0; i < depth; i++) {
        fputs("  ", f);
    }
}

static void scalar(const insp_out *o, const cJSON *v)
{
    char *s = insp_compact(v, 0);
    fputs(s != NULL ? s : "?", o->f);
    free(s);
}

/* Recursion is bounded by the depth limit every state was checked
 * against (PC_JSON_DEPTH_CEILING). */
static void pretty(const insp_out *o, const cJSON *v, int depth)
{
    FILE *f = o->f;
    if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        int n = cJSON_GetArraySize(v);
        bool obj = cJSON_IsObject(v);
        if (n == 0) {
            fputs(obj ? "{}" : "[]", f);
            return;
        }
        const cJSON **items = malloc(sizeof(*items) * (size_t)n);
        if (items == NULL) {
            scalar(o, v);
            return;
        }
        int i = 0;
        for (const cJSON *c = v->child; c != NULL && i < n; c = c->next) {
            items[i++] = c;
        }
        if (obj) {
            qsort(items, (size_t)i, sizeof(*items), key_cmp);
        }
        fputs(obj ? "{\n" : "[\n", f);
        for (int k = 0; k < i; k++) {
            indent(f, depth + 1);
            if (obj) {
                cJSON *key = cJSON_CreateString(items[k]->string);
                char *ks = insp_compact(key, 0);
                fprintf(f, "%s%s%s: ", insp_sty(o, S_KEY), ks ? ks : "?",
                        insp_sty(o, S_RESET));
                free(ks);
                cJSON_Delete(key);
            }
            pretty(o, items[k], depth + 1);
            fputs(k + 1 < i ? ",\n" : "\n", f);
        }
        indent(f, depth);
        fputs(obj ? "}" : "]", f);
        free(items);
        return;
    }
    scalar(o, v);
}

void insp_pretty(const insp_out *o, const cJSON *v)
{
    pretty(o, v, 0);
    fputc('\n', o->f);
}

void insp_json_line(const insp_out *o, const cJSON *doc)
{
    char *s = cJSON_PrintUnformatted(doc);
    if (s == NULL) {
        fputs(
            "{\"error\":{\"code\":\"nomem\",\"message\":\"out of memory\"}}\n",
            o->f);
        return;
    }
    fputs(s, o->f);
    fputc('\n', o->f);
    cJSON_free(s);
}

static int fail_text(const insp_out *o, const char *code, const char *msg)
{
    if (o->json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON *e = cJSON_AddObjectToObject(doc, "error");
        cJSON_AddStringToObject(e, "code", code);
        cJSON_AddStringToObject(e, "message", msg);
        char *s = cJSON_PrintUnformatted(doc);
        fprintf(o->err, "%s\n", s != NULL ? s : "{\"error\":{}}");
        cJSON_free(s);
        cJSON_Delete(doc);
    } else {
        fprintf(o->err, "phasecast-inspect: %s: %s\n", code, msg);
    }
    fflush(o->err);
    return 1;
}

int insp_fail(const insp_out *o, const pc_error *e)
{
    const char *code = e->code[0] != '\0' ? e->code : pc_err_name(e->err);
    return fail_text(o, code, e->message[0] != '\0' ? e->message : code);
}

int insp_failf(const insp_out *o, const char *code, const char *fmt, ...)
{
    char msg[PC_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return fail_text(o, code, msg);
}

void insp_hex64(uint64_t v, char buf[17])
{
    snprintf(buf, 17, "%016llx", (unsigned long long)v);
}

size_t insp_width(const char *s)
{
    size_t w = 0;
    for (; *s != '\0'; s++) {
        if (((unsigned char)*s & 0xC0) != 0x80) {
            w++;
        }
    }
    return w;
}

void insp_pad(FILE *f, const char *s, size_t w)
{
    fputs(s, f);
    for (size_t n = insp_width(s); n < w; n++) {
        fputc(' ', f);
    }
}

const char *insp_kind_name(pc_change_kind k)
{
    return k == PC_CHANGE_TRANSITION ? "transition"
           : k == PC_CHANGE_EVENT    ? "event"
                                     : "update";
}

static const char *audience_name(pc_audience a)
{
    return a == PC_AUDIENCE_PLAYER ? "player"
           : a == PC_AUDIENCE_GM   ? "gm"
                                   : "public";
}

cJSON *insp_event_json(const pc_event *ev)
{
    cJSON *o = cJSON_CreateObject();
    bool ok =
        o != NULL && cJSON_AddStringToObject(o, "name", ev->name) &&
        cJSON_AddStringToObject(o, "audience", audience_name(ev->audience)) &&
        (ev->audience != PC_AUDIENCE_PLAYER ||
         cJSON_AddStringToObject(o, "player", ev->player));
    cJSON *d = ok ? cJSON_Duplicate(ev->data, true) : NULL;
    if (d == NULL || !cJSON_AddItemToObject(o, "data", d)) {
        cJSON_Delete(d);
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

bool insp_event_equal(const pc_event *a, const pc_event *b)
{
    if (a->name == NULL || b->name == NULL) {
        return a->name == b->name;
    }
    return strcmp(a->name, b->name) == 0 && a->audience == b->audience &&
           (a->player == NULL
                ? b->player == NULL
                : b->player != NULL && strcmp(a->player, b->player) == 0) &&
           pc_json_equal(a->data, b->data);
}
