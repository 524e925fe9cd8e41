/*
 * phasecast/json.h - checked JSON: limits, parsing of untrusted text,
 * validation, exact equality and JSON Pointer lookup.
 *
 * cJSON is permissive (duplicate keys, NUL-truncated strings, invalid UTF-8,
 * trailing bytes, unbounded recursion when printing) and its cJSON_Compare is
 * exponential; this module is the gate every document passes before phasecast
 * stores it. It does not canonicalise (see canon.h) or patch (see merge.h).
 * All functions are pure and may be called from any thread on trees the
 * caller owns.
 */
#ifndef PHASECAST_JSON_H
#define PHASECAST_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "phasecast/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Hard ceiling on max_depth: cJSON's own parser stops at 1000 and its
 * printer recurses without bound, so phasecast never stores deeper trees. */
#define PC_JSON_DEPTH_CEILING 128

/*
 * Limits applied to every patch, every state and every parsed text.
 * Depth counts containers: {} is depth 1, {"a":{}} depth 2. A zero member
 * means "use the default" (see pc_json_limits_default).
 */
typedef struct pc_json_limits {
    int max_depth;          /* default 32, at most PC_JSON_DEPTH_CEILING */
    size_t max_string;      /* bytes in one string or key, default 65536 */
    size_t max_nodes;       /* values in one document, default 100000 */
    size_t max_bytes;       /* canonical size of one patch, default 1 MiB */
    size_t max_state_bytes; /* canonical size of a room state, default 4 MiB */
} pc_json_limits;

/* pc_json_limits_default - the default limits. */
pc_json_limits pc_json_limits_default(void);

/*
 * pc_json_limits_resolve - copy in into out with every zero member replaced
 * by its default and max_depth clamped to PC_JSON_DEPTH_CEILING. in may be
 * NULL (all defaults).
 */
void pc_json_limits_resolve(const pc_json_limits *in, pc_json_limits *out);

/*
 * pc_json_check - validate doc against lim (NULL = defaults). Checks: depth,
 * node count, finite numbers, strings and keys valid UTF-8 without NUL,
 * keys without control characters, string values without control
 * characters other than tab, LF and CR, no duplicate keys, no cJSON_Raw or
 * invalid nodes. Iterative (no recursion), so any tree cJSON can build is
 * safe to check.
 * Returns PC_OK, PC_ERR_INVALID or PC_ERR_LIMIT; on error e (may be NULL)
 * names the offending JSON Pointer.
 */
pc_err pc_json_check(const cJSON *doc, const pc_json_limits *lim, pc_error *e);

/*
 * pc_json_parse - parse exactly len bytes of untrusted text (need not be
 * NUL-terminated; bytes after the value other than whitespace are an
 * error), then pc_json_check it. The text must be strict RFC 8259 JSON,
 * checked before cJSON sees it: leading zeros, "1.", a byte-order mark,
 * raw control characters in strings, bad or lone-surrogate \u escapes,
 * NUL bytes and whitespace other than space, tab, LF and CR are refused,
 * although cJSON alone would accept some of them. On success *out receives the
 * tree; the caller frees it with cJSON_Delete. Text longer than lim->max_bytes
 * is refused before parsing. Returns PC_OK, PC_ERR_INVALID, PC_ERR_LIMIT or
 * PC_ERR_NOMEM.
 */
pc_err pc_json_parse(const char *text, size_t len, const pc_json_limits *lim,
                     cJSON **out, pc_error *e);

/*
 * pc_json_equal - exact structural equality: same types, numbers equal as
 * doubles (==), strings byte-equal, objects equal as key sets regardless
 * of order, arrays element-wise. Linear in the size of the documents
 * (objects with many keys cost O(k^2) comparisons of keys). Either side may
 * be NULL; NULL equals only NULL. Trees deeper than 64 levels need a heap
 * stack; if that allocation fails the answer is false.
 */
bool pc_json_equal(const cJSON *a, const cJSON *b);

/*
 * pc_json_pointer_get - the node at an RFC 6901 JSON Pointer ("" is the
 * document, "/data/board/4"; "~0" and "~1" escape '~' and '/'). Array
 * indices are decimal without leading zeros. Returns NULL when the path
 * does not exist or is malformed. The result is borrowed from doc.
 */
const cJSON *pc_json_pointer_get(const cJSON *doc, const char *pointer);

/*
 * pc_json_pointer_append - append "/" plus token, escaped per RFC 6901, to
 * the NUL-terminated pointer in buf (capacity cap). Returns false, leaving
 * buf unchanged, when it does not fit.
 */
bool pc_json_pointer_append(char *buf, size_t cap, const char *token);

#ifdef __cplusplus
}
#endif

#endif /* PHASECAST_JSON_H */
