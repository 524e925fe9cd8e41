/*
 * test_server_inspect.c - the request channel's "inspect" op over real nng
 * sockets: the credential (checked first, never echoed, nothing changed by
 * a refusal), the reply's shape, its records replayed onto its base giving
 * exactly every retained state with the checksums the records carry (with
 * numbers cJSON alone would round), records that are the change log's own
 * bytes, a room without history, paging, too_old, and bad fields. Hostile
 * bodies and the byte budget are in test_server_inspect_limits.c.
 */
#include "test_server_support.h"

#include <dirent.h>
#include <unistd.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/changelog.h"
#include "phasecast/history.h"
#include "phasecast/merge.h"
#include "phasecast/room.h"

#define CREDENTIAL "insp-0123456789abcdef-XYZ"
#define HISTORY    10
#define CHANGES    30

static const char *const private_paths[] = {"/hands/{player}", NULL};
static const pc_phase phases[] = {{.name = "PLAY"}, {.name = "REST"}};
static const pc_game game = {.name = "inspected",
                             .phases = phases,
                             .nphases = 2,
                             .initial_phase = "PLAY",
                             .private_paths = private_paths};

typedef struct fixture {
    pc_server *srv;
    nng_socket req;
} fixture;

static fixture fx;

/* A running server with room r1 keeping capacity changes, logged into
 * log_dir when it is not NULL. */
static pc_server *serve_with(const char *credential, size_t capacity,
                             const char *log_dir)
{
    pc_server_options o;
    pc_server_options_init(&o);
    o.pub_url = "tcp://127.0.0.1:0";
    o.rep_url = "tcp://127.0.0.1:0";
    o.inspector_credential = credential;
    o.log_dir = log_dir;
    o.fsync = PC_FSYNC_NONE;
    pc_server *srv = NULL;
    assert_int_equal(pc_server_new(&o, &srv, NULL), PC_OK);
    pc_server_room_options ro;
    pc_server_room_options_init(&ro);
    ro.room.id = "r1";
    ro.room.history_capacity = capacity;
    ro.join_action = NULL;
    assert_int_equal(pc_server_add_room(srv, &game, &ro, NULL), PC_OK);
    assert_int_equal(pc_server_start(srv), PC_OK);
    return srv;
}

static pc_server *serve(const char *credential)
{
    return serve_with(credential, HISTORY, NULL);
}

static int setup(void **state)
{
    (void)state;
    memset(&fx, 0, sizeof fx);
    fx.srv = serve(CREDENTIAL);
    fx.req = req_open(pc_server_rep_url(fx.srv));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pc_server_free(fx.srv);
    nng_close(fx.req);
    return 0;
}

/* n changes by the host, with a private hand and a transition every 7. */
static void make_changes(pc_server *srv, void *arg)
{
    int n = *(const int *)arg;
    pc_room *room = pc_server_find_room(srv, "r1");
    for (int i = 0; i < n; i++) {
        char patch[200];
        uint64_t seq = pc_room_seq(room) + 1;
        if (seq % 7 == 0) {
            bool play = strcmp(pc_room_phase(room), "PLAY") == 0;
            assert_int_equal(
                pc_transition_text(room, play ? "REST" : "PLAY", "{}", "rest"),
                PC_OK);
            continue;
        }
        snprintf(patch, sizeof patch,
                 "{\"n\":%llu,\"hands\":{\"p%llu\":{\"card\":%llu}}}",
                 (unsigned long long)seq, (unsigned long long)(seq % 3),
                 (unsigned long long)(seq * 11));
        assert_int_equal(pc_update_phase_text(room, patch, "deal"), PC_OK);
    }
}

static void drive_on(pc_server *srv, int n)
{
    assert_int_equal(pc_server_call(srv, make_changes, &n), PC_OK);
}

static void drive(int n)
{
    drive_on(fx.srv, n);
}

/* Patches of room r1, in turn, one change each (a NULL-terminated list). */
static void make_patches(pc_server *srv, void *arg)
{
    pc_room *room = pc_server_find_room(srv, "r1");
    for (const char *const *p = arg; *p != NULL; p++) {
        assert_int_equal(pc_update_phase_text(room, *p, "numbers"), PC_OK);
    }
}

typedef struct probe {
    uint64_t seq, sum;
} probe;

static void read_room(pc_server *srv, void *arg)
{
    probe *p = arg;
    pc_room *room = pc_server_find_room(srv, "r1");
    p->seq = pc_room_seq(room);
    p->sum = pc_room_checksum(room);
}

static probe room_of(pc_server *srv)
{
    probe p = {0, 0};
    assert_int_equal(pc_server_call(srv, read_room, &p), PC_OK);
    return p;
}

static probe room_now(void)
{
    return room_of(fx.srv);
}

/* The canonical text of room r1's state right after seq, read on the
 * loop (no assertion there: cmocka asserts on the test's thread). */
typedef struct state_probe {
    uint64_t seq;
    char *canon; /* pc_free; NULL if the room could not give it */
} state_probe;

static void read_state_at(pc_server *srv, void *arg)
{
    state_probe *p = arg;
    cJSON *doc = NULL;
    if (pc_history_state_at(pc_server_find_room(srv, "r1"), p->seq, &doc) ==
        PC_OK) {
        (void)pc_canon_print(doc, &p->canon, NULL);
    }
    cJSON_Delete(doc);
}

/* Assert doc is exactly room r1's state right after seq. */
static void assert_room_state_at(pc_server *srv, uint64_t seq, const cJSON *doc)
{
    state_probe p = {seq, NULL};
    assert_int_equal(pc_server_call(srv, read_state_at, &p), PC_OK);
    assert_non_null(p.canon);
    char *mine = NULL;
    assert_int_equal(pc_canon_print(doc, &mine, NULL), PC_OK);
    assert_string_equal(mine, p.canon);
    pc_free(mine);
    pc_free(p.canon);
}

/* The message of an error reply (borrowed from r). */
static const char *message(const cJSON *r)
{
    return str(cJSON_GetObjectItemCaseSensitive(r, "error"), "message");
}

static uint64_t hex(const cJSON *o, const char *key)
{
    return strtoull(str(o, key), NULL, 16);
}

static void the_credential_is_checked_first(void **state)
{
    (void)state;
    drive(3);
    cJSON *r = request(fx.req, "{\"op\":\"inspect\",\"room\":\"nope\"}");
    assert_error(r, "forbidden");
    assert_string_equal(message(r), "inspector credential required");
    cJSON_Delete(r);
    r = request(fx.req, "{\"op\":\"inspect\",\"room\":\"r1\","
                        "\"credential\":\"insp-0123456789abcdef-XYz\"}");
    assert_error(r, "forbidden");
    assert_string_equal(message(r), "wrong inspector credential");
    cJSON_Delete(r);
    r = request(fx.req, "{\"op\":\"inspect\",\"room\":\"r1\","
                        "\"credential\":\"" CREDENTIAL "x\"}");
    assert_error(r, "forbidden");
    cJSON_Delete(r);
    r = request(fx.req,
                "{\"op\":\"inspect\",\"room\":\"r1\",\"credential\":42}");
    assert_error(r, "forbidden");
    cJSON_Delete(r);
    /* A refusal echoes nothing: not the credential sent, not the right
     * one. */
    const char *body = "{\"op\":\"inspect\",\"room\":\"r1\","
                       "\"credential\":\"guess-guess-guess-guess\"}";
    probe before = room_now();
    char *raw = request_raw(fx.req, body, strlen(body), NULL);
    assert_null(strstr(raw, "guess-guess"));
    assert_null(strstr(raw, CREDENTIAL));
    free(raw);
    probe after = room_now();
    assert_int_equal(after.seq, 3);
    assert_int_equal(after.seq, before.seq);
    assert_int_equal(after.sum, before.sum);
    /* Nor does an answer: the credential is never in a reply. */
    body = "{\"op\":\"inspect\",\"room\":\"r1\","
           "\"credential\":\"" CREDENTIAL "\"}";
    raw = request_raw(fx.req, body, strlen(body), NULL);
    assert_non_null(strstr(raw, "\"ok\":true"));
    assert_null(strstr(raw, CREDENTIAL));
    free(raw);
    /* With the credential, the room is checked next. */
    r = request(fx.req, "{\"op\":\"inspect\",\"room\":\"nope\","
                        "\"credential\":\"" CREDENTIAL "\"}");
    assert_error(r, "unknown_room");
    cJSON_Delete(r);
}

static void a_server_without_a_credential_refuses_every_inspector(void **state)
{
    (void)state;
    pc_server *srv = serve(NULL);
    nng_socket s = req_open(pc_server_rep_url(srv));
    drive_on(srv, 4);
    probe before = room_of(srv);
    cJSON *r = request(s, "{\"op\":\"inspect\",\"room\":\"r1\","
                          "\"credential\":\"" CREDENTIAL "\"}");
    assert_error(r, "forbidden");
    assert_string_equal(message(r), "the inspector is disabled on this server");
    cJSON_Delete(r);
    /* Also without a credential: a disabled inspector is said first. */
    r = request(s, "{\"op\":\"inspect\",\"room\":\"r1\"}");
    assert_error(r, "forbidden");
    assert_string_equal(message(r), "the inspector is disabled on this server");
    cJSON_Delete(r);
    /* The refusals changed nothing. */
    probe after = room_of(srv);
    assert_int_equal(after.seq, 4);
    assert_int_equal(after.seq, before.seq);
    assert_int_equal(after.sum, before.sum);
    pc_server_free(srv);
    nng_close(s);
    /* An empty credential disables it too. */
    srv = serve("");
    s = req_open(pc_server_rep_url(srv));
    r = request(s, "{\"op\":\"inspect\",\"room\":\"r1\","
                   "\"credential\":\"\"}");
    assert_error(r, "forbidden");
    assert_string_equal(message(r), "the inspector is disabled on this server");
    cJSON_Delete(r);
    pc_server_free(srv);
    nng_close(s);
    /* Malformed credentials are refused at creation. */
    char long_one[PC_SERVER_CREDENTIAL_MAX + 2];
    memset(long_one, 'k', sizeof long_one - 1);
    long_one[sizeof long_one - 1] = '\0';
    const char *const bad[] = {
        "short-123456789",          "has a space in it 0123",
        "tab\there-0123456789",     "caf\xc3\xa9-0123456789abc",
        "del\x7f-0123456789abcdef", long_one};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pc_server_options o;
        pc_server_options_init(&o);
        o.pub_url = "tcp://127.0.0.1:0";
        o.rep_url = "tcp://127.0.0.1:0";
        o.inspector_credential = bad[i];
        pc_server *x = NULL;
        pc_error err = {0};
        assert_int_equal(pc_server_new(&o, &x, &err), PC_ERR_INVALID);
        assert_null(x);
        assert_null(strstr(err.message, bad[i]));
    }
    /* 16 and PC_SERVER_CREDENTIAL_MAX characters are both fine. */
    const char *const good[] = {"0123456789abcdef", long_one + 2};
    for (size_t i = 0; i < 2; i++) {
        pc_server_options o;
        pc_server_options_init(&o);
        o.pub_url = "tcp://127.0.0.1:0";
        o.rep_url = "tcp://127.0.0.1:0";
        o.inspector_credential = good[i];
        pc_server *x = NULL;
        assert_int_equal(pc_server_new(&o, &x, NULL), PC_OK);
        pc_server_free(x);
    }
}

/* Apply a record to doc as the inspector would; check its sum. */
static void apply(cJSON *doc, const cJSON *rec)
{
    cJSON *data = cJSON_GetObjectItemCaseSensitive(doc, "data");
    assert_int_equal(pc_merge_patch_inplace(
                         data, cJSON_GetObjectItemCaseSensitive(rec, "patch")),
                     PC_OK);
    cJSON_ReplaceItemInObjectCaseSensitive(
        doc, "phase", cJSON_CreateString(str(rec, "phase")));
    uint64_t sum;
    size_t len;
    assert_int_equal(pc_canon_checksum(doc, &sum, &len), PC_OK);
    assert_int_equal(sum, hex(rec, "sum"));
    assert_int_equal(len, (size_t)num(rec, "bytes"));
}

static void the_ring_replays_to_every_retained_state(void **state)
{
    (void)state;
    drive(CHANGES);
    cJSON *r = request(fx.req, "{\"op\":\"inspect\",\"room\":\"r1\","
                               "\"credential\":\"" CREDENTIAL "\"}");
    const cJSON *res = ok_result(r);
    assert_string_equal(str(res, "room"), "r1");
    assert_string_equal(str(res, "game"), "inspected");
    assert_int_equal(num(res, "seq"), CHANGES);
    assert_int_equal(num(res, "first"), CHANGES - HISTORY);
    assert_int_equal(num(res, "capacity"), HISTORY);
    assert_int_equal(strlen(str(res, "seed")), 16);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "more")));
    const cJSON *base = cJSON_GetObjectItemCaseSensitive(res, "base");
    assert_int_equal(num(base, "seq"), CHANGES - HISTORY);
    cJSON *doc =
        cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(base, "state"), true);
    uint64_t sum;
    size_t len;
    assert_int_equal(pc_canon_checksum(doc, &sum, &len), PC_OK);
    assert_int_equal(sum, hex(base, "sum"));
    /* The inspector sees what players hide from each other. */
    assert_non_null(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(doc, "data"), "hands"),
        "p1"));
    const cJSON *recs = cJSON_GetObjectItemCaseSensitive(res, "records");
    assert_int_equal(cJSON_GetArraySize(recs), HISTORY);
    uint64_t want = CHANGES - HISTORY + 1;
    const cJSON *rec;
    assert_room_state_at(fx.srv, CHANGES - HISTORY, doc);
    cJSON_ArrayForEach(rec, recs)
    {
        assert_string_equal(str(rec, "type"), "change");
        assert_int_equal(num(rec, "seq"), want);
        assert_non_null(cJSON_GetObjectItemCaseSensitive(rec, "reason"));
        assert_non_null(cJSON_GetObjectItemCaseSensitive(rec, "file"));
        assert_true(num(rec, "line") > 0);
        assert_non_null(cJSON_GetObjectItemCaseSensitive(rec, "func"));
        assert_true(num(rec, "draws") >= 0);
        assert_string_equal(
            str(rec, "prev"),
            strcmp(str(rec, "kind"), "transition") == 0
                ? (strcmp(str(rec, "phase"), "PLAY") == 0 ? "REST" : "PLAY")
                : str(rec, "phase"));
        apply(doc, rec);
        assert_room_state_at(fx.srv, want, doc);
        want++;
    }
    assert_int_equal(pc_canon_checksum(doc, &sum, &len), PC_OK);
    assert_int_equal(sum, room_now().sum);
    cJSON_Delete(doc);
    cJSON_Delete(r);
}

static void records_come_in_pages_and_evicted_ones_are_too_old(void **state)
{
    (void)state;
    drive(CHANGES);
    uint64_t since = CHANGES - HISTORY;
    int pages = 0;
    bool more = true;
    while (more) {
        cJSON *r = request(fx.req,
                           "{\"op\":\"inspect\",\"room\":\"r1\","
                           "\"credential\":\"" CREDENTIAL "\",\"since\":%llu,"
                           "\"limit\":3}",
                           (unsigned long long)since);
        const cJSON *res = ok_result(r);
        assert_null(cJSON_GetObjectItemCaseSensitive(res, "base"));
        const cJSON *recs = cJSON_GetObjectItemCaseSensitive(res, "records");
        const cJSON *rec;
        cJSON_ArrayForEach(rec, recs)
        {
            assert_int_equal(num(rec, "seq"), ++since);
        }
        more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "more"));
        pages++;
        cJSON_Delete(r);
    }
    assert_int_equal(since, CHANGES);
    assert_int_equal(pages, 4);
    cJSON *r =
        request(fx.req, "{\"op\":\"inspect\",\"room\":\"r1\","
                        "\"credential\":\"" CREDENTIAL "\",\"since\":5}");
    assert_error(r, "too_old");
    cJSON_Delete(r);
    /* The boundary: the oldest state held is seq 20 (the first retained
     * change is 21); since 19 would need change 20, which is gone. */
    r = request(fx.req, "{\"op\":\"inspect\",\"room\":\"r1\","
                        "\"credential\":\"" CREDENTIAL "\",\"since\":19}");
    assert_error(r, "too_old");
    cJSON_Delete(r);
    r = request(fx.req, "{\"op\":\"inspect\",\"room\":\"r1\","
                        "\"credential\":\"" CREDENTIAL "\",\"since\":31}");
    assert_error(r, "bad_request");
    cJSON_Delete(r);
    r = request(fx.req, "{\"op\":\"inspect\",\"room\":\"r1\","
                        "\"credential\":\"" CREDENTIAL "\",\"since\":\"x\"}");
    assert_error(r, "bad_request");
    cJSON_Delete(r);
    r = request(fx.req, "{\"op\":\"inspect\",\"room\":\"r1\","
                        "\"credential\":\"" CREDENTIAL "\",\"limit\":-1}");
    assert_error(r, "bad_request");
    cJSON_Delete(r);
    static const char *const bad[] = {"\"since\":2.5",
                                      "\"since\":-1",
                                      "\"since\":1e300",
                                      "\"since\":true",
                                      "\"limit\":\"3\"",
                                      "\"limit\":1.5",
                                      "\"limit\":9007199254740994",
                                      "\"since\":{}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = request(fx.req,
                    "{\"op\":\"inspect\",\"room\":\"r1\","
                    "\"credential\":\"" CREDENTIAL "\",%s}",
                    bad[i]);
        assert_error(r, "bad_request");
        cJSON_Delete(r);
    }
    /* limit 0 and limits over 1000 mean 1000; 1 means one. */
    static const struct {
        const char *limit;
        int records;
    } limits[] = {{"0", HISTORY}, {"1", 1}, {"1001", HISTORY}};
    for (size_t i = 0; i < 3; i++) {
        r = request(fx.req,
                    "{\"op\":\"inspect\",\"room\":\"r1\","
                    "\"credential\":\"" CREDENTIAL "\",\"limit\":%s}",
                    limits[i].limit);
        const cJSON *res = ok_result(r);
        assert_int_equal(cJSON_GetArraySize(
                             cJSON_GetObjectItemCaseSensitive(res, "records")),
                         limits[i].records);
        assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
                        res, "more")) == (limits[i].records < HISTORY));
        cJSON_Delete(r);
    }
    /* since = seq: nothing new, no more. */
    r = request(fx.req, "{\"op\":\"inspect\",\"room\":\"r1\","
                        "\"credential\":\"" CREDENTIAL "\",\"since\":30}");
    const cJSON *res = ok_result(r);
    assert_int_equal(
        cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "records")),
        0);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "more")));
    cJSON_Delete(r);
}

/* Doubles that cJSON's printer would round (it keeps 15 digits when they
 * read back within an epsilon) reach the inspector exactly: replayed, the
 * records give every state with the checksum they carry. */
static void numbers_reach_the_inspector_exactly(void **state)
{
    (void)state;
    static const char *const patches[] = {
        "{\"f\":0.30000000000000004}",
        "{\"g\":1.0000000000000002,\"h\":[5e-324,1e+21,-0.1]}",
        "{\"f\":1152921504606846976,\"i\":0.1}",
        "{\"f\":null,\"j\":{\"k\":2.675}}", NULL};
    assert_int_equal(pc_server_call(fx.srv, make_patches, (void *)patches),
                     PC_OK);
    cJSON *r = request(fx.req, "{\"op\":\"inspect\",\"room\":\"r1\","
                               "\"credential\":\"" CREDENTIAL "\"}");
    const cJSON *res = ok_result(r);
    const cJSON *base = cJSON_GetObjectItemCaseSensitive(res, "base");
    assert_int_equal(num(base, "seq"), 0);
    cJSON *doc =
        cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(base, "state"), true);
    const cJSON *recs = cJSON_GetObjectItemCaseSensitive(res, "records");
    assert_int_equal(cJSON_GetArraySize(recs), 4);
    uint64_t seq = 1;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, recs)
    {
        apply(doc, rec);
        assert_room_state_at(fx.srv, seq++, doc);
    }
    double f = cJSON_GetObjectItemCaseSensitive(
                   cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(recs, 0),
                                                    "patch"),
                   "f")
                   ->valuedouble;
    assert_true(f == 0.1 + 0.2);
    cJSON_Delete(doc);
    cJSON_Delete(r);
}

/* A room that keeps no history gives its current state as the base and
 * no records; any older since is too_old. */
static void a_room_without_history_gives_its_current_state(void **state)
{
    (void)state;
    pc_server *srv = serve_with(CREDENTIAL, 0, NULL);
    nng_socket s = req_open(pc_server_rep_url(srv));
    drive_on(srv, 5);
    cJSON *r = request(s, "{\"op\":\"inspect\",\"room\":\"r1\","
                          "\"credential\":\"" CREDENTIAL "\"}");
    const cJSON *res = ok_result(r);
    assert_int_equal(num(res, "seq"), 5);
    assert_int_equal(num(res, "first"), 5);
    assert_int_equal(num(res, "capacity"), 0);
    const cJSON *base = cJSON_GetObjectItemCaseSensitive(res, "base");
    assert_int_equal(num(base, "seq"), 5);
    assert_true(
        cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(base, "draws")));
    assert_room_state_at(srv, 5,
                         cJSON_GetObjectItemCaseSensitive(base, "state"));
    assert_int_equal(
        cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "records")),
        0);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "more")));
    cJSON_Delete(r);
    r = request(s, "{\"op\":\"inspect\",\"room\":\"r1\","
                   "\"credential\":\"" CREDENTIAL "\",\"since\":4}");
    assert_error(r, "too_old");
    cJSON_Delete(r);
    r = request(s, "{\"op\":\"inspect\",\"room\":\"r1\","
                   "\"credential\":\"" CREDENTIAL "\",\"since\":5}");
    res = ok_result(r);
    assert_null(cJSON_GetObjectItemCaseSensitive(res, "base"));
    assert_int_equal(
        cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "records")),
        0);
    cJSON_Delete(r);
    pc_server_free(srv);
    nng_close(s);
}

/* Remove dir and the files in it. */
static void dir_remove(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            char path[PC_CHANGELOG_PATH_MAX];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            assert_int_equal(unlink(path), 0);
        }
    }
    closedir(d);
    assert_int_equal(rmdir(dir), 0);
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* On a logged server, each record in a reply is its change's record in the
 * log, byte for byte: the two come from one encoder. */
static void records_are_the_logs_own_bytes(void **state)
{
    (void)state;
    char dir[] = "/tmp/pc-inspect-XXXXXX";
    assert_non_null(mkdtemp(dir));
    pc_server *srv = serve_with(CREDENTIAL, HISTORY, dir);
    nng_socket s = req_open(pc_server_rep_url(srv));
    drive_on(srv, CHANGES);
    const char *body = "{\"op\":\"inspect\",\"room\":\"r1\","
                       "\"credential\":\"" CREDENTIAL "\"}";
    char *raw = request_raw(s, body, strlen(body), NULL);
    char path[PC_CHANGELOG_PATH_MAX];
    snprintf(path, sizeof path, "%s/r1.pclog", dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static unsigned char log[1 << 16];
    size_t n = fread(log, 1, sizeof log, f);
    fclose(f);
    assert_true(n > 16 && n < sizeof log);
    int found = 0;
    for (size_t at = 16; at + 8 <= n; at += 8 + le32(log + at)) {
        size_t len = le32(log + at);
        assert_true(at + 8 + len <= n);
        char *payload = strndup((const char *)log + at + 8, len);
        assert_non_null(payload);
        cJSON *rec = NULL;
        assert_int_equal(pc_json_parse(payload, len, NULL, &rec, NULL), PC_OK);
        bool change = strcmp(str(rec, "type"), "change") == 0;
        bool retained = change && num(rec, "seq") > CHANGES - HISTORY;
        if (retained) {
            assert_non_null(strstr(raw, payload));
            found++;
        }
        cJSON_Delete(rec);
        free(payload);
    }
    assert_int_equal(found, HISTORY);
    free(raw);
    pc_server_free(srv);
    nng_close(s);
    dir_remove(dir);
}

static void a_new_room_has_its_first_state_as_base(void **state)
{
    (void)state;
    cJSON *r = request(fx.req, "{\"op\":\"inspect\",\"room\":\"r1\","
                               "\"credential\":\"" CREDENTIAL "\"}");
    const cJSON *res = ok_result(r);
    const cJSON *base = cJSON_GetObjectItemCaseSensitive(res, "base");
    assert_int_equal(num(base, "seq"), 0);
    assert_int_equal(num(base, "draws"), 0);
    assert_int_equal(
        cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "records")),
        0);
    cJSON_Delete(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(the_credential_is_checked_first, setup,
                                        teardown),
        cmocka_unit_test(a_server_without_a_credential_refuses_every_inspector),
        cmocka_unit_test_setup_teardown(
            the_ring_replays_to_every_retained_state, setup, teardown),
        cmocka_unit_test_setup_teardown(
            records_come_in_pages_and_evicted_ones_are_too_old, setup,
            teardown),
        cmocka_unit_test_setup_teardown(a_new_room_has_its_first_state_as_base,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(numbers_reach_the_inspector_exactly,
                                        setup, teardown),
        cmocka_unit_test(a_room_without_history_gives_its_current_state),
        cmocka_unit_test(records_are_the_logs_own_bytes),
    };
    int rv = cmocka_run_group_tests(tests, NULL, NULL);
    pc_transport_fini();
    return rv;
}
