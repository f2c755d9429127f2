/* ovnic-nicsim: a blocking client of the control socket, for ovnic-sim and tests.
 *
 * The protocol is JSON-RPC 1.0 as OVSDB frames it (JSON objects back to back on a
 * unix stream socket); docs/ovnic-nicsim.md lists the methods.  An error reply
 * carries {"error": TEXT, "details": TEXT, "errno": -N, "type": T, "index": I}. */
#ifndef OVNIC_NICSIM_CTL_CLIENT_H
#define OVNIC_NICSIM_CTL_CLIENT_H 1

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/util/err.h"

struct nicsim_client;

/** Connects to the control socket at 'path', waiting up to 'timeout_ms' for each
 * later call.  Caller owns '*clientp'; free with nicsim_client_close().  Returns 0 or
 * a negative errno (-ENOENT, -ECONNREFUSED...) with 'err' set. */
int nicsim_client_open(const char *path, int timeout_ms, struct nicsim_client **clientp,
                       struct ovnic_err *err);

void nicsim_client_close(struct nicsim_client *client);

/** Calls 'method' with 'params' (an array, or NULL for []; takes ownership).  On
 * success stores the result in '*result' (caller owns; json_decref()).  Returns 0,
 * the negative errno of an error reply (its "errno", else -EIO) with 'err' holding its
 * text, -ETIMEDOUT, -EPROTO (a malformed reply), or the errno that broke the
 * connection. */
int nicsim_client_call(struct nicsim_client *client, const char *method, json_t *params,
                       json_t **result, struct ovnic_err *err);

/** Lower-case hex of 'len' bytes.  Caller owns; free().  NULL if out of memory. */
char *nicsim_hex_encode(const void *data, size_t len);

/** Decodes hex text 'hex' (an even number of hex digits).  Caller owns '*bufp'; free().
 * Returns 0, -EINVAL or -ENOMEM. */
int nicsim_hex_decode(const char *hex, uint8_t **bufp, size_t *lenp);

#endif /* OVNIC_NICSIM_CTL_CLIENT_H */
