/*
 * players.c - names, secret tokens, join nonces and reply caches of one
 * room's players.
 *
 * A token is 128 bits from the kernel's CSPRNG (getrandom, falling back to
 * /dev/urandom), printed as 32 hex digits; it is compared without an early
 * exit so the time a lookup takes does not leak how many leading digits a
 * guess got right; a join nonce, which also hands out the token, is
 * compared the same way. Each player keeps the reply to its join and the
 * replies to its last PC_SERVER_ACTION_CACHE actions in a ring, which is
 * what makes a resent join or action (nng REQ resends) idempotent.
 * Lookups are linear: a room has tens of players, not thousands. Nothing
 * here is thread-safe; the room's loop owns it.
 */
#include "players.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "phasecast/alloc.h"

/* One remembered action reply. */
typedef struct reply {
    char id[PC_SERVER_ACTION_ID_MAX + 1]; /* "" when the slot is empty */
    char *text;
    size_t len;
} reply;

struct pc__player {
    char name[PC_SERVER_NAME_MAX + 1];
    char token[PC__TOKEN_HEX + 1];
    char nonce[PC_SERVER_NONCE_MAX + 1]; /* "" when joined without one */
    bool gm;                             /* joined as the game master */
    char *join_reply;                    /* NULL until remembered */
    size_t join_reply_len;
    reply cache[PC_SERVER_ACTION_CACHE];
    size_t next; /* slot the next reply overwrites */
    /* The action rate limit's token bucket (pc__player_take_action). */
    bool bucket_set; /* false until the first action */
    double tokens;
    int64_t bucket_ms; /* the room-clock time tokens was last brought up */
};

struct pc__players {
    pc__player **v;
    size_t n, max;
};

pc_err pc__players_new(size_t max, pc__players **out)
{
    pc__players *ps = pc_malloc(sizeof *ps);
    if (ps == NULL) {
        return PC_ERR_NOMEM;
    }
    *ps = (pc__players){.max = max};
    *out = ps;
    return PC_OK;
}

static void player_free(pc__player *p)
{
    for (size_t i = 0; i < PC_SERVER_ACTION_CACHE; i++) {
        pc_free(p->cache[i].text);
    }
    pc_free(p->join_reply);
    pc_free(p);
}

void pc__players_free(pc__players *ps)
{
    if (ps == NULL) {
        return;
    }
    for (size_t i = 0; i < ps->n; i++) {
        player_free(ps->v[i]);
    }
    pc_free(ps->v);
    pc_free(ps);
}

size_t pc__players_count(const pc__players *ps)
{
    return ps->n;
}

bool pc__players_valid_name(const char *name)
{
    size_t n = 0;
    for (const char *s = name; *s != '\0'; s++, n++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
        if (!ok || n >= PC_SERVER_NAME_MAX) {
            return false;
        }
    }
    return n > 0;
}

bool pc__players_valid_nonce(const char *nonce)
{
    size_t n = 0;
    for (const char *s = nonce; *s != '\0'; s++, n++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok || n >= PC_SERVER_NONCE_MAX) {
            return false;
        }
    }
    return n >= PC_SERVER_NONCE_MIN;
}

pc__player *pc__players_find_name(pc__players *ps, const char *name)
{
    for (size_t i = 0; i < ps->n; i++) {
        if (strcmp(ps->v[i]->name, name) == 0) {
            return ps->v[i];
        }
    }
    return NULL;
}

/*
 * Whether guess equals the secret held NUL-padded in a buffer of cap bytes,
 * in a time that depends on cap and the guess's length only, never on how
 * many leading bytes match.
 */
static bool secret_equal(const char *secret, size_t cap, const char *guess)
{
    size_t n = strlen(guess);
    unsigned diff = n >= cap;
    for (size_t i = 0; i < cap; i++) {
        char g = i < n ? guess[i] : 0;
        diff |= (unsigned)(unsigned char)(secret[i] ^ g);
    }
    return diff == 0;
}

pc__player *pc__players_find_token(pc__players *ps, const char *token)
{
    pc__player *found = NULL;
    for (size_t i = 0; i < ps->n; i++) {
        if (secret_equal(ps->v[i]->token, sizeof ps->v[i]->token, token)) {
            found = ps->v[i];
        }
    }
    return found;
}

/* Fill buf with n bytes from the kernel's CSPRNG. */
static bool random_bytes(unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(buf + got, n - got, 0);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        got += (size_t)r;
    }
    if (got == n) {
        return true;
    }
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    return got == n;
}

pc_err pc__players_add(pc__players *ps, const char *name, const char *nonce,
                       pc__player **out)
{
    if (!pc__players_valid_name(name) ||
        (nonce != NULL && !pc__players_valid_nonce(nonce))) {
        return PC_ERR_INVALID;
    }
    if (pc__players_find_name(ps, name) != NULL) {
        return PC_ERR_STATE;
    }
    if (ps->n >= ps->max) {
        return PC_ERR_LIMIT;
    }
    pc__player **v = pc_realloc(ps->v, (ps->n + 1) * sizeof *v);
    if (v == NULL) {
        return PC_ERR_NOMEM;
    }
    ps->v = v;
    pc__player *p = pc_malloc(sizeof *p);
    if (p == NULL) {
        return PC_ERR_NOMEM;
    }
    memset(p, 0, sizeof *p);
    unsigned char raw[PC__TOKEN_HEX / 2];
    if (!random_bytes(raw, sizeof raw)) {
        pc_free(p);
        return PC_ERR_IO;
    }
    for (size_t i = 0; i < sizeof raw; i++) {
        snprintf(p->token + 2 * i, 3, "%02x", raw[i]);
    }
    memcpy(p->name, name, strlen(name) + 1);
    if (nonce != NULL) {
        memcpy(p->nonce, nonce, strlen(nonce) + 1);
    }
    ps->v[ps->n++] = p;
    *out = p;
    return PC_OK;
}

void pc__players_remove_last(pc__players *ps)
{
    if (ps->n > 0) {
        player_free(ps->v[--ps->n]);
    }
}

const char *pc__player_name(const pc__player *p)
{
    return p->name;
}

const char *pc__player_token(const pc__player *p)
{
    return p->token;
}

bool pc__player_nonce_is(const pc__player *p, const char *nonce)
{
    return p->nonce[0] != '\0' &&
           secret_equal(p->nonce, sizeof p->nonce, nonce);
}

const char *pc__player_join_reply(const pc__player *p, size_t *len)
{
    *len = p->join_reply_len;
    return p->join_reply;
}

/* A NUL-terminated copy of len bytes of text, or NULL. */
static char *copy_text(const char *text, size_t len)
{
    char *copy = pc_malloc(len + 1);
    if (copy != NULL) {
        memcpy(copy, text, len);
        copy[len] = '\0';
    }
    return copy;
}

pc_err pc__player_remember_join(pc__player *p, const char *text, size_t len)
{
    char *copy = copy_text(text, len);
    if (copy == NULL) {
        return PC_ERR_NOMEM;
    }
    pc_free(p->join_reply);
    p->join_reply = copy;
    p->join_reply_len = len;
    return PC_OK;
}

const char *pc__player_reply(const pc__player *p, const char *action_id,
                             size_t *len)
{
    for (size_t i = 0; i < PC_SERVER_ACTION_CACHE; i++) {
        const reply *r = &p->cache[i];
        if (r->text != NULL && strcmp(r->id, action_id) == 0) {
            *len = r->len;
            return r->text;
        }
    }
    return NULL;
}

pc_err pc__player_remember_owned(pc__player *p, const char *action_id,
                                 char *text, size_t len)
{
    size_t idlen = strlen(action_id);
    if (idlen > PC_SERVER_ACTION_ID_MAX) {
        pc_free(text);
        return PC_ERR_INVALID;
    }
    reply *r = &p->cache[p->next];
    pc_free(r->text);
    memcpy(r->id, action_id, idlen + 1);
    r->text = text;
    r->len = len;
    p->next = (p->next + 1) % PC_SERVER_ACTION_CACHE;
    return PC_OK;
}

pc_err pc__player_remember(pc__player *p, const char *action_id,
                           const char *text, size_t len)
{
    if (strlen(action_id) > PC_SERVER_ACTION_ID_MAX) {
        return PC_ERR_INVALID;
    }
    char *copy = copy_text(text, len);
    if (copy == NULL) {
        return PC_ERR_NOMEM;
    }
    return pc__player_remember_owned(p, action_id, copy, len);
}

bool pc__player_take_action(pc__player *p, unsigned rate, unsigned burst,
                            int64_t now_ms)
{
    if (rate == 0) {
        return true;
    }
    double cap = burst != 0 ? (double)burst : (double)rate;
    if (!p->bucket_set) {
        p->bucket_set = true;
        p->tokens = cap;
    } else if (now_ms > p->bucket_ms) {
        p->tokens += (double)(now_ms - p->bucket_ms) * rate / 1000.0;
        if (p->tokens > cap) {
            p->tokens = cap;
        }
    }
    /* A clock that went back refills nothing; it counts from there. */
    p->bucket_ms = now_ms;
    if (p->tokens < 1) {
        return false;
    }
    p->tokens -= 1;
    return true;
}

pc__player *pc__players_at(pc__players *ps, size_t i)
{
    return i < ps->n ? ps->v[i] : NULL;
}

const char *pc__player_nonce(const pc__player *p)
{
    return p->nonce;
}

bool pc__player_is_gm(const pc__player *p)
{
    return p->gm;
}

void pc__player_set_gm(pc__player *p)
{
    p->gm = true;
}

pc_viewer pc__player_viewer(const pc__player *p)
{
    pc_viewer v = {PC_VIEWER_PUBLIC, NULL};
    if (p != NULL) {
        v.kind = p->gm ? PC_VIEWER_GM : PC_VIEWER_PLAYER;
        v.player = p->gm ? NULL : p->name;
    }
    return v;
}

pc_err pc__players_restore(pc__players *ps, const char *name, const char *token,
                           const char *nonce)
{
    if (strlen(token) != PC__TOKEN_HEX ||
        strspn(token, "0123456789abcdef") != PC__TOKEN_HEX) {
        return PC_ERR_INVALID;
    }
    pc__player *p;
    pc_err rc = pc__players_add(ps, name, nonce, &p);
    if (rc == PC_OK) {
        memcpy(p->token, token, PC__TOKEN_HEX + 1);
    }
    return rc;
}
