/*
 * test_merge.c - RFC 7386 JSON Merge Patch: every example of the RFC's
 * Appendix A through both the copying and the in-place form, inputs left
 * untouched, and atomicity of the in-place form under allocation failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/error.h"
#include "phasecast/json.h"
#include "phasecast/merge.h"
#include "testalloc.h"

static cJSON sentinel_node;
#define SENTINEL (&sentinel_node)

/* One row of RFC 7386 Appendix A. */
typedef struct merge_case {
    const char *target;
    const char *patch;
    const char *result;
} merge_case;

static const merge_case rfc7386[] = {
    {"{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
    {"{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}"},
    {"{\"a\":\"b\"}", "{\"a\":null}", "{}"},
    {"{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}"},
    {"{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
    {"{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}"},
    {"{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}",
     "{\"a\":{\"b\":\"d\"}}"},
    {"{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}"},
    {"[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]"},
    {"{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]"},
    {"{\"a\":\"foo\"}", "null", "null"},
    {"{\"a\":\"foo\"}", "\"bar\"", "\"bar\""},
    {"{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}"},
    {"[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}"},
    {"{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}"},
};

#define N_CASES (sizeof(rfc7386) / sizeof(rfc7386[0]))

static int setup(void **state)
{
    (void)state;
    testalloc_install();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    testalloc_uninstall();
    return 0;
}

/* Parsed with cJSON directly: {"e":null} is not a valid room state, but
 * the RFC's examples are still valid merge-patch inputs. */
static cJSON *parse(const char *text)
{
    cJSON *doc = cJSON_Parse(text);
    assert_non_null(doc);
    return doc;
}

static char *canon(const cJSON *doc)
{
    char *text = NULL;
    assert_int_equal(pc_canon_print(doc, &text, NULL), PC_OK);
    return text;
}

/* cJSON's own order-preserving text, to see member order as well. */
static char *raw_text(const cJSON *doc)
{
    char *text = cJSON_PrintUnformatted(doc);
    assert_non_null(text);
    return text;
}

static void assert_same_json(const cJSON *got, const char *expected)
{
    cJSON *want = parse(expected);
    if (!pc_json_equal(got, want)) {
        char *g = canon(got);
        print_error("got %s, want %s\n", g, expected);
        pc_free(g);
    }
    assert_true(pc_json_equal(got, want));
    cJSON_Delete(want);
}

static void test_merge_patch_matches_every_rfc7386_example(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_CASES; i++) {
        cJSON *target = parse(rfc7386[i].target);
        cJSON *patch = parse(rfc7386[i].patch);
        cJSON *out = NULL;
        assert_int_equal(pc_merge_patch(target, patch, &out), PC_OK);
        assert_same_json(out, rfc7386[i].result);
        assert_null(out->string);
        cJSON_Delete(out);
        cJSON_Delete(target);
        cJSON_Delete(patch);
    }
    assert_int_equal(testalloc_live(), 0);
}

static void
test_merge_patch_inplace_matches_rfc7386_object_examples(void **state)
{
    (void)state;
    size_t applied = 0;
    for (size_t i = 0; i < N_CASES; i++) {
        cJSON *target = parse(rfc7386[i].target);
        cJSON *patch = parse(rfc7386[i].patch);
        if (cJSON_IsObject(target) && cJSON_IsObject(patch)) {
            assert_int_equal(pc_merge_patch_inplace(target, patch), PC_OK);
            assert_same_json(target, rfc7386[i].result);
            applied++;
        } else {
            char *before = raw_text(target);
            assert_int_equal(pc_merge_patch_inplace(target, patch),
                             PC_ERR_INVALID);
            char *after = raw_text(target);
            assert_string_equal(before, after);
            cJSON_free(before);
            cJSON_free(after);
        }
        cJSON_Delete(target);
        cJSON_Delete(patch);
    }
    assert_int_equal(applied, 10); /* rows 9-12 and 14 are not object/object */
    assert_int_equal(testalloc_live(), 0);
}

static void test_merge_patch_leaves_target_and_patch_untouched(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_CASES; i++) {
        cJSON *target = parse(rfc7386[i].target);
        cJSON *patch = parse(rfc7386[i].patch);
        char *t0 = raw_text(target);
        char *p0 = raw_text(patch);
        cJSON *out = NULL;
        assert_int_equal(pc_merge_patch(target, patch, &out), PC_OK);
        char *t1 = raw_text(target);
        char *p1 = raw_text(patch);
        assert_string_equal(t0, t1);
        assert_string_equal(p0, p1);
        cJSON_free(t0);
        cJSON_free(t1);
        cJSON_free(p0);
        cJSON_free(p1);
        cJSON_Delete(out);
        cJSON_Delete(target);
        cJSON_Delete(patch);
    }
    assert_int_equal(testalloc_live(), 0);
}

static void test_merge_patch_treats_null_target_as_absent(void **state)
{
    (void)state;
    cJSON *patch = parse("{\"a\":1,\"b\":null,\"c\":{\"d\":null}}");
    cJSON *out = NULL;
    assert_int_equal(pc_merge_patch(NULL, patch, &out), PC_OK);
    assert_same_json(out, "{\"a\":1,\"c\":{}}");
    cJSON_Delete(out);
    cJSON *scalar = parse("3");
    assert_int_equal(pc_merge_patch(NULL, scalar, &out), PC_OK);
    assert_same_json(out, "3");
    cJSON_Delete(out);
    cJSON_Delete(scalar);
    cJSON_Delete(patch);
    assert_int_equal(testalloc_live(), 0);
}

static void test_merge_patch_rejects_missing_patch(void **state)
{
    (void)state;
    cJSON *target = parse("{\"a\":1}");
    cJSON *out = SENTINEL;
    assert_int_equal(pc_merge_patch(target, NULL, &out), PC_ERR_INVALID);
    assert_ptr_equal(out, SENTINEL);
    assert_int_equal(pc_merge_patch_inplace(target, NULL), PC_ERR_INVALID);
    assert_int_equal(pc_merge_patch_inplace(NULL, target), PC_ERR_INVALID);
    cJSON_Delete(target);
}

/* A patch that deletes, replaces, adds, merges into an object, turns an
 * array into an object and drops nulls inside a new object. */
static const char *rich_target =
    "{\"a\":\"b\",\"keep\":1,\"n\":{\"x\":1,\"y\":2},"
    "\"del\":true,\"z\":[1,2],\"last\":0}";
static const char *rich_patch = "{\"a\":\"c\",\"del\":null,\"n\":{\"x\":null,"
                                "\"w\":[3]},\"new\":{\"q\":null,\"r\":1},"
                                "\"z\":{\"k\":1,\"m\":null},\"gone\":null}";
static const char *rich_result = "{\"a\":\"c\",\"keep\":1,\"n\":{\"y\":2,"
                                 "\"w\":[3]},\"z\":{\"k\":1},\"last\":0,"
                                 "\"new\":{\"r\":1}}";

static void test_merge_patch_fails_cleanly_at_every_allocation(void **state)
{
    (void)state;
    cJSON *target = parse(rich_target);
    cJSON *patch = parse(rich_patch);
    size_t live = testalloc_live();
    size_t failures = 0;
    for (size_t n = 1;; n++) {
        cJSON *out = SENTINEL;
        testalloc_fail_at(n, false);
        pc_err err = pc_merge_patch(target, patch, &out);
        bool failed = testalloc_failed();
        testalloc_fail_at(0, false);
        if (!failed) {
            assert_int_equal(err, PC_OK);
            assert_same_json(out, rich_result);
            cJSON_Delete(out);
            break;
        }
        failures++;
        assert_int_equal(err, PC_ERR_NOMEM);
        assert_ptr_equal(out, SENTINEL);
        assert_int_equal(testalloc_live(), live);
    }
    assert_true(failures > 5);
    cJSON_Delete(target);
    cJSON_Delete(patch);
    assert_int_equal(testalloc_live(), 0);
}

/* Walk every allocation of an in-place apply of rich_patch; after each
 * failure call check(target, before) and expect no leak. */
static void inplace_failure_loop(void (*check)(const cJSON *, const char *))
{
    cJSON *patch = parse(rich_patch);
    cJSON *target = parse(rich_target);
    char *before = raw_text(target);
    size_t live = testalloc_live();
    size_t failures = 0;
    for (size_t n = 1;; n++) {
        testalloc_fail_at(n, false);
        pc_err err = pc_merge_patch_inplace(target, patch);
        bool failed = testalloc_failed();
        testalloc_fail_at(0, false);
        if (!failed) {
            assert_int_equal(err, PC_OK);
            assert_same_json(target, rich_result);
            break;
        }
        failures++;
        assert_int_equal(err, PC_ERR_NOMEM);
        assert_int_equal(testalloc_live(), live);
        check(target, before);
    }
    assert_true(failures > 5);
    cJSON_free(before);
    cJSON_Delete(target);
    cJSON_Delete(patch);
    assert_int_equal(testalloc_live(), 0);
}

static void check_same_value(const cJSON *target, const char *before)
{
    assert_same_json(target, before);
}

static void check_same_text(const cJSON *target, const char *before)
{
    char *after = raw_text(target);
    assert_string_equal(after, before);
    cJSON_free(after);
}

static void test_merge_patch_inplace_failure_leaves_target_value(void **state)
{
    (void)state;
    inplace_failure_loop(check_same_value);
}

static void test_merge_patch_inplace_failure_keeps_member_order(void **state)
{
    (void)state;
    /* "exactly as before" includes the order cJSON prints members in. */
    inplace_failure_loop(check_same_text);
}

/* A target member whose value is null (not a room state, but a valid
 * target) is restored, not deleted, when the merge fails after replacing
 * or deleting it - found by fuzz_merge. */
static void test_merge_patch_inplace_failure_restores_null_members(void **state)
{
    (void)state;
    static const char *const patches[] = {
        "{\"b\":true,\"z\":{\"deep\":[1,2,3]},\"y\":\"new\"}",
        "{\"b\":null,\"z\":{\"deep\":[1,2,3]},\"y\":\"new\"}",
    };
    for (size_t k = 0; k < 2; k++) {
        cJSON *patch = parse(patches[k]);
        cJSON *target = parse("{\"a\":1,\"b\":null,\"c\":{\"d\":null}}");
        char *before = raw_text(target);
        size_t failures = 0;
        for (size_t n = 1;; n++) {
            testalloc_fail_at(n, false);
            pc_err err = pc_merge_patch_inplace(target, patch);
            bool failed = testalloc_failed();
            testalloc_fail_at(0, false);
            if (!failed) {
                assert_int_equal(err, PC_OK);
                break;
            }
            failures++;
            assert_int_equal(err, PC_ERR_NOMEM);
            check_same_text(target, before);
        }
        assert_true(failures > 0);
        cJSON_free(before);
        cJSON_Delete(target);
        cJSON_Delete(patch);
    }
    assert_int_equal(testalloc_live(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_patch_matches_every_rfc7386_example),
        cmocka_unit_test(
            test_merge_patch_inplace_matches_rfc7386_object_examples),
        cmocka_unit_test(test_merge_patch_leaves_target_and_patch_untouched),
        cmocka_unit_test(test_merge_patch_treats_null_target_as_absent),
        cmocka_unit_test(test_merge_patch_rejects_missing_patch),
        cmocka_unit_test(test_merge_patch_fails_cleanly_at_every_allocation),
        cmocka_unit_test(test_merge_patch_inplace_failure_leaves_target_value),
        cmocka_unit_test(test_merge_patch_inplace_failure_keeps_member_order),
        cmocka_unit_test(
            test_merge_patch_inplace_failure_restores_null_members),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
