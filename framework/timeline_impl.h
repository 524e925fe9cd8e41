/*
 * timeline_impl.h - the inside of a pc_timeline, shared by the files that
 * implement phasecast/timeline.h: timeline.c (sources, states, diffs) and
 * timeline_path.c (which changes touched a path: touches, find, blame).
 * Not installed; nothing outside those files includes it.
 */
#ifndef PHASECAST_TIMELINE_IMPL_H
#define PHASECAST_TIMELINE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "phasecast/changelog.h"
#include "phasecast/timeline.h"
#include "logfile.h"
#include "logreplay.h"

/* Changes between two state copies. */
#define CHECKPOINT_EVERY 256

struct pc_timeline {
    pc__replay rp;
    uint64_t first;       /* seq of the oldest state held */
    uint64_t first_draws; /* PRNG draws at first */
    uint64_t seed;
    bool seed_known;
    cJSON **ckpt; /* ckpt[i]: the whole state at first + i * CHECKPOINT_EVERY */
    size_t nckpt;
    size_t ckpt_cap;
    cJSON *scratch; /* the last entry's cause, as JSON */
    /* A log source. */
    bool from_log;
    char path[PC_CHANGELOG_PATH_MAX];
    char cur[PC_CHANGELOG_PATH_MAX + 24]; /* the file r is on */
    pc__logreader r; /* on the live file, after the last frame read */
    bool reader_open;
    uint64_t skip_until; /* a file that starts inside the history read so
                            far: its records up to this seq are skipped */
};

/* pc__timeline_rec_at - the record of the change that made seq, or NULL
 * when seq is not a change the timeline holds (the oldest state held,
 * first, is not a change of it). */
const pc__record *pc__timeline_rec_at(const pc_timeline *tl, uint64_t seq);

#endif /* PHASECAST_TIMELINE_IMPL_H */
