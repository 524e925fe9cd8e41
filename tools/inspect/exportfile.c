/*
 * exportfile.c - read export files back, one checked record at a time
 * (see exportfile.h). Nothing here trusts the file: lines are capped
 * before they are parsed, numbers must be exact integers in range, and
 * every pointer handed out points into a tree this reader parsed and
 * checked.
 */
#include "exportfile.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "phasecast/canon.h"
#include "phasecast/json.h"
#include "phasecast/room.h"

#define EXACT_MAX 9007199254740992.0 /* 2^53 */

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
static pc_err
bad(pc_error *err, size_t line, const char *fmt, ...)
{
    char msg[PC_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return pc_error_set(err, PC_ERR_INVALID, "bad_export", "line %zu: %s", line,
                        msg);
}

void insp_export_reader_init(insp_export_reader *r, FILE *f)
{
    memset(r, 0, sizeof(*r));
    r->f = f;
}

void insp_export_reader_fini(insp_export_reader *r)
{
    free(r->buf);
    memset(r, 0, sizeof(*r));
}

/* Read the next line (without its newline, or a final "\r\n") into
 * r->buf; *len receives its length. PC_ERR_NOT_FOUND at the end. A line
 * over the cap is refused without reading it into memory. */
static pc_err next_line(insp_export_reader *r, size_t *len, pc_error *err)
{
    size_t n = 0;
    int c = EOF;
    bool any = false;
    while ((c = getc(r->f)) != EOF) {
        any = true;
        if (c == '\n') {
            break;
        }
        if (n == INSP_EXPORT_LINE_MAX) {
            return bad(err, r->line + 1, "longer than %zu bytes",
                       (size_t)INSP_EXPORT_LINE_MAX);
        }
        if (n + 1 >= r->cap) {
            size_t cap = r->cap == 0 ? 4096 : r->cap * 2;
            char *b = realloc(r->buf, cap);
            if (b == NULL) {
                return pc_error_set(err, PC_ERR_NOMEM, NULL, "out of memory");
            }
            r->buf = b;
            r->cap = cap;
        }
        r->buf[n++] = (char)c;
    }
    if (ferror(r->f)) {
        return pc_error_set(err, PC_ERR_IO, NULL,
                            "read error after line %zu: %s", r->line,
                            strerror(errno));
    }
    if (!any) {
        return PC_ERR_NOT_FOUND;
    }
    r->line++;
    if (n > 0 && r->buf[n - 1] == '\r') {
        n--;
    }
    *len = n;
    return PC_OK;
}

/* Parse the next non-blank line into *out. */
static pc_err next_json(insp_export_reader *r, cJSON **out, pc_error *err)
{
    size_t len = 0;
    pc_err rv;
    do {
        rv = next_line(r, &len, err);
        if (rv != PC_OK) {
            return rv;
        }
    } while (len == 0);
    pc_json_limits lim = {.max_depth = PC_JSON_DEPTH_CEILING,
                          .max_string = INSP_EXPORT_LINE_MAX,
                          .max_nodes = INSP_EXPORT_LINE_MAX,
                          .max_bytes = INSP_EXPORT_LINE_MAX,
                          .max_state_bytes = INSP_EXPORT_LINE_MAX};
    pc_error pe = {0};
    cJSON *doc = NULL;
    rv = pc_json_parse(r->buf, len, &lim, &doc, &pe);
    if (rv == PC_ERR_NOMEM) {
        return pc_error_set(err, rv, NULL, "out of memory");
    }
    if (rv != PC_OK) {
        return bad(err, r->line, "not JSON: %s", pe.message);
    }
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        return bad(err, r->line, "not a JSON object");
    }
    *out = doc;
    return PC_OK;
}

/* ---- Typed members ------------------------------------------------------- */

static const cJSON *member(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static bool get_uint(const cJSON *o, const char *k, uint64_t *out)
{
    const cJSON *v = member(o, k);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0.0) ||
        v->valuedouble > EXACT_MAX || floor(v->valuedouble) != v->valuedouble) {
        return false;
    }
    *out = (uint64_t)v->valuedouble;
    return true;
}

static bool get_int(const cJSON *o, const char *k, int64_t lo, int64_t hi,
                    int64_t *out)
{
    const cJSON *v = member(o, k);
    if (!cJSON_IsNumber(v) || !(fabs(v->valuedouble) <= EXACT_MAX) ||
        floor(v->valuedouble) != v->valuedouble) {
        return false;
    }
    int64_t x = (int64_t)v->valuedouble;
    if (x < lo || x > hi) {
        return false;
    }
    *out = x;
    return true;
}

static bool get_hex64(const cJSON *o, const char *k, uint64_t *out)
{
    const cJSON *v = member(o, k);
    if (!cJSON_IsString(v) || strlen(v->valuestring) != 16) {
        return false;
    }
    uint64_t x = 0;
    static const char digits[] = "0123456789abcdef";
    for (const char *p = v->valuestring; *p != '\0'; p++) {
        const char *d = strchr(digits, *p); /* *p is never NUL here */
        if (d == NULL) {
            return false;
        }
        x = x << 4 | (uint64_t)(d - digits);
    }
    *out = x;
    return true;
}

/* A string member of at most max bytes (0: any length), or NULL. */
static const char *get_str(const cJSON *o, const char *k, size_t max)
{
    const cJSON *v = member(o, k);
    if (!cJSON_IsString(v) || (max > 0 && strlen(v->valuestring) > max)) {
        return NULL;
    }
    return v->valuestring;
}

/* A room id as pc_room_new accepts it: [A-Za-z0-9._-]{1,64}. */
static bool room_id_ok(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= PC_ROOM_ID_MAX &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789._-") == n;
}

/* ---- The base record ----------------------------------------------------- */

pc_err insp_export_read_base(insp_export_reader *r, insp_export_base *b,
                             pc_error *err)
{
    memset(b, 0, sizeof(*b));
    cJSON *doc = NULL;
    pc_err rv = next_json(r, &doc, err);
    if (rv == PC_ERR_NOT_FOUND) {
        return bad(err, 1,
                   "the file is empty: an export starts with a base "
                   "record");
    }
    if (rv != PC_OK) {
        return rv;
    }
    r->base_read = true;
    size_t ln = r->line;
    const char *type = get_str(doc, "type", 0);
    uint64_t format = 0;
    const char *game = get_str(doc, "game", 64);
    const char *room = get_str(doc, "room", 64);
    const cJSON *dl = member(doc, "deadline");
    int64_t deadline = -1;
    cJSON *state = cJSON_DetachItemFromObjectCaseSensitive(doc, "state");
    const cJSON *phase = member(state, "phase");
    const cJSON *data = member(state, "data");
    if (type == NULL || strcmp(type, "room") != 0) {
        rv = bad(err, ln,
                 "the first record is not a base record "
                 "(\"type\":\"room\")");
    } else if (!get_uint(doc, "format", &format) || format != 1) {
        rv = bad(err, ln, "\"format\" is not 1");
    } else if (game == NULL || room == NULL || !room_id_ok(room)) {
        rv = bad(err, ln,
                 "\"game\" or \"room\" is missing or not a name of "
                 "at most 64 bytes");
    } else if (!get_uint(doc, "seq", &b->seq) ||
               !get_hex64(doc, "sum", &b->sum) ||
               !get_uint(doc, "bytes", &b->bytes)) {
        rv = bad(err, ln,
                 "\"seq\", \"sum\" or \"bytes\" is missing or "
                 "malformed");
    } else if (!get_hex64(doc, "seed", &b->seed) ||
               !get_uint(doc, "draws", &b->draws)) {
        rv = bad(err, ln,
                 "\"seed\" (16 hex digits) or \"draws\" is missing "
                 "or malformed: the export cannot seed the replay");
    } else if (b->draws > INSP_EXPORT_DRAWS_MAX) {
        rv = bad(err, ln,
                 "\"draws\" %llu is more than this tool replays "
                 "(%llu)",
                 (unsigned long long)b->draws,
                 (unsigned long long)INSP_EXPORT_DRAWS_MAX);
    } else if (dl != NULL && !cJSON_IsNull(dl) &&
               !get_int(doc, "deadline", 0, INT64_MAX, &deadline)) {
        rv = bad(err, ln, "\"deadline\" is neither a uint nor null");
    } else if (!cJSON_IsObject(state) || cJSON_GetArraySize(state) != 2 ||
               !cJSON_IsString(phase) || !cJSON_IsObject(data)) {
        rv = bad(err, ln,
                 "\"state\" is not {\"phase\": string, \"data\": "
                 "object}");
    }
    uint64_t sum = 0;
    size_t bytes = 0;
    if (rv == PC_OK && pc_canon_checksum(state, &sum, &bytes) != PC_OK) {
        rv = bad(err, ln, "\"state\" cannot be checksummed");
    } else if (rv == PC_OK && (sum != b->sum || bytes != b->bytes)) {
        rv = bad(err, ln,
                 "the state's checksum is %016llx (%zu bytes), the record "
                 "says %016llx (%llu bytes)",
                 (unsigned long long)sum, bytes, (unsigned long long)b->sum,
                 (unsigned long long)b->bytes);
    }
    if (rv != PC_OK) {
        cJSON_Delete(state);
        cJSON_Delete(doc);
        return rv;
    }
    snprintf(b->game, sizeof(b->game), "%s", game);
    snprintf(b->room, sizeof(b->room), "%s", room);
    b->timer = deadline >= 0;
    b->deadline_ms = deadline;
    b->state = state;
    r->last_seq = b->seq;
    cJSON_Delete(doc);
    return PC_OK;
}

void insp_export_base_fini(insp_export_base *b)
{
    cJSON_Delete(b->state);
    memset(b, 0, sizeof(*b));
}

/* ---- Change records ------------------------------------------------------ */

const char *insp_cause_name(pc_cause_kind k)
{
    switch (k) {
    case PC_CAUSE_HOST:
        return "host";
    case PC_CAUSE_START:
        return "start";
    case PC_CAUSE_ACTION:
        return "action";
    case PC_CAUSE_TIMEOUT:
        return "timeout";
    }
    return "?";
}

/* Check rec->cause and fill the cause members. */
static pc_err read_cause(insp_export_rec *rec, pc_error *err)
{
    size_t ln = rec->line;
    unsigned long long seq = (unsigned long long)rec->seq;
    const cJSON *c = member(rec->json, "cause");
    if (c == NULL) {
        return bad(err, ln,
                   "seq %llu has no \"cause\", so the export cannot be "
                   "replayed from there (it was recorded without causes)",
                   seq);
    }
    const char *kind = get_str(c, "kind", 0);
    static const pc_cause_kind kinds[] = {PC_CAUSE_HOST, PC_CAUSE_START,
                                          PC_CAUSE_ACTION, PC_CAUSE_TIMEOUT};
    bool known = false;
    for (size_t i = 0; kind != NULL && i < 4; i++) {
        if (strcmp(kind, insp_cause_name(kinds[i])) == 0) {
            rec->ckind = kinds[i];
            known = true;
        }
    }
    if (!cJSON_IsObject(c) || !known) {
        return bad(err, ln,
                   "seq %llu: \"cause\" is not an object with a "
                   "\"kind\" of host, start, action or timeout",
                   seq);
    }
    if (!get_uint(c, "first", &rec->first) || rec->first > rec->seq ||
        rec->first == 0) {
        return bad(err, ln,
                   "seq %llu: the cause's \"first\" is not a seq "
                   "from 1 to the record's own",
                   seq);
    }
    rec->cause = c;
    if (rec->ckind == PC_CAUSE_ACTION) {
        const cJSON *dropped = member(c, "payload_dropped");
        if (cJSON_IsTrue(dropped)) {
            return bad(err, ln,
                       "seq %llu: the action's payload was not recorded "
                       "(payload_dropped), so the export cannot be replayed "
                       "from there",
                       seq);
        }
        rec->player = get_str(c, "player", 0);
        rec->type = get_str(c, "type", 0);
        const cJSON *p = member(c, "payload");
        rec->payload = cJSON_IsNull(p) ? NULL : p;
        const cJSON *role = member(c, "role");
        rec->role = cJSON_IsString(role) && strcmp(role->valuestring, "gm") == 0
                        ? PC_ROLE_GM
                        : PC_ROLE_PLAYER;
        const cJSON *exp = member(c, "expected_seq");
        rec->has_expected_seq = cJSON_IsNumber(exp) && exp->valuedouble >= 0;
        rec->expected_seq =
            rec->has_expected_seq ? (uint64_t)exp->valuedouble : 0;
        if (rec->player == NULL || rec->type == NULL ||
            (dropped != NULL && !cJSON_IsFalse(dropped))) {
            return bad(err, ln,
                       "seq %llu: an action cause needs string "
                       "\"player\" and \"type\"",
                       seq);
        }
    } else if (rec->ckind == PC_CAUSE_TIMEOUT) {
        rec->cphase = get_str(c, "phase", 64);
        if (rec->cphase == NULL) {
            return bad(err, ln,
                       "seq %llu: a timeout cause needs a "
                       "\"phase\"",
                       seq);
        }
    }
    return PC_OK;
}

/* Check the change record rec->json, which must come after seq last,
 * and fill rec. */
/* An event's "event" member into rec->event; false when malformed (the
 * replay's room checks the name and the player as the game made them). */
static bool read_event(insp_export_rec *rec)
{
    const cJSON *ev = member(rec->json, "event");
    const char *audience = get_str(ev, "audience", 0);
    pc_event *e = &rec->event;
    e->name = get_str(ev, "name", 64);
    e->data = member(ev, "data");
    e->player = get_str(ev, "player", 64);
    if (audience == NULL || e->name == NULL || e->data == NULL) {
        return false;
    }
    if (strcmp(audience, "public") == 0) {
        e->audience = PC_AUDIENCE_PUBLIC;
    } else if (strcmp(audience, "gm") == 0) {
        e->audience = PC_AUDIENCE_GM;
    } else if (strcmp(audience, "player") == 0) {
        e->audience = PC_AUDIENCE_PLAYER;
    } else {
        return false;
    }
    return (e->audience == PC_AUDIENCE_PLAYER) == (e->player != NULL);
}

static pc_err read_change(insp_export_rec *rec, uint64_t last, pc_error *err)
{
    const cJSON *o = rec->json;
    size_t ln = rec->line;
    const char *kind = get_str(o, "kind", 0);
    int64_t line = 0;
    const cJSON *patch = member(o, "patch");
    if (!get_uint(o, "seq", &rec->seq)) {
        return bad(err, ln, "\"seq\" is missing or not a uint");
    }
    unsigned long long seq = (unsigned long long)rec->seq;
    if (rec->seq <= last) {
        return bad(err, ln, "seq %llu comes after seq %llu", seq,
                   (unsigned long long)last);
    }
    rec->phase = get_str(o, "phase", 64);
    rec->prev = get_str(o, "prev", 64);
    rec->reason = get_str(o, "reason", 0);
    rec->file = get_str(o, "file", 0);
    rec->func = get_str(o, "func", 0);
    if (!get_int(o, "time", -(int64_t)EXACT_MAX, (int64_t)EXACT_MAX,
                 &rec->time_ms)) {
        return bad(err, ln, "seq %llu: \"time\" is missing or not an int", seq);
    }
    if (kind == NULL ||
        (strcmp(kind, "update") != 0 && strcmp(kind, "transition") != 0 &&
         strcmp(kind, "event") != 0)) {
        return bad(err, ln,
                   "seq %llu: \"kind\" is not update, transition or event",
                   seq);
    }
    rec->kind = kind[0] == 'u'   ? PC_CHANGE_UPDATE
                : kind[0] == 't' ? PC_CHANGE_TRANSITION
                                 : PC_CHANGE_EVENT;
    if (rec->kind == PC_CHANGE_EVENT && !read_event(rec)) {
        return bad(err, ln,
                   "seq %llu: an event's \"event\" needs a \"name\", an "
                   "\"audience\" (public, player with a \"player\", or gm) "
                   "and \"data\"",
                   seq);
    }
    if (rec->phase == NULL || rec->prev == NULL || rec->reason == NULL ||
        rec->file == NULL || rec->func == NULL) {
        return bad(err, ln,
                   "seq %llu: \"phase\", \"prev\", \"reason\", "
                   "\"file\" or \"func\" is missing or too long",
                   seq);
    }
    if (!get_int(o, "line", INT32_MIN, INT32_MAX, &line) ||
        !get_uint(o, "draws", &rec->draws) || !get_hex64(o, "sum", &rec->sum)) {
        return bad(err, ln,
                   "seq %llu: \"line\", \"draws\" or \"sum\" is "
                   "missing or malformed",
                   seq);
    }
    rec->src_line = (int)line;
    if (!cJSON_IsObject(patch)) {
        return bad(err, ln, "seq %llu: \"patch\" is not an object", seq);
    }
    rec->patch = patch;
    return read_cause(rec, err);
}

pc_err insp_export_read(insp_export_reader *r, insp_export_rec *rec,
                        pc_error *err)
{
    memset(rec, 0, sizeof(*rec));
    for (;;) {
        cJSON *doc = NULL;
        pc_err rv = next_json(r, &doc, err);
        if (rv != PC_OK) {
            return rv;
        }
        const char *type = get_str(doc, "type", 0);
        if (type != NULL && strcmp(type, "timer") == 0) {
            cJSON_Delete(doc); /* timers are the game's to re-arm */
            continue;
        }
        rec->json = doc;
        rec->line = r->line;
        if (type == NULL || strcmp(type, "change") != 0) {
            rv = bad(err, r->line, "%s",
                     type == NULL                ? "a record without \"type\""
                     : strcmp(type, "room") == 0 ? "a second base record (an "
                                                   "export has one, on line 1)"
                                                 : "not a change record");
        } else {
            rv = read_change(rec, r->last_seq, err);
        }
        if (rv != PC_OK) {
            insp_export_rec_fini(rec);
            return rv;
        }
        r->last_seq = rec->seq;
        return PC_OK;
    }
}

void insp_export_rec_fini(insp_export_rec *rec)
{
    cJSON_Delete(rec->json);
    memset(rec, 0, sizeof(*rec));
}
