/*
 * digest.c - the cache of container hashes behind O(patch) checksums, and
 * the member index of wide objects.
 *
 * Both tables use linear probing with backward-shift deletion (no
 * tombstones) and stay at most 3/4 full. The cache is keyed by container
 * address; the index by (object address, member name hash) and may hold
 * several members under one such key, so a name collision costs a string
 * comparison, never a wrong answer. A transaction queues new values,
 * departed subtrees and member relinks without touching either table, so
 * an aborted change needs no undo here; commit purges the departed
 * subtrees first, then relinks and stores, which is why reserving room for
 * what is added is enough. This module does not apply patches (merge.c
 * does, and reports to it) and trusts its callers to report every change;
 * pc__digest_verify is how debug builds check.
 */
#include "digest.h"

#include <string.h>

#include "phasecast/alloc.h"
#include "canon.h"

#define MIN_SLOTS 16
#define GOLDEN    UINT64_C(0x9e3779b97f4a7c15)

void pc__digest_init(pc__digest *d)
{
    memset(d, 0, sizeof(*d));
}

void pc__digest_fini(pc__digest *d)
{
    pc_free(d->slots);
    pc_free(d->links);
    pc__digest_init(d);
}

/* Slots for `want` entries at 3/4 load, or 0 on overflow. */
static size_t table_size(size_t want, size_t entry)
{
    size_t cap = MIN_SLOTS;
    while (want > cap / 4 * 3) {
        if (cap > SIZE_MAX / 2 / entry) {
            return 0;
        }
        cap *= 2;
    }
    return cap;
}

/* Does cyclic position h lie outside (hole, j]? Then the entry at j may
 * move back into the hole. */
static bool movable(size_t h, size_t hole, size_t j)
{
    return hole <= j ? (h <= hole || h > j) : (h <= hole && h > j);
}

/* ---- the cache ------------------------------------------------------- */

static size_t home(const pc__digest *d, const cJSON *node)
{
    /* Nodes are at least 16-byte aligned; Fibonacci hashing spreads the
     * rest, and folding brings the well-mixed high bits down. */
    uint64_t x = (uint64_t)(uintptr_t)node * GOLDEN;
    return (size_t)(x >> 32 ^ x) & d->mask;
}

static pc__digest_slot *find(const pc__digest *d, const cJSON *node)
{
    if (d->mask == 0) {
        return NULL;
    }
    for (size_t i = home(d, node);; i = (i + 1) & d->mask) {
        pc__digest_slot *s = &d->slots[i];
        if (s->node == node) {
            return s;
        }
        if (s->node == NULL) {
            return NULL;
        }
    }
}

/* Store or overwrite; the table must have a free slot. */
static void store(pc__digest *d, const pc__digest_slot *v)
{
    size_t i = home(d, v->node);
    while (d->slots[i].node != NULL && d->slots[i].node != v->node) {
        i = (i + 1) & d->mask;
    }
    if (d->slots[i].node == NULL) {
        d->count++;
    }
    d->slots[i] = *v;
}

static void drop(pc__digest *d, const cJSON *node)
{
    pc__digest_slot *s = find(d, node);
    if (s == NULL) {
        return;
    }
    size_t hole = (size_t)(s - d->slots);
    d->count--;
    for (size_t j = (hole + 1) & d->mask; d->slots[j].node != NULL;
         j = (j + 1) & d->mask) {
        if (movable(home(d, d->slots[j].node), hole, j)) {
            d->slots[hole] = d->slots[j];
            hole = j;
        }
    }
    d->slots[hole].node = NULL;
}

/* Room for `more` entries beyond the current count. */
static pc_err grow(pc__digest *d, size_t more)
{
    size_t want = d->count + more;
    if (d->mask != 0 && want <= (d->mask + 1) / 4 * 3) {
        return PC_OK;
    }
    size_t cap = table_size(want, sizeof(pc__digest_slot));
    pc__digest_slot *slots = cap > 0 ? pc_malloc(cap * sizeof(*slots)) : NULL;
    if (slots == NULL) {
        return PC_ERR_NOMEM;
    }
    memset(slots, 0, cap * sizeof(*slots));
    pc__digest bigger = *d;
    bigger.slots = slots;
    bigger.mask = cap - 1;
    bigger.count = 0;
    for (size_t i = 0; d->mask != 0 && i <= d->mask; i++) {
        if (d->slots[i].node != NULL) {
            store(&bigger, &d->slots[i]);
        }
    }
    pc_free(d->slots);
    *d = bigger;
    return PC_OK;
}

/* ---- the member index ------------------------------------------------ */

static size_t link_home(const pc__digest *d, const cJSON *obj, uint64_t hash)
{
    uint64_t x = (uint64_t)(uintptr_t)obj * GOLDEN ^ hash;
    return (size_t)(x >> 32 ^ x) & d->link_mask;
}

static const cJSON *link_find(const pc__digest *d, const cJSON *obj,
                              uint64_t hash, const char *name)
{
    if (d->link_mask == 0) {
        return NULL;
    }
    for (size_t i = link_home(d, obj, hash);; i = (i + 1) & d->link_mask) {
        const pc__digest_link *l = &d->links[i];
        if (l->obj == NULL) {
            return NULL;
        }
        if (l->obj == obj && l->hash == hash &&
            strcmp(l->member->string, name) == 0) {
            return l->member;
        }
    }
}

/* Add a link; the index must have a free slot. */
static void link_add(pc__digest *d, const cJSON *obj, uint64_t hash,
                     const cJSON *member)
{
    size_t i = link_home(d, obj, hash);
    while (d->links[i].obj != NULL) {
        i = (i + 1) & d->link_mask;
    }
    d->links[i] = (pc__digest_link){obj, hash, member};
    d->link_count++;
}

static void link_drop(pc__digest *d, const cJSON *obj, uint64_t hash,
                      const cJSON *member)
{
    if (d->link_mask == 0) {
        return;
    }
    size_t hole = link_home(d, obj, hash);
    for (;; hole = (hole + 1) & d->link_mask) {
        const pc__digest_link *l = &d->links[hole];
        if (l->obj == NULL) {
            return;
        }
        if (l->obj == obj && l->member == member) {
            break;
        }
    }
    d->link_count--;
    for (size_t j = (hole + 1) & d->link_mask; d->links[j].obj != NULL;
         j = (j + 1) & d->link_mask) {
        const pc__digest_link *l = &d->links[j];
        if (movable(link_home(d, l->obj, l->hash), hole, j)) {
            d->links[hole] = *l;
            hole = j;
        }
    }
    d->links[hole].obj = NULL;
}

static pc_err link_grow(pc__digest *d, size_t more)
{
    size_t want = d->link_count + more;
    if (more == 0 ||
        (d->link_mask != 0 && want <= (d->link_mask + 1) / 4 * 3)) {
        return PC_OK;
    }
    size_t cap = table_size(want, sizeof(pc__digest_link));
    pc__digest_link *links = cap > 0 ? pc_malloc(cap * sizeof(*links)) : NULL;
    if (links == NULL) {
        return PC_ERR_NOMEM;
    }
    memset(links, 0, cap * sizeof(*links));
    pc__digest bigger = *d;
    bigger.links = links;
    bigger.link_mask = cap - 1;
    bigger.link_count = 0;
    for (size_t i = 0; d->link_mask != 0 && i <= d->link_mask; i++) {
        const pc__digest_link *l = &d->links[i];
        if (l->obj != NULL) {
            link_add(&bigger, l->obj, l->hash, l->member);
        }
    }
    pc_free(d->links);
    *d = bigger;
    return PC_OK;
}

static uint64_t name_hash(const char *name)
{
    pc__digest_key k;
    pc__digest_key_of(name, &k);
    return k.hash;
}

/* Link (or unlink) every member of obj; the index must have room. */
static void index_object(pc__digest *d, const cJSON *obj, bool add)
{
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        if (add) {
            link_add(d, obj, name_hash(c->string), c);
        } else {
            link_drop(d, obj, name_hash(c->string), c);
        }
    }
}

static uint32_t count_members(const cJSON *obj)
{
    uint32_t n = 0;
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        n++;
    }
    return n;
}

/* The cache entry of a container as the walk reports it. */
static pc__digest_slot slot_of(const cJSON *node, uint64_t acc, size_t len)
{
    pc__digest_slot s = {node, acc, len, 0, false};
    if (cJSON_IsObject(node)) {
        s.members = count_members(node);
        s.indexed = s.members >= PC__DIGEST_WIDE;
    }
    return s;
}

/* ---- building and checking ------------------------------------------ */

static pc_err build_visit(const cJSON *node, uint64_t acc, size_t len,
                          void *arg)
{
    pc__digest *d = arg;
    pc__digest_slot s = slot_of(node, acc, len);
    pc_err err = grow(d, 1);
    if (err == PC_OK && s.indexed) {
        err = link_grow(d, s.members);
    }
    if (err == PC_OK) {
        store(d, &s);
        if (s.indexed) {
            index_object(d, node, true);
        }
    }
    return err;
}

pc_err pc__digest_build(pc__digest *d, const cJSON *doc, uint64_t *sum,
                        size_t *len)
{
    d->count = 0;
    d->link_count = 0;
    if (d->slots != NULL) {
        memset(d->slots, 0, (d->mask + 1) * sizeof(*d->slots));
    }
    if (d->links != NULL) {
        memset(d->links, 0, (d->link_mask + 1) * sizeof(*d->links));
    }
    pc_err err = pc__canon_hash(doc, build_visit, d, sum, len);
    if (err != PC_OK) {
        pc__digest_fini(d);
    }
    return err;
}

/* What pc__digest_verify carries through the walk. */
typedef struct verifier {
    const pc__digest *d;
    size_t seen;
    size_t links;
} verifier;

static pc_err verify_visit(const cJSON *node, uint64_t acc, size_t len,
                           void *arg)
{
    verifier *v = arg;
    const pc__digest_slot *s = find(v->d, node);
    pc__digest_slot want = slot_of(node, acc, len);
    v->seen++;
    if (s == NULL || s->acc != acc || s->len != len ||
        s->members != want.members || (want.indexed && !s->indexed)) {
        return PC_ERR_INVALID;
    }
    if (!s->indexed) {
        return PC_OK;
    }
    for (const cJSON *c = node->child; c != NULL; c = c->next) {
        v->links++;
        if (link_find(v->d, node, name_hash(c->string), c->string) != c) {
            return PC_ERR_INVALID;
        }
    }
    return PC_OK;
}

bool pc__digest_verify(const pc__digest *d, const cJSON *doc)
{
    verifier v = {d, 0, 0};
    uint64_t sum;
    size_t len;
    return pc__canon_hash(doc, verify_visit, &v, &sum, &len) == PC_OK &&
           v.seen == d->count && v.links == d->link_count;
}

/* ---- transactions ---------------------------------------------------- */

static void queue_init(pc__digest_queue *q, void *local)
{
    q->v = local;
    q->n = 0;
    q->cap = PC__DIGEST_INLINE;
}

static void queue_fini(pc__digest_queue *q, const void *local)
{
    if (q->v != local) {
        pc_free(q->v);
    }
}

/* Append one item of `size` bytes. */
static pc_err queue_push(pc__digest_queue *q, const void *local,
                         const void *item, size_t size)
{
    if (q->n == q->cap) {
        if (q->cap > SIZE_MAX / 2 / size) {
            return PC_ERR_NOMEM;
        }
        void *bigger = pc_malloc(q->cap * 2 * size);
        if (bigger == NULL) {
            return PC_ERR_NOMEM;
        }
        memcpy(bigger, q->v, q->n * size);
        queue_fini(q, local);
        q->v = bigger;
        q->cap *= 2;
    }
    memcpy((char *)q->v + q->n * size, item, size);
    q->n++;
    return PC_OK;
}

void pc__digest_begin(pc__digest_txn *t, pc__digest *d)
{
    t->d = d;
    queue_init(&t->put, t->put_local);
    queue_init(&t->gone, t->gone_local);
    queue_init(&t->relink, t->relink_local);
}

void pc__digest_abort(pc__digest_txn *t)
{
    queue_fini(&t->put, t->put_local);
    queue_fini(&t->gone, t->gone_local);
    queue_fini(&t->relink, t->relink_local);
    pc__digest_begin(t, t->d);
}

static pc_err queue_put(pc__digest_txn *t, const pc__digest_slot *s)
{
    return queue_push(&t->put, t->put_local, s, sizeof(*s));
}

/* Will commit index this object whole (new to the index)? */
static bool indexes_whole(const pc__digest *d, const pc__digest_slot *s)
{
    if (!s->indexed) {
        return false;
    }
    const pc__digest_slot *was = find(d, s->node);
    return was == NULL || !was->indexed;
}

pc_err pc__digest_reserve(pc__digest_txn *t)
{
    const pc__digest_slot *put = t->put.v;
    const pc__digest_relink *rl = t->relink.v;
    size_t links = 0;
    for (size_t i = 0; i < t->put.n; i++) {
        if (indexes_whole(t->d, &put[i])) {
            links += put[i].members;
        }
    }
    for (size_t i = 0; i < t->relink.n; i++) {
        links += rl[i].val != NULL;
    }
    pc_err err = grow(t->d, t->put.n);
    return err == PC_OK ? link_grow(t->d, links) : err;
}

/* Drop node's entries and those of the tracked containers below it. */
static void purge(pc__digest *d, const cJSON *node)
{
    const pc__digest_slot *s = find(d, node);
    if (s != NULL && s->indexed) {
        index_object(d, node, false);
    }
    drop(d, node);
    if (!cJSON_IsObject(node)) {
        return;
    }
    for (const cJSON *c = node->child; c != NULL; c = c->next) {
        if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
            purge(d, c);
        }
    }
}

void pc__digest_commit(pc__digest_txn *t)
{
    pc__digest *d = t->d;
    const cJSON *const *gone = t->gone.v;
    const pc__digest_relink *rl = t->relink.v;
    const pc__digest_slot *put = t->put.v;
    for (size_t i = 0; i < t->gone.n; i++) {
        purge(d, gone[i]);
    }
    for (size_t i = 0; i < t->relink.n; i++) {
        if (rl[i].old != NULL) {
            link_drop(d, rl[i].obj, rl[i].hash, rl[i].old);
        }
        if (rl[i].val != NULL) {
            link_add(d, rl[i].obj, rl[i].hash, rl[i].val);
        }
    }
    for (size_t i = 0; i < t->put.n; i++) {
        bool whole = indexes_whole(d, &put[i]);
        store(d, &put[i]);
        if (whole) {
            index_object(d, put[i].node, true);
        }
    }
    pc__digest_abort(t); /* frees the queues */
}

static bool is_container(const cJSON *node)
{
    return cJSON_IsObject(node) || cJSON_IsArray(node);
}

/* Hash and length of a value the document held when the transaction
 * began: cached for tracked containers, computed for scalars (and for a
 * container missing from the cache, which a correct caller never has). */
static pc_err old_value(const pc__digest_txn *t, const cJSON *node,
                        uint64_t *hash, size_t *len)
{
    if (is_container(node)) {
        const pc__digest_slot *s = find(t->d, node);
        if (s != NULL) {
            *hash = cJSON_IsObject(node) ? pc__canon_object(s->acc) : s->acc;
            *len = s->len;
            return PC_OK;
        }
    }
    return pc__canon_hash(node, NULL, NULL, hash, len);
}

static pc_err new_visit(const cJSON *node, uint64_t acc, size_t len, void *arg)
{
    pc__digest_slot s = slot_of(node, acc, len);
    return queue_put(arg, &s);
}

void pc__digest_key_of(const char *name, pc__digest_key *k)
{
    pc__canon_key(name, &k->hash, &k->len);
}

void pc__digest_open(const pc__digest_txn *t, const cJSON *obj,
                     pc__digest_obj *w)
{
    memset(w, 0, sizeof(*w));
    w->node = obj;
    const pc__digest_slot *s = find(t->d, obj);
    if (s != NULL) {
        w->sum = s->acc;
        w->lsum = s->len > 2 ? s->len - 1 : 0;
        w->members = s->members;
        w->indexed = s->indexed;
        return;
    }
    /* Not cached (a caller bug): start from the object as it is, member
     * by member, which is what the cache would have held. */
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        pc__digest_key k;
        uint64_t h;
        size_t n;
        pc__digest_key_of(c->string, &k);
        if (pc__canon_hash(c, NULL, NULL, &h, &n) == PC_OK) {
            w->sum += pc__canon_member(k.hash, h);
            w->lsum += k.len + 1 + n + 1;
        }
        w->members++;
    }
}

cJSON *pc__digest_find(const pc__digest_txn *t, const pc__digest_obj *w,
                       const char *name, const pc__digest_key *k)
{
    /* The merge changes what it finds, so it gets the node back mutable:
     * the digest itself only ever reads it. */
    if (w->indexed) {
        return (cJSON *)link_find(t->d, w->node, k->hash, name);
    }
    return cJSON_GetObjectItemCaseSensitive(w->node, name);
}

pc_err pc__digest_member(pc__digest_txn *t, pc__digest_obj *w,
                         const pc__digest_key *k, const cJSON *old,
                         const cJSON *val)
{
    uint64_t h;
    size_t n;
    pc_err err;
    if (old != NULL) {
        if ((err = old_value(t, old, &h, &n)) != PC_OK) {
            return err;
        }
        if (is_container(old)) {
            err = queue_push(&t->gone, t->gone_local, &old, sizeof(old));
            if (err != PC_OK) {
                return err;
            }
        }
        w->sum -= pc__canon_member(k->hash, h);
        w->lsum -= k->len + 1 + n + 1;
        w->members--;
    }
    if (val != NULL) {
        err = pc__canon_hash(val, new_visit, t, &h, &n);
        if (err != PC_OK) {
            return err;
        }
        w->sum += pc__canon_member(k->hash, h);
        w->lsum += k->len + 1 + n + 1;
        w->members++;
    }
    if (w->indexed) {
        pc__digest_relink rl = {w->node, k->hash, old, val};
        return queue_push(&t->relink, t->relink_local, &rl, sizeof(rl));
    }
    return PC_OK;
}

static void obj_value(const pc__digest_obj *w, uint64_t *hash, size_t *len)
{
    *hash = pc__canon_object(w->sum);
    *len = w->lsum > 0 ? w->lsum + 1 : 2;
}

void pc__digest_nested(pc__digest_obj *w, const pc__digest_key *k,
                       const pc__digest_obj *before,
                       const pc__digest_obj *after)
{
    uint64_t h0;
    uint64_t h1;
    size_t n0;
    size_t n1;
    obj_value(before, &h0, &n0);
    obj_value(after, &h1, &n1);
    w->sum += pc__canon_member(k->hash, h1) - pc__canon_member(k->hash, h0);
    w->lsum += n1 - n0; /* size_t arithmetic wraps back into range */
}

pc_err pc__digest_close(pc__digest_txn *t, const pc__digest_obj *w,
                        uint64_t *hash, size_t *len)
{
    uint64_t h;
    size_t n;
    obj_value(w, &h, &n);
    if (hash != NULL) {
        *hash = h;
    }
    if (len != NULL) {
        *len = n;
    }
    /* Once wide, an object stays indexed for as long as it lives. */
    pc__digest_slot s = {w->node, w->sum, n, w->members,
                         w->indexed || w->members >= PC__DIGEST_WIDE};
    return queue_put(t, &s);
}
