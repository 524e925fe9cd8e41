/*
 * alloc_example.c - the allocation hook table: count every block phasecast
 * and cJSON allocate, fail the Nth allocation of an update, and see the
 * out-of-memory guarantee hold: a failed change leaves state, seq, checksum
 * and history exactly as they were, and nothing leaks.
 *
 * The hooks are process-wide, so they are installed first, before any room
 * or tree exists, and restored last, after everything is freed. Exits
 * non-zero on the first unexpected result.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "phasecast/alloc.h"
#include "phasecast/error.h"
#include "phasecast/history.h"
#include "phasecast/room.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
            return 1;                                                          \
        }                                                                      \
    } while (0)

/* Blocks currently allocated, and a countdown to the allocation that
 * fails (-1: none fails). */
static long live_blocks;
static long fail_countdown = -1;

static int should_fail(void)
{
    if (fail_countdown < 0) {
        return 0;
    }
    return fail_countdown-- == 0;
}

static void *counting_malloc(size_t size)
{
    void *p = should_fail() ? NULL : malloc(size);
    live_blocks += p != NULL;
    return p;
}

static void *counting_realloc(void *ptr, size_t size)
{
    if (should_fail()) {
        return NULL; /* like realloc: ptr is still valid */
    }
    void *p = realloc(ptr, size);
    live_blocks += ptr == NULL && p != NULL;
    return p;
}

static void counting_free(void *ptr)
{
    live_blocks -= ptr != NULL;
    free(ptr);
}

static const pc_allocator counting = {counting_malloc, counting_realloc,
                                      counting_free};

static const pc_phase phases[] = {{.name = "PLAY"}};
static const pc_game game = {.name = "g", .phases = phases, .nphases = 1};

int main(void)
{
    pc_set_allocator(&counting); /* before any phasecast or cJSON object */

    pc_room *room = NULL;
    CHECK(pc_room_new(&game, NULL, &room) == PC_OK);
    CHECK(pc_room_start(room) == PC_OK);
    CHECK(pc_update_phase_text(room, "{\"a\": {\"b\": 1}, \"list\": [1, 2]}",
                               "setup") == PC_OK);
    cJSON *patch = cJSON_Parse("{\"a\": {\"b\": null, \"c\": [true]},"
                               " \"list\": null, \"new\": \"value\"}");
    CHECK(patch != NULL);

    /* Fail the 1st, 2nd, ... allocation of the same update until it has
     * enough memory to succeed. Every failure must change nothing. */
    uint64_t seq = pc_room_seq(room);
    uint64_t sum = pc_room_checksum(room);
    size_t count = pc_history_count(room);
    long failures = 0;
    for (long n = 0;; n++) {
        long before = live_blocks;
        fail_countdown = n;
        pc_err rv = pc_update_phase_data(room, patch, "under memory pressure");
        fail_countdown = -1;
        if (rv == PC_OK) {
            break;
        }
        failures++;
        CHECK(rv == PC_ERR_NOMEM);
        CHECK(pc_room_seq(room) == seq);
        CHECK(pc_room_checksum(room) == sum);
        CHECK(pc_history_count(room) == count);
        /* Nothing stays allocated either. (The history ring, reserved
         * first, could grow and stay grown, but "setup" already gave it
         * room for eight records.) */
        CHECK(live_blocks == before);
    }
    printf("update failed cleanly %ld times before it had enough memory\n",
           failures);
    CHECK(failures > 0);
    CHECK(pc_room_seq(room) == seq + 1);

    cJSON_Delete(patch);
    pc_room_free(room);
    CHECK(live_blocks == 0); /* no leaks */

    /* pc_malloc and friends go through the same table. */
    char *copy = pc_strdup("hello");
    CHECK(copy != NULL && live_blocks == 1);
    pc_free(copy);
    pc_free(NULL); /* does nothing */
    CHECK(live_blocks == 0);

    pc_set_allocator(NULL); /* back to libc, after everything is freed */
    printf("alloc_example: ok\n");
    return 0;
}
