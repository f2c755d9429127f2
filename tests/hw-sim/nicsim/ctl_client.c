/* ovnic-nicsim: blocking control-socket client (see ctl_client.h). */
#include "tests/hw-sim/nicsim/ctl_client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/util/json.h"
#include "shared/util/poll.h"
#include "shared/util/stream.h"
#include "shared/util/util.h"

struct nicsim_client {
    struct stream *stream;
    int timeout_ms;
    int64_t next_id;
    char *buf; /* Received bytes not yet framed. */
    size_t len;
    size_t cap;
    struct json_framer framer;
};

static int
wait_for(struct nicsim_client *c, bool want_send, uint64_t deadline)
{
    struct pollfd pfd;
    uint64_t now = time_msec();
    uint32_t events;
    int n;

    if (now >= deadline) {
        return -ETIMEDOUT;
    }
    events = stream_poll_events(c->stream, want_send);
    pfd.fd = stream_fd(c->stream);
    pfd.events = (short)((events & OVNIC_POLL_IN ? POLLIN : 0) |
                         (events & OVNIC_POLL_OUT ? POLLOUT : 0));
    n = poll(&pfd, 1, (int)(deadline - now));
    if (n < 0 && errno != EINTR) {
        return -errno;
    }
    return n == 0 ? -ETIMEDOUT : 0;
}

int
nicsim_client_open(const char *path, int timeout_ms, struct nicsim_client **clientp,
                   struct ovnic_err *err)
{
    struct nicsim_client *c;
    uint64_t deadline;
    char remote[4200];
    int error;

    if (snprintf(remote, sizeof remote, "unix:%s", path) >= (int)sizeof remote) {
        return ovnic_err_set(err, -ENAMETOOLONG, "nicsim", "socket path too long", NULL);
    }
    c = calloc(1, sizeof *c);
    if (!c) {
        return -ENOMEM;
    }
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
    c->next_id = 1;
    json_framer_init(&c->framer);
    error = stream_open(remote, NULL, &c->stream, err);
    if (error) {
        free(c);
        return error;
    }
    deadline = time_msec() + (uint64_t)c->timeout_ms;
    while ((error = stream_connect(c->stream)) == -EAGAIN) {
        error = wait_for(c, true, deadline);
        if (error) {
            break;
        }
    }
    if (error) {
        ovnic_err_set(err, error, "nicsim", "cannot connect to the control socket", "%s",
                      path);
        nicsim_client_close(c);
        return error;
    }
    *clientp = c;
    return 0;
}

void
nicsim_client_close(struct nicsim_client *c)
{
    if (c) {
        stream_close(c->stream);
        free(c->buf);
        free(c);
    }
}

static int
send_all(struct nicsim_client *c, const char *data, size_t len, uint64_t deadline)
{
    while (len) {
        ssize_t n = stream_send(c->stream, data, len);

        if (n == -EAGAIN) {
            int error = wait_for(c, true, deadline);

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

/* Receives the next complete JSON value. */
static int
recv_value(struct nicsim_client *c, json_t **value, uint64_t deadline,
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
            if (error != -EAGAIN) {
                return -EPROTO;
            }
        }
        if (c->cap - c->len < 4096) {
            size_t cap = c->cap ? c->cap * 2 : 8192;
            char *buf;

            if (cap > ((size_t)64 << 20)) {
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
            error = wait_for(c, false, deadline);
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

static int
reply_error(const json_t *error, struct ovnic_err *err)
{
    const char *text = "error";
    const char *details = NULL;
    int64_t code = -EIO;

    if (json_is_string(error)) {
        text = json_string_value(error);
    } else if (json_is_object(error)) {
        json_get_string_opt(error, "error", &text, NULL);
        json_get_string_opt(error, "details", &details, NULL);
        json_get_int_opt(error, "errno", &code, NULL);
        if (code >= 0 || code < -4095) {
            code = -EIO;
        }
    }
    return ovnic_err_set(err, (int)code, "nicsim", "request failed", "%s%s%s", text,
                         details ? ": " : "", details ? details : "");
}

int
nicsim_client_call(struct nicsim_client *c, const char *method, json_t *params,
                   json_t **result, struct ovnic_err *err)
{
    uint64_t deadline = time_msec() + (uint64_t)c->timeout_ms;
    int64_t id = c->next_id++;
    json_t *request;
    char *text;
    int error;

    if (!params) {
        params = json_array();
    }
    request = json_pack("{s:s,s:o,s:I}", "method", method, "params", params, "id",
                        (json_int_t)id);
    if (!request) {
        return -ENOMEM;
    }
    text = json_to_string(request);
    json_decref(request);
    if (!text) {
        return -ENOMEM;
    }
    error = send_all(c, text, strlen(text), deadline);
    free(text);
    if (error) {
        return ovnic_err_set(err, error, "nicsim", "cannot send request", "%s", method);
    }
    for (;;) {
        const json_t *reply_id;
        const json_t *res;
        const json_t *rerr;
        json_t *reply;

        error = recv_value(c, &reply, deadline, err);
        if (error) {
            return ovnic_err_set(err, error, "nicsim", "no reply", "%s", method);
        }
        reply_id = json_object_get(reply, "id");
        if (!json_is_integer(reply_id) || json_integer_value(reply_id) != id) {
            json_decref(reply); /* A notification, or a late reply: not ours. */
            continue;
        }
        rerr = json_object_get(reply, "error");
        res = json_object_get(reply, "result");
        if (rerr && !json_is_null(rerr)) {
            error = reply_error(rerr, err);
        } else if (!res) {
            error =
                ovnic_err_set(err, -EPROTO, "nicsim", "malformed reply", "%s", method);
        } else {
            *result = json_incref((json_t *)res);
        }
        json_decref(reply);
        return error;
    }
}

char *
nicsim_hex_encode(const void *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *p = data;
    char *hex = malloc(len * 2 + 1);
    size_t i;

    if (!hex) {
        return NULL;
    }
    for (i = 0; i < len; i++) {
        hex[2 * i] = digits[p[i] >> 4];
        hex[2 * i + 1] = digits[p[i] & 0xf];
    }
    hex[2 * len] = '\0';
    return hex;
}

static int
hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int
nicsim_hex_decode(const char *hex, uint8_t **bufp, size_t *lenp)
{
    size_t n = strlen(hex);
    uint8_t *buf;
    size_t i;

    if (n % 2) {
        return -EINVAL;
    }
    buf = malloc(n / 2 ? n / 2 : 1);
    if (!buf) {
        return -ENOMEM;
    }
    for (i = 0; i < n / 2; i++) {
        int hi = hex_digit(hex[2 * i]);
        int lo = hex_digit(hex[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            free(buf);
            return -EINVAL;
        }
        buf[i] = (uint8_t)(hi << 4 | lo);
    }
    *bufp = buf;
    *lenp = n / 2;
    return 0;
}
