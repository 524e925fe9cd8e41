/*
 * bench_fanout.c - how fast committed changes reach 1, 10 and 100
 * subscribers over ipc, and how late they arrive at a steady 1,000
 * changes/s, next to a bare nng PUB/SUB baseline. A measuring tool, not a
 * test: it asserts nothing about speed and prints what it saw.
 *
 *   phasecast-bench-fanout [--subs 1,10,100] [--changes N] [--latency N]
 *                          [--json]
 *
 * Throughput: the server (in this process, own loop thread) commits K
 * changes {"n": i, "pad": "..."} in batches posted to its loop; every
 * subscriber is a spectator pc_client on its own thread. The time runs from
 * the first commit until the last client has applied seq K; a run counts
 * only if every client's canonical state equals the server's. Repairs and
 * snapshots the clients needed are part of the cost and are reported.
 * Latency: 1 change per ms, each carrying its commit time {"t": ns} from
 * CLOCK_MONOTONIC; each client records now - t when it applies the change.
 * Baseline: a raw nng PUB sends K messages of the same size to N raw SUBs.
 * PUB drops when a queue is full, so the delivered fraction is reported.
 *
 * Build with -DCMAKE_BUILD_TYPE=Release for meaningful numbers.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/client.h"
#include "phasecast/room.h"
#include "phasecast/server.h"

#define PAD    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define BATCH  100
#define WAIT_S 60.0

static const pc_phase phases[] = {{"PLAY", NULL, NULL, NULL, NULL, 0}};
static const pc_game game = {.name = "fanout", .phases = phases, .nphases = 1};

static double mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(const double *v, size_t n, double p)
{
    if (n == 0) {
        return 0;
    }
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i];
}

/* ---- the server side ---------------------------------------------------- */

typedef struct batch {
    uint64_t from, count;
    bool stamp; /* latency mode: {"t": ns} instead of {"n", "pad"} */
    int failures;
} batch;

static void add_room(pc_server *srv, void *arg)
{
    pc_server_room_options ro;
    pc_server_room_options_init(&ro);
    ro.room.id = "bench";
    ro.room.history_capacity = 1000;
    ro.join_action = NULL;
    *(pc_err *)arg = pc_server_add_room(srv, &game, &ro, NULL);
}

static void commit_batch(pc_server *srv, void *arg)
{
    batch *b = arg;
    pc_room *room = pc_server_find_room(srv, "bench");
    for (uint64_t i = 0; i < b->count; i++) {
        cJSON *p = cJSON_CreateObject();
        if (b->stamp) {
            cJSON_AddNumberToObject(p, "t", mono_ns());
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
    char *canon;
    uint64_t seq;
} snap;

static void server_state(pc_server *srv, void *arg)
{
    snap *s = arg;
    pc_room *room = pc_server_find_room(srv, "bench");
    s->canon = NULL;
    s->seq = 0;
    if (room != NULL) {
        pc_canon_print(pc_room_state(room), &s->canon, NULL);
        s->seq = pc_room_seq(room);
    }
}

/* ---- the subscribers ---------------------------------------------------- */

typedef struct sub {
    pthread_t th;
    const char *pub_url, *rep_url;
    pthread_barrier_t *ready;
    volatile uint64_t *target; /* seq to reach; 0 until known */
    pc_client *c;
    pc_err open_err;
    double done_ns; /* when seq reached the target; 0: never */
    double *lat;    /* latency mode */
    size_t nlat, caplat;
    char *canon;
    pc_client_stats st;
} sub;

static void on_change(pc_client *c, const pc_client_change *ch, void *arg)
{
    (void)c;
    sub *s = arg;
    if (s->lat == NULL || ch->repaired) {
        return; /* repaired changes are late by design; counted in stats */
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(ch->patch, "t");
    if (cJSON_IsNumber(t) && s->nlat < s->caplat) {
        s->lat[s->nlat++] = mono_ns() - t->valuedouble;
    }
}

static void *sub_main(void *arg)
{
    sub *s = arg;
    pc_client_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.pub_url = s->pub_url;
    cfg.req_url = s->rep_url;
    cfg.room = "bench";
    cfg.role = PC_CLIENT_SPECTATOR;
    cfg.on_change = on_change;
    cfg.arg = s;
    cfg.request_timeout_ms = 5000;
    s->open_err = pc_client_open(&cfg, &s->c, NULL);
    pthread_barrier_wait(s->ready);
    if (s->open_err != PC_OK) {
        return NULL;
    }
    double deadline = mono_ns() + WAIT_S * 1e9;
    for (;;) {
        uint64_t target = *s->target;
        if (target != 0 && pc_client_seq(s->c) >= target) {
            s->done_ns = mono_ns();
            break;
        }
        if (mono_ns() > deadline || pc_client_poll(s->c, 20) != PC_OK) {
            break;
        }
    }
    pc_canon_print(pc_client_state(s->c), &s->canon, NULL);
    pc_client_stats_get(s->c, &s->st);
    return NULL;
}

typedef struct result {
    int n;
    bool ok; /* every client opened, reached K and matched the server */
    int diverged;
    double rate; /* changes/s delivered to every client */
    uint64_t repairs, snapshots, gaps;
    double p50_us, p99_us, max_us;
    size_t samples;
    double base_rate, base_frac;
} result;

/* One phasecast run with n subscribers; latency mode when lat_changes>0. */
static int run_phasecast(const char *dir, int n, uint64_t k,
                         uint64_t lat_changes, result *r)
{
    char pub[128], rep[128];
    static int runs;
    runs++;
    snprintf(pub, sizeof(pub), "ipc://%s/pub%d", dir, runs);
    snprintf(rep, sizeof(rep), "ipc://%s/rep%d", dir, runs);
    pc_server_options o;
    pc_server_options_init(&o);
    o.pub_url = pub;
    o.rep_url = rep;
    pc_server *srv = NULL;
    if (pc_server_new(&o, &srv, NULL) != PC_OK ||
        pc_server_start(srv) != PC_OK) {
        fprintf(stderr, "server failed\n");
        pc_server_free(srv);
        return -1;
    }
    pc_err aerr = PC_ERR_STATE;
    pc_server_call(srv, add_room, &aerr);
    if (aerr != PC_OK) {
        fprintf(stderr, "add_room failed\n");
        pc_server_free(srv);
        return -1;
    }
    sub *subs = calloc((size_t)n, sizeof(*subs));
    pthread_barrier_t ready;
    pthread_barrier_init(&ready, NULL, (unsigned)n + 1);
    volatile uint64_t target = 0;
    for (int i = 0; i < n; i++) {
        subs[i].pub_url = pub;
        subs[i].rep_url = rep;
        subs[i].ready = &ready;
        subs[i].target = &target;
        if (lat_changes > 0) {
            subs[i].caplat = lat_changes;
            subs[i].lat = calloc(lat_changes, sizeof(double));
        }
        pthread_create(&subs[i].th, NULL, sub_main, &subs[i]);
    }
    pthread_barrier_wait(&ready);
    usleep(200 * 1000); /* let every SUB pipe settle (slow joiner) */

    snap before;
    pc_server_call(srv, server_state, &before);
    pc_free(before.canon);
    uint64_t total = lat_changes > 0 ? lat_changes : k;
    batch *bs = calloc((size_t)(total / BATCH + 2), sizeof(*bs));
    double t0 = mono_ns();
    __atomic_store_n(&target, before.seq + total, __ATOMIC_SEQ_CST);
    size_t nb = 0;
    if (lat_changes > 0) {
        bs[0].stamp = true;
        bs[0].count = 1;
        for (uint64_t i = 0; i < lat_changes; i++) {
            double due = t0 + (double)i * 1e6; /* 1,000 changes/s */
            double now = mono_ns();
            if (due > now) {
                struct timespec ts = {0, (long)(due - now)};
                nanosleep(&ts, NULL);
            }
            pc_server_call(srv, commit_batch, &bs[0]);
        }
    } else {
        for (uint64_t from = 0; from < k; from += BATCH) {
            bs[nb].from = from;
            bs[nb].count = k - from < BATCH ? k - from : BATCH;
            pc_server_post(srv, commit_batch, &bs[nb]);
            nb++;
        }
    }
    for (int i = 0; i < n; i++) {
        pthread_join(subs[i].th, NULL);
    }
    snap after;
    pc_server_call(srv, server_state, &after);
    /* Free the server before closing clients (docs/reference/client.md). */
    pc_server_free(srv);

    memset(r, 0, sizeof(*r));
    r->n = n;
    r->ok = after.canon != NULL && after.seq == before.seq + total;
    double last = t0;
    size_t nsamples = 0;
    for (int i = 0; i < n; i++) {
        sub *s = &subs[i];
        if (s->open_err != PC_OK || s->done_ns == 0 || s->canon == NULL ||
            after.canon == NULL || strcmp(s->canon, after.canon) != 0) {
            r->ok = false;
            r->diverged++;
        }
        if (s->done_ns > last) {
            last = s->done_ns;
        }
        r->repairs += s->st.repairs_changes;
        r->snapshots += s->st.snapshots - (s->open_err == PC_OK ? 1 : 0);
        r->gaps += s->st.gaps_detected;
        nsamples += s->nlat;
    }
    for (size_t i = 0; i <= nb && i < total / BATCH + 2; i++) {
        if (bs[i].failures) {
            r->ok = false;
        }
    }
    r->rate = (double)total / ((last - t0) / 1e9);
    if (lat_changes > 0) {
        double *all = malloc((nsamples + 1) * sizeof(double));
        size_t m = 0;
        for (int i = 0; i < n; i++) {
            memcpy(all + m, subs[i].lat, subs[i].nlat * sizeof(double));
            m += subs[i].nlat;
        }
        qsort(all, m, sizeof(double), cmp_double);
        r->samples = m;
        r->p50_us = pct(all, m, 0.50) / 1e3;
        r->p99_us = pct(all, m, 0.99) / 1e3;
        r->max_us = m ? all[m - 1] / 1e3 : 0;
        free(all);
    }
    for (int i = 0; i < n; i++) {
        pc_client_close(subs[i].c);
        pc_free(subs[i].canon);
        free(subs[i].lat);
    }
    pc_free(after.canon);
    pthread_barrier_destroy(&ready);
    free(bs);
    free(subs);
    return 0;
}

/* ---- the bare nng baseline ---------------------------------------------- */

typedef struct rawsub {
    pthread_t th;
    nng_socket s;
    uint64_t k, got;
    double last_ns;
} rawsub;

static void *rawsub_main(void *arg)
{
    rawsub *r = arg;
    while (r->got < r->k) {
        char *buf = NULL;
        size_t sz = 0;
        if (nng_recv(r->s, &buf, &sz, NNG_FLAG_ALLOC) != 0) {
            break; /* timeout: PUB dropped the rest */
        }
        nng_free(buf, sz);
        r->got++;
        r->last_ns = mono_ns();
    }
    return NULL;
}

static int run_baseline(const char *dir, int n, uint64_t k, result *r)
{
    char url[128];
    static int runs;
    snprintf(url, sizeof(url), "ipc://%s/raw%d", dir, ++runs);
    nng_socket pub;
    if (nng_pub0_open(&pub) != 0 ||
        nng_setopt_int(pub, NNG_OPT_SENDBUF, PC_SERVER_SENDBUF_DEFAULT) != 0 ||
        nng_listen(pub, url, NULL, 0) != 0) {
        return -1;
    }
    rawsub *subs = calloc((size_t)n, sizeof(*subs));
    for (int i = 0; i < n; i++) {
        nng_sub0_open(&subs[i].s);
        nng_setopt(subs[i].s, NNG_OPT_SUB_SUBSCRIBE, "", 0);
        nng_setopt_int(subs[i].s, NNG_OPT_RECVBUF, 1024);
        nng_setopt_ms(subs[i].s, NNG_OPT_RECVTIMEO, 500);
        nng_dial(subs[i].s, url, NULL, 0);
        subs[i].k = k;
    }
    usleep(200 * 1000);
    for (int i = 0; i < n; i++) {
        pthread_create(&subs[i].th, NULL, rawsub_main, &subs[i]);
    }
    /* A change message of about the size phasecast broadcasts. */
    char msg[256];
    double t0 = mono_ns();
    for (uint64_t i = 0; i < k; i++) {
        int len = snprintf(msg, sizeof(msg),
                           "bench {\"v\":1,\"seq\":%llu,\"patch\":{\"n\":%llu,"
                           "\"pad\":\"" PAD "\"}}",
                           (unsigned long long)i, (unsigned long long)i);
        nng_send(pub, msg, (size_t)len, 0);
    }
    double last = t0;
    uint64_t got = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(subs[i].th, NULL);
        got += subs[i].got;
        if (subs[i].last_ns > last) {
            last = subs[i].last_ns;
        }
    }
    r->base_frac = (double)got / ((double)k * n);
    /* messages/s delivered to each subscriber, drops not counted */
    r->base_rate = (double)got / n / ((last - t0) / 1e9);
    for (int i = 0; i < n; i++) {
        nng_close(subs[i].s);
    }
    nng_close(pub);
    free(subs);
    return 0;
}

/* ---- main ---------------------------------------------------------------- */

int main(int argc, char **argv)
{
    int ns[8] = {1, 10, 100};
    int nn = 3;
    uint64_t changes = 0; /* 0: 20,000 for N <= 10, 5,000 above */
    uint64_t lat = 2000;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--changes") == 0 && i + 1 < argc) {
            changes = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--latency") == 0 && i + 1 < argc) {
            lat = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--subs") == 0 && i + 1 < argc) {
            nn = 0;
            for (char *p = strtok(argv[++i], ","); p && nn < 8;
                 p = strtok(NULL, ",")) {
                ns[nn++] = atoi(p);
            }
        } else {
            fprintf(stderr,
                    "usage: %s [--subs 1,10,100] [--changes N] "
                    "[--latency N] [--json]\n",
                    argv[0]);
            return 2;
        }
    }
    char dir[] = "/tmp/pcfanXXXXXX";
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    result rs[8];
    for (int i = 0; i < nn; i++) {
        int n = ns[i];
        uint64_t k = changes ? changes : (n <= 10 ? 20000 : 5000);
        result lr;
        if (run_phasecast(dir, n, k, 0, &rs[i]) != 0 ||
            run_phasecast(dir, n, 0, lat, &lr) != 0 ||
            run_baseline(dir, n, k, &rs[i]) != 0) {
            fprintf(stderr, "run with %d subscribers failed\n", n);
            return 1;
        }
        rs[i].p50_us = lr.p50_us;
        rs[i].p99_us = lr.p99_us;
        rs[i].max_us = lr.max_us;
        rs[i].samples = lr.samples;
        if (!lr.ok) {
            rs[i].diverged += lr.diverged;
            rs[i].ok = false;
        }
        if (json) {
            printf("{\"subscribers\":%d,\"changes\":%llu,\"ok\":%s,"
                   "\"diverged\":%d,\"changes_per_s\":%.0f,\"repairs\":%llu,"
                   "\"snapshots\":%llu,\"gaps\":%llu,\"latency_changes\":%llu,"
                   "\"p50_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f,"
                   "\"baseline_msgs_per_s\":%.0f,\"baseline_delivered\":%.4f,"
                   "\"ratio\":%.3f}\n",
                   n, (unsigned long long)k, rs[i].ok ? "true" : "false",
                   rs[i].diverged, rs[i].rate,
                   (unsigned long long)rs[i].repairs,
                   (unsigned long long)rs[i].snapshots,
                   (unsigned long long)rs[i].gaps, (unsigned long long)lat,
                   rs[i].p50_us, rs[i].p99_us, rs[i].max_us, rs[i].base_rate,
                   rs[i].base_frac, rs[i].rate / rs[i].base_rate);
            fflush(stdout);
        }
    }
    if (!json) {
        printf("subs  changes/s  ok  repairs snaps  p50_us  p99_us | "
               "nng msgs/s delivered  ratio\n");
        for (int i = 0; i < nn; i++) {
            printf("%4d %10.0f %3s %8llu %5llu %7.1f %7.1f | %10.0f %8.1f%% "
                   "%6.3f\n",
                   rs[i].n, rs[i].rate, rs[i].ok ? "yes" : "NO",
                   (unsigned long long)rs[i].repairs,
                   (unsigned long long)rs[i].snapshots, rs[i].p50_us,
                   rs[i].p99_us, rs[i].base_rate, rs[i].base_frac * 100,
                   rs[i].rate / rs[i].base_rate);
        }
    }
    rmdir(dir);
    pc_transport_fini();
    return 0;
}
