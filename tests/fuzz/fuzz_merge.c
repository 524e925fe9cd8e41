/*
 * fuzz_merge.c - libFuzzer target: RFC 7386 merge patch (merge.h) and the
 * room's one update path (pc_update_phase_data) on arbitrary state and
 * patch.
 *
 * Input: the state's JSON text, a newline, the patch's JSON text (no
 * newline: the whole input is the patch, applied to {}). Each part is
 * copied to an exact-size buffer and parsed with pc_json_parse and the
 * default limits; a part that does not parse ends the run.
 *
 * Properties:
 *  - pc_merge_patch equals a small reference implementation of the RFC
 *    written here, leaves state and patch byte-identical (canonical text
 *    before and after), and its result stays within the depth limit;
 *  - pc_merge_patch_inplace (object state and patch) gives the same tree;
 *    with the Nth allocation failing (N picked from the input's hash
 *    among the allocations a successful run makes) it either succeeds
 *    with that tree or fails with PC_ERR_NOMEM leaving the state
 *    byte-identical;
 *  - a room (a one-phase game without callbacks) given the state as its
 *    first patch and then the patch: on success seq grows by one, the
 *    data equals the merge and the whole state passes pc_json_check with
 *    the room's limits and its canonical size is within max_state_bytes;
 *    on failure seq and the canonical state are byte-identical.
 */
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/json.h"
#include "phasecast/merge.h"
#include "phasecast/room.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const pc_phase phases[] = {{.name = "p"}};
static const pc_game game = {
    .name = "fuzzmerge", .phases = phases, .nphases = 1};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_alloc_install();
    return 0;
}

/* The canonical text (pc_free), aborting on failure. */
static char *canon(const cJSON *doc, size_t *len)
{
    char *t = NULL;
    FZ_CHECK(pc_canon_print(doc, &t, len) == PC_OK, "canonical print failed");
    return t;
}

static void same_text(const cJSON *doc, const char *before, size_t blen,
                      const char *what)
{
    size_t alen;
    char *after = canon(doc, &alen);
    FZ_CHECK(alen == blen && memcmp(before, after, blen) == 0,
             "%s changed: %s -> %s", what, before, after);
    pc_free(after);
}

/* RFC 7386 MergePatch(target, patch) as the RFC's pseudocode says, on
 * copies. target may be NULL (absent). */
static cJSON *reference(const cJSON *target, const cJSON *patch)
{
    if (!cJSON_IsObject(patch)) {
        return cJSON_Duplicate(patch, 1);
    }
    cJSON *out = cJSON_IsObject(target) ? cJSON_Duplicate(target, 1)
                                        : cJSON_CreateObject();
    FZ_CHECK(out != NULL, "reference: out of memory");
    for (const cJSON *m = patch->child; m != NULL; m = m->next) {
        cJSON *old = cJSON_DetachItemFromObjectCaseSensitive(out, m->string);
        if (!cJSON_IsNull(m)) {
            cJSON *v = reference(old, m);
            FZ_CHECK(v != NULL, "reference: out of memory");
            cJSON_AddItemToObject(out, m->string, v);
        }
        cJSON_Delete(old);
    }
    return out;
}

static cJSON *parse_part(const uint8_t *p, size_t n)
{
    char *exact = fz_copy(p, n);
    cJSON *doc = NULL;
    (void)pc_json_parse(exact, n, NULL, &doc, NULL);
    free(exact);
    return doc;
}

static void check_inplace(const cJSON *state, const cJSON *patch,
                          const cJSON *want, uint64_t pick)
{
    cJSON *t = cJSON_Duplicate(state, 1);
    FZ_CHECK(t != NULL, "out of memory");
    fz_alloc_fail_at(0, 0);
    FZ_CHECK(pc_merge_patch_inplace(t, patch) == PC_OK,
             "in-place merge failed");
    size_t calls = fz_alloc_count;
    FZ_CHECK(pc_json_equal(t, want), "in-place merge differs from the RFC's");
    cJSON_Delete(t);
    if (calls == 0) {
        return;
    }
    /* The same merge with one allocation failing: all or nothing. */
    t = cJSON_Duplicate(state, 1);
    FZ_CHECK(t != NULL, "out of memory");
    size_t blen;
    char *before = canon(t, &blen);
    fz_alloc_fail_at(1 + pick % calls, (pick >> 32) & 1);
    pc_err rc = pc_merge_patch_inplace(t, patch);
    fz_alloc_fail_at(0, 0);
    if (rc == PC_OK) {
        FZ_CHECK(pc_json_equal(t, want), "merge under a failed allocation "
                                         "succeeded with another result");
    } else {
        FZ_CHECK(rc == PC_ERR_NOMEM, "in-place merge failed with %s",
                 pc_err_name(rc));
        same_text(t, before, blen, "state after a failed in-place merge");
    }
    pc_free(before);
    cJSON_Delete(t);
}

static void check_room(const cJSON *state, const cJSON *patch)
{
    pc_room_options o;
    pc_room_options_init(&o);
    o.id = "fz";
    o.seed_set = true;
    o.history_capacity = 4;
    pc_room *room = NULL;
    FZ_CHECK(pc_room_new(&game, &o, &room) == PC_OK, "pc_room_new failed");
    FZ_CHECK(pc_room_start(room) == PC_OK, "pc_room_start failed");
    (void)pc_update_phase_data(room, state, "the fuzzed state");
    uint64_t seq = pc_room_seq(room);
    size_t blen;
    char *before = canon(pc_room_state(room), &blen);
    cJSON *want = NULL;
    FZ_CHECK(pc_merge_patch(pc_room_data(room), patch, &want) == PC_OK,
             "merge failed");
    pc_err rc = pc_update_phase_data(room, patch, "the fuzzed patch");
    if (rc == PC_OK) {
        pc_json_limits lim;
        pc_json_limits_resolve(NULL, &lim);
        size_t len = 0;
        uint64_t sum;
        FZ_CHECK(pc_room_seq(room) == seq + 1, "seq %llu after %llu",
                 (unsigned long long)pc_room_seq(room),
                 (unsigned long long)seq);
        FZ_CHECK(pc_json_equal(pc_room_data(room), want),
                 "the room's data is not the merge");
        FZ_CHECK(pc_json_check(pc_room_state(room), &lim, NULL) == PC_OK,
                 "the room stored a state outside its limits");
        FZ_CHECK(pc_canon_checksum(pc_room_state(room), &sum, &len) == PC_OK &&
                     len <= lim.max_state_bytes &&
                     sum == pc_room_checksum(room),
                 "state size %zu or checksum wrong", len);
    } else {
        FZ_CHECK(pc_room_seq(room) == seq, "a failed update moved seq");
        same_text(pc_room_state(room), before, blen,
                  "room state after a failed update");
    }
    cJSON_Delete(want);
    pc_free(before);
    pc_room_free(room);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    cJSON *state, *patch;
    if (nl == NULL) {
        state = cJSON_CreateObject();
        patch = parse_part(data, size);
    } else {
        size_t n = (size_t)(nl - data);
        state = parse_part(data, n);
        patch = parse_part(nl + 1, size - n - 1);
    }
    if (state == NULL || patch == NULL) {
        cJSON_Delete(state);
        cJSON_Delete(patch);
        return 0;
    }
    size_t slen, plen;
    char *stext = canon(state, &slen), *ptext = canon(patch, &plen);

    cJSON *want = reference(state, patch), *got = NULL;
    FZ_CHECK(pc_merge_patch(state, patch, &got) == PC_OK, "merge failed");
    FZ_CHECK(pc_json_equal(got, want), "merge differs from the RFC's");
    same_text(state, stext, slen, "state after pc_merge_patch");
    same_text(patch, ptext, plen, "patch after pc_merge_patch");
    pc_json_limits lim;
    pc_json_limits_resolve(NULL, &lim);
    lim.max_nodes = SIZE_MAX; /* the sum of two documents' nodes */
    lim.max_bytes = lim.max_state_bytes = SIZE_MAX;
    FZ_CHECK(pc_json_check(got, &lim, NULL) == PC_OK,
             "a merge of two valid documents is invalid or too deep");
    cJSON *absent = NULL;
    FZ_CHECK(pc_merge_patch(NULL, patch, &absent) == PC_OK,
             "merge into nothing failed");
    cJSON_Delete(absent);

    if (cJSON_IsObject(state) && cJSON_IsObject(patch)) {
        check_inplace(state, patch, want, fz_hash(data, size));
        check_room(state, patch);
    }
    same_text(state, stext, slen, "state");
    same_text(patch, ptext, plen, "patch");
    pc_free(stext);
    pc_free(ptext);
    cJSON_Delete(got);
    cJSON_Delete(want);
    cJSON_Delete(state);
    cJSON_Delete(patch);
    return 0;
}
