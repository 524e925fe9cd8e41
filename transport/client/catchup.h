/*
 * catchup.h - what the client's retry helper (retry.c) needs of the
 * client itself (internal; the public API is phasecast/client.h).
 */
#ifndef PC_CLIENT_CATCHUP_H
#define PC_CLIENT_CATCHUP_H

#include <stdbool.h>
#include <stdint.h>

#include "phasecast/client.h"
#include "phasecast/error.h"

/*
 * pc__client_catch_up - bring the replica to seq target or later: take
 * what the broadcast has queued, then ask `changes` for the rest, polling
 * until request_timeout_ms * request_attempts have passed. Callbacks fire
 * as in pc_client_poll. Returns PC_OK, PC_ERR_TIMEOUT, PC_ERR_CLOSED (the
 * client was closed from a callback, and is now freed), PC_ERR_IO or
 * PC_ERR_NOMEM.
 */
pc_err pc__client_catch_up(pc_client *c, uint64_t target);

/* pc__client_in_callback - true while one of c's callbacks runs. */
bool pc__client_in_callback(const pc_client *c);

#endif
