/*
 * room_durable.c - what a durable log needs of a room: the journal hooks,
 * the failure a journal reports, the PRNG's position, adopting a replayed
 * history, and pc_room_restore, which makes a room that continues from an
 * image of another (state, seq, PRNG, timer). The log itself (records,
 * files, recovery) is changelog*.c; this file knows nothing of files.
 */
#include "phasecast/room.h"

#include <string.h>

#include "phasecast/json.h"
#include "digest.h"
#include "history.h"
#include "prng.h"
#include "room.h"

void pc_room_set_journal(pc_room *room, pc_journal_fn fn,
                         pc_journal_timer_fn timer_fn, void *arg)
{
    room->journal_fn = fn;
    room->journal_timer_fn = fn != NULL ? timer_fn : NULL;
    room->journal_arg = arg;
    pc_error_clear(&room->failure);
}

bool pc_room_failed(const pc_room *room, pc_error *why)
{
    if (room->failure.err == PC_OK) {
        return false;
    }
    if (why != NULL) {
        *why = room->failure;
    }
    return true;
}

uint64_t pc_room_draws(const pc_room *room)
{
    return room->prng.draws;
}

const pc__prng *pc__room_prng(const pc_room *room)
{
    return &room->prng;
}

void pc__room_set_prng(pc_room *room, const pc__prng *prng)
{
    room->prng = *prng;
}

void pc__room_adopt_history(pc_room *room, pc__history *h)
{
    pc__history_fini(&room->history);
    room->history = *h;
    memset(h, 0, sizeof(*h));
}

pc_err pc_room_restore(const pc_game *game, const pc_room_options *opts,
                       const pc_room_image *image, pc_room **out)
{
    pc_room_options o;
    if (opts != NULL) {
        o = *opts;
    } else {
        pc_room_options_init(&o);
    }
    if (image == NULL || out == NULL || !cJSON_IsObject(image->state) ||
        cJSON_GetArraySize(image->state) != 2) {
        return PC_ERR_INVALID;
    }
    const cJSON *ph = cJSON_GetObjectItemCaseSensitive(image->state, "phase");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(image->state, "data");
    if (!cJSON_IsString(ph) || !cJSON_IsObject(data)) {
        return PC_ERR_INVALID;
    }
    o.seed = image->seed;
    o.seed_set = true;
    pc_room *r;
    pc_err rv = pc_room_new(game, &o, &r);
    if (rv != PC_OK) {
        return rv;
    }
    const pc_phase *phase = pc__room_find_phase(game, ph->valuestring);
    cJSON *doc = NULL;
    uint64_t sum = 0;
    size_t bytes = 0;
    if (phase == NULL) {
        rv = PC_ERR_PHASE;
    } else if ((rv = pc_json_check(image->state, &r->limits, NULL)) == PC_OK) {
        doc = cJSON_Duplicate(image->state, 1);
        rv = doc == NULL ? PC_ERR_NOMEM
                         : pc__digest_build(&r->digest, doc, &sum, &bytes);
    }
    if (rv == PC_OK && bytes > r->limits.max_state_bytes) {
        rv = PC_ERR_LIMIT;
    }
    if (rv != PC_OK) {
        cJSON_Delete(doc);
        pc_room_free(r);
        return rv;
    }
    cJSON_Delete(r->doc);
    r->doc = doc;
    r->data = cJSON_GetObjectItemCaseSensitive(doc, "data");
    r->phase = phase;
    r->seq = image->seq;
    r->checksum = sum;
    r->state_bytes = bytes;
    pc__prng_skip(&r->prng, image->draws);
    r->restored = true;
    r->restore_deadline_ms = image->timer ? image->deadline_ms : -1;
    *out = r;
    return PC_OK;
}
