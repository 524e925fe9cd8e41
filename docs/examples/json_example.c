/*
 * json_example.c - the JSON gate and its helpers: parse untrusted text
 * under limits, read the errors, look values up by JSON Pointer, compare
 * documents exactly, and list their differences with pc_json_diff.
 * Exits non-zero on the first unexpected result.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/diff.h"
#include "phasecast/error.h"
#include "phasecast/json.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
            return 1;                                                          \
        }                                                                      \
    } while (0)

/* Parse text the way a server parses what a client sent. */
static pc_err parse(const char *text, const pc_json_limits *lim, cJSON **out,
                    pc_error *e)
{
    return pc_json_parse(text, strlen(text), lim, out, e);
}

int main(void)
{
    pc_json_limits lim = {0}; /* zero members mean "the default" */
    lim.max_depth = 4;
    lim.max_string = 16;
    pc_json_limits eff;
    pc_json_limits_resolve(&lim, &eff);
    CHECK(eff.max_depth == 4 && eff.max_string == 16);
    CHECK(eff.max_nodes == pc_json_limits_default().max_nodes);

    /* One refusal in full: the code says what kind, the message where. */
    cJSON *doc = NULL;
    pc_error e = {0};
    const char *text = "{\"a\": 1, \"a\": 2}";
    CHECK(pc_json_parse(text, strlen(text), &lim, &doc, &e) == PC_ERR_INVALID);
    printf("refused (%s): %s\n", e.code, e.message);
    CHECK(strcmp(e.message, "duplicate key at \"/a\"") == 0);

    /* What cJSON alone would accept, the gate refuses, with a reason. */
    static const struct {
        const char *text;
        pc_err err;
    } refused[] = {
        {"{\"a\": 1, \"a\": 2}", PC_ERR_INVALID},      /* duplicate key */
        {"{\"a\": 1} trailing", PC_ERR_INVALID},       /* bytes after value */
        {"{\"a\": \"x\\u0000y\"}", PC_ERR_INVALID},    /* would truncate */
        {"[[[[[1]]]]]", PC_ERR_LIMIT},                 /* depth 5 > 4 */
        {"\"a string longer than 16\"", PC_ERR_LIMIT}, /* max_string */
        {"{\"n\": NaN}", PC_ERR_INVALID},              /* not JSON */
        {"", PC_ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        cJSON *bad = NULL;
        pc_error why = {0};
        CHECK(parse(refused[i].text, &lim, &bad, &why) == refused[i].err);
        CHECK(bad == NULL && why.err == refused[i].err);
        printf("refused (%s): %s\n", why.code, why.message);
    }

    /* A good document, and JSON Pointer lookups into it. */
    cJSON *a = NULL;
    CHECK(parse("{\"players\": {\"X\": \"ann\", \"a/b\": \"bob\"},"
                " \"board\": [\"X\", \"\", \"O\"]}",
                &lim, &a, NULL) == PC_OK);
    const cJSON *v = pc_json_pointer_get(a, "/board/2");
    CHECK(cJSON_IsString(v) && strcmp(v->valuestring, "O") == 0);
    CHECK(pc_json_pointer_get(a, "") == a);
    CHECK(pc_json_pointer_get(a, "/board/02") == NULL); /* leading zero */
    CHECK(pc_json_pointer_get(a, "/board/3") == NULL);
    char ptr[32] = "/players";
    CHECK(pc_json_pointer_append(ptr, sizeof(ptr), "a/b"));
    CHECK(strcmp(ptr, "/players/a~1b") == 0);
    v = pc_json_pointer_get(a, ptr);
    CHECK(cJSON_IsString(v) && strcmp(v->valuestring, "bob") == 0);
    char tiny[8] = "/abc";
    CHECK(!pc_json_pointer_append(tiny, sizeof(tiny), "toolong"));
    CHECK(strcmp(tiny, "/abc") == 0); /* unchanged when it does not fit */

    /* Equality ignores key order and number spelling, nothing else. */
    cJSON *b = NULL;
    CHECK(parse("{\"board\": [\"X\", \"\", \"O\"],"
                " \"players\": {\"a/b\": \"bob\", \"X\": \"ann\"}}",
                NULL, &b, NULL) == PC_OK);
    CHECK(pc_json_equal(a, b));
    cJSON *one = cJSON_CreateNumber(1.0);
    cJSON *one_too = NULL;
    CHECK(parse("1e0", NULL, &one_too, NULL) == PC_OK);
    CHECK(pc_json_equal(one, one_too));
    cJSON_Delete(one);
    cJSON_Delete(one_too);

    /* A tree built in code can be checked the same way. */
    cJSON *built = cJSON_CreateObject();
    CHECK(cJSON_AddStringToObject(built, "bad", "bell\a") != NULL);
    pc_error_clear(&e);
    CHECK(pc_json_check(built, NULL, &e) == PC_ERR_INVALID);
    printf("check: %s\n", e.message);
    cJSON_Delete(built);

    /* The differences from a to a changed b, one entry per leaf. */
    cJSON_ReplaceItemInArray(cJSON_GetObjectItem(b, "board"), 1,
                             cJSON_CreateString("X"));
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(b, "players"), "a/b");
    cJSON *diff = NULL;
    CHECK(pc_json_diff(a, b, &diff) == PC_OK);
    cJSON *want = NULL;
    CHECK(parse("[{\"path\": \"/board/1\", \"old\": \"\", \"new\": \"X\"},"
                " {\"path\": \"/players/a~1b\", \"old\": \"bob\"}]",
                NULL, &want, NULL) == PC_OK);
    CHECK(pc_json_equal(diff, want));
    cJSON_Delete(want);
    cJSON_Delete(diff);
    CHECK(pc_json_diff(a, a, &diff) == PC_OK && cJSON_GetArraySize(diff) == 0);
    cJSON_Delete(diff);

    cJSON_Delete(a);
    cJSON_Delete(b);
    printf("json_example: ok\n");
    return 0;
}
