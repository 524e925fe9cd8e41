/*
 * phasecast/alloc.h - the one allocation hook table.
 *
 * Every allocation phasecast makes, and every allocation cJSON makes on its
 * behalf, goes through the three functions installed here. Tests use this to
 * fail the Nth allocation and to count leaks; embedders use it to route
 * memory to their own allocator. The table is process-wide, like cJSON's own
 * hooks, because cJSON offers nothing finer: install it once, before the
 * first room, JSON tree or socket exists, and never while other threads use
 * phasecast.
 */
#ifndef PHASECAST_ALLOC_H
#define PHASECAST_ALLOC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The allocator. All three members must be set; semantics follow libc. */
typedef struct pc_allocator {
    void *(*malloc_fn)(size_t size);
    void *(*realloc_fn)(void *ptr, size_t size);
    void (*free_fn)(void *ptr);
} pc_allocator;

/*
 * pc_set_allocator - install a (or, with NULL, restore the libc) allocator
 * for phasecast and cJSON. The table is copied. Must not be called while any
 * phasecast object or cJSON tree allocated with the previous allocator is
 * alive, nor concurrently with any other phasecast call.
 */
void pc_set_allocator(const pc_allocator *a);

/*
 * pc_malloc, pc_realloc, pc_free - allocate through the installed table.
 * Memory phasecast hands to the caller (for example text from
 * pc_canon_print) is freed with pc_free. pc_free(NULL) does nothing.
 * Any thread.
 */
void *pc_malloc(size_t size);
void *pc_realloc(void *ptr, size_t size);
void pc_free(void *ptr);

/* pc_strdup - copy of s through pc_malloc, or NULL when out of memory. */
char *pc_strdup(const char *s);

#ifdef __cplusplus
}
#endif

#endif /* PHASECAST_ALLOC_H */
