/*
 * replay.c - phasecast-inspect import (see replay.h): a room of the game
 * is rebuilt from the export's base record and fed the export's stimuli
 * again; a sink compares every change it commits with the record of the
 * same seq, and the first difference is reported with the field-level
 * diff of the state the export says against the state the replay made.
 *
 * The walk, one stimulus (a group of records with the same cause.first)
 * at a time:
 *
 *   base seq 0 ---> pc_room_new ----> start group? pc_room_start
 *   base seq N ---> pc_room_restore -> pc_room_start (no changes expected)
 *        |
 *        v
 *   set the clock to the group's first time, inject the stimulus:
 *     action  -> pc_room_action          timeout -> pc_room_fire_timeout
 *     host    -> pc_update_phase_data_at / pc_transition_at (the record's)
 *   the sink compares each change; then: as many changes as records?
 *        |
 *        +-- all equal: next group        +-- else: the divergence, stop
 *
 * Only one divergence is reported, the first: after it the replay and the
 * export no longer describe the same game. Nothing here writes a file.
 */
#include "replay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "phasecast/canon.h"
#include "phasecast/json.h"
#include "phasecast/merge.h"
#include "phasecast/room.h"
#include "encounter/encounter.h"
#include "piles/piles.h"
#include "tictactoe/tictactoe.h"

#include "exportfile.h"
#include "replay_impl.h"
#include "replay_report.h"

/* The games a replay can run, by the name their records carry. */
static const struct {
    const char *name;
    const pc_game *(*game)(void);
} games[] = {{"tictactoe", tictactoe_game},
             {"piles", piles_game},
             {"encounter", encounter_game}};

/* The games' settings from the command line: only the game whose options
 * were given (given, NULL when none) may be replayed with them. */
typedef struct game_opts {
    piles_config piles;
    encounter_config encounter;
    const pc_game *given;
} game_opts;

/* ---- Gathering stimuli ----------------------------------------------------
 */

/* Read the record after the current one into rp->next. */
static pc_err fetch(replay *rp, pc_error *err)
{
    pc_err rv = insp_export_read(&rp->rd, &rp->next, err);
    rp->has_next = rv == PC_OK;
    return rv == PC_ERR_NOT_FOUND ? PC_OK : rv;
}

static void group_clear(replay *rp)
{
    for (size_t i = 0; i < rp->ngrp; i++) {
        insp_export_rec_fini(&rp->grp[i]);
    }
    rp->ngrp = 0;
}

static pc_err group_push(replay *rp)
{
    if (rp->ngrp == rp->capgrp) {
        size_t cap = rp->capgrp == 0 ? 8 : rp->capgrp * 2;
        insp_export_rec *g = realloc(rp->grp, cap * sizeof(*g));
        if (g == NULL) {
            return PC_ERR_NOMEM;
        }
        rp->grp = g;
        rp->capgrp = cap;
    }
    rp->grp[rp->ngrp++] = rp->next;
    memset(&rp->next, 0, sizeof(rp->next));
    rp->has_next = false;
    rp->seq++;
    return PC_OK;
}

/* Move the next stimulus' records into rp->grp. Returns PC_OK with a
 * group, PC_ERR_NOT_FOUND at the end (or at a gap: rp->gap), or an error
 * in err. */
static pc_err gather(replay *rp, pc_error *err)
{
    group_clear(rp);
    if (!rp->has_next) {
        return PC_ERR_NOT_FOUND;
    }
    const insp_export_rec *n = &rp->next;
    if (n->seq != rp->seq + 1) {
        rp->gap = true;
        return PC_ERR_NOT_FOUND;
    }
    if (n->first != n->seq) {
        return pc_error_set(err, PC_ERR_INVALID, "bad_export",
                            "line %zu: seq %llu says the stimulus that made "
                            "it began at seq %llu, but seq %llu before it "
                            "is not part of that stimulus",
                            n->line, (unsigned long long)n->seq,
                            (unsigned long long)n->first,
                            (unsigned long long)rp->seq);
    }
    pc_err rv = group_push(rp);
    while (rv == PC_OK && (rv = fetch(rp, err)) == PC_OK && rp->has_next &&
           n->first == rp->grp[0].seq && n->seq == rp->seq + 1) {
        if (n->ckind != rp->grp[0].ckind) {
            return pc_error_set(err, PC_ERR_INVALID, "bad_export",
                                "line %zu: seq %llu's cause is a %s, but "
                                "seq %llu, where it began, says %s",
                                n->line, (unsigned long long)n->seq,
                                insp_cause_name(n->ckind),
                                (unsigned long long)rp->grp[0].seq,
                                insp_cause_name(rp->grp[0].ckind));
        }
        rv = group_push(rp);
    }
    return rv == PC_ERR_NOMEM ? pc_error_set(err, rv, NULL, "out of memory")
                              : rv;
}

/* ---- The base -------------------------------------------------------------
 */

/*
 * Records at the start of the export that a stimulus made before the
 * export began cannot be replayed (their stimulus is not in the file):
 * apply them to the base as recorded, each checked against its checksum,
 * and start the replay after them. The phase timer is then unknown.
 */
static pc_err skip_partial(replay *rp, insp_export_base *b, pc_error *err)
{
    pc_err rv = PC_OK;
    while (rv == PC_OK && rp->has_next && rp->next.seq == rp->seq + 1 &&
           rp->next.first <= b->seq) {
        const insp_export_rec *n = &rp->next;
        cJSON *data = cJSON_GetObjectItemCaseSensitive(b->state, "data");
        cJSON *phase = cJSON_CreateString(n->phase);
        uint64_t sum = 0;
        size_t bytes = 0;
        if (phase == NULL || pc_merge_patch_inplace(data, n->patch) != PC_OK ||
            !cJSON_ReplaceItemInObjectCaseSensitive(b->state, "phase", phase)) {
            cJSON_Delete(phase);
            return pc_error_set(err, PC_ERR_NOMEM, NULL, "out of memory");
        }
        if (pc_canon_checksum(b->state, &sum, &bytes) != PC_OK ||
            sum != n->sum) {
            return pc_error_set(err, PC_ERR_INVALID, "bad_export",
                                "line %zu: seq %llu's patch does not give "
                                "the checksum it records",
                                n->line, (unsigned long long)n->seq);
        }
        if (n->draws > INSP_EXPORT_DRAWS_MAX) {
            return pc_error_set(err, PC_ERR_INVALID, "bad_export",
                                "line %zu: \"draws\" is more than this tool "
                                "replays",
                                n->line);
        }
        b->seq = rp->seq = n->seq;
        b->sum = sum;
        b->bytes = bytes;
        b->draws = n->draws;
        b->timer = false;
        rp->applied_from = rp->applied_from != 0 ? rp->applied_from : n->seq;
        rp->applied_to = n->seq;
        insp_export_rec_fini(&rp->next);
        rv = fetch(rp, err);
    }
    return rv;
}

/* Create the room the replay drives: new at seq 0, else restored. */
static pc_err open_room(replay *rp, const pc_game *game, void *arg,
                        const insp_export_base *b, pc_error *err)
{
    pc_room_options ro;
    pc_room_options_init(&ro);
    ro.id = b->room;
    ro.history_capacity = 0;
    ro.seed = b->seed;
    ro.seed_set = true;
    ro.clock = insp_replay_clock;
    ro.clock_arg = rp;
    ro.arg = arg;
    /* Everything in the export was accepted once: limits as wide as the
     * export's own lines, so the replay refuses nothing for its size. */
    ro.limits.max_depth = PC_JSON_DEPTH_CEILING;
    ro.limits.max_string = INSP_EXPORT_LINE_MAX;
    ro.limits.max_nodes = INSP_EXPORT_LINE_MAX;
    ro.limits.max_bytes = INSP_EXPORT_LINE_MAX;
    ro.limits.max_state_bytes = 4 * INSP_EXPORT_LINE_MAX;
    pc_err rv;
    if (b->seq == 0) {
        rv = pc_room_new(game, &ro, &rp->room);
    } else {
        pc_room_image im = {.state = b->state,
                            .seq = b->seq,
                            .seed = b->seed,
                            .draws = b->draws,
                            .timer = b->timer,
                            .deadline_ms = b->deadline_ms};
        rv = pc_room_restore(game, &ro, &im, &rp->room);
    }
    const char *ph = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(b->state, "phase"));
    switch (rv) {
    case PC_OK:
        break;
    case PC_ERR_NOMEM:
        return pc_error_set(err, rv, NULL, "out of memory");
    case PC_ERR_PHASE:
        return pc_error_set(err, rv, "bad_export",
                            "line 1: the state's phase \"%s\" is not a phase "
                            "of %s",
                            ph, game->name);
    default:
        return pc_error_set(err, rv, "bad_export",
                            "line 1: %s cannot start from this state: %s",
                            game->name, pc_strerror(rv));
    }
    rp->expect = cJSON_Duplicate(b->state, true);
    if (rp->expect == NULL ||
        pc_room_add_sink(rp->room, insp_replay_on_change, rp) != PC_OK) {
        return pc_error_set(err, PC_ERR_NOMEM, NULL, "out of memory");
    }
    if (b->seq == 0 && pc_room_checksum(rp->room) != b->sum) {
        cJSON *fields = cJSON_CreateArray();
        insp_replay_add_field(fields, "state", cJSON_Duplicate(b->state, true),
                              cJSON_Duplicate(pc_room_state(rp->room), true));
        insp_replay_diverge(
            rp, "base", 0, 1, NULL, fields, true,
            "the export's state at seq 0 is not %s's initial state",
            game->name);
    }
    return PC_OK;
}

/* ---- Stimuli --------------------------------------------------------------
 */

/* The record as the report shows a change the replay did not make. */
static cJSON *rec_summary(const insp_export_rec *e)
{
    cJSON *s = cJSON_CreateObject();
    if (s == NULL) {
        return NULL;
    }
    cJSON_AddNumberToObject(s, "seq", (double)e->seq);
    cJSON_AddStringToObject(s, "kind", insp_kind_name(e->kind));
    cJSON_AddStringToObject(s, "phase", e->phase);
    cJSON_AddStringToObject(s, "prev", e->prev);
    cJSON_AddStringToObject(s, "reason", e->reason);
    insp_replay_add_owned(s, "patch", cJSON_Duplicate(e->patch, true));
    if (e->kind == PC_CHANGE_EVENT) {
        insp_replay_add_owned(s, "event", insp_replay_event(&e->event));
    }
    insp_replay_add_owned(s, "sum", insp_replay_hex(e->sum));
    cJSON_AddNumberToObject(s, "draws", (double)e->draws);
    return s;
}

/* Fire the phase timer the record says fired. Returns false after
 * reporting a divergence (the replay cannot fire that timer then). */
static bool fire(replay *rp, const insp_export_rec *e, pc_err *rv)
{
    const char *ph = pc_room_phase(rp->room);
    int64_t due = 0;
    cJSON *fields = cJSON_CreateArray();
    if (strcmp(ph, e->cphase) != 0) {
        insp_replay_add_field(fields, "phase", cJSON_CreateString(e->cphase),
                              cJSON_CreateString(ph));
        insp_replay_diverge(
            rp, "timer", e->seq, e->line, e->cause, fields, false,
            "phase %s's timer fired in the export, but the replay is in "
            "phase %s",
            e->cphase, ph);
        return false;
    }
    if (!pc_room_timeout_deadline(rp->room, &due)) {
        /* A restored room whose timer the export does not give. */
        cJSON_Delete(fields);
        *rv = pc_room_arm_timeout(rp->room, 0);
    } else if (due > e->time_ms) {
        insp_replay_add_field(fields, "deadline",
                              cJSON_CreateNumber((double)e->time_ms),
                              cJSON_CreateNumber((double)due));
        insp_replay_diverge(
            rp, "timer", e->seq, e->line, e->cause, fields, false,
            "phase %s's timer fired in the export at %lld, but the "
            "replay's is due %lld ms later: were the game's delays the "
            "same?",
            e->cphase, (long long)e->time_ms, (long long)(due - e->time_ms));
        return false;
    } else {
        cJSON_Delete(fields);
    }
    if (*rv == PC_OK) {
        *rv = pc_room_fire_timeout(rp->room);
    }
    return true;
}

/* Feed the current group's stimulus to the room; the sink compares what
 * it commits, and what it did not commit is reported here. */
static void inject(replay *rp)
{
    const insp_export_rec *e = &rp->grp[0];
    pc_room *room = rp->room;
    pc_error why = {0};
    pc_err rv = PC_OK;
    rp->now = e->time_ms;
    rp->got = 0;
    rp->stimuli++;
    switch (e->ckind) {
    case PC_CAUSE_START:
        rv = pc_room_start(room);
        break;
    case PC_CAUSE_ACTION: {
        pc_action act = {.player = e->player,
                         .type = e->type,
                         .payload = e->payload,
                         .role = e->role,
                         .has_expected_seq = e->has_expected_seq,
                         .expected_seq = e->expected_seq};
        cJSON *res = NULL;
        rv = pc_room_action(room, &act, &res, &why);
        cJSON_Delete(res);
        break;
    }
    case PC_CAUSE_TIMEOUT:
        if (!fire(rp, e, &rv)) {
            return;
        }
        break;
    case PC_CAUSE_HOST:
        /* The host's decision is an input: make the same call again. */
        rv = e->kind == PC_CHANGE_UPDATE
                 ? pc_update_phase_data_at(room, e->patch, e->reason, e->file,
                                           e->src_line, e->func)
             : e->kind == PC_CHANGE_EVENT
                 ? pc_room_event_at(room, e->event.audience, e->event.player,
                                    e->event.name, e->event.data, e->reason,
                                    e->file, e->src_line, e->func)
                 : pc_transition_at(room, e->phase, e->patch, e->reason,
                                    e->file, e->src_line, e->func);
        break;
    }
    if (rv != PC_OK && why.err == PC_OK) {
        why = *pc_room_last_error(room);
    }
    if (rp->div != NULL || rp->nomem || rp->got >= rp->ngrp) {
        return;
    }
    const insp_export_rec *m = &rp->grp[rp->got];
    cJSON *fields = cJSON_CreateArray();
    if (fields == NULL || insp_replay_advance(rp, m) != PC_OK) {
        cJSON_Delete(fields);
        rp->nomem = true;
        return;
    }
    insp_replay_add_field(fields, "change", rec_summary(m), cJSON_CreateNull());
    if (rv != PC_OK) {
        insp_replay_diverge(
            rp, "refused", m->seq, m->line, e->cause, fields, true,
            "the replay refused the stimulus (%s: %s) after %zu of the "
            "%zu change(s) the export shows for it",
            why.code[0] != '\0' ? why.code : pc_err_name(rv), why.message,
            rp->got, rp->ngrp);
    } else {
        insp_replay_diverge(
            rp, "missing", m->seq, m->line, e->cause, fields, true,
            "the replay made %zu change(s) for this stimulus, the "
            "export %zu: seq %llu is not made",
            rp->got, rp->ngrp, (unsigned long long)m->seq);
    }
}

/* Start the room and replay every stimulus, up to the first divergence. */
static pc_err walk(replay *rp, const insp_export_base *b, pc_error *err)
{
    rp->now = rp->has_next ? rp->next.time_ms : 0;
    bool start_recorded = b->seq == 0 && rp->has_next &&
                          rp->next.ckind == PC_CAUSE_START && rp->next.seq == 1;
    if (!start_recorded && rp->div == NULL) {
        /* Nothing recorded for the start (a restored room, or a game
         * whose first phase has no enter): it must commit nothing. */
        group_clear(rp);
        rp->got = 0;
        (void)pc_room_start(rp->room);
    }
    pc_err rv = PC_OK;
    while (rp->div == NULL && !rp->nomem && (rv = gather(rp, err)) == PC_OK) {
        inject(rp);
    }
    if (rv != PC_OK && rv != PC_ERR_NOT_FOUND) {
        return rv;
    }
    if (rp->nomem) {
        return pc_error_set(err, PC_ERR_NOMEM, NULL, "out of memory");
    }
    if (rp->div == NULL && rp->gap) {
        insp_replay_diverge(
            rp, "gap", rp->seq + 1, rp->next.line, NULL, NULL, false,
            "the export has no record of seq %llu: line %zu holds seq "
            "%llu",
            (unsigned long long)(rp->seq + 1), rp->next.line,
            (unsigned long long)rp->next.seq);
    }
    return rp->nomem ? pc_error_set(err, PC_ERR_NOMEM, NULL, "out of memory")
                     : PC_OK;
}

/* ---- The command ----------------------------------------------------------
 */

/* Note that an option of game was given; false (reported) when another
 * game's options were given too. */
static bool options_of(insp_out *o, game_opts *g, const pc_game *game)
{
    if (g->given != NULL && g->given != game) {
        insp_failf(o, "bad_option", "options of both %s and %s given",
                   g->given->name, game->name);
        return false;
    }
    g->given = game;
    return true;
}

/* Parse the command line; returns 0, or 2 after reporting. */
static int parse(insp_out *o, int argc, char **argv, const char **path,
                 const char **game, game_opts *g)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        pc_err rv;
        if (strcmp(a, "--json") == 0) {
            o->json = true;
            o->color = false;
        } else if (strcmp(a, "--game") == 0 && v != NULL) {
            *game = v;
            i++;
        } else if (strncmp(a, "--", 2) == 0 &&
                   (rv = piles_config_option(&g->piles, a, v)) !=
                       PC_ERR_NOT_FOUND) {
            if (rv != PC_OK) {
                insp_failf(o, "bad_option", "%s takes %s", a,
                           strstr(a, "-ms") != NULL
                               ? "a delay in ms, 0 to 86400000"
                           : a[2] == 't' ? "a score, 1 to 10000"
                                         : "a count of rounds, 1 to 1000");
                return 2;
            }
            if (!options_of(o, g, piles_game())) {
                return 2;
            }
            i++;
        } else if (strncmp(a, "--", 2) == 0 &&
                   (rv = encounter_config_option(&g->encounter, a, v)) !=
                       PC_ERR_NOT_FOUND) {
            if (rv != PC_OK) {
                insp_failf(o, "bad_option",
                           "%s: \"%s\" is not in its range (see "
                           "phasecast-inspect --help)",
                           a, v != NULL ? v : "");
                return 2;
            }
            if (!options_of(o, g, encounter_game())) {
                return 2;
            }
            i++;
        } else if (strncmp(a, "--", 2) == 0 || *path != NULL) {
            insp_failf(o, "bad_option",
                       "%s: import takes FILE [--game NAME] [--json] and the "
                       "game's options",
                       a);
            return 2;
        } else {
            *path = a;
        }
    }
    if (*path == NULL) {
        insp_failf(o, "bad_option",
                   "import needs an export FILE (- for "
                   "standard input)");
        return 2;
    }
    return 0;
}

static void replay_fini(replay *rp)
{
    group_clear(rp);
    free(rp->grp);
    insp_export_rec_fini(&rp->next);
    insp_export_reader_fini(&rp->rd);
    pc_room_free(rp->room);
    cJSON_Delete(rp->expect);
    cJSON_Delete(rp->div);
}

/* Replay the export open on f. */
static int run(const insp_out *o, FILE *f, const char *game_name, game_opts *g)
{
    replay rp;
    memset(&rp, 0, sizeof(rp));
    insp_export_reader_init(&rp.rd, f);
    insp_export_base b;
    pc_error err = {0};
    pc_err rv = insp_export_read_base(&rp.rd, &b, &err);
    if (rv != PC_OK) {
        insp_export_reader_fini(&rp.rd);
        return insp_fail(o, &err);
    }
    const char *name = game_name != NULL ? game_name : b.game;
    const pc_game *game = NULL;
    for (size_t i = 0; i < sizeof games / sizeof games[0]; i++) {
        if (strcmp(name, games[i].name) == 0) {
            game = games[i].game();
        }
    }
    int status = 0;
    if (game == NULL) {
        insp_failf(o, "unknown_game",
                   "%s game \"%s\" is not one phasecast-inspect knows "
                   "(tictactoe, piles, encounter)%s",
                   game_name != NULL ? "the" : "the export's", name,
                   game_name != NULL ? "" : ": name one with --game");
        status = game_name != NULL ? 2 : 1;
    } else if (g->given != NULL && game != g->given) {
        insp_failf(o, "bad_option", "%s options given to replay %s",
                   g->given->name, game->name);
        status = 2;
    } else {
        rp.seq = b.seq;
        rv = fetch(&rp, &err);
        if (rv == PC_OK) {
            rv = skip_partial(&rp, &b, &err);
        }
        rp.from = b.seq + 1;
        rp.last_equal = b.seq;
        if (rv == PC_OK) {
            void *arg = game == piles_game()       ? (void *)&g->piles
                        : game == encounter_game() ? (void *)&g->encounter
                                                   : NULL;
            rv = open_room(&rp, game, arg, &b, &err);
        }
        if (rv == PC_OK) {
            rv = walk(&rp, &b, &err);
        }
        if (rv != PC_OK) {
            status = insp_fail(o, &err);
        } else {
            status = rp.div != NULL ? 1 : 0;
            insp_replay_summary sum = {
                b.room,          b.game,        rp.from,
                rp.last_equal,   rp.stimuli,    rp.changes,
                rp.applied_from, rp.applied_to, rp.div};
            insp_replay_report(o, &sum);
        }
    }
    replay_fini(&rp);
    insp_export_base_fini(&b);
    return status;
}

int insp_import(insp_out *o, int argc, char **argv)
{
    const char *path = NULL;
    const char *game = NULL;
    game_opts g = {.given = NULL};
    piles_config_init(&g.piles);
    encounter_config_init(&g.encounter);
    if (parse(o, argc, argv, &path, &game, &g) != 0) {
        return 2;
    }
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (f == NULL) {
        return insp_failf(o, errno == ENOENT ? "not_found" : "io",
                          "cannot open %s: %s", path, strerror(errno));
    }
    int status = run(o, f, game, &g);
    if (f != stdin) {
        fclose(f);
    }
    fflush(o->f);
    return status;
}
