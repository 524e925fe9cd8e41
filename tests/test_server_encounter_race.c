/*
 * test_server_encounter_race.c - two heroes attack the same monster at
 * the same instant, over real nng sockets (TCP on 127.0.0.1), in an
 * encounter room: two threads released by one barrier send their attacks
 * on REQ sockets of their own, 1,000 rounds running (50 under valgrind;
 * the environment variable PC_ENCOUNTER_RACE_TRIALS chooses another count,
 * up to the 1,000 rounds a room plays at most).
 *
 * In every round both attacks are applied, one after the other, in
 * whichever order the room's loop took them: the first attack's change is
 * the seq after the round's, the second's the seq right after the first
 * reply's, and its reply holds the transition to RESOLUTION (the last
 * hero acted).
 * Each reply names the seq its action produced and carries its changes,
 * contiguous, the first of them holding the hero's attack and its damage.
 * The monster's hit points, read by the game master at the end, are the
 * start minus the sum of the damage the replies reported. The monster
 * has armour 0, so every attack hits; the game master tops the heroes up
 * between rounds so the monster's blows never end the encounter.
 */
#define _POSIX_C_SOURCE 200809L

#include "test_encounter_net_fixture.h"

#include <pthread.h>

#define TRIALS_DEFAULT  1000
#define TRIALS_VALGRIND 50 /* memcheck runs 20-50 times slower */
#define MONSTER_HP      1000000

/* One hero's side of a trial. */
typedef struct racer {
    const char *who;
    const char *token;
    pthread_barrier_t *go;
    int trial;
    nng_socket req;
    char *reply; /* malloc'd raw reply, or NULL */
    size_t len;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    char body[512];
    int n = snprintf(body, sizeof body,
                     "{\"op\":\"action\",\"room\":\"" ENC_ROOM
                     "\",\"token\":\"%s\",\"action_id\":\"t%d-%s\",\"type\":"
                     "\"attack\",\"payload\":{\"target\":\"m1\"}}",
                     r->token, r->trial, r->who);
    r->reply = NULL;
    pthread_barrier_wait(r->go);
    /* No cmocka assertions off the main thread: keep the reply. */
    if (nng_send(r->req, body, (size_t)n, 0) != 0) {
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0;
    if (nng_recv(r->req, &buf, &len, NNG_FLAG_ALLOC) != 0) {
        return NULL;
    }
    r->reply = malloc(len);
    if (r->reply != NULL) {
        memcpy(r->reply, buf, len);
        r->len = len;
    }
    nng_free(buf, len);
    return NULL;
}

/* What one reply says. */
typedef struct outcome {
    uint64_t seq;   /* result.seq */
    uint64_t first; /* its first change's seq */
    int changes;    /* how many it carries */
    int damage;     /* the hero's attack, from the change that holds it */
    const char *phase, *kind; /* that change's */
    bool resolves;            /* a change of it enters RESOLUTION */
    cJSON *doc;
} outcome;

static outcome read_reply(const racer *r)
{
    assert_non_null(r->reply);
    outcome o = {0};
    assert_int_equal(pc_json_parse(r->reply, r->len, NULL, &o.doc, NULL),
                     PC_OK);
    const cJSON *res = ok_result(o.doc);
    o.seq = (uint64_t)num(res, "seq");
    const cJSON *chs = cJSON_GetObjectItemCaseSensitive(res, "changes");
    assert_true(cJSON_GetArraySize(chs) >= 1);
    /* The changes are the seqs the action produced, contiguous, and end
     * at the reply's seq. */
    uint64_t expect = 0;
    const cJSON *ch;
    cJSON_ArrayForEach(ch, chs)
    {
        uint64_t s = (uint64_t)num(ch, "seq");
        assert_true(expect == 0 || s == expect);
        expect = s + 1;
    }
    assert_int_equal(expect - 1, o.seq);
    o.first = (uint64_t)num(cJSON_GetArrayItem(chs, 0), "seq");
    o.changes = cJSON_GetArraySize(chs);
    /* The attack's change (a natural 20 adds a critical_hit event). */
    char path[96];
    snprintf(path, sizeof path, "/patch/heroes/%s/last", r->who);
    const cJSON *c0 = NULL, *last = NULL;
    cJSON_ArrayForEach(ch, chs)
    {
        if (last == NULL && (last = pc_json_pointer_get(ch, path)) != NULL) {
            c0 = ch;
        }
    }
    assert_non_null(last);
    cJSON_ArrayForEach(ch, chs)
    {
        o.resolves =
            o.resolves || (strcmp(str(ch, "kind"), "transition") == 0 &&
                           strcmp(str(ch, "phase"), "RESOLUTION") == 0);
    }
    o.phase = str(c0, "phase");
    o.kind = str(c0, "kind");
    assert_string_equal(enc_str(last, "/action"), "attack");
    assert_string_equal(enc_str(last, "/target"), "m1");
    o.damage = enc_int(last, "/damage");
    assert_true(o.damage >= 3 && o.damage <= 20); /* d8 + 2, doubled on 20 */
    snprintf(path, sizeof path, "/patch/heroes/%s/acted", r->who);
    assert_string_equal(enc_str(c0, path), "attack");
    return o;
}

/* Heal a hero the monster has worn down, so the encounter never ends. */
static void top_up(nng_socket req, const char *gm, const cJSON *st,
                   const char *who, int trial)
{
    char path[64], id[48], payload[96];
    snprintf(path, sizeof path, "/data/heroes/%s/hp", who);
    if (enc_int(st, path) < 12) {
        snprintf(id, sizeof id, "heal-%s-%d", who, trial);
        snprintf(payload, sizeof payload, "{\"target\":\"%s\",\"delta\":100}",
                 who);
        enc_act_ok(req, gm, id, "adjust_hp", payload);
    }
}

static int trials_wanted(void)
{
    const char *v = getenv("PC_ENCOUNTER_RACE_TRIALS");
    long n = v != NULL ? strtol(v, NULL, 10) : 0;
    if (n <= 0 && testenv_under_valgrind()) {
        return TRIALS_VALGRIND;
    }
    /* One round per trial, and a room plays ENCOUNTER_ROUNDS_MAX at most. */
    return n > 0 && n <= ENCOUNTER_ROUNDS_MAX ? (int)n : TRIALS_DEFAULT;
}

static void test_simultaneous_attacks_are_applied_one_at_a_time(void **state)
{
    (void)state;
    int trials = trials_wanted();
    encounter_config cfg;
    static encounter_config store;
    encounter_config_init(&cfg);
    cfg.round_ms = 600000; /* never fires: both heroes always act */
    cfg.resolution_ms = 1;
    cfg.max_rounds = trials; /* DEFEAT after the last trial's round */
    cfg.max_heroes = 2;
    pc_server *srv = enc_serve(&cfg, &store, 42, 100);
    nng_socket req = req_open(pc_server_rep_url(srv));
    char ann[33], ben[33], gm[33];
    enc_join(req, "player", "ann", ann);
    enc_join(req, "player", "ben", ben);
    enc_join(req, "gm", "dm", gm);
    enc_act_ok(req, gm, "m1", "add_monster",
               "{\"id\":\"m1\",\"name\":\"wall\",\"hp\":1000000,"
               "\"armour\":0,\"x\":5,\"y\":3}");
    enc_act_ok(req, gm, "go", "start", "null");

    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 2);
    racer a = {.who = "ann",
               .token = ann,
               .go = &go,
               .req = req_open(pc_server_rep_url(srv))};
    racer b = {.who = "ben",
               .token = ben,
               .go = &go,
               .req = req_open(pc_server_rep_url(srv))};
    long total = 0;
    int ann_first = 0, crits = 0;
    int64_t t0 = mono_ms();
    for (int t = 0; t < trials; t++) {
        cJSON *snap = NULL;
        const cJSON *st = enc_wait_phase(req, gm, "ROUND", t + 1, &snap);
        top_up(req, gm, st, "ann", t);
        top_up(req, gm, st, "ben", t);
        cJSON_Delete(snap);
        uint64_t before = enc_seq(req);
        a.trial = b.trial = t;
        pthread_t ta, tb;
        assert_int_equal(pthread_create(&ta, NULL, race, &a), 0);
        assert_int_equal(pthread_create(&tb, NULL, race, &b), 0);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        outcome oa = read_reply(&a), ob = read_reply(&b);
        outcome *first = oa.first < ob.first ? &oa : &ob;
        outcome *second = first == &oa ? &ob : &oa;
        /* Both applied, one after the other, seqs contiguous. */
        assert_int_equal(first->first, before + 1);
        assert_int_equal(second->first, first->seq + 1);
        assert_string_equal(first->kind, "update");
        assert_string_equal(first->phase, "ROUND");
        assert_false(first->resolves);
        /* The last hero's attack ends the round: its reply holds the
         * transition to RESOLUTION (the attack's own change, or the one
         * right after it). */
        assert_true(second->resolves);
        total += oa.damage + ob.damage;
        crits += first->changes > 1; /* its critical_hit event */
        ann_first += first == &oa;
        cJSON_Delete(oa.doc);
        cJSON_Delete(ob.doc);
        free(a.reply);
        free(b.reply);
    }
    int64_t took = mono_ms() - t0;
    cJSON *snap = NULL;
    const cJSON *st = enc_state(req, gm, &snap);
    assert_int_equal(enc_int(st, "/data/monsters/m1/hp"), MONSTER_HP - total);
    cJSON_Delete(snap);
    print_message("encounter race: %d trials, ann first in %d, ben first in "
                  "%d, %d critical first hits, %ld damage in all, %lld ms\n",
                  trials, ann_first, trials - ann_first, crits, total,
                  (long long)took);
    pthread_barrier_destroy(&go);
    pc_server_free(srv);
    nng_close(a.req);
    nng_close(b.req);
    nng_close(req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simultaneous_attacks_are_applied_one_at_a_time),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    pc_transport_fini();
    return rc;
}
