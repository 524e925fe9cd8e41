/*
 * config.c - checking a client's config, filling in its defaults and
 * copying its strings.
 *
 * The defaults are the ones phasecast/client.h documents beside each
 * member; a negative number counts as unset, like zero. It does not check
 * that the URLs are ones nng can dial: dialing does.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "phasecast/alloc.h"

#include "wire.h"

static int or_default(int v, int def)
{
    return v > 0 ? v : def;
}

static void resolve(pc_client_config *cfg)
{
    cfg->request_timeout_ms = or_default(cfg->request_timeout_ms, 1000);
    cfg->request_attempts = or_default(cfg->request_attempts, 5);
    cfg->repair_backoff_ms = or_default(cfg->repair_backoff_ms, 50);
    cfg->repair_backoff_max_ms = or_default(cfg->repair_backoff_max_ms, 2000);
    cfg->snapshots_per_incident = or_default(cfg->snapshots_per_incident, 3);
    cfg->cooldown_ms = or_default(cfg->cooldown_ms, 5000);
    cfg->stale_intervals = or_default(cfg->stale_intervals, 3);
    cfg->heartbeat_ms = or_default(cfg->heartbeat_ms, 1000);
    cfg->reconnect_min_ms = or_default(cfg->reconnect_min_ms, 100);
    cfg->reconnect_max_ms = or_default(cfg->reconnect_max_ms, 2000);
    if (cfg->recv_max_bytes == 0) {
        cfg->recv_max_bytes = (size_t)16 << 20;
    }
    cfg->recv_buffer = or_default(cfg->recv_buffer, 1024);
    if (cfg->recv_buffer > 8192) {
        cfg->recv_buffer = 8192;
    }
}

static char *copy_or_null(const char *s, bool *failed)
{
    if (s == NULL) {
        return NULL;
    }
    char *d = pc_strdup(s);
    if (d == NULL) {
        *failed = true;
    }
    return d;
}

pc_err pc__config_copy(const pc_client_config *in, pc_client_config *out,
                       pc_error *err)
{
    bool named = in != NULL && in->role != PC_CLIENT_SPECTATOR;
    if (in == NULL || in->pub_url == NULL || in->req_url == NULL ||
        !pc__wire_room_ok(in->room) ||
        (in->role != PC_CLIENT_PLAYER && in->role != PC_CLIENT_SPECTATOR &&
         in->role != PC_CLIENT_GM) ||
        (named && !pc__wire_name_ok(in->name)) ||
        (in->role == PC_CLIENT_GM &&
         (in->gm_credential == NULL || in->gm_credential[0] == '\0'))) {
        return pc_error_set(err, PC_ERR_INVALID, NULL,
                            "client config: need URLs, a valid room id and, "
                            "for players and game masters, a valid name (and "
                            "a game master, the room's credential)");
    }
    if (in->join_nonce != NULL && !pc__wire_nonce_ok(in->join_nonce)) {
        return pc_error_set(err, PC_ERR_INVALID, NULL,
                            "client config: join_nonce must be 16 to 64 of "
                            "[A-Za-z0-9_-]");
    }
    pc_client_config c = *in;
    resolve(&c);
    bool failed = false;
    c.pub_url = copy_or_null(in->pub_url, &failed);
    c.req_url = copy_or_null(in->req_url, &failed);
    c.room = copy_or_null(in->room, &failed);
    c.name = named ? copy_or_null(in->name, &failed) : NULL;
    c.join_nonce = copy_or_null(in->join_nonce, &failed);
    c.gm_credential = in->role == PC_CLIENT_GM
                          ? copy_or_null(in->gm_credential, &failed)
                          : NULL;
    if (failed) {
        pc__config_fini(&c);
        return pc_error_set(err, PC_ERR_NOMEM, NULL, "out of memory");
    }
    *out = c;
    return PC_OK;
}

void pc__config_fini(pc_client_config *cfg)
{
    /* The strings were made by pc__config_copy, so they are ours. */
    pc_free((char *)cfg->pub_url);
    pc_free((char *)cfg->req_url);
    pc_free((char *)cfg->room);
    pc_free((char *)cfg->name);
    pc_free((char *)cfg->join_nonce);
    if (cfg->gm_credential != NULL) {
        volatile char *w = (volatile char *)cfg->gm_credential;
        for (size_t i = 0; w[i] != '\0'; i++) {
            w[i] = 0;
        }
    }
    pc_free((char *)cfg->gm_credential);
}
