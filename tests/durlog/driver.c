/*
 * driver.c - load and checks for the crash tests of tests/cli/durlog_*.sh
 * (a test program, not a tool).
 *
 *   pc-durlog-driver play --pub URL --req URL --acks FILE [--pace MS] ROOM...
 *
 * Plays one tictactoe game in each ROOM, as both players (two pc_client
 * players per room, moving in turn along a fixed drawn game), the rooms
 * interleaved so every room is mid-game most of the time, with MS
 * milliseconds (default 0) between moves so a burst lasts long enough to
 * be cut by a kill. With --settled FILE, the convergence check below waits
 * (following all the while) until FILE exists: the test creates it once
 * the server is up for good. Each action is
 * retried with the same action id until the server answers, so the driver
 * rides through a server that is killed and restarted. Every action the
 * server acknowledged is appended to FILE as "ROOM SEQ MARK CELL" and
 * flushed before the next action is sent. An action retried after the
 * server came back may be refused because its first attempt was durable
 * but unacknowledged (not_your_turn): the refusal is accepted only if the
 * player's replica shows the move, and noted "doubt ROOM MARK CELL". At the
 * end every player's replica must converge, without help, on a fresh
 * snapshot (same seq, same state); exit 0 if all do.
 *
 *   pc-durlog-driver check --pub URL --req URL --acks FILE [FILE...]
 *
 * After a restart: every acknowledged action must be in its room's
 * history at the seq it was acknowledged with (the reason names the same
 * mark and cell), so nothing acknowledged was lost and no seq was reused.
 * A seq older than the history (compacted into a keyframe) is checked in
 * the state instead: the room is past it and the cell holds the mark.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "phasecast/client.h"
#include "phasecast/error.h"
#include "phasecast/json.h"
#include "phasecast/server.h"

#define ROOMS_MAX 64
#define MOVES     9
#define RETRY_FOR 60 /* seconds an action is retried */

/* A drawn game: X and O alternate; nobody completes a line. */
static const int game_cells[MOVES] = {0, 1, 2, 4, 3, 5, 7, 6, 8};

typedef struct room {
    const char *id;
    pc_client *p[2]; /* X (alice), O (bob) */
    int next;        /* index into game_cells */
} room;

static const char *pub_url, *req_url;
static long pace_ms;
static const char *settled; /* --settled FILE, see play() */

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static pc_client *open_client(const char *id, const char *name)
{
    pc_client_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.pub_url = pub_url;
    cfg.req_url = req_url;
    cfg.room = id;
    cfg.role = name != NULL ? PC_CLIENT_PLAYER : PC_CLIENT_SPECTATOR;
    cfg.name = name;
    /* Six attempts from 300 ms, doubling: an open fails only if the server
     * stays away for about 19 s. A failed open closes its sockets, and
     * nng 1.5.2 can hang in that close after the server was killed
     * (docs/reference/client.md, "Known issues"), so opens should not
     * fail while a restart is merely slow. */
    cfg.request_timeout_ms = 300;
    cfg.request_attempts = 6;
    cfg.reconnect_max_ms = 200;
    /* Fixed per room and player, so opening again after a join whose reply
     * the crash swallowed gets the same seat back. */
    char nonce[96];
    snprintf(nonce, sizeof nonce, "durlog-%s-%s-nonce", id,
             name != NULL ? name : "spectator");
    cfg.join_nonce = name != NULL ? nonce : NULL;
    /* The server may be down (killed, not restarted yet): keep trying. */
    int64_t until = now_s() + RETRY_FOR;
    for (;;) {
        pc_client *c = NULL;
        pc_error e = {0};
        pc_err rc = pc_client_open(&cfg, &c, &e);
        if (rc == PC_OK) {
            return c;
        }
        if ((rc != PC_ERR_TIMEOUT && rc != PC_ERR_IO) || now_s() > until) {
            fprintf(stderr, "driver: open %s as %s: %s\n", id,
                    name ? name : "spectator", e.message);
            return NULL;
        }
    }
}

/* The mark at cell in c's replica, or "" */
static const char *cell_of(const pc_client *c, int cell)
{
    char ptr[32];
    snprintf(ptr, sizeof ptr, "/data/board/%d", cell);
    const cJSON *v = pc_json_pointer_get(pc_client_state(c), ptr);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Make room r's next move, retrying through server restarts. Returns
 * false when the driver must give up. */
static bool move(room *r, FILE *acks)
{
    int k = r->next;
    int cell = game_cells[k];
    const char *mark = k % 2 == 0 ? "X" : "O";
    pc_client *c = r->p[k % 2];
    char id[64];
    snprintf(id, sizeof id, "%s-%d", r->id, k);
    cJSON *payload = cJSON_CreateObject();
    cJSON_AddNumberToObject(payload, "cell", cell);
    int64_t until = now_s() + RETRY_FOR;
    for (;;) {
        uint64_t seq = 0;
        pc_error e = {0};
        pc_err rc = pc_client_act_id(c, id, "move", payload, NULL, &seq, &e);
        if (rc == PC_OK) {
            fprintf(acks, "%s %llu %s %d\n", r->id, (unsigned long long)seq,
                    mark, cell);
            fflush(acks);
            break;
        }
        if (rc == PC_ERR_TIMEOUT || rc == PC_ERR_IO) {
            if (now_s() > until) {
                fprintf(stderr, "driver: %s gave up on %s\n", r->id, id);
                cJSON_Delete(payload);
                return false;
            }
            continue;
        }
        /* Refused. In this fixed game only a retry of an action whose
         * first attempt was durable but never answered can be (the client
         * library retries by itself too): then the mark is on the board. */
        int64_t deadline = now_s() + 10;
        while (strcmp(cell_of(c, cell), mark) != 0 && now_s() < deadline) {
            pc_client_poll(c, 100);
        }
        if (strcmp(cell_of(c, cell), mark) != 0) {
            fprintf(stderr, "driver: %s %s refused: %s %s\n", r->id, id, e.code,
                    e.message);
            cJSON_Delete(payload);
            return false;
        }
        fprintf(acks, "doubt %s %s %d\n", r->id, mark, cell);
        fflush(acks);
        break;
    }
    cJSON_Delete(payload);
    r->next++;
    return true;
}

/* Poll c until its replica equals the spectator's snapshot. */
static bool converges(pc_client *c, pc_client *truth)
{
    int64_t deadline = now_s() + 20;
    while (now_s() < deadline) {
        if (pc_client_seq(c) == pc_client_seq(truth) &&
            pc_json_equal(pc_client_state(c), pc_client_state(truth))) {
            return true;
        }
        pc_client_poll(c, 100);
    }
    return false;
}

static int play(const char *ackfile, char **ids, int n)
{
    FILE *acks = fopen(ackfile, "a");
    room rooms[ROOMS_MAX];
    if (acks == NULL || n > ROOMS_MAX) {
        return 2;
    }
    int status = 0;
    for (int i = 0; i < n; i++) {
        rooms[i] = (room){.id = ids[i]};
        rooms[i].p[0] = open_client(ids[i], "alice");
        rooms[i].p[1] = open_client(ids[i], "bob");
        if (rooms[i].p[0] == NULL || rooms[i].p[1] == NULL) {
            return 1;
        }
    }
    for (int k = 0; k < MOVES && status == 0; k++) {
        for (int i = 0; i < n && status == 0; i++) {
            if (!move(&rooms[i], acks)) {
                status = 1;
            }
            pc_client_poll(rooms[i].p[0], 0);
            pc_client_poll(rooms[i].p[1], 0);
            if (pace_ms > 0) {
                struct timespec ts = {pace_ms / 1000,
                                      (pace_ms % 1000) * 1000000L};
                nanosleep(&ts, NULL);
            }
        }
    }
    for (int i = 0; i < n; i++) {
        if (i == 0 && status == 0 && settled != NULL) {
            /* Convergence is judged once the server stays up: while it is
             * killed every few hundred ms a replica can only catch up
             * between kills. Keep following meanwhile. */
            int64_t until = now_s() + 10 * RETRY_FOR;
            while (access(settled, F_OK) != 0 && now_s() < until) {
                for (int k = 0; k < n; k++) {
                    pc_client_poll(rooms[k].p[0], 0);
                    pc_client_poll(rooms[k].p[1], 0);
                }
                struct timespec ts = {0, 50 * 1000000L};
                nanosleep(&ts, NULL);
            }
        }
        pc_client *truth = status == 0 ? open_client(ids[i], NULL) : NULL;
        for (int p = 0; p < 2 && truth != NULL; p++) {
            if (!converges(rooms[i].p[p], truth)) {
                pc_client_stats st;
                pc_client_stats_get(rooms[i].p[p], &st);
                fprintf(stderr,
                        "driver: %s: player %d did not converge (seq "
                        "%llu, server %llu): messages %llu, heartbeats "
                        "%llu, gaps %llu, repairs %llu, snapshots %llu, "
                        "requests %llu (%llu failed), stale %llu, gave up "
                        "%llu, mismatches %llu\n",
                        ids[i], p,
                        (unsigned long long)pc_client_seq(rooms[i].p[p]),
                        (unsigned long long)pc_client_seq(truth),
                        (unsigned long long)st.messages,
                        (unsigned long long)st.heartbeats,
                        (unsigned long long)st.gaps_detected,
                        (unsigned long long)st.repairs_changes,
                        (unsigned long long)st.snapshots,
                        (unsigned long long)st.requests,
                        (unsigned long long)st.request_failures,
                        (unsigned long long)st.stale_events,
                        (unsigned long long)st.gave_up,
                        (unsigned long long)st.checksum_mismatches);
                status = 1;
            }
        }
        if (status == 0 && truth == NULL) {
            status = 1;
        }
    }
    fclose(acks);
    if (status == 0) {
        printf("driver: %d game(s) played, every replica converged\n", n);
    }
    /* The clients are not closed: after the server behind them was killed
     * and restarted, nng 1.5.2's nng_close on their REQ socket can block
     * for good (docs/reference/client.md, "Known issues"). The process
     * exits instead, which frees everything. */
    fflush(stdout);
    _exit(status);
}

/* One request to the server's REP socket (a plain nng REQ, as any
 * client could send); the parsed reply, or NULL. */
static cJSON *ask(nng_socket s, const char *req)
{
    char *buf = NULL;
    size_t len = 0;
    if (nng_send(s, (void *)req, strlen(req), 0) != 0 ||
        nng_recv(s, &buf, &len, NNG_FLAG_ALLOC) != 0) {
        return NULL;
    }
    cJSON *doc = cJSON_ParseWithLength(buf, len);
    nng_free(buf, len);
    return doc;
}

/* The change at seq in room id, from the history: 1 found (*reason gets
 * a copy, free it), 0 older than the history (too_old: the seq is folded
 * into a keyframe), -1 on any other answer. */
static int change_at(nng_socket s, const char *id, unsigned long long seq,
                     char **reason)
{
    char req[256];
    snprintf(req, sizeof req,
             "{\"op\":\"changes\",\"room\":\"%s\",\"since\":%llu,"
             "\"limit\":1}",
             id, seq - 1);
    cJSON *doc = ask(s, req);
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(doc, "result");
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(doc, "error");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(err, "code");
    const cJSON *c0 =
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(res, "changes"), 0);
    const cJSON *s0 = cJSON_GetObjectItemCaseSensitive(c0, "seq");
    const cJSON *r0 = cJSON_GetObjectItemCaseSensitive(c0, "reason");
    int found = -1;
    if (cJSON_IsString(code) && strcmp(code->valuestring, "too_old") == 0) {
        found = 0;
    } else if (cJSON_IsNumber(s0) &&
               (unsigned long long)s0->valuedouble == seq &&
               cJSON_IsString(r0)) {
        *reason = strdup(r0->valuestring);
        found = *reason != NULL ? 1 : -1;
    }
    cJSON_Delete(doc);
    return found;
}

/* For a seq older than the history: the room's seq must be past it and
 * the cell must hold the mark (a tictactoe cell never changes once set). */
static bool kept_in_state(nng_socket s, const char *id, unsigned long long seq,
                          const char *mark, int cell)
{
    char req[160];
    snprintf(req, sizeof req, "{\"op\":\"snapshot\",\"room\":\"%s\"}", id);
    cJSON *doc = ask(s, req);
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(doc, "result");
    const cJSON *head = cJSON_GetObjectItemCaseSensitive(res, "seq");
    char ptr[48];
    snprintf(ptr, sizeof ptr, "/state/data/board/%d", cell);
    const cJSON *v = pc_json_pointer_get(res, ptr);
    bool ok = cJSON_IsNumber(head) &&
              (unsigned long long)head->valuedouble >= seq &&
              cJSON_IsString(v) && strcmp(v->valuestring, mark) == 0;
    cJSON_Delete(doc);
    return ok;
}

static int check(char **files, int n)
{
    nng_socket s;
    if (nng_req0_open(&s) != 0 ||
        nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000) != 0 ||
        nng_dial(s, req_url, NULL, 0) != 0) {
        fprintf(stderr, "driver: cannot reach %s\n", req_url);
        return 1;
    }
    int bad = 0, acks = 0, doubts = 0, folded = 0;
    for (int f = 0; f < n; f++) {
        FILE *in = fopen(files[f], "r");
        char line[256];
        while (in != NULL && fgets(line, sizeof line, in) != NULL) {
            char id[80], mark[4];
            unsigned long long seq;
            int cell;
            if (strncmp(line, "doubt ", 6) == 0) {
                doubts++;
                continue;
            }
            if (sscanf(line, "%79s %llu %3s %d", id, &seq, mark, &cell) != 4) {
                fprintf(stderr, "driver: bad ack line %s", line);
                bad++;
                continue;
            }
            acks++;
            char *reason = NULL;
            char want[64];
            snprintf(want, sizeof want, "%s plays cell %d", mark, cell);
            int found = change_at(s, id, seq, &reason);
            if (found == 0) {
                folded++;
                if (!kept_in_state(s, id, seq, mark, cell)) {
                    fprintf(stderr,
                            "driver: LOST: %s seq %llu (\"%s\", before the "
                            "last keyframe) is not in the state\n",
                            id, seq, want);
                    bad++;
                }
            } else if (found < 0 || strncmp(reason, want, strlen(want)) != 0) {
                fprintf(stderr,
                        "driver: LOST or REUSED: %s seq %llu was acknowledged "
                        "for \"%s\", the room now has \"%s\" there\n",
                        id, seq, want, reason != NULL ? reason : "nothing");
                bad++;
            }
            free(reason);
        }
        if (in != NULL) {
            fclose(in);
        }
    }
    nng_close(s);
    printf("driver: %d acknowledged action(s) checked (%d of them before "
           "a keyframe, checked in the state), %d in doubt, %d problem(s)\n",
           acks, folded, doubts, bad);
    return bad == 0 && acks > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: pc-durlog-driver play|check --pub URL --req "
                        "URL --acks FILE [ROOM...]\n");
        return 2;
    }
    const char *mode = argv[1];
    const char *ackfile = NULL;
    int i = 2;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--pub") == 0) {
            pub_url = argv[i + 1];
        } else if (strcmp(argv[i], "--req") == 0) {
            req_url = argv[i + 1];
        } else if (strcmp(argv[i], "--acks") == 0) {
            ackfile = argv[i + 1];
        } else if (strcmp(argv[i], "--settled") == 0) {
            settled = argv[i + 1];
        } else if (strcmp(argv[i], "--pace") == 0) {
            pace_ms = strtol(argv[i + 1], NULL, 10);
        }
    }
    if (pub_url == NULL || req_url == NULL || ackfile == NULL) {
        return 2;
    }
    int rc;
    if (strcmp(mode, "play") == 0) {
        rc = play(ackfile, argv + i, argc - i);
    } else if (strcmp(mode, "check") == 0) {
        /* The ack files are the arguments after the options; --acks names
         * the first. */
        argv[i - 1] = (char *)ackfile;
        rc = check(argv + i - 1, argc - i + 1);
    } else {
        rc = 2;
    }
    pc_transport_fini();
    return rc;
}
