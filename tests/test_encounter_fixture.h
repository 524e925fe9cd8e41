/*
 * test_encounter_fixture.h - the fixture and helpers that test_encounter.c
 * and test_encounter_play.c share: a started encounter room on a fake
 * clock, a sink that records every change (seq, kind, event, audience,
 * checksum, reason) as the broadcast would see it, a journal that counts
 * the records a change log would write, actions from JSON text as a
 * player or as the game master, positions and hit points rigged by direct
 * updates from the host, and the check that a refused action changes
 * nothing. Test code only: the helpers are static inline so each test
 * file takes what it uses. Include it after cmocka.h.
 */
#ifndef PHASECAST_TESTS_ENCOUNTER_FIXTURE_H
#define PHASECAST_TESTS_ENCOUNTER_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "encounter/encounter.h"
#include "phasecast/change.h"
#include "phasecast/error.h"
#include "phasecast/history.h"
#include "phasecast/json.h"
#include "phasecast/room.h"
#include "phasecast/view.h"
#include "testalloc.h"

#define T0       1700000000000LL
#define GM       "gm"
#define RECS_MAX 400

/* One change as the sink saw it. */
typedef struct rec {
    uint64_t seq;
    pc_change_kind kind;
    char name[PC_EVENT_NAME_MAX + 1]; /* the event's name, or "" */
    pc_audience audience;
    char player[PC_EVENT_NAME_MAX + 1]; /* PLAYER audience: who */
    uint64_t checksum;
    char phase[32];
    char reason[256];
} rec;

/* One started encounter room on a fake clock, and what it produced. */
typedef struct fixture {
    pc_room *room;
    encounter_config cfg;
    int changes;  /* changes handed to the sink (the broadcast) */
    int journals; /* records the journal accepted (a change log) */
    rec recs[RECS_MAX];
} fixture;

static fixture fx;
static size_t baseline;
static int64_t now;

static inline int64_t fake_clock(void *arg)
{
    (void)arg;
    return now;
}

static inline void record(pc_room *room, const pc_change *c, void *arg)
{
    (void)room;
    fixture *f = arg;
    if (f->changes < RECS_MAX) {
        rec *r = &f->recs[f->changes];
        memset(r, 0, sizeof *r);
        r->seq = c->seq;
        r->kind = c->kind;
        r->audience = c->event.audience;
        r->checksum = c->checksum;
        snprintf(r->name, sizeof r->name, "%s",
                 c->event.name ? c->event.name : "");
        snprintf(r->player, sizeof r->player, "%s",
                 c->event.player ? c->event.player : "");
        snprintf(r->phase, sizeof r->phase, "%s", c->phase);
        snprintf(r->reason, sizeof r->reason, "%s", c->reason);
    }
    f->changes++;
}

static inline pc_err count_journal(pc_room *room, const pc_change *change,
                                   pc_error *why, void *arg)
{
    (void)room;
    (void)change;
    (void)why;
    ((fixture *)arg)->journals++;
    return PC_OK;
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
    if (pc_room_new(encounter_game(), &opts, &f->room) != PC_OK ||
        pc_room_add_sink(f->room, record, f) != PC_OK) {
        return -1;
    }
    pc_room_set_journal(f->room, count_journal, NULL, f);
    return pc_room_start(f->room) == PC_OK ? 0 : -1;
}

static inline void close_room(fixture *f)
{
    pc_room_free(f->room);
    f->room = NULL;
}

/* Close the room and open a fresh one with another seed (same config). */
static inline void reopen(fixture *f, uint64_t seed)
{
    close_room(f);
    f->changes = 0;
    f->journals = 0;
    now = T0;
    assert_int_equal(open_room(f, seed), 0);
}

static inline int setup(void **state)
{
    testalloc_install();
    baseline = testalloc_live();
    now = T0;
    memset(&fx, 0, sizeof fx);
    encounter_config_init(&fx.cfg);
    *state = &fx;
    return open_room(&fx, 42);
}

static inline int teardown(void **state)
{
    (void)state;
    close_room(&fx);
    assert_int_equal(testalloc_live(), baseline);
    return 0;
}

/* ---- actions ---------------------------------------------------------- */

static inline pc_err act_as(pc_room *room, const char *player, pc_role role,
                            const char *type, const char *payload,
                            pc_error *err)
{
    cJSON *p = payload != NULL ? cJSON_Parse(payload) : NULL;
    if (payload != NULL) {
        assert_non_null(p);
    }
    pc_action a = {.player = player, .type = type, .payload = p, .role = role};
    pc_err rc = pc_room_action(room, &a, NULL, err);
    cJSON_Delete(p);
    return rc;
}

/* The action is accepted; returns how many changes it made. */
static inline int accept_as(fixture *f, const char *player, pc_role role,
                            const char *type, const char *payload)
{
    uint64_t seq = pc_room_seq(f->room);
    pc_error err = {0};
    pc_err rc = act_as(f->room, player, role, type, payload, &err);
    if (rc != PC_OK) {
        fail_msg("%s %s %s refused: %s (%s)", player, type,
                 payload ? payload : "", err.code, err.message);
    }
    assert_true(pc_room_seq(f->room) > seq);
    return (int)(pc_room_seq(f->room) - seq);
}

static inline int accept(fixture *f, const char *player, const char *type,
                         const char *payload)
{
    return accept_as(f, player, PC_ROLE_PLAYER, type, payload);
}

static inline int gm(fixture *f, const char *type, const char *payload)
{
    return accept_as(f, GM, PC_ROLE_GM, type, payload);
}

/* The action is refused with rc and code, and nothing changed: state,
 * checksum, seq, history, journal and sink. */
static inline void refuse_as(fixture *f, const char *player, pc_role role,
                             const char *type, const char *payload, pc_err want,
                             const char *code)
{
    uint64_t seq = pc_room_seq(f->room);
    uint64_t sum = pc_room_checksum(f->room);
    size_t kept = pc_history_count(f->room);
    int changes = f->changes, journals = f->journals;
    cJSON *before = cJSON_Duplicate(pc_room_state(f->room), true);
    pc_error err = {0};
    pc_err rc = act_as(f->room, player, role, type, payload, &err);
    if (rc != want || strcmp(err.code, code) != 0) {
        fail_msg("%s %s %s: got %d %s (%s), wanted %d %s", player, type,
                 payload ? payload : "", rc, err.code, err.message, want, code);
    }
    assert_int_equal(pc_room_seq(f->room), seq);
    assert_true(pc_room_checksum(f->room) == sum);
    assert_true(pc_json_equal(pc_room_state(f->room), before));
    assert_int_equal(pc_history_count(f->room), kept);
    assert_int_equal(f->changes, changes);
    assert_int_equal(f->journals, journals);
    cJSON_Delete(before);
}

static inline void refuse(fixture *f, const char *player, const char *type,
                          const char *payload, const char *code)
{
    refuse_as(f, player, PC_ROLE_PLAYER, type, payload, PC_ERR_ACTION, code);
}

/* ---- reading the state ------------------------------------------------ */

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
    if (!cJSON_IsNumber(v)) {
        fail_msg("%s is not a number", pointer);
    }
    return (int)v->valuedouble;
}

static inline const char *reason_at(const fixture *f, uint64_t seq)
{
    const pc_change *c = NULL;
    assert_int_equal(pc_history_get(f->room, seq, &c), PC_OK);
    return c->reason;
}

/* The last change the sink saw. */
static inline const rec *last_rec(const fixture *f)
{
    assert_true(f->changes > 0 && f->changes <= RECS_MAX);
    return &f->recs[f->changes - 1];
}

/* The first change at or after seq whose event is name, or NULL. */
static inline const rec *find_event(const fixture *f, uint64_t from,
                                    const char *name)
{
    for (int i = 0; i < f->changes && i < RECS_MAX; i++) {
        if (f->recs[i].seq >= from && f->recs[i].kind == PC_CHANGE_EVENT &&
            strcmp(f->recs[i].name, name) == 0) {
            return &f->recs[i];
        }
    }
    return NULL;
}

/* ---- rigging and time ------------------------------------------------- */

/* A direct update from the host (a test rig), which must be accepted. */
static inline void rig(fixture *f, const char *json)
{
    pc_err rc = pc_update_phase_text(f->room, json, "rig");
    if (rc != PC_OK) {
        fail_msg("rig %s refused: %s", json,
                 pc_room_last_error(f->room)->message);
    }
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

/* alice at (0, 9) and bob at (1, 9); a goblin m1 (hp 12, armour 13) at
 * (4, 2) and an orc m2 (hp 20, armour 10) at (6, 2) with a hidden note. */
static inline void setup_party(fixture *f)
{
    accept(f, "alice", "join", NULL);
    accept(f, "bob", "join", NULL);
    gm(f, "add_monster",
       "{\"id\":\"m1\",\"name\":\"goblin\",\"hp\":12,\"armour\":13,"
       "\"x\":4,\"y\":2}");
    gm(f, "add_monster",
       "{\"id\":\"m2\",\"name\":\"orc\",\"hp\":20,\"armour\":10,"
       "\"x\":6,\"y\":2,\"note\":\"CANARY-NOTE flees at half\"}");
}

/* setup_party, then the game master starts round 1. */
static inline void start_fight(fixture *f)
{
    setup_party(f);
    gm(f, "start", NULL);
    assert_string_equal(pc_room_phase(f->room), "ROUND");
    assert_int_equal(int_at(f, "/round"), 1);
}

#endif
