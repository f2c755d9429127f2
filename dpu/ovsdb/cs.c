/* ovnic: OVSDB client session. */
#include "dpu/ovsdb/cs.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/ovsdb/datum.h"
#include "shared/util/jsonrpc.h"
#include "dpu/ovsdb/schema.h"
#include "shared/util/backoff.h"
#include "shared/util/hash.h"
#include "shared/util/list.h"
#include "shared/util/log.h"
#include "shared/util/poll.h"
#include "shared/util/stream.h"
#include "shared/util/tls.h"
#include "shared/util/util.h"

OVNIC_LOG_MODULE(ovsdb_cs);

#define CS_BACKOFF_MIN_DEFAULT 100
#define CS_BACKOFF_MAX_DEFAULT 8000

/* Messages handled per wake-up before yielding to the rest of the poll loop. */
#define CS_BATCH 64

#define CS_SERVER_DB "_Server"
#define CS_ZERO_UUID "00000000-0000-0000-0000-000000000000"

/* Every log that the server (or the network) can trigger goes through these. */
static struct ovnic_ratelimit conn_rl = OVNIC_RATELIMIT_INIT(30, 10);
static struct ovnic_ratelimit proto_rl = OVNIC_RATELIMIT_INIT(30, 10);
static struct ovnic_ratelimit member_rl = OVNIC_RATELIMIT_INIT(30, 10);
static struct ovnic_ratelimit state_rl = OVNIC_RATELIMIT_INIT(120, 60);

enum cs_request_kind {
    CS_REQ_SCHEMA,         /* get_schema for the database. */
    CS_REQ_SERVER_SCHEMA,  /* get_schema for _Server. */
    CS_REQ_SERVER_MONITOR, /* monitor_cond on _Server.Database. */
    CS_REQ_MONITOR,        /* monitor_cond_since / monitor_cond / monitor. */
    CS_REQ_COND_CHANGE,    /* monitor_cond_change. */
    CS_REQ_ECHO,           /* Keepalive probe. */
    CS_REQ_TRANSACT,       /* transact. */
};

/* A request waiting for its reply. */
struct cs_request {
    struct ovnic_list node; /* In ovsdb_cs's 'requests'. */
    json_int_t id;
    enum cs_request_kind kind;
    uint64_t cond_seq;  /* CS_REQ_MONITOR, CS_REQ_COND_CHANGE: conditions sent. */
    ovsdb_cs_txn_cb cb; /* CS_REQ_TRANSACT. */
    void *aux;
};

/* The monitor condition of one table. */
struct cs_cond {
    struct hmap_node node; /* In ovsdb_cs's 'conds', by hash_string(table). */
    char *table;
    json_t *cond;
    bool dirty; /* Changed since the last request that carried it. */
};

enum cs_schema_status {
    CS_SCHEMA_PENDING,
    CS_SCHEMA_RECEIVED,
    CS_SCHEMA_FAILED,
};

enum cs_server_status {
    CS_SERVER_PENDING,    /* Waiting for the _Server schema. */
    CS_SERVER_NONE,       /* No usable _Server database. */
    CS_SERVER_MONITORING, /* Waiting for the _Server.Database monitor reply. */
    CS_SERVER_OK,         /* Monitoring; this member is acceptable. */
};

struct ovsdb_cs {
    struct poll_loop *loop;

    /* Configuration. */
    char *database;
    char **remotes;
    size_t n_remotes;
    struct tls_config tls; /* Strings owned; meaningful if 'have_tls'. */
    bool have_tls;
    uint32_t probe_interval_ms;
    bool leader_only;
    bool monitor_all;
    char **tables; /* NULL-terminated, or NULL for every table. */
    struct hmap conds;
    uint64_t cond_seq;  /* Bumped by every change to what is monitored. */
    uint64_t acked_seq; /* What the replica reflects. */

    ovsdb_cs_change_cb change_cb;
    void *change_aux;

    /* Connection. */
    enum ovsdb_cs_state state;
    size_t cur_remote;
    struct backoff backoff;
    struct jsonrpc *rpc;
    int fd;
    uint32_t events;
    bool fd_watched;
    int pending_error; /* Breaks the connection at the next cs_process(). */
    struct poll_timer reconnect_timer;
    struct poll_timer probe_timer;
    struct poll_timer process_timer;
    uint64_t probe_sent_ms; /* When the outstanding probe was sent, or 0. */
    json_int_t next_id;
    struct ovnic_list requests;

    /* Progress of the current connection. */
    enum cs_schema_status schema_status;
    json_t *conn_schema;     /* get_schema reply for the database. */
    char *conn_schema_error; /* Or the error it got. */
    enum cs_server_status server_status;
    struct ovsdb_schema *server_schema;
    struct ovsdb_replica *server_replica;
    int try_version;          /* Monitor version being requested. */
    json_t *monitor_id;       /* Current data monitor id. */
    json_t *new_monitor_id;   /* Id requested by an unacknowledged cond change. */
    bool cond_change_pending; /* A monitor_cond_change awaits its reply. */
    uint64_t monitor_serial;  /* For unique monitor ids. */

    /* Survives reconnections. */
    json_t *schema_json;
    struct ovsdb_schema *schema;
    struct ovsdb_replica *replica;
    int64_t max_index; /* Highest cluster index seen, -1 if none. */
    struct ovsdb_cs_stats stats;
};

static void cs_connect(struct ovsdb_cs *cs);
static void cs_process(struct ovsdb_cs *cs);
static void cs_send_cond_change(struct ovsdb_cs *cs);

/* ---------------------------------------------------------------------------------
 * Small helpers.
 */

const char *
ovsdb_cs_state_to_string(enum ovsdb_cs_state state)
{
    switch (state) {
    case OVSDB_CS_IDLE:
        return "IDLE";
    case OVSDB_CS_CONNECTING:
        return "CONNECTING";
    case OVSDB_CS_SCHEMA:
        return "SCHEMA";
    case OVSDB_CS_SERVER:
        return "SERVER";
    case OVSDB_CS_MONITOR:
        return "MONITOR";
    case OVSDB_CS_SYNCED:
        return "SYNCED";
    }
    return "UNKNOWN";
}

int
ovsdb_cs_error_to_errno(const char *error)
{
    static const struct {
        const char *name;
        int code;
    } map[] = {
        {"constraint violation", -EINVAL},
        {"referential integrity violation", -EINVAL},
        {"syntax error", -EINVAL},
        {"syntax error or unknown column", -EINVAL},
        {"domain error", -EDOM},
        {"range error", -ERANGE},
        {"resources exhausted", -ENOSPC},
        {"timed out", -ETIMEDOUT},
        {"not allowed", -EPERM},
        {"permission error", -EPERM},
        {"I/O error", -EIO},
        {"duplicate uuid-name", -EEXIST},
        {"duplicate uuid", -EEXIST},
        {"unknown database", -ENOENT},
        {"canceled", -ECANCELED},
        {"aborted", -ECANCELED},
        {"not cluster leader", -EAGAIN},
    };
    for (size_t i = 0; error && i < ARRAY_SIZE(map); i++) {
        if (!strcmp(error, map[i].name)) {
            return map[i].code;
        }
    }
    return -EPROTO;
}

static bool
cs_is_monitored(const struct ovsdb_cs *cs, const char *table)
{
    if (!cs->tables) {
        return true;
    }
    for (char **t = cs->tables; *t; t++) {
        if (!strcmp(*t, table)) {
            return true;
        }
    }
    return false;
}

static struct cs_cond *
cs_cond_find(const struct ovsdb_cs *cs, const char *table)
{
    struct cs_cond *c;
    HMAP_FOR_EACH_WITH_HASH (c, node, hash_string(table, 0), &cs->conds) {
        if (!strcmp(c->table, table)) {
            return c;
        }
    }
    return NULL;
}

static void
cs_set_state(struct ovsdb_cs *cs, enum ovsdb_cs_state state)
{
    if (cs->state != state) {
        OLOG_DBG_RL(&state_rl, "%s: %s -> %s", cs->database,
                    ovsdb_cs_state_to_string(cs->state), ovsdb_cs_state_to_string(state));
        cs->state = state;
        if (cs->change_cb) {
            cs->change_cb(cs, cs->change_aux);
        }
    }
}

static void
cs_notify_change(struct ovsdb_cs *cs)
{
    if (cs->change_cb) {
        cs->change_cb(cs, cs->change_aux);
    }
}

/* Makes cs_process() run again soon, from the poll loop. */
static void
cs_process_timer_cb(struct poll_loop *loop, struct poll_timer *timer, void *aux)
{
    cs_process(aux);
}

static void
cs_schedule_process(struct ovsdb_cs *cs)
{
    poll_timer_start(cs->loop, &cs->process_timer, 0, cs_process_timer_cb, cs);
}

/* ---------------------------------------------------------------------------------
 * Connection life cycle.
 */

static void
cs_reconnect_timer_cb(struct poll_loop *loop, struct poll_timer *timer, void *aux)
{
    cs_connect(aux);
}

static void
cs_request_free(struct cs_request *req)
{
    free(req);
}

/* Drops the connection (if any) and schedules the next attempt, on the next remote,
 * after 'delay_ms'.  Pending transactions fail with -ECONNRESET. */
static void
cs_disconnect(struct ovsdb_cs *cs, uint32_t delay_ms)
{
    /* Detach the pending requests first: callbacks may call back into 'cs'. */
    struct ovnic_list requests;
    ovnic_list_init(&requests);
    while (!ovnic_list_is_empty(&cs->requests)) {
        ovnic_list_push_back(&requests, ovnic_list_pop_front(&cs->requests));
    }

    if (cs->rpc) {
        if (cs->fd_watched) {
            poll_loop_fd_remove(cs->loop, cs->fd);
            cs->fd_watched = false;
        }
        jsonrpc_close(cs->rpc);
        cs->rpc = NULL;
    }
    poll_timer_stop(cs->loop, &cs->probe_timer);
    poll_timer_stop(cs->loop, &cs->process_timer);
    cs->pending_error = 0;
    cs->probe_sent_ms = 0;

    json_decref(cs->conn_schema);
    cs->conn_schema = NULL;
    free(cs->conn_schema_error);
    cs->conn_schema_error = NULL;
    ovsdb_replica_destroy(cs->server_replica);
    cs->server_replica = NULL;
    ovsdb_schema_destroy(cs->server_schema);
    cs->server_schema = NULL;
    json_decref(cs->monitor_id);
    cs->monitor_id = NULL;
    json_decref(cs->new_monitor_id);
    cs->new_monitor_id = NULL;
    cs->cond_change_pending = false;

    if (cs->n_remotes) {
        cs->cur_remote = (cs->cur_remote + 1) % cs->n_remotes;
    }
    poll_timer_start(cs->loop, &cs->reconnect_timer, delay_ms, cs_reconnect_timer_cb, cs);
    cs_set_state(cs, OVSDB_CS_IDLE);

    while (!ovnic_list_is_empty(&requests)) {
        struct cs_request *req =
            CONTAINER_OF(ovnic_list_pop_front(&requests), struct cs_request, node);
        if (req->kind == CS_REQ_TRANSACT && req->cb) {
            req->cb(req->aux, -ECONNRESET, NULL,
                    "connection to the database was lost before the reply");
        }
        cs_request_free(req);
    }
}

/* Drops the connection after a failure and retries with back-off. */
static void
cs_retry(struct ovsdb_cs *cs)
{
    cs_disconnect(cs, backoff_next(&cs->backoff));
}

/* Bad input from the server: counted, logged, and the connection is reset. */
static void
cs_protocol_error(struct ovsdb_cs *cs, const char *what, const struct ovnic_err *err)
{
    char buf[512];
    cs->stats.errors++;
    OLOG_WARN_RL(&proto_rl, "%s: %s from %s: %s; reconnecting", cs->database, what,
                 cs->rpc ? jsonrpc_name(cs->rpc) : "server",
                 err && ovnic_err_is_set(err) ? ovnic_err_format(err, buf, sizeof buf)
                                              : "malformed");
    cs_retry(cs);
}

static void
cs_protocol_error_msg(struct ovsdb_cs *cs, const char *what, const char *detail)
{
    struct ovnic_err err = {0};
    ovnic_err_set(&err, -EPROTO, NULL, what, "%s", detail ? detail : "");
    cs_protocol_error(cs, "protocol error", &err);
}

static void
cs_update_events(struct ovsdb_cs *cs)
{
    if (!cs->rpc) {
        return;
    }
    uint32_t events = jsonrpc_poll_events(cs->rpc);
    if (!cs->fd_watched) {
        return;
    }
    if (events != cs->events) {
        poll_loop_fd_modify(cs->loop, cs->fd, events);
        cs->events = events;
    }
}

static int
cs_send_request(struct ovsdb_cs *cs, const char *method, json_t *params,
                enum cs_request_kind kind, struct cs_request **reqp)
{
    struct cs_request *req = calloc(1, sizeof *req);
    struct jsonrpc_msg *msg = NULL;
    if (req && params) {
        req->id = ++cs->next_id;
        req->kind = kind;
        msg = jsonrpc_msg_create_request(method, params, json_integer(req->id));
    } else {
        json_decref(params);
    }
    int error = msg ? jsonrpc_send(cs->rpc, msg) : -ENOMEM;
    if (error) {
        free(req);
        /* Break the connection from the poll loop, not from deep in a caller. */
        cs->pending_error = error;
        cs_schedule_process(cs);
        return error;
    }
    ovnic_list_push_back(&cs->requests, &req->node);
    if (reqp) {
        *reqp = req;
    }
    cs_update_events(cs);
    return 0;
}

static void
cs_probe_timer_cb(struct poll_loop *loop, struct poll_timer *timer, void *aux)
{
    struct ovsdb_cs *cs = aux;
    if (!cs->rpc) {
        return;
    }
    uint64_t interval = cs->probe_interval_ms;
    uint64_t now = time_msec();
    uint64_t last_rx = jsonrpc_last_rx_msec(cs->rpc);

    /* A probe is only sent after a full interval of silence, so anything received
     * at or after the time it was sent is an answer. */
    if (cs->probe_sent_ms && last_rx >= cs->probe_sent_ms) {
        cs->probe_sent_ms = 0;
    }
    if (now - last_rx < interval) {
        poll_timer_start(loop, timer, last_rx + interval - now, cs_probe_timer_cb, cs);
        return;
    }
    if (!cs->probe_sent_ms) {
        cs->probe_sent_ms = now;
        if (cs->state != OVSDB_CS_CONNECTING) {
            OLOG_DBG_RL(&state_rl, "%s: idle for %" PRIu64 " ms, sending echo",
                        jsonrpc_name(cs->rpc), now - last_rx);
            cs_send_request(cs, "echo", json_array(), CS_REQ_ECHO, NULL);
        }
        poll_timer_start(loop, timer, interval, cs_probe_timer_cb, cs);
        return;
    }
    if (now - cs->probe_sent_ms < interval) {
        poll_timer_start(loop, timer, cs->probe_sent_ms + interval - now,
                         cs_probe_timer_cb, cs);
        return;
    }
    OLOG_WARN_RL(&conn_rl, "%s: no response for %" PRIu64 " ms, disconnecting",
                 jsonrpc_name(cs->rpc), now - last_rx);
    if (cs->state == OVSDB_CS_CONNECTING) {
        cs->stats.connect_failures++;
    } else {
        cs->stats.disconnects++;
    }
    cs_retry(cs);
}

static void
cs_fd_cb(struct poll_loop *loop, int fd, uint32_t events, void *aux)
{
    cs_process(aux);
}

static void
cs_on_connected(struct ovsdb_cs *cs)
{
    cs->stats.connects++;
    cs->schema_status = CS_SCHEMA_PENDING;
    cs->server_status = CS_SERVER_PENDING;
    cs->try_version = 3;
    OLOG_INFO_RL(&conn_rl, "%s: connected to %s", cs->database, jsonrpc_name(cs->rpc));
    cs_set_state(cs, OVSDB_CS_SCHEMA);
    if (!cs->rpc) {
        return;
    }
    if (strcmp(cs->database, CS_SERVER_DB)) {
        cs_send_request(cs, "get_schema", json_pack("[s]", CS_SERVER_DB),
                        CS_REQ_SERVER_SCHEMA, NULL);
    } else {
        cs->server_status = CS_SERVER_NONE;
    }
    cs_send_request(cs, "get_schema", json_pack("[s]", cs->database), CS_REQ_SCHEMA,
                    NULL);
}

static void
cs_connect(struct ovsdb_cs *cs)
{
    if (cs->rpc) {
        return;
    }
    const char *remote = cs->remotes[cs->cur_remote];
    struct ovnic_err err = {0};
    struct stream *stream;
    int error = stream_open(remote, cs->have_tls ? &cs->tls : NULL, &stream, &err);
    if (!error) {
        error = jsonrpc_open(stream, 0, &cs->rpc);
    }
    if (error) {
        char buf[256];
        cs->stats.connect_failures++;
        OLOG_WARN_RL(&conn_rl, "%s: connecting to %s failed: %s", cs->database, remote,
                     ovnic_err_is_set(&err) ? ovnic_err_format(&err, buf, sizeof buf)
                                            : strerror(-error));
        cs_retry(cs);
        return;
    }

    cs->fd = jsonrpc_fd(cs->rpc);
    cs->events = jsonrpc_poll_events(cs->rpc);
    error = poll_loop_fd_add(cs->loop, cs->fd, cs->events, cs_fd_cb, cs);
    if (error) {
        cs->stats.connect_failures++;
        OLOG_WARN_RL(&conn_rl, "%s: cannot watch connection to %s: %s", cs->database,
                     remote, strerror(-error));
        cs_retry(cs);
        return;
    }
    cs->fd_watched = true;
    cs_set_state(cs, OVSDB_CS_CONNECTING);
    if (cs->probe_interval_ms && cs->rpc) {
        poll_timer_start(cs->loop, &cs->probe_timer, cs->probe_interval_ms,
                         cs_probe_timer_cb, cs);
    }
    cs_schedule_process(cs);
}

/* ---------------------------------------------------------------------------------
 * Schema, cluster member selection and monitor requests.
 */

/* Reads column 'name' of 'row' if it holds exactly one atom of 'type'. */
static const union ovsdb_atom *
cs_row_atom(const struct ovsdb_row *row, const char *name, enum ovsdb_atomic_type type)
{
    const struct ovsdb_datum *d = ovsdb_row_get(row, name);
    if (!d || d->n != 1 || d->key_type != type || d->value_type != OVSDB_TYPE_VOID) {
        return NULL;
    }
    return &d->keys[0];
}

/* Checks this server's _Server.Database row for the database.  Returns true if the
 * member is acceptable; otherwise counts a skip and returns false. */
static bool
cs_check_member(struct ovsdb_cs *cs)
{
    const char *why = NULL;
    char detail[128] = "";
    struct ovsdb_replica_table *t = ovsdb_replica_table(cs->server_replica, "Database");
    const struct ovsdb_row *row = NULL;

    for (row = ovsdb_replica_table_next(t, NULL); row;
         row = ovsdb_replica_table_next(t, row)) {
        const union ovsdb_atom *name = cs_row_atom(row, "name", OVSDB_TYPE_STRING);
        if (name && !strcmp(name->string, cs->database)) {
            break;
        }
    }
    if (!row) {
        why = "does not serve the database";
    } else {
        const union ovsdb_atom *model = cs_row_atom(row, "model", OVSDB_TYPE_STRING);
        const union ovsdb_atom *connected =
            cs_row_atom(row, "connected", OVSDB_TYPE_BOOLEAN);
        const union ovsdb_atom *leader = cs_row_atom(row, "leader", OVSDB_TYPE_BOOLEAN);
        const union ovsdb_atom *index = cs_row_atom(row, "index", OVSDB_TYPE_INTEGER);

        if (model && !strcmp(model->string, "clustered")) {
            if (connected && !connected->boolean) {
                why = "is not connected to the cluster";
            } else if (cs->leader_only && leader && !leader->boolean) {
                why = "is not the cluster leader";
            } else if (index && index->integer < cs->max_index) {
                why = "is behind";
                snprintf(detail, sizeof detail,
                         " (index %" PRId64 ", already seen %" PRId64 ")", index->integer,
                         cs->max_index);
            }
        }
        if (!why && index && index->integer > cs->max_index) {
            cs->max_index = index->integer;
        }
    }

    if (why) {
        cs->stats.member_skips++;
        OLOG_INFO_RL(&member_rl, "%s: server %s %s%s; trying another", cs->database,
                     jsonrpc_name(cs->rpc), why, detail);
        cs_retry(cs);
        return false;
    }
    return true;
}

static void
cs_send_server_monitor(struct ovsdb_cs *cs)
{
    static const char *const wanted[] = {"name", "model", "connected", "leader", "index"};
    const struct ovsdb_table_schema *ts =
        ovsdb_schema_find_table(cs->server_schema, "Database");
    json_t *columns = json_array();
    for (size_t i = 0; columns && i < ARRAY_SIZE(wanted); i++) {
        if (ovsdb_table_schema_find_column(ts, wanted[i])) {
            json_array_append_new(columns, json_string(wanted[i]));
        }
    }
    json_t *params = json_pack("[s, s, {s:[{s:o, s:[b]}]}]", CS_SERVER_DB, "ovnic-server",
                               "Database", "columns", columns, "where", 1);
    cs->server_status = CS_SERVER_MONITORING;
    cs_send_request(cs, "monitor_cond", params, CS_REQ_SERVER_MONITOR, NULL);
}

/* Adopts the schema received on this connection.  Returns 0 or -EPROTO (after
 * resetting the connection). */
static int
cs_install_schema(struct ovsdb_cs *cs)
{
    if (cs->schema_json && json_equal(cs->schema_json, cs->conn_schema)) {
        return 0;
    }

    struct ovnic_err err = {0};
    struct ovsdb_schema *schema;
    struct ovsdb_replica *replica;
    int error = ovsdb_schema_from_json(cs->conn_schema, &schema, &err);
    if (error) {
        cs_protocol_error(cs, "invalid schema", &err);
        return -EPROTO;
    }
    error = ovsdb_replica_create(schema, &replica);
    if (error) {
        ovsdb_schema_destroy(schema);
        cs_protocol_error(cs, "cannot create replica", NULL);
        return error;
    }
    if (cs->replica) {
        OLOG_INFO_RL(&conn_rl, "%s: schema changed (now version %s); rebuilding replica",
                     cs->database, schema->version ? schema->version : "?");
    }
    ovsdb_replica_destroy(cs->replica);
    ovsdb_schema_destroy(cs->schema);
    json_decref(cs->schema_json);
    cs->replica = replica;
    cs->schema = schema;
    cs->schema_json = json_incref(cs->conn_schema);
    /* Nothing the old replica held can be resumed into the new one. */
    cs->stats.last_txn_id[0] = '\0';
    cs->cond_seq++;

    struct cs_cond *c;
    HMAP_FOR_EACH (c, node, &cs->conds) {
        if (!ovsdb_schema_find_table(schema, c->table)) {
            OLOG_WARN_RL(&proto_rl, "%s: condition on unknown table %s ignored",
                         cs->database, c->table);
        }
    }
    return 0;
}

static json_t *
cs_monitor_requests(struct ovsdb_cs *cs, int version)
{
    json_t *requests = json_object();
    for (size_t i = 0; requests && i < cs->schema->n_tables; i++) {
        const struct ovsdb_table_schema *ts = cs->schema->table_array[i];
        if (!cs_is_monitored(cs, ts->name)) {
            continue;
        }
        json_t *columns = json_array();
        for (size_t j = 0; columns && j < ts->n_columns; j++) {
            json_array_append_new(columns, json_string(ts->columns[j].name));
        }
        json_t *req = json_pack("{s:o}", "columns", columns);
        struct cs_cond *c = cs_cond_find(cs, ts->name);
        if (req && c && version >= 2 && !cs->monitor_all) {
            json_object_set(req, "where", c->cond);
        }
        json_object_set_new(requests, ts->name, json_pack("[o]", req));
    }
    if (cs->tables) {
        for (char **t = cs->tables; *t; t++) {
            if (!ovsdb_schema_find_table(cs->schema, *t)) {
                OLOG_WARN_RL(&proto_rl, "%s: table %s to monitor is not in the schema",
                             cs->database, *t);
            }
        }
    }
    return requests;
}

static void
cs_send_monitor(struct ovsdb_cs *cs)
{
    static const char *const methods[] = {NULL, "monitor", "monitor_cond",
                                          "monitor_cond_since"};
    int version = cs->try_version;
    char id[48];
    snprintf(id, sizeof id, "ovnic-%" PRIu64, ++cs->monitor_serial);
    json_decref(cs->monitor_id);
    cs->monitor_id = json_string(id);

    json_t *params = json_pack("[s, O, o]", cs->database, cs->monitor_id,
                               cs_monitor_requests(cs, version));
    if (params && version == 3) {
        /* Resume only if the replica reflects exactly what is being asked for. */
        bool resume = cs->stats.last_txn_id[0] && cs->acked_seq == cs->cond_seq;
        json_array_append_new(params,
                              json_string(resume ? cs->stats.last_txn_id : CS_ZERO_UUID));
    }

    struct cs_cond *c;
    HMAP_FOR_EACH (c, node, &cs->conds) {
        c->dirty = false;
    }
    struct cs_request *req;
    if (!cs_send_request(cs, methods[version], params, CS_REQ_MONITOR, &req)) {
        req->cond_seq = cs->cond_seq;
    }
    cs_set_state(cs, OVSDB_CS_MONITOR);
}

/* Moves on once both schemas (and the member check) allow it. */
static void
cs_advance(struct ovsdb_cs *cs)
{
    if (cs->state != OVSDB_CS_SCHEMA && cs->state != OVSDB_CS_SERVER) {
        return;
    }
    if (cs->schema_status == CS_SCHEMA_PENDING ||
        cs->server_status == CS_SERVER_PENDING) {
        return;
    }
    if (cs->server_status == CS_SERVER_MONITORING) {
        cs_set_state(cs, OVSDB_CS_SERVER);
        return;
    }
    if (cs->schema_status == CS_SCHEMA_FAILED) {
        OLOG_WARN_RL(&conn_rl, "%s: %s cannot provide the schema: %s", cs->database,
                     jsonrpc_name(cs->rpc),
                     cs->conn_schema_error ? cs->conn_schema_error : "error");
        cs_retry(cs);
        return;
    }
    if (!cs_install_schema(cs)) {
        cs_send_monitor(cs);
    }
}

/* ---------------------------------------------------------------------------------
 * Replies.
 */

static void
cs_handle_schema_reply(struct ovsdb_cs *cs, const struct jsonrpc_msg *msg)
{
    if (msg->type == JSONRPC_ERROR) {
        const char *s = jsonrpc_msg_error_string(msg);
        cs->conn_schema_error = strdup(s ? s : "error");
        cs->schema_status = CS_SCHEMA_FAILED;
    } else if (!json_is_object(msg->result)) {
        cs_protocol_error_msg(cs, "get_schema reply is not an object", NULL);
        return;
    } else {
        cs->conn_schema = json_incref(msg->result);
        cs->schema_status = CS_SCHEMA_RECEIVED;
    }
    cs_advance(cs);
}

static void
cs_handle_server_schema_reply(struct ovsdb_cs *cs, const struct jsonrpc_msg *msg)
{
    if (msg->type == JSONRPC_ERROR) {
        /* Servers before OVS 2.9 have no _Server database. */
        cs->server_status = CS_SERVER_NONE;
        cs_advance(cs);
        return;
    }

    struct ovnic_err err = {0};
    struct ovsdb_schema *schema;
    int error = ovsdb_schema_from_json(msg->result, &schema, &err);
    if (error) {
        cs_protocol_error(cs, "invalid _Server schema", &err);
        return;
    }
    if (!ovsdb_schema_find_table(schema, "Database") ||
        ovsdb_replica_create(schema, &cs->server_replica)) {
        ovsdb_schema_destroy(schema);
        cs->server_status = CS_SERVER_NONE;
    } else {
        cs->server_schema = schema;
        cs_send_server_monitor(cs);
    }
    cs_advance(cs);
}

static void
cs_handle_server_monitor_reply(struct ovsdb_cs *cs, const struct jsonrpc_msg *msg)
{
    if (msg->type == JSONRPC_ERROR) {
        cs->server_status = CS_SERVER_NONE;
        cs_advance(cs);
        return;
    }
    struct ovnic_err err = {0};
    int error = ovsdb_replica_replace(cs->server_replica, OVSDB_UPDATE_V2, msg->result,
                                      NULL, &err);
    if (error) {
        cs_protocol_error(cs, "bad _Server.Database contents", &err);
        return;
    }
    ovsdb_replica_track_clear(cs->server_replica);
    if (cs_check_member(cs)) {
        cs->server_status = CS_SERVER_OK;
        cs_advance(cs);
    }
}

static void
cs_set_last_txn_id(struct ovsdb_cs *cs, const char *id)
{
    snprintf(cs->stats.last_txn_id, sizeof cs->stats.last_txn_id, "%s", id);
}

static bool
cs_is_txn_id(const json_t *json)
{
    return json_is_string(json) &&
           json_string_length(json) < sizeof((struct ovsdb_cs_stats *)0)->last_txn_id &&
           strlen(json_string_value(json)) == json_string_length(json);
}

static void
cs_handle_monitor_reply(struct ovsdb_cs *cs, const struct jsonrpc_msg *msg,
                        uint64_t cond_seq)
{
    if (msg->type == JSONRPC_ERROR) {
        if (jsonrpc_msg_is_unknown_method(msg) && cs->try_version > 1) {
            cs->try_version--;
            OLOG_INFO_RL(&conn_rl, "%s: %s lacks monitor version %d, trying %d",
                         cs->database, jsonrpc_name(cs->rpc), cs->try_version + 1,
                         cs->try_version);
            cs_send_monitor(cs);
            return;
        }
        const char *s = jsonrpc_msg_error_string(msg);
        OLOG_WARN_RL(&conn_rl, "%s: monitor request to %s failed: %s", cs->database,
                     jsonrpc_name(cs->rpc), s ? s : "unknown error");
        cs_retry(cs);
        return;
    }

    int version = cs->try_version;
    const json_t *updates = msg->result;
    bool found = false;
    const json_t *txn_id = NULL;
    if (version == 3) {
        if (!json_is_array(msg->result) || json_array_size(msg->result) != 3 ||
            !json_is_boolean(json_array_get(msg->result, 0)) ||
            !cs_is_txn_id(json_array_get(msg->result, 1))) {
            cs_protocol_error_msg(cs, "malformed monitor_cond_since reply", NULL);
            return;
        }
        found = json_is_true(json_array_get(msg->result, 0));
        txn_id = json_array_get(msg->result, 1);
        updates = json_array_get(msg->result, 2);
    }
    if (!json_is_object(updates)) {
        cs_protocol_error_msg(cs, "monitor reply lacks table updates", NULL);
        return;
    }

    struct ovnic_err err = {0};
    enum ovsdb_update_format format = version == 1 ? OVSDB_UPDATE_V1 : OVSDB_UPDATE_V2;
    int error = found ? ovsdb_replica_apply(cs->replica, format, updates, &err)
                      : ovsdb_replica_replace(cs->replica, format, updates, NULL, &err);
    if (error) {
        /* The next sync is a full one: resuming from a point whose data did not
         * fit the replica (e.g. rows both brought in by a condition change and
         * resent as inserts) could fail the same way forever. */
        cs->stats.last_txn_id[0] = '\0';
        cs_protocol_error(cs, "monitor reply does not fit the replica", &err);
        return;
    }
    if (found) {
        cs->stats.resumed_syncs++;
    } else {
        cs->stats.full_syncs++;
    }
    cs_set_last_txn_id(cs, txn_id ? json_string_value(txn_id) : "");
    cs->acked_seq = cond_seq;
    cs->stats.monitor_version = version;
    backoff_reset(&cs->backoff);
    OLOG_INFO_RL(&conn_rl, "%s: synced with %s (%s, monitor version %d)", cs->database,
                 jsonrpc_name(cs->rpc), found ? "resumed" : "full", version);
    cs_set_state(cs, OVSDB_CS_SYNCED);
    if (cs->state == OVSDB_CS_SYNCED && cs->acked_seq != cs->cond_seq) {
        cs_send_cond_change(cs);
    }
}

static void
cs_handle_cond_change_reply(struct ovsdb_cs *cs, const struct jsonrpc_msg *msg,
                            uint64_t cond_seq)
{
    cs->cond_change_pending = false;
    if (msg->type == JSONRPC_ERROR) {
        const char *s = jsonrpc_msg_error_string(msg);
        struct ovnic_err err = {0};
        ovnic_err_set(&err, -EPROTO, NULL, "monitor_cond_change refused", "%s",
                      s ? s : "unknown error");
        cs_protocol_error(cs, "condition change failed", &err);
        return;
    }
    json_decref(cs->monitor_id);
    cs->monitor_id = cs->new_monitor_id;
    cs->new_monitor_id = NULL;
    cs->acked_seq = cond_seq;
    if (cs->acked_seq != cs->cond_seq) {
        cs_send_cond_change(cs);
    } else {
        /* Consumers waiting for ovsdb_cs_conditions_are_acked() learn it here: the
         * rows the change brought in may have arrived before this reply. */
        cs_notify_change(cs);
    }
}

/* Finds the first failed operation in a transact result. */
static const json_t *
cs_txn_find_error(const json_t *result)
{
    for (size_t i = 0; i < json_array_size(result); i++) {
        const json_t *op = json_array_get(result, i);
        if (json_is_object(op) && json_object_get(op, "error")) {
            return op;
        }
    }
    return NULL;
}

static void
cs_txn_fail(struct cs_request *req, const json_t *error)
{
    const char *name = NULL;
    const char *details = NULL;
    if (json_is_string(error)) {
        name = json_string_value(error);
    } else if (json_is_object(error)) {
        name = json_string_value(json_object_get(error, "error"));
        details = json_string_value(json_object_get(error, "details"));
    }
    int code = ovsdb_cs_error_to_errno(name);
    char *text = NULL;
    int n = details ? asprintf(&text, "%s: %s", name ? name : "unknown error", details)
                    : asprintf(&text, "%s", name ? name : "unknown error");
    req->cb(req->aux, code, NULL, n >= 0 ? text : "transaction failed");
    if (n >= 0) {
        free(text);
    }
}

static void
cs_handle_transact_reply(struct ovsdb_cs *cs, struct cs_request *req,
                         const struct jsonrpc_msg *msg)
{
    if (msg->type == JSONRPC_REPLY && !json_is_array(msg->result)) {
        if (req->cb) {
            req->cb(req->aux, -EPROTO, NULL, "malformed transact reply");
        }
        cs_protocol_error_msg(cs, "transact reply is not an array", NULL);
        return;
    }
    if (!req->cb) {
        return;
    }
    if (msg->type == JSONRPC_ERROR) {
        cs_txn_fail(req, msg->error);
        return;
    }
    const json_t *failed = cs_txn_find_error(msg->result);
    if (failed) {
        cs_txn_fail(req, failed);
    } else {
        req->cb(req->aux, 0, msg->result, NULL);
    }
}

static struct cs_request *
cs_request_find(struct ovsdb_cs *cs, const json_t *id)
{
    if (!json_is_integer(id)) {
        return NULL;
    }
    struct cs_request *req;
    LIST_FOR_EACH (req, node, &cs->requests) {
        if (req->id == json_integer_value(id)) {
            return req;
        }
    }
    return NULL;
}

static void
cs_handle_reply(struct ovsdb_cs *cs, const struct jsonrpc_msg *msg)
{
    struct cs_request *req = cs_request_find(cs, msg->id);
    if (!req) {
        char *id = json_dumps(msg->id, JSON_COMPACT | JSON_ENCODE_ANY);
        cs_protocol_error_msg(cs, "reply to no pending request", id);
        free(id);
        return;
    }
    ovnic_list_remove(&req->node);

    switch (req->kind) {
    case CS_REQ_SCHEMA:
        cs_handle_schema_reply(cs, msg);
        break;
    case CS_REQ_SERVER_SCHEMA:
        cs_handle_server_schema_reply(cs, msg);
        break;
    case CS_REQ_SERVER_MONITOR:
        cs_handle_server_monitor_reply(cs, msg);
        break;
    case CS_REQ_MONITOR:
        cs_handle_monitor_reply(cs, msg, req->cond_seq);
        break;
    case CS_REQ_COND_CHANGE:
        cs_handle_cond_change_reply(cs, msg, req->cond_seq);
        break;
    case CS_REQ_ECHO:
        break;
    case CS_REQ_TRANSACT:
        cs_handle_transact_reply(cs, req, msg);
        break;
    }
    cs_request_free(req);
}

/* ---------------------------------------------------------------------------------
 * Notifications and requests from the server.
 */

static void
cs_handle_server_update(struct ovsdb_cs *cs, const json_t *params)
{
    if (json_array_size(params) != 2) {
        cs_protocol_error_msg(cs, "malformed update2 for _Server", NULL);
        return;
    }
    struct ovnic_err err = {0};
    int error = ovsdb_replica_apply(cs->server_replica, OVSDB_UPDATE_V2,
                                    json_array_get(params, 1), &err);
    if (error) {
        cs_protocol_error(cs, "bad _Server.Database update", &err);
        return;
    }
    ovsdb_replica_track_clear(cs->server_replica);
    cs_check_member(cs);
}

static void
cs_handle_update(struct ovsdb_cs *cs, const struct jsonrpc_msg *msg)
{
    const json_t *params = msg->params;
    const json_t *id = json_array_get(params, 0);

    if (!strcmp(msg->method, "update2") && cs->server_replica &&
        cs->server_status == CS_SERVER_OK && json_is_string(id) &&
        !strcmp(json_string_value(id), "ovnic-server")) {
        cs_handle_server_update(cs, params);
        return;
    }

    bool ours = id && ((cs->monitor_id && json_equal(id, cs->monitor_id)) ||
                       (cs->new_monitor_id && json_equal(id, cs->new_monitor_id)));
    if (!ours || cs->state != OVSDB_CS_SYNCED) {
        cs_protocol_error_msg(cs, "update for no active monitor", msg->method);
        return;
    }

    int version = cs->stats.monitor_version;
    static const char *const methods[] = {NULL, "update", "update2", "update3"};
    size_t n_params = version == 3 ? 3 : 2;
    if (strcmp(msg->method, methods[version]) || json_array_size(params) != n_params ||
        (version == 3 && !cs_is_txn_id(json_array_get(params, 1)))) {
        cs_protocol_error_msg(cs, "malformed update", msg->method);
        return;
    }

    struct ovnic_err err = {0};
    int error =
        ovsdb_replica_apply(cs->replica, version == 1 ? OVSDB_UPDATE_V1 : OVSDB_UPDATE_V2,
                            json_array_get(params, n_params - 1), &err);
    if (error) {
        /* The next sync is a full one: resuming from a point whose data did not
         * fit the replica (e.g. rows both brought in by a condition change and
         * resent as inserts) could fail the same way forever. */
        cs->stats.last_txn_id[0] = '\0';
        cs_protocol_error(cs, "update does not fit the replica", &err);
        return;
    }
    cs->stats.updates++;
    if (version == 3) {
        /* The server sends the zero id with the rows a monitor_cond_change brings in:
         * they belong to no transaction.  The replica then reflects the same
         * transaction as before under the new conditions, so the previous id stays
         * valid for a later resume. */
        const char *txn_id = json_string_value(json_array_get(params, 1));
        if (strcmp(txn_id, CS_ZERO_UUID) || !cs->stats.last_txn_id[0]) {
            cs_set_last_txn_id(cs, txn_id);
        }
    }
    cs_notify_change(cs);
}

static void
cs_handle_notify(struct ovsdb_cs *cs, const struct jsonrpc_msg *msg)
{
    if (!strcmp(msg->method, "update3") || !strcmp(msg->method, "update2") ||
        !strcmp(msg->method, "update")) {
        cs_handle_update(cs, msg);
    } else if (!strcmp(msg->method, "monitor_canceled")) {
        OLOG_INFO_RL(&conn_rl, "%s: %s canceled the monitor; reconnecting", cs->database,
                     jsonrpc_name(cs->rpc));
        cs_retry(cs);
    } else {
        OLOG_DBG_RL(&proto_rl, "%s: ignoring notification %s", cs->database, msg->method);
    }
}

static void
cs_handle_request(struct ovsdb_cs *cs, const struct jsonrpc_msg *msg)
{
    struct jsonrpc_msg *reply;
    if (!strcmp(msg->method, "echo")) {
        reply = jsonrpc_msg_create_reply(json_incref(msg->params), msg->id);
    } else {
        OLOG_DBG_RL(&proto_rl, "%s: unknown request %s", cs->database, msg->method);
        reply = jsonrpc_msg_create_error(json_string("unknown method"), msg->id);
    }
    int error = reply ? jsonrpc_send(cs->rpc, reply) : -ENOMEM;
    if (error) {
        cs->pending_error = error;
        cs_schedule_process(cs);
    }
}

static void
cs_handle_msg(struct ovsdb_cs *cs, const struct jsonrpc_msg *msg)
{
    switch (msg->type) {
    case JSONRPC_REQUEST:
        cs_handle_request(cs, msg);
        break;
    case JSONRPC_NOTIFY:
        cs_handle_notify(cs, msg);
        break;
    case JSONRPC_REPLY:
    case JSONRPC_ERROR:
        cs_handle_reply(cs, msg);
        break;
    }
}

static void
cs_connection_failed(struct ovsdb_cs *cs, int error, const struct ovnic_err *err)
{
    char buf[512];
    if (cs->state == OVSDB_CS_CONNECTING) {
        /* The stream layer has logged why (e.g. the TLS verification result). */
        struct ovnic_err cerr = {0};
        ovnic_err_set(&cerr, error, NULL, "connection setup failed", NULL);
        if (error == -EPROTO) {
            cs->stats.errors++;
        } else {
            cs->stats.connect_failures++;
        }
        OLOG_WARN_RL(&conn_rl, "%s: connection to %s: %s", cs->database,
                     cs->remotes[cs->cur_remote],
                     ovnic_err_format(err && ovnic_err_is_set(err) ? err : &cerr, buf,
                                      sizeof buf));
        cs_retry(cs);
        return;
    }
    if (error == -EPROTO || error == -EMSGSIZE) {
        cs_protocol_error(cs, "bad input", err);
        return;
    }
    if (cs->schema_status == CS_SCHEMA_PENDING) {
        /* Dropped after connecting but before any reply: with TLS 1.3 this is how a
         * server that rejects our certificate looks from here.  Counted as an error
         * so that a refusing peer is visible in the statistics. */
        cs->stats.errors++;
    } else {
        cs->stats.disconnects++;
    }
    OLOG_WARN_RL(&conn_rl, "%s: connection to %s %s: %s", cs->database,
                 cs->remotes[cs->cur_remote],
                 error == -EPIPE ? "closed by the server" : "failed",
                 err && ovnic_err_is_set(err) ? ovnic_err_format(err, buf, sizeof buf)
                                              : strerror(-error));
    cs_retry(cs);
}

static void
cs_process(struct ovsdb_cs *cs)
{
    if (!cs->rpc) {
        return;
    }
    if (cs->pending_error) {
        cs_connection_failed(cs, cs->pending_error, NULL);
        return;
    }
    int error = jsonrpc_run(cs->rpc);
    if (error) {
        cs_connection_failed(cs, error, NULL);
        return;
    }
    if (cs->state == OVSDB_CS_CONNECTING) {
        if (!jsonrpc_is_connected(cs->rpc)) {
            cs_update_events(cs);
            return;
        }
        cs_on_connected(cs);
    }

    struct jsonrpc *rpc = cs->rpc;
    int n;
    for (n = 0; n < CS_BATCH && cs->rpc == rpc && !cs->pending_error; n++) {
        struct ovnic_err err = {0};
        struct jsonrpc_msg *msg;
        error = jsonrpc_recv(rpc, &msg, &err);
        if (error == -EAGAIN) {
            break;
        }
        if (error) {
            cs_connection_failed(cs, error, &err);
            return;
        }
        cs_handle_msg(cs, msg);
        jsonrpc_msg_destroy(msg);
    }
    if (cs->rpc != rpc) {
        return;
    }
    if (n == CS_BATCH || cs->pending_error) {
        cs_schedule_process(cs);
    }
    error = jsonrpc_run(cs->rpc);
    if (error) {
        cs_connection_failed(cs, error, NULL);
        return;
    }
    cs_update_events(cs);
}

/* ---------------------------------------------------------------------------------
 * Conditions.
 */

static void
cs_send_cond_change(struct ovsdb_cs *cs)
{
    if (cs->state != OVSDB_CS_SYNCED || cs->cond_change_pending ||
        cs->stats.monitor_version < 2 || cs->monitor_all) {
        return;
    }
    json_t *requests = json_object();
    struct cs_cond *c;
    HMAP_FOR_EACH (c, node, &cs->conds) {
        if (c->dirty && cs_is_monitored(cs, c->table) &&
            ovsdb_schema_find_table(cs->schema, c->table)) {
            json_object_set_new(requests, c->table,
                                json_pack("[{s:O}]", "where", c->cond));
        }
        c->dirty = false;
    }
    if (!json_object_size(requests)) {
        json_decref(requests);
        cs->acked_seq = cs->cond_seq;
        return;
    }
    char id[48];
    snprintf(id, sizeof id, "ovnic-%" PRIu64, ++cs->monitor_serial);
    json_decref(cs->new_monitor_id);
    cs->new_monitor_id = json_string(id);
    json_t *params = json_pack("[O, O, o]", cs->monitor_id, cs->new_monitor_id, requests);
    struct cs_request *req;
    if (!cs_send_request(cs, "monitor_cond_change", params, CS_REQ_COND_CHANGE, &req)) {
        req->cond_seq = cs->cond_seq;
        cs->cond_change_pending = true;
    }
}

static bool
cs_is_condition_function(const char *s)
{
    static const char *const functions[] = {
        "==", "!=", "<", "<=", ">", ">=", "includes", "excludes"};
    for (size_t i = 0; s && i < ARRAY_SIZE(functions); i++) {
        if (!strcmp(s, functions[i])) {
            return true;
        }
    }
    return false;
}

static int
cs_check_condition(const struct ovsdb_cs *cs, const char *table, const json_t *cond)
{
    const struct ovsdb_table_schema *ts = NULL;
    if (cs->schema) {
        ts = ovsdb_schema_find_table(cs->schema, table);
        if (!ts) {
            return -ENOENT;
        }
    }
    if (!json_is_array(cond)) {
        return -EINVAL;
    }
    for (size_t i = 0; i < json_array_size(cond); i++) {
        const json_t *clause = json_array_get(cond, i);
        if (json_is_boolean(clause)) {
            continue;
        }
        if (!json_is_array(clause) || json_array_size(clause) != 3 ||
            !json_is_string(json_array_get(clause, 0)) ||
            !cs_is_condition_function(json_string_value(json_array_get(clause, 1)))) {
            return -EINVAL;
        }
        const char *column = json_string_value(json_array_get(clause, 0));
        if (ts && strcmp(column, "_uuid") &&
            !ovsdb_table_schema_find_column(ts, column)) {
            return -EINVAL;
        }
    }
    return 0;
}

int
ovsdb_cs_set_condition(struct ovsdb_cs *cs, const char *table, json_t *condition)
{
    int error = table ? cs_check_condition(cs, table, condition) : -EINVAL;
    if (error) {
        json_decref(condition);
        return error;
    }
    struct cs_cond *c = cs_cond_find(cs, table);
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c || !(c->table = strdup(table))) {
            free(c);
            json_decref(condition);
            return -ENOMEM;
        }
        hmap_insert(&cs->conds, &c->node, hash_string(table, 0));
    } else if (c->cond && json_equal(c->cond, condition)) {
        json_decref(condition);
        return 0;
    }
    json_decref(c->cond);
    c->cond = condition;
    c->dirty = true;
    if (cs_is_monitored(cs, table) && !cs->monitor_all) {
        cs->cond_seq++;
        cs_send_cond_change(cs);
    }
    return 0;
}

/* ---------------------------------------------------------------------------------
 * Public API.
 */

static void
cs_free_strv(char **v)
{
    if (v) {
        for (char **p = v; *p; p++) {
            free(*p);
        }
        free(v);
    }
}

static int
cs_parse_remotes(struct ovsdb_cs *cs, const char *remotes, struct ovnic_err *err)
{
    struct ovnic_err check_err = {0};
    bool has_ssl = false;
    int error = stream_remote_list_check(remotes, &has_ssl, &check_err);
    if (error) {
        /* Every malformed remote is a bad configuration here (-EINVAL). */
        return ovnic_err_set(err, error == -ENOMEM ? error : -EINVAL, "remotes",
                             check_err.message, "%s", check_err.detail);
    }
    if (has_ssl && !cs->have_tls) {
        return ovnic_err_set(err, -EINVAL, "remotes",
                             "ssl: remote without TLS configuration", "%s", remotes);
    }
    char *copy = strdup(remotes);
    if (!copy) {
        return -ENOMEM;
    }
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ' || *tok == '\t') {
            tok++;
        }
        size_t len = strlen(tok);
        while (len && (tok[len - 1] == ' ' || tok[len - 1] == '\t')) {
            tok[--len] = '\0';
        }
        char **remotes_ = realloc(cs->remotes, (cs->n_remotes + 1) * sizeof *remotes_);
        char *r = remotes_ ? strdup(tok) : NULL;
        if (remotes_) {
            cs->remotes = remotes_;
        }
        if (!r) {
            error = -ENOMEM;
            break;
        }
        cs->remotes[cs->n_remotes++] = r;
    }
    free(copy);
    return error;
}

static int
cs_copy_tls(struct ovsdb_cs *cs, const struct tls_config *tls)
{
    if (!tls) {
        return 0;
    }
    cs->have_tls = true;
    const char *src[] = {tls->ca_file, tls->cert_file, tls->key_file, tls->peer_name};
    const char **dst[] = {&cs->tls.ca_file, &cs->tls.cert_file, &cs->tls.key_file,
                          &cs->tls.peer_name};
    for (size_t i = 0; i < ARRAY_SIZE(src); i++) {
        if (src[i] && !(*dst[i] = strdup(src[i]))) {
            return -ENOMEM;
        }
    }
    return 0;
}

int
ovsdb_cs_create(struct poll_loop *loop, const struct ovsdb_cs_config *config,
                struct ovsdb_cs **csp, struct ovnic_err *err)
{
    if (!loop || !config || !config->remotes || !config->database || !*config->database) {
        return ovnic_err_set(err, -EINVAL, "ovsdb_cs",
                             "remotes and database are required", NULL);
    }
    uint32_t bmin =
        config->backoff_min_ms ? config->backoff_min_ms : CS_BACKOFF_MIN_DEFAULT;
    uint32_t bmax =
        config->backoff_max_ms ? config->backoff_max_ms : CS_BACKOFF_MAX_DEFAULT;
    if (bmin > bmax) {
        return ovnic_err_set(err, -EINVAL, "ovsdb_cs", "backoff_min_ms > backoff_max_ms",
                             "%" PRIu32 " > %" PRIu32, bmin, bmax);
    }

    struct ovsdb_cs *cs = calloc(1, sizeof *cs);
    if (!cs) {
        return -ENOMEM;
    }
    cs->loop = loop;
    hmap_init(&cs->conds);
    ovnic_list_init(&cs->requests);
    poll_timer_init(&cs->reconnect_timer);
    poll_timer_init(&cs->probe_timer);
    poll_timer_init(&cs->process_timer);
    cs->probe_interval_ms = config->probe_interval_ms;
    cs->leader_only = config->leader_only;
    cs->monitor_all = config->monitor_all;
    cs->max_index = -1;
    cs->state = OVSDB_CS_IDLE;
    backoff_init(&cs->backoff, bmin, bmax);

    int error = cs_copy_tls(cs, config->tls);
    if (!error) {
        cs->database = strdup(config->database);
        error = cs->database ? cs_parse_remotes(cs, config->remotes, err) : -ENOMEM;
    }
    if (error) {
        ovsdb_cs_destroy(cs);
        return error;
    }
    cs_connect(cs);
    *csp = cs;
    return 0;
}

void
ovsdb_cs_destroy(struct ovsdb_cs *cs)
{
    if (!cs) {
        return;
    }
    cs->change_cb = NULL;
    while (!ovnic_list_is_empty(&cs->requests)) {
        cs_request_free(
            CONTAINER_OF(ovnic_list_pop_front(&cs->requests), struct cs_request, node));
    }
    cs_disconnect(cs, 0);
    poll_timer_stop(cs->loop, &cs->reconnect_timer);

    struct cs_cond *c, *next;
    HMAP_FOR_EACH_SAFE (c, next, node, &cs->conds) {
        hmap_remove(&cs->conds, &c->node);
        json_decref(c->cond);
        free(c->table);
        free(c);
    }
    hmap_destroy(&cs->conds);
    ovsdb_replica_destroy(cs->replica);
    ovsdb_schema_destroy(cs->schema);
    json_decref(cs->schema_json);
    cs_free_strv(cs->tables);
    for (size_t i = 0; i < cs->n_remotes; i++) {
        free(cs->remotes[i]);
    }
    free(cs->remotes);
    free(cs->database);
    free((char *)cs->tls.ca_file);
    free((char *)cs->tls.cert_file);
    free((char *)cs->tls.key_file);
    free((char *)cs->tls.peer_name);
    free(cs);
}

void
ovsdb_cs_set_change_cb(struct ovsdb_cs *cs, ovsdb_cs_change_cb cb, void *aux)
{
    cs->change_cb = cb;
    cs->change_aux = aux;
}

int
ovsdb_cs_set_tables(struct ovsdb_cs *cs, const char *const *tables)
{
    char **copy = NULL;
    if (tables) {
        size_t n = 0;
        while (tables[n]) {
            n++;
        }
        copy = calloc(n + 1, sizeof *copy);
        if (!copy) {
            return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
            if (!(copy[i] = strdup(tables[i]))) {
                cs_free_strv(copy);
                return -ENOMEM;
            }
        }
    }
    cs_free_strv(cs->tables);
    cs->tables = copy;
    cs->cond_seq++;
    return 0;
}

struct ovsdb_replica *
ovsdb_cs_replica(const struct ovsdb_cs *cs)
{
    return cs->replica;
}

enum ovsdb_cs_state
ovsdb_cs_state(const struct ovsdb_cs *cs)
{
    return cs->state;
}

bool
ovsdb_cs_conditions_are_acked(const struct ovsdb_cs *cs)
{
    if (cs->state != OVSDB_CS_SYNCED) {
        return false;
    }
    /* Without conditions (monitor-all, or a server that only has "monitor") the
     * replica holds every row: a superset of what any condition asks for. */
    return cs->monitor_all || cs->stats.monitor_version < 2 ||
           (cs->acked_seq == cs->cond_seq && !cs->cond_change_pending);
}

bool
ovsdb_cs_is_synced(const struct ovsdb_cs *cs)
{
    return cs->state == OVSDB_CS_SYNCED;
}

const char *
ovsdb_cs_remote(const struct ovsdb_cs *cs)
{
    return cs->rpc ? cs->remotes[cs->cur_remote] : NULL;
}

void
ovsdb_cs_get_stats(const struct ovsdb_cs *cs, struct ovsdb_cs_stats *stats)
{
    *stats = cs->stats;
}

void
ovsdb_cs_force_reconnect(struct ovsdb_cs *cs)
{
    if (cs->rpc) {
        OLOG_INFO("%s: reconnecting on request", cs->database);
        cs_disconnect(cs, 0);
    } else {
        poll_timer_start(cs->loop, &cs->reconnect_timer, 0, cs_reconnect_timer_cb, cs);
    }
}

int
ovsdb_cs_transact(struct ovsdb_cs *cs, json_t *operations, ovsdb_cs_txn_cb cb, void *aux)
{
    if (!json_is_array(operations)) {
        json_decref(operations);
        return -EINVAL;
    }
    if (cs->state != OVSDB_CS_SYNCED || cs->pending_error) {
        json_decref(operations);
        return -ENOTCONN;
    }
    json_t *params = json_pack("[s]", cs->database);
    if (!params || json_array_extend(params, operations)) {
        json_decref(params);
        json_decref(operations);
        return -ENOMEM;
    }
    json_decref(operations);

    struct cs_request *req;
    int error = cs_send_request(cs, "transact", params, CS_REQ_TRANSACT, &req);
    if (error) {
        return -ENOTCONN;
    }
    req->cb = cb;
    req->aux = aux;
    return 0;
}
