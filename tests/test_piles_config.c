/*
 * test_piles_config.c - piles_config: the defaults, the range check and
 * the command-line options every piles host shares (piles_config_option,
 * piles_config_usage).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "piles/piles.h"

static void test_config_defaults_pass_the_check(void **state)
{
    (void)state;
    piles_config c;
    piles_config_init(&c);
    assert_int_equal(piles_config_check(&c), PC_OK);
    assert_int_equal(c.declare_ms, PILES_DECLARE_MS_DEFAULT);
    assert_int_equal(c.target_score, PILES_TARGET_DEFAULT);
    assert_int_equal(c.max_rounds, PILES_ROUNDS_DEFAULT);
    assert_int_equal(piles_config_check(NULL), PC_ERR_INVALID);
}

static void test_config_option_sets_each_member(void **state)
{
    (void)state;
    piles_config c;
    piles_config_init(&c);
    assert_int_equal(piles_config_option(&c, "--declare-ms", "1"), PC_OK);
    assert_int_equal(piles_config_option(&c, "--play-ms", "2"), PC_OK);
    assert_int_equal(piles_config_option(&c, "--deal-ms", "0"), PC_OK);
    assert_int_equal(piles_config_option(&c, "--results-ms", "4"), PC_OK);
    assert_int_equal(piles_config_option(&c, "--scoring-ms", "86400000"),
                     PC_OK);
    assert_int_equal(piles_config_option(&c, "--target", "10000"), PC_OK);
    assert_int_equal(piles_config_option(&c, "--rounds", "1"), PC_OK);
    assert_int_equal(c.declare_ms, 1);
    assert_int_equal(c.play_ms, 2);
    assert_int_equal(c.deal_ms, 0);
    assert_int_equal(c.results_ms, 4);
    assert_int_equal(c.scoring_ms, PILES_DELAY_MAX);
    assert_int_equal(c.target_score, PILES_TARGET_MAX);
    assert_int_equal(c.max_rounds, 1);
    assert_int_equal(piles_config_check(&c), PC_OK);
}

static void
test_config_option_refuses_bad_values_and_changes_nothing(void **state)
{
    (void)state;
    static const char *const bad[][2] = {{"--declare-ms", "-1"},
                                         {"--declare-ms", "86400001"},
                                         {"--play-ms", ""},
                                         {"--deal-ms", "1x"},
                                         {"--results-ms", " 5"},
                                         {"--scoring-ms", "+5"},
                                         {"--target", "0"},
                                         {"--target", "10001"},
                                         {"--rounds", "0"},
                                         {"--rounds", "1001"},
                                         {"--rounds", "99999999999999999999"},
                                         {"--target", NULL}};
    piles_config c;
    piles_config_init(&c);
    piles_config before = c;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(piles_config_option(&c, bad[i][0], bad[i][1]),
                         PC_ERR_INVALID);
        assert_memory_equal(&c, &before, sizeof c);
    }
    assert_int_equal(piles_config_option(&c, "--seed", "5"), PC_ERR_NOT_FOUND);
    assert_int_equal(piles_config_option(&c, NULL, "5"), PC_ERR_INVALID);
    assert_int_equal(piles_config_option(NULL, "--target", "5"),
                     PC_ERR_INVALID);
    assert_memory_equal(&c, &before, sizeof c);
}

static void test_config_usage_names_every_option_with_its_default(void **state)
{
    (void)state;
    const char *u = piles_config_usage();
    assert_non_null(strstr(u, "--declare-ms MS"));
    assert_non_null(strstr(u, "--play-ms MS"));
    assert_non_null(strstr(u, "--deal-ms MS"));
    assert_non_null(strstr(u, "--results-ms MS"));
    assert_non_null(strstr(u, "--scoring-ms MS"));
    assert_non_null(strstr(u, "--target N"));
    assert_non_null(strstr(u, "--rounds N"));
    assert_non_null(strstr(u, "[30000]"));
    assert_non_null(strstr(u, "[50]"));
    assert_non_null(strstr(u, "[20]"));
    assert_int_equal(u[strlen(u) - 1], '\n');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults_pass_the_check),
        cmocka_unit_test(test_config_option_sets_each_member),
        cmocka_unit_test(
            test_config_option_refuses_bad_values_and_changes_nothing),
        cmocka_unit_test(test_config_usage_names_every_option_with_its_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
