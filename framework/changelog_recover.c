/*
 * changelog_recover.c - verify a change log, rebuild a room from it, and
 * list the logs of a directory (see phasecast/changelog.h).
 *
 * Recovery is the reader plus three decisions. A torn last record is the
 * expected result of a crash during an append: the original file is first
 * copied aside (and the copy synced), then the log is truncated to its
 * longest valid prefix and synced, so nothing is thrown away that an
 * operator might want to look at. A corrupt log is not expected: the
 * damage has valid data after it, so cutting it would silently drop
 * changes clients may have seen; recovery refuses unless the operator
 * asked for the repair. A log whose base record is unreadable cannot be
 * recovered at all. A leftover temporary file is the trace of a creation
 * or compaction that crashed before its rename, so the log itself is whole
 * and the temporary file is deleted.
 */
#include "phasecast/changelog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "phasecast/alloc.h"
#include "changelog.h"
#include "logfile.h"
#include "logreplay.h"
#include "prng.h"
#include "room.h"

#define COPY_CHUNK ((size_t)64 << 10)

pc_err pc_changelog_verify(const char *path, pc_changelog_report *rep)
{
    memset(rep, 0, sizeof(*rep));
    pc__replay rp;
    pc__replay_init(&rp, 0);
    pc_err rv = pc__log_read(path, &rp, rep);
    pc__replay_fini(&rp);
    return rv;
}

/* Copy path to a new <path>.broken[.N] and sync the copy. */
static pc_err keep_broken(const char *path, char *out, pc_error *err)
{
    int dst = -1;
    for (int i = 0; i < 1000 && dst < 0; i++) {
        char suffix[32];
        snprintf(suffix, sizeof(suffix), i == 0 ? ".broken" : ".broken.%d", i);
        int n = snprintf(out, PC_CHANGELOG_PATH_MAX, "%s%s", path, suffix);
        if (n < 0 || n >= PC_CHANGELOG_PATH_MAX) {
            return pc_error_set(err, PC_ERR_INVALID, NULL, "path too long");
        }
        dst = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (dst < 0 && errno != EEXIST) {
            return pc_error_set(err, PC_ERR_IO, "log_io", "open %s: %s", out,
                                strerror(errno));
        }
    }
    int src = open(path, O_RDONLY | O_CLOEXEC);
    char *chunk = pc_malloc(COPY_CHUNK);
    pc_err rv = PC_OK;
    if (dst < 0 || src < 0 || chunk == NULL) {
        rv = chunk == NULL ? PC_ERR_NOMEM : PC_ERR_IO;
        pc_error_set(err, rv, NULL, "cannot copy %s aside: %s", path,
                     chunk == NULL ? "out of memory" : strerror(errno));
    }
    while (rv == PC_OK) {
        ssize_t k = read(src, chunk, COPY_CHUNK);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k < 0) {
            rv = pc_error_set(err, PC_ERR_IO, "log_io", "read %s: %s", path,
                              strerror(errno));
        } else if (k == 0) {
            break;
        } else {
            rv = pc__io_write(dst, chunk, (size_t)k, "broken.write", out, err);
        }
    }
    if (rv == PC_OK) {
        rv = pc__io_sync(dst, false, "broken.fsync", out, err);
    }
    pc_free(chunk);
    if (src >= 0) {
        close(src);
    }
    if (dst >= 0) {
        close(dst);
    }
    return rv;
}

/* Truncate path to its valid prefix and sync it. */
static pc_err cut(const char *path, uint64_t valid, pc_error *err)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)valid) != 0) {
        pc_error_set(err, PC_ERR_IO, "log_io", "truncate %s: %s", path,
                     strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return PC_ERR_IO;
    }
    pc_err rv = pc__io_sync(fd, false, "cut.fsync", path, err);
    close(fd);
    return rv;
}

/* Deal with a torn or corrupt log before it is continued. */
static pc_err handle_problem(const char *path, unsigned flags,
                             pc_changelog_report *rep, pc_error *err)
{
    if (rep->records == 0) {
        return pc_error_set(err, PC_ERR_INVALID, "log_corrupt",
                            "%s; the base record is unreadable, so the room "
                            "cannot be recovered",
                            rep->message);
    }
    if (rep->problem == PC_CHANGELOG_CORRUPT &&
        !(flags & PC_CHANGELOG_REPAIR)) {
        return pc_error_set(err, PC_ERR_INVALID, "log_corrupt",
                            "%s (repairing would cut the log at offset %llu, "
                            "dropping everything after seq %llu)",
                            rep->message, (unsigned long long)rep->valid_bytes,
                            (unsigned long long)rep->last_seq);
    }
    pc_err rv = keep_broken(path, rep->broken_path, err);
    if (rv == PC_OK) {
        rv = cut(path, rep->valid_bytes, err);
    }
    rep->cut = rv == PC_OK;
    return rv;
}

static const pc_changelog_game *find_game(const pc_changelog_game *games,
                                          size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (games[i].game != NULL && strcmp(games[i].game->name, name) == 0) {
            return &games[i];
        }
    }
    return NULL;
}

/* Point the replayed records' phase names at the game's own (they must
 * outlive the replay, as a room's records do). */
static pc_err own_phases(pc__replay *rp, const pc_game *game, const char *path,
                         pc_error *err)
{
    pc__history *h = &rp->hist;
    for (size_t i = 0; i < h->count; i++) {
        pc_change *c = &h->ring[(h->first + i) % h->allocated].change;
        const pc_phase *ph = pc__room_find_phase(game, c->phase);
        const pc_phase *prev = pc__room_find_phase(game, c->prev_phase);
        if (ph == NULL || prev == NULL) {
            return pc_error_set(err, PC_ERR_INVALID, "log_corrupt",
                                "%s: seq %llu names a phase that game %s "
                                "does not have",
                                path, (unsigned long long)c->seq, game->name);
        }
        c->phase = ph->name;
        c->prev_phase = prev->name;
    }
    return PC_OK;
}

/* Turn the replayed log into a room that continues it. */
static pc_err restore(const pc__replay *rp, const pc_changelog_game *game,
                      const pc_room_options *ropts, const char *id,
                      pc_room **out)
{
    pc_room_options o;
    if (ropts != NULL) {
        o = *ropts;
    } else {
        pc_room_options_init(&o);
    }
    o.id = id;
    o.arg = game->arg;
    pc_room_image img = {.state = rp->doc,
                         .seq = rp->seq,
                         .seed = rp->seed,
                         .draws = 0,
                         .timer = rp->deadline_ms >= 0,
                         .deadline_ms = rp->deadline_ms};
    pc_room *room;
    pc_err rv = pc_room_restore(game->game, &o, &img, &room);
    if (rv != PC_OK) {
        return rv;
    }
    pc__prng prng;
    memcpy(prng.s, rp->prng, sizeof(prng.s));
    prng.draws = rp->base_draws;
    pc__prng_skip(&prng, rp->draws - rp->base_draws);
    pc__room_set_prng(room, &prng);
    /* The log ends inside the current phase's entry, before its enter
     * callback logged anything (see pc__replay.entry_open): the restored
     * room finishes the entry when it starts. If the crash came even before
     * the arm of the phase's own timeout_ms was logged, that runs from the
     * restart, as a fresh entry's would. */
    const pc_phase *ph = pc__room_find_phase(game->game, pc_room_phase(room));
    int own = ph->timeout_ms > 0 && ph->timeout != NULL ? 1 : 0;
    if (rp->entry_open && rp->entry_timers <= own) {
        const pc_phase *from =
            rp->entry_from != NULL
                ? pc__room_find_phase(game->game, rp->entry_from)
                : NULL;
        if (rp->entry_from != NULL && from == NULL) {
            pc_room_free(room); /* a phase the game does not have */
            return PC_ERR_PHASE;
        }
        bool unlogged = rp->entry_timers < own;
        int64_t deadline =
            unlogged ? pc_room_now_ms(room) + ph->timeout_ms : rp->deadline_ms;
        pc__room_restore_entry(room, from != NULL ? from->name : NULL, deadline,
                               unlogged);
    }
    *out = room;
    return PC_OK;
}

pc_err pc_changelog_recover(const pc_changelog_options *o, const char *id,
                            const pc_changelog_game *games, size_t ngames,
                            const pc_room_options *ropts, unsigned flags,
                            pc_room **room_out, pc_changelog **log_out,
                            pc_changelog_report *rep, pc_error *err)
{
    if (o == NULL || o->dir == NULL || id == NULL || room_out == NULL ||
        log_out == NULL || rep == NULL) {
        return pc_error_set(err, PC_ERR_INVALID, NULL,
                            "pc_changelog_recover: bad arguments");
    }
    memset(rep, 0, sizeof(*rep));
    if (ropts != NULL && ropts->limits.max_depth > PC_JSON_DEPTH_CEILING - 1) {
        return pc_error_set(err, PC_ERR_LIMIT, "limit_exceeded",
                            "a logged room allows JSON at most %d levels "
                            "deep, not %d",
                            PC_JSON_DEPTH_CEILING - 1, ropts->limits.max_depth);
    }
    pc_changelog *log;
    pc_err rv = pc__changelog_new(o, id, &log, err);
    if (rv != PC_OK) {
        return rv;
    }
    const char *path = pc_changelog_path(log);
    rep->stale_tmp = unlink(pc__changelog_tmp(log)) == 0;
    {
        /* A segment link a crash left under its temporary name. */
        char seg_tmp[PC_CHANGELOG_PATH_MAX];
        if (snprintf(seg_tmp, sizeof(seg_tmp), "%s.seg.tmp", path) <
            (int)sizeof(seg_tmp)) {
            (void)unlink(seg_tmp);
        }
    }
    pc__replay rp;
    pc__replay_init(&rp, ropts != NULL ? ropts->history_capacity
                                       : PC_HISTORY_DEFAULT);
    pc_room *room = NULL;
    rv = pc__log_read(path, &rp, rep);
    /* Whose log it is comes first: a log of another room or of a game we
     * cannot run is refused untouched, even when its tail would be cut. */
    bool readable = rv == PC_OK || (rv == PC_ERR_INVALID && rp.records > 0);
    const pc_changelog_game *found = find_game(games, ngames, rp.game);
    const pc_game *game = found != NULL ? found->game : NULL;
    if (readable && strcmp(rp.room, id) != 0) {
        rv =
            pc_error_set(err, PC_ERR_INVALID, "log_corrupt",
                         "%s holds room \"%s\", not \"%s\"", path, rp.room, id);
    } else if (readable && game == NULL) {
        rv = pc_error_set(err, PC_ERR_NOT_FOUND, "unknown_game",
                          "%s: room %s plays \"%s\", a game this server does "
                          "not have",
                          path, id, rp.game);
    } else if (rv == PC_ERR_INVALID) {
        rv = handle_problem(path, flags, rep, err);
    } else if (rv != PC_OK) {
        pc_error_set(err, rv, rv == PC_ERR_NOT_FOUND ? "no_log" : NULL, "%s",
                     rv == PC_ERR_NOMEM ? "out of memory" : rep->message);
    }
    if (rv == PC_OK && (rv = own_phases(&rp, game, path, err)) != PC_OK) {
        /* err says which */
    } else if (rv == PC_OK &&
               (rv = restore(&rp, found, ropts, id, &room)) != PC_OK) {
        pc_error_set(err, rv, NULL,
                     "%s: cannot restore room %s at seq %llu: %s", path, id,
                     (unsigned long long)rp.seq, pc_strerror(rv));
    }
    int fd = -1;
    if (rv == PC_OK && (fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0) {
        rv = pc_error_set(err, PC_ERR_IO, "log_io", "open %s: %s", path,
                          strerror(errno));
    }
    if (rv == PC_OK && (rep->cut || rep->stale_tmp)) {
        rv = pc__io_sync_dir(o->dir, "recover.dirsync", err);
    }
    if (rv != PC_OK) {
        if (fd >= 0) {
            close(fd);
        }
        pc_room_free(room);
        pc_changelog_free(log);
        pc__replay_fini(&rp);
        return rv;
    }
    if (rp.hist.count > 0) {
        pc__room_adopt_history(room, &rp.hist);
    }
    pc__changelog_adopt(log, fd, rep->valid_bytes, rp.base_seq, rp.changes);
    pc__replay_fini(&rp);
    pc_room_set_journal(room, pc__changelog_journal, pc__changelog_timer, log);
    *room_out = room;
    *log_out = log;
    return PC_OK;
}

static bool valid_id(const char *s, size_t n)
{
    if (n == 0 || n > PC_ROOM_ID_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')) {
            return false;
        }
    }
    return true;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

pc_err pc_changelog_list(const char *dir, pc_changelog_list_fn fn, void *arg,
                         pc_error *err)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        return pc_error_set(err, PC_ERR_IO, "log_io", "opendir %s: %s", dir,
                            strerror(errno));
    }
    char **ids = NULL;
    size_t n = 0, cap = 0;
    pc_err rv = PC_OK;
    size_t sl = strlen(PC_CHANGELOG_SUFFIX);
    struct dirent *e;
    while (rv == PC_OK && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= sl || strcmp(e->d_name + len - sl, PC_CHANGELOG_SUFFIX) ||
            !valid_id(e->d_name, len - sl)) {
            continue;
        }
        if (n == cap) {
            size_t c2 = cap == 0 ? 16 : cap * 2;
            char **p = pc_realloc(ids, c2 * sizeof(*p));
            if (p == NULL) {
                rv = PC_ERR_NOMEM;
                break;
            }
            ids = p;
            cap = c2;
        }
        if ((ids[n] = pc_malloc(len - sl + 1)) == NULL) {
            rv = PC_ERR_NOMEM;
            break;
        }
        memcpy(ids[n], e->d_name, len - sl);
        ids[n++][len - sl] = '\0';
    }
    closedir(d);
    if (rv == PC_OK && n > 1) {
        qsort(ids, n, sizeof(*ids), by_name);
    }
    for (size_t i = 0; i < n; i++) {
        if (rv == PC_OK) {
            fn(ids[i], arg);
        }
        pc_free(ids[i]);
    }
    pc_free(ids);
    return rv == PC_OK
               ? PC_OK
               : pc_error_set(err, rv, NULL, "out of memory listing %s", dir);
}
