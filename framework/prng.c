/*
 * prng.c - xoshiro256** with splitmix64 seeding (public-domain algorithms
 * by Blackman and Vigna, written here from their published description).
 * Deterministic across platforms: only 64-bit integer arithmetic.
 */
#include "prng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void pc__prng_init(pc__prng *p, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) {
        p->s[i] = splitmix64(&x);
    }
    p->draws = 0;
}

uint64_t pc__prng_next(pc__prng *p)
{
    uint64_t *s = p->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    p->draws++;
    return result;
}

void pc__prng_skip(pc__prng *p, uint64_t n)
{
    while (n-- > 0) {
        (void)pc__prng_next(p);
    }
}

uint64_t pc__prng_below(pc__prng *p, uint64_t bound)
{
    if (bound == 0) {
        return 0;
    }
    /* Reject the top partial block so every value in [0, bound) is equally
     * likely: limit is the largest multiple of bound that fits. */
    uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
    uint64_t r;
    do {
        r = pc__prng_next(p);
    } while (r >= limit);
    return r % bound;
}
