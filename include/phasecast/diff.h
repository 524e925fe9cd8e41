/*
 * phasecast/diff.h - field-level differences between two JSON documents.
 *
 * The diff is a list of leaf-level edits, each naming a JSON Pointer, for
 * people and tools (the inspector's "diff A B"); it is not a patch format and
 * is not meant to be applied. Objects are compared member by member and
 * arrays element by element, so changing one cell of a board reports one
 * path. Pure; any thread, on trees the caller owns.
 */
#ifndef PHASECAST_DIFF_H
#define PHASECAST_DIFF_H

#include <cjson/cJSON.h>

#include "phasecast/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * pc_json_diff - the differences from a to b as a JSON array of objects
 * {"path": POINTER, "old": VALUE, "new": VALUE}, in document order:
 * object members by key in canonical (bytewise) order, array elements by
 * numeric index (so "/9" comes before "/10"); "old" is absent when the path was
 * added and "new" absent when it was removed. Equal documents give []. A member
 * whose type changes (object to number, say) is reported once at its own path.
 * On success *out receives the array (caller frees with cJSON_Delete).
 * Returns PC_OK, PC_ERR_INVALID (NULL input, too deep) or PC_ERR_NOMEM.
 */
pc_err pc_json_diff(const cJSON *a, const cJSON *b, cJSON **out);

#ifdef __cplusplus
}
#endif

#endif /* PHASECAST_DIFF_H */
