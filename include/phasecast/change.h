/*
 * phasecast/change.h - the committed change record.
 *
 * Every successful pc_update_phase_data, pc_transition or pc_room_event
 * produces exactly one pc_change: it is handed to every sink, kept in the
 * room's bounded history, broadcast and logged. A pc_change is a read-only
 * view; all its pointers are borrowed from the framework (see each producer for
 * how long). It is not a way to change anything.
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
    PC_CHANGE_UPDATE = 0,     /* pc_update_phase_data: data patched */
    PC_CHANGE_TRANSITION = 1, /* pc_transition: phase set, data maybe patched */
    PC_CHANGE_EVENT = 2       /* pc_room_event: a named event; the state,
                                 its checksum and the phase are unchanged */
} pc_change_kind;

/* Who may see an event (see view.h). The room itself, its history, its
 * sinks and its change log always hold every event whole; the audience
 * decides only what is sent to whom. */
typedef enum pc_audience {
    PC_AUDIENCE_PUBLIC = 0, /* everyone: spectators, every player, the
                               broadcast */
    PC_AUDIENCE_PLAYER = 1, /* one player (pc_event.player) only, like a
                               member of a private path that player owns */
    PC_AUDIENCE_GM = 2      /* no player and no spectator: like a private
                               path without an owner (the game master
                               role, when a room has one, sees it) */
} pc_audience;

/* Who sent an action (pc_action.role): a seated player, or the room's
 * game master (a viewer who sees the whole state, admitted by the host;
 * see view.h and docs/protocol.md "join"). */
typedef enum pc_role {
    PC_ROLE_PLAYER = 0, /* a player: sees its own view */
    PC_ROLE_GM = 1      /* the game master: sees everything */
} pc_role;

/* Longest event name in bytes (names are [A-Za-z0-9_.-]{1,64}), and
 * longest player id an event may be addressed to (same characters). */
#define PC_EVENT_NAME_MAX 64

/* A named event (kind PC_CHANGE_EVENT). Pointers are borrowed like the
 * change's own; for other kinds every member is zero. */
typedef struct pc_event {
    const char *name;     /* e.g. "critical_hit" */
    const cJSON *data;    /* its data, any JSON value (null when none) */
    pc_audience audience; /* who may see it */
    const char *player;   /* PC_AUDIENCE_PLAYER: that player; else NULL */
} pc_event;

/* The outside event that made a change: the stimulus a replay feeds the
 * game again to reproduce it. Changes made by callbacks the stimulus set
 * off (an enter callback after a transition, say) carry the same cause. */
typedef enum pc_cause_kind {
    PC_CAUSE_HOST = 0,   /* the host called the update API directly */
    PC_CAUSE_START = 1,  /* pc_room_start ran the first phase's enter (or
                            a recovered room's, to finish its entry) */
    PC_CAUSE_ACTION = 2, /* pc_room_action delivered an action */
    PC_CAUSE_TIMEOUT = 3 /* pc_room_fire_timeout fired the phase timer */
} pc_cause_kind;

/* What made a change. Pointers are borrowed like the change's own. A
 * change read back from a log written before causes were recorded has
 * none: first_seq is 0 and every other member zero (kind PC_CAUSE_HOST
 * then means nothing). Causes are never broadcast. */
typedef struct pc_cause {
    pc_cause_kind kind;
    uint64_t first_seq;    /* seq of the first change this stimulus made;
                              0: no cause recorded */
    const char *player;    /* ACTION: the acting player; else NULL */
    const char *type;      /* ACTION: the action's type; else NULL */
    const cJSON *payload;  /* ACTION: its payload, NULL if none */
    const char *phase;     /* TIMEOUT: the phase whose timer fired; else NULL */
    bool payload_dropped;  /* ACTION, read back from a log: the payload could
                              not be recorded (see docs/durability.md) */
    pc_role role;          /* ACTION: who acted (PC_ROLE_PLAYER otherwise) */
    bool has_expected_seq; /* ACTION: the action carried expected_seq ... */
    uint64_t expected_seq; /* ... this one (0 otherwise) */
} pc_cause;

/* One committed change: everything needed to explain it and to check it. */
typedef struct pc_change {
    uint64_t seq;    /* 1, 2, 3, ... contiguous per room */
    int64_t time_ms; /* room clock, ms since the Unix epoch */
    pc_change_kind kind;
    const char *phase;      /* phase after the change */
    const char *prev_phase; /* phase before (same as phase for updates) */
    const cJSON *patch;     /* merge patch applied to "data"; {} if none
                               (always {} for an event) */
    const char *reason;     /* the caller's explanation, never NULL */
    const char *file;       /* caller's source file (__FILE__) */
    int line;               /* caller's source line */
    const char *func;       /* caller's function (__func__) */
    uint64_t checksum;      /* pc_canon_checksum of the state after */
    size_t state_bytes;     /* canonical length of the state after */
    pc_cause cause;         /* the stimulus that made it */
    pc_event event;         /* PC_CHANGE_EVENT: the event; else all zero */
} pc_change;

#ifdef __cplusplus
}
#endif

#endif /* PHASECAST_CHANGE_H */
