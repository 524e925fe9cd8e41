/*
 * logfile.h - the change log's file format and its careful I/O (internal;
 * the public API is phasecast/changelog.h).
 *
 * The byte layout (docs/durability.md has the normative description):
 *
 *   file   = header frame*
 *   header = "PHASELOG" | version u32 LE (1) | CRC-32C of the 12 bytes
 *            before it, u32 LE                               (16 bytes)
 *   frame  = length u32 LE | CRC-32C of (length bytes, payload) u32 LE |
 *            payload (length bytes: one JSON object, UTF-8)
 *
 * This module builds payload text (JSON written by hand, with the patch
 * and state in canonical form) in a growable buffer that keeps room for
 * the frame header in front, so a whole frame goes out in one write. The
 * I/O helpers retry short writes and EINTR, turn errno into messages, and
 * consult the failpoints named in failpoint.h. Nothing here knows about
 * rooms beyond what it is asked to print.
 */
#ifndef PC_FRAMEWORK_LOGFILE_H
#define PC_FRAMEWORK_LOGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "phasecast/change.h"
#include "phasecast/error.h"

#define PC__LOG_MAGIC       "PHASELOG"
#define PC__LOG_VERSION     1u
#define PC__LOG_HEADER_SIZE 16
#define PC__FRAME_HEAD      8

/* A growing byte buffer; the first PC__FRAME_HEAD bytes are reserved for
 * the frame header of the payload that follows. */
typedef struct pc__buf {
    char *p;
    size_t len;
    size_t cap;
    bool nomem; /* an append failed; the content is incomplete */
} pc__buf;

void pc__buf_reset(pc__buf *b); /* keep the memory, reserve the head */
void pc__buf_fini(pc__buf *b);
void pc__buf_add(pc__buf *b, const char *s, size_t n);
void pc__buf_str(pc__buf *b, const char *s);      /* raw text */
void pc__buf_json_str(pc__buf *b, const char *s); /* as a JSON string */
void pc__buf_u64(pc__buf *b, uint64_t v);         /* decimal */
void pc__buf_i64(pc__buf *b, int64_t v);
void pc__buf_hex64(pc__buf *b, uint64_t v); /* "0123456789abcdef" */
/* Append the canonical text of doc. Returns PC_OK, PC_ERR_INVALID or
 * PC_ERR_NOMEM. */
pc_err pc__buf_canon(pc__buf *b, const cJSON *doc);

/* Fill in the frame header of the payload in b (after the head). */
void pc__frame_seal(pc__buf *b);
/* The CRC a frame header must hold for this payload. */
uint32_t pc__frame_crc(const char *payload, uint32_t len);
uint32_t pc__le32(const unsigned char *p);
void pc__put_le32(unsigned char *p, uint32_t v);
/* The 16 header bytes. */
void pc__log_header(unsigned char out[PC__LOG_HEADER_SIZE]);

/* Encode a change record (b is reset first), its cause last: a cause never
 * makes the encoding fail (an action payload that cannot be written, or
 * would not fit in a frame, is written as dropped). Returns PC_OK,
 * PC_ERR_INVALID, PC_ERR_LIMIT (an integer beyond 2^53, which a reader
 * could not read back exactly) or PC_ERR_NOMEM. The timer and base
 * encoders below refuse the same way. patch_text (patch_len bytes), when
 * not NULL, is the canonical text of c->patch (pc__room_patch_text),
 * copied instead of printing the patch again. */
pc_err pc__record_change(pc__buf *b, const pc_change *c, uint64_t draws,
                         const char *patch_text, size_t patch_len);

/* What a base record holds. */
typedef struct pc__base {
    const char *game;
    const char *room;
    uint64_t seq;
    int64_t time_ms;
    uint64_t seed;
    uint64_t draws;
    uint64_t prng[4];
    uint64_t sum;
    uint64_t bytes;
    int64_t deadline_ms; /* the phase timer's, -1: none armed */
    const cJSON *state;
    /* The base falls inside the entry of its phase, before the enter
     * callback ran: written by a room not yet started, or by a compaction
     * at a transition's record (see pc__room_timer_enter). Written as the
     * member "enter": {"from": entering_from or null}, and then the
     * deadline as null: the old phase's timer is as good as disarmed. */
    bool entering;
    const char *entering_from; /* NULL: the room's start */
} pc__base;

/* Encode a timer record: after seq, the phase timer's deadline is
 * deadline_ms (-1: none armed). b is reset first. Returns PC_OK,
 * PC_ERR_LIMIT or PC_ERR_NOMEM. */
pc_err pc__record_timer(pc__buf *b, uint64_t seq, int64_t deadline_ms);

/* Encode a base record (b is reset first). Returns PC_OK, PC_ERR_INVALID,
 * PC_ERR_LIMIT or PC_ERR_NOMEM. */
pc_err pc__record_base(pc__buf *b, const pc__base *base);

/* ---- I/O: each fills err with the path and strerror on failure ------- */

/* Write all n bytes at the file's offset (failpoint fp_name). */
pc_err pc__io_write(int fd, const void *data, size_t n, const char *fp_name,
                    const char *path, pc_error *err);
/* fsync (data_only: fdatasync) the file (failpoint fp_name). */
pc_err pc__io_sync(int fd, bool data_only, const char *fp_name,
                   const char *path, pc_error *err);
/* fsync the directory dir (failpoint fp_name). */
pc_err pc__io_sync_dir(const char *dir, const char *fp_name, pc_error *err);
/* rename with a failpoint. */
pc_err pc__io_rename(const char *from, const char *to, const char *fp_name,
                     pc_error *err);
/* snprintf into a path buffer of PC_CHANGELOG_PATH_MAX; false if too
 * long. */
bool pc__path(char *out, const char *dir, const char *name, const char *suffix);

/* Write header + one frame to tmp, fsync, rename to path, fsync dir.
 * On success *fd_out (may be NULL) is the open file (now at path, opened
 * for appending) and *size_out its size. Failpoints "<prefix>.open",
 * ".write", ".fsync", ".rename", ".dirsync". On failure the temporary file
 * is removed when the failure came before the rename. */
pc_err pc__io_publish(const char *dir, const char *tmp, const char *path,
                      const pc__buf *frame, const char *fp_prefix, int *fd_out,
                      uint64_t *size_out, bool *renamed, pc_error *err);

/* Monotonic milliseconds. */
int64_t pc__mono_ms(void);

#endif
