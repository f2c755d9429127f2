/* Benchmark of the simulated eSwitch through esw.h: rule insertion and deletion rates
 * through the bulk path (templates, esw_async_*(), a push every 256 rules) beside the
 * synchronous single-rule path, and ovnic-nicsim's forwarding rate on a memif
 * representor with a matching rule beside the same traffic on the miss path.
 *
 * Usage: bench_esw_sim [--format json] [--rules N[,N...]] [--seconds S]
 *
 * It starts one ovnic-nicsim (profile bf3, two VFs) in network namespaces of its own,
 * under a temporary directory, and dpdk-testpmd (txonly) as the memif client of VF 0's
 * representor.  Needs root; prints the figures, asserts nothing about time. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "offload/esw.h"
#include "shared/util/err.h"
#include "shared/util/util.h"
#include "tests/hw-sim/nicsim/ctl_client.h"

#define PUSH_EVERY 256
#define VF0_PORT 2 /* eSwitch port ids of VF 0 and VF 1. */
#define VF1_PORT 3

struct bench {
    char dir[256];
    char run_dir[300];
    char ctl[320];
    char dpu_ns[32];
    char host_ns[32];
    bool ns_created;
    pid_t nicsim;
    struct esw *esw;
    struct nicsim_client *client;
};

static double
now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR) {
        continue;
    }
}

static int
run(const char *fmt, ...)
{
    char cmd[2048];
    va_list args;
    va_start(args, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, args);
    va_end(args);
    int rc = system(cmd);
    return rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Forks and executes 'argv' with its output into 'log'. */
static pid_t
spawn(char *const argv[], const char *log)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

/* Stops 'pid' with SIGTERM, then SIGKILL after 'timeout_ms'. */
static void
stop(pid_t pid, int timeout_ms)
{
    if (pid <= 0) {
        return;
    }
    kill(pid, SIGTERM);
    for (int waited = 0; waited < timeout_ms; waited += 20) {
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            return;
        }
        sleep_ms(20);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void
bench_cleanup(struct bench *b)
{
    esw_close(b->esw);
    b->esw = NULL;
    nicsim_client_close(b->client);
    b->client = NULL;
    stop(b->nicsim, 10000);
    b->nicsim = 0;
    if (b->ns_created) {
        run("ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null", b->dpu_ns,
            b->host_ns);
        b->ns_created = false;
    }
    if (b->dir[0]) {
        run("rm -rf '%s'", b->dir);
        b->dir[0] = '\0';
    }
}

static int
bench_start(struct bench *b)
{
    char self[PATH_MAX], bin[PATH_MAX + 64], log[PATH_MAX + 16];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        return -1;
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    *slash = '\0';
    const char *build = getenv("OVNIC_BUILD_DIR");
    if (build && *build) {
        snprintf(bin, sizeof bin, "%s/tests/hw-sim/nicsim/ovnic-nicsim", build);
    } else {
        snprintf(bin, sizeof bin, "%s/../tests/hw-sim/nicsim/ovnic-nicsim", self);
    }
    if (access(bin, X_OK)) {
        fprintf(stderr, "bench_esw_sim: %s: not found\n", bin);
        return -1;
    }
    snprintf(b->dir, sizeof b->dir, "/tmp/bench_esw_sim.XXXXXX");
    if (!mkdtemp(b->dir)) {
        b->dir[0] = '\0';
        return -1;
    }
    snprintf(b->run_dir, sizeof b->run_dir, "%s/run", b->dir);
    snprintf(b->ctl, sizeof b->ctl, "%s/nicsim.ctl", b->run_dir);
    snprintf(log, sizeof log, "%s/nicsim.log", b->dir);
    snprintf(b->dpu_ns, sizeof b->dpu_ns, "besd%d", (int)getpid());
    snprintf(b->host_ns, sizeof b->host_ns, "besh%d", (int)getpid());
    if (run("ip netns add %s && ip netns add %s", b->dpu_ns, b->host_ns)) {
        return -1;
    }
    b->ns_created = true;
    char *const argv[] = {"/usr/sbin/ip",
                          "netns",
                          "exec",
                          b->dpu_ns,
                          bin,
                          "--run-dir",
                          b->run_dir,
                          "--profile",
                          "bf3",
                          "--host-netns",
                          b->host_ns,
                          "--total-vfs",
                          "4",
                          "--numvfs",
                          "2",
                          NULL};
    b->nicsim = spawn(argv, log);
    if (b->nicsim <= 0) {
        return -1;
    }
    struct ovnic_err err = {0};
    for (int i = 0; i < 300; i++) {
        if (!access(b->ctl, F_OK) &&
            !nicsim_client_open(b->ctl, 10000, &b->client, &err)) {
            json_t *status = NULL;
            if (!nicsim_client_call(b->client, "status", NULL, &status, &err)) {
                json_decref(status);
                break;
            }
            nicsim_client_close(b->client);
            b->client = NULL;
        }
        sleep_ms(50);
    }
    if (!b->client) {
        fprintf(stderr, "bench_esw_sim: ovnic-nicsim did not start (see %s)\n", log);
        return -1;
    }
    /* The VFs' host ends up, so that what the eSwitch sends them leaves the port. */
    for (int i = 0; i < 100; i++) {
        if (!run("ip -n %s link set pf0v0 up 2>/dev/null && "
                 "ip -n %s link set pf0v1 up 2>/dev/null",
                 b->host_ns, b->host_ns)) {
            break;
        }
        sleep_ms(50);
    }
    char args[400];
    snprintf(args, sizeof args, "socket=%s,timeout=30000", b->ctl);
    struct esw_error eerr;
    esw_error_clear(&eerr);
    if (esw_open(&esw_sim_class, args, &b->esw, &eerr)) {
        char why[512];
        fprintf(stderr, "bench_esw_sim: esw_open: %s\n",
                esw_error_format(&eerr, why, sizeof why));
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------- */
/* Rule insertion and deletion. */

/* The specs of rule 'i': VF 0's traffic to MAC 02:xx and IPv4 10.x, to VF 1. */
struct rule_spec {
    struct rte_flow_item_ethdev port;
    struct rte_flow_item_eth eth;
    struct rte_flow_item_ipv4 ip;
    struct rte_flow_item items[4];
    struct rte_flow_action_ethdev out;
    struct rte_flow_action actions[3];
};

static const struct rte_flow_item_ethdev port_mask = {.port_id = 0xffff};
static const struct rte_flow_item_eth eth_mask = {
    .hdr.dst_addr.addr_bytes = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
static const struct rte_flow_item_ipv4 ip_mask = {.hdr.dst_addr = RTE_BE32(0xffffffff)};

static void
rule_spec_init(struct rule_spec *r, uint32_t i)
{
    memset(r, 0, sizeof *r);
    r->port.port_id = VF0_PORT;
    uint8_t *mac = r->eth.hdr.dst_addr.addr_bytes;
    mac[0] = 0x02;
    mac[2] = (uint8_t)(i >> 24);
    mac[3] = (uint8_t)(i >> 16);
    mac[4] = (uint8_t)(i >> 8);
    mac[5] = (uint8_t)i;
    r->eth.hdr.ether_type = RTE_BE16(0x0800);
    r->ip.hdr.dst_addr = rte_cpu_to_be_32(0x0a000000u | (i & 0xffffff));
    r->items[0] = (struct rte_flow_item){.type = RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT,
                                         .spec = &r->port,
                                         .mask = &port_mask};
    r->items[1] = (struct rte_flow_item){
        .type = RTE_FLOW_ITEM_TYPE_ETH, .spec = &r->eth, .mask = &eth_mask};
    r->items[2] = (struct rte_flow_item){
        .type = RTE_FLOW_ITEM_TYPE_IPV4, .spec = &r->ip, .mask = &ip_mask};
    r->items[3].type = RTE_FLOW_ITEM_TYPE_END;
    r->out.port_id = VF1_PORT;
    r->actions[0].type = RTE_FLOW_ACTION_TYPE_COUNT;
    r->actions[1] = (struct rte_flow_action){
        .type = RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, .conf = &r->out};
    r->actions[2].type = RTE_FLOW_ACTION_TYPE_END;
}

static const struct rte_flow_attr rule_attr = {.group = 1, .transfer = 1};

static void
report_error(const char *what, const struct esw_error *err)
{
    char why[512];
    fprintf(stderr, "bench_esw_sim: %s: %s\n", what,
            esw_error_format(err, why, sizeof why));
}

/* Pulls until 'want' completions of queue 0 have come back; counts failures. */
static int
pull_all(struct esw *esw, size_t want, size_t *failures)
{
    struct esw_op_result res[PUSH_EVERY];
    size_t got = 0;
    double deadline = now_sec() + 60;
    while (got < want) {
        struct esw_error err;
        esw_error_clear(&err);
        int n = esw_pull(esw, 0, res, ARRAY_SIZE(res), &err);
        if (n < 0) {
            report_error("esw_pull", &err);
            return n;
        }
        for (int i = 0; i < n; i++) {
            *failures += res[i].status != 0;
        }
        got += (size_t)n;
        if (!n && now_sec() > deadline) {
            return -ETIMEDOUT;
        }
    }
    return 0;
}

struct rates {
    double insert; /* Rules per second. */
    double delete;
    size_t failures;
};

static int
bulk_run(struct esw *esw, uint32_t n, struct esw_rule **rules, struct rates *out)
{
    struct esw_error err;
    esw_error_clear(&err);
    struct rte_flow_pattern_template_attr pattr = {.transfer = 1};
    struct rte_flow_item pitems[] = {
        {.type = RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, .mask = &port_mask},
        {.type = RTE_FLOW_ITEM_TYPE_ETH, .mask = &eth_mask},
        {.type = RTE_FLOW_ITEM_TYPE_IPV4, .mask = &ip_mask},
        {.type = RTE_FLOW_ITEM_TYPE_END}};
    struct rte_flow_actions_template_attr aattr = {.transfer = 1};
    struct rte_flow_action_ethdev vf1 = {.port_id = VF1_PORT};
    struct rte_flow_action aacts[] = {
        {.type = RTE_FLOW_ACTION_TYPE_COUNT},
        {.type = RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, .conf = &vf1},
        {.type = RTE_FLOW_ACTION_TYPE_END}};
    struct rte_flow_action amasks[] = {{.type = RTE_FLOW_ACTION_TYPE_COUNT},
                                       {.type = RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT},
                                       {.type = RTE_FLOW_ACTION_TYPE_END}};
    struct esw_pattern_template *pt = NULL;
    struct esw_actions_template *at = NULL;
    struct esw_template_table *table = NULL;
    int rc = esw_pattern_template_create(esw, &pattr, pitems, &pt, &err);
    if (!rc) {
        rc = esw_actions_template_create(esw, &aattr, aacts, amasks, &at, &err);
    }
    if (!rc) {
        struct rte_flow_template_table_attr tattr = {.flow_attr = rule_attr,
                                                     .nb_flows = n};
        rc = esw_template_table_create(esw, &tattr, &pt, 1, &at, 1, &table, &err);
    }
    if (rc) {
        report_error("templates", &err);
        goto done;
    }

    struct rule_spec r;
    size_t enqueued = 0;
    double t0 = now_sec();
    for (uint32_t i = 0; i < n && !rc; i++) {
        rule_spec_init(&r, i);
        rc = esw_async_create(esw, 0, table, r.items, 0, r.actions, 0, NULL, NULL,
                              &rules[i], &err);
        if (rc) {
            report_error("esw_async_create", &err);
            break;
        }
        if (++enqueued == PUSH_EVERY || i + 1 == n) {
            rc = esw_push(esw, 0, &err);
            if (!rc) {
                rc = pull_all(esw, enqueued, &out->failures);
            }
            enqueued = 0;
        }
    }
    double t1 = now_sec();
    out->insert = rc ? 0 : n / (t1 - t0);
    if (rc) {
        goto done;
    }

    for (uint32_t i = 0; i < n && !rc; i++) {
        rc = esw_async_destroy(esw, 0, rules[i], NULL, &err);
        if (rc) {
            report_error("esw_async_destroy", &err);
            break;
        }
        if (++enqueued == PUSH_EVERY || i + 1 == n) {
            rc = esw_push(esw, 0, &err);
            if (!rc) {
                rc = pull_all(esw, enqueued, &out->failures);
            }
            enqueued = 0;
        }
    }
    out->delete = rc ? 0 : n / (now_sec() - t1);

done:
    esw_template_table_destroy(esw, table, NULL);
    esw_actions_template_destroy(esw, at, NULL);
    esw_pattern_template_destroy(esw, pt, NULL);
    return rc;
}

static int
sync_run(struct esw *esw, uint32_t n, struct esw_rule **rules, struct rates *out)
{
    struct esw_error err;
    struct rule_spec r;
    double t0 = now_sec();
    for (uint32_t i = 0; i < n; i++) {
        rule_spec_init(&r, i);
        esw_error_clear(&err);
        if (esw_rule_create(esw, &rule_attr, r.items, r.actions, NULL, &rules[i], &err)) {
            report_error("esw_rule_create", &err);
            return -1;
        }
    }
    double t1 = now_sec();
    for (uint32_t i = 0; i < n; i++) {
        esw_error_clear(&err);
        if (esw_rule_destroy(esw, rules[i], &err)) {
            out->failures++;
        }
    }
    out->insert = n / (t1 - t0);
    out->delete = n / (now_sec() - t1);
    return 0;
}

/* ---------------------------------------------------------------------------------- */
/* Forwarding. */

/* Port 'id''s counter 'name' (-1 if unknown). */
static long long
port_counter(struct bench *b, int id, const char *name)
{
    json_t *result = NULL;
    struct ovnic_err err = {0};
    long long v = -1;
    if (nicsim_client_call(b->client, "ports", NULL, &result, &err)) {
        return -1;
    }
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(result, "ports"), i, p)
    {
        if (json_integer_value(json_object_get(p, "id")) == id) {
            v = json_integer_value(json_object_get(json_object_get(p, "stats"), name));
        }
    }
    json_decref(result);
    return v;
}

static long long
esw_counter(struct bench *b, const char *name)
{
    json_t *result = NULL;
    struct ovnic_err err = {0};
    if (nicsim_client_call(b->client, "stats", NULL, &result, &err)) {
        return -1;
    }
    long long v = json_integer_value(json_object_get(result, name));
    json_decref(result);
    return v;
}

struct fwd {
    double offered;   /* Packets per second the sim took from the representor. */
    double forwarded; /* Packets per second out of the expected port. */
    double processed; /* eSwitch lookups per second. */
};

/* Runs testpmd txonly on VF 0's representor for 'seconds' + 2 and measures the rates
 * over 'seconds', with the packets expected out of port 'out_port'. */
static int
fwd_run(struct bench *b, int seconds, int out_port, struct fwd *out)
{
    char cmd[PATH_MAX * 2], log[PATH_MAX + 16];
    snprintf(log, sizeof log, "%s/testpmd-%d.log", b->dir, out_port);
    snprintf(cmd, sizeof cmd,
             "(sleep %d; echo) | exec dpdk-testpmd --no-huge -m 256 --no-shconf --no-pci "
             "--no-telemetry --file-prefix bench-esw-tp-%d -l 0,1 --log-level='*:error' "
             "--vdev=net_memif0,role=client,socket=%s/memif/pf0vf0.sock,"
             "socket-abstract=no -- --forward-mode=txonly --txpkts=64 --nb-cores=1 "
             "--total-num-mbufs=8192",
             seconds + 3, (int)getpid(), b->run_dir);
    char *const argv[] = {"/bin/sh", "-c", cmd, NULL};
    pid_t tp = spawn(argv, log);
    if (tp <= 0) {
        return -1;
    }
    sleep_ms(2000); /* Start-up and connection of the memif. */
    long long rx0 = port_counter(b, VF0_PORT, "rep_rx_packets");
    long long tx0 = port_counter(b, out_port, "tx_packets");
    long long pk0 = esw_counter(b, "packets");
    double t0 = now_sec();
    sleep_ms(seconds * 1000);
    long long rx1 = port_counter(b, VF0_PORT, "rep_rx_packets");
    long long tx1 = port_counter(b, out_port, "tx_packets");
    long long pk1 = esw_counter(b, "packets");
    double dt = now_sec() - t0;
    int status = 0;
    for (int waited = 0; waited < 15000; waited += 50) {
        if (waitpid(tp, &status, WNOHANG) == tp) {
            tp = 0;
            break;
        }
        sleep_ms(50);
    }
    stop(tp, 2000);
    run("rm -rf /var/run/dpdk/bench-esw-tp-%d", (int)getpid());
    if (rx0 < 0 || rx1 < 0 || tx0 < 0 || tx1 < 0 || rx1 == rx0) {
        fprintf(stderr, "bench_esw_sim: no traffic from testpmd (see %s)\n", log);
        return -1;
    }
    out->offered = (double)(rx1 - rx0) / dt;
    out->forwarded = (double)(tx1 - tx0) / dt;
    out->processed = (double)(pk1 - pk0) / dt;
    return 0;
}

/* ---------------------------------------------------------------------------------- */

static double
ratio(double a, double b)
{
    return b > 0 ? a / b : 0;
}

int
main(int argc, char *argv[])
{
    bool json = false;
    uint32_t sizes[4] = {10000, 100000};
    size_t n_sizes = 2;
    int seconds = 5;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--format=json") ||
            (!strcmp(a, "--format") && i + 1 < argc && !strcmp(argv[++i], "json"))) {
            json = true;
        } else if (!strncmp(a, "--format", 8)) {
            continue; /* Text is the default. */
        } else if (!strcmp(a, "--rules") && i + 1 < argc) {
            n_sizes = 0;
            char *save = NULL, *copy = strdup(argv[++i]);
            for (char *t = strtok_r(copy, ",", &save); t && n_sizes < 4;
                 t = strtok_r(NULL, ",", &save)) {
                sizes[n_sizes++] = (uint32_t)strtoul(t, NULL, 10);
            }
            free(copy);
        } else if (!strcmp(a, "--seconds") && i + 1 < argc) {
            seconds = atoi(argv[++i]);
        } else {
            fprintf(stderr,
                    "usage: %s [--format json] [--rules N[,N...]] [--seconds S]\n",
                    argv[0]);
            return 2;
        }
    }
    if (seconds < 1 || seconds > 30) {
        seconds = 5;
    }
    if (geteuid()) {
        printf("bench_esw_sim: skipped (needs root for network namespaces)\n");
        return 0;
    }

    struct bench b;
    memset(&b, 0, sizeof b);
    int rc = 1;
    struct rates bulk[4], sync[4];
    memset(bulk, 0, sizeof bulk);
    memset(sync, 0, sizeof sync);
    struct fwd hit = {0}, miss = {0};
    bool have_fwd = false;
    struct esw_rule **rules = NULL;
    uint32_t max = 0;
    for (size_t s = 0; s < n_sizes; s++) {
        max = sizes[s] > max ? sizes[s] : max;
    }
    rules = calloc(max ? max : 1, sizeof *rules);
    if (!rules || bench_start(&b)) {
        goto out;
    }
    for (size_t s = 0; s < n_sizes; s++) {
        if (bulk_run(b.esw, sizes[s], rules, &bulk[s]) ||
            sync_run(b.esw, sizes[s], rules, &sync[s])) {
            goto out;
        }
    }

    /* Forwarding: VF 0's representor -> a rule -> VF 1, then the same packets with no
     * rule (miss: the represented port, VF 0). */
    struct rte_flow_item_ethdev rep = {.port_id = VF0_PORT};
    struct rte_flow_item items[] = {
        {.type = RTE_FLOW_ITEM_TYPE_PORT_REPRESENTOR, .spec = &rep, .mask = &port_mask},
        {.type = RTE_FLOW_ITEM_TYPE_END}};
    struct rte_flow_action_ethdev to_vf1 = {.port_id = VF1_PORT};
    struct rte_flow_action actions[] = {
        {.type = RTE_FLOW_ACTION_TYPE_COUNT},
        {.type = RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, .conf = &to_vf1},
        {.type = RTE_FLOW_ACTION_TYPE_END}};
    struct rte_flow_attr attr0 = {.transfer = 1};
    struct esw_rule *rule = NULL;
    struct esw_error err;
    esw_error_clear(&err);
    if (esw_rule_create(b.esw, &attr0, items, actions, NULL, &rule, &err)) {
        report_error("forwarding rule", &err);
        goto out;
    }
    int r1 = fwd_run(&b, seconds, VF1_PORT, &hit);
    struct esw_rule_stats st = {0};
    esw_rule_query(b.esw, rule, false, &st, NULL);
    esw_rule_destroy(b.esw, rule, NULL);
    int r2 = r1 ? r1 : fwd_run(&b, seconds, VF0_PORT, &miss);
    have_fwd = !r1 && !r2;
    rc = have_fwd ? 0 : 1;

out:
    bench_cleanup(&b);
    free(rules);
    if (json) {
        printf(
            "{\"bench\":\"esw_sim\",\"profile\":\"bf3\",\"push_every\":%d,\"insert\":[",
            PUSH_EVERY);
        for (size_t s = 0; s < n_sizes; s++) {
            printf("%s{\"rules\":%" PRIu32 ",\"bulk_insert_per_s\":%.0f,"
                   "\"sync_insert_per_s\":%.0f,\"bulk_delete_per_s\":%.0f,"
                   "\"sync_delete_per_s\":%.0f,\"failures\":%zu}",
                   s ? "," : "", sizes[s], bulk[s].insert, sync[s].insert, bulk[s].delete,
                   sync[s].delete, bulk[s].failures + sync[s].failures);
        }
        printf("],\"forward\":{\"rule_pps\":%.0f,\"rule_offered_pps\":%.0f,"
               "\"miss_pps\":%.0f,\"miss_offered_pps\":%.0f}}\n",
               hit.forwarded, hit.offered, miss.forwarded, miss.offered);
    } else {
        printf("%-28s %14s %14s %8s\n", "esw_sim (bf3)", "bulk path", "sync path",
               "ratio");
        for (size_t s = 0; s < n_sizes; s++) {
            char what[64];
            snprintf(what, sizeof what, "insert %" PRIu32 " rules/s", sizes[s]);
            printf("%-28s %14.0f %14.0f %8.2f\n", what, bulk[s].insert, sync[s].insert,
                   ratio(bulk[s].insert, sync[s].insert));
            snprintf(what, sizeof what, "delete %" PRIu32 " rules/s", sizes[s]);
            printf("%-28s %14.0f %14.0f %8.2f\n", what, bulk[s].delete, sync[s].delete,
                   ratio(bulk[s].delete, sync[s].delete));
            if (bulk[s].failures || sync[s].failures) {
                printf("  (%zu operations failed)\n",
                       bulk[s].failures + sync[s].failures);
            }
        }
        printf("\n%-28s %14s %14s %8s\n", "forwarding (64 B, memif)", "rule hit", "miss",
               "ratio");
        printf("%-28s %14.0f %14.0f %8.2f\n", "taken from representor pps", hit.offered,
               miss.offered, ratio(hit.offered, miss.offered));
        printf("%-28s %14.0f %14.0f %8.2f\n", "forwarded to VF pps", hit.forwarded,
               miss.forwarded, ratio(hit.forwarded, miss.forwarded));
        printf("%-28s %14.0f %14.0f %8.2f\n", "eSwitch lookups/s", hit.processed,
               miss.processed, ratio(hit.processed, miss.processed));
        if (have_fwd) {
            printf("rule counter: %" PRIu64 " packets\n", st.packets);
        }
    }
    return rc;
}
