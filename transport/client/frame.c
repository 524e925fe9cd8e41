/*
 * frame.c - the fast decoder of "changes" frames (see frame.h for what it
 * takes and why it may decline). It is a strict reader of a narrow subset
 * of JSON: the envelope and each CHANGE with only the members it knows,
 * strings of printable ASCII without escapes, integers as plain digits,
 * true and false, RFC whitespace; anything else declines. Each patch is
 * checked by the strict scan (pc__jsontext_scan_value, within the depth and
 * the node budget the whole frame has left at that point, so the limits
 * mean what they mean for pc_json_parse of the whole text), then parsed by
 * cJSON and checked by pc_json_check, as pc_json_parse does. It holds no
 * state between frames but its buffers; any thread, one frame at a time.
 */
#include "frame.h"

#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/alloc.h"

#include "jsontext.h"

/* Integers of up to 15 digits are below 10^15 < 2^53: exact as doubles,
 * so they decode to what the general path's pc__wire_u64 gives. */
#define INT_DIGITS_MAX 15

/* A frame keeps at most this much string space between frames. */
#define STRINGS_KEEP ((size_t)1 << 16)

/* Cursor over scanned text. */
typedef struct cur {
    const char *p;
    const char *end;
} cur;

static void skip_ws(cur *c)
{
    while (c->p < c->end &&
           (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) {
        c->p++;
    }
}

/* Consume ch (after whitespace) if it is next. */
static bool eat(cur *c, char ch)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

/* Bytes that end a plain string's run: controls (which JSON forbids raw),
 * '"', '\\' and everything above 0x7f (by table: this runs on every byte
 * of every envelope string). */
static const unsigned char not_plain[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* A string whose bytes are all printable ASCII without escapes, at most
 * max long: *s and *n give its bytes (between the quotes). 0x7f is
 * allowed, as pc_json_check allows it. */
static bool plain_string(cur *c, size_t max, const char **s, size_t *n)
{
    skip_ws(c);
    if (c->p >= c->end || *c->p != '"') {
        return false;
    }
    const char *from = ++c->p;
    const char *p = from;
    while (p < c->end && !not_plain[(unsigned char)*p]) {
        p++;
    }
    if (p >= c->end || *p != '"' || (size_t)(p - from) > max) {
        return false;
    }
    c->p = p + 1;
    *s = from;
    *n = (size_t)(p - from);
    return true;
}

/* An integer written as plain digits (and a '-' when neg_ok), at most
 * INT_DIGITS_MAX of them, with no fraction or exponent. */
static bool plain_int(cur *c, bool neg_ok, int64_t *out)
{
    skip_ws(c);
    bool neg = c->p < c->end && *c->p == '-';
    if (neg && !neg_ok) {
        return false;
    }
    const char *q = c->p + (neg ? 1 : 0);
    int64_t v = 0;
    int digits = 0;
    while (q < c->end && *q >= '0' && *q <= '9') {
        if (++digits > INT_DIGITS_MAX) {
            return false;
        }
        v = v * 10 + (*q - '0');
        q++;
    }
    /* RFC 8259 has no leading zeros: "01" is not a number. */
    const char *first = c->p + (neg ? 1 : 0);
    if (digits == 0 || (digits > 1 && *first == '0') ||
        (q < c->end && (*q == '.' || *q == 'e' || *q == 'E'))) {
        return false;
    }
    c->p = q;
    *out = neg ? -v : v;
    return true;
}

/* a[0..n) == b[0..n) for the short names and words compared here: a loop
 * the compiler keeps inline, where memcmp is a call per member. */
static bool equal(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i]) {
            return false;
        }
    }
    return true;
}

static bool literal(cur *c, const char *word, size_t n)
{
    skip_ws(c);
    if ((size_t)(c->end - c->p) < n || !equal(c->p, word, n)) {
        return false;
    }
    c->p += n;
    return true;
}

static bool same(const char *s, size_t n, const char *lit, size_t litn)
{
    return n == litn && equal(s, lit, n);
}

#define SAME(s, n, lit) same(s, n, lit, sizeof(lit) - 1)

/* A member name the decoder knows, with its length. */
typedef struct key {
    const char *name;
    size_t len;
} key;

#define KEY(lit)                                                               \
    {                                                                          \
        lit, sizeof(lit) - 1                                                   \
    }

/* Index of the key s[0..n) in keys (ending with a NULL name), or -1. */
static int key_index(const char *s, size_t n, const key *keys)
{
    for (int i = 0; keys[i].name != NULL; i++) {
        if (n == keys[i].len && s[0] == keys[i].name[0] &&
            equal(s, keys[i].name, n)) {
            return i;
        }
    }
    return -1;
}

/* One decode: the frame, its limits and where strings go. */
typedef struct decoder {
    pc__frame *f;
    const pc_json_limits *lim;
    char *strings; /* next free byte of f->strings */
    size_t nodes;  /* values read so far, counted as the scan counts */
} decoder;

/* Count one more value against the frame's node limit. */
static bool count(decoder *d)
{
    return ++d->nodes <= d->lim->max_nodes;
}

/* Copy s[0..n) into the frame's strings as a C string. There is always
 * room: the space reserved is the frame's length. */
static const char *keep(decoder *d, const char *s, size_t n)
{
    char *out = d->strings;
    memcpy(out, s, n);
    out[n] = '\0';
    d->strings += n + 1;
    return out;
}

/* The patch at the cursor as a checked tree; false to decline (nothing
 * allocated then). It sits at depth 4 (envelope, "changes", CHANGE), and
 * its values count towards the frame's. */
static bool patch_tree(decoder *d, cur *c, cJSON **out)
{
    skip_ws(c);
    if (c->p >= c->end || *c->p != '{' || d->nodes >= d->lim->max_nodes) {
        return false;
    }
    pc_json_limits l = *d->lim;
    l.max_depth -= 3;
    l.max_nodes -= d->nodes;
    const char *from = c->p;
    const char *end = NULL;
    size_t values = 0;
    if (pc__jsontext_scan_value(from, (size_t)(c->end - from), &l, &end,
                                &values, NULL) != PC_OK) {
        return false;
    }
    const char *parse_end = NULL;
    cJSON *t =
        cJSON_ParseWithLengthOpts(from, (size_t)(end - from), &parse_end, 0);
    if (t == NULL || parse_end != end ||
        pc_json_check(t, d->lim, NULL) != PC_OK) {
        cJSON_Delete(t);
        return false;
    }
    d->nodes += values;
    c->p = end;
    *out = t;
    return true;
}

enum {
    CH_SEQ,
    CH_TIME,
    CH_KIND,
    CH_PHASE,
    CH_REASON,
    CH_FILE,
    CH_LINE,
    CH_PATCH,
    CH_SUM,
    CH_PRIVATE
};
static const key change_keys[] = {KEY("seq"),     KEY("time"),   KEY("kind"),
                                  KEY("phase"),   KEY("reason"), KEY("file"),
                                  KEY("line"),    KEY("patch"),  KEY("sum"),
                                  KEY("private"), {NULL, 0}};

/* The value of change member k into ch; false to decline. */
static bool change_member(decoder *d, cur *c, int k, pc__wire_change *ch)
{
    const char *s;
    size_t n;
    int64_t v;
    size_t max = d->lim->max_string;
    if (k != CH_PATCH && !count(d)) {
        return false; /* the patch counts its own */
    }
    switch (k) {
    case CH_SEQ:
        if (!plain_int(c, false, &v) || v == 0) {
            return false;
        }
        ch->seq = (uint64_t)v;
        return true;
    case CH_TIME:
        return plain_int(c, true, &ch->time_ms);
    case CH_LINE:
        return plain_int(c, true, &v);
    case CH_KIND:
        if (!plain_string(c, max, &s, &n)) {
            return false;
        }
        ch->transition = SAME(s, n, "transition");
        ch->event = SAME(s, n, "event");
        return true;
    case CH_PHASE:
    case CH_REASON:
        if (!plain_string(c, max, &s, &n)) {
            return false;
        }
        *(k == CH_PHASE ? &ch->phase : &ch->reason) = keep(d, s, n);
        return true;
    case CH_FILE:
        return plain_string(c, max, &s, &n);
    case CH_SUM: {
        if (!plain_string(c, max, &s, &n) || n != 16) {
            return false;
        }
        uint64_t sum = 0;
        for (size_t i = 0; i < n; i++) {
            char x = s[i];
            unsigned digit;
            if (x >= '0' && x <= '9') {
                digit = (unsigned)(x - '0');
            } else if (x >= 'a' && x <= 'f') {
                digit = (unsigned)(x - 'a' + 10);
            } else {
                return false;
            }
            sum = (sum << 4) | digit;
        }
        ch->sum = sum;
        return true;
    }
    case CH_PRIVATE:
        if (literal(c, "true", 4)) {
            ch->private_data = true;
            return true;
        }
        return literal(c, "false", 5);
    case CH_PATCH: {
        cJSON *t;
        if (!patch_tree(d, c, &t)) {
            return false;
        }
        ch->patch = t;
        return true;
    }
    default:
        return false;
    }
}

/* Room for one more change in f. */
static bool grow(pc__frame *f)
{
    if (f->n < f->cap) {
        return true;
    }
    size_t cap = f->cap ? f->cap * 2 : 16;
    pc__wire_change *v = pc_realloc(f->v, cap * sizeof(*v));
    if (v == NULL) {
        return false;
    }
    f->v = v;
    f->cap = cap;
    return true;
}

/* One CHANGE object at the cursor, appended to the frame; false to
 * decline (a patch already decoded stays in the frame for clearing). */
static bool change(decoder *d, cur *c)
{
    if (!count(d) || !eat(c, '{') || !grow(d->f)) {
        return false;
    }
    pc__wire_change *ch = &d->f->v[d->f->n];
    memset(ch, 0, sizeof(*ch));
    ch->reason = "";
    d->f->n++;
    unsigned seen = 0;
    if (eat(c, '}')) {
        return false; /* no seq: the general path refuses it */
    }
    do {
        const char *s;
        size_t n;
        if (!plain_string(c, d->lim->max_string, &s, &n) || !eat(c, ':')) {
            return false;
        }
        int k = key_index(s, n, change_keys);
        if (k < 0 || (seen & (1u << k)) != 0 || !change_member(d, c, k, ch)) {
            return false;
        }
        seen |= 1u << k;
    } while (eat(c, ','));
    unsigned need =
        (1u << CH_SEQ) | (1u << CH_PHASE) | (1u << CH_PATCH) | (1u << CH_SUM);
    return eat(c, '}') && (seen & need) == need;
}

enum { EN_V, EN_TYPE, EN_ROOM, EN_CHANGES };
static const key envelope_keys[] = {
    KEY("v"), KEY("type"), KEY("room"), KEY("changes"), {NULL, 0}};

/* The envelope: {"v":1,"type":"changes","room":<room>,"changes":[...]}
 * with its members in any order and nothing else. */
static bool envelope(decoder *d, cur *c, const char *room)
{
    if (!count(d) || !eat(c, '{')) {
        return false;
    }
    unsigned seen = 0;
    do {
        const char *s;
        size_t n;
        if (!plain_string(c, d->lim->max_string, &s, &n) || !eat(c, ':')) {
            return false;
        }
        int k = key_index(s, n, envelope_keys);
        if (k < 0 || (seen & (1u << k)) != 0) {
            return false;
        }
        seen |= 1u << k;
        if (!count(d)) {
            return false;
        }
        bool ok;
        int64_t v;
        switch (k) {
        case EN_V:
            ok = plain_int(c, false, &v) && v == 1;
            break;
        case EN_TYPE:
            ok = plain_string(c, d->lim->max_string, &s, &n) &&
                 SAME(s, n, "changes");
            break;
        case EN_ROOM:
            ok = plain_string(c, d->lim->max_string, &s, &n) &&
                 same(s, n, room, strlen(room));
            break;
        default: /* EN_CHANGES */
            ok = eat(c, '[');
            if (ok && !eat(c, ']')) {
                do {
                    ok = change(d, c);
                } while (ok && eat(c, ','));
                ok = ok && eat(c, ']');
            }
            break;
        }
        if (!ok) {
            return false;
        }
    } while (eat(c, ','));
    return eat(c, '}') && seen == 0xfu;
}

void pc__frame_init(pc__frame *f)
{
    memset(f, 0, sizeof(*f));
}

pc_err pc__frame_decode(pc__frame *f, const char *text, size_t len,
                        const char *room, const pc_json_limits *lim,
                        bool *taken)
{
    *taken = false;
    pc_json_limits l;
    pc_json_limits_resolve(lim, &l);
    /* A patch lies four levels deep; frames that cannot hold one, and
     * texts over the size limit, are the general path's to judge. */
    if (len == 0 || len > l.max_bytes || l.max_depth < 4) {
        return PC_OK;
    }
    if (f->strings_cap < len + 1) {
        char *s = pc_realloc(f->strings, len + 1);
        if (s == NULL) {
            return PC_OK; /* let the general path meet the shortage */
        }
        f->strings = s;
        f->strings_cap = len + 1;
    }
    decoder d = {f, &l, f->strings, 0};
    cur c = {text, text + len};
    bool ok = envelope(&d, &c, room);
    skip_ws(&c);
    if (!ok || c.p != c.end) {
        pc__frame_clear(f);
        return PC_OK;
    }
    *taken = true;
    return PC_OK;
}

void pc__frame_clear(pc__frame *f)
{
    for (size_t i = 0; i < f->n; i++) {
        cJSON_Delete((cJSON *)f->v[i].patch);
    }
    f->n = 0;
    if (f->strings_cap > STRINGS_KEEP) {
        pc_free(f->strings);
        f->strings = NULL;
        f->strings_cap = 0;
    }
}

void pc__frame_fini(pc__frame *f)
{
    pc__frame_clear(f);
    pc_free(f->v);
    pc_free(f->strings);
    pc__frame_init(f);
}
