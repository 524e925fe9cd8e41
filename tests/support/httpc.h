/*
 * httpc.h - a small HTTP/1.0 client over real TCP sockets for the bridge's
 * tests (not installed): one request and its whole reply, or an event
 * stream read event by event. HTTP/1.0 makes evhttp close-delimit its
 * replies, so no chunked decoding is needed. Plain POSIX; no cmocka.
 */
#ifndef PC_TEST_HTTPC_H
#define PC_TEST_HTTPC_H

#include <stddef.h>

/* A reply: status, headers (raw text), body (NUL-terminated). */
typedef struct httpc_reply {
    int status;
    char *headers;
    char *body;
    size_t body_len;
} httpc_reply;

/*
 * httpc_do - send METHOD path to base ("http://127.0.0.1:PORT"), with
 * extra header lines (each ending "\r\n", may be NULL) and body (may be
 * NULL; Content-Length added), and read the whole reply. Returns 0, or
 * -1 when the connection failed or the reply is not HTTP (then r is
 * empty).
 */
int httpc_do(const char *base, const char *method, const char *path,
             const char *headers, const char *body, size_t body_len,
             httpc_reply *r);
void httpc_reply_free(httpc_reply *r);
/* The value of header name in r (case-insensitive), copied into out. */
int httpc_header(const httpc_reply *r, const char *name, char *out, size_t cap);

/* Connect to base; the socket, or -1. rcvbuf > 0 sets SO_RCVBUF first. */
int httpc_connect(const char *base, int rcvbuf);

typedef struct httpc_stream httpc_stream;

/* Open GET path as an event stream (headers as in httpc_do); NULL when
 * the connection failed or the status is not 200 (*status, if not NULL,
 * gets the status either way). rcvbuf as in httpc_connect. */
httpc_stream *httpc_stream_open(const char *base, const char *path,
                                const char *headers, int rcvbuf, int *status);
/*
 * httpc_stream_next - the next event, waiting up to timeout_ms: 1 and
 * the event's name ("message" if none), id ("" if none) and data
 * (owned by the stream until the next call), 0 on timeout, -1 at the
 * end of the stream.
 */
int httpc_stream_next(httpc_stream *s, int timeout_ms, const char **name,
                      const char **id, const char **data);
/* The stream's socket (to hold it without reading). */
int httpc_stream_fd(const httpc_stream *s);
void httpc_stream_close(httpc_stream *s);

#endif
