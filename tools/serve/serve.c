/*
 * serve.c - phasecast-serve: host tictactoe rooms on the network.
 *
 * Opens a pc_server on the given PUB and REP URLs, hosts one tictactoe room
 * per --room, prints the URLs it actually listens on (so port 0 is usable
 * from scripts) and serves until SIGINT or SIGTERM. The signals are blocked
 * before the loop thread starts, so that thread inherits the mask and the
 * main thread alone takes them with sigwait: no handler, no async-signal
 * rules. It hosts only tictactoe and keeps nothing on disk.
 *
 * usage: phasecast-serve [--pub URL] [--rep URL] [--room ID]...
 *                        [--heartbeat MS] [--history N] [--max-message BYTES]
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasecast/error.h"
#include "phasecast/room.h"
#include "phasecast/server.h"
#include "phasecast/version.h"
#include "tictactoe/tictactoe.h"

#define MAX_ROOMS 64

static void usage(FILE *to)
{
    fprintf(to,
            "usage: phasecast-serve [options]\n"
            "Host tictactoe rooms over nng (wire protocol v%d, see "
            "docs/protocol.md).\n"
            "\n"
            "  --pub URL            broadcast (PUB) URL "
            "[tcp://127.0.0.1:7700]\n"
            "  --rep URL            request (REP) URL "
            "[tcp://127.0.0.1:7701]\n"
            "  --room ID            host a tictactoe room (repeatable) "
            "[r1]\n"
            "  --heartbeat MS       heartbeat period per room, 0 = none "
            "[%d]\n"
            "  --history N          changes each room keeps [%d]\n"
            "  --max-message BYTES  largest request answered [%d]\n"
            "  --help               show this and exit\n"
            "\n"
            "A TCP port 0 picks a free port; the URLs in use are printed as\n"
            "\"pub URL\" and \"rep URL\". Stops on SIGINT or SIGTERM.\n",
            PC_PROTOCOL_VERSION, PC_SERVER_HEARTBEAT_DEFAULT,
            PC_HISTORY_DEFAULT, PC_SERVER_MESSAGE_DEFAULT);
}

/* Parse a non-negative integer argument of at most max. */
static bool number(const char *s, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0 || v > max) {
        return false;
    }
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    pc_server_options o;
    pc_server_options_init(&o);
    o.pub_url = "tcp://127.0.0.1:7700";
    o.rep_url = "tcp://127.0.0.1:7701";
    const char *rooms[MAX_ROOMS];
    size_t nrooms = 0;
    long history = PC_HISTORY_DEFAULT;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (v == NULL) {
            fprintf(stderr, "phasecast-serve: %s needs a value\n", a);
            usage(stderr);
            return 2;
        }
        i++;
        if (strcmp(a, "--pub") == 0) {
            o.pub_url = v;
        } else if (strcmp(a, "--rep") == 0) {
            o.rep_url = v;
        } else if (strcmp(a, "--room") == 0 && nrooms < MAX_ROOMS) {
            rooms[nrooms++] = v;
        } else if (strcmp(a, "--heartbeat") == 0 && number(v, 3600000, &n)) {
            o.heartbeat_ms = n == 0 ? -1 : (int)n;
        } else if (strcmp(a, "--history") == 0 && number(v, 1000000, &n)) {
            history = n;
        } else if (strcmp(a, "--max-message") == 0 && number(v, 1L << 30, &n) &&
                   n > 0) {
            o.max_message_bytes = (size_t)n;
        } else {
            fprintf(stderr, "phasecast-serve: bad option %s %s\n", a, v);
            usage(stderr);
            return 2;
        }
    }
    if (nrooms == 0) {
        rooms[nrooms++] = "r1";
    }

    /* Blocked here, inherited by the loop thread, taken by sigwait below. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    pc_server *srv = NULL;
    pc_error e = {0};
    if (pc_server_new(&o, &srv, &e) != PC_OK) {
        fprintf(stderr, "phasecast-serve: %s\n", e.message);
        pc_transport_fini();
        return 1;
    }
    for (size_t i = 0; i < nrooms; i++) {
        pc_server_room_options ro;
        pc_server_room_options_init(&ro);
        ro.room.id = rooms[i];
        ro.room.history_capacity = (size_t)history;
        pc_err rc = pc_server_add_room(srv, tictactoe_game(), &ro, NULL);
        if (rc != PC_OK) {
            fprintf(stderr, "phasecast-serve: room %s: %s\n", rooms[i],
                    pc_strerror(rc));
            pc_server_free(srv);
            pc_transport_fini();
            return 1;
        }
    }
    if (pc_server_start(srv) != PC_OK) {
        fprintf(stderr, "phasecast-serve: cannot start the loop thread\n");
        pc_server_free(srv);
        pc_transport_fini();
        return 1;
    }
    printf("phasecast-serve %s, protocol %d, %zu room(s)\n", pc_version(),
           PC_PROTOCOL_VERSION, nrooms);
    printf("pub %s\nrep %s\n", pc_server_pub_url(srv), pc_server_rep_url(srv));
    fflush(stdout);

    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr, "phasecast-serve: %s, stopping\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM");
    pc_server_free(srv);
    pc_transport_fini();
    return 0;
}
