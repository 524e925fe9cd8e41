/*
 * test_encounter_play.c - the encounter game's phases, timers, events,
 * views, replay and allocation failures, played in process through the
 * framework only on an injected clock: the round timer's recorded
 * "defend", the monsters' turn in RESOLUTION, VICTORY and DEFEAT, every
 * event (its seq, reason, history record, unchanged checksum and
 * audience), what the public, each player and the game master see, two
 * rooms with one seed replaying the same game, timers armed before the
 * changes of an enter callback, a restored RESOLUTION finished by its
 * timeout, and attack and spell under failing allocations. The actions
 * themselves are in test_encounter.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "encounter/encounter.h"
#include "phasecast/history.h"
#include "phasecast/json.h"
#include "phasecast/room.h"
#include "phasecast/view.h"
#include "test_encounter_fixture.h"

static const pc_change *change_at(const fixture *f, uint64_t seq)
{
    const pc_change *c = NULL;
    assert_int_equal(pc_history_get(f->room, seq, &c), PC_OK);
    return c;
}

static const pc_viewer public_viewer = {.kind = PC_VIEWER_PUBLIC};
static const pc_viewer gm_viewer = {.kind = PC_VIEWER_GM};

static pc_viewer player(const char *id)
{
    pc_viewer v = {.kind = PC_VIEWER_PLAYER, .player = id};
    return v;
}

/* Who may see the event of change seq: public, alice, bob, GM. */
static void assert_audience(const fixture *f, uint64_t seq, bool pub,
                            bool alice, bool bob, bool gmv)
{
    const pc_change *c = change_at(f, seq);
    pc_viewer a = player("alice"), b = player("bob");
    assert_int_equal(c->kind, PC_CHANGE_EVENT);
    assert_int_equal(pc_view_event_as(&c->event, &public_viewer), pub);
    assert_int_equal(pc_view_event_as(&c->event, &a), alice);
    assert_int_equal(pc_view_event_as(&c->event, &b), bob);
    assert_int_equal(pc_view_event_as(&c->event, &gm_viewer), gmv);
    /* An event never changes the state. */
    assert_true(c->checksum == change_at(f, seq - 1)->checksum);
}

/* ---- ROUND entry: the private announcements ---------------------------- */

static void test_round_started_and_gm_summary_go_to_their_audiences(void **s)
{
    fixture *f = *s;
    setup_party(f);
    accept(f, "alice", "objective", "{\"text\":\"CANARY-OBJ-alice\"}");
    uint64_t start = pc_room_seq(f->room) + 1;
    assert_int_equal(gm(f, "start", NULL), 4);
    assert_int_equal(change_at(f, start)->kind, PC_CHANGE_TRANSITION);
    /* round_started to each hero, in id order, then the GM's summary. */
    const pc_change *c = change_at(f, start + 1);
    assert_string_equal(c->event.name, "round_started");
    assert_int_equal(c->event.audience, PC_AUDIENCE_PLAYER);
    assert_string_equal(c->event.player, "alice");
    assert_string_equal(c->reason, "round 1 begins for alice");
    assert_int_equal(
        (int)cJSON_GetObjectItem(c->event.data, "round")->valuedouble, 1);
    assert_string_equal(
        cJSON_GetObjectItem(c->event.data, "objective")->valuestring,
        "CANARY-OBJ-alice");
    assert_audience(f, start + 1, false, true, false, true);
    c = change_at(f, start + 2);
    assert_string_equal(c->event.player, "bob");
    assert_audience(f, start + 2, false, false, true, true);
    c = change_at(f, start + 3);
    assert_string_equal(c->event.name, "gm_summary");
    assert_int_equal(c->event.audience, PC_AUDIENCE_GM);
    cJSON *want = cJSON_Parse("{\"monsters\":{\"m1\":12,\"m2\":20}}");
    assert_true(pc_json_equal(c->event.data, want));
    cJSON_Delete(want);
    assert_audience(f, start + 3, false, false, false, true);
    /* Every event is journaled and broadcast like a change. */
    assert_int_equal(f->journals, (int)pc_room_seq(f->room));
    assert_int_equal(f->changes, (int)pc_room_seq(f->room));
    assert_int_equal(last_rec(f)->seq, start + 3);
}

/* ---- critical hits ----------------------------------------------------- */

static void test_a_natural_20_emits_a_public_critical_hit_event(void **s)
{
    fixture *f = *s;
    for (uint64_t seed = 1; seed < 1000; seed++) {
        reopen(f, seed);
        start_fight(f);
        uint64_t seq = pc_room_seq(f->room);
        accept(f, "alice", "attack", "{\"target\":\"m2\"}");
        if (int_at(f, "/heroes/alice/last/d20") != 20) {
            continue;
        }
        int damage = int_at(f, "/heroes/alice/last/damage");
        assert_int_equal(pc_room_seq(f->room), seq + 2);
        const pc_change *c = change_at(f, seq + 2);
        assert_string_equal(c->event.name, "critical_hit");
        assert_int_equal(c->event.audience, PC_AUDIENCE_PUBLIC);
        char want[128];
        snprintf(want, sizeof want,
                 "{\"attacker\":\"alice\",\"target\":\"m2\",\"damage\":%d}",
                 damage);
        cJSON *data = cJSON_Parse(want);
        assert_true(pc_json_equal(c->event.data, data));
        cJSON_Delete(data);
        snprintf(want, sizeof want,
                 "critical hit: alice rolls a natural 20 against orc (m2) "
                 "for %d",
                 damage);
        assert_string_equal(c->reason, want);
        assert_int_equal(cJSON_GetArraySize(c->patch), 0);
        assert_true(c->checksum == pc_room_checksum(f->room));
        assert_audience(f, seq + 2, true, true, true, true);
        assert_int_equal(f->journals, (int)pc_room_seq(f->room));
        assert_string_equal(last_rec(f)->name, "critical_hit");
        return;
    }
    fail_msg("no natural 20 in 1000 seeds");
}

/* ---- the round timer, resolution, the next round ---------------------- */

static void test_round_timer_makes_who_did_not_act_defend(void **s)
{
    fixture *f = *s;
    f->cfg.round_ms = 5000;
    setup_party(f);
    accept(f, "carol", "join", NULL);
    gm(f, "start", NULL);
    gm(f, "adjust_hp", "{\"target\":\"carol\",\"delta\":-24}");
    accept(f, "alice", "attack", "{\"target\":\"m1\"}");
    uint64_t seq = pc_room_seq(f->room);
    now += 1200; /* the deadline stays where ROUND's enter put it */
    fire_after(f, 5000 - 1200);
    /* bob did not act: he defends, and says why; carol is down. */
    const pc_change *c = change_at(f, seq + 1);
    assert_string_equal(c->reason, "bob did not act in time: defends");
    assert_string_equal(c->cause.phase, "ROUND");
    assert_int_equal(c->cause.kind, PC_CAUSE_TIMEOUT);
    c = change_at(f, seq + 2);
    assert_int_equal(c->kind, PC_CHANGE_TRANSITION);
    assert_string_equal(c->phase, "RESOLUTION");
    assert_string_equal(c->reason, "round 1: time is up");
    assert_string_equal(pc_room_phase(f->room), "RESOLUTION");
    assert_string_equal(str_at(f, "/heroes/bob/acted"), "defend");
    assert_true(cJSON_IsTrue(at(f, "/heroes/bob/defending")));
    assert_string_equal(str_at(f, "/heroes/alice/acted"), "attack");
    assert_null(at(f, "/heroes/carol/acted"));
    fire_after(f, f->cfg.resolution_ms);
    assert_string_equal(pc_room_phase(f->room), "ROUND");
    assert_int_equal(int_at(f, "/round"), 2);
    /* The transition, then round_started for three heroes (carol, down,
     * too) and the game master's summary. */
    assert_string_equal(reason_at(f, pc_room_seq(f->room) - 4),
                        "round 2 begins");
}

static void test_monsters_strike_the_nearest_hero_in_id_order(void **s)
{
    fixture *f = *s;
    start_fight(f);
    /* Every monster is 3 cells from each hero: ties go to alice. */
    rig(f, "{\"heroes\":{\"alice\":{\"x\":7,\"y\":5},\"bob\":{\"x\":4,"
           "\"y\":5}}}");
    accept(f, "alice", "defend", NULL);
    uint64_t seq = pc_room_seq(f->room);
    accept(f, "bob", "defend", NULL);
    assert_string_equal(reason_at(f, seq + 2),
                        "round 1: every living hero has acted");
    assert_memory_equal(reason_at(f, seq + 3), "goblin (m1) attacks alice", 25);
    assert_memory_equal(reason_at(f, seq + 4), "orc (m2) attacks alice", 22);
    assert_string_equal(reason_at(f, seq + 5),
                        "round 1: the monsters have struck");
    assert_true(cJSON_IsTrue(at(f, "/resolution/attacked/m1")));
    assert_true(cJSON_IsTrue(at(f, "/resolution/attacked/m2")));
    assert_true(cJSON_IsTrue(at(f, "/resolution/resolved")));
    /* Defending: at most (6 + 1) / 2 damage a hit. */
    assert_true(int_at(f, "/heroes/alice/hp") >= 24 - 6);
    /* Now bob stands nearer both. */
    fire_after(f, f->cfg.resolution_ms);
    rig(f, "{\"heroes\":{\"alice\":{\"x\":9,\"y\":9},\"bob\":{\"x\":5,"
           "\"y\":3}}}");
    gm(f, "end_round", NULL);
    assert_string_equal(pc_room_phase(f->room), "RESOLUTION");
    seq = pc_room_seq(f->room);
    assert_string_equal(reason_at(f, seq - 3), "the game master ends round 2");
    assert_memory_equal(reason_at(f, seq - 2), "goblin (m1) attacks bob", 23);
    assert_memory_equal(reason_at(f, seq - 1), "orc (m2) attacks bob", 20);
}

static void test_victory_announces_the_defeated_and_ends_the_game(void **s)
{
    fixture *f = *s;
    start_fight(f);
    rig(f, "{\"monsters\":{\"m1\":{\"armour\":0,\"hp\":1,\"condition\":"
           "\"bloodied\"},\"m2\":{\"armour\":0,\"hp\":1,\"condition\":"
           "\"bloodied\"}}}");
    accept(f, "alice", "attack", "{\"target\":\"m1\"}");
    assert_string_equal(str_at(f, "/monsters/m1/condition"), "defeated");
    assert_int_equal(int_at(f, "/monsters/m1/fell"), 1);
    uint64_t seq = pc_room_seq(f->room);
    accept(f, "bob", "attack", "{\"target\":\"m2\"}");
    const rec *m1 = find_event(f, seq, "monster_defeated");
    assert_non_null(m1);
    const pc_change *c = change_at(f, m1->seq);
    cJSON *want = cJSON_Parse("{\"id\":\"m1\",\"name\":\"goblin\"}");
    assert_true(pc_json_equal(c->event.data, want));
    cJSON_Delete(want);
    assert_string_equal(c->reason, "goblin (m1) is defeated");
    assert_audience(f, m1->seq, true, true, true, true);
    c = change_at(f, m1->seq + 1);
    assert_string_equal(c->event.name, "monster_defeated");
    assert_string_equal(c->reason, "orc (m2) is defeated");
    assert_null(find_event(f, seq, "hero_down"));
    fire_after(f, f->cfg.resolution_ms);
    assert_string_equal(pc_room_phase(f->room), "VICTORY");
    assert_string_equal(str_at(f, "/outcome"), "victory");
    assert_string_equal(reason_at(f, pc_room_seq(f->room)),
                        "victory in round 1: every monster is defeated");
    assert_false(pc_room_timeout_deadline(f->room, NULL));
    refuse(f, "alice", "attack", "{\"target\":\"m1\"}", "game_over");
    refuse(f, "dave", "join", NULL, "game_over");
    refuse_as(f, GM, PC_ROLE_GM, "note", "{\"text\":\"x\"}", PC_ERR_ACTION,
              "game_over");
}

static void test_the_last_monster_falling_ends_the_round_at_once(void **s)
{
    fixture *f = *s;
    start_fight(f);
    gm(f, "adjust_hp", "{\"target\":\"m2\",\"delta\":-20}");
    rig(f, "{\"monsters\":{\"m1\":{\"armour\":0,\"hp\":1,\"condition\":"
           "\"bloodied\"}}}");
    uint64_t seq = pc_room_seq(f->room);
    accept(f, "alice", "attack", "{\"target\":\"m1\"}");
    /* bob has not acted, but nothing is left to act on. */
    assert_string_equal(pc_room_phase(f->room), "RESOLUTION");
    const rec *r = find_event(f, seq, "monster_defeated");
    assert_non_null(r);
    assert_string_equal(change_at(f, r->seq - 2)->reason,
                        "round 1: every monster is defeated");
    assert_null(at(f, "/heroes/bob/acted"));
    fire_after(f, f->cfg.resolution_ms);
    assert_string_equal(pc_room_phase(f->room), "VICTORY");
}

static void test_defeat_when_every_hero_is_down(void **s)
{
    fixture *f = *s;
    start_fight(f);
    gm(f, "adjust_hp", "{\"target\":\"alice\",\"delta\":-24}");
    uint64_t seq = pc_room_seq(f->room);
    gm(f, "adjust_hp", "{\"target\":\"bob\",\"delta\":-30}");
    assert_string_equal(pc_room_phase(f->room), "RESOLUTION");
    const rec *down = find_event(f, seq, "hero_down");
    assert_non_null(down);
    assert_string_equal(down->reason, "alice is down");
    assert_int_equal(down->audience, PC_AUDIENCE_PUBLIC);
    assert_string_equal(change_at(f, down->seq + 1)->reason, "bob is down");
    assert_null(find_event(f, seq, "monster_defeated"));
    fire_after(f, f->cfg.resolution_ms);
    assert_string_equal(pc_room_phase(f->room), "DEFEAT");
    assert_string_equal(str_at(f, "/outcome"), "defeat");
    assert_string_equal(reason_at(f, pc_room_seq(f->room)),
                        "defeat in round 1: every hero is down");
    refuse(f, "alice", "defend", NULL, "game_over");
}

static void test_defeat_when_the_last_round_is_over(void **s)
{
    fixture *f = *s;
    f->cfg.max_rounds = 2;
    start_fight(f);
    gm(f, "end_round", NULL);
    fire_after(f, f->cfg.resolution_ms);
    assert_int_equal(int_at(f, "/round"), 2);
    fire_after(f, f->cfg.round_ms);
    fire_after(f, f->cfg.resolution_ms);
    assert_string_equal(pc_room_phase(f->room), "DEFEAT");
    assert_string_equal(
        reason_at(f, pc_room_seq(f->room)),
        "defeat: the last round (2) is over and 2 monsters still stand");
}

/* ---- timers armed first; the timeout finishes ------------------------- */

static int timer_seq[8];
static int timer_calls;

static void note_timer(pc_room *room, int64_t deadline_ms, void *arg)
{
    (void)arg;
    if (deadline_ms >= 0 && timer_calls < 8) {
        timer_seq[timer_calls++] = (int)pc_room_seq(room);
    }
}

static void test_enter_callbacks_arm_their_timer_before_changing(void **s)
{
    fixture *f = *s;
    pc_room_set_journal(f->room, count_journal, note_timer, f);
    timer_calls = 0;
    start_fight(f);
    /* ROUND armed right after the start transition, before its events. */
    assert_int_equal(timer_calls, 1);
    assert_int_equal(timer_seq[0], (int)pc_room_seq(f->room) - 3);
    accept(f, "alice", "defend", NULL);
    uint64_t seq = pc_room_seq(f->room);
    accept(f, "bob", "defend", NULL);
    /* RESOLUTION armed right after its transition, before the attacks. */
    assert_int_equal(timer_calls, 2);
    assert_int_equal(timer_seq[1], (int)seq + 2);
    assert_true(pc_room_seq(f->room) > seq + 2);
}

static void test_a_restored_resolution_is_finished_by_its_timeout(void **s)
{
    fixture *f = *s;
    start_fight(f);
    /* The image a crash right after the transition would leave: in
     * RESOLUTION, its timer armed, no monster has attacked yet. */
    cJSON *doc = cJSON_Duplicate(pc_room_state(f->room), true);
    cJSON_ReplaceItemInObjectCaseSensitive(doc, "phase",
                                           cJSON_CreateString("RESOLUTION"));
    pc_room_image img = {.state = doc,
                         .seq = pc_room_seq(f->room),
                         .seed = pc_room_seed(f->room),
                         .draws = pc_room_draws(f->room),
                         .timer = true,
                         .deadline_ms = now + 1000};
    pc_room_options opts;
    pc_room_options_init(&opts);
    opts.clock = fake_clock;
    opts.arg = &f->cfg;
    close_room(f);
    assert_int_equal(pc_room_restore(encounter_game(), &opts, &img, &f->room),
                     PC_OK);
    cJSON_Delete(doc);
    assert_int_equal(pc_room_start(f->room), PC_OK);
    assert_int_equal(pc_room_seq(f->room), img.seq); /* enter did not run */
    fire_after(f, 1000);
    /* The timeout made both attacks, marked the round, then moved on. */
    assert_string_equal(pc_room_phase(f->room), "ROUND");
    assert_int_equal(int_at(f, "/round"), 2);
    assert_memory_equal(reason_at(f, img.seq + 1), "goblin (m1) attacks", 19);
    assert_memory_equal(reason_at(f, img.seq + 2), "orc (m2) attacks", 16);
    assert_string_equal(reason_at(f, img.seq + 3),
                        "round 1: the monsters have struck");
    assert_string_equal(reason_at(f, img.seq + 4), "round 2 begins");
}

/* ---- views -------------------------------------------------------------- */

static void assert_sees(const fixture *f, const pc_viewer *v,
                        const char *const *paths, const bool *want, size_t n)
{
    cJSON *view = NULL;
    assert_int_equal(
        pc_view_state_as(encounter_game(), pc_room_state(f->room), v, &view),
        PC_OK);
    for (size_t i = 0; i < n; i++) {
        bool seen = pc_json_pointer_get(view, paths[i]) != NULL;
        if (seen != want[i]) {
            fail_msg("viewer %d %s: %s %s", v->kind, v->player ? v->player : "",
                     paths[i], seen ? "seen" : "not seen");
        }
    }
    char *text = cJSON_PrintUnformatted(view);
    bool canary = strstr(text, "CANARY") != NULL;
    cJSON_free(text);
    cJSON_Delete(view);
    assert_int_equal(canary, v->kind != PC_VIEWER_PUBLIC);
}

static void test_views_show_each_viewer_what_it_may_see(void **s)
{
    fixture *f = *s;
    setup_party(f);
    accept(f, "alice", "objective", "{\"text\":\"CANARY-OBJ-alice\"}");
    accept(f, "bob", "objective", "{\"text\":\"CANARY-OBJ-bob\"}");
    gm(f, "note", "{\"text\":\"CANARY-GMNOTE\"}");
    gm(f, "start", NULL);
    static const char *const paths[] = {
        "/data/heroes/alice/hp",
        "/data/heroes/alice/condition",
        "/data/heroes/alice/x",
        "/data/heroes/alice/sheet",
        "/data/heroes/bob/sheet",
        "/data/monsters/m2/name",
        "/data/monsters/m2/condition",
        "/data/monsters/m2/x",
        "/data/monsters/m2/hp",
        "/data/monsters/m2/max_hp",
        "/data/monsters/m2/armour",
        "/data/monsters/m2/note",
        "/data/gm_notes",
        "/data/round",
    };
    /*                        hp     cond   x      sheetA sheetB name
     *                        mcond  mx     mhp    mmax   armour note
     *                        gmnotes round */
    static const bool pub[] = {true, true,  true,  false, false, true,  true,
                               true, false, false, false, false, false, true};
    static const bool alice[] = {true, true,  true,  true,  false, true,  true,
                                 true, false, false, false, false, false, true};
    static const bool bob[] = {true, true,  true,  false, true,  true,  true,
                               true, false, false, false, false, false, true};
    static const bool all[] = {true, true, true, true, true, true, true,
                               true, true, true, true, true, true, true};
    size_t n = sizeof paths / sizeof paths[0];
    pc_viewer a = player("alice"), b = player("bob");
    assert_sees(f, &public_viewer, paths, pub, n);
    assert_sees(f, &a, paths, alice, n);
    assert_sees(f, &b, paths, bob, n);
    assert_sees(f, &gm_viewer, paths, all, n);
    /* A patch is filtered the same way: a spell's slot is alice's. */
    uint64_t seq = pc_room_seq(f->room);
    accept(f, "alice", "spell", "{\"x\":2,\"y\":7}");
    cJSON *view = NULL;
    bool priv = false;
    assert_int_equal(pc_view_patch_as(encounter_game(),
                                      change_at(f, seq + 1)->patch,
                                      &public_viewer, &view, &priv),
                     PC_OK);
    assert_true(priv);
    assert_null(pc_json_pointer_get(view, "/heroes/alice/sheet"));
    assert_non_null(pc_json_pointer_get(view, "/heroes/alice/acted"));
    cJSON_Delete(view);
    /* No reason so far carries a secret. */
    for (uint64_t i = 1; i <= pc_room_seq(f->room); i++) {
        assert_null(strstr(reason_at(f, i), "CANARY"));
    }
}

/* ---- replay ------------------------------------------------------------- */

/* Fire whatever timer is armed, at its deadline. */
static void fire_next(fixture *f)
{
    int64_t deadline = 0;
    assert_true(pc_room_timeout_deadline(f->room, &deadline));
    now = deadline;
    assert_int_equal(pc_room_fire_timeout(f->room), PC_OK);
}

/* A whole scripted fight; the sink's records are the result. */
static void play_script(fixture *f, uint64_t seed)
{
    reopen(f, seed);
    setup_party(f);
    gm(f, "start", NULL);
    for (int round = 0;
         round < 4 && strcmp(pc_room_phase(f->room), "ROUND") == 0; round++) {
        now += 700;
        (void)act_as(f->room, "alice", PC_ROLE_PLAYER, "attack",
                     "{\"target\":\"m1\"}", NULL);
        if (round % 2 == 0) {
            now += 300;
            (void)act_as(f->room, "bob", PC_ROLE_PLAYER, "attack",
                         "{\"target\":\"m2\"}", NULL);
        } else if (strcmp(pc_room_phase(f->room), "ROUND") == 0) {
            fire_next(f); /* bob defends by default */
        }
        if (strcmp(pc_room_phase(f->room), "RESOLUTION") == 0) {
            fire_next(f);
        }
    }
}

static void test_same_seed_and_actions_replay_the_same_game(void **s)
{
    fixture *f = *s;
    static rec first[RECS_MAX];
    play_script(f, 7);
    int n = f->changes;
    uint64_t sum = pc_room_checksum(f->room);
    assert_true(n > 20 && n <= RECS_MAX);
    memcpy(first, f->recs, sizeof first);
    play_script(f, 7);
    assert_int_equal(f->changes, n);
    assert_true(pc_room_checksum(f->room) == sum);
    for (int i = 0; i < n; i++) {
        assert_int_equal(f->recs[i].seq, first[i].seq);
        assert_int_equal(f->recs[i].kind, first[i].kind);
        assert_string_equal(f->recs[i].name, first[i].name);
        assert_int_equal(f->recs[i].audience, first[i].audience);
        assert_string_equal(f->recs[i].player, first[i].player);
        assert_string_equal(f->recs[i].reason, first[i].reason);
        assert_true(f->recs[i].checksum == first[i].checksum);
    }
    /* Another seed rolls other dice somewhere. */
    play_script(f, 8);
    bool differs = f->changes != n || pc_room_checksum(f->room) != sum;
    for (int i = 0; !differs && i < n; i++) {
        differs = f->recs[i].checksum != first[i].checksum;
    }
    assert_true(differs);
}

/* ---- allocation failures ---------------------------------------------- */

/* Run one action under a failure at every allocation point in turn, each
 * time in a fresh room reaching the same point: either nothing changed,
 * or exactly one change made the state the unfailed run made. */
static void oom_loop(fixture *f, uint64_t seed, const char *rigging,
                     const char *type, const char *payload)
{
    reopen(f, seed);
    start_fight(f);
    rig(f, rigging);
    accept(f, "alice", type, payload);
    uint64_t want_sum = pc_room_checksum(f->room);
    uint64_t want_seq = pc_room_seq(f->room);
    int failures = 0;
    for (size_t n = 1;; n++) {
        reopen(f, seed);
        start_fight(f);
        rig(f, rigging);
        uint64_t seq = pc_room_seq(f->room);
        uint64_t sum = pc_room_checksum(f->room);
        int changes = f->changes, journals = f->journals;
        cJSON *p = cJSON_Parse(payload);
        pc_action a = {.player = "alice", .type = type, .payload = p};
        testalloc_fail_at(n, false);
        pc_err rc = pc_room_action(f->room, &a, NULL, NULL);
        bool failed = testalloc_failed();
        testalloc_fail_at(0, false);
        cJSON_Delete(p);
        if (!failed) {
            assert_int_equal(rc, PC_OK);
            break;
        }
        failures++;
        if (pc_room_seq(f->room) == seq) {
            assert_true(rc != PC_OK);
            assert_true(pc_room_checksum(f->room) == sum);
            assert_int_equal(f->changes, changes);
            assert_int_equal(f->journals, journals);
        } else {
            assert_int_equal(pc_room_seq(f->room), seq + 1);
            assert_int_equal(pc_room_seq(f->room), want_seq);
            assert_true(pc_room_checksum(f->room) == want_sum);
            assert_int_equal(f->changes, changes + 1);
        }
    }
    assert_true(failures > 10);
}

static void test_attack_and_spell_under_failing_allocations(void **s)
{
    fixture *f = *s;
    /* A seed whose first attack is no natural 20 (which adds an event). */
    uint64_t seed = 1;
    for (;; seed++) {
        reopen(f, seed);
        start_fight(f);
        accept(f, "alice", "attack", "{\"target\":\"m1\"}");
        if (int_at(f, "/heroes/alice/last/d20") != 20) {
            break;
        }
    }
    oom_loop(f, seed, "{\"round\":1}", "attack", "{\"target\":\"m1\"}");
    oom_loop(f, seed,
             "{\"heroes\":{\"alice\":{\"x\":3,\"y\":7}},\"monsters\":{\"m1\":"
             "{\"x\":4,\"y\":4},\"m2\":{\"x\":5,\"y\":5}}}",
             "spell", "{\"x\":4,\"y\":4}");
}

/* The round's end under a failure at every allocation point in turn:
 * whatever failed (the last action, the transition, a monster's attack,
 * the mark), the timers finish the round, and each monster has attacked
 * exactly once when round 2 begins. */
static void test_a_failing_resolution_is_finished_exactly_once(void **s)
{
    fixture *f = *s;
    int failures = 0;
    for (size_t n = 1;; n++) {
        reopen(f, 5);
        start_fight(f);
        accept(f, "alice", "defend", NULL);
        uint64_t from = pc_room_seq(f->room);
        cJSON *none = NULL;
        pc_action a = {.player = "bob", .type = "defend", .payload = none};
        testalloc_fail_at(n, false);
        (void)pc_room_action(f->room, &a, NULL, NULL);
        bool failed = testalloc_failed();
        testalloc_fail_at(0, false);
        for (int guard = 0; guard < 20 && int_at(f, "/round") == 1; guard++) {
            if (at(f, "/heroes/bob/acted") == NULL) {
                accept(f, "bob", "defend", NULL); /* it was refused */
            } else {
                fire_next(f);
            }
        }
        assert_int_equal(int_at(f, "/round"), 2);
        int attacks[2] = {0, 0}, struck = 0;
        for (uint64_t i = from + 1; i <= pc_room_seq(f->room); i++) {
            const char *r = reason_at(f, i);
            attacks[0] += strncmp(r, "goblin (m1) attacks", 19) == 0;
            attacks[1] += strncmp(r, "orc (m2) attacks", 16) == 0;
            struck += strcmp(r, "round 1: the monsters have struck") == 0;
        }
        assert_int_equal(attacks[0], 1);
        assert_int_equal(attacks[1], 1);
        assert_int_equal(struck, 1);
        if (!failed) {
            break;
        }
        failures++;
    }
    assert_true(failures > 10);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_round_started_and_gm_summary_go_to_their_audiences),
        T(test_a_natural_20_emits_a_public_critical_hit_event),
        T(test_round_timer_makes_who_did_not_act_defend),
        T(test_monsters_strike_the_nearest_hero_in_id_order),
        T(test_victory_announces_the_defeated_and_ends_the_game),
        T(test_the_last_monster_falling_ends_the_round_at_once),
        T(test_defeat_when_every_hero_is_down),
        T(test_defeat_when_the_last_round_is_over),
        T(test_enter_callbacks_arm_their_timer_before_changing),
        T(test_a_restored_resolution_is_finished_by_its_timeout),
        T(test_views_show_each_viewer_what_it_may_see),
        T(test_same_seed_and_actions_replay_the_same_game),
        T(test_attack_and_spell_under_failing_allocations),
        T(test_a_failing_resolution_is_finished_exactly_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
