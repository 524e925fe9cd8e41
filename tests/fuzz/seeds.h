/*
 * seeds.h - what the parts of pc-fuzz-make-seeds share (make_seeds.c,
 * seeds_arena.c, seeds_client.c): a growable byte string, writing a seed
 * file, and playing request bodies through reqhost.c's server while
 * recording them as one fuzz_request seed. Not installed; aborts on any
 * failure (FZ_CHECK).
 */
#ifndef PC_FUZZ_SEEDS_H
#define PC_FUZZ_SEEDS_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* A growable byte string, NUL-terminated after n; zero-initialise. */
typedef struct str {
    char *p;
    size_t n, cap;
} str;

void add(str *s, const void *p, size_t n);
void addf(str *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rep(str *s, const char *p, size_t times);
/* Write the seed DIR/target/name. */
void put(const char *target, const char *name, const void *p, size_t n);

/* A fresh reqhost (fzr_reset) and an empty recorded seed. */
void req_begin(void);
/* Answer one body (with placeholders) as fuzz_request would, record it
 * in the seed, run the loop once; the parsed reply (cJSON_Delete). */
cJSON *ask(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* ask, and abort unless the reply is ok. */
void ask_ok(const char *body);
/* Write the recorded seed as fuzz_request/name; req_free forgets it. */
void req_end(const char *name);
void req_free(void);

/* The arena and encounter seeds of fuzz_request (seeds_arena.c). */
void arena_seeds(void);
/* The seeds of fuzz_client (seeds_client.c). */
void client_seeds(void);

#endif
