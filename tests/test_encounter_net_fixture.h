/*
 * test_encounter_net_fixture.h - an encounter room on a real server (TCP
 * on 127.0.0.1, free ports) and raw REQ helpers to join it and act in it,
 * for the encounter's network tests (test_server_encounter*.c). Static
 * functions only; not installed. Every wait polls against a deadline.
 */
#ifndef PC_TEST_ENCOUNTER_NET_FIXTURE_H
#define PC_TEST_ENCOUNTER_NET_FIXTURE_H

#include "test_server_support.h"

#include "encounter/encounter.h"
#include "phasecast/room.h"

#define ENC_ROOM "cave"
#define ENC_CRED "gm-secret-encounter-0123456789"

/* A started server hosting ENC_ROOM with cfg (copied into storage that
 * outlives the server: cfg_store), seeded, keeping history changes. */
static inline pc_server *enc_serve(const encounter_config *cfg,
                                   encounter_config *cfg_store, uint64_t seed,
                                   size_t history)
{
    *cfg_store = *cfg;
    assert_int_equal(encounter_config_check(cfg_store), PC_OK);
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
    ro.room.id = ENC_ROOM;
    ro.room.arg = cfg_store;
    ro.room.seed = seed;
    ro.room.seed_set = true;
    ro.room.history_capacity = history;
    ro.gm_credential = ENC_CRED;
    assert_int_equal(pc_server_add_room(srv, encounter_game(), &ro, NULL),
                     PC_OK);
    assert_int_equal(pc_server_start(srv), PC_OK);
    return srv;
}

/* Join over raw REQ as role ("player" or "gm"); the token goes to out. */
static inline void enc_join(nng_socket req, const char *role, const char *name,
                            char out[33])
{
    cJSON *r = strcmp(role, "gm") == 0
                   ? request(req,
                             "{\"op\":\"join\",\"room\":\"" ENC_ROOM
                             "\",\"role\":\"gm\",\"name\":\"%s\","
                             "\"credential\":\"" ENC_CRED "\"}",
                             name)
                   : request(req,
                             "{\"op\":\"join\",\"room\":\"" ENC_ROOM
                             "\",\"role\":\"player\",\"name\":\"%s\"}",
                             name);
    const cJSON *res = ok_result(r);
    snprintf(out, 33, "%s", str(res, "token"));
    cJSON_Delete(r);
}

/* One action over raw REQ; expected < 0 sends no expected_seq. The reply
 * (cJSON_Delete). */
static inline cJSON *enc_action(nng_socket req, const char *token,
                                const char *id, const char *type,
                                const char *payload, long long expected)
{
    char exp[48] = "";
    if (expected >= 0) {
        snprintf(exp, sizeof exp, ",\"expected_seq\":%lld", expected);
    }
    return request(req,
                   "{\"op\":\"action\",\"room\":\"" ENC_ROOM
                   "\",\"token\":\"%s\",\"action_id\":\"%s\",\"type\":\"%s\","
                   "\"payload\":%s%s}",
                   token, id, type, payload, exp);
}

static inline void enc_act_ok(nng_socket req, const char *token, const char *id,
                              const char *type, const char *payload)
{
    cJSON *r = enc_action(req, token, id, type, payload, -1);
    ok_result(r);
    cJSON_Delete(r);
}

/* The raw text of a snapshot reply, in token's view (NULL: public). */
static inline char *enc_snapshot_text(nng_socket req, const char *token)
{
    char body[256];
    if (token != NULL) {
        snprintf(body, sizeof body,
                 "{\"op\":\"snapshot\",\"room\":\"" ENC_ROOM
                 "\",\"token\":\"%s\"}",
                 token);
    } else {
        snprintf(body, sizeof body,
                 "{\"op\":\"snapshot\",\"room\":\"" ENC_ROOM "\"}");
    }
    return request_raw(req, body, strlen(body), NULL);
}

/* The parsed snapshot result's state in token's view (cJSON_Delete the
 * reply in *reply). */
static inline const cJSON *enc_state(nng_socket req, const char *token,
                                     cJSON **reply)
{
    char *text = enc_snapshot_text(req, token);
    assert_int_equal(pc_json_parse(text, strlen(text), NULL, reply, NULL),
                     PC_OK);
    free(text);
    return cJSON_GetObjectItemCaseSensitive(ok_result(*reply), "state");
}

static inline uint64_t enc_seq(nng_socket req)
{
    cJSON *r = request(req, "{\"op\":\"snapshot\",\"room\":\"" ENC_ROOM "\"}");
    uint64_t s = (uint64_t)num(ok_result(r), "seq");
    cJSON_Delete(r);
    return s;
}

/* An integer member at a JSON Pointer of a tree, failing if absent. */
static inline int enc_int(const cJSON *tree, const char *pointer)
{
    const cJSON *v = pc_json_pointer_get(tree, pointer);
    if (!cJSON_IsNumber(v)) {
        fail_msg("no number at %s", pointer);
    }
    return (int)v->valuedouble;
}

static inline const char *enc_str(const cJSON *tree, const char *pointer)
{
    const cJSON *v = pc_json_pointer_get(tree, pointer);
    if (!cJSON_IsString(v)) {
        fail_msg("no string at %s", pointer);
    }
    return v->valuestring;
}

/* Poll the public snapshot until the room is in phase (and, if round >
 * 0, that round); the state in the GM's view when it is (reply in
 * *reply). */
static inline const cJSON *enc_wait_phase(nng_socket req, const char *gm,
                                          const char *phase, int round,
                                          cJSON **reply)
{
    int64_t end = mono_ms() + WAIT_MS;
    for (;;) {
        const cJSON *st = enc_state(req, gm, reply);
        const char *ph = enc_str(st, "/phase");
        if (strcmp(ph, phase) == 0 &&
            (round <= 0 || enc_int(st, "/data/round") == round)) {
            return st;
        }
        cJSON_Delete(*reply);
        *reply = NULL;
        if (mono_ms() > end) {
            fail_msg("the room never reached %s round %d", phase, round);
        }
        struct timespec ms = {0, 1000000}; /* not a timing assumption: a
                                              pause between polls */
        nanosleep(&ms, NULL);
    }
}

#endif
