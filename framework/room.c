/*
 * room.c - the room, its phase machine and the one mutation path.
 *
 * Every change goes through change(): prepare everything that can fail
 * (copies, record, inverse, validation, checksum) while keeping an inverse
 * patch that undoes the in-place apply without allocating; then, past the
 * point of no return, number it, record it and hand it to the sinks. A room
 * is single-threaded and re-entrancy is explicit: sinks, validators and exit
 * callbacks are read-only, enter/action/timeout callbacks may change state.
 * This module does not schedule timers or talk to the network; hosts do.
 *
 * The update path, step by step (see docs/architecture.md):
 *
 *   check caller context -> check reason and patch -> tamper check (debug)
 *   -> reserve history slot, copy patch, allocate record strings
 *   -> apply in place, building the inverse and
 *      the checksum of the touched paths    --fail--> undo, return error
 *   -> validator on the proposed state         --no--> undo, return error
 *   -> state size, room in the checksum cache  --fail--> undo, return error
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
#include <time.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/history.h"
#include "phasecast/view.h"
#include "digest.h"
#include "history.h"
#include "merge.h"
#include "prng.h"
#include "room.h"

/* Contexts in which the room refuses to change state. */
enum { IN_SINK = 1u << 0, IN_VALIDATE = 1u << 1, IN_EXIT = 1u << 2 };

/* One registered sink. */
typedef struct sink {
    pc_sink_fn fn;
    void *arg;
    bool removed; /* removed while sinks were running; compacted after */
} sink;

struct pc_room {
    char id[PC_ROOM_ID_MAX + 1];
    const pc_game *game;
    const pc_phase *phase; /* current phase; its name is in doc too */
    cJSON *doc;            /* {"phase": name, "data": {...}} */
    cJSON *data;           /* doc's "data" member */
    uint64_t seq;
    uint64_t checksum; /* of doc as of seq */
    size_t state_bytes;
    pc__digest digest; /* container hashes of doc, for O(patch) checksums */
    uint64_t seed;
    pc__prng prng;
    pc_clock_fn clock;
    void *clock_arg;
    pc_json_limits limits;
    void *arg;
    pc__history history;
    sink *sinks;
    size_t nsinks;
    size_t sinks_cap;
    pc_error last_error;
    unsigned busy;   /* IN_* flags: state changes refused */
    int depth;       /* framework calls on the stack, for deferred free */
    int transitions; /* nested transitions in enter callbacks */
    bool started;
    bool doomed;      /* pc_room_free called while depth > 0 */
    bool sinks_dirty; /* some sinks are marked removed */
    bool timer_armed;
    int64_t deadline_ms;
    pc_timer_fn timer_fn;
    void *timer_arg;
};

static int64_t system_clock(void *arg)
{
    (void)arg;
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void pc_room_options_init(pc_room_options *o)
{
    memset(o, 0, sizeof(*o));
    o->id = "room";
    o->history_capacity = PC_HISTORY_DEFAULT;
}

static bool valid_name(const char *s, size_t max, bool allow_dot_dash)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++) {
        char c = s[n];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '_' ||
                  (allow_dot_dash && (c == '.' || c == '-'));
        if (!ok || n >= max) {
            return false;
        }
    }
    return n > 0;
}

static const pc_phase *find_phase(const pc_game *g, const char *name)
{
    for (size_t i = 0; i < g->nphases; i++) {
        if (strcmp(g->phases[i].name, name) == 0) {
            return &g->phases[i];
        }
    }
    return NULL;
}

static bool valid_game(const pc_game *g)
{
    if (g == NULL || g->name == NULL || g->phases == NULL || g->nphases == 0) {
        return false;
    }
    for (size_t i = 0; i < g->nphases; i++) {
        const char *n = g->phases[i].name;
        if (n == NULL || !valid_name(n, 64, false) ||
            g->phases[i].timeout_ms < 0) {
            return false;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(g->phases[j].name, n) == 0) {
                return false;
            }
        }
    }
    if (pc_view_check_game(g) != PC_OK) {
        return false;
    }
    return g->initial_phase == NULL || find_phase(g, g->initial_phase) != NULL;
}

pc_err pc_room_new(const pc_game *game, const pc_room_options *opts,
                   pc_room **out)
{
    pc_room_options defaults;
    if (opts == NULL) {
        pc_room_options_init(&defaults);
        opts = &defaults;
    }
    if (out == NULL || !valid_game(game)) {
        return PC_ERR_INVALID;
    }
    const char *id = opts->id != NULL ? opts->id : "room";
    if (!valid_name(id, PC_ROOM_ID_MAX, true)) {
        return PC_ERR_INVALID;
    }
    pc_room *r = pc_malloc(sizeof(*r));
    if (r == NULL) {
        return PC_ERR_NOMEM;
    }
    memset(r, 0, sizeof(*r));
    strcpy(r->id, id); /* length checked by valid_name */
    r->game = game;
    r->phase = game->initial_phase != NULL
                   ? find_phase(game, game->initial_phase)
                   : &game->phases[0];
    r->clock = opts->clock != NULL ? opts->clock : system_clock;
    r->clock_arg = opts->clock_arg;
    pc_json_limits_resolve(&opts->limits, &r->limits);
    if (r->limits.max_depth < 2) {
        /* The document {"phase", "data": {}} alone is two deep. */
        pc_free(r);
        return PC_ERR_INVALID;
    }
    r->arg = opts->arg;
    pc__history_init(&r->history, opts->history_capacity);

    if (opts->seed_set) {
        r->seed = opts->seed;
    } else {
        /* Not secret, only distinct per room; recorded so it can replay. */
        struct timespec ts;
        timespec_get(&ts, TIME_UTC);
        r->seed = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^
                  (uint64_t)(uintptr_t)r;
    }
    pc__prng_init(&r->prng, r->seed);

    r->doc = cJSON_CreateObject();
    cJSON *phase = pc__json_named(cJSON_CreateString(r->phase->name), "phase");
    if (r->doc != NULL && phase != NULL) {
        pc__json_link(r->doc, phase);
        phase = NULL;
        r->data = pc__json_keyed(cJSON_Object, "data");
        if (r->data != NULL) {
            pc__json_link(r->doc, r->data);
        }
    }
    cJSON_Delete(phase);
    if (r->data == NULL || pc__digest_build(&r->digest, r->doc, &r->checksum,
                                            &r->state_bytes) != PC_OK) {
        cJSON_Delete(r->doc);
        pc_free(r);
        return PC_ERR_NOMEM;
    }
    *out = r;
    return PC_OK;
}

static void room_destroy(pc_room *r)
{
    if (r->timer_armed && r->timer_fn != NULL) {
        r->timer_fn(r, -1, r->timer_arg);
    }
    pc__history_fini(&r->history);
    pc__digest_fini(&r->digest);
    cJSON_Delete(r->doc);
    pc_free(r->sinks);
    pc_free(r);
}

void pc_room_free(pc_room *room)
{
    if (room == NULL) {
        return;
    }
    if (room->depth > 0) {
        room->doomed = true;
        return;
    }
    room_destroy(room);
}

/* Bracket every public entry point that may run callbacks, so a room freed
 * from inside one of its callbacks is destroyed only once unwound. */
static void enter_call(pc_room *r)
{
    r->depth++;
}

static bool leave_call(pc_room *r)
{
    if (--r->depth == 0 && r->doomed) {
        room_destroy(r);
        return true;
    }
    return false;
}

const char *pc_room_id(const pc_room *room)
{
    return room->id;
}

const pc_game *pc_room_game(const pc_room *room)
{
    return room->game;
}

const cJSON *pc_room_state(const pc_room *room)
{
    return room->doc;
}

const cJSON *pc_room_data(const pc_room *room)
{
    return room->data;
}

const char *pc_room_phase(const pc_room *room)
{
    return room->phase->name;
}

uint64_t pc_room_seq(const pc_room *room)
{
    return room->seq;
}

uint64_t pc_room_checksum(const pc_room *room)
{
    return room->checksum;
}

uint64_t pc_room_seed(const pc_room *room)
{
    return room->seed;
}

bool pc_room_started(const pc_room *room)
{
    return room->started;
}

const pc_error *pc_room_last_error(const pc_room *room)
{
    return &room->last_error;
}

const pc__history *pc__room_history(const pc_room *room)
{
    return &room->history;
}

bool pc__room_in_flux(const pc_room *room)
{
    return (room->busy & (IN_VALIDATE | IN_EXIT)) != 0;
}

int64_t pc_room_now_ms(const pc_room *room)
{
    return room->clock(room->clock_arg);
}

uint64_t pc_room_random(pc_room *room)
{
    return pc__prng_next(&room->prng);
}

uint64_t pc_room_random_below(pc_room *room, uint64_t bound)
{
    return pc__prng_below(&room->prng, bound);
}

/* Record an error on the room and return its code. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 4, 5)))
#endif
static pc_err
fail(pc_room *r, pc_err err, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char msg[PC_ERROR_MESSAGE_MAX];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return pc_error_set(&r->last_error, err, code, "%s", msg);
}

static const char *busy_context(unsigned busy)
{
    if (busy & IN_VALIDATE) {
        return "the validator";
    }
    if (busy & IN_EXIT) {
        return "an exit callback";
    }
    return "a sink";
}

/* Refuse state changes in read-only contexts. */
static pc_err check_context(pc_room *r, const char *what)
{
    if (r->busy != 0) {
        return fail(r, PC_ERR_REENTRANT, NULL,
                    "%s called from %s of room %s; state is read-only there",
                    what, busy_context(r->busy), r->id);
    }
    if (r->doomed) {
        return fail(r, PC_ERR_CLOSED, "room_closed",
                    "%s on room %s after pc_room_free", what, r->id);
    }
    if (!r->started) {
        return fail(r, PC_ERR_STATE, "not_started",
                    "%s on room %s before pc_room_start", what, r->id);
    }
    return PC_OK;
}

/* One block with the record's strings: reason, file, func. */
static char *pack_text(const char *reason, const char *file, const char *func,
                       const char **reason_out, const char **file_out,
                       const char **func_out)
{
    size_t lr = strlen(reason) + 1;
    size_t lf = strlen(file) + 1;
    size_t lu = strlen(func) + 1;
    char *t = pc_malloc(lr + lf + lu);
    if (t == NULL) {
        return NULL;
    }
    memcpy(t, reason, lr);
    memcpy(t + lr, file, lf);
    memcpy(t + lr + lf, func, lu);
    *reason_out = t;
    *file_out = t + lr;
    *func_out = t + lr + lf;
    return t;
}

static void sinks_compact(pc_room *r)
{
    size_t j = 0;
    for (size_t i = 0; i < r->nsinks; i++) {
        if (!r->sinks[i].removed) {
            r->sinks[j++] = r->sinks[i];
        }
    }
    r->nsinks = j;
    r->sinks_dirty = false;
}

static void dispatch(pc_room *r, const pc_change *c)
{
    r->busy |= IN_SINK;
    /* Sinks added during dispatch start with the next change. */
    size_t n = r->nsinks;
    for (size_t i = 0; i < n; i++) {
        if (!r->sinks[i].removed) {
            r->sinks[i].fn(r, c, r->sinks[i].arg);
        }
    }
    r->busy &= ~(unsigned)IN_SINK;
    if (r->sinks_dirty) {
        sinks_compact(r);
    }
}

static void timer_disarm(pc_room *r)
{
    if (r->timer_armed) {
        r->timer_armed = false;
        if (r->timer_fn != NULL) {
            r->timer_fn(r, -1, r->timer_arg);
        }
    }
}

static void timer_arm(pc_room *r, int64_t delay_ms)
{
    r->timer_armed = true;
    r->deadline_ms = r->clock(r->clock_arg) + delay_ms;
    if (r->timer_fn != NULL) {
        r->timer_fn(r, delay_ms, r->timer_arg);
    }
}

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
    size_t len = 0;
    uint64_t ignored;
    rv = pc_canon_checksum(patch, &ignored, &len);
    if (rv != PC_OK) {
        return fail(r, rv, NULL, "patch refused: %s", pc_strerror(rv));
    }
    if (len > r->limits.max_bytes) {
        return fail(r, PC_ERR_LIMIT, "limit_exceeded",
                    "patch is %zu bytes, the limit is %zu", len,
                    r->limits.max_bytes);
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
static pc_err prepare(pc_room *r, const cJSON *patch, const pc__doc_patch *dp,
                      const char *reason, const char *file, const char *func,
                      prepared *p)
{
    memset(p, 0, sizeof(*p));
    pc__digest_begin(&p->tx, &r->digest);
    pc_change *c = &p->rec.change;
    if (pc__history_reserve(&r->history) != PC_OK) {
        return PC_ERR_NOMEM;
    }
    if (pc__merge_log_init(&p->log, &dp->root) != PC_OK) {
        return PC_ERR_NOMEM;
    }
    p->rec.text = pack_text(reason, file, func, &c->reason, &c->file, &c->func);
    p->undo = cJSON_CreateObject();
    if (p->rec.text == NULL || p->undo == NULL) {
        return PC_ERR_NOMEM;
    }
    if (r->history.capacity > 0) {
        p->rec.patch =
            patch != NULL ? cJSON_Duplicate(patch, 1) : cJSON_CreateObject();
        if (p->rec.patch == NULL) {
            return PC_ERR_NOMEM;
        }
    }
    return PC_OK;
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
 * full recompute, container by container; anything else is a framework
 * bug, not a caller's mistake. */
static void check_digest(const pc_room *r)
{
    if (!pc__digest_verify(&r->digest, r->doc)) {
        fprintf(stderr,
                "phasecast: room %s: incremental checksum differs "
                "from a full recompute after seq %llu\n",
                r->id, (unsigned long long)r->seq);
        abort();
    }
}
#endif

static pc_err change(pc_room *r, const pc_phase *next, const cJSON *patch,
                     const char *reason, const char *file, int line,
                     const char *func, const char *what)
{
    pc_err rv = check_context(r, what);
    if (rv != PC_OK) {
        return rv;
    }
    if (reason == NULL || reason[0] == '\0') {
        return fail(r, PC_ERR_INVALID, "invalid_reason",
                    "%s needs a non-empty reason", what);
    }
    if (strlen(reason) > PC_REASON_MAX) {
        return fail(r, PC_ERR_LIMIT, "limit_exceeded",
                    "reason is longer than %d bytes", PC_REASON_MAX);
    }
    if ((rv = check_patch(r, patch)) != PC_OK) {
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
    rv = prepare(r, patch, &dp, reason, file != NULL ? file : "?",
                 func != NULL ? func : "?", &p);
    if (rv != PC_OK) {
        prepared_release(&p);
        return fail(r, rv, NULL, "out of memory preparing change");
    }
    uint64_t sum;
    size_t bytes;
    rv = pc__merge_apply_tracked(r->doc, &dp.root, p.undo, &p.log, &p.tx, &sum,
                                 &bytes);
    if (rv != PC_OK) {
        prepared_release(&p);
        return fail(r, rv, NULL, "applying patch failed: %s", pc_strerror(rv));
    }

    if (r->game->validate != NULL) {
        pc_error why = {0};
        r->busy |= IN_VALIDATE;
        rv = r->game->validate(r, r->doc, &why, r->arg);
        r->busy &= ~(unsigned)IN_VALIDATE;
        if (rv != PC_OK) {
            rollback(r, &p);
            prepared_release(&p);
            if (why.err == PC_OK) {
                return fail(r, PC_ERR_REJECTED, "rejected",
                            "the game's validator refused the change");
            }
            return fail(r, PC_ERR_REJECTED, why.code, "%s", why.message);
        }
    }
    rv = bytes > r->limits.max_state_bytes ? PC_ERR_LIMIT
                                           : pc__digest_reserve(&p.tx);
    if (rv != PC_OK) {
        rollback(r, &p);
        prepared_release(&p);
        if (rv == PC_ERR_LIMIT) {
            return fail(r, rv, "limit_exceeded",
                        "the state would be %zu bytes, the limit is %zu", bytes,
                        r->limits.max_state_bytes);
        }
        return fail(r, rv, NULL, "out of memory caching the checksum");
    }

    /* Point of no return: nothing below allocates or fails. */
    const pc_phase *prev = r->phase;
    if (next != NULL && prev->exit != NULL) {
        r->busy |= IN_EXIT;
        prev->exit(r, next->name, r->arg);
        r->busy &= ~(unsigned)IN_EXIT;
    }
    if (next != NULL) {
        timer_disarm(r);
        r->phase = next;
    }
    r->seq++;
    r->checksum = sum;
    r->state_bytes = bytes;
    pc__digest_commit(&p.tx);
#ifdef PC_TAMPER_CHECK
    check_digest(r);
#endif
    pc_change *c = &p.rec.change;
    c->seq = r->seq;
    c->time_ms = r->clock(r->clock_arg);
    c->kind = next != NULL ? PC_CHANGE_TRANSITION : PC_CHANGE_UPDATE;
    c->phase = r->phase->name;
    c->prev_phase = prev->name;
    c->line = line;
    c->checksum = sum;
    c->state_bytes = bytes;
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
    dispatch(r, &sent);
    if (r->history.capacity == 0) {
        pc__record_release(&p.rec);
    }
    if (next != NULL && !r->doomed) {
        if (next->timeout_ms > 0 && next->timeout != NULL) {
            timer_arm(r, next->timeout_ms);
        }
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
    enter_call(room);
    pc_err rv = change(room, NULL, patch, reason, file, line, func,
                       "pc_update_phase_data");
    leave_call(room);
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
    const pc_phase *to = next != NULL ? find_phase(room->game, next) : NULL;
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
    enter_call(room);
    pc_err rv =
        change(room, to, patch, reason, file, line, func, "pc_transition");
    leave_call(room);
    return rv;
}

pc_err pc_room_start(pc_room *room)
{
    if (room->started) {
        return fail(room, PC_ERR_STATE, "already_started",
                    "room %s was already started", room->id);
    }
    if (room->busy != 0) {
        return fail(room, PC_ERR_REENTRANT, NULL,
                    "pc_room_start called from %s", busy_context(room->busy));
    }
    room->started = true;
    enter_call(room);
    const pc_phase *ph = room->phase;
    if (ph->timeout_ms > 0 && ph->timeout != NULL) {
        timer_arm(room, ph->timeout_ms);
    }
    if (ph->enter != NULL) {
        ph->enter(room, NULL, room->arg);
    }
    leave_call(room);
    return PC_OK;
}

/* Refuse an action before it reaches the game: the room records the error
 * and the caller's err (if any) gets a copy. */
static pc_err refuse(pc_room *r, pc_error *err)
{
    if (err != NULL) {
        *err = r->last_error;
    }
    return r->last_error.err;
}

pc_err pc_room_action(pc_room *room, const pc_action *act, cJSON **result,
                      pc_error *err)
{
    pc_error local = {0};
    if (room == NULL) {
        return pc_error_set(err, PC_ERR_INVALID, "invalid_action",
                            "pc_room_action needs a room");
    }
    if (act == NULL || act->player == NULL || act->type == NULL) {
        fail(room, PC_ERR_INVALID, "invalid_action",
             "an action needs a player and a type");
        return refuse(room, err);
    }
    pc_err rv = check_context(room, "pc_room_action");
    if (rv != PC_OK) {
        return refuse(room, err);
    }
    if (act->payload != NULL) {
        rv = pc_json_check(act->payload, &room->limits, &local);
        if (rv != PC_OK) {
            fail(room, rv,
                 rv == PC_ERR_LIMIT ? "limit_exceeded" : "invalid_payload",
                 "action payload refused: %s", local.message);
            return refuse(room, err);
        }
    }
    const pc_phase *ph = room->phase;
    if (ph->action == NULL) {
        fail(room, PC_ERR_PHASE, "no_actions_in_phase",
             "phase %s takes no actions", ph->name);
        return refuse(room, err);
    }
    cJSON *res = NULL;
    enter_call(room);
    room->last_error.err = PC_OK;
    rv = ph->action(room, act, &res, &local, room->arg);
    if (rv != PC_OK) {
        cJSON_Delete(res);
        res = NULL;
        if (local.err == PC_OK) {
            /* The callback passed on a failed update without filling err. */
            if (room->last_error.err == rv) {
                local = room->last_error;
            } else {
                pc_error_set(&local, rv, NULL, "action %s refused: %s",
                             act->type, pc_strerror(rv));
            }
        }
        if (local.err != rv) {
            local.err = rv;
        }
    }
    if (!leave_call(room) && rv != PC_OK) {
        room->last_error = local;
    }
    if (rv != PC_OK) {
        if (err != NULL) {
            *err = local;
        }
        return rv;
    }
    if (result != NULL) {
        *result = res;
    } else {
        cJSON_Delete(res);
    }
    return PC_OK;
}

pc_err pc_room_add_sink(pc_room *room, pc_sink_fn fn, void *arg)
{
    if (fn == NULL) {
        return PC_ERR_INVALID;
    }
    for (size_t i = 0; i < room->nsinks; i++) {
        if (room->sinks[i].fn == fn && room->sinks[i].arg == arg &&
            !room->sinks[i].removed) {
            return PC_ERR_INVALID;
        }
    }
    if (room->nsinks == room->sinks_cap) {
        size_t n = room->sinks_cap == 0 ? 4 : room->sinks_cap * 2;
        sink *s = pc_realloc(room->sinks, n * sizeof(*s));
        if (s == NULL) {
            return PC_ERR_NOMEM;
        }
        room->sinks = s;
        room->sinks_cap = n;
    }
    room->sinks[room->nsinks++] = (sink){fn, arg, false};
    return PC_OK;
}

pc_err pc_room_remove_sink(pc_room *room, pc_sink_fn fn, void *arg)
{
    for (size_t i = 0; i < room->nsinks; i++) {
        sink *s = &room->sinks[i];
        if (s->fn == fn && s->arg == arg && !s->removed) {
            s->removed = true;
            room->sinks_dirty = true;
            if (!(room->busy & IN_SINK)) {
                sinks_compact(room);
            }
            return PC_OK;
        }
    }
    return PC_ERR_NOT_FOUND;
}

pc_err pc_room_arm_timeout(pc_room *room, int64_t delay_ms)
{
    if (delay_ms < 0) {
        return PC_ERR_INVALID;
    }
    if (room->phase->timeout == NULL) {
        return fail(room, PC_ERR_PHASE, "no_timeout_in_phase",
                    "phase %s has no timeout callback", room->phase->name);
    }
    timer_arm(room, delay_ms);
    return PC_OK;
}

void pc_room_cancel_timeout(pc_room *room)
{
    timer_disarm(room);
}

bool pc_room_timeout_deadline(const pc_room *room, int64_t *deadline_ms)
{
    if (!room->timer_armed) {
        return false;
    }
    if (deadline_ms != NULL) {
        *deadline_ms = room->deadline_ms;
    }
    return true;
}

pc_err pc_room_fire_timeout(pc_room *room)
{
    if (room->busy != 0) {
        return fail(room, PC_ERR_REENTRANT, NULL,
                    "pc_room_fire_timeout called from %s",
                    busy_context(room->busy));
    }
    if (!room->timer_armed) {
        return fail(room, PC_ERR_STATE, "no_timeout_armed",
                    "no timeout is armed in room %s", room->id);
    }
    room->timer_armed = false;
    enter_call(room);
    if (room->phase->timeout != NULL) {
        room->phase->timeout(room, room->arg);
    }
    leave_call(room);
    return PC_OK;
}

void pc_room_set_timer_host(pc_room *room, pc_timer_fn fn, void *arg)
{
    if (room->timer_armed && room->timer_fn != NULL) {
        room->timer_fn(room, -1, room->timer_arg);
    }
    room->timer_fn = fn;
    room->timer_arg = arg;
    if (room->timer_armed && fn != NULL) {
        int64_t left = room->deadline_ms - room->clock(room->clock_arg);
        fn(room, left < 0 ? 0 : left, arg);
    }
}
