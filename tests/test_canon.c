/*
 * test_canon.c - canonical text and the structural checksum: known-answer
 * vectors computed outside phasecast (the Python reference in
 * docs/reference/canon.md), key-order independence, values that must not
 * collide, the number and string rules of canon.h, refusals, and
 * allocation failures.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/error.h"
#include "phasecast/json.h"
#include "testalloc.h"

static char sentinel_text[] = "untouched";
#define SENTINEL_TEXT sentinel_text

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

/* Canonical text of doc, also checking that the checksum's length agrees
 * with the printed bytes. Caller frees with pc_free. */
static char *canon_of(const cJSON *doc)
{
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(pc_canon_print(doc, &text, &len), PC_OK);
    assert_int_equal(strlen(text), len);
    uint64_t sum = 0;
    size_t sum_len = 0;
    assert_int_equal(pc_canon_checksum(doc, &sum, &sum_len), PC_OK);
    assert_int_equal(sum_len, len);
    return text;
}

static uint64_t sum_of_text(const char *text)
{
    cJSON *doc = parse(text);
    uint64_t sum = 0;
    assert_int_equal(pc_canon_checksum(doc, &sum, NULL), PC_OK);
    cJSON_Delete(doc);
    return sum;
}

static void assert_canon_text(const char *in, const char *expected)
{
    cJSON *doc = parse(in);
    char *text = canon_of(doc);
    assert_string_equal(text, expected);
    pc_free(text);
    cJSON_Delete(doc);
    assert_int_equal(testalloc_live(), 0);
}

static void assert_number_text(double d, const char *expected)
{
    cJSON *doc = cJSON_CreateNumber(d);
    char *text = canon_of(doc);
    assert_string_equal(text, expected);
    pc_free(text);
    cJSON_Delete(doc);
}

/* ---- FNV-1a ---------------------------------------------------------- */

static void test_fnv1a64_matches_published_vectors(void **state)
{
    (void)state;
    assert_true(pc_fnv1a64(PC_FNV1A64_INIT, "", 0) ==
                UINT64_C(0xcbf29ce484222325));
    assert_true(pc_fnv1a64(PC_FNV1A64_INIT, "a", 1) ==
                UINT64_C(0xaf63dc4c8601ec8c));
    assert_true(pc_fnv1a64(PC_FNV1A64_INIT, "foobar", 6) ==
                UINT64_C(0x85944171f73967e8));
}

static void test_fnv1a64_continues_from_a_previous_hash(void **state)
{
    (void)state;
    uint64_t h = pc_fnv1a64(PC_FNV1A64_INIT, "foo", 3);
    assert_true(pc_fnv1a64(h, "bar", 3) == UINT64_C(0x85944171f73967e8));
}

/* ---- known answers --------------------------------------------------- */

static void test_canon_sorts_keys_and_escapes_newline(void **state)
{
    (void)state;
    assert_canon_text("{\"b\":1,\"a\":[true,null,\"x\\n\"]}",
                      "{\"a\":[true,null,\"x\\n\"],\"b\":1}");
}

static void test_checksum_matches_independent_vector(void **state)
{
    (void)state;
    /* The checksum of {"a":[true,null,"x\n"],"b":1}, computed by the
     * Python reference in canon.md. */
    cJSON *doc = parse("{ \"b\" : 1 , \"a\" : [ true , null , \"x\\n\" ] }");
    uint64_t sum = 0;
    size_t len = 0;
    assert_int_equal(pc_canon_checksum(doc, &sum, &len), PC_OK);
    assert_true(sum == UINT64_C(0x882ebe4378fe479a));
    assert_int_equal(len, strlen("{\"a\":[true,null,\"x\\n\"],\"b\":1}"));
    cJSON_Delete(doc);
}

/* One known answer of the structural checksum. */
typedef struct known {
    const char *text;
    uint64_t sum;
} known;

static void test_checksum_matches_reference_for_small_values(void **state)
{
    (void)state;
    /* From the Python reference: scalars hash their canonical text, the
     * empty array is its seed, containers combine their parts. */
    static const known k[] = {
        {"null", UINT64_C(0xa6e0a38fa3f839ce)},
        {"true", UINT64_C(0x4ae9b24879686fa1)},
        {"false", UINT64_C(0xa83b04840bd6e2e7)},
        {"0", UINT64_C(0xc1e42af088ff1b2c)},
        {"-0.0", UINT64_C(0xc1e42af088ff1b2c)},
        {"1", UINT64_C(0x7c3832dde020d3d6)},
        {"\"1\"", UINT64_C(0x5248fd3c85bff060)},
        {"\"\"", UINT64_C(0x3ae9e2c9df7280f7)},
        {"[]", UINT64_C(0x9e3779b97f4a7c15)},
        {"{}", UINT64_C(0x0ff2e69699c4857e)},
        {"[1,2]", UINT64_C(0xe8abe58312f077e1)},
        {"[2,1]", UINT64_C(0xa0a5e31bcbba48fa)},
        {"{\"a\":1,\"b\":2}", UINT64_C(0xa2a7aef3a0d08ba4)},
        {"{\"b\":2,\"a\":1}", UINT64_C(0xa2a7aef3a0d08ba4)},
        {"{\"a\":2,\"b\":1}", UINT64_C(0x353a1f4af6f3aeeb)},
        {"[[],[]]", UINT64_C(0x2a76a4fb426342eb)},
        {"[[[]]]", UINT64_C(0x0f8ddac615ac6995)},
        {"{\"a\":{}}", UINT64_C(0x4fd2009410b30f7c)},
        {"{\"a\":[]}", UINT64_C(0x0a652f43304d159e)},
        {"{\"a\":null}", UINT64_C(0x9e459c9e7185ca0f)},
    };
    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
        if (sum_of_text(k[i].text) != k[i].sum) {
            fail_msg("checksum of %s is not %016llx", k[i].text,
                     (unsigned long long)k[i].sum);
        }
    }
}

static void test_checksum_separates_permutations_and_nesting(void **state)
{
    (void)state;
    /* Values a naive order-free or linear combination would confuse:
     * swapped values, swapped elements, keys and values exchanged, string
     * boundaries moved, nested empties of every kind, a number and its
     * text. All must have pairwise different checksums. */
    static const char *const v[] = {
        "{\"a\":1,\"b\":2}",
        "{\"a\":2,\"b\":1}",
        "{\"a\":1}",
        "{\"b\":2}",
        "[1,2]",
        "[2,1]",
        "[1]",
        "[2]",
        "{\"a\":\"b\"}",
        "{\"b\":\"a\"}",
        "{\"ab\":\"c\"}",
        "{\"a\":\"bc\"}",
        "[\"ab\"]",
        "[\"a\",\"b\"]",
        "[]",
        "{}",
        "[[]]",
        "[{}]",
        "{\"\":{}}",
        "{\"\":[]}",
        "[[],[]]",
        "[[[]]]",
        "[{},{}]",
        "[[],{}]",
        "[{},[]]",
        "{\"a\":{}}",
        "{\"a\":[]}",
        "{\"a\":null}",
        "{\"a\":{\"a\":{}}}",
        "{\"a\":{},\"b\":{}}",
        "1",
        "\"1\"",
        "null",
        "\"null\"",
        "[null]",
        "{\"a\":1,\"b\":1}",
        "{\"a\":[1,2]}",
        "{\"a\":[2,1]}",
        "{\"a\":{\"b\":1}}",
        "{\"b\":{\"a\":1}}",
        "{\"a\":{\"b\":1},\"b\":{\"a\":1}}",
        "{\"a\":{\"a\":1},\"b\":{\"b\":1}}",
    };
    size_t n = sizeof(v) / sizeof(v[0]);
    uint64_t sums[sizeof(v) / sizeof(v[0])];
    for (size_t i = 0; i < n; i++) {
        sums[i] = sum_of_text(v[i]);
        for (size_t j = 0; j < i; j++) {
            if (sums[i] == sums[j]) {
                fail_msg("%s and %s have the same checksum", v[i], v[j]);
            }
        }
    }
}

static void test_canon_of_scalars_and_empty_containers(void **state)
{
    (void)state;
    assert_canon_text("true", "true");
    assert_canon_text("false", "false");
    assert_canon_text("null", "null");
    assert_canon_text("\"\"", "\"\"");
    assert_canon_text(" [ ] ", "[]");
    assert_canon_text(" { } ", "{}");
    assert_canon_text("[[],{},[{}]]", "[[],{},[{}]]");
}

static void test_canon_is_independent_of_key_order(void **state)
{
    (void)state;
    cJSON *a = parse("{\"z\":{\"y\":1,\"x\":[{\"q\":1,\"p\":2}]},\"a\":\"s\","
                     "\"m\":null}");
    cJSON *b = parse("{\"m\":null,\"a\":\"s\",\"z\":{\"x\":[{\"p\":2,\"q\":1}"
                     "],\"y\":1}}");
    char *ta = canon_of(a);
    char *tb = canon_of(b);
    assert_string_equal(ta, tb);
    assert_string_equal(ta, "{\"a\":\"s\",\"m\":null,\"z\":{\"x\":[{\"p\":2,"
                            "\"q\":1}],\"y\":1}}");
    uint64_t sa;
    uint64_t sb;
    assert_int_equal(pc_canon_checksum(a, &sa, NULL), PC_OK);
    assert_int_equal(pc_canon_checksum(b, &sb, NULL), PC_OK);
    assert_true(sa == sb);
    pc_free(ta);
    pc_free(tb);
    cJSON_Delete(a);
    cJSON_Delete(b);
}

static void test_canon_orders_keys_bytewise(void **state)
{
    (void)state;
    /* "" < "B" < "a" < "aa" < "b" < U+00E9 (0xC3 0xA9) < U+20AC (0xE2) */
    assert_canon_text("{\"\xE2\x82\xAC\":7,\"b\":5,\"aa\":4,\"\xC3\xA9\":6,"
                      "\"a\":3,\"B\":2,\"\":1}",
                      "{\"\":1,\"B\":2,\"a\":3,\"aa\":4,\"b\":5,"
                      "\"\xC3\xA9\":6,\"\xE2\x82\xAC\":7}");
}

static void test_canon_sorts_large_objects(void **state)
{
    (void)state;
    /* 150 members in reverse order: beyond insertion sort and beyond the
     * on-stack scratch, with a nested large object to force the scratch to
     * move while the outer object's members are still being written. */
    cJSON *doc = cJSON_CreateObject();
    char key[16];
    for (int i = 149; i >= 0; i--) {
        snprintf(key, sizeof(key), "k%03d", i);
        if (i == 10) {
            cJSON *inner = cJSON_AddObjectToObject(doc, key);
            for (int j = 99; j >= 0; j--) {
                snprintf(key, sizeof(key), "i%02d", j);
                cJSON_AddNumberToObject(inner, key, j);
            }
        } else {
            cJSON_AddNumberToObject(doc, key, i);
        }
    }
    char *text = canon_of(doc);
    char expected[8192] = "{";
    for (int i = 0; i < 150; i++) {
        size_t n = strlen(expected);
        if (i == 10) {
            snprintf(expected + n, sizeof(expected) - n, "\"k010\":{");
            for (int j = 0; j < 100; j++) {
                n = strlen(expected);
                snprintf(expected + n, sizeof(expected) - n, "%s\"i%02d\":%d",
                         j > 0 ? "," : "", j, j);
            }
            strcat(expected, "},");
        } else {
            snprintf(expected + n, sizeof(expected) - n, "\"k%03d\":%d,", i, i);
        }
    }
    expected[strlen(expected) - 1] = '}';
    assert_string_equal(text, expected);
    pc_free(text);
    cJSON_Delete(doc);
    assert_int_equal(testalloc_live(), 0);
}

/* ---- numbers --------------------------------------------------------- */

static void test_canon_formats_integers_as_plain_digits(void **state)
{
    (void)state;
    assert_number_text(0, "0");
    assert_number_text(7, "7");
    assert_number_text(-42, "-42");
    assert_number_text(123456789012.0, "123456789012");
    assert_number_text(1e15, "1000000000000000");
    assert_number_text(9007199254740992.0, "9007199254740992");   /* 2^53 */
    assert_number_text(-9007199254740992.0, "-9007199254740992"); /* -2^53 */
}

static void test_canon_prints_negative_zero_as_zero(void **state)
{
    (void)state;
    assert_number_text(-0.0, "0");
    assert_canon_text("[-0, -0.0, 0e5]", "[0,0,0]");
}

static void test_canon_uses_shortest_round_trip_for_other_numbers(void **state)
{
    (void)state;
    assert_number_text(0.1, "0.1");
    assert_number_text(-1.5, "-1.5");
    assert_number_text(123.456, "123.456");
    assert_number_text(0.1 + 0.2, "0.30000000000000004");
    assert_number_text(1e-7, "1e-07");
    assert_number_text(1e300, "1e+300");
    assert_number_text(1e21, "1e+21");
    assert_number_text(1e16, "1e+16");
    assert_number_text(9007199254740994.0, "9007199254740994"); /* 2^53+2 */
    assert_number_text(1152921504606846976.0, "1.152921504606847e+18");
    assert_number_text(5e-324, "5e-324");
    assert_number_text(1.7976931348623157e308, "1.7976931348623157e+308");
}

static void test_canon_numbers_are_independent_of_source_spelling(void **state)
{
    (void)state;
    assert_canon_text("[1.0, 1e0, 10E-1, 100e-2, 0.5e1, 2.50]",
                      "[1,1,1,1,5,2.5]");
}

/* ---- strings --------------------------------------------------------- */

static void test_canon_escapes_control_characters(void **state)
{
    (void)state;
    cJSON *doc = cJSON_CreateString("\x01\x1f\b\t\n\f\r\x0b\"\\/\x7f");
    char *text = canon_of(doc);
    assert_string_equal(text, "\"\\u0001\\u001f\\b\\t\\n\\f\\r\\u000b\\\"\\\\/"
                              "\x7f\"");
    pc_free(text);
    cJSON_Delete(doc);
}

static void test_canon_copies_non_ascii_verbatim(void **state)
{
    (void)state;
    assert_canon_text("[\"\\u00e9\\u20AC\\ud83d\\ude00\"]",
                      "[\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"]");
}

static void test_canon_escapes_keys_like_strings(void **state)
{
    (void)state;
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNullToObject(doc, "a\"b\\c\x01");
    char *text = canon_of(doc);
    assert_string_equal(text, "{\"a\\\"b\\\\c\\u0001\":null}");
    pc_free(text);
    cJSON_Delete(doc);
}

/* ---- refusals -------------------------------------------------------- */

static void test_canon_rejects_non_finite_numbers(void **state)
{
    (void)state;
    double bad[] = {INFINITY, -INFINITY, NAN};
    for (size_t i = 0; i < 3; i++) {
        cJSON *doc = cJSON_CreateArray();
        cJSON_AddItemToArray(doc, cJSON_CreateNumber(bad[i]));
        char *text = SENTINEL_TEXT;
        uint64_t sum = 42;
        assert_int_equal(pc_canon_print(doc, &text, NULL), PC_ERR_INVALID);
        assert_int_equal(pc_canon_checksum(doc, &sum, NULL), PC_ERR_INVALID);
        assert_ptr_equal(text, SENTINEL_TEXT);
        assert_true(sum == 42);
        cJSON_Delete(doc);
        assert_int_equal(testalloc_live(), 0);
    }
}

static void test_canon_rejects_null_raw_and_keyless_members(void **state)
{
    (void)state;
    char *text = SENTINEL_TEXT;
    uint64_t sum;
    assert_int_equal(pc_canon_print(NULL, &text, NULL), PC_ERR_INVALID);
    assert_int_equal(pc_canon_checksum(NULL, &sum, NULL), PC_ERR_INVALID);
    cJSON *raw = cJSON_CreateRaw("1");
    assert_int_equal(pc_canon_print(raw, &text, NULL), PC_ERR_INVALID);
    cJSON_Delete(raw);
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddItemToArray(obj, cJSON_CreateTrue()); /* member without key */
    assert_int_equal(pc_canon_print(obj, &text, NULL), PC_ERR_INVALID);
    cJSON_Delete(obj);
    assert_ptr_equal(text, SENTINEL_TEXT);
    assert_int_equal(testalloc_live(), 0);
}

static cJSON *nested_objects(int n)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *cur = root;
    for (int i = 1; i < n; i++) {
        cur = cJSON_AddObjectToObject(cur, "o");
    }
    return root;
}

static void test_canon_accepts_depth_at_ceiling_and_rejects_deeper(void **state)
{
    (void)state;
    cJSON *ok = nested_objects(PC_JSON_DEPTH_CEILING);
    cJSON *deep = nested_objects(PC_JSON_DEPTH_CEILING + 1);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(pc_canon_print(ok, &text, &len), PC_OK);
    assert_int_equal(len, (size_t)PC_JSON_DEPTH_CEILING * 6 - 4);
    pc_free(text);
    text = SENTINEL_TEXT;
    uint64_t sum;
    assert_int_equal(pc_canon_print(deep, &text, NULL), PC_ERR_INVALID);
    assert_int_equal(pc_canon_checksum(deep, &sum, NULL), PC_ERR_INVALID);
    assert_ptr_equal(text, SENTINEL_TEXT);
    cJSON_Delete(ok);
    cJSON_Delete(deep);
    assert_int_equal(testalloc_live(), 0);
}

/* ---- allocation ------------------------------------------------------ */

/* A state big enough to grow the print buffer and the sort scratch. */
static cJSON *big_state(void)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *players = cJSON_AddObjectToObject(doc, "players");
    char key[16];
    for (int i = 99; i >= 0; i--) {
        snprintf(key, sizeof(key), "p%02d", i);
        cJSON *p = cJSON_AddObjectToObject(players, key);
        cJSON_AddStringToObject(p, "name", "a fairly long player name");
        cJSON_AddNumberToObject(p, "score", i * 1.25);
    }
    cJSON_AddItemToObject(doc, "board", cJSON_CreateArray());
    return doc;
}

static void test_canon_checksum_allocates_nothing(void **state)
{
    (void)state;
    /* The sum over members needs no sorting, so no scratch either, however
     * wide the objects. */
    cJSON *small = parse("{\"b\":[1,2,{\"y\":0,\"x\":1}],\"a\":\"s\"}");
    cJSON *big = big_state();
    size_t calls = testalloc_calls();
    uint64_t sum;
    assert_int_equal(pc_canon_checksum(small, &sum, NULL), PC_OK);
    assert_int_equal(pc_canon_checksum(big, &sum, NULL), PC_OK);
    assert_int_equal(testalloc_calls(), calls);
    cJSON_Delete(small);
    cJSON_Delete(big);
}

static void test_canon_print_fails_cleanly_at_every_allocation(void **state)
{
    (void)state;
    cJSON *doc = big_state();
    char *want = canon_of(doc);
    size_t live = testalloc_live();
    size_t failures = 0;
    for (size_t n = 1;; n++) {
        char *text = SENTINEL_TEXT;
        size_t len = 12345;
        testalloc_fail_at(n, false);
        pc_err err = pc_canon_print(doc, &text, &len);
        bool failed = testalloc_failed();
        testalloc_fail_at(0, false);
        if (!failed) {
            assert_int_equal(err, PC_OK);
            assert_string_equal(text, want);
            pc_free(text);
            break;
        }
        failures++;
        assert_int_equal(err, PC_ERR_NOMEM);
        assert_ptr_equal(text, SENTINEL_TEXT);
        assert_int_equal(len, 12345);
        assert_int_equal(testalloc_live(), live);
    }
    assert_true(failures >= 3); /* initial buffer, growth, scratch */
    pc_free(want);
    cJSON_Delete(doc);
    assert_int_equal(testalloc_live(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fnv1a64_matches_published_vectors),
        cmocka_unit_test(test_fnv1a64_continues_from_a_previous_hash),
        cmocka_unit_test(test_canon_sorts_keys_and_escapes_newline),
        cmocka_unit_test(test_checksum_matches_independent_vector),
        cmocka_unit_test(test_checksum_matches_reference_for_small_values),
        cmocka_unit_test(test_checksum_separates_permutations_and_nesting),
        cmocka_unit_test(test_canon_of_scalars_and_empty_containers),
        cmocka_unit_test(test_canon_is_independent_of_key_order),
        cmocka_unit_test(test_canon_orders_keys_bytewise),
        cmocka_unit_test(test_canon_sorts_large_objects),
        cmocka_unit_test(test_canon_formats_integers_as_plain_digits),
        cmocka_unit_test(test_canon_prints_negative_zero_as_zero),
        cmocka_unit_test(test_canon_uses_shortest_round_trip_for_other_numbers),
        cmocka_unit_test(test_canon_numbers_are_independent_of_source_spelling),
        cmocka_unit_test(test_canon_escapes_control_characters),
        cmocka_unit_test(test_canon_copies_non_ascii_verbatim),
        cmocka_unit_test(test_canon_escapes_keys_like_strings),
        cmocka_unit_test(test_canon_rejects_non_finite_numbers),
        cmocka_unit_test(test_canon_rejects_null_raw_and_keyless_members),
        cmocka_unit_test(
            test_canon_accepts_depth_at_ceiling_and_rejects_deeper),
        cmocka_unit_test(test_canon_checksum_allocates_nothing),
        cmocka_unit_test(test_canon_print_fails_cleanly_at_every_allocation),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
