/*
 * play.c - phasecast-play: take a seat in a tictactoe, piles or encounter
 * room, or run an encounter as its game master.
 *
 * Joins one room of a phasecast server as a player through the client
 * library (the server delivers the game's "join" action for us), or with
 * --gm as the room's game master (the credential read from the file
 * --gm-credential-file names, credfile.h), and tells the room's game from
 * the phase of the replica it got (the games' phase names differ), unless
 * --game names it. The encounter's part is play_encounter.c. With --bot it
 * plays by itself: after every change of the replica it asks the game's bot
 * whether it has a move and sends it. The replica may be behind the server (a
 * timeout played for us, another player moved), so a refusal is printed
 * and the bot simply asks again after the next change; it never resends
 * for the same seq. Without --bot it reads actions from stdin, one "TYPE
 * JSON" line each (JSON may be left out), and prints each reply or refusal;
 * in a piles room it also prints each change and its own hand, in an
 * encounter each change and each event it may see. Either way
 * it prints the result and exits 0 once the game is over; by hand it also
 * exits 0 at the end of its input. It knows only the games in games/.
 *
 * usage: phasecast-play --pub URL --req URL --room ROOM --name NAME
 *                       [--game auto|tictactoe|piles|encounter] [--bot]
 *                       [--gm --gm-credential-file FILE [--heroes N]]
 *                       [--seed N] [--timeout S]
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "credfile.h"
#include "phasecast/client.h"
#include "phasecast/error.h"
#include "phasecast/room.h"
#include "phasecast/server.h"
#include "encounter/encounter.h"
#include "piles/bot.h"
#include "piles/piles.h"
#include "piles/rules.h"
#include "piles/state.h"
#include "tictactoe/bot.h"
#include "play_encounter.h"
#include "tictactoe/tictactoe.h"

static void usage(FILE *to)
{
    fprintf(to,
            "usage: phasecast-play --pub URL --req URL --room ROOM --name "
            "NAME [options]\n"
            "Join a tictactoe, piles or encounter room as a player, or an\n"
            "encounter room as its game master.\n"
            "\n"
            "  --pub URL       the server's broadcast URL\n"
            "  --req URL       the server's request URL\n"
            "  --room ROOM     the room to join\n"
            "  --name NAME     the player id (the game master's name with "
            "--gm)\n"
            "  --game GAME     tictactoe, piles, encounter or auto: tell it\n"
            "                  from the room's phase [auto]\n"
            "  --bot           play by itself (the game's bot)\n"
            "  --gm            join an encounter room as its game master\n"
            "                  (with --bot: place monsters, start, write "
            "notes)\n"
            "  --gm-credential-file FILE\n"
            "                  the game master's credential, on FILE's "
            "first\n"
            "                  line (required with --gm; never on the "
            "command\n"
            "                  line)\n"
            "  --heroes N      the game master bot starts once N heroes sit "
            "[3]\n"
            "  --seed N        the bot's random seed [time and pid]\n"
            "  --timeout S     a bot gives up (exit 1) when the room has not\n"
            "                  changed for S seconds [60]\n"
            "  --help          show this and exit\n"
            "\n"
            "Without --bot, each stdin line \"TYPE [JSON]\" is sent as an\n"
            "action, e.g. \"move {\\\"cell\\\": 4}\", \"play "
            "{\\\"pieces\\\": [\\\"R7a\\\"]}\"\n"
            "or \"attack {\\\"target\\\": \\\"m1\\\"}\".\n"
            "Exits 0 when the game is over (printing the result) or at the "
            "end of\ninput.\n");
}

/* Parse a non-negative integer argument of at most max. */
static bool number(const char *s, unsigned long long max,
                   unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > max) {
        return false;
    }
    *out = v;
    return true;
}

/* splitmix64: a small, well-mixed generator for the bot's free picks. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A member of the replica's "data" object, or NULL. */
static const cJSON *data_item(const pc_client *c, const char *key)
{
    const cJSON *data =
        cJSON_GetObjectItemCaseSensitive(pc_client_state(c), "data");
    return cJSON_GetObjectItemCaseSensitive(data, key);
}

static const char *phase_of(const pc_client *c)
{
    const cJSON *p =
        cJSON_GetObjectItemCaseSensitive(pc_client_state(c), "phase");
    return cJSON_IsString(p) ? p->valuestring : "";
}

/* Send one action and print the outcome; false only if the client broke. */
static bool act(pc_client *c, const char *type, const cJSON *payload)
{
    cJSON *value = NULL;
    uint64_t seq = 0;
    pc_error e = {0};
    pc_err rc = pc_client_act(c, type, payload, &value, &seq, &e);
    if (rc != PC_OK) {
        printf("error %s: %s\n", e.code[0] != '\0' ? e.code : pc_strerror(rc),
               e.message[0] != '\0' ? e.message : pc_strerror(rc));
        fflush(stdout);
        return rc != PC_ERR_IO && rc != PC_ERR_TIMEOUT;
    }
    char *v = cJSON_PrintUnformatted(value);
    printf("ok seq %llu value %s\n", (unsigned long long)seq,
           v != NULL ? v : "?");
    fflush(stdout);
    cJSON_free(v);
    cJSON_Delete(value);
    return true;
}

/* ---- tictactoe ------------------------------------------------------- */

/* The mark ("X" or "O") seated for name, or NULL while not seated. */
static const char *my_mark(const pc_client *c, const char *name)
{
    const cJSON *players = data_item(c, "players");
    static const char *const marks[] = {"X", "O"};
    for (size_t i = 0; i < 2; i++) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(players, marks[i]);
        if (cJSON_IsString(p) && strcmp(p->valuestring, name) == 0) {
            return marks[i];
        }
    }
    return NULL;
}

static void ttt_joined(const pc_client *c, const char *name)
{
    const char *mark = my_mark(c, name);
    printf("%s joined %s as %s at seq %llu\n", name, pc_client_room(c),
           mark != NULL ? mark : "?", (unsigned long long)pc_client_seq(c));
}

static void ttt_result(const pc_client *c, const char *name)
{
    const cJSON *winner = data_item(c, "winner");
    const char *w = cJSON_IsString(winner) ? winner->valuestring : "?";
    const char *mine = my_mark(c, name);
    if (strcmp(w, "draw") == 0) {
        printf("result: draw at seq %llu\n",
               (unsigned long long)pc_client_seq(c));
    } else {
        const cJSON *who =
            cJSON_GetObjectItemCaseSensitive(data_item(c, "players"), w);
        printf("result: %s (%s) wins at seq %llu; %s %s\n", w,
               cJSON_IsString(who) ? who->valuestring : "?",
               (unsigned long long)pc_client_seq(c), name,
               mine != NULL && strcmp(mine, w) == 0 ? "wins" : "loses");
    }
    fflush(stdout);
}

/* The bot's turn, if it is one: pick a cell and send "move". */
static bool ttt_step(pc_client *c, const char *name, uint64_t *rng,
                     uint64_t *acted_at)
{
    const char *mark = my_mark(c, name);
    const cJSON *turn = data_item(c, "turn");
    if (strcmp(phase_of(c), "PLAYING") != 0 || mark == NULL ||
        !cJSON_IsString(turn) || strcmp(turn->valuestring, mark) != 0 ||
        pc_client_seq(c) == *acted_at) {
        return true;
    }
    const cJSON *data =
        cJSON_GetObjectItemCaseSensitive(pc_client_state(c), "data");
    int cell = -1;
    if (tictactoe_bot_move(data, mark, next_random(rng), &cell) != PC_OK) {
        return true;
    }
    *acted_at = pc_client_seq(c);
    printf("%s (%s) plays cell %d\n", name, mark, cell);
    cJSON *payload = cJSON_CreateObject();
    if (payload == NULL ||
        cJSON_AddNumberToObject(payload, "cell", cell) == NULL) {
        cJSON_Delete(payload);
        return false;
    }
    bool ok = act(c, "move", payload);
    cJSON_Delete(payload);
    return ok;
}

/* ---- piles ----------------------------------------------------------- */

static const cJSON *data_of(const pc_client *c)
{
    return cJSON_GetObjectItemCaseSensitive(pc_client_state(c), "data");
}

static void piles_joined(const pc_client *c, const char *name)
{
    piles_seats s = piles_seats_of(data_of(c));
    int seat = piles_seat_of(&s, name);
    printf("%s joined %s in seat %d at seq %llu\n", name, pc_client_room(c),
           seat + 1, (unsigned long long)pc_client_seq(c));
}

static int score_of(const pc_client *c, const char *name)
{
    return piles_int_at(data_item(c, "scores"), name);
}

static void piles_result(const pc_client *c, const char *name)
{
    const cJSON *w;
    bool won = false;
    printf("result:");
    cJSON_ArrayForEach(w, data_item(c, "winners"))
    {
        const char *who = cJSON_IsString(w) ? w->valuestring : "?";
        printf("%s %s", w == data_item(c, "winners")->child ? "" : ",", who);
        won = won || strcmp(who, name) == 0;
    }
    printf(" win%s with %d points at seq %llu after round %d; %s has %d "
           "and %s\n",
           cJSON_GetArraySize(data_item(c, "winners")) == 1 ? "s" : "",
           score_of(c, cJSON_GetStringValue(
                           cJSON_GetArrayItem(data_item(c, "winners"), 0))),
           (unsigned long long)pc_client_seq(c),
           piles_int_at(data_of(c), "round"), name, score_of(c, name),
           won ? "wins" : "loses");
    fflush(stdout);
}

/* The bot's move, if it has one at this seq: ask piles_bot_choose. */
static bool piles_step(pc_client *c, const char *name, uint64_t *rng,
                       uint64_t *acted_at)
{
    if (pc_client_seq(c) == *acted_at) {
        return true;
    }
    const char *type = NULL;
    cJSON *payload = NULL;
    pc_err rc = piles_bot_choose(pc_client_state(c), name, next_random(rng),
                                 &type, &payload);
    if (rc == PC_ERR_NOT_FOUND) {
        return true;
    }
    /* Whatever happens now, try again only after the next change. */
    *acted_at = pc_client_seq(c);
    if (rc != PC_OK) {
        printf("bot: no move at seq %llu: %s\n", (unsigned long long)*acted_at,
               pc_strerror(rc));
        return rc != PC_ERR_NOMEM;
    }
    const cJSON *piles = cJSON_GetObjectItemCaseSensitive(payload, "piles");
    int pieces[PILES_PLAY_MAX];
    char text[64];
    piles_pieces_text(
        pieces,
        piles_played(cJSON_GetObjectItemCaseSensitive(payload, "pieces"),
                     pieces),
        text, sizeof text);
    if (cJSON_IsNumber(piles)) {
        printf("%s declares %d\n", name, (int)piles->valuedouble);
    } else {
        printf("%s plays %s\n", name, text);
    }
    bool ok = act(c, type, payload);
    cJSON_Delete(payload);
    return ok;
}

/* By hand in a piles room: print each change, and the hand when it
 * changes (hand is the last one printed). */
static void piles_narrate(pc_client *c, const pc_client_change *ch, char *hand,
                          size_t cap)
{
    int pieces[PILES_DECK];
    char now[PILES_DECK * PILES_ID_SIZE];
    printf("seq %llu %s: %s\n", (unsigned long long)ch->seq, ch->phase,
           ch->reason);
    piles_pieces_text(pieces,
                      piles_hand_of(data_of(c), pc_client_player(c), pieces),
                      now, sizeof now);
    if (strcmp(now, hand) != 0) {
        printf("hand: %s\n", now[0] != '\0' ? now : "(empty)");
        snprintf(hand, cap, "%s", now);
    }
    fflush(stdout);
}

/* ---- the games -------------------------------------------------------- */

/* What play needs to know of a game. */
typedef struct game_kind {
    const char *name; /* for --game */
    const pc_game *(*game)(void);
    const char *const *over; /* the phases in which the game is over */
    void (*joined)(const pc_client *c, const char *name);
    bool (*step)(pc_client *c, const char *name, uint64_t *rng,
                 uint64_t *acted_at);
    void (*result)(const pc_client *c, const char *name);
    /* by hand: called for each change; NULL prints nothing */
    void (*narrate)(pc_client *c, const pc_client_change *ch, char *hand,
                    size_t cap);
} game_kind;

static const char *const ttt_over[] = {"FINISHED", NULL};
static const char *const piles_over[] = {"GAME_OVER", NULL};
static const char *const encounter_over[] = {"VICTORY", "DEFEAT", NULL};

static const game_kind kinds[] = {
    {"tictactoe", tictactoe_game, ttt_over, ttt_joined, ttt_step, ttt_result,
     NULL},
    {"piles", piles_game, piles_over, piles_joined, piles_step, piles_result,
     piles_narrate},
    {"encounter", encounter_game, encounter_over, play_encounter_joined,
     play_encounter_step, play_encounter_result, play_encounter_narrate},
};

static bool is_over(const game_kind *k, const char *phase)
{
    for (size_t i = 0; k->over[i] != NULL; i++) {
        if (strcmp(k->over[i], phase) == 0) {
            return true;
        }
    }
    return false;
}

static bool has_phase(const game_kind *k, const char *phase)
{
    const pc_game *g = k->game();
    for (size_t i = 0; i < g->nphases; i++) {
        if (strcmp(g->phases[i].name, phase) == 0) {
            return true;
        }
    }
    return false;
}

/* The game named name, or whose phases include phase when name is NULL. */
static const game_kind *kind_of(const char *name, const char *phase)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (name != NULL ? strcmp(kinds[i].name, name) == 0
                         : has_phase(&kinds[i], phase)) {
            return &kinds[i];
        }
    }
    return NULL;
}

/* The change callback's state: set once the game is known. */
typedef struct narrator {
    const game_kind *kind;
    bool by_hand;
    char hand[PILES_DECK * PILES_ID_SIZE];
} narrator;

static void on_change(pc_client *c, const pc_client_change *ch, void *arg)
{
    narrator *n = arg;
    if (n->kind != NULL && n->by_hand && n->kind->narrate != NULL) {
        n->kind->narrate(c, ch, n->hand, sizeof n->hand);
    }
}

/* Events are an encounter's only: printed by hand. */
static void on_room_event(pc_client *c, const pc_client_room_event *ev,
                          void *arg)
{
    (void)c;
    narrator *n = arg;
    if (n->kind != NULL && n->by_hand) {
        play_encounter_event(ev);
    }
}

/* One stdin line "TYPE [JSON]" as an action. */
static bool line_step(pc_client *c, char *line)
{
    line[strcspn(line, "\r\n")] = '\0';
    char *type = line + strspn(line, " \t");
    if (*type == '\0') {
        return true;
    }
    char *rest = type + strcspn(type, " \t");
    if (*rest != '\0') {
        *rest++ = '\0';
    }
    rest += strspn(rest, " \t");
    cJSON *payload = NULL;
    if (*rest != '\0') {
        payload = cJSON_Parse(rest);
        if (payload == NULL) {
            printf("error bad_json: cannot parse %s\n", rest);
            fflush(stdout);
            return true;
        }
    }
    bool ok = act(c, type, payload);
    cJSON_Delete(payload);
    return ok;
}

int main(int argc, char **argv)
{
    pc_client_config cfg = {0};
    cfg.role = PC_CLIENT_PLAYER;
    bool bot = false;
    const char *game = NULL; /* NULL: tell it from the room's phase */
    narrator narr = {0};
    uint64_t rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    unsigned long long n;
    long timeout_s = 60;
    bool gm = false;
    const char *gm_file = NULL;
    int heroes = 3;
    static char gm_cred[CREDFILE_BUF];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--bot") == 0 || strcmp(a, "--gm") == 0) {
            bot = bot || a[2] == 'b';
            gm = gm || a[2] == 'g';
            continue;
        }
        if (v == NULL) {
            fprintf(stderr, "phasecast-play: %s needs a value\n", a);
            usage(stderr);
            return 2;
        }
        i++;
        if (strcmp(a, "--pub") == 0) {
            cfg.pub_url = v;
        } else if (strcmp(a, "--req") == 0) {
            cfg.req_url = v;
        } else if (strcmp(a, "--room") == 0) {
            cfg.room = v;
        } else if (strcmp(a, "--name") == 0) {
            cfg.name = v;
        } else if (strcmp(a, "--game") == 0 &&
                   (strcmp(v, "auto") == 0 || kind_of(v, NULL) != NULL)) {
            game = strcmp(v, "auto") == 0 ? NULL : v;
        } else if (strcmp(a, "--gm-credential-file") == 0) {
            gm_file = v;
        } else if (strcmp(a, "--heroes") == 0 && number(v, 100, &n) && n > 0) {
            heroes = (int)n;
        } else if (strcmp(a, "--seed") == 0 && number(v, UINT64_MAX, &n)) {
            rng = (uint64_t)n;
        } else if (strcmp(a, "--timeout") == 0 && number(v, 86400, &n) &&
                   n > 0) {
            timeout_s = (long)n;
        } else {
            fprintf(stderr, "phasecast-play: bad option %s %s\n", a, v);
            usage(stderr);
            return 2;
        }
    }
    if (cfg.pub_url == NULL || cfg.req_url == NULL || cfg.room == NULL ||
        cfg.name == NULL) {
        fprintf(stderr, "phasecast-play: --pub, --req, --room and --name "
                        "are required\n");
        usage(stderr);
        return 2;
    }
    if (gm &&
        (gm_file == NULL || (game != NULL && strcmp(game, "encounter") != 0))) {
        fprintf(stderr, "phasecast-play: --gm plays an encounter room's game "
                        "master and needs --gm-credential-file FILE\n");
        usage(stderr);
        return 2;
    }
    if (gm) {
        if (!credfile_read("phasecast-play", "the game master's credential",
                           gm_file, gm_cred, sizeof gm_cred)) {
            credfile_wipe(gm_cred, sizeof gm_cred);
            return 1;
        }
        cfg.role = PC_CLIENT_GM;
        cfg.gm_credential = gm_cred; /* copied by pc_client_open */
        game = "encounter";
    }

    narr.by_hand = !bot;
    cfg.on_change = on_change;
    cfg.on_room_event = on_room_event;
    cfg.arg = &narr;
    pc_client *c = NULL;
    pc_error e = {0};
    pc_err rc = pc_client_open(&cfg, &c, &e);
    credfile_wipe(gm_cred, sizeof gm_cred);
    if (rc != PC_OK) {
        fprintf(stderr, "phasecast-play: %s%s%s\n", pc_strerror(rc),
                e.message[0] != '\0' ? ": " : "", e.message);
        pc_transport_fini();
        return 1;
    }
    const game_kind *kind = kind_of(game, phase_of(c));
    if (kind == NULL || !has_phase(kind, phase_of(c))) {
        fprintf(stderr,
                "phasecast-play: room %s is in phase \"%s\", which is not "
                "a phase of %s\n",
                cfg.room, phase_of(c),
                game != NULL ? game : "any game this tool knows");
        pc_client_close(c);
        pc_transport_fini();
        return 1;
    }
    narr.kind = kind;
    play_encounter_setup(gm, heroes, rng, cfg.name);
    kind->joined(c, cfg.name);
    fflush(stdout);

    /* Unbuffered, so that poll on the descriptor sees every line that
     * stdio has not yet taken. */
    setvbuf(stdin, NULL, _IONBF, 0);
    int status = 1;
    uint64_t acted_at = UINT64_MAX;
    bool input_open = !bot;
    /* A bot gives up when the room stops changing, not after a fixed
     * time: a piles game with long pauses may take many minutes. */
    time_t deadline = time(NULL) + timeout_s;
    uint64_t seen = pc_client_seq(c);
    for (;;) {
        if (is_over(kind, phase_of(c))) {
            kind->result(c, cfg.name);
            status = 0;
            break;
        }
        if (bot && !kind->step(c, cfg.name, &rng, &acted_at)) {
            break;
        }
        if (pc_client_seq(c) != seen) {
            seen = pc_client_seq(c);
            deadline = time(NULL) + timeout_s;
        }
        if (!bot && !input_open) {
            status = 0;
            break;
        }
        if (bot && time(NULL) >= deadline) {
            fprintf(stderr, "phasecast-play: timed out: no change for %ld s\n",
                    timeout_s);
            break;
        }
        if (input_open) {
            struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
            if (poll(&p, 1, 0) > 0) {
                char line[4096];
                if (fgets(line, sizeof line, stdin) == NULL) {
                    input_open = false;
                } else if (!line_step(c, line)) {
                    break;
                }
            }
        }
        rc = pc_client_poll(c, input_open ? 20 : 100);
        if (rc != PC_OK) {
            fprintf(stderr, "phasecast-play: %s\n", pc_strerror(rc));
            break;
        }
    }
    pc_client_close(c);
    pc_transport_fini();
    return status;
}
