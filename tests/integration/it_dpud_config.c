/* ovnic integration: ovnic-dpud's configuration file and command line (errors,
 * overrides, --help, --version), its pidfile (a second daemon on the same rundir is
 * refused), and ovnicctl's errors when no daemon runs.  No SB is needed for these: the
 * daemon keeps trying to connect while the control socket answers.  With root, one
 * daemon runs the DPDK datapath on an SB server to check the devargs given with
 * port-add (attach, re-attach with other devargs, kept across a restart, port-del). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ithelp.h"
#include "shared/util/util.h"

static char *dir;

static int
group_setup(void **state OVNIC_UNUSED)
{
    dir = it_tmpdir_create();
    return dir ? 0 : -1;
}

static int
group_teardown(void **state OVNIC_UNUSED)
{
    it_tmpdir_remove(dir);
    free(dir);
    return 0;
}

/* Runs ovnic-dpud with 'args' (shell syntax) to completion; returns its status and
 * its stdout+stderr in '*out'. */
static int
dpud_run(char **out, const char *args)
{
    return it_run(out, "%s/dpu/daemon/ovnic-dpud %s 2>&1", it_build_dir(), args);
}

static void
expect_error(const char *args, const char *message)
{
    char *out = NULL;
    int status = dpud_run(&out, args);

    if (status != 2 || !out || !strstr(out, message)) {
        fail_msg("ovnic-dpud %s: status %d, output '%s', want 2 and '%s'", args, status,
                 out ? out : "", message);
    }
    free(out);
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void
test_bad_input(void **state OVNIC_UNUSED)
{
    char path[512], args[1024];

    expect_error("--sb-remote=unix:/x --encap-ip=1.2.3.4", "system-id is required");
    expect_error("--system-id=hv1 --encap-ip=1.2.3.4", "sb-remote is required");
    expect_error("--system-id=hv1 --sb-remote=unix:/x", "encap-ip is required");
    expect_error("--system-id=hv1 --sb-remote=unix:/x --encap-ip=1.2.3",
                 "encap-ip: '1.2.3' is not an IP address");
    expect_error("--system-id=hv1 --sb-remote=ssl:1.2.3.4:6642 --encap-ip=1.2.3.4",
                 "needs ca-cert, certificate and private-key");
    expect_error("--system-id='a b' --sb-remote=unix:/x --encap-ip=1.2.3.4",
                 "system-id: 'a b'");
    expect_error("--system-id=hv1 --sb-remote=unix:/x --encap-ip=1.2.3.4"
                 " --encap-csum=maybe",
                 "encap-csum: 'maybe' is not a boolean");
    expect_error("--system-id=hv1 --sb-remote=unix:/x --encap-ip=1.2.3.4"
                 " --bridge-mappings=physnet",
                 "bridge-mappings: 'physnet' is not PHYSNET:UPLINK");
    expect_error("--system-id=hv1 --sb-remote=unix:/x --encap-ip=1.2.3.4"
                 " --probe-interval=10",
                 "probe-interval: '10'");
    expect_error("--system-id=hv1 --sb-remote=unix:/x --encap-ip=1.2.3.4"
                 " --representors=zz/1=pf0vf1",
                 "representors: bad PF MAC 'zz'");
    expect_error("--system-id=hv1 --sb-remote=unix:/x --encap-ip=1.2.3.4 --log=bogus:x",
                 "log: bad specification");
    /* The datapath keys. */
    expect_error("--system-id=hv1 --sb-remote=unix:/x --encap-ip=1.2.3.4 --datapath=ovs",
                 "datapath: 'ovs' is not 'none' or 'dpdk'");
    expect_error("--system-id=hv1 --sb-remote=unix:/x --encap-ip=1.2.3.4 --datapath=dpdk",
                 "datapath = dpdk needs an uplink: set memif-dir or uplink-devargs");
    expect_error("--system-id=hv1 --sb-remote=unix:/x --encap-ip=1.2.3.4"
                 " --uplink-mac=0c:42",
                 "uplink-mac: '0c:42' is not a MAC");
    expect_error("--system-id=hv1 --sb-remote=unix:/x --encap-ip=1.2.3.4"
                 " --representor-devargs=net_memif0",
                 "representor-devargs: 'net_memif0' has no {name}");
    expect_error("--system-id=hv1 --sb-remote=unix:/x --encap-ip=1.2.3.4"
                 " --underlay-mtu=100",
                 "underlay-mtu: '100' is not a number from 576 to 65535");
    expect_error("--system-id=hv1 --sb-remote=unix:/x --encap-ip=1.2.3.4"
                 " --idle-max-us=0",
                 "idle-max-us: '0' is not a number from 1 to 1000000");
    expect_error("--system-id=hv1 --sb-remote=unix:/x --encap-ip=1.2.3.4"
                 " --n-mbufs=511",
                 "n-mbufs: '511' is not a number from 512 to 16777216");
    expect_error("--system-id=hv1 --sb-remote=unix:/x --encap-ip=1.2.3.4"
                 " --n-mbufs=16777217",
                 "n-mbufs: '16777217' is not a number from 512 to 16777216");
    expect_error("--system-id=hv1 --sb-remote=unix:/x --encap-ip=1.2.3.4"
                 " --n-mbufs=-1",
                 "n-mbufs: '-1' is not a number");
    expect_error("--system-id=hv1 --sb-remote=unix:/x --encap-ip=1.2.3.4"
                 " --n-mbufs=lots",
                 "n-mbufs: 'lots' is not a number");
    expect_error("--no-such-option=1", "unknown option '--no-such-option=1'");
    expect_error("--system-id", "option '--system-id' needs a value");
    expect_error("--config=/nonexistent/file", "cannot open config file");

    snprintf(path, sizeof path, "%s/bad.conf", dir);
    write_file(path, "# comment\nsystem-id = hv1\n\nnot a key value line\n");
    snprintf(args, sizeof args, "--config=%s", path);
    expect_error(args, "bad.conf:4: expected 'key = value'");
    write_file(path, "system-id = hv1\ncolour = blue\n");
    expect_error(args, "bad.conf:2: unknown key 'colour'");
    write_file(path, "system-id = hv1\nmonitor-all = perhaps\n");
    expect_error(args, "bad.conf:2: monitor-all: 'perhaps' is not a boolean");
    write_file(path, "system-id = hv1\nn-mbufs = 4k\n");
    expect_error(args, "bad.conf:2: n-mbufs: '4k' is not a number from 512 to 16777216");
}

static void
test_help_version(void **state OVNIC_UNUSED)
{
    char *out = NULL;

    assert_int_equal(dpud_run(&out, "--help"), 0);
    assert_non_null(strstr(out, "--sb-remote"));
    assert_non_null(strstr(out, "--representors"));
    assert_non_null(strstr(out, "--n-mbufs"));
    assert_non_null(strstr(out, "flows are considered installed"));
    free(out);
    out = NULL;
    assert_int_equal(dpud_run(&out, "--version"), 0);
    assert_non_null(strstr(out, "ovnic-dpud (ovnic)"));
    free(out);
}

static json_t *
status(const char *ctl_path)
{
    char *out = NULL;
    json_t *j = NULL;

    if (!it_run(&out, "%s/tools/ovnicctl/ovnicctl dpud status --format=json --target=%s",
                it_build_dir(), ctl_path)) {
        j = json_loads(out, 0, NULL);
    }
    free(out);
    return j;
}

/* The file gives the keys, the command line overrides them; the daemon answers on
 * its control socket while the SB is unreachable; a second daemon on the same rundir
 * is refused. */
static void
test_file_and_override(void **state OVNIC_UNUSED)
{
    char conf[512], rundir[512], ctl[600], bin[512], cfgarg[600], *out = NULL;
    char *argv[] = {bin, cfgarg, "--hostname=cli-host", NULL};
    uint64_t deadline;
    json_t *s = NULL;
    pid_t pid;

    snprintf(conf, sizeof conf, "%s/dpud.conf", dir);
    snprintf(rundir, sizeof rundir, "%s/run", dir);
    snprintf(ctl, sizeof ctl, "%s/ovnic-dpud.ctl", rundir);
    snprintf(bin, sizeof bin, "%s/dpu/daemon/ovnic-dpud", it_build_dir());
    snprintf(cfgarg, sizeof cfgarg, "--config=%s", conf);
    {
        FILE *f = fopen(conf, "w");

        assert_non_null(f);
        fprintf(f,
                "# ovnic-dpud test configuration\n"
                "system-id = hv9   # trailing comment\n"
                "hostname = file-host\n"
                "sb-remote = unix:%s/no-such-sb.sock\n"
                "encap-ip = 192.0.2.9, 198.51.100.9\n"
                "encap-csum = true\n"
                "bridge-mappings = phys:p0,other:p1\n"
                "monitor-all = yes\n"
                "probe-interval = 0\n"
                "rundir = %s\n"
                "representors = aa:bb:cc:dd:ee:ff/1=pf0vf1, AA:BB:CC:DD:EE:FF/2=pf0vf2\n",
                dir, rundir);
        fclose(f);
    }
    pid = it_spawn(argv, NULL);
    assert_true(pid > 0);
    deadline = time_msec() + 10000;
    while (!s && time_msec() < deadline) {
        s = status(ctl);
        if (!s) {
            usleep(100 * 1000);
        }
    }
    assert_non_null(s);
    assert_string_equal(json_string_value(json_object_get(s, "system_id")), "hv9");
    assert_string_equal(json_string_value(json_object_get(s, "hostname")), "cli-host");
    assert_true(json_is_true(json_object_get(s, "monitor_all")));
    assert_true(json_is_null(json_object_get(s, "chassis_uuid")));
    assert_string_not_equal(json_string_value(json_object_get(s, "sb_state")), "SYNCED");
    json_decref(s);

    /* Same rundir: refused while the first one runs. */
    assert_int_equal(it_run(&out, "%s %s 2>&1", bin, cfgarg), 1);
    assert_non_null(strstr(out, "already running"));
    free(out);

    /* Unknown method and bad arguments on the control socket. */
    out = NULL;
    assert_int_equal(it_run(&out,
                            "%s/tools/ovnicctl/ovnicctl dpud representor-add"
                            " aa:bb:cc:dd:ee:ff 70000 x --target=%s 2>&1",
                            it_build_dir(), ctl),
                     2);
    free(out);

    /* Devargs need the DPDK datapath; an empty one is refused by ovnicctl. */
    out = NULL;
    assert_int_equal(it_run(&out,
                            "%s/tools/ovnicctl/ovnicctl dpud port-add vm1 --iface-id=lsp1"
                            " --devargs=net_null0 --target=%s 2>&1",
                            it_build_dir(), ctl),
                     1);
    assert_non_null(strstr(out, "not supported: devargs need the DPDK datapath"));
    free(out);
    out = NULL;
    assert_int_equal(it_run(&out,
                            "%s/tools/ovnicctl/ovnicctl dpud port-add vm1 --iface-id=lsp1"
                            " --devargs= --target=%s 2>&1",
                            it_build_dir(), ctl),
                     2);
    assert_non_null(strstr(out, "--devargs is empty"));
    free(out);
    out = NULL;
    assert_int_equal(it_run(&out,
                            "%s/tools/ovnicctl/ovnicctl dpud port-list --format=json"
                            " --target=%s",
                            it_build_dir(), ctl),
                     0);
    assert_null(strstr(out, "vm1"));
    free(out);

    assert_int_equal(it_proc_stop(pid, IT_SIG_TERM, 10000), 0);
    assert_int_equal(access(ctl, F_OK), -1);
}

/* The devargs representor vmdev is attached with in the datapath of the daemon at
 * 'ctl' ("dpctl show"), or NULL if it is not attached.  Caller owns. */
static char *
dp_port_devargs(const char *ctl)
{
    char *out = NULL, *devargs = NULL;
    json_t *ports = NULL;
    const json_t *p;
    size_t i;

    if (!it_run(&out, "%s/tools/ovnicctl/ovnicctl dpctl show --format=json --target=%s",
                it_build_dir(), ctl)) {
        ports = json_loads(out, 0, NULL);
    }
    json_array_foreach(ports, i, p)
    {
        const char *name = json_string_value(json_object_get(p, "name"));
        if (name && !strcmp(name, "vmdev")) {
            devargs = strdup(json_string_value(json_object_get(p, "devargs")));
        }
    }
    json_decref(ports);
    free(out);
    return devargs;
}

/* Waits up to 30 s until representor vmdev is attached with 'want' (NULL: detached). */
static bool
wait_devargs(const char *ctl, const char *want)
{
    uint64_t deadline = time_msec() + 30000;
    char *have = NULL;

    do {
        free(have);
        have = dp_port_devargs(ctl);
        if (want ? have && !strcmp(have, want) : !have) {
            free(have);
            return true;
        }
        usleep(100 * 1000);
    } while (time_msec() < deadline);
    fprintf(stderr, "vmdev: devargs '%s', want '%s'\n", have ? have : "(detached)",
            want ? want : "(detached)");
    free(have);
    return false;
}

static pid_t
dpdk_daemon_start(char *argv[], const char *ctl)
{
    pid_t pid = it_spawn(argv, NULL);
    uint64_t deadline = time_msec() + 30000;
    json_t *s = NULL;

    while (pid > 0 && !s && time_msec() < deadline) {
        s = status(ctl);
        if (!s) {
            usleep(100 * 1000);
        }
    }
    json_decref(s);
    return s ? pid : -1;
}

static int
port_add(const char *ctl, const char *devargs)
{
    return it_run(NULL,
                  "%s/tools/ovnicctl/ovnicctl dpud port-add vmdev --iface-id=lsp-dev"
                  " %s%s --target=%s",
                  it_build_dir(), devargs ? "--devargs=" : "", devargs ? devargs : "",
                  ctl);
}

/* port-add --devargs with datapath = dpdk: the representor is attached with them,
 * again with other ones, keeps them across a restart (state file), and port-del
 * detaches it. */
static void
test_dpdk_devargs(void **state OVNIC_UNUSED)
{
    char sub[512], ctl[600], bin[512], sbarg[700], rundir[600], logarg[700];
    char *argv[] = {bin,
                    "--system-id=hv-devargs",
                    sbarg,
                    "--encap-ip=192.0.2.77",
                    rundir,
                    logarg,
                    "--datapath=dpdk",
                    "--uplink-devargs=net_null_itup,no-rx=1",
                    "--dpdk-args=--no-huge -m 256",
                    "--n-mbufs=2047",
                    "--probe-interval=0",
                    NULL};
    char *sb, *saved;
    pid_t pid;

    if (geteuid()) {
        skip();
    }
    /* The SB and the rundir are at the top of the test directory, whose cleanup stops
     * every daemon with a pidfile there, even after a failure. */
    snprintf(sub, sizeof sub, "%s", dir);
    free(it_central("start-sb '%s'", sub));
    sb = it_central("remote '%s' sb unix", sub);
    assert_non_null(sb);
    snprintf(bin, sizeof bin, "%s/dpu/daemon/ovnic-dpud", it_build_dir());
    snprintf(sbarg, sizeof sbarg, "--sb-remote=%s", sb);
    snprintf(rundir, sizeof rundir, "--rundir=%s", sub);
    snprintf(logarg, sizeof logarg, "--log-file=%s/ovnic-dpud.log", sub);
    snprintf(ctl, sizeof ctl, "%s/ovnic-dpud.ctl", sub);
    free(sb);

    pid = dpdk_daemon_start(argv, ctl);
    if (pid < 0) {
        char *log = NULL;
        it_run(&log, "cat %s/ovnic-dpud.log", sub);
        if (log && strstr(log, "built without DPDK")) {
            free(log);
            skip();
        }
        fail_msg("ovnic-dpud with datapath = dpdk did not start: %s", log ? log : "");
    }
    assert_int_equal(port_add(ctl, "net_null_itdev1,no-rx=1"), 0);
    assert_true(wait_devargs(ctl, "net_null_itdev1,no-rx=1"));
    /* Same port, other devargs: attached again with them. */
    assert_int_equal(port_add(ctl, "net_null_itdev2,no-rx=1"), 0);
    assert_true(wait_devargs(ctl, "net_null_itdev2,no-rx=1"));

    /* Kept in the state file across a restart. */
    assert_int_equal(it_proc_stop(pid, IT_SIG_TERM, 20000), 0);
    char path[700];
    snprintf(path, sizeof path, "%s/ovnic-dpud.state", sub);
    saved = it_file_read(path);
    assert_non_null(saved);
    assert_non_null(strstr(saved, "net_null_itdev2,no-rx=1"));
    free(saved);
    pid = dpdk_daemon_start(argv, ctl);
    assert_true(pid > 0);
    assert_true(wait_devargs(ctl, "net_null_itdev2,no-rx=1"));

    /* Without --devargs the configuration's apply again: here there are none, so the
     * port stays detached; port-del then forgets it. */
    assert_int_equal(port_add(ctl, NULL), 0);
    assert_true(wait_devargs(ctl, NULL));
    assert_int_equal(port_add(ctl, "net_null_itdev3,no-rx=1"), 0);
    assert_true(wait_devargs(ctl, "net_null_itdev3,no-rx=1"));
    assert_int_equal(it_run(NULL,
                            "%s/tools/ovnicctl/ovnicctl dpud port-del vmdev --target=%s",
                            it_build_dir(), ctl),
                     0);
    assert_true(wait_devargs(ctl, NULL));
    assert_int_equal(it_proc_stop(pid, IT_SIG_TERM, 20000), 0);
    saved = it_file_read(path);
    assert_non_null(saved);
    assert_null(strstr(saved, "net_null_itdev"));
    free(saved);
    free(it_central("stop '%s'", sub));
}

static void
test_ovnicctl_no_daemon(void **state OVNIC_UNUSED)
{
    char *out = NULL;

    assert_int_equal(it_run(&out,
                            "%s/tools/ovnicctl/ovnicctl dpud status"
                            " --target=%s/nothing.ctl 2>&1",
                            it_build_dir(), dir),
                     1);
    assert_non_null(strstr(out, "is ovnic-dpud running?"));
    free(out);
    out = NULL;
    assert_int_equal(it_run(&out,
                            "%s/tools/ovnicctl/ovnicctl dpud port-add pf0vf1"
                            " --target=%s/nothing.ctl 2>&1",
                            it_build_dir(), dir),
                     2);
    assert_non_null(strstr(out, "--iface-id=LSP is required"));
    free(out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_help_version),
        cmocka_unit_test(test_file_and_override),
        cmocka_unit_test(test_ovnicctl_no_daemon),
        cmocka_unit_test(test_dpdk_devargs),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
