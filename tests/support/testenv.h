/*
 * testenv.h - what the test run looks like from inside a test (not
 * installed): whether it runs under valgrind, a monotonic clock for
 * deadlines, and the descriptor limit.
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

/* Make sure this process may hold at least n descriptors at once: raise
 * the soft RLIMIT_NOFILE up to the hard limit if it is lower (many
 * machines start processes with a soft limit of 1024). True if n fit;
 * false, with *have set to the most the hard limit allows, if not. Tests
 * that open thousands of connections in one process call it first, so a
 * low limit fails them with a clear message, not at a random socket().
 * Under valgrind the hard limit is the soft limit valgrind was started
 * with (it keeps the rest for itself): raise that before valgrind. */
bool testenv_need_fds(long n, long *have);

#endif
