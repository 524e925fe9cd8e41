/*
 * test_replay.c - phasecast-inspect import (tools/inspect/replay.c): a
 * real piles game, played by the game's bots on a fake clock and recorded
 * as an export, replays through the game's rules change for change; an
 * export tampered with (a patch, a checksum, the draws, a removed record,
 * an action's payload) or replayed with other settings (--target,
 * --rounds, --deal-ms) reports the exact seq where it diverges. Also:
 * tictactoe (whose start commits nothing) with a host's update, and
 * exports that begin after seq 0 (a restored room), including one that
 * begins in the middle of a stimulus. Input errors are in
 * test_replay_input.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testalloc.h"
#include "test_replay_fixture.h"

/* The recorded games, made once for every test. */
static recorder piles_rec;
static recorder ttt_rec;
static piles_config piles_cfg;
static char path[128];

static int group_setup(void **state)
{
    (void)state;
    testalloc_install(); /* before anything the tests free is allocated */
    rdir_make();
    snprintf(path, sizeof path, "%s/export.jsonl", rdir);
    piles_config_init(&piles_cfg);
    piles_cfg.max_rounds = 4;
    piles_cfg.target_score = 10000;
    rec_piles(&piles_rec, &piles_cfg, 92);
    rec_close(&piles_rec);
    rec_tictactoe(&ttt_rec, 7);
    rec_close(&ttt_rec);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    rec_free(&piles_rec);
    rec_free(&ttt_rec);
    rdir_remove();
    return 0;
}

static uint64_t last_seq(const recorder *r)
{
    int n = cJSON_GetArraySize(r->lines);
    return (uint64_t)cJSON_GetObjectItemCaseSensitive(
               cJSON_GetArrayItem(r->lines, n - 1), "seq")
        ->valuedouble;
}

/* How many stimuli the records hold: one per cause.first. */
static uint64_t stimuli(const cJSON *lines)
{
    uint64_t n = 0;
    const cJSON *l;
    cJSON_ArrayForEach(l, lines)
    {
        n += first_of(l) ==
             (uint64_t)cJSON_GetObjectItemCaseSensitive(l, "seq")->valuedouble;
    }
    return n;
}

/* The first record whose phase moved from prev to phase. */
static uint64_t first_transition(const cJSON *lines, const char *prev,
                                 const char *phase)
{
    const cJSON *l;
    cJSON_ArrayForEach(l, lines)
    {
        if (strcmp(cJSON_GetObjectItemCaseSensitive(l, "prev")->valuestring,
                   prev) == 0 &&
            strcmp(cJSON_GetObjectItemCaseSensitive(l, "phase")->valuestring,
                   phase) == 0) {
            return (uint64_t)cJSON_GetObjectItemCaseSensitive(l, "seq")
                ->valuedouble;
        }
    }
    fail_msg("no %s -> %s transition", prev, phase);
    return 0;
}

/* Import the piles export at path with extra words, --json. */
static void import_json(run_out *r, const char *a, const char *b)
{
    const char *args[] = {path, "--json", a, b, NULL};
    run_import(r, args);
    assert_non_null(r->doc);
}

static void test_import_reproduces_a_recorded_piles_game(void **state)
{
    (void)state;
    write_export(path, piles_rec.base, piles_rec.lines);
    run_out r;
    import_json(&r, "--rounds", "4");
    assert_int_equal(r.status, 0);
    uint64_t last = last_seq(&piles_rec);
    assert_true(last > 150);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r.doc, "ok")));
    assert_true(
        cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r.doc, "divergence")));
    assert_int_equal(
        cJSON_GetObjectItemCaseSensitive(r.doc, "from")->valuedouble, 1);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(r.doc, "to")->valuedouble,
                     last);
    assert_int_equal(
        cJSON_GetObjectItemCaseSensitive(r.doc, "changes")->valuedouble, last);
    assert_int_equal(
        cJSON_GetObjectItemCaseSensitive(r.doc, "stimuli")->valuedouble,
        stimuli(piles_rec.lines));
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(r.doc, "game")->valuestring, "piles");
    run_free(&r);

    /* The text form: one summary line. */
    const char *args[] = {path, "--target", "10000", "--rounds", "4", NULL};
    run_import(&r, args);
    assert_int_equal(r.status, 0);
    char want[160];
    snprintf(want, sizeof want,
             "reproduced: room p1 (piles), seqs 1..%llu, %llu stimuli, every "
             "change equal\n",
             (unsigned long long)last,
             (unsigned long long)stimuli(piles_rec.lines));
    assert_string_equal(r.out, want);
    assert_string_equal(r.err, "");
    run_free(&r);
}

static void test_import_reports_a_changed_patch_at_its_seq(void **state)
{
    (void)state;
    cJSON *lines = cJSON_Duplicate(piles_rec.lines, true);
    cJSON *l = line_at(lines, 57);
    cJSON_AddTrueToObject(cJSON_GetObjectItemCaseSensitive(l, "patch"),
                          "tampered");
    write_export(path, piles_rec.base, lines);
    run_out r;
    import_json(&r, "--rounds", "4");
    assert_int_equal(r.status, 1);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r.doc, "ok")));
    assert_int_equal(div_num(&r, "seq"), 57);
    assert_int_equal(div_num(&r, "line"), 58);
    assert_string_equal(div_str(&r, "problem"), "differs");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(r.doc, "to")->valuedouble,
                     56);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(r.doc, "divergence");
    const cJSON *fields = cJSON_GetObjectItemCaseSensitive(d, "fields");
    assert_int_equal(cJSON_GetArraySize(fields), 1);
    const cJSON *f = cJSON_GetArrayItem(fields, 0);
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(f, "field")->valuestring, "patch");
    assert_true(pc_json_equal(cJSON_GetObjectItemCaseSensitive(f, "expected"),
                              cJSON_GetObjectItemCaseSensitive(l, "patch")));
    /* The state diff names the member only the export has. */
    const cJSON *diff = cJSON_GetObjectItemCaseSensitive(d, "state_diff");
    assert_int_equal(cJSON_GetArraySize(diff), 1);
    assert_string_equal(pc_json_pointer_get(diff, "/0/path")->valuestring,
                        "/data/tampered");
    assert_null(pc_json_pointer_get(diff, "/0/new"));
    run_free(&r);

    /* The text form says the same for people. */
    const char *args[] = {path, "--rounds", "4", "--target", "10000", NULL};
    run_import(&r, args);
    assert_int_equal(r.status, 1);
    assert_non_null(
        strstr(r.out, "diverged: room p1 (piles) at seq 57 (line 58)\n"));
    assert_non_null(strstr(r.out, "  patch    expected "));
    assert_non_null(strstr(r.out, "/data/tampered  true (only in the export)"));
    assert_non_null(strstr(r.out, "before it: seqs 1..56, every change equal"));
    run_free(&r);
    cJSON_Delete(lines);
}

static void
test_import_reports_a_changed_sum_and_draws_at_their_seq(void **state)
{
    (void)state;
    cJSON *lines = cJSON_Duplicate(piles_rec.lines, true);
    cJSON_ReplaceItemInObjectCaseSensitive(line_at(lines, 88), "sum",
                                           rec_hex(0x1234));
    write_export(path, piles_rec.base, lines);
    run_out r;
    import_json(&r, "--rounds", "4");
    assert_int_equal(r.status, 1);
    assert_int_equal(div_num(&r, "seq"), 88);
    assert_string_equal(
        pc_json_pointer_get(r.doc, "/divergence/fields/0/field")->valuestring,
        "sum");
    assert_string_equal(
        pc_json_pointer_get(r.doc, "/divergence/fields/0/expected")
            ->valuestring,
        "0000000000001234");
    run_free(&r);
    cJSON_Delete(lines);

    lines = cJSON_Duplicate(piles_rec.lines, true);
    cJSON *l = line_at(lines, 30);
    double draws = cJSON_GetObjectItemCaseSensitive(l, "draws")->valuedouble;
    cJSON_ReplaceItemInObjectCaseSensitive(l, "draws",
                                           cJSON_CreateNumber(draws + 1));
    write_export(path, piles_rec.base, lines);
    import_json(&r, "--rounds", "4");
    assert_int_equal(r.status, 1);
    assert_int_equal(div_num(&r, "seq"), 30);
    assert_string_equal(
        pc_json_pointer_get(r.doc, "/divergence/fields/0/field")->valuestring,
        "draws");
    run_free(&r);
    cJSON_Delete(lines);
}

/* Remove the record of seq s from a copy of the piles records. */
static cJSON *without(uint64_t s)
{
    cJSON *lines = cJSON_Duplicate(piles_rec.lines, true);
    cJSON *l;
    int i = 0;
    cJSON_ArrayForEach(l, lines)
    {
        if ((uint64_t)cJSON_GetObjectItemCaseSensitive(l, "seq")->valuedouble ==
            s) {
            cJSON_DeleteItemFromArray(lines, i);
            return lines;
        }
        i++;
    }
    fail_msg("no seq %llu", (unsigned long long)s);
    return NULL;
}

static void test_import_reports_a_removed_record_at_its_seq(void **state)
{
    (void)state;
    /* A stimulus of one change (an action): the export skips a seq. */
    uint64_t alone = 0;
    uint64_t second = 0; /* the second change of a longer stimulus */
    for (uint64_t s = 40; s < last_seq(&piles_rec) && (!alone || !second);
         s++) {
        const cJSON *l = line_at(piles_rec.lines, s);
        const cJSON *n = line_at(piles_rec.lines, s + 1);
        if (!alone && first_of(l) == s && first_of(n) == s + 1) {
            alone = s;
        }
        if (!second && first_of(l) == s - 1 && first_of(n) == s - 1) {
            second = s;
        }
    }
    assert_true(alone > 0 && second > 0);
    cJSON *lines = without(alone);
    write_export(path, piles_rec.base, lines);
    run_out r;
    import_json(&r, "--rounds", "4");
    assert_int_equal(r.status, 1);
    assert_int_equal(div_num(&r, "seq"), alone);
    assert_string_equal(div_str(&r, "problem"), "gap");
    run_free(&r);
    cJSON_Delete(lines);

    /* Inside a stimulus: the replay makes a change the export lacks. */
    lines = without(second);
    write_export(path, piles_rec.base, lines);
    import_json(&r, "--rounds", "4");
    assert_int_equal(r.status, 1);
    assert_int_equal(div_num(&r, "seq"), second);
    assert_string_equal(div_str(&r, "problem"), "extra");
    run_free(&r);
    cJSON_Delete(lines);
}

static void
test_import_reports_other_settings_where_they_first_matter(void **state)
{
    (void)state;
    write_export(path, piles_rec.base, piles_rec.lines);
    /* The game was played to 4 rounds: after round 1, --rounds 1 (or a
     * target of 1 point) ends it where the recording dealt again. */
    uint64_t next_round =
        first_transition(piles_rec.lines, "SCORING", "PREPARATION");
    run_out r;
    import_json(&r, "--rounds", "1");
    assert_int_equal(r.status, 1);
    assert_int_equal(div_num(&r, "seq"), next_round);
    assert_string_equal(
        pc_json_pointer_get(r.doc, "/divergence/fields/0/field")->valuestring,
        "phase");
    assert_string_equal(
        pc_json_pointer_get(r.doc, "/divergence/fields/0/got")->valuestring,
        "GAME_OVER");
    run_free(&r);

    const char *args[] = {path,       "--json", "--rounds", "4",
                          "--target", "1",      NULL};
    run_import(&r, args);
    assert_int_equal(r.status, 1);
    assert_int_equal(div_num(&r, "seq"), next_round);
    run_free(&r);

    /* A longer deal pause: the deal's timer is not due when the
     * recording fired it. */
    uint64_t deal =
        first_transition(piles_rec.lines, "PREPARATION", "DECLARATION");
    const char *slow[] = {path,        "--json", "--rounds", "4",
                          "--deal-ms", "5000",   NULL};
    run_import(&r, slow);
    assert_int_equal(r.status, 1);
    assert_int_equal(div_num(&r, "seq"), deal);
    assert_string_equal(div_str(&r, "problem"), "timer");
    run_free(&r);
}

static void test_import_reports_a_refused_action_at_its_seq(void **state)
{
    (void)state;
    cJSON *lines = cJSON_Duplicate(piles_rec.lines, true);
    uint64_t seq = 0;
    cJSON *l;
    cJSON_ArrayForEach(l, lines)
    {
        const cJSON *type = pc_json_pointer_get(l, "/cause/type");
        if (cJSON_IsString(type) && strcmp(type->valuestring, "declare") == 0) {
            cJSON_ReplaceItemInObjectCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(l, "cause"), "payload",
                cJSON_Parse("{\"piles\":99}"));
            seq = (uint64_t)cJSON_GetObjectItemCaseSensitive(l, "seq")
                      ->valuedouble;
            break;
        }
    }
    assert_true(seq > 0);
    write_export(path, piles_rec.base, lines);
    run_out r;
    import_json(&r, "--rounds", "4");
    assert_int_equal(r.status, 1);
    assert_int_equal(div_num(&r, "seq"), seq);
    assert_string_equal(div_str(&r, "problem"), "refused");
    assert_non_null(strstr(div_str(&r, "message"), "refused the stimulus"));
    run_free(&r);
    cJSON_Delete(lines);
}

static void test_import_replays_tictactoe_and_a_hosts_update(void **state)
{
    (void)state;
    write_export(path, ttt_rec.base, ttt_rec.lines);
    const cJSON *last = cJSON_GetArrayItem(
        ttt_rec.lines, cJSON_GetArraySize(ttt_rec.lines) - 1);
    assert_string_equal(pc_json_pointer_get(last, "/cause/kind")->valuestring,
                        "host");
    run_out r;
    const char *args[] = {path, NULL};
    run_import(&r, args);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "reproduced: room t1 (tictactoe), seqs 1.."));
    run_free(&r);

    /* The host's reason is its input: another patch is replayed as is,
     * and so it is the export's own change again. */
    cJSON *lines = cJSON_Duplicate(ttt_rec.lines, true);
    cJSON *l = cJSON_GetArrayItem(lines, cJSON_GetArraySize(lines) - 1);
    cJSON_ReplaceItemInObjectCaseSensitive(l, "patch",
                                           cJSON_Parse("{\"turn\":\"X\"}"));
    write_export(path, ttt_rec.base, lines);
    run_import(&r, args);
    assert_int_equal(r.status, 1); /* the validator refuses it */
    assert_non_null(strstr(r.out, "refused"));
    run_free(&r);
    cJSON_Delete(lines);

    /* piles options make no sense for tictactoe. */
    write_export(path, ttt_rec.base, ttt_rec.lines);
    const char *bad[] = {path, "--target", "5", NULL};
    run_import(&r, bad);
    assert_int_equal(r.status, 2);
    run_free(&r);
}

static void test_import_replays_an_export_that_begins_after_seq_0(void **state)
{
    (void)state;
    /* At a stimulus boundary: a restored room goes on from there. */
    uint64_t k = 120;
    while (first_of(line_at(piles_rec.lines, k + 1)) != k + 1) {
        k++;
    }
    cJSON *base = base_at(&piles_rec, k);
    cJSON *lines = lines_after(piles_rec.lines, k);
    write_export(path, base, lines);
    run_out r;
    import_json(&r, "--rounds", "4");
    assert_int_equal(r.status, 0);
    assert_int_equal(
        cJSON_GetObjectItemCaseSensitive(r.doc, "from")->valuedouble, k + 1);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(r.doc, "to")->valuedouble,
                     last_seq(&piles_rec));
    assert_null(cJSON_GetObjectItemCaseSensitive(r.doc, "applied"));
    run_free(&r);
    cJSON_Delete(base);
    cJSON_Delete(lines);

    /* Inside a stimulus: its rest is applied as recorded, then replayed. */
    k = 120;
    while (first_of(line_at(piles_rec.lines, k + 1)) == k + 1) {
        k++;
    }
    uint64_t to = k + 1;
    while (first_of(line_at(piles_rec.lines, to + 1)) != to + 1) {
        to++;
    }
    base = base_at(&piles_rec, k);
    lines = lines_after(piles_rec.lines, k);
    write_export(path, base, lines);
    import_json(&r, "--rounds", "4");
    assert_int_equal(r.status, 0);
    assert_int_equal(pc_json_pointer_get(r.doc, "/applied/from")->valuedouble,
                     k + 1);
    assert_int_equal(pc_json_pointer_get(r.doc, "/applied/to")->valuedouble,
                     to);
    assert_int_equal(
        cJSON_GetObjectItemCaseSensitive(r.doc, "from")->valuedouble, to + 1);
    run_free(&r);
    const char *args[] = {path, "--rounds", "4", NULL};
    run_import(&r, args);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.err, "were applied as recorded"));
    run_free(&r);
    cJSON_Delete(base);
    cJSON_Delete(lines);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_import_reproduces_a_recorded_piles_game, testalloc_setup,
            testalloc_teardown),
        cmocka_unit_test_setup_teardown(
            test_import_reports_a_changed_patch_at_its_seq, testalloc_setup,
            testalloc_teardown),
        cmocka_unit_test_setup_teardown(
            test_import_reports_a_changed_sum_and_draws_at_their_seq,
            testalloc_setup, testalloc_teardown),
        cmocka_unit_test_setup_teardown(
            test_import_reports_a_removed_record_at_its_seq, testalloc_setup,
            testalloc_teardown),
        cmocka_unit_test_setup_teardown(
            test_import_reports_other_settings_where_they_first_matter,
            testalloc_setup, testalloc_teardown),
        cmocka_unit_test_setup_teardown(
            test_import_reports_a_refused_action_at_its_seq, testalloc_setup,
            testalloc_teardown),
        cmocka_unit_test_setup_teardown(
            test_import_replays_tictactoe_and_a_hosts_update, testalloc_setup,
            testalloc_teardown),
        cmocka_unit_test_setup_teardown(
            test_import_replays_an_export_that_begins_after_seq_0,
            testalloc_setup, testalloc_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
