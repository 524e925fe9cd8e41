/*
 * history.c - the bounded change history and time travel over it.
 *
 * States are rebuilt from the live state backwards: copy the current
 * document, then apply inverse patches from the newest record down to the
 * wanted seq. So a record costs the size of its patch and of the values it
 * replaced, and reaching back k changes costs k patch applications. There
 * are no keyframes: the live state is the only full copy kept, and the
 * ring's length bounds the walk. Read-only on the room, like every public
 * function here.
 */
#include "phasecast/history.h"

#include <string.h>

#include "phasecast/alloc.h"
#include "phasecast/diff.h"
#include "phasecast/json.h"
#include "merge.h"
#include "room.h"

void pc__history_init(pc__history *h, size_t capacity)
{
    memset(h, 0, sizeof(*h));
    h->capacity = capacity;
}

void pc__record_release(pc__record *rec)
{
    cJSON_Delete(rec->patch);
    cJSON_Delete(rec->inverse);
    pc_free(rec->text);
    memset(rec, 0, sizeof(*rec));
}

void pc__history_fini(pc__history *h)
{
    for (size_t i = 0; i < h->count; i++) {
        pc__record_release(&h->ring[(h->first + i) % h->allocated]);
    }
    pc_free(h->ring);
    memset(h, 0, sizeof(*h));
}

pc_err pc__history_reserve(pc__history *h)
{
    if (h->capacity == 0 || h->count < h->allocated ||
        h->allocated >= h->capacity) {
        return PC_OK;
    }
    size_t n = h->allocated == 0 ? 8 : h->allocated * 2;
    if (n > h->capacity || n < h->allocated) {
        n = h->capacity;
    }
    pc__record *ring = pc_malloc(n * sizeof(*ring));
    if (ring == NULL) {
        return PC_ERR_NOMEM;
    }
    /* Unroll the ring so the oldest record is in slot 0. */
    for (size_t i = 0; i < h->count; i++) {
        ring[i] = h->ring[(h->first + i) % h->allocated];
    }
    pc_free(h->ring);
    h->ring = ring;
    h->allocated = n;
    h->first = 0;
    return PC_OK;
}

void pc__history_push(pc__history *h, pc__record *rec)
{
    if (h->capacity == 0) {
        pc__record_release(rec);
        return;
    }
    if (h->count == h->capacity) {
        pc__record_release(&h->ring[h->first]);
        h->ring[h->first] = *rec;
        h->first = (h->first + 1) % h->allocated;
        return;
    }
    h->ring[(h->first + h->count) % h->allocated] = *rec;
    h->count++;
}

const pc__record *pc__history_find_seq(const pc__history *h, uint64_t seq)
{
    if (h->count == 0) {
        return NULL;
    }
    uint64_t oldest = h->ring[h->first].change.seq;
    if (seq < oldest || seq - oldest >= h->count) {
        return NULL;
    }
    return &h->ring[(h->first + (size_t)(seq - oldest)) % h->allocated];
}

size_t pc_history_count(const pc_room *room)
{
    return pc__room_history(room)->count;
}

size_t pc_history_capacity(const pc_room *room)
{
    return pc__room_history(room)->capacity;
}

uint64_t pc_history_first_seq(const pc_room *room)
{
    const pc__history *h = pc__room_history(room);
    return h->count == 0 ? 0 : h->ring[h->first].change.seq;
}

pc_err pc_history_get(const pc_room *room, uint64_t seq, const pc_change **out)
{
    if (seq == 0 || seq > pc_room_seq(room)) {
        return PC_ERR_NOT_FOUND;
    }
    const pc__record *rec = pc__history_find_seq(pc__room_history(room), seq);
    if (rec == NULL) {
        return PC_ERR_EVICTED;
    }
    *out = &rec->change;
    return PC_OK;
}

/* Is the state right after seq reachable by walking back? */
static pc_err check_reachable(const pc_room *room, uint64_t seq)
{
    if (pc__room_in_flux(room)) {
        return PC_ERR_REENTRANT;
    }
    uint64_t now = pc_room_seq(room);
    if (seq > now) {
        return PC_ERR_NOT_FOUND;
    }
    if (seq == now) {
        return PC_OK;
    }
    uint64_t first = pc_history_first_seq(room);
    if (first == 0 || seq + 1 < first) {
        return PC_ERR_EVICTED;
    }
    return PC_OK;
}

/* Turn *doc (the state right after seq `from`) into the state right after
 * seq from-1. */
static pc_err step_back(const pc_room *room, cJSON *doc, uint64_t from)
{
    const pc__record *rec = pc__history_find_seq(pc__room_history(room), from);
    return pc__merge_into(doc, rec->inverse) ? PC_OK : PC_ERR_NOMEM;
}

pc_err pc_history_state_at(const pc_room *room, uint64_t seq, cJSON **out)
{
    pc_err rv = check_reachable(room, seq);
    if (rv != PC_OK) {
        return rv;
    }
    cJSON *doc = cJSON_Duplicate(pc_room_state(room), 1);
    if (doc == NULL) {
        return PC_ERR_NOMEM;
    }
    for (uint64_t s = pc_room_seq(room); s > seq; s--) {
        if (step_back(room, doc, s) != PC_OK) {
            cJSON_Delete(doc);
            return PC_ERR_NOMEM;
        }
    }
    *out = doc;
    return PC_OK;
}

pc_err pc_history_find(const pc_room *room, const char *pointer,
                       const cJSON *value, uint64_t at_or_before,
                       uint64_t *seq_out)
{
    if (pointer == NULL || seq_out == NULL) {
        return PC_ERR_INVALID;
    }
    if (pc__room_in_flux(room)) {
        return PC_ERR_REENTRANT;
    }
    uint64_t start = pc_room_seq(room);
    if (at_or_before != 0 && at_or_before < start) {
        start = at_or_before;
    }
    uint64_t first = pc_history_first_seq(room);
    if (first == 0 || start < first) {
        return PC_ERR_NOT_FOUND;
    }
    cJSON *doc;
    pc_err rv = pc_history_state_at(room, start, &doc);
    if (rv != PC_OK) {
        return rv == PC_ERR_EVICTED ? PC_ERR_NOT_FOUND : rv;
    }
    bool after = pc_json_equal(pc_json_pointer_get(doc, pointer), value);
    for (uint64_t s = start; s >= first; s--) {
        if (step_back(room, doc, s) != PC_OK) {
            cJSON_Delete(doc);
            return PC_ERR_NOMEM;
        }
        bool before = pc_json_equal(pc_json_pointer_get(doc, pointer), value);
        if (after && !before) {
            cJSON_Delete(doc);
            *seq_out = s;
            return PC_OK;
        }
        after = before;
        if (s == 1) {
            break;
        }
    }
    cJSON_Delete(doc);
    return PC_ERR_NOT_FOUND;
}

pc_err pc_history_diff(const pc_room *room, uint64_t a, uint64_t b, cJSON **out)
{
    cJSON *sa = NULL;
    cJSON *sb = NULL;
    pc_err rv = pc_history_state_at(room, a, &sa);
    if (rv == PC_OK) {
        rv = pc_history_state_at(room, b, &sb);
    }
    if (rv == PC_OK) {
        rv = pc_json_diff(sa, sb, out);
    }
    cJSON_Delete(sa);
    cJSON_Delete(sb);
    return rv;
}
