/*
 * reqhost.c - the server fuzz_request and make_seeds share (reqhost.h).
 */
#include "reqhost.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>

#include "encounter/encounter.h"
#include "phasecast/alloc.h"
#include "phasecast/json.h"
#include "piles/piles.h"
#include "tictactoe/tictactoe.h"

#include "fuzz.h"
#include "arenagame.h"
#include "requests.h"

#define TOKEN_MAX 64
/* fzr_reset's four joins and one per body of an input, at most. */
#define ALL_MAX 80

static pc_server *srv;
static piles_config cfg;
static encounter_config ecfg;
static char tok_t[TOKEN_MAX + 1], tok_p[TOKEN_MAX + 1];
static char tok_g[TOKEN_MAX + 1], tok_gm[TOKEN_MAX + 1];
static char tok_e[TOKEN_MAX + 1], tok_egm[TOKEN_MAX + 1];
static char joined[FZR_JOINS_MAX][TOKEN_MAX + 1];
static int njoined;
static fzr_join all[ALL_MAX];
static int nall;
static char urls[2][96];
static nng_socket sub;

static int64_t fixed_clock(void *arg)
{
    (void)arg;
    return FZR_T0;
}

static void done(void)
{
    nng_close(sub);
    pc_server_free(srv);
    pc_transport_fini();
}

void fzr_init(const char *tag)
{
    if (srv != NULL) {
        return;
    }
    snprintf(urls[0], sizeof urls[0], "inproc://pc-fuzz-%s-pub", tag);
    snprintf(urls[1], sizeof urls[1], "inproc://pc-fuzz-%s-rep", tag);
    pc_server_options o;
    pc_server_options_init(&o);
    o.pub_url = urls[0];
    o.rep_url = urls[1];
    o.heartbeat_ms = -1;
    o.inspector_credential = FZR_CREDENTIAL;
    pc_error err = {0};
    FZ_CHECK(pc_server_new(&o, &srv, &err) == PC_OK, "pc_server_new: %s",
             err.message);
    piles_config_init(&cfg);
    cfg.deal_ms = cfg.results_ms = cfg.scoring_ms = 0;
    cfg.declare_ms = cfg.play_ms = PILES_DELAY_MAX;
    arenagame_init();
    /* The round waits a day; the resolution is at once (0 ms timers run
     * in the loop fuzz_request runs after every body). */
    encounter_config_init(&ecfg);
    ecfg.round_ms = ENCOUNTER_DELAY_MAX;
    ecfg.resolution_ms = 0;
    /* Everything every room broadcasts, to look for secrets in it. */
    FZ_CHECK(nng_sub0_open(&sub) == 0 &&
                 nng_socket_set(sub, NNG_OPT_SUB_SUBSCRIBE, "", 0) == 0 &&
                 nng_socket_set_int(sub, NNG_OPT_RECVBUF, 8192) == 0 &&
                 nng_dial(sub, urls[0], NULL, 0) == 0,
             "cannot follow the broadcast");
    atexit(done);
}

void fzr_broadcast(void (*fn)(const char *msg, size_t len, void *arg),
                   void *arg)
{
    nng_msg *m;
    while (nng_recvmsg(sub, &m, NNG_FLAG_NONBLOCK) == 0) {
        /* An exact-size copy, so reading past its end is caught. */
        char *c = fz_copy(nng_msg_body(m), nng_msg_len(m));
        fn(c, nng_msg_len(m), arg);
        free(c);
        nng_msg_free(m);
    }
}

pc_server *fzr_server(void)
{
    return srv;
}

char *fzr_answer(const char *body, size_t len, size_t *n)
{
    char *exact = fz_copy(body, len), *text = NULL;
    pc_err rc = pc__requests_answer(srv, exact, len, &text, n);
    free(exact);
    FZ_CHECK(rc == PC_OK, "pc__requests_answer returned %s", pc_err_name(rc));
    return text;
}

/* The token in an ok player join's reply, or NULL. */
static const char *join_token(const cJSON *reply)
{
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(reply, "result");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(res, "token");
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok")) ||
        !cJSON_IsString(t) || strlen(t->valuestring) > TOKEN_MAX) {
        return NULL;
    }
    return t->valuestring;
}

/* Remember a join with its room, name and role. */
static void note_all(const cJSON *reply, const char *t)
{
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(reply, "result");
    const char *room =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "room"));
    const char *name =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "player"));
    const char *role =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "role"));
    if (nall == ALL_MAX || room == NULL || name == NULL || role == NULL ||
        strlen(room) >= sizeof all[0].room ||
        strlen(name) >= sizeof all[0].name) {
        return;
    }
    fzr_join *j = &all[nall++];
    strcpy(j->room, room);
    strcpy(j->name, name);
    strcpy(j->token, t);
    j->gm = strcmp(role, "gm") == 0;
}

int fzr_njoins(void)
{
    return nall;
}

const fzr_join *fzr_joins(int i)
{
    return &all[i];
}

void fzr_note_join(const cJSON *reply)
{
    const char *t = join_token(reply);
    if (t == NULL) {
        return;
    }
    note_all(reply, t);
    if (njoined == FZR_JOINS_MAX) {
        memmove(joined[0], joined[1], sizeof joined[0] * (FZR_JOINS_MAX - 1));
        njoined--;
    }
    strcpy(joined[njoined++], t);
}

/* Join room id as name (the game master with the credential when gm)
 * and keep the token in tok. */
static void join(const char *id, const char *name, bool gm, char *tok)
{
    char body[256];
    size_t n = 0;
    int len = snprintf(body, sizeof body,
                       "{\"v\":1,\"op\":\"join\",\"room\":\"%s\","
                       "\"role\":\"%s\",\"name\":\"%s\"%s}",
                       id, gm ? "gm" : "player", name,
                       gm ? ",\"credential\":\"" FZR_GM_CREDENTIAL "\"" : "");
    char *text = fzr_answer(body, (size_t)len, &n);
    cJSON *reply = cJSON_ParseWithLength(text, n);
    const char *t = join_token(reply);
    FZ_CHECK(t != NULL, "%s cannot join %s: %s", name, id, text);
    strcpy(tok, t);
    note_all(reply, t);
    cJSON_Delete(reply);
    cJSON_free(text);
}

static void host(const char *id, const pc_game *game, void *arg,
                 const char *gm_credential)
{
    (void)pc_server_remove_room(srv, id);
    pc_server_room_options ro;
    pc_server_room_options_init(&ro);
    ro.room.id = id;
    ro.room.seed = 7;
    ro.room.seed_set = true;
    ro.room.clock = fixed_clock;
    ro.room.arg = arg;
    ro.gm_credential = gm_credential;
    FZ_CHECK(pc_server_add_room(srv, game, &ro, NULL) == PC_OK,
             "cannot host room %s", id);
}

void fzr_reset(void)
{
    nall = 0;
    host("t", tictactoe_game(), NULL, NULL);
    join("t", "alice", false, tok_t);
    host("p", piles_game(), &cfg, NULL);
    join("p", "alice", false, tok_p);
    host("g", arenagame(), NULL, FZR_GM_CREDENTIAL);
    join("g", "alice", false, tok_g);
    join("g", "gm", true, tok_gm);
    host("e", encounter_game(), &ecfg, FZR_GM_CREDENTIAL);
    join("e", "alice", false, tok_e);
    join("e", "gm", true, tok_egm);
    njoined = 0;
}

const char *fzr_token_t(void)
{
    return tok_t;
}

const char *fzr_token_p(void)
{
    return tok_p;
}

const char *fzr_token_g(void)
{
    return tok_g;
}

const char *fzr_token_gm(void)
{
    return tok_gm;
}

const char *fzr_token_e(void)
{
    return tok_e;
}

/* The value of the placeholder at p (n bytes left), and its length. */
static const char *mark(const char *p, size_t n, size_t *mlen)
{
    if (n < 3 || p[0] != '@' || p[2] != '@') {
        return NULL;
    }
    *mlen = 3;
    switch (p[1]) {
    case 'T':
        return tok_t;
    case 'P':
        return tok_p;
    case 'G':
        return tok_g;
    case 'W':
        return tok_gm;
    case 'E':
        return tok_e;
    case 'V':
        return tok_egm;
    case 'M':
        return FZR_GM_CREDENTIAL;
    case 'L':
        return njoined > 0 ? joined[njoined - 1] : "";
    default:
        if (p[1] >= '1' && p[1] <= '0' + FZR_JOINS_MAX) {
            int k = p[1] - '1';
            return k < njoined ? joined[k] : "";
        }
        return NULL;
    }
}

char *fzr_substitute(const char *body, size_t len, size_t *out_len)
{
    size_t o = 0, ml;
    for (size_t i = 0; i < len;) {
        const char *v = mark(body + i, len - i, &ml);
        o += v != NULL ? strlen(v) : 1;
        i += v != NULL ? ml : 1;
    }
    char *out = malloc(o == 0 ? 1 : o); /* exact size */
    FZ_CHECK(out != NULL, "out of memory");
    o = 0;
    for (size_t i = 0; i < len;) {
        const char *v = mark(body + i, len - i, &ml);
        if (v != NULL) {
            memcpy(out + o, v, strlen(v));
            o += strlen(v);
            i += ml;
        } else {
            out[o++] = body[i++];
        }
    }
    *out_len = o;
    return out;
}
