/*
 * digest.h - a document's structural checksum kept current under merge
 * patches (internal; shared by the room and the client library's replica).
 *
 * A digest caches, for every tracked container of one document (the root
 * and every object or array that is a member of a tracked object), its
 * member sum (objects) or hash (arrays), its canonical length and, for
 * objects, its member count, keyed by node address. Objects with at least
 * PC__DIGEST_WIDE members also get their members indexed by name, so that
 * finding the member a patch touches does not scan the object. A change is
 * accounted in a transaction: the tracked merge (merge.h) looks members up
 * through it and reports each member that leaves or enters an object and
 * each object it patches in place; the transaction recombines only those,
 * so its cost follows the patch, not the document. Nothing in the cache
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

/* Objects with at least this many members get a member index. */
#define PC__DIGEST_WIDE 16

/* One cached container. */
typedef struct pc__digest_slot {
    const cJSON *node; /* NULL: the slot is empty */
    uint64_t acc;      /* objects: sum of member contributions; arrays: hash */
    size_t len;        /* canonical length */
    uint32_t members;  /* objects: member count */
    bool indexed;      /* objects: members are in the member index */
} pc__digest_slot;

/* One indexed member; several may share obj and hash. */
typedef struct pc__digest_link {
    const cJSON *obj; /* NULL: the slot is empty */
    uint64_t hash;    /* of the member name (pc__canon_key) */
    const cJSON *member;
} pc__digest_link;

/* The cache and the member index: open addressing, linear probing,
 * power-of-two sizes. */
typedef struct pc__digest {
    pc__digest_slot *slots;
    size_t mask; /* slots - 1; 0 when nothing is allocated */
    size_t count;
    pc__digest_link *links;
    size_t link_mask;
    size_t link_count;
} pc__digest;

/* A member name's hash and canonical length, computed once per patch
 * member. */
typedef struct pc__digest_key {
    uint64_t hash;
    size_t len;
} pc__digest_key;

/* A member of an indexed object that changed: old left, val entered
 * (either may be NULL). */
typedef struct pc__digest_relink {
    const cJSON *obj;
    uint64_t hash;
    const cJSON *old;
    const cJSON *val;
} pc__digest_relink;

/* Pending work is kept inline up to this many items, so a small patch
 * allocates nothing. */
#define PC__DIGEST_INLINE 8

/* A growable array that starts in inline storage. */
typedef struct pc__digest_queue {
    void *v;
    size_t n;
    size_t cap;
} pc__digest_queue;

/* One change being accounted; lives on the caller's stack. */
typedef struct pc__digest_txn {
    pc__digest *d;
    pc__digest_queue put;    /* pc__digest_slot: patched and new containers */
    pc__digest_queue gone;   /* const cJSON *: subtrees that left */
    pc__digest_queue relink; /* pc__digest_relink */
    pc__digest_slot put_local[PC__DIGEST_INLINE];
    const cJSON *gone_local[PC__DIGEST_INLINE];
    pc__digest_relink relink_local[PC__DIGEST_INLINE];
} pc__digest_txn;

/* An object being patched: its running member sum, length and count. */
typedef struct pc__digest_obj {
    const cJSON *node;
    uint64_t sum;
    size_t lsum; /* sum of (member's canonical length + 1 for a comma) */
    uint32_t members;
    bool indexed; /* as committed */
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
 * container, the number of them, and the member index with the cache.
 * True when they all agree. For debug builds and tests.
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

/* pc__digest_key - hash and canonical length of a member name. */
void pc__digest_key_of(const char *name, pc__digest_key *k);

/*
 * pc__digest_find - w's member called name (k its key), or NULL. Valid
 * for a name the transaction has not changed yet: the member index
 * reflects the committed document.
 */
cJSON *pc__digest_find(const pc__digest_txn *t, const pc__digest_obj *w,
                       const char *name, const pc__digest_key *k);

/*
 * pc__digest_member - member name (k) of w's object changed from old to
 * val (either may be NULL: added, deleted). old is a value the document
 * held when the transaction began; val is new to it (all of its
 * containers are hashed and queued). Returns PC_OK, PC_ERR_NOMEM or
 * PC_ERR_INVALID.
 */
pc_err pc__digest_member(pc__digest_txn *t, pc__digest_obj *w,
                         const pc__digest_key *k, const cJSON *old,
                         const cJSON *val);

/*
 * pc__digest_nested - member k of w's object is a tracked object that was
 * patched in place by a nested open/close (child, already closed).
 */
void pc__digest_nested(pc__digest_obj *w, const pc__digest_key *k,
                       const pc__digest_obj *before,
                       const pc__digest_obj *after);

/*
 * pc__digest_close - finish w: queue its new value and give its hash and
 * canonical length (either may be NULL). Returns PC_OK or PC_ERR_NOMEM.
 */
pc_err pc__digest_close(pc__digest_txn *t, const pc__digest_obj *w,
                        uint64_t *hash, size_t *len);

#endif
