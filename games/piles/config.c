/*
 * config.c - piles_config: the defaults, the range check, and the
 * command-line options that set it, shared by every program that hosts
 * piles (phasecast-serve) or replays it (phasecast-inspect import), so
 * that they accept the same options with the same checks and the same
 * help text. It does not read the environment or files, and it does not
 * print: callers report a refused option in their own words.
 */
#include "piles/piles.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Two steps, so that a macro's value is turned into text. */
#define TEXT(x)  TEXT_(x)
#define TEXT_(x) #x

void piles_config_init(piles_config *c)
{
    c->declare_ms = PILES_DECLARE_MS_DEFAULT;
    c->play_ms = PILES_PLAY_MS_DEFAULT;
    c->deal_ms = PILES_DEAL_MS_DEFAULT;
    c->results_ms = PILES_RESULTS_MS_DEFAULT;
    c->scoring_ms = PILES_SCORING_MS_DEFAULT;
    c->target_score = PILES_TARGET_DEFAULT;
    c->max_rounds = PILES_ROUNDS_DEFAULT;
}

static bool delay_ok(int64_t ms)
{
    return ms >= 0 && ms <= PILES_DELAY_MAX;
}

pc_err piles_config_check(const piles_config *c)
{
    if (c == NULL || !delay_ok(c->declare_ms) || !delay_ok(c->play_ms) ||
        !delay_ok(c->deal_ms) || !delay_ok(c->results_ms) ||
        !delay_ok(c->scoring_ms) || c->target_score < 1 ||
        c->target_score > PILES_TARGET_MAX || c->max_rounds < 1 ||
        c->max_rounds > PILES_ROUNDS_MAX) {
        return PC_ERR_INVALID;
    }
    return PC_OK;
}

/* Decimal digits only (no sign, no spaces), lo..hi. Digits are counted
 * before they are added up, so no value can overflow. */
static bool number(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    size_t n = strspn(s, "0123456789");
    if (n == 0 || s[n] != '\0' || n > 12) {
        return false;
    }
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v = v * 10 + (s[i] - '0');
    }
    if (v < lo || v > hi) {
        return false;
    }
    *out = v;
    return true;
}

pc_err piles_config_option(piles_config *c, const char *name, const char *value)
{
    static const char *const delays[] = {"--declare-ms", "--play-ms",
                                         "--deal-ms", "--results-ms",
                                         "--scoring-ms"};
    if (c == NULL || name == NULL) {
        return PC_ERR_INVALID;
    }
    int64_t *fields[] = {&c->declare_ms, &c->play_ms, &c->deal_ms,
                         &c->results_ms, &c->scoring_ms};
    int64_t v = 0;
    for (size_t i = 0; i < sizeof delays / sizeof delays[0]; i++) {
        if (strcmp(name, delays[i]) == 0) {
            if (value == NULL || !number(value, 0, PILES_DELAY_MAX, &v)) {
                return PC_ERR_INVALID;
            }
            *fields[i] = v;
            return PC_OK;
        }
    }
    bool target = strcmp(name, "--target") == 0;
    if (!target && strcmp(name, "--rounds") != 0) {
        return PC_ERR_NOT_FOUND;
    }
    if (value == NULL ||
        !number(value, 1, target ? PILES_TARGET_MAX : PILES_ROUNDS_MAX, &v)) {
        return PC_ERR_INVALID;
    }
    *(target ? &c->target_score : &c->max_rounds) = (int)v;
    return PC_OK;
}

/* The defaults as text, for the help. */
#define DECLARE_MS_TEXT TEXT(PILES_DECLARE_MS_DEFAULT)
#define PLAY_MS_TEXT    TEXT(PILES_PLAY_MS_DEFAULT)
#define DEAL_MS_TEXT    TEXT(PILES_DEAL_MS_DEFAULT)
#define RESULTS_MS_TEXT TEXT(PILES_RESULTS_MS_DEFAULT)
#define SCORING_MS_TEXT TEXT(PILES_SCORING_MS_DEFAULT)
#define TARGET_TEXT     TEXT(PILES_TARGET_DEFAULT)
#define ROUNDS_TEXT     TEXT(PILES_ROUNDS_DEFAULT)

const char *piles_config_usage(void)
{
    return "  --declare-ms MS      each player's time to declare "
           "[" DECLARE_MS_TEXT "]\n"
           "  --play-ms MS         each player's time to play [" PLAY_MS_TEXT
           "]\n"
           "  --deal-ms MS         pause before each deal [" DEAL_MS_TEXT "]\n"
           "  --results-ms MS      pause after each turn [" RESULTS_MS_TEXT
           "]\n"
           "  --scoring-ms MS      pause after each round's scores "
           "[" SCORING_MS_TEXT "]\n"
           "  --target N           points that end the game [" TARGET_TEXT "]\n"
           "  --rounds N           rounds that end the game [" ROUNDS_TEXT
           "]\n";
}
