/*
 * test_server_inspect.c - the request channel's "inspect" op over real nng
 * sockets: the credential (checked first, never echoed), the reply's
 * shape, its records replayed onto its base giving every retained state
 * with the checksums the records carry, paging, too_old, and bad fields.
 */
#include "test_server_support.h"

#include "phasecast/canon.h"
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

static pc_server *serve(const char *credential)
{
    pc_server_options o;
    pc_server_options_init(&o);
    o.pub_url = "tcp://127.0.0.1:0";
    o.rep_url = "tcp://127.0.0.1:0";
    o.inspector_credential = credential;
    pc_server *srv = NULL;
    assert_int_equal(pc_server_new(&o, &srv, NULL), PC_OK);
    pc_server_room_options ro;
    pc_server_room_options_init(&ro);
    ro.room.id = "r1";
    ro.room.history_capacity = HISTORY;
    ro.join_action = NULL;
    assert_int_equal(pc_server_add_room(srv, &game, &ro, NULL), PC_OK);
    assert_int_equal(pc_server_start(srv), PC_OK);
    return srv;
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

static void drive(int n)
{
    assert_int_equal(pc_server_call(fx.srv, make_changes, &n), PC_OK);
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

static probe room_now(void)
{
    probe p = {0, 0};
    assert_int_equal(pc_server_call(fx.srv, read_room, &p), PC_OK);
    return p;
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
    assert_non_null(
        strstr(cJSON_GetObjectItemCaseSensitive(
                   cJSON_GetObjectItemCaseSensitive(r, "error"), "message")
                   ->valuestring,
               "required"));
    cJSON_Delete(r);
    r = request(fx.req, "{\"op\":\"inspect\",\"room\":\"r1\","
                        "\"credential\":\"insp-0123456789abcdef-XYz\"}");
    assert_error(r, "forbidden");
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
    char *raw = request_raw(fx.req, body, strlen(body), NULL);
    assert_null(strstr(raw, "guess-guess"));
    assert_null(strstr(raw, CREDENTIAL));
    free(raw);
    assert_int_equal(room_now().seq, 3);
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
    cJSON *r = request(s, "{\"op\":\"inspect\",\"room\":\"r1\","
                          "\"credential\":\"" CREDENTIAL "\"}");
    assert_error(r, "forbidden");
    assert_non_null(
        strstr(cJSON_GetObjectItemCaseSensitive(
                   cJSON_GetObjectItemCaseSensitive(r, "error"), "message")
                   ->valuestring,
               "disabled"));
    cJSON_Delete(r);
    pc_server_free(srv);
    nng_close(s);
    /* Malformed credentials are refused at creation. */
    static const char *const bad[] = {"short", "has a space in it 0123",
                                      "tab\there-0123456789"};
    for (size_t i = 0; i < 3; i++) {
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
    cJSON_ArrayForEach(rec, recs)
    {
        assert_string_equal(str(rec, "type"), "change");
        assert_int_equal(num(rec, "seq"), want++);
        assert_non_null(cJSON_GetObjectItemCaseSensitive(rec, "reason"));
        assert_non_null(cJSON_GetObjectItemCaseSensitive(rec, "file"));
        apply(doc, rec);
    }
    assert_int_equal(pc_canon_checksum(doc, &sum, &len), PC_OK);
    assert_int_equal(sum, room_now().sum);
    cJSON_Delete(doc);
    cJSON_Delete(r);
}

static void pages_and_too_old(void **state)
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
        cmocka_unit_test_setup_teardown(pages_and_too_old, setup, teardown),
        cmocka_unit_test_setup_teardown(a_new_room_has_its_first_state_as_base,
                                        setup, teardown),
    };
    int rv = cmocka_run_group_tests(tests, NULL, NULL);
    pc_transport_fini();
    return rv;
}
