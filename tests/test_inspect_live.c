/*
 * test_inspect_live.c - the real phasecast-inspect process against a live
 * server in this process, over TCP loopback.
 *
 * A "ledger" room is changed by the host (through pc_server_call) while a
 * spectator client records the state it holds after every seq. Then:
 * `show SEQ` at every retained seq prints exactly what the client held at
 * that seq; `follow` prints every new change in order with the checksums
 * the client verified, from the server and from the room's change log
 * alike; the interactive session works over a live source; and a missing
 * or wrong credential is refused with `forbidden` and changes nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "phasecast/canon.h"
#include "phasecast/client.h"
#include "phasecast/json.h"
#include "phasecast/room.h"
#include "phasecast/server.h"

#ifndef PC_INSPECT_PATH
#error "PC_INSPECT_PATH must name the phasecast-inspect executable"
#endif

extern char **environ;

#define CREDENTIAL "inspector-credential-for-tests-0123"
#define HISTORY    100
#define CHANGES    150
#define ROOM       "L1"

static const pc_phase phases[] = {{.name = "OPEN"}, {.name = "CLOSED"}};
static const pc_game ledger = {
    .name = "ledger", .phases = phases, .nphases = 2, .initial_phase = "OPEN"};

/* What the spectator held after each seq (canonical text). */
static char *seen[CHANGES * 2 + 2];
static uint64_t seen_sum[CHANGES * 2 + 2];

static void on_change(pc_client *c, const pc_client_change *ch, void *arg)
{
    (void)arg;
    if (ch->seq < sizeof(seen) / sizeof(seen[0])) {
        char *text = NULL;
        size_t len = 0;
        assert_int_equal(pc_canon_print(pc_client_state(c), &text, &len),
                         PC_OK);
        free(seen[ch->seq]);
        seen[ch->seq] = text;
        seen_sum[ch->seq] = ch->sum;
    }
}

/* Host-side changes, run on the loop with pc_server_call. */
typedef struct batch {
    uint64_t from, n;
} batch;

static void make_changes(pc_server *srv, void *arg)
{
    const batch *b = arg;
    pc_room *room = pc_server_find_room(srv, ROOM);
    assert_non_null(room);
    for (uint64_t i = b->from; i < b->from + b->n; i++) {
        char patch[160];
        if (i % 25 == 24) {
            bool open = strcmp(pc_room_phase(room), "OPEN") == 0;
            snprintf(patch, sizeof patch, "{\"closed_at\":%llu}",
                     (unsigned long long)i);
            assert_int_equal(pc_transition_text(room, open ? "CLOSED" : "OPEN",
                                                patch, "the desk turns over"),
                             PC_OK);
            continue;
        }
        snprintf(patch, sizeof patch,
                 "{\"total\":%llu,\"entries\":{\"e%llu\":{\"amount\":%llu}"
                 "%s}}",
                 (unsigned long long)(i * 7), (unsigned long long)(i % 13),
                 (unsigned long long)i,
                 i % 5 == 0 && i % 13 != 3 ? ",\"e3\":null" : "");
        assert_int_equal(pc_update_phase_text(room, patch, "entry booked"),
                         PC_OK);
    }
}

static pc_server *srv;
static pc_client *spectator;
static char logdir[64];

static void drive(uint64_t from, uint64_t n)
{
    batch b = {from, n};
    assert_int_equal(pc_server_call(srv, make_changes, &b), PC_OK);
}

static void sync_client(uint64_t seq)
{
    for (int i = 0; i < 2000 && pc_client_seq(spectator) < seq; i++) {
        assert_int_equal(pc_client_poll(spectator, 10), PC_OK);
    }
    assert_int_equal(pc_client_seq(spectator), seq);
}

static int setup(void **state)
{
    (void)state;
    snprintf(logdir, sizeof logdir, "/tmp/pc-inspect-live.XXXXXX");
    assert_non_null(mkdtemp(logdir));
    pc_server_options o;
    pc_server_options_init(&o);
    o.pub_url = "tcp://127.0.0.1:0";
    o.rep_url = "tcp://127.0.0.1:0";
    o.heartbeat_ms = 50;
    o.inspector_credential = CREDENTIAL;
    o.log_dir = logdir;
    o.fsync = PC_FSYNC_NONE;
    pc_error err = {0};
    assert_int_equal(pc_server_new(&o, &srv, &err), PC_OK);
    pc_server_room_options ro;
    pc_server_room_options_init(&ro);
    ro.room.id = ROOM;
    ro.room.history_capacity = HISTORY;
    ro.join_action = NULL;
    assert_int_equal(pc_server_add_room(srv, &ledger, &ro, NULL), PC_OK);
    assert_int_equal(pc_server_start(srv), PC_OK);
    pc_client_config cc;
    memset(&cc, 0, sizeof cc);
    cc.pub_url = pc_server_pub_url(srv);
    cc.req_url = pc_server_rep_url(srv);
    cc.room = ROOM;
    cc.role = PC_CLIENT_SPECTATOR;
    cc.on_change = on_change;
    assert_int_equal(pc_client_open(&cc, &spectator, &err), PC_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pc_server_free(srv);
    pc_client_close(spectator);
    for (size_t i = 0; i < sizeof(seen) / sizeof(seen[0]); i++) {
        free(seen[i]);
        seen[i] = NULL;
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", logdir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

/* A running phasecast-inspect: its pid and its stdout (stderr merged). */
typedef struct tool {
    pid_t pid;
    int out;
    int in; /* its stdin, or -1 */
    char buf[1 << 16];
    size_t len;
} tool;

static void tool_start(tool *t, bool with_stdin, const char *const *args)
{
    memset(t, 0, sizeof *t);
    int o[2];
    int i[2] = {-1, -1};
    assert_int_equal(pipe(o), 0);
    assert_int_equal(pipe(i), 0);
    for (int k = 0; k < 2; k++) {
        fcntl(o[k], F_SETFD, FD_CLOEXEC);
        fcntl(i[k], F_SETFD, FD_CLOEXEC);
    }
    char *argv[24];
    size_t n = 0;
    argv[n++] = PC_INSPECT_PATH;
    for (size_t k = 0; args[k] != NULL; k++) {
        assert_true(n + 1 < sizeof argv / sizeof argv[0]);
        argv[n++] = (char *)args[k];
    }
    argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (with_stdin) {
        posix_spawn_file_actions_adddup2(&fa, i[0], 0);
    } else {
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    }
    posix_spawn_file_actions_adddup2(&fa, o[1], 1);
    posix_spawn_file_actions_adddup2(&fa, o[1], 2);
    int rv = posix_spawn(&t->pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(o[1]);
    close(i[0]);
    assert_int_equal(rv, 0);
    t->out = o[0];
    t->in = i[1];
    if (!with_stdin) {
        close(t->in);
        t->in = -1;
    }
}

/* Read until EOF (or 30 s), wait for the exit; returns the exit status. */
static int tool_finish(tool *t)
{
    if (t->in >= 0) {
        close(t->in);
        t->in = -1;
    }
    for (int waited = 0; waited < 30000;) {
        struct pollfd p = {t->out, POLLIN, 0};
        int r = poll(&p, 1, 100);
        if (r == 0) {
            waited += 100;
            continue;
        }
        ssize_t got =
            read(t->out, t->buf + t->len, sizeof(t->buf) - 1 - t->len);
        if (got <= 0) {
            break;
        }
        t->len += (size_t)got;
        assert_true(t->len < sizeof(t->buf) - 1);
    }
    t->buf[t->len] = '\0';
    close(t->out);
    int st = 0;
    assert_int_equal(waitpid(t->pid, &st, 0), t->pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Run the tool to completion; its output is in t->buf. */
static int tool_run(tool *t, const char *input, const char *const *args)
{
    tool_start(t, input != NULL, args);
    if (input != NULL) {
        size_t n = strlen(input);
        assert_int_equal(write(t->in, input, n), (ssize_t)n);
    }
    return tool_finish(t);
}

/* The next complete line of a running tool's output, waiting up to 20 s. */
static char *tool_line(tool *t, char *line, size_t cap)
{
    for (int waited = 0; waited < 20000;) {
        char *nl = memchr(t->buf, '\n', t->len);
        if (nl != NULL) {
            size_t n = (size_t)(nl - t->buf);
            assert_true(n < cap);
            memcpy(line, t->buf, n);
            line[n] = '\0';
            memmove(t->buf, nl + 1, t->len - n - 1);
            t->len -= n + 1;
            return line;
        }
        struct pollfd p = {t->out, POLLIN, 0};
        if (poll(&p, 1, 100) == 0) {
            waited += 100;
            continue;
        }
        ssize_t got = read(t->out, t->buf + t->len, sizeof(t->buf) - t->len);
        if (got <= 0) {
            break;
        }
        t->len += (size_t)got;
    }
    fail_msg("no line from phasecast-inspect; it printed: %.*s", (int)t->len,
             t->buf);
    return NULL;
}

static const char *rep_url(void)
{
    return pc_server_rep_url(srv);
}

static void show_every_retained_seq_equals_what_the_client_saw(void **state)
{
    (void)state;
    setenv("PHASECAST_INSPECTOR_CREDENTIAL", CREDENTIAL, 1);
    drive(0, CHANGES);
    sync_client(CHANGES);
    uint64_t first = CHANGES - HISTORY; /* the oldest state the ring holds */
    /* A seq the client jumped over (a snapshot after a gap, which PUB
     * drops can cause on a loaded machine) has no state of the client's
     * to compare with; every other one must match, and most must exist. */
    int compared = 0;
    for (uint64_t s = first; s <= CHANGES; s++) {
        if (seen[s] == NULL) {
            continue;
        }
        compared++;
        char seq[24];
        snprintf(seq, sizeof seq, "%llu", (unsigned long long)s);
        const char *args[] = {"--json", "--rep", rep_url(), "--room",
                              ROOM,     "show",  seq,       NULL};
        tool t;
        assert_int_equal(tool_run(&t, NULL, args), 0);
        cJSON *doc = cJSON_Parse(t.buf);
        assert_non_null(doc);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "value");
        char *text = NULL;
        size_t len = 0;
        assert_int_equal(pc_canon_print(v, &text, &len), PC_OK);
        if (strcmp(text, seen[s]) != 0) {
            fail_msg("seq %llu: inspector %s, client %s", (unsigned long long)s,
                     text, seen[s]);
        }
        free(text);
        cJSON_Delete(doc);
    }
    if (compared < HISTORY + 1) {
        print_message("the client jumped over %d of %d retained seqs\n",
                      HISTORY + 1 - compared, HISTORY + 1);
    }
    assert_true(compared > HISTORY / 2);
    assert_non_null(seen[CHANGES]);
    /* One before the ring: evicted, a clear error. */
    char seq[24];
    snprintf(seq, sizeof seq, "%llu", (unsigned long long)(first - 1));
    const char *args[] = {"--rep", rep_url(), "--room", ROOM,
                          "show",  seq,       NULL};
    tool t;
    assert_int_equal(tool_run(&t, NULL, args), 1);
    assert_non_null(strstr(t.buf, "bad_seq"));
}

/* Parse one `follow --json` line: its seq and sum. */
static void follow_fields(const char *line, uint64_t *seq, uint64_t *sum)
{
    cJSON *j = cJSON_Parse(line);
    if (j == NULL) {
        fail_msg("follow printed a line that is not JSON: %s", line);
    }
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "seq");
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(j, "sum");
    assert_true(cJSON_IsNumber(s) && cJSON_IsString(h));
    *seq = (uint64_t)s->valuedouble;
    *sum = strtoull(h->valuestring, NULL, 16);
    cJSON_Delete(j);
}

static void follow_prints_every_change_in_order(void **state)
{
    (void)state;
    setenv("PHASECAST_INSPECTOR_CREDENTIAL", CREDENTIAL, 1);
    drive(0, 10);
    sync_client(10);
    char logpath[128];
    snprintf(logpath, sizeof logpath, "%s/%s.pclog", logdir, ROOM);
    const char *live[] = {"--json",    "--rep",  rep_url(),    "--room",  ROOM,
                          "follow",    "--last", "1",          "--count", "60",
                          "--timeout", "60",     "--interval", "20",      NULL};
    const char *file[] = {
        "--json", "--log",     logpath, "follow",     "--last", "1", "--count",
        "60",     "--timeout", "60",    "--interval", "20",     NULL};
    tool a;
    tool b;
    tool_start(&a, false, live);
    tool_start(&b, false, file);
    char line[65536];
    uint64_t seq;
    uint64_t sum;
    /* The first line is the current last change: both are reading. */
    follow_fields(tool_line(&a, line, sizeof line), &seq, &sum);
    assert_int_equal(seq, 10);
    follow_fields(tool_line(&b, line, sizeof line), &seq, &sum);
    assert_int_equal(seq, 10);
    /* Changes in three bursts, with a phase change in each. */
    for (uint64_t k = 0; k < 3; k++) {
        drive(10 + k * 20, 20);
    }
    sync_client(70);
    for (uint64_t want = 11; want <= 70; want++) {
        follow_fields(tool_line(&a, line, sizeof line), &seq, &sum);
        assert_int_equal(seq, want);
        /* The spectator sees the whole state (the game keeps nothing
         * private), so its verified checksum is the same. */
        assert_int_equal(sum, seen_sum[want]);
        follow_fields(tool_line(&b, line, sizeof line), &seq, &sum);
        assert_int_equal(seq, want);
        assert_int_equal(sum, seen_sum[want]);
    }
    assert_int_equal(tool_finish(&a), 0);
    assert_int_equal(tool_finish(&b), 0);
}

static void the_session_steps_through_a_live_room(void **state)
{
    (void)state;
    setenv("PHASECAST_INSPECTOR_CREDENTIAL", CREDENTIAL, 1);
    drive(0, 30);
    sync_client(30);
    const char *args[] = {"--no-color", "--rep", rep_url(),
                          "--room",     ROOM,    NULL};
    tool t;
    assert_int_equal(
        tool_run(&t, "goto 24\nstep\nback 2\nshow . total\nquit\n", args), 0);
    assert_non_null(strstr(t.buf, "> goto 24\nseq 24 "));
    assert_non_null(strstr(t.buf, "> step\nseq 25 "));
    assert_non_null(strstr(t.buf, "OPEN->CLOSED"));
    assert_non_null(strstr(t.buf, "> back 2\nseq 23 "));
    assert_non_null(strstr(t.buf, "/data/total = 154\n"));
}

static void a_missing_or_wrong_credential_is_refused(void **state)
{
    (void)state;
    drive(0, 5);
    sync_client(5);
    unsetenv("PHASECAST_INSPECTOR_CREDENTIAL");
    const char *args[] = {"--rep", rep_url(), "--room", ROOM, "log", NULL};
    tool t;
    assert_int_equal(tool_run(&t, NULL, args), 1);
    assert_non_null(strstr(t.buf, "no_credential"));
    setenv("PHASECAST_INSPECTOR_CREDENTIAL", "not-the-credential-at-all-x", 1);
    assert_int_equal(tool_run(&t, NULL, args), 1);
    assert_non_null(strstr(t.buf, "forbidden"));
    assert_null(strstr(t.buf, CREDENTIAL));
    /* Refusals changed nothing. */
    sync_client(5);
}

static void a_room_that_does_not_exist_is_an_error(void **state)
{
    (void)state;
    setenv("PHASECAST_INSPECTOR_CREDENTIAL", CREDENTIAL, 1);
    const char *args[] = {"--rep", rep_url(), "--room", "nope", "log", NULL};
    tool t;
    assert_int_equal(tool_run(&t, NULL, args), 1);
    assert_non_null(strstr(t.buf, "unknown_room"));
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            show_every_retained_seq_equals_what_the_client_saw, setup,
            teardown),
        cmocka_unit_test_setup_teardown(follow_prints_every_change_in_order,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(the_session_steps_through_a_live_room,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_missing_or_wrong_credential_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(a_room_that_does_not_exist_is_an_error,
                                        setup, teardown),
    };
    int rv = cmocka_run_group_tests(tests, NULL, NULL);
    pc_transport_fini();
    return rv;
}
