/* Unit tests of the controller-action builders (dpu/pipeline/ctrl.h): packets checked
 * byte by byte, checksums recomputed independently. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dpu/controller/actions.h"
#include "dpu/controller/symtab.h"
#include "dpu/pipeline/ctrl.h"
#include "dpu/pipeline/exec.h"
#include "dpu/pipeline/packet.h"

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

static struct action_list *
parse(const char *s)
{
    struct action_list *list = NULL;
    struct ovnic_err err = {0};
    if (action_parse(symtab, s, NULL, &list, &err)) {
        fail_msg("%s: %s (%s)", s, err.message, err.detail);
    }
    return list;
}

static int
port_key(void *aux, const char *name, uint32_t *key)
{
    (void)aux;
    (void)name;
    *key = 1;
    return 0;
}

static const struct exec_env env = {.port_key = port_key};
static const struct exec_params params = {.pipeline = ACTION_PIPELINE_INGRESS,
                                          .table = 3};

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

/* True if the IPv4 header at 'l3' and its L4 checksum verify. */
static void
assert_ip4_checksums(const uint8_t *l3)
{
    size_t ihl = (size_t)(l3[0] & 0xf) * 4;
    size_t total = (size_t)(l3[2] << 8 | l3[3]);
    assert_int_equal(fold(sum16(l3, ihl, 0)), 0xffff);
    const uint8_t *l4 = l3 + ihl;
    size_t l4_len = total - ihl;
    uint32_t sum = 0;
    if (l3[9] != 1) {
        sum = sum16(l3 + 12, 8, 0) + l3[9] + (uint32_t)l4_len;
    }
    assert_int_equal(fold(sum16(l4, l4_len, sum)), 0xffff);
}

static void
assert_ip6_checksum(const uint8_t *l3)
{
    size_t plen = (size_t)(l3[4] << 8 | l3[5]);
    uint32_t sum = sum16(l3 + 8, 32, 0) + l3[6] + (uint32_t)plen;
    assert_int_equal(fold(sum16(l3 + 40, plen, sum)), 0xffff);
}

/* ---- Frames. ---- */

static const uint8_t vm_mac[6] = {0x0a, 0x00, 0x00, 0x00, 0x00, 0x0b};
static const uint8_t gw_mac[6] = {0x0a, 0x00, 0x00, 0x00, 0x00, 0x01};

static size_t
eth(uint8_t *p, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
    memcpy(p, dst, 6);
    memcpy(p + 6, src, 6);
    p[12] = (uint8_t)(type >> 8);
    p[13] = (uint8_t)type;
    return 14;
}

static void
ip4(uint8_t *p, size_t total, uint8_t proto, uint32_t src, uint32_t dst)
{
    memset(p, 0, 20);
    p[0] = 0x45;
    p[2] = (uint8_t)(total >> 8);
    p[3] = (uint8_t)total;
    p[8] = 64;
    p[9] = proto;
    uint32_t s = htonl(src), d = htonl(dst);
    memcpy(p + 12, &s, 4);
    memcpy(p + 16, &d, 4);
    uint16_t c = (uint16_t)~fold(sum16(p, 20, 0));
    p[10] = (uint8_t)(c >> 8);
    p[11] = (uint8_t)c;
}

/* A TCP segment 10.0.0.11:40000 -> 10.0.0.20:80, seq 1000, with 'flags' and 10
 * payload bytes. */
static size_t
tcp_frame(uint8_t *p, uint8_t flags)
{
    size_t n = eth(p, gw_mac, vm_mac, 0x0800);
    ip4(p + n, 20 + 20 + 10, 6, 0x0a00000b, 0x0a000014);
    uint8_t *t = p + n + 20;
    memset(t, 0, 30);
    t[0] = 40000 >> 8;
    t[1] = 40000 & 0xff;
    t[3] = 80;
    t[6] = 0x03; /* seq 1000 */
    t[7] = 0xe8;
    t[11] = 0x07; /* ack 7 */
    t[12] = 5 << 4;
    t[13] = flags;
    memset(t + 20, 'x', 10);
    return n + 50;
}

static size_t
dhcp_frame(uint8_t *p, uint8_t msg_type, uint32_t requested)
{
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    size_t n = eth(p, bcast, vm_mac, 0x0800);
    uint8_t *l3 = p + n;
    uint8_t *udp = l3 + 20;
    uint8_t *b = udp + 8;
    memset(b, 0, 236);
    b[0] = 1;
    b[1] = 1;
    b[2] = 6;
    b[4] = 0x12, b[5] = 0x34, b[6] = 0x56, b[7] = 0x78; /* xid */
    b[10] = 0x80;                                       /* broadcast flag */
    memcpy(b + 28, vm_mac, 6);
    size_t o = 236;
    b[o++] = 0x63, b[o++] = 0x82, b[o++] = 0x53, b[o++] = 0x63;
    b[o++] = 53, b[o++] = 1, b[o++] = msg_type;
    if (requested) {
        b[o++] = 50, b[o++] = 4;
        uint32_t r = htonl(requested);
        memcpy(b + o, &r, 4);
        o += 4;
    }
    b[o++] = 255;
    size_t udp_len = 8 + o;
    memset(udp, 0, 8);
    udp[1] = 68;
    udp[3] = 67;
    udp[4] = (uint8_t)(udp_len >> 8);
    udp[5] = (uint8_t)udp_len;
    ip4(l3, 20 + udp_len, 17, 0, 0xffffffff);
    return n + 20 + udp_len;
}

#define DHCP_OPTS                                                               \
    "reg0[3] = put_dhcp_opts(offerip = 10.0.0.11, router = 10.0.0.1, "          \
    "netmask = 255.255.255.0, lease_time = 3600, server_id = 10.0.0.1, "        \
    "dns_server = {8.8.8.8, 1.1.1.1}, domain_name = \"ovn.test\", mtu = 1442, " \
    "classless_static_route = {30.0.0.0/24, 10.0.0.10, 0.0.0.0/0, 10.0.0.1}); next;"

static const uint8_t expected_offer_opts[] = {
    0x63, 0x82, 0x53, 0x63,                                 /* magic cookie */
    53,   1,    2,                                          /* DHCPOFFER */
    3,    4,    10,   0,    0,    1,                        /* router */
    1,    4,    255,  255,  255,  0,                        /* netmask */
    51,   4,    0,    0,    0x0e, 0x10,                     /* lease_time 3600 */
    54,   4,    10,   0,    0,    1,                        /* server_id */
    6,    8,    8,    8,    8,    8,    1,   1,   1,   1,   /* dns_server */
    15,   8,    'o',  'v',  'n',  '.',  't', 'e', 's', 't', /* domain_name */
    26,   2,    0x05, 0xa2,                                 /* mtu 1442 */
    121,  13,   24,   30,   0,    0,    10,  0,   0,   10,  0, 10, 0, 0, 1, /* routes */
    255,
};

/* Runs put_dhcp_opts on 'req' and builds the reply. */
static int
dhcp_reply(const struct action_list *list, const uint8_t *req, size_t req_len,
           uint8_t *out, size_t size, size_t *out_len, struct ovnic_err *err)
{
    struct exec_result r;
    struct pkey key;
    assert_int_equal(packet_parse(req, req_len, 0, &key, NULL, NULL, NULL), 0);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &params, list, &key, &r), 0);
    assert_int_equal(r.verdict, EXEC_PAUSE);
    return ctrl_dhcpv4_reply_build(r.ctrl[0].action, req, req_len, out, size, out_len,
                                   err);
}

static void
test_ctrl_dhcp_offer(void **state)
{
    struct action_list *list = parse(DHCP_OPTS);
    uint8_t req[600], out[1500];
    size_t req_len = dhcp_frame(req, 1, 0), out_len = 0;
    struct ovnic_err err = {0};

    assert_int_equal(dhcp_reply(list, req, req_len, out, sizeof out, &out_len, &err), 0);
    size_t opts_len = sizeof expected_offer_opts;
    assert_int_equal(out_len, 14 + 20 + 8 + 236 + opts_len);

    /* L2 and L3 as in the request. */
    assert_memory_equal(out, req, 14);
    const uint8_t *l3 = out + 14;
    assert_int_equal(l3[0], 0x45);
    assert_int_equal(l3[9], 17);
    assert_int_equal((l3[2] << 8) | l3[3], 20 + 8 + 236 + opts_len);
    assert_memory_equal(l3 + 12, req + 14 + 12, 8);
    const uint8_t *udp = l3 + 20;
    assert_int_equal((udp[0] << 8) | udp[1], 68);
    assert_int_equal((udp[2] << 8) | udp[3], 67);
    assert_int_equal((udp[4] << 8) | udp[5], 8 + 236 + opts_len);
    assert_ip4_checksums(l3);

    /* BOOTP, field by field. */
    const uint8_t *b = udp + 8;
    const uint8_t *rb = req + 14 + 20 + 8;
    assert_int_equal(b[0], 2); /* BOOTREPLY */
    assert_int_equal(b[1], 1);
    assert_int_equal(b[2], 6);
    assert_int_equal(b[3], 0);
    assert_memory_equal(b + 4, rb + 4, 4); /* xid */
    assert_int_equal(b[10], 0x80);         /* flags */
    static const uint8_t zero4[4];
    static const uint8_t yiaddr[4] = {10, 0, 0, 11};
    assert_memory_equal(b + 12, zero4, 4); /* ciaddr */
    assert_memory_equal(b + 16, yiaddr, 4);
    assert_memory_equal(b + 20, zero4, 4); /* siaddr */
    assert_memory_equal(b + 24, zero4, 4); /* giaddr */
    assert_memory_equal(b + 28, vm_mac, 6);
    assert_memory_equal(b + 236, expected_offer_opts, opts_len);

    /* Then the flows after it address the reply; checksums stay right. */
    struct action_list *resp =
        parse("eth.dst = eth.src; eth.src = c0:ff:ee:00:00:01; ip4.dst = 10.0.0.11; "
              "ip4.src = 10.0.0.1; udp.src = 67; udp.dst = 68; outport = inport; "
              "flags.loopback = 1; output;");
    struct pkey key;
    struct exec_result r;
    assert_int_equal(packet_parse(out, out_len, 0, &key, NULL, NULL, NULL), 0);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &params, resp, &key, &r), 0);
    assert_int_equal(r.verdict, EXEC_OUTPUT);
    assert_int_equal(ctrl_packet_apply(out, out_len, &r, 0, &err), 0);
    static const uint8_t server_mac[6] = {0xc0, 0xff, 0xee, 0, 0, 1};
    assert_memory_equal(out, vm_mac, 6);
    assert_memory_equal(out + 6, server_mac, 6);
    static const uint8_t sip[4] = {10, 0, 0, 1};
    assert_memory_equal(l3 + 12, sip, 4);
    assert_memory_equal(l3 + 16, yiaddr, 4);
    assert_int_equal((udp[0] << 8) | udp[1], 67);
    assert_int_equal((udp[2] << 8) | udp[3], 68);
    assert_ip4_checksums(l3);
    action_list_destroy(resp);
    action_list_destroy(list);
    (void)state;
}

static const uint8_t *
reply_opts(const uint8_t *out)
{
    return out + 14 + 20 + 8 + 236;
}

static void
test_ctrl_dhcp_request(void **state)
{
    struct action_list *list = parse(DHCP_OPTS);
    uint8_t req[600], out[1500];
    size_t req_len, out_len;
    struct ovnic_err err = {0};

    /* REQUEST for the offered address: ACK, same options. */
    req_len = dhcp_frame(req, 3, 0x0a00000b);
    assert_int_equal(dhcp_reply(list, req, req_len, out, sizeof out, &out_len, &err), 0);
    assert_int_equal(reply_opts(out)[6], 5);
    assert_memory_equal(reply_opts(out) + 7, expected_offer_opts + 7,
                        sizeof expected_offer_opts - 7);
    assert_ip4_checksums(out + 14);

    /* REQUEST for another address: NAK with only the server id. */
    req_len = dhcp_frame(req, 3, 0x0a00000c);
    assert_int_equal(dhcp_reply(list, req, req_len, out, sizeof out, &out_len, &err), 0);
    static const uint8_t nak[] = {0x63, 0x82, 0x53, 0x63, 53, 1, 6,
                                  54,   4,    10,   0,    0,  1, 255};
    assert_int_equal(out_len, 14 + 20 + 8 + 236 + sizeof nak);
    assert_memory_equal(reply_opts(out), nak, sizeof nak);
    static const uint8_t zero4[4];
    assert_memory_equal(out + 14 + 28 + 16, zero4, 4);

    /* INFORM: ACK without address or lease time. */
    req_len = dhcp_frame(req, 8, 0);
    assert_int_equal(dhcp_reply(list, req, req_len, out, sizeof out, &out_len, &err), 0);
    assert_int_equal(reply_opts(out)[6], 5);
    assert_memory_equal(out + 14 + 28 + 16, zero4, 4);
    assert_int_equal(out_len, 14 + 20 + 8 + 236 + sizeof expected_offer_opts - 6);

    /* RELEASE gets no reply. */
    req_len = dhcp_frame(req, 7, 0);
    ovnic_err_clear(&err);
    assert_int_equal(dhcp_reply(list, req, req_len, out, sizeof out, &out_len, &err),
                     -EINVAL);
    assert_true(ovnic_err_is_set(&err));

    /* Too small a buffer. */
    req_len = dhcp_frame(req, 1, 0);
    assert_int_equal(dhcp_reply(list, req, req_len, out, 300, &out_len, NULL), -ENOSPC);

    /* Not DHCP: a TCP segment. */
    struct exec_result r;
    struct pkey key;
    assert_int_equal(packet_parse(req, req_len, 0, &key, NULL, NULL, NULL), 0);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &params, list, &key, &r), 0);
    req_len = tcp_frame(req, 0x02);
    ovnic_err_clear(&err);
    assert_int_equal(ctrl_dhcpv4_reply_build(r.ctrl[0].action, req, req_len, out,
                                             sizeof out, &out_len, &err),
                     -EINVAL);
    assert_string_equal(err.message, "not a DHCP request");

    /* Truncated request. */
    req_len = dhcp_frame(req, 1, 0);
    assert_int_equal(ctrl_dhcpv4_reply_build(r.ctrl[0].action, req, req_len - 250, out,
                                             sizeof out, &out_len, NULL),
                     -EINVAL);
    action_list_destroy(list);
    (void)state;
}

static void
test_ctrl_icmp4_error_frag_needed(void **state)
{
    struct action_list *list =
        parse("icmp4_error { reg9[0] = 1; eth.dst = 0a:00:00:00:00:0b; "
              "eth.src = 0a:00:00:00:00:01; ip4.dst = ip4.src; ip4.src = 10.0.0.1; "
              "ip.ttl = 255; icmp4.type = 3; icmp4.code = 4; icmp4.frag_mtu = 1400; "
              "next(pipeline=ingress, table=0); };");
    uint8_t in[100], out[700];
    size_t in_len = tcp_frame(in, 0x18), out_len;
    struct exec_result r, nr;
    struct pkey key;

    assert_int_equal(packet_parse(in, in_len, 0, &key, NULL, NULL, NULL), 0);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &params, list, &key, &r), 0);
    assert_int_equal(r.n_ctrl, 1);
    assert_int_equal(
        ctrl_packet_build(r.ctrl[0].type, in, in_len, out, sizeof out, &out_len, NULL),
        0);
    /* Whole original datagram quoted (it is short). */
    assert_int_equal(out_len, 14 + 20 + 8 + 50);
    assert_ip4_checksums(out + 14);
    assert_int_equal(out[14 + 20], 3);
    assert_int_equal(out[14 + 20 + 1], 1);
    assert_memory_equal(out + 14 + 28, in + 14, 50);

    /* The nested actions, on the new packet. */
    assert_int_equal(packet_parse(out, out_len, 0, &key, NULL, NULL, NULL), 0);
    exec_result_init(&nr, NULL);
    assert_int_equal(exec_run(&env, &params, r.ctrl[0].action->nested, &key, &nr), 0);
    assert_int_equal(nr.verdict, EXEC_NEXT);
    assert_int_equal(ctrl_packet_apply(out, out_len, &nr, 0, NULL), 0);
    const uint8_t *l3 = out + 14, *icmp = l3 + 20;
    assert_int_equal(icmp[0], 3);
    assert_int_equal(icmp[1], 4);
    assert_int_equal((icmp[6] << 8) | icmp[7], 1400);
    static const uint8_t src[4] = {10, 0, 0, 1}, dst[4] = {10, 0, 0, 11};
    assert_memory_equal(l3 + 12, src, 4);
    assert_memory_equal(l3 + 16, dst, 4);
    assert_int_equal(l3[8], 255);
    assert_ip4_checksums(l3);
    action_list_destroy(list);
    (void)state;
}

static void
test_ctrl_icmp4_quote_limits(void **state)
{
    uint8_t in[1600], out[1600];
    size_t n = eth(in, gw_mac, vm_mac, 0x0800), out_len;

    ip4(in + n, 1500, 50, 0x0a00000b, 0x0a000014); /* ESP: not looked into. */
    memset(in + n + 20, 0xab, 1480);
    size_t in_len = n + 1500;

    /* icmp4 { }: header and 8 bytes. */
    assert_int_equal(
        ctrl_packet_build(ACTION_ICMP4, in, in_len, out, sizeof out, &out_len, NULL), 0);
    assert_int_equal(out_len, 14 + 20 + 8 + 28);
    assert_ip4_checksums(out + 14);
    /* icmp4_error { }: up to 576 bytes in all. */
    assert_int_equal(ctrl_packet_build(ACTION_ICMP4_ERROR, in, in_len, out, sizeof out,
                                       &out_len, NULL),
                     0);
    assert_int_equal(out_len, 14 + CTRL_ICMP4_ERROR_MAX);
    assert_ip4_checksums(out + 14);
    /* Buffer too small, and a non-IPv4 frame. */
    assert_int_equal(
        ctrl_packet_build(ACTION_ICMP4_ERROR, in, in_len, out, 100, &out_len, NULL),
        -ENOSPC);
    struct ovnic_err err = {0};
    eth(in, gw_mac, vm_mac, 0x86dd);
    assert_true(
        ctrl_packet_build(ACTION_ICMP4, in, in_len, out, sizeof out, &out_len, &err) < 0);
    (void)state;
}

static size_t
ip6_udp_frame(uint8_t *p, size_t payload)
{
    size_t n = eth(p, gw_mac, vm_mac, 0x86dd);
    uint8_t *l3 = p + n;
    memset(l3, 0, 40);
    l3[0] = 0x60;
    l3[4] = (uint8_t)((8 + payload) >> 8);
    l3[5] = (uint8_t)(8 + payload);
    l3[6] = 17;
    l3[7] = 64;
    l3[8] = 0xfd, l3[23] = 0x0b;  /* fd00::b */
    l3[24] = 0xfd, l3[39] = 0x14; /* fd00::14 */
    uint8_t *u = l3 + 40;
    memset(u, 0, 8);
    u[1] = 99;
    u[3] = 53;
    u[4] = (uint8_t)((8 + payload) >> 8);
    u[5] = (uint8_t)(8 + payload);
    memset(u + 8, 0x5c, payload);
    return n + 40 + 8 + payload;
}

static void
test_ctrl_icmp6_error_too_big(void **state)
{
    struct action_list *list =
        parse("icmp6_error { eth.dst <-> eth.src; ip6.dst = ip6.src; ip6.src = fd00::1; "
              "ip.ttl = 255; icmp6.type = 2; icmp6.code = 0; icmp6.frag_mtu = 1400; "
              "next(pipeline=ingress, table=0); };");
    uint8_t in[1600], out[1600];
    size_t in_len = ip6_udp_frame(in, 1400), out_len;
    struct exec_result r, nr;
    struct pkey key;

    assert_int_equal(packet_parse(in, in_len, 0, &key, NULL, NULL, NULL), 0);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &params, list, &key, &r), 0);
    assert_int_equal(ctrl_packet_build(ACTION_ICMP6_ERROR, in, in_len, out, sizeof out,
                                       &out_len, NULL),
                     0);
    assert_int_equal(out_len, 14 + CTRL_ICMP6_ERROR_MAX);
    assert_ip6_checksum(out + 14);

    assert_int_equal(packet_parse(out, out_len, 0, &key, NULL, NULL, NULL), 0);
    exec_result_init(&nr, NULL);
    assert_int_equal(exec_run(&env, &params, r.ctrl[0].action->nested, &key, &nr), 0);
    assert_int_equal(ctrl_packet_apply(out, out_len, &nr, 0, NULL), 0);
    const uint8_t *l3 = out + 14, *icmp = l3 + 40;
    assert_int_equal(icmp[0], 2);
    assert_int_equal(icmp[1], 0);
    assert_int_equal((icmp[4] << 24) | (icmp[5] << 16) | (icmp[6] << 8) | icmp[7], 1400);
    assert_int_equal(l3[24], 0xfd);
    assert_int_equal(l3[39], 0x0b);
    assert_int_equal(l3[23], 0x01);
    assert_memory_equal(out, vm_mac, 6);
    assert_ip6_checksum(l3);
    action_list_destroy(list);
    (void)state;
}

static void
test_ctrl_arp_request(void **state)
{
    uint8_t in[100], out[100];
    size_t in_len = tcp_frame(in, 0x02), out_len;

    assert_int_equal(
        ctrl_packet_build(ACTION_ARP, in, in_len, out, sizeof out, &out_len, NULL), 0);
    assert_int_equal(out_len, 42);
    static const uint8_t expected[42] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0a, 0, 0, 0,  0,
        0x0b, 0x08, 0x06, 0,    1,    0x08, 0,    6, 4, 0,  1, /* request */
        0x0a, 0,    0,    0,    0,    0x0b, 10,   0, 0, 11,    /* sha, spa */
        0,    0,    0,    0,    0,    0,    10,   0, 0, 20,    /* tha, tpa */
    };
    assert_memory_equal(out, expected, 42);

    /* The nested actions of "arp { eth.dst = ff:ff:ff:ff:ff:ff; arp.spa = reg1;
     * arp.tpa = reg0; arp.op = 1; output; }" rewrite the ARP fields. */
    struct action_list *list =
        parse("arp { eth.dst = ff:ff:ff:ff:ff:ff; arp.spa = reg1; arp.tpa = reg0; "
              "arp.op = 1; output; };");
    struct exec_result r;
    struct pkey key;
    assert_int_equal(packet_parse(out, out_len, 0, &key, NULL, NULL, NULL), 0);
    key.f.regs[0] = htonl(0x0a000063);
    key.f.regs[1] = htonl(0x0a000001);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &params, list->ops[0].nested, &key, &r), 0);
    assert_int_equal(r.verdict, EXEC_OUTPUT);
    assert_int_equal(ctrl_packet_apply(out, out_len, &r, 0, NULL), 0);
    static const uint8_t spa[4] = {10, 0, 0, 1}, tpa[4] = {10, 0, 0, 99};
    assert_memory_equal(out + 14 + 14, spa, 4);
    assert_memory_equal(out + 14 + 24, tpa, 4);
    action_list_destroy(list);

    /* ARP for an ARP packet is refused. */
    struct ovnic_err err = {0};
    assert_int_equal(
        ctrl_packet_build(ACTION_ARP, out, out_len, in, sizeof in, &in_len, &err),
        -EINVAL);
    (void)state;
}

static void
test_ctrl_nd(void **state)
{
    uint8_t in[200], out[200], na[200];
    size_t in_len = ip6_udp_frame(in, 4), out_len, na_len;

    /* nd_ns { } for the packet's destination. */
    assert_int_equal(
        ctrl_packet_build(ACTION_ND_NS, in, in_len, out, sizeof out, &out_len, NULL), 0);
    assert_int_equal(out_len, 14 + 40 + 32);
    static const uint8_t mc_mac[6] = {0x33, 0x33, 0xff, 0, 0, 0x14};
    assert_memory_equal(out, mc_mac, 6);
    const uint8_t *l3 = out + 14;
    static const uint8_t sn[16] = {0xff, 2, 0, 0, 0,    0, 0, 0,
                                   0,    0, 0, 1, 0xff, 0, 0, 0x14};
    assert_memory_equal(l3 + 24, sn, 16);
    assert_int_equal(l3[7], 255);
    assert_int_equal(l3[40], 135);
    assert_memory_equal(l3 + 40 + 8, in + 14 + 24, 16);
    assert_int_equal(l3[40 + 24], 1);
    assert_memory_equal(l3 + 40 + 26, vm_mac, 6);
    assert_ip6_checksum(l3);

    /* nd_na_router { } answering that solicitation. */
    struct pkey key;
    assert_int_equal(packet_parse(out, out_len, 0, &key, NULL, NULL, NULL), 0);
    assert_int_equal(key.f.icmp6_type, 135);
    assert_int_equal(ctrl_packet_build(ACTION_ND_NA_ROUTER, out, out_len, na, sizeof na,
                                       &na_len, NULL),
                     0);
    const uint8_t *n3 = na + 14;
    assert_memory_equal(na, vm_mac, 6);
    assert_int_equal(n3[40], 136);
    assert_int_equal(n3[44], 0xe0);
    assert_memory_equal(n3 + 8, in + 14 + 24, 16); /* From the target. */
    assert_memory_equal(n3 + 24, in + 14 + 8, 16); /* To the solicitor. */
    assert_int_equal(n3[40 + 24], 2);
    assert_ip6_checksum(n3);

    /* The nested actions set the TLL option. */
    struct action_list *list =
        parse("nd_na_router { eth.src = 0a:00:00:00:00:01; nd.tll = 0a:00:00:00:00:01; "
              "outport = inport; flags.loopback = 1; output; };");
    struct exec_result r;
    assert_int_equal(packet_parse(na, na_len, 0, &key, NULL, NULL, NULL), 0);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &params, list->ops[0].nested, &key, &r), 0);
    assert_int_equal(ctrl_packet_apply(na, na_len, &r, 0, NULL), 0);
    assert_memory_equal(na + 6, gw_mac, 6);
    assert_memory_equal(n3 + 40 + 26, gw_mac, 6);
    assert_ip6_checksum(n3);
    action_list_destroy(list);

    /* nd_na needs a solicitation. */
    assert_int_equal(
        ctrl_packet_build(ACTION_ND_NA, in, in_len, na, sizeof na, &na_len, NULL),
        -EINVAL);
    (void)state;
}

static void
test_ctrl_tcp_reset(void **state)
{
    uint8_t in[100], out[100];
    size_t in_len, out_len;

    /* SYN without ACK: RST|ACK acknowledging seq + 10 bytes + SYN. */
    in_len = tcp_frame(in, 0x02);
    assert_int_equal(
        ctrl_packet_build(ACTION_TCP_RESET, in, in_len, out, sizeof out, &out_len, NULL),
        0);
    assert_int_equal(out_len, 14 + 40);
    const uint8_t *t = out + 14 + 20;
    assert_int_equal((t[0] << 8) | t[1], 80);
    assert_int_equal((t[2] << 8) | t[3], 40000);
    assert_int_equal(t[13], 0x14);
    assert_int_equal((t[8] << 24) | (t[9] << 16) | (t[10] << 8) | t[11], 1000 + 10 + 1);
    assert_ip4_checksums(out + 14);

    /* With ACK: RST carrying the acknowledged number as its sequence. */
    in_len = tcp_frame(in, 0x10);
    assert_int_equal(
        ctrl_packet_build(ACTION_TCP_RESET, in, in_len, out, sizeof out, &out_len, NULL),
        0);
    assert_int_equal(t[13], 0x04);
    assert_int_equal((t[4] << 24) | (t[5] << 16) | (t[6] << 8) | t[7], 7);
    assert_ip4_checksums(out + 14);

    /* reject { } on TCP: a reset with the addresses swapped. */
    assert_int_equal(
        ctrl_packet_build(ACTION_REJECT, in, in_len, out, sizeof out, &out_len, NULL), 0);
    assert_memory_equal(out, vm_mac, 6);
    assert_int_equal(out[14 + 15], 20); /* ip4.src = the old destination */
    assert_ip4_checksums(out + 14);

    /* sctp_abort on TCP: an error. */
    struct ovnic_err err = {0};
    assert_int_equal(
        ctrl_packet_build(ACTION_SCTP_ABORT, in, in_len, out, sizeof out, &out_len, &err),
        -EINVAL);
    assert_non_null(strstr(err.message, "SCTP"));
    (void)state;
}

/* CRC32c, bit by bit, checked against RFC 3720's vector before it checks packets. */
static uint32_t
ref_crc32c(const uint8_t *p, size_t n)
{
    uint32_t crc = ~0u;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++) {
            crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78 : crc >> 1;
        }
    }
    return ~crc;
}

/* SCTP 10.0.0.11:5000 -> 10.0.0.20:80 with tag 'vtag' and one chunk of 'type' (an
 * INIT carries initiate tag 0x11223344). */
static size_t
sctp_frame(uint8_t *p, uint32_t vtag, uint8_t type)
{
    size_t n = eth(p, gw_mac, vm_mac, 0x0800);
    ip4(p + n, 20 + 12 + 20, 132, 0x0a00000b, 0x0a000014);
    uint8_t *s = p + n + 20;
    memset(s, 0, 32);
    s[0] = 5000 >> 8;
    s[1] = 5000 & 0xff;
    s[3] = 80;
    s[4] = (uint8_t)(vtag >> 24), s[5] = (uint8_t)(vtag >> 16);
    s[6] = (uint8_t)(vtag >> 8), s[7] = (uint8_t)vtag;
    s[12] = type;
    s[15] = 20;
    s[16] = 0x11, s[17] = 0x22, s[18] = 0x33, s[19] = 0x44;
    return n + 52;
}

static void
assert_sctp_abort(const uint8_t *out, size_t out_len, uint32_t vtag, uint8_t flags)
{
    assert_int_equal(out_len, 14 + 20 + 16);
    const uint8_t *s = out + 14 + 20;
    assert_int_equal(out[14 + 9], 132);
    assert_int_equal((s[0] << 8) | s[1], 80);
    assert_int_equal((s[2] << 8) | s[3], 5000);
    assert_int_equal(((uint32_t)s[4] << 24) | (s[5] << 16) | (s[6] << 8) | s[7], vtag);
    assert_int_equal(s[12], 6); /* ABORT */
    assert_int_equal(s[13], flags);
    assert_int_equal((s[14] << 8) | s[15], 4);
    uint8_t copy[16];
    memcpy(copy, s, 16);
    memset(copy + 8, 0, 4);
    uint32_t crc = ref_crc32c(copy, 16);
    assert_int_equal(s[8] | (s[9] << 8) | (s[10] << 16) | ((uint32_t)s[11] << 24), crc);
    assert_int_equal(fold(sum16(out + 14, 20, 0)), 0xffff);
}

static void
test_ctrl_sctp_abort(void **state OVNIC_UNUSED)
{
    assert_int_equal(ref_crc32c((const uint8_t *)"123456789", 9), 0xe3069283);
    uint8_t in[100], out[200];
    size_t out_len;

    /* An INIT with tag 0: the ABORT carries its initiate tag, T bit clear. */
    size_t in_len = sctp_frame(in, 0, 1);
    assert_int_equal(
        ctrl_packet_build(ACTION_SCTP_ABORT, in, in_len, out, sizeof out, &out_len, NULL),
        0);
    assert_sctp_abort(out, out_len, 0x11223344, 0);
    assert_memory_equal(out, gw_mac, 6); /* Addresses as in the packet. */
    assert_int_equal(out[14 + 15], 11);

    /* DATA with a tag: reflected, T bit set. */
    in_len = sctp_frame(in, 0xcafe0001, 0);
    assert_int_equal(
        ctrl_packet_build(ACTION_SCTP_ABORT, in, in_len, out, sizeof out, &out_len, NULL),
        0);
    assert_sctp_abort(out, out_len, 0xcafe0001, 1);

    /* reject { } on SCTP: the same ABORT, back to the sender. */
    assert_int_equal(
        ctrl_packet_build(ACTION_REJECT, in, in_len, out, sizeof out, &out_len, NULL), 0);
    assert_sctp_abort(out, out_len, 0xcafe0001, 1);
    assert_memory_equal(out, vm_mac, 6);
    assert_memory_equal(out + 6, gw_mac, 6);
    assert_int_equal(out[14 + 15], 20); /* ip4.src = the old destination */
    assert_int_equal(out[14 + 19], 11);

    /* Never an ABORT to an ABORT; no chunk at all; an INIT cut short. */
    struct ovnic_err err = {0};
    in_len = sctp_frame(in, 7, 6);
    assert_int_equal(
        ctrl_packet_build(ACTION_REJECT, in, in_len, out, sizeof out, &out_len, &err),
        -EINVAL);
    assert_non_null(strstr(err.message, "ABORT"));
    in_len = sctp_frame(in, 7, 0);
    in[14 + 3] = 20 + 12; /* IP total length: the common header only. */
    in[14 + 10] = in[14 + 11] = 0;
    in_len = 14 + 20 + 12;
    assert_int_not_equal(
        ctrl_packet_build(ACTION_SCTP_ABORT, in, in_len, out, sizeof out, &out_len, NULL),
        0);
    in_len = sctp_frame(in, 0, 1);
    in[14 + 3] = 20 + 12 + 6;
    in[14 + 10] = in[14 + 11] = 0;
    in_len = 14 + 20 + 12 + 6;
    assert_int_equal(
        ctrl_packet_build(ACTION_SCTP_ABORT, in, in_len, out, sizeof out, &out_len, &err),
        -EINVAL);
}

/* reject { } on UDP: ICMP port unreachable, back to the sender. */
static void
test_ctrl_reject_udp(void **state OVNIC_UNUSED)
{
    uint8_t in[100], out[700];
    size_t out_len;
    size_t n = eth(in, gw_mac, vm_mac, 0x0800);
    ip4(in + n, 20 + 8 + 4, 17, 0x0a00000b, 0x0a000014);
    uint8_t *u = in + n + 20;
    memset(u, 0, 12);
    u[1] = 99;
    u[3] = 53;
    u[5] = 12;
    size_t in_len = n + 32;
    assert_int_equal(
        ctrl_packet_build(ACTION_REJECT, in, in_len, out, sizeof out, &out_len, NULL), 0);
    assert_memory_equal(out, vm_mac, 6);
    assert_int_equal(out[14 + 9], 1);
    assert_int_equal(out[14 + 20], 3); /* destination unreachable, */
    assert_int_equal(out[14 + 21], 3); /* port unreachable. */
    assert_int_equal(out[14 + 15], 20);
    assert_ip4_checksums(out + 14);
    /* icmp4 { } itself keeps code 1. */
    assert_int_equal(
        ctrl_packet_build(ACTION_ICMP4, in, in_len, out, sizeof out, &out_len, NULL), 0);
    assert_int_equal(out[14 + 21], 1);
}

static void
test_ctrl_apply_errors(void **state)
{
    uint8_t in[100];
    size_t in_len = tcp_frame(in, 0x02);
    struct exec_result r;
    struct ovnic_err err = {0};

    exec_result_init(&r, NULL);
    r.n_changes = 1;
    r.changes[0] = (struct exec_change){.field = PKEY_F_ARP_SPA, .value = 1, .mask = ~0u};
    assert_int_equal(ctrl_packet_apply(in, in_len, &r, 0, &err), -EINVAL);
    r.changes[0] =
        (struct exec_change){.field = PKEY_F_VLAN_TCI, .value = 5, .mask = 0xfff};
    assert_int_equal(ctrl_packet_apply(in, in_len, &r, 0, NULL), -EOPNOTSUPP);
    r.changes[0] =
        (struct exec_change){.field = PKEY_F_IP_DSCP, .value = 0x2e, .mask = 0x3f};
    assert_int_equal(ctrl_packet_apply(in, in_len, &r, 0, NULL), 0);
    assert_int_equal(in[14 + 1], 0x2e << 2);
    assert_ip4_checksums(in + 14);
    assert_int_equal(ctrl_packet_apply(in, 10, &r, 0, NULL), -EINVAL);
    (void)state;
}

static void
test_ctrl_mac_binding(void **state)
{
    struct action_list *list = parse("put_arp(inport, arp.spa, arp.sha); next;");
    struct exec_result r;
    struct pkey key;
    struct ctrl_mac_binding mb;

    pkey_init(&key);
    key.f.datapath = htonl(3);
    key.f.inport = htonl(4);
    key.f.eth_type = htons(0x0806);
    key.f.arp_spa = htonl(0x0a000009);
    memcpy(key.f.arp_sha, vm_mac, 6);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &params, list, &key, &r), 0);
    assert_int_equal(ctrl_mac_binding_get(&r.ctrl[0], &mb), 0);
    assert_int_equal(mb.datapath, 3);
    assert_int_equal(mb.port, 4);
    assert_false(mb.ipv6);
    assert_true(mb.ip == 0x0a000009);
    assert_memory_equal(mb.mac, vm_mac, 6);
    r.ctrl[0].type = ACTION_PUT_FDB;
    assert_int_equal(ctrl_mac_binding_get(&r.ctrl[0], &mb), -EINVAL);
    action_list_destroy(list);

    list = parse("put_nd(inport, nd.target, nd.tll);");
    pkey_init(&key);
    key.f.eth_type = htons(0x86dd);
    key.f.ip_proto = 58;
    key.f.nd_target[15] = 9;
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &params, list, &key, &r), 0);
    assert_int_equal(ctrl_mac_binding_get(&r.ctrl[0], &mb), 0);
    assert_true(mb.ipv6);
    assert_true(mb.ip == 9);
    action_list_destroy(list);
    (void)state;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctrl_dhcp_offer),
        cmocka_unit_test(test_ctrl_dhcp_request),
        cmocka_unit_test(test_ctrl_icmp4_error_frag_needed),
        cmocka_unit_test(test_ctrl_icmp4_quote_limits),
        cmocka_unit_test(test_ctrl_icmp6_error_too_big),
        cmocka_unit_test(test_ctrl_arp_request),
        cmocka_unit_test(test_ctrl_nd),
        cmocka_unit_test(test_ctrl_tcp_reset),
        cmocka_unit_test(test_ctrl_sctp_abort),
        cmocka_unit_test(test_ctrl_reject_udp),
        cmocka_unit_test(test_ctrl_apply_errors),
        cmocka_unit_test(test_ctrl_mac_binding),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
