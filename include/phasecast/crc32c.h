/*
 * phasecast/crc32c.h - CRC-32C (Castagnoli), the checksum of change-log
 * frames.
 *
 * CRC-32C as iSCSI (RFC 3720, appendix B.4) and ext4 use it: reflected
 * polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF. It is here
 * so that tools reading change logs (see changelog.h and
 * docs/durability.md) can check frames without a second implementation.
 * It detects accidental damage (torn writes, flipped bits); it is not a
 * cryptographic hash and does not resist deliberate tampering.
 */
#ifndef PHASECAST_CRC32C_H
#define PHASECAST_CRC32C_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * pc_crc32c - the CRC-32C of n bytes at data, continuing from crc: pass 0
 * to start, and the previous result to continue, so that
 * pc_crc32c(pc_crc32c(0, a, na), b, nb) equals the CRC of a followed by b.
 * data may be NULL when n is 0. Pure; any thread.
 */
uint32_t pc_crc32c(uint32_t crc, const void *data, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* PHASECAST_CRC32C_H */
