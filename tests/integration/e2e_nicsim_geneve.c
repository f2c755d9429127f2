/* End-to-end test of the simulated NIC: a two-host lab (ovnic-sim lab), VFs enabled
 * through the simulated sysfs, one VF of each host moved into a VM namespace, and
 * eSwitch rules installed through the sim backend of esw.h (esw_sim_class) that
 * carry a real ping between the two VMs through a Geneve tunnel (with OVN's option)
 * over the underlay, with no software switch involved:
 *
 *   host A: VF0 -> RAW_ENCAP Geneve(VNI 100, option 0x0102/0x80) -> uplink
 *   host B: uplink, Geneve VNI 100 to B's address -> RAW_DECAP -> VF0 (and back)
 *
 * Then: the client process that installed the rules is gone and another one comes
 * and goes while a ping runs, without a loss (the rules live in ovnic-nicsim); and
 * once a client flushes the rules, the VM's packets reach the VF's representor, where
 * a DPDK memif client (dpdk-testpmd) receives them.
 *
 * Needs root; exits 77 without it.  Label e2e. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ithelp.h"
#include "offload/esw.h"
#include "shared/util/json.h"

#define VNI 100
#define GENEVE_PORT 6081
#define OVN_OPT_DATA 0x00010002u /* Ingress port key 1, egress port key 2. */
#define UPLINK_PORT 0
#define VF0_PORT 2
#define PF_PATH "devices/pci0000:00/0000:03:00.0"

static char lab_name[24];
static char *lab_dir;
static char sim_bin[PATH_MAX];
static json_t *lab_state;

struct host {
    char netns[64];
    char vm[80];
    char ctl[1024];
    char memif_dir[1024];
    char sysfs[1024];
    uint8_t uplink_mac[6];
    uint32_t encap_ip; /* Network order. */
    char vm_ip[16];
};

static struct host hosts[2];

static void
lab_down_atexit(void)
{
    char cmd[PATH_MAX * 2];

    if (lab_dir && sim_bin[0]) {
        snprintf(cmd, sizeof cmd, "'%s' lab down --name %s --dir '%s' >/dev/null",
                 sim_bin, lab_name, lab_dir);
        if (system(cmd)) {
            fprintf(stderr, "e2e: lab down failed\n");
        }
    }
}

static int
parse_mac(const char *s, uint8_t mac[6])
{
    unsigned int b[6];
    int i;

    if (!s ||
        sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6) {
        return -1;
    }
    for (i = 0; i < 6; i++) {
        mac[i] = (uint8_t)b[i];
    }
    return 0;
}

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

    nanosleep(&ts, NULL);
}

/* Writes 'value' to host 'h''s sriov_numvfs as a host agent would, and waits for
 * the result in sriov_status. */
static int
sriov_write(const struct host *h, const char *value)
{
    char path[PATH_MAX];
    char *before, *after = NULL;
    FILE *f;
    int i, code = 1;
    unsigned long long seq;

    snprintf(path, sizeof path, "%s/" PF_PATH "/sriov_status", h->sysfs);
    before = it_file_read(path);
    assert_non_null(before);
    snprintf(path, sizeof path, "%s/" PF_PATH "/sriov_numvfs", h->sysfs);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(value, f);
    assert_int_equal(fclose(f), 0);
    snprintf(path, sizeof path, "%s/" PF_PATH "/sriov_status", h->sysfs);
    for (i = 0; i < 200; i++) {
        free(after);
        after = it_file_read(path);
        if (after && strcmp(after, before)) {
            break;
        }
        sleep_ms(25);
    }
    assert_non_null(after);
    assert_int_equal(sscanf(after, "%llu %d", &seq, &code), 2);
    free(before);
    free(after);
    return code;
}

static int
group_setup(void **state)
{
    const json_t *list;
    size_t i;

    (void)state;
    snprintf(sim_bin, sizeof sim_bin, "%s/tests/hw-sim/lab/ovnic-sim", it_build_dir());
    lab_dir = it_tmpdir_create();
    assert_non_null(lab_dir);
    atexit(lab_down_atexit); /* Runs before ithelp removes the directory. */
    snprintf(lab_name, sizeof lab_name, "e2e%d", (int)getpid() % 100000);
    assert_int_equal(it_run(NULL, "'%s' lab up --name %s --dir '%s' --hosts 2 --vfs 2",
                            sim_bin, lab_name, lab_dir),
                     0);

    {
        char path[PATH_MAX];
        json_error_t jerr;

        snprintf(path, sizeof path, "%s/lab.json", lab_dir);
        lab_state = json_load_file(path, 0, &jerr);
        assert_non_null(lab_state);
    }
    list = json_object_get(lab_state, "host_list");
    assert_int_equal(json_array_size(list), 2);
    for (i = 0; i < 2; i++) {
        const json_t *h = json_array_get(list, i);
        struct host *host = &hosts[i];
        struct in_addr in;

        snprintf(host->netns, sizeof host->netns, "%s",
                 json_string_value(json_object_get(h, "netns")));
        snprintf(host->vm, sizeof host->vm, "%s-vm1",
                 json_string_value(json_object_get(h, "netns")));
        snprintf(host->ctl, sizeof host->ctl, "%s",
                 json_string_value(json_object_get(h, "ctl")));
        snprintf(host->memif_dir, sizeof host->memif_dir, "%s",
                 json_string_value(json_object_get(h, "memif_dir")));
        snprintf(host->sysfs, sizeof host->sysfs, "%s",
                 json_string_value(json_object_get(h, "sysfs_root")));
        assert_int_equal(parse_mac(json_string_value(json_object_get(h, "uplink_mac")),
                                   host->uplink_mac),
                         0);
        assert_int_equal(
            inet_pton(AF_INET, json_string_value(json_object_get(h, "encap_ip")), &in),
            1);
        host->encap_ip = in.s_addr;
        snprintf(host->vm_ip, sizeof host->vm_ip, "10.0.0.%zu", i + 1);

        /* The host agent's part: VFs through sysfs, bad values refused. */
        assert_int_equal(sriov_write(host, "9\n"), -ERANGE);
        assert_int_equal(sriov_write(host, "2\n"), 0);

        /* A VM gets VF 0. */
        assert_int_equal(it_run(NULL,
                                "ip netns add %s && ip -n %s link set pf0v0 netns %s && "
                                "ip -n %s link set pf0v0 name eth0 && "
                                "ip -n %s addr add %s/24 dev eth0 && "
                                "ip -n %s link set eth0 up && ip -n %s link set lo up && "
                                "ip netns exec %s ethtool -K eth0 tx off >/dev/null",
                                host->vm, host->netns, host->vm, host->vm, host->vm,
                                host->vm_ip, host->vm, host->vm, host->vm),
                         0);
    }
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    json_decref(lab_state);
    lab_down_atexit();
    free(lab_dir);
    lab_dir = NULL;
    return 0;
}

/* ---- Rules. ------------------------------------------------------------------- */

/* Outer headers from 'from' to 'to': Ethernet, IPv4, UDP, Geneve + OVN option. */
static size_t
encap_build(uint8_t *buf, const struct host *from, const struct host *to)
{
    uint8_t *p = buf;
    uint32_t opt = htonl(OVN_OPT_DATA);

    memcpy(p, to->uplink_mac, 6);
    memcpy(p + 6, from->uplink_mac, 6);
    p[12] = 0x08;
    p[13] = 0x00;
    p += 14;
    memset(p, 0, 20);
    p[0] = 0x45;
    p[6] = 0x40; /* DF. */
    p[8] = 64;
    p[9] = 17;
    memcpy(p + 12, &from->encap_ip, 4);
    memcpy(p + 16, &to->encap_ip, 4);
    p += 20;
    memset(p, 0, 8);
    p[2] = GENEVE_PORT >> 8;
    p[3] = GENEVE_PORT & 0xff;
    p += 8;
    p[0] = 2; /* Version 0, options: 2 words. */
    p[1] = 0;
    p[2] = 0x65;
    p[3] = 0x58;
    p[4] = (VNI >> 16) & 0xff;
    p[5] = (VNI >> 8) & 0xff;
    p[6] = VNI & 0xff;
    p[7] = 0;
    p += 8;
    p[0] = 0x01;
    p[1] = 0x02;
    p[2] = 0x80;
    p[3] = 1; /* One word of data. */
    memcpy(p + 4, &opt, 4);
    p += 8;
    return (size_t)(p - buf);
}

/* Installs the two rules of 'local' (towards and from 'remote'). */
static int
rules_install(struct esw *esw, const struct host *local, const struct host *remote)
{
    struct rte_flow_attr attr = {.group = 0, .priority = 1, .transfer = 1};
    struct rte_flow_item_ethdev vf = {.port_id = VF0_PORT};
    struct rte_flow_item_ethdev uplink = {.port_id = UPLINK_PORT};
    struct rte_flow_action_ethdev to_uplink = {.port_id = UPLINK_PORT};
    struct rte_flow_action_ethdev to_vf = {.port_id = VF0_PORT};
    struct rte_flow_action_count count = {0};
    uint8_t encap[128];
    struct rte_flow_action_raw_encap enc = {.data = encap, .preserve = NULL, .size = 0};
    struct rte_flow_action_raw_decap dec = {.data = NULL, .size = 0};
    struct rte_flow_item_ipv4 ip_spec, ip_mask;
    struct rte_flow_item_udp udp_spec, udp_mask;
    struct rte_flow_item_geneve gen_spec, gen_mask;
    uint32_t opt_data = htonl(OVN_OPT_DATA);
    struct rte_flow_item_geneve_opt opt_spec;
    struct esw_error error;
    struct esw_rule *rule;
    char text[512];
    int rc;

    enc.size = encap_build(encap, local, remote);
    dec.size = enc.size;

    const struct rte_flow_item egress_items[] = {
        {.type = RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, .spec = &vf},
        {.type = RTE_FLOW_ITEM_TYPE_ETH},
        {.type = RTE_FLOW_ITEM_TYPE_END},
    };
    const struct rte_flow_action egress_actions[] = {
        {.type = RTE_FLOW_ACTION_TYPE_COUNT, .conf = &count},
        {.type = RTE_FLOW_ACTION_TYPE_RAW_ENCAP, .conf = &enc},
        {.type = RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, .conf = &to_uplink},
        {.type = RTE_FLOW_ACTION_TYPE_END},
    };
    esw_error_clear(&error);
    rc = esw_rule_create(esw, &attr, egress_items, egress_actions, NULL, &rule, &error);
    if (rc) {
        fprintf(stderr, "egress rule: %s\n", esw_error_format(&error, text, sizeof text));
        return rc;
    }

    memset(&ip_spec, 0, sizeof ip_spec);
    memset(&ip_mask, 0, sizeof ip_mask);
    ip_spec.hdr.dst_addr = local->encap_ip;
    ip_mask.hdr.dst_addr = 0xffffffff;
    memset(&udp_spec, 0, sizeof udp_spec);
    memset(&udp_mask, 0, sizeof udp_mask);
    udp_spec.hdr.dst_port = htons(GENEVE_PORT);
    udp_mask.hdr.dst_port = 0xffff;
    memset(&gen_spec, 0, sizeof gen_spec);
    memset(&gen_mask, 0, sizeof gen_mask);
    gen_spec.vni[2] = VNI & 0xff;
    gen_mask.vni[0] = gen_mask.vni[1] = gen_mask.vni[2] = 0xff;
    memset(&opt_spec, 0, sizeof opt_spec);
    opt_spec.option_class = htons(0x0102);
    opt_spec.option_type = 0x80;
    opt_spec.option_len = 1;
    opt_spec.data = &opt_data;

    const struct rte_flow_item ingress_items[] = {
        {.type = RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, .spec = &uplink},
        {.type = RTE_FLOW_ITEM_TYPE_ETH},
        {.type = RTE_FLOW_ITEM_TYPE_IPV4, .spec = &ip_spec, .mask = &ip_mask},
        {.type = RTE_FLOW_ITEM_TYPE_UDP, .spec = &udp_spec, .mask = &udp_mask},
        {.type = RTE_FLOW_ITEM_TYPE_GENEVE, .spec = &gen_spec, .mask = &gen_mask},
        {.type = RTE_FLOW_ITEM_TYPE_GENEVE_OPT, .spec = &opt_spec},
        {.type = RTE_FLOW_ITEM_TYPE_END},
    };
    const struct rte_flow_action ingress_actions[] = {
        {.type = RTE_FLOW_ACTION_TYPE_COUNT, .conf = &count},
        {.type = RTE_FLOW_ACTION_TYPE_RAW_DECAP, .conf = &dec},
        {.type = RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, .conf = &to_vf},
        {.type = RTE_FLOW_ACTION_TYPE_END},
    };
    rc = esw_rule_create(esw, &attr, ingress_items, ingress_actions, NULL, &rule, &error);
    if (rc) {
        fprintf(stderr, "ingress rule: %s\n",
                esw_error_format(&error, text, sizeof text));
    }
    return rc;
}

static struct esw *
esw_connect(const struct host *h)
{
    struct esw_error error;
    struct esw *esw = NULL;
    char args[PATH_MAX + 16];
    char text[512];

    snprintf(args, sizeof args, "socket=%s", h->ctl);
    esw_error_clear(&error);
    if (esw_open(&esw_sim_class, args, &esw, &error)) {
        fprintf(stderr, "esw_open: %s\n", esw_error_format(&error, text, sizeof text));
        return NULL;
    }
    return esw;
}

enum client_job {
    CLIENT_INSTALL, /* Install the tunnel rules on both hosts. */
    CLIENT_INSPECT, /* Connect, read capabilities and ports, leave. */
    CLIENT_FLUSH,   /* Remove every rule, including those of earlier clients. */
};

/* One esw_sim client process: does 'job' and exits (with _exit(), so that the
 * parent's exit handlers stay the parent's).  Returns its exit status. */
static int
client_run(enum client_job job)
{
    int status;
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        int rc = 0;
        int i;

        for (i = 0; i < 2 && !rc; i++) {
            struct esw *esw = esw_connect(&hosts[i]);
            struct esw_port ports[16];
            struct esw_caps caps;
            struct esw_error error;

            if (!esw) {
                _exit(1);
            }
            esw_error_clear(&error);
            if (job == CLIENT_INSTALL) {
                rc = rules_install(esw, &hosts[i], &hosts[1 - i]);
            } else if (job == CLIENT_INSPECT) {
                int n = esw_port_list(esw, ports, 16, &error);

                rc = esw_caps_get(esw, &caps, &error);
                if (!rc && (n != 4 || strcmp(ports[VF0_PORT].name, "pf0vf0") ||
                            ports[UPLINK_PORT].kind != ESW_PORT_UPLINK ||
                            strcmp(caps.device, "bf2") || !caps.geneve_opt)) {
                    fprintf(stderr, "unexpected ports (%d) or capabilities (%s)\n", n,
                            caps.device);
                    rc = -EINVAL;
                }
            } else {
                rc = esw_flush(esw, &error);
            }
            esw_close(esw);
        }
        _exit(rc ? 2 : 0);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        continue;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- Observations. ------------------------------------------------------------ */

static json_t *
ctl_call(const struct host *h, const char *method)
{
    char *out = NULL;
    json_t *json;

    /* Through ovnicctl, as an operator would. */
    if (it_run(&out, "'%s/tools/ovnicctl/ovnicctl' nicsim --socket '%s' call %s",
               it_build_dir(), h->ctl, method)) {
        free(out);
        return NULL;
    }
    json = json_loads(out, 0, NULL);
    free(out);
    return json;
}

static json_int_t
rule_packets(const struct host *h)
{
    json_t *rules = ctl_call(h, "rules");
    const json_t *r;
    json_int_t total = 0;
    size_t i;

    assert_non_null(rules);
    json_array_foreach(json_object_get(rules, "rules"), i, r)
    {
        total += json_integer_value(json_object_get(r, "packets"));
    }
    json_decref(rules);
    return total;
}

static json_int_t
rule_count(const struct host *h)
{
    json_t *rules = ctl_call(h, "rules");
    json_int_t n;

    assert_non_null(rules);
    n = json_integer_value(json_object_get(rules, "count"));
    json_decref(rules);
    return n;
}

static json_int_t
port_stat(const struct host *h, const char *port, const char *stat)
{
    json_t *ports = ctl_call(h, "ports");
    const json_t *p;
    json_int_t v = -1;
    size_t i;

    assert_non_null(ports);
    json_array_foreach(json_object_get(ports, "ports"), i, p)
    {
        if (!strcmp(json_string_value(json_object_get(p, "name")), port)) {
            v = json_integer_value(json_object_get(json_object_get(p, "stats"), stat));
        }
    }
    json_decref(ports);
    return v;
}

static int
ping(const struct host *from, const struct host *to, const char *opts)
{
    return it_run(NULL, "ip netns exec %s ping -n -q %s %s >/dev/null", from->vm, opts,
                  to->vm_ip);
}

/* ---- Tests. ------------------------------------------------------------------- */

static void
test_no_rules_no_ping(void **state)
{
    (void)state;
    assert_int_equal(rule_count(&hosts[0]), 0);
    assert_int_not_equal(ping(&hosts[0], &hosts[1], "-c 2 -i 0.2 -W 1"), 0);
}

static void
test_geneve_ping(void **state)
{
    json_int_t before, misses_a, misses_b;
    int i;

    (void)state;
    assert_int_equal(client_run(CLIENT_INSTALL), 0);
    /* The client is gone: the rules stay in the NICs. */
    assert_int_equal(rule_count(&hosts[0]), 2);
    assert_int_equal(rule_count(&hosts[1]), 2);
    before = port_stat(&hosts[0], "p0", "tx_packets");
    misses_a = port_stat(&hosts[0], "pf0vf0", "rep_tx_packets") +
               port_stat(&hosts[0], "pf0vf0", "rep_tx_dropped");
    misses_b = port_stat(&hosts[1], "pf0vf0", "rep_tx_packets") +
               port_stat(&hosts[1], "pf0vf0", "rep_tx_dropped");
    for (i = 0; i < 10 && ping(&hosts[0], &hosts[1], "-c 1 -W 1"); i++) {
        continue;
    }
    assert_true(i < 10);
    {
        char *out = NULL;
        const char *rtt;

        assert_int_equal(it_run(&out, "ip netns exec %s ping -n -q -c 5 -i 0.2 -W 2 %s",
                                hosts[0].vm, hosts[1].vm_ip),
                         0);
        rtt = strstr(out, "rtt");
        fprintf(stderr, "VM to VM across the Geneve tunnel: %s", rtt ? rtt : out);
        free(out);
    }
    assert_int_equal(ping(&hosts[1], &hosts[0], "-c 3 -i 0.2 -W 2"), 0);
    /* The packets crossed the wire, matched the rules, and never reached the DPU. */
    assert_true(port_stat(&hosts[0], "p0", "tx_packets") >= before + 8);
    assert_true(rule_packets(&hosts[0]) >= 16);
    assert_true(rule_packets(&hosts[1]) >= 16);
    assert_int_equal(port_stat(&hosts[0], "pf0vf0", "rep_tx_packets") +
                         port_stat(&hosts[0], "pf0vf0", "rep_tx_dropped"),
                     misses_a);
    assert_int_equal(port_stat(&hosts[1], "pf0vf0", "rep_tx_packets") +
                         port_stat(&hosts[1], "pf0vf0", "rep_tx_dropped"),
                     misses_b);
}

static void
test_client_restart_keeps_traffic(void **state)
{
    char out_path[PATH_MAX];
    char cmd[512];
    char *out;
    pid_t pid;
    int i;

    (void)state;
    snprintf(out_path, sizeof out_path, "%s/ping.out", lab_dir);
    snprintf(cmd, sizeof cmd, "exec ip netns exec %s ping -n -c 20 -i 0.1 -W 2 %s",
             hosts[0].vm, hosts[1].vm_ip);
    char *const argv[] = {"/bin/sh", "-c", cmd, NULL};
    pid = it_spawn(argv, out_path);
    assert_true(pid > 0);
    /* Clients come and go while the ping runs. */
    for (i = 0; i < 3; i++) {
        assert_int_equal(client_run(CLIENT_INSPECT), 0);
        sleep_ms(200);
    }
    assert_int_equal(it_proc_stop(pid, IT_SIG_NONE, 20000), 0);
    out = it_file_read(out_path);
    assert_non_null(out);
    if (!strstr(out, " 0% packet loss")) {
        fprintf(stderr, "%s", out);
    }
    assert_non_null(strstr(out, "20 received, 0% packet loss"));
    free(out);
    assert_int_equal(rule_count(&hosts[0]), 2);
}

static void
test_flush_sends_to_representor(void **state)
{
    char memif[PATH_MAX];
    char ping_cmd[512];
    char tp_cmd[PATH_MAX + 512];
    char *out = NULL;
    json_int_t before;
    pid_t ping_pid;
    const char *rx;
    int received;
    int rc;

    (void)state;
    assert_int_equal(client_run(CLIENT_FLUSH), 0);
    assert_int_equal(rule_count(&hosts[0]), 0);
    assert_int_equal(rule_count(&hosts[1]), 0);

    /* A DPU-side DPDK application attaches to VF 0's representor of host A. */
    snprintf(memif, sizeof memif, "%s/pf0vf0.sock", hosts[0].memif_dir);
    snprintf(ping_cmd, sizeof ping_cmd,
             "exec ip netns exec %s ping -n -c 30 -i 0.2 -W 1 %s >/dev/null", hosts[0].vm,
             hosts[1].vm_ip);
    char *const argv[] = {"/bin/sh", "-c", ping_cmd, NULL};
    before = port_stat(&hosts[0], "pf0vf0", "rep_tx_packets");
    ping_pid = it_spawn(argv, NULL);
    assert_true(ping_pid > 0);
    snprintf(tp_cmd, sizeof tp_cmd,
             "(sleep 4; echo) | dpdk-testpmd --no-huge -m 256 --no-shconf --no-pci "
             "--no-telemetry --file-prefix e2e-tp-%d -l 0,1 --log-level='*:error' "
             "--vdev=net_memif0,role=client,socket=%s,socket-abstract=no -- "
             "--forward-mode=rxonly --nb-cores=1 --total-num-mbufs=4096 2>&1",
             (int)getpid(), memif);
    rc = it_run_timeout(&out, 60000, tp_cmd);
    it_run(NULL, "rm -rf /var/run/dpdk/e2e-tp-%d", (int)getpid());
    it_proc_stop(ping_pid, IT_SIG_TERM, 5000);
    assert_non_null(out);
    rx = strstr(out, "RX-packets:");
    received = rx ? atoi(rx + strlen("RX-packets:")) : -1;
    if (rc || received < 3) {
        fprintf(stderr, "dpdk-testpmd exited with %d:\n%s", rc, out);
    }
    free(out);
    assert_int_equal(rc, 0);
    assert_true(received >= 3);
    /* ovnic-nicsim saw the misses go to the representor too. */
    assert_true(port_stat(&hosts[0], "pf0vf0", "rep_tx_packets") >= before + 3);
    /* Without rules, nothing crossed to host B's VM. */
    assert_int_not_equal(ping(&hosts[0], &hosts[1], "-c 1 -W 1"), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_rules_no_ping),
        cmocka_unit_test(test_geneve_ping),
        cmocka_unit_test(test_client_restart_keeps_traffic),
        cmocka_unit_test(test_flush_sends_to_representor),
    };

    if (geteuid() != 0) {
        fprintf(stderr, "e2e_nicsim_geneve: needs root, skipped\n");
        return 77;
    }
    if (it_run(NULL, "command -v dpdk-testpmd >/dev/null && command -v ethtool "
                     ">/dev/null && ip netns list >/dev/null")) {
        fprintf(stderr, "e2e_nicsim_geneve: dpdk-testpmd, ethtool or ip netns missing\n");
        return 77;
    }
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
