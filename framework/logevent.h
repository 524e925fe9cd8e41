/*
 * logevent.h - the "event" member of change-log records, and the rule for
 * event names (internal; the record format is docs/durability.md, "The
 * event object"; the event itself is pc_event in phasecast/change.h).
 *
 * logfile.c writes it in each event's change record, logreplay.c reads it
 * back, and update.c checks names and players with the same rule the
 * reader applies, so a room can never log an event its reader refuses.
 */
#ifndef PC_FRAMEWORK_LOGEVENT_H
#define PC_FRAMEWORK_LOGEVENT_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "phasecast/change.h"
#include "phasecast/error.h"

#include "logfile.h"

/* s is [A-Za-z0-9_.-]{1,PC_EVENT_NAME_MAX}: an event name, or the player
 * an event is addressed to. */
bool pc__event_id_ok(const char *s);

/* "public", "player" or "gm"; NULL for a value outside the enum. */
const char *pc__audience_name(pc_audience a);

/*
 * pc__record_event - append ",\"event\":{...}" for ev to the record being
 * built in b. The data goes in canonical form. Returns PC_OK,
 * PC_ERR_INVALID (data the canonical printer refuses) or PC_ERR_NOMEM.
 */
pc_err pc__record_event(pc__buf *b, const pc_event *ev);

/*
 * pc__event_parse - read the "event" member of change record rec, whose
 * kind says whether it is an event: required (and *out filled, its
 * strings and data borrowed from rec) when is_event, forbidden otherwise
 * (*out all zero). Returns NULL when that holds, else a sentence saying
 * what is wrong (static text).
 */
const char *pc__event_parse(const cJSON *rec, bool is_event, pc_event *out);

#endif
