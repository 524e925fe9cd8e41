/*
 * replica.h - the client's local copy of one room's state document
 * (internal to the client library; the public API is phasecast/client.h).
 *
 * A replica is a {"phase": string, "data": object} tree plus the seq it
 * reflects and its checksum, kept current by the framework's digest
 * (framework/digest.h) so that a change costs what its patch touches. It
 * only knows how to be replaced (by a snapshot) and how to take one merge
 * patch; deciding which change to apply, in what order and when to verify
 * is the client's job. The document must not be changed any other way.
 */
#ifndef PC_CLIENT_REPLICA_H
#define PC_CLIENT_REPLICA_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "phasecast/error.h"

#include "digest.h"

/* The replica; embedded in the client. */
typedef struct pc__replica {
    cJSON *doc;   /* owned; NULL before the first snapshot */
    uint64_t seq; /* seq of the last change reflected in doc */
    uint64_t sum; /* pc_canon_checksum(doc), when sum_known */
    bool sum_known;
    pc__digest digest; /* container hashes of doc */
} pc__replica;

void pc__replica_init(pc__replica *r);
void pc__replica_fini(pc__replica *r);

/*
 * pc__replica_reset - replace the replica by state at seq. state must be
 * {"phase": string, "data": object}; the replica takes ownership on
 * success. *sum receives the new checksum. Returns PC_OK, PC_ERR_PROTOCOL
 * (wrong shape) or PC_ERR_NOMEM (nothing changed).
 */
pc_err pc__replica_reset(pc__replica *r, cJSON *state, uint64_t seq);

/*
 * pc__replica_apply - merge patch into "data", set "phase" and advance
 * seq by one; r->sum is updated from the parts the patch touched. Atomic:
 * on failure nothing changed. Returns PC_OK, PC_ERR_PROTOCOL (patch not an
 * object, or holding a value the checksum refuses) or PC_ERR_NOMEM.
 */
pc_err pc__replica_apply(pc__replica *r, const char *phase, const cJSON *patch);

#endif
