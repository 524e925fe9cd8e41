/*
 * room.c - the room: its life, accessors, sinks, phase timer and actions.
 *
 * A room is single-threaded and re-entrancy is explicit: sinks, validators
 * and exit callbacks are read-only, enter/action/timeout callbacks may
 * change state, and a room freed from inside its own callback is destroyed
 * only once the outermost call unwinds. The one mutation path, change(),
 * lives in update.c; the layout both share is in room.h. This module does
 * not schedule timers or talk to the network; hosts do.
 */
#include "phasecast/room.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "phasecast/alloc.h"
#include "phasecast/view.h"
#include "digest.h"
#include "history.h"
#include "merge.h"
#include "prng.h"
#include "room.h"

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

const pc_phase *pc__room_find_phase(const pc_game *g, const char *name)
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
    return g->initial_phase == NULL ||
           pc__room_find_phase(g, g->initial_phase) != NULL;
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
                   ? pc__room_find_phase(game, game->initial_phase)
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
    pc_free(r->patch_text);
    pc_free(r);
}

const char *pc__room_patch_text(const pc_room *r, const cJSON *patch,
                                size_t *len)
{
    if (patch == NULL || patch != r->patch_text_of) {
        return NULL;
    }
    *len = r->patch_text_len;
    return r->patch_text;
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
void pc__room_enter(pc_room *r)
{
    r->depth++;
}

bool pc__room_leave(pc_room *r)
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
    return (room->busy & (PC__IN_VALIDATE | PC__IN_EXIT | PC__IN_JOURNAL)) != 0;
}

int64_t pc__room_now(const pc_room *r)
{
    return r->cause_depth > 0 ? r->cause_now : r->clock(r->clock_arg);
}

int64_t pc_room_now_ms(const pc_room *room)
{
    return pc__room_now(room);
}

uint64_t pc_room_random(pc_room *room)
{
    return pc__prng_next(&room->prng);
}

uint64_t pc_room_random_below(pc_room *room, uint64_t bound)
{
    return pc__prng_below(&room->prng, bound);
}

pc_err pc__room_vfail(pc_room *r, pc_err err, const char *code, const char *fmt,
                      va_list ap)
{
    char msg[PC_ERROR_MESSAGE_MAX];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    return pc_error_set(&r->last_error, err, code, "%s", msg);
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
    pc_err rv = pc__room_vfail(r, err, code, fmt, ap);
    va_end(ap);
    return rv;
}

static const char *busy_context(unsigned busy)
{
    if (busy & PC__IN_VALIDATE) {
        return "the validator";
    }
    if (busy & PC__IN_EXIT) {
        return "an exit callback";
    }
    if (busy & PC__IN_JOURNAL) {
        return "the journal";
    }
    return "a sink";
}

/* Refuse state changes in read-only contexts. */
pc_err pc__room_check_context(pc_room *r, const char *what)
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
    if (r->failure.err != PC_OK) {
        return fail(r, PC_ERR_IO, "room_failed",
                    "room %s stopped accepting changes: %s", r->id,
                    r->failure.message);
    }
    return PC_OK;
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

void pc__room_dispatch(pc_room *r, const pc_change *c)
{
    r->busy |= PC__IN_SINK;
    /* Sinks added during dispatch start with the next change. */
    size_t n = r->nsinks;
    for (size_t i = 0; i < n; i++) {
        if (!r->sinks[i].removed) {
            r->sinks[i].fn(r, c, r->sinks[i].arg);
        }
    }
    r->busy &= ~(unsigned)PC__IN_SINK;
    if (r->sinks_dirty) {
        sinks_compact(r);
    }
}

/* Tell the journal (if any) the timer's new deadline, -1 when none. */
static void journal_timer(pc_room *r)
{
    if (r->journal_timer_fn != NULL) {
        r->journal_timer_fn(r, r->timer_armed ? r->deadline_ms : -1,
                            r->journal_arg);
    }
}

void pc__room_timer_disarm_quiet(pc_room *r)
{
    if (r->timer_armed) {
        r->timer_armed = false;
        if (r->timer_fn != NULL) {
            r->timer_fn(r, -1, r->timer_arg);
        }
    }
}

void pc__room_timer_disarm(pc_room *r)
{
    if (r->timer_armed) {
        pc__room_timer_disarm_quiet(r);
        journal_timer(r);
    }
}

/* Arm the timer for deadline_ms, due delay_ms from now (the caller read
 * the clock once for both, so they agree to the millisecond); the journal
 * is told by the caller. */
static void timer_set(pc_room *r, int64_t deadline_ms, int64_t delay_ms)
{
    r->timer_armed = true;
    r->deadline_ms = deadline_ms;
    if (r->timer_fn != NULL) {
        r->timer_fn(r, delay_ms, r->timer_arg);
    }
}

void pc__room_timer_arm(pc_room *r, int64_t delay_ms)
{
    timer_set(r, pc__room_now(r) + delay_ms, delay_ms);
    journal_timer(r);
}

void pc__room_timer_enter(pc_room *r, const pc_phase *ph)
{
    if (ph->timeout_ms > 0 && ph->timeout != NULL) {
        pc__room_timer_arm(r, ph->timeout_ms);
    }
}

void pc__room_restore_entry(pc_room *r, const char *from, int64_t deadline_ms,
                            bool entry_unlogged)
{
    r->restore_enter = true;
    r->restore_entry_unlogged = entry_unlogged;
    r->restore_from = from;
    r->restore_deadline_ms = deadline_ms;
}

void pc__cause_begin(pc_room *r, pc_cause_kind kind, const char *player,
                     const char *type, const cJSON *payload, const char *phase)
{
    if (r->cause_depth++ > 0) {
        return;
    }
    r->cause_now = r->clock(r->clock_arg);
    r->cause.kind = kind;
    r->cause.first_seq = 0; /* set by the stimulus's first change */
    r->cause.player = player;
    r->cause.type = type;
    r->cause.payload = payload;
    r->cause.phase = phase;
}

void pc__cause_end(pc_room *r)
{
    if (--r->cause_depth == 0) {
        memset(&r->cause, 0, sizeof(r->cause));
    }
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
    pc__room_enter(room);
    const pc_phase *ph = room->phase;
    if (room->restored) {
        /* The deadline the image recorded, wherever it came from (the
         * phase's timeout_ms or the game's pc_room_arm_timeout). The log
         * has it already, so the journal is not told again. */
        if (room->restore_deadline_ms >= 0 && ph->timeout != NULL) {
            /* One clock reading: the deadline stays the image's exactly,
             * even when a millisecond passes meanwhile. */
            int64_t now = room->clock(room->clock_arg);
            int64_t left = room->restore_deadline_ms - now;
            if (left < 0) {
                timer_set(room, now, 0); /* passed: due now */
            } else {
                timer_set(room, room->restore_deadline_ms, left);
            }
        }
        /* The log ends inside this phase's entry, before its enter
         * callback logged anything: finish the entry (see
         * pc__room_restore_entry). */
        if (room->restore_enter) {
            if (room->restore_entry_unlogged && room->timer_armed) {
                journal_timer(room);
            }
            if (ph->enter != NULL) {
                pc__cause_begin(room, PC_CAUSE_START, NULL, NULL, NULL, NULL);
                ph->enter(room, room->restore_from, room->arg);
                pc__cause_end(room);
            }
        }
    } else {
        pc__room_timer_enter(room, ph);
        if (ph->enter != NULL) {
            pc__cause_begin(room, PC_CAUSE_START, NULL, NULL, NULL, NULL);
            ph->enter(room, NULL, room->arg);
            pc__cause_end(room);
        }
    }
    pc__room_leave(room);
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

/* True if the game lists type among the actions refused when stale. */
static bool strict_type(const pc_game *g, const char *type)
{
    for (const char *const *t = g->strict_actions; t != NULL && *t != NULL;
         t++) {
        if (strcmp(*t, "*") == 0 || strcmp(*t, type) == 0) {
            return true;
        }
    }
    return false;
}

/* Check act's role and expected_seq before the game sees it; false (with
 * the room's last error set) when it is refused. */
static bool check_stale(pc_room *room, const pc_action *act)
{
    if (act->role != PC_ROLE_PLAYER && act->role != PC_ROLE_GM) {
        fail(room, PC_ERR_INVALID, "invalid_action", "unknown role %d",
             (int)act->role);
        return false;
    }
    if (!act->has_expected_seq) {
        return true;
    }
    if (act->expected_seq > room->seq) {
        fail(room, PC_ERR_INVALID, "invalid_action",
             "expected_seq %llu is after the room's seq %llu",
             (unsigned long long)act->expected_seq,
             (unsigned long long)room->seq);
        return false;
    }
    if (act->expected_seq < room->seq && strict_type(room->game, act->type)) {
        fail(room, PC_ERR_CONFLICT, "conflict",
             "the room is at seq %llu, past the expected seq %llu; read "
             "again and retry",
             (unsigned long long)room->seq,
             (unsigned long long)act->expected_seq);
        return false;
    }
    return true;
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
    pc_err rv = pc__room_check_context(room, "pc_room_action");
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
    if (!check_stale(room, act)) {
        return refuse(room, err);
    }
    cJSON *res = NULL;
    pc__room_enter(room);
    room->last_error.err = PC_OK;
    pc__cause_begin(room, PC_CAUSE_ACTION, act->player, act->type, act->payload,
                    NULL);
    if (room->cause_depth == 1) {
        room->cause.role = act->role;
        room->cause.has_expected_seq = act->has_expected_seq;
        room->cause.expected_seq =
            act->has_expected_seq ? act->expected_seq : 0;
    }
    rv = ph->action(room, act, &res, &local, room->arg);
    pc__cause_end(room);
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
    if (!pc__room_leave(room) && rv != PC_OK) {
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
        pc__sink *s = pc_realloc(room->sinks, n * sizeof(*s));
        if (s == NULL) {
            return PC_ERR_NOMEM;
        }
        room->sinks = s;
        room->sinks_cap = n;
    }
    room->sinks[room->nsinks++] = (pc__sink){fn, arg, false};
    return PC_OK;
}

pc_err pc_room_remove_sink(pc_room *room, pc_sink_fn fn, void *arg)
{
    for (size_t i = 0; i < room->nsinks; i++) {
        pc__sink *s = &room->sinks[i];
        if (s->fn == fn && s->arg == arg && !s->removed) {
            s->removed = true;
            room->sinks_dirty = true;
            if (!(room->busy & PC__IN_SINK)) {
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
    pc__room_timer_arm(room, delay_ms);
    return PC_OK;
}

void pc_room_cancel_timeout(pc_room *room)
{
    pc__room_timer_disarm(room);
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
    pc__room_enter(room);
    if (room->phase->timeout != NULL) {
        pc__cause_begin(room, PC_CAUSE_TIMEOUT, NULL, NULL, NULL,
                        room->phase->name);
        room->phase->timeout(room, room->arg);
        pc__cause_end(room);
    }
    /* Logged after the callback: a crash before its change is durable
     * leaves the timer armed in the log, so the restored room fires it
     * again rather than wait forever. A callback that transitioned or
     * re-armed has logged its own timer state already. */
    if (!room->timer_armed && !room->doomed) {
        journal_timer(room);
    }
    pc__room_leave(room);
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
