/* ovnic: a blocking JSON-RPC client over a stream (see stream.h).
 *
 * One request at a time: rpc_client_call() sends a request and waits, with poll(2),
 * for the reply that carries its id, or for an error reply with a null id (a server
 * that refuses the connection, or cannot parse the request, answers so).  Values with
 * another id (notifications, late replies to requests that timed out) are read and
 * dropped.  Objects with duplicate member names are refused as malformed (-EPROTO).
 * Messages are JSON objects back to back, as OVSDB frames JSON-RPC 1.0; one reply may be
 * at most RPC_CLIENT_MAX_REPLY bytes. */
#ifndef OVNIC_UTIL_RPC_CLIENT_H
#define OVNIC_UTIL_RPC_CLIENT_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "shared/util/err.h"

#define RPC_CLIENT_MAX_REPLY ((size_t)64 << 20)

struct rpc_client;

/** Connects to 'remote' (a stream.h remote without TLS: unix:PATH or tcp:IP:PORT),
 * waiting up to 'timeout_ms' (> 0) for the connection; every later call waits up to
 * 'timeout_ms' as well.  Caller owns '*clientp'; free with rpc_client_close().
 * Returns 0, -EINVAL (bad 'timeout_ms' or remote), -ENOMEM, -ETIMEDOUT, or the errno
 * of the failed connection (-ENOENT, -ECONNREFUSED...), with 'err' (may be NULL) set. */
int rpc_client_open(const char *remote, int timeout_ms, struct rpc_client **clientp,
                    struct ovnic_err *err);

/** Closes and frees 'client' (may be NULL). */
void rpc_client_close(struct rpc_client *client);

/** Sends the request 'method' with 'params' (takes ownership; NULL: an empty array) and
 * waits for its reply.  On success stores the whole reply object in '*reply' (caller
 * owns; json_decref()): the caller examines its "result" and "error".  Returns 0,
 * -ETIMEDOUT (no reply in time), -EPROTO (bytes that are no JSON object or array),
 * -EMSGSIZE (a reply larger than RPC_CLIENT_MAX_REPLY), -ECONNRESET (the peer closed
 * the connection), -ENOMEM, -ENOTCONN (the connection broke in an earlier call), or
 * the errno of the stream (-EPIPE...), with 'err' (may be NULL) set.  A timeout while
 * waiting for the reply keeps the connection (a late reply is dropped); any other
 * failure during the exchange closes it: see rpc_client_is_connected(). */
int rpc_client_call(struct rpc_client *client, const char *method, json_t *params,
                    json_t **reply, struct ovnic_err *err);

/** False once a failure has closed the connection of 'client'; open a new client to
 * go on. */
bool rpc_client_is_connected(const struct rpc_client *client);

#endif /* OVNIC_UTIL_RPC_CLIENT_H */
