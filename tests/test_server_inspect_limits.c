/*
 * test_server_inspect_limits.c - the "inspect" op against hostile bodies
 * and large histories, over real nng sockets: malformed, truncated, deep,
 * oversized and tricky requests get structured errors that echo no
 * credential and change nothing, and a history larger than one reply's
 * byte budget (PC_SERVER_INSPECT_BUDGET) comes in pages, a record larger
 * than the budget alone. The op's normal behaviour is in
 * test_server_inspect.c.
 */
#include "test_server_support.h"

#include "phasecast/room.h"

#define CREDENTIAL "limits-credential-0123456789"
#define MAX_MSG    4096 /* the request size this server answers */

static const pc_phase phases[] = {{.name = "PLAY"}};
static const pc_game game = {
    .name = "big", .phases = phases, .nphases = 1, .initial_phase = "PLAY"};

typedef struct fixture {
    pc_server *srv;
    nng_socket req;
} fixture;

static fixture fx;

/* A running server (requests up to MAX_MSG bytes) with room r1, whose
 * limits let one change carry a 5 MB string. */
static int setup(void **state)
{
    (void)state;
    memset(&fx, 0, sizeof fx);
    pc_server_options o;
    pc_server_options_init(&o);
    o.pub_url = "tcp://127.0.0.1:0";
    o.rep_url = "tcp://127.0.0.1:0";
    o.inspector_credential = CREDENTIAL;
    o.max_message_bytes = MAX_MSG;
    assert_int_equal(pc_server_new(&o, &fx.srv, NULL), PC_OK);
    pc_server_room_options ro;
    pc_server_room_options_init(&ro);
    ro.room.id = "r1";
    ro.room.history_capacity = 10;
    ro.room.limits.max_string = 6u << 20;
    ro.room.limits.max_bytes = 6u << 20;
    ro.room.limits.max_state_bytes = 8u << 20;
    ro.join_action = NULL;
    assert_int_equal(pc_server_add_room(fx.srv, &game, &ro, NULL), PC_OK);
    assert_int_equal(pc_server_start(fx.srv), PC_OK);
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

/* One change setting "big" to n copies of c (and "n" to n). */
typedef struct big_change {
    size_t n;
    char c;
} big_change;

static void make_big(pc_server *srv, void *arg)
{
    const big_change *b = arg;
    pc_room *room = pc_server_find_room(srv, "r1");
    cJSON *patch = cJSON_CreateObject();
    char *s = malloc(b->n + 1);
    if (patch != NULL && s != NULL) {
        memset(s, b->c, b->n);
        s[b->n] = '\0';
        cJSON_AddStringToObject(patch, "big", s);
        cJSON_AddNumberToObject(patch, "n", (double)b->n);
        (void)pc_update_phase_data(room, patch, "big");
    }
    free(s);
    cJSON_Delete(patch);
}

static void change_big(size_t n, char c)
{
    big_change b = {n, c};
    assert_int_equal(pc_server_call(fx.srv, make_big, &b), PC_OK);
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

/* Send len bytes of body; assert the reply is the error code and holds
 * neither the credential nor the marker (NULL: none). */
static void assert_refused(const void *body, size_t len, const char *code,
                           const char *marker)
{
    size_t n = 0;
    char *raw = request_raw(fx.req, body, len, &n);
    assert_int_equal(strlen(raw), n); /* no NUL inside a reply */
    assert_null(strstr(raw, CREDENTIAL));
    if (marker != NULL) {
        assert_null(strstr(raw, marker));
    }
    cJSON *r = NULL;
    assert_int_equal(pc_json_parse(raw, n, NULL, &r, NULL), PC_OK);
    assert_error(r, code);
    cJSON_Delete(r);
    free(raw);
}

static void assert_refused_text(const char *body, const char *code)
{
    assert_refused(body, strlen(body), code, NULL);
}

/* Records of one reply; *more receives its "more". */
static int page(uint64_t since, uint64_t *last, bool *more)
{
    char body[200];
    int len = snprintf(body, sizeof body,
                       "{\"op\":\"inspect\",\"room\":\"r1\",\"credential\":"
                       "\"" CREDENTIAL "\",\"since\":%llu}",
                       (unsigned long long)since);
    size_t n = 0;
    char *raw = request_raw(fx.req, body, (size_t)len, &n);
    /* Replies here are larger than the default limits allow. */
    pc_json_limits lim = pc_json_limits_default();
    lim.max_bytes = n;
    lim.max_string = n;
    cJSON *r = NULL;
    assert_int_equal(pc_json_parse(raw, n, &lim, &r, NULL), PC_OK);
    free(raw);
    const cJSON *res = ok_result(r);
    const cJSON *recs = cJSON_GetObjectItemCaseSensitive(res, "records");
    int count = 0;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, recs)
    {
        assert_int_equal(num(rec, "seq"), since + 1 + (uint64_t)count);
        count++;
        *last = (uint64_t)num(rec, "seq");
    }
    *more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "more"));
    cJSON_Delete(r);
    return count;
}

static void hostile_bodies_get_errors_and_change_nothing(void **state)
{
    (void)state;
    change_big(10, 'a');
    probe before = room_now();
    static const char head[] =
        "{\"op\":\"inspect\",\"room\":\"r1\",\"credential\":\"" CREDENTIAL;
    /* Cut anywhere inside the credential or after it: not JSON. */
    for (size_t cut = sizeof head - 8; cut < sizeof head + 1; cut++) {
        char body[sizeof head + 8];
        memcpy(body, head, sizeof head - 1);
        memcpy(body + sizeof head - 1, "\"}", 3);
        assert_refused(body, cut, "bad_request", NULL);
    }
    /* A NUL byte inside the body, or after the object. */
    static const char nul_in[] =
        "{\"op\":\"inspect\",\"room\":\"r1\",\"credential\":\"" CREDENTIAL
        "\"\0,\"since\":0}";
    assert_refused(nul_in, sizeof nul_in - 1, "bad_request", NULL);
    static const char nul_after[] =
        "{\"op\":\"inspect\",\"room\":\"r1\",\"credential\":\"" CREDENTIAL
        "\"}\0{}";
    assert_refused(nul_after, sizeof nul_after - 1, "bad_request", NULL);
    /* Trailing bytes, a NUL escape, two credentials, not an object. */
    assert_refused_text("{\"op\":\"inspect\",\"room\":\"r1\",\"credential\":"
                        "\"" CREDENTIAL "\"} x",
                        "bad_request");
    assert_refused_text("{\"op\":\"inspect\",\"room\":\"r1\",\"credential\":"
                        "\"" CREDENTIAL "\\u0000tail\"}",
                        "bad_request");
    assert_refused_text("{\"op\":\"inspect\",\"room\":\"r1\",\"credential\":"
                        "\"wrong\",\"credential\":\"" CREDENTIAL "\"}",
                        "bad_request");
    assert_refused_text("[\"inspect\",\"" CREDENTIAL "\"]", "bad_request");
    /* Credentials of the wrong type or no use: forbidden. */
    assert_refused_text("{\"op\":\"inspect\",\"room\":\"r1\","
                        "\"credential\":[\"" CREDENTIAL "\"]}",
                        "forbidden");
    assert_refused_text("{\"op\":\"inspect\",\"room\":\"r1\","
                        "\"credential\":{\"x\":\"" CREDENTIAL "\"}}",
                        "forbidden");
    assert_refused_text("{\"op\":\"inspect\",\"room\":\"r1\","
                        "\"credential\":null}",
                        "forbidden");
    assert_refused_text("{\"op\":\"inspect\",\"room\":\"r1\","
                        "\"credential\":\"" CREDENTIAL CREDENTIAL "\"}",
                        "forbidden");
    /* A long guess within the limits is wrong and is not echoed. */
    char body[MAX_MSG];
    int n = snprintf(body, sizeof body,
                     "{\"op\":\"inspect\",\"room\":\"r1\",\"credential\":\"");
    memset(body + n, 'g', 3000);
    memcpy(body + n + 3000, "\"}", 2);
    assert_refused(body, (size_t)n + 3002, "forbidden", "gggggggg");
    /* Deeper than the request limits, or larger than the server answers. */
    char *deep = malloc(MAX_MSG);
    assert_non_null(deep);
    n = snprintf(deep, MAX_MSG,
                 "{\"op\":\"inspect\",\"room\":\"r1\",\"credential\":"
                 "\"" CREDENTIAL "\",\"since\":");
    size_t levels = (MAX_MSG - (size_t)n - 2) / 2;
    memset(deep + n, '[', levels);
    memset(deep + n + levels, ']', levels);
    deep[(size_t)n + 2 * levels] = '}';
    assert_refused(deep, (size_t)n + 2 * levels + 1, "limit_exceeded", NULL);
    free(deep);
    char *huge = malloc(MAX_MSG + 100);
    assert_non_null(huge);
    n = snprintf(huge, MAX_MSG + 100,
                 "{\"op\":\"inspect\",\"room\":\"r1\",\"credential\":\"");
    memset(huge + n, 'h', MAX_MSG);
    memcpy(huge + n + MAX_MSG, "\"}", 2);
    assert_refused(huge, (size_t)n + MAX_MSG + 2, "limit_exceeded", "hhhhhhhh");
    free(huge);
    /* Nothing changed, and the server still answers. */
    probe after = room_now();
    assert_int_equal(after.seq, before.seq);
    assert_int_equal(after.sum, before.sum);
    uint64_t last = 0;
    bool more = true;
    assert_int_equal(page(0, &last, &more), 1);
    assert_false(more);
}

/* More than a reply's byte budget of records comes in pages; a record
 * larger than the budget comes alone. */
static void a_large_history_comes_in_pages_of_bytes(void **state)
{
    (void)state;
    /* Each record holds about 900,000 bytes: four fit in the 4 MiB
     * budget, five do not. */
    const size_t each = 900000;
    assert_true(4 * each <= PC_SERVER_INSPECT_BUDGET &&
                5 * each > PC_SERVER_INSPECT_BUDGET);
    for (int i = 0; i < 6; i++) {
        change_big(each, (char)('a' + i));
    }
    uint64_t last = 0;
    bool more = false;
    assert_int_equal(page(0, &last, &more), 4);
    assert_true(more);
    assert_int_equal(page(last, &last, &more), 2);
    assert_false(more);
    assert_int_equal(last, 6);
    /* A record over the budget, then a small one. */
    change_big(PC_SERVER_INSPECT_BUDGET + 1000, 'z');
    change_big(1, 'y');
    assert_int_equal(page(6, &last, &more), 1);
    assert_int_equal(last, 7);
    assert_true(more);
    assert_int_equal(page(7, &last, &more), 1);
    assert_int_equal(last, 8);
    assert_false(more);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            hostile_bodies_get_errors_and_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(a_large_history_comes_in_pages_of_bytes,
                                        setup, teardown),
    };
    int rv = cmocka_run_group_tests(tests, NULL, NULL);
    pc_transport_fini();
    return rv;
}
