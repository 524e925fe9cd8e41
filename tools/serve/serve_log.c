/*
 * serve_log.c - phasecast-serve's durability options and their output.
 *
 * Everything here prints for an operator: each recovered room and where
 * its seq continues, each torn tail that was cut and where the original
 * went, and, when start-up must stop, the file and offset of the damage
 * and what --repair would drop. It decides nothing itself; the change log
 * (phasecast/changelog.h) and pc_server_recover do.
 */
#include "serve_log.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "phasecast/changelog.h"

void serve_log_usage(FILE *to)
{
    fprintf(to,
            "  --log-dir DIR        keep every room durable in DIR and, at "
            "start,\n"
            "                       recover the rooms logged there\n"
            "  --fsync POLICY       always | everysec | none [everysec]\n"
            "  --keyframe-every N   compact each log every N changes, 0 = "
            "never [%d]\n"
            "  --keep-segments N|all  keep the N newest files compaction "
            "replaces\n"
            "                       (<room>.pclog.<seq>), for the "
            "inspector [all]\n"
            "  --repair             cut corrupt logs at their last valid "
            "record\n"
            "                       instead of refusing to start\n"
            "  --verify FILE        check a log (every frame and checksum), "
            "print\n"
            "                       the first problem and exit "
            "(repeatable)\n",
            PC_CHANGELOG_KEYFRAME_DEFAULT);
}

bool serve_log_flag(const char *a, serve_log *sl)
{
    if (strcmp(a, "--repair") == 0) {
        sl->repair = true;
        return true;
    }
    return false;
}

/* A count option's value: decimal, 0 to 10^9. */
static bool count(const char *v, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || v[0] == '-' ||
        n > UINT64_C(1000000000)) {
        return false;
    }
    *out = n;
    return true;
}

int serve_log_option(const char *a, const char *v, pc_server_options *o,
                     serve_log *sl)
{
    if (strcmp(a, "--log-dir") == 0) {
        o->log_dir = v;
    } else if (strcmp(a, "--fsync") == 0) {
        return pc_fsync_policy_parse(v, &o->fsync) ? 1 : -1;
    } else if (strcmp(a, "--keyframe-every") == 0) {
        uint64_t n;
        if (!count(v, &n)) {
            return -1;
        }
        o->keyframe_every = n;
    } else if (strcmp(a, "--keep-segments") == 0) {
        uint64_t n = PC_CHANGELOG_KEEP_ALL;
        if (strcmp(v, "all") != 0 && !count(v, &n)) {
            return -1;
        }
        o->keep_segments = (size_t)n;
    } else if (strcmp(a, "--verify") == 0) {
        if (sl->nverify == SERVE_LOG_VERIFY_MAX) {
            return -1;
        }
        sl->verify[sl->nverify++] = v;
    } else {
        return 0;
    }
    return 1;
}

static const char *problem_name(pc_changelog_problem p)
{
    return p == PC_CHANGELOG_TORN      ? "torn"
           : p == PC_CHANGELOG_CORRUPT ? "corrupt"
                                       : "clean";
}

int serve_log_verify(const serve_log *sl)
{
    int status = 0;
    for (size_t i = 0; i < sl->nverify; i++) {
        pc_changelog_report rep;
        pc_err rc = pc_changelog_verify(sl->verify[i], &rep);
        if (rc == PC_ERR_NOT_FOUND || rc == PC_ERR_IO || rc == PC_ERR_NOMEM) {
            printf("%s: cannot verify: %s\n", sl->verify[i],
                   rc == PC_ERR_NOMEM ? "out of memory" : rep.message);
            status = 1;
            continue;
        }
        printf("%s: %s: room %s, game %s, seq %llu..%llu, %llu records, "
               "%llu of %llu bytes valid\n",
               sl->verify[i], problem_name(rep.problem),
               rep.room[0] ? rep.room : "?", rep.game[0] ? rep.game : "?",
               (unsigned long long)rep.base_seq,
               (unsigned long long)rep.last_seq,
               (unsigned long long)rep.records,
               (unsigned long long)rep.valid_bytes,
               (unsigned long long)rep.file_bytes);
        if (rc != PC_OK) {
            printf("first problem: %s\n", rep.message);
            status = 1;
        }
    }
    return status;
}

void serve_log_room_failed(const char *room, const pc_error *why, void *arg)
{
    (void)arg;
    fprintf(stderr,
            "phasecast-serve: room %s FAILED and refuses every change until "
            "the server is restarted: %s\n",
            room, why->message);
}

bool serve_recovered_has(const serve_recovered *r, const char *id)
{
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->id[i], id) == 0) {
            return true;
        }
    }
    return false;
}

void serve_recovered_free(serve_recovered *r)
{
    free(r->id);
    free(r->game);
    memset(r, 0, sizeof(*r));
}

/* Remember a recovered room; false when out of memory. */
static bool remember(serve_recovered *r, const char *id, const char *game)
{
    if (r->n == r->cap) {
        size_t cap = r->cap == 0 ? 16 : r->cap * 2;
        char(*ids)[PC_ROOM_ID_MAX + 1] = realloc(r->id, cap * sizeof *ids);
        if (ids != NULL) {
            r->id = ids;
        }
        char(*games)[65] = realloc(r->game, cap * sizeof *games);
        if (games != NULL) {
            r->game = games;
        }
        if (ids == NULL || games == NULL) {
            return false;
        }
        r->cap = cap;
    }
    snprintf(r->id[r->n], sizeof r->id[r->n], "%s", id);
    snprintf(r->game[r->n], sizeof r->game[r->n], "%s", game);
    r->n++;
    return true;
}

/* Print what recovery did with one log. */
static void report(const pc_changelog_report *rep, pc_err rc,
                   const pc_error *err, void *arg)
{
    serve_recovered *recovered = arg;
    if (rc != PC_OK) {
        fprintf(stderr, "phasecast-serve: cannot recover %s: %s\n",
                rep->path[0] ? rep->path : "a room", err->message);
        return;
    }
    if (!remember(recovered, rep->room, rep->game)) {
        fprintf(stderr, "phasecast-serve: out of memory\n");
    }
    if (err != NULL && err->err != PC_OK) { /* repaired around a problem */
        fprintf(stderr, "phasecast-serve: %s: repaired: %s\n", rep->path,
                err->message);
    }
    if (rep->stale_tmp) {
        fprintf(stderr,
                "phasecast-serve: %s: removed the temporary file of an "
                "unfinished compaction\n",
                rep->path);
    }
    if (rep->cut) {
        fprintf(stderr,
                "phasecast-serve: %s\nphasecast-serve: %s: cut at offset "
                "%llu (seq %llu); the original is kept as %s\n",
                rep->message, rep->path, (unsigned long long)rep->valid_bytes,
                (unsigned long long)rep->last_seq, rep->broken_path);
    }
    fprintf(stderr,
            "phasecast-serve: recovered room %s (%s) at seq %llu from %s "
            "(%llu records); the next change is seq %llu\n",
            rep->room, rep->game, (unsigned long long)rep->last_seq, rep->path,
            (unsigned long long)rep->records,
            (unsigned long long)rep->last_seq + 1);
}

int serve_log_recover(pc_server *srv, const pc_server_options *o,
                      const serve_log *sl, const pc_changelog_game *games,
                      size_t ngames, size_t history, const char *gm_credential,
                      serve_recovered *recovered)
{
    if (o->log_dir == NULL) {
        return 0;
    }
    pc_server_room_options ro;
    pc_server_room_options_init(&ro);
    ro.room.history_capacity = history;
    ro.gm_credential = gm_credential;
    pc_error e = {0};
    pc_err rc = pc_server_recover(srv, games, ngames, &ro,
                                  sl->repair ? PC_CHANGELOG_REPAIR : 0, report,
                                  recovered, &e);
    if (rc != PC_OK) {
        fprintf(stderr, "phasecast-serve: start-up stopped: %s\n", e.message);
        return 1;
    }
    fprintf(stderr,
            "phasecast-serve: logging to %s, fsync %s, keyframe every %llu; "
            "%zu room(s) recovered\n",
            o->log_dir, pc_fsync_policy_name(o->fsync),
            (unsigned long long)o->keyframe_every, recovered->n);
    return 0;
}
