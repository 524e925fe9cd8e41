/*
 * room.h - the room's layout and what the framework's modules share of it
 * (internal; the public API is phasecast/room.h).
 *
 * room.c owns a room's life, accessors, sinks, phase timer and actions;
 * update.c owns the one mutation path (change() and the update and
 * transition entry points). Both see the layout below and the helpers
 * declared after it. Other modules (history.c) use only pc__room_history
 * and pc__room_in_flux.
 */
#ifndef PC_FRAMEWORK_ROOM_H
#define PC_FRAMEWORK_ROOM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "phasecast/change.h"
#include "phasecast/error.h"
#include "phasecast/json.h"
#include "phasecast/room.h"

#include "digest.h"
#include "history.h"
#include "prng.h"

/* Contexts in which the room refuses to change state. */
enum {
    PC__IN_SINK = 1u << 0,
    PC__IN_VALIDATE = 1u << 1,
    PC__IN_EXIT = 1u << 2,
    PC__IN_JOURNAL = 1u << 3
};

/* One registered sink. */
typedef struct pc__sink {
    pc_sink_fn fn;
    void *arg;
    bool removed; /* removed while sinks were running; compacted after */
} pc__sink;

/* The room; opaque outside room.c and update.c. */
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
    pc__sink *sinks;
    size_t nsinks;
    size_t sinks_cap;
    pc_error last_error;
    unsigned busy;   /* PC__IN_* flags: state changes refused */
    int depth;       /* framework calls on the stack, for deferred free */
    int transitions; /* nested transitions in enter callbacks */
    bool started;
    bool doomed;      /* pc_room_free called while depth > 0 */
    bool sinks_dirty; /* some sinks are marked removed */
    bool timer_armed;
    int64_t deadline_ms;
    pc_timer_fn timer_fn;
    void *timer_arg;
    pc_journal_fn journal_fn; /* NULL: changes are not journaled */
    pc_journal_timer_fn journal_timer_fn;
    void *journal_arg;
    int64_t restore_deadline_ms; /* restored rooms: the image's, or -1 */
    pc_error failure; /* err != PC_OK: a journal failure stopped the room */
    bool restored;    /* made by pc_room_restore: start skips enter */
    /* Recovered rooms whose log ends inside a phase entry (see
     * pc__room_restore_entry): start runs the phase's enter callback. */
    bool restore_enter;
    bool restore_entry_unlogged; /* ... and logs its timeout_ms's arm */
    const char *restore_from;    /* the phase the entry left; NULL: start */
    pc_cause cause;    /* the stimulus being handled (its strings borrowed
                          from the caller while it runs) */
    int cause_depth;   /* stimuli on the stack: the outermost one counts */
    int64_t cause_now; /* the clock when the outermost stimulus began: the
                          time of every change and timer it makes */
    /* The canonical text of the patch of the change being made, printed
     * once by check_patch (in place of measuring it) for the journal and
     * the sinks (pc__room_patch_text), and the tree it is the text of:
     * the caller's patch until the change is recorded, then the copy the
     * sinks see; NULL when there is none. */
    char *patch_text;
    size_t patch_text_len;
    size_t patch_text_cap;
    const cJSON *patch_text_of;
};

/*
 * pc__room_patch_text - the canonical text of patch (*len bytes, no NUL)
 * when patch is the patch of the change the room is journaling or
 * dispatching right now, else NULL: a journal or a sink can copy it rather
 * than print the patch again. Borrowed until the journal or sink returns.
 */
const char *pc__room_patch_text(const pc_room *r, const cJSON *patch,
                                size_t *len);

/* Begin handling a stimulus: the outermost one becomes the cause of every
 * change made until the matching pc__cause_end. */
void pc__cause_begin(pc_room *r, pc_cause_kind kind, const char *player,
                     const char *type, const cJSON *payload, const char *phase);
void pc__cause_end(pc_room *r);

/* The room's time: while a stimulus is handled, the clock as it read when
 * that stimulus began (so every change and timer deadline of one stimulus
 * agree, and a replay that sets the clock once per stimulus reproduces
 * them); otherwise the clock now. */
int64_t pc__room_now(const pc_room *r);

/* The room's history ring, read-only. */
const pc__history *pc__room_history(const pc_room *room);

/* True while a validator or exit callback runs: the document then holds a
 * proposed state that the history does not describe yet. */
bool pc__room_in_flux(const pc_room *room);

/* The room's PRNG, for the change log; and setting it back on a restored
 * room (skipping the replay of pc_room_restore's draws). */
const pc__prng *pc__room_prng(const pc_room *room);
void pc__room_set_prng(pc_room *room, const pc__prng *prng);

/* Replace the room's (empty) history with *h, whose records must end at
 * the room's seq and whose capacity must be the room's; *h is left empty.
 * For recovery, which rebuilds the last records from the log. */
void pc__room_adopt_history(pc_room *room, pc__history *h);

/* Record an error on the room (pc_room_last_error) and return err. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 4, 0)))
#endif
pc_err
pc__room_vfail(pc_room *r, pc_err err, const char *code, const char *fmt,
               va_list ap);

/* PC_OK, or the recorded error when the room refuses state changes here
 * (read-only callback, freed, not started); what names the caller. */
pc_err pc__room_check_context(pc_room *r, const char *what);

/* The game's phase with this name, or NULL. */
const pc_phase *pc__room_find_phase(const pc_game *g, const char *name);

/* Bracket a public entry point that may run callbacks; leave returns true
 * when it destroyed a room freed from inside one of them. */
void pc__room_enter(pc_room *r);
bool pc__room_leave(pc_room *r);

/* Hand a committed change to every sink, in registration order. */
void pc__room_dispatch(pc_room *r, const pc_change *c);

/* Arm the phase timer to fire after delay_ms, or disarm it; the host (if
 * any) is told. */
void pc__room_timer_arm(pc_room *r, int64_t delay_ms);
void pc__room_timer_disarm(pc_room *r);
/* A transition's timer steps. The old phase's timer is disarmed quietly
 * (the journal is not told: a transition always disarms, so the log says
 * it by the transition's record) when the change commits; once the sinks
 * have seen it, pc__room_timer_enter arms the new phase's own timeout_ms,
 * if it has one, and tells the journal. So after a transition's record,
 * the log holds one timer record of the framework's if the phase has a
 * timeout_ms, and then only what the enter callback did (or later):
 * recovery can tell whether the enter callback logged anything before a
 * crash. pc_room_start enters the first phase the same way. */
void pc__room_timer_disarm_quiet(pc_room *r);
void pc__room_timer_enter(pc_room *r, const pc_phase *ph);
/* Make a recovered room (pc_room_restore) run the current phase's enter
 * callback when it starts, as the phase's entry from the phase named from
 * (NULL: the room's start): the log ends inside that entry, before the
 * enter callback logged anything. deadline_ms is the phase timer to arm
 * first (-1: none); with entry_unlogged the log lacks the timer record of
 * the phase's own timeout_ms, and start writes it. */
void pc__room_restore_entry(pc_room *r, const char *from, int64_t deadline_ms,
                            bool entry_unlogged);

#endif
