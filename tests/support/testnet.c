/*
 * testnet.c - the helpers of testnet.h.
 */
#include "testnet.h"

#include <stdarg.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>

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
