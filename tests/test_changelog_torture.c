/*
 * test_changelog_torture.c - damage a real change log in every way a crash
 * or a bad disk can, byte by byte, and check that verification classifies
 * the damage exactly and that recovery rebuilds exactly the right state.
 *
 * One log is built per run: a base record and 200 change records (16 under
 * valgrind or a sanitizer; keyframe_every 0, so nothing is compacted), with
 * patches of very different sizes and shapes, phase transitions and PRNG
 * draws. The expected room after every seq (canonical text of the state,
 * checksum, phase, draws) and the offset of every frame are kept in
 * memory. Then:
 *
 *  - torn tails: the log is truncated at every byte offset from the start
 *    of the third-last frame to the last byte. verify must say TORN (CLEAN
 *    exactly at a frame boundary) with the longest valid prefix; recovery
 *    must keep the original as .broken, cut to that prefix, rebuild
 *    exactly the room at the prefix's seq, and log on from there;
 *  - garbage tails: 1..4096 bytes (random, zeros, 0xff, plausible frame
 *    headers, truncated copies of real frames) appended to the clean log
 *    are cut and the full room comes back; bytes that DO form a valid frame
 *    are corruption (control trials);
 *  - a flipped byte in a middle record is corruption: recovery refuses
 *    and leaves the file untouched, naming the damaged frame's offset, and
 *    with PC_CHANGELOG_REPAIR rebuilds the prefix before it exactly;
 *  - a flipped byte in the file header or the base record is refused,
 *    repair or not: the room is never silently rebuilt from nothing.
 *
 * The trials are drawn from a seeded generator, so a failure reproduces.
 * The frame layout is parsed here from the format's definition, not with
 * the framework's reader, so the two are checked against each other.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/changelog.h"
#include "phasecast/crc32c.h"
#include "phasecast/room.h"
#include "testalloc.h"
#include "testenv.h"

/* Change records after the base record. The torn tail sweep replays the
 * whole log twice per byte offset (verify, then recover), so under
 * valgrind or a sanitizer, where a replay is 4 to 50 times slower, the log
 * is CHANGES_SLOW deep: still with a transition (every 11th change) and
 * middle records to damage, and still swept at every byte. */
#define CHANGES        200
#define CHANGES_SLOW   16
#define TAIL_FRAMES    3  /* the torn-tail sweep covers the last 3 frames */
#define HEADER         16 /* "PHASELOG" | version | CRC-32C */
#define FRAME_HEAD     8  /* length | CRC-32C */
#define GARBAGE_MAX    4096
#define GARBAGE_TRIALS 300
#define FLIP_TRIALS    200
#define BASE_FLIPS     64

static const pc_phase phases[] = {{.name = "A"}, {.name = "B"}, {.name = "C"}};
static const pc_game game = {
    .name = "tortured", .phases = phases, .nphases = 3};
static const pc_changelog_game games[] = {{&game, NULL}};

/* What the room looked like after one seq. */
typedef struct expect {
    char *canon; /* canonical text of pc_room_state (malloc) */
    uint64_t sum;
    uint64_t draws;
    const char *phase;
} expect;

/* The log built once for the whole run, and what it should recover to. */
static struct {
    char dir[64];
    char path[128];
    char broken[160];
    unsigned char *bytes; /* the clean log file */
    size_t size;
    int changes; /* CHANGES, or CHANGES_SLOW under a slow tool */
    uint64_t start[CHANGES + 2]; /* frame k (seq k) spans start[k]..[k+1] */
    expect want[CHANGES + 1];
} L;

/* ---- Deterministic helpers ----------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void) /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)
{
    return rnd() % n;
}

/* Under valgrind (scripts/valgrind says so) or built with a sanitizer? */
static bool slow_tool(void)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) ||     \
    __has_feature(memory_sanitizer)
    return true;
#endif
#endif
    return testenv_under_valgrind();
}

static int64_t fake_now = 1700000000000;

static int64_t fake_clock(void *arg)
{
    (void)arg;
    return fake_now += 13;
}

static pc_room_options room_options(void)
{
    pc_room_options ro;
    pc_room_options_init(&ro);
    ro.id = "r1";
    ro.seed = 7;
    ro.seed_set = true;
    ro.history_capacity = 8;
    ro.clock = fake_clock;
    return ro;
}

static pc_changelog_options log_options(pc_fsync_policy p)
{
    pc_changelog_options o;
    pc_changelog_options_init(&o);
    o.dir = L.dir;
    o.fsync = p;
    o.keyframe_every = 0;
    return o;
}

/* Append printf output to t (of size n) at *at. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 4, 5)))
#endif
static void
add(char *t, size_t n, size_t *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(t + *at, n - *at, fmt, ap);
    va_end(ap);
    assert_true(k >= 0 && (size_t)k < n - *at);
    *at += (size_t)k;
}

/* Change i: 0 to 3 PRNG draws, then one of several patch shapes (tiny,
 * long strings with escapes, nested objects, arrays, many members,
 * deletions), every 11th a transition to the next phase. */
static pc_err step(pc_room *room, int i)
{
    static char t[16384];
    size_t at = 0;
    uint64_t roll = 0;
    for (int d = 0; d < i % 4; d++) {
        roll = roll * 1000 + pc_room_random_below(room, 1000);
    }
    add(t, sizeof(t), &at, "{\"n\":%d", i);
    switch (i % 9) {
    case 0:
        break; /* the smallest patch */
    case 1:
        add(t, sizeof(t), &at, ",\"s%d\":\"", i % 6);
        for (uint64_t k = 0; k < roll % 700 + 1; k++) {
            add(t, sizeof(t), &at, "%s", k % 37 == 5 ? "\\\"" : "x");
        }
        add(t, sizeof(t), &at, "\"");
        break;
    case 2:
        add(t, sizeof(t), &at, ",\"s%d\":null,\"m\":null", (i / 9) % 6);
        break;
    case 3:
        add(t, sizeof(t), &at, ",\"m\":{\"k%d\":{\"a\":[", i % 5);
        for (uint64_t k = 0; k < roll % 20; k++) {
            add(t, sizeof(t), &at, "%s%llu", k ? "," : "",
                (unsigned long long)(k * roll));
        }
        add(t, sizeof(t), &at, "],\"b\":{\"c\":{\"d\":\"deep\"}}}}");
        break;
    case 4:
        add(t, sizeof(t), &at, ",\"arr\":[");
        for (uint64_t k = 0; k < roll % 30; k++) {
            add(t, sizeof(t), &at, "%s{\"i\":%llu,\"t\":%s}", k ? "," : "",
                (unsigned long long)k, k % 2 ? "true" : "null");
        }
        add(t, sizeof(t), &at, "]");
        break;
    case 5:
        add(t, sizeof(t), &at,
            ",\"u\":\"caf\xc3\xa9 \\u00e9\\n\\t\\\\ %d\",\"neg\":%d,"
            "\"half\":%d.5",
            i, -i, i);
        break;
    case 6:
        for (uint64_t k = 0; k < roll % 25 + 1; k++) {
            add(t, sizeof(t), &at, ",\"w%llu\":%llu", (unsigned long long)k,
                (unsigned long long)(roll + k));
        }
        break;
    case 7:
        for (int k = 0; k < 25; k += 2) {
            add(t, sizeof(t), &at, ",\"w%d\":null", k);
        }
        break;
    default:
        add(t, sizeof(t), &at, ",\"flag\":%s,\"arr\":null",
            roll % 2 ? "true" : "false");
        break;
    }
    add(t, sizeof(t), &at, "}");
    if (i % 11 == 0) {
        const char *next = phases[(i / 11) % 3].name;
        return pc_transition_text(room, next, t, "turn");
    }
    return pc_update_phase_text(room, t, "step");
}

static char *canon_of(const cJSON *doc)
{
    char *text = NULL;
    assert_int_equal(pc_canon_print(doc, &text, NULL), PC_OK);
    char *copy = malloc(strlen(text) + 1);
    assert_non_null(copy);
    strcpy(copy, text);
    pc_free(text);
    return copy;
}

static void remember(pc_room *room, uint64_t seq)
{
    assert_int_equal(pc_room_seq(room), seq);
    expect *w = &L.want[seq];
    w->canon = canon_of(pc_room_state(room));
    w->sum = pc_room_checksum(room);
    w->draws = pc_room_draws(room);
    w->phase = pc_room_phase(room); /* the game's static names */
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* ---- Files --------------------------------------------------------------- */

static void put_file(const char *p, const unsigned char *data, size_t n)
{
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static unsigned char *get_file(const char *p, size_t *n)
{
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    struct stat st;
    assert_int_equal(fstat(fileno(f), &st), 0);
    *n = (size_t)st.st_size;
    unsigned char *b = malloc(*n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, *n, f), *n);
    assert_int_equal(fclose(f), 0);
    return b;
}

/* The file at p holds exactly data[0..n). */
static void assert_file_is(const char *p, const unsigned char *data, size_t n)
{
    size_t got;
    unsigned char *b = get_file(p, &got);
    assert_int_equal(got, n);
    assert_memory_equal(b, data, n);
    free(b);
}

static bool exists(const char *p)
{
    return access(p, F_OK) == 0;
}

/* Does b[k..n) start with a frame whose length is in range, that fits,
 * and whose CRC-32C matches (by the format's definition)? */
static bool frame_at(const unsigned char *b, size_t n, size_t k)
{
    if (k + FRAME_HEAD > n) {
        return false;
    }
    uint32_t len = le32(b + k);
    if (len == 0 || len > PC_CHANGELOG_FRAME_MAX || len > n - k - FRAME_HEAD) {
        return false;
    }
    return pc_crc32c(pc_crc32c(0, b + k, 4), b + k + 8, len) == le32(b + k + 4);
}

/* Does any offset of b[0..n) start a valid frame? */
static bool holds_valid_frame(const unsigned char *b, size_t n)
{
    for (size_t k = 0; k + FRAME_HEAD <= n; k++) {
        if (frame_at(b, n, k)) {
            return true;
        }
    }
    return false;
}

/* ---- The log ------------------------------------------------------------- */

static int build_log(void **state)
{
    (void)state;
    testalloc_install();
    /* Recovery fsyncs the copy it keeps, the cut file and the directory,
     * thousands of times here: on tmpfs that costs nothing, and what is
     * tested is the bytes, not the disk. */
    snprintf(L.dir, sizeof(L.dir), "%s/pc-torture-XXXXXX",
             access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp");
    if (mkdtemp(L.dir) == NULL) {
        return -1;
    }
    snprintf(L.path, sizeof(L.path), "%s/r1.pclog", L.dir);
    snprintf(L.broken, sizeof(L.broken), "%s.broken", L.path);
    pc_room_options ro = room_options();
    pc_changelog_options o = log_options(PC_FSYNC_NONE);
    pc_room *room;
    pc_changelog *log;
    if (pc_room_new(&game, &ro, &room) != PC_OK ||
        pc_changelog_create(&o, room, &log, NULL) != PC_OK ||
        pc_room_start(room) != PC_OK) {
        return -1;
    }
    L.changes = slow_tool() ? CHANGES_SLOW : CHANGES;
    remember(room, 0);
    for (int i = 1; i <= L.changes; i++) {
        if (step(room, i) != PC_OK) {
            return -1;
        }
        remember(room, (uint64_t)i);
    }
    pc_room_free(room);
    pc_changelog_free(log);
    L.bytes = get_file(L.path, &L.size);
    /* Walk the frames by their lengths: one per seq, ending at the end. */
    uint64_t off = HEADER;
    for (int k = 0; k <= L.changes; k++) {
        if (off + FRAME_HEAD > L.size) {
            return -1;
        }
        L.start[k] = off;
        off += FRAME_HEAD + le32(L.bytes + off);
    }
    L.start[L.changes + 1] = off;
    if (off != L.size) {
        return -1;
    }
    pc_changelog_report rep;
    if (pc_changelog_verify(L.path, &rep) != PC_OK ||
        rep.last_seq != (uint64_t)L.changes || rep.valid_bytes != L.size) {
        return -1;
    }
    printf("torture log: %d changes, %zu bytes, last %d frames %llu bytes\n",
           L.changes, L.size, TAIL_FRAMES,
           (unsigned long long)(L.size - L.start[L.changes + 1 - TAIL_FRAMES]));
    return 0;
}

static int drop_log(void **state)
{
    (void)state;
    for (int k = 0; k <= L.changes; k++) {
        free(L.want[k].canon);
    }
    free(L.bytes);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", L.dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Per test: count allocations; afterwards remove what a test left. */
static int setup(void **state)
{
    return testalloc_setup(state);
}

static int teardown(void **state)
{
    unlink(L.path);
    unlink(L.broken);
    return testalloc_teardown(state);
}

/* The seq of the longest valid prefix of a file cut at n bytes: the
 * number of whole frames minus one (the base is seq 0), and that prefix's
 * length. */
static int prefix_of(uint64_t n, uint64_t *valid)
{
    int k = -1;
    while (k + 1 <= L.changes && L.start[k + 2] <= n) {
        k++;
    }
    *valid = L.start[k + 1];
    return k;
}

static pc_err recover(unsigned flags, pc_room **room, pc_changelog **log,
                      pc_changelog_report *rep, pc_error *e)
{
    pc_changelog_options o = log_options(PC_FSYNC_NONE);
    pc_room_options ro = room_options();
    return pc_changelog_recover(&o, "r1", games, 1, &ro, flags, room, log, rep,
                                e);
}

/* room is exactly the room after seq: seq, state, checksum, phase, PRNG. */
static void assert_room_at(pc_room *room, int seq)
{
    const expect *w = &L.want[seq];
    assert_int_equal(pc_room_seq(room), seq);
    assert_int_equal(pc_room_checksum(room), w->sum);
    assert_int_equal(pc_room_draws(room), w->draws);
    assert_string_equal(pc_room_phase(room), w->phase);
    char *text = canon_of(pc_room_state(room));
    assert_string_equal(text, w->canon);
    free(text);
}

/*
 * The recovered room takes the next change, as seq + 1 (the same change
 * as the original log's when there was one), and the file is then the
 * valid prefix, unchanged, plus exactly one frame holding that change.
 * With full set, the whole log must also verify clean (a replay, so only
 * some trials pay for it). Frees room and log.
 */
static void log_on(pc_room *room, pc_changelog *log, int seq, uint64_t valid,
                   bool full)
{
    assert_int_equal(pc_room_start(room), PC_OK);
    assert_int_equal(step(room, seq + 1), PC_OK);
    assert_int_equal(pc_room_seq(room), seq + 1);
    if (seq < L.changes) {
        assert_int_equal(pc_room_checksum(room), L.want[seq + 1].sum);
    }
    uint64_t sum = pc_room_checksum(room);
    pc_room_free(room);
    pc_changelog_free(log);

    size_t n;
    unsigned char *b = get_file(L.path, &n);
    assert_true(n > valid);
    assert_memory_equal(b, L.bytes, valid);
    assert_true(frame_at(b, n, valid));
    assert_int_equal(le32(b + valid), n - valid - FRAME_HEAD);
    b[n] = '\0'; /* get_file leaves room for it */
    const char *payload = (const char *)b + valid + FRAME_HEAD;
    char want[64];
    snprintf(want, sizeof(want), "{\"type\":\"change\",\"seq\":%d,", seq + 1);
    assert_memory_equal(payload, want, strlen(want));
    snprintf(want, sizeof(want), ",\"sum\":\"%016llx\",",
             (unsigned long long)sum);
    assert_non_null(strstr(payload, want));
    free(b);
    if (full) {
        pc_changelog_report rep;
        assert_int_equal(pc_changelog_verify(L.path, &rep), PC_OK);
        assert_int_equal(rep.last_seq, seq + 1);
        assert_int_equal(rep.valid_bytes, n);
    }
}

/* ---- 1. Torn tails at every byte ----------------------------------------- */

static void test_truncation_at_every_byte_of_the_last_frames(void **state)
{
    (void)state;
    uint64_t from = L.start[L.changes + 1 - TAIL_FRAMES];
    int torn = 0, clean = 0;
    int64_t t0 = testenv_mono_ms();
    for (uint64_t n = from; n < L.size; n++) {
        uint64_t valid;
        int seq = prefix_of(n, &valid);
        bool boundary = valid == n;
        put_file(L.path, L.bytes, (size_t)n);

        pc_changelog_report rep;
        assert_int_equal(pc_changelog_verify(L.path, &rep),
                         boundary ? PC_OK : PC_ERR_INVALID);
        assert_int_equal(rep.problem,
                         boundary ? PC_CHANGELOG_CLEAN : PC_CHANGELOG_TORN);
        assert_int_equal(rep.file_bytes, n);
        assert_int_equal(rep.valid_bytes, valid);
        assert_int_equal(rep.last_seq, seq);
        assert_int_equal(rep.records, seq + 1);
        if (!boundary) {
            assert_int_equal(rep.offset, valid);
        }

        pc_room *room = NULL;
        pc_changelog *log = NULL;
        pc_error e = {0};
        assert_int_equal(recover(0, &room, &log, &rep, &e), PC_OK);
        assert_int_equal(rep.problem,
                         boundary ? PC_CHANGELOG_CLEAN : PC_CHANGELOG_TORN);
        assert_int_equal(rep.valid_bytes, valid);
        assert_int_equal(rep.cut, !boundary);
        if (boundary) {
            assert_false(exists(L.broken));
            clean++;
        } else {
            assert_string_equal(rep.broken_path, L.broken);
            assert_file_is(L.broken, L.bytes, (size_t)n);
            assert_file_is(L.path, L.bytes, (size_t)valid);
            torn++;
        }
        assert_room_at(room, seq);
        log_on(room, log, seq, valid, boundary || (n - from) % 50 == 0);
        unlink(L.broken);
    }
    printf("truncation: %d torn, %d clean offsets in %lld ms\n", torn, clean,
           (long long)(testenv_mono_ms() - t0));
    assert_int_equal(clean, TAIL_FRAMES);
}

/* ---- 2. Garbage after the last frame ------------------------------------- */

/* Append g[0..n) to the clean log; recovery must cut it and bring back the
 * whole room. */
static void garbage_trial(const unsigned char *g, size_t n, bool full)
{
    assert_false(holds_valid_frame(g, n));
    unsigned char *buf = malloc(L.size + n);
    assert_non_null(buf);
    memcpy(buf, L.bytes, L.size);
    memcpy(buf + L.size, g, n);
    put_file(L.path, buf, L.size + n);

    pc_changelog_report rep;
    assert_int_equal(pc_changelog_verify(L.path, &rep), PC_ERR_INVALID);
    assert_int_equal(rep.problem, PC_CHANGELOG_TORN);
    assert_int_equal(rep.offset, L.size);
    assert_int_equal(rep.valid_bytes, L.size);
    assert_int_equal(rep.last_seq, L.changes);

    pc_room *room = NULL;
    pc_changelog *log = NULL;
    pc_error e = {0};
    assert_int_equal(recover(0, &room, &log, &rep, &e), PC_OK);
    assert_int_equal(rep.problem, PC_CHANGELOG_TORN);
    assert_true(rep.cut);
    assert_string_equal(rep.broken_path, L.broken);
    assert_file_is(L.broken, buf, L.size + n);
    assert_file_is(L.path, L.bytes, L.size);
    assert_room_at(room, L.changes);
    log_on(room, log, L.changes, L.size, full);
    unlink(L.broken);
    free(buf);
}

/* Append g[0..n), which holds a valid frame: that is corruption, and
 * recovery without repair refuses and leaves the file as it is. */
static void valid_frame_trial(const unsigned char *g, size_t n)
{
    assert_true(holds_valid_frame(g, n));
    unsigned char *buf = malloc(L.size + n);
    assert_non_null(buf);
    memcpy(buf, L.bytes, L.size);
    memcpy(buf + L.size, g, n);
    put_file(L.path, buf, L.size + n);
    pc_changelog_report rep;
    assert_int_equal(pc_changelog_verify(L.path, &rep), PC_ERR_INVALID);
    assert_int_equal(rep.problem, PC_CHANGELOG_CORRUPT);
    assert_int_equal(rep.offset, L.size);
    pc_room *room = NULL;
    pc_changelog *log = NULL;
    pc_error e = {0};
    assert_int_equal(recover(0, &room, &log, &rep, &e), PC_ERR_INVALID);
    assert_null(room);
    assert_int_equal(rep.problem, PC_CHANGELOG_CORRUPT);
    assert_false(rep.cut);
    assert_file_is(L.path, buf, L.size + n);
    assert_false(exists(L.broken));
    free(buf);
}

/* A frame holding payload, with the right length and CRC-32C. */
static size_t frame(unsigned char *out, const char *payload)
{
    uint32_t len = (uint32_t)strlen(payload);
    unsigned char h[4] = {(unsigned char)len, (unsigned char)(len >> 8),
                          (unsigned char)(len >> 16),
                          (unsigned char)(len >> 24)};
    uint32_t crc = pc_crc32c(pc_crc32c(0, h, 4), payload, len);
    memcpy(out, h, 4);
    for (int i = 0; i < 4; i++) {
        out[4 + i] = (unsigned char)(crc >> (8 * i));
    }
    memcpy(out + 8, payload, len);
    return 8 + len;
}

static void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (unsigned char)(v >> (8 * i));
    }
}

static void test_garbage_after_the_last_frame_is_cut(void **state)
{
    (void)state;
    static const size_t sizes[] = {1,  2,  3,   4,    7,    8,    9,   15,
                                   16, 17, 100, 1000, 4094, 4095, 4096};
    const size_t nsizes = sizeof(sizes) / sizeof(sizes[0]);
    unsigned char *g = malloc(GARBAGE_MAX);
    assert_non_null(g);
    rng_state = 0x6761726261676521ull;
    int kinds[8] = {0};
    int64_t t0 = testenv_mono_ms();
    for (int t = 0; t < GARBAGE_TRIALS; t++) {
        size_t n = (size_t)t / 8 < nsizes ? sizes[t / 8]
                                          : 1 + (size_t)below(GARBAGE_MAX);
        for (size_t i = 0; i < n; i++) {
            g[i] = (unsigned char)rnd();
        }
        int kind = t % 8;
        const uint64_t last = L.start[L.changes]; /* the last real frame */
        const size_t last_len = L.size - last;
        switch (kind) {
        case 0: /* random bytes */
            break;
        case 1: /* zeros, as a file system may leave after a crash */
            memset(g, 0, n);
            break;
        case 2: /* 0xff: a length far out of range */
            memset(g, 0xff, n);
            break;
        case 3: /* a plausible length, fitting or running past the end */
            if (n >= 4) {
                put_le32(g, 1 + (uint32_t)below(2 * n + 16));
            }
            break;
        case 4: /* a length that fits exactly, wrong CRC */
            if (n >= 4) {
                put_le32(g, n > FRAME_HEAD ? (uint32_t)(n - FRAME_HEAD) : 1);
            }
            break;
        case 5: /* a real frame's header (length and CRC), other bytes */
            memcpy(g, L.bytes + L.start[below(L.changes + 1)],
                   n < FRAME_HEAD ? n : FRAME_HEAD);
            break;
        case 6: /* the last frame written again, torn part-way */
            if (n >= last_len) {
                n = last_len - 1;
            }
            memcpy(g, L.bytes + last, n);
            break;
        default: /* a real frame's header, then text from a record */
            memcpy(g, L.bytes + last, n < last_len - 1 ? n : last_len - 1);
            if (n >= FRAME_HEAD) {
                put_le32(g, (uint32_t)(n - FRAME_HEAD));
            }
            if (n == last_len) { /* never the last frame itself */
                g[n - 1] = (unsigned char)(L.bytes[L.size - 1] ^ 0x55);
            }
            break;
        }
        kinds[kind]++;
        garbage_trial(g, n, t % 25 == 0);
    }
    /* Controls: bytes that do form a valid frame are not a torn tail. */
    size_t n = frame(g, "{}"); /* a valid frame, not a record */
    valid_frame_trial(g, n);
    memcpy(g, L.bytes + L.start[L.changes], L.size - L.start[L.changes]);
    valid_frame_trial(g, L.size - L.start[L.changes]); /* a record again */
    for (size_t i = 0; i < 100; i++) {
        g[i] = (unsigned char)rnd();
    }
    n = 100 + frame(g + 100, "{\"type\":\"change\"}"); /* garbage, frame */
    valid_frame_trial(g, n);
    free(g);
    printf("garbage: %d trials (random %d, zeros %d, 0xff %d, plausible "
           "length %d, exact length %d, real header %d, torn rewrite %d, "
           "record text %d) + 3 valid-frame controls in %lld ms\n",
           GARBAGE_TRIALS, kinds[0], kinds[1], kinds[2], kinds[3], kinds[4],
           kinds[5], kinds[6], kinds[7], (long long)(testenv_mono_ms() - t0));
}

/* ---- 3. A flipped byte in a middle record -------------------------------- */

/* The log with byte pos of frame k (a change record, not one of the last
 * TAIL_FRAMES) flipped by x: verify and recovery must say CORRUPT at that
 * frame; without repair recovery refuses and leaves the file exactly as
 * it is; with repair it cuts the log before the frame, keeps a copy, and
 * the room is exactly the room before it. */
static void flip_trial(unsigned char *buf, int k, uint64_t pos, unsigned char x,
                       bool full)
{
    uint64_t fs = L.start[k];
    memcpy(buf, L.bytes, L.size);
    buf[pos] ^= x;
    put_file(L.path, buf, L.size);

    pc_changelog_report rep;
    assert_int_equal(pc_changelog_verify(L.path, &rep), PC_ERR_INVALID);
    assert_int_equal(rep.problem, PC_CHANGELOG_CORRUPT);
    assert_true(rep.offset >= fs && rep.offset <= pos);
    assert_int_equal(rep.offset, fs);
    assert_int_equal(rep.valid_bytes, fs);
    assert_int_equal(rep.last_seq, k - 1);

    /* Without repair: refused, and the file is left exactly as is. */
    pc_room *room = NULL;
    pc_changelog *log = NULL;
    pc_error e = {0};
    assert_int_equal(recover(0, &room, &log, &rep, &e), PC_ERR_INVALID);
    assert_null(room);
    assert_null(log);
    assert_string_equal(e.code, "log_corrupt");
    assert_int_equal(rep.problem, PC_CHANGELOG_CORRUPT);
    assert_true(rep.offset >= fs && rep.offset <= pos);
    assert_int_equal(rep.offset, fs);
    assert_false(rep.cut);
    assert_file_is(L.path, buf, L.size);
    assert_false(exists(L.broken));

    /* With repair: cut before the damaged frame, a copy kept. */
    assert_int_equal(recover(PC_CHANGELOG_REPAIR, &room, &log, &rep, &e),
                     PC_OK);
    assert_int_equal(rep.problem, PC_CHANGELOG_CORRUPT);
    assert_true(rep.cut);
    assert_int_equal(rep.valid_bytes, fs);
    assert_file_is(L.broken, buf, L.size);
    assert_file_is(L.path, L.bytes, (size_t)fs);
    assert_room_at(room, k - 1);
    log_on(room, log, k - 1, fs, full);
    unlink(L.broken);
}

static void test_flipped_byte_in_a_middle_record_is_corruption(void **state)
{
    (void)state;
    unsigned char *buf = malloc(L.size);
    assert_non_null(buf);
    rng_state = 0x666c697073213231ull;
    int in_len = 0, in_crc = 0, in_payload = 0;
    int64_t t0 = testenv_mono_ms();
    for (int t = 0; t < FLIP_TRIALS; t++) {
        /* Frames 1 .. changes - TAIL_FRAMES: not the base, not the last 3;
         * a quarter of the flips hit the frame header. */
        int k = 1 + (int)below(L.changes - TAIL_FRAMES);
        uint64_t fs = L.start[k], fe = L.start[k + 1];
        uint64_t pos =
            t % 4 == 0 ? fs + below(FRAME_HEAD) : fs + below(fe - fs);
        if (pos < fs + 4) {
            in_len++;
        } else if (pos < fs + FRAME_HEAD) {
            in_crc++;
        } else {
            in_payload++;
        }
        flip_trial(buf, k, pos, (unsigned char)(1 + below(255)), t % 10 == 0);
    }
    /* And every byte of the length and CRC of the first, a middle and the
     * last such frame, by a low bit, a high bit and all bits: a length
     * made shorter, longer, past the end or out of range. */
    const int frames[] = {1, L.changes / 2, L.changes - TAIL_FRAMES};
    static const unsigned char xs[] = {0x01, 0x80, 0xff};
    int heads = 0;
    for (size_t f = 0; f < sizeof(frames) / sizeof(frames[0]); f++) {
        for (uint64_t b = 0; b < FRAME_HEAD; b++) {
            for (size_t i = 0; i < sizeof(xs); i++, heads++) {
                flip_trial(buf, frames[f], L.start[frames[f]] + b, xs[i],
                           false);
            }
        }
    }
    free(buf);
    printf("flips: %d random trials (length %d, CRC %d, payload %d) and %d "
           "in frame headers in %lld ms\n",
           FLIP_TRIALS, in_len, in_crc, in_payload, heads,
           (long long)(testenv_mono_ms() - t0));
}

/* ---- 4. The header and the base record ----------------------------------- */

/* data (n bytes) with byte pos flipped must be refused, repair or not,
 * reported CORRUPT at offset at, and left untouched. */
static void refused(const unsigned char *data, size_t n, uint64_t pos,
                    unsigned char x, uint64_t at)
{
    unsigned char *buf = malloc(n);
    assert_non_null(buf);
    memcpy(buf, data, n);
    buf[pos] ^= x;
    put_file(L.path, buf, n);
    pc_changelog_report rep;
    assert_int_equal(pc_changelog_verify(L.path, &rep), PC_ERR_INVALID);
    assert_int_equal(rep.problem, PC_CHANGELOG_CORRUPT);
    assert_int_equal(rep.offset, at);
    assert_int_equal(rep.records, 0);
    for (unsigned flags = 0; flags <= PC_CHANGELOG_REPAIR; flags++) {
        pc_room *room = NULL;
        pc_changelog *log = NULL;
        pc_error e = {0};
        assert_int_equal(recover(flags, &room, &log, &rep, &e), PC_ERR_INVALID);
        assert_null(room);
        assert_null(log);
        assert_int_equal(rep.problem, PC_CHANGELOG_CORRUPT);
        assert_int_equal(rep.offset, at);
        assert_false(rep.cut);
        assert_file_is(L.path, buf, n);
        assert_false(exists(L.broken));
    }
    free(buf);
}

/* Every header byte, every base frame header byte and random base payload
 * bytes of the log data[0..n), whose base frame ends at base_end. */
static int flip_header_and_base(const unsigned char *data, size_t n,
                                uint64_t base_end)
{
    static const unsigned char xs[] = {0x01, 0x80, 0xff};
    int trials = 0;
    for (uint64_t pos = 0; pos < HEADER; pos++) {
        for (size_t i = 0; i < sizeof(xs); i++, trials++) {
            refused(data, n, pos, xs[i], 0);
        }
    }
    for (uint64_t pos = HEADER; pos < HEADER + FRAME_HEAD; pos++, trials++) {
        refused(data, n, pos, (unsigned char)(1 + below(255)), HEADER);
    }
    for (int t = 0; t < BASE_FLIPS; t++, trials++) {
        uint64_t pos =
            HEADER + FRAME_HEAD + below(base_end - HEADER - FRAME_HEAD);
        refused(data, n, pos, (unsigned char)(1 + below(255)), HEADER);
    }
    return trials;
}

static void test_flipped_header_or_base_record_is_refused(void **state)
{
    (void)state;
    rng_state = 0x6261736521212121ull;
    int64_t t0 = testenv_mono_ms();
    int trials = flip_header_and_base(L.bytes, L.size, L.start[1]);

    /* A log that is nothing but its base record: damage there is no torn
     * append either (the base record is published whole, by rename). */
    pc_room_options ro = room_options();
    pc_changelog_options o = log_options(PC_FSYNC_NONE);
    pc_room *room;
    pc_changelog *log;
    assert_int_equal(unlink(L.path), 0);
    assert_int_equal(pc_room_new(&game, &ro, &room), PC_OK);
    assert_int_equal(pc_changelog_create(&o, room, &log, NULL), PC_OK);
    pc_room_free(room);
    pc_changelog_free(log);
    size_t n;
    unsigned char *only = get_file(L.path, &n);
    trials += flip_header_and_base(only, n, n);
    /* Cut short anywhere, it is corrupt too (a header, or a base record,
     * that is not whole), and refused. */
    for (size_t k = 0; k < n; k++, trials++) {
        put_file(L.path, only, k);
        pc_changelog_report rep;
        assert_int_equal(pc_changelog_verify(L.path, &rep), PC_ERR_INVALID);
        assert_int_equal(rep.problem, PC_CHANGELOG_CORRUPT);
        assert_int_equal(rep.offset, k < HEADER ? 0 : HEADER);
        room = NULL;
        pc_error e = {0};
        assert_int_equal(recover(PC_CHANGELOG_REPAIR, &room, &log, &rep, &e),
                         PC_ERR_INVALID);
        assert_null(room);
        assert_int_equal(rep.problem, PC_CHANGELOG_CORRUPT);
        assert_false(rep.cut);
        assert_file_is(L.path, only, k);
        assert_false(exists(L.broken));
    }
    free(only);
    printf("header and base: %d damaged logs, all refused, in %lld ms\n",
           trials, (long long)(testenv_mono_ms() - t0));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_truncation_at_every_byte_of_the_last_frames),
        T(test_garbage_after_the_last_frame_is_cut),
        T(test_flipped_byte_in_a_middle_record_is_corruption),
        T(test_flipped_header_or_base_record_is_refused),
    };
    return cmocka_run_group_tests(tests, build_log, drop_log);
}
