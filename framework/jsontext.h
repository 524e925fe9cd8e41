/*
 * jsontext.h - the strict RFC 8259 scan of raw JSON text (internal, shared
 * by framework files only; the public API is phasecast/json.h).
 *
 * pc_json_parse runs this scan before handing text to cJSON, and relies on
 * its promise: text the scan accepts is text cJSON parses, to the same
 * end, so a cJSON failure afterwards can only be an allocation failure.
 */
#ifndef PC_FRAMEWORK_JSONTEXT_H
#define PC_FRAMEWORK_JSONTEXT_H

#include <stddef.h>

#include "phasecast/error.h"
#include "phasecast/json.h"

/*
 * pc__jsontext_scan - check that the len bytes at text (not NUL-terminated)
 * are one RFC 8259 value plus RFC whitespace, nested at most l->max_depth
 * deep with at most l->max_nodes values, with no "\u0000", bad \u escape,
 * lone surrogate or raw control byte in a string, and no byte that cJSON
 * would treat differently from the RFC. l must be resolved
 * (pc_json_limits_resolve). On PC_OK *value_end receives the end of the
 * value (before any trailing whitespace), which cJSON's parse end must
 * match. Returns PC_OK, PC_ERR_INVALID (syntax, with the byte offset in e)
 * or PC_ERR_LIMIT (depth or node count). Never allocates; any thread.
 */
pc_err pc__jsontext_scan(const char *text, size_t len, const pc_json_limits *l,
                         const char **value_end, pc_error *e);

/*
 * pc__jsontext_scan_value - the same checks on the one value that starts
 * at text, ending wherever that value ends: on PC_OK *value_end receives
 * its end (the bytes after it are not looked at) and *values how many
 * values it holds, itself included, as counted against l->max_nodes. For
 * readers that check a value inside a larger text they read themselves
 * (the client's frame decoder). Same returns as pc__jsontext_scan.
 */
pc_err pc__jsontext_scan_value(const char *text, size_t len,
                               const pc_json_limits *l, const char **value_end,
                               size_t *values, pc_error *e);

#endif
