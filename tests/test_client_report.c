/*
 * test_client_report.c - a client library replica that detects a checksum
 * mismatch reports it, and the server counts it in its metrics. The client
 * asks a real server (its REQ socket on 127.0.0.1) for snapshots and
 * repairs, but follows a PUB socket the test owns, on which it publishes a
 * change whose checksum no replica can match: the divergence a broken
 * broadcast would cause. Every wait polls against a deadline.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>

#include "phasecast/alloc.h"
#include "phasecast/client.h"
#include "phasecast/server.h"

#include "countergame.h"
#include "testenv.h"
#include "testnet.h"

#define ROOM "div"

static int wait_ms(void)
{
    return testenv_under_valgrind() ? 120000 : 20000;
}

static void commit_three(pc_server *srv, void *arg)
{
    (void)arg;
    pc_room *room = pc_server_find_room(srv, ROOM);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(countergame_count(room, "counted"), PC_OK);
    }
}

/* Publish a change with seq that claims a checksum of zero. */
static void publish_forged(nng_socket pub, uint64_t seq)
{
    char frame[512];
    int n = snprintf(frame, sizeof frame,
                     ROOM " {\"v\":1,\"type\":\"changes\",\"room\":\"" ROOM
                          "\",\"changes\":[{\"seq\":%llu,\"time\":0,"
                          "\"kind\":\"update\",\"phase\":\"COUNTING\","
                          "\"reason\":\"forged\",\"patch\":{\"n\":-1},"
                          "\"sum\":\"0000000000000000\"}]}",
                     (unsigned long long)seq);
    assert_true(n > 0 && (size_t)n < sizeof frame);
    assert_int_equal(nng_send(pub, frame, (size_t)n, 0), 0);
}

/* The reported-mismatch counter in the server's metrics. */
static double reported(pc_server *srv)
{
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(pc_server_metrics_text(srv, &text, &len), PC_OK);
    static const char series[] =
        "phasecast_client_reports_total{kind=\"checksum_mismatch\"} ";
    const char *p = strstr(text, series);
    assert_non_null(p);
    double v = strtod(p + sizeof series - 1, NULL);
    pc_free(text);
    return v;
}

static void test_client_mismatch_is_counted_by_the_server(void **state)
{
    (void)state;
    pc_server *srv = testnet_serve(NULL, countergame_public(), ROOM, 100);
    assert_int_equal(pc_server_call(srv, commit_three, NULL), PC_OK);
    nng_socket pub;
    char pub_url[64];
    assert_int_equal(nng_pub0_open(&pub), 0);
    testnet_listen_any(pub, pub_url, sizeof pub_url);

    pc_client_config cfg = {0};
    cfg.pub_url = pub_url;
    cfg.req_url = pc_server_rep_url(srv);
    cfg.room = ROOM;
    cfg.role = PC_CLIENT_SPECTATOR;
    cfg.request_timeout_ms = 2000;
    cfg.heartbeat_ms = 60000; /* the test's PUB sends no heartbeats */
    cfg.repair_backoff_ms = 1;
    pc_client *c = NULL;
    assert_int_equal(pc_client_open(&cfg, &c, NULL), PC_OK);
    assert_int_equal(pc_client_seq(c), 3);
    assert_int_equal(reported(srv), 0);

    /* The SUB side may connect after the first frames (slow joiner):
     * publish until the client has seen one. */
    pc_client_stats st;
    int64_t end = testenv_mono_ms() + wait_ms();
    do {
        publish_forged(pub, pc_client_seq(c) + 1);
        pc_client_poll(c, 20);
        pc_client_stats_get(c, &st);
    } while (st.checksum_mismatches == 0 && testenv_mono_ms() < end);
    assert_true(st.checksum_mismatches >= 1);
    /* The report went out before the repair: every mismatch the client
     * saw is on the server, and the snapshot put the replica back. */
    assert_int_equal(reported(srv), (double)st.checksum_mismatches);
    end = testenv_mono_ms() + wait_ms();
    while (pc_client_seq(c) != 3 && testenv_mono_ms() < end) {
        pc_client_poll(c, 20);
    }
    pc_client_stats_get(c, &st);
    assert_int_equal(pc_client_seq(c), 3);
    assert_true(st.snapshots >= 2);
    assert_int_equal(reported(srv), (double)st.checksum_mismatches);

    pc_server_free(srv);
    pc_client_close(c);
    nng_close(pub);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_mismatch_is_counted_by_the_server),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    pc_transport_fini();
    return rc;
}
