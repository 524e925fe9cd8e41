/*
 * timeline_path.c - questions about one path of a room's recorded history
 * (see phasecast/timeline.h): did the change at seq touch it
 * (pc_timeline_touches), which change last gave it a value
 * (pc_timeline_find), which change last changed it (pc_timeline_blame).
 *
 * A path is a JSON Pointer into the whole state document ("/phase",
 * "/data/...", "" for everything). Whether a change touched it is read
 * from the change's merge patch alone; find and blame walk back from the
 * newest change over those that touched the path and compare the values
 * before and after each, from pc_timeline_state_at. Split from timeline.c,
 * which holds the sources and the states.
 */
#include "phasecast/timeline.h"

#include <string.h>

#include "phasecast/json.h"
#include "timeline_impl.h"

/* Whether p is a well-formed JSON Pointer. */
static bool pointer_ok(const char *p)
{
    if (p == NULL || (*p != '\0' && *p != '/')) {
        return false;
    }
    for (; *p != '\0'; p++) {
        if (*p == '~' && p[1] != '0' && p[1] != '1') {
            return false;
        }
    }
    return true;
}

/* Copy the next reference token of *p (unescaped) into tok; advance. */
static bool next_token(const char **p, char *tok, size_t cap)
{
    if (**p != '/') {
        return false;
    }
    (*p)++;
    size_t n = 0;
    while (**p != '\0' && **p != '/') {
        char c = **p;
        if (c == '~') {
            (*p)++;
            c = **p == '0' ? '~' : '/';
        }
        if (n + 1 >= cap) {
            return false;
        }
        tok[n++] = c;
        (*p)++;
    }
    tok[n] = '\0';
    return true;
}

bool pc_timeline_touches(pc_timeline *tl, uint64_t seq, const char *pointer)
{
    const pc__record *r = pc__timeline_rec_at(tl, seq);
    if (r == NULL || !pointer_ok(pointer)) {
        return false;
    }
    bool transition = r->change.kind == PC_CHANGE_TRANSITION;
    const cJSON *patch = r->change.patch;
    if (pointer[0] == '\0') {
        return transition || cJSON_GetArraySize(patch) > 0;
    }
    const char *p = pointer;
    char tok[PC_CHANGELOG_PATH_MAX];
    if (!next_token(&p, tok, sizeof(tok))) {
        return false;
    }
    if (strcmp(tok, "phase") == 0) {
        return transition && *p == '\0';
    }
    if (strcmp(tok, "data") != 0) {
        return false;
    }
    const cJSON *node = patch;
    while (*p != '\0') {
        if (!cJSON_IsObject(node)) {
            return true; /* an ancestor replaced wholesale */
        }
        if (!next_token(&p, tok, sizeof(tok))) {
            return false;
        }
        node = cJSON_GetObjectItemCaseSensitive(node, tok);
        if (node == NULL) {
            return false;
        }
    }
    return node != patch || cJSON_GetArraySize(patch) > 0;
}

/* The value at pointer right after seq (a new tree, or NULL if absent). */
static pc_err value_at(pc_timeline *tl, uint64_t seq, const char *pointer,
                       cJSON **out)
{
    cJSON *doc = NULL;
    pc_err rv = pc_timeline_state_at(tl, seq, &doc);
    if (rv != PC_OK) {
        return rv;
    }
    const cJSON *v = pc_json_pointer_get(doc, pointer);
    *out = NULL;
    if (v != NULL) {
        *out = cJSON_Duplicate(v, true);
        rv = *out != NULL ? PC_OK : PC_ERR_NOMEM;
    }
    cJSON_Delete(doc);
    return rv;
}

/* Walk back from at_or_before over the changes that touch pointer and
 * return the first whose before and after values pass the test. */
static pc_err search(pc_timeline *tl, const char *pointer, const cJSON *value,
                     bool find, uint64_t at_or_before, uint64_t *seq_out)
{
    if (pointer == NULL || seq_out == NULL || !pointer_ok(pointer)) {
        return PC_ERR_INVALID;
    }
    uint64_t s = at_or_before == 0 || at_or_before > tl->rp.seq ? tl->rp.seq
                                                                : at_or_before;
    for (; s > tl->first; s--) {
        if (!pc_timeline_touches(tl, s, pointer)) {
            continue;
        }
        cJSON *before = NULL;
        cJSON *after = NULL;
        pc_err rv = value_at(tl, s, pointer, &after);
        if (rv == PC_OK) {
            rv = value_at(tl, s - 1, pointer, &before);
        }
        bool hit = false;
        if (rv == PC_OK) {
            hit = find ? pc_json_equal(after, value) &&
                             !pc_json_equal(before, value)
                       : !pc_json_equal(before, after);
        }
        cJSON_Delete(before);
        cJSON_Delete(after);
        if (rv != PC_OK) {
            return rv;
        }
        if (hit) {
            *seq_out = s;
            return PC_OK;
        }
    }
    return PC_ERR_NOT_FOUND;
}

pc_err pc_timeline_find(pc_timeline *tl, const char *pointer,
                        const cJSON *value, uint64_t at_or_before,
                        uint64_t *seq_out)
{
    return search(tl, pointer, value, true, at_or_before, seq_out);
}

pc_err pc_timeline_blame(pc_timeline *tl, const char *pointer,
                         uint64_t at_or_before, uint64_t *seq_out)
{
    return search(tl, pointer, NULL, false, at_or_before, seq_out);
}
