/*
 * test_server_gm.c - the game master, optimistic concurrency, simultaneous
 * actions and multi-target atomicity over real nng sockets (TCP on
 * 127.0.0.1) with the "table" game (test_gm_fixture.h).
 *
 * Canaries in the game master's note, its event and each player's sheet
 * must never reach a spectator, the other player or a raw SUB socket
 * subscribed to everything; each player sees its own sheet and the game
 * master everything. A stale strict action is refused with a conflict
 * carrying the room's seq and changes nothing; the client's retry helper
 * succeeds within its bound and fails past it. Two players acting at the
 * same instant (barrier-synchronised threads, many trials) are both
 * applied with contiguous seqs, each reply naming its own seq and
 * change. An area spell refused in part leaves the room, its history and
 * its broadcast unchanged. Every wait polls against a deadline.
 */
#define _POSIX_C_SOURCE 200809L

#include "test_server_support.h"

#include <pthread.h>

#include "phasecast/client.h"
#include "phasecast/room.h"

#include "test_gm_fixture.h"

#define ROOM "table"
#define CRED "gm-secret-0123456789"

static pc_server *serve(const char *cred)
{
    pc_server_options o;
    pc_server_options_init(&o);
    o.pub_url = "tcp://127.0.0.1:0";
    o.rep_url = "tcp://127.0.0.1:0";
    o.heartbeat_ms = 50;
    pc_server *srv = NULL;
    pc_error err = {0};
    if (pc_server_new(&o, &srv, &err) != PC_OK) {
        fail_msg("pc_server_new: %s", err.message);
    }
    pc_server_room_options ro;
    pc_server_room_options_init(&ro);
    ro.room.id = ROOM;
    ro.gm_credential = cred;
    assert_int_equal(pc_server_add_room(srv, &table_game, &ro, NULL), PC_OK);
    assert_int_equal(pc_server_start(srv), PC_OK);
    return srv;
}

/* Join over raw REQ; returns the token (static storage per slot). */
static const char *join(nng_socket req, const char *role, const char *name,
                        const char *cred, char out[33])
{
    cJSON *r = cred != NULL ? request(req,
                                      "{\"op\":\"join\",\"room\":\"" ROOM
                                      "\",\"role\":\"%s\",\"name\":\"%s\","
                                      "\"credential\":\"%s\"}",
                                      role, name, cred)
                            : request(req,
                                      "{\"op\":\"join\",\"room\":\"" ROOM
                                      "\",\"role\":\"%s\",\"name\":\"%s\"}",
                                      role, name);
    const cJSON *res = ok_result(r);
    snprintf(out, 33, "%s", str(res, "token"));
    assert_string_equal(str(res, "role"), role);
    cJSON_Delete(r);
    return out;
}

static cJSON *action(nng_socket req, const char *token, const char *id,
                     const char *type, const char *payload, long expected)
{
    char exp[48] = "";
    if (expected >= 0) {
        snprintf(exp, sizeof exp, ",\"expected_seq\":%ld", expected);
    }
    return request(req,
                   "{\"op\":\"action\",\"room\":\"" ROOM
                   "\",\"token\":\"%s\",\"action_id\":\"%s\",\"type\":\"%s\","
                   "\"payload\":%s%s}",
                   token, id, type, payload, exp);
}

static void act_ok(nng_socket req, const char *token, const char *id,
                   const char *type, const char *payload)
{
    cJSON *r = action(req, token, id, type, payload, -1);
    ok_result(r);
    cJSON_Delete(r);
}

static char *snapshot_text(nng_socket req, const char *token)
{
    char body[256];
    snprintf(body, sizeof body,
             token != NULL ? "{\"op\":\"snapshot\",\"room\":\"" ROOM
                             "\",\"token\":\"%s\"}"
                           : "{\"op\":\"snapshot\",\"room\":\"" ROOM "\"%s}",
             token != NULL ? token : "");
    return request_raw(req, body, strlen(body), NULL);
}

static uint64_t room_seq(nng_socket req)
{
    cJSON *r = request(req, "{\"op\":\"snapshot\",\"room\":\"" ROOM "\"}");
    uint64_t s = (uint64_t)num(ok_result(r), "seq");
    cJSON_Delete(r);
    return s;
}

static void test_gm_join_needs_the_rooms_credential(void **state)
{
    (void)state;
    pc_server *srv = serve(NULL);
    nng_socket req = req_open(pc_server_rep_url(srv));
    cJSON *r = request(req, "{\"op\":\"join\",\"room\":\"" ROOM
                            "\",\"role\":\"gm\",\"name\":\"dm\","
                            "\"credential\":\"" CRED "\"}");
    assert_error(r, "forbidden"); /* the room has no game master */
    cJSON_Delete(r);
    pc_server_free(srv);
    nng_close(req);

    srv = serve(CRED);
    req = req_open(pc_server_rep_url(srv));
    r = request(req, "{\"op\":\"join\",\"room\":\"" ROOM
                     "\",\"role\":\"gm\",\"name\":\"dm\"}");
    assert_error(r, "forbidden");
    cJSON_Delete(r);
    r = request(req, "{\"op\":\"join\",\"room\":\"" ROOM
                     "\",\"role\":\"gm\",\"name\":\"dm\","
                     "\"credential\":\"gm-secret-0123456788\"}");
    assert_error(r, "forbidden");
    char *text = cJSON_PrintUnformatted(r);
    assert_null(strstr(text, "gm-secret")); /* never echoed */
    cJSON_free(text);
    cJSON_Delete(r);
    char tok[33];
    join(req, "gm", "dm", CRED, tok);
    assert_int_equal(room_seq(req), 0); /* the game master takes no seat */
    pc_server_free(srv);
    nng_close(req);
}

/* A client's callbacks, recorded as text. */
typedef struct heard {
    char text[1 << 15];
    size_t len;
    int gm_events;
} heard;

static void on_change(pc_client *c, const pc_client_change *ch, void *arg)
{
    (void)c;
    heard *h = arg;
    char *p = cJSON_PrintUnformatted(ch->patch);
    h->len += (size_t)snprintf(h->text + h->len, sizeof h->text - h->len,
                               "%s|%s\n", ch->reason, p);
    cJSON_free(p);
}

static void on_room_event(pc_client *c, const pc_client_room_event *ev,
                          void *arg)
{
    (void)c;
    heard *h = arg;
    char *d = cJSON_PrintUnformatted(ev->data);
    h->len += (size_t)snprintf(h->text + h->len, sizeof h->text - h->len,
                               "event %s %s\n", ev->name, d);
    h->gm_events += strcmp(ev->name, "gm.note") == 0;
    cJSON_free(d);
}

static pc_client *open_client(pc_server *srv, pc_client_role role,
                              const char *name, heard *h)
{
    pc_client_config cfg = {0};
    cfg.pub_url = pc_server_pub_url(srv);
    cfg.req_url = pc_server_rep_url(srv);
    cfg.room = ROOM;
    cfg.role = role;
    cfg.name = name;
    cfg.gm_credential = role == PC_CLIENT_GM ? CRED : NULL;
    cfg.on_change = on_change;
    cfg.on_room_event = on_room_event;
    cfg.arg = h;
    cfg.request_timeout_ms = 2000;
    pc_client *c = NULL;
    pc_error err = {0};
    if (pc_client_open(&cfg, &c, &err) != PC_OK) {
        fail_msg("open %s: %s", name ? name : "spectator", err.message);
    }
    return c;
}

static void converge(pc_client **cs, size_t n, uint64_t seq)
{
    int64_t end = mono_ms() + WAIT_MS;
    for (;;) {
        bool all = true;
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(pc_client_poll(cs[i], 10), PC_OK);
            all = all && pc_client_seq(cs[i]) >= seq;
        }
        if (all) {
            return;
        }
        assert_true(mono_ms() < end);
    }
}

static bool replica_has(pc_client *c, const char *needle)
{
    char *t = cJSON_PrintUnformatted(pc_client_state(c));
    bool has = strstr(t, needle) != NULL;
    cJSON_free(t);
    return has;
}

/* Everything a raw SUB with an empty topic receives up to seq last. */
static char *drain_all(nng_socket sub, uint64_t last)
{
    size_t cap = 1 << 18, len = 0;
    char *all = malloc(cap);
    uint64_t seen = 0;
    int64_t end = mono_ms() + WAIT_MS;
    while (seen < last) {
        assert_true(mono_ms() < end);
        char *buf = NULL;
        size_t n = 0;
        assert_int_equal(nng_recv(sub, &buf, &n, NNG_FLAG_ALLOC), 0);
        assert_true(len + n + 1 < cap);
        memcpy(all + len, buf, n);
        len += n;
        all[len++] = '\n';
        const char *sp = memchr(buf, ' ', n);
        cJSON *env = NULL;
        assert_int_equal(
            pc_json_parse(sp + 1, n - (size_t)(sp + 1 - buf), NULL, &env, NULL),
            PC_OK);
        nng_free(buf, n);
        const cJSON *ch;
        cJSON_ArrayForEach(ch, cJSON_GetObjectItemCaseSensitive(env, "changes"))
        {
            seen = (uint64_t)num(ch, "seq");
        }
        cJSON_Delete(env);
    }
    all[len] = '\0';
    return all;
}

static void test_gm_data_reaches_only_the_gm(void **state)
{
    (void)state;
    pc_server *srv = serve(CRED);
    nng_socket sub = sub_open(pc_server_pub_url(srv), "");
    wait_heartbeat(sub, ROOM);
    static heard hs, ha, hb, hg;
    memset(&hs, 0, sizeof hs);
    memset(&ha, 0, sizeof ha);
    memset(&hb, 0, sizeof hb);
    memset(&hg, 0, sizeof hg);
    pc_client *spec = open_client(srv, PC_CLIENT_SPECTATOR, NULL, &hs);
    pc_client *ann = open_client(srv, PC_CLIENT_PLAYER, "ann", &ha);
    pc_client *ben = open_client(srv, PC_CLIENT_PLAYER, "ben", &hb);
    pc_client *gm = open_client(srv, PC_CLIENT_GM, "dm", &hg);
    cJSON *p = cJSON_Parse("{\"id\":\"goblin\",\"hp\":10}");
    pc_error err = {0};
    assert_int_equal(pc_client_act(gm, "add", p, NULL, NULL, &err), PC_OK);
    cJSON_Delete(p);
    p = cJSON_Parse("{\"text\":\"" GM_CANARY "-NOTE\"}");
    assert_int_equal(pc_client_act(gm, "note", p, NULL, NULL, &err), PC_OK);
    assert_int_equal(pc_client_act(ann, "note", p, NULL, NULL, &err),
                     PC_ERR_ACTION);
    assert_string_equal(err.code, "gm_only");
    cJSON_Delete(p);
    p = cJSON_Parse("{\"target\":\"goblin\",\"dmg\":6}");
    uint64_t seq = 0;
    assert_int_equal(pc_client_act(ben, "hit", p, NULL, &seq, &err), PC_OK);
    cJSON_Delete(p);
    assert_int_equal(seq, 6); /* 2 joins, add, note, its event, hit */
    pc_client *all[] = {spec, ann, ben, gm};
    converge(all, 4, seq);
    char *raw = drain_all(sub, seq);
    assert_null(strstr(raw, GM_CANARY));
    assert_null(strstr(raw, "\"hp\""));
    assert_null(strstr(raw, "a gm note"));
    assert_null(strstr(hs.text, GM_CANARY));
    assert_false(replica_has(spec, GM_CANARY));
    assert_false(replica_has(spec, "\"hp\""));
    assert_true(replica_has(ann, GM_CANARY "-SHEET-ann"));
    assert_false(replica_has(ann, GM_CANARY "-SHEET-ben"));
    assert_false(replica_has(ann, GM_CANARY "-NOTE"));
    assert_false(replica_has(ann, "\"hp\""));
    assert_null(strstr(ha.text, GM_CANARY "-NOTE"));
    assert_null(strstr(hb.text, GM_CANARY "-SHEET-ann"));
    assert_true(replica_has(ben, "\"condition\":\"bloodied\""));
    assert_true(replica_has(gm, GM_CANARY "-NOTE"));
    assert_true(replica_has(gm, GM_CANARY "-SHEET-ann"));
    assert_true(replica_has(gm, GM_CANARY "-SHEET-ben"));
    assert_true(replica_has(gm, "\"hp\":4"));
    assert_int_equal(hg.gm_events, 1);
    assert_int_equal(ha.gm_events + hb.gm_events + hs.gm_events, 0);
    /* Token-less requests are public; the gm's token opens everything. */
    nng_socket req = req_open(pc_server_rep_url(srv));
    char *pub = snapshot_text(req, NULL);
    assert_null(strstr(pub, GM_CANARY));
    free(pub);
    free(raw);
    pc_server_free(srv);
    pc_client_close(spec);
    pc_client_close(ann);
    pc_client_close(ben);
    pc_client_close(gm);
    nng_close(req);
    nng_close(sub);
}

/* A room with ann, ben and a goblin of 100 hp; tokens out. */
static pc_server *table_room(nng_socket *req, char ann[33], char ben[33])
{
    pc_server *srv = serve(CRED);
    *req = req_open(pc_server_rep_url(srv));
    char gm[33];
    join(*req, "player", "ann", NULL, ann);
    join(*req, "player", "ben", NULL, ben);
    join(*req, "gm", "dm", CRED, gm);
    act_ok(*req, gm, "g1", "add", "{\"id\":\"goblin\",\"hp\":100}");
    act_ok(*req, gm, "g2", "add", "{\"id\":\"orc\",\"hp\":30}");
    return srv;
}

static void test_stale_hit_is_a_conflict_with_the_rooms_seq(void **state)
{
    (void)state;
    nng_socket req;
    char ann[33], ben[33];
    pc_server *srv = table_room(&req, ann, ben);
    uint64_t seq = room_seq(req);
    assert_int_equal(seq, 4);
    char *before = snapshot_text(req, NULL);
    cJSON *r =
        action(req, ann, "a1", "hit", "{\"target\":\"goblin\",\"dmg\":5}", 2);
    assert_error(r, "conflict");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "error");
    assert_int_equal(num(e, "seq"), 4);
    cJSON_Delete(r);
    char *after = snapshot_text(req, NULL);
    assert_string_equal(before, after);
    /* A lenient type is applied whatever its expected_seq. */
    r = action(req, ann, "a2", "say", "{\"hi\":1}", 1);
    assert_int_equal(num(ok_result(r), "seq"), 5);
    cJSON_Delete(r);
    /* The current seq is accepted; the reply carries its change. */
    r = action(req, ann, "a3", "hit", "{\"target\":\"goblin\",\"dmg\":5}", 5);
    const cJSON *res = ok_result(r);
    assert_int_equal(num(res, "seq"), 6);
    const cJSON *chs = cJSON_GetObjectItemCaseSensitive(res, "changes");
    assert_int_equal(cJSON_GetArraySize(chs), 1);
    const cJSON *ch = cJSON_GetArrayItem(chs, 0);
    assert_int_equal(num(ch, "seq"), 6);
    char *t = cJSON_PrintUnformatted(ch);
    assert_null(strstr(t, "\"hp\"")); /* ann's view: no hit points */
    assert_non_null(strstr(t, "wounded"));
    cJSON_free(t);
    cJSON_Delete(r);
    r = action(req, ann, "a4", "say", "{}", 99);
    assert_error(r, "invalid_action");
    cJSON_Delete(r);
    free(before);
    free(after);
    pc_server_free(srv);
    nng_close(req);
}

/* The retry helper's decision: hit the goblin; when rival is set, the
 * rival hits it first (so the decision is stale) rival_times times. */
typedef struct decider {
    nng_socket req;
    const char *rival;
    int rival_times;
    int calls;
} decider;

static pc_err decide_hit(pc_client *c, const cJSON *state, uint64_t seq,
                         const char **type, cJSON **payload, void *arg)
{
    (void)c;
    (void)seq;
    decider *d = arg;
    assert_non_null(state);
    d->calls++;
    if (d->calls <= d->rival_times) {
        char id[32];
        snprintf(id, sizeof id, "rival-%d", d->calls);
        act_ok(d->req, d->rival, id, "hit", "{\"target\":\"orc\",\"dmg\":1}");
    }
    *type = "hit";
    *payload = cJSON_Parse("{\"target\":\"goblin\",\"dmg\":2}");
    return PC_OK;
}

static void test_retry_helper_succeeds_within_its_bound(void **state)
{
    (void)state;
    nng_socket req;
    char ann[33], ben[33];
    pc_server *srv = table_room(&req, ann, ben);
    static heard h;
    memset(&h, 0, sizeof h);
    pc_client *c = open_client(srv, PC_CLIENT_PLAYER, "cy", &h);
    decider d = {.req = req, .rival = ben, .rival_times = 2};
    uint64_t seq = 0;
    pc_error err = {0};
    assert_int_equal(
        pc_client_act_retry(c, decide_hit, &d, 3, NULL, &seq, &err), PC_OK);
    assert_int_equal(d.calls, 3); /* two conflicts, then applied */
    assert_int_equal(err.err, PC_OK);
    assert_int_equal(seq, room_seq(req));
    pc_server_free(srv);
    pc_client_close(c);
    nng_close(req);
}

static void test_retry_helper_fails_past_its_bound(void **state)
{
    (void)state;
    nng_socket req;
    char ann[33], ben[33];
    pc_server *srv = table_room(&req, ann, ben);
    static heard h;
    memset(&h, 0, sizeof h);
    pc_client *c = open_client(srv, PC_CLIENT_PLAYER, "cy", &h);
    decider d = {.req = req, .rival = ben, .rival_times = 100};
    pc_error err = {0};
    assert_int_equal(
        pc_client_act_retry(c, decide_hit, &d, 2, NULL, NULL, &err),
        PC_ERR_CONFLICT);
    assert_int_equal(d.calls, 3);
    assert_string_equal(err.code, "conflict");
    uint64_t now = room_seq(req);
    assert_int_equal(pc_client_conflict_seq(c), now);
    /* Only the rival's hits happened: the goblin is untouched. */
    char gm[33];
    join(req, "gm", "dm2", CRED, gm);
    char *whole = snapshot_text(req, gm);
    assert_non_null(strstr(whole, "\"goblin\":{\"hp\":100"));
    free(whole);
    pc_server_free(srv);
    pc_client_close(c);
    nng_close(req);
}

/* ---- two players at the same instant --------------------------------- */

typedef struct racer {
    const char *url;
    const char *token;
    pthread_barrier_t *go;
    int trial;
    int dmg;
    uint64_t seq;  /* the reply's seq */
    uint64_t cseq; /* its one change's seq */
    nng_socket req;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    char body[512];
    int n = snprintf(body, sizeof body,
                     "{\"op\":\"action\",\"room\":\"" ROOM
                     "\",\"token\":\"%s\",\"action_id\":\"t%d\",\"type\":"
                     "\"hit\",\"payload\":{\"target\":\"goblin\",\"dmg\":%d}}",
                     r->token, r->trial, r->dmg);
    pthread_barrier_wait(r->go);
    /* No cmocka assertions off the main thread: record, check later. */
    r->seq = r->cseq = 0;
    if (nng_send(r->req, body, (size_t)n, 0) != 0) {
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0;
    if (nng_recv(r->req, &buf, &len, NNG_FLAG_ALLOC) != 0) {
        return NULL;
    }
    cJSON *doc = cJSON_ParseWithLength(buf, len);
    nng_free(buf, len);
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(doc, "result");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(res, "seq");
    const cJSON *chs = cJSON_GetObjectItemCaseSensitive(res, "changes");
    const cJSON *c0 = cJSON_GetArrayItem(chs, 0);
    if (cJSON_IsNumber(s) && cJSON_GetArraySize(chs) == 1) {
        r->seq = (uint64_t)s->valuedouble;
        r->cseq =
            (uint64_t)cJSON_GetObjectItemCaseSensitive(c0, "seq")->valuedouble;
    }
    cJSON_Delete(doc);
    return NULL;
}

#define TRIALS 300

static void test_simultaneous_hits_are_applied_one_at_a_time(void **state)
{
    (void)state;
    nng_socket req;
    char ann[33], ben[33];
    pc_server *srv = serve(CRED);
    req = req_open(pc_server_rep_url(srv));
    char gm[33];
    join(req, "player", "ann", NULL, ann);
    join(req, "player", "ben", NULL, ben);
    join(req, "gm", "dm", CRED, gm);
    act_ok(req, gm, "g1", "add", "{\"id\":\"goblin\",\"hp\":100000}");
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 2);
    racer a = {.url = pc_server_rep_url(srv),
               .token = ann,
               .go = &go,
               .dmg = 2,
               .req = req_open(pc_server_rep_url(srv))};
    racer b = {.url = pc_server_rep_url(srv),
               .token = ben,
               .go = &go,
               .dmg = 3,
               .req = req_open(pc_server_rep_url(srv))};
    uint64_t start = room_seq(req);
    int a_first = 0;
    for (int t = 0; t < TRIALS; t++) {
        a.trial = b.trial = t;
        pthread_t ta, tb;
        assert_int_equal(pthread_create(&ta, NULL, race, &a), 0);
        assert_int_equal(pthread_create(&tb, NULL, race, &b), 0);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        uint64_t base = start + 2 * (uint64_t)t;
        /* Both applied, in some order, with contiguous seqs; each reply
         * names the seq it produced and carries that one change. */
        assert_true((a.seq == base + 1 && b.seq == base + 2) ||
                    (a.seq == base + 2 && b.seq == base + 1));
        assert_int_equal(a.cseq, a.seq);
        assert_int_equal(b.cseq, b.seq);
        a_first += a.seq < b.seq;
    }
    assert_int_equal(room_seq(req), start + 2 * TRIALS);
    char *whole = snapshot_text(req, gm);
    char want[64];
    snprintf(want, sizeof want, "\"goblin\":{\"hp\":%d", 100000 - 5 * TRIALS);
    assert_non_null(strstr(whole, want));
    print_message("simultaneous hits: %d trials, ann first in %d\n", TRIALS,
                  a_first);
    free(whole);
    pthread_barrier_destroy(&go);
    pc_server_free(srv);
    nng_close(a.req);
    nng_close(b.req);
    nng_close(req);
}

static void test_area_refused_in_part_changes_nothing_on_the_wire(void **s)
{
    (void)s;
    nng_socket req;
    char ann[33], ben[33];
    pc_server *srv = table_room(&req, ann, ben);
    nng_socket sub = sub_open(pc_server_pub_url(srv), "");
    wait_heartbeat(sub, ROOM);
    char gm[33];
    join(req, "gm", "dm2", CRED, gm);
    char *before = snapshot_text(req, gm);
    uint64_t seq = room_seq(req);
    cJSON *r = action(req, ann, "x1", "area",
                      "{\"targets\":[\"goblin\",\"orc\"],\"dmg\":40}", -1);
    assert_error(r, "hp_below_zero");
    cJSON_Delete(r);
    char *after = snapshot_text(req, gm);
    assert_string_equal(before, after);
    assert_int_equal(room_seq(req), seq);
    r = request(req,
                "{\"op\":\"changes\",\"room\":\"" ROOM "\",\"since\":%llu}",
                (unsigned long long)seq);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
                         ok_result(r), "changes")),
                     0);
    cJSON_Delete(r);
    /* The next change on the broadcast is the valid spell's, at seq + 1:
     * nothing was published for the refused one. */
    r = action(req, ann, "x2", "area",
               "{\"targets\":[\"goblin\",\"orc\"],\"dmg\":10}", -1);
    const cJSON *res = ok_result(r);
    assert_int_equal(num(res, "seq"), seq + 1);
    cJSON_Delete(r);
    int64_t end = mono_ms() + WAIT_MS;
    for (;;) {
        assert_true(mono_ms() < end);
        frame f = recv_frame(sub);
        const cJSON *chs = cJSON_GetObjectItemCaseSensitive(f.env, "changes");
        if (cJSON_GetArraySize(chs) > 0) {
            const cJSON *c0 = cJSON_GetArrayItem(chs, 0);
            assert_int_equal(num(c0, "seq"), seq + 1);
            assert_string_equal(str(c0, "reason"), "an area spell");
            cJSON_Delete(f.env);
            break;
        }
        cJSON_Delete(f.env);
    }
    free(before);
    free(after);
    pc_server_free(srv);
    nng_close(sub);
    nng_close(req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gm_join_needs_the_rooms_credential),
        cmocka_unit_test(test_gm_data_reaches_only_the_gm),
        cmocka_unit_test(test_stale_hit_is_a_conflict_with_the_rooms_seq),
        cmocka_unit_test(test_retry_helper_succeeds_within_its_bound),
        cmocka_unit_test(test_retry_helper_fails_past_its_bound),
        cmocka_unit_test(test_simultaneous_hits_are_applied_one_at_a_time),
        cmocka_unit_test(test_area_refused_in_part_changes_nothing_on_the_wire),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    pc_transport_fini();
    return rc;
}
