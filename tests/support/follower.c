/*
 * follower.c - pc_test_follower: a separate process that follows one room
 * through the public client library (phasecast/client.h) and reports what
 * its replica holds as machine-readable lines, so that a test can kill it
 * with SIGKILL, start another one and check that the new one converges.
 * It is a test fixture, not a tool: it is built with the tests, never
 * installed, and its output format may change with the tests that read it.
 * It does not act in the room and does not print the changes themselves.
 *
 * usage: pc_test_follower --pub URL --req URL --room ROOM [--name NAME]
 *                         [--until SEQ] [--slow-us N] [--recv-buffer N]
 *                         [--timeout S]
 *
 * Lines on stdout, one per event, flushed at once (SEQ decimal, SUM the
 * replica's checksum as 16 lowercase hex digits, CANON its canonical text,
 * which never holds a newline):
 *
 *   ready SEQ SUM                    joined; the replica is the snapshot
 *   seq SEQ SUM                      the replica moved (at most once per poll)
 *   state SEQ SUM CANON              on SIGUSR1; following goes on
 *   stats changes N gaps N repairs N snapshots N mismatches N
 *   final SEQ SUM CANON              last line, on reaching --until or on
 *                                    SIGTERM/SIGINT; then exit 0
 *
 * Exit status: 0 after "final"; 1 when joining or following failed, the
 * --timeout passed or the parent died (diagnostics on stderr); 2 on a usage
 * error. SIGTERM, SIGINT and SIGUSR1 are blocked in every thread and taken
 * with sigtimedwait between polls, so a signal never interrupts nng.
 *
 * Stopping with SIGTERM closes the client, and nng 1.5.2 can hang in close
 * while messages are still arriving (docs/reference/client.md, "Known
 * issue"); tests therefore stop a follower this way only once its server is
 * gone, or when nothing more is being published.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <nng/nng.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/client.h"
#include "phasecast/error.h"

#define PROG "pc_test_follower"

/* The longest one pc_client_poll waits, and so the longest a pending signal
 * waits to be noticed while nothing arrives. */
#define POLL_MS 50

/* What the change callback needs. */
typedef struct follower {
    long slow_us; /* sleep this long per applied change (a slow reader) */
} follower;

static void usage(FILE *to)
{
    fprintf(to,
            "usage: " PROG " --pub URL --req URL --room ROOM [options]\n"
            "Follow a room and report the replica as lines on stdout.\n"
            "\n"
            "  --pub URL      the server's broadcast URL\n"
            "  --req URL      the server's request URL\n"
            "  --room ROOM    the room to follow\n"
            "  --name NAME    join as player NAME (default: spectator)\n"
            "  --until SEQ    print \"final\" and exit 0 once at SEQ or past\n"
            "  --slow-us N    sleep N microseconds per applied change\n"
            "  --recv-buffer N  the SUB queue, in messages (1..8192)\n"
            "  --timeout S    give up (exit 1) after S seconds [600]\n"
            "  --help         show this and exit\n"
            "\n"
            "Lines: ready SEQ SUM | seq SEQ SUM | state SEQ SUM CANON |\n"
            "       stats ... | final SEQ SUM CANON. SIGUSR1 prints state;\n"
            "SIGTERM or SIGINT prints final and exits 0.\n");
}

/* Parse a decimal integer in [0, max]; false if s is anything else. */
static bool number(const char *s, unsigned long long max,
                   unsigned long long *out)
{
    if (s[0] < '0' || s[0] > '9') {
        return false; /* strtoull would accept "-1" and " 1" */
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max) {
        return false;
    }
    *out = v;
    return true;
}

static void on_change(pc_client *c, const pc_client_change *ch, void *arg)
{
    (void)c;
    (void)ch;
    const follower *f = arg;
    if (f->slow_us > 0) {
        struct timespec ts = {f->slow_us / 1000000,
                              (f->slow_us % 1000000) * 1000};
        nanosleep(&ts, NULL);
    }
}

/*
 * Print "<word> SEQ SUM" and, with canon, " CANON", as one line. Returns
 * false when the replica cannot be printed (out of memory) or stdout
 * failed.
 */
static bool report(pc_client *c, const char *word, bool canon)
{
    const cJSON *state = pc_client_state(c);
    uint64_t sum = 0;
    char *text = NULL;
    if (pc_canon_checksum(state, &sum, NULL) != PC_OK ||
        (canon && pc_canon_print(state, &text, NULL) != PC_OK)) {
        fprintf(stderr, PROG ": cannot print the replica\n");
        return false;
    }
    printf("%s %" PRIu64 " %016" PRIx64 "%s%s\n", word, pc_client_seq(c), sum,
           canon ? " " : "", canon ? text : "");
    pc_free(text);
    return fflush(stdout) == 0;
}

static bool report_stats(const pc_client *c)
{
    pc_client_stats st;
    pc_client_stats_get(c, &st);
    printf("stats changes %" PRIu64 " gaps %" PRIu64 " repairs %" PRIu64
           " snapshots %" PRIu64 " mismatches %" PRIu64 "\n",
           st.changes_applied, st.gaps_detected, st.repairs_changes,
           st.snapshots, st.checksum_mismatches);
    return fflush(stdout) == 0;
}

/* Exit status of the follow loop; see the file comment. */
enum { EXIT_DONE = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

/* Follow until --until, SIGTERM/SIGINT, an error, the timeout or orphaning.
 * Prints "final" only on the first two. */
static int follow(pc_client *c, const sigset_t *sigs, uint64_t until,
                  bool has_until, long timeout_s)
{
    const struct timespec zero = {0, 0};
    const time_t deadline = time(NULL) + timeout_s;
    const pid_t parent = getppid();
    uint64_t shown = pc_client_seq(c);
    for (;;) {
        int sig;
        bool stop = false;
        while ((sig = sigtimedwait(sigs, NULL, &zero)) > 0) {
            if (sig == SIGUSR1) {
                if (!report(c, "state", true)) {
                    return EXIT_FAILED;
                }
            } else {
                stop = true;
            }
        }
        if (stop || (has_until && pc_client_seq(c) >= until)) {
            break;
        }
        if (getppid() != parent) {
            /* Nobody reads our lines any more: do not linger. */
            fprintf(stderr, PROG ": parent exited\n");
            return EXIT_FAILED;
        }
        if (time(NULL) >= deadline) {
            fprintf(stderr, PROG ": timed out after %ld s at seq %" PRIu64 "\n",
                    timeout_s, pc_client_seq(c));
            return EXIT_FAILED;
        }
        pc_err rc = pc_client_poll(c, POLL_MS);
        if (rc != PC_OK) {
            fprintf(stderr, PROG ": poll: %s\n", pc_strerror(rc));
            return EXIT_FAILED;
        }
        if (pc_client_seq(c) != shown) {
            shown = pc_client_seq(c);
            if (!report(c, "seq", false)) {
                return EXIT_FAILED;
            }
        }
    }
    if (!report_stats(c) || !report(c, "final", true)) {
        return EXIT_FAILED;
    }
    return EXIT_DONE;
}

int main(int argc, char **argv)
{
    pc_client_config cfg = {0};
    cfg.role = PC_CLIENT_SPECTATOR;
    follower f = {0};
    unsigned long long until = 0, slow_us = 0, recv_buffer = 0;
    unsigned long long timeout_s = 600;
    bool has_until = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return EXIT_DONE;
        }
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL) {
            fprintf(stderr, PROG ": %s needs a value\n", a);
            usage(stderr);
            return EXIT_USAGE;
        }
        i++;
        if (strcmp(a, "--pub") == 0) {
            cfg.pub_url = v;
        } else if (strcmp(a, "--req") == 0) {
            cfg.req_url = v;
        } else if (strcmp(a, "--room") == 0) {
            cfg.room = v;
        } else if (strcmp(a, "--name") == 0) {
            cfg.role = PC_CLIENT_PLAYER;
            cfg.name = v;
        } else if (strcmp(a, "--until") == 0 &&
                   number(v, UINT64_C(1) << 53, &until)) {
            has_until = true;
        } else if (strcmp(a, "--slow-us") == 0 &&
                   number(v, 10000000, &slow_us)) {
        } else if (strcmp(a, "--recv-buffer") == 0 &&
                   number(v, 8192, &recv_buffer) && recv_buffer > 0) {
        } else if (strcmp(a, "--timeout") == 0 &&
                   number(v, 86400, &timeout_s) && timeout_s > 0) {
        } else {
            fprintf(stderr, PROG ": bad option %s %s\n", a, v);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (cfg.pub_url == NULL || cfg.req_url == NULL || cfg.room == NULL) {
        fprintf(stderr, PROG ": --pub, --req and --room are required\n");
        usage(stderr);
        return EXIT_USAGE;
    }
    f.slow_us = (long)slow_us;
    cfg.recv_buffer = (int)recv_buffer;
    cfg.on_change = on_change;
    cfg.arg = &f;

    /* Block the signals we wait for before nng starts its threads, which
     * inherit the mask: only sigtimedwait below ever takes them. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGUSR1);
    if (sigprocmask(SIG_BLOCK, &sigs, NULL) != 0) {
        fprintf(stderr, PROG ": sigprocmask: %s\n", strerror(errno));
        return EXIT_FAILED;
    }

    pc_client *c = NULL;
    pc_error e = {0};
    pc_err rc = pc_client_open(&cfg, &c, &e);
    if (rc != PC_OK) {
        fprintf(stderr, PROG ": join %s: %s%s%s%s%s\n", cfg.room,
                pc_strerror(rc), e.code[0] != '\0' ? ": " : "", e.code,
                e.message[0] != '\0' ? ": " : "", e.message);
        nng_fini();
        return EXIT_FAILED;
    }
    int status = report(c, "ready", false)
                     ? follow(c, &sigs, until, has_until, (long)timeout_s)
                     : EXIT_FAILED;
    pc_client_close(c);
    nng_fini();
    return status;
}
