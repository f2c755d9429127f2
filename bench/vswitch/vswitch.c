/* ovnic benchmark: forwarding rate per core of ovnic's DPDK vswitch beside OVS-DPDK
 * driven by a real ovn-controller, on the same SB, topology and packets.
 *
 * Setup, in a fresh directory: OVN central (scripts/ovn-central.sh) with reference
 * topology 01 (tests/topologies/01-l2-switch.sh: logical switch l2-sw, VIFs l2-vm1,
 * l2-vm2, l2-vm3 and a port for unknown MACs), made with ovn-nbctl.  The representors
 * here are "vm1" (logical port l2-vm1) and "vm2" (l2-vm2).  For each flow count N
 * (default 1,000 and 100,000) a pcap file of N valid frames from l2-vm1 to l2-vm2
 * (Ethernet, IPv4, UDP with valid checksums, 60 bytes; N distinct UDP port pairs, so N
 * flows) is written.  vm1 is a net_pcap port replaying that file forever (infinite_rx=1);
 * vm2 is a net_null port that receives nothing (no-rx=1) and drops what it is sent.  Each
 * system forwards on one core:
 *
 *   ovnic   chassis "hv-ovnic", one datapath lcore.  By default (--ovnic=daemon) the
 *           real ovnic-dpud of this build tree (BUILD/dpu/daemon/ovnic-dpud) with
 *           datapath = dpdk: vm1 and vm2 are added with "ovnicctl dpud port-add
 *           --devargs=...", it claims them and builds its pipeline from the SB, and
 *           its counters are read on its control socket.  With --ovnic=inprocess, the
 *           vswitch library (dpu/vswitch/vswitch.h) runs in this process instead: its
 *           pipeline is built from an SB replica (ovsdb_cs) after the two ports are
 *           bound to it in the SB.
 *   OVS     ovs-vswitchd-dpdk (userspace datapath, one PMD thread, pmd-cpu-mask of
 *           one CPU) with a real ovn-controller as chassis "hv-ovs", bound with
 *           external_ids:iface-id; ovnic's chassis is deleted first.
 *
 * After a warm-up, packets sent on vm2 are counted over a fixed window, together with
 * the CPU time of the forwarding thread (the ovnic lcore, the OVS PMD thread): the rate
 * per core is packets per CPU-second of that thread, so a preempted thread on a
 * shared machine does not lower it.  Both use the same EAL memory (--no-huge unless
 * enough free hugepages are mounted).
 *
 * Prints a table and a JSON line (only the JSON line with --format=json).  Asserts
 * nothing about time.  Needs root (exit 77 without). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/lib/bench_util.h"
#include "dpu/ovsdb/cs.h"
#include "dpu/ovsdb/datum.h"
#include "dpu/ovsdb/replica.h"
#include "dpu/pipeline/ctrl.h"
#include "dpu/vswitch/vswitch.h"
#include "shared/util/log.h"
#include "shared/util/poll.h"
#include "shared/util/rpc_client.h"
#include "shared/util/util.h"

#define PROG "bench_vswitch"
#define MAX_SIZES 4
#define SYNC_TIMEOUT_MS 60000
#define OVS_VSWITCHD "/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk"
#define OVS_SCHEMA "/usr/share/openvswitch/vswitch.ovsschema"
#define FRAME_LEN 60
#define OVNIC_CHASSIS "hv-ovnic"
#define OVNIC_ENCAP_IP "192.0.2.10"
#define OVS_CHASSIS "hv-ovs"

/* Reference topology 01 (tests/topologies/01-l2-switch.sh): logical switch l2-sw;
 * traffic from l2-vm1 to l2-vm2, whose representors here are "vm1" and "vm2". */
#define TOPOLOGY_SCRIPT "tests/topologies/01-l2-switch.sh"
#define LPORT1 "l2-vm1"
#define LPORT2 "l2-vm2"
static const uint8_t VM1_MAC[6] = {0x0a, 0x00, 0x00, 0x01, 0x00, 0x11};
static const uint8_t VM2_MAC[6] = {0x0a, 0x00, 0x00, 0x01, 0x00, 0x12};
static const uint32_t VM1_IP = 0x0a01000b; /* 10.1.0.11 */
static const uint32_t VM2_IP = 0x0a01000c; /* 10.1.0.12 */

enum { SYS_OVNIC, SYS_OVS, N_SYS };
static const char *const sys_names[N_SYS] = {"ovnic", "OVS-DPDK"};

struct bench_opts {
    long flows[MAX_SIZES];
    int n_flows;
    double duration_s;
    double warmup_s;
    int memory_mb;
    int hugepages; /* -1 auto, 0 no, 1 yes. */
    bool run[N_SYS];
    bool json_only;
    bool inprocess; /* --ovnic=inprocess: the vswitch library in this process. */
};

/* One system at one flow count. */
struct measure {
    bool done;
    char error[256]; /* Empty if it worked. */
    double wall_s;
    double cpu_s; /* Forwarding thread; < 0 if it could not be read. */
    uint64_t tx;  /* Packets sent on vm2 in the window. */
    uint64_t rx;  /* Packets received on vm1 in the window. */
    /* Where the packets were classified, in the window. */
    uint64_t exact_hits;  /* ovnic EMC, OVS EMC + SMC (+ simple match). */
    uint64_t masked_hits; /* ovnic megaflow (masked) hits, OVS megaflow hits. */
    uint64_t misses;      /* ovnic walks, OVS upcalls. */
    uint64_t megaflows;   /* Cached megaflows at the end of the window. */
};

static struct {
    char dir[64];
    char source[PATH_MAX + 64];
    char build[PATH_MAX];         /* The build tree this program comes from. */
    char dpud[PATH_MAX + 32];     /* BUILD/dpu/daemon/ovnic-dpud */
    char ovnicctl[PATH_MAX + 32]; /* BUILD/tools/ovnicctl/ovnicctl */
    char central[PATH_MAX + 96];
    char nb[256];
    char sb[256];
    char eal_mem[128]; /* EAL memory arguments, the same for both systems. */
    char ovs_prefix[64];
    struct bench_watcher watcher;
    bool json_only;
    struct measure m[MAX_SIZES][N_SYS];
} g = {.watcher = {.pid = -1, .write_fd = -1}};

static void fail(const char *fmt, ...) OVNIC_PRINTF(1, 2);

static void
fail(const char *fmt, ...)
{
    va_list args;

    fprintf(stderr, PROG ": ");
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fputc('\n', stderr);
}

static void progress(const char *fmt, ...) OVNIC_PRINTF(1, 2);

static void
progress(const char *fmt, ...)
{
    va_list args;

    if (g.json_only) {
        return;
    }
    fprintf(stderr, PROG ": ");
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fputc('\n', stderr);
}

static void merr(struct measure *m, const char *fmt, ...) OVNIC_PRINTF(2, 3);

/* Records why a measurement failed (and says so on stderr). */
static void
merr(struct measure *m, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    vsnprintf(m->error, sizeof m->error, fmt, args);
    va_end(args);
    m->done = true;
    fail("%s", m->error);
}

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sleep_s(double s)
{
    struct timespec ts;

    if (s <= 0) {
        return;
    }
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    nanosleep(&ts, NULL);
}

/* ---- Files and processes ---- */

static int
find_source(void)
{
    if (bench_find_source(g.source, sizeof g.source)) {
        return -ENOENT;
    }
    snprintf(g.central, sizeof g.central, "%s/scripts/ovn-central.sh", g.source);
    return access(g.central, X_OK) ? -ENOENT : 0;
}

/* The build tree: $OVNIC_BUILD_DIR, else the one this program runs from
 * (BUILD/bench/bench_vswitch); then ovnic-dpud and ovnicctl in it. */
static int
find_build(void)
{
    const char *env = getenv("OVNIC_BUILD_DIR");

    if (env && *env) {
        snprintf(g.build, sizeof g.build, "%s", env);
    } else {
        ssize_t n = readlink("/proc/self/exe", g.build, sizeof g.build - 1);
        if (n <= 0) {
            return -ENOENT;
        }
        g.build[n] = '\0';
        for (int i = 0; i < 2; i++) {
            char *slash = strrchr(g.build, '/');
            if (!slash) {
                return -ENOENT;
            }
            *slash = '\0';
        }
    }
    snprintf(g.dpud, sizeof g.dpud, "%s/dpu/daemon/ovnic-dpud", g.build);
    snprintf(g.ovnicctl, sizeof g.ovnicctl, "%s/tools/ovnicctl/ovnicctl", g.build);
    return access(g.dpud, X_OK) || access(g.ovnicctl, X_OK) ? -ENOENT : 0;
}

/* Starts the watcher (bench_util.h) that, once this process is gone however it ended,
 * stops every daemon with a pidfile in the run directory (the central, ovsdb-server,
 * ovs-vswitchd, ovn-controller) and removes the directory and OVS-DPDK's EAL runtime
 * directory. */
static int
watcher_start(void)
{
    char eal_dir[PATH_MAX];

    snprintf(eal_dir, sizeof eal_dir, "/var/run/dpdk/%s", g.ovs_prefix);
    return bench_watcher_start(&g.watcher, g.central, g.dir, eal_dir);
}

static void
watcher_finish(void)
{
    bench_watcher_finish(&g.watcher);
}

static int run_cmd(char *out, size_t size, const char *fmt, ...) OVNIC_PRINTF(3, 4);

/* Runs a shell command (bench_run_cmdv()): with 'out', its whole output (at most 'size' -
 * 1 bytes) goes there; otherwise stdout is discarded.  Returns its exit status, or -1. */
static int
run_cmd(char *out, size_t size, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    int status = bench_run_cmdv(out, size, false, fmt, args);
    va_end(args);
    return status;
}

static pid_t
read_pidfile(const char *name)
{
    char path[PATH_MAX];
    long pid = -1;
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", g.dir, name);
    f = fopen(path, "r");
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1) {
            pid = -1;
        }
        fclose(f);
    }
    return pid > 0 ? (pid_t)pid : -1;
}

/* Sends SIGTERM to 'pid' (a daemon this program started, not its child) and waits
 * until it is gone, SIGKILL after 10 s. */
static void
pid_stop(pid_t pid)
{
    double deadline;

    if (pid <= 0) {
        return;
    }
    kill(pid, SIGTERM);
    deadline = now_s() + 10;
    while (!kill(pid, 0) || errno != ESRCH) {
        if (now_s() > deadline) {
            kill(pid, SIGKILL);
            deadline = now_s() + 5;
        }
        sleep_s(0.02);
    }
}

/* CPU seconds (user + system) of the threads of 'pid' ("self" for 0) whose name starts
 * with 'prefix'; -1 if there is none. */
static double
thread_cpu_s(pid_t pid, const char *prefix)
{
    char path[320], line[512];
    double total = -1;
    struct dirent *de;
    DIR *d;

    if (pid) {
        snprintf(path, sizeof path, "/proc/%ld/task", (long)pid);
    } else {
        snprintf(path, sizeof path, "/proc/self/task");
    }
    d = opendir(path);
    if (!d) {
        return -1;
    }
    while ((de = readdir(d))) {
        unsigned long ut, st;
        char *p;
        FILE *f;

        if (de->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof path, "/proc/%ld/task/%s/stat",
                 pid ? (long)pid : (long)getpid(), de->d_name);
        f = fopen(path, "r");
        if (!f) {
            continue;
        }
        if (fgets(line, sizeof line, f) && (p = strrchr(line, ')'))) {
            char *name = strchr(line, '(');
            *p = '\0';
            if (name && !strncmp(name + 1, prefix, strlen(prefix)) &&
                sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
                       &st) == 2) {
                total = (total < 0 ? 0 : total) +
                        (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
            }
        }
        fclose(f);
    }
    closedir(d);
    return total;
}

/* ---- The packets ---- */

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static void
put32le(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* Flow 'i': vm1 → vm2, UDP from port 1024 + i % 60000 to 5000 + i / 60000, 18 bytes
 * of payload, valid IPv4 and UDP checksums. */
static void
frame_build(uint8_t f[FRAME_LEN], long i)
{
    uint8_t *ip = f + 14, *udp = ip + 20;
    uint16_t udp_len = FRAME_LEN - 14 - 20;
    uint32_t pseudo;

    memset(f, 0, FRAME_LEN);
    memcpy(f, VM2_MAC, 6);
    memcpy(f + 6, VM1_MAC, 6);
    put16(f + 12, 0x0800);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(20 + udp_len));
    put16(ip + 4, (uint16_t)i);
    ip[8] = 64;
    ip[9] = 17;
    put32(ip + 12, VM1_IP);
    put32(ip + 16, VM2_IP);
    put16(ip + 10, ctrl_csum(ip, 20, 0));
    put16(udp, (uint16_t)(1024 + i % 60000));
    put16(udp + 2, (uint16_t)(5000 + i / 60000));
    put16(udp + 4, udp_len);
    memcpy(udp + 8, "ovnic-bench-vswitch", 18);
    pseudo = (VM1_IP >> 16) + (VM1_IP & 0xffff) + (VM2_IP >> 16) + (VM2_IP & 0xffff) +
             17 + udp_len;
    uint16_t csum = ctrl_csum(udp, udp_len, pseudo);
    put16(udp + 6, csum ? csum : 0xffff);
}

/* Writes DIR/flows-N.pcap (classic pcap, microsecond timestamps, Ethernet). */
static int
pcap_write(long n, char *path, size_t size)
{
    uint8_t hdr[24] = {0}, rec[16], frame[FRAME_LEN];
    FILE *f;

    snprintf(path, size, "%s/flows-%ld.pcap", g.dir, n);
    f = fopen(path, "wb");
    if (!f) {
        fail("%s: %s", path, strerror(errno));
        return -errno;
    }
    put32le(hdr, 0xa1b2c3d4);
    hdr[4] = 2; /* Version 2.4. */
    hdr[6] = 4;
    put32le(hdr + 16, 65535); /* Snap length. */
    put32le(hdr + 20, 1);     /* LINKTYPE_ETHERNET. */
    fwrite(hdr, 1, sizeof hdr, f);
    for (long i = 0; i < n; i++) {
        put32le(rec, (uint32_t)(i / 1000000));
        put32le(rec + 4, (uint32_t)(i % 1000000));
        put32le(rec + 8, FRAME_LEN);
        put32le(rec + 12, FRAME_LEN);
        frame_build(frame, i);
        fwrite(rec, 1, sizeof rec, f);
        fwrite(frame, 1, sizeof frame, f);
    }
    bool bad = ferror(f);
    if (fclose(f) || bad) {
        fail("%s: write failed", path);
        return -EIO;
    }
    return 0;
}

static void
pcap_path(long n, char *path, size_t size)
{
    snprintf(path, size, "%s/flows-%ld.pcap", g.dir, n);
}

/* ---- OVN central and the topology ---- */

static int
central_start(void)
{
    char out[256];

    if (run_cmd(g.sb, sizeof g.sb, "'%s' start-sb %s", g.central, g.dir) ||
        run_cmd(g.nb, sizeof g.nb, "'%s' start-nb %s", g.central, g.dir) ||
        run_cmd(out, sizeof out, "'%s' start-northd %s", g.central, g.dir)) {
        fail("cannot start OVN central in %s", g.dir);
        return -1;
    }
    if (run_cmd(NULL, 0, "'%s/" TOPOLOGY_SCRIPT "' %s", g.source, g.nb) ||
        run_cmd(NULL, 0, "ovn-nbctl --db=%s --timeout=60 --wait=sb sync", g.nb)) {
        fail("cannot create reference topology %s with ovn-nbctl", TOPOLOGY_SCRIPT);
        return -1;
    }
    return 0;
}

/* ---- ovnic: the vswitch in this process ---- */

struct txn_wait {
    bool done;
    int error;
};

static void
txn_done(void *aux, int error, const json_t *result, const char *errmsg)
{
    struct txn_wait *t = aux;
    size_t i;
    json_t *op;

    t->done = true;
    t->error = error;
    if (error) {
        fail("SB transaction: %s", errmsg ? errmsg : strerror(-error));
        return;
    }
    json_array_foreach(result, i, op)
    {
        json_t *e = json_object_get(op, "error");
        if (e) {
            fail("SB transaction: operation %zu: %s", i, json_string_value(e));
            t->error = -EPROTO;
            return;
        }
    }
}

/* Port_Binding rows vm1 and vm2 bound to 'chassis' (or to none, if NULL). */
static int
count_bound(struct ovsdb_cs *cs, const char *chassis)
{
    const struct ovsdb_replica *r = ovsdb_cs_replica(cs);
    const struct ovsdb_replica_table *pb = ovsdb_replica_table(r, "Port_Binding");
    const struct ovsdb_replica_table *ch = ovsdb_replica_table(r, "Chassis");
    const struct ovsdb_row *row;
    int n = 0;

    if (!pb || !ch) {
        return 0;
    }
    OVSDB_TABLE_FOR_EACH_ROW (row, pb) {
        const struct ovsdb_datum *lp = ovsdb_row_get(row, "logical_port");
        const struct ovsdb_datum *c = ovsdb_row_get(row, "chassis");
        const struct ovsdb_row *crow;
        const char *name;

        if (!lp || lp->n != 1 || lp->key_type != OVSDB_TYPE_STRING) {
            continue;
        }
        name = lp->keys[0].string;
        if (strcmp(name, LPORT1) && strcmp(name, LPORT2)) {
            continue;
        }
        if (!chassis) {
            n += !c || c->n == 0;
            continue;
        }
        if (!c || c->n != 1) {
            continue;
        }
        crow = ovsdb_replica_table_find(ch, &c->keys[0].uuid);
        if (crow) {
            const struct ovsdb_datum *cn = ovsdb_row_get(crow, "name");
            n += cn && cn->n == 1 && !strcmp(cn->keys[0].string, chassis);
        }
    }
    return n;
}

/* Runs 'ops' (taken) on the SB and waits until the reply has come and vm1 and vm2
 * are bound to 'chassis' (NULL: to none) in the replica. */
static int
sb_transact_wait(struct poll_loop *loop, struct ovsdb_cs *cs, json_t *ops,
                 const char *chassis)
{
    struct txn_wait t = {0};
    double deadline = now_s() + SYNC_TIMEOUT_MS / 1000.0;

    if (ovsdb_cs_transact(cs, ops, txn_done, &t)) {
        fail("cannot send an SB transaction");
        return -EIO;
    }
    while (!t.done || count_bound(cs, chassis) != 2) {
        if (t.error) {
            return t.error;
        }
        if (now_s() > deadline) {
            fail("SB: vm1 and vm2 not %s %s after %d ms",
                 chassis ? "bound to" : "unbound", chassis ? chassis : "",
                 SYNC_TIMEOUT_MS);
            return -ETIMEDOUT;
        }
        poll_loop_run_once(loop, 100);
    }
    return 0;
}

static json_t *
bind_ops(void)
{
    json_t *ops = json_array();

    json_array_append_new(ops, json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:s,s:[s,[[s,s]]]}}",
                                         "op", "insert", "table", "Encap", "uuid-name",
                                         "encap", "row", "type", "geneve", "ip",
                                         "192.0.2.10", "chassis_name", OVNIC_CHASSIS,
                                         "options", "map", "csum", "true"));
    json_array_append_new(ops, json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:[s,s]}}", "op",
                                         "insert", "table", "Chassis", "uuid-name", "ch",
                                         "row", "name", OVNIC_CHASSIS, "hostname",
                                         OVNIC_CHASSIS, "encaps", "named-uuid", "encap"));
    for (int i = 1; i <= 2; i++) {
        char lp[8];
        snprintf(lp, sizeof lp, "l2-vm%d", i);
        json_array_append_new(ops, json_pack("{s:s,s:s,s:[[s,s,s]],s:{s:[s,s]}}", "op",
                                             "update", "table", "Port_Binding", "where",
                                             "logical_port", "==", lp, "row", "chassis",
                                             "named-uuid", "ch"));
    }
    return ops;
}

/* Deleting the chassis clears Port_Binding.chassis (a weak reference); the Encap row
 * goes with it (not a root table). */
static json_t *
unbind_ops(void)
{
    json_t *ops = json_array();

    json_array_append_new(ops,
                          json_pack("{s:s,s:s,s:[[s,s,s]]}", "op", "delete", "table",
                                    "Chassis", "where", "name", "==", OVNIC_CHASSIS));
    return ops;
}

static int64_t
jint(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

/* Counter 'key' of port 'name' in vswitch_ports_json(). */
static uint64_t
vs_port_counter(const struct vswitch *vs, const char *name, const char *key)
{
    json_t *ports = vswitch_ports_json(vs), *p;
    uint64_t v = 0;
    size_t i;

    json_array_foreach(ports, i, p)
    {
        if (json_is_string(json_object_get(p, "name")) &&
            !strcmp(json_string_value(json_object_get(p, "name")), name)) {
            v = (uint64_t)jint(p, key);
        }
    }
    json_decref(ports);
    return v;
}

struct ovnic_sample {
    double t;
    double cpu;
    uint64_t tx, rx, emc, megaflow, walks, megaflows;
};

static void
ovnic_sample(const struct vswitch *vs, const char *lcore_name, struct ovnic_sample *s)
{
    json_t *st = vswitch_stats_json(vs);

    s->t = now_s();
    s->cpu = thread_cpu_s(0, lcore_name);
    s->tx = vs_port_counter(vs, "vm2", "tx_packets");
    s->rx = vs_port_counter(vs, "vm1", "rx_packets");
    s->emc = (uint64_t)jint(st, "emc_hits");
    s->megaflow = (uint64_t)jint(st, "megaflow_hits");
    s->walks = (uint64_t)jint(st, "walks");
    s->megaflows = (uint64_t)jint(st, "megaflows");
    json_decref(st);
}

/* Keeps the SB session and the vswitch's housekeeping going for 's' seconds. */
static void
ovnic_serve(struct poll_loop *loop, struct vswitch *vs, double s)
{
    double end = now_s() + s;

    while (now_s() < end) {
        poll_loop_run_once(loop, 50);
        vswitch_run(vs);
    }
}

/* The name of the datapath lcore's thread: DPDK names its workers "rte-worker-N"
 * (22.11) or "lcore-worker-N" (older releases).  Empty if neither is found. */
static void
ovnic_lcore_name(const struct vswitch *vs, char *buf, size_t size)
{
    json_t *st = vswitch_stats_json(vs);
    int64_t lcore = jint(st, "lcore");
    const char *const forms[] = {"rte-worker-%" PRId64, "lcore-worker-%" PRId64};

    json_decref(st);
    for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
        snprintf(buf, size, forms[i], lcore);
        if (thread_cpu_s(0, buf) >= 0) {
            return;
        }
    }
    buf[0] = '\0';
}

static void
ovnic_measure_one(struct poll_loop *loop, struct vswitch *vs, const struct bench_opts *o,
                  long flows, struct measure *m)
{
    char path[PATH_MAX], devargs[PATH_MAX + 96], lcore[32], buf[256];
    struct ovnic_err err = {0};
    struct ovnic_sample a, b;
    int rc;

    pcap_path(flows, path, sizeof path);
    snprintf(devargs, sizeof devargs, "net_pcap_bv%ld,rx_pcap=%s,infinite_rx=1", flows,
             path);
    rc = vswitch_port_add(vs, "vm1", devargs, LPORT1, &err);
    if (rc) {
        merr(m, "ovnic: cannot attach vm1 (%s): %s", devargs,
             ovnic_err_is_set(&err) ? ovnic_err_format(&err, buf, sizeof buf)
                                    : strerror(-rc));
        return;
    }
    ovnic_lcore_name(vs, lcore, sizeof lcore);
    ovnic_serve(loop, vs, o->warmup_s);
    ovnic_sample(vs, lcore, &a);
    ovnic_serve(loop, vs, o->duration_s);
    ovnic_sample(vs, lcore, &b);
    m->done = true;
    m->wall_s = b.t - a.t;
    m->cpu_s = lcore[0] && a.cpu >= 0 && b.cpu >= 0 ? b.cpu - a.cpu : -1;
    m->tx = b.tx - a.tx;
    m->rx = b.rx - a.rx;
    m->exact_hits = b.emc - a.emc;
    /* "megaflow_hits" counts exact-match and masked hits together. */
    /* The two counters are sampled one after the other: never below zero. */
    uint64_t all_hits = b.megaflow - a.megaflow;
    m->masked_hits = all_hits > m->exact_hits ? all_hits - m->exact_hits : 0;
    m->misses = b.walks - a.walks;
    m->megaflows = b.megaflows;
    if (!m->tx) {
        json_t *st = vswitch_stats_json(vs);
        char *drops = json_dumps(json_object_get(st, "drops"), JSON_COMPACT);
        merr(m, "ovnic forwarded nothing to vm2 (%" PRIu64 " received on vm1; drops %s)",
             m->rx, drops ? drops : "?");
        free(drops);
        json_decref(st);
    }
    rc = vswitch_port_del(vs, "vm1");
    if (rc) {
        fail("ovnic: cannot detach vm1: %s", strerror(-rc));
    }
}

static unsigned int
n_mbufs_for(const struct bench_opts *o)
{
    long max = 0;
    unsigned int n = 1;

    for (int i = 0; i < o->n_flows; i++) {
        max = MAX(max, o->flows[i]);
    }
    /* net_pcap holds the whole file in mbufs of the port's pool (infinite_rx); the
     * rest is for descriptors and bursts in flight. */
    while ((long)n - 1 < max + 16384) {
        n <<= 1;
    }
    return n - 1;
}

/* Reports 'what', a failure of system 'sys' as a whole, and records it for every flow
 * count that has no result yet. */
static void
fail_all(const struct bench_opts *o, int sys, const char *what)
{
    const char *name = sys == SYS_OVNIC ? "ovnic" : "OVS-DPDK";

    fail("%s: %s", name, what);
    for (int i = 0; i < o->n_flows; i++) {
        struct measure *m = &g.m[i][sys];
        if (!m->done) {
            snprintf(m->error, sizeof m->error, "%s: %.240s", name, what);
            m->done = true;
        }
    }
}

static void
ovnic_run(const struct bench_opts *o)
{
    struct ovsdb_cs_config cscfg = {
        .remotes = g.sb,
        .database = "OVN_Southbound",
        .monitor_all = true,
    };
    struct vswitch_config vcfg = {
        .chassis = OVNIC_CHASSIS,
        .eal_args = g.eal_mem,
        .n_mbufs = n_mbufs_for(o),
    };
    struct poll_loop *loop = NULL;
    struct ovsdb_cs *cs = NULL;
    struct vswitch *vs = NULL;
    struct ovnic_err err = {0};
    char buf[256], what[300] = "";
    bool bound = false;
    double deadline;
    int64_t gen;
    int rc;

    progress("ovnic: binding vm1 and vm2 to chassis %s and starting the vswitch",
             OVNIC_CHASSIS);
    if (poll_loop_create(&loop) || ovsdb_cs_create(loop, &cscfg, &cs, &err)) {
        snprintf(what, sizeof what, "cannot create the SB client session");
        goto out;
    }
    deadline = now_s() + SYNC_TIMEOUT_MS / 1000.0;
    while (!ovsdb_cs_is_synced(cs)) {
        if (now_s() > deadline) {
            snprintf(what, sizeof what, "SB replica not synchronised after %d ms",
                     SYNC_TIMEOUT_MS);
            goto out;
        }
        poll_loop_run_once(loop, 100);
    }
    if (sb_transact_wait(loop, cs, bind_ops(), OVNIC_CHASSIS)) {
        snprintf(what, sizeof what, "cannot bind vm1 and vm2 to %s", OVNIC_CHASSIS);
        goto out;
    }
    bound = true;
    rc = vswitch_create(&vcfg, &vs, &err);
    if (rc) {
        snprintf(what, sizeof what, "vswitch_create (EAL '%s', %u mbufs): %s", g.eal_mem,
                 vcfg.n_mbufs,
                 ovnic_err_is_set(&err) ? ovnic_err_format(&err, buf, sizeof buf)
                                        : strerror(-rc));
        goto out;
    }
    gen = vswitch_pipeline_sync(vs, ovsdb_cs_replica(cs), &err);
    if (gen <= 0) {
        snprintf(what, sizeof what, "vswitch_pipeline_sync: %s",
                 ovnic_err_is_set(&err) ? ovnic_err_format(&err, buf, sizeof buf)
                                        : strerror((int)-gen));
        goto out;
    }
    deadline = now_s() + 5;
    while (vswitch_generation_live(vs) != (uint64_t)gen) {
        if (now_s() > deadline) {
            snprintf(what, sizeof what, "the datapath did not take the pipeline in 5 s");
            goto out;
        }
        sleep_s(0.001);
    }
    vswitch_run(vs);
    rc = vswitch_port_add(vs, "vm2", "net_null_bvsink,no-rx=1", LPORT2, &err);
    if (rc) {
        snprintf(what, sizeof what, "cannot attach vm2 (net_null_bvsink,no-rx=1): %s",
                 ovnic_err_is_set(&err) ? ovnic_err_format(&err, buf, sizeof buf)
                                        : strerror(-rc));
        goto out;
    }
    for (int i = 0; i < o->n_flows; i++) {
        progress("ovnic: %ld flows: %.0f s warm-up, %.0f s measured", o->flows[i],
                 o->warmup_s, o->duration_s);
        ovnic_measure_one(loop, vs, o, o->flows[i], &g.m[i][SYS_OVNIC]);
    }

out:
    if (what[0]) {
        fail_all(o, SYS_OVNIC, what);
    }
    vswitch_destroy(vs);
    if (bound && sb_transact_wait(loop, cs, unbind_ops(), NULL)) {
        fail("ovnic: cannot delete chassis %s from the SB", OVNIC_CHASSIS);
    }
    ovsdb_cs_destroy(cs);
    poll_loop_destroy(loop);
}

/* ---- ovnic: ovnic-dpud with datapath = dpdk ---- */

/* One request on the daemon's control socket: its "result" (caller owns), or NULL
 * ('why' says why). */
static json_t *
dpud_call(struct rpc_client *rpc, const char *method, char *why, size_t size)
{
    json_t *reply = NULL, *result = NULL;
    struct ovnic_err err = {0};
    char buf[256];
    int rc = rpc_client_call(rpc, method, NULL, &reply, &err);

    if (rc) {
        snprintf(why, size, "%s: %s", method,
                 ovnic_err_is_set(&err) ? ovnic_err_format(&err, buf, sizeof buf)
                                        : strerror(-rc));
    } else if (!json_is_null(json_object_get(reply, "error")) &&
               json_object_get(reply, "error")) {
        char *e = json_dumps(json_object_get(reply, "error"), JSON_COMPACT);
        snprintf(why, size, "%s: %s", method, e ? e : "error");
        free(e);
    } else {
        result = json_incref(json_object_get(reply, "result"));
    }
    json_decref(reply);
    return result;
}

/* The object of port 'name' in a "dp-ports" result, or NULL. */
static const json_t *
dp_port(const json_t *ports, const char *name)
{
    size_t i;
    const json_t *p;

    json_array_foreach(ports, i, p)
    {
        const char *n = json_string_value(json_object_get(p, "name"));
        if (n && !strcmp(n, name)) {
            return p;
        }
    }
    return NULL;
}

/* The state ("up", "claiming"...) of representor 'name' in a "port-list" result. */
static const char *
vif_state(const json_t *vifs, const char *name)
{
    size_t i;
    const json_t *v;

    json_array_foreach(vifs, i, v)
    {
        const char *rep = json_string_value(json_object_get(v, "representor"));
        if (rep && !strcmp(rep, name)) {
            return json_string_value(json_object_get(v, "state"));
        }
    }
    return NULL;
}

/* Waits until representor 'name' is attached with 'devargs' (NULL: detached) and, if
 * attached, its port is "up" in the binding table.  0 or -ETIMEDOUT ('why' set). */
static int
dpud_wait_port(struct rpc_client *rpc, const char *name, const char *devargs, char *why,
               size_t size)
{
    double deadline = now_s() + SYNC_TIMEOUT_MS / 1000.0;

    for (;;) {
        json_t *ports = dpud_call(rpc, "dp-ports", why, size);
        json_t *vifs = ports ? dpud_call(rpc, "port-list", why, size) : NULL;
        const json_t *p = dp_port(ports, name);
        const char *have = json_string_value(json_object_get(p, "devargs"));
        const char *state = vif_state(vifs, name);
        bool done = devargs
                        ? have && !strcmp(have, devargs) && state && !strcmp(state, "up")
                        : ports && !p;
        json_decref(ports);
        json_decref(vifs);
        if (done) {
            return 0;
        }
        if (now_s() > deadline) {
            if (!why[0]) {
                snprintf(why, size,
                         "%s not %s after %d ms (state %s; see %s/ovnic-dpud.log)", name,
                         devargs ? "attached and up" : "detached", SYNC_TIMEOUT_MS,
                         state ? state : "none", g.dir);
            }
            return -ETIMEDOUT;
        }
        why[0] = '\0';
        sleep_s(0.1);
    }
}

struct dpud_sample {
    double t;
    double cpu;
    uint64_t tx, rx, emc, megaflow, walks, megaflows;
    int64_t lcore;
};

static int
dpud_sample(struct rpc_client *rpc, pid_t pid, const char *lcore_name,
            struct dpud_sample *s, char *why, size_t size)
{
    s->t = now_s();
    s->cpu = lcore_name[0] ? thread_cpu_s(pid, lcore_name) : -1;
    json_t *ports = dpud_call(rpc, "dp-ports", why, size);
    json_t *st = ports ? dpud_call(rpc, "dp-stats", why, size) : NULL;
    if (!st) {
        json_decref(ports);
        return -EIO;
    }
    s->tx = (uint64_t)jint(dp_port(ports, "vm2"), "tx_packets");
    s->rx = (uint64_t)jint(dp_port(ports, "vm1"), "rx_packets");
    s->emc = (uint64_t)jint(st, "emc_hits");
    s->megaflow = (uint64_t)jint(st, "megaflow_hits");
    s->walks = (uint64_t)jint(st, "walks");
    s->megaflows = (uint64_t)jint(st, "megaflows");
    s->lcore = json_is_integer(json_object_get(st, "lcore")) ? jint(st, "lcore") : -1;
    json_decref(ports);
    json_decref(st);
    return 0;
}

/* The name of the daemon's datapath lcore thread (see ovnic_lcore_name()). */
static void
dpud_lcore_name(pid_t pid, int64_t lcore, char *buf, size_t size)
{
    const char *const forms[] = {"rte-worker-%" PRId64, "lcore-worker-%" PRId64};

    for (size_t i = 0; lcore >= 0 && i < ARRAY_SIZE(forms); i++) {
        snprintf(buf, size, forms[i], lcore);
        if (thread_cpu_s(pid, buf) >= 0) {
            return;
        }
    }
    buf[0] = '\0';
}

/* "ovnicctl dpud" on the daemon of the run directory: the arguments g.dir and
 * g.ovnicctl, then the command. */
#define OVNICCTL_DPUD "OVNIC_RUNDIR=%s '%s' dpud"

static void
dpud_measure_one(struct rpc_client *rpc, pid_t pid, const struct bench_opts *o,
                 long flows, struct measure *m)
{
    char path[PATH_MAX], devargs[PATH_MAX + 96], lcore[32], why[512] = "", out[512];
    struct dpud_sample a, b;

    pcap_path(flows, path, sizeof path);
    snprintf(devargs, sizeof devargs, "net_pcap_bv%ld,rx_pcap=%s,infinite_rx=1", flows,
             path);
    if (run_cmd(out, sizeof out,
                OVNICCTL_DPUD " port-add vm1 --iface-id=" LPORT1 " '--devargs=%s' 2>&1",
                g.dir, g.ovnicctl, devargs)) {
        merr(m, "ovnic: ovnicctl dpud port-add vm1 failed: %s", out);
        return;
    }
    if (dpud_wait_port(rpc, "vm1", devargs, why, sizeof why)) {
        merr(m, "ovnic: %s", why);
        goto del;
    }
    if (run_cmd(NULL, 0, "ovn-nbctl --db=%s --timeout=60 --wait=hv sync", g.nb)) {
        merr(m, "ovnic: ovn-nbctl --wait=hv sync failed (see %s/ovnic-dpud.log)", g.dir);
        goto del;
    }
    sleep_s(o->warmup_s);
    if (dpud_sample(rpc, pid, "", &a, why, sizeof why)) {
        merr(m, "ovnic: cannot read the counters: %s", why);
        goto del;
    }
    dpud_lcore_name(pid, a.lcore, lcore, sizeof lcore);
    if (!lcore[0]) {
        fail("ovnic: datapath lcore %" PRId64 " not found among the threads of %ld; "
             "Mpps/core falls back to Mpps",
             a.lcore, (long)pid);
    }
    if (dpud_sample(rpc, pid, lcore, &a, why, sizeof why)) {
        merr(m, "ovnic: cannot read the counters: %s", why);
        goto del;
    }
    sleep_s(o->duration_s);
    if (dpud_sample(rpc, pid, lcore, &b, why, sizeof why)) {
        merr(m, "ovnic: cannot read the counters: %s", why);
        goto del;
    }
    m->done = true;
    m->wall_s = b.t - a.t;
    m->cpu_s = lcore[0] && a.cpu >= 0 && b.cpu >= 0 ? b.cpu - a.cpu : -1;
    m->tx = b.tx - a.tx;
    m->rx = b.rx - a.rx;
    m->exact_hits = b.emc - a.emc;
    uint64_t all_hits = b.megaflow - a.megaflow;
    m->masked_hits = all_hits > m->exact_hits ? all_hits - m->exact_hits : 0;
    m->misses = b.walks - a.walks;
    m->megaflows = b.megaflows;
    if (!m->tx) {
        merr(m,
             "ovnic forwarded nothing to vm2 (%" PRIu64 " received on vm1; see "
             "ovnicctl dpctl stats)",
             m->rx);
    }

del:
    if (run_cmd(out, sizeof out, OVNICCTL_DPUD " port-del vm1 2>&1", g.dir, g.ovnicctl) ||
        dpud_wait_port(rpc, "vm1", NULL, why, sizeof why)) {
        fail("ovnic: cannot detach vm1: %s%s", out, why);
    }
}

static void
dpud_run(const struct bench_opts *o)
{
    char what[600] = "", out[1024], ctl[128];
    unsigned int n_mbufs = n_mbufs_for(o);
    struct rpc_client *rpc = NULL;
    struct ovnic_err err = {0};
    pid_t pid = -1;

    progress("ovnic: starting %s (datapath = dpdk, EAL '%s', %u mbufs) as chassis %s",
             g.dpud, g.eal_mem, n_mbufs, OVNIC_CHASSIS);
    if (run_cmd(out, sizeof out,
                "'%s' --system-id=" OVNIC_CHASSIS " --hostname=" OVNIC_CHASSIS
                " --sb-remote=%s --encap-ip=" OVNIC_ENCAP_IP " --rundir=%s"
                " --log-file=%s/ovnic-dpud.log --datapath=dpdk"
                " --uplink-devargs=net_null_bvup,no-rx=1 '--dpdk-args=%s' --n-mbufs=%u"
                " --detach 2>&1",
                g.dpud, g.sb, g.dir, g.dir, g.eal_mem, n_mbufs)) {
        snprintf(what, sizeof what,
                 "ovnic-dpud did not start: %.300s (see %s/ovnic-dpud.log)", out, g.dir);
        goto out;
    }
    pid = read_pidfile("ovnic-dpud.pid");
    snprintf(ctl, sizeof ctl, "unix:%s/ovnic-dpud.ctl", g.dir);
    if (pid <= 0 || rpc_client_open(ctl, SYNC_TIMEOUT_MS, &rpc, &err)) {
        snprintf(what, sizeof what, "cannot reach ovnic-dpud on %s", ctl);
        goto out;
    }
    if (run_cmd(out, sizeof out,
                OVNICCTL_DPUD " port-add vm2 --iface-id=" LPORT2
                              " '--devargs=net_null_bvsink,no-rx=1' 2>&1",
                g.dir, g.ovnicctl)) {
        snprintf(what, sizeof what, "ovnicctl dpud port-add vm2 failed: %.300s", out);
        goto out;
    }
    if (dpud_wait_port(rpc, "vm2", "net_null_bvsink,no-rx=1", what, sizeof what)) {
        goto out;
    }
    for (int i = 0; i < o->n_flows; i++) {
        progress("ovnic: %ld flows: %.0f s warm-up, %.0f s measured", o->flows[i],
                 o->warmup_s, o->duration_s);
        dpud_measure_one(rpc, pid, o, o->flows[i], &g.m[i][SYS_OVNIC]);
    }

out:
    if (what[0]) {
        fail_all(o, SYS_OVNIC, what);
    }
    rpc_client_close(rpc);
    if (pid > 0) {
        /* A clean exit releases the ports and deletes the chassis, so that the peer
         * claims the ports next; the daemon is then stopped by its pid. */
        if (run_cmd(out, sizeof out, OVNICCTL_DPUD " exit 2>&1", g.dir, g.ovnicctl)) {
            fail("ovnic: ovnicctl dpud exit failed (%s); deleting chassis %s", out,
                 OVNIC_CHASSIS);
            run_cmd(NULL, 0, "ovn-sbctl --db=%s --if-exists chassis-del " OVNIC_CHASSIS,
                    g.sb);
        }
        pid_stop(pid);
    }
}

/* ---- The peer: OVS-DPDK with ovn-controller ---- */

/* The CPU the PMD thread is pinned to: the last one this process may use. */
static int
pmd_cpu(void)
{
    cpu_set_t set;
    int cpu = 0;

    if (!sched_getaffinity(0, sizeof set, &set)) {
        for (int i = 0; i < CPU_SETSIZE && i < 64; i++) {
            if (CPU_ISSET(i, &set)) {
                cpu = i;
            }
        }
    }
    return cpu;
}

/* Counter 'label' ("TX packets:", "RX packets:") of port 'name' in 'out', the output
 * of "ovs-appctl dpctl/show -s" (live counters). */
static int
ovs_port_counter(const char *out, const char *name, const char *label, uint64_t *v)
{
    char key[64];
    const char *p, *next;

    snprintf(key, sizeof key, ": %s (", name);
    p = strstr(out, key);
    if (!p) {
        return -ENOENT;
    }
    next = strstr(p + 1, "  port ");
    p = strstr(p, label);
    if (!p || (next && p > next)) {
        return -ENOENT;
    }
    *v = strtoull(p + strlen(label), NULL, 10);
    return 0;
}

/* The value after "label:" in "dpif-netdev/pmd-stats-show" of the PMD thread. */
static uint64_t
pmd_stat(const char *out, const char *label)
{
    const char *pmd = strstr(out, "pmd thread");
    const char *p = pmd ? strstr(pmd, label) : NULL;

    return p ? strtoull(p + strlen(label), NULL, 10) : 0;
}

struct ovs_sample {
    double t;
    double cpu;
    uint64_t tx, rx, megaflows;
};

static int
ovs_sample(pid_t vswitchd, struct ovs_sample *s)
{
    static char out[65536];

    s->t = now_s();
    s->cpu = thread_cpu_s(vswitchd, "pmd");
    if (run_cmd(out, sizeof out, "ovs-appctl -t %s/vswitchd.ctl dpctl/show -s", g.dir)) {
        return -EIO;
    }
    const char *flows = strstr(out, "flows:");
    s->megaflows = flows ? strtoull(flows + strlen("flows:"), NULL, 10) : 0;
    return ovs_port_counter(out, "vm2", "TX packets:", &s->tx) ||
                   ovs_port_counter(out, "vm1", "RX packets:", &s->rx)
               ? -ENOENT
               : 0;
}

#define VSCTL "ovs-vsctl --timeout=60 --db=unix:%s/db.sock"

static void
ovs_measure_one(const struct bench_opts *o, pid_t vswitchd, long flows, struct measure *m)
{
    char path[PATH_MAX], out[4096];
    struct ovs_sample a, b;

    pcap_path(flows, path, sizeof path);
    if (run_cmd(NULL, 0,
                VSCTL " add-port br-int vm1 -- set interface vm1 type=dpdk"
                      " 'options:dpdk-devargs=net_pcap_bv%ld,rx_pcap=%s,infinite_rx=1'"
                      " external_ids:iface-id=" LPORT1,
                g.dir, flows, path)) {
        merr(m, "OVS-DPDK: ovs-vsctl add-port vm1 failed");
        return;
    }
    if (run_cmd(NULL, 0, VSCTL " wait-until Interface vm1 link_state=up", g.dir)) {
        run_cmd(out, sizeof out, VSCTL " get Interface vm1 error", g.dir);
        merr(m, "OVS-DPDK: vm1 (net_pcap) did not come up: %s (see %s/vswitchd.log)", out,
             g.dir);
        goto del;
    }
    if (run_cmd(NULL, 0, "ovn-nbctl --db=%s --timeout=60 --wait=hv sync", g.nb)) {
        merr(m,
             "OVS-DPDK: ovn-nbctl --wait=hv sync failed (ovn-controller did not catch "
             "up; see %s/ovn-controller.log)",
             g.dir);
        goto del;
    }
    sleep_s(o->warmup_s);
    run_cmd(NULL, 0, "ovs-appctl -t %s/vswitchd.ctl dpif-netdev/pmd-stats-clear", g.dir);
    if (ovs_sample(vswitchd, &a)) {
        merr(m, "OVS-DPDK: cannot read vm2's counters (ovs-appctl dpctl/show -s)");
        goto del;
    }
    sleep_s(o->duration_s);
    if (ovs_sample(vswitchd, &b)) {
        merr(m, "OVS-DPDK: cannot read vm2's counters (ovs-appctl dpctl/show -s)");
        goto del;
    }
    m->done = true;
    m->wall_s = b.t - a.t;
    m->cpu_s = a.cpu >= 0 && b.cpu >= 0 ? b.cpu - a.cpu : -1;
    m->tx = b.tx - a.tx;
    m->rx = b.rx - a.rx;
    m->megaflows = b.megaflows;
    if (!run_cmd(out, sizeof out,
                 "ovs-appctl -t %s/vswitchd.ctl dpif-netdev/pmd-stats-show", g.dir)) {
        m->exact_hits = pmd_stat(out, "emc hits:") + pmd_stat(out, "smc hits:") +
                        pmd_stat(out, "simple match hits:");
        m->masked_hits = pmd_stat(out, "megaflow hits:");
        m->misses = pmd_stat(out, "miss with success upcall:") +
                    pmd_stat(out, "miss with failed upcall:");
    }
    if (!m->tx) {
        merr(m, "OVS-DPDK forwarded nothing to vm2 (see %s/vswitchd.log)", g.dir);
    }

del:
    if (run_cmd(NULL, 0, VSCTL " del-port br-int vm1", g.dir)) {
        fail("OVS-DPDK: ovs-vsctl del-port vm1 failed");
    }
}

static void
ovs_run(const struct bench_opts *o)
{
    char what[600] = "", out[256];
    pid_t confdb = -1, vswitchd = -1, controller = -1;
    double deadline;

    progress("OVS-DPDK: starting ovsdb-server, ovs-vswitchd-dpdk (one PMD on CPU %d) and "
             "ovn-controller as chassis %s",
             pmd_cpu(), OVS_CHASSIS);
    if (run_cmd(NULL, 0, "ovsdb-tool create %s/conf.db " OVS_SCHEMA " 2>/dev/null",
                g.dir) ||
        run_cmd(NULL, 0,
                "ovsdb-server %s/conf.db --detach --no-chdir --pidfile=%s/confdb.pid"
                " --log-file=%s/confdb.log --unixctl=%s/confdb.ctl"
                " --remote=punix:%s/db.sock -vconsole:off 2>/dev/null",
                g.dir, g.dir, g.dir, g.dir, g.dir)) {
        snprintf(what, sizeof what, "cannot start ovsdb-server for conf.db");
        goto out;
    }
    confdb = read_pidfile("confdb.pid");
    if (run_cmd(NULL, 0,
                VSCTL
                " --no-wait init -- set Open_vSwitch . external_ids:system-id=%s"
                " external_ids:ovn-remote=%s external_ids:ovn-encap-type=geneve"
                " external_ids:ovn-encap-ip=192.0.2.20"
                " external_ids:ovn-bridge-datapath-type=netdev"
                " other_config:dpdk-init=true"
                " 'other_config:dpdk-extra=%s --no-pci --legacy-mem --file-prefix=%s'"
                " other_config:pmd-cpu-mask=0x%llx"
                " -- add-br br-int -- set bridge br-int datapath_type=netdev"
                " fail-mode=secure",
                g.dir, OVS_CHASSIS, g.sb, g.eal_mem, g.ovs_prefix, 1ULL << pmd_cpu())) {
        snprintf(what, sizeof what, "ovs-vsctl init failed");
        goto out;
    }
    if (run_cmd(NULL, 0,
                "OVS_RUNDIR=%s " OVS_VSWITCHD " unix:%s/db.sock --detach --no-chdir"
                " --pidfile=%s/vswitchd.pid --log-file=%s/vswitchd.log"
                " --unixctl=%s/vswitchd.ctl -vconsole:off 2>/dev/null",
                g.dir, g.dir, g.dir, g.dir, g.dir)) {
        snprintf(what, sizeof what,
                 "ovs-vswitchd-dpdk did not start (see %s/vswitchd.log)", g.dir);
        goto out;
    }
    vswitchd = read_pidfile("vswitchd.pid");
    if (run_cmd(out, sizeof out, VSCTL " get Open_vSwitch . dpdk_initialized", g.dir) ||
        strcmp(out, "true")) {
        snprintf(what, sizeof what,
                 "DPDK did not initialise in ovs-vswitchd-dpdk (dpdk_initialized=%s; see "
                 "%s/vswitchd.log)",
                 out, g.dir);
        goto out;
    }
    if (run_cmd(NULL, 0,
                VSCTL " add-port br-int vm2 -- set interface vm2 type=dpdk"
                      " 'options:dpdk-devargs=net_null_bvsink,no-rx=1'"
                      " external_ids:iface-id=" LPORT2,
                g.dir) ||
        run_cmd(NULL, 0, VSCTL " wait-until Interface vm2 link_state=up", g.dir)) {
        snprintf(what, sizeof what,
                 "cannot add vm2 (net_null) to br-int (see %s/vswitchd.log)", g.dir);
        goto out;
    }
    if (run_cmd(NULL, 0,
                "OVN_RUNDIR=%s OVS_RUNDIR=%s ovn-controller unix:%s/db.sock --detach"
                " --no-chdir --pidfile=%s/ovn-controller.pid"
                " --log-file=%s/ovn-controller.log -vconsole:off 2>/dev/null",
                g.dir, g.dir, g.dir, g.dir, g.dir)) {
        snprintf(what, sizeof what, "ovn-controller did not start");
        goto out;
    }
    controller = read_pidfile("ovn-controller.pid");
    deadline = now_s() + SYNC_TIMEOUT_MS / 1000.0;
    for (;;) {
        if (!run_cmd(out, sizeof out,
                     "ovn-sbctl --db=%s --bare --columns=name find Chassis name=%s", g.sb,
                     OVS_CHASSIS) &&
            out[0]) {
            break;
        }
        if (now_s() > deadline) {
            snprintf(what, sizeof what,
                     "ovn-controller did not register chassis %s (see "
                     "%s/ovn-controller.log)",
                     OVS_CHASSIS, g.dir);
            goto out;
        }
        sleep_s(0.2);
    }
    for (int i = 0; i < o->n_flows; i++) {
        progress("OVS-DPDK: %ld flows: %.0f s warm-up, %.0f s measured", o->flows[i],
                 o->warmup_s, o->duration_s);
        ovs_measure_one(o, vswitchd, o->flows[i], &g.m[i][SYS_OVS]);
    }

out:
    if (what[0]) {
        fail_all(o, SYS_OVS, what);
    }
    if (controller > 0) {
        if (run_cmd(NULL, 0, "ovs-appctl --timeout=30 -t %s/ovn-controller.%ld.ctl exit",
                    g.dir, (long)controller)) {
            fail("ovn-controller did not exit cleanly; stopping it");
        }
        pid_stop(controller);
    }
    pid_stop(vswitchd);
    pid_stop(confdb);
}

/* ---- Output ---- */

static double
mpps(const struct measure *m)
{
    return m->wall_s > 0 ? (double)m->tx / m->wall_s / 1e6 : 0;
}

static double
mpps_core(const struct measure *m)
{
    return m->cpu_s > 0 ? (double)m->tx / m->cpu_s / 1e6 : mpps(m);
}

static bool
ok(const struct measure *m)
{
    return m->done && !m->error[0];
}

static void
print_table(const struct bench_opts *o)
{
    printf("%s: topology 01 (l2-sw), l2-vm1 (net_pcap, infinite_rx) -> l2-vm2 "
           "(net_null), 60-byte UDP, "
           "one forwarding core each; EAL '%s'; %.0f s window after %.0f s warm-up\n",
           PROG, g.eal_mem, o->duration_s, o->warmup_s);
    printf("ovnic: %s\n", o->inprocess ? "inprocess (the vswitch library in " PROG ")"
                                       : "daemon (ovnic-dpud, datapath = dpdk)");
    printf("Mpps/core: packets sent on vm2 per CPU-second of the forwarding thread "
           "(ovnic lcore, OVS PMD); Mpps: per wall-clock second\n\n");
    printf("%-8s %-9s %9s %7s %6s %8s %8s %8s %9s\n", "flows", "system", "Mpps/core",
           "Mpps", "cpu", "exact%", "masked%", "miss", "megaflows");
    for (int i = 0; i < o->n_flows; i++) {
        for (int s = 0; s < N_SYS; s++) {
            const struct measure *m = &g.m[i][s];
            if (!o->run[s]) {
                continue;
            }
            if (!ok(m)) {
                printf("%-8ld %-9s failed: %s\n", o->flows[i], sys_names[s],
                       m->error[0] ? m->error : "not run");
                continue;
            }
            double total = (double)(m->exact_hits + m->masked_hits + m->misses);
            printf("%-8ld %-9s %9.2f %7.2f %5.0f%% %7.1f%% %7.1f%% %8" PRIu64 " %9" PRIu64
                   "\n",
                   o->flows[i], sys_names[s], mpps_core(m), mpps(m),
                   m->cpu_s >= 0 && m->wall_s > 0 ? 100 * m->cpu_s / m->wall_s : -1.0,
                   total > 0 ? 100 * (double)m->exact_hits / total : 0,
                   total > 0 ? 100 * (double)m->masked_hits / total : 0, m->misses,
                   m->megaflows);
        }
        if (ok(&g.m[i][SYS_OVNIC]) && ok(&g.m[i][SYS_OVS])) {
            printf("%-8ld ratio ovnic/OVS-DPDK per core: %.2f (target >= 1.5)\n",
                   o->flows[i],
                   mpps_core(&g.m[i][SYS_OVNIC]) / mpps_core(&g.m[i][SYS_OVS]));
        }
    }
    printf("\n(exact: ovnic exact-match cache / OVS EMC+SMC; masked: megaflow lookups; "
           "miss: ovnic pipeline walks / OVS upcalls)\n");
}

static json_t *
jnum(double v, double scale)
{
    return json_real((double)(int64_t)(v * scale + (v >= 0 ? 0.5 : -0.5)) / scale);
}

static void
print_json(const struct bench_opts *o)
{
    json_t *rows = json_array();
    char *s;

    for (int i = 0; i < o->n_flows; i++) {
        json_t *row = json_pack("{s:I}", "flows", (json_int_t)o->flows[i]);
        for (int k = 0; k < N_SYS; k++) {
            const struct measure *m = &g.m[i][k];
            const char *key = k == SYS_OVNIC ? "ovnic" : "ovs_dpdk";
            if (!o->run[k]) {
                continue;
            }
            if (!ok(m)) {
                json_object_set_new(
                    row, key,
                    json_pack("{s:s}", "error", m->error[0] ? m->error : "not run"));
                continue;
            }
            json_object_set_new(
                row, key,
                json_pack("{s:o,s:o,s:o,s:o,s:I,s:I,s:I,s:I,s:I,s:I}", "mpps_per_core",
                          jnum(mpps_core(m), 1000), "mpps", jnum(mpps(m), 1000), "cpu_s",
                          jnum(m->cpu_s, 1000), "wall_s", jnum(m->wall_s, 1000),
                          "tx_packets", (json_int_t)m->tx, "rx_packets",
                          (json_int_t)m->rx, "exact_hits", (json_int_t)m->exact_hits,
                          "masked_hits", (json_int_t)m->masked_hits, "misses",
                          (json_int_t)m->misses, "megaflows", (json_int_t)m->megaflows));
        }
        if (ok(&g.m[i][SYS_OVNIC]) && ok(&g.m[i][SYS_OVS])) {
            json_object_set_new(
                row, "ratio_per_core",
                jnum(mpps_core(&g.m[i][SYS_OVNIC]) / mpps_core(&g.m[i][SYS_OVS]), 1000));
        }
        json_array_append_new(rows, row);
    }
    s = json_dumps(
        json_pack("{s:s,s:s,s:s,s:o,s:o,s:i,s:o}", "bench", "vswitch", "ovnic_mode",
                  o->inprocess ? "inprocess" : "daemon", "eal_memory", g.eal_mem,
                  "duration_s", jnum(o->duration_s, 1000), "warmup_s",
                  jnum(o->warmup_s, 1000), "pmd_cpu", pmd_cpu(), "results", rows),
        JSON_COMPACT | JSON_REAL_PRECISION(10));
    if (s) {
        printf("%s\n", s);
        free(s);
    }
}

/* ---- Options ---- */

static void
usage(void)
{
    printf(
        "Usage: " PROG " [OPTIONS]\n"
        "Replays the same pcap of vm1 -> vm2 UDP traffic (N distinct flows) through\n"
        "ovnic's DPDK vswitch and through OVS-DPDK (ovs-vswitchd-dpdk) driven by a real\n"
        "ovn-controller, one forwarding core each, on the same OVN SB and topology, and\n"
        "prints the packets per second per core of both and their ratio.  Needs root.\n"
        "\n"
        "Options:\n"
        "  --flows=N[,N...]      flow counts (default 1000,100000; at most 4, each\n"
        "                        1..1000000)\n"
        "  --duration=S          measured window in seconds (default 5)\n"
        "  --warmup=S            warm-up before the window (default 2)\n"
        "  --memory=MB           EAL memory of each system (default 1024)\n"
        "  --hugepages=auto|yes|no\n"
        "                        use hugepages (auto: if enough free 2 MB pages are\n"
        "                        mounted; otherwise --no-huge)\n"
        "  --ovnic=daemon|inprocess\n"
        "                        ovnic as the ovnic-dpud of this build tree (default),\n"
        "                        or the vswitch library inside this program\n"
        "  --only=ovnic|ovs      measure one system only\n"
        "  --format=table|json   output (json: one JSON line only)\n"
        "  -h, --help            this help\n"
        "Environment: OVNIC_SOURCE_DIR (for scripts/ovn-central.sh), OVNIC_BUILD_DIR\n"
        "(for ovnic-dpud and ovnicctl; default: the build tree of this program).\n");
}

static int
parse_flows(const char *s, struct bench_opts *o)
{
    char *end;

    o->n_flows = 0;
    for (;;) {
        long v = strtol(s, &end, 10);
        if (end == s || v < 1 || v > 1000000 || o->n_flows >= MAX_SIZES) {
            return -EINVAL;
        }
        o->flows[o->n_flows++] = v;
        if (*end == '\0') {
            return 0;
        }
        if (*end != ',') {
            return -EINVAL;
        }
        s = end + 1;
    }
}

static int
parse_seconds(const char *s, double *v)
{
    char *end;

    *v = strtod(s, &end);
    return end == s || *end || *v < 0 || *v > 3600 ? -EINVAL : 0;
}

/* Returns 0 to go on, 1 after --help, -EINVAL on a bad option. */
static int
parse_args(int argc, char *argv[], struct bench_opts *o)
{
    *o = (struct bench_opts){
        .flows = {1000, 100000},
        .n_flows = 2,
        .duration_s = 5,
        .warmup_s = 2,
        .memory_mb = 1024,
        .hugepages = -1,
        .run = {true, true},
    };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *end;

        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage();
            return 1;
        } else if (!strncmp(a, "--flows=", 8)) {
            if (parse_flows(a + 8, o)) {
                fail("--flows: expected N[,N...] (1..1000000, at most %d)", MAX_SIZES);
                return -EINVAL;
            }
        } else if (!strncmp(a, "--duration=", 11)) {
            if (parse_seconds(a + 11, &o->duration_s) || o->duration_s < 0.1) {
                fail("--duration: expected seconds (0.1..3600)");
                return -EINVAL;
            }
        } else if (!strncmp(a, "--warmup=", 9)) {
            if (parse_seconds(a + 9, &o->warmup_s)) {
                fail("--warmup: expected seconds (0..3600)");
                return -EINVAL;
            }
        } else if (!strncmp(a, "--memory=", 9)) {
            long v = strtol(a + 9, &end, 10);
            if (end == a + 9 || *end || v < 256 || v > 65536) {
                fail("--memory: expected MB (256..65536)");
                return -EINVAL;
            }
            o->memory_mb = (int)v;
        } else if (!strncmp(a, "--hugepages=", 12)) {
            const char *v = a + 12;
            o->hugepages = !strcmp(v, "yes") ? 1 : !strcmp(v, "no") ? 0 : -2;
            if (!strcmp(v, "auto")) {
                o->hugepages = -1;
            } else if (o->hugepages == -2) {
                fail("--hugepages: expected auto, yes or no");
                return -EINVAL;
            }
        } else if (!strncmp(a, "--ovnic=", 8)) {
            bool daemon = !strcmp(a + 8, "daemon"), inproc = !strcmp(a + 8, "inprocess");
            if (!daemon && !inproc) {
                fail("--ovnic: expected daemon or inprocess");
                return -EINVAL;
            }
            o->inprocess = inproc;
        } else if (!strncmp(a, "--only=", 7)) {
            bool ovnic = !strcmp(a + 7, "ovnic"), ovs = !strcmp(a + 7, "ovs");
            if (!ovnic && !ovs) {
                fail("--only: expected ovnic or ovs");
                return -EINVAL;
            }
            o->run[SYS_OVNIC] = ovnic;
            o->run[SYS_OVS] = ovs;
        } else if (!strcmp(a, "--format=json") ||
                   (!strcmp(a, "--format") && i + 1 < argc &&
                    !strcmp(argv[i + 1], "json"))) {
            o->json_only = true;
            i += strcmp(a, "--format") ? 0 : 1;
        } else if (!strcmp(a, "--format=table") ||
                   (!strcmp(a, "--format") && i + 1 < argc &&
                    !strcmp(argv[i + 1], "table"))) {
            o->json_only = false;
            i += strcmp(a, "--format") ? 0 : 1;
        } else {
            fail("unknown option '%s' (try --help)", a);
            return -EINVAL;
        }
    }
    return 0;
}

/* Free 2 MB hugepages, if hugetlbfs is mounted. */
static long
free_hugepages_2m(void)
{
    char line[512];
    bool mounted = false;
    long n = 0;
    FILE *f = fopen("/proc/mounts", "r");

    if (f) {
        while (fgets(line, sizeof line, f)) {
            mounted |= strstr(line, " hugetlbfs ") != NULL;
        }
        fclose(f);
    }
    f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "r");
    if (f) {
        if (fscanf(f, "%ld", &n) != 1) {
            n = 0;
        }
        fclose(f);
    }
    return mounted ? n : 0;
}

int
main(int argc, char *argv[])
{
    struct bench_opts o;
    int status = 1, rc;

    rc = parse_args(argc, argv, &o);
    if (rc) {
        return rc > 0 ? 0 : 2;
    }
    g.json_only = o.json_only;
    if (geteuid()) {
        fail("needs root (DPDK, ovs-vswitchd-dpdk, ovn-controller); skipped");
        return 77;
    }
    if (find_source()) {
        fail("scripts/ovn-central.sh not found (set OVNIC_SOURCE_DIR)");
        return 1;
    }
    if (o.run[SYS_OVNIC] && !o.inprocess && find_build()) {
        fail("%s/dpu/daemon/ovnic-dpud or %s/tools/ovnicctl/ovnicctl not found (build "
             "targets ovnic-dpud and ovnicctl, set OVNIC_BUILD_DIR, or use "
             "--ovnic=inprocess)",
             g.build, g.build);
        return 1;
    }
    if (o.run[SYS_OVS] && access(OVS_VSWITCHD, X_OK)) {
        fail("%s not found (package openvswitch-switch-dpdk; or use --only=ovnic)",
             OVS_VSWITCHD);
        return 1;
    }
    long huge = free_hugepages_2m();
    /* ovnic's EAL keeps its memory while OVS-DPDK runs: room for both. */
    long need = (o.run[SYS_OVNIC] + o.run[SYS_OVS]) * (long)o.memory_mb;
    bool use_huge = o.hugepages == 1 || (o.hugepages == -1 && huge * 2 >= need);
    if (o.hugepages == 1 && huge * 2 < need) {
        fail("--hugepages=yes: %ld free 2 MB hugepages mounted, %ld MB needed", huge,
             need);
        return 1;
    }
    snprintf(g.eal_mem, sizeof g.eal_mem, "%s-m %d", use_huge ? "" : "--no-huge ",
             o.memory_mb);
    snprintf(g.ovs_prefix, sizeof g.ovs_prefix, "ovnic-bv-ovs-%ld", (long)getpid());
    signal(SIGPIPE, SIG_IGN);
    ovnic_log_set_level(NULL, OVNIC_LOG_WARN);

    snprintf(g.dir, sizeof g.dir, "/tmp/ovnic-vsbench.XXXXXX");
    if (!mkdtemp(g.dir)) {
        fail("mkdtemp: %s", strerror(errno));
        return 1;
    }
    if (watcher_start()) {
        fail("cannot start the cleanup watcher");
        rmdir(g.dir);
        return 1;
    }
    progress("writing the pcap files and starting OVN central in %s", g.dir);
    for (int i = 0; i < o.n_flows; i++) {
        char path[PATH_MAX];
        if (pcap_write(o.flows[i], path, sizeof path)) {
            goto out;
        }
    }
    if (central_start()) {
        goto out;
    }
    if (o.run[SYS_OVNIC]) {
        progress("ovnic: mode %s", o.inprocess ? "inprocess (the vswitch library here)"
                                               : "daemon (ovnic-dpud)");
        if (o.inprocess) {
            ovnic_run(&o);
        } else {
            dpud_run(&o);
        }
    }
    if (o.run[SYS_OVS]) {
        ovs_run(&o);
    }
    if (!o.json_only) {
        print_table(&o);
    }
    print_json(&o);
    status = 0;
    for (int i = 0; i < o.n_flows; i++) {
        for (int s = 0; s < N_SYS; s++) {
            if (o.run[s] && !ok(&g.m[i][s])) {
                status = 1;
            }
        }
    }

out:
    watcher_finish();
    return status;
}
