/*
 * test_replay_input.c - phasecast-inspect import against bad input: an
 * export is untrusted, so every malformed member, line and file gets an
 * error naming its line (exit 1) and a bad command line exit 2; nothing
 * crashes and nothing leaks, even when any allocation fails. The
 * recording is a tictactoe game (test_replay_fixture.h); replays that
 * work are in test_replay.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testalloc.h"
#include "testenv.h"
#include "test_replay_fixture.h"

static recorder ttt;
static char path[128];

static int group_setup(void **state)
{
    (void)state;
    testalloc_install();
    rdir_make();
    snprintf(path, sizeof path, "%s/export.jsonl", rdir);
    rec_tictactoe(&ttt, 7);
    rec_close(&ttt);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    rec_free(&ttt);
    rdir_remove();
    return 0;
}

/* Import path and expect status, with err (stderr) holding every
 * needle. */
static void expect(int status, const char *needle1, const char *needle2)
{
    run_out r;
    const char *args[] = {path, NULL};
    run_import(&r, args);
    if (r.status != status ||
        (needle1 != NULL && strstr(r.err, needle1) == NULL) ||
        (needle2 != NULL && strstr(r.err, needle2) == NULL)) {
        fail_msg("want %d with \"%s\" and \"%s\", got %d: %s%s", status,
                 needle1 ? needle1 : "", needle2 ? needle2 : "", r.status,
                 r.out, r.err);
    }
    run_free(&r);
}

/* A copy of the recording with member k of record n (1: the base) set to
 * the JSON text v (NULL: removed); k may be "cause.x" for a cause member. */
static void write_mutated(int n, const char *k, const char *v)
{
    cJSON *base = cJSON_Duplicate(ttt.base, true);
    cJSON *lines = cJSON_Duplicate(ttt.lines, true);
    cJSON *o = n == 1 ? base : cJSON_GetArrayItem(lines, n - 2);
    if (strncmp(k, "cause.", 6) == 0) {
        o = cJSON_GetObjectItemCaseSensitive(o, "cause");
        k += 6;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(o, k);
    if (v != NULL) {
        cJSON *val = cJSON_Parse(v);
        assert_non_null(val);
        cJSON_AddItemToObject(o, k, val);
    }
    write_export(path, base, lines);
    cJSON_Delete(base);
    cJSON_Delete(lines);
}

static void
test_import_refuses_a_malformed_base_record_naming_line_1(void **state)
{
    (void)state;
    static const char *const cases[][3] = {
        {"type", "\"change\"", "not a base record"},
        {"format", "2", "\"format\""},
        {"seed", NULL, "\"seed\""},
        {"seed", "\"00000000000000XY\"", "\"seed\""},
        {"seed", "\"000000000000000A\"", "\"seed\""},
        {"draws", "-1", "\"draws\""},
        {"draws", "1.5", "\"draws\""},
        {"draws", "1000000000000000", "more than this tool replays"},
        {"room", "\"no spaces\"", "\"room\""},
        {"game", "7", "\"game\""},
        {"seq", "\"0\"", "\"seq\""},
        {"sum", "\"0000000000000000\"", "checksum"},
        {"bytes", "3", "checksum"},
        {"deadline", "\"soon\"", "\"deadline\""},
        {"state", "[]", "\"state\""},
        {"state", "{\"phase\":\"WAITING\",\"data\":[]}", "\"state\""},
        {"state", "{\"phase\":\"WAITING\",\"data\":{},\"x\":1}", "\"state\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_mutated(1, cases[i][0], cases[i][1]);
        expect(1, "line 1: ", cases[i][2]);
    }
}

static void
test_import_refuses_a_malformed_change_record_naming_its_line(void **state)
{
    (void)state;
    static const char *const cases[][3] = {
        {"seq", "\"3\"", "\"seq\""},
        {"seq", "-3", "\"seq\""},
        {"time", "1.5", "\"time\""},
        {"kind", "\"other\"", "\"kind\""},
        {"phase", NULL, "\"phase\""},
        {"phase",
         "\"PLAYING_PLAYING_PLAYING_PLAYING_PLAYING_PLAYING_PLAYING_PLAYING_"
         "X\"",
         "too long"},
        {"reason", "null", "\"reason\""},
        {"line", "3000000000", "\"line\""},
        {"draws", "\"0\"", "\"draws\""},
        {"sum", "\"ABCDEFABCDEFABCD\"", "\"sum\""},
        {"sum", "\"abc\"", "\"sum\""},
        {"patch", "[]", "\"patch\""},
        {"patch", NULL, "\"patch\""},
        {"cause", NULL, "has no \"cause\""},
        {"cause", "\"action\"", "\"cause\""},
        {"cause.kind", "\"magic\"", "\"kind\""},
        {"cause.first", "0", "\"first\""},
        {"cause.first", "99", "\"first\""},
        {"cause.player", NULL, "\"player\""},
        {"cause.type", "1", "\"type\""},
        {"cause.payload_dropped", "true", "payload_dropped"},
        {"cause.payload_dropped", "1", "\"player\""},
        {"type", "\"room\"", "a second base record"},
        {"type", "\"bogus\"", "not a change record"},
        {"type", NULL, "without \"type\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* Record 3 is seq 2: bob's join, an action. */
        write_mutated(3, cases[i][0], cases[i][1]);
        expect(1, "line 3: ", cases[i][2]);
    }
    /* A timeout cause needs the phase whose timer fired. */
    write_mutated(3, "cause.kind", "\"timeout\"");
    expect(1, "line 3: ", "\"phase\"");
    /* Seqs never go back. */
    write_mutated(4, "seq", "1");
    expect(1, "line 4: ", "comes after seq 2");
    /* A change that names, as its stimulus, one it does not follow. */
    write_mutated(4, "cause.first", "1");
    expect(1, "line 4: ", "not part of that stimulus");
    write_mutated(4, "cause.kind", "\"timeout\"");
    expect(1, "line 4: ", "\"phase\"");
}

static void test_import_refuses_bad_lines_naming_them(void **state)
{
    (void)state;
    write_text(path, "");
    expect(1, "line 1: ", "empty");
    write_text(path, "not json\n");
    expect(1, "line 1: ", "not JSON");
    write_text(path, "[1,2]\n");
    expect(1, "line 1: ", "not a JSON object");
    write_text(path, "{\"type\":\"room\",\"type\":\"room\"}\n");
    expect(1, "line 1: ", "not JSON");

    /* The second line: duplicate keys, a cut line at the end, a line
     * over the cap (read up to the cap, never past it). */
    char *b = cJSON_PrintUnformatted(ttt.base);
    size_t blen = strlen(b);
    FILE *f = fopen(path, "w");
    fprintf(f, "%s\n{\"seq\":1,\"seq\":1}\n", b);
    fclose(f);
    expect(1, "line 2: ", "not JSON");
    f = fopen(path, "w");
    fprintf(f, "%s\n{\"type\":\"change\",\"seq\":1,\"ti", b);
    fclose(f);
    expect(1, "line 2: ", "not JSON");
    f = fopen(path, "w");
    fprintf(f, "%s\n", b);
    for (size_t i = 0; i <= ((size_t)16 << 20) / 64; i++) {
        fputs("0123456789012345678901234567890123456789012345678901234567890"
              "123",
              f);
    }
    fclose(f);
    expect(1, "line 2: ", "longer than 16777216 bytes");
    (void)blen;
    cJSON_free(b);
}

static void test_import_accepts_blank_lines_crlf_and_timer_records(void **state)
{
    (void)state;
    FILE *f = fopen(path, "w");
    char *b = cJSON_PrintUnformatted(ttt.base);
    fprintf(f, "%s\r\n\n", b);
    cJSON_free(b);
    const cJSON *l;
    cJSON_ArrayForEach(l, ttt.lines)
    {
        char *s = cJSON_PrintUnformatted(l);
        fprintf(f, "%s\r\n{\"type\":\"timer\",\"seq\":0,\"deadline\":null}\n",
                s);
        cJSON_free(s);
    }
    fclose(f);
    expect(0, NULL, NULL);

    /* The base alone: nothing to replay, and tictactoe's start commits
     * nothing, so that is reproduced. */
    write_export(path, ttt.base, NULL);
    run_out r;
    const char *args[] = {path, NULL};
    run_import(&r, args);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "reproduced: room t1 (tictactoe), no changes "
                               "after seq 0 to replay\n");
    run_free(&r);

    /* Standard input. */
    write_export(path, ttt.base, ttt.lines);
    assert_non_null(freopen(path, "r", stdin));
    const char *dash[] = {"-", NULL};
    run_import(&r, dash);
    assert_int_equal(r.status, 0);
    run_free(&r);
}

static void test_import_names_games_it_cannot_replay(void **state)
{
    (void)state;
    write_mutated(1, "game", "\"chess\"");
    expect(1, "the export's game \"chess\"", "--game");
    write_export(path, ttt.base, ttt.lines);
    run_out r;
    const char *chess[] = {path, "--game", "chess", NULL};
    run_import(&r, chess);
    assert_int_equal(r.status, 2);
    run_free(&r);
    /* Another game than the recorded one: its initial state differs. */
    const char *piles[] = {path, "--json", "--game", "piles", NULL};
    run_import(&r, piles);
    assert_int_equal(r.status, 1);
    assert_string_equal(
        pc_json_pointer_get(r.doc, "/divergence/problem")->valuestring, "base");
    assert_int_equal(pc_json_pointer_get(r.doc, "/divergence/seq")->valuedouble,
                     0);
    run_free(&r);
}

static void test_import_refuses_a_bad_command_line_with_status_2(void **state)
{
    (void)state;
    static const char *const cases[][4] = {
        {NULL},
        {"a", "b", NULL},
        {"a", "--bogus", NULL},
        {"a", "--target", "0", NULL},
        {"a", "--target", NULL},
        {"a", "--declare-ms", "-5", NULL},
        {"a", "--game", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_out r;
        run_import(&r, cases[i]);
        assert_int_equal(r.status, 2);
        assert_non_null(strstr(r.err, "phasecast-inspect: bad_option: "));
        run_free(&r);
    }
    run_out r;
    const char *missing[] = {"/nonexistent/export.jsonl", NULL};
    run_import(&r, missing);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "cannot open /nonexistent/export.jsonl"));
    run_free(&r);
    /* --json errors are JSON too. */
    const char *json[] = {"/nonexistent/export.jsonl", "--json", NULL};
    run_import(&r, json);
    assert_int_equal(r.status, 1);
    cJSON *e = cJSON_Parse(r.err);
    assert_string_equal(pc_json_pointer_get(e, "/error/code")->valuestring,
                        "not_found");
    cJSON_Delete(e);
    run_free(&r);
}

/* Import with the nth allocation failing (once, or from there on): an
 * error or a divergence, never a crash or a leak. Returns whether the
 * run reached the nth allocation. */
static bool import_failing_at(size_t nth, bool persistent, int *status)
{
    size_t live = testalloc_live();
    FILE *fo = fopen("/dev/null", "w");
    FILE *fe = fopen("/dev/null", "w");
    insp_out o = {fo, fe, false, true};
    char *argv[] = {path, NULL};
    testalloc_fail_at(nth, persistent);
    *status = insp_import(&o, 1, argv);
    bool hit = testalloc_failed();
    testalloc_fail_at(0, false);
    fclose(fo);
    fclose(fe);
    assert_int_equal(testalloc_live(), live);
    return hit;
}

/* Fail each allocation of an import of the file at path in turn (once,
 * then from there on) until one runs without reaching it; that one must
 * end with want. */
static void walk_failures(int want)
{
    for (int persistent = 0; persistent < 2; persistent++) {
        size_t n = 1;
        int status = 0;
        for (; n < 100000 && import_failing_at(n, persistent, &status); n++) {
            assert_true(status == 0 || status == 1);
        }
        assert_true(n > 50);
        assert_int_equal(status, want);
    }
}

static void test_import_survives_every_allocation_failure(void **state)
{
    (void)state;
    write_export(path, ttt.base, ttt.lines);
    walk_failures(0);
    /* And with a divergence to report. */
    cJSON *lines = cJSON_Duplicate(ttt.lines, true);
    cJSON_AddTrueToObject(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(lines, 4), "patch"),
        "tampered");
    write_export(path, ttt.base, lines);
    walk_failures(1);
    cJSON_Delete(lines);
}

static void test_import_survives_random_byte_changes(void **state)
{
    (void)state;
    /* The export as text, then one to three bytes changed at a time into
     * bytes that matter to JSON and to the reader. */
    write_export(path, ttt.base, ttt.lines);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char text[16384];
    size_t len = fread(text, 1, sizeof text, f);
    fclose(f);
    assert_true(len > 0 && len < sizeof text);
    static const char bytes[] = "{}[]\":,0123456789-.eE\\ntfu\n\r\t x\x80\xff";
    uint64_t rng = 5;
    int runs = testenv_scale(3000);
    for (int i = 0; i < runs; i++) {
        char copy[sizeof text];
        memcpy(copy, text, len);
        int n = 1 + (int)(rec_splitmix(&rng) % 3);
        for (int k = 0; k < n; k++) {
            copy[rec_splitmix(&rng) % len] =
                bytes[rec_splitmix(&rng) % (sizeof bytes - 1)];
        }
        f = fopen(path, "wb");
        fwrite(copy, 1, len, f);
        fclose(f);
        int status = 0;
        import_failing_at(0, false, &status);
        assert_true(status == 0 || status == 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_import_refuses_a_malformed_base_record_naming_line_1,
            testalloc_setup, testalloc_teardown),
        cmocka_unit_test_setup_teardown(
            test_import_refuses_a_malformed_change_record_naming_its_line,
            testalloc_setup, testalloc_teardown),
        cmocka_unit_test_setup_teardown(
            test_import_refuses_bad_lines_naming_them, testalloc_setup,
            testalloc_teardown),
        cmocka_unit_test_setup_teardown(
            test_import_accepts_blank_lines_crlf_and_timer_records,
            testalloc_setup, testalloc_teardown),
        cmocka_unit_test_setup_teardown(
            test_import_names_games_it_cannot_replay, testalloc_setup,
            testalloc_teardown),
        cmocka_unit_test_setup_teardown(
            test_import_refuses_a_bad_command_line_with_status_2,
            testalloc_setup, testalloc_teardown),
        cmocka_unit_test_setup_teardown(
            test_import_survives_every_allocation_failure, testalloc_setup,
            testalloc_teardown),
        cmocka_unit_test_setup_teardown(
            test_import_survives_random_byte_changes, testalloc_setup,
            testalloc_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
