/*
 * rules.h - the actions of encounter: the heroes' (rules.c) and the game
 * master's (gm.c), as the game's action callback (encounter.c) dispatches
 * them. Not installed: the game's public surface is encounter.h.
 *
 * Each function checks first and then commits at most one change for the
 * action itself, so a refusal commits nothing; a hero's action may be
 * followed by its event (critical_hit) and by the move to RESOLUTION
 * when it was the round's last. Error codes and payloads are listed in
 * docs/games/encounter.md "Actions".
 */
#ifndef PHASECAST_GAMES_ENCOUNTER_RULES_H
#define PHASECAST_GAMES_ENCOUNTER_RULES_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "encounter/state.h"
#include "phasecast/error.h"
#include "phasecast/room.h"

#ifdef __cplusplus
extern "C" {
#endif

/* encounter_is_gm_action - type is one of the game master's actions
 * (add_monster, adjust_hp, note, start, end_round). */
bool encounter_is_gm_action(const char *type);

/* encounter_hero_action - a player's action (join, objective, attack,
 * spell, heal, move, defend); refuses other types with "unknown_action". */
pc_err encounter_hero_action(pc_room *room, const pc_action *act, pc_error *err,
                             void *arg);

/* encounter_gm_action - one of the game master's actions; the caller has
 * checked act->role. */
pc_err encounter_gm_action(pc_room *room, const pc_action *act, pc_error *err,
                           void *arg);

/*
 * encounter_resolve_if_done - in ROUND, when every living hero has acted
 * (or none is left), or every monster is defeated, move to RESOLUTION. PC_OK
 * when there is nothing to do or the transition committed. A failure changes
 * nothing: the round timer will make the move.
 */
pc_err encounter_resolve_if_done(pc_room *room);

/*
 * encounter_round_patch - add to p what entering round n changes: the
 * round number, every hero's acted and defending cleared, and the previous
 * resolution's record removed.
 */
void encounter_round_patch(encounter_patch *p, const cJSON *data, int n);

#ifdef __cplusplus
}
#endif

#endif /* PHASECAST_GAMES_ENCOUNTER_RULES_H */
