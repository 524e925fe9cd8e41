/*
 * tictactoe.h - noughts and crosses, the smallest complete phasecast game.
 *
 * Two players join, X moves first, and the first to own a row, a column or
 * a diagonal wins; a full board without a line is a draw. The game is built
 * only on the public headers (room.h, error.h, json.h) and is meant to be
 * read: docs/tutorial.md walks through it line by line. It keeps no state of
 * its own - everything lives in the room's JSON document - and it does not
 * do matchmaking, clocks or rematches.
 *
 * The game's phases (names are the room's "phase" values):
 *
 *      start (pc_room_start)
 *        |
 *        v
 *   +---------+  join (1st): seats X
 *   | WAITING |<-----------+
 *   +---------+------------+
 *        |
 *        | join (2nd): seats O, lays out the empty board
 *        v
 *   +---------+  move: no line, free cells left
 *   | PLAYING |<-----------+
 *   +---------+------------+
 *        |
 *        | move: makes a line, or fills the board
 *        v
 *   +----------+
 *   | FINISHED |  takes no actions
 *   +----------+
 *
 *   from     to        when                          performed by
 *   -------  --------  ----------------------------  ------------------------
 *   WAITING  WAITING   first "join" (seats X)        waiting() with
 *                                                    pc_update_phase_data
 *   WAITING  PLAYING   second "join" (seats O)       waiting() with
 *                                                    pc_transition
 *   PLAYING  PLAYING   "move", no line, cells left   playing() with
 *                                                    pc_update_phase_text
 *   PLAYING  FINISHED  "move" makes a line or fills  playing() with
 *                      the board                     pc_transition_text
 *
 *   (waiting() and playing() are the phases' action callbacks in
 *   tictactoe.c.)
 *
 * Every arrow is exactly one committed change (one seq), so each accepted
 * action - including the winning move - advances the room's seq by one.
 *
 * Data shape ("data" member of the room state):
 *
 *   WAITING   {} then {"players": {"X": "alice"}}
 *   PLAYING   {"players": {"X": "alice", "O": "bob"},
 *              "board": ["", "", "", "", "X", "", "", "", ""],
 *              "turn": "O"}
 *   FINISHED  {"players": {...}, "board": [...], "winner": "X"|"O"|"draw"}
 *
 * Actions and their refusals (PC_ERR_ACTION, pc_error.code):
 *
 *   WAITING   "join"              already_joined
 *             anything else       not_started
 *   PLAYING   "join"              already_joined, room_full
 *             "move" {"cell": n}  not_a_player, not_your_turn,
 *                                 bad_cell (missing, not an integer, not
 *                                 0..8), cell_taken
 *             anything else       unknown_action
 *   FINISHED  none: pc_room_action returns PC_ERR_PHASE
 *
 * The game's validator refuses (PC_ERR_REJECTED) any proposed state, from
 * whatever caller, that breaks the board invariant: outside WAITING there
 * is a board of nine cells, each "", "X" or "O", with as many X as O or one
 * more ("bad_board"); PLAYING has a "turn", and any "turn" names the mark
 * those counts say moves next ("bad_turn").
 */
#ifndef PHASECAST_GAMES_TICTACTOE_H
#define PHASECAST_GAMES_TICTACTOE_H

#include "phasecast/room.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Number of cells on the board, numbered 0..8 row by row. */
#define TICTACTOE_CELLS 9

/*
 * tictactoe_game - the game table, for pc_room_new. Static data: never
 * freed, valid for the life of the process. Any thread.
 */
const pc_game *tictactoe_game(void);

#ifdef __cplusplus
}
#endif

#endif /* PHASECAST_GAMES_TICTACTOE_H */
