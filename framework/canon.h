/*
 * canon.h - the pieces of the structural state checksum (internal; the
 * public API is phasecast/canon.h, the definition docs/reference/canon.md).
 *
 * The checksum of a value is built from the checksums of its parts, so a
 * cache of container hashes (digest.c) can update a document's checksum
 * after a merge patch by recombining only what the patch touched. These
 * are the combining steps and a full walk that reports every container it
 * hashes. They allocate nothing. The client library's replica uses them
 * too (through digest.h), which is why they are not static.
 */
#ifndef PC_FRAMEWORK_CANON_H
#define PC_FRAMEWORK_CANON_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "phasecast/error.h"

/* pc__canon_mix - the 64-bit finaliser every hash step ends with. */
uint64_t pc__canon_mix(uint64_t x);

/* pc__canon_member - the contribution of one object member, from the
 * hashes of its key (a string) and of its value. */
uint64_t pc__canon_member(uint64_t key_hash, uint64_t value_hash);

/* pc__canon_object - an object's hash from the wrapping sum of its
 * members' contributions. */
uint64_t pc__canon_object(uint64_t member_sum);

/* pc__canon_key - hash and canonical length (quotes included) of a
 * member name. Never fails. */
void pc__canon_key(const char *key, uint64_t *hash, size_t *len);

/*
 * pc__canon_visit - called for every tracked container a walk hashes: the
 * root (when it is a container) and, recursively, every object or array
 * that is a member of a tracked object. Array elements are not tracked:
 * merge patches replace arrays whole. acc is the member sum for objects
 * and the hash for arrays; len is the canonical length. A non-PC_OK
 * return stops the walk with that code.
 */
typedef pc_err (*pc__canon_visit)(const cJSON *node, uint64_t acc, size_t len,
                                  void *arg);

/*
 * pc__canon_hash - hash and canonical length of node (any JSON value),
 * calling visit (may be NULL) for each tracked container. Returns PC_OK or
 * PC_ERR_INVALID (what pc_canon_checksum refuses), or visit's error.
 */
pc_err pc__canon_hash(const cJSON *node, pc__canon_visit visit, void *arg,
                      uint64_t *hash, size_t *len);

/*
 * pc__canon_length - the canonical length of node alone, without hashing:
 * what pc_canon_checksum reports as *len, for size checks. Returns PC_OK
 * or PC_ERR_INVALID (what pc_canon_checksum refuses).
 */
pc_err pc__canon_length(const cJSON *node, size_t *len);

/* pc__json_plain_len - how many bytes of the NUL-terminated s, from its
 * start, a JSON string holds as they are: up to the NUL or the first byte
 * below 0x20, '"' or '\\'. */
size_t pc__json_plain_len(const char *s);

/*
 * pc__canon_append - append the canonical text of doc (what pc_canon_print
 * writes, without a NUL) to a growing buffer of *cap bytes, *len used,
 * allocated with pc_malloc/pc_realloc (*buf may be NULL with both 0),
 * adding at most max bytes. On PC_OK *len is the new length; on failure
 * *len is unchanged, though *buf and *cap may have grown (the caller still
 * frees *buf). Returns PC_OK, PC_ERR_LIMIT (the text is longer than max),
 * PC_ERR_INVALID (what pc_canon_print refuses) or PC_ERR_NOMEM. The room
 * prints each patch once with it; the broadcast writes patches straight
 * into its frame.
 */
pc_err pc__canon_append(const cJSON *doc, char **buf, size_t *len, size_t *cap,
                        size_t max);

#endif
