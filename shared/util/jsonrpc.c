/* ovnic: JSON-RPC 1.0 framing, messages and connections (see jsonrpc.h). */
#include "shared/util/jsonrpc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shared/util/log.h"
#include "shared/util/poll.h"
#include "shared/util/stream.h"
#include "shared/util/util.h"

OVNIC_LOG_MODULE(jsonrpc);

#define JSONRPC_RX_SIZE ((size_t)64 << 10)
#define JSONRPC_FRAMER_MIN_CAP ((size_t)4096)

/* Debug logging of traffic: at most this many characters of each message. */
#define JSONRPC_LOG_MAX 1024

static void
jsonrpc_log_json__(const char *dir, const char *name, const json_t *json)
{
    static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(600, 600);
    if (ovnic_log_is_enabled(&ovnic_log_module__, OVNIC_LOG_DBG)) {
        char *text = json_dumps(json, JSON_COMPACT);
        if (text) {
            OLOG_DBG_RL(&rl, "%s %s: %.*s%s", name, dir, JSONRPC_LOG_MAX, text,
                        strlen(text) > JSONRPC_LOG_MAX ? "..." : "");
            free(text);
        }
    }
}

/* ---------------------------------------------------------------------------------
 * Framer.
 */

void
jsonrpc_framer_init(struct jsonrpc_framer *framer, size_t max_size)
{
    memset(framer, 0, sizeof *framer);
    framer->max_size = max_size ? max_size : JSONRPC_MAX_MSG_DEFAULT;
}

void
jsonrpc_framer_destroy(struct jsonrpc_framer *framer)
{
    if (framer) {
        free(framer->buf);
        framer->buf = NULL;
        framer->len = framer->cap = 0;
    }
}

void
jsonrpc_framer_reset(struct jsonrpc_framer *framer)
{
    framer->len = 0;
    framer->depth = 0;
    framer->in_string = false;
    framer->escaped = false;
    framer->failed = false;
}

bool
jsonrpc_framer_is_partial(const struct jsonrpc_framer *framer)
{
    return framer->depth > 0;
}

static bool
is_json_space__(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
framer_fail__(struct jsonrpc_framer *framer, struct ovnic_err *err, int code,
              const char *message, const char *detail)
{
    framer->failed = true;
    framer->len = 0;
    framer->depth = 0;
    framer->in_string = framer->escaped = false;
    return ovnic_err_set(err, code, "jsonrpc", message, "%s", detail);
}

static int
framer_append__(struct jsonrpc_framer *framer, const unsigned char *p, size_t n)
{
    if (framer->len + n > framer->cap) {
        size_t cap = framer->cap ? framer->cap : JSONRPC_FRAMER_MIN_CAP;
        while (cap < framer->len + n) {
            cap *= 2;
        }
        cap = MIN(cap, framer->max_size);
        char *buf = realloc(framer->buf, cap);
        if (!buf) {
            return -ENOMEM;
        }
        framer->buf = buf;
        framer->cap = cap;
    }
    memcpy(framer->buf + framer->len, p, n);
    framer->len += n;
    return 0;
}

static int
framer_parse__(struct jsonrpc_framer *framer, const char *text, size_t len,
               json_t **value, struct ovnic_err *err)
{
    json_error_t jerr;
    json_t *json = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json) {
        if (json_error_code(&jerr) == json_error_out_of_memory) {
            return framer_fail__(framer, err, -ENOMEM, "out of memory parsing JSON", "");
        }
        char detail[OVNIC_ERR_DETAIL_LEN];
        snprintf(detail, sizeof detail, "%s at byte %d of a %zu-byte message", jerr.text,
                 jerr.position, len);
        return framer_fail__(framer, err, -EPROTO, "invalid JSON", detail);
    }
    *value = json;
    return 0;
}

int
jsonrpc_framer_feed(struct jsonrpc_framer *framer, const void *data, size_t n,
                    size_t *consumed, json_t **value, struct ovnic_err *err)
{
    const unsigned char *p = data;
    size_t i = 0;

    if (framer->failed) {
        return ovnic_err_set(err, -EPROTO, "jsonrpc", "framer used after a failure",
                             NULL);
    }
    if (!framer->depth) {
        while (i < n && is_json_space__(p[i])) {
            i++;
        }
        if (i == n) {
            *consumed = n;
            *value = NULL;
            return 0;
        }
        if (p[i] != '{') {
            char detail[32];
            snprintf(detail, sizeof detail, "it starts with byte 0x%02x", p[i]);
            return framer_fail__(framer, err, -EPROTO, "message is not a JSON object",
                                 detail);
        }
    }

    size_t start = i;
    bool done = false;
    while (i < n && !done) {
        unsigned char c = p[i++];
        if (framer->in_string) {
            if (framer->escaped) {
                framer->escaped = false;
            } else if (c == '\\') {
                framer->escaped = true;
            } else if (c == '"') {
                framer->in_string = false;
            }
        } else if (c == '"') {
            framer->in_string = true;
        } else if (c == '{' || c == '[') {
            framer->depth++;
        } else if (c == '}' || c == ']') {
            done = --framer->depth == 0;
        }
    }

    size_t span = i - start;
    if (framer->len + span > framer->max_size) {
        char detail[64];
        snprintf(detail, sizeof detail, "over %zu bytes", framer->max_size);
        return framer_fail__(framer, err, -EMSGSIZE, "message too long", detail);
    }

    json_t *json = NULL;
    int error;
    if (done && !framer->len) {
        /* The whole value is in this piece of input: parse it in place. */
        error = framer_parse__(framer, (const char *)p + start, span, &json, err);
    } else {
        error = framer_append__(framer, p + start, span);
        if (error) {
            return framer_fail__(framer, err, error, "out of memory framing JSON", "");
        }
        if (done) {
            error = framer_parse__(framer, framer->buf, framer->len, &json, err);
            framer->len = 0;
        }
    }
    if (error) {
        return error;
    }
    *consumed = i;
    *value = json;
    return 0;
}

/* ---------------------------------------------------------------------------------
 * Messages.
 */

const char *
jsonrpc_msg_type_to_string(enum jsonrpc_msg_type type)
{
    switch (type) {
    case JSONRPC_REQUEST:
        return "request";
    case JSONRPC_NOTIFY:
        return "notification";
    case JSONRPC_REPLY:
        return "reply";
    case JSONRPC_ERROR:
        return "error reply";
    }
    return "unknown";
}

static struct jsonrpc_msg *
msg_create__(enum jsonrpc_msg_type type, const char *method, json_t *params,
             json_t *result, json_t *error, json_t *id)
{
    struct jsonrpc_msg *msg = calloc(1, sizeof *msg);
    char *method_copy = method ? strdup(method) : NULL;
    if (!msg || (method && !method_copy)) {
        free(msg);
        free(method_copy);
        json_decref(params);
        json_decref(result);
        json_decref(error);
        json_decref(id);
        return NULL;
    }
    msg->type = type;
    msg->method = method_copy;
    msg->params = params;
    msg->result = result;
    msg->error = error;
    msg->id = id;
    return msg;
}

struct jsonrpc_msg *
jsonrpc_msg_create_request(const char *method, json_t *params, json_t *id)
{
    if (!method || !json_is_array(params) || !id || json_is_null(id)) {
        json_decref(params);
        json_decref(id);
        return NULL;
    }
    return msg_create__(JSONRPC_REQUEST, method, params, NULL, NULL, id);
}

struct jsonrpc_msg *
jsonrpc_msg_create_notify(const char *method, json_t *params)
{
    if (!method || !json_is_array(params)) {
        json_decref(params);
        return NULL;
    }
    return msg_create__(JSONRPC_NOTIFY, method, params, NULL, NULL, NULL);
}

struct jsonrpc_msg *
jsonrpc_msg_create_reply(json_t *result, const json_t *id)
{
    if (!result || !id) {
        json_decref(result);
        return NULL;
    }
    json_t *id_copy = json_deep_copy(id);
    if (!id_copy) {
        json_decref(result);
        return NULL;
    }
    return msg_create__(JSONRPC_REPLY, NULL, NULL, result, NULL, id_copy);
}

struct jsonrpc_msg *
jsonrpc_msg_create_error(json_t *error, const json_t *id)
{
    if (!error || json_is_null(error) || !id) {
        json_decref(error);
        return NULL;
    }
    json_t *id_copy = json_deep_copy(id);
    if (!id_copy) {
        json_decref(error);
        return NULL;
    }
    return msg_create__(JSONRPC_ERROR, NULL, NULL, NULL, error, id_copy);
}

void
jsonrpc_msg_destroy(struct jsonrpc_msg *msg)
{
    if (msg) {
        free(msg->method);
        json_decref(msg->params);
        json_decref(msg->result);
        json_decref(msg->error);
        json_decref(msg->id);
        free(msg);
    }
}

static int
msg_error__(struct ovnic_err *err, const char *message, const char *detail)
{
    return ovnic_err_set(err, -EPROTO, "jsonrpc", message, "%s", detail ? detail : "");
}

int
jsonrpc_msg_from_json(const json_t *json, struct jsonrpc_msg **msgp,
                      struct ovnic_err *err)
{
    if (!json_is_object(json)) {
        return msg_error__(err, "message is not a JSON object", NULL);
    }

    json_t *method = NULL, *params = NULL, *result = NULL, *error = NULL, *id = NULL;
    const char *key;
    json_t *value;
    for (void *iter_value = json_object_iter((json_t *)json); iter_value;
         iter_value = json_object_iter_next((json_t *)json, iter_value)) {
        key = json_object_iter_key(iter_value);
        value = json_object_iter_value(iter_value);
        if (!strcmp(key, "method")) {
            method = value;
        } else if (!strcmp(key, "params")) {
            params = value;
        } else if (!strcmp(key, "result")) {
            result = value;
        } else if (!strcmp(key, "error")) {
            error = value;
        } else if (!strcmp(key, "id")) {
            id = value;
        } else {
            return msg_error__(err, "message has an unexpected member", key);
        }
    }

    enum jsonrpc_msg_type type;
    if (method) {
        if (!json_is_string(method)) {
            return msg_error__(err, "\"method\" is not a string", NULL);
        }
        if (!params) {
            return msg_error__(err, "request lacks \"params\"",
                               json_string_value(method));
        }
        if (!json_is_array(params)) {
            return msg_error__(err, "\"params\" is not an array",
                               json_string_value(method));
        }
        if ((result && !json_is_null(result)) || (error && !json_is_null(error))) {
            return msg_error__(err, "request has \"result\" or \"error\"",
                               json_string_value(method));
        }
        type = id && !json_is_null(id) ? JSONRPC_REQUEST : JSONRPC_NOTIFY;
    } else {
        if (params) {
            return msg_error__(err, "reply has \"params\"", NULL);
        }
        if (!id || json_is_null(id)) {
            return msg_error__(err, "reply lacks an \"id\"", NULL);
        }
        if (error && !json_is_null(error)) {
            if (result && !json_is_null(result)) {
                return msg_error__(err, "reply has both \"result\" and \"error\"", NULL);
            }
            type = JSONRPC_ERROR;
        } else if (result) {
            type = JSONRPC_REPLY;
        } else {
            return msg_error__(err, "reply has neither \"result\" nor \"error\"", NULL);
        }
    }

    struct jsonrpc_msg *msg = msg_create__(
        type, method ? json_string_value(method) : NULL,
        type == JSONRPC_REQUEST || type == JSONRPC_NOTIFY ? json_incref(params) : NULL,
        type == JSONRPC_REPLY ? json_incref(result) : NULL,
        type == JSONRPC_ERROR ? json_incref(error) : NULL,
        type == JSONRPC_NOTIFY ? NULL : json_incref(id));
    if (!msg) {
        return ovnic_err_set(err, -ENOMEM, "jsonrpc", "out of memory", NULL);
    }
    *msgp = msg;
    return 0;
}

static int
object_set__(json_t *object, const char *key, json_t *value)
{
    return json_object_set(object, key, value ? value : json_null());
}

json_t *
jsonrpc_msg_to_json(const struct jsonrpc_msg *msg)
{
    json_t *json = json_object();
    if (!json) {
        return NULL;
    }
    int error = 0;
    switch (msg->type) {
    case JSONRPC_REQUEST:
    case JSONRPC_NOTIFY:
        error |= json_object_set_new(json, "method", json_string(msg->method));
        error |= object_set__(json, "params", msg->params);
        error |= object_set__(json, "id", msg->type == JSONRPC_REQUEST ? msg->id : NULL);
        break;
    case JSONRPC_REPLY:
        error |= object_set__(json, "result", msg->result);
        error |= object_set__(json, "error", NULL);
        error |= object_set__(json, "id", msg->id);
        break;
    case JSONRPC_ERROR:
        error |= object_set__(json, "result", NULL);
        error |= object_set__(json, "error", msg->error);
        error |= object_set__(json, "id", msg->id);
        break;
    }
    if (error) {
        json_decref(json);
        return NULL;
    }
    return json;
}

const char *
jsonrpc_msg_error_string(const struct jsonrpc_msg *msg)
{
    if (msg->type != JSONRPC_ERROR) {
        return NULL;
    }
    if (json_is_string(msg->error)) {
        return json_string_value(msg->error);
    }
    if (json_is_object(msg->error)) {
        return json_string_value(json_object_get(msg->error, "error"));
    }
    return NULL;
}

bool
jsonrpc_msg_is_unknown_method(const struct jsonrpc_msg *msg)
{
    const char *s = jsonrpc_msg_error_string(msg);
    return s && !strcmp(s, "unknown method");
}

/* ---------------------------------------------------------------------------------
 * Connection.
 */

struct jsonrpc {
    struct stream *stream;
    bool connected;
    int status;    /* Negative errno that broke the connection, or 0. */
    int rx_status; /* Negative errno that broke framing (output still works), or 0. */

    struct jsonrpc_framer framer;
    unsigned char *rx; /* JSONRPC_RX_SIZE bytes. */
    size_t rx_ofs;     /* First byte of 'rx' not fed to the framer. */
    size_t rx_len;     /* Bytes in 'rx'. */
    uint64_t last_rx_ms;
    uint64_t last_tx_ms;

    char *tx; /* Queued output, bytes 'tx_ofs' to 'tx_len'. */
    size_t tx_ofs;
    size_t tx_len;
    size_t tx_cap;
};

int
jsonrpc_open(struct stream *stream, size_t max_msg_size, struct jsonrpc **rpcp)
{
    struct jsonrpc *rpc = calloc(1, sizeof *rpc);
    unsigned char *rx = malloc(JSONRPC_RX_SIZE);
    if (!rpc || !rx) {
        free(rpc);
        free(rx);
        stream_close(stream);
        return -ENOMEM;
    }
    rpc->stream = stream;
    rpc->rx = rx;
    rpc->last_rx_ms = rpc->last_tx_ms = time_msec();
    jsonrpc_framer_init(&rpc->framer, max_msg_size);
    *rpcp = rpc;
    return 0;
}

void
jsonrpc_close(struct jsonrpc *rpc)
{
    if (rpc) {
        stream_close(rpc->stream);
        jsonrpc_framer_destroy(&rpc->framer);
        free(rpc->rx);
        free(rpc->tx);
        free(rpc);
    }
}

static int
jsonrpc_flush__(struct jsonrpc *rpc)
{
    while (rpc->tx_ofs < rpc->tx_len) {
        ssize_t n =
            stream_send(rpc->stream, rpc->tx + rpc->tx_ofs, rpc->tx_len - rpc->tx_ofs);
        if (n == -EAGAIN) {
            break;
        }
        if (n < 0) {
            rpc->status = (int)n;
            return rpc->status;
        }
        rpc->tx_ofs += (size_t)n;
        rpc->last_tx_ms = time_msec();
    }
    if (rpc->tx_ofs == rpc->tx_len) {
        rpc->tx_ofs = rpc->tx_len = 0;
    }
    return 0;
}

int
jsonrpc_run(struct jsonrpc *rpc)
{
    if (rpc->status) {
        return rpc->status;
    }
    if (!rpc->connected) {
        int error = stream_connect(rpc->stream);
        if (error == -EAGAIN) {
            return 0;
        }
        if (error) {
            rpc->status = error;
            return error;
        }
        rpc->connected = true;
        rpc->last_rx_ms = time_msec();
    }
    return jsonrpc_flush__(rpc);
}

bool
jsonrpc_is_connected(const struct jsonrpc *rpc)
{
    return rpc->connected;
}

int
jsonrpc_send_raw(struct jsonrpc *rpc, const void *data, size_t len)
{
    if (rpc->status) {
        return rpc->status;
    }
    if (rpc->tx_len == rpc->tx_ofs) {
        rpc->last_tx_ms = time_msec();
    }
    if (rpc->tx_len + len > rpc->tx_cap) {
        if (rpc->tx_ofs) {
            memmove(rpc->tx, rpc->tx + rpc->tx_ofs, rpc->tx_len - rpc->tx_ofs);
            rpc->tx_len -= rpc->tx_ofs;
            rpc->tx_ofs = 0;
        }
        if (rpc->tx_len + len > rpc->tx_cap) {
            size_t cap = MAX(rpc->tx_cap * 2, rpc->tx_len + len);
            char *tx = realloc(rpc->tx, cap);
            if (!tx) {
                return -ENOMEM;
            }
            rpc->tx = tx;
            rpc->tx_cap = cap;
        }
    }
    memcpy(rpc->tx + rpc->tx_len, data, len);
    rpc->tx_len += len;
    return rpc->connected ? jsonrpc_flush__(rpc) : 0;
}

int
jsonrpc_send(struct jsonrpc *rpc, struct jsonrpc_msg *msg)
{
    if (rpc->status) {
        jsonrpc_msg_destroy(msg);
        return rpc->status;
    }
    json_t *json = jsonrpc_msg_to_json(msg);
    jsonrpc_msg_destroy(msg);
    if (!json) {
        return -ENOMEM;
    }
    jsonrpc_log_json__("send", jsonrpc_name(rpc), json);
    char *text = json_dumps(json, JSON_COMPACT);
    json_decref(json);
    if (!text) {
        return -ENOMEM;
    }
    int error = jsonrpc_send_raw(rpc, text, strlen(text));
    free(text);
    return error;
}

int
jsonrpc_recv_json(struct jsonrpc *rpc, json_t **jsonp, struct ovnic_err *err)
{
    if (rpc->status || rpc->rx_status) {
        return ovnic_err_set(err, rpc->status ? rpc->status : rpc->rx_status,
                             jsonrpc_name(rpc), "connection is broken", NULL);
    }
    if (!rpc->connected) {
        int error = jsonrpc_run(rpc);
        if (error) {
            return ovnic_err_set(err, error, jsonrpc_name(rpc), "connection failed",
                                 NULL);
        }
        if (!rpc->connected) {
            return -EAGAIN;
        }
    }

    for (;;) {
        if (rpc->rx_ofs < rpc->rx_len) {
            size_t used;
            json_t *json;
            int error = jsonrpc_framer_feed(&rpc->framer, rpc->rx + rpc->rx_ofs,
                                            rpc->rx_len - rpc->rx_ofs, &used, &json, err);
            if (error) {
                rpc->rx_status = error;
                return error;
            }
            rpc->rx_ofs += used;
            if (json) {
                jsonrpc_log_json__("received", jsonrpc_name(rpc), json);
                *jsonp = json;
                return 0;
            }
            continue;
        }

        ssize_t n = stream_recv(rpc->stream, rpc->rx, JSONRPC_RX_SIZE);
        if (n == -EAGAIN) {
            return -EAGAIN;
        }
        if (n == 0) {
            /* Only the receiving side is over: output may still reach a peer that
             * has half-closed the connection. */
            if (jsonrpc_framer_is_partial(&rpc->framer)) {
                rpc->rx_status = -EPROTO;
                return ovnic_err_set(err, -EPROTO, jsonrpc_name(rpc),
                                     "connection closed in the middle of a message",
                                     NULL);
            }
            rpc->rx_status = -EPIPE;
            return ovnic_err_set(err, -EPIPE, jsonrpc_name(rpc),
                                 "connection closed by peer", NULL);
        }
        if (n < 0) {
            rpc->status = (int)n;
            return ovnic_err_set(err, rpc->status, jsonrpc_name(rpc), "receive failed",
                                 NULL);
        }
        rpc->rx_ofs = 0;
        rpc->rx_len = (size_t)n;
        rpc->last_rx_ms = time_msec();
    }
}

int
jsonrpc_recv(struct jsonrpc *rpc, struct jsonrpc_msg **msg, struct ovnic_err *err)
{
    json_t *json;
    int error = jsonrpc_recv_json(rpc, &json, err);

    if (error) {
        if (error != -EAGAIN && !rpc->status) {
            rpc->status = error;
        }
        return error;
    }
    error = jsonrpc_msg_from_json(json, msg, err);
    json_decref(json);
    if (error) {
        rpc->status = error;
    }
    return error;
}

bool
jsonrpc_has_input(const struct jsonrpc *rpc)
{
    return !rpc->status && !rpc->rx_status && rpc->rx_ofs < rpc->rx_len;
}

uint32_t
jsonrpc_poll_events(const struct jsonrpc *rpc)
{
    if (rpc->status) {
        return 0;
    }
    bool want_send = !rpc->connected || rpc->tx_len > rpc->tx_ofs;
    uint32_t events = stream_poll_events(rpc->stream, want_send);
    if (rpc->connected) {
        events |= OVNIC_POLL_IN;
    }
    return events;
}

bool
jsonrpc_is_receiving(const struct jsonrpc *rpc)
{
    return jsonrpc_framer_is_partial(&rpc->framer);
}

uint32_t
jsonrpc_poll_events_send(const struct jsonrpc *rpc)
{
    if (rpc->status) {
        return 0;
    }
    bool want_send = !rpc->connected || rpc->tx_len > rpc->tx_ofs;
    return want_send ? stream_poll_events(rpc->stream, true) : 0;
}

int
jsonrpc_fd(const struct jsonrpc *rpc)
{
    return stream_fd(rpc->stream);
}

size_t
jsonrpc_backlog(const struct jsonrpc *rpc)
{
    return rpc->tx_len - rpc->tx_ofs;
}

uint64_t
jsonrpc_last_rx_msec(const struct jsonrpc *rpc)
{
    return rpc->last_rx_ms;
}

uint64_t
jsonrpc_last_tx_msec(const struct jsonrpc *rpc)
{
    return rpc->last_tx_ms;
}

struct stream *
jsonrpc_stream(const struct jsonrpc *rpc)
{
    return rpc->stream;
}

const char *
jsonrpc_name(const struct jsonrpc *rpc)
{
    return stream_name(rpc->stream);
}

int
jsonrpc_status(const struct jsonrpc *rpc)
{
    return rpc->status;
}
