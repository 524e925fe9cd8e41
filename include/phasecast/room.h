/*
 * phasecast/room.h - rooms, games, phases and the one mutation path.
 *
 * A pc_room owns one JSON state document {"phase": NAME, "data": {...}}.
 * Games read it through const pointers and change it only with
 * pc_update_phase_data (patch the data) and pc_transition (change phase,
 * optionally patching the data in the same change); pc_room_event records
 * a named event without changing it. Each successful call
 * commits exactly one numbered change (see change.h): applied atomically,
 * recorded in the room's history (see history.h) and handed to every sink.
 * A failed call changes nothing and leaves its explanation in
 * pc_room_last_error.
 *
 * This module knows nothing of sockets or event loops: hosts (the transport
 * layer, tests) attach sinks and drive timeouts. A room is not thread-safe;
 * every function here must be called from the room's owning thread (its
 * loop thread), including from inside the room's own callbacks.
 *
 * The framework's room lifecycle:
 *
 *    pc_room_new           pc_room_start
 *   -------------> CREATED --------------> RUNNING --+
 *                  (seq 0,                 ^         | pc_update_phase_data,
 *                   initial phase,         +---------+ pc_transition,
 *                   no enter yet)                      pc_room_action,
 *                                                      pc_room_fire_timeout
 *   pc_room_free from any state (deferred while a callback of the room runs).
 */
#ifndef PHASECAST_ROOM_H
#define PHASECAST_ROOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "phasecast/change.h"
#include "phasecast/error.h"
#include "phasecast/json.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pc_room pc_room;

/* An action a player (or the game master) sent, as the game's action
 * callback receives it. Initialise it with designated initialisers: the
 * zero value of every member after payload is "a player, no expected
 * seq". */
typedef struct pc_action {
    const char *player;    /* who acts (a player id, or the game master's
                              name), never NULL */
    const char *type;      /* what kind of action, e.g. "move", never NULL */
    const cJSON *payload;  /* action arguments, may be NULL */
    pc_role role;          /* PC_ROLE_GM: the room's game master acts; the
                              game decides what a game master may do */
    bool has_expected_seq; /* the sender acted on the state at ... */
    uint64_t expected_seq; /* ... this seq (optimistic concurrency, see
                              pc_game.strict_actions) */
} pc_action;

/*
 * One phase of a game and its callbacks; every callback is optional. All
 * run on the room's thread with the room's user pointer (options.arg) last.
 *
 *  enter   - after the change that entered this phase has been committed and
 *            handed to the sinks. from is the previous phase (NULL when the
 *            room starts). May call pc_update_phase_data and pc_transition.
 *  exit    - a transition away from this phase is certain: it has been
 *            applied, validated and checksummed, and is about to be
 *            numbered and sent. to is the next phase; pc_room_phase and
 *            pc_room_seq still give the old phase and seq, while
 *            pc_room_state already shows the new document ("phase" member
 *            included). Read-only: state changes and history queries
 *            from here are refused with PC_ERR_REENTRANT.
 *  action  - handles pc_room_action. Changes state only through the update
 *            calls; each such call commits on its own, so validate first and
 *            change after. On success may set *result to a tree the framework
 *            takes ownership of (the reply). On refusal returns an error,
 *            ideally via pc_error_set(err, PC_ERR_ACTION, "code", ...).
 *  timeout - the phase's timer fired (see pc_room_arm_timeout). May change
 *            state like any callback; the change records its own reason.
 */
typedef struct pc_phase {
    const char *name; /* unique within the game; [A-Z0-9_a-z]{1,64} */
    void (*enter)(pc_room *room, const char *from, void *arg);
    void (*exit)(pc_room *room, const char *to, void *arg);
    pc_err (*action)(pc_room *room, const pc_action *act, cJSON **result,
                     pc_error *err, void *arg);
    void (*timeout)(pc_room *room, void *arg);
    int64_t timeout_ms; /* > 0: armed automatically on enter */
} pc_phase;

/* A game: its phases, an optional whole-state validator and what is
 * private to whom. Static data; initialise it with designated
 * initialisers so members added later default to NULL. */
typedef struct pc_game {
    const char *name;       /* e.g. "tictactoe" */
    const pc_phase *phases; /* borrowed for the life of every room */
    size_t nphases;
    const char *initial_phase; /* NULL: phases[0] */
    /*
     * validate - optional. Called with the proposed state after every patch
     * has been applied and before it is committed; returning non-zero
     * (ideally via pc_error_set(why, PC_ERR_REJECTED, ...)) refuses the
     * change and nothing is committed. Must not change state (refused with
     * PC_ERR_REENTRANT), and so are history queries. While it runs,
     * pc_room_state returns the proposed state and pc_room_seq the last
     * committed seq.
     */
    pc_err (*validate)(const pc_room *room, const cJSON *proposed,
                       pc_error *why, void *arg);
    /* NULL-terminated private-path patterns into "data", or NULL when
     * everything is public; see view.h. Borrowed like phases. */
    const char *const *private_paths;
    /*
     * Optimistic concurrency: the action types refused when they are
     * stale. An action that carries an expected_seq below the room's seq
     * was decided on a state the room has since moved past; if its type
     * is listed here ("*" lists every type) pc_room_action refuses it
     * with PC_ERR_CONFLICT, code "conflict", before the action callback
     * runs, so nothing changes (no seq, no record, no PRNG draw). Other
     * types are applied anyway, and their callback still sees
     * act->expected_seq: a game that needs a finer rule (refuse only if
     * the target changed) checks it there and refuses with
     * pc_error_set(err, PC_ERR_CONFLICT, "conflict", ...) itself, before
     * it changes anything. NULL-terminated, or NULL: no type is strict.
     * Borrowed like phases.
     */
    const char *const *strict_actions;
} pc_game;

/* Default number of changes a room's history retains. */
#define PC_HISTORY_DEFAULT 100
/* Longest room id in bytes (ids are [A-Za-z0-9._-]{1,64}). */
#define PC_ROOM_ID_MAX 64
/* Longest reason in bytes; longer reasons are refused (PC_ERR_LIMIT). */
#define PC_REASON_MAX 1024
/* Longest chain of transitions (the first plus those made from enter
 * callbacks it triggers) before the next one fails with PC_ERR_LIMIT. */
#define PC_TRANSITION_DEPTH_MAX 32

/* Wall clock in milliseconds since the Unix epoch. */
typedef int64_t (*pc_clock_fn)(void *arg);

/*
 * How the host schedules a room's phase timer: called with delay_ms >= 0 to
 * (re)arm it, or -1 to cancel it. When it fires the host calls
 * pc_room_fire_timeout. Without a host, timers are only recorded
 * (pc_room_timeout_deadline) and tests fire them by hand.
 */
typedef void (*pc_timer_fn)(pc_room *room, int64_t delay_ms, void *arg);

/* Room settings; start from pc_room_options_init. */
typedef struct pc_room_options {
    const char *id;          /* default "room"; copied */
    size_t history_capacity; /* retained changes, 0 = none; default 100 */
    uint64_t seed;           /* PRNG seed; ignored unless seed_set */
    bool seed_set;           /* false: a seed is drawn from the system clock */
    pc_clock_fn clock;       /* NULL: the system's real-time clock */
    void *clock_arg;
    pc_json_limits limits; /* zero members take the defaults */
    void *arg;             /* passed to every game callback */
} pc_room_options;

/* pc_room_options_init - fill o with the defaults. */
void pc_room_options_init(pc_room_options *o);

/*
 * pc_room_new - create a room for game in its initial phase, with
 * state {"phase": initial, "data": {}} at seq 0. Nothing is entered and
 * nothing is sent until pc_room_start, so attach sinks in between.
 * game is borrowed for the life of the room; opts is copied (NULL for
 * defaults). On success *out receives the room; the caller frees it with
 * pc_room_free. Returns PC_OK, PC_ERR_INVALID (bad game table or id) or
 * PC_ERR_NOMEM.
 */
pc_err pc_room_new(const pc_game *game, const pc_room_options *opts,
                   pc_room **out);

/*
 * pc_room_start - enter the initial phase: arm its timeout, call its enter
 * callback. Returns PC_OK or PC_ERR_STATE (already started).
 */
pc_err pc_room_start(pc_room *room);

/*
 * pc_room_free - free the room and its history. Sinks are not called.
 * NULL is ignored. From inside one of the room's own callbacks the free is
 * deferred until the outermost framework call returns; the room must not be
 * used after that.
 */
void pc_room_free(pc_room *room);

/* Accessors. Borrowed results stay valid until the next change or free. */
const char *pc_room_id(const pc_room *room);
const pc_game *pc_room_game(const pc_room *room);
const cJSON *pc_room_state(const pc_room *room); /* the whole document */
const cJSON *pc_room_data(const pc_room *room);  /* its "data" object */
const char *pc_room_phase(const pc_room *room);
uint64_t pc_room_seq(const pc_room *room);      /* last committed seq */
uint64_t pc_room_checksum(const pc_room *room); /* of the current state */
uint64_t pc_room_seed(const pc_room *room);
bool pc_room_started(const pc_room *room);
/* The outcome of the room's most recent update, transition, action or
 * timeout call: err is PC_OK when it succeeded. */
const pc_error *pc_room_last_error(const pc_room *room);

/*
 * pc_update_phase_data - THE way to change a room's data.
 *
 * Applies the RFC 7386 merge patch (an object; null deletes a member) to the
 * room's "data" as one atomic change: checks the patch against the room's
 * limits, applies it, runs the game's validator on the proposed state,
 * checks the result's size, computes its checksum, bumps the seq, records
 * the change in the history and hands it to every sink. reason is a short
 * explanation kept with the change (required, at most PC_REASON_MAX bytes).
 * The macro records the caller's __FILE__, __LINE__ and __func__.
 *
 * patch is borrowed and never modified. Returns PC_OK, or, with nothing
 * changed (state, seq, history, sinks) and pc_room_last_error filled:
 * PC_ERR_INVALID (patch not an object, bad UTF-8, duplicate key, NULL or
 * empty reason), PC_ERR_LIMIT (depth, size, string length, state size),
 * PC_ERR_REJECTED (validator), PC_ERR_REENTRANT (called from a sink, the
 * validator or an exit callback), PC_ERR_STATE (room not started),
 * PC_ERR_CLOSED (pc_room_free was called from a callback still running),
 * PC_ERR_TAMPERED (debug builds: the state was changed behind the
 * framework's back since the last change), PC_ERR_NOMEM.
 */
#define pc_update_phase_data(room, patch, reason)                              \
    pc_update_phase_data_at((room), (patch), (reason), __FILE__, __LINE__,     \
                            __func__)

/*
 * pc_update_phase_text - pc_update_phase_data with the patch given as JSON
 * text (parsed with pc_json_parse and the room's limits).
 */
#define pc_update_phase_text(room, json_text, reason)                          \
    pc_update_phase_text_at((room), (json_text), (reason), __FILE__, __LINE__, \
                            __func__)

/*
 * pc_transition - change phase (to next, which may equal the current
 * phase) as one change, optionally patching the data in the same change
 * (patch may be NULL). Order: everything is validated and prepared (a
 * failure here changes nothing and runs no callback), the old phase's exit
 * callback runs, the old phase's timer is cancelled, the change is
 * committed and handed to sinks,
 * the new phase's timeout is armed and its enter callback runs. Returns
 * what pc_update_phase_data returns, plus PC_ERR_PHASE (no such phase) and
 * PC_ERR_LIMIT (the chain of transitions made from enter callbacks would
 * exceed PC_TRANSITION_DEPTH_MAX).
 */
#define pc_transition(room, next, patch, reason)                               \
    pc_transition_at((room), (next), (patch), (reason), __FILE__, __LINE__,    \
                     __func__)

/*
 * pc_transition_text - pc_transition with the patch given as JSON text
 * (parsed like pc_update_phase_text's).
 */
#define pc_transition_text(room, next, json_text, reason)                      \
    pc_transition_text_at((room), (next), (json_text), (reason), __FILE__,     \
                          __LINE__, __func__)

/*
 * pc_room_event - record a named event, a moment worth announcing that is
 * not state ("critical_hit", "round_started"), as a change of its own:
 * it gets the next seq, its reason and the caller's source location, a
 * place in the history, a change-log record, and goes to every sink (and
 * so to the broadcast) like an update. The state, its checksum and the
 * phase are unchanged, the game's validator is not run (there is nothing
 * to validate), and the phase timer is not touched. Allowed wherever
 * pc_update_phase_data is (enter, action and timeout callbacks, the host)
 * and refused where it is; an event made while handling an action or a
 * timeout carries that stimulus as its cause, like the stimulus's updates.
 * pc_room_event is public (PC_AUDIENCE_PUBLIC); see pc_room_event_to.
 *
 * name is [A-Za-z0-9_.-]{1,64}. data is any JSON value (NULL: JSON null),
 * checked against the room's limits like a patch (depth one less than
 * the state's, max_string, max_nodes, and its canonical size at most
 * max_bytes); it is borrowed and copied into the change. reason is
 * required as for an update. The macro records __FILE__, __LINE__ and
 * __func__.
 *
 * Returns PC_OK, or, with nothing changed (seq, history, sinks, log) and
 * pc_room_last_error filled: PC_ERR_INVALID (code "invalid_event": a bad
 * name, audience or player, or data that is not valid JSON for the room;
 * "invalid_reason"), PC_ERR_LIMIT (data or reason over the limits),
 * PC_ERR_REENTRANT, PC_ERR_STATE, PC_ERR_CLOSED, PC_ERR_IO (a failed
 * room, or its change log could not be written), PC_ERR_TAMPERED (debug
 * builds), PC_ERR_NOMEM: as pc_update_phase_data.
 */
#define pc_room_event(room, name, data, reason)                                \
    pc_room_event_at((room), PC_AUDIENCE_PUBLIC, NULL, (name), (data),         \
                     (reason), __FILE__, __LINE__, __func__)

/*
 * pc_room_event_to - pc_room_event for an audience (change.h):
 * PC_AUDIENCE_PUBLIC (player NULL), PC_AUDIENCE_PLAYER (player, an id of
 * 1 to PC_EVENT_NAME_MAX bytes of [A-Za-z0-9_.-], is the only one who
 * receives it) or PC_AUDIENCE_GM (player NULL; no player and no spectator
 * receives it). A private event is still a change everyone is told of:
 * viewers outside its audience see its seq, with neither its name, its
 * data nor its reason (docs/protocol.md). Same returns.
 */
#define pc_room_event_to(room, audience, player, name, data, reason)           \
    pc_room_event_at((room), (audience), (player), (name), (data), (reason),   \
                     __FILE__, __LINE__, __func__)

/* The functions behind the macros, for language bindings. file and func are
 * copied into the record; either may be NULL. */
pc_err pc_update_phase_data_at(pc_room *room, const cJSON *patch,
                               const char *reason, const char *file, int line,
                               const char *func);
pc_err pc_update_phase_text_at(pc_room *room, const char *json_text,
                               const char *reason, const char *file, int line,
                               const char *func);
pc_err pc_transition_at(pc_room *room, const char *next, const cJSON *patch,
                        const char *reason, const char *file, int line,
                        const char *func);
pc_err pc_transition_text_at(pc_room *room, const char *next,
                             const char *json_text, const char *reason,
                             const char *file, int line, const char *func);
pc_err pc_room_event_at(pc_room *room, pc_audience audience, const char *player,
                        const char *name, const cJSON *data, const char *reason,
                        const char *file, int line, const char *func);

/*
 * pc_room_action - deliver a player's (or the game master's) action to the
 * current phase's action callback. Actions are handled one at a time, on
 * the room's thread, in the order the host delivers them; each change an
 * action commits gets its own seq. On success *result (if result is not
 * NULL) receives the callback's result tree or NULL (caller frees with
 * cJSON_Delete). On failure err (may be NULL) and pc_room_last_error are
 * filled: PC_ERR_STATE (not started), PC_ERR_CLOSED (room being freed),
 * PC_ERR_PHASE ("no_actions_in_phase"), PC_ERR_INVALID ("invalid_action"
 * for NULL fields, an unknown role or an expected_seq after the room's
 * seq; "invalid_payload"), PC_ERR_LIMIT ("limit_exceeded": payload over
 * the room's limits), PC_ERR_CONFLICT ("conflict": a stale action of a
 * strict type, see pc_game.strict_actions; pc_room_seq is the seq to
 * retry from), PC_ERR_REENTRANT (from a sink, validator or exit), or
 * whatever the callback returned. Changes the callback committed before
 * failing stay committed: a game that changes several things for one
 * action makes them one patch (validated as a whole, so a refusal of any
 * part changes nothing) rather than several updates.
 */
pc_err pc_room_action(pc_room *room, const pc_action *act, cJSON **result,
                      pc_error *err);

/* A sink receives every committed change, in seq order, right after commit.
 * change is borrowed until the callback returns. Sinks must not change
 * state (refused with PC_ERR_REENTRANT). */
typedef void (*pc_sink_fn)(pc_room *room, const pc_change *change, void *arg);

/*
 * pc_room_add_sink - register fn/arg; sinks run in registration order.
 * Returns PC_OK, PC_ERR_INVALID (fn NULL or the pair already registered)
 * or PC_ERR_NOMEM.
 */
pc_err pc_room_add_sink(pc_room *room, pc_sink_fn fn, void *arg);

/* pc_room_remove_sink - unregister fn/arg (safe from inside a sink).
 * Returns PC_OK or PC_ERR_NOT_FOUND. */
pc_err pc_room_remove_sink(pc_room *room, pc_sink_fn fn, void *arg);

/*
 * pc_room_random - the next value of the room's PRNG (xoshiro256**, seeded
 * by splitmix64 from pc_room_seed), so a run with the same seed and inputs
 * replays exactly.
 */
uint64_t pc_room_random(pc_room *room);

/* pc_room_random_below - uniform value in [0, bound), bound > 0 (0 gives 0);
 * unbiased (rejection sampling). */
uint64_t pc_room_random_below(pc_room *room, uint64_t bound);

/*
 * pc_room_now_ms - the room's clock. While the room handles a stimulus (an
 * action, a timer firing, pc_room_start, or a change the host makes
 * outside any callback, with every callback these set off) it is the
 * clock as read once when that stimulus began: every change of one
 * stimulus gets that time_ms and every timer it arms counts from it, so a
 * slow callback (a log synced per change) does not shift them, and a
 * replay that sets the clock once per stimulus (phasecast-inspect import)
 * reproduces them to the millisecond. Outside a stimulus, the clock now.
 */
int64_t pc_room_now_ms(const pc_room *room);

/*
 * pc_room_arm_timeout - arm the current phase's timeout to fire after
 * delay_ms (>= 0) from pc_room_now_ms (inside a callback: from when its
 * stimulus began), replacing any armed timeout. The timer belongs to the
 * phase: any transition cancels it (and re-arms it if the new phase has a
 * timeout_ms). Returns PC_OK, PC_ERR_INVALID (negative delay) or
 * PC_ERR_PHASE (the phase has no timeout callback).
 */
pc_err pc_room_arm_timeout(pc_room *room, int64_t delay_ms);

/* pc_room_cancel_timeout - disarm the phase timer (no-op if unarmed). */
void pc_room_cancel_timeout(pc_room *room);

/* pc_room_timeout_deadline - when armed, writes the room-clock deadline in
 * ms and returns true; otherwise returns false. */
bool pc_room_timeout_deadline(const pc_room *room, int64_t *deadline_ms);

/*
 * pc_room_fire_timeout - the host's timer expired: disarm and run the
 * current phase's timeout callback. Returns PC_OK, or PC_ERR_STATE when no
 * timeout is armed (a stale timer; nothing runs) or PC_ERR_REENTRANT.
 */
pc_err pc_room_fire_timeout(pc_room *room);

/* pc_room_set_timer_host - let the host schedule phase timers (see
 * pc_timer_fn); fn NULL removes the host. An armed timer is handed over. */
void pc_room_set_timer_host(pc_room *room, pc_timer_fn fn, void *arg);

/* ---- Durability: the journal, the PRNG position, restoring a room ---- */

/*
 * A journal makes every change durable before it is committed; changelog.h
 * provides one (the durable change log). It is called once per change,
 * after the change has been applied, validated and checksummed, and before
 * it is numbered, recorded or handed to any sink: change->seq and
 * change->time_ms are what the change will get, pc_room_state already
 * returns the proposed document and pc_room_draws the PRNG position.
 * change is borrowed until the call returns. The room is read-only inside
 * (like a validator: state changes and history queries are refused with
 * PC_ERR_REENTRANT). why is never NULL.
 *
 * Returning PC_OK commits the change; nothing after the journal can fail.
 * Any other return rolls the change back exactly as a validator refusal
 * does (same state, seq and history, no sink called) and the update call
 * fails: with the journal's code when it is PC_ERR_NOMEM or PC_ERR_LIMIT
 * (nothing was written; the room carries on), otherwise with PC_ERR_IO,
 * and the room FAILS: every later state change (and action) is refused
 * with PC_ERR_IO, code "room_failed", until pc_room_set_journal is called
 * again. So a change is either journaled and committed, or neither.
 */
typedef pc_err (*pc_journal_fn)(pc_room *room, const pc_change *change,
                                pc_error *why, void *arg);

/*
 * A journal's second half: told, after the fact, each time the phase
 * timer is armed (deadline_ms on the room's clock), disarmed or fires
 * (deadline_ms -1), so that a restored room's timer can fire when the
 * original would have. It cannot refuse; a journal that fails to record
 * it refuses the room's next change instead. The room is read-only
 * inside (pc_room_seq is the seq the timer state follows).
 */
typedef void (*pc_journal_timer_fn)(pc_room *room, int64_t deadline_ms,
                                    void *arg);

/*
 * pc_room_set_journal - install fn, timer_fn (may be NULL) and arg as the
 * room's journal (fn NULL removes it) and clear a failed state. Not from
 * inside the journal.
 */
void pc_room_set_journal(pc_room *room, pc_journal_fn fn,
                         pc_journal_timer_fn timer_fn, void *arg);

/*
 * pc_room_failed - true when a journal failure has stopped the room; *why
 * (may be NULL) then receives the error that stopped it.
 */
bool pc_room_failed(const pc_room *room, pc_error *why);

/* pc_room_draws - how many values the room's PRNG has produced since it
 * was seeded (pc_room_random_below may draw more than one per call). */
uint64_t pc_room_draws(const pc_room *room);

/* What a room is rebuilt from: what a durable log records. */
typedef struct pc_room_image {
    const cJSON *state;  /* the whole document {"phase": P, "data": {...}}, as
                            after seq; borrowed, copied by pc_room_restore */
    uint64_t seq;        /* the last committed seq */
    uint64_t seed;       /* the room's PRNG seed */
    uint64_t draws;      /* PRNG values drawn (pc_room_draws) at seq */
    bool timer;          /* the phase timer was armed ... */
    int64_t deadline_ms; /* ... for this moment on the room's clock
                            (pc_room_timeout_deadline) */
} pc_room_image;

/*
 * pc_room_restore - like pc_room_new, but the room continues from image:
 * its document is a copy of image->state, its seq image->seq (the next
 * change gets seq + 1), its phase the one the document names, and its PRNG
 * is seeded with image->seed and advanced by image->draws, so the game
 * continues exactly as it would have (opts->seed is ignored). The history
 * starts empty. The room is CREATED: attach sinks and a journal, then call
 * pc_room_start, which for a restored room does NOT run the phase's enter
 * callback (it ran before the image was taken, and its changes are in the
 * state) and arms the phase timer for image->deadline_ms when image->timer
 * is set and the phase has a timeout callback: it fires when the original
 * room's would have, at once if that moment has passed, whichever way it
 * was armed (timeout_ms or pc_room_arm_timeout). Advancing the PRNG costs
 * one step per draw. Returns what pc_room_new returns, plus
 * PC_ERR_INVALID (state not {"phase": string, "data": object} or fails
 * pc_json_check), PC_ERR_PHASE (the game has no such phase) and
 * PC_ERR_LIMIT (state over the room's limits).
 */
pc_err pc_room_restore(const pc_game *game, const pc_room_options *opts,
                       const pc_room_image *image, pc_room **out);

#ifdef __cplusplus
}
#endif

#endif /* PHASECAST_ROOM_H */
