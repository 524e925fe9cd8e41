/*
 * logfile.c - change-log records as text, frames around them, and the
 * file I/O that puts them on disk (see logfile.h for the layout).
 *
 * Records are JSON written by hand into one reusable buffer: fixed member
 * names, numbers as integers, 64-bit checksums and seeds as 16 hex digits
 * (cJSON keeps only 53 bits of a number), and the patch and state in the
 * canonical form of canon.h, so a record's bytes depend on nothing but its
 * content. Strings that come from callers (reasons, file and function
 * names) are escaped, and bytes that would make the record fail
 * pc_json_parse on the way back (invalid UTF-8, control characters) become
 * U+FFFD: a log must never hold a record its own reader refuses. A change
 * record's last member, its cause, is logcause.c's. The I/O
 * helpers never leave a temporary file behind on failure and say in err
 * which call failed on which path.
 */
#include "logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/changelog.h"
#include "phasecast/crc32c.h"
#include "failpoint.h"
#include "logcause.h"
#include "logevent.h"

#define BUF_INITIAL 512

void pc__buf_reset(pc__buf *b)
{
    b->len = 0;
    b->nomem = false;
    char zero[PC__FRAME_HEAD] = {0};
    pc__buf_add(b, zero, sizeof(zero));
}

void pc__buf_fini(pc__buf *b)
{
    pc_free(b->p);
    memset(b, 0, sizeof(*b));
}

static bool grow(pc__buf *b, size_t n)
{
    if (b->nomem) {
        return false;
    }
    if (b->cap - b->len >= n) {
        return true;
    }
    size_t cap = b->cap == 0 ? BUF_INITIAL : b->cap;
    while (cap - b->len < n) {
        if (cap > SIZE_MAX / 2) {
            b->nomem = true;
            return false;
        }
        cap *= 2;
    }
    char *p = pc_realloc(b->p, cap);
    if (p == NULL) {
        b->nomem = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void pc__buf_add(pc__buf *b, const char *s, size_t n)
{
    if (grow(b, n)) {
        memcpy(b->p + b->len, s, n);
        b->len += n;
    }
}

void pc__buf_str(pc__buf *b, const char *s)
{
    pc__buf_add(b, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n;
    unsigned min;
    if (c < 0x80) {
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        n = 2, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, min = 0x10000;
    } else {
        return 0;
    }
    unsigned cp = c & (0x3f >> (n - 1));
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return n;
}

void pc__buf_json_str(pc__buf *b, const char *s)
{
    static const char replacement[] = "\\ufffd";
    const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
    pc__buf_add(b, "\"", 1);
    while (*p != '\0') {
        unsigned c = *p;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            pc__buf_add(b, esc, 2);
            p++;
        } else if (c == '\n' || c == '\t' || c == '\r') {
            char esc[2] = {'\\', c == '\n' ? 'n' : c == '\t' ? 't' : 'r'};
            pc__buf_add(b, esc, 2);
            p++;
        } else if (c < 0x20 || c == 0x7f) {
            /* Other control characters are refused by pc_json_check. */
            pc__buf_add(b, replacement, sizeof(replacement) - 1);
            p++;
        } else {
            size_t n = utf8_len(p);
            if (n == 0) {
                pc__buf_add(b, replacement, sizeof(replacement) - 1);
                n = 1;
            } else {
                pc__buf_add(b, (const char *)p, n);
            }
            p += n;
        }
    }
    pc__buf_add(b, "\"", 1);
}

void pc__buf_u64(pc__buf *b, uint64_t v)
{
    char t[24];
    int n = snprintf(t, sizeof(t), "%" PRIu64, v);
    pc__buf_add(b, t, (size_t)n);
}

void pc__buf_i64(pc__buf *b, int64_t v)
{
    char t[24];
    int n = snprintf(t, sizeof(t), "%" PRId64, v);
    pc__buf_add(b, t, (size_t)n);
}

void pc__buf_hex64(pc__buf *b, uint64_t v)
{
    char t[24];
    int n = snprintf(t, sizeof(t), "\"%016" PRIx64 "\"", v);
    pc__buf_add(b, t, (size_t)n);
}

pc_err pc__buf_canon(pc__buf *b, const cJSON *doc)
{
    char *t = NULL;
    size_t n = 0;
    pc_err rv = pc_canon_print(doc, &t, &n);
    if (rv != PC_OK) {
        return rv;
    }
    pc__buf_add(b, t, n);
    pc_free(t);
    return b->nomem ? PC_ERR_NOMEM : PC_OK;
}

uint32_t pc__le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

void pc__put_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

uint32_t pc__frame_crc(const char *payload, uint32_t len)
{
    unsigned char l[4];
    pc__put_le32(l, len);
    return pc_crc32c(pc_crc32c(0, l, 4), payload, len);
}

void pc__frame_seal(pc__buf *b)
{
    uint32_t len = (uint32_t)(b->len - PC__FRAME_HEAD);
    unsigned char *h = (unsigned char *)b->p;
    pc__put_le32(h, len);
    pc__put_le32(h + 4, pc__frame_crc(b->p + PC__FRAME_HEAD, len));
}

void pc__log_header(unsigned char out[PC__LOG_HEADER_SIZE])
{
    memcpy(out, PC__LOG_MAGIC, 8);
    pc__put_le32(out + 8, PC__LOG_VERSION);
    pc__put_le32(out + 12, pc_crc32c(0, out, 12));
}

/* Integers a log holds must read back exactly (a JSON reader's doubles):
 * at most 2^53 in magnitude. */
#define EXACT_MAX ((uint64_t)1 << 53)

static bool exact_i64(int64_t v)
{
    return v >= -(int64_t)EXACT_MAX && v <= (int64_t)EXACT_MAX;
}

pc_err pc__record_change(pc__buf *b, const pc_change *c, uint64_t draws,
                         const char *patch_text, size_t patch_len)
{
    pc__buf_reset(b);
    if (c->seq > EXACT_MAX || draws > EXACT_MAX || !exact_i64(c->time_ms) ||
        c->state_bytes > EXACT_MAX) {
        return PC_ERR_LIMIT;
    }
    pc__buf_str(b, "{\"type\":\"change\",\"seq\":");
    pc__buf_u64(b, c->seq);
    pc__buf_str(b, ",\"time\":");
    pc__buf_i64(b, c->time_ms);
    pc__buf_str(b, c->kind == PC_CHANGE_TRANSITION ? ",\"kind\":\"transition\""
                   : c->kind == PC_CHANGE_EVENT    ? ",\"kind\":\"event\""
                                                   : ",\"kind\":\"update\"");
    pc__buf_str(b, ",\"phase\":");
    pc__buf_json_str(b, c->phase);
    pc__buf_str(b, ",\"prev\":");
    pc__buf_json_str(b, c->prev_phase);
    pc__buf_str(b, ",\"reason\":");
    pc__buf_json_str(b, c->reason);
    pc__buf_str(b, ",\"file\":");
    pc__buf_json_str(b, c->file);
    pc__buf_str(b, ",\"line\":");
    pc__buf_i64(b, c->line);
    pc__buf_str(b, ",\"func\":");
    pc__buf_json_str(b, c->func);
    pc__buf_str(b, ",\"draws\":");
    pc__buf_u64(b, draws);
    pc__buf_str(b, ",\"sum\":");
    pc__buf_hex64(b, c->checksum);
    pc__buf_str(b, ",\"bytes\":");
    pc__buf_u64(b, c->state_bytes);
    pc__buf_str(b, ",\"patch\":");
    pc_err rv = PC_OK;
    if (patch_text != NULL) {
        pc__buf_add(b, patch_text, patch_len);
        rv = b->nomem ? PC_ERR_NOMEM : PC_OK;
    } else {
        rv = pc__buf_canon(b, c->patch);
    }
    if (rv == PC_OK && c->kind == PC_CHANGE_EVENT) {
        rv = pc__record_event(b, &c->event);
    }
    if (rv != PC_OK) {
        return rv;
    }
    rv = pc__record_cause(b, &c->cause, c->seq);
    if (rv != PC_OK) {
        return rv;
    }
    pc__buf_str(b, "}");
    return b->nomem ? PC_ERR_NOMEM : PC_OK;
}

/* The "deadline" member: the phase timer's, or null for none (< 0). */
static void add_deadline(pc__buf *b, int64_t deadline_ms)
{
    pc__buf_str(b, ",\"deadline\":");
    if (deadline_ms >= 0) {
        pc__buf_i64(b, deadline_ms);
    } else {
        pc__buf_str(b, "null");
    }
}

pc_err pc__record_timer(pc__buf *b, uint64_t seq, int64_t deadline_ms)
{
    pc__buf_reset(b);
    if (seq > EXACT_MAX || !exact_i64(deadline_ms)) {
        return PC_ERR_LIMIT;
    }
    pc__buf_str(b, "{\"type\":\"timer\",\"seq\":");
    pc__buf_u64(b, seq);
    add_deadline(b, deadline_ms);
    pc__buf_str(b, "}");
    return b->nomem ? PC_ERR_NOMEM : PC_OK;
}

pc_err pc__record_base(pc__buf *b, const pc__base *base)
{
    pc__buf_reset(b);
    if (base->seq > EXACT_MAX || base->draws > EXACT_MAX ||
        base->bytes > EXACT_MAX || !exact_i64(base->time_ms) ||
        !exact_i64(base->deadline_ms)) {
        return PC_ERR_LIMIT;
    }
    pc__buf_str(b, "{\"type\":\"room\",\"format\":1,\"game\":");
    pc__buf_json_str(b, base->game);
    pc__buf_str(b, ",\"room\":");
    pc__buf_json_str(b, base->room);
    pc__buf_str(b, ",\"seq\":");
    pc__buf_u64(b, base->seq);
    pc__buf_str(b, ",\"time\":");
    pc__buf_i64(b, base->time_ms);
    pc__buf_str(b, ",\"seed\":");
    pc__buf_hex64(b, base->seed);
    pc__buf_str(b, ",\"draws\":");
    pc__buf_u64(b, base->draws);
    pc__buf_str(b, ",\"prng\":[");
    for (int i = 0; i < 4; i++) {
        pc__buf_str(b, i == 0 ? "" : ",");
        pc__buf_hex64(b, base->prng[i]);
    }
    pc__buf_str(b, "],\"sum\":");
    pc__buf_hex64(b, base->sum);
    pc__buf_str(b, ",\"bytes\":");
    pc__buf_u64(b, base->bytes);
    add_deadline(b, base->entering ? -1 : base->deadline_ms);
    if (base->entering) {
        pc__buf_str(b, ",\"enter\":{\"from\":");
        if (base->entering_from != NULL) {
            pc__buf_json_str(b, base->entering_from);
        } else {
            pc__buf_str(b, "null");
        }
        pc__buf_str(b, "}");
    }
    pc__buf_str(b, ",\"state\":");
    pc_err rv = pc__buf_canon(b, base->state);
    if (rv != PC_OK) {
        return rv;
    }
    pc__buf_str(b, "}");
    return b->nomem ? PC_ERR_NOMEM : PC_OK;
}

/* ---- I/O ---------------------------------------------------------------- */

static pc_err io_fail(pc_error *err, int e, const char *call, const char *path)
{
    return pc_error_set(err, PC_ERR_IO, "log_io", "%s %s: %s", call, path,
                        strerror(e));
}

pc_err pc__io_write(int fd, const void *data, size_t n, const char *fp_name,
                    const char *path, pc_error *err)
{
    const char *p = data;
    pc__fp fp = pc__failpoint(fp_name);
    if ((fp == PC__FP_SHORT || fp == PC__FP_TEAR) && n > 1) {
        n /= 2; /* write half, then fail as a full disk would, or crash */
    } else if (fp != PC__FP_PASS) {
        return io_fail(err, pc__failpoint_errno(fp), "write", path);
    }
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return io_fail(err, w < 0 ? errno : EIO, "write", path);
        }
        p += w;
        n -= (size_t)w;
    }
    if (fp == PC__FP_TEAR) {
        pc__failpoint_crash(fp_name);
    }
    if (fp == PC__FP_SHORT) {
        return io_fail(err, EIO, "write", path);
    }
    return PC_OK;
}

pc_err pc__io_sync(int fd, bool data_only, const char *fp_name,
                   const char *path, pc_error *err)
{
    pc__fp fp = pc__failpoint(fp_name);
    if (fp != PC__FP_PASS) {
        return io_fail(err, pc__failpoint_errno(fp), "fsync", path);
    }
    int rc;
    do {
        rc = data_only ? fdatasync(fd) : fsync(fd);
    } while (rc != 0 && errno == EINTR);
    return rc == 0 ? PC_OK : io_fail(err, errno, "fsync", path);
}

pc_err pc__io_sync_dir(const char *dir, const char *fp_name, pc_error *err)
{
    pc__fp fp = pc__failpoint(fp_name);
    if (fp != PC__FP_PASS) {
        return io_fail(err, pc__failpoint_errno(fp), "fsync", dir);
    }
    int fd = open(dir, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return io_fail(err, errno, "open", dir);
    }
    pc_err rv = PC_OK;
    if (fsync(fd) != 0 && errno != EINVAL) { /* EINVAL: fs cannot */
        rv = io_fail(err, errno, "fsync", dir);
    }
    close(fd);
    return rv;
}

pc_err pc__io_rename(const char *from, const char *to, const char *fp_name,
                     pc_error *err)
{
    pc__fp fp = pc__failpoint(fp_name);
    if (fp != PC__FP_PASS) {
        return io_fail(err, pc__failpoint_errno(fp), "rename", from);
    }
    return rename(from, to) == 0 ? PC_OK : io_fail(err, errno, "rename", from);
}

bool pc__path(char *out, const char *dir, const char *name, const char *suffix)
{
    int n = snprintf(out, PC_CHANGELOG_PATH_MAX, "%s/%s%s", dir, name,
                     suffix != NULL ? suffix : "");
    return n > 0 && n < PC_CHANGELOG_PATH_MAX;
}

pc_err pc__io_publish(const char *dir, const char *tmp, const char *path,
                      const pc__buf *frame, const char *fp_prefix, int *fd_out,
                      uint64_t *size_out, bool *renamed, pc_error *err)
{
    char fp[64];
    *renamed = false;
    snprintf(fp, sizeof(fp), "%s.open", fp_prefix);
    pc__fp f = pc__failpoint(fp);
    int fd =
        f != PC__FP_PASS
            ? -1
            : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
                   0644);
    if (fd < 0) {
        return io_fail(err, f != PC__FP_PASS ? pc__failpoint_errno(f) : errno,
                       "open", tmp);
    }
    unsigned char head[PC__LOG_HEADER_SIZE];
    pc__log_header(head);
    snprintf(fp, sizeof(fp), "%s.write", fp_prefix);
    pc_err rv = pc__io_write(fd, head, sizeof(head), fp, tmp, err);
    if (rv == PC_OK) {
        rv = pc__io_write(fd, frame->p, frame->len, fp, tmp, err);
    }
    if (rv == PC_OK) {
        snprintf(fp, sizeof(fp), "%s.fsync", fp_prefix);
        rv = pc__io_sync(fd, false, fp, tmp, err);
    }
    if (rv == PC_OK) {
        snprintf(fp, sizeof(fp), "%s.rename", fp_prefix);
        rv = pc__io_rename(tmp, path, fp, err);
    }
    if (rv != PC_OK) {
        close(fd);
        unlink(tmp);
        return rv;
    }
    *renamed = true;
    *size_out = sizeof(head) + frame->len;
    snprintf(fp, sizeof(fp), "%s.dirsync", fp_prefix);
    rv = pc__io_sync_dir(dir, fp, err);
    if (fd_out != NULL) {
        *fd_out = fd;
    } else {
        close(fd);
    }
    return rv;
}

int64_t pc__mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
