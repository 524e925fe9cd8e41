/*
 * rules.h - the pieces of piles and what makes a play, shared by the game
 * (piles.c) and its bot (bot.c).
 *
 * This module is pure arithmetic on piece numbers: it knows the deck, the
 * piece ids ("R7a"), the three kinds of play and how plays compare. It
 * knows nothing of rooms, players, turns or JSON, and it does not check
 * that a play's pieces are in anyone's hand. docs/games/piles.md states
 * the same rules for people.
 *
 * The deck has 32 pieces: ranks 1..8, two colours (R red, B blue), two
 * copies (a, b) of each rank and colour. A piece is numbered 0..31 in deck
 * order, (rank - 1) * 4 + colour * 2 + copy, so R1a = 0, R1b = 1, B1a = 2,
 * B1b = 3, R2a = 4, ..., B8b = 31; its id is colour letter, rank digit and
 * copy letter.
 *
 * A play is 1 to 6 distinct pieces; how many fixes its kind:
 *
 *   count  kind      valid when                        strength
 *   -----  --------  --------------------------------  --------------------
 *   1      single    always                            its rank
 *   2      pair      both pieces have the same rank    that rank
 *   3..6   straight  the ranks are consecutive, each   its top rank, plus 8
 *                    once (R3a B4a R5b is a straight)  when every piece has
 *                                                      one colour (a "flush
 *                                                      straight")
 *
 * Strength orders plays of one count; equal strengths tie (the game gives a
 * tie to the earlier player). Colour and copy matter only for flushes.
 */
#ifndef PHASECAST_GAMES_PILES_RULES_H
#define PHASECAST_GAMES_PILES_RULES_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PILES_PLAYERS  4  /* seats at the table */
#define PILES_HAND     8  /* pieces dealt to each player per round */
#define PILES_DECK     32 /* pieces in the deck, all dealt every round */
#define PILES_RANKS    8  /* ranks 1..8 */
#define PILES_PLAY_MIN 1  /* fewest pieces in a play */
#define PILES_PLAY_MAX 6  /* most pieces in a play */
/* Size of a piece id including the terminating NUL ("R7a"). */
#define PILES_ID_SIZE 4

/* The kind of play a number of pieces must form. */
typedef enum piles_kind {
    PILES_SINGLE = 1,  /* one piece */
    PILES_PAIR = 2,    /* two of one rank */
    PILES_STRAIGHT = 3 /* 3..6 consecutive ranks */
} piles_kind;

/* What a set of pieces amounts to. */
typedef struct piles_play {
    int count;       /* number of pieces */
    piles_kind kind; /* the kind that count calls for */
    bool valid;      /* the pieces form that kind */
    bool flush;      /* a valid straight of one colour */
    int strength;    /* meaningful when valid: higher beats lower */
} piles_play;

/* piles_piece_parse - the number (0..31) of a piece id such as "B3b", or
 * -1 if id is not exactly a piece id. Pure; any thread. */
int piles_piece_parse(const char *id);

/* piles_piece_id - write the id of piece (0..31) to out. Pure. */
void piles_piece_id(int piece, char out[PILES_ID_SIZE]);

/* piles_piece_rank (1..8), piles_piece_colour (0 red, 1 blue). Pure. */
int piles_piece_rank(int piece);
int piles_piece_colour(int piece);

/* piles_kind_for - the kind a play of count pieces must form, or 0 when
 * count is outside PILES_PLAY_MIN..PILES_PLAY_MAX. Pure. */
piles_kind piles_kind_for(int count);

/* piles_kind_name - "single", "pair" or "straight" ("?" otherwise). */
const char *piles_kind_name(piles_kind kind);

/*
 * piles_play_classify - what the n distinct pieces (numbers 0..31, any
 * order) amount to. n outside 1..6 gives count n, kind 0 and valid false.
 * Pure; any thread.
 */
piles_play piles_play_classify(const int *pieces, size_t n);

/* piles_play_name - "single", "pair", "straight" or "flush straight" for a
 * valid play, "discard" for an invalid one. Static text. */
const char *piles_play_name(const piles_play *play);

/* piles_play_beats - whether play a is a valid play of the same count as b
 * and strictly stronger than b (b may be invalid: then any valid a beats
 * it). Pure. */
bool piles_play_beats(const piles_play *a, const piles_play *b);

#ifdef __cplusplus
}
#endif

#endif /* PHASECAST_GAMES_PILES_RULES_H */
