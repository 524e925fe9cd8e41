/*
 * bot.h - a simple tictactoe player, for demos and tests.
 *
 * The bot reads the room's data (see tictactoe.h for its shape) and names a
 * cell: one that wins on the spot if there is one, else one that blocks the
 * opponent's immediate win, else a free cell chosen by the caller's random
 * value. It is a pure function: the same board, mark and random value give
 * the same cell, so a game driven with pc_room_random replays exactly from
 * the room's seed. It does not play perfectly (it never sets up forks), and
 * it does not send the move - the caller does, through pc_room_action.
 */
#ifndef PHASECAST_GAMES_TICTACTOE_BOT_H
#define PHASECAST_GAMES_TICTACTOE_BOT_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "phasecast/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * tictactoe_bot_move - choose a cell for mark ("X" or "O") to play.
 *
 * data is the room's "data" object (pc_room_data), borrowed for the call;
 * only its "board" member is read. Ties are broken by the lowest cell
 * index for winning and blocking moves; otherwise the pick is the
 * (random_value mod n)-th of the n free cells, counting from cell 0.
 * On success writes the cell (0..8) to *cell_out. Returns PC_OK,
 * PC_ERR_INVALID (NULL argument, mark not "X" or "O", no board of nine
 * "", "X" or "O" cells) or PC_ERR_NOT_FOUND (the board is full). Pure;
 * any thread.
 */
pc_err tictactoe_bot_move(const cJSON *data, const char *mark,
                          uint64_t random_value, int *cell_out);

#ifdef __cplusplus
}
#endif

#endif /* PHASECAST_GAMES_TICTACTOE_BOT_H */
