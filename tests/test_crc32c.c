/*
 * test_crc32c.c - CRC-32C against the vectors of RFC 3720 appendix B.4 and
 * the usual "123456789" check value, and incremental use.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "phasecast/crc32c.h"

static void test_crc32c_check_value_of_123456789(void **state)
{
    (void)state;
    assert_int_equal(pc_crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(pc_crc32c(0, NULL, 0), 0);
}

static void test_crc32c_matches_rfc3720_vectors(void **state)
{
    (void)state;
    unsigned char b[32];
    memset(b, 0, sizeof(b));
    assert_int_equal(pc_crc32c(0, b, 32), 0x8A9136AAu);
    memset(b, 0xff, sizeof(b));
    assert_int_equal(pc_crc32c(0, b, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++) {
        b[i] = (unsigned char)i;
    }
    assert_int_equal(pc_crc32c(0, b, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++) {
        b[i] = (unsigned char)(31 - i);
    }
    assert_int_equal(pc_crc32c(0, b, 32), 0x113FDB5Cu);
    /* An iSCSI read command PDU. */
    static const unsigned char pdu[48] = {
        0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
        0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    assert_int_equal(pc_crc32c(0, pdu, sizeof(pdu)), 0xD9963A56u);
}

static void test_crc32c_in_pieces_equals_crc32c_at_once(void **state)
{
    (void)state;
    unsigned char b[1000];
    for (size_t i = 0; i < sizeof(b); i++) {
        b[i] = (unsigned char)(i * 7 + 3);
    }
    uint32_t whole = pc_crc32c(0, b, sizeof(b));
    for (size_t cut = 0; cut <= sizeof(b); cut += 37) {
        uint32_t c = pc_crc32c(0, b, cut);
        assert_int_equal(pc_crc32c(c, b + cut, sizeof(b) - cut), whole);
    }
    /* Unaligned starts take the same path as aligned ones. */
    assert_int_equal(pc_crc32c(0, b + 1, 9),
                     pc_crc32c(pc_crc32c(0, b + 1, 4), b + 5, 5));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c_check_value_of_123456789),
        cmocka_unit_test(test_crc32c_matches_rfc3720_vectors),
        cmocka_unit_test(test_crc32c_in_pieces_equals_crc32c_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
