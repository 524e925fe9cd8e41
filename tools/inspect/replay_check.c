/*
 * replay_check.c - the sink of phasecast-inspect import (replay.c): each
 * change the replayed room commits is compared with the export's record
 * of the same seq (kind, phase, reason, patch, event, checksum, ...), the
 * expected state is advanced by the record, and the first difference
 * becomes the import's divergence with a field-level report. Split from
 * replay.c, which feeds the stimuli.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "phasecast/canon.h"
#include "phasecast/diff.h"
#include "phasecast/json.h"
#include "phasecast/merge.h"

#include "out.h"
#include "replay_impl.h"
#include "replay_report.h"

int64_t insp_replay_clock(void *arg)
{
    return ((const replay *)arg)->now;
}

/* An event as JSON for a report (JSON null when there is none). */
cJSON *insp_replay_event(const pc_event *ev)
{
    return ev->name != NULL ? insp_event_json(ev) : cJSON_CreateNull();
}

cJSON *insp_replay_hex(uint64_t v)
{
    char hex[17];
    insp_hex64(v, hex);
    return cJSON_CreateString(hex);
}

/* Add item (taken, may be NULL) to o as k; cJSON leaves an item it could
 * not add with the caller, so it is freed here then. */
void insp_replay_add_owned(cJSON *o, const char *k, cJSON *item)
{
    if (item != NULL && !cJSON_AddItemToObject(o, k, item)) {
        cJSON_Delete(item);
    }
}

/* Append {"field","expected","got"} to fields (taking exp and got); on
 * an allocation failure nothing is appended. */
bool insp_replay_add_field(cJSON *fields, const char *name, cJSON *exp,
                           cJSON *got)
{
    cJSON *f = cJSON_CreateObject();
    bool ok = f != NULL && exp != NULL && got != NULL &&
              cJSON_AddStringToObject(f, "field", name) != NULL &&
              cJSON_AddItemToObject(f, "expected", exp);
    if (ok) {
        exp = NULL;
        ok = cJSON_AddItemToObject(f, "got", got);
    }
    if (ok) {
        got = NULL;
        ok = cJSON_AddItemToArray(fields, f);
    }
    if (!ok) {
        cJSON_Delete(f);
        cJSON_Delete(exp);
        cJSON_Delete(got);
    }
    return ok;
}

/* The state the export says after rec: the expected state advanced by
 * rec's patch and phase. */
pc_err insp_replay_advance(replay *rp, const insp_export_rec *rec)
{
    cJSON *data = cJSON_GetObjectItemCaseSensitive(rp->expect, "data");
    cJSON *phase = cJSON_CreateString(rec->phase);
    pc_err rv =
        phase == NULL ? PC_ERR_NOMEM : pc_merge_patch_inplace(data, rec->patch);
    if (rv != PC_OK ||
        !cJSON_ReplaceItemInObjectCaseSensitive(rp->expect, "phase", phase)) {
        cJSON_Delete(phase);
        return rv != PC_OK ? rv : PC_ERR_NOMEM;
    }
    return PC_OK;
}

/*
 * Record the divergence (only the first counts): problem, seq, the line
 * of its record (0: none), the stimulus' cause (may be NULL), fields
 * (taken; may be NULL) and, when with_diff, pc_json_diff of the expected
 * state against the room's.
 */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 8, 9)))
#endif
void
insp_replay_diverge(replay *rp, const char *problem, uint64_t seq, size_t line,
        const cJSON *cause, cJSON *fields, bool with_diff, const char *fmt, ...)
{
    if (rp->div != NULL) {
        cJSON_Delete(fields);
        return;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cJSON *d = cJSON_CreateObject();
    if (d == NULL) {
        cJSON_Delete(fields);
        rp->nomem = true;
        return;
    }
    cJSON_AddNumberToObject(d, "seq", (double)seq);
    if (line > 0) {
        cJSON_AddNumberToObject(d, "line", (double)line);
    }
    cJSON_AddStringToObject(d, "problem", problem);
    cJSON_AddStringToObject(d, "message", msg);
    if (cause != NULL) {
        insp_replay_add_owned(d, "cause", cJSON_Duplicate(cause, true));
    }
    insp_replay_add_owned(d, "fields",
                          fields != NULL ? fields : cJSON_CreateArray());
    cJSON *diff = NULL;
    if (with_diff && rp->room != NULL &&
        pc_json_diff(rp->expect, pc_room_state(rp->room), &diff) == PC_OK) {
        insp_replay_add_owned(d, "state_diff", diff);
    }
    rp->div = d;
}

/* What a change the export lacks looks like, for the report. */
static cJSON *change_summary(const pc_room *room, const pc_change *c)
{
    cJSON *s = cJSON_CreateObject();
    if (s == NULL) {
        return NULL;
    }
    cJSON_AddNumberToObject(s, "seq", (double)c->seq);
    cJSON_AddStringToObject(s, "kind", insp_kind_name(c->kind));
    cJSON_AddStringToObject(s, "phase", c->phase);
    cJSON_AddStringToObject(s, "prev", c->prev_phase);
    cJSON_AddStringToObject(s, "reason", c->reason);
    insp_replay_add_owned(s, "patch", cJSON_Duplicate(c->patch, true));
    if (c->kind == PC_CHANGE_EVENT) {
        insp_replay_add_owned(s, "event", insp_replay_event(&c->event));
    }
    insp_replay_add_owned(s, "sum", insp_replay_hex(c->checksum));
    cJSON_AddNumberToObject(s, "draws", (double)pc_room_draws(room));
    return s;
}

/* The sink: compare each committed change with its record. */
void insp_replay_on_change(pc_room *room, const pc_change *c, void *arg)
{
    replay *rp = arg;
    if (rp->div != NULL || rp->nomem) {
        return;
    }
    size_t i = rp->got++;
    const cJSON *cause = rp->ngrp > 0 ? rp->grp[0].cause : NULL;
    if (i >= rp->ngrp) {
        cJSON *fields = cJSON_CreateArray();
        if (fields != NULL) {
            insp_replay_add_field(fields, "change", cJSON_CreateNull(),
                                  change_summary(room, c));
        }
        insp_replay_diverge(
            rp, "extra", c->seq, 0, cause, fields, true,
            "the replay made a change the export does not have: seq "
            "%llu (\"%s\"), after the %zu change(s) the export shows "
            "for this stimulus",
            (unsigned long long)c->seq, c->reason, rp->ngrp);
        return;
    }
    const insp_export_rec *e = &rp->grp[i];
    cJSON *fields = cJSON_CreateArray();
    if (fields == NULL || insp_replay_advance(rp, e) != PC_OK) {
        cJSON_Delete(fields);
        rp->nomem = true;
        return;
    }
    uint64_t draws = pc_room_draws(room);
    size_t ndiff = 0;
    bool ok = true;
    if (c->seq != e->seq) {
        ndiff++;
        ok = insp_replay_add_field(fields, "seq",
                                   cJSON_CreateNumber((double)e->seq),
                                   cJSON_CreateNumber((double)c->seq)) &&
             ok;
    }
    if (c->kind != e->kind) {
        ndiff++;
        ok = insp_replay_add_field(
                 fields, "kind", cJSON_CreateString(insp_kind_name(e->kind)),
                 cJSON_CreateString(insp_kind_name(c->kind))) &&
             ok;
    }
    if (strcmp(c->phase, e->phase) != 0) {
        ndiff++;
        ok =
            insp_replay_add_field(fields, "phase", cJSON_CreateString(e->phase),
                                  cJSON_CreateString(c->phase)) &&
            ok;
    }
    if (strcmp(c->prev_phase, e->prev) != 0) {
        ndiff++;
        ok = insp_replay_add_field(fields, "prev", cJSON_CreateString(e->prev),
                                   cJSON_CreateString(c->prev_phase)) &&
             ok;
    }
    if (!pc_json_equal(c->patch, e->patch)) {
        ndiff++;
        ok = insp_replay_add_field(fields, "patch",
                                   cJSON_Duplicate(e->patch, true),
                                   cJSON_Duplicate(c->patch, true)) &&
             ok;
    }
    if (!insp_event_equal(&c->event, &e->event)) {
        ndiff++;
        ok =
            insp_replay_add_field(fields, "event", insp_replay_event(&e->event),
                                  insp_replay_event(&c->event)) &&
            ok;
    }
    if (c->checksum != e->sum) {
        ndiff++;
        ok = insp_replay_add_field(fields, "sum", insp_replay_hex(e->sum),
                                   insp_replay_hex(c->checksum)) &&
             ok;
    }
    if (draws != e->draws) {
        ndiff++;
        ok = insp_replay_add_field(fields, "draws",
                                   cJSON_CreateNumber((double)e->draws),
                                   cJSON_CreateNumber((double)draws)) &&
             ok;
    }
    if (ndiff == 0 || !ok) {
        cJSON_Delete(fields);
        rp->nomem = !ok;
        rp->changes += ok;
        rp->last_equal = ok ? c->seq : rp->last_equal;
        return;
    }
    char names[96] = "";
    const cJSON *f;
    cJSON_ArrayForEach(f, fields)
    {
        const char *n =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "field"));
        size_t len = strlen(names);
        snprintf(names + len, sizeof(names) - len, "%s%s", len ? ", " : "", n);
    }
    insp_replay_diverge(
        rp, "differs", e->seq, e->line, cause, fields, true,
        "the replay's change seq %llu differs from the export's: %s",
        (unsigned long long)e->seq, names);
}
