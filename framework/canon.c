/*
 * canon.c - canonical JSON text and the structural state checksum.
 *
 * One writer produces the canonical bytes of canon.h into a growing buffer
 * (pc_canon_print); the checksum hashes the same bytes of one scalar or
 * member name at a time with FNV-1a and combines those hashes up the
 * tree (arrays in order, objects as a sum over members), so it never sorts
 * keys and never materialises the text, and a cache (digest.c) can update
 * it after a patch from the parts that changed. This is not a validator:
 * it refuses only what it cannot print (NULL strings, non-finite numbers,
 * raw or invalid nodes, depth over PC_JSON_DEPTH_CEILING) and otherwise
 * trusts that the document passed pc_json_check; duplicate keys or invalid
 * UTF-8 are printed as they are. It is not RFC 8785 and does not promise
 * the text parses back to the same tree in other JSON libraries. Recursion
 * is bounded by the depth ceiling, so the stack use is small and fixed.
 */
#include "phasecast/canon.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/alloc.h"
#include "phasecast/error.h"
#include "phasecast/json.h"
#include "canon.h"

#define FNV1A64_PRIME UINT64_C(0x100000001b3)

/* The finaliser is MurmurHash3's fmix64; the seeds keep arrays, objects,
 * members and elements apart (the golden ratio and three xxHash64
 * primes). */
#define MIX_C1       UINT64_C(0xff51afd7ed558ccd)
#define MIX_C2       UINT64_C(0xc4ceb9fe1a85ec53)
#define ARRAY_SEED   UINT64_C(0x9e3779b97f4a7c15)
#define OBJECT_SEED  UINT64_C(0xc2b2ae3d27d4eb4f)
#define MEMBER_SEED  UINT64_C(0x165667b19e3779f9)
#define ELEMENT_SEED UINT64_C(0x85ebca77c2b2ae63)

/* Scratch slots kept on the C stack; most states never need the heap for
 * sorting. */
#define SCRATCH_LOCAL 64

/* Objects up to this size are sorted by insertion, which is linear when the
 * keys are already in order, as they are in trees built from canonical
 * text. */
#define INSERTION_SORT_MAX 16

/* Start size of the print buffer; a typical room state is a few KiB. */
#define PRINT_INITIAL_CAP 1024

/* Longest number text: "-1.2345678901234567e-308" plus slack. */
#define NUMBER_BUF 40

/* The growing buffer pc_canon_print writes into. */
typedef struct sink {
    size_t total; /* canonical bytes written so far */
    char *buf;    /* pc_malloc'd, NUL-terminated on success */
    size_t cap;
    size_t max; /* most bytes total may reach: PC_ERR_LIMIT beyond */
} sink;

/*
 * Sorted member pointers of every object on the current path, stacked: an
 * object's members occupy [base, base + k) while its subtree is written, and
 * nested objects push above them. Indices, not pointers, are kept across
 * calls because growing the array moves it.
 */
typedef struct scratch {
    const cJSON **v;
    size_t len;
    size_t cap;
    const cJSON *local[SCRATCH_LOCAL];
} scratch;

/* Everything one call of print carries through the recursion. */
typedef struct writer {
    sink out;
    scratch keys;
} writer;

uint64_t pc_fnv1a64(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= FNV1A64_PRIME;
    }
    return h;
}

static pc_err put(sink *s, const char *data, size_t n)
{
    if (n > s->max - s->total) {
        return PC_ERR_LIMIT;
    }
    /* Keep one byte for the terminating NUL. */
    if (n >= s->cap - s->total) {
        size_t cap = s->cap;
        while (n >= cap - s->total) {
            if (cap > SIZE_MAX / 2) {
                return PC_ERR_NOMEM;
            }
            cap *= 2;
        }
        char *bigger = pc_realloc(s->buf, cap);
        if (bigger == NULL) {
            return PC_ERR_NOMEM;
        }
        s->buf = bigger;
        s->cap = cap;
    }
    memcpy(s->buf + s->total, data, n);
    s->total += n;
    return PC_OK;
}

static pc_err put_char(sink *s, char c)
{
    return put(s, &c, 1);
}

/* Bytes a JSON string cannot hold as they are (and the NUL that ends a C
 * string): below 0x20, '"' and '\\'. A table, because this test runs on
 * every byte of every string printed. */
static const unsigned char stops[256] = {
    1,         1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1,         1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, /* '"' */
    ['\\'] = 1};

/* Does byte c of a string need an escape? */
static bool needs_escape(unsigned char c)
{
    return c != 0 && stops[c];
}

size_t pc__json_plain_len(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    for (;;) {
        /* Four at a time: the NUL stops the first test that sees it, so
         * nothing past the terminator is read. */
        if (stops[p[0]]) {
            return (size_t)(p - (const unsigned char *)s);
        }
        if (stops[p[1]]) {
            return (size_t)(p + 1 - (const unsigned char *)s);
        }
        if (stops[p[2]]) {
            return (size_t)(p + 2 - (const unsigned char *)s);
        }
        if (stops[p[3]]) {
            return (size_t)(p + 3 - (const unsigned char *)s);
        }
        p += 4;
    }
}

/* The escape sequence of such a byte into esc; returns its length. */
static size_t escape_of(unsigned char c, char esc[6])
{
    static const char hex[] = "0123456789abcdef";
    esc[0] = '\\';
    switch (c) {
    case '"':
        esc[1] = '"';
        return 2;
    case '\\':
        esc[1] = '\\';
        return 2;
    case '\b':
        esc[1] = 'b';
        return 2;
    case '\t':
        esc[1] = 't';
        return 2;
    case '\n':
        esc[1] = 'n';
        return 2;
    case '\f':
        esc[1] = 'f';
        return 2;
    case '\r':
        esc[1] = 'r';
        return 2;
    default:
        esc[1] = 'u';
        esc[2] = '0';
        esc[3] = '0';
        esc[4] = hex[c >> 4];
        esc[5] = hex[c & 0xF];
        return 6;
    }
}

static pc_err put_string(sink *s, const char *str)
{
    pc_err err = put_char(s, '"');
    const char *p = str;
    while (err == PC_OK) {
        size_t run = pc__json_plain_len(p);
        err = put(s, p, run);
        p += run;
        if (err != PC_OK || *p == '\0') {
            break;
        }
        char esc[6];
        size_t n = escape_of((unsigned char)*p, esc);
        err = put(s, esc, n);
        p++;
    }
    if (err == PC_OK) {
        err = put_char(s, '"');
    }
    return err;
}

/*
 * printf and strtod follow LC_NUMERIC, so under a locale with a decimal
 * comma the round-trip test still works on the raw text, and only then is
 * the separator (which may be several bytes) replaced by '.'.
 */
static size_t force_decimal_point(char *buf)
{
    char *w = buf;
    bool in_sep = false;
    for (const char *r = buf; *r != '\0'; r++) {
        char c = *r;
        bool plain = (c >= '0' && c <= '9') || c == '-' || c == '+' ||
                     c == 'e' || c == 'E';
        if (plain) {
            *w++ = c;
            in_sep = false;
        } else if (!in_sep) {
            *w++ = '.';
            in_sep = true;
        }
    }
    *w = '\0';
    return (size_t)(w - buf);
}

/* The canonical text of a finite double into buf (NUMBER_BUF bytes). */
static size_t format_number(double d, char *buf)
{
    if (d == 0) {
        buf[0] = '0'; /* also for -0 */
        buf[1] = '\0';
        return 1;
    }
    /* 2^53: every integer up to here is exact, so digits are exact too. */
    if (fabs(d) <= 9007199254740992.0 && d == (double)(int64_t)d) {
        int64_t i = (int64_t)d;
        uint64_t m = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
        char tmp[24];
        size_t n = 0;
        while (m > 0) {
            tmp[n++] = (char)('0' + (int)(m % 10));
            m /= 10;
        }
        size_t w = 0;
        if (i < 0) {
            buf[w++] = '-';
        }
        while (n > 0) {
            buf[w++] = tmp[--n];
        }
        buf[w] = '\0';
        return w;
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, NUMBER_BUF, "%.*g", p, d);
        if (strtod(buf, NULL) == d) {
            break;
        }
    }
    /* p = 17 always round-trips an IEEE double, so buf holds the answer
     * whichever way the loop ended. */
    return force_decimal_point(buf);
}

static pc_err scratch_reserve(scratch *k, size_t more)
{
    if (more <= k->cap - k->len) {
        return PC_OK;
    }
    size_t cap = k->cap;
    while (more > cap - k->len) {
        if (cap > SIZE_MAX / 2 / sizeof(*k->v)) {
            return PC_ERR_NOMEM;
        }
        cap *= 2;
    }
    const cJSON **v;
    if (k->v == k->local) {
        v = pc_malloc(cap * sizeof(*v));
        if (v != NULL) {
            memcpy(v, k->local, k->len * sizeof(*v));
        }
    } else {
        v = pc_realloc(k->v, cap * sizeof(*v));
    }
    if (v == NULL) {
        return PC_ERR_NOMEM;
    }
    k->v = v;
    k->cap = cap;
    return PC_OK;
}

static int cmp_member(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a;
    const cJSON *y = *(const cJSON *const *)b;
    /* strcmp compares as unsigned char, which is memcmp order for strings
     * without embedded NULs. */
    return strcmp(x->string, y->string);
}

static void sort_members(const cJSON **v, size_t n)
{
    if (n > INSERTION_SORT_MAX) {
        qsort(v, n, sizeof(*v), cmp_member);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        const cJSON *m = v[i];
        size_t j = i;
        while (j > 0 && strcmp(v[j - 1]->string, m->string) > 0) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = m;
    }
}

static pc_err write_value(writer *w, const cJSON *node, int depth);

static pc_err write_array(writer *w, const cJSON *node, int depth)
{
    pc_err err = put_char(&w->out, '[');
    for (const cJSON *c = node->child; err == PC_OK && c != NULL; c = c->next) {
        if (c != node->child) {
            err = put_char(&w->out, ',');
        }
        if (err == PC_OK) {
            err = write_value(w, c, depth + 1);
        }
    }
    return err == PC_OK ? put_char(&w->out, ']') : err;
}

static pc_err write_object(writer *w, const cJSON *node, int depth)
{
    size_t n = 0;
    for (const cJSON *c = node->child; c != NULL; c = c->next) {
        if (c->string == NULL) {
            return PC_ERR_INVALID;
        }
        n++;
    }
    pc_err err = scratch_reserve(&w->keys, n);
    if (err != PC_OK) {
        return err;
    }
    size_t base = w->keys.len;
    for (const cJSON *c = node->child; c != NULL; c = c->next) {
        w->keys.v[w->keys.len++] = c;
    }
    sort_members(w->keys.v + base, n);

    err = put_char(&w->out, '{');
    for (size_t i = 0; err == PC_OK && i < n; i++) {
        /* Re-read through w->keys.v: a nested object may have moved it. */
        const cJSON *m = w->keys.v[base + i];
        if (i > 0) {
            err = put_char(&w->out, ',');
        }
        if (err == PC_OK) {
            err = put_string(&w->out, m->string);
        }
        if (err == PC_OK) {
            err = put_char(&w->out, ':');
        }
        if (err == PC_OK) {
            err = write_value(w, m, depth + 1);
        }
    }
    w->keys.len = base;
    return err == PC_OK ? put_char(&w->out, '}') : err;
}

/* A scalar's canonical text; PC_ERR_INVALID for anything else. */
static pc_err write_scalar(sink *out, const cJSON *node)
{
    switch (node->type & 0xFF) {
    case cJSON_False:
        return put(out, "false", 5);
    case cJSON_True:
        return put(out, "true", 4);
    case cJSON_NULL:
        return put(out, "null", 4);
    case cJSON_Number: {
        if (!isfinite(node->valuedouble)) {
            return PC_ERR_INVALID;
        }
        char buf[NUMBER_BUF];
        size_t n = format_number(node->valuedouble, buf);
        return put(out, buf, n);
    }
    case cJSON_String:
        if (node->valuestring == NULL) {
            return PC_ERR_INVALID;
        }
        return put_string(out, node->valuestring);
    default:
        return PC_ERR_INVALID;
    }
}

/* depth is the number of containers enclosing node. */
static pc_err write_value(writer *w, const cJSON *node, int depth)
{
    if (!cJSON_IsArray(node) && !cJSON_IsObject(node)) {
        return write_scalar(&w->out, node);
    }
    if (depth + 1 > PC_JSON_DEPTH_CEILING) {
        return PC_ERR_INVALID;
    }
    return cJSON_IsArray(node) ? write_array(w, node, depth)
                               : write_object(w, node, depth);
}

static void writer_init(writer *w)
{
    w->out.total = 0;
    w->out.buf = NULL;
    w->out.cap = 0;
    w->out.max = SIZE_MAX - 1; /* put() keeps a byte for the NUL */
    w->keys.v = w->keys.local;
    w->keys.len = 0;
    w->keys.cap = SCRATCH_LOCAL;
}

static void writer_fini(writer *w)
{
    if (w->keys.v != w->keys.local) {
        pc_free(w->keys.v);
    }
}

pc_err pc_canon_print(const cJSON *doc, char **out, size_t *len)
{
    if (doc == NULL || out == NULL) {
        return PC_ERR_INVALID;
    }
    writer w;
    writer_init(&w);
    w.out.buf = pc_malloc(PRINT_INITIAL_CAP);
    if (w.out.buf == NULL) {
        return PC_ERR_NOMEM;
    }
    w.out.cap = PRINT_INITIAL_CAP;
    pc_err err = write_value(&w, doc, 0);
    writer_fini(&w);
    if (err != PC_OK) {
        pc_free(w.out.buf);
        return err;
    }
    w.out.buf[w.out.total] = '\0';
    *out = w.out.buf;
    if (len != NULL) {
        *len = w.out.total;
    }
    return PC_OK;
}

pc_err pc__canon_append(const cJSON *doc, char **buf, size_t *len, size_t *cap,
                        size_t max)
{
    if (doc == NULL) {
        return PC_ERR_INVALID;
    }
    writer w;
    writer_init(&w);
    w.out.buf = *buf;
    w.out.total = *len;
    w.out.cap = *cap;
    w.out.max = max < SIZE_MAX - 1 - *len ? *len + max : SIZE_MAX - 1;
    if (w.out.cap - w.out.total < 2) {
        /* put() keeps a byte for a NUL; start with room for a small
         * document so it rarely grows. */
        size_t more = w.out.cap + PRINT_INITIAL_CAP;
        char *bigger = pc_realloc(w.out.buf, more);
        if (bigger == NULL) {
            return PC_ERR_NOMEM;
        }
        w.out.buf = bigger;
        w.out.cap = more;
    }
    pc_err err = write_value(&w, doc, 0);
    writer_fini(&w);
    /* The buffer may have grown even when writing failed. */
    *buf = w.out.buf;
    *cap = w.out.cap;
    if (err == PC_OK) {
        *len = w.out.total;
    }
    return err;
}

/* ---- the structural checksum ---------------------------------------- */

uint64_t pc__canon_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= MIX_C1;
    x ^= x >> 33;
    x *= MIX_C2;
    x ^= x >> 33;
    return x;
}

uint64_t pc__canon_member(uint64_t key_hash, uint64_t value_hash)
{
    /* Asymmetric and non-linear in the pair, so that swapping values
     * between keys changes the sum. */
    return pc__canon_mix(key_hash ^ pc__canon_mix(value_hash + MEMBER_SEED));
}

uint64_t pc__canon_object(uint64_t member_sum)
{
    return pc__canon_mix(member_sum + OBJECT_SEED);
}

static uint64_t fnv_byte(uint64_t h, unsigned char c)
{
    return (h ^ c) * FNV1A64_PRIME;
}

/* FNV-1a 64 of a string's canonical text (quotes and escapes included),
 * and the text's length: the bytes straight into the hash, one by one. */
static uint64_t fnv_string(const char *str, size_t *len)
{
    uint64_t h = fnv_byte(PC_FNV1A64_INIT, '"');
    size_t n = 2;
    for (const unsigned char *p = (const unsigned char *)str; *p != '\0'; p++) {
        if (!needs_escape(*p)) {
            h = fnv_byte(h, *p);
            n++;
            continue;
        }
        char esc[6];
        size_t k = escape_of(*p, esc);
        h = pc_fnv1a64(h, esc, k);
        n += k;
    }
    *len = n;
    return fnv_byte(h, '"');
}

/* A scalar's hash and canonical length; PC_ERR_INVALID for anything
 * else (as write_scalar). */
static pc_err hash_scalar(const cJSON *node, uint64_t *hash, size_t *len)
{
    uint64_t h;
    size_t n;
    switch (node->type & 0xFF) {
    case cJSON_False:
        n = 5;
        h = pc_fnv1a64(PC_FNV1A64_INIT, "false", n);
        break;
    case cJSON_True:
        n = 4;
        h = pc_fnv1a64(PC_FNV1A64_INIT, "true", n);
        break;
    case cJSON_NULL:
        n = 4;
        h = pc_fnv1a64(PC_FNV1A64_INIT, "null", n);
        break;
    case cJSON_Number: {
        if (!isfinite(node->valuedouble)) {
            return PC_ERR_INVALID;
        }
        char buf[NUMBER_BUF];
        n = format_number(node->valuedouble, buf);
        h = pc_fnv1a64(PC_FNV1A64_INIT, buf, n);
        break;
    }
    case cJSON_String:
        if (node->valuestring == NULL) {
            return PC_ERR_INVALID;
        }
        h = fnv_string(node->valuestring, &n);
        break;
    default:
        return PC_ERR_INVALID;
    }
    *hash = pc__canon_mix(h);
    *len = n;
    return PC_OK;
}

void pc__canon_key(const char *key, uint64_t *hash, size_t *len)
{
    *hash = pc__canon_mix(fnv_string(key, len));
}

/* The walk of pc__canon_hash; tracked says whether node is reported. */
typedef struct hasher {
    pc__canon_visit visit;
    void *arg;
} hasher;

static pc_err hash_node(const hasher *hs, const cJSON *node, int depth,
                        bool tracked, uint64_t *hash, size_t *len)
{
    bool array = cJSON_IsArray(node);
    if (!array && !cJSON_IsObject(node)) {
        return hash_scalar(node, hash, len);
    }
    if (depth + 1 > PC_JSON_DEPTH_CEILING) {
        return PC_ERR_INVALID;
    }
    uint64_t acc = array ? ARRAY_SEED : 0;
    size_t total = 1; /* the opening bracket; each part adds its separator */
    for (const cJSON *c = node->child; c != NULL; c = c->next) {
        uint64_t h;
        size_t n;
        pc_err err = hash_node(hs, c, depth + 1, tracked && !array, &h, &n);
        if (err != PC_OK) {
            return err;
        }
        if (array) {
            /* The element is mixed on its own first, so the chain and the
             * element never play symmetric roles: [[],[]] != [[[]]]. */
            acc = pc__canon_mix(acc + pc__canon_mix(h ^ ELEMENT_SEED));
            total += n + 1;
            continue;
        }
        if (c->string == NULL) {
            return PC_ERR_INVALID;
        }
        uint64_t kh;
        size_t kn;
        pc__canon_key(c->string, &kh, &kn);
        acc += pc__canon_member(kh, h);
        total += kn + 1 + n + 1;
    }
    if (node->child == NULL) {
        total = 2;
    }
    if (tracked && hs->visit != NULL) {
        pc_err err = hs->visit(node, acc, total, hs->arg);
        if (err != PC_OK) {
            return err;
        }
    }
    *hash = array ? acc : pc__canon_object(acc);
    *len = total;
    return PC_OK;
}

pc_err pc__canon_hash(const cJSON *node, pc__canon_visit visit, void *arg,
                      uint64_t *hash, size_t *len)
{
    hasher hs = {visit, arg};
    return hash_node(&hs, node, 0, true, hash, len);
}

/* The canonical length of a string (quotes and escapes included). */
static size_t string_length(const char *str)
{
    size_t n = 2;
    for (const unsigned char *p = (const unsigned char *)str; *p != '\0'; p++) {
        if (!needs_escape(*p)) {
            n++;
        } else {
            char esc[6];
            n += escape_of(*p, esc);
        }
    }
    return n;
}

static pc_err length_of(const cJSON *node, int depth, size_t *len)
{
    switch (node->type & 0xFF) {
    case cJSON_False:
        *len = 5;
        return PC_OK;
    case cJSON_True:
    case cJSON_NULL:
        *len = 4;
        return PC_OK;
    case cJSON_Number: {
        if (!isfinite(node->valuedouble)) {
            return PC_ERR_INVALID;
        }
        char buf[NUMBER_BUF];
        *len = format_number(node->valuedouble, buf);
        return PC_OK;
    }
    case cJSON_String:
        if (node->valuestring == NULL) {
            return PC_ERR_INVALID;
        }
        *len = string_length(node->valuestring);
        return PC_OK;
    case cJSON_Array:
    case cJSON_Object:
        break;
    default:
        return PC_ERR_INVALID;
    }
    if (depth + 1 > PC_JSON_DEPTH_CEILING) {
        return PC_ERR_INVALID;
    }
    bool object = cJSON_IsObject(node);
    size_t total = 1; /* as in hash_node */
    for (const cJSON *c = node->child; c != NULL; c = c->next) {
        size_t n;
        pc_err err = length_of(c, depth + 1, &n);
        if (err != PC_OK) {
            return err;
        }
        if (object) {
            if (c->string == NULL) {
                return PC_ERR_INVALID;
            }
            n += string_length(c->string) + 1;
        }
        total += n + 1;
    }
    *len = node->child == NULL ? 2 : total;
    return PC_OK;
}

pc_err pc__canon_length(const cJSON *node, size_t *len)
{
    return length_of(node, 0, len);
}

pc_err pc_canon_checksum(const cJSON *doc, uint64_t *sum, size_t *len)
{
    if (doc == NULL || sum == NULL) {
        return PC_ERR_INVALID;
    }
    uint64_t h;
    size_t n;
    pc_err err = pc__canon_hash(doc, NULL, NULL, &h, &n);
    if (err != PC_OK) {
        return err;
    }
    *sum = h;
    if (len != NULL) {
        *len = n;
    }
    return PC_OK;
}
