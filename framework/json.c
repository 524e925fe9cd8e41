/*
 * json.c - the gate between untrusted JSON and phasecast: limits, a strict
 * parser front end, tree validation, exact equality and JSON Pointer.
 *
 * cJSON accepts far more than RFC 8259 (duplicate keys, raw control bytes,
 * "\u0000" silently truncating a string, trailing bytes) and recurses without
 * bound, so pc_json_parse checks the raw text with the allocation-free,
 * non-recursive grammar scan of jsontext.c before cJSON sees it, and this
 * module checks every tree iteratively afterwards. Because the scan accepts
 * a strict subset of what cJSON parses, a cJSON failure after a clean scan
 * can only be an allocation failure, which is how PC_ERR_NOMEM is told apart
 * from PC_ERR_INVALID. This module does not canonicalise or patch, and it
 * does not promise that a tree which passed pc_json_check stays valid after
 * the caller edits it.
 * "Control character" means a byte below 0x20, as in RFC 8259; 0x7f is
 * allowed.
 */
#include "phasecast/json.h"

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

#include "jsontext.h"

#define DEFAULT_MAX_DEPTH       32
#define DEFAULT_MAX_STRING      ((size_t)65536)
#define DEFAULT_MAX_NODES       ((size_t)100000)
#define DEFAULT_MAX_BYTES       ((size_t)1 << 20)
#define DEFAULT_MAX_STATE_BYTES ((size_t)4 << 20)

/* Objects up to this many keys are checked for duplicates pairwise; larger
 * ones are sorted, which needs a temporary array. */
#define DUP_PAIRWISE_MAX 16

/* Room for a JSON Pointer inside a pc_error message, leaving space for the
 * sentence around it. */
#define ERR_POINTER_MAX 160

pc_json_limits pc_json_limits_default(void)
{
    pc_json_limits l;
    l.max_depth = DEFAULT_MAX_DEPTH;
    l.max_string = DEFAULT_MAX_STRING;
    l.max_nodes = DEFAULT_MAX_NODES;
    l.max_bytes = DEFAULT_MAX_BYTES;
    l.max_state_bytes = DEFAULT_MAX_STATE_BYTES;
    return l;
}

void pc_json_limits_resolve(const pc_json_limits *in, pc_json_limits *out)
{
    if (out == NULL) {
        return;
    }
    pc_json_limits d = pc_json_limits_default();
    pc_json_limits r = in != NULL ? *in : d;
    /* A negative depth cannot mean anything useful, so it is treated like
     * the "unset" zero rather than as "reject everything". */
    if (r.max_depth <= 0) {
        r.max_depth = d.max_depth;
    }
    if (r.max_depth > PC_JSON_DEPTH_CEILING) {
        r.max_depth = PC_JSON_DEPTH_CEILING;
    }
    if (r.max_string == 0) {
        r.max_string = d.max_string;
    }
    if (r.max_nodes == 0) {
        r.max_nodes = d.max_nodes;
    }
    if (r.max_bytes == 0) {
        r.max_bytes = d.max_bytes;
    }
    if (r.max_state_bytes == 0) {
        r.max_state_bytes = d.max_state_bytes;
    }
    *out = r;
}

/* ------------------------------------------------------------------------ */
/* JSON Pointer                                                             */
/* ------------------------------------------------------------------------ */

bool pc_json_pointer_append(char *buf, size_t cap, const char *token)
{
    if (buf == NULL || token == NULL || cap == 0) {
        return false;
    }
    const char *nul = memchr(buf, '\0', cap);
    if (nul == NULL) {
        return false;
    }
    size_t len = (size_t)(nul - buf);
    size_t need = 1; /* the '/' */
    for (const char *t = token; *t != '\0'; t++) {
        need += (*t == '~' || *t == '/') ? 2 : 1;
    }
    if (need >= cap - len) {
        return false;
    }
    char *w = buf + len;
    *w++ = '/';
    for (const char *t = token; *t != '\0'; t++) {
        if (*t == '~') {
            *w++ = '~';
            *w++ = '0';
        } else if (*t == '/') {
            *w++ = '~';
            *w++ = '1';
        } else {
            *w++ = *t;
        }
    }
    *w = '\0';
    return true;
}

/* True when [tok, end) uses only the escapes RFC 6901 defines. */
static bool token_well_formed(const char *tok, const char *end)
{
    for (const char *t = tok; t < end; t++) {
        if (*t == '~') {
            if (t + 1 >= end || (t[1] != '0' && t[1] != '1')) {
                return false;
            }
            t++;
        }
    }
    return true;
}

/* Compare key with the unescaped form of a well-formed token, without
 * building the unescaped copy. */
static bool token_matches(const char *key, const char *tok, const char *end)
{
    const char *t = tok;
    while (t < end) {
        char c = *t++;
        if (c == '~') {
            c = *t++ == '0' ? '~' : '/';
        }
        if (*key != c) {
            return false;
        }
        key++;
    }
    return *key == '\0';
}

/* Decimal array index without leading zeros; false if malformed or too big
 * to be an index of anything that fits in memory. */
static bool token_index(const char *tok, const char *end, size_t *out)
{
    size_t n = (size_t)(end - tok);
    if (n == 0 || n > 19 || (n > 1 && tok[0] == '0')) {
        return false;
    }
    uint64_t v = 0;
    for (const char *t = tok; t < end; t++) {
        if (*t < '0' || *t > '9') {
            return false;
        }
        v = v * 10 + (uint64_t)(*t - '0');
    }
    if (v > SIZE_MAX) {
        return false;
    }
    *out = (size_t)v;
    return true;
}

const cJSON *pc_json_pointer_get(const cJSON *doc, const char *pointer)
{
    if (doc == NULL || pointer == NULL) {
        return NULL;
    }
    const cJSON *cur = doc;
    const char *p = pointer;
    while (*p != '\0') {
        if (*p != '/') {
            return NULL;
        }
        const char *tok = p + 1;
        const char *end = strchr(tok, '/');
        if (end == NULL) {
            end = tok + strlen(tok);
        }
        if (!token_well_formed(tok, end)) {
            return NULL;
        }
        const cJSON *next = NULL;
        if (cJSON_IsObject(cur)) {
            for (const cJSON *m = cur->child; m != NULL; m = m->next) {
                if (m->string != NULL && token_matches(m->string, tok, end)) {
                    next = m;
                    break;
                }
            }
        } else if (cJSON_IsArray(cur)) {
            size_t idx;
            if (!token_index(tok, end, &idx)) {
                return NULL;
            }
            next = cur->child;
            while (next != NULL && idx > 0) {
                next = next->next;
                idx--;
            }
        }
        if (next == NULL) {
            return NULL;
        }
        cur = next;
        p = end;
    }
    return cur;
}

/* ------------------------------------------------------------------------ */
/* Strings                                                                  */
/* ------------------------------------------------------------------------ */

typedef enum str_verdict {
    STR_OK,
    STR_BAD_UTF8,
    STR_CONTROL,
    STR_TOO_LONG
} str_verdict;

/*
 * One pass over a NUL-terminated string: UTF-8 well-formedness (no
 * overlongs, no surrogates, nothing above U+10FFFF), control characters and
 * length. Continuation bytes are never 0, so the terminator stops any
 * sequence it cuts short and nothing past it is read.
 */
static str_verdict scan_string(const char *str, size_t max, bool is_key)
{
    const unsigned char *s = (const unsigned char *)str;
    const unsigned char *start = s;
    for (;;) {
        if ((size_t)(s - start) > max) {
            return STR_TOO_LONG;
        }
        unsigned char c = *s;
        if (c == 0) {
            return STR_OK;
        }
        if (c < 0x80) {
            if (c < 0x20 && (is_key || (c != '\t' && c != '\n' && c != '\r'))) {
                return STR_CONTROL;
            }
            s++;
            continue;
        }
        unsigned char lo = 0x80;
        unsigned char hi = 0xBF;
        int more;
        if (c >= 0xC2 && c <= 0xDF) {
            more = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            more = 2;
            if (c == 0xE0) {
                lo = 0xA0; /* shorter form exists: overlong */
            } else if (c == 0xED) {
                hi = 0x9F; /* U+D800..U+DFFF are surrogates */
            }
        } else if (c >= 0xF0 && c <= 0xF4) {
            more = 3;
            if (c == 0xF0) {
                lo = 0x90;
            } else if (c == 0xF4) {
                hi = 0x8F; /* above U+10FFFF */
            }
        } else {
            return STR_BAD_UTF8;
        }
        s++;
        if (*s < lo || *s > hi) {
            return STR_BAD_UTF8;
        }
        for (int i = 1; i < more; i++) {
            s++;
            if ((*s & 0xC0) != 0x80) {
                return STR_BAD_UTF8;
            }
        }
        s++;
    }
}

/* ------------------------------------------------------------------------ */
/* pc_json_check                                                            */
/* ------------------------------------------------------------------------ */

/* One open container on the explicit stack. */
typedef struct check_frame {
    const cJSON *container;
    const cJSON *child; /* the child being visited */
    size_t index;       /* position of child, for array pointers */
} check_frame;

/* The JSON Pointer of the node being visited, cut short with "/..." when it
 * would not fit in an error message. */
static void frame_pointer(const check_frame *st, int top, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (int i = 0; i < top; i++) {
        char num[24];
        const char *tok;
        if (cJSON_IsArray(st[i].container)) {
            snprintf(num, sizeof(num), "%zu", st[i].index);
            tok = num;
        } else {
            tok = st[i].child->string;
        }
        if (!pc_json_pointer_append(buf, cap, tok)) {
            size_t len = strlen(buf);
            if (cap - len > 4) {
                memcpy(buf + len, "/...", 5);
            }
            return;
        }
    }
}

static pc_err check_fail(pc_error *e, pc_err err, const check_frame *st,
                         int top, const char *extra_key, const char *what)
{
    if (e == NULL) {
        return err;
    }
    char ptr[ERR_POINTER_MAX];
    frame_pointer(st, top, ptr, sizeof(ptr));
    if (extra_key != NULL &&
        !pc_json_pointer_append(ptr, sizeof(ptr), extra_key)) {
        size_t len = strlen(ptr);
        if (sizeof(ptr) - len > 4) {
            memcpy(ptr + len, "/...", 5);
        }
    }
    return pc_error_set(e, err, NULL, "%s at \"%s\"", what, ptr);
}

static int cmp_key_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first key of obj (k members, all with valid keys) that repeats an
 * earlier one, or NULL. */
static const char *find_duplicate_key(const cJSON *obj, size_t k)
{
    if (k > DUP_PAIRWISE_MAX) {
        const char **keys = pc_malloc(k * sizeof(*keys));
        if (keys != NULL) {
            size_t n = 0;
            for (const cJSON *m = obj->child; m != NULL; m = m->next) {
                keys[n++] = m->string;
            }
            qsort(keys, n, sizeof(*keys), cmp_key_ptr);
            const char *dup = NULL;
            for (size_t i = 1; i < n && dup == NULL; i++) {
                if (strcmp(keys[i - 1], keys[i]) == 0) {
                    dup = keys[i];
                }
            }
            pc_free(keys);
            return dup;
        }
        /* Out of memory: the pairwise scan below needs none and gives the
         * same answer, only slower, so pc_json_check never fails for lack
         * of memory. */
    }
    for (const cJSON *m = obj->child; m != NULL; m = m->next) {
        for (const cJSON *o = m->next; o != NULL; o = o->next) {
            if (strcmp(m->string, o->string) == 0) {
                return o->string;
            }
        }
    }
    return NULL;
}

static const char *string_problem(str_verdict v)
{
    switch (v) {
    case STR_BAD_UTF8:
        return "invalid UTF-8";
    case STR_CONTROL:
        return "control character";
    case STR_TOO_LONG:
        return "string too long";
    case STR_OK:
        break;
    }
    return "invalid string";
}

/*
 * Validate an object's keys and count its members before any member is
 * visited, so a huge object is refused on its size before its keys are
 * sorted, and so error pointers are only ever built from valid keys.
 */
static pc_err check_object_keys(const cJSON *obj, const pc_json_limits *lim,
                                size_t nodes, const check_frame *st, int top,
                                pc_error *e)
{
    size_t k = 0;
    for (const cJSON *m = obj->child; m != NULL; m = m->next) {
        k++;
        if (nodes + k > lim->max_nodes) {
            return check_fail(e, PC_ERR_LIMIT, st, top, NULL,
                              "too many values");
        }
        if (m->string == NULL) {
            return check_fail(e, PC_ERR_INVALID, st, top, NULL,
                              "object member without a key");
        }
        str_verdict v = scan_string(m->string, lim->max_string, true);
        if (v != STR_OK) {
            char what[64];
            snprintf(what, sizeof(what), "key of member %zu: %s", k - 1,
                     string_problem(v));
            return check_fail(e,
                              v == STR_TOO_LONG ? PC_ERR_LIMIT : PC_ERR_INVALID,
                              st, top, NULL, what);
        }
    }
    if (k > 1) {
        const char *dup = find_duplicate_key(obj, k);
        if (dup != NULL) {
            return check_fail(e, PC_ERR_INVALID, st, top, dup, "duplicate key");
        }
    }
    return PC_OK;
}

pc_err pc_json_check(const cJSON *doc, const pc_json_limits *lim, pc_error *e)
{
    pc_json_limits l;
    pc_json_limits_resolve(lim, &l);
    if (doc == NULL) {
        return pc_error_set(e, PC_ERR_INVALID, NULL, "no document");
    }

    check_frame st[PC_JSON_DEPTH_CEILING + 1];
    int top = 0; /* open containers above cur; cur is st[top-1].child */
    size_t nodes = 0;
    const cJSON *cur = doc;
    for (;;) {
        nodes++;
        if (nodes > l.max_nodes) {
            return check_fail(e, PC_ERR_LIMIT, st, top, NULL,
                              "too many values");
        }
        switch (cur->type & 0xFF) {
        case cJSON_False:
        case cJSON_True:
        case cJSON_NULL:
            break;
        case cJSON_Number:
            if (!isfinite(cur->valuedouble)) {
                return check_fail(e, PC_ERR_INVALID, st, top, NULL,
                                  "non-finite number");
            }
            break;
        case cJSON_String: {
            if (cur->valuestring == NULL) {
                return check_fail(e, PC_ERR_INVALID, st, top, NULL,
                                  "string node without a value");
            }
            str_verdict v = scan_string(cur->valuestring, l.max_string, false);
            if (v != STR_OK) {
                return check_fail(
                    e, v == STR_TOO_LONG ? PC_ERR_LIMIT : PC_ERR_INVALID, st,
                    top, NULL, string_problem(v));
            }
            break;
        }
        case cJSON_Array:
        case cJSON_Object:
            /* Refusing here, before descending, is what keeps a
             * million-deep tree as cheap as a 33-deep one. */
            if (top + 1 > l.max_depth) {
                return check_fail(e, PC_ERR_LIMIT, st, top, NULL,
                                  "nesting too deep");
            }
            if (cJSON_IsObject(cur)) {
                pc_err err = check_object_keys(cur, &l, nodes, st, top, e);
                if (err != PC_OK) {
                    return err;
                }
            }
            if (cur->child != NULL) {
                st[top].container = cur;
                st[top].child = cur->child;
                st[top].index = 0;
                top++;
                cur = cur->child;
                continue;
            }
            break;
        default:
            return check_fail(e, PC_ERR_INVALID, st, top, NULL,
                              "not a JSON value (raw or invalid node)");
        }

        /* Move to the next sibling, closing finished containers. */
        while (top > 0 && st[top - 1].child->next == NULL) {
            top--;
        }
        if (top == 0) {
            return PC_OK;
        }
        st[top - 1].child = st[top - 1].child->next;
        st[top - 1].index++;
        cur = st[top - 1].child;
    }
}

pc_err pc_json_parse(const char *text, size_t len, const pc_json_limits *lim,
                     cJSON **out, pc_error *e)
{
    if (out == NULL || (text == NULL && len > 0)) {
        return pc_error_set(e, PC_ERR_INVALID, NULL, "NULL argument");
    }
    pc_json_limits l;
    pc_json_limits_resolve(lim, &l);
    if (len > l.max_bytes) {
        return pc_error_set(e, PC_ERR_LIMIT, NULL,
                            "text of %zu bytes exceeds the limit of %zu", len,
                            l.max_bytes);
    }
    if (len == 0) {
        return pc_error_set(e, PC_ERR_INVALID, NULL, "empty text");
    }
    const char *value_end = NULL;
    pc_err err = pc__jsontext_scan(text, len, &l, &value_end, e);
    if (err != PC_OK) {
        return err;
    }

    const char *parse_end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(text, len, &parse_end, 0);
    if (doc == NULL) {
        /* The scan accepts only text cJSON can parse, so this is one of
         * cJSON's allocations failing. */
        return pc_error_set(e, PC_ERR_NOMEM, NULL,
                            "out of memory while parsing");
    }
    if (parse_end != value_end) {
        /* Would mean the scan and cJSON disagree about the grammar; refuse
         * rather than store something only one of them understood. */
        cJSON_Delete(doc);
        return pc_error_set(e, PC_ERR_INVALID, NULL,
                            "parser disagreement at byte %zu",
                            (size_t)(parse_end - text));
    }
    err = pc_json_check(doc, &l, e);
    if (err != PC_OK) {
        cJSON_Delete(doc);
        return err;
    }
    *out = doc;
    return PC_OK;
}

/* ------------------------------------------------------------------------ */
/* pc_json_equal                                                            */
/* ------------------------------------------------------------------------ */

/*
 * One open container pair. For arrays a and b walk in step; for objects a
 * walks the left members, b is the right object and hint the right member
 * after the last one matched, which makes same-order objects linear.
 */
typedef struct eq_frame {
    const cJSON *a;
    const cJSON *b;
    const cJSON *hint;
    const cJSON *left; /* the left object, for the final key check */
    bool object;
    bool in_order; /* every left member so far matched at its position */
} eq_frame;

#define EQ_STACK_LOCAL 64

static const cJSON *member_lookup(const cJSON *obj, const char *key,
                                  const cJSON *hint)
{
    if (key == NULL) {
        return NULL;
    }
    if (hint != NULL && hint->string != NULL &&
        strcmp(hint->string, key) == 0) {
        return hint;
    }
    for (const cJSON *m = obj->child; m != NULL; m = m->next) {
        if (m->string != NULL && strcmp(m->string, key) == 0) {
            return m;
        }
    }
    return NULL;
}

static size_t count_children(const cJSON *c)
{
    size_t n = 0;
    for (const cJSON *m = c->child; m != NULL; m = m->next) {
        n++;
    }
    return n;
}

/* Whether every key of b occurs in a. Only needed when the forward walk
 * went out of order, which is how duplicated left keys would show. */
static bool keys_covered(const cJSON *a, const cJSON *b)
{
    for (const cJSON *m = b->child; m != NULL; m = m->next) {
        if (member_lookup(a, m->string, NULL) == NULL) {
            return false;
        }
    }
    return true;
}

/* Compare two nodes without looking at their children. *open is set when
 * both are non-empty containers of the same type whose children still need
 * comparing. */
static bool shallow_equal(const cJSON *a, const cJSON *b, bool *open)
{
    *open = false;
    int t = a->type & 0xFF;
    if (t != (b->type & 0xFF)) {
        return false;
    }
    switch (t) {
    case cJSON_Number:
        return a->valuedouble == b->valuedouble;
    case cJSON_String:
    case cJSON_Raw:
        if (a->valuestring == NULL || b->valuestring == NULL) {
            return a->valuestring == b->valuestring;
        }
        return strcmp(a->valuestring, b->valuestring) == 0;
    case cJSON_Array:
    case cJSON_Object:
        if (a->child == NULL || b->child == NULL) {
            return a->child == b->child;
        }
        if (t == cJSON_Object && count_children(a) != count_children(b)) {
            return false;
        }
        *open = true;
        return true;
    default:
        return true; /* false, true, null, or two invalid nodes */
    }
}

bool pc_json_equal(const cJSON *a, const cJSON *b)
{
    if (a == NULL || b == NULL) {
        return a == b;
    }
    eq_frame local[EQ_STACK_LOCAL];
    eq_frame *st = local;
    size_t cap = EQ_STACK_LOCAL;
    size_t top = 0;
    bool result = false;
    const cJSON *x = a;
    const cJSON *y = b;

    for (;;) {
        bool open;
        if (!shallow_equal(x, y, &open)) {
            goto done;
        }
        if (open) {
            if (top == cap) {
                /* Deeper than phasecast ever stores; grow rather than
                 * recurse. There is no way to report running out of memory
                 * here, so that case answers "not equal". */
                eq_frame *bigger = pc_malloc(2 * cap * sizeof(*bigger));
                if (bigger == NULL) {
                    goto done;
                }
                memcpy(bigger, st, top * sizeof(*st));
                if (st != local) {
                    pc_free(st);
                }
                st = bigger;
                cap *= 2;
            }
            eq_frame *f = &st[top++];
            f->object = cJSON_IsObject(x);
            f->a = x->child;
            f->left = x;
            if (f->object) {
                f->b = y;
                y = member_lookup(y, f->a->string, y->child);
                f->in_order = y == f->b->child;
                f->hint = y != NULL ? y->next : NULL;
                if (y == NULL) {
                    goto done;
                }
            } else {
                f->b = y->child;
                y = f->b;
            }
            x = f->a;
            continue;
        }

        /* x and y are equal; find the next pair. */
        for (;;) {
            if (top == 0) {
                result = true;
                goto done;
            }
            eq_frame *f = &st[top - 1];
            f->a = f->a->next;
            if (f->object) {
                if (f->a == NULL) {
                    if (!f->in_order && !keys_covered(f->left, f->b)) {
                        goto done;
                    }
                    top--;
                    continue;
                }
                y = member_lookup(f->b, f->a->string, f->hint);
                if (y == NULL) {
                    goto done;
                }
                f->in_order = f->in_order && y == f->hint;
                f->hint = y->next;
                x = f->a;
                break;
            }
            f->b = f->b->next;
            if (f->a == NULL || f->b == NULL) {
                if (f->a != f->b) {
                    goto done;
                }
                top--;
                continue;
            }
            x = f->a;
            y = f->b;
            break;
        }
    }
done:
    if (st != local) {
        pc_free(st);
    }
    return result;
}
