/*
 * test_server_hostile.c - hostile transports against a real server. Plain
 * POSIX sockets (socket, connect, send) speak just enough of nng's TCP
 * framing (an 8-byte SP header, then 8-byte big-endian lengths) to
 * misbehave: 100 frames claiming 2^62 bytes, real 10 MiB messages against
 * a 64 KiB limit (on the request endpoint and on the broadcast endpoint,
 * which a subscriber can write to as well), 1,000 connections that send 3
 * of the 8 header bytes and close, and 1,000 that send 3 and hang. Each
 * offending connection must be dropped by the server (our read sees EOF
 * or a reset within a bounded wait), the process's resident memory must
 * grow by less than 2 MiB (under ASan: its heap in use; under valgrind,
 * whose RSS is its own, memcheck's leak check), its descriptors must
 * return to where they were, and a new client must still join and follow
 * the room afterwards.
 *
 * The server runs in this process (its RSS and descriptors are those of
 * /proc/self; the raw sockets allocate nothing on the heap and their
 * descriptors are closed before counting). Every wait polls a condition
 * against a deadline; the figures are printed, never asserted as speeds.
 * nng 1.5.2 gives a connection 10 s to finish its SP header
 * (src/sp/transport/tcp/tcp.c, tcptran_pipe_start) and offers no option
 * to shorten it, so the hanging case takes about 10 s by construction.
 */
#include "test_server_support.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tictactoe/tictactoe.h"

/* The request size answered normally; nng drops twice this. */
#define MAX_MESSAGE (64 * 1024)
#define CLAIMS      100
#define HUGE_BYTES  (10 * 1024 * 1024)
#define HUGE_SENDS  4 /* per endpoint */
#define PARTIALS    1000
/* Connections opened before pausing for the server to accept them (its
 * listen backlog is 128). */
#define BATCH 100
/* SP protocol numbers (nng's protocol ids): what we claim to be. */
#define SP_REQ 0x30
#define SP_SUB 0x21
/* nng 1.5.2's negotiation timeout (not configurable). */
#define NNG_NEGOTIATION_MS 10000
/* Descriptors this process needs at once: both ends of PARTIALS
 * connections (the server runs in this process), and room for the rest. */
#define FDS_NEEDED (2 * PARTIALS + 256)
/* The allowed growth of resident memory per scenario. */
#define RSS_GROWTH_KIB 2048
/* How long a new client may take to join and see its change. */
#define FOLLOW_MS 2000

typedef struct fixture {
    pc_server *srv;
    int rep_port, pub_port;
    long rss0; /* KiB, after start */
    int fds0;
} fixture;

static fixture fx;

static int wait_scale(int ms)
{
    return testenv_under_valgrind() ? ms * 6 : ms;
}

/* Built with AddressSanitizer? Its shadow memory and quarantine (freed
 * blocks are held back, not reused) make RSS measure the tool, so there the
 * memory check uses the sanitizer allocator's own count of the heap bytes
 * allocated and not yet freed. */
#if defined(__SANITIZE_ADDRESS__)
#define PC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PC_ASAN 1
#endif
#endif
#ifdef PC_ASAN
/* The ASan runtime's (sanitizer/allocator_interface.h, which GCC does
 * not install). */
size_t __sanitizer_get_current_allocated_bytes(void);
#define MEMORY_NAME "heap in use (ASan)"
#else
#define MEMORY_NAME "RSS"
#endif

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    assert_non_null(f);
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) {
            break;
        }
    }
    fclose(f);
    assert_true(kib > 0);
    return kib;
}

/* The memory the check bounds, in KiB: VmRSS, or under ASan the heap. */
static long memory_kib(void)
{
#ifdef PC_ASAN
    return (long)(__sanitizer_get_current_allocated_bytes() / 1024);
#else
    return rss_kib();
#endif
}

static int fd_count(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    while (readdir(d) != NULL) {
        n++;
    }
    closedir(d);
    return n;
}

static int port_of(const char *url)
{
    const char *colon = strrchr(url, ':');
    assert_non_null(colon);
    return atoi(colon + 1);
}

static void nap(void)
{
    (void)poll(NULL, 0, 5);
}

static void warm_up(void);

static int setup(void **state)
{
    memset(&fx, 0, sizeof fx);
    pc_server_options o;
    pc_server_options_init(&o);
    o.pub_url = "tcp://127.0.0.1:0";
    o.rep_url = "tcp://127.0.0.1:0";
    o.max_message_bytes = MAX_MESSAGE;
    o.heartbeat_ms = 50;
    if (pc_server_new(&o, &fx.srv, NULL) != PC_OK) {
        return -1;
    }
    pc_server_room_options ro;
    pc_server_room_options_init(&ro);
    ro.room.id = "r1";
    if (pc_server_add_room(fx.srv, tictactoe_game(), &ro, NULL) != PC_OK ||
        pc_server_start(fx.srv) != PC_OK) {
        return -1;
    }
    fx.rep_port = port_of(pc_server_rep_url(fx.srv));
    fx.pub_port = port_of(pc_server_pub_url(fx.srv));
    fx.fds0 = fd_count();
    warm_up();
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pc_server_free(fx.srv);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Raw SP over TCP                                                      */
/* ------------------------------------------------------------------ */

/* A blocking TCP connection to 127.0.0.1:port, then made non-blocking. */
static int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        fail_msg("connect to port %d: %s", port, strerror(errno));
    }
    assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
    return fd;
}

/* The SP header a peer of protocol proto sends first. */
static void sp_header(unsigned char out[8], int proto)
{
    const unsigned char h[8] = {0, 'S', 'P', 0, 0, (unsigned char)proto, 0, 0};
    memcpy(out, h, 8);
}

static void be64(unsigned char out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

/* Send all of buf (small: fits the socket buffer of a fresh connection). */
static void send_small(int fd, const void *buf, size_t n)
{
    ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
    if (w != (ssize_t)n) {
        fail_msg("send of %zu bytes: %zd (%s)", n, w, strerror(errno));
    }
}

/* Read what is there; true when the server has closed the connection
 * (EOF, a reset, or a write that failed because of either). */
static bool closed_by_peer(int fd)
{
    char scratch[4096];
    for (;;) {
        ssize_t r = recv(fd, scratch, sizeof scratch, 0);
        if (r > 0) {
            continue; /* the server's SP header */
        }
        if (r == 0) {
            return true;
        }
        return errno == ECONNRESET || errno == EPIPE;
    }
}

/*
 * Wait until the server has dropped each of fds[0..n) or the deadline
 * passes; drop_ms[i] receives the time from start_ms[i] to the drop (-1:
 * not dropped). Returns how many were dropped.
 */
static size_t wait_dropped(const int *fds, size_t n, const int64_t *start_ms,
                           int64_t *drop_ms, int64_t deadline)
{
    struct pollfd *p = calloc(n, sizeof *p);
    size_t *idx = calloc(n, sizeof *idx);
    assert_true(p != NULL && idx != NULL);
    size_t dropped = 0;
    for (size_t i = 0; i < n; i++) {
        drop_ms[i] = -1;
    }
    while (dropped < n && mono_ms() < deadline) {
        size_t np = 0;
        for (size_t i = 0; i < n; i++) {
            if (drop_ms[i] < 0) {
                p[np] = (struct pollfd){.fd = fds[i], .events = POLLIN};
                idx[np++] = i;
            }
        }
        int64_t left = deadline - mono_ms();
        int rv = poll(p, np, left > 100 ? 100 : (int)(left > 0 ? left : 0));
        if (rv <= 0) {
            continue;
        }
        for (size_t k = 0; k < np; k++) {
            if (p[k].revents != 0 && closed_by_peer(p[k].fd)) {
                drop_ms[idx[k]] = mono_ms() - start_ms[idx[k]];
                dropped++;
            }
        }
    }
    free(p);
    free(idx);
    return dropped;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Print the drop times of n connections: min, median, max. */
static void print_drops(const char *what, int64_t *drop_ms, size_t n)
{
    qsort(drop_ms, n, sizeof *drop_ms, cmp_i64);
    print_message("%s: %zu dropped, after min %lld ms, median %lld ms, "
                  "max %lld ms\n",
                  what, n, (long long)drop_ms[0], (long long)drop_ms[n / 2],
                  (long long)drop_ms[n - 1]);
}

static void close_all(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        close(fds[i]);
    }
}

/* ------------------------------------------------------------------ */
/* What must hold after every attack                                    */
/* ------------------------------------------------------------------ */

/* Wait (bounded) until the process is back to its baseline descriptors;
 * returns the count seen. */
static int wait_fds_baseline(void)
{
    int64_t end = mono_ms() + wait_scale(WAIT_MS);
    int n = fd_count();
    while (n > fx.fds0 && mono_ms() < end) {
        nap();
        n = fd_count();
    }
    if (n > fx.fds0) {
        fail_msg("descriptors stayed at %d, baseline %d", n, fx.fds0);
    }
    return n;
}

static void check_memory(const char *what)
{
    int fds = wait_fds_baseline();
    long mem = memory_kib();
    print_message("%s: " MEMORY_NAME " %ld KiB before, %ld KiB after (%+ld "
                  "KiB; VmRSS now %ld KiB); descriptors %d before, %d "
                  "after\n",
                  what, fx.rss0, mem, mem - fx.rss0, rss_kib(), fx.fds0, fds);
    /* Under valgrind, RSS is valgrind's (its shadow memory grows with
     * every byte the process touches): there memcheck's leak check at
     * exit, which fails the run on any lost block, bounds the memory. */
    if (mem - fx.rss0 >= RSS_GROWTH_KIB && !testenv_under_valgrind()) {
        fail_msg("%s: " MEMORY_NAME " grew by %ld KiB (limit %d KiB)", what,
                 mem - fx.rss0, RSS_GROWTH_KIB);
    }
}

/* The next broadcast frame of sub as a NUL-terminated string (caller
 * frees), or NULL if none came before the deadline end. */
static char *recv_text_until(nng_socket sub, int64_t end)
{
    int64_t left = end - mono_ms();
    if (left <= 0) {
        return NULL;
    }
    assert_int_equal(nng_socket_set_ms(sub, NNG_OPT_RECVTIMEO, left), 0);
    char *buf = NULL;
    size_t n = 0;
    if (nng_recv(sub, &buf, &n, NNG_FLAG_ALLOC) != 0) {
        return NULL;
    }
    char *text = malloc(n + 1);
    assert_non_null(text);
    memcpy(text, buf, n);
    text[n] = '\0';
    nng_free(buf, n);
    return text;
}

/* Is text the "changes" frame carrying seq and naming name? */
static bool is_change_of(const char *text, uint64_t seq, const char *name)
{
    char want[64];
    snprintf(want, sizeof want, "\"seq\":%llu", (unsigned long long)seq);
    const char *at = strstr(text, want);
    return at != NULL && (at[strlen(want)] < '0' || at[strlen(want)] > '9') &&
           strstr(text, "\"type\":\"changes\"") != NULL &&
           strstr(text, name) != NULL;
}

/*
 * A new client joins r1 as a player and sees the change its join made on
 * the broadcast, all within FOLLOW_MS (a bound, not a speed); a failure
 * names the step that did not happen in time and when the others did.
 * Then its sockets are closed and the process must be back to its
 * baseline descriptors: nng closes a connection's descriptor when it reaps
 * the pipe, after nng_close has returned, and a descriptor still open when
 * the next test's server takes its baseline would raise that baseline.
 */
static void check_new_client_follows(const char *name)
{
    int64_t t0 = mono_ms(), end = t0 + wait_scale(FOLLOW_MS);
    int64_t heartbeat_ms = -1, reply_ms = -1, change_ms = -1;
    nng_socket sub = sub_open(pc_server_pub_url(fx.srv), "r1 ");
    nng_socket req = req_open(pc_server_rep_url(fx.srv));
    /* A heartbeat proves the subscription is live. */
    char *text;
    while (heartbeat_ms < 0 && (text = recv_text_until(sub, end)) != NULL) {
        if (strstr(text, "\"type\":\"heartbeat\"") != NULL) {
            heartbeat_ms = mono_ms() - t0;
        }
        free(text);
    }
    uint64_t seq = 0;
    if (heartbeat_ms >= 0) {
        cJSON *r =
            request(req,
                    "{\"op\":\"join\",\"room\":\"r1\",\"role\":\"player\","
                    "\"name\":\"%s\"}",
                    name);
        reply_ms = mono_ms() - t0;
        seq = (uint64_t)num(ok_result(r), "seq");
        cJSON_Delete(r);
        while (change_ms < 0 && (text = recv_text_until(sub, end)) != NULL) {
            if (is_change_of(text, seq, name)) {
                change_ms = mono_ms() - t0;
            }
            free(text);
        }
    }
    nng_close(req);
    nng_close(sub);
    if (change_ms < 0 || change_ms > wait_scale(FOLLOW_MS)) {
        fail_msg("a new client could not join r1 and see its change (seq "
                 "%llu) within %d ms after the attack: heartbeat at %lld ms, "
                 "join reply at %lld ms, change at %lld ms (-1: not seen)",
                 (unsigned long long)seq, wait_scale(FOLLOW_MS),
                 (long long)heartbeat_ms, (long long)reply_ms,
                 (long long)change_ms);
    }
    int fds = wait_fds_baseline();
    print_message("a new client joined and saw its change in %lld ms "
                  "(heartbeat at %lld ms, join reply at %lld ms); "
                  "descriptors %d after it left\n",
                  (long long)change_ms, (long long)heartbeat_ms,
                  (long long)reply_ms, fds);
}

/* ------------------------------------------------------------------ */
/* The attacks                                                          */
/* ------------------------------------------------------------------ */

/* CLAIMS connections to port, each a valid SP header for proto and then a
 * frame header claiming 2^62 bytes; all must be dropped. */
static void claim_huge(int port, int proto, const char *what)
{
    int fds[CLAIMS];
    int64_t start[CLAIMS], drop[CLAIMS];
    for (size_t i = 0; i < CLAIMS; i++) {
        unsigned char b[16];
        sp_header(b, proto);
        be64(b + 8, UINT64_C(1) << 62);
        fds[i] = tcp_connect(port);
        start[i] = mono_ms();
        send_small(fds[i], b, sizeof b);
    }
    size_t n =
        wait_dropped(fds, CLAIMS, start, drop, mono_ms() + wait_scale(WAIT_MS));
    close_all(fds, CLAIMS);
    if (n != CLAIMS) {
        fail_msg("%s: only %zu of %d connections claiming 2^62 bytes were "
                 "dropped",
                 what, n, CLAIMS);
    }
    print_drops(what, drop, CLAIMS);
}

static void test_frames_claiming_2_to_the_62_bytes_are_dropped(void **state)
{
    (void)state;
    claim_huge(fx.rep_port, SP_REQ, "REP, 100 claims of 2^62 bytes");
    claim_huge(fx.pub_port, SP_SUB, "PUB, 100 claims of 2^62 bytes");
    check_memory("2^62 claims");
    check_new_client_follows("after_claims");
}

/*
 * Push one real message of HUGE_BYTES to port as proto: a ping request
 * padded to size (with the REQ request id a REP expects). Stops at the
 * first failed write (the server dropped us) or when all is sent.
 * Returns the bytes the kernel took.
 */
static size_t push_huge(int fd, int proto, int64_t deadline)
{
    static const char head[] = "{\"op\":\"ping\",\"pad\":\"";
    unsigned char pre[8 + 8 + 4];
    size_t body = HUGE_BYTES;
    sp_header(pre, proto);
    be64(pre + 8, body);
    size_t pre_len = 16;
    if (proto == SP_REQ) {
        const unsigned char id[4] = {0x80, 0, 0, 1};
        memcpy(pre + 16, id, 4);
        pre_len = 20;
        body -= 4;
    }
    size_t total = pre_len + body, sent = 0;
    char chunk[65536];
    while (sent < total && mono_ms() < deadline) {
        /* Bytes sent..sent+len of: pre, head, 'x' padding, "\"}". */
        size_t len = 0;
        for (; len < sizeof chunk && sent + len < total; len++) {
            size_t at = sent + len;
            if (at < pre_len) {
                chunk[len] = (char)pre[at];
            } else if (at - pre_len < sizeof head - 1) {
                chunk[len] = head[at - pre_len];
            } else if (at == total - 2) {
                chunk[len] = '"';
            } else if (at == total - 1) {
                chunk[len] = '}';
            } else {
                chunk[len] = 'x';
            }
        }
        ssize_t w = send(fd, chunk, len, MSG_NOSIGNAL);
        if (w > 0) {
            sent += (size_t)w;
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            break; /* reset or broken pipe: dropped */
        }
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        (void)poll(&p, 1, 100);
        if ((p.revents & (POLLERR | POLLHUP)) != 0) {
            break;
        }
    }
    return sent;
}

static void send_huge(int port, int proto, const char *what)
{
    int fds[HUGE_SENDS];
    int64_t start[HUGE_SENDS], drop[HUGE_SENDS];
    size_t most = 0;
    for (size_t i = 0; i < HUGE_SENDS; i++) {
        fds[i] = tcp_connect(port);
        start[i] = mono_ms();
        size_t took = push_huge(fds[i], proto, start[i] + wait_scale(WAIT_MS));
        most = took > most ? took : most;
    }
    size_t n = wait_dropped(fds, HUGE_SENDS, start, drop,
                            mono_ms() + wait_scale(WAIT_MS));
    close_all(fds, HUGE_SENDS);
    if (n != HUGE_SENDS) {
        fail_msg("%s: only %zu of %d connections sending 10 MiB were dropped",
                 what, n, HUGE_SENDS);
    }
    print_message("%s: the kernel took at most %zu bytes of %d before the "
                  "reset\n",
                  what, most, HUGE_BYTES);
    print_drops(what, drop, HUGE_SENDS);
}

static void test_real_10_mib_messages_over_the_limit_are_dropped(void **state)
{
    (void)state;
    send_huge(fx.rep_port, SP_REQ, "REP, 10 MiB messages");
    send_huge(fx.pub_port, SP_SUB, "PUB, 10 MiB messages");
    check_memory("10 MiB messages");
    check_new_client_follows("after_huge");
}

/* PARTIALS connections to port that send 3 of the 8 header bytes; fds
 * receives them and start their connect times. */
static void open_partials(int port, int *fds, int64_t *start)
{
    const unsigned char part[3] = {0, 'S', 'P'};
    for (size_t i = 0; i < PARTIALS; i++) {
        fds[i] = tcp_connect(port);
        start[i] = mono_ms();
        send_small(fds[i], part, sizeof part);
        if ((i + 1) % BATCH == 0) {
            nap(); /* let the server's accept loop catch up */
        }
    }
}

/* PARTIALS partial headers to each endpoint, held open at once, then
 * closed; the server lets go of one endpoint's before the next. */
static void concurrent_partials(void)
{
    int *fds = calloc(PARTIALS, sizeof *fds);
    int64_t *start = calloc(PARTIALS, sizeof *start);
    assert_true(fds != NULL && start != NULL);
    int ports[2] = {fx.rep_port, fx.pub_port};
    for (int e = 0; e < 2; e++) {
        open_partials(ports[e], fds, start);
        close_all(fds, PARTIALS);
        /* At most both ends of PARTIALS connections at once (FDS_NEEDED). */
        (void)wait_fds_baseline();
    }
    free(fds);
    free(start);
}

/*
 * Before the baseline, the allocations the attacks make, done once:
 *
 * 1. WARM_UP connections to each endpoint, one after another, that close
 *    after a whole SP header (so nng makes a pipe) or after part of one:
 *    the first thousands of connections a fresh server handles spread
 *    nng's work over its task threads, and the C library gives each
 *    thread an arena of its own that keeps some of what was freed.
 *    Measured (docs/testing.md): RSS grows by about 1.8 MiB over the first
 *    2,400 connections that make a pipe, then stays flat (+0 KiB over the
 *    next 800).
 * 2. PARTIALS connections to each endpoint held open at once, then closed,
 *    as the partial-header attacks do. A thousand negotiating connections
 *    are about 1.9 MiB of heap (ASan's count at the peak of the hanging
 *    attack). All of it is freed (ASan's heap in use is back to its
 *    baseline to the KiB), but the first such wave in a process raises
 *    the arenas' high-water mark, and how much of that stays resident
 *    depends on how the server's threads interleaved their allocations
 *    and frees, which is the machine's load, not the server (the wave
 *    itself: +52 to +252 KiB over 22 runs on a loaded 2-core machine).
 *    Without it, the first attack to hold a thousand connections measured
 *    this wave (+48 to +184 KiB over 37 such runs, +604 KiB once before)
 *    against a 2 MiB bound that the wave's whole heap nearly fills. The
 *    wave leaves no pipe behind (its descriptors are back to the baseline
 *    before the memory is read).
 *
 * The baseline is taken after this, so the check bounds what each attack
 * costs beyond the allocator's first touch; the figures are printed. The
 * arenas are the process's, so later servers of this run need only a
 * smaller warm-up of the first kind.
 */
#define WARM_UP       1000
#define WARM_UP_AGAIN 100

static void warm_up(void)
{
    static bool warm;
    bool first = !warm;
    int count = first ? WARM_UP : WARM_UP_AGAIN;
    warm = true;
    long start = memory_kib();
    unsigned char hdr[2][8];
    sp_header(hdr[0], SP_REQ);
    sp_header(hdr[1], SP_SUB);
    int ports[2] = {fx.rep_port, fx.pub_port};
    for (int e = 0; e < 2; e++) {
        for (int i = 0; i < count; i++) {
            int fd = tcp_connect(ports[e]);
            send_small(fd, hdr[e], i % 2 == 0 ? 8 : 3);
            close(fd);
            if ((i + 1) % BATCH == 0) {
                (void)wait_fds_baseline();
            }
        }
    }
    (void)wait_fds_baseline();
    long sequential = memory_kib();
    /* Under valgrind the RSS is valgrind's and is not checked. */
    bool wave = first && !testenv_under_valgrind();
    if (wave) {
        concurrent_partials();
    }
    fx.rss0 = memory_kib();
    print_message(MEMORY_NAME " %ld KiB at start, %ld KiB after a warm-up of "
                              "2 x %d connections, %ld KiB after %s\n",
                  start, sequential, count, fx.rss0,
                  wave ? "2 x 1,000 concurrent ones" : "(no concurrent wave)");
}

static void
test_partial_headers_then_close_leave_no_descriptor_behind(void **state)
{
    (void)state;
    concurrent_partials();
    check_memory("2 x 1,000 partial headers, then close");
    check_new_client_follows("after_close");
}

static void test_partial_headers_that_hang_are_dropped(void **state)
{
    (void)state;
    int *fds = calloc(PARTIALS, sizeof *fds);
    int64_t *start = calloc(PARTIALS, sizeof *start);
    int64_t *drop = calloc(PARTIALS, sizeof *drop);
    assert_true(fds != NULL && start != NULL && drop != NULL);
    open_partials(fx.rep_port, fds, start);
    /* Each side of each connection is a descriptor of this process. */
    int peak = fd_count();
    size_t n =
        wait_dropped(fds, PARTIALS, start, drop,
                     mono_ms() + NNG_NEGOTIATION_MS + wait_scale(WAIT_MS));
    close_all(fds, PARTIALS);
    if (n != PARTIALS) {
        fail_msg("only %zu of %d connections hanging in the SP header were "
                 "dropped within %d ms",
                 n, PARTIALS, NNG_NEGOTIATION_MS + wait_scale(WAIT_MS));
    }
    print_message("1,000 hanging headers: descriptors peaked at %d (baseline "
                  "%d: %d of the server's, %d of ours)\n",
                  peak, fx.fds0, peak - fx.fds0 - PARTIALS, PARTIALS);
    print_drops("REP, 1,000 partial headers that hang", drop, PARTIALS);
    free(fds);
    free(start);
    free(drop);
    check_memory("1,000 partial headers that hang");
    check_new_client_follows("after_hang");
}

/* Regression: the PUB socket had no receive limit, so a subscriber that
 * claimed a large frame made nng allocate it and wait, without end, for
 * its body (nng has no timeout once a message has started). */
static void
test_a_subscriber_claiming_a_frame_is_dropped_before_its_body(void **state)
{
    (void)state;
    unsigned char b[16];
    sp_header(b, SP_SUB);
    be64(b + 8, 1024 * 1024);
    int fd = tcp_connect(fx.pub_port);
    int64_t start = mono_ms(), drop;
    send_small(fd, b, sizeof b);
    size_t n =
        wait_dropped(&fd, 1, &start, &drop, mono_ms() + wait_scale(WAIT_MS));
    close(fd);
    if (n != 1) {
        fail_msg("a subscriber claiming a 1 MiB frame and sending none of "
                 "it was still connected after %d ms",
                 wait_scale(WAIT_MS));
    }
    check_memory("a subscriber's claimed frame");
}

/* The PUB limit leaves room for WebSocket control frames, which nng's ws
 * transport counts against it: a subscriber over ws:// still follows. */
static void test_a_websocket_subscriber_still_follows(void **state)
{
    (void)state;
    pc_server_options o;
    pc_server_options_init(&o);
    o.pub_url = "ws://127.0.0.1:0/pub";
    o.rep_url = "tcp://127.0.0.1:0";
    o.heartbeat_ms = 50;
    pc_server *srv = NULL;
    assert_int_equal(pc_server_new(&o, &srv, NULL), PC_OK);
    pc_server_room_options ro;
    pc_server_room_options_init(&ro);
    ro.room.id = "w1";
    assert_int_equal(pc_server_add_room(srv, tictactoe_game(), &ro, NULL),
                     PC_OK);
    assert_int_equal(pc_server_start(srv), PC_OK);
    nng_socket sub = sub_open(pc_server_pub_url(srv), "w1 ");
    nng_socket req = req_open(pc_server_rep_url(srv));
    wait_heartbeat(sub, "w1");
    cJSON_Delete(request(req, "{\"op\":\"join\",\"room\":\"w1\","
                              "\"role\":\"player\",\"name\":\"wes\"}"));
    frame f = recv_frame(sub);
    while (strcmp(str(f.env, "type"), "heartbeat") == 0) {
        cJSON_Delete(f.env);
        f = recv_frame(sub);
    }
    assert_string_equal(str(f.env, "type"), "changes");
    cJSON_Delete(f.env);
    pc_server_free(srv);
    nng_close(req);
    nng_close(sub);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_a_subscriber_claiming_a_frame_is_dropped_before_its_body),
        T(test_frames_claiming_2_to_the_62_bytes_are_dropped),
        T(test_real_10_mib_messages_over_the_limit_are_dropped),
        T(test_partial_headers_then_close_leave_no_descriptor_behind),
        T(test_partial_headers_that_hang_are_dropped),
        cmocka_unit_test(test_a_websocket_subscriber_still_follows),
    };
#undef T
    /* The hanging case holds both ends of PARTIALS connections. */
    long have = 0;
    if (!testenv_need_fds(FDS_NEEDED, &have)) {
        fprintf(stderr,
                "test_server_hostile needs %d descriptors at once; the hard "
                "limit allows %ld (ulimit -Hn; under valgrind, the soft limit "
                "valgrind started with)\n",
                FDS_NEEDED, have);
        return 1;
    }
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    pc_transport_fini();
    return failed;
}
