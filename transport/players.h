/*
 * players.h - the players who joined one hosted room: names, secret
 * tokens, join nonces and replies, and each player's recent action replies
 * (internal).
 *
 * Lives beside the room, not in its state: tokens and nonces are secrets
 * and never enter a change, a snapshot or a log.
 */
#ifndef PC_TRANSPORT_PLAYERS_H
#define PC_TRANSPORT_PLAYERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "phasecast/error.h"
#include "phasecast/server.h"
#include "phasecast/view.h"

/* Token text: 128 random bits as 32 lowercase hex digits. */
#define PC__TOKEN_HEX 32

typedef struct pc__players pc__players;
typedef struct pc__player pc__player;

pc_err pc__players_new(size_t max, pc__players **out);
void pc__players_free(pc__players *ps);
size_t pc__players_count(const pc__players *ps);
/* True if name is [A-Za-z0-9_.-]{1,PC_SERVER_NAME_MAX}. */
bool pc__players_valid_name(const char *name);
/* True if nonce is [A-Za-z0-9_-]{PC_SERVER_NONCE_MIN,PC_SERVER_NONCE_MAX}. */
bool pc__players_valid_nonce(const char *nonce);
pc__player *pc__players_find_name(pc__players *ps, const char *name);
/* The player holding token (any string; compared in constant time per
 * player), or NULL. */
pc__player *pc__players_find_token(pc__players *ps, const char *token);
/* Add a player with a fresh random token, keeping the join's nonce (NULL:
 * none, so the join cannot be repeated). Returns PC_OK, PC_ERR_INVALID (bad
 * name or nonce), PC_ERR_STATE (name taken), PC_ERR_LIMIT (full), PC_ERR_IO
 * (no randomness) or PC_ERR_NOMEM. */
pc_err pc__players_add(pc__players *ps, const char *name, const char *nonce,
                       pc__player **out);
/* Undo the last pc__players_add (the game refused the join). */
void pc__players_remove_last(pc__players *ps);
/* The ith player (0 <= i < count), in joining order. */
pc__player *pc__players_at(pc__players *ps, size_t i);
/* Add a player saved before a restart, with its token (32 lowercase hex
 * digits) and join nonce (NULL: none), so that a join repeated across the
 * restart still gets the same token. Returns what pc__players_add
 * returns, PC_ERR_INVALID for a bad token. */
pc_err pc__players_restore(pc__players *ps, const char *name, const char *token,
                           const char *nonce);
/* True if p joined as the room's game master (docs/protocol.md "join"):
 * its token then opens the game master's view, and its actions carry
 * PC_ROLE_GM. */
bool pc__player_is_gm(const pc__player *p);
/* Take one action from p's token bucket (rate actions per second, at most
 * burst, 0: rate; full at p's first action), brought up to now_ms (the
 * room's clock) first. True if there was one; always true when rate is
 * 0. */
bool pc__player_take_action(pc__player *p, unsigned rate, unsigned burst,
                            int64_t now_ms);
/* Mark p (just added, or restored) as the game master. */
void pc__player_set_gm(pc__player *p);
/* The viewer p's token opens: p's own view, the game master's, or (p
 * NULL, no token) the public's. The player name is borrowed from p. */
pc_viewer pc__player_viewer(const pc__player *p);
/* The nonce p joined with, "" if none. */
const char *pc__player_nonce(const pc__player *p);
const char *pc__player_name(const pc__player *p);
const char *pc__player_token(const pc__player *p);
/* True if p joined with a nonce and nonce (any string) is that nonce;
 * compared in constant time, like tokens. */
bool pc__player_nonce_is(const pc__player *p, const char *nonce);
/* The reply remembered for p's join, or NULL; *len gets its length. */
const char *pc__player_join_reply(const pc__player *p, size_t *len);
/* Remember p's join reply (copied). Returns PC_OK or PC_ERR_NOMEM (not
 * remembered; a repeated join then gets a fresh reply). */
pc_err pc__player_remember_join(pc__player *p, const char *reply, size_t len);
/* The reply remembered for action_id, or NULL; *len gets its length. */
const char *pc__player_reply(const pc__player *p, const char *action_id,
                             size_t *len);
/* Remember a reply (copied), evicting the oldest beyond
 * PC_SERVER_ACTION_CACHE. Returns PC_OK or PC_ERR_NOMEM (not cached). */
pc_err pc__player_remember(pc__player *p, const char *action_id,
                           const char *reply, size_t len);
/* pc__player_remember without copying: takes ownership of reply (len
 * bytes and a NUL, pc_malloc'd), so it cannot fail for want of memory.
 * Returns PC_OK or PC_ERR_INVALID (id too long; reply freed). */
pc_err pc__player_remember_owned(pc__player *p, const char *action_id,
                                 char *reply, size_t len);

#endif
