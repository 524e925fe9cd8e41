/*
 * test_status_parse.c - phasecast-status's Prometheus text reader and its
 * report (tools/status): families, labels and escapes, values and
 * timestamps; hostile text refused with the line named and nothing
 * leaked; the limits; quantiles estimated from buckets; the table and the
 * JSON printed from a document.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/alloc.h"

#include "promtext.h"
#include "report.h"

static const char sample_text[] =
    "# HELP phasecast_rooms Rooms the server hosts.\n"
    "# TYPE phasecast_rooms gauge\n"
    "phasecast_rooms 2\n"
    "# HELP phasecast_requests_total Requests answered, by operation.\n"
    "# TYPE phasecast_requests_total counter\n"
    "phasecast_requests_total{op=\"ping\"} 5\n"
    "phasecast_requests_total{op=\"join\",} 1 1700000000000\n"
    "# a comment that is neither HELP nor TYPE\n"
    "\n"
    "# HELP phasecast_request_duration_seconds Time to answer.\n"
    "# TYPE phasecast_request_duration_seconds histogram\n"
    "phasecast_request_duration_seconds_bucket{op=\"ping\",le=\"0.001\"} 50\n"
    "phasecast_request_duration_seconds_bucket{op=\"ping\",le=\"0.0001\"} 10\n"
    "phasecast_request_duration_seconds_bucket{op=\"ping\",le=\"+Inf\"} 100\n"
    "phasecast_request_duration_seconds_sum{op=\"ping\"} 0.25\n"
    "phasecast_request_duration_seconds_count{op=\"ping\"} 100\n"
    "odd_metric{path=\"a\\\\b\\\"c\\nd\"} NaN\n"
    "# HELP escaped_help One\\ntwo \\\\ three\n"
    "escaped_help -Inf\n";

static pt_doc *parse_ok(const char *text)
{
    pt_doc *doc = NULL;
    pc_error err = {0};
    if (pt_parse(text, strlen(text), NULL, &doc, &err) != PC_OK) {
        fail_msg("parse failed: %s: %s", err.code, err.message);
    }
    return doc;
}

static const pt_family *family(const pt_doc *doc, const char *name)
{
    for (size_t i = 0; i < doc->nfamilies; i++) {
        if (strcmp(doc->families[i].name, name) == 0) {
            return &doc->families[i];
        }
    }
    fail_msg("no family %s", name);
    return NULL;
}

static void test_parse_reads_families_samples_and_labels(void **state)
{
    (void)state;
    pt_doc *doc = parse_ok(sample_text);
    assert_int_equal(doc->nfamilies, 5);
    assert_int_equal(doc->nsamples, 10);
    const pt_family *f = family(doc, "phasecast_rooms");
    assert_int_equal(f->type, PT_GAUGE);
    assert_string_equal(f->help, "Rooms the server hosts.");
    assert_true(f->samples[0].value == 2);
    f = family(doc, "phasecast_requests_total");
    assert_int_equal(f->type, PT_COUNTER);
    assert_int_equal(f->nsamples, 2);
    assert_string_equal(pt_label_get(&f->samples[1], "op"), "join");
    assert_true(f->samples[1].value == 1);
    f = family(doc, "phasecast_request_duration_seconds");
    assert_int_equal(f->type, PT_HISTOGRAM);
    assert_int_equal(f->nsamples, 5);
    assert_string_equal(f->samples[3].name,
                        "phasecast_request_duration_seconds_sum");
    f = family(doc, "odd_metric");
    assert_int_equal(f->type, PT_UNTYPED);
    assert_string_equal(pt_label_get(&f->samples[0], "path"), "a\\b\"c\nd");
    assert_true(isnan(f->samples[0].value));
    f = family(doc, "escaped_help");
    assert_string_equal(f->help, "One\ntwo \\ three");
    assert_true(isinf(f->samples[0].value) && f->samples[0].value < 0);
    pt_free(doc);
}

/* Each bad text is refused with the code and the line number. */
static void test_parse_refuses_bad_text_naming_the_line(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *message;
    } bad[] = {
        {"ok 1\n9bad 1\n", "line 2: a sample must start"},
        {"a{b=\"c} 1\n", "line 1: an unterminated label value"},
        {"a{b=c} 1\n", "line 1: a label without"},
        {"a{b=\"c\" d=\"e\"} 1\n", "line 1: labels must be separated"},
        {"a{b=\"\\x\"} 1\n", "line 1: bad escape"},
        {"a 0x10\n", "line 1: a sample value"},
        {"a inf\n", "line 1: a sample value"},
        {"a\n", "line 1: a sample without a value"},
        {"a 1 2 3\n", "line 1: trailing text"},
        {"a 1 12x\n", "line 1: trailing text"},
        {"# TYPE a gauge\n# TYPE a counter\n", "line 2: a TYPE line after"},
        {"a 1\n# TYPE a gauge\n", "line 2: a TYPE line after"},
        {"# TYPE a sometimes\n", "line 1: an unknown metric type"},
        {"# HELP a x\n# HELP a y\n", "line 2: a second HELP"},
        {"# HELP\n", "line 1: a HELP or TYPE line without"},
        {"{a=\"b\"} 1\n", "line 1: a sample must start"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pt_doc *doc = (pt_doc *)&doc; /* must stay untouched */
        pt_doc *before = doc;
        pc_error err = {0};
        pc_err rc =
            pt_parse(bad[i].text, strlen(bad[i].text), NULL, &doc, &err);
        if (rc != PC_ERR_INVALID ||
            strstr(err.message, bad[i].message) == NULL) {
            fail_msg("text %zu: rc %d, message %s", i, rc, err.message);
        }
        assert_string_equal(err.code, "bad_metrics");
        assert_ptr_equal(doc, before);
    }
}

static void test_parse_refuses_a_nul_byte_inside_the_length(void **state)
{
    (void)state;
    static const char text[] = "a 1\nb\0 2\n";
    pt_doc *doc = NULL;
    pc_error err = {0};
    assert_int_equal(pt_parse(text, sizeof text - 1, NULL, &doc, &err),
                     PC_ERR_INVALID);
    assert_non_null(strstr(err.message, "line 2: a NUL byte"));
    assert_null(doc);
}

static void test_parse_enforces_every_limit(void **state)
{
    (void)state;
    pt_limits lim;
    pt_doc *doc = NULL;
    pc_error err = {0};
    const char *text = "a 1\nb 2\nc{x=\"1\",y=\"2\"} 3\n";
    pt_limits_default(&lim);
    lim.max_bytes = 10;
    assert_int_equal(pt_parse(text, strlen(text), &lim, &doc, &err),
                     PC_ERR_LIMIT);
    assert_string_equal(err.code, "limit_exceeded");
    pt_limits_default(&lim);
    lim.max_line = 12;
    assert_int_equal(pt_parse(text, strlen(text), &lim, &doc, &err),
                     PC_ERR_LIMIT);
    assert_non_null(strstr(err.message, "line 3"));
    pt_limits_default(&lim);
    lim.max_samples = 2;
    assert_int_equal(pt_parse(text, strlen(text), &lim, &doc, &err),
                     PC_ERR_LIMIT);
    pt_limits_default(&lim);
    lim.max_families = 2;
    assert_int_equal(pt_parse(text, strlen(text), &lim, &doc, &err),
                     PC_ERR_LIMIT);
    pt_limits_default(&lim);
    lim.max_labels = 1;
    assert_int_equal(pt_parse(text, strlen(text), &lim, &doc, &err),
                     PC_ERR_LIMIT);
    assert_null(doc);
    pt_limits_default(&lim);
    assert_int_equal(pt_parse(text, strlen(text), &lim, &doc, &err), PC_OK);
    assert_int_equal(doc->nsamples, 3);
    pt_free(doc);
}

static void
test_parse_accepts_empty_text_and_a_last_line_without_newline(void **state)
{
    (void)state;
    pt_doc *doc = parse_ok("");
    assert_int_equal(doc->nfamilies, 0);
    pt_free(doc);
    doc = parse_ok("a 1\nb 2");
    assert_int_equal(doc->nsamples, 2);
    pt_free(doc);
}

static void test_quantiles_interpolate_within_buckets(void **state)
{
    (void)state;
    const double le[] = {0.1, 0.2, 0.4, INFINITY};
    const double cum[] = {10, 50, 90, 100};
    assert_true(fabs(st_quantile(le, cum, 4, 0.5) - 0.2) < 1e-12);
    assert_true(fabs(st_quantile(le, cum, 4, 0.05) - 0.05) < 1e-12);
    assert_true(fabs(st_quantile(le, cum, 4, 0.3) - 0.15) < 1e-12);
    /* In the +Inf bucket: the highest finite bound. */
    assert_true(st_quantile(le, cum, 4, 0.99) == 0.4);
    const double empty[] = {0, 0, 0, 0};
    assert_true(isnan(st_quantile(le, empty, 4, 0.5)));
    assert_true(isnan(st_quantile(le, cum, 0, 0.5)));
}

static char *capture_table(const pt_doc *doc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    assert_non_null(fp);
    assert_int_equal(st_print_table(fp, doc, "http://x"), PC_OK);
    assert_int_equal(fclose(fp), 0);
    return buf;
}

static void test_table_groups_by_kind_and_summarises_histograms(void **state)
{
    (void)state;
    pt_doc *doc = parse_ok(sample_text);
    char *t = capture_table(doc);
    const char *g = strstr(t, "\nGauges\n");
    const char *c = strstr(t, "\nCounters\n");
    const char *h = strstr(t, "\nHistograms");
    assert_non_null(g);
    assert_non_null(c);
    assert_non_null(h);
    assert_true(g < c && c < h);
    assert_non_null(strstr(t, "phasecast_requests_total{op=\"ping\"}"));
    /* count 100, mean 2.50ms, p50 at the 0.001 bound, p99 in +Inf. */
    const char *row = strstr(t, "  phasecast_request_duration_seconds{op=\"ping"
                                "\"}");
    assert_non_null(row);
    assert_non_null(strstr(row, "100"));
    assert_non_null(strstr(row, "2.50ms"));
    assert_non_null(strstr(row, "1.00ms"));
    free(t);
    pt_free(doc);
}

static void test_json_holds_every_family_with_summaries(void **state)
{
    (void)state;
    pt_doc *doc = parse_ok(sample_text);
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    assert_non_null(fp);
    assert_int_equal(st_print_json(fp, doc, "http://x"), PC_OK);
    assert_int_equal(fclose(fp), 0);
    cJSON *root = cJSON_Parse(buf);
    assert_non_null(root);
    cJSON *fams = cJSON_GetObjectItemCaseSensitive(root, "families");
    assert_int_equal(cJSON_GetArraySize(fams), 5);
    cJSON *hist = cJSON_GetArrayItem(fams, 2);
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(hist, "type")->valuestring,
        "histogram");
    cJSON *s0 =
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(hist, "series"), 0);
    assert_true(cJSON_GetObjectItemCaseSensitive(s0, "count")->valuedouble ==
                100);
    assert_true(fabs(cJSON_GetObjectItemCaseSensitive(s0, "avg")->valuedouble -
                     0.0025) < 1e-12);
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(s0, "labels"), "op")
            ->valuestring,
        "ping");
    /* NaN and infinities are not JSON: null. */
    cJSON *odd = cJSON_GetArrayItem(fams, 3);
    cJSON *v = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(odd, "samples"), 0),
        "value");
    assert_true(cJSON_IsNull(v));
    cJSON_Delete(root);
    free(buf);
    pt_free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_reads_families_samples_and_labels),
        cmocka_unit_test(test_parse_refuses_bad_text_naming_the_line),
        cmocka_unit_test(test_parse_refuses_a_nul_byte_inside_the_length),
        cmocka_unit_test(test_parse_enforces_every_limit),
        cmocka_unit_test(
            test_parse_accepts_empty_text_and_a_last_line_without_newline),
        cmocka_unit_test(test_quantiles_interpolate_within_buckets),
        cmocka_unit_test(test_table_groups_by_kind_and_summarises_histograms),
        cmocka_unit_test(test_json_holds_every_family_with_summaries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
