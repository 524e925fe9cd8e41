/*
 * demo.c - phasecast-demo: one game of tictactoe between two in-process bots,
 * narrated change by change, then read back from the room's history.
 *
 * It shows the whole framework loop without any network: a room is created
 * with a fixed seed, a sink prints every committed change as it happens, the
 * bots act through pc_room_action (one refused action shows a typed error
 * that changes nothing), and at the end the history API lists the records,
 * rebuilds past states and diffs two of them. Every random choice comes from
 * the room's PRNG, so the same --seed replays the same game; wall-clock
 * times are not printed for the same reason. It is a demonstration, not a
 * server: nothing is broadcast or logged to disk.
 *
 * usage: phasecast-demo [--seed N]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/change.h"
#include "phasecast/error.h"
#include "phasecast/history.h"
#include "phasecast/json.h"
#include "phasecast/room.h"
#include "phasecast/version.h"
#include "tictactoe/bot.h"
#include "tictactoe/tictactoe.h"

#define DEFAULT_SEED 42
#define INDENT       "       " /* lines under a change start here */

static const char *basename_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

/* Print doc on one line, keys in canonical (sorted) order. */
static void print_json(const cJSON *doc)
{
    char *text = NULL;
    if (doc == NULL) {
        fputs("(absent)", stdout);
    } else if (pc_canon_print(doc, &text, NULL) == PC_OK) {
        fputs(text, stdout);
    } else {
        fputs("(unprintable)", stdout);
    }
    pc_free(text);
}

/* Print the board in data as a 3x3 grid, labelled, under a change. */
static void print_board(const cJSON *data)
{
    const cJSON *board = cJSON_GetObjectItemCaseSensitive(data, "board");
    for (int row = 0; row < 3; row++) {
        fputs(row == 0 ? INDENT "board " : INDENT "      ", stdout);
        for (int col = 0; col < 3; col++) {
            const char *s =
                cJSON_GetStringValue(cJSON_GetArrayItem(board, row * 3 + col));
            printf(" %s%s", s != NULL && s[0] != '\0' ? s : ".",
                   col < 2 ? " |" : "\n");
        }
    }
}

/* The sink: narrate each change the moment it is committed. */
static void narrate(pc_room *room, const pc_change *c, void *arg)
{
    (void)arg;
    char source[64];
    snprintf(source, sizeof source, "%s:%d", basename_of(c->file), c->line);
    printf("%5" PRIu64 "  %-9s  %-26s  %-18s  %016" PRIx64 "\n", c->seq,
           c->phase, c->reason, source, c->checksum);
    char *patch = cJSON_PrintUnformatted(c->patch);
    printf(INDENT "patch  %s\n", patch != NULL ? patch : "(out of memory)");
    cJSON_free(patch);
    if (c->kind == PC_CHANGE_TRANSITION) {
        printf(INDENT "phase  %s -> %s\n", c->prev_phase, c->phase);
    }
    if (cJSON_GetObjectItemCaseSensitive(pc_room_data(room), "board")) {
        print_board(pc_room_data(room));
    }
}

/* Send one action; print it if refused. Returns the framework's code. */
static pc_err act(pc_room *room, const char *player, const char *type, int cell)
{
    cJSON *payload = NULL;
    if (cell >= 0) {
        payload = cJSON_CreateObject();
        if (cJSON_AddNumberToObject(payload, "cell", cell) == NULL) {
            cJSON_Delete(payload);
            return PC_ERR_NOMEM;
        }
    }
    pc_action a = {.player = player, .type = type, .payload = payload};
    pc_error err = {0};
    pc_err rc = pc_room_action(room, &a, NULL, &err);
    cJSON_Delete(payload);
    if (rc != PC_OK) {
        printf(INDENT "refused %s %s", player, type);
        if (cell >= 0) {
            printf(" {\"cell\":%d}", cell);
        }
        printf(": %s (%s); seq stays %" PRIu64 "\n", err.code, err.message,
               pc_room_seq(room));
    }
    return rc;
}

/* Copy the id of the player holding mark into out (empty if none). */
static void copy_player(const cJSON *data, char mark, char *out, size_t cap)
{
    char pointer[16];
    snprintf(pointer, sizeof pointer, "/players/%c", mark);
    const char *id = cJSON_GetStringValue(pc_json_pointer_get(data, pointer));
    snprintf(out, cap, "%s", id != NULL ? id : "");
}

/* Both bots play until the game leaves PLAYING. One deliberate mistake
 * after the first move shows a refused action. */
static int play(pc_room *room)
{
    bool shown_refusal = false;
    while (strcmp(pc_room_phase(room), "PLAYING") == 0) {
        /* Copy what is needed: pointers into the state die at the next
         * change, and the move about to be sent is one. */
        const cJSON *data = pc_room_data(room);
        const char *turn = cJSON_GetStringValue(
            cJSON_GetObjectItemCaseSensitive(data, "turn"));
        char mark[2] = {turn != NULL ? turn[0] : '?', '\0'};
        char player[64], other[64];
        copy_player(data, mark[0], player, sizeof player);
        copy_player(data, mark[0] == 'X' ? 'O' : 'X', other, sizeof other);
        int cell = -1;
        if (tictactoe_bot_move(data, mark, pc_room_random(room), &cell) !=
            PC_OK) {
            fprintf(stderr, "phasecast-demo: the bot found no move\n");
            return 1;
        }
        if (!shown_refusal && pc_room_seq(room) > 2) {
            /* The player who just moved tries again, out of turn: the game
             * refuses with a typed error and nothing changes. */
            shown_refusal = true;
            act(room, other, "move", cell);
        }
        if (act(room, player, "move", cell) != PC_OK) {
            return 1;
        }
    }
    return 0;
}

static void print_history(pc_room *room)
{
    uint64_t first = pc_history_first_seq(room);
    uint64_t last = pc_room_seq(room);
    printf("\nhistory: %zu changes retained (capacity %zu), seq %" PRIu64
           "..%" PRIu64 "\n\n",
           pc_history_count(room), pc_history_capacity(room), first, last);
    printf("%5s  %-10s  %-18s  %-26s  %s\n", "seq", "kind", "phase", "reason",
           "function");
    for (uint64_t seq = first; seq != 0 && seq <= last; seq++) {
        const pc_change *c;
        if (pc_history_get(room, seq, &c) != PC_OK) {
            continue;
        }
        char phase[40];
        if (c->kind == PC_CHANGE_TRANSITION) {
            snprintf(phase, sizeof phase, "%s->%s", c->prev_phase, c->phase);
        } else {
            snprintf(phase, sizeof phase, "%s", c->phase);
        }
        printf("%5" PRIu64 "  %-10s  %-18s  %-26s  %s()\n", c->seq,
               c->kind == PC_CHANGE_TRANSITION ? "transition" : "update", phase,
               c->reason, c->func);
    }

    uint64_t at[2] = {1, last};
    for (int i = 0; i < 2; i++) {
        cJSON *state = NULL;
        pc_err rc = pc_history_state_at(room, at[i], &state);
        printf("\nstate at seq %" PRIu64 ":\n  ", at[i]);
        if (rc == PC_OK) {
            print_json(state);
            putchar('\n');
        } else {
            printf("(%s)\n", pc_strerror(rc));
        }
        cJSON_Delete(state);
    }
}

/* Diff the state after the first move (seq 3) with the final state. */
static void print_diff(pc_room *room)
{
    uint64_t a = 3, b = pc_room_seq(room);
    cJSON *diff = NULL;
    pc_err rc = pc_history_diff(room, a, b, &diff);
    printf("\ndiff seq %" PRIu64 " -> %" PRIu64
           " (after the first move -> after the last):\n",
           a, b);
    if (rc != PC_OK) {
        printf("  (%s)\n", pc_strerror(rc));
        return;
    }
    const cJSON *d;
    cJSON_ArrayForEach(d, diff)
    {
        printf("  %-16s ", cJSON_GetStringValue(
                               cJSON_GetObjectItemCaseSensitive(d, "path")));
        print_json(cJSON_GetObjectItemCaseSensitive(d, "old"));
        fputs(" -> ", stdout);
        print_json(cJSON_GetObjectItemCaseSensitive(d, "new"));
        putchar('\n');
    }
    cJSON_Delete(diff);
}

/* Use pc_history_find to say when the game was decided. */
static void print_result(pc_room *room)
{
    const cJSON *data = pc_room_data(room);
    const cJSON *winner = cJSON_GetObjectItemCaseSensitive(data, "winner");
    uint64_t seq = 0;
    if (pc_history_find(room, "/data/winner", winner, 0, &seq) != PC_OK) {
        return;
    }
    const char *w = cJSON_GetStringValue(winner);
    if (w != NULL && strcmp(w, "draw") == 0) {
        printf("\nresult: draw, decided at seq %" PRIu64 "\n", seq);
        return;
    }
    char pointer[16];
    snprintf(pointer, sizeof pointer, "/players/%s", w != NULL ? w : "?");
    printf("\nresult: %s (%s) wins, decided at seq %" PRIu64 "\n", w,
           cJSON_GetStringValue(pc_json_pointer_get(data, pointer)), seq);
}

static bool parse_args(int argc, char **argv, uint64_t *seed)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(argv[++i], &end, 10);
            if (errno != 0 || *end != '\0' || end == argv[i] ||
                argv[i][0] == '-') {
                return false;
            }
            *seed = (uint64_t)v;
        } else {
            return false;
        }
    }
    return true;
}

int main(int argc, char **argv)
{
    uint64_t seed = DEFAULT_SEED;
    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        printf("usage: phasecast-demo [--seed N]\n"
               "Two bots play tictactoe; the same seed (default %d) replays "
               "the same game.\n",
               DEFAULT_SEED);
        return 0;
    }
    if (!parse_args(argc, argv, &seed)) {
        fprintf(stderr, "usage: phasecast-demo [--seed N]\n");
        return 2;
    }
    pc_room_options opts;
    pc_room_options_init(&opts);
    opts.id = "demo";
    opts.seed = seed;
    opts.seed_set = true;
    pc_room *room = NULL;
    pc_err rc = pc_room_new(tictactoe_game(), &opts, &room);
    if (rc == PC_OK) {
        rc = pc_room_add_sink(room, narrate, NULL);
    }
    if (rc == PC_OK) {
        rc = pc_room_start(room);
    }
    if (rc != PC_OK) {
        fprintf(stderr, "phasecast-demo: %s\n", pc_strerror(rc));
        pc_room_free(room);
        return 1;
    }
    printf("phasecast %s demo: %s in room \"%s\", seed %" PRIu64 "\n\n",
           pc_version(), pc_room_game(room)->name, pc_room_id(room),
           pc_room_seed(room));
    printf("%5s  %-9s  %-26s  %-18s  %s\n", "seq", "phase", "reason", "source",
           "checksum");

    int status = 0;
    if (act(room, "alice", "join", -1) != PC_OK ||
        act(room, "bob", "join", -1) != PC_OK || play(room) != 0) {
        status = 1;
    }
    if (status == 0) {
        print_history(room);
        print_diff(room);
        print_result(room);
    }
    pc_room_free(room);
    return status;
}
