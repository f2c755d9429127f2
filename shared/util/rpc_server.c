/* ovnic: JSON-RPC server over a passive stream (see rpc_server.h). */
#include "shared/util/rpc_server.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "shared/util/json.h"
#include "shared/util/jsonrpc.h"
#include "shared/util/list.h"
#include "shared/util/log.h"
#include "shared/util/poll.h"
#include "shared/util/stream.h"
#include "shared/util/util.h"

OVNIC_LOG_MODULE(rpc_server);

struct rpc_conn {
    struct ovnic_list node; /* In 'server->conns'. */
    struct rpc_server *server;
    struct jsonrpc *rpc;
    uint64_t serial;
    int fd;
    uint32_t events;

    bool has_cred; /* A unix peer: 'pid' and 'uid' are known. */
    bool privileged;
    pid_t pid;
    uid_t uid;

    unsigned int pending;      /* Requests passed on and not answered yet. */
    uint64_t last_active_ms;   /* Last message received or answer sent. */
    uint64_t partial_since_ms; /* When a partial request was first seen; 0: none. */
    bool paused;               /* Not reading: too much output or pending. */
    uint64_t paused_since_ms;
    bool kick;                            /* Read again from the loop (buffered input). */
    enum rpc_server_close_reason closing; /* Close once output is flushed. */
    enum rpc_server_close_reason dead;    /* Close from the loop. */
};

struct rpc_server {
    struct poll_loop *loop;
    struct pstream *listener;
    struct rpc_server_settings s;
    rpc_server_request_cb cb;
    void *aux;
    struct rpc_server_hooks hooks;
    struct ovnic_list conns;
    size_t n_conns;
    uint64_t next_serial;
    uid_t euid;
    struct poll_timer deferred_timer; /* Reaps dead connections, reads kicked ones. */
    struct poll_timer sweep_timer;    /* Checks timeouts while connections exist. */
    uint64_t sweep_ms;
    struct rpc_server_stats stats;
};

static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(10, 20);

static void conn_refresh(struct rpc_conn *conn);

void
rpc_server_settings_default(struct rpc_server_settings *s)
{
    *s = (struct rpc_server_settings){
        .name = "rpc server",
        .max_msg = RPC_SERVER_MAX_MSG_DEFAULT,
        .max_conns = RPC_SERVER_MAX_CONNS_DEFAULT,
        .reserved_conns = RPC_SERVER_RESERVED_CONNS_DEFAULT,
        .max_conns_per_pid = RPC_SERVER_MAX_CONNS_PER_PID_DEFAULT,
        .max_conns_per_uid = RPC_SERVER_MAX_CONNS_PER_UID_DEFAULT,
        .max_pending = RPC_SERVER_MAX_PENDING_DEFAULT,
        .backlog_max = RPC_SERVER_BACKLOG_MAX_DEFAULT,
        .idle_timeout_ms = RPC_SERVER_IDLE_TIMEOUT_MS_DEFAULT,
        .request_timeout_ms = RPC_SERVER_REQUEST_TIMEOUT_MS_DEFAULT,
        .stall_timeout_ms = RPC_SERVER_STALL_TIMEOUT_MS_DEFAULT,
    };
}

/* ---- Request validation. ------------------------------------------------------ */

static int
request_error__(struct ovnic_err *err, const char *message, const char *detail)
{
    return ovnic_err_set(err, -EINVAL, "request", message, "%s", detail ? detail : "");
}

int
rpc_server_request_parse(const json_t *json, struct rpc_server_request *req,
                         struct ovnic_err *err)
{
    const json_t *method = NULL, *params = NULL, *id = NULL;
    bool is_reply = false;
    const char *key;
    json_t *value;

    if (!json_is_object(json)) {
        return request_error__(err, "not a JSON object", json_type_name(json));
    }
    json_object_foreach((json_t *)json, key, value)
    {
        if (!strcmp(key, "method")) {
            method = value;
        } else if (!strcmp(key, "params")) {
            params = value;
        } else if (!strcmp(key, "id")) {
            id = value;
        } else if (!strcmp(key, "result") || !strcmp(key, "error")) {
            is_reply = true;
        } else {
            return request_error__(err, "unexpected member", key);
        }
    }
    if (!method) {
        return request_error__(err, is_reply ? "a reply, not a request" : "no \"method\"",
                               NULL);
    }
    if (is_reply) {
        return request_error__(err, "a request has no \"result\" or \"error\"", NULL);
    }
    if (!json_is_string(method)) {
        return request_error__(err, "\"method\" is not a string", json_type_name(method));
    }
    if (!json_string_length(method) ||
        strlen(json_string_value(method)) != json_string_length(method)) {
        return request_error__(err, "\"method\" is empty or holds a NUL", NULL);
    }
    if (!params) {
        return request_error__(err, "no \"params\" (an array)", NULL);
    }
    if (!json_is_array(params)) {
        return request_error__(err, "\"params\" is not an array", json_type_name(params));
    }
    if (!id) {
        return request_error__(err, "no \"id\"", NULL);
    }
    if (json_is_null(id)) {
        return request_error__(err, "\"id\" is null: notifications are not accepted",
                               NULL);
    }
    req->method = json_string_value(method);
    req->params = params;
    req->id = id;
    return 0;
}

/* The id to answer a message with: its "id" if that is usable, else null. */
static const json_t *
answer_id__(const json_t *json)
{
    const json_t *id = json_object_get(json, "id");

    return id ? id : json_null();
}

/* ---- Connections. ------------------------------------------------------------- */

const char *
rpc_server_close_reason_to_string(enum rpc_server_close_reason reason)
{
    switch (reason) {
    case RPC_SERVER_CLOSE_NONE:
        return "none";
    case RPC_SERVER_CLOSE_PEER:
        return "closed by peer";
    case RPC_SERVER_CLOSE_IDLE:
        return "idle timeout";
    case RPC_SERVER_CLOSE_REQUEST_TIMEOUT:
        return "request timeout";
    case RPC_SERVER_CLOSE_STALLED:
        return "output stalled";
    case RPC_SERVER_CLOSE_PROTOCOL:
        return "protocol error";
    case RPC_SERVER_CLOSE_ERROR:
        return "I/O error";
    case RPC_SERVER_CLOSE_OWNER:
        return "closed by the server";
    }
    return "unknown";
}

static void
conn_count_close__(struct rpc_server *server, enum rpc_server_close_reason reason)
{
    struct rpc_server_stats *st = &server->stats;

    switch (reason) {
    case RPC_SERVER_CLOSE_NONE:
        break;
    case RPC_SERVER_CLOSE_PEER:
        st->closed_peer++;
        break;
    case RPC_SERVER_CLOSE_IDLE:
        st->closed_idle++;
        break;
    case RPC_SERVER_CLOSE_REQUEST_TIMEOUT:
        st->closed_request_timeout++;
        break;
    case RPC_SERVER_CLOSE_STALLED:
        st->closed_stalled++;
        break;
    case RPC_SERVER_CLOSE_PROTOCOL:
        st->closed_protocol++;
        break;
    case RPC_SERVER_CLOSE_ERROR:
        st->closed_error++;
        break;
    case RPC_SERVER_CLOSE_OWNER:
        st->closed_owner++;
        break;
    }
}

static void
conn_free(struct rpc_conn *conn)
{
    struct rpc_server *server = conn->server;

    poll_loop_fd_remove(server->loop, conn->fd);
    jsonrpc_close(conn->rpc);
    ovnic_list_remove(&conn->node);
    server->n_conns--;
    free(conn);
    if (!server->n_conns) {
        poll_timer_stop(server->loop, &server->sweep_timer);
    }
}

static void deferred_cb(struct poll_loop *loop OVNIC_UNUSED,
                        struct poll_timer *timer OVNIC_UNUSED, void *aux);

static void
deferred_schedule(struct rpc_server *server)
{
    if (!poll_timer_is_armed(&server->deferred_timer)) {
        poll_timer_start(server->loop, &server->deferred_timer, 0, deferred_cb, server);
    }
}

/* Marks 'conn' for closing from the loop, so that callers up the stack can still
 * touch it. */
static void
conn_kill(struct rpc_conn *conn, enum rpc_server_close_reason reason)
{
    if (conn->dead) {
        return;
    }
    conn->dead = reason;
    conn_count_close__(conn->server, reason);
    if (reason != RPC_SERVER_CLOSE_PEER) {
        OLOG_INFO_RL(&rl, "%s: closing connection %s (pid %d, uid %d): %s",
                     conn->server->s.name, jsonrpc_name(conn->rpc),
                     conn->has_cred ? (int)conn->pid : -1,
                     conn->has_cred ? (int)conn->uid : -1,
                     rpc_server_close_reason_to_string(reason));
    }
    deferred_schedule(conn->server);
}

static struct rpc_conn *
conn_find(struct rpc_server *server, uint64_t serial)
{
    struct rpc_conn *conn;

    LIST_FOR_EACH (conn, node, &server->conns) {
        if (conn->serial == serial) {
            return conn->dead ? NULL : conn;
        }
    }
    return NULL;
}

static enum rpc_server_close_reason
close_reason_of__(int error)
{
    return error == -EPIPE || error == -ECONNRESET ? RPC_SERVER_CLOSE_PEER
                                                   : RPC_SERVER_CLOSE_ERROR;
}

/* Queues 'msg' (taken), which answers one request of 'conn' if 'answers'. */
static int
conn_send_msg(struct rpc_conn *conn, struct jsonrpc_msg *msg, bool answers)
{
    int error = jsonrpc_send(conn->rpc, msg);

    if (answers && conn->pending) {
        conn->pending--;
    }
    conn->last_active_ms = time_msec();
    if (error) {
        conn_kill(conn, close_reason_of__(error));
    }
    return error;
}

static json_t *
error_json__(int code, const char *message)
{
    return json_pack("{s:s, s:i}", "error", message, "code", code);
}

/* An error of the server itself: its code as 'error_code' maps it. */
static json_t *
own_error_json__(const struct rpc_server *server, int code, const char *message)
{
    return error_json__(server->s.error_code ? server->s.error_code(code) : code,
                        message);
}

/* Answers on 'conn' with an error reply to 'id' (borrowed). */
static void
conn_send_error(struct rpc_conn *conn, const json_t *id, int code, const char *message)
{
    struct jsonrpc_msg *msg =
        jsonrpc_msg_create_error(own_error_json__(conn->server, code, message), id);

    if (msg) {
        conn_send_msg(conn, msg, false);
    }
}

static bool
conn_over_limits(const struct rpc_conn *conn)
{
    const struct rpc_server_settings *s = &conn->server->s;

    return (s->backlog_max && jsonrpc_backlog(conn->rpc) >= s->backlog_max) ||
           (s->max_pending && conn->pending >= s->max_pending);
}

static bool
conn_can_resume(const struct rpc_conn *conn)
{
    const struct rpc_server_settings *s = &conn->server->s;

    return (!s->backlog_max || jsonrpc_backlog(conn->rpc) <= s->backlog_max / 2) &&
           (!s->max_pending || conn->pending < s->max_pending);
}

static void
conn_pause(struct rpc_conn *conn)
{
    static struct ovnic_ratelimit pause_rl = OVNIC_RATELIMIT_INIT(5, 10);

    conn->paused = true;
    conn->paused_since_ms = time_msec();
    conn->partial_since_ms = 0; /* Not the peer's fault while we do not read. */
    conn->server->stats.pauses++;
    OLOG_DBG_RL(&pause_rl,
                "%s: %s: reading paused (%zu bytes of output queued, %u answers "
                "pending)",
                conn->server->s.name, jsonrpc_name(conn->rpc), jsonrpc_backlog(conn->rpc),
                conn->pending);
}

/* Reads and dispatches requests until none is complete, the connection is paused
 * or closing, or it dies. */
static void
conn_read(struct rpc_conn *conn)
{
    struct rpc_server *server = conn->server;
    unsigned int n = 0;

    while (!conn->dead && !conn->paused && !conn->closing) {
        struct rpc_server_request req;
        struct ovnic_err err = {0};
        json_t *json = NULL;
        char text[384];
        int error;

        if (server->s.max_batch && n++ >= server->s.max_batch) {
            /* This connection's turn is over: the rest after the others'. */
            conn->kick = true;
            deferred_schedule(server);
            break;
        }
        error = jsonrpc_recv_json(conn->rpc, &json, &err);
        if (error == -EAGAIN) {
            break;
        }
        if (error == -EPROTO || error == -EMSGSIZE) {
            OLOG_WARN_RL(&rl, "%s: %s: %s", server->s.name, jsonrpc_name(conn->rpc),
                         ovnic_err_format(&err, text, sizeof text));
            if (!jsonrpc_status(conn->rpc)) {
                char message[OVNIC_ERR_DETAIL_LEN + 64];

                snprintf(message, sizeof message, "%s%s%s",
                         err.message ? err.message : "bad message",
                         err.detail[0] ? ": " : "", err.detail);
                conn_send_error(conn, json_null(), error, message);
                conn->closing = RPC_SERVER_CLOSE_PROTOCOL;
            } else {
                conn_kill(conn, RPC_SERVER_CLOSE_PROTOCOL);
            }
            break;
        }
        if (error == -EPIPE && jsonrpc_backlog(conn->rpc)) {
            /* The peer has finished sending: flush what it may still read. */
            conn->closing = RPC_SERVER_CLOSE_PEER;
            break;
        }
        if (error) {
            conn_kill(conn, close_reason_of__(error));
            break;
        }
        conn->last_active_ms = time_msec();
        conn->partial_since_ms = 0;
        error = rpc_server_request_parse(json, &req, &err);
        if (error) {
            char message[OVNIC_ERR_DETAIL_LEN + 64];

            server->stats.bad_requests++;
            snprintf(message, sizeof message, "bad request: %s%s%s", err.message,
                     err.detail[0] ? ": " : "", err.detail);
            OLOG_DBG_RL(&rl, "%s: %s: %s", server->s.name, jsonrpc_name(conn->rpc),
                        message);
            conn_send_error(conn, answer_id__(json), -EINVAL, message);
            if (server->s.close_on_bad_request && !conn->dead) {
                conn->closing = RPC_SERVER_CLOSE_PROTOCOL;
            }
        } else {
            server->stats.requests++;
            conn->pending++;
            server->cb(server->aux, conn->serial, &req);
        }
        json_decref(json);
        if (!conn->dead && conn_over_limits(conn)) {
            conn_pause(conn);
        }
    }
    if (!conn->dead && !conn->paused && !conn->partial_since_ms &&
        jsonrpc_is_receiving(conn->rpc)) {
        conn->partial_since_ms = time_msec();
    }
}

static void
conn_update_events(struct rpc_conn *conn)
{
    uint32_t events;

    if (conn->dead) {
        return;
    }
    events = conn->paused || conn->closing
                 ? jsonrpc_poll_events_send(conn->rpc)
                 : jsonrpc_poll_events(conn->rpc) | OVNIC_POLL_IN;
    if (events != conn->events) {
        conn->events = events;
        poll_loop_fd_modify(conn->server->loop, conn->fd, events);
    }
}

/* Re-evaluates 'conn' after output was queued or flushed, or an answer sent. */
static void
conn_refresh(struct rpc_conn *conn)
{
    if (conn->dead) {
        return;
    }
    if (conn->closing && !jsonrpc_backlog(conn->rpc)) {
        conn_kill(conn, conn->closing);
        return;
    }
    if (conn->paused && conn_can_resume(conn)) {
        conn->paused = false;
        /* Input may wait in the connection's buffer, which no fd event reports. */
        conn->kick = true;
        deferred_schedule(conn->server);
    }
    conn_update_events(conn);
}

static void
conn_cb(struct poll_loop *loop OVNIC_UNUSED, int fd OVNIC_UNUSED, uint32_t events,
        void *aux)
{
    struct rpc_conn *conn = aux;
    int error;

    if (conn->dead) {
        return;
    }
    error = jsonrpc_run(conn->rpc);
    if (error) {
        conn_kill(conn, close_reason_of__(error));
        return;
    }
    if ((conn->paused || conn->closing) && (events & (OVNIC_POLL_HUP | OVNIC_POLL_ERR))) {
        /* Not reading, so a peer that has gone would be reported again and again. */
        conn_kill(conn, events & OVNIC_POLL_ERR ? RPC_SERVER_CLOSE_ERROR
                                                : RPC_SERVER_CLOSE_PEER);
        return;
    }
    conn_refresh(conn);
    if (!conn->dead && !conn->paused && !conn->closing) {
        conn->kick = false;
        conn_read(conn);
        conn_refresh(conn);
    }
}

static void
deferred_cb(struct poll_loop *loop OVNIC_UNUSED, struct poll_timer *timer OVNIC_UNUSED,
            void *aux)
{
    struct rpc_server *server = aux;
    struct rpc_conn *conn, *next;

    LIST_FOR_EACH_SAFE (conn, next, node, &server->conns) {
        if (!conn->dead && conn->kick) {
            conn->kick = false;
            conn_read(conn);
            conn_refresh(conn);
        }
    }
    LIST_FOR_EACH_SAFE (conn, next, node, &server->conns) {
        if (conn->dead) {
            uint64_t serial = conn->serial;
            enum rpc_server_close_reason reason = conn->dead;

            conn_free(conn);
            if (server->hooks.conn_close) {
                server->hooks.conn_close(server->aux, serial, reason);
            }
        }
    }
}

static void
conn_check_timeouts(struct rpc_conn *conn, uint64_t now)
{
    static struct ovnic_ratelimit stall_rl = OVNIC_RATELIMIT_INIT(5, 10);
    const struct rpc_server_settings *s = &conn->server->s;
    size_t backlog = jsonrpc_backlog(conn->rpc);

    if ((conn->paused || conn->closing) && backlog && s->stall_timeout_ms) {
        uint64_t since = MAX(jsonrpc_last_tx_msec(conn->rpc), conn->paused_since_ms);

        if (now - since >= s->stall_timeout_ms) {
            OLOG_WARN_RL(&stall_rl,
                         "%s: %s: output stuck for %" PRIu64 " ms with %zu bytes queued:"
                         " closing",
                         s->name, jsonrpc_name(conn->rpc), now - since, backlog);
            conn_kill(conn, conn->closing ? conn->closing : RPC_SERVER_CLOSE_STALLED);
        }
        return;
    }
    if (conn->paused || conn->closing) {
        return;
    }
    if (conn->partial_since_ms && s->request_timeout_ms &&
        now - conn->partial_since_ms >= s->request_timeout_ms) {
        char message[128];

        snprintf(message, sizeof message,
                 "request incomplete after %" PRIu64 " ms: closing the connection",
                 now - conn->partial_since_ms);
        conn_send_error(conn, json_null(), -ETIMEDOUT, message);
        conn->closing = RPC_SERVER_CLOSE_REQUEST_TIMEOUT;
        conn->paused_since_ms = now;
        conn_refresh(conn);
        return;
    }
    if (!conn->partial_since_ms && !conn->pending && !backlog && s->idle_timeout_ms &&
        now - conn->last_active_ms >= s->idle_timeout_ms) {
        conn_kill(conn, RPC_SERVER_CLOSE_IDLE);
    }
}

static void
sweep_cb(struct poll_loop *loop, struct poll_timer *timer OVNIC_UNUSED, void *aux)
{
    struct rpc_server *server = aux;
    uint64_t now = time_msec();
    struct rpc_conn *conn;

    LIST_FOR_EACH (conn, node, &server->conns) {
        if (!conn->dead) {
            conn_check_timeouts(conn, now);
        }
    }
    if (server->n_conns) {
        poll_timer_start(loop, &server->sweep_timer, server->sweep_ms, sweep_cb, server);
    }
}

/* ---- Accepting. --------------------------------------------------------------- */

/* Answers the peer of 'stream' (taken) with a refusal, then closes it. */
static void
refuse(struct rpc_server *server, struct stream *stream, const char *message)
{
    struct jsonrpc_msg *msg;
    struct jsonrpc *rpc;
    json_t *json = NULL;

    if (jsonrpc_open(stream, server->s.max_msg, &rpc)) {
        return;
    }
    /* The peer has usually sent its request already: answer it by its id. */
    if (!jsonrpc_run(rpc)) {
        jsonrpc_recv_json(rpc, &json, NULL);
    }
    msg = jsonrpc_msg_create_error(own_error_json__(server, -EBUSY, message),
                                   answer_id__(json));
    json_decref(json);
    if (msg) {
        jsonrpc_send(rpc, msg);
    }
    jsonrpc_close(rpc);
}

static void
peer_cred(struct rpc_conn *conn, int fd, uid_t euid)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    int domain;
    socklen_t dlen = sizeof domain;

    if (!getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dlen) && domain == AF_UNIX &&
        !getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) && cred.pid > 0) {
        conn->has_cred = true;
        conn->pid = cred.pid;
        conn->uid = cred.uid;
        conn->privileged = cred.uid == 0 || cred.uid == euid;
    }
}

/* Whether 'conn' (not yet listed) may join; if not, writes why into 'buf'. */
static bool
admit(struct rpc_server *server, const struct rpc_conn *conn, char *buf, size_t size)
{
    const struct rpc_server_settings *s = &server->s;
    unsigned int n_pid = 0, n_uid = 0;
    const struct rpc_conn *c;

    if (server->n_conns >= s->max_conns) {
        server->stats.refused_full++;
        snprintf(buf, size, "too many connections: %zu open (limit %u)", server->n_conns,
                 s->max_conns);
        return false;
    }
    if (!conn->privileged && s->reserved_conns &&
        server->n_conns + s->reserved_conns >= s->max_conns) {
        server->stats.refused_reserved++;
        snprintf(buf, size,
                 "too many connections: %zu open, the last %u of %u are reserved for "
                 "privileged clients",
                 server->n_conns, s->reserved_conns, s->max_conns);
        return false;
    }
    if (!conn->has_cred) {
        return true;
    }
    LIST_FOR_EACH (c, node, &server->conns) {
        if (!c->dead && c->has_cred) {
            n_pid += c->pid == conn->pid;
            n_uid += c->uid == conn->uid;
        }
    }
    if (s->max_conns_per_pid && n_pid >= s->max_conns_per_pid) {
        server->stats.refused_peer++;
        snprintf(buf, size, "too many connections from process %d: %u open (limit %u)",
                 (int)conn->pid, n_pid, s->max_conns_per_pid);
        return false;
    }
    if (!conn->privileged && s->max_conns_per_uid && n_uid >= s->max_conns_per_uid) {
        server->stats.refused_peer++;
        snprintf(buf, size, "too many connections from uid %d: %u open (limit %u)",
                 (int)conn->uid, n_uid, s->max_conns_per_uid);
        return false;
    }
    return true;
}

static void
accept_cb(struct poll_loop *loop, int fd OVNIC_UNUSED, uint32_t events OVNIC_UNUSED,
          void *aux)
{
    struct rpc_server *server = aux;

    for (;;) {
        struct stream *stream = NULL;
        struct rpc_conn *conn;
        char why[192];
        int error = pstream_accept(server->listener, &stream);

        if (error) {
            if (error != -EAGAIN) {
                OLOG_WARN_RL(&rl, "%s: accept: %s", server->s.name, strerror(-error));
            }
            return;
        }
        conn = calloc(1, sizeof *conn);
        if (!conn) {
            stream_close(stream);
            continue;
        }
        conn->server = server;
        conn->fd = stream_fd(stream);
        peer_cred(conn, conn->fd, server->euid);
        if (!admit(server, conn, why, sizeof why)) {
            OLOG_WARN_RL(&rl, "%s: refused a connection from %s (pid %d, uid %d): %s",
                         server->s.name, stream_name(stream),
                         conn->has_cred ? (int)conn->pid : -1,
                         conn->has_cred ? (int)conn->uid : -1, why);
            free(conn);
            refuse(server, stream, why);
            continue;
        }
        if (jsonrpc_open(stream, server->s.max_msg, &conn->rpc)) {
            free(conn);
            continue;
        }
        conn->serial = ++server->next_serial;
        conn->events = OVNIC_POLL_IN;
        conn->last_active_ms = time_msec();
        if (poll_loop_fd_add(loop, conn->fd, conn->events, conn_cb, conn)) {
            jsonrpc_close(conn->rpc);
            free(conn);
            continue;
        }
        ovnic_list_push_back(&server->conns, &conn->node);
        server->n_conns++;
        server->stats.accepted++;
        if (!poll_timer_is_armed(&server->sweep_timer)) {
            poll_timer_start(loop, &server->sweep_timer, server->sweep_ms, sweep_cb,
                             server);
        }
        if (server->hooks.conn_open) {
            server->hooks.conn_open(server->aux, conn->serial);
        }
    }
}

/* ---- Server. ------------------------------------------------------------------ */

static uint64_t
sweep_interval__(const struct rpc_server_settings *s)
{
    uint64_t t[] = {s->idle_timeout_ms, s->request_timeout_ms, s->stall_timeout_ms};
    uint64_t min = 0;

    for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
        if (t[i] && (!min || t[i] < min)) {
            min = t[i];
        }
    }
    return min ? MIN(MAX(min / 4, 10), 1000) : 1000;
}

int
rpc_server_create(struct poll_loop *loop, const char *name, const struct tls_config *tls,
                  const struct rpc_server_settings *settings, rpc_server_request_cb cb,
                  void *aux, struct rpc_server **serverp, struct ovnic_err *err)
{
    struct rpc_server *server = calloc(1, sizeof *server);
    int error;

    if (!server) {
        return ovnic_err_set(err, -ENOMEM, name, "out of memory", NULL);
    }
    if (settings) {
        server->s = *settings;
    } else {
        rpc_server_settings_default(&server->s);
    }
    if (!server->s.name) {
        server->s.name = "rpc server";
    }
    if (!server->s.max_msg) {
        server->s.max_msg = RPC_SERVER_MAX_MSG_DEFAULT;
    }
    if (!server->s.max_conns) {
        server->s.max_conns = RPC_SERVER_MAX_CONNS_DEFAULT;
    }
    server->sweep_ms = sweep_interval__(&server->s);
    error = pstream_open(name, tls, &server->listener, err);
    if (error) {
        free(server);
        return error;
    }
    server->loop = loop;
    server->cb = cb;
    server->aux = aux;
    server->euid = geteuid();
    ovnic_list_init(&server->conns);
    poll_timer_init(&server->deferred_timer);
    poll_timer_init(&server->sweep_timer);
    error = poll_loop_fd_add(loop, pstream_fd(server->listener), OVNIC_POLL_IN, accept_cb,
                             server);
    if (error) {
        pstream_close(server->listener);
        free(server);
        return ovnic_err_set(err, error, name, "cannot watch socket", NULL);
    }
    *serverp = server;
    return 0;
}

void
rpc_server_destroy(struct rpc_server *server)
{
    struct rpc_conn *conn, *next;

    if (!server) {
        return;
    }
    LIST_FOR_EACH_SAFE (conn, next, node, &server->conns) {
        conn_free(conn);
    }
    poll_timer_stop(server->loop, &server->deferred_timer);
    poll_timer_stop(server->loop, &server->sweep_timer);
    poll_loop_fd_remove(server->loop, pstream_fd(server->listener));
    pstream_close(server->listener);
    free(server);
}

int
rpc_server_send(struct rpc_server *server, uint64_t serial, struct jsonrpc_msg *msg)
{
    struct rpc_conn *conn = conn_find(server, serial);
    int error;

    if (!msg) {
        return -ENOMEM;
    }
    if (!conn) {
        jsonrpc_msg_destroy(msg);
        return -ENOENT;
    }
    error = conn_send_msg(conn, msg,
                          msg->type == JSONRPC_REPLY || msg->type == JSONRPC_ERROR);
    conn_refresh(conn);
    return error;
}

int
rpc_server_reply(struct rpc_server *server, uint64_t conn, const json_t *id,
                 json_t *result)
{
    return rpc_server_send(server, conn,
                           jsonrpc_msg_create_reply(result ? result : json_null(), id));
}

int
rpc_server_reply_error(struct rpc_server *server, uint64_t conn, const json_t *id,
                       int code, const char *message)
{
    return rpc_server_send(server, conn,
                           jsonrpc_msg_create_error(error_json__(code, message), id));
}

void
rpc_server_set_hooks(struct rpc_server *server, const struct rpc_server_hooks *hooks)
{
    server->hooks = *hooks;
}

int
rpc_server_close(struct rpc_server *server, uint64_t serial)
{
    struct rpc_conn *conn = conn_find(server, serial);

    if (!conn) {
        return -ENOENT;
    }
    if (!conn->closing) {
        conn->closing = RPC_SERVER_CLOSE_OWNER;
        /* The stall timeout counts from now, as for a paused connection. */
        conn->paused_since_ms = time_msec();
    }
    conn_refresh(conn);
    return 0;
}

const char *
rpc_server_conn_peer_name(const struct rpc_server *server, uint64_t serial)
{
    struct rpc_conn *conn = conn_find((struct rpc_server *)server, serial);

    return conn ? stream_peer_name(jsonrpc_stream(conn->rpc)) : NULL;
}

uint16_t
rpc_server_port(const struct rpc_server *server)
{
    return pstream_port(server->listener);
}

const char *
rpc_server_conn_name(const struct rpc_server *server, uint64_t serial)
{
    struct rpc_conn *conn = conn_find((struct rpc_server *)server, serial);

    return conn ? jsonrpc_name(conn->rpc) : NULL;
}

bool
rpc_server_is_flushed(const struct rpc_server *server)
{
    const struct rpc_conn *conn;

    LIST_FOR_EACH (conn, node, &server->conns) {
        if (!conn->dead && jsonrpc_backlog(conn->rpc)) {
            return false;
        }
    }
    return true;
}

void
rpc_server_get_stats(const struct rpc_server *server, struct rpc_server_stats *stats)
{
    const struct rpc_conn *conn;

    *stats = server->stats;
    stats->conns = stats->paused_conns = stats->backlog = 0;
    LIST_FOR_EACH (conn, node, &server->conns) {
        if (!conn->dead) {
            stats->conns++;
            stats->paused_conns += conn->paused;
            stats->backlog += jsonrpc_backlog(conn->rpc);
        }
    }
}

json_t *
rpc_server_stats_to_json(const struct rpc_server_stats *st)
{
    return json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:{s:I, s:I, s:I},"
        " s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
        "connections", (json_int_t)st->conns, "paused", (json_int_t)st->paused_conns,
        "backlog", (json_int_t)st->backlog, "pauses", (json_int_t)st->pauses, "accepted",
        (json_int_t)st->accepted, "requests", (json_int_t)st->requests, "bad_requests",
        (json_int_t)st->bad_requests, "refused", "full", (json_int_t)st->refused_full,
        "reserved", (json_int_t)st->refused_reserved, "peer",
        (json_int_t)st->refused_peer, "closed", "peer", (json_int_t)st->closed_peer,
        "idle", (json_int_t)st->closed_idle, "request_timeout",
        (json_int_t)st->closed_request_timeout, "stalled", (json_int_t)st->closed_stalled,
        "protocol", (json_int_t)st->closed_protocol, "error",
        (json_int_t)st->closed_error, "owner", (json_int_t)st->closed_owner);
}
