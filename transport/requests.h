/*
 * requests.h - the server's request service on its REP socket (internal;
 * docs/protocol.md lists the operations and errors).
 */
#ifndef PC_TRANSPORT_REQUESTS_H
#define PC_TRANSPORT_REQUESTS_H

/* How long the loop may wait to hand a reply to a connection whose previous
 * reply nng is still sending; past it the reply is dropped and the
 * requester's retry asks again (actions are idempotent per action id). */
#define PC__REPLY_SEND_TIMEOUT_MS 250

#include <stddef.h>

#include <cjson/cJSON.h>
#include <nng/nng.h>

#include "phasecast/error.h"
#include "phasecast/server.h"

struct event_base;

typedef struct pc__requests pc__requests;

/* Answer requests arriving on rep from the loop of base. Returns PC_OK,
 * PC_ERR_IO (no pollable descriptor) or PC_ERR_NOMEM. */
pc_err pc__requests_new(pc_server *srv, struct event_base *base, nng_socket rep,
                        pc__requests **out);
/* Stop answering (before the socket is closed). NULL is ignored. */
void pc__requests_free(pc__requests *rq);

/*
 * pc__requests_answer - the reply to one request body of len bytes (not
 * NUL-terminated, untrusted). On the loop owner's thread. *text is freed
 * with cJSON_free. Returns PC_OK or PC_ERR_NOMEM (then there is no text;
 * the caller answers with a fixed "internal" error).
 */
pc_err pc__requests_answer(pc_server *srv, const char *body, size_t len,
                           char **text, size_t *text_len);

/*
 * pc__requests_answer_tree - the reply to a request already parsed (the
 * HTTP bridge builds requests from routes and bodies it has checked
 * against the same limits). code (may be NULL) receives the reply's error
 * code, "" for a success. Otherwise as pc__requests_answer.
 */
pc_err pc__requests_answer_tree(pc_server *srv, const cJSON *req, char **text,
                                size_t *text_len, char code[PC_ERROR_CODE_MAX]);

/* The reply sent when even building a reply ran out of memory. */
extern const char pc__requests_nomem_reply[];

#endif
