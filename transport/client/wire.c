/*
 * wire.c - decoding protocol v1 objects for the client: numbers that must
 * be exact integers, checksums, CHANGE records, replies and their error
 * codes. Strict about types, lenient about unknown members (a newer
 * server may add some). Pure functions; any thread.
 */
#include "wire.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

/* cJSON numbers are doubles: integers are exact only below 2^53. */
#define WIRE_INT_LIMIT 9007199254740992.0

bool pc__wire_u64(const cJSON *item, uint64_t *out)
{
    if (!cJSON_IsNumber(item)) {
        return false;
    }
    double d = item->valuedouble;
    if (!(d >= 0.0) || d >= WIRE_INT_LIMIT || floor(d) != d) {
        return false;
    }
    *out = (uint64_t)d;
    return true;
}

static bool wire_i64(const cJSON *item, int64_t *out)
{
    if (!cJSON_IsNumber(item)) {
        return false;
    }
    double d = item->valuedouble;
    if (!(d > -WIRE_INT_LIMIT && d < WIRE_INT_LIMIT) || floor(d) != d) {
        return false;
    }
    *out = (int64_t)d;
    return true;
}

bool pc__wire_sum(const cJSON *item, uint64_t *out)
{
    if (!cJSON_IsString(item) || strlen(item->valuestring) != 16) {
        return false;
    }
    uint64_t v = 0;
    for (const char *p = item->valuestring; *p != '\0'; p++) {
        unsigned digit;
        if (*p >= '0' && *p <= '9') {
            digit = (unsigned)(*p - '0');
        } else if (*p >= 'a' && *p <= 'f') {
            digit = (unsigned)(*p - 'a' + 10);
        } else {
            return false;
        }
        v = (v << 4) | digit;
    }
    *out = v;
    return true;
}

static const char *get_string(const cJSON *obj, const char *key)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(s) ? s->valuestring : NULL;
}

pc_err pc__wire_change_decode(const cJSON *item, pc__wire_change *out)
{
    pc__wire_change c;
    memset(&c, 0, sizeof(c));
    if (!cJSON_IsObject(item) ||
        !pc__wire_u64(cJSON_GetObjectItemCaseSensitive(item, "seq"), &c.seq) ||
        c.seq == 0 ||
        !pc__wire_sum(cJSON_GetObjectItemCaseSensitive(item, "sum"), &c.sum)) {
        return PC_ERR_PROTOCOL;
    }
    c.phase = get_string(item, "phase");
    c.patch = cJSON_GetObjectItemCaseSensitive(item, "patch");
    if (c.phase == NULL || !cJSON_IsObject(c.patch)) {
        return PC_ERR_PROTOCOL;
    }
    const char *kind = get_string(item, "kind");
    c.transition = kind != NULL && strcmp(kind, "transition") == 0;
    c.event = kind != NULL && strcmp(kind, "event") == 0;
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(item, "event");
    if (ev != NULL) {
        c.event_name = get_string(ev, "name");
        c.event_data = cJSON_GetObjectItemCaseSensitive(ev, "data");
        if (!c.event || c.event_name == NULL || c.event_data == NULL) {
            return PC_ERR_PROTOCOL;
        }
    }
    c.reason = get_string(item, "reason");
    if (c.reason == NULL) {
        c.reason = "";
    }
    if (!wire_i64(cJSON_GetObjectItemCaseSensitive(item, "time"), &c.time_ms)) {
        c.time_ms = 0;
    }
    c.private_data =
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(item, "private"));
    *out = c;
    return PC_OK;
}

static bool id_ok(const char *s, size_t max)
{
    if (s == NULL) {
        return false;
    }
    size_t n = 0;
    for (; s[n] != '\0'; n++) {
        char ch = s[n];
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
                  ch == '-';
        if (!ok || n >= max) {
            return false;
        }
    }
    return n > 0;
}

bool pc__wire_room_ok(const char *room)
{
    return id_ok(room, 64);
}

bool pc__wire_name_ok(const char *name)
{
    return id_ok(name, 32);
}

bool pc__wire_nonce_ok(const char *nonce)
{
    size_t n = strlen(nonce);
    return n >= 16 && n <= 64 &&
           strspn(nonce, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                         "0123456789_-") == n;
}

bool pc__wire_v1(const cJSON *obj)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "v");
    return cJSON_IsNumber(v) && v->valuedouble == 1.0;
}

/* Wire error codes with a framework meaning; any other code is the
 * game's refusal of an action. */
static const struct {
    const char *code;
    pc_err err;
} code_map[] = {
    {"bad_request", PC_ERR_INVALID},    {"limit_exceeded", PC_ERR_LIMIT},
    {"unknown_room", PC_ERR_NOT_FOUND}, {"bad_token", PC_ERR_PERMISSION},
    {"name_taken", PC_ERR_STATE},       {"room_full", PC_ERR_STATE},
    {"too_old", PC_ERR_EVICTED},        {"no_actions_in_phase", PC_ERR_PHASE},
    {"internal", PC_ERR_NOMEM},         {"conflict", PC_ERR_CONFLICT},
    {"forbidden", PC_ERR_PERMISSION},   {"rate_limited", PC_ERR_LIMIT},
};

pc_err pc__wire_code_err(const char *code)
{
    for (size_t i = 0; i < sizeof(code_map) / sizeof(code_map[0]); i++) {
        if (strcmp(code, code_map[i].code) == 0) {
            return code_map[i].err;
        }
    }
    return PC_ERR_ACTION;
}

pc_err pc__wire_reply(const cJSON *reply, const cJSON **result, pc_error *e)
{
    if (!cJSON_IsObject(reply) || !pc__wire_v1(reply)) {
        return PC_ERR_PROTOCOL;
    }
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(reply, "ok");
    if (cJSON_IsTrue(ok)) {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(reply, "result");
        if (r == NULL) {
            return PC_ERR_PROTOCOL;
        }
        *result = r;
        return PC_OK;
    }
    if (!cJSON_IsFalse(ok)) {
        return PC_ERR_PROTOCOL;
    }
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(reply, "error");
    const char *code = get_string(error, "code");
    const char *message = get_string(error, "message");
    if (code == NULL || code[0] == '\0') {
        return PC_ERR_PROTOCOL;
    }
    pc_err err = pc__wire_code_err(code);
    return pc_error_set(e, err, code, "%s", message != NULL ? message : code);
}
