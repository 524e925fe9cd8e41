/*
 * session.c - phasecast-inspect's interactive session: a cursor through
 * time (goto, step, back) and every query command, one line of standard
 * input at a time.
 *
 * When standard input is a terminal the session prints a prompt; when it
 * is not (a script, a test), it echoes each command as "> line" instead,
 * so a transcript reads like the session it replays. With --json neither
 * is printed: each command prints its JSON document and nothing else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

/* Most words in one input line. */
#define WORDS_MAX 32

/* The cause line: which stimulus, and the seq of its first change. */
static void print_cause(const insp_out *o, const cJSON *cause)
{
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(cause, "kind");
    const cJSON *first = cJSON_GetObjectItemCaseSensitive(cause, "first");
    const char *k = cJSON_IsString(kind) ? kind->valuestring : "?";
    fputs("  cause:  ", o->f);
    if (strcmp(k, "action") == 0) {
        const cJSON *who = cJSON_GetObjectItemCaseSensitive(cause, "player");
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(cause, "type");
        char *p = insp_compact(
            cJSON_GetObjectItemCaseSensitive(cause, "payload"), 160);
        fprintf(o->f, "%s's action %s %s",
                cJSON_IsString(who) ? who->valuestring : "?",
                cJSON_IsString(type) ? type->valuestring : "?", p);
        free(p);
    } else if (strcmp(k, "timeout") == 0) {
        const cJSON *ph = cJSON_GetObjectItemCaseSensitive(cause, "phase");
        fprintf(o->f, "the %s timer fired",
                cJSON_IsString(ph) ? ph->valuestring : "?");
    } else if (strcmp(k, "start") == 0) {
        fputs("the room started", o->f);
    } else {
        fputs("the host's own call", o->f);
    }
    fprintf(o->f, " (its first change: seq %.0f)\n",
            cJSON_IsNumber(first) ? first->valuedouble : 0.0);
}

/* Print the change at the cursor: what it was, why, and what it did. */
static int show_cursor(insp_ctx *cx)
{
    pc_timeline *tl = cx->src->tl;
    const insp_out *o = cx->o;
    uint64_t seq = cx->cursor;
    if (seq == pc_timeline_first_seq(tl)) {
        if (o->json) {
            cJSON *doc = cJSON_CreateObject();
            cJSON_AddNumberToObject(doc, "cursor", (double)seq);
            insp_json_line(o, doc);
            cJSON_Delete(doc);
        } else {
            fprintf(o->f,
                    "seq %s%llu%s: the oldest state held (no change to show; "
                    "step to see the next)\n",
                    insp_sty(o, S_SEQ), (unsigned long long)seq,
                    insp_sty(o, S_RESET));
        }
        return 0;
    }
    pc_timeline_entry e;
    cJSON *d = NULL;
    pc_err rv = pc_timeline_diff(tl, seq - 1, seq, &d);
    if (rv == PC_OK) {
        rv = pc_timeline_get(tl, seq, &e);
    }
    if (rv != PC_OK) {
        cJSON_Delete(d);
        return insp_tl_fail(cx, rv, "cannot show the change");
    }
    if (o->json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddNumberToObject(doc, "cursor", (double)seq);
        cJSON *j = insp_entry_json(&e, true);
        if (j != NULL) {
            cJSON_AddItemToObject(doc, "change", j);
        }
        cJSON_AddItemToObject(doc, "effects", d);
        insp_json_line(o, doc);
        cJSON_Delete(doc);
        return 0;
    }
    char clock[16];
    char phase[160];
    insp_clock(e.time_ms, clock);
    insp_phase_col(&e, phase, sizeof(phase));
    fprintf(o->f, "seq %s%llu%s  %s%s%s  %s%s%s  %s%s:%d in %s%s\n",
            insp_sty(o, S_SEQ), (unsigned long long)seq, insp_sty(o, S_RESET),
            insp_sty(o, S_DIM), clock, insp_sty(o, S_RESET),
            insp_sty(o, S_PHASE), phase, insp_sty(o, S_RESET),
            insp_sty(o, S_DIM), e.file, e.line, e.func, insp_sty(o, S_RESET));
    fprintf(o->f, "  reason: %s\n", e.reason);
    if (e.cause != NULL) {
        print_cause(o, e.cause);
    }
    char *p = insp_compact(e.patch, 400);
    fprintf(o->f, "  patch:  %s\n", p);
    free(p);
    insp_diff_text(o, d, "");
    cJSON_Delete(d);
    return 0;
}

int insp_cmd_goto(insp_ctx *cx, int argc, char **argv)
{
    char *pos[1];
    if (insp_parse(cx, argc, argv, NULL, 0, pos, 1) != 1) {
        insp_failf(cx->o, "bad_option", "usage: goto SEQ");
        return 2;
    }
    uint64_t seq;
    if (!insp_seq_arg(cx, pos[0], &seq)) {
        return 1;
    }
    cx->cursor = seq;
    return show_cursor(cx);
}

/* step and back: move the cursor by n (default 1) within the history. */
static int move(insp_ctx *cx, int argc, char **argv, bool forward)
{
    char *pos[1];
    int n = insp_parse(cx, argc, argv, NULL, 0, pos, 1);
    uint64_t by = 1;
    if (n < 0 || (n == 1 && (!insp_num(pos[0], UINT32_MAX, &by) || by == 0))) {
        insp_failf(cx->o, "bad_option", "usage: %s [N]",
                   forward ? "step" : "back");
        return 2;
    }
    pc_timeline *tl = cx->src->tl;
    if (forward && cx->cursor == pc_timeline_last_seq(tl)) {
        size_t added = 0;
        pc_error err = {0};
        if (insp_source_update(cx->src, &added, &err) != PC_OK) {
            return insp_fail(cx->o, &err);
        }
        tl = cx->src->tl;
    }
    uint64_t first = pc_timeline_first_seq(tl);
    uint64_t last = pc_timeline_last_seq(tl);
    if (cx->cursor < first) {
        cx->cursor = first;
    }
    if (forward ? cx->cursor == last : cx->cursor == first) {
        return insp_failf(cx->o, "bad_seq", "already at the %s seq (%llu)",
                          forward ? "last" : "oldest",
                          (unsigned long long)cx->cursor);
    }
    if (forward) {
        cx->cursor = last - cx->cursor > by ? cx->cursor + by : last;
    } else {
        cx->cursor = cx->cursor - first > by ? cx->cursor - by : first;
    }
    return show_cursor(cx);
}

int insp_cmd_step(insp_ctx *cx, int argc, char **argv)
{
    return move(cx, argc, argv, true);
}

int insp_cmd_back(insp_ctx *cx, int argc, char **argv)
{
    return move(cx, argc, argv, false);
}

static int cmd_refresh(insp_ctx *cx, int argc, char **argv)
{
    (void)argv;
    if (argc != 0) {
        insp_failf(cx->o, "bad_option", "usage: refresh");
        return 2;
    }
    size_t added = 0;
    pc_error err = {0};
    if (insp_source_update(cx->src, &added, &err) != PC_OK) {
        return insp_fail(cx->o, &err);
    }
    if (!cx->o->json) {
        fprintf(cx->o->f,
                "%zu new change(s); the history holds seqs %llu..%llu\n", added,
                (unsigned long long)pc_timeline_first_seq(cx->src->tl),
                (unsigned long long)pc_timeline_last_seq(cx->src->tl));
    }
    return 0;
}

static int cmd_help(insp_ctx *cx, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("commands (SEQ: a number, first, last or . for the cursor; PATH: "
          "/data/a/b or a.b):\n"
          "  goto SEQ            move the cursor and show that change\n"
          "  step [N] / back [N] move the cursor forward / back\n"
          "  show [SEQ] [PATH]   the state (or PATH) after SEQ (default: "
          "cursor)\n"
          "  log [filters]       the changes (--from --to --last --phase "
          "--reason --path --patch --events)\n"
          "  diff A B [PATH]     field-level differences between two seqs\n"
          "  find PATH VALUE     when PATH became VALUE (--all, --gone)\n"
          "  find --event NAME   the last event NAME (--all: each one)\n"
          "  blame PATH          which change last set PATH (--history)\n"
          "  refresh             read changes made since\n"
          "  export, verify      as on the command line\n"
          "  help, quit\n",
          cx->o->f);
    return 0;
}

static const struct {
    const char *name;
    insp_cmd_fn fn;
} table[] = {
    {"log", insp_cmd_log},       {"show", insp_cmd_show},
    {"diff", insp_cmd_diff},     {"find", insp_cmd_findv},
    {"blame", insp_cmd_blame},   {"export", insp_cmd_export},
    {"verify", insp_cmd_verify}, {"follow", insp_cmd_follow},
    {"goto", insp_cmd_goto},     {"step", insp_cmd_step},
    {"back", insp_cmd_back},     {"refresh", cmd_refresh},
    {"help", cmd_help},
};

insp_cmd_fn insp_cmd_find(const char *name)
{
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (strcmp(table[i].name, name) == 0) {
            return table[i].fn;
        }
    }
    return NULL;
}

/* Split line into words in place: spaces separate, '...' and "..." quote
 * (the quotes are dropped). Returns the count, or -1 for an open quote or
 * too many words. */
static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int split(char *line, char **words)
{
    int n = 0;
    char *r = line;
    while (true) {
        while (blank(*r)) {
            r++;
        }
        if (*r == '\0') {
            return n;
        }
        if (n == WORDS_MAX) {
            return -1;
        }
        char *w = r; /* writes never overtake reads */
        words[n++] = w;
        while (*r != '\0' && !blank(*r)) {
            if (*r == '\'' || *r == '"') {
                char q = *r++;
                while (*r != '\0' && *r != q) {
                    *w++ = *r++;
                }
                if (*r != q) {
                    return -1;
                }
                r++;
            } else {
                *w++ = *r++;
            }
        }
        if (*r != '\0') {
            r++; /* past the separator before w may overwrite it */
        }
        *w = '\0';
    }
}

int insp_session(insp_ctx *cx)
{
    bool tty = isatty(STDIN_FILENO) != 0;
    cx->session = true;
    cx->cursor = pc_timeline_last_seq(cx->src->tl);
    if (tty && !cx->o->json) {
        fprintf(cx->o->f,
                "room %s (%s): seqs %llu..%llu; the cursor is at the last. "
                "\"help\" lists the commands.\n",
                pc_timeline_room(cx->src->tl), pc_timeline_game(cx->src->tl),
                (unsigned long long)pc_timeline_first_seq(cx->src->tl),
                (unsigned long long)pc_timeline_last_seq(cx->src->tl));
    }
    char *line = NULL;
    size_t cap = 0;
    int status = 0;
    while (true) {
        if (tty) {
            fprintf(cx->o->f, "%s@%llu> ", pc_timeline_room(cx->src->tl),
                    (unsigned long long)cx->cursor);
            fflush(cx->o->f);
        }
        ssize_t got = getline(&line, &cap, stdin);
        if (got < 0) {
            break;
        }
        if (!tty && !cx->o->json) {
            fprintf(cx->o->f, "> %s%s", line,
                    got > 0 && line[got - 1] == '\n' ? "" : "\n");
        }
        fflush(cx->o->f); /* errors go to stderr, unbuffered */
        char *words[WORDS_MAX];
        int n = split(line, words);
        if (n < 0) {
            insp_failf(cx->o, "bad_option",
                       "cannot read that line (an open quote, or more than "
                       "%d words)",
                       WORDS_MAX);
            status = 1;
            continue;
        }
        if (n == 0 || words[0][0] == '#') {
            continue;
        }
        if (strcmp(words[0], "quit") == 0 || strcmp(words[0], "exit") == 0) {
            break;
        }
        insp_cmd_fn fn = insp_cmd_find(words[0]);
        if (fn == NULL) {
            insp_failf(cx->o, "bad_option",
                       "unknown command '%s' (\"help\" lists them)", words[0]);
            status = 1;
            continue;
        }
        int st = fn(cx, n - 1, words + 1);
        status = st != 0 ? 1 : status;
        fflush(cx->o->f);
    }
    free(line);
    return status;
}
