/*
 * metrics.c - the server's counters, gauges and latency histograms, and
 * their Prometheus text (format 0.0.4).
 *
 * Everything is a plain integer written on the loop thread: durations are
 * kept in nanoseconds (bucket counts, a sum and a count per histogram) and
 * turned into seconds only when rendered, so no floating point error
 * accumulates. Histograms share one set of bucket bounds, 50 us to 1 s,
 * wide enough for a request answered from memory and a slow fsync alike.
 * Error codes are labels, and game codes are the game's to choose, so the
 * table of codes is bounded: past PC__METRICS_CODES_MAX distinct codes the
 * rest count under "other". Label values are escaped as the format asks
 * (backslash, double quote, newline), although the server's own codes
 * never need it. Rendering writes every family with its # HELP and # TYPE
 * lines, and every op, kind and status class with a sample even at zero,
 * so a scraper sees the same series from the first scrape on.
 */
#include "metrics.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "phasecast/alloc.h"
#include "envelope.h"

/* Upper bounds of the histogram buckets, in ns; +Inf is implicit. */
static const uint64_t bounds_ns[] = {
    50000,    100000,   250000,   500000,    1000000,   2500000,   5000000,
    10000000, 25000000, 50000000, 100000000, 250000000, 500000000, 1000000000,
};
/* The same bounds as the `le` labels print them. */
static const char *const bounds_text[] = {
    "5e-05", "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005",
    "0.01",  "0.025",  "0.05",    "0.1",    "0.25",  "0.5",    "1",
};
#define NBOUNDS (sizeof bounds_ns / sizeof bounds_ns[0])

/* One latency histogram; buckets are not cumulative until rendered. */
typedef struct hist {
    uint64_t bucket[NBOUNDS + 1]; /* the last one is (1 s, +Inf) */
    uint64_t count;
    uint64_t sum_ns;
} hist;

/* A request error code and how often it was answered. */
typedef struct code_count {
    char code[PC_ERROR_CODE_MAX];
    uint64_t n;
} code_count;

struct pc__metrics {
    uint64_t requests[PC__OP_COUNT];
    hist request_time[PC__OP_COUNT];
    code_count codes[PC__METRICS_CODES_MAX];
    size_t ncodes;
    uint64_t codes_other; /* codes past the table's capacity */
    uint64_t committed;
    uint64_t repair_changes;
    uint64_t reports[PC__REPORT_COUNT];
    hist log_append, log_fsync;
};

static const char *const op_names[PC__OP_COUNT] = {
    "ping",   "info",    "join",   "snapshot", "changes",
    "action", "inspect", "report", "unknown",
};

static const char *const report_names[PC__REPORT_COUNT] = {
    "checksum_mismatch",
};

pc_err pc__metrics_new(pc__metrics **out)
{
    pc__metrics *m = pc_malloc(sizeof *m);
    if (m == NULL) {
        return PC_ERR_NOMEM;
    }
    memset(m, 0, sizeof *m);
    *out = m;
    return PC_OK;
}

void pc__metrics_free(pc__metrics *m)
{
    pc_free(m);
}

pc__metrics_op pc__metrics_op_named(const char *op)
{
    for (int i = 0; i < PC__OP_UNKNOWN; i++) {
        if (strcmp(op, op_names[i]) == 0) {
            return (pc__metrics_op)i;
        }
    }
    return PC__OP_UNKNOWN;
}

int pc__metrics_report_named(const char *s)
{
    for (int i = 0; i < PC__REPORT_COUNT; i++) {
        if (strcmp(s, report_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

static void observe(hist *h, uint64_t ns)
{
    size_t i = 0;
    while (i < NBOUNDS && ns > bounds_ns[i]) {
        i++;
    }
    h->bucket[i]++;
    h->count++;
    h->sum_ns += ns;
}

static void count_code(pc__metrics *m, const char *code)
{
    for (size_t i = 0; i < m->ncodes; i++) {
        if (strcmp(m->codes[i].code, code) == 0) {
            m->codes[i].n++;
            return;
        }
    }
    if (m->ncodes == PC__METRICS_CODES_MAX) {
        m->codes_other++;
        return;
    }
    code_count *c = &m->codes[m->ncodes++];
    snprintf(c->code, sizeof c->code, "%s", code);
    c->n = 1;
}

void pc__metrics_request(pc__metrics *m, pc__metrics_op op, uint64_t ns,
                         const char *error_code)
{
    if ((unsigned)op >= PC__OP_COUNT) {
        op = PC__OP_UNKNOWN;
    }
    m->requests[op]++;
    observe(&m->request_time[op], ns);
    if (error_code != NULL && error_code[0] != '\0') {
        count_code(m, error_code);
    }
}

void pc__metrics_repair_changes(pc__metrics *m, uint64_t n)
{
    m->repair_changes += n;
}

void pc__metrics_report(pc__metrics *m, pc__report_kind kind)
{
    if ((unsigned)kind < PC__REPORT_COUNT) {
        m->reports[kind]++;
    }
}

void pc__metrics_sink(pc_room *room, const pc_change *change, void *arg)
{
    (void)room;
    (void)change;
    ((pc__metrics *)arg)->committed++;
}

void pc__metrics_log_io(pc_changelog_io io, uint64_t ns, void *arg)
{
    pc__metrics *m = arg;
    observe(io == PC_CHANGELOG_IO_FSYNC ? &m->log_fsync : &m->log_append, ns);
}

/* ------------------------------------------------------------------ */
/* Rendering                                                           */
/* ------------------------------------------------------------------ */

/* The text being rendered; the first failure sticks. */
typedef struct out {
    pc__text t;
    bool failed;
} out;

static void put(out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void put(out *o, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    /* Every line written here is short: names, labels and numbers. */
    if (o->failed || n < 0 || (size_t)n >= sizeof buf ||
        pc__text_put(&o->t, buf, (size_t)n) != PC_OK) {
        o->failed = true;
    }
}

/* A label value with \, " and newline escaped (format 0.0.4). */
static void escape(const char *s, char *dst, size_t cap)
{
    size_t j = 0;
    for (; *s != '\0' && j + 3 < cap; s++) {
        char c = *s;
        if (c == '\\' || c == '"' || c == '\n') {
            dst[j++] = '\\';
            c = c == '\n' ? 'n' : c;
        }
        dst[j++] = c;
    }
    dst[j] = '\0';
}

static void family(out *o, const char *name, const char *type, const char *help)
{
    put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(out *o, const char *name, uint64_t v)
{
    put(o, "%s %llu\n", name, (unsigned long long)v);
}

/* ns as seconds, exactly (nine decimals). */
static void seconds(out *o, const char *name, const char *labels, uint64_t ns)
{
    put(o, "%s%s %llu.%09llu\n", name, labels,
        (unsigned long long)(ns / 1000000000u),
        (unsigned long long)(ns % 1000000000u));
}

/* The samples of histogram h; label is `key="value"` or "". */
static void hist_samples(out *o, const char *name, const char *label,
                         const hist *h)
{
    const char *sep = label[0] != '\0' ? "," : "";
    uint64_t cum = 0;
    for (size_t i = 0; i < NBOUNDS; i++) {
        cum += h->bucket[i];
        put(o, "%s_bucket{%s%sle=\"%s\"} %llu\n", name, label, sep,
            bounds_text[i], (unsigned long long)cum);
    }
    put(o, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, label, sep,
        (unsigned long long)h->count);
    char braces[128] = "";
    if (label[0] != '\0') {
        snprintf(braces, sizeof braces, "{%s}", label);
    }
    char full[128];
    snprintf(full, sizeof full, "%s_sum", name);
    seconds(o, full, braces, h->sum_ns);
    put(o, "%s_count%s %llu\n", name, braces, (unsigned long long)h->count);
}

static void render_publishing(out *o, const pc__pub_stats *pub, size_t rooms,
                              uint64_t committed)
{
    family(o, "phasecast_rooms", "gauge", "Rooms the server hosts.");
    sample(o, "phasecast_rooms", rooms);
    family(o, "phasecast_changes_committed_total", "counter",
           "Changes committed by the server's rooms.");
    sample(o, "phasecast_changes_committed_total", committed);
    family(o, "phasecast_changes_published_total", "counter",
           "Changes sent in broadcast frames.");
    sample(o, "phasecast_changes_published_total", pub->changes);
    family(o, "phasecast_changes_lost_total", "counter",
           "Committed changes that could not be encoded or sent "
           "(clients repair them).");
    sample(o, "phasecast_changes_lost_total", pub->lost);
    family(o, "phasecast_frames_published_total", "counter",
           "Broadcast frames of changes sent.");
    sample(o, "phasecast_frames_published_total", pub->frames);
    family(o, "phasecast_published_bytes_total", "counter",
           "Bytes of the broadcast frames of changes, topics included.");
    sample(o, "phasecast_published_bytes_total", pub->bytes);
    family(o, "phasecast_heartbeats_total", "counter",
           "Heartbeats sent on the broadcast socket.");
    sample(o, "phasecast_heartbeats_total", pub->heartbeats);
    family(o, "phasecast_publish_seconds_total", "counter",
           "Time the loop spent encoding and sending changes.");
    seconds(o, "phasecast_publish_seconds_total", "", pub->publish_ns);
}

static void render_requests(out *o, const pc__metrics *m)
{
    char label[64];
    family(o, "phasecast_requests_total", "counter",
           "Requests answered, by operation.");
    for (int i = 0; i < PC__OP_COUNT; i++) {
        put(o, "phasecast_requests_total{op=\"%s\"} %llu\n", op_names[i],
            (unsigned long long)m->requests[i]);
    }
    family(o, "phasecast_request_duration_seconds", "histogram",
           "Time to answer a request, by operation.");
    for (int i = 0; i < PC__OP_COUNT; i++) {
        snprintf(label, sizeof label, "op=\"%s\"", op_names[i]);
        hist_samples(o, "phasecast_request_duration_seconds", label,
                     &m->request_time[i]);
    }
    family(o, "phasecast_request_errors_total", "counter",
           "Requests answered with an error, by error code.");
    char esc[PC_ERROR_CODE_MAX * 2];
    for (size_t i = 0; i < m->ncodes; i++) {
        escape(m->codes[i].code, esc, sizeof esc);
        put(o, "phasecast_request_errors_total{code=\"%s\"} %llu\n", esc,
            (unsigned long long)m->codes[i].n);
    }
    if (m->codes_other > 0) {
        put(o, "phasecast_request_errors_total{code=\"other\"} %llu\n",
            (unsigned long long)m->codes_other);
    }
    family(o, "phasecast_gap_repair_changes_total", "counter",
           "Changes sent in replies to changes requests (gap repairs).");
    sample(o, "phasecast_gap_repair_changes_total", m->repair_changes);
    family(o, "phasecast_client_reports_total", "counter",
           "Problems clients reported with the report request, by kind.");
    for (int i = 0; i < PC__REPORT_COUNT; i++) {
        put(o, "phasecast_client_reports_total{kind=\"%s\"} %llu\n",
            report_names[i], (unsigned long long)m->reports[i]);
    }
}

static void render_log(out *o, const pc__metrics *m)
{
    family(o, "phasecast_log_append_duration_seconds", "histogram",
           "Time to write one change record to a room's change log, "
           "its fsync included when the policy syncs it then.");
    hist_samples(o, "phasecast_log_append_duration_seconds", "",
                 &m->log_append);
    family(o, "phasecast_log_fsync_duration_seconds", "histogram",
           "Time of one fdatasync of a room's change log.");
    hist_samples(o, "phasecast_log_fsync_duration_seconds", "", &m->log_fsync);
}

/* One sample of a family of its own. */
static void single(out *o, const char *name, const char *type, const char *help,
                   uint64_t v)
{
    family(o, name, type, help);
    put(o, "%s %llu\n", name, (unsigned long long)v);
}

static void render_http(out *o, const pc_server_http_stats *h)
{
    single(o, "phasecast_http_connections", "gauge",
           "HTTP connections open now (event streams included).",
           h->connections);
    single(o, "phasecast_http_connections_accepted_total", "counter",
           "HTTP connections accepted.", h->connections_total);
    family(o, "phasecast_http_requests_total", "counter",
           "HTTP replies sent, by status class.");
    for (int i = 1; i <= 5; i++) {
        put(o, "phasecast_http_requests_total{class=\"%dxx\"} %llu\n", i,
            (unsigned long long)h->responses[i]);
    }
    single(o, "phasecast_http_rate_limited_total", "counter",
           "HTTP requests refused with 429 by the per-address rate limit.",
           h->rate_limited);
    single(o, "phasecast_sse_connections", "gauge",
           "Server-Sent Events streams open now.", h->sse_streams);
    single(o, "phasecast_sse_streams_opened_total", "counter",
           "Server-Sent Events streams opened.", h->sse_opened);
    family(o, "phasecast_sse_starts_total", "counter",
           "Streams by how they started: resumed from the room's history "
           "(Last-Event-ID or since inside the ring) or with a snapshot.");
    put(o, "phasecast_sse_starts_total{from=\"ring\"} %llu\n",
        (unsigned long long)h->sse_resumed);
    put(o, "phasecast_sse_starts_total{from=\"snapshot\"} %llu\n",
        (unsigned long long)h->sse_snapshots);
    single(o, "phasecast_sse_streams_cut_total", "counter",
           "Streams closed because their unsent bytes passed the cap.",
           h->sse_cut);
    single(o, "phasecast_sse_events_total", "counter",
           "Events queued on streams, heartbeats included.", h->sse_events);
    single(o, "phasecast_sse_event_bytes_total", "counter",
           "Bytes of those events.", h->sse_bytes);
}

pc_err pc__metrics_render(const pc__metrics *m, const pc__pub_stats *pub,
                          size_t rooms, const pc_server_http_stats *http,
                          char **text, size_t *len)
{
    static const pc_server_http_stats none;
    out o = {0};
    render_publishing(&o, pub, rooms, m->committed);
    render_requests(&o, m);
    render_log(&o, m);
    render_http(&o, http != NULL ? http : &none);
    if (!o.failed && pc__text_put(&o.t, "", 1) != PC_OK) { /* the NUL */
        o.failed = true;
    }
    if (o.failed) {
        pc__text_free(&o.t);
        return PC_ERR_NOMEM;
    }
    /* pc__text grows with pc_realloc, so its buffer is the caller's to
     * pc_free. */
    *len = o.t.len - 1;
    *text = o.t.buf;
    return PC_OK;
}
