/*
 * phasecast/canon.h - canonical JSON text and the 64-bit state checksum.
 *
 * Two equal documents (pc_json_equal) always give the same canonical bytes
 * and the same checksum, whatever the key order or the formatting of the
 * text they were parsed from. Both are specified in
 * docs/reference/canon.md precisely enough to reimplement in any language:
 *
 *  - no whitespace; object members sorted by key, bytewise (memcmp) order;
 *  - strings: '"' and '\' as \" and \\, U+0008/0009/000A/000C/000D as
 *    \b \t \n \f \r, other bytes below 0x20 as \u00xx (lowercase hex), all
 *    other bytes copied verbatim;
 *  - numbers: -0 as 0; an integral value with magnitude at most 2^53 as
 *    plain decimal digits (with '-' when negative); any other value as the
 *    C printf "%.{p}g" text for the smallest p in 1..17 that strtod reads
 *    back as the same double;
 *  - true, false, null as themselves;
 *  - checksum: structural. A scalar hashes its canonical text (FNV-1a 64,
 *    then the fmix64 finaliser); an array chains its elements' hashes in
 *    order; an object sums (mod 2^64) a mix of each member's key and value
 *    hashes, so member order never matters and no sorting is needed. A
 *    room or client replica therefore updates it after a patch by
 *    rehashing only the paths the patch touched.
 *
 * Documents must have passed pc_json_check (finite numbers, bounded depth).
 * Functions are pure and may be called from any thread on trees the caller
 * owns. This is not RFC 8785 (JCS) and does not claim to be.
 */
#ifndef PHASECAST_CANON_H
#define PHASECAST_CANON_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "phasecast/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * pc_canon_print - the canonical text of doc. On success *out receives a
 * NUL-terminated string the caller frees with pc_free, and *len (if not
 * NULL) its length. Returns PC_OK, PC_ERR_INVALID (NULL, non-finite number,
 * invalid node, depth over PC_JSON_DEPTH_CEILING) or PC_ERR_NOMEM.
 */
pc_err pc_canon_print(const cJSON *doc, char **out, size_t *len);

/*
 * pc_canon_checksum - the structural checksum of doc, computed from
 * scratch without materialising the text and without allocating. *len (if
 * not NULL) receives the canonical length. Returns PC_OK or
 * PC_ERR_INVALID.
 */
pc_err pc_canon_checksum(const cJSON *doc, uint64_t *sum, size_t *len);

/*
 * pc_fnv1a64 - FNV-1a 64 of n bytes, continuing from h (pass
 * PC_FNV1A64_INIT to start); the first step of a scalar's hash.
 */
#define PC_FNV1A64_INIT UINT64_C(0xcbf29ce484222325)
uint64_t pc_fnv1a64(uint64_t h, const void *data, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* PHASECAST_CANON_H */
