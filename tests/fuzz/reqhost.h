/*
 * reqhost.h - the server fuzz_request talks to, shared with make_seeds so
 * that the seeds it writes replay exactly (same rooms, seeds, clock and
 * piles settings, so the same deal).
 *
 * One CALLER-OWNED server per process (inproc URLs, no heartbeat, the
 * inspector credential FZR_CREDENTIAL). fzr_reset hosts, afresh, a
 * tictactoe room "t", a piles room "p" (PRNG seed 7, a clock fixed at
 * FZR_T0, piles pauses of 0 ms and declaration and play timers of a day),
 * an arena room "g" (arenagame.h: strict action types, events, secrets)
 * and an encounter room "e" (games/encounter: rounds of a day, resolution
 * at once), both with the game-master credential FZR_GM_CREDENTIAL; each
 * has the player "alice" joined, and g and e also their game master
 * "gm". Request bodies name tokens, which are random, by placeholders
 * fzr_substitute replaces:
 *   @T@  alice's token in t        @P@  alice's token in p
 *   @G@  alice's token in g        @W@  the game master's token in g
 *   @E@  alice's token in e        @V@  the game master's token in e
 *   @M@  the game-master credential (FZR_GM_CREDENTIAL)
 *   @L@  the token of the last ok player or gm join since fzr_reset
 *   @1@ .. @8@  the token of the 1st .. 8th such join since then
 * (an unknown one becomes ""). A SUB socket follows the server's
 * broadcast (every room) for fzr_broadcast. Loop owner's thread only;
 * not a test framework, not installed.
 */
#ifndef PC_FUZZ_REQHOST_H
#define PC_FUZZ_REQHOST_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "phasecast/server.h"

#define FZR_CREDENTIAL    "fuzz-inspector-credential"
#define FZR_GM_CREDENTIAL "fuzz-game-master-credential"
#define FZR_T0            1795428000000LL
#define FZR_JOINS_MAX     8

/* Create the server (once; aborts on failure); it is freed at exit. */
void fzr_init(const char *tag);
pc_server *fzr_server(void);
/* Host fresh rooms t and p with alice joined; forget earlier joins. */
void fzr_reset(void);
/* body with the placeholders replaced: a malloc'd exact-size copy
 * (free), *out_len its length. */
char *fzr_substitute(const char *body, size_t len, size_t *out_len);
/* The reply to body[0..len) (answered from an exact-size copy); aborts
 * unless pc__requests_answer returns PC_OK. Freed with cJSON_free. */
char *fzr_answer(const char *body, size_t len, size_t *n);
/* Remember the token an ok player join's reply (parsed) carries. */
void fzr_note_join(const cJSON *reply);
const char *fzr_token_t(void);
const char *fzr_token_p(void);
const char *fzr_token_g(void);
const char *fzr_token_gm(void);
const char *fzr_token_e(void);

/* A join fzr_note_join remembered, and those made by fzr_reset (the
 * first FZR_RESET_JOINS): alice in t and p, alice and the game master in
 * g, alice and the game master in e. */
#define FZR_RESET_JOINS 6
typedef struct fzr_join {
    char room[16];
    char name[40];
    char token[72];
    int gm; /* joined as the game master */
} fzr_join;
/* The ith of fzr_njoins() joins since fzr_reset, fzr_reset's first. */
int fzr_njoins(void);
const fzr_join *fzr_joins(int i);

/* Pass every broadcast message received so far (after the loop ran) to
 * fn, then forget it. */
void fzr_broadcast(void (*fn)(const char *msg, size_t len, void *arg),
                   void *arg);

#endif
