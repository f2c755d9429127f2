/* ovnic integration: the OVSDB client session against a real standalone SB
 * ovsdb-server (replication of writes made by ovn-sbctl, transactions, a restart with
 * a fresh database), and ovnicctl's ovsdb commands against the same server. */
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
#include "ithelp.h"
#include "shared/util/poll.h"
#include "shared/util/util.h"

#define SB_DB "OVN_Southbound"
#define WAIT_MS 10000

struct sb_server {
    char *dir;
    char *tcp;   /* tcp:127.0.0.1:PORT */
    char *unix_; /* unix:DIR/sb.sock */
};

static struct sb_server sb;

static int
group_setup(void **state OVNIC_UNUSED)
{
    sb.dir = it_tmpdir_create();
    if (!sb.dir) {
        return -1;
    }
    sb.tcp = it_central("start-sb '%s'", sb.dir);
    sb.unix_ = it_central("remote '%s' sb unix", sb.dir);
    if (!sb.tcp || !sb.unix_ || strncmp(sb.tcp, "tcp:", 4)) {
        return -1;
    }
    return 0;
}

static int
group_teardown(void **state OVNIC_UNUSED)
{
    it_tmpdir_remove(sb.dir);
    free(sb.dir);
    free(sb.tcp);
    free(sb.unix_);
    return 0;
}

static void
client_start(struct it_fixture *fx, const char *remote)
{
    struct ovsdb_cs_config cfg = it_cs_config(remote, SB_DB);

    assert_int_equal(it_fixture_client_start(fx, &cfg, WAIT_MS), 0);
}

/* Waits until the client's replica equals a dump of the server, and returns the
 * dump (caller owns). */
static json_t *
replica_matches_server(struct it_fixture *fx, const char *remote)
{
    json_t *dump = it_dump(remote, SB_DB, NULL);

    assert_non_null(dump);
    assert_true(it_wait_replica_equals(fx->loop, fx->cs, dump, WAIT_MS));
    return dump;
}

static char *
sbctl_ok(const char *args)
{
    char *out = it_sbctl(sb.tcp, "%s", args);

    assert_non_null(out);
    return out;
}

static void
sbctl_run(const char *args)
{
    free(sbctl_ok(args));
}

/* The uuid printed by "--bare --columns=_uuid find ...", which must be one row. */
static char *
sbctl_find_uuid(const char *args)
{
    char *out = sbctl_ok(args);
    size_t len = strlen(out);

    while (len && (out[len - 1] == '\n' || out[len - 1] == ' ')) {
        out[--len] = '\0';
    }
    assert_int_equal(len, UUID_LEN);
    return out;
}

/* Conditional monitoring against the real server: only the rows the condition
 * selects are replicated; monitor_cond_change at run time swaps them; the condition
 * survives a reconnection. */
static bool
chassis_only__(struct it_fixture *fx, const char *name)
{
    struct ovsdb_replica *replica = ovsdb_cs_replica(fx->cs);
    struct ovsdb_replica_table *table =
        replica ? ovsdb_replica_table(replica, "Chassis") : NULL;
    if (!table || ovsdb_replica_table_count(table) != 1) {
        return false;
    }
    const struct ovsdb_row *row = ovsdb_replica_table_next(table, NULL);
    json_t *json = ovsdb_row_to_json(row);
    const char *got = json_string_value(json_object_get(json, "name"));
    bool ok = got && !strcmp(got, name);
    json_decref(json);
    return ok;
}

struct chassis_wait {
    struct it_fixture *fx;
    const char *name;
};

static bool
chassis_only_pred__(void *aux)
{
    struct chassis_wait *w = aux;
    return ovsdb_cs_is_synced(w->fx->cs) && chassis_only__(w->fx, w->name);
}

static void
test_conditions(void **state)
{
    struct it_fixture *fx = *state;
    static const char *const tables[] = {"Chassis", "Encap", "SB_Global", NULL};
    struct ovsdb_cs_config cfg = it_cs_config(sb.tcp, SB_DB);
    struct ovsdb_cs_stats before, after;

    sbctl_run("--may-exist chassis-add cond-a geneve 192.0.2.1 -- "
              "--may-exist chassis-add cond-b geneve 192.0.2.2");
    cfg.monitor_all = false; /* monitor_all would ignore the conditions. */
    assert_int_equal(it_fixture_client_create(fx, &cfg), 0);
    assert_int_equal(ovsdb_cs_set_tables(fx->cs, tables), 0);
    assert_int_equal(
        ovsdb_cs_set_condition(fx->cs, "Chassis",
                               json_pack("[[s,s,s]]", "name", "==", "cond-a")),
        0);
    struct chassis_wait w = {fx, "cond-a"};
    assert_true(it_loop_until(fx->loop, chassis_only_pred__, &w, WAIT_MS));

    /* Change the condition while synced: monitor_cond_change. */
    assert_int_equal(
        ovsdb_cs_set_condition(fx->cs, "Chassis",
                               json_pack("[[s,s,s]]", "name", "==", "cond-b")),
        0);
    w.name = "cond-b";
    assert_true(it_loop_until(fx->loop, chassis_only_pred__, &w, WAIT_MS));

    /* Reconnect: the new condition is the one requested again.  (A standalone
     * server keeps no transaction history, so this is a full resync; resuming is
     * covered by it_sb_cluster.) */
    it_loop_run_for(fx->loop, 300);
    ovsdb_cs_get_stats(fx->cs, &before);
    ovsdb_cs_force_reconnect(fx->cs);
    sbctl_run("set Chassis cond-a hostname=after-reconnect -- "
              "set Chassis cond-b hostname=after-reconnect");
    assert_true(it_loop_until(fx->loop, chassis_only_pred__, &w, WAIT_MS));
    it_loop_run_for(fx->loop, 300);
    ovsdb_cs_get_stats(fx->cs, &after);
    assert_int_equal(after.connects, before.connects + 1);
    assert_true(chassis_only__(fx, "cond-b"));

    sbctl_run("chassis-del cond-a -- chassis-del cond-b");
}

/* (a) Every kind of write ovn-sbctl can make reaches the replica, which then equals
 * the server's own dump, row by row. */
static void
test_replica_follows_writes(void **state)
{
    struct it_fixture *fx = *state;
    struct ovsdb_cs_stats before, after;
    char *cmd = NULL, *dp2, *mb, *lf;
    size_t len = 0;
    FILE *f;
    json_t *dump;
    int i;

    client_start(fx, sb.tcp);
    ovsdb_cs_get_stats(fx->cs, &before);
    assert_int_equal(before.full_syncs, 1);
    assert_true(before.monitor_version >= 1);

    /* One transaction with many commands. */
    f = open_memstream(&cmd, &len);
    assert_non_null(f);
    fputs("-- chassis-add hv1 geneve 192.168.0.1"
          " -- chassis-add hv2 geneve,vxlan 192.168.0.2"
          " -- set Chassis hv1 hostname=host1 external_ids:rack=r1"
          " other_config:datapath-type=system"
          " -- --id=@dp1 create Datapath_Binding tunnel_key=101 external_ids:name=sw1"
          " -- --id=@dp2 create Datapath_Binding tunnel_key=102 external_ids:name=sw2"
          " -- create Port_Binding logical_port=lp1 datapath=@dp1 tunnel_key=1"
          " 'mac=\"00:00:00:00:00:01 10.0.0.1\"' options:foo=bar external_ids:owner=it"
          " 'external_ids:note=\"tab\\there, \\\"quoted\\\", caf\xc3\xa9\"' tag=7"
          " -- create Port_Binding logical_port=lp2 datapath=@dp1 tunnel_key=2 type=patch"
          " options:peer=lp3 'mac=[\"00:00:00:00:00:02 10.0.0.2\", router]'"
          " -- create Port_Binding logical_port=lp3 datapath=@dp2 tunnel_key=1"
          " -- create Address_Set name=as1 'addresses=[\"10.0.0.1\",\"10.0.0.2\"]'"
          " -- create MAC_Binding logical_port=lp1 ip=10.0.0.9"
          " 'mac=\"00:00:00:00:00:09\"' datapath=@dp1 timestamp=1234",
          f);
    for (i = 0; i < 40; i++) {
        fprintf(
            f,
            " -- create Logical_Flow logical_datapath=@dp%d pipeline=%s table_id=%d"
            " priority=%d 'match=\"inport == \\\"lp%d\\\" && ip4.dst == 10.0.%d.0/24\"'"
            " 'actions=\"reg0 = %d; next;\"' external_ids:stage-name=s%d",
            1 + i % 2, i % 3 ? "ingress" : "egress", i % 20, 100 + i, 1 + i % 3, i, i,
            i % 5);
    }
    fclose(f);
    sbctl_run(cmd);
    free(cmd);

    /* Then separate transactions: set, add, remove, clear, bind, deletes. */
    sbctl_run("set Port_Binding lp1 options:extra=1 external_ids:k2=v2 up=true");
    sbctl_run("add Port_Binding lp1 mac '\"00:00:00:00:00:aa\"'"
              " -- remove Port_Binding lp1 options foo"
              " -- add Address_Set as1 addresses '\"10.0.0.3\"'"
              " -- remove Address_Set as1 addresses '\"10.0.0.1\"'");
    sbctl_run("clear Port_Binding lp1 tag -- set Port_Binding lp3 tag=42");
    sbctl_run("lsp-bind lp3 hv1");
    dp2 = sbctl_find_uuid("--bare --columns=_uuid find Datapath_Binding tunnel_key=102");
    cmd = NULL;
    assert_true(asprintf(&cmd,
                         "set Datapath_Binding %s external_ids:name=sw2-renamed"
                         " external_ids:extra=x"
                         " -- add Datapath_Binding %s external_ids k3=v3"
                         " -- remove Datapath_Binding %s external_ids extra",
                         dp2, dp2, dp2) > 0);
    sbctl_run(cmd);
    free(cmd);
    free(dp2);
    mb = sbctl_find_uuid("--bare --columns=_uuid find MAC_Binding ip=10.0.0.9");
    assert_true(asprintf(&cmd, "destroy MAC_Binding %s", mb) > 0);
    sbctl_run(cmd);
    free(cmd);
    free(mb);
    lf = sbctl_find_uuid("--bare --columns=_uuid find Logical_Flow priority=100");
    assert_true(asprintf(&cmd, "destroy Logical_Flow %s", lf) > 0);
    sbctl_run(cmd);
    free(cmd);
    free(lf);
    sbctl_run("chassis-del hv2");

    dump = replica_matches_server(fx, sb.tcp);
    assert_int_equal(it_db_count(dump, "Chassis"), 1);
    assert_int_equal(it_db_count(dump, "Encap"), 1);
    assert_int_equal(it_db_count(dump, "Port_Binding"), 3);
    assert_int_equal(it_db_count(dump, "Logical_Flow"), 39);
    assert_int_equal(it_db_count(dump, "MAC_Binding"), 0);
    assert_int_equal(it_db_count(dump, "Address_Set"), 1);
    json_decref(dump);

    ovsdb_cs_get_stats(fx->cs, &after);
    assert_int_equal(after.full_syncs, 1);
    assert_int_equal(after.errors, 0);
    assert_true(after.updates > before.updates);
    assert_true(ovsdb_cs_remote(fx->cs) && !strcmp(ovsdb_cs_remote(fx->cs), sb.tcp));
}

struct txn_outcome {
    bool done;
    int error;
    json_t *result;
    char *errmsg;
};

static void
txn_done(void *aux, int error, const json_t *result, const char *errmsg)
{
    struct txn_outcome *o = aux;

    o->done = true;
    o->error = error;
    o->result = result ? json_deep_copy(result) : NULL;
    o->errmsg = errmsg ? strdup(errmsg) : NULL;
}

static bool
txn_is_done(void *aux)
{
    return ((struct txn_outcome *)aux)->done;
}

static void
txn_outcome_clear(struct txn_outcome *o)
{
    json_decref(o->result);
    free(o->errmsg);
    memset(o, 0, sizeof *o);
}

/* Runs the transaction 'ops' (taken) and waits for its outcome. */
static void
txn_run(struct it_fixture *fx, json_t *ops, struct txn_outcome *o)
{
    assert_non_null(ops);
    memset(o, 0, sizeof *o);
    assert_int_equal(ovsdb_cs_transact(fx->cs, ops, txn_done, o), 0);
    assert_true(it_loop_until(fx->loop, txn_is_done, o, WAIT_MS));
}

static json_t *
where_name(const char *name)
{
    return json_pack("[[s,s,s]]", "name", "==", name);
}

/* (b) Transactions made by the client are visible to ovn-sbctl; failing ones report
 * a negative errno and the server's message. */
static void
test_transactions(void **state)
{
    struct it_fixture *fx = *state;
    struct txn_outcome o;
    const char *encap_uuid, *chassis_uuid;
    char *out;
    json_t *ops, *dump;

    /* Not synced yet: refused, and 'operations' is still taken. */
    {
        struct ovsdb_cs_config cfg = {.remotes = sb.tcp, .database = SB_DB};
        struct ovsdb_cs *early;

        assert_int_equal(ovsdb_cs_create(fx->loop, &cfg, &early, NULL), 0);
        assert_int_equal(ovsdb_cs_transact(early, json_array(), NULL, NULL), -ENOTCONN);
        ovsdb_cs_destroy(early);
    }

    client_start(fx, sb.tcp);
    assert_int_equal(ovsdb_cs_transact(fx->cs, json_object(), NULL, NULL), -EINVAL);

    /* Insert a Chassis with an Encap referenced by a named uuid. */
    ops = json_pack("[{s:s, s:s, s:s, s:{s:s, s:s, s:s}},"
                    " {s:s, s:s, s:s, s:{s:s, s:[s,s], s:[s,[[s,s]]]}}]",
                    "op", "insert", "table", "Encap", "uuid-name", "enc", "row", "type",
                    "geneve", "ip", "172.16.0.9", "chassis_name", "hv-txn", "op",
                    "insert", "table", "Chassis", "uuid-name", "ch", "row", "name",
                    "hv-txn", "encaps", "named-uuid", "enc", "external_ids", "map",
                    "origin", "ovnic");
    txn_run(fx, ops, &o);
    assert_int_equal(o.error, 0);
    assert_true(json_is_array(o.result) && json_array_size(o.result) >= 2);
    encap_uuid = json_string_value(
        json_array_get(json_object_get(json_array_get(o.result, 0), "uuid"), 1));
    chassis_uuid = json_string_value(
        json_array_get(json_object_get(json_array_get(o.result, 1), "uuid"), 1));
    assert_non_null(encap_uuid);
    assert_non_null(chassis_uuid);

    out = sbctl_ok("--bare --columns=_uuid,encaps,external_ids find Chassis name=hv-txn");
    assert_non_null(strstr(out, chassis_uuid));
    assert_non_null(strstr(out, encap_uuid));
    assert_non_null(strstr(out, "origin=ovnic"));
    free(out);
    out =
        sbctl_ok("--bare --columns=ip,chassis_name find Encap type=geneve ip=172.16.0.9");
    assert_non_null(strstr(out, "hv-txn"));
    free(out);
    txn_outcome_clear(&o);

    /* Update and mutate in one transaction. */
    ops = json_pack("[{s:s, s:s, s:o, s:{s:s}}, {s:s, s:s, s:o, s:[[s,s,[s,[[s,s]]]]]}]",
                    "op", "update", "table", "Chassis", "where", where_name("hv-txn"),
                    "row", "hostname", "txn-host", "op", "mutate", "table", "Chassis",
                    "where", where_name("hv-txn"), "mutations", "external_ids", "insert",
                    "map", "k", "v");
    txn_run(fx, ops, &o);
    assert_int_equal(o.error, 0);
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(o.result, 0), "count")), 1);
    txn_outcome_clear(&o);
    out = sbctl_ok("--bare --columns=hostname,external_ids find Chassis name=hv-txn");
    assert_non_null(strstr(out, "txn-host"));
    assert_non_null(strstr(out, "k=v"));
    free(out);

    /* The replica sees the client's own writes. */
    dump = replica_matches_server(fx, sb.tcp);
    json_decref(dump);

    /* A constraint violation: two datapaths with the same (indexed) tunnel key. */
    ops = json_pack("[{s:s, s:s, s:{s:i}}, {s:s, s:s, s:{s:i}}]", "op", "insert", "table",
                    "Datapath_Binding", "row", "tunnel_key", 4000, "op", "insert",
                    "table", "Datapath_Binding", "row", "tunnel_key", 4000);
    txn_run(fx, ops, &o);
    assert_true(o.error < 0);
    assert_non_null(o.errmsg);
    fprintf(stderr, "constraint violation reported as %d: %s\n", o.error, o.errmsg);
    assert_int_equal(o.error, -EINVAL);
    assert_non_null(strstr(o.errmsg, "constraint violation"));
    txn_outcome_clear(&o);

    /* A wait that cannot be satisfied times out at once. */
    ops =
        json_pack("[{s:s, s:s, s:i, s:o, s:[s], s:s, s:[{s:s}]}]", "op", "wait", "table",
                  "Chassis", "timeout", 0, "where", where_name("hv-txn"), "columns",
                  "hostname", "until", "==", "rows", "hostname", "not-this-one");
    txn_run(fx, ops, &o);
    assert_true(o.error < 0);
    assert_non_null(o.errmsg);
    fprintf(stderr, "failed wait reported as %d: %s\n", o.error, o.errmsg);
    assert_int_equal(o.error, -ETIMEDOUT);
    assert_non_null(strstr(o.errmsg, "timed out"));
    txn_outcome_clear(&o);

    /* A reference to a row that does not exist. */
    ops = json_pack("[{s:s, s:s, s:{s:s, s:[s,s]}}]", "op", "insert", "table", "Chassis",
                    "row", "name", "hv-bad-ref", "encaps", "uuid",
                    "0b8a1a3c-0000-4000-8000-000000000001");
    txn_run(fx, ops, &o);
    assert_true(o.error < 0);
    assert_non_null(o.errmsg);
    fprintf(stderr, "dangling reference reported as %d: %s\n", o.error, o.errmsg);
    assert_int_equal(o.error, -EINVAL);
    assert_non_null(strstr(o.errmsg, "referential integrity violation"));
    txn_outcome_clear(&o);
    assert_true(ovsdb_cs_is_synced(fx->cs));

    /* Delete: the Chassis goes, and its Encap (not a root table) with it. */
    ops = json_pack("[{s:s, s:s, s:o}]", "op", "delete", "table", "Chassis", "where",
                    where_name("hv-txn"));
    txn_run(fx, ops, &o);
    assert_int_equal(o.error, 0);
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(o.result, 0), "count")), 1);
    txn_outcome_clear(&o);
    out = sbctl_ok("--bare --columns=_uuid find Chassis name=hv-txn");
    assert_string_equal(out, "");
    free(out);
    out = sbctl_ok("--bare --columns=_uuid find Encap ip=172.16.0.9");
    assert_string_equal(out, "");
    free(out);

    dump = replica_matches_server(fx, sb.tcp);
    assert_null(json_object_get(json_object_get(dump, "Chassis"), "hv-txn"));
    json_decref(dump);
}

/* (c) The server restarts with a fresh database on the same socket and port: the
 * client notices, resynchronises fully and drops every row of the old database. */
static void
test_fresh_restart(void **state)
{
    struct it_fixture *fx = *state;
    struct ovsdb_cs_stats before, after;
    const char *port = strrchr(sb.tcp, ':') + 1;
    char *remote;
    json_t *old, *dump;

    client_start(fx, sb.unix_);
    sbctl_run("chassis-add hv-old geneve 10.1.1.1");
    old = replica_matches_server(fx, sb.unix_);
    ovsdb_cs_get_stats(fx->cs, &before);

    free(it_central("stop '%s'", sb.dir));
    remote = it_central("start-sb '%s' --fresh --port-base %s", sb.dir, port);
    assert_non_null(remote);
    assert_string_equal(remote, sb.tcp);
    free(remote);
    sbctl_run("chassis-add hv-new geneve 10.2.2.2"
              " -- --id=@dp create Datapath_Binding tunnel_key=7"
              " -- create Logical_Flow logical_datapath=@dp pipeline=ingress table_id=3"
              " priority=5 match=1 'actions=\"drop;\"'");

    dump = replica_matches_server(fx, sb.unix_);
    assert_false(it_db_same(old, dump));
    assert_int_equal(it_db_count(dump, "Chassis"), 1);
    assert_int_equal(it_db_count(dump, "Logical_Flow"), 1);
    json_decref(old);
    json_decref(dump);

    ovsdb_cs_get_stats(fx->cs, &after);
    assert_int_equal(after.full_syncs, before.full_syncs + 1);
    assert_int_equal(after.resumed_syncs, 0);
    assert_true(after.connects > before.connects);
}

/* ---- ovnicctl ---- */

static char *
ovnicctl_path(void)
{
    char *path = NULL;

    assert_true(asprintf(&path, "%s/tools/ovnicctl/ovnicctl", it_build_dir()) > 0);
    if (access(path, X_OK)) {
        fail_msg("%s: not built", path);
    }
    return path;
}

static bool
file_contains(const char *path, const char *needle)
{
    char *text = it_file_read(path);
    bool found = text && strstr(text, needle);

    free(text);
    return found;
}

static bool
wait_file_contains(const char *path, const char *needle, int timeout_ms)
{
    uint64_t deadline = time_msec() + (uint64_t)timeout_ms;

    while (!file_contains(path, needle)) {
        if (time_msec() >= deadline) {
            char *text = it_file_read(path);

            fprintf(stderr, "'%s' never appeared in %s:\n%s\n", needle, path,
                    text ? text : "(unreadable)");
            free(text);
            return false;
        }
        usleep(20000);
    }
    return true;
}

/* The JSON line of 'change' for row 'name'/'uuid' (one of them nonnull).  Caller owns
 * the result. */
static json_t *
monitor_find(const char *text, const char *change, const char *name, const char *uuid)
{
    char *copy = strdup(text), *line, *save = NULL;
    json_t *found = NULL;

    for (line = strtok_r(copy, "\n", &save); line && !found;
         line = strtok_r(NULL, "\n", &save)) {
        json_t *obj = json_loads(line, 0, NULL);
        const char *c, *u, *n;

        if (!obj) {
            fail_msg("monitor printed a line that is not JSON: %s", line);
        }
        c = json_string_value(json_object_get(obj, "change"));
        u = json_string_value(json_object_get(obj, "uuid"));
        n = json_string_value(json_object_get(json_object_get(obj, "row"), "name"));
        assert_non_null(c);
        assert_non_null(u);
        assert_string_equal(json_string_value(json_object_get(obj, "table")), "Chassis");
        if (!strcmp(c, change) && (!name || (n && !strcmp(n, name))) &&
            (!uuid || !strcmp(u, uuid))) {
            found = obj;
        } else {
            json_decref(obj);
        }
    }
    free(copy);
    return found;
}

static void
test_ovnicctl_monitor(void **state OVNIC_UNUSED)
{
    char *path = ovnicctl_path(), *out_path = NULL, *db = NULL, *text;
    json_t *initial, *insert, *modify, *delete;
    const char *uuid;
    pid_t pid;

    sbctl_run("chassis-add hv-mon0 geneve 10.3.0.1");
    assert_true(asprintf(&out_path, "%s/monitor.out", sb.dir) > 0);
    assert_true(asprintf(&db, "--db=%s", sb.tcp) > 0);
    {
        char *argv[] = {path, "ovsdb", "monitor", db, "--format=json", "Chassis", NULL};

        pid = it_spawn(argv, out_path);
    }
    assert_true(pid > 0);
    assert_true(wait_file_contains(out_path, "hv-mon0", WAIT_MS));

    sbctl_run("chassis-add hv-mon1 geneve 10.3.0.2");
    assert_true(wait_file_contains(out_path, "hv-mon1", WAIT_MS));
    sbctl_run("set Chassis hv-mon1 hostname=mon-host");
    assert_true(wait_file_contains(out_path, "mon-host", WAIT_MS));
    sbctl_run("chassis-del hv-mon1");
    assert_true(wait_file_contains(out_path, "\"delete\"", WAIT_MS));
    assert_int_equal(it_proc_stop(pid, IT_SIG_TERM, 10000), 0);

    text = it_file_read(out_path);
    assert_non_null(text);
    initial = monitor_find(text, "initial", "hv-mon0", NULL);
    assert_non_null(initial);
    insert = monitor_find(text, "insert", "hv-mon1", NULL);
    assert_non_null(insert);
    uuid = json_string_value(json_object_get(insert, "uuid"));
    modify = monitor_find(text, "modify", NULL, uuid);
    assert_non_null(modify);
    /* A modification lists only the columns that changed, with their new values. */
    assert_int_equal(json_object_size(json_object_get(modify, "row")), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(modify, "row"), "hostname")),
        "mon-host");
    delete = monitor_find(text, "delete", NULL, uuid);
    assert_non_null(delete);
    /* Inserted rows come with every column. */
    assert_non_null(json_object_get(json_object_get(insert, "row"), "encaps"));
    assert_non_null(json_object_get(json_object_get(insert, "row"), "other_config"));

    json_decref(initial);
    json_decref(insert);
    json_decref(modify);
    json_decref(delete);
    free(text);
    free(out_path);
    free(db);
    free(path);
}

static void
test_ovnicctl_dump(void **state OVNIC_UNUSED)
{
    char *path = ovnicctl_path(), *out = NULL;
    json_t *mine, *server, *subset;
    const char *tables[] = {"Chassis", "Encap", "SB_Global"};
    size_t i;

    sbctl_run("chassis-add hv-dump geneve 10.4.0.1"
              " -- set Chassis hv-dump external_ids:x='\"y z\"'");
    assert_int_equal(it_run(&out,
                            "'%s' ovsdb dump --db=%s --format=json Chassis Encap"
                            " SB_Global",
                            path, sb.tcp),
                     0);
    mine = json_loads(out, 0, NULL);
    assert_non_null(mine);
    free(out);
    server = it_dump(sb.tcp, SB_DB, NULL);
    assert_non_null(server);
    subset = json_object();
    for (i = 0; i < ARRAY_SIZE(tables); i++) {
        json_object_set(subset, tables[i], json_object_get(server, tables[i]));
    }
    assert_true(it_db_equal(mine, subset, "ovnicctl dump vs server"));
    json_decref(subset);
    json_decref(server);
    json_decref(mine);

    /* Table format: one line per row, with the name in it. */
    assert_int_equal(it_run(&out, "'%s' ovsdb dump --db=%s Chassis", path, sb.tcp), 0);
    assert_non_null(strstr(out, "hv-dump"));
    assert_non_null(strstr(out, "Chassis"));
    free(out);
    free(path);
}

static void
test_ovnicctl_errors(void **state OVNIC_UNUSED)
{
    char *path = ovnicctl_path(), *out = NULL;
    uint64_t start;

    assert_int_equal(it_run(&out, "'%s' --version", path), 0);
    assert_non_null(strstr(out, "ovnicctl"));
    free(out);
    assert_int_equal(it_run(&out, "'%s' --help", path), 0);
    assert_non_null(strstr(out, "ovsdb"));
    free(out);
    assert_int_equal(it_run(&out, "'%s' ovsdb --help", path), 0);
    assert_non_null(strstr(out, "monitor"));
    free(out);
    assert_int_equal(it_run(&out, "'%s' ovsdb monitor --help", path), 0);
    assert_non_null(strstr(out, "--format"));
    free(out);

    /* Usage errors: status 2. */
    assert_int_equal(it_run(NULL, "'%s'", path), 2);
    assert_int_equal(it_run(NULL, "'%s' no-such-command", path), 2);
    assert_int_equal(it_run(NULL, "'%s' ovsdb no-such-command", path), 2);
    assert_int_equal(it_run(NULL, "'%s' ovsdb monitor Chassis", path), 2);
    assert_int_equal(it_run(NULL, "'%s' ovsdb dump --db=%s --format=xml", path, sb.tcp),
                     2);
    assert_int_equal(it_run(NULL, "'%s' ovsdb dump --db=%s --timeout=-3", path, sb.tcp),
                     2);
    assert_int_equal(it_run(NULL, "'%s' ovsdb dump --db=%s --bogus", path, sb.tcp), 2);
    assert_int_equal(it_run(NULL, "'%s' ovsdb dump --db=bogus:x", path), 2);
    assert_int_equal(it_run(NULL, "'%s' ovsdb dump --db=ssl:127.0.0.1:1", path), 2);

    /* Runtime errors: status 1, within the timeout. */
    start = time_msec();
    assert_int_equal(
        it_run(NULL, "'%s' ovsdb dump --db=tcp:127.0.0.1:1 --timeout=1", path), 1);
    /* The timeout bounds the run: generous margin for a loaded machine. */
    printf("unreachable server: gave up after %llu ms\n",
           (unsigned long long)(time_msec() - start));
    assert_true(time_msec() - start < 15000);
    assert_int_equal(
        it_run(NULL, "'%s' ovsdb dump --db=%s --timeout=5 No_Such_Table", path, sb.tcp),
        1);
    assert_int_equal(
        it_run(NULL, "'%s' ovsdb dump --db=%s --timeout=5 --database=Nope", path, sb.tcp),
        1);
    free(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_replica_follows_writes, it_fixture_setup,
                                        it_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_transactions, it_fixture_setup,
                                        it_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_conditions, it_fixture_setup,
                                        it_fixture_teardown),
        cmocka_unit_test(test_ovnicctl_monitor),
        cmocka_unit_test(test_ovnicctl_dump),
        cmocka_unit_test(test_ovnicctl_errors),
        cmocka_unit_test_setup_teardown(test_fresh_restart, it_fixture_setup,
                                        it_fixture_teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
