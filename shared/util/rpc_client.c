/* ovnic: a blocking JSON-RPC client over a stream (see rpc_client.h). */
#include "shared/util/rpc_client.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/util/json.h"
#include "shared/util/poll.h"
#include "shared/util/stream.h"
#include "shared/util/util.h"

struct rpc_client {
    struct stream *stream; /* NULL once a failure closed the connection. */
    char *remote;
    int timeout_ms;
    int64_t next_id;
    char *buf; /* Received bytes not yet framed. */
    size_t len;
    size_t cap;
    struct json_framer framer;
};

/* Waits until the stream can progress or 'deadline' passes. */
static int
rpc_client_wait(struct rpc_client *c, bool want_send, uint64_t deadline)
{
    uint64_t now = time_msec();
    uint32_t events;
    struct pollfd pfd;
    int n;

    if (now >= deadline) {
        return -ETIMEDOUT;
    }
    events = stream_poll_events(c->stream, want_send);
    pfd.fd = stream_fd(c->stream);
    pfd.events = (short)((events & OVNIC_POLL_IN ? POLLIN : 0) |
                         (events & OVNIC_POLL_OUT ? POLLOUT : 0));
    n = poll(&pfd, 1, (int)MIN(deadline - now, (uint64_t)INT32_MAX));
    if (n < 0) {
        return errno == EINTR ? 0 : -errno;
    }
    return n == 0 ? -ETIMEDOUT : 0;
}

static void
rpc_client_disconnect(struct rpc_client *c)
{
    stream_close(c->stream);
    c->stream = NULL;
    c->len = 0;
    json_framer_init(&c->framer);
}

int
rpc_client_open(const char *remote, int timeout_ms, struct rpc_client **clientp,
                struct ovnic_err *err)
{
    struct rpc_client *c;
    uint64_t deadline;
    int error;

    if (timeout_ms <= 0) {
        return ovnic_err_set(err, -EINVAL, "rpc_client", "bad timeout", "%d ms",
                             timeout_ms);
    }
    c = calloc(1, sizeof *c);
    if (!c || !(c->remote = strdup(remote))) {
        free(c);
        return ovnic_err_set(err, -ENOMEM, "rpc_client", "out of memory", NULL);
    }
    c->timeout_ms = timeout_ms;
    c->next_id = 1;
    json_framer_init(&c->framer);
    deadline = time_msec() + (uint64_t)timeout_ms;
    error = stream_open(remote, NULL, &c->stream, err);
    while (!error && (error = stream_connect(c->stream)) == -EAGAIN) {
        error = rpc_client_wait(c, true, deadline);
    }
    if (error) {
        ovnic_err_set(err, error, "rpc_client", "cannot connect", "%s", remote);
        rpc_client_close(c);
        return error;
    }
    *clientp = c;
    return 0;
}

void
rpc_client_close(struct rpc_client *c)
{
    if (c) {
        stream_close(c->stream);
        free(c->remote);
        free(c->buf);
        free(c);
    }
}

bool
rpc_client_is_connected(const struct rpc_client *c)
{
    return c->stream != NULL;
}

static int
rpc_client_send_all(struct rpc_client *c, const char *data, size_t len, uint64_t deadline)
{
    while (len) {
        ssize_t n = stream_send(c->stream, data, len);

        if (n == -EAGAIN) {
            int error = rpc_client_wait(c, true, deadline);

            if (error) {
                return error;
            }
            continue;
        }
        if (n < 0) {
            return (int)n;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Receives the next complete JSON value into '*value' (caller owns). */
static int
rpc_client_recv(struct rpc_client *c, json_t **value, uint64_t deadline,
                struct ovnic_err *err)
{
    for (;;) {
        size_t used;
        ssize_t n;
        int error;

        if (c->len) {
            error = json_framer_parse(&c->framer, c->buf, c->len, value, &used, err);
            if (!error) {
                memmove(c->buf, c->buf + used, c->len - used);
                c->len -= used;
                return 0;
            }
            if (error == -ENOMEM) {
                return error;
            }
            if (error != -EAGAIN) {
                return -EPROTO;
            }
        }
        if (c->cap - c->len < 4096) {
            size_t cap = c->cap ? c->cap * 2 : 16384;
            char *buf;

            if (cap > RPC_CLIENT_MAX_REPLY) {
                return -EMSGSIZE;
            }
            buf = realloc(c->buf, cap);
            if (!buf) {
                return -ENOMEM;
            }
            c->buf = buf;
            c->cap = cap;
        }
        n = stream_recv(c->stream, c->buf + c->len, c->cap - c->len);
        if (n == -EAGAIN) {
            error = rpc_client_wait(c, false, deadline);
            if (error) {
                return error;
            }
            continue;
        }
        if (n == 0) {
            return -ECONNRESET;
        }
        if (n < 0) {
            return (int)n;
        }
        c->len += (size_t)n;
    }
}

/* An error reply: the answer of a server that could not tell which request it
 * answers (a refused connection, a message it could not parse) carries a null id. */
static bool
is_error_reply(const json_t *value)
{
    const json_t *error = json_object_get(value, "error");

    return error && !json_is_null(error) && !json_object_get(value, "method");
}

int
rpc_client_call(struct rpc_client *c, const char *method, json_t *params, json_t **reply,
                struct ovnic_err *err)
{
    uint64_t deadline = time_msec() + (uint64_t)c->timeout_ms;
    int64_t id;
    json_t *request;
    char *text;
    int send_error, error;

    if (!c->stream) {
        json_decref(params);
        return ovnic_err_set(err, -ENOTCONN, "rpc_client", "connection closed", "%s: %s",
                             c->remote, method);
    }
    if (!params) {
        params = json_array();
    }
    id = c->next_id++;
    request = json_pack("{s:s,s:o,s:I}", "method", method, "params", params, "id",
                        (json_int_t)id);
    text = request ? json_to_string(request) : NULL;
    json_decref(request);
    if (!text) {
        return ovnic_err_set(err, -ENOMEM, "rpc_client", "out of memory", "%s", method);
    }
    send_error = rpc_client_send_all(c, text, strlen(text), deadline);
    free(text);
    if (send_error && send_error != -EPIPE && send_error != -ECONNRESET) {
        rpc_client_disconnect(c);
        return ovnic_err_set(err, send_error, "rpc_client", "cannot send request",
                             "%s: %s", c->remote, method);
    }
    /* After -EPIPE, a server that refused the connection may have answered first. */
    for (;;) {
        const json_t *reply_id;
        json_t *value;

        error = rpc_client_recv(c, &value, deadline, err);
        if (error && send_error) {
            rpc_client_disconnect(c);
            return ovnic_err_set(err, send_error, "rpc_client", "cannot send request",
                                 "%s: %s", c->remote, method);
        }
        if (error) {
            if (error != -ETIMEDOUT) {
                rpc_client_disconnect(c);
            }
            return ovnic_err_set(err, error, "rpc_client", "no reply", "%s: %s",
                                 c->remote, method);
        }
        reply_id = json_object_get(value, "id");
        if ((json_is_integer(reply_id) && json_integer_value(reply_id) == id) ||
            (json_is_null(reply_id) && is_error_reply(value))) {
            if (send_error) {
                rpc_client_disconnect(c);
            }
            *reply = value;
            return 0;
        }
        json_decref(value); /* A notification, or a late reply: not this one. */
    }
}
