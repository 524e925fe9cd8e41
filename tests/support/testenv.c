/*
 * testenv.c - the valgrind switch, the deadline clock and the descriptor
 * limit of testenv.h.
 */
/* clock_gettime */
#define _POSIX_C_SOURCE 200809L

#include "testenv.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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

bool testenv_need_fds(long n, long *have)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        *have = 0;
        return false;
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)n) {
        rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (rlim_t)n
                          ? (rlim_t)n
                          : rl.rlim_max;
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0 ||
            getrlimit(RLIMIT_NOFILE, &rl) != 0) {
            *have = 0;
            return false;
        }
    }
    *have = rl.rlim_cur == RLIM_INFINITY ? n : (long)rl.rlim_cur;
    return *have >= n;
}
