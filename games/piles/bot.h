/*
 * bot.h - a simple piles player, for demos, tools and tests.
 *
 * Given the room's state document as one player sees it (its own hand
 * included) the bot chooses that player's next action: a slightly greedy
 * declaration (its high pieces, sometimes one more) and plays that chase
 * exactly the declared number of piles - try to win turns while short of
 * it, throw the lowest pieces once there. It only ever chooses legal
 * actions for the state it is given; if that state is stale (a replica
 * behind the server), the server refuses and the caller asks again after
 * the next change. The functions are pure: the same document, player and
 * random value give the same choice, so a game driven with pc_room_random
 * replays from the room's seed. The bot does not send anything; the caller
 * does, through pc_room_action or pc_client_act. Its reading of the
 * document is defensive (state.h), so any tree is safe to pass.
 */
#ifndef PHASECAST_GAMES_PILES_BOT_H
#define PHASECAST_GAMES_PILES_BOT_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "phasecast/error.h"
#include "piles/rules.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * piles_bot_declare - how many piles player declares, from data (the
 * "data" member of the state, borrowed). It counts the hand's 8s, half
 * its 7s, adds one when random_value says so, and steps off a total of
 * 8 when player declares last. Writes 0..8 to *piles. Returns PC_OK or
 * PC_ERR_INVALID (NULL argument, no hand of 8 pieces). Pure; any thread.
 */
pc_err piles_bot_declare(const cJSON *data, const char *player,
                         uint64_t random_value, int *piles);

/*
 * piles_bot_play - which pieces player plays in the current turn, from
 * data (borrowed). Leading while short of its declaration it plays one of
 * its three strongest plays that capture no more piles than it still
 * needs (random_value picks which); otherwise it leads its lowest piece.
 * Following, it plays the weakest play that beats the best so far while
 * still short, else its lowest pieces. Writes the pieces (deck order) to
 * pieces and their number to *n. Returns PC_OK or PC_ERR_INVALID (NULL
 * argument, no hand, fewer pieces than the turn needs). Pure; any thread.
 */
pc_err piles_bot_play(const cJSON *data, const char *player,
                      uint64_t random_value, int pieces[PILES_PLAY_MAX],
                      int *n);

/*
 * piles_bot_choose - the action player should send now. state is the
 * whole document {"phase": ..., "data": ...} (pc_room_state, or a
 * client's pc_client_state), borrowed. On success *type receives
 * "declare" or "play" (static text) and *payload a new tree, the action's
 * payload, that the caller frees with cJSON_Delete. Returns PC_OK,
 * PC_ERR_NOT_FOUND (nothing for player to do: not DECLARATION or TURN, or
 * data.to_act is someone else), PC_ERR_INVALID (as above) or
 * PC_ERR_NOMEM. Pure; any thread.
 */
pc_err piles_bot_choose(const cJSON *state, const char *player,
                        uint64_t random_value, const char **type,
                        cJSON **payload);

#ifdef __cplusplus
}
#endif

#endif /* PHASECAST_GAMES_PILES_BOT_H */
