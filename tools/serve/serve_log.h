/*
 * serve_log.h - phasecast-serve's durability options: --log-dir, --fsync,
 * --keyframe-every, --repair and --verify, start-up recovery and its
 * report (see docs/durability.md). Kept apart from serve.c so the server's
 * other options and games can change without touching this.
 */
#ifndef PC_TOOLS_SERVE_LOG_H
#define PC_TOOLS_SERVE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "phasecast/changelog.h"
#include "phasecast/room.h"
#include "phasecast/server.h"

#define SERVE_LOG_VERIFY_MAX 16

/* The rooms recovered at start-up: ids and game names. */
typedef struct serve_recovered {
    size_t n, cap;
    char (*id)[PC_ROOM_ID_MAX + 1];
    char (*game)[65];
} serve_recovered;

/* pc_server_options.on_room_failed: say so on stderr. */
void serve_log_room_failed(const char *room, const pc_error *why, void *arg);

/* True if a room with this id was recovered. */
bool serve_recovered_has(const serve_recovered *r, const char *id);
void serve_recovered_free(serve_recovered *r);

/* The durability options as given. */
typedef struct serve_log {
    bool repair;
    const char *verify[SERVE_LOG_VERIFY_MAX];
    size_t nverify;
} serve_log;

/* The options' lines of --help. */
void serve_log_usage(FILE *to);

/* If a (with value v) is a durability option, apply it to o or sl and
 * return 1; return -1 for a bad value, 0 if a is not one of them. --repair
 * takes no value: check it with serve_log_flag first. */
int serve_log_option(const char *a, const char *v, pc_server_options *o,
                     serve_log *sl);
/* True (and applied) if a is the valueless --repair. */
bool serve_log_flag(const char *a, serve_log *sl);

/* --verify: check each file and print what was found; the exit status. */
int serve_log_verify(const serve_log *sl);

/* Recover the rooms logged in o's log dir (a no-op without one), printing
 * what happened to stderr; *recovered receives them (free it with
 * serve_recovered_free). Every recovered room gets gm_credential (NULL:
 * none), so a recovered encounter keeps its game master; the server
 * copies it. Returns 0 or 1 (start-up must stop). */
int serve_log_recover(pc_server *srv, const pc_server_options *o,
                      const serve_log *sl, const pc_changelog_game *games,
                      size_t ngames, size_t history, const char *gm_credential,
                      serve_recovered *recovered);

#endif
