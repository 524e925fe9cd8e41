/*
 * envelope.c - CHANGE objects and checksum text for the wire (protocol v1).
 *
 * The broadcast (public view, one CHANGE per committed change) and the
 * changes request (any viewer, read back from history) must agree byte for
 * byte on what a change looks like, so both build it here. When the game
 * declares no private paths the public view is the state itself: the
 * change's own patch and checksum go out unfiltered and nothing is
 * recomputed. Printing relies on every tree having passed the room's JSON
 * limits (depth at most PC_JSON_DEPTH_CEILING), so cJSON's recursive
 * printer stays shallow. This module sends nothing.
 */
#include "envelope.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "phasecast/view.h"

void pc__envelope_hex(uint64_t sum, char out[PC__SUM_HEX])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        out[i] = digits[sum & 0xf];
        sum >>= 4;
    }
    out[16] = '\0';
}

pc_err pc__envelope_change(const pc_game *g, const pc_change *c,
                           const char *player, const cJSON *after, cJSON **out)
{
    cJSON *patch = NULL;
    bool priv = false;
    uint64_t sum = c->checksum;
    pc_err rc = PC_OK;
    if (pc_view_has_private(g)) {
        rc = pc_view_patch(g, c->patch, player, &patch, &priv);
        if (rc == PC_OK) {
            rc = pc_view_checksum(g, after, player, &sum);
        }
        if (rc != PC_OK) {
            cJSON_Delete(patch);
            return rc;
        }
    } else if ((patch = cJSON_Duplicate(c->patch, true)) == NULL) {
        return PC_ERR_NOMEM;
    }
    char hex[PC__SUM_HEX];
    pc__envelope_hex(sum, hex);
    cJSON *o = cJSON_CreateObject();
    bool ok = o != NULL &&
              cJSON_AddNumberToObject(o, "seq", (double)c->seq) != NULL &&
              cJSON_AddNumberToObject(o, "time", (double)c->time_ms) != NULL &&
              cJSON_AddStringToObject(o, "kind",
                                      c->kind == PC_CHANGE_TRANSITION
                                          ? "transition"
                                          : "update") != NULL &&
              cJSON_AddStringToObject(o, "phase", c->phase) != NULL &&
              cJSON_AddStringToObject(o, "reason", c->reason) != NULL &&
              cJSON_AddItemToObject(o, "patch", patch);
    if (!ok) {
        cJSON_Delete(patch);
        cJSON_Delete(o);
        return PC_ERR_NOMEM;
    }
    if (cJSON_AddStringToObject(o, "sum", hex) == NULL ||
        (priv && cJSON_AddTrueToObject(o, "private") == NULL)) {
        cJSON_Delete(o);
        return PC_ERR_NOMEM;
    }
    *out = o;
    return PC_OK;
}

pc_err pc__envelope_print(const cJSON *tree, char **text, size_t *len)
{
    char *s = cJSON_PrintUnformatted(tree);
    if (s == NULL) {
        return PC_ERR_NOMEM;
    }
    *text = s;
    *len = strlen(s);
    return PC_OK;
}
