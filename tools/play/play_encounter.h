/*
 * play_encounter.h - what phasecast-play does in an encounter room
 * (play.c has the other games): say where the hero sits, run the hero or
 * game-master bot (games/encounter/bot.h) one step at a time, narrate the
 * changes and events by hand, and print the outcome. Not installed.
 */
#ifndef PHASECAST_TOOLS_PLAY_ENCOUNTER_H
#define PHASECAST_TOOLS_PLAY_ENCOUNTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "phasecast/client.h"

/* play_encounter_setup - before the first step: play the game master
 * (gm) or a hero; the game master bot starts once heroes heroes are
 * seated. seed seeds the bot; name is borrowed for the program's life. */
void play_encounter_setup(bool gm, int heroes, uint64_t seed, const char *name);

/* The game_kind callbacks of play.c (same meanings). */
void play_encounter_joined(const pc_client *c, const char *name);
bool play_encounter_step(pc_client *c, const char *name, uint64_t *rng,
                         uint64_t *acted_at);
void play_encounter_result(const pc_client *c, const char *name);
void play_encounter_narrate(pc_client *c, const pc_client_change *ch,
                            char *hand, size_t cap);
/* Print an event the client may see (by hand: every one). */
void play_encounter_event(const pc_client_room_event *ev);

#endif
