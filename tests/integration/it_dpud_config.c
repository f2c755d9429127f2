/* ovnic integration: ovnic-dpud's configuration file and command line (errors,
 * overrides, --help, --version), its pidfile (a second daemon on the same rundir is
 * refused), the names it refuses on the control socket (port-add, representor-add,
 * the state file), ovnicctl's --db remotes, and ovnicctl's errors when no daemon
 * runs.  No SB is needed for these: the
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
#include "shared/util/rpc_client.h"
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
                 "--underlay-mtu: '100' is not a number from 576 to 9216");
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
    expect_error("--system-id=hv1 --sb-remote=unix:/x --encap-ip=1.2.3.4"
                 " --idle-min-us=20000",
                 "--idle-min-us: 20000 is longer than idle-max-us (default), 2000");
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

/* What used to start a daemon that then failed forever, or only after the EAL
 * started: refused at once with status 2, naming the key as it was given. */
static void
test_refused_at_start(void **state OVNIC_UNUSED)
{
    static const struct {
        const char *args;
        const char *message;
    } cases[] = {
        {"--sb-remote=tcp:1.2.3.4",
         "ovnic-dpud: --sb-remote: 'tcp:1.2.3.4': missing ':PORT' after the address"},
        {"--sb-remote=tcp:1.2.3.4:99999",
         "ovnic-dpud: --sb-remote: 'tcp:1.2.3.4:99999': port 99999 is out of range (1 "
         "to 65535)"},
        {"--sb-remote=tcp:localhost:6642",
         "ovnic-dpud: --sb-remote: 'tcp:localhost:6642': 'localhost' is not an IP "
         "address (host names are not resolved"},
        {"--sb-remote=tcp:127.0.0.1:6642,,tcp:127.0.0.2:6642",
         "--sb-remote: empty remote at position 2 of the list"},
        {"--sb-remote=udp:127.0.0.1:6642", "--sb-remote: 'udp:127.0.0.1:6642': unknown "
                                           "method 'udp' (expected unix:, tcp: or ssl:)"},
        {"--sb-remote=unix:/x --underlay-gateway=zz",
         "ovnic-dpud: --underlay-gateway: 'zz' is not an IP address"},
        {"--sb-remote=unix:/x --encap-prefix-len=33",
         "ovnic-dpud: --encap-prefix-len: 33 is longer than an IPv4 address (at most "
         "32): the first address of --encap-ip, 192.0.2.1, is IPv4"},
        {"--sb-remote=unix:/x --idle-min-us=5000 --idle-max-us=100",
         "ovnic-dpud: --idle-min-us: 5000 is longer than --idle-max-us, 100"},
        {"--sb-remote=unix:/x --encap-ip=192.0.2.1,,192.0.2.2",
         "ovnic-dpud: --encap-ip: empty element (number 2) in '192.0.2.1,,192.0.2.2'"},
        {"--sb-remote=unix:/x --encap-ip=0.0.0.0",
         "'0.0.0.0' is the unspecified address"},
        {"--sb-remote=unix:/x --underlay-gateway=192.0.3.1",
         "--underlay-gateway: '192.0.3.1' is not on the uplink's subnet 192.0.2.1/24"},
        {"--sb-remote=unix:/x --representors=0c:42:a1:00:00:01/1=../x",
         "--representors: bad representor name ('/' after '..'; a name is 1 to 53 "
         "bytes of letters, digits, '_', '.' and '-', not starting with '.' or '-')"},
        {"--sb-remote=unix:/x --memif-dir=/a,b", "--memif-dir: '/a,b' has a ','"},
        {"--sb-remote=unix:/x --uplink-mac=01:00:00:00:00:01",
         "--uplink-mac: '01:00:00:00:00:01' is not a unicast MAC"},
    };
    char args[512];

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        /* With datapath = dpdk too: refused before the EAL starts. */
        for (int dpdk = 0; dpdk < 2; dpdk++) {
            char *out = NULL;
            int status;

            snprintf(args, sizeof args, "--system-id=hv1 --encap-ip=192.0.2.1 %s",
                     dpdk ? "--datapath=dpdk --memif-dir=/tmp/no-such-memif " : "");
            snprintf(args + strlen(args), sizeof args - strlen(args), "%s",
                     cases[i].args);
            status = dpud_run(&out, args);
            if (status != 2 || !out || !strstr(out, cases[i].message) ||
                strstr(out, "EAL")) {
                fail_msg("ovnic-dpud %s: status %d, output '%s', want 2 and '%s'", args,
                         status, out ? out : "", cases[i].message);
            }
            free(out);
        }
    }
}

/* The configuration file: a leading BOM is skipped; a NUL byte, a key given twice, a
 * PF/VF mapped twice and a physnet mapped twice are errors with their line. */
static void
test_file_errors(void **state OVNIC_UNUSED)
{
    static const struct {
        const char *text;
        size_t len;
        const char *message;
    } cases[] = {
        {"\xef\xbb\xbfsystem-id = hv1\ncolour = blue\n", 0,
         "f.conf:2: unknown key 'colour'"},
        {"\xef\xbb\xbf\xef\xbb\xbfsystem-id = hv1\n", 0,
         "f.conf:1: unknown key '\\xef\\xbb\\xbfsystem-id'"},
        {"system-id = hv1\nhostname = a\0b\n", 31, "f.conf:2: NUL byte at byte 13"},
        {"system-id = hv1\n\nsystem-id = hv2\n", 0,
         "f.conf:3: system-id: given twice (first at line 1)"},
        {"system-id = hv1\nrepresentors = 0c:42:a1:00:00:01/1=a, 0c:42:a1:00:00:01/1=b\n",
         0,
         "f.conf:2: representors: PF 0c:42:a1:00:00:01 VF 1 is mapped twice (to 'a' and "
         "to 'b')"},
        {"system-id = hv1\nbridge-mappings = physnet:p0,physnet:p1\n", 0,
         "f.conf:2: bridge-mappings: physnet 'physnet' is mapped twice (to 'p0' and to "
         "'p1')"},
        {"system-id = hv1\nsb-remote = unix:/x\nencap-ip = 192.0.2.1\n"
         "encap-prefix-len = 33\n",
         0,
         "f.conf:4: encap-prefix-len: 33 is longer than an IPv4 address (at most 32): "
         "the "
         "first address of encap-ip (%s:3), 192.0.2.1, is IPv4"},
    };
    char path[512], args[1024], want[1200];

    snprintf(path, sizeof path, "%s/f.conf", dir);
    snprintf(args, sizeof args, "--config=%s", path);
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        FILE *f = fopen(path, "wb");
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);

        assert_non_null(f);
        assert_int_equal(fwrite(cases[i].text, 1, len, f), len);
        fclose(f);
        snprintf(want, sizeof want, cases[i].message, path);
        expect_error(args, want);
    }
    /* A BOM before the first key: the file is read, and what is refused is the
     * command line's. */
    write_file(path, "\xef\xbb\xbfsystem-id = hv1\nsb-remote = unix:/x\n");
    snprintf(args, sizeof args, "--config=%s --encap-ip=192.0.2.1 --idle-max-us=1", path);
    expect_error(args, "--idle-max-us: 1 is shorter than idle-min-us (default), 20");
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

static int
ctl_run(char **out, const char *ctl, const char *args)
{
    return it_run(out, "%s/tools/ovnicctl/ovnicctl %s --target=%s 2>&1", it_build_dir(),
                  args, ctl);
}

/* Representor names: refused with a clear error on every way in (port-add,
 * representor-add, the state file), and never saved; iface-ids are free text up to a
 * length bound. */
static void
test_port_names(void **state OVNIC_UNUSED)
{
    static const struct {
        const char *args;
        const char *message;
    } refused[] = {
        {"dpud port-add '../../../../tmp/x' --iface-id=lsp1",
         "bad representor name ('/' after '..'; a name is 1 to 53 bytes of letters, "
         "digits, '_', '.' and '-', not starting with '.' or '-')"},
        {"dpud port-add 'q,zero-copy=yes' --iface-id=lsp1",
         "bad representor name (',' after 'q'"},
        {"dpud port-add '' --iface-id=lsp1", "empty representor name"},
        {"dpud port-add .hidden --iface-id=lsp1", "'.hidden' starts with '.'"},
        {"dpud port-add 'a b' --iface-id=lsp1", "bad representor name (' ' after 'a'"},
        {"dpud port-add aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
         "--iface-id=l",
         "representor name too long ('aaaaaaaaaaaaaaaaaaaa...' has 54 bytes"},
        {"dpud representor-add 0c:42:a1:00:00:01 1 ../x", "bad representor name"},
        {"dpud representor-add 0c:42:a1:00:00:01 1 'x,y'", "bad representor name"},
    };
    char rundir[512], ctl[600], bin[512], rundir_arg[600], sb_arg[600], state_path[600];
    char *argv[] = {
        bin, "--system-id=hv-names", sb_arg, "--encap-ip=192.0.2.5", rundir_arg, NULL};
    char *out = NULL, *saved;
    json_t *s = NULL;
    pid_t pid;

    snprintf(rundir, sizeof rundir, "%s/names", dir);
    snprintf(ctl, sizeof ctl, "%s/ovnic-dpud.ctl", rundir);
    snprintf(state_path, sizeof state_path, "%s/ovnic-dpud.state", rundir);
    snprintf(bin, sizeof bin, "%s/dpu/daemon/ovnic-dpud", it_build_dir());
    snprintf(rundir_arg, sizeof rundir_arg, "--rundir=%s", rundir);
    snprintf(sb_arg, sizeof sb_arg, "--sb-remote=unix:%s/no-such-sb.sock", dir);

    /* A state file of an older version, with a name refused today: that entry is
     * skipped, the others are restored. */
    assert_int_equal(it_run(NULL, "mkdir -p '%s'", rundir), 0);
    write_file(state_path, "{\"ports\": [{\"representor\": \"old,bad\", \"iface_id\": "
                           "\"lsp-old\"}, {\"representor\": \"pf0vf7\", \"iface_id\": "
                           "\"lsp-7\"}], \"representors\": [{\"pf_mac\": "
                           "\"0c:42:a1:00:00:09\", \"vf_num\": 3, \"name\": \"../y\"}]}");

    pid = it_spawn(argv, NULL);
    assert_true(pid > 0);
    for (uint64_t deadline = time_msec() + 10000; !s && time_msec() < deadline;) {
        s = status(ctl);
        if (!s) {
            usleep(100 * 1000);
        }
    }
    assert_non_null(s);
    json_decref(s);
    assert_int_equal(ctl_run(&out, ctl, "dpud port-list --format=json"), 0);
    assert_non_null(strstr(out, "pf0vf7"));
    assert_null(strstr(out, "old,bad"));
    free(out);

    for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
        out = NULL;
        int rc = ctl_run(&out, ctl, refused[i].args);
        if (rc != 1 || !out || !strstr(out, refused[i].message)) {
            fail_msg("ovnicctl %s: status %d, output '%s', want 1 and '%s'",
                     refused[i].args, rc, out ? out : "", refused[i].message);
        }
        free(out);
    }

    /* A 1,000,000-byte name, too long for a command line: straight on the socket. */
    struct rpc_client *client = NULL;
    char remote[700];
    json_t *reply = NULL;
    char *huge = malloc(1000001);
    assert_non_null(huge);
    memset(huge, 'x', 1000000);
    huge[1000000] = '\0';
    snprintf(remote, sizeof remote, "unix:%s", ctl);
    assert_int_equal(rpc_client_open(remote, 10000, &client, NULL), 0);
    assert_int_equal(rpc_client_call(client, "port-add",
                                     json_pack("[{s:s, s:s}]", "representor", huge,
                                               "iface_id", "lsp-huge"),
                                     &reply, NULL),
                     0);
    const char *msg =
        json_string_value(json_object_get(json_object_get(reply, "error"), "error"));
    assert_non_null(msg);
    assert_non_null(strstr(msg, "representor name too long ('xxxxxxxxxxxxxxxxxxxx...' "
                                "has 1000000 bytes; a name is 1 to 53 bytes"));
    json_decref(reply);
    reply = NULL;
    /* An iface-id (logical port name) is free text, within a length bound. */
    huge[1025] = '\0';
    assert_int_equal(rpc_client_call(client, "port-add",
                                     json_pack("[{s:s, s:s}]", "representor", "pf0vf3",
                                               "iface_id", huge),
                                     &reply, NULL),
                     0);
    msg = json_string_value(json_object_get(json_object_get(reply, "error"), "error"));
    assert_non_null(msg);
    assert_non_null(strstr(msg, "iface-id too long (1025 bytes, at most 1024)"));
    json_decref(reply);
    free(huge);
    rpc_client_close(client);

    /* Good names still work; an iface-id may hold anything. */
    assert_int_equal(
        ctl_run(NULL, ctl, "dpud port-add pf0vf1 --iface-id='lsp/../x,y=z {}'"), 0);
    assert_int_equal(ctl_run(NULL, ctl, "dpud port-add Vm_1.eth-0 --iface-id=lsp2"), 0);
    assert_int_equal(
        ctl_run(NULL, ctl, "dpud representor-add 0c:42:a1:00:00:01 1 pf0vf9"), 0);
    out = NULL;
    assert_int_equal(ctl_run(&out, ctl, "dpud port-list --format=json"), 0);
    assert_non_null(strstr(out, "\"pf0vf1\""));
    assert_non_null(strstr(out, "\"Vm_1.eth-0\""));
    free(out);

    /* Nothing refused was saved. */
    assert_int_equal(it_proc_stop(pid, IT_SIG_TERM, 10000), 0);
    saved = it_file_read(state_path);
    assert_non_null(saved);
    assert_non_null(strstr(saved, "\"pf0vf1\""));
    assert_non_null(strstr(saved, "lsp/../x,y=z {}"));
    assert_non_null(strstr(saved, "\"pf0vf9\""));
    assert_null(strstr(saved, "tmp/x"));
    assert_null(strstr(saved, "zero-copy"));
    assert_null(strstr(saved, "xxxxxxxxxx"));
    assert_null(strstr(saved, "old,bad"));
    assert_null(strstr(saved, "../y"));
    assert_true(strlen(saved) < 4096);
    free(saved);
}

/* ovnicctl's --db takes the remotes that the stream layer can open, and says what is
 * wrong with the others. */
static void
test_ovnicctl_db_remotes(void **state OVNIC_UNUSED)
{
    static const struct {
        const char *db;
        const char *message;
    } cases[] = {
        {"tcp:1.2.3.4", "--db: malformed remote 'tcp:1.2.3.4': missing ':PORT' after the "
                        "address"},
        {"tcp:1.2.3.4:99999", "port 99999 is out of range (1 to 65535)"},
        {"tcp:localhost:6642", "'localhost' is not an IP address"},
        {"tcp:127.0.0.1:1,,tcp:127.0.0.1:2", "empty remote at position 2 of the list"},
        {"bogus:x", "unknown method 'bogus'"},
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *out = NULL;
        int status = it_run(&out, "%s/tools/ovnicctl/ovnicctl ovsdb dump --db='%s' 2>&1",
                            it_build_dir(), cases[i].db);
        if (status != 2 || !out || !strstr(out, cases[i].message)) {
            fail_msg("ovnicctl ovsdb dump --db=%s: status %d, output '%s', want 2 and "
                     "'%s'",
                     cases[i].db, status, out ? out : "", cases[i].message);
        }
        free(out);
    }
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
        cmocka_unit_test(test_refused_at_start),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_help_version),
        cmocka_unit_test(test_file_and_override),
        cmocka_unit_test(test_port_names),
        cmocka_unit_test(test_ovnicctl_db_remotes),
        cmocka_unit_test(test_ovnicctl_no_daemon),
        cmocka_unit_test(test_dpdk_devargs),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
