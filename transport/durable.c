/*
 * durable.c - durability for hosted rooms: one change log per room (see
 * phasecast/changelog.h), a players file beside it, the everysec timer,
 * and recovery at start-up.
 *
 * The change log holds everything the room's state depends on, but a
 * room's players - their names and secret tokens - live beside the room,
 * not in its state, and tokens must never enter a change or a log. Without
 * them a player who was connected before a crash could neither act nor
 * even repair its replica (players send their token with every request).
 * So each join rewrites <room>.players (mode 0600) atomically: temporary
 * file, fsync, rename, fsync of the directory (the syncs are skipped under
 * fsync=none), twice. Before the game sees the join, the file names the new
 * player as "pending" with the room's seq S at that moment; after the
 * game's join action has returned (its changes journaled, and the log
 * synced unless fsync=none, so the file is never ahead of the log), the
 * file is written again without the mark, and only then does the client
 * get its token. The loop serves one request at a time, so the change right
 * after S, if any, is the join's: at recovery a pending player is kept if the
 * room's seq is past S (the join committed) and dropped if it is still S
 * (the crash came first; the client never got a reply and its retried
 * join, with the same nonce, starts over). A join action that changes
 * nothing is dropped too, harmlessly: it can simply run again. Action replies
 * remembered for de-duplication are not saved: an action retried across a
 * restart is delivered to the game again. This file does not decide anything
 * about the log's format or recovery rules; the framework does.
 */
#include "durable.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "phasecast/alloc.h"
#include "phasecast/json.h"
#include "players.h"

#define PLAYERS_SUFFIX ".players"
#define SYNC_PERIOD_MS 1000
/* Largest players file read back: 64 players need about 5 KiB. */
#define PLAYERS_FILE_MAX (1 << 20)

static void on_sync(evutil_socket_t fd, short what, void *arg)
{
    pc_server *srv = arg;
    (void)fd;
    (void)what;
    for (size_t i = 0; i < pc__server_host_count(srv); i++) {
        pc__host *h = pc__server_host_at(srv, i);
        if (h->log != NULL) {
            /* A failure is remembered by the log: the room fails at its
             * next change, which is where a client hears of it. */
            (void)pc_changelog_sync(h->log, NULL);
        }
    }
}

pc_err pc__durable_init(pc_server *srv, struct event_base *base,
                        const pc_server_options *opts,
                        pc_changelog_options *log, struct event **sync_ev,
                        pc_error *err)
{
    struct stat st;
    if (stat(opts->log_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return pc_error_set(err, PC_ERR_INVALID, NULL,
                            "the log directory %s does not exist",
                            opts->log_dir);
    }
    pc_changelog_options_init(log);
    log->fsync = opts->fsync;
    log->keyframe_every = opts->keyframe_every;
    log->keep_segments = opts->keep_segments;
    if ((log->dir = pc_strdup(opts->log_dir)) == NULL) {
        return pc_error_set(err, PC_ERR_NOMEM, NULL, "out of memory");
    }
    if (opts->fsync == PC_FSYNC_EVERYSEC) {
        struct timeval tv = {SYNC_PERIOD_MS / 1000, 0};
        *sync_ev = event_new(base, -1, EV_PERSIST, on_sync, srv);
        if (*sync_ev == NULL || event_add(*sync_ev, &tv) != 0) {
            pc__durable_fini(log, *sync_ev);
            *sync_ev = NULL;
            return pc_error_set(err, PC_ERR_NOMEM, NULL, "out of memory");
        }
    }
    return PC_OK;
}

void pc__durable_fini(pc_changelog_options *log, struct event *sync_ev)
{
    if (sync_ev != NULL) {
        event_free(sync_ev);
    }
    pc_free((char *)log->dir);
    log->dir = NULL;
}

static bool players_path(const pc_changelog_options *log, const char *id,
                         const char *suffix, char *out)
{
    int n = snprintf(out, PC_CHANGELOG_PATH_MAX, "%s/%s%s%s", log->dir, id,
                     PLAYERS_SUFFIX, suffix);
    return n > 0 && n < PC_CHANGELOG_PATH_MAX;
}

pc_err pc__durable_create(pc_server *srv, pc_room *room, pc_changelog **out,
                          pc_error *err)
{
    const pc_changelog_options *log = pc__server_log(srv);
    const char *id = pc_room_id(room);
    char path[PC_CHANGELOG_PATH_MAX], logpath[PC_CHANGELOG_PATH_MAX];
    int n = snprintf(logpath, sizeof logpath, "%s/%s%s", log->dir, id,
                     PC_CHANGELOG_SUFFIX);
    /* A players file left by an earlier room of this id, whose log is
     * gone, must go before the new log exists: from then on a restart
     * recovers the room with whatever players file it finds, old tokens
     * included (a crash, or a failure after the log's rename, comes
     * between). The log's creation syncs the directory after its rename,
     * which makes the unlink durable too. Not when a log exists: the file
     * is that room's, and pc_changelog_create refuses. */
    if (n > 0 && n < (int)sizeof logpath && access(logpath, F_OK) != 0 &&
        errno == ENOENT && players_path(log, id, "", path)) {
        (void)unlink(path);
    }
    return pc_changelog_create(log, room, out, err);
}

static pc_err io_fail(pc_error *err, const char *call, const char *path)
{
    return pc_error_set(err, PC_ERR_IO, "log_io", "%s %s: %s", call, path,
                        strerror(errno));
}

/* Make the directory's entries (a rename, an unlink) durable. */
static pc_err sync_dir(const char *dir, pc_error *err)
{
    pc_err rc = PC_OK;
    int dfd = open(dir, O_RDONLY | O_CLOEXEC);
    if (dfd < 0 || (fsync(dfd) != 0 && errno != EINVAL)) {
        rc = io_fail(err, "fsync", dir);
    }
    if (dfd >= 0) {
        close(dfd);
    }
    return rc;
}

/* Write text to path through path.tmp, syncing unless sync is false. */
static pc_err replace_file(const char *dir, const char *path, const char *tmp,
                           const char *text, size_t len, bool sync,
                           pc_error *err)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return io_fail(err, "open", tmp);
    }
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            break;
        }
        done += (size_t)w;
    }
    pc_err rc = PC_OK;
    if (done < len || (sync && fsync(fd) != 0)) {
        rc = io_fail(err, done < len ? "write" : "fsync", tmp);
    }
    close(fd);
    if (rc == PC_OK && rename(tmp, path) != 0) {
        rc = io_fail(err, "rename", tmp);
    }
    if (rc != PC_OK) {
        (void)unlink(tmp);
        return rc;
    }
    return sync ? sync_dir(dir, err) : PC_OK;
}

/* The longest text one player, and everything else, can take in a
 * players file: names, tokens and nonces at their longest, a seq of 20
 * digits (the sizeof of each template counts its NUL as one spare). */
#define PLAYER_TEXT_MAX                                                        \
    (sizeof ",{\"name\":\"\",\"token\":\"\",\"nonce\":\"\",\"role\":\"gm\"}" + \
     PC_SERVER_NAME_MAX + PC__TOKEN_HEX + PC_SERVER_NONCE_MAX)
#define FILE_TEXT_MAX                                                          \
    (sizeof "{\"room\":\"\",\"players\":[],\"pending\":{\"name\":\"\","        \
            "\"seq\":}}\n" +                                                   \
     PC_SERVER_NAME_MAX + 20)

/* A bounded text buffer: an append that does not fit marks it over. */
typedef struct textbuf {
    char *p;
    size_t len, cap;
    bool over;
} textbuf;

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3)))
#endif
static void
append(textbuf *t, const char *fmt, ...)
{
    if (t->over) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= t->cap - t->len) {
        t->over = true;
        return;
    }
    t->len += (size_t)n;
}

pc_err pc__durable_save_players(pc_server *srv, pc__host *h, bool pending,
                                pc_error *err)
{
    const pc_changelog_options *log = pc__server_log(srv);
    if (log == NULL || h->log == NULL) {
        return PC_OK;
    }
    char path[PC_CHANGELOG_PATH_MAX], tmp[PC_CHANGELOG_PATH_MAX];
    const char *id = pc_room_id(h->room);
    if (!players_path(log, id, "", path) ||
        !players_path(log, id, ".tmp", tmp)) {
        return pc_error_set(err, PC_ERR_INVALID, NULL, "path too long");
    }
    /* The file must never be ahead of the log: a player saved as joined
     * is kept at recovery whatever the room's seq, so the change its join
     * made has to be on disk first. Under everysec it may not be yet (a
     * power loss would keep the player but lose its seat in the game). */
    pc_err rc;
    if (!pending && log->fsync != PC_FSYNC_NONE &&
        (rc = pc_changelog_sync(h->log, err)) != PC_OK) {
        return rc;
    }
    /* Room ids, names and tokens are [A-Za-z0-9_.-] and hex: no escaping
     * is needed. */
    size_t n = pc__players_count(h->players);
    textbuf t = {.cap = FILE_TEXT_MAX + strlen(id) + n * PLAYER_TEXT_MAX};
    if ((t.p = pc_malloc(t.cap)) == NULL) {
        return pc_error_set(err, PC_ERR_NOMEM, NULL, "out of memory");
    }
    append(&t, "{\"room\":\"%s\",\"players\":[", id);
    for (size_t i = 0; i < n; i++) {
        const pc__player *p = pc__players_at(h->players, i);
        const char *nonce = pc__player_nonce(p);
        append(&t, "%s{\"name\":\"%s\",\"token\":\"%s\"%s%s%s%s}",
               i > 0 ? "," : "", pc__player_name(p), pc__player_token(p),
               nonce[0] != '\0' ? ",\"nonce\":\"" : "", nonce,
               nonce[0] != '\0' ? "\"" : "",
               pc__player_is_gm(p) ? ",\"role\":\"gm\"" : "");
    }
    append(&t, "]");
    if (pending && n > 0) {
        append(&t, ",\"pending\":{\"name\":\"%s\",\"seq\":%llu}",
               pc__player_name(pc__players_at(h->players, n - 1)),
               (unsigned long long)pc_room_seq(h->room));
    }
    append(&t, "}\n");
    rc = t.over ? pc_error_set(err, PC_ERR_LIMIT, NULL,
                               "the players of room %s do not fit "
                               "their file",
                               id)
                : replace_file(log->dir, path, tmp, t.p, t.len,
                               log->fsync != PC_FSYNC_NONE, err);
    pc_free(t.p);
    return rc;
}

/* Give a recovered room its players back from <room>.players, if any. */
static pc_err load_players(pc_server *srv, pc__host *h, pc_error *err)
{
    char path[PC_CHANGELOG_PATH_MAX];
    if (!players_path(pc__server_log(srv), pc_room_id(h->room), "", path)) {
        return pc_error_set(err, PC_ERR_INVALID, NULL, "path too long");
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT ? PC_OK : io_fail(err, "open", path);
    }
    char *text = pc_malloc(PLAYERS_FILE_MAX);
    size_t len = 0;
    ssize_t k = 0;
    while (text != NULL && len < PLAYERS_FILE_MAX &&
           ((k = read(fd, text + len, PLAYERS_FILE_MAX - len)) > 0 ||
            (k < 0 && errno == EINTR))) {
        len += k > 0 ? (size_t)k : 0;
    }
    close(fd);
    if (text == NULL) {
        return pc_error_set(err, PC_ERR_NOMEM, NULL, "out of memory");
    }
    cJSON *doc = NULL;
    pc_err rc = k < 0 ? io_fail(err, "read", path)
                      : pc_json_parse(text, len, NULL, &doc, NULL);
    pc_free(text);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "players");
    /* A join the crash cut short before its action committed: drop it. */
    const cJSON *pending = cJSON_GetObjectItemCaseSensitive(doc, "pending");
    const cJSON *pname = cJSON_GetObjectItemCaseSensitive(pending, "name");
    const cJSON *pseq = cJSON_GetObjectItemCaseSensitive(pending, "seq");
    if (rc == PC_OK && pending != NULL &&
        (!cJSON_IsString(pname) || !cJSON_IsNumber(pseq))) {
        rc = PC_ERR_INVALID;
    }
    const char *drop = NULL;
    if (rc == PC_OK && pending != NULL &&
        pseq->valuedouble >= (double)pc_room_seq(h->room)) {
        drop = pname->valuestring;
    }
    if (rc == PC_OK && !cJSON_IsArray(list)) {
        rc = PC_ERR_INVALID;
    }
    const cJSON *p;
    cJSON_ArrayForEach(p, list)
    {
        if (rc != PC_OK) {
            break;
        }
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "name");
        if (drop != NULL && cJSON_IsString(name) &&
            strcmp(name->valuestring, drop) == 0) {
            continue;
        }
        const cJSON *token = cJSON_GetObjectItemCaseSensitive(p, "token");
        const cJSON *nonce = cJSON_GetObjectItemCaseSensitive(p, "nonce");
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(p, "role");
        if (!cJSON_IsString(name) || !cJSON_IsString(token) ||
            (nonce != NULL && !cJSON_IsString(nonce)) ||
            (role != NULL &&
             (!cJSON_IsString(role) || strcmp(role->valuestring, "gm") != 0))) {
            rc = PC_ERR_INVALID;
        } else {
            rc = pc__players_restore(h->players, name->valuestring,
                                     token->valuestring,
                                     nonce != NULL ? nonce->valuestring : NULL);
            rc = rc == PC_OK || rc == PC_ERR_NOMEM ? rc : PC_ERR_INVALID;
            if (rc == PC_OK && role != NULL) {
                pc__player_set_gm(pc__players_at(
                    h->players, pc__players_count(h->players) - 1));
            }
        }
    }
    cJSON_Delete(doc);
    /* All or nothing: a file that cannot be read whole gives nobody back,
     * not just the players listed before the damage (under
     * PC_CHANGELOG_REPAIR every player joins again). */
    while (rc != PC_OK && pc__players_count(h->players) > 0) {
        pc__players_remove_last(h->players);
    }
    if (rc == PC_ERR_INVALID) {
        pc_error_set(err, rc, "players_corrupt",
                     "%s is not a valid players file", path);
    } else if (rc == PC_ERR_NOMEM) {
        pc_error_set(err, rc, NULL, "out of memory reading %s", path);
    }
    return rc;
}

/* Under PC_CHANGELOG_REPAIR: keep the unreadable players file of room id
 * as <id>.players.broken (or .broken.1, .broken.2, ...), as the change log
 * keeps a cut log's original, and take it out of the way, so that the
 * next start - repaired or not - finds what the room now has: no players,
 * rather than the same damage. */
static pc_err set_players_aside(pc_server *srv, const char *id, pc_error *err)
{
    const pc_changelog_options *log = pc__server_log(srv);
    char path[PC_CHANGELOG_PATH_MAX], broken[PC_CHANGELOG_PATH_MAX];
    if (!players_path(log, id, "", path)) {
        return pc_error_set(err, PC_ERR_INVALID, NULL, "path too long");
    }
    for (int i = 0; i < 1000; i++) {
        char suffix[32];
        snprintf(suffix, sizeof suffix, i == 0 ? ".broken" : ".broken.%d", i);
        if (!players_path(log, id, suffix, broken)) {
            return pc_error_set(err, PC_ERR_INVALID, NULL, "path too long");
        }
        if (link(path, broken) != 0) {
            if (errno == EEXIST) {
                continue; /* an older one: keep it too */
            }
            return io_fail(err, "link", broken);
        }
        if (unlink(path) != 0) {
            return io_fail(err, "unlink", path);
        }
        return log->fsync != PC_FSYNC_NONE ? sync_dir(log->dir, err) : PC_OK;
    }
    return pc_error_set(err, PC_ERR_IO, "log_io",
                        "cannot set %s aside: too many broken copies", path);
}

/* The room ids pc_changelog_list found. */
typedef struct idlist {
    char **v;
    size_t n, cap;
    bool nomem;
} idlist;

static void add_id(const char *id, void *arg)
{
    idlist *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap == 0 ? 16 : l->cap * 2;
        char **v = pc_realloc(l->v, cap * sizeof *v);
        if (v == NULL) {
            l->nomem = true;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    if ((l->v[l->n] = pc_strdup(id)) == NULL) {
        l->nomem = true;
        return;
    }
    l->n++;
}

static pc_err recover_one(pc_server *srv, const char *id,
                          const pc_changelog_game *games, size_t ngames,
                          const pc_server_room_options *opts, unsigned flags,
                          pc_changelog_report *rep, pc_error *err)
{
    pc_room *room;
    pc_changelog *log;
    if (pc__server_find_host(srv, id) != NULL) {
        return pc_error_set(err, PC_ERR_INVALID, NULL,
                            "room %s is already hosted", id);
    }
    pc_err rc = pc_changelog_recover(pc__server_log(srv), id, games, ngames,
                                     &opts->room, flags, &room, &log, rep, err);
    pc__host *h = NULL;
    if (rc == PC_OK &&
        (rc = pc__server_host(srv, room, log, opts, &h)) != PC_OK) {
        pc_error_set(err, rc, NULL, "cannot host room %s: %s", id,
                     pc_strerror(rc));
    }
    if (rc == PC_OK) {
        rc = load_players(srv, h, err);
        if (rc == PC_ERR_INVALID && (flags & PC_CHANGELOG_REPAIR)) {
            /* repaired: the players join again */
            rc = set_players_aside(srv, id, err);
        }
    }
    if (rc == PC_OK) {
        (void)pc_room_start(h->room);
    } else if (h != NULL) {
        (void)pc_server_remove_room(srv, id);
    }
    return rc;
}

pc_err pc_server_recover(pc_server *srv, const pc_changelog_game *games,
                         size_t ngames, const pc_server_room_options *opts,
                         unsigned flags, pc_server_recover_fn fn, void *arg,
                         pc_error *err)
{
    if (!pc__server_is_owner(srv)) {
        return PC_ERR_PERMISSION;
    }
    const pc_changelog_options *log = pc__server_log(srv);
    if (log == NULL) {
        return pc_error_set(err, PC_ERR_STATE, NULL,
                            "the server has no log directory");
    }
    pc_server_room_options defaults;
    if (opts == NULL) {
        pc_server_room_options_init(&defaults);
        opts = &defaults;
    }
    if (!pc__server_gm_credential_ok(opts)) {
        return pc_error_set(err, PC_ERR_INVALID, NULL,
                            "the game-master credential must be 16 to %d "
                            "printable ASCII characters without spaces",
                            PC_SERVER_CREDENTIAL_MAX);
    }
    idlist ids = {0};
    pc_err rc = pc_changelog_list(log->dir, add_id, &ids, err);
    if (rc == PC_OK && ids.nomem) {
        rc = pc_error_set(err, PC_ERR_NOMEM, NULL, "out of memory");
    }
    for (size_t i = 0; i < ids.n && rc == PC_OK; i++) {
        pc_changelog_report rep;
        pc_error e = {0};
        memset(&rep, 0, sizeof rep);
        rc = recover_one(srv, ids.v[i], games, ngames, opts, flags, &rep, &e);
        if (fn != NULL) {
            fn(&rep, rc, &e, arg);
        }
        if (rc != PC_OK && err != NULL) {
            *err = e;
        }
    }
    for (size_t i = 0; i < ids.n; i++) {
        pc_free(ids.v[i]);
    }
    pc_free(ids.v);
    return rc;
}
