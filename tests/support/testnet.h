/*
 * testnet.h - real-socket helpers for the network tests (not installed):
 * a started server hosting one room, and a listener on a free loopback
 * port. Every failure fails the running cmocka test.
 */
#ifndef PC_TESTNET_H
#define PC_TESTNET_H

#include <stddef.h>

#include <nng/nng.h>

#include "phasecast/room.h"
#include "phasecast/server.h"

/*
 * testnet_serve - a started server with one room of game called room that
 * keeps history changes. o (may be NULL: TCP on 127.0.0.1, free ports,
 * heartbeats every 50 ms) is copied. The caller frees the server with
 * pc_server_free, before its clients (nng 1.5.2 close race, see
 * docs/reference/client.md).
 */
pc_server *testnet_serve(const pc_server_options *o, const pc_game *game,
                         const char *room, size_t history);

/*
 * testnet_commit - on srv's loop, commit count changes to room: each the
 * merge patch text (JSON) when text is not NULL, else one counting change
 * of the counter game (countergame_count). Fails the test on an error.
 */
void testnet_commit(pc_server *srv, const char *room, const char *text,
                    int count);

/* testnet_listen_any - listen on tcp://127.0.0.1:0 and write the URL with
 * the port the kernel chose to url (cap bytes). */
void testnet_listen_any(nng_socket s, char *url, size_t cap);

#endif
