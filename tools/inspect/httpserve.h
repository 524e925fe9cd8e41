/*
 * httpserve.h - phasecast-inspect's page server (--http ADDR): the
 * time-travel page over the history the inspector has open.
 */
#ifndef PC_INSPECT_HTTPSERVE_H
#define PC_INSPECT_HTTPSERVE_H

#include "cmd.h"

/* Serve cx's source on addr ("host:port") until SIGINT or SIGTERM;
 * credential (NULL or "": none) is then required as a bearer token.
 * Prints "http URL" and "travel URL" on cx's output. Returns the exit
 * status. */
int insp_http(insp_ctx *cx, const char *addr, const char *credential);

#endif
