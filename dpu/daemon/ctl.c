/* ovnic-dpud: control socket server (see ctl.h). */
#include "ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dpu/ovsdb/jsonrpc.h"
#include "shared/util/list.h"
#include "shared/util/log.h"
#include "shared/util/poll.h"
#include "shared/util/stream.h"

OVNIC_LOG_MODULE(ctl);

#define CTL_MAX_MSG (1u << 20)
#define CTL_MAX_CONNS 64

struct ctl_conn {
    struct ovnic_list node;
    struct ctl_server *server;
    struct jsonrpc *rpc;
    uint64_t serial;
    int fd;
    uint32_t events;
    bool dead;
};

struct ctl_server {
    struct poll_loop *loop;
    struct pstream *listener;
    ctl_request_cb cb;
    void *aux;
    struct ovnic_list conns;
    size_t n_conns;
    uint64_t next_serial;
    struct poll_timer reap_timer;
};

static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(10, 20);

static void conn_update_events(struct ctl_conn *conn);

static void
conn_close(struct ctl_conn *conn)
{
    struct ctl_server *server = conn->server;

    poll_loop_fd_remove(server->loop, conn->fd);
    jsonrpc_close(conn->rpc);
    ovnic_list_remove(&conn->node);
    server->n_conns--;
    free(conn);
}

static void
reap_cb(struct poll_loop *loop OVNIC_UNUSED, struct poll_timer *timer OVNIC_UNUSED,
        void *aux)
{
    struct ctl_server *server = aux;
    struct ctl_conn *conn, *next;

    LIST_FOR_EACH_SAFE (conn, next, node, &server->conns) {
        if (conn->dead) {
            conn_close(conn);
        }
    }
}

/* Marks 'conn' for closing from the loop, so that callers up the stack can still
 * touch it. */
static void
conn_kill(struct ctl_conn *conn)
{
    conn->dead = true;
    poll_timer_start(conn->server->loop, &conn->server->reap_timer, 0, reap_cb,
                     conn->server);
}

static struct ctl_conn *
conn_find(struct ctl_server *server, uint64_t serial)
{
    struct ctl_conn *conn;

    LIST_FOR_EACH (conn, node, &server->conns) {
        if (conn->serial == serial && !conn->dead) {
            return conn;
        }
    }
    return NULL;
}

static void
conn_send(struct ctl_server *server, uint64_t serial, struct jsonrpc_msg *msg)
{
    struct ctl_conn *conn = conn_find(server, serial);

    if (!conn) {
        jsonrpc_msg_destroy(msg);
        return;
    }
    if (jsonrpc_send(conn->rpc, msg)) {
        conn_kill(conn);
        return;
    }
    conn_update_events(conn);
}

void
ctl_reply(struct ctl_server *server, uint64_t conn, const json_t *id, json_t *result)
{
    struct jsonrpc_msg *msg = jsonrpc_msg_create_reply(result ? result : json_null(), id);

    if (msg) {
        conn_send(server, conn, msg);
    }
}

void
ctl_reply_error(struct ctl_server *server, uint64_t conn, const json_t *id, int code,
                const char *message)
{
    struct jsonrpc_msg *msg = jsonrpc_msg_create_error(
        json_pack("{s:s, s:i}", "error", message, "code", code), id);

    if (msg) {
        conn_send(server, conn, msg);
    }
}

static void
conn_handle(struct ctl_conn *conn)
{
    struct ctl_server *server = conn->server;

    while (!conn->dead) {
        struct jsonrpc_msg *msg = NULL;
        struct ovnic_err err = {0};
        int error = jsonrpc_recv(conn->rpc, &msg, &err);

        if (error == -EAGAIN) {
            break;
        }
        if (error) {
            if (error != -EPIPE) {
                char buf[256];

                OLOG_WARN_RL(&rl, "control connection: %s",
                             ovnic_err_format(&err, buf, sizeof buf));
            }
            conn_kill(conn);
            return;
        }
        if (msg->type != JSONRPC_REQUEST) {
            OLOG_WARN_RL(&rl, "control connection: unexpected %s",
                         jsonrpc_msg_type_to_string(msg->type));
            jsonrpc_msg_destroy(msg);
            conn_kill(conn);
            return;
        }
        server->cb(server->aux, conn->serial, msg->method, msg->params, msg->id);
        jsonrpc_msg_destroy(msg);
    }
}

static void
conn_cb(struct poll_loop *loop OVNIC_UNUSED, int fd OVNIC_UNUSED, uint32_t events,
        void *aux)
{
    struct ctl_conn *conn = aux;

    if (conn->dead) {
        return;
    }
    if (jsonrpc_run(conn->rpc)) {
        conn_kill(conn);
        return;
    }
    if (events & (OVNIC_POLL_IN | OVNIC_POLL_HUP | OVNIC_POLL_ERR)) {
        conn_handle(conn);
    }
    if (!conn->dead) {
        conn_update_events(conn);
    }
}

static void
conn_update_events(struct ctl_conn *conn)
{
    uint32_t events = jsonrpc_poll_events(conn->rpc) | OVNIC_POLL_IN;

    if (events != conn->events) {
        conn->events = events;
        poll_loop_fd_modify(conn->server->loop, conn->fd, events);
    }
}

static void
accept_cb(struct poll_loop *loop, int fd OVNIC_UNUSED, uint32_t events OVNIC_UNUSED,
          void *aux)
{
    struct ctl_server *server = aux;

    for (;;) {
        struct stream *stream = NULL;
        struct ctl_conn *conn;
        int error = pstream_accept(server->listener, &stream);

        if (error) {
            if (error != -EAGAIN) {
                OLOG_WARN_RL(&rl, "control socket accept: %s", strerror(-error));
            }
            return;
        }
        if (server->n_conns >= CTL_MAX_CONNS) {
            OLOG_WARN_RL(&rl, "control socket: too many connections");
            stream_close(stream);
            continue;
        }
        conn = calloc(1, sizeof *conn);
        if (!conn) {
            stream_close(stream);
            continue;
        }
        conn->fd = stream_fd(stream);
        if (jsonrpc_open(stream, CTL_MAX_MSG, &conn->rpc)) {
            free(conn);
            continue;
        }
        conn->server = server;
        conn->serial = ++server->next_serial;
        conn->events = OVNIC_POLL_IN;
        if (poll_loop_fd_add(loop, conn->fd, conn->events, conn_cb, conn)) {
            jsonrpc_close(conn->rpc);
            free(conn);
            continue;
        }
        ovnic_list_push_back(&server->conns, &conn->node);
        server->n_conns++;
    }
}

int
ctl_server_create(struct poll_loop *loop, const char *path, ctl_request_cb cb, void *aux,
                  struct ctl_server **serverp, struct ovnic_err *err)
{
    struct ctl_server *server = calloc(1, sizeof *server);
    char *name = NULL;
    int error;

    if (!server || asprintf(&name, "punix:%s", path) < 0) {
        free(server);
        return -ENOMEM;
    }
    /* A socket file left by a daemon that did not exit cleanly. */
    unlink(path);
    error = pstream_open(name, NULL, &server->listener, err);
    free(name);
    if (error) {
        free(server);
        return error;
    }
    server->loop = loop;
    server->cb = cb;
    server->aux = aux;
    ovnic_list_init(&server->conns);
    poll_timer_init(&server->reap_timer);
    error = poll_loop_fd_add(loop, pstream_fd(server->listener), OVNIC_POLL_IN, accept_cb,
                             server);
    if (error) {
        pstream_close(server->listener);
        free(server);
        return ovnic_err_set(err, error, "control socket", "cannot watch socket", NULL);
    }
    *serverp = server;
    return 0;
}

void
ctl_server_destroy(struct ctl_server *server)
{
    struct ctl_conn *conn, *next;

    if (!server) {
        return;
    }
    LIST_FOR_EACH_SAFE (conn, next, node, &server->conns) {
        conn_close(conn);
    }
    poll_timer_stop(server->loop, &server->reap_timer);
    poll_loop_fd_remove(server->loop, pstream_fd(server->listener));
    pstream_close(server->listener);
    free(server);
}

bool
ctl_server_is_flushed(const struct ctl_server *server)
{
    struct ctl_conn *conn;

    LIST_FOR_EACH (conn, node, &server->conns) {
        if (!conn->dead && jsonrpc_backlog(conn->rpc)) {
            return false;
        }
    }
    return true;
}
