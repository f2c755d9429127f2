/* ovnic: the host side of hostlink (see hostlink_client.h). */
#include "shared/proto/hostlink_client.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/util/backoff.h"
#include "shared/util/hash.h"
#include "shared/util/hmap.h"
#include "shared/util/jsonrpc.h"
#include "shared/util/log.h"
#include "shared/util/poll.h"
#include "shared/util/stream.h"
#include "shared/util/tls.h"
#include "shared/util/util.h"

OVNIC_LOG_MODULE(hostlink_client);

/* A request awaiting its answer. */
struct pending {
    struct hmap_node node; /* In 'client->pending', by 'id'. */
    uint64_t id;
    enum hostlink_method method;
    bool internal; /* hello, keepalive, resync: the client's own. */
    hostlink_reply_cb cb;
    void *aux;
};

struct hostlink_client {
    struct poll_loop *loop;
    struct hostlink_client_ops ops;
    void *aux;

    /* Configuration. */
    char *remote;
    bool tls;
    char *ca_file, *cert_file, *key_file, *peer_name;
    char name[HOSTLINK_NAME_MAX + 1];
    char software[HOSTLINK_SOFTWARE_MAX + 1];
    unsigned int version_min, version_max;
    uint32_t keepalive_cfg_ms, dead_cfg_ms;
    unsigned int max_pending;
    size_t max_msg;

    /* Session. */
    enum hostlink_client_state state;
    struct jsonrpc *rpc;
    int fd;
    uint32_t events;
    struct hostlink_hello_reply dpu; /* Valid from RESYNC on. */
    unsigned int version;
    uint32_t keepalive_ms, dead_ms; /* In use. */
    uint64_t attempt_ms, last_rx_ms, last_keepalive_ms;
    uint64_t next_id;
    struct hmap pending;
    size_t n_user_pending;
    int broken; /* An error seen outside the loop, for the loop to act on. */

    struct backoff backoff;
    struct poll_timer retry_timer; /* BACKOFF: the next attempt. */
    struct poll_timer tick_timer;  /* Keepalives and deadlines. */
    struct poll_timer kick_timer;  /* Acts on 'broken'. */
    uint64_t retry_at_ms;

    int last_status;
    char last_message[HOSTLINK_MESSAGE_MAX + 64];
    struct hostlink_client_info stats;
};

static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(20, 40);

static void connect_start(struct hostlink_client *c);
static void io_cb(struct poll_loop *loop, int fd, uint32_t events, void *aux);

const char *
hostlink_client_state_to_string(enum hostlink_client_state state)
{
    switch (state) {
    case HOSTLINK_CLIENT_BACKOFF:
        return "backoff";
    case HOSTLINK_CLIENT_CONNECTING:
        return "connecting";
    case HOSTLINK_CLIENT_HELLO:
        return "hello";
    case HOSTLINK_CLIENT_RESYNC:
        return "resync";
    case HOSTLINK_CLIENT_UP:
        return "up";
    }
    return "unknown";
}

static void
set_state(struct hostlink_client *c, enum hostlink_client_state state, int status,
          const char *message)
{
    c->state = state;
    if (c->ops.state_changed) {
        c->ops.state_changed(c->aux, state, status, message ? message : "");
    }
}

static void
pending_free_all(struct hostlink_client *c, bool call, const char *why)
{
    struct pending *p, *next;

    HMAP_FOR_EACH_SAFE (p, next, node, &c->pending) {
        hmap_remove(&c->pending, &p->node);
        if (!p->internal) {
            c->n_user_pending--;
            if (call && p->cb) {
                p->cb(p->aux, p->id, -ENOTCONN, why);
            }
        }
        free(p);
    }
}

static void
conn_close(struct hostlink_client *c)
{
    if (c->rpc) {
        poll_loop_fd_remove(c->loop, c->fd);
        jsonrpc_close(c->rpc);
        c->rpc = NULL;
        c->fd = -1;
    }
    poll_timer_stop(c->loop, &c->tick_timer);
    poll_timer_stop(c->loop, &c->kick_timer);
    c->broken = 0;
}

static void
retry_cb(struct poll_loop *loop OVNIC_UNUSED, struct poll_timer *timer OVNIC_UNUSED,
         void *aux)
{
    connect_start(aux);
}

/* Ends the attempt or session for 'status' (a negative errno or a hostlink code)
 * and schedules the next attempt. */
static void
lost(struct hostlink_client *c, int status, const char *message)
{
    enum hostlink_client_state was = c->state;
    char why[sizeof c->last_message];
    uint32_t delay;

    conn_close(c);
    c->last_status = status;
    if (status > 0) {
        snprintf(why, sizeof why, "%s: %s", hostlink_error_name(status),
                 message ? message : "");
    } else if (message && message[0] && strstr(message, strerror(-status))) {
        snprintf(why, sizeof why, "%s", message);
    } else {
        snprintf(why, sizeof why, "%s%s%s", message ? message : "",
                 message && message[0] ? ": " : "", strerror(-status));
    }
    snprintf(c->last_message, sizeof c->last_message, "%s", why);
    c->version = 0;
    delay = backoff_next(&c->backoff);
    c->retry_at_ms = time_msec() + delay;
    poll_timer_start(c->loop, &c->retry_timer, delay, retry_cb, c);
    OLOG_WARN_RL(&rl, "hostlink %s: %s%s: %s; next attempt in %" PRIu32 " ms", c->remote,
                 was == HOSTLINK_CLIENT_UP ? "session lost" : "attempt failed in state ",
                 was == HOSTLINK_CLIENT_UP ? "" : hostlink_client_state_to_string(was),
                 why, delay);
    c->state = HOSTLINK_CLIENT_BACKOFF;
    pending_free_all(c, true, why);
    set_state(c, HOSTLINK_CLIENT_BACKOFF, status, why);
}

static void
update_events(struct hostlink_client *c)
{
    uint32_t events;

    if (!c->rpc) {
        return;
    }
    events = jsonrpc_poll_events(c->rpc);
    if (events != c->events) {
        c->events = events;
        poll_loop_fd_modify(c->loop, c->fd, events);
    }
}

static void
kick_cb(struct poll_loop *loop OVNIC_UNUSED, struct poll_timer *timer OVNIC_UNUSED,
        void *aux)
{
    struct hostlink_client *c = aux;

    if (c->rpc && c->broken) {
        lost(c, c->broken, "send failed");
    }
}

/* Sends request 'msg' (its id assigned here), answered to 'cb' unless 'internal'. */
static int
send_request(struct hostlink_client *c, struct hostlink_msg *msg, bool internal,
             hostlink_reply_cb cb, void *cb_aux, struct ovnic_err *err)
{
    struct pending *p = calloc(1, sizeof *p);
    struct jsonrpc_msg *jmsg;
    int error;

    if (!p) {
        return ovnic_err_set(err, -ENOMEM, "hostlink client", "out of memory", NULL);
    }
    msg->id = c->next_id++;
    error =
        hostlink_msg_encode(msg, c->version ? c->version : c->version_min, &jmsg, err);
    if (error) {
        free(p);
        return error;
    }
    p->id = msg->id;
    p->method = msg->method;
    p->internal = internal;
    p->cb = cb;
    p->aux = cb_aux;
    hmap_insert(&c->pending, &p->node, hash_add64(0, p->id));
    if (!internal) {
        c->n_user_pending++;
    }
    error = jsonrpc_send(c->rpc, jmsg);
    if (error && error != -ENOMEM) {
        /* The connection broke: the loop ends the session, and answers 'p'. */
        c->broken = error;
        poll_timer_start(c->loop, &c->kick_timer, 0, kick_cb, c);
        error = 0;
    } else if (error) {
        hmap_remove(&c->pending, &p->node);
        if (!internal) {
            c->n_user_pending--;
        }
        free(p);
        return ovnic_err_set(err, -ENOMEM, "hostlink client", "out of memory", NULL);
    }
    update_events(c);
    return 0;
}

static int
send_resync(struct hostlink_client *c, struct ovnic_err *err)
{
    struct hostlink_msg msg = {.method = HOSTLINK_RESYNC};
    int error = c->ops.get_state(c->aux, &msg.u.resync);

    if (error) {
        hostlink_msg_clear(&msg);
        return ovnic_err_set(err, error, "hostlink client",
                             "cannot gather the host's state", NULL);
    }
    error = send_request(c, &msg, true, NULL, NULL, err);
    hostlink_msg_clear(&msg);
    return error;
}

static void
send_keepalive(struct hostlink_client *c)
{
    struct hostlink_msg msg = {.method = HOSTLINK_KEEPALIVE};

    msg.u.keepalive.seq = c->next_id;
    c->last_keepalive_ms = time_msec();
    if (!send_request(c, &msg, true, NULL, NULL, NULL)) {
        c->stats.keepalives++;
    }
}

static uint64_t
tick_interval__(const struct hostlink_client *c)
{
    uint32_t base = c->state >= HOSTLINK_CLIENT_RESYNC ? MIN(c->keepalive_ms, c->dead_ms)
                                                       : c->dead_ms;

    return MIN(MAX(base / 4, 10), 1000);
}

static void
tick_cb(struct poll_loop *loop, struct poll_timer *timer OVNIC_UNUSED, void *aux)
{
    struct hostlink_client *c = aux;
    uint64_t now = time_msec();
    char text[96];

    if (!c->rpc) {
        return;
    }
    if (c->state < HOSTLINK_CLIENT_RESYNC) {
        if (now - c->attempt_ms >= c->dead_ms) {
            snprintf(text, sizeof text, "no %s within %" PRIu32 " ms",
                     c->state == HOSTLINK_CLIENT_CONNECTING ? "connection"
                                                            : "answer to hello",
                     c->dead_ms);
            lost(c, -ETIMEDOUT, text);
            return;
        }
    } else {
        if (now - c->last_rx_ms >= c->dead_ms) {
            snprintf(text, sizeof text, "nothing from the DPU for %" PRIu64 " ms",
                     now - c->last_rx_ms);
            lost(c, -ETIMEDOUT, text);
            return;
        }
        if (now - c->last_keepalive_ms >= c->keepalive_ms) {
            send_keepalive(c);
        }
    }
    poll_timer_start(loop, &c->tick_timer, tick_interval__(c), tick_cb, c);
}

static void
connect_start(struct hostlink_client *c)
{
    struct tls_config tls = {c->ca_file, c->cert_file, c->key_file, c->peer_name};
    struct hostlink_msg hello = {.method = HOSTLINK_HELLO};
    struct ovnic_err err = {0};
    struct stream *stream;
    char text[OVNIC_ERR_DETAIL_LEN + 128];
    int error;

    c->stats.attempts++;
    c->attempt_ms = c->last_rx_ms = time_msec();
    set_state(c, HOSTLINK_CLIENT_CONNECTING, 0, NULL);
    error = stream_open(c->remote, c->tls ? &tls : NULL, &stream, &err);
    if (!error) {
        error = jsonrpc_open(stream, c->max_msg, &c->rpc);
    }
    if (error) {
        c->rpc = NULL;
        lost(c, error, ovnic_err_format(&err, text, sizeof text));
        return;
    }
    c->fd = jsonrpc_fd(c->rpc);
    c->events = jsonrpc_poll_events(c->rpc);
    error = poll_loop_fd_add(c->loop, c->fd, c->events, io_cb, c);
    if (error) {
        jsonrpc_close(c->rpc);
        c->rpc = NULL;
        lost(c, error, "cannot watch the connection");
        return;
    }
    hello.u.hello.min_version = c->version_min;
    hello.u.hello.max_version = c->version_max;
    snprintf(hello.u.hello.name, sizeof hello.u.hello.name, "%s", c->name);
    snprintf(hello.u.hello.software, sizeof hello.u.hello.software, "%s", c->software);
    error = send_request(c, &hello, true, NULL, NULL, &err);
    if (error) {
        lost(c, error, ovnic_err_format(&err, text, sizeof text));
        return;
    }
    poll_timer_start(c->loop, &c->tick_timer, tick_interval__(c), tick_cb, c);
}

/* ---- Receiving. --------------------------------------------------------------- */

static void
handle_hello_reply(struct hostlink_client *c, const struct hostlink_reply *r)
{
    const struct hostlink_hello_reply *h = &r->u.hello;
    struct ovnic_err err = {0};
    unsigned int expected = 0;
    char text[OVNIC_ERR_DETAIL_LEN + 128];
    int error;

    if (r->code) {
        lost(c, r->code, r->message);
        return;
    }
    if (hostlink_version_negotiate(h->hello.min_version, h->hello.max_version,
                                   c->version_min, c->version_max, &expected) ||
        h->version != expected) {
        snprintf(text, sizeof text,
                 "the DPU (versions %u to %u) chose version %u, not %u, for a host of "
                 "versions %u to %u",
                 h->hello.min_version, h->hello.max_version, h->version, expected,
                 c->version_min, c->version_max);
        lost(c, -EPROTO, text);
        return;
    }
    c->dpu = *h;
    c->version = h->version;
    c->keepalive_ms = MIN(c->keepalive_cfg_ms, h->keepalive_ms);
    c->dead_ms = c->dead_cfg_ms ? c->dead_cfg_ms : 3 * c->keepalive_ms;
    c->last_keepalive_ms = time_msec();
    c->stats.sessions++;
    OLOG_INFO_RL(&rl,
                 "hostlink %s: hello done: DPU \"%s\" running \"%s\", version %u, lease "
                 "%" PRIu32 " ms",
                 c->remote, h->hello.name, h->hello.software, h->version, h->lease_ms);
    c->state = HOSTLINK_CLIENT_RESYNC;
    error = send_resync(c, &err);
    if (error) {
        lost(c, error, ovnic_err_format(&err, text, sizeof text));
        return;
    }
    set_state(c, HOSTLINK_CLIENT_RESYNC, 0, NULL);
}

static void
handle_reply(struct hostlink_client *c, const struct jsonrpc_msg *jmsg)
{
    struct hostlink_reply reply;
    struct ovnic_err err = {0};
    struct pending *p = NULL, *q;
    char text[OVNIC_ERR_DETAIL_LEN + 128];
    int64_t raw = json_is_integer(jmsg->id) ? json_integer_value(jmsg->id) : -1;

    if (jmsg->type == JSONRPC_ERROR && json_is_null(jmsg->id)) {
        /* An error the DPU could not tie to a request: it closes the session. */
        if (hostlink_reply_decode(HOSTLINK_KEEPALIVE, jmsg, &reply, &err)) {
            lost(c, -EPROTO, ovnic_err_format(&err, text, sizeof text));
        } else {
            lost(c, reply.code, reply.message);
        }
        return;
    }
    HMAP_FOR_EACH_WITH_HASH (q, node, hash_add64(0, (uint64_t)raw), &c->pending) {
        if (raw >= 0 && q->id == (uint64_t)raw) {
            p = q;
            break;
        }
    }
    if (!p) {
        lost(c, -EPROTO, "the DPU answered a request that was not sent");
        return;
    }
    if (hostlink_reply_decode(p->method, jmsg, &reply, &err)) {
        lost(c, -EPROTO, ovnic_err_format(&err, text, sizeof text));
        return;
    }
    hmap_remove(&c->pending, &p->node);
    if (!p->internal) {
        c->n_user_pending--;
        c->stats.errors += reply.code != 0;
        if (p->cb) {
            p->cb(p->aux, p->id, reply.code, reply.message);
        }
    }
    switch (p->method) {
    case HOSTLINK_HELLO:
        handle_hello_reply(c, &reply);
        break;
    case HOSTLINK_RESYNC:
        if (c->rpc) {
            c->stats.resyncs++;
            backoff_reset(&c->backoff);
            if (reply.code) {
                OLOG_WARN_RL(&rl, "hostlink %s: the DPU refused the resync: %s: %s",
                             c->remote, hostlink_error_name(reply.code), reply.message);
            }
            set_state(c, HOSTLINK_CLIENT_UP, reply.code, reply.message);
        }
        break;
    default:
        break;
    }
    free(p);
    if (c->rpc && reply.code && hostlink_error_is_fatal(reply.code)) {
        lost(c, reply.code, reply.message);
    }
}

static void
handle_notify(struct hostlink_client *c, const struct jsonrpc_msg *jmsg)
{
    struct ovnic_err err = {0};
    struct hostlink_msg msg;
    char text[OVNIC_ERR_DETAIL_LEN + 128];

    if (hostlink_msg_from_jsonrpc(jmsg, c->version ? c->version : c->version_min, &msg,
                                  &err)) {
        lost(c, -EPROTO, ovnic_err_format(&err, text, sizeof text));
        return;
    }
    if (msg.method == HOSTLINK_BYE) {
        lost(c, msg.u.bye.code, msg.u.bye.message);
    } else if (c->ops.notify) {
        c->ops.notify(c->aux, &msg);
    }
    hostlink_msg_clear(&msg);
}

/* 'json' as a JSON-RPC message, including the error reply with a null id that a
 * server sends about a message it could not tie to a request (which JSON-RPC
 * parsing refuses as a reply without an id). */
static int
parse_msg(const json_t *json, struct jsonrpc_msg **msg, struct ovnic_err *err)
{
    const json_t *error = json_object_get(json, "error");
    const json_t *id = json_object_get(json, "id");
    const json_t *result = json_object_get(json, "result");
    size_t n = 1 + (id != NULL) + (result != NULL);

    if (json_is_object(error) && (!id || json_is_null(id)) &&
        (!result || json_is_null(result)) && json_object_size(json) == n) {
        *msg = jsonrpc_msg_create_error(json_incref((json_t *)error), json_null());
        return *msg ? 0
                    : ovnic_err_set(err, -ENOMEM, "hostlink client", "out of memory",
                                    NULL);
    }
    return jsonrpc_msg_from_json(json, msg, err);
}

static void
io_cb(struct poll_loop *loop OVNIC_UNUSED, int fd OVNIC_UNUSED,
      uint32_t events OVNIC_UNUSED, void *aux)
{
    struct hostlink_client *c = aux;
    struct jsonrpc *rpc = c->rpc;
    char text[OVNIC_ERR_DETAIL_LEN + 128];
    int error;

    if (!rpc) {
        return;
    }
    error = jsonrpc_run(rpc);
    if (error) {
        const char *why = error == -EPROTO && c->tls ? "TLS handshake or stream failed"
                                                     : "connection failed";

        lost(c, error, why);
        return;
    }
    if (c->state == HOSTLINK_CLIENT_CONNECTING && jsonrpc_is_connected(rpc)) {
        set_state(c, HOSTLINK_CLIENT_HELLO, 0, NULL);
        if (c->rpc != rpc) {
            return;
        }
    }
    while (c->rpc == rpc) {
        struct ovnic_err err = {0};
        struct jsonrpc_msg *msg;
        json_t *json;

        error = jsonrpc_recv_json(rpc, &json, &err);
        if (error == -EAGAIN) {
            break;
        }
        if (!error) {
            error = parse_msg(json, &msg, &err);
            json_decref(json);
        }
        if (error) {
            lost(c, error, ovnic_err_format(&err, text, sizeof text));
            return;
        }
        c->last_rx_ms = time_msec();
        switch (msg->type) {
        case JSONRPC_REPLY:
        case JSONRPC_ERROR:
            handle_reply(c, msg);
            break;
        case JSONRPC_NOTIFY:
            handle_notify(c, msg);
            break;
        case JSONRPC_REQUEST:
            lost(c, -EPROTO, "the DPU sent a request");
            break;
        }
        jsonrpc_msg_destroy(msg);
    }
    if (c->rpc == rpc) {
        update_events(c);
    }
}

/* ---- API. --------------------------------------------------------------------- */

static int
config_error__(struct ovnic_err *err, const char *fmt, const char *what)
{
    return ovnic_err_set(err, -EINVAL, "hostlink client", "bad configuration", fmt, what);
}

static int
check_text__(const char *what, const char *s, size_t max, bool name,
             struct ovnic_err *err)
{
    if (!s || !s[0] || strlen(s) > max) {
        return config_error__(err, "%s: empty or too long", what);
    }
    for (const char *p = s; *p; p++) {
        bool ok = name ? (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                             (*p >= '0' && *p <= '9') || strchr("._-:@", *p)
                       : *p >= 0x20 && *p < 0x7f;

        if (!ok) {
            return config_error__(err, "%s: a character not allowed", what);
        }
    }
    return 0;
}

static char *
strdup_opt__(const char *s, bool *oom)
{
    char *copy = s ? strdup(s) : NULL;

    if (s && !copy) {
        *oom = true;
    }
    return copy;
}

int
hostlink_client_create(struct poll_loop *loop, const struct hostlink_client_config *cfg,
                       const struct hostlink_client_ops *ops, void *aux,
                       struct hostlink_client **clientp, struct ovnic_err *err)
{
    struct hostlink_client *c;
    unsigned int vmin = cfg->version_min ? cfg->version_min : HOSTLINK_VERSION_MIN;
    unsigned int vmax = cfg->version_max ? cfg->version_max : HOSTLINK_VERSION_MAX;
    uint32_t ka = cfg->keepalive_ms ? cfg->keepalive_ms : HOSTLINK_KEEPALIVE_MS_DEFAULT;
    uint32_t bmin =
        cfg->backoff_min_ms ? cfg->backoff_min_ms : HOSTLINK_BACKOFF_MIN_MS_DEFAULT;
    uint32_t bmax = cfg->backoff_max_ms ? cfg->backoff_max_ms
                                        : MAX(bmin, HOSTLINK_BACKOFF_MAX_MS_DEFAULT);
    bool tls, oom = false;
    int error;

    error = hostlink_check_transport(cfg->remote, false, cfg->allow_plain,
                                     cfg->tls && cfg->tls->ca_file &&
                                         cfg->tls->cert_file && cfg->tls->key_file,
                                     &tls, err);
    if (!error) {
        error = check_text__("name", cfg->name, HOSTLINK_NAME_MAX, true, err);
    }
    if (!error) {
        error =
            check_text__("software", cfg->software, HOSTLINK_SOFTWARE_MAX, false, err);
    }
    if (error) {
        return error;
    }
    if (!ops->get_state) {
        return config_error__(err, "%s", "get_state is required");
    }
    if (vmin < HOSTLINK_VERSION_MIN || vmax > HOSTLINK_VERSION_MAX || vmin > vmax) {
        return config_error__(err, "%s", "versions outside what this library speaks");
    }
    if (ka < HOSTLINK_LEASE_MIN_MS || ka > HOSTLINK_LEASE_MAX_MS ||
        (cfg->dead_ms && cfg->dead_ms < HOSTLINK_LEASE_MIN_MS) || bmin > bmax ||
        cfg->max_msg > HOSTLINK_MAX_MSG) {
        return config_error__(err, "%s",
                              "keepalive, dead time, back-off or message size out of "
                              "range");
    }

    c = calloc(1, sizeof *c);
    if (!c) {
        return ovnic_err_set(err, -ENOMEM, "hostlink client", "out of memory", NULL);
    }
    c->loop = loop;
    c->ops = *ops;
    c->aux = aux;
    c->remote = strdup_opt__(cfg->remote, &oom);
    c->tls = tls;
    if (tls) {
        c->ca_file = strdup_opt__(cfg->tls->ca_file, &oom);
        c->cert_file = strdup_opt__(cfg->tls->cert_file, &oom);
        c->key_file = strdup_opt__(cfg->tls->key_file, &oom);
        c->peer_name = strdup_opt__(cfg->tls->peer_name, &oom);
    }
    snprintf(c->name, sizeof c->name, "%s", cfg->name);
    snprintf(c->software, sizeof c->software, "%s", cfg->software);
    c->version_min = vmin;
    c->version_max = vmax;
    c->keepalive_cfg_ms = ka;
    c->dead_cfg_ms = cfg->dead_ms;
    c->keepalive_ms = ka;
    c->dead_ms = cfg->dead_ms ? cfg->dead_ms : 3 * ka;
    c->max_pending =
        cfg->max_pending ? cfg->max_pending : HOSTLINK_CLIENT_MAX_PENDING_DEFAULT;
    c->max_msg = cfg->max_msg ? cfg->max_msg : HOSTLINK_MAX_MSG;
    c->fd = -1;
    c->next_id = 1;
    c->state = HOSTLINK_CLIENT_BACKOFF;
    hmap_init(&c->pending);
    backoff_init(&c->backoff, bmin, bmax);
    poll_timer_init(&c->retry_timer);
    poll_timer_init(&c->tick_timer);
    poll_timer_init(&c->kick_timer);
    if (oom) {
        hostlink_client_destroy(c);
        return ovnic_err_set(err, -ENOMEM, "hostlink client", "out of memory", NULL);
    }
    c->retry_at_ms = time_msec();
    poll_timer_start(loop, &c->retry_timer, 0, retry_cb, c);
    *clientp = c;
    return 0;
}

void
hostlink_client_destroy(struct hostlink_client *c)
{
    if (!c) {
        return;
    }
    conn_close(c);
    poll_timer_stop(c->loop, &c->retry_timer);
    pending_free_all(c, false, NULL);
    hmap_destroy(&c->pending);
    free(c->remote);
    free(c->ca_file);
    free(c->cert_file);
    free(c->key_file);
    free(c->peer_name);
    free(c);
}

int
hostlink_client_request(struct hostlink_client *c, const struct hostlink_msg *msg,
                        hostlink_reply_cb cb, void *cb_aux, uint64_t *id,
                        struct ovnic_err *err)
{
    struct hostlink_msg copy;
    int error;

    switch (msg->method) {
    case HOSTLINK_INVENTORY:
    case HOSTLINK_VF_STATUS:
    case HOSTLINK_ATTACH_REQUEST:
    case HOSTLINK_DETACH_REQUEST:
        break;
    default:
        return ovnic_err_set(err, -EINVAL, "hostlink client",
                             "not a request the owner sends", "%s",
                             hostlink_method_name(msg->method));
    }
    if (!c->rpc || c->state < HOSTLINK_CLIENT_RESYNC) {
        return ovnic_err_set(err, -ENOTCONN, "hostlink client", "session not up", "%s",
                             hostlink_client_state_to_string(c->state));
    }
    if (c->n_user_pending >= c->max_pending) {
        return ovnic_err_set(err, -ENOBUFS, "hostlink client",
                             "too many requests awaiting an answer", "%zu",
                             c->n_user_pending);
    }
    /* Only the id changes: a shallow copy will do. */
    copy = *msg;
    error = send_request(c, &copy, false, cb, cb_aux, err);
    if (!error) {
        c->stats.requests++;
        if (id) {
            *id = copy.id;
        }
    }
    return error;
}

int
hostlink_client_resync(struct hostlink_client *c, struct ovnic_err *err)
{
    int error;

    if (!c->rpc || c->state < HOSTLINK_CLIENT_RESYNC) {
        return ovnic_err_set(err, -ENOTCONN, "hostlink client", "session not up", "%s",
                             hostlink_client_state_to_string(c->state));
    }
    error = send_resync(c, err);
    if (!error && c->state != HOSTLINK_CLIENT_RESYNC) {
        c->state = HOSTLINK_CLIENT_RESYNC;
        set_state(c, HOSTLINK_CLIENT_RESYNC, 0, NULL);
    }
    return error;
}

enum hostlink_client_state
hostlink_client_get_state(const struct hostlink_client *c)
{
    return c->state;
}

void
hostlink_client_get_info(const struct hostlink_client *c,
                         struct hostlink_client_info *info)
{
    uint64_t now = time_msec();
    bool negotiated = c->state >= HOSTLINK_CLIENT_RESYNC;

    *info = c->stats;
    info->state = c->state;
    info->remote = c->remote;
    info->version = negotiated ? c->version : 0;
    info->dpu_name = negotiated ? c->dpu.hello.name : NULL;
    info->dpu_software = negotiated ? c->dpu.hello.software : NULL;
    info->lease_ms = negotiated ? c->dpu.lease_ms : 0;
    info->keepalive_ms = negotiated ? c->keepalive_ms : 0;
    info->last_status = c->last_status;
    info->last_message = c->last_message;
    info->retry_in_ms = c->state == HOSTLINK_CLIENT_BACKOFF && c->retry_at_ms > now
                            ? c->retry_at_ms - now
                            : 0;
    info->pending = c->n_user_pending;
}

json_t *
hostlink_client_to_json(const struct hostlink_client *c)
{
    struct hostlink_client_info i;

    hostlink_client_get_info(c, &i);
    return json_pack("{s:s, s:s, s:i, s:s?, s:s?, s:I, s:I, s:{s:i, s:s, s:s}, s:I, "
                     "s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                     "state", hostlink_client_state_to_string(i.state), "remote",
                     i.remote, "version", (int)i.version, "dpu-name", i.dpu_name,
                     "dpu-software", i.dpu_software, "lease-ms", (json_int_t)i.lease_ms,
                     "keepalive-ms", (json_int_t)i.keepalive_ms, "last-error", "code",
                     i.last_status, "name",
                     i.last_status > 0 ? hostlink_error_name(i.last_status)
                     : i.last_status   ? "errno"
                                       : "none",
                     "message", i.last_message, "retry-in-ms", (json_int_t)i.retry_in_ms,
                     "attempts", (json_int_t)i.attempts, "sessions",
                     (json_int_t)i.sessions, "resyncs", (json_int_t)i.resyncs, "requests",
                     (json_int_t)i.requests, "errors", (json_int_t)i.errors, "pending",
                     (json_int_t)i.pending, "keepalives", (json_int_t)i.keepalives);
}
