/*
 * checksum_example.c - canonical text and the 64-bit structural state
 * checksum, on the worked vectors of docs/reference/canon.md, and the same
 * checksum as a room reports it for its state and in its change records.
 *
 * If this program passes, the vectors printed in canon.md are what the
 * library computes; a client in another language can test its own
 * implementation against the same table. Exits non-zero on any mismatch.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/change.h"
#include "phasecast/error.h"
#include "phasecast/history.h"
#include "phasecast/json.h"
#include "phasecast/room.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
            return 1;                                                          \
        }                                                                      \
    } while (0)

/* One row of the table in canon.md. */
typedef struct vector {
    const char *document;  /* any JSON text */
    const char *canonical; /* its canonical text (UTF-8) */
    uint64_t checksum;     /* structural checksum of the document */
} vector;

static const vector vectors[] = {
    {"{}", "{}", UINT64_C(0x0ff2e69699c4857e)},
    {"{\"phase\": \"WAITING\", \"data\": {}}",
     "{\"data\":{},\"phase\":\"WAITING\"}", UINT64_C(0x3780fac34901b503)},
    {"{\n  \"phase\": \"PLAYING\",\n"
     "  \"data\": {\"turn\": \"X\", \"board\": [\"X\", \"\", \"O\"]}\n}",
     "{\"data\":{\"board\":[\"X\",\"\",\"O\"],\"turn\":\"X\"},"
     "\"phase\":\"PLAYING\"}",
     UINT64_C(0x74a5a715379ddaa8)},
    {"{\"z\": \"say \\\"hi\\\"\\\\n\", \"b\": 1.50, \"a\": -0.0,"
     " \"\\u00e9\": \"tab\\there\", \"A\": [0.1, 1e-7, 100, 2.5e-3, 1e16,"
     " 12345678901234567890, true, null]}",
     "{\"A\":[0.1,1e-07,100,0.0025,1e+16,1.2345678901234567e+19,true,null],"
     "\"a\":0,\"b\":1.5,\"z\":\"say \\\"hi\\\"\\\\n\","
     "\"\xc3\xa9\":\"tab\\there\"}",
     UINT64_C(0x01d5ed32e0fa514e)},
    {"[0.125, -1.5, 1e21, 1152921504606846976, 0.30000000000000004, 5e-324,"
     " 9007199254740993, -0.0, 100000000000000000000]",
     "[0.125,-1.5,1e+21,1.152921504606847e+18,0.30000000000000004,5e-324,"
     "9007199254740992,0,1e+20]",
     UINT64_C(0x944ed61e39b90c1a)},
};

static int check_vector(const vector *v)
{
    cJSON *doc = NULL;
    pc_error e = {0};
    if (pc_json_parse(v->document, strlen(v->document), NULL, &doc, &e) !=
        PC_OK) {
        fprintf(stderr, "parse: %s\n", e.message);
        return 0;
    }
    char *text = NULL;
    size_t len = 0;
    uint64_t sum = 0;
    size_t sum_len = 0;
    int ok = pc_canon_print(doc, &text, &len) == PC_OK &&
             pc_canon_checksum(doc, &sum, &sum_len) == PC_OK &&
             strcmp(text, v->canonical) == 0 && len == strlen(v->canonical) &&
             sum_len == len && sum == v->checksum;
    if (text != NULL) {
        printf("%s -> %016" PRIx64 "\n", text, sum);
    }
    pc_free(text); /* canonical text is freed with pc_free */
    cJSON_Delete(doc);
    return ok;
}

/* A sink that remembers the checksum of the last change it saw. */
static void remember(pc_room *room, const pc_change *c, void *arg)
{
    (void)room;
    *(uint64_t *)arg = c->checksum;
}

static const pc_phase phases[] = {{.name = "WAITING"}, {.name = "PLAYING"}};
static const pc_game game = {.name = "g", .phases = phases, .nphases = 2};

int main(void)
{
    /* Scalars start from FNV-1a 64 of their canonical text; these are
     * the test vectors of its authors, "" and "a". Hashing in pieces
     * continues from the previous value. */
    CHECK(pc_fnv1a64(PC_FNV1A64_INIT, "", 0) == UINT64_C(0xcbf29ce484222325));
    CHECK(pc_fnv1a64(PC_FNV1A64_INIT, "a", 1) == UINT64_C(0xaf63dc4c8601ec8c));
    CHECK(pc_fnv1a64(pc_fnv1a64(PC_FNV1A64_INIT, "\"", 1), "a\"", 2) ==
          UINT64_C(0xd4272417d7c77eea));

    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        CHECK(check_vector(&vectors[i]));
    }

    /* A room's checksum is the same function over its whole document. */
    pc_room *room = NULL;
    CHECK(pc_room_new(&game, NULL, &room) == PC_OK);
    CHECK(pc_room_checksum(room) == vectors[1].checksum); /* seq 0 */
    uint64_t seen = 0;
    CHECK(pc_room_add_sink(room, remember, &seen) == PC_OK);
    CHECK(pc_room_start(room) == PC_OK);
    cJSON *patch = cJSON_Parse("{\"board\": [\"X\", \"\", \"O\"], "
                               "\"turn\": \"X\"}");
    CHECK(patch != NULL);
    CHECK(pc_transition(room, "PLAYING", patch, "first moves") == PC_OK);
    cJSON_Delete(patch);
    CHECK(pc_room_checksum(room) == vectors[2].checksum);
    CHECK(seen == vectors[2].checksum);
    const pc_change *c = NULL;
    CHECK(pc_history_get(room, 1, &c) == PC_OK);
    CHECK(c->checksum == vectors[2].checksum);
    CHECK(c->state_bytes == strlen(vectors[2].canonical));
    uint64_t sum = 0;
    CHECK(pc_canon_checksum(pc_room_state(room), &sum, NULL) == PC_OK);
    CHECK(sum == pc_room_checksum(room));
    pc_room_free(room);

    printf("checksum_example: ok\n");
    return 0;
}
