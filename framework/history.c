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

#include <stdbool.h>
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

/* What a packed copy of a patch needs: nodes and string bytes. */
static void packed_size(const cJSON *v, size_t *nodes, size_t *bytes)
{
    (*nodes)++;
    if (v->string != NULL) {
        *bytes += strlen(v->string) + 1;
    }
    if (v->valuestring != NULL) {
        *bytes += strlen(v->valuestring) + 1;
    }
    for (const cJSON *c = v->child; c != NULL; c = c->next) {
        packed_size(c, nodes, bytes);
    }
}

static char *pack_string(char **at, const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = memcpy(*at, s, n);
    *at += n;
    return copy;
}

/* Copy v into the next free node at *node and its strings at *str; the
 * links are those cJSON itself keeps (child->prev is the last child). */
static cJSON *pack(const cJSON *v, cJSON **node, char **str)
{
    cJSON *n = (*node)++;
    memset(n, 0, sizeof(*n));
    /* Everything is owned by the block: no reference or constant flags,
     * so a cJSON_Duplicate of it copies its strings. */
    n->type = v->type & ~(cJSON_IsReference | cJSON_StringIsConst);
    n->valueint = v->valueint;
    n->valuedouble = v->valuedouble;
    if (v->string != NULL) {
        n->string = pack_string(str, v->string);
    }
    if (v->valuestring != NULL) {
        n->valuestring = pack_string(str, v->valuestring);
    }
    cJSON *last = NULL;
    for (const cJSON *c = v->child; c != NULL; c = c->next) {
        cJSON *k = pack(c, node, str);
        if (last == NULL) {
            n->child = k;
        } else {
            last->next = k;
            k->prev = last;
        }
        last = k;
    }
    if (n->child != NULL) {
        n->child->prev = last;
    }
    return n;
}

static size_t opt_len(const char *s)
{
    return s != NULL ? strlen(s) + 1 : 0;
}

pc_err pc__record_init(pc__record *rec, bool copy_patch, const cJSON *patch,
                       const char *reason, const char *file, const char *func,
                       const pc_cause *cause, const pc_event *event)
{
    static const cJSON empty = {.type = cJSON_Object};
    static const cJSON null = {.type = cJSON_NULL};
    memset(rec, 0, sizeof(*rec));
    if (copy_patch && patch == NULL) {
        patch = &empty;
    }
    size_t nodes = 0;
    size_t bytes = strlen(reason) + strlen(file) + strlen(func) + 3;
    if (copy_patch) {
        packed_size(patch, &nodes, &bytes);
    }
    if (cause != NULL) {
        bytes += opt_len(cause->player) + opt_len(cause->type) +
                 opt_len(cause->phase);
        if (cause->payload != NULL) {
            packed_size(cause->payload, &nodes, &bytes);
        }
    }
    const cJSON *data = NULL;
    if (event != NULL) {
        data = event->data != NULL ? event->data : &null;
        bytes += opt_len(event->name) + opt_len(event->player);
        packed_size(data, &nodes, &bytes);
    }
    /* Nodes first, so they are aligned as the allocator aligns. */
    rec->block = pc_malloc(nodes * sizeof(cJSON) + bytes);
    if (rec->block == NULL) {
        return PC_ERR_NOMEM;
    }
    cJSON *node = rec->block;
    char *str = (char *)(node + nodes);
    if (copy_patch) {
        cJSON *copy = pack(patch, &node, &str);
        copy->string = NULL; /* the record's patch is nobody's member */
        rec->patch = copy;
    }
    if (cause != NULL && cause->payload != NULL) {
        cJSON *copy = pack(cause->payload, &node, &str);
        copy->string = NULL;
        rec->change.cause.payload = copy;
    }
    if (event != NULL) {
        cJSON *copy = pack(data, &node, &str);
        copy->string = NULL;
        rec->change.event.data = copy;
        rec->change.event.audience = event->audience;
        rec->change.event.name =
            event->name != NULL ? pack_string(&str, event->name) : NULL;
        rec->change.event.player =
            event->player != NULL ? pack_string(&str, event->player) : NULL;
    }
    rec->change.reason = pack_string(&str, reason);
    rec->change.file = pack_string(&str, file);
    rec->change.func = pack_string(&str, func);
    if (cause != NULL) {
        pc_cause *c = &rec->change.cause;
        c->kind = cause->kind;
        c->first_seq = cause->first_seq;
        c->payload_dropped = cause->payload_dropped;
        c->role = cause->role;
        c->has_expected_seq = cause->has_expected_seq;
        c->expected_seq = cause->expected_seq;
        c->player =
            cause->player != NULL ? pack_string(&str, cause->player) : NULL;
        c->type = cause->type != NULL ? pack_string(&str, cause->type) : NULL;
        c->phase =
            cause->phase != NULL ? pack_string(&str, cause->phase) : NULL;
    }
    return PC_OK;
}

void pc__record_release(pc__record *rec)
{
    cJSON_Delete(rec->inverse);
    pc_free(rec->block);
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
