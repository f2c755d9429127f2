/* ovnic integration: the OVSDB client session against a scripted OVSDB server that
 * runs in the test process, on the same poll loop, over a unix socket.
 *
 * The server answers get_schema with the real OVN Southbound schema and the monitor
 * requests with a few rows, then misbehaves in the ways each test case chooses:
 * garbage, truncated frames, frames split byte by byte, wrong shapes and types,
 * unknown rows and tables, missing protocol extensions, silence, cluster members that
 * must be skipped, schema changes.  After each, the client must count the error,
 * reconnect, and end up synced with a replica equal to what the server last sent
 * correctly, which the test tracks in a reference replica of its own. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dpu/ovsdb/cs.h"
#include "shared/util/jsonrpc.h"
#include "dpu/ovsdb/schema.h"
#include "ithelp.h"
#include "shared/util/list.h"
#include "shared/util/poll.h"
#include "shared/util/stream.h"
#include "shared/util/util.h"

#define SB_DB "OVN_Southbound"
#define SB_SCHEMA_PATH "/usr/share/ovn/ovn-sb.ovsschema"
#define WAIT_MS 10000

#define ZERO_TXN "00000000-0000-0000-0000-000000000000"
#define T0 "10000000-0000-4000-8000-000000000000"
#define T1 "10000000-0000-4000-8000-000000000001"
#define T2 "10000000-0000-4000-8000-000000000002"
#define T3 "10000000-0000-4000-8000-000000000003"

#define U1 "a0000000-0000-4000-8000-000000000001"
#define U2 "a0000000-0000-4000-8000-000000000002"
#define U3 "a0000000-0000-4000-8000-000000000003"
#define U4 "a0000000-0000-4000-8000-000000000004"
#define U5 "a0000000-0000-4000-8000-000000000005"
#define UNKNOWN_UUID "deadbeef-0000-4000-8000-000000000000"
#define SERVER_ROW "5e6345d8-802a-4276-8a78-64dc9a2b8839"

/* _Server's schema as ovsdb-server 3.1 reports it. */
static const char server_schema_text[] =
    "{\"cksum\":\"3009684573 744\",\"name\":\"_Server\",\"version\":\"1.2.0\","
    "\"tables\":{\"Database\":{\"columns\":{\"name\":{\"type\":\"string\"},"
    "\"model\":{\"type\":{\"key\":{\"type\":\"string\",\"enum\":[\"set\",[\"clustered\","
    "\"relay\",\"standalone\"]]}}},\"connected\":{\"type\":\"boolean\"},"
    "\"leader\":{\"type\":\"boolean\"},\"schema\":{\"type\":{\"min\":0,\"key\":"
    "\"string\"}},\"sid\":{\"type\":{\"min\":0,\"key\":\"uuid\"}},\"cid\":{\"type\":"
    "{\"min\":0,\"key\":\"uuid\"}},\"index\":{\"type\":{\"min\":0,\"key\":"
    "\"integer\"}}}}}}";

/* ---------------------------------------------------------------------------------
 * The scripted server.
 */

struct fake_server;

struct fs_conn {
    struct ovnic_list node; /* In fake_server's 'conns'. */
    struct fake_server *fs;
    struct jsonrpc *rpc;
    int fd;
    uint32_t events;
    int no;      /* 1 for the first connection accepted, and so on. */
    int version; /* Monitor version granted (3, 2, 1), 0 before. */
    json_t *monitor_id;
    bool monitored; /* The data monitor reply was sent. */
    struct poll_timer trickle_timer;
    char *trickle; /* Bytes still to send one at a time. */
    size_t trickle_len;
    size_t trickle_ofs;
    bool close_after_trickle;
    bool closing; /* Close once the message being handled is done. */
};

typedef void (*fs_request_hook)(struct fake_server *fs, struct fs_conn *conn,
                                const struct jsonrpc_msg *req);

struct fake_server {
    struct poll_loop *loop;
    char *dir;
    char remote[256];
    struct pstream *pstream;
    struct ovnic_list conns;
    int n_conns;

    json_t *schema;       /* Database schema served. */
    json_t *contents;     /* <table-updates2> with "initial" rows: the full contents. */
    char txn_id[64];      /* Id of the last transaction in 'contents'. */
    char resume_from[64]; /* A client at this id gets 'resume_diff'... */
    json_t *resume_diff;  /* ...with found=true. */

    bool has_server_db;  /* Serve _Server. */
    json_t *server_rows; /* Array: the Database row of conn N is element N-1 (the
                          * last element for later connections). */
    bool unknown_cond_since;
    bool unknown_cond;
    int silent_conn;           /* Once monitored, this connection answers nothing. */
    json_t *bad_monitor_reply; /* Sent instead of the first data monitor reply. */

    fs_request_hook on_transact; /* NULL: no reply. */
    json_t *log;                 /* Every request and reply received: {"conn", "msg"}. */
    int n_echo_replies;          /* Replies to the server's own echo requests. */
};

static void fs_conn_process(struct fs_conn *conn);

static void
fs_conn_close(struct fs_conn *conn)
{
    if (conn->fd >= 0) {
        poll_loop_fd_remove(conn->fs->loop, conn->fd);
    }
    poll_timer_stop(conn->fs->loop, &conn->trickle_timer);
    ovnic_list_remove(&conn->node);
    jsonrpc_close(conn->rpc);
    json_decref(conn->monitor_id);
    free(conn->trickle);
    free(conn);
}

static void
fs_conn_update_events(struct fs_conn *conn)
{
    uint32_t events = jsonrpc_poll_events(conn->rpc);
    if (events != conn->events) {
        poll_loop_fd_modify(conn->fs->loop, conn->fd, events ? events : OVNIC_POLL_IN);
        conn->events = events;
    }
}

static void
fs_conn_fd_cb(struct poll_loop *loop, int fd, uint32_t events, void *aux)
{
    fs_conn_process(aux);
}

static void
fs_accept_cb(struct poll_loop *loop, int fd, uint32_t events, void *aux)
{
    struct fake_server *fs = aux;
    struct stream *stream;
    while (!pstream_accept(fs->pstream, &stream)) {
        struct fs_conn *conn = calloc(1, sizeof *conn);
        assert_non_null(conn);
        conn->fs = fs;
        conn->no = ++fs->n_conns;
        poll_timer_init(&conn->trickle_timer);
        assert_int_equal(jsonrpc_open(stream, 0, &conn->rpc), 0);
        conn->fd = jsonrpc_fd(conn->rpc);
        conn->events = jsonrpc_poll_events(conn->rpc);
        assert_int_equal(
            poll_loop_fd_add(loop, conn->fd, conn->events, fs_conn_fd_cb, conn), 0);
        ovnic_list_push_back(&fs->conns, &conn->node);
    }
}

static struct fake_server *
fs_create(struct poll_loop *loop)
{
    struct fake_server *fs = calloc(1, sizeof *fs);
    assert_non_null(fs);
    fs->loop = loop;
    ovnic_list_init(&fs->conns);
    fs->dir = it_tmpdir_create();
    assert_non_null(fs->dir);
    char name[300];
    snprintf(name, sizeof name, "punix:%s/sb.sock", fs->dir);
    snprintf(fs->remote, sizeof fs->remote, "unix:%s/sb.sock", fs->dir);
    assert_int_equal(pstream_open(name, NULL, &fs->pstream, NULL), 0);
    assert_int_equal(
        poll_loop_fd_add(loop, pstream_fd(fs->pstream), OVNIC_POLL_IN, fs_accept_cb, fs),
        0);

    json_error_t jerr;
    fs->schema = json_load_file(SB_SCHEMA_PATH, 0, &jerr);
    assert_non_null(fs->schema);
    fs->log = json_array();
    snprintf(fs->txn_id, sizeof fs->txn_id, "%s", T0);
    fs->contents =
        json_pack("{s:{s:{s:{s:s, s:[s,[s,s]]}}, s:{s:{s:s, s:s}}}, s:{s:{s:{s:i}}}}",
                  "Address_Set", U1, "initial", "name", "as1", "addresses", "set",
                  "10.0.0.1", "10.0.0.2", U2, "initial", "name", "as2", "addresses",
                  "10.0.0.3", "SB_Global", U3, "initial", "nb_cfg", 5);
    assert_non_null(fs->contents);
    return fs;
}

static void
fs_close_all(struct fake_server *fs)
{
    while (!ovnic_list_is_empty(&fs->conns)) {
        fs_conn_close(CONTAINER_OF(fs->conns.next, struct fs_conn, node));
    }
}

static void
fs_destroy(struct fake_server *fs)
{
    fs_close_all(fs);
    poll_loop_fd_remove(fs->loop, pstream_fd(fs->pstream));
    pstream_close(fs->pstream);
    it_tmpdir_remove(fs->dir);
    free(fs->dir);
    json_decref(fs->schema);
    json_decref(fs->contents);
    json_decref(fs->resume_diff);
    json_decref(fs->server_rows);
    json_decref(fs->bad_monitor_reply);
    json_decref(fs->log);
    free(fs);
}

/* The most recent connection still open, or NULL. */
static struct fs_conn *
fs_conn_last(struct fake_server *fs)
{
    if (ovnic_list_is_empty(&fs->conns)) {
        return NULL;
    }
    return CONTAINER_OF(fs->conns.prev, struct fs_conn, node);
}

static void
fs_send(struct fs_conn *conn, struct jsonrpc_msg *msg)
{
    assert_non_null(msg);
    jsonrpc_send(conn->rpc, msg);
    fs_conn_update_events(conn);
}

static void
fs_send_raw(struct fs_conn *conn, const char *text)
{
    jsonrpc_send_raw(conn->rpc, text, strlen(text));
    fs_conn_update_events(conn);
}

static void
fs_reply(struct fs_conn *conn, const struct jsonrpc_msg *req, json_t *result)
{
    fs_send(conn, jsonrpc_msg_create_reply(result, req->id));
}

static void
fs_error(struct fs_conn *conn, const struct jsonrpc_msg *req, json_t *error)
{
    fs_send(conn, jsonrpc_msg_create_error(error, req->id));
}

static void
fs_trickle_cb(struct poll_loop *loop, struct poll_timer *timer, void *aux)
{
    struct fs_conn *conn = aux;
    if (conn->trickle_ofs < conn->trickle_len) {
        jsonrpc_send_raw(conn->rpc, conn->trickle + conn->trickle_ofs++, 1);
        fs_conn_update_events(conn);
        poll_timer_start(loop, timer, 0, fs_trickle_cb, conn);
    } else if (conn->close_after_trickle) {
        fs_conn_close(conn);
    }
}

/* Sends 'text' one byte per poll loop iteration, then closes the connection if
 * 'then_close'. */
static void
fs_send_trickle(struct fs_conn *conn, const char *text, bool then_close)
{
    free(conn->trickle);
    conn->trickle = strdup(text);
    conn->trickle_len = strlen(text);
    conn->trickle_ofs = 0;
    conn->close_after_trickle = then_close;
    poll_timer_start(conn->fs->loop, &conn->trickle_timer, 0, fs_trickle_cb, conn);
}

/* The wire text of a data-monitor update to 'conn' carrying <table-updates2>
 * 'updates' (taken) of transaction 'txn_id'. */
static char *
fs_update_text(struct fs_conn *conn, json_t *updates, const char *txn_id)
{
    json_t *params = conn->version == 3
                         ? json_pack("[O, s, o]", conn->monitor_id, txn_id, updates)
                         : json_pack("[O, o]", conn->monitor_id, updates);
    struct jsonrpc_msg *msg = jsonrpc_msg_create_notify(conn->version == 3   ? "update3"
                                                        : conn->version == 2 ? "update2"
                                                                             : "update",
                                                        params);
    json_t *json = jsonrpc_msg_to_json(msg);
    char *text = json_dumps(json, JSON_COMPACT);
    json_decref(json);
    jsonrpc_msg_destroy(msg);
    return text;
}

static void
fs_send_update(struct fs_conn *conn, json_t *updates, const char *txn_id)
{
    char *text = fs_update_text(conn, updates, txn_id);
    fs_send_raw(conn, text);
    free(text);
}

/* 'contents' in RFC 7047 "update" notation (format 1). */
static json_t *
fs_contents_v1(const json_t *contents)
{
    json_t *v1 = json_object();
    const char *table, *uuid;
    json_t *rows, *row;
    for (void *iter_rows = json_object_iter((json_t *)contents); iter_rows;
         iter_rows = json_object_iter_next((json_t *)contents, iter_rows)) {
        table = json_object_iter_key(iter_rows);
        rows = json_object_iter_value(iter_rows);
        json_t *t = json_object();
        for (void *iter_row = json_object_iter(rows); iter_row;
             iter_row = json_object_iter_next(rows, iter_row)) {
            uuid = json_object_iter_key(iter_row);
            row = json_object_iter_value(iter_row);
            json_object_set_new(
                t, uuid, json_pack("{s:O}", "new", json_object_get(row, "initial")));
        }
        json_object_set_new(v1, table, t);
    }
    return v1;
}

static json_t *
fs_server_contents(struct fake_server *fs, int conn_no)
{
    size_t n = json_array_size(fs->server_rows);
    assert_true(n > 0);
    json_t *row = json_array_get(fs->server_rows, MIN((size_t)conn_no, n) - 1);
    return json_pack("{s:{s:{s:O}}}", "Database", SERVER_ROW, "initial", row);
}

static void
fs_handle_monitor(struct fake_server *fs, struct fs_conn *conn,
                  const struct jsonrpc_msg *req)
{
    const char *method = req->method;
    const json_t *params = req->params;
    int version = !strcmp(method, "monitor_cond_since") ? 3
                  : !strcmp(method, "monitor_cond")     ? 2
                                                        : 1;
    const char *db = json_string_value(json_array_get(params, 0));
    assert_non_null(db);

    if (!strcmp(db, "_Server")) {
        assert_int_equal(version, 2);
        fs_reply(conn, req, fs_server_contents(fs, conn->no));
        return;
    }
    if ((version == 3 && fs->unknown_cond_since) || (version == 2 && fs->unknown_cond)) {
        fs_error(conn, req, json_string("unknown method"));
        return;
    }
    conn->version = version;
    json_decref(conn->monitor_id);
    conn->monitor_id = json_incref(json_array_get(params, 1));
    conn->monitored = true;

    if (fs->bad_monitor_reply) {
        fs_reply(conn, req, fs->bad_monitor_reply);
        fs->bad_monitor_reply = NULL;
        return;
    }
    if (version == 1) {
        fs_reply(conn, req, fs_contents_v1(fs->contents));
    } else if (version == 2) {
        fs_reply(conn, req, json_incref(fs->contents));
    } else {
        const char *last = json_string_value(json_array_get(params, 3));
        assert_non_null(last);
        if (fs->resume_diff && !strcmp(last, fs->resume_from)) {
            fs_reply(conn, req, json_pack("[b, s, O]", 1, fs->txn_id, fs->resume_diff));
        } else if (!strcmp(last, fs->txn_id)) {
            fs_reply(conn, req, json_pack("[b, s, {}]", 1, fs->txn_id));
        } else {
            fs_reply(conn, req, json_pack("[b, s, O]", 0, fs->txn_id, fs->contents));
        }
    }
}

static void
fs_handle_request(struct fake_server *fs, struct fs_conn *conn,
                  const struct jsonrpc_msg *req)
{
    if (conn->monitored && conn->no == fs->silent_conn) {
        return;
    }
    const char *method = req->method;
    if (!strcmp(method, "get_schema")) {
        const char *db = json_string_value(json_array_get(req->params, 0));
        if (db && !strcmp(db, SB_DB)) {
            fs_reply(conn, req, json_incref(fs->schema));
        } else if (db && !strcmp(db, "_Server") && fs->has_server_db) {
            fs_reply(conn, req, json_loads(server_schema_text, 0, NULL));
        } else {
            fs_error(conn, req,
                     json_pack("{s:s, s:s}", "error", "unknown database", "details",
                               "no such database"));
        }
    } else if (!strcmp(method, "monitor_cond_since") || !strcmp(method, "monitor_cond") ||
               !strcmp(method, "monitor")) {
        fs_handle_monitor(fs, conn, req);
    } else if (!strcmp(method, "monitor_cond_change")) {
        json_decref(conn->monitor_id);
        conn->monitor_id = json_incref(json_array_get(req->params, 1));
        fs_reply(conn, req, json_object());
    } else if (!strcmp(method, "echo")) {
        fs_reply(conn, req, json_incref(req->params));
    } else if (!strcmp(method, "transact")) {
        if (fs->on_transact) {
            fs->on_transact(fs, conn, req);
        }
    } else {
        fs_error(conn, req, json_string("unknown method"));
    }
}

static void
fs_conn_process(struct fs_conn *conn)
{
    struct fake_server *fs = conn->fs;
    if (jsonrpc_run(conn->rpc)) {
        fs_conn_close(conn);
        return;
    }
    for (;;) {
        struct jsonrpc_msg *msg;
        int error = jsonrpc_recv(conn->rpc, &msg, NULL);
        if (error == -EAGAIN) {
            break;
        }
        if (error) {
            fs_conn_close(conn);
            return;
        }
        json_array_append_new(fs->log, json_pack("{s:i, s:o}", "conn", conn->no, "msg",
                                                 jsonrpc_msg_to_json(msg)));
        if (msg->type == JSONRPC_REQUEST) {
            fs_handle_request(fs, conn, msg);
        } else if (msg->type == JSONRPC_REPLY) {
            fs->n_echo_replies++;
        }
        jsonrpc_msg_destroy(msg);
        if (conn->closing) {
            fs_conn_close(conn);
            return;
        }
    }
    if (jsonrpc_run(conn->rpc)) {
        fs_conn_close(conn);
        return;
    }
    fs_conn_update_events(conn);
}

/* The 'n'th (0-based) logged request with 'method' (and, if nonnull, whose first
 * parameter is 'db'), or NULL. */
static const json_t *
fs_find_request(const struct fake_server *fs, const char *method, const char *db,
                size_t n, int *conn_no)
{
    for (size_t i = 0; i < json_array_size(fs->log); i++) {
        const json_t *entry = json_array_get(fs->log, i);
        const json_t *msg = json_object_get(entry, "msg");
        const char *m = json_string_value(json_object_get(msg, "method"));
        const json_t *params = json_object_get(msg, "params");
        const char *p0 = json_string_value(json_array_get(params, 0));
        if (m && !strcmp(m, method) && (!db || (p0 && !strcmp(p0, db))) && !n--) {
            if (conn_no) {
                *conn_no = (int)json_integer_value(json_object_get(entry, "conn"));
            }
            return msg;
        }
    }
    return NULL;
}

static size_t
fs_count_requests(const struct fake_server *fs, const char *method, const char *db)
{
    size_t n = 0;
    while (fs_find_request(fs, method, db, n, NULL)) {
        n++;
    }
    return n;
}

/* ---------------------------------------------------------------------------------
 * Fixture: loop, server, client, and the reference replica.
 */

struct ctx {
    struct poll_loop *loop;
    struct fake_server *fs;
    struct ovsdb_cs *cs;
    struct ovsdb_schema *ref_schema;
    struct ovsdb_replica *ref;
    int n_changes;
};

static void
change_cb(struct ovsdb_cs *cs, void *aux)
{
    struct ctx *c = aux;
    c->n_changes++;
    struct ovsdb_replica *r = ovsdb_cs_replica(cs);
    if (r) {
        ovsdb_replica_track_clear(r);
    }
}

static void
ref_reset(struct ctx *c, const json_t *schema, const json_t *contents)
{
    ovsdb_replica_destroy(c->ref);
    ovsdb_schema_destroy(c->ref_schema);
    assert_int_equal(ovsdb_schema_from_json(schema, &c->ref_schema, NULL), 0);
    assert_int_equal(ovsdb_replica_create(c->ref_schema, &c->ref), 0);
    assert_int_equal(ovsdb_replica_replace(c->ref, OVSDB_UPDATE_V2, contents, NULL, NULL),
                     0);
}

static void
ref_apply(struct ctx *c, const json_t *updates)
{
    assert_int_equal(ovsdb_replica_apply(c->ref, OVSDB_UPDATE_V2, updates, NULL), 0);
}

/* Makes the server's full contents those of the reference replica. */
static void
fs_sync_contents(struct ctx *c)
{
    json_t *db = ovsdb_replica_to_json(c->ref);
    json_t *contents = json_object();
    const char *table, *uuid;
    json_t *rows, *row;
    for (void *iter_rows = json_object_iter(db); iter_rows;
         iter_rows = json_object_iter_next(db, iter_rows)) {
        table = json_object_iter_key(iter_rows);
        rows = json_object_iter_value(iter_rows);
        if (!json_object_size(rows)) {
            continue;
        }
        json_t *t = json_object();
        for (void *iter_row = json_object_iter(rows); iter_row;
             iter_row = json_object_iter_next(rows, iter_row)) {
            uuid = json_object_iter_key(iter_row);
            row = json_object_iter_value(iter_row);
            json_object_set_new(t, uuid, json_pack("{s:O}", "initial", row));
        }
        json_object_set_new(contents, table, t);
    }
    json_decref(db);
    json_decref(c->fs->contents);
    c->fs->contents = contents;
}

/* A transaction on the server: 'diff' (<table-updates2>, taken) becomes transaction
 * 'txn_id', is sent to 'conn' (if nonnull) and is reflected in the reference. */
static void
fs_commit(struct ctx *c, struct fs_conn *conn, json_t *diff, const char *txn_id)
{
    ref_apply(c, diff);
    if (conn) {
        fs_send_update(conn, json_incref(diff), txn_id);
    }
    json_decref(diff);
    snprintf(c->fs->txn_id, sizeof c->fs->txn_id, "%s", txn_id);
    fs_sync_contents(c);
}

static void
client_start(struct ctx *c, const struct ovsdb_cs_config *extra)
{
    struct ovsdb_cs_config cfg = extra ? *extra : (struct ovsdb_cs_config){0};
    cfg.remotes = c->fs->remote;
    cfg.database = SB_DB;
    cfg.backoff_min_ms = 10;
    cfg.backoff_max_ms = 50;
    struct ovnic_err err = {0};
    assert_int_equal(ovsdb_cs_create(c->loop, &cfg, &c->cs, &err), 0);
    ovsdb_cs_set_change_cb(c->cs, change_cb, c);
}

static int
setup(void **state)
{
    struct ctx *c = calloc(1, sizeof *c);
    assert_non_null(c);
    assert_int_equal(poll_loop_create(&c->loop), 0);
    c->fs = fs_create(c->loop);
    ref_reset(c, c->fs->schema, c->fs->contents);
    *state = c;
    return 0;
}

static int
teardown(void **state)
{
    struct ctx *c = *state;
    ovsdb_cs_destroy(c->cs);
    fs_destroy(c->fs);
    ovsdb_replica_destroy(c->ref);
    ovsdb_schema_destroy(c->ref_schema);
    poll_loop_destroy(c->loop);
    free(c);
    return 0;
}

/* What to wait for: every nonzero count reached (as a minimum), and synced if asked. */
struct want {
    uint64_t connects;
    uint64_t errors;
    uint64_t updates;
    uint64_t full_syncs;
    uint64_t resumed_syncs;
    uint64_t member_skips;
    bool synced;
    struct ctx *c;
};

static bool
want_met(void *aux)
{
    const struct want *w = aux;
    struct ovsdb_cs_stats s;
    ovsdb_cs_get_stats(w->c->cs, &s);
    return s.connects >= w->connects && s.errors >= w->errors &&
           s.updates >= w->updates && s.full_syncs >= w->full_syncs &&
           s.resumed_syncs >= w->resumed_syncs && s.member_skips >= w->member_skips &&
           (!w->synced || ovsdb_cs_is_synced(w->c->cs));
}

static void
wait_for(struct ctx *c, struct want w)
{
    w.c = c;
    if (!it_loop_until(c->loop, want_met, &w, WAIT_MS)) {
        struct ovsdb_cs_stats s;
        ovsdb_cs_get_stats(c->cs, &s);
        fail_msg(
            "timed out in state %s: connects %llu errors %llu updates %llu full %llu "
            "resumed %llu skips %llu",
            ovsdb_cs_state_to_string(ovsdb_cs_state(c->cs)),
            (unsigned long long)s.connects, (unsigned long long)s.errors,
            (unsigned long long)s.updates, (unsigned long long)s.full_syncs,
            (unsigned long long)s.resumed_syncs, (unsigned long long)s.member_skips);
    }
}

static void
assert_replica_matches(struct ctx *c)
{
    struct ovsdb_replica *r = ovsdb_cs_replica(c->cs);
    assert_non_null(r);
    json_t *got = ovsdb_replica_to_json(r);
    json_t *want = ovsdb_replica_to_json(c->ref);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
        char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
        fprintf(stderr, "client replica: %.4000s\nreference:      %.4000s\n", g, w);
        free(g);
        free(w);
        fail_msg("replica differs from what the server sent");
    }
    json_decref(got);
    json_decref(want);
}

static struct ovsdb_cs_stats
stats(struct ctx *c)
{
    struct ovsdb_cs_stats s;
    ovsdb_cs_get_stats(c->cs, &s);
    return s;
}

/* Starts the client and waits for the first sync. */
static void
start_synced(struct ctx *c, const struct ovsdb_cs_config *extra)
{
    client_start(c, extra);
    wait_for(c, (struct want){.connects = 1, .synced = true});
    assert_replica_matches(c);
}

/* Runs one misbehaviour: 'misbehave' acts on the current connection; the client must
 * count one more error, reconnect, resync, and keep a replica equal to the reference. */
static void
expect_reset(struct ctx *c, void (*misbehave)(struct ctx *c, struct fs_conn *conn))
{
    struct ovsdb_cs_stats before = stats(c);
    struct fs_conn *conn = fs_conn_last(c->fs);
    assert_non_null(conn);
    misbehave(c, conn);
    wait_for(c, (struct want){.errors = before.errors + 1});
    /* The replica is intact right after the error, before any resync. */
    assert_replica_matches(c);
    wait_for(c, (struct want){.errors = before.errors + 1,
                              .connects = before.connects + 1,
                              .synced = true});
    struct ovsdb_cs_stats after = stats(c);
    assert_int_equal(after.errors, before.errors + 1);
    assert_replica_matches(c);
}

/* ---------------------------------------------------------------------------------
 * Tests.
 */

static void
test_initial_sync(void **state)
{
    struct ctx *c = *state;
    start_synced(c, NULL);

    struct ovsdb_cs_stats s = stats(c);
    assert_int_equal(s.connects, 1);
    assert_int_equal(s.full_syncs, 1);
    assert_int_equal(s.resumed_syncs, 0);
    assert_int_equal(s.errors, 0);
    assert_int_equal(s.monitor_version, 3);
    assert_string_equal(s.last_txn_id, T0);
    assert_string_equal(ovsdb_cs_remote(c->cs), c->fs->remote);
    assert_true(c->n_changes > 0);

    /* The request asked for every table, all columns, from the zero transaction. */
    const json_t *req = fs_find_request(c->fs, "monitor_cond_since", SB_DB, 0, NULL);
    assert_non_null(req);
    const json_t *params = json_object_get(req, "params");
    assert_int_equal(json_array_size(params), 4);
    assert_string_equal(json_string_value(json_array_get(params, 3)), ZERO_TXN);
    const json_t *requests = json_array_get(params, 2);
    assert_int_equal(json_object_size(requests),
                     json_object_size(json_object_get(c->fs->schema, "tables")));
    const json_t *as = json_array_get(json_object_get(requests, "Address_Set"), 0);
    const json_t *cols = json_object_get(as, "columns");
    assert_int_equal(json_array_size(cols), 2);
    const char *c0 = json_string_value(json_array_get(cols, 0));
    const char *c1 = json_string_value(json_array_get(cols, 1));
    assert_non_null(c0);
    assert_non_null(c1);
    assert_true((!strcmp(c0, "name") && !strcmp(c1, "addresses")) ||
                (!strcmp(c0, "addresses") && !strcmp(c1, "name")));
    assert_null(json_object_get(as, "where"));

    /* The client asked for _Server's schema too, and took the error in stride. */
    assert_non_null(fs_find_request(c->fs, "get_schema", "_Server", 0, NULL));
}

static void
misbehave_garbage(struct ctx *c, struct fs_conn *conn)
{
    fs_send_raw(conn, "this is not JSON at all\n");
}

static void
misbehave_garbage_after_valid(struct ctx *c, struct fs_conn *conn)
{
    /* A valid update, then a broken value: the valid one is applied. */
    fs_commit(c, conn,
              json_pack("{s:{s:{s:{s:i}}}}", "SB_Global", U3, "modify", "nb_cfg", 6), T1);
    fs_send_raw(conn, "{\"method\":\"update3\",\"params\":[1,2,]}");
}

static void
test_garbage(void **state)
{
    struct ctx *c = *state;
    start_synced(c, NULL);
    expect_reset(c, misbehave_garbage);

    /* It resumed from where it was: the server still had its transaction. */
    int conn_no;
    const json_t *req = fs_find_request(c->fs, "monitor_cond_since", SB_DB, 1, &conn_no);
    assert_non_null(req);
    assert_int_equal(conn_no, 2);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(req, "params"), 3)), T0);
    assert_int_equal(stats(c).resumed_syncs, 1);
    assert_int_equal(stats(c).full_syncs, 1);

    expect_reset(c, misbehave_garbage_after_valid);
    assert_int_equal(stats(c).updates, 1);
    assert_string_equal(stats(c).last_txn_id, T1);
}

static void
misbehave_truncated(struct ctx *c, struct fs_conn *conn)
{
    json_t *d =
        json_pack("{s:{s:{s:{s:s}}}}", "Address_Set", U4, "insert", "name", "as4");
    char *text = fs_update_text(conn, d, T1);
    text[strlen(text) / 2] = '\0';
    fs_send_trickle(conn, text, true);
    free(text);
}

static void
test_truncated_then_closed(void **state)
{
    struct ctx *c = *state;
    start_synced(c, NULL);
    expect_reset(c, misbehave_truncated);
    assert_int_equal(stats(c).updates, 0);
    assert_string_equal(stats(c).last_txn_id, T0);
}

static void
test_split_byte_by_byte(void **state)
{
    struct ctx *c = *state;
    start_synced(c, NULL);
    struct fs_conn *conn = fs_conn_last(c->fs);

    json_t *d1 = json_pack("{s:{s:{s:{s:s, s:[s,[s]]}}}}", "Address_Set", U4, "insert",
                           "name", "as4", "addresses", "set", "10.0.0.4");
    json_t *d2 = json_pack("{s:{s:{s:{s:s}}}}", "Address_Set", U4, "modify", "name",
                           "as4 with \"quotes\" and {braces} [brackets] \\ backslash");
    char *t1 = fs_update_text(conn, json_incref(d1), T1);
    char *t2 = fs_update_text(conn, json_incref(d2), T2);
    char *both = malloc(strlen(t1) + strlen(t2) + 3);
    sprintf(both, "%s\n%s ", t1, t2);
    fs_send_trickle(conn, both, false);
    free(t1);
    free(t2);
    free(both);
    fs_commit(c, NULL, d1, T1);
    fs_commit(c, NULL, d2, T2);

    wait_for(c, (struct want){.updates = 2, .synced = true});
    assert_replica_matches(c);
    struct ovsdb_cs_stats s = stats(c);
    assert_int_equal(s.errors, 0);
    assert_int_equal(s.connects, 1);
    assert_string_equal(s.last_txn_id, T2);
}

static void
misbehave_params_not_array(struct ctx *c, struct fs_conn *conn)
{
    fs_send_raw(conn, "{\"method\":\"update3\",\"params\":{},\"id\":null}");
}

static void
misbehave_wrong_datum(struct ctx *c, struct fs_conn *conn)
{
    /* "name" is a string column. */
    fs_send_update(
        conn, json_pack("{s:{s:{s:{s:i}}}}", "Address_Set", U1, "modify", "name", 5), T1);
}

static void
misbehave_txn_id_not_string(struct ctx *c, struct fs_conn *conn)
{
    char text[512];
    char *id = json_dumps(conn->monitor_id, JSON_ENCODE_ANY);
    snprintf(text, sizeof text,
             "{\"method\":\"update3\",\"params\":[%s,7,{}],\"id\":null}", id);
    free(id);
    fs_send_raw(conn, text);
}

static void
misbehave_reply_unknown_id(struct ctx *c, struct fs_conn *conn)
{
    fs_send_raw(conn, "{\"id\":999,\"result\":{},\"error\":null}");
}

static void
misbehave_wrong_monitor_id(struct ctx *c, struct fs_conn *conn)
{
    fs_send_raw(conn, "{\"method\":\"update3\",\"params\":[\"nobody\",\"" T1
                      "\",{}],\"id\":null}");
}

static void
misbehave_wrong_update_method(struct ctx *c, struct fs_conn *conn)
{
    int version = conn->version;
    conn->version = version == 2 ? 3 : 2;
    fs_send_update(conn, json_object(), T1);
    conn->version = version;
}

static void
misbehave_not_jsonrpc(struct ctx *c, struct fs_conn *conn)
{
    fs_send_raw(conn, "{\"hello\":\"world\"}");
}

static void
test_wrong_types(void **state)
{
    struct ctx *c = *state;
    start_synced(c, NULL);
    expect_reset(c, misbehave_params_not_array);
    expect_reset(c, misbehave_wrong_datum);
    expect_reset(c, misbehave_txn_id_not_string);
    expect_reset(c, misbehave_reply_unknown_id);
    expect_reset(c, misbehave_wrong_monitor_id);
    expect_reset(c, misbehave_wrong_update_method);
    expect_reset(c, misbehave_not_jsonrpc);
    assert_int_equal(stats(c).errors, 7);
    assert_int_equal(stats(c).updates, 0);
}

static void
test_bad_monitor_reply(void **state)
{
    struct ctx *c = *state;
    /* The first monitor reply carries a datum of the wrong type; the second is fine. */
    c->fs->bad_monitor_reply = json_pack("[b, s, {s:{s:{s:{s:b}}}}]", 0, T0,
                                         "Address_Set", U5, "initial", "name", 1);
    client_start(c, NULL);
    wait_for(c, (struct want){.connects = 2, .errors = 1, .synced = true});
    assert_replica_matches(c);
    assert_int_equal(stats(c).full_syncs, 1);
}

static void
misbehave_unknown_uuid(struct ctx *c, struct fs_conn *conn)
{
    fs_send_update(conn,
                   json_pack("{s:{s:{s:{s:s}}}}", "Address_Set", UNKNOWN_UUID, "modify",
                             "name", "ghost"),
                   T1);
}

static void
misbehave_delete_unknown_uuid(struct ctx *c, struct fs_conn *conn)
{
    fs_send_update(conn,
                   json_pack("{s:{s:{s:n}}}", "Address_Set", UNKNOWN_UUID, "delete"), T1);
}

static void
misbehave_insert_existing(struct ctx *c, struct fs_conn *conn)
{
    fs_send_update(
        conn,
        json_pack("{s:{s:{s:{s:s}}}}", "Address_Set", U1, "insert", "name", "again"), T1);
}

static void
test_unknown_uuid(void **state)
{
    struct ctx *c = *state;
    start_synced(c, NULL);
    expect_reset(c, misbehave_unknown_uuid);
    expect_reset(c, misbehave_delete_unknown_uuid);
    expect_reset(c, misbehave_insert_existing);
    assert_int_equal(stats(c).updates, 0);
}

static void
misbehave_unknown_table(struct ctx *c, struct fs_conn *conn)
{
    /* A valid change to a known table in the same update: all or nothing. */
    fs_send_update(conn,
                   json_pack("{s:{s:{s:{s:i}}}, s:{s:{s:{s:s}}}}", "SB_Global", U3,
                             "modify", "nb_cfg", 99, "No_Such_Table", U5, "insert",
                             "name", "x"),
                   T1);
}

static void
test_unknown_table(void **state)
{
    struct ctx *c = *state;
    start_synced(c, NULL);
    expect_reset(c, misbehave_unknown_table);
    assert_int_equal(stats(c).updates, 0);
}

static void
test_fallback_monitor_cond(void **state)
{
    struct ctx *c = *state;
    c->fs->unknown_cond_since = true;
    start_synced(c, NULL);
    struct ovsdb_cs_stats s = stats(c);
    assert_int_equal(s.monitor_version, 2);
    assert_int_equal(s.connects, 1);
    assert_int_equal(s.errors, 0);
    assert_string_equal(s.last_txn_id, "");

    int conn_since, conn_cond;
    assert_non_null(fs_find_request(c->fs, "monitor_cond_since", SB_DB, 0, &conn_since));
    const json_t *req = fs_find_request(c->fs, "monitor_cond", SB_DB, 0, &conn_cond);
    assert_non_null(req);
    assert_int_equal(conn_since, conn_cond);
    assert_int_equal(json_array_size(json_object_get(req, "params")), 3);

    /* update2 notifications are applied. */
    fs_commit(c, fs_conn_last(c->fs),
              json_pack("{s:{s:{s:{s:s}}}}", "Address_Set", U4, "insert", "name", "as4"),
              T1);
    wait_for(c, (struct want){.updates = 1});
    assert_replica_matches(c);

    /* So are errors, and the fallback happens again on the next connection. */
    expect_reset(c, misbehave_garbage);
    assert_int_equal(stats(c).monitor_version, 2);
    assert_int_equal(fs_count_requests(c->fs, "monitor_cond_since", SB_DB), 2);
}

static void
test_fallback_monitor(void **state)
{
    struct ctx *c = *state;
    c->fs->unknown_cond_since = true;
    c->fs->unknown_cond = true;
    start_synced(c, NULL);
    assert_int_equal(stats(c).monitor_version, 1);
    assert_int_equal(fs_count_requests(c->fs, "monitor_cond_since", SB_DB), 1);
    assert_int_equal(fs_count_requests(c->fs, "monitor_cond", SB_DB), 1);
    assert_int_equal(fs_count_requests(c->fs, "monitor", SB_DB), 1);

    /* RFC 7047 updates: "old" and "new". */
    struct fs_conn *conn = fs_conn_last(c->fs);
    json_t *params = json_pack("[O, {s:{s:{s:{s:s}, s:{s:s, s:s}}}}]", conn->monitor_id,
                               "Address_Set", U2, "old", "addresses", "10.0.0.3", "new",
                               "name", "as2", "addresses", "10.0.0.33");
    fs_send(conn, jsonrpc_msg_create_notify("update", params));
    /* In update2 notation a set-valued diff toggles elements: remove .3, add .33. */
    json_t *d = json_pack("{s:{s:{s:{s:[s,[s,s]]}}}}", "Address_Set", U2, "modify",
                          "addresses", "set", "10.0.0.3", "10.0.0.33");
    fs_commit(c, NULL, d, T1);
    wait_for(c, (struct want){.updates = 1});
    assert_replica_matches(c);

    /* An update2 is not acceptable on a monitor of version 1. */
    expect_reset(c, misbehave_wrong_update_method);
}

static void
test_resume(void **state)
{
    struct ctx *c = *state;
    start_synced(c, NULL);
    struct fake_server *fs = c->fs;

    /* T1 arrives as an update. */
    fs_commit(c, fs_conn_last(fs),
              json_pack("{s:{s:{s:{s:s}}}}", "Address_Set", U4, "insert", "name", "as4"),
              T1);
    wait_for(c, (struct want){.updates = 1});
    assert_string_equal(stats(c).last_txn_id, T1);

    /* The server restarts; meanwhile T2 changed and deleted rows. */
    json_t *d2 = json_pack("{s:{s:{s:{s:[s,[s]]}}, s:{s:n}}}", "Address_Set", U1,
                           "modify", "addresses", "set", "10.0.0.9", U2, "delete");
    snprintf(fs->resume_from, sizeof fs->resume_from, "%s", T1);
    fs->resume_diff = json_incref(d2);
    fs_commit(c, NULL, d2, T2);
    fs_close_all(fs);

    wait_for(c, (struct want){.connects = 2, .resumed_syncs = 1, .synced = true});
    assert_replica_matches(c);
    struct ovsdb_cs_stats s = stats(c);
    assert_int_equal(s.full_syncs, 1);
    assert_int_equal(s.resumed_syncs, 1);
    assert_int_equal(s.errors, 0);
    assert_string_equal(s.last_txn_id, T2);
    const json_t *req = fs_find_request(fs, "monitor_cond_since", SB_DB, 1, NULL);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(req, "params"), 3)), T1);

    /* A server that lost the history (a fresh database) sends everything again: rows
     * the client had and the server lacks disappear. */
    json_decref(fs->contents);
    fs->contents =
        json_pack("{s:{s:{s:{s:s}}}}", "Address_Set", U5, "initial", "name", "only");
    json_decref(fs->resume_diff);
    fs->resume_diff = NULL;
    snprintf(fs->txn_id, sizeof fs->txn_id, "%s", T3);
    ref_reset(c, fs->schema, fs->contents);
    fs_close_all(fs);

    wait_for(c, (struct want){.connects = 3, .full_syncs = 2, .synced = true});
    assert_replica_matches(c);
    s = stats(c);
    assert_int_equal(s.resumed_syncs, 1);
    assert_string_equal(s.last_txn_id, T3);
}

static bool
fs_conn2_exists(void *aux)
{
    struct ctx *c = aux;
    return c->fs->n_conns >= 2;
}

static void
test_echo_keepalive(void **state)
{
    struct ctx *c = *state;
    struct ovsdb_cs_config cfg = {.probe_interval_ms = 200};
    c->fs->silent_conn = 1;
    client_start(c, &cfg);
    wait_for(c, (struct want){.synced = true});
    uint64_t t0 = time_msec();

    /* The silent server gets probed, then dropped, and the client reconnects. */
    assert_true(it_loop_until(c->loop, fs_conn2_exists, c, WAIT_MS));
    uint64_t elapsed = time_msec() - t0;
    int conn_no;
    assert_non_null(fs_find_request(c->fs, "echo", NULL, 0, &conn_no));
    assert_int_equal(conn_no, 1);
    assert_true(elapsed >= 300);
    wait_for(c, (struct want){.connects = 2, .synced = true});
    assert_int_equal(stats(c).errors, 0);
    assert_replica_matches(c);

    /* A server that answers keeps the connection over many intervals. */
    size_t echoes = fs_count_requests(c->fs, "echo", NULL);
    it_loop_run_for(c->loop, 1000);
    assert_int_equal(stats(c).connects, 2);
    assert_true(fs_count_requests(c->fs, "echo", NULL) > echoes);

    /* The client answers the server's echo with the same params. */
    fs_send(fs_conn_last(c->fs),
            jsonrpc_msg_create_request("echo", json_pack("[s]", "ping"),
                                       json_string("server-echo")));
    it_loop_run_for(c->loop, 100);
    assert_true(c->fs->n_echo_replies >= 1);
    bool found = false;
    for (size_t i = 0; i < json_array_size(c->fs->log); i++) {
        const json_t *entry = json_array_get(c->fs->log, i);
        const json_t *msg = json_object_get(entry, "msg");
        const json_t *id = json_object_get(msg, "id");
        if (json_is_string(id) && !strcmp(json_string_value(id), "server-echo")) {
            json_t *want = json_pack("[s]", "ping");
            assert_true(json_equal(json_object_get(msg, "result"), want));
            json_decref(want);
            found = true;
        }
    }
    assert_true(found);
}

/* ---- Transactions. ---- */

struct txn_outcome {
    bool called;
    int error;
    json_t *result;
    char msg[256];
};

static void
txn_cb(void *aux, int error, const json_t *result, const char *errmsg)
{
    struct txn_outcome *o = aux;
    o->called = true;
    o->error = error;
    o->result = result ? json_deep_copy(result) : NULL;
    snprintf(o->msg, sizeof o->msg, "%s", errmsg ? errmsg : "");
}

static bool
txn_done(void *aux)
{
    return ((struct txn_outcome *)aux)->called;
}

/* What the server answers to each transact, in order. */
static json_t *txn_script;

static void
on_transact_scripted(struct fake_server *fs, struct fs_conn *conn,
                     const struct jsonrpc_msg *req)
{
    json_t *step = json_array_get(txn_script, 0);
    assert_non_null(step);
    const char *kind = json_string_value(json_array_get(step, 0));
    json_t *value = json_array_get(step, 1);
    if (!strcmp(kind, "result")) {
        fs_reply(conn, req, json_incref(value));
    } else if (!strcmp(kind, "error")) {
        fs_error(conn, req, json_incref(value));
    } else if (!strcmp(kind, "close")) {
        conn->closing = true;
    }
    json_array_remove(txn_script, 0);
}

static void
run_txn(struct ctx *c, const char *kind, json_t *value, struct txn_outcome *o)
{
    json_array_append_new(txn_script,
                          json_pack("[s, o]", kind, value ? value : json_null()));
    memset(o, 0, sizeof *o);
    json_t *ops = json_pack("[{s:s, s:s, s:{s:s}}]", "op", "insert", "table",
                            "Address_Set", "row", "name", "new");
    assert_int_equal(ovsdb_cs_transact(c->cs, ops, txn_cb, o), 0);
    assert_true(it_loop_until(c->loop, txn_done, o, WAIT_MS));
}

static void
test_transact(void **state)
{
    struct ctx *c = *state;
    txn_script = json_array();
    c->fs->on_transact = on_transact_scripted;

    /* Not synced yet. */
    client_start(c, NULL);
    assert_int_equal(ovsdb_cs_transact(c->cs, json_array(), NULL, NULL), -ENOTCONN);
    wait_for(c, (struct want){.synced = true});
    assert_int_equal(ovsdb_cs_transact(c->cs, json_object(), NULL, NULL), -EINVAL);

    struct txn_outcome o;
    run_txn(c, "result", json_pack("[{s:[s,s]}]", "uuid", "uuid", U5), &o);
    assert_int_equal(o.error, 0);
    assert_non_null(o.result);
    assert_int_equal(json_array_size(o.result), 1);
    json_decref(o.result);

    const json_t *req = fs_find_request(c->fs, "transact", SB_DB, 0, NULL);
    assert_non_null(req);
    assert_int_equal(json_array_size(json_object_get(req, "params")), 2);

    run_txn(c, "result",
            json_pack("[{s:[s,s]}, {s:s, s:s}]", "uuid", "uuid", U5, "error",
                      "constraint violation", "details", "duplicate name"),
            &o);
    assert_int_equal(o.error, -EINVAL);
    assert_string_equal(o.msg, "constraint violation: duplicate name");
    assert_null(o.result);

    run_txn(c, "result", json_pack("[{s:s}, n]", "error", "resources exhausted"), &o);
    assert_int_equal(o.error, -ENOSPC);
    assert_string_equal(o.msg, "resources exhausted");

    run_txn(c, "result", json_pack("[{s:s, s:s}]", "error", "timed out", "details", "w"),
            &o);
    assert_int_equal(o.error, -ETIMEDOUT);

    run_txn(c, "error",
            json_pack("{s:s, s:s}", "error", "unknown database", "details", "no such db"),
            &o);
    assert_int_equal(o.error, -ENOENT);
    assert_string_equal(o.msg, "unknown database: no such db");

    run_txn(c, "result", json_pack("[{s:s}]", "error", "something new"), &o);
    assert_int_equal(o.error, -EPROTO);
    assert_int_equal(stats(c).errors, 0);

    /* The connection drops before the reply. */
    run_txn(c, "close", NULL, &o);
    assert_int_equal(o.error, -ECONNRESET);
    wait_for(c, (struct want){.connects = 2, .synced = true});

    /* A reply that is not an array is a protocol error. */
    run_txn(c, "result", json_pack("{s:i}", "count", 1), &o);
    assert_int_equal(o.error, -EPROTO);
    wait_for(c, (struct want){.connects = 3, .errors = 1, .synced = true});

    json_decref(txn_script);
    txn_script = NULL;
}

static void
test_error_mapping(void **state)
{
    (void)state;
    static const struct {
        const char *error;
        int code;
    } cases[] = {
        {"constraint violation", -EINVAL}, {"referential integrity violation", -EINVAL},
        {"resources exhausted", -ENOSPC},  {"timed out", -ETIMEDOUT},
        {"not allowed", -EPERM},           {"I/O error", -EIO},
        {"duplicate uuid-name", -EEXIST},  {"unknown database", -ENOENT},
        {"canceled", -ECANCELED},          {"aborted", -ECANCELED},
        {"whatever else", -EPROTO},        {NULL, -EPROTO},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        assert_int_equal(ovsdb_cs_error_to_errno(cases[i].error), cases[i].code);
    }
}

/* ---- Clusters. ---- */

static json_t *
member_row(bool connected, bool leader, int index)
{
    return json_pack("{s:s, s:s, s:b, s:b, s:i}", "name", SB_DB, "model", "clustered",
                     "connected", connected, "leader", leader, "index", index);
}

static void
test_cluster_member_selection(void **state)
{
    struct ctx *c = *state;
    struct fake_server *fs = c->fs;
    fs->has_server_db = true;
    fs->server_rows =
        json_pack("[o, o, o, o]", member_row(true, true, 10), member_row(true, false, 5),
                  member_row(false, false, 20), member_row(true, false, 12));
    start_synced(c, NULL);
    assert_int_equal(stats(c).member_skips, 0);

    const json_t *req = fs_find_request(fs, "monitor_cond", "_Server", 0, NULL);
    assert_non_null(req);
    json_t *want = json_pack("{s:[{s:[s,s,s,s,s], s:[b]}]}", "Database", "columns",
                             "name", "model", "connected", "leader", "index", "where", 1);
    assert_true(json_equal(json_array_get(json_object_get(req, "params"), 2), want));
    json_decref(want);

    /* Reconnecting: a member behind what was seen (index 5 < 10) and one that is not
     * connected to the cluster are skipped; a follower at index 12 is taken. */
    fs_close_all(fs);
    wait_for(c, (struct want){.connects = 4, .member_skips = 2, .synced = true});
    assert_int_equal(stats(c).member_skips, 2);
    assert_int_equal(stats(c).errors, 0);
    assert_replica_matches(c);

    /* The member then loses the cluster: the client moves on. */
    struct fs_conn *conn = fs_conn_last(fs);
    fs_send(conn,
            jsonrpc_msg_create_notify(
                "update2", json_pack("[s, {s:{s:{s:{s:b}}}}]", "ovnic-server", "Database",
                                     SERVER_ROW, "modify", "connected", 0)));
    wait_for(c, (struct want){.connects = 5, .member_skips = 3, .synced = true});
    assert_int_equal(stats(c).errors, 0);
}

static void
test_cluster_leader_only(void **state)
{
    struct ctx *c = *state;
    struct fake_server *fs = c->fs;
    fs->has_server_db = true;
    fs->server_rows = json_pack("[o, o, o]", member_row(true, false, 3),
                                member_row(true, false, 3), member_row(true, true, 3));
    struct ovsdb_cs_config cfg = {.leader_only = true};
    client_start(c, &cfg);
    wait_for(c, (struct want){.connects = 3, .member_skips = 2, .synced = true});
    assert_int_equal(stats(c).errors, 0);
    assert_replica_matches(c);

    /* Losing leadership while synced moves the client on. */
    fs_send(fs_conn_last(fs),
            jsonrpc_msg_create_notify(
                "update2", json_pack("[s, {s:{s:{s:{s:b}}}}]", "ovnic-server", "Database",
                                     SERVER_ROW, "modify", "leader", 0)));
    wait_for(c, (struct want){.member_skips = 3, .connects = 4, .synced = true});
}

/* ---- Conditions. ---- */

static void
test_conditions(void **state)
{
    struct ctx *c = *state;
    struct fake_server *fs = c->fs;
    client_start(c, NULL);

    /* Before the schema is known only the shape is checked. */
    assert_int_equal(ovsdb_cs_set_condition(c->cs, "Address_Set", json_object()),
                     -EINVAL);
    assert_int_equal(ovsdb_cs_set_condition(c->cs, "Address_Set",
                                            json_pack("[[s,s,s]]", "name", "=~", "x")),
                     -EINVAL);
    assert_int_equal(ovsdb_cs_set_condition(c->cs, "Address_Set",
                                            json_pack("[[s,s,s]]", "name", "==", "as1")),
                     0);
    wait_for(c, (struct want){.synced = true});

    const json_t *req = fs_find_request(fs, "monitor_cond_since", SB_DB, 0, NULL);
    const json_t *as = json_array_get(
        json_object_get(json_array_get(json_object_get(req, "params"), 2), "Address_Set"),
        0);
    json_t *want = json_pack("[[s,s,s]]", "name", "==", "as1");
    assert_true(json_equal(json_object_get(as, "where"), want));
    json_decref(want);

    /* With the schema known, tables and columns are checked too. */
    assert_int_equal(ovsdb_cs_set_condition(c->cs, "No_Table", json_pack("[b]", 1)),
                     -ENOENT);
    assert_int_equal(ovsdb_cs_set_condition(c->cs, "Address_Set",
                                            json_pack("[[s,s,i]]", "nope", "==", 1)),
                     -EINVAL);

    /* A change while synced goes out as monitor_cond_change. */
    assert_int_equal(ovsdb_cs_set_condition(c->cs, "Address_Set",
                                            json_pack("[[s,s,s], [s,s,s]]", "name",
                                                      "==", "as1", "name", "==", "as2")),
                     0);
    it_loop_run_for(c->loop, 100);
    req = fs_find_request(fs, "monitor_cond_change", NULL, 0, NULL);
    assert_non_null(req);
    const json_t *params = json_object_get(req, "params");
    assert_int_equal(json_array_size(params), 3);
    struct fs_conn *conn = fs_conn_last(fs);
    assert_true(json_equal(json_array_get(params, 1), conn->monitor_id));
    assert_false(json_equal(json_array_get(params, 0), json_array_get(params, 1)));
    want = json_pack("{s:[{s:[[s,s,s],[s,s,s]]}]}", "Address_Set", "where", "name",
                     "==", "as1", "name", "==", "as2");
    assert_true(json_equal(json_array_get(params, 2), want));
    json_decref(want);

    /* Updates under the new monitor id are accepted. */
    fs_commit(c, conn,
              json_pack("{s:{s:{s:{s:s}}}}", "Address_Set", U1, "modify", "name", "as1b"),
              T1);
    wait_for(c, (struct want){.updates = 1});
    assert_int_equal(stats(c).errors, 0);
    assert_replica_matches(c);

    /* Conditions survive a reconnection, which resumes since nothing changed. */
    fs_close_all(fs);
    wait_for(c, (struct want){.connects = 2, .synced = true});
    req = fs_find_request(fs, "monitor_cond_since", SB_DB, 1, NULL);
    params = json_object_get(req, "params");
    as = json_array_get(json_object_get(json_array_get(params, 2), "Address_Set"), 0);
    assert_int_equal(json_array_size(json_object_get(as, "where")), 2);
    assert_string_equal(json_string_value(json_array_get(params, 3)), T1);
    assert_int_equal(stats(c).resumed_syncs, 1);
    assert_replica_matches(c);

    /* A condition changed while disconnected forces a full resync. */
    fs_close_all(fs);
    assert_int_equal(ovsdb_cs_set_condition(c->cs, "Address_Set", json_pack("[b]", 1)),
                     0);
    wait_for(c, (struct want){.connects = 3, .synced = true});
    req = fs_find_request(fs, "monitor_cond_since", SB_DB, 2, NULL);
    params = json_object_get(req, "params");
    assert_string_equal(json_string_value(json_array_get(params, 3)), ZERO_TXN);
    assert_int_equal(fs_count_requests(fs, "monitor_cond_change", NULL), 1);
}

static void
test_monitor_all_and_tables(void **state)
{
    struct ctx *c = *state;
    struct ovsdb_cs_config cfg = {.monitor_all = true};
    client_start(c, &cfg);
    static const char *const tables[] = {"Address_Set", "SB_Global", "Not_A_Table", NULL};
    assert_int_equal(ovsdb_cs_set_tables(c->cs, tables), 0);
    assert_int_equal(ovsdb_cs_set_condition(c->cs, "Address_Set",
                                            json_pack("[[s,s,s]]", "name", "==", "as1")),
                     0);
    wait_for(c, (struct want){.synced = true});
    const json_t *req = fs_find_request(c->fs, "monitor_cond_since", SB_DB, 0, NULL);
    const json_t *requests = json_array_get(json_object_get(req, "params"), 2);
    assert_int_equal(json_object_size(requests), 2);
    const json_t *as = json_array_get(json_object_get(requests, "Address_Set"), 0);
    assert_null(json_object_get(as, "where"));
    assert_replica_matches(c);
    assert_int_equal(fs_count_requests(c->fs, "monitor_cond_change", NULL), 0);
}

/* ---- Schema changes. ---- */

static void
test_schema_change(void **state)
{
    struct ctx *c = *state;
    struct fake_server *fs = c->fs;
    start_synced(c, NULL);
    struct ovsdb_replica *first = ovsdb_cs_replica(c->cs);

    /* Same schema on reconnection: the replica is kept. */
    fs_close_all(fs);
    wait_for(c, (struct want){.connects = 2, .synced = true});
    assert_ptr_equal(ovsdb_cs_replica(c->cs), first);

    /* The server comes back with a new schema version: an extra column in
     * Address_Set.  The replica is rebuilt and fully resynced. */
    json_t *schema = json_deep_copy(fs->schema);
    json_object_set_new(schema, "version", json_string("99.0.0"));
    json_t *cols = json_object_get(
        json_object_get(json_object_get(schema, "tables"), "Address_Set"), "columns");
    json_object_set_new(cols, "comment", json_pack("{s:s}", "type", "string"));
    json_decref(fs->schema);
    fs->schema = schema;
    json_object_set_new(json_object_get(json_object_get(fs->contents, "Address_Set"), U1),
                        "initial",
                        json_pack("{s:s, s:s}", "name", "as1", "comment", "new"));
    ref_reset(c, fs->schema, fs->contents);
    fs_close_all(fs);

    wait_for(c, (struct want){.connects = 3, .full_syncs = 2, .synced = true});
    assert_replica_matches(c);
    const struct ovsdb_schema *s = ovsdb_replica_schema(ovsdb_cs_replica(c->cs));
    assert_string_equal(s->version, "99.0.0");
    const json_t *req = fs_find_request(fs, "monitor_cond_since", SB_DB, 2, NULL);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(req, "params"), 3)), ZERO_TXN);
    assert_int_equal(stats(c).errors, 0);
}

static void
test_unknown_database(void **state)
{
    struct ctx *c = *state;
    /* The server does not have the database at all: the client keeps retrying,
     * without counting protocol errors, and never claims to be synced. */
    struct ovsdb_cs_config cfg = {0};
    cfg.remotes = c->fs->remote;
    cfg.database = "No_Such_DB";
    cfg.backoff_min_ms = 10;
    cfg.backoff_max_ms = 20;
    assert_int_equal(ovsdb_cs_create(c->loop, &cfg, &c->cs, NULL), 0);
    it_loop_run_for(c->loop, 300);
    assert_false(ovsdb_cs_is_synced(c->cs));
    assert_null(ovsdb_cs_replica(c->cs));
    assert_true(stats(c).connects >= 2);
    assert_int_equal(stats(c).errors, 0);
}

static void
test_bad_config(void **state)
{
    struct ctx *c = *state;
    struct ovsdb_cs *cs = NULL;
    struct ovnic_err err = {0};
    struct ovsdb_cs_config cfg = {.remotes = "tcp:127.0.0.1:1", .database = NULL};
    assert_int_equal(ovsdb_cs_create(c->loop, &cfg, &cs, &err), -EINVAL);
    cfg.database = SB_DB;
    cfg.remotes = "ssl:127.0.0.1:6642";
    assert_int_equal(ovsdb_cs_create(c->loop, &cfg, &cs, &err), -EINVAL);
    cfg.remotes = "bogus:x";
    assert_int_equal(ovsdb_cs_create(c->loop, &cfg, &cs, &err), -EINVAL);
    cfg.remotes = " , ";
    assert_int_equal(ovsdb_cs_create(c->loop, &cfg, &cs, &err), -EINVAL);
    cfg.remotes = "tcp:127.0.0.1:1";
    cfg.backoff_min_ms = 500;
    cfg.backoff_max_ms = 100;
    assert_int_equal(ovsdb_cs_create(c->loop, &cfg, &cs, &err), -EINVAL);
    assert_null(cs);
    ovsdb_cs_destroy(NULL);
}

static void
test_remote_rotation(void **state)
{
    struct ctx *c = *state;
    /* Two dead remotes before the live one: the client rotates until it syncs. */
    char remotes[600];
    snprintf(remotes, sizeof remotes, "unix:%s/dead1.sock, unix:%s/dead2.sock,%s",
             c->fs->dir, c->fs->dir, c->fs->remote);
    struct ovsdb_cs_config cfg = {.remotes = remotes,
                                  .database = SB_DB,
                                  .backoff_min_ms = 10,
                                  .backoff_max_ms = 20};
    assert_int_equal(ovsdb_cs_create(c->loop, &cfg, &c->cs, NULL), 0);
    wait_for(c, (struct want){.synced = true});
    assert_string_equal(ovsdb_cs_remote(c->cs), c->fs->remote);
    assert_replica_matches(c);

    /* A forced reconnect moves to the next remote (a dead one), then back. */
    ovsdb_cs_force_reconnect(c->cs);
    assert_false(ovsdb_cs_is_synced(c->cs));
    wait_for(c, (struct want){.connects = 2, .synced = true});
    assert_int_equal(stats(c).errors, 0);
}

int
main(void)
{
    if (access(SB_SCHEMA_PATH, R_OK)) {
        fprintf(stderr, "%s is missing\n", SB_SCHEMA_PATH);
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_initial_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_then_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_byte_by_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_monitor_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_uuid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fallback_monitor_cond, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fallback_monitor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_echo_keepalive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transact, setup, teardown),
        cmocka_unit_test(test_error_mapping),
        cmocka_unit_test_setup_teardown(test_cluster_member_selection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cluster_leader_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conditions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_monitor_all_and_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remote_rotation, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
