/*
 * cmd.h - phasecast-inspect's commands. Each takes the words after its
 * name (its own options and operands) and returns the exit status: 0 done,
 * 1 an error or nothing found (reported on o->err), 2 a bad command line.
 * The interactive session calls the same functions with the words of one
 * input line, so a command behaves the same in both.
 */
#ifndef PC_INSPECT_CMD_H
#define PC_INSPECT_CMD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "out.h"
#include "source.h"

/* Longest JSON Pointer a command accepts. */
#define INSP_PATH_MAX 1024

/* What every command works on. */
typedef struct insp_ctx {
    insp_source *src;
    insp_out *o;
    uint64_t cursor; /* the session's current seq */
    bool session;    /* inside the interactive session */
} insp_ctx;

typedef int (*insp_cmd_fn)(insp_ctx *cx, int argc, char **argv);

/* The command named name, or NULL. */
insp_cmd_fn insp_cmd_find(const char *name);

int insp_cmd_log(insp_ctx *cx, int argc, char **argv);
int insp_cmd_show(insp_ctx *cx, int argc, char **argv);
int insp_cmd_diff(insp_ctx *cx, int argc, char **argv);
int insp_cmd_findv(insp_ctx *cx, int argc, char **argv);
int insp_cmd_blame(insp_ctx *cx, int argc, char **argv);
int insp_cmd_export(insp_ctx *cx, int argc, char **argv);
int insp_cmd_verify(insp_ctx *cx, int argc, char **argv);
int insp_cmd_follow(insp_ctx *cx, int argc, char **argv);
/* Session-only cursor commands. */
int insp_cmd_goto(insp_ctx *cx, int argc, char **argv);
int insp_cmd_step(insp_ctx *cx, int argc, char **argv);
int insp_cmd_back(insp_ctx *cx, int argc, char **argv);

/* Print the state (or the sub-tree at pointer path) right after seq. */
int insp_show_at(insp_ctx *cx, uint64_t seq, const char *path);

/* Check every file of the log at path (segments first), then that they
 * make one history; used without opening the source first, so that a
 * corrupt log gets a report rather than an error. */
int insp_verify_log(insp_ctx *cx, const char *path);

/* Set by SIGINT and SIGTERM: follow returns, a session ends. */
extern volatile sig_atomic_t insp_stop;

/* The interactive session on stdin (session.c). */
int insp_session(insp_ctx *cx);

/* ---- shared helpers (cmd_util.c) ---- */

/* Parse a seq operand: digits, "first", "last", or "cursor"/"." (the
 * session's cursor); checks it is in the timeline. Reports the error and
 * returns false otherwise. */
bool insp_seq_arg(insp_ctx *cx, const char *s, uint64_t *out);
/* Parse a count or bound: digits only, at most max. */
bool insp_num(const char *s, uint64_t max, uint64_t *out);
/* Turn a path operand into a JSON Pointer into the whole document: "/..."
 * as it is, "" or "/" the whole document, a dotted path "scores.p2" under
 * "/data". Reports and returns false for a malformed one. */
bool insp_path_arg(insp_ctx *cx, const char *s, char *out, size_t cap);
/* Parse a VALUE operand: JSON if it parses, else the string itself. */
cJSON *insp_value_arg(const char *s);
/* The change at seq as the JSON object --json commands print (patch
 * included when with_patch). NULL when out of memory. */
cJSON *insp_entry_json(const pc_timeline_entry *e, bool with_patch);
/* Print a change's one-line summary (the log row) with fixed widths; an
 * event's reason column starts "EVENT name (to whom) data:". */
typedef struct insp_widths {
    size_t seq, phase, source, patch;
} insp_widths;
void insp_widths_fit(insp_widths *w, const pc_timeline_entry *e);
void insp_row(const insp_out *o, const pc_timeline_entry *e,
              const insp_widths *w);
/* "file:line" of a change. */
void insp_source_loc(const pc_timeline_entry *e, char *buf, size_t cap);
/* The phase column: "P" for an update, "A->B" for a transition. */
void insp_phase_col(const pc_timeline_entry *e, char *buf, size_t cap);
/* Report a timeline error for seq/paths. Returns 1. */
int insp_tl_fail(insp_ctx *cx, pc_err rv, const char *what);
/* Print the field-level diff (pc_json_diff output) d, under prefix (only
 * paths equal to it or inside it; "" for all), as text. Returns the count
 * printed. */
size_t insp_diff_text(const insp_out *o, const cJSON *d, const char *prefix);
/* The same filter for --json: a new array (NULL when out of memory). */
cJSON *insp_diff_filter(const cJSON *d, const char *prefix);
/* Split an option "--name" with its value from argv; generic parser. */
typedef struct insp_opt {
    const char *name; /* "--last" */
    bool has_value;
    const char *value; /* set when seen (flag: "1") */
} insp_opt;
/* Parse argv into opts and positional operands (pos, up to npos_max).
 * Returns the number of operands, or -1 after reporting a bad option. */
int insp_parse(insp_ctx *cx, int argc, char **argv, insp_opt *opts,
               size_t nopts, char **pos, int npos_max);

#endif
