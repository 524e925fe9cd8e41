/*
 * bot.c - the simple piles player: count high pieces to declare, chase the
 * declaration while playing (see bot.h).
 *
 * It shares the rules (rules.h) and the tolerant readers (state.h) with the
 * game, so it can never misjudge a play, but not the game's callbacks: it
 * sees the game only through the document, as a networked client does.
 */
#include "piles/bot.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/error.h"
#include "piles/rules.h"
#include "piles/state.h"

/* A play the bot could make. */
typedef struct option {
    int pieces[PILES_PLAY_MAX];
    int n;
    piles_play play;
} option;

/* Longest list of options: 8 singles, 8 pairs, and for each length 3..6
 * and start rank a plain straight and a flush in each colour. */
#define OPTIONS_MAX (2 * PILES_HAND + 4 * PILES_RANKS * 3)

static const cJSON *member(const cJSON *object, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(object, key);
}

static void add(option *opts, int *nopts, const int *pieces, int n)
{
    if (*nopts < OPTIONS_MAX) {
        option *o = &opts[(*nopts)++];
        memcpy(o->pieces, pieces, (size_t)n * sizeof *pieces);
        o->n = n;
        o->play = piles_play_classify(pieces, (size_t)n);
    }
}

/* The valid plays of count pieces from hand (count 0: of every count).
 * Each single and pair uses the first pieces of its rank; each straight
 * comes as a plain one and as a flush in each colour the hand allows. */
static int options(const int *hand, int held, int count, option *opts)
{
    int nopts = 0;
    /* by_rank[r][c]: a piece of rank r and colour c, or -1. */
    int by_rank[PILES_RANKS + 1][2], any[PILES_RANKS + 1][2];
    int many[PILES_RANKS + 1] = {0};
    memset(by_rank, -1, sizeof by_rank);
    memset(any, -1, sizeof any);
    for (int i = 0; i < held; i++) {
        int r = piles_piece_rank(hand[i]);
        if (by_rank[r][piles_piece_colour(hand[i])] < 0) {
            by_rank[r][piles_piece_colour(hand[i])] = hand[i];
        }
        if (many[r] < 2) {
            any[r][many[r]] = hand[i];
        }
        many[r]++;
    }
    for (int r = 1; r <= PILES_RANKS; r++) {
        if (many[r] >= 1 && (count == 0 || count == 1)) {
            add(opts, &nopts, any[r], 1);
        }
        if (many[r] >= 2 && (count == 0 || count == 2)) {
            add(opts, &nopts, any[r], 2);
        }
    }
    for (int len = 3; len <= PILES_PLAY_MAX && len <= held; len++) {
        if (count != 0 && count != len) {
            continue;
        }
        for (int lo = 1; lo + len - 1 <= PILES_RANKS; lo++) {
            int plain[PILES_PLAY_MAX], flush[2][PILES_PLAY_MAX];
            bool ok = true, same[2] = {true, true};
            for (int k = 0; k < len; k++) {
                int r = lo + k;
                ok = ok && many[r] > 0;
                plain[k] = any[r][0];
                for (int c = 0; c < 2; c++) {
                    same[c] = same[c] && by_rank[r][c] >= 0;
                    flush[c][k] = by_rank[r][c];
                }
            }
            if (ok) {
                add(opts, &nopts, plain, len);
            }
            for (int c = 0; c < 2; c++) {
                if (same[c]) {
                    add(opts, &nopts, flush[c], len);
                }
            }
        }
    }
    return nopts;
}

/* Sort a few pieces into deck order (insertion sort). */
static void sort_pieces(int *p, int n)
{
    for (int i = 1; i < n; i++) {
        for (int j = i; j > 0 && p[j - 1] > p[j]; j--) {
            int t = p[j];
            p[j] = p[j - 1];
            p[j - 1] = t;
        }
    }
}

pc_err piles_bot_declare(const cJSON *data, const char *player,
                         uint64_t random_value, int *piles)
{
    int hand[PILES_DECK];
    if (data == NULL || player == NULL || piles == NULL ||
        piles_hand_of(data, player, hand) != PILES_HAND) {
        return PC_ERR_INVALID;
    }
    int halves = 0;
    for (int i = 0; i < PILES_HAND; i++) {
        int r = piles_piece_rank(hand[i]);
        halves += r == PILES_RANKS ? 2 : r == PILES_RANKS - 1 ? 1 : 0;
    }
    int n = (halves + 1) / 2 + (int)(random_value % 3 == 0);
    n = n > PILES_HAND ? PILES_HAND : n;
    const cJSON *d;
    int total = 0;
    cJSON_ArrayForEach(d, member(data, "declared"))
    {
        total += cJSON_IsNumber(d) ? (int)d->valuedouble : 0;
    }
    int others = cJSON_GetArraySize(member(data, "declared"));
    if (others == PILES_PLAYERS - 1 && total + n == PILES_HAND) {
        n = n == 0 || (n < PILES_HAND && (random_value >> 8) % 2) ? n + 1
                                                                  : n - 1;
    }
    *piles = n;
    return PC_OK;
}

pc_err piles_bot_play(const cJSON *data, const char *player,
                      uint64_t random_value, int pieces[PILES_PLAY_MAX], int *n)
{
    int hand[PILES_DECK];
    int held = data != NULL ? piles_hand_of(data, player, hand) : 0;
    if (player == NULL || pieces == NULL || n == NULL || held == 0) {
        return PC_ERR_INVALID;
    }
    const cJSON *turn = member(data, "turn");
    int count = piles_int_at(turn, "count");
    int need = piles_int_at(member(data, "declared"), player) -
               piles_int_at(member(data, "captured"), player);
    if (count > held || count < 0) {
        return PC_ERR_INVALID;
    }
    option opts[OPTIONS_MAX];
    int nopts = options(hand, held, count, opts);
    const option *pick = NULL;
    if (count == 0 && need > 0) {
        /* One of the three strongest leads that capture no more piles
         * than needed (stable insertion sort, strongest first). */
        int idx[OPTIONS_MAX], m = 0;
        for (int i = 0; i < nopts; i++) {
            if (opts[i].n <= need) {
                int at = m++;
                while (at > 0 && opts[idx[at - 1]].play.strength <
                                     opts[i].play.strength) {
                    idx[at] = idx[at - 1];
                    at--;
                }
                idx[at] = i;
            }
        }
        if (m > 0) {
            pick = &opts[idx[random_value % (uint64_t)(m < 3 ? m : 3)]];
        }
    } else if (count > 0 && need > 0) {
        /* The weakest play that beats the best so far. */
        const cJSON *plays = member(turn, "plays"), *p;
        piles_play best = {0};
        bool first = true;
        cJSON_ArrayForEach(p, plays)
        {
            int them[PILES_PLAY_MAX];
            int k = piles_played(p, them);
            piles_play q = piles_play_classify(them, (size_t)k);
            if (first || piles_play_beats(&q, &best)) {
                best = q;
            }
            first = false;
        }
        for (int i = 0; i < nopts; i++) {
            if (piles_play_beats(&opts[i].play, &best) &&
                (pick == NULL || opts[i].play.strength < pick->play.strength)) {
                pick = &opts[i];
            }
        }
    }
    if (pick != NULL) {
        memcpy(pieces, pick->pieces, (size_t)pick->n * sizeof *pieces);
        *n = pick->n;
    } else {
        /* Lowest pieces: a single to lead, or as many as the turn takes. */
        *n = count == 0 ? 1 : count;
        memcpy(pieces, hand, (size_t)*n * sizeof *pieces);
    }
    sort_pieces(pieces, *n);
    return PC_OK;
}

pc_err piles_bot_choose(const cJSON *state, const char *player,
                        uint64_t random_value, const char **type,
                        cJSON **payload)
{
    if (state == NULL || player == NULL || type == NULL || payload == NULL) {
        return PC_ERR_INVALID;
    }
    const char *phase = cJSON_GetStringValue(member(state, "phase"));
    const cJSON *data = member(state, "data");
    const char *to_act = cJSON_GetStringValue(member(data, "to_act"));
    bool declaring = phase != NULL && strcmp(phase, "DECLARATION") == 0;
    bool playing = phase != NULL && strcmp(phase, "TURN") == 0;
    if ((!declaring && !playing) || to_act == NULL ||
        strcmp(to_act, player) != 0) {
        return PC_ERR_NOT_FOUND;
    }
    int pieces[PILES_PLAY_MAX], n = 0, piles = 0;
    pc_err rc = declaring
                    ? piles_bot_declare(data, player, random_value, &piles)
                    : piles_bot_play(data, player, random_value, pieces, &n);
    if (rc != PC_OK) {
        return rc;
    }
    cJSON *p = cJSON_CreateObject();
    cJSON *v =
        declaring ? cJSON_CreateNumber(piles) : piles_id_array(pieces, n);
    if (p == NULL || v == NULL ||
        !cJSON_AddItemToObject(p, declaring ? "piles" : "pieces", v)) {
        cJSON_Delete(p);
        cJSON_Delete(v);
        return PC_ERR_NOMEM;
    }
    *type = declaring ? "declare" : "play";
    *payload = p;
    return PC_OK;
}
