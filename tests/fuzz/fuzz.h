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
static void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2),
                                                         noreturn, unused));
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

#endif
