/* Unit tests of the simulated eSwitch: packets in, packets out, byte-exact. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/hw-sim/eswitch/eswitch.h"
#include "tests/hw-sim/eswitch/geneve.h"
#include "tests/unit/eswitch/pkt.h"

#define VF1 1
#define VF2 2
#define UPLINK 0

static struct eswitch_result res; /* Large: kept off the stack. */

static struct eswitch *
esw_new(const char *profile_name)
{
    struct eswitch_profile p;
    assert_int_equal(eswitch_profile_builtin(profile_name, &p), 0);
    struct eswitch *esw;
    assert_int_equal(eswitch_create(&p, &esw), 0);
    return esw;
}

static const struct rte_flow_attr attr0 = {.transfer = 1};

/* Adds a rule; fails the test on error. */
static uint64_t
add(struct eswitch *esw, const struct rte_flow_attr *attr,
    const struct rte_flow_item *items, const struct rte_flow_action *actions)
{
    struct esw_error err;
    esw_error_clear(&err);
    uint64_t id = 0;
    int r = eswitch_rule_add(esw, attr, items, actions, 0, &id, &err);
    if (r) {
        char buf[256];
        fail_msg("rule_add: %s", esw_error_format(&err, buf, sizeof buf));
    }
    return id;
}

/* Adds a rule that must fail with 'code' and 'type'. */
static void
add_fails(struct eswitch *esw, const struct rte_flow_attr *attr,
          const struct rte_flow_item *items, const struct rte_flow_action *actions,
          int code, enum rte_flow_error_type type)
{
    struct esw_error err;
    esw_error_clear(&err);
    uint64_t id = 0;
    assert_int_equal(eswitch_rule_add(esw, attr, items, actions, 0, &id, &err), code);
    assert_int_equal(err.err.code, code);
    assert_int_equal(err.type, type);
    assert_int_equal(id, 0);
}

static const struct rte_flow_action_ethdev to_vf2 = {.port_id = VF2};
static const struct rte_flow_item_udp udp_dst_mask = {.hdr.dst_port = RTE_BE16(0xffff)};
static const struct rte_flow_action_ethdev to_uplink = {.port_id = UPLINK};

#define ACT_OUT_VF2                                                    \
    {                                                                  \
        .type = RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, .conf = &to_vf2 \
    }
#define ACT_END                          \
    {                                    \
        .type = RTE_FLOW_ACTION_TYPE_END \
    }
#define ITEM_END                       \
    {                                  \
        .type = RTE_FLOW_ITEM_TYPE_END \
    }

static void
expect_forward(struct eswitch *esw, uint16_t in_port, const uint8_t *pkt, size_t len,
               uint16_t out_port, const uint8_t *expect, size_t expect_len)
{
    assert_int_equal(eswitch_process(esw, in_port, false, pkt, len, 0, &res),
                     ESWITCH_FORWARD);
    assert_int_equal(res.n_outputs, 1);
    assert_int_equal(res.outputs[0].port_id, out_port);
    assert_false(res.outputs[0].to_representor);
    assert_int_equal(res.outputs[0].len, expect_len);
    assert_memory_equal(res.outputs[0].data, expect, expect_len);
}

/* ---------------------------------------------------------------------------------- */

static void
test_miss_goes_to_representor(void **state)
{
    struct eswitch *esw = esw_new("bf2");
    struct pspec s = pspec_default();
    uint8_t pkt[256];
    size_t len = pkt_build(&s, pkt);

    assert_int_equal(eswitch_process(esw, VF1, false, pkt, len, 0, &res), ESWITCH_MISS);
    assert_int_equal(res.n_outputs, 1);
    assert_int_equal(res.outputs[0].port_id, VF1);
    assert_true(res.outputs[0].to_representor);
    assert_memory_equal(res.outputs[0].data, pkt, len);

    /* Sent by software through the representor: goes to the port itself. */
    assert_int_equal(eswitch_process(esw, VF1, true, pkt, len, 0, &res), ESWITCH_MISS);
    assert_int_equal(res.outputs[0].port_id, VF1);
    assert_false(res.outputs[0].to_representor);

    /* Too short to be Ethernet. */
    assert_int_equal(eswitch_process(esw, VF1, false, pkt, 10, 0, &res), ESWITCH_DROP);
    assert_int_equal(res.drop_reason, ESWITCH_DROP_MALFORMED);
    /* Truncated IPv4: no IPv4 layer, still a clean miss. */
    assert_int_equal(eswitch_process(esw, VF1, false, pkt, 30, 0, &res), ESWITCH_MISS);

    struct eswitch_stats st;
    eswitch_stats_get(esw, &st);
    assert_int_equal(st.packets, 4);
    assert_int_equal(st.missed, 3);
    assert_int_equal(st.dropped, 1);
    eswitch_destroy(esw);
}

/* One item: a rule with it forwards the matching packet and misses the other one. */
static void
check_item(const struct rte_flow_item *item, const struct pspec *hit,
           const struct pspec *miss, bool from_rep, uint16_t in_port)
{
    struct eswitch *esw = esw_new("bf3");
    struct rte_flow_item items[] = {*item, ITEM_END};
    struct rte_flow_action actions[] = {ACT_OUT_VF2, ACT_END};
    add(esw, &attr0, items, actions);
    uint8_t pkt[256];
    size_t len = pkt_build(hit, pkt);
    assert_int_equal(eswitch_process(esw, in_port, from_rep, pkt, len, 0, &res),
                     ESWITCH_FORWARD);
    assert_int_equal(res.outputs[0].port_id, VF2);
    assert_memory_equal(res.outputs[0].data, pkt, len);
    len = pkt_build(miss, pkt);
    assert_int_equal(eswitch_process(esw, in_port, from_rep, pkt, len, 0, &res),
                     ESWITCH_MISS);
    eswitch_destroy(esw);
}

static void
test_items(void **state)
{
    struct pspec hit = pspec_default(), miss = pspec_default();

    /* ETH: source MAC. */
    struct rte_flow_item_eth eth = {0}, eth_m = {0};
    eth.hdr.src_addr.addr_bytes[5] = 1;
    memset(&eth_m.hdr.src_addr, 0xff, 6);
    miss.src[5] = 9;
    check_item(&(struct rte_flow_item){RTE_FLOW_ITEM_TYPE_ETH, &eth, NULL, &eth_m}, &hit,
               &miss, false, VF1);

    /* ETH has_vlan. */
    struct rte_flow_item_eth ev = {.has_vlan = 1}, ev_m = {.has_vlan = 1};
    hit = pspec_default(), miss = pspec_default();
    hit.vlan_tci = 100;
    check_item(&(struct rte_flow_item){RTE_FLOW_ITEM_TYPE_ETH, &ev, NULL, &ev_m}, &hit,
               &miss, false, VF1);

    /* VLAN: TCI 100 (default mask: VID). */
    struct rte_flow_item_vlan vlan = {.hdr.vlan_tci = RTE_BE16(100)};
    miss = hit;
    miss.vlan_tci = 101;
    check_item(&(struct rte_flow_item){RTE_FLOW_ITEM_TYPE_VLAN, &vlan, NULL, NULL}, &hit,
               &miss, false, VF1);

    /* IPV4: destination 10.0.0.0/24. */
    struct rte_flow_item_ipv4 ip4 = {.hdr.dst_addr = RTE_BE32(0x0a000000)};
    struct rte_flow_item_ipv4 ip4_m = {.hdr.dst_addr = RTE_BE32(0xffffff00)};
    hit = pspec_default(), miss = pspec_default();
    miss.dst4[2] = 1;
    check_item(&(struct rte_flow_item){RTE_FLOW_ITEM_TYPE_IPV4, &ip4, NULL, &ip4_m}, &hit,
               &miss, false, VF1);

    /* IPV6: destination fd00::2. */
    struct rte_flow_item_ipv6 ip6 = {0};
    ip6.hdr.dst_addr[0] = 0xfd, ip6.hdr.dst_addr[15] = 2;
    ip6.hdr.src_addr[0] = 0xfd, ip6.hdr.src_addr[15] = 1;
    hit = pspec_default(), miss = pspec_default();
    hit.l3 = miss.l3 = 6;
    miss.dst6[15] = 3;
    check_item(&(struct rte_flow_item){RTE_FLOW_ITEM_TYPE_IPV6, &ip6, NULL, NULL}, &hit,
               &miss, false, VF1);

    /* UDP destination port. */
    struct rte_flow_item_udp udp = {.hdr.dst_port = RTE_BE16(2000)};
    hit = pspec_default(), miss = pspec_default();
    miss.dport = 2001;
    check_item(&(struct rte_flow_item){RTE_FLOW_ITEM_TYPE_UDP, &udp, NULL, &udp_dst_mask},
               &hit, &miss, false, VF1);

    /* TCP source port; a UDP packet with the same port misses. */
    struct rte_flow_item_tcp tcp = {.hdr.src_port = RTE_BE16(1000),
                                    .hdr.dst_port = RTE_BE16(2000)};
    hit = pspec_default(), miss = pspec_default();
    hit.proto = 6;
    check_item(&(struct rte_flow_item){RTE_FLOW_ITEM_TYPE_TCP, &tcp, NULL, NULL}, &hit,
               &miss, false, VF1);

    /* ICMP echo request. */
    struct rte_flow_item_icmp icmp = {.hdr.icmp_type = 8};
    hit = pspec_default(), miss = pspec_default();
    hit.proto = miss.proto = 1;
    miss.icmp_type = 0;
    check_item(&(struct rte_flow_item){RTE_FLOW_ITEM_TYPE_ICMP, &icmp, NULL, NULL}, &hit,
               &miss, false, VF1);

    /* REPRESENTED_PORT 1 vs PORT_REPRESENTOR 1. */
    struct rte_flow_item_ethdev dev = {.port_id = VF1};
    hit = pspec_default();
    struct eswitch *esw = esw_new("bf3");
    struct rte_flow_item items[] = {
        {.type = RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, .spec = &dev}, ITEM_END};
    struct rte_flow_action actions[] = {ACT_OUT_VF2, ACT_END};
    add(esw, &attr0, items, actions);
    uint8_t pkt[256];
    size_t len = pkt_build(&hit, pkt);
    assert_int_equal(eswitch_process(esw, VF1, false, pkt, len, 0, &res),
                     ESWITCH_FORWARD);
    assert_int_equal(eswitch_process(esw, VF1, true, pkt, len, 0, &res), ESWITCH_MISS);
    assert_int_equal(eswitch_process(esw, 3, false, pkt, len, 0, &res), ESWITCH_MISS);
    eswitch_flush(esw);
    items[0].type = RTE_FLOW_ITEM_TYPE_PORT_REPRESENTOR;
    add(esw, &attr0, items, actions);
    assert_int_equal(eswitch_process(esw, VF1, true, pkt, len, 0, &res), ESWITCH_FORWARD);
    assert_int_equal(eswitch_process(esw, VF1, false, pkt, len, 0, &res), ESWITCH_MISS);
    eswitch_destroy(esw);
}

/* Encapsulates 'inner' with the OVN Geneve header as the eSwitch does it. */
static size_t
expected_encap(const struct geneve_encap *g, const uint8_t *inner, size_t len,
               uint8_t *out)
{
    struct geneve_encap e = *g;
    e.udp_src = (uint16_t)(0xc000 | (eswitch_flow_hash(inner, len) & 0x3fff));
    size_t hl = geneve_encap_build(&e, out, 128);
    memcpy(out + hl, inner, len);
    size_t total = hl + len;
    pkt_put16(out + 14 + 2, (uint16_t)(total - 14));
    pkt_put16(out + 14 + 10, 0);
    pkt_put16(out + 14 + 10, pkt_fold(pkt_sum(0, out + 14, 20)));
    pkt_put16(out + 34 + 4, (uint16_t)(total - 34));
    return total;
}

static const struct geneve_encap tun = {
    .eth_src = {0x02, 0, 0, 0, 0, 0xaa},
    .eth_dst = {0x02, 0, 0, 0, 0, 0xbb},
    .ip_src = {192, 168, 0, 1},
    .ip_dst = {192, 168, 0, 2},
    .vni = 0x123456,
    .ovn_opt = true,
    .in_port = 5,
    .out_port = 7,
};

static void
test_geneve_encap_decap(void **state)
{
    struct eswitch *esw = esw_new("bf2");
    uint8_t hdr[128];
    size_t hl = geneve_encap_build(&tun, hdr, sizeof hdr);
    assert_int_equal(hl, GENEVE_OVN_ENCAP_LEN);

    /* VF1 -> encap -> uplink. */
    struct rte_flow_item_ethdev vf1 = {.port_id = VF1};
    struct rte_flow_action_raw_encap enc = {.data = hdr, .size = hl};
    struct rte_flow_item items[] = {
        {.type = RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, .spec = &vf1}, ITEM_END};
    struct rte_flow_action actions[] = {
        {.type = RTE_FLOW_ACTION_TYPE_RAW_ENCAP, .conf = &enc},
        {.type = RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, .conf = &to_uplink},
        ACT_END};
    add(esw, &attr0, items, actions);

    /* Uplink, Geneve VNI + OVN option (egress port 7) -> decap -> VF2. */
    struct rte_flow_item_ethdev up = {.port_id = UPLINK};
    struct rte_flow_item_udp udp = {.hdr.dst_port = RTE_BE16(6081)};
    struct rte_flow_item_geneve gnv = {.vni = {0x12, 0x34, 0x56}};
    uint32_t opt_data = RTE_BE32(5u << 16 | 7u);
    uint32_t opt_mask = RTE_BE32(0xffff);
    struct rte_flow_item_geneve_opt opt = {.option_class = RTE_BE16(0x0102),
                                           .option_type = 0x80,
                                           .option_len = 1,
                                           .data = &opt_data};
    struct rte_flow_item_geneve_opt opt_m = {.option_class = 0xffff,
                                             .option_type = 0xff,
                                             .option_len = 0x1f,
                                             .data = &opt_mask};
    struct rte_flow_item ditems[] = {
        {.type = RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, .spec = &up},
        {.type = RTE_FLOW_ITEM_TYPE_ETH},
        {.type = RTE_FLOW_ITEM_TYPE_IPV4},
        {.type = RTE_FLOW_ITEM_TYPE_UDP, .spec = &udp, .mask = &udp_dst_mask},
        {.type = RTE_FLOW_ITEM_TYPE_GENEVE, .spec = &gnv},
        {.type = RTE_FLOW_ITEM_TYPE_GENEVE_OPT, .spec = &opt, .mask = &opt_m},
        ITEM_END};
    struct rte_flow_action dactions[] = {
        {.type = RTE_FLOW_ACTION_TYPE_RAW_DECAP}, ACT_OUT_VF2, ACT_END};
    add(esw, &attr0, ditems, dactions);

    struct pspec s = pspec_default();
    uint8_t pkt[256], expect[512], wire[512];
    size_t len = pkt_build(&s, pkt);
    size_t elen = expected_encap(&tun, pkt, len, expect);
    expect_forward(esw, VF1, pkt, len, UPLINK, expect, elen);

    /* IPv4 header checksum verifies, and the OVN fields read back. */
    assert_int_equal(pkt_fold(pkt_sum(0, res.outputs[0].data + 14, 20)), 0);
    uint32_t vni;
    bool has_opt;
    uint16_t in_port, out_port;
    size_t inner_off;
    assert_int_equal(geneve_ovn_parse(res.outputs[0].data, res.outputs[0].len, &vni,
                                      &has_opt, &in_port, &out_port, &inner_off),
                     0);
    assert_int_equal(vni, 0x123456);
    assert_true(has_opt);
    assert_int_equal(in_port, 5);
    assert_int_equal(out_port, 7);
    assert_int_equal(inner_off, GENEVE_OVN_ENCAP_LEN);
    /* Entropy: another inner flow gets another source port. */
    uint16_t sport1 = pkt_get16(res.outputs[0].data + 34);
    assert_true(sport1 >= 0xc000);

    /* The encapsulated packet comes back on the uplink and is decapsulated. */
    size_t wlen = res.outputs[0].len;
    memcpy(wire, res.outputs[0].data, wlen);
    expect_forward(esw, UPLINK, wire, wlen, VF2, pkt, len);

    /* Another egress port in the option: the GENEVE_OPT data mask excludes it. */
    wire[GENEVE_OVN_ENCAP_LEN - 1] = 8;
    assert_int_equal(eswitch_process(esw, UPLINK, false, wire, wlen, 0, &res),
                     ESWITCH_MISS);

    s.sport = 1001;
    len = pkt_build(&s, pkt);
    assert_int_equal(eswitch_process(esw, VF1, false, pkt, len, 0, &res),
                     ESWITCH_FORWARD);
    assert_int_not_equal(pkt_get16(res.outputs[0].data + 34), sport1);
    eswitch_destroy(esw);
}

static void
test_decap_on_plain_packet_drops(void **state)
{
    struct eswitch *esw = esw_new("bf2");
    struct rte_flow_item items[] = {{.type = RTE_FLOW_ITEM_TYPE_GENEVE}, ITEM_END};
    struct rte_flow_action actions[] = {
        {.type = RTE_FLOW_ACTION_TYPE_RAW_DECAP}, ACT_OUT_VF2, ACT_END};
    add(esw, &attr0, items, actions);
    struct pspec s = pspec_default();
    uint8_t pkt[256];
    size_t len = pkt_build(&s, pkt);
    /* A plain packet does not match GENEVE: miss, not a bad decap. */
    assert_int_equal(eswitch_process(esw, VF1, false, pkt, len, 0, &res), ESWITCH_MISS);
    /* Geneve carrying IPv4 instead of Ethernet matches, but cannot be decapsulated. */
    uint8_t hdr[128], wire[512];
    struct geneve_encap g = tun;
    size_t hl = geneve_encap_build(&g, hdr, sizeof hdr);
    memcpy(wire, hdr, hl);
    memcpy(wire + hl, pkt, len);
    pkt_put16(wire + 14 + 2, (uint16_t)(hl + len - 14));
    pkt_put16(wire + 34 + 4, (uint16_t)(hl + len - 34));
    pkt_put16(wire + 42 + 2, 0x0800);
    assert_int_equal(eswitch_process(esw, UPLINK, false, wire, hl + len, 0, &res),
                     ESWITCH_DROP);
    assert_int_equal(res.drop_reason, ESWITCH_DROP_DECAP);
    eswitch_destroy(esw);
}

/* One rewrite action: 'in' becomes 'out'. */
static void
check_action(const struct rte_flow_action *action, const struct pspec *in,
             const struct pspec *out)
{
    struct eswitch *esw = esw_new("bf3");
    struct rte_flow_item items[] = {ITEM_END};
    struct rte_flow_action actions[] = {*action, ACT_OUT_VF2, ACT_END};
    add(esw, &attr0, items, actions);
    uint8_t pkt[256], expect[256];
    size_t len = pkt_build(in, pkt);
    size_t elen = pkt_build(out, expect);
    expect_forward(esw, VF1, pkt, len, VF2, expect, elen);
    eswitch_destroy(esw);
}

static void
test_set_actions(void **state)
{
    struct pspec in = pspec_default(), out;

    struct rte_flow_action_set_mac mac = {.mac_addr = {2, 0, 0, 0, 0, 0x55}};
    out = in;
    memcpy(out.src, mac.mac_addr, 6);
    check_action(&(struct rte_flow_action){RTE_FLOW_ACTION_TYPE_SET_MAC_SRC, &mac}, &in,
                 &out);
    out = in;
    memcpy(out.dst, mac.mac_addr, 6);
    check_action(&(struct rte_flow_action){RTE_FLOW_ACTION_TYPE_SET_MAC_DST, &mac}, &in,
                 &out);

    /* IPv4 addresses, over UDP and TCP: IPv4 and L4 checksums follow. */
    struct rte_flow_action_set_ipv4 ip = {.ipv4_addr = RTE_BE32(0xc0a80a0b)};
    for (int proto = 6; proto <= 17; proto += 11) {
        in = pspec_default();
        in.proto = (uint8_t)proto;
        out = in;
        memcpy(out.src4, (uint8_t[]){192, 168, 10, 11}, 4);
        check_action(&(struct rte_flow_action){RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC, &ip},
                     &in, &out);
        out = in;
        memcpy(out.dst4, (uint8_t[]){192, 168, 10, 11}, 4);
        check_action(&(struct rte_flow_action){RTE_FLOW_ACTION_TYPE_SET_IPV4_DST, &ip},
                     &in, &out);
    }

    /* IPv6 addresses. */
    struct rte_flow_action_set_ipv6 ip6 = {.ipv6_addr = {0x20, 0x01, 0xd, 0xb8}};
    ip6.ipv6_addr[15] = 0x42;
    in = pspec_default();
    in.l3 = 6;
    out = in;
    memcpy(out.src6, ip6.ipv6_addr, 16);
    check_action(&(struct rte_flow_action){RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC, &ip6}, &in,
                 &out);
    out = in;
    memcpy(out.dst6, ip6.ipv6_addr, 16);
    check_action(&(struct rte_flow_action){RTE_FLOW_ACTION_TYPE_SET_IPV6_DST, &ip6}, &in,
                 &out);

    /* L4 ports, TCP and UDP. */
    struct rte_flow_action_set_tp tp = {.port = RTE_BE16(8080)};
    for (int proto = 6; proto <= 17; proto += 11) {
        in = pspec_default();
        in.proto = (uint8_t)proto;
        out = in;
        out.sport = 8080;
        check_action(&(struct rte_flow_action){RTE_FLOW_ACTION_TYPE_SET_TP_SRC, &tp}, &in,
                     &out);
        out = in;
        out.dport = 8080;
        check_action(&(struct rte_flow_action){RTE_FLOW_ACTION_TYPE_SET_TP_DST, &tp}, &in,
                     &out);
    }

    /* DEC_TTL: IPv4 (checksum), IPv6, and a TTL of 0 stays 0. */
    in = pspec_default();
    out = in;
    out.ttl = 63;
    check_action(&(struct rte_flow_action){RTE_FLOW_ACTION_TYPE_DEC_TTL, NULL}, &in,
                 &out);
    in.l3 = out.l3 = 6;
    check_action(&(struct rte_flow_action){RTE_FLOW_ACTION_TYPE_DEC_TTL, NULL}, &in,
                 &out);
    in = pspec_default();
    in.ttl = 0;
    check_action(&(struct rte_flow_action){RTE_FLOW_ACTION_TYPE_DEC_TTL, NULL}, &in, &in);

    /* MODIFY_FIELD: IPv4 destination from a value; MAC source from MAC destination;
     * UDP destination port from a value. */
    struct rte_flow_action_modify_field mf = {
        .operation = RTE_FLOW_MODIFY_SET,
        .dst = {.field = RTE_FLOW_FIELD_IPV4_DST},
        .src = {.field = RTE_FLOW_FIELD_VALUE, .value = {172, 16, 0, 9}},
        .width = 32,
    };
    in = pspec_default();
    out = in;
    memcpy(out.dst4, (uint8_t[]){172, 16, 0, 9}, 4);
    check_action(&(struct rte_flow_action){RTE_FLOW_ACTION_TYPE_MODIFY_FIELD, &mf}, &in,
                 &out);
    struct rte_flow_action_modify_field mf2 = {
        .operation = RTE_FLOW_MODIFY_SET,
        .dst = {.field = RTE_FLOW_FIELD_MAC_SRC},
        .src = {.field = RTE_FLOW_FIELD_MAC_DST},
        .width = 48,
    };
    out = in;
    memcpy(out.src, in.dst, 6);
    check_action(&(struct rte_flow_action){RTE_FLOW_ACTION_TYPE_MODIFY_FIELD, &mf2}, &in,
                 &out);
    struct rte_flow_action_modify_field mf3 = {
        .operation = RTE_FLOW_MODIFY_SET,
        .dst = {.field = RTE_FLOW_FIELD_UDP_PORT_DST},
        .src = {.field = RTE_FLOW_FIELD_VALUE, .value = {0x1f, 0x90}},
        .width = 16,
    };
    out = in;
    out.dport = 0x1f90;
    check_action(&(struct rte_flow_action){RTE_FLOW_ACTION_TYPE_MODIFY_FIELD, &mf3}, &in,
                 &out);
}

static void
test_drop_and_mirror(void **state)
{
    struct eswitch *esw = esw_new("bf2");
    struct rte_flow_item_udp udp = {.hdr.dst_port = RTE_BE16(2000)};
    struct rte_flow_item items[] = {
        {.type = RTE_FLOW_ITEM_TYPE_UDP, .spec = &udp, .mask = &udp_dst_mask}, ITEM_END};
    struct rte_flow_action drop[] = {{.type = RTE_FLOW_ACTION_TYPE_DROP}, ACT_END};
    add(esw, &attr0, items, drop);
    struct pspec s = pspec_default();
    uint8_t pkt[256];
    size_t len = pkt_build(&s, pkt);
    assert_int_equal(eswitch_process(esw, VF1, false, pkt, len, 0, &res), ESWITCH_DROP);
    assert_int_equal(res.drop_reason, ESWITCH_DROP_ACTION);
    assert_int_equal(res.n_outputs, 0);
    eswitch_flush(esw);
    assert_int_equal(eswitch_rule_count(esw), 0);

    /* Two port actions: a copy to the uplink, then a rewritten copy to VF2's
     * representor. */
    struct rte_flow_action_set_mac mac = {.mac_addr = {2, 0, 0, 0, 0, 0x66}};
    struct rte_flow_action_ethdev rep2 = {.port_id = VF2};
    struct rte_flow_action mirror[] = {
        {.type = RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, .conf = &to_uplink},
        {.type = RTE_FLOW_ACTION_TYPE_SET_MAC_DST, .conf = &mac},
        {.type = RTE_FLOW_ACTION_TYPE_PORT_REPRESENTOR, .conf = &rep2},
        ACT_END};
    add(esw, &attr0, items, mirror);
    assert_int_equal(eswitch_process(esw, VF1, false, pkt, len, 0, &res),
                     ESWITCH_FORWARD);
    assert_int_equal(res.n_outputs, 2);
    assert_memory_equal(res.outputs[0].data, pkt, len);
    assert_int_equal(res.outputs[1].port_id, VF2);
    assert_true(res.outputs[1].to_representor);
    assert_memory_equal(res.outputs[1].data, mac.mac_addr, 6);
    eswitch_destroy(esw);
}

static void
test_priority_group_jump(void **state)
{
    struct eswitch *esw = esw_new("bf2");
    struct rte_flow_item_udp udp = {.hdr.dst_port = RTE_BE16(2000)};
    struct rte_flow_item any[] = {ITEM_END};
    struct rte_flow_item udp_items[] = {
        {.type = RTE_FLOW_ITEM_TYPE_UDP, .spec = &udp, .mask = &udp_dst_mask}, ITEM_END};
    struct rte_flow_action drop[] = {{.type = RTE_FLOW_ACTION_TYPE_DROP}, ACT_END};
    struct rte_flow_action_jump j1 = {.group = 1};
    struct rte_flow_action jump[] = {{.type = RTE_FLOW_ACTION_TYPE_JUMP, .conf = &j1},
                                     ACT_END};

    /* Priority 5 catch-all drop inserted first; priority 1 UDP jump wins. */
    struct rte_flow_attr p5 = {.transfer = 1, .priority = 5};
    struct rte_flow_attr p1 = {.transfer = 1, .priority = 1};
    uint64_t id_drop = add(esw, &p5, any, drop);
    uint64_t id_jump = add(esw, &p1, udp_items, jump);

    struct pspec s = pspec_default();
    uint8_t pkt[256], expect[256];
    size_t len = pkt_build(&s, pkt);
    /* Group 1 is empty: a miss after the jump. */
    assert_int_equal(eswitch_process(esw, VF1, false, pkt, len, 0, &res), ESWITCH_MISS);
    assert_int_equal(res.n_rules, 1);
    assert_int_equal(res.rule_ids[0], id_jump);

    /* Group 1: rewrite and output. */
    struct rte_flow_attr g1 = {.transfer = 1, .group = 1};
    struct rte_flow_action_set_mac mac = {.mac_addr = {2, 0, 0, 0, 0, 0x77}};
    struct rte_flow_action out[] = {
        {.type = RTE_FLOW_ACTION_TYPE_SET_MAC_DST, .conf = &mac}, ACT_OUT_VF2, ACT_END};
    uint64_t id_g1 = add(esw, &g1, any, out);
    struct pspec e = s;
    memcpy(e.dst, mac.mac_addr, 6);
    size_t elen = pkt_build(&e, expect);
    expect_forward(esw, VF1, pkt, len, VF2, expect, elen);
    assert_int_equal(res.n_rules, 2);
    assert_int_equal(res.rule_ids[0], id_jump);
    assert_int_equal(res.rule_ids[1], id_g1);

    /* TCP does not match the UDP rule: the priority 5 drop. */
    s.proto = 6;
    len = pkt_build(&s, pkt);
    assert_int_equal(eswitch_process(esw, VF1, false, pkt, len, 0, &res), ESWITCH_DROP);
    assert_int_equal(res.rule_ids[0], id_drop);

    /* Equal priorities: the first inserted wins. */
    uint64_t id_drop2 = add(esw, &p5, any, drop);
    assert_int_equal(eswitch_process(esw, VF1, false, pkt, len, 0, &res), ESWITCH_DROP);
    assert_int_equal(res.rule_ids[0], id_drop);
    struct esw_error err;
    esw_error_clear(&err);
    assert_int_equal(eswitch_rule_del(esw, id_drop, &err), 0);
    assert_int_equal(eswitch_process(esw, VF1, false, pkt, len, 0, &res), ESWITCH_DROP);
    assert_int_equal(res.rule_ids[0], id_drop2);
    assert_int_equal(eswitch_rule_del(esw, id_drop, &err), -ENOENT);
    assert_int_equal(eswitch_group_rule_count(esw, 0), 2);
    assert_int_equal(eswitch_group_rule_count(esw, 1), 1);
    eswitch_destroy(esw);
}

static void
test_jump_loop_guard(void **state)
{
    /* bf3 allows jumps backwards: 1 -> 2 -> 1 ... ends as a loop drop. */
    struct eswitch *esw = esw_new("bf3");
    struct rte_flow_item any[] = {ITEM_END};
    struct rte_flow_action_jump j1 = {.group = 1}, j2 = {.group = 2};
    struct rte_flow_action to1[] = {{.type = RTE_FLOW_ACTION_TYPE_JUMP, .conf = &j1},
                                    ACT_END};
    struct rte_flow_action to2[] = {{.type = RTE_FLOW_ACTION_TYPE_JUMP, .conf = &j2},
                                    ACT_END};
    add(esw, &attr0, any, to1);
    add(esw, &(struct rte_flow_attr){.transfer = 1, .group = 1}, any, to2);
    add(esw, &(struct rte_flow_attr){.transfer = 1, .group = 2}, any, to1);
    struct pspec s = pspec_default();
    uint8_t pkt[256];
    size_t len = pkt_build(&s, pkt);
    assert_int_equal(eswitch_process(esw, VF1, false, pkt, len, 0, &res), ESWITCH_DROP);
    assert_int_equal(res.drop_reason, ESWITCH_DROP_LOOP);
    eswitch_destroy(esw);
}

/* The id of the rule that a default packet from VF 1 meets first in group 0. */
static uint64_t
first_hit(struct eswitch *esw)
{
    struct pspec s = pspec_default();
    uint8_t pkt[256];
    size_t len = pkt_build(&s, pkt);
    assert_int_equal(eswitch_process(esw, VF1, false, pkt, len, 0, &res), ESWITCH_DROP);
    assert_int_equal(res.n_rules, 1);
    return res.rule_ids[0];
}

static void
test_priority_order_after_deletes(void **state)
{
    /* Rules are placed after the last rule of their priority or the nearest better
     * one; deleting such a last rule must keep the order. */
    struct eswitch *esw = esw_new("bf3");
    struct rte_flow_item any[] = {ITEM_END};
    struct rte_flow_action drop[] = {{.type = RTE_FLOW_ACTION_TYPE_DROP}, ACT_END};
    struct rte_flow_attr p1 = {.transfer = 1, .priority = 1};
    struct rte_flow_attr p2 = {.transfer = 1, .priority = 2};
    struct rte_flow_attr p3 = {.transfer = 1, .priority = 3};
    struct esw_error err;
    esw_error_clear(&err);

    uint64_t a = add(esw, &p2, any, drop);
    uint64_t b = add(esw, &p2, any, drop);
    assert_int_equal(first_hit(esw), a);
    assert_int_equal(eswitch_rule_del(esw, a, &err), 0);
    assert_int_equal(first_hit(esw), b);
    uint64_t c = add(esw, &p1, any, drop);
    assert_int_equal(first_hit(esw), c);
    assert_int_equal(eswitch_rule_del(esw, c, &err), 0);
    assert_int_equal(first_hit(esw), b);

    /* The last rule of priority 2 goes: a new one lands before priority 3's. */
    assert_int_equal(eswitch_rule_del(esw, b, &err), 0);
    uint64_t d = add(esw, &p3, any, drop);
    uint64_t e = add(esw, &p2, any, drop);
    assert_int_equal(first_hit(esw), e);
    assert_int_equal(eswitch_rule_del(esw, e, &err), 0);
    assert_int_equal(first_hit(esw), d);
    uint64_t f = add(esw, &p2, any, drop);
    uint64_t g = add(esw, &p2, any, drop);
    assert_int_equal(first_hit(esw), f);

    /* Deleting the last of several keeps the one before it as the last. */
    assert_int_equal(eswitch_rule_del(esw, g, &err), 0);
    uint64_t h = add(esw, &p2, any, drop);
    assert_int_equal(eswitch_rule_del(esw, f, &err), 0);
    assert_int_equal(first_hit(esw), h);
    add(esw, &p3, any, drop);
    assert_int_equal(first_hit(esw), h);
    assert_int_equal(eswitch_rule_del(esw, h, &err), 0);
    assert_int_equal(first_hit(esw), d);
    eswitch_destroy(esw);
}

static void
test_count_and_age(void **state)
{
    struct eswitch *esw = esw_new("bf2");
    struct rte_flow_attr g1 = {.transfer = 1, .group = 1};
    struct rte_flow_item any[] = {ITEM_END};
    struct rte_flow_action_age age = {.timeout = 2};
    struct rte_flow_action actions[] = {{.type = RTE_FLOW_ACTION_TYPE_COUNT},
                                        {.type = RTE_FLOW_ACTION_TYPE_AGE, .conf = &age},
                                        ACT_OUT_VF2,
                                        ACT_END};
    struct rte_flow_action_jump j1 = {.group = 1};
    struct rte_flow_action jump[] = {{.type = RTE_FLOW_ACTION_TYPE_JUMP, .conf = &j1},
                                     ACT_END};
    add(esw, &attr0, any, jump);
    uint64_t id = add(esw, &g1, any, actions);

    struct pspec s = pspec_default();
    uint8_t pkt[256];
    size_t len = pkt_build(&s, pkt);
    uint64_t ids[4];
    assert_int_equal(eswitch_aged_get(esw, 1000, ids, 4), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(eswitch_process(esw, VF1, false, pkt, len, 1000, &res),
                         ESWITCH_FORWARD);
    }
    struct esw_rule_stats st;
    struct esw_error err;
    esw_error_clear(&err);
    assert_int_equal(eswitch_rule_query(esw, id, 2500, true, &st, &err), 0);
    assert_true(st.has_count);
    assert_int_equal(st.packets, 3);
    assert_int_equal(st.bytes, 3 * len);
    assert_true(st.has_age);
    assert_int_equal(st.idle_sec, 1);
    assert_false(st.aged);
    assert_int_equal(eswitch_rule_query(esw, id, 2500, false, &st, &err), 0);
    assert_int_equal(st.packets, 0);

    /* Idle for 2 s: aged, reported once. */
    assert_int_equal(eswitch_aged_get(esw, 2999, ids, 4), 0);
    assert_int_equal(eswitch_aged_get(esw, 3000, ids, 4), 1);
    assert_int_equal(ids[0], id);
    assert_int_equal(eswitch_aged_get(esw, 4000, ids, 4), 0);
    assert_int_equal(eswitch_rule_query(esw, id, 4000, false, &st, &err), 0);
    assert_true(st.aged);
    /* A new hit restarts it. */
    eswitch_process(esw, VF1, false, pkt, len, 5000, &res);
    assert_int_equal(eswitch_aged_get(esw, 6000, ids, 4), 0);
    assert_int_equal(eswitch_aged_get(esw, 7000, ids, 4), 1);
    assert_int_equal(eswitch_rule_query(esw, 999, 0, false, &st, &err), -ENOENT);
    eswitch_destroy(esw);
}

static void
test_age_from_creation(void **state)
{
    /* A rule that never sees a packet ages from its creation, not from the first
     * query or scan. */
    struct eswitch *esw = esw_new("bf3");
    struct rte_flow_item any[] = {ITEM_END};
    struct rte_flow_action_age age = {.timeout = 2};
    struct rte_flow_action actions[] = {
        {.type = RTE_FLOW_ACTION_TYPE_AGE, .conf = &age}, ACT_OUT_VF2, ACT_END};
    struct esw_error err;
    esw_error_clear(&err);
    uint64_t a = 0, b = 0;
    assert_int_equal(eswitch_rule_add(esw, &attr0, any, actions, 10000, &a, &err), 0);
    assert_int_equal(eswitch_rule_add(esw, &attr0, any, actions, 11000, &b, &err), 0);

    /* First looked at 10 s after its creation: already idle for 10 s. */
    struct esw_rule_stats st;
    assert_int_equal(eswitch_rule_query(esw, a, 20000, false, &st, &err), 0);
    assert_true(st.has_age);
    assert_int_equal(st.idle_sec, 10);
    assert_true(st.aged);

    /* The first scan reports each rule once its own timeout has run from its
     * creation. */
    uint64_t ids[4];
    assert_int_equal(eswitch_aged_get(esw, 11999, ids, 4), 0);
    assert_int_equal(eswitch_aged_get(esw, 12000, ids, 4), 1);
    assert_int_equal(ids[0], a);
    assert_int_equal(eswitch_aged_get(esw, 12999, ids, 4), 0);
    assert_int_equal(eswitch_aged_get(esw, 13000, ids, 4), 1);
    assert_int_equal(ids[0], b);
    eswitch_destroy(esw);
}

static void
test_meter(void **state)
{
    struct eswitch *esw = esw_new("bf2");
    struct esw_error err;
    esw_error_clear(&err);
    assert_int_equal(eswitch_meter_set(esw, 3, 1000, 200, &err), 0);
    assert_int_equal(eswitch_meter_set(esw, 100000, 1000, 200, &err), -ERANGE);
    struct rte_flow_attr g1 = {.transfer = 1, .group = 1};
    struct rte_flow_item any[] = {ITEM_END};
    struct rte_flow_action_meter m = {.mtr_id = 3};
    struct rte_flow_action actions[] = {
        {.type = RTE_FLOW_ACTION_TYPE_METER, .conf = &m}, ACT_OUT_VF2, ACT_END};
    add(esw, &g1, any, actions);
    struct rte_flow_action_jump j1 = {.group = 1};
    struct rte_flow_action jump[] = {{.type = RTE_FLOW_ACTION_TYPE_JUMP, .conf = &j1},
                                     ACT_END};
    add(esw, &attr0, any, jump);

    struct pspec s = pspec_default();
    s.payload = 100 - 42;
    uint8_t pkt[256];
    size_t len = pkt_build(&s, pkt);
    assert_int_equal(len, 100);
    assert_int_equal(eswitch_process(esw, VF1, false, pkt, len, 0, &res),
                     ESWITCH_FORWARD);
    assert_int_equal(eswitch_process(esw, VF1, false, pkt, len, 0, &res),
                     ESWITCH_FORWARD);
    assert_int_equal(eswitch_process(esw, VF1, false, pkt, len, 0, &res), ESWITCH_DROP);
    assert_int_equal(res.drop_reason, ESWITCH_DROP_METER);
    /* 100 ms later: 100 bytes of tokens. */
    assert_int_equal(eswitch_process(esw, VF1, false, pkt, len, 100, &res),
                     ESWITCH_FORWARD);
    assert_int_equal(eswitch_process(esw, VF1, false, pkt, len, 100, &res), ESWITCH_DROP);
    eswitch_destroy(esw);
}

static void
test_conntrack(void **state)
{
    struct eswitch *esw = esw_new("bf2");
    /* Group 1: track, then jump to 2; group 2: valid packets go to VF2. */
    struct rte_flow_item any[] = {ITEM_END};
    struct rte_flow_action_jump j1 = {.group = 1}, j2 = {.group = 2};
    struct rte_flow_action to1[] = {{.type = RTE_FLOW_ACTION_TYPE_JUMP, .conf = &j1},
                                    ACT_END};
    struct rte_flow_action_conntrack ct = {
        .enable = 1, .is_original_dir = 1, .state = RTE_FLOW_CONNTRACK_STATE_SYN_RECV};
    struct rte_flow_action track[] = {
        {.type = RTE_FLOW_ACTION_TYPE_CONNTRACK, .conf = &ct},
        {.type = RTE_FLOW_ACTION_TYPE_JUMP, .conf = &j2},
        ACT_END};
    struct rte_flow_item_conntrack valid = {.flags = RTE_FLOW_CONNTRACK_PKT_STATE_VALID};
    struct rte_flow_item_conntrack valid_m = {
        .flags = RTE_FLOW_CONNTRACK_PKT_STATE_VALID |
                 RTE_FLOW_CONNTRACK_PKT_STATE_INVALID | RTE_FLOW_CONNTRACK_PKT_STATE_BAD};
    struct rte_flow_item ct_items[] = {
        {.type = RTE_FLOW_ITEM_TYPE_CONNTRACK, .spec = &valid, .mask = &valid_m},
        ITEM_END};
    struct rte_flow_action out[] = {ACT_OUT_VF2, ACT_END};
    add(esw, &attr0, any, to1);
    add(esw, &(struct rte_flow_attr){.transfer = 1, .group = 1}, any, track);
    add(esw, &(struct rte_flow_attr){.transfer = 1, .group = 2}, ct_items, out);

    struct pspec a = pspec_default();
    a.proto = 6;
    struct pspec b = a; /* Reply direction. */
    memcpy(b.src4, a.dst4, 4);
    memcpy(b.dst4, a.src4, 4);
    b.sport = a.dport;
    b.dport = a.sport;
    uint8_t pkt[256];
    struct eswitch_ct_key key = {.sport = 1000, .dport = 2000, .proto = 6};
    memcpy(key.src, a.src4, 4);
    memcpy(key.dst, a.dst4, 4);
    int st;

    a.tcp_flags = 0x02; /* SYN */
    assert_int_equal(eswitch_process(esw, VF1, false, pkt, pkt_build(&a, pkt), 0, &res),
                     ESWITCH_FORWARD);
    assert_int_equal(eswitch_ct_state(esw, &key, &st), 0);
    assert_int_equal(st, RTE_FLOW_CONNTRACK_STATE_SYN_RECV);
    b.tcp_flags = 0x12; /* SYN+ACK */
    assert_int_equal(eswitch_process(esw, VF2, false, pkt, pkt_build(&b, pkt), 0, &res),
                     ESWITCH_FORWARD);
    a.tcp_flags = 0x10; /* ACK */
    assert_int_equal(eswitch_process(esw, VF1, false, pkt, pkt_build(&a, pkt), 0, &res),
                     ESWITCH_FORWARD);
    assert_int_equal(eswitch_ct_state(esw, &key, &st), 0);
    assert_int_equal(st, RTE_FLOW_CONNTRACK_STATE_ESTABLISHED);
    /* A SYN on an established connection is invalid: no group 2 match. */
    a.tcp_flags = 0x02;
    assert_int_equal(eswitch_process(esw, VF1, false, pkt, pkt_build(&a, pkt), 0, &res),
                     ESWITCH_MISS);
    /* SYN+FIN is bad. */
    a.tcp_flags = 0x03;
    assert_int_equal(eswitch_process(esw, VF1, false, pkt, pkt_build(&a, pkt), 0, &res),
                     ESWITCH_MISS);
    /* Close: FIN from a, ACK from b, FIN from b, ACK from a. */
    a.tcp_flags = 0x11;
    eswitch_process(esw, VF1, false, pkt, pkt_build(&a, pkt), 0, &res);
    assert_int_equal(eswitch_ct_state(esw, &key, &st), 0);
    assert_int_equal(st, RTE_FLOW_CONNTRACK_STATE_FIN_WAIT);
    b.tcp_flags = 0x10;
    eswitch_process(esw, VF2, false, pkt, pkt_build(&b, pkt), 0, &res);
    assert_int_equal(eswitch_ct_state(esw, &key, &st), 0);
    assert_int_equal(st, RTE_FLOW_CONNTRACK_STATE_CLOSE_WAIT);
    b.tcp_flags = 0x11;
    eswitch_process(esw, VF2, false, pkt, pkt_build(&b, pkt), 0, &res);
    assert_int_equal(eswitch_ct_state(esw, &key, &st), 0);
    assert_int_equal(st, RTE_FLOW_CONNTRACK_STATE_LAST_ACK);
    a.tcp_flags = 0x10;
    eswitch_process(esw, VF1, false, pkt, pkt_build(&a, pkt), 0, &res);
    assert_int_equal(eswitch_ct_state(esw, &key, &st), 0);
    assert_int_equal(st, RTE_FLOW_CONNTRACK_STATE_TIME_WAIT);

    struct eswitch_stats stats;
    eswitch_stats_get(esw, &stats);
    assert_int_equal(stats.connections, 1);
    eswitch_flush(esw);
    assert_int_equal(eswitch_ct_state(esw, &key, &st), -ENOENT);
    eswitch_destroy(esw);
}

/* ---------------------------------------------------------------------------------- */
/* Profile limits. */

static struct eswitch *
esw_from_text(const char *text)
{
    struct eswitch_profile p;
    struct esw_error err;
    esw_error_clear(&err);
    int r = eswitch_profile_parse(text, "test", &p, &err);
    if (r) {
        char buf[256];
        fail_msg("profile: %s", esw_error_format(&err, buf, sizeof buf));
    }
    struct eswitch *esw;
    assert_int_equal(eswitch_create(&p, &esw), 0);
    return esw;
}

static void
test_profile_limits(void **state)
{
    struct eswitch *esw = esw_from_text("base = bf2\n"
                                        "name = tiny\n"
                                        "max_rules = 3\n"
                                        "max_rules_per_group = 2\n"
                                        "max_groups = 4\n"
                                        "max_priorities = 4\n"
                                        "max_items = 3\n"
                                        "max_actions = 3\n"
                                        "max_ports = 8\n"
                                        "max_encap_size = 56  # no room for the option\n"
                                        "items = eth ipv4 udp geneve geneve-opt "
                                        "represented_port\n"
                                        "actions = jump drop count represented_port "
                                        "raw_encap raw_decap meter\n");
    struct rte_flow_item any[] = {ITEM_END};
    struct rte_flow_action out[] = {ACT_OUT_VF2, ACT_END};

    /* Unsupported item, at its index. */
    struct rte_flow_item vlan[] = {
        {.type = RTE_FLOW_ITEM_TYPE_ETH}, {.type = RTE_FLOW_ITEM_TYPE_VLAN}, ITEM_END};
    struct esw_error err;
    esw_error_clear(&err);
    uint64_t id;
    assert_int_equal(eswitch_rule_add(esw, &attr0, vlan, out, 0, &id, &err), -ENOTSUP);
    assert_int_equal(err.type, RTE_FLOW_ERROR_TYPE_ITEM);
    assert_int_equal(err.index, 1);

    /* Unsupported action. */
    struct rte_flow_action dec[] = {
        {.type = RTE_FLOW_ACTION_TYPE_DEC_TTL}, ACT_OUT_VF2, ACT_END};
    add_fails(esw, &attr0, any, dec, -ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION);

    /* Too many items / actions. */
    struct rte_flow_item four[] = {{.type = RTE_FLOW_ITEM_TYPE_ETH},
                                   {.type = RTE_FLOW_ITEM_TYPE_IPV4},
                                   {.type = RTE_FLOW_ITEM_TYPE_UDP},
                                   {.type = RTE_FLOW_ITEM_TYPE_GENEVE},
                                   ITEM_END};
    add_fails(esw, &attr0, four, out, -ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM_NUM);
    struct rte_flow_action many[] = {{.type = RTE_FLOW_ACTION_TYPE_COUNT},
                                     {.type = RTE_FLOW_ACTION_TYPE_COUNT},
                                     {.type = RTE_FLOW_ACTION_TYPE_COUNT},
                                     ACT_OUT_VF2,
                                     ACT_END};
    add_fails(esw, &attr0, any, many, -ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION_NUM);

    /* Group and priority beyond the profile. */
    add_fails(esw, &(struct rte_flow_attr){.transfer = 1, .group = 4}, any, out, -ERANGE,
              RTE_FLOW_ERROR_TYPE_ATTR_GROUP);
    add_fails(esw, &(struct rte_flow_attr){.transfer = 1, .priority = 4}, any, out,
              -ERANGE, RTE_FLOW_ERROR_TYPE_ATTR_PRIORITY);
    add_fails(esw, &(struct rte_flow_attr){.ingress = 1}, any, out, -EINVAL,
              RTE_FLOW_ERROR_TYPE_ATTR_TRANSFER);

    /* JUMP: beyond, to itself, backwards (bf2 base: forward only). */
    struct rte_flow_action_jump j9 = {.group = 9}, j0 = {.group = 0};
    struct rte_flow_action jump9[] = {{.type = RTE_FLOW_ACTION_TYPE_JUMP, .conf = &j9},
                                      ACT_END};
    struct rte_flow_action jump0[] = {{.type = RTE_FLOW_ACTION_TYPE_JUMP, .conf = &j0},
                                      ACT_END};
    add_fails(esw, &attr0, any, jump9, -ERANGE, RTE_FLOW_ERROR_TYPE_ACTION_CONF);
    add_fails(esw, &attr0, any, jump0, -ERANGE, RTE_FLOW_ERROR_TYPE_ACTION_CONF);
    add_fails(esw, &(struct rte_flow_attr){.transfer = 1, .group = 2}, any, jump0,
              -ERANGE, RTE_FLOW_ERROR_TYPE_ACTION_CONF);

    /* Fates: none, conflicting. */
    struct rte_flow_action count_only[] = {{.type = RTE_FLOW_ACTION_TYPE_COUNT}, ACT_END};
    add_fails(esw, &attr0, any, count_only, -EINVAL, RTE_FLOW_ERROR_TYPE_ACTION);
    struct rte_flow_action drop_out[] = {
        {.type = RTE_FLOW_ACTION_TYPE_DROP}, ACT_OUT_VF2, ACT_END};
    add_fails(esw, &attr0, any, drop_out, -EINVAL, RTE_FLOW_ERROR_TYPE_ACTION);

    /* Port beyond max_ports. */
    struct rte_flow_action_ethdev p99 = {.port_id = 99};
    struct rte_flow_action out99[] = {
        {.type = RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, .conf = &p99}, ACT_END};
    add_fails(esw, &attr0, any, out99, -ERANGE, RTE_FLOW_ERROR_TYPE_ACTION_CONF);

    /* Encapsulation larger than the device takes; not Geneve at all. */
    uint8_t hdr[128];
    size_t hl = geneve_encap_build(&tun, hdr, sizeof hdr);
    struct rte_flow_action_raw_encap enc = {.data = hdr, .size = hl};
    struct rte_flow_action encap[] = {
        {.type = RTE_FLOW_ACTION_TYPE_RAW_ENCAP, .conf = &enc}, ACT_OUT_VF2, ACT_END};
    add_fails(esw, &attr0, any, encap, -ERANGE, RTE_FLOW_ERROR_TYPE_ACTION_CONF);
    enc.size = 20;
    add_fails(esw, &attr0, any, encap, -EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF);

    /* RAW_DECAP without a GENEVE item. */
    struct rte_flow_action decap[] = {
        {.type = RTE_FLOW_ACTION_TYPE_RAW_DECAP}, ACT_OUT_VF2, ACT_END};
    add_fails(esw, &attr0, any, decap, -ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION);

    /* METER: not in group 0 on bf2; unconfigured in group 1. */
    struct rte_flow_action_meter m = {.mtr_id = 1};
    struct rte_flow_action meter[] = {
        {.type = RTE_FLOW_ACTION_TYPE_METER, .conf = &m}, ACT_OUT_VF2, ACT_END};
    add_fails(esw, &attr0, any, meter, -ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION);
    add_fails(esw, &(struct rte_flow_attr){.transfer = 1, .group = 1}, any, meter,
              -ENOENT, RTE_FLOW_ERROR_TYPE_ACTION_CONF);

    /* GENEVE_OPT: another class; without a GENEVE item before it; 'last'. */
    uint32_t data = 0;
    struct rte_flow_item_geneve_opt opt = {.option_class = RTE_BE16(0x0103),
                                           .option_type = 0x80,
                                           .option_len = 1,
                                           .data = &data};
    struct rte_flow_item gopt[] = {{.type = RTE_FLOW_ITEM_TYPE_GENEVE},
                                   {.type = RTE_FLOW_ITEM_TYPE_GENEVE_OPT, .spec = &opt},
                                   ITEM_END};
    add_fails(esw, &attr0, gopt, out, -ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM_SPEC);
    add_fails(esw, &attr0, gopt + 1, out, -EINVAL, RTE_FLOW_ERROR_TYPE_ITEM);
    struct rte_flow_item_udp u = {0};
    struct rte_flow_item last[] = {
        {.type = RTE_FLOW_ITEM_TYPE_UDP, .spec = &u, .last = &u}, ITEM_END};
    add_fails(esw, &attr0, last, out, -ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM_LAST);

    /* Group full (2 per group), then table full (3 in total). */
    add(esw, &attr0, any, out);
    add(esw, &attr0, any, out);
    add_fails(esw, &attr0, any, out, -ENOSPC, RTE_FLOW_ERROR_TYPE_HANDLE);
    add(esw, &(struct rte_flow_attr){.transfer = 1, .group = 1}, any, out);
    add_fails(esw, &(struct rte_flow_attr){.transfer = 1, .group = 2}, any, out, -ENOSPC,
              RTE_FLOW_ERROR_TYPE_HANDLE);
    assert_int_equal(eswitch_rule_count(esw), 3);

    struct eswitch_stats st;
    eswitch_stats_get(esw, &st);
    assert_int_equal(st.rules_added, 3);
    assert_true(st.add_failures >= 20);
    eswitch_destroy(esw);

    /* bf2 refuses AGE in the root group; bf3 takes it. */
    esw = esw_new("bf2");
    struct rte_flow_action_age age = {.timeout = 5};
    struct rte_flow_action aged[] = {
        {.type = RTE_FLOW_ACTION_TYPE_AGE, .conf = &age}, ACT_OUT_VF2, ACT_END};
    add_fails(esw, &attr0, any, aged, -ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION);
    eswitch_destroy(esw);
    esw = esw_new("bf3");
    add(esw, &attr0, any, aged);
    eswitch_destroy(esw);
}

static void
count_cb(uint64_t id, void *aux)
{
    (*(size_t *)aux)++;
}

static void
test_profiles(void **state)
{
    struct eswitch_profile p;
    struct esw_error err;
    assert_int_equal(eswitch_profile_builtin("bf9", &p), -ENOENT);

    const char *bad[] = {
        "max_rules = -1\n",         "max_rules = many\n", "color = blue\n",
        "items = eth warp\n",       "max_rules = 0\n",    "name = x\nbase = bf3\n",
        "geneve_opt = 0x10000/1\n", "novalue\n",          "jump_forward_only = maybe\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        esw_error_clear(&err);
        assert_int_equal(eswitch_profile_parse(bad[i], "f", &p, &err), -EINVAL);
        assert_non_null(strstr(err.err.detail, "f:"));
    }
    esw_error_clear(&err);
    assert_int_equal(eswitch_profile_parse("base = bf7\n", "f", &p, &err), -ENOENT);
    esw_error_clear(&err);
    assert_int_equal(eswitch_profile_parse("# c\n\nbase = bf3\ngeneve_opt = none\n"
                                           "cost_bulk_us = 2\n",
                                           "f", &p, &err),
                     0);
    assert_string_equal(p.name, "bf3");
    assert_false(p.geneve_opt);
    assert_int_equal(eswitch_profile_insert_cost_us(&p, true, 10), 20);
    assert_int_equal(eswitch_profile_insert_cost_us(&p, false, 10), 100);

    struct esw_caps caps;
    eswitch_profile_to_caps(&p, &caps);
    assert_true(esw_caps_has_item(&caps, RTE_FLOW_ITEM_TYPE_GENEVE_OPT));
    assert_true(esw_caps_has_action(&caps, RTE_FLOW_ACTION_TYPE_MODIFY_FIELD));
    assert_false(esw_caps_has_action(&caps, RTE_FLOW_ACTION_TYPE_RSS));
    assert_true(caps.async_native);

    /* From a file. */
    char path[] = "/tmp/ovnic-profile-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "base = bf2\nname = fromfile\nmax_rules = 7\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    esw_error_clear(&err);
    assert_int_equal(eswitch_profile_load(path, &p, &err), 0);
    assert_string_equal(p.name, "fromfile");
    assert_int_equal(p.max_rules, 7);
    unlink(path);
    esw_error_clear(&err);
    assert_int_equal(eswitch_profile_load(path, &p, &err), -ENOENT);
    assert_int_equal(eswitch_profile_load("bf3", &p, &err), 0);

    struct eswitch *esw;
    p.max_groups = 0;
    assert_int_equal(eswitch_create(&p, &esw), -EINVAL);

    esw = esw_new("bf2");
    assert_string_equal(eswitch_profile(esw)->name, "bf2");
    struct rte_flow_item any[] = {ITEM_END};
    struct rte_flow_action out[] = {ACT_OUT_VF2, ACT_END};
    uint64_t a = add(esw, &attr0, any, out);
    add(esw, &attr0, any, out);
    assert_true(eswitch_rule_exists(esw, a));
    size_t n = 0;
    eswitch_rule_foreach(esw, count_cb, &n);
    assert_int_equal(n, 2);
    esw_error_clear(&err);
    assert_int_equal(eswitch_rule_validate(esw, &attr0, any, out, &err), 0);
    assert_int_equal(eswitch_rule_validate(esw, NULL, any, out, &err), -EINVAL);
    eswitch_destroy(esw);
    eswitch_destroy(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_miss_goes_to_representor),
        cmocka_unit_test(test_items),
        cmocka_unit_test(test_geneve_encap_decap),
        cmocka_unit_test(test_decap_on_plain_packet_drops),
        cmocka_unit_test(test_set_actions),
        cmocka_unit_test(test_drop_and_mirror),
        cmocka_unit_test(test_priority_group_jump),
        cmocka_unit_test(test_jump_loop_guard),
        cmocka_unit_test(test_priority_order_after_deletes),
        cmocka_unit_test(test_count_and_age),
        cmocka_unit_test(test_age_from_creation),
        cmocka_unit_test(test_meter),
        cmocka_unit_test(test_conntrack),
        cmocka_unit_test(test_profile_limits),
        cmocka_unit_test(test_profiles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
