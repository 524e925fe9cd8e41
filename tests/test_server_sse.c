/*
 * test_server_sse.c - the bridge's Server-Sent Events over real TCP: a
 * client follows 10,000 changes and ends with the server's exact state,
 * checking every seq and checksum on the way; resuming with Last-Event-ID
 * inside the ring replays just the missed changes, outside it starts with
 * a snapshot; a stalled reader is cut at its buffer cap while another
 * reader gets everything; views hold on streams; 1,000 streams opened and
 * dropped, and 200 half-sent requests, leave the server's connections and
 * descriptors where they started.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/merge.h"
#include "phasecast/room.h"
#include "phasecast/server.h"
#include "countergame.h"
#include "httpc.h"
#include "testenv.h"
#include "testnet.h"

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static pc_server *serve(pc_server_options *o, size_t history)
{
    o->pub_url = "tcp://127.0.0.1:0";
    o->rep_url = "tcp://127.0.0.1:0";
    o->http.addr = "127.0.0.1:0";
    pc_server *srv = NULL;
    pc_error e = {0};
    if (pc_server_new(o, &srv, &e) != PC_OK) {
        fail_msg("pc_server_new: %s", e.message);
    }
    pc_server_room_options ro;
    pc_server_room_options_init(&ro);
    ro.room.id = "r1";
    ro.room.history_capacity = history;
    assert_int_equal(pc_server_add_room(srv, countergame(), &ro, NULL), PC_OK);
    assert_int_equal(pc_server_start(srv), PC_OK);
    return srv;
}

static pc_server *serve_default(size_t history)
{
    pc_server_options o;
    pc_server_options_init(&o);
    o.heartbeat_ms = 200;
    return serve(&o, history);
}

static void commit(pc_server *srv, const char *text, int count)
{
    testnet_commit(srv, "r1", text, count);
}

/* A replica of the public view kept from an event stream. */
typedef struct replica {
    cJSON *doc;
    uint64_t seq;
    int snapshots, changes, heartbeats;
} replica;

static uint64_t hex64(const char *s)
{
    return strtoull(s, NULL, 16);
}

/* Apply one event; fail on a gap or a checksum that does not match. */
static void apply(replica *r, const char *name, const char *id,
                  const char *data)
{
    cJSON *j = cJSON_Parse(data);
    assert_non_null(j);
    assert_int_equal(cJSON_GetObjectItem(j, "v")->valueint, 1);
    assert_string_equal(cJSON_GetObjectItem(j, "type")->valuestring, name);
    if (strcmp(name, "heartbeat") == 0) {
        assert_string_equal(id, "");
        r->heartbeats++;
        cJSON_Delete(j);
        return;
    }
    uint64_t sum;
    if (strcmp(name, "snapshot") == 0) {
        cJSON_Delete(r->doc);
        r->doc = cJSON_DetachItemFromObject(j, "state");
        r->seq = (uint64_t)cJSON_GetObjectItem(j, "seq")->valuedouble;
        assert_int_equal(strtoull(id, NULL, 10), r->seq);
        assert_int_equal(pc_canon_checksum(r->doc, &sum, NULL), PC_OK);
        assert_int_equal(sum,
                         hex64(cJSON_GetObjectItem(j, "sum")->valuestring));
        r->snapshots++;
        cJSON_Delete(j);
        return;
    }
    assert_string_equal(name, "changes");
    const cJSON *list = cJSON_GetObjectItem(j, "changes");
    assert_int_equal(cJSON_GetArraySize(list), 1);
    const cJSON *c = cJSON_GetArrayItem(list, 0);
    uint64_t seq = (uint64_t)cJSON_GetObjectItem(c, "seq")->valuedouble;
    assert_int_equal(strtoull(id, NULL, 10), seq);
    assert_non_null(r->doc);
    if (seq != r->seq + 1) {
        fail_msg("gap: replica at %llu, change %llu",
                 (unsigned long long)r->seq, (unsigned long long)seq);
    }
    cJSON *data_node = cJSON_GetObjectItem(r->doc, "data");
    assert_int_equal(
        pc_merge_patch_inplace(data_node, cJSON_GetObjectItem(c, "patch")),
        PC_OK);
    cJSON_ReplaceItemInObject(
        r->doc, "phase",
        cJSON_CreateString(cJSON_GetObjectItem(c, "phase")->valuestring));
    assert_int_equal(pc_canon_checksum(r->doc, &sum, NULL), PC_OK);
    assert_int_equal(sum, hex64(cJSON_GetObjectItem(c, "sum")->valuestring));
    r->seq = seq;
    r->changes++;
    cJSON_Delete(j);
}

/* Read events into r until it reaches seq (failing after 20 s idle). */
static void follow_to(httpc_stream *s, replica *r, uint64_t seq)
{
    while (r->seq < seq || r->doc == NULL) {
        const char *name, *id, *data;
        int got = httpc_stream_next(s, 20000, &name, &id, &data);
        if (got != 1) {
            fail_msg("stream ended or stalled at seq %llu (want %llu)",
                     (unsigned long long)r->seq, (unsigned long long)seq);
        }
        apply(r, name, id, data);
    }
}

/* The server's own state, canonical text. */
typedef struct canon_ask {
    char *text;
} canon_ask;

static void canon_on_loop(pc_server *srv, void *arg)
{
    canon_ask *a = arg;
    size_t n;
    assert_int_equal(
        pc_canon_print(pc_room_state(pc_server_find_room(srv, "r1")), &a->text,
                       &n),
        PC_OK);
}

static void assert_same_state(pc_server *srv, const cJSON *doc)
{
    canon_ask a = {0};
    assert_int_equal(pc_server_call(srv, canon_on_loop, &a), PC_OK);
    char *mine;
    size_t n;
    assert_int_equal(pc_canon_print(doc, &mine, &n), PC_OK);
    assert_string_equal(mine, a.text);
    pc_free(mine);
    pc_free(a.text);
}

static void test_follow_10000_changes(void **state)
{
    (void)state;
    pc_server *srv = serve_default(100);
    const char *url = pc_server_http_url(srv);
    int status;
    httpc_stream *s =
        httpc_stream_open(url, "/rooms/r1/events", NULL, 0, &status);
    assert_non_null(s);
    replica r = {0};
    follow_to(s, &r, 0);
    assert_int_equal(r.snapshots, 1);
    for (int batch = 0; batch < 100; batch++) {
        commit(srv, NULL, 100);
        follow_to(s, &r, (uint64_t)(batch + 1) * 100);
    }
    assert_int_equal(r.seq, 10000);
    assert_int_equal(r.changes, 10000);
    assert_int_equal(r.snapshots, 1);
    assert_same_state(srv, r.doc);
    pc_server_http_stats hs;
    assert_int_equal(pc_server_http_stats_get(srv, &hs), PC_OK);
    assert_int_equal(hs.sse_streams, 1);
    assert_int_equal(hs.sse_cut, 0);
    httpc_stream_close(s);
    cJSON_Delete(r.doc);
    pc_server_free(srv);
}

static void test_resume_inside_and_outside_the_ring(void **state)
{
    (void)state;
    pc_server *srv = serve_default(50);
    const char *url = pc_server_http_url(srv);
    httpc_stream *s = httpc_stream_open(url, "/rooms/r1/events", NULL, 0, NULL);
    assert_non_null(s);
    replica r = {0};
    commit(srv, NULL, 10);
    follow_to(s, &r, 10);
    httpc_stream_close(s); /* the browser lost the connection at seq 10 */
    commit(srv, NULL, 30);
    /* Inside the ring: only the missed changes, no snapshot. */
    s = httpc_stream_open(url, "/rooms/r1/events", "Last-Event-ID: 10\r\n", 0,
                          NULL);
    assert_non_null(s);
    int snaps = r.snapshots;
    follow_to(s, &r, 40);
    assert_int_equal(r.snapshots, snaps);
    assert_same_state(srv, r.doc);
    httpc_stream_close(s);
    /* ?since works the same for a page's first request. */
    s = httpc_stream_open(url, "/rooms/r1/events?since=40", NULL, 0, NULL);
    assert_non_null(s);
    commit(srv, NULL, 1);
    follow_to(s, &r, 41);
    assert_int_equal(r.snapshots, snaps);
    httpc_stream_close(s);
    /* Outside the ring (50 kept): a snapshot first, then live. */
    commit(srv, NULL, 100);
    s = httpc_stream_open(url, "/rooms/r1/events", "Last-Event-ID: 41\r\n", 0,
                          NULL);
    assert_non_null(s);
    follow_to(s, &r, 141);
    assert_int_equal(r.snapshots, snaps + 1);
    commit(srv, NULL, 5);
    follow_to(s, &r, 146);
    assert_same_state(srv, r.doc);
    httpc_stream_close(s);
    /* A malformed id is no id; an id from the future restarts too. */
    replica r2 = {0};
    s = httpc_stream_open(url, "/rooms/r1/events", "Last-Event-ID: x1\r\n", 0,
                          NULL);
    follow_to(s, &r2, 146);
    assert_int_equal(r2.snapshots, 1);
    httpc_stream_close(s);
    s = httpc_stream_open(url, "/rooms/r1/events", "Last-Event-ID: 999\r\n", 0,
                          NULL);
    const char *name, *id, *data;
    assert_int_equal(httpc_stream_next(s, 20000, &name, &id, &data), 1);
    apply(&r2, name, id, data);
    assert_int_equal(r2.snapshots, 2);
    httpc_stream_close(s);
    pc_server_http_stats hs;
    assert_int_equal(pc_server_http_stats_get(srv, &hs), PC_OK);
    if (hs.sse_resumed != 2) {
        fail_msg("resumed %llu snapshots %llu",
                 (unsigned long long)hs.sse_resumed,
                 (unsigned long long)hs.sse_snapshots);
    }
    assert_int_equal(hs.sse_snapshots, 4);
    cJSON_Delete(r.doc);
    cJSON_Delete(r2.doc);
    pc_server_free(srv);
}

static void test_stalled_reader_is_cut(void **state)
{
    (void)state;
    pc_server_options o;
    pc_server_options_init(&o);
    o.heartbeat_ms = 200;
    o.http.sse_buffer_bytes = 64 * 1024;
    pc_server *srv = serve(&o, 100);
    const char *url = pc_server_http_url(srv);
    /* The stalled one reads nothing, through a small receive window. */
    httpc_stream *stalled =
        httpc_stream_open(url, "/rooms/r1/events", NULL, 4096, NULL);
    httpc_stream *live =
        httpc_stream_open(url, "/rooms/r1/events", NULL, 0, NULL);
    assert_non_null(stalled);
    assert_non_null(live);
    replica r = {0};
    follow_to(live, &r, 0);
    static char patch[8300];
    int n = snprintf(patch, sizeof patch, "{\"blob\":\"");
    memset(patch + n, 'b', 8192);
    snprintf(patch + n + 8192, sizeof patch - (size_t)n - 8192, "\"}");
    /* Up to 16 MB, 32 KB at a time (under the cap, so the live reader,
     * which drains each batch, is never near it): more than socket
     * buffers can hide. */
    pc_server_http_stats hs = {0};
    for (int i = 0; i < 2000 && hs.sse_cut == 0; i += 4) {
        commit(srv, patch, 4);
        follow_to(live, &r, (uint64_t)i + 4);
        assert_int_equal(pc_server_http_stats_get(srv, &hs), PC_OK);
    }
    assert_int_equal(hs.sse_cut, 1);
    /* The live reader keeps everything; the stalled one reads its
     * buffered bytes and then the end of its stream. */
    uint64_t at = r.seq;
    commit(srv, NULL, 10);
    follow_to(live, &r, at + 10);
    assert_same_state(srv, r.doc);
    const char *name, *id, *data;
    int got;
    while ((got = httpc_stream_next(stalled, 20000, &name, &id, &data)) == 1) {
    }
    assert_int_equal(got, -1);
    for (int i = 0; i < 200; i++) { /* the close reaches the loop soon */
        assert_int_equal(pc_server_http_stats_get(srv, &hs), PC_OK);
        if (hs.sse_streams == 1) {
            break;
        }
        nap_ms(10);
    }
    assert_int_equal(hs.sse_streams, 1);
    httpc_stream_close(stalled);
    httpc_stream_close(live);
    cJSON_Delete(r.doc);
    pc_server_free(srv);
}

static void test_views_on_streams(void **state)
{
    (void)state;
    pc_server *srv = serve_default(100);
    const char *url = pc_server_http_url(srv);
    char tok[2][33];
    const char *names[2] = {"alice", "bob"};
    for (int i = 0; i < 2; i++) {
        char body[96];
        snprintf(body, sizeof body, "{\"role\":\"player\",\"name\":\"%s\"}",
                 names[i]);
        httpc_reply rep;
        assert_int_equal(httpc_do(url, "POST", "/rooms/r1/join",
                                  "Content-Type: application/json\r\n", body,
                                  strlen(body), &rep),
                         0);
        cJSON *j = cJSON_Parse(rep.body);
        snprintf(tok[i], 33, "%s",
                 cJSON_GetObjectItem(cJSON_GetObjectItem(j, "result"), "token")
                     ->valuestring);
        cJSON_Delete(j);
        httpc_reply_free(&rep);
    }
    char ha[96], hb[96];
    snprintf(ha, sizeof ha, "Authorization: Bearer %s\r\n", tok[0]);
    snprintf(hb, sizeof hb, "Authorization: Bearer %s\r\n", tok[1]);
    httpc_stream *pub =
        httpc_stream_open(url, "/rooms/r1/events", NULL, 0, NULL);
    httpc_stream *a = httpc_stream_open(url, "/rooms/r1/events", ha, 0, NULL);
    httpc_stream *b = httpc_stream_open(url, "/rooms/r1/events", hb, 0, NULL);
    int status = 0;
    assert_null(httpc_stream_open(
        url, "/rooms/r1/events", "Authorization: Bearer nope\r\n", 0, &status));
    assert_int_equal(status, 401);
    assert_null(httpc_stream_open(url, "/rooms/zz/events", NULL, 0, &status));
    assert_int_equal(status, 404);
    commit(srv,
           "{\"hands\":{\"alice\":\"CANARY-alice\",\"bob\":\"CANARY-bob\"}}",
           1);
    commit(srv, NULL, 1);
    httpc_stream *all[3] = {pub, a, b};
    const char *own[3] = {NULL, "CANARY-alice", "CANARY-bob"};
    for (int i = 0; i < 3; i++) {
        bool saw_own = false;
        uint64_t seq = 0;
        while (seq < 2) {
            const char *name, *id, *data;
            assert_int_equal(
                httpc_stream_next(all[i], 20000, &name, &id, &data), 1);
            if (strcmp(name, "changes") == 0) {
                seq = strtoull(id, NULL, 10);
            }
            for (int k = 1; k < 3; k++) {
                if (k != i && strstr(data, own[k]) != NULL) {
                    fail_msg("stream %d saw %s", i, own[k]);
                }
            }
            if (own[i] != NULL && strstr(data, own[i]) != NULL) {
                saw_own = true;
            }
        }
        assert_true(own[i] == NULL || saw_own);
        httpc_stream_close(all[i]);
    }
    pc_server_free(srv);
}

/* Whether RSS means anything here: ASan's quarantine and valgrind's own
 * heap keep freed memory resident on purpose, so under them the growth is
 * printed but not judged (the leak checks of those runs judge instead). */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_MEANINGFUL() false
#elif defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define RSS_MEANINGFUL() (!RUNNING_ON_VALGRIND)
#endif
#endif
#ifndef RSS_MEANINGFUL
#define RSS_MEANINGFUL() true
#endif

/* Resident set size in KiB. */
static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%ld %ld", &pages, &resident), 2);
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

#define GM_CREDENTIAL "game-master-credential-0123456789"

/* The game master over HTTP: joins with the room's GM credential as the
 * bearer, then sees every player's secret in its snapshot and on its
 * event stream, while a player's stream still sees only its own. */
static void test_game_master_over_http(void **state)
{
    (void)state;
    pc_server_options o;
    pc_server_options_init(&o);
    o.pub_url = "tcp://127.0.0.1:0";
    o.rep_url = "tcp://127.0.0.1:0";
    o.http.addr = "127.0.0.1:0";
    o.heartbeat_ms = 200;
    pc_server *srv = NULL;
    pc_error e = {0};
    assert_int_equal(pc_server_new(&o, &srv, &e), PC_OK);
    pc_server_room_options ro;
    pc_server_room_options_init(&ro);
    ro.room.id = "r1";
    ro.gm_credential = GM_CREDENTIAL;
    assert_int_equal(pc_server_add_room(srv, countergame(), &ro, NULL), PC_OK);
    assert_int_equal(pc_server_start(srv), PC_OK);
    const char *url = pc_server_http_url(srv);
    const char *json = "Content-Type: application/json\r\n";
    char h[256], tok[2][33];
    const char *who[2] = {"alice", "gm1"};
    for (int i = 0; i < 2; i++) {
        char body[96];
        snprintf(body, sizeof body, "{\"role\":\"%s\",\"name\":\"%s\"}",
                 i == 0 ? "player" : "gm", who[i]);
        snprintf(h, sizeof h, "%sAuthorization: Bearer %s\r\n", json,
                 GM_CREDENTIAL);
        httpc_reply rep;
        assert_int_equal(httpc_do(url, "POST", "/rooms/r1/join",
                                  i == 0 ? json : h, body, strlen(body), &rep),
                         0);
        assert_int_equal(rep.status, 200);
        assert_null(strstr(rep.body, GM_CREDENTIAL));
        cJSON *j = cJSON_Parse(rep.body);
        snprintf(tok[i], 33, "%s",
                 cJSON_GetObjectItem(cJSON_GetObjectItem(j, "result"), "token")
                     ->valuestring);
        cJSON_Delete(j);
        httpc_reply_free(&rep);
    }
    /* A wrong GM credential is refused and seats nobody. */
    httpc_reply rep;
    snprintf(h, sizeof h,
             "%sAuthorization: Bearer wrong-credential-0123456789\r\n", json);
    const char *gm2 = "{\"role\":\"gm\",\"name\":\"gm2\"}";
    assert_int_equal(
        httpc_do(url, "POST", "/rooms/r1/join", h, gm2, strlen(gm2), &rep), 0);
    assert_int_equal(rep.status, 403);
    httpc_reply_free(&rep);
    char ha[96], hg[96];
    snprintf(ha, sizeof ha, "Authorization: Bearer %s\r\n", tok[0]);
    snprintf(hg, sizeof hg, "Authorization: Bearer %s\r\n", tok[1]);
    httpc_stream *sa = httpc_stream_open(url, "/rooms/r1/events", ha, 0, NULL);
    httpc_stream *sg = httpc_stream_open(url, "/rooms/r1/events", hg, 0, NULL);
    assert_non_null(sa);
    assert_non_null(sg);
    commit(srv,
           "{\"hands\":{\"alice\":\"CANARY-alice\",\"bob\":\"CANARY-bob\"}}",
           1);
    bool gm_saw_bob = false;
    for (int k = 0; k < 2; k++) {
        httpc_stream *s = k == 0 ? sa : sg;
        uint64_t seq = 0;
        while (seq < 1) {
            const char *name, *id, *data;
            assert_int_equal(httpc_stream_next(s, 20000, &name, &id, &data), 1);
            if (strcmp(name, "changes") == 0) {
                seq = strtoull(id, NULL, 10);
            }
            if (k == 0) {
                assert_null(strstr(data, "CANARY-bob"));
            } else if (strstr(data, "CANARY-bob") != NULL &&
                       strstr(data, "CANARY-alice") != NULL) {
                gm_saw_bob = true;
            }
        }
    }
    assert_true(gm_saw_bob);
    assert_int_equal(httpc_do(url, "GET", "/rooms/r1", hg, NULL, 0, &rep), 0);
    assert_int_equal(rep.status, 200);
    assert_non_null(strstr(rep.body, "CANARY-bob"));
    assert_non_null(strstr(rep.body, "CANARY-alice"));
    httpc_reply_free(&rep);
    assert_int_equal(httpc_do(url, "GET", "/rooms/r1", NULL, NULL, 0, &rep), 0);
    assert_null(strstr(rep.body, "CANARY"));
    httpc_reply_free(&rep);
    httpc_stream_close(sa);
    httpc_stream_close(sg);
    pc_server_free(srv);
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    assert_non_null(d);
    while (readdir(d) != NULL) {
        n++;
    }
    closedir(d);
    return n;
}

/* Wait (up to 10 s) until the server's open connections drop to want. */
static void wait_connections(pc_server *srv, uint64_t want)
{
    pc_server_http_stats hs = {0};
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(pc_server_http_stats_get(srv, &hs), PC_OK);
        if (hs.connections == want) {
            return;
        }
        nap_ms(10);
    }
    fail_msg("%llu connections open, want %llu",
             (unsigned long long)hs.connections, (unsigned long long)want);
}

static void test_thousand_streams_and_half_requests(void **state)
{
    (void)state;
    pc_server_options o;
    pc_server_options_init(&o);
    o.heartbeat_ms = 200;
    o.http.idle_timeout_ms = 500;
    o.http.max_connections = 2000;
    o.http.rate = 100000; /* every stream comes from 127.0.0.1 */
    pc_server *srv = serve(&o, 100);
    const char *url = pc_server_http_url(srv);
    commit(srv, NULL, 1);
    int base_fds = count_fds();
    enum { N = 1000 };
    /* Two rounds warm the allocators (glibc keeps what they freed for
     * reuse); over the two after them RSS must stay flat. */
    long steady = 0;
    for (int round = 0; round < 4; round++) {
        long before = rss_kib();
        if (round == 2) {
            steady = before;
        }
        static httpc_stream *s[N];
        for (int i = 0; i < N; i++) {
            s[i] = httpc_stream_open(url, "/rooms/r1/events", NULL, 0, NULL);
            assert_non_null(s[i]);
        }
        pc_server_http_stats hs;
        assert_int_equal(pc_server_http_stats_get(srv, &hs), PC_OK);
        assert_int_equal(hs.sse_streams, N);
        commit(srv, NULL, 1);
        for (int i = 0; i < N; i++) {
            httpc_stream_close(s[i]);
        }
        wait_connections(srv, 0);
        assert_int_equal(pc_server_http_stats_get(srv, &hs), PC_OK);
        assert_int_equal(hs.sse_streams, 0);
        long grew = rss_kib() - before;
        printf("# round %d: RSS %+ld KiB after 1,000 streams\n", round, grew);
    }
    if (RSS_MEANINGFUL() && rss_kib() - steady > 2048) {
        fail_msg("RSS grew %ld KiB over 2,000 streams opened and dropped",
                 rss_kib() - steady);
    }
    char *text;
    size_t len;
    assert_int_equal(pc_server_metrics_text(srv, &text, &len), PC_OK);
    assert_non_null(strstr(text, "phasecast_sse_streams_opened_total 4000\n"));
    assert_non_null(strstr(text, "phasecast_sse_connections 0\n"));
    assert_non_null(strstr(text, "phasecast_http_connections 0\n"));
    assert_non_null(
        strstr(text, "phasecast_sse_starts_total{from=\"snapshot\"} 4000\n"));
    pc_free(text);
    /* 200 requests that stop mid-header: dropped at the idle timeout. */
    pc_server_http_stats hs0;
    assert_int_equal(pc_server_http_stats_get(srv, &hs0), PC_OK);
    static int half[200];
    for (int i = 0; i < 200; i++) {
        half[i] = httpc_connect(url, 0);
        assert_true(half[i] >= 0);
        const char part[] = "GET /rooms HTTP/1.1\r\nHost: x\r\nX-Slow: ";
        assert_int_equal(send(half[i], part, sizeof part - 1, MSG_NOSIGNAL),
                         (ssize_t)(sizeof part - 1));
    }
    /* Every one accepted first (the kernel completes a connect before the
     * loop accepts it), then every one dropped. */
    pc_server_http_stats hs1 = {0};
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(pc_server_http_stats_get(srv, &hs1), PC_OK);
        if (hs1.connections_total >= hs0.connections_total + 200) {
            break;
        }
        nap_ms(10);
    }
    assert_true(hs1.connections_total >= hs0.connections_total + 200);
    wait_connections(srv, 0);
    for (int i = 0; i < 200; i++) {
        close(half[i]);
    }
    /* Back to at most the baseline (sockets of an earlier test that nng
     * was still closing on its own threads may have gone meanwhile). The
     * count of connections drops when evhttp lets a connection go, but
     * libevent closes its socket when the bufferevent is finalized, in a
     * later loop iteration, so wait for that (up to 10 s). */
    int fds = count_fds();
    for (int i = 0; i < 1000 && fds > base_fds; i++) {
        nap_ms(10);
        fds = count_fds();
    }
    if (fds > base_fds) {
        fail_msg("%d descriptors open, %d before the streams", fds, base_fds);
    }
    /* And the server still serves a new follower. */
    httpc_stream *late =
        httpc_stream_open(url, "/rooms/r1/events", NULL, 0, NULL);
    replica r = {0};
    follow_to(late, &r, 2);
    commit(srv, NULL, 1);
    follow_to(late, &r, 3);
    httpc_stream_close(late);
    cJSON_Delete(r.doc);
    pc_server_free(srv);
}

static void test_connection_cap(void **state)
{
    (void)state;
    pc_server_options o;
    pc_server_options_init(&o);
    o.heartbeat_ms = 200;
    o.http.max_connections = 20;
    pc_server *srv = serve(&o, 100);
    const char *url = pc_server_http_url(srv);
    static httpc_stream *s[20];
    for (int i = 0; i < 20; i++) {
        s[i] = httpc_stream_open(url, "/rooms/r1/events", NULL, 0, NULL);
        assert_non_null(s[i]);
    }
    /* The 21st connects (the kernel queues it) but is not served yet. */
    int extra = httpc_connect(url, 0);
    assert_true(extra >= 0);
    const char req[] = "GET /rooms HTTP/1.0\r\n\r\n";
    assert_int_equal(send(extra, req, sizeof req - 1, MSG_NOSIGNAL),
                     (ssize_t)(sizeof req - 1));
    pc_server_http_stats hs;
    assert_int_equal(pc_server_http_stats_get(srv, &hs), PC_OK);
    assert_int_equal(hs.connections, 20);
    httpc_stream_close(s[0]);
    /* Once one leaves, the waiting one is served. */
    char buf[4096];
    size_t got = 0;
    ssize_t n;
    while ((n = recv(extra, buf + got, sizeof buf - 1 - got, 0)) > 0) {
        got += (size_t)n;
    }
    buf[got] = '\0';
    assert_non_null(strstr(buf, "200 OK"));
    close(extra);
    for (int i = 1; i < 20; i++) {
        httpc_stream_close(s[i]);
    }
    wait_connections(srv, 0);
    pc_server_free(srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_follow_10000_changes),
        cmocka_unit_test(test_resume_inside_and_outside_the_ring),
        cmocka_unit_test(test_stalled_reader_is_cut),
        cmocka_unit_test(test_views_on_streams),
        cmocka_unit_test(test_game_master_over_http),
        cmocka_unit_test(test_thousand_streams_and_half_requests),
        cmocka_unit_test(test_connection_cap),
    };
    if (getenv("PC_TEST_FILTER") != NULL) {
        cmocka_set_test_filter(getenv("PC_TEST_FILTER"));
    }
    /* A thousand streams: both ends of each are in this process. */
    long have = 0;
    if (!testenv_need_fds(2 * 1000 + 256, &have)) {
        fprintf(stderr,
                "test_server_sse needs %d descriptors at once; the hard limit "
                "allows %ld (ulimit -Hn; under valgrind, the soft limit "
                "valgrind started with)\n",
                2 * 1000 + 256, have);
        return 1;
    }
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    pc_transport_fini();
    return failed;
}
