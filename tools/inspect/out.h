/*
 * out.h - how phasecast-inspect prints: colour when it writes to a
 * terminal, aligned columns, times, JSON values and the error shape.
 *
 * Text output is for people and may change between versions; --json output
 * is for scripts and is documented in docs/inspector.md. Nothing here
 * knows about timelines or sources.
 */
#ifndef PC_INSPECT_OUT_H
#define PC_INSPECT_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "phasecast/change.h"
#include "phasecast/error.h"

/* Where and how a command prints. */
typedef struct insp_out {
    FILE *f;    /* results */
    FILE *err;  /* errors and notes */
    bool color; /* ANSI colour on f */
    bool json;  /* one JSON document (or JSON lines) instead of text */
} insp_out;

/* Colours, by meaning rather than hue. */
typedef enum insp_style {
    S_RESET,
    S_SEQ,     /* seqs */
    S_PHASE,   /* phase names */
    S_DIM,     /* times, source locations */
    S_ADDED,   /* added members */
    S_REMOVED, /* removed members */
    S_CHANGED, /* changed values */
    S_KEY,     /* object keys in printed state */
    S_BAD      /* errors */
} insp_style;

/* The escape sequence for style s, or "" when colour is off. */
const char *insp_sty(const insp_out *o, insp_style s);

/* "HH:MM:SS.mmm" (UTC) of a room-clock time in ms. */
void insp_clock(int64_t ms, char buf[16]);
/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC). */
void insp_iso_time(int64_t ms, char buf[32]);

/* Compact JSON of v, cut to at most max bytes with "..." (0: no cut);
 * never NULL (an allocation failure gives "?"). Caller frees with free(). */
char *insp_compact(const cJSON *v, size_t max);

/* Print v as indented JSON with members in bytewise key order, keys
 * coloured, starting at the current column (indent = depth * 2). */
void insp_pretty(const insp_out *o, const cJSON *v);

/* Print doc as one line of compact JSON and a newline on o->f. */
void insp_json_line(const insp_out *o, const cJSON *doc);

/* Report an error on o->err: "phasecast-inspect: code: message", or with
 * --json the object {"error":{"code","message"}}. Returns exit status 1. */
int insp_fail(const insp_out *o, const pc_error *e);
/* The same for an error made here. */
int insp_failf(const insp_out *o, const char *code, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* 16 lowercase hex digits of v. */
void insp_hex64(uint64_t v, char buf[17]);

/* "update", "transition" or "event": a kind as records and --json name
 * it. */
const char *insp_kind_name(pc_change_kind k);
/* An event as records hold it: {"name", "audience", "player" (a player's
 * only), "data"}. NULL when out of memory. */
cJSON *insp_event_json(const pc_event *ev);
/* Whether two events (all zero for changes of other kinds) are the same:
 * name, audience, player and data. */
bool insp_event_equal(const pc_event *a, const pc_event *b);

/* Display width of UTF-8 text s (code points; good enough for names). */
size_t insp_width(const char *s);
/* Print s padded with spaces to width w. */
void insp_pad(FILE *f, const char *s, size_t w);

#endif
