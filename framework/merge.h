/*
 * merge.h - internal merge-patch primitives behind the room's atomic update
 * and the history's time travel. Not installed; the public API is
 * phasecast/merge.h.
 *
 * The room changes its state in place and keeps, for every change, the
 * inverse merge patch that undoes it. These primitives build that inverse
 * while applying (moving the replaced nodes into it, so nothing old is
 * copied) and apply an inverse back without allocating, which is what
 * makes rollback after a late failure impossible to fail.
 *
 * Invariant they rely on: objects reachable from the root through object
 * members never contain null members (merge patches delete instead of
 * storing null), so an inverse patch can restore any old value exactly.
 */
#ifndef PC_FRAMEWORK_MERGE_H
#define PC_FRAMEWORK_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "phasecast/error.h"
#include "digest.h"

/*
 * Where deleted members stood, so a rollback puts them back in place. Undo
 * runs in exactly the reverse order of the apply, so this is a stack: each
 * deletion pushes the member's previous sibling, each restore pops it, and
 * at that moment the list is exactly as it was right after the deletion.
 */
typedef struct pc__merge_log {
    cJSON **prev; /* previous sibling at deletion time; NULL: was first */
    size_t n;
    size_t cap;
} pc__merge_log;

/* pc__merge_log_init - room for every deletion patch can make (its null
 * members). Returns PC_OK or PC_ERR_NOMEM. */
pc_err pc__merge_log_init(pc__merge_log *log, const cJSON *patch);
void pc__merge_log_fini(pc__merge_log *log);

/*
 * pc__merge_apply_tracked - apply patch (an object) to target (an object)
 * in place and append to undo (an empty object) the inverse patch: for each
 * patched member, null if it was absent, its old node (moved, not copied)
 * if it was replaced or deleted, or a nested inverse if both sides were
 * objects. log (initialised for this patch) records deletion positions.
 *
 * With a digest transaction tx (may be NULL), target must be the root its
 * digest caches: every member change is reported to tx, and *sum and *len
 * receive target's new checksum and canonical length; the cache itself
 * changes only when the caller commits tx. The patch must have no
 * duplicate keys (pc_json_check refuses them).
 *
 * On failure target has been restored exactly (member order included),
 * undo is empty again, tx must be aborted, and PC_ERR_NOMEM (or
 * PC_ERR_INVALID: a patch value the checksum refuses) is returned.
 */
pc_err pc__merge_apply_tracked(cJSON *target, const cJSON *patch, cJSON *undo,
                               pc__merge_log *log, pc__digest_txn *tx,
                               uint64_t *sum, size_t *len);

/*
 * A state document's change as one merge patch, {"data": patch, "phase":
 * name}, built in place around a data patch whose members it borrows
 * read-only (so it must not outlive patch). Applying it at the root lets
 * one tracked merge build the whole inverse and report both members to
 * the digest. The room and the client's replica both change state so.
 */
typedef struct pc__doc_patch {
    cJSON root;
    cJSON data;
    cJSON phase;
} pc__doc_patch;

/* pc__doc_patch_init - patch (an object, or NULL for none) under "data";
 * phase NULL leaves the phase alone. Never allocates. */
void pc__doc_patch_init(pc__doc_patch *dp, const cJSON *patch,
                        const char *phase);

/*
 * pc__merge_apply_consume - apply the inverse patch inv to target by moving
 * its nodes into target; inv is left empty. With the log of the apply that
 * built inv, deleted members return to their old positions; with NULL they
 * are appended. Never allocates, never fails.
 */
void pc__merge_apply_consume(cJSON *target, cJSON *inv, pc__merge_log *log);

/* Marks an inverse entry that means "the member was absent" (a null node
 * with this bit in its type), so that a member whose value was null is
 * restored, not deleted. cJSON's own flags stop at bit 9, and every cJSON
 * type test masks with 0xFF, so the node still reads as a null. */
#define PC__MERGE_ABSENT (1 << 12)

/*
 * pc__merge_into - apply patch (an object) to target (an object) in place
 * by copying; NOT atomic: on failure (false) target is partially patched and
 * the caller must discard it. For working copies only.
 */
bool pc__merge_into(cJSON *target, const cJSON *patch);

/* pc__json_link - append item (whose ->string is already set for object
 * members) to the end of parent's children; never allocates. */
void pc__json_link(cJSON *parent, cJSON *item);

/* pc__json_swap - put item in old's place among parent's children and
 * unlink old (not freed); never allocates. */
void pc__json_swap(cJSON *parent, cJSON *old, cJSON *item);

/* pc__json_named - give node (fresh, not a member of anything) the member
 * name key; returns node, or NULL after freeing it when node is NULL or the
 * copy fails. */
cJSON *pc__json_named(cJSON *node, const char *key);

/* pc__json_keyed - a new node of the given cJSON type (cJSON_Object or
 * cJSON_NULL) whose member name is a copy of key, or NULL. */
cJSON *pc__json_keyed(int type, const char *key);

#endif
