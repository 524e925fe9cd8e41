/*
 * history.h - the room's bounded ring of change records (internal; the
 * public API is phasecast/history.h).
 *
 * Each record owns one block holding a read-only copy of the patch and its
 * strings, and the inverse patch that undoes the change. The ring grows by
 * doubling up to its capacity; pc__history_reserve is called before a
 * change commits so that pushing never allocates.
 */
#ifndef PC_FRAMEWORK_HISTORY_H
#define PC_FRAMEWORK_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "phasecast/change.h"
#include "phasecast/error.h"

/* One retained change. */
typedef struct pc__record {
    pc_change change;   /* its pointers point into the members below */
    const cJSON *patch; /* copy of the data patch, in block; or NULL */
    cJSON *inverse;     /* owned: merge patch turning state(seq) into
                           state(seq-1), over the whole document */
    void *block;        /* owned: the nodes and strings of the patch copy,
                           the cause's payload and the event's data, then
                           reason, file, func, the cause's and the event's
                           strings */
    uint64_t draws;     /* PRNG draws when the change was made, as its log
                           record says (the inspect request sends it) */
} pc__record;

/* The ring; embedded in the room. */
typedef struct pc__history {
    pc__record *ring;
    size_t allocated; /* slots in ring */
    size_t capacity;  /* most records retained */
    size_t first;     /* slot of the oldest record */
    size_t count;
} pc__history;

void pc__history_init(pc__history *h, size_t capacity);
void pc__history_fini(pc__history *h);
/* Make sure the next push needs no allocation. */
pc_err pc__history_reserve(pc__history *h);
/* Take ownership of rec's members, evicting the oldest record if full.
 * Requires a successful reserve (or capacity 0, which frees rec). */
void pc__history_push(pc__history *h, pc__record *rec);
/* The record with this seq, or NULL when not retained. */
const pc__record *pc__history_find_seq(const pc__history *h, uint64_t seq);
/*
 * pc__record_init - zero rec and give it one block with the reason, file
 * and func strings (change.reason/file/func point into it), a copy of
 * cause (NULL: none; its strings and payload in the block too), a copy of
 * event (NULL: none; change.event points into the block, its data JSON
 * null when event->data is NULL; always copied, since an event's data is
 * all it is) and, when copy_patch, a copy of patch (NULL: {}) in
 * rec->patch. The copies are laid out in the block: read them as any
 * cJSON tree, but never hand them to cJSON_Delete or change them. Returns
 * PC_OK or PC_ERR_NOMEM.
 */
pc_err pc__record_init(pc__record *rec, bool copy_patch, const cJSON *patch,
                       const char *reason, const char *file, const char *func,
                       const pc_cause *cause, const pc_event *event);
/* Free the members of a record that was never pushed. */
void pc__record_release(pc__record *rec);

#endif
