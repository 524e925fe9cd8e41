/*
 * arenagame.h - "arena", a game-master game for the hardening suite: the
 * fuzz host (tests/fuzz/reqhost.h) serves it so that fuzz_request reaches
 * what issue 10 added (the game master's role and view, strict action
 * types and expected_seq, events of every audience), and the
 * allocation-failure loops (test_server_oom.c) drive it. Not installed
 * and not the encounter game (games/encounter): a small table whose every
 * action is a door into one of those paths, with allocation checked
 * everywhere, so that a failed allocation refuses an action whole.
 *
 * One phase, ROUND. Private: /gm (game master only), /monsters/ * /hp
 * (game master only) and /sheets/{player}. Secrets are canaries drawn
 * per process (arenagame_init), so no input can guess them: each player's
 * sheet holds arenagame_player_secret(name), and /gm/secret and the
 * game-master-only events hold arenagame_gm_secret(). Actions:
 *   join    - a seat: the sheet and /party/<name>
 *   add     - game master only: {"id", "hp"} a monster, and /gm/secret
 *   note    - game master only: {"text"} /gm/note, then the event
 *             "gm.note" {"text", "secret"} for the game master only
 *   hit     - {"target", "dmg"}: one monster loses dmg hit points
 *   area    - {"targets": [...], "dmg"}: every target, in ONE patch; the
 *             validator refuses hit points below zero, so one bad target
 *             refuses the whole spell
 *   roll    - a d20 from the room's PRNG into /rolls/<player>; a 20 also
 *             makes the public event "critical_hit"
 *   say     - the public event "said" with the payload as its data
 *   whisper - {"to", "data"}: the event "whisper" for player "to" only
 *   shout   - {"name", "data", "reason"}: pc_room_event with all three
 *             taken from the payload as they are (the framework checks)
 *   scout   - the game's own optimistic rule: with an expected_seq behind
 *             the room it refuses with "conflict"; else /scouted/<player>
 * hit and area are strict (pc_game.strict_actions); the rest are not.
 * Room thread only, like any game.
 */
#ifndef PC_TEST_ARENAGAME_H
#define PC_TEST_ARENAGAME_H

#include "phasecast/room.h"

/* Draw the canaries (once per process; later calls keep them). */
void arenagame_init(void);
/* Fixed canaries instead, for seeds that must not change from run to run
 * (make_seeds); call it before arenagame_init. */
void arenagame_init_fixed(void);
const pc_game *arenagame(void);
/* "GS" and 32 hex digits. */
const char *arenagame_gm_secret(void);
/* "PS", 32 hex digits, "-" and name, written to buf (at least
 * ARENAGAME_SECRET_MAX bytes). */
#define ARENAGAME_SECRET_MAX 80
void arenagame_player_secret(const char *name, char *buf);

#endif
