/*
 * phasecast/timeline.h - a room's recorded changes read back for time
 * travel: the engine behind the inspector, usable by any program.
 *
 * A timeline is a read-only copy of a room's history, from one of two
 * sources: a change log on disk (the room's <id>.pclog, chained with the
 * archived segments <id>.pclog.<base_seq> that compaction keeps, so the
 * whole history is there, not just the last keyframe's), or records handed
 * to it one by one (what a live server's `inspect` request returns). Both
 * are records in the change log's shape (docs/durability.md#records), and
 * both are checked as recovery checks them: contiguous seqs, phases that
 * follow, and the state checksum recomputed after every change. A
 * timeline never writes to a file and never locks one, so it can read a
 * log while the server appends to it; pc_timeline_refresh picks up what
 * was appended since.
 *
 * The states that can be given back are those at seqs first .. last,
 * where first is the seq of the oldest base record (0 for a log kept
 * whole). A timeline keeps every change's metadata and patch, and a copy
 * of the whole state every so many changes, so state_at costs at most that
 * many patch applications wherever seq is. Not thread-safe: one thread at
 * a time per timeline.
 */
#ifndef PHASECAST_TIMELINE_H
#define PHASECAST_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "phasecast/change.h"
#include "phasecast/changelog.h"
#include "phasecast/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pc_timeline pc_timeline;

/* One recorded change, as the timeline holds it. Every pointer is borrowed
 * until the next call on the timeline other than the const accessors
 * below (pc_timeline_first_seq, pc_timeline_last_seq, pc_timeline_room,
 * pc_timeline_game). */
typedef struct pc_timeline_entry {
    uint64_t seq;
    int64_t time_ms; /* room clock, ms since the Unix epoch */
    pc_change_kind kind;
    const char *phase; /* after the change */
    const char *prev;  /* before the change */
    const char *reason;
    const char *file;
    int line;
    const char *func;
    uint64_t draws;     /* PRNG draws when the change was made */
    uint64_t sum;       /* checksum of the whole state after */
    uint64_t bytes;     /* canonical length of the whole state after */
    const cJSON *patch; /* the merge patch applied to "data" */
    size_t patch_bytes; /* canonical length of patch */
    const cJSON *cause; /* what made the change (see change.h), or NULL
                           when the record does not say */
    pc_event event;     /* kind PC_CHANGE_EVENT: the event, whatever its
                           audience (a timeline is the server's view);
                           else all zero */
} pc_timeline_entry;

/* pc_timeline_open_log flags. */
#define PC_TIMELINE_NO_SEGMENTS 1u /* read path alone, not its segments */

/*
 * pc_timeline_open_log - read the log at path (normally <dir>/<id>.pclog)
 * and, unless flags has PC_TIMELINE_NO_SEGMENTS, the archived segments
 * <path>.<base_seq> next to it, oldest first, into a new timeline. Every
 * frame is checked and every change replayed. A torn last record is not an
 * error: the server may be writing it; the timeline ends before it and
 * pc_timeline_refresh tries it again. On success *out receives the
 * timeline (caller frees with pc_timeline_free). Any thread.
 * Returns PC_OK, PC_ERR_NOT_FOUND (no such file), PC_ERR_INVALID (not a
 * log, corrupt, or segments that do not chain: rep, if not NULL, and err
 * say which file and where), PC_ERR_IO or PC_ERR_NOMEM.
 */
pc_err pc_timeline_open_log(const char *path, unsigned flags, pc_timeline **out,
                            pc_changelog_report *rep, pc_error *err);

/*
 * pc_timeline_new - an empty timeline of room `room` (game `game`) whose
 * first state is `state` (the whole document, {"phase","data"}; copied)
 * at seq `base_seq`, with checksum `sum` (checked). Records are added with
 * pc_timeline_add. On success *out receives it (caller frees with
 * pc_timeline_free). Returns PC_OK, PC_ERR_INVALID (a NULL or malformed
 * argument, or sum is not state's checksum) or PC_ERR_NOMEM.
 */
pc_err pc_timeline_new(const char *room, const char *game, uint64_t base_seq,
                       const cJSON *state, uint64_t sum, pc_timeline **out,
                       pc_error *err);

/*
 * pc_timeline_add - append one record in the change log's JSON shape
 * (borrowed; a change record with seq = last + 1, or a timer record, which
 * is accepted and ignored). It is checked as a log's record is: seq,
 * phases, and the state's checksum after its patch. Returns PC_OK,
 * PC_ERR_INVALID (malformed, out of order, or a checksum mismatch: err
 * says which; the timeline is unchanged) or PC_ERR_NOMEM.
 */
pc_err pc_timeline_add(pc_timeline *tl, const cJSON *record, pc_error *err);

/*
 * pc_timeline_refresh - for a timeline opened from a log: read what was
 * appended since the last read, following a compaction (the file replaced
 * by a new one whose base is at or before the last seq read). *added (may
 * be NULL) receives the number of changes added. A torn tail is left for
 * the next call. Returns PC_OK, PC_ERR_STATE (not opened from a log),
 * PC_ERR_INVALID (corrupt, or the file was replaced by one that does not
 * continue this history), PC_ERR_IO or PC_ERR_NOMEM; on an error nothing
 * is added.
 */
pc_err pc_timeline_refresh(pc_timeline *tl, size_t *added, pc_error *err);

/* pc_timeline_free - release the timeline. NULL is ignored. */
void pc_timeline_free(pc_timeline *tl);

const char *pc_timeline_room(const pc_timeline *tl);
const char *pc_timeline_game(const pc_timeline *tl);
/* The seq of the oldest state held (the first base record's). */
uint64_t pc_timeline_first_seq(const pc_timeline *tl);
/* The seq of the newest change held (first when it holds none). */
uint64_t pc_timeline_last_seq(const pc_timeline *tl);

/*
 * pc_timeline_set_seed - for a timeline made with pc_timeline_new: the
 * room's PRNG seed and the draws it had made at the first seq (a live
 * server's inspect reply says both). A log's timeline knows them from its
 * base record.
 */
void pc_timeline_set_seed(pc_timeline *tl, uint64_t seed, uint64_t draws);

/*
 * pc_timeline_prng_at - the room's PRNG seed and the number of values it
 * had drawn right after seq (first .. last): what pc_room_restore needs
 * to continue the room from there. Returns false (nothing written) for a
 * seq not held or when the source did not say.
 */
bool pc_timeline_prng_at(pc_timeline *tl, uint64_t seq, uint64_t *seed,
                         uint64_t *draws);

/*
 * pc_timeline_get - the change with this seq (first + 1 .. last). Returns
 * PC_OK, PC_ERR_NOT_FOUND or PC_ERR_NOMEM.
 */
pc_err pc_timeline_get(pc_timeline *tl, uint64_t seq, pc_timeline_entry *out);

/*
 * pc_timeline_state_at - the whole state document right after seq (first
 * .. last). *out receives a new tree the caller frees with cJSON_Delete.
 * Returns PC_OK, PC_ERR_NOT_FOUND or PC_ERR_NOMEM.
 */
pc_err pc_timeline_state_at(pc_timeline *tl, uint64_t seq, cJSON **out);

/*
 * pc_timeline_diff - pc_json_diff (diff.h) of the states right after a and
 * b. *out is freed by the caller with cJSON_Delete. Returns what
 * pc_timeline_state_at and pc_json_diff return.
 */
pc_err pc_timeline_diff(pc_timeline *tl, uint64_t a, uint64_t b, cJSON **out);

/*
 * pc_timeline_touches - whether the change at seq wrote the value at JSON
 * Pointer `pointer` (into the whole document: "/phase", "/data/scores/p2"):
 * its patch sets, replaces or deletes that path, an ancestor of it or
 * something inside it, or it is a transition and pointer is "/phase" or
 * "" . Decided from the patch alone. false for a seq not held or a
 * malformed pointer.
 */
bool pc_timeline_touches(pc_timeline *tl, uint64_t seq, const char *pointer);

/*
 * pc_timeline_find - the most recent change with seq <= at_or_before (0:
 * the last) at which the value at `pointer` became equal to value
 * (pc_json_equal): equal right after it, not equal right before. value
 * NULL finds when the path disappeared. Call again with *seq_out - 1 for
 * earlier ones. Returns PC_OK, PC_ERR_INVALID (pointer or seq_out NULL,
 * pointer malformed), PC_ERR_NOT_FOUND or PC_ERR_NOMEM.
 */
pc_err pc_timeline_find(pc_timeline *tl, const char *pointer,
                        const cJSON *value, uint64_t at_or_before,
                        uint64_t *seq_out);

/*
 * pc_timeline_blame - the most recent change with seq <= at_or_before (0:
 * the last) that changed the value at `pointer`: different right after it
 * from right before it (appearing and disappearing count). Call again with
 * *seq_out - 1 for the history of earlier changes. Returns PC_OK,
 * PC_ERR_INVALID, PC_ERR_NOT_FOUND (no change in the timeline did) or
 * PC_ERR_NOMEM.
 */
pc_err pc_timeline_blame(pc_timeline *tl, const char *pointer,
                         uint64_t at_or_before, uint64_t *seq_out);

#ifdef __cplusplus
}
#endif

#endif /* PHASECAST_TIMELINE_H */
