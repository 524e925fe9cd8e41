/*
 * status.c - phasecast-status: fetch a server's /metrics over HTTP and
 * print it as a table (or JSON).
 *
 *   usage: phasecast-status [--json] [--timeout MS] [--max-bytes N] URL
 *
 * The fetch is one GET of URL + "/metrics" with libevent's HTTP client,
 * on a loop of its own with one deadline for the whole exchange (so a
 * server that trickles bytes cannot hold the tool longer than --timeout)
 * and caps on the reply's headers and body. The reply is untrusted and
 * goes through promtext.c's bounded reader; report.c prints it. Errors
 * are one line on stderr, `phasecast-status: code: message` (a JSON
 * object with --json). Exit status: 0 printed, 1 an error, 2 bad usage.
 * It does not follow redirects, speak HTTPS or retry.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "phasecast/alloc.h"
#include "phasecast/error.h"
#include "phasecast/version.h"

#include "promtext.h"
#include "report.h"

#define TIMEOUT_DEFAULT_MS 5000
#define MAX_BYTES_DEFAULT  ((size_t)4 << 20)
#define URL_MAX            2048
#define HEADERS_MAX        16384

static bool json_out;

static void usage(FILE *to)
{
    fputs("usage: phasecast-status [--json] [--timeout MS] [--max-bytes N] "
          "URL\n"
          "Fetch URL/metrics from a phasecast server's HTTP bridge\n"
          "(phasecast-serve --http ADDR) and print its figures: gauges,\n"
          "counters, and histograms with count, mean, p50 and p99.\n"
          "\n"
          "  URL              http://HOST:PORT (a path prefix is kept)\n"
          "  --json           one JSON document instead of the table\n"
          "  --timeout MS     give up after MS milliseconds in all [5000]\n"
          "  --max-bytes N    refuse a reply larger than N bytes [4194304]\n"
          "  --help, --version\n"
          "Exit status: 0 printed, 1 an error (no reply, an HTTP error, a\n"
          "reply that is not Prometheus text), 2 bad usage.\n",
          to);
}

static int fail(int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(int status, const char *code, const char *fmt, ...)
{
    char msg[PC_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (json_out) {
        cJSON *doc = cJSON_CreateObject();
        cJSON *e = cJSON_AddObjectToObject(doc, "error");
        cJSON_AddStringToObject(e, "code", code);
        cJSON_AddStringToObject(e, "message", msg);
        char *s = cJSON_PrintUnformatted(doc);
        fprintf(stderr, "%s\n", s != NULL ? s : "{\"error\":{}}");
        cJSON_free(s);
        cJSON_Delete(doc);
    } else {
        fprintf(stderr, "phasecast-status: %s: %s\n", code, msg);
    }
    return status;
}

static bool parse_size(const char *s, size_t min, size_t max, size_t *out)
{
    if (s == NULL || *s < '0' || *s > '9') {
        return false;
    }
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max) {
        return false;
    }
    *out = (size_t)v;
    return true;
}

/* One fetch: what the callbacks found. */
typedef struct fetch {
    struct event_base *base;
    size_t max_bytes;
    bool done;
    int status; /* HTTP status, 0 when none came */
    enum evhttp_request_error error;
    bool errored;
    bool timed_out; /* the overall deadline passed */
    char *body;     /* pc_malloc'd, NUL-terminated */
    size_t len;
    bool too_large;
} fetch;

static void on_error(enum evhttp_request_error e, void *arg)
{
    fetch *f = arg;
    f->errored = true;
    f->error = e;
}

static void on_done(struct evhttp_request *req, void *arg)
{
    fetch *f = arg;
    f->done = true;
    if (req == NULL || f->errored) {
        event_base_loopbreak(f->base);
        return;
    }
    f->status = evhttp_request_get_response_code(req);
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    if (n > f->max_bytes) {
        f->too_large = true;
    } else if ((f->body = pc_malloc(n + 1)) != NULL) {
        evbuffer_remove(in, f->body, n);
        f->body[n] = '\0';
        f->len = n;
    }
    event_base_loopbreak(f->base);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    fetch *f = arg;
    (void)fd;
    (void)what;
    f->timed_out = true;
    event_base_loopbreak(f->base);
}

/* Split url into host, port and path prefix; false if it is no http URL. */
static bool split_url(const char *url, char *host, size_t hcap, int *port,
                      char *path, size_t pcap)
{
    struct evhttp_uri *u = evhttp_uri_parse(url);
    if (u == NULL) {
        return false;
    }
    const char *scheme = evhttp_uri_get_scheme(u);
    const char *h = evhttp_uri_get_host(u);
    const char *p = evhttp_uri_get_path(u);
    bool ok = scheme != NULL && strcmp(scheme, "http") == 0 && h != NULL &&
              h[0] != '\0' && evhttp_uri_get_query(u) == NULL &&
              evhttp_uri_get_fragment(u) == NULL &&
              evhttp_uri_get_userinfo(u) == NULL && strlen(h) < hcap;
    if (ok) {
        snprintf(host, hcap, "%s", h);
        *port = evhttp_uri_get_port(u) > 0 ? evhttp_uri_get_port(u) : 80;
        p = p != NULL ? p : "";
        size_t n = strlen(p);
        while (n > 0 && p[n - 1] == '/') {
            n--; /* "http://h:1/" and "http://h:1" both mean /metrics */
        }
        ok = (size_t)snprintf(path, pcap, "%.*s/metrics", (int)n, p) < pcap;
    }
    evhttp_uri_free(u);
    return ok;
}

/* GET the metrics; 0 with f->body set, else the exit status (reported). */
static int get(const char *url, int timeout_ms, fetch *f)
{
    char host[256], path[URL_MAX];
    int port;
    if (strlen(url) >= URL_MAX ||
        !split_url(url, host, sizeof host, &port, path, sizeof path)) {
        return fail(2, "bad_url",
                    "'%s' is not an http://HOST[:PORT][/PREFIX] URL", url);
    }
    struct event_base *base = event_base_new();
    struct evhttp_connection *conn =
        base != NULL
            ? evhttp_connection_base_new(base, NULL, host, (ev_uint16_t)port)
            : NULL;
    struct event *deadline =
        base != NULL ? evtimer_new(base, on_deadline, f) : NULL;
    struct evhttp_request *req =
        conn != NULL ? evhttp_request_new(on_done, f) : NULL;
    f->base = base;
    int rv = 0;
    if (req == NULL || deadline == NULL) {
        rv = fail(1, "internal", "out of memory");
    } else {
        struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
        evhttp_connection_set_timeout_tv(conn, &tv);
        evhttp_connection_set_max_headers_size(conn, HEADERS_MAX);
        evhttp_connection_set_max_body_size(conn, (ev_ssize_t)f->max_bytes);
        evhttp_request_set_error_cb(req, on_error);
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        evhttp_add_header(h, "Host", host);
        evhttp_add_header(h, "Accept", "text/plain");
        evtimer_add(deadline, &tv);
        if (evhttp_make_request(conn, req, EVHTTP_REQ_GET, path) != 0) {
            req = NULL; /* freed by libevent on failure */
            rv =
                fail(1, "connect_failed", "cannot send the request to %s", url);
        } else {
            event_base_dispatch(base);
        }
    }
    if (rv == 0 && f->timed_out && !f->done) {
        rv = fail(1, "timeout", "no complete reply from %s within %d ms", url,
                  timeout_ms);
    } else if (rv == 0 &&
               (f->too_large ||
                (f->errored && f->error == EVREQ_HTTP_DATA_TOO_LONG))) {
        rv = fail(1, "too_large", "the reply is larger than %zu bytes",
                  f->max_bytes);
    } else if (rv == 0 && f->errored && f->error == EVREQ_HTTP_TIMEOUT) {
        rv = fail(1, "timeout", "no complete reply from %s within %d ms", url,
                  timeout_ms);
    } else if (rv == 0 && (f->errored || f->status == 0)) {
        rv = fail(1, "connect_failed", "no HTTP reply from %s", url);
    } else if (rv == 0 && f->status != 200) {
        rv = fail(1, "http_status", "%s%s answered HTTP %d", url, "/metrics",
                  f->status);
    } else if (rv == 0 && f->body == NULL) {
        rv = fail(1, "internal", "out of memory");
    }
    if (deadline != NULL) {
        event_free(deadline);
    }
    if (conn != NULL) {
        evhttp_connection_free(conn); /* frees a pending request too */
    }
    if (base != NULL) {
        event_base_free(base);
    }
    return rv;
}

int main(int argc, char **argv)
{
    size_t timeout_ms = TIMEOUT_DEFAULT_MS, max_bytes = MAX_BYTES_DEFAULT;
    const char *url = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf("phasecast-status %s\n", pc_version());
            return 0;
        } else if (strcmp(a, "--json") == 0) {
            json_out = true;
        } else if (strcmp(a, "--timeout") == 0) {
            if (!parse_size(next, 1, 3600000, &timeout_ms)) {
                return fail(2, "bad_usage",
                            "--timeout takes milliseconds, 1 to 3600000");
            }
            i++;
        } else if (strcmp(a, "--max-bytes") == 0) {
            if (!parse_size(next, 1, (size_t)1 << 30, &max_bytes)) {
                return fail(2, "bad_usage",
                            "--max-bytes takes bytes, 1 to 1073741824");
            }
            i++;
        } else if (a[0] == '-' && a[1] != '\0') {
            usage(stderr);
            return fail(2, "bad_usage", "unknown option %s", a);
        } else if (url != NULL) {
            return fail(2, "bad_usage", "give one URL");
        } else {
            url = a;
        }
    }
    if (url == NULL) {
        usage(stderr);
        return 2;
    }
    fetch f = {0};
    f.max_bytes = max_bytes;
    int rv = get(url, (int)timeout_ms, &f);
    if (rv != 0) {
        pc_free(f.body);
        libevent_global_shutdown();
        return rv;
    }
    pt_limits lim;
    pt_limits_default(&lim);
    lim.max_bytes = max_bytes;
    pt_doc *doc = NULL;
    pc_error err = {0};
    if (pt_parse(f.body, f.len, &lim, &doc, &err) != PC_OK) {
        rv = fail(1, err.code[0] != '\0' ? err.code : "internal",
                  "%s/metrics: %s", url, err.message);
    } else {
        char source[URL_MAX + 16];
        snprintf(source, sizeof source, "%s", url);
        pc_err rc = json_out ? st_print_json(stdout, doc, source)
                             : st_print_table(stdout, doc, source);
        if (rc != PC_OK) {
            rv = fail(1, "internal", "out of memory");
        }
    }
    pt_free(doc);
    pc_free(f.body);
    libevent_global_shutdown();
    if (fflush(stdout) != 0 && rv == 0) {
        rv = fail(1, "io", "cannot write the output");
    }
    return rv;
}
