/*
 * rules.c - piece ids and play classification for piles (see rules.h).
 *
 * Everything here is a pure function of its arguments; the game and the bot
 * both call it, so they can never disagree about what a play is worth.
 */
#include "piles/rules.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

static const char colours[] = "RB";
static const char copies[] = "ab";

int piles_piece_parse(const char *id)
{
    if (id == NULL || strlen(id) != 3) {
        return -1;
    }
    const char *c = strchr(colours, id[0]);
    const char *k = strchr(copies, id[2]);
    if (id[0] == '\0' || c == NULL || id[2] == '\0' || k == NULL ||
        id[1] < '1' || id[1] > '0' + PILES_RANKS) {
        return -1;
    }
    return (id[1] - '1') * 4 + (int)(c - colours) * 2 + (int)(k - copies);
}

void piles_piece_id(int piece, char out[PILES_ID_SIZE])
{
    out[0] = colours[piles_piece_colour(piece)];
    out[1] = (char)('0' + piles_piece_rank(piece));
    out[2] = copies[piece % 2];
    out[3] = '\0';
}

int piles_piece_rank(int piece)
{
    return piece / 4 + 1;
}

int piles_piece_colour(int piece)
{
    return piece / 2 % 2;
}

piles_kind piles_kind_for(int count)
{
    return count == 1                              ? PILES_SINGLE
           : count == 2                            ? PILES_PAIR
           : count >= 3 && count <= PILES_PLAY_MAX ? PILES_STRAIGHT
                                                   : (piles_kind)0;
}

const char *piles_kind_name(piles_kind kind)
{
    switch (kind) {
    case PILES_SINGLE:
        return "single";
    case PILES_PAIR:
        return "pair";
    case PILES_STRAIGHT:
        return "straight";
    }
    return "?";
}

piles_play piles_play_classify(const int *pieces, size_t n)
{
    /* Counts past the maximum are all alike: too many. */
    int count = n > PILES_PLAY_MAX ? PILES_PLAY_MAX + 1 : (int)n;
    piles_play p = {.count = count, .kind = piles_kind_for(count)};
    if (p.kind == 0 || pieces == NULL) {
        return p;
    }
    bool seen[PILES_RANKS + 1] = {false};
    int low = PILES_RANKS + 1, high = 0;
    bool one_colour = true, distinct = true;
    for (size_t i = 0; i < n; i++) {
        int r = piles_piece_rank(pieces[i]);
        distinct = distinct && !seen[r];
        seen[r] = true;
        low = r < low ? r : low;
        high = r > high ? r : high;
        one_colour = one_colour && piles_piece_colour(pieces[i]) ==
                                       piles_piece_colour(pieces[0]);
    }
    switch (p.kind) {
    case PILES_SINGLE:
        p.valid = true;
        p.strength = high;
        break;
    case PILES_PAIR:
        p.valid = low == high;
        p.strength = high;
        break;
    case PILES_STRAIGHT:
        /* n distinct ranks spanning n - 1 are consecutive. */
        p.valid = distinct && high - low == (int)n - 1;
        p.flush = p.valid && one_colour;
        p.strength = high + (p.flush ? PILES_RANKS : 0);
        break;
    }
    return p;
}

const char *piles_play_name(const piles_play *play)
{
    if (!play->valid) {
        return "discard";
    }
    return play->flush ? "flush straight" : piles_kind_name(play->kind);
}

bool piles_play_beats(const piles_play *a, const piles_play *b)
{
    if (!a->valid || a->count != b->count) {
        return false;
    }
    return !b->valid || a->strength > b->strength;
}
