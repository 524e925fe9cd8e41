/*
 * update.c - the one mutation path: pc_update_phase_data, pc_transition,
 * their text forms and pc_room_event all end in change().
 *
 * change() prepares everything that can fail (record, patch copy, inverse,
 * validation, checksum, cache room) while keeping an inverse patch that
 * undoes the in-place apply without allocating; then, past the point of no
 * return, it numbers the change, records it and hands it to the sinks. An
 * event takes the same path without the apply, the validator and the
 * size check: its state is the last one, so it cannot fail there. It
 * owns no state of its own: it works on the room's layout (room.h), and
 * the room's life, sinks and timers stay in room.c.
 *
 * The update path, step by step (see docs/architecture.md):
 *
 *   check caller context -> check reason and patch -> tamper check (debug)
 *   -> reserve history slot, copy patch, allocate record strings
 *   -> apply in place, building the inverse and
 *      the checksum of the touched paths    --fail--> undo, return error
 *   -> validator on the proposed state         --no--> undo, return error
 *   -> state size, room in the checksum cache  --fail--> undo, return error
 *   -> journal (the durable log, if any)      --fail--> undo, return error
 *   == point of no return ==
 *   -> exit callback (transitions) -> seq++, commit the checksum cache,
 *      record, history push
 *   -> sinks in order -> arm phase timer and enter callback (transitions)
 */
#include "phasecast/room.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/json.h"
#include "canon.h"
#include "digest.h"
#include "history.h"
#include "logevent.h"
#include "merge.h"
#include "room.h"

/* Record an error on the room and return its code. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 4, 5)))
#endif
static pc_err
fail(pc_room *r, pc_err err, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pc_err rv = pc__room_vfail(r, err, code, fmt, ap);
    va_end(ap);
    return rv;
}

/* A room keeps at most this much space for printing patches between
 * changes. */
#define PATCH_TEXT_KEEP ((size_t)16 << 10)

static pc_err check_patch(pc_room *r, const cJSON *patch)
{
    if (patch == NULL) {
        return PC_OK;
    }
    if (!cJSON_IsObject(patch)) {
        return fail(r, PC_ERR_INVALID, "invalid_patch",
                    "a patch must be a JSON object (RFC 7386 merge patch)");
    }
    /* The patch lands at depth 2 of the document (under "data"). */
    pc_json_limits lim = r->limits;
    lim.max_depth = r->limits.max_depth - 1;
    pc_error e = {0};
    pc_err rv = pc_json_check(patch, &lim, &e);
    if (rv != PC_OK) {
        return fail(r, rv,
                    rv == PC_ERR_LIMIT ? "limit_exceeded" : "invalid_patch",
                    "patch refused: %s", e.message);
    }
    /* With a journal or a sink to read it, printing it measures it and
     * the text is kept for them (pc__room_patch_text), who would otherwise
     * each print it again; printing stops at the limit, so a huge patch
     * costs no more memory than the limit allows. Without one, only the
     * length is needed, and measuring is cheaper than printing. */
    size_t len = 0;
    bool keep = r->journal_fn != NULL || r->nsinks > 0;
    rv = keep ? pc__canon_append(patch, &r->patch_text, &len,
                                 &r->patch_text_cap, r->limits.max_bytes)
              : pc__canon_length(patch, &len);
    if (rv == PC_ERR_LIMIT) {
        rv = pc__canon_length(patch, &len); /* for the message */
    }
    if (rv != PC_OK) {
        return fail(r, rv, NULL, "patch refused: %s", pc_strerror(rv));
    }
    if (len > r->limits.max_bytes) {
        return fail(r, PC_ERR_LIMIT, "limit_exceeded",
                    "patch is %zu bytes, the limit is %zu", len,
                    r->limits.max_bytes);
    }
    if (keep) {
        r->patch_text_len = len;
        r->patch_text_of = patch;
    }
    return PC_OK;
}

/* The printed patch is the copy's text now; after the sinks, nobody's. A
 * large buffer is not kept past its change. */
static void patch_text_release(pc_room *r)
{
    r->patch_text_of = NULL;
    if (r->patch_text_cap > PATCH_TEXT_KEEP) {
        pc_free(r->patch_text);
        r->patch_text = NULL;
        r->patch_text_cap = 0;
    }
}

/* An event's name, audience and data, checked like a patch is. */
static pc_err check_event(pc_room *r, const pc_event *ev)
{
    if (!pc__event_id_ok(ev->name)) {
        return fail(r, PC_ERR_INVALID, "invalid_event",
                    "an event name is 1 to %d of [A-Za-z0-9_.-]",
                    PC_EVENT_NAME_MAX);
    }
    bool to_player = ev->audience == PC_AUDIENCE_PLAYER;
    if ((ev->audience != PC_AUDIENCE_PUBLIC && !to_player &&
         ev->audience != PC_AUDIENCE_GM) ||
        (to_player ? !pc__event_id_ok(ev->player) : ev->player != NULL)) {
        return fail(r, PC_ERR_INVALID, "invalid_event",
                    "event %s: the audience is public, gm, or a player id "
                    "of 1 to %d of [A-Za-z0-9_.-] (and only then a player)",
                    ev->name, PC_EVENT_NAME_MAX);
    }
    if (ev->data == NULL) {
        return PC_OK; /* JSON null */
    }
    /* The data is held like a patch: one level below "data" at most. */
    pc_json_limits lim = r->limits;
    lim.max_depth = r->limits.max_depth - 1;
    pc_error e = {0};
    pc_err rv = pc_json_check(ev->data, &lim, &e);
    if (rv != PC_OK) {
        return fail(r, rv,
                    rv == PC_ERR_LIMIT ? "limit_exceeded" : "invalid_event",
                    "event %s: data refused: %s", ev->name, e.message);
    }
    size_t len = 0;
    rv = pc__canon_length(ev->data, &len);
    if (rv != PC_OK) {
        return fail(r, rv, NULL, "event %s: data refused: %s", ev->name,
                    pc_strerror(rv));
    }
    if (len > r->limits.max_bytes) {
        return fail(r, PC_ERR_LIMIT, "limit_exceeded",
                    "event %s: data is %zu bytes, the limit is %zu", ev->name,
                    len, r->limits.max_bytes);
    }
    return PC_OK;
}

#ifdef PC_TAMPER_CHECK
/* Debug builds: the document must still hash to what the last change
 * committed; anything else was written through a cast-away const. */
static pc_err check_tamper(pc_room *r)
{
    uint64_t sum = 0;
    pc_err rv = pc_canon_checksum(r->doc, &sum, NULL);
    if (rv == PC_ERR_NOMEM) {
        return fail(r, PC_ERR_NOMEM, NULL, "out of memory checking state");
    }
    if (rv == PC_OK && sum == r->checksum) {
        return PC_OK;
    }
    const pc__record *last = pc__history_find_seq(&r->history, r->seq);
    if (last != NULL) {
        return fail(r, PC_ERR_TAMPERED, "state_tampered",
                    "room %s: state was modified outside "
                    "pc_update_phase_data after seq %llu (\"%s\" at %s:%d)",
                    r->id, (unsigned long long)r->seq, last->change.reason,
                    last->change.file, last->change.line);
    }
    return fail(r, PC_ERR_TAMPERED, "state_tampered",
                "room %s: state was modified outside pc_update_phase_data "
                "after seq %llu",
                r->id, (unsigned long long)r->seq);
}
#endif

/* Everything change() prepares before the point of no return. */
typedef struct prepared {
    pc__record rec;
    cJSON *undo;       /* inverse over the whole document */
    pc__merge_log log; /* where deleted members stood, for rollback */
    pc__digest_txn tx; /* the checksum's side of the change */
} prepared;

static void prepared_release(prepared *p)
{
    pc__record_release(&p->rec);
    cJSON_Delete(p->undo);
    pc__merge_log_fini(&p->log);
    pc__digest_abort(&p->tx);
}

/* Allocate everything the change needs; nothing in the room changes. */
static pc_err prepare(pc_room *r, const cJSON *patch, const pc_event *ev,
                      const pc__doc_patch *dp, const char *reason,
                      const char *file, const char *func, prepared *p)
{
    memset(p, 0, sizeof(*p));
    pc__digest_begin(&p->tx, &r->digest);
    if (pc__history_reserve(&r->history) != PC_OK) {
        return PC_ERR_NOMEM;
    }
    if (pc__merge_log_init(&p->log, &dp->root) != PC_OK) {
        return PC_ERR_NOMEM;
    }
    /* The record keeps its own copy of the patch only when it is kept. */
    if (pc__record_init(&p->rec, r->history.capacity > 0, patch, reason, file,
                        func, &r->cause, ev) != PC_OK) {
        return PC_ERR_NOMEM;
    }
    p->undo = cJSON_CreateObject();
    return p->undo != NULL ? PC_OK : PC_ERR_NOMEM;
}

/* Undo an applied-but-uncommitted change; never allocates. */
static void rollback(pc_room *r, prepared *p)
{
    pc__merge_apply_consume(r->doc, p->undo, &p->log);
    pc__digest_abort(&p->tx);
    /* The data object itself is never replaced, so r->data stays valid. */
}

#ifdef PC_TAMPER_CHECK
/* Debug builds: after every commit, the incremental checksum must equal a
 * full recompute, container by container. A difference is either a
 * framework bug or a validator or exit callback that wrote to the
 * proposed state through a cast-away const; the change is committed by
 * then, so this stops the program rather than return an error. */
static void check_digest(const pc_room *r)
{
    if (!pc__digest_verify(&r->digest, r->doc)) {
        fprintf(stderr,
                "phasecast: room %s: after seq %llu the incremental checksum "
                "differs from a full recompute (a validator or exit "
                "callback wrote to the state, or a framework bug)\n",
                r->id, (unsigned long long)r->seq);
        abort();
    }
}
#endif

/* What a change is: its event (filled in by pc__record_init) makes it one. */
static pc_change_kind kind_of(const pc_phase *next, const pc_change *c)
{
    if (c->event.name != NULL) {
        return PC_CHANGE_EVENT;
    }
    return next != NULL ? PC_CHANGE_TRANSITION : PC_CHANGE_UPDATE;
}

/* Hand the proposed change to the journal (c holds the record's text).
 * A refusal other than "out of memory" or "too big", which wrote nothing,
 * fails the room: whether the change reached the disk is unknown. */
static pc_err journal(pc_room *r, const pc_phase *next, const cJSON *patch,
                      const pc_change *c, int line, int64_t now, uint64_t sum,
                      size_t bytes)
{
    static const cJSON empty = {.type = cJSON_Object};
    pc_change j = *c;
    j.seq = r->seq + 1;
    j.time_ms = now;
    j.kind = kind_of(next, c);
    j.phase = next != NULL ? next->name : r->phase->name;
    j.prev_phase = r->phase->name;
    j.line = line;
    j.patch = patch != NULL ? patch : &empty;
    j.checksum = sum;
    j.state_bytes = bytes;
    if (j.cause.first_seq == 0) {
        j.cause.first_seq = j.seq; /* this change begins its stimulus */
    }
    pc_error why = {0};
    r->busy |= PC__IN_JOURNAL;
    pc_err rv = r->journal_fn(r, &j, &why, r->journal_arg);
    r->busy &= ~(unsigned)PC__IN_JOURNAL;
    if (rv == PC_OK) {
        return PC_OK;
    }
    if (why.err == PC_OK) {
        pc_error_set(&why, rv, NULL, "the journal refused seq %llu: %s",
                     (unsigned long long)j.seq, pc_strerror(rv));
    }
    if (rv == PC_ERR_NOMEM || rv == PC_ERR_LIMIT) {
        return fail(r, rv, why.code, "%s", why.message);
    }
    r->failure = why;
    r->failure.err = PC_ERR_IO;
    return fail(r, PC_ERR_IO, "log_write_failed",
                "room %s: seq %llu was not committed and the room stopped "
                "accepting changes: %s",
                r->id, (unsigned long long)j.seq, why.message);
}

static pc_err change_inner(pc_room *r, const pc_phase *next, const cJSON *patch,
                           const pc_event *ev, const char *reason,
                           const char *file, int line, const char *func,
                           const char *what);

/* A change made outside any stimulus is the host's own: it, and whatever
 * enter callbacks it sets off, are one HOST stimulus. ev is an event's
 * (then next and patch are NULL), or NULL. */
static pc_err change(pc_room *r, const pc_phase *next, const cJSON *patch,
                     const pc_event *ev, const char *reason, const char *file,
                     int line, const char *func, const char *what)
{
    pc__cause_begin(r, PC_CAUSE_HOST, NULL, NULL, NULL, NULL);
    pc_err rv =
        change_inner(r, next, patch, ev, reason, file, line, func, what);
    pc__cause_end(r);
    return rv;
}

/* Apply the prepared patch, run the validator and check the state's size:
 * on success *sum and *bytes describe the proposed state; on failure the
 * document is as it was and the error is recorded. */
static pc_err apply(pc_room *r, const pc__doc_patch *dp, prepared *p,
                    uint64_t *sum, size_t *bytes)
{
    pc_err rv = pc__merge_apply_tracked(r->doc, &dp->root, p->undo, &p->log,
                                        &p->tx, sum, bytes);
    if (rv != PC_OK) {
        if (rv == PC_ERR_NOMEM) {
            return fail(r, rv, NULL, "out of memory applying patch");
        }
        return fail(r, rv, "invalid_patch", "patch refused: %s",
                    pc_strerror(rv));
    }
    if (r->game->validate != NULL) {
        pc_error why = {0};
        r->busy |= PC__IN_VALIDATE;
        rv = r->game->validate(r, r->doc, &why, r->arg);
        r->busy &= ~(unsigned)PC__IN_VALIDATE;
        if (rv != PC_OK) {
            rollback(r, p);
            if (why.err == PC_OK) {
                return fail(r, PC_ERR_REJECTED, "rejected",
                            "the game's validator refused the change");
            }
            return fail(r, PC_ERR_REJECTED, why.code, "%s", why.message);
        }
    }
    rv = *bytes > r->limits.max_state_bytes ? PC_ERR_LIMIT
                                            : pc__digest_reserve(&p->tx);
    if (rv != PC_OK) {
        rollback(r, p);
        if (rv == PC_ERR_LIMIT) {
            return fail(r, rv, "limit_exceeded",
                        "the state would be %zu bytes, the limit is %zu",
                        *bytes, r->limits.max_state_bytes);
        }
        return fail(r, rv, NULL, "out of memory caching the checksum");
    }
    return PC_OK;
}

static pc_err change_inner(pc_room *r, const pc_phase *next, const cJSON *patch,
                           const pc_event *ev, const char *reason,
                           const char *file, int line, const char *func,
                           const char *what)
{
    pc_err rv = pc__room_check_context(r, what);
    if (rv != PC_OK) {
        return rv;
    }
    /* Whatever an earlier change left: only check_patch sets it. */
    r->patch_text_of = NULL;
    if (reason == NULL || reason[0] == '\0') {
        return fail(r, PC_ERR_INVALID, "invalid_reason",
                    "%s needs a non-empty reason", what);
    }
    if (strlen(reason) > PC_REASON_MAX) {
        return fail(r, PC_ERR_LIMIT, "limit_exceeded",
                    "reason is longer than %d bytes", PC_REASON_MAX);
    }
    if ((rv = ev != NULL ? check_event(r, ev) : check_patch(r, patch)) !=
        PC_OK) {
        return rv;
    }
#ifdef PC_TAMPER_CHECK
    if ((rv = check_tamper(r)) != PC_OK) {
        return rv;
    }
#endif
    pc__doc_patch dp;
    pc__doc_patch_init(&dp, patch, next != NULL ? next->name : NULL);
    prepared p;
    rv = prepare(r, patch, ev, &dp, reason, file != NULL ? file : "?",
                 func != NULL ? func : "?", &p);
    if (rv != PC_OK) {
        prepared_release(&p);
        return fail(r, rv, NULL, "out of memory preparing change");
    }
    /* An event leaves the state as it is: nothing to apply or validate,
     * and its inverse stays {}. */
    uint64_t sum = r->checksum;
    size_t bytes = r->state_bytes;
    if (ev == NULL && (rv = apply(r, &dp, &p, &sum, &bytes)) != PC_OK) {
        prepared_release(&p);
        return rv;
    }
    int64_t now = pc__room_now(r);
    /* The PRNG's draws as the journal sees them, before an exit callback
     * can draw more: the record in history says what the log says. */
    p.rec.draws = pc_room_draws(r);
    if (r->journal_fn != NULL &&
        (rv = journal(r, next, patch, &p.rec.change, line, now, sum, bytes)) !=
            PC_OK) {
        rollback(r, &p);
        prepared_release(&p);
        return rv;
    }

    /* Point of no return: nothing below allocates or fails. */
    const pc_phase *prev = r->phase;
    if (next != NULL && prev->exit != NULL) {
        r->busy |= PC__IN_EXIT;
        prev->exit(r, next->name, r->arg);
        r->busy &= ~(unsigned)PC__IN_EXIT;
    }
    /* seq first: a timer host told of the disarm sees the new change's. */
    r->seq++;
    if (next != NULL) {
        pc__room_timer_disarm_quiet(r); /* logged by pc__room_timer_enter */
        r->phase = next;
    }
    r->checksum = sum;
    r->state_bytes = bytes;
    pc__digest_commit(&p.tx);
#ifdef PC_TAMPER_CHECK
    check_digest(r);
#endif
    pc_change *c = &p.rec.change;
    c->seq = r->seq;
    c->time_ms = now;
    c->kind = kind_of(next, c);
    c->phase = r->phase->name;
    c->prev_phase = prev->name;
    c->line = line;
    c->checksum = sum;
    c->state_bytes = bytes;
    if (r->cause.first_seq == 0) {
        r->cause.first_seq = r->seq;
    }
    c->cause.first_seq = r->cause.first_seq;
    p.rec.inverse = p.undo;
    p.undo = NULL;
    pc__merge_log_fini(&p.log);

    static const cJSON empty = {.type = cJSON_Object};
    pc_change sent;
    if (r->history.capacity > 0) {
        c->patch = p.rec.patch;
        pc__history_push(&r->history, &p.rec);
        sent = r->history
                   .ring[(r->history.first + r->history.count - 1) %
                         r->history.allocated]
                   .change;
    } else {
        c->patch = patch != NULL ? patch : &empty;
        sent = *c;
    }
    pc_error_clear(&r->last_error);
    /* The sinks see the copy; an exit callback that made a change of its
     * own has taken the text over, and then it is nobody's. */
    r->patch_text_of =
        patch != NULL && r->patch_text_of == patch ? sent.patch : NULL;
    pc__room_dispatch(r, &sent);
    patch_text_release(r);
    if (r->history.capacity == 0) {
        pc__record_release(&p.rec);
    }
    if (next != NULL && !r->doomed) {
        pc__room_timer_enter(r, next);
        if (next->enter != NULL) {
            r->transitions++;
            next->enter(r, prev->name, r->arg);
            r->transitions--;
        }
    }
    return PC_OK;
}

pc_err pc_update_phase_data_at(pc_room *room, const cJSON *patch,
                               const char *reason, const char *file, int line,
                               const char *func)
{
    if (room == NULL) {
        return PC_ERR_INVALID;
    }
    if (patch == NULL) {
        return fail(room, PC_ERR_INVALID, "invalid_patch",
                    "pc_update_phase_data needs a patch object");
    }
    pc__room_enter(room);
    pc_err rv = change(room, NULL, patch, NULL, reason, file, line, func,
                       "pc_update_phase_data");
    pc__room_leave(room);
    return rv;
}

/* Parse a text patch with the room's limits (one level less deep: it lands
 * under "data"); a refusal is recorded on the room. */
static pc_err parse_patch_text(pc_room *room, const char *json_text,
                               const char *what, cJSON **patch)
{
    if (json_text == NULL) {
        return fail(room, PC_ERR_INVALID, "invalid_patch", "%s needs JSON text",
                    what);
    }
    pc_error e = {0};
    pc_json_limits lim = room->limits;
    lim.max_depth = room->limits.max_depth - 1;
    pc_err rv = pc_json_parse(json_text, strlen(json_text), &lim, patch, &e);
    if (rv == PC_ERR_NOMEM) {
        return fail(room, rv, NULL, "out of memory parsing the patch");
    }
    if (rv != PC_OK) {
        return fail(room, rv,
                    rv == PC_ERR_LIMIT ? "limit_exceeded" : "invalid_patch",
                    "patch text refused: %s", e.message);
    }
    return PC_OK;
}

pc_err pc_update_phase_text_at(pc_room *room, const char *json_text,
                               const char *reason, const char *file, int line,
                               const char *func)
{
    if (room == NULL) {
        return PC_ERR_INVALID;
    }
    cJSON *patch = NULL;
    pc_err rv =
        parse_patch_text(room, json_text, "pc_update_phase_text", &patch);
    if (rv == PC_OK) {
        rv = pc_update_phase_data_at(room, patch, reason, file, line, func);
        cJSON_Delete(patch);
    }
    return rv;
}

pc_err pc_transition_text_at(pc_room *room, const char *next,
                             const char *json_text, const char *reason,
                             const char *file, int line, const char *func)
{
    if (room == NULL) {
        return PC_ERR_INVALID;
    }
    cJSON *patch = NULL;
    pc_err rv = parse_patch_text(room, json_text, "pc_transition_text", &patch);
    if (rv == PC_OK) {
        rv = pc_transition_at(room, next, patch, reason, file, line, func);
        cJSON_Delete(patch);
    }
    return rv;
}

pc_err pc_transition_at(pc_room *room, const char *next, const cJSON *patch,
                        const char *reason, const char *file, int line,
                        const char *func)
{
    if (room == NULL) {
        return PC_ERR_INVALID;
    }
    const pc_phase *to =
        next != NULL ? pc__room_find_phase(room->game, next) : NULL;
    if (to == NULL) {
        return fail(room, PC_ERR_PHASE, "unknown_phase",
                    "game %s has no phase %s", room->game->name,
                    next != NULL ? next : "(null)");
    }
    if (room->transitions >= PC_TRANSITION_DEPTH_MAX) {
        return fail(room, PC_ERR_LIMIT, "limit_exceeded",
                    "more than %d transitions chained from enter callbacks",
                    PC_TRANSITION_DEPTH_MAX);
    }
    pc__room_enter(room);
    pc_err rv = change(room, to, patch, NULL, reason, file, line, func,
                       "pc_transition");
    pc__room_leave(room);
    return rv;
}

pc_err pc_room_event_at(pc_room *room, pc_audience audience, const char *player,
                        const char *name, const cJSON *data, const char *reason,
                        const char *file, int line, const char *func)
{
    if (room == NULL) {
        return PC_ERR_INVALID;
    }
    pc_event ev = {
        .name = name, .data = data, .audience = audience, .player = player};
    pc__room_enter(room);
    pc_err rv = change(room, NULL, NULL, &ev, reason, file, line, func,
                       "pc_room_event");
    pc__room_leave(room);
    return rv;
}
