/* ovnic: the DPU side of hostlink (see hostlink_server.h). */
#include "shared/proto/hostlink_server.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/util/hash.h"
#include "shared/util/hmap.h"
#include "shared/util/jsonrpc.h"
#include "shared/util/log.h"
#include "shared/util/pki.h"
#include "shared/util/poll.h"
#include "shared/util/util.h"

OVNIC_LOG_MODULE(hostlink_server);

#define IDENTITY_MAX MAX(PKI_CN_MAX, HOSTLINK_NAME_MAX)

struct session {
    struct hmap_node node; /* In 'server->sessions', by 'id'. */
    uint64_t id;           /* The rpc_server connection's serial. */
    enum hostlink_session_state state;
    bool admitted; /* session_up said yes; session_down is owed. */
    unsigned int version;
    bool has_cn;
    char peer_cn[PKI_CN_MAX + 1];
    char identity[IDENTITY_MAX + 1];
    char remote[128];
    struct hostlink_hello hello;
    uint64_t connected_ms;
    uint64_t up_ms;
    uint64_t last_rx_ms;
    uint64_t tokens;    /* Thousandths of a request. */
    uint64_t refill_ms; /* When 'tokens' was last refilled. */
    uint64_t requests;
    uint64_t rate_limited;
};

struct hostlink_server {
    struct poll_loop *loop;
    struct rpc_server *rpc;
    struct hostlink_server_ops ops;
    void *aux;
    bool tls;
    char name[HOSTLINK_NAME_MAX + 1];
    char software[HOSTLINK_SOFTWARE_MAX + 1];
    unsigned int version_min, version_max;
    uint32_t lease_ms, keepalive_ms, hello_timeout_ms;
    uint32_t rate, burst;
    struct hmap sessions;
    struct poll_timer sweep_timer;
    uint64_t sweep_ms;
    struct hostlink_server_stats stats;
};

static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(20, 40);

void
hostlink_server_config_default(struct hostlink_server_config *c)
{
    *c = (struct hostlink_server_config){
        .version_min = HOSTLINK_VERSION_MIN,
        .version_max = HOSTLINK_VERSION_MAX,
        .lease_ms = HOSTLINK_LEASE_MS_DEFAULT,
        .keepalive_ms = HOSTLINK_LEASE_MS_DEFAULT / 3,
        .hello_timeout_ms = HOSTLINK_HELLO_TIMEOUT_MS_DEFAULT,
        .rate = HOSTLINK_RATE_DEFAULT,
        .burst = HOSTLINK_BURST_DEFAULT,
        .max_sessions = HOSTLINK_MAX_SESSIONS_DEFAULT,
        .max_msg = HOSTLINK_MAX_MSG,
    };
}

const char *
hostlink_session_state_to_string(enum hostlink_session_state state)
{
    switch (state) {
    case HOSTLINK_SESSION_HELLO:
        return "hello";
    case HOSTLINK_SESSION_UP:
        return "up";
    case HOSTLINK_SESSION_CLOSING:
        return "closing";
    }
    return "unknown";
}

const char *
hostlink_down_reason_to_string(enum hostlink_down_reason reason)
{
    switch (reason) {
    case HOSTLINK_DOWN_CLOSED:
        return "closed by peer";
    case HOSTLINK_DOWN_LEASE_EXPIRED:
        return "lease expired";
    case HOSTLINK_DOWN_MALFORMED:
        return "protocol violation";
    case HOSTLINK_DOWN_SUPERSEDED:
        return "superseded";
    case HOSTLINK_DOWN_OWNER:
        return "closed by the DPU";
    case HOSTLINK_DOWN_ERROR:
        return "connection error";
    }
    return "unknown";
}

/* ---- Sessions. ---------------------------------------------------------------- */

static struct session *
session_find(const struct hostlink_server *server, uint64_t id)
{
    struct session *s;

    HMAP_FOR_EACH_WITH_HASH (s, node, hash_add64(0, id), &server->sessions) {
        if (s->id == id) {
            return s;
        }
    }
    return NULL;
}

static const char *
session_who(const struct session *s)
{
    return s->identity[0] ? s->identity : s->remote;
}

/* Ends admitted session 's' (no more requests, answers dropped) and tells the
 * owner. */
static void
session_down(struct hostlink_server *server, struct session *s,
             enum hostlink_down_reason reason)
{
    bool admitted = s->admitted;

    s->admitted = false;
    s->state = HOSTLINK_SESSION_CLOSING;
    if (admitted) {
        server->stats.sessions--;
        OLOG_INFO_RL(&rl, "session %" PRIu64 " of %s (%s) down: %s", s->id,
                     session_who(s), s->remote, hostlink_down_reason_to_string(reason));
        if (server->ops.session_down) {
            server->ops.session_down(server->aux, s->id, reason);
        }
    }
}

static int
send_notify(struct hostlink_server *server, struct session *s,
            const struct hostlink_msg *msg, struct ovnic_err *err)
{
    struct jsonrpc_msg *jmsg;
    int error = hostlink_msg_encode(msg, s->version ? s->version : server->version_min,
                                    &jmsg, err);

    return error ? error : rpc_server_send(server->rpc, s->id, jmsg);
}

/* Closes 's' once its output is out, with a bye of 'code' first if nonzero, and
 * ends it for 'reason'. */
static void
session_close(struct hostlink_server *server, struct session *s, int code,
              const char *message, enum hostlink_down_reason reason)
{
    if (s->state == HOSTLINK_SESSION_CLOSING) {
        return;
    }
    if (code) {
        struct hostlink_msg bye = {.method = HOSTLINK_BYE};

        bye.u.bye.code = code;
        snprintf(bye.u.bye.message, sizeof bye.u.bye.message, "%s",
                 message ? message : "");
        send_notify(server, s, &bye, NULL);
    }
    rpc_server_close(server->rpc, s->id);
    session_down(server, s, reason);
}

/* Answers request 'id' (borrowed JSON) of 's' with error 'code'. */
static void
reply_error(struct hostlink_server *server, struct session *s, const json_t *id, int code,
            const char *message)
{
    json_t *error = hostlink_error_json(code, message);

    rpc_server_send(server->rpc, s->id, jsonrpc_msg_create_error(error, id));
}

/* A fatal error from 's': answer, close, count. */
static void
session_violation(struct hostlink_server *server, struct session *s, const json_t *id,
                  int code, const char *message)
{
    OLOG_WARN_RL(&rl, "session %" PRIu64 " of %s (%s): %s: %s: closing", s->id,
                 session_who(s), s->remote, hostlink_error_name(code), message);
    reply_error(server, s, id, code, message);
    server->stats.malformed++;
    session_close(server, s, 0, NULL, HOSTLINK_DOWN_MALFORMED);
}

static bool
take_token(struct hostlink_server *server, struct session *s, uint64_t now)
{
    uint64_t cap = (uint64_t)server->burst * 1000;

    if (now > s->refill_ms) {
        s->tokens = MIN(cap, s->tokens + (now - s->refill_ms) * server->rate);
        s->refill_ms = now;
    }
    if (s->tokens < 1000) {
        return false;
    }
    s->tokens -= 1000;
    return true;
}

/* ---- Requests. ---------------------------------------------------------------- */

static void
handle_hello(struct hostlink_server *server, struct session *s, const json_t *id,
             const struct hostlink_msg *msg)
{
    const struct hostlink_hello *h = &msg->u.hello;
    struct hostlink_hello_reply reply;
    struct hostlink_session_info info;
    struct jsonrpc_msg *jmsg;
    char why[HOSTLINK_MESSAGE_MAX + 1];
    unsigned int version;
    struct session *old;
    int code;

    code = hostlink_version_negotiate(server->version_min, server->version_max,
                                      h->min_version, h->max_version, &version);
    if (code) {
        snprintf(why, sizeof why,
                 "%s speaks hostlink versions %u to %u, this DPU %u to %u", h->name,
                 h->min_version, h->max_version, server->version_min,
                 server->version_max);
        OLOG_WARN_RL(&rl, "session %" PRIu64 " (%s): hello refused: %s", s->id, s->remote,
                     why);
        server->stats.refused_version++;
        reply_error(server, s, id, code, why);
        session_close(server, s, 0, NULL, HOSTLINK_DOWN_MALFORMED);
        return;
    }
    if (server->tls) {
        const char *cn = rpc_server_conn_peer_name(server->rpc, s->id);

        if (!cn || !cn[0] || strlen(cn) > PKI_CN_MAX) {
            server->stats.refused_owner++;
            reply_error(server, s, id, HOSTLINK_ERR_UNAUTHORIZED,
                        "the client certificate has no usable CN");
            session_close(server, s, 0, NULL, HOSTLINK_DOWN_MALFORMED);
            return;
        }
        snprintf(s->peer_cn, sizeof s->peer_cn, "%s", cn);
        s->has_cn = true;
        snprintf(s->identity, sizeof s->identity, "%s", cn);
    } else {
        snprintf(s->identity, sizeof s->identity, "%s", h->name);
    }
    s->hello = *h;
    s->version = version;

    /* One session per identity: a host that reconnects replaces its old session,
     * which may not have noticed yet that its connection is gone. */
    HMAP_FOR_EACH (old, node, &server->sessions) {
        if (old != s && old->state == HOSTLINK_SESSION_UP &&
            !strcmp(old->identity, s->identity)) {
            OLOG_INFO_RL(&rl, "session %" PRIu64 " of %s superseded by session %" PRIu64,
                         old->id, old->identity, s->id);
            server->stats.superseded++;
            session_close(server, old, HOSTLINK_ERR_SUPERSEDED,
                          "a newer session of this identity has started",
                          HOSTLINK_DOWN_SUPERSEDED);
        }
    }

    if (server->ops.session_up) {
        hostlink_server_session_get(server, s->id, &info);
        why[0] = '\0';
        code = server->ops.session_up(server->aux, &info, why, sizeof why);
        if (code) {
            if (code < 1 || code > HOSTLINK_ERR_WIRE_MAX) {
                code = HOSTLINK_ERR_INTERNAL;
            }
            OLOG_WARN_RL(&rl, "session %" PRIu64 " of %s (%s) refused: %s: %s", s->id,
                         s->identity, s->remote, hostlink_error_name(code), why);
            server->stats.refused_owner++;
            reply_error(server, s, id, code, why[0] ? why : NULL);
            session_close(server, s, 0, NULL, HOSTLINK_DOWN_OWNER);
            return;
        }
    }
    reply.hello =
        (struct hostlink_hello){server->version_min, server->version_max, "", ""};
    snprintf(reply.hello.name, sizeof reply.hello.name, "%s", server->name);
    snprintf(reply.hello.software, sizeof reply.hello.software, "%s", server->software);
    reply.version = version;
    reply.lease_ms = server->lease_ms;
    reply.keepalive_ms = server->keepalive_ms;
    if (hostlink_reply_encode(HOSTLINK_HELLO, msg->id, &reply, 0, &jmsg, NULL)) {
        reply_error(server, s, id, HOSTLINK_ERR_INTERNAL, "cannot encode the reply");
        session_close(server, s, 0, NULL, HOSTLINK_DOWN_ERROR);
        return;
    }
    s->state = HOSTLINK_SESSION_UP;
    s->admitted = true;
    s->up_ms = time_msec();
    server->stats.admitted++;
    server->stats.sessions++;
    OLOG_INFO_RL(&rl,
                 "session %" PRIu64 " of %s (%s) up: version %u, peer \"%s\" running "
                 "\"%s\"",
                 s->id, s->identity, s->remote, version, h->name, h->software);
    rpc_server_send(server->rpc, s->id, jmsg);
}

static void
request_cb(void *aux, uint64_t conn, const struct rpc_server_request *req)
{
    struct hostlink_server *server = aux;
    struct session *s = session_find(server, conn);
    struct ovnic_err err = {0};
    struct hostlink_msg msg;
    uint64_t now = time_msec();
    char text[OVNIC_ERR_DETAIL_LEN + 64];
    bool is_hello;
    int error;

    if (!s || s->state == HOSTLINK_SESSION_CLOSING) {
        /* Not reached: a closing connection is not read.  Answer all the same, so
         * that the request does not stay pending. */
        rpc_server_reply_error(server->rpc, conn, req->id, HOSTLINK_ERR_CLOSED,
                               "session closed");
        return;
    }
    s->last_rx_ms = now;
    s->requests++;
    server->stats.requests++;
    if (!take_token(server, s, now)) {
        s->rate_limited++;
        server->stats.rate_limited++;
        OLOG_WARN_RL(&rl,
                     "session %" PRIu64 " of %s (%s): rate limited (%" PRIu64
                     " requests refused so far)",
                     s->id, session_who(s), s->remote, s->rate_limited);
        snprintf(text, sizeof text,
                 "rate limited: more than %u requests per second (burst %u)",
                 server->rate, server->burst);
        reply_error(server, s, req->id, HOSTLINK_ERR_RATE_LIMITED, text);
        return;
    }

    is_hello = !strcmp(req->method, "hello");
    if (is_hello != (s->state == HOSTLINK_SESSION_HELLO)) {
        snprintf(text, sizeof text, "%s",
                 is_hello ? "hello sent twice" : "the first request must be hello");
        session_violation(server, s, req->id, HOSTLINK_ERR_OUT_OF_ORDER, text);
        return;
    }
    error =
        hostlink_msg_decode(req->method, req->params, req->id, s->version, &msg, &err);
    if (error) {
        snprintf(text, sizeof text, "%s%s%s", err.message ? err.message : "bad message",
                 err.detail[0] ? ": " : "", err.detail);
        session_violation(server, s, req->id, hostlink_error_from_errno(error), text);
        return;
    }
    switch (msg.method) {
    case HOSTLINK_HELLO:
        handle_hello(server, s, req->id, &msg);
        break;
    case HOSTLINK_KEEPALIVE: {
        struct jsonrpc_msg *jmsg;

        server->stats.keepalives++;
        if (!hostlink_reply_encode(HOSTLINK_KEEPALIVE, msg.id, NULL, msg.u.keepalive.seq,
                                   &jmsg, NULL)) {
            rpc_server_send(server->rpc, s->id, jmsg);
        } else {
            reply_error(server, s, req->id, HOSTLINK_ERR_INTERNAL, NULL);
        }
        break;
    }
    default:
        if (server->ops.request) {
            server->ops.request(server->aux, s->id, &msg);
        } else {
            reply_error(server, s, req->id, HOSTLINK_ERR_UNSUPPORTED,
                        "this DPU serves no hostlink requests");
        }
        break;
    }
    hostlink_msg_clear(&msg);
}

/* ---- Connections. ------------------------------------------------------------- */

static void
conn_open_cb(void *aux, uint64_t conn)
{
    struct hostlink_server *server = aux;
    struct session *s = calloc(1, sizeof *s);
    const char *remote = rpc_server_conn_name(server->rpc, conn);
    uint64_t now = time_msec();

    if (!s) {
        rpc_server_close(server->rpc, conn);
        return;
    }
    s->id = conn;
    s->state = HOSTLINK_SESSION_HELLO;
    snprintf(s->remote, sizeof s->remote, "%s", remote ? remote : "?");
    s->connected_ms = s->last_rx_ms = s->refill_ms = now;
    s->tokens = (uint64_t)server->burst * 1000;
    hmap_insert(&server->sessions, &s->node, hash_add64(0, conn));
    server->stats.connections++;
}

static void
conn_close_cb(void *aux, uint64_t conn, enum rpc_server_close_reason reason)
{
    struct hostlink_server *server = aux;
    struct session *s = session_find(server, conn);
    enum hostlink_down_reason down;

    if (!s) {
        return;
    }
    switch (reason) {
    case RPC_SERVER_CLOSE_PEER:
        down = HOSTLINK_DOWN_CLOSED;
        break;
    case RPC_SERVER_CLOSE_PROTOCOL:
        down = HOSTLINK_DOWN_MALFORMED;
        if (s->state != HOSTLINK_SESSION_CLOSING) {
            server->stats.malformed++;
        }
        break;
    case RPC_SERVER_CLOSE_OWNER:
        down = HOSTLINK_DOWN_OWNER;
        break;
    default:
        down = HOSTLINK_DOWN_ERROR;
        break;
    }
    session_down(server, s, down);
    hmap_remove(&server->sessions, &s->node);
    server->stats.connections--;
    free(s);
}

static void
sweep_cb(struct poll_loop *loop, struct poll_timer *timer OVNIC_UNUSED, void *aux)
{
    struct hostlink_server *server = aux;
    uint64_t now = time_msec();
    struct session *s;
    char text[128];

    HMAP_FOR_EACH (s, node, &server->sessions) {
        if (s->state == HOSTLINK_SESSION_HELLO &&
            now - s->connected_ms >= server->hello_timeout_ms) {
            OLOG_INFO_RL(&rl, "connection %s: no hello within %" PRIu32 " ms: closing",
                         s->remote, server->hello_timeout_ms);
            server->stats.hello_timeouts++;
            snprintf(text, sizeof text, "no hello within %" PRIu32 " ms",
                     server->hello_timeout_ms);
            session_close(server, s, HOSTLINK_ERR_TIMEOUT, text, HOSTLINK_DOWN_ERROR);
        } else if (s->state == HOSTLINK_SESSION_UP &&
                   now - s->last_rx_ms >= server->lease_ms) {
            OLOG_INFO_RL(&rl,
                         "session %" PRIu64 " of %s: silent for %" PRIu64
                         " ms, lease (%" PRIu32 " ms) expired",
                         s->id, s->identity, now - s->last_rx_ms, server->lease_ms);
            server->stats.expired++;
            snprintf(text, sizeof text, "silent for %" PRIu64 " ms, lease %" PRIu32 " ms",
                     now - s->last_rx_ms, server->lease_ms);
            session_close(server, s, HOSTLINK_ERR_LEASE_EXPIRED, text,
                          HOSTLINK_DOWN_LEASE_EXPIRED);
        }
    }
    poll_timer_start(loop, &server->sweep_timer, server->sweep_ms, sweep_cb, server);
}

/* ---- Server. ------------------------------------------------------------------ */

static bool
is_name_char__(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("._-:@", c));
}

static int
check_text__(const char *what, const char *s, size_t max, bool name,
             struct ovnic_err *err)
{
    if (!s || !s[0] || strlen(s) > max) {
        return ovnic_err_set(err, -EINVAL, "hostlink server", "bad configuration",
                             "%s must be 1 to %zu characters", what, max);
    }
    for (const char *p = s; *p; p++) {
        if (name ? !is_name_char__(*p) : (*p < 0x20 || *p >= 0x7f)) {
            return ovnic_err_set(err, -EINVAL, "hostlink server", "bad configuration",
                                 "%s holds a character not allowed: 0x%02x", what,
                                 (unsigned char)*p);
        }
    }
    return 0;
}

int
hostlink_server_create(struct poll_loop *loop, const struct hostlink_server_config *cfg,
                       const struct hostlink_server_ops *ops, void *aux,
                       struct hostlink_server **serverp, struct ovnic_err *err)
{
    struct hostlink_server_config c = *cfg, d;
    struct rpc_server_settings settings;
    struct rpc_server_hooks hooks = {conn_open_cb, conn_close_cb};
    struct hostlink_server *server;
    bool tls;
    int error;

    hostlink_server_config_default(&d);
    c.version_min = c.version_min ? c.version_min : d.version_min;
    c.version_max = c.version_max ? c.version_max : d.version_max;
    c.lease_ms = c.lease_ms ? c.lease_ms : d.lease_ms;
    c.keepalive_ms =
        c.keepalive_ms ? c.keepalive_ms : MAX(c.lease_ms / 3, HOSTLINK_LEASE_MIN_MS);
    c.hello_timeout_ms = c.hello_timeout_ms ? c.hello_timeout_ms : d.hello_timeout_ms;
    c.rate = c.rate ? c.rate : d.rate;
    c.burst = c.burst ? c.burst : d.burst;
    c.max_sessions = c.max_sessions ? c.max_sessions : d.max_sessions;
    c.max_msg = c.max_msg ? c.max_msg : d.max_msg;

    error =
        hostlink_check_transport(c.listen, true, c.allow_plain, c.tls != NULL, &tls, err);
    if (!error) {
        error = check_text__("name", c.name, HOSTLINK_NAME_MAX, true, err);
    }
    if (!error) {
        error = check_text__("software", c.software, HOSTLINK_SOFTWARE_MAX, false, err);
    }
    if (error) {
        return error;
    }
    if (c.version_min < HOSTLINK_VERSION_MIN || c.version_max > HOSTLINK_VERSION_MAX ||
        c.version_min > c.version_max) {
        return ovnic_err_set(err, -EINVAL, "hostlink server", "bad configuration",
                             "versions %u to %u: this library speaks %d to %d",
                             c.version_min, c.version_max, HOSTLINK_VERSION_MIN,
                             HOSTLINK_VERSION_MAX);
    }
    if (c.lease_ms < HOSTLINK_LEASE_MIN_MS || c.lease_ms > HOSTLINK_LEASE_MAX_MS ||
        c.keepalive_ms < HOSTLINK_LEASE_MIN_MS || c.keepalive_ms > c.lease_ms) {
        return ovnic_err_set(err, -EINVAL, "hostlink server", "bad configuration",
                             "lease %" PRIu32 " ms, keepalive %" PRIu32
                             " ms: the lease must be %d to %d ms, the keepalive "
                             "interval %d ms to the lease",
                             c.lease_ms, c.keepalive_ms, HOSTLINK_LEASE_MIN_MS,
                             HOSTLINK_LEASE_MAX_MS, HOSTLINK_LEASE_MIN_MS);
    }
    if (c.max_msg > HOSTLINK_MAX_MSG) {
        return ovnic_err_set(err, -EINVAL, "hostlink server", "bad configuration",
                             "max_msg %zu above %zu", c.max_msg, HOSTLINK_MAX_MSG);
    }

    server = calloc(1, sizeof *server);
    if (!server) {
        return ovnic_err_set(err, -ENOMEM, "hostlink server", "out of memory", NULL);
    }
    server->loop = loop;
    server->ops = *ops;
    server->aux = aux;
    server->tls = tls;
    snprintf(server->name, sizeof server->name, "%s", c.name);
    snprintf(server->software, sizeof server->software, "%s", c.software);
    server->version_min = c.version_min;
    server->version_max = c.version_max;
    server->lease_ms = c.lease_ms;
    server->keepalive_ms = c.keepalive_ms;
    server->hello_timeout_ms = c.hello_timeout_ms;
    server->rate = c.rate;
    server->burst = c.burst;
    server->sweep_ms = MIN(MAX(MIN(c.lease_ms, c.hello_timeout_ms) / 4, 10), 1000);
    hmap_init(&server->sessions);
    poll_timer_init(&server->sweep_timer);

    rpc_server_settings_default(&settings);
    settings.name = "hostlink";
    settings.max_msg = c.max_msg;
    settings.max_conns = c.max_sessions;
    settings.reserved_conns = 0;
    settings.max_conns_per_pid = 0;
    settings.max_conns_per_uid = 0;
    settings.idle_timeout_ms = 0; /* The lease and the hello timeout, here. */
    settings.close_on_bad_request = true;
    settings.max_batch = 16;
    settings.error_code = hostlink_error_from_errno;
    error = rpc_server_create(loop, c.listen, c.tls, &settings, request_cb, server,
                              &server->rpc, err);
    if (error) {
        hmap_destroy(&server->sessions);
        free(server);
        return error;
    }
    rpc_server_set_hooks(server->rpc, &hooks);
    poll_timer_start(loop, &server->sweep_timer, server->sweep_ms, sweep_cb, server);
    *serverp = server;
    return 0;
}

void
hostlink_server_destroy(struct hostlink_server *server)
{
    struct session *s, *next;

    if (!server) {
        return;
    }
    poll_timer_stop(server->loop, &server->sweep_timer);
    rpc_server_destroy(server->rpc);
    HMAP_FOR_EACH_SAFE (s, next, node, &server->sessions) {
        hmap_remove(&server->sessions, &s->node);
        free(s);
    }
    hmap_destroy(&server->sessions);
    free(server);
}

static struct session *
session_up_find(const struct hostlink_server *server, uint64_t id)
{
    struct session *s = session_find(server, id);

    return s && s->state == HOSTLINK_SESSION_UP ? s : NULL;
}

int
hostlink_server_reply(struct hostlink_server *server, uint64_t session, uint64_t id,
                      int code, const char *message)
{
    struct session *s = session_up_find(server, session);
    struct jsonrpc_msg *jmsg = NULL;
    json_t *jid;

    if (!s) {
        return -ENOENT;
    }
    if (id > HOSTLINK_ID_MAX || code < 0 || code > HOSTLINK_ERR_WIRE_MAX) {
        return -EINVAL;
    }
    jid = json_integer((json_int_t)id);
    if (!jid) {
        return -ENOMEM;
    }
    jmsg = code ? jsonrpc_msg_create_error(hostlink_error_json(code, message), jid)
                : jsonrpc_msg_create_reply(json_object(), jid);
    json_decref(jid);
    if (!jmsg) {
        return -ENOMEM;
    }
    rpc_server_send(server->rpc, s->id, jmsg);
    if (hostlink_error_is_fatal(code)) {
        server->stats.closed_owner++;
        session_close(server, s, 0, NULL, HOSTLINK_DOWN_OWNER);
    }
    return 0;
}

int
hostlink_server_notify(struct hostlink_server *server, uint64_t session,
                       const struct hostlink_msg *msg, struct ovnic_err *err)
{
    struct session *s = session_up_find(server, session);

    if (!s) {
        return ovnic_err_set(err, -ENOENT, "hostlink server", "no such session", NULL);
    }
    if (msg->method != HOSTLINK_PLUG_RESULT) {
        return ovnic_err_set(err, -EINVAL, "hostlink server",
                             "not a notification the DPU may send", "%s",
                             hostlink_method_name(msg->method));
    }
    return send_notify(server, s, msg, err);
}

int
hostlink_server_close_session(struct hostlink_server *server, uint64_t session, int code,
                              const char *message)
{
    struct session *s = session_find(server, session);

    if (!s || s->state == HOSTLINK_SESSION_CLOSING) {
        return -ENOENT;
    }
    if (code < 1 || code > HOSTLINK_ERR_WIRE_MAX) {
        code = HOSTLINK_ERR_CLOSED;
    }
    server->stats.closed_owner++;
    session_close(server, s, code, message, HOSTLINK_DOWN_OWNER);
    return 0;
}

int
hostlink_server_session_get(const struct hostlink_server *server, uint64_t session,
                            struct hostlink_session_info *info)
{
    const struct session *s = session_find(server, session);

    if (!s) {
        return -ENOENT;
    }
    *info = (struct hostlink_session_info){
        .id = s->id,
        .state = s->state,
        .version = s->version,
        .identity = s->identity[0] ? s->identity : NULL,
        .peer_cn = s->has_cn ? s->peer_cn : NULL,
        .remote = s->remote,
        .hello = s->version ? &s->hello : NULL,
        .connected_ms = s->connected_ms,
        .up_ms = s->up_ms,
        .last_rx_ms = s->last_rx_ms,
        .requests = s->requests,
        .rate_limited = s->rate_limited,
    };
    return 0;
}

int
hostlink_server_find(const struct hostlink_server *server, const char *identity,
                     uint64_t *session)
{
    const struct session *s;

    HMAP_FOR_EACH (s, node, &server->sessions) {
        if (s->state == HOSTLINK_SESSION_UP && !strcmp(s->identity, identity)) {
            *session = s->id;
            return 0;
        }
    }
    return -ENOENT;
}

uint16_t
hostlink_server_port(const struct hostlink_server *server)
{
    return rpc_server_port(server->rpc);
}

void
hostlink_server_get_stats(const struct hostlink_server *server,
                          struct hostlink_server_stats *stats)
{
    *stats = server->stats;
    rpc_server_get_stats(server->rpc, &stats->transport);
}

json_t *
hostlink_server_to_json(const struct hostlink_server *server)
{
    struct hostlink_server_stats st;
    json_t *json, *sessions = json_array();
    uint64_t now = time_msec();
    const struct session *s;

    hostlink_server_get_stats(server, &st);
    HMAP_FOR_EACH (s, node, &server->sessions) {
        json_t *j = json_pack(
            "{s:I, s:s, s:i, s:s?, s:s?, s:s, s:s?, s:s?, s:I, s:I, s:I, s:I}", "id",
            (json_int_t)s->id, "state", hostlink_session_state_to_string(s->state),
            "version", (int)s->version, "identity", s->identity[0] ? s->identity : NULL,
            "peer-cn", s->has_cn ? s->peer_cn : NULL, "remote", s->remote, "name",
            s->version ? s->hello.name : NULL, "software",
            s->version ? s->hello.software : NULL, "up-ms",
            (json_int_t)(s->up_ms ? now - s->up_ms : 0), "idle-ms",
            (json_int_t)(now - s->last_rx_ms), "requests", (json_int_t)s->requests,
            "rate-limited", (json_int_t)s->rate_limited);

        if (!j || !sessions || json_array_append_new(sessions, j)) {
            json_decref(sessions);
            return NULL;
        }
    }
    json = json_pack(
        "{s:I, s:I, s:I, s:{s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I}, "
        "s:I, s:I, s:I, s:o?, s:o}",
        "connections", (json_int_t)st.connections, "sessions", (json_int_t)st.sessions,
        "admitted", (json_int_t)st.admitted, "refused", "version",
        (json_int_t)st.refused_version, "owner", (json_int_t)st.refused_owner,
        "hello-timeout", (json_int_t)st.hello_timeouts, "closed", "expired",
        (json_int_t)st.expired, "superseded", (json_int_t)st.superseded, "malformed",
        (json_int_t)st.malformed, "owner", (json_int_t)st.closed_owner, "requests",
        (json_int_t)st.requests, "keepalives", (json_int_t)st.keepalives, "rate-limited",
        (json_int_t)st.rate_limited, "transport", rpc_server_stats_to_json(&st.transport),
        "sessions", sessions);
    return json;
}
