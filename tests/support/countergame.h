/*
 * countergame.h - "counter", a small game for the network tests (not
 * installed, not an example to copy: it trusts every player).
 *
 * One phase, COUNTING. Each counting change sets data.n to n + 1 and one
 * of 32 slots "s0".."s31" to 7n, so consecutive patches differ in shape as
 * well as value. Actions: "join" is accepted and changes nothing (so the
 * seq counts only what a test commits); "inc" counts once and returns the
 * new n; "deal" gives the acting player a private card at
 * /hands/{player}; anything else is refused with "unknown_action".
 * Functions that touch a room run on the room's thread, like any game.
 */
#ifndef PC_TEST_COUNTERGAME_H
#define PC_TEST_COUNTERGAME_H

#include "phasecast/error.h"
#include "phasecast/room.h"

/* The counter game with /hands/{player} private. */
const pc_game *countergame(void);

/* The same game with nothing private: every view is the public one. */
const pc_game *countergame_public(void);

/* Commit one counting change with this reason. */
pc_err countergame_count(pc_room *room, const char *reason);

/* The number at data.<key>, or 0 when there is none. */
double countergame_number(const pc_room *room, const char *key);

#endif
