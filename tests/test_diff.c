/*
 * test_diff.c - field-level differences: one path per changed leaf, added
 * and removed members, type changes, canonical path order, pointer
 * escaping, refusals and allocation failures.
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
#include "phasecast/diff.h"
#include "phasecast/error.h"
#include "phasecast/json.h"
#include "testalloc.h"

static cJSON sentinel_node;
#define SENTINEL (&sentinel_node)

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

static cJSON *parse(const char *text)
{
    cJSON *doc = NULL;
    assert_int_equal(pc_json_parse(text, strlen(text), NULL, &doc, NULL),
                     PC_OK);
    return doc;
}

/* Diff two texts and compare the canonical text of the result. */
static void assert_diff(const char *a, const char *b, const char *expected)
{
    cJSON *x = parse(a);
    cJSON *y = parse(b);
    cJSON *want = parse(expected);
    cJSON *got = NULL;
    assert_int_equal(pc_json_diff(x, y, &got), PC_OK);
    char *got_text = NULL;
    assert_int_equal(pc_canon_print(got, &got_text, NULL), PC_OK);
    char *want_text = NULL;
    assert_int_equal(pc_canon_print(want, &want_text, NULL), PC_OK);
    assert_string_equal(got_text, want_text);
    /* Entry order matters and canonical text keeps array order. */
    pc_free(got_text);
    pc_free(want_text);
    cJSON_Delete(got);
    cJSON_Delete(want);
    cJSON_Delete(x);
    cJSON_Delete(y);
    assert_int_equal(testalloc_live(), 0);
}

static void test_diff_of_equal_documents_is_empty(void **state)
{
    (void)state;
    assert_diff("{\"a\":[1,{\"b\":null}],\"c\":\"d\"}",
                "{\"c\":\"d\",\"a\":[1,{\"b\":null}]}", "[]");
    assert_diff("5", "5", "[]");
}

static void test_diff_reports_one_path_for_one_changed_cell(void **state)
{
    (void)state;
    assert_diff("{\"board\":[\"X\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"]}",
                "{\"board\":[\"X\",\"\",\"\",\"\",\"O\",\"\",\"\",\"\",\"\"]}",
                "[{\"path\":\"/board/4\",\"old\":\"\",\"new\":\"O\"}]");
}

static void test_diff_omits_old_for_added_and_new_for_removed(void **state)
{
    (void)state;
    assert_diff("{\"a\":1}", "{\"b\":{\"c\":2}}",
                "[{\"path\":\"/a\",\"old\":1},"
                "{\"path\":\"/b\",\"new\":{\"c\":2}}]");
}

static void test_diff_reports_array_length_changes_per_index(void **state)
{
    (void)state;
    assert_diff("[1,2]", "[1,2,3,4]",
                "[{\"path\":\"/2\",\"new\":3},{\"path\":\"/3\",\"new\":4}]");
    assert_diff("[1,2,3]", "[1]",
                "[{\"path\":\"/1\",\"old\":2},{\"path\":\"/2\",\"old\":3}]");
}

static void test_diff_reports_a_type_change_once_at_its_own_path(void **state)
{
    (void)state;
    assert_diff("{\"a\":{\"x\":1,\"y\":[2]}}", "{\"a\":7}",
                "[{\"path\":\"/a\",\"old\":{\"x\":1,\"y\":[2]},\"new\":7}]");
    assert_diff("{\"a\":[]}", "{\"a\":{}}",
                "[{\"path\":\"/a\",\"old\":[],\"new\":{}}]");
    assert_diff("{\"a\":null}", "{\"a\":false}",
                "[{\"path\":\"/a\",\"old\":null,\"new\":false}]");
}

static void test_diff_of_different_roots_uses_the_empty_path(void **state)
{
    (void)state;
    assert_diff("1", "\"1\"", "[{\"path\":\"\",\"old\":1,\"new\":\"1\"}]");
    assert_diff("[]", "{}", "[{\"path\":\"\",\"old\":[],\"new\":{}}]");
}

static void test_diff_sorts_paths_in_canonical_key_order(void **state)
{
    (void)state;
    assert_diff("{\"b\":1,\"a\":1,\"B\":1,\"aa\":1}",
                "{\"aa\":2,\"B\":2,\"a\":2,\"b\":2}",
                "[{\"path\":\"/B\",\"old\":1,\"new\":2},"
                "{\"path\":\"/a\",\"old\":1,\"new\":2},"
                "{\"path\":\"/aa\",\"old\":1,\"new\":2},"
                "{\"path\":\"/b\",\"old\":1,\"new\":2}]");
}

static void test_diff_walks_arrays_by_numeric_index(void **state)
{
    (void)state;
    assert_diff("[0,1,2,3,4,5,6,7,8,9,10,11]", "[0,1,9,3,4,5,6,7,8,9,0,11]",
                "[{\"path\":\"/2\",\"old\":2,\"new\":9},"
                "{\"path\":\"/10\",\"old\":10,\"new\":0}]");
}

static void test_diff_escapes_keys_in_paths(void **state)
{
    (void)state;
    assert_diff("{\"a/b\":{\"m~n\":1}}", "{\"a/b\":{\"m~n\":2}}",
                "[{\"path\":\"/a~1b/m~0n\",\"old\":1,\"new\":2}]");
}

static void test_diff_handles_keys_longer_than_the_path_buffer(void **state)
{
    (void)state;
    char key[300];
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    cJSON *a = cJSON_CreateObject();
    cJSON *b = cJSON_CreateObject();
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(a, key), key, 1);
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(b, key), key, 2);
    cJSON *d = NULL;
    assert_int_equal(pc_json_diff(a, b, &d), PC_OK);
    assert_int_equal(cJSON_GetArraySize(d), 1);
    const char *path =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(d, 0), "path")
            ->valuestring;
    assert_int_equal(strlen(path), 2 * (sizeof(key) - 1) + 2);
    cJSON_Delete(d);
    cJSON_Delete(a);
    cJSON_Delete(b);
    assert_int_equal(testalloc_live(), 0);
}

static void test_diff_rejects_null_inputs(void **state)
{
    (void)state;
    cJSON *doc = cJSON_CreateObject();
    cJSON *out = SENTINEL;
    assert_int_equal(pc_json_diff(NULL, doc, &out), PC_ERR_INVALID);
    assert_int_equal(pc_json_diff(doc, NULL, &out), PC_ERR_INVALID);
    assert_int_equal(pc_json_diff(doc, doc, NULL), PC_ERR_INVALID);
    assert_ptr_equal(out, SENTINEL);
    cJSON_Delete(doc);
}

static cJSON *nested_arrays(int n)
{
    cJSON *root = cJSON_CreateArray();
    cJSON *cur = root;
    for (int i = 1; i < n; i++) {
        cJSON *c = cJSON_CreateArray();
        cJSON_AddItemToArray(cur, c);
        cur = c;
    }
    return root;
}

static void test_diff_rejects_documents_over_the_depth_ceiling(void **state)
{
    (void)state;
    cJSON *ok = nested_arrays(PC_JSON_DEPTH_CEILING);
    cJSON *deep = nested_arrays(PC_JSON_DEPTH_CEILING + 1);
    cJSON *flat = cJSON_CreateArray();
    cJSON *out = NULL;
    assert_int_equal(pc_json_diff(ok, flat, &out), PC_OK);
    assert_int_equal(cJSON_GetArraySize(out), 1);
    cJSON_Delete(out);
    out = SENTINEL;
    /* The deep side is only ever "removed" here: it must still be
     * refused, because copying it would recurse without bound. */
    assert_int_equal(pc_json_diff(deep, flat, &out), PC_ERR_INVALID);
    assert_int_equal(pc_json_diff(flat, deep, &out), PC_ERR_INVALID);
    assert_ptr_equal(out, SENTINEL);
    cJSON_Delete(ok);
    cJSON_Delete(deep);
    cJSON_Delete(flat);
    assert_int_equal(testalloc_live(), 0);
}

static void test_diff_fails_cleanly_at_every_allocation(void **state)
{
    (void)state;
    cJSON *a = parse("{\"board\":[1,2,3],\"players\":{\"x\":{\"n\":\"ann\"},"
                     "\"o\":{\"n\":\"bob\"}},\"gone\":[1],\"turn\":\"x\"}");
    cJSON *b = parse("{\"board\":[1,5,3,4],\"players\":{\"x\":{\"n\":\"ann\"},"
                     "\"o\":{\"n\":\"eve\"}},\"new\":{\"k\":1},\"turn\":0}");
    size_t live = testalloc_live();
    size_t failures = 0;
    for (size_t n = 1;; n++) {
        cJSON *out = SENTINEL;
        testalloc_fail_at(n, false);
        pc_err err = pc_json_diff(a, b, &out);
        bool failed = testalloc_failed();
        testalloc_fail_at(0, false);
        if (!failed) {
            assert_int_equal(err, PC_OK);
            assert_int_equal(cJSON_GetArraySize(out), 6);
            cJSON_Delete(out);
            break;
        }
        failures++;
        assert_int_equal(err, PC_ERR_NOMEM);
        assert_ptr_equal(out, SENTINEL);
        assert_int_equal(testalloc_live(), live);
    }
    assert_true(failures > 10);
    cJSON_Delete(a);
    cJSON_Delete(b);
    assert_int_equal(testalloc_live(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff_of_equal_documents_is_empty),
        cmocka_unit_test(test_diff_reports_one_path_for_one_changed_cell),
        cmocka_unit_test(test_diff_omits_old_for_added_and_new_for_removed),
        cmocka_unit_test(test_diff_reports_array_length_changes_per_index),
        cmocka_unit_test(test_diff_reports_a_type_change_once_at_its_own_path),
        cmocka_unit_test(test_diff_of_different_roots_uses_the_empty_path),
        cmocka_unit_test(test_diff_sorts_paths_in_canonical_key_order),
        cmocka_unit_test(test_diff_walks_arrays_by_numeric_index),
        cmocka_unit_test(test_diff_escapes_keys_in_paths),
        cmocka_unit_test(test_diff_handles_keys_longer_than_the_path_buffer),
        cmocka_unit_test(test_diff_rejects_null_inputs),
        cmocka_unit_test(test_diff_rejects_documents_over_the_depth_ceiling),
        cmocka_unit_test(test_diff_fails_cleanly_at_every_allocation),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
