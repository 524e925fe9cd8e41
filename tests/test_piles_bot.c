/*
 * test_piles_bot.c - the piles pieces and plays (rules.h), the bot, whole
 * games of four bots for many seeds, what every viewer sees of them, and
 * replay: the same seed and the same actions give the same final state.
 * Framework only, on an injected clock; no allocation is left alive.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/alloc.h"
#include "phasecast/change.h"
#include "phasecast/error.h"
#include "phasecast/json.h"
#include "phasecast/room.h"
#include "phasecast/view.h"
#include "piles/bot.h"
#include "piles/piles.h"
#include "piles/rules.h"
#include "testalloc.h"

#define SEEDS      40 /* games of four bots per test (3 under valgrind) */
#define MAX_STEPS  20000
#define LOG_MAX    4000 /* recorded steps of one game */
#define ACTION_MAX 160

static const char *const P[PILES_PLAYERS] = {"alice", "bob", "carol", "dave"};
static int64_t now;

static int64_t fake_clock(void *arg)
{
    (void)arg;
    return now;
}

/* splitmix64: the bots' own randomness, apart from the room's PRNG, so
 * that a replay without bots draws the same deals. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Whether text holds a piece id in hand form: as an object key, "R7a":. */
static bool has_hand_form(const char *text)
{
    for (const char *q = strchr(text, '"'); q != NULL; q = strchr(q + 1, '"')) {
        char id[PILES_ID_SIZE] = {0};
        for (int i = 0; i < 3 && q[1 + i] != '\0'; i++) {
            id[i] = q[1 + i];
        }
        if (piles_piece_parse(id) >= 0 && q[4] == '"' && q[5] == ':') {
            return true;
        }
    }
    return false;
}

/* ---- rules ------------------------------------------------------------ */

static piles_play classify(const char *ids)
{
    int pieces[16], n = 0;
    char copy[64];
    snprintf(copy, sizeof copy, "%s", ids);
    for (char *id = strtok(copy, " "); id; id = strtok(NULL, " ")) {
        pieces[n] = piles_piece_parse(id);
        assert_true(pieces[n++] >= 0);
    }
    return piles_play_classify(pieces, (size_t)n);
}

static void test_every_piece_id_round_trips_in_deck_order(void **s)
{
    (void)s;
    static const char *const first[] = {"R1a", "R1b", "B1a", "B1b", "R2a"};
    for (int i = 0; i < PILES_DECK; i++) {
        char id[PILES_ID_SIZE];
        piles_piece_id(i, id);
        assert_int_equal(piles_piece_parse(id), i);
        if (i < 5) {
            assert_string_equal(id, first[i]);
        }
    }
    static const char *const bad[] = {"",    "R1",   "R0a", "R9a", "G1a",
                                      "R1c", "R1aa", "r1a", "1Ra", " R1a"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(piles_piece_parse(bad[i]), -1);
    }
    assert_int_equal(piles_piece_parse(NULL), -1);
}

static void test_each_count_calls_for_one_kind(void **s)
{
    (void)s;
    piles_play p = classify("B6a");
    assert_true(p.valid && p.kind == PILES_SINGLE && p.strength == 6);
    p = classify("R6a B6b");
    assert_true(p.valid && p.kind == PILES_PAIR && p.strength == 6);
    p = classify("R6a B7b");
    assert_true(!p.valid && p.kind == PILES_PAIR);
    p = classify("R3a B5b R4b");
    assert_true(p.valid && !p.flush && p.kind == PILES_STRAIGHT);
    assert_int_equal(p.strength, 5);
    p = classify("B3a B4b B5b B6a B7a B8b");
    assert_true(p.valid && p.flush && p.strength == 8 + PILES_RANKS);
    assert_false(classify("R3a R5a R6a").valid);
    assert_false(classify("R3a R3b R4a").valid);
    assert_string_equal(piles_play_name(&p), "flush straight");
    p = classify("R3a R5a R6a");
    assert_string_equal(piles_play_name(&p), "discard");
    assert_int_equal(piles_play_classify(NULL, 0).kind, 0);
    assert_int_equal(piles_kind_for(7), 0);
}

static void test_only_a_stronger_valid_play_of_the_same_count_beats(void **s)
{
    (void)s;
    piles_play r5 = classify("R5a"), b5 = classify("B5a"), r7 = classify("R7a");
    piles_play pair = classify("R2a R2b"), junk = classify("R8a B7a");
    assert_true(piles_play_beats(&r7, &r5));
    assert_false(piles_play_beats(&b5, &r5)); /* a tie is no win */
    assert_false(piles_play_beats(&pair, &r5));
    assert_false(piles_play_beats(&junk, &pair));
    assert_true(piles_play_beats(&pair, &junk));
    piles_play plain = classify("R6a B7a R8b"), flush = classify("R1a R2a R3a");
    assert_true(piles_play_beats(&flush, &plain));
}

static void test_the_hand_form_scanner_finds_hands_and_only_hands(void **s)
{
    (void)s;
    assert_true(has_hand_form("{\"hands\":{\"a\":{\"B8b\":true}}}"));
    assert_true(has_hand_form("{\"R1a\":true}"));
    assert_false(has_hand_form("{\"hands\":{},\"plays\":[\"R1a\"]}"));
    assert_false(has_hand_form("alice leads single R1a"));
    assert_false(has_hand_form("{\"R9a\":1,\"R1\":2,\"R1ab\":3}"));
    assert_false(has_hand_form("\"R1"));
}

/* ---- the bot on hand-made documents ----------------------------------- */

/* A DECLARATION or TURN document for alice. */
static cJSON *doc(const char *phase, const char *hand, const char *rest)
{
    char text[1024], members[256] = "";
    char copy[64];
    snprintf(copy, sizeof copy, "%s", hand);
    size_t len = 0;
    for (char *id = strtok(copy, " "); id; id = strtok(NULL, " ")) {
        len += (size_t)snprintf(members + len, sizeof members - len,
                                "%s\"%s\":true", len ? "," : "", id);
    }
    snprintf(text, sizeof text,
             "{\"phase\":\"%s\",\"data\":{\"players\":[\"alice\",\"bob\","
             "\"carol\",\"dave\"],\"to_act\":\"alice\",\"hands\":{\"alice\":"
             "{%s}}%s}}",
             phase, members, rest);
    cJSON *d = cJSON_Parse(text);
    assert_non_null(d);
    return d;
}

static void bot_pieces(const cJSON *d, uint64_t rnd, char *out, size_t cap)
{
    int pieces[PILES_PLAY_MAX], n = 0;
    assert_int_equal(piles_bot_play(cJSON_GetObjectItem(d, "data"), "alice",
                                    rnd, pieces, &n),
                     PC_OK);
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        char id[PILES_ID_SIZE];
        piles_piece_id(pieces[i], id);
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? " " : "", id);
    }
}

static void test_bot_declares_its_high_pieces_and_avoids_a_total_of_8(void **s)
{
    (void)s;
    cJSON *d = doc("DECLARATION", "R8a R8b B8a R7a B7a R1a R2a R3a", "");
    const cJSON *data = cJSON_GetObjectItem(d, "data");
    int n = -1;
    assert_int_equal(piles_bot_declare(data, "alice", 1, &n), PC_OK);
    assert_int_equal(n, 4); /* three 8s and two halves */
    assert_int_equal(piles_bot_declare(data, "alice", 3, &n), PC_OK);
    assert_int_equal(n, 5); /* a greedy extra on random_value % 3 == 0 */
    cJSON_Delete(d);
    d = doc("DECLARATION", "R8a R8b B8a R7a B7a R1a R2a R3a",
            ",\"declared\":{\"bob\":2,\"carol\":1,\"dave\":1}");
    for (uint64_t r = 0; r < 64; r++) {
        assert_int_equal(
            piles_bot_declare(cJSON_GetObjectItem(d, "data"), "alice", r, &n),
            PC_OK);
        assert_true(n >= 0 && n <= PILES_HAND && n + 4 != PILES_HAND);
    }
    assert_int_equal(
        piles_bot_declare(cJSON_GetObjectItem(d, "data"), "bob", 0, &n),
        PC_ERR_INVALID);
    cJSON_Delete(d);
}

static void test_bot_plays_to_reach_its_declaration_and_no_further(void **s)
{
    (void)s;
    char got[64];
    /* Needs 1: leads a single among its strongest. */
    cJSON *d = doc("TURN", "R1a R2a R3a B8b",
                   ",\"declared\":{\"alice\":1},\"captured\":{\"alice\":0},"
                   "\"turn\":{\"number\":1,\"lead\":\"alice\"}");
    bot_pieces(d, 0, got, sizeof got);
    assert_string_equal(got, "B8b");
    cJSON_Delete(d);
    /* Has what it declared: leads its lowest piece. */
    d = doc("TURN", "R1a R2a R3a B8b",
            ",\"declared\":{\"alice\":1},\"captured\":{\"alice\":1},"
            "\"turn\":{\"number\":2,\"lead\":\"alice\"}");
    bot_pieces(d, 0, got, sizeof got);
    assert_string_equal(got, "R1a");
    cJSON_Delete(d);
    /* Following a pair of 5s while short: the weakest pair that beats it. */
    d = doc("TURN", "R1a R6a R6b B7a B7b R8a",
            ",\"declared\":{\"alice\":3},\"captured\":{\"alice\":0},"
            "\"turn\":{\"number\":1,\"lead\":\"bob\",\"count\":2,"
            "\"type\":\"pair\",\"plays\":{\"bob\":[\"R5a\",\"R5b\"]}}");
    bot_pieces(d, 0, got, sizeof got);
    assert_string_equal(got, "R6a R6b");
    cJSON_Delete(d);
    /* ... and its lowest two once it has enough. */
    d = doc("TURN", "R1a R6a R6b B7a B7b R8a",
            ",\"declared\":{\"alice\":0},\"captured\":{\"alice\":0},"
            "\"turn\":{\"number\":1,\"lead\":\"bob\",\"count\":2,"
            "\"type\":\"pair\",\"plays\":{\"bob\":[\"R5a\",\"R5b\"]}}");
    bot_pieces(d, 0, got, sizeof got);
    assert_string_equal(got, "R1a R6a");
    cJSON_Delete(d);
}

static void test_bot_has_nothing_to_do_out_of_its_move(void **s)
{
    (void)s;
    cJSON *d = doc("TURN", "R1a", ",\"turn\":{\"number\":1,\"lead\":\"x\"}");
    const char *type = NULL;
    cJSON *payload = NULL;
    assert_int_equal(piles_bot_choose(d, "bob", 0, &type, &payload),
                     PC_ERR_NOT_FOUND);
    assert_int_equal(piles_bot_choose(d, "alice", 0, &type, &payload), PC_OK);
    assert_string_equal(type, "play");
    char *text = cJSON_PrintUnformatted(payload);
    assert_string_equal(text, "{\"pieces\":[\"R1a\"]}");
    cJSON_free(text);
    cJSON_Delete(payload);
    cJSON_Delete(d);
    d = doc("SCORING", "", "");
    assert_int_equal(piles_bot_choose(d, "alice", 0, &type, &payload),
                     PC_ERR_NOT_FOUND);
    cJSON_Delete(d);
    d = cJSON_Parse("{\"phase\":\"TURN\",\"data\":{\"to_act\":\"alice\","
                    "\"hands\":[1,2]}}");
    assert_int_equal(piles_bot_choose(d, "alice", 0, &type, &payload),
                     PC_ERR_INVALID);
    cJSON_Delete(d);
    assert_int_equal(piles_bot_choose(NULL, "alice", 0, &type, &payload),
                     PC_ERR_INVALID);
}

/* ---- whole games ------------------------------------------------------ */

/* One step of a game: an action (player set) or a timer fired at time. */
typedef struct step {
    int64_t time;
    int player; /* index into P, or -1 for a timer */
    char type[8];
    char payload[ACTION_MAX];
} step;

/* A game and what every viewer saw of it. */
typedef struct game {
    pc_room *room;
    int changes;
    int leaks;    /* public texts or reasons with a piece in hand form */
    int rounds;   /* SCORING entered */
    int bad_sums; /* rounds whose captured piles were not 8 */
    step *log;
    int nlog;
} game;

/* The sink: what a spectator and each player would be sent. */
static void watch(pc_room *room, const pc_change *c, void *arg)
{
    game *g = arg;
    g->changes++;
    cJSON *view = NULL;
    char *text = NULL;
    assert_int_equal(
        pc_view_patch(pc_room_game(room), c->patch, NULL, &view, NULL), PC_OK);
    text = cJSON_PrintUnformatted(view);
    g->leaks += has_hand_form(text) + has_hand_form(c->reason);
    cJSON_free(text);
    cJSON_Delete(view);
    assert_int_equal(
        pc_view_state(pc_room_game(room), pc_room_state(room), NULL, &view),
        PC_OK);
    text = cJSON_PrintUnformatted(view);
    g->leaks += has_hand_form(text);
    cJSON_free(text);
    cJSON_Delete(view);
    if (c->kind == PC_CHANGE_TRANSITION && strcmp(c->phase, "SCORING") == 0) {
        int sum = 0;
        const cJSON *n;
        g->rounds++;
        cJSON_ArrayForEach(n,
                           pc_json_pointer_get(pc_room_data(room), "/captured"))
        {
            sum += (int)n->valuedouble;
        }
        g->bad_sums += sum != PILES_HAND;
    }
}

/* Each player's view holds its own hand, whole, and no other. */
static void assert_player_views(pc_room *room)
{
    for (int i = 0; i < PILES_PLAYERS; i++) {
        cJSON *view = NULL;
        assert_int_equal(
            pc_view_state(pc_room_game(room), pc_room_state(room), P[i], &view),
            PC_OK);
        const cJSON *hands = pc_json_pointer_get(view, "/data/hands"), *h;
        assert_non_null(cJSON_GetObjectItemCaseSensitive(hands, P[i]));
        cJSON_ArrayForEach(h, hands)
        {
            assert_string_equal(h->string, P[i]);
            char ptr[32];
            snprintf(ptr, sizeof ptr, "/hands/%s", P[i]);
            assert_int_equal(cJSON_GetArraySize(h),
                             cJSON_GetArraySize(
                                 pc_json_pointer_get(pc_room_data(room), ptr)));
        }
        cJSON_Delete(view);
    }
}

static void open_game(game *g, uint64_t seed, const piles_config *cfg)
{
    pc_room_options opts;
    pc_room_options_init(&opts);
    opts.seed = seed;
    opts.seed_set = true;
    opts.clock = fake_clock;
    opts.arg = (void *)cfg;
    opts.history_capacity = 0;
    now = 1700000000000LL;
    assert_int_equal(pc_room_new(piles_game(), &opts, &g->room), PC_OK);
    assert_int_equal(pc_room_add_sink(g->room, watch, g), PC_OK);
    assert_int_equal(pc_room_start(g->room), PC_OK);
}

static void record(game *g, int player, const char *type, const cJSON *p)
{
    if (g->log == NULL || g->nlog >= LOG_MAX) {
        return;
    }
    step *st = &g->log[g->nlog++];
    st->time = now;
    st->player = player;
    snprintf(st->type, sizeof st->type, "%s", type);
    char *text = p != NULL ? cJSON_PrintUnformatted(p) : NULL;
    snprintf(st->payload, sizeof st->payload, "%s", text ? text : "");
    cJSON_free(text);
}

static void act(game *g, int player, const char *type, const cJSON *payload)
{
    pc_action a = {.player = P[player], .type = type, .payload = payload};
    pc_error err = {0};
    if (pc_room_action(g->room, &a, NULL, &err) != PC_OK) {
        fail_msg("bot %s %s refused: %s (%s)", P[player], type, err.code,
                 err.message);
    }
    record(g, player, type, payload);
}

/* Four bots play a whole game: whoever is to act acts at once, and when
 * nobody is (pauses) the clock jumps to the phase timer. */
static void bot_game(game *g, uint64_t seed, const piles_config *cfg)
{
    uint64_t rng = seed * 7919;
    open_game(g, seed, cfg);
    for (int i = 0; i < PILES_PLAYERS; i++) {
        act(g, i, "join", NULL);
    }
    for (int steps = 0; steps < MAX_STEPS; steps++) {
        if (strcmp(pc_room_phase(g->room), "GAME_OVER") == 0) {
            return;
        }
        const char *type = NULL;
        cJSON *payload = NULL;
        int who = -1;
        for (int i = 0; i < PILES_PLAYERS && who < 0; i++) {
            pc_err rc = piles_bot_choose(pc_room_state(g->room), P[i],
                                         next_random(&rng), &type, &payload);
            assert_true(rc == PC_OK || rc == PC_ERR_NOT_FOUND);
            who = rc == PC_OK ? i : -1;
        }
        if (who >= 0) {
            act(g, who, type, payload);
            cJSON_Delete(payload);
            continue;
        }
        if (strcmp(pc_room_phase(g->room), "TURN_RESULTS") == 0) {
            assert_player_views(g->room);
        }
        int64_t deadline = 0;
        assert_true(pc_room_timeout_deadline(g->room, &deadline));
        now = deadline;
        record(g, -1, "", NULL);
        assert_int_equal(pc_room_fire_timeout(g->room), PC_OK);
    }
    fail_msg("seed %llu: no GAME_OVER after %d steps", (unsigned long long)seed,
             MAX_STEPS);
}

static void test_four_bots_play_legal_whole_games_for_many_seeds(void **s)
{
    (void)s;
    piles_config cfg;
    piles_config_init(&cfg);
    uint64_t seeds = getenv("PHASECAST_VALGRIND") != NULL ? 3 : SEEDS;
    for (uint64_t seed = 1; seed <= seeds; seed++) {
        game g = {0};
        bot_game(&g, seed, &cfg);
        assert_int_equal(g.changes, (int)pc_room_seq(g.room));
        assert_int_equal(g.leaks, 0);
        assert_int_equal(g.bad_sums, 0);
        const cJSON *round =
            pc_json_pointer_get(pc_room_data(g.room), "/round");
        assert_int_equal(g.rounds, (int)round->valuedouble);
        assert_true(g.rounds <= PILES_ROUNDS_DEFAULT);
        assert_non_null(
            pc_json_pointer_get(pc_room_data(g.room), "/winners/0"));
        pc_room_free(g.room);
    }
}

static void test_short_settings_end_games_after_their_last_round(void **s)
{
    (void)s;
    piles_config cfg;
    piles_config_init(&cfg);
    cfg.max_rounds = 2;
    cfg.deal_ms = cfg.results_ms = cfg.scoring_ms = 0;
    game g = {0};
    bot_game(&g, 5, &cfg);
    assert_int_equal(g.rounds, 2);
    pc_room_free(g.room);
}

/* Replay a recorded game in a fresh room: same actions at the same times,
 * no bots. */
static void replay(game *g, uint64_t seed, const piles_config *cfg,
                   const step *log, int nlog)
{
    open_game(g, seed, cfg);
    for (int i = 0; i < nlog; i++) {
        now = log[i].time;
        if (log[i].player < 0) {
            assert_int_equal(pc_room_fire_timeout(g->room), PC_OK);
            continue;
        }
        cJSON *payload = log[i].payload[0] ? cJSON_Parse(log[i].payload) : NULL;
        act(g, log[i].player, log[i].type, payload);
        cJSON_Delete(payload);
    }
}

static void test_same_seed_and_actions_replay_to_the_same_state(void **s)
{
    (void)s;
    piles_config cfg;
    piles_config_init(&cfg);
    step *log = pc_malloc(LOG_MAX * sizeof *log);
    assert_non_null(log);
    game first = {.log = log}, again = {0};
    bot_game(&first, 11, &cfg);
    assert_true(first.nlog < LOG_MAX);
    replay(&again, 11, &cfg, log, first.nlog);
    assert_string_equal(pc_room_phase(again.room), "GAME_OVER");
    assert_int_equal(pc_room_seq(again.room), pc_room_seq(first.room));
    assert_int_equal(pc_room_checksum(again.room),
                     pc_room_checksum(first.room));
    assert_true(
        pc_json_equal(pc_room_state(again.room), pc_room_state(first.room)));
    pc_room_free(first.room);
    pc_room_free(again.room);
    pc_free(log);
}

static void test_a_bot_acting_on_a_stale_state_is_refused_harmlessly(void **s)
{
    (void)s;
    piles_config cfg;
    piles_config_init(&cfg);
    game g = {0};
    open_game(&g, 3, &cfg);
    for (int i = 0; i < PILES_PLAYERS; i++) {
        act(&g, i, "join", NULL);
    }
    now += cfg.deal_ms;
    assert_int_equal(pc_room_fire_timeout(g.room), PC_OK);
    cJSON *stale = cJSON_Duplicate(pc_room_state(g.room), true);
    const char *first =
        cJSON_GetStringValue(pc_json_pointer_get(stale, "/data/to_act"));
    int who = 0;
    while (strcmp(P[who], first) != 0) {
        who++;
    }
    const char *type = NULL;
    cJSON *payload = NULL;
    assert_int_equal(piles_bot_choose(stale, P[who], 1, &type, &payload),
                     PC_OK);
    act(&g, who, type, payload);
    uint64_t seq = pc_room_seq(g.room);
    pc_action a = {.player = P[who], .type = type, .payload = payload};
    pc_error err = {0};
    assert_int_equal(pc_room_action(g.room, &a, NULL, &err), PC_ERR_ACTION);
    assert_string_equal(err.code, "not_your_turn");
    assert_int_equal(pc_room_seq(g.room), seq);
    cJSON_Delete(payload);
    cJSON_Delete(stale);
    pc_room_free(g.room);
}

#define T(f)                                                                   \
    cmocka_unit_test_setup_teardown(f, testalloc_setup, testalloc_teardown)
int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_every_piece_id_round_trips_in_deck_order),
        T(test_each_count_calls_for_one_kind),
        T(test_only_a_stronger_valid_play_of_the_same_count_beats),
        T(test_the_hand_form_scanner_finds_hands_and_only_hands),
        T(test_bot_declares_its_high_pieces_and_avoids_a_total_of_8),
        T(test_bot_plays_to_reach_its_declaration_and_no_further),
        T(test_bot_has_nothing_to_do_out_of_its_move),
        T(test_four_bots_play_legal_whole_games_for_many_seeds),
        T(test_short_settings_end_games_after_their_last_round),
        T(test_same_seed_and_actions_replay_to_the_same_state),
        T(test_a_bot_acting_on_a_stale_state_is_refused_harmlessly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
