/*
 * config.h - a client's own copy of its pc_client_config (internal; the
 * public API is phasecast/client.h, whose pc_client_config comments give
 * every default).
 *
 * pc_client_open checks the caller's config once, fills in every default
 * and copies every string, so nothing later needs the caller's memory or
 * a second look at a zero. Pure: no sockets, no threads.
 */
#ifndef PC_CLIENT_CONFIG_H
#define PC_CLIENT_CONFIG_H

#include "phasecast/client.h"
#include "phasecast/error.h"

/*
 * pc__config_copy - check in (both URLs, a valid room id, a role and, for
 * a player, a valid name), then write to *out a copy with every zero
 * numeric member replaced by its default and every string copied. A
 * spectator's name is dropped (NULL). On PC_OK the caller frees the copy
 * with pc__config_fini; on failure *out holds nothing to free. Returns
 * PC_OK, PC_ERR_INVALID or PC_ERR_NOMEM, with err (may be NULL) saying
 * which.
 */
pc_err pc__config_copy(const pc_client_config *in, pc_client_config *out,
                       pc_error *err);

/* pc__config_fini - free the strings pc__config_copy made. */
void pc__config_fini(pc_client_config *cfg);

#endif
