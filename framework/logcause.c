/*
 * logcause.c - the "cause" member of change-log records: written last in
 * a change record, read back by the replay (docs/durability.md, "The
 * cause object").
 *
 * Both directions live here so that the shape is defined once. Writing
 * never fails for the cause's sake: what cannot be written (a payload over
 * the cap, or one that would overflow the frame) is written as dropped.
 * Reading is strict, like every other member: a cause that is present but
 * malformed is reported, never guessed at. This module does no I/O.
 */
#include "logcause.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/changelog.h"

#define EXACT_MAX 9007199254740992.0 /* 2^53: a reader's exact integers */

/* The "kind" strings, indexed by pc_cause_kind. */
static const char *const kinds[] = {"host", "start", "action", "timeout"};

/* ---- Writing ------------------------------------------------------------- */

/* Largest action payload a record keeps; a bigger one is dropped. */
#define CAUSE_PAYLOAD_MAX ((size_t)1 << 20)

/* The text after "payload": an action's payload, or the dropped marker
 * when drop is set, the cause says so, or the payload cannot be written
 * (too big, or refused by the canonical printer). */
static pc_err put_payload(pc__buf *b, const pc_cause *c, bool drop)
{
    static const char dropped[] = "null,\"payload_dropped\":true";
    if (c->payload == NULL && !c->payload_dropped) {
        pc__buf_str(b, "null");
        return PC_OK;
    }
    if (drop || c->payload_dropped || c->payload == NULL) {
        pc__buf_str(b, dropped);
        return PC_OK;
    }
    char *t = NULL;
    size_t n = 0;
    pc_err rv = pc_canon_print(c->payload, &t, &n);
    if (rv == PC_ERR_NOMEM) {
        return rv;
    }
    if (rv != PC_OK || n > CAUSE_PAYLOAD_MAX) {
        pc__buf_str(b, dropped);
    } else {
        pc__buf_add(b, t, n);
    }
    pc_free(t);
    return PC_OK;
}

/* The "cause" member, with the action's payload dropped when drop. */
static pc_err put_cause(pc__buf *b, const pc_cause *c, bool drop)
{
    pc__buf_str(b, ",\"cause\":{\"kind\":\"");
    pc__buf_str(b, kinds[c->kind]);
    pc__buf_str(b, "\",\"first\":");
    pc__buf_u64(b, c->first_seq);
    if (c->kind == PC_CAUSE_ACTION) {
        pc__buf_str(b, ",\"player\":");
        pc__buf_json_str(b, c->player);
        pc__buf_str(b, ",\"type\":");
        pc__buf_json_str(b, c->type);
        if (c->role == PC_ROLE_GM) { /* absent: a player (older logs too) */
            pc__buf_str(b, ",\"role\":\"gm\"");
        }
        if (c->has_expected_seq) {
            pc__buf_str(b, ",\"expected_seq\":");
            pc__buf_u64(b, c->expected_seq);
        }
        pc__buf_str(b, ",\"payload\":");
        pc_err rv = put_payload(b, c, drop);
        if (rv != PC_OK) {
            return rv;
        }
    } else if (c->kind == PC_CAUSE_TIMEOUT) {
        pc__buf_str(b, ",\"phase\":");
        pc__buf_json_str(b, c->phase);
    }
    pc__buf_str(b, "}");
    return PC_OK;
}

/* True when the record in b, closed by its final '}', fits in a frame. */
static bool fits_frame(const pc__buf *b)
{
    return b->len - PC__FRAME_HEAD + 1 <= PC_CHANGELOG_FRAME_MAX;
}

pc_err pc__record_cause(pc__buf *b, const pc_cause *c, uint64_t seq)
{
    if (c->first_seq == 0 || c->first_seq > seq ||
        (unsigned)c->kind > PC_CAUSE_TIMEOUT || !fits_frame(b)) {
        return PC_OK; /* the last: refused for its own size anyway */
    }
    size_t mark = b->len;
    pc_err rv = put_cause(b, c, false);
    if (rv == PC_OK && !b->nomem && !fits_frame(b)) {
        b->len = mark;
        rv = put_cause(b, c, true);
        if (rv == PC_OK && !b->nomem && !fits_frame(b)) {
            b->len = mark;
        }
    }
    if (rv != PC_OK) {
        return rv;
    }
    return b->nomem ? PC_ERR_NOMEM : PC_OK;
}

/* ---- Reading ------------------------------------------------------------- */

static const char *get_str(const cJSON *o, const char *k, size_t max)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsString(v) || (max > 0 && strlen(v->valuestring) > max)) {
        return NULL;
    }
    return v->valuestring;
}

static bool get_uint(const cJSON *o, const char *k, uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) ||
        v->valuedouble > EXACT_MAX || v->valuedouble != floor(v->valuedouble)) {
        return false;
    }
    *out = (uint64_t)v->valuedouble;
    return true;
}

const char *pc__cause_parse(const cJSON *rec, uint64_t seq, pc_cause *out)
{
    memset(out, 0, sizeof(*out));
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(rec, "cause");
    if (c == NULL) {
        return NULL;
    }
    if (!cJSON_IsObject(c)) {
        return "it is not an object";
    }
    const char *kind = get_str(c, "kind", 0);
    int k = 0;
    while (kind != NULL && k < 4 && strcmp(kinds[k], kind) != 0) {
        k++;
    }
    if (kind == NULL || k == 4) {
        return "\"kind\" is not host, start, action or timeout";
    }
    uint64_t first;
    if (!get_uint(c, "first", &first) || first == 0 || first > seq) {
        return "\"first\" is not a seq from 1 to the record's own";
    }
    out->kind = (pc_cause_kind)k;
    out->first_seq = first;
    if (out->kind == PC_CAUSE_ACTION) {
        const cJSON *payload = cJSON_GetObjectItemCaseSensitive(c, "payload");
        const cJSON *dropped =
            cJSON_GetObjectItemCaseSensitive(c, "payload_dropped");
        out->player = get_str(c, "player", 0);
        out->type = get_str(c, "type", 0);
        if (out->player == NULL || out->type == NULL || payload == NULL) {
            return "an action needs string \"player\" and \"type\" and a "
                   "\"payload\"";
        }
        if (dropped != NULL &&
            (!cJSON_IsBool(dropped) ||
             (cJSON_IsTrue(dropped) && !cJSON_IsNull(payload)))) {
            return "\"payload_dropped\" is not a boolean, or is true with a "
                   "payload";
        }
        out->payload = cJSON_IsNull(payload) ? NULL : payload;
        out->payload_dropped = cJSON_IsTrue(dropped);
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(c, "role");
        if (role != NULL) {
            const char *r = cJSON_GetStringValue(role);
            if (r == NULL || strcmp(r, "gm") != 0) {
                return "\"role\" is not \"gm\"";
            }
            out->role = PC_ROLE_GM;
        }
        if (cJSON_GetObjectItemCaseSensitive(c, "expected_seq") != NULL) {
            if (!get_uint(c, "expected_seq", &out->expected_seq)) {
                return "\"expected_seq\" is not a seq";
            }
            out->has_expected_seq = true;
        }
    } else if (out->kind == PC_CAUSE_TIMEOUT) {
        out->phase = get_str(c, "phase", 64);
        if (out->phase == NULL) {
            return "a timeout needs \"phase\", a string of at most 64 bytes";
        }
    }
    return NULL;
}
