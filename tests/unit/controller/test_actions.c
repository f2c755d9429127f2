/* Unit tests of the logical-flow actions parser (dpu/controller/actions.h): the IR
 * text of every action ovn-northd 23.03 writes, prerequisites, type checks, and the
 * errors ovn-controller 23.03 also reports (checked against ovn-trace 23.03.1). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/controller/actions.h"
#include "dpu/controller/symtab.h"

static struct symtab *symtab;

static int
setup(void **state)
{
    (void)state;
    return symtab_create(&symtab);
}

static int
teardown(void **state)
{
    (void)state;
    symtab_destroy(symtab);
    return 0;
}

struct golden {
    const char *in;
    const char *ir;      /* Text form. */
    const char *prereqs; /* NULL: none. */
};

/* Inputs are (or are shaped like) what ovn-northd 23.03 wrote for the reference
 * topologies. */
static const struct golden goldens[] = {
    {"", "drop;", NULL},
    {"drop;", "drop;", NULL},
    {"/* drop */", "drop;", NULL},
    {"next;", "next;", NULL},
    {"output;", "output;", NULL},
    {"outport = \"lrp1\"; output;", "outport = \"lrp1\"; output;", NULL},
    {"next(pipeline=ingress, table=25);", "next(pipeline=ingress,table=25);", NULL},
    {"next(3);", "next(table=3);", NULL},
    {"eth.dst = 0a:00:00:01:00:11; next;", "eth.dst = 0a:00:00:01:00:11; next;", NULL},
    {"flags.loopback = 1; reg9[4] = 0; reg0[1] = 1; next;",
     "flags[0] = 1; reg9[4] = 0; reg0[1] = 1; next;", NULL},
    {"reg0[0..3] = 0x5/0x5; next;", "reg0[0..3] = 0x5/0x5; next;", NULL},
    {"xreg0[0..47] = 0a:00:00:02:01:01; next;",
     "xxreg0[64..111] = 0a:00:00:02:01:01; next;", NULL},
    {"reg8[0..15] = 0; reg0 = 10.2.1.254; xxreg1 = fd00:6::1; next;",
     "reg8[0..15] = 0; reg0 = 10.2.1.254; xxreg1 = fd00:6::1; next;", NULL},
    {"ip.ttl--; reg0 = ip4.dst; eth.src = 0a:00:00:02:01:01; outport = \"r3-lrp1\";"
     " flags.loopback = 1; next;",
     "ip.ttl--; reg0 = ip4.dst; eth.src = 0a:00:00:02:01:01; outport = \"r3-lrp1\";"
     " flags[0] = 1; next;",
     "ip && ip4"},
    {"eth.dst <-> eth.src; ip4.src <-> ip4.dst; udp.dst = udp.src; udp.src = 53;"
     " outport = inport; flags.loopback = 1; output;",
     "eth.dst <-> eth.src; ip4.src <-> ip4.dst; udp.dst = udp.src; udp.src = 53;"
     " outport = inport; flags[0] = 1; output;",
     "ip4 && udp"},
    {"vlan.vid = 5; next;", "vlan.tci[0..11] = 5; next;", "vlan.present"},
    {"push(xxreg1); xxreg1 = ct_label; eth.dst = xxreg1[32..79]; pop(xxreg1); next;",
     "push(xxreg1); xxreg1 = ct_label; eth.dst = xxreg1[32..79]; pop(xxreg1); next;",
     NULL},
    {"icmp4.frag_mtu = 1400; next;", "icmp4.frag_mtu = 1400; next;", NULL},
    {"ct_next;", "ct_next;", NULL},
    {"ct_commit { } ; next; ", "ct_commit { }; next;", NULL},
    {"ct_commit;", "ct_commit { };", NULL},
    {"ct_commit { ct_mark.blocked = 0; ct_label.label = reg3; }; next;",
     "ct_commit { ct_mark[0] = 0; ct_label[96..127] = reg3; }; next;", NULL},
    {"ct_commit(ct_mark=1/1, ct_label=0x2);",
     "ct_commit { ct_mark = 1/1; ct_label = 0x2; };", NULL},
    {"ct_commit_nat;", "ct_commit_nat;", NULL},
    {"ct_dnat;", "ct_dnat;", NULL},
    {"flags.loopback = 1; ct_dnat(10.4.0.11);", "flags[0] = 1; ct_dnat(10.4.0.11);",
     NULL},
    {"ct_snat(172.16.4.10, 1000-2000);", "ct_snat(172.16.4.10, 1000-2000);", NULL},
    {"ct_dnat(fd00::1, 80);", "ct_dnat(fd00::1, 80);", NULL},
    {"ct_dnat_in_czone(10.5.0.11);", "ct_dnat_in_czone(10.5.0.11);", NULL},
    {"ct_snat_in_czone;", "ct_snat_in_czone;", NULL},
    {"ct_lb;", "ct_lb;", NULL},
    {"ct_lb_mark(backends=10.6.0.11:8080,10.6.0.12:8080; hash_fields=\"ip_dst,ip_src\");",
     "ct_lb_mark(backends=10.6.0.11:8080,10.6.0.12:8080; hash_fields=\"ip_dst,ip_src\");",
     NULL},
    {"ct_lb_mark(backends=[fd00:6::11]:80,fd00:6::12; skip_snat);",
     "ct_lb_mark(backends=[fd00:6::11]:80,fd00:6::12; skip_snat);", NULL},
    {"ct_lb(backends=10.0.0.1:80; hash_fields=\"ip_src\"; force_snat);",
     "ct_lb(backends=10.0.0.1:80; hash_fields=\"ip_src\"; force_snat);", NULL},
    {"ct_clear; next;", "ct_clear; next;", NULL},
    {"ct_snat_to_vip; next;", "ct_snat_to_vip; next;", NULL},
    {"clone {outport = \"gw-public-rp\"; output; }; outport = \"_MC_flood_l2\"; output;",
     "clone { outport = \"gw-public-rp\"; output; }; outport = \"_MC_flood_l2\"; output;",
     NULL},
    {"arp { eth.dst = ff:ff:ff:ff:ff:ff; arp.spa = reg1; arp.tpa = reg0; arp.op = 1;"
     " output; };",
     "arp { eth.dst = ff:ff:ff:ff:ff:ff; arp.spa = reg1; arp.tpa = reg0; arp.op = 1;"
     " output; };",
     "ip4"},
    {"nd_na { eth.src = 0a:00:00:01:00:12; ip6.src = fd00:1::12; nd.target = fd00:1::12;"
     " nd.tll = 0a:00:00:01:00:12; outport = inport; flags.loopback = 1; output; };",
     "nd_na { eth.src = 0a:00:00:01:00:12; ip6.src = fd00:1::12; nd.target = fd00:1::12;"
     " nd.tll = 0a:00:00:01:00:12; outport = inport; flags[0] = 1; output; };",
     "nd_ns"},
    {"nd_na_router { eth.src = xreg0[0..47]; ip6.src = nd.target; output; };",
     "nd_na_router { eth.src = xxreg0[64..111]; ip6.src = nd.target; output; };",
     "nd_ns"},
    {"nd_ns { nd.target = xxreg0; output; };", "nd_ns { nd.target = xxreg0; output; };",
     "ip6"},
    {"icmp4 {eth.dst <-> eth.src; ip4.dst <-> ip4.src; ip.ttl = 255; icmp4.type = 3;"
     " icmp4.code = 3; next; };",
     "icmp4 { eth.dst <-> eth.src; ip4.dst <-> ip4.src; ip.ttl = 255; icmp4.type = 3;"
     " icmp4.code = 3; next; };",
     "ip4"},
    {"icmp4_error {reg9[0] = 1; icmp4.frag_mtu = 1400; next(pipeline=ingress, table=0); "
     "};",
     "icmp4_error { reg9[0] = 1; icmp4.frag_mtu = 1400; next(pipeline=ingress,table=0); "
     "};",
     "ip4"},
    {"icmp6 { ip6.dst <-> ip6.src; icmp6.type = 1; icmp6.code = 4; next; };",
     "icmp6 { ip6.dst <-> ip6.src; icmp6.type = 1; icmp6.code = 4; next; };", "ip6"},
    {"icmp6_error { icmp6.type = 2; icmp6.frag_mtu = 1400; next; };",
     "icmp6_error { icmp6.type = 2; icmp6.frag_mtu = 1400; next; };", "ip6"},
    {"tcp_reset {eth.dst <-> eth.src; ip4.dst <-> ip4.src; next; };",
     "tcp_reset { eth.dst <-> eth.src; ip4.dst <-> ip4.src; next; };", "tcp"},
    {"sctp_abort {eth.dst <-> eth.src; ip6.dst <-> ip6.src; next; };",
     "sctp_abort { eth.dst <-> eth.src; ip6.dst <-> ip6.src; next; };", "sctp"},
    {"reg0 = 0; reject { /* implicit swaps */ outport <-> inport;"
     " next(pipeline=egress,table=5);};",
     "reg0 = 0; reject { outport <-> inport; next(pipeline=egress,table=5); };", NULL},
    {"igmp;", "igmp;", NULL},
    {"put_arp(inport, arp.spa, arp.sha); next;",
     "put_arp(inport, arp.spa, arp.sha); next;", "arp"},
    {"put_nd(inport, nd.target, nd.tll); next;",
     "put_nd(inport, nd.target, nd.tll); next;", "nd && nd_na"},
    {"get_arp(outport, reg0); next;", "get_arp(outport, reg0); next;", NULL},
    {"get_nd(outport, xxreg0); next;", "get_nd(outport, xxreg0); next;", NULL},
    {"reg9[2] = lookup_arp(inport, arp.spa, arp.sha); next;",
     "reg9[2] = lookup_arp(inport, arp.spa, arp.sha); next;", "arp"},
    {"reg9[3] = lookup_arp_ip(inport, arp.spa); next;",
     "reg9[3] = lookup_arp_ip(inport, arp.spa); next;", "arp"},
    {"reg9[2] = lookup_nd(inport, ip6.src, nd.sll); next;",
     "reg9[2] = lookup_nd(inport, ip6.src, nd.sll); next;", "ip6 && nd_ns"},
    {"reg9[3] = lookup_nd_ip(inport, ip6.src); next;",
     "reg9[3] = lookup_nd_ip(inport, ip6.src); next;", "ip6"},
    {"reg0[3] = put_dhcp_opts(offerip = 10.7.0.11, T1 = 1800, bootfile_name = "
     "\"pxelinux.0\", classless_static_route = {192.168.7.0/24,10.7.0.254, "
     "0.0.0.0/0,10.7.0.1}, dns_server = {8.8.8.8, 10.7.0.53}, domain_name = "
     "\"ovnic.test\", domain_search_list = \"a.test,b.test\", hostname = \"vm1\", "
     "ip_forward_enable = 0, lease_time = 3600, mtu = 1442, netmask = 255.255.255.0, "
     "router = 10.7.0.1, server_id = 10.7.0.1, tftp_server = \"10.7.0.3\"); next;",
     "reg0[3] = put_dhcp_opts(offerip=10.7.0.11, T1=1800, bootfile_name=\"pxelinux.0\", "
     "classless_static_route={192.168.7.0/24, 10.7.0.254, 0.0.0.0/0, 10.7.0.1}, "
     "dns_server={8.8.8.8, 10.7.0.53}, domain_name=\"ovnic.test\", "
     "domain_search_list=\"a.test,b.test\", hostname=\"vm1\", ip_forward_enable=0, "
     "lease_time=3600, mtu=1442, netmask=255.255.255.0, router=10.7.0.1, "
     "server_id=10.7.0.1, tftp_server=\"10.7.0.3\"); next;",
     NULL},
    {"reg0[3] = put_dhcpv6_opts(ia_addr = fd00:7::11, dns_server = {fd00:7::53}, "
     "domain_search = \"ovnic.test\", server_id = 0a:00:00:07:00:02); next;",
     "reg0[3] = put_dhcpv6_opts(ia_addr=fd00:7::11, dns_server=fd00:7::53, "
     "domain_search=\"ovnic.test\", server_id=0a:00:00:07:00:02); next;",
     NULL},
    {"reg0[5] = put_nd_ra_opts(addr_mode = \"slaac\", slla = 0a:00:00:08:01:01, "
     "mtu = 1450, router_preference = \"HIGH\", rdnss = fd00:8:1::53, dnssl = "
     "\"ovnic.test\", prefix = fd00:8:1::/64); next;",
     "reg0[5] = put_nd_ra_opts(addr_mode=\"slaac\", slla=0a:00:00:08:01:01, mtu=1450, "
     "router_preference=\"HIGH\", rdnss=fd00:8:1::53, dnssl=\"ovnic.test\", "
     "prefix=fd00:8:1::/64); next;",
     NULL},
    {"reg0[4] = dns_lookup(); next;", "reg0[4] = dns_lookup(); next;", NULL},
    {"set_queue(1); output;", "set_queue(1); output;", NULL},
    {"log(name=\"deny-telnet6\", severity=warning, verdict=drop, meter=\"acl-meter\");",
     "log(verdict=drop, name=\"deny-telnet6\", severity=warning, meter=\"acl-meter\");",
     NULL},
    {"set_meter(1000, 100); next;", "set_meter(1000, 100); next;", NULL},
    {"trigger_event(event = \"empty_lb_backends\", vip = \"10.15.0.100:80\", protocol = "
     "\"tcp\", load_balancer = \"ffa25fdc-6d2c-42bc-bf63-c37b388c4c4f\");",
     "trigger_event(event=\"empty_lb_backends\", vip=\"10.15.0.100:80\", "
     "protocol=\"tcp\","
     " load_balancer=\"ffa25fdc-6d2c-42bc-bf63-c37b388c4c4f\");",
     NULL},
    {"bind_vport(\"vp-vip\", inport); next;", "bind_vport(\"vp-vip\", inport); next;",
     NULL},
    {"handle_svc_check(inport);", "handle_svc_check(inport);", NULL},
    {"reg0 = 0; handle_dhcpv6_reply;", "reg0 = 0; handle_dhcpv6_reply;", NULL},
    {"fwd_group(liveness=\"true\", childports=\"p1\", \"p2\");",
     "fwd_group(liveness=true, childports=\"p1\", \"p2\");", NULL},
    {"reg9[1] = check_pkt_larger(1418); next;", "reg9[1] = check_pkt_larger(1418); next;",
     NULL},
    {"reg0[11] = lookup_fdb(inport, eth.src); next;",
     "reg0[11] = lookup_fdb(inport, eth.src); next;", NULL},
    {"outport = get_fdb(eth.dst); next;", "outport = get_fdb(eth.dst); next;", NULL},
    {"put_fdb(inport, eth.src); next;", "put_fdb(inport, eth.src); next;", NULL},
    {"reg0[6] = chk_lb_hairpin(); reg0[12] = chk_lb_hairpin_reply(); next;",
     "reg0[6] = chk_lb_hairpin(); reg0[12] = chk_lb_hairpin_reply(); next;", NULL},
    {"reg8[16..31] = select(1, 2=30);", "reg8[16..31] = select(1=100, 2=30);", NULL},
    {"commit_ecmp_nh(ipv6 = false, proto = sctp); next;",
     "commit_ecmp_nh(ipv6=false, proto=sctp); next;", NULL},
    {"reg9[5] = chk_ecmp_nh_mac(); ct_next;", "reg9[5] = chk_ecmp_nh_mac(); ct_next;",
     NULL},
    {"reg9[5] = chk_ecmp_nh(); ct_next;", "reg9[5] = chk_ecmp_nh(); ct_next;", NULL},
    {"commit_lb_aff(vip = \"10.6.0.102:443\", backend = \"10.6.0.12:443\", proto = tcp, "
     "timeout = 60); /* drop */",
     "commit_lb_aff(vip=\"10.6.0.102:443\", backend=\"10.6.0.12:443\", proto=tcp, "
     "timeout=60);",
     NULL},
    {"reg9[6] = chk_lb_aff(); next;", "reg9[6] = chk_lb_aff(); next;", NULL},
    {"reg0[15] = check_in_port_sec(); next;", "reg0[15] = check_in_port_sec(); next;",
     NULL},
    {"reg0[15] = check_out_port_sec(); next;", "reg0[15] = check_out_port_sec(); next;",
     NULL},
};

static void
test_goldens(void **state)
{
    bool seen[ACTION_N_TYPES] = {false};

    (void)state;
    for (size_t i = 0; i < sizeof goldens / sizeof *goldens; i++) {
        const struct golden *g = &goldens[i];
        struct action_list *list = NULL;
        struct ovnic_err err = {0};
        char buf[512];

        if (action_parse(symtab, g->in, NULL, &list, &err)) {
            fail_msg("%s: %s", g->in, ovnic_err_format(&err, buf, sizeof buf));
        }
        char *ir = action_list_format(list);
        assert_non_null(ir);
        if (strcmp(ir, g->ir)) {
            fail_msg("%s\n  got:  %s\n  want: %s", g->in, ir, g->ir);
        }
        if (g->prereqs || list->prereqs) {
            if (!g->prereqs || !list->prereqs || strcmp(g->prereqs, list->prereqs)) {
                fail_msg("%s: prereqs '%s', want '%s'", g->in,
                         list->prereqs ? list->prereqs : "(none)",
                         g->prereqs ? g->prereqs : "(none)");
            }
        }
        for (size_t j = 0; j < list->n_ops; j++) {
            seen[list->ops[j].type] = true;
        }
        free(ir);
        action_list_destroy(list);
    }
    /* Every type of op is covered by some golden. */
    for (int t = 0; t < ACTION_N_TYPES; t++) {
        if (!seen[t]) {
            fail_msg("no golden produces %s", action_type_name(t));
        }
    }
}

/* The IR of a few ops, field by field. */
static void
test_ir_fields(void **state)
{
    struct action_list *list = NULL;

    (void)state;
    assert_int_equal(
        action_parse(symtab,
                     "reg0[3] = 1; xreg4[0..15] = 0x1234; ct_lb_mark(backends="
                     "10.0.0.1:80,[fd00::2]:8080); ct_snat(10.0.0.9, 5-6);",
                     NULL, &list, NULL),
        0);
    assert_int_equal(list->n_ops, 4);
    const struct action *a = &list->ops[0];
    assert_int_equal(a->type, ACTION_LOAD);
    assert_int_equal(a->dst.field->id, SYMTAB_F_REG0);
    assert_int_equal(a->dst.ofs, 3);
    assert_int_equal(a->dst.n_bits, 1);
    assert_true(a->value.value == 1);
    assert_false(a->value.masked);

    a = &list->ops[1]; /* xreg4[0..15] is reg9[0..15]. */
    assert_int_equal(a->dst.field->id, SYMTAB_F_REG9);
    assert_int_equal(a->dst.ofs, 0);
    assert_int_equal(a->dst.n_bits, 16);
    assert_true(a->value.value == 0x1234);

    a = &list->ops[2];
    assert_int_equal(a->type, ACTION_CT_LB_MARK);
    assert_int_equal(a->lb.n_backends, 2);
    assert_false(a->lb.backends[0].ipv6);
    assert_true(a->lb.backends[0].ip == 0x0a000001);
    assert_int_equal(a->lb.backends[0].port, 80);
    assert_true(a->lb.backends[1].ipv6);
    assert_int_equal(a->lb.backends[1].port, 8080);

    a = &list->ops[3];
    assert_true(a->nat.has_ip);
    assert_true(a->nat.ip == 0x0a000009);
    assert_int_equal(a->nat.port_lo, 5);
    assert_int_equal(a->nat.port_hi, 6);
    assert_int_equal(action_list_count(list), 4);
    action_list_destroy(list);

    assert_int_equal(
        action_parse(symtab, "clone { arp { output; }; next; };", NULL, &list, NULL), 0);
    assert_int_equal(action_list_count(list), 4);
    assert_int_equal(list->ops[0].nested->n_ops, 2);
    /* Nested prerequisites do not apply to the flow. */
    assert_null(list->prereqs);
    action_list_destroy(list);
}

/* "next" resolved against the flow's table. */
static void
test_next_params(void **state)
{
    struct action_parse_params p = {.pipeline = ACTION_PIPELINE_EGRESS, .cur_table = 4};
    struct action_list *list = NULL;
    struct ovnic_err err = {0};

    (void)state;
    assert_int_equal(
        action_parse(symtab, "next; next(pipeline=ingress); next(9);", &p, &list, NULL),
        0);
    char *ir = action_list_format(list);
    assert_string_equal(ir,
                        "next(pipeline=egress,table=5); next(pipeline=ingress,table=5);"
                        " next(pipeline=egress,table=9);");
    free(ir);
    action_list_destroy(list);

    p.cur_table = 28;
    assert_int_equal(action_parse(symtab, "next;", &p, &list, &err), -EINVAL);
    assert_string_equal(err.message, "invalid table");
    assert_int_equal(
        action_parse(symtab, "next(pipeline=ingress, table=29);", NULL, &list, NULL),
        -EINVAL);
}

struct bad {
    const char *in;
    const char *message; /* Category. */
    const char *detail;  /* Substring of the detail. */
};

/* Each of these is also refused by ovn-controller 23.03. */
static const struct bad bads[] = {
    {"next", "syntax error", "at end of input: expecting `;'"},
    {";", "syntax error", "expecting action"},
    {"drop; next;", "syntax error", "must be the only action"},
    {"next; drop;", "syntax error", "must be the only action"},
    {"arp { output; }", "syntax error", "at end of input"},
    {"foo;", "unknown action", "foo, at column 1"},
    {"mld;", "unknown action", "mld"},
    {"ip4.ttl--;", "unknown field", "ip4.ttl"},
    {"reg0--;", "syntax error", "only ip.ttl may be decremented"},
    {"ct_state = 1; next;", "field not writable", "ct_state is read-only"},
    {"ct.est = 1; next;", "field not writable", "read-only"},
    {"eth.type = 0x800; next;", "field not writable", "eth.type"},
    {"ip.frag = 1; next;", "field not writable", "ip.frag"},
    {"tcp.flags = 1; next;", "field not writable", "tcp.flags"},
    {"ct_label.blocked = 1; next;", "field not writable", "inside ct_commit"},
    {"ct_commit { ct_state = 1; };", "field not writable", "ct_state"},
    {"ct_commit(ct_mark=1, reg0=1);", "syntax error", "ct_mark or ct_label"},
    {"reg0 = inport; next;", "type mismatch", "cannot assign string field inport"},
    {"outport = reg0; next;", "type mismatch", "integer field reg0"},
    {"reg0 = \"x\"; next;", "type mismatch", "integer field reg0"},
    {"outport = 1; next;", "type mismatch", "string field outport"},
    {"ip4.src = ip6.src; next;", "width mismatch", "128-bit field ip6.src"},
    {"reg0 <-> reg1[0..15]; next;", "width mismatch", "cannot exchange"},
    {"reg0 <-> 1; next;", "syntax error", "expecting field name"},
    {"ip.ttl = 300; next;", "constant out of range", "9-bit constant"},
    {"ip.dscp = 64; next;", "constant out of range", "7-bit constant"},
    {"ip4.src = 00:00:00:00:00:01; next;", "constant out of range", "48-bit constant"},
    {"ip4.src = {1.2.3.4, 5.6.7.8}; next;", "syntax error", "expecting constant"},
    {"reg0[32] = 1; next;", "invalid subfield", "bits 32 to 32"},
    {"reg0[1..0] = 1; next;", "invalid subfield", "invalid bit range"},
    {"reg10 = 1; next;", "unknown field", "reg10"},
    {"ip4 = 1; next;", "not a field", "predicate ip4"},
    {"reg0 = check_pkt_larger(1500); next;", "width mismatch", "1-bit result"},
    {"reg0[4] = dns_lookup; next;", "unknown field", "dns_lookup"},
    {"dns_lookup(); next;", "unknown action", "dns_lookup"},
    {"reg0[0] = chk_lb_hairpin(1);", "syntax error", "takes no arguments"},
    {"reg0[0] = foo(); next;", "unknown action", "foo() does not return a value"},
    {"reg8[16..23] = select(1,2);", "width mismatch", "at least 16 bits"},
    {"reg8[16..31] = select(1);", "syntax error", "at least 2 select members"},
    {"reg8[16..31] = select(1=0, 2);", "value out of range", "select weight"},
    {"reg8[16..31] = select(70000, 2);", "value out of range", "select member"},
    {"reg8[16..31] = select(values=(1=20, 2=30); hash_fields=\"ip_src\");",
     "syntax error", "select member"},
    {"ct_lb(10.0.0.1:80, 10.0.0.2:80);", "syntax error", "expecting `backends'"},
    {"ct_lb_mark(backends=10.0.0.1:80; foo);", "syntax error", "hash_fields, skip_snat"},
    {"ct_lb_mark(backends=10.0.0.1:80; hash_fields=x);", "syntax error",
     "hash_fields string"},
    {"ct_lb_mark(backends=10.0.0.1:80; skip_snat; force_snat);", "syntax error",
     "expecting `)'"},
    {"ct_lb_mark(backends=[10.0.0.1]:80);", "syntax error", "expecting IPv6 address"},
    {"ct_dnat();", "syntax error", "IPv4 or IPv6 address"},
    {"ct_dnat(10.0.0.1/24);", "syntax error", "IPv4 or IPv6 address"},
    {"ct_dnat(\"x\");", "syntax error", "IPv4 or IPv6 address"},
    {"ct_dnat(10.0.0.1, 0);", "value out of range", "port"},
    {"ct_dnat(10.0.0.1, 90-80);", "invalid port range", "90-80"},
    {"ct_snat(10.0.0.1, 1000-2000, random);", "syntax error", "expecting `)'"},
    {"ct_snat_to_vip();", "syntax error", "expecting `;'"},
    {"reg0[1] = put_dhcp_opts(router=1.2.3.4); next;", "invalid option", "offerip"},
    {"reg0[1] = put_dhcp_opts(); next;", "invalid option", "offerip"},
    {"reg0[1] = put_dhcp_opts(offerip=1.2.3.4, foo=2); next;", "syntax error",
     "DHCPv4 option name"},
    {"reg0[1] = put_dhcp_opts(offerip=1.2.3.4, router=\"x\"); next;", "invalid option",
     "router requires a numeric value"},
    {"reg0[1] = put_dhcp_opts(offerip=1.2.3.4, hostname=1.2.3.4); next;",
     "invalid option", "hostname requires a string value"},
    {"reg0[0] = put_dhcp_opts(offerip=1.2.3.4, dns_server={}); next;", "syntax error",
     "expecting constant"},
    {"reg0[0] = put_dhcp_opts(offerip=1.2.3.4, router=$foo); next;", "syntax error",
     "address sets and port groups"},
    {"reg0[3] = put_dhcp_opts(offerip = 10.7.0.11, domain_search_list = a.test); next;",
     "syntax error", "expecting constant"},
    {"reg0[1] = put_dhcpv6_opts(fqdn=\"x\"); next;", "syntax error",
     "DHCPv6 option name"},
    {"reg0[1] = put_nd_ra_opts(addr_mode=\"slaac\", slla=00:00:00:00:00:01); next;",
     "invalid option", "prefix is required"},
    {"reg0[1] = put_nd_ra_opts(addr_mode=\"foo\", prefix=fd00::/64); next;",
     "invalid option", "addr_mode"},
    {"reg0[1] = put_nd_ra_opts(addr_mode=\"dhcpv6_stateful\"); next;", "invalid option",
     "slla"},
    {"reg0[1] = put_nd_ra_opts(addr_mode=\"slaac\", slla=1.2.3.4, prefix=fd00::/64);",
     "invalid option", "slla"},
    {"reg0[1] = put_nd_ra_opts(addr_mode=\"slaac\", slla=00:00:00:00:00:01,"
     " prefix=fd00::1);",
     "invalid option", "prefix must be"},
    {"reg0[1] = put_nd_ra_opts(addr_mode=\"slaac\", slla=00:00:00:00:00:01,"
     " prefix=fd00::/64, router_preference=\"FOO\");",
     "invalid option", "router_preference"},
    {"reg0[1] = put_nd_ra_opts(addr_mode=slaac, slla=00:00:00:00:00:01,"
     " prefix=fd00::/64);",
     "syntax error", "expecting constant"},
    {"log();", "syntax error", "expecting verdict"},
    {"log(severity=info);", "syntax error", "expecting verdict"},
    {"log(verdict=foo);", "syntax error", "allow, drop or reject"},
    {"log(verdict=allow, severity=foo);", "syntax error", "alert, warning"},
    {"log(verdict=allow, name=x);", "syntax error", "expecting string"},
    {"set_queue(61441);", "value out of range", "queue id"},
    {"set_meter(0);", "value out of range", "meter rate"},
    {"trigger_event(event = \"foo\");", "unknown event", "\"foo\""},
    {"trigger_event(vip = \"1.2.3.4:80\", event = \"empty_lb_backends\");",
     "syntax error", "expecting `event'"},
    {"trigger_event(event = \"empty_lb_backends\", meter=\"m\");", "syntax error",
     "vip, protocol or load_balancer"},
    {"bind_vport(inport, inport);", "syntax error", "port name string"},
    {"handle_svc_check(reg0);", "type mismatch", "logical port"},
    {"put_arp(inport, arp.sha, arp.spa);", "width mismatch", "48-bit field arp.sha"},
    {"put_arp(reg0, arp.spa, arp.sha);", "type mismatch", "integer field reg0"},
    {"put_arp(\"x\", arp.spa, arp.sha);", "syntax error", "expecting field name"},
    {"get_arp(outport, ip6.dst);", "width mismatch", "128-bit field ip6.dst"},
    {"outport = get_fdb(ip4.src); next;", "width mismatch", "32-bit field ip4.src"},
    {"reg0[0..15] = get_fdb(eth.dst); next;", "width mismatch", "logical port or 32-bit"},
    {"commit_ecmp_nh(true);", "syntax error", "expecting `ipv6'"},
    {"commit_ecmp_nh(ipv6=maybe, proto=tcp);", "syntax error", "true or false"},
    {"commit_ecmp_nh(ipv6=false);", "syntax error", "expecting `,'"},
    {"commit_lb_aff(vip=\"1.2.3.4:80\", backend=\"2.2.2.2:80\", proto=tcp);",
     "syntax error", "expecting `,'"},
    {"commit_lb_aff(vip=\"1.2.3.4\", backend=\"2.2.2.2:80\", proto=tcp, timeout=1);",
     "invalid address", "vip \"1.2.3.4\""},
    {"commit_lb_aff(vip=\"1.2.3.4:80\", backend=\"2.2.2.2:80\", proto=icmp, timeout=1);",
     "syntax error", "tcp, udp or sctp"},
    {"next(pipeline=foo, table=1);", "syntax error", "ingress or egress"},
    {"next(-1);", "syntax error", "pipeline or table"},
    {"next(1, 2);", "syntax error", "expecting `)'"},
    {"flood_remote;", "unknown action", "flood_remote"},
    {"ip4.src = 1.2.3.4 next;", "syntax error", "at `next' (column 19): expecting `;'"},
    {"outport = \"unterminated; next;", "syntax error", "column 11"},
    {"clone { clone { clone { clone { clone { clone { clone { clone { clone { clone {"
     " clone { clone { clone { clone { clone { clone { clone { clone { clone { clone {"
     " clone { clone { clone { clone { clone { clone { clone { clone { clone { clone {"
     " clone { clone { clone {",
     "nesting too deep", "32 deep"},
};

static void
test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bads / sizeof *bads; i++) {
        const struct bad *b = &bads[i];
        struct action_list *list = NULL;
        struct ovnic_err err = {0};

        int rc = action_parse(symtab, b->in, NULL, &list, &err);
        if (rc != -EINVAL) {
            char *ir = list ? action_list_format(list) : NULL;
            fail_msg("%s: parsed (%d) as %s", b->in, rc, ir ? ir : "?");
        }
        assert_null(list);
        assert_string_equal(err.object, "actions");
        if (strcmp(err.message, b->message) || !strstr(err.detail, b->detail)) {
            fail_msg("%s:\n  got:  %s (%s)\n  want: %s (...%s...)", b->in, err.message,
                     err.detail, b->message, b->detail);
        }
    }
}

/* Where ovnic is stricter than ovn-controller 23.03 (which truncates silently). */
static void
test_stricter_than_ovn(void **state)
{
    static const char *const inputs[] = {
        "reg0[0..7] = 256; next;",
        "ct_commit(ct_mark=0x100000000);",
        "ct_dnat(10.0.0.1, 70000);",
    };
    struct action_list *list = NULL;

    (void)state;
    for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++) {
        assert_int_equal(action_parse(symtab, inputs[i], NULL, &list, NULL), -EINVAL);
    }
}

static void
test_misc(void **state)
{
    struct action_list *list = NULL;

    (void)state;
    assert_int_equal(action_parse(NULL, "next;", NULL, &list, NULL), -EINVAL);
    assert_int_equal(action_parse(symtab, NULL, NULL, &list, NULL), -EINVAL);
    action_list_destroy(NULL);
    assert_string_equal(action_type_name(ACTION_CT_LB_MARK), "ct_lb_mark");
    assert_string_equal(action_type_name(ACTION_N_TYPES), "unknown");
    assert_int_equal(action_list_count(NULL), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_goldens),           cmocka_unit_test(test_ir_fields),
        cmocka_unit_test(test_next_params),       cmocka_unit_test(test_errors),
        cmocka_unit_test(test_stricter_than_ovn), cmocka_unit_test(test_misc),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
