/*
 * envelope.c - CHANGE objects and checksum text for the wire (protocol v1).
 *
 * The broadcast (public view, one CHANGE per committed change) and the
 * changes request (any viewer, read back from history) must agree byte for
 * byte on what a change looks like, so both build it here. When the game
 * declares no private paths the public view is the state itself: the
 * change's own patch and checksum go out unfiltered and nothing is
 * recomputed. An event (kind "event") goes to the viewers its audience
 * names with its name and data; to everyone else as its seq alone (no
 * name, data or reason), marked private so that clients see no gap and
 * players know to ask for their own view. Printing relies on every tree
 * having passed the room's JSON limits (depth at most
 * PC_JSON_DEPTH_CEILING), so cJSON's recursive printer stays shallow. This
 * module sends nothing.
 */
#include "envelope.h"

#include <stdbool.h>
#include <string.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/merge.h"
#include "phasecast/view.h"

#include "canon.h"

/* The wire's name of a change's kind. */
static const char *kind_name(pc_change_kind k)
{
    return k == PC_CHANGE_TRANSITION ? "transition"
           : k == PC_CHANGE_EVENT    ? "event"
                                     : "update";
}

/* What a viewer may know of c's event: *shown when the viewer sees it
 * (never for other kinds), *hidden when it is an event the viewer may
 * not see (then only its seq, time, phase and sum go out). Either way a
 * non-public event marks the change private, like a private patch. */
static void event_view(const pc_change *c, const pc_viewer *viewer, bool *shown,
                       bool *hidden, bool *priv)
{
    bool event = c->kind == PC_CHANGE_EVENT;
    bool sees = pc_view_event_as(event ? &c->event : NULL, viewer);
    *shown = event && sees;
    *hidden = event && !sees;
    if (event && c->event.audience != PC_AUDIENCE_PUBLIC) {
        *priv = true;
    }
}

void pc__envelope_hex(uint64_t sum, char out[PC__SUM_HEX])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        out[i] = digits[sum & 0xf];
        sum >>= 4;
    }
    out[16] = '\0';
}

pc_err pc__envelope_change(const pc_game *g, const pc_change *c,
                           const pc_viewer *viewer, const cJSON *after,
                           cJSON **out)
{
    cJSON *patch = NULL;
    bool priv = false;
    uint64_t sum = c->checksum;
    pc_err rc = PC_OK;
    if (pc_view_has_private(g)) {
        rc = pc_view_patch_as(g, c->patch, viewer, &patch, &priv);
        if (rc == PC_OK) {
            rc = pc_view_checksum_as(g, after, viewer, &sum);
        }
        if (rc != PC_OK) {
            cJSON_Delete(patch);
            return rc;
        }
    } else if ((patch = cJSON_Duplicate(c->patch, true)) == NULL) {
        return PC_ERR_NOMEM;
    }
    bool shown, hidden;
    event_view(c, viewer, &shown, &hidden, &priv);
    char hex[PC__SUM_HEX];
    pc__envelope_hex(sum, hex);
    cJSON *o = cJSON_CreateObject();
    bool ok =
        o != NULL &&
        cJSON_AddNumberToObject(o, "seq", (double)c->seq) != NULL &&
        cJSON_AddNumberToObject(o, "time", (double)c->time_ms) != NULL &&
        cJSON_AddStringToObject(o, "kind", kind_name(c->kind)) != NULL &&
        cJSON_AddStringToObject(o, "phase", c->phase) != NULL &&
        (hidden || cJSON_AddStringToObject(o, "reason", c->reason) != NULL) &&
        (hidden || c->file == NULL ||
         (cJSON_AddStringToObject(o, "file", c->file) != NULL &&
          cJSON_AddNumberToObject(o, "line", c->line) != NULL)) &&
        cJSON_AddItemToObject(o, "patch", patch);
    if (!ok) {
        cJSON_Delete(patch);
        cJSON_Delete(o);
        return PC_ERR_NOMEM;
    }
    if (shown) {
        cJSON *ev = cJSON_AddObjectToObject(o, "event");
        cJSON *data = cJSON_Duplicate(c->event.data, true);
        if (ev == NULL ||
            cJSON_AddStringToObject(ev, "name", c->event.name) == NULL ||
            !cJSON_AddItemToObject(ev, "data", data)) {
            cJSON_Delete(data);
            cJSON_Delete(o);
            return PC_ERR_NOMEM;
        }
    }
    if (cJSON_AddStringToObject(o, "sum", hex) == NULL ||
        (priv && cJSON_AddTrueToObject(o, "private") == NULL)) {
        cJSON_Delete(o);
        return PC_ERR_NOMEM;
    }
    *out = o;
    return PC_OK;
}

bool pc__envelope_replay(cJSON *doc, const pc_change *c)
{
    cJSON *data = cJSON_GetObjectItemCaseSensitive(doc, "data");
    cJSON *phase = cJSON_CreateString(c->phase);
    if (phase == NULL || pc_merge_patch_inplace(data, c->patch) != PC_OK ||
        !cJSON_ReplaceItemInObjectCaseSensitive(doc, "phase", phase)) {
        cJSON_Delete(phase);
        return false;
    }
    return true;
}

pc_err pc__envelope_print(const cJSON *tree, char **text, size_t *len)
{
    char *s = cJSON_PrintUnformatted(tree);
    if (s == NULL) {
        return PC_ERR_NOMEM;
    }
    *text = s;
    *len = strlen(s);
    return PC_OK;
}

pc_err pc__text_grow_put(pc__text *t, const void *data, size_t n)
{
    size_t cap = t->cap ? t->cap : 256;
    while (n > cap - t->len) {
        if (cap > SIZE_MAX / 2) {
            return PC_ERR_NOMEM;
        }
        cap *= 2;
    }
    char *bigger = pc_realloc(t->buf, cap);
    if (bigger == NULL) {
        return PC_ERR_NOMEM;
    }
    t->buf = bigger;
    t->cap = cap;
    memcpy(t->buf + t->len, data, n);
    t->len += n;
    return PC_OK;
}

void pc__text_free(pc__text *t)
{
    pc_free(t->buf);
    *t = (pc__text){NULL, 0, 0};
}

/* A JSON string: '"' and '\\' escaped, bytes below 0x20 as \u00xx. */
static pc_err put_json_string(pc__text *t, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    pc_err rc = pc__text_put(t, "\"", 1);
    while (rc == PC_OK) {
        size_t run = pc__json_plain_len(s);
        rc = pc__text_put(t, s, run);
        s += run;
        unsigned char ch = (unsigned char)*s;
        if (rc != PC_OK || ch == '\0') {
            break;
        }
        char esc[6] = {'\\', (char)ch, '0', '0', hex[ch >> 4], hex[ch & 15]};
        size_t n = 2;
        if (ch < 0x20) {
            esc[1] = 'u';
            n = 6;
        }
        rc = pc__text_put(t, esc, n);
        s++;
    }
    return rc == PC_OK ? pc__text_put(t, "\"", 1) : rc;
}

/* Decimal digits of v, right-aligned ending at end; returns the first.
 * Two digits per division: seq and time are formatted for every change. */
static char *put_digits(char *end, uint64_t v)
{
    static const char pairs[201] = "0001020304050607080910111213141516171819"
                                   "2021222324252627282930313233343536373839"
                                   "4041424344454647484950515253545556575859"
                                   "6061626364656667686970717273747576777879"
                                   "8081828384858687888990919293949596979899";
    while (v >= 100) {
        unsigned two = (unsigned)(v % 100);
        v /= 100;
        end -= 2;
        memcpy(end, pairs + 2 * two, 2);
    }
    if (v >= 10) {
        end -= 2;
        memcpy(end, pairs + 2 * v, 2);
    } else {
        *--end = (char)('0' + (int)v);
    }
    return end;
}

/* Append the decimal text of v (negative when neg). */
static pc_err put_decimal(pc__text *t, uint64_t v, bool neg)
{
    char buf[24];
    char *end = buf + sizeof buf;
    char *p = put_digits(end, v);
    if (neg) {
        *--p = '-';
    }
    return pc__text_put(t, p, (size_t)(end - p));
}

static pc_err put_int64(pc__text *t, int64_t v)
{
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    return put_decimal(t, m, v < 0);
}

pc_err pc__envelope_change_text(const pc_game *g, const pc_change *c,
                                const pc_viewer *viewer, const cJSON *after,
                                const char *patch_text, size_t patch_len,
                                pc__text *out)
{
    cJSON *view = NULL;
    const cJSON *patch = c->patch;
    bool priv = false;
    uint64_t sum = c->checksum;
    pc_err rc = PC_OK;
    if (pc_view_has_private(g)) {
        rc = pc_view_patch_as(g, c->patch, viewer, &view, &priv);
        if (rc == PC_OK) {
            rc = pc_view_checksum_as(g, after, viewer, &sum);
        }
        patch = view;
    }
    bool shown, hidden;
    event_view(c, viewer, &shown, &hidden, &priv);
    if (rc != PC_OK) {
        cJSON_Delete(view);
        return rc;
    }
    /* Written piece by piece: snprintf cost more than all the rest of
     * the envelope together. */
    const char *kind = kind_name(c->kind);
    char hex[PC__SUM_HEX];
    pc__envelope_hex(sum, hex);
    size_t mark = out->len;
    rc = pc__text_put(out, "{\"seq\":", 7);
    rc = rc == PC_OK ? put_decimal(out, c->seq, false) : rc;
    rc = rc == PC_OK ? pc__text_put(out, ",\"time\":", 8) : rc;
    rc = rc == PC_OK ? put_int64(out, c->time_ms) : rc;
    rc = rc == PC_OK ? pc__text_put(out, ",\"kind\":\"", 9) : rc;
    rc = rc == PC_OK ? pc__text_put(out, kind, strlen(kind)) : rc;
    rc = rc == PC_OK ? pc__text_put(out, "\",\"phase\":", 10) : rc;
    rc = rc == PC_OK ? put_json_string(out, c->phase) : rc;
    if (!hidden) {
        rc = rc == PC_OK ? pc__text_put(out, ",\"reason\":", 10) : rc;
        rc = rc == PC_OK ? put_json_string(out, c->reason) : rc;
        if (c->file != NULL) {
            rc = rc == PC_OK ? pc__text_put(out, ",\"file\":", 8) : rc;
            rc = rc == PC_OK ? put_json_string(out, c->file) : rc;
            rc = rc == PC_OK ? pc__text_put(out, ",\"line\":", 8) : rc;
            rc = rc == PC_OK ? put_int64(out, c->line) : rc;
        }
    }
    rc = rc == PC_OK ? pc__text_put(out, ",\"patch\":", 9) : rc;
    /* The room's text of the patch when it has it (the public view of a
     * game without private paths is c->patch itself); otherwise the patch
     * and the event's data are printed straight into out, no copy. */
    if (patch_text != NULL && patch == c->patch) {
        rc = rc == PC_OK ? pc__text_put(out, patch_text, patch_len) : rc;
    } else {
        rc = rc == PC_OK ? pc__canon_append(patch, &out->buf, &out->len,
                                            &out->cap, SIZE_MAX)
                         : rc;
    }
    if (shown) {
        rc = rc == PC_OK ? pc__text_put(out, ",\"event\":{\"name\":", 17) : rc;
        rc = rc == PC_OK ? put_json_string(out, c->event.name) : rc;
        rc = rc == PC_OK ? pc__text_put(out, ",\"data\":", 8) : rc;
        rc = rc == PC_OK ? pc__canon_append(c->event.data, &out->buf, &out->len,
                                            &out->cap, SIZE_MAX)
                         : rc;
        rc = rc == PC_OK ? pc__text_put(out, "}", 1) : rc;
    }
    rc = rc == PC_OK ? pc__text_put(out, ",\"sum\":\"", 8) : rc;
    rc = rc == PC_OK ? pc__text_put(out, hex, PC__SUM_HEX - 1) : rc;
    rc = rc == PC_OK ? pc__text_put(out, "\"", 1) : rc;
    if (priv) {
        rc = rc == PC_OK ? pc__text_put(out, ",\"private\":true", 15) : rc;
    }
    rc = rc == PC_OK ? pc__text_put(out, "}", 1) : rc;
    cJSON_Delete(view);
    if (rc != PC_OK) {
        out->len = mark;
    }
    return rc;
}
