/*
 * replay_report.h - how phasecast-inspect import reports its outcome:
 * one summary line, or the first divergence with the fields that differ
 * and the field-level diff of the two states; or the same as one JSON
 * document with --json (docs/inspector.md, "Replaying an export").
 * It only prints what replay.c found.
 */
#ifndef PC_INSPECT_REPLAY_REPORT_H
#define PC_INSPECT_REPLAY_REPORT_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "out.h"

/* What a replay found. Pointers are borrowed for the call. */
typedef struct insp_replay_summary {
    const char *room;
    const char *game;
    uint64_t from;           /* the first seq replayed */
    uint64_t to;             /* the last seq found equal (from - 1: none) */
    uint64_t stimuli;        /* stimuli fed to the room */
    uint64_t changes;        /* changes found equal */
    uint64_t applied_from;   /* seqs applied as recorded, not replayed ... */
    uint64_t applied_to;     /* ... (0: none) */
    const cJSON *divergence; /* the first divergence, or NULL */
} insp_replay_summary;

/* Print s on o->f (and a note about applied seqs on o->err). */
void insp_replay_report(const insp_out *o, const insp_replay_summary *s);

#endif
