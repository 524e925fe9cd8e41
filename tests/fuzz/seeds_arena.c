/*
 * seeds_arena.c - pc-fuzz-make-seeds' fuzz_request seeds for the arena
 * room g (arenagame.h): expected_seq of every shape on strict, plain and
 * game-ruled actions; game-master joins and snapshots with right, wrong,
 * absent and oddly sized or shaped credentials; and a whole session in
 * which the game master sets up, players act with and without
 * expected_seq, and events of every audience are made and read back in
 * every view; and a whole encounter (room e, games/encounter) run by its
 * game master. Played through reqhost.c's server like the other request
 * seeds, so they replay exactly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/room.h"
#include "phasecast/server.h"

#include "reqhost.h"
#include "seeds.h"

/* ---- the arena room g: game master, expected_seq, events ---------------- */

/* One body per file, against a fresh g (alice joined: seq 1). */
static void arena_single(const char *name, const char *body)
{
    put("fuzz_request", name, body, strlen(body));
}

/* expected_seq on a strict, a plain and a game-ruled action type. */
static void expected_seq_seeds(void)
{
    static const char *values[][2] = {
        {"valid", "1"},
        {"stale", "0"},
        {"future", "2"},
        {"2p53", "9007199254740992"},
        {"2p53-plus1", "9007199254740993"},
        {"2p64", "18446744073709551616"},
        {"2p64-plus1", "18446744073709551617"},
        {"1e20", "1e20"},
        {"1e400", "1e400"},
        {"negative", "-1"},
        {"minus-zero", "-0"},
        {"float", "0.5"},
        {"float-integral", "1.0"},
        {"exponent", "1e0"},
        {"string", "\"1\""},
        {"null", "null"},
        {"true", "true"},
        {"array", "[1]"},
        {"object", "{\"seq\":1}"},
    };
    static const char *types[][2] = {
        {"hit", "{\"target\":\"orc\",\"dmg\":1}"},
        {"say", "{\"text\":\"hello\"}"},
        {"scout", "null"},
    };
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
            char name[64], body[512];
            snprintf(name, sizeof name, "expected-%s-%s", types[t][0],
                     values[v][0]);
            snprintf(body, sizeof body,
                     "{\"v\":1,\"op\":\"action\",\"room\":\"g\",\"token\":"
                     "\"@G@\",\"action_id\":\"e%zu\",\"type\":\"%s\","
                     "\"payload\":%s,\"expected_seq\":%s}",
                     v, types[t][0], types[t][1], values[v][1]);
            arena_single(name, body);
        }
    }
}

/* gm joins (and the snapshot's inspector credential) with right, wrong,
 * absent and oddly shaped credentials. */
static void credential_seeds(void)
{
    str big = {0};
    rep(&big, "c", 1000);
    static const struct {
        const char *name, *cred;
    } creds[] = {
        {"right", "\"@M@\""},
        {"wrong", "\"fuzz-game-master-credentiaX\""},
        {"prefix", "\"fuzz-game-master-credentia\""},
        {"longer", "\"fuzz-game-master-credentialX\""},
        {"empty", "\"\""},
        {"one", "\"x\""},
        {"15", "\"0123456789abcde\""},
        {"16", "\"0123456789abcdef\""},
        {"128", NULL},
        {"129", NULL},
        {"1000", NULL},
        {"null", "null"},
        {"number", "12345678901234567890"},
        {"array", "[\"@M@\"]"},
        {"escaped-nul", "\"fuzz-game-master-credential\\u0000\""},
        {"raw-nul", "\"fuzz-game-master\0credential\""},
        {"space", "\"fuzz game master credential\""},
        {"tab", "\"fuzz-game-master-credential\t\""},
        {"del", "\"fuzz-game-master-credential\x7f\""},
        {"utf8", "\"fuzz-game-master-cr\xc3\xa9"
                 "dential\""},
        {"bad-utf8", "\"fuzz-game-master-credential\xff\""},
        {"escaped", "\"\\u0066uzz-game-master-credential\""},
    };
    for (size_t i = 0; i < sizeof creds / sizeof creds[0]; i++) {
        str c = {0};
        if (creds[i].cred == NULL) {
            size_t n = (size_t)atoi(creds[i].name);
            add(&c, "\"", 1);
            add(&c, big.p, n);
            add(&c, "\"", 1);
        } else if (strcmp(creds[i].name, "raw-nul") == 0) {
            /* the NUL ends the C string: write both halves */
            add(&c, creds[i].cred, 17);
            add(&c, "\0", 1);
            add(&c, creds[i].cred + 18, strlen(creds[i].cred + 18));
        } else {
            add(&c, creds[i].cred, strlen(creds[i].cred));
        }
        char name[64];
        str b = {0};
        addf(&b, "{\"v\":1,\"op\":\"join\",\"room\":\"g\",\"role\":\"gm\","
                 "\"name\":\"gm2\",\"credential\":");
        add(&b, c.p, c.n);
        add(&b, "}", 1);
        snprintf(name, sizeof name, "gm-join-%s", creds[i].name);
        put("fuzz_request", name, b.p, b.n);
        free(b.p);
        b = (str){0};
        addf(&b, "{\"v\":1,\"op\":\"snapshot\",\"room\":\"g\","
                 "\"credential\":");
        add(&b, c.p, c.n);
        add(&b, "}", 1);
        snprintf(name, sizeof name, "snapshot-credential-%s", creds[i].name);
        put("fuzz_request", name, b.p, b.n);
        free(b.p);
        free(c.p);
    }
    free(big.p);
    static const char *singles[][2] = {
        {"gm-join-absent", "{\"v\":1,\"op\":\"join\",\"room\":\"g\","
                           "\"role\":\"gm\",\"name\":\"gm2\"}"},
        {"gm-join-no-name", "{\"v\":1,\"op\":\"join\",\"room\":\"g\","
                            "\"role\":\"gm\",\"credential\":\"@M@\"}"},
        {"gm-join-taken", "{\"v\":1,\"op\":\"join\",\"room\":\"g\","
                          "\"role\":\"gm\",\"name\":\"alice\","
                          "\"credential\":\"@M@\"}"},
        {"gm-join-no-gm-room", "{\"v\":1,\"op\":\"join\",\"room\":\"t\","
                               "\"role\":\"gm\",\"name\":\"gm2\","
                               "\"credential\":\"@M@\"}"},
        {"gm-join-nonce",
         "{\"v\":1,\"op\":\"join\",\"room\":\"g\",\"role\":\"gm\",\"name\":"
         "\"gm2\",\"credential\":\"@M@\",\"nonce\":\"nonce-"
         "0123456789abcdef\"}"},
        {"snapshot-gm-token",
         "{\"v\":1,\"op\":\"snapshot\",\"room\":\"g\",\"token\":\"@W@\"}"},
        {"snapshot-token-and-credential",
         "{\"v\":1,\"op\":\"snapshot\",\"room\":\"g\",\"token\":\"@G@\","
         "\"credential\":\"" FZR_CREDENTIAL "\"}"},
        {"snapshot-inspector", "{\"v\":1,\"op\":\"snapshot\",\"room\":\"g\","
                               "\"credential\":\"" FZR_CREDENTIAL "\"}"},
        {"changes-gm", "{\"v\":1,\"op\":\"changes\",\"room\":\"g\","
                       "\"since\":0,\"token\":\"@W@\"}"},
    };
    for (size_t i = 0; i < sizeof singles / sizeof singles[0]; i++) {
        arena_single(singles[i][0], singles[i][1]);
    }
}

/* A whole session in g: the game master sets up, alice and bob act with
 * and without expected_seq, events of every audience, every view read. */
static void arena_session(void)
{
    req_begin();
    pc_room *g = pc_server_find_room(fzr_server(), "g");
    ask_ok("{\"v\":1,\"op\":\"join\",\"room\":\"g\",\"role\":\"player\","
           "\"name\":\"bob\"}");
    ask_ok("{\"v\":1,\"op\":\"join\",\"room\":\"g\",\"role\":\"gm\","
           "\"name\":\"gm2\",\"credential\":\"@M@\"}");
    ask_ok("{\"v\":1,\"op\":\"action\",\"room\":\"g\",\"token\":\"@W@\","
           "\"action_id\":\"a1\",\"type\":\"add\",\"payload\":{\"id\":"
           "\"orc\",\"hp\":12}}");
    ask_ok("{\"v\":1,\"op\":\"action\",\"room\":\"g\",\"token\":\"@2@\","
           "\"action_id\":\"a2\",\"type\":\"add\",\"payload\":{\"id\":"
           "\"gob\",\"hp\":4}}");
    ask_ok("{\"v\":1,\"op\":\"action\",\"room\":\"g\",\"token\":\"@W@\","
           "\"action_id\":\"a3\",\"type\":\"note\",\"payload\":{\"text\":"
           "\"the orc flees at 3\"}}");
    cJSON_Delete(ask("{\"v\":1,\"op\":\"action\",\"room\":\"g\",\"token\":"
                     "\"@G@\",\"action_id\":\"b1\",\"type\":\"add\","
                     "\"payload\":{\"id\":\"imp\",\"hp\":1}}"));
    unsigned long long seq = (unsigned long long)pc_room_seq(g);
    char b[512];
    snprintf(b, sizeof b,
             "{\"v\":1,\"op\":\"action\",\"room\":\"g\",\"token\":\"@G@\","
             "\"action_id\":\"b2\",\"type\":\"hit\",\"payload\":{\"target\":"
             "\"orc\",\"dmg\":3},\"expected_seq\":%llu}",
             seq);
    ask_ok(b);
    /* bob decided on the same state: stale now, refused. */
    cJSON_Delete(ask("{\"v\":1,\"op\":\"action\",\"room\":\"g\",\"token\":"
                     "\"@1@\",\"action_id\":\"c1\",\"type\":\"hit\","
                     "\"payload\":{\"target\":\"orc\",\"dmg\":3},"
                     "\"expected_seq\":%llu}",
                     seq));
    seq = (unsigned long long)pc_room_seq(g);
    snprintf(b, sizeof b,
             "{\"v\":1,\"op\":\"action\",\"room\":\"g\",\"token\":\"@1@\","
             "\"action_id\":\"c2\",\"type\":\"area\",\"payload\":{"
             "\"targets\":[\"orc\",\"gob\",\"orc\"],\"dmg\":2},"
             "\"expected_seq\":%llu}",
             seq);
    ask_ok(b);
    /* one target would fall below zero: nothing changes */
    cJSON_Delete(ask("{\"v\":1,\"op\":\"action\",\"room\":\"g\",\"token\":"
                     "\"@G@\",\"action_id\":\"b3\",\"type\":\"area\","
                     "\"payload\":{\"targets\":[\"orc\",\"gob\"],\"dmg\":5}}"));
    cJSON_Delete(ask("{\"v\":1,\"op\":\"action\",\"room\":\"g\",\"token\":"
                     "\"@G@\",\"action_id\":\"b4\",\"type\":\"scout\","
                     "\"expected_seq\":1}"));
    for (int i = 0; i < 6; i++) {
        cJSON_Delete(ask("{\"v\":1,\"op\":\"action\",\"room\":\"g\","
                         "\"token\":\"@%c@\",\"action_id\":\"r%d\","
                         "\"type\":\"roll\"}",
                         i % 2 == 0 ? 'G' : '1', i));
    }
    ask_ok("{\"v\":1,\"op\":\"action\",\"room\":\"g\",\"token\":\"@1@\","
           "\"action_id\":\"c3\",\"type\":\"say\",\"payload\":{\"text\":"
           "\"charge!\"}}");
    ask_ok("{\"v\":1,\"op\":\"action\",\"room\":\"g\",\"token\":\"@W@\","
           "\"action_id\":\"a4\",\"type\":\"whisper\",\"payload\":{\"to\":"
           "\"alice\",\"data\":{\"hint\":\"left door\"}}}");
    cJSON_Delete(ask("{\"v\":1,\"op\":\"action\",\"room\":\"g\",\"token\":"
                     "\"@G@\",\"action_id\":\"b5\",\"type\":\"whisper\","
                     "\"payload\":{\"to\":\"no one\",\"data\":1}}"));
    ask_ok("{\"v\":1,\"op\":\"action\",\"room\":\"g\",\"token\":\"@G@\","
           "\"action_id\":\"b6\",\"type\":\"shout\",\"payload\":{\"name\":"
           "\"battle.cry\",\"data\":[1,2,{\"a\":null}],\"reason\":\"loud\"}}");
    cJSON_Delete(ask("{\"v\":1,\"op\":\"action\",\"room\":\"g\",\"token\":"
                     "\"@G@\",\"action_id\":\"b7\",\"type\":\"shout\","
                     "\"payload\":{\"name\":\"two words\",\"reason\":\"\"}}"));
    ask_ok("{\"v\":1,\"op\":\"snapshot\",\"room\":\"g\",\"token\":\"@G@\"}");
    ask_ok("{\"v\":1,\"op\":\"snapshot\",\"room\":\"g\",\"token\":\"@W@\"}");
    ask_ok("{\"v\":1,\"op\":\"snapshot\",\"room\":\"g\"}");
    ask_ok("{\"v\":1,\"op\":\"changes\",\"room\":\"g\",\"since\":0}");
    ask_ok("{\"v\":1,\"op\":\"changes\",\"room\":\"g\",\"since\":0,"
           "\"token\":\"@1@\"}");
    ask_ok("{\"v\":1,\"op\":\"changes\",\"room\":\"g\",\"since\":0,"
           "\"token\":\"@2@\"}");
    ask_ok("{\"v\":1,\"op\":\"inspect\",\"room\":\"g\",\"credential\":"
           "\"" FZR_CREDENTIAL "\"}");
    req_end("game-arena");
    req_free();
}

/* A whole encounter (room e): the game master places monsters and
 * starts the fight; heroes attack, cast and heal with and without
 * expected_seq (one stale), the round ends, every view is read. */
static void encounter_session(void)
{
    req_begin();
    pc_room *e = pc_server_find_room(fzr_server(), "e");
    ask_ok("{\"v\":1,\"op\":\"join\",\"room\":\"e\",\"role\":\"player\","
           "\"name\":\"bob\"}");
    ask_ok("{\"v\":1,\"op\":\"action\",\"room\":\"e\",\"token\":\"@V@\","
           "\"action_id\":\"g1\",\"type\":\"add_monster\",\"payload\":{"
           "\"id\":\"m1\",\"name\":\"goblin\",\"hp\":12,\"armour\":10,\"x\":4,"
           "\"y\":6,\"note\":\"flees at 3\"}}");
    ask_ok("{\"v\":1,\"op\":\"action\",\"room\":\"e\",\"token\":\"@V@\","
           "\"action_id\":\"g2\",\"type\":\"add_monster\",\"payload\":{"
           "\"id\":\"m2\",\"name\":\"orc\",\"hp\":30,\"armour\":13,\"x\":2,"
           "\"y\":7}}");
    cJSON_Delete(ask("{\"v\":1,\"op\":\"action\",\"room\":\"e\",\"token\":"
                     "\"@E@\",\"action_id\":\"a1\",\"type\":\"objective\","
                     "\"payload\":{\"text\":\"keep the orc alive\"}}"));
    cJSON_Delete(ask("{\"v\":1,\"op\":\"action\",\"room\":\"e\",\"token\":"
                     "\"@V@\",\"action_id\":\"g3\",\"type\":\"note\","
                     "\"payload\":{\"text\":\"the orc guards the door\"}}"));
    cJSON_Delete(ask("{\"v\":1,\"op\":\"action\",\"room\":\"e\",\"token\":"
                     "\"@E@\",\"action_id\":\"a2\",\"type\":\"start\"}"));
    ask_ok("{\"v\":1,\"op\":\"action\",\"room\":\"e\",\"token\":\"@V@\","
           "\"action_id\":\"g4\",\"type\":\"start\"}");
    unsigned long long seq = (unsigned long long)pc_room_seq(e);
    cJSON_Delete(ask("{\"v\":1,\"op\":\"action\",\"room\":\"e\",\"token\":"
                     "\"@E@\",\"action_id\":\"a3\",\"type\":\"attack\","
                     "\"payload\":{\"target\":\"m1\"},\"expected_seq\":%llu}",
                     seq));
    /* bob decided on the same state: his move is stale now */
    cJSON_Delete(ask("{\"v\":1,\"op\":\"action\",\"room\":\"e\",\"token\":"
                     "\"@1@\",\"action_id\":\"b1\",\"type\":\"move\","
                     "\"payload\":{\"x\":1,\"y\":8},\"expected_seq\":%llu}",
                     seq));
    cJSON_Delete(ask("{\"v\":1,\"op\":\"action\",\"room\":\"e\",\"token\":"
                     "\"@1@\",\"action_id\":\"b2\",\"type\":\"spell\","
                     "\"payload\":{\"x\":3,\"y\":6}}"));
    cJSON_Delete(ask("{\"v\":1,\"op\":\"action\",\"room\":\"e\",\"token\":"
                     "\"@V@\",\"action_id\":\"g5\",\"type\":\"adjust_hp\","
                     "\"payload\":{\"target\":\"alice\",\"delta\":-5}}"));
    cJSON_Delete(ask("{\"v\":1,\"op\":\"action\",\"room\":\"e\",\"token\":"
                     "\"@V@\",\"action_id\":\"g6\",\"type\":\"end_round\"}"));
    cJSON_Delete(ask("{\"v\":1,\"op\":\"action\",\"room\":\"e\",\"token\":"
                     "\"@1@\",\"action_id\":\"b3\",\"type\":\"heal\","
                     "\"payload\":{\"target\":\"alice\"}}"));
    cJSON_Delete(ask("{\"v\":1,\"op\":\"action\",\"room\":\"e\",\"token\":"
                     "\"@E@\",\"action_id\":\"a4\",\"type\":\"defend\"}"));
    ask_ok("{\"v\":1,\"op\":\"snapshot\",\"room\":\"e\",\"token\":\"@E@\"}");
    ask_ok("{\"v\":1,\"op\":\"snapshot\",\"room\":\"e\",\"token\":\"@V@\"}");
    ask_ok("{\"v\":1,\"op\":\"snapshot\",\"room\":\"e\"}");
    ask_ok("{\"v\":1,\"op\":\"changes\",\"room\":\"e\",\"since\":0,"
           "\"token\":\"@1@\"}");
    ask_ok("{\"v\":1,\"op\":\"changes\",\"room\":\"e\",\"since\":0,"
           "\"token\":\"@V@\"}");
    req_end("game-encounter");
    req_free();
}

void arena_seeds(void)
{
    expected_seq_seeds();
    credential_seeds();
    arena_session();
    encounter_session();
}
