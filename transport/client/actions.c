/*
 * actions.c - what a client does besides following: acting (with an
 * action id, with expected_seq), catching up to the seq a conflict
 * reported, and the accessors of phasecast/client.h. Split from client.c,
 * which holds the replica's state machine; the struct is in client_impl.h.
 */
#include "phasecast/client.h"

#include "catchup.h"
#include "client_impl.h"

/* ------------------------------------------------------------------ */
/* Actions and accessors                                               */
/* ------------------------------------------------------------------ */

pc_err pc_client_act_id(pc_client *c, const char *action_id, const char *type,
                        const cJSON *payload, cJSON **value, uint64_t *seq,
                        pc_error *err)
{
    if (c->cfg.role == PC_CLIENT_SPECTATOR) {
        return pc_error_set(err, PC_ERR_PERMISSION, NULL,
                            "spectators cannot act");
    }
    return pc__request_act(&c->rq, action_id, type, payload, NULL,
                           c->cfg.request_attempts, value, seq, err);
}

pc_err pc_client_act_expect(pc_client *c, const char *type,
                            const cJSON *payload, uint64_t expected_seq,
                            cJSON **value, uint64_t *seq, pc_error *err)
{
    if (c->cfg.role == PC_CLIENT_SPECTATOR) {
        return pc_error_set(err, PC_ERR_PERMISSION, NULL,
                            "spectators cannot act");
    }
    char id[PC__ACTION_ID_SIZE];
    pc__request_action_id(&c->rq, id);
    pc_err rv = pc__request_act(&c->rq, id, type, payload, &expected_seq,
                                c->cfg.request_attempts, value, seq, err);
    if (rv == PC_ERR_CONFLICT && c->rq.has_error_seq) {
        c->conflict_seq = c->rq.error_seq;
    }
    return rv;
}

uint64_t pc_client_conflict_seq(const pc_client *c)
{
    return c->conflict_seq;
}

bool pc__client_in_callback(const pc_client *c)
{
    return c->depth > 0;
}

static pc_err catch_up(pc_client *c, uint64_t target)
{
    int64_t deadline = pc__client_now(c) + (int64_t)c->cfg.request_timeout_ms *
                                               c->cfg.request_attempts;
    while (c->rep.seq < target) {
        /* What the broadcast already brought, then a repair if that was
         * not enough: the conflict's seq says the room is there. */
        pc_err rv = pc__client_poll_inner(c, 0);
        if (rv == PC_OK && c->rep.seq < target && c->need == NEED_NONE) {
            pc__client_need_repair(c, NEED_CHANGES);
            rv = pc__client_run_repair(c);
        }
        if (rv != PC_OK || c->rep.seq >= target) {
            return rv;
        }
        if (pc__client_now(c) >= deadline) {
            return PC_ERR_TIMEOUT;
        }
        rv = pc__client_poll_inner(c, 20);
        if (rv != PC_OK) {
            return rv;
        }
    }
    return PC_OK;
}

pc_err pc__client_catch_up(pc_client *c, uint64_t target)
{
    pc_err rv = catch_up(c, target);
    if (c->closing) {
        pc__client_destroy(c);
        return PC_ERR_CLOSED;
    }
    return rv;
}

pc_err pc_client_act(pc_client *c, const char *type, const cJSON *payload,
                     cJSON **value, uint64_t *seq, pc_error *err)
{
    char id[PC__ACTION_ID_SIZE];
    pc__request_action_id(&c->rq, id);
    return pc_client_act_id(c, id, type, payload, value, seq, err);
}

const cJSON *pc_client_state(const pc_client *c)
{
    return c->rep.doc;
}

uint64_t pc_client_seq(const pc_client *c)
{
    return c->rep.seq;
}

bool pc_client_stale(const pc_client *c)
{
    return c->stale;
}

const char *pc_client_room(const pc_client *c)
{
    return c->cfg.room;
}

const char *pc_client_player(const pc_client *c)
{
    return c->cfg.name;
}

void pc_client_stats_get(const pc_client *c, pc_client_stats *out)
{
    *out = c->st;
}

const char *pc_client_event_name(pc_client_event ev)
{
    switch (ev) {
    case PC_CLIENT_EVENT_STALE:
        return "stale";
    case PC_CLIENT_EVENT_LIVE:
        return "live";
    case PC_CLIENT_EVENT_SNAPSHOT:
        return "snapshot";
    case PC_CLIENT_EVENT_GAVE_UP:
        return "gave_up";
    }
    return "unknown";
}
