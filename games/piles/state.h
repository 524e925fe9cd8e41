/*
 * state.h - reading and patching the piles state document, and the
 * invariant every committed state keeps; shared by the game (piles.c) and
 * its bot (bot.c). Not installed: the game's public surface is piles.h.
 *
 * The readers tolerate any document: members of the wrong type are skipped
 * and strings that are not piece ids ignored, so the bot may use them on a
 * replica it received over the network. They never allocate. The patch
 * builder turns a run of allocations into one check: after the first
 * failure every further addition is dropped and the patch reports not ok.
 * None of this touches a room except piles_validate_state, which the
 * framework calls. docs/games/piles.md describes the document.
 */
#ifndef PHASECAST_GAMES_PILES_STATE_H
#define PHASECAST_GAMES_PILES_STATE_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "phasecast/error.h"
#include "phasecast/room.h"
#include "piles/rules.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The seated players, in seat (join) order; names borrowed from the
 * document. */
typedef struct piles_seats {
    const char *name[PILES_PLAYERS];
    int n;
} piles_seats;

/* piles_seats_of - data.players (string members only, at most four). */
piles_seats piles_seats_of(const cJSON *data);

/* piles_seat_of - player's seat (0..n-1), or -1 (also for NULL). */
int piles_seat_of(const piles_seats *s, const char *player);

/* piles_int_at - object[key] as an int, or 0 when it is not a number. */
int piles_int_at(const cJSON *object, const char *key);

/* piles_hand_of - the pieces of data.hands[player] in deck order; returns
 * how many (0 when the hand is absent or hidden). */
int piles_hand_of(const cJSON *data, const char *player, int out[PILES_DECK]);

/* piles_played - the pieces of a played array (["R1a", ...]), at most
 * PILES_PLAY_MAX, in array order; returns how many. */
int piles_played(const cJSON *array, int out[PILES_PLAY_MAX]);

/* piles_pieces_text - "R3a B3b" into buf (capacity cap, truncated). */
void piles_pieces_text(const int *pieces, int n, char *buf, size_t cap);

/* A merge patch under construction: root is the patch, ok turns false at
 * the first failed allocation. Free root with piles_patch_done. */
typedef struct piles_patch {
    cJSON *root;
    bool ok;
} piles_patch;

/* piles_patch_new - an empty patch ({}). */
piles_patch piles_patch_new(void);

/* piles_put - add item (owned; dropped on failure) under key of parent. */
void piles_put(piles_patch *p, cJSON *parent, const char *key, cJSON *item);
void piles_put_int(piles_patch *p, cJSON *parent, const char *key, int v);
void piles_put_str(piles_patch *p, cJSON *parent, const char *key,
                   const char *s);
void piles_put_null(piles_patch *p, cJSON *parent, const char *key);

/* piles_object_at - parent's object member key, created empty if absent;
 * NULL once the patch has failed. */
cJSON *piles_object_at(piles_patch *p, cJSON *parent, const char *key);

/* piles_id_array - a new array of the pieces' ids, or NULL (no memory). */
cJSON *piles_id_array(const int *pieces, int n);

/* piles_patch_done - free p's tree and return rc, so that a commit and
 * the cleanup fit one expression. */
pc_err piles_patch_done(piles_patch *p, pc_err rc);

/*
 * piles_validate_state - the game's validator (pc_game.validate): refuses,
 * with PC_ERR_REJECTED and code "bad_state", a proposed document that
 * breaks the shape the game relies on (see docs/games/piles.md, "State
 * invariant"). Pure apart from filling why.
 */
pc_err piles_validate_state(const pc_room *room, const cJSON *proposed,
                            pc_error *why, void *arg);

#ifdef __cplusplus
}
#endif

#endif /* PHASECAST_GAMES_PILES_STATE_H */
