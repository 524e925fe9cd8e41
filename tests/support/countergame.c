/*
 * countergame.c - the counter game of countergame.h, shared by the client
 * and server integration tests so they all count the same way.
 */
#include "countergame.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

double countergame_number(const pc_room *room, const char *key)
{
    const cJSON *data =
        cJSON_GetObjectItemCaseSensitive(pc_room_state(room), "data");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

pc_err countergame_count(pc_room *room, const char *reason)
{
    double n = countergame_number(room, "n") + 1;
    char text[96];
    snprintf(text, sizeof(text), "{\"n\":%.0f,\"s%d\":%.0f}", n, (int)n % 32,
             n * 7);
    return pc_update_phase_text(room, text, reason);
}

static pc_err counting_action(pc_room *room, const pc_action *act,
                              cJSON **result, pc_error *err, void *arg)
{
    (void)arg;
    if (strcmp(act->type, "join") == 0) {
        return PC_OK;
    }
    if (strcmp(act->type, "inc") == 0) {
        pc_err rv = countergame_count(room, "player counted");
        if (rv == PC_OK) {
            *result = cJSON_CreateNumber(countergame_number(room, "n"));
        }
        return rv;
    }
    if (strcmp(act->type, "deal") == 0) {
        /* A secret for the acting player only (private path). */
        char text[160];
        snprintf(text, sizeof(text), "{\"hands\":{\"%s\":{\"card\":%.0f}}}",
                 act->player, countergame_number(room, "n") * 3 + 1);
        return pc_update_phase_text(room, text, "dealt a card");
    }
    return pc_error_set(err, PC_ERR_ACTION, "unknown_action", "no %s here",
                        act->type);
}

static const pc_phase counting_phases[] = {
    {.name = "COUNTING", .action = counting_action},
};
static const char *const counting_private[] = {"/hands/{player}", NULL};

static const pc_game counter = {
    .name = "counter",
    .phases = counting_phases,
    .nphases = 1,
    .private_paths = counting_private,
};

static const pc_game counter_public = {
    .name = "counter-public",
    .phases = counting_phases,
    .nphases = 1,
};

const pc_game *countergame(void)
{
    return &counter;
}

const pc_game *countergame_public(void)
{
    return &counter_public;
}
