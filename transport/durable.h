/*
 * durable.h - the server's side of durability: the log directory, the
 * everysec sync timer, each room's log and its players file, and
 * recovery at start-up (internal; the public API is pc_server_recover and
 * the log options in phasecast/server.h).
 */
#ifndef PC_TRANSPORT_DURABLE_H
#define PC_TRANSPORT_DURABLE_H

#include <stdbool.h>

#include "phasecast/changelog.h"
#include "phasecast/error.h"
#include "phasecast/server.h"

#include "server.h"

struct event;
struct event_base;

/* Copy the log settings of opts into *log (dir copied) and, for
 * everysec, start the 1 s sync timer. Returns PC_OK, PC_ERR_INVALID (the
 * directory is missing) or PC_ERR_NOMEM. */
pc_err pc__durable_init(pc_server *srv, struct event_base *base,
                        const pc_server_options *opts,
                        pc_changelog_options *log, struct event **sync_ev,
                        pc_error *err);
void pc__durable_fini(pc_changelog_options *log, struct event *sync_ev);

/* Start the log of a new room (and forget any players file left by an
 * earlier room of that id). */
pc_err pc__durable_create(pc_server *srv, pc_room *room, pc_changelog **out,
                          pc_error *err);

/* Write h's players (names, tokens, nonces) to <dir>/<room>.players,
 * replacing the old file atomically. pending: the last player is joining
 * and the game has not seen it yet (see durable.c); otherwise the room's
 * log is synced first (unless fsync=none). A no-op for rooms that are not
 * logged. Returns PC_OK or PC_ERR_IO/PC_ERR_NOMEM with err set. */
pc_err pc__durable_save_players(pc_server *srv, pc__host *h, bool pending,
                                pc_error *err);

#endif
