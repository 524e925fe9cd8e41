/*
 * promtext.h - a reader of Prometheus text exposition format 0.0.4, for
 * phasecast-status (not installed).
 *
 * The text comes from the network, so it is untrusted: the reader takes a
 * length (NULs are refused, not treated as the end), bounds every line,
 * the number of samples, families and labels per sample, and stops at the
 * first problem with a structured error naming the line. It keeps what a
 * status table needs - families with their type and help, samples with
 * their labels and value - and checks the grammar of the format (names,
 * label escapes, values, optional timestamps). It does not check
 * semantics a server might get wrong (cumulative buckets, duplicate
 * series); promtool does that in the project's tests. All memory goes
 * through pc_malloc.
 */
#ifndef PC_STATUS_PROMTEXT_H
#define PC_STATUS_PROMTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "phasecast/error.h"

/* Limits on what one text may hold. */
typedef struct pt_limits {
    size_t max_bytes;    /* the whole text */
    size_t max_line;     /* one line, without its newline */
    size_t max_samples;  /* samples in all */
    size_t max_families; /* families, typed or not */
    size_t max_labels;   /* labels of one sample */
} pt_limits;

/* Defaults: 8 MiB, 16 KiB lines, 100,000 samples, 10,000 families, 32
 * labels. */
void pt_limits_default(pt_limits *l);

typedef enum pt_type {
    PT_UNTYPED,
    PT_COUNTER,
    PT_GAUGE,
    PT_HISTOGRAM,
    PT_SUMMARY
} pt_type;

/* "counter", "gauge", "histogram", "summary" or "untyped". */
const char *pt_type_name(pt_type t);

typedef struct pt_label {
    char *name;
    char *value; /* unescaped */
} pt_label;

typedef struct pt_sample {
    char *name; /* the sample's own name: family name, or it plus _bucket,
                   _sum or _count */
    pt_label *labels;
    size_t nlabels;
    double value; /* NaN and infinities allowed, as the format allows */
} pt_sample;

typedef struct pt_family {
    char *name;
    char *help; /* unescaped; "" when there was no HELP line */
    pt_type type;
    pt_sample *samples;
    size_t nsamples, cap;
} pt_family;

/* A parsed text: its families in the order they first appeared. */
typedef struct pt_doc {
    pt_family *families;
    size_t nfamilies, cap;
    size_t nsamples;
} pt_doc;

/*
 * pt_parse - read len bytes of text under lim (NULL: the defaults). On
 * PC_OK *out receives the document (free with pt_free). Returns PC_OK,
 * PC_ERR_INVALID (code "bad_metrics": the message names the line and
 * what is wrong), PC_ERR_LIMIT (code "limit_exceeded") or PC_ERR_NOMEM;
 * err (may be NULL) says which.
 */
pc_err pt_parse(const char *text, size_t len, const pt_limits *lim,
                pt_doc **out, pc_error *err);

/* NULL is ignored. */
void pt_free(pt_doc *doc);

/* The value of label name in s, or NULL. */
const char *pt_label_get(const pt_sample *s, const char *name);

#endif
