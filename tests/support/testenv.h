/*
 * testenv.h - what the test run looks like from inside a test (not
 * installed): whether it runs under valgrind, and a monotonic clock for
 * deadlines.
 *
 * scripts/valgrind sets PHASECAST_VALGRIND=1, where everything runs 20-50
 * times slower; tests that depend on volume or timing shrink their work
 * and stretch their deadlines then. Nothing here sleeps.
 */
#ifndef PC_TESTENV_H
#define PC_TESTENV_H

#include <stdbool.h>
#include <stdint.h>

/* True when PHASECAST_VALGRIND is set to anything but "" or "0". */
bool testenv_under_valgrind(void);

/* n, or a tenth of it (rounded up) under valgrind. */
int testenv_scale(int n);

/* CLOCK_MONOTONIC in milliseconds, for deadlines. */
int64_t testenv_mono_ms(void);

#endif
