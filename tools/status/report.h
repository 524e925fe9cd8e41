/*
 * report.h - phasecast-status's output: a parsed metrics text as a
 * readable table grouped by kind, or as JSON (not installed).
 *
 * Counters and gauges print one line per series; histograms one line per
 * series (its labels but `le`) with the count, the mean and the 50th and
 * 99th percentiles estimated from the buckets the way Prometheus's
 * histogram_quantile does (linear within a bucket). Figures of families
 * whose name says seconds print as durations. The report reads the
 * document only; nothing here touches the network.
 */
#ifndef PC_STATUS_REPORT_H
#define PC_STATUS_REPORT_H

#include <stdio.h>

#include "phasecast/error.h"

#include "promtext.h"

/*
 * st_quantile - the q-quantile (0..1) of a histogram whose n buckets have
 * upper bounds le[] (ascending, the last may be +Inf) and cumulative
 * counts cum[]. NaN when the histogram is empty or has no buckets; the
 * last finite bound when the quantile falls in the +Inf bucket.
 */
double st_quantile(const double *le, const double *cum, size_t n, double q);

/* Print doc as a table to `to`, headed by source (the URL). Returns
 * PC_OK or PC_ERR_NOMEM. */
pc_err st_print_table(FILE *to, const pt_doc *doc, const char *source);

/* Print doc as one JSON document to `to`. Returns PC_OK or
 * PC_ERR_NOMEM. */
pc_err st_print_json(FILE *to, const pt_doc *doc, const char *source);

#endif
