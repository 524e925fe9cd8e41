/*
 * failpoint.c - the change log's fault-injection points (see failpoint.h).
 *
 * A handful of armed entries in a fixed table, matched by name with strcmp
 * on every check; with nothing armed a check is one load and one branch.
 * The environment is read once, under call_once. This is test machinery
 * that ships in every build, like SQLite's fault-simulation hooks: it does
 * nothing unless a test arms it.
 */
#include "failpoint.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#define ENTRIES_MAX  8
#define NAME_MAX_LEN 48

/* One armed point. */
typedef struct entry {
    char name[NAME_MAX_LEN];
    int action; /* PC__FP_* or ACTION_CRASH */
    unsigned long at;
    bool and_later; /* "@n+" */
    unsigned long hits;
} entry;

enum { ACTION_CRASH = 100 };

static entry entries[ENTRIES_MAX];
static size_t nentries;
static once_flag env_once = ONCE_FLAG_INIT;

static bool parse_entry(const char *s, size_t len, entry *e)
{
    memset(e, 0, sizeof(*e));
    const char *eq = memchr(s, '=', len);
    if (eq == NULL || eq == s || (size_t)(eq - s) >= NAME_MAX_LEN) {
        return false;
    }
    memcpy(e->name, s, (size_t)(eq - s));
    const char *act = eq + 1;
    const char *end = s + len;
    const char *at = memchr(act, '@', (size_t)(end - act));
    size_t alen = (size_t)((at != NULL ? at : end) - act);
    static const struct {
        const char *word;
        int action;
    } words[] = {{"eio", PC__FP_EIO},
                 {"enospc", PC__FP_ENOSPC},
                 {"short", PC__FP_SHORT},
                 {"tear", PC__FP_TEAR},
                 {"crash", ACTION_CRASH}};
    e->action = -1;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strlen(words[i].word) == alen &&
            memcmp(words[i].word, act, alen) == 0) {
            e->action = words[i].action;
        }
    }
    if (e->action < 0) {
        return false;
    }
    e->at = 1;
    if (at != NULL) {
        unsigned long n = 0;
        const char *p = at + 1;
        if (p == end || *p < '0' || *p > '9') {
            return false;
        }
        while (p < end && *p >= '0' && *p <= '9' && n < 100000000ul) {
            n = n * 10 + (unsigned long)(*p++ - '0');
        }
        if (p < end && *p == '+') {
            e->and_later = true;
            p++;
        }
        if (p != end || n == 0) {
            return false;
        }
        e->at = n;
    }
    return true;
}

static bool configure(const char *spec)
{
    nentries = 0;
    if (spec == NULL) {
        return true;
    }
    entry parsed[ENTRIES_MAX];
    size_t n = 0;
    const char *p = spec;
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (len > 0) {
            if (n == ENTRIES_MAX || !parse_entry(p, len, &parsed[n])) {
                return false;
            }
            n++;
        }
        p += len + (comma != NULL ? 1 : 0);
    }
    memcpy(entries, parsed, n * sizeof(parsed[0]));
    nentries = n;
    return true;
}

static void from_env(void)
{
    const char *spec = getenv("PHASECAST_FAILPOINTS");
    if (spec != NULL && !configure(spec)) {
        fprintf(stderr,
                "phasecast: ignoring malformed PHASECAST_FAILPOINTS "
                "\"%s\"\n",
                spec);
    }
}

bool pc__failpoint_configure(const char *spec)
{
    /* Read the environment first, so an in-process spec wins over it. */
    call_once(&env_once, from_env);
    return configure(spec);
}

pc__fp pc__failpoint(const char *name)
{
    call_once(&env_once, from_env);
    for (size_t i = 0; i < nentries; i++) {
        entry *e = &entries[i];
        if (strcmp(e->name, name) != 0) {
            continue;
        }
        e->hits++;
        if (e->hits != e->at && !(e->and_later && e->hits > e->at)) {
            return PC__FP_PASS;
        }
        if (e->action == ACTION_CRASH) {
            pc__failpoint_crash(name);
        }
        return (pc__fp)e->action;
    }
    return PC__FP_PASS;
}

_Noreturn void pc__failpoint_crash(const char *name)
{
    fprintf(stderr, "phasecast: failpoint %s: crash\n", name);
    fflush(stderr);
    raise(SIGKILL);
    _Exit(137); /* not reached */
}

int pc__failpoint_errno(pc__fp fp)
{
    return fp == PC__FP_ENOSPC ? ENOSPC : EIO;
}
