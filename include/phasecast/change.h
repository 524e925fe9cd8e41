/*
 * phasecast/change.h - the committed change record.
 *
 * Every successful pc_update_phase_data or pc_transition produces exactly one
 * pc_change: it is handed to every sink, kept in the room's bounded history,
 * and (in later layers) broadcast and logged. A pc_change is a read-only view;
 * all its pointers are borrowed from the framework (see each producer for how
 * long). It is not a way to change anything.
 */
#ifndef PHASECAST_CHANGE_H
#define PHASECAST_CHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What produced the change. */
typedef enum pc_change_kind {
    PC_CHANGE_UPDATE = 0,    /* pc_update_phase_data: data patched */
    PC_CHANGE_TRANSITION = 1 /* pc_transition: phase set, data maybe patched */
} pc_change_kind;

/* The outside event that made a change: the stimulus a replay feeds the
 * game again to reproduce it. Changes made by callbacks the stimulus set
 * off (an enter callback after a transition, say) carry the same cause. */
typedef enum pc_cause_kind {
    PC_CAUSE_HOST = 0,   /* the host called the update API directly */
    PC_CAUSE_START = 1,  /* pc_room_start ran the first phase's enter */
    PC_CAUSE_ACTION = 2, /* pc_room_action delivered an action */
    PC_CAUSE_TIMEOUT = 3 /* pc_room_fire_timeout fired the phase timer */
} pc_cause_kind;

/* What made a change. Pointers are borrowed like the change's own. A
 * change read back from a log written before causes were recorded has
 * none: first_seq is 0 and every other member zero (kind PC_CAUSE_HOST
 * then means nothing). Causes are never broadcast. */
typedef struct pc_cause {
    pc_cause_kind kind;
    uint64_t first_seq;   /* seq of the first change this stimulus made;
                             0: no cause recorded */
    const char *player;   /* ACTION: the acting player; else NULL */
    const char *type;     /* ACTION: the action's type; else NULL */
    const cJSON *payload; /* ACTION: its payload, NULL if none */
    const char *phase;    /* TIMEOUT: the phase whose timer fired; else NULL */
    bool payload_dropped; /* ACTION, read back from a log: the payload could
                             not be recorded (see docs/durability.md) */
} pc_cause;

/* One committed change: everything needed to explain it and to check it. */
typedef struct pc_change {
    uint64_t seq;    /* 1, 2, 3, ... contiguous per room */
    int64_t time_ms; /* room clock, ms since the Unix epoch */
    pc_change_kind kind;
    const char *phase;      /* phase after the change */
    const char *prev_phase; /* phase before (same as phase for updates) */
    const cJSON *patch;     /* merge patch applied to "data"; {} if none */
    const char *reason;     /* the caller's explanation, never NULL */
    const char *file;       /* caller's source file (__FILE__) */
    int line;               /* caller's source line */
    const char *func;       /* caller's function (__func__) */
    uint64_t checksum;      /* pc_canon_checksum of the state after */
    size_t state_bytes;     /* canonical length of the state after */
    pc_cause cause;         /* the stimulus that made it */
} pc_change;

#ifdef __cplusplus
}
#endif

#endif /* PHASECAST_CHANGE_H */
