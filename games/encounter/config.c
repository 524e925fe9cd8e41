/*
 * config.c - encounter_config: the defaults, the range check, and the
 * command-line options that set it, shared by every program that hosts
 * encounter (phasecast-serve) or replays it, so that they accept the same
 * options with the same checks and the same help text. It does not read
 * the environment or files, and it does not print: callers report a
 * refused option in their own words.
 */
#include "encounter/encounter.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Two steps, so that a macro's value is turned into text. */
#define TEXT(x)  TEXT_(x)
#define TEXT_(x) #x

void encounter_config_init(encounter_config *c)
{
    c->round_ms = ENCOUNTER_ROUND_MS_DEFAULT;
    c->resolution_ms = ENCOUNTER_RESOLUTION_MS_DEFAULT;
    c->max_rounds = ENCOUNTER_MAX_ROUNDS_DEFAULT;
    c->max_heroes = ENCOUNTER_MAX_HEROES_DEFAULT;
}

static bool delay_ok(int64_t ms)
{
    return ms >= 0 && ms <= ENCOUNTER_DELAY_MAX;
}

pc_err encounter_config_check(const encounter_config *c)
{
    if (c == NULL || !delay_ok(c->round_ms) || !delay_ok(c->resolution_ms) ||
        c->max_rounds < 1 || c->max_rounds > ENCOUNTER_ROUNDS_MAX ||
        c->max_heroes < 1 || c->max_heroes > ENCOUNTER_HEROES_MAX) {
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

pc_err encounter_config_option(encounter_config *c, const char *name,
                               const char *value)
{
    if (c == NULL || name == NULL) {
        return PC_ERR_INVALID;
    }
    int64_t v = 0;
    bool round = strcmp(name, "--round-ms") == 0;
    if (round || strcmp(name, "--resolution-ms") == 0) {
        if (value == NULL || !number(value, 0, ENCOUNTER_DELAY_MAX, &v)) {
            return PC_ERR_INVALID;
        }
        *(round ? &c->round_ms : &c->resolution_ms) = v;
        return PC_OK;
    }
    bool rounds = strcmp(name, "--max-rounds") == 0;
    if (!rounds && strcmp(name, "--max-heroes") != 0) {
        return PC_ERR_NOT_FOUND;
    }
    if (value == NULL ||
        !number(value, 1, rounds ? ENCOUNTER_ROUNDS_MAX : ENCOUNTER_HEROES_MAX,
                &v)) {
        return PC_ERR_INVALID;
    }
    *(rounds ? &c->max_rounds : &c->max_heroes) = (int)v;
    return PC_OK;
}

/* The defaults as text, for the help. */
#define ROUND_MS_TEXT      TEXT(ENCOUNTER_ROUND_MS_DEFAULT)
#define RESOLUTION_MS_TEXT TEXT(ENCOUNTER_RESOLUTION_MS_DEFAULT)
#define MAX_ROUNDS_TEXT    TEXT(ENCOUNTER_MAX_ROUNDS_DEFAULT)
#define MAX_HEROES_TEXT    TEXT(ENCOUNTER_MAX_HEROES_DEFAULT)

const char *encounter_config_usage(void)
{
    return "  --round-ms MS        each round's time to act; then who did "
           "not act defends [" ROUND_MS_TEXT "]\n"
           "  --resolution-ms MS   pause after the monsters strike back "
           "[" RESOLUTION_MS_TEXT "]\n"
           "  --max-rounds N       rounds before the heroes are defeated "
           "[" MAX_ROUNDS_TEXT "]\n"
           "  --max-heroes N       heroes who may join [" MAX_HEROES_TEXT "]\n";
}
