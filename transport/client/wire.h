/*
 * wire.h - protocol v1 decoding helpers for the client (internal; the
 * public API is phasecast/client.h, the format is docs/protocol.md).
 *
 * Everything here reads trees that already passed pc_json_parse; nothing
 * allocates. Decoded values borrow from the tree they came from. This is
 * not the server's codec and does not build requests.
 */
#ifndef PC_CLIENT_WIRE_H
#define PC_CLIENT_WIRE_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "phasecast/error.h"

/* One CHANGE of a `changes` frame or reply, borrowed from its tree. */
typedef struct pc__wire_change {
    uint64_t seq;
    int64_t time_ms;
    bool transition;
    const char *phase;
    const char *reason;
    const cJSON *patch;
    uint64_t sum;
    bool private_data;       /* "private": true */
    bool event;              /* kind "event" */
    const char *event_name;  /* its "event": name, when the viewer sees it */
    const cJSON *event_data; /* and data; both NULL otherwise */
} pc__wire_change;

/* pc__wire_u64 - a non-negative integral number below 2^53. */
bool pc__wire_u64(const cJSON *item, uint64_t *out);

/* pc__wire_sum - 16 lowercase hex digits. */
bool pc__wire_sum(const cJSON *item, uint64_t *out);

/* pc__wire_change_decode - decode one CHANGE; PC_OK or PC_ERR_PROTOCOL
 * (also for an "event" member that is not {"name": string, "data": any}
 * or that is on a change whose kind is not "event"). */
pc_err pc__wire_change_decode(const cJSON *item, pc__wire_change *out);

/* pc__wire_room_ok - a room id: [A-Za-z0-9._-]{1,64}. */
bool pc__wire_room_ok(const char *room);

/* pc__wire_name_ok - a player id: [A-Za-z0-9_.-]{1,32}. */
bool pc__wire_name_ok(const char *name);
/* pc__wire_nonce_ok - a join nonce: [A-Za-z0-9_-]{16,64}. */
bool pc__wire_nonce_ok(const char *nonce);

/* pc__wire_v1 - the object carries "v": 1. */
bool pc__wire_v1(const cJSON *obj);

/*
 * pc__wire_reply - split a reply {"v":1,"ok":...}. On {"ok":true} *result
 * borrows the result and PC_OK is returned. On {"ok":false} e receives the
 * server's code and message and the mapped pc_err is returned (see
 * pc__wire_code_err). Anything else is PC_ERR_PROTOCOL.
 */
pc_err pc__wire_reply(const cJSON *reply, const cJSON **result, pc_error *e);

/* pc__wire_code_err - the pc_err for a wire error code. */
pc_err pc__wire_code_err(const char *code);

#endif
