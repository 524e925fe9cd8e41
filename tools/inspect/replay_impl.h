/*
 * replay_impl.h - the inside of one import (replay.c), shared with the
 * sink that compares the replayed changes with the export's records
 * (replay_check.c). Not used outside phasecast-inspect's import.
 */
#ifndef PC_INSPECT_REPLAY_IMPL_H
#define PC_INSPECT_REPLAY_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "phasecast/room.h"

#include "exportfile.h"

/* One import: the room being replayed and where the walk is. */
typedef struct replay {
    pc_room *room;
    int64_t now;   /* the room's clock */
    cJSON *expect; /* the state the export gives after the last
                      record compared */
    insp_export_reader rd;
    insp_export_rec next; /* the record after the current group ... */
    bool has_next;        /* ... when there is one */
    insp_export_rec *grp; /* the current stimulus' records */
    size_t ngrp;
    size_t capgrp;
    size_t got;            /* changes the room made for the current stimulus */
    uint64_t seq;          /* the last seq gathered into a group */
    bool gap;              /* the next record's seq skips some */
    cJSON *div;            /* the first divergence, or NULL */
    bool nomem;            /* the sink could not record what it saw */
    uint64_t stimuli;      /* stimuli injected */
    uint64_t changes;      /* changes found equal */
    uint64_t from;         /* the first seq replayed */
    uint64_t last_equal;   /* the last seq found equal */
    uint64_t applied_from; /* seqs applied as recorded (a stimulus that */
    uint64_t applied_to;   /* began before the export), 0 when none */
} replay;

/* The room's clock: rp->now (arg is the replay). */
int64_t insp_replay_clock(void *arg);

/* An event as JSON for a report (JSON null when there is none). */
cJSON *insp_replay_event(const pc_event *ev);

/* v as 16 lowercase hex digits, a new JSON string (NULL: out of memory). */
cJSON *insp_replay_hex(uint64_t v);

/* Add item (taken, may be NULL) to o as k; freed if cJSON cannot add it. */
void insp_replay_add_owned(cJSON *o, const char *k, cJSON *item);

/* Append {"field","expected","got"} to fields, taking exp and got;
 * false (nothing appended, both freed) on an allocation failure. */
bool insp_replay_add_field(cJSON *fields, const char *name, cJSON *exp,
                           cJSON *got);

/* Advance rp->expect by rec's patch and phase. */
pc_err insp_replay_advance(replay *rp, const insp_export_rec *rec);

/*
 * Record the divergence (only the first counts): problem, seq, the line
 * of its record (0: none), the stimulus' cause (may be NULL), fields
 * (taken; may be NULL) and, when with_diff, pc_json_diff of the expected
 * state against the room's.
 */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 8, 9)))
#endif
void insp_replay_diverge(replay *rp, const char *problem, uint64_t seq,
                         size_t line, const cJSON *cause, cJSON *fields,
                         bool with_diff, const char *fmt, ...);

/* The room's sink (arg is the replay): compares each change the room
 * commits with the export's record of the same seq. */
void insp_replay_on_change(pc_room *room, const pc_change *c, void *arg);

#endif /* PC_INSPECT_REPLAY_IMPL_H */
