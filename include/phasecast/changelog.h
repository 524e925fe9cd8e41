/*
 * phasecast/changelog.h - the durable change log: one append-only file per
 * room, from which a restarted server rebuilds the room.
 *
 * A pc_changelog is a room's journal (see pc_room_set_journal in room.h):
 * every change is written to the room's file, as a framed and checksummed
 * record, BEFORE the room commits it, and under PC_FSYNC_ALWAYS it is on
 * disk (fdatasync) before the room numbers it, hands it to its sinks or
 * answers the action that caused it. If the write or the sync fails, the
 * change is not committed and the room stops accepting changes; nothing the
 * room ever acknowledged is missing from the log. The file starts with a
 * base record holding everything needed to rebuild the room (game, room id,
 * seq, PRNG seed and position, the whole state); every keyframe_every
 * changes the file is compacted to a new base (write a temporary file,
 * fsync, rename, fsync the directory), which bounds recovery time.
 *
 * docs/durability.md specifies the byte layout, what each fsync policy
 * survives (and which of those claims are tested by crashing a real
 * server), the recovery rules and the operator commands. This module does
 * file I/O with POSIX calls but knows nothing of sockets or event loops: a
 * host that wants PC_FSYNC_EVERYSEC calls pc_changelog_sync about once a
 * second. It does not lock the directory: one process per log directory.
 * A pc_changelog belongs to its room's thread.
 */
#ifndef PHASECAST_CHANGELOG_H
#define PHASECAST_CHANGELOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "phasecast/error.h"
#include "phasecast/room.h"

#ifdef __cplusplus
extern "C" {
#endif

/* When appended records are forced to disk, like Redis's appendfsync. */
typedef enum pc_fsync_policy {
    PC_FSYNC_EVERYSEC = 0, /* at most about once a second (the default) */
    PC_FSYNC_ALWAYS = 1,   /* every record, before the change commits */
    PC_FSYNC_NONE = 2      /* never for appends: the kernel decides */
} pc_fsync_policy;

/* A log file's name is the room id plus this suffix, in the log dir. */
#define PC_CHANGELOG_SUFFIX ".pclog"
/* Largest frame payload: a bigger record is refused (PC_ERR_LIMIT). */
#define PC_CHANGELOG_FRAME_MAX ((size_t)16 << 20)
/* Default number of changes between keyframes (compactions). */
#define PC_CHANGELOG_KEYFRAME_DEFAULT 1000
/* Longest path the change log handles. */
#define PC_CHANGELOG_PATH_MAX 1024

/* keep_segments: keep every archived segment. */
#define PC_CHANGELOG_KEEP_ALL SIZE_MAX

/* Log settings; start from pc_changelog_options_init. */
typedef struct pc_changelog_options {
    const char *dir;         /* directory of the room files; must exist */
    pc_fsync_policy fsync;   /* default PC_FSYNC_EVERYSEC */
    uint64_t keyframe_every; /* compact after this many changes; 0 never */
    /* Compaction keeps the file it replaces as an archived segment,
     * <id>.pclog.<its base seq>, so the whole history stays readable
     * (timeline.h, the inspector); recovery never reads segments. This
     * many newest segments are kept, older ones deleted: default
     * PC_CHANGELOG_KEEP_ALL, 0 keeps none. */
    size_t keep_segments;
} pc_changelog_options;

/* pc_changelog_options_init - fill o with the defaults (dir NULL). */
void pc_changelog_options_init(pc_changelog_options *o);

/* pc_fsync_policy_name - "always", "everysec" or "none". */
const char *pc_fsync_policy_name(pc_fsync_policy p);

/* pc_fsync_policy_parse - the policy named s; false if s names none. */
bool pc_fsync_policy_parse(const char *s, pc_fsync_policy *out);

typedef struct pc_changelog pc_changelog;

/* Counters, for tests, benchmarks and operators; they only grow. */
typedef struct pc_changelog_stats {
    uint64_t appends;             /* change records written */
    uint64_t bytes;               /* bytes appended (frames) */
    uint64_t syncs;               /* fdatasync/fsync calls on the file */
    uint64_t compactions;         /* completed compactions (keyframes) */
    uint64_t compaction_failures; /* attempts abandoned before the rename */
    uint64_t segments_archived;   /* files kept as segments by compaction */
    uint64_t segments_pruned;     /* old segments deleted (keep_segments) */
} pc_changelog_stats;

/*
 * pc_changelog_create - start the log of room (normally a new room, before
 * pc_room_start) in o->dir, as <room id>.pclog, and install it as the
 * room's journal. The file is written to a temporary name, fsynced and
 * renamed, so it either exists whole, with its base record (the room's
 * current state and seq), or not at all. On success *out receives the log;
 * free it with pc_changelog_free after the room (or after removing it as
 * the room's journal). Room's thread. Returns PC_OK, PC_ERR_INVALID (bad
 * options, path too long), PC_ERR_STATE (a log for this room already
 * exists: recover it instead), PC_ERR_IO, PC_ERR_LIMIT or PC_ERR_NOMEM;
 * err (may be NULL) says what and where.
 */
pc_err pc_changelog_create(const pc_changelog_options *o, pc_room *room,
                           pc_changelog **out, pc_error *err);

/*
 * pc_changelog_free - sync what was written (unless the policy is
 * PC_FSYNC_NONE) and close the file. The room must no longer use the log
 * as its journal. NULL is ignored.
 */
void pc_changelog_free(pc_changelog *log);

/*
 * pc_changelog_sync - force what was appended to disk now (a no-op when
 * nothing was written since the last sync). Hosts using PC_FSYNC_EVERYSEC
 * call it about once a second. A failure is remembered: the room's next
 * change is refused and the room fails, since changes already acknowledged
 * may not be on disk. Returns PC_OK or PC_ERR_IO.
 */
pc_err pc_changelog_sync(pc_changelog *log, pc_error *err);

/* pc_changelog_path - the log's file; borrowed for the log's life. */
const char *pc_changelog_path(const pc_changelog *log);

/* pc_changelog_stats_get - copy the counters into *out. */
void pc_changelog_stats_get(const pc_changelog *log, pc_changelog_stats *out);

/* What a change-log observer is told about (pc_changelog_set_observer). */
typedef enum pc_changelog_io {
    PC_CHANGELOG_IO_APPEND = 0, /* one change record encoded and written,
                                   with its fdatasync when the policy syncs
                                   it then (compaction not included) */
    PC_CHANGELOG_IO_FSYNC = 1   /* one fdatasync of the log file, wherever
                                   it happens (append, phase timer record,
                                   pc_changelog_sync) */
} pc_changelog_io;

/* Told how long (CLOCK_MONOTONIC nanoseconds) one operation took. Runs on
 * the room's thread, inside the room's update for appends; it must not
 * call back into the room or the log. */
typedef void (*pc_changelog_observer_fn)(pc_changelog_io io, uint64_t ns,
                                         void *arg);

/*
 * pc_changelog_set_observer - call fn (NULL: none, the default) with arg
 * after every successful append and every fsync of log's file, whether it
 * succeeded or not, with the time it took. Hosts use it for latency
 * histograms (the server's /metrics). Without an observer the log reads no
 * clock for it. Room's thread.
 */
void pc_changelog_set_observer(pc_changelog *log, pc_changelog_observer_fn fn,
                               void *arg);

/* What reading a log found. */
typedef enum pc_changelog_problem {
    PC_CHANGELOG_CLEAN = 0,  /* every byte belongs to a valid record */
    PC_CHANGELOG_TORN = 1,   /* the last record is incomplete (a crash
                                during a write); what precedes is valid */
    PC_CHANGELOG_CORRUPT = 2 /* damage with valid data after it, a header
                                that is not a log's, a damaged base record
                                (it is never torn: it is written whole), or
                                a valid frame whose record does not
                                replay */
} pc_changelog_problem;

/* The outcome of reading, verifying or recovering one log. */
typedef struct pc_changelog_report {
    char path[PC_CHANGELOG_PATH_MAX];
    char room[PC_ROOM_ID_MAX + 1]; /* from the base record, "" if none */
    char game[65];
    uint64_t base_seq;    /* seq of the base record */
    uint64_t last_seq;    /* seq of the last valid record */
    uint64_t records;     /* valid records, the base included */
    uint64_t file_bytes;  /* size of the file as found */
    uint64_t valid_bytes; /* length of the longest valid prefix */
    pc_changelog_problem problem;
    uint64_t offset;   /* where the problem starts (== valid_bytes) */
    char message[256]; /* the problem, or "" */
    bool cut;          /* recovery cut the file at valid_bytes */
    bool stale_tmp;    /* recovery removed a leftover temporary file */
    char broken_path[PC_CHANGELOG_PATH_MAX]; /* copy kept before cutting */
} pc_changelog_report;

/*
 * pc_changelog_verify - read the log at path without changing it: check
 * the header and every frame's CRC-32C, parse every record, replay every
 * change and recompute every state checksum. *rep (required) describes
 * the log and the first problem. Any thread. Returns PC_OK (clean),
 * PC_ERR_INVALID (torn or corrupt: see rep->problem, offset, message),
 * PC_ERR_IO (cannot read) or PC_ERR_NOMEM.
 */
pc_err pc_changelog_verify(const char *path, pc_changelog_report *rep);

/* A game whose rooms can be recovered, and the arg its rooms get (as
 * pc_room_options.arg): what its callbacks need that the log does not
 * hold, such as configuration. */
typedef struct pc_changelog_game {
    const pc_game *game;
    void *arg;
} pc_changelog_game;

/* pc_changelog_recover flags. */
#define PC_CHANGELOG_REPAIR 1u /* cut a corrupt log at its valid prefix */

/*
 * pc_changelog_recover - rebuild room `id` from <o->dir>/<id>.pclog and
 * continue its log. The log is read and replayed as pc_changelog_verify
 * does. A torn last record is cut off (the file is truncated to its valid
 * prefix and synced) after the whole original is copied aside as
 * <id>.pclog.broken (or .broken.1, .broken.2, ...). A corrupt log stops
 * the recovery with PC_ERR_INVALID and rep naming the offset, unless flags
 * has PC_CHANGELOG_REPAIR, which cuts it like a torn one (dropping every
 * change after the damage). A leftover <id>.pclog.tmp is removed.
 *
 * The room is made with pc_room_restore (ropts may be NULL; its id is
 * replaced by id, its arg by the game's) from the game in games[0..ngames)
 * whose name the log records; its seq is the last record's, its PRNG where that
 * record left it, and its history holds the last records (up to its capacity).
 * The log is installed as its journal. The room is CREATED: attach sinks, then
 * pc_room_start (see pc_room_restore for timers). If the log ends inside a
 * phase's entry, after the change that entered it (or the log's creation,
 * before the room started) and before that phase's enter callback logged
 * anything, pc_room_start runs the enter callback (docs/durability.md,
 * "The restored room"). On success *room_out
 * and *log_out receive them (free the room first). Room's thread.
 * Returns PC_OK, PC_ERR_INVALID (corrupt, or a log of another room),
 * PC_ERR_NOT_FOUND (no such file, or no game of that name), PC_ERR_IO,
 * PC_ERR_NOMEM, or what pc_room_restore returns; err (may be NULL) names
 * the file and the problem.
 */
pc_err pc_changelog_recover(const pc_changelog_options *o, const char *id,
                            const pc_changelog_game *games, size_t ngames,
                            const pc_room_options *ropts, unsigned flags,
                            pc_room **room_out, pc_changelog **log_out,
                            pc_changelog_report *rep, pc_error *err);

/*
 * pc_changelog_record_text - the change record (docs/durability.md
 * "Records") of the change with this seq in the room's history, as
 * the log would write it: one line of JSON, whole state view, no
 * projection. A host that ships history to tools (the server's inspect
 * request) uses it so its records and the log's never differ. *out
 * receives a NUL-terminated text the caller frees with pc_free, *len its
 * length. Room's thread. Works on any room, logged or not: the text is
 * made from the room's history, which keeps what the record needs
 * (draws included). Returns PC_OK, PC_ERR_INVALID (a NULL argument),
 * PC_ERR_NOT_FOUND (seq not retained: 0, evicted or in the future),
 * PC_ERR_LIMIT (an integer beyond 2^53 in the change) or PC_ERR_NOMEM.
 */
pc_err pc_changelog_record_text(const pc_room *room, uint64_t seq, char **out,
                                size_t *len);

/* Called once per log file found by pc_changelog_list. */
typedef void (*pc_changelog_list_fn)(const char *id, void *arg);

/*
 * pc_changelog_list - call fn with the room id of every <id>.pclog in dir
 * (ids that are valid room ids only), in bytewise order. Any thread.
 * Returns PC_OK, PC_ERR_IO (cannot read dir) or PC_ERR_NOMEM.
 */
pc_err pc_changelog_list(const char *dir, pc_changelog_list_fn fn, void *arg,
                         pc_error *err);

#ifdef __cplusplus
}
#endif

#endif /* PHASECAST_CHANGELOG_H */
