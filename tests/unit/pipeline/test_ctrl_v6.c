/* Unit tests of the answers to the pausing controller actions beyond DHCPv4
 * (dpu/pipeline/ctrl.h): put_dhcpv6_opts, put_nd_ra_opts and dns_lookup, checked
 * byte by byte with checksums recomputed independently; and the same actions walked
 * through a pipeline (pipeline.h) built from a hand-made SB with a DNS table. */
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

#include "dpu/controller/actions.h"
#include "dpu/controller/symtab.h"
#include "dpu/ovsdb/replica.h"
#include "dpu/ovsdb/schema.h"
#include "dpu/pipeline/ctrl.h"
#include "dpu/pipeline/packet.h"
#include "dpu/pipeline/pipeline.h"
#include "shared/util/util.h"

#define SB_SCHEMA "/usr/share/ovn/ovn-sb.ovsschema"

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

/* The first op of 'text' (the "R = action(...)" op).  Caller destroys 'list'. */
static const struct action *
parse_op(const char *text, struct action_list **list)
{
    struct ovnic_err err = {0};
    if (action_parse(symtab, text, NULL, list, &err)) {
        fail_msg("%s: %s (%s)", text, err.message, err.detail);
    }
    assert_true((*list)->n_ops >= 1);
    return &(*list)->ops[0];
}

/* ---- Frames. ---- */

static const uint8_t vm_mac[6] = {0x0a, 0x00, 0x00, 0x00, 0x00, 0x05};
static const uint8_t vm_ll[16] = {
    0xfe, 0x80, [8] = 0x08, [11] = 0xff, [12] = 0xfe, [15] = 0x05};

static size_t
eth(uint8_t *p, const uint8_t dst[6], uint16_t type)
{
    memcpy(p, dst, 6);
    memcpy(p + 6, vm_mac, 6);
    p[12] = (uint8_t)(type >> 8);
    p[13] = (uint8_t)type;
    return 14;
}

static void
put16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static size_t
get16(const uint8_t *p)
{
    return (size_t)p[0] << 8 | p[1];
}

static void
ip6(uint8_t *p, size_t plen, uint8_t next, const uint8_t dst[16], uint8_t hlim)
{
    memset(p, 0, 40);
    p[0] = 0x60;
    put16(p + 4, plen);
    p[6] = next;
    p[7] = hlim;
    memcpy(p + 8, vm_ll, 16);
    memcpy(p + 24, dst, 16);
}

static void
ip4(uint8_t *p, size_t total, uint32_t src, uint32_t dst)
{
    memset(p, 0, 20);
    p[0] = 0x45;
    put16(p + 2, total);
    p[8] = 64;
    p[9] = 17;
    uint32_t s = htonl(src), d = htonl(dst);
    memcpy(p + 12, &s, 4);
    memcpy(p + 16, &d, 4);
}

static void
udp(uint8_t *p, uint16_t sport, uint16_t dport, size_t len)
{
    put16(p, sport);
    put16(p + 2, dport);
    put16(p + 4, len);
    put16(p + 6, 0);
}

/* ---- Independent checksum verification. ---- */

static uint32_t
sum16(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i < n; i++) {
        sum += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
    }
    return sum;
}

static uint16_t
fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)sum;
}

/* Checks the lengths and the L4 (and IPv4 header) checksums of a frame. */
static void
check_frame(const uint8_t *p, size_t len)
{
    struct pkey key;
    struct packet_layout lay;
    assert_int_equal(packet_parse(p, len, 0, &key, &lay, NULL, NULL), 0);
    const uint8_t *l3 = p + lay.l3, *l4 = p + lay.l4;
    size_t l4_len = len - lay.l4;
    uint32_t sum;
    if (ntohs(key.f.eth_type) == 0x86dd) {
        assert_int_equal(get16(l3 + 4), len - lay.l3 - 40);
        sum = sum16(l3 + 8, 32, 0) + (uint32_t)l4_len + key.f.ip_proto;
    } else {
        assert_int_equal(get16(l3 + 2), len - lay.l3);
        assert_int_equal(fold(sum16(l3, 20, 0)), 0xffff);
        sum = sum16(l3 + 12, 8, 0) + (uint32_t)l4_len + key.f.ip_proto;
    }
    if (key.f.ip_proto == 17) {
        assert_int_equal(get16(l4 + 4), l4_len);
    }
    assert_int_equal(fold(sum16(l4, l4_len, sum)), 0xffff);
}

/* ---- DHCPv6. ---- */

static const uint8_t all_dhcp[16] = {0xff, 0x02, [13] = 0x01, [15] = 0x02};
static const uint8_t all_dhcp_mac[6] = {0x33, 0x33, 0x00, 0x01, 0x00, 0x02};

static const uint8_t client_id[] = {0x00, 0x01, 0x00, 0x0e, 0x00, 0x01, 0x00, 0x01, 0x2a,
                                    0x2b, 0x2c, 0x2d, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x05};

/* A DHCPv6 message of 'type' (xid 0x123456), with the client id unless 'no_cid', an
 * IA_NA (IAID 0x0a0b0c0d) unless 'no_iana', and 'extra' options. */
static size_t
dhcp6_frame(uint8_t *p, uint8_t type, bool no_cid, bool no_iana, const uint8_t *extra,
            size_t n_extra)
{
    size_t n = eth(p, all_dhcp_mac, 0x86dd);
    uint8_t *l3 = p + n, *l4 = l3 + 40, *d = l4 + 8;
    size_t o = 0;
    d[o++] = type;
    d[o++] = 0x12, d[o++] = 0x34, d[o++] = 0x56;
    if (!no_cid) {
        memcpy(d + o, client_id, sizeof client_id);
        o += sizeof client_id;
    }
    static const uint8_t elapsed[] = {0x00, 0x08, 0x00, 0x02, 0x00, 0x00};
    memcpy(d + o, elapsed, sizeof elapsed);
    o += sizeof elapsed;
    if (!no_iana) {
        static const uint8_t iana[] = {0x00, 0x03, 0x00, 0x0c, 0x0a, 0x0b, 0x0c, 0x0d,
                                       0,    0,    0,    0,    0,    0,    0,    0};
        memcpy(d + o, iana, sizeof iana);
        o += sizeof iana;
    }
    if (extra) {
        memcpy(d + o, extra, n_extra);
        o += n_extra;
    }
    udp(l4, 546, 547, 8 + o);
    ip6(l3, 8 + o, 17, all_dhcp, 1);
    return n + 40 + 8 + o;
}

#define DHCP6_ACTION                                                                 \
    "reg0[3] = put_dhcpv6_opts(ia_addr = aef0::4, server_id = 00:00:00:10:00:01, "   \
    "dns_server = {ae70::1, ae70::2}, domain_search = \"ovn.org\", "                 \
    "bootfile_name = \"http://boot/x\", bootfile_name_alt = \"http://boot/ipxe\"); " \
    "next;"

static const uint8_t expected_ia_na[] = {
    0x00, 0x03, 0x00, 0x28, 0x0a, 0x0b, 0x0c, 0x0d, 0xff, 0xff, 0xff, 0xff, /* IA_NA */
    0xff, 0xff, 0xff, 0xff, 0x00, 0x05, 0x00, 0x18, 0xae, 0xf0, 0,    0,    /* IAADDR */
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    4,    /* aef0::4 */
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* lifetimes */
};

static const uint8_t expected_rest[] = {
    0x00, 0x02, 0x00, 0x0a, 0x00, 0x03, 0x00, 0x01, 0,   0,   0,   0x10, 0,   1, /* server
                                                                                    id */
    0x00, 0x17, 0x00, 0x20, 0xae, 0x70, 0,    0,    0,   0,   0,   0,    0,   0, /* dns */
    0,    0,    0,    0,    0,    1,    0xae, 0x70, 0,   0,   0,   0,    0,   0,   0,
    0,    0,    0,    0,    0,    0,    2,                                  /* */
    0x00, 0x18, 0x00, 0x09, 3,    'o',  'v',  'n',  3,   'o', 'r', 'g',  0, /* domain */
    0x00, 0x3b, 0x00, 0x0d, 'h',  't',  't',  'p',  ':', '/', '/', 'b',  'o', 'o', 't',
    '/',  'x', /* Boot File URL */
};

static void
test_dhcpv6_solicit(void **state)
{
    (void)state;
    struct action_list *list;
    const struct action *a = parse_op(DHCP6_ACTION, &list);
    uint8_t req[512], out[1024];
    size_t n = dhcp6_frame(req, 1, false, false, NULL, 0), out_len = 0;
    struct ovnic_err err = {0};

    assert_int_equal(ctrl_dhcpv6_reply_build(a, req, n, out, sizeof out, &out_len, &err),
                     0);
    check_frame(out, out_len);
    /* Ethernet and IPv6 headers are the request's but the payload length (the flows
     * rewrite them). */
    assert_memory_equal(out, req, 18);
    assert_memory_equal(out + 20, req + 20, 34);
    const uint8_t *udp_hdr = out + 54;
    assert_int_equal(get16(udp_hdr), 546);
    assert_int_equal(get16(udp_hdr + 2), 547);
    const uint8_t *d = udp_hdr + 8;
    static const uint8_t head[] = {2, 0x12, 0x34, 0x56};
    assert_memory_equal(d, head, 4); /* ADVERTISE, same xid. */
    size_t o = 4;
    assert_memory_equal(d + o, client_id, sizeof client_id);
    o += sizeof client_id;
    assert_memory_equal(d + o, expected_ia_na, sizeof expected_ia_na);
    o += sizeof expected_ia_na;
    assert_memory_equal(d + o, expected_rest, sizeof expected_rest);
    o += sizeof expected_rest;
    assert_int_equal(out_len, 54 + 8 + o);

    /* Too small a buffer. */
    assert_int_equal(ctrl_dhcpv6_reply_build(a, req, n, out, 100, &out_len, NULL),
                     -ENOSPC);
    action_list_destroy(list);
}

static void
test_dhcpv6_reply_types(void **state)
{
    (void)state;
    struct action_list *list;
    const struct action *a = parse_op(DHCP6_ACTION, &list);
    uint8_t req[512], out[1024];
    size_t n, out_len;
    struct ovnic_err err = {0};

    /* REQUEST, CONFIRM, RENEW, REBIND: REPLY with the IA_NA. */
    static const uint8_t replied[] = {3, 4, 5, 6};
    for (size_t i = 0; i < ARRAY_SIZE(replied); i++) {
        n = dhcp6_frame(req, replied[i], false, false, NULL, 0);
        out_len = 0;
        assert_int_equal(
            ctrl_dhcpv6_reply_build(a, req, n, out, sizeof out, &out_len, &err), 0);
        check_frame(out, out_len);
        assert_int_equal(out[62], 7);
        assert_memory_equal(out + 66 + sizeof client_id, expected_ia_na,
                            sizeof expected_ia_na);
    }

    /* INFORMATION-REQUEST: REPLY without IA_NA, even if the client sent one. */
    n = dhcp6_frame(req, 11, false, true, NULL, 0);
    assert_int_equal(ctrl_dhcpv6_reply_build(a, req, n, out, sizeof out, &out_len, &err),
                     0);
    check_frame(out, out_len);
    assert_int_equal(out[62], 7);
    assert_memory_equal(out + 66 + sizeof client_id, expected_rest, sizeof expected_rest);
    assert_int_equal(out_len, 66 + sizeof client_id + sizeof expected_rest);
    n = dhcp6_frame(req, 11, false, false, NULL, 0);
    assert_int_equal(ctrl_dhcpv6_reply_build(a, req, n, out, sizeof out, &out_len, &err),
                     0);
    assert_int_equal(out_len, 66 + sizeof client_id + sizeof expected_rest);

    /* A client whose User Class is iPXE gets bootfile_name_alt as option 59. */
    static const uint8_t uc[] = {0x00, 0x0f, 0x00, 0x0c, 0x00, 0x04, 'a', 'b',
                                 'c',  'd',  0x00, 0x04, 'i',  'P',  'X', 'E'};
    n = dhcp6_frame(req, 1, false, false, uc, sizeof uc);
    assert_int_equal(ctrl_dhcpv6_reply_build(a, req, n, out, sizeof out, &out_len, &err),
                     0);
    check_frame(out, out_len);
    static const char alt[] = "\x00\x3b\x00\x10http://boot/ipxe";
    assert_memory_equal(out + out_len - (sizeof alt - 1), alt, sizeof alt - 1);

    /* Errors: RELEASE gets no reply; no client id; no IA_NA in a SOLICIT; an option
     * running past the end; not DHCPv6 at all; another action. */
    n = dhcp6_frame(req, 8, false, false, NULL, 0);
    assert_int_equal(ctrl_dhcpv6_reply_build(a, req, n, out, sizeof out, &out_len, &err),
                     -EINVAL);
    n = dhcp6_frame(req, 1, true, false, NULL, 0);
    assert_int_equal(ctrl_dhcpv6_reply_build(a, req, n, out, sizeof out, &out_len, &err),
                     -EINVAL);
    n = dhcp6_frame(req, 1, false, true, NULL, 0);
    assert_int_equal(ctrl_dhcpv6_reply_build(a, req, n, out, sizeof out, &out_len, &err),
                     -EINVAL);
    static const uint8_t bad[] = {0x00, 0x10, 0x00, 0x40, 1, 2};
    n = dhcp6_frame(req, 1, false, false, bad, sizeof bad);
    memset(&err, 0, sizeof err);
    assert_int_equal(ctrl_dhcpv6_reply_build(a, req, n, out, sizeof out, &out_len, &err),
                     -EINVAL);
    assert_string_equal(err.message, "malformed DHCPv6 option");
    n = dhcp6_frame(req, 1, false, false, NULL, 0);
    req[14 + 40 + 3] = 53; /* udp.dst 53 */
    assert_int_equal(ctrl_dhcpv6_reply_build(a, req, n, out, sizeof out, &out_len, &err),
                     -EINVAL);
    struct action_list *other;
    const struct action *dns = parse_op("reg0[4] = dns_lookup(); next;", &other);
    assert_int_equal(
        ctrl_dhcpv6_reply_build(dns, req, n, out, sizeof out, &out_len, &err), -EINVAL);
    action_list_destroy(other);

    /* Truncated everywhere: never a read past the frame (ASan), always an error. */
    n = dhcp6_frame(req, 1, false, false, uc, sizeof uc);
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, req, cut);
        int rc = ctrl_dhcpv6_reply_build(a, copy, cut, out, sizeof out, &out_len, NULL);
        assert_true(rc == -EINVAL);
        free(copy);
    }
    action_list_destroy(list);
}

/* ---- Router advertisements. ---- */

static const uint8_t all_routers[16] = {0xff, 0x02, [15] = 0x02};
static const uint8_t all_routers_mac[6] = {0x33, 0x33, 0, 0, 0, 2};

static size_t
rs_frame(uint8_t *p, uint8_t icmp_type)
{
    size_t n = eth(p, all_routers_mac, 0x86dd);
    uint8_t *l4 = p + n + 40;
    memset(l4, 0, 16);
    l4[0] = icmp_type;
    l4[8] = 1; /* Source link-layer address option. */
    l4[9] = 1;
    memcpy(l4 + 10, vm_mac, 6);
    ip6(p + n, 16, 58, all_routers, 255);
    return n + 40 + 16;
}

static int
ra_build(const char *text, uint8_t *out, size_t *out_len, struct ovnic_err *err)
{
    struct action_list *list;
    const struct action *a = parse_op(text, &list);
    uint8_t rs[128];
    size_t n = rs_frame(rs, 133);
    int rc = ctrl_nd_ra_build(a, rs, n, out, 1024, out_len, err);
    if (!rc) {
        check_frame(out, *out_len);
        /* Headers kept but the payload length. */
        assert_memory_equal(out, rs, 18);
        assert_memory_equal(out + 20, rs + 20, 34);
    }
    action_list_destroy(list);
    return rc;
}

static void
test_nd_ra(void **state)
{
    (void)state;
    uint8_t out[1024];
    size_t len = 0;
    struct ovnic_err err = {0};

    assert_int_equal(ra_build("reg0[5] = put_nd_ra_opts(addr_mode = \"slaac\", "
                              "slla = 00:00:00:00:00:01, prefix = aef0::/64, mtu = 1442);"
                              " next;",
                              out, &len, &err),
                     0);
    static const uint8_t slaac[] = {
        134,  0, 0,  0,    255,  0,    0xff, 0xff, 0,    0,    0,
        0,    0, 0,  0,    0,                   /* RA */
        1,    1, 0,  0,    0,    0,    0,    1, /* slla */
        3,    4, 64, 0xc0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0, 0,  0,    0,    0xae, 0xf0, 0,    0,    0,    0,
        0,    0, 0,  0,    0,    0,    0,    0,    0,    0, /* prefix: L, A */
        5,    1, 0,  0,    0,    0,    0x05, 0xa2,          /* mtu */
    };
    assert_int_equal(len, 54 + sizeof slaac);
    uint8_t got[sizeof slaac];
    memcpy(got, out + 54, sizeof slaac);
    got[2] = got[3] = 0; /* Checksum: verified by check_frame(). */
    assert_memory_equal(got, slaac, sizeof slaac);

    /* dhcpv6_stateful: M, prefix without A; router_preference HIGH. */
    assert_int_equal(ra_build("reg0[5] = put_nd_ra_opts(addr_mode = \"dhcpv6_stateful\", "
                              "slla = 00:00:00:00:00:01, prefix = aef0::/64, "
                              "router_preference = \"HIGH\"); next;",
                              out, &len, &err),
                     0);
    assert_int_equal(out[54 + 5], 0x80 | 0x08);
    assert_int_equal(out[54 + 16 + 8 + 3], 0x80);

    /* dhcpv6_stateless: O; LOW; no prefix given is refused by the parser, so one. */
    assert_int_equal(
        ra_build("reg0[5] = put_nd_ra_opts(addr_mode = \"dhcpv6_stateless\", "
                 "slla = 00:00:00:00:00:01, prefix = aef0::/64, "
                 "router_preference = \"LOW\"); next;",
                 out, &len, &err),
        0);
    assert_int_equal(out[54 + 5], 0x40 | 0x18);
    assert_int_equal(out[54 + 16 + 8 + 3], 0xc0);

    /* rdnss, dnssl, route_info. */
    assert_int_equal(ra_build("reg0[5] = put_nd_ra_opts(addr_mode = \"slaac\", "
                              "slla = 00:00:00:00:00:01, prefix = aef0::/64, "
                              "rdnss = aef0::1, dnssl = \"a.org\", "
                              "route_info = \"HIGH-aef1::/48,LOW-aef2::/96\"); next;",
                              out, &len, &err),
                     0);
    const uint8_t *o = out + 54 + 16 + 8 + 32;
    static const uint8_t rdnss[24] = {25,   3,    0,    0,    0xff,    0xff,
                                      0xff, 0xff, 0xae, 0xf0, [23] = 1};
    assert_memory_equal(o, rdnss, sizeof rdnss);
    o += sizeof rdnss;
    static const uint8_t dnssl[] = {31, 2,   0, 0,   0xff, 0xff, 0xff, 0xff,
                                    1,  'a', 3, 'o', 'r',  'g',  0,    0};
    assert_memory_equal(o, dnssl, sizeof dnssl);
    o += sizeof dnssl;
    static const uint8_t route1[] = {24,   2,    48, 0x08, 0xff, 0xff, 0xff, 0xff,
                                     0xae, 0xf1, 0,  0,    0,    0,    0,    0};
    assert_memory_equal(o, route1, sizeof route1);
    o += sizeof route1;
    assert_int_equal(o[0], 24);
    assert_int_equal(o[1], 3);
    assert_int_equal(o[2], 96);
    assert_int_equal(o[3], 0x18);
    assert_int_equal((size_t)(o + 24 - out), len);

    /* A bad route_info; an ICMPv6 echo instead of an RS; another action. */
    assert_int_equal(ra_build("reg0[5] = put_nd_ra_opts(addr_mode = \"slaac\", "
                              "slla = 00:00:00:00:00:01, prefix = aef0::/64, "
                              "route_info = \"HIGHEST-aef1::/48\"); next;",
                              out, &len, &err),
                     -EINVAL);
    struct action_list *list;
    const struct action *a =
        parse_op("reg0[5] = put_nd_ra_opts(addr_mode = \"slaac\", slla = "
                 "00:00:00:00:00:01, prefix = aef0::/64); next;",
                 &list);
    uint8_t rs[128];
    size_t n = rs_frame(rs, 128);
    assert_int_equal(ctrl_nd_ra_build(a, rs, n, out, sizeof out, &len, &err), -EINVAL);
    n = rs_frame(rs, 133);
    assert_int_equal(ctrl_nd_ra_build(a, rs, n, out, 60, &len, &err), -ENOSPC);
    for (size_t cut = 0; cut < n; cut++) {
        assert_int_equal(ctrl_nd_ra_build(a, rs, cut, out, sizeof out, &len, NULL),
                         -EINVAL);
    }
    action_list_destroy(list);
}

/* ---- DNS. ---- */

static const char *
lookup(void *aux, const char *name)
{
    (void)aux;
    if (!strcmp(name, "vm1.ovn.org")) {
        return "10.0.0.4 aef0::4 10.0.0.5";
    } else if (!strcmp(name, "v4only.ovn.org")) {
        return "10.0.0.6";
    } else if (!strcmp(name, "4.0.0.10.in-addr.arpa")) {
        return "vm1.ovn.org";
    } else if (!strcmp(name, "bad.ovn.org")) {
        return "10.0.0.256";
    }
    return NULL;
}

/* A query for 'name' (dotted) of 'qtype', over IPv4 (or IPv6). */
static size_t
dns_frame(uint8_t *p, const char *name, uint16_t qtype, bool v6)
{
    static const uint8_t router_mac[6] = {0, 0, 0, 0, 0, 1};
    static const uint8_t server6[16] = {0xae, 0xf0, [15] = 1};
    size_t n = eth(p, router_mac, v6 ? 0x86dd : 0x0800);
    size_t l3 = v6 ? 40 : 20;
    uint8_t *l4 = p + n + l3, *d = l4 + 8;
    static const uint8_t hdr[] = {0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1};
    memcpy(d, hdr, sizeof hdr);
    size_t o = sizeof hdr;
    while (*name) {
        size_t l = strcspn(name, ".");
        d[o++] = (uint8_t)l;
        memcpy(d + o, name, l);
        o += l;
        name += l + (name[l] == '.');
    }
    d[o++] = 0;
    put16(d + o, qtype);
    put16(d + o + 2, 1);
    o += 4;
    /* An EDNS OPT record in the additional section: dropped from the answer. */
    static const uint8_t opt[] = {0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0};
    memcpy(d + o, opt, sizeof opt);
    o += sizeof opt;
    udp(l4, 33333, 53, 8 + o);
    if (v6) {
        ip6(p + n, 8 + o, 17, server6, 64);
    } else {
        ip4(p + n, 20 + 8 + o, 0x0a000004, 0x0a000001);
    }
    return n + l3 + 8 + o;
}

/* The answers of the reply 'out' start after header and question. */
static const uint8_t *
dns_answers(const uint8_t *out, size_t l7, size_t qname_len)
{
    return out + l7 + 12 + qname_len + 4;
}

static void
test_dns(void **state)
{
    (void)state;
    uint8_t req[512], out[1024];
    size_t n, len = 0;
    struct ovnic_err err = {0};
    /* "vm1.ovn.org" encoded: 3 vm1 3 ovn 3 org 0. */
    const size_t qlen = 13;

    /* A, with the name in mixed case: two answers, in the record's order. */
    n = dns_frame(req, "VM1.Ovn.org", 1, false);
    assert_int_equal(
        ctrl_dns_reply_build(lookup, NULL, req, n, out, sizeof out, &len, &err), 0);
    check_frame(out, len);
    const uint8_t *d = out + 14 + 20 + 8;
    static const uint8_t hdr[] = {0xbe, 0xef, 0x81, 0x00, 0, 1, 0, 2, 0, 0, 0, 0};
    assert_memory_equal(d, hdr, sizeof hdr);
    assert_memory_equal(d + 12, req + 42 + 12, qlen + 4); /* The question, as asked. */
    const uint8_t *an = dns_answers(out, 42, qlen);
    assert_memory_equal(an, req + 42 + 12, qlen);
    static const uint8_t a1[] = {0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 10, 0, 0, 4};
    assert_memory_equal(an + qlen, a1, sizeof a1);
    an += qlen + sizeof a1;
    assert_int_equal(an[qlen + 13], 5);
    assert_int_equal(len, (size_t)(an + qlen + 14 - out));

    /* AAAA over IPv6. */
    n = dns_frame(req, "vm1.ovn.org", 28, true);
    assert_int_equal(
        ctrl_dns_reply_build(lookup, NULL, req, n, out, sizeof out, &len, &err), 0);
    check_frame(out, len);
    d = out + 14 + 40 + 8;
    assert_int_equal(get16(d + 6), 1);
    an = dns_answers(out, 62, qlen);
    static const uint8_t aaaa[] = {0, 28, 0, 1, 0, 0, 0x0e, 0x10, 0, 16, 0xae, 0xf0, 0,
                                   0, 0,  0, 0, 0, 0, 0,    0,    0, 0,  0,    0,    4};
    assert_memory_equal(an + qlen, aaaa, sizeof aaaa);
    assert_int_equal(len, (size_t)(an + qlen + sizeof aaaa - out));

    /* ANY: the A answers, then the AAAA. */
    n = dns_frame(req, "vm1.ovn.org", 255, false);
    assert_int_equal(
        ctrl_dns_reply_build(lookup, NULL, req, n, out, sizeof out, &len, &err), 0);
    assert_int_equal(get16(out + 42 + 6), 3);
    an = dns_answers(out, 42, qlen);
    assert_int_equal(get16(an + qlen), 1);
    an += qlen + 14;
    assert_int_equal(get16(an + qlen), 1);
    an += qlen + 14;
    assert_int_equal(get16(an + qlen), 28);

    /* PTR: the host name as a DNS name. */
    n = dns_frame(req, "4.0.0.10.in-addr.arpa", 12, false);
    assert_int_equal(
        ctrl_dns_reply_build(lookup, NULL, req, n, out, sizeof out, &len, &err), 0);
    check_frame(out, len);
    an = dns_answers(out, 42, 23);
    static const uint8_t ptr[] = {0,   12,  0, 1,   0,   0,   0x0e, 0x10,
                                  0,   13,  3, 'v', 'm', '1', 3,    'o',
                                  'v', 'n', 3, 'o', 'r', 'g', 0};
    assert_memory_equal(an + 23, ptr, sizeof ptr);
    assert_int_equal(len, (size_t)(an + 23 + sizeof ptr - out));

    /* No such name; no record of that type; a type not answered; a bad record; a
     * response; another opcode; no question; a compression pointer in the question. */
    n = dns_frame(req, "nobody.ovn.org", 1, false);
    assert_int_equal(
        ctrl_dns_reply_build(lookup, NULL, req, n, out, sizeof out, &len, &err), -ENOENT);
    n = dns_frame(req, "v4only.ovn.org", 28, false);
    assert_int_equal(
        ctrl_dns_reply_build(lookup, NULL, req, n, out, sizeof out, &len, &err), -ENOENT);
    n = dns_frame(req, "vm1.ovn.org", 15, false);
    assert_int_equal(
        ctrl_dns_reply_build(lookup, NULL, req, n, out, sizeof out, &len, &err),
        -EOPNOTSUPP);
    n = dns_frame(req, "bad.ovn.org", 1, false);
    assert_int_equal(
        ctrl_dns_reply_build(lookup, NULL, req, n, out, sizeof out, &len, &err), -EINVAL);
    n = dns_frame(req, "vm1.ovn.org", 1, false);
    req[42 + 2] |= 0x80;
    assert_int_equal(
        ctrl_dns_reply_build(lookup, NULL, req, n, out, sizeof out, &len, &err), -EINVAL);
    req[42 + 2] = 0x28; /* Opcode 5 (UPDATE). */
    assert_int_equal(
        ctrl_dns_reply_build(lookup, NULL, req, n, out, sizeof out, &len, &err),
        -EOPNOTSUPP);
    req[42 + 2] = 0x01;
    req[42 + 5] = 0;
    assert_int_equal(
        ctrl_dns_reply_build(lookup, NULL, req, n, out, sizeof out, &len, &err), -EINVAL);
    req[42 + 5] = 1;
    req[42 + 12] = 0xc0;
    assert_int_equal(
        ctrl_dns_reply_build(lookup, NULL, req, n, out, sizeof out, &len, &err), -EINVAL);
    n = dns_frame(req, "vm1.ovn.org", 1, false);
    assert_int_equal(ctrl_dns_reply_build(lookup, NULL, req, n, out, 80, &len, &err),
                     -ENOSPC);
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, req, cut);
        assert_true(ctrl_dns_reply_build(lookup, NULL, copy, cut, out, sizeof out, &len,
                                         NULL) < 0);
        free(copy);
    }
}

/* ---- Through the pipeline. ---- */

struct sb {
    json_t *updates;
    int n;
};

static void
sb_row(struct sb *sb, const char *table, int n, json_t *row)
{
    char uuid[37];
    snprintf(uuid, sizeof uuid, "00000000-0000-0000-0000-%012d", n);
    json_t *t = json_object_get(sb->updates, table);
    if (!t) {
        t = json_object();
        json_object_set_new(sb->updates, table, t);
    }
    json_object_set_new(t, uuid, json_pack("{s:o}", "new", row));
}

static json_t *
ref(int n)
{
    char uuid[37];
    snprintf(uuid, sizeof uuid, "00000000-0000-0000-0000-%012d", n);
    return json_pack("[s,s]", "uuid", uuid);
}

static void
sb_flow(struct sb *sb, const char *pipeline, int table, int prio, const char *match,
        const char *actions)
{
    sb_row(sb, "Logical_Flow", 5000 + sb->n++,
           json_pack("{s:o,s:s,s:i,s:i,s:s,s:s}", "logical_datapath", ref(1), "pipeline",
                     pipeline, "table_id", table, "priority", prio, "match", match,
                     "actions", actions));
}

/* Switch "sw" (key 1) with p1 (key 1) on hv1, OVN's DHCPv6, RA and DNS flows, and a
 * DNS row for it (and one for another datapath that must not answer). */
static void
sb_build(struct sb *sb)
{
    sb->updates = json_object();
    sb_row(sb, "Encap", 901,
           json_pack("{s:s,s:s,s:s}", "type", "geneve", "ip", "192.168.0.1",
                     "chassis_name", "hv1"));
    sb_row(
        sb, "Chassis", 900,
        json_pack("{s:s,s:s,s:o}", "name", "hv1", "hostname", "hv1", "encaps", ref(901)));
    sb_row(sb, "Datapath_Binding", 1,
           json_pack("{s:i,s:[s,[[s,s]]]}", "tunnel_key", 1, "external_ids", "map",
                     "name", "sw"));
    sb_row(sb, "Datapath_Binding", 2,
           json_pack("{s:i,s:[s,[[s,s]]]}", "tunnel_key", 2, "external_ids", "map",
                     "name", "other"));
    sb_row(sb, "Port_Binding", 11,
           json_pack("{s:s,s:i,s:o,s:s,s:o}", "logical_port", "p1", "tunnel_key", 1,
                     "datapath", ref(1), "type", "", "chassis", ref(900)));
    sb_row(sb, "DNS", 30,
           json_pack("{s:[s,[[s,s],[s,s]]],s:[s,[o]],s:[s,[[s,s]]]}", "records", "map",
                     "vm1.ovn.org", "10.0.0.4 aef0::4", "4.0.0.10.in-addr.arpa",
                     "vm1.ovn.org", "datapaths", "set", ref(1), "external_ids", "map",
                     "dns_id", "d1"));
    sb_row(sb, "DNS", 31,
           json_pack("{s:[s,[[s,s]]],s:[s,[o]]}", "records", "map", "vm2.ovn.org",
                     "10.0.0.9", "datapaths", "set", ref(2)));
    sb->n = 0;
    sb_flow(sb, "ingress", 0, 100,
            "ip6.dst == ff02::1:2 && udp.src == 546 && udp.dst == 547",
            "reg0[3] = put_dhcpv6_opts(ia_addr = aef0::4, server_id = "
            "00:00:00:10:00:01, dns_server = {ae70::1}); next;");
    sb_flow(sb, "ingress", 0, 90, "nd_rs",
            "reg0[5] = put_nd_ra_opts(addr_mode = \"slaac\", slla = 00:00:00:00:00:01, "
            "prefix = aef0::/64, mtu = 1442); next;");
    sb_flow(sb, "ingress", 0, 80, "ip4 && udp.dst == 53",
            "reg0[4] = dns_lookup(); next;");
    sb_flow(sb, "ingress", 0, 0, "1", "next;");
    sb_flow(sb, "ingress", 1, 100, "reg0[3] == 1",
            "eth.dst = eth.src; eth.src = 00:00:00:10:00:01; ip6.dst = ip6.src; "
            "ip6.src = fe80::200:ff:fe10:1; udp.src = 547; udp.dst = 546; "
            "outport = inport; flags.loopback = 1; output;");
    sb_flow(sb, "ingress", 1, 100, "reg0[5] == 1",
            "eth.dst = eth.src; eth.src = 00:00:00:00:00:01; ip6.dst = ip6.src; "
            "ip6.src = fe80::200:ff:fe00:1; outport = inport; flags.loopback = 1; "
            "output;");
    sb_flow(sb, "ingress", 1, 100, "udp.dst == 53 && reg0[4] == 1",
            "eth.dst <-> eth.src; ip4.src <-> ip4.dst; udp.dst = udp.src; udp.src = 53; "
            "outport = inport; flags.loopback = 1; output;");
    sb_flow(sb, "egress", 0, 0, "1", "output;");
}

static void
process(struct pipeline *pl, const uint8_t *pkt, size_t len, const struct pkey *key,
        struct pipeline_result *r)
{
    struct pipeline_input in = {.type = PIPELINE_IN_VIF,
                                .port = "p1",
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
        fprintf(stderr, "%s\n", t);
    }
    free(t);
}

static void
test_pipeline_answers(void **state)
{
    (void)state;
    struct sb sb;
    sb_build(&sb);
    struct ovnic_err err = {0};
    struct ovsdb_schema *schema;
    struct ovsdb_replica *replica;
    struct pipeline *pl;
    assert_int_equal(ovsdb_schema_from_file(SB_SCHEMA, &schema, &err), 0);
    assert_int_equal(ovsdb_replica_create(schema, &replica), 0);
    int rc = ovsdb_replica_apply(replica, OVSDB_UPDATE_V1, sb.updates, &err);
    json_decref(sb.updates);
    if (rc) {
        fail_msg("%s: %s", err.message, err.detail);
    }
    struct pipeline_config cfg = {.chassis = "hv1"};
    assert_int_equal(pipeline_create(&cfg, &pl), 0);
    assert_int_equal(pipeline_sync(pl, replica, &err), 0);
    assert_int_equal(pipeline_n_lflow_errors(pl), 0);

    struct pipeline_result r;
    uint8_t pkt[512];
    size_t n;
    struct pkey k;
    struct packet_layout lay;

    /* DHCPv6 SOLICIT: the ADVERTISE goes back to p1 from the server's addresses. */
    n = dhcp6_frame(pkt, 1, false, false, NULL, 0);
    process(pl, pkt, n, NULL, &r);
    assert_int_equal(r.n_ctrls, 1);
    assert_int_equal(r.ctrls[0].type, ACTION_PUT_DHCPV6_OPTS);
    assert_int_equal(r.ctrls[0].error, 0);
    assert_non_null(r.ctrls[0].packet);
    assert_int_equal(r.n_outputs, 1);
    assert_string_equal(r.outputs[0].port, "p1");
    assert_true(r.outputs[0].from_controller);
    const uint8_t *o = r.outputs[0].packet;
    check_frame(o, r.outputs[0].len);
    assert_int_equal(packet_parse(o, r.outputs[0].len, 0, &k, &lay, NULL, NULL), 0);
    assert_memory_equal(k.f.eth_dst, vm_mac, 6);
    assert_memory_equal(k.f.ip6_dst, vm_ll, 16);
    assert_int_equal(ntohs(k.f.udp_src), 547);
    assert_int_equal(ntohs(k.f.udp_dst), 546);
    assert_int_equal(o[lay.l7], 2);
    pipeline_result_destroy(&r);

    /* Router solicitation: the RA back to p1. */
    n = rs_frame(pkt, 133);
    process(pl, pkt, n, NULL, &r);
    assert_int_equal(r.n_ctrls, 1);
    assert_int_equal(r.ctrls[0].type, ACTION_PUT_ND_RA_OPTS);
    assert_int_equal(r.n_outputs, 1);
    o = r.outputs[0].packet;
    check_frame(o, r.outputs[0].len);
    assert_int_equal(packet_parse(o, r.outputs[0].len, 0, &k, &lay, NULL, NULL), 0);
    assert_int_equal(k.f.icmp6_type, 134);
    assert_memory_equal(k.f.ip6_dst, vm_ll, 16);
    pipeline_result_destroy(&r);

    /* DNS: a name of this datapath is answered, back to the client. */
    n = dns_frame(pkt, "vm1.ovn.org", 1, false);
    process(pl, pkt, n, NULL, &r);
    assert_int_equal(r.n_ctrls, 1);
    assert_int_equal(r.ctrls[0].type, ACTION_DNS_LOOKUP);
    assert_int_equal(r.ctrls[0].error, 0);
    assert_int_equal(r.n_outputs, 1);
    o = r.outputs[0].packet;
    check_frame(o, r.outputs[0].len);
    assert_int_equal(packet_parse(o, r.outputs[0].len, 0, &k, &lay, NULL, NULL), 0);
    assert_int_equal(k.f.ip4_dst, htonl(0x0a000004));
    assert_int_equal(ntohs(k.f.udp_src), 53);
    assert_int_equal(ntohs(k.f.udp_dst), 33333);
    assert_int_equal(get16(o + lay.l7 + 6), 1);
    static const uint8_t addr[4] = {10, 0, 0, 4};
    assert_memory_equal(o + r.outputs[0].len - 4, addr, 4);
    pipeline_result_destroy(&r);

    /* PTR. */
    n = dns_frame(pkt, "4.0.0.10.in-addr.arpa", 12, false);
    process(pl, pkt, n, NULL, &r);
    assert_int_equal(r.n_outputs, 1);
    pipeline_result_destroy(&r);

    /* A name of another datapath, or none: result 0, no flow matches, dropped. */
    n = dns_frame(pkt, "vm2.ovn.org", 1, false);
    process(pl, pkt, n, NULL, &r);
    assert_int_equal(r.n_ctrls, 1);
    assert_int_equal(r.ctrls[0].error, -ENOENT);
    assert_int_equal(r.n_outputs, 0);
    assert_int_equal(r.n_drops, 1);
    pipeline_result_destroy(&r);

    /* Without packet bytes, as ovn-trace: put_dhcpv6_opts and put_nd_ra_opts resume
     * with 1, dns_lookup with 0. */
    n = dhcp6_frame(pkt, 1, false, false, NULL, 0);
    assert_int_equal(packet_parse(pkt, n, 0, &k, NULL, NULL, NULL), 0);
    process(pl, NULL, 0, &k, &r);
    assert_int_equal(r.n_outputs, 1);
    assert_null(r.outputs[0].packet);
    pipeline_result_destroy(&r);
    n = rs_frame(pkt, 133);
    assert_int_equal(packet_parse(pkt, n, 0, &k, NULL, NULL, NULL), 0);
    process(pl, NULL, 0, &k, &r);
    assert_int_equal(r.n_outputs, 1);
    pipeline_result_destroy(&r);
    n = dns_frame(pkt, "vm1.ovn.org", 1, false);
    assert_int_equal(packet_parse(pkt, n, 0, &k, NULL, NULL, NULL), 0);
    process(pl, NULL, 0, &k, &r);
    assert_int_equal(r.n_outputs, 0);
    pipeline_result_destroy(&r);

    pipeline_destroy(pl);
    ovsdb_replica_destroy(replica);
    ovsdb_schema_destroy(schema);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dhcpv6_solicit),
        cmocka_unit_test(test_dhcpv6_reply_types),
        cmocka_unit_test(test_nd_ra),
        cmocka_unit_test(test_dns),
        cmocka_unit_test(test_pipeline_answers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
