/*
 * prng.h - the room's deterministic pseudo-random generator (internal).
 *
 * xoshiro256** seeded through splitmix64 from one 64-bit seed: the seed is
 * recorded with the room, so a game replays exactly. Not cryptographic:
 * never use it for tokens or secrets.
 */
#ifndef PC_FRAMEWORK_PRNG_H
#define PC_FRAMEWORK_PRNG_H

#include <stdint.h>

/* Generator state; embedded in the room. */
typedef struct pc__prng {
    uint64_t s[4];
    uint64_t draws; /* outputs drawn since seeding, for the change log */
} pc__prng;

void pc__prng_init(pc__prng *p, uint64_t seed);
uint64_t pc__prng_next(pc__prng *p);
/* Advance by n outputs, as n calls of pc__prng_next would. */
void pc__prng_skip(pc__prng *p, uint64_t n);
/* Uniform in [0, bound) by rejection; bound 0 gives 0. */
uint64_t pc__prng_below(pc__prng *p, uint64_t bound);

#endif
