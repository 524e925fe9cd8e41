/*
 * view.c - per-viewer projections of states and patches from a game's
 * private-path patterns.
 *
 * The filter walks a tree once, carrying the set of pattern positions that
 * are still alive at each object; a member that completes a pattern is
 * private, and is copied only for its owner. The same walk serves states
 * and merge patches, which is why a viewer's replica can be kept from
 * filtered patches alone. It builds copies; it does not stream, and its
 * cost is linear in the size of the filtered tree. Patterns never match
 * array elements.
 */
#include "phasecast/view.h"

#include <string.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"

/* A parsed segment of a pattern. */
typedef enum seg_kind {
    SEG_NAME,  /* a literal member name */
    SEG_ANY,   /* "*" */
    SEG_PLAYER /* "{player}": any member, whose name is the owner */
} seg_kind;

/* One live position in one pattern, as the walk descends. */
typedef struct cursor {
    const char *pattern; /* the pattern text, positioned at a segment */
    const char *owner;   /* name matched by {player} so far, or NULL */
} cursor;

/* The walk's state at one object: live cursors, bounded by the pattern
 * count (each pattern is live at most once per object: segments match a
 * given member name at most one way). */
typedef struct frame {
    cursor c[PC_VIEW_PATTERNS_MAX];
    int n;
} frame;

/* Read the segment at *p (just after its '/') into kind/name; returns the
 * position after it ('\0' or the next '/'). name is unescaped (~0 ~1). */
static const char *next_segment(const char *p, seg_kind *kind, char *name,
                                size_t cap)
{
    size_t n = 0;
    const char *q = p;
    while (*q != '\0' && *q != '/') {
        char ch = *q++;
        if (ch == '~' && (*q == '0' || *q == '1')) {
            ch = *q++ == '0' ? '~' : '/';
        }
        if (n + 1 < cap) {
            name[n++] = ch;
        }
    }
    name[n] = '\0';
    if (strcmp(name, "*") == 0 && q - p == 1) {
        *kind = SEG_ANY;
    } else if (strcmp(name, "{player}") == 0 && q - p == 8) {
        *kind = SEG_PLAYER;
    } else {
        *kind = SEG_NAME;
    }
    return q;
}

pc_err pc_view_check_game(const pc_game *game)
{
    if (game == NULL) {
        return PC_ERR_INVALID;
    }
    if (game->private_paths == NULL) {
        return PC_OK;
    }
    int count = 0;
    for (const char *const *pp = game->private_paths; *pp != NULL; pp++) {
        if (++count > PC_VIEW_PATTERNS_MAX || (*pp)[0] != '/') {
            return PC_ERR_INVALID;
        }
        int segs = 0;
        int players = 0;
        const char *p = *pp;
        while (*p == '/') {
            char name[256];
            seg_kind kind;
            const char *end = next_segment(p + 1, &kind, name, sizeof(name));
            if ((size_t)(end - p) > sizeof(name)) {
                return PC_ERR_INVALID;
            }
            segs++;
            players += kind == SEG_PLAYER;
            p = end;
        }
        if (*p != '\0' || segs > PC_VIEW_SEGMENTS_MAX || players > 1) {
            return PC_ERR_INVALID;
        }
    }
    return PC_OK;
}

bool pc_view_has_private(const pc_game *game)
{
    return game != NULL && game->private_paths != NULL &&
           game->private_paths[0] != NULL;
}

/* What one member is for the viewer, given the parent's cursors; fills the
 * member's own frame for the walk below it. */
typedef enum verdict { PUBLIC, OWNED, HIDDEN } verdict;

static verdict judge(const frame *parent, const char *key,
                     const pc_viewer *viewer, frame *child, bool *private_seen)
{
    verdict v = PUBLIC;
    child->n = 0;
    for (int i = 0; i < parent->n; i++) {
        const cursor *c = &parent->c[i];
        char name[256];
        seg_kind kind;
        const char *end =
            next_segment(c->pattern + 1, &kind, name, sizeof(name));
        if (kind == SEG_NAME && strcmp(name, key) != 0) {
            continue;
        }
        const char *owner = kind == SEG_PLAYER ? key : c->owner;
        if (*end == '\0') {
            *private_seen = true;
            /* The game master owns every private member. */
            bool mine = viewer->kind == PC_VIEWER_GM ||
                        (viewer->kind == PC_VIEWER_PLAYER && owner != NULL &&
                         strcmp(owner, viewer->player) == 0);
            /* Any pattern that hides the member from this viewer wins. */
            if (!mine) {
                v = HIDDEN;
            } else if (v == PUBLIC) {
                v = OWNED;
            }
            continue;
        }
        child->c[child->n].pattern = end;
        child->c[child->n].owner = owner;
        child->n++;
    }
    return v;
}

/* Copy obj into out (an empty object) without the members the viewer may
 * not see. Recursion depth is bounded by the pattern length, because only
 * members with live cursors are descended into; the rest are copied. */
static bool filter_object(const cJSON *obj, const frame *f,
                          const pc_viewer *viewer, cJSON *out,
                          bool *private_seen)
{
    for (const cJSON *m = obj->child; m != NULL; m = m->next) {
        frame child;
        verdict v = judge(f, m->string, viewer, &child, private_seen);
        if (v == HIDDEN) {
            continue;
        }
        cJSON *copy;
        if (child.n > 0 && cJSON_IsObject(m)) {
            copy = cJSON_CreateObject();
            if (copy == NULL ||
                !filter_object(m, &child, viewer, copy, private_seen)) {
                cJSON_Delete(copy);
                return false;
            }
        } else {
            copy = cJSON_Duplicate(m, 1);
            if (copy == NULL) {
                return false;
            }
        }
        if (!cJSON_AddItemToObject(out, m->string, copy)) {
            cJSON_Delete(copy);
            return false;
        }
    }
    return true;
}

static void root_frame(const pc_game *game, frame *f)
{
    f->n = 0;
    if (game->private_paths == NULL) {
        return;
    }
    for (const char *const *pp = game->private_paths;
         *pp != NULL && f->n < PC_VIEW_PATTERNS_MAX; pp++) {
        f->c[f->n].pattern = *pp;
        f->c[f->n].owner = NULL;
        f->n++;
    }
}

/* True for a viewer the functions below accept. */
static bool viewer_ok(const pc_viewer *v)
{
    return v != NULL &&
           (v->kind == PC_VIEWER_PUBLIC || v->kind == PC_VIEWER_GM ||
            (v->kind == PC_VIEWER_PLAYER && v->player != NULL));
}

pc_viewer pc_viewer_of(const char *player)
{
    pc_viewer v = {player != NULL ? PC_VIEWER_PLAYER : PC_VIEWER_PUBLIC,
                   player};
    return v;
}

pc_err pc_view_patch_as(const pc_game *game, const cJSON *patch,
                        const pc_viewer *viewer, cJSON **out, bool *private_out)
{
    if (game == NULL || !cJSON_IsObject(patch) || out == NULL ||
        !viewer_ok(viewer)) {
        return PC_ERR_INVALID;
    }
    frame f;
    root_frame(game, &f);
    bool seen = false;
    cJSON *res = cJSON_CreateObject();
    if (res == NULL || !filter_object(patch, &f, viewer, res, &seen)) {
        cJSON_Delete(res);
        return PC_ERR_NOMEM;
    }
    if (private_out != NULL) {
        *private_out = seen;
    }
    *out = res;
    return PC_OK;
}

pc_err pc_view_patch(const pc_game *game, const cJSON *patch,
                     const char *player, cJSON **out, bool *private_out)
{
    pc_viewer v = pc_viewer_of(player);
    return pc_view_patch_as(game, patch, &v, out, private_out);
}

pc_err pc_view_state_as(const pc_game *game, const cJSON *doc,
                        const pc_viewer *viewer, cJSON **out)
{
    if (game == NULL || !cJSON_IsObject(doc) || out == NULL) {
        return PC_ERR_INVALID;
    }
    const cJSON *phase = cJSON_GetObjectItemCaseSensitive(doc, "phase");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(doc, "data");
    if (!cJSON_IsString(phase) || !cJSON_IsObject(data)) {
        return PC_ERR_INVALID;
    }
    cJSON *view = NULL;
    bool seen = false;
    pc_err rv = pc_view_patch_as(game, data, viewer, &view, &seen);
    if (rv != PC_OK) {
        return rv;
    }
    cJSON *res = cJSON_CreateObject();
    cJSON *ph = cJSON_CreateString(phase->valuestring);
    if (res == NULL || ph == NULL || !cJSON_AddItemToObject(res, "phase", ph)) {
        cJSON_Delete(ph);
        goto nomem;
    }
    if (!cJSON_AddItemToObject(res, "data", view)) {
        goto nomem;
    }
    *out = res;
    return PC_OK;
nomem:
    cJSON_Delete(view);
    cJSON_Delete(res);
    return PC_ERR_NOMEM;
}

pc_err pc_view_state(const pc_game *game, const cJSON *doc, const char *player,
                     cJSON **out)
{
    pc_viewer v = pc_viewer_of(player);
    return pc_view_state_as(game, doc, &v, out);
}

pc_err pc_view_checksum_as(const pc_game *game, const cJSON *doc,
                           const pc_viewer *viewer, uint64_t *sum)
{
    if (!viewer_ok(viewer)) {
        return PC_ERR_INVALID;
    }
    /* The game master's view is the state itself. */
    if (!pc_view_has_private(game) || viewer->kind == PC_VIEWER_GM) {
        return pc_canon_checksum(doc, sum, NULL);
    }
    cJSON *view = NULL;
    pc_err rv = pc_view_state_as(game, doc, viewer, &view);
    if (rv == PC_OK) {
        rv = pc_canon_checksum(view, sum, NULL);
        cJSON_Delete(view);
    }
    return rv;
}

pc_err pc_view_checksum(const pc_game *game, const cJSON *doc,
                        const char *player, uint64_t *sum)
{
    pc_viewer v = pc_viewer_of(player);
    return pc_view_checksum_as(game, doc, &v, sum);
}

bool pc_view_event_as(const pc_event *ev, const pc_viewer *viewer)
{
    if (ev == NULL || ev->audience == PC_AUDIENCE_PUBLIC) {
        return true;
    }
    if (!viewer_ok(viewer)) {
        return false;
    }
    /* Like a private member: its owner sees it, and the game master sees
     * every one; one without an owner (the game master's) no player
     * does. */
    if (viewer->kind == PC_VIEWER_GM) {
        return true;
    }
    return ev->audience == PC_AUDIENCE_PLAYER && ev->player != NULL &&
           viewer->kind == PC_VIEWER_PLAYER &&
           strcmp(ev->player, viewer->player) == 0;
}

bool pc_view_event(const pc_event *ev, const char *player)
{
    pc_viewer v = pc_viewer_of(player);
    return pc_view_event_as(ev, &v);
}
