/*
 * piles.h - piles, a four-player game of hidden hands and declared piles.
 *
 * Four players join. Each round deals all 32 pieces (8 each, see rules.h),
 * every player declares how many piles they expect to capture, and then
 * they play turns: the turn's lead plays 1 to 6 pieces forming a single, a
 * pair or a straight, every other player plays as many pieces, and the
 * strongest play of the lead's kind captures that many piles. A round
 * scores exact declarations (+declared, and a +5 bonus as its own change)
 * and misses (-difference); the game ends when someone has 50 points or
 * after 20 rounds. Hands are private (pc_game.private_paths
 * "/hands/{player}"): the public view, and so spectators and the
 * broadcast, never holds a hand, and each player sees only its own.
 * docs/games/piles.md has the complete rules, data shape and errors.
 *
 * The game is built only on the public headers and keeps no state of its
 * own: everything is in the room's JSON document, and the only randomness
 * is pc_room_random (the deal and the first starter), so the same seed and
 * the same actions at the same room-clock times replay the same game.
 * It does not do reconnection, substitutes or matchmaking: a player who
 * stops acting is played for by the timeouts.
 *
 * The game's phases (names are the room's "phase" values):
 *
 *      start (pc_room_start)
 *        |
 *        v
 *   +-------+  join (1st..3rd)
 *   | LOBBY |<-------------+
 *   +-------+--------------+
 *        | join (4th)
 *        v
 *   +-------------+  timeout: deal, choose the starter
 *   | PREPARATION |-------------------+
 *   +-------------+                   |
 *        ^                            v
 *        |                   +-------------+  declare or timeout (1st..3rd)
 *        |                   | DECLARATION |<-------------+
 *        |                   +-------------+--------------+
 *        |                            | declare or timeout (4th)
 *        |                            v
 *        |                        +------+  play or timeout (1st..3rd)
 *        |                        | TURN |<-------------+
 *        |                        +------+--------------+
 *        |        timeout: pieces  ^  |
 *        |        left in hands    |  | play or timeout (4th): the winner
 *        |                         |  v
 *        |                   +--------------+
 *        |                   | TURN_RESULTS |
 *        |                   +--------------+
 *        |                            | timeout: hands empty
 *        |   timeout: nobody has      v
 *        |   50 points, round < 20 +---------+  enter: one change per
 *        +-------------------------| SCORING |  score, one per bonus
 *                                  +---------+
 *                                       | timeout: 50 points or round 20
 *                                       v
 *                                 +-----------+
 *                                 | GAME_OVER |  refuses every action
 *                                 +-----------+
 *
 *   from          to            when                     performed by
 *   ------------  ------------  -----------------------  --------------------
 *   LOBBY         LOBBY         join, 1st..3rd player    join() with
 *                                                        pc_update_phase_data
 *   LOBBY         PREPARATION   join, 4th player         join() with
 *                                                        pc_transition
 *   PREPARATION   DECLARATION   phase timer (deal_ms)    deal() with
 *                                                        pc_transition
 *   DECLARATION   DECLARATION   declaration 1..3, by     declare() with
 *                               action or timer          pc_update_phase_data
 *   DECLARATION   TURN          declaration 4            declare() with
 *                                                        pc_transition
 *   TURN          TURN          play 1..3, by action     play() with
 *                               or timer                 pc_update_phase_data
 *   TURN          TURN_RESULTS  play 4: names winner     play() with
 *                                                        pc_transition
 *   TURN_RESULTS  TURN          phase timer, pieces      next_turn() with
 *                               left (results_ms)        pc_transition
 *   TURN_RESULTS  SCORING       phase timer, hands       next_turn() with
 *                               empty                    pc_transition
 *   SCORING       SCORING       entering SCORING (and    score_next() with
 *                               retries): each score,    pc_update_phase_data
 *                               each bonus
 *   SCORING       PREPARATION   phase timer (scoring_ms) end_round() with
 *                               and the game goes on     pc_transition
 *   SCORING       GAME_OVER     phase timer, somebody    end_round() with
 *                               has 50 or round 20 done  pc_transition
 *
 *   (All in piles.c. Actions reach join(), declare() and play() through the
 *   action callback on_action(); timers through the phases' timeout
 *   callbacks, which call declare() and play() with a default choice.)
 *
 * Every phase timer is armed by the phase's enter callback with the
 * configured delay (declaration and play timers again after each accepted
 * declaration or play, so each player gets the full time). An automatic
 * step that fails (out of memory) changes nothing and re-arms the timer to
 * try again after PILES_RETRY_MS.
 */
#ifndef PHASECAST_GAMES_PILES_H
#define PHASECAST_GAMES_PILES_H

#include <stdint.h>

#include "phasecast/error.h"
#include "phasecast/room.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest player id the game seats, in bytes (bad_name beyond, and for
 * an id that is also a piece id such as "R7a"). */
#define PILES_NAME_MAX 64
/* Delay before an automatic step that failed is tried again. */
#define PILES_RETRY_MS 1000

/* Default settings (see piles_config). */
#define PILES_DECLARE_MS_DEFAULT 30000
#define PILES_PLAY_MS_DEFAULT    30000
#define PILES_DEAL_MS_DEFAULT    1000
#define PILES_RESULTS_MS_DEFAULT 2000
#define PILES_SCORING_MS_DEFAULT 3000
#define PILES_TARGET_DEFAULT     50
#define PILES_ROUNDS_DEFAULT     20
/* What piles_config_check accepts (and the game clamps to): delays
 * 0..PILES_DELAY_MAX ms (one day), target_score 1..PILES_TARGET_MAX,
 * max_rounds 1..PILES_ROUNDS_MAX. */
#define PILES_DELAY_MAX  86400000
#define PILES_TARGET_MAX 10000
#define PILES_ROUNDS_MAX 1000

/*
 * A room's settings. Pass one as the room's user pointer
 * (pc_room_options.arg, or pc_server_room_options.room.arg); it is
 * borrowed for the life of the room and read on every callback, so it must
 * not change while the room runs. A NULL arg means the defaults. Delays are
 * room-clock milliseconds; 0 means "at the host's next loop iteration" (a
 * declaration or play timeout of 0 plays every seat on autopilot).
 */
typedef struct piles_config {
    int64_t declare_ms; /* each declarer's time to declare */
    int64_t play_ms;    /* each player's time to play in a turn */
    int64_t deal_ms;    /* PREPARATION: pause before the deal */
    int64_t results_ms; /* TURN_RESULTS: pause showing the turn's winner */
    int64_t scoring_ms; /* SCORING: pause showing the round's scores */
    int target_score;   /* the game ends after a round in which someone
                           reaches this many points */
    int max_rounds;     /* ... or after this many rounds */
} piles_config;

/* piles_config_init - fill c with the defaults. Any thread. */
void piles_config_init(piles_config *c);

/*
 * piles_config_check - PC_OK if every delay is 0..PILES_DELAY_MAX,
 * target_score is 1..PILES_TARGET_MAX and max_rounds 1..PILES_ROUNDS_MAX;
 * PC_ERR_INVALID otherwise (c NULL included). The game clamps
 * out-of-range values into those ranges rather than stall, so hosts
 * should check first. Any thread.
 */
pc_err piles_config_check(const piles_config *c);

/*
 * piles_config_option - set one member of c from a command-line option,
 * so that every program hosting or replaying piles takes the same
 * options with the same checks: name is "--declare-ms", "--play-ms",
 * "--deal-ms", "--results-ms" or "--scoring-ms" (value a delay in ms,
 * decimal digits, 0..PILES_DELAY_MAX), "--target" (1..PILES_TARGET_MAX)
 * or "--rounds" (1..PILES_ROUNDS_MAX). name and value are borrowed.
 * Returns PC_OK (the member is set), PC_ERR_NOT_FOUND (name is not a
 * piles option) or PC_ERR_INVALID (it is, but value is not a number in
 * its range, or an argument is NULL); on an error c is unchanged. Any
 * thread.
 */
pc_err piles_config_option(piles_config *c, const char *name,
                           const char *value);

/*
 * piles_config_usage - the options piles_config_option takes, with their
 * defaults, as help text: one "  --name ARG  what [default]" line each,
 * newline-terminated. Static text, never freed. Any thread.
 */
const char *piles_config_usage(void);

/*
 * piles_game - the game table, for pc_room_new or pc_server_add_room.
 * Static data: never freed, valid for the life of the process. Any thread.
 */
const pc_game *piles_game(void);

#ifdef __cplusplus
}
#endif

#endif /* PHASECAST_GAMES_PILES_H */
