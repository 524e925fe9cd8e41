/*
 * test_digest.c - the incremental checksum: after every one of thousands
 * of random merge patches (deletes, nested objects, arrays of objects,
 * type changes, phase changes) the checksum kept from the touched paths
 * equals a full recompute, for a room and for the digest the client's
 * replica uses; refused and failed changes leave the cache as it was; and
 * freed subtrees never leave entries a reused address could find. Uses
 * the framework's internal digest.h and merge.h directly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/history.h"
#include "phasecast/json.h"
#include "phasecast/room.h"
#include "canon.h"
#include "digest.h"
#include "merge.h"
#include "testalloc.h"

/* Fewer steps under valgrind (PHASECAST_VALGRIND=1): every one of them
 * is also verified against a full recompute in debug builds. */
static int steps(int n)
{
    const char *vg = getenv("PHASECAST_VALGRIND");
    return vg != NULL && vg[0] != '\0' && strcmp(vg, "0") != 0 ? n / 5 : n;
}

/* Deterministic generator, independent of the room's PRNG. */
static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * UINT64_C(6364136223846793005) +
                UINT64_C(1442695040888963407);
    return (uint32_t)(rng_state >> 33) % n;
}

static cJSON *random_value(int depth);

/* Few keys, so patches keep hitting members that exist. */
static const char *const keys[] = {"a", "b", "c", "d", "e", "\xC3\xA9"};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* In wide mode objects draw from 40 names and patches touch up to 24 of
 * them, so objects cross PC__DIGEST_WIDE members both ways. */
static bool wide;

static const char *random_key(void)
{
    static char names[40][4];
    if (!wide) {
        return keys[rnd(NKEYS)];
    }
    unsigned i = rnd(40);
    snprintf(names[i], sizeof(names[i]), "k%02u", i);
    return names[i];
}

static cJSON *random_object(int depth, bool patch)
{
    cJSON *o = cJSON_CreateObject();
    int n = (int)rnd(wide ? (depth == 0 ? 24 : 12) : (depth == 0 ? 5 : 4));
    for (int i = 0; i < n; i++) {
        const char *k = random_key();
        if (cJSON_GetObjectItemCaseSensitive(o, k) != NULL) {
            continue;
        }
        cJSON *v;
        if (patch && rnd(4) == 0) {
            v = cJSON_CreateNull(); /* delete */
        } else if (patch && depth < 3 && rnd(2) == 0) {
            v = random_object(depth + 1, true); /* merge deeper */
        } else {
            v = random_value(depth + 1);
        }
        cJSON_AddItemToObject(o, k, v);
    }
    return o;
}

static cJSON *random_value(int depth)
{
    switch (rnd(depth > 3 ? 6 : 9)) {
    case 0:
        return cJSON_CreateNumber((double)rnd(5));
    case 1:
        return cJSON_CreateNumber((double)rnd(1000) / 8.0 - 50.0);
    case 2:
        return cJSON_CreateString(rnd(2) ? "x" : "say \"hi\"\n");
    case 3:
        return cJSON_CreateBool(rnd(2));
    case 4:
        return cJSON_CreateString("");
    case 5:
        return cJSON_CreateNumber(1e300 * (double)rnd(3));
    case 6:
    case 7: {
        cJSON *a = cJSON_CreateArray();
        int n = (int)rnd(4);
        for (int i = 0; i < n; i++) {
            cJSON_AddItemToArray(a, random_value(depth + 1));
        }
        return a;
    }
    default:
        return random_object(depth + 1, false);
    }
}

static uint64_t full_sum(const cJSON *doc, size_t *len)
{
    uint64_t sum = 0;
    assert_int_equal(pc_canon_checksum(doc, &sum, len), PC_OK);
    return sum;
}

/* ---- the room -------------------------------------------------------- */

static const pc_phase phases[] = {{.name = "ONE"}, {.name = "TWO"}};

/* Refuses every change that sets data.e to the string "x", so that some
 * random changes are rolled back after being applied. */
static pc_err picky(const pc_room *room, const cJSON *proposed, pc_error *why,
                    void *arg)
{
    (void)room;
    (void)arg;
    const cJSON *e = pc_json_pointer_get(proposed, "/data/e");
    if (cJSON_IsString(e) && strcmp(e->valuestring, "x") == 0) {
        return pc_error_set(why, PC_ERR_REJECTED, "no_x", "no x in e");
    }
    return PC_OK;
}

static const pc_game game = {
    .name = "digest", .phases = phases, .nphases = 2, .validate = picky};

static pc_room *make_room(size_t history)
{
    pc_room_options o;
    pc_room_options_init(&o);
    o.history_capacity = history;
    o.seed = 1;
    o.seed_set = true;
    o.limits.max_state_bytes = 4096; /* some random changes are too big */
    pc_room *room = NULL;
    assert_int_equal(pc_room_new(&game, &o, &room), PC_OK);
    assert_int_equal(pc_room_start(room), PC_OK);
    return room;
}

static void assert_room_sum_is_full_recompute(const pc_room *room)
{
    size_t len = 0;
    assert_true(pc_room_checksum(room) == full_sum(pc_room_state(room), &len));
    if (pc_room_seq(room) > 0 && pc_history_capacity(room) > 0) {
        const pc_change *c = NULL;
        assert_int_equal(pc_history_get(room, pc_room_seq(room), &c), PC_OK);
        assert_true(c->checksum == pc_room_checksum(room));
        assert_int_equal(c->state_bytes, len);
    }
}

static void random_room_walk(size_t history, int steps)
{
    pc_room *room = make_room(history);
    int committed = 0;
    int refused = 0;
    for (int i = 0; i < steps; i++) {
        cJSON *patch = random_object(0, true);
        uint64_t seq = pc_room_seq(room);
        uint64_t before = pc_room_checksum(room);
        pc_err rv = rnd(8) == 0
                        ? pc_transition(room, rnd(2) ? "ONE" : "TWO", patch,
                                        "random transition")
                        : pc_update_phase_data(room, patch, "random patch");
        cJSON_Delete(patch);
        if (rv == PC_OK) {
            committed++;
            assert_int_equal(pc_room_seq(room), seq + 1);
        } else {
            refused++;
            assert_true(rv == PC_ERR_REJECTED || rv == PC_ERR_LIMIT);
            assert_int_equal(pc_room_seq(room), seq);
            assert_true(pc_room_checksum(room) == before);
        }
        assert_room_sum_is_full_recompute(room);
    }
    /* Both paths were exercised. */
    assert_true(committed > steps / 4);
    assert_true(refused > 0);
    pc_room_free(room);
}

static void
test_room_checksum_equals_full_recompute_after_random_patches(void **state)
{
    (void)state;
    rng_state = 42;
    random_room_walk(100, steps(3000));
}

static void test_room_checksum_survives_eviction_and_address_reuse(void **state)
{
    (void)state;
    /* History 1 and 0: replaced subtrees are freed one change later or at
     * once, so new containers keep landing on freed addresses. */
    rng_state = 7;
    random_room_walk(1, steps(3000));
    rng_state = 8;
    random_room_walk(0, steps(3000));
}

/* ---- the digest the replica uses ------------------------------------ */

/* A document {"phase", "data"} with a digest, changed as the replica
 * changes it. */
typedef struct followed {
    cJSON *doc;
    pc__digest d;
    uint64_t sum;
    size_t len;
} followed;

static void follow(followed *f, const char *text)
{
    assert_int_equal(pc_json_parse(text, strlen(text), NULL, &f->doc, NULL),
                     PC_OK);
    pc__digest_init(&f->d);
    assert_int_equal(pc__digest_build(&f->d, f->doc, &f->sum, &f->len), PC_OK);
}

static void unfollow(followed *f)
{
    pc__digest_fini(&f->d);
    cJSON_Delete(f->doc);
}

/* Apply patch (and maybe a phase) like pc__replica_apply. */
static pc_err apply(followed *f, const cJSON *patch, const char *phase)
{
    pc__doc_patch dp;
    pc__doc_patch_init(&dp, patch, phase);
    pc__merge_log log;
    pc_err rv = pc__merge_log_init(&log, &dp.root);
    if (rv != PC_OK) {
        return rv;
    }
    cJSON *undo = cJSON_CreateObject();
    if (undo == NULL) {
        pc__merge_log_fini(&log);
        return PC_ERR_NOMEM;
    }
    pc__digest_txn tx;
    pc__digest_begin(&tx, &f->d);
    uint64_t sum;
    size_t len;
    rv = pc__merge_apply_tracked(f->doc, &dp.root, undo, &log, &tx, &sum, &len);
    if (rv == PC_OK && (rv = pc__digest_reserve(&tx)) != PC_OK) {
        pc__merge_apply_consume(f->doc, undo, &log);
    }
    if (rv == PC_OK) {
        pc__digest_commit(&tx);
        f->sum = sum;
        f->len = len;
    } else {
        pc__digest_abort(&tx);
    }
    cJSON_Delete(undo);
    pc__merge_log_fini(&log);
    return rv;
}

static void assert_followed(const followed *f)
{
    size_t len = 0;
    assert_true(f->sum == full_sum(f->doc, &len));
    assert_int_equal(f->len, len);
    assert_true(pc__digest_verify(&f->d, f->doc));
}

static void
test_digest_follows_random_patches_container_by_container(void **state)
{
    (void)state;
    rng_state = 1234;
    followed f;
    follow(&f, "{\"phase\":\"ONE\",\"data\":{}}");
    for (int i = 0, n = steps(3000); i < n; i++) {
        cJSON *patch = random_object(0, true);
        assert_int_equal(apply(&f, patch, rnd(5) == 0 ? "TWO" : NULL), PC_OK);
        cJSON_Delete(patch);
        assert_followed(&f);
    }
    unfollow(&f);
}

static void
test_digest_indexes_wide_objects_through_random_patches(void **state)
{
    (void)state;
    /* Objects grow past PC__DIGEST_WIDE members one patch at a time, are
     * created wide, shrink, are replaced and deleted whole; the member
     * index must find exactly the members there are, every time. */
    rng_state = 4321;
    wide = true;
    followed f;
    follow(&f, "{\"phase\":\"ONE\",\"data\":{}}");
    size_t max_links = 0;
    for (int i = 0, n = steps(2000); i < n; i++) {
        cJSON *patch = random_object(0, true);
        assert_int_equal(apply(&f, patch, NULL), PC_OK);
        cJSON_Delete(patch);
        assert_followed(&f);
        if (f.d.link_count > max_links) {
            max_links = f.d.link_count;
        }
    }
    wide = false;
    assert_true(max_links >= PC__DIGEST_WIDE); /* the index was used */
    unfollow(&f);
}

static void test_digest_handles_type_changes_on_one_path(void **state)
{
    (void)state;
    /* The same member goes object -> scalar -> array -> object -> deleted,
     * with nested objects inside arrays that must not be cached. */
    static const char *const steps[] = {
        "{\"p\":{\"q\":{\"r\":1},\"s\":[1,2]}}",
        "{\"p\":{\"q\":{\"r\":null,\"t\":{}}}}",
        "{\"p\":5}",
        "{\"p\":[{\"a\":{}},[[]],{}]}",
        "{\"p\":{\"q\":null,\"x\":{\"y\":[{\"z\":1}]}}}",
        "{\"p\":{\"x\":{\"y\":null}}}",
        "{\"p\":null}",
        "{\"p\":{}}",
    };
    followed f;
    follow(&f, "{\"phase\":\"ONE\",\"data\":{\"keep\":{\"me\":[1]}}}");
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        cJSON *patch = NULL;
        assert_int_equal(
            pc_json_parse(steps[i], strlen(steps[i]), NULL, &patch, NULL),
            PC_OK);
        assert_int_equal(apply(&f, patch, NULL), PC_OK);
        cJSON_Delete(patch);
        assert_followed(&f);
    }
    /* Containers left: doc, data, keep, keep.me, p. */
    assert_int_equal(f.d.count, 5);
    unfollow(&f);
}

static void test_digest_is_unchanged_when_a_change_fails(void **state)
{
    (void)state;
    /* Fail each allocation of a change that replaces, deletes and adds
     * containers in turn: the document and the cache stay as they were. */
    followed f;
    follow(&f, "{\"phase\":\"ONE\",\"data\":{\"a\":{\"b\":[1,{\"c\":2}]},"
               "\"d\":{\"e\":{}},\"f\":1}}");
    char *before = NULL;
    assert_int_equal(pc_canon_print(f.doc, &before, NULL), PC_OK);
    const char *text = "{\"a\":{\"b\":{\"x\":[1]}},\"d\":null,\"g\":{\"h\":{},"
                       "\"i\":[{}],\"j\":{\"k\":{}}},\"l\":{},\"m\":{},"
                       "\"n\":{},\"o\":{},\"p\":{},\"q\":{},\"r\":{}}";
    cJSON *patch = NULL;
    assert_int_equal(pc_json_parse(text, strlen(text), NULL, &patch, NULL),
                     PC_OK);
    uint64_t sum = f.sum;
    size_t count = f.d.count;
    size_t failures = 0;
    for (size_t n = 1;; n++) {
        testalloc_fail_at(n, false);
        pc_err rv = apply(&f, patch, "TWO");
        bool failed = testalloc_failed();
        testalloc_fail_at(0, false);
        if (!failed) {
            assert_int_equal(rv, PC_OK);
            break;
        }
        failures++;
        assert_int_equal(rv, PC_ERR_NOMEM);
        assert_true(f.sum == sum);
        assert_int_equal(f.d.count, count);
        char *now = NULL;
        assert_int_equal(pc_canon_print(f.doc, &now, NULL), PC_OK);
        assert_string_equal(now, before);
        pc_free(now);
        assert_followed(&f);
    }
    assert_true(failures > 5); /* log, undo, copies, the queues, the table */
    assert_followed(&f);
    pc_free(before);
    cJSON_Delete(patch);
    unfollow(&f);
}

static void test_digest_drops_entries_of_departed_subtrees(void **state)
{
    (void)state;
    followed f;
    follow(&f, "{\"phase\":\"ONE\",\"data\":{}}");
    assert_int_equal(f.d.count, 2);
    /* 50 objects with an array and an object each: 150 more entries. */
    cJSON *add = cJSON_CreateObject();
    cJSON *del = cJSON_CreateObject();
    for (int i = 0; i < 50; i++) {
        char key[16];
        snprintf(key, sizeof(key), "p%02d", i);
        cJSON *p = cJSON_AddObjectToObject(add, key);
        cJSON_AddItemToObject(p, "items", cJSON_CreateArray());
        cJSON_AddObjectToObject(p, "more");
        cJSON_AddNullToObject(del, key);
    }
    assert_int_equal(apply(&f, add, NULL), PC_OK);
    assert_int_equal(f.d.count, 152);
    assert_followed(&f);
    assert_int_equal(apply(&f, del, NULL), PC_OK);
    assert_int_equal(f.d.count, 2);
    assert_followed(&f);
    /* Re-adding lands new nodes on the freed addresses; all still exact. */
    assert_int_equal(apply(&f, add, NULL), PC_OK);
    assert_followed(&f);
    cJSON_Delete(add);
    cJSON_Delete(del);
    unfollow(&f);
}

static void test_canon_length_matches_the_checksum_length(void **state)
{
    (void)state;
    /* The patch-size check measures without hashing; it must count what
     * the checksum (and the printer) count. */
    rng_state = 99;
    for (int i = 0; i < 2000; i++) {
        cJSON *v = rnd(4) == 0 ? random_value(0) : random_object(0, true);
        if (cJSON_IsObject(v)) {
            cJSON_AddItemToObject(v, "esc\"\\\x01",
                                  cJSON_CreateString("\t\x7f"));
        }
        size_t want = 0;
        size_t got = 0;
        full_sum(v, &want);
        assert_int_equal(pc__canon_length(v, &got), PC_OK);
        assert_int_equal(got, want);
        cJSON_Delete(v);
    }
}

int main(void)
{
#define T(f)                                                                   \
    cmocka_unit_test_setup_teardown(f, testalloc_setup, testalloc_teardown)
    const struct CMUnitTest tests[] = {
        T(test_room_checksum_equals_full_recompute_after_random_patches),
        T(test_room_checksum_survives_eviction_and_address_reuse),
        T(test_digest_follows_random_patches_container_by_container),
        T(test_digest_indexes_wide_objects_through_random_patches),
        T(test_digest_handles_type_changes_on_one_path),
        T(test_digest_is_unchanged_when_a_change_fails),
        T(test_digest_drops_entries_of_departed_subtrees),
        T(test_canon_length_matches_the_checksum_length),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
