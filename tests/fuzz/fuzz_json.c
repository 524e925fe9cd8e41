/*
 * fuzz_json.c - libFuzzer target: the project's checked JSON parser
 * (pc_json_parse) on the exact, non-NUL-terminated input.
 *
 * Properties, checked on every input:
 *  - a failure is PC_ERR_INVALID or PC_ERR_LIMIT with a message, and
 *    writes no tree;
 *  - a success gives a tree that passes pc_json_check under the same
 *    limits, whose canonical text parses back (pc_json_parse again) to an
 *    equal tree (pc_json_equal) with the same canonical text and checksum;
 *  - tighter limits never accept what the defaults refuse.
 * It does not test cJSON's own printer (the project never prints
 * untrusted trees with it) nor the merge patch (fuzz_merge).
 */
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/json.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cJSON *parse(const char *text, size_t len, const pc_json_limits *lim,
                    pc_err *rc_out)
{
    cJSON *doc = NULL;
    pc_error e = {0};
    pc_err rc = pc_json_parse(text, len, lim, &doc, &e);
    if (rc == PC_OK) {
        FZ_CHECK(doc != NULL, "PC_OK without a tree");
        FZ_CHECK(e.err == PC_OK, "PC_OK with an error held (%s)", e.message);
    } else {
        FZ_CHECK(doc == NULL, "a failed parse (%d) wrote a tree", (int)rc);
        FZ_CHECK(rc == PC_ERR_INVALID || rc == PC_ERR_LIMIT,
                 "parse failed with %s", pc_err_name(rc));
        FZ_CHECK(e.err == rc && e.message[0] != '\0',
                 "failure %s without its message", pc_err_name(rc));
    }
    *rc_out = rc;
    return doc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    pc_json_limits lim, tight, wide;
    pc_json_limits_resolve(NULL, &lim);
    tight = lim;
    tight.max_depth = 4;
    tight.max_string = 16;
    tight.max_nodes = 64;
    wide = lim;
    wide.max_bytes = SIZE_MAX;

    pc_err rc, trc;
    cJSON *doc = parse(text, size, &lim, &rc);
    cJSON *small = parse(text, size, &tight, &trc);
    FZ_CHECK(trc != PC_OK || rc == PC_OK,
             "tight limits accepted what the defaults refuse");
    if (small != NULL) {
        FZ_CHECK(pc_json_equal(doc, small), "tight parse differs");
        cJSON_Delete(small);
    }
    if (doc == NULL) {
        return 0;
    }
    FZ_CHECK(pc_json_check(doc, &lim, NULL) == PC_OK,
             "a parsed tree fails pc_json_check");

    char *canon = NULL;
    size_t clen = 0;
    FZ_CHECK(pc_canon_print(doc, &canon, &clen) == PC_OK,
             "canonical print failed");
    FZ_CHECK(strlen(canon) == clen, "canonical text has a NUL byte");
    uint64_t sum = 0, sum2 = 0;
    size_t slen = 0;
    FZ_CHECK(pc_canon_checksum(doc, &sum, &slen) == PC_OK && slen == clen,
             "checksum length %zu, canonical %zu", slen, clen);

    /* The round trip, from an exact-size copy without the NUL. */
    char *exact = fz_copy(canon, clen);
    cJSON *back = parse(exact, clen, &wide, &rc);
    FZ_CHECK(back != NULL, "canonical text does not parse back: %s", canon);
    FZ_CHECK(pc_json_equal(doc, back), "round trip differs: %s", canon);
    char *canon2 = NULL;
    size_t clen2 = 0;
    FZ_CHECK(pc_canon_print(back, &canon2, &clen2) == PC_OK && clen2 == clen &&
                 memcmp(canon, canon2, clen) == 0,
             "canonical text is not a fixed point: %s", canon);
    FZ_CHECK(pc_canon_checksum(back, &sum2, NULL) == PC_OK && sum == sum2,
             "checksum changed over the round trip");

    pc_free(canon2);
    cJSON_Delete(back);
    free(exact);
    pc_free(canon);
    cJSON_Delete(doc);
    return 0;
}
