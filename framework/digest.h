/*
 * digest.h - a document's structural checksum kept current under merge
 * patches (internal; shared by the room and the client library's replica).
 *
 * A digest caches, for every tracked container of one document (the root
 * and every object or array that is a member of a tracked object), its
 * member sum (objects) or hash (arrays) and its canonical length, keyed by
 * node address. A change is accounted in a transaction: the tracked merge
 * (merge.h) reports each member that leaves or enters an object and each
 * object it patches in place; the transaction recombines only those, so
 * its cost follows the patch, not the document. Nothing in the cache
 * changes until pc__digest_commit, which never fails once
 * pc__digest_reserve succeeded; pc__digest_abort forgets the transaction.
 *
 * The cache holds exactly the containers of the live document: commit
 * drops the entries of every subtree that left it, so a freed node's
 * address reused by a later node can never find a stale entry. The
 * document must change only through transactions while a digest follows
 * it; pc__digest_verify checks the whole cache against a full recompute.
 */
#ifndef PC_FRAMEWORK_DIGEST_H
#define PC_FRAMEWORK_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "phasecast/error.h"

/* One cached container. */
typedef struct pc__digest_slot {
    const cJSON *node; /* NULL: the slot is empty */
    uint64_t acc;      /* objects: sum of member contributions; arrays: hash */
    size_t len;        /* canonical length */
} pc__digest_slot;

/* The cache: open addressing, linear probing, power-of-two size. */
typedef struct pc__digest {
    pc__digest_slot *slots;
    size_t mask; /* slots - 1; 0 when nothing is allocated */
    size_t count;
} pc__digest;

/* Pending work is kept inline up to this many items, so a small patch
 * allocates nothing. */
#define PC__DIGEST_INLINE 8

/* One change being accounted; lives on the caller's stack. */
typedef struct pc__digest_txn {
    pc__digest *d;
    pc__digest_slot *put; /* new values: patched objects, new containers */
    size_t nput;
    size_t capput;
    const cJSON **gone; /* roots of subtrees that left the document */
    size_t ngone;
    size_t capgone;
    pc__digest_slot put_local[PC__DIGEST_INLINE];
    const cJSON *gone_local[PC__DIGEST_INLINE];
} pc__digest_txn;

/* An object being patched: its running member sum and length. */
typedef struct pc__digest_obj {
    const cJSON *node;
    uint64_t sum;
    size_t lsum; /* sum of (member's canonical length + 1 for a comma) */
} pc__digest_obj;

void pc__digest_init(pc__digest *d);
void pc__digest_fini(pc__digest *d);

/*
 * pc__digest_build - forget everything and cache doc (a container) from
 * scratch; *sum and *len receive its checksum and canonical length.
 * Returns PC_OK, PC_ERR_INVALID (what pc_canon_checksum refuses) or
 * PC_ERR_NOMEM; on failure d is empty.
 */
pc_err pc__digest_build(pc__digest *d, const cJSON *doc, uint64_t *sum,
                        size_t *len);

/*
 * pc__digest_verify - recompute doc from scratch and compare every tracked
 * container, and the number of them, with the cache. True when they all
 * agree. For debug builds and tests.
 */
bool pc__digest_verify(const pc__digest *d, const cJSON *doc);

void pc__digest_begin(pc__digest_txn *t, pc__digest *d);
/* Forget the transaction; the cache is as before it began. */
void pc__digest_abort(pc__digest_txn *t);
/* Make sure commit will not allocate. Returns PC_OK or PC_ERR_NOMEM. */
pc_err pc__digest_reserve(pc__digest_txn *t);
/* Apply the transaction to the cache; never fails after a reserve. The
 * nodes that left the document must still be allocated. */
void pc__digest_commit(pc__digest_txn *t);

/* pc__digest_open - start patching tracked object obj in place, from its
 * committed value. */
void pc__digest_open(const pc__digest_txn *t, const cJSON *obj,
                     pc__digest_obj *w);

/*
 * pc__digest_member - member key of w's object changed from old to val
 * (either may be NULL: added, deleted). old is a value the document held
 * when the transaction began; val is new to it (all of its containers are
 * hashed and queued). Returns PC_OK, PC_ERR_NOMEM or PC_ERR_INVALID.
 */
pc_err pc__digest_member(pc__digest_txn *t, pc__digest_obj *w, const char *key,
                         const cJSON *old, const cJSON *val);

/*
 * pc__digest_nested - member key of w's object is a tracked object that
 * was patched in place by a nested open/close (child, already closed).
 */
void pc__digest_nested(pc__digest_obj *w, const char *key,
                       const pc__digest_obj *before,
                       const pc__digest_obj *after);

/*
 * pc__digest_close - finish w: queue its new value and give its hash and
 * canonical length. Returns PC_OK or PC_ERR_NOMEM.
 */
pc_err pc__digest_close(pc__digest_txn *t, const pc__digest_obj *w,
                        uint64_t *hash, size_t *len);

#endif
