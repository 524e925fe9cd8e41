/*
 * test_replay_fixture.h - what test_replay.c and test_replay_input.c
 * share: a recorder that turns a room's committed changes into an export
 * (the base record and one change record per change, in the shape
 * phasecast-inspect export writes), deterministic piles and tictactoe
 * games driven by the games' bots on a fake clock, and helpers that write
 * an export to a file and run `import` on it, capturing what it prints.
 * Test code only: static inline helpers. Include it after cmocka.h.
 */
#ifndef PHASECAST_TESTS_REPLAY_FIXTURE_H
#define PHASECAST_TESTS_REPLAY_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "phasecast/canon.h"
#include "phasecast/change.h"
#include "phasecast/json.h"
#include "phasecast/merge.h"
#include "phasecast/room.h"
#include "piles/bot.h"
#include "piles/piles.h"
#include "tictactoe/bot.h"
#include "tictactoe/tictactoe.h"

#include "replay.h"

/* 2026-11-23T10:00:00Z, where the fake clock starts. */
#define RT0 1795428000000LL

static int64_t rnow = RT0;

static inline int64_t rclock(void *arg)
{
    (void)arg;
    return rnow;
}

/* A room being recorded, and the export made of it so far. */
typedef struct recorder {
    pc_room *room;
    cJSON *base;  /* the base record */
    cJSON *lines; /* the change records, in seq order */
    pc_cause cur; /* the stimulus being fed (first filled by the sink), to
                     check the framework's cause against */
} recorder;

static inline cJSON *rec_hex(uint64_t v)
{
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)v);
    return cJSON_CreateString(hex);
}

static inline const char *rec_cause_name(pc_cause_kind k)
{
    return k == PC_CAUSE_START     ? "start"
           : k == PC_CAUSE_ACTION  ? "action"
           : k == PC_CAUSE_TIMEOUT ? "timeout"
                                   : "host";
}

/* The cause the export writes for a change. */
static inline cJSON *rec_cause(const pc_cause *c)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "kind", rec_cause_name(c->kind));
    cJSON_AddNumberToObject(j, "first", (double)c->first_seq);
    if (c->kind == PC_CAUSE_ACTION) {
        cJSON_AddStringToObject(j, "player", c->player);
        cJSON_AddStringToObject(j, "type", c->type);
        cJSON_AddItemToObject(j, "payload",
                              c->payload != NULL
                                  ? cJSON_Duplicate(c->payload, true)
                                  : cJSON_CreateNull());
    } else if (c->kind == PC_CAUSE_TIMEOUT) {
        cJSON_AddStringToObject(j, "phase", c->phase);
    }
    return j;
}

/* The sink: one change record per committed change. */
static inline void rec_sink(pc_room *room, const pc_change *c, void *arg)
{
    recorder *r = arg;
    if (r->cur.first_seq == 0) {
        r->cur.first_seq = c->seq;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "type", "change");
    cJSON_AddNumberToObject(j, "seq", (double)c->seq);
    cJSON_AddNumberToObject(j, "time", (double)c->time_ms);
    cJSON_AddStringToObject(
        j, "kind", c->kind == PC_CHANGE_TRANSITION ? "transition" : "update");
    cJSON_AddStringToObject(j, "phase", c->phase);
    cJSON_AddStringToObject(j, "prev", c->prev_phase);
    cJSON_AddStringToObject(j, "reason", c->reason);
    cJSON_AddStringToObject(j, "file", c->file != NULL ? c->file : "");
    cJSON_AddNumberToObject(j, "line", c->line);
    cJSON_AddStringToObject(j, "func", c->func != NULL ? c->func : "");
    cJSON_AddNumberToObject(j, "draws", (double)pc_room_draws(room));
    cJSON_AddItemToObject(j, "sum", rec_hex(c->checksum));
    cJSON_AddNumberToObject(j, "bytes", (double)c->state_bytes);
    cJSON_AddItemToObject(j, "patch", cJSON_Duplicate(c->patch, true));
    /* The framework's cause, as the log and export write it; the driver
     * knows which stimulus it fed, so the two must agree. */
    assert_int_equal(c->cause.kind, r->cur.kind);
    assert_int_equal(c->cause.first_seq, r->cur.first_seq);
    cJSON_AddItemToObject(j, "cause", rec_cause(&c->cause));
    cJSON_AddItemToArray(r->lines, j);
}

/* The base record of room as it is now (deadline: null). */
static inline cJSON *rec_base_now(pc_room *room, const char *game)
{
    uint64_t sum = 0;
    size_t bytes = 0;
    assert_int_equal(pc_canon_checksum(pc_room_state(room), &sum, &bytes),
                     PC_OK);
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "type", "room");
    cJSON_AddNumberToObject(b, "format", 1);
    cJSON_AddStringToObject(b, "game", game);
    cJSON_AddStringToObject(b, "room", pc_room_id(room));
    cJSON_AddNumberToObject(b, "seq", (double)pc_room_seq(room));
    cJSON_AddItemToObject(b, "sum", rec_hex(sum));
    cJSON_AddNumberToObject(b, "bytes", (double)bytes);
    cJSON_AddItemToObject(b, "state",
                          cJSON_Duplicate(pc_room_state(room), true));
    cJSON_AddItemToObject(b, "seed", rec_hex(pc_room_seed(room)));
    cJSON_AddNumberToObject(b, "draws", (double)pc_room_draws(room));
    cJSON_AddNullToObject(b, "deadline");
    return b;
}

/* Open a recorded room of game (arg: its user pointer) and start it. */
static inline void rec_open(recorder *r, const pc_game *game, void *arg,
                            const char *id, uint64_t seed)
{
    pc_room_options ro;
    pc_room_options_init(&ro);
    ro.id = id;
    ro.seed = seed;
    ro.seed_set = true;
    ro.clock = rclock;
    ro.arg = arg;
    ro.history_capacity = 0;
    rnow = RT0;
    memset(r, 0, sizeof(*r));
    assert_int_equal(pc_room_new(game, &ro, &r->room), PC_OK);
    r->base = rec_base_now(r->room, game->name);
    r->lines = cJSON_CreateArray();
    assert_int_equal(pc_room_add_sink(r->room, rec_sink, r), PC_OK);
    r->cur = (pc_cause){.kind = PC_CAUSE_START};
    assert_int_equal(pc_room_start(r->room), PC_OK);
}

static inline void rec_act(recorder *r, const char *player, const char *type,
                           const cJSON *payload)
{
    r->cur = (pc_cause){.kind = PC_CAUSE_ACTION,
                        .player = player,
                        .type = type,
                        .payload = payload};
    pc_action a = {.player = player, .type = type, .payload = payload};
    pc_error err = {0};
    if (pc_room_action(r->room, &a, NULL, &err) != PC_OK) {
        fail_msg("%s's %s refused: %s", player, type, err.message);
    }
}

static inline void rec_fire(recorder *r)
{
    int64_t deadline = 0;
    assert_true(pc_room_timeout_deadline(r->room, &deadline));
    rnow = deadline > rnow ? deadline : rnow;
    r->cur =
        (pc_cause){.kind = PC_CAUSE_TIMEOUT, .phase = pc_room_phase(r->room)};
    assert_int_equal(pc_room_fire_timeout(r->room), PC_OK);
}

static inline uint64_t rec_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static const char *const RP[4] = {"alice", "bob", "carol", "dave"};

/* A whole piles game with cfg: four bots act as soon as they may, at
 * varying times; when nobody may, the clock jumps to the phase timer. */
static inline void rec_piles(recorder *r, piles_config *cfg, uint64_t seed)
{
    rec_open(r, piles_game(), cfg, "p1", seed);
    uint64_t bot = seed;
    for (size_t p = 0; p < 4; p++) {
        rnow += 1500;
        rec_act(r, RP[p], "join", NULL);
    }
    for (int steps = 0; steps < 100000; steps++) {
        if (strcmp(pc_room_phase(r->room), "GAME_OVER") == 0) {
            return;
        }
        bool acted = false;
        for (size_t p = 0; p < 4 && !acted; p++) {
            const char *type = NULL;
            cJSON *payload = NULL;
            if (piles_bot_choose(pc_room_state(r->room), RP[p],
                                 rec_splitmix(&bot), &type,
                                 &payload) != PC_OK) {
                continue;
            }
            rnow += 700 + (int64_t)(rec_splitmix(&bot) % 1800);
            rec_act(r, RP[p], type, payload);
            cJSON_Delete(payload);
            acted = true;
        }
        if (!acted) {
            rec_fire(r);
        }
    }
    fail_msg("no GAME_OVER");
}

/* A tictactoe game between two bots, then a host's update. */
static inline void rec_tictactoe(recorder *r, uint64_t seed)
{
    rec_open(r, tictactoe_game(), NULL, "t1", seed);
    uint64_t bot = seed;
    rnow += 1000;
    rec_act(r, "alice", "join", NULL);
    rnow += 1000;
    rec_act(r, "bob", "join", NULL);
    while (strcmp(pc_room_phase(r->room), "PLAYING") == 0) {
        const cJSON *turn =
            cJSON_GetObjectItemCaseSensitive(pc_room_data(r->room), "turn");
        int cell = -1;
        assert_int_equal(tictactoe_bot_move(pc_room_data(r->room),
                                            turn->valuestring,
                                            rec_splitmix(&bot), &cell),
                         PC_OK);
        cJSON *payload = cJSON_CreateObject();
        cJSON_AddNumberToObject(payload, "cell", cell);
        rnow += 900;
        rec_act(r, strcmp(turn->valuestring, "X") == 0 ? "alice" : "bob",
                "move", payload);
        cJSON_Delete(payload);
    }
    rnow += 5000;
    r->cur = (pc_cause){.kind = PC_CAUSE_HOST};
    assert_int_equal(pc_update_phase_text(r->room, "{\"note\":\"rematch?\"}",
                                          "the host leaves a note"),
                     PC_OK);
}

static inline void rec_close(recorder *r)
{
    pc_room_free(r->room);
    r->room = NULL;
}

static inline void rec_free(recorder *r)
{
    rec_close(r);
    cJSON_Delete(r->base);
    cJSON_Delete(r->lines);
    memset(r, 0, sizeof(*r));
}

/* ---- Files and runs ------------------------------------------------------ */

static char rdir[64];

static inline void rdir_make(void)
{
    snprintf(rdir, sizeof rdir, "/tmp/pc-replay-XXXXXX");
    assert_non_null(mkdtemp(rdir));
}

static inline void rdir_remove(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", rdir);
    assert_int_equal(system(cmd), 0);
}

/* Write base and lines (either may be NULL) as an export at path. */
static inline void write_export(const char *path, const cJSON *base,
                                const cJSON *lines)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    if (base != NULL) {
        char *s = cJSON_PrintUnformatted(base);
        fprintf(f, "%s\n", s);
        cJSON_free(s);
    }
    const cJSON *l;
    cJSON_ArrayForEach(l, lines)
    {
        char *s = cJSON_PrintUnformatted(l);
        fprintf(f, "%s\n", s);
        cJSON_free(s);
    }
    assert_int_equal(fclose(f), 0);
}

/* Write raw text at path. */
static inline void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* What one import printed, and its exit status. */
typedef struct run_out {
    int status;
    char *out; /* stdout */
    size_t olen;
    char *err; /* stderr */
    size_t elen;
    cJSON *doc; /* stdout parsed, when it is JSON */
} run_out;

/* Run import with the NULL-terminated words args. */
static inline void run_import(run_out *r, const char *const *args)
{
    memset(r, 0, sizeof(*r));
    int argc = 0;
    char *argv[32];
    for (; args[argc] != NULL; argc++) {
        argv[argc] = (char *)args[argc];
    }
    FILE *fo = open_memstream(&r->out, &r->olen);
    FILE *fe = open_memstream(&r->err, &r->elen);
    assert_non_null(fo);
    assert_non_null(fe);
    insp_out o = {fo, fe, false, false};
    r->status = insp_import(&o, argc, argv);
    fclose(fo);
    fclose(fe);
    r->doc = cJSON_Parse(r->out);
}

static inline void run_free(run_out *r)
{
    free(r->out);
    free(r->err);
    cJSON_Delete(r->doc);
    memset(r, 0, sizeof(*r));
}

/* The divergence's member k (a number) in a --json run. */
static inline double div_num(const run_out *r, const char *k)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(r->doc, "divergence");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, k);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static inline const char *div_str(const run_out *r, const char *k)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(r->doc, "divergence");
    const char *v =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, k));
    assert_non_null(v);
    return v;
}

/* The record with seq s in lines. */
static inline cJSON *line_at(const cJSON *lines, uint64_t s)
{
    cJSON *l;
    cJSON_ArrayForEach(l, lines)
    {
        if ((uint64_t)cJSON_GetObjectItemCaseSensitive(l, "seq")->valuedouble ==
            s) {
            return l;
        }
    }
    fail_msg("no record of seq %llu", (unsigned long long)s);
    return NULL;
}

/* A base record at seq k, built from r's records: the state after k
 * (the base's state with patches 1..k), the draws of record k, no timer. */
static inline cJSON *base_at(const recorder *r, uint64_t k)
{
    cJSON *b = cJSON_Duplicate(r->base, true);
    cJSON *state = cJSON_GetObjectItemCaseSensitive(b, "state");
    for (uint64_t s = 1; s <= k; s++) {
        const cJSON *l = line_at(r->lines, s);
        cJSON *data = cJSON_GetObjectItemCaseSensitive(state, "data");
        assert_int_equal(
            pc_merge_patch_inplace(
                data, cJSON_GetObjectItemCaseSensitive(l, "patch")),
            PC_OK);
        cJSON_ReplaceItemInObjectCaseSensitive(
            state, "phase",
            cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(l, "phase"), 1));
        cJSON_ReplaceItemInObjectCaseSensitive(
            b, "draws",
            cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(l, "draws"), 1));
    }
    uint64_t sum = 0;
    size_t bytes = 0;
    assert_int_equal(pc_canon_checksum(state, &sum, &bytes), PC_OK);
    cJSON_ReplaceItemInObjectCaseSensitive(b, "seq",
                                           cJSON_CreateNumber((double)k));
    cJSON_ReplaceItemInObjectCaseSensitive(b, "sum", rec_hex(sum));
    cJSON_ReplaceItemInObjectCaseSensitive(b, "bytes",
                                           cJSON_CreateNumber((double)bytes));
    return b;
}

/* The records after seq k (a new array). */
static inline cJSON *lines_after(const cJSON *lines, uint64_t k)
{
    cJSON *out = cJSON_CreateArray();
    const cJSON *l;
    cJSON_ArrayForEach(l, lines)
    {
        if (cJSON_GetObjectItemCaseSensitive(l, "seq")->valuedouble >
            (double)k) {
            cJSON_AddItemToArray(out, cJSON_Duplicate(l, true));
        }
    }
    return out;
}

/* The cause.first of a record. */
static inline uint64_t first_of(const cJSON *l)
{
    return (uint64_t)pc_json_pointer_get(l, "/cause/first")->valuedouble;
}

#endif
