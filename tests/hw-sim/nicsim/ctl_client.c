/* ovnic-nicsim: blocking control-socket client (see ctl_client.h). */
#include "tests/hw-sim/nicsim/ctl_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/util/json.h"
#include "shared/util/rpc_client.h"

struct nicsim_client {
    struct rpc_client *rpc;
};

int
nicsim_client_open(const char *path, int timeout_ms, struct nicsim_client **clientp,
                   struct ovnic_err *err)
{
    struct nicsim_client *c;
    char remote[4200];
    int error;

    if (snprintf(remote, sizeof remote, "unix:%s", path) >= (int)sizeof remote) {
        return ovnic_err_set(err, -ENAMETOOLONG, "nicsim", "socket path too long", NULL);
    }
    c = calloc(1, sizeof *c);
    if (!c) {
        return -ENOMEM;
    }
    error = rpc_client_open(remote, timeout_ms > 0 ? timeout_ms : 10000, &c->rpc, err);
    if (error) {
        ovnic_err_set(err, error, "nicsim", "cannot connect to the control socket", "%s",
                      path);
        free(c);
        return error;
    }
    *clientp = c;
    return 0;
}

void
nicsim_client_close(struct nicsim_client *c)
{
    if (c) {
        rpc_client_close(c->rpc);
        free(c);
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
        /* The server's own errors (a refused connection, a malformed request) carry
         * "code" rather than "errno". */
        json_get_int_opt(error, "code", &code, NULL);
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
    const json_t *res;
    const json_t *rerr;
    json_t *reply;
    int error;

    error = rpc_client_call(c->rpc, method, params, &reply, err);
    if (error) {
        return ovnic_err_set(err, error, "nicsim", "no reply", "%s", method);
    }
    rerr = json_object_get(reply, "error");
    res = json_object_get(reply, "result");
    if (rerr && !json_is_null(rerr)) {
        error = reply_error(rerr, err);
    } else if (!res) {
        error = ovnic_err_set(err, -EPROTO, "nicsim", "malformed reply", "%s", method);
    } else {
        *result = json_incref((json_t *)res);
    }
    json_decref(reply);
    return error;
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
