/*
 * testnet.c - the helpers of testnet.h.
 */
#include "testnet.h"

#include <stdarg.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>

#include "countergame.h"

pc_server *testnet_serve(const pc_server_options *o, const pc_game *game,
                         const char *room, size_t history)
{
    pc_server_options opts;
    if (o != NULL) {
        opts = *o;
    } else {
        pc_server_options_init(&opts);
        opts.pub_url = "tcp://127.0.0.1:0";
        opts.rep_url = "tcp://127.0.0.1:0";
        opts.heartbeat_ms = 50;
    }
    pc_server *srv = NULL;
    pc_error err = {0};
    if (pc_server_new(&opts, &srv, &err) != PC_OK) {
        fail_msg("pc_server_new: %s", err.message);
    }
    pc_server_room_options ro;
    pc_server_room_options_init(&ro);
    ro.room.id = room;
    ro.room.history_capacity = history;
    assert_int_equal(pc_server_add_room(srv, game, &ro, NULL), PC_OK);
    assert_int_equal(pc_server_start(srv), PC_OK);
    return srv;
}

void testnet_listen_any(nng_socket s, char *url, size_t cap)
{
    nng_listener l;
    nng_sockaddr sa;
    assert_int_equal(nng_listen(s, "tcp://127.0.0.1:0", &l, 0), 0);
    assert_int_equal(nng_listener_get_addr(l, NNG_OPT_LOCADDR, &sa), 0);
    /* The port is in network byte order. */
    snprintf(
        url, cap, "tcp://127.0.0.1:%u",
        (unsigned)((sa.s_in.sa_port >> 8 | sa.s_in.sa_port << 8) & 0xffff));
}

typedef struct commit_ask {
    const char *room, *text;
    int count;
} commit_ask;

static void commit_on_loop(pc_server *srv, void *arg)
{
    commit_ask *a = arg;
    pc_room *room = pc_server_find_room(srv, a->room);
    assert_non_null(room);
    for (int i = 0; i < a->count; i++) {
        if (a->text != NULL) {
            assert_int_equal(pc_update_phase_text(room, a->text, "test"),
                             PC_OK);
        } else {
            assert_int_equal(countergame_count(room, "count"), PC_OK);
        }
    }
}

void testnet_commit(pc_server *srv, const char *room, const char *text,
                    int count)
{
    commit_ask a = {room, text, count};
    assert_int_equal(pc_server_call(srv, commit_on_loop, &a), PC_OK);
}
