/*
 * test_piles_fixture.h - the fixture and helpers that test_piles.c and
 * test_piles_rounds.c share: a started piles room on a fake clock with a
 * counting sink, actions from JSON text, hands rigged by direct updates,
 * and the check that a refused action changes nothing. Test code only:
 * the helpers are static inline so each test file takes what it uses.
 * Include it after cmocka.h.
 */
#ifndef PHASECAST_TESTS_PILES_FIXTURE_H
#define PHASECAST_TESTS_PILES_FIXTURE_H

#include <stdbool.h>
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
#include "piles/piles.h"
#include "piles/rules.h"
#include "testalloc.h"

#define T0 1700000000000LL

/* One started piles room on a fake clock, and what its sink saw. */
typedef struct fixture {
    pc_room *room;
    piles_config cfg;
    int changes;
} fixture;

static fixture fx;
static size_t baseline;
static int64_t now;
static const char *const P[PILES_PLAYERS] = {"alice", "bob", "carol", "dave"};

static inline int64_t fake_clock(void *arg)
{
    (void)arg;
    return now;
}

static inline void count_change(pc_room *room, const pc_change *change,
                                void *arg)
{
    (void)room;
    (void)change;
    ((fixture *)arg)->changes++;
}

static inline int open_room(fixture *f, uint64_t seed)
{
    pc_room_options opts;
    pc_room_options_init(&opts);
    opts.seed = seed;
    opts.seed_set = true;
    opts.clock = fake_clock;
    opts.arg = &f->cfg;
    opts.history_capacity = 1000;
    if (pc_room_new(piles_game(), &opts, &f->room) != PC_OK ||
        pc_room_add_sink(f->room, count_change, f) != PC_OK ||
        pc_room_start(f->room) != PC_OK) {
        return -1;
    }
    return 0;
}

static inline int setup(void **state)
{
    testalloc_install();
    baseline = testalloc_live();
    now = T0;
    memset(&fx, 0, sizeof fx);
    piles_config_init(&fx.cfg);
    fx.cfg.play_ms = 20000; /* unlike the other delays, to tell them apart */
    *state = &fx;
    return open_room(&fx, 42);
}

static inline int teardown(void **state)
{
    (void)state;
    pc_room_free(fx.room);
    fx.room = NULL;
    assert_int_equal(testalloc_live(), baseline);
    return 0;
}

/* ---- helpers ---------------------------------------------------------- */

static inline pc_err act(pc_room *room, const char *player, const char *type,
                         const char *payload, pc_error *err)
{
    cJSON *p = payload != NULL ? cJSON_Parse(payload) : NULL;
    if (payload != NULL) {
        assert_non_null(p);
    }
    pc_action a = {.player = player, .type = type, .payload = p};
    pc_err rc = pc_room_action(room, &a, NULL, err);
    cJSON_Delete(p);
    return rc;
}

/* The action is accepted and commits exactly one change. */
static inline void accept(fixture *f, const char *player, const char *type,
                          const char *payload)
{
    uint64_t seq = pc_room_seq(f->room);
    pc_error err = {0};
    pc_err rc = act(f->room, player, type, payload, &err);
    if (rc != PC_OK) {
        fail_msg("%s %s %s refused: %s (%s)", player, type,
                 payload ? payload : "", err.code, err.message);
    }
    assert_int_equal(pc_room_seq(f->room), seq + 1);
}

static inline const cJSON *at(const fixture *f, const char *pointer)
{
    return pc_json_pointer_get(pc_room_data(f->room), pointer);
}

static inline const char *str_at(const fixture *f, const char *pointer)
{
    return cJSON_GetStringValue(at(f, pointer));
}

static inline int int_at(const fixture *f, const char *pointer)
{
    const cJSON *v = at(f, pointer);
    assert_true(cJSON_IsNumber(v));
    return (int)v->valuedouble;
}

static inline int seat_of(const fixture *f, const char *player)
{
    for (int i = 0; i < PILES_PLAYERS; i++) {
        char ptr[16];
        snprintf(ptr, sizeof ptr, "/players/%d", i);
        if (strcmp(str_at(f, ptr), player) == 0) {
            return i;
        }
    }
    fail_msg("%s is not seated", player);
    return -1;
}

/* The k-th player in play order from name (0: name itself). */
static inline const char *after(const fixture *f, const char *name, int k)
{
    char ptr[16];
    snprintf(ptr, sizeof ptr, "/players/%d",
             (seat_of(f, name) + k) % PILES_PLAYERS);
    return str_at(f, ptr);
}

static inline const char *reason_at(const fixture *f, uint64_t seq)
{
    const pc_change *c = NULL;
    assert_int_equal(pc_history_get(f->room, seq, &c), PC_OK);
    return c->reason;
}

/* Move the clock to the armed deadline, which must be delay_ms away, and
 * fire the phase timer. */
static inline void fire_after(fixture *f, int64_t delay_ms)
{
    int64_t deadline = 0;
    assert_true(pc_room_timeout_deadline(f->room, &deadline));
    assert_int_equal(deadline - now, delay_ms);
    now = deadline;
    assert_int_equal(pc_room_fire_timeout(f->room), PC_OK);
}

static inline void join_all(fixture *f)
{
    for (int i = 0; i < PILES_PLAYERS; i++) {
        accept(f, P[i], "join", NULL);
    }
}

/* Seat everyone and deal round 1: the room is in DECLARATION. */
static inline void start(fixture *f)
{
    join_all(f);
    fire_after(f, f->cfg.deal_ms);
    assert_string_equal(pc_room_phase(f->room), "DECLARATION");
}

/* Declare v[0..3] in declaration order. */
static inline void declare_all(fixture *f, const int v[PILES_PLAYERS])
{
    for (int i = 0; i < PILES_PLAYERS; i++) {
        char payload[32];
        snprintf(payload, sizeof payload, "{\"piles\":%d}", v[i]);
        accept(f, str_at(f, "/to_act"), "declare", payload);
    }
    assert_string_equal(pc_room_phase(f->room), "TURN");
}

/* Replace every hand: hands[k] ("R1a B2b ...") goes to the k-th player in
 * play order from the current lead. Two direct updates, as a test rig. */
static inline void rig(fixture *f, const char *const hands[PILES_PLAYERS])
{
    const char *lead = str_at(f, "/turn/lead");
    cJSON *patch = cJSON_CreateObject();
    cJSON *all = cJSON_AddObjectToObject(patch, "hands");
    assert_non_null(all);
    for (int k = 0; k < PILES_PLAYERS; k++) {
        cJSON *hand = cJSON_AddObjectToObject(all, after(f, lead, k));
        char ids[64];
        snprintf(ids, sizeof ids, "%s", hands[k]);
        for (char *id = strtok(ids, " "); id; id = strtok(NULL, " ")) {
            assert_non_null(cJSON_AddTrueToObject(hand, id));
        }
    }
    assert_int_equal(pc_update_phase_text(f->room, "{\"hands\":null}", "rig"),
                     PC_OK);
    assert_int_equal(pc_update_phase_data(f->room, patch, "rig"), PC_OK);
    cJSON_Delete(patch);
}

/* {"pieces":["R1a","B2b"]} from "R1a B2b". */
static inline void pieces_payload(const char *ids, char *out, size_t cap)
{
    char copy[64];
    snprintf(copy, sizeof copy, "%s", ids);
    size_t len = (size_t)snprintf(out, cap, "{\"pieces\":[");
    int n = 0;
    for (char *id = strtok(copy, " "); id; id = strtok(NULL, " ")) {
        len += (size_t)snprintf(out + len, cap - len, "%s\"%s\"",
                                n++ ? "," : "", id);
    }
    snprintf(out + len, cap - len, "]}");
}

static inline void play_ids(fixture *f, const char *player, const char *ids)
{
    char payload[128];
    pieces_payload(ids, payload, sizeof payload);
    accept(f, player, "play", payload);
}

/* Start, declare v, rig hands and play plays[k] for the k-th player from
 * the lead; returns the winner's seat offset from the lead. */
static inline int turn_with(fixture *f, const int v[PILES_PLAYERS],
                            const char *const hands[PILES_PLAYERS],
                            const char *const plays[PILES_PLAYERS])
{
    start(f);
    declare_all(f, v);
    rig(f, hands);
    const char *lead = str_at(f, "/turn/lead");
    for (int k = 0; k < PILES_PLAYERS; k++) {
        play_ids(f, after(f, lead, k), plays[k]);
    }
    assert_string_equal(pc_room_phase(f->room), "TURN_RESULTS");
    for (int k = 0; k < PILES_PLAYERS; k++) {
        if (strcmp(after(f, lead, k), str_at(f, "/turn/winner")) == 0) {
            return k;
        }
    }
    fail_msg("no winner");
    return -1;
}

static const int some[PILES_PLAYERS] = {2, 2, 2, 1};

/* Everything a refused action must leave as it was. */
typedef struct before {
    uint64_t seq, checksum;
    size_t history;
    int changes;
    char *canon;
    int64_t deadline;
} before;

static inline before snapshot(const fixture *f)
{
    before b = {pc_room_seq(f->room),
                pc_room_checksum(f->room),
                pc_history_count(f->room),
                f->changes,
                NULL,
                -1};
    (void)pc_room_timeout_deadline(f->room, &b.deadline);
    assert_int_equal(pc_canon_print(pc_room_state(f->room), &b.canon, NULL),
                     PC_OK);
    return b;
}

static inline void assert_unchanged(const fixture *f, before *b)
{
    char *canon = NULL;
    int64_t deadline = -1;
    assert_int_equal(pc_canon_print(pc_room_state(f->room), &canon, NULL),
                     PC_OK);
    bool same = strcmp(canon, b->canon) == 0;
    pc_free(canon);
    pc_free(b->canon);
    assert_true(same);
    assert_int_equal(pc_room_seq(f->room), b->seq);
    assert_int_equal(pc_room_checksum(f->room), b->checksum);
    assert_int_equal(pc_history_count(f->room), b->history);
    assert_int_equal(f->changes, b->changes);
    (void)pc_room_timeout_deadline(f->room, &deadline);
    assert_int_equal(deadline, b->deadline);
}

static inline void assert_refused(const fixture *f, const char *player,
                                  const char *type, const char *payload,
                                  const char *code)
{
    before b = snapshot(f);
    pc_error err = {0};
    assert_int_equal(act(f->room, player, type, payload, &err), PC_ERR_ACTION);
    assert_int_equal(err.err, PC_ERR_ACTION);
    assert_string_equal(err.code, code);
    assert_true(err.message[0] != '\0');
    assert_unchanged(f, &b);
}

#endif /* PHASECAST_TESTS_PILES_FIXTURE_H */
