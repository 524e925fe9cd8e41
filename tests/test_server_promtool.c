/*
 * test_server_promtool.c - the server's metrics text checked by
 * Prometheus's own linter: a real server with a change log takes real
 * traffic over a REQ socket on 127.0.0.1 (joins, actions, errors, gap
 * repairs, a report), its pc_server_metrics_text goes to a file, and
 * `promtool check metrics < file` runs as a process of its own. It must
 * exit 0 and print nothing: no parse error and no lint problem. The test
 * is built only where CMake found promtool (Debian package prometheus,
 * installed by scripts/test through scripts/lib/deps.sh).
 */
#include "test_server_support.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "phasecast/alloc.h"

#include "countergame.h"
#include "testnet.h"

#ifndef PC_PROMTOOL
#error "PC_PROMTOOL must name the promtool executable"
#endif

#define ROOM "lint"

extern char **environ;

/* Some of every kind of traffic the metrics count. */
static void traffic(nng_socket s)
{
    static const char *const reqs[] = {
        "{\"op\":\"ping\"}",
        "{\"op\":\"info\"}",
        "{\"op\":\"snapshot\",\"room\":\"" ROOM "\"}",
        "{\"op\":\"changes\",\"room\":\"" ROOM "\",\"since\":0}",
        "{\"op\":\"report\",\"room\":\"" ROOM
        "\",\"kind\":\"checksum_mismatch\",\"seq\":1}",
        "{\"op\":\"frob\"}",
        "not json",
        "{\"op\":\"inspect\",\"room\":\"" ROOM "\"}",
        "{\"op\":\"snapshot\",\"room\":\"nowhere\"}",
    };
    cJSON *r = request(s,
                       "{\"op\":\"join\",\"room\":\"" ROOM
                       "\",\"role\":\"player\",\"name\":\"%s\"}",
                       "carol");
    char *token = strdup(str(ok_result(r), "token"));
    cJSON_Delete(r);
    for (int i = 0; i < 20; i++) {
        r = request(s,
                    "{\"op\":\"action\",\"room\":\"" ROOM
                    "\",\"token\":\"%s\",\"action_id\":\"x%d\","
                    "\"type\":\"inc\"}",
                    token, i);
        ok_result(r);
        cJSON_Delete(r);
    }
    r = request(s,
                "{\"op\":\"action\",\"room\":\"" ROOM
                "\",\"token\":\"%s\",\"action_id\":\"y\",\"type\":\"nope\"}",
                token);
    assert_error(r, "unknown_action");
    cJSON_Delete(r);
    free(token);
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        r = request(s, "%s", reqs[i]);
        cJSON_Delete(r);
    }
}

/* Run promtool check metrics with stdin from in and stdout and stderr to
 * out; its exit status. */
static int promtool(const char *in, const char *out)
{
    posix_spawn_file_actions_t fa;
    assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
    assert_int_equal(posix_spawn_file_actions_addopen(&fa, 0, in, O_RDONLY, 0),
                     0);
    assert_int_equal(posix_spawn_file_actions_addopen(
                         &fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600),
                     0);
    assert_int_equal(posix_spawn_file_actions_adddup2(&fa, 1, 2), 0);
    char *argv[] = {PC_PROMTOOL, "check", "metrics", NULL};
    pid_t pid;
    int rv = posix_spawn(&pid, PC_PROMTOOL, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rv != 0) {
        fail_msg("cannot run %s: %s", PC_PROMTOOL, strerror(rv));
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return buf;
}

static void test_metrics_pass_promtool_check_without_problems(void **state)
{
    (void)state;
    char dir[] = "/tmp/pc-promtool-XXXXXX";
    assert_non_null(mkdtemp(dir));
    pc_server_options o;
    pc_server_options_init(&o);
    o.pub_url = "tcp://127.0.0.1:0";
    o.rep_url = "tcp://127.0.0.1:0";
    o.heartbeat_ms = 20;
    o.log_dir = dir;
    o.fsync = PC_FSYNC_ALWAYS;
    pc_server *srv = testnet_serve(&o, countergame_public(), ROOM, 100);
    nng_socket s = req_open(pc_server_rep_url(srv));
    traffic(s);

    char *text = NULL;
    size_t len = 0;
    assert_int_equal(pc_server_metrics_text(srv, &text, &len), PC_OK);
    char in[128], out[128];
    snprintf(in, sizeof in, "%s/metrics.txt", dir);
    snprintf(out, sizeof out, "%s/promtool.out", dir);
    FILE *fp = fopen(in, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
    pc_free(text);

    int status = promtool(in, out);
    const char *said = slurp(out);
    if (status != 0 || said[0] != '\0') {
        fail_msg("promtool check metrics exited %d and said:\n%s", status,
                 said);
    }
    nng_close(s);
    pc_server_free(srv);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_pass_promtool_check_without_problems),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    pc_transport_fini();
    return rc;
}
