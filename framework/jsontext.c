/*
 * jsontext.c - the strict RFC 8259 text scan that runs before cJSON sees
 * untrusted text (internal; the public entry point is pc_json_parse in
 * json.c, declared in phasecast/json.h).
 *
 * cJSON accepts far more than RFC 8259: leading zeros, raw control bytes,
 * "\u0000" silently truncating a string, \u escapes with non-hex digits
 * read as 0, a BOM and trailing bytes. This scan walks the raw bytes with
 * its own allocation-free, non-recursive grammar and refuses all of that,
 * so the text that reaches cJSON is a strict subset of what cJSON parses.
 * It does not build a tree, does not check UTF-8 (pc_json_check does that
 * on the tree, where the bytes arrive unchanged) and does not measure
 * string lengths.
 */
#include "jsontext.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "phasecast/error.h"
#include "phasecast/json.h"

/* Cursor over the raw text; never reads at or past end. */
typedef struct scanner {
    const unsigned char *start;
    const unsigned char *p;
    const unsigned char *end;
} scanner;

static pc_err scan_fail(const scanner *s, pc_error *e, const char *what)
{
    return pc_error_set(e, PC_ERR_INVALID, NULL, "syntax error at byte %zu: %s",
                        (size_t)(s->p - s->start), what);
}

/* RFC 8259 whitespace only; cJSON's "any byte <= 0x20" is wider. */
static void skip_ws(scanner *s)
{
    while (s->p < s->end &&
           (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')) {
        s->p++;
    }
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Read "XXXX" after "\u"; cJSON reads any non-hex digit as 0, so every one
 * of the four must be checked here. */
static bool read_hex4(scanner *s, unsigned *out)
{
    if (s->end - s->p < 4) {
        return false;
    }
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(s->p[i]);
        if (h < 0) {
            return false;
        }
        v = v * 16 + (unsigned)h;
    }
    s->p += 4;
    *out = v;
    return true;
}

/* Bytes a string scan must stop at: controls, '"' and '\\'. */
static const unsigned char str_special[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* A string starting at the opening quote. Raw bytes >= 0x80 are left to
 * pc_json_check, which sees them unchanged in the tree. */
static pc_err scan_str(scanner *s, pc_error *e)
{
    s->p++;
    for (;;) {
        /* The run of bytes that need no further look: most of a string. */
        while (s->p < s->end && !str_special[*s->p]) {
            s->p++;
        }
        if (s->p >= s->end) {
            return scan_fail(s, e, "unterminated string");
        }
        unsigned char c = *s->p;
        if (c == '"') {
            s->p++;
            return PC_OK;
        }
        if (c < 0x20) {
            return scan_fail(s, e,
                             c == 0 ? "NUL byte in string"
                                    : "raw control character in string");
        }
        if (c != '\\') {
            s->p++;
            continue;
        }
        s->p++;
        if (s->p >= s->end) {
            return scan_fail(s, e, "unterminated escape");
        }
        c = *s->p++;
        switch (c) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            continue;
        case 'u':
            break;
        default:
            s->p -= 2;
            return scan_fail(s, e, "invalid escape");
        }
        unsigned u;
        if (!read_hex4(s, &u)) {
            s->p -= 2;
            return scan_fail(s, e, "\\u needs four hex digits");
        }
        if (u == 0) {
            /* cJSON would store a NUL and silently cut the string there. */
            s->p -= 6;
            return scan_fail(s, e, "\\u0000 is not allowed");
        }
        if (u >= 0xDC00 && u <= 0xDFFF) {
            s->p -= 6;
            return scan_fail(s, e, "unpaired low surrogate");
        }
        if (u >= 0xD800 && u <= 0xDBFF) {
            unsigned lo;
            if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u') {
                s->p -= 6;
                return scan_fail(s, e, "unpaired high surrogate");
            }
            s->p += 2;
            if (!read_hex4(s, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
                s->p -= 8;
                return scan_fail(s, e, "unpaired high surrogate");
            }
        }
    }
}

static bool scan_digits(scanner *s)
{
    const unsigned char *from = s->p;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
        s->p++;
    }
    return s->p > from;
}

/* RFC 8259 number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static pc_err scan_number(scanner *s, pc_error *e)
{
    if (*s->p == '-') {
        s->p++;
    }
    if (s->p < s->end && *s->p == '0') {
        s->p++;
    } else if (!scan_digits(s)) {
        return scan_fail(s, e, "invalid number");
    }
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (!scan_digits(s)) {
            return scan_fail(s, e, "invalid number");
        }
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-')) {
            s->p++;
        }
        if (!scan_digits(s)) {
            return scan_fail(s, e, "invalid number");
        }
    }
    if (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
        return scan_fail(s, e, "leading zero in number");
    }
    return PC_OK;
}

static bool scan_literal(scanner *s, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0) {
        return false;
    }
    s->p += n;
    return true;
}

/* An object key and its colon, leaving the cursor at the value. */
static pc_err scan_key(scanner *s, pc_error *e)
{
    if (s->p >= s->end || *s->p != '"') {
        return scan_fail(s, e, "expected a string key");
    }
    pc_err err = scan_str(s, e);
    if (err != PC_OK) {
        return err;
    }
    skip_ws(s);
    if (s->p >= s->end || *s->p != ':') {
        return scan_fail(s, e, "expected ':'");
    }
    s->p++;
    skip_ws(s);
    return PC_OK;
}

/* Both entry points: whole is false for pc__jsontext_scan_value, which
 * stops at the end of the first value. Iterative; the only memory is one
 * flag per open container. */
static pc_err scan(const char *text, size_t len, const pc_json_limits *l,
                   bool whole, const char **value_end, size_t *values,
                   pc_error *e)
{
    scanner s = {(const unsigned char *)text, (const unsigned char *)text,
                 (const unsigned char *)text + len};
    bool is_object[PC_JSON_DEPTH_CEILING + 1];
    int depth = 0;
    size_t nodes = 0;
    pc_err err;

    skip_ws(&s);
    for (;;) {
        /* Expecting a value. */
        if (s.p >= s.end) {
            return scan_fail(&s, e, "expected a value");
        }
        if (++nodes > l->max_nodes) {
            return pc_error_set(e, PC_ERR_LIMIT, NULL,
                                "more than %zu values at byte %zu",
                                l->max_nodes, (size_t)(s.p - s.start));
        }
        unsigned char c = *s.p;
        if (c == '{' || c == '[') {
            if (depth + 1 > l->max_depth) {
                return pc_error_set(e, PC_ERR_LIMIT, NULL,
                                    "nesting deeper than %d at byte %zu",
                                    l->max_depth, (size_t)(s.p - s.start));
            }
            is_object[++depth] = c == '{';
            s.p++;
            skip_ws(&s);
            if (s.p < s.end && *s.p == (c == '{' ? '}' : ']')) {
                s.p++;
                depth--;
            } else if (c == '{') {
                if ((err = scan_key(&s, e)) != PC_OK) {
                    return err;
                }
                continue;
            } else {
                continue;
            }
        } else if (c == '"') {
            if ((err = scan_str(&s, e)) != PC_OK) {
                return err;
            }
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            if ((err = scan_number(&s, e)) != PC_OK) {
                return err;
            }
        } else if (!scan_literal(&s, "true") && !scan_literal(&s, "false") &&
                   !scan_literal(&s, "null")) {
            return scan_fail(&s, e, "expected a value");
        }

        /* After a complete value: close containers or move to the next
         * element. */
        for (;;) {
            if (depth == 0) {
                *value_end = (const char *)s.p;
                *values = nodes;
                if (!whole) {
                    return PC_OK;
                }
                skip_ws(&s);
                if (s.p != s.end) {
                    return scan_fail(&s, e, "unexpected bytes after the value");
                }
                return PC_OK;
            }
            skip_ws(&s);
            if (s.p >= s.end) {
                return scan_fail(&s, e, "unexpected end of text");
            }
            if (*s.p == ',') {
                s.p++;
                skip_ws(&s);
                if (is_object[depth] && (err = scan_key(&s, e)) != PC_OK) {
                    return err;
                }
                break;
            }
            if (*s.p == (is_object[depth] ? '}' : ']')) {
                s.p++;
                depth--;
                continue;
            }
            return scan_fail(&s, e,
                             is_object[depth] ? "expected ',' or '}'"
                                              : "expected ',' or ']'");
        }
    }
}

pc_err pc__jsontext_scan(const char *text, size_t len, const pc_json_limits *l,
                         const char **value_end, pc_error *e)
{
    size_t values;
    return scan(text, len, l, true, value_end, &values, e);
}

pc_err pc__jsontext_scan_value(const char *text, size_t len,
                               const pc_json_limits *l, const char **value_end,
                               size_t *values, pc_error *e)
{
    return scan(text, len, l, false, value_end, values, e);
}
