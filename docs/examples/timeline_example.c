/*
 * timeline_example.c - read a room's whole history back from its change
 * log: the state at the first seq after compaction has replaced the file
 * (the archived segments keep it), blame a field, find when it got a
 * value, and follow the log as the room goes on.
 *
 * A "counter" room logs into a temporary directory with a keyframe every
 * 10 changes, so most of its history lives in archived segments. The
 * program checks every answer and exits non-zero on the first surprise.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/changelog.h"
#include "phasecast/json.h"
#include "phasecast/room.h"
#include "phasecast/timeline.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
            return 1;                                                          \
        }                                                                      \
    } while (0)

static const pc_phase phases[] = {{.name = "COUNTING"}};
static const pc_game counter = {
    .name = "counter", .phases = phases, .nphases = 1};

static int bump(pc_room *room, int n)
{
    char patch[64];
    snprintf(patch, sizeof patch, "{\"count\":%d,\"by\":\"%s\"}", n,
             n % 3 == 0 ? "carol" : "dave");
    return pc_update_phase_text(room, patch, "one more") == PC_OK ? 0 : 1;
}

int main(void)
{
    char dir[] = "/tmp/pc-timeline-example.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    pc_room_options ro;
    pc_room_options_init(&ro);
    ro.id = "c1";
    pc_room *room = NULL;
    CHECK(pc_room_new(&counter, &ro, &room) == PC_OK);
    pc_changelog_options lo;
    pc_changelog_options_init(&lo); /* keeps every segment */
    lo.dir = dir;
    lo.fsync = PC_FSYNC_NONE;
    lo.keyframe_every = 10;
    pc_changelog *log = NULL;
    CHECK(pc_changelog_create(&lo, room, &log, NULL) == PC_OK);
    CHECK(pc_room_start(room) == PC_OK);
    for (int n = 1; n <= 25; n++) {
        CHECK(bump(room, n) == 0);
    }

    /* The whole history, although the log file itself starts at seq 20. */
    char path[128];
    snprintf(path, sizeof path, "%s/c1.pclog", dir);
    pc_timeline *tl = NULL;
    pc_error err = {0};
    CHECK(pc_timeline_open_log(path, 0, &tl, NULL, &err) == PC_OK);
    CHECK(pc_timeline_first_seq(tl) == 0);
    CHECK(pc_timeline_last_seq(tl) == 25);

    cJSON *state = NULL;
    CHECK(pc_timeline_state_at(tl, 3, &state) == PC_OK);
    const cJSON *count = pc_json_pointer_get(state, "/data/count");
    CHECK(cJSON_IsNumber(count) && count->valueint == 3);
    cJSON_Delete(state);

    /* Who last changed /data/by, and when did it become "carol"? */
    uint64_t seq = 0;
    CHECK(pc_timeline_blame(tl, "/data/by", 0, &seq) == PC_OK);
    CHECK(seq == 25); /* 24 said carol, 25 dave */
    cJSON *carol = cJSON_CreateString("carol");
    CHECK(pc_timeline_find(tl, "/data/by", carol, 0, &seq) == PC_OK);
    CHECK(seq == 24);
    cJSON_Delete(carol);
    pc_timeline_entry e;
    CHECK(pc_timeline_get(tl, 24, &e) == PC_OK);
    CHECK(strcmp(e.reason, "one more") == 0);
    printf("seq %llu: %s (%s:%d)\n", (unsigned long long)e.seq, e.reason,
           e.file, e.line);

    /* The room goes on, through another compaction; refresh follows. */
    for (int n = 26; n <= 32; n++) {
        CHECK(bump(room, n) == 0);
    }
    size_t added = 0;
    CHECK(pc_timeline_refresh(tl, &added, NULL) == PC_OK);
    CHECK(added == 7 && pc_timeline_last_seq(tl) == 32);

    pc_timeline_free(tl);
    pc_room_free(room);
    pc_changelog_free(log);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    puts("timeline example: ok");
    return 0;
}
