/*
 * play_encounter.c - phasecast-play in an encounter room (see
 * play_encounter.h). A bot prints one line per action it sends and what
 * became of it; a refusal from a race (bot.h) is printed as such and is
 * no error. Only a broken client (timeout, I/O) stops the program.
 */
#include "play_encounter.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "encounter/bot.h"
#include "phasecast/client.h"
#include "phasecast/error.h"

/* The bot of this process: a hero or the game master. */
static struct {
    bool gm;
    encounter_hero_bot hero;
    encounter_gm_bot master;
} self;

void play_encounter_setup(bool gm, int heroes, uint64_t seed, const char *name)
{
    self.gm = gm;
    encounter_hero_bot_init(&self.hero, name, seed);
    encounter_gm_bot_init(&self.master, heroes, seed);
}

static const cJSON *data_of(const pc_client *c)
{
    return cJSON_GetObjectItemCaseSensitive(pc_client_state(c), "data");
}

static const cJSON *hero_of(const pc_client *c, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(data_of(c), "heroes"), name);
}

static int int_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? (int)v->valuedouble : -1;
}

static const char *text_of(const cJSON *o, const char *key)
{
    const char *s =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    return s != NULL ? s : "?";
}

void play_encounter_joined(const pc_client *c, const char *name)
{
    const cJSON *h = hero_of(c, name);
    if (self.gm) {
        printf("%s joined %s as the game master at seq %llu\n", name,
               pc_client_room(c), (unsigned long long)pc_client_seq(c));
    } else {
        printf("%s joined %s at %d,%d with %d hp at seq %llu\n", name,
               pc_client_room(c), int_of(h, "x"), int_of(h, "y"),
               int_of(h, "hp"), (unsigned long long)pc_client_seq(c));
    }
}

bool play_encounter_step(pc_client *c, const char *name, uint64_t *rng,
                         uint64_t *acted_at)
{
    (void)rng; /* the bots keep their own */
    (void)acted_at;
    encounter_bot_report rep;
    pc_error e = {0};
    pc_err rc = self.gm ? encounter_gm_step(c, &self.master, &rep, &e)
                        : encounter_bot_step(c, &self.hero, &rep, &e);
    if (rep.type != NULL) {
        if (rep.applied) {
            printf("%s: %s: ok at seq %llu\n", name, rep.what,
                   (unsigned long long)rep.seq);
        } else {
            printf("%s: %s: %s %s: %s\n", name, rep.what,
                   rep.raced ? "lost a race," : "refused,",
                   rep.refusal.code[0] != '\0' ? rep.refusal.code
                                               : pc_strerror(rc),
                   rep.refusal.message);
        }
        fflush(stdout);
    }
    if (rc == PC_OK) {
        return true;
    }
    if (rep.type == NULL) {
        fprintf(stderr, "phasecast-play: bot: %s\n",
                e.message[0] != '\0' ? e.message : pc_strerror(rc));
    }
    /* A refusal for another reason is printed above; the bot decides
     * again after the next change. A broken client ends the game. */
    return rc != PC_ERR_TIMEOUT && rc != PC_ERR_IO && rc != PC_ERR_CLOSED &&
           rc != PC_ERR_NOMEM && rc != PC_ERR_INVALID;
}

void play_encounter_result(const pc_client *c, const char *name)
{
    const cJSON *data = data_of(c);
    printf("result: %s at seq %llu after round %d",
           text_of(pc_client_state(c), "phase"),
           (unsigned long long)pc_client_seq(c), int_of(data, "round"));
    const cJSON *h = hero_of(c, name);
    if (h != NULL) {
        printf("; %s has %d hp (%s)", name, int_of(h, "hp"),
               text_of(h, "condition"));
    }
    printf("\n");
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(data, "monsters"))
    {
        if (cJSON_GetObjectItemCaseSensitive(e, "hp") != NULL) {
            printf("  monster %s (%s): %d of %d hp, %s\n", e->string,
                   text_of(e, "name"), int_of(e, "hp"), int_of(e, "max_hp"),
                   text_of(e, "condition"));
        } else {
            printf("  monster %s (%s): %s\n", e->string, text_of(e, "name"),
                   text_of(e, "condition"));
        }
    }
    fflush(stdout);
}

void play_encounter_narrate(pc_client *c, const pc_client_change *ch,
                            char *hand, size_t cap)
{
    (void)c;
    (void)hand;
    (void)cap;
    if (!ch->event) { /* events: play_encounter_event */
        printf("seq %llu %s: %s\n", (unsigned long long)ch->seq, ch->phase,
               ch->reason);
        fflush(stdout);
    }
}

void play_encounter_event(const pc_client_room_event *ev)
{
    char *data = cJSON_PrintUnformatted(ev->data);
    printf("seq %llu %s: EVENT %s%s %s: %s\n", (unsigned long long)ev->seq,
           ev->phase, ev->name, ev->private_event ? " (private)" : "",
           data != NULL ? data : "?", ev->reason);
    fflush(stdout);
    cJSON_free(data);
}
