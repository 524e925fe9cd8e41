/*
 * test_server_encounter.c - the encounter over real nng sockets (TCP on
 * 127.0.0.1): who sees which secret during a whole bot game, and
 * optimistic concurrency (expected_seq) on the game's strict actions.
 *
 * Views: the game master bot places a goblin and a troll of 97531 hit
 * points whose notes are canaries, and writes canary notes; each hero
 * sets a canary secret objective. Three hero bots (threads, each with its
 * own pc_client) and one raw-REQ hero who never acts play against the
 * game-master bot to DEFEAT or VICTORY while a spectator client and a raw
 * SUB socket subscribed to everything record all they receive; at the
 * end token-less requests and the raw hero's own requests fetch the
 * snapshot and the whole history. No canary byte reaches anyone who may
 * not see it (the spectator, the raw SUB, token-less replies: none; a
 * hero: its own objective only); each hero sees its own objective; the
 * game master sees every canary.
 *
 * expected_seq: a stale `move` or `spell` is refused with `conflict`
 * carrying the room's seq and changes nothing (state, seq, history); a
 * stale `attack` applies anyway; pc_client_act_retry moves a hero within
 * its bound while the game master keeps changing the room, and past its
 * bound gives up with nothing changed. Every wait polls against a
 * deadline.
 */
#define _POSIX_C_SOURCE 200809L

#include "test_encounter_net_fixture.h"

#include <pthread.h>

#include "encounter/bot.h"
#include "phasecast/client.h"

#define HP_CANARY  97531
#define HP_NEEDLE  ":97531" /* the troll's hp or max_hp in any JSON */
#define OBJ_CANARY "CANARY-OBJ-"
#define NOTE_GM    "CANARY-GMNOTE"
#define NOTE_M     "CANARY-MNOTE"

/* ---- a growing record of everything one observer received ---------- */

typedef struct tape {
    char *buf;
    size_t len, cap;
} tape;

static void tape_add(tape *t, const void *p, size_t n)
{
    if (t->len + n + 2 > t->cap) {
        size_t cap = t->cap ? t->cap : 1 << 16;
        while (cap < t->len + n + 2) {
            cap *= 2;
        }
        char *b = realloc(t->buf, cap);
        if (b == NULL) {
            abort(); /* off the main thread: no cmocka */
        }
        t->buf = b;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, p, n);
    t->len += n;
    t->buf[t->len++] = '\n';
    t->buf[t->len] = '\0';
}

static void tape_str(tape *t, const char *s)
{
    tape_add(t, s, strlen(s));
}

static void tape_json(tape *t, const cJSON *j)
{
    char *s = cJSON_PrintUnformatted(j);
    if (s != NULL) {
        tape_str(t, s);
    }
    cJSON_free(s);
}

/* How many times needle occurs in the tape's bytes. */
static int tape_count(const tape *t, const char *needle)
{
    size_t n = strlen(needle);
    int hits = 0;
    for (size_t i = 0; t->buf != NULL && i + n <= t->len; i++) {
        hits += memcmp(t->buf + i, needle, n) == 0;
    }
    return hits;
}

static void on_change(pc_client *c, const pc_client_change *ch, void *arg)
{
    (void)c;
    tape *t = arg;
    tape_str(t, ch->phase);
    tape_str(t, ch->reason);
    tape_json(t, ch->patch);
}

static void on_room_event(pc_client *c, const pc_client_room_event *ev,
                          void *arg)
{
    (void)c;
    tape *t = arg;
    tape_str(t, ev->name);
    tape_json(t, ev->data);
    tape_str(t, ev->reason);
}

static pc_client *open_client(pc_server *srv, pc_client_role role,
                              const char *name, tape *t)
{
    pc_client_config cfg = {0};
    cfg.pub_url = pc_server_pub_url(srv);
    cfg.req_url = pc_server_rep_url(srv);
    cfg.room = ENC_ROOM;
    cfg.role = role;
    cfg.name = name;
    cfg.gm_credential = role == PC_CLIENT_GM ? ENC_CRED : NULL;
    cfg.on_change = on_change;
    cfg.on_room_event = on_room_event;
    cfg.arg = t;
    cfg.request_timeout_ms = 2000;
    pc_client *c = NULL;
    pc_error err = {0};
    if (pc_client_open(&cfg, &c, &err) != PC_OK) {
        fail_msg("open %s: %s", name ? name : "spectator", err.message);
    }
    return c;
}

static const char *phase_of(const pc_client *c)
{
    const char *p = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(pc_client_state(c), "phase"));
    return p != NULL ? p : "";
}

static bool over(const char *phase)
{
    return strcmp(phase, "VICTORY") == 0 || strcmp(phase, "DEFEAT") == 0;
}

/* ---- the bots, one thread each ---------------------------------------- */

typedef struct seat {
    pc_client *c;
    const char *me; /* NULL: the game master */
    tape heard;
    encounter_hero_bot hero;
    encounter_gm_bot gm;
    int applied, races;
    bool failed;
    char why[PC_ERROR_MESSAGE_MAX + 64];
} seat;

static void *seat_main(void *arg)
{
    seat *s = arg;
    int64_t end = mono_ms() + 4 * WAIT_MS;
    while (!over(phase_of(s->c))) {
        if (mono_ms() > end) {
            snprintf(s->why, sizeof s->why, "the game did not end");
            s->failed = true;
            return NULL;
        }
        encounter_bot_report rep;
        pc_error e = {0};
        pc_err rc = s->me != NULL ? encounter_bot_step(s->c, &s->hero, &rep, &e)
                                  : encounter_gm_step(s->c, &s->gm, &rep, &e);
        if (rep.type != NULL) {
            tape_str(&s->heard, rep.what);
            tape_str(&s->heard, rep.refusal.message);
            s->applied += rep.applied;
            s->races += rep.raced;
        }
        if (rc == PC_ERR_TIMEOUT || rc == PC_ERR_IO || rc == PC_ERR_CLOSED ||
            rc == PC_ERR_NOMEM || rc == PC_ERR_INVALID) {
            snprintf(s->why, sizeof s->why, "step: %s: %s", pc_strerror(rc),
                     e.message);
            s->failed = true;
            return NULL;
        }
        if (pc_client_poll(s->c, 20) != PC_OK) {
            snprintf(s->why, sizeof s->why, "poll failed");
            s->failed = true;
            return NULL;
        }
    }
    return NULL;
}

/* Raw SUB: append every queued message to t; the highest seq seen. */
static uint64_t drain(nng_socket sub, tape *t, uint64_t seen, int flags)
{
    for (;;) {
        char *buf = NULL;
        size_t n = 0;
        if (nng_recv(sub, &buf, &n, NNG_FLAG_ALLOC | flags) != 0) {
            return seen;
        }
        tape_add(t, buf, n);
        const char *sp = memchr(buf, ' ', n);
        cJSON *env = NULL;
        assert_non_null(sp);
        assert_int_equal(
            pc_json_parse(sp + 1, n - (size_t)(sp + 1 - buf), NULL, &env, NULL),
            PC_OK);
        nng_free(buf, n);
        const cJSON *ch;
        cJSON_ArrayForEach(ch, cJSON_GetObjectItemCaseSensitive(env, "changes"))
        {
            uint64_t s = (uint64_t)num(ch, "seq");
            seen = s > seen ? s : seen;
        }
        cJSON_Delete(env);
        if (flags == 0) {
            return seen;
        }
    }
}

/* A raw request whose reply bytes go on the tape. */
static void record(nng_socket req, tape *t, const char *body)
{
    size_t len = 0;
    char *text = request_raw(req, body, strlen(body), &len);
    assert_non_null(strstr(text, "\"ok\":true"));
    tape_add(t, text, len);
    free(text);
}

static const char *const heroes[] = {"alice", "bob", "carol", "dave"};
#define NHEROES 4 /* three bots with clients, dave over raw REQ */

static void test_a_whole_bot_game_leaks_no_canary(void **state)
{
    (void)state;
    encounter_config cfg;
    static encounter_config store;
    encounter_config_init(&cfg);
    cfg.round_ms = 300; /* dave never acts: the timer defends for him */
    cfg.resolution_ms = 20;
    cfg.max_rounds = 3;
    pc_server *srv = enc_serve(&cfg, &store, 7, 10000);
    nng_socket sub = sub_open(pc_server_pub_url(srv), "");
    wait_heartbeat(sub, ENC_ROOM);
    static tape raw, spec_t, dave_t;
    memset(&raw, 0, sizeof raw);
    memset(&spec_t, 0, sizeof spec_t);
    memset(&dave_t, 0, sizeof dave_t);
    pc_client *spec = open_client(srv, PC_CLIENT_SPECTATOR, NULL, &spec_t);

    static seat seats[NHEROES]; /* three heroes and the game master */
    memset(seats, 0, sizeof seats);
    char canary[NHEROES][64], body[160];
    for (int i = 0; i < NHEROES; i++) {
        snprintf(canary[i], sizeof canary[i], OBJ_CANARY "%s-%d", heroes[i],
                 1000 + i * 7);
    }
    pc_error err = {0};
    for (int i = 0; i < 3; i++) {
        seat *s = &seats[i];
        s->me = heroes[i];
        s->c = open_client(srv, PC_CLIENT_PLAYER, heroes[i], &s->heard);
        encounter_hero_bot_init(&s->hero, heroes[i], 100 + (uint64_t)i);
        snprintf(body, sizeof body, "{\"text\":\"%s\"}", canary[i]);
        cJSON *p = cJSON_Parse(body);
        assert_int_equal(pc_client_act(s->c, "objective", p, NULL, NULL, &err),
                         PC_OK);
        cJSON_Delete(p);
    }
    /* dave: a hero over raw REQ, every reply's bytes recorded. */
    nng_socket dreq = req_open(pc_server_rep_url(srv));
    char dave[33];
    char *jr = request_raw(dreq,
                           "{\"op\":\"join\",\"room\":\"" ENC_ROOM
                           "\",\"role\":\"player\",\"name\":\"dave\"}",
                           strlen("{\"op\":\"join\",\"room\":\"" ENC_ROOM
                                  "\",\"role\":\"player\",\"name\":\"dave\"}"),
                           NULL);
    tape_str(&dave_t, jr);
    const char *tk = strstr(jr, "\"token\":\"");
    assert_non_null(tk);
    snprintf(dave, sizeof dave, "%.32s", tk + 9);
    free(jr);
    char dbody[256];
    snprintf(dbody, sizeof dbody,
             "{\"op\":\"action\",\"room\":\"" ENC_ROOM
             "\",\"token\":\"%s\",\"action_id\":\"obj\",\"type\":"
             "\"objective\",\"payload\":{\"text\":\"%s\"}}",
             dave, canary[3]);
    record(dreq, &dave_t, dbody);

    /* The game master: canary notes, a troll with canary hit points. */
    seat *gs = &seats[NHEROES - 1]; /* dave needs no seat: the GM's */
    static const encounter_monster_spec monsters[] = {
        {"m1", "goblin", 12, 13, 3, 2, NOTE_M "-m1 flees"},
        {"m2", "troll", HP_CANARY, 12, 6, 2, NOTE_M "-m2 regenerates"},
    };
    gs->c = open_client(srv, PC_CLIENT_GM, "dm", &gs->heard);
    encounter_gm_bot_init(&gs->gm, NHEROES, 99);
    gs->gm.monsters = monsters;
    gs->gm.nmonsters = 2;
    gs->gm.note_prefix = NOTE_GM;
    cJSON *p = cJSON_Parse("{\"text\":\"" NOTE_GM " before the fight\"}");
    assert_int_equal(pc_client_act(gs->c, "note", p, NULL, NULL, &err), PC_OK);
    cJSON_Delete(p);

    pthread_t th[NHEROES];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pthread_create(&th[i], NULL, seat_main, &seats[i]), 0);
    }
    assert_int_equal(pthread_create(&th[3], NULL, seat_main, gs), 0);
    /* Meanwhile the spectator and the raw SUB take what comes. */
    uint64_t seen = 0;
    int64_t end = mono_ms() + 4 * WAIT_MS;
    while (!over(phase_of(spec))) {
        assert_true(mono_ms() < end);
        assert_int_equal(pc_client_poll(spec, 20), PC_OK);
        seen = drain(sub, &raw, seen, NNG_FLAG_NONBLOCK);
    }
    for (int i = 0; i < NHEROES; i++) {
        pthread_join(th[i], NULL);
    }
    for (int i = 0; i < 3; i++) {
        if (seats[i].failed) {
            fail_msg("%s: %s", seats[i].me, seats[i].why);
        }
    }
    if (gs->failed) {
        fail_msg("gm: %s", gs->why);
    }
    nng_socket req = req_open(pc_server_rep_url(srv));
    uint64_t last = enc_seq(req);
    while (seen < last) {
        seen = drain(sub, &raw, seen, 0);
    }
    /* The end state, and the whole history, as each may ask for it. */
    tape_json(&spec_t, pc_client_state(spec));
    for (int i = 0; i < 3; i++) {
        tape_json(&seats[i].heard, pc_client_state(seats[i].c));
    }
    tape_json(&gs->heard, pc_client_state(gs->c));
    tape anon = {0};
    record(req, &anon, "{\"op\":\"snapshot\",\"room\":\"" ENC_ROOM "\"}");
    record(req, &anon,
           "{\"op\":\"changes\",\"room\":\"" ENC_ROOM
           "\",\"since\":0,\"limit\":1000}");
    snprintf(dbody, sizeof dbody,
             "{\"op\":\"snapshot\",\"room\":\"" ENC_ROOM "\",\"token\":\"%s\"}",
             dave);
    record(dreq, &dave_t, dbody);
    snprintf(dbody, sizeof dbody,
             "{\"op\":\"changes\",\"room\":\"" ENC_ROOM
             "\",\"token\":\"%s\",\"since\":0,\"limit\":1000}",
             dave);
    record(dreq, &dave_t, dbody);

    assert_int_equal(seen, last); /* the SUB got the whole game */
    assert_true(raw.len > 0 && spec_t.len > 0 && anon.len > 0);
    /* Nobody but the game master sees its notes or the monsters' secrets;
     * nobody public sees an objective; a hero sees its own only. */
    const tape *publics[] = {&raw, &spec_t, &anon};
    const char *names[] = {"raw SUB", "spectator", "token-less requests"};
    int found = 0;
    size_t scanned = 0;
    for (int i = 0; i < 3; i++) {
        int n = tape_count(publics[i], NOTE_GM) +
                tape_count(publics[i], NOTE_M) +
                tape_count(publics[i], HP_NEEDLE) +
                tape_count(publics[i], OBJ_CANARY);
        if (n != 0) {
            fail_msg("%s saw %d canaries", names[i], n);
        }
        scanned += publics[i]->len;
    }
    for (int i = 0; i < NHEROES; i++) {
        const tape *t = i < 3 ? &seats[i].heard : &dave_t;
        scanned += t->len;
        found += tape_count(t, NOTE_GM) + tape_count(t, NOTE_M) +
                 tape_count(t, HP_NEEDLE);
        assert_int_equal(tape_count(t, NOTE_GM), 0);
        assert_int_equal(tape_count(t, NOTE_M), 0);
        assert_int_equal(tape_count(t, HP_NEEDLE), 0);
        for (int j = 0; j < NHEROES; j++) {
            int n = tape_count(t, canary[j]);
            if (i == j) {
                assert_true(n > 0); /* its own objective, in its view */
            } else {
                found += n;
                assert_int_equal(n, 0);
            }
        }
    }
    /* The game master sees everything. */
    assert_true(tape_count(&gs->heard, NOTE_GM) > 0);
    assert_true(tape_count(&gs->heard, NOTE_M "-m1") > 0);
    assert_true(tape_count(&gs->heard, NOTE_M "-m2") > 0);
    assert_true(tape_count(&gs->heard, HP_NEEDLE) > 0);
    for (int j = 0; j < NHEROES; j++) {
        assert_true(tape_count(&gs->heard, canary[j]) > 0);
    }
    assert_true(over(phase_of(spec)));
    print_message("encounter canaries: %s at seq %llu; %zu bytes received by "
                  "the spectator, the raw SUB, token-less requests and the "
                  "four heroes, %d forbidden canaries found; hero actions "
                  "applied %d/%d/%d, races lost %d/%d/%d\n",
                  phase_of(spec), (unsigned long long)last, scanned, found,
                  seats[0].applied, seats[1].applied, seats[2].applied,
                  seats[0].races, seats[1].races, seats[2].races);
    pc_server_free(srv);
    pc_client_close(spec);
    for (int i = 0; i < 3; i++) {
        pc_client_close(seats[i].c);
        free(seats[i].heard.buf);
    }
    pc_client_close(gs->c);
    free(gs->heard.buf);
    free(raw.buf);
    free(spec_t.buf);
    free(dave_t.buf);
    free(anon.buf);
    nng_close(sub);
    nng_close(req);
    nng_close(dreq);
}

/* ---- expected_seq ------------------------------------------------------ */

/* ROUND 1 of a room with heroes ann (0,9) and ben (1,9) over raw REQ,
 * cy (2,9) as a client when cy is not NULL, and two goblins; long timers.
 */
static pc_server *round_one(nng_socket *req, char ann[33], char ben[33],
                            char gm[33], pc_client **cy, tape *cy_t)
{
    encounter_config cfg;
    static encounter_config store;
    encounter_config_init(&cfg);
    cfg.round_ms = 600000;
    pc_server *srv = enc_serve(&cfg, &store, 3, 1000);
    *req = req_open(pc_server_rep_url(srv));
    enc_join(*req, "player", "ann", ann);
    enc_join(*req, "player", "ben", ben);
    if (cy != NULL) {
        *cy = open_client(srv, PC_CLIENT_PLAYER, "cy", cy_t);
    }
    enc_join(*req, "gm", "dm", gm);
    enc_act_ok(*req, gm, "a1", "add_monster",
               "{\"id\":\"m1\",\"name\":\"goblin\",\"hp\":50,\"armour\":10,"
               "\"x\":4,\"y\":5}");
    enc_act_ok(*req, gm, "a2", "add_monster",
               "{\"id\":\"m2\",\"name\":\"goblin\",\"hp\":50,\"armour\":10,"
               "\"x\":5,\"y\":5}");
    enc_act_ok(*req, gm, "go", "start", "null");
    cJSON *snap = NULL;
    enc_wait_phase(*req, gm, "ROUND", 1, &snap);
    cJSON_Delete(snap);
    return srv;
}

static void assert_conflict_at(const cJSON *reply, uint64_t seq)
{
    assert_error(reply, "conflict");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(reply, "error");
    assert_int_equal((uint64_t)num(e, "seq"), seq);
}

static void
test_stale_move_and_spell_are_conflicts_that_change_nothing(void **state)
{
    (void)state;
    nng_socket req;
    char ann[33], ben[33], gm[33];
    pc_server *srv = round_one(&req, ann, ben, gm, NULL, NULL);
    enc_act_ok(req, gm, "n1", "note", "{\"text\":\"the room moves on\"}");
    uint64_t now = enc_seq(req);
    char *before = enc_snapshot_text(req, gm);
    cJSON *r = enc_action(req, ann, "mv1", "move", "{\"x\":1,\"y\":8}",
                          (long long)now - 1);
    assert_conflict_at(r, now);
    cJSON_Delete(r);
    r = enc_action(req, ann, "sp1", "spell", "{\"x\":4,\"y\":6}",
                   (long long)now - 1);
    assert_conflict_at(r, now);
    cJSON_Delete(r);
    /* Nothing changed: the whole state (the game master's view), the
     * seq and the history. */
    char *after = enc_snapshot_text(req, gm);
    assert_string_equal(before, after);
    assert_int_equal(enc_seq(req), now);
    r = request(req,
                "{\"op\":\"changes\",\"room\":\"" ENC_ROOM "\",\"since\":%llu}",
                (unsigned long long)now);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
                         ok_result(r), "changes")),
                     0);
    cJSON_Delete(r);
    /* The same move on the current seq is applied. */
    r = enc_action(req, ann, "mv2", "move", "{\"x\":1,\"y\":8}",
                   (long long)now);
    assert_int_equal((uint64_t)num(ok_result(r), "seq"), now + 1);
    cJSON_Delete(r);
    cJSON *snap = NULL;
    const cJSON *st = enc_state(req, gm, &snap);
    assert_int_equal(enc_int(st, "/data/heroes/ann/x"), 1);
    assert_int_equal(enc_int(st, "/data/heroes/ann/y"), 8);
    cJSON_Delete(snap);
    free(before);
    free(after);
    pc_server_free(srv);
    nng_close(req);
}

static void test_stale_attack_applies_anyway(void **state)
{
    (void)state;
    nng_socket req;
    char ann[33], ben[33], gm[33];
    pc_server *srv = round_one(&req, ann, ben, gm, NULL, NULL);
    enc_act_ok(req, gm, "n1", "note", "{\"text\":\"the room moves on\"}");
    uint64_t now = enc_seq(req);
    cJSON *r = enc_action(req, ben, "at1", "attack", "{\"target\":\"m1\"}",
                          (long long)now - 2);
    const cJSON *res = ok_result(r);
    assert_true((uint64_t)num(res, "seq") > now);
    cJSON_Delete(r);
    cJSON *snap = NULL;
    const cJSON *st = enc_state(req, gm, &snap);
    assert_string_equal(enc_str(st, "/data/heroes/ben/acted"), "attack");
    assert_string_equal(enc_str(st, "/data/heroes/ben/last/target"), "m1");
    cJSON_Delete(snap);
    pc_server_free(srv);
    nng_close(req);
}

/* The retry helper's decision: cy moves one cell up; while rival_times
 * lasts, the game master changes the room first, so the decision is
 * stale by the time it arrives. */
typedef struct decider {
    nng_socket req;
    const char *gm;
    int rival_times;
    int calls;
} decider;

static pc_err decide_move(pc_client *c, const cJSON *state, uint64_t seq,
                          const char **type, cJSON **payload, void *arg)
{
    (void)c;
    (void)seq;
    decider *d = arg;
    d->calls++;
    if (d->calls <= d->rival_times) {
        char id[32];
        snprintf(id, sizeof id, "rival-%d", d->calls);
        enc_act_ok(d->req, d->gm, id, "note", "{\"text\":\"meanwhile\"}");
    }
    char body[64];
    snprintf(body, sizeof body, "{\"x\":%d,\"y\":%d}",
             enc_int(state, "/data/heroes/cy/x"),
             enc_int(state, "/data/heroes/cy/y") - 1);
    *type = "move";
    *payload = cJSON_Parse(body);
    return PC_OK;
}

static void test_retry_helper_moves_within_its_bound(void **state)
{
    (void)state;
    nng_socket req;
    char ann[33], ben[33], gm[33];
    pc_client *cy = NULL;
    static tape t;
    memset(&t, 0, sizeof t);
    pc_server *srv = round_one(&req, ann, ben, gm, &cy, &t);
    int64_t end = mono_ms() + WAIT_MS;
    while (strcmp(phase_of(cy), "ROUND") != 0) {
        assert_true(mono_ms() < end);
        assert_int_equal(pc_client_poll(cy, 10), PC_OK);
    }
    decider d = {.req = req, .gm = gm, .rival_times = 2};
    uint64_t seq = 0;
    pc_error err = {0};
    assert_int_equal(
        pc_client_act_retry(cy, decide_move, &d, 3, NULL, &seq, &err), PC_OK);
    assert_int_equal(d.calls, 3); /* two conflicts, then applied */
    assert_int_equal(seq, enc_seq(req));
    cJSON *snap = NULL;
    const cJSON *st = enc_state(req, gm, &snap);
    assert_int_equal(enc_int(st, "/data/heroes/cy/y"), 8);
    assert_string_equal(enc_str(st, "/data/heroes/cy/acted"), "move");
    cJSON_Delete(snap);
    pc_server_free(srv);
    pc_client_close(cy);
    free(t.buf);
    nng_close(req);
}

static void
test_retry_helper_gives_up_past_its_bound_changing_nothing(void **state)
{
    (void)state;
    nng_socket req;
    char ann[33], ben[33], gm[33];
    pc_client *cy = NULL;
    static tape t;
    memset(&t, 0, sizeof t);
    pc_server *srv = round_one(&req, ann, ben, gm, &cy, &t);
    int64_t end = mono_ms() + WAIT_MS;
    while (strcmp(phase_of(cy), "ROUND") != 0) {
        assert_true(mono_ms() < end);
        assert_int_equal(pc_client_poll(cy, 10), PC_OK);
    }
    decider d = {.req = req, .gm = gm, .rival_times = 100};
    pc_error err = {0};
    assert_int_equal(
        pc_client_act_retry(cy, decide_move, &d, 2, NULL, NULL, &err),
        PC_ERR_CONFLICT);
    assert_int_equal(d.calls, 3);
    assert_string_equal(err.code, "conflict");
    assert_int_equal(pc_client_conflict_seq(cy), enc_seq(req));
    /* Only the game master's notes happened: cy stands where it sat. */
    cJSON *snap = NULL;
    const cJSON *st = enc_state(req, gm, &snap);
    assert_int_equal(enc_int(st, "/data/heroes/cy/y"), 9);
    assert_null(pc_json_pointer_get(st, "/data/heroes/cy/acted"));
    cJSON_Delete(snap);
    pc_server_free(srv);
    pc_client_close(cy);
    free(t.buf);
    nng_close(req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_whole_bot_game_leaks_no_canary),
        cmocka_unit_test(
            test_stale_move_and_spell_are_conflicts_that_change_nothing),
        cmocka_unit_test(test_stale_attack_applies_anyway),
        cmocka_unit_test(test_retry_helper_moves_within_its_bound),
        cmocka_unit_test(
            test_retry_helper_gives_up_past_its_bound_changing_nothing),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    pc_transport_fini();
    return rc;
}
