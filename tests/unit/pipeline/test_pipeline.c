/* Unit tests of dpu/pipeline/pipeline.c and physical.c on hand-built SB replicas:
 * trace mode, localnet with VLAN tags, the walk-depth cap, refused inputs,
 * controller actions (put_dhcp_opts pausing, put_arp, arp { } building a packet),
 * flows that do not parse, zones and names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/ovsdb/replica.h"
#include "dpu/ovsdb/schema.h"
#include "dpu/pipeline/ctrl.h"
#include "dpu/pipeline/packet.h"
#include "dpu/pipeline/pipeline.h"
#include "shared/util/util.h"

#define SB_SCHEMA "/usr/share/ovn/ovn-sb.ovsschema"

/* ---- Building an SB. ---- */

struct sb {
    json_t *updates;
    int n;
};

static void
sb_row(struct sb *sb, const char *table, const char *uuid, json_t *row)
{
    json_t *t = json_object_get(sb->updates, table);
    if (!t) {
        t = json_object();
        json_object_set_new(sb->updates, table, t);
    }
    json_object_set_new(t, uuid, json_pack("{s:o}", "new", row));
}

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

/* Datapath uuid n, tunnel key 'key'. */
static void
sb_dp(struct sb *sb, int n, int key, const char *name, bool router)
{
    char u[37];
    sb_row(sb, "Datapath_Binding", uuid_n(u, n),
           json_pack("{s:i,s:[s,[[s,s],[s,s]]]}", "tunnel_key", key, "external_ids",
                     "map", "name", name, router ? "logical-router" : "logical-switch",
                     "00000000-0000-0000-0000-000000000abc"));
}

static void
sb_port(struct sb *sb, int n, int dp, const char *name, int key, const char *type,
        int chassis, json_t *options)
{
    char u[37];
    json_t *row = json_pack("{s:s,s:i,s:o,s:s,s:o}", "logical_port", name, "tunnel_key",
                            key, "datapath", ref(dp), "type", type, "options",
                            options ? options : json_pack("[s,[]]", "map"));
    if (chassis) {
        json_object_set_new(row, "chassis", ref(chassis));
    }
    sb_row(sb, "Port_Binding", uuid_n(u, n), row);
}

static void
sb_chassis(struct sb *sb, int n, const char *name, const char *ip)
{
    char u[37];
    sb_row(sb, "Encap", uuid_n(u, n + 1),
           json_pack("{s:s,s:s,s:s}", "type", "geneve", "ip", ip, "chassis_name", name));
    sb_row(
        sb, "Chassis", uuid_n(u, n),
        json_pack("{s:s,s:s,s:o}", "name", name, "hostname", name, "encaps", ref(n + 1)));
}

static void
sb_flow(struct sb *sb, int dp, const char *pipeline, int table, int prio,
        const char *match, const char *actions)
{
    char u[37];
    sb_row(sb, "Logical_Flow", uuid_n(u, 5000 + sb->n++),
           json_pack("{s:o,s:s,s:i,s:i,s:s,s:s,s:[s,[[s,s]]]}", "logical_datapath",
                     ref(dp), "pipeline", pipeline, "table_id", table, "priority", prio,
                     "match", match, "actions", actions, "external_ids", "map",
                     "stage-name", "test_stage"));
}

static void
sb_mcgroup(struct sb *sb, int n, int dp, const char *name, int key, const int *ports,
           size_t n_ports)
{
    char u[37];
    json_t *set = json_array();
    for (size_t i = 0; i < n_ports; i++) {
        json_array_append_new(set, ref(ports[i]));
    }
    sb_row(sb, "Multicast_Group", uuid_n(u, n),
           json_pack("{s:o,s:s,s:i,s:[s,o]}", "datapath", ref(dp), "name", name,
                     "tunnel_key", key, "ports", "set", set));
}

/* Switch "sw" (dp 1, key 1): p1 (hv1), p2 (hv1), p3 (hv2), localnet "ln" on
 * network "phys" VLAN 100, flood group; hv1 and hv2. */
static void
sb_switch(struct sb *sb)
{
    sb->updates = json_object();
    sb->n = 0;
    sb_chassis(sb, 900, "hv1", "192.168.0.1");
    sb_chassis(sb, 910, "hv2", "192.168.0.2");
    sb_dp(sb, 1, 1, "sw", false);
    sb_port(sb, 11, 1, "p1", 1, "", 900, NULL);
    sb_port(sb, 12, 1, "p2", 2, "", 900, NULL);
    sb_port(sb, 13, 1, "p3", 3, "", 910, NULL);
    sb_port(sb, 14, 1, "ln", 4, "localnet", 0,
            json_pack("[s,[[s,s]]]", "map", "network_name", "phys"));
    static const int members[] = {11, 12, 13, 14};
    sb_mcgroup(sb, 20, 1, "_MC_flood", 32768, members, ARRAY_SIZE(members));
    sb_flow(sb, 1, "ingress", 0, 100, "1", "next;");
    for (int i = 1; i <= 3; i++) {
        char m[64], a[64];
        snprintf(m, sizeof m, "eth.dst == 00:00:00:00:00:0%d", i);
        snprintf(a, sizeof a, "outport = \"p%d\"; output;", i);
        sb_flow(sb, 1, "ingress", 1, 50, m, a);
    }
    sb_flow(sb, 1, "ingress", 1, 10, "eth.mcast", "outport = \"_MC_flood\"; output;");
    sb_flow(sb, 1, "egress", 0, 0, "1", "output;");
}

static void
sb_load(struct sb *sb, struct ovsdb_schema **schema, struct ovsdb_replica **replica)
{
    struct ovnic_err err = {0};
    assert_int_equal(ovsdb_schema_from_file(SB_SCHEMA, schema, &err), 0);
    assert_int_equal(ovsdb_replica_create(*schema, replica), 0);
    /* The tag of the localnet port. */
    json_t *ln = json_object_get(json_object_get(sb->updates, "Port_Binding"),
                                 "00000000-0000-0000-0000-000000000014");
    if (ln) {
        json_object_set_new(json_object_get(ln, "new"), "tag", json_integer(100));
    }
    int rc = ovsdb_replica_apply(*replica, OVSDB_UPDATE_V1, sb->updates, &err);
    if (rc) {
        char buf[256];
        fprintf(stderr, "%s\n", ovnic_err_format(&err, buf, sizeof buf));
    }
    assert_int_equal(rc, 0);
    json_decref(sb->updates);
}

struct fx {
    struct ovsdb_schema *schema;
    struct ovsdb_replica *replica;
    struct pipeline *pl;
};

static void
fx_init(struct fx *fx, struct sb *sb, const struct pipeline_config *cfg)
{
    sb_load(sb, &fx->schema, &fx->replica);
    assert_int_equal(pipeline_create(cfg, &fx->pl), 0);
    struct ovnic_err err = {0};
    assert_int_equal(pipeline_sync(fx->pl, fx->replica, &err), 0);
}

static void
fx_destroy(struct fx *fx)
{
    pipeline_destroy(fx->pl);
    ovsdb_replica_destroy(fx->replica);
    ovsdb_schema_destroy(fx->schema);
}

/* ---- Frames and keys. ---- */

static size_t
frame(uint8_t *p, int dst, int src, int vlan)
{
    size_t n = 0;
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    if (dst < 0) {
        memcpy(p, bcast, 6);
    } else {
        memcpy(p, (uint8_t[]){0, 0, 0, 0, 0, (uint8_t)dst}, 6);
    }
    memcpy(p + 6, (uint8_t[]){0, 0, 0, 0, 0, (uint8_t)src}, 6);
    n = 12;
    if (vlan >= 0) {
        p[n++] = 0x81;
        p[n++] = 0x00;
        p[n++] = (uint8_t)(vlan >> 8);
        p[n++] = (uint8_t)vlan;
    }
    p[n++] = 0x88;
    p[n++] = 0xb5;
    memcpy(p + n, "payload-payload-payload-payload-payload-payload", 46);
    return n + 46;
}

/* Ethernet + IPv4 + UDP from 10.0.0.1 to 10.0.0.9. */
static size_t
ip_frame(uint8_t *p, int dst, int src)
{
    frame(p, dst, src, -1);
    p[12] = 0x08;
    p[13] = 0x00;
    uint8_t *ip = p + 14;
    memset(ip, 0, 28);
    ip[0] = 0x45;
    ip[3] = 28;
    ip[8] = 64;
    ip[9] = 17;
    memcpy(ip + 12, (uint8_t[]){10, 0, 0, 1, 10, 0, 0, 9}, 8);
    memset(ip + 20, 0x30, 4); /* Ports 0x3030. */
    ip[25] = 8;
    return 14 + 28;
}

/* Ethernet/IPv4/UDP 68 -> 67, a DHCPDISCOVER from 00:00:00:00:00:01. */
static size_t
dhcp_discover(uint8_t *p)
{
    memset(p, 0, 400);
    memset(p, 0xff, 6);
    p[11] = 1;
    p[12] = 0x08;
    uint8_t *ip = p + 14;
    size_t bootp_len = 236 + 4 + 3 + 1;
    size_t udp_len = 8 + bootp_len;
    ip[0] = 0x45;
    ip[2] = (uint8_t)((20 + udp_len) >> 8);
    ip[3] = (uint8_t)(20 + udp_len);
    ip[8] = 64;
    ip[9] = 17;
    memset(ip + 16, 0xff, 4);
    uint8_t *udp = ip + 20;
    udp[1] = 68;
    udp[3] = 67;
    udp[4] = (uint8_t)(udp_len >> 8);
    udp[5] = (uint8_t)udp_len;
    uint8_t *b = udp + 8;
    b[0] = 1;
    b[1] = 1;
    b[2] = 6;
    memcpy(b + 4, "\x12\x34\x56\x78", 4);
    b[28 + 5] = 1; /* chaddr */
    memcpy(b + 236, "\x63\x82\x53\x63", 4);
    memcpy(b + 240, "\x35\x01\x01\xff", 4);
    return 14 + 20 + udp_len;
}

static void
process(struct pipeline *pl, enum pipeline_input_type type, const char *port,
        const uint8_t *pkt, size_t len, const struct pkey *key, struct pipeline_result *r)
{
    struct pipeline_input in = {.type = type,
                                .port = port,
                                .in_port = 1,
                                .packet = pkt,
                                .len = len,
                                .key = key,
                                .trace = true};
    pipeline_result_init(r);
    assert_int_equal(pipeline_process(pl, &in, r), 0);
    char *t = pipeline_trace_format(r);
    assert_non_null(t);
    if (getenv("OVNIC_TEST_VERBOSE")) {
        char *m = pipeline_megaflow_format(r);
        fprintf(stderr, "%s\nmegaflow: %s\n\n", t, m);
        free(m);
    }
    free(t);
    json_t *j = pipeline_result_to_json(r);
    assert_non_null(j);
    json_decref(j);
}

static void
eth_key(struct pkey *k, int dst, int src)
{
    uint8_t p[128];
    size_t n = frame(p, dst, src, -1);
    assert_int_equal(packet_parse(p, n, 0, k, NULL, NULL, NULL), 0);
}

/* ---- Tests. ---- */

static void
test_trace_mode(void **state OVNIC_UNUSED)
{
    struct sb sb;
    sb_switch(&sb);
    struct pipeline_config cfg = {.trace_mode = true};
    struct fx fx;
    fx_init(&fx, &sb, &cfg);

    struct pipeline_stats st;
    pipeline_get_stats(fx.pl, &st);
    assert_int_equal(st.n_datapaths, 1);
    assert_int_equal(st.n_ports, 4);
    assert_int_equal(st.n_lflows, 6);
    assert_int_equal(st.generation, 1);

    /* Unicast to p3 (on hv2): in trace mode, a logical output. */
    struct pkey k;
    struct pipeline_result r;
    eth_key(&k, 3, 1);
    process(fx.pl, PIPELINE_IN_VIF, "p1", NULL, 0, &k, &r);
    assert_int_equal(r.n_outputs, 1);
    assert_int_equal(r.outputs[0].type, PIPELINE_OUT_LOGICAL);
    assert_string_equal(r.outputs[0].port, "p3");
    assert_null(r.outputs[0].packet);
    /* The trace: pipeline, two flows, egress, one flow, output. */
    size_t n_flows = 0;
    for (size_t i = 0; i < r.n_trace; i++) {
        if (r.trace[i].type == PIPELINE_TRACE_FLOW) {
            n_flows++;
            assert_string_equal(r.trace[i].stage, "test_stage");
        }
    }
    assert_int_equal(n_flows, 3);
    assert_int_equal(r.trace[0].type, PIPELINE_TRACE_PIPELINE);
    assert_string_equal(r.trace[0].text, "ingress(dp=\"sw\", inport=\"p1\")");
    pipeline_result_destroy(&r);

    /* Broadcast: every member but the inport, no tunnel. */
    eth_key(&k, -1, 1);
    process(fx.pl, PIPELINE_IN_VIF, "p1", NULL, 0, &k, &r);
    assert_int_equal(r.n_outputs, 3);
    for (size_t i = 0; i < r.n_outputs; i++) {
        assert_int_equal(r.outputs[i].type, PIPELINE_OUT_LOGICAL);
        assert_string_not_equal(r.outputs[i].port, "p1");
    }
    assert_int_equal(r.n_drops, 1); /* The copy for p1: loopback. */
    pipeline_result_destroy(&r);

    /* Names and zones. */
    uint32_t key;
    assert_int_equal(pipeline_datapath_key(fx.pl, "sw", &key), 0);
    assert_int_equal(key, 1);
    assert_int_equal(pipeline_datapath_key(fx.pl, "p2", &key), 0);
    assert_int_equal(pipeline_datapath_key(fx.pl, "nope", &key), -ENOENT);
    assert_string_equal(pipeline_datapath_name(fx.pl, 1), "sw");
    assert_string_equal(pipeline_port_name(fx.pl, 1, 32768), "_MC_flood");
    assert_null(pipeline_port_name(fx.pl, 1, 99));
    uint16_t z1, z2;
    assert_int_equal(pipeline_ct_zone(fx.pl, "p1", &z1), 0);
    assert_int_equal(pipeline_ct_zone(fx.pl, "p2", &z2), 0);
    assert_true(z1 > 0 && z2 > 0 && z1 != z2);
    assert_int_equal(pipeline_ct_zone(fx.pl, "zz", &z1), -ENOENT);
    fx_destroy(&fx);
}

static void
test_localnet(void **state OVNIC_UNUSED)
{
    struct sb sb;
    sb_switch(&sb);
    struct pipeline_config cfg = {.chassis = "hv1"};
    struct fx fx;
    fx_init(&fx, &sb, &cfg);

    /* p1 -> p3 (hv2): the switch has a localnet port, so through it, tagged. */
    uint8_t pkt[128];
    size_t n = frame(pkt, 3, 1, -1);
    struct pipeline_result r;
    process(fx.pl, PIPELINE_IN_VIF, "p1", pkt, n, NULL, &r);
    assert_int_equal(r.n_outputs, 1);
    assert_int_equal(r.outputs[0].type, PIPELINE_OUT_LOCALNET);
    assert_string_equal(r.outputs[0].network, "phys");
    assert_int_equal(r.outputs[0].vlan, 100);
    assert_true(r.megaflow.cacheable);
    const struct megaflow_action *last = &r.megaflow.actions[r.megaflow.n_actions - 1];
    assert_int_equal(last->type, MEGAFLOW_ACT_OUTPUT);
    assert_int_equal(last->vlan, 100);
    pipeline_result_destroy(&r);

    /* From the provider network, VLAN 100, to p1: untagged delivery. */
    uint8_t tagged[128];
    n = frame(tagged, 1, 7, 100);
    process(fx.pl, PIPELINE_IN_LOCALNET, "phys", tagged, n, NULL, &r);
    assert_int_equal(r.error, 0);
    assert_int_equal(r.n_outputs, 1);
    assert_int_equal(r.outputs[0].type, PIPELINE_OUT_LOCAL);
    assert_string_equal(r.outputs[0].port, "p1");
    size_t n_plain = frame(pkt, 1, 7, -1);
    assert_int_equal(r.outputs[0].len, n_plain);
    assert_memory_equal(r.outputs[0].packet, pkt, n_plain);
    assert_int_equal(r.megaflow.actions[0].type, MEGAFLOW_ACT_VLAN_POP);
    pipeline_result_destroy(&r);

    /* Another VLAN: no localnet port. */
    n = frame(tagged, 1, 7, 200);
    process(fx.pl, PIPELINE_IN_LOCALNET, "phys", tagged, n, NULL, &r);
    assert_int_equal(r.error, -ENOENT);
    assert_int_equal(r.n_drops, 1);
    pipeline_result_destroy(&r);

    /* Broadcast from p1: p2 locally, the localnet port, no tunnel (localnet). */
    n = frame(pkt, -1, 1, -1);
    process(fx.pl, PIPELINE_IN_VIF, "p1", pkt, n, NULL, &r);
    assert_int_equal(r.n_outputs, 2);
    for (size_t i = 0; i < r.n_outputs; i++) {
        assert_int_not_equal(r.outputs[i].type, PIPELINE_OUT_TUNNEL);
    }
    pipeline_result_destroy(&r);

    /* A VIF bound elsewhere cannot send here. */
    process(fx.pl, PIPELINE_IN_VIF, "p3", pkt, n, NULL, &r);
    assert_int_equal(r.error, -EHOSTUNREACH);
    pipeline_result_destroy(&r);
    fx_destroy(&fx);
}

static void
test_loop_cap(void **state OVNIC_UNUSED)
{
    struct sb sb = {.updates = json_object()};
    sb_dp(&sb, 1, 1, "a", false);
    sb_dp(&sb, 2, 2, "b", false);
    sb_port(&sb, 11, 1, "pa", 1, "patch", 0,
            json_pack("[s,[[s,s]]]", "map", "peer", "pb"));
    sb_port(&sb, 12, 2, "pb", 1, "patch", 0,
            json_pack("[s,[[s,s]]]", "map", "peer", "pa"));
    sb_port(&sb, 13, 1, "vm", 2, "", 0, NULL);
    sb_flow(&sb, 1, "ingress", 0, 0, "1",
            "flags.loopback = 1; outport = \"pa\"; output;");
    sb_flow(&sb, 2, "ingress", 0, 0, "1",
            "flags.loopback = 1; outport = \"pb\"; output;");
    sb_flow(&sb, 1, "egress", 0, 0, "1", "output;");
    sb_flow(&sb, 2, "egress", 0, 0, "1", "output;");
    struct pipeline_config cfg = {.trace_mode = true, .max_depth = 5};
    struct fx fx;
    fx_init(&fx, &sb, &cfg);
    struct pkey k;
    eth_key(&k, 2, 1);
    struct pipeline_result r;
    process(fx.pl, PIPELINE_IN_VIF, "vm", NULL, 0, &k, &r);
    assert_int_equal(r.n_outputs, 0);
    assert_int_equal(r.n_drops, 1);
    assert_int_equal(r.drops[0].error, -ELOOP);
    assert_false(r.megaflow.cacheable);
    struct pipeline_stats st;
    pipeline_get_stats(fx.pl, &st);
    assert_int_equal(st.n_loop_drops, 1);
    pipeline_result_destroy(&r);
    fx_destroy(&fx);
}

static void
test_errors(void **state OVNIC_UNUSED)
{
    struct pipeline *pl;
    struct pipeline_config cfg = {0};
    assert_int_equal(pipeline_create(&cfg, &pl), -EINVAL);
    cfg.chassis = "hv1";
    assert_int_equal(pipeline_create(&cfg, &pl), 0);
    assert_int_equal(pipeline_generation(pl), 0);

    /* Before a sync: nothing is known. */
    uint8_t pkt[128];
    size_t n = frame(pkt, 2, 1, -1);
    struct pipeline_result r;
    process(pl, PIPELINE_IN_VIF, "p1", pkt, n, NULL, &r);
    assert_int_equal(r.error, -ENOENT);
    assert_non_null(r.error_msg);
    assert_int_equal(r.n_outputs, 0);
    assert_false(r.megaflow.cacheable);
    pipeline_result_destroy(&r);
    pipeline_destroy(pl);
    pipeline_destroy(NULL);

    struct sb sb;
    sb_switch(&sb);
    /* A flow that does not parse is reported; the others are installed. */
    sb_flow(&sb, 1, "ingress", 2, 10, "1", "this is not an action;");
    struct fx fx;
    fx_init(&fx, &sb, &cfg);
    assert_int_equal(pipeline_n_lflow_errors(fx.pl), 1);
    assert_non_null(strstr(pipeline_lflow_error(fx.pl, 0), "test_stage"));
    assert_null(pipeline_lflow_error(fx.pl, 1));

    /* Malformed frame, no packet, no OVN option, unknown datapath. */
    process(fx.pl, PIPELINE_IN_VIF, "p1", pkt, 5, NULL, &r);
    assert_int_equal(r.error, -EINVAL);
    pipeline_result_destroy(&r);
    process(fx.pl, PIPELINE_IN_VIF, "p1", NULL, 0, NULL, &r);
    assert_int_equal(r.error, -EINVAL);
    pipeline_result_destroy(&r);
    struct pkey k;
    eth_key(&k, 1, 3);
    process(fx.pl, PIPELINE_IN_TUNNEL, NULL, NULL, 0, &k, &r);
    assert_int_equal(r.error, -EINVAL);
    pipeline_result_destroy(&r);
    k.f.tun_flags = PKEY_TUN_PRESENT | PKEY_TUN_OVN_OPT;
    k.f.tun_id = htonl(77);
    process(fx.pl, PIPELINE_IN_TUNNEL, NULL, NULL, 0, &k, &r);
    assert_int_equal(r.error, -ENOENT);
    pipeline_result_destroy(&r);
    /* A good tunnel key: from p3 to p1. */
    k.f.tun_id = htonl(1);
    k.f.tun_ovn_inport = htons(3);
    k.f.tun_ovn_outport = htons(1);
    process(fx.pl, PIPELINE_IN_TUNNEL, NULL, NULL, 0, &k, &r);
    assert_int_equal(r.error, 0);
    assert_int_equal(r.n_outputs, 1);
    assert_string_equal(r.outputs[0].port, "p1");
    pipeline_result_destroy(&r);
    fx_destroy(&fx);
}

static void
test_controller(void **state OVNIC_UNUSED)
{
    struct sb sb = {.updates = json_object()};
    sb_chassis(&sb, 900, "hv1", "192.168.0.1");
    sb_dp(&sb, 1, 1, "sw", false);
    sb_port(&sb, 11, 1, "p1", 1, "", 900, NULL);
    sb_port(&sb, 12, 1, "p2", 2, "", 900, NULL);
    /* ARP: learn the sender.  IPv4 to 10.0.0.9: ask with arp { } toward p2.  UDP to
     * port 67: put_dhcp_opts, and back to p1 if it answered. */
    sb_flow(&sb, 1, "ingress", 0, 100, "arp", "put_arp(inport, arp.spa, arp.sha); next;");
    sb_flow(
        &sb, 1, "ingress", 0, 90, "ip4.dst == 10.0.0.9 && udp.dst == 0x3030",
        "arp { eth.dst = ff:ff:ff:ff:ff:ff; arp.op = 1; outport = \"p2\"; output; };");
    sb_flow(&sb, 1, "ingress", 0, 80, "udp.dst == 67",
            "reg0[3] = put_dhcp_opts(offerip = 10.0.0.5, router = 10.0.0.1, "
            "netmask = 255.255.255.0, server_id = 10.0.0.1, lease_time = 3600); next;");
    sb_flow(&sb, 1, "ingress", 0, 0, "1", "next;");
    sb_flow(&sb, 1, "ingress", 1, 100, "reg0[3] == 1",
            "eth.dst = eth.src; eth.src = 00:00:00:00:00:fe; ip4.src = 10.0.0.1; "
            "ip4.dst = 10.0.0.5; udp.src = 67; udp.dst = 68; outport = \"p1\"; "
            "flags.loopback = 1; output;");
    sb_flow(&sb, 1, "egress", 0, 0, "1", "output;");
    struct pipeline_config cfg = {.chassis = "hv1"};
    struct fx fx;
    fx_init(&fx, &sb, &cfg);

    /* arp { }: the request is built from the IPv4 packet and goes to p2. */
    uint8_t pkt[128];
    size_t n = ip_frame(pkt, 9, 1);
    struct pipeline_result r;
    process(fx.pl, PIPELINE_IN_VIF, "p1", pkt, n, NULL, &r);
    assert_int_equal(r.n_ctrls, 1);
    assert_int_equal(r.ctrls[0].type, ACTION_ARP);
    assert_non_null(r.ctrls[0].packet);
    assert_int_equal(r.n_outputs, 1);
    assert_true(r.outputs[0].from_controller);
    assert_string_equal(r.outputs[0].port, "p2");
    struct pkey k;
    assert_int_equal(
        packet_parse(r.outputs[0].packet, r.outputs[0].len, 0, &k, NULL, NULL, NULL), 0);
    assert_int_equal(ntohs(k.f.eth_type), 0x0806);
    assert_int_equal(ntohs(k.f.arp_op), 1);
    assert_int_equal(k.f.arp_tpa, htonl(0x0a000009));
    assert_false(r.megaflow.cacheable);
    pipeline_result_destroy(&r);

    /* The same without bytes: the key is derived as ovn-trace derives it. */
    assert_int_equal(packet_parse(pkt, n, 0, &k, NULL, NULL, NULL), 0);
    process(fx.pl, PIPELINE_IN_VIF, "p1", NULL, 0, &k, &r);
    assert_int_equal(r.n_outputs, 1);
    assert_int_equal(ntohs(r.outputs[0].key.f.eth_type), 0x0806);
    assert_int_equal(r.outputs[0].key.f.arp_tpa, htonl(0x0a000009));
    pipeline_result_destroy(&r);

    /* put_arp: a MAC_Binding update; the ARP itself goes nowhere (no flow). */
    uint8_t arp[64] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0,  1, 0x08, 0x06,
                       0,    1,    8,    0,    6,    4,    0, 1, 0, 0, 0,  0, 0,    1,
                       10,   0,    0,    1,    0,    0,    0, 0, 0, 0, 10, 0, 0,    2};
    process(fx.pl, PIPELINE_IN_VIF, "p1", arp, 42, NULL, &r);
    assert_int_equal(r.n_ctrls, 1);
    assert_int_equal(r.ctrls[0].type, ACTION_PUT_ARP);
    assert_true(r.ctrls[0].has_mac_binding);
    assert_int_equal(r.ctrls[0].mb_port, 1);
    assert_true(r.ctrls[0].mb_ip == 0x0a000001);
    assert_int_equal(r.ctrls[0].mb_mac[5], 1);
    assert_int_equal(r.n_outputs, 0);
    pipeline_result_destroy(&r);

    /* put_dhcp_opts on a key: resumed with 1 (as ovn-trace assumes), back to p1. */
    assert_int_equal(packet_parse(pkt, n, 0, &k, NULL, NULL, NULL), 0);
    k.f.udp_dst = htons(67);
    process(fx.pl, PIPELINE_IN_VIF, "p1", NULL, 0, &k, &r);
    assert_int_equal(r.n_ctrls, 1);
    assert_int_equal(r.ctrls[0].type, ACTION_PUT_DHCPV4_OPTS);
    assert_int_equal(r.n_outputs, 1);
    assert_string_equal(r.outputs[0].port, "p1");
    pipeline_result_destroy(&r);

    /* A real DHCPDISCOVER: the reply (DHCPOFFER) continues the walk, rewritten by
     * the flows after put_dhcp_opts, back to p1. */
    uint8_t dhcp[400];
    size_t dn = dhcp_discover(dhcp);
    process(fx.pl, PIPELINE_IN_VIF, "p1", dhcp, dn, NULL, &r);
    assert_int_equal(r.n_ctrls, 1);
    assert_int_equal(r.ctrls[0].error, 0);
    assert_non_null(r.ctrls[0].packet);
    assert_int_equal(r.n_outputs, 1);
    const struct pipeline_output *o = &r.outputs[0];
    assert_string_equal(o->port, "p1");
    assert_true(o->from_controller);
    struct packet_layout lay;
    assert_int_equal(packet_parse(o->packet, o->len, 0, &k, &lay, NULL, NULL), 0);
    assert_int_equal(ntohs(k.f.udp_dst), 68);
    assert_int_equal(k.f.ip4_dst, htonl(0x0a000005));
    assert_int_equal(k.f.eth_src[5], 0xfe);
    const uint8_t *bootp = o->packet + lay.l7;
    assert_int_equal(bootp[0], 2); /* BOOTREPLY */
    static const uint8_t yiaddr[4] = {10, 0, 0, 5};
    static const uint8_t offer[3] = {53, 1, 2};
    assert_memory_equal(bootp + 16, yiaddr, 4);
    assert_memory_equal(bootp + 240, offer, 3);
    pipeline_result_destroy(&r);

    /* With bytes that are no DHCP request: no reply, the walk resumes with 0. */
    pkt[14 + 22] = 0;
    pkt[14 + 23] = 67;
    process(fx.pl, PIPELINE_IN_VIF, "p1", pkt, n, NULL, &r);
    assert_int_equal(r.n_ctrls, 1);
    assert_int_not_equal(r.ctrls[0].error, 0);
    assert_int_equal(r.n_outputs, 0);
    assert_int_equal(r.n_drops, 1);
    pipeline_result_destroy(&r);
    fx_destroy(&fx);
}

/* Ethernet + IPv4 or IPv6 + TCP (SYN), UDP or SCTP (INIT) from p1 (00:..:01, 10.0.0.1,
 * fd00::1) to p2 (00:..:02, 10.0.0.2, fd00::2), source port 1000, destination
 * 'dport'. */
static size_t
l4_frame(uint8_t *p, bool v6, uint8_t proto, uint16_t dport)
{
    size_t l4_len = proto == 6 ? 20 : proto == 17 ? 8 : 32;
    memset(p, 0, 14 + 40 + l4_len);
    memcpy(p, (uint8_t[]){0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1}, 12);
    uint8_t *l3 = p + 14, *l4;
    if (v6) {
        p[12] = 0x86, p[13] = 0xdd;
        l3[0] = 0x60;
        l3[4] = 0;
        l3[5] = (uint8_t)l4_len;
        l3[6] = proto;
        l3[7] = 64;
        l3[8] = l3[24] = 0xfd;
        l3[23] = 1;
        l3[39] = 2;
        l4 = l3 + 40;
    } else {
        p[12] = 0x08;
        l3[0] = 0x45;
        l3[3] = (uint8_t)(20 + l4_len);
        l3[8] = 64;
        l3[9] = proto;
        memcpy(l3 + 12, (uint8_t[]){10, 0, 0, 1, 10, 0, 0, 2}, 8);
        uint16_t c = htons(ctrl_csum(l3, 20, 0));
        memcpy(l3 + 10, &c, 2);
        l4 = l3 + 20;
    }
    l4[0] = 1000 >> 8;
    l4[1] = 1000 & 0xff;
    l4[2] = (uint8_t)(dport >> 8);
    l4[3] = (uint8_t)dport;
    if (proto == 6) {
        l4[7] = 1; /* seq 1 */
        l4[12] = 5 << 4;
        l4[13] = 0x02;
    } else if (proto == 17) {
        l4[5] = 8;
    } else {
        l4[12] = 1; /* INIT, tag 0, initiate tag 0x0a0b0c0d */
        l4[15] = 20;
        memcpy(l4 + 16, (uint8_t[]){10, 11, 12, 13}, 4);
    }
    return (size_t)(l4 - p) + l4_len;
}

/* A reject ACL, from-lport (ingress, answered through the egress pipeline) and
 * to-lport (egress, answered through the ingress pipeline), as northd writes them:
 * the answer reaches the sender p1, for TCP, UDP and SCTP over IPv4 and IPv6, with and
 * without packet bytes. */
static void
test_reject(void **state OVNIC_UNUSED)
{
    struct sb sb = {.updates = json_object()};
    sb_chassis(&sb, 900, "hv1", "192.168.0.1");
    sb_dp(&sb, 1, 1, "sw", false);
    sb_port(&sb, 11, 1, "p1", 1, "", 900, NULL);
    sb_port(&sb, 12, 1, "p2", 2, "", 900, NULL);
    sb_flow(&sb, 1, "ingress", 0, 100,
            "inport == \"p1\" && (tcp.dst == 21 || udp.dst == 21 || sctp.dst == 21)",
            "reg0 = 0; reject { /* eth.dst <-> eth.src; ip.dst <-> ip.src; is "
            "implicit. */ outport <-> inport; next(pipeline=egress,table=1); };");
    sb_flow(&sb, 1, "ingress", 0, 0, "1", "next;");
    sb_flow(&sb, 1, "ingress", 1, 50, "eth.dst == 00:00:00:00:00:01",
            "outport = \"p1\"; output;");
    sb_flow(&sb, 1, "ingress", 1, 50, "eth.dst == 00:00:00:00:00:02",
            "outport = \"p2\"; output;");
    sb_flow(&sb, 1, "egress", 0, 100,
            "outport == \"p2\" && (tcp.dst == 23 || udp.dst == 23 || sctp.dst == 23)",
            "reg0 = 0; reject { /* eth.dst <-> eth.src; ip.dst <-> ip.src; is "
            "implicit. */ outport <-> inport; next(pipeline=ingress,table=1); };");
    sb_flow(&sb, 1, "egress", 0, 0, "1", "next;");
    sb_flow(&sb, 1, "egress", 1, 0, "1", "output;");
    struct pipeline_config cfg = {.chassis = "hv1"};
    struct fx fx;
    fx_init(&fx, &sb, &cfg);

    static const uint8_t protos[] = {6, 17, 132};
    static const uint16_t dports[] = {21, 23};
    for (int v6 = 0; v6 < 2; v6++) {
        for (size_t i = 0; i < ARRAY_SIZE(protos); i++) {
            for (size_t d = 0; d < ARRAY_SIZE(dports); d++) {
                for (int bytes = 0; bytes < 2; bytes++) {
                    uint8_t pkt[128];
                    size_t n = l4_frame(pkt, v6, protos[i], dports[d]);
                    struct pkey in;
                    assert_int_equal(packet_parse(pkt, n, 0, &in, NULL, NULL, NULL), 0);
                    struct pipeline_result r;
                    process(fx.pl, PIPELINE_IN_VIF, "p1", bytes ? pkt : NULL,
                            bytes ? n : 0, bytes ? NULL : &in, &r);
                    assert_int_equal(r.n_ctrls, 1);
                    assert_int_equal(r.ctrls[0].type, ACTION_REJECT);
                    assert_int_equal(r.n_outputs, 1);
                    const struct pipeline_output *o = &r.outputs[0];
                    assert_string_equal(o->port, "p1");
                    assert_true(o->from_controller);
                    struct pkey k = o->key;
                    if (bytes) {
                        assert_non_null(o->packet);
                        assert_int_equal(
                            packet_parse(o->packet, o->len, 0, &k, NULL, NULL, NULL), 0);
                    }
                    /* Back to the sender: addresses swapped. */
                    assert_memory_equal(k.f.eth_dst, in.f.eth_src, 6);
                    assert_memory_equal(k.f.eth_src, in.f.eth_dst, 6);
                    if (v6) {
                        assert_memory_equal(k.f.ip6_dst, in.f.ip6_src, 16);
                        assert_memory_equal(k.f.ip6_src, in.f.ip6_dst, 16);
                    } else {
                        assert_int_equal(k.f.ip4_dst, in.f.ip4_src);
                        assert_int_equal(k.f.ip4_src, in.f.ip4_dst);
                    }
                    if (protos[i] == 6) {
                        assert_int_equal(k.f.ip_proto, 6);
                        assert_int_equal(ntohs(k.f.tcp_flags), 0x14);
                        assert_int_equal(ntohs(k.f.tcp_src), dports[d]);
                        assert_int_equal(ntohs(k.f.tcp_dst), 1000);
                    } else if (protos[i] == 132) {
                        assert_int_equal(k.f.ip_proto, 132);
                        assert_int_equal(ntohs(k.f.sctp_src), dports[d]);
                        assert_int_equal(ntohs(k.f.sctp_dst), 1000);
                    } else if (v6) {
                        assert_int_equal(k.f.ip_proto, 58);
                        assert_int_equal(k.f.icmp6_type, 1);
                        assert_int_equal(k.f.icmp6_code, 4);
                    } else {
                        assert_int_equal(k.f.ip_proto, 1);
                        assert_int_equal(k.f.icmp4_type, 3);
                        assert_int_equal(k.f.icmp4_code, 3);
                    }
                    pipeline_result_destroy(&r);
                }
            }
        }
    }
    fx_destroy(&fx);
}

/* Conntrack NAT changes the key, not through header changes of the walk: the
 * delivered bytes follow the key (address rewritten, IPv4 checksum valid). */
static void
test_nat_bytes(void **state OVNIC_UNUSED)
{
    struct sb sb = {.updates = json_object()};
    sb_chassis(&sb, 900, "hv1", "192.168.0.1");
    sb_dp(&sb, 1, 1, "sw", false);
    sb_port(&sb, 11, 1, "p1", 1, "", 900, NULL);
    sb_port(&sb, 12, 1, "p2", 2, "", 900, NULL);
    sb_flow(&sb, 1, "ingress", 0, 100, "ip4", "ct_dnat(10.0.0.77);");
    sb_flow(&sb, 1, "ingress", 1, 100, "ip4.dst == 10.0.0.77",
            "outport = \"p2\"; output;");
    sb_flow(&sb, 1, "egress", 0, 0, "1", "output;");
    struct ct_det *ct;
    assert_int_equal(ct_det_create(&ct), 0);
    struct pipeline_config cfg = {.chassis = "hv1", .ct_class = &ct_det_class, .ct = ct};
    struct fx fx;
    fx_init(&fx, &sb, &cfg);

    uint8_t pkt[128];
    size_t n = ip_frame(pkt, 2, 1);
    struct pipeline_result r;
    process(fx.pl, PIPELINE_IN_VIF, "p1", pkt, n, NULL, &r);
    assert_int_equal(r.n_outputs, 1);
    const struct pipeline_output *o = &r.outputs[0];
    assert_string_equal(o->port, "p2");
    assert_non_null(o->packet);
    assert_int_equal(o->len, n);
    static const uint8_t dst[4] = {10, 0, 0, 77};
    assert_memory_equal(o->packet + 14 + 16, dst, 4);
    assert_int_equal(ctrl_csum(o->packet + 14, 20, 0), 0);
    pipeline_result_destroy(&r);

    /* The flows as installed, in table order, with the lookups each answered. */
    json_t *flows = pipeline_flows_json(fx.pl, "sw", NULL);
    assert_non_null(flows);
    assert_int_equal(json_array_size(flows), 3);
    static const char *const pipes[] = {"ingress", "ingress", "egress"};
    static const int tables[] = {0, 1, 0};
    for (size_t i = 0; i < 3; i++) {
        const json_t *f = json_array_get(flows, i);
        assert_string_equal(json_string_value(json_object_get(f, "pipeline")), pipes[i]);
        assert_int_equal(json_integer_value(json_object_get(f, "table")), tables[i]);
        assert_int_equal(json_integer_value(json_object_get(f, "hits")), 1);
        assert_int_equal(json_integer_value(json_object_get(f, "installed")), 1);
    }
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(flows, 1), "match")),
        "ip4.dst == 10.0.0.77");
    json_decref(flows);
    /* An unknown datapath is an error, not an empty list. */
    struct ovnic_err err = {0};
    flows = pipeline_flows_json(fx.pl, "no-such-datapath", &err);
    assert_null(flows);
    assert_int_equal(err.code, -ENOENT);
    assert_string_equal(err.detail, "no-such-datapath");
    flows = pipeline_flows_json(fx.pl, NULL, NULL);
    assert_true(json_array_size(flows) >= 3);
    json_decref(flows);

    fx_destroy(&fx);
    ct_det_destroy(ct);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace_mode), cmocka_unit_test(test_localnet),
        cmocka_unit_test(test_loop_cap),   cmocka_unit_test(test_errors),
        cmocka_unit_test(test_controller), cmocka_unit_test(test_nat_bytes),
        cmocka_unit_test(test_reject),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
