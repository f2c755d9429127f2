/* ovnic integration: ovnic-dpud against a real SB ovsdb-server and ovn-northd:
 * chassis registration (and re-creation after a deletion), nb_cfg acknowledgement
 * with "ovn-nbctl --wait=hv", port claims and releases, a port moved between two
 * chassis without fighting, vif-plug plugging, a clean exit, a restart after SIGKILL
 * that adopts the existing rows, the Encap rows of another chassis refused (shown and
 * logged once), a registration refused by the server (its reason shown and logged
 * once), and an SB outage (counted in sb_errors, then one full recompute, the same in
 * status and lflows). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
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

static int n_starts;

/* Daemons still running, stopped by the test teardown if a test fails. */
#define MAX_DAEMONS 8
static pid_t running[MAX_DAEMONS];

static void
running_add(pid_t pid)
{
    for (size_t i = 0; i < MAX_DAEMONS; i++) {
        if (!running[i]) {
            running[i] = pid;
            return;
        }
    }
}

static void
running_remove(pid_t pid)
{
    for (size_t i = 0; i < MAX_DAEMONS; i++) {
        if (running[i] == pid) {
            running[i] = 0;
        }
    }
}

struct dpud {
    char name[32];
    char rundir[512];
    char ctl[600];
    const char *extra; /* One more option, or NULL. */
    char log[600];     /* The daemon's log file, or "" for stderr. */
    pid_t pid;
};

/* ---- Helpers ---- */

static char *
trim_out(char *s)
{
    size_t len = s ? strlen(s) : 0;

    while (len && (s[len - 1] == '\n' || s[len - 1] == ' ' || s[len - 1] == '"')) {
        s[--len] = '\0';
    }
    return s;
}

/* ovn-sbctl's output for 'args' (printf-style), trimmed, or NULL on failure. */
static char *sbctl(const char *fmt, ...) OVNIC_PRINTF(1, 2);

static char *
sbctl(const char *fmt, ...)
{
    char args[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    return trim_out(it_sbctl(central.sb, "%s", args));
}

static void nbctl(const char *fmt, ...) OVNIC_PRINTF(1, 2);

static void
nbctl(const char *fmt, ...)
{
    char args[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    assert_int_equal(it_run(NULL, "ovn-nbctl --db=%s --timeout=20 %s", central.nb, args),
                     0);
}

/* "ovn-nbctl --wait=hv sync" returns (within 10 s) once every chassis caught up. */
static void
nbctl_sync_hv(void)
{
    char *cmd = NULL;

    assert_true(
        asprintf(&cmd, "ovn-nbctl --db=%s --wait=hv --timeout=10 sync", central.nb) > 0);
    assert_int_equal(it_run_timeout(NULL, 20000, cmd), 0);
    free(cmd);
}

/* Column 'col' of the Port_Binding of 'lport' ("" if empty). */
static char *
pb_get(const char *lport, const char *col)
{
    return sbctl("--bare --columns=%s find Port_Binding logical_port=%s", col, lport);
}

static char *
chassis_uuid(const char *name)
{
    return sbctl("--bare --columns=_uuid find Chassis name=%s", name);
}

static char *
chassis_private_uuid(const char *name)
{
    return sbctl("--bare --columns=_uuid find Chassis_Private name=%s", name);
}

/* Polls until column 'col' of 'lport' equals 'want' (NULL: the uuid of chassis
 * 'chassis'), or WAIT_MS passes. */
static bool
wait_pb(const char *lport, const char *col, const char *want)
{
    uint64_t deadline = time_msec() + WAIT_MS;
    char *last = NULL;

    while (time_msec() < deadline) {
        free(last);
        last = pb_get(lport, col);
        if (last && !strcmp(last, want)) {
            free(last);
            return true;
        }
        usleep(100 * 1000);
    }
    fprintf(stderr, "Port_Binding %s %s: '%s', want '%s'\n", lport, col,
            last ? last : "(error)", want);
    free(last);
    return false;
}

static char *
ovnicctl_path(void)
{
    char *path = NULL;

    assert_true(asprintf(&path, "%s/tools/ovnicctl/ovnicctl", it_build_dir()) > 0);
    return path;
}

/* Runs "ovnicctl dpud ARGS --target=CTL" and returns its exit status; its stdout in
 * '*out' if nonnull. */
static int ctl(const struct dpud *d, char **out, const char *fmt, ...) OVNIC_PRINTF(3, 4);

static int
ctl(const struct dpud *d, char **out, const char *fmt, ...)
{
    char *tool = ovnicctl_path();
    char args[1024];
    va_list ap;
    int status;

    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    status = it_run(out, "%s dpud %s --target=%s", tool, args, d->ctl);
    free(tool);
    return status;
}

static json_t *
status(const struct dpud *d)
{
    char *out = NULL;
    json_t *j;

    if (ctl(d, &out, "status --format=json")) {
        free(out);
        return NULL;
    }
    j = json_loads(out, 0, NULL);
    free(out);
    return j;
}

static json_int_t
counter(const struct dpud *d, const char *name)
{
    json_t *s = status(d);
    json_int_t v;

    assert_non_null(s);
    v = json_integer_value(json_object_get(json_object_get(s, "counters"), name));
    json_decref(s);
    return v;
}

static char *
port_state(const struct dpud *d, const char *representor)
{
    char *out = NULL, *state = NULL;
    json_t *list;
    const json_t *p;
    size_t i;

    if (ctl(d, &out, "port-list --format=json")) {
        free(out);
        return NULL;
    }
    list = json_loads(out, 0, NULL);
    free(out);
    json_array_foreach(list, i, p)
    {
        if (!strcmp(json_string_value(json_object_get(p, "representor")), representor)) {
            state = strdup(json_string_value(json_object_get(p, "state")));
        }
    }
    json_decref(list);
    return state;
}

static bool
wait_port_state(const struct dpud *d, const char *representor, const char *want)
{
    uint64_t deadline = time_msec() + WAIT_MS;
    char *last = NULL;

    while (time_msec() < deadline) {
        free(last);
        last = port_state(d, representor);
        if (last ? want && !strcmp(last, want) : !want) {
            free(last);
            return true;
        }
        usleep(100 * 1000);
    }
    fprintf(stderr, "%s: port %s state '%s', want '%s'\n", d->name, representor,
            last ? last : "(none)", want ? want : "(none)");
    free(last);
    return false;
}

static void
dpud_spawn(struct dpud *d)
{
    char bin[512], sys[64], remote[600], rundir[600], encap[64], log[600], file[700];
    char *argv[] = {bin,
                    sys,
                    remote,
                    rundir,
                    encap,
                    log,
                    "--hostname=it-host",
                    "--probe-interval=5000",
                    d->log[0] ? file : (char *)d->extra,
                    d->log[0] ? (char *)d->extra : NULL,
                    NULL};

    snprintf(bin, sizeof bin, "%s/dpu/daemon/ovnic-dpud", it_build_dir());
    snprintf(sys, sizeof sys, "--system-id=%s", d->name);
    snprintf(remote, sizeof remote, "--sb-remote=%s", central.sb);
    snprintf(rundir, sizeof rundir, "--rundir=%s", d->rundir);
    snprintf(encap, sizeof encap, "--encap-ip=192.0.2.%d", d->name[2] - '0');
    snprintf(log, sizeof log, "--log=info");
    snprintf(file, sizeof file, "--log-file=%s", d->log);
    d->pid = it_spawn(argv, NULL);
    assert_true(d->pid > 0);
    running_add(d->pid);
}

/* Names chassis 'name' in 'd', with a fresh rundir, 'extra' (one option, or NULL)
 * and, if 'logged', a log file RUNDIR.log. */
static void
dpud_prepare(struct dpud *d, const char *name, const char *extra, bool logged)
{
    memset(d, 0, sizeof *d);
    d->extra = extra;
    snprintf(d->name, sizeof d->name, "%s", name);
    /* A fresh rundir per start, so that no saved port leaks between tests. */
    snprintf(d->rundir, sizeof d->rundir, "%s/%s-%d", central.dir, name, ++n_starts);
    snprintf(d->ctl, sizeof d->ctl, "%s/ovnic-dpud.ctl", d->rundir);
    if (logged) {
        snprintf(d->log, sizeof d->log, "%s.log", d->rundir);
    }
}

/* Waits until 'd' is registered. */
static void
dpud_wait_registered(const struct dpud *d)
{
    uint64_t deadline = time_msec() + WAIT_MS;

    while (time_msec() < deadline) {
        json_t *s = status(d);
        bool ok = s && json_is_string(json_object_get(s, "chassis_uuid")) &&
                  json_is_true(json_object_get(s, "chassis_current"));

        json_decref(s);
        if (ok) {
            return;
        }
        usleep(100 * 1000);
    }
    fail_msg("%s did not register", d->name);
}

/* Starts ovnic-dpud as chassis 'name' with its own rundir and waits until it is
 * registered. */
static void
dpud_start_extra(struct dpud *d, const char *name, const char *extra)
{
    dpud_prepare(d, name, extra, false);
    dpud_spawn(d);
    dpud_wait_registered(d);
}

static void
dpud_start(struct dpud *d, const char *name)
{
    dpud_start_extra(d, name, NULL);
}

/* Stops 'd' and checks that it exits with status 0 (no leak, no crash). */
static void
dpud_stop(struct dpud *d, enum it_signal sig)
{
    if (d->pid > 0) {
        running_remove(d->pid);
        assert_int_equal(it_proc_stop(d->pid, sig, 10000), sig == IT_SIG_KILL ? 137 : 0);
        d->pid = 0;
    }
}

/* The daemon exits by itself after "exit"; waits for it. */
static void
dpud_wait_exit(struct dpud *d)
{
    running_remove(d->pid);
    assert_int_equal(it_proc_stop(d->pid, IT_SIG_NONE, 10000), 0);
    d->pid = 0;
}

/* ---- Fixtures ---- */

static int
group_setup(void **state OVNIC_UNUSED)
{
    char *tcp;

    central.dir = it_tmpdir_create();
    if (!central.dir) {
        return -1;
    }
    tcp = it_central("start-sb '%s'", central.dir);
    free(tcp);
    tcp = it_central("start-nb '%s'", central.dir);
    free(tcp);
    free(it_central("start-northd '%s'", central.dir));
    central.sb = it_central("remote '%s' sb unix", central.dir);
    central.nb = it_central("remote '%s' nb unix", central.dir);
    if (!central.sb || !central.nb) {
        return -1;
    }
    /* ls1 (lsp1..lsp4, a localnet port) -- lr1 -- ls2 (lsp5). */
    if (it_run(NULL,
               "ovn-nbctl --db=%s --wait=sb --timeout=20 ls-add ls1 -- ls-add ls2"
               " -- lr-add lr1"
               " -- lrp-add lr1 lrp1 00:00:00:00:01:01 10.0.1.254/24"
               " -- lrp-add lr1 lrp2 00:00:00:00:01:02 10.0.2.254/24"
               " -- lsp-add ls1 ls1-lr1 -- lsp-set-type ls1-lr1 router"
               " -- lsp-set-options ls1-lr1 router-port=lrp1"
               " -- lsp-add ls2 ls2-lr1 -- lsp-set-type ls2-lr1 router"
               " -- lsp-set-options ls2-lr1 router-port=lrp2"
               " -- lsp-add ls1 ln1 -- lsp-set-type ln1 localnet"
               " -- lsp-set-options ln1 network_name=phys"
               " -- lsp-add ls1 lsp1 -- lsp-add ls1 lsp2 -- lsp-add ls1 lsp3"
               " -- lsp-add ls1 lsp4 -- lsp-add ls2 lsp5"
               " -- lsp-add ls2 lsp6",
               central.nb)) {
        return -1;
    }
    return 0;
}

static int
group_teardown(void **state OVNIC_UNUSED)
{
    it_tmpdir_remove(central.dir);
    free(central.dir);
    free(central.sb);
    free(central.nb);
    return 0;
}

/* After each test: nothing left running, no chassis, no port options. */
static int
test_teardown(void **state OVNIC_UNUSED)
{
    for (size_t i = 0; i < MAX_DAEMONS; i++) {
        if (running[i]) {
            it_proc_stop(running[i], IT_SIG_KILL, 5000);
            running[i] = 0;
        }
    }
    for (int i = 1; i <= 3; i++) {
        free(sbctl("--if-exists chassis-del hv%d", i));
    }
    free(sbctl("--if-exists chassis-del hv9"));
    free(sbctl("--if-exists chassis-del hvx"));
    it_run(NULL,
           "ovn-nbctl --db=%s clear Logical_Switch_Port lsp2 options"
           " -- clear Logical_Switch_Port lsp3 options",
           central.nb);
    return 0;
}

/* ---- Tests ---- */

/* Registration as ovn-controller 23.03 does it; the Chassis row comes back when
 * someone deletes it; nb_cfg is acknowledged for "ovn-nbctl --wait=hv". */
static void
test_register(void **state OVNIC_UNUSED)
{
    struct dpud d;
    char *out, *uuid, *uuid2;
    json_t *s;

    dpud_start(&d, "hv1");
    out = sbctl("show");
    assert_non_null(out);
    assert_non_null(strstr(out, "Chassis hv1"));
    assert_non_null(strstr(out, "Encap geneve"));
    assert_non_null(strstr(out, "ip: \"192.0.2.1\""));
    assert_non_null(strstr(out, "options: {csum=\"true\"}"));
    free(out);

    out = sbctl("get Chassis hv1 other_config");
    assert_non_null(out);
    static const char *const keys[] = {
        "port-up-notif=\"true\"",
        "ct-no-masked-label=\"true\"",
        "mac-binding-timestamp=\"true\"",
        "ovn-ct-lb-related=\"true\"",
        "is-interconn=\"false\"",
        "ovn-monitor-all=\"false\"",
        "ovn-cms-options=\"\"",
        "ovn-bridge-mappings=\"\"",
        "datapath-type=\"\"",
        "iface-types=",
        "ovn-enable-lflow-cache=\"true\"",
        "ovn-chassis-mac-mappings=\"\"",
        "ovn-limit-lflow-cache=\"\"",
        "ovn-memlimit-lflow-cache-kb=\"\"",
        "ovn-trim-limit-lflow-cache=\"\"",
        "ovn-trim-timeout-ms=\"\"",
        "ovn-trim-wmark-perc-lflow-cache=\"\"",
    };
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        if (!strstr(out, keys[i])) {
            fail_msg("other_config lacks %s: %s", keys[i], out);
        }
    }
    free(out);
    out = sbctl("get Chassis hv1 hostname");
    assert_string_equal(out, "it-host");
    free(out);

    /* Chassis_Private points at the Chassis. */
    uuid = chassis_uuid("hv1");
    out = sbctl("--bare --columns=chassis find Chassis_Private name=hv1");
    assert_string_equal(out, uuid);
    free(out);

    /* The status says no datapath is built yet, and names the chassis row. */
    s = status(&d);
    assert_non_null(s);
    assert_string_equal(json_string_value(json_object_get(s, "datapath")),
                        "none (flows considered installed immediately)");
    assert_string_equal(json_string_value(json_object_get(s, "chassis_uuid")), uuid);
    assert_string_equal(json_string_value(json_object_get(s, "sb_state")), "SYNCED");
    json_decref(s);

    /* ovn-nbctl --wait=hv returns once ovnic-dpud has acknowledged. */
    nbctl_sync_hv();
    s = status(&d);
    assert_true(json_integer_value(json_object_get(s, "nb_cfg_acked")) >= 1);
    assert_int_equal(json_integer_value(json_object_get(s, "nb_cfg_acked")),
                     json_integer_value(json_object_get(s, "nb_cfg_seen")));
    json_decref(s);
    out = sbctl("get Chassis_Private hv1 nb_cfg_timestamp");
    assert_true(atoll(out) > 1600000000000LL);
    free(out);

    /* Delete the rows behind its back: they come back. */
    free(sbctl("chassis-del hv1"));
    {
        uint64_t deadline = time_msec() + WAIT_MS;

        uuid2 = NULL;
        while (time_msec() < deadline) {
            free(uuid2);
            uuid2 = chassis_uuid("hv1");
            out = chassis_private_uuid("hv1");
            if (uuid2 && *uuid2 && out && *out) {
                free(out);
                break;
            }
            free(out);
            usleep(100 * 1000);
        }
    }
    assert_non_null(uuid2);
    assert_int_equal(strlen(uuid2), 36);
    assert_string_not_equal(uuid, uuid2);
    out = sbctl("--bare --columns=chassis find Chassis_Private name=hv1");
    assert_string_equal(out, uuid2);
    free(out);
    out = sbctl("show");
    assert_non_null(strstr(out, "ip: \"192.0.2.1\""));
    free(out);
    nbctl_sync_hv();

    /* A clean exit removes the rows. */
    assert_int_equal(ctl(&d, NULL, "exit"), 0);
    dpud_wait_exit(&d);
    out = chassis_uuid("hv1");
    assert_string_equal(out, "");
    free(out);
    out = chassis_private_uuid("hv1");
    assert_string_equal(out, "");
    free(out);
    out = sbctl("--bare --columns=_uuid find Encap chassis_name=hv1");
    assert_string_equal(out, "");
    free(out);
    free(uuid);
    free(uuid2);
}

/* A port is claimed, goes up after the flows hook, and is released. */
static void
test_claim_release(void **state OVNIC_UNUSED)
{
    struct dpud d;
    char *uuid;
    json_t *s;

    dpud_start(&d, "hv1");
    uuid = chassis_uuid("hv1");
    assert_int_equal(ctl(&d, NULL, "port-add pf0vf1 --iface-id=lsp1"), 0);
    assert_true(wait_pb("lsp1", "chassis", uuid));
    assert_true(wait_pb("lsp1", "up", "true"));
    assert_true(wait_port_state(&d, "pf0vf1", "up"));
    /* Northd reports it in the NB too. */
    {
        char *out = NULL;

        assert_int_equal(
            it_run(&out, "ovn-nbctl --db=%s get Logical_Switch_Port lsp1 up", central.nb),
            0);
        assert_string_equal(trim_out(out), "true");
        free(out);
    }
    /* ls1, lr1 and ls2 (through the router's patch ports) are local. */
    s = status(&d);
    assert_int_equal(json_integer_value(json_object_get(s, "local_datapaths")), 3);
    assert_int_equal(json_integer_value(json_object_get(s, "ports_up")), 1);
    json_decref(s);

    /* Registering the same port twice is harmless; another one is refused. */
    assert_int_equal(ctl(&d, NULL, "port-add pf0vf1 --iface-id=lsp1"), 0);
    assert_int_equal(ctl(&d, NULL, "port-add pf0vf1 --iface-id=lsp4"), 1);
    assert_int_equal(ctl(&d, NULL, "port-del nosuch"), 1);
    assert_int_equal(ctl(&d, NULL, "port-add pf0vf9 --iface-id=lsp4 --encap-ip=10.9.9.9"),
                     1);

    assert_int_equal(ctl(&d, NULL, "port-del pf0vf1"), 0);
    assert_true(wait_pb("lsp1", "chassis", ""));
    assert_true(wait_pb("lsp1", "up", "false"));
    assert_int_equal(counter(&d, "releases"), 1);
    assert_int_equal(counter(&d, "claims"), 1);

    /* SIGTERM keeps the rows. */
    dpud_stop(&d, IT_SIG_TERM);
    {
        char *after = chassis_uuid("hv1");

        assert_string_equal(after, uuid);
        free(after);
    }
    free(uuid);
    free(sbctl("chassis-del hv1"));
}

/* Two chassis want the same port: the second backs off until the port is
 * requested for it, then the first releases it and the second claims it. */
static void
test_move_no_fight(void **state OVNIC_UNUSED)
{
    struct dpud a, b;
    char *ua, *ub, *out;

    dpud_start(&a, "hv1");
    dpud_start(&b, "hv2");
    ua = chassis_uuid("hv1");
    ub = chassis_uuid("hv2");
    assert_int_equal(ctl(&a, NULL, "port-add pf0vf2 --iface-id=lsp2"), 0);
    assert_true(wait_pb("lsp2", "chassis", ua));
    assert_true(wait_pb("lsp2", "up", "true"));
    assert_int_equal(ctl(&b, NULL, "port-add pf1vf2 --iface-id=lsp2"), 0);
    assert_true(wait_port_state(&b, "pf1vf2", "claimed-elsewhere"));
    /* No fight: the binding stays with hv1. */
    usleep(1500 * 1000);
    out = pb_get("lsp2", "chassis");
    assert_string_equal(out, ua);
    free(out);
    assert_int_equal(counter(&b, "claims"), 0);
    assert_int_equal(counter(&b, "backoffs"), 1);
    assert_int_equal(counter(&a, "claims"), 1);

    /* Requested for hv2: it moves, once. */
    nbctl("lsp-set-options lsp2 requested-chassis=hv2");
    assert_true(wait_pb("lsp2", "chassis", ub));
    assert_true(wait_pb("lsp2", "up", "true"));
    assert_true(wait_port_state(&a, "pf0vf2", "requested-elsewhere"));
    assert_true(wait_port_state(&b, "pf1vf2", "up"));
    usleep(1000 * 1000);
    out = pb_get("lsp2", "chassis");
    assert_string_equal(out, ub);
    free(out);
    assert_int_equal(counter(&b, "claims"), 1);
    assert_int_equal(counter(&a, "claims"), 1);

    /* Back to hv1 by name in the option. */
    nbctl("lsp-set-options lsp2 requested-chassis=hv1");
    assert_true(wait_pb("lsp2", "chassis", ua));
    assert_true(wait_pb("lsp2", "up", "true"));
    assert_true(wait_port_state(&b, "pf1vf2", "requested-elsewhere"));

    assert_int_equal(ctl(&a, NULL, "exit"), 0);
    dpud_wait_exit(&a);
    assert_true(wait_pb("lsp2", "chassis", ""));
    assert_int_equal(ctl(&b, NULL, "exit"), 0);
    dpud_wait_exit(&b);
    nbctl("clear Logical_Switch_Port lsp2 options");
    free(ua);
    free(ub);
}

/* vif-plug options plug a representor, re-plug it when they change, and unplug it
 * when they are withdrawn. */
static void
test_vif_plug(void **state OVNIC_UNUSED)
{
    struct dpud d;
    char *uuid;
    json_t *s;

    dpud_start(&d, "hv1");
    uuid = chassis_uuid("hv1");
    assert_int_equal(ctl(&d, NULL, "representor-add AA:BB:CC:00:00:01 3 pf0vf3"), 0);
    assert_int_equal(ctl(&d, NULL, "representor-add aa:bb:cc:00:00:01 4 pf0vf4"), 0);
    assert_int_equal(ctl(&d, NULL, "representor-add aa:bb:cc:00:00:0 4 x"), 1);

    nbctl("lsp-set-options lsp3 requested-chassis=hv1 vif-plug-type=representor"
          " vif-plug:representor:pf-mac=aa:bb:cc:00:00:01"
          " vif-plug:representor:vf-num=3 vif-plug-mtu-request=1400");
    assert_true(wait_port_state(&d, "pf0vf3", "up"));
    assert_true(wait_pb("lsp3", "chassis", uuid));
    assert_true(wait_pb("lsp3", "up", "true"));
    /* A plugged port cannot be deleted by hand. */
    assert_int_equal(ctl(&d, NULL, "port-del pf0vf3"), 1);

    /* Another VF: released from pf0vf3, plugged into pf0vf4, claimed again. */
    nbctl("set Logical_Switch_Port lsp3 'options:\"vif-plug:representor:vf-num\"=4'");
    assert_true(wait_port_state(&d, "pf0vf4", "up"));
    assert_true(wait_port_state(&d, "pf0vf3", NULL));
    assert_true(wait_pb("lsp3", "chassis", uuid));
    assert_true(wait_pb("lsp3", "up", "true"));
    s = status(&d);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(s, "counters"), "plugs")), 2);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(s, "counters"), "unplugs")),
        1);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(s, "counters"), "claims")), 2);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(s, "counters"), "releases")),
        1);
    json_decref(s);

    /* A VF without a representor: unplugged and released. */
    nbctl("set Logical_Switch_Port lsp3 'options:\"vif-plug:representor:vf-num\"=7'");
    assert_true(wait_port_state(&d, "pf0vf4", NULL));
    assert_true(wait_pb("lsp3", "chassis", ""));
    assert_true(counter(&d, "plug_unresolved") >= 1);

    /* Back to VF 4, then withdrawn. */
    nbctl("set Logical_Switch_Port lsp3 'options:\"vif-plug:representor:vf-num\"=4'");
    assert_true(wait_port_state(&d, "pf0vf4", "up"));
    assert_true(wait_pb("lsp3", "chassis", uuid));
    nbctl("remove Logical_Switch_Port lsp3 options vif-plug-type");
    assert_true(wait_port_state(&d, "pf0vf4", NULL));
    assert_true(wait_pb("lsp3", "chassis", ""));
    assert_true(wait_pb("lsp3", "up", "false"));

    assert_int_equal(ctl(&d, NULL, "exit"), 0);
    dpud_wait_exit(&d);
    nbctl("clear Logical_Switch_Port lsp3 options");
    free(uuid);
}

/* After SIGKILL, the rows stay; a restart adopts them: same uuids, no write. */
static void
test_restart_adopts(void **state OVNIC_UNUSED)
{
    struct dpud d;
    char *uuid, *cp, *encap, *out;
    json_t *s;

    dpud_start(&d, "hv1");
    uuid = chassis_uuid("hv1");
    cp = chassis_private_uuid("hv1");
    encap = sbctl("--bare --columns=_uuid find Encap chassis_name=hv1");
    assert_int_equal(ctl(&d, NULL, "port-add pf0vf5 --iface-id=lsp5"), 0);
    assert_true(wait_pb("lsp5", "chassis", uuid));
    assert_true(wait_pb("lsp5", "up", "true"));
    nbctl_sync_hv();

    dpud_stop(&d, IT_SIG_KILL);
    out = chassis_uuid("hv1");
    assert_string_equal(out, uuid);
    free(out);
    assert_true(wait_pb("lsp5", "up", "true"));

    /* Restart on the same rundir: stale pidfile and socket are taken over. */
    dpud_spawn(&d);
    {
        uint64_t deadline = time_msec() + WAIT_MS;
        bool ok = false;

        while (!ok && time_msec() < deadline) {
            s = status(&d);
            ok = s && json_is_string(json_object_get(s, "chassis_uuid")) &&
                 !strcmp(json_string_value(json_object_get(s, "chassis_uuid")), uuid) &&
                 json_integer_value(json_object_get(s, "ports_up")) == 1;
            json_decref(s);
            if (!ok) {
                usleep(100 * 1000);
            }
        }
        assert_true(ok);
    }
    assert_true(wait_port_state(&d, "pf0vf5", "up"));
    usleep(500 * 1000);
    s = status(&d);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(s, "counters"),
                                                        "chassis_writes")),
                     0);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(s, "counters"), "claims")), 0);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(s, "counters"), "up_set")), 0);
    json_decref(s);
    out = chassis_private_uuid("hv1");
    assert_string_equal(out, cp);
    free(out);
    out = sbctl("--bare --columns=_uuid find Encap chassis_name=hv1");
    assert_string_equal(out, encap);
    free(out);

    /* "exit --restart" keeps everything too. */
    assert_int_equal(ctl(&d, NULL, "exit --restart"), 0);
    dpud_wait_exit(&d);
    out = chassis_uuid("hv1");
    assert_string_equal(out, uuid);
    free(out);
    assert_true(wait_pb("lsp5", "up", "true"));

    /* Finally a clean exit releases the port. */
    dpud_spawn(&d);
    assert_true(wait_port_state(&d, "pf0vf5", "up"));
    assert_int_equal(ctl(&d, NULL, "exit"), 0);
    dpud_wait_exit(&d);
    assert_true(wait_pb("lsp5", "chassis", ""));
    assert_true(wait_pb("lsp5", "up", "false"));
    out = chassis_uuid("hv1");
    assert_string_equal(out, "");
    free(out);
    free(uuid);
    free(cp);
    free(encap);
}

/* monitor-all: every row is monitored, and the chassis says so. */
static void
test_monitor_all(void **state OVNIC_UNUSED)
{
    struct dpud d;
    char *uuid, *out;
    json_t *s;

    dpud_start_extra(&d, "hv3", "--monitor-all=true");
    uuid = chassis_uuid("hv3");
    out = sbctl("get Chassis hv3 other_config:ovn-monitor-all");
    assert_string_equal(out, "\"true");
    free(out);
    assert_int_equal(ctl(&d, NULL, "port-add pf0vf6 --iface-id=lsp6"), 0);
    assert_true(wait_pb("lsp6", "chassis", uuid));
    assert_true(wait_pb("lsp6", "up", "true"));
    s = status(&d);
    assert_true(json_is_true(json_object_get(s, "monitor_all")));
    assert_int_equal(json_integer_value(json_object_get(s, "local_datapaths")), 3);
    json_decref(s);
    nbctl_sync_hv();
    assert_int_equal(ctl(&d, NULL, "exit"), 0);
    dpud_wait_exit(&d);
    assert_true(wait_pb("lsp6", "chassis", ""));
    free(uuid);
}

/* How many lines of 'd''s log file contain 'needle'. */
static int
log_count(const struct dpud *d, const char *needle)
{
    char *log = it_file_read(d->log);
    int n = 0;

    assert_non_null(log);
    for (const char *p = log; (p = strstr(p, needle)); p += strlen(needle)) {
        n++;
    }
    free(log);
    return n;
}

/* The entry of status "bad_encaps" for chassis 'chassis' (a copy), or NULL. */
static json_t *
bad_encap(const struct dpud *d, const char *chassis)
{
    json_t *s = status(d), *found = NULL;
    const json_t *e;
    size_t i;

    json_array_foreach(json_object_get(s, "bad_encaps"), i, e)
    {
        if (!strcmp(json_string_value(json_object_get(e, "chassis")), chassis)) {
            found = json_deep_copy(e);
        }
    }
    json_decref(s);
    return found;
}

/* Waits until the bad_encaps entry of 'chassis' has ip 'ip' (NULL: no entry), and
 * returns it (NULL if none). */
static json_t *
wait_bad_encap(const struct dpud *d, const char *chassis, const char *ip)
{
    uint64_t deadline = time_msec() + WAIT_MS;
    json_t *e = NULL;

    while (time_msec() < deadline) {
        json_decref(e);
        e = bad_encap(d, chassis);
        if (ip ? e && !strcmp(json_string_value(json_object_get(e, "ip")), ip) : !e) {
            return e;
        }
        usleep(100 * 1000);
    }
    fail_msg("%s: bad_encaps of %s: want ip '%s'", d->name, chassis, ip ? ip : "(none)");
    return NULL;
}

/* A remote chassis whose Encap ip cannot carry a tunnel: each bad value is shown in
 * "status" (table and json, same words) and logged once, however many SB changes
 * follow; fixed, it goes away. */
static void
test_bad_encaps(void **state OVNIC_UNUSED)
{
    static const struct {
        const char *ip;
        const char *why;
    } bad[] = {
        {"not-an-ip", "not an IP address"},
        {"", "not an IP address"},
        {"::1", "a loopback address"},
        {"0.0.0.0", "the unspecified address"},
        {"255.255.255.255", "a broadcast address"},
        {"224.0.0.9", "a multicast address"},
        {"2001:db8::9", "an IPv6 address, but the underlay is IPv4"},
    };
    struct dpud d;
    char *encap, *out;
    json_t *e;

    dpud_prepare(&d, "hv1", NULL, true);
    dpud_spawn(&d);
    dpud_wait_registered(&d);
    free(sbctl("chassis-add hv9 geneve 192.0.2.9"));
    encap = sbctl("--bare --columns=_uuid find Encap chassis_name=hv9");
    assert_int_equal(strlen(encap), 36);
    usleep(300 * 1000);
    e = bad_encap(&d, "hv9");
    assert_null(e);

    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        char needle[256], line[256];
        json_int_t steps;

        free(sbctl("set Encap %s 'ip=\"%s\"'", encap, bad[i].ip));
        e = wait_bad_encap(&d, "hv9", bad[i].ip);
        assert_string_equal(json_string_value(json_object_get(e, "reason")), bad[i].why);
        assert_string_equal(json_string_value(json_object_get(e, "type")), "geneve");
        assert_string_equal(json_string_value(json_object_get(e, "encap_uuid")), encap);
        json_decref(e);

        /* The table form says the same. */
        assert_int_equal(ctl(&d, &out, "status"), 0);
        snprintf(line, sizeof line,
                 "bad_encaps: 1\n  chassis hv9 type geneve ip \"%s\": %s\n", bad[i].ip,
                 bad[i].why);
        if (!strstr(out, line)) {
            fail_msg("status lacks '%s':\n%s", line, out);
        }
        free(out);

        /* More changes to the chassis rows: every step checks them again. */
        steps = counter(&d, "incremental_steps");
        for (int k = 0; k < 5; k++) {
            free(sbctl("set Chassis hv9 hostname=h%zu-%d", i, k));
        }
        {
            uint64_t deadline = time_msec() + WAIT_MS;

            while (counter(&d, "incremental_steps") < steps + 5 &&
                   time_msec() < deadline) {
                usleep(100 * 1000);
            }
        }
        assert_true(counter(&d, "incremental_steps") >= steps + 5);
        snprintf(needle, sizeof needle,
                 "chassis \"hv9\": Encap geneve ip \"%s\" refused (%s)", bad[i].ip,
                 bad[i].why);
        if (log_count(&d, needle) != 1) {
            char *log = it_file_read(d.log);
            fail_msg("'%s' logged %d times:\n%s", needle, log_count(&d, needle), log);
        }
    }

    /* Fixed: the entry goes away, and says so once. */
    free(sbctl("set Encap %s ip=192.0.2.9", encap));
    assert_null(wait_bad_encap(&d, "hv9", NULL));
    assert_int_equal(ctl(&d, &out, "status"), 0);
    assert_non_null(strstr(out, "bad_encaps: 0\n"));
    free(out);
    assert_int_equal(log_count(&d, "chassis \"hv9\": Encap geneve ip \"2001:db8::9\" "
                                   "no longer refused"),
                     1);

    free(sbctl("chassis-del hv9"));
    assert_int_equal(ctl(&d, NULL, "exit"), 0);
    dpud_wait_exit(&d);
    free(encap);
}

/* A chassis that cannot register (its Encap ip is another chassis's): "status" shows
 * the server's reason, in table and json, and the log has it once however many times
 * the registration is retried; once the other chassis is gone it registers. */
static void
test_registration_error(void **state OVNIC_UNUSED)
{
    uint64_t deadline = time_msec() + WAIT_MS;
    const char *reason = NULL;
    struct dpud d;
    json_t *s = NULL;
    char *out;

    free(sbctl("chassis-add hvx geneve 192.0.2.2"));
    dpud_prepare(&d, "hv2", NULL, true);
    dpud_spawn(&d);
    /* Several retries (100 ms back-off, doubling). */
    while (time_msec() < deadline) {
        json_decref(s);
        s = status(&d);
        reason = json_string_value(json_object_get(s, "registration_error"));
        if (reason && json_integer_value(json_object_get(json_object_get(s, "counters"),
                                                         "txn_errors")) >= 4) {
            break;
        }
        usleep(100 * 1000);
    }
    assert_non_null(reason);
    if (!strstr(reason, "constraint violation") || !strstr(reason, "\"Encap\"") ||
        !strstr(reason, "192.0.2.2")) {
        fail_msg("registration_error: %s", reason);
    }
    assert_true(json_is_null(json_object_get(s, "chassis_uuid")));
    json_decref(s);
    assert_int_equal(ctl(&d, &out, "status"), 0);
    assert_non_null(strstr(out, "registration_error: constraint violation: "));
    free(out);
    assert_int_equal(log_count(&d, "cannot register chassis 'hv2'"), 1);
    assert_int_equal(log_count(&d, "constraint violation"), 1);

    /* The conflict goes: registered, and the error with it. */
    free(sbctl("chassis-del hvx"));
    dpud_wait_registered(&d);
    s = status(&d);
    assert_true(json_is_null(json_object_get(s, "registration_error")));
    json_decref(s);
    assert_int_equal(log_count(&d, "chassis 'hv2' registered"), 1);
    assert_int_equal(ctl(&d, &out, "status"), 0);
    assert_non_null(strstr(out, "registration_error: -\n"));
    free(out);
    assert_int_equal(ctl(&d, NULL, "exit"), 0);
    dpud_wait_exit(&d);
}

/* The SB server stops: "sb_errors" counts the lost connection and the failed
 * attempts to reconnect.  It comes back without history: the full recompute that
 * follows is counted once, the same in "status" and "lflows". */
static void
test_sb_outage(void **state OVNIC_UNUSED)
{
    uint64_t deadline = time_msec() + 3 * WAIT_MS;
    json_t *s = NULL, *c, *l;
    struct dpud d;
    char *out;

    dpud_start(&d, "hv1");
    s = status(&d);
    c = json_object_get(s, "counters");
    assert_int_equal(json_integer_value(json_object_get(c, "sb_errors")), 0);
    assert_int_equal(json_integer_value(json_object_get(c, "full_recomputes")), 1);
    json_decref(s);
    s = NULL;

    free(it_central("kill-member '%s' 1 --db sb --signal TERM", central.dir));
    while (time_msec() < deadline) {
        json_decref(s);
        s = status(&d);
        c = json_object_get(s, "counters");
        if (json_integer_value(json_object_get(c, "sb_connect_failures")) >= 2) {
            break;
        }
        usleep(100 * 1000);
    }
    assert_string_not_equal(json_string_value(json_object_get(s, "sb_state")), "SYNCED");
    assert_int_equal(json_integer_value(json_object_get(c, "sb_disconnects")), 1);
    assert_true(json_integer_value(json_object_get(c, "sb_connect_failures")) >= 2);
    assert_int_equal(json_integer_value(json_object_get(c, "sb_errors")),
                     json_integer_value(json_object_get(c, "sb_disconnects")) +
                         json_integer_value(json_object_get(c, "sb_connect_failures")) +
                         json_integer_value(json_object_get(c, "sb_protocol_errors")));
    json_decref(s);
    s = NULL;

    free(it_central("start-member '%s' 1 --db sb", central.dir));
    dpud_wait_registered(&d);
    while (time_msec() < deadline) {
        json_decref(s);
        s = status(&d);
        if (!strcmp(json_string_value(json_object_get(s, "sb_state")), "SYNCED") &&
            json_integer_value(json_object_get(json_object_get(s, "counters"),
                                               "full_recomputes")) >= 2) {
            break;
        }
        usleep(100 * 1000);
    }
    assert_int_equal(ctl(&d, &out, "lflows --format=json"), 0);
    l = json_loads(out, 0, NULL);
    free(out);
    assert_non_null(l);
    c = json_object_get(s, "counters");
    assert_int_equal(json_integer_value(json_object_get(c, "full_recomputes")), 2);
    assert_int_equal(json_integer_value(json_object_get(l, "full_recomputes")),
                     json_integer_value(json_object_get(c, "full_recomputes")));
    assert_string_equal(json_string_value(json_object_get(s, "last_full_reason")),
                        "full resync");
    assert_string_equal(json_string_value(json_object_get(l, "last_full_reason")),
                        "full resync");
    assert_true(json_integer_value(json_object_get(c, "sb_connects")) >= 2);
    json_decref(l);
    json_decref(s);

    /* The table forms agree too. */
    assert_int_equal(ctl(&d, &out, "status"), 0);
    assert_non_null(strstr(out, "  full_recomputes: 2\n"));
    free(out);
    assert_int_equal(ctl(&d, &out, "lflows"), 0);
    assert_non_null(strstr(out, "full_recomputes: 2\n"));
    free(out);
    assert_int_equal(ctl(&d, NULL, "exit"), 0);
    dpud_wait_exit(&d);
    nbctl_sync_hv();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_register, test_teardown),
        cmocka_unit_test_teardown(test_claim_release, test_teardown),
        cmocka_unit_test_teardown(test_move_no_fight, test_teardown),
        cmocka_unit_test_teardown(test_vif_plug, test_teardown),
        cmocka_unit_test_teardown(test_restart_adopts, test_teardown),
        cmocka_unit_test_teardown(test_monitor_all, test_teardown),
        cmocka_unit_test_teardown(test_bad_encaps, test_teardown),
        cmocka_unit_test_teardown(test_registration_error, test_teardown),
        cmocka_unit_test_teardown(test_sb_outage, test_teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
