/*
 * test_encounter_log.c - the encounter game with a real durable change log
 * (changelog.h) in a temporary directory: a thunderwave the validator
 * refuses writes nothing to the log (no record, no byte), an encounter's
 * log verifies (every change replays to its recorded checksum), and a room
 * recovered from the log after a "crash" in the middle of a round plays on
 * exactly like a twin that never stopped, timers included. In process, on
 * an injected clock; the actions themselves are in test_encounter.c.
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
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "encounter/encounter.h"
#include "phasecast/changelog.h"
#include "phasecast/room.h"
#include "test_encounter_fixture.h"

static char dir[64];
static char path[128];

static int make_dir(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/pc-encounter-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    snprintf(path, sizeof path, "%s/e1.pclog", dir);
    testalloc_install();
    baseline = testalloc_live();
    now = T0;
    memset(&fx, 0, sizeof fx);
    encounter_config_init(&fx.cfg);
    *state = &fx;
    return 0;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) {
        return -1;
    }
    assert_int_equal(testalloc_live(), baseline);
    return 0;
}

static pc_changelog_options log_options(void)
{
    pc_changelog_options o;
    pc_changelog_options_init(&o);
    o.dir = dir;
    o.fsync = PC_FSYNC_NONE;
    return o;
}

static pc_room_options room_options(fixture *f, const char *id)
{
    pc_room_options o;
    pc_room_options_init(&o);
    o.id = id;
    o.seed = 11;
    o.seed_set = true;
    o.clock = fake_clock;
    o.arg = &f->cfg;
    return o;
}

/* A new started room "e1" with a change log. */
static pc_changelog *open_logged(fixture *f)
{
    pc_room_options o = room_options(f, "e1");
    pc_changelog_options lo = log_options();
    pc_changelog *log = NULL;
    assert_int_equal(pc_room_new(encounter_game(), &o, &f->room), PC_OK);
    assert_int_equal(pc_room_add_sink(f->room, record, f), PC_OK);
    assert_int_equal(pc_changelog_create(&lo, f->room, &log, NULL), PC_OK);
    assert_int_equal(pc_room_start(f->room), PC_OK);
    return log;
}

static uint64_t appends(const pc_changelog *log)
{
    pc_changelog_stats st;
    pc_changelog_stats_get(log, &st);
    return st.appends;
}

static long file_size(void)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (long)st.st_size;
}

static void test_a_refused_spell_writes_nothing_to_the_log(void **s)
{
    fixture *f = *s;
    pc_changelog *log = open_logged(f);
    start_fight(f);
    rig(f, "{\"heroes\":{\"alice\":{\"x\":3,\"y\":3}},\"monsters\":{\"m1\":"
           "{\"x\":0,\"y\":0},\"m2\":{\"x\":1,\"y\":2}}}");
    uint64_t n = appends(log);
    long bytes = file_size();
    assert_int_equal(n, pc_room_seq(f->room));
    /* m1 would be pushed off the map: the whole spell is refused. */
    refuse_as(f, "alice", PC_ROLE_PLAYER, "spell", "{\"x\":1,\"y\":1}",
              PC_ERR_REJECTED, "blocked");
    assert_int_equal(appends(log), n);
    assert_int_equal(file_size(), bytes);
    /* A spell that fits is one record. */
    accept(f, "alice", "spell", "{\"x\":3,\"y\":2}");
    assert_int_equal(appends(log), n + 1);
    assert_true(file_size() > bytes);
    uint64_t last = pc_room_seq(f->room);
    close_room(f);
    pc_changelog_free(log);
    pc_changelog_report rep;
    assert_int_equal(pc_changelog_verify(path, &rep), PC_OK);
    assert_string_equal(rep.game, "encounter");
    assert_int_equal(rep.last_seq, last);
    assert_int_equal(rep.problem, PC_CHANGELOG_CLEAN);
}

/* The same step on both rooms; they must agree after it. */
static void both(fixture *a, fixture *b, void (*step)(fixture *))
{
    step(a);
    step(b);
    assert_int_equal(pc_room_seq(a->room), pc_room_seq(b->room));
    assert_true(pc_room_checksum(a->room) == pc_room_checksum(b->room));
    assert_string_equal(pc_room_phase(a->room), pc_room_phase(b->room));
}

static void bob_attacks(fixture *f)
{
    now = T0 + 3000;
    accept(f, "bob", "attack", "{\"target\":\"m1\"}");
}

static void fire(fixture *f)
{
    int64_t deadline = 0;
    assert_true(pc_room_timeout_deadline(f->room, &deadline));
    now = deadline;
    assert_int_equal(pc_room_fire_timeout(f->room), PC_OK);
}

static void test_a_recovered_encounter_plays_on_like_its_twin(void **s)
{
    fixture *f = *s;
    static fixture twin;
    memset(&twin, 0, sizeof twin);
    encounter_config_init(&twin.cfg);
    pc_room_options to = room_options(&twin, "e1");
    assert_int_equal(pc_room_new(encounter_game(), &to, &twin.room), PC_OK);
    assert_int_equal(pc_room_start(twin.room), PC_OK);

    pc_changelog *log = open_logged(f);
    for (int k = 0; k < 2; k++) {
        fixture *x = k ? &twin : f;
        now = T0;
        start_fight(x);
        now = T0 + 1000;
        accept(x, "alice", "attack", "{\"target\":\"m2\"}");
    }
    /* Crash in the middle of round 1: only the log survives. */
    uint64_t seq = pc_room_seq(f->room);
    close_room(f);
    pc_changelog_free(log);
    pc_changelog_options lo = log_options();
    pc_room_options ro = room_options(f, "e1");
    const pc_changelog_game games[] = {{encounter_game(), &f->cfg}};
    pc_changelog_report rep;
    assert_int_equal(pc_changelog_recover(&lo, "e1", games, 1, &ro, 0, &f->room,
                                          &log, &rep, NULL),
                     PC_OK);
    assert_int_equal(pc_room_start(f->room), PC_OK);
    assert_int_equal(pc_room_seq(f->room), seq);
    assert_true(pc_room_checksum(f->room) == pc_room_checksum(twin.room));
    /* Its round timer kept its deadline; the dice go on where they were. */
    int64_t da = 0, db = 0;
    assert_true(pc_room_timeout_deadline(f->room, &da));
    assert_true(pc_room_timeout_deadline(twin.room, &db));
    assert_int_equal(da, db);
    both(f, &twin, bob_attacks); /* the last hero: RESOLUTION */
    both(f, &twin, fire);        /* round 2 */
    both(f, &twin, fire);        /* round 2's timer: defends */
    both(f, &twin, fire);        /* round 3 */
    assert_int_equal(int_at(f, "/round"), 3);
    close_room(f);
    pc_changelog_free(log);
    pc_room_free(twin.room);
    assert_int_equal(pc_changelog_verify(path, &rep), PC_OK);
    assert_int_equal(rep.problem, PC_CHANGELOG_CLEAN);
}

#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_a_refused_spell_writes_nothing_to_the_log),
        T(test_a_recovered_encounter_plays_on_like_its_twin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
