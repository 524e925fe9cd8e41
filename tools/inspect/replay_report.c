/*
 * replay_report.c - print what an import found (see replay_report.h).
 */
#include "replay_report.h"

#include <stdlib.h>
#include <string.h>

/* The string member k of o, or "?" (a report built short of memory may
 * lack members). */
static const char *str_of(const cJSON *o, const char *k)
{
    const char *v =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
    return v != NULL ? v : "?";
}

/* A field's value as the text report shows it: compact JSON, or "(none)"
 * for the side that has no such change. Caller frees with free(). */
static char *value_text(const cJSON *v)
{
    return insp_compact(cJSON_IsNull(v) ? NULL : v, 2000);
}

/* What the stimulus was, in words. */
static void describe(const cJSON *cause, char *buf, size_t cap)
{
    const char *kind = str_of(cause, "kind");
    const cJSON *first = cJSON_GetObjectItemCaseSensitive(cause, "first");
    unsigned long long at =
        cJSON_IsNumber(first) ? (unsigned long long)first->valuedouble : 0;
    if (strcmp(kind, "action") == 0) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(cause, "payload");
        char *text =
            p != NULL && !cJSON_IsNull(p) ? insp_compact(p, 120) : NULL;
        snprintf(buf, cap, "%s's action \"%s\"%s%s, at seq %llu",
                 str_of(cause, "player"), str_of(cause, "type"),
                 text != NULL ? " " : "", text != NULL ? text : "", at);
        free(text);
    } else if (strcmp(kind, "timeout") == 0) {
        snprintf(buf, cap, "phase %s's timer, at seq %llu",
                 str_of(cause, "phase"), at);
    } else if (strcmp(kind, "start") == 0) {
        snprintf(buf, cap, "the room's start, at seq %llu", at);
    } else {
        snprintf(buf, cap, "the host's call, at seq %llu", at);
    }
}

/* Print pc_json_diff output d, at most DIFF_MAX entries, paths padded
 * to one width. */
#define DIFF_MAX 40
static void print_diff(const insp_out *o, const cJSON *d)
{
    size_t n = 0;
    size_t w = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, d)
    {
        size_t pw = insp_width(str_of(it, "path"));
        w = n++ < DIFF_MAX && pw > w ? pw : w;
    }
    n = 0;
    cJSON_ArrayForEach(it, d)
    {
        if (n++ == DIFF_MAX) {
            fprintf(o->f, "    ... and %d more\n",
                    cJSON_GetArraySize(d) - DIFF_MAX);
            break;
        }
        const cJSON *was = cJSON_GetObjectItemCaseSensitive(it, "old");
        const cJSON *now = cJSON_GetObjectItemCaseSensitive(it, "new");
        char *a = insp_compact(was, 200);
        char *b = insp_compact(now, 200);
        insp_style st = was == NULL   ? S_ADDED
                        : now == NULL ? S_REMOVED
                                      : S_CHANGED;
        fprintf(o->f, "    %s%s ", insp_sty(o, st),
                was == NULL   ? "+"
                : now == NULL ? "-"
                              : "~");
        insp_pad(o->f, str_of(it, "path"), w);
        fputs(insp_sty(o, S_RESET), o->f);
        if (was == NULL) {
            fprintf(o->f, "  (only in the replay) %s\n", b ? b : "?");
        } else if (now == NULL) {
            fprintf(o->f, "  %s (only in the export)\n", a ? a : "?");
        } else {
            fprintf(o->f, "  %s -> %s\n", a ? a : "?", b ? b : "?");
        }
        free(a);
        free(b);
    }
}

static void print_text(const insp_out *o, const insp_replay_summary *s)
{
    FILE *f = o->f;
    unsigned long long from = (unsigned long long)s->from;
    unsigned long long to = (unsigned long long)s->to;
    if (s->applied_to != 0) {
        fprintf(o->err,
                "phasecast-inspect: note: seqs %llu..%llu were applied as "
                "recorded, not replayed: the stimulus that made them began "
                "before the export\n",
                (unsigned long long)s->applied_from,
                (unsigned long long)s->applied_to);
    }
    if (s->divergence == NULL) {
        fprintf(f, "reproduced: room %s (%s), ", s->room, s->game);
        if (to >= from) {
            fprintf(f, "seqs %llu..%llu, %llu stimuli, every change equal\n",
                    from, to, (unsigned long long)s->stimuli);
        } else {
            fprintf(f, "no changes after seq %llu to replay\n", from - 1);
        }
        return;
    }
    const cJSON *d = s->divergence;
    const cJSON *line = cJSON_GetObjectItemCaseSensitive(d, "line");
    fprintf(f, "%sdiverged%s: room %s (%s) at seq %s%llu%s", insp_sty(o, S_BAD),
            insp_sty(o, S_RESET), s->room, s->game, insp_sty(o, S_SEQ),
            (unsigned long long)cJSON_GetNumberValue(
                cJSON_GetObjectItemCaseSensitive(d, "seq")),
            insp_sty(o, S_RESET));
    if (cJSON_IsNumber(line)) {
        fprintf(f, " (line %llu)", (unsigned long long)line->valuedouble);
    }
    fprintf(f, "\n  %s\n", str_of(d, "message"));
    const cJSON *cause = cJSON_GetObjectItemCaseSensitive(d, "cause");
    if (cause != NULL) {
        char what[400];
        describe(cause, what, sizeof(what));
        fprintf(f, "  stimulus: %s\n", what);
    }
    const cJSON *fld;
    cJSON_ArrayForEach(fld, cJSON_GetObjectItemCaseSensitive(d, "fields"))
    {
        const char *name = str_of(fld, "field");
        char *e = value_text(cJSON_GetObjectItemCaseSensitive(fld, "expected"));
        char *g = value_text(cJSON_GetObjectItemCaseSensitive(fld, "got"));
        fprintf(f, "  %-8s expected %s\n  %-8s got      %s\n", name,
                e ? e : "?", "", g ? g : "?");
        free(e);
        free(g);
    }
    const cJSON *diff = cJSON_GetObjectItemCaseSensitive(d, "state_diff");
    if (cJSON_GetArraySize(diff) > 0) {
        fprintf(f, "  the state, as exported -> as replayed:\n");
        print_diff(o, diff);
    }
    if (to >= from) {
        fprintf(f, "  before it: seqs %llu..%llu, every change equal\n", from,
                to);
    } else {
        fprintf(f, "  before it: nothing replayed\n");
    }
}

static void print_json(const insp_out *o, const insp_replay_summary *s)
{
    cJSON *doc = cJSON_CreateObject();
    if (doc == NULL) {
        insp_failf(o, "nomem", "out of memory");
        return;
    }
    cJSON_AddBoolToObject(doc, "ok", s->divergence == NULL);
    cJSON_AddStringToObject(doc, "room", s->room);
    cJSON_AddStringToObject(doc, "game", s->game);
    cJSON_AddNumberToObject(doc, "from", (double)s->from);
    cJSON_AddNumberToObject(doc, "to", (double)s->to);
    cJSON_AddNumberToObject(doc, "stimuli", (double)s->stimuli);
    cJSON_AddNumberToObject(doc, "changes", (double)s->changes);
    if (s->applied_to != 0) {
        cJSON *ap = cJSON_AddObjectToObject(doc, "applied");
        cJSON_AddNumberToObject(ap, "from", (double)s->applied_from);
        cJSON_AddNumberToObject(ap, "to", (double)s->applied_to);
    }
    if (s->divergence != NULL) {
        /* A reference: printed with the document, not freed with it. */
        cJSON *ref = cJSON_CreateObjectReference(s->divergence->child);
        if (ref == NULL || !cJSON_AddItemToObject(doc, "divergence", ref)) {
            cJSON_Delete(ref);
        }
    } else {
        cJSON_AddNullToObject(doc, "divergence");
    }
    insp_json_line(o, doc);
    cJSON_Delete(doc);
}

void insp_replay_report(const insp_out *o, const insp_replay_summary *s)
{
    if (o->json) {
        print_json(o, s);
    } else {
        print_text(o, s);
    }
}
