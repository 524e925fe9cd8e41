/*
 * source.h - where phasecast-inspect reads a room's history from: a change
 * log on disk or a live server's request endpoint.
 *
 * Either way the history ends up in a pc_timeline (timeline.h), so the
 * commands do not care which source they read. A log is read-only and may
 * be appended to while it is open; a live server is asked with the
 * `inspect` request, which needs the inspector credential.
 */
#ifndef PC_INSPECT_SOURCE_H
#define PC_INSPECT_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "phasecast/error.h"
#include "phasecast/timeline.h"

/* How long one request to a live server may take. */
#define INSP_REQUEST_TIMEOUT_MS 5000

typedef struct insp_source {
    pc_timeline *tl;
    bool live;
    /* live source */
    nng_socket req;
    bool req_open;
    char url[256];
    char room[65];
    char credential[129];
    uint64_t evicted; /* changes a follow could not read in time */
} insp_source;

/* Open the log at path (and its archived segments). Returns PC_OK or an
 * error described in err. */
pc_err insp_source_open_log(insp_source *s, const char *path, pc_error *err);

/* Connect to a server's request URL and read room's retained history.
 * credential is borrowed. */
pc_err insp_source_open_live(insp_source *s, const char *url, const char *room,
                             const char *credential, pc_error *err);

/* Pick up changes made since the last read; *added receives how many.
 * A live room that evicted changes before they were read restarts the
 * timeline at its oldest retained state and counts them in s->evicted. */
pc_err insp_source_update(insp_source *s, size_t *added, pc_error *err);

void insp_source_close(insp_source *s);

/* Read the inspector credential: the file's first line when path is not
 * NULL, else the environment variable PHASECAST_INSPECTOR_CREDENTIAL.
 * Returns false with err set when neither gives one. */
bool insp_credential(const char *path, char *out, size_t cap, pc_error *err);

#endif
