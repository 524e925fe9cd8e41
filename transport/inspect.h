/*
 * inspect.h - the result of the request channel's "inspect" op: a room's
 * retained history for the time-travel inspector (internal;
 * docs/protocol.md is the contract). requests.c checks the credential
 * and the request's fields; this module only reads the room.
 */
#ifndef PC_TRANSPORT_INSPECT_H
#define PC_TRANSPORT_INSPECT_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "phasecast/error.h"
#include "phasecast/room.h"

/* What an inspect request asks for, its fields already type-checked. */
typedef struct pc__inspect_ask {
    bool has_since; /* false: send the base state and records after it */
    uint64_t since; /* records after this seq (has_since only) */
    uint64_t limit; /* most records in the reply, 1..PC__INSPECT_LIMIT */
} pc__inspect_ask;

/* Most records one inspect reply carries (and the default limit). */
#define PC__INSPECT_LIMIT 1000

/*
 * pc__inspect_result - the "result" object of an inspect reply for room.
 * Records and the base state are raw (cJSON_Raw) nodes holding the change
 * log's record text and the canonical state text, so printing the reply
 * with cJSON copies them byte for byte (cJSON's own number printing would
 * round some doubles). Loop owner. On success *out receives the object,
 * freed with cJSON_Delete. Returns PC_OK, or sets e (code and message for
 * the wire) and returns PC_ERR_INVALID (since after the room's seq,
 * "bad_request"), PC_ERR_EVICTED (since older than the retained history,
 * "too_old"), PC_ERR_LIMIT (a change that cannot be written as a record,
 * "internal") or PC_ERR_NOMEM ("internal").
 */
pc_err pc__inspect_result(const pc_room *room, const pc__inspect_ask *ask,
                          cJSON **out, pc_error *e);

#endif
