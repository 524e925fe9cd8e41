/*
 * room.h - what other framework modules may see of a room (internal).
 */
#ifndef PC_FRAMEWORK_ROOM_H
#define PC_FRAMEWORK_ROOM_H

#include "phasecast/room.h"

#include "history.h"

/* The room's history ring, read-only. */
const pc__history *pc__room_history(const pc_room *room);

#endif
