/*
 * changelog.c - the durable change log's writer: the room's journal,
 * fsync policies and compaction (see phasecast/changelog.h).
 *
 * The journal runs inside the room's update path, before the change is
 * committed. It encodes the record in memory first, so running out of
 * memory refuses the change with nothing written; then it writes the whole
 * frame with one write and, under PC_FSYNC_ALWAYS, fdatasyncs it. If the
 * write or the sync fails, the file is truncated back to where the frame
 * began (so a record the room never committed does not come back at the
 * next start), the failure is remembered, and the room fails. A failure to
 * truncate is reported too; recovery then sees a torn or complete last
 * record, an "in doubt" change exactly as with a crash after the sync and
 * before the reply.
 *
 * Compaction (a keyframe) replaces the file by one holding only a base
 * record with the state after the change just written: temporary file,
 * fsync, rename over the log, fsync of the directory. It runs in the same
 * journal call, after the record is written, because from there on the
 * room is certain to commit the change; a compaction that fails before the
 * rename is abandoned (the old file is intact and still complete) and
 * retried at the next change; one that fails after the rename leaves the
 * log unsure of its own directory entry, and fails the log.
 */
#include "phasecast/changelog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "changelog.h"
#include "failpoint.h"
#include "logfile.h"
#include "logreplay.h"
#include "prng.h"
#include "room.h"

/* everysec: the journal syncs by itself only when this long has passed
 * since the last sync. The host's own pc_changelog_sync, about once a
 * second, normally comes first; this is the net for a host that is late
 * (a busy loop), kept above the host's period so the two do not race and
 * put an fsync inside an update the host would have covered. */
#define EVERYSEC_MS 2000

struct pc_changelog {
    char path[PC_CHANGELOG_PATH_MAX];
    char tmp[PC_CHANGELOG_PATH_MAX];
    char dir[PC_CHANGELOG_PATH_MAX];
    int fd;
    pc_fsync_policy policy;
    uint64_t keyframe_every;
    uint64_t size;        /* bytes in the file that belong to the log */
    uint64_t since_base;  /* change records after the base record */
    uint64_t base_seq;    /* seq of the file's base record */
    size_t keep_segments; /* see pc_changelog_options */
    bool dirty;           /* written since the last sync */
    int64_t last_sync_ms; /* monotonic */
    pc_error failure;     /* err != PC_OK: the log refuses appends */
    pc__buf buf;          /* reused for every record */
    pc_changelog_stats stats;
    pc_changelog_observer_fn observer; /* NULL: none */
    void *observer_arg;
};

/* A monotonic clock in ns when log has an observer, else 0 (unread). */
static uint64_t observe_start(const pc_changelog *log)
{
    if (log->observer == NULL) {
        return 0;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Tell the observer, if any, that io took since t0. */
static void observe(const pc_changelog *log, pc_changelog_io io, uint64_t t0)
{
    if (log->observer != NULL) {
        uint64_t t1 = observe_start(log);
        log->observer(io, t1 > t0 ? t1 - t0 : 0, log->observer_arg);
    }
}

void pc_changelog_set_observer(pc_changelog *log, pc_changelog_observer_fn fn,
                               void *arg)
{
    log->observer = fn;
    log->observer_arg = arg;
}

void pc_changelog_options_init(pc_changelog_options *o)
{
    memset(o, 0, sizeof(*o));
    o->fsync = PC_FSYNC_EVERYSEC;
    o->keyframe_every = PC_CHANGELOG_KEYFRAME_DEFAULT;
    o->keep_segments = PC_CHANGELOG_KEEP_ALL;
}

const char *pc_fsync_policy_name(pc_fsync_policy p)
{
    switch (p) {
    case PC_FSYNC_ALWAYS:
        return "always";
    case PC_FSYNC_NONE:
        return "none";
    case PC_FSYNC_EVERYSEC:
        break;
    }
    return "everysec";
}

bool pc_fsync_policy_parse(const char *s, pc_fsync_policy *out)
{
    static const pc_fsync_policy all[] = {PC_FSYNC_ALWAYS, PC_FSYNC_EVERYSEC,
                                          PC_FSYNC_NONE};
    for (size_t i = 0; i < 3; i++) {
        if (s != NULL && strcmp(s, pc_fsync_policy_name(all[i])) == 0) {
            *out = all[i];
            return true;
        }
    }
    return false;
}

const char *pc_changelog_path(const pc_changelog *log)
{
    return log->path;
}

void pc_changelog_stats_get(const pc_changelog *log, pc_changelog_stats *out)
{
    *out = log->stats;
}

/* Fill base with what a base record of room holds: the state the room
 * shows now (inside the journal: the proposed one) as of seq. */
/* The base record of room at seq. entered is the change at seq when it is
 * being journaled (NULL otherwise): a transition's base falls inside the
 * new phase's entry, as does a base written before the room starts. */
static void base_of(const pc_room *room, const pc_change *entered, uint64_t seq,
                    uint64_t sum, uint64_t bytes, pc__base *base)
{
    const pc__prng *prng = pc__room_prng(room);
    base->game = pc_room_game(room)->name;
    base->room = pc_room_id(room);
    base->seq = seq;
    base->time_ms = pc_room_now_ms(room);
    base->seed = pc_room_seed(room);
    base->draws = prng->draws;
    memcpy(base->prng, prng->s, sizeof(base->prng));
    base->sum = sum;
    base->bytes = bytes;
    if (!pc_room_timeout_deadline(room, &base->deadline_ms)) {
        base->deadline_ms = -1;
    }
    base->state = pc_room_state(room);
    base->entering = !room->started ||
                     (entered != NULL && entered->kind == PC_CHANGE_TRANSITION);
    base->entering_from =
        room->started && entered != NULL ? entered->prev_phase : NULL;
}

/* Write a new file holding only a base record and make it the log. */
static pc_err publish_base(pc_changelog *log, const pc__base *base,
                           const char *fp_prefix, bool *renamed, pc_error *err)
{
    pc_err rv = pc__record_base(&log->buf, base);
    if (rv == PC_OK && log->buf.len - PC__FRAME_HEAD > PC_CHANGELOG_FRAME_MAX) {
        rv = PC_ERR_LIMIT;
    }
    if (rv != PC_OK) {
        *renamed = false;
        return pc_error_set(err, rv, NULL,
                            "cannot encode the base record of %s: %s",
                            log->path, pc_strerror(rv));
    }
    pc__frame_seal(&log->buf);
    int fd = -1;
    uint64_t size = 0;
    rv = pc__io_publish(log->dir, log->tmp, log->path, &log->buf, fp_prefix,
                        &fd, &size, renamed, err);
    if (*renamed) {
        if (log->fd >= 0) {
            close(log->fd);
        }
        log->fd = fd;
        log->size = size;
        log->since_base = 0;
        log->dirty = false;
        log->last_sync_ms = pc__mono_ms();
        log->stats.syncs++; /* the new file (its directory is not counted) */
    }
    return rv;
}

static pc_err fail_log(pc_changelog *log, pc_error *why, const pc_error *e)
{
    log->failure = *e;
    *why = *e;
    return PC_ERR_IO;
}

/* Undo a frame whose write or sync failed, so it cannot come back. */
static void cut_back(pc_changelog *log, pc_error *e)
{
    if (ftruncate(log->fd, (off_t)log->size) != 0) {
        size_t n = strlen(e->message);
        snprintf(e->message + n, sizeof(e->message) - n,
                 "; truncating it back failed too (%s): the change is in "
                 "doubt",
                 strerror(errno));
    }
}

/* Keep the file about to be replaced as <path>.<base seq>: a hard link
 * made under a temporary name and renamed over any segment of that name
 * (left by a crash between this and the compaction's rename: the file
 * now holds all of it and more). The directory sync of the compaction
 * that follows makes both names durable. */
static pc_err archive(pc_changelog *log, pc_error *err)
{
    char seg[PC_CHANGELOG_PATH_MAX];
    char tmp[PC_CHANGELOG_PATH_MAX];
    int n = snprintf(seg, sizeof(seg), "%s.%llu", log->path,
                     (unsigned long long)log->base_seq);
    int m = snprintf(tmp, sizeof(tmp), "%s.seg.tmp", log->path);
    if (n < 0 || n >= (int)sizeof(seg) || m < 0 || m >= (int)sizeof(tmp)) {
        return pc_error_set(err, PC_ERR_INVALID, NULL, "segment path too long");
    }
    (void)unlink(tmp);
    pc__fp fp = pc__failpoint("archive.link");
    if (fp != PC__FP_PASS || link(log->path, tmp) != 0) {
        int e = fp != PC__FP_PASS ? pc__failpoint_errno(fp) : errno;
        return pc_error_set(err, PC_ERR_IO, NULL, "link %s: %s", log->path,
                            strerror(e));
    }
    pc_err rv = pc__io_rename(tmp, seg, "archive.rename", err);
    if (rv != PC_OK) {
        (void)unlink(tmp);
        return rv;
    }
    log->stats.segments_archived++;
    return PC_OK;
}

/* Delete the oldest segments beyond keep_segments; failures are left for
 * the next compaction. */
static void prune(pc_changelog *log)
{
    if (log->keep_segments == PC_CHANGELOG_KEEP_ALL) {
        return;
    }
    uint64_t *seqs = NULL;
    size_t n = 0;
    if (pc__segments_list(log->path, &seqs, &n) != PC_OK) {
        return;
    }
    for (size_t i = 0; n > log->keep_segments && i < n - log->keep_segments;
         i++) {
        char seg[PC_CHANGELOG_PATH_MAX + 24];
        snprintf(seg, sizeof(seg), "%s.%llu", log->path,
                 (unsigned long long)seqs[i]);
        if (unlink(seg) == 0) {
            log->stats.segments_pruned++;
        }
    }
    pc_free(seqs);
}

pc_err pc__changelog_journal(pc_room *room, const pc_change *c, pc_error *why,
                             void *arg)
{
    pc_changelog *log = arg;
    if (log->failure.err != PC_OK) {
        *why = log->failure;
        return PC_ERR_IO;
    }
    uint64_t t0 = observe_start(log);
    size_t text_len = 0;
    const char *text = pc__room_patch_text(room, c->patch, &text_len);
    pc_err rv =
        pc__record_change(&log->buf, c, pc_room_draws(room), text, text_len);
    if (rv == PC_OK && log->buf.len - PC__FRAME_HEAD > PC_CHANGELOG_FRAME_MAX) {
        rv = PC_ERR_LIMIT;
    }
    if (rv != PC_OK) {
        rv = rv == PC_ERR_INVALID ? PC_ERR_IO : rv;
        return pc_error_set(why, rv,
                            rv == PC_ERR_LIMIT ? "limit_exceeded" : NULL,
                            "the record of seq %llu cannot be logged: %s",
                            (unsigned long long)c->seq, pc_strerror(rv));
    }
    pc__frame_seal(&log->buf);
    pc_error e = {0};
    rv = pc__io_write(log->fd, log->buf.p, log->buf.len, "log.write", log->path,
                      &e);
    bool sync = log->policy == PC_FSYNC_ALWAYS ||
                (log->policy == PC_FSYNC_EVERYSEC &&
                 pc__mono_ms() - log->last_sync_ms >= EVERYSEC_MS);
    if (rv == PC_OK && sync) {
        uint64_t s0 = observe_start(log);
        rv = pc__io_sync(log->fd, true, "log.fsync", log->path, &e);
        observe(log, PC_CHANGELOG_IO_FSYNC, s0);
        log->stats.syncs++;
        log->last_sync_ms = pc__mono_ms();
    }
    if (rv != PC_OK) {
        cut_back(log, &e);
        return fail_log(log, why, &e);
    }
    observe(log, PC_CHANGELOG_IO_APPEND, t0);
    log->size += log->buf.len;
    log->dirty = !sync;
    log->since_base++;
    log->stats.appends++;
    log->stats.bytes += log->buf.len;
    if (log->keyframe_every > 0 && log->since_base >= log->keyframe_every) {
        pc__base base;
        bool renamed;
        base_of(room, c, c->seq, c->checksum, c->state_bytes, &base);
        rv = log->keep_segments > 0 ? archive(log, &e) : PC_OK;
        renamed = false;
        if (rv == PC_OK) {
            rv = publish_base(log, &base, "compact", &renamed, &e);
        }
        if (rv == PC_OK || renamed) {
            log->base_seq = c->seq;
        }
        if (rv == PC_OK) {
            log->stats.compactions++;
            prune(log);
        } else if (renamed) {
            /* The change is in both files, so it stands; later ones could
             * land in a file whose name is not durable. */
            log->failure = e;
        } else {
            log->stats.compaction_failures++;
        }
    }
    return PC_OK;
}

void pc__changelog_timer(pc_room *room, int64_t deadline_ms, void *arg)
{
    pc_changelog *log = arg;
    if (log->failure.err != PC_OK) {
        return; /* the room's next change reports it */
    }
    pc_error e = {0};
    pc_err rv = pc__record_timer(&log->buf, pc_room_seq(room), deadline_ms);
    if (rv != PC_OK) {
        pc_error_set(&log->failure, rv, NULL,
                     "the phase timer after seq %llu cannot be logged: %s",
                     (unsigned long long)pc_room_seq(room), pc_strerror(rv));
        return;
    }
    pc__frame_seal(&log->buf);
    rv = pc__io_write(log->fd, log->buf.p, log->buf.len, "timer.write",
                      log->path, &e);
    bool sync = log->policy == PC_FSYNC_ALWAYS;
    if (rv == PC_OK && sync) {
        uint64_t s0 = observe_start(log);
        rv = pc__io_sync(log->fd, true, "timer.fsync", log->path, &e);
        observe(log, PC_CHANGELOG_IO_FSYNC, s0);
        log->stats.syncs++;
        log->last_sync_ms = pc__mono_ms();
    }
    if (rv != PC_OK) {
        cut_back(log, &e);
        log->failure = e;
        return;
    }
    log->size += log->buf.len;
    log->dirty = log->dirty || !sync;
    log->stats.bytes += log->buf.len;
}

pc_err pc_changelog_create(const pc_changelog_options *o, pc_room *room,
                           pc_changelog **out, pc_error *err)
{
    if (o == NULL || o->dir == NULL || room == NULL || out == NULL ||
        (unsigned)o->fsync > PC_FSYNC_NONE) {
        return pc_error_set(err, PC_ERR_INVALID, NULL,
                            "pc_changelog_create: bad arguments");
    }
    pc_changelog *log;
    pc_err rv = pc__changelog_new(o, pc_room_id(room), &log, err);
    if (rv != PC_OK) {
        return rv;
    }
    if (access(log->path, F_OK) == 0) {
        pc_error_set(err, PC_ERR_STATE, "log_exists",
                     "%s already exists: recover the room from it", log->path);
        pc_changelog_free(log);
        return PC_ERR_STATE;
    }
    /* A record nests the state one level deeper than the room does; the
     * reader's ceiling must still admit it. */
    if (room->limits.max_depth > PC_JSON_DEPTH_CEILING - 1) {
        pc_error_set(err, PC_ERR_LIMIT, "limit_exceeded",
                     "room %s allows JSON %d levels deep; a logged room "
                     "allows at most %d",
                     pc_room_id(room), room->limits.max_depth,
                     PC_JSON_DEPTH_CEILING - 1);
        pc_changelog_free(log);
        return PC_ERR_LIMIT;
    }
    pc__base base;
    bool renamed;
    base_of(room, NULL, pc_room_seq(room), pc_room_checksum(room), 0, &base);
    log->base_seq = base.seq;
    /* The size is not kept by the room; compute it with the checksum. */
    size_t bytes = 0;
    rv = pc_canon_checksum(base.state, &base.sum, &bytes);
    base.bytes = bytes;
    pc_error e = {0};
    if (rv != PC_OK) {
        pc_error_set(&e, rv, NULL, "cannot checksum room %s", pc_room_id(room));
    } else {
        rv = publish_base(log, &base, "create", &renamed, &e);
    }
    if (rv != PC_OK && renamed) {
        /* Only the directory sync failed: the file is in place but its name
         * may not be durable. Take it away again, so the log exists whole
         * or not at all and the caller may simply try again. */
        (void)unlink(log->path);
    }
    if (rv != PC_OK) {
        pc_changelog_free(log);
        if (err != NULL) {
            *err = e;
        }
        return rv;
    }
    pc_room_set_journal(room, pc__changelog_journal, pc__changelog_timer, log);
    *out = log;
    return PC_OK;
}

pc_err pc_changelog_sync(pc_changelog *log, pc_error *err)
{
    if (log->failure.err != PC_OK) {
        if (err != NULL) {
            *err = log->failure;
        }
        return PC_ERR_IO;
    }
    if (!log->dirty) {
        return PC_OK;
    }
    pc_error e = {0};
    uint64_t s0 = observe_start(log);
    pc_err rv = pc__io_sync(log->fd, true, "log.fsync", log->path, &e);
    observe(log, PC_CHANGELOG_IO_FSYNC, s0);
    log->stats.syncs++;
    log->last_sync_ms = pc__mono_ms();
    if (rv != PC_OK) {
        log->failure = e;
        if (err != NULL) {
            *err = e;
        }
        return rv;
    }
    log->dirty = false;
    return PC_OK;
}

void pc_changelog_free(pc_changelog *log)
{
    if (log == NULL) {
        return;
    }
    if (log->fd >= 0) {
        if (log->dirty && log->policy != PC_FSYNC_NONE &&
            log->failure.err == PC_OK) {
            (void)fdatasync(log->fd);
        }
        close(log->fd);
    }
    pc__buf_fini(&log->buf);
    pc_free(log);
}

pc_err pc__changelog_new(const pc_changelog_options *o, const char *id,
                         pc_changelog **out, pc_error *err)
{
    pc_changelog *log = pc_malloc(sizeof(*log));
    if (log == NULL) {
        return pc_error_set(err, PC_ERR_NOMEM, NULL, "out of memory");
    }
    memset(log, 0, sizeof(*log));
    log->fd = -1;
    log->policy = o->fsync;
    log->keyframe_every = o->keyframe_every;
    log->keep_segments = o->keep_segments;
    log->last_sync_ms = pc__mono_ms();
    if (!pc__path(log->path, o->dir, id, PC_CHANGELOG_SUFFIX) ||
        !pc__path(log->tmp, o->dir, id, PC_CHANGELOG_SUFFIX ".tmp") ||
        snprintf(log->dir, sizeof(log->dir), "%s", o->dir) >=
            (int)sizeof(log->dir)) {
        pc_free(log);
        return pc_error_set(err, PC_ERR_INVALID, NULL, "log path too long");
    }
    *out = log;
    return PC_OK;
}

void pc__changelog_adopt(pc_changelog *log, int fd, uint64_t size,
                         uint64_t base_seq, uint64_t since_base)
{
    log->fd = fd;
    log->base_seq = base_seq;
    log->size = size;
    log->since_base = since_base;
}

const char *pc__changelog_tmp(const pc_changelog *log)
{
    return log->tmp;
}

pc_err pc_changelog_record_text(const pc_room *room, uint64_t seq, char **out,
                                size_t *len)
{
    if (room == NULL || out == NULL || len == NULL) {
        return PC_ERR_INVALID;
    }
    const pc__record *r = pc__history_find_seq(pc__room_history(room), seq);
    if (r == NULL) {
        return PC_ERR_NOT_FOUND;
    }
    pc__buf b = {0};
    pc_err rv = pc__record_change(&b, &r->change, r->draws, NULL, 0);
    if (rv == PC_OK) {
        size_t n = b.len - PC__FRAME_HEAD;
        char *text = pc_malloc(n + 1);
        if (text == NULL) {
            rv = PC_ERR_NOMEM;
        } else {
            memcpy(text, b.p + PC__FRAME_HEAD, n);
            text[n] = '\0';
            *out = text;
            *len = n;
        }
    }
    pc__buf_fini(&b);
    return rv;
}
