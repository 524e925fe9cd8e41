/*
 * diff.c - leaf-level differences between two JSON documents, for people
 * and tools.
 *
 * The walk pairs object members by key (in canonical, bytewise key order)
 * and array elements by index, and reports a path wherever the pairing
 * stops: a member or element only on one side, a change of type, or two
 * different scalars. It is not a patch format and not a minimal edit
 * script: an element inserted at the front of an array shows as every later
 * index changing. It does not validate its inputs beyond refusing what it
 * cannot walk safely (NULL, nesting over PC_JSON_DEPTH_CEILING, object
 * members without keys).
 */
#include "phasecast/diff.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/alloc.h"
#include "phasecast/error.h"
#include "phasecast/json.h"

#define PATH_INITIAL_CAP 64

/* The JSON Pointer of the pair being compared, grown as needed; keys may be
 * long, so no fixed size fits every document. */
typedef struct path_buf {
    char *s;
    size_t len;
    size_t cap;
} path_buf;

/* State shared by one pc_json_diff call. */
typedef struct differ {
    path_buf path;
    cJSON *list; /* the result array being built */
} differ;

/* Append token to the path; *mark receives the length to restore. */
static pc_err path_push(path_buf *p, const char *token, size_t *mark)
{
    size_t need = p->len + 2; /* '/' and the NUL */
    for (const char *t = token; *t != '\0'; t++) {
        need += (*t == '~' || *t == '/') ? 2 : 1;
    }
    if (need > p->cap) {
        size_t cap = p->cap;
        while (cap < need) {
            cap *= 2;
        }
        char *s = pc_realloc(p->s, cap);
        if (s == NULL) {
            return PC_ERR_NOMEM;
        }
        p->s = s;
        p->cap = cap;
    }
    *mark = p->len;
    /* Room was made above, so this cannot fail. */
    (void)pc_json_pointer_append(p->s, p->cap, token);
    p->len = need - 1;
    return PC_OK;
}

static void path_pop(path_buf *p, size_t mark)
{
    p->len = mark;
    p->s[mark] = '\0';
}

/* Add a copy of v to entry under key, or fail leaving entry as it was. */
static pc_err add_copy(cJSON *entry, const char *key, const cJSON *v)
{
    cJSON *copy = cJSON_Duplicate(v, 1);
    if (copy == NULL) {
        return PC_ERR_NOMEM;
    }
    if (!cJSON_AddItemToObject(entry, key, copy)) {
        cJSON_Delete(copy);
        return PC_ERR_NOMEM;
    }
    return PC_OK;
}

/* Record one difference at the current path; old_v or new_v is NULL when
 * that side has nothing there. */
static pc_err report(differ *d, const cJSON *old_v, const cJSON *new_v)
{
    cJSON *entry = cJSON_CreateObject();
    if (entry == NULL) {
        return PC_ERR_NOMEM;
    }
    cJSON *path = cJSON_CreateString(d->path.s);
    pc_err err = PC_OK;
    if (path == NULL) {
        err = PC_ERR_NOMEM;
    } else if (!cJSON_AddItemToObject(entry, "path", path)) {
        cJSON_Delete(path);
        err = PC_ERR_NOMEM;
    }
    if (err == PC_OK && old_v != NULL) {
        err = add_copy(entry, "old", old_v);
    }
    if (err == PC_OK && new_v != NULL) {
        err = add_copy(entry, "new", new_v);
    }
    if (err == PC_OK && !cJSON_AddItemToArray(d->list, entry)) {
        err = PC_ERR_NOMEM;
    }
    if (err != PC_OK) {
        cJSON_Delete(entry);
    }
    return err;
}

/* Whether doc nests containers deeper than the ceiling, found without
 * recursing so that any tree cJSON can build is safe to ask about. */
static bool too_deep(const cJSON *doc)
{
    const cJSON *st[PC_JSON_DEPTH_CEILING + 1];
    int top = 0;
    const cJSON *cur = doc;
    for (;;) {
        if (cJSON_IsArray(cur) || cJSON_IsObject(cur)) {
            if (top + 1 > PC_JSON_DEPTH_CEILING) {
                return true;
            }
            if (cur->child != NULL) {
                st[top++] = cur->child;
                cur = cur->child;
                continue;
            }
        }
        while (top > 0 && st[top - 1]->next == NULL) {
            top--;
        }
        if (top == 0) {
            return false;
        }
        st[top - 1] = st[top - 1]->next;
        cur = st[top - 1];
    }
}

static int cmp_member(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a;
    const cJSON *y = *(const cJSON *const *)b;
    return strcmp(x->string, y->string);
}

/* Members of obj into v, sorted by key; false if one has no key. */
static bool sorted_members(const cJSON *obj, const cJSON **v, size_t n)
{
    size_t i = 0;
    for (const cJSON *m = obj->child; m != NULL; m = m->next) {
        if (m->string == NULL) {
            return false;
        }
        v[i++] = m;
    }
    qsort(v, n, sizeof(*v), cmp_member);
    return true;
}

static size_t count_children(const cJSON *c)
{
    size_t n = 0;
    for (const cJSON *m = c->child; m != NULL; m = m->next) {
        n++;
    }
    return n;
}

static pc_err diff_value(differ *d, const cJSON *a, const cJSON *b);

/* Report or descend into one member, under its key. */
static pc_err diff_member(differ *d, const char *key, const cJSON *a,
                          const cJSON *b)
{
    size_t mark;
    pc_err err = path_push(&d->path, key, &mark);
    if (err != PC_OK) {
        return err;
    }
    if (a != NULL && b != NULL) {
        err = diff_value(d, a, b);
    } else {
        err = report(d, a, b);
    }
    path_pop(&d->path, mark);
    return err;
}

static pc_err diff_object(differ *d, const cJSON *a, const cJSON *b)
{
    size_t na = count_children(a);
    size_t nb = count_children(b);
    if (na + nb == 0) {
        return PC_OK;
    }
    const cJSON **va = pc_malloc((na + nb) * sizeof(*va));
    if (va == NULL) {
        return PC_ERR_NOMEM;
    }
    const cJSON **vb = va + na;
    pc_err err = PC_OK;
    if (!sorted_members(a, va, na) || !sorted_members(b, vb, nb)) {
        err = PC_ERR_INVALID;
    }
    size_t i = 0;
    size_t j = 0;
    while (err == PC_OK && (i < na || j < nb)) {
        int c;
        if (i < na && j < nb) {
            c = strcmp(va[i]->string, vb[j]->string);
        } else {
            c = i < na ? -1 : 1;
        }
        if (c < 0) {
            err = diff_member(d, va[i]->string, va[i], NULL);
            i++;
        } else if (c > 0) {
            err = diff_member(d, vb[j]->string, NULL, vb[j]);
            j++;
        } else {
            err = diff_member(d, va[i]->string, va[i], vb[j]);
            i++;
            j++;
        }
    }
    pc_free(va);
    return err;
}

static pc_err diff_array(differ *d, const cJSON *a, const cJSON *b)
{
    const cJSON *x = a->child;
    const cJSON *y = b->child;
    pc_err err = PC_OK;
    for (size_t i = 0; err == PC_OK && (x != NULL || y != NULL); i++) {
        char token[24];
        snprintf(token, sizeof(token), "%zu", i);
        err = diff_member(d, token, x, y);
        x = x != NULL ? x->next : NULL;
        y = y != NULL ? y->next : NULL;
    }
    return err;
}

static pc_err diff_value(differ *d, const cJSON *a, const cJSON *b)
{
    int ta = a->type & 0xFF;
    int tb = b->type & 0xFF;
    if (ta == tb && ta == cJSON_Object) {
        return diff_object(d, a, b);
    }
    if (ta == tb && ta == cJSON_Array) {
        return diff_array(d, a, b);
    }
    if (pc_json_equal(a, b)) {
        return PC_OK;
    }
    return report(d, a, b);
}

pc_err pc_json_diff(const cJSON *a, const cJSON *b, cJSON **out)
{
    if (a == NULL || b == NULL || out == NULL) {
        return PC_ERR_INVALID;
    }
    /* Checked up front: the copies made for "old" and "new" use
     * cJSON_Duplicate, which recurses without a bound of its own. */
    if (too_deep(a) || too_deep(b)) {
        return PC_ERR_INVALID;
    }
    differ d;
    d.path.s = pc_malloc(PATH_INITIAL_CAP);
    if (d.path.s == NULL) {
        return PC_ERR_NOMEM;
    }
    d.path.s[0] = '\0';
    d.path.len = 0;
    d.path.cap = PATH_INITIAL_CAP;
    d.list = cJSON_CreateArray();
    pc_err err = d.list != NULL ? diff_value(&d, a, b) : PC_ERR_NOMEM;
    pc_free(d.path.s);
    if (err != PC_OK) {
        cJSON_Delete(d.list);
        return err;
    }
    *out = d.list;
    return PC_OK;
}
