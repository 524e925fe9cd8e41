/*
 * cmd_query.c - the commands that ask the history a question: log, show,
 * diff, find and blame (see docs/inspector.md for what each prints).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "phasecast/json.h"

#include "cmd.h"

/* Whether needle occurs in hay, ignoring ASCII case. */
static bool contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay != '\0'; hay++) {
        if (strncasecmp(hay, needle, n) == 0) {
            return true;
        }
    }
    return n == 0;
}

/* The filters of `log`. */
typedef struct log_filter {
    uint64_t from, to;
    const char *phase;
    const char *reason;
    const char *path; /* a JSON Pointer, or NULL */
    bool events;      /* events only */
} log_filter;

static bool keep(insp_ctx *cx, const log_filter *lf, const pc_timeline_entry *e)
{
    if (lf->phase != NULL && strcmp(e->phase, lf->phase) != 0 &&
        strcmp(e->prev, lf->phase) != 0) {
        return false;
    }
    if (lf->reason != NULL && !contains(e->reason, lf->reason)) {
        return false;
    }
    if (lf->events && e->kind != PC_CHANGE_EVENT) {
        return false;
    }
    return lf->path == NULL ||
           pc_timeline_touches(cx->src->tl, e->seq, lf->path);
}

int insp_cmd_log(insp_ctx *cx, int argc, char **argv)
{
    insp_opt opts[] = {{"--from", true, NULL},   {"--to", true, NULL},
                       {"--last", true, NULL},   {"--phase", true, NULL},
                       {"--reason", true, NULL}, {"--path", true, NULL},
                       {"--patch", false, NULL}, {"--events", false, NULL}};
    char *pos[1];
    if (insp_parse(cx, argc, argv, opts, 8, pos, 0) < 0) {
        return 2;
    }
    pc_timeline *tl = cx->src->tl;
    uint64_t first = pc_timeline_first_seq(tl);
    log_filter lf = {first + 1,     pc_timeline_last_seq(tl),
                     opts[3].value, opts[4].value,
                     NULL,          opts[7].value != NULL};
    uint64_t last_n = 0;
    char path[INSP_PATH_MAX];
    if ((opts[0].value != NULL && !insp_seq_arg(cx, opts[0].value, &lf.from)) ||
        (opts[1].value != NULL && !insp_seq_arg(cx, opts[1].value, &lf.to))) {
        return 1;
    }
    if (opts[2].value != NULL &&
        !insp_num(opts[2].value, UINT32_MAX, &last_n)) {
        insp_failf(cx->o, "bad_option", "--last takes a count");
        return 2;
    }
    if (opts[5].value != NULL) {
        if (!insp_path_arg(cx, opts[5].value, path, sizeof(path))) {
            return 1;
        }
        lf.path = path;
    }
    bool with_patch = opts[6].value != NULL;
    lf.from = lf.from < first + 1 ? first + 1 : lf.from;
    /* Pass 1: which changes, and the column widths. */
    uint64_t *seqs = NULL;
    size_t n = 0;
    size_t cap = 0;
    insp_widths w = {3, 5, 6, 5};
    for (uint64_t s = lf.from; s <= lf.to && s >= lf.from; s++) {
        pc_timeline_entry e;
        if (pc_timeline_get(tl, s, &e) != PC_OK || !keep(cx, &lf, &e)) {
            continue;
        }
        if (n == cap) {
            size_t nc = cap != 0 ? cap * 2 : 256;
            uint64_t *ns = realloc(seqs, nc * sizeof(*ns));
            if (ns == NULL) {
                free(seqs);
                return insp_failf(cx->o, "nomem", "out of memory");
            }
            seqs = ns;
            cap = nc;
        }
        seqs[n++] = s;
    }
    size_t start = last_n > 0 && last_n < n ? n - (size_t)last_n : 0;
    for (size_t i = start; i < n; i++) {
        pc_timeline_entry e;
        if (pc_timeline_get(tl, seqs[i], &e) == PC_OK) {
            insp_widths_fit(&w, &e);
        }
    }
    cJSON *doc = NULL;
    cJSON *arr = NULL;
    if (cx->o->json) {
        doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "room", pc_timeline_room(tl));
        cJSON_AddNumberToObject(doc, "first", (double)first);
        cJSON_AddNumberToObject(doc, "last", (double)pc_timeline_last_seq(tl));
        arr = cJSON_AddArrayToObject(doc, "changes");
    } else {
        fprintf(cx->o->f, "%s", insp_sty(cx->o, S_DIM));
        fprintf(cx->o->f, "%*s  %-12s  ", (int)w.seq, "SEQ", "TIME");
        insp_pad(cx->o->f, "PHASE", w.phase);
        fputs("  ", cx->o->f);
        insp_pad(cx->o->f, "SOURCE", w.source);
        fprintf(cx->o->f, "  %*s  REASON%s\n", (int)w.patch, "PATCH",
                insp_sty(cx->o, S_RESET));
    }
    for (size_t i = start; i < n; i++) {
        pc_timeline_entry e;
        if (pc_timeline_get(tl, seqs[i], &e) != PC_OK) {
            continue;
        }
        if (arr != NULL) {
            cJSON *j = insp_entry_json(&e, with_patch);
            if (j != NULL) {
                cJSON_AddItemToArray(arr, j);
            }
        } else {
            insp_row(cx->o, &e, &w);
            if (with_patch) {
                char *p = insp_compact(e.patch, 0);
                fprintf(cx->o->f, "%*s  %s\n", (int)w.seq, "", p);
                free(p);
            }
        }
    }
    if (doc != NULL) {
        insp_json_line(cx->o, doc);
        cJSON_Delete(doc);
    }
    free(seqs);
    return 0;
}

/* The header line of a state or change at seq. */
static void seq_header(insp_ctx *cx, uint64_t seq)
{
    const insp_out *o = cx->o;
    pc_timeline *tl = cx->src->tl;
    pc_timeline_entry e;
    if (seq > pc_timeline_first_seq(tl) &&
        pc_timeline_get(tl, seq, &e) == PC_OK) {
        char t[32];
        insp_iso_time(e.time_ms, t);
        fprintf(o->f, "room %s at seq %s%llu%s (%s, phase %s%s%s): %s\n",
                pc_timeline_room(tl), insp_sty(o, S_SEQ),
                (unsigned long long)seq, insp_sty(o, S_RESET), t,
                insp_sty(o, S_PHASE), e.phase, insp_sty(o, S_RESET), e.reason);
    } else {
        fprintf(o->f, "room %s at seq %s%llu%s (the oldest state held)\n",
                pc_timeline_room(tl), insp_sty(o, S_SEQ),
                (unsigned long long)seq, insp_sty(o, S_RESET));
    }
}

int insp_show_at(insp_ctx *cx, uint64_t seq, const char *path)
{
    cJSON *state = NULL;
    pc_err rv = pc_timeline_state_at(cx->src->tl, seq, &state);
    if (rv != PC_OK) {
        return insp_tl_fail(cx, rv, "cannot rebuild the state");
    }
    const cJSON *v = pc_json_pointer_get(state, path);
    if (v == NULL) {
        cJSON_Delete(state);
        return insp_failf(cx->o, "bad_path", "%s does not exist at seq %llu",
                          path, (unsigned long long)seq);
    }
    if (cx->o->json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "room", pc_timeline_room(cx->src->tl));
        cJSON_AddNumberToObject(doc, "seq", (double)seq);
        cJSON_AddStringToObject(doc, "path", path);
        cJSON *c = cJSON_Duplicate(v, true);
        if (c != NULL) {
            cJSON_AddItemToObject(doc, "value", c);
        }
        insp_json_line(cx->o, doc);
        cJSON_Delete(doc);
    } else {
        seq_header(cx, seq);
        if (path[0] != '\0') {
            fprintf(cx->o->f, "%s = ", path);
        }
        insp_pretty(cx->o, v);
    }
    cJSON_Delete(state);
    return 0;
}

int insp_cmd_show(insp_ctx *cx, int argc, char **argv)
{
    char *pos[2];
    int n = insp_parse(cx, argc, argv, NULL, 0, pos, 2);
    if (n < 0) {
        return 2;
    }
    if (n == 0 && !cx->session) {
        insp_failf(cx->o, "bad_option", "show needs a SEQ");
        return 2;
    }
    uint64_t seq = cx->cursor;
    char path[INSP_PATH_MAX] = "";
    /* In the session "show PATH" means at the cursor. */
    int k = 0;
    if (n > 0 && !(cx->session && n == 1 &&
                   (pos[0][0] == '/' || (pos[0][0] >= 'a' && pos[0][0] <= 'z' &&
                                         strcmp(pos[0], "first") != 0 &&
                                         strcmp(pos[0], "last") != 0 &&
                                         strcmp(pos[0], "cursor") != 0)))) {
        if (!insp_seq_arg(cx, pos[0], &seq)) {
            return 1;
        }
        k = 1;
    }
    if (k < n && !insp_path_arg(cx, pos[k], path, sizeof(path))) {
        return 1;
    }
    return insp_show_at(cx, seq, path);
}

int insp_cmd_diff(insp_ctx *cx, int argc, char **argv)
{
    char *pos[3];
    int n = insp_parse(cx, argc, argv, NULL, 0, pos, 3);
    if (n < 2) {
        if (n >= 0) {
            insp_failf(cx->o, "bad_option", "diff needs two seqs: diff A B");
        }
        return 2;
    }
    uint64_t a;
    uint64_t b;
    char path[INSP_PATH_MAX] = "";
    if (!insp_seq_arg(cx, pos[0], &a) || !insp_seq_arg(cx, pos[1], &b) ||
        (n == 3 && !insp_path_arg(cx, pos[2], path, sizeof(path)))) {
        return 1;
    }
    cJSON *d = NULL;
    pc_err rv = pc_timeline_diff(cx->src->tl, a, b, &d);
    if (rv != PC_OK) {
        return insp_tl_fail(cx, rv, "cannot diff");
    }
    if (cx->o->json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "room", pc_timeline_room(cx->src->tl));
        cJSON_AddNumberToObject(doc, "from", (double)a);
        cJSON_AddNumberToObject(doc, "to", (double)b);
        cJSON_AddStringToObject(doc, "path", path);
        cJSON *f = insp_diff_filter(d, path);
        if (f != NULL) {
            cJSON_AddItemToObject(doc, "changes", f);
        }
        insp_json_line(cx->o, doc);
        cJSON_Delete(doc);
    } else {
        const insp_out *o = cx->o;
        cJSON *f = insp_diff_filter(d, path);
        int count = f != NULL ? cJSON_GetArraySize(f) : 0;
        fprintf(o->f, "diff room %s seq %s%llu%s -> %s%llu%s%s%s: %d field%s\n",
                pc_timeline_room(cx->src->tl), insp_sty(o, S_SEQ),
                (unsigned long long)a, insp_sty(o, S_RESET), insp_sty(o, S_SEQ),
                (unsigned long long)b, insp_sty(o, S_RESET),
                path[0] != '\0' ? " under " : "", path, count,
                count == 1 ? "" : "s");
        cJSON_Delete(f);
        insp_diff_text(o, d, path);
    }
    cJSON_Delete(d);
    return 0;
}

/* old -> new of pointer around the change at seq, as compact texts. */
static void around(insp_ctx *cx, uint64_t seq, const char *path, char **was,
                   char **now)
{
    cJSON *before = NULL;
    cJSON *after = NULL;
    *was = NULL;
    *now = NULL;
    if (pc_timeline_state_at(cx->src->tl, seq - 1, &before) == PC_OK &&
        pc_timeline_state_at(cx->src->tl, seq, &after) == PC_OK) {
        const cJSON *a = pc_json_pointer_get(before, path);
        const cJSON *b = pc_json_pointer_get(after, path);
        *was = insp_compact(a, 120);
        *now = insp_compact(b, 120);
    }
    cJSON_Delete(before);
    cJSON_Delete(after);
}

/* One line (or JSON object) for a change that find or blame answered. */
static cJSON *hit(insp_ctx *cx, uint64_t seq, const char *path,
                  const insp_widths *w)
{
    pc_timeline_entry e;
    if (pc_timeline_get(cx->src->tl, seq, &e) != PC_OK) {
        return NULL;
    }
    char *was;
    char *now;
    cJSON *j = cx->o->json ? insp_entry_json(&e, false) : NULL;
    around(cx, seq, path, &was, &now);
    if (j != NULL) {
        cJSON *before = NULL;
        cJSON *after = NULL;
        if (pc_timeline_state_at(cx->src->tl, seq - 1, &before) == PC_OK) {
            const cJSON *v = pc_json_pointer_get(before, path);
            if (v != NULL) {
                cJSON_AddItemToObject(j, "old", cJSON_Duplicate(v, true));
            }
        }
        if (pc_timeline_state_at(cx->src->tl, seq, &after) == PC_OK) {
            const cJSON *v = pc_json_pointer_get(after, path);
            if (v != NULL) {
                cJSON_AddItemToObject(j, "new", cJSON_Duplicate(v, true));
            }
        }
        cJSON_Delete(before);
        cJSON_Delete(after);
    } else if (!cx->o->json) {
        insp_row(cx->o, &e, w);
        fprintf(cx->o->f, "%*s  %s: %s -> %s\n", (int)w->seq, "", path,
                was != NULL ? was : "?", now != NULL ? now : "?");
    }
    free(was);
    free(now);
    return j;
}

/* Collect seqs by calling next(at) until it finds none; then print them. */
typedef pc_err (*step_fn)(insp_ctx *cx, const void *arg, uint64_t at,
                          uint64_t *seq);

static int report(insp_ctx *cx, const char *what, const char *path,
                  const cJSON *value, step_fn next, const void *arg, bool all)
{
    uint64_t seqs[64];
    uint64_t *list = seqs;
    size_t n = 0;
    size_t cap = 64;
    uint64_t at = pc_timeline_last_seq(cx->src->tl);
    pc_err rv = PC_OK;
    while (at > pc_timeline_first_seq(cx->src->tl)) {
        uint64_t s;
        rv = next(cx, arg, at, &s);
        if (rv != PC_OK) {
            break;
        }
        if (n == cap) {
            uint64_t *nl = malloc(cap * 2 * sizeof(*nl));
            if (nl == NULL) {
                rv = PC_ERR_NOMEM;
                break;
            }
            memcpy(nl, list, n * sizeof(*nl));
            if (list != seqs) {
                free(list);
            }
            list = nl;
            cap *= 2;
        }
        list[n++] = s;
        if (!all) {
            break;
        }
        at = s - 1;
    }
    int status = 0;
    if (rv != PC_OK && rv != PC_ERR_NOT_FOUND) {
        status = insp_tl_fail(cx, rv, what);
    } else if (n == 0) {
        char *v = value != NULL ? insp_compact(value, 120) : NULL;
        status = insp_failf(
            cx->o, "not_found", "no change in seqs %llu..%llu %s %s%s%s",
            (unsigned long long)pc_timeline_first_seq(cx->src->tl) + 1,
            (unsigned long long)pc_timeline_last_seq(cx->src->tl),
            value != NULL ? "set" : "changed", path,
            value != NULL ? " to " : "", v != NULL ? v : "");
        free(v);
    } else {
        insp_widths w = {1, 1, 1, 1};
        for (size_t i = 0; i < n; i++) {
            pc_timeline_entry e;
            if (pc_timeline_get(cx->src->tl, list[i], &e) == PC_OK) {
                insp_widths_fit(&w, &e);
            }
        }
        cJSON *doc = cx->o->json ? cJSON_CreateObject() : NULL;
        cJSON *arr = NULL;
        if (doc != NULL) {
            cJSON_AddStringToObject(doc, "room", pc_timeline_room(cx->src->tl));
            cJSON_AddStringToObject(doc, "path", path);
            if (value != NULL) {
                cJSON_AddItemToObject(doc, "value",
                                      cJSON_Duplicate(value, true));
            }
            arr = cJSON_AddArrayToObject(doc, "changes");
        }
        for (size_t i = 0; i < n; i++) {
            cJSON *j = hit(cx, list[i], path, &w);
            if (arr != NULL && j != NULL) {
                cJSON_AddItemToArray(arr, j);
            } else {
                cJSON_Delete(j);
            }
        }
        if (doc != NULL) {
            insp_json_line(cx->o, doc);
            cJSON_Delete(doc);
        }
    }
    if (list != seqs) {
        free(list);
    }
    return status;
}

typedef struct find_arg {
    const char *path;
    const cJSON *value;
} find_arg;

static pc_err find_next(insp_ctx *cx, const void *arg, uint64_t at,
                        uint64_t *seq)
{
    const find_arg *fa = arg;
    return pc_timeline_find(cx->src->tl, fa->path, fa->value, at, seq);
}

static pc_err blame_next(insp_ctx *cx, const void *arg, uint64_t at,
                         uint64_t *seq)
{
    return pc_timeline_blame(cx->src->tl, arg, at, seq);
}

/* find --event NAME: the most recent event of that name (all of them,
 * newest first, with --all), as log rows or --json entries. */
static int find_events(insp_ctx *cx, const char *name, bool all)
{
    pc_timeline *tl = cx->src->tl;
    uint64_t first = pc_timeline_first_seq(tl);
    uint64_t *seqs = NULL;
    size_t n = 0, cap = 0;
    insp_widths w = {1, 1, 1, 1};
    for (uint64_t s = pc_timeline_last_seq(tl); s > first; s--) {
        pc_timeline_entry e;
        if (pc_timeline_get(tl, s, &e) != PC_OK || e.kind != PC_CHANGE_EVENT ||
            strcmp(e.event.name, name) != 0) {
            continue;
        }
        if (n == cap) {
            size_t nc = cap != 0 ? cap * 2 : 64;
            uint64_t *ns = realloc(seqs, nc * sizeof(*ns));
            if (ns == NULL) {
                free(seqs);
                return insp_failf(cx->o, "nomem", "out of memory");
            }
            seqs = ns;
            cap = nc;
        }
        seqs[n++] = s;
        insp_widths_fit(&w, &e);
        if (!all) {
            break;
        }
    }
    if (n == 0) {
        free(seqs);
        return insp_failf(cx->o, "not_found", "no event %s in seqs %llu..%llu",
                          name, (unsigned long long)first + 1,
                          (unsigned long long)pc_timeline_last_seq(tl));
    }
    cJSON *doc = cx->o->json ? cJSON_CreateObject() : NULL;
    cJSON *arr = NULL;
    if (doc != NULL) {
        cJSON_AddStringToObject(doc, "room", pc_timeline_room(tl));
        cJSON_AddStringToObject(doc, "event", name);
        arr = cJSON_AddArrayToObject(doc, "changes");
    }
    for (size_t i = 0; i < n; i++) {
        pc_timeline_entry e;
        if (pc_timeline_get(tl, seqs[i], &e) != PC_OK) {
            continue;
        }
        if (arr != NULL) {
            cJSON *j = insp_entry_json(&e, false);
            if (j != NULL) {
                cJSON_AddItemToArray(arr, j);
            }
        } else if (!cx->o->json) {
            insp_row(cx->o, &e, &w);
        }
    }
    if (doc != NULL) {
        insp_json_line(cx->o, doc);
        cJSON_Delete(doc);
    }
    free(seqs);
    return 0;
}

int insp_cmd_findv(insp_ctx *cx, int argc, char **argv)
{
    insp_opt opts[] = {{"--all", false, NULL},
                       {"--gone", false, NULL},
                       {"--event", true, NULL}};
    char *pos[2];
    int n = insp_parse(cx, argc, argv, opts, 3, pos, 2);
    bool gone = opts[1].value != NULL;
    if (n == 0 && opts[2].value != NULL && !gone) {
        return find_events(cx, opts[2].value, opts[0].value != NULL);
    }
    if (n < 0 || n != (gone ? 1 : 2) || opts[2].value != NULL) {
        if (n >= 0) {
            insp_failf(cx->o, "bad_option",
                       "usage: find PATH VALUE [--all] | find PATH --gone | "
                       "find --event NAME [--all]");
        }
        return 2;
    }
    char path[INSP_PATH_MAX];
    if (!insp_path_arg(cx, pos[0], path, sizeof(path))) {
        return 1;
    }
    cJSON *value = gone ? NULL : insp_value_arg(pos[1]);
    if (!gone && value == NULL) {
        return insp_failf(cx->o, "nomem", "out of memory");
    }
    find_arg fa = {path, value};
    int st = report(cx, "cannot search", path, value, find_next, &fa,
                    opts[0].value != NULL);
    cJSON_Delete(value);
    return st;
}

int insp_cmd_blame(insp_ctx *cx, int argc, char **argv)
{
    insp_opt opts[] = {{"--history", false, NULL}};
    char *pos[1];
    int n = insp_parse(cx, argc, argv, opts, 1, pos, 1);
    if (n != 1) {
        if (n >= 0) {
            insp_failf(cx->o, "bad_option", "usage: blame PATH [--history]");
        }
        return 2;
    }
    char path[INSP_PATH_MAX];
    if (!insp_path_arg(cx, pos[0], path, sizeof(path))) {
        return 1;
    }
    if (!cx->o->json) {
        cJSON *now = NULL;
        if (pc_timeline_state_at(cx->src->tl, pc_timeline_last_seq(cx->src->tl),
                                 &now) == PC_OK) {
            char *v = insp_compact(pc_json_pointer_get(now, path), 200);
            fprintf(cx->o->f, "%s = %s at seq %llu\n", path, v,
                    (unsigned long long)pc_timeline_last_seq(cx->src->tl));
            free(v);
        }
        cJSON_Delete(now);
    }
    return report(cx, "cannot blame", path, NULL, blame_next, path,
                  opts[0].value != NULL);
}
