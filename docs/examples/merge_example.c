/*
 * merge_example.c - RFC 7386 JSON Merge Patch on the caller's own trees:
 * the copying pc_merge_patch and the atomic in-place
 * pc_merge_patch_inplace. (A room's state is never patched this way; that
 * is pc_update_phase_data's job.) Each case is checked with pc_json_equal
 * against the result the RFC prescribes; the program exits non-zero on the
 * first mismatch.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/error.h"
#include "phasecast/json.h"
#include "phasecast/merge.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
            return 1;                                                          \
        }                                                                      \
    } while (0)

/* Parse trusted example text; NULL only when out of memory or mistyped. */
static cJSON *parse(const char *text)
{
    cJSON *doc = NULL;
    pc_json_parse(text, strlen(text), NULL, &doc, NULL);
    return doc;
}

/* Apply patch to target with pc_merge_patch and compare with expected. */
static int merges_to(const char *target, const char *patch,
                     const char *expected)
{
    cJSON *t = parse(target);
    cJSON *p = parse(patch);
    cJSON *want = parse(expected);
    cJSON *got = NULL;
    int ok = t != NULL && p != NULL && want != NULL &&
             pc_merge_patch(t, p, &got) == PC_OK && pc_json_equal(got, want);
    cJSON_Delete(t);
    cJSON_Delete(p);
    cJSON_Delete(want);
    cJSON_Delete(got);
    return ok;
}

int main(void)
{
    /* Members merge one by one; null deletes; arrays replace whole. */
    CHECK(merges_to("{\"a\": \"b\", \"c\": {\"d\": \"e\", \"f\": \"g\"}}",
                    "{\"a\": \"z\", \"c\": {\"f\": null}}",
                    "{\"a\": \"z\", \"c\": {\"d\": \"e\"}}"));
    CHECK(merges_to("{\"a\": [\"b\"]}", "{\"a\": [\"c\", \"d\"]}",
                    "{\"a\": [\"c\", \"d\"]}"));
    /* An object patch onto a non-object starts from {}, and its own nulls
     * vanish. */
    CHECK(merges_to("{\"e\": 1}", "{\"e\": {\"x\": 2, \"y\": null}}",
                    "{\"e\": {\"x\": 2}}"));
    /* A non-object patch replaces the whole target. */
    CHECK(merges_to("{\"a\": \"foo\"}", "[1, 2]", "[1, 2]"));
    /* Deleting what is not there is not an error. */
    CHECK(merges_to("{\"a\": 1}", "{\"b\": null}", "{\"a\": 1}"));

    /* A NULL target means "absent": the result is built from nothing. */
    cJSON *patch = parse("{\"score\": 3, \"gone\": null}");
    CHECK(patch != NULL);
    cJSON *fresh = NULL;
    CHECK(pc_merge_patch(NULL, patch, &fresh) == PC_OK);
    cJSON *want = parse("{\"score\": 3}");
    CHECK(want != NULL && pc_json_equal(fresh, want));
    cJSON_Delete(want);
    cJSON_Delete(fresh);

    /* In place: the target itself changes; the patch is left alone. */
    cJSON *doc = parse("{\"score\": 1, \"gone\": true, \"keep\": [1]}");
    CHECK(doc != NULL);
    CHECK(pc_merge_patch_inplace(doc, patch) == PC_OK);
    want = parse("{\"score\": 3, \"keep\": [1]}");
    CHECK(want != NULL && pc_json_equal(doc, want));
    cJSON_Delete(want);

    /* In place needs two objects: anything else is refused untouched. */
    cJSON *array = parse("[1]");
    CHECK(array != NULL);
    CHECK(pc_merge_patch_inplace(doc, array) == PC_ERR_INVALID);
    CHECK(pc_merge_patch_inplace(array, patch) == PC_ERR_INVALID);
    CHECK(pc_merge_patch(doc, NULL, &fresh) == PC_ERR_INVALID);

    cJSON_Delete(array);
    cJSON_Delete(doc);
    cJSON_Delete(patch);
    printf("merge_example: ok\n");
    return 0;
}
