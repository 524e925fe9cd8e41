/*
 * history_example.c - time travel over a room's retained changes: read a
 * change record, rebuild the exact state at an earlier seq, find when a
 * field became a value, diff two seqs, and see what eviction does.
 *
 * The room runs a one-phase "board" game whose data is changed directly
 * with pc_update_phase_data from main (the room is started, so that is
 * allowed); a real game would do it from its callbacks. The history is
 * kept small on purpose (4 records) so eviction shows. The program checks
 * every answer and exits non-zero on the first surprise.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/change.h"
#include "phasecast/diff.h"
#include "phasecast/error.h"
#include "phasecast/history.h"
#include "phasecast/json.h"
#include "phasecast/room.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
            return 1;                                                          \
        }                                                                      \
    } while (0)

static const pc_phase board_phases[] = {{.name = "PLAYING"}, {.name = "OVER"}};
static const pc_game board_game = {
    .name = "board", .phases = board_phases, .nphases = 2};

/* Whether doc equals the JSON text expected. */
static int equals_text(const cJSON *doc, const char *expected)
{
    cJSON *want = NULL;
    if (pc_json_parse(expected, strlen(expected), NULL, &want, NULL) != PC_OK) {
        return 0;
    }
    int same = pc_json_equal(doc, want);
    cJSON_Delete(want);
    return same;
}

int main(void)
{
    pc_room_options opts;
    pc_room_options_init(&opts);
    opts.history_capacity = 4;
    opts.seed_set = true; /* no randomness used, but keep runs identical */

    pc_room *room = NULL;
    CHECK(pc_room_new(&board_game, &opts, &room) == PC_OK);
    CHECK(pc_room_start(room) == PC_OK);

    /* seq 1..4 */
    CHECK(pc_update_phase_text(room, "{\"board\": [\"\", \"\", \"\"]}",
                               "lay out the board") == PC_OK);
    CHECK(pc_update_phase_text(room, "{\"board\": [\"X\", \"\", \"\"]}",
                               "X takes 0") == PC_OK);
    CHECK(pc_update_phase_text(room, "{\"board\": [\"X\", \"O\", \"\"]}",
                               "O takes 1") == PC_OK);
    CHECK(pc_update_phase_text(room, "{\"board\": [\"X\", \"O\", \"X\"]}",
                               "X takes 2") == PC_OK);
    cJSON *win = cJSON_Parse("{\"winner\": \"X\"}");
    CHECK(win != NULL);
    CHECK(pc_transition(room, "OVER", win, "X wins") == PC_OK); /* seq 5 */
    cJSON_Delete(win);

    /* Five changes, four retained: seq 1 was evicted. */
    CHECK(pc_room_seq(room) == 5);
    CHECK(pc_history_count(room) == 4 && pc_history_capacity(room) == 4);
    CHECK(pc_history_first_seq(room) == 2);

    /* One record: what, why, and where in the source it came from. */
    const pc_change *c = NULL;
    CHECK(pc_history_get(room, 3, &c) == PC_OK);
    printf("seq %llu: \"%s\" at %s:%d in %s\n", (unsigned long long)c->seq,
           c->reason, c->file, c->line, c->func);
    CHECK(strcmp(c->reason, "O takes 1") == 0);
    CHECK(strcmp(c->func, "main") == 0);
    CHECK(c->kind == PC_CHANGE_UPDATE);
    CHECK(pc_history_get(room, 1, &c) == PC_ERR_EVICTED);
    CHECK(pc_history_get(room, 6, &c) == PC_ERR_NOT_FOUND);

    /* The exact state right after seq 3. */
    cJSON *at3 = NULL;
    CHECK(pc_history_state_at(room, 3, &at3) == PC_OK);
    CHECK(equals_text(at3, "{\"phase\": \"PLAYING\","
                           " \"data\": {\"board\": [\"X\", \"O\", \"\"]}}"));
    cJSON_Delete(at3);

    /* The oldest reachable state is first-1: the one seq 2 was applied to. */
    cJSON *at1 = NULL;
    CHECK(pc_history_state_at(room, 1, &at1) == PC_OK);
    CHECK(equals_text(at1, "{\"phase\": \"PLAYING\","
                           " \"data\": {\"board\": [\"\", \"\", \"\"]}}"));
    cJSON_Delete(at1);
    cJSON *at0 = NULL;
    CHECK(pc_history_state_at(room, 0, &at0) == PC_ERR_EVICTED);
    CHECK(pc_history_state_at(room, 9, &at0) == PC_ERR_NOT_FOUND);

    /* When did "winner" become "X", and when did the phase become OVER? */
    uint64_t seq = 0;
    cJSON *x = cJSON_CreateString("X");
    CHECK(x != NULL);
    CHECK(pc_history_find(room, "/data/winner", x, 0, &seq) == PC_OK);
    CHECK(seq == 5);
    /* When did cell 0 become "X"? Not after seq 1, as far as is retained:
     * it became "X" at seq 2. */
    CHECK(pc_history_find(room, "/data/board/0", x, 0, &seq) == PC_OK);
    CHECK(seq == 2);
    /* Walking further back finds nothing: seq 1 is gone. */
    CHECK(pc_history_find(room, "/data/board/0", x, seq - 1, &seq) ==
          PC_ERR_NOT_FOUND);
    cJSON_Delete(x);
    cJSON *over = cJSON_CreateString("OVER");
    CHECK(over != NULL);
    CHECK(pc_history_find(room, "/phase", over, 0, &seq) == PC_OK);
    CHECK(seq == 5);
    cJSON_Delete(over);

    /* What changed between seq 2 and seq 5, field by field. */
    cJSON *diff = NULL;
    CHECK(pc_history_diff(room, 2, 5, &diff) == PC_OK);
    char *text = cJSON_PrintUnformatted(diff);
    CHECK(text != NULL);
    printf("diff 2 5: %s\n", text);
    cJSON_free(text);
    CHECK(equals_text(diff, "[{\"path\": \"/data/board/1\", \"old\": \"\","
                            " \"new\": \"O\"},"
                            " {\"path\": \"/data/board/2\", \"old\": \"\","
                            " \"new\": \"X\"},"
                            " {\"path\": \"/data/winner\", \"new\": \"X\"},"
                            " {\"path\": \"/phase\", \"old\": \"PLAYING\","
                            " \"new\": \"OVER\"}]"));
    cJSON_Delete(diff);

    pc_room_free(room);
    printf("history_example: ok\n");
    return 0;
}
