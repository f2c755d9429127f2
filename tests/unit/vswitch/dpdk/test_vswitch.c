/* Tests of the DPDK vswitch (dpu/vswitch/dpdk_*.c) on a hand-built SB replica.
 *
 * Ports are net_ring devices the test creates in-process (rte_eth_from_rings()) and
 * the vswitch adopts by name: the test enqueues frames into a port's rx ring and
 * dequeues what the vswitch sends from its tx ring, with exact timing.  One test
 * attaches a net_pcap device through devargs (the hotplug path).
 *
 * The logical topology: switch "sw" (tunnel key 1) with p1, p2 on this chassis
 * (hv1, encap 192.168.100.11), p3 on hv2 (192.168.100.12), p4 on hv3
 * (192.168.100.13); each port's MAC is 00:00:00:00:00:0N; IPv4 to p2 has its TTL
 * decremented; ARP replies from p1 give a MAC binding (put_arp). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dpu/ovsdb/replica.h"
#include "dpu/ovsdb/schema.h"
#include "dpu/vswitch/vswitch.h"
#include "shared/util/util.h"

#define SB_SCHEMA "/usr/share/ovn/ovn-sb.ovsschema"

#define VSWITCH_TEST_NAME 32

static const uint8_t UPLINK_MAC[6] = {0x0c, 0x42, 0xa1, 0, 0, 0x01};
static const uint8_t HV2_MAC[6] = {0x0c, 0x42, 0xa1, 0, 0, 0x02};

static struct rte_mempool *test_pool;
static int (*from_rings)(const char *, struct rte_ring *const[], unsigned int,
                         struct rte_ring *const[], unsigned int, unsigned int);

/* ---- Time. ---- */

static void
sleep_ms(unsigned int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static uint64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- The SB. ---- */

static json_t *sb_updates;
static int sb_n;

static const char *
uuid_n(char buf[37], int n)
{
    snprintf(buf, 37, "00000000-0000-0000-0000-%012d", n);
    return buf;
}

static json_t *
ref(int n)
{
    char u[37];
    return json_pack("[s,s]", "uuid", uuid_n(u, n));
}

static void
sb_row(const char *table, int n, json_t *row)
{
    char u[37];
    json_t *t = json_object_get(sb_updates, table);
    if (!t) {
        t = json_object();
        json_object_set_new(sb_updates, table, t);
    }
    json_object_set_new(t, uuid_n(u, n), json_pack("{s:o}", "new", row));
}

static void
sb_chassis(int n, const char *name, const char *ip)
{
    sb_row("Encap", n + 1,
           json_pack("{s:s,s:s,s:s}", "type", "geneve", "ip", ip, "chassis_name", name));
    sb_row(
        "Chassis", n,
        json_pack("{s:s,s:s,s:o}", "name", name, "hostname", name, "encaps", ref(n + 1)));
}

static int sb_dp = 1;

static void
sb_port(int n, const char *name, int key, int chassis)
{
    sb_row("Port_Binding", n,
           json_pack("{s:s,s:i,s:o,s:s,s:[s,[]],s:o}", "logical_port", name, "tunnel_key",
                     key, "datapath", ref(sb_dp), "type", "", "options", "map", "chassis",
                     ref(chassis)));
}

static void
sb_flow(const char *pipeline, int table, int prio, const char *match, const char *actions)
{
    sb_row("Logical_Flow", 5000 + sb_n++,
           json_pack("{s:o,s:s,s:i,s:i,s:s,s:s,s:[s,[[s,s]]]}", "logical_datapath",
                     ref(sb_dp), "pipeline", pipeline, "table_id", table, "priority",
                     prio, "match", match, "actions", actions, "external_ids", "map",
                     "stage-name", "test_stage"));
}

struct sb {
    struct ovsdb_schema *schema;
    struct ovsdb_replica *replica;
};

static void
sb_build(struct sb *sb)
{
    struct ovnic_err err = {0};
    sb_updates = json_object();
    sb_n = 0;
    sb_chassis(900, "hv1", "192.168.100.11");
    sb_chassis(910, "hv2", "192.168.100.12");
    sb_chassis(920, "hv3", "192.168.100.13");
    sb_row("Datapath_Binding", 1,
           json_pack("{s:i,s:[s,[[s,s]]]}", "tunnel_key", 1, "external_ids", "map",
                     "name", "sw"));
    sb_port(11, "p1", 1, 900);
    sb_port(12, "p2", 2, 900);
    sb_port(13, "p3", 3, 910);
    sb_port(14, "p4", 4, 920);
    sb_flow("ingress", 0, 100, "1", "next;");
    sb_flow("ingress", 1, 70, "arp.op == 2", "put_arp(inport, arp.spa, arp.sha);");
    sb_flow("ingress", 1, 60, "ip4 && eth.dst == 00:00:00:00:00:02",
            "ip.ttl--; outport = \"p2\"; output;");
    for (int i = 1; i <= 4; i++) {
        char m[64], a[64];
        snprintf(m, sizeof m, "eth.dst == 00:00:00:00:00:0%d", i);
        snprintf(a, sizeof a, "outport = \"p%d\"; output;", i);
        sb_flow("ingress", 1, 50, m, a);
    }
    sb_flow("egress", 0, 0, "1", "output;");

    /* Switch "pn" (key 2) on provider network "phys", VLAN 100: p5 here, p6 on hv2. */
    sb_dp = 2;
    sb_row("Datapath_Binding", 2,
           json_pack("{s:i,s:[s,[[s,s]]]}", "tunnel_key", 2, "external_ids", "map",
                     "name", "pn"));
    sb_port(15, "p5", 1, 900);
    sb_port(16, "p6", 2, 910);
    sb_row("Port_Binding", 17,
           json_pack("{s:s,s:i,s:o,s:s,s:[s,[[s,s]]],s:i}", "logical_port", "ln",
                     "tunnel_key", 3, "datapath", ref(2), "type", "localnet", "options",
                     "map", "network_name", "phys", "tag", 100));
    sb_flow("ingress", 0, 100, "1", "next;");
    sb_flow("ingress", 1, 50, "eth.dst == 00:00:00:00:00:05",
            "outport = \"p5\"; output;");
    sb_flow("ingress", 1, 50, "eth.dst == 00:00:00:00:00:06",
            "outport = \"p6\"; output;");
    sb_flow("egress", 0, 0, "1", "output;");
    sb_dp = 1;

    assert_int_equal(ovsdb_schema_from_file(SB_SCHEMA, &sb->schema, &err), 0);
    assert_int_equal(ovsdb_replica_create(sb->schema, &sb->replica), 0);
    assert_int_equal(ovsdb_replica_apply(sb->replica, OVSDB_UPDATE_V1, sb_updates, &err),
                     0);
    json_decref(sb_updates);
}

static void
sb_destroy(struct sb *sb)
{
    ovsdb_replica_destroy(sb->replica);
    ovsdb_schema_destroy(sb->schema);
}

/* ---- Ring ports. ---- */

struct rport {
    char name[32];
    struct rte_ring *rx; /* The vswitch receives what we enqueue here. */
    struct rte_ring *tx; /* ...and sends into this one. */
    uint16_t port_id;
};

static void
rport_create(struct rport *rp, const char *suffix)
{
    char rn[64];
    snprintf(rp->name, sizeof rp->name, "net_ring_%s", suffix);
    snprintf(rn, sizeof rn, "t_rx_%s", suffix);
    rp->rx = rte_ring_create(rn, 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    snprintf(rn, sizeof rn, "t_tx_%s", suffix);
    rp->tx = rte_ring_create(rn, 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    assert_non_null(rp->rx);
    assert_non_null(rp->tx);
    /* The device is called "net_ring_" + the name given. */
    int id = from_rings(suffix, &rp->rx, 1, &rp->tx, 1, SOCKET_ID_ANY);
    assert_true(id >= 0);
    rp->port_id = (uint16_t)id;
}

static void
rport_drain(struct rport *rp)
{
    void *m;
    while (!rte_ring_dequeue(rp->tx, &m)) {
        rte_pktmbuf_free(m);
    }
    while (!rte_ring_dequeue(rp->rx, &m)) {
        rte_pktmbuf_free(m);
    }
}

static void
rport_destroy(struct rport *rp)
{
    rport_drain(rp);
    rte_eth_dev_close(rp->port_id);
    rte_eal_hotplug_remove("vdev", rp->name);
    rte_ring_free(rp->rx);
    rte_ring_free(rp->tx);
}

static void
rport_send(struct rport *rp, const uint8_t *frame, size_t len)
{
    struct rte_mbuf *m = rte_pktmbuf_alloc(test_pool);
    assert_non_null(m);
    char *p = rte_pktmbuf_append(m, (uint16_t)len);
    assert_non_null(p);
    memcpy(p, frame, len);
    assert_int_equal(rte_ring_enqueue(rp->rx, m), 0);
}

/* Waits up to 2 s for a frame sent by the vswitch on 'rp'; copies it into 'buf'.
 * Returns its length, or 0 if none came. */
static size_t
rport_recv(struct rport *rp, uint8_t *buf, size_t size)
{
    uint64_t deadline = now_ms() + 2000;
    void *obj;
    while (rte_ring_dequeue(rp->tx, &obj)) {
        if (now_ms() > deadline) {
            return 0;
        }
        sleep_ms(1);
    }
    struct rte_mbuf *m = obj;
    size_t len = rte_pktmbuf_pkt_len(m);
    assert_true(len <= size);
    assert_int_equal(m->nb_segs, 1);
    memcpy(buf, rte_pktmbuf_mtod(m, void *), len);
    rte_pktmbuf_free(m);
    return len;
}

static bool
rport_idle(struct rport *rp, unsigned int ms)
{
    sleep_ms(ms);
    return rte_ring_count(rp->tx) == 0;
}

/* ---- Frames. ---- */

static uint16_t
csum(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    }
    if (n & 1) {
        sum += (uint32_t)(p[n - 1] << 8);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void
mac_n(uint8_t *p, int n)
{
    memcpy(p, (uint8_t[]){0, 0, 0, 0, 0, (uint8_t)n}, 6);
}

/* Ethernet + IPv4 + UDP (valid checksums) from port 'src' to port 'dst', TTL 64. */
static size_t
udp_frame(uint8_t *p, int dst, int src, uint16_t sport)
{
    static const char payload[] = "ovnic-vswitch-test";
    size_t plen = sizeof payload - 1;
    memset(p, 0, 14 + 28 + plen);
    mac_n(p, dst);
    mac_n(p + 6, src);
    put16(p + 12, 0x0800);
    uint8_t *ip = p + 14;
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(28 + plen));
    ip[6] = 0x40; /* DF */
    ip[8] = 64;
    ip[9] = 17;
    memcpy(ip + 12, (uint8_t[]){10, 0, 0, (uint8_t)src, 10, 0, 0, (uint8_t)dst}, 8);
    put16(ip + 10, csum(ip, 20, 0));
    uint8_t *udp = ip + 20;
    put16(udp, sport);
    put16(udp + 2, 5678);
    put16(udp + 4, (uint16_t)(8 + plen));
    memcpy(udp + 8, payload, plen);
    uint32_t ph =
        (uint32_t)((ip[12] << 8 | ip[13]) + (ip[14] << 8 | ip[15]) +
                   (ip[16] << 8 | ip[17]) + (ip[18] << 8 | ip[19]) + 17 + 8 + plen);
    uint16_t c = csum(udp, 8 + plen, ph);
    put16(udp + 6, c ? c : 0xffff);
    return 14 + 28 + plen;
}

/* ARP (op 1 request, 2 reply) from sha/spa to tha/tpa; Ethernet dst 'edst'. */
static size_t
arp_frame(uint8_t *p, int op, const uint8_t edst[6], const uint8_t sha[6],
          const char *spa, const uint8_t tha[6], const char *tpa)
{
    memset(p, 0, 60);
    memcpy(p, edst, 6);
    memcpy(p + 6, sha, 6);
    put16(p + 12, 0x0806);
    put16(p + 14, 1);
    put16(p + 16, 0x0800);
    p[18] = 6;
    p[19] = 4;
    put16(p + 20, (uint16_t)op);
    memcpy(p + 22, sha, 6);
    inet_pton(AF_INET, spa, p + 28);
    memcpy(p + 32, tha, 6);
    inet_pton(AF_INET, tpa, p + 38);
    return 60;
}

/* ---- Helpers on the vswitch. ---- */

struct mb_seen {
    int n;
    char lport[32];
    struct ctrl_mac_binding mb;
};

static void
mb_cb(void *aux, const char *lport, const struct ctrl_mac_binding *mb)
{
    struct mb_seen *s = aux;
    s->n++;
    snprintf(s->lport, sizeof s->lport, "%s", lport);
    s->mb = *mb;
}

/* The vswitch of the running test, destroyed by the next test if a failure left it. */
static struct vswitch *live_vs;

static void
vs_destroy(struct vswitch *vs)
{
    vswitch_destroy(vs);
    live_vs = NULL;
}

static struct vswitch *vs_new_provider(const char *uplink, struct mb_seen *seen,
                                       unsigned int ctrl_pps, const char *provider);

static struct vswitch *
vs_new(const char *uplink, struct mb_seen *seen, unsigned int ctrl_pps)
{
    return vs_new_provider(uplink, seen, ctrl_pps, NULL);
}

static struct vswitch *
vs_new_provider(const char *uplink, struct mb_seen *seen, unsigned int ctrl_pps,
                const char *provider)
{
    struct vswitch_config cfg = {
        .chassis = "hv1",
        .n_mbufs = 8191,
        .uplink_devargs = uplink,
        .uplink_mac = uplink ? "0c:42:a1:00:00:01" : NULL,
        .encap_ip = uplink ? "192.168.100.11" : NULL,
        .encap_plen = 24,
        .ctrl_pps = ctrl_pps,
        .provider_network = provider,
        .mac_binding_cb = mb_cb,
        .aux = seen,
    };
    struct vswitch *vs = NULL;
    struct ovnic_err err = {0};
    vswitch_destroy(live_vs); /* Left by a failed test. */
    live_vs = NULL;
    int rc = vswitch_create(&cfg, &vs, &err);
    if (rc) {
        char buf[256];
        fprintf(stderr, "vswitch_create: %s\n", ovnic_err_format(&err, buf, sizeof buf));
    }
    assert_int_equal(rc, 0);
    live_vs = vs;
    return vs;
}

static void
vs_sync(struct vswitch *vs, struct sb *sb)
{
    struct ovnic_err err = {0};
    int64_t gen = vswitch_pipeline_sync(vs, sb->replica, &err);
    assert_true(gen > 0);
    uint64_t deadline = now_ms() + 2000;
    while (vswitch_generation_live(vs) != (uint64_t)gen && now_ms() < deadline) {
        sleep_ms(1);
    }
    assert_int_equal(vswitch_generation_live(vs), (uint64_t)gen);
    vswitch_run(vs);
}

static void
vs_port(struct vswitch *vs, const char *name, struct rport *rp, const char *lport)
{
    struct ovnic_err err = {0};
    int rc = vswitch_port_add(vs, name, rp->name, lport, &err);
    if (rc) {
        char buf[256];
        fprintf(stderr, "vswitch_port_add: %s\n",
                ovnic_err_format(&err, buf, sizeof buf));
    }
    assert_int_equal(rc, 0);
}

static int64_t
stat_get(struct vswitch *vs, const char *name)
{
    json_t *s = vswitch_stats_json(vs);
    assert_non_null(s);
    json_t *v = json_object_get(s, name);
    int64_t n = v ? json_integer_value(v) : -1;
    json_decref(s);
    return n;
}

/* The count of drops whose reason starts with 'prefix'. */
static int64_t
drops_get(struct vswitch *vs, const char *prefix)
{
    json_t *s = vswitch_stats_json(vs);
    assert_non_null(s);
    const char *k;
    json_t *v;
    int64_t n = 0;
    json_object_foreach(json_object_get(s, "drops"), k, v)
    {
        if (!prefix || !strncmp(k, prefix, strlen(prefix))) {
            n += json_integer_value(v);
        }
    }
    json_decref(s);
    return n;
}

static int64_t
port_stat(struct vswitch *vs, const char *port, const char *name)
{
    json_t *a = vswitch_ports_json(vs);
    assert_non_null(a);
    size_t i;
    json_t *p;
    int64_t n = -1;
    json_array_foreach(a, i, p)
    {
        if (!strcmp(json_string_value(json_object_get(p, "name")), port)) {
            n = json_integer_value(json_object_get(p, name));
        }
    }
    json_decref(a);
    return n;
}

static void
wait_stat(struct vswitch *vs, const char *name, int64_t want)
{
    uint64_t deadline = now_ms() + 2000;
    while (stat_get(vs, name) < want && now_ms() < deadline) {
        sleep_ms(1);
    }
    assert_int_equal(stat_get(vs, name), want);
}

static void
vs_dump(struct vswitch *vs)
{
    json_t *j = vswitch_stats_json(vs);
    char *t = json_dumps(j, JSON_INDENT(1));
    fprintf(stderr, "stats: %s\n", t);
    free(t);
    json_decref(j);
    j = vswitch_ports_json(vs);
    t = json_dumps(j, JSON_INDENT(1));
    fprintf(stderr, "ports: %s\n", t);
    free(t);
    json_decref(j);
}

/* ---- Tests. ---- */

/* A frame from p1 to p2's MAC leaves p2 with its TTL decremented (checksum fixed),
 * first through a walk, then from the megaflow; one to an unknown MAC is a counted
 * drop; the megaflow view shows the hit. */
static void
test_forward_hit_drop(void **state)
{
    struct sb sb;
    struct rport r1, r2;
    struct mb_seen seen = {0};
    uint8_t f[256], want[256], got[256];

    sb_build(&sb);
    rport_create(&r1, "f1");
    rport_create(&r2, "f2");
    struct vswitch *vs = vs_new(NULL, &seen, 0);
    vs_sync(vs, &sb);
    vs_port(vs, "pf0vf0", &r1, "p1");
    vs_port(vs, "pf0vf1", &r2, "p2");

    size_t len = udp_frame(f, 2, 1, 1000);
    memcpy(want, f, len);
    want[14 + 8] = 63;
    put16(want + 14 + 10, 0);
    put16(want + 14 + 10, csum(want + 14, 20, 0));

    rport_send(&r1, f, len);
    size_t n = rport_recv(&r2, got, sizeof got);
    if (n != len) {
        vs_dump(vs);
    }
    assert_int_equal(n, len);
    assert_memory_equal(got, want, len);
    assert_int_equal(stat_get(vs, "walks"), 1);
    assert_int_equal(stat_get(vs, "megaflow_hits"), 0);

    rport_send(&r1, f, len);
    assert_int_equal(rport_recv(&r2, got, sizeof got), len);
    assert_memory_equal(got, want, len);
    assert_int_equal(stat_get(vs, "walks"), 1);
    assert_int_equal(stat_get(vs, "megaflow_hits"), 1);
    assert_int_equal(port_stat(vs, "pf0vf0", "megaflow_hits"), 1);
    assert_int_equal(port_stat(vs, "pf0vf1", "tx_packets"), 2);
    assert_int_equal(port_stat(vs, "pf0vf0", "rx_packets"), 2);

    /* Once more: answered by the flow cache in front of the megaflow cache, with the
     * same bytes (TTL and checksum updated incrementally). */
    int64_t emc = stat_get(vs, "emc_hits");
    rport_send(&r1, f, len);
    assert_int_equal(rport_recv(&r2, got, sizeof got), len);
    assert_memory_equal(got, want, len);
    assert_int_equal(stat_get(vs, "walks"), 1);
    assert_true(stat_get(vs, "emc_hits") > emc);

    /* Unknown destination: no flow matches, counted by reason, twice (walk, hit). */
    len = udp_frame(f, 9, 1, 1000);
    rport_send(&r1, f, len);
    rport_send(&r1, f, len);
    wait_stat(vs, "rx", 5);
    assert_true(rport_idle(&r2, 20));
    assert_int_equal(drops_get(vs, "no flow matched"), 2);
    assert_int_equal(drops_get(vs, NULL), 2);
    assert_int_equal(port_stat(vs, "pf0vf0", "rx_dropped"), 2);
    assert_int_equal(stat_get(vs, "walks"), 2);

    /* A malformed frame: the parser's reason. */
    f[14] = 0x46; /* IHL 6 */
    f[14 + 3] = 21;
    rport_send(&r1, f, 14 + 21);
    wait_stat(vs, "rx", 6);
    assert_int_equal(drops_get(vs, NULL), 3);

    json_t *mfs = vswitch_megaflows_json(vs, 0);
    assert_non_null(mfs);
    assert_int_equal(json_array_size(mfs), 2);
    size_t i;
    json_t *mf;
    int64_t packets = 0;
    bool seen_output = false;
    json_array_foreach(mfs, i, mf)
    {
        packets += json_integer_value(json_object_get(mf, "packets"));
        const char *actions = json_string_value(json_object_get(mf, "actions"));
        assert_non_null(actions);
        if (strstr(actions, "output(local:\"p2\")")) {
            seen_output = true;
            assert_non_null(strstr(actions, "dec_ttl"));
            assert_true(json_is_integer(json_object_get(mf, "used_ms")));
        }
    }
    assert_true(seen_output);
    /* Hits: two forwarded (megaflow, then flow cache), one dropped. */
    assert_int_equal(packets, 3);
    json_decref(mfs);
    json_t *lim = vswitch_megaflows_json(vs, 1);
    assert_int_equal(json_array_size(lim), 1);
    json_decref(lim);

    /* Errors of the port API. */
    struct ovnic_err err = {0};
    assert_int_equal(vswitch_port_add(vs, "pf0vf0", r1.name, "p9", &err), -EEXIST);
    assert_int_equal(vswitch_port_add(vs, "pf0vf9", r1.name, "p1", &err), -EEXIST);
    assert_int_equal(vswitch_port_add(vs, "pf0vf9", r1.name, "p9", &err), -EEXIST);
    assert_int_equal(vswitch_port_add(vs, "pf0vf9", "net_nosuchdriver0", "p9", &err),
                     -ENODEV);
    assert_int_equal(vswitch_port_del(vs, "pf0vf9"), -ENOENT);
    assert_int_equal(vswitch_port_del(vs, "uplink"), -ENOENT);

    /* Deleting p2: deliveries to it now drop as "no representor". */
    assert_int_equal(vswitch_port_del(vs, "pf0vf1"), 0);
    len = udp_frame(f, 2, 1, 1000);
    rport_send(&r1, f, len);
    wait_stat(vs, "rx", 7);
    assert_int_equal(drops_get(vs, "no representor"), 1);

    vs_destroy(vs);
    rport_destroy(&r1);
    rport_destroy(&r2);
    sb_destroy(&sb);
    (void)state;
}

/* put_arp gives MAC bindings through vswitch_run(), limited to ctrl_pps per port. */
static void
test_mac_binding_rate_limit(void **state)
{
    struct sb sb;
    struct rport r1;
    struct mb_seen seen = {0};
    uint8_t f[128];
    static const uint8_t vm1[6] = {0, 0, 0, 0, 0, 1};
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

    sb_build(&sb);
    rport_create(&r1, "m1");
    struct vswitch *vs = vs_new(NULL, &seen, 5);
    vs_sync(vs, &sb);
    vs_port(vs, "pf0vf0", &r1, "p1");

    size_t len = arp_frame(f, 2, bcast, vm1, "10.0.0.1", bcast, "10.0.0.2");
    for (int i = 0; i < 12; i++) {
        rport_send(&r1, f, len);
    }
    wait_stat(vs, "rx", 12);
    vswitch_run(vs);
    assert_int_equal(seen.n, 5);
    assert_string_equal(seen.lport, "p1");
    assert_false(seen.mb.ipv6);
    assert_memory_equal(seen.mb.mac, vm1, 6);
    assert_true(seen.mb.ip == ((lex_u128)0x0a000001));
    assert_int_equal(port_stat(vs, "pf0vf0", "ctrl_rate_drops"), 7);
    assert_int_equal(drops_get(vs, "ctrl rate limit"), 7);
    assert_int_equal(stat_get(vs, "walks"), 12);

    vs_destroy(vs);
    rport_destroy(&r1);
    sb_destroy(&sb);
    (void)state;
}

/* Traffic keeps flowing, without loss, while pipelines are swapped under it. */
static void
test_swap_under_traffic(void **state)
{
    struct sb sb;
    struct rport r1, r2;
    struct mb_seen seen = {0};
    uint8_t f[256];

    sb_build(&sb);
    rport_create(&r1, "s1");
    rport_create(&r2, "s2");
    struct vswitch *vs = vs_new(NULL, &seen, 0);
    vs_sync(vs, &sb);
    vs_port(vs, "pf0vf0", &r1, "p1");
    vs_port(vs, "pf0vf1", &r2, "p2");

    size_t len = udp_frame(f, 2, 1, 1000);
    struct rte_mbuf *tmpl = rte_pktmbuf_alloc(test_pool);
    memcpy(rte_pktmbuf_append(tmpl, (uint16_t)len), f, len);

    uint64_t sent = 0, received = 0, swaps = 0;
    uint64_t start = now_ms(), next_swap = start + 100;
    struct ovnic_err err = {0};
    while (now_ms() < start + 1500) {
        struct rte_mbuf *burst[32];
        unsigned int n = 0;
        /* At most 512 in flight: the rings (1023 places) never fill, so any loss
         * would be the vswitch's. */
        while (n < 32 && sent + n - received < 512) {
            burst[n] = rte_pktmbuf_copy(tmpl, test_pool, 0, UINT32_MAX);
            if (!burst[n]) {
                break;
            }
            n++;
        }
        unsigned int q = rte_ring_enqueue_burst(r1.rx, (void **)burst, n, NULL);
        sent += q;
        rte_pktmbuf_free_bulk(burst + q, n - q);
        void *out[64];
        unsigned int d;
        while ((d = rte_ring_dequeue_burst(r2.tx, out, 64, NULL)) > 0) {
            received += d;
            rte_pktmbuf_free_bulk((struct rte_mbuf **)out, d);
        }
        if (now_ms() >= next_swap) {
            assert_true(vswitch_pipeline_sync(vs, sb.replica, &err) > 0);
            vswitch_run(vs);
            swaps++;
            next_swap += 100;
        }
    }
    uint64_t deadline = now_ms() + 2000;
    while (received < sent && now_ms() < deadline) {
        void *out[64];
        unsigned int d = rte_ring_dequeue_burst(r2.tx, out, 64, NULL);
        received += d;
        rte_pktmbuf_free_bulk((struct rte_mbuf **)out, d);
        if (!d) {
            sleep_ms(1);
        }
    }
    double secs = (double)(now_ms() - start) / 1000.0;
    fprintf(stderr,
            "swap under traffic: %" PRIu64 " sent, %" PRIu64 " received, %" PRIu64
            " swaps, %" PRIu64 " walks, ~%.0f pps (test thread generating)\n",
            sent, received, swaps, (uint64_t)stat_get(vs, "walks"),
            (double)received / secs);
    assert_true(swaps >= 5);
    assert_true(sent > 1000);
    assert_int_equal(received, sent);
    assert_int_equal(drops_get(vs, NULL), 0);
    assert_true(stat_get(vs, "walks") >= 2);
    deadline = now_ms() + 2000;
    while (vswitch_generation_live(vs) != swaps + 1 && now_ms() < deadline) {
        sleep_ms(1);
    }
    assert_int_equal(vswitch_generation_live(vs), swaps + 1);
    vswitch_run(vs);

    rte_pktmbuf_free(tmpl);
    vs_destroy(vs);
    rport_destroy(&r1);
    rport_destroy(&r2);
    sb_destroy(&sb);
    (void)state;
}

/* An idle vswitch sleeps: under 5% of a core. */
static void
test_idle_cpu(void **state)
{
    struct sb sb;
    struct rport r1, r2;
    struct mb_seen seen = {0};

    sb_build(&sb);
    rport_create(&r1, "i1");
    rport_create(&r2, "i2");
    struct vswitch *vs = vs_new(NULL, &seen, 0);
    vs_sync(vs, &sb);
    vs_port(vs, "pf0vf0", &r1, "p1");
    vs_port(vs, "pf0vf1", &r2, "p2");
    sleep_ms(200);

    struct rusage a, b;
    getrusage(RUSAGE_SELF, &a);
    uint64_t t0 = now_ms();
    sleep_ms(2000);
    getrusage(RUSAGE_SELF, &b);
    uint64_t wall = now_ms() - t0;
    double cpu_ms = (double)(b.ru_utime.tv_sec - a.ru_utime.tv_sec) * 1000.0 +
                    (double)(b.ru_utime.tv_usec - a.ru_utime.tv_usec) / 1000.0 +
                    (double)(b.ru_stime.tv_sec - a.ru_stime.tv_sec) * 1000.0 +
                    (double)(b.ru_stime.tv_usec - a.ru_stime.tv_usec) / 1000.0;
    double pct = 100.0 * cpu_ms / (double)wall;
    fprintf(stderr,
            "idle: %.1f ms of CPU in %" PRIu64 " ms (%.2f%% of a core), %" PRId64
            " sleeps\n",
            cpu_ms, wall, pct, stat_get(vs, "idle_sleeps"));
    assert_true(pct < 5.0);
    assert_true(stat_get(vs, "idle_sleeps") > 100);

    vs_destroy(vs);
    rport_destroy(&r1);
    rport_destroy(&r2);
    sb_destroy(&sb);
    (void)state;
}

/* Geneve: ARP for our encap IP is answered; a frame to a port on hv2 first sends an
 * ARP request for hv2's encap IP (and is dropped, counted); after the reply, it leaves
 * the uplink in Geneve with the datapath's VNI and OVN's option, from the walk and
 * then from the megaflow.  Geneve from hv2 to p1 is delivered decapsulated. */
static void
test_geneve(void **state)
{
    struct sb sb;
    struct rport up, r1;
    struct mb_seen seen = {0};
    uint8_t f[256], got[512], arp[64];
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t zero[6] = {0};

    sb_build(&sb);
    rport_create(&up, "g0");
    rport_create(&r1, "g1");
    struct vswitch *vs = vs_new(up.name, &seen, 0);
    vs_sync(vs, &sb);
    vs_port(vs, "pf0vf0", &r1, "p1");

    /* ARP for our encap IP. */
    size_t alen =
        arp_frame(arp, 1, bcast, HV2_MAC, "192.168.100.12", zero, "192.168.100.11");
    rport_send(&up, arp, alen);
    size_t n = rport_recv(&up, got, sizeof got);
    assert_true(n >= 42);
    assert_memory_equal(got, HV2_MAC, 6);
    assert_memory_equal(got + 6, UPLINK_MAC, 6);
    assert_int_equal(got[21], 2);
    assert_memory_equal(got + 22, UPLINK_MAC, 6);

    /* To p4 on hv3 (192.168.100.13), unresolved: an ARP request, a counted drop. */
    size_t len = udp_frame(f, 4, 1, 2000);
    rport_send(&r1, f, len);
    n = rport_recv(&up, got, sizeof got);
    assert_true(n >= 42);
    assert_memory_equal(got, bcast, 6);
    assert_int_equal(got[12], 0x08);
    assert_int_equal(got[13], 0x06);
    assert_int_equal(got[21], 1);
    uint8_t tpa[4];
    inet_pton(AF_INET, "192.168.100.13", tpa);
    assert_memory_equal(got + 38, tpa, 4);
    wait_stat(vs, "rx", 2);
    assert_int_equal(drops_get(vs, "neighbour unresolved"), 1);

    /* To p3 on hv2: learned from its ARP request above, or resolved now. */
    len = udp_frame(f, 3, 1, 3000);
    for (int round = 0; round < 2; round++) {
        rport_send(&r1, f, len);
        n = rport_recv(&up, got, sizeof got);
        if (round == 0 && n && got[12] == 0x08 && got[13] == 0x06) {
            /* Not learned from the request: answer, and send again. */
            alen = arp_frame(arp, 2, UPLINK_MAC, HV2_MAC, "192.168.100.12", UPLINK_MAC,
                             "192.168.100.11");
            rport_send(&up, arp, alen);
            sleep_ms(20);
            rport_send(&r1, f, len);
            n = rport_recv(&up, got, sizeof got);
        }
        assert_int_equal(n, 14 + 20 + 8 + 16 + len);
        assert_memory_equal(got, HV2_MAC, 6);
        assert_memory_equal(got + 6, UPLINK_MAC, 6);
        assert_int_equal(got[12], 0x08);
        assert_int_equal(got[13], 0x00);
        const uint8_t *ip = got + 14;
        assert_int_equal(ip[9], 17);
        uint8_t src[4], dst[4];
        inet_pton(AF_INET, "192.168.100.11", src);
        inet_pton(AF_INET, "192.168.100.12", dst);
        assert_memory_equal(ip + 12, src, 4);
        assert_memory_equal(ip + 16, dst, 4);
        assert_int_equal(csum(ip, 20, 0), 0);
        const uint8_t *udp = ip + 20;
        assert_int_equal(udp[2] << 8 | udp[3], 6081);
        assert_true((udp[0] << 8 | udp[1]) >= 49152);
        const uint8_t *gnv = udp + 8;
        assert_int_equal(gnv[0], 0x02); /* Version 0, 8 bytes of options. */
        assert_int_equal(gnv[2] << 8 | gnv[3], 0x6558);
        assert_int_equal(gnv[4] << 16 | gnv[5] << 8 | gnv[6], 1); /* VNI */
        assert_int_equal(gnv[8] << 8 | gnv[9], 0x0102);
        assert_int_equal(gnv[10], 0x80);
        assert_int_equal(gnv[11] & 0x1f, 1);
        uint32_t opt = (uint32_t)(gnv[12] << 24 | gnv[13] << 16 | gnv[14] << 8 | gnv[15]);
        assert_int_equal(opt, (1u << 16) | 3u);
        assert_memory_equal(gnv + 16, f, len);
    }
    assert_true(stat_get(vs, "megaflow_hits") >= 1);
    assert_true(stat_get(vs, "tunnel_tx") >= 2);

    /* From hv2: Geneve to p1, delivered decapsulated (walk, then megaflow). */
    uint8_t inner[128];
    size_t ilen = udp_frame(inner, 1, 3, 4000);
    memcpy(f, UPLINK_MAC, 6);
    memcpy(f + 6, HV2_MAC, 6);
    put16(f + 12, 0x0800);
    uint8_t *ip = f + 14;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(20 + 8 + 16 + ilen));
    ip[8] = 64;
    ip[9] = 17;
    inet_pton(AF_INET, "192.168.100.12", ip + 12);
    inet_pton(AF_INET, "192.168.100.11", ip + 16);
    put16(ip + 10, csum(ip, 20, 0));
    uint8_t *udp = ip + 20;
    put16(udp, 50000);
    put16(udp + 2, 6081);
    put16(udp + 4, (uint16_t)(8 + 16 + ilen));
    put16(udp + 6, 0);
    uint8_t *gnv = udp + 8;
    memset(gnv, 0, 16);
    gnv[0] = 0x02;
    put16(gnv + 2, 0x6558);
    gnv[6] = 1;
    put16(gnv + 8, 0x0102);
    gnv[10] = 0x80;
    gnv[11] = 1;
    put16(gnv + 12, 3);
    put16(gnv + 14, 1);
    memcpy(gnv + 16, inner, ilen);
    size_t glen = 14 + 20 + 8 + 16 + ilen;
    int64_t walks = stat_get(vs, "walks");
    for (int round = 0; round < 2; round++) {
        rport_send(&up, f, glen);
        assert_int_equal(rport_recv(&r1, got, sizeof got), ilen);
        assert_memory_equal(got, inner, ilen);
    }
    assert_int_equal(stat_get(vs, "walks"), walks + 1);
    assert_int_equal(stat_get(vs, "tunnel_rx"), 2);

    /* Neighbour view. */
    json_t *nj = vswitch_neigh_json(vs);
    assert_non_null(nj);
    assert_true(json_array_size(json_object_get(nj, "entries")) >= 1);
    json_decref(nj);

    vs_destroy(vs);
    rport_destroy(&up);
    rport_destroy(&r1);
    sb_destroy(&sb);
    (void)state;
}

/* A provider network: p5 to p6 (on hv2) leaves the uplink tagged with VLAN 100; a
 * tagged frame from the uplink to p5 is delivered untagged; each from a walk, then
 * from the megaflow. */
static void
test_localnet(void **state)
{
    struct sb sb;
    struct rport up, r5;
    struct mb_seen seen = {0};
    uint8_t f[256], want[256], got[256], tagged[256];
    static const uint8_t tag100[4] = {0x81, 0x00, 0x00, 100};

    sb_build(&sb);
    rport_create(&up, "l0");
    rport_create(&r5, "l5");
    struct vswitch *vs = vs_new_provider(up.name, &seen, 0, "phys");
    vs_sync(vs, &sb);
    vs_port(vs, "pf0vf0", &r5, "p5");

    size_t len = udp_frame(f, 6, 5, 1000);
    memcpy(want, f, 12);
    memcpy(want + 12, tag100, 4);
    memcpy(want + 16, f + 12, len - 12);
    for (int round = 0; round < 2; round++) {
        rport_send(&r5, f, len);
        assert_int_equal(rport_recv(&up, got, sizeof got), len + 4);
        assert_memory_equal(got, want, len + 4);
    }
    len = udp_frame(f, 5, 6, 1000);
    memcpy(tagged, f, 12);
    memcpy(tagged + 12, tag100, 4);
    memcpy(tagged + 16, f + 12, len - 12);
    for (int round = 0; round < 2; round++) {
        rport_send(&up, tagged, len + 4);
        assert_int_equal(rport_recv(&r5, got, sizeof got), len);
        assert_memory_equal(got, f, len);
    }
    assert_int_equal(stat_get(vs, "walks"), 2);
    assert_int_equal(stat_get(vs, "megaflow_hits"), 2);
    /* Another VLAN: no localnet port for it. */
    tagged[15] = 101;
    rport_send(&up, tagged, len + 4);
    wait_stat(vs, "rx", 5);
    assert_int_equal(drops_get(vs, "input refused"), 1);

    vs_destroy(vs);
    rport_destroy(&up);
    rport_destroy(&r5);
    sb_destroy(&sb);
    (void)state;
}

/* Traces run on the lcore through the live pipeline; nothing is sent. */
static void
test_trace(void **state)
{
    struct sb sb;
    struct rport r1, r2;
    struct mb_seen seen = {0};
    uint8_t f[256];
    struct ovnic_err err = {0};

    sb_build(&sb);
    rport_create(&r1, "t1");
    rport_create(&r2, "t2");
    struct vswitch *vs = vs_new(NULL, &seen, 0);

    size_t len = udp_frame(f, 2, 1, 1000);
    vs_port(vs, "pf0vf0", &r1, "p1");
    assert_null(vswitch_trace_json(vs, "pf0vf0", f, len, &err));
    assert_int_equal(err.code, -EAGAIN);

    vs_sync(vs, &sb);
    vs_port(vs, "pf0vf1", &r2, "p2");
    ovnic_err_clear(&err);
    json_t *t = vswitch_trace_json(vs, "pf0vf0", f, len, &err);
    assert_non_null(t);
    json_t *outs = json_object_get(t, "outputs");
    assert_int_equal(json_array_size(outs), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(outs, 0), "port")), "p2");
    assert_true(json_array_size(json_object_get(t, "trace")) > 0);
    json_decref(t);
    assert_true(rport_idle(&r2, 20));
    assert_int_equal(stat_get(vs, "walks"), 0);

    ovnic_err_clear(&err);
    assert_null(vswitch_trace_json(vs, "nosuch", f, len, &err));
    assert_int_equal(err.code, -ENOENT);
    ovnic_err_clear(&err);
    assert_null(vswitch_trace_json(vs, "pf0vf0", f, 6, &err));
    assert_int_equal(err.code, -EINVAL);
    ovnic_err_clear(&err);
    assert_null(vswitch_trace_json(vs, "uplink", f, len, &err));
    assert_int_equal(err.code, -ENOENT);

    json_t *ct = vswitch_conntrack_stats_json(vs);
    assert_non_null(ct);
    json_decref(ct);
    ct = vswitch_conntrack_json(vs, -1, 0);
    assert_non_null(ct);
    json_decref(ct);

    vs_destroy(vs);
    rport_destroy(&r1);
    rport_destroy(&r2);
    sb_destroy(&sb);
    (void)state;
}

/* A representor attached through devargs (net_pcap, hot-plugged) and detached. */
static void
test_pcap_hotplug(void **state)
{
    struct sb sb;
    struct rport r2;
    struct mb_seen seen = {0};
    uint8_t f[256], got[256];
    char dir[] = "/tmp/ovnic-vswitch-XXXXXX";
    char in[300], out[300], devargs[700];

    assert_non_null(mkdtemp(dir));
    snprintf(in, sizeof in, "%s/in.pcap", dir);
    snprintf(out, sizeof out, "%s/out.pcap", dir);
    size_t len = udp_frame(f, 2, 1, 1000);
    FILE *fp = fopen(in, "wb");
    assert_non_null(fp);
    uint32_t gh[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
    uint32_t rh[4] = {0, 0, (uint32_t)len, (uint32_t)len};
    fwrite(gh, sizeof gh, 1, fp);
    fwrite(rh, sizeof rh, 1, fp);
    fwrite(f, len, 1, fp);
    fclose(fp);

    sb_build(&sb);
    rport_create(&r2, "h2");
    struct vswitch *vs = vs_new(NULL, &seen, 0);
    vs_sync(vs, &sb);
    vs_port(vs, "pf0vf1", &r2, "p2");
    snprintf(devargs, sizeof devargs, "net_pcap_vs0,rx_pcap=%s,tx_pcap=%s", in, out);
    struct ovnic_err err = {0};
    assert_int_equal(vswitch_port_add(vs, "pf0vf0", devargs, "p1", &err), 0);
    assert_int_equal(rport_recv(&r2, got, sizeof got), len);
    assert_int_equal(got[14 + 8], 63);
    json_t *ports = vswitch_ports_json(vs);
    assert_int_equal(json_array_size(ports), 2);
    json_decref(ports);
    assert_int_equal(vswitch_port_del(vs, "pf0vf0"), 0);
    uint16_t id;
    assert_int_not_equal(rte_eth_dev_get_port_by_name("net_pcap_vs0", &id), 0);
    /* Attaching it again works: it was detached. */
    assert_int_equal(vswitch_port_add(vs, "pf0vf0", devargs, "p1", &err), 0);
    assert_int_equal(rport_recv(&r2, got, sizeof got), len);

    vs_destroy(vs);
    assert_int_not_equal(rte_eth_dev_get_port_by_name("net_pcap_vs0", &id), 0);
    rport_destroy(&r2);
    sb_destroy(&sb);
    unlink(in);
    unlink(out);
    rmdir(dir);
    (void)state;
}

/* ---- Port states. ---- */

struct port_events {
    int n;
    char name[8][VSWITCH_TEST_NAME];
    enum vswitch_port_state state[8];
};

static void
port_cb(void *aux, const char *name, const char *lport, enum vswitch_port_state state)
{
    struct port_events *ev = aux;
    (void)lport;
    if (ev->n < 8) {
        snprintf(ev->name[ev->n], sizeof ev->name[0], "%s", name);
        ev->state[ev->n++] = state;
    }
}

static struct vswitch *
vs_new_events(const char *uplink, const char *uplink_mac, struct port_events *ev)
{
    struct vswitch_config cfg = {
        .chassis = "hv1",
        .n_mbufs = 8191,
        .uplink_devargs = uplink,
        .uplink_mac = uplink_mac,
        .encap_ip = uplink ? "192.168.100.11" : NULL,
        .encap_plen = 24,
        .port_state_cb = port_cb,
        .aux = ev,
    };
    struct vswitch *vs = NULL;
    struct ovnic_err err = {0};
    vswitch_destroy(live_vs);
    live_vs = NULL;
    int rc = vswitch_create(&cfg, &vs, &err);
    if (rc) {
        char buf[256];
        fprintf(stderr, "vswitch_create: %s\n", ovnic_err_format(&err, buf, sizeof buf));
    }
    assert_int_equal(rc, 0);
    live_vs = vs;
    return vs;
}

/* Runs vswitch_run() until port 'name' is in 'state' (at most 'ms'). */
static bool
run_until_state(struct vswitch *vs, const char *name, enum vswitch_port_state state,
                unsigned int ms)
{
    uint64_t deadline = now_ms() + ms;
    while (vswitch_port_state(vs, name) != (int)state && now_ms() < deadline) {
        vswitch_run(vs);
        sleep_ms(1);
    }
    return vswitch_port_state(vs, name) == (int)state;
}

static const char *
port_str(struct vswitch *vs, const char *port, const char *key, char *buf, size_t size)
{
    json_t *a = vswitch_ports_json(vs);
    size_t i;
    json_t *p;
    buf[0] = '\0';
    json_array_foreach(a, i, p)
    {
        const char *v = json_string_value(json_object_get(p, key));
        if (!strcmp(json_string_value(json_object_get(p, "name")), port) && v) {
            snprintf(buf, size, "%s", v);
        }
    }
    json_decref(a);
    return buf;
}

/* A representor whose link goes down (as when the NIC's end of it goes away) is
 * down: not polled, what is sent to it dropped as "port down", reported once; the
 * control thread restarts its device and it is up again, with what waited in its
 * queue. */
static void
test_link_loss(void **state)
{
    struct sb sb;
    struct rport r1, r2;
    struct port_events ev = {0};
    uint8_t f[256], got[256];
    char buf[256];

    sb_build(&sb);
    rport_create(&r1, "k1");
    rport_create(&r2, "k2");
    struct vswitch *vs = vs_new_events(NULL, NULL, &ev);
    vs_sync(vs, &sb);
    vs_port(vs, "pf0vf0", &r1, "p1");
    vs_port(vs, "pf0vf1", &r2, "p2");
    assert_int_equal(vswitch_port_state(vs, "pf0vf1"), VSWITCH_PORT_UP);
    assert_int_equal(vswitch_port_state(vs, "nosuch"), -ENOENT);
    assert_int_equal(ev.n, 0); /* Up from the start: no change to report. */
    assert_string_equal(port_str(vs, "pf0vf1", "state", buf, sizeof buf), "up");

    size_t len = udp_frame(f, 2, 1, 1000);
    rport_send(&r1, f, len);
    assert_int_equal(rport_recv(&r2, got, sizeof got), len);

    /* pf0vf1's link goes down.  (No vswitch_run() between the checks below: the
     * test thread is the control thread, so nothing restarts it meanwhile.) */
    assert_int_equal(rte_eth_dev_set_link_down(r2.port_id), 0);
    assert_true(run_until_state(vs, "pf0vf1", VSWITCH_PORT_DOWN, 1000));
    assert_int_equal(ev.n, 1);
    assert_string_equal(ev.name[0], "pf0vf1");
    assert_int_equal(ev.state[0], VSWITCH_PORT_DOWN);
    assert_int_equal(port_stat(vs, "pf0vf1", "link_losses"), 1);
    assert_string_equal(port_str(vs, "pf0vf1", "state", buf, sizeof buf), "down");
    assert_int_equal(vswitch_port_state(vs, "pf0vf0"), VSWITCH_PORT_UP);

    int64_t rx = stat_get(vs, "rx");
    rport_send(&r1, f, len);
    wait_stat(vs, "rx", rx + 1);
    assert_true(rport_idle(&r2, 20));
    assert_int_equal(drops_get(vs, "port down"), 1);
    /* From p2 while it is down: not received (it waits in the ring). */
    uint8_t back[256];
    size_t blen = udp_frame(back, 1, 2, 2000);
    rport_send(&r2, back, blen);
    assert_true(rport_idle(&r1, 20));
    assert_int_equal(stat_get(vs, "rx"), rx + 1);

    /* Restarted with back-off: up again, and what waited goes through. */
    assert_true(run_until_state(vs, "pf0vf1", VSWITCH_PORT_UP, 3000));
    assert_int_equal(ev.n, 2);
    assert_int_equal(ev.state[1], VSWITCH_PORT_UP);
    assert_int_equal(port_stat(vs, "pf0vf1", "recoveries"), 1);
    assert_true(port_stat(vs, "pf0vf1", "attempts") == 0);
    assert_int_equal(rport_recv(&r1, got, sizeof got), blen);
    rport_send(&r1, f, len);
    assert_int_equal(rport_recv(&r2, got, sizeof got), len);
    assert_int_equal(drops_get(vs, "port down"), 1);

    vs_destroy(vs);
    rport_destroy(&r1);
    rport_destroy(&r2);
    sb_destroy(&sb);
    (void)state;
}

/* Ports whose device is absent (memif sockets of a NIC that is not there) wait
 * instead of failing, with why; the uplink too, at create; a driver that does not
 * exist is still an error. */
static void
test_port_waiting(void **state)
{
    struct port_events ev = {0};
    char dir[] = "/tmp/ovnic-vswitch-XXXXXX";
    char sub[300], uplink[700], devargs[700], buf[256];
    struct ovnic_err err = {0};

    assert_non_null(mkdtemp(dir));
    snprintf(sub, sizeof sub, "%s/memif", dir);
    snprintf(uplink, sizeof uplink,
             "net_memif_wu,role=client,socket=%s/p0.sock,socket-abstract=no", sub);
    snprintf(devargs, sizeof devargs,
             "net_memif_w0,role=client,socket=%s/pf0vf0.sock,socket-abstract=no", sub);

    /* No uplink MAC configured, no device to read it from: the neighbour table waits
     * too. */
    struct vswitch *vs = vs_new_events(uplink, NULL, &ev);
    assert_int_equal(vswitch_port_state(vs, "uplink"), VSWITCH_PORT_WAITING);
    json_t *nj = vswitch_neigh_json(vs);
    assert_true(json_is_null(json_object_get(nj, "local_ip")));
    json_decref(nj);

    assert_int_equal(vswitch_port_add(vs, "pf0vf0", devargs, "p1", &err), 0);
    assert_int_equal(vswitch_port_state(vs, "pf0vf0"), VSWITCH_PORT_WAITING);
    assert_string_equal(port_str(vs, "pf0vf0", "state", buf, sizeof buf), "waiting");
    /* The socket's directory is missing: the device does not even probe. */
    assert_non_null(strstr(port_str(vs, "pf0vf0", "error", buf, sizeof buf),
                           "devargs do not attach"));
    json_t *ports = vswitch_ports_json(vs);
    assert_true(json_is_null(json_object_get(json_array_get(ports, 1), "port_id")));
    json_decref(ports);

    /* The directory appears, no server listens yet: the device probes, and does not
     * start. */
    assert_int_equal(mkdir(sub, 0755), 0);
    uint64_t deadline = now_ms() + 3000;
    while (!strstr(port_str(vs, "pf0vf0", "error", buf, sizeof buf), "no memif server") &&
           now_ms() < deadline) {
        vswitch_run(vs);
        sleep_ms(5);
    }
    assert_non_null(strstr(buf, "no memif server"));
    assert_true(port_stat(vs, "pf0vf0", "attempts") >= 2);
    assert_int_equal(vswitch_port_state(vs, "pf0vf0"), VSWITCH_PORT_WAITING);
    assert_int_equal(ev.n, 0);
    assert_int_equal(vswitch_port_del(vs, "pf0vf0"), 0);
    assert_int_equal(vswitch_port_state(vs, "pf0vf0"), -ENOENT);

    /* Errors that waiting would not cure. */
    assert_int_equal(vswitch_port_add(vs, "pf0vf1", "net_nosuchdriver1", "p2", &err),
                     -ENODEV);
    vs_destroy(vs);
    rmdir(sub);
    rmdir(dir);
    (void)state;
}

static void
test_bad_config(void **state)
{
    struct vswitch *vs = NULL;
    struct ovnic_err err = {0};
    struct vswitch_config cfg = {.chassis = NULL};
    assert_int_equal(vswitch_create(&cfg, &vs, &err), -EINVAL);
    cfg.chassis = "hv1";
    cfg.encap_ip = "192.168.100.11";
    assert_int_equal(vswitch_create(&cfg, &vs, &err), -EINVAL);
    cfg.uplink_devargs = "net_nosuchdriver_up";
    cfg.encap_ip = "not-an-ip";
    assert_int_equal(vswitch_create(&cfg, &vs, &err), -EINVAL);
    cfg.encap_ip = "192.168.100.11";
    cfg.uplink_mac = "zz:00";
    assert_int_equal(vswitch_create(&cfg, &vs, &err), -EINVAL);
    cfg.uplink_mac = NULL;
    vswitch_destroy(live_vs);
    live_vs = NULL;
    assert_int_equal(vswitch_create(&cfg, &vs, &err), -ENODEV);
    assert_null(vs);
    vswitch_destroy(NULL);
    (void)state;
}

int
main(void)
{
    struct vswitch_config cfg = {.chassis = "probe", .n_mbufs = 1023};
    struct vswitch *vs = NULL;
    struct ovnic_err err = {0};
    if (vswitch_create(&cfg, &vs, &err)) {
        char buf[256];
        fprintf(stderr, "skipped: DPDK does not start here: %s\n",
                ovnic_err_format(&err, buf, sizeof buf));
        return 77;
    }
    vs_destroy(vs);

    void *ring = dlopen("librte_net_ring.so.23", RTLD_NOW | RTLD_NOLOAD);
    if (!ring) {
        ring = dlopen("librte_net_ring.so.23", RTLD_NOW);
    }
    if (!ring ||
        !(from_rings = (int (*)(const char *, struct rte_ring *const[], unsigned int,
                                struct rte_ring *const[], unsigned int,
                                unsigned int))dlsym(ring, "rte_eth_from_rings"))) {
        fprintf(stderr, "net_ring PMD not available: %s\n", dlerror());
        return 1;
    }
    test_pool = rte_pktmbuf_pool_create("test_pool", 8191, 256, 0,
                                        RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    if (!test_pool) {
        fprintf(stderr, "no test mbuf pool\n");
        return 1;
    }

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_hit_drop),
        cmocka_unit_test(test_mac_binding_rate_limit),
        cmocka_unit_test(test_swap_under_traffic),
        cmocka_unit_test(test_idle_cpu),
        cmocka_unit_test(test_geneve),
        cmocka_unit_test(test_localnet),
        cmocka_unit_test(test_trace),
        cmocka_unit_test(test_pcap_hotplug),
        cmocka_unit_test(test_link_loss),
        cmocka_unit_test(test_port_waiting),
        cmocka_unit_test(test_bad_config),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    rte_mempool_free(test_pool);
    dlclose(ring);
    return rc;
}
