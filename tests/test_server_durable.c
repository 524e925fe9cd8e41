/*
 * test_server_durable.c - durable rooms end to end: real servers with a
 * log directory (a fresh mkdtemp directory per test), real nng sockets
 * (TCP on 127.0.0.1) and the real client library.
 *
 * - A server is freed and a new one recovers its rooms from the same
 *   directory, on the same ports: same seq, checksum and state; a client
 *   that joined before keeps its pc_client and token and acts again, at
 *   the next seq; pc_server_add_room refuses an id whose log exists.
 * - The players file's "pending" join: dropped when the room's seq did not
 *   move past it, kept when it did; a corrupt players file stops recovery
 *   (players_corrupt) unless PC_CHANGELOG_REPAIR.
 * - A write or fsync failure under PC_FSYNC_ALWAYS (injected in-process
 *   through framework/failpoint.h): the action gets log_write_failed over
 *   the wire, nothing is broadcast for its seq, later actions get
 *   room_failed, snapshots and other rooms keep working, and a restart
 *   recovers exactly the last acknowledged seq.
 * - A log corrupt in the middle stops recovery (PC_ERR_INVALID, naming the
 *   file and the offset), with the rooms before it in id order hosted;
 *   PC_CHANGELOG_REPAIR recovers the valid prefix.
 * - PC_FSYNC_EVERYSEC: the server's 1 s timer syncs a dirty log, seen in
 *   the log's counters (white-box: transport/server.h), and a failure of
 *   that sync fails the room at its next change; a join's change is synced
 *   before the player is saved as joined.
 * - The players file itself: written whole for the longest names at a
 *   large seq, read all or nothing, set aside by the repair, and never
 *   inherited by a new room from an old one of the same id.
 *
 * Failpoints are process-wide and not thread-safe, so they are armed on
 * the loop thread (pc_server_call) and disarmed once the server is freed.
 * Every wait polls against a deadline; nothing asserts on elapsed time.
 */
#include "test_server_support.h"

#include <stdatomic.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/changelog.h"
#include "phasecast/client.h"
#include "phasecast/room.h"

#include "countergame.h"
#include "framework/failpoint.h"
#include "transport/server.h"

/* Two tokens in the players files these tests write by hand. */
#define TOKEN_A "0123456789abcdef0123456789abcdef"
#define TOKEN_B "fedcba9876543210fedcba9876543210"
#define NONCE_B "bobs-join-nonce-0001"

/* ------------------------------------------------------------------ */
/* Log directories                                                     */
/* ------------------------------------------------------------------ */

static void dir_make(char *out, size_t cap)
{
    snprintf(out, cap, "/tmp/pc-durable-XXXXXX");
    assert_non_null(mkdtemp(out));
}

/* Remove dir and the files in it (the tests create no subdirectories). */
static void dir_remove(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        char path[PC_CHANGELOG_PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        assert_int_equal(unlink(path), 0);
    }
    closedir(d);
    assert_int_equal(rmdir(dir), 0);
}

static void path_of(char *out, const char *dir, const char *file)
{
    int n = snprintf(out, PC_CHANGELOG_PATH_MAX, "%s/%s", dir, file);
    assert_true(n > 0 && n < PC_CHANGELOG_PATH_MAX);
}

static bool file_exists(const char *dir, const char *file)
{
    char path[PC_CHANGELOG_PATH_MAX];
    path_of(path, dir, file);
    return access(path, F_OK) == 0;
}

static uint64_t file_size(const char *dir, const char *file)
{
    char path[PC_CHANGELOG_PATH_MAX];
    struct stat st;
    path_of(path, dir, file);
    assert_int_equal(stat(path, &st), 0);
    return (uint64_t)st.st_size;
}

static void write_file(const char *dir, const char *file, const char *text)
{
    char path[PC_CHANGELOG_PATH_MAX];
    path_of(path, dir, file);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* Flip every bit of the byte at offset. */
static void flip_byte(const char *dir, const char *file, uint64_t offset)
{
    char path[PC_CHANGELOG_PATH_MAX];
    path_of(path, dir, file);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    unsigned char b;
    assert_int_equal(pread(fd, &b, 1, (off_t)offset), 1);
    b ^= 0xff;
    assert_int_equal(pwrite(fd, &b, 1, (off_t)offset), 1);
    close(fd);
}

/* ------------------------------------------------------------------ */
/* Servers                                                             */
/* ------------------------------------------------------------------ */

/* on_room_failed calls, and how many named room r1 (loop thread). */
static atomic_int failures_told, failures_told_r1;

static void count_failure(const char *room, const pc_error *why, void *arg)
{
    (void)arg;
    atomic_fetch_add(&failures_told, 1);
    if (strcmp(room, "r1") == 0 && why->message[0] != '\0') {
        atomic_fetch_add(&failures_told_r1, 1);
    }
}

/* A CALLER-OWNED server logging into dir; pub and rep NULL: free ports. */
static pc_server *server_open(const char *dir, pc_fsync_policy fsync,
                              const char *pub, const char *rep)
{
    pc_server_options o;
    pc_server_options_init(&o);
    o.on_room_failed = count_failure;
    o.pub_url = pub != NULL ? pub : "tcp://127.0.0.1:0";
    o.rep_url = rep != NULL ? rep : "tcp://127.0.0.1:0";
    o.heartbeat_ms = 50;
    o.log_dir = dir;
    o.fsync = fsync;
    pc_server *srv = NULL;
    pc_error err = {0};
    if (pc_server_new(&o, &srv, &err) != PC_OK) {
        fail_msg("pc_server_new: %s", err.message);
    }
    return srv;
}

static pc_server_room_options room_options(const char *id)
{
    pc_server_room_options ro;
    pc_server_room_options_init(&ro);
    ro.room.id = id;
    ro.room.history_capacity = 64;
    return ro;
}

/* Host a new counter room (the server must be CALLER-OWNED). */
static pc_room *add_room(pc_server *srv, const char *id)
{
    pc_server_room_options ro = room_options(id);
    pc_room *room = NULL;
    assert_int_equal(pc_server_add_room(srv, countergame(), &ro, &room), PC_OK);
    return room;
}

/* What pc_server_recover told its callback. */
#define REPORTS_MAX 8
typedef struct reports {
    int n;
    pc_changelog_report rep[REPORTS_MAX];
    pc_err rc[REPORTS_MAX];
    pc_error err[REPORTS_MAX];
} reports;

static void on_recovered(const pc_changelog_report *rep, pc_err rc,
                         const pc_error *err, void *arg)
{
    reports *r = arg;
    assert_true(r->n < REPORTS_MAX);
    r->rep[r->n] = *rep;
    r->rc[r->n] = rc;
    r->err[r->n] = *err;
    r->n++;
}

/* pc_server_recover with the counter game; the reports go to *r. */
static pc_err recover(pc_server *srv, unsigned flags, reports *r, pc_error *err)
{
    pc_changelog_game games[] = {{countergame(), NULL}};
    pc_server_room_options ro = room_options(NULL);
    memset(r, 0, sizeof *r);
    return pc_server_recover(srv, games, 1, &ro, flags, on_recovered, r, err);
}

/* A room as the loop thread sees it. */
typedef struct probe {
    const char *id;
    bool found;
    uint64_t seq;
    uint64_t sum;
    char *canon; /* the whole state, canonical; pc_free */
    bool failed;
    bool has_log;
    pc_changelog_stats st;
    const char *fp_spec; /* armed if the log is dirty (arm_if_dirty_on_loop) */
    uint64_t syncs_before;
    bool armed;
    bool arm_ok;
} probe;

/* The loop-thread helpers below never call cmocka's asserts (a failure
 * there would unwind the wrong thread): they record, and the test thread
 * asserts once pc_server_call has returned. */

static void probe_on_loop(pc_server *srv, void *arg)
{
    probe *p = arg;
    pc_room *room = pc_server_find_room(srv, p->id);
    p->found = room != NULL;
    if (room == NULL) {
        return;
    }
    p->seq = pc_room_seq(room);
    p->sum = pc_room_checksum(room);
    p->failed = pc_room_failed(room, NULL);
    (void)pc_canon_print(pc_room_state(room), &p->canon, NULL);
    pc__host *h = pc__server_find_host(srv, p->id);
    p->has_log = h->log != NULL;
    if (p->has_log) {
        pc_changelog_stats_get(h->log, &p->st);
    }
}

/* Probe room id (from any thread); the caller pc_frees p.canon. */
static probe room_probe(pc_server *srv, const char *id)
{
    probe p = {.id = id};
    assert_int_equal(pc_server_call(srv, probe_on_loop, &p), PC_OK);
    if (p.found) {
        assert_non_null(p.canon);
        assert_true(p.has_log);
    }
    return p;
}

static void arm_on_loop(pc_server *srv, void *arg)
{
    probe *p = arg;
    (void)srv;
    p->arm_ok = pc__failpoint_configure(p->fp_spec);
}

/* Arm failpoints on the loop thread, where the change log runs. */
static void arm(pc_server *srv, const char *spec)
{
    probe p = {.fp_spec = spec};
    assert_int_equal(pc_server_call(srv, arm_on_loop, &p), PC_OK);
    assert_true(p.arm_ok);
}

/* ------------------------------------------------------------------ */
/* Raw requests                                                        */
/* ------------------------------------------------------------------ */

/* Join name as a player of room; returns its token (caller frees). */
static char *join(nng_socket req, const char *room, const char *name,
                  const char *nonce)
{
    char extra[128] = "";
    if (nonce != NULL) {
        snprintf(extra, sizeof extra, ",\"nonce\":\"%s\"", nonce);
    }
    cJSON *r = request(req,
                       "{\"op\":\"join\",\"room\":\"%s\",\"role\":\"player\","
                       "\"name\":\"%s\"%s}",
                       room, name, extra);
    char *tok = strdup(str(ok_result(r), "token"));
    assert_non_null(tok);
    cJSON_Delete(r);
    return tok;
}

static cJSON *join_reply(nng_socket req, const char *room, const char *name)
{
    return request(req,
                   "{\"op\":\"join\",\"room\":\"%s\",\"role\":\"player\","
                   "\"name\":\"%s\"}",
                   room, name);
}

static cJSON *inc(nng_socket req, const char *room, const char *token,
                  const char *action_id)
{
    return request(req,
                   "{\"op\":\"action\",\"room\":\"%s\",\"token\":\"%s\","
                   "\"action_id\":\"%s\",\"type\":\"inc\"}",
                   room, token, action_id);
}

/* inc must succeed; returns the seq it was committed at. */
static uint64_t inc_ok(nng_socket req, const char *room, const char *token,
                       const char *action_id)
{
    cJSON *r = inc(req, room, token, action_id);
    uint64_t seq = (uint64_t)num(ok_result(r), "seq");
    cJSON_Delete(r);
    return seq;
}

static void assert_inc_refused(nng_socket req, const char *room,
                               const char *token, const char *action_id,
                               const char *code)
{
    cJSON *r = inc(req, room, token, action_id);
    assert_error(r, code);
    cJSON_Delete(r);
}

/* The message of an error reply (borrowed from reply). */
static const char *error_message(const cJSON *reply)
{
    return str(cJSON_GetObjectItemCaseSensitive(reply, "error"), "message");
}

/* ------------------------------------------------------------------ */
/* Clients                                                             */
/* ------------------------------------------------------------------ */

static pc_client *player_open(const char *pub, const char *rep,
                              const char *room, const char *name)
{
    pc_client_config cfg = {0};
    cfg.pub_url = pub;
    cfg.req_url = rep;
    cfg.room = room;
    cfg.role = PC_CLIENT_PLAYER;
    cfg.name = name;
    /* Reconnect quickly once the restarted server listens again. */
    cfg.reconnect_min_ms = 20;
    cfg.reconnect_max_ms = 200;
    cfg.heartbeat_ms = 50;
    pc_client *c = NULL;
    pc_error err = {0};
    pc_err rv = pc_client_open(&cfg, &c, &err);
    if (rv != PC_OK) {
        fail_msg("open %s: %s (%s %s)", name, pc_strerror(rv), err.code,
                 err.message);
    }
    return c;
}

/* One inc through the client library; returns the seq it got. */
static uint64_t client_inc(pc_client *c)
{
    cJSON *value = NULL;
    uint64_t seq = 0;
    pc_error err = {0};
    pc_err rv = pc_client_act(c, "inc", NULL, &value, &seq, &err);
    if (rv != PC_OK) {
        fail_msg("%s: inc: %s (%s %s)", pc_client_player(c), pc_strerror(rv),
                 err.code, err.message);
    }
    cJSON_Delete(value);
    return seq;
}

/* Poll c until its replica reaches seq. */
static void client_reach(pc_client *c, uint64_t seq)
{
    int64_t end = mono_ms() + WAIT_MS;
    while (pc_client_seq(c) < seq && mono_ms() < end) {
        assert_int_equal(pc_client_poll(c, 20), PC_OK);
    }
    if (pc_client_seq(c) != seq) {
        fail_msg("%s reached seq %llu, not %llu", pc_client_player(c),
                 (unsigned long long)pc_client_seq(c), (unsigned long long)seq);
    }
}

/* ------------------------------------------------------------------ */
/* 1. A restart keeps rooms, their state and their players             */
/* ------------------------------------------------------------------ */

static void test_restart_keeps_rooms_state_and_players(void **state)
{
    (void)state;
    char dir[64];
    dir_make(dir, sizeof dir);
    pc_server *srv = server_open(dir, PC_FSYNC_EVERYSEC, NULL, NULL);
    add_room(srv, "r1");
    add_room(srv, "r2");
    assert_int_equal(pc_server_start(srv), PC_OK);
    char pub[128], rep[128];
    snprintf(pub, sizeof pub, "%s", pc_server_pub_url(srv));
    snprintf(rep, sizeof rep, "%s", pc_server_rep_url(srv));

    pc_client *alice = player_open(pub, rep, "r1", "alice");
    pc_client *bob = player_open(pub, rep, "r1", "bob");
    pc_client *carol = player_open(pub, rep, "r2", "carol");
    assert_int_equal(client_inc(alice), 1);
    assert_int_equal(client_inc(bob), 2);
    assert_int_equal(client_inc(alice), 3);
    cJSON *value = NULL;
    assert_int_equal(pc_client_act(alice, "deal", NULL, &value, NULL, NULL),
                     PC_OK); /* a private card: seq 4 */
    cJSON_Delete(value);
    assert_int_equal(client_inc(carol), 1);
    client_reach(alice, 4);
    client_reach(bob, 4);
    client_reach(carol, 1);
    probe r1 = room_probe(srv, "r1"), r2 = room_probe(srv, "r2");
    assert_int_equal(r1.seq, 4);
    assert_int_equal(r2.seq, 1);

    /* Down and up again on the same ports; the clients stay open. */
    pc_server_free(srv);
    srv = server_open(dir, PC_FSYNC_EVERYSEC, pub, rep);
    /* Before recovery, a new room cannot take a logged room's id, and
     * trying must not hurt that room (its players file stays). */
    pc_server_room_options ro = room_options("r1");
    assert_int_equal(pc_server_add_room(srv, countergame(), &ro, NULL),
                     PC_ERR_STATE);
    assert_true(file_exists(dir, "r1.players"));
    reports rs;
    pc_error err = {0};
    assert_int_equal(recover(srv, 0, &rs, &err), PC_OK);
    /* Told about each log, in id order. */
    assert_int_equal(rs.n, 2);
    assert_int_equal(rs.rc[0], PC_OK);
    assert_string_equal(rs.rep[0].room, "r1");
    assert_string_equal(rs.rep[0].game, "counter");
    assert_int_equal(rs.rep[0].last_seq, 4);
    assert_int_equal(rs.rep[0].problem, PC_CHANGELOG_CLEAN);
    assert_false(rs.rep[0].cut);
    assert_int_equal(rs.rc[1], PC_OK);
    assert_string_equal(rs.rep[1].room, "r2");
    assert_int_equal(rs.rep[1].last_seq, 1);
    /* Hosted now, so the id is taken; a new id is still welcome. */
    assert_int_equal(pc_server_add_room(srv, countergame(), &ro, NULL),
                     PC_ERR_INVALID);
    add_room(srv, "r3");
    assert_int_equal(pc_server_start(srv), PC_OK);

    probe r1b = room_probe(srv, "r1"), r2b = room_probe(srv, "r2");
    assert_int_equal(r1b.seq, r1.seq);
    assert_int_equal(r1b.sum, r1.sum);
    assert_string_equal(r1b.canon, r1.canon);
    assert_int_equal(r2b.seq, r2.seq);
    assert_int_equal(r2b.sum, r2.sum);
    assert_string_equal(r2b.canon, r2.canon);
    pc_free(r1.canon);
    pc_free(r1b.canon);
    pc_free(r2.canon);
    pc_free(r2b.canon);

    /* The same clients, with the tokens they got before the restart, act
     * again: their changes continue the sequence. */
    assert_int_equal(client_inc(alice), 5);
    assert_int_equal(client_inc(bob), 6);
    assert_int_equal(client_inc(carol), 2);
    client_reach(alice, 6);
    client_reach(bob, 6);
    client_reach(carol, 2);
    const cJSON *card =
        pc_json_pointer_get(pc_client_state(alice), "/data/hands/alice/card");
    assert_true(cJSON_IsNumber(card)); /* alice's private card survived */
    pc_client_stats st;
    pc_client_stats_get(alice, &st);
    assert_int_equal(st.checksum_mismatches, 0);
    /* A name that joined before the restart is still taken. */
    nng_socket req = req_open(rep);
    cJSON *r = join_reply(req, "r1", "alice");
    assert_error(r, "name_taken");
    cJSON_Delete(r);

    pc_server_free(srv); /* first: nng 1.5.2 close race */
    nng_close(req);
    pc_client_close(alice);
    pc_client_close(bob);
    pc_client_close(carol);
    dir_remove(dir);
}

/* ------------------------------------------------------------------ */
/* 2. The players file                                                 */
/* ------------------------------------------------------------------ */

/* Log room "r1" in dir with n counting changes, then stop the server. */
static void make_logged_room(const char *dir, int n)
{
    pc_server *srv = server_open(dir, PC_FSYNC_ALWAYS, NULL, NULL);
    pc_room *room = add_room(srv, "r1");
    for (int i = 0; i < n; i++) {
        assert_int_equal(countergame_count(room, "set up"), PC_OK);
    }
    pc_server_free(srv);
}

/* alice (no nonce) and bob (joined with NONCE_B), bob pending at seq. */
static void write_players(const char *dir, long long pending_seq)
{
    char text[512];
    snprintf(text, sizeof text,
             "{\"room\":\"r1\",\"players\":[{\"name\":\"alice\",\"token\":"
             "\"" TOKEN_A "\"},{\"name\":\"bob\",\"token\":\"" TOKEN_B
             "\",\"nonce\":\"" NONCE_B "\"}],\"pending\":{\"name\":\"bob\","
             "\"seq\":%lld}}\n",
             pending_seq);
    write_file(dir, "r1.players", text);
}

/* A started server recovered from dir (flags as pc_server_recover's). */
static pc_server *server_recovered(const char *dir, unsigned flags)
{
    pc_server *srv = server_open(dir, PC_FSYNC_ALWAYS, NULL, NULL);
    reports rs;
    pc_error err = {0};
    if (recover(srv, flags, &rs, &err) != PC_OK) {
        fail_msg("recover: %s", err.message);
    }
    assert_int_equal(pc_server_start(srv), PC_OK);
    return srv;
}

static void test_pending_join_at_the_rooms_seq_is_dropped(void **state)
{
    (void)state;
    char dir[64];
    dir_make(dir, sizeof dir);
    make_logged_room(dir, 3);
    /* The crash came between the pending save and the join's change:
     * the room is still at the seq the file names. */
    write_players(dir, 3);
    pc_server *srv = server_recovered(dir, 0);
    nng_socket req = req_open(pc_server_rep_url(srv));

    assert_int_equal(inc_ok(req, "r1", TOKEN_A, "a1"), 4); /* alice stays */
    assert_inc_refused(req, "r1", TOKEN_B, "b1", "bad_token");
    /* bob's retried join (same nonce) starts over, with a new token. */
    char *tok = join(req, "r1", "bob", NONCE_B);
    assert_string_not_equal(tok, TOKEN_B);
    assert_int_equal(inc_ok(req, "r1", tok, "b2"), 5);
    free(tok);

    pc_server_free(srv);
    nng_close(req);
    dir_remove(dir);
}

static void test_pending_join_below_the_rooms_seq_is_kept(void **state)
{
    (void)state;
    char dir[64];
    dir_make(dir, sizeof dir);
    make_logged_room(dir, 3);
    /* The join's change (seq 3) committed before the crash. */
    write_players(dir, 2);
    pc_server *srv = server_recovered(dir, 0);
    nng_socket req = req_open(pc_server_rep_url(srv));

    assert_int_equal(inc_ok(req, "r1", TOKEN_B, "b1"), 4);
    assert_int_equal(inc_ok(req, "r1", TOKEN_A, "a1"), 5);
    cJSON *r = join_reply(req, "r1", "bob");
    assert_error(r, "name_taken");
    cJSON_Delete(r);
    /* A repeat of bob's join (same nonce) gets bob's seat back. */
    char *tok = join(req, "r1", "bob", NONCE_B);
    assert_string_equal(tok, TOKEN_B);
    free(tok);

    pc_server_free(srv);
    nng_close(req);
    dir_remove(dir);
}

/* Recovery of dir fails on its players file, reporting players_corrupt,
 * and leaves no room hosted. */
static void assert_players_corrupt(const char *dir)
{
    pc_server *srv = server_open(dir, PC_FSYNC_ALWAYS, NULL, NULL);
    reports rs;
    pc_error err = {0};
    assert_int_equal(recover(srv, 0, &rs, &err), PC_ERR_INVALID);
    assert_string_equal(err.code, "players_corrupt");
    assert_non_null(strstr(err.message, "r1.players"));
    assert_int_equal(rs.n, 1);
    assert_int_equal(rs.rc[0], PC_ERR_INVALID);
    assert_string_equal(rs.err[0].code, "players_corrupt");
    probe p = room_probe(srv, "r1");
    assert_false(p.found);
    pc_server_free(srv);
}

/* With PC_CHANGELOG_REPAIR the room is recovered and every player must
 * join again: nobody's old token works, every name is free. The damaged
 * file is kept aside, so the next start needs no repair. */
static void assert_players_repaired(const char *dir)
{
    uint64_t damaged = file_size(dir, "r1.players");
    pc_server *srv = server_recovered(dir, PC_CHANGELOG_REPAIR);
    probe p = room_probe(srv, "r1");
    assert_true(p.found);
    assert_int_equal(p.seq, 3);
    pc_free(p.canon);
    pc_server_free(srv);
    assert_false(file_exists(dir, "r1.players"));
    assert_int_equal(file_size(dir, "r1.players.broken"), damaged);

    srv = server_recovered(dir, 0);
    nng_socket req = req_open(pc_server_rep_url(srv));
    assert_inc_refused(req, "r1", TOKEN_A, "a1", "bad_token");
    assert_inc_refused(req, "r1", TOKEN_B, "b1", "bad_token");
    char *a = join(req, "r1", "alice", NULL);
    char *b = join(req, "r1", "bob", NULL);
    assert_int_equal(inc_ok(req, "r1", a, "a2"), 4);
    assert_int_equal(inc_ok(req, "r1", b, "b2"), 5);
    free(a);
    free(b);
    pc_server_free(srv);
    nng_close(req);
}

static void test_corrupt_players_file_needs_repair(void **state)
{
    (void)state;
    char dir[64];
    dir_make(dir, sizeof dir);
    make_logged_room(dir, 3);
    /* Not JSON at all: cut off in the middle. */
    write_file(dir, "r1.players",
               "{\"room\":\"r1\",\"players\":[{\"name\":\"alice\",\"tok");
    assert_players_corrupt(dir);
    assert_players_repaired(dir);
    dir_remove(dir);
}

static void test_players_file_with_a_bad_entry_is_dropped_whole(void **state)
{
    (void)state;
    char dir[64];
    dir_make(dir, sizeof dir);
    make_logged_room(dir, 3);
    /* Valid JSON and a valid first entry, then a token that is not one:
     * under the repair alice must join again too, like bob. */
    write_file(dir, "r1.players",
               "{\"room\":\"r1\",\"players\":[{\"name\":\"alice\",\"token\":"
               "\"" TOKEN_A "\"},{\"name\":\"bob\",\"token\":\"xyz\"}]}\n");
    assert_players_corrupt(dir);
    assert_players_repaired(dir);
    dir_remove(dir);
}

/* "joinwatch": a game whose join action reads its room's players file
 * while the join is pending (arg is the log directory) and notes what it
 * found; "inc" counts as the counter game does. */
typedef struct pending_seen {
    bool parsed;
    char name[PC_SERVER_NAME_MAX + 1];
    double seq;
} pending_seen;

static pending_seen seen;

static pc_err watch_action(pc_room *room, const pc_action *act, cJSON **result,
                           pc_error *err, void *arg)
{
    (void)result;
    if (strcmp(act->type, "inc") == 0) {
        return countergame_count(room, "counted");
    }
    if (strcmp(act->type, "join") != 0) {
        return pc_error_set(err, PC_ERR_ACTION, "unknown_action", "no %s",
                            act->type);
    }
    char path[PC_CHANGELOG_PATH_MAX], text[4096];
    snprintf(path, sizeof path, "%s/%s.players", (const char *)arg,
             pc_room_id(room));
    FILE *f = fopen(path, "r");
    size_t n = f != NULL ? fread(text, 1, sizeof text, f) : 0;
    if (f != NULL) {
        fclose(f);
    }
    cJSON *doc = NULL;
    memset(&seen, 0, sizeof seen);
    if (pc_json_parse(text, n, NULL, &doc, NULL) == PC_OK) {
        const cJSON *pend = cJSON_GetObjectItemCaseSensitive(doc, "pending");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(pend, "name");
        const cJSON *seq = cJSON_GetObjectItemCaseSensitive(pend, "seq");
        seen.parsed = cJSON_IsString(name) && cJSON_IsNumber(seq);
        if (seen.parsed) {
            snprintf(seen.name, sizeof seen.name, "%s", name->valuestring);
            seen.seq = seq->valuedouble;
        }
    }
    cJSON_Delete(doc);
    return PC_OK;
}

static const pc_phase watch_phases[] = {
    {.name = "WATCHING", .action = watch_action},
};
static const pc_game joinwatch = {
    .name = "joinwatch",
    .phases = watch_phases,
    .nphases = 1,
};

static void test_players_file_fits_long_names_at_a_large_seq(void **state)
{
    (void)state;
    char dir[64];
    dir_make(dir, sizeof dir);
    /* A room whose log starts at a large seq, as after a long life. */
    const uint64_t big = 1000000000000000ull; /* 10^15: 16 digits */
    cJSON *doc = NULL;
    const char *text = "{\"phase\":\"WATCHING\",\"data\":{}}";
    assert_int_equal(pc_json_parse(text, strlen(text), NULL, &doc, NULL),
                     PC_OK);
    pc_room_options ro;
    pc_room_options_init(&ro);
    ro.id = "r1";
    pc_room_image img = {.state = doc, .seq = big, .seed = 7};
    pc_room *room = NULL;
    assert_int_equal(pc_room_restore(&joinwatch, &ro, &img, &room), PC_OK);
    cJSON_Delete(doc);
    pc_changelog_options lo;
    pc_changelog_options_init(&lo);
    lo.dir = dir;
    lo.fsync = PC_FSYNC_ALWAYS;
    pc_changelog *log = NULL;
    assert_int_equal(pc_changelog_create(&lo, room, &log, NULL), PC_OK);
    pc_room_free(room);
    pc_changelog_free(log);

    /* The first player, with the longest name and nonce there are. */
    char name[PC_SERVER_NAME_MAX + 1], nonce[PC_SERVER_NONCE_MAX + 1];
    memset(name, 'n', PC_SERVER_NAME_MAX);
    name[PC_SERVER_NAME_MAX] = '\0';
    memset(nonce, 'x', PC_SERVER_NONCE_MAX);
    nonce[PC_SERVER_NONCE_MAX] = '\0';
    pc_changelog_game games[] = {{&joinwatch, dir}};
    for (int round = 0; round < 2; round++) {
        pc_server *srv = server_open(dir, PC_FSYNC_ALWAYS, NULL, NULL);
        reports rs = {0};
        pc_error err = {0};
        pc_server_room_options sro = room_options(NULL);
        if (pc_server_recover(srv, games, 1, &sro, 0, on_recovered, &rs,
                              &err) != PC_OK) {
            fail_msg("recover: %s", err.message);
        }
        assert_int_equal(pc_server_start(srv), PC_OK);
        nng_socket req = req_open(pc_server_rep_url(srv));
        char *tok = join(req, "r1", name, nonce);
        if (round == 0) {
            /* What the join action saw on disk: the pending join, whole. */
            assert_true(seen.parsed);
            assert_string_equal(seen.name, name);
            assert_true(seen.seq == (double)big);
        }
        assert_int_equal(inc_ok(req, "r1", tok, round == 0 ? "i1" : "i2"),
                         big + 1 + (uint64_t)round);
        free(tok);
        pc_server_free(srv);
        nng_close(req);
    }
    dir_remove(dir);
}

/* A players file naming alice (TOKEN_A) for room r1. */
static void write_stale_players(const char *dir)
{
    write_file(dir, "r1.players",
               "{\"room\":\"r1\",\"players\":[{\"name\":\"alice\",\"token\":"
               "\"" TOKEN_A "\"}]}\n");
}

static void test_new_room_never_inherits_an_old_players_file(void **state)
{
    (void)state;
    char dir[64];
    dir_make(dir, sizeof dir);
    /* An earlier room r1's players file, its log deleted by an operator. */
    write_stale_players(dir);
    pc_server *srv = server_open(dir, PC_FSYNC_ALWAYS, NULL, NULL);
    add_room(srv, "r1");
    assert_int_equal(pc_server_start(srv), PC_OK);
    nng_socket req = req_open(pc_server_rep_url(srv));
    assert_inc_refused(req, "r1", TOKEN_A, "a1", "bad_token");
    pc_server_free(srv);
    nng_close(req);
    dir_remove(dir);

    /* The new log is renamed into place, then the directory sync fails:
     * the creation is undone (the log exists whole or not at all), the
     * stale players file is gone already, and adding the room again works
     * without the old players. */
    dir_make(dir, sizeof dir);
    write_stale_players(dir);
    srv = server_open(dir, PC_FSYNC_ALWAYS, NULL, NULL);
    assert_true(pc__failpoint_configure("create.dirsync=eio@1"));
    pc_server_room_options ro = room_options("r1");
    assert_int_equal(pc_server_add_room(srv, countergame(), &ro, NULL),
                     PC_ERR_IO);
    assert_true(pc__failpoint_configure(NULL));
    assert_false(file_exists(dir, "r1.pclog"));
    assert_false(file_exists(dir, "r1.players"));
    add_room(srv, "r1");
    assert_int_equal(pc_server_start(srv), PC_OK);
    pc_server_free(srv);
    assert_true(file_exists(dir, "r1.pclog"));
    srv = server_recovered(dir, 0);
    req = req_open(pc_server_rep_url(srv));
    assert_inc_refused(req, "r1", TOKEN_A, "a2", "bad_token");
    char *tok = join(req, "r1", "alice", NULL);
    assert_int_equal(inc_ok(req, "r1", tok, "a3"), 1);
    free(tok);
    pc_server_free(srv);
    nng_close(req);
    dir_remove(dir);
}

/* ------------------------------------------------------------------ */
/* 3. Write and fsync failures                                         */
/* ------------------------------------------------------------------ */

/* True if the frame is a change frame holding seq. */
static bool frame_has_seq(const frame *f, uint64_t seq)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(f->env, "changes");
    const cJSON *c;
    cJSON_ArrayForEach(c, list)
    {
        if ((uint64_t)num(c, "seq") == seq) {
            return true;
        }
    }
    return false;
}

/* Read r1's frames until change `seq` has been broadcast. */
static void wait_change(nng_socket sub, uint64_t seq)
{
    int64_t end = mono_ms() + WAIT_MS;
    while (mono_ms() < end) {
        frame f = recv_frame(sub);
        bool hit = frame_has_seq(&f, seq);
        cJSON_Delete(f.env);
        if (hit) {
            return;
        }
    }
    fail_msg("change %llu was not broadcast", (unsigned long long)seq);
}

/* Read r1's frames until `beats` heartbeats have come: each must announce
 * seq, and no change frame may come at all. */
static void assert_quiet(nng_socket sub, uint64_t seq, int beats)
{
    while (beats > 0) {
        frame f = recv_frame(sub);
        const char *type = str(f.env, "type");
        if (strcmp(type, "heartbeat") == 0) {
            assert_int_equal((uint64_t)num(f.env, "seq"), seq);
            beats--;
        } else {
            char *t = cJSON_PrintUnformatted(f.env);
            fail_msg("unexpected frame after the failure: %s", t);
        }
        cJSON_Delete(f.env);
    }
}

static void io_failure_case(const char *spec)
{
    char dir[64];
    dir_make(dir, sizeof dir);
    pc_server *srv = server_open(dir, PC_FSYNC_ALWAYS, NULL, NULL);
    add_room(srv, "r1");
    add_room(srv, "r2");
    assert_int_equal(pc_server_start(srv), PC_OK);
    nng_socket req = req_open(pc_server_rep_url(srv));
    nng_socket sub = sub_open(pc_server_pub_url(srv), "r1 ");
    wait_heartbeat(sub, "r1");

    char *alice = join(req, "r1", "alice", NULL);
    assert_int_equal(inc_ok(req, "r1", alice, "a1"), 1);
    assert_int_equal(inc_ok(req, "r1", alice, "a2"), 2);
    wait_change(sub, 2);
    atomic_store(&failures_told, 0);
    atomic_store(&failures_told_r1, 0);

    /* The next append of any room fails. */
    arm(srv, spec);
    cJSON *r = inc(req, "r1", alice, "a3");
    assert_error(r, "log_write_failed");
    assert_string_equal(error_message(r),
                        "room r1 stopped accepting changes: its change log "
                        "cannot be written; an operator must restart the "
                        "server");
    cJSON_Delete(r);
    /* The same action id is answered with the same refusal. */
    assert_inc_refused(req, "r1", alice, "a3", "log_write_failed");
    /* Every later change of r1 is refused, a join's too. */
    r = inc(req, "r1", alice, "a4");
    assert_error(r, "room_failed");
    /* The host was told, once, with a reason (the replies above ran on
     * the loop thread after the call). */
    assert_int_equal(atomic_load(&failures_told), 1);
    assert_int_equal(atomic_load(&failures_told_r1), 1);
    assert_non_null(strstr(error_message(r), "stopped accepting changes"));
    assert_non_null(strstr(error_message(r), "restart the server"));
    cJSON_Delete(r);
    r = join_reply(req, "r1", "bob");
    assert_error(r, "room_failed");
    cJSON_Delete(r);
    assert_inc_refused(req, "r1", alice, "a5", "room_failed");

    /* Reads still work, at the last committed seq. */
    r = request(req, "{\"op\":\"snapshot\",\"room\":\"r1\",\"token\":\"%s\"}",
                alice);
    assert_int_equal(num(ok_result(r), "seq"), 2);
    cJSON_Delete(r);
    r = request(req, "{\"op\":\"changes\",\"room\":\"r1\",\"since\":0}");
    assert_int_equal(num(ok_result(r), "seq"), 2);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
                         ok_result(r), "changes")),
                     2);
    cJSON_Delete(r);
    /* Nothing was broadcast for seq 3: only heartbeats at seq 2. */
    assert_quiet(sub, 2, 3);

    /* Another room of the same server carries on. */
    char *carol = join(req, "r2", "carol", NULL);
    assert_int_equal(inc_ok(req, "r2", carol, "c1"), 1);
    assert_int_equal(inc_ok(req, "r2", carol, "c2"), 2);
    probe p1 = room_probe(srv, "r1"), p2 = room_probe(srv, "r2");
    assert_true(p1.failed);
    assert_int_equal(p1.seq, 2);
    assert_false(p2.failed);
    pc_free(p1.canon);
    pc_free(p2.canon);

    pc_server_free(srv);
    nng_close(req);
    nng_close(sub);
    assert_true(pc__failpoint_configure(NULL));

    /* The log holds exactly what was acknowledged. */
    char path[PC_CHANGELOG_PATH_MAX];
    pc_changelog_report rep;
    path_of(path, dir, "r1.pclog");
    assert_int_equal(pc_changelog_verify(path, &rep), PC_OK);
    assert_int_equal(rep.last_seq, 2);

    srv = server_recovered(dir, 0);
    probe q1 = room_probe(srv, "r1"), q2 = room_probe(srv, "r2");
    assert_int_equal(q1.seq, 2);
    assert_false(q1.failed);
    assert_int_equal(q2.seq, 2);
    pc_free(q1.canon);
    pc_free(q2.canon);
    req = req_open(pc_server_rep_url(srv));
    assert_int_equal(inc_ok(req, "r1", alice, "a6"), 3);
    assert_int_equal(inc_ok(req, "r2", carol, "c3"), 3);
    pc_server_free(srv);
    nng_close(req);
    free(alice);
    free(carol);
    dir_remove(dir);
}

static void test_fsync_failure_fails_the_room_only(void **state)
{
    (void)state;
    io_failure_case("log.fsync=eio@1");
}

static void test_write_failure_fails_the_room_only(void **state)
{
    (void)state;
    io_failure_case("log.write=eio@1");
}

static void test_short_write_fails_the_room_only(void **state)
{
    (void)state;
    /* Half the record reaches the file: it must be cut back. */
    io_failure_case("log.write=short@1");
}

/* ------------------------------------------------------------------ */
/* 4. A log corrupt in the middle                                      */
/* ------------------------------------------------------------------ */

static void test_corrupt_log_stops_recovery_unless_repair(void **state)
{
    (void)state;
    char dir[64];
    dir_make(dir, sizeof dir);
    /* Rooms a, b, c with 4 changes each; b's record sizes noted. */
    uint64_t end[5];
    pc_server *srv = server_open(dir, PC_FSYNC_ALWAYS, NULL, NULL);
    pc_room *a = add_room(srv, "a");
    pc_room *b = add_room(srv, "b");
    pc_room *c = add_room(srv, "c");
    end[0] = file_size(dir, "b.pclog");
    for (int i = 1; i <= 4; i++) {
        assert_int_equal(countergame_count(a, "a"), PC_OK);
        assert_int_equal(countergame_count(b, "b"), PC_OK);
        assert_int_equal(countergame_count(c, "c"), PC_OK);
        end[i] = file_size(dir, "b.pclog");
    }
    pc_server_free(srv);
    /* Damage seq 2's record; seqs 3 and 4 follow it intact. */
    flip_byte(dir, "b.pclog", (end[1] + end[2]) / 2);
    uint64_t damaged_size = file_size(dir, "b.pclog");

    srv = server_open(dir, PC_FSYNC_ALWAYS, NULL, NULL);
    reports rs;
    pc_error err = {0};
    assert_int_equal(recover(srv, 0, &rs, &err), PC_ERR_INVALID);
    assert_string_equal(err.code, "log_corrupt");
    char where[64];
    snprintf(where, sizeof where, "offset %llu", (unsigned long long)end[1]);
    assert_non_null(strstr(err.message, "/b.pclog"));
    assert_non_null(strstr(err.message, where));
    /* Id order: a was recovered and stays hosted, c was not reached. */
    assert_int_equal(rs.n, 2);
    assert_string_equal(rs.rep[0].room, "a");
    assert_int_equal(rs.rc[0], PC_OK);
    assert_int_equal(rs.rep[0].last_seq, 4);
    assert_int_equal(rs.rc[1], PC_ERR_INVALID);
    assert_int_equal(rs.rep[1].problem, PC_CHANGELOG_CORRUPT);
    assert_int_equal(rs.rep[1].offset, end[1]);
    assert_int_equal(rs.rep[1].last_seq, 1);
    assert_false(rs.rep[1].cut);
    probe pa = room_probe(srv, "a"), pb = room_probe(srv, "b"),
          pcr = room_probe(srv, "c");
    assert_true(pa.found);
    assert_int_equal(pa.seq, 4);
    assert_false(pb.found);
    assert_false(pcr.found);
    pc_free(pa.canon);
    pc_server_free(srv);
    /* A refused recovery changes nothing on disk. */
    assert_int_equal(file_size(dir, "b.pclog"), damaged_size);
    assert_false(file_exists(dir, "b.pclog.broken"));

    /* The operator asks for the repair: b keeps its valid prefix. */
    srv = server_open(dir, PC_FSYNC_ALWAYS, NULL, NULL);
    assert_int_equal(recover(srv, PC_CHANGELOG_REPAIR, &rs, &err), PC_OK);
    assert_int_equal(rs.n, 3);
    assert_string_equal(rs.rep[1].room, "b");
    assert_int_equal(rs.rc[1], PC_OK);
    assert_true(rs.rep[1].cut);
    assert_int_equal(rs.rep[1].last_seq, 1);
    assert_int_equal(rs.rep[1].valid_bytes, end[1]);
    assert_non_null(strstr(rs.rep[1].broken_path, "b.pclog.broken"));
    assert_string_equal(rs.rep[2].room, "c");
    assert_int_equal(rs.rep[2].last_seq, 4);
    assert_int_equal(pc_server_start(srv), PC_OK);
    assert_int_equal(file_size(dir, "b.pclog"), end[1]);
    assert_int_equal(file_size(dir, "b.pclog.broken"), damaged_size);
    nng_socket req = req_open(pc_server_rep_url(srv));
    char *tok = join(req, "b", "dave", NULL);
    assert_int_equal(inc_ok(req, "b", tok, "d1"), 2);
    free(tok);
    pc_server_free(srv);
    nng_close(req);
    dir_remove(dir);
}

/* ------------------------------------------------------------------ */
/* 5. The everysec timer                                               */
/* ------------------------------------------------------------------ */

/* On the loop: if r1's log has not been synced since p->syncs_before,
 * arm p->fp_spec (if any), so its next sync is the one that fails. */
static void arm_if_dirty_on_loop(pc_server *srv, void *arg)
{
    probe *p = arg;
    pc_changelog_stats_get(pc__server_find_host(srv, "r1")->log, &p->st);
    p->armed = p->st.syncs == p->syncs_before;
    p->arm_ok = true;
    if (p->armed && p->fp_spec != NULL) {
        p->arm_ok = pc__failpoint_configure(p->fp_spec);
    }
}

/* Act until an append leaves r1's log dirty (the append itself did not
 * sync - less than a second since the last sync - and the timer did not
 * run in between), then arm spec (may be NULL). Returns the sync count
 * then and sets *seq to the last acknowledged seq. */
static uint64_t make_dirty(pc_server *srv, nng_socket req, const char *token,
                           const char *spec, uint64_t *seq)
{
    static int id;
    for (int attempt = 0; attempt < 20; attempt++) {
        probe before = room_probe(srv, "r1");
        pc_free(before.canon);
        probe p = {.fp_spec = spec, .syncs_before = before.st.syncs};
        char aid[32];
        snprintf(aid, sizeof aid, "e%d", ++id);
        *seq = inc_ok(req, "r1", token, aid);
        assert_int_equal(pc_server_call(srv, arm_if_dirty_on_loop, &p), PC_OK);
        assert_true(p.arm_ok);
        if (p.armed) {
            assert_int_equal(p.st.appends, before.st.appends + 1);
            return p.st.syncs;
        }
    }
    fail_msg("every append was synced at once");
    return 0;
}

/* Wait until r1's log has been synced more than `syncs` times. */
static void wait_sync(pc_server *srv, uint64_t syncs)
{
    int64_t end = mono_ms() + WAIT_MS;
    for (;;) {
        probe p = room_probe(srv, "r1");
        pc_free(p.canon);
        if (p.st.syncs > syncs) {
            return;
        }
        if (mono_ms() > end) {
            fail_msg("the everysec timer never synced r1's log");
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static void
test_everysec_timer_syncs_and_its_failure_fails_the_room(void **state)
{
    (void)state;
    char dir[64];
    dir_make(dir, sizeof dir);
    pc_server *srv = server_open(dir, PC_FSYNC_EVERYSEC, NULL, NULL);
    add_room(srv, "r1");
    assert_int_equal(pc_server_start(srv), PC_OK);
    nng_socket req = req_open(pc_server_rep_url(srv));
    char *alice = join(req, "r1", "alice", NULL);

    /* A dirty log is synced by the timer alone: no request comes. */
    uint64_t seq = 0;
    uint64_t syncs = make_dirty(srv, req, alice, NULL, &seq);
    wait_sync(srv, syncs);
    probe p = room_probe(srv, "r1");
    assert_int_equal(p.st.appends, seq);
    assert_false(p.failed);
    pc_free(p.canon);

    /* Now that sync fails: the change already acknowledged stands, but
     * the room takes no more, since it may not be on disk. */
    syncs = make_dirty(srv, req, alice, "log.fsync=eio@1", &seq);
    wait_sync(srv, syncs);
    cJSON *r = inc(req, "r1", alice, "after");
    assert_error(r, "log_write_failed");
    cJSON_Delete(r);
    assert_inc_refused(req, "r1", alice, "later", "room_failed");
    p = room_probe(srv, "r1");
    assert_true(p.failed);
    assert_int_equal(p.seq, seq);
    pc_free(p.canon);
    pc_server_free(srv);
    nng_close(req);
    assert_true(pc__failpoint_configure(NULL));

    /* The written (if not synced) changes are all there after a restart. */
    srv = server_recovered(dir, 0);
    p = room_probe(srv, "r1");
    assert_int_equal(p.seq, seq);
    pc_free(p.canon);
    req = req_open(pc_server_rep_url(srv));
    assert_int_equal(inc_ok(req, "r1", alice, "again"), seq + 1);
    pc_server_free(srv);
    nng_close(req);
    free(alice);
    dir_remove(dir);
}

/* A room "r1" whose join action is "inc", so every join commits a change. */
static pc_server *server_with_counting_joins(const char *dir)
{
    pc_server *srv = server_open(dir, PC_FSYNC_EVERYSEC, NULL, NULL);
    pc_server_room_options ro = room_options("r1");
    ro.join_action = "inc";
    assert_int_equal(pc_server_add_room(srv, countergame(), &ro, NULL), PC_OK);
    assert_int_equal(pc_server_start(srv), PC_OK);
    return srv;
}

static void test_everysec_join_is_on_disk_before_its_token(void **state)
{
    (void)state;
    char dir[64];
    dir_make(dir, sizeof dir);
    pc_server *srv = server_with_counting_joins(dir);
    nng_socket req = req_open(pc_server_rep_url(srv));
    /* Each join's change is synced before the players file names the
     * player as joined, not up to a second later by the timer. */
    for (int i = 0; i < 3; i++) {
        probe before = room_probe(srv, "r1");
        char name[16];
        snprintf(name, sizeof name, "p%d", i);
        free(join(req, "r1", name, NULL));
        probe after = room_probe(srv, "r1");
        assert_int_equal(after.seq, before.seq + 1);
        assert_int_equal(after.st.appends, before.st.appends + 1);
        assert_true(after.st.syncs > before.st.syncs);
        pc_free(before.canon);
        pc_free(after.canon);
    }

    /* When the sync fails the join is not confirmed: the client hears of
     * it, and after a restart the player is seated exactly when the log
     * holds its join (the room's seq moved past the pending mark). */
    arm(srv, "log.fsync=eio@1");
    cJSON *r =
        request(req, "{\"op\":\"join\",\"room\":\"r1\",\"role\":"
                     "\"player\",\"name\":\"late\",\"nonce\":\"" NONCE_B "\"}");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "ok")));
    cJSON_Delete(r);
    pc_server_free(srv);
    nng_close(req);
    assert_true(pc__failpoint_configure(NULL));

    srv = server_recovered(dir, 0);
    probe p = room_probe(srv, "r1");
    pc_free(p.canon);
    req = req_open(pc_server_rep_url(srv));
    r = join_reply(req, "r1", "late");
    if (p.seq == 4) { /* the join's change was written: late is seated */
        assert_error(r, "name_taken");
    } else { /* the journal's own sync failed: the join never happened */
        assert_int_equal(p.seq, 3);
        ok_result(r);
    }
    cJSON_Delete(r);
    pc_server_free(srv);
    nng_close(req);
    dir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restart_keeps_rooms_state_and_players),
        cmocka_unit_test(test_pending_join_at_the_rooms_seq_is_dropped),
        cmocka_unit_test(test_pending_join_below_the_rooms_seq_is_kept),
        cmocka_unit_test(test_corrupt_players_file_needs_repair),
        cmocka_unit_test(test_players_file_with_a_bad_entry_is_dropped_whole),
        cmocka_unit_test(test_players_file_fits_long_names_at_a_large_seq),
        cmocka_unit_test(test_new_room_never_inherits_an_old_players_file),
        cmocka_unit_test(test_fsync_failure_fails_the_room_only),
        cmocka_unit_test(test_write_failure_fails_the_room_only),
        cmocka_unit_test(test_short_write_fails_the_room_only),
        cmocka_unit_test(test_corrupt_log_stops_recovery_unless_repair),
        cmocka_unit_test(
            test_everysec_timer_syncs_and_its_failure_fails_the_room),
        cmocka_unit_test(test_everysec_join_is_on_disk_before_its_token),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    pc_transport_fini();
    return failed;
}
