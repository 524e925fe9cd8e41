/*
 * fuzz.h - what every libFuzzer target in tests/fuzz shares: a loud
 * abort when a property fails, and exact-size copies of input slices.
 *
 * A property failure prints what broke and aborts, which libFuzzer reports
 * as a crash and saves the input as an artifact (docs/testing.md,
 * "Fuzzing"). Copies are made with malloc at exactly the slice's length,
 * so ASan reports any read past the end of a slice, as it does for the
 * whole input libFuzzer hands over. Static functions only; each target
 * gets its own copy. Not a test framework, not installed.
 */
#ifndef PC_FUZZ_H
#define PC_FUZZ_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Print "fuzz property failed: ..." and abort (a libFuzzer crash). */
static void fz_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn, unused));
static void fz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz property failed: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

#define FZ_CHECK(cond, ...)                                                    \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fz_fail(__VA_ARGS__);                                              \
        }                                                                      \
    } while (0)

/* An exact-size heap copy of n bytes (n may be 0: a 1-byte allocation that
 * is never read). Freed with free. Aborts when out of memory. */
static char *fz_copy(const void *p, size_t n) __attribute__((unused));
static char *fz_copy(const void *p, size_t n)
{
    char *c = malloc(n == 0 ? 1 : n);
    if (c == NULL) {
        fz_fail("out of memory copying %zu bytes", n);
    }
    if (n != 0) {
        memcpy(c, p, n);
    }
    return c;
}

/* Where sep (seplen bytes) next occurs in p[0..n), or n. */
static size_t fz_find(const char *p, size_t n, const char *sep, size_t seplen)
    __attribute__((unused));
static size_t fz_find(const char *p, size_t n, const char *sep, size_t seplen)
{
    for (size_t i = 0; seplen <= n && i <= n - seplen; i++) {
        if (memcmp(p + i, sep, seplen) == 0) {
            return i;
        }
    }
    return n;
}

/*
 * A failable allocator for phasecast and cJSON (pc_set_allocator): plain
 * libc underneath, so ASan still sees every block. fz_alloc_fail_at(n)
 * makes the nth allocation from now fail (and, when persistent, every one
 * after it); fz_alloc_calls counts allocations since the last arming.
 */
#include "phasecast/alloc.h"

static size_t fz_alloc_countdown, fz_alloc_count;
static int fz_alloc_persistent, fz_alloc_triggered;

static int fz_alloc_should_fail(void)
{
    fz_alloc_count++;
    if (fz_alloc_countdown == 0) {
        return 0;
    }
    if (fz_alloc_countdown == 1) {
        fz_alloc_triggered = 1;
        if (!fz_alloc_persistent) {
            fz_alloc_countdown = 0;
        }
        return 1;
    }
    fz_alloc_countdown--;
    return 0;
}

static void *fz_malloc(size_t n)
{
    return fz_alloc_should_fail() ? NULL : malloc(n);
}

static void *fz_realloc(void *p, size_t n)
{
    return fz_alloc_should_fail() ? NULL : realloc(p, n);
}

static void fz_alloc_install(void) __attribute__((unused));
static void fz_alloc_install(void)
{
    static const pc_allocator a = {fz_malloc, fz_realloc, free};
    pc_set_allocator(&a);
}

/* Arm (nth >= 1) or disarm (0) a failure; resets the counters. */
static void fz_alloc_fail_at(size_t nth, int persistent)
    __attribute__((unused));
static void fz_alloc_fail_at(size_t nth, int persistent)
{
    fz_alloc_countdown = nth;
    fz_alloc_persistent = persistent;
    fz_alloc_triggered = 0;
    fz_alloc_count = 0;
}

/* FNV-1a of the input, to pick a failure point deterministically. */
static uint64_t fz_hash(const void *p, size_t n) __attribute__((unused));
static uint64_t fz_hash(const void *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ ((const unsigned char *)p)[i]) * 0x100000001b3u;
    }
    return h;
}
#endif
