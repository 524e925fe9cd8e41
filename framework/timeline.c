/*
 * timeline.c - a room's recorded history, read back for time travel (see
 * phasecast/timeline.h).
 *
 * The timeline is a replay (logreplay.c) whose history keeps every change:
 * each record holds its metadata, the patch and the inverse patch, so
 * memory follows the size of the patches. The replay checks every record
 * as recovery does and keeps the newest state. Older states come from
 * checkpoints: a copy of the whole state at the first seq and every
 * CHECKPOINT_EVERY changes after it; the state at any seq is the nearest
 * checkpoint at or before it with at most CHECKPOINT_EVERY - 1 patches
 * applied, wherever seq is in the history.
 *
 * A log source keeps its reader open on the live file after the last
 * frame read, so pc_timeline_refresh continues from there: it re-reads
 * the file's size, stops again before a frame that is not complete yet,
 * and when compaction has renamed a new file over the path, reads the old
 * file (still open) to its end before it follows the new one. Archived
 * segments (<path>.<base seq>) are read first, oldest first; a segment
 * that does not continue into the next file's base record starts the
 * history again at that file.
 */
#include "phasecast/timeline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/diff.h"
#include "phasecast/json.h"
#include "phasecast/merge.h"
#include "logfile.h"
#include "logreplay.h"
#include "timeline_impl.h"

/* The struct and CHECKPOINT_EVERY are in timeline_impl.h, shared with
 * timeline_path.c (the questions about one path: touches, find, blame). */

const char *pc_timeline_room(const pc_timeline *tl)
{
    return tl->rp.room;
}

const char *pc_timeline_game(const pc_timeline *tl)
{
    return tl->rp.game;
}

uint64_t pc_timeline_first_seq(const pc_timeline *tl)
{
    return tl->first;
}

uint64_t pc_timeline_last_seq(const pc_timeline *tl)
{
    return tl->rp.seq;
}

void pc_timeline_set_seed(pc_timeline *tl, uint64_t seed, uint64_t draws)
{
    tl->seed = seed;
    tl->first_draws = draws;
    tl->seed_known = true;
}

static pc_timeline *alloc_tl(void)
{
    pc_timeline *tl = pc_malloc(sizeof(*tl));
    if (tl != NULL) {
        memset(tl, 0, sizeof(*tl));
        pc__replay_init(&tl->rp, SIZE_MAX / 2);
        tl->r.fd = -1;
    }
    return tl;
}

void pc_timeline_free(pc_timeline *tl)
{
    if (tl == NULL) {
        return;
    }
    pc__replay_fini(&tl->rp);
    for (size_t i = 0; i < tl->nckpt; i++) {
        cJSON_Delete(tl->ckpt[i]);
    }
    pc_free(tl->ckpt);
    cJSON_Delete(tl->scratch);
    if (tl->reader_open) {
        pc__logreader_close(&tl->r);
    }
    pc_free(tl);
}

/* Keep a copy of the state when the replay reaches a checkpoint seq. */
static pc_err checkpoint(pc_timeline *tl)
{
    uint64_t n = tl->rp.seq - tl->first;
    if (n % CHECKPOINT_EVERY != 0 || n / CHECKPOINT_EVERY < tl->nckpt) {
        return PC_OK;
    }
    if (tl->nckpt == tl->ckpt_cap) {
        size_t cap = tl->ckpt_cap != 0 ? tl->ckpt_cap * 2 : 16;
        cJSON **grown = pc_realloc(tl->ckpt, cap * sizeof(*grown));
        if (grown == NULL) {
            return PC_ERR_NOMEM;
        }
        tl->ckpt = grown;
        tl->ckpt_cap = cap;
    }
    cJSON *copy = cJSON_Duplicate(tl->rp.doc, true);
    if (copy == NULL) {
        return PC_ERR_NOMEM;
    }
    tl->ckpt[tl->nckpt++] = copy;
    return PC_OK;
}

/* Start the history again at the replay's current state (a new base). */
static pc_err restart_at_base(pc_timeline *tl)
{
    for (size_t i = 0; i < tl->nckpt; i++) {
        cJSON_Delete(tl->ckpt[i]);
    }
    tl->nckpt = 0;
    tl->first = tl->rp.seq;
    tl->first_draws = tl->rp.draws;
    tl->seed = tl->rp.seed;
    tl->seed_known = true;
    return checkpoint(tl);
}

/* Replay one frame; keeps the checkpoints up to date. */
static pc_err feed(pc_timeline *tl, const char *payload, size_t len,
                   pc_error *why)
{
    pc_err rv = pc__replay_record(&tl->rp, payload, len, why);
    if (rv == PC_OK) {
        rv = checkpoint(tl);
    }
    return rv;
}

const pc__record *pc__timeline_rec_at(const pc_timeline *tl, uint64_t seq)
{
    if (seq <= tl->first || seq > tl->rp.seq) {
        return NULL;
    }
    return pc__history_find_seq(&tl->rp.hist, seq);
}

/* ---- Log sources ---------------------------------------------------- */

/* Read the base record of the file r is on, as a replay of its own, and
 * join it to the history: if it continues it (same seq and checksum), go
 * on; if not, start the history again from it. */
static pc_err join_base(pc_timeline *tl, pc__logreader *r, bool strict,
                        pc_changelog_report *rep, pc_error *err)
{
    const char *payload;
    size_t len;
    uint64_t at;
    pc_err rv = pc__logreader_next(r, &payload, &len, &at, rep);
    if (rv == PC_ERR_NOT_FOUND) {
        return pc_error_set(err, PC_ERR_INVALID, "corrupt_log",
                            "%s: the log has no base record", r->path);
    }
    if (rv != PC_OK) {
        return pc_error_set(err, rv,
                            rv == PC_ERR_INVALID ? "corrupt_log" : NULL, "%s",
                            rep->message);
    }
    if (tl->rp.records == 0) {
        pc_error why = {0};
        rv = feed(tl, payload, len, &why);
        if (rv == PC_OK) {
            return restart_at_base(tl);
        }
        return pc_error_set(err, rv, "corrupt_log", "%s: offset %llu: %s",
                            r->path, (unsigned long long)at, why.message);
    }
    pc__replay next;
    pc__replay_init(&next, 0);
    pc_error why = {0};
    rv = pc__replay_record(&next, payload, len, &why);
    if (rv != PC_OK) {
        pc__replay_fini(&next);
        return pc_error_set(err, rv, "corrupt_log", "%s: offset %llu: %s",
                            r->path, (unsigned long long)at, why.message);
    }
    bool same_room = strcmp(next.room, tl->rp.room) == 0;
    if (same_room && next.seq == tl->rp.seq && next.sum == tl->rp.sum) {
        tl->rp.deadline_ms = next.deadline_ms;
        pc__replay_fini(&next);
        return PC_OK;
    }
    /* A file whose base lies inside the history read so far (a segment
     * archived again after a crash, say): if its state there is the one
     * held, continue after what is already read. */
    const pc__record *at_base = pc__timeline_rec_at(tl, next.seq);
    uint64_t held_sum = next.seq == tl->first ? tl->rp.sum : 0;
    if (at_base != NULL) {
        held_sum = at_base->change.checksum;
    }
    if (same_room && next.seq > tl->first && next.seq < tl->rp.seq &&
        at_base != NULL && held_sum == next.sum) {
        tl->skip_until = tl->rp.seq;
        pc__replay_fini(&next);
        return PC_OK;
    }
    pc__replay_fini(&next);
    if (strict) {
        return pc_error_set(err, PC_ERR_INVALID, "corrupt_log",
                            "%s: its base record (seq %llu) does not continue "
                            "the history read so far (seq %llu)",
                            r->path, (unsigned long long)next.seq,
                            (unsigned long long)tl->rp.seq);
    }
    /* An older segment is missing or stale: the history starts here. */
    pc__replay_fini(&tl->rp);
    pc__replay_init(&tl->rp, SIZE_MAX / 2);
    r->off = PC__LOG_HEADER_SIZE;
    return join_base(tl, r, true, rep, err);
}

/* Whether a record is one the history already holds (skip_until). */
static pc_err already_read(const pc_timeline *tl, const char *payload,
                           size_t len, bool *skip)
{
    pc_json_limits lim = pc__record_limits();
    cJSON *rec = NULL;
    pc_err rv = pc_json_parse(payload, len, &lim, &rec, NULL);
    if (rv != PC_OK) {
        return rv == PC_ERR_NOMEM ? rv : PC_ERR_INVALID;
    }
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(rec, "seq");
    *skip = cJSON_IsNumber(seq) && seq->valuedouble >= 0 &&
            seq->valuedouble <= (double)tl->skip_until;
    cJSON_Delete(rec);
    return PC_OK;
}

/* Read frames from r until its end (or a torn tail when tail_ok). */
static pc_err read_frames(pc_timeline *tl, pc__logreader *r, bool tail_ok,
                          size_t *added, pc_changelog_report *rep,
                          pc_error *err)
{
    while (true) {
        const char *payload;
        size_t len;
        uint64_t at;
        uint64_t before = tl->rp.seq;
        pc_err rv = pc__logreader_next(r, &payload, &len, &at, rep);
        if (rv == PC_ERR_NOT_FOUND) {
            return PC_OK;
        }
        if (rv == PC_ERR_INVALID && tail_ok &&
            rep->problem == PC_CHANGELOG_TORN) {
            rep->problem = PC_CHANGELOG_CLEAN;
            return PC_OK; /* the writer is not done with it yet */
        }
        if (rv != PC_OK) {
            return pc_error_set(err, rv,
                                rv == PC_ERR_INVALID ? "corrupt_log" : NULL,
                                "%s", rep->message);
        }
        if (tl->skip_until > 0) {
            bool skip = false;
            rv = already_read(tl, payload, len, &skip);
            if (rv != PC_OK) {
                return pc_error_set(err, rv, "corrupt_log",
                                    "%s: offset %llu: the record does not "
                                    "parse",
                                    r->path, (unsigned long long)at);
            }
            if (skip) {
                continue;
            }
            tl->skip_until = 0;
        }
        pc_error why = {0};
        rv = feed(tl, payload, len, &why);
        if (rv != PC_OK) {
            r->off = at;
            return pc_error_set(err, rv, "corrupt_log", "%s: offset %llu: %s",
                                r->path, (unsigned long long)at, why.message);
        }
        if (added != NULL) {
            *added += (size_t)(tl->rp.seq - before);
        }
    }
}

pc_err pc_timeline_open_log(const char *path, unsigned flags, pc_timeline **out,
                            pc_changelog_report *rep, pc_error *err)
{
    pc_changelog_report local;
    rep = rep != NULL ? rep : &local;
    memset(rep, 0, sizeof(*rep));
    if (path == NULL || out == NULL || strlen(path) + 24 >= sizeof(rep->path)) {
        return pc_error_set(err, PC_ERR_INVALID, NULL, "bad path");
    }
    snprintf(rep->path, sizeof(rep->path), "%s", path);
    pc_timeline *tl = alloc_tl();
    if (tl == NULL) {
        return pc_error_set(err, PC_ERR_NOMEM, NULL, "out of memory");
    }
    tl->from_log = true;
    snprintf(tl->path, sizeof(tl->path), "%s", path);
    struct stat st;
    if (stat(path, &st) != 0) {
        pc_timeline_free(tl);
        return errno == ENOENT
                   ? pc_error_set(err, PC_ERR_NOT_FOUND, "not_found",
                                  "%s: no such file", path)
                   : pc_error_set(err, PC_ERR_IO, NULL, "stat %s: %s", path,
                                  strerror(errno));
    }
    uint64_t *segs = NULL;
    size_t nsegs = 0;
    pc_err rv = (flags & PC_TIMELINE_NO_SEGMENTS) != 0
                    ? PC_OK
                    : pc__segments_list(path, &segs, &nsegs);
    if (rv != PC_OK) {
        rv = pc_error_set(err, rv, NULL, "out of memory");
    }
    for (size_t i = 0; i < nsegs && rv == PC_OK; i++) {
        char seg[PC_CHANGELOG_PATH_MAX];
        snprintf(seg, sizeof(seg), "%s.%llu", path,
                 (unsigned long long)segs[i]);
        pc__logreader r;
        rv = pc__logreader_open(&r, seg, rep);
        if (rv != PC_OK) {
            pc__logreader_close(&r);
            rv = pc_error_set(err, rv, "corrupt_log", "%s", rep->message);
            break;
        }
        rv = join_base(tl, &r, false, rep, err);
        if (rv == PC_OK) {
            rv = read_frames(tl, &r, false, NULL, rep, err);
        }
        pc__logreader_close(&r);
    }
    pc_free(segs);
    if (rv == PC_OK) {
        rv = pc__logreader_open(&tl->r, tl->path, rep);
        tl->reader_open = true;
        if (rv != PC_OK) {
            rv = pc_error_set(
                err, rv, rv == PC_ERR_NOT_FOUND ? "not_found" : "corrupt_log",
                "%s", rep->message);
        }
    }
    if (rv == PC_OK) {
        rv = join_base(tl, &tl->r, false, rep, err);
    }
    if (rv == PC_OK) {
        rv = read_frames(tl, &tl->r, true, NULL, rep, err);
    }
    if (rv != PC_OK) {
        pc_timeline_free(tl);
        return rv;
    }
    snprintf(rep->room, sizeof(rep->room), "%s", tl->rp.room);
    snprintf(rep->game, sizeof(rep->game), "%s", tl->rp.game);
    rep->base_seq = tl->first;
    rep->last_seq = tl->rp.seq;
    rep->records = tl->rp.records;
    *out = tl;
    return PC_OK;
}

pc_err pc_timeline_refresh(pc_timeline *tl, size_t *added, pc_error *err)
{
    size_t n = 0;
    if (added != NULL) {
        *added = 0;
    }
    if (!tl->from_log || !tl->reader_open) {
        return pc_error_set(err, PC_ERR_STATE, NULL,
                            "the timeline was not opened from a log");
    }
    pc_changelog_report rep;
    memset(&rep, 0, sizeof(rep));
    struct stat held;
    struct stat now;
    if (fstat(tl->r.fd, &held) != 0) {
        return pc_error_set(err, PC_ERR_IO, NULL, "stat %s: %s", tl->path,
                            strerror(errno));
    }
    tl->r.size = (uint64_t)held.st_size;
    pc_err rv = read_frames(tl, &tl->r, true, &n, &rep, err);
    /* Compaction renamed a new file over the path: the one held is
     * complete now (the change that triggered it was written first). */
    while (rv == PC_OK && stat(tl->path, &now) == 0 &&
           (now.st_ino != held.st_ino || now.st_dev != held.st_dev)) {
        /* The file that continues the one held: the segment starting at
         * the last seq read, if compaction ran again since, else the
         * log. */
        char next[PC_CHANGELOG_PATH_MAX + 24];
        struct stat seg;
        snprintf(next, sizeof(next), "%s.%llu", tl->path,
                 (unsigned long long)tl->rp.seq);
        bool via_segment =
            stat(next, &seg) == 0 &&
            (seg.st_ino != held.st_ino || seg.st_dev != held.st_dev);
        if (via_segment) {
            now = seg;
        } else {
            snprintf(next, sizeof(next), "%s", tl->path);
        }
        snprintf(tl->cur, sizeof(tl->cur), "%s", next);
        pc__logreader nr;
        rv = pc__logreader_open(&nr, tl->cur, &rep);
        if (rv != PC_OK) {
            pc__logreader_close(&nr);
            if (rv == PC_ERR_NOT_FOUND) {
                rv = PC_OK; /* between the unlink and the rename */
            } else {
                rv = pc_error_set(err, rv, "corrupt_log", "%s", rep.message);
            }
            break;
        }
        uint64_t before = tl->rp.seq;
        rv = join_base(tl, &nr, false, &rep, err);
        if (rv == PC_OK) {
            /* Without the segments in between (keep_segments), the
             * history starts again at the new file's base. */
            n += tl->rp.seq > before ? (size_t)(tl->rp.seq - before) : 0;
            pc__logreader_close(&tl->r);
            tl->r = nr;
            held = now;
            rv = read_frames(tl, &tl->r, !via_segment, &n, &rep, err);
        } else {
            pc__logreader_close(&nr);
        }
    }
    if (added != NULL) {
        *added = n;
    }
    return rv;
}

/* ---- Records from elsewhere ------------------------------------------ */

pc_err pc_timeline_new(const char *room, const char *game, uint64_t base_seq,
                       const cJSON *state, uint64_t sum, pc_timeline **out,
                       pc_error *err)
{
    if (room == NULL || game == NULL || state == NULL || out == NULL ||
        strlen(room) > PC_ROOM_ID_MAX || strlen(game) > 64 ||
        base_seq > ((uint64_t)1 << 53)) {
        return pc_error_set(err, PC_ERR_INVALID, NULL,
                            "bad room, game, seq or state");
    }
    /* Make the base record a log would hold and replay it, so a state
     * from a server is checked exactly as a log's. */
    uint64_t s = 0;
    size_t bytes = 0;
    pc_err rv = pc_canon_checksum(state, &s, &bytes);
    if (rv != PC_OK) {
        return pc_error_set(err, rv, NULL, "the state is not valid JSON");
    }
    if (s != sum) {
        return pc_error_set(err, PC_ERR_INVALID, "checksum_mismatch",
                            "the base state's checksum is %016llx, not "
                            "%016llx",
                            (unsigned long long)s, (unsigned long long)sum);
    }
    cJSON *rec = cJSON_CreateObject();
    cJSON *prng = cJSON_CreateArray();
    char hex[17];
    snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)sum);
    bool ok = rec != NULL && prng != NULL &&
              cJSON_AddStringToObject(rec, "type", "room") &&
              cJSON_AddNumberToObject(rec, "format", 1) &&
              cJSON_AddStringToObject(rec, "game", game) &&
              cJSON_AddStringToObject(rec, "room", room) &&
              cJSON_AddNumberToObject(rec, "seq", (double)base_seq) &&
              cJSON_AddNumberToObject(rec, "time", 0) &&
              cJSON_AddStringToObject(rec, "seed", "0000000000000000") &&
              cJSON_AddNumberToObject(rec, "draws", 0) &&
              cJSON_AddStringToObject(rec, "sum", hex) &&
              cJSON_AddNumberToObject(rec, "bytes", (double)bytes) &&
              cJSON_AddNullToObject(rec, "deadline");
    for (int i = 0; ok && i < 4; i++) {
        ok = cJSON_AddItemToArray(prng, cJSON_CreateString("0000000000000000"));
    }
    ok = ok && cJSON_AddItemToObject(rec, "prng", prng);
    if (ok) {
        prng = NULL;
        cJSON *copy = cJSON_Duplicate(state, true);
        ok = copy != NULL && cJSON_AddItemToObject(rec, "state", copy);
        if (!ok) {
            cJSON_Delete(copy);
        }
    }
    char *text = ok ? cJSON_PrintUnformatted(rec) : NULL;
    cJSON_Delete(rec);
    cJSON_Delete(prng);
    pc_timeline *tl = text != NULL ? alloc_tl() : NULL;
    if (tl == NULL) {
        cJSON_free(text);
        return pc_error_set(err, PC_ERR_NOMEM, NULL, "out of memory");
    }
    pc_error why = {0};
    rv = feed(tl, text, strlen(text), &why);
    cJSON_free(text);
    if (rv == PC_OK) {
        rv = restart_at_base(tl);
        tl->seed_known = false;
    }
    if (rv != PC_OK) {
        pc_timeline_free(tl);
        return pc_error_set(err, rv, "bad_state", "%s", why.message);
    }
    *out = tl;
    return PC_OK;
}

pc_err pc_timeline_add(pc_timeline *tl, const cJSON *record, pc_error *err)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(record, "type");
    if (!cJSON_IsString(type) || (strcmp(type->valuestring, "change") != 0 &&
                                  strcmp(type->valuestring, "timer") != 0)) {
        return pc_error_set(err, PC_ERR_INVALID, "bad_record",
                            "a record must be a change or timer record");
    }
    char *text = cJSON_PrintUnformatted(record);
    if (text == NULL) {
        return pc_error_set(err, PC_ERR_NOMEM, NULL, "out of memory");
    }
    pc_error why = {0};
    pc_err rv = feed(tl, text, strlen(text), &why);
    cJSON_free(text);
    if (rv != PC_OK) {
        return pc_error_set(err, rv, "bad_record", "%s", why.message);
    }
    return PC_OK;
}

/* ---- Questions -------------------------------------------------------- */

bool pc_timeline_prng_at(pc_timeline *tl, uint64_t seq, uint64_t *seed,
                         uint64_t *draws)
{
    if (!tl->seed_known || seq < tl->first || seq > tl->rp.seq) {
        return false;
    }
    const pc__record *r = pc__timeline_rec_at(tl, seq);
    *seed = tl->seed;
    *draws = r != NULL ? r->draws : tl->first_draws;
    return true;
}

static const char *cause_kind(pc_cause_kind k)
{
    switch (k) {
    case PC_CAUSE_START:
        return "start";
    case PC_CAUSE_ACTION:
        return "action";
    case PC_CAUSE_TIMEOUT:
        return "timeout";
    case PC_CAUSE_HOST:
        break;
    }
    return "host";
}

/* The cause as JSON, or NULL when the record has none (first_seq 0). */
static pc_err cause_json(const pc_cause *c, cJSON **out)
{
    *out = NULL;
    if (c->first_seq == 0) {
        return PC_OK;
    }
    cJSON *o = cJSON_CreateObject();
    bool ok = o != NULL &&
              cJSON_AddStringToObject(o, "kind", cause_kind(c->kind)) &&
              cJSON_AddNumberToObject(o, "first", (double)c->first_seq);
    if (ok && c->kind == PC_CAUSE_ACTION) {
        ok = cJSON_AddStringToObject(o, "player", c->player ? c->player : "") &&
             cJSON_AddStringToObject(o, "type", c->type ? c->type : "");
        cJSON *p = c->payload != NULL ? cJSON_Duplicate(c->payload, true)
                                      : cJSON_CreateNull();
        ok = ok && p != NULL && cJSON_AddItemToObject(o, "payload", p);
        if (ok && c->payload_dropped) {
            ok = cJSON_AddTrueToObject(o, "payload_dropped") != NULL;
        }
        if (ok && c->role == PC_ROLE_GM) {
            ok = cJSON_AddStringToObject(o, "role", "gm") != NULL;
        }
        if (ok && c->has_expected_seq) {
            ok = cJSON_AddNumberToObject(o, "expected_seq",
                                         (double)c->expected_seq) != NULL;
        }
        if (!ok && p != NULL && p->string == NULL) {
            cJSON_Delete(p);
        }
    } else if (ok && c->kind == PC_CAUSE_TIMEOUT && c->phase != NULL) {
        ok = cJSON_AddStringToObject(o, "phase", c->phase);
    }
    if (!ok) {
        cJSON_Delete(o);
        return PC_ERR_NOMEM;
    }
    *out = o;
    return PC_OK;
}

pc_err pc_timeline_get(pc_timeline *tl, uint64_t seq, pc_timeline_entry *out)
{
    const pc__record *r = pc__timeline_rec_at(tl, seq);
    if (r == NULL) {
        return PC_ERR_NOT_FOUND;
    }
    cJSON *cause = NULL;
    if (cause_json(&r->change.cause, &cause) != PC_OK) {
        return PC_ERR_NOMEM;
    }
    char *canon = NULL;
    size_t plen = 0;
    if (pc_canon_print(r->change.patch, &canon, &plen) != PC_OK) {
        cJSON_Delete(cause);
        return PC_ERR_NOMEM;
    }
    pc_free(canon);
    cJSON_Delete(tl->scratch);
    tl->scratch = cause;
    const pc_change *c = &r->change;
    memset(out, 0, sizeof(*out));
    out->seq = c->seq;
    out->time_ms = c->time_ms;
    out->kind = c->kind;
    out->phase = c->phase;
    out->prev = c->prev_phase;
    out->reason = c->reason;
    out->file = c->file;
    out->line = c->line;
    out->func = c->func;
    out->draws = r->draws;
    out->sum = c->checksum;
    out->bytes = c->state_bytes;
    out->patch = c->patch;
    out->patch_bytes = plen;
    out->cause = cause;
    out->event = c->event;
    return PC_OK;
}

pc_err pc_timeline_state_at(pc_timeline *tl, uint64_t seq, cJSON **out)
{
    if (seq < tl->first || seq > tl->rp.seq) {
        return PC_ERR_NOT_FOUND;
    }
    if (seq == tl->rp.seq) {
        *out = cJSON_Duplicate(tl->rp.doc, true);
        return *out != NULL ? PC_OK : PC_ERR_NOMEM;
    }
    size_t k = (size_t)((seq - tl->first) / CHECKPOINT_EVERY);
    if (k >= tl->nckpt) {
        k = tl->nckpt - 1;
    }
    cJSON *doc = cJSON_Duplicate(tl->ckpt[k], true);
    if (doc == NULL) {
        return PC_ERR_NOMEM;
    }
    for (uint64_t s = tl->first + (uint64_t)k * CHECKPOINT_EVERY + 1; s <= seq;
         s++) {
        const pc__record *r = pc__timeline_rec_at(tl, s);
        cJSON *data = cJSON_GetObjectItemCaseSensitive(doc, "data");
        pc_err rv = r != NULL ? pc_merge_patch_inplace(data, r->change.patch)
                              : PC_ERR_NOT_FOUND;
        if (rv == PC_OK && r->change.kind == PC_CHANGE_TRANSITION) {
            cJSON *ph = cJSON_CreateString(r->change.phase);
            if (ph == NULL ||
                !cJSON_ReplaceItemInObjectCaseSensitive(doc, "phase", ph)) {
                cJSON_Delete(ph);
                rv = PC_ERR_NOMEM;
            }
        }
        if (rv != PC_OK) {
            cJSON_Delete(doc);
            return rv;
        }
    }
    *out = doc;
    return PC_OK;
}

pc_err pc_timeline_diff(pc_timeline *tl, uint64_t a, uint64_t b, cJSON **out)
{
    cJSON *x = NULL;
    cJSON *y = NULL;
    pc_err rv = pc_timeline_state_at(tl, a, &x);
    if (rv == PC_OK) {
        rv = pc_timeline_state_at(tl, b, &y);
    }
    if (rv == PC_OK) {
        rv = pc_json_diff(x, y, out);
    }
    cJSON_Delete(x);
    cJSON_Delete(y);
    return rv;
}
