/*
 * logreplay.c - read a change log frame by frame and replay its records
 * (see logreplay.h for the rules on torn and corrupt logs).
 *
 * The reader keeps a window on the file and refills it with pread, so a
 * log of small records costs a few large reads rather than two system
 * calls per frame. Every payload goes through pc_json_parse (strict, with
 * limits wide enough for any record phasecast writes), because a log file
 * is input like any other: it may have been damaged or edited. The replay
 * applies patches with the room's own tracked apply, so a record that
 * turns out wrong (seq, phase or checksum) is undone exactly and the state
 * stays that of the last good record. It never trusts a stored checksum
 * without recomputing it.
 */
#include "logreplay.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <stdarg.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/json.h"
#include "logcause.h"
#include "logevent.h"
#include "logfile.h"
#include "digest.h"
#include "merge.h"

#define WINDOW    ((size_t)64 << 10)
#define EXACT_MAX 9007199254740992.0 /* 2^53 */

/* ---- Frames -------------------------------------------------------------- */

/* Set rep->message (truncated to fit). */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3)))
#endif
static void
say(pc_changelog_report *rep, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rep->message, sizeof(rep->message), fmt, ap);
    va_end(ap);
}

static pc_err io_error(pc_changelog_report *rep, const char *call,
                       const char *path, int e)
{
    say(rep, "%s %s: %s", call, path, strerror(e));
    return PC_ERR_IO;
}

/* Make the bytes [off, off + n) of the file readable at *out. */
static pc_err window(pc__logreader *r, uint64_t off, size_t n, const char **out,
                     pc_changelog_report *rep)
{
    if (off >= r->wstart && off - r->wstart + n <= r->wlen) {
        *out = r->win + (off - r->wstart);
        return PC_OK;
    }
    size_t want = n > WINDOW ? n : WINDOW;
    if (want > r->size - off) {
        want = (size_t)(r->size - off);
    }
    if (want > r->wcap) {
        char *w = pc_realloc(r->win, want);
        if (w == NULL) {
            return PC_ERR_NOMEM;
        }
        r->win = w;
        r->wcap = want;
    }
    size_t got = 0;
    while (got < want) {
        ssize_t k = pread(r->fd, r->win + got, want - got, (off_t)(off + got));
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            r->wlen = 0;
            return io_error(rep, "read", r->path, k < 0 ? errno : EIO);
        }
        got += (size_t)k;
    }
    r->wstart = off;
    r->wlen = got;
    *out = r->win;
    return got >= n ? PC_OK : io_error(rep, "read", r->path, EIO);
}

pc_err pc__logreader_open(pc__logreader *r, const char *path,
                          pc_changelog_report *rep)
{
    memset(r, 0, sizeof(*r));
    r->path = path;
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        if (errno == ENOENT) {
            say(rep, "%s: no such file", path);
            return PC_ERR_NOT_FOUND;
        }
        return io_error(rep, "open", path, errno);
    }
    struct stat st;
    if (fstat(r->fd, &st) != 0) {
        return io_error(rep, "stat", path, errno);
    }
    r->size = (uint64_t)st.st_size;
    rep->file_bytes = r->size;
    const char *h = NULL;
    unsigned char want[PC__LOG_HEADER_SIZE];
    pc__log_header(want);
    pc_err rv = PC_OK;
    if (r->size >= PC__LOG_HEADER_SIZE) {
        rv = window(r, 0, PC__LOG_HEADER_SIZE, &h, rep);
        if (rv != PC_OK) {
            return rv;
        }
    }
    if (h == NULL || memcmp(h, want, PC__LOG_HEADER_SIZE) != 0) {
        rep->problem = PC_CHANGELOG_CORRUPT;
        rep->offset = 0;
        if (h != NULL && memcmp(h, want, 8) == 0 &&
            pc__le32((const unsigned char *)h + 8) != PC__LOG_VERSION) {
            say(rep, "%s: unsupported log format version %u", path,
                (unsigned)pc__le32((const unsigned char *)h + 8));
        } else {
            say(rep, "%s: offset 0: not a phasecast change log (bad header)",
                path);
        }
        return PC_ERR_INVALID;
    }
    r->off = PC__LOG_HEADER_SIZE;
    rep->valid_bytes = r->off;
    return PC_OK;
}

void pc__logreader_close(pc__logreader *r)
{
    if (r->fd >= 0) {
        close(r->fd);
    }
    pc_free(r->win);
    memset(r, 0, sizeof(*r));
    r->fd = -1;
}

/* A frame at start is damaged: torn tail or corruption? The first frame,
 * the base record, is never torn: a log file is only ever created (and
 * compacted) by writing the header and the base record to a temporary
 * file, syncing it and renaming it, so damage there is corruption even
 * with nothing after it. */
static pc_err classify(pc__logreader *r, uint64_t start, const char *what,
                       pc_changelog_report *rep)
{
    uint64_t remaining = r->size - start;
    uint64_t found = 0; /* offset of a valid frame after start, if any */
    bool base = start == PC__LOG_HEADER_SIZE;
    bool torn = !base && remaining <= PC__FRAME_HEAD + PC_CHANGELOG_FRAME_MAX;
    if (torn) {
        const char *t;
        pc_err rv = window(r, start, (size_t)remaining, &t, rep);
        if (rv != PC_OK) {
            return rv;
        }
        const unsigned char *u = (const unsigned char *)t;
        for (size_t k = 1; k + PC__FRAME_HEAD <= remaining; k++) {
            uint32_t len = pc__le32(u + k);
            if (len == 0 || len > PC_CHANGELOG_FRAME_MAX ||
                k + PC__FRAME_HEAD + len > remaining) {
                continue;
            }
            if (pc__frame_crc(t + k + PC__FRAME_HEAD, len) ==
                pc__le32(u + k + 4)) {
                torn = false;
                found = start + k;
                break;
            }
        }
    }
    rep->problem = torn ? PC_CHANGELOG_TORN : PC_CHANGELOG_CORRUPT;
    rep->offset = start;
    if (torn) {
        say(rep,
            "%s: offset %llu: %s; nothing valid follows, so the last "
            "record is torn (a crash during a write)",
            r->path, (unsigned long long)start, what);
    } else if (base) {
        say(rep,
            "%s: offset %llu: %s in the base record, which is written "
            "whole (synced, then renamed) and so never torn: the log is "
            "corrupt",
            r->path, (unsigned long long)start, what);
    } else if (found != 0) {
        say(rep,
            "%s: offset %llu: %s, but a valid frame follows at offset "
            "%llu: the log is corrupt",
            r->path, (unsigned long long)start, what,
            (unsigned long long)found);
    } else {
        say(rep,
            "%s: offset %llu: %s, with %llu bytes after it (more than "
            "one record): the log is corrupt",
            r->path, (unsigned long long)start, what,
            (unsigned long long)remaining);
    }
    return PC_ERR_INVALID;
}

pc_err pc__logreader_next(pc__logreader *r, const char **payload, size_t *len,
                          uint64_t *at, pc_changelog_report *rep)
{
    uint64_t start = r->off;
    if (start == r->size) {
        return PC_ERR_NOT_FOUND;
    }
    if (r->size - start < PC__FRAME_HEAD) {
        return classify(r, start, "incomplete frame header", rep);
    }
    const char *h;
    pc_err rv = window(r, start, PC__FRAME_HEAD, &h, rep);
    if (rv != PC_OK) {
        return rv;
    }
    uint32_t n = pc__le32((const unsigned char *)h);
    uint32_t crc = pc__le32((const unsigned char *)h + 4);
    char what[96];
    if (n == 0 || n > PC_CHANGELOG_FRAME_MAX) {
        snprintf(what, sizeof(what), "frame length %u is out of range",
                 (unsigned)n);
        return classify(r, start, what, rep);
    }
    if (PC__FRAME_HEAD + (uint64_t)n > r->size - start) {
        snprintf(what, sizeof(what),
                 "frame of %u bytes runs past the end of the file",
                 (unsigned)n);
        return classify(r, start, what, rep);
    }
    rv = window(r, start, PC__FRAME_HEAD + (size_t)n, &h, rep);
    if (rv != PC_OK) {
        return rv;
    }
    if (pc__frame_crc(h + PC__FRAME_HEAD, n) != crc) {
        return classify(r, start, "frame CRC-32C mismatch", rep);
    }
    *payload = h + PC__FRAME_HEAD;
    *len = n;
    *at = start;
    r->off = start + PC__FRAME_HEAD + n;
    return PC_OK;
}

/* ---- Records ------------------------------------------------------------- */

void pc__replay_init(pc__replay *rp, size_t history_capacity)
{
    memset(rp, 0, sizeof(*rp));
    pc__history_init(&rp->hist, history_capacity);
    pc__digest_init(&rp->digest);
}

void pc__replay_fini(pc__replay *rp)
{
    cJSON_Delete(rp->doc);
    pc__history_fini(&rp->hist);
    pc__digest_fini(&rp->digest);
    for (size_t i = 0; i < rp->nnames; i++) {
        pc_free(rp->names[i]);
    }
    memset(rp, 0, sizeof(*rp));
}

static bool get_uint(const cJSON *o, const char *k, uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) ||
        v->valuedouble > EXACT_MAX || v->valuedouble != floor(v->valuedouble)) {
        return false;
    }
    *out = (uint64_t)v->valuedouble;
    return true;
}

static bool get_int(const cJSON *o, const char *k, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v) || !(fabs(v->valuedouble) <= EXACT_MAX) ||
        v->valuedouble != floor(v->valuedouble)) {
        return false;
    }
    *out = (int64_t)v->valuedouble;
    return true;
}

static bool parse_hex(const cJSON *v, uint64_t *out)
{
    if (!cJSON_IsString(v) || strlen(v->valuestring) != 16) {
        return false;
    }
    uint64_t x = 0;
    for (const char *p = v->valuestring; *p != '\0'; p++) {
        int d = *p >= '0' && *p <= '9'   ? *p - '0'
                : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10
                                         : -1;
        if (d < 0) {
            return false;
        }
        x = x << 4 | (uint64_t)d;
    }
    *out = x;
    return true;
}

static bool get_hex(const cJSON *o, const char *k, uint64_t *out)
{
    return parse_hex(cJSON_GetObjectItemCaseSensitive(o, k), out);
}

/* "deadline": a non-negative integer, or null for none (-1). */
static bool get_deadline(const cJSON *o, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "deadline");
    if (cJSON_IsNull(v)) {
        *out = -1;
        return true;
    }
    return get_int(o, "deadline", out) && *out >= 0;
}

/* A string member of at most max bytes (0: no limit), or NULL. */
static const char *get_str(const cJSON *o, const char *k, size_t max)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsString(v) || (max > 0 && strlen(v->valuestring) > max)) {
        return NULL;
    }
    return v->valuestring;
}

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3)))
#endif
static pc_err
bad(pc_error *why, const char *fmt, ...)
{
    char msg[PC_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return pc_error_set(why, PC_ERR_INVALID, "log_corrupt", "%s", msg);
}

static const char *intern(pc__replay *rp, const char *name);

static pc_err replay_base(pc__replay *rp, cJSON *rec, pc_error *why)
{
    uint64_t format = 0, sum, bytes;
    const char *game = get_str(rec, "game", sizeof(rp->game) - 1);
    const char *room = get_str(rec, "room", sizeof(rp->room) - 1);
    const cJSON *prng = cJSON_GetObjectItemCaseSensitive(rec, "prng");
    cJSON *state = cJSON_GetObjectItemCaseSensitive(rec, "state");
    const cJSON *phase = cJSON_GetObjectItemCaseSensitive(state, "phase");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(state, "data");
    if (!get_uint(rec, "format", &format) || format != 1 || game == NULL ||
        room == NULL || !get_uint(rec, "seq", &rp->seq) ||
        !get_int(rec, "time", &rp->time_ms) ||
        !get_hex(rec, "seed", &rp->seed) ||
        !get_uint(rec, "draws", &rp->draws) || !get_hex(rec, "sum", &sum) ||
        !get_uint(rec, "bytes", &bytes) || cJSON_GetArraySize(prng) != 4 ||
        !cJSON_IsArray(prng) || !cJSON_IsObject(state) ||
        cJSON_GetArraySize(state) != 2 || !cJSON_IsString(phase) ||
        !cJSON_IsObject(data)) {
        return bad(why, "%s", "base record: a member is missing or malformed");
    }
    int64_t deadline = -1;
    if (!get_deadline(rec, &deadline)) {
        return bad(why, "%s", "base record: bad \"deadline\"");
    }
    /* "enter": {"from": name or null}: the base falls inside its phase's
     * entry (see pc__base). */
    const cJSON *enter = cJSON_GetObjectItemCaseSensitive(rec, "enter");
    const cJSON *from = cJSON_GetObjectItemCaseSensitive(enter, "from");
    const char *entry_from = NULL;
    if (enter != NULL &&
        (!cJSON_IsObject(enter) || cJSON_GetArraySize(enter) != 1 ||
         (!cJSON_IsNull(from) &&
          (get_str(enter, "from", 64) == NULL || from->valuestring[0] == 0)))) {
        return bad(why, "%s", "base record: bad \"enter\"");
    }
    if (cJSON_IsString(from) &&
        (entry_from = intern(rp, from->valuestring)) == NULL) {
        return rp->nnames == PC__REPLAY_PHASES_MAX
                   ? bad(why, "%s", "base record: too many phase names")
                   : PC_ERR_NOMEM;
    }
    for (int i = 0; i < 4; i++) {
        if (!parse_hex(cJSON_GetArrayItem(prng, i), &rp->prng[i])) {
            return bad(why, "%s", "base record: bad \"prng\"");
        }
    }
    uint64_t s = 0;
    size_t b = 0;
    cJSON *doc = cJSON_DetachItemViaPointer(rec, state);
    pc_err rv = pc__digest_build(&rp->digest, doc, &s, &b);
    if (rv == PC_OK && (s != sum || b != bytes)) {
        pc__digest_fini(&rp->digest);
        pc__digest_init(&rp->digest);
        rv = pc_error_set(why, PC_ERR_INVALID, "log_corrupt",
                          "base record: state checksum mismatch: the record "
                          "says %016llx (%llu bytes), the state gives "
                          "%016llx (%zu bytes)",
                          (unsigned long long)sum, (unsigned long long)bytes,
                          (unsigned long long)s, b);
    } else if (rv == PC_ERR_INVALID) {
        rv = bad(why, "%s", "base record: the state has no checksum");
    }
    if (rv != PC_OK) {
        cJSON_Delete(doc);
        return rv;
    }
    snprintf(rp->game, sizeof(rp->game), "%s", game);
    snprintf(rp->room, sizeof(rp->room), "%s", room);
    rp->deadline_ms = enter != NULL ? -1 : deadline;
    rp->entry_open = enter != NULL;
    rp->entry_timers = 0;
    rp->entry_from = entry_from;
    rp->doc = doc;
    rp->base_seq = rp->seq;
    rp->base_draws = rp->draws;
    rp->sum = sum;
    rp->bytes = bytes;
    return PC_OK;
}

/* A stable copy of a phase name for the replayed records (they outlive
 * the parsed record); a log naming more phases than any game has is
 * corrupt. */
static const char *intern(pc__replay *rp, const char *name)
{
    for (size_t i = 0; i < rp->nnames; i++) {
        if (strcmp(rp->names[i], name) == 0) {
            return rp->names[i];
        }
    }
    if (rp->nnames == PC__REPLAY_PHASES_MAX) {
        return NULL;
    }
    char *copy = pc_strdup(name);
    if (copy != NULL) {
        rp->names[rp->nnames++] = copy;
    }
    return copy;
}

static pc_err replay_timer(pc__replay *rp, const cJSON *rec, pc_error *why)
{
    uint64_t seq;
    int64_t deadline;
    if (!get_uint(rec, "seq", &seq) || !get_deadline(rec, &deadline)) {
        return bad(why, "%s", "timer record: a member is missing or malformed");
    }
    if (seq != rp->seq) {
        return pc_error_set(why, PC_ERR_INVALID, "log_corrupt",
                            "timer record: seq %llu, but the state is at "
                            "seq %llu",
                            (unsigned long long)seq,
                            (unsigned long long)rp->seq);
    }
    rp->deadline_ms = deadline;
    if (rp->entry_timers < 2) {
        rp->entry_timers++;
    }
    return PC_OK;
}

static pc_err replay_change(pc__replay *rp, cJSON *rec, pc_error *why)
{
    uint64_t seq, draws, sum, bytes;
    int64_t time_ms, line;
    const char *kind = get_str(rec, "kind", 0);
    const char *reason = get_str(rec, "reason", 0);
    const char *file = get_str(rec, "file", 0);
    const char *func = get_str(rec, "func", 0);
    const char *phase = get_str(rec, "phase", 64);
    const char *prev = get_str(rec, "prev", 64);
    cJSON *patch = cJSON_GetObjectItemCaseSensitive(rec, "patch");
    if (!get_uint(rec, "seq", &seq) || !get_int(rec, "time", &time_ms) ||
        kind == NULL || !get_int(rec, "line", &line) ||
        !get_uint(rec, "draws", &draws) || !get_hex(rec, "sum", &sum) ||
        !get_uint(rec, "bytes", &bytes) || !cJSON_IsObject(patch) ||
        reason == NULL || file == NULL || func == NULL || phase == NULL ||
        prev == NULL || line < INT32_MIN || line > INT32_MAX) {
        return bad(why, "%s",
                   "change record: a member is missing or malformed");
    }
    pc_cause cause;
    const char *wrong = pc__cause_parse(rec, seq, &cause);
    if (wrong != NULL) {
        return bad(why, "change record seq %llu: malformed \"cause\": %s",
                   (unsigned long long)seq, wrong);
    }
    /* A stimulus's changes are consecutive: one that continues a stimulus
     * continues the previous record's (when this file shows it). */
    if (cause.first_seq != 0 && cause.first_seq < seq && seq == rp->seq + 1 &&
        rp->cause_first != 0 && cause.first_seq != rp->cause_first) {
        return bad(why,
                   "change record seq %llu: malformed \"cause\": \"first\" "
                   "is %llu, but seq %llu began its stimulus at %llu",
                   (unsigned long long)seq, (unsigned long long)cause.first_seq,
                   (unsigned long long)rp->seq,
                   (unsigned long long)rp->cause_first);
    }
    bool transition = strcmp(kind, "transition") == 0;
    bool event = strcmp(kind, "event") == 0;
    pc_event ev;
    wrong = pc__event_parse(rec, event, &ev);
    if (wrong != NULL) {
        return bad(why, "change record seq %llu: malformed \"event\": %s",
                   (unsigned long long)seq, wrong);
    }
    /* An event changes nothing: same phase, an empty patch (so the sum
     * and bytes checked below are the state's as it was). */
    if (event && cJSON_GetArraySize(patch) != 0) {
        return bad(why, "change record seq %llu: an event's patch is not {}",
                   (unsigned long long)seq);
    }
    const cJSON *cur = cJSON_GetObjectItemCaseSensitive(rp->doc, "phase");
    if (seq != rp->seq + 1) {
        return pc_error_set(why, PC_ERR_INVALID, "log_corrupt",
                            "change record: seq %llu follows seq %llu",
                            (unsigned long long)seq,
                            (unsigned long long)rp->seq);
    }
    if ((!transition && !event && strcmp(kind, "update") != 0) ||
        strcmp(prev, cur->valuestring) != 0 ||
        (!transition && strcmp(phase, prev) != 0) || draws < rp->draws) {
        return bad(why,
                   "change record: kind, phase or draws do not follow "
                   "the state (phase %s)",
                   cur->valuestring);
    }
    const char *iphase = intern(rp, phase);
    const char *iprev = intern(rp, prev);
    if (rp->nnames == PC__REPLAY_PHASES_MAX &&
        (iphase == NULL || iprev == NULL)) {
        return bad(why, "change record: more than %d phase names",
                   PC__REPLAY_PHASES_MAX);
    }
    pc__record r;
    pc__merge_log log = {0};
    pc__digest_txn tx;
    pc__doc_patch dp;
    pc__doc_patch_init(&dp, patch, transition ? phase : NULL);
    pc__digest_begin(&tx, &rp->digest);
    cJSON *undo = cJSON_CreateObject();
    if (iphase == NULL || iprev == NULL || undo == NULL ||
        pc__record_init(&r, rp->hist.capacity > 0, patch, reason, file, func,
                        &cause, event ? &ev : NULL) != PC_OK) {
        cJSON_Delete(undo);
        return PC_ERR_NOMEM;
    }
    pc_err rv = pc__history_reserve(&rp->hist);
    if (rv == PC_OK) {
        rv = pc__merge_log_init(&log, &dp.root);
    }
    uint64_t s = 0;
    size_t b = 0;
    if (rv == PC_OK) {
        rv =
            pc__merge_apply_tracked(rp->doc, &dp.root, undo, &log, &tx, &s, &b);
        if (rv == PC_ERR_INVALID) {
            rv = bad(why, "%s", "change record: the patch does not apply");
        } else if (rv == PC_OK && (s != sum || b != bytes)) {
            rv = pc_error_set(why, PC_ERR_INVALID, "log_corrupt",
                              "state checksum mismatch at seq %llu: the "
                              "record says %016llx (%llu bytes), the replay "
                              "gives %016llx (%zu bytes)",
                              (unsigned long long)seq, (unsigned long long)sum,
                              (unsigned long long)bytes, (unsigned long long)s,
                              b);
            pc__merge_apply_consume(rp->doc, undo, &log);
        } else if (rv == PC_OK && (rv = pc__digest_reserve(&tx)) != PC_OK) {
            pc__merge_apply_consume(rp->doc, undo, &log);
        }
    }
    pc__merge_log_fini(&log);
    if (rv != PC_OK) {
        pc__digest_abort(&tx);
        cJSON_Delete(undo);
        pc__record_release(&r);
        return rv;
    }
    pc__digest_commit(&tx);
    pc_change *c = &r.change;
    c->seq = seq;
    c->time_ms = time_ms;
    c->kind = transition ? PC_CHANGE_TRANSITION
              : event    ? PC_CHANGE_EVENT
                         : PC_CHANGE_UPDATE;
    c->phase = iphase;
    c->prev_phase = iprev;
    c->line = (int)line;
    c->checksum = sum;
    c->state_bytes = (size_t)bytes;
    c->patch = r.patch;
    r.inverse = undo;
    r.draws = draws;
    pc__history_push(&rp->hist, &r);
    rp->changes++;
    rp->cause_first = cause.first_seq;
    if (transition) {
        /* A transition always disarms the old phase's timer; what the new
         * phase's entry arms follows in timer records, unless a crash came
         * first. */
        rp->deadline_ms = -1;
        rp->entry_open = true;
        rp->entry_timers = 0;
        rp->entry_from = iprev;
    } else {
        rp->entry_open = false;
    }
    rp->seq = seq;
    rp->time_ms = time_ms;
    rp->draws = draws;
    rp->sum = sum;
    rp->bytes = bytes;
    return PC_OK;
}

pc_json_limits pc__record_limits(void)
{
    pc_json_limits lim = {.max_depth = PC_JSON_DEPTH_CEILING,
                          .max_string = PC_CHANGELOG_FRAME_MAX,
                          .max_nodes = (size_t)1 << 40,
                          .max_bytes = PC_CHANGELOG_FRAME_MAX,
                          .max_state_bytes = (size_t)1 << 40};
    return lim;
}

pc_err pc__replay_record(pc__replay *rp, const char *payload, size_t len,
                         pc_error *why)
{
    pc_json_limits lim = pc__record_limits();
    cJSON *rec = NULL;
    pc_error e = {0};
    pc_err rv = pc_json_parse(payload, len, &lim, &rec, &e);
    if (rv == PC_ERR_NOMEM) {
        return rv;
    }
    if (rv != PC_OK || !cJSON_IsObject(rec)) {
        cJSON_Delete(rec);
        return bad(why, "the record does not parse: %s", e.message);
    }
    const char *type = get_str(rec, "type", 0);
    if (type == NULL) {
        rv = bad(why, "%s", "the record has no \"type\"");
    } else if (rp->records == 0) {
        rv = strcmp(type, "room") == 0
                 ? replay_base(rp, rec, why)
                 : bad(why, "the first record is \"%s\", not \"room\"", type);
    } else if (strcmp(type, "change") == 0) {
        rv = replay_change(rp, rec, why);
    } else if (strcmp(type, "timer") == 0) {
        rv = replay_timer(rp, rec, why);
    } else {
        rv = bad(why, "unexpected record type \"%s\"", type);
    }
    cJSON_Delete(rec);
    if (rv == PC_OK) {
        rp->records++;
    }
    return rv;
}

pc_err pc__log_read(const char *path, pc__replay *rp, pc_changelog_report *rep)
{
    snprintf(rep->path, sizeof(rep->path), "%s", path);
    pc__logreader r;
    pc_err rv = pc__logreader_open(&r, path, rep);
    while (rv == PC_OK) {
        const char *payload;
        size_t len;
        uint64_t at;
        rv = pc__logreader_next(&r, &payload, &len, &at, rep);
        if (rv != PC_OK) {
            break;
        }
        pc_error why = {0};
        rv = pc__replay_record(rp, payload, len, &why);
        if (rv == PC_ERR_INVALID) {
            rep->problem = PC_CHANGELOG_CORRUPT;
            rep->offset = at;
            say(rep, "%s: offset %llu: %s", path, (unsigned long long)at,
                why.message);
        } else if (rv == PC_OK) {
            rep->valid_bytes = r.off;
        }
    }
    if (rv == PC_ERR_NOT_FOUND && r.fd >= 0) {
        rv = PC_OK; /* the clean end of the file */
    }
    pc__logreader_close(&r);
    rep->records = rp->records;
    rep->base_seq = rp->base_seq;
    rep->last_seq = rp->seq;
    snprintf(rep->room, sizeof(rep->room), "%s", rp->room);
    snprintf(rep->game, sizeof(rep->game), "%s", rp->game);
    if (rv == PC_OK && rp->records == 0) {
        rep->problem = PC_CHANGELOG_CORRUPT;
        rep->offset = PC__LOG_HEADER_SIZE;
        say(rep, "%s: offset %d: the log has no base record", path,
            PC__LOG_HEADER_SIZE);
        rv = PC_ERR_INVALID;
    }
    return rv;
}

/* ---- Archived segments ------------------------------------------------ */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

pc_err pc__segments_list(const char *path, uint64_t **out, size_t *count)
{
    char dir[PC_CHANGELOG_PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *name = slash != NULL ? slash + 1 : path;
    if (slash == NULL) {
        snprintf(dir, sizeof(dir), ".");
    } else if (slash == path) {
        snprintf(dir, sizeof(dir), "/");
    } else {
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    }
    *out = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        return PC_OK;
    }
    size_t n = 0;
    size_t cap = 0;
    size_t nlen = strlen(name);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *p = de->d_name;
        if (strncmp(p, name, nlen) != 0 || p[nlen] != '.') {
            continue;
        }
        p += nlen + 1;
        size_t digits = strspn(p, "0123456789");
        if (digits == 0 || digits > 16 || p[digits] != '\0') {
            continue;
        }
        if (n == cap) {
            cap = cap != 0 ? cap * 2 : 16;
            uint64_t *grown = pc_realloc(*out, cap * sizeof(*grown));
            if (grown == NULL) {
                closedir(d);
                pc_free(*out);
                *out = NULL;
                return PC_ERR_NOMEM;
            }
            *out = grown;
        }
        (*out)[n++] = strtoull(p, NULL, 10);
    }
    closedir(d);
    if (n > 0) {
        qsort(*out, n, sizeof(**out), cmp_u64);
    }
    *count = n;
    return PC_OK;
}
