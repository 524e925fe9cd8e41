/*
 * crc32c.c - CRC-32C by "slicing by 8": eight 256-entry tables let the loop
 * fold eight input bytes per step instead of one, about five times faster
 * than the classic byte-wise table on the records the change log writes.
 * The tables are computed once, on first use, under call_once, so any
 * thread may call pc_crc32c. Byte order matters only when loading eight
 * bytes at a time; they are assembled little-endian by hand, so the result
 * is the same on every platform. No hardware CRC instruction is used.
 */
#include "phasecast/crc32c.h"

#include <threads.h>

/* The reflected Castagnoli polynomial. */
#define POLY UINT32_C(0x82F63B78)

static uint32_t table[8][256];
static once_flag table_once = ONCE_FLAG_INIT;

static void table_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
        }
        table[0][i] = c;
    }
    /* table[k][i] is the CRC of byte i followed by k zero bytes. */
    for (uint32_t i = 0; i < 256; i++) {
        for (int k = 1; k < 8; k++) {
            uint32_t prev = table[k - 1][i];
            table[k][i] = (prev >> 8) ^ table[0][prev & 0xff];
        }
    }
}

uint32_t pc_crc32c(uint32_t crc, const void *data, size_t n)
{
    const unsigned char *p = data;
    call_once(&table_once, table_init);
    crc = ~crc;
    while (n >= 8) {
        uint32_t lo = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
                      (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        lo ^= crc;
        crc = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^
              table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^
              table[3][p[4]] ^ table[2][p[5]] ^ table[1][p[6]] ^ table[0][p[7]];
        p += 8;
        n -= 8;
    }
    while (n-- > 0) {
        crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
    }
    return ~crc;
}
