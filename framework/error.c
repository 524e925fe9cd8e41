/*
 * error.c - names and descriptions of pc_err codes, the pc_error value type,
 * and the run-time library version.
 *
 * This is bookkeeping for errors the caller already holds: it keeps no
 * state of its own, so there is no "last error" to fetch and nothing here is
 * shared between threads. It does not translate operating-system or nng
 * errors; callers map those to a pc_err first. Messages are truncated to
 * fit pc_error, and the truncation never splits a UTF-8 sequence, but the
 * text is otherwise copied as formatted: nothing here promises it is valid
 * UTF-8 if the arguments were not.
 */
#include "phasecast/error.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "phasecast/version.h"

/* One row per code, indexed by the numeric value the header fixes. */
typedef struct err_info {
    const char *name;        /* stable lower_snake_case, used on the wire */
    const char *description; /* short English text for people */
} err_info;

static const err_info infos[] = {
    [PC_OK] = {"ok", "no error"},
    [PC_ERR_INVALID] = {"invalid", "invalid argument or document"},
    [PC_ERR_NOMEM] = {"nomem", "out of memory"},
    [PC_ERR_LIMIT] = {"limit", "limit exceeded"},
    [PC_ERR_REJECTED] = {"rejected", "state rejected by the game"},
    [PC_ERR_REENTRANT] = {"reentrant", "state change from inside a callback"},
    [PC_ERR_NOT_FOUND] = {"not_found", "not found"},
    [PC_ERR_EVICTED] = {"evicted", "evicted from history"},
    [PC_ERR_PHASE] = {"phase", "unknown phase or no handler in this phase"},
    [PC_ERR_TAMPERED] = {"tampered", "state modified outside the update path"},
    [PC_ERR_ACTION] = {"action", "action refused by the game"},
    [PC_ERR_STATE] = {"state", "object in the wrong state for this call"},
    [PC_ERR_IO] = {"io", "input/output error"},
    [PC_ERR_CLOSED] = {"closed", "closed"},
    [PC_ERR_TIMEOUT] = {"timeout", "timed out"},
    [PC_ERR_PROTOCOL] = {"protocol", "protocol violation"},
    [PC_ERR_PERMISSION] = {"permission", "permission denied"},
    [PC_ERR_CONFLICT] = {"conflict", "the room moved past the expected seq"},
};

#define N_INFOS (sizeof(infos) / sizeof(infos[0]))

static const err_info *lookup(pc_err err)
{
    /* The enum may be signed or unsigned depending on the compiler, and a
     * caller may cast any int to it, so compare through a wide type. */
    long long v = (long long)err;
    if (v < 0 || (unsigned long long)v >= N_INFOS || infos[v].name == NULL) {
        return NULL;
    }
    return &infos[v];
}

const char *pc_strerror(pc_err err)
{
    const err_info *i = lookup(err);
    return i != NULL ? i->description : "unknown error";
}

const char *pc_err_name(pc_err err)
{
    const err_info *i = lookup(err);
    return i != NULL ? i->name : "unknown";
}

/*
 * If the last few bytes of the NUL-terminated s (length n) are the start of
 * a UTF-8 sequence that truncation cut short, drop them, so a truncated
 * message stays printable wherever the full one was.
 */
static void trim_partial_utf8(char *s, size_t n)
{
    size_t i = n;
    size_t back = 0;
    while (i > 0 && back < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) {
        i--;
        back++;
    }
    if (i == 0) {
        return;
    }
    unsigned char lead = (unsigned char)s[i - 1];
    size_t want;
    if (lead >= 0xF0) {
        want = 4;
    } else if (lead >= 0xE0) {
        want = 3;
    } else if (lead >= 0xC0) {
        want = 2;
    } else {
        return; /* ASCII, or a stray continuation run: leave as is */
    }
    if (back + 1 < want) {
        s[i - 1] = '\0';
    }
}

pc_err pc_error_set(pc_error *e, pc_err err, const char *code, const char *fmt,
                    ...)
{
    if (e == NULL) {
        return err;
    }
    e->err = err;
    if (code == NULL) {
        code = pc_err_name(err);
    }
    size_t clen = strlen(code);
    if (clen >= sizeof(e->code)) {
        clen = sizeof(e->code) - 1;
    }
    memcpy(e->code, code, clen);
    e->code[clen] = '\0';

    if (fmt == NULL) {
        snprintf(e->message, sizeof(e->message), "%s", pc_strerror(err));
        return err;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    if (n < 0) {
        /* An encoding error leaves the buffer unspecified; fall back to the
         * generic text rather than hand out garbage. */
        snprintf(e->message, sizeof(e->message), "%s", pc_strerror(err));
    } else if ((size_t)n >= sizeof(e->message)) {
        trim_partial_utf8(e->message, sizeof(e->message) - 1);
    }
    return err;
}

void pc_error_clear(pc_error *e)
{
    if (e == NULL) {
        return;
    }
    e->err = PC_OK;
    e->code[0] = '\0';
    e->message[0] = '\0';
}

const char *pc_version(void)
{
    return PC_VERSION_STRING;
}
