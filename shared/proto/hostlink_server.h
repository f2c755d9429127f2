/* ovnic: the DPU side of hostlink: a server of host sessions, driven by a poll loop.
 *
 * It listens on pssl:PORT[:IP] (TLS with mutual authentication; a client must
 * present a certificate of the configured CA), or, only with 'allow_plain', on
 * punix:PATH or ptcp:PORT[:IP].  Connections are served through rpc_server
 * (shared/util/rpc_server.h), so its bounds hold: connections, message size, output
 * backlog, partial-message and stall timeouts, a fair share of the loop per
 * connection.  On top of it, each connection is a session:
 *
 *   connected --hello--> up --(peer closes, lease expires, malformed message,
 *                              superseded, closed by the owner)--> closed
 *
 * - Hello: the first request must be "hello" (else out-of-order, and the connection
 *   is closed), within 'hello_timeout_ms'.  The server chooses the highest version
 *   that both sides speak (a peer whose newest version is below 'version_min' is
 *   refused with version-too-old), takes the peer's identity (the CN of its TLS
 *   certificate; for a plain transport, the name it gives in hello), closes an older
 *   session of the same identity (superseded), asks the owner (session_up), and
 *   answers with its own versions, name, the version chosen, the lease and the
 *   keepalive interval.
 * - Lease: every message from the peer renews it; a session silent for 'lease_ms'
 *   is expired (session_down with HOSTLINK_DOWN_LEASE_EXPIRED).  The library answers
 *   keepalive itself.
 * - Rate: each session has a token bucket of 'burst' requests refilled at 'rate' per
 *   second; a request beyond it is answered with rate-limited (counted) and not
 *   decoded, and the session goes on.
 * - Bad input: a message that breaks the framing or the schema of the negotiated
 *   version is answered with malformed (or unknown-method, out-of-order), and that
 *   session is closed; no other session notices.
 * - Other requests (inventory, vf-status, attach-request, detach-request, resync)
 *   reach the owner decoded and validated for syntax and bounds.  Whether the host
 *   owns what it names is the owner's check: it answers with hostlink_server_reply()
 *   and a code (not-owned, mac-mismatch, bound-elsewhere...).
 *
 * Single-threaded, like the poll loop.  Callbacks run from the loop (or from the
 * call named in their description), and may call any function here except
 * hostlink_server_destroy(). */
#ifndef OVNIC_PROTO_HOSTLINK_SERVER_H
#define OVNIC_PROTO_HOSTLINK_SERVER_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/proto/hostlink.h"
#include "shared/util/err.h"
#include "shared/util/rpc_server.h"

struct poll_loop;
struct tls_config;
struct hostlink_server;

#define HOSTLINK_LEASE_MS_DEFAULT 15000
#define HOSTLINK_HELLO_TIMEOUT_MS_DEFAULT 10000
#define HOSTLINK_RATE_DEFAULT 100  /* Requests per second, per session. */
#define HOSTLINK_BURST_DEFAULT 200 /* Requests at once, per session. */
#define HOSTLINK_MAX_SESSIONS_DEFAULT 16

/** Configuration.  Start from hostlink_server_config_default(); a 0 number means
 * its default. */
struct hostlink_server_config {
    const char *listen;           /* "pssl:PORT[:IP]"; punix:/ptcp: need allow_plain. */
    const struct tls_config *tls; /* CA, certificate, key; required for pssl:.
                                   * Borrowed during hostlink_server_create(). */
    bool allow_plain;             /* Allow punix: and ptcp: (no TLS). */
    const char *name;             /* This DPU's name in the hello reply. */
    const char *software;         /* Its software version, e.g. "ovnic-dpud 0.1.0". */
    unsigned int version_min;     /* Versions offered: within HOSTLINK_VERSION_MIN */
    unsigned int version_max;     /* and HOSTLINK_VERSION_MAX (defaults). */
    uint32_t lease_ms;            /* HOSTLINK_LEASE_MIN_MS to _MAX_MS. */
    uint32_t keepalive_ms;        /* Told to hosts; default lease_ms / 3. */
    uint32_t hello_timeout_ms;    /* From connection to hello. */
    uint32_t rate;                /* Token bucket per session: refill per second, */
    uint32_t burst;               /* and size. */
    unsigned int max_sessions;    /* Connections at once, with or without hello. */
    size_t max_msg;               /* Largest message, default HOSTLINK_MAX_MSG. */
};

/** Fills 'config' with the defaults (listen, tls, name and software NULL). */
void hostlink_server_config_default(struct hostlink_server_config *config);

enum hostlink_session_state {
    HOSTLINK_SESSION_HELLO,   /* Connected, no hello yet. */
    HOSTLINK_SESSION_UP,      /* Hello done, admitted by the owner. */
    HOSTLINK_SESSION_CLOSING, /* Closed; its output being flushed. */
};

const char *hostlink_session_state_to_string(enum hostlink_session_state state);

/** Why an admitted session ended. */
enum hostlink_down_reason {
    HOSTLINK_DOWN_CLOSED,        /* The peer closed the connection. */
    HOSTLINK_DOWN_LEASE_EXPIRED, /* Silent for the lease. */
    HOSTLINK_DOWN_MALFORMED,     /* It broke the protocol (framing, schema, order). */
    HOSTLINK_DOWN_SUPERSEDED,    /* A newer session of the same identity. */
    HOSTLINK_DOWN_OWNER,         /* hostlink_server_close_session(). */
    HOSTLINK_DOWN_ERROR,         /* I/O error, output stalled, message unfinished. */
};

const char *hostlink_down_reason_to_string(enum hostlink_down_reason reason);

/** What the server knows of a session.  Pointers are valid until the session is
 * freed (after session_down, or after its connection closes), and only while no
 * other function of the server runs. */
struct hostlink_session_info {
    uint64_t id; /* The session's serial number (never reused). */
    enum hostlink_session_state state;
    unsigned int version; /* Negotiated; 0 before hello. */
    const char *identity; /* Peer's identity; NULL before hello. */
    const char *peer_cn;  /* TLS certificate CN, NULL for a plain transport. */
    const char *remote;   /* "tcp:IP:PORT", "unix:...". */
    const struct hostlink_hello *hello; /* What the peer said in hello; NULL before. */
    uint64_t connected_ms;              /* time_msec() of the connection, */
    uint64_t up_ms;                     /* of the hello (0 before), */
    uint64_t last_rx_ms;                /* of the last message from the peer. */
    uint64_t requests;                  /* Requests received (rate-limited included). */
    uint64_t rate_limited;              /* Of those, refused by the token bucket. */
};

/** Callbacks, all with the 'aux' given to hostlink_server_create(). */
struct hostlink_server_ops {
    /* Hello of session 'info->id' succeeded (version chosen, identity known; an
     * older session of that identity has been superseded already).  Return
     * HOSTLINK_OK to admit it, or an error code (HOSTLINK_ERR_UNAUTHORIZED,
     * HOSTLINK_ERR_NOT_OWNED...) with a reason written into 'why' ('size' bytes)
     * to refuse it: the peer gets that error and the session is closed.  NULL: admit
     * every session. */
    int (*session_up)(void *aux, const struct hostlink_session_info *info, char *why,
                      size_t size);
    /* Admitted session 'session' has ended for 'reason': nothing more comes from it,
     * and answers to it are dropped.  Called once per admitted session, from the
     * loop or from the call of this API that ended it. */
    void (*session_down)(void *aux, uint64_t session, enum hostlink_down_reason reason);
    /* Request 'msg' (borrowed; valid during the call) of an admitted session:
     * inventory, vf-status, attach-request, detach-request or resync.  Answer it
     * with hostlink_server_reply() of 'msg->id', now or later: until it is answered
     * it counts against the session's limit of pending requests. */
    void (*request)(void *aux, uint64_t session, const struct hostlink_msg *msg);
};

/** Counters since creation, and gauges. */
struct hostlink_server_stats {
    uint64_t connections;     /* Now: sessions in any state. */
    uint64_t sessions;        /* Now: sessions up. */
    uint64_t admitted;        /* Hellos admitted. */
    uint64_t refused_version; /* Hellos refused: no common version. */
    uint64_t refused_owner;   /* Hellos refused by session_up, or a TLS peer without
                               * a CN. */
    uint64_t hello_timeouts;  /* Connections without hello in time. */
    uint64_t expired;         /* Sessions whose lease expired. */
    uint64_t superseded;      /* Sessions replaced by a newer one. */
    uint64_t malformed;       /* Sessions closed for breaking the protocol. */
    uint64_t closed_owner;    /* Sessions closed by hostlink_server_close_session(). */
    uint64_t requests;        /* Requests received (all, hello included). */
    uint64_t keepalives;      /* Keepalives answered. */
    uint64_t rate_limited;    /* Requests refused by a token bucket. */
    struct rpc_server_stats transport;
};

/** Listens as 'config' says (borrowed; strings copied) and serves sessions through
 * 'ops' (copied) with 'aux'.  Caller owns '*server'; free with
 * hostlink_server_destroy().  Returns 0; -EINVAL for a bad configuration (a plain
 * transport without 'allow_plain', pssl: without 'tls', a bad name, software,
 * version range, lease or keepalive), with 'err' saying which; or an error of
 * rpc_server_create() (TLS files, address in use...). */
int hostlink_server_create(struct poll_loop *loop,
                           const struct hostlink_server_config *config,
                           const struct hostlink_server_ops *ops, void *aux,
                           struct hostlink_server **server, struct ovnic_err *err);

/** Closes every session without callbacks, and the listener.  'server' may be
 * NULL. */
void hostlink_server_destroy(struct hostlink_server *server);

/** Answers request 'id' of 'session': 'code' HOSTLINK_OK gives the reply {}, any
 * other code (1 to HOSTLINK_ERR_WIRE_MAX) an error reply with 'message' (NULL: the
 * code's name).  A fatal 'code' closes the session after the answer (session_down
 * with HOSTLINK_DOWN_OWNER, before this returns).  Returns 0, -ENOENT if the session
 * is not up any more (the answer is dropped), -EINVAL for a bad 'code' or 'id', or
 * -ENOMEM. */
int hostlink_server_reply(struct hostlink_server *server, uint64_t session, uint64_t id,
                          int code, const char *message);

/** Sends notification 'msg' (borrowed; a plug-result) to 'session', encoded for its
 * version.  Returns 0, -ENOENT if the session is not up, -EINVAL if 'msg' is not a
 * notification the owner may send (bye: see hostlink_server_close_session()), an
 * error of hostlink_msg_encode() for an invalid 'msg', or -ENOMEM. */
int hostlink_server_notify(struct hostlink_server *server, uint64_t session,
                           const struct hostlink_msg *msg, struct ovnic_err *err);

/** Closes 'session', telling its peer why with a bye of 'code' (1 to
 * HOSTLINK_ERR_WIRE_MAX; 0: HOSTLINK_ERR_CLOSED) and 'message' (may be NULL).  An
 * admitted session gets session_down (HOSTLINK_DOWN_OWNER) before this returns.
 * Returns 0 or -ENOENT. */
int hostlink_server_close_session(struct hostlink_server *server, uint64_t session,
                                  int code, const char *message);

/** Fills '*info' about 'session'.  Returns 0 or -ENOENT. */
int hostlink_server_session_get(const struct hostlink_server *server, uint64_t session,
                                struct hostlink_session_info *info);

/** The up session of 'identity', in '*session'.  Returns 0 or -ENOENT. */
int hostlink_server_find(const struct hostlink_server *server, const char *identity,
                         uint64_t *session);

/** The port listened on (after ptcp:0 or pssl:0), else 0. */
uint16_t hostlink_server_port(const struct hostlink_server *server);

void hostlink_server_get_stats(const struct hostlink_server *server,
                               struct hostlink_server_stats *stats);

/** The stats and every session as JSON: {"connections": N, ..., "transport": {...},
 * "sessions": [{"id": N, "state": S, "version": N, "identity": S, "peer-cn": S,
 * "remote": S, "name": S, "software": S, "up-ms": N, "idle-ms": N, "requests": N,
 * "rate-limited": N}, ...]}.  Caller owns; NULL if out of memory. */
json_t *hostlink_server_to_json(const struct hostlink_server *server);

#endif /* OVNIC_PROTO_HOSTLINK_SERVER_H */
