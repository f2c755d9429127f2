/* ovnic: JSON-RPC 1.0 as OVSDB uses it (RFC 7047 section 4), over a byte stream.
 *
 * Three layers, usable on their own:
 *
 * - The framer splits a byte stream into concatenated JSON objects.  OVSDB puts no
 *   delimiter between messages, so the framer tracks nesting depth, strings and
 *   escapes to find where each top-level value ends, then hands exactly that span to
 *   jansson.  Input may arrive in pieces of any size, several messages per piece.
 *
 * - Messages: request {"method", "params", "id"}, notification (a request whose id
 *   is null or absent), reply {"result", "error": null, "id"} and error reply
 *   {"error", "id"}, parsed with strict type checks.
 *
 * - A connection over a 'struct stream', with an output queue.  It does not touch the
 *   poll loop: the owner watches jsonrpc_fd() for jsonrpc_poll_events() and calls
 *   jsonrpc_run() and jsonrpc_recv() when it is ready. */
#ifndef OVNIC_UTIL_JSONRPC_H
#define OVNIC_UTIL_JSONRPC_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/util/err.h"

struct stream;

/** Default limit on the size of one received message. */
#define JSONRPC_MAX_MSG_DEFAULT ((size_t)64 << 20)

/* ---------------------------------------------------------------------------------
 * Framer.
 */

/** State of the framer.  Treat as opaque; embedded so that it needs no allocation. */
struct jsonrpc_framer {
    char *buf;       /* Bytes of the value being assembled (when split over feeds). */
    size_t len;      /* Bytes in 'buf'; 0 when between values. */
    size_t cap;      /* Allocated size of 'buf'. */
    size_t max_size; /* Largest value accepted, in bytes. */
    size_t depth;    /* Nesting depth inside the current value; 0 between values. */
    bool in_string;  /* Inside a string literal. */
    bool escaped;    /* Just after a backslash inside a string. */
    bool failed;     /* A previous feed failed; the framer must be reset. */
};

/** Initialises 'framer' to accept values of up to 'max_size' bytes (0: default). */
void jsonrpc_framer_init(struct jsonrpc_framer *framer, size_t max_size);

/** Frees the buffer of 'framer' (which may be NULL). */
void jsonrpc_framer_destroy(struct jsonrpc_framer *framer);

/** Discards any partial value and clears a failure. */
void jsonrpc_framer_reset(struct jsonrpc_framer *framer);

/** True if the framer holds part of a value (some bytes of it were fed). */
bool jsonrpc_framer_is_partial(const struct jsonrpc_framer *framer);

/** Feeds up to 'n' bytes at 'data'.  Stops after the first complete value: on return
 * '*consumed' says how many bytes were used, and '*value' is the value (caller owns;
 * json_decref()) or NULL if more input is needed (then all 'n' bytes were consumed).
 * Call again with the rest of the input until it is all consumed.
 *
 * Returns 0, or on failure (out-parameters untouched, framer unusable until
 * jsonrpc_framer_reset()):
 *   -EPROTO   a top-level value that is not an object, or invalid JSON (an object
 *             with two members of the same name included);
 *   -EMSGSIZE a value longer than the limit;
 *   -ENOMEM. */
int jsonrpc_framer_feed(struct jsonrpc_framer *framer, const void *data, size_t n,
                        size_t *consumed, json_t **value, struct ovnic_err *err);

/* ---------------------------------------------------------------------------------
 * Messages.
 */

enum jsonrpc_msg_type {
    JSONRPC_REQUEST, /* "method", "params", nonnull "id". */
    JSONRPC_NOTIFY,  /* "method", "params", null or absent "id". */
    JSONRPC_REPLY,   /* "result", null or absent "error", "id". */
    JSONRPC_ERROR,   /* Nonnull "error", null or absent "result", "id". */
};

struct jsonrpc_msg {
    enum jsonrpc_msg_type type;
    char *method;   /* Requests and notifications; else NULL. */
    json_t *params; /* Requests and notifications: an array; else NULL. */
    json_t *result; /* Replies; else NULL. */
    json_t *error;  /* Error replies; else NULL. */
    json_t *id;     /* Requests and (error) replies; NULL for notifications. */
};

const char *jsonrpc_msg_type_to_string(enum jsonrpc_msg_type type);

/** Creates a request.  Takes ownership of 'params' (an array) and 'id' (nonnull),
 * even on failure.  Returns NULL only on allocation failure or a NULL argument.  Caller
 * owns the result; free with jsonrpc_msg_destroy(). */
struct jsonrpc_msg *jsonrpc_msg_create_request(const char *method, json_t *params,
                                               json_t *id);

/** Creates a notification.  Takes ownership of 'params'.  As above. */
struct jsonrpc_msg *jsonrpc_msg_create_notify(const char *method, json_t *params);

/** Creates a reply to the request with 'id' (borrowed).  Takes ownership of
 * 'result'.  As above. */
struct jsonrpc_msg *jsonrpc_msg_create_reply(json_t *result, const json_t *id);

/** Creates an error reply to the request with 'id' (borrowed).  Takes ownership of
 * 'error' (nonnull).  As above. */
struct jsonrpc_msg *jsonrpc_msg_create_error(json_t *error, const json_t *id);

/** Frees 'msg' (may be NULL). */
void jsonrpc_msg_destroy(struct jsonrpc_msg *msg);

/** Parses 'json' (borrowed) as a message.  Caller owns '*msg'; free with
 * jsonrpc_msg_destroy().  Returns 0, -EPROTO if 'json' is not a well-formed message
 * (not an object, unknown member, member of the wrong type, inconsistent members),
 * or -ENOMEM. */
int jsonrpc_msg_from_json(const json_t *json, struct jsonrpc_msg **msg,
                          struct ovnic_err *err);

/** The wire form of 'msg' (borrowed).  Caller owns the result.  NULL only on
 * allocation failure. */
json_t *jsonrpc_msg_to_json(const struct jsonrpc_msg *msg);

/** For an error reply: the error's text, i.e. 'error' itself if it is a string, or
 * its "error" member if it is an object holding a string there, else NULL.  Valid
 * while 'msg' is. */
const char *jsonrpc_msg_error_string(const struct jsonrpc_msg *msg);

/** True if 'msg' is an error reply saying that the server does not know the method
 * of the request (how OVSDB servers reject extensions they lack). */
bool jsonrpc_msg_is_unknown_method(const struct jsonrpc_msg *msg);

/* ---------------------------------------------------------------------------------
 * Connection.
 */

struct jsonrpc;

/** Creates a connection over 'stream', which may still be connecting.  Takes
 * ownership of 'stream', even on failure.  Messages longer than 'max_msg_size'
 * (0: JSONRPC_MAX_MSG_DEFAULT) are refused.  Caller owns '*rpc'; free with
 * jsonrpc_close().  Returns 0 or -ENOMEM. */
int jsonrpc_open(struct stream *stream, size_t max_msg_size, struct jsonrpc **rpc);

/** Closes the stream and frees 'rpc' (may be NULL), discarding unsent output. */
void jsonrpc_close(struct jsonrpc *rpc);

/** Advances the connection: completes connecting (TCP, TLS handshake), then sends
 * queued output.  Returns 0 (which includes "still in progress"), or the negative
 * errno that broke the connection; once broken, every call returns that error. */
int jsonrpc_run(struct jsonrpc *rpc);

/** True once the stream is connected. */
bool jsonrpc_is_connected(const struct jsonrpc *rpc);

/** Queues 'msg' and tries to send it.  Takes ownership of 'msg', even on failure.
 * Messages may be queued while connecting.  Returns 0, -ENOMEM, or the error that
 * broke the connection. */
int jsonrpc_send(struct jsonrpc *rpc, struct jsonrpc_msg *msg);

/** Queues 'len' bytes exactly as given (for peers that speak for themselves, e.g. a
 * test server).  Returns as jsonrpc_send(). */
int jsonrpc_send_raw(struct jsonrpc *rpc, const void *data, size_t len);

/** Receives one message.  Returns 0 with '*msg' set (caller owns; free with
 * jsonrpc_msg_destroy()), -EAGAIN if no complete message is available yet, or an
 * error that breaks the connection (with 'err' set):
 *   -EPIPE    the peer closed the connection between messages;
 *   -EPROTO   invalid JSON, not a JSON-RPC message, or the peer closed the
 *             connection in the middle of a message;
 *   -EMSGSIZE a message longer than the limit;
 *   -ENOMEM, or a negative errno from the stream. */
int jsonrpc_recv(struct jsonrpc *rpc, struct jsonrpc_msg **msg, struct ovnic_err *err);

/** Like jsonrpc_recv(), but stops after framing: stores the received JSON object in
 * '*json' (caller owns; json_decref()) without checking that it is a JSON-RPC message,
 * for a caller that answers malformed messages itself.  Returns as jsonrpc_recv(),
 * except that a well-framed object is never -EPROTO, and that after a framing error
 * (-EPROTO, -EMSGSIZE) output still works, so that the caller can answer with an
 * error before closing; receiving keeps failing. */
int jsonrpc_recv_json(struct jsonrpc *rpc, json_t **json, struct ovnic_err *err);

/** True if jsonrpc_recv() has received bytes that it has not framed yet, so it may
 * return a message without the fd becoming readable. */
bool jsonrpc_has_input(const struct jsonrpc *rpc);

/** True if part of a message has been received: the framer holds the beginning of
 * a value whose end has not arrived. */
bool jsonrpc_is_receiving(const struct jsonrpc *rpc);

/** The OVNIC_POLL_IN/OVNIC_POLL_OUT events to watch on jsonrpc_fd(). */
uint32_t jsonrpc_poll_events(const struct jsonrpc *rpc);

/** The events to watch on jsonrpc_fd() so that queued output progresses, for an owner
 * that does not want to receive now (OVNIC_POLL_IN only when the stream needs it to
 * send, as TLS may).  0 once broken. */
uint32_t jsonrpc_poll_events_send(const struct jsonrpc *rpc);

int jsonrpc_fd(const struct jsonrpc *rpc);

/** Bytes queued but not yet sent. */
size_t jsonrpc_backlog(const struct jsonrpc *rpc);

/** time_msec() when bytes were last received (or the connection was opened). */
uint64_t jsonrpc_last_rx_msec(const struct jsonrpc *rpc);

/** time_msec() when bytes were last sent, or when output was queued on an empty
 * queue, whichever is later (or the connection was opened): how long queued output
 * has made no progress is time_msec() minus this, while jsonrpc_backlog() > 0. */
uint64_t jsonrpc_last_tx_msec(const struct jsonrpc *rpc);

/** The stream (borrowed; valid until jsonrpc_close()), e.g. for stream_fd(). */
struct stream *jsonrpc_stream(const struct jsonrpc *rpc);

/** The stream's name.  Valid until jsonrpc_close(). */
const char *jsonrpc_name(const struct jsonrpc *rpc);

/** The error that broke the connection, or 0. */
int jsonrpc_status(const struct jsonrpc *rpc);

#endif /* OVNIC_UTIL_JSONRPC_H */
