/*
 * fanout_sub.c - the subscriber process of phasecast-bench-fanout.
 *
 * "clients" mode opens N spectator pc_clients and drives them from THREADS
 * threads, each waiting on its clients' descriptors (pc_client_fd) with
 * epoll and calling pc_client_poll(c, 0) for the ready ones: event-loop
 * connections, as a real service holding many rooms would, rather than a
 * thread per client. "raw" mode opens N bare nng SUB sockets the same way,
 * for the baseline. Commands and answers are described in fanout.h.
 */
#define _GNU_SOURCE
#include "fanout.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/client.h"
#include "phasecast/server.h"

#define WAIT_NS  (120ull * 1000000000ull) /* give up on a target */
#define QUIET_NS (2ull * 1000000000ull)   /* raw: no message for this long */
#define SWEEP_NS (10ull * 1000000ull)     /* timed client work */
#define RECV_BUF 1024                     /* as pc_client's default */

uint64_t fanout_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

long fanout_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        return -1;
    }
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    return (long)rl.rlim_cur;
}

/* One subscriber: a client or a raw SUB socket. */
typedef struct fsub {
    pc_client *c;
    nng_socket raw;
    int fd;
    struct worker *w;
    uint64_t reached; /* target this client reached (0: none yet) */
    uint64_t done_ns; /* when */
    uint64_t sum;     /* replica checksum then */
    pc_client_stats st;
    uint64_t got;     /* raw: messages received */
    uint64_t last_ns; /* raw: when the last arrived */
} fsub;

typedef struct worker {
    pthread_t th;
    fsub **subs;
    size_t n;
    int ep;
    bool raw;
    uint64_t *lat; /* latency samples (ns), this thread's clients only */
    size_t nlat, caplat;
} worker;

static _Atomic uint64_t g_target;   /* seq every client must reach */
static _Atomic uint64_t g_lat_from; /* latency window, inclusive */
static _Atomic uint64_t g_lat_to;
static _Atomic size_t g_done; /* clients that reached g_target */
static _Atomic bool g_stop;

static void on_change(pc_client *c, const pc_client_change *ch, void *arg)
{
    (void)c;
    fsub *s = arg;
    uint64_t from = atomic_load_explicit(&g_lat_from, memory_order_acquire);
    if (ch->repaired || from == 0 || ch->seq < from ||
        ch->seq > atomic_load(&g_lat_to)) {
        return; /* repaired changes are late by design; counted in stats */
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(ch->patch, "t");
    worker *w = s->w;
    if (cJSON_IsNumber(t) && w->nlat < w->caplat) {
        uint64_t now = fanout_now_ns();
        uint64_t sent = (uint64_t)t->valuedouble;
        w->lat[w->nlat++] = now > sent ? now - sent : 0;
    }
}

/* Note a client that has reached the current target. */
static void check_reached(fsub *s)
{
    uint64_t target = atomic_load_explicit(&g_target, memory_order_acquire);
    if (target == 0 || s->reached == target || pc_client_seq(s->c) < target) {
        return;
    }
    s->done_ns = fanout_now_ns();
    s->sum = 0;
    (void)pc_canon_checksum(pc_client_state(s->c), &s->sum, NULL);
    pc_client_stats_get(s->c, &s->st);
    s->reached = target;
    atomic_fetch_add_explicit(&g_done, 1, memory_order_release);
}

static void drain_raw(fsub *s)
{
    for (;;) {
        nng_msg *m;
        if (nng_recvmsg(s->raw, &m, NNG_FLAG_NONBLOCK) != 0) {
            return;
        }
        nng_msg_free(m);
        __atomic_store_n(&s->last_ns, fanout_now_ns(), __ATOMIC_RELEASE);
        __atomic_store_n(&s->got, s->got + 1, __ATOMIC_RELEASE);
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    struct epoll_event evs[64];
    uint64_t next_sweep = fanout_now_ns() + SWEEP_NS;
    while (!atomic_load(&g_stop)) {
        int n = epoll_wait(w->ep, evs, 64, 5);
        for (int i = 0; i < n; i++) {
            fsub *s = evs[i].data.ptr;
            if (w->raw) {
                drain_raw(s);
            } else {
                (void)pc_client_poll(s->c, 0);
                check_reached(s);
            }
        }
        uint64_t now = fanout_now_ns();
        if (!w->raw && now >= next_sweep) {
            /* Repairs and staleness run on time, not on messages. */
            for (size_t i = 0; i < w->n; i++) {
                if (pc_client_timeout_ms(w->subs[i]->c) == 0) {
                    (void)pc_client_poll(w->subs[i]->c, 0);
                }
                check_reached(w->subs[i]);
            }
            next_sweep = now + SWEEP_NS;
        }
    }
    return NULL;
}

typedef struct opener {
    pthread_t th;
    fsub *subs;
    size_t from, to;
    const char *pub, *req;
    bool raw;
    int failed;
} opener;

static void *open_main(void *arg)
{
    opener *o = arg;
    for (size_t i = o->from; i < o->to; i++) {
        fsub *s = &o->subs[i];
        if (o->raw) {
            if (nng_sub0_open(&s->raw) != 0 ||
                nng_socket_set(s->raw, NNG_OPT_SUB_SUBSCRIBE, "", 0) != 0 ||
                nng_socket_set_int(s->raw, NNG_OPT_RECVBUF, RECV_BUF) != 0 ||
                nng_socket_get_int(s->raw, NNG_OPT_RECVFD, &s->fd) != 0 ||
                nng_dial(s->raw, o->pub, NULL, NNG_FLAG_NONBLOCK) != 0) {
                o->failed++;
            }
            continue;
        }
        pc_client_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.pub_url = o->pub;
        cfg.req_url = o->req;
        cfg.room = FANOUT_ROOM;
        cfg.role = PC_CLIENT_SPECTATOR;
        cfg.on_change = on_change;
        cfg.arg = s;
        cfg.request_timeout_ms = 5000;
        pc_error err;
        if (pc_client_open(&cfg, &s->c, &err) != PC_OK ||
            (s->fd = pc_client_fd(s->c)) < 0) {
            fprintf(stderr, "subscriber %zu: %s\n", i, err.message);
            o->failed++;
        }
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Wait for every client to reach target, then answer "done ...". */
static void run_target(fsub *subs, size_t n, uint64_t target)
{
    atomic_store(&g_done, 0);
    atomic_store_explicit(&g_target, target, memory_order_release);
    uint64_t end = fanout_now_ns() + WAIT_NS;
    while (atomic_load_explicit(&g_done, memory_order_acquire) < n &&
           fanout_now_ns() < end) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    size_t done = 0, diff = 0;
    uint64_t last = 0, sum = 0;
    uint64_t repairs = 0, snaps = 0, gaps = 0, mism = 0;
    for (size_t i = 0; i < n; i++) {
        fsub *s = &subs[i];
        if (s->reached != target) {
            continue;
        }
        if (done == 0) {
            sum = s->sum;
        } else if (s->sum != sum) {
            diff++;
        }
        done++;
        last = s->done_ns > last ? s->done_ns : last;
        repairs += s->st.repairs_changes;
        snaps += s->st.snapshots - 1; /* the join's own snapshot */
        gaps += s->st.gaps_detected;
        mism += s->st.checksum_mismatches;
    }
    printf("done %zu %" PRIu64 " %016" PRIx64 " %zu %" PRIu64 " %" PRIu64
           " %" PRIu64 " %" PRIu64 "\n",
           done, last, sum, diff, repairs, snaps, gaps, mism);
    fflush(stdout);
}

static void run_expect(fsub *subs, size_t n, uint64_t m)
{
    uint64_t last_total = 0, quiet_since = fanout_now_ns();
    for (;;) {
        uint64_t total = 0;
        bool all = true;
        for (size_t i = 0; i < n; i++) {
            uint64_t got = __atomic_load_n(&subs[i].got, __ATOMIC_RELAXED);
            total += got;
            all = all && got >= m;
        }
        uint64_t now = fanout_now_ns();
        if (total != last_total) {
            last_total = total;
            quiet_since = now;
        }
        if (all || now - quiet_since > QUIET_NS) {
            break;
        }
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    uint64_t last = 0, total = 0;
    for (size_t i = 0; i < n; i++) {
        total += __atomic_load_n(&subs[i].got, __ATOMIC_ACQUIRE);
        uint64_t l = __atomic_load_n(&subs[i].last_ns, __ATOMIC_ACQUIRE);
        last = l > last ? l : last;
    }
    printf("rawdone %" PRIu64 " %" PRIu64 "\n", last, total);
    fflush(stdout);
}

static void answer_lat(worker *ws, size_t nw)
{
    size_t total = 0;
    for (size_t i = 0; i < nw; i++) {
        total += ws[i].nlat;
    }
    uint64_t *all = malloc((total + 1) * sizeof *all);
    size_t m = 0;
    for (size_t i = 0; all != NULL && i < nw; i++) {
        memcpy(all + m, ws[i].lat, ws[i].nlat * sizeof *all);
        m += ws[i].nlat;
    }
    if (all != NULL) {
        qsort(all, m, sizeof *all, cmp_u64);
    }
    uint64_t p50 = m ? all[(size_t)(0.50 * (double)(m - 1) + 0.5)] : 0;
    uint64_t p99 = m ? all[(size_t)(0.99 * (double)(m - 1) + 0.5)] : 0;
    uint64_t max = m ? all[m - 1] : 0;
    printf("lat %zu %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", m, p50, p99, max);
    fflush(stdout);
    free(all);
}

int fanout_subscriber_main(int argc, char **argv)
{
    if (argc != 5 ||
        (strcmp(argv[0], "clients") != 0 && strcmp(argv[0], "raw") != 0)) {
        fprintf(stderr, "subscriber: clients|raw PUB REQ N THREADS\n");
        return 2;
    }
    bool raw = strcmp(argv[0], "raw") == 0;
    size_t n = strtoul(argv[3], NULL, 10);
    size_t nw = strtoul(argv[4], NULL, 10);
    if (n == 0 || nw == 0) {
        fprintf(stderr, "subscriber: N and THREADS must be positive\n");
        return 2;
    }
    nw = nw > n ? n : nw;
    fanout_raise_nofile();
    fsub *subs = calloc(n, sizeof *subs);
    worker *ws = calloc(nw, sizeof *ws);
    opener *os = calloc(nw, sizeof *os);
    if (subs == NULL || ws == NULL || os == NULL) {
        return 1;
    }
    /* Open in parallel: 1,000 joins one after another take a while. */
    int failed = 0;
    for (size_t i = 0; i < nw; i++) {
        os[i] = (opener){.subs = subs,
                         .from = n * i / nw,
                         .to = n * (i + 1) / nw,
                         .pub = argv[1],
                         .req = argv[2],
                         .raw = raw};
        pthread_create(&os[i].th, NULL, open_main, &os[i]);
    }
    for (size_t i = 0; i < nw; i++) {
        pthread_join(os[i].th, NULL);
        failed += os[i].failed;
    }
    if (failed > 0) {
        printf("error %d subscribers failed to open\n", failed);
        fflush(stdout);
        return 1;
    }
    for (size_t i = 0; i < nw; i++) {
        worker *w = &ws[i];
        w->raw = raw;
        w->n = os[i].to - os[i].from;
        w->subs = calloc(w->n, sizeof *w->subs);
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        for (size_t j = 0; j < w->n; j++) {
            fsub *s = &subs[os[i].from + j];
            s->w = w;
            w->subs[j] = s;
            struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
            epoll_ctl(w->ep, EPOLL_CTL_ADD, s->fd, &ev);
        }
    }
    printf("ready %zu\n", n);
    fflush(stdout);
    for (size_t i = 0; i < nw; i++) {
        pthread_create(&ws[i].th, NULL, worker_main, &ws[i]);
    }

    char line[256];
    while (fgets(line, sizeof line, stdin) != NULL) {
        unsigned long long a, b;
        if (sscanf(line, "target %llu", &a) == 1) {
            run_target(subs, n, a);
        } else if (sscanf(line, "latency %llu %llu", &a, &b) == 2 &&
                   atomic_load(&g_lat_from) != 0) {
            printf("error one latency window per process\n");
            fflush(stdout);
        } else if (sscanf(line, "latency %llu %llu", &a, &b) == 2 && a > 0 &&
                   b >= a) {
            /* Only workers write their arrays; they are idle until the
             * window is published below. */
            for (size_t i = 0; i < nw; i++) {
                free(ws[i].lat);
                ws[i].caplat = ws[i].n * (b - a + 1);
                ws[i].lat = malloc(ws[i].caplat * sizeof *ws[i].lat);
                ws[i].nlat = 0;
            }
            atomic_store(&g_lat_to, b);
            atomic_store_explicit(&g_lat_from, a, memory_order_release);
            printf("ok\n");
            fflush(stdout);
        } else if (strncmp(line, "lat", 3) == 0) {
            answer_lat(ws, nw);
        } else if (sscanf(line, "expect %llu", &a) == 1) {
            run_expect(subs, n, a);
        } else if (strncmp(line, "quit", 4) == 0) {
            break;
        }
    }
    atomic_store(&g_stop, true);
    for (size_t i = 0; i < nw; i++) {
        pthread_join(ws[i].th, NULL);
        close(ws[i].ep);
        free(ws[i].subs);
        free(ws[i].lat);
    }
    for (size_t i = 0; i < n; i++) {
        if (raw) {
            nng_close(subs[i].raw);
        } else {
            pc_client_close(subs[i].c);
        }
    }
    free(subs);
    free(ws);
    free(os);
    printf("bye\n");
    fflush(stdout);
    pc_transport_fini();
    return 0;
}
