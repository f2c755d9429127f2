/* ovnic integration: ovnic-dpud's logical-flow translation against a real SB
 * ovsdb-server and ovn-northd, on reference topologies 03 (security groups, bound
 * here) and 01 (an L2 switch that stays remote).  "ovn-nbctl --wait=hv sync" covers
 * the translation; only the flows of local datapaths are parsed, with conditional
 * monitoring and with monitor-all; a changed address set re-parses exactly the flows
 * that name it; a malformed Logical_Flow inserted by hand is reported with its uuid,
 * stage and reason while the rest keeps working. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ithelp.h"
#include "shared/util/util.h"

#define WAIT_MS 15000

static struct {
    char *dir;
    char *sb; /* unix:DIR/sb.sock */
    char *nb; /* unix:DIR/nb.sock */
} central;

struct dpud {
    const char *name;
    char rundir[512];
    char ctl[600];
    pid_t pid;
};

/* hv1: conditional monitoring, binds sg-web1; hv2: monitor-all, binds sg-db1. */
static struct dpud hv1 = {.name = "hv1"}, hv2 = {.name = "hv2"};

/* ---- Helpers ---- */

static char *
trim(char *s)
{
    size_t len = s ? strlen(s) : 0;

    while (len && (s[len - 1] == '\n' || s[len - 1] == ' ')) {
        s[--len] = '\0';
    }
    return s;
}

static char *sbctl(const char *fmt, ...) OVNIC_PRINTF(1, 2);

static char *
sbctl(const char *fmt, ...)
{
    char args[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    return trim(it_sbctl(central.sb, "%s", args));
}

static void nbctl(const char *fmt, ...) OVNIC_PRINTF(1, 2);

static void
nbctl(const char *fmt, ...)
{
    char args[2048];
    char *cmd = NULL;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    assert_true(asprintf(&cmd, "ovn-nbctl --db=%s --timeout=20 %s", central.nb, args) >
                0);
    assert_int_equal(it_run_timeout(NULL, 30000, cmd), 0);
    free(cmd);
}

static int ctl(const struct dpud *d, char **out, const char *fmt, ...) OVNIC_PRINTF(3, 4);

static int
ctl(const struct dpud *d, char **out, const char *fmt, ...)
{
    char args[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    return it_run(out, "%s/tools/ovnicctl/ovnicctl dpud %s --target=%s", it_build_dir(),
                  args, d->ctl);
}

static json_t *
ctl_json(const struct dpud *d, const char *args)
{
    char *out = NULL;
    json_t *j = NULL;

    if (!ctl(d, &out, "%s --format=json", args)) {
        j = json_loads(out, 0, NULL);
    }
    free(out);
    return j;
}

/* "ovnicctl dpud lflows [--failures] --format json". */
static json_t *
lflows(const struct dpud *d, bool failures)
{
    json_t *j = ctl_json(d, failures ? "lflows --failures" : "lflows");

    assert_non_null(j);
    return j;
}

static json_int_t
num(const json_t *j, const char *key)
{
    const json_t *v = json_object_get(j, key);

    if (!json_is_integer(v)) {
        fail_msg("no integer \"%s\"", key);
    }
    return json_integer_value(v);
}

static void
dpud_start(struct dpud *d, const char *extra)
{
    char bin[512], sys[64], remote[600], rundir[600], encap[64];
    char *argv[] = {
        bin,           sys, remote, rundir, encap, "--log=info", "--probe-interval=5000",
        (char *)extra, NULL};
    uint64_t deadline = time_msec() + WAIT_MS;

    snprintf(d->rundir, sizeof d->rundir, "%s/%s", central.dir, d->name);
    snprintf(d->ctl, sizeof d->ctl, "%s/ovnic-dpud.ctl", d->rundir);
    snprintf(bin, sizeof bin, "%s/dpu/daemon/ovnic-dpud", it_build_dir());
    snprintf(sys, sizeof sys, "--system-id=%s", d->name);
    snprintf(remote, sizeof remote, "--sb-remote=%s", central.sb);
    snprintf(rundir, sizeof rundir, "--rundir=%s", d->rundir);
    snprintf(encap, sizeof encap, "--encap-ip=192.0.2.%d", 50 + (d->name[2] - '0'));
    d->pid = it_spawn(argv, NULL);
    assert_true(d->pid > 0);
    while (time_msec() < deadline) {
        json_t *s = ctl_json(d, "status");
        bool ok = s && json_is_string(json_object_get(s, "chassis_uuid"));

        json_decref(s);
        if (ok) {
            return;
        }
        usleep(100 * 1000);
    }
    fail_msg("%s did not register", d->name);
}

static void
dpud_stop(struct dpud *d)
{
    if (d->pid > 0) {
        /* Exit status 0: no leak and no sanitizer report. */
        assert_int_equal(it_proc_stop(d->pid, IT_SIG_TERM, 10000), 0);
        d->pid = 0;
    }
}

static bool
wait_up(const char *lport)
{
    uint64_t deadline = time_msec() + WAIT_MS;

    while (time_msec() < deadline) {
        char *up = sbctl("--bare --columns=up find Port_Binding logical_port=%s", lport);
        bool ok = up && !strcmp(up, "true");

        free(up);
        if (ok) {
            return true;
        }
        usleep(100 * 1000);
    }
    fprintf(stderr, "%s is not up\n", lport);
    return false;
}

/* True if the datum ["uuid", U] or ["set", [["uuid", U], ...]] holds 'uuid'. */
static bool
datum_has_uuid(const json_t *datum, const char *uuid)
{
    const char *tag = json_string_value(json_array_get(datum, 0));
    const json_t *elem;
    size_t i;

    if (tag && !strcmp(tag, "uuid")) {
        return !strcmp(json_string_value(json_array_get(datum, 1)), uuid);
    }
    json_array_foreach(json_array_get(datum, 1), i, elem)
    {
        if (datum_has_uuid(elem, uuid)) {
            return true;
        }
    }
    return false;
}

/* The Logical_Flow rows of the SB (a dump) that apply to datapath 'dp', directly or
 * through a datapath group; with 'needle', only those whose match contains it. */
static size_t
count_flows(const json_t *db, const char *dp, const char *needle)
{
    const json_t *flows = json_object_get(db, "Logical_Flow");
    const json_t *row;
    const char *uuid;
    size_t n = 0;

    json_object_foreach((json_t *)flows, uuid, row)
    {
        const json_t *grp = json_object_get(row, "logical_dp_group");
        const char *match = json_string_value(json_object_get(row, "match"));
        bool local = datum_has_uuid(json_object_get(row, "logical_datapath"), dp);

        if (!local && json_is_string(json_array_get(grp, 1))) {
            local = datum_has_uuid(it_db_get(db, "Logical_DP_Group",
                                             json_string_value(json_array_get(grp, 1)),
                                             "datapaths"),
                                   dp);
        }
        if (local && (!needle || (match && strstr(match, needle)))) {
            n++;
        }
    }
    return n;
}

static json_t *
sb_dump(void)
{
    json_t *db = it_dump(central.sb, "OVN_Southbound", NULL);

    assert_non_null(db);
    return db;
}

static char *
datapath_uuid(const char *name)
{
    char *uuid =
        sbctl("--bare --columns=_uuid find Datapath_Binding external_ids:name=%s", name);

    assert_non_null(uuid);
    assert_int_equal(strlen(uuid), 36);
    return uuid;
}

/* ---- Fixtures ---- */

static int
group_setup(void **state OVNIC_UNUSED)
{
    central.dir = it_tmpdir_create();
    if (!central.dir) {
        return -1;
    }
    free(it_central("start-sb '%s'", central.dir));
    free(it_central("start-nb '%s'", central.dir));
    free(it_central("start-northd '%s'", central.dir));
    central.sb = it_central("remote '%s' sb unix", central.dir);
    central.nb = it_central("remote '%s' nb unix", central.dir);
    if (!central.sb || !central.nb) {
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        const char *topo = i ? "01-l2-switch.sh" : "03-security-groups.sh";

        if (it_run(NULL, "bash %s/tests/topologies/%s %s", it_source_dir(), topo,
                   central.nb)) {
            fprintf(stderr, "topology %s failed\n", topo);
            return -1;
        }
    }
    return 0;
}

static int
group_teardown(void **state OVNIC_UNUSED)
{
    if (hv1.pid > 0) {
        it_proc_stop(hv1.pid, IT_SIG_KILL, 5000);
    }
    if (hv2.pid > 0) {
        it_proc_stop(hv2.pid, IT_SIG_KILL, 5000);
    }
    it_tmpdir_remove(central.dir);
    free(central.dir);
    free(central.sb);
    free(central.nb);
    return 0;
}

/* ---- Tests ---- */

/* Both chassis bind a port of sg-net; "--wait=hv sync" returns with every flow of
 * sg-net parsed, none of l2-sw, and no failure. */
static void
test_sync_parses_local_flows(void **state OVNIC_UNUSED)
{
    char *sgnet = datapath_uuid("sg-net");
    char *l2sw = datapath_uuid("l2-sw");
    json_t *db, *j1, *j2;
    size_t expected, remote;

    dpud_start(&hv1, NULL);
    dpud_start(&hv2, "--monitor-all=true");
    assert_int_equal(ctl(&hv1, NULL, "port-add vf1 --iface-id=sg-web1"), 0);
    assert_int_equal(ctl(&hv2, NULL, "port-add vf2 --iface-id=sg-db1"), 0);
    assert_true(wait_up("sg-web1"));
    assert_true(wait_up("sg-db1"));
    nbctl("--wait=hv sync");

    db = sb_dump();
    expected = count_flows(db, sgnet, NULL);
    remote = count_flows(db, l2sw, NULL);
    json_decref(db);
    fprintf(stderr, "sg-net: %zu flows (local), l2-sw: %zu flows (remote)\n", expected,
            remote);
    assert_true(expected > 100);
    assert_true(remote > 0);

    j1 = lflows(&hv1, true);
    j2 = lflows(&hv2, true);
    assert_int_equal(num(j1, "flows"), expected);
    assert_int_equal(num(j2, "flows"), expected);
    assert_int_equal(num(j1, "failures"), 0);
    assert_int_equal(num(j2, "failures"), 0);
    assert_int_equal(num(j1, "failures_total"), 0);
    assert_int_equal(json_array_size(json_object_get(j1, "failed_flows")), 0);
    assert_true(num(j1, "full_recomputes") >= 1);
    assert_true(json_is_true(json_object_get(j1, "current")));
    json_decref(j1);
    json_decref(j2);

    /* The text form lists the counters. */
    {
        char *out = NULL;

        assert_int_equal(ctl(&hv1, &out, "lflows"), 0);
        assert_non_null(strstr(out, "failures: 0\n"));
        assert_non_null(strstr(out, "reparsed_address_set: "));
        free(out);
    }
    free(sgnet);
    free(l2sw);
}

/* A changed address set re-parses exactly the flows that name it: the incremental
 * counters grow by that many, and no full recompute runs. */
static void
test_address_set_incremental(void **state OVNIC_UNUSED)
{
    char *sgnet = datapath_uuid("sg-net");
    const struct dpud *ds[] = {&hv1, &hv2};
    json_t *before[2], *after[2];
    json_t *db = sb_dump();
    size_t n = count_flows(db, sgnet, "$as_sg_mgmt");

    json_decref(db);
    fprintf(stderr, "%zu local flows name $as_sg_mgmt\n", n);
    assert_true(n >= 1);
    for (int i = 0; i < 2; i++) {
        before[i] = lflows(ds[i], false);
    }
    nbctl("--wait=hv set Address_Set as_sg_mgmt "
          "'addresses=[\"192.168.3.0/24\", \"10.3.99.6\", \"10.3.99.7\"]'");
    for (int i = 0; i < 2; i++) {
        after[i] = lflows(ds[i], false);
        assert_int_equal(num(after[i], "reparsed_address_set") -
                             num(before[i], "reparsed_address_set"),
                         n);
        assert_int_equal(num(after[i], "parsed_incremental") -
                             num(before[i], "parsed_incremental"),
                         n);
        assert_int_equal(num(after[i], "full_recomputes"),
                         num(before[i], "full_recomputes"));
        assert_int_equal(num(after[i], "flows"), num(before[i], "flows"));
        assert_int_equal(num(after[i], "failures"), 0);
        json_decref(before[i]);
        json_decref(after[i]);
    }
    free(sgnet);
}

/* With northd paused, a malformed Logical_Flow inserted by hand is reported with its
 * uuid, stage and reason, counted and skipped; a valid one inserted with it is
 * parsed; once they are deleted, everything is back as it was. */
static void
test_malformed_flow(void **state OVNIC_UNUSED)
{
    char *sgnet = datapath_uuid("sg-net");
    uint64_t deadline = time_msec() + WAIT_MS;
    json_t *before = lflows(&hv1, false);
    char *bad, *good;
    json_t *j = NULL;
    const json_t *f;

    assert_int_equal(it_run(NULL, "ovn-appctl -t %s/northd.ctl pause", central.dir), 0);
    bad = sbctl("create Logical_Flow logical_datapath=%s pipeline=ingress table_id=5"
                " priority=4321 'match=\"ip4 && ip4.dst == 10.0.0.0/33\"'"
                " 'actions=\"next;\"' external_ids:stage-name=ls_in_handmade",
                sgnet);
    good = sbctl("create Logical_Flow logical_datapath=%s pipeline=ingress table_id=5"
                 " priority=4322 'match=\"ip4.dst == 10.0.0.1\"' 'actions=\"drop;\"'"
                 " external_ids:stage-name=ls_in_handmade",
                 sgnet);
    assert_non_null(bad);
    assert_non_null(good);
    assert_int_equal(strlen(bad), 36);

    while (time_msec() < deadline) {
        json_decref(j);
        j = lflows(&hv1, true);
        if (num(j, "failures") == 1 && num(j, "flows") == num(before, "flows") + 1) {
            break;
        }
        usleep(100 * 1000);
    }
    assert_int_equal(num(j, "failures"), 1);
    assert_int_equal(num(j, "flows"), num(before, "flows") + 1);
    assert_int_equal(num(j, "failures_total"), num(before, "failures_total") + 1);
    assert_int_equal(num(j, "full_recomputes"), num(before, "full_recomputes"));
    f = json_array_get(json_object_get(j, "failed_flows"), 0);
    assert_string_equal(json_string_value(json_object_get(f, "uuid")), bad);
    assert_string_equal(json_string_value(json_object_get(f, "stage")), "ls_in_handmade");
    assert_string_equal(json_string_value(json_object_get(f, "pipeline")), "ingress");
    assert_int_equal(json_integer_value(json_object_get(f, "table")), 5);
    assert_string_equal(json_string_value(json_object_get(f, "part")), "match");
    assert_non_null(strstr(json_string_value(json_object_get(f, "reason")), "column"));
    json_decref(j);

    /* The text form names it too. */
    {
        char *out = NULL;

        assert_int_equal(ctl(&hv1, &out, "lflows --failures"), 0);
        assert_non_null(strstr(out, bad));
        assert_non_null(strstr(out, "(ls_in_handmade) match: "));
        free(out);
    }

    /* The daemon keeps working: a port change is still handled. */
    assert_int_equal(ctl(&hv1, NULL, "port-add vf3 --iface-id=sg-web2"), 0);
    assert_true(wait_up("sg-web2"));

    free(sbctl("destroy Logical_Flow %s -- destroy Logical_Flow %s", bad, good));
    assert_int_equal(it_run(NULL, "ovn-appctl -t %s/northd.ctl resume", central.dir), 0);
    nbctl("--wait=hv sync");
    j = lflows(&hv1, false);
    assert_int_equal(num(j, "failures"), 0);
    assert_int_equal(num(j, "flows"), num(before, "flows"));
    assert_int_equal(num(j, "failures_total"), num(before, "failures_total") + 1);
    json_decref(j);
    json_decref(before);
    free(bad);
    free(good);
    free(sgnet);
}

/* A restarted SB server has no history to resume from: the full resync that follows
 * is a counted full recompute, and the result is the same. */
static void
test_full_resync(void **state OVNIC_UNUSED)
{
    uint64_t deadline = time_msec() + 3 * WAIT_MS;
    json_t *before = lflows(&hv1, false);
    json_t *j = NULL;

    free(it_central("kill-member '%s' 1 --db sb --signal TERM", central.dir));
    free(it_central("start-member '%s' 1 --db sb", central.dir));
    while (time_msec() < deadline) {
        json_decref(j);
        j = lflows(&hv1, false);
        if (num(j, "full_recomputes") > num(before, "full_recomputes")) {
            break;
        }
        usleep(100 * 1000);
    }
    assert_int_equal(num(j, "full_recomputes"), num(before, "full_recomputes") + 1);
    assert_string_equal(json_string_value(json_object_get(j, "last_full_reason")),
                        "full resync");
    assert_int_equal(num(j, "flows"), num(before, "flows"));
    assert_int_equal(num(j, "failures"), 0);
    fprintf(stderr, "full recompute of %" PRId64 " flows: %" PRId64 " us\n",
            (int64_t)num(j, "flows"), (int64_t)num(j, "last_run_us"));
    json_decref(j);
    json_decref(before);
    nbctl("--wait=hv sync");
}

/* Bad arguments to the control method are refused; both daemons stop cleanly. */
static void
test_errors_and_stop(void **state OVNIC_UNUSED)
{
    assert_int_equal(ctl(&hv1, NULL, "lflows --restart"), 2);
    assert_int_equal(ctl(&hv1, NULL, "lflows extra"), 2);
    assert_int_equal(ctl(&hv1, NULL, "status --failures"), 2);

    /* Arguments of the wrong type, straight on the socket. */
    static const char *const bad[] = {
        "[{\"failures\": 1}]",
        "[{\"limit\": -1}]",
        "[{\"limit\": \"x\"}]",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        char *out = NULL;

        assert_int_equal(it_run(&out,
                                "printf '%%s' '{\"method\": \"lflow-status\", "
                                "\"params\": %s, \"id\": 7}' | nc -U -W 1 %s",
                                bad[i], hv1.ctl),
                         0);
        json_t *reply = json_loads(out, 0, NULL);
        const json_t *e = json_object_get(reply, "error");

        if (!e) {
            fail_msg("no error in %s", out);
        }
        assert_int_equal(json_integer_value(json_object_get(e, "code")), -EINVAL);
        assert_non_null(
            strstr(json_string_value(json_object_get(e, "error")), "must be a boolean"));
        json_decref(reply);
        free(out);
    }
    /* A limit of 0 lists nothing. */
    {
        char *out = NULL;
        json_t *reply;

        assert_int_equal(it_run(&out,
                                "printf '%%s' '{\"method\": \"lflow-status\", "
                                "\"params\": [{\"failures\": true, \"limit\": 0}], "
                                "\"id\": 8}' | nc -U -W 1 %s",
                                hv1.ctl),
                         0);
        reply = json_loads(out, 0, NULL);
        assert_non_null(reply);
        assert_int_equal(json_array_size(json_object_get(json_object_get(reply, "result"),
                                                         "failed_flows")),
                         0);
        json_decref(reply);
        free(out);
    }
    dpud_stop(&hv1);
    dpud_stop(&hv2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sync_parses_local_flows),
        cmocka_unit_test(test_address_set_incremental),
        cmocka_unit_test(test_malformed_flow),
        cmocka_unit_test(test_full_resync),
        cmocka_unit_test(test_errors_and_stop),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
