/*
 * metrics.h - the server's operating figures for GET /metrics and
 * phasecast-status (internal; docs/metrics.md lists every metric, the
 * public entry point is pc_server_metrics_text in phasecast/server.h).
 *
 * One pc__metrics belongs to one pc_server and is written on the server's
 * loop thread only, so nothing in it is atomic: the other threads read it
 * through pc_server_call like pc_server_stats_get. It counts what the
 * other modules tell it (requests with their latency and error code,
 * changes committed, changes sent to repair gaps, checksum mismatches
 * clients report, the change log's append and fsync times, HTTP and SSE
 * connections) and renders those, the publishing counters and the room
 * count as Prometheus text format 0.0.4. It does not sample clocks on its
 * own, keep anything per room, or forget: counters only grow.
 */
#ifndef PC_TRANSPORT_METRICS_H
#define PC_TRANSPORT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "phasecast/change.h"
#include "phasecast/changelog.h"
#include "phasecast/error.h"
#include "phasecast/room.h"
#include "phasecast/server.h"

#include "broadcast.h"

typedef struct pc__metrics pc__metrics;

/* The request operations, as labelled in phasecast_requests_total. */
typedef enum pc__metrics_op {
    PC__OP_PING,
    PC__OP_INFO,
    PC__OP_JOIN,
    PC__OP_SNAPSHOT,
    PC__OP_CHANGES,
    PC__OP_ACTION,
    PC__OP_INSPECT,
    PC__OP_REPORT,
    PC__OP_UNKNOWN, /* no op, an unknown op, or a body that is no request */
    PC__OP_COUNT
} pc__metrics_op;

/* Most distinct error codes counted by name; later ones count as "other"
 * (game codes are the game's to choose, so the label set stays bounded). */
#define PC__METRICS_CODES_MAX 64

/* The report kinds the server accepts ("kind" of the report op). */
typedef enum pc__report_kind {
    PC__REPORT_CHECKSUM_MISMATCH,
    PC__REPORT_COUNT
} pc__report_kind;

/* A new, zeroed set of metrics. Returns PC_OK or PC_ERR_NOMEM. */
pc_err pc__metrics_new(pc__metrics **out);
/* NULL is ignored. */
void pc__metrics_free(pc__metrics *m);

/* The op named op (NUL-terminated), PC__OP_UNKNOWN for any other. */
pc__metrics_op pc__metrics_op_named(const char *op);

/* One request answered: its op, how long answering took (ns) and its
 * error code (NULL or "" when it succeeded). */
void pc__metrics_request(pc__metrics *m, pc__metrics_op op, uint64_t ns,
                         const char *error_code);
/* A `changes` reply carried n changes (gap repair). */
void pc__metrics_repair_changes(pc__metrics *m, uint64_t n);
/* A client reported a problem of this kind. */
void pc__metrics_report(pc__metrics *m, pc__report_kind kind);
/* The kind named s, or -1 for none. */
int pc__metrics_report_named(const char *s);

/* A room sink counting committed changes; arg is the pc__metrics. */
void pc__metrics_sink(pc_room *room, const pc_change *change, void *arg);
/* A change-log observer (pc_changelog_set_observer); arg is the
 * pc__metrics. */
void pc__metrics_log_io(pc_changelog_io io, uint64_t ns, void *arg);

/* The server's metrics (loop thread). */
pc__metrics *pc__server_metrics(pc_server *srv);

/*
 * pc__metrics_render - m, the publishing counters pub, the number of
 * rooms and the HTTP bridge's counters (http; NULL without a bridge: all
 * zero) as Prometheus text (format 0.0.4) in *text (NUL-terminated,
 * freed with pc_free) and *len. Returns PC_OK or PC_ERR_NOMEM.
 */
pc_err pc__metrics_render(const pc__metrics *m, const pc__pub_stats *pub,
                          size_t rooms, const pc_server_http_stats *http,
                          char **text, size_t *len);

#endif
