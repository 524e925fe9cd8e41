/*
 * phasecast/history.h - the room's bounded change history and time travel.
 *
 * A room keeps its last N committed changes (pc_room_options.
 * history_capacity, default PC_HISTORY_DEFAULT, 0 disables). Each record
 * holds the change (see change.h) and an inverse merge patch, so the exact
 * state at any retained seq is rebuilt by walking back from the current
 * state; memory grows with the size of the patches, never with records
 * times state size. The oldest record is evicted when the ring is full.
 *
 * The states that can be given back are those at seqs first-1 .. current,
 * where first is the oldest retained seq ("first-1" is the state the oldest
 * retained change was applied to). Costs are O(distance back) patch
 * applications. All functions are read-only on the room and must be called
 * on the room's thread. From a validator or an exit callback, where the
 * document holds a proposed state, state_at, find and diff return
 * PC_ERR_REENTRANT.
 */
#ifndef PHASECAST_HISTORY_H
#define PHASECAST_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "phasecast/change.h"
#include "phasecast/error.h"
#include "phasecast/room.h"

#ifdef __cplusplus
extern "C" {
#endif

/* pc_history_count - number of retained changes. */
size_t pc_history_count(const pc_room *room);

/* pc_history_capacity - the most changes the room retains. */
size_t pc_history_capacity(const pc_room *room);

/* pc_history_first_seq - the oldest retained seq, or 0 when none is. */
uint64_t pc_history_first_seq(const pc_room *room);

/*
 * pc_history_get - the retained change with this seq. *out is borrowed
 * until the record is evicted or the room is freed. Returns PC_OK,
 * PC_ERR_NOT_FOUND (seq 0 or in the future) or PC_ERR_EVICTED.
 */
pc_err pc_history_get(const pc_room *room, uint64_t seq, const pc_change **out);

/*
 * pc_history_state_at - the exact whole state document right after seq
 * (seq 0 is the state before the first change). *out receives a new tree
 * the caller frees with cJSON_Delete. Returns PC_OK, PC_ERR_NOT_FOUND
 * (future seq), PC_ERR_EVICTED or PC_ERR_NOMEM.
 */
pc_err pc_history_state_at(const pc_room *room, uint64_t seq, cJSON **out);

/*
 * pc_history_find - the most recent change with seq <= at_or_before (0
 * means "the current seq") at which the value at JSON Pointer `pointer`
 * (into the whole document, e.g. "/data/winner" or "/phase") became equal
 * to value (pc_json_equal): equal right after that seq and not equal right
 * before it. value NULL finds when the path disappeared. Call again with
 * *seq_out - 1 to walk further back. Returns PC_OK, PC_ERR_INVALID
 * (pointer or seq_out NULL), PC_ERR_NOT_FOUND (no such change
 * in the retained history) or PC_ERR_NOMEM.
 */
pc_err pc_history_find(const pc_room *room, const char *pointer,
                       const cJSON *value, uint64_t at_or_before,
                       uint64_t *seq_out);

/*
 * pc_history_diff - pc_json_diff of the states right after seqs a and b
 * (see diff.h for the shape). *out is freed by the caller with
 * cJSON_Delete. Returns what pc_history_state_at and pc_json_diff return.
 */
pc_err pc_history_diff(const pc_room *room, uint64_t a, uint64_t b,
                       cJSON **out);

#ifdef __cplusplus
}
#endif

#endif /* PHASECAST_HISTORY_H */
