/*
 * httpc.c - the HTTP test client of httpc.h.
 */
#include "httpc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

int httpc_connect(const char *base, int rcvbuf)
{
    unsigned a, b, c, d, port;
    if (sscanf(base, "http://%u.%u.%u.%u:%u", &a, &b, &c, &d, &port) != 5) {
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    if (rcvbuf > 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    }
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(a << 24 | b << 16 | c << 8 | d);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) {
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int send_request(int fd, const char *method, const char *path,
                        const char *headers, const char *body, size_t len)
{
    char head[32768];
    int n = snprintf(head, sizeof head, "%s %s HTTP/1.0\r\nHost: test\r\n%s",
                     method, path, headers != NULL ? headers : "");
    if (n < 0 || (size_t)n >= sizeof head - 64) {
        return -1;
    }
    if (body != NULL) {
        n += snprintf(head + n, sizeof head - (size_t)n,
                      "Content-Length: %zu\r\n", len);
    }
    n += snprintf(head + n, sizeof head - (size_t)n, "\r\n");
    if (send_all(fd, head, (size_t)n) != 0 ||
        (body != NULL && send_all(fd, body, len) != 0)) {
        return -1;
    }
    return 0;
}

/* Split raw (len bytes) into status, headers and body. */
static int parse_reply(char *raw, size_t len, httpc_reply *r)
{
    char *end = strstr(raw, "\r\n\r\n");
    if (end == NULL || sscanf(raw, "HTTP/1.%*d %d", &r->status) != 1) {
        return -1;
    }
    size_t hlen = (size_t)(end - raw) + 2;
    r->headers = malloc(hlen + 1);
    r->body_len = len - (hlen + 2);
    r->body = malloc(r->body_len + 1);
    if (r->headers == NULL || r->body == NULL) {
        return -1;
    }
    memcpy(r->headers, raw, hlen);
    r->headers[hlen] = '\0';
    memcpy(r->body, end + 4, r->body_len);
    r->body[r->body_len] = '\0';
    return 0;
}

int httpc_do(const char *base, const char *method, const char *path,
             const char *headers, const char *body, size_t body_len,
             httpc_reply *r)
{
    memset(r, 0, sizeof *r);
    int fd = httpc_connect(base, 0);
    if (fd < 0) {
        return -1;
    }
    char *raw = NULL;
    size_t len = 0, cap = 0;
    /* A server may answer and close before reading a body it refuses, so
     * read the reply even when sending failed. */
    (void)send_request(fd, method, path, headers, body, body_len);
    int rc = 0;
    while (rc == 0) {
        if (cap - len < 65536) {
            cap = cap * 2 + 65536;
            char *p = realloc(raw, cap + 1);
            if (p == NULL) {
                rc = -1;
                break;
            }
            raw = p;
        }
        ssize_t got = recv(fd, raw + len, cap - len, 0);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            break;
        }
        len += (size_t)got;
    }
    close(fd);
    if (rc == 0 && raw != NULL) {
        raw[len] = '\0';
        rc = parse_reply(raw, len, r);
    } else {
        rc = -1;
    }
    free(raw);
    if (rc != 0) {
        httpc_reply_free(r);
    }
    return rc;
}

void httpc_reply_free(httpc_reply *r)
{
    free(r->headers);
    free(r->body);
    memset(r, 0, sizeof *r);
}

int httpc_header(const httpc_reply *r, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    for (const char *p = r->headers; p != NULL && *p != '\0';) {
        const char *eol = strstr(p, "\r\n");
        if (eol == NULL) {
            break;
        }
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ') {
                v++;
            }
            snprintf(out, cap, "%.*s", (int)(eol - v), v);
            return 0;
        }
        p = eol + 2;
    }
    return -1;
}

struct httpc_stream {
    int fd;
    char *buf; /* unread bytes */
    size_t len, cap;
    char name[64];
    char id[32];
    char *data;
    size_t data_len, data_cap;
};

/* Read more bytes, waiting up to timeout_ms: 1 got some, 0 timeout, -1
 * end or error. */
static int fill(httpc_stream *s, int timeout_ms)
{
    struct pollfd p = {.fd = s->fd, .events = POLLIN};
    int r = poll(&p, 1, timeout_ms);
    if (r <= 0) {
        return r < 0 && errno != EINTR ? -1 : 0;
    }
    if (s->cap - s->len < 65536) {
        s->cap = s->cap * 2 + 65536;
        char *nb = realloc(s->buf, s->cap + 1);
        if (nb == NULL) {
            return -1;
        }
        s->buf = nb;
    }
    ssize_t got = recv(s->fd, s->buf + s->len, s->cap - s->len, 0);
    if (got <= 0) {
        return -1;
    }
    s->len += (size_t)got;
    s->buf[s->len] = '\0';
    return 1;
}

httpc_stream *httpc_stream_open(const char *base, const char *path,
                                const char *headers, int rcvbuf, int *status)
{
    if (status != NULL) {
        *status = 0;
    }
    int fd = httpc_connect(base, rcvbuf);
    if (fd < 0) {
        return NULL;
    }
    httpc_stream *s = calloc(1, sizeof *s);
    if (s == NULL || send_request(fd, "GET", path, headers, NULL, 0) != 0) {
        free(s);
        close(fd);
        return NULL;
    }
    s->fd = fd;
    char *end;
    while ((end = s->buf != NULL ? strstr(s->buf, "\r\n\r\n") : NULL) == NULL) {
        if (fill(s, 5000) <= 0) {
            httpc_stream_close(s);
            return NULL;
        }
    }
    int st = 0;
    sscanf(s->buf, "HTTP/1.%*d %d", &st);
    if (status != NULL) {
        *status = st;
    }
    size_t used = (size_t)(end - s->buf) + 4;
    memmove(s->buf, s->buf + used, s->len - used + 1);
    s->len -= used;
    if (st != 200) {
        httpc_stream_close(s);
        return NULL;
    }
    return s;
}

static void data_add(httpc_stream *s, const char *p, size_t n)
{
    if (s->data_len + n + 2 > s->data_cap) {
        s->data_cap = (s->data_len + n + 2) * 2;
        s->data = realloc(s->data, s->data_cap);
    }
    if (s->data_len > 0) {
        s->data[s->data_len++] = '\n';
    }
    memcpy(s->data + s->data_len, p, n);
    s->data_len += n;
    s->data[s->data_len] = '\0';
}

int httpc_stream_next(httpc_stream *s, int timeout_ms, const char **name,
                      const char **id, const char **data)
{
    for (;;) {
        /* A whole event: lines up to a blank line. */
        char *end = s->buf != NULL ? strstr(s->buf, "\n\n") : NULL;
        if (end != NULL) {
            size_t evlen = (size_t)(end - s->buf) + 2;
            snprintf(s->name, sizeof s->name, "message");
            s->id[0] = '\0';
            s->data_len = 0;
            int fields = 0;
            for (char *line = s->buf; line < end + 1;) {
                char *nl = memchr(line, '\n', (size_t)(end + 1 - line));
                size_t n = (size_t)(nl - line);
                if (n >= 7 && strncmp(line, "event: ", 7) == 0) {
                    snprintf(s->name, sizeof s->name, "%.*s", (int)(n - 7),
                             line + 7);
                    fields++;
                } else if (n >= 4 && strncmp(line, "id: ", 4) == 0) {
                    snprintf(s->id, sizeof s->id, "%.*s", (int)(n - 4),
                             line + 4);
                    fields++;
                } else if (n >= 6 && strncmp(line, "data: ", 6) == 0) {
                    data_add(s, line + 6, n - 6);
                    fields++;
                }
                line = nl + 1;
            }
            memmove(s->buf, s->buf + evlen, s->len - evlen + 1);
            s->len -= evlen;
            if (fields == 0) {
                continue; /* retry:, comments */
            }
            *name = s->name;
            *id = s->id;
            *data = s->data_len > 0 ? s->data : "";
            return 1;
        }
        int r = fill(s, timeout_ms);
        if (r <= 0) {
            return r;
        }
    }
}

int httpc_stream_fd(const httpc_stream *s)
{
    return s->fd;
}

void httpc_stream_close(httpc_stream *s)
{
    if (s == NULL) {
        return;
    }
    close(s->fd);
    free(s->buf);
    free(s->data);
    free(s);
}
