/*
 * fuzz_logframe.c - libFuzzer target: arbitrary bytes as a change-log file
 * (docs/durability.md), read by every reader the project has.
 *
 * Input: one mode byte, then the body.
 *   mode bit 0 clear - the body is the whole file, byte for byte;
 *   mode bit 0 set   - the body is record payloads separated by '\n', and
 *                      the file is a valid header plus one frame per
 *                      payload with the right lengths and CRC-32C, so the
 *                      fuzzer reaches record parsing and replay instead of
 *                      stopping at checksums.
 * The file is written to a per-process scratch directory (tmpfs when there
 * is one) as fz.pclog, then:
 *  - pc_changelog_verify: PC_OK means a clean report covering every byte;
 *    PC_ERR_INVALID a torn or corrupt report with a message and an offset
 *    equal to valid_bytes, within the file;
 *  - pc_timeline_open_log (the inspector's reader): agrees with verify on
 *    a clean log (same last seq), and every state it rebuilds has the
 *    checksum its record claims;
 *  - pc_changelog_recover with PC_CHANGELOG_REPAIR (tictactoe and piles):
 *    never crashes; success gives a room at the report's last seq.
 * Every error must be one of the documented codes. It does not fuzz the
 * writer, nor segments (archived files) beside the log.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "phasecast/canon.h"
#include "phasecast/changelog.h"
#include "phasecast/crc32c.h"
#include "phasecast/room.h"
#include "phasecast/timeline.h"
#include "piles/piles.h"
#include "tictactoe/tictactoe.h"

#include "fuzz.h"
#include "logfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char dir[256];
static char path[300];

static void cleanup_dir(void)
{
    DIR *d = opendir(dir);
    FZ_CHECK(d != NULL, "cannot open %s", dir);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            char p[600];
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
            (void)unlink(p);
        }
    }
    closedir(d);
}

static void remove_dir(void)
{
    cleanup_dir();
    (void)rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NULL;
    if (base == NULL) {
        base = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
    }
    snprintf(dir, sizeof dir, "%s/pc-fuzz-logframe.XXXXXX", base);
    FZ_CHECK(mkdtemp(dir) != NULL, "mkdtemp %s failed", dir);
    snprintf(path, sizeof path, "%s/fz.pclog", dir);
    atexit(remove_dir);
    return 0;
}

static void put(FILE *f, const void *p, size_t n)
{
    FZ_CHECK(n == 0 || fwrite(p, 1, n, f) == n, "short write to %s", path);
}

static void write_file(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    FZ_CHECK(f != NULL, "cannot create %s", path);
    if (size == 0 || (data[0] & 1) == 0) {
        put(f, data + (size > 0), size - (size > 0));
    } else {
        unsigned char head[PC__LOG_HEADER_SIZE];
        pc__log_header(head);
        put(f, head, sizeof head);
        const char *p = (const char *)data + 1,
                   *end = (const char *)data + size;
        while (p <= end) {
            size_t n = fz_find(p, (size_t)(end - p), "\n", 1);
            unsigned char fh[PC__FRAME_HEAD];
            pc__put_le32(fh, (uint32_t)n);
            pc__put_le32(fh + 4, pc__frame_crc(p, (uint32_t)n));
            put(f, fh, sizeof fh);
            put(f, p, n);
            p += n + 1;
        }
    }
    FZ_CHECK(fclose(f) == 0, "cannot close %s", path);
}

static void check_report(const pc_changelog_report *rep, pc_err rc,
                         const char *who)
{
    if (rc == PC_OK) {
        FZ_CHECK(rep->problem == PC_CHANGELOG_CLEAN &&
                     rep->valid_bytes == rep->file_bytes,
                 "%s: PC_OK but problem %d, %llu of %llu bytes valid", who,
                 (int)rep->problem, (unsigned long long)rep->valid_bytes,
                 (unsigned long long)rep->file_bytes);
    } else if (rc == PC_ERR_INVALID) {
        FZ_CHECK(rep->problem != PC_CHANGELOG_CLEAN && rep->message[0] != 0,
                 "%s: invalid without a problem or message", who);
        FZ_CHECK(rep->offset == rep->valid_bytes &&
                     rep->valid_bytes <= rep->file_bytes,
                 "%s: offset %llu, valid %llu, file %llu", who,
                 (unsigned long long)rep->offset,
                 (unsigned long long)rep->valid_bytes,
                 (unsigned long long)rep->file_bytes);
    } else {
        FZ_CHECK(rc == PC_ERR_NOT_FOUND || rc == PC_ERR_LIMIT,
                 "%s returned %s on a readable file", who, pc_err_name(rc));
    }
    FZ_CHECK(memchr(rep->message, 0, sizeof rep->message) != NULL,
             "%s: message not terminated", who);
}

static void check_timeline(const pc_changelog_report *vrep, pc_err vrc)
{
    pc_timeline *tl = NULL;
    pc_changelog_report rep;
    pc_error err = {0};
    memset(&rep, 0, sizeof rep);
    pc_err rc =
        pc_timeline_open_log(path, PC_TIMELINE_NO_SEGMENTS, &tl, &rep, &err);
    if (vrc == PC_OK) {
        FZ_CHECK(rc == PC_OK, "verify is clean, the timeline says %s: %s",
                 pc_err_name(rc), err.message);
    }
    if (rc != PC_OK) {
        FZ_CHECK(tl == NULL, "a failed open returned a timeline");
        FZ_CHECK(rc == PC_ERR_INVALID || rc == PC_ERR_NOT_FOUND ||
                     rc == PC_ERR_LIMIT,
                 "timeline open returned %s", pc_err_name(rc));
        FZ_CHECK(err.message[0] != 0, "timeline error without a message");
        return;
    }
    uint64_t first = pc_timeline_first_seq(tl), last = pc_timeline_last_seq(tl);
    FZ_CHECK(first <= last, "timeline first %llu > last %llu",
             (unsigned long long)first, (unsigned long long)last);
    if (vrc == PC_OK) {
        FZ_CHECK(last == vrep->last_seq, "timeline ends at %llu, verify %llu",
                 (unsigned long long)last, (unsigned long long)vrep->last_seq);
    }
    /* A few states, the last one always: each has its record's checksum. */
    for (uint64_t s = last; s > first && s + 4 > last; s--) {
        pc_timeline_entry e;
        cJSON *st = NULL;
        uint64_t sum;
        FZ_CHECK(pc_timeline_get(tl, s, &e) == PC_OK, "no entry %llu",
                 (unsigned long long)s);
        uint64_t want = e.sum;
        FZ_CHECK(pc_timeline_state_at(tl, s, &st) == PC_OK, "no state %llu",
                 (unsigned long long)s);
        FZ_CHECK(pc_canon_checksum(st, &sum, NULL) == PC_OK && sum == want,
                 "state at %llu does not have its record's checksum",
                 (unsigned long long)s);
        cJSON_Delete(st);
    }
    pc_timeline_free(tl);
}

static void check_recover(void)
{
    pc_changelog_options o;
    pc_changelog_options_init(&o);
    o.dir = dir;
    o.fsync = PC_FSYNC_NONE;
    o.keyframe_every = 0;
    piles_config cfg;
    piles_config_init(&cfg);
    pc_changelog_game games[] = {{tictactoe_game(), NULL},
                                 {piles_game(), &cfg}};
    pc_room_options ro;
    pc_room_options_init(&ro);
    pc_room *room = NULL;
    pc_changelog *log = NULL;
    pc_changelog_report rep;
    pc_error err = {0};
    memset(&rep, 0, sizeof rep);
    pc_err rc = pc_changelog_recover(
        &o, "fz", games, 2, &ro, PC_CHANGELOG_REPAIR, &room, &log, &rep, &err);
    if (rc == PC_OK) {
        FZ_CHECK(room != NULL && log != NULL, "recovered without a room");
        FZ_CHECK(pc_room_seq(room) == rep.last_seq,
                 "recovered room at seq %llu, report %llu",
                 (unsigned long long)pc_room_seq(room),
                 (unsigned long long)rep.last_seq);
        pc_room_free(room);
        pc_changelog_free(log);
        return;
    }
    FZ_CHECK(rc != PC_ERR_NOMEM && rc != PC_ERR_IO, "recover returned %s: %s",
             pc_err_name(rc), err.message);
    FZ_CHECK(err.message[0] != 0, "recover error %s without a message",
             pc_err_name(rc));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cleanup_dir();
    write_file(data, size);
    pc_changelog_report rep;
    memset(&rep, 0, sizeof rep);
    pc_err rc = pc_changelog_verify(path, &rep);
    check_report(&rep, rc, "verify");
    check_timeline(&rep, rc);
    check_recover();
    return 0;
}
