/*
 * phasecast/error.h - error codes and the structured error value.
 *
 * Every fallible phasecast function returns a pc_err; 0 (PC_OK) is success
 * and out-parameters are written only on success. When a caller needs more
 * than the code, the framework fills a pc_error: the code, a stable
 * machine-readable name (the "code" of the wire format's {code, message}
 * errors) and a human-readable message. There is no process-global "last
 * error" anywhere in phasecast.
 */
#ifndef PHASECAST_ERROR_H
#define PHASECAST_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* Result of every fallible call. The numeric values are stable. */
typedef enum pc_err {
    PC_OK = 0,
    PC_ERR_INVALID = 1,     /* an argument or document is malformed */
    PC_ERR_NOMEM = 2,       /* an allocation failed; nothing changed */
    PC_ERR_LIMIT = 3,       /* a size, depth or count limit was exceeded */
    PC_ERR_REJECTED = 4,    /* the game's validator refused the new state */
    PC_ERR_REENTRANT = 5,   /* state change attempted from a sink, validator
                               or exit callback */
    PC_ERR_NOT_FOUND = 6,   /* no such seq, phase, path or item */
    PC_ERR_EVICTED = 7,     /* the seq is older than the retained history */
    PC_ERR_PHASE = 8,       /* unknown phase, or no handler in this phase */
    PC_ERR_TAMPERED = 9,    /* state was modified outside the update path */
    PC_ERR_ACTION = 10,     /* the game refused an action (see pc_error.code) */
    PC_ERR_STATE = 11,      /* the object is in the wrong state for the call */
    PC_ERR_IO = 12,         /* an operating-system I/O call failed */
    PC_ERR_CLOSED = 13,     /* the object or connection is closed */
    PC_ERR_TIMEOUT = 14,    /* an operation did not complete in time */
    PC_ERR_PROTOCOL = 15,   /* a peer sent something the protocol forbids */
    PC_ERR_PERMISSION = 16, /* the caller is not allowed to do this */
    PC_ERR_CONFLICT = 17    /* an action's expected_seq is behind the room
                               and the game refuses stale actions of its
                               type (see pc_game.strict_actions) */
} pc_err;

/* Size of pc_error.code including the terminating NUL. */
#define PC_ERROR_CODE_MAX 40
/* Size of pc_error.message including the terminating NUL. */
#define PC_ERROR_MESSAGE_MAX 256

/*
 * A structured error: what went wrong, in a form that can be printed for a
 * person and matched by a program. A plain value type; zero-initialise it
 * (or call pc_error_clear) before use.
 */
typedef struct pc_error {
    pc_err err;                   /* PC_OK when no error is held */
    char code[PC_ERROR_CODE_MAX]; /* e.g. "invalid_patch", "not_your_turn" */
    char message[PC_ERROR_MESSAGE_MAX]; /* one sentence, no trailing newline */
} pc_error;

/*
 * pc_strerror - a short English description of err ("out of memory").
 * Never returns NULL; unknown values give "unknown error". Any thread.
 */
const char *pc_strerror(pc_err err);

/*
 * pc_err_name - the stable lower_snake_case name of err ("nomem"), used as
 * the default pc_error.code. Never returns NULL. Any thread.
 */
const char *pc_err_name(pc_err err);

/*
 * pc_error_set - fill e and return err, so a callback can write
 * `return pc_error_set(e, PC_ERR_ACTION, "not_your_turn", "it is %s's turn",
 * p);` code may be NULL to use pc_err_name(err). Longer texts are truncated. e
 * may be NULL (then only err is returned). Any thread (e is the caller's).
 */
pc_err pc_error_set(pc_error *e, pc_err err, const char *code, const char *fmt,
                    ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* pc_error_clear - reset e to "no error". e may be NULL. */
void pc_error_clear(pc_error *e);

#ifdef __cplusplus
}
#endif

#endif /* PHASECAST_ERROR_H */
