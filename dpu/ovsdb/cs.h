/* ovnic: OVSDB client session: connection management, monitoring and transactions
 * against one database, over a single remote or a RAFT cluster.
 *
 * - Remotes: "unix:PATH", "tcp:IP:PORT", "ssl:IP:PORT", or a comma-separated list of
 *   them (cluster members).  Reconnects with back-off, rotating through the list.
 * - Keepalive: JSON-RPC "echo" after 'probe_interval_ms' of silence; the connection is
 *   dropped if the peer stays silent for another interval.
 * - Monitoring: get_schema, then monitor_cond_since/update3, falling back to
 *   monitor_cond/update2, then monitor/update.  After a reconnect it resumes from the
 *   last transaction id, applying only the difference when the server answers
 *   found=true.  Conditions can change at run time (monitor_cond_change).
 * - Clusters: it also monitors _Server.Database and, unless 'leader_only', accepts any
 *   member that is connected to the cluster and whose index is not behind what the
 *   client has already seen; otherwise it moves on to another member.
 * - Bad input from the server (invalid JSON-RPC, a datum that does not fit the schema,
 *   an unknown row) is a rate-limited log, a connection reset and a counted error; the
 *   replica stays intact.
 *
 * Everything runs from the poll loop given at creation; callbacks run from it too. */
#ifndef OVNIC_OVSDB_CS_H
#define OVNIC_OVSDB_CS_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "dpu/ovsdb/replica.h"
#include "shared/util/err.h"

struct ovsdb_cs;
struct poll_loop;
struct tls_config;

struct ovsdb_cs_config {
    const char *remotes;          /* Required: see stream_remote_list_check().  Copied. */
    const char *database;         /* Required, e.g. "OVN_Southbound".  Copied. */
    const struct tls_config *tls; /* Required for ssl: remotes.  Copied. */
    uint32_t probe_interval_ms;   /* 0: no keepalive. */
    bool leader_only;             /* Only accept the cluster leader. */
    uint32_t backoff_min_ms;      /* 0: default 100. */
    uint32_t backoff_max_ms;      /* 0: default 8000. */
    bool monitor_all;             /* Monitor every table, all rows (no condition). */
};

enum ovsdb_cs_state {
    OVSDB_CS_IDLE,       /* Not connected, waiting for back-off. */
    OVSDB_CS_CONNECTING, /* Connecting / TLS handshake. */
    OVSDB_CS_SCHEMA,     /* Waiting for get_schema reply. */
    OVSDB_CS_SERVER,     /* Waiting for the _Server.Database monitor reply. */
    OVSDB_CS_MONITOR,    /* Waiting for the monitor reply. */
    OVSDB_CS_SYNCED,     /* Replica up to date; receiving updates. */
};

struct ovsdb_cs_stats {
    uint64_t connects;         /* Connections that reached OVSDB_CS_SCHEMA. */
    uint64_t full_syncs;       /* Monitor replies that carried the full contents. */
    uint64_t resumed_syncs;    /* monitor_cond_since replies with found=true. */
    uint64_t updates;          /* Update notifications applied. */
    uint64_t errors;           /* Protocol/datum errors that reset the connection. */
    uint64_t connect_failures; /* Attempts that failed before the connection was
                                * established (refused, unreachable, TLS setup). */
    uint64_t disconnects;      /* Established connections lost: closed by the server,
                                * I/O errors, keepalive timeouts. */
    uint64_t member_skips;     /* Cluster members rejected (not connected, stale). */
    int monitor_version;       /* 3 (cond_since), 2 (cond), 1 (monitor); 0 unknown. */
    char last_txn_id[64];      /* Last transaction id seen ("" if none). */
};

/** Called after each change to the replica (update applied, resync done), and on
 * state changes.  Use ovsdb_replica_table_next_tracked() to see what changed, then
 * ovsdb_replica_track_clear(). */
typedef void (*ovsdb_cs_change_cb)(struct ovsdb_cs *cs, void *aux);

/** Called once per transaction with its outcome: 'error' 0 and 'result' the array of
 * operation results (borrowed, valid during the call), or a negative errno and a
 * readable message ('errmsg', borrowed).  -ECONNRESET if the connection dropped before
 * the reply (the transaction may or may not have been committed). */
typedef void (*ovsdb_cs_txn_cb)(void *aux, int error, const json_t *result,
                                const char *errmsg);

/** Creates a session and starts connecting.  'loop' is borrowed and must outlive the
 * session.  Caller owns '*cs'; free with ovsdb_cs_destroy().  Returns 0, -EINVAL on a
 * bad config (with 'err'), or -ENOMEM. */
int ovsdb_cs_create(struct poll_loop *loop, const struct ovsdb_cs_config *config,
                    struct ovsdb_cs **cs, struct ovnic_err *err);

/** Closes the connection and frees everything (may be NULL).  Pending transactions
 * are not called back.  Must not be called from one of the session's callbacks. */
void ovsdb_cs_destroy(struct ovsdb_cs *cs);

void ovsdb_cs_set_change_cb(struct ovsdb_cs *cs, ovsdb_cs_change_cb cb, void *aux);

/** Restricts monitoring to 'tables' (NULL-terminated names; NULL = all tables, the
 * default).  Takes effect on the next (re)connection.  Returns 0 or -ENOMEM. */
int ovsdb_cs_set_tables(struct ovsdb_cs *cs, const char *const *tables);

/** Sets the monitor condition of 'table': a JSON array of clauses in OVSDB's
 * monitor_cond notation (e.g. [["chassis","==",["uuid","..."]]]), or [true] for all
 * rows.  Takes ownership of 'condition'.  Sent with monitor_cond_change when
 * connected.  Returns 0, -ENOENT for an unknown table once the schema is known, or
 * -EINVAL for a malformed condition. */
int ovsdb_cs_set_condition(struct ovsdb_cs *cs, const char *table, json_t *condition);

/** The replica, or NULL until the schema has been received.  Borrowed; valid until
 * ovsdb_cs_destroy() (it survives reconnections), except that if a server presents a
 * different schema, the replica is rebuilt for it: the old one is freed, and the
 * change callback runs (at the state changes that follow) with the new one in place. */
struct ovsdb_replica *ovsdb_cs_replica(const struct ovsdb_cs *cs);

enum ovsdb_cs_state ovsdb_cs_state(const struct ovsdb_cs *cs);
const char *ovsdb_cs_state_to_string(enum ovsdb_cs_state state);

/** True once the replica reflects the server (OVSDB_CS_SYNCED). */
bool ovsdb_cs_is_synced(const struct ovsdb_cs *cs);

/** True when synced and the server has acknowledged every condition and table change
 * made so far, so that the replica reflects the current conditions (and not only the
 * previous ones).  The change callback runs when this becomes true. */
bool ovsdb_cs_conditions_are_acked(const struct ovsdb_cs *cs);

/** The remote currently connected (or being connected), or NULL. */
const char *ovsdb_cs_remote(const struct ovsdb_cs *cs);

void ovsdb_cs_get_stats(const struct ovsdb_cs *cs, struct ovsdb_cs_stats *stats);

/** Drops the current connection and reconnects (to the next remote of the list). */
void ovsdb_cs_force_reconnect(struct ovsdb_cs *cs);

/** Sends a "transact" with 'operations' (a JSON array of RFC 7047 operations; taken).
 * 'cb' (may be NULL) is called with the outcome.  Returns 0 if sent, -ENOTCONN if not
 * synced, -EINVAL if 'operations' is not an array. */
int ovsdb_cs_transact(struct ovsdb_cs *cs, json_t *operations, ovsdb_cs_txn_cb cb,
                      void *aux);

/** Maps the "error" string of an OVSDB error (RFC 7047 and ovsdb-server extensions)
 * to a negative errno, as transaction callbacks receive it: "constraint violation",
 * "referential integrity violation" and syntax errors -EINVAL, "resources exhausted"
 * -ENOSPC, "timed out" -ETIMEDOUT, "not allowed" and "permission error" -EPERM, "I/O
 * error" -EIO, "duplicate uuid-name" -EEXIST, "unknown database" -ENOENT, "canceled"
 * and "aborted" -ECANCELED, "not cluster leader" -EAGAIN, "domain error" -EDOM,
 * "range error" -ERANGE; anything else (or NULL) -EPROTO. */
int ovsdb_cs_error_to_errno(const char *error);

#endif /* OVNIC_OVSDB_CS_H */
