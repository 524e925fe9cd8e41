/*
 * logcause.h - the "cause" member of change-log records (internal; the
 * record format is docs/durability.md, "The cause object"; the cause
 * itself is pc_cause in phasecast/change.h).
 *
 * logfile.c writes it last in each change record, logreplay.c reads it
 * back; nothing else should know its shape.
 */
#ifndef PC_FRAMEWORK_LOGCAUSE_H
#define PC_FRAMEWORK_LOGCAUSE_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "phasecast/change.h"
#include "phasecast/error.h"

#include "logfile.h"

/*
 * pc__record_cause - append ",\"cause\":{...}" for cause c of the change
 * with this seq to the record being built in b (everything but its
 * closing brace). The cause never makes a change fail: an action payload
 * over 1 MiB of canonical text, or one that would push the record past
 * PC_CHANGELOG_FRAME_MAX, is written as null with "payload_dropped":true;
 * a cause that would not fit even then (only an action whose player or
 * type string is megabytes long) is left out, as is one a room cannot
 * make (first_seq 0 or after seq, an unknown kind), and so is every cause
 * of a record already too big for a frame (refused for its own size).
 * Returns PC_OK or PC_ERR_NOMEM.
 */
pc_err pc__record_cause(pc__buf *b, const pc_cause *c, uint64_t seq);

/*
 * pc__cause_parse - read the optional "cause" member of change record rec
 * (whose seq is seq) into *out, all zero when there is none. Its strings
 * and payload are borrowed from rec. Returns NULL when the member is
 * absent or well formed, else a sentence saying what is wrong with it
 * (static text).
 */
const char *pc__cause_parse(const cJSON *rec, uint64_t seq, pc_cause *out);

#endif
