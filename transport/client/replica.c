/*
 * replica.c - the client's local state document: reset from a snapshot,
 * advance by one merge patch, keep its checksum current. The checksum is
 * kept by the framework's digest, as the room keeps its own, so verifying
 * a change costs what the patch touches, not the size of the state. It
 * does not decide ordering or verification (client.c does) and holds no
 * locks: it belongs to the client's thread.
 */
#include "replica.h"

#include <stddef.h>
#include <string.h>

#include "merge.h"

void pc__replica_init(pc__replica *r)
{
    r->doc = NULL;
    r->seq = 0;
    r->sum = 0;
    r->sum_known = false;
    pc__digest_init(&r->digest);
}

void pc__replica_fini(pc__replica *r)
{
    cJSON_Delete(r->doc);
    pc__digest_fini(&r->digest);
    pc__replica_init(r);
}

pc_err pc__replica_reset(pc__replica *r, cJSON *state, uint64_t seq)
{
    const cJSON *phase = cJSON_GetObjectItemCaseSensitive(state, "phase");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(state, "data");
    if (!cJSON_IsObject(state) || !cJSON_IsString(phase) ||
        !cJSON_IsObject(data)) {
        return PC_ERR_PROTOCOL;
    }
    pc__digest d;
    pc__digest_init(&d);
    uint64_t sum;
    size_t len;
    pc_err rv = pc__digest_build(&d, state, &sum, &len);
    if (rv != PC_OK) {
        return rv == PC_ERR_NOMEM ? rv : PC_ERR_PROTOCOL;
    }
    cJSON_Delete(r->doc);
    pc__digest_fini(&r->digest);
    r->doc = state;
    r->digest = d;
    r->seq = seq;
    r->sum = sum;
    r->sum_known = true;
    return PC_OK;
}

pc_err pc__replica_apply(pc__replica *r, const char *phase, const cJSON *patch)
{
    if (r->doc == NULL || phase == NULL || !cJSON_IsObject(patch)) {
        return PC_ERR_PROTOCOL;
    }
    /* One merge at the root: "data" merges, "phase" is replaced unless it
     * stays the same. Atomic: on any failure the undo puts it all back. */
    const cJSON *old = cJSON_GetObjectItemCaseSensitive(r->doc, "phase");
    bool same = cJSON_IsString(old) && strcmp(old->valuestring, phase) == 0;
    pc__doc_patch dp;
    pc__doc_patch_init(&dp, patch, same ? NULL : phase);
    pc__merge_log log;
    if (pc__merge_log_init(&log, &dp.root) != PC_OK) {
        return PC_ERR_NOMEM;
    }
    cJSON *undo = cJSON_CreateObject();
    if (undo == NULL) {
        pc__merge_log_fini(&log);
        return PC_ERR_NOMEM;
    }
    pc__digest_txn tx;
    pc__digest_begin(&tx, &r->digest);
    uint64_t sum;
    size_t len;
    pc_err rv =
        pc__merge_apply_tracked(r->doc, &dp.root, undo, &log, &tx, &sum, &len);
    if (rv == PC_OK && (rv = pc__digest_reserve(&tx)) != PC_OK) {
        pc__merge_apply_consume(r->doc, undo, &log);
    }
    if (rv == PC_OK) {
        /* Commit before freeing undo: it drops the cache entries of the
         * subtrees the patch replaced, which undo still holds. */
        pc__digest_commit(&tx);
        r->seq++;
        r->sum = sum;
        r->sum_known = true;
    } else {
        pc__digest_abort(&tx);
    }
    cJSON_Delete(undo);
    pc__merge_log_fini(&log);
    if (rv == PC_ERR_INVALID) {
        return PC_ERR_PROTOCOL;
    }
    return rv;
}
