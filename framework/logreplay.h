/*
 * logreplay.h - reading a change log back: frames, records, and the replay
 * that rebuilds the state (internal; the public API is
 * phasecast/changelog.h).
 *
 * Reading is strict and says exactly where it stopped. A frame is either
 * valid (length in range, CRC-32C matches), or the log has a problem at
 * that frame's offset, classified as:
 *
 *   TORN    - the damaged frame is not the first (the base record),
 *             nothing valid follows it and what follows is at most one
 *             frame long: the signature of a crash during the last append
 *             (a short file, or a tail of zeros or garbage);
 *   CORRUPT - anything else: a valid frame somewhere after the damage, a
 *             bad file header, a damaged base record (the header and the
 *             base record are written to a temporary file, synced and
 *             renamed, so no crash tears them), or a valid frame whose
 *             record does not parse or does not replay (wrong seq, wrong
 *             phase, state checksum mismatch).
 *
 * The replay applies each change record's patch to the state of the base
 * record and recomputes the canonical checksum after every change; with a
 * history capacity it also rebuilds the last records (patch, inverse and
 * text), exactly as the room would have kept them.
 */
#ifndef PC_FRAMEWORK_LOGREPLAY_H
#define PC_FRAMEWORK_LOGREPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "phasecast/changelog.h"
#include "phasecast/error.h"

#include "digest.h"
#include "history.h"

/* Buffered reader over one log file. */
typedef struct pc__logreader {
    int fd;
    const char *path;
    uint64_t size;   /* file size when opened */
    uint64_t off;    /* offset of the next frame */
    char *win;       /* window on the file ... */
    uint64_t wstart; /* ... starting at this offset */
    size_t wlen;
    size_t wcap;
} pc__logreader;

/* Open path and check its header. Returns PC_OK, PC_ERR_NOT_FOUND (no such
 * file), PC_ERR_INVALID (not a log: rep says why, at offset 0), PC_ERR_IO,
 * PC_ERR_NOMEM. */
pc_err pc__logreader_open(pc__logreader *r, const char *path,
                          pc_changelog_report *rep);
/* The next frame's payload, borrowed until the next call: PC_OK; at a
 * clean end PC_ERR_NOT_FOUND; PC_ERR_INVALID with rep->problem, offset and
 * message set; PC_ERR_IO; PC_ERR_NOMEM. *at receives the frame's offset. */
pc_err pc__logreader_next(pc__logreader *r, const char **payload, size_t *len,
                          uint64_t *at, pc_changelog_report *rep);
void pc__logreader_close(pc__logreader *r);

/* The limits a record's payload is parsed with: wide enough for any
 * record phasecast writes (a frame's size, the depth ceiling). */
pc_json_limits pc__record_limits(void);

/* Most distinct phase names a log may use. */
#define PC__REPLAY_PHASES_MAX 256

/* The state rebuilt so far. */
typedef struct pc__replay {
    cJSON *doc; /* {"phase", "data"} after seq; owned */
    char game[65];
    char room[65];
    uint64_t base_seq;
    uint64_t seq;
    int64_t time_ms;
    uint64_t seed;
    uint64_t base_draws; /* PRNG draws at the base record ... */
    uint64_t prng[4];    /* ... and its state there */
    uint64_t draws;      /* draws as of seq */
    int64_t deadline_ms; /* the phase timer's as of the last record, -1 */
    /* The log ends inside the current phase's entry (a transition into
     * it, or the room's start): no change record followed it, only
     * entry_timers timer records (at most 2 counted). The entry arms the
     * phase's own timeout_ms, if it has one, in the first timer record
     * (pc__room_timer_enter); any other is the enter callback's, so with
     * the game at hand recovery can tell whether the enter callback
     * logged anything before the crash. */
    bool entry_open;
    int entry_timers;
    const char *entry_from; /* the phase it left (interned); NULL: the
                               room's start */
    uint64_t changes;       /* change records replayed (after the base) */
    uint64_t cause_first;   /* the last change record's cause's first_seq
                               (0: it had none, or there was none) */
    uint64_t sum;
    uint64_t bytes;
    uint64_t records;
    pc__history hist;  /* the last records, up to its capacity */
    pc__digest digest; /* doc's container hashes, for O(patch) checksums */
    char *names[PC__REPLAY_PHASES_MAX]; /* the records' phase names */
    size_t nnames;
} pc__replay;

void pc__replay_init(pc__replay *rp, size_t history_capacity);
void pc__replay_fini(pc__replay *rp);

/* Apply one record. Returns PC_OK, PC_ERR_INVALID (the record is wrong:
 * why says how), PC_ERR_NOMEM. On failure rp is unusable except for
 * pc__replay_fini when the error is PC_ERR_NOMEM, and unchanged
 * otherwise. */
pc_err pc__replay_record(pc__replay *rp, const char *payload, size_t len,
                         pc_error *why);

/* Read and replay the whole log at path into rp, filling rep. Returns
 * PC_OK (clean), PC_ERR_INVALID (torn or corrupt: rp holds the valid
 * prefix's state if rep->records > 0), PC_ERR_NOT_FOUND, PC_ERR_IO or
 * PC_ERR_NOMEM. */
pc_err pc__log_read(const char *path, pc__replay *rp, pc_changelog_report *rep);

/* The base seqs of the archived segments of the log at path (files
 * <path>.<decimal seq>), in increasing order: *out receives an array the
 * caller frees with pc_free (NULL when there are none) and *count its
 * length; an unreadable directory has none. Returns PC_OK or
 * PC_ERR_NOMEM (nothing returned). */
pc_err pc__segments_list(const char *path, uint64_t **out, size_t *count);

#endif
