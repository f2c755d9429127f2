/* ovnic: a JSON-RPC server over a passive stream (stream.h) driven by a poll loop
 * (poll.h), for local control sockets and any other stream server of ovnic.
 *
 * It listens, accepts, reads requests {"method", "params": [...], "id"} and hands
 * each valid one to a callback, which answers at once or later through the
 * connection's serial number (rpc_server_reply()); an answer for a connection that has
 * gone is dropped.  What a peer can do to the server is bounded:
 *
 * - Connections: at most 'max_conns'.  The last 'reserved_conns' of them are kept
 *   for privileged peers, i.e. peers of a unix socket whose uid (SO_PEERCRED) is 0 or
 *   the server's effective uid; other peers (other uids, and peers without
 *   credentials, such as TCP) get at most 'max_conns' - 'reserved_conns'.  Every
 *   process may hold at most 'max_conns_per_pid', and every unprivileged uid at most
 *   'max_conns_per_uid'.  A refused peer gets an error reply
 *   {"error": {"error": "too many connections: ...", "code": -EBUSY}, "id": ID}
 *   (ID is that of the request it had already sent, else null) before the server
 *   closes the connection.
 *
 * - Time: a connection without a request in progress, an answer awaited or output
 *   queued for 'idle_timeout_ms' is closed; a request whose first byte arrived more
 *   than 'request_timeout_ms' ago and whose end has not is answered with an error
 *   (-ETIMEDOUT) and the connection closed.
 *
 * - Memory: when a connection's queued output reaches 'backlog_max' bytes, or
 *   'max_pending' of its requests await an answer, the server stops reading from it
 *   (the peer's writes block) and resumes when the output has drained to half the cap
 *   and answers are below the limit.  A connection whose output has made no progress
 *   for 'stall_timeout_ms' while paused is closed, with a log message.  So one
 *   connection holds at most about 'backlog_max' plus one answer, plus the message
 *   buffers ('max_msg').
 *
 * - Input: a request must be a JSON object with exactly "method" (a nonempty
 *   string), "params" (an array) and "id" (not null), and no other member.  Anything
 *   else well-framed gets an error reply (-EINVAL) saying what is wrong, and the
 *   connection goes on.  Bytes that are not JSON, an object with duplicate member
 *   names, or a message over 'max_msg' get an error reply with a null id (-EPROTO or
 *   -EMSGSIZE), after which the connection is closed (the stream cannot be
 *   resynchronised).
 *
 * Counters of all this are in struct rpc_server_stats.  Single-threaded, like the
 * poll loop. */
#ifndef OVNIC_UTIL_RPC_SERVER_H
#define OVNIC_UTIL_RPC_SERVER_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/util/err.h"

struct jsonrpc_msg;
struct poll_loop;
struct rpc_server;
struct tls_config;

/** Limits and timeouts.  Start from rpc_server_settings_default(); a 0 limit or
 * timeout disables that check (except 'max_conns' and 'max_msg', where 0 means the
 * default). */
struct rpc_server_settings {
    const char *name;               /* For logs, e.g. "control socket".  Static. */
    size_t max_msg;                 /* Largest request, in bytes. */
    unsigned int max_conns;         /* Connections open at once. */
    unsigned int reserved_conns;    /* Of 'max_conns', kept for privileged peers. */
    unsigned int max_conns_per_pid; /* Per process of a unix peer. */
    unsigned int max_conns_per_uid; /* Per unprivileged uid of a unix peer. */
    unsigned int max_pending;       /* Requests awaiting an answer before pausing. */
    size_t backlog_max;             /* Output bytes queued before pausing. */
    uint64_t idle_timeout_ms;       /* Nothing in progress for this long: close. */
    uint64_t request_timeout_ms;    /* A partial request for this long: error, close. */
    uint64_t stall_timeout_ms;      /* Paused, output stuck for this long: close. */
    bool close_on_bad_request;      /* Close after answering a bad request. */
    unsigned int max_batch;         /* Requests of one connection per turn; 0: all. */
    /* The code that an error reply of the server itself (refusal, bad request,
     * framing, timeout) carries for the negative errno 'error'; NULL: 'error'. */
    int (*error_code)(int error);
};

#define RPC_SERVER_MAX_MSG_DEFAULT ((size_t)1 << 20)
#define RPC_SERVER_MAX_CONNS_DEFAULT 64
#define RPC_SERVER_RESERVED_CONNS_DEFAULT 8
#define RPC_SERVER_MAX_CONNS_PER_PID_DEFAULT 8
#define RPC_SERVER_MAX_CONNS_PER_UID_DEFAULT 16
#define RPC_SERVER_MAX_PENDING_DEFAULT 64
#define RPC_SERVER_BACKLOG_MAX_DEFAULT ((size_t)1 << 20)
#define RPC_SERVER_IDLE_TIMEOUT_MS_DEFAULT 60000
#define RPC_SERVER_REQUEST_TIMEOUT_MS_DEFAULT 10000
#define RPC_SERVER_STALL_TIMEOUT_MS_DEFAULT 10000

/** Fills 's' with the defaults above (name "rpc server"). */
void rpc_server_settings_default(struct rpc_server_settings *s);

/** Counters, since the server was created. */
struct rpc_server_stats {
    uint64_t accepted;         /* Connections accepted. */
    uint64_t refused_full;     /* Refused: 'max_conns' open. */
    uint64_t refused_reserved; /* Refused: only reserved slots left, peer unprivileged. */
    uint64_t refused_peer;     /* Refused: per-pid or per-uid limit. */
    uint64_t closed_peer;      /* Closed by the peer. */
    uint64_t closed_idle;      /* Closed: idle timeout. */
    uint64_t closed_request_timeout; /* Closed: request timeout. */
    uint64_t closed_stalled;         /* Closed: paused with output stuck. */
    uint64_t closed_protocol;        /* Closed: not JSON, duplicate keys, too long. */
    uint64_t closed_error;           /* Closed: I/O error. */
    uint64_t closed_owner;           /* Closed: rpc_server_close(). */
    uint64_t requests;               /* Valid requests passed to the callback. */
    uint64_t bad_requests;           /* Well-framed messages answered with an error. */
    uint64_t pauses;                 /* Times reading from a connection was paused. */
    uint64_t conns;                  /* Connections open now. */
    uint64_t paused_conns;           /* Of those, paused now. */
    uint64_t backlog;                /* Output bytes queued now, all connections. */
};

/** Why a connection was closed. */
enum rpc_server_close_reason {
    RPC_SERVER_CLOSE_NONE,
    RPC_SERVER_CLOSE_PEER,            /* The peer closed it (or reset it). */
    RPC_SERVER_CLOSE_IDLE,            /* 'idle_timeout_ms'. */
    RPC_SERVER_CLOSE_REQUEST_TIMEOUT, /* 'request_timeout_ms'. */
    RPC_SERVER_CLOSE_STALLED,         /* 'stall_timeout_ms'. */
    RPC_SERVER_CLOSE_PROTOCOL,        /* Not JSON, too long, or a bad request with
                                       * 'close_on_bad_request'. */
    RPC_SERVER_CLOSE_ERROR,           /* I/O or TLS error (a refused certificate). */
    RPC_SERVER_CLOSE_OWNER,           /* rpc_server_close(). */
};

/** A short text for 'reason' ("closed by peer", "idle timeout"...).  Static. */
const char *rpc_server_close_reason_to_string(enum rpc_server_close_reason reason);

/** A valid request.  Members are borrowed from the JSON value it was parsed from. */
struct rpc_server_request {
    const char *method;   /* Nonempty. */
    const json_t *params; /* An array. */
    const json_t *id;     /* Not null. */
};

/** Handles request 'req' (borrowed; valid during the call) from connection 'conn'.
 * Must eventually answer with rpc_server_reply(), rpc_server_reply_error() or
 * rpc_server_send() of a reply, with 'conn' and 'req->id' (copied by those). */
typedef void (*rpc_server_request_cb)(void *aux, uint64_t conn,
                                      const struct rpc_server_request *req);

/** Listens on 'name' (punix:, ptcp:, pssl:; see stream.h) with 'tls' (borrowed; for
 * pssl:) and 'settings' (copied; NULL: defaults).  Requests go to 'cb' with 'aux'.
 * Caller owns '*server'; free with rpc_server_destroy().  Returns 0, or a negative
 * errno from pstream_open() or the loop, or -ENOMEM, with 'err' (may be NULL) set. */
int rpc_server_create(struct poll_loop *loop, const char *name,
                      const struct tls_config *tls,
                      const struct rpc_server_settings *settings,
                      rpc_server_request_cb cb, void *aux, struct rpc_server **server,
                      struct ovnic_err *err);

/** Closes every connection, discarding unsent output, and the listener (removing
 * the socket file of punix:).  'server' may be NULL. */
void rpc_server_destroy(struct rpc_server *server);

/** Sends the reply 'result' (takes ownership; NULL: null) to request 'id' (borrowed)
 * on 'conn'.  Returns 0, -ENOENT if 'conn' has gone (the reply is dropped), -ENOMEM,
 * or the error that broke the connection (which is then closed). */
int rpc_server_reply(struct rpc_server *server, uint64_t conn, const json_t *id,
                     json_t *result);

/** Sends the error reply {"error": {"error": 'message', "code": 'code'}} (a negative
 * errno) to request 'id' (borrowed) on 'conn'.  Returns as rpc_server_reply(). */
int rpc_server_reply_error(struct rpc_server *server, uint64_t conn, const json_t *id,
                           int code, const char *message);

/** Sends 'msg' (takes ownership) on 'conn': a reply or error reply (which answers
 * one request) or a notification.  Returns as rpc_server_reply(). */
int rpc_server_send(struct rpc_server *server, uint64_t conn, struct jsonrpc_msg *msg);

/** Callbacks about connections, with the 'aux' given to rpc_server_create(). */
struct rpc_server_hooks {
    /* Connection 'conn' was accepted (its TLS handshake may still be running). */
    void (*conn_open)(void *aux, uint64_t conn);
    /* Connection 'conn' has been closed for 'reason'; answers to it are dropped from
     * now on.  Called from the loop, never from within another call of the server,
     * and not for the connections that rpc_server_destroy() closes. */
    void (*conn_close)(void *aux, uint64_t conn, enum rpc_server_close_reason reason);
};

/** Sets the hooks of 'server' ('hooks' copied; NULL members are not called).
 * Connections open already are not reported. */
void rpc_server_set_hooks(struct rpc_server *server,
                          const struct rpc_server_hooks *hooks);

/** Closes 'conn' once the output queued on it has been sent (at most
 * 'stall_timeout_ms' later), reading nothing more from it.  Returns 0, or -ENOENT if
 * 'conn' has gone. */
int rpc_server_close(struct rpc_server *server, uint64_t conn);

/** The subject CN of the certificate that the TLS peer of 'conn' presented (verified
 * against the CA), or NULL if 'conn' is not TLS, its handshake is not over, or it has
 * gone.  Valid until 'conn' is closed. */
const char *rpc_server_conn_peer_name(const struct rpc_server *server, uint64_t conn);

/** The port the server listens on (ptcp:/pssl:, e.g. after port 0), else 0. */
uint16_t rpc_server_port(const struct rpc_server *server);

/** The name of the peer of 'conn' ("tcp:IP:PORT", "unix:..."), or NULL if it has gone.
 * Valid until 'conn' is closed. */
const char *rpc_server_conn_name(const struct rpc_server *server, uint64_t conn);

/** True when no connection has output waiting. */
bool rpc_server_is_flushed(const struct rpc_server *server);

/** The counters of 'server'. */
void rpc_server_get_stats(const struct rpc_server *server,
                          struct rpc_server_stats *stats);

/** 'stats' as a JSON object: {"accepted": N, ..., "refused": {"full": N, "reserved":
 * N, "peer": N}, "closed": {"peer": N, "idle": N, ...}}.  Caller owns; NULL if out of
 * memory. */
json_t *rpc_server_stats_to_json(const struct rpc_server_stats *stats);

/** Checks that 'json' (borrowed) is a valid request and fills '*req' with members
 * borrowed from it.  Returns 0, or -EINVAL with 'err' (may be NULL) saying what is
 * wrong; '*req' is untouched on failure. */
int rpc_server_request_parse(const json_t *json, struct rpc_server_request *req,
                             struct ovnic_err *err);

#endif /* OVNIC_UTIL_RPC_SERVER_H */
