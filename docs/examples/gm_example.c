/*
 * gm_example.c - the game master, optimistic concurrency and one action
 * that changes many things: a tiny encounter where the game master adds
 * monsters whose hit points only it sees, players attack (a stale attack
 * is refused with a conflict), and an area spell hurts every target in
 * one change or, if any target would fall below zero, changes nothing.
 * Compiled and run by ctest (example_gm_example); docs/tutorial.md quotes
 * it. Single-threaded; the main thread owns the room.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasecast/room.h"
#include "phasecast/view.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

static double hp_of(const pc_room *room, const char *id)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(pc_room_data(room), "monsters"), id);
    return cJSON_GetObjectItemCaseSensitive(m, "hp")->valuedouble;
}

static pc_err on_action(pc_room *room, const pc_action *act, cJSON **result,
                        pc_error *err, void *arg)
{
    (void)result;
    (void)arg;
    const cJSON *p = act->payload;
    if (strcmp(act->type, "add") == 0) {
        /* Only the game master places monsters. */
        if (act->role != PC_ROLE_GM) {
            return pc_error_set(err, PC_ERR_ACTION, "gm_only",
                                "only the game master adds monsters");
        }
        cJSON *patch = cJSON_CreateObject();
        cJSON *m = cJSON_AddObjectToObject(
            cJSON_AddObjectToObject(patch, "monsters"),
            cJSON_GetObjectItemCaseSensitive(p, "id")->valuestring);
        cJSON_AddNumberToObject(
            m, "hp", cJSON_GetObjectItemCaseSensitive(p, "hp")->valuedouble);
        cJSON_AddStringToObject(m, "condition", "fresh");
        pc_err rc = pc_update_phase_data(room, patch, "a monster appears");
        cJSON_Delete(patch);
        return rc;
    }
    if (strcmp(act->type, "area") == 0) {
        /* Every target in ONE patch: the validator judges them together,
         * so one bad target refuses the whole spell. */
        double dmg = cJSON_GetObjectItemCaseSensitive(p, "dmg")->valuedouble;
        cJSON *patch = cJSON_CreateObject();
        cJSON *ms = cJSON_AddObjectToObject(patch, "monsters");
        const cJSON *t;
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(p, "targets"))
        {
            cJSON *m = cJSON_AddObjectToObject(ms, t->valuestring);
            cJSON_AddNumberToObject(m, "hp", hp_of(room, t->valuestring) - dmg);
            cJSON_AddStringToObject(m, "condition", "wounded");
        }
        pc_err rc = pc_update_phase_data(room, patch, "an area spell");
        cJSON_Delete(patch);
        return rc;
    }
    return pc_error_set(err, PC_ERR_ACTION, "unknown_action", "no %s",
                        act->type);
}

static pc_err validate(const pc_room *room, const cJSON *proposed,
                       pc_error *why, void *arg)
{
    (void)room;
    (void)arg;
    const cJSON *m;
    cJSON_ArrayForEach(
        m, cJSON_GetObjectItemCaseSensitive(
               cJSON_GetObjectItemCaseSensitive(proposed, "data"), "monsters"))
    {
        if (cJSON_GetObjectItemCaseSensitive(m, "hp")->valuedouble < 0) {
            return pc_error_set(why, PC_ERR_REJECTED, "hp_below_zero",
                                "%s would fall below zero", m->string);
        }
    }
    return PC_OK;
}

static const pc_phase phases[] = {{.name = "ROUND", .action = on_action}};
/* Hit points: no player, no spectator; the game master sees everything. */
static const char *const secret[] = {"/monsters/*/hp", NULL};
/* An area spell decided on an old state is refused, not applied. */
static const char *const strict[] = {"area", NULL};
static const pc_game encounter = {.name = "mini-encounter",
                                  .phases = phases,
                                  .nphases = 1,
                                  .validate = validate,
                                  .private_paths = secret,
                                  .strict_actions = strict};

int main(void)
{
    pc_room *room = NULL;
    CHECK(pc_room_new(&encounter, NULL, &room) == PC_OK);
    CHECK(pc_room_start(room) == PC_OK);

    cJSON *goblin = cJSON_Parse("{\"id\":\"goblin\",\"hp\":7}");
    cJSON *orc = cJSON_Parse("{\"id\":\"orc\",\"hp\":15}");
    pc_action add = {
        .player = "dm", .type = "add", .payload = goblin, .role = PC_ROLE_GM};
    CHECK(pc_room_action(room, &add, NULL, NULL) == PC_OK);
    add.payload = orc;
    CHECK(pc_room_action(room, &add, NULL, NULL) == PC_OK);
    add.role = PC_ROLE_PLAYER; /* a player may not */
    CHECK(pc_room_action(room, &add, NULL, NULL) == PC_ERR_ACTION);

    /* Three viewers: the public, a player, the game master. */
    pc_viewer gm = {PC_VIEWER_GM, NULL};
    pc_viewer ann = pc_viewer_of("ann");
    cJSON *seen = NULL;
    CHECK(pc_view_state_as(&encounter, pc_room_state(room), &ann, &seen) ==
          PC_OK);
    char *text = cJSON_PrintUnformatted(seen);
    CHECK(strstr(text, "\"hp\"") == NULL); /* players see "fresh" only */
    cJSON_free(text);
    cJSON_Delete(seen);
    CHECK(pc_view_state_as(&encounter, pc_room_state(room), &gm, &seen) ==
          PC_OK);
    text = cJSON_PrintUnformatted(seen);
    CHECK(strstr(text, "\"hp\":15") != NULL);
    cJSON_free(text);
    cJSON_Delete(seen);

    /* ann decided at seq 1; the room is at seq 2: a conflict, nothing
     * changes, and the room's seq is the one to retry from. */
    cJSON *spell = cJSON_Parse("{\"targets\":[\"goblin\",\"orc\"],\"dmg\":5}");
    pc_action area = {.player = "ann",
                      .type = "area",
                      .payload = spell,
                      .has_expected_seq = true,
                      .expected_seq = 1};
    pc_error err = {0};
    CHECK(pc_room_action(room, &area, NULL, &err) == PC_ERR_CONFLICT);
    CHECK(strcmp(err.code, "conflict") == 0 && pc_room_seq(room) == 2);
    area.expected_seq = pc_room_seq(room);
    CHECK(pc_room_action(room, &area, NULL, NULL) == PC_OK);
    CHECK(pc_room_seq(room) == 3); /* two monsters, one change */

    /* 5 more: the goblin (2 left) would fall below zero, so neither
     * monster is hurt, and no seq, record or broadcast is made. */
    uint64_t sum = pc_room_checksum(room);
    area.expected_seq = pc_room_seq(room);
    CHECK(pc_room_action(room, &area, NULL, &err) == PC_ERR_REJECTED);
    CHECK(strcmp(err.code, "hp_below_zero") == 0);
    CHECK(pc_room_seq(room) == 3 && pc_room_checksum(room) == sum);
    CHECK(hp_of(room, "orc") == 10 && hp_of(room, "goblin") == 2);

    printf("orc %g, goblin %g, seq %llu\n", hp_of(room, "orc"),
           hp_of(room, "goblin"), (unsigned long long)pc_room_seq(room));
    cJSON_Delete(goblin);
    cJSON_Delete(orc);
    cJSON_Delete(spell);
    pc_room_free(room);
    return 0;
}
