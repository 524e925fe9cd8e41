/*
 * testalloc.c - counting, failable allocator for tests. Blocks carry a small
 * header with their size so realloc can be emulated through malloc; this
 * lets a failure injected into a realloc behave like the real one (the old
 * block is kept).
 */
#include "testalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasecast/alloc.h"

typedef struct header {
    size_t size;
    size_t magic;
} header;

#define MAGIC ((size_t)0x70636173u)

static size_t live_blocks;
static size_t calls;
static size_t fail_countdown;
static bool fail_persistent;
static bool fail_triggered;
static bool installed;

static bool should_fail(void)
{
    calls++;
    if (fail_countdown == 0) {
        return false;
    }
    if (fail_countdown == 1) {
        fail_triggered = true;
        if (!fail_persistent) {
            fail_countdown = 0;
        }
        return true;
    }
    fail_countdown--;
    return false;
}

static void *t_malloc(size_t n)
{
    if (should_fail()) {
        return NULL;
    }
    header *h = malloc(sizeof(*h) + n);
    if (h == NULL) {
        return NULL;
    }
    h->size = n;
    h->magic = MAGIC;
    live_blocks++;
    return h + 1;
}

static void t_free(void *p)
{
    if (p == NULL) {
        return;
    }
    header *h = (header *)p - 1;
    if (h->magic != MAGIC) {
        abort(); /* freed something the hook did not allocate */
    }
    h->magic = 0;
    live_blocks--;
    free(h);
}

static void *t_realloc(void *p, size_t n)
{
    if (p == NULL) {
        return t_malloc(n);
    }
    void *q = t_malloc(n);
    if (q == NULL) {
        return NULL;
    }
    header *h = (header *)p - 1;
    memcpy(q, p, h->size < n ? h->size : n);
    t_free(p);
    return q;
}

void testalloc_install(void)
{
    if (installed) {
        return;
    }
    pc_allocator a = {t_malloc, t_realloc, t_free};
    pc_set_allocator(&a);
    installed = true;
    live_blocks = 0;
    calls = 0;
    fail_countdown = 0;
}

void testalloc_uninstall(void)
{
    if (!installed) {
        return;
    }
    pc_set_allocator(NULL);
    installed = false;
}

size_t testalloc_live(void)
{
    return live_blocks;
}

size_t testalloc_calls(void)
{
    return calls;
}

void testalloc_fail_at(size_t nth, bool persistent)
{
    fail_countdown = nth;
    fail_persistent = persistent;
    fail_triggered = false;
}

bool testalloc_failed(void)
{
    return fail_triggered;
}

static size_t baseline;

int testalloc_setup(void **state)
{
    (void)state;
    testalloc_install();
    baseline = live_blocks;
    return 0;
}

int testalloc_teardown(void **state)
{
    (void)state;
    if (live_blocks != baseline) {
        fprintf(stderr, "testalloc: the test leaked %zu block(s)\n",
                live_blocks - baseline);
        baseline = live_blocks;
        return -1;
    }
    return 0;
}
