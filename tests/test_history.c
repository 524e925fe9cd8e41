/*
 * test_history.c - the bounded history: exact states at every retained seq
 * over long random patch sequences, eviction, disabled history, find, diff,
 * and memory that grows with patches rather than with state size.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/history.h"
#include "phasecast/json.h"
#include "phasecast/room.h"
#include "testalloc.h"

static const pc_phase phases[] = {
    {"ONE", NULL, NULL, NULL, NULL, 0},
    {"TWO", NULL, NULL, NULL, NULL, 0},
};
static const pc_game game = {.name = "hist", .phases = phases, .nphases = 2};

static pc_room *make_room(size_t capacity)
{
    pc_room_options o;
    pc_room_options_init(&o);
    o.history_capacity = capacity;
    o.seed = 1;
    o.seed_set = true;
    pc_room *room = NULL;
    assert_int_equal(pc_room_new(&game, &o, &room), PC_OK);
    assert_int_equal(pc_room_start(room), PC_OK);
    return room;
}

static void set(pc_room *room, const char *text)
{
    assert_int_equal(pc_update_phase_text(room, text, "test step"), PC_OK);
}

static char *canon(const cJSON *doc)
{
    char *t = NULL;
    assert_int_equal(pc_canon_print(doc, &t, NULL), PC_OK);
    return t;
}

/* Deterministic generator for the random-walk tests (independent of the
 * room's own PRNG so that the room under test is not its own oracle). */
static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * UINT64_C(6364136223846793005) +
                UINT64_C(1442695040888963407);
    return (uint32_t)(rng_state >> 33) % n;
}

static cJSON *random_value(int depth);

static cJSON *random_object(int depth, bool allow_null)
{
    static const char *keys[] = {"a", "b", "c", "d", "e", "f", "g"};
    cJSON *o = cJSON_CreateObject();
    int n = (int)rnd(4);
    for (int i = 0; i < n; i++) {
        const char *k = keys[rnd(7)];
        if (cJSON_GetObjectItemCaseSensitive(o, k) != NULL) {
            continue;
        }
        cJSON *v = allow_null && rnd(5) == 0 ? cJSON_CreateNull()
                                             : random_value(depth + 1);
        cJSON_AddItemToObject(o, k, v);
    }
    return o;
}

static cJSON *random_value(int depth)
{
    switch (depth > 3 ? rnd(5) : rnd(7)) {
    case 0:
        return cJSON_CreateNumber((double)rnd(1000) - 500);
    case 1:
        return cJSON_CreateNumber(rnd(1000) / 8.0);
    case 2: {
        char s[16];
        snprintf(s, sizeof(s), "s%u", rnd(50));
        return cJSON_CreateString(s);
    }
    case 3:
        return cJSON_CreateBool(rnd(2));
    case 4: {
        cJSON *a = cJSON_CreateArray();
        int n = (int)rnd(4);
        for (int i = 0; i < n; i++) {
            cJSON_AddItemToArray(a, cJSON_CreateNumber(rnd(10)));
        }
        return a;
    }
    default:
        return random_object(depth, true);
    }
}

/* Run `steps` random updates (and some transitions) on a room with the
 * given capacity, recording the canonical state after each, then check
 * every seq the room says it can still give back. */
static void random_walk(size_t capacity, int steps, uint64_t seed)
{
    rng_state = seed;
    pc_room *room = make_room(capacity);
    char **expected = pc_malloc(sizeof(char *) * (size_t)(steps + 1));
    expected[0] = canon(pc_room_state(room));
    for (int i = 1; i <= steps; i++) {
        cJSON *patch = random_object(1, true);
        pc_err rv;
        if (rnd(10) == 0) {
            rv = pc_transition(room, rnd(2) ? "ONE" : "TWO", patch, "flip");
        } else {
            rv = pc_update_phase_data(room, patch, "random step");
        }
        assert_int_equal(rv, PC_OK);
        cJSON_Delete(patch);
        assert_int_equal(pc_room_seq(room), (uint64_t)i);
        expected[i] = canon(pc_room_state(room));
    }
    uint64_t first = pc_history_first_seq(room);
    size_t retained = capacity < (size_t)steps ? capacity : (size_t)steps;
    assert_int_equal(pc_history_count(room), retained);
    for (int s = 0; s <= steps; s++) {
        cJSON *doc = NULL;
        pc_err rv = pc_history_state_at(room, (uint64_t)s, &doc);
        if ((uint64_t)s + 1 < first || (first == 0 && s != steps)) {
            assert_int_equal(rv, PC_ERR_EVICTED);
        } else {
            assert_int_equal(rv, PC_OK);
            char *got = canon(doc);
            assert_string_equal(got, expected[s]);
            pc_free(got);
            cJSON_Delete(doc);
        }
    }
    for (int s = 0; s <= steps; s++) {
        pc_free(expected[s]);
    }
    pc_free(expected);
    pc_room_free(room);
}

static void test_state_at_equals_recorded_state_for_every_retained_seq(void **s)
{
    (void)s;
    random_walk(1000, 600, 12345);
}

static void test_state_at_is_exact_after_eviction_for_retained_seqs(void **s)
{
    (void)s;
    random_walk(100, 400, 777);
}

static void test_ring_evicts_the_oldest_change_when_full(void **s)
{
    (void)s;
    pc_room *room = make_room(5);
    char text[32];
    for (int i = 1; i <= 12; i++) {
        snprintf(text, sizeof(text), "{\"n\":%d}", i);
        set(room, text);
    }
    assert_int_equal(pc_history_count(room), 5);
    assert_int_equal(pc_history_capacity(room), 5);
    assert_int_equal(pc_history_first_seq(room), 8);
    const pc_change *c = NULL;
    assert_int_equal(pc_history_get(room, 7, &c), PC_ERR_EVICTED);
    assert_int_equal(pc_history_get(room, 8, &c), PC_OK);
    assert_int_equal(c->seq, 8);
    assert_int_equal(pc_history_get(room, 13, &c), PC_ERR_NOT_FOUND);
    assert_int_equal(pc_history_get(room, 0, &c), PC_ERR_NOT_FOUND);
    cJSON *doc = NULL;
    assert_int_equal(pc_history_state_at(room, 7, &doc), PC_OK);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(doc, "data");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(data, "n")->valueint, 7);
    cJSON_Delete(doc);
    assert_int_equal(pc_history_state_at(room, 6, &doc), PC_ERR_EVICTED);
    assert_int_equal(pc_history_state_at(room, 13, &doc), PC_ERR_NOT_FOUND);
    pc_room_free(room);
}

static void count_sink(pc_room *room, const pc_change *c, void *arg)
{
    (void)room;
    int *n = arg;
    (*n)++;
    assert_string_equal(c->reason, "test step");
    assert_non_null(c->patch);
}

static void test_capacity_zero_disables_history_but_not_sinks(void **s)
{
    (void)s;
    pc_room *room = make_room(0);
    int calls = 0;
    assert_int_equal(pc_room_add_sink(room, count_sink, &calls), PC_OK);
    set(room, "{\"a\":1}");
    set(room, "{\"a\":2}");
    assert_int_equal(calls, 2);
    assert_int_equal(pc_history_count(room), 0);
    assert_int_equal(pc_history_first_seq(room), 0);
    const pc_change *c = NULL;
    assert_int_equal(pc_history_get(room, 2, &c), PC_ERR_EVICTED);
    cJSON *doc = NULL;
    assert_int_equal(pc_history_state_at(room, 2, &doc), PC_OK);
    cJSON_Delete(doc);
    assert_int_equal(pc_history_state_at(room, 1, &doc), PC_ERR_EVICTED);
    pc_room_free(room);
}

static void test_find_returns_the_most_recent_change_to_a_value(void **s)
{
    (void)s;
    pc_room *room = make_room(100);
    set(room, "{\"hp\":10}"); /* 1 */
    set(room, "{\"hp\":3}");  /* 2 */
    set(room, "{\"mp\":1}");  /* 3 */
    set(room, "{\"hp\":7}");  /* 4 */
    set(room, "{\"mp\":2}");  /* 5 */
    set(room, "{\"hp\":3}");  /* 6 */
    set(room, "{\"mp\":3}");  /* 7 */
    cJSON *three = cJSON_CreateNumber(3);
    uint64_t seq = 0;
    assert_int_equal(pc_history_find(room, "/data/hp", three, 0, &seq), PC_OK);
    assert_int_equal(seq, 6);
    assert_int_equal(pc_history_find(room, "/data/hp", three, 5, &seq), PC_OK);
    assert_int_equal(seq, 2);
    assert_int_equal(pc_history_find(room, "/data/hp", three, 1, &seq),
                     PC_ERR_NOT_FOUND);
    cJSON *ten = cJSON_CreateNumber(10);
    assert_int_equal(pc_history_find(room, "/data/hp", ten, 0, &seq), PC_OK);
    assert_int_equal(seq, 1);
    cJSON *nope = cJSON_CreateNumber(99);
    assert_int_equal(pc_history_find(room, "/data/hp", nope, 0, &seq),
                     PC_ERR_NOT_FOUND);
    assert_int_equal(pc_history_find(room, NULL, nope, 0, &seq),
                     PC_ERR_INVALID);
    cJSON_Delete(three);
    cJSON_Delete(ten);
    cJSON_Delete(nope);
    pc_room_free(room);
}

static void test_find_locates_phase_changes_and_deletions(void **s)
{
    (void)s;
    pc_room *room = make_room(100);
    set(room, "{\"loot\":\"sword\"}");                               /* 1 */
    assert_int_equal(pc_transition(room, "TWO", NULL, "go"), PC_OK); /* 2 */
    set(room, "{\"loot\":null}");                                    /* 3 */
    cJSON *two = cJSON_CreateString("TWO");
    uint64_t seq = 0;
    assert_int_equal(pc_history_find(room, "/phase", two, 0, &seq), PC_OK);
    assert_int_equal(seq, 2);
    assert_int_equal(pc_history_find(room, "/data/loot", NULL, 0, &seq), PC_OK);
    assert_int_equal(seq, 3);
    cJSON_Delete(two);
    pc_room_free(room);
}

static void test_diff_lists_changed_paths_with_old_and_new_values(void **s)
{
    (void)s;
    pc_room *room = make_room(100);
    set(room, "{\"board\":[\"\",\"\",\"\"],\"turn\":\"X\",\"gone\":1}");
    set(room, "{\"board\":[\"X\",\"\",\"\"],\"turn\":\"O\",\"gone\":null,"
              "\"new\":true}");
    cJSON *diff = NULL;
    assert_int_equal(pc_history_diff(room, 1, 2, &diff), PC_OK);
    char *text = canon(diff);
    assert_string_equal(
        text, "[{\"new\":\"X\",\"old\":\"\",\"path\":\"/data/board/0\"},"
              "{\"old\":1,\"path\":\"/data/gone\"},"
              "{\"new\":true,\"path\":\"/data/new\"},"
              "{\"new\":\"O\",\"old\":\"X\",\"path\":\"/data/turn\"}]");
    pc_free(text);
    cJSON_Delete(diff);
    assert_int_equal(pc_history_diff(room, 2, 2, &diff), PC_OK);
    assert_int_equal(cJSON_GetArraySize(diff), 0);
    cJSON_Delete(diff);
    assert_int_equal(pc_history_diff(room, 1, 9, &diff), PC_ERR_NOT_FOUND);
    pc_room_free(room);
}

static void test_history_memory_grows_with_patches_not_state_size(void **s)
{
    (void)s;
    pc_room *room = make_room(200);
    /* A state of roughly 20 KB in 400 members. */
    cJSON *big = cJSON_CreateObject();
    for (int i = 0; i < 400; i++) {
        char k[16];
        snprintf(k, sizeof(k), "k%03d", i);
        cJSON_AddStringToObject(big, k, "some value of moderate size ....");
    }
    assert_int_equal(pc_update_phase_data(room, big, "big"), PC_OK);
    cJSON_Delete(big);
    size_t state_blocks = testalloc_live();
    for (int i = 0; i < 100; i++) {
        set(room, "{\"k007\":\"x\"}");
    }
    size_t per_record = (testalloc_live() - state_blocks) / 100;
    /* A deep copy per record would cost about as much as the state (more
     * than 800 blocks: a node and a key per member); a patch record costs a
     * handful. Nothing is evicted: the ring holds 200. */
    assert_true(per_record < 16);
    cJSON *doc = NULL;
    assert_int_equal(pc_history_state_at(room, 2, &doc), PC_OK);
    const cJSON *k7 = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(doc, "data"), "k007");
    assert_string_equal(k7->valuestring, "x");
    cJSON_Delete(doc);
    pc_room_free(room);
}

#define T(f)                                                                   \
    cmocka_unit_test_setup_teardown(f, testalloc_setup, testalloc_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_state_at_equals_recorded_state_for_every_retained_seq),
        T(test_state_at_is_exact_after_eviction_for_retained_seqs),
        T(test_ring_evicts_the_oldest_change_when_full),
        T(test_capacity_zero_disables_history_but_not_sinks),
        T(test_find_returns_the_most_recent_change_to_a_value),
        T(test_find_locates_phase_changes_and_deletions),
        T(test_diff_lists_changed_paths_with_old_and_new_values),
        T(test_history_memory_grows_with_patches_not_state_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
