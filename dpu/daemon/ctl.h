/* ovnic-dpud: the control socket, a JSON-RPC server on "punix:PATH".
 *
 * A thin user of shared/util/rpc_server.h, which bounds what a client can do
 * (connection limits with slots reserved for root and the daemon's own uid, idle and
 * request timeouts, an output cap past which a client that does not read is paused
 * and then closed) and answers malformed requests with an error.  Each valid request
 * {"method", "params": [ARGS], "id"} is passed to the handler, which answers at once
 * or later (ctl_reply(), ctl_reply_error()) through its connection serial number, so
 * that an answer for a client that has gone away is dropped.  The limits are in
 * docs/ovnic-dpud.md. */
#ifndef OVNIC_DPUD_CTL_H
#define OVNIC_DPUD_CTL_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "shared/util/err.h"

struct ctl_server;
struct poll_loop;

/** Handles request 'method' with 'params' (an array; borrowed) and 'id' (borrowed,
 * not null) from connection 'conn'.  Must eventually call ctl_reply() or
 * ctl_reply_error() with 'conn' and 'id'. */
typedef void (*ctl_request_cb)(void *aux, uint64_t conn, const char *method,
                               const json_t *params, const json_t *id);

/** Listens on 'path' (a unix socket path; a stale socket file is replaced) with
 * rpc_server_settings_default() and requests of up to 1 MiB.  Caller owns '*server'; free
 * with ctl_server_destroy(). Returns 0 or a negative errno ('err' says why). */
int ctl_server_create(struct poll_loop *loop, const char *path, ctl_request_cb cb,
                      void *aux, struct ctl_server **server, struct ovnic_err *err);

/** Closes every connection and the socket (removing its file); may be NULL. */
void ctl_server_destroy(struct ctl_server *server);

/** Sends the result 'result' (taken) for request 'id' (borrowed) on 'conn'. */
void ctl_reply(struct ctl_server *server, uint64_t conn, const json_t *id,
               json_t *result);

/** Sends an error reply {"error": 'message', "code": 'code'} (a negative errno). */
void ctl_reply_error(struct ctl_server *server, uint64_t conn, const json_t *id, int code,
                     const char *message);

/** True when no connection has output waiting. */
bool ctl_server_is_flushed(const struct ctl_server *server);

/** The server's counters (rpc_server_stats_to_json()).  Caller owns; NULL if out of
 * memory. */
json_t *ctl_server_stats_to_json(const struct ctl_server *server);

#endif /* OVNIC_DPUD_CTL_H */
