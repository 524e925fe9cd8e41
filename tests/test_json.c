/*
 * test_json.c - checked JSON: limits, strict parsing of untrusted text,
 * tree validation (including trees too deep for any recursive walker),
 * exact equality, JSON Pointer, and the pc_error helpers every failure
 * report goes through.
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
#include "phasecast/error.h"
#include "phasecast/json.h"
#include "phasecast/version.h"
#include "testalloc.h"

/* A tree pointer no call may write, to prove outputs stay untouched. */
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

/* Parse NUL-terminated text with the given limits (NULL = defaults). */
static pc_err parse_lim(const char *text, const pc_json_limits *lim,
                        cJSON **out, pc_error *e)
{
    return pc_json_parse(text, strlen(text), lim, out, e);
}

static pc_err parse(const char *text, cJSON **out)
{
    return parse_lim(text, NULL, out, NULL);
}

/* Assert that text is refused with err and nothing is written or leaked. */
static void assert_parse_fails(const char *text, pc_err err)
{
    size_t live = testalloc_live();
    cJSON *out = SENTINEL;
    pc_error e;
    pc_error_clear(&e);
    assert_int_equal(parse_lim(text, NULL, &out, &e), err);
    assert_ptr_equal(out, SENTINEL);
    assert_int_equal(e.err, err);
    assert_true(e.message[0] != '\0');
    assert_int_equal(testalloc_live(), live);
}

static void assert_parse_ok(const char *text)
{
    size_t live = testalloc_live();
    cJSON *out = NULL;
    pc_error e;
    pc_error_clear(&e);
    pc_err err = parse(text, &out);
    if (err != PC_OK) {
        parse_lim(text, NULL, &out, &e);
        print_error("rejected %s: %s\n", text, e.message);
    }
    assert_int_equal(err, PC_OK);
    assert_non_null(out);
    cJSON_Delete(out);
    assert_int_equal(testalloc_live(), live);
}

/* n nested arrays, built as text: "[[[...]]]". */
static char *nested_text(int n)
{
    char *s = pc_malloc((size_t)n * 2 + 1);
    assert_non_null(s);
    memset(s, '[', (size_t)n);
    memset(s + n, ']', (size_t)n);
    s[2 * n] = '\0';
    return s;
}

/* n nested arrays, built as a tree without recursion. */
static cJSON *nested_tree(size_t n)
{
    cJSON *root = cJSON_CreateArray();
    assert_non_null(root);
    cJSON *cur = root;
    for (size_t i = 1; i < n; i++) {
        cJSON *child = cJSON_CreateArray();
        assert_non_null(child);
        cJSON_AddItemToArray(cur, child);
        cur = child;
    }
    return root;
}

/* cJSON_Delete recurses once per level, so deep trees are unlinked and
 * freed one level at a time. */
static void free_nested(cJSON *root)
{
    while (root != NULL) {
        cJSON *next = root->child;
        root->child = NULL;
        cJSON_Delete(root);
        root = next;
    }
}

/* ---- limits ---------------------------------------------------------- */

static void test_limits_default_values_are_documented(void **state)
{
    (void)state;
    pc_json_limits l = pc_json_limits_default();
    assert_int_equal(l.max_depth, 32);
    assert_int_equal(l.max_string, 65536);
    assert_int_equal(l.max_nodes, 100000);
    assert_int_equal(l.max_bytes, 1 << 20);
    assert_int_equal(l.max_state_bytes, 4 << 20);
}

static void test_limits_resolve_fills_zeros_and_clamps_depth(void **state)
{
    (void)state;
    pc_json_limits in = {0};
    in.max_depth = 1000;
    in.max_nodes = 7;
    pc_json_limits out;
    pc_json_limits_resolve(&in, &out);
    assert_int_equal(out.max_depth, PC_JSON_DEPTH_CEILING);
    assert_int_equal(out.max_nodes, 7);
    assert_int_equal(out.max_string, 65536);
    assert_int_equal(out.max_bytes, 1 << 20);
    assert_int_equal(out.max_state_bytes, 4 << 20);

    pc_json_limits_resolve(NULL, &out);
    assert_int_equal(out.max_depth, 32);
}

/* ---- parse: grammar -------------------------------------------------- */

static void test_parse_accepts_a_plain_document(void **state)
{
    (void)state;
    cJSON *doc = NULL;
    assert_int_equal(parse("{\"a\":[1,2.5,-3e2],\"b\":{\"c\":null}}", &doc),
                     PC_OK);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(doc, "a");
    assert_int_equal(cJSON_GetArraySize(a), 3);
    assert_true(cJSON_GetArrayItem(a, 2)->valuedouble == -300.0);
    cJSON_Delete(doc);
    assert_int_equal(testalloc_live(), 0);
}

static void test_parse_accepts_top_level_scalars_and_whitespace(void **state)
{
    (void)state;
    assert_parse_ok("1");
    assert_parse_ok(" \t\r\n\"x\" \n");
    assert_parse_ok("true");
    assert_parse_ok("null");
    assert_parse_ok("[ ]");
    assert_parse_ok("{ }");
}

static void test_parse_reads_exactly_len_bytes(void **state)
{
    (void)state;
    /* The buffer continues past len with bytes that would be garbage. */
    const char buf[] = {'[', '1', ']', 'x', 'y'};
    cJSON *doc = NULL;
    assert_int_equal(pc_json_parse(buf, 3, NULL, &doc, NULL), PC_OK);
    assert_true(cJSON_IsArray(doc));
    cJSON_Delete(doc);

    /* A value cut short by len is not completed by what follows. */
    const char num[] = {'1', '2', '3'};
    assert_int_equal(pc_json_parse(num, 2, NULL, &doc, NULL), PC_OK);
    assert_true(doc->valuedouble == 12.0);
    cJSON_Delete(doc);
    assert_int_equal(testalloc_live(), 0);
}

static void test_parse_rejects_trailing_garbage(void **state)
{
    (void)state;
    assert_parse_fails("{\"a\":1} x", PC_ERR_INVALID);
    assert_parse_fails("[1,2]]", PC_ERR_INVALID);
    assert_parse_fails("1 2", PC_ERR_INVALID);
    assert_parse_fails("{}{}", PC_ERR_INVALID);
}

static void test_parse_rejects_trailing_nul_byte(void **state)
{
    (void)state;
    /* cJSON counts NUL as whitespace; phasecast does not. */
    const char buf[] = {'[', ']', '\0'};
    cJSON *doc = SENTINEL;
    assert_int_equal(pc_json_parse(buf, sizeof(buf), NULL, &doc, NULL),
                     PC_ERR_INVALID);
    assert_ptr_equal(doc, SENTINEL);
}

static void test_parse_rejects_what_cjson_lets_through(void **state)
{
    (void)state;
    assert_parse_fails("", PC_ERR_INVALID);
    assert_parse_fails("   ", PC_ERR_INVALID);
    assert_parse_fails("0123", PC_ERR_INVALID);
    assert_parse_fails("1.", PC_ERR_INVALID);
    assert_parse_fails("-.5", PC_ERR_INVALID);
    assert_parse_fails("[1,]", PC_ERR_INVALID);
    assert_parse_fails("{\"a\":1,}", PC_ERR_INVALID);
    assert_parse_fails("\xEF\xBB\xBF{}", PC_ERR_INVALID);
    assert_parse_fails("[\"a\tb\"]", PC_ERR_INVALID);
    assert_parse_fails("{'a':1}", PC_ERR_INVALID);
    assert_parse_fails("[NaN]", PC_ERR_INVALID);
    assert_parse_fails("[\"\\x\"]", PC_ERR_INVALID);
    assert_parse_fails("{\"a\" 1}", PC_ERR_INVALID);
    assert_parse_fails("[tru]", PC_ERR_INVALID);
    assert_parse_fails("[\"open", PC_ERR_INVALID);
}

static void test_parse_rejects_nul_bytes_inside_text(void **state)
{
    (void)state;
    const char buf[] = "[\"a\0b\"]";
    cJSON *doc = SENTINEL;
    assert_int_equal(pc_json_parse(buf, sizeof(buf) - 1, NULL, &doc, NULL),
                     PC_ERR_INVALID);
    assert_ptr_equal(doc, SENTINEL);
}

static void test_parse_rejects_escaped_nul(void **state)
{
    (void)state;
    assert_parse_fails("[\"a\\u0000b\"]", PC_ERR_INVALID);
    assert_parse_fails("{\"a\\u0000x\":1}", PC_ERR_INVALID);
    assert_parse_fails("[\"\\U0000\"]", PC_ERR_INVALID); /* no such escape */
}

static void test_parse_rejects_u_escape_without_four_hex_digits(void **state)
{
    (void)state;
    assert_parse_fails("[\"\\uZZZZ\"]", PC_ERR_INVALID);
    assert_parse_fails("[\"\\u00G1\"]", PC_ERR_INVALID);
    assert_parse_fails("[\"\\u12\"]", PC_ERR_INVALID);
}

static void test_parse_accepts_escaped_backslash_before_u0000(void **state)
{
    (void)state;
    /* "\\u0000" is a backslash followed by the letters u0000. */
    cJSON *doc = NULL;
    assert_int_equal(parse("[\"\\\\u0000\"]", &doc), PC_OK);
    assert_string_equal(cJSON_GetArrayItem(doc, 0)->valuestring, "\\u0000");
    cJSON_Delete(doc);
}

static void test_parse_handles_surrogate_pairs(void **state)
{
    (void)state;
    cJSON *doc = NULL;
    assert_int_equal(parse("[\"\\uD83D\\uDE00\\u00e9\"]", &doc), PC_OK);
    assert_string_equal(cJSON_GetArrayItem(doc, 0)->valuestring,
                        "\xF0\x9F\x98\x80\xC3\xA9");
    cJSON_Delete(doc);
    assert_parse_fails("[\"\\ud83d\"]", PC_ERR_INVALID);
    assert_parse_fails("[\"\\ude00\"]", PC_ERR_INVALID);
    assert_parse_fails("[\"\\ud83d\\u0041\"]", PC_ERR_INVALID);
}

static void test_parse_rejects_text_over_max_bytes_before_parsing(void **state)
{
    (void)state;
    pc_json_limits lim = {0};
    lim.max_bytes = 9;
    cJSON *doc = SENTINEL;
    pc_error e;
    size_t calls = testalloc_calls();
    assert_int_equal(parse_lim("[1,2,3,4,5]", &lim, &doc, &e), PC_ERR_LIMIT);
    assert_int_equal(testalloc_calls(), calls);
    assert_ptr_equal(doc, SENTINEL);
    assert_int_equal(parse_lim("[1,2,3,4]", &lim, &doc, &e), PC_OK);
    cJSON_Delete(doc);
}

static void test_parse_rejects_too_many_values_before_allocating(void **state)
{
    (void)state;
    pc_json_limits lim = {0};
    lim.max_nodes = 3;
    cJSON *doc = SENTINEL;
    size_t calls = testalloc_calls();
    assert_int_equal(parse_lim("[1,2,3]", &lim, &doc, NULL), PC_ERR_LIMIT);
    assert_int_equal(testalloc_calls(), calls);
    assert_int_equal(parse_lim("[1,2]", &lim, &doc, NULL), PC_OK);
    cJSON_Delete(doc);
}

/* ---- depth ----------------------------------------------------------- */

static void test_parse_accepts_depth_exactly_at_limit(void **state)
{
    (void)state;
    char *text = nested_text(32);
    assert_parse_ok(text);
    pc_free(text);
}

static void test_parse_rejects_depth_one_over_limit(void **state)
{
    (void)state;
    char *text = nested_text(33);
    cJSON *doc = SENTINEL;
    pc_error e;
    assert_int_equal(parse_lim(text, NULL, &doc, &e), PC_ERR_LIMIT);
    assert_ptr_equal(doc, SENTINEL);
    pc_free(text);
    assert_int_equal(testalloc_live(), 0);
}

static void test_parse_clamps_depth_to_the_ceiling(void **state)
{
    (void)state;
    pc_json_limits lim = {0};
    lim.max_depth = 5000;
    char *ok = nested_text(PC_JSON_DEPTH_CEILING);
    char *deep = nested_text(PC_JSON_DEPTH_CEILING + 1);
    cJSON *doc = NULL;
    assert_int_equal(parse_lim(ok, &lim, &doc, NULL), PC_OK);
    free_nested(doc);
    doc = SENTINEL;
    assert_int_equal(parse_lim(deep, &lim, &doc, NULL), PC_ERR_LIMIT);
    assert_ptr_equal(doc, SENTINEL);
    pc_free(ok);
    pc_free(deep);
}

static void test_check_accepts_depth_exactly_at_limit(void **state)
{
    (void)state;
    pc_json_limits lim = {0};
    lim.max_depth = 10;
    cJSON *tree = nested_tree(10);
    assert_int_equal(pc_json_check(tree, &lim, NULL), PC_OK);
    /* A scalar inside the deepest container adds no depth. */
    cJSON *leaf = tree;
    while (leaf->child != NULL) {
        leaf = leaf->child;
    }
    cJSON_AddItemToArray(leaf, cJSON_CreateNumber(1));
    assert_int_equal(pc_json_check(tree, &lim, NULL), PC_OK);
    free_nested(tree);
}

static void test_check_rejects_depth_one_over_limit(void **state)
{
    (void)state;
    pc_json_limits lim = {0};
    lim.max_depth = 10;
    cJSON *tree = nested_tree(11);
    pc_error e;
    assert_int_equal(pc_json_check(tree, &lim, &e), PC_ERR_LIMIT);
    assert_non_null(strstr(e.message, "/0/0/0/0/0/0/0/0/0/0"));
    free_nested(tree);
}

static void test_check_rejects_million_deep_tree_without_crashing(void **state)
{
    (void)state;
    cJSON *tree = nested_tree(1000000);
    pc_error e;
    assert_int_equal(pc_json_check(tree, NULL, &e), PC_ERR_LIMIT);
    assert_string_equal(e.code, "limit");
    free_nested(tree);
    assert_int_equal(testalloc_live(), 0);
}

/* ---- check: contents ------------------------------------------------- */

static void test_check_rejects_non_finite_numbers(void **state)
{
    (void)state;
    double bad[] = {INFINITY, -INFINITY, NAN};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddItemToObject(doc, "x", cJSON_CreateNumber(bad[i]));
        pc_error e;
        assert_int_equal(pc_json_check(doc, NULL, &e), PC_ERR_INVALID);
        assert_non_null(strstr(e.message, "\"/x\""));
        cJSON_Delete(doc);
    }
}

static void test_check_names_the_offending_pointer(void **state)
{
    (void)state;
    cJSON *doc = NULL;
    assert_int_equal(parse("{\"a\":[1,{\"b~/\":{}}]}", &doc), PC_OK);
    cJSON *inner =
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "a"), 1);
    inner = cJSON_GetObjectItemCaseSensitive(inner, "b~/");
    cJSON_AddItemToObject(inner, "n", cJSON_CreateNumber(NAN));
    pc_error e;
    pc_error_clear(&e);
    assert_int_equal(pc_json_check(doc, NULL, &e), PC_ERR_INVALID);
    assert_non_null(strstr(e.message, "\"/a/1/b~0~1/n\""));
    assert_string_equal(e.code, "invalid");
    cJSON_Delete(doc);
}

static void test_parse_rejects_duplicate_keys(void **state)
{
    (void)state;
    pc_error e;
    cJSON *doc = SENTINEL;
    assert_int_equal(
        parse_lim("{\"a\":1,\"b\":{\"x\":1,\"x\":2}}", NULL, &doc, &e),
        PC_ERR_INVALID);
    assert_non_null(strstr(e.message, "duplicate"));
    assert_non_null(strstr(e.message, "\"/b/x\""));
    assert_parse_fails("{\"a\":1,\"a\":1}", PC_ERR_INVALID);
    assert_ptr_equal(doc, SENTINEL);
}

static void test_parse_rejects_duplicate_keys_in_large_objects(void **state)
{
    (void)state;
    /* Over the pairwise threshold, so the sorting path is taken. */
    char text[2048] = "{";
    for (int i = 0; i < 100; i++) {
        size_t n = strlen(text);
        snprintf(text + n, sizeof(text) - n, "\"k%d\":%d,", i, i);
    }
    size_t base = strlen(text);
    strcpy(text + base, "\"k57\":0}");
    assert_parse_fails(text, PC_ERR_INVALID);
    strcpy(text + base, "\"q57\":0}");
    assert_parse_ok(text);
}

static void test_check_finds_duplicates_without_memory(void **state)
{
    (void)state;
    cJSON *doc = cJSON_CreateObject();
    char key[16];
    for (int i = 0; i < 40; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        cJSON_AddItemToObject(doc, key, cJSON_CreateTrue());
    }
    assert_int_equal(pc_json_check(doc, NULL, NULL), PC_OK);
    testalloc_fail_at(1, true);
    assert_int_equal(pc_json_check(doc, NULL, NULL), PC_OK);
    testalloc_fail_at(0, false);
    cJSON_AddItemToObject(doc, "k3", cJSON_CreateTrue());
    testalloc_fail_at(1, true);
    assert_int_equal(pc_json_check(doc, NULL, NULL), PC_ERR_INVALID);
    testalloc_fail_at(0, false);
    assert_int_equal(pc_json_check(doc, NULL, NULL), PC_ERR_INVALID);
    cJSON_Delete(doc);
    assert_int_equal(testalloc_live(), 0);
}

static void test_parse_rejects_invalid_utf8(void **state)
{
    (void)state;
    assert_parse_fails("[\"\xC0\xAF\"]", PC_ERR_INVALID);         /* overlong */
    assert_parse_fails("[\"\xE0\x80\xAF\"]", PC_ERR_INVALID);     /* overlong */
    assert_parse_fails("[\"\xF0\x80\x80\xAF\"]", PC_ERR_INVALID); /* overlong */
    assert_parse_fails("[\"\xED\xA0\x80\"]", PC_ERR_INVALID); /* surrogate */
    assert_parse_fails("[\"\xF4\x90\x80\x80\"]", PC_ERR_INVALID); /* >10FFFF */
    assert_parse_fails("[\"\xF5\x80\x80\x80\"]", PC_ERR_INVALID);
    assert_parse_fails("[\"\xC3\"]", PC_ERR_INVALID);     /* truncated */
    assert_parse_fails("[\"\xE2\x82\"]", PC_ERR_INVALID); /* truncated */
    assert_parse_fails("[\"\x80\"]", PC_ERR_INVALID);     /* lone cont. */
    assert_parse_fails("{\"\xFF\":1}", PC_ERR_INVALID);   /* in a key */
    assert_parse_fails("[\"\xC3\xA9\xC3\"]", PC_ERR_INVALID);
}

static void test_parse_accepts_valid_utf8_at_the_boundaries(void **state)
{
    (void)state;
    assert_parse_ok("[\"\xC2\x80\xDF\xBF\"]");         /* U+0080, U+07FF */
    assert_parse_ok("[\"\xE0\xA0\x80\xED\x9F\xBF\"]"); /* U+0800, U+D7FF */
    assert_parse_ok("[\"\xEE\x80\x80\xEF\xBF\xBF\"]"); /* U+E000, U+FFFF */
    assert_parse_ok("[\"\xF0\x90\x80\x80\xF4\x8F\xBF\xBF\"]"); /* 10000.. */
    assert_parse_ok("{\"\xE2\x82\xAC\":\"\x7F\"}");
}

static void test_check_rejects_control_characters_in_keys(void **state)
{
    (void)state;
    assert_parse_fails("{\"a\\tb\":1}", PC_ERR_INVALID);
    assert_parse_fails("{\"a\\nb\":1}", PC_ERR_INVALID);
    assert_parse_fails("{\"\\u001f\":1}", PC_ERR_INVALID);
}

static void test_check_allows_only_tab_lf_cr_in_strings(void **state)
{
    (void)state;
    assert_parse_ok("[\"a\\tb\\nc\\rd\"]");
    assert_parse_fails("[\"\\b\"]", PC_ERR_INVALID);
    assert_parse_fails("[\"\\f\"]", PC_ERR_INVALID);
    assert_parse_fails("[\"\\u0001\"]", PC_ERR_INVALID);
}

static void test_check_limits_string_length(void **state)
{
    (void)state;
    pc_json_limits lim = {0};
    lim.max_string = 3;
    cJSON *doc = SENTINEL;
    assert_int_equal(parse_lim("[\"abcd\"]", &lim, &doc, NULL), PC_ERR_LIMIT);
    assert_int_equal(parse_lim("{\"abcd\":1}", &lim, &doc, NULL), PC_ERR_LIMIT);
    assert_ptr_equal(doc, SENTINEL);
    assert_int_equal(parse_lim("{\"abc\":\"xyz\"}", &lim, &doc, NULL), PC_OK);
    cJSON_Delete(doc);
    assert_int_equal(testalloc_live(), 0);
}

static void test_check_limits_node_count(void **state)
{
    (void)state;
    pc_json_limits lim = {0};
    lim.max_nodes = 4;
    cJSON *doc = NULL;
    assert_int_equal(parse("{\"a\":1,\"b\":[2,3]}", &doc), PC_OK);
    assert_int_equal(pc_json_check(doc, &lim, NULL), PC_ERR_LIMIT);
    lim.max_nodes = 5;
    assert_int_equal(pc_json_check(doc, &lim, NULL), PC_OK);
    cJSON_Delete(doc);
}

static void test_check_rejects_raw_and_null_documents(void **state)
{
    (void)state;
    pc_error e;
    assert_int_equal(pc_json_check(NULL, NULL, &e), PC_ERR_INVALID);
    cJSON *doc = cJSON_CreateArray();
    cJSON_AddItemToArray(doc, cJSON_CreateRaw("{}"));
    assert_int_equal(pc_json_check(doc, NULL, &e), PC_ERR_INVALID);
    assert_non_null(strstr(e.message, "\"/0\""));
    cJSON_Delete(doc);
}

static void test_check_does_not_need_memory(void **state)
{
    (void)state;
    cJSON *doc = NULL;
    assert_int_equal(parse("{\"a\":[1,{\"b\":\"c\"}],\"d\":null}", &doc),
                     PC_OK);
    testalloc_fail_at(1, true);
    assert_int_equal(pc_json_check(doc, NULL, NULL), PC_OK);
    assert_false(testalloc_failed());
    testalloc_fail_at(0, false);
    cJSON_Delete(doc);
}

/* ---- parse: allocation failures -------------------------------------- */

static void test_parse_fails_cleanly_at_every_allocation(void **state)
{
    (void)state;
    const char *text = "{\"name\":\"x\",\"list\":[1,2.5,true,null,\"s\"],"
                       "\"obj\":{\"k\":{\"deep\":[[]]}},\"u\":\"\\u00e9\"}";
    size_t failures = 0;
    for (size_t n = 1;; n++) {
        cJSON *doc = SENTINEL;
        testalloc_fail_at(n, false);
        pc_err err = parse(text, &doc);
        bool failed = testalloc_failed();
        testalloc_fail_at(0, false);
        if (!failed) {
            assert_int_equal(err, PC_OK);
            cJSON_Delete(doc);
            break;
        }
        failures++;
        assert_int_equal(err, PC_ERR_NOMEM);
        assert_ptr_equal(doc, SENTINEL);
        assert_int_equal(testalloc_live(), 0);
    }
    assert_true(failures > 10);
    assert_int_equal(testalloc_live(), 0);
}

/* ---- equality -------------------------------------------------------- */

static bool text_equal(const char *a, const char *b)
{
    cJSON *x = NULL;
    cJSON *y = NULL;
    assert_int_equal(parse(a, &x), PC_OK);
    assert_int_equal(parse(b, &y), PC_OK);
    bool r = pc_json_equal(x, y);
    assert_true(pc_json_equal(y, x) == r);
    cJSON_Delete(x);
    cJSON_Delete(y);
    return r;
}

static void test_equal_ignores_key_order(void **state)
{
    (void)state;
    assert_true(text_equal("{\"a\":1,\"b\":{\"c\":[1,2],\"d\":\"e\"}}",
                           "{\"b\":{\"d\":\"e\",\"c\":[1,2]},\"a\":1}"));
    assert_true(text_equal("{}", "{}"));
    assert_true(text_equal("[]", "[]"));
}

static void test_equal_distinguishes_values_and_types(void **state)
{
    (void)state;
    assert_false(text_equal("{\"a\":1}", "{\"a\":2}"));
    assert_false(text_equal("{\"a\":1}", "{\"a\":1,\"b\":1}"));
    assert_false(text_equal("{\"a\":1}", "{\"b\":1}"));
    assert_false(text_equal("[1,2]", "[2,1]"));
    assert_false(text_equal("[1,2]", "[1,2,3]"));
    assert_false(text_equal("[]", "{}"));
    assert_false(text_equal("[[]]", "[{}]"));
    assert_false(text_equal("[true]", "[false]"));
    assert_false(text_equal("[null]", "[0]"));
    assert_false(text_equal("[\"1\"]", "[1]"));
    assert_false(text_equal("[\"ab\"]", "[\"abc\"]"));
    assert_true(text_equal("[1.0, 100]", "[1, 1e2]"));
}

static void test_equal_compares_numbers_exactly(void **state)
{
    (void)state;
    /* cJSON_Compare calls these equal; phasecast does not. */
    assert_false(text_equal("[1]", "[1.0000000000000002]"));
    assert_true(text_equal("[0]", "[-0]"));
}

static void test_equal_matches_keys_case_sensitively(void **state)
{
    (void)state;
    assert_false(text_equal("{\"a\":1}", "{\"A\":1}"));
    assert_false(text_equal("{\"Key\":1,\"key\":2}", "{\"key\":1,\"Key\":2}"));
    assert_true(text_equal("{\"Key\":1,\"key\":2}", "{\"key\":2,\"Key\":1}"));
}

static void test_equal_treats_null_as_equal_only_to_null(void **state)
{
    (void)state;
    cJSON *n = cJSON_CreateNull();
    assert_true(pc_json_equal(NULL, NULL));
    assert_false(pc_json_equal(n, NULL));
    assert_false(pc_json_equal(NULL, n));
    assert_true(pc_json_equal(n, n));
    cJSON_Delete(n);
}

static void test_equal_is_not_fooled_by_duplicate_keys(void **state)
{
    (void)state;
    cJSON *a = cJSON_CreateObject();
    cJSON *b = cJSON_CreateObject();
    cJSON_AddItemToObject(a, "x", cJSON_CreateNumber(1));
    cJSON_AddItemToObject(a, "x", cJSON_CreateNumber(1));
    cJSON_AddItemToObject(b, "y", cJSON_CreateNumber(2));
    cJSON_AddItemToObject(b, "x", cJSON_CreateNumber(1));
    assert_false(pc_json_equal(a, b));
    assert_false(pc_json_equal(b, a));
    cJSON_Delete(a);
    cJSON_Delete(b);
}

static void test_equal_walks_trees_deeper_than_its_local_stack(void **state)
{
    (void)state;
    cJSON *a = nested_tree(5000);
    cJSON *b = nested_tree(5000);
    assert_true(pc_json_equal(a, b));
    cJSON *leaf = b;
    while (leaf->child != NULL) {
        leaf = leaf->child;
    }
    cJSON_AddItemToArray(leaf, cJSON_CreateNull());
    assert_false(pc_json_equal(a, b));
    free_nested(a);
    free_nested(b);
    assert_int_equal(testalloc_live(), 0);
}

static void test_equal_is_fast_on_deeply_nested_objects(void **state)
{
    (void)state;
    /* 60 levels of two-member objects: cJSON_Compare would need 2^60
     * steps. */
    cJSON *a = cJSON_CreateObject();
    cJSON *b = cJSON_CreateObject();
    cJSON *x = a;
    cJSON *y = b;
    for (int i = 0; i < 60; i++) {
        cJSON_AddItemToObject(x, "s", cJSON_CreateString("v"));
        cJSON_AddItemToObject(y, "s", cJSON_CreateString("v"));
        x = cJSON_AddObjectToObject(x, "o");
        y = cJSON_AddObjectToObject(y, "o");
    }
    assert_true(pc_json_equal(a, b));
    cJSON_Delete(a);
    cJSON_Delete(b);
}

/* ---- JSON Pointer ---------------------------------------------------- */

static void test_pointer_get_follows_rfc6901_examples(void **state)
{
    (void)state;
    cJSON *doc = NULL;
    assert_int_equal(parse("{\"foo\":[\"bar\",\"baz\"],\"\":0,\"a/b\":1,"
                           "\"c%d\":2,\"e^f\":3,\"g|h\":4,\"i\\\\j\":5,"
                           "\"k\\\"l\":6,\" \":7,\"m~n\":8}",
                           &doc),
                     PC_OK);
    assert_ptr_equal(pc_json_pointer_get(doc, ""), doc);
    const cJSON *foo = pc_json_pointer_get(doc, "/foo");
    assert_true(cJSON_IsArray(foo));
    assert_string_equal(pc_json_pointer_get(doc, "/foo/0")->valuestring, "bar");
    assert_string_equal(pc_json_pointer_get(doc, "/foo/1")->valuestring, "baz");
    const char *ptrs[] = {"/",     "/a~1b", "/c%d", "/e^f", "/g|h",
                          "/i\\j", "/k\"l", "/ ",   "/m~0n"};
    for (int i = 0; i < 9; i++) {
        const cJSON *v = pc_json_pointer_get(doc, ptrs[i]);
        assert_non_null(v);
        assert_true(v->valuedouble == (double)i);
    }
    cJSON_Delete(doc);
}

static void test_pointer_get_rejects_malformed_and_missing_paths(void **state)
{
    (void)state;
    cJSON *doc = NULL;
    assert_int_equal(parse("{\"a\":[10,11,12],\"B\":{\"c\":1},\"~\":2}", &doc),
                     PC_OK);
    assert_null(pc_json_pointer_get(doc, "a"));     /* no leading '/' */
    assert_null(pc_json_pointer_get(doc, "/a/01")); /* leading zero */
    assert_null(pc_json_pointer_get(doc, "/a/3"));  /* past the end */
    assert_null(pc_json_pointer_get(doc, "/a/-"));  /* append slot */
    assert_null(pc_json_pointer_get(doc, "/a/+1"));
    assert_null(pc_json_pointer_get(doc, "/a/1/x")); /* into a scalar */
    assert_null(pc_json_pointer_get(doc, "/b/c"));   /* case-sensitive */
    assert_null(pc_json_pointer_get(doc, "/~"));     /* bad escape */
    assert_null(pc_json_pointer_get(doc, "/~2"));
    assert_null(pc_json_pointer_get(doc, "/a/99999999999999999999999"));
    assert_null(pc_json_pointer_get(NULL, ""));
    assert_null(pc_json_pointer_get(doc, NULL));
    assert_true(pc_json_pointer_get(doc, "/a/0")->valuedouble == 10.0);
    assert_true(pc_json_pointer_get(doc, "/a/2")->valuedouble == 12.0);
    assert_true(pc_json_pointer_get(doc, "/B/c")->valuedouble == 1.0);
    assert_true(pc_json_pointer_get(doc, "/~0")->valuedouble == 2.0);
    cJSON_Delete(doc);
}

static void test_pointer_append_escapes_tokens(void **state)
{
    (void)state;
    char buf[32] = "/a";
    assert_true(pc_json_pointer_append(buf, sizeof(buf), "b/c~d"));
    assert_string_equal(buf, "/a/b~1c~0d");
    assert_true(pc_json_pointer_append(buf, sizeof(buf), ""));
    assert_string_equal(buf, "/a/b~1c~0d/");
}

static void test_pointer_append_leaves_buffer_unchanged_when_full(void **state)
{
    (void)state;
    char buf[8] = "/ab";
    assert_false(pc_json_pointer_append(buf, sizeof(buf), "c~/"));
    assert_string_equal(buf, "/ab");
    assert_true(pc_json_pointer_append(buf, sizeof(buf), "cde"));
    assert_string_equal(buf, "/ab/cde"); /* exactly fills 8 bytes */
    assert_false(pc_json_pointer_append(buf, sizeof(buf), ""));
    assert_string_equal(buf, "/ab/cde");
    char unterminated[4] = {'x', 'x', 'x', 'x'};
    assert_false(pc_json_pointer_append(unterminated, 4, "a"));
}

/* ---- pc_error -------------------------------------------------------- */

static void test_error_set_formats_and_defaults_the_code(void **state)
{
    (void)state;
    pc_error e;
    pc_error_clear(&e);
    assert_int_equal(e.err, PC_OK);
    assert_int_equal(pc_error_set(&e, PC_ERR_ACTION, "not_your_turn",
                                  "it is %s's turn", "O"),
                     PC_ERR_ACTION);
    assert_string_equal(e.code, "not_your_turn");
    assert_string_equal(e.message, "it is O's turn");
    pc_error_set(&e, PC_ERR_NOMEM, NULL, "x");
    assert_string_equal(e.code, "nomem");
    assert_int_equal(pc_error_set(NULL, PC_ERR_LIMIT, NULL, "y"), PC_ERR_LIMIT);
    pc_error_clear(&e);
    assert_string_equal(e.code, "");
    assert_string_equal(e.message, "");
    pc_error_clear(NULL);
}

static void test_error_set_truncates_without_splitting_utf8(void **state)
{
    (void)state;
    pc_error e;
    char longtext[600];
    /* 254 ASCII bytes then "é": the 2-byte sequence straddles the end. */
    memset(longtext, 'a', 254);
    strcpy(longtext + 254, "\xC3\xA9tail");
    pc_error_set(&e, PC_ERR_INVALID, NULL, "%s", longtext);
    assert_int_equal(strlen(e.message), 254);
    char longcode[100];
    memset(longcode, 'c', 99);
    longcode[99] = '\0';
    pc_error_set(&e, PC_ERR_INVALID, longcode, "m");
    assert_int_equal(strlen(e.code), PC_ERROR_CODE_MAX - 1);
}

static void test_error_names_every_code(void **state)
{
    (void)state;
    for (int i = PC_OK; i <= PC_ERR_CONFLICT; i++) {
        assert_string_not_equal(pc_err_name((pc_err)i), "unknown");
        assert_string_not_equal(pc_strerror((pc_err)i), "unknown error");
    }
    assert_string_equal(pc_err_name(PC_ERR_NOT_FOUND), "not_found");
    assert_string_equal(pc_strerror(PC_ERR_NOMEM), "out of memory");
    assert_string_equal(pc_err_name((pc_err)99), "unknown");
    assert_string_equal(pc_strerror((pc_err)-1), "unknown error");
    assert_string_equal(pc_version(), PC_VERSION_STRING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limits_default_values_are_documented),
        cmocka_unit_test(test_limits_resolve_fills_zeros_and_clamps_depth),
        cmocka_unit_test(test_parse_accepts_a_plain_document),
        cmocka_unit_test(test_parse_accepts_top_level_scalars_and_whitespace),
        cmocka_unit_test(test_parse_reads_exactly_len_bytes),
        cmocka_unit_test(test_parse_rejects_trailing_garbage),
        cmocka_unit_test(test_parse_rejects_trailing_nul_byte),
        cmocka_unit_test(test_parse_rejects_what_cjson_lets_through),
        cmocka_unit_test(test_parse_rejects_nul_bytes_inside_text),
        cmocka_unit_test(test_parse_rejects_escaped_nul),
        cmocka_unit_test(test_parse_rejects_u_escape_without_four_hex_digits),
        cmocka_unit_test(test_parse_accepts_escaped_backslash_before_u0000),
        cmocka_unit_test(test_parse_handles_surrogate_pairs),
        cmocka_unit_test(test_parse_rejects_text_over_max_bytes_before_parsing),
        cmocka_unit_test(test_parse_rejects_too_many_values_before_allocating),
        cmocka_unit_test(test_parse_accepts_depth_exactly_at_limit),
        cmocka_unit_test(test_parse_rejects_depth_one_over_limit),
        cmocka_unit_test(test_parse_clamps_depth_to_the_ceiling),
        cmocka_unit_test(test_check_accepts_depth_exactly_at_limit),
        cmocka_unit_test(test_check_rejects_depth_one_over_limit),
        cmocka_unit_test(test_check_rejects_million_deep_tree_without_crashing),
        cmocka_unit_test(test_check_rejects_non_finite_numbers),
        cmocka_unit_test(test_check_names_the_offending_pointer),
        cmocka_unit_test(test_parse_rejects_duplicate_keys),
        cmocka_unit_test(test_parse_rejects_duplicate_keys_in_large_objects),
        cmocka_unit_test(test_check_finds_duplicates_without_memory),
        cmocka_unit_test(test_parse_rejects_invalid_utf8),
        cmocka_unit_test(test_parse_accepts_valid_utf8_at_the_boundaries),
        cmocka_unit_test(test_check_rejects_control_characters_in_keys),
        cmocka_unit_test(test_check_allows_only_tab_lf_cr_in_strings),
        cmocka_unit_test(test_check_limits_string_length),
        cmocka_unit_test(test_check_limits_node_count),
        cmocka_unit_test(test_check_rejects_raw_and_null_documents),
        cmocka_unit_test(test_check_does_not_need_memory),
        cmocka_unit_test(test_parse_fails_cleanly_at_every_allocation),
        cmocka_unit_test(test_equal_ignores_key_order),
        cmocka_unit_test(test_equal_distinguishes_values_and_types),
        cmocka_unit_test(test_equal_compares_numbers_exactly),
        cmocka_unit_test(test_equal_matches_keys_case_sensitively),
        cmocka_unit_test(test_equal_treats_null_as_equal_only_to_null),
        cmocka_unit_test(test_equal_is_not_fooled_by_duplicate_keys),
        cmocka_unit_test(test_equal_walks_trees_deeper_than_its_local_stack),
        cmocka_unit_test(test_equal_is_fast_on_deeply_nested_objects),
        cmocka_unit_test(test_pointer_get_follows_rfc6901_examples),
        cmocka_unit_test(test_pointer_get_rejects_malformed_and_missing_paths),
        cmocka_unit_test(test_pointer_append_escapes_tokens),
        cmocka_unit_test(test_pointer_append_leaves_buffer_unchanged_when_full),
        cmocka_unit_test(test_error_set_formats_and_defaults_the_code),
        cmocka_unit_test(test_error_set_truncates_without_splitting_utf8),
        cmocka_unit_test(test_error_names_every_code),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
