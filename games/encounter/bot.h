/*
 * bot.h - encounter bots that play over the network: a hero and a game
 * master, each driving one pc_client (phasecast/client.h).
 *
 * A hero bot acts once per ROUND, deciding from its own replica (its view:
 * public positions and conditions, its own sheet): heal an ally that is
 * bloodied while it has a slot, else thunderwave a cell that catches two
 * or more monsters and no ally (and pushes nobody off the map or onto
 * someone), else attack the weakest-looking monster, sometimes moving
 * closer first; with no monster left standing it defends, so the round
 * ends without waiting for the timer. The game master bot places its
 * monsters in SETUP (with
 * their hidden hit points, armour and notes), waits for the number of
 * heroes it was told, sends `start`, and in ROUND sometimes writes a note.
 *
 * Every action goes through pc_client_act_retry with the replica's seq as
 * expected_seq, so a stale `move` or `spell` is re-decided on the fresh
 * state. Heroes act at the same moment, so a refusal with `conflict`
 * (past the retry bound), `already_acted`, `target_defeated`,
 * `target_down`, `blocked`, `game_over`, `wrong_phase` or
 * no_actions_in_phase (the round ended meanwhile) is the
 * normal outcome of a race, not an error: the bot reports it and decides
 * again after the next change. The bots never act twice at one replica
 * seq. They do not try to play well, keep no state beyond the small
 * structs below, and trust nothing in the replica (any tree is safe).
 *
 * Threads: a step uses its client, so it runs on the thread that owns
 * that client, never inside one of the client's callbacks.
 */
#ifndef PHASECAST_GAMES_ENCOUNTER_BOT_H
#define PHASECAST_GAMES_ENCOUNTER_BOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "phasecast/client.h"
#include "phasecast/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Conflicts a step re-decides on the fresh replica before it reports one. */
#define ENCOUNTER_BOT_RETRIES 3

/* What one step did. */
typedef struct encounter_bot_report {
    const char *type; /* the action sent (static text); NULL: nothing to do */
    bool applied;     /* the room applied it; seq is the room's seq after */
    bool raced;       /* refused as the normal outcome of a race */
    uint64_t seq;
    char what[160];   /* one line for a log, e.g. "attack m1" */
    pc_error refusal; /* the server's refusal when sent and not applied */
} encounter_bot_report;

/* A hero bot: who it is and what it remembers between steps. */
typedef struct encounter_hero_bot {
    const char *me;   /* the hero's id (the client's player); borrowed */
    uint64_t rng;     /* the bot's own random state; any seed */
    uint64_t next_at; /* no decision while the replica's seq is below */
} encounter_hero_bot;

/* One monster the game master bot places. Strings borrowed. */
typedef struct encounter_monster_spec {
    const char *id;
    const char *name;
    int hp;
    int armour;
    int x, y;
    const char *note; /* NULL: no note */
} encounter_monster_spec;

/* A game master bot: its monsters, when to start, what it has done. */
typedef struct encounter_gm_bot {
    const encounter_monster_spec *monsters; /* NULL: the built-in three */
    size_t nmonsters;
    int heroes;              /* start once this many heroes are seated, >= 1 */
    const char *note_prefix; /* the notes it writes; NULL: "GM note" */
    uint64_t rng;
    uint64_t next_at; /* as encounter_hero_bot's */
    int noted_round;  /* the last ROUND it considered a note in; start 0 */
    int notes;        /* notes written so far */
} encounter_gm_bot;

/* encounter_hero_bot_init, encounter_gm_bot_init - fill b with the
 * defaults (seed as the random state; the GM: the built-in monsters and
 * heroes wanted); me is borrowed. */
void encounter_hero_bot_init(encounter_hero_bot *b, const char *me,
                             uint64_t seed);
void encounter_gm_bot_init(encounter_gm_bot *b, int heroes, uint64_t seed);

/*
 * encounter_bot_choose - the action hero me would take on state (the
 * document {"phase", "data"} as me sees it, borrowed), given random_value.
 * On success *type receives static text and *payload a new tree (the
 * caller frees it with cJSON_Delete; NULL for `defend`). Returns PC_OK,
 * PC_ERR_NOT_FOUND (nothing to do: not ROUND, me is not seated, is down
 * or has acted), PC_ERR_INVALID (a NULL argument)
 * or PC_ERR_NOMEM. Pure; any thread.
 */
pc_err encounter_bot_choose(const cJSON *state, const char *me,
                            uint64_t random_value, const char **type,
                            cJSON **payload);

/*
 * encounter_bot_step - one hero step on c: unless the replica's seq is
 * below b->next_at, decide (encounter_bot_choose) and act through
 * pc_client_act_retry (ENCOUNTER_BOT_RETRIES), then set b->next_at to the
 * seq the action produced (applied) or one past the seq it was decided at
 * (refused), so it never acts twice on one state. *out (required) says what
 * happened. Returns PC_OK when there was nothing to do, the action was
 * applied, or it was refused as a race (out->raced); the game's refusal
 * for any other reason (out->refusal, err); or what pc_client_act_retry
 * returns for the network (PC_ERR_TIMEOUT, PC_ERR_IO, PC_ERR_CLOSED, ...).
 * err may be NULL. The client's thread, not from its callbacks.
 */
pc_err encounter_bot_step(pc_client *c, encounter_hero_bot *b,
                          encounter_bot_report *out, pc_error *err);

/*
 * encounter_gm_choose - the game master's next action on state (the whole
 * document, borrowed): in SETUP add the first of its monsters the room
 * lacks, then `start` once b->heroes heroes are seated; in ROUND, once per
 * round, a note half the time (drawn from b->rng, which it advances, and
 * b->noted_round, which it sets). *type and *payload as
 * encounter_bot_choose. Returns PC_OK, PC_ERR_NOT_FOUND (nothing to do
 * now), PC_ERR_INVALID or PC_ERR_NOMEM. Any thread.
 */
pc_err encounter_gm_choose(const cJSON *state, encounter_gm_bot *b,
                           const char **type, cJSON **payload);

/*
 * encounter_gm_step - one game-master step on c (a PC_CLIENT_GM client),
 * like encounter_bot_step. Same returns. The client's thread.
 */
pc_err encounter_gm_step(pc_client *c, encounter_gm_bot *b,
                         encounter_bot_report *out, pc_error *err);

/* encounter_bot_race_code - true if a refusal with this code (and pc_err)
 * is the normal outcome of a race between simultaneous actions. */
bool encounter_bot_race_code(pc_err rc, const char *code);

#ifdef __cplusplus
}
#endif

#endif /* PHASECAST_GAMES_ENCOUNTER_BOT_H */
