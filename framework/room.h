/*
 * room.h - what other framework modules may see of a room (internal).
 */
#ifndef PC_FRAMEWORK_ROOM_H
#define PC_FRAMEWORK_ROOM_H

#include <stdbool.h>

#include "phasecast/room.h"

#include "history.h"

/* The room's history ring, read-only. */
const pc__history *pc__room_history(const pc_room *room);

/* True while a validator or exit callback runs: the document then holds a
 * proposed state that the history does not describe yet. */
bool pc__room_in_flux(const pc_room *room);

#endif
