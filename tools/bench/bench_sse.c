/*
 * bench_sse.c - phasecast-bench-sse: changes per second the HTTP bridge
 * delivers over Server-Sent Events to every one of N browsers-equivalent
 * clients, each keeping an exact replica (docs/performance.md).
 *
 * The server runs in this process (its loop on its own thread); the
 * clients run in a child process (this program again, --reader), each a
 * plain TCP socket reading /rooms/r1/events over HTTP/1.0, parsing every
 * event, merging every patch into its replica and checking contiguity.
 * The host commits K small changes (a counter and one of 32 slots, about
 * 60 bytes of patch) as fast as the loop takes them, in batches of 100;
 * the clock runs from the first commit until every client has the last
 * seq. A run counts only if every client ends with the server's exact
 * state (its checksum equals the server's) and saw no gap. A measuring
 * tool, not a test: --smoke runs a short version for CI, judging only
 * convergence, never time.
 *
 * usage: phasecast-bench-sse [--clients 1,10,100] [--changes K] [--smoke]
 *        [--json FILE]
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cjson/cJSON.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/merge.h"
#include "phasecast/room.h"
#include "phasecast/server.h"

extern char **environ;

#define BATCH 100

static const pc_phase phases[] = {{"PLAY", NULL, NULL, NULL, NULL, 0}};
static const pc_game game = {
    .name = "ssebench", .phases = phases, .nphases = 1};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the reader (child process) ---------------------------------------- */

typedef struct reader {
    int fd;
    char *buf;
    size_t len, cap;
    bool headers_done;
    cJSON *doc;
    uint64_t seq;
    bool bad;
} reader;

static int connect_to(const char *url)
{
    unsigned a, b, c, d, port;
    if (sscanf(url, "http://%u.%u.%u.%u:%u", &a, &b, &c, &d, &port) != 5) {
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(a << 24 | b << 16 | c << 8 | d);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        return -1;
    }
    static const char req[] = "GET /rooms/r1/events HTTP/1.0\r\n\r\n";
    return send(fd, req, sizeof req - 1, MSG_NOSIGNAL) ==
                   (ssize_t)(sizeof req - 1)
               ? fd
               : -1;
}

/* Apply one event's data line to r. */
static void apply(reader *r, const char *name, const char *data, size_t n)
{
    cJSON *j = cJSON_ParseWithLength(data, n);
    if (j == NULL) {
        r->bad = true;
        return;
    }
    if (strcmp(name, "snapshot") == 0) {
        cJSON_Delete(r->doc);
        r->doc = cJSON_DetachItemFromObject(j, "state");
        r->seq = (uint64_t)cJSON_GetObjectItem(j, "seq")->valuedouble;
    } else if (strcmp(name, "changes") == 0) {
        const cJSON *c =
            cJSON_GetArrayItem(cJSON_GetObjectItem(j, "changes"), 0);
        uint64_t seq = (uint64_t)cJSON_GetObjectItem(c, "seq")->valuedouble;
        if (r->doc == NULL || seq != r->seq + 1 ||
            pc_merge_patch_inplace(cJSON_GetObjectItem(r->doc, "data"),
                                   cJSON_GetObjectItem(c, "patch")) != PC_OK) {
            r->bad = true;
        }
        r->seq = seq;
    }
    cJSON_Delete(j);
}

/* Parse every whole event in r's buffer. */
static void parse(reader *r)
{
    size_t off = 0;
    if (!r->headers_done) {
        char *end = strstr(r->buf, "\r\n\r\n");
        if (end == NULL) {
            return;
        }
        off = (size_t)(end - r->buf) + 4;
        r->headers_done = true;
    }
    for (;;) {
        char *start = r->buf + off;
        char *end = strstr(start, "\n\n");
        if (end == NULL) {
            break;
        }
        const char *name = "message";
        char namebuf[32] = "";
        const char *data = NULL;
        size_t dlen = 0;
        for (char *line = start; line < end + 1;) {
            char *nl = strchr(line, '\n');
            if (strncmp(line, "event: ", 7) == 0) {
                snprintf(namebuf, sizeof namebuf, "%.*s", (int)(nl - line - 7),
                         line + 7);
                name = namebuf;
            } else if (strncmp(line, "data: ", 6) == 0) {
                data = line + 6;
                dlen = (size_t)(nl - data);
            }
            line = nl + 1;
        }
        if (data != NULL) {
            apply(r, name, data, dlen);
        }
        off = (size_t)(end - r->buf) + 2;
    }
    memmove(r->buf, r->buf + off, r->len - off + 1);
    r->len -= off;
}

/* Follow n streams until each reaches seq want; print one line per stream:
 * "<checksum hex> <ok 0|1>". */
static int run_readers(const char *url, int n, uint64_t want)
{
    reader *rs = calloc((size_t)n, sizeof *rs);
    struct pollfd *pf = calloc((size_t)n, sizeof *pf);
    for (int i = 0; i < n; i++) {
        rs[i].fd = connect_to(url);
        if (rs[i].fd < 0) {
            fprintf(stderr, "bench-sse reader: cannot connect\n");
            return 1;
        }
        rs[i].cap = 1 << 20;
        rs[i].buf = malloc(rs[i].cap + 1);
        rs[i].buf[0] = '\0';
    }
    printf("ready\n");
    fflush(stdout);
    int done = 0;
    while (done < n) {
        for (int i = 0; i < n; i++) {
            pf[i].fd = rs[i].seq >= want && rs[i].doc != NULL ? -1 : rs[i].fd;
            pf[i].events = POLLIN;
        }
        if (poll(pf, (nfds_t)n, 60000) <= 0) {
            fprintf(stderr, "bench-sse reader: stalled\n");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP))) {
                continue;
            }
            reader *r = &rs[i];
            if (r->cap - r->len < 65536) {
                r->cap *= 2;
                r->buf = realloc(r->buf, r->cap + 1);
            }
            ssize_t got = recv(r->fd, r->buf + r->len, r->cap - r->len, 0);
            if (got <= 0) {
                fprintf(stderr,
                        "bench-sse reader: stream ended at %" PRIu64 "\n",
                        r->seq);
                return 1;
            }
            r->len += (size_t)got;
            r->buf[r->len] = '\0';
            parse(r);
            if (r->seq >= want && r->doc != NULL) {
                done++;
            }
        }
    }
    for (int i = 0; i < n; i++) {
        uint64_t sum = 0;
        pc_canon_checksum(rs[i].doc, &sum, NULL);
        printf("%016" PRIx64 " %d\n", sum, !rs[i].bad);
        close(rs[i].fd);
        cJSON_Delete(rs[i].doc);
        free(rs[i].buf);
    }
    free(rs);
    free(pf);
    fflush(stdout);
    return 0;
}

/* ---- the host ----------------------------------------------------------- */

typedef struct commit_ask {
    int count;
    uint64_t next;
} commit_ask;

static void commit_on_loop(pc_server *srv, void *arg)
{
    commit_ask *a = arg;
    pc_room *room = pc_server_find_room(srv, "r1");
    for (int i = 0; i < a->count; i++) {
        char patch[96];
        uint64_t k = a->next++;
        snprintf(patch, sizeof patch, "{\"n\":%" PRIu64 ",\"s%u\":%" PRIu64 "}",
                 k, (unsigned)(k % 32), k * 7);
        if (pc_update_phase_text(room, patch, "bench") != PC_OK) {
            fprintf(stderr, "bench-sse: update failed\n");
            exit(1);
        }
    }
}

typedef struct sum_ask {
    uint64_t sum, seq;
} sum_ask;

static void sum_on_loop(pc_server *srv, void *arg)
{
    sum_ask *a = arg;
    pc_room *room = pc_server_find_room(srv, "r1");
    a->sum = pc_room_checksum(room);
    a->seq = pc_room_seq(room);
}

/* One run: n clients, k changes. Returns changes/s, or -1 on divergence. */
static double run(const char *self, int n, int k, int *diverged)
{
    pc_server_options o;
    pc_server_options_init(&o);
    o.pub_url = "inproc://bench-sse-pub";
    o.rep_url = "inproc://bench-sse-rep";
    o.http.addr = "127.0.0.1:0";
    o.http.max_connections = (size_t)n + 64;
    o.http.rate = 1000000;
    o.http.sse_buffer_bytes = 64u << 20;
    o.heartbeat_ms = 1000;
    pc_server *srv = NULL;
    pc_error e = {0};
    if (pc_server_new(&o, &srv, &e) != PC_OK) {
        fprintf(stderr, "bench-sse: %s\n", e.message);
        exit(1);
    }
    pc_server_room_options ro;
    pc_server_room_options_init(&ro);
    ro.room.id = "r1";
    ro.join_action = NULL;
    if (pc_server_add_room(srv, &game, &ro, NULL) != PC_OK ||
        pc_server_start(srv) != PC_OK) {
        fprintf(stderr, "bench-sse: cannot host the room\n");
        exit(1);
    }
    char ns[16], ks[24];
    snprintf(ns, sizeof ns, "%d", n);
    snprintf(ks, sizeof ks, "%d", k);
    int out[2];
    if (pipe(out) != 0) {
        exit(1);
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    char *argv[] = {(char *)self, "--reader", (char *)pc_server_http_url(srv),
                    ns,           ks,         NULL};
    pid_t pid;
    if (posix_spawn(&pid, self, &fa, NULL, argv, environ) != 0) {
        fprintf(stderr, "bench-sse: cannot start the readers\n");
        exit(1);
    }
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    FILE *from = fdopen(out[0], "r");
    char line[128];
    if (fgets(line, sizeof line, from) == NULL ||
        strcmp(line, "ready\n") != 0) {
        fprintf(stderr, "bench-sse: the readers did not start\n");
        exit(1);
    }
    pc_server_http_stats hs = {0};
    while (hs.sse_streams < (uint64_t)n) { /* every stream is open */
        pc_server_http_stats_get(srv, &hs);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    commit_ask ca = {BATCH, 1};
    double t0 = now_s();
    for (int done = 0; done < k; done += BATCH) {
        ca.count = k - done < BATCH ? k - done : BATCH;
        pc_server_call(srv, commit_on_loop, &ca);
    }
    sum_ask sa;
    pc_server_call(srv, sum_on_loop, &sa);
    int ok = 0;
    for (int i = 0; i < n && fgets(line, sizeof line, from) != NULL; i++) {
        uint64_t sum = strtoull(line, NULL, 16);
        int good = line[17] == '1';
        ok += good && sum == sa.sum;
    }
    double t1 = now_s();
    fclose(from);
    int status;
    waitpid(pid, &status, 0);
    pc_server_http_stats_get(srv, &hs);
    pc_server_free(srv);
    *diverged = n - ok + (hs.sse_cut != 0);
    return (double)k / (t1 - t0);
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--reader") == 0) {
        return run_readers(argv[2], atoi(argv[3]), strtoull(argv[4], NULL, 10));
    }
    int counts[8] = {1, 10, 100};
    int ncounts = 3, k = 20000;
    const char *json = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--smoke") == 0) {
            counts[0] = 1;
            counts[1] = 10;
            ncounts = 2;
            k = 500;
        } else if (strcmp(argv[i], "--changes") == 0 && i + 1 < argc) {
            k = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--clients") == 0 && i + 1 < argc) {
            ncounts = 0;
            for (char *s = strtok(argv[++i], ","); s != NULL && ncounts < 8;
                 s = strtok(NULL, ",")) {
                counts[ncounts++] = atoi(s);
            }
        } else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
            json = argv[++i];
        } else {
            fprintf(stderr, "usage: phasecast-bench-sse [--clients 1,10,100] "
                            "[--changes K] [--smoke] [--json FILE]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    FILE *jf = json != NULL ? fopen(json, "w") : NULL;
    if (jf != NULL) {
        fprintf(jf, "[");
    }
    printf("%-8s %10s %16s %10s\n", "clients", "changes", "changes/s each",
           "diverged");
    int bad = 0;
    for (int i = 0; i < ncounts; i++) {
        int diverged = 0;
        double rate = run(argv[0], counts[i], k, &diverged);
        printf("%-8d %10d %16.0f %10d\n", counts[i], k, rate, diverged);
        if (jf != NULL) {
            fprintf(
                jf,
                "%s{\"clients\":%d,\"changes\":%d,\"per_client_per_s\":%.0f,"
                "\"diverged\":%d}",
                i ? "," : "", counts[i], k, rate, diverged);
        }
        bad += diverged;
    }
    if (jf != NULL) {
        fprintf(jf, "]\n");
        fclose(jf);
    }
    pc_transport_fini();
    if (bad != 0) {
        fprintf(stderr, "bench-sse: %d client(s) diverged\n", bad);
        return 1;
    }
    return 0;
}
