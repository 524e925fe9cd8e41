/*
 * testalloc.h - a counting, failable allocator for tests (not installed).
 *
 * Installs itself as phasecast's allocator (and so cJSON's) and counts live
 * blocks, so a test can assert that a failed call leaked nothing, and can
 * make the Nth allocation from now fail, once or persistently, to walk every
 * allocation point of an operation. Single-threaded tests only.
 */
#ifndef PC_TESTALLOC_H
#define PC_TESTALLOC_H

#include <stdbool.h>
#include <stddef.h>

/* Install the counting allocator (idempotent). */
void testalloc_install(void);
/* Restore libc allocation. All blocks allocated while installed must be
 * freed first. */
void testalloc_uninstall(void);
/* Blocks allocated through the hook and not yet freed. */
size_t testalloc_live(void);
/* Allocations attempted since install. */
size_t testalloc_calls(void);
/* Make the nth allocation from now (1 = the next one) fail; when
 * persistent, every allocation from then on fails too. 0 disarms. */
void testalloc_fail_at(size_t nth, bool persistent);
/* True if an armed failure has triggered since the last fail_at. */
bool testalloc_failed(void);

/* cmocka per-test fixtures: setup installs the allocator and notes the
 * live blocks; teardown fails the test (non-zero) if more are live, so a
 * test that failed mid-way and leaked does not make later tests fail. */
int testalloc_setup(void **state);
int testalloc_teardown(void **state);

#endif
