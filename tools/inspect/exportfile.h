/*
 * exportfile.h - phasecast-inspect's reader of export files: the JSON
 * lines `export` writes, read back for `import` (replay.c).
 *
 * An export file is untrusted input: it may have been edited, cut or
 * written by another program. Each line is read with a size cap
 * (INSP_EXPORT_LINE_MAX, the change log's frame limit), parsed strictly
 * with pc_json_parse and limits, and every member the replay uses is
 * type-checked; an error names the line. The reader checks the shape of
 * one record at a time and the order of seqs; it does not replay
 * anything, and it does not check that a record's checksum follows from
 * its patch (the replay compares them with what the game commits).
 */
#ifndef PC_INSPECT_EXPORTFILE_H
#define PC_INSPECT_EXPORTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "phasecast/change.h"
#include "phasecast/changelog.h"
#include "phasecast/error.h"

/* Longest line read, newline excluded: the change log's frame limit. */
#define INSP_EXPORT_LINE_MAX PC_CHANGELOG_FRAME_MAX
/* Most PRNG draws a base record may give: restoring a room advances its
 * PRNG one step per draw, so an absurd count would stall the replay. */
#define INSP_EXPORT_DRAWS_MAX ((uint64_t)1 << 32)

/* The base record (line 1): the state the export starts from. */
typedef struct insp_export_base {
    char game[65];
    char room[65];
    uint64_t seq;
    uint64_t sum;
    uint64_t bytes;
    uint64_t seed;
    uint64_t draws;
    bool timer;          /* a phase timer was armed at seq ... */
    int64_t deadline_ms; /* ... due then (room clock) */
    cJSON *state;        /* {"phase","data"}; owned, freed by _fini */
} insp_export_base;

/* One change record, with its cause. The strings and trees point into
 * json, which the record owns (freed by insp_export_rec_fini). */
typedef struct insp_export_rec {
    size_t line; /* its line in the file, from 1 */
    cJSON *json; /* the whole record */
    uint64_t seq;
    int64_t time_ms;
    pc_change_kind kind;
    const char *phase;
    const char *prev;
    const char *reason;
    const char *file;
    int src_line;
    const char *func;
    uint64_t draws;
    uint64_t sum;
    const cJSON *patch; /* an object */
    /* The cause (change.h's pc_cause): */
    const cJSON *cause; /* the "cause" member as it is */
    pc_cause_kind ckind;
    uint64_t first;        /* the seq of the stimulus' first change */
    const char *player;    /* action */
    const char *type;      /* action */
    const cJSON *payload;  /* action: NULL when absent or null */
    pc_role role;          /* action: "role":"gm" gives PC_ROLE_GM */
    bool has_expected_seq; /* action: it carried "expected_seq" ... */
    uint64_t expected_seq; /* ... this one */
    const char *cphase;    /* timeout */
    pc_event event;        /* kind event: the "event" member; else zero */
} insp_export_rec;

/* A reader over one open file. */
typedef struct insp_export_reader {
    FILE *f;
    size_t line; /* lines read so far */
    char *buf;   /* the current line */
    size_t cap;
    uint64_t last_seq; /* the seq of the last record read */
    bool base_read;
} insp_export_reader;

/* Start reading f (borrowed; the caller closes it). */
void insp_export_reader_init(insp_export_reader *r, FILE *f);
void insp_export_reader_fini(insp_export_reader *r);

/*
 * insp_export_read_base - read line 1 as the base record into *b (the
 * caller frees it with insp_export_base_fini). Checks its members, that
 * its state is {"phase": string, "data": object}, and that "sum" and
 * "bytes" are the state's checksum and canonical length. Returns PC_OK,
 * PC_ERR_INVALID (err says which line and why), PC_ERR_IO or PC_ERR_NOMEM.
 */
pc_err insp_export_read_base(insp_export_reader *r, insp_export_base *b,
                             pc_error *err);
void insp_export_base_fini(insp_export_base *b);

/*
 * insp_export_read - read the next change record into *rec (the caller
 * frees it with insp_export_rec_fini). Blank lines and timer records are
 * skipped. A record whose seq is not the last one's + 1 is still
 * returned when its seq is greater (the caller reports the records
 * missing in between); a smaller seq is an error. Returns PC_OK,
 * PC_ERR_NOT_FOUND at the end of the file, PC_ERR_INVALID (a malformed
 * line, a record without a cause, or an action whose payload was not
 * recorded: err says which line and why), PC_ERR_IO or PC_ERR_NOMEM.
 */
pc_err insp_export_read(insp_export_reader *r, insp_export_rec *rec,
                        pc_error *err);
void insp_export_rec_fini(insp_export_rec *rec);

/* The name of a cause kind as records write it ("action"). */
const char *insp_cause_name(pc_cause_kind k);

#endif
