/*
 * event_example.c - custom events (pc_room_event, pc_room_event_to): a
 * dice game announces a natural 20 as a public "critical_hit" event,
 * tells the roller alone what they rolled, and leaves the game master a
 * note; a sink prints every change, events included, and the example
 * checks that an event has its own seq and record while the state and its
 * checksum stay as they were. Compiled and run by ctest
 * (example_event_example); docs/tutorial.md quotes it. Single-threaded;
 * every call happens on the main thread, which owns the room.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasecast/history.h"
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

/* "roll": d20 from the room's PRNG; the hit lands in the state, the
 * moment is an event. */
static pc_err on_action(pc_room *room, const pc_action *act, cJSON **result,
                        pc_error *err, void *arg)
{
    (void)result;
    (void)arg;
    if (strcmp(act->type, "roll") != 0) {
        return pc_error_set(err, PC_ERR_ACTION, "unknown_action",
                            "only roll here");
    }
    int die = 1 + (int)pc_room_random_below(room, 20);
    cJSON *patch = cJSON_CreateObject();
    cJSON_AddNumberToObject(patch, "last_roll", die);
    pc_err rc = pc_update_phase_data(room, patch, "a die is rolled");
    cJSON_Delete(patch);
    if (rc != PC_OK) {
        return rc;
    }
    /* The roller alone learns the number: an event for one player. */
    cJSON *mine = cJSON_CreateObject();
    cJSON_AddNumberToObject(mine, "die", die);
    rc = pc_room_event_to(room, PC_AUDIENCE_PLAYER, act->player, "rolled", mine,
                          "your roll");
    cJSON_Delete(mine);
    if (rc == PC_OK && die == 20) {
        /* Everyone hears about a natural 20. */
        cJSON *data = cJSON_CreateObject();
        cJSON_AddStringToObject(data, "by", act->player);
        rc = pc_room_event(room, "critical_hit", data, "a natural 20");
        cJSON_Delete(data);
    }
    return rc;
}

static const pc_phase phases[] = {{.name = "PLAY", .action = on_action}};
static const pc_game dice = {.name = "dice", .phases = phases, .nphases = 1};

/* Every change, events included, reaches every sink. */
static void print_change(pc_room *room, const pc_change *c, void *arg)
{
    (void)room;
    (void)arg;
    if (c->kind != PC_CHANGE_EVENT) {
        printf("seq %llu: update (%s)\n", (unsigned long long)c->seq,
               c->reason);
        return;
    }
    char *data = cJSON_PrintUnformatted(c->event.data);
    printf("seq %llu: event %s %s for %s (%s)\n", (unsigned long long)c->seq,
           c->event.name, data,
           c->event.audience == PC_AUDIENCE_PUBLIC   ? "everyone"
           : c->event.audience == PC_AUDIENCE_PLAYER ? c->event.player
                                                     : "the game master",
           c->reason);
    cJSON_free(data);
}

int main(void)
{
    pc_room_options ro;
    pc_room_options_init(&ro);
    ro.seed = 3;
    ro.seed_set = true;
    pc_room *room = NULL;
    CHECK(pc_room_new(&dice, &ro, &room) == PC_OK);
    CHECK(pc_room_add_sink(room, print_change, NULL) == PC_OK);
    CHECK(pc_room_start(room) == PC_OK);

    /* Roll until someone rolls a natural 20. */
    pc_action roll = {.player = "ann", .type = "roll", .payload = NULL};
    const pc_change *c = NULL;
    for (int i = 0; i < 200; i++) {
        CHECK(pc_room_action(room, &roll, NULL, NULL) == PC_OK);
        CHECK(pc_history_get(room, pc_room_seq(room), &c) == PC_OK);
        if (c->kind == PC_CHANGE_EVENT &&
            strcmp(c->event.name, "critical_hit") == 0) {
            break;
        }
    }
    CHECK(strcmp(c->event.name, "critical_hit") == 0);

    /* An event is a change of its own: it has a seq, a reason and a
     * record, and leaves the state and its checksum as they were. */
    uint64_t sum = pc_room_checksum(room);
    uint64_t seq = pc_room_seq(room);
    cJSON *note = cJSON_CreateString("the dice are loaded");
    CHECK(pc_room_event_to(room, PC_AUDIENCE_GM, NULL, "gm.note", note,
                           "the host's note") == PC_OK);
    cJSON_Delete(note);
    CHECK(pc_room_seq(room) == seq + 1);
    CHECK(pc_room_checksum(room) == sum);
    CHECK(pc_history_get(room, seq + 1, &c) == PC_OK);
    CHECK(c->kind == PC_CHANGE_EVENT && c->event.audience == PC_AUDIENCE_GM);

    /* Who may see what: the audience is a view (view.h). */
    CHECK(pc_history_get(room, 2, &c) == PC_OK); /* ann's first "rolled" */
    CHECK(pc_view_event(&c->event, "ann"));
    CHECK(!pc_view_event(&c->event, "bob") && !pc_view_event(&c->event, NULL));

    /* A refused event changes nothing. */
    CHECK(pc_room_event(room, "not a name", NULL, "spaces are refused") ==
          PC_ERR_INVALID);
    CHECK(pc_room_seq(room) == seq + 1);
    pc_room_free(room);
    return 0;
}
