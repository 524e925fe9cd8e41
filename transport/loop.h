/*
 * loop.h - the server's event loop: one libevent base, the thread that
 * owns it, and the queue through which other threads post work (internal).
 *
 * Ownership moves between the creating thread (CALLER-OWNED) and a loop
 * thread (RUNNING); see phasecast/server.h for the state machine. The loop
 * knows nothing of rooms or sockets: the server registers its own events
 * on pc__loop_base.
 */
#ifndef PC_TRANSPORT_LOOP_H
#define PC_TRANSPORT_LOOP_H

#include <stdbool.h>

#include "phasecast/error.h"
#include "phasecast/server.h"

struct event_base;

typedef struct pc__loop pc__loop;

/* Create the base (with pthread locking) owned by the calling thread;
 * posted work is called with srv. Returns PC_OK, PC_ERR_NOMEM. */
pc_err pc__loop_new(pc_server *srv, pc__loop **out);
/* Stop if running, run what is still queued, free. NULL is ignored. */
void pc__loop_free(pc__loop *loop);
struct event_base *pc__loop_base(pc__loop *loop);
/* True when the calling thread owns the loop now. */
bool pc__loop_is_owner(pc__loop *loop);
bool pc__loop_running(pc__loop *loop);
pc_err pc__loop_start(pc__loop *loop);
pc_err pc__loop_stop(pc__loop *loop);
pc_err pc__loop_run_once(pc__loop *loop, int timeout_ms);
pc_err pc__loop_post(pc__loop *loop, pc_server_fn fn, void *arg);
pc_err pc__loop_call(pc__loop *loop, pc_server_fn fn, void *arg);

#endif
