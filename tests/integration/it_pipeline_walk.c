/* ovnic integration: packets walked through the pipeline built from a real SB.
 *
 * A real ovn-northd 23.03 writes the logical flows of topologies 01 (one switch) and
 * 02 (a router joining three switches); two chassis are added with ovn-sbctl and the
 * VIFs bound to one or the other.  The pipeline of chassis hv1 then walks real
 * frames: ICMP between VIFs on the same chassis (local delivery) and on hv2 (Geneve,
 * with the VNI and OVN's option), a broadcast ARP (flooded locally and once to hv2),
 * a Geneve frame from hv2 (delivered locally), an ARP request to a router port
 * (answered by the router's arp { } action), ICMP across the router (MACs rewritten,
 * TTL decremented), and a second packet that differs only in wildcarded bits, which
 * the megaflow cache answers with the same actions. */
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
#include "dpu/pipeline/megaflow.h"
#include "dpu/pipeline/packet.h"
#include "dpu/pipeline/pipeline.h"
#include "ithelp.h"
#include "shared/util/util.h"

#define SB_SCHEMA "/usr/share/ovn/ovn-sb.ovsschema"

static struct {
    char *dir;
    char *sb;
    char *nb;
    struct ovsdb_schema *schema;
    struct ovsdb_replica *replica;
    struct pipeline *pl;
} g;

/* ---- Frames. ---- */

static size_t
put_eth(uint8_t *p, const char *dst, const char *src, uint16_t type)
{
    unsigned int d[6], s[6];
    sscanf(dst, "%x:%x:%x:%x:%x:%x", &d[0], &d[1], &d[2], &d[3], &d[4], &d[5]);
    sscanf(src, "%x:%x:%x:%x:%x:%x", &s[0], &s[1], &s[2], &s[3], &s[4], &s[5]);
    for (int i = 0; i < 6; i++) {
        p[i] = (uint8_t)d[i];
        p[6 + i] = (uint8_t)s[i];
    }
    p[12] = (uint8_t)(type >> 8);
    p[13] = (uint8_t)type;
    return 14;
}

static uint32_t
ip4(const char *s)
{
    struct in_addr a;
    assert_int_equal(inet_pton(AF_INET, s, &a), 1);
    return a.s_addr; /* Network order. */
}

/* Ethernet + IPv4 + ICMP echo request. */
static size_t
icmp_frame(uint8_t *p, const char *dst_mac, const char *src_mac, const char *src_ip,
           const char *dst_ip, uint8_t ttl, uint16_t id)
{
    size_t n = put_eth(p, dst_mac, src_mac, 0x0800);
    uint8_t *ip = p + n;
    memset(ip, 0, 20 + 16);
    ip[0] = 0x45;
    ip[3] = 36;
    ip[8] = ttl;
    ip[9] = 1;
    uint32_t s = ip4(src_ip), d = ip4(dst_ip);
    memcpy(ip + 12, &s, 4);
    memcpy(ip + 16, &d, 4);
    uint16_t c = htons(ctrl_csum(ip, 20, 0));
    memcpy(ip + 10, &c, 2);
    uint8_t *icmp = ip + 20;
    icmp[0] = 8;
    icmp[4] = (uint8_t)(id >> 8);
    icmp[5] = (uint8_t)id;
    memcpy(icmp + 8, "ovnic-pl", 8);
    c = htons(ctrl_csum(icmp, 16, 0));
    memcpy(icmp + 2, &c, 2);
    return n + 36;
}

/* Ethernet + ARP request for 'tpa'. */
static size_t
arp_frame(uint8_t *p, const char *src_mac, const char *spa, const char *tpa)
{
    size_t n = put_eth(p, "ff:ff:ff:ff:ff:ff", src_mac, 0x0806);
    uint8_t *a = p + n;
    static const uint8_t hdr[8] = {0, 1, 8, 0, 6, 4, 0, 1};
    memcpy(a, hdr, 8);
    memcpy(a + 8, p + 6, 6);
    uint32_t s = ip4(spa), t = ip4(tpa);
    memcpy(a + 14, &s, 4);
    memset(a + 18, 0, 6);
    memcpy(a + 24, &t, 4);
    return n + 28;
}

/* Wraps 'inner' into Ethernet/IPv4/UDP/Geneve with OVN's option. */
static size_t
geneve_frame(uint8_t *p, const uint8_t *inner, size_t inner_len, uint32_t vni,
             uint16_t inport, uint16_t outport)
{
    size_t n = put_eth(p, "02:00:00:00:00:01", "02:00:00:00:00:02", 0x0800);
    uint8_t *ip = p + n;
    size_t udp_len = 8 + 8 + 8 + inner_len;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    ip[2] = (uint8_t)((20 + udp_len) >> 8);
    ip[3] = (uint8_t)(20 + udp_len);
    ip[8] = 64;
    ip[9] = 17;
    uint32_t s = ip4("192.168.0.2"), d = ip4("192.168.0.1");
    memcpy(ip + 12, &s, 4);
    memcpy(ip + 16, &d, 4);
    uint16_t c = htons(ctrl_csum(ip, 20, 0));
    memcpy(ip + 10, &c, 2);
    uint8_t *udp = ip + 20;
    memset(udp, 0, 8);
    udp[0] = 0xc0;
    udp[2] = (uint8_t)(PACKET_GENEVE_PORT >> 8);
    udp[3] = (uint8_t)PACKET_GENEVE_PORT;
    udp[4] = (uint8_t)(udp_len >> 8);
    udp[5] = (uint8_t)udp_len;
    uint8_t *gnv = udp + 8;
    memset(gnv, 0, 16);
    gnv[0] = 2; /* Options: 2 words. */
    gnv[2] = 0x65;
    gnv[3] = 0x58;
    gnv[4] = (uint8_t)(vni >> 16);
    gnv[5] = (uint8_t)(vni >> 8);
    gnv[6] = (uint8_t)vni;
    gnv[8] = 0x01;
    gnv[9] = 0x02;
    gnv[10] = 0x80;
    gnv[11] = 1; /* 1 word of data. */
    uint32_t opt = ((uint32_t)inport << 16) | outport;
    gnv[12] = (uint8_t)(opt >> 24);
    gnv[13] = (uint8_t)(opt >> 16);
    gnv[14] = (uint8_t)(opt >> 8);
    gnv[15] = (uint8_t)opt;
    memcpy(gnv + 16, inner, inner_len);
    return n + 20 + udp_len;
}

/* ---- Fixture. ---- */

static int
sbctl(const char *args)
{
    char *out = it_sbctl(g.sb, "%s", args);
    int ok = out != NULL;
    free(out);
    return ok ? 0 : -1;
}

/* Loads the whole SB into a fresh replica and syncs the pipeline with it. */
static void
resync(void)
{
    json_t *dump = it_dump(g.sb, "OVN_Southbound", NULL);
    assert_non_null(dump);
    json_t *updates = json_object();
    const char *table;
    json_t *rows;
    json_object_foreach(dump, table, rows)
    {
        json_t *t = json_object();
        const char *uuid;
        json_t *row;
        json_object_foreach(rows, uuid, row)
        {
            json_object_set_new(t, uuid, json_pack("{s:O}", "new", row));
        }
        json_object_set_new(updates, table, t);
    }
    json_decref(dump);
    ovsdb_replica_destroy(g.replica);
    assert_int_equal(ovsdb_replica_create(g.schema, &g.replica), 0);
    struct ovnic_err err = {0};
    int rc = ovsdb_replica_apply(g.replica, OVSDB_UPDATE_V1, updates, &err);
    json_decref(updates);
    assert_int_equal(rc, 0);
    rc = pipeline_sync(g.pl, g.replica, &err);
    assert_int_equal(rc, 0);
    for (size_t i = 0; i < pipeline_n_lflow_errors(g.pl); i++) {
        fprintf(stderr, "lflow error: %s\n", pipeline_lflow_error(g.pl, i));
    }
    assert_int_equal(pipeline_n_lflow_errors(g.pl), 0);
}

static int
group_setup(void **state OVNIC_UNUSED)
{
    struct ovnic_err err = {0};
    g.dir = it_tmpdir_create();
    if (!g.dir || ovsdb_schema_from_file(SB_SCHEMA, &g.schema, &err)) {
        return -1;
    }
    g.sb = it_central("start-sb '%s'", g.dir);
    g.nb = it_central("start-nb '%s'", g.dir);
    char *northd = it_central("start-northd '%s'", g.dir);
    free(northd);
    if (!g.sb || !g.nb) {
        return -1;
    }
    for (int i = 1; i <= 2; i++) {
        if (it_run(NULL, "NB_REMOTE='%s' '%s/tests/topologies/0%d-%s.sh'", g.nb,
                   it_source_dir(), i, i == 1 ? "l2-switch" : "router-three-subnets")) {
            return -1;
        }
    }
    if (sbctl("chassis-add hv1 geneve 192.168.0.1") ||
        sbctl("chassis-add hv2 geneve 192.168.0.2") || sbctl("lsp-bind l2-vm1 hv1") ||
        sbctl("lsp-bind l2-vm2 hv1") || sbctl("lsp-bind l2-vm3 hv2") ||
        sbctl("lsp-bind r3-vm11 hv1") || sbctl("lsp-bind r3-vm21 hv1") ||
        sbctl("lsp-bind r3-vm31 hv2")) {
        return -1;
    }
    struct pipeline_config cfg = {.chassis = "hv1"};
    if (pipeline_create(&cfg, &g.pl)) {
        return -1;
    }
    return 0;
}

static int
group_teardown(void **state OVNIC_UNUSED)
{
    pipeline_destroy(g.pl);
    ovsdb_replica_destroy(g.replica);
    ovsdb_schema_destroy(g.schema);
    if (g.dir) {
        it_tmpdir_remove(g.dir);
    }
    free(g.dir);
    free(g.sb);
    free(g.nb);
    return 0;
}

static void
walk(enum pipeline_input_type type, const char *port, const uint8_t *pkt, size_t len,
     struct pipeline_result *r)
{
    struct pipeline_input in = {.type = type,
                                .port = port,
                                .in_port = 7,
                                .packet = pkt,
                                .len = len,
                                .trace = true};
    pipeline_result_init(r);
    assert_int_equal(pipeline_process(g.pl, &in, r), 0);
    char *t = pipeline_trace_format(r);
    char *m = pipeline_megaflow_format(r);
    assert_non_null(t);
    assert_non_null(m);
    if (getenv("OVNIC_TEST_VERBOSE")) {
        fprintf(stderr, "%s\nmegaflow: %s\n\n", t, m);
    }
    free(t);
    free(m);
    json_t *j = pipeline_result_to_json(r);
    assert_non_null(j);
    json_decref(j);
}

static const struct pipeline_output *
find_output(const struct pipeline_result *r, const char *port)
{
    for (size_t i = 0; i < r->n_outputs; i++) {
        if (!strcmp(r->outputs[i].port, port)) {
            return &r->outputs[i];
        }
    }
    return NULL;
}

static uint32_t
port_key(const char *name)
{
    uint32_t key = 0;
    assert_int_equal(pipeline_port_key(g.pl, name, &key), 0);
    return key;
}

static uint32_t
dp_key(const char *name)
{
    uint32_t key = 0;
    assert_int_equal(pipeline_datapath_key(g.pl, name, &key), 0);
    return key;
}

/* ---- Tests. ---- */

static void
test_l2_local_and_remote(void **state OVNIC_UNUSED)
{
    resync();
    uint8_t pkt[128];
    struct pipeline_result r;

    /* vm1 -> vm2, both on hv1: delivered as sent. */
    size_t n = icmp_frame(pkt, "0a:00:00:01:00:12", "0a:00:00:01:00:11", "10.1.0.11",
                          "10.1.0.12", 64, 1);
    walk(PIPELINE_IN_VIF, "l2-vm1", pkt, n, &r);
    assert_int_equal(r.n_outputs, 1);
    assert_string_equal(r.outputs[0].port, "l2-vm2");
    assert_int_equal(r.outputs[0].type, PIPELINE_OUT_LOCAL);
    assert_int_equal(r.outputs[0].len, n);
    assert_memory_equal(r.outputs[0].packet, pkt, n);
    assert_true(r.megaflow.cacheable);
    pipeline_result_destroy(&r);

    /* vm1 -> vm3 on hv2: Geneve with the VNI and OVN's option. */
    n = icmp_frame(pkt, "0a:00:00:01:00:13", "0a:00:00:01:00:11", "10.1.0.11",
                   "10.1.0.13", 64, 1);
    walk(PIPELINE_IN_VIF, "l2-vm1", pkt, n, &r);
    assert_int_equal(r.n_outputs, 1);
    const struct pipeline_output *o = &r.outputs[0];
    assert_int_equal(o->type, PIPELINE_OUT_TUNNEL);
    assert_string_equal(o->chassis, "hv2");
    assert_string_equal(o->encap_ip, "192.168.0.2");
    assert_int_equal(o->tun_id, dp_key("l2-sw"));
    assert_int_equal(o->tun_ovn_inport, port_key("l2-vm1"));
    assert_int_equal(o->tun_ovn_outport, port_key("l2-vm3"));
    pipeline_result_destroy(&r);

    /* To an unbound port (l2-unknown's MAC): dropped, with the reason. */
    n = icmp_frame(pkt, "0a:00:00:01:00:14", "0a:00:00:01:00:11", "10.1.0.11",
                   "10.1.0.14", 64, 1);
    walk(PIPELINE_IN_VIF, "l2-vm1", pkt, n, &r);
    assert_int_equal(r.n_outputs, 0);
    assert_int_equal(r.n_drops, 1);
    assert_non_null(strstr(r.drops[0].reason, "not bound"));
    pipeline_result_destroy(&r);
}

static void
test_l2_flood(void **state OVNIC_UNUSED)
{
    uint8_t pkt[128];
    struct pipeline_result r;
    size_t n = arp_frame(pkt, "0a:00:00:01:00:11", "10.1.0.11", "10.1.0.99");
    walk(PIPELINE_IN_VIF, "l2-vm1", pkt, n, &r);
    /* vm2 locally, one copy to hv2 (vm3), none back to vm1, none to unbound ports. */
    assert_non_null(find_output(&r, "l2-vm2"));
    assert_null(find_output(&r, "l2-vm1"));
    size_t n_tunnel = 0;
    for (size_t i = 0; i < r.n_outputs; i++) {
        if (r.outputs[i].type == PIPELINE_OUT_TUNNEL) {
            n_tunnel++;
            assert_string_equal(r.outputs[i].chassis, "hv2");
            assert_true(r.outputs[i].tun_ovn_outport >= 32768);
        }
    }
    assert_int_equal(n_tunnel, 1);
    assert_int_equal(r.n_outputs, 2);
    pipeline_result_destroy(&r);
}

static void
test_tunnel_input(void **state OVNIC_UNUSED)
{
    uint8_t inner[128], pkt[256];
    struct pipeline_result r;
    size_t n_in = icmp_frame(inner, "0a:00:00:01:00:11", "0a:00:00:01:00:13", "10.1.0.13",
                             "10.1.0.11", 64, 2);
    size_t n = geneve_frame(pkt, inner, n_in, dp_key("l2-sw"),
                            (uint16_t)port_key("l2-vm3"), (uint16_t)port_key("l2-vm1"));
    walk(PIPELINE_IN_TUNNEL, NULL, pkt, n, &r);
    assert_int_equal(r.error, 0);
    assert_int_equal(r.n_outputs, 1);
    assert_string_equal(r.outputs[0].port, "l2-vm1");
    assert_int_equal(r.outputs[0].type, PIPELINE_OUT_LOCAL);
    assert_int_equal(r.outputs[0].len, n_in);
    assert_memory_equal(r.outputs[0].packet, inner, n_in);
    assert_true(r.megaflow.n_actions >= 2);
    assert_int_equal(r.megaflow.actions[0].type, MEGAFLOW_ACT_TUNNEL_POP);
    pipeline_result_destroy(&r);

    /* To a port that is not on this chassis: refused. */
    n = geneve_frame(pkt, inner, n_in, dp_key("l2-sw"), (uint16_t)port_key("l2-vm1"),
                     (uint16_t)port_key("l2-vm3"));
    walk(PIPELINE_IN_TUNNEL, NULL, pkt, n, &r);
    assert_int_equal(r.error, -EHOSTUNREACH);
    assert_int_equal(r.n_outputs, 0);
    pipeline_result_destroy(&r);
}

static void
test_router_arp_reply(void **state OVNIC_UNUSED)
{
    uint8_t pkt[128];
    struct pipeline_result r;
    size_t n = arp_frame(pkt, "0a:00:00:02:01:11", "10.2.1.11", "10.2.1.1");
    walk(PIPELINE_IN_VIF, "r3-vm11", pkt, n, &r);
    /* The router answers through its arp reply flow; the reply goes back to vm11. */
    const struct pipeline_output *o = find_output(&r, "r3-vm11");
    assert_non_null(o);
    assert_non_null(o->packet);
    struct pkey key;
    assert_int_equal(packet_parse(o->packet, o->len, 0, &key, NULL, NULL, NULL), 0);
    assert_int_equal(ntohs(key.f.arp_op), 2);
    static const uint8_t rmac[6] = {0x0a, 0, 0, 2, 1, 1};
    assert_memory_equal(key.f.arp_sha, rmac, 6);
    assert_memory_equal(key.f.eth_src, rmac, 6);
    assert_int_equal(key.f.arp_spa, ip4("10.2.1.1"));
    assert_int_equal(key.f.arp_tpa, ip4("10.2.1.11"));
    pipeline_result_destroy(&r);
}

static void
test_router_forwarding(void **state OVNIC_UNUSED)
{
    uint8_t pkt[128];
    struct pipeline_result r;
    size_t n = icmp_frame(pkt, "0a:00:00:02:01:01", "0a:00:00:02:01:11", "10.2.1.11",
                          "10.2.2.11", 64, 3);
    walk(PIPELINE_IN_VIF, "r3-vm11", pkt, n, &r);
    assert_int_equal(r.n_outputs, 1);
    const struct pipeline_output *o = &r.outputs[0];
    assert_string_equal(o->port, "r3-vm21");
    assert_int_equal(o->type, PIPELINE_OUT_LOCAL);
    struct pkey key;
    assert_int_equal(packet_parse(o->packet, o->len, 0, &key, NULL, NULL, NULL), 0);
    static const uint8_t rmac2[6] = {0x0a, 0, 0, 2, 2, 1};
    static const uint8_t vm21[6] = {0x0a, 0, 0, 2, 2, 0x11};
    assert_memory_equal(key.f.eth_src, rmac2, 6);
    assert_memory_equal(key.f.eth_dst, vm21, 6);
    assert_int_equal(key.f.ip_ttl, 63);
    /* The IPv4 checksum was recomputed. */
    assert_int_equal(ctrl_csum(o->packet + 14, 20, 0), 0);

    /* The megaflow rewrites the MACs, decrements the TTL and outputs. */
    bool dec_ttl = false;
    for (size_t i = 0; i < r.megaflow.n_actions; i++) {
        dec_ttl |= r.megaflow.actions[i].type == MEGAFLOW_ACT_DEC_TTL;
    }
    assert_true(dec_ttl);
    pipeline_result_destroy(&r);

    /* Across the router to hv2: tunnelled from the destination switch's datapath. */
    n = icmp_frame(pkt, "0a:00:00:02:01:01", "0a:00:00:02:01:11", "10.2.1.11",
                   "10.2.3.11", 64, 3);
    walk(PIPELINE_IN_VIF, "r3-vm11", pkt, n, &r);
    assert_int_equal(r.n_outputs, 1);
    assert_int_equal(r.outputs[0].type, PIPELINE_OUT_TUNNEL);
    assert_int_equal(r.outputs[0].tun_id, dp_key("r3-ls3"));
    assert_int_equal(r.outputs[0].tun_ovn_outport, port_key("r3-vm31"));
    assert_int_equal(r.outputs[0].tun_ovn_inport, port_key("r3-ls3-rp"));
    pipeline_result_destroy(&r);
}

static void
test_megaflow_cache(void **state OVNIC_UNUSED)
{
    uint8_t pkt[128];
    struct pipeline_result r1, r2;
    struct megaflow_cache *cache;
    assert_int_equal(megaflow_cache_create(0, 0, &cache), 0);

    size_t n = icmp_frame(pkt, "0a:00:00:02:01:01", "0a:00:00:02:01:11", "10.2.1.11",
                          "10.2.2.11", 64, 4);
    walk(PIPELINE_IN_VIF, "r3-vm11", pkt, n, &r1);
    assert_true(r1.megaflow.cacheable);
    assert_int_equal(megaflow_cache_insert(cache, &r1.megaflow), 0);

    /* A second packet that differs in a field the megaflow does not match. */
    static const struct {
        enum pkey_field_id id;
        size_t ofs; /* Byte in the frame. */
    } cands[] = {{PKEY_F_IP_DSCP, 15}, {PKEY_F_ICMP4_CODE, 35}, {PKEY_F_IP4_SRC, 29}};
    size_t pick = SIZE_MAX;
    for (size_t i = 0; i < ARRAY_SIZE(cands) && pick == SIZE_MAX; i++) {
        if (!pkey_mask_field_get(&r1.megaflow.mask, cands[i].id)) {
            pick = i;
        }
    }
    assert_true(pick != SIZE_MAX);
    uint8_t pkt2[128];
    memcpy(pkt2, pkt, n);
    pkt2[cands[pick].ofs] ^= 0x04;
    struct pipeline_input in = {.type = PIPELINE_IN_VIF,
                                .port = "r3-vm11",
                                .in_port = 7,
                                .packet = pkt2,
                                .len = n};
    struct pkey key2;
    assert_int_equal(pipeline_input_key(g.pl, &in, &key2, NULL), 0);
    const struct megaflow *hit =
        megaflow_cache_lookup(cache, &key2, pipeline_generation(g.pl));
    assert_non_null(hit);
    struct megaflow_cache_stats st;
    megaflow_cache_get_stats(cache, &st);
    assert_int_equal(st.n_masked_hits, 1);

    /* The full walk of the second packet composes the same actions. */
    walk(PIPELINE_IN_VIF, "r3-vm11", pkt2, n, &r2);
    assert_true(megaflow_actions_equal(hit, &r2.megaflow));
    assert_true(megaflow_equal(&r1.megaflow, &r2.megaflow));

    /* Same key again: the exact-match cache answers. */
    assert_non_null(megaflow_cache_lookup(cache, &key2, pipeline_generation(g.pl)));
    megaflow_cache_get_stats(cache, &st);
    assert_int_equal(st.n_emc_hits, 1);

    /* A packet to another destination is not covered. */
    struct pipeline_result r3;
    n = icmp_frame(pkt, "0a:00:00:02:01:01", "0a:00:00:02:01:11", "10.2.1.11",
                   "10.2.2.12", 64, 4);
    in.packet = pkt;
    walk(PIPELINE_IN_VIF, "r3-vm11", pkt, n, &r3);
    assert_int_equal(pipeline_input_key(g.pl, &in, &key2, NULL), 0);
    const struct megaflow *other =
        megaflow_cache_lookup(cache, &key2, pipeline_generation(g.pl));
    assert_true(other == NULL || megaflow_actions_equal(other, &r3.megaflow));
    assert_false(megaflow_actions_equal(&r1.megaflow, &r3.megaflow));

    /* A new generation invalidates everything. */
    resync();
    assert_null(megaflow_cache_lookup(cache, &key2, pipeline_generation(g.pl)));
    megaflow_cache_get_stats(cache, &st);
    assert_int_equal(st.n_invalidations, 1);

    pipeline_result_destroy(&r1);
    pipeline_result_destroy(&r2);
    pipeline_result_destroy(&r3);
    megaflow_cache_destroy(cache);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_l2_local_and_remote),
        cmocka_unit_test(test_l2_flood),
        cmocka_unit_test(test_tunnel_input),
        cmocka_unit_test(test_router_arp_reply),
        cmocka_unit_test(test_router_forwarding),
        cmocka_unit_test(test_megaflow_cache),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
