/*
 * merge.c - RFC 7386 JSON Merge Patch: the copying form for callers' trees
 * and the tracked in-place form the room's update path is built on.
 *
 * The tracked form allocates everything a member needs before touching the
 * target, then relinks nodes with pointer moves only, so at any failure
 * point the inverse built so far restores the target exactly. Patches are
 * not validated here (json.c does that); recursion is bounded by the
 * patch's depth, which callers limit.
 */
#include "phasecast/merge.h"

#include <string.h>

#include "phasecast/alloc.h"
#include "digest.h"
#include "merge.h"

void pc__json_link(cJSON *parent, cJSON *item)
{
    item->next = NULL;
    if (parent->child == NULL) {
        parent->child = item;
        item->prev = item; /* cJSON keeps the tail in child->prev */
        return;
    }
    cJSON *tail = parent->child->prev;
    tail->next = item;
    item->prev = tail;
    parent->child->prev = item;
}

void pc__json_swap(cJSON *parent, cJSON *old, cJSON *item)
{
    item->next = old->next;
    item->prev = old->prev;
    if (old->next != NULL) {
        old->next->prev = item;
    } else {
        parent->child->prev = item; /* old was the tail */
    }
    if (parent->child == old) {
        if (item->prev == old) {
            item->prev = item; /* old was the only child */
        }
        parent->child = item;
    } else {
        item->prev->next = item;
    }
    old->next = NULL;
    old->prev = NULL;
}

/* Put item right after prev among parent's children (first if prev is
 * NULL); never allocates. */
static void json_insert_after(cJSON *parent, cJSON *prev, cJSON *item)
{
    if (parent->child == NULL) {
        pc__json_link(parent, item);
    } else if (prev == NULL) {
        item->next = parent->child;
        item->prev = parent->child->prev; /* the tail */
        parent->child->prev = item;
        parent->child = item;
    } else {
        item->prev = prev;
        item->next = prev->next;
        if (prev->next != NULL) {
            prev->next->prev = item;
        } else {
            parent->child->prev = item;
        }
        prev->next = item;
    }
}

static size_t count_nulls(const cJSON *patch)
{
    size_t n = 0;
    for (const cJSON *p = patch->child; p != NULL; p = p->next) {
        if (cJSON_IsNull(p)) {
            n++;
        } else if (cJSON_IsObject(p)) {
            n += count_nulls(p);
        }
    }
    return n;
}

pc_err pc__merge_log_init(pc__merge_log *log, const cJSON *patch)
{
    log->n = 0;
    log->cap = count_nulls(patch);
    log->prev = NULL;
    if (log->cap > 0) {
        log->prev = pc_malloc(log->cap * sizeof(*log->prev));
        if (log->prev == NULL) {
            log->cap = 0;
            return PC_ERR_NOMEM;
        }
    }
    return PC_OK;
}

void pc__merge_log_fini(pc__merge_log *log)
{
    pc_free(log->prev);
    log->prev = NULL;
    log->n = 0;
    log->cap = 0;
}

cJSON *pc__json_named(cJSON *node, const char *key)
{
    if (node == NULL) {
        return NULL;
    }
    node->string = pc_strdup(key);
    if (node->string == NULL) {
        cJSON_Delete(node);
        return NULL;
    }
    return node;
}

cJSON *pc__json_keyed(int type, const char *key)
{
    return pc__json_named(
        type == cJSON_Object ? cJSON_CreateObject() : cJSON_CreateNull(), key);
}

bool pc__merge_into(cJSON *target, const cJSON *patch)
{
    for (const cJSON *p = patch->child; p != NULL; p = p->next) {
        cJSON *cur = cJSON_GetObjectItemCaseSensitive(target, p->string);
        if (cJSON_IsNull(p)) {
            if (cur != NULL) {
                cJSON_Delete(cJSON_DetachItemViaPointer(target, cur));
            }
            continue;
        }
        if (cJSON_IsObject(p)) {
            if (!cJSON_IsObject(cur)) {
                cJSON *obj = pc__json_keyed(cJSON_Object, p->string);
                if (obj == NULL) {
                    return false;
                }
                if (cur != NULL) {
                    pc__json_swap(target, cur, obj);
                    cJSON_Delete(cur);
                } else {
                    pc__json_link(target, obj);
                }
                cur = obj;
            }
            if (!pc__merge_into(cur, p)) {
                return false;
            }
            continue;
        }
        cJSON *copy = cJSON_Duplicate(p, 1); /* keeps the member name */
        if (copy == NULL) {
            return false;
        }
        if (cur != NULL) {
            pc__json_swap(target, cur, copy);
            cJSON_Delete(cur);
        } else {
            pc__json_link(target, copy);
        }
    }
    return true;
}

pc_err pc_merge_patch(const cJSON *target, const cJSON *patch, cJSON **out)
{
    if (patch == NULL || out == NULL) {
        return PC_ERR_INVALID;
    }
    cJSON *res;
    if (!cJSON_IsObject(patch)) {
        res = cJSON_Duplicate(patch, 1);
        if (res == NULL) {
            return PC_ERR_NOMEM;
        }
        /* A whole-document replacement is not a member of anything. */
        if (res->string != NULL && !(res->type & cJSON_StringIsConst)) {
            pc_free(res->string);
        }
        res->string = NULL;
        *out = res;
        return PC_OK;
    }
    res = cJSON_IsObject(target) ? cJSON_Duplicate(target, 1)
                                 : cJSON_CreateObject();
    if (res == NULL) {
        return PC_ERR_NOMEM;
    }
    if (res->string != NULL && !(res->type & cJSON_StringIsConst)) {
        pc_free(res->string);
        res->string = NULL;
    }
    if (!pc__merge_into(res, patch)) {
        cJSON_Delete(res);
        return PC_ERR_NOMEM;
    }
    *out = res;
    return PC_OK;
}

void pc__doc_patch_init(pc__doc_patch *dp, const cJSON *patch,
                        const char *phase)
{
    memset(dp, 0, sizeof(*dp));
    dp->root.type = cJSON_Object;
    dp->root.child = &dp->data;
    dp->data.type = cJSON_Object;
    dp->data.string = (char *)"data";
    /* Borrowed: the merge only reads patches. */
    dp->data.child = patch != NULL ? patch->child : NULL;
    dp->data.prev = &dp->data; /* cJSON keeps the tail in child->prev */
    if (phase != NULL) {
        dp->phase.type = cJSON_String;
        dp->phase.string = (char *)"phase";
        dp->phase.valuestring = (char *)phase;
        dp->phase.prev = &dp->data;
        dp->data.next = &dp->phase;
        dp->data.prev = &dp->phase;
    }
}

/* What a tracked apply carries down the patch. */
typedef struct tracker {
    pc__merge_log *log;
    pc__digest_txn *tx; /* NULL: no checksum to keep */
} tracker;

static pc_err track_object(cJSON *target, const cJSON *patch, cJSON *undo,
                           tracker *tk, pc__digest_obj *w);

/* Apply one member p of a patch to target, recording its inverse in undo
 * and, with a digest (w), the member's change. Everything that can fail
 * happens before target is touched. */
static pc_err track_member(cJSON *target, const cJSON *p, cJSON *undo,
                           tracker *tk, pc__digest_obj *w)
{
    /* With a digest, the member name is hashed once, and wide objects
     * find the member through the digest's index instead of a scan. */
    pc__digest_key k;
    cJSON *cur;
    if (w != NULL) {
        pc__digest_key_of(p->string, &k);
        cur = pc__digest_find(tk->tx, w, p->string, &k);
    } else {
        cur = cJSON_GetObjectItemCaseSensitive(target, p->string);
    }
    pc_err err;
    if (cJSON_IsNull(p)) {
        if (cur != NULL) {
            if (w != NULL &&
                (err = pc__digest_member(tk->tx, w, &k, cur, NULL)) != PC_OK) {
                return err;
            }
            /* The deleted node itself becomes the inverse entry; the log
             * remembers where it stood (cap counted every null). */
            tk->log->prev[tk->log->n++] =
                cur == target->child ? NULL : cur->prev;
            pc__json_link(undo, cJSON_DetachItemViaPointer(target, cur));
        }
        return PC_OK;
    }
    if (cJSON_IsObject(p) && cJSON_IsObject(cur)) {
        cJSON *nested = pc__json_keyed(cJSON_Object, p->string);
        if (nested == NULL) {
            return PC_ERR_NOMEM;
        }
        pc__json_link(undo, nested);
        if (w == NULL) {
            return track_object(cur, p, nested, tk, NULL);
        }
        pc__digest_obj before;
        pc__digest_obj after;
        pc__digest_open(tk->tx, cur, &before);
        after = before;
        err = track_object(cur, p, nested, tk, &after);
        if (err == PC_OK) {
            err = pc__digest_close(tk->tx, &after, NULL, NULL);
        }
        if (err == PC_OK) {
            pc__digest_nested(w, &k, &before, &after);
        }
        return err;
    }
    cJSON *val;
    if (cJSON_IsObject(p)) {
        /* An object patch onto a non-object starts from {} (RFC 7386),
         * which also drops the patch's own nulls. */
        val = pc__json_keyed(cJSON_Object, p->string);
        if (val != NULL && !pc__merge_into(val, p)) {
            cJSON_Delete(val);
            val = NULL;
        }
    } else {
        val = cJSON_Duplicate(p, 1);
    }
    if (val == NULL) {
        return PC_ERR_NOMEM;
    }
    if (w != NULL &&
        (err = pc__digest_member(tk->tx, w, &k, cur, val)) != PC_OK) {
        cJSON_Delete(val);
        return err;
    }
    if (cur != NULL) {
        pc__json_swap(target, cur, val);
        pc__json_link(undo, cur);
        return PC_OK;
    }
    cJSON *absent = pc__json_keyed(cJSON_NULL, p->string);
    if (absent == NULL) {
        cJSON_Delete(val);
        return PC_ERR_NOMEM;
    }
    absent->type |= PC__MERGE_ABSENT;
    pc__json_link(target, val);
    pc__json_link(undo, absent);
    return PC_OK;
}

static pc_err track_object(cJSON *target, const cJSON *patch, cJSON *undo,
                           tracker *tk, pc__digest_obj *w)
{
    for (const cJSON *q = patch->child; q != NULL; q = q->next) {
        pc_err err = track_member(target, q, undo, tk, w);
        if (err != PC_OK) {
            return err;
        }
    }
    return PC_OK;
}

void pc__merge_apply_consume(cJSON *target, cJSON *inv, pc__merge_log *log)
{
    cJSON *u;
    /* Undo in reverse order of application, so that a member patched twice
     * within one patch (impossible after validation, harmless here) ends
     * with its oldest value. */
    while ((u = inv->child) != NULL) {
        u = inv->child->prev;
        cJSON_DetachItemViaPointer(inv, u);
        cJSON *cur = cJSON_GetObjectItemCaseSensitive(target, u->string);
        if (cJSON_IsNull(u) && (u->type & PC__MERGE_ABSENT)) {
            if (cur != NULL) {
                cJSON_Delete(cJSON_DetachItemViaPointer(target, cur));
            }
            cJSON_Delete(u);
        } else if (cJSON_IsObject(u) && cJSON_IsObject(cur)) {
            pc__merge_apply_consume(cur, u, log);
            cJSON_Delete(u);
        } else if (cur != NULL) {
            pc__json_swap(target, cur, u);
            cJSON_Delete(cur);
        } else if (log != NULL && log->n > 0) {
            json_insert_after(target, log->prev[--log->n], u);
        } else {
            pc__json_link(target, u);
        }
    }
}

pc_err pc__merge_apply_tracked(cJSON *target, const cJSON *patch, cJSON *undo,
                               pc__merge_log *log, pc__digest_txn *tx,
                               uint64_t *sum, size_t *len)
{
    tracker tk = {log, tx};
    pc__digest_obj w;
    if (tx != NULL) {
        pc__digest_open(tx, target, &w);
    }
    pc_err err = track_object(target, patch, undo, &tk, tx != NULL ? &w : NULL);
    if (err == PC_OK && tx != NULL) {
        err = pc__digest_close(tx, &w, sum, len);
    }
    if (err != PC_OK) {
        pc__merge_apply_consume(target, undo, log);
    }
    return err;
}

pc_err pc_merge_patch_inplace(cJSON *target, const cJSON *patch)
{
    if (!cJSON_IsObject(target) || !cJSON_IsObject(patch)) {
        return PC_ERR_INVALID;
    }
    pc__merge_log log;
    if (pc__merge_log_init(&log, patch) != PC_OK) {
        return PC_ERR_NOMEM;
    }
    cJSON *undo = cJSON_CreateObject();
    if (undo == NULL) {
        pc__merge_log_fini(&log);
        return PC_ERR_NOMEM;
    }
    pc_err rv =
        pc__merge_apply_tracked(target, patch, undo, &log, NULL, NULL, NULL);
    cJSON_Delete(undo);
    pc__merge_log_fini(&log);
    return rv;
}
