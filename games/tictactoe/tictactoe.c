/*
 * tictactoe.c - the tictactoe game: its phase table, two action callbacks
 * and a board validator (tictactoe.h has the phase diagram, the transition
 * table, the data shape and the errors).
 *
 * Each action callback checks everything first and changes state last, with
 * exactly one pc_update_phase_data (or its text form, pc_update_phase_text)
 * or pc_transition per accepted action, so a refused action commits nothing.
 * Patches are written as JSON text when every string in them is the game's
 * own (marks, cells); a player id may be any string, so it goes in through
 * cJSON, which escapes it. The callbacks read the board and the turn without
 * re-checking their shape because the validator guarantees it for every
 * committed state. Only the public API is used; the game keeps no state
 * outside the room.
 */
#include "tictactoe/tictactoe.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/error.h"
#include "phasecast/json.h"
#include "phasecast/room.h"

/* ---- The rules --------------------------------------------------------- */

/* The eight winning lines: three rows, three columns, two diagonals. */
static const int lines[8][3] = {{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {0, 3, 6},
                                {1, 4, 7}, {2, 5, 8}, {0, 4, 8}, {2, 4, 6}};

/* The second join's patch before O's id goes in: the empty board and X to
 * move, so the game starts in the same change that fills the room. */
static const char opening[] = "{\"players\":{},\"board\":[\"\",\"\",\"\",\"\","
                              "\"\",\"\",\"\",\"\",\"\"],\"turn\":\"X\"}";

static bool is(const cJSON *value, const char *s)
{
    return cJSON_IsString(value) && strcmp(value->valuestring, s) == 0;
}

/* The mark ("X" or "O") that player plays, or NULL if they have not joined. */
static const char *mark_of(const cJSON *data, const char *player)
{
    return is(pc_json_pointer_get(data, "/players/X"), player)   ? "X"
           : is(pc_json_pointer_get(data, "/players/O"), player) ? "O"
                                                                 : NULL;
}

/* WAITING: "join" seats the first player as X, the second as O. */
static pc_err waiting(pc_room *room, const pc_action *act, cJSON **result,
                      pc_error *err, void *arg)
{
    const cJSON *x = pc_json_pointer_get(pc_room_data(room), "/players/X");
    const char *mark = x == NULL ? "X" : "O";
    (void)result;
    (void)arg;
    if (strcmp(act->type, "join") != 0) {
        return pc_error_set(err, PC_ERR_ACTION, "not_started",
                            "only \"join\" until two players are in");
    }
    if (is(x, act->player)) {
        return pc_error_set(err, PC_ERR_ACTION, "already_joined",
                            "%s has already joined", act->player);
    }
    /* A player id may be any string, so cJSON adds it, escaped. Out of
     * memory, patch and players are NULL and the add fails. */
    cJSON *patch = cJSON_Parse(x == NULL ? "{\"players\":{}}" : opening);
    cJSON *players = cJSON_GetObjectItemCaseSensitive(patch, "players");
    char reason[128];
    snprintf(reason, sizeof reason, "%s joins as %s", act->player, mark);
    pc_err rc = PC_ERR_NOMEM;
    if (cJSON_AddStringToObject(players, mark, act->player) != NULL) {
        rc = x == NULL ? pc_update_phase_data(room, patch, reason)
                       : pc_transition(room, "PLAYING", patch, reason);
    }
    cJSON_Delete(patch);
    return rc;
}

/* PLAYING: "move" {"cell": n} marks a free cell for the player to move. */
static pc_err playing(pc_room *room, const pc_action *act, cJSON **result,
                      pc_error *err, void *arg)
{
    const cJSON *data = pc_room_data(room);
    const cJSON *board = cJSON_GetObjectItemCaseSensitive(data, "board");
    const cJSON *turn = cJSON_GetObjectItemCaseSensitive(data, "turn");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(act->payload, "cell");
    const char *mark = mark_of(data, act->player);
    double d = cJSON_IsNumber(n) ? n->valuedouble : -1;
    (void)result;
    (void)arg;
    if (strcmp(act->type, "join") == 0) {
        return pc_error_set(err, PC_ERR_ACTION,
                            mark ? "already_joined" : "room_full",
                            "%s cannot join: the game has begun", act->player);
    }
    if (strcmp(act->type, "move") != 0) {
        return pc_error_set(err, PC_ERR_ACTION, "unknown_action",
                            "no action \"%s\" while playing", act->type);
    }
    if (mark == NULL) {
        return pc_error_set(err, PC_ERR_ACTION, "not_a_player",
                            "%s is not playing in this room", act->player);
    }
    if (!is(turn, mark)) {
        return pc_error_set(err, PC_ERR_ACTION, "not_your_turn",
                            "it is %s's turn", turn->valuestring);
    }
    if (!(d >= 0 && d < TICTACTOE_CELLS && d == (int)d)) {
        return pc_error_set(err, PC_ERR_ACTION, "bad_cell",
                            "the payload must be {\"cell\": 0..8}");
    }
    int cell = (int)d, free_cells = 0;
    const char *b[TICTACTOE_CELLS];
    for (int i = 0; i < TICTACTOE_CELLS; i++) {
        b[i] = cJSON_GetArrayItem(board, i)->valuestring;
        free_cells += b[i][0] == '\0';
    }
    if (b[cell][0] != '\0') {
        return pc_error_set(err, PC_ERR_ACTION, "cell_taken",
                            "cell %d is taken by %s", cell, b[cell]);
    }
    b[cell] = mark;
    /* A full board draws unless the move made a line. Cells are "", "X" or
     * "O", so their first byte tells them apart. */
    const char *winner = free_cells == 1 ? "draw" : NULL;
    for (int i = 0; i < 8; i++) {
        const int *l = lines[i];
        if (*b[l[0]] == *mark && *b[l[1]] == *mark && *b[l[2]] == *mark) {
            winner = mark;
        }
    }
    /* Only marks and fixed words go into this text, so it cannot overflow
     * and needs no escaping. */
    char reason[64], text[128];
    int len = snprintf(text, sizeof text,
                       "{\"board\":[\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\","
                       "\"%s\",\"%s\",\"%s\"],",
                       b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8]);
    if (winner == NULL) {
        snprintf(reason, sizeof reason, "%s plays cell %d", mark, cell);
        snprintf(text + len, sizeof text - len, "\"turn\":\"%s\"}",
                 *mark == 'X' ? "O" : "X");
        return pc_update_phase_text(room, text, reason);
    }
    snprintf(reason, sizeof reason, "%s plays cell %d%s", mark, cell,
             winner == mark ? " and wins" : ": draw");
    snprintf(text + len, sizeof text - len, "\"turn\":null,\"winner\":\"%s\"}",
             winner);
    return pc_transition_text(room, "FINISHED", text, reason);
}

/*
 * ---- Optional invariant check ------------------------------------------
 *
 * The framework does not require a validator (pc_game.validate may be NULL).
 * Tictactoe keeps one because it states the board invariant once for every
 * proposed state, whoever proposes it, and because the callbacks above rely
 * on it when they read the board and the turn without checking their shape.
 */

/* The board invariant, checked by the framework before every commit. */
static pc_err validate(const pc_room *room, const cJSON *proposed,
                       pc_error *why, void *arg)
{
    const cJSON *phase = pc_json_pointer_get(proposed, "/phase");
    const cJSON *board = pc_json_pointer_get(proposed, "/data/board");
    const cJSON *turn = pc_json_pointer_get(proposed, "/data/turn");
    const cJSON *cell;
    int x = 0, o = 0, blank = 0;
    (void)room;
    (void)arg;
    if (board == NULL && is(phase, "WAITING")) {
        return PC_OK; /* no board until both players are in */
    }
    cJSON_ArrayForEach(cell, board)
    {
        x += is(cell, "X");
        o += is(cell, "O");
        blank += is(cell, "");
    }
    if (!cJSON_IsArray(board) || cJSON_GetArraySize(board) != TICTACTOE_CELLS ||
        x + o + blank != TICTACTOE_CELLS || x - o < 0 || x - o > 1) {
        return pc_error_set(why, PC_ERR_REJECTED, "bad_board",
                            "the board must be 9 cells \"\", \"X\" or \"O\", "
                            "X having as many as O or one more");
    }
    const char *next = x == o ? "X" : "O";
    if ((turn != NULL || is(phase, "PLAYING")) && !is(turn, next)) {
        return pc_error_set(why, PC_ERR_REJECTED, "bad_turn",
                            "with %d X and %d O on the board it is %s's turn",
                            x, o, next);
    }
    return PC_OK;
}

/* ---- The game table ---------------------------------------------------- */

static const pc_phase phases[] = {
    {.name = "WAITING", .action = waiting},
    {.name = "PLAYING", .action = playing},
    {.name = "FINISHED"}, /* no action callback: PC_ERR_PHASE */
};

static const pc_game game = {
    .name = "tictactoe",
    .phases = phases,
    .nphases = sizeof phases / sizeof phases[0],
    .initial_phase = "WAITING",
    .validate = validate,
};

const pc_game *tictactoe_game(void)
{
    return &game;
}
