/*
 * cmd_stream.c - the commands that walk the whole history or its future:
 * export (JSON lines), verify (every frame and checksum) and follow (a
 * live tail).
 */
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"

#include "cmd.h"

volatile sig_atomic_t insp_stop;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The change record of e, in the change log's shape (durability.md). */
static cJSON *record_of(const pc_timeline_entry *e)
{
    cJSON *r = cJSON_CreateObject();
    char hex[17];
    insp_hex64(e->sum, hex);
    bool ok = r != NULL && cJSON_AddStringToObject(r, "type", "change") &&
              cJSON_AddNumberToObject(r, "seq", (double)e->seq) &&
              cJSON_AddNumberToObject(r, "time", (double)e->time_ms) &&
              cJSON_AddStringToObject(r, "kind", insp_kind_name(e->kind)) &&
              cJSON_AddStringToObject(r, "phase", e->phase) &&
              cJSON_AddStringToObject(r, "prev", e->prev) &&
              cJSON_AddStringToObject(r, "reason", e->reason) &&
              cJSON_AddStringToObject(r, "file", e->file) &&
              cJSON_AddNumberToObject(r, "line", e->line) &&
              cJSON_AddStringToObject(r, "func", e->func) &&
              cJSON_AddNumberToObject(r, "draws", (double)e->draws) &&
              cJSON_AddStringToObject(r, "sum", hex) &&
              cJSON_AddNumberToObject(r, "bytes", (double)e->bytes);
    if (ok) {
        cJSON *p = cJSON_Duplicate(e->patch, true);
        ok = p != NULL && cJSON_AddItemToObject(r, "patch", p);
    }
    if (ok && e->kind == PC_CHANGE_EVENT) {
        cJSON *ev = insp_event_json(&e->event);
        ok = ev != NULL && cJSON_AddItemToObject(r, "event", ev);
    }
    if (ok && e->cause != NULL) {
        cJSON *c = cJSON_Duplicate(e->cause, true);
        ok = c != NULL && cJSON_AddItemToObject(r, "cause", c);
    }
    if (!ok) {
        cJSON_Delete(r);
        return NULL;
    }
    return r;
}

int insp_cmd_export(insp_ctx *cx, int argc, char **argv)
{
    insp_opt opts[] = {{"--from", true, NULL}, {"--to", true, NULL}};
    char *pos[1];
    if (insp_parse(cx, argc, argv, opts, 2, pos, 0) < 0) {
        return 2;
    }
    pc_timeline *tl = cx->src->tl;
    uint64_t from = pc_timeline_first_seq(tl);
    uint64_t to = pc_timeline_last_seq(tl);
    if ((opts[0].value != NULL && !insp_seq_arg(cx, opts[0].value, &from)) ||
        (opts[1].value != NULL && !insp_seq_arg(cx, opts[1].value, &to))) {
        return 1;
    }
    if (to < from) {
        return insp_failf(cx->o, "bad_seq", "--to %llu is before --from %llu",
                          (unsigned long long)to, (unsigned long long)from);
    }
    /* The first line is a base record: the state the export starts at. */
    cJSON *state = NULL;
    pc_err rv = pc_timeline_state_at(tl, from, &state);
    if (rv != PC_OK) {
        return insp_tl_fail(cx, rv, "cannot rebuild the first state");
    }
    uint64_t sum = 0;
    size_t bytes = 0;
    cJSON *base = cJSON_CreateObject();
    char hex[17];
    if (pc_canon_checksum(state, &sum, &bytes) != PC_OK || base == NULL) {
        cJSON_Delete(state);
        cJSON_Delete(base);
        return insp_failf(cx->o, "nomem", "out of memory");
    }
    insp_hex64(sum, hex);
    cJSON_AddStringToObject(base, "type", "room");
    cJSON_AddNumberToObject(base, "format", 1);
    cJSON_AddStringToObject(base, "game", pc_timeline_game(tl));
    cJSON_AddStringToObject(base, "room", pc_timeline_room(tl));
    cJSON_AddNumberToObject(base, "seq", (double)from);
    cJSON_AddStringToObject(base, "sum", hex);
    cJSON_AddNumberToObject(base, "bytes", (double)bytes);
    uint64_t seed;
    uint64_t draws;
    if (pc_timeline_prng_at(tl, from, &seed, &draws)) {
        /* What import needs to continue the room's PRNG from here. */
        insp_hex64(seed, hex);
        cJSON_AddStringToObject(base, "seed", hex);
        cJSON_AddNumberToObject(base, "draws", (double)draws);
    }
    /* The state in canonical member order, so an export does not depend
     * on the order the source built it in. */
    char *canon = NULL;
    size_t clen = 0;
    cJSON *sorted = pc_canon_print(state, &canon, &clen) == PC_OK
                        ? cJSON_ParseWithLength(canon, clen)
                        : NULL;
    pc_free(canon);
    cJSON_Delete(state);
    if (sorted == NULL) {
        cJSON_Delete(base);
        return insp_failf(cx->o, "nomem", "out of memory");
    }
    cJSON_AddItemToObject(base, "state", sorted);
    insp_json_line(cx->o, base);
    cJSON_Delete(base);
    for (uint64_t s = from + 1; s <= to && s > from; s++) {
        pc_timeline_entry e;
        rv = pc_timeline_get(tl, s, &e);
        cJSON *r = rv == PC_OK ? record_of(&e) : NULL;
        if (r == NULL) {
            return insp_tl_fail(cx, rv != PC_OK ? rv : PC_ERR_NOMEM,
                                "cannot export");
        }
        insp_json_line(cx->o, r);
        cJSON_Delete(r);
    }
    return 0;
}

/* Print one file's verify report (text or JSON). */
static void report_file(insp_ctx *cx, const pc_changelog_report *rep, pc_err rv,
                        cJSON *files)
{
    static const char *names[] = {"clean", "torn", "corrupt"};
    const char *state = rv == PC_OK ? "clean"
                        : rv == PC_ERR_INVALID && rep->problem <= 2
                            ? names[rep->problem]
                            : pc_err_name(rv);
    if (files != NULL) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "path", rep->path);
        cJSON_AddStringToObject(f, "state", state);
        cJSON_AddNumberToObject(f, "base_seq", (double)rep->base_seq);
        cJSON_AddNumberToObject(f, "last_seq", (double)rep->last_seq);
        cJSON_AddNumberToObject(f, "records", (double)rep->records);
        cJSON_AddNumberToObject(f, "valid_bytes", (double)rep->valid_bytes);
        cJSON_AddNumberToObject(f, "file_bytes", (double)rep->file_bytes);
        if (rv != PC_OK) {
            cJSON_AddNumberToObject(f, "offset", (double)rep->offset);
            cJSON_AddStringToObject(f, "message", rep->message);
        }
        cJSON_AddItemToArray(files, f);
        return;
    }
    const insp_out *o = cx->o;
    fprintf(o->f,
            "%s: %s%s%s: seq %llu..%llu, %llu records, %llu of %llu "
            "bytes valid",
            rep->path, insp_sty(o, rv == PC_OK ? S_ADDED : S_BAD), state,
            insp_sty(o, S_RESET), (unsigned long long)rep->base_seq,
            (unsigned long long)rep->last_seq, (unsigned long long)rep->records,
            (unsigned long long)rep->valid_bytes,
            (unsigned long long)rep->file_bytes);
    if (rv != PC_OK) {
        fprintf(o->f, "; at offset %llu: %s", (unsigned long long)rep->offset,
                rep->message);
    }
    fputc('\n', o->f);
}

/* The archived segments of the log at path: <path>.<digits>, sorted by
 * base seq. *out is freed by the caller (each name and the array). */
static size_t segments(const char *path, char ***out)
{
    char dir[PC_CHANGELOG_PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *base = slash != NULL ? slash + 1 : path;
    snprintf(dir, sizeof(dir), "%.*s", slash != NULL ? (int)(slash - path) : 1,
             slash != NULL ? path : ".");
    if (slash == path) {
        snprintf(dir, sizeof(dir), "/");
    }
    *out = NULL;
    DIR *d = opendir(dir);
    if (d == NULL) {
        return 0;
    }
    size_t n = 0;
    size_t blen = strlen(base);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *nm = de->d_name;
        if (strncmp(nm, base, blen) != 0 || nm[blen] != '.') {
            continue;
        }
        const char *p = nm + blen + 1;
        size_t digits = strspn(p, "0123456789");
        if (digits == 0 || p[digits] != '\0' || digits > 19) {
            continue;
        }
        char **grown = realloc(*out, (n + 1) * sizeof(char *));
        char *full = malloc(strlen(dir) + strlen(nm) + 2);
        if (grown == NULL || full == NULL) {
            free(full);
            *out = grown != NULL ? grown : *out;
            break;
        }
        *out = grown;
        sprintf(full, "%s/%s", dir, nm);
        (*out)[n++] = full;
    }
    closedir(d);
    /* Sort by the numeric suffix (insertion sort: few files). */
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0; j--) {
            unsigned long long a =
                strtoull(strrchr((*out)[j - 1], '.') + 1, NULL, 10);
            unsigned long long b =
                strtoull(strrchr((*out)[j], '.') + 1, NULL, 10);
            if (a <= b) {
                break;
            }
            char *t = (*out)[j];
            (*out)[j] = (*out)[j - 1];
            (*out)[j - 1] = t;
        }
    }
    return n;
}

int insp_verify_log(insp_ctx *cx, const char *path)
{
    char **segs = NULL;
    size_t nseg = segments(path, &segs);
    cJSON *doc = cx->o->json ? cJSON_CreateObject() : NULL;
    cJSON *files = doc != NULL ? cJSON_AddArrayToObject(doc, "files") : NULL;
    int status = 0;
    for (size_t i = 0; i <= nseg; i++) {
        const char *p = i < nseg ? segs[i] : path;
        pc_changelog_report rep;
        memset(&rep, 0, sizeof(rep));
        pc_err rv = pc_changelog_verify(p, &rep);
        if (rv != PC_OK && rep.path[0] == '\0') {
            snprintf(rep.path, sizeof(rep.path), "%s", p);
            snprintf(rep.message, sizeof(rep.message), "%s", pc_strerror(rv));
        }
        report_file(cx, &rep, rv, files);
        status = rv != PC_OK ? 1 : status;
    }
    for (size_t i = 0; i < nseg; i++) {
        free(segs[i]);
    }
    free(segs);
    /* The files one by one are fine: do they make one history? */
    pc_timeline *tl = NULL;
    pc_error err = {0};
    pc_err rv =
        status == 0 ? pc_timeline_open_log(path, 0, &tl, NULL, &err) : PC_OK;
    if (status == 0 && rv != PC_OK) {
        status = 1;
    }
    if (doc != NULL) {
        cJSON_AddBoolToObject(doc, "ok", status == 0);
        if (tl != NULL) {
            cJSON_AddNumberToObject(doc, "first",
                                    (double)pc_timeline_first_seq(tl));
            cJSON_AddNumberToObject(doc, "last",
                                    (double)pc_timeline_last_seq(tl));
        }
        if (status != 0 && rv != PC_OK) {
            cJSON_AddStringToObject(doc, "message", err.message);
        }
        insp_json_line(cx->o, doc);
        cJSON_Delete(doc);
    } else if (tl != NULL) {
        fprintf(cx->o->f,
                "history of room %s (%s): seqs %llu..%llu, every frame and "
                "state checksum verified\n",
                pc_timeline_room(tl), pc_timeline_game(tl),
                (unsigned long long)pc_timeline_first_seq(tl),
                (unsigned long long)pc_timeline_last_seq(tl));
    } else if (rv != PC_OK) {
        insp_fail(cx->o, &err);
    }
    pc_timeline_free(tl);
    return status;
}

int insp_cmd_verify(insp_ctx *cx, int argc, char **argv)
{
    char *pos[1];
    if (insp_parse(cx, argc, argv, NULL, 0, pos, 0) < 0) {
        return 2;
    }
    /* A live history was verified record by record as it arrived. */
    pc_timeline *tl = cx->src->tl;
    if (cx->o->json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddBoolToObject(doc, "ok", true);
        cJSON_AddNumberToObject(doc, "first",
                                (double)pc_timeline_first_seq(tl));
        cJSON_AddNumberToObject(doc, "last", (double)pc_timeline_last_seq(tl));
        insp_json_line(cx->o, doc);
        cJSON_Delete(doc);
    } else {
        fprintf(cx->o->f,
                "history of room %s (%s): seqs %llu..%llu, every state "
                "checksum verified\n",
                pc_timeline_room(tl), pc_timeline_game(tl),
                (unsigned long long)pc_timeline_first_seq(tl),
                (unsigned long long)pc_timeline_last_seq(tl));
    }
    return 0;
}

static void follow_row(insp_ctx *cx, uint64_t seq, const insp_widths *w)
{
    pc_timeline_entry e;
    if (pc_timeline_get(cx->src->tl, seq, &e) != PC_OK) {
        return;
    }
    if (cx->o->json) {
        cJSON *j = insp_entry_json(&e, true);
        if (j != NULL) {
            insp_json_line(cx->o, j);
        }
        cJSON_Delete(j);
    } else {
        insp_row(cx->o, &e, w);
    }
}

int insp_cmd_follow(insp_ctx *cx, int argc, char **argv)
{
    insp_opt opts[] = {{"--last", true, NULL},
                       {"--count", true, NULL},
                       {"--timeout", true, NULL},
                       {"--interval", true, NULL}};
    char *pos[1];
    if (insp_parse(cx, argc, argv, opts, 4, pos, 0) < 0) {
        return 2;
    }
    uint64_t last_n = 10;
    uint64_t count = 0;
    uint64_t timeout_s = 0;
    uint64_t interval = 100;
    if ((opts[0].value != NULL &&
         !insp_num(opts[0].value, 1u << 30, &last_n)) ||
        (opts[1].value != NULL && !insp_num(opts[1].value, 1u << 30, &count)) ||
        (opts[2].value != NULL &&
         !insp_num(opts[2].value, 86400 * 365, &timeout_s)) ||
        (opts[3].value != NULL &&
         (!insp_num(opts[3].value, 60000, &interval) || interval == 0))) {
        insp_failf(cx->o, "bad_option",
                   "--last, --count, --timeout take counts; --interval "
                   "1..60000 ms");
        return 2;
    }
    insp_widths w = {6, 24, 28, 7};
    pc_timeline *tl = cx->src->tl;
    uint64_t last = pc_timeline_last_seq(tl);
    uint64_t first = pc_timeline_first_seq(tl);
    uint64_t s = last - first > last_n ? last - last_n + 1 : first + 1;
    if (!cx->o->json) {
        fprintf(cx->o->f,
                "following room %s (%s) from seq %llu; every change's "
                "checksum is verified\n",
                pc_timeline_room(tl), pc_timeline_game(tl),
                (unsigned long long)last);
    }
    for (; s <= last; s++) {
        follow_row(cx, s, &w);
    }
    fflush(cx->o->f);
    uint64_t seen = 0;
    int64_t deadline =
        timeout_s > 0 ? mono_ms() + (int64_t)timeout_s * 1000 : INT64_MAX;
    uint64_t evicted = cx->src->evicted;
    while (!insp_stop && (count == 0 || seen < count)) {
        if (mono_ms() >= deadline) {
            return insp_failf(cx->o, "timeout",
                              "%llu of %llu changes seen before the timeout",
                              (unsigned long long)seen,
                              (unsigned long long)count);
        }
        size_t added = 0;
        pc_error err = {0};
        pc_err rv = insp_source_update(cx->src, &added, &err);
        if (rv != PC_OK) {
            return insp_fail(cx->o, &err);
        }
        tl = cx->src->tl;
        if (cx->src->evicted != evicted) {
            insp_failf(cx->o, "gap",
                       "%llu change(s) left the server's history before they "
                       "could be read; continuing from seq %llu",
                       (unsigned long long)(cx->src->evicted - evicted),
                       (unsigned long long)pc_timeline_first_seq(tl));
            evicted = cx->src->evicted;
            last = pc_timeline_first_seq(tl);
        }
        uint64_t now = pc_timeline_last_seq(tl);
        for (uint64_t q = last + 1; q <= now && (count == 0 || seen < count);
             q++) {
            follow_row(cx, q, &w);
            seen++;
        }
        last = now;
        fflush(cx->o->f);
        if (added == 0 && (count == 0 || seen < count)) {
            sleep_ms((long)interval);
        }
    }
    return 0;
}
