/*
 * test_server_events.c - events over the network: a public event reaches
 * everyone on the broadcast; a player's event reaches that player alone,
 * through `changes` with its token; a game master's reaches nobody; and
 * still every viewer sees every seq, so no client sees a gap. A raw nng
 * SUB subscribed to everything, a spectator client, token-less requests
 * and the other player must never see the canary strings in the private
 * events' data (nor their reasons). The client library calls the room
 * event callback right after the change callback of the same seq, for
 * events from the broadcast and from repairs alike. Events leave the
 * state's checksum alone, and a server restarted on its log directory
 * serves the events again. Real nng sockets over TCP on 127.0.0.1; every
 * wait polls against a deadline.
 */
#define _POSIX_C_SOURCE 200809L

#include "test_server_support.h"

#include <unistd.h>

#include "phasecast/alloc.h"
#include "phasecast/changelog.h"
#include "phasecast/client.h"
#include "phasecast/room.h"

#include "testnet.h"

#define ROOM   "hall"
#define CANARY "CANARY-EV"

/* ---- the "crier" game ------------------------------------------------ */

/* join: accepted, no change. count: one update. shout: a public event
 * with the payload. whisper: an event for payload.to with the payload.
 * note: an event for the game master. */
static pc_err crier_action(pc_room *room, const pc_action *act, cJSON **result,
                           pc_error *err, void *arg)
{
    (void)result;
    (void)arg;
    if (strcmp(act->type, "join") == 0) {
        return PC_OK;
    }
    if (strcmp(act->type, "count") == 0) {
        cJSON *patch = cJSON_CreateObject();
        cJSON_AddNumberToObject(patch, "n", (double)pc_room_seq(room));
        pc_err rc = pc_update_phase_data(room, patch, "counted");
        cJSON_Delete(patch);
        return rc;
    }
    if (strcmp(act->type, "shout") == 0) {
        return pc_room_event(room, "shouted", act->payload, "a shout");
    }
    if (strcmp(act->type, "whisper") == 0) {
        const cJSON *to = cJSON_GetObjectItemCaseSensitive(act->payload, "to");
        return pc_room_event_to(room, PC_AUDIENCE_PLAYER,
                                cJSON_GetStringValue(to), "whispered",
                                act->payload, "a whisper " CANARY "-why");
    }
    if (strcmp(act->type, "note") == 0) {
        return pc_room_event_to(room, PC_AUDIENCE_GM, NULL, "gm.note",
                                act->payload, "a note " CANARY "-why");
    }
    return pc_error_set(err, PC_ERR_ACTION, "unknown_action", "no %s",
                        act->type);
}

static const pc_phase crier_phases[] = {
    {.name = "OPEN", .action = crier_action}};
static const char *const crier_private[] = {"/hands/{player}", NULL};
static const pc_game crier = {.name = "crier",
                              .phases = crier_phases,
                              .nphases = 1,
                              .private_paths = crier_private};

/* ---- what a client's callbacks saw, in order ---------------------------- */

typedef struct seen {
    char lines[32][256];
    int n;
} seen;

static void put(seen *s, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void put(seen *s, const char *fmt, ...)
{
    assert_true(s->n < 32);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->lines[s->n++], sizeof s->lines[0], fmt, ap);
    va_end(ap);
}

static void on_change(pc_client *c, const pc_client_change *ch, void *arg)
{
    (void)c;
    char *patch = cJSON_PrintUnformatted(ch->patch);
    put(arg, "change %llu %s%s reason=%s patch=%s", (unsigned long long)ch->seq,
        ch->event ? "event" : "state",
        ch->event && !ch->event_visible ? "(hidden)" : "", ch->reason, patch);
    cJSON_free(patch);
}

static void on_room_event(pc_client *c, const pc_client_room_event *ev,
                          void *arg)
{
    /* The replica is already at the event's seq. */
    assert_int_equal(pc_client_seq(c), ev->seq);
    char *data = cJSON_PrintUnformatted(ev->data);
    put(arg, "event %llu %s%s data=%s reason=%s", (unsigned long long)ev->seq,
        ev->name, ev->private_event ? "(private)" : "", data, ev->reason);
    cJSON_free(data);
}

static pc_client *open_client(pc_server *srv, const char *name, seen *s)
{
    pc_client_config cfg = {0};
    cfg.pub_url = pc_server_pub_url(srv);
    cfg.req_url = pc_server_rep_url(srv);
    cfg.room = ROOM;
    cfg.role = name != NULL ? PC_CLIENT_PLAYER : PC_CLIENT_SPECTATOR;
    cfg.name = name;
    cfg.on_change = on_change;
    cfg.on_room_event = on_room_event;
    cfg.arg = s;
    cfg.request_timeout_ms = 2000;
    pc_client *c = NULL;
    pc_error err = {0};
    if (pc_client_open(&cfg, &c, &err) != PC_OK) {
        fail_msg("open %s: %s", name ? name : "spectator", err.message);
    }
    memset(s, 0, sizeof *s);
    return c;
}

static void act(pc_client *c, const char *type, const char *payload)
{
    cJSON *p = payload != NULL ? cJSON_Parse(payload) : NULL;
    pc_error err = {0};
    if (pc_client_act(c, type, p, NULL, NULL, &err) != PC_OK) {
        fail_msg("%s: %s", type, err.message);
    }
    cJSON_Delete(p);
}

/* Poll every client until each has reached seq. */
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

/* Every frame the raw SUB receives until it has seen seq, concatenated;
 * the changes' seqs must be contiguous from first. */
static char *drain_raw(nng_socket sub, uint64_t first, uint64_t last)
{
    size_t cap = 1 << 16, len = 0;
    char *all = malloc(cap);
    uint64_t next = first;
    int64_t end = mono_ms() + WAIT_MS;
    while (next <= last) {
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
            uint64_t seq = (uint64_t)num(ch, "seq");
            if (seq >= first) {
                assert_int_equal(seq, next);
                next++;
            }
        }
        cJSON_Delete(env);
    }
    all[len] = '\0';
    return all;
}

/* A request's raw reply as text (caller frees). */
static char *ask(nng_socket req, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static char *ask(nng_socket req, const char *fmt, ...)
{
    char body[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    size_t n = 0;
    char *raw = request_raw(req, body, strlen(body), &n);
    char *text = malloc(n + 1);
    memcpy(text, raw, n);
    text[n] = '\0';
    free(raw);
    return text;
}

/* The player token of name in room, joined over req. */
static char *join_raw(nng_socket req, const char *name)
{
    cJSON *r = request(req,
                       "{\"op\":\"join\",\"room\":\"" ROOM
                       "\",\"role\":\"player\",\"name\":\"%s\"}",
                       name);
    char *tok = strdup(str(ok_result(r), "token"));
    cJSON_Delete(r);
    return tok;
}

static bool line_has(const seen *s, const char *needle)
{
    for (int i = 0; i < s->n; i++) {
        if (strstr(s->lines[i], needle) != NULL) {
            return true;
        }
    }
    return false;
}

/* The index of the first line starting with prefix, or -1. */
static int line_at(const seen *s, const char *prefix)
{
    for (int i = 0; i < s->n; i++) {
        if (strncmp(s->lines[i], prefix, strlen(prefix)) == 0) {
            return i;
        }
    }
    return -1;
}

static void test_events_reach_their_audience_and_no_one_else(void **state)
{
    (void)state;
    pc_server *srv = testnet_serve(NULL, &crier, ROOM, 100);
    nng_socket sub = sub_open(pc_server_pub_url(srv), "");
    wait_heartbeat(sub, ROOM);
    nng_socket req = req_open(pc_server_rep_url(srv));
    seen sa, sb, sv;
    pc_client *ann = open_client(srv, "ann", &sa);
    pc_client *bob = open_client(srv, "bob", &sb);
    pc_client *spec = open_client(srv, NULL, &sv);
    pc_client *all[] = {ann, bob, spec};
    uint64_t base = pc_client_seq(ann); /* the joins changed nothing */
    assert_int_equal(base, 0);

    act(ann, "count", NULL);                                          /* 1 */
    act(ann, "shout", "{\"msg\":\"hear ye\"}");                       /* 2 */
    act(ann, "whisper", "{\"to\":\"bob\",\"s\":\"" CANARY "-bob\"}"); /* 3 */
    act(ann, "note", "{\"s\":\"" CANARY "-gm\"}");                    /* 4 */
    act(ann, "count", NULL);                                          /* 5 */
    converge(all, 3, 5);

    /* The raw SUB saw every seq, the public event whole, and nothing of
     * the private ones but their seqs. */
    char *raw = drain_raw(sub, 1, 5);
    assert_null(strstr(raw, CANARY));
    assert_non_null(strstr(raw, "\"kind\":\"event\""));
    assert_non_null(strstr(
        raw,
        "\"event\":{\"name\":\"shouted\",\"data\":{\"msg\":\"hear ye\"}}"));
    assert_null(strstr(raw, "whispered"));
    assert_null(strstr(raw, "gm.note"));
    free(raw);

    /* Each client saw each seq once; the room event right after its
     * change. */
    assert_int_equal(sa.n, 6); /* 5 changes + the shout */
    assert_int_equal(sb.n, 7); /* + bob's whisper */
    assert_int_equal(sv.n, 6);
    int c2 = line_at(&sv, "change 2 event ");
    assert_true(c2 >= 0);
    assert_int_equal(line_at(&sv, "event 2 shouted data={\"msg\":\"hear ye\"} "
                                  "reason=a shout"),
                     c2 + 1);
    int b3 = line_at(&sb, "change 3 event reason=a whisper");
    assert_true(b3 >= 0);
    assert_int_equal(line_at(&sb, "event 3 whispered(private)"), b3 + 1);
    assert_true(line_has(&sb, CANARY "-bob"));
    assert_true(line_at(&sa, "change 3 event(hidden) reason= ") >= 0);
    assert_true(line_at(&sv, "change 4 event(hidden) reason= ") >= 0);
    assert_true(line_at(&sb, "change 4 event(hidden) reason= ") >= 0);
    for (int i = 0; i < sa.n; i++) {
        assert_null(strstr(sa.lines[i], CANARY));
    }
    for (int i = 0; i < sv.n; i++) {
        assert_null(strstr(sv.lines[i], CANARY));
    }
    assert_false(line_has(&sb, CANARY "-gm"));

    /* Requests: without a token, or with another player's, no canary;
     * bob's token gets bob's whisper. The sum never moves at an event. */
    char *pub =
        ask(req, "{\"op\":\"changes\",\"room\":\"" ROOM "\",\"since\":0}");
    assert_null(strstr(pub, CANARY));
    assert_non_null(strstr(pub, "shouted"));
    cJSON *r = NULL;
    assert_int_equal(pc_json_parse(pub, strlen(pub), NULL, &r, NULL), PC_OK);
    const cJSON *list =
        cJSON_GetObjectItemCaseSensitive(ok_result(r), "changes");
    assert_int_equal(cJSON_GetArraySize(list), 5);
    const char *sum1 = str(cJSON_GetArrayItem(list, 0), "sum");
    for (int i = 1; i <= 3; i++) {
        assert_string_equal(str(cJSON_GetArrayItem(list, i), "sum"), sum1);
    }
    cJSON_Delete(r);
    free(pub);
    char *carl = join_raw(req, "carl");
    char *other = ask(req,
                      "{\"op\":\"changes\",\"room\":\"" ROOM
                      "\",\"since\":0,\"token\":\"%s\"}",
                      carl);
    assert_null(strstr(other, CANARY));
    free(other);
    char *snap = ask(req, "{\"op\":\"snapshot\",\"room\":\"" ROOM "\"}");
    assert_null(strstr(snap, CANARY));
    free(snap);
    free(carl);

    pc_server_free(srv);
    pc_client_close(ann);
    pc_client_close(bob);
    pc_client_close(spec);
    nng_close(req);
    nng_close(sub);
}

static void test_events_are_served_again_after_a_restart(void **state)
{
    (void)state;
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/pc-srv-events-XXXXXX");
    assert_non_null(mkdtemp(dir));
    pc_server_options o;
    pc_server_options_init(&o);
    o.pub_url = "tcp://127.0.0.1:0";
    o.rep_url = "tcp://127.0.0.1:0";
    o.heartbeat_ms = 50;
    o.log_dir = dir;
    o.fsync = PC_FSYNC_NONE;
    pc_server *srv = testnet_serve(&o, &crier, ROOM, 100);
    nng_socket req = req_open(pc_server_rep_url(srv));
    char *ann = join_raw(req, "ann");
    char *bob = join_raw(req, "bob");
    cJSON_Delete(request(req,
                         "{\"op\":\"action\",\"room\":\"" ROOM
                         "\",\"token\":\"%s\",\"action_id\":\"w\","
                         "\"type\":\"whisper\",\"payload\":{\"to\":\"bob\","
                         "\"s\":\"" CANARY "-bob\"}}",
                         ann));
    cJSON_Delete(request(req,
                         "{\"op\":\"action\",\"room\":\"" ROOM
                         "\",\"token\":\"%s\",\"action_id\":\"s\","
                         "\"type\":\"shout\",\"payload\":7}",
                         ann));
    nng_close(req);
    pc_server_free(srv);

    /* The same directory, a new server: the room comes back at seq 2. */
    pc_server *again = NULL;
    pc_error err = {0};
    assert_int_equal(pc_server_new(&o, &again, &err), PC_OK);
    const pc_changelog_game games[] = {{.game = &crier, .arg = NULL}};
    assert_int_equal(
        pc_server_recover(again, games, 1, NULL, 0, NULL, NULL, &err), PC_OK);
    assert_int_equal(pc_server_start(again), PC_OK);
    req = req_open(pc_server_rep_url(again));
    char *mine = ask(req,
                     "{\"op\":\"changes\",\"room\":\"" ROOM
                     "\",\"since\":0,\"token\":\"%s\"}",
                     bob);
    assert_non_null(strstr(mine, "\"room\":\"" ROOM "\",\"seq\":2,"));
    assert_non_null(strstr(mine, "\"event\":{\"name\":\"whispered\""));
    assert_non_null(strstr(mine, CANARY "-bob"));
    assert_non_null(
        strstr(mine, "\"event\":{\"name\":\"shouted\",\"data\":7}"));
    free(mine);
    char *pub =
        ask(req, "{\"op\":\"changes\",\"room\":\"" ROOM "\",\"since\":0}");
    assert_null(strstr(pub, CANARY));
    assert_non_null(strstr(pub, "{\"seq\":1,"));
    assert_non_null(strstr(pub, "\"private\":true"));
    free(pub);
    nng_close(req);
    pc_server_free(again);
    free(ann);
    free(bob);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_reach_their_audience_and_no_one_else),
        cmocka_unit_test(test_events_are_served_again_after_a_restart),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    nng_fini();
    return rc;
}
