/*
 * main.c - the smallest program that uses an installed phasecast.
 *
 * scripts/check-install builds it against a temporary install, once
 * through the CMake package and once through pkg-config, and runs it. It
 * checks that the public headers, the library and its cJSON dependency can
 * be found and linked; it is not a test of the framework's behaviour (the
 * unit tests are). It exits 0 when one update commits change 1 and the
 * history gives back the state it produced.
 */
#include <stdio.h>

#include <cjson/cJSON.h>

#include "phasecast/history.h"
#include "phasecast/room.h"

static const pc_phase phases[] = {{.name = "play"}};
static const pc_game game = {
    .name = "consumer", .phases = phases, .nphases = 1};

static int fail(const char *what, pc_err err)
{
    fprintf(stderr, "consumer: %s: %s\n", what, pc_strerror(err));
    return 1;
}

int main(void)
{
    pc_room *room = NULL;
    pc_err err = pc_room_new(&game, NULL, &room);
    if (err != PC_OK)
        return fail("pc_room_new", err);
    err = pc_room_start(room);
    if (err != PC_OK) {
        pc_room_free(room);
        return fail("pc_room_start", err);
    }

    cJSON *patch = cJSON_Parse("{\"score\":1}");
    if (patch == NULL) {
        pc_room_free(room);
        return fail("cJSON_Parse", PC_ERR_NOMEM);
    }
    err = pc_update_phase_data(room, patch, "first point");
    cJSON_Delete(patch);
    if (err != PC_OK) {
        pc_room_free(room);
        return fail("pc_update_phase_data", err);
    }

    cJSON *state = NULL;
    err = pc_history_state_at(room, 1, &state);
    if (err != PC_OK) {
        pc_room_free(room);
        return fail("pc_history_state_at", err);
    }
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(state, "data");
    const cJSON *score = cJSON_GetObjectItemCaseSensitive(data, "score");
    int ok = pc_room_seq(room) == 1 && pc_history_count(room) == 1 &&
             cJSON_IsNumber(score) && score->valuedouble == 1;
    cJSON_Delete(state);
    pc_room_free(room);

    if (!ok) {
        fprintf(stderr, "consumer: expected seq 1 with data.score 1\n");
        return 1;
    }
    printf("consumer: seq 1 committed and recorded\n");
    return 0;
}
