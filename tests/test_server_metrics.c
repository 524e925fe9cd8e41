/*
 * test_server_metrics.c - the server's metrics against known traffic: a
 * real server with a change log, driven over a real REQ socket on
 * 127.0.0.1, and pc_server_metrics_text read back and checked figure by
 * figure (requests by op and their histograms, errors by code, changes
 * committed and sent in repairs, client reports, log append and fsync
 * counts). Also the report request's refusals, which change no counter.
 */
#include "test_server_support.h"

#include <stdlib.h>
#include <unistd.h>

#include "phasecast/alloc.h"

#include "countergame.h"
#include "testnet.h"

#define ROOM "m1"

typedef struct fix {
    pc_server *srv;
    nng_socket req;
    char dir[64];
} fix;

static int setup(void **state)
{
    fix *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/pc-metrics-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    pc_server_options o;
    pc_server_options_init(&o);
    o.pub_url = "tcp://127.0.0.1:0";
    o.rep_url = "tcp://127.0.0.1:0";
    o.heartbeat_ms = 50;
    o.log_dir = f->dir;
    o.fsync = PC_FSYNC_ALWAYS; /* every append syncs: fsyncs are counted */
    f->srv = testnet_serve(&o, countergame_public(), ROOM, 100);
    f->req = req_open(pc_server_rep_url(f->srv));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fix *f = *state;
    pc_server_free(f->srv); /* before its clients: nng 1.5.2 close race */
    nng_close(f->req);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* The metrics text now (free with pc_free). */
static char *metrics(fix *f)
{
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(pc_server_metrics_text(f->srv, &text, &len), PC_OK);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    return text;
}

/* The value of the sample whose name and labels are exactly series; the
 * test fails if there is none. */
static double value(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *line = text; *line != '\0';) {
        const char *end = strchr(line, '\n');
        assert_non_null(end);
        if (strncmp(line, series, n) == 0 && line[n] == ' ') {
            return strtod(line + n + 1, NULL);
        }
        line = end + 1;
    }
    fail_msg("no sample %s", series);
    return 0;
}

static bool has_series(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = strstr(text, series); p != NULL;
         p = strstr(p + 1, series)) {
        if ((p == text || p[-1] == '\n') && p[n] == ' ') {
            return true;
        }
    }
    return false;
}

static void expect(const char *text, const char *series, double want)
{
    double got = value(text, series);
    if (got != want) {
        fail_msg("%s is %g, expected %g", series, got, want);
    }
}

static void expect_ok(nng_socket s, const char *body)
{
    cJSON *r = request(s, "%s", body);
    ok_result(r);
    cJSON_Delete(r);
}

/* A player's token (join as name). */
static char *join(fix *f, const char *name)
{
    cJSON *r = request(f->req,
                       "{\"op\":\"join\",\"room\":\"" ROOM
                       "\",\"role\":\"player\",\"name\":\"%s\"}",
                       name);
    char *token = strdup(str(ok_result(r), "token"));
    cJSON_Delete(r);
    return token;
}

static void act(fix *f, const char *token, int id)
{
    cJSON *r = request(f->req,
                       "{\"op\":\"action\",\"room\":\"" ROOM
                       "\",\"token\":\"%s\",\"action_id\":\"a%d\","
                       "\"type\":\"inc\"}",
                       token, id);
    ok_result(r);
    cJSON_Delete(r);
}

static const char *const ops[] = {"ping",     "info",    "join",
                                  "snapshot", "changes", "action",
                                  "inspect",  "report",  "unknown"};

/* Every op's histogram counts exactly its requests, cumulatively. */
static void expect_histograms_match_counts(const char *text)
{
    char series[160];
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        snprintf(series, sizeof series, "phasecast_requests_total{op=\"%s\"}",
                 ops[i]);
        double n = value(text, series);
        snprintf(series, sizeof series,
                 "phasecast_request_duration_seconds_count{op=\"%s\"}", ops[i]);
        expect(text, series, n);
        snprintf(series, sizeof series,
                 "phasecast_request_duration_seconds_bucket{op=\"%s\","
                 "le=\"+Inf\"}",
                 ops[i]);
        expect(text, series, n);
        snprintf(series, sizeof series,
                 "phasecast_request_duration_seconds_bucket{op=\"%s\","
                 "le=\"5e-05\"}",
                 ops[i]);
        assert_true(value(text, series) <= n);
    }
}

static void test_metrics_count_known_traffic_exactly(void **state)
{
    fix *f = *state;
    enum { PINGS = 5, ACTIONS = 3 };
    for (int i = 0; i < PINGS; i++) {
        expect_ok(f->req, "{\"op\":\"ping\"}");
    }
    char *token = join(f, "alice");
    for (int i = 0; i < ACTIONS; i++) {
        act(f, token, i);
    }
    act(f, token, 0); /* a repeat: answered from the cache, no change */
    free(token);
    cJSON *r = request(f->req, "%s", "this is not json");
    assert_error(r, "bad_request");
    cJSON_Delete(r);
    r = request(f->req, "{\"op\":\"snapshot\",\"room\":\"nowhere\"}");
    assert_error(r, "unknown_room");
    cJSON_Delete(r);
    expect_ok(f->req, "{\"op\":\"report\",\"room\":\"" ROOM
                      "\",\"kind\":\"checksum_mismatch\",\"seq\":2}");
    expect_ok(f->req, "{\"op\":\"changes\",\"room\":\"" ROOM "\",\"since\":0}");
    expect_ok(f->req, "{\"op\":\"changes\",\"room\":\"" ROOM "\",\"since\":2}");
    expect_ok(f->req, "{\"op\":\"snapshot\",\"room\":\"" ROOM "\"}");

    char *text = metrics(f);
    expect(text, "phasecast_rooms", 1);
    expect(text, "phasecast_requests_total{op=\"ping\"}", PINGS);
    expect(text, "phasecast_requests_total{op=\"join\"}", 1);
    expect(text, "phasecast_requests_total{op=\"action\"}", ACTIONS + 1);
    expect(text, "phasecast_requests_total{op=\"unknown\"}", 1);
    expect(text, "phasecast_requests_total{op=\"snapshot\"}", 2);
    expect(text, "phasecast_requests_total{op=\"changes\"}", 2);
    expect(text, "phasecast_requests_total{op=\"report\"}", 1);
    expect(text, "phasecast_requests_total{op=\"info\"}", 0);
    expect(text, "phasecast_requests_total{op=\"inspect\"}", 0);
    expect(text, "phasecast_request_errors_total{code=\"bad_request\"}", 1);
    expect(text, "phasecast_request_errors_total{code=\"unknown_room\"}", 1);
    assert_false(has_series(text, "phasecast_request_errors_total{code="
                                  "\"internal\"}"));
    expect(text, "phasecast_changes_committed_total", ACTIONS);
    expect(text, "phasecast_gap_repair_changes_total", ACTIONS + 1);
    expect(text, "phasecast_client_reports_total{kind=\"checksum_mismatch\"}",
           1);
    expect(text, "phasecast_log_append_duration_seconds_count", ACTIONS);
    expect(text, "phasecast_log_append_duration_seconds_bucket{le=\"+Inf\"}",
           ACTIONS);
    assert_true(value(text, "phasecast_log_fsync_duration_seconds_count") >=
                ACTIONS);
    assert_true(value(text, "phasecast_changes_published_total") <= ACTIONS);
    expect(text, "phasecast_http_connections", 0);
    expect(text, "phasecast_sse_connections", 0);
    expect(text, "phasecast_http_requests_total{class=\"2xx\"}", 0);
    expect_histograms_match_counts(text);
    pc_free(text);
}

static void test_every_family_has_help_and_type(void **state)
{
    fix *f = *state;
    char *text = metrics(f);
    size_t families = 0;
    for (const char *line = text; *line != '\0';) {
        const char *end = strchr(line, '\n');
        assert_non_null(end);
        if (strncmp(line, "# TYPE ", 7) == 0) {
            families++;
            /* The HELP line of the same name comes just before. */
            const char *name = line + 7;
            size_t n = strcspn(name, " ");
            char help[128];
            snprintf(help, sizeof help, "# HELP %.*s ", (int)n, name);
            assert_non_null(strstr(text, help));
            assert_int_equal(strncmp(name, "phasecast_", 10), 0);
        } else if (line[0] != '#') {
            assert_int_equal(strncmp(line, "phasecast_", 10), 0);
        }
        line = end + 1;
    }
    assert_int_equal(families, 25); /* docs/metrics.md lists each */
    pc_free(text);
}

static void test_report_refusals_change_no_counter(void **state)
{
    fix *f = *state;
    static const char *const bad[][2] = {
        {"{\"op\":\"report\",\"room\":\"" ROOM
         "\",\"kind\":\"bored\",\"seq\":1}",
         "bad_request"},
        {"{\"op\":\"report\",\"room\":\"" ROOM "\",\"kind\":1,\"seq\":1}",
         "bad_request"},
        {"{\"op\":\"report\",\"room\":\"" ROOM
         "\",\"kind\":\"checksum_mismatch\"}",
         "bad_request"},
        {"{\"op\":\"report\",\"room\":\"" ROOM
         "\",\"kind\":\"checksum_mismatch\",\"seq\":-1}",
         "bad_request"},
        {"{\"op\":\"report\",\"room\":\"nowhere\","
         "\"kind\":\"checksum_mismatch\",\"seq\":1}",
         "unknown_room"},
        {"{\"op\":\"report\",\"room\":\"" ROOM
         "\",\"token\":\"00\",\"kind\":\"checksum_mismatch\",\"seq\":1}",
         "bad_token"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *r = request(f->req, "%s", bad[i][0]);
        assert_error(r, bad[i][1]);
        cJSON_Delete(r);
    }
    char *text = metrics(f);
    expect(text, "phasecast_client_reports_total{kind=\"checksum_mismatch\"}",
           0);
    expect(text, "phasecast_requests_total{op=\"report\"}", 6);
    expect(text, "phasecast_request_errors_total{code=\"bad_request\"}", 4);
    pc_free(text);
    /* A player's token is accepted. */
    char *token = join(f, "bob");
    cJSON *r = request(f->req,
                       "{\"op\":\"report\",\"room\":\"" ROOM
                       "\",\"token\":\"%s\",\"kind\":\"checksum_mismatch\","
                       "\"seq\":0}",
                       token);
    free(token);
    assert_string_equal(str(ok_result(r), "room"), ROOM);
    cJSON_Delete(r);
    text = metrics(f);
    expect(text, "phasecast_client_reports_total{kind=\"checksum_mismatch\"}",
           1);
    pc_free(text);
}

static void test_metrics_text_rejects_null_arguments(void **state)
{
    fix *f = *state;
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(pc_server_metrics_text(NULL, &text, &len), PC_ERR_INVALID);
    assert_int_equal(pc_server_metrics_text(f->srv, NULL, &len),
                     PC_ERR_INVALID);
    assert_int_equal(pc_server_metrics_text(f->srv, &text, NULL),
                     PC_ERR_INVALID);
    assert_null(text);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_metrics_count_known_traffic_exactly),
        T(test_every_family_has_help_and_type),
        T(test_report_refusals_change_no_counter),
        T(test_metrics_text_rejects_null_arguments),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    pc_transport_fini();
    return rc;
}
