/*
 * piles.c - the piles game: its phase table, one action callback for every
 * phase, the phases' enter and timeout callbacks, and a state validator
 * (piles.h has the phase diagram and the transition table; rules.h the
 * pieces and plays; docs/games/piles.md the data shape and the errors).
 *
 * Every accepted action and every automatic step checks first and then
 * commits exactly one change, so a refusal commits nothing. Patches are
 * built with cJSON because player ids are arbitrary strings that must be
 * escaped. The commits are macros (UPDATE, TRANSITION) so that each change
 * records the line of the function that decided it. Callbacks read the
 * state without re-checking its shape because the validator guarantees
 * it; they never keep a pointer into the state across a commit. Reasons and
 * error messages never name a piece that is still in a hand.
 */
#include "piles/piles.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/error.h"
#include "phasecast/room.h"
#include "piles/rules.h"
#include "piles/state.h"

#define LOBBY        "LOBBY"
#define PREPARATION  "PREPARATION"
#define DECLARATION  "DECLARATION"
#define TURN         "TURN"
#define TURN_RESULTS "TURN_RESULTS"
#define SCORING      "SCORING"
#define GAME_OVER    "GAME_OVER"

/* Points added, as their own change, for an exact declaration. */
#define BONUS 5

/* ---- Settings (piles_config itself is in config.c) --------------------- */

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* The room's settings (its user pointer, or the defaults), clamped. */
static piles_config settings(void *arg)
{
    piles_config c;
    piles_config_init(&c);
    if (arg != NULL) {
        c = *(const piles_config *)arg;
    }
    c.declare_ms = clamp(c.declare_ms, 0, PILES_DELAY_MAX);
    c.play_ms = clamp(c.play_ms, 0, PILES_DELAY_MAX);
    c.deal_ms = clamp(c.deal_ms, 0, PILES_DELAY_MAX);
    c.results_ms = clamp(c.results_ms, 0, PILES_DELAY_MAX);
    c.scoring_ms = clamp(c.scoring_ms, 0, PILES_DELAY_MAX);
    c.target_score = (int)clamp(c.target_score, 1, PILES_TARGET_MAX);
    c.max_rounds = (int)clamp(c.max_rounds, 1, PILES_ROUNDS_MAX);
    return c;
}

/* (Re)arm the current phase's timer; every phase that calls it has a
 * timeout callback, so it cannot fail. */
static void arm(pc_room *room, int64_t delay_ms)
{
    (void)pc_room_arm_timeout(room, delay_ms);
}

/* ---- Reading the state ------------------------------------------------- */

static const cJSON *member(const cJSON *object, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(object, key);
}

static bool is(const cJSON *value, const char *s)
{
    return cJSON_IsString(value) && strcmp(value->valuestring, s) == 0;
}

/* Commit p and free it. Macros, so that the change records the line (and
 * function) that decided it rather than a helper's. */
#define UPDATE(room, p, reason)                                                \
    piles_patch_done(&(p),                                                     \
                     (p).ok ? pc_update_phase_data((room), (p).root, (reason)) \
                            : PC_ERR_NOMEM)
#define TRANSITION(room, next, p, reason)                                      \
    piles_patch_done(                                                          \
        &(p), (p).ok ? pc_transition((room), (next), (p).root, (reason))       \
                     : PC_ERR_NOMEM)

/* ---- LOBBY: seating ---------------------------------------------------- */

static pc_err join(pc_room *room, const char *player, pc_error *err)
{
    piles_seats s = piles_seats_of(pc_room_data(room));
    size_t len = strlen(player);
    if (piles_seat_of(&s, player) >= 0) {
        return pc_error_set(err, PC_ERR_ACTION, "already_joined",
                            "%s has already joined", player);
    }
    if (strcmp(pc_room_phase(room), LOBBY) != 0 || s.n >= PILES_PLAYERS) {
        return pc_error_set(err, PC_ERR_ACTION, "room_full",
                            "the table is full: four players have joined");
    }
    /* A player named like a piece would put "R7a": into public members
     * (scores, declared), where it could pass for a hand. */
    if (len == 0 || len > PILES_NAME_MAX || piles_piece_parse(player) >= 0) {
        return pc_error_set(err, PC_ERR_ACTION, "bad_name",
                            "a player id must be 1 to %d bytes and not a "
                            "piece id such as R7a",
                            PILES_NAME_MAX);
    }
    piles_patch p = piles_patch_new();
    s.name[s.n++] = player;
    piles_put(&p, p.root, "players", cJSON_CreateStringArray(s.name, s.n));
    piles_put_int(&p, piles_object_at(&p, p.root, "scores"), player, 0);
    char reason[128 + PILES_NAME_MAX];
    snprintf(reason, sizeof reason, "%s joins in seat %d%s", player, s.n,
             s.n == PILES_PLAYERS ? "; the table is full" : "");
    if (s.n < PILES_PLAYERS) {
        return UPDATE(room, p, reason);
    }
    return TRANSITION(room, PREPARATION, p, reason);
}

/* ---- PREPARATION: the deal --------------------------------------------- */

/* Shuffle the deck, deal 8 to each seat and choose the starter: at random
 * in round 1, then the seat after the previous starter. */
static pc_err deal(pc_room *room)
{
    const cJSON *data = pc_room_data(room);
    piles_seats s = piles_seats_of(data);
    int round = piles_int_at(data, "round") + 1;
    int prev = piles_seat_of(&s, cJSON_GetStringValue(member(data, "starter")));
    int starter = prev < 0 ? (int)pc_room_random_below(room, PILES_PLAYERS)
                           : (prev + 1) % PILES_PLAYERS;
    int deck[PILES_DECK];
    for (int i = 0; i < PILES_DECK; i++) {
        deck[i] = i;
    }
    for (int i = PILES_DECK - 1; i > 0; i--) {
        int j = (int)pc_room_random_below(room, (uint64_t)i + 1);
        int t = deck[i];
        deck[i] = deck[j];
        deck[j] = t;
    }
    piles_patch p = piles_patch_new();
    piles_put_int(&p, p.root, "round", round);
    piles_put_str(&p, p.root, "starter", s.name[starter]);
    piles_put_str(&p, p.root, "to_act", s.name[starter]);
    (void)piles_object_at(&p, p.root, "declared");
    cJSON *captured = piles_object_at(&p, p.root, "captured");
    cJSON *hands = piles_object_at(&p, p.root, "hands");
    for (int seat = 0; seat < PILES_PLAYERS; seat++) {
        bool mine[PILES_DECK] = {false};
        for (int k = 0; k < PILES_HAND; k++) {
            mine[deck[seat * PILES_HAND + k]] = true;
        }
        cJSON *hand = piles_object_at(&p, hands, s.name[seat]);
        for (int i = 0; i < PILES_DECK; i++) {
            char id[PILES_ID_SIZE];
            piles_piece_id(i, id);
            if (mine[i]) {
                piles_put(&p, hand, id, cJSON_CreateTrue());
            }
        }
        piles_put_int(&p, captured, s.name[seat], 0);
    }
    char reason[128 + PILES_NAME_MAX];
    snprintf(reason, sizeof reason,
             "round %d: %d pieces dealt to each player; %s declares first",
             round, PILES_HAND, s.name[starter]);
    return TRANSITION(room, DECLARATION, p, reason);
}

static void preparation_enter(pc_room *room, const char *from, void *arg)
{
    (void)from;
    arm(room, settings(arg).deal_ms);
}

static void preparation_timeout(pc_room *room, void *arg)
{
    (void)arg;
    if (deal(room) != PC_OK) {
        arm(room, PILES_RETRY_MS);
    }
}

/* ---- DECLARATION ------------------------------------------------------- */

/* Record player's declaration of n piles; the fourth starts turn 1. */
static pc_err declare(pc_room *room, void *arg, const char *player, int n,
                      const char *reason)
{
    const cJSON *data = pc_room_data(room);
    piles_seats s = piles_seats_of(data);
    int starter =
        piles_seat_of(&s, cJSON_GetStringValue(member(data, "starter")));
    int k = cJSON_GetArraySize(member(data, "declared"));
    piles_patch p = piles_patch_new();
    piles_put_int(&p, piles_object_at(&p, p.root, "declared"), player, n);
    if (k + 1 < PILES_PLAYERS) {
        piles_put_str(&p, p.root, "to_act",
                      s.name[(starter + k + 1) % PILES_PLAYERS]);
        pc_err rc = UPDATE(room, p, reason);
        if (rc == PC_OK) {
            arm(room, settings(arg).declare_ms);
        }
        return rc;
    }
    cJSON *turn = piles_object_at(&p, p.root, "turn");
    piles_put_int(&p, turn, "number", 1);
    piles_put_str(&p, turn, "lead", s.name[starter]);
    piles_put_str(&p, p.root, "to_act", s.name[starter]);
    return TRANSITION(room, TURN, p, reason);
}

/* The sum of the declarations made so far. */
static int declared_total(const cJSON *data)
{
    int total = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, member(data, "declared"))
    {
        total += (int)d->valuedouble;
    }
    return total;
}

static bool last_declarer(const cJSON *data)
{
    return cJSON_GetArraySize(member(data, "declared")) == PILES_PLAYERS - 1;
}

static pc_err declare_action(pc_room *room, const pc_action *act, pc_error *err,
                             void *arg)
{
    const cJSON *data = pc_room_data(room);
    const cJSON *to_act = member(data, "to_act");
    const cJSON *only =
        cJSON_IsObject(act->payload) && cJSON_GetArraySize(act->payload) == 1
            ? member(act->payload, "piles")
            : NULL;
    double d = cJSON_IsNumber(only) ? only->valuedouble : -1;
    if (strcmp(pc_room_phase(room), DECLARATION) != 0) {
        return pc_error_set(err, PC_ERR_ACTION, "wrong_phase",
                            "declarations are made in DECLARATION, not %s",
                            pc_room_phase(room));
    }
    if (!is(to_act, act->player)) {
        return pc_error_set(err, PC_ERR_ACTION, "not_your_turn",
                            "it is %s's turn to declare",
                            cJSON_GetStringValue(to_act));
    }
    if (!(d >= 0 && d <= PILES_HAND && d == (int)d)) {
        return pc_error_set(err, PC_ERR_ACTION, "bad_declaration",
                            "the payload must be {\"piles\": 0..%d}",
                            PILES_HAND);
    }
    int n = (int)d;
    if (last_declarer(data) && declared_total(data) + n == PILES_HAND) {
        return pc_error_set(err, PC_ERR_ACTION, "sum_forbidden",
                            "the last declaration may not bring the total "
                            "to %d; %d is forbidden",
                            PILES_HAND, n);
    }
    char reason[64 + PILES_NAME_MAX];
    snprintf(reason, sizeof reason, "%s declares %d", act->player, n);
    return declare(room, arg, act->player, n, reason);
}

/* The declarer did not declare in time: 0, or 1 where 0 is forbidden. */
static void declaration_timeout(pc_room *room, void *arg)
{
    const cJSON *data = pc_room_data(room);
    const char *who = cJSON_GetStringValue(member(data, "to_act"));
    int n = last_declarer(data) && declared_total(data) == PILES_HAND ? 1 : 0;
    char reason[64 + PILES_NAME_MAX];
    snprintf(reason, sizeof reason, "%s's declaration timed out: default %d",
             who, n);
    if (declare(room, arg, who, n, reason) != PC_OK) {
        arm(room, PILES_RETRY_MS);
    }
}

static void declaration_enter(pc_room *room, const char *from, void *arg)
{
    (void)from;
    arm(room, settings(arg).declare_ms);
}

/* ---- TURN -------------------------------------------------------------- */

/* player plays pieces (distinct, in deck order, all in hand, the right
 * count; for the lead a valid play). The fourth play names the winner:
 * the strongest valid play of the lead's kind, the earliest on a tie. */
static pc_err play(pc_room *room, void *arg, const char *player,
                   const int *pieces, int n, bool timed_out)
{
    const cJSON *data = pc_room_data(room);
    const cJSON *turn = member(data, "turn");
    const cJSON *plays = member(turn, "plays");
    piles_seats s = piles_seats_of(data);
    int lead = piles_seat_of(&s, cJSON_GetStringValue(member(turn, "lead")));
    int k = cJSON_GetArraySize(plays);
    piles_play mine = piles_play_classify(pieces, (size_t)n);

    piles_patch p = piles_patch_new();
    cJSON *hand =
        piles_object_at(&p, piles_object_at(&p, p.root, "hands"), player);
    for (int i = 0; i < n; i++) {
        char id[PILES_ID_SIZE];
        piles_piece_id(pieces[i], id);
        piles_put_null(&p, hand, id);
    }
    cJSON *t = piles_object_at(&p, p.root, "turn");
    piles_put(&p, piles_object_at(&p, t, "plays"), player,
              piles_id_array(pieces, n));
    if (k == 0) {
        piles_put_int(&p, t, "count", n);
        piles_put_str(&p, t, "type", piles_kind_name(mine.kind));
    }

    char text[256], reason[PC_REASON_MAX];
    piles_pieces_text(pieces, n, text, sizeof text);
    int len = snprintf(reason, sizeof reason, "%s%s%s %s%s%s", player,
                       timed_out ? "'s turn timed out: " : " ",
                       k == 0       ? "leads"
                       : mine.valid ? "plays"
                                    : "discards",
                       mine.valid ? piles_play_name(&mine) : "",
                       mine.valid ? " " : "", text);
    if (k + 1 < PILES_PLAYERS) {
        piles_put_str(&p, p.root, "to_act",
                      s.name[(lead + k + 1) % PILES_PLAYERS]);
        pc_err rc = UPDATE(room, p, reason);
        if (rc == PC_OK) {
            arm(room, settings(arg).play_ms);
        }
        return rc;
    }

    int best_seat = lead;
    piles_play best = {0};
    for (int j = 0; j < PILES_PLAYERS; j++) {
        int seat = (lead + j) % PILES_PLAYERS;
        int them[PILES_PLAY_MAX];
        piles_play q =
            j == k ? mine
                   : piles_play_classify(
                         them, (size_t)piles_played(member(plays, s.name[seat]),
                                                    them));
        if (j == 0 || piles_play_beats(&q, &best)) {
            best = q;
            best_seat = seat;
        }
    }
    const char *winner = s.name[best_seat];
    int count = piles_int_at(turn, "count");
    piles_put_int(&p, piles_object_at(&p, p.root, "captured"), winner,
                  piles_int_at(member(data, "captured"), winner) + count);
    piles_put_str(&p, t, "winner", winner);
    piles_put_null(&p, p.root, "to_act");
    snprintf(reason + len, sizeof reason - (size_t)len,
             "; %s wins turn %d and captures %d pile%s", winner,
             piles_int_at(turn, "number"), count, count == 1 ? "" : "s");
    return TRANSITION(room, TURN_RESULTS, p, reason);
}

/* Parse {"pieces": [ids]}: 1..6 distinct piece ids, returned in deck
 * order. False if the payload is anything else. */
static bool parse_play(const cJSON *payload, int out[PILES_PLAY_MAX], int *n)
{
    const cJSON *ids =
        cJSON_IsObject(payload) && cJSON_GetArraySize(payload) == 1
            ? member(payload, "pieces")
            : NULL;
    int count = cJSON_GetArraySize(ids);
    if (!cJSON_IsArray(ids) || count < PILES_PLAY_MIN ||
        count > PILES_PLAY_MAX) {
        return false;
    }
    bool seen[PILES_DECK] = {false};
    const cJSON *id;
    cJSON_ArrayForEach(id, ids)
    {
        int i = piles_piece_parse(cJSON_GetStringValue(id));
        if (i < 0 || seen[i]) {
            return false;
        }
        seen[i] = true;
    }
    *n = 0;
    for (int i = 0; i < PILES_DECK; i++) {
        if (seen[i]) {
            out[(*n)++] = i;
        }
    }
    return true;
}

static pc_err play_action(pc_room *room, const pc_action *act, pc_error *err,
                          void *arg)
{
    const cJSON *data = pc_room_data(room);
    const cJSON *to_act = member(data, "to_act");
    const cJSON *count = member(member(data, "turn"), "count");
    int pieces[PILES_PLAY_MAX], n = 0, hand[PILES_DECK];
    if (strcmp(pc_room_phase(room), TURN) != 0) {
        return pc_error_set(err, PC_ERR_ACTION, "wrong_phase",
                            "pieces are played in TURN, not %s",
                            pc_room_phase(room));
    }
    if (!is(to_act, act->player)) {
        return pc_error_set(err, PC_ERR_ACTION, "not_your_turn",
                            "it is %s's turn to play",
                            cJSON_GetStringValue(to_act));
    }
    if (!parse_play(act->payload, pieces, &n)) {
        return pc_error_set(err, PC_ERR_ACTION, "bad_play",
                            "the payload must be {\"pieces\": [...]} with "
                            "%d to %d distinct piece ids such as \"R7a\"",
                            PILES_PLAY_MIN, PILES_PLAY_MAX);
    }
    int held = piles_hand_of(data, act->player, hand);
    if (count == NULL && n > held) {
        return pc_error_set(err, PC_ERR_ACTION, "wrong_count",
                            "you hold only %d pieces", held);
    }
    if (count != NULL && n != (int)count->valuedouble) {
        return pc_error_set(err, PC_ERR_ACTION, "wrong_count",
                            "this turn takes %d pieces from everyone",
                            (int)count->valuedouble);
    }
    for (int i = 0; i < n; i++) {
        bool found = false;
        for (int j = 0; j < held; j++) {
            found = found || hand[j] == pieces[i];
        }
        if (!found) {
            return pc_error_set(err, PC_ERR_ACTION, "not_in_hand",
                                "you named a piece that is not in your hand");
        }
    }
    piles_play p = piles_play_classify(pieces, (size_t)n);
    if (count == NULL && !p.valid) {
        return pc_error_set(err, PC_ERR_ACTION, "invalid_play",
                            "%d pieces must form a %s to lead", n,
                            n == 2 ? "pair (one rank)"
                                   : "straight (consecutive ranks)");
    }
    return play(room, arg, act->player, pieces, n, false);
}

/* The player did not play in time: the lead plays its lowest piece, a
 * follower its lowest pieces, as many as the lead played. */
static void turn_timeout(pc_room *room, void *arg)
{
    const cJSON *data = pc_room_data(room);
    const char *who = cJSON_GetStringValue(member(data, "to_act"));
    int hand[PILES_DECK];
    int held = piles_hand_of(data, who, hand);
    int n = piles_int_at(member(data, "turn"), "count");
    n = n == 0 ? 1 : n > held ? held : n;
    if (play(room, arg, who, hand, n, true) != PC_OK) {
        arm(room, PILES_RETRY_MS);
    }
}

static void turn_enter(pc_room *room, const char *from, void *arg)
{
    (void)from;
    arm(room, settings(arg).play_ms);
}

/* ---- TURN_RESULTS ------------------------------------------------------ */

/* After the pause: the winner leads the next turn, or the round is over. */
static pc_err next_turn(pc_room *room)
{
    const cJSON *data = pc_room_data(room);
    const cJSON *turn = member(data, "turn");
    piles_seats s = piles_seats_of(data);
    int hand[PILES_DECK], left = 0;
    for (int i = 0; i < s.n; i++) {
        left += piles_hand_of(data, s.name[i], hand);
    }
    int number = piles_int_at(turn, "number");
    char reason[128 + PILES_NAME_MAX];
    piles_patch p = piles_patch_new();
    if (left == 0) {
        snprintf(reason, sizeof reason, "round %d is over after %d turns",
                 piles_int_at(data, "round"), number);
        return TRANSITION(room, SCORING, p, reason);
    }
    const char *winner = cJSON_GetStringValue(member(turn, "winner"));
    cJSON *t = piles_object_at(&p, p.root, "turn");
    piles_put_int(&p, t, "number", number + 1);
    piles_put_str(&p, t, "lead", winner);
    piles_put_null(&p, t, "count");
    piles_put_null(&p, t, "type");
    piles_put_null(&p, t, "plays");
    piles_put_null(&p, t, "winner");
    piles_put_str(&p, p.root, "to_act", winner);
    snprintf(reason, sizeof reason, "turn %d: %s leads", number + 1, winner);
    return TRANSITION(room, TURN, p, reason);
}

static void results_enter(pc_room *room, const char *from, void *arg)
{
    (void)from;
    arm(room, settings(arg).results_ms);
}

static void results_timeout(pc_room *room, void *arg)
{
    (void)arg;
    if (next_turn(room) != PC_OK) {
        arm(room, PILES_RETRY_MS);
    }
}

/* ---- SCORING ----------------------------------------------------------- */

/* Commit the next scoring change still to be made this round, in seat
 * order: each player's points, then their bonus if they were exact.
 * Sets *done when there is none left. */
static pc_err score_next(pc_room *room, bool *done)
{
    const cJSON *data = pc_room_data(room);
    const cJSON *points = member(data, "round_points");
    const cJSON *bonus = member(data, "bonus");
    piles_seats s = piles_seats_of(data);
    char reason[128 + PILES_NAME_MAX];
    *done = false;
    for (int i = 0; i < s.n; i++) {
        const char *who = s.name[i];
        int d = piles_int_at(member(data, "declared"), who);
        int c = piles_int_at(member(data, "captured"), who);
        int score = piles_int_at(member(data, "scores"), who);
        piles_patch p = piles_patch_new();
        if (member(points, who) == NULL) {
            int pts = c == d ? d : -(c > d ? c - d : d - c);
            piles_put_int(&p, piles_object_at(&p, p.root, "scores"), who,
                          score + pts);
            piles_put_int(&p, piles_object_at(&p, p.root, "round_points"), who,
                          pts);
            snprintf(reason, sizeof reason,
                     "%s declared %d %s captured %d: %+d", who, d,
                     c == d ? "and" : "but", c, pts);
            return UPDATE(room, p, reason);
        }
        if (c == d && member(bonus, who) == NULL) {
            piles_put_int(&p, piles_object_at(&p, p.root, "scores"), who,
                          score + BONUS);
            piles_put_int(&p, piles_object_at(&p, p.root, "bonus"), who, BONUS);
            snprintf(reason, sizeof reason,
                     "perfect declaration bonus for %s: +%d", who, BONUS);
            return UPDATE(room, p, reason);
        }
        piles_patch_done(&p, PC_OK);
    }
    *done = true;
    return PC_OK;
}

static pc_err score_pending(pc_room *room)
{
    bool done = false;
    pc_err rc = PC_OK;
    while (rc == PC_OK && !done) {
        rc = score_next(room, &done);
    }
    return rc;
}

/* "alice", "alice and bob", "alice, bob and carol". */
static void names_text(const char *const *names, int n, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && len < cap; i++) {
        len += (size_t)snprintf(buf + len, cap - len, "%s%s",
                                i == 0       ? ""
                                : i == n - 1 ? " and "
                                             : ", ",
                                names[i]);
    }
}

/* After the pause: the next round, or the end of the game. */
static pc_err end_round(pc_room *room, void *arg)
{
    const cJSON *data = pc_room_data(room);
    piles_config cfg = settings(arg);
    piles_seats s = piles_seats_of(data);
    int round = piles_int_at(data, "round"), top = 0;
    const char *best[PILES_PLAYERS];
    int nbest = 0;
    for (int i = 0; i < s.n; i++) {
        int score = piles_int_at(member(data, "scores"), s.name[i]);
        if (i == 0 || score > top) {
            top = score;
            nbest = 0;
        }
        if (score == top) {
            best[nbest++] = s.name[i];
        }
    }
    char who[PILES_PLAYERS * (PILES_NAME_MAX + 8)];
    char reason[sizeof who + 128];
    names_text(best, nbest, who, sizeof who);
    piles_patch p = piles_patch_new();
    if (top >= cfg.target_score || round >= cfg.max_rounds) {
        piles_put(&p, p.root, "winners", cJSON_CreateStringArray(best, nbest));
        snprintf(reason, sizeof reason,
                 "game over after round %d: %s %s %d "
                 "points",
                 round, who, nbest == 1 ? "wins with" : "share the win with",
                 top);
        return TRANSITION(room, GAME_OVER, p, reason);
    }
    static const char *const cleared[] = {"declared", "captured", "turn",
                                          "round_points", "bonus"};
    for (size_t i = 0; i < sizeof cleared / sizeof cleared[0]; i++) {
        piles_put_null(&p, p.root, cleared[i]);
    }
    snprintf(reason, sizeof reason,
             "round %d scored, %s %s with %d; "
             "round %d next",
             round, who, nbest == 1 ? "leads" : "lead", top, round + 1);
    return TRANSITION(room, PREPARATION, p, reason);
}

/* The timer is armed before the scoring changes, so that its record is in
 * the change log first: a crash between two scores leaves a recovered
 * room in SCORING with its timer running, and the timeout makes the
 * scores still missing before ending the round. Armed after them, such a
 * crash left the room in SCORING with no timer and no action that could
 * move it on (docs/durability.md, "Known gaps"). */
static void scoring_enter(pc_room *room, const char *from, void *arg)
{
    (void)from;
    arm(room, settings(arg).scoring_ms);
    if (score_pending(room) != PC_OK) {
        arm(room, PILES_RETRY_MS);
    }
}

static void scoring_timeout(pc_room *room, void *arg)
{
    if (score_pending(room) != PC_OK || end_round(room, arg) != PC_OK) {
        arm(room, PILES_RETRY_MS);
    }
}

/* ---- Actions, in every phase ------------------------------------------- */

static pc_err on_action(pc_room *room, const pc_action *act, cJSON **result,
                        pc_error *err, void *arg)
{
    (void)result;
    bool declaring = strcmp(act->type, "declare") == 0;
    bool playing = strcmp(act->type, "play") == 0;
    if (strcmp(act->type, "join") == 0) {
        return join(room, act->player, err);
    }
    if (!declaring && !playing) {
        return pc_error_set(err, PC_ERR_ACTION, "unknown_action",
                            "piles has no action \"%s\"; try join, declare "
                            "or play",
                            act->type);
    }
    piles_seats s = piles_seats_of(pc_room_data(room));
    if (piles_seat_of(&s, act->player) < 0) {
        return pc_error_set(err, PC_ERR_ACTION, "not_a_player",
                            "%s is not seated in this room", act->player);
    }
    return declaring ? declare_action(room, act, err, arg)
                     : play_action(room, act, err, arg);
}

/* ---- The game table ---------------------------------------------------- */

static const pc_phase phases[] = {
    {.name = LOBBY, .action = on_action},
    {.name = PREPARATION,
     .enter = preparation_enter,
     .action = on_action,
     .timeout = preparation_timeout},
    {.name = DECLARATION,
     .enter = declaration_enter,
     .action = on_action,
     .timeout = declaration_timeout},
    {.name = TURN,
     .enter = turn_enter,
     .action = on_action,
     .timeout = turn_timeout},
    {.name = TURN_RESULTS,
     .enter = results_enter,
     .action = on_action,
     .timeout = results_timeout},
    {.name = SCORING,
     .enter = scoring_enter,
     .action = on_action,
     .timeout = scoring_timeout},
    {.name = GAME_OVER, .action = on_action},
};

static const char *const private_paths[] = {"/hands/{player}", NULL};

static const pc_game game = {
    .name = "piles",
    .phases = phases,
    .nphases = sizeof phases / sizeof phases[0],
    .initial_phase = LOBBY,
    .validate = piles_validate_state,
    .private_paths = private_paths,
};

const pc_game *piles_game(void)
{
    return &game;
}
