/*
 * bot.c - the simple tictactoe player: win, else block, else random.
 *
 * It reads the board with its own checks rather than trusting it, since a
 * bot may be handed any document, and it shares no code with the game: it
 * sees the game only as the public data shape described in tictactoe.h.
 */
#include "tictactoe/bot.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/error.h"

#define CELLS 9

/* The eight winning lines: three rows, three columns, two diagonals. */
static const int lines[8][3] = {{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {0, 3, 6},
                                {1, 4, 7}, {2, 5, 8}, {0, 4, 8}, {2, 4, 6}};

/* Whether playing m at the free cell would complete a line of m. */
static bool completes(const char board[CELLS], int cell, char m)
{
    for (int l = 0; l < 8; l++) {
        int own = 0;
        bool through = false;
        for (int k = 0; k < 3; k++) {
            through |= lines[l][k] == cell;
            own += board[lines[l][k]] == m;
        }
        if (through && own == 2) {
            return true;
        }
    }
    return false;
}

/* Decode data.board into one char per cell: 'X', 'O' or ' '. */
static bool read_board(const cJSON *data, char board[CELLS])
{
    const cJSON *cells = cJSON_GetObjectItemCaseSensitive(data, "board");
    if (!cJSON_IsArray(cells) || cJSON_GetArraySize(cells) != CELLS) {
        return false;
    }
    int i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cells)
    {
        const char *s = cJSON_GetStringValue(c);
        if (s == NULL || (strcmp(s, "") != 0 && strcmp(s, "X") != 0 &&
                          strcmp(s, "O") != 0)) {
            return false;
        }
        board[i++] = s[0] == '\0' ? ' ' : s[0];
    }
    return true;
}

pc_err tictactoe_bot_move(const cJSON *data, const char *mark,
                          uint64_t random_value, int *cell_out)
{
    char board[CELLS];
    if (data == NULL || mark == NULL || cell_out == NULL ||
        (strcmp(mark, "X") != 0 && strcmp(mark, "O") != 0) ||
        !read_board(data, board)) {
        return PC_ERR_INVALID;
    }
    char me = mark[0];
    char them = me == 'X' ? 'O' : 'X';
    int free_cells[CELLS];
    int nfree = 0;
    for (int i = 0; i < CELLS; i++) {
        if (board[i] == ' ') {
            free_cells[nfree++] = i;
        }
    }
    if (nfree == 0) {
        return PC_ERR_NOT_FOUND;
    }
    /* Winning beats blocking, so look for wins over every cell first. */
    const char wanted[2] = {me, them};
    for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k < nfree; k++) {
            if (completes(board, free_cells[k], wanted[pass])) {
                *cell_out = free_cells[k];
                return PC_OK;
            }
        }
    }
    *cell_out = free_cells[random_value % (uint64_t)nfree];
    return PC_OK;
}
