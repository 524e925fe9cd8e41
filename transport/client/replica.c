/*
 * replica.c - the client's local state document: reset from a snapshot,
 * advance by one merge patch, keep its checksum current. It does not
 * decide ordering or verification (client.c does) and holds no locks: it
 * belongs to the client's thread.
 */
#include "replica.h"

#include <stddef.h>

#include "phasecast/canon.h"
#include "phasecast/merge.h"

void pc__replica_init(pc__replica *r)
{
    r->doc = NULL;
    r->seq = 0;
    r->sum = 0;
    r->sum_known = false;
}

void pc__replica_fini(pc__replica *r)
{
    cJSON_Delete(r->doc);
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
    uint64_t sum;
    pc_err rv = pc_canon_checksum(state, &sum, NULL);
    if (rv != PC_OK) {
        return rv == PC_ERR_NOMEM ? rv : PC_ERR_PROTOCOL;
    }
    cJSON_Delete(r->doc);
    r->doc = state;
    r->seq = seq;
    r->sum = sum;
    r->sum_known = true;
    return PC_OK;
}

/* A string item already named "phase" (cJSON_ReplaceItemViaPointer keeps
 * the replacement's name, and naming it later could fail). */
static cJSON *phase_item(const char *phase)
{
    cJSON *holder = cJSON_CreateObject();
    cJSON *item = cJSON_AddStringToObject(holder, "phase", phase);
    if (item != NULL) {
        cJSON_DetachItemViaPointer(holder, item);
    }
    cJSON_Delete(holder);
    return item;
}

pc_err pc__replica_apply(pc__replica *r, const char *phase, const cJSON *patch)
{
    if (r->doc == NULL || phase == NULL || !cJSON_IsObject(patch)) {
        return PC_ERR_PROTOCOL;
    }
    cJSON *data = cJSON_GetObjectItemCaseSensitive(r->doc, "data");
    cJSON *old_phase = cJSON_GetObjectItemCaseSensitive(r->doc, "phase");
    /* Allocate the new phase before merging: the merge is atomic and the
     * replacement below cannot fail, so the whole apply is atomic. */
    cJSON *new_phase = phase_item(phase);
    if (new_phase == NULL) {
        return PC_ERR_NOMEM;
    }
    pc_err rv = pc_merge_patch_inplace(data, patch);
    if (rv != PC_OK) {
        cJSON_Delete(new_phase);
        return rv == PC_ERR_NOMEM ? rv : PC_ERR_PROTOCOL;
    }
    cJSON_ReplaceItemViaPointer(r->doc, old_phase, new_phase);
    r->seq++;
    /* The change is applied even if the checksum cannot be computed (out
     * of memory): the client then treats the sum as a mismatch and
     * resynchronises. */
    r->sum_known = pc_canon_checksum(r->doc, &r->sum, NULL) == PC_OK;
    return PC_OK;
}
