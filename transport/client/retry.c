/*
 * retry.c - the client's optimistic-concurrency helper,
 * pc_client_act_retry: decide on the replica, act with the replica's seq
 * as expected_seq, and on a conflict catch the replica up to the seq the
 * server reported and decide again, a bounded number of times.
 *
 * It adds no policy of its own beyond the bound: whether a stale action
 * is refused is the game's (pc_game.strict_actions), and what to do on
 * the fresh state is the caller's decision function. It never sleeps
 * between attempts: the conflict's seq says exactly how far to catch up.
 */
#include "phasecast/client.h"

#include <cjson/cJSON.h>

#include "catchup.h"

pc_err pc_client_act_retry(pc_client *c, pc_client_decide_fn decide, void *arg,
                           int retries, cJSON **value, uint64_t *seq,
                           pc_error *err)
{
    if (c == NULL || decide == NULL || retries < 0) {
        return pc_error_set(err, PC_ERR_INVALID, NULL,
                            "pc_client_act_retry needs a client, a decision "
                            "function and retries >= 0");
    }
    if (pc__client_in_callback(c)) {
        return pc_error_set(err, PC_ERR_REENTRANT, NULL,
                            "pc_client_act_retry polls the client, so not "
                            "from its callbacks");
    }
    for (int attempt = 0;; attempt++) {
        const char *type = NULL;
        cJSON *payload = NULL;
        uint64_t at = pc_client_seq(c);
        pc_err rv = decide(c, pc_client_state(c), at, &type, &payload, arg);
        if (rv != PC_OK) {
            cJSON_Delete(payload);
            return pc_error_set(err, rv, NULL,
                                "the decision function gave up: %s",
                                pc_strerror(rv));
        }
        if (type == NULL) {
            cJSON_Delete(payload);
            return pc_error_set(err, PC_ERR_INVALID, NULL,
                                "the decision function gave no action type");
        }
        if (err != NULL) { /* only the last attempt's refusal is kept */
            *err = (pc_error){0};
        }
        rv = pc_client_act_expect(c, type, payload, at, value, seq, err);
        cJSON_Delete(payload);
        if (rv != PC_ERR_CONFLICT || attempt >= retries) {
            return rv;
        }
        uint64_t target = pc_client_conflict_seq(c);
        rv = pc__client_catch_up(c, target > at ? target : at + 1);
        if (rv != PC_OK) {
            return pc_error_set(err, rv, NULL,
                                "catching up after a conflict: %s",
                                pc_strerror(rv));
        }
    }
}
