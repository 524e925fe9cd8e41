/*
 * fuzz_frame.c - libFuzzer target: the client's fast "changes" frame
 * decoder (transport/client/frame.c) against the general path it
 * shortcuts: pc_json_parse of the whole text, the envelope's checks
 * (an object with "v": 1, "type" "changes", "room" "r1", a "changes"
 * array) and pc__wire_change_decode of every CHANGE.
 *
 * Properties, checked on every input under the default limits and under
 * tight ones:
 *  - the decoder fails only for lack of memory (never here), and an input
 *    it declines leaves it empty;
 *  - whatever it takes, the general path accepts whole, with the same
 *    changes (seq, time, kind, phase, reason, sum, private, and patches
 *    equal by pc_json_equal).
 * Declining what the general path accepts is allowed (the client then
 * uses the general path); taking what it refuses is the bug this hunts.
 */
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/json.h"

#include "frame.h"
#include "fuzz.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ROOM  "r1"
#define MAX_V 128

/* The general path: true when it accepts text whole; v and n receive the
 * changes (borrowed from *doc, which the caller deletes). */
static bool general(const char *text, size_t len, const pc_json_limits *lim,
                    cJSON **doc, pc__wire_change *v, size_t *n)
{
    *n = 0;
    *doc = NULL;
    if (pc_json_parse(text, len, lim, doc, NULL) != PC_OK) {
        return false;
    }
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(*doc, "type");
    const cJSON *room = cJSON_GetObjectItemCaseSensitive(*doc, "room");
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(*doc, "changes");
    if (!cJSON_IsObject(*doc) || !pc__wire_v1(*doc) || !cJSON_IsString(type) ||
        strcmp(type->valuestring, "changes") != 0 || !cJSON_IsString(room) ||
        strcmp(room->valuestring, ROOM) != 0 || !cJSON_IsArray(list)) {
        return false;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, list)
    {
        if (*n == MAX_V || pc__wire_change_decode(item, &v[*n]) != PC_OK) {
            return false;
        }
        (*n)++;
    }
    return true;
}

static void compare(const pc__wire_change *a, const pc__wire_change *b,
                    size_t i)
{
    FZ_CHECK(a->seq == b->seq && a->time_ms == b->time_ms &&
                 a->transition == b->transition && a->event == b->event &&
                 a->sum == b->sum && a->private_data == b->private_data,
             "change %zu: numbers or flags differ", i);
    FZ_CHECK(strcmp(a->phase, b->phase) == 0, "change %zu: phase differs", i);
    FZ_CHECK(strcmp(a->reason, b->reason) == 0, "change %zu: reason differs",
             i);
    FZ_CHECK(pc_json_equal(a->patch, b->patch), "change %zu: patch differs", i);
    FZ_CHECK(a->event_name == NULL && a->event_data == NULL,
             "change %zu: the decoder took an event", i);
}

static void check(pc__frame *f, const char *text, size_t len,
                  const pc_json_limits *lim)
{
    bool taken = true;
    pc_err rc = pc__frame_decode(f, text, len, ROOM, lim, &taken);
    FZ_CHECK(rc == PC_OK, "decode failed with %d", (int)rc);
    if (!taken) {
        FZ_CHECK(f->n == 0, "declined with %zu changes held", f->n);
        return;
    }
    static pc__wire_change v[MAX_V];
    size_t n = 0;
    cJSON *doc = NULL;
    bool accepted = general(text, len, lim, &doc, v, &n);
    FZ_CHECK(accepted, "took a frame the general path refuses");
    FZ_CHECK(f->n == n, "took %zu changes, the general path %zu", f->n, n);
    for (size_t i = 0; i < n; i++) {
        compare(&f->v[i], &v[i], i);
    }
    cJSON_Delete(doc);
    pc__frame_clear(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: ASan reports any read past the end. */
    char *text = fz_copy(data, size);
    pc_json_limits lim, tight;
    pc_json_limits_resolve(NULL, &lim);
    tight = lim;
    tight.max_depth = 5;
    tight.max_string = 8;
    tight.max_nodes = 24;
    tight.max_bytes = 200;
    pc__frame f;
    pc__frame_init(&f);
    check(&f, text, size, &lim);
    check(&f, text, size, &tight);
    pc__frame_fini(&f);
    free(text);
    return 0;
}
