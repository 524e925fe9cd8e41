/*
 * failpoint.h - named fault-injection points for the change log's tests
 * (internal; not installed).
 *
 * The change log asks pc__failpoint("name") before each operating-system
 * call that can fail or be interrupted by a crash (a write, an fsync, a
 * rename). Normally the answer is PC__FP_PASS and the call proceeds. Tests
 * arm points with a specification, either from the environment variable
 * PHASECAST_FAILPOINTS (read once, at the first check, so a real
 * phasecast-serve can be made to crash at an exact step) or in-process with
 * pc__failpoint_configure:
 *
 *   spec   = entry *("," entry)
 *   entry  = name "=" action [ "@" n [ "+" ] ]
 *   action = "eio" | "enospc" | "short" | "crash" | "tear"
 *
 * "@n" fires on the nth hit of that point only (default 1), "@n+" on the
 * nth and every later hit. "crash" kills the process with SIGKILL on the
 * spot, as kill -9 would: no atexit handler, no flush; "tear" (writes
 * only) writes part of the bytes and then crashes, which leaves a torn
 * record as a crash during a write does. The point names are
 * listed in docs/durability.md. Checks are not thread-safe beyond what one
 * loop thread needs: arm points before other threads use the change log.
 */
#ifndef PC_FRAMEWORK_FAILPOINT_H
#define PC_FRAMEWORK_FAILPOINT_H

#include <stdbool.h>

/* What the caller of a failpoint must do. */
typedef enum pc__fp {
    PC__FP_PASS = 0,   /* proceed normally */
    PC__FP_EIO = 1,    /* fail the call as if with EIO */
    PC__FP_ENOSPC = 2, /* fail the call as if with ENOSPC */
    PC__FP_SHORT = 3,  /* writes: write part of the bytes, then fail (EIO) */
    PC__FP_TEAR = 4    /* writes: write part of the bytes, then crash */
} pc__fp;

/* pc__failpoint - count a hit of the named point and say what to do; a
 * "crash" action does not return. */
pc__fp pc__failpoint(const char *name);

/* pc__failpoint_configure - replace the armed points with spec (NULL or ""
 * disarms all) and reset the hit counters. Returns false, disarming all,
 * if spec is malformed. */
bool pc__failpoint_configure(const char *spec);

/* pc__failpoint_crash - die as "crash" does (for PC__FP_TEAR). */
_Noreturn void pc__failpoint_crash(const char *name);

/* pc__failpoint_errno - the errno value a failing action stands for. */
int pc__failpoint_errno(pc__fp fp);

#endif
