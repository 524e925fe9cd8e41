/*
 * bench_fanout.c - how fast committed changes reach 1 to 1,000
 * subscribers over ipc and tcp, how late they arrive at a steady rate, and
 * what bare nng does with the same bytes. A measuring tool, not a test: it
 * asserts nothing about speed. It exits 1 only if a run did not converge
 * (some client did not end with the server's exact state), so CI can run
 * `--smoke` to check that much.
 *
 * The server runs in this process on its own loop thread; the subscribers
 * run in a child process (this executable with --subscriber, see fanout.h)
 * as spectator pc_clients driven by a few epoll threads.
 *
 * Per transport and subscriber count N:
 *  1. Throughput: K changes {"n": i, "pad": 64 B} committed in batches of
 *     100 posted to the loop. Time runs from the first commit to the
 *     moment the last client applied seq K. The run counts only if every
 *     client then holds the server's state checksum.
 *  2. Latency: L changes {"t": ns} committed one per 1/rate s; each client
 *     records CLOCK_MONOTONIC now - t when it applies one from the
 *     broadcast (repaired changes are counted separately, not sampled).
 *  3. Baselines: a bare nng PUB sends the bytes the server published in
 *     (1) to N bare SUBs in a child process, (a) as the same number of
 *     messages (same frames): compared are the publish path (pub_x: the
 *     server's encode-and-send time, pc_server_stats.publish_ns, against
 *     the time nng_send takes), its send part alone (send_x: send_ns, the
 *     same work as nng_send, against it; enc_ns is the rest per change)
 *     and end-to-end delivery time; (b) as one message per
 *     change, as a server that does not batch would: compared are
 *     messages delivered per second per subscriber.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>

#include "fanout.h"
#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/room.h"
#include "phasecast/server.h"

extern char **environ;

#define PAD     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define BATCH   100
#define LINE_MS 180000 /* longest wait for one answer from the child */

static const pc_phase phases[] = {{"PLAY", NULL, NULL, NULL, NULL, 0}};
static const pc_game game = {.name = "fanout", .phases = phases, .nphases = 1};

/* ---- the child process -------------------------------------------------- */

typedef struct child {
    pid_t pid;
    FILE *in; /* its stdin */
    int out;  /* its stdout */
    char buf[4096];
    size_t len;
} child;

static int spawn_child(child *ch, const char *mode, const char *pub,
                       const char *req, int n, int threads)
{
    int to[2], from[2];
    if (pipe2(to, O_CLOEXEC) != 0 || pipe2(from, O_CLOEXEC) != 0) {
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, to[0], 0);
    posix_spawn_file_actions_adddup2(&fa, from[1], 1);
    char ns[16], ts[16];
    snprintf(ns, sizeof ns, "%d", n);
    snprintf(ts, sizeof ts, "%d", threads);
    char *argv[] = {"phasecast-bench-fanout",
                    "--subscriber",
                    (char *)mode,
                    (char *)pub,
                    (char *)req,
                    ns,
                    ts,
                    NULL};
    /* The resolved path, not "/proc/self/exe" itself: under valgrind that
     * names valgrind's tool, while readlink gives this program's. */
    char exe[4096];
    ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (el <= 0 || (size_t)el >= sizeof exe - 1) {
        snprintf(exe, sizeof exe, "/proc/self/exe");
    } else {
        exe[el] = '\0';
    }
    int rc = posix_spawn(&ch->pid, exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(to[0]);
    close(from[1]);
    if (rc != 0) {
        close(to[1]);
        close(from[0]);
        return -1;
    }
    ch->in = fdopen(to[1], "w");
    ch->out = from[0];
    ch->len = 0;
    return ch->in != NULL ? 0 : -1;
}

/* Read one line (without '\n') into line; false on EOF or timeout. */
static bool child_line(child *ch, char *line, size_t cap)
{
    uint64_t end = fanout_now_ns() + (uint64_t)LINE_MS * 1000000u;
    for (;;) {
        char *nl = memchr(ch->buf, '\n', ch->len);
        if (nl != NULL) {
            size_t n = (size_t)(nl - ch->buf);
            size_t c = n < cap - 1 ? n : cap - 1;
            memcpy(line, ch->buf, c);
            line[c] = '\0';
            memmove(ch->buf, nl + 1, ch->len - n - 1);
            ch->len -= n + 1;
            return true;
        }
        uint64_t now = fanout_now_ns();
        if (now >= end || ch->len == sizeof ch->buf) {
            return false;
        }
        struct pollfd p = {.fd = ch->out, .events = POLLIN};
        if (poll(&p, 1, (int)((end - now) / 1000000u) + 1) <= 0) {
            continue;
        }
        ssize_t r = read(ch->out, ch->buf + ch->len, sizeof ch->buf - ch->len);
        if (r <= 0) {
            return false;
        }
        ch->len += (size_t)r;
    }
}

static bool child_cmd(child *ch, char *line, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool child_cmd(child *ch, char *line, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(ch->in, fmt, ap);
    va_end(ap);
    fputc('\n', ch->in);
    fflush(ch->in);
    return child_line(ch, line, cap);
}

static int child_end(child *ch)
{
    char line[64];
    if (ch->in != NULL) {
        (void)child_cmd(ch, line, sizeof line, "quit");
        fclose(ch->in);
    }
    close(ch->out);
    int st = 0;
    uint64_t end = fanout_now_ns() + 10000000000ull;
    while (waitpid(ch->pid, &st, WNOHANG) == 0) {
        if (fanout_now_ns() > end) {
            kill(ch->pid, SIGKILL);
            waitpid(ch->pid, &st, 0);
            return -1;
        }
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- the server side ---------------------------------------------------- */

typedef struct batch {
    uint64_t from, count;
    bool stamp; /* latency mode: {"t": ns} instead of {"n", "pad"} */
    _Atomic int failures;
} batch;

static void add_room(pc_server *srv, void *arg)
{
    pc_server_room_options ro;
    pc_server_room_options_init(&ro);
    ro.room.id = FANOUT_ROOM;
    ro.room.history_capacity = 1000;
    ro.join_action = NULL;
    *(pc_err *)arg = pc_server_add_room(srv, &game, &ro, NULL);
}

static void commit_batch(pc_server *srv, void *arg)
{
    batch *b = arg;
    pc_room *room = pc_server_find_room(srv, FANOUT_ROOM);
    for (uint64_t i = 0; i < b->count; i++) {
        cJSON *p = cJSON_CreateObject();
        if (b->stamp) {
            cJSON_AddNumberToObject(p, "t", (double)fanout_now_ns());
        } else {
            cJSON_AddNumberToObject(p, "n", (double)(b->from + i));
            cJSON_AddStringToObject(p, "pad", PAD);
        }
        if (room == NULL || pc_update_phase_data(room, p, "bench") != PC_OK) {
            b->failures++;
        }
        cJSON_Delete(p);
    }
}

typedef struct snap {
    uint64_t seq, sum;
} snap;

static void server_state(pc_server *srv, void *arg)
{
    snap *s = arg;
    pc_room *room = pc_server_find_room(srv, FANOUT_ROOM);
    s->seq = s->sum = 0;
    if (room != NULL) {
        (void)pc_canon_checksum(pc_room_state(room), &s->sum, NULL);
        s->seq = pc_room_seq(room);
    }
}

/* ---- one configuration -------------------------------------------------- */

typedef struct result {
    const char *transport;
    int n;
    uint64_t k, l;
    bool ok; /* every client reached every target with the server's sum */
    size_t diverged;
    double rate; /* changes/s delivered to every client */
    uint64_t repairs, snapshots, gaps, mismatches;
    uint64_t frames, bytes;
    double publish_us; /* server encode+send time for the K changes */
    double send_us;    /* the send part of it (nng message, copy, send) */
    double deliver_s;  /* first commit to last client at K */
    uint64_t lat_samples;
    double p50_us, p99_us, max_us;
    double bare_send_us;   /* nng_send of the same frames and bytes */
    double bare_deliver_s; /* first send to last receipt */
    double bare_delivered; /* fraction of messages that arrived */
    double bare1_rate;     /* one message per change, same bytes: messages
                              delivered per second per subscriber */
    double bare1_delivered;
} result;

/* Parse "done D T SUM DIFF REPAIRS SNAPS GAPS MISMATCH" into r. */
static bool parse_done(const char *line, const snap *server, int n,
                       uint64_t *t_last, result *r)
{
    unsigned long long d, t, sum, diff, rep, sn, gaps, mism;
    if (sscanf(line, "done %llu %llu %llx %llu %llu %llu %llu %llu", &d, &t,
               &sum, &diff, &rep, &sn, &gaps, &mism) != 8) {
        fprintf(stderr, "bench: child said '%s'\n", line);
        return false;
    }
    *t_last = t;
    r->repairs += rep;
    r->snapshots += sn;
    r->gaps += gaps;
    r->mismatches += mism;
    size_t bad = (size_t)(n - (int)d) + diff;
    if (d > 0 && sum != server->sum) {
        bad = (size_t)n; /* they agree with each other, not the server */
    }
    r->diverged += bad;
    return bad == 0;
}

static int pipes_added;
static void on_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    (void)p;
    (void)arg;
    __atomic_add_fetch(&pipes_added, ev == NNG_PIPE_EV_ADD_POST ? 1 : -1,
                       __ATOMIC_SEQ_CST);
}

/*
 * Bare nng: the bytes the server published in the throughput run, sent
 * through a plain PUB to n bare SUBs, either as the same number of
 * messages (per_change false: same frames) or as one message per change
 * (per_change true: what publishing without batching would send).
 */
static int run_baseline(const char *url, int n, int threads, bool per_change,
                        result *r)
{
    nng_socket pub;
    nng_listener l;
    char bound[256];
    __atomic_store_n(&pipes_added, 0, __ATOMIC_SEQ_CST);
    if (nng_pub0_open(&pub) != 0) {
        return -1;
    }
    nng_pipe_notify(pub, NNG_PIPE_EV_ADD_POST, on_pipe, NULL);
    nng_pipe_notify(pub, NNG_PIPE_EV_REM_POST, on_pipe, NULL);
    if (nng_socket_set_int(pub, NNG_OPT_SENDBUF, PC_SERVER_SENDBUF_DEFAULT) !=
            0 ||
        nng_listen(pub, url, &l, 0) != 0) {
        nng_close(pub);
        return -1;
    }
    int port = 0;
    if (strncmp(url, "tcp://", 6) == 0 &&
        nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port) == 0) {
        snprintf(bound, sizeof bound, "tcp://127.0.0.1:%d", port);
    } else {
        snprintf(bound, sizeof bound, "%s", url);
    }
    child ch = {0};
    char line[256];
    if (spawn_child(&ch, "raw", bound, "-", n, threads) != 0 ||
        !child_line(&ch, line, sizeof line) || strncmp(line, "ready", 5)) {
        nng_close(pub);
        return -1;
    }
    uint64_t end = fanout_now_ns() + 30000000000ull;
    while (__atomic_load_n(&pipes_added, __ATOMIC_SEQ_CST) < n &&
           fanout_now_ns() < end) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    uint64_t m = per_change ? r->k : r->frames;
    size_t size = m ? (size_t)(r->bytes / m) : 64;
    size = size < sizeof FANOUT_ROOM ? sizeof FANOUT_ROOM : size;
    char *msg = malloc(size + 1);
    memset(msg, 'x', size);
    memcpy(msg, FANOUT_ROOM " ", sizeof FANOUT_ROOM);
    fprintf(ch.in, "expect %" PRIu64 "\n", m);
    fflush(ch.in);
    uint64_t t0 = fanout_now_ns();
    for (uint64_t i = 0; i < m; i++) {
        (void)nng_send(pub, msg, size, 0);
    }
    uint64_t t1 = fanout_now_ns();
    unsigned long long last = 0, got = 0;
    int rc = 0;
    if (!child_line(&ch, line, sizeof line) ||
        sscanf(line, "rawdone %llu %llu", &last, &got) != 2) {
        rc = -1;
    }
    double deliver_s = last > t0 ? (double)(last - t0) / 1e9 : 0;
    double delivered = m ? (double)got / ((double)m * n) : 0;
    if (per_change) {
        r->bare1_rate = deliver_s > 0 ? (double)got / n / deliver_s : 0;
        r->bare1_delivered = delivered;
    } else {
        r->bare_send_us = (double)(t1 - t0) / 1e3;
        r->bare_deliver_s = deliver_s;
        r->bare_delivered = delivered;
    }
    if (child_end(&ch) != 0) {
        rc = -1;
    }
    nng_close(pub);
    free(msg);
    return rc;
}

static int run_config(const char *dir, const char *transport, int n, uint64_t k,
                      uint64_t lat, int rate, int threads, result *r)
{
    static int runs;
    runs++;
    char pub[256], rep[256], raw[256];
    if (strcmp(transport, "tcp") == 0) {
        snprintf(pub, sizeof pub, "tcp://127.0.0.1:0");
        snprintf(rep, sizeof rep, "tcp://127.0.0.1:0");
        snprintf(raw, sizeof raw, "tcp://127.0.0.1:0");
    } else {
        snprintf(pub, sizeof pub, "ipc://%s/pub%d", dir, runs);
        snprintf(rep, sizeof rep, "ipc://%s/rep%d", dir, runs);
        snprintf(raw, sizeof raw, "ipc://%s/raw%d", dir, runs);
    }
    memset(r, 0, sizeof *r);
    r->transport = transport;
    r->n = n;
    r->k = k;
    r->l = lat;
    pc_server_options o;
    pc_server_options_init(&o);
    o.pub_url = pub;
    o.rep_url = rep;
    pc_server *srv = NULL;
    pc_error err;
    pc_err aerr = PC_ERR_STATE;
    if (pc_server_new(&o, &srv, &err) != PC_OK ||
        pc_server_start(srv) != PC_OK ||
        pc_server_call(srv, add_room, &aerr) != PC_OK || aerr != PC_OK) {
        fprintf(stderr, "bench: server failed: %s\n", err.message);
        pc_server_free(srv);
        return -1;
    }
    child ch = {0};
    char line[512];
    if (spawn_child(&ch, "clients", pc_server_pub_url(srv),
                    pc_server_rep_url(srv), n, threads) != 0 ||
        !child_line(&ch, line, sizeof line) || strncmp(line, "ready", 5)) {
        fprintf(stderr, "bench: subscribers failed: %s\n", line);
        pc_server_free(srv);
        return -1;
    }
    /* Let the SUB pipes settle; a client that misses the first changes
     * repairs them, which would be counted against phasecast. */
    struct timespec settle = {0, 300000000};
    nanosleep(&settle, NULL);

    /* 1. throughput */
    snap before, after;
    pc_server_stats s0, s1;
    pc_server_call(srv, server_state, &before);
    pc_server_stats_get(srv, &s0);
    batch *bs = calloc((size_t)(k / BATCH + 1), sizeof *bs);
    fprintf(ch.in, "target %" PRIu64 "\n", before.seq + k);
    fflush(ch.in);
    uint64_t t0 = fanout_now_ns();
    size_t nb = 0;
    for (uint64_t from = 0; from < k; from += BATCH) {
        bs[nb].from = from;
        bs[nb].count = k - from < BATCH ? k - from : BATCH;
        pc_server_post(srv, commit_batch, &bs[nb]);
        nb++;
    }
    uint64_t t_last = 0;
    bool got = child_line(&ch, line, sizeof line);
    pc_server_call(srv, server_state, &after);
    pc_server_stats_get(srv, &s1);
    r->ok = got && after.seq == before.seq + k &&
            parse_done(line, &after, n, &t_last, r);
    for (size_t i = 0; i < nb; i++) {
        r->ok = r->ok && bs[i].failures == 0;
    }
    free(bs);
    r->deliver_s = t_last > t0 ? (double)(t_last - t0) / 1e9 : 0;
    r->rate = r->deliver_s > 0 ? (double)k / r->deliver_s : 0;
    r->frames = s1.frames - s0.frames;
    r->bytes = s1.frame_bytes - s0.frame_bytes;
    r->publish_us = (double)(s1.publish_ns - s0.publish_ns) / 1e3;
    r->send_us = (double)(s1.send_ns - s0.send_ns) / 1e3;

    /* 2. latency at a fixed rate */
    if (lat > 0 && r->ok) {
        pc_server_call(srv, server_state, &before);
        child_cmd(&ch, line, sizeof line, "latency %" PRIu64 " %" PRIu64,
                  before.seq + 1, before.seq + lat);
        batch one = {.count = 1, .stamp = true};
        uint64_t start = fanout_now_ns();
        double step = 1e9 / rate;
        for (uint64_t i = 0; i < lat; i++) {
            uint64_t due = start + (uint64_t)((double)i * step);
            uint64_t now = fanout_now_ns();
            if (due > now) {
                struct timespec ts = {(time_t)((due - now) / 1000000000u),
                                      (long)((due - now) % 1000000000u)};
                nanosleep(&ts, NULL);
            }
            pc_server_call(srv, commit_batch, &one);
        }
        pc_server_call(srv, server_state, &after);
        r->ok =
            r->ok && one.failures == 0 && after.seq == before.seq + lat &&
            child_cmd(&ch, line, sizeof line, "target %" PRIu64, after.seq) &&
            parse_done(line, &after, n, &t_last, r);
        unsigned long long m = 0, p50 = 0, p99 = 0, max = 0;
        if (child_cmd(&ch, line, sizeof line, "lat") &&
            sscanf(line, "lat %llu %llu %llu %llu", &m, &p50, &p99, &max) ==
                4) {
            r->lat_samples = m;
            r->p50_us = (double)p50 / 1e3;
            r->p99_us = (double)p99 / 1e3;
            r->max_us = (double)max / 1e3;
        }
    }
    int rc = child_end(&ch) == 0 ? 0 : -1;
    pc_server_free(srv);
    char raw1[300];
    snprintf(raw1, sizeof raw1, "%s%s", raw, strncmp(raw, "ipc", 3) ? "" : "x");
    if (rc == 0 && (run_baseline(raw, n, threads, false, r) != 0 ||
                    run_baseline(raw1, n, threads, true, r) != 0)) {
        fprintf(stderr, "bench: baseline failed\n");
        rc = -1;
    }
    return rc;
}

/* ---- output ---------------------------------------------------------------
 */

static void print_table(const result *rs, size_t nr)
{
    printf("%-4s %5s %7s %10s %3s %7s %6s %8s %9s | %8s %8s %6s %6s %6s "
           "%6s | %9s %6s %6s\n",
           "tr", "subs", "changes", "changes/s", "ok", "repairs", "ch/frm",
           "p50_us", "p99_us", "pub_us/f", "bare_us/f", "pub_x", "send_x",
           "enc_ns", "e2e_x", "bare1/s", "bare1%", "x1");
    for (size_t i = 0; i < nr; i++) {
        const result *r = &rs[i];
        double f = r->frames ? (double)r->frames : 1;
        double k = r->k ? (double)r->k : 1;
        printf("%-4s %5d %7" PRIu64 " %10.0f %3s %7" PRIu64 " %6.1f %8.1f "
               "%9.1f | %8.2f %8.2f %6.2f %6.2f %6.0f %6.2f | %9.0f %5.1f%% "
               "%6.2f\n",
               r->transport, r->n, r->k, r->rate, r->ok ? "yes" : "NO",
               r->repairs, (double)r->k / f, r->p50_us, r->p99_us,
               r->publish_us / f, r->bare_send_us / f,
               r->bare_send_us > 0 ? r->publish_us / r->bare_send_us : 0,
               r->bare_send_us > 0 ? r->send_us / r->bare_send_us : 0,
               (r->publish_us - r->send_us) * 1e3 / k,
               r->bare_deliver_s > 0 ? r->deliver_s / r->bare_deliver_s : 0,
               r->bare1_rate, r->bare1_delivered * 100,
               r->bare1_rate > 0 ? r->rate / r->bare1_rate : 0);
    }
}

static void write_json(FILE *f, const result *rs, size_t nr)
{
    fprintf(f, "[\n");
    for (size_t i = 0; i < nr; i++) {
        const result *r = &rs[i];
        fprintf(
            f,
            "  {\"transport\":\"%s\",\"subscribers\":%d,\"changes\":%" PRIu64
            ",\"ok\":%s,\"diverged\":%zu,\"changes_per_s\":%.0f,"
            "\"deliver_s\":%.4f,\"repairs\":%" PRIu64 ",\"snapshots\":%" PRIu64
            ",\"gaps\":%" PRIu64 ",\"checksum_mismatches\":%" PRIu64
            ",\"frames\":%" PRIu64 ",\"frame_bytes\":%" PRIu64
            ",\"publish_us\":%.1f,\"send_us\":%.1f,\"latency_changes\":%" PRIu64
            ",\"latency_samples\":%" PRIu64 ",\"p50_us\":%.1f,\"p99_us\":%.1f"
            ",\"max_us\":%.1f,\"bare_send_us\":%.1f,\"bare_deliver_s\":%.4f"
            ",\"bare_delivered\":%.4f,\"bare1_msgs_per_s\":%.0f"
            ",\"bare1_delivered\":%.4f}%s\n",
            r->transport, r->n, r->k, r->ok ? "true" : "false", r->diverged,
            r->rate, r->deliver_s, r->repairs, r->snapshots, r->gaps,
            r->mismatches, r->frames, r->bytes, r->publish_us, r->send_us, r->l,
            r->lat_samples, r->p50_us, r->p99_us, r->max_us, r->bare_send_us,
            r->bare_deliver_s, r->bare_delivered, r->bare1_rate,
            r->bare1_delivered, i + 1 < nr ? "," : "");
    }
    fprintf(f, "]\n");
}

static void usage(FILE *f)
{
    fprintf(
        f, "usage: phasecast-bench-fanout [options]\n"
           "  --subs LIST        subscriber counts (default 1,10,100,1000)\n"
           "  --transports LIST  ipc,tcp (default both)\n"
           "  --changes K        throughput changes (default 20000 for N<=10,\n"
           "                     5000 for N<=100, 2000 above)\n"
           "  --latency L        latency changes (default 2000; 0: skip)\n"
           "  --rate R           latency run's changes/s (default 1000)\n"
           "  --threads T        subscriber process threads (default 2)\n"
           "  --json FILE        also write the results as JSON\n"
           "  --smoke            a quick check: ipc, 1 and 10 subscribers,\n"
           "                     2000 changes, 200 latency changes\n"
           "Exit status 1 if any run did not converge. See "
           "docs/performance.md.\n");
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--subscriber") == 0) {
        return fanout_subscriber_main(argc - 2, argv + 2);
    }
    int ns[8] = {1, 10, 100, 1000};
    int nn = 4;
    const char *trs[2] = {"ipc", "tcp"};
    int ntr = 2;
    uint64_t changes = 0, lat = 2000;
    int rate = 1000, threads = 2;
    const char *json = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--smoke") == 0) {
            ns[0] = 1, ns[1] = 10, nn = 2, ntr = 1, changes = 2000, lat = 200;
        } else if (v == NULL) {
            usage(stderr);
            return 2;
        } else if (strcmp(a, "--json") == 0) {
            json = v, i++;
        } else if (strcmp(a, "--changes") == 0) {
            changes = strtoull(v, NULL, 10), i++;
        } else if (strcmp(a, "--latency") == 0) {
            lat = strtoull(v, NULL, 10), i++;
        } else if (strcmp(a, "--rate") == 0 && atoi(v) > 0) {
            rate = atoi(v), i++;
        } else if (strcmp(a, "--threads") == 0 && atoi(v) > 0) {
            threads = atoi(v), i++;
        } else if (strcmp(a, "--subs") == 0) {
            nn = 0;
            char *copy = strdup(v);
            for (char *p = strtok(copy, ","); p && nn < 8;
                 p = strtok(NULL, ",")) {
                if (atoi(p) <= 0) {
                    fprintf(stderr, "bench: bad subscriber count '%s'\n", p);
                    return 2;
                }
                ns[nn++] = atoi(p);
            }
            free(copy);
            i++;
        } else if (strcmp(a, "--transports") == 0) {
            ntr = 0;
            if (strstr(v, "ipc") != NULL) {
                trs[ntr++] = "ipc";
            }
            if (strstr(v, "tcp") != NULL) {
                trs[ntr++] = "tcp";
            }
            if (ntr == 0) {
                fprintf(stderr, "bench: transports are ipc and tcp\n");
                return 2;
            }
            i++;
        } else {
            usage(stderr);
            return 2;
        }
    }
    fanout_raise_nofile();
    signal(SIGPIPE, SIG_IGN);
    char dir[] = "/tmp/pcfanXXXXXX";
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    result rs[16];
    size_t nr = 0;
    bool all_ok = true;
    for (int t = 0; t < ntr; t++) {
        for (int i = 0; i < nn; i++) {
            int n = ns[i];
            uint64_t k = changes ? changes
                                 : (n <= 10    ? 20000
                                    : n <= 100 ? 5000
                                               : 2000);
            result *r = &rs[nr++];
            if (run_config(dir, trs[t], n, k, lat, rate, threads, r) != 0) {
                r->ok = false;
            }
            all_ok = all_ok && r->ok;
            fprintf(stderr, "bench: %s %d subscribers: %s\n", trs[t], n,
                    r->ok ? "converged" : "DID NOT CONVERGE");
        }
    }
    print_table(rs, nr);
    if (json != NULL) {
        FILE *f = fopen(json, "w");
        if (f == NULL) {
            perror(json);
            all_ok = false;
        } else {
            write_json(f, rs, nr);
            fclose(f);
        }
    }
    /* ipc sockets were unlinked by nng; the folder is empty. */
    rmdir(dir);
    pc_transport_fini();
    return all_ok ? 0 : 1;
}
