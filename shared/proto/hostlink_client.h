/* ovnic: the host side of hostlink: one session with one DPU, kept up by a state
 * machine driven by a poll loop.
 *
 *   backoff --timer--> connecting --TCP/TLS up--> hello --reply--> resync --reply--> up
 *      ^                                                                              |
 *      +---------- failure or loss at any step (back-off delay grows) ----------------+
 *
 * - Transport: ssl:IP:PORT (TLS with mutual authentication: the host presents its
 *   certificate and checks the DPU's against the CA, and its CN against
 *   'tls->peer_name' if set), or, only with 'allow_plain', unix:PATH or tcp:IP:PORT.
 *   The TLS files are read again at every connection attempt, so that a renewed
 *   certificate takes effect at the next reconnect.
 * - Hello: the client offers its versions [version_min, version_max]; the DPU
 *   chooses, and the client checks that it chose the highest common one.  A refusal
 *   (version-too-old, unauthorized...) is reported and retried with back-off, since
 *   the DPU may be upgraded or reconfigured meanwhile.
 * - Resync: after every hello the client sends the host's whole state, which the
 *   owner gives through get_state(); the session is up once the DPU has answered.
 *   Requests made while the session is down are refused (-ENOTCONN) rather than
 *   queued: the next resync carries the state they would have changed.
 * - Liveness: a keepalive every keepalive interval (the shorter of 'keepalive_ms' and
 *   the DPU's); nothing received for 'dead_ms' means the DPU or the path is gone, and
 *   the client reconnects.  A "bye" from the DPU ends the session with its code.
 * - Back-off: failed attempts wait backoff_min_ms, then twice as long each time up
 *   to backoff_max_ms (shared/util/backoff.h, with jitter); a session that reaches
 *   up resets it.
 *
 * Everything from the DPU is decoded and checked as strictly as the DPU checks the
 * host (hostlink.h); a message that fails ends the session (-EPROTO).
 *
 * Single-threaded, like the poll loop.  Callbacks run from the loop, and may call
 * any function here except hostlink_client_destroy(). */
#ifndef OVNIC_PROTO_HOSTLINK_CLIENT_H
#define OVNIC_PROTO_HOSTLINK_CLIENT_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/proto/hostlink.h"
#include "shared/util/err.h"

struct poll_loop;
struct tls_config;
struct hostlink_client;

#define HOSTLINK_KEEPALIVE_MS_DEFAULT 5000
#define HOSTLINK_BACKOFF_MIN_MS_DEFAULT 100
#define HOSTLINK_BACKOFF_MAX_MS_DEFAULT 8000
#define HOSTLINK_CLIENT_MAX_PENDING_DEFAULT 1024

/** Configuration; a 0 number means its default. */
struct hostlink_client_config {
    const char *remote;           /* "ssl:IP:PORT"; unix:/tcp: need allow_plain. */
    const struct tls_config *tls; /* Required for ssl: (copied). */
    bool allow_plain;             /* Allow unix: and tcp: (no TLS). */
    const char *name;             /* This host's name in hello. */
    const char *software;         /* Its software version. */
    unsigned int version_min;     /* Versions offered: within HOSTLINK_VERSION_MIN */
    unsigned int version_max;     /* and HOSTLINK_VERSION_MAX (defaults). */
    uint32_t keepalive_ms;        /* HOSTLINK_LEASE_MIN_MS or more; the DPU's
                                   * interval if that is shorter. */
    uint32_t dead_ms;             /* Silence that ends a session, and the time a
                                   * connection attempt may take to reach "up";
                                   * default 3 keepalive intervals. */
    uint32_t backoff_min_ms;      /* First delay before reconnecting. */
    uint32_t backoff_max_ms;      /* Longest delay (>= backoff_min_ms). */
    unsigned int max_pending;     /* Requests awaiting an answer at once. */
    size_t max_msg;               /* Largest message accepted from the DPU. */
};

enum hostlink_client_state {
    HOSTLINK_CLIENT_BACKOFF,    /* Waiting before the next attempt. */
    HOSTLINK_CLIENT_CONNECTING, /* TCP connect, TLS handshake, hello queued. */
    HOSTLINK_CLIENT_HELLO,      /* Connected, hello sent. */
    HOSTLINK_CLIENT_RESYNC,     /* Version chosen, resync sent. */
    HOSTLINK_CLIENT_UP,         /* The DPU has the host's state. */
};

const char *hostlink_client_state_to_string(enum hostlink_client_state state);

/** The answer to a request: 'status' is 0, a hostlink error code (> 0) from the DPU
 * with its 'message', or a negative errno: -ENOTCONN if the session was lost before
 * the answer came (the request is not sent again: the resync after the reconnect
 * carries the state).  'message' is valid during the call. */
typedef void (*hostlink_reply_cb)(void *aux, uint64_t id, int status,
                                  const char *message);

/** Callbacks, with the 'aux' given to hostlink_client_create(). */
struct hostlink_client_ops {
    /* Required.  Fills '*state' (zeroed) with the host's whole state for a resync;
     * the client frees it (hostlink_resync_clear()).  Return 0, or a negative errno
     * to give up this session (it is retried with back-off). */
    int (*get_state)(void *aux, struct hostlink_resync *state);
    /* The session entered 'state'.  BACKOFF: 'status' says why the previous attempt
     * or session ended (a negative errno, or the code of the DPU's refusal or bye)
     * and 'message' more.  UP: 'status' is the DPU's answer to the resync (0, or an
     * error code such as not-owned).  Other states: 0.  May be NULL. */
    void (*state_changed)(void *aux, enum hostlink_client_state state, int status,
                          const char *message);
    /* A notification from the DPU other than bye (a plug-result), decoded and
     * checked; 'msg' is borrowed for the call.  May be NULL. */
    void (*notify)(void *aux, const struct hostlink_msg *msg);
};

/** What the client knows, and counters since creation. */
struct hostlink_client_info {
    enum hostlink_client_state state;
    const char *remote;
    unsigned int version;     /* Negotiated (from hello on), else 0. */
    const char *dpu_name;     /* From the DPU's hello reply, else NULL. */
    const char *dpu_software; /* Likewise. */
    uint32_t lease_ms;        /* The DPU's lease, else 0. */
    uint32_t keepalive_ms;    /* The interval in use, else 0. */
    int last_status;          /* Why the last session or attempt ended. */
    const char *last_message; /* Likewise ("" if none). */
    uint64_t retry_in_ms;     /* BACKOFF: time to the next attempt. */
    uint64_t attempts;        /* Connection attempts. */
    uint64_t sessions;        /* Of those, that reached hello. */
    uint64_t resyncs;         /* Resyncs answered. */
    uint64_t requests;        /* Requests sent by the owner. */
    uint64_t errors;          /* Of those, answered with an error. */
    uint64_t pending;         /* Of those, awaiting an answer now. */
    uint64_t keepalives;      /* Keepalives sent. */
};

/** Creates a client of 'config' (borrowed; strings copied) with 'ops' (copied) and
 * 'aux'; the first attempt starts from the loop.  Caller owns '*client'; free with
 * hostlink_client_destroy().  Returns 0, -EINVAL for a bad configuration (transport
 * as hostlink_check_transport(), name, software, versions, intervals) with 'err'
 * saying which, or -ENOMEM. */
int hostlink_client_create(struct poll_loop *loop,
                           const struct hostlink_client_config *config,
                           const struct hostlink_client_ops *ops, void *aux,
                           struct hostlink_client **client, struct ovnic_err *err);

/** Closes the session and frees 'client' (may be NULL), without calling back (not
 * even for pending requests). */
void hostlink_client_destroy(struct hostlink_client *client);

/** Sends request 'msg' (borrowed): an inventory, vf-status, attach-request or
 * detach-request ('msg->id' is ignored: the client numbers its requests).  'cb'
 * (may be NULL) gets the answer with 'cb_aux', from the loop.  Stores the request's
 * id in '*id' (may be NULL).  Returns 0; -EINVAL for another method (hello,
 * keepalive and resync are the client's); -ENOTCONN unless the session is in resync
 * or up; -ENOBUFS with 'max_pending' requests awaiting answers; an error of
 * hostlink_msg_encode() for a message the DPU would refuse; or -ENOMEM; with 'err'
 * set. */
int hostlink_client_request(struct hostlink_client *client,
                            const struct hostlink_msg *msg, hostlink_reply_cb cb,
                            void *cb_aux, uint64_t *id, struct ovnic_err *err);

/** Sends a new resync now (the state from get_state()), e.g. after the DPU refused
 * one or after the host rebuilt its state; the session goes to resync and back to
 * up on the answer.  Returns 0, -ENOTCONN if the session is not in resync or up, or
 * the error of get_state() or of encoding. */
int hostlink_client_resync(struct hostlink_client *client, struct ovnic_err *err);

enum hostlink_client_state
hostlink_client_get_state(const struct hostlink_client *client);

/** Fills '*info'; its pointers are valid until the next call into the client or
 * the next run of the loop. */
void hostlink_client_get_info(const struct hostlink_client *client,
                              struct hostlink_client_info *info);

/** '*info' as JSON {"state": S, "remote": S, "version": N, "dpu-name": S, ...}.
 * Caller owns; NULL if out of memory. */
json_t *hostlink_client_to_json(const struct hostlink_client *client);

#endif /* OVNIC_PROTO_HOSTLINK_CLIENT_H */
