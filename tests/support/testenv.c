/*
 * testenv.c - the valgrind switch and the deadline clock of testenv.h.
 */
/* clock_gettime */
#define _POSIX_C_SOURCE 200809L

#include "testenv.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

bool testenv_under_valgrind(void)
{
    const char *vg = getenv("PHASECAST_VALGRIND");
    return vg != NULL && vg[0] != '\0' && strcmp(vg, "0") != 0;
}

int testenv_scale(int n)
{
    return testenv_under_valgrind() ? (n + 9) / 10 : n;
}

int64_t testenv_mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}
