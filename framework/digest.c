/*
 * digest.c - the cache of container hashes behind O(patch) checksums.
 *
 * The table maps node addresses to cached values with linear probing and
 * backward-shift deletion (no tombstones), and stays at most 3/4 full. A
 * transaction queues new values and departed subtrees without touching
 * the table, so an aborted change needs no undo here; commit purges the
 * departed subtrees first and then stores the new values, which is why
 * reserving room for the new values alone is enough. This module does not
 * apply patches (merge.c does, and reports to it) and trusts its callers
 * to report every change; pc__digest_verify is how debug builds check.
 */
#include "digest.h"

#include <string.h>

#include "phasecast/alloc.h"
#include "canon.h"

#define MIN_SLOTS 16

void pc__digest_init(pc__digest *d)
{
    d->slots = NULL;
    d->mask = 0;
    d->count = 0;
}

void pc__digest_fini(pc__digest *d)
{
    pc_free(d->slots);
    pc__digest_init(d);
}

static size_t home(const pc__digest *d, const cJSON *node)
{
    /* Nodes are at least 16-byte aligned; Fibonacci hashing spreads the
     * rest, and the high bits are the well-mixed ones. */
    uint64_t x = (uint64_t)(uintptr_t)node * UINT64_C(0x9e3779b97f4a7c15);
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
static void store(pc__digest *d, const cJSON *node, uint64_t acc, size_t len)
{
    size_t i = home(d, node);
    while (d->slots[i].node != NULL && d->slots[i].node != node) {
        i = (i + 1) & d->mask;
    }
    if (d->slots[i].node == NULL) {
        d->count++;
    }
    d->slots[i] = (pc__digest_slot){node, acc, len};
}

static void drop(pc__digest *d, const cJSON *node)
{
    pc__digest_slot *s = find(d, node);
    if (s == NULL) {
        return;
    }
    size_t hole = (size_t)(s - d->slots);
    d->count--;
    /* Shift back every later entry of the run that may sit in the hole:
     * one whose home is not cyclically within (hole, j]. */
    for (size_t j = (hole + 1) & d->mask; d->slots[j].node != NULL;
         j = (j + 1) & d->mask) {
        size_t h = home(d, d->slots[j].node);
        bool movable = hole <= j ? (h <= hole || h > j) : (h <= hole && h > j);
        if (movable) {
            d->slots[hole] = d->slots[j];
            hole = j;
        }
    }
    d->slots[hole].node = NULL;
}

/* Room for `more` entries beyond the current count at 3/4 load. */
static pc_err grow(pc__digest *d, size_t more)
{
    size_t want = d->count + more;
    size_t cap = d->mask + 1;
    if (d->mask != 0 && want <= cap / 4 * 3) {
        return PC_OK;
    }
    cap = MIN_SLOTS;
    while (want > cap / 4 * 3) {
        if (cap > SIZE_MAX / 2 / sizeof(pc__digest_slot)) {
            return PC_ERR_NOMEM;
        }
        cap *= 2;
    }
    pc__digest_slot *slots = pc_malloc(cap * sizeof(*slots));
    if (slots == NULL) {
        return PC_ERR_NOMEM;
    }
    memset(slots, 0, cap * sizeof(*slots));
    pc__digest bigger = {slots, cap - 1, 0};
    for (size_t i = 0; d->mask != 0 && i <= d->mask; i++) {
        if (d->slots[i].node != NULL) {
            store(&bigger, d->slots[i].node, d->slots[i].acc, d->slots[i].len);
        }
    }
    pc_free(d->slots);
    *d = bigger;
    return PC_OK;
}

static pc_err build_visit(const cJSON *node, uint64_t acc, size_t len,
                          void *arg)
{
    pc__digest *d = arg;
    pc_err err = grow(d, 1);
    if (err == PC_OK) {
        store(d, node, acc, len);
    }
    return err;
}

pc_err pc__digest_build(pc__digest *d, const cJSON *doc, uint64_t *sum,
                        size_t *len)
{
    d->count = 0;
    if (d->slots != NULL) {
        memset(d->slots, 0, (d->mask + 1) * sizeof(*d->slots));
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
} verifier;

static pc_err verify_visit(const cJSON *node, uint64_t acc, size_t len,
                           void *arg)
{
    verifier *v = arg;
    const pc__digest_slot *s = find(v->d, node);
    v->seen++;
    return s != NULL && s->acc == acc && s->len == len ? PC_OK : PC_ERR_INVALID;
}

bool pc__digest_verify(const pc__digest *d, const cJSON *doc)
{
    verifier v = {d, 0};
    uint64_t sum;
    size_t len;
    return pc__canon_hash(doc, verify_visit, &v, &sum, &len) == PC_OK &&
           v.seen == d->count;
}

/* ---- transactions ---------------------------------------------------- */

void pc__digest_begin(pc__digest_txn *t, pc__digest *d)
{
    t->d = d;
    t->put = t->put_local;
    t->nput = 0;
    t->capput = PC__DIGEST_INLINE;
    t->gone = t->gone_local;
    t->ngone = 0;
    t->capgone = PC__DIGEST_INLINE;
}

void pc__digest_abort(pc__digest_txn *t)
{
    if (t->put != t->put_local) {
        pc_free(t->put);
    }
    if (t->gone != t->gone_local) {
        pc_free(t->gone);
    }
    pc__digest_begin(t, t->d);
}

/* Make room for one more item in an inline-first array. */
static pc_err reserve_one(void **v, void *local, size_t n, size_t *cap,
                          size_t size)
{
    if (n < *cap) {
        return PC_OK;
    }
    if (*cap > SIZE_MAX / 2 / size) {
        return PC_ERR_NOMEM;
    }
    void *bigger = pc_malloc(*cap * 2 * size);
    if (bigger == NULL) {
        return PC_ERR_NOMEM;
    }
    memcpy(bigger, *v, n * size);
    if (*v != local) {
        pc_free(*v);
    }
    *v = bigger;
    *cap *= 2;
    return PC_OK;
}

static pc_err queue_put(pc__digest_txn *t, const cJSON *node, uint64_t acc,
                        size_t len)
{
    void *v = t->put;
    pc_err err =
        reserve_one(&v, t->put_local, t->nput, &t->capput, sizeof(*t->put));
    t->put = v;
    if (err == PC_OK) {
        t->put[t->nput++] = (pc__digest_slot){node, acc, len};
    }
    return err;
}

static pc_err queue_gone(pc__digest_txn *t, const cJSON *node)
{
    void *v = (void *)t->gone;
    pc_err err = reserve_one(&v, (void *)t->gone_local, t->ngone, &t->capgone,
                             sizeof(*t->gone));
    t->gone = v;
    if (err == PC_OK) {
        t->gone[t->ngone++] = node;
    }
    return err;
}

pc_err pc__digest_reserve(pc__digest_txn *t)
{
    return grow(t->d, t->nput);
}

/* Drop node's entry and those of the tracked containers below it. */
static void purge(pc__digest *d, const cJSON *node)
{
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
    for (size_t i = 0; i < t->ngone; i++) {
        purge(t->d, t->gone[i]);
    }
    for (size_t i = 0; i < t->nput; i++) {
        store(t->d, t->put[i].node, t->put[i].acc, t->put[i].len);
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
    return queue_put(arg, node, acc, len);
}

void pc__digest_open(const pc__digest_txn *t, const cJSON *obj,
                     pc__digest_obj *w)
{
    w->node = obj;
    w->sum = 0;
    w->lsum = 0;
    const pc__digest_slot *s = find(t->d, obj);
    if (s != NULL) {
        w->sum = s->acc;
        w->lsum = s->len > 2 ? s->len - 1 : 0;
        return;
    }
    /* Not cached (a caller bug): start from the object as it is, member
     * by member, which is what the cache would have held. */
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        uint64_t kh;
        size_t kn;
        uint64_t h;
        size_t n;
        pc__canon_key(c->string, &kh, &kn);
        if (pc__canon_hash(c, NULL, NULL, &h, &n) == PC_OK) {
            w->sum += pc__canon_member(kh, h);
            w->lsum += kn + 1 + n + 1;
        }
    }
}

pc_err pc__digest_member(pc__digest_txn *t, pc__digest_obj *w, const char *key,
                         const cJSON *old, const cJSON *val)
{
    uint64_t kh;
    size_t kn;
    pc__canon_key(key, &kh, &kn);
    uint64_t h;
    size_t n;
    pc_err err;
    if (old != NULL) {
        if ((err = old_value(t, old, &h, &n)) != PC_OK) {
            return err;
        }
        if (is_container(old) && (err = queue_gone(t, old)) != PC_OK) {
            return err;
        }
        w->sum -= pc__canon_member(kh, h);
        w->lsum -= kn + 1 + n + 1;
    }
    if (val != NULL) {
        err = pc__canon_hash(val, new_visit, t, &h, &n);
        if (err != PC_OK) {
            return err;
        }
        w->sum += pc__canon_member(kh, h);
        w->lsum += kn + 1 + n + 1;
    }
    return PC_OK;
}

static void obj_value(const pc__digest_obj *w, uint64_t *hash, size_t *len)
{
    *hash = pc__canon_object(w->sum);
    *len = w->lsum > 0 ? w->lsum + 1 : 2;
}

void pc__digest_nested(pc__digest_obj *w, const char *key,
                       const pc__digest_obj *before,
                       const pc__digest_obj *after)
{
    uint64_t kh;
    size_t kn;
    pc__canon_key(key, &kh, &kn);
    uint64_t h0;
    uint64_t h1;
    size_t n0;
    size_t n1;
    obj_value(before, &h0, &n0);
    obj_value(after, &h1, &n1);
    w->sum += pc__canon_member(kh, h1) - pc__canon_member(kh, h0);
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
    return queue_put(t, w->node, w->sum, n);
}
