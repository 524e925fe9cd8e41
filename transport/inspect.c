/*
 * inspect.c - the result of an "inspect" request: a room's retained
 * history as the change log writes it, for the time-travel inspector.
 *
 * Every record is the text pc_changelog_record_text makes with the log's
 * own encoder, and the base state is its canonical text; both go into
 * the reply as raw nodes, so they reach the inspector byte for byte as
 * the log would hold them, with every number exact (cJSON's printer keeps
 * only 15 significant digits when that reads back "close enough", which
 * would break the checksums the inspector recomputes). Nothing is
 * filtered: the inspector sees whole states, secrets included, which is
 * why requests.c lets only holders of the inspector credential in. This
 * module reads the room and never changes it; it does not check the
 * credential or the request's types.
 */
#include "inspect.h"

#include <stddef.h>
#include <string.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/changelog.h"
#include "phasecast/history.h"
#include "phasecast/server.h"
#include "envelope.h"

static pc_err nomem(pc_error *e)
{
    return pc_error_set(e, PC_ERR_NOMEM, "internal", "out of memory");
}

/* Add a raw node holding text (NUL-terminated, valid JSON) to parent:
 * as member key of an object, or appended to an array when key is NULL.
 * cJSON_CreateRaw copies the text. */
static bool add_raw(cJSON *parent, const char *key, const char *text)
{
    cJSON *raw = cJSON_CreateRaw(text);
    bool ok =
        raw != NULL && (key != NULL ? cJSON_AddItemToObject(parent, key, raw)
                                    : cJSON_AddItemToArray(parent, raw));
    if (!ok) {
        cJSON_Delete(raw);
    }
    return ok;
}

/* The base: the whole state right after seq, its checksum and canonical
 * length, and the PRNG's draws when the server knows them. */
static bool add_base(const pc_room *room, uint64_t seq, cJSON *r)
{
    cJSON *state = NULL;
    if (pc_history_state_at(room, seq, &state) != PC_OK) {
        return false;
    }
    uint64_t sum = 0;
    char *text = NULL;
    size_t bytes = 0;
    bool ok = pc_canon_checksum(state, &sum, NULL) == PC_OK &&
              pc_canon_print(state, &text, &bytes) == PC_OK;
    cJSON_Delete(state);
    if (!ok) {
        return false;
    }
    char hex[PC__SUM_HEX];
    pc__envelope_hex(sum, hex);
    /* The draws right after seq: none at seq 0 (as the log's base record
     * of a new room says), the room's own at its current seq. For the
     * state before the oldest retained record they are gone. */
    bool known = seq == 0 || seq == pc_room_seq(room);
    uint64_t draws = seq == 0 ? 0 : pc_room_draws(room);
    cJSON *base = cJSON_AddObjectToObject(r, "base");
    ok = base != NULL &&
         cJSON_AddNumberToObject(base, "seq", (double)seq) != NULL &&
         cJSON_AddStringToObject(base, "sum", hex) != NULL &&
         cJSON_AddNumberToObject(base, "bytes", (double)bytes) != NULL &&
         (!known ||
          cJSON_AddNumberToObject(base, "draws", (double)draws) != NULL) &&
         add_raw(base, "state", text);
    pc_free(text);
    return ok;
}

/* Append the records after since to list, at most limit of them and
 * PC_SERVER_INSPECT_BUDGET bytes (the first always goes, however large);
 * *next receives the seq of the first record left out. */
static pc_err add_records(const pc_room *room, uint64_t since, uint64_t limit,
                          cJSON *list, uint64_t *next, pc_error *e)
{
    uint64_t seq = pc_room_seq(room);
    size_t bytes = 0;
    uint64_t s = since + 1;
    for (; s <= seq && s - since <= limit; s++) {
        char *text = NULL;
        size_t len = 0;
        pc_err rc = pc_changelog_record_text(room, s, &text, &len);
        if (rc == PC_ERR_LIMIT) {
            return pc_error_set(e, rc, "internal",
                                "the change at seq %llu cannot be written as "
                                "a record",
                                (unsigned long long)s);
        }
        if (rc != PC_OK) {
            return nomem(e);
        }
        /* Written so it cannot wrap: bytes may already exceed the budget
         * when the first record alone did. */
        if (s > since + 1 && (bytes >= PC_SERVER_INSPECT_BUDGET ||
                              len > PC_SERVER_INSPECT_BUDGET - bytes)) {
            pc_free(text);
            break; /* the rest in the next reply */
        }
        bytes += len;
        bool ok = add_raw(list, NULL, text);
        pc_free(text);
        if (!ok) {
            return nomem(e);
        }
    }
    *next = s;
    return PC_OK;
}

pc_err pc__inspect_result(const pc_room *room, const pc__inspect_ask *ask,
                          cJSON **out, pc_error *e)
{
    uint64_t seq = pc_room_seq(room);
    uint64_t first = pc_history_first_seq(room);    /* 0: none retained */
    uint64_t oldest = first == 0 ? seq : first - 1; /* oldest state held */
    if (ask->has_since && ask->since > seq) {
        return pc_error_set(e, PC_ERR_INVALID, "bad_request",
                            "since %llu is after the room's seq %llu",
                            (unsigned long long)ask->since,
                            (unsigned long long)seq);
    }
    if (ask->has_since && ask->since < oldest) {
        return pc_error_set(e, PC_ERR_EVICTED, "too_old",
                            "changes before seq %llu are no longer kept",
                            (unsigned long long)(oldest + 1));
    }
    uint64_t since = ask->has_since ? ask->since : oldest;
    char seed[PC__SUM_HEX];
    pc__envelope_hex(pc_room_seed(room), seed);
    cJSON *r = cJSON_CreateObject();
    bool ok =
        r != NULL &&
        cJSON_AddStringToObject(r, "room", pc_room_id(room)) != NULL &&
        cJSON_AddStringToObject(r, "game", pc_room_game(room)->name) != NULL &&
        cJSON_AddStringToObject(r, "phase", pc_room_phase(room)) != NULL &&
        cJSON_AddNumberToObject(r, "seq", (double)seq) != NULL &&
        cJSON_AddNumberToObject(r, "first", (double)oldest) != NULL &&
        cJSON_AddNumberToObject(r, "capacity",
                                (double)pc_history_capacity(room)) != NULL &&
        cJSON_AddStringToObject(r, "seed", seed) != NULL &&
        (ask->has_since || add_base(room, since, r));
    cJSON *list = ok ? cJSON_AddArrayToObject(r, "records") : NULL;
    if (list == NULL) {
        cJSON_Delete(r);
        return nomem(e);
    }
    uint64_t next = 0;
    pc_err rc = add_records(room, since, ask->limit, list, &next, e);
    if (rc == PC_OK && cJSON_AddBoolToObject(r, "more", next <= seq) == NULL) {
        rc = nomem(e);
    }
    if (rc != PC_OK) {
        cJSON_Delete(r);
        return rc;
    }
    *out = r;
    return PC_OK;
}
