/*
 * play.c - phasecast-play: take a seat in a tictactoe room.
 *
 * Joins one room of a phasecast server as a player through the client
 * library (the server delivers the game's "join" action for us). With --bot
 * it plays by itself: whenever the replica says it is this player's turn it
 * asks tictactoe_bot_move for a cell and sends "move". Without --bot it
 * reads actions from stdin, one "TYPE JSON" line each (JSON may be left
 * out), and prints each reply or refusal. Either way it prints the result
 * and exits 0 once the room reaches FINISHED; by hand it also exits 0 at
 * the end of its input. It knows only tictactoe's data shape.
 *
 * usage: phasecast-play --pub URL --req URL --room ROOM --name NAME
 *                       [--bot] [--seed N] [--timeout S]
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

#include "phasecast/client.h"
#include "phasecast/error.h"
#include "phasecast/server.h"
#include "tictactoe/bot.h"

static void usage(FILE *to)
{
    fprintf(to,
            "usage: phasecast-play --pub URL --req URL --room ROOM --name "
            "NAME [options]\n"
            "Join a tictactoe room as a player.\n"
            "\n"
            "  --pub URL       the server's broadcast URL\n"
            "  --req URL       the server's request URL\n"
            "  --room ROOM     the room to join\n"
            "  --name NAME     the player id\n"
            "  --bot           play by itself (tictactoe_bot_move)\n"
            "  --seed N        the bot's random seed [time and pid]\n"
            "  --timeout S     give up (exit 1) after S seconds [60]\n"
            "  --help          show this and exit\n"
            "\n"
            "Without --bot, each stdin line \"TYPE [JSON]\" is sent as an\n"
            "action, e.g. \"move {\\\"cell\\\": 4}\". Exits 0 when the game "
            "is\nFINISHED (printing the result) or at the end of input.\n");
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

static void print_result(const pc_client *c, const char *name)
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

/* The bot's turn, if it is one: pick a cell and send "move". */
static bool bot_step(pc_client *c, const char *name, uint64_t *rng,
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
    uint64_t rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    unsigned long long n;
    long timeout_s = 60;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--bot") == 0) {
            bot = true;
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

    pc_client *c = NULL;
    pc_error e = {0};
    pc_err rc = pc_client_open(&cfg, &c, &e);
    if (rc != PC_OK) {
        fprintf(stderr, "phasecast-play: %s%s%s\n", pc_strerror(rc),
                e.message[0] != '\0' ? ": " : "", e.message);
        pc_transport_fini();
        return 1;
    }
    const char *mark = my_mark(c, cfg.name);
    printf("%s joined %s as %s at seq %llu\n", cfg.name, cfg.room,
           mark != NULL ? mark : "?", (unsigned long long)pc_client_seq(c));
    fflush(stdout);

    /* Unbuffered, so that poll on the descriptor sees every line that
     * stdio has not yet taken. */
    setvbuf(stdin, NULL, _IONBF, 0);
    int status = 1;
    uint64_t acted_at = UINT64_MAX;
    bool input_open = !bot;
    time_t deadline = time(NULL) + timeout_s;
    for (;;) {
        if (strcmp(phase_of(c), "FINISHED") == 0) {
            print_result(c, cfg.name);
            status = 0;
            break;
        }
        if (bot && !bot_step(c, cfg.name, &rng, &acted_at)) {
            break;
        }
        if (!bot && !input_open) {
            status = 0;
            break;
        }
        if (bot && time(NULL) >= deadline) {
            fprintf(stderr, "phasecast-play: timed out after %ld s\n",
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
