/* ovnic integration: ovnic-dpud with its DPDK datapath on a real SB ovsdb-server and
 * ovn-northd.  The uplink is a net_pcap port that replays an ARP request from the
 * remote chassis's endpoint (so that its neighbour entry is known), the local VIF a
 * representor attached with net_null, then with net_pcap ports that replay 100 frames
 * toward a port of the remote chassis hv9.  It covers:
 *   - hv9's Encap ip set to values that cannot carry a tunnel: each is shown in
 *     "status", logged once (not once per packet), and its packets are dropped with a
 *     counted reason; fixed, the entry goes away and the packets leave by the tunnel;
 *   - the errors of the datapath's control methods: conntrack zones (one parser, one
 *     text, 0..65535), conntrack-flush's, dp-pipeline with an unknown datapath, and
 *     "dpctl trace" in table and json form;
 * and, without a daemon, that every ovnicctl command takes the same --format words.
 *
 * The datapath part needs root (DPDK) and an ovnic-dpud built with DPDK; it is
 * skipped otherwise. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ithelp.h"
#include "shared/util/util.h"

#define WAIT_MS 20000
#define N_FRAMES 100

static char *dir;
static char *sb, *nb;
static char ctl_path[600];
static char log_path[600];
static char frame_hex[256];
static char *encap_uuid; /* hv9's Encap row. */
static pid_t dpud_pid;
static bool have_dp; /* The daemon runs its DPDK datapath. */
static int n_replays;

static const uint8_t vm1_mac[6] = {0, 0, 0, 0, 1, 1};
static const uint8_t rvm_mac[6] = {0, 0, 0, 0, 9, 1};
static const uint8_t hv9_mac[6] = {2, 0, 0, 0, 9, 9};

/* ---- Frames and pcap files ---- */

static uint16_t
ip_csum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;

    for (size_t i = 0; i + 1 < n; i += 2) {
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    }
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return (uint16_t)~s;
}

/* vm1 (10.0.0.1) to rvm (10.0.0.9): IPv4/UDP from source port 'sport'.  Returns the
 * length written to 'f' (at least 64 bytes). */
static size_t
frame_build(uint8_t *f, uint16_t sport)
{
    size_t n = 0;

    memcpy(f, rvm_mac, 6);
    memcpy(f + 6, vm1_mac, 6);
    f[12] = 0x08;
    f[13] = 0x00;
    uint8_t *ip = f + 14;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    ip[3] = 20 + 8 + 18;
    ip[8] = 64;
    ip[9] = 17;
    memcpy(ip + 12, (uint8_t[]){10, 0, 0, 1}, 4);
    memcpy(ip + 16, (uint8_t[]){10, 0, 0, 9}, 4);
    uint16_t c = ip_csum(ip, 20);
    ip[10] = (uint8_t)(c >> 8);
    ip[11] = (uint8_t)c;
    uint8_t *udp = ip + 20;
    udp[0] = (uint8_t)(sport >> 8);
    udp[1] = (uint8_t)sport;
    udp[2] = 0x07;
    udp[3] = 0xd0;
    udp[4] = 0;
    udp[5] = 8 + 18;
    udp[6] = udp[7] = 0;
    memset(udp + 8, 'x', 18);
    n = 14 + 20 + 8 + 18;
    return n;
}

/* hv9's endpoint (192.0.2.9 at hv9_mac) asking for this chassis's (192.0.2.77): the
 * datapath learns the sender from it. */
static size_t
arp_build(uint8_t *f)
{
    static const uint8_t ip9[4] = {192, 0, 2, 9};
    static const uint8_t ip77[4] = {192, 0, 2, 77};

    memset(f, 0, 60);
    memset(f, 0xff, 6);
    memcpy(f + 6, hv9_mac, 6);
    f[12] = 0x08;
    f[13] = 0x06;
    uint8_t *a = f + 14;
    a[1] = 1;    /* Ethernet */
    a[2] = 0x08; /* IPv4 */
    a[4] = 6;
    a[5] = 4;
    a[7] = 1; /* request */
    memcpy(a + 8, hv9_mac, 6);
    memcpy(a + 14, ip9, 4);
    memcpy(a + 24, ip77, 4);
    return 60;
}

static void
le32(FILE *f, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                    (uint8_t)(v >> 24)};
    assert_int_equal(fwrite(b, 1, 4, f), 4);
}

/* Writes a pcap file of 'n' frames: hv9's ARP request if 'arp', else vm1's. */
static void
pcap_write(const char *path, int n, bool arp)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    le32(f, 0xa1b2c3d4);
    le32(f, 2 | 4 << 16);
    le32(f, 0);
    le32(f, 0);
    le32(f, 65535);
    le32(f, 1);
    for (int i = 0; i < n; i++) {
        uint8_t fr[128];
        size_t len = arp ? arp_build(fr) : frame_build(fr, (uint16_t)(1000 + i % 4));

        le32(f, (uint32_t)i);
        le32(f, 0);
        le32(f, (uint32_t)len);
        le32(f, (uint32_t)len);
        assert_int_equal(fwrite(fr, 1, len, f), len);
    }
    assert_int_equal(fclose(f), 0);
}

/* ---- The daemon ---- */

static char *sbctl(const char *fmt, ...) OVNIC_PRINTF(1, 2);

static char *
sbctl(const char *fmt, ...)
{
    char args[2048];
    va_list ap;
    char *out;
    size_t len;

    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    out = it_sbctl(sb, "%s", args);
    len = out ? strlen(out) : 0;
    while (len && (out[len - 1] == '\n' || out[len - 1] == '"')) {
        out[--len] = '\0';
    }
    return out;
}

/* Runs "ovnicctl ARGS" (with --target for the daemon if 'target'), stdout and stderr
 * in '*out' if nonnull.  Returns its exit status. */
static int ovnicctl(char **out, bool target, const char *fmt, ...) OVNIC_PRINTF(3, 4);

static int
ovnicctl(char **out, bool target, const char *fmt, ...)
{
    char args[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    return it_run(out, "%s/tools/ovnicctl/ovnicctl %s%s%s 2>&1", it_build_dir(), args,
                  target ? " --target=" : "", target ? ctl_path : "");
}

/* A control-socket request with 'params' (JSON text).  Returns the reply; caller
 * owns; NULL on failure. */
static json_t *
rpc(const char *method, const char *params)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    uint64_t end = time_msec() + 10000;
    char buf[1 << 16], req[1024];
    size_t len = 0;
    json_t *reply = NULL;

    if (strlen(ctl_path) >= sizeof sun.sun_path) {
        fail_msg("socket path too long: %s", ctl_path);
    }
    memcpy(sun.sun_path, ctl_path, strlen(ctl_path) + 1);
    snprintf(req, sizeof req, "{\"method\":\"%s\",\"params\":%s,\"id\":7}", method,
             params);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) ||
        send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req)) {
        goto out;
    }
    while (!reply && len < sizeof buf && time_msec() < end) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        ssize_t n;

        if (poll(&pfd, 1, 100) <= 0) {
            continue;
        }
        n = recv(fd, buf + len, sizeof buf - len, 0);
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
        reply = json_loadb(buf, len, JSON_DISABLE_EOF_CHECK, NULL);
    }
out:
    if (fd >= 0) {
        close(fd);
    }
    return reply;
}

/* The error text of 'reply' (borrowed), or NULL if it is not an error. */
static const char *
rpc_error(const json_t *reply)
{
    return json_string_value(json_object_get(json_object_get(reply, "error"), "error"));
}

static json_t *
rpc_result(const char *method, const char *params)
{
    json_t *reply = rpc(method, params);
    json_t *result = json_incref(json_object_get(reply, "result"));

    json_decref(reply);
    return result;
}

static json_int_t
drops(const char *reason)
{
    json_t *s = rpc_result("dp-stats", "[]");
    json_int_t n =
        json_integer_value(json_object_get(json_object_get(s, "drops"), reason));

    json_decref(s);
    return n;
}

static json_int_t
dp_stat(const char *name)
{
    json_t *s = rpc_result("dp-stats", "[]");
    json_int_t n = json_integer_value(json_object_get(s, name));

    json_decref(s);
    return n;
}

static int
log_count(const char *needle)
{
    char *log = it_file_read(log_path);
    int n = 0;

    assert_non_null(log);
    for (const char *p = log; (p = strstr(p, needle)); p += strlen(needle)) {
        n++;
    }
    free(log);
    return n;
}

static bool
port_is_up(const char *lport)
{
    char *up = sbctl("--bare --columns=up find Port_Binding logical_port=%s", lport);
    bool ok = up && !strcmp(up, "true");

    free(up);
    return ok;
}

static int
group_setup(void **state OVNIC_UNUSED)
{
    char bin[512], sbarg[700], rundir[700], logarg[700], uplink[800], pcap[600];
    char *argv[] = {bin,
                    "--system-id=hv-dp",
                    sbarg,
                    "--encap-ip=192.0.2.77",
                    rundir,
                    logarg,
                    "--datapath=dpdk",
                    uplink,
                    "--uplink-mac=02:00:00:00:00:77",
                    "--dpdk-args=--no-huge -m 256",
                    "--n-mbufs=2047",
                    "--probe-interval=0",
                    NULL};
    uint8_t fr[128];

    dir = it_tmpdir_create();
    if (!dir) {
        return -1;
    }
    for (size_t i = 0, n = frame_build(fr, 1000); i < n; i++) {
        snprintf(frame_hex + 2 * i, 3, "%02x", fr[i]);
    }
    if (geteuid()) {
        return 0; /* The datapath tests skip. */
    }
    free(it_central("start-sb '%s'", dir));
    free(it_central("start-nb '%s'", dir));
    free(it_central("start-northd '%s'", dir));
    sb = it_central("remote '%s' sb unix", dir);
    nb = it_central("remote '%s' nb unix", dir);
    if (!sb || !nb ||
        it_run(
            NULL,
            "ovn-nbctl --db=%s --wait=sb --timeout=20 ls-add ls1"
            " -- lsp-add ls1 vm1 -- lsp-set-addresses vm1 '00:00:00:00:01:01 10.0.0.1'"
            " -- lsp-add ls1 rvm -- lsp-set-addresses rvm '00:00:00:00:09:01 10.0.0.9'",
            nb)) {
        return -1;
    }
    free(sbctl("chassis-add hv9 geneve 192.0.2.9"));
    free(sbctl("lsp-bind rvm hv9"));
    encap_uuid = sbctl("--bare --columns=_uuid find Encap chassis_name=hv9");
    if (!encap_uuid || strlen(encap_uuid) != 36) {
        return -1;
    }

    snprintf(pcap, sizeof pcap, "%s/arp.pcap", dir);
    pcap_write(pcap, 1, true);
    snprintf(bin, sizeof bin, "%s/dpu/daemon/ovnic-dpud", it_build_dir());
    snprintf(sbarg, sizeof sbarg, "--sb-remote=%s", sb);
    snprintf(rundir, sizeof rundir, "--rundir=%s/dpud", dir);
    snprintf(log_path, sizeof log_path, "%s/ovnic-dpud.log", dir);
    snprintf(logarg, sizeof logarg, "--log-file=%s", log_path);
    snprintf(ctl_path, sizeof ctl_path, "%s/dpud/ovnic-dpud.ctl", dir);
    snprintf(uplink, sizeof uplink,
             "--uplink-devargs=net_pcap_itup,rx_pcap=%s,tx_pcap=%s/uplink-tx.pcap", pcap,
             dir);
    dpud_pid = it_spawn(argv, NULL);
    if (dpud_pid < 0) {
        return -1;
    }
    for (uint64_t end = time_msec() + 30000; time_msec() < end; usleep(100 * 1000)) {
        json_t *s = rpc_result("status", "[]");
        bool up = s && !strcmp(json_string_value(json_object_get(s, "datapath")), "dpdk");

        json_decref(s);
        if (up) {
            have_dp = true;
            break;
        }
    }
    if (!have_dp) {
        char *log = it_file_read(log_path);

        bool no_dpdk = log && strstr(log, "built without DPDK");

        fprintf(stderr, "ovnic-dpud with datapath = dpdk did not start: %s\n",
                log ? log : "(no log)");
        free(log);
        return no_dpdk ? 0 : -1;
    }
    /* vm1 bound here, first on a port that receives nothing. */
    if (ovnicctl(NULL, true,
                 "dpud port-add vm1 --iface-id=vm1 --devargs=net_null_itvm,no-rx=1")) {
        return -1;
    }
    for (uint64_t end = time_msec() + WAIT_MS; time_msec() < end && !port_is_up("vm1");
         usleep(100 * 1000)) {
    }
    return port_is_up("vm1") ? 0 : -1;
}

static int
group_teardown(void **state OVNIC_UNUSED)
{
    int status = 0;

    /* A clean exit: no leak, no sanitizer report. */
    if (dpud_pid > 0 && (status = it_proc_stop(dpud_pid, IT_SIG_TERM, 20000))) {
        fprintf(stderr, "ovnic-dpud exited with status %d\n", status);
    }
    it_tmpdir_remove(dir);
    free(dir);
    free(sb);
    free(nb);
    free(encap_uuid);
    return status ? -1 : 0;
}

/* Attaches vm1 again with a net_pcap port that replays N_FRAMES frames, and waits
 * until the datapath has received them. */
static void
replay(void)
{
    json_int_t rx0 = dp_stat("rx");
    char pcap[700];

    snprintf(pcap, sizeof pcap, "%s/vm1.pcap", dir);
    pcap_write(pcap, N_FRAMES, false);
    assert_int_equal(ovnicctl(NULL, true,
                              "dpud port-add vm1 --iface-id=vm1"
                              " --devargs=net_pcap_itvm%d,rx_pcap=%s,tx_pcap=/dev/null",
                              ++n_replays, pcap),
                     0);
    for (uint64_t end = time_msec() + WAIT_MS;
         time_msec() < end && dp_stat("rx") < rx0 + N_FRAMES; usleep(100 * 1000)) {
    }
    assert_int_equal(dp_stat("rx"), rx0 + N_FRAMES);
    usleep(200 * 1000);
}

/* "dp-trace" of vm1's frame, from the pipeline the datapath runs.  Caller owns. */
static json_t *
trace(void)
{
    char params[512];

    snprintf(params, sizeof params, "[{\"port\":\"vm1\",\"packet\":\"%s\"}]", frame_hex);
    return rpc_result("dp-trace", params);
}

/* Waits until the live pipeline sends vm1's frame to hv9 at 'ip' (the pipeline sees
 * the new ip), or drops it as a refused Encap of 'ip'. */
static void
wait_pipeline(const char *ip, bool refused)
{
    uint64_t end = time_msec() + WAIT_MS;
    char want[256];

    snprintf(want, sizeof want, "ip \"%s\"", ip);
    while (time_msec() < end) {
        json_t *t = trace();
        const json_t *o = json_array_get(json_object_get(t, "outputs"), 0);
        const json_t *d = json_array_get(json_object_get(t, "drops"), 0);
        const char *reason = json_string_value(json_object_get(d, "reason"));
        bool ok =
            refused ? reason && !strncmp(reason, "refused Encap (", 15) &&
                          strstr(reason, "): chassis \"hv9\" ") && strstr(reason, want)
                    : o && !strcmp(json_string_value(json_object_get(o, "encap_ip")), ip);

        json_decref(t);
        if (ok) {
            return;
        }
        usleep(100 * 1000);
    }
    fail_msg("the pipeline did not take hv9's Encap ip '%s'", ip);
}

/* The status entry of hv9's refused Encap (a copy), or NULL. */
static json_t *
bad_encap(void)
{
    json_t *s = rpc_result("status", "[]");
    json_t *e = json_deep_copy(json_array_get(json_object_get(s, "bad_encaps"), 0));

    json_decref(s);
    return e;
}

/* Packets toward a chassis whose Encap ip is refused are dropped with a counted
 * reason, and the refusal is shown in "status" and logged once, not once per packet;
 * once the ip is fixed the entry goes and the packets leave through the tunnel. */
static void
test_bad_encap_traffic(void **state OVNIC_UNUSED)
{
    static const struct {
        const char *ip;
        const char *why;
        const char *drop; /* The datapath's drop counter for its packets. */
    } bad[] = {
        {"not-an-ip", "not an IP address", "refused Encap"},
        {"", "not an IP address", "refused Encap"},
        {"::1", "a loopback address", "refused Encap"},
        {"0.0.0.0", "the unspecified address", "refused Encap"},
        {"255.255.255.255", "a broadcast address", "refused Encap"},
        {"2001:db8::9", "an IPv6 address, but the underlay is IPv4",
         "encapsulation failed"},
    };

    if (!have_dp) {
        skip();
    }
    /* A good ip first: the packets go through the tunnel. */
    wait_pipeline("192.0.2.9", false);
    json_int_t tx0 = dp_stat("tunnel_tx");
    replay();
    if (dp_stat("tunnel_tx") != tx0 + N_FRAMES) {
        json_t *st = rpc_result("dp-stats", "[]"), *ne = rpc_result("dp-neigh", "[]");
        char *a = json_dumps(st, JSON_COMPACT), *b = json_dumps(ne, JSON_COMPACT);
        char msg[4096];

        snprintf(msg, sizeof msg, "tunnel_tx %lld, want %lld: %s %s",
                 (long long)dp_stat("tunnel_tx"), (long long)(tx0 + N_FRAMES), a, b);
        free(a);
        free(b);
        json_decref(st);
        json_decref(ne);
        fail_msg("%s", msg);
    }

    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        char needle[256];
        json_int_t before = drops(bad[i].drop);
        json_t *e = NULL;

        free(sbctl("set Encap %s 'ip=\"%s\"'", encap_uuid, bad[i].ip));
        wait_pipeline(bad[i].ip, strcmp(bad[i].drop, "encapsulation failed"));
        for (uint64_t end = time_msec() + WAIT_MS; time_msec() < end;
             usleep(100 * 1000)) {
            json_decref(e);
            e = bad_encap();
            if (e && !strcmp(json_string_value(json_object_get(e, "ip")), bad[i].ip)) {
                break;
            }
        }
        assert_non_null(e);
        assert_string_equal(json_string_value(json_object_get(e, "chassis")), "hv9");
        assert_string_equal(json_string_value(json_object_get(e, "ip")), bad[i].ip);
        assert_string_equal(json_string_value(json_object_get(e, "reason")), bad[i].why);
        json_decref(e);

        tx0 = dp_stat("tunnel_tx");
        replay();
        assert_int_equal(drops(bad[i].drop), before + N_FRAMES);
        assert_int_equal(dp_stat("tunnel_tx"), tx0);
        snprintf(needle, sizeof needle,
                 "chassis \"hv9\": Encap geneve ip \"%s\" refused (%s)", bad[i].ip,
                 bad[i].why);
        assert_int_equal(log_count(needle), 1);
    }

    /* Fixed: no entry, and the packets leave through the tunnel again. */
    free(sbctl("set Encap %s ip=192.0.2.9", encap_uuid));
    wait_pipeline("192.0.2.9", false);
    for (uint64_t end = time_msec() + WAIT_MS; time_msec() < end; usleep(100 * 1000)) {
        json_t *e = bad_encap();

        json_decref(e);
        if (!e) {
            break;
        }
    }
    assert_null(bad_encap());
    tx0 = dp_stat("tunnel_tx");
    json_int_t refused0 = drops("refused Encap");
    replay();
    assert_int_equal(dp_stat("tunnel_tx"), tx0 + N_FRAMES);
    assert_int_equal(drops("refused Encap"), refused0);
}

/* The control methods' errors, and what ovnicctl makes of them. */
static void
test_ctl_errors(void **state OVNIC_UNUSED)
{
    static const char *const bad_zones[] = {"-1",    "65536", "70000",
                                            "\"x\"", "1.5",   "true"};
    json_t *r;
    char *out;

    if (!have_dp) {
        skip();
    }
    /* Zones: 0..65535, the same error text from the daemon and from ovnicctl. */
    for (size_t i = 0; i < ARRAY_SIZE(bad_zones); i++) {
        static const char *const methods[] = {"conntrack-dump", "conntrack-flush"};

        for (size_t m = 0; m < 2; m++) {
            char params[128];

            snprintf(params, sizeof params, "[{\"zone\":%s}]", bad_zones[i]);
            r = rpc(methods[m], params);
            assert_non_null(rpc_error(r));
            assert_string_equal(rpc_error(r),
                                "bad \"zone\": a conntrack zone is an integer from 0 "
                                "to 65535");
            json_decref(r);
        }
    }
    for (size_t m = 0; m < 2; m++) {
        static const char *const methods[] = {"conntrack-dump", "conntrack-flush"};
        static const char *const good[] = {"0", "65535", "\"7\""};

        for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
            char params[128];

            snprintf(params, sizeof params, "[{\"zone\":%s}]", good[i]);
            r = rpc(methods[m], params);
            assert_null(rpc_error(r));
            assert_non_null(json_object_get(r, "result"));
            json_decref(r);
        }
    }
    r = rpc("conntrack-dump", "[{\"limit\":-1}]");
    assert_string_equal(rpc_error(r), "\"limit\" must be a non-negative integer");
    json_decref(r);
    static const char *const cli_zones[] = {"-1", "65536", "70000", "x", "", "1e3"};
    for (size_t i = 0; i < ARRAY_SIZE(cli_zones); i++) {
        assert_int_equal(ovnicctl(&out, true, "conntrack dump --zone='%s'", cli_zones[i]),
                         2);
        if (!strstr(out, "a conntrack zone is an integer from 0 to 65535")) {
            fail_msg("conntrack dump --zone=%s: %s", cli_zones[i], out);
        }
        free(out);
        assert_int_equal(
            ovnicctl(&out, true, "conntrack flush --zone='%s'", cli_zones[i]), 2);
        assert_non_null(strstr(out, "a conntrack zone is an integer from 0 to 65535"));
        free(out);
    }
    assert_int_equal(ovnicctl(&out, true, "conntrack dump --zone=65535"), 0);
    free(out);
    assert_int_equal(ovnicctl(&out, true, "conntrack flush --zone=0"), 0);
    assert_non_null(strstr(out, "flushed: "));
    free(out);
    assert_int_equal(ovnicctl(&out, true, "conntrack flush --limit=3"), 2);
    free(out);

    /* dp-pipeline: a known datapath lists its flows; an unknown one is an error. */
    r = rpc("dp-pipeline", "[{\"datapath\":\"ls1\"}]");
    assert_true(json_array_size(json_object_get(r, "result")) > 10);
    json_decref(r);
    r = rpc("dp-pipeline", "[{\"datapath\":\"no-such-ls\"}]");
    assert_non_null(rpc_error(r));
    assert_string_equal(rpc_error(r), "unknown datapath \"no-such-ls\"");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(r, "error"), "code")),
        -ENOENT);
    json_decref(r);
    assert_int_equal(ovnicctl(&out, true, "dpctl dump-pipeline no-such-ls"), 1);
    assert_non_null(strstr(out, "ovnicctl: dpctl dump-pipeline: unknown datapath "
                                "\"no-such-ls\""));
    free(out);
    assert_int_equal(ovnicctl(&out, true, "dpctl dump-pipeline ls1"), 0);
    assert_non_null(strstr(out, "datapath=ls1"));
    free(out);

    /* dpctl trace: table (the default) is text, json is JSON, other words refused. */
    assert_int_equal(ovnicctl(&out, true, "dpctl trace vm1 %s --format=text", frame_hex),
                     2);
    assert_non_null(strstr(out, "unknown format 'text' (use table or json)"));
    free(out);
    assert_int_equal(ovnicctl(&out, true, "dpctl trace vm1 %s", frame_hex), 0);
    assert_non_null(strstr(out, "ingress(dp=\"ls1\", inport=\"vm1\")"));
    assert_non_null(strstr(out, "ls_in_l2_lkup"));
    assert_non_null(strstr(out, "megaflow: "));
    assert_null(strstr(out, "\"outputs\""));
    free(out);
    assert_int_equal(ovnicctl(&out, true, "dpctl trace vm1 %s --format=table", frame_hex),
                     0);
    assert_non_null(strstr(out, "ingress(dp=\"ls1\", inport=\"vm1\")"));
    free(out);
    assert_int_equal(ovnicctl(&out, true, "dpctl trace vm1 %s --format=json", frame_hex),
                     0);
    r = json_loads(out, 0, NULL);
    assert_non_null(r);
    assert_true(json_is_array(json_object_get(r, "trace")));
    json_decref(r);
    free(out);
}

/* Runs "ovnicctl CMD" with --format='WORD' where CMD says "{F}", else at its end. */
static int
ovnicctl_format(char **out, const char *cmd, const char *word)
{
    const char *at = strstr(cmd, "{F}");

    if (at) {
        return ovnicctl(out, false, "%.*s--format='%s'%s", (int)(at - cmd), cmd, word,
                        at + 3);
    }
    return ovnicctl(out, false, "%s --format='%s'", cmd, word);
}

/* Every command that takes --format takes "table" and "json" and refuses anything
 * else with the same message (the datapath need not run: the options are parsed
 * before connecting). */
static void
test_format_words(void **state OVNIC_UNUSED)
{
    static const char *const cmds[] = {
        "ovsdb monitor --db=unix:/nonexistent/sb.sock --timeout=0.2",
        "ovsdb dump --db=unix:/nonexistent/sb.sock --timeout=0.2",
        "lflow-check --db=unix:/nonexistent/sb.sock --timeout=0.2",
        "trace --db=unix:/nonexistent/sb.sock --timeout=0.2 ls1 'inport==\"vm1\"'",
        "dpud status --target=/nonexistent/ovnic-dpud.ctl",
        "dpud port-list --target=/nonexistent/ovnic-dpud.ctl",
        "dpud lflows --target=/nonexistent/ovnic-dpud.ctl",
        "dpctl show --target=/nonexistent/ovnic-dpud.ctl",
        "dpctl stats --target=/nonexistent/ovnic-dpud.ctl",
        "dpctl dump-flows --target=/nonexistent/ovnic-dpud.ctl",
        "dpctl dump-pipeline --target=/nonexistent/ovnic-dpud.ctl",
        "dpctl neigh --target=/nonexistent/ovnic-dpud.ctl",
        "dpctl svc-monitors --target=/nonexistent/ovnic-dpud.ctl",
        "dpctl trace vm1 00 --target=/nonexistent/ovnic-dpud.ctl",
        "conntrack dump --target=/nonexistent/ovnic-dpud.ctl",
        "conntrack flush --target=/nonexistent/ovnic-dpud.ctl",
        "conntrack stats --target=/nonexistent/ovnic-dpud.ctl",
        "nicsim --socket=/nonexistent/nicsim.sock {F} status",
        "nicsim --socket=/nonexistent/nicsim.sock {F} ports",
        "nicsim --socket=/nonexistent/nicsim.sock {F} rules",
    };
    static const char *const refused[] = {"text", "TABLE", "", "yaml"};

    for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
        char *out = NULL;

        for (size_t k = 0; k < ARRAY_SIZE(refused); k++) {
            char want[64];

            snprintf(want, sizeof want, "unknown format '%s' (use table or json)",
                     refused[k]);
            if (ovnicctl_format(&out, cmds[i], refused[k]) != 2 || !strstr(out, want)) {
                fail_msg("ovnicctl %s --format='%s': '%s', want status 2 and '%s'",
                         cmds[i], refused[k], out, want);
            }
            free(out);
        }
        /* Accepted: the command then fails to reach its server (status 1). */
        static const char *const words[] = {"table", "json"};
        for (size_t k = 0; k < ARRAY_SIZE(words); k++) {
            int status = ovnicctl_format(&out, cmds[i], words[k]);

            if (status != 1) {
                fail_msg("ovnicctl %s --format=%s: status %d, want 1: %s", cmds[i],
                         words[k], status, out);
            }
            free(out);
        }
        /* --help names the same words. */
        char *cmd = strdup(cmds[i]);
        char *space = strstr(cmd, " --");
        if (space) {
            *space = '\0';
        }
        assert_int_equal(ovnicctl(&out, false, "%s --help", cmd), 0);
        if (!strstr(out, "--format=table|json")) {
            fail_msg("ovnicctl %s --help: no --format=table|json:\n%s", cmd, out);
        }
        free(out);
        free(cmd);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_words),
        cmocka_unit_test(test_ctl_errors),
        cmocka_unit_test(test_bad_encap_traffic),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
