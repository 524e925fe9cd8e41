/*
 * alloc.c - the process-wide allocation hook table shared with cJSON.
 *
 * phasecast allocates only through pc_malloc/pc_realloc/pc_free, and
 * pc_set_allocator hands the same functions to cJSON_InitHooks, so one table
 * sees every block a room owns. This is not a pool or an arena, and it does
 * not make allocation thread-safe beyond what the installed functions are.
 */
#include "phasecast/alloc.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static pc_allocator current = {malloc, realloc, free};

void pc_set_allocator(const pc_allocator *a)
{
    if (a == NULL || a->malloc_fn == NULL || a->realloc_fn == NULL ||
        a->free_fn == NULL) {
        current.malloc_fn = malloc;
        current.realloc_fn = realloc;
        current.free_fn = free;
        /* NULL restores cJSON's libc defaults, including its use of
         * realloc when printing. */
        cJSON_InitHooks(NULL);
        return;
    }
    current = *a;
    cJSON_Hooks hooks = {current.malloc_fn, current.free_fn};
    cJSON_InitHooks(&hooks);
}

void *pc_malloc(size_t size)
{
    return current.malloc_fn(size == 0 ? 1 : size);
}

void *pc_realloc(void *ptr, size_t size)
{
    return current.realloc_fn(ptr, size == 0 ? 1 : size);
}

void pc_free(void *ptr)
{
    if (ptr != NULL) {
        current.free_fn(ptr);
    }
}

char *pc_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = pc_malloc(n);
    if (p != NULL) {
        memcpy(p, s, n);
    }
    return p;
}
