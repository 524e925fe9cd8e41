/*
 * encounter.h - encounter, a tabletop fight between a party of heroes (the
 * players) and monsters run by a game master.
 *
 * Players join as heroes in SETUP while the game master (a viewer with
 * pc_action.role PC_ROLE_GM, admitted by the host with the room's
 * game-master credential) places monsters whose hit points, armour and
 * notes only the game master sees. The game master starts the fight; in
 * each ROUND every hero acts once, all at the same time (attack, the area
 * spell thunderwave, heal, move or defend), and a round timer makes the
 * heroes who did not act defend. In RESOLUTION the monsters strike back
 * and the fallen are announced; then the next ROUND, or VICTORY (every
 * monster defeated) or DEFEAT (every hero down, or the last round done).
 * docs/games/encounter.md has the rules, the data shape, the errors and
 * the table of who sees what.
 *
 * The game is built only on the public headers and keeps no state of its
 * own: everything is in the room's JSON document, and the only randomness
 * is pc_room_random_below (every die), so the same seed and the same
 * actions at the same room-clock times replay the same states and the same
 * events. Secrets are declared once (pc_game.private_paths, see view.h):
 * "/heroes/{player}/sheet" (a hero's spell slots and secret objective) is
 * seen by its player and the game master; monster hp, max_hp, armour and
 * note, and "/gm_notes", by the game master only. Reasons and error
 * messages never carry those values. It does not do reconnection,
 * substitutes or matchmaking: a hero whose player stops acting defends.
 *
 * The game's phases (names are the room's "phase" values):
 *
 *      start (pc_room_start)
 *        |
 *        v
 *   +-------+  join, objective, add_monster, adjust_hp, note
 *   | SETUP |<-----------------------------------------+
 *   +-------+------------------------------------------+
 *        | GM start (>= 1 living hero, >= 1 living monster)
 *        v
 *   +-------+  an action of a hero (not the last), GM actions
 *   | ROUND |<-----------------------------------------+
 *   +-------+------------------------------------------+
 *     ^  | the last living hero acts (or the last monster
 *     |  | falls), GM end_round, or the round timer (who
 *     |  | did not act defends)
 *     |  v
 *     | +------------+  enter: each living monster attacks (one change
 *     | | RESOLUTION |  each), then the fallen are announced (events)
 *     | +------------+
 *     |  | timer (resolution_ms)
 *     +--+ monsters and heroes remain, rounds remain
 *        |
 *        +--> VICTORY  every monster defeated     (refuse every action:
 *        +--> DEFEAT   every hero down, or         "game_over")
 *                      max_rounds rounds done
 *
 *   from        to          when                      performed by
 *   ----------  ----------  ------------------------  ---------------------
 *   SETUP       SETUP       join, objective, GM       join(), objective()
 *                           add_monster, adjust_hp,   (rules.c),
 *                           note                      add_monster(),
 *                                                     adjust_hp(), note()
 *                                                     (gm.c) with
 *                                                     pc_update_phase_data
 *   SETUP       ROUND       GM start                  start() (gm.c) with
 *                                                     pc_transition
 *   ROUND       ROUND       a hero acts (attack,      attack(), spell(),
 *                           spell, heal, move,        heal(), move(),
 *                           defend), GM actions       defend() (rules.c)
 *                                                     with
 *                                                     pc_update_phase_data
 *   ROUND       RESOLUTION  the last living hero      encounter_resolve_if_
 *                           has acted, or the last    done() (rules.c) with
 *                           monster fell (that        pc_transition
 *                           change is committed
 *                           first)
 *   ROUND       RESOLUTION  GM end_round              end_round() (gm.c)
 *                                                     with pc_transition
 *   ROUND       RESOLUTION  round timer (round_ms):   round_timeout_step()
 *                           one "defend" change per   with
 *                           living hero who did not   pc_update_phase_data,
 *                           act                       then pc_transition
 *   RESOLUTION  RESOLUTION  entering (or the timer,   resolve() with
 *                           if a failure or a crash   pc_update_phase_data
 *                           cut it short): each       and pc_room_event
 *                           monster's attack, the
 *                           "resolved" mark, events
 *   RESOLUTION  ROUND       timer (resolution_ms),    next_round() with
 *                           the fight goes on         pc_transition
 *   RESOLUTION  VICTORY     timer, every monster      next_round() with
 *                           defeated                  pc_transition
 *   RESOLUTION  DEFEAT      timer, every hero down    next_round() with
 *                           or round max_rounds done  pc_transition
 *
 *   (The phases' enter and timeout callbacks, resolve() and next_round()
 *   are in encounter.c; its on_action() routes every action to rules.c or
 *   gm.c.)
 *
 * Every phase with a timer arms it first in its enter callback, before any
 * change the callback makes, so that a room recovered from its change log
 * (which does not rerun enter) still has the timer, and the timeout
 * finishes what the enter callback did not, reading what is done from the
 * state. An automatic step that fails (out of memory) changes nothing and
 * re-arms the timer to try again after ENCOUNTER_RETRY_MS.
 */
#ifndef PHASECAST_GAMES_ENCOUNTER_H
#define PHASECAST_GAMES_ENCOUNTER_H

#include <stdint.h>

#include "phasecast/error.h"
#include "phasecast/room.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest hero or monster id, in bytes. Ids are [A-Za-z0-9_.-]: a hero's
 * id is its player id, which its player-only events are addressed to. */
#define ENCOUNTER_NAME_MAX 64
/* Delay before an automatic step that failed is tried again. */
#define ENCOUNTER_RETRY_MS 1000

/* Default settings (see encounter_config). */
#define ENCOUNTER_ROUND_MS_DEFAULT      20000
#define ENCOUNTER_RESOLUTION_MS_DEFAULT 1000
#define ENCOUNTER_MAX_ROUNDS_DEFAULT    30
#define ENCOUNTER_MAX_HEROES_DEFAULT    4

/* The map is ENCOUNTER_MAP x ENCOUNTER_MAP cells, x and y 0..9. */
#define ENCOUNTER_MAP 10

/* What encounter_config_check accepts (and the game clamps to): delays
 * 0..ENCOUNTER_DELAY_MAX ms (one day), max_rounds 1..ENCOUNTER_ROUNDS_MAX,
 * max_heroes 1..ENCOUNTER_HEROES_MAX. */
#define ENCOUNTER_DELAY_MAX  86400000
#define ENCOUNTER_ROUNDS_MAX 1000
#define ENCOUNTER_HEROES_MAX 8
/* Most monsters the game master may add (add_monster: "too_many"). */
#define ENCOUNTER_MONSTERS_MAX 64

/*
 * A room's settings. Pass one as the room's user pointer
 * (pc_room_options.arg, or pc_server_room_options.room.arg); it is
 * borrowed for the life of the room and read on every callback, so it must
 * not change while the room runs. A NULL arg means the defaults. Delays are
 * room-clock milliseconds.
 */
typedef struct encounter_config {
    int64_t round_ms;      /* ROUND: time to act; then "defend" for who
                              did not */
    int64_t resolution_ms; /* RESOLUTION: pause before the next round */
    int max_rounds;        /* DEFEAT after this many rounds */
    int max_heroes;        /* seats (join refused beyond) */
} encounter_config;

/* encounter_config_init - fill c with the defaults. Any thread. */
void encounter_config_init(encounter_config *c);

/*
 * encounter_config_check - PC_OK if both delays are 0..ENCOUNTER_DELAY_MAX,
 * max_rounds is 1..ENCOUNTER_ROUNDS_MAX and max_heroes
 * 1..ENCOUNTER_HEROES_MAX; PC_ERR_INVALID otherwise (c NULL included). The
 * game clamps out-of-range values into those ranges rather than stall, so
 * hosts should check first. Any thread.
 */
pc_err encounter_config_check(const encounter_config *c);

/*
 * encounter_config_option - set one member of c from a command-line
 * option, so that every program hosting or replaying encounter takes the
 * same options with the same checks: name is "--round-ms" or
 * "--resolution-ms" (value a delay in ms, decimal digits,
 * 0..ENCOUNTER_DELAY_MAX), "--max-rounds" (1..ENCOUNTER_ROUNDS_MAX) or
 * "--max-heroes" (1..ENCOUNTER_HEROES_MAX). name and value are borrowed.
 * Returns PC_OK (the member is set), PC_ERR_NOT_FOUND (name is not an
 * encounter option) or PC_ERR_INVALID (it is, but value is not a number in
 * its range, or an argument is NULL); on an error c is unchanged. Any
 * thread.
 */
pc_err encounter_config_option(encounter_config *c, const char *name,
                               const char *value);

/*
 * encounter_config_usage - the options encounter_config_option takes, with
 * their defaults, as help text: one "  --name ARG  what [default]" line
 * each, newline-terminated. Static text, never freed. Any thread.
 */
const char *encounter_config_usage(void);

/*
 * encounter_game - the game table (name "encounter"), for pc_room_new or
 * pc_server_add_room. Static data: never freed, valid for the life of the
 * process. Any thread.
 */
const pc_game *encounter_game(void);

#ifdef __cplusplus
}
#endif

#endif /* PHASECAST_GAMES_ENCOUNTER_H */
