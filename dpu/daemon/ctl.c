/* ovnic-dpud: control socket server (see ctl.h). */
#include "ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "shared/util/rpc_server.h"

struct ctl_server {
    struct rpc_server *rpc;
    ctl_request_cb cb;
    void *aux;
};

#define CTL_MAX_MSG ((size_t)1 << 20)

static void
request_cb(void *aux, uint64_t conn, const struct rpc_server_request *req)
{
    struct ctl_server *server = aux;

    server->cb(server->aux, conn, req->method, req->params, req->id);
}

int
ctl_server_create(struct poll_loop *loop, const char *path, ctl_request_cb cb, void *aux,
                  struct ctl_server **serverp, struct ovnic_err *err)
{
    struct ctl_server *server = calloc(1, sizeof *server);
    struct rpc_server_settings settings;
    char *name = NULL;
    int error;

    if (!server || asprintf(&name, "punix:%s", path) < 0) {
        free(server);
        return ovnic_err_set(err, -ENOMEM, "control socket", "out of memory", NULL);
    }
    server->cb = cb;
    server->aux = aux;
    rpc_server_settings_default(&settings);
    settings.name = "control socket";
    settings.max_msg = CTL_MAX_MSG;
    /* A socket file left by a daemon that did not exit cleanly. */
    unlink(path);
    error = rpc_server_create(loop, name, NULL, &settings, request_cb, server,
                              &server->rpc, err);
    free(name);
    if (error) {
        free(server);
        return error;
    }
    *serverp = server;
    return 0;
}

void
ctl_server_destroy(struct ctl_server *server)
{
    if (server) {
        rpc_server_destroy(server->rpc);
        free(server);
    }
}

void
ctl_reply(struct ctl_server *server, uint64_t conn, const json_t *id, json_t *result)
{
    rpc_server_reply(server->rpc, conn, id, result);
}

void
ctl_reply_error(struct ctl_server *server, uint64_t conn, const json_t *id, int code,
                const char *message)
{
    rpc_server_reply_error(server->rpc, conn, id, code, message);
}

bool
ctl_server_is_flushed(const struct ctl_server *server)
{
    return rpc_server_is_flushed(server->rpc);
}

json_t *
ctl_server_stats_to_json(const struct ctl_server *server)
{
    struct rpc_server_stats stats;

    rpc_server_get_stats(server->rpc, &stats);
    return rpc_server_stats_to_json(&stats);
}
