/*
 * cmd_util.c - what phasecast-inspect's commands share: operands (seqs,
 * paths, values), options, and the change row and diff printers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "phasecast/canon.h"
#include "phasecast/json.h"

#include "cmd.h"

bool insp_num(const char *s, uint64_t max, uint64_t *out)
{
    if (s == NULL || *s < '0' || *s > '9') {
        return false;
    }
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max) {
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

bool insp_seq_arg(insp_ctx *cx, const char *s, uint64_t *out)
{
    uint64_t first = pc_timeline_first_seq(cx->src->tl);
    uint64_t last = pc_timeline_last_seq(cx->src->tl);
    uint64_t v;
    if (strcmp(s, "first") == 0) {
        v = first;
    } else if (strcmp(s, "last") == 0) {
        v = last;
    } else if (strcmp(s, ".") == 0 || strcmp(s, "cursor") == 0) {
        v = cx->cursor;
    } else if (!insp_num(s, UINT64_MAX, &v)) {
        insp_failf(cx->o, "bad_seq",
                   "'%s' is not a seq (digits, first, last or .)", s);
        return false;
    }
    if (v < first || v > last) {
        insp_failf(cx->o, "bad_seq",
                   "seq %llu is not in this history: it holds seqs %llu..%llu",
                   (unsigned long long)v, (unsigned long long)first,
                   (unsigned long long)last);
        return false;
    }
    *out = v;
    return true;
}

static bool pointer_ok(const char *p)
{
    if (*p != '\0' && *p != '/') {
        return false;
    }
    for (; *p != '\0'; p++) {
        if (*p == '~' && p[1] != '0' && p[1] != '1') {
            return false;
        }
    }
    return true;
}

bool insp_path_arg(insp_ctx *cx, const char *s, char *out, size_t cap)
{
    if (strcmp(s, "/") == 0 || s[0] == '\0') {
        out[0] = '\0';
        return true;
    }
    if (s[0] == '/') {
        if (strlen(s) >= cap || !pointer_ok(s)) {
            insp_failf(cx->o, "bad_path",
                       "'%s' is not a JSON Pointer (\"~\" must be followed "
                       "by 0 or 1)",
                       s);
            return false;
        }
        memcpy(out, s, strlen(s) + 1);
        return true;
    }
    /* A dotted path under "/data": "scores.p2" is /data/scores/p2. */
    snprintf(out, cap, "/data");
    char tok[INSP_PATH_MAX];
    const char *p = s;
    while (true) {
        const char *dot = strchr(p, '.');
        size_t n = dot != NULL ? (size_t)(dot - p) : strlen(p);
        if (n == 0 || n >= sizeof(tok)) {
            insp_failf(cx->o, "bad_path",
                       "'%s' is not a path: use a JSON Pointer (/data/a/b) "
                       "or dotted names under data (a.b)",
                       s);
            return false;
        }
        memcpy(tok, p, n);
        tok[n] = '\0';
        if (!pc_json_pointer_append(out, cap, tok)) {
            insp_failf(cx->o, "bad_path", "path too long");
            return false;
        }
        if (dot == NULL) {
            break;
        }
        p = dot + 1;
    }
    return true;
}

cJSON *insp_value_arg(const char *s)
{
    cJSON *v = NULL;
    if (pc_json_parse(s, strlen(s), NULL, &v, NULL) == PC_OK) {
        return v;
    }
    return cJSON_CreateString(s);
}

cJSON *insp_entry_json(const pc_timeline_entry *e, bool with_patch)
{
    cJSON *o = cJSON_CreateObject();
    char hex[17];
    insp_hex64(e->sum, hex);
    bool ok = o != NULL && cJSON_AddNumberToObject(o, "seq", (double)e->seq) &&
              cJSON_AddNumberToObject(o, "time", (double)e->time_ms) &&
              cJSON_AddStringToObject(o, "kind", insp_kind_name(e->kind)) &&
              cJSON_AddStringToObject(o, "phase", e->phase) &&
              cJSON_AddStringToObject(o, "prev", e->prev) &&
              cJSON_AddStringToObject(o, "reason", e->reason) &&
              cJSON_AddStringToObject(o, "file", e->file) &&
              cJSON_AddNumberToObject(o, "line", e->line) &&
              cJSON_AddStringToObject(o, "func", e->func) &&
              cJSON_AddStringToObject(o, "sum", hex) &&
              cJSON_AddNumberToObject(o, "patch_bytes", (double)e->patch_bytes);
    if (ok && with_patch) {
        cJSON *p = cJSON_Duplicate(e->patch, true);
        ok = p != NULL && cJSON_AddItemToObject(o, "patch", p);
    }
    if (ok && e->kind == PC_CHANGE_EVENT) {
        cJSON *ev = insp_event_json(&e->event);
        ok = ev != NULL && cJSON_AddItemToObject(o, "event", ev);
    }
    if (ok && e->cause != NULL) {
        cJSON *c = cJSON_Duplicate(e->cause, true);
        ok = c != NULL && cJSON_AddItemToObject(o, "cause", c);
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

void insp_source_loc(const pc_timeline_entry *e, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s:%d", e->file, e->line);
}

void insp_phase_col(const pc_timeline_entry *e, char *buf, size_t cap)
{
    if (e->kind == PC_CHANGE_TRANSITION) {
        snprintf(buf, cap, "%s->%s", e->prev, e->phase);
    } else {
        snprintf(buf, cap, "%s", e->phase);
    }
}

/* The PATCH column: the patch's size, or "event" for an event. */
static void patch_size(const pc_timeline_entry *e, char *buf, size_t cap)
{
    if (e->kind == PC_CHANGE_EVENT) {
        snprintf(buf, cap, "event");
    } else {
        snprintf(buf, cap, "%zu B", e->patch_bytes);
    }
}

void insp_widths_fit(insp_widths *w, const pc_timeline_entry *e)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)e->seq);
    w->seq = strlen(buf) > w->seq ? strlen(buf) : w->seq;
    insp_phase_col(e, buf, sizeof(buf));
    w->phase = insp_width(buf) > w->phase ? insp_width(buf) : w->phase;
    insp_source_loc(e, buf, sizeof(buf));
    w->source = insp_width(buf) > w->source ? insp_width(buf) : w->source;
    patch_size(e, buf, sizeof(buf));
    w->patch = strlen(buf) > w->patch ? strlen(buf) : w->patch;
}

void insp_row(const insp_out *o, const pc_timeline_entry *e,
              const insp_widths *w)
{
    FILE *f = o->f;
    char buf[512];
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)e->seq);
    fprintf(f, "%s%*s%s  ", insp_sty(o, S_SEQ), (int)w->seq, buf,
            insp_sty(o, S_RESET));
    char clock[16];
    insp_clock(e->time_ms, clock);
    fprintf(f, "%s%s%s  ", insp_sty(o, S_DIM), clock, insp_sty(o, S_RESET));
    insp_phase_col(e, buf, sizeof(buf));
    fputs(insp_sty(o, S_PHASE), f);
    insp_pad(f, buf, w->phase);
    fprintf(f, "%s  ", insp_sty(o, S_RESET));
    insp_source_loc(e, buf, sizeof(buf));
    fputs(insp_sty(o, S_DIM), f);
    insp_pad(f, buf, w->source);
    fprintf(f, "%s  ", insp_sty(o, S_RESET));
    patch_size(e, buf, sizeof(buf));
    if (e->kind != PC_CHANGE_EVENT) {
        fprintf(f, "%*s  %s\n", (int)w->patch, buf, e->reason);
        return;
    }
    /* An event: its name, audience and data before the reason. */
    char *data = insp_compact(e->event.data, 80);
    char to[PC_EVENT_NAME_MAX + 16] = "";
    if (e->event.audience == PC_AUDIENCE_PLAYER) {
        snprintf(to, sizeof(to), " (to %s)", e->event.player);
    } else if (e->event.audience == PC_AUDIENCE_GM) {
        snprintf(to, sizeof(to), " (to gm)");
    }
    fprintf(f, "%*s  %sEVENT %s%s%s %s: %s\n", (int)w->patch, buf,
            insp_sty(o, S_PHASE), e->event.name, to, insp_sty(o, S_RESET),
            data != NULL ? data : "?", e->reason);
    free(data);
}

int insp_tl_fail(insp_ctx *cx, pc_err rv, const char *what)
{
    if (rv == PC_ERR_NOMEM) {
        return insp_failf(cx->o, "nomem", "out of memory %s", what);
    }
    return insp_failf(cx->o, pc_err_name(rv), "%s: %s", what, pc_strerror(rv));
}

/* Whether pointer path is prefix itself or lies inside it. */
static bool under(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

size_t insp_diff_text(const insp_out *o, const cJSON *d, const char *prefix)
{
    size_t w = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, d)
    {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(it, "path");
        if (cJSON_IsString(p) && under(p->valuestring, prefix) &&
            insp_width(p->valuestring) > w) {
            w = insp_width(p->valuestring);
        }
    }
    size_t count = 0;
    cJSON_ArrayForEach(it, d)
    {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(it, "path");
        if (!cJSON_IsString(p) || !under(p->valuestring, prefix)) {
            continue;
        }
        const cJSON *was = cJSON_GetObjectItemCaseSensitive(it, "old");
        const cJSON *now = cJSON_GetObjectItemCaseSensitive(it, "new");
        char *a = insp_compact(was, 200);
        char *b = insp_compact(now, 200);
        const char *mark = was == NULL ? "+" : now == NULL ? "-" : "~";
        insp_style st = was == NULL   ? S_ADDED
                        : now == NULL ? S_REMOVED
                                      : S_CHANGED;
        fprintf(o->f, "  %s%s ", insp_sty(o, st), mark);
        insp_pad(o->f, p->valuestring, w);
        fputs(insp_sty(o, S_RESET), o->f);
        if (was == NULL) {
            fprintf(o->f, "  (added) %s\n", b);
        } else if (now == NULL) {
            fprintf(o->f, "  %s (removed)\n", a);
        } else {
            fprintf(o->f, "  %s -> %s\n", a, b);
        }
        free(a);
        free(b);
        count++;
    }
    return count;
}

cJSON *insp_diff_filter(const cJSON *d, const char *prefix)
{
    cJSON *out = cJSON_CreateArray();
    const cJSON *it;
    cJSON_ArrayForEach(it, d)
    {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(it, "path");
        if (out == NULL || !cJSON_IsString(p) ||
            !under(p->valuestring, prefix)) {
            continue;
        }
        cJSON *c = cJSON_Duplicate(it, true);
        if (c == NULL || !cJSON_AddItemToArray(out, c)) {
            cJSON_Delete(c);
            cJSON_Delete(out);
            return NULL;
        }
    }
    return out;
}

int insp_parse(insp_ctx *cx, int argc, char **argv, insp_opt *opts,
               size_t nopts, char **pos, int npos_max)
{
    int npos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == '-' && a[1] == '-' && a[2] != '\0') {
            size_t k = 0;
            while (k < nopts && strcmp(opts[k].name, a) != 0) {
                k++;
            }
            if (k == nopts) {
                insp_failf(cx->o, "bad_option", "unknown option %s", a);
                return -1;
            }
            if (opts[k].has_value) {
                if (i + 1 >= argc) {
                    insp_failf(cx->o, "bad_option", "%s needs a value", a);
                    return -1;
                }
                opts[k].value = argv[++i];
            } else {
                opts[k].value = "1";
            }
            continue;
        }
        if (npos >= npos_max) {
            insp_failf(cx->o, "bad_option", "unexpected operand '%s'", a);
            return -1;
        }
        pos[npos++] = argv[i];
    }
    return npos;
}
