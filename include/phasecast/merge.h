/*
 * phasecast/merge.h - RFC 7386 JSON Merge Patch.
 *
 * A patch object merges member by member into a target: null deletes the
 * member, an object merges recursively (a non-object target becomes {}
 * first), anything else (arrays included) replaces the member whole. A
 * non-object patch replaces the whole target. This module applies patches to
 * trees the caller owns; the room's atomic, recorded update path is in
 * room.h and is the only way to change a room. Functions are pure and may be
 * called from any thread on trees the caller owns.
 */
#ifndef PHASECAST_MERGE_H
#define PHASECAST_MERGE_H

#include <cjson/cJSON.h>

#include "phasecast/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * pc_merge_patch - apply patch to a copy of target (NULL target means
 * "absent", as in the RFC). On success *out receives the result, which the
 * caller frees with cJSON_Delete; target and patch are not modified. On
 * failure *out is untouched. Neither input is validated (use pc_json_check
 * first on untrusted trees). Returns PC_OK, PC_ERR_INVALID (patch NULL) or
 * PC_ERR_NOMEM.
 */
pc_err pc_merge_patch(const cJSON *target, const cJSON *patch, cJSON **out);

/*
 * pc_merge_patch_inplace - apply patch to target itself. target must be an
 * object and patch an object. The call is atomic: on any failure target is
 * exactly as before. Returns PC_OK, PC_ERR_INVALID or PC_ERR_NOMEM.
 */
pc_err pc_merge_patch_inplace(cJSON *target, const cJSON *patch);

#ifdef __cplusplus
}
#endif

#endif /* PHASECAST_MERGE_H */
