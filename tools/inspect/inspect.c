/*
 * inspect.c - phasecast-inspect: the time-travel inspector.
 *
 * Opens a room's history, from its change log (read-only, while the server
 * may be appending) or from a live server's request endpoint (with the
 * inspector credential), and answers questions about it: log, show, diff,
 * find, blame, export, verify, follow; with no command it starts an
 * interactive session with a cursor (goto, step, back). import replays an
 * export through the game's rules (replay.c) and needs no source.
 * docs/inspector.md is the guide; this file parses the command line and
 * opens the source.
 *
 * usage: phasecast-inspect (--log FILE | --rep URL --room ID) [options]
 *                          [COMMAND [ARGS...]]
 *        phasecast-inspect [options] import FILE [--game NAME] [game options]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>

#include "phasecast/version.h"

#include "cmd.h"
#include "httpserve.h"
#include "encounter/encounter.h"
#include "piles/piles.h"
#include "replay.h"

static void on_signal(int sig)
{
    (void)sig;
    insp_stop = 1;
}

static void usage(FILE *to)
{
    fputs(
        "usage: phasecast-inspect (--log FILE | --rep URL --room ID) "
        "[options] [COMMAND [ARGS...]]\n"
        "Debug a room: its whole history from a change log, or the retained\n"
        "history of a live server's room. Without COMMAND: an interactive\n"
        "session on standard input (\"help\" lists its commands).\n"
        "\n"
        "Sources:\n"
        "  --log FILE               a room's change log (<dir>/<room>.pclog);\n"
        "                           its archived segments are read too\n"
        "  --rep URL --room ID      a live server's request URL and a room\n"
        "  --credential-file FILE   the inspector credential (first line);\n"
        "                           else PHASECAST_INSPECTOR_CREDENTIAL\n"
        "Options:\n"
        "  --json                   JSON output for scripts\n"
        "  --http HOST:PORT         instead of a command, serve the "
        "time-travel page\n"
        "                           (/ui/travel.html) over this history "
        "until SIGINT\n"
        "                           (docs/web.md); with --log and a "
        "credential, it\n"
        "                           asks browsers for that credential\n"
        "  --no-color / --color     colour off / on (default: on a terminal)\n"
        "  --help, --version\n"
        "Commands (SEQ: a number, first or last; PATH: /data/a/b or a.b):\n"
        "  log [--from SEQ] [--to SEQ] [--last N] [--phase P] [--reason TEXT]\n"
        "      [--path PATH] [--patch] [--events]   the changes (--events:\n"
        "                                   only events)\n"
        "  show SEQ [PATH]                  the state (or PATH) right after "
        "SEQ\n"
        "  diff A B [PATH]                  what differs between two seqs\n"
        "  find PATH VALUE [--all]          when PATH became VALUE (--gone:\n"
        "                                   when it disappeared)\n"
        "  find --event NAME [--all]        the last event NAME (--all: each)\n"
        "  blame PATH [--history]           which change last set PATH\n"
        "  follow [--last N] [--count N] [--timeout S] [--interval MS]\n"
        "                                   print changes as they happen\n"
        "  export [--from SEQ] [--to SEQ]   the history as JSON lines\n"
        "  verify                           check every frame and checksum\n"
        "\n"
        "usage: phasecast-inspect [options] import FILE [--game NAME] "
        "[game options]\n"
        "Replay an export (FILE, - for standard input) through the game's\n"
        "rules and check that every change comes out the same; no source.\n"
        "  --game NAME              tictactoe, piles or encounter [the "
        "export's game]\n"
        "Game options, as the game was played (piles):\n",
        to);
    fputs(piles_config_usage(), to);
    fputs("(encounter):\n", to);
    fputs(encounter_config_usage(), to);
    fputs("Exit status: 0 done (import: reproduced), 1 an error, nothing "
          "found\nor a divergence, 2 bad usage.\n",
          to);
}

int main(int argc, char **argv)
{
    insp_out o = {stdout, stderr, false, false};
    const char *log = NULL;
    const char *rep = NULL;
    const char *room = NULL;
    const char *cred_file = NULL;
    const char *http = NULL;
    int color = -1;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf("phasecast-inspect %s\n", pc_version());
            return 0;
        } else if (strcmp(a, "--json") == 0) {
            o.json = true;
        } else if (strcmp(a, "--no-color") == 0) {
            color = 0;
        } else if (strcmp(a, "--color") == 0) {
            color = 1;
        } else if (strcmp(a, "--log") == 0 && has) {
            log = argv[++i];
        } else if (strcmp(a, "--rep") == 0 && has) {
            rep = argv[++i];
        } else if (strcmp(a, "--room") == 0 && has) {
            room = argv[++i];
        } else if (strcmp(a, "--credential-file") == 0 && has) {
            cred_file = argv[++i];
        } else if (strcmp(a, "--http") == 0 && has) {
            http = argv[++i];
        } else {
            fprintf(stderr,
                    "phasecast-inspect: unknown option or missing "
                    "value: %s\n",
                    a);
            usage(stderr);
            return 2;
        }
    }
    o.color = color == 1 || (color == -1 && isatty(STDOUT_FILENO) &&
                             getenv("NO_COLOR") == NULL && !o.json);
    const char *name = i < argc ? argv[i] : NULL;
    if (name != NULL && strcmp(name, "import") == 0) {
        if (log != NULL || rep != NULL) {
            fprintf(stderr, "phasecast-inspect: import reads an export "
                            "file, not --log or --rep\n");
            return 2;
        }
        int status = insp_import(&o, argc - i - 1, argv + i + 1);
        fflush(stdout);
        return status;
    }
    insp_cmd_fn fn = name != NULL ? insp_cmd_find(name) : NULL;
    if (name != NULL &&
        (fn == NULL || strcmp(name, "goto") == 0 || strcmp(name, "step") == 0 ||
         strcmp(name, "back") == 0 || strcmp(name, "help") == 0 ||
         strcmp(name, "refresh") == 0)) {
        fprintf(stderr,
                "phasecast-inspect: unknown command '%s' (goto, step and back "
                "are session commands)\n",
                name);
        return 2;
    }
    if ((log == NULL) == (rep == NULL) || (rep != NULL && room == NULL)) {
        fprintf(stderr, "phasecast-inspect: give one source: --log FILE, or "
                        "--rep URL --room ID\n");
        return 2;
    }
    insp_source src;
    insp_ctx cx = {&src, &o, 0, false};
    /* SIGINT and SIGTERM end follow (and a session) cleanly. */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (log != NULL && fn == insp_cmd_verify) {
        return insp_verify_log(&cx, log);
    }
    pc_error err = {0};
    pc_err rv;
    if (log != NULL) {
        rv = insp_source_open_log(&src, log, &err);
    } else {
        char cred[129];
        if (!insp_credential(cred_file, cred, sizeof(cred), &err)) {
            return insp_fail(&o, &err);
        }
        rv = insp_source_open_live(&src, rep, room, cred, &err);
        memset(cred, 0, sizeof(cred));
    }
    int status;
    if (rv != PC_OK) {
        status = insp_fail(&o, &err);
    } else if (http != NULL) {
        /* A log served with a credential (file or environment) asks for it;
         * a live room's credential is the server's, used to read it. */
        char cred[129] = "";
        pc_error cerr = {0};
        if (log != NULL &&
            (cred_file != NULL ||
             getenv("PHASECAST_INSPECTOR_CREDENTIAL") != NULL) &&
            !insp_credential(cred_file, cred, sizeof(cred), &cerr)) {
            status = insp_fail(&o, &cerr);
        } else {
            status = insp_http(&cx, http, log != NULL ? cred : NULL);
        }
        memset(cred, 0, sizeof(cred));
    } else if (fn == NULL) {
        status = insp_session(&cx);
    } else {
        cx.cursor = pc_timeline_last_seq(src.tl);
        status = fn(&cx, argc - i - 1, argv + i + 1);
    }
    insp_source_close(&src);
    fflush(stdout);
    nng_fini();
    return status;
}
