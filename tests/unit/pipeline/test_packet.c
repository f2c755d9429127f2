/* Unit tests for the packet parser: well-formed frames of every kind give the expected
 * key; every truncation and every lying length field gives a counted drop reason; no
 * read ever leaves the frame (each parse runs on an exact-size heap copy under ASan). */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dpu/pipeline/key.h"
#include "dpu/pipeline/packet.h"

/* ----- Frame builder. ----- */

struct frame {
    uint8_t b[1024];
    size_t n;
};

static const uint8_t MAC_A[6] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t MAC_B[6] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x02};
static const uint8_t IP6_A[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11};
static const uint8_t IP6_B[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x22};

static void
put(struct frame *f, const void *p, size_t n)
{
    assert_true(f->n + n <= sizeof f->b);
    if (n) {
        memcpy(f->b + f->n, p, n);
    }
    f->n += n;
}

static void
put8(struct frame *f, uint8_t v)
{
    put(f, &v, 1);
}

static void
put16(struct frame *f, uint16_t v)
{
    uint8_t b[2] = {v >> 8, v & 0xff};
    put(f, b, 2);
}

static void
put32(struct frame *f, uint32_t v)
{
    uint8_t b[4] = {v >> 24, v >> 16, v >> 8, v};
    put(f, b, 4);
}

static void
set16(struct frame *f, size_t ofs, uint16_t v)
{
    f->b[ofs] = v >> 8;
    f->b[ofs + 1] = v & 0xff;
}

static void
eth(struct frame *f, int vlan, uint16_t type)
{
    put(f, MAC_B, 6);
    put(f, MAC_A, 6);
    if (vlan >= 0) {
        put16(f, 0x8100);
        put16(f, (uint16_t)vlan);
    }
    put16(f, type);
}

/* IPv4 header with 'opt_words' 4-byte option words; the total length is fixed by
 * finish_ip4() once the payload is in. */
static size_t
ip4(struct frame *f, uint8_t proto, uint16_t frag, int opt_words)
{
    size_t l3 = f->n;
    put8(f, 0x40 | (5 + opt_words));
    put8(f, 0xb9); /* DSCP 46, ECN 1. */
    put16(f, 0);
    put16(f, 0x1234);
    put16(f, frag);
    put8(f, 64);
    put8(f, proto);
    put16(f, 0);
    put32(f, 0x0a000001);
    put32(f, 0x0a000002);
    for (int i = 0; i < opt_words; i++) {
        put32(f, 0x01010101); /* NOPs. */
    }
    return l3;
}

static void
finish_ip4(struct frame *f, size_t l3)
{
    set16(f, l3 + 2, (uint16_t)(f->n - l3));
}

static size_t
ip6(struct frame *f, uint8_t nh)
{
    size_t l3 = f->n;
    put32(f, 0x6b912345); /* TC 0xb9, label 0x12345. */
    put16(f, 0);
    put8(f, nh);
    put8(f, 255);
    put(f, IP6_A, 16);
    put(f, IP6_B, 16);
    return l3;
}

static void
finish_ip6(struct frame *f, size_t l3)
{
    set16(f, l3 + 4, (uint16_t)(f->n - l3 - 40));
}

/* Generic 8-byte extension header (HBH, routing, destination options). */
static void
ext8(struct frame *f, uint8_t next)
{
    put8(f, next);
    put8(f, 0);
    put16(f, 0x0104); /* PadN. */
    put32(f, 0);
}

static void
tcp(struct frame *f, int opt_words)
{
    put16(f, 12345);
    put16(f, 80);
    put32(f, 1);
    put32(f, 0);
    put16(f, (uint16_t)(((5 + opt_words) << 12) | 0x012)); /* SYN|ACK. */
    put16(f, 1000);
    put32(f, 0);
    for (int i = 0; i < opt_words; i++) {
        put32(f, 0x01010101);
    }
    put(f, "data", 4);
}

static size_t
udp(struct frame *f, uint16_t dport)
{
    size_t l4 = f->n;
    put16(f, 5353);
    put16(f, dport);
    put16(f, 0);
    put16(f, 0);
    return l4;
}

static void
finish_udp(struct frame *f, size_t l4)
{
    set16(f, l4 + 4, (uint16_t)(f->n - l4));
}

/* ----- Parse helpers. ----- */

static int
parse(const uint8_t *data, size_t n, unsigned int flags, struct pkey *key,
      enum packet_drop_reason *reason)
{
    uint8_t *copy = malloc(n ? n : 1); /* Exact size: ASan sees any overrun. */
    assert_non_null(copy);
    memcpy(copy, data, n);
    struct packet_layout lo;
    int rc = packet_parse(copy, n, flags, key, &lo, reason, NULL);
    if (!rc) {
        assert_true(lo.l2 <= n);
        assert_true(lo.l3 == PACKET_OFS_NONE || lo.l3 <= n);
        assert_true(lo.l4 == PACKET_OFS_NONE || lo.l4 <= n);
        assert_true(lo.l7 == PACKET_OFS_NONE || lo.l7 <= n);
    }
    free(copy);
    return rc;
}

static void
expect_ok(const struct frame *f, unsigned int flags, struct pkey *key)
{
    enum packet_drop_reason reason;
    int rc = parse(f->b, f->n, flags, key, &reason);
    if (rc) {
        fail_msg("unexpected drop: %s", packet_drop_reason_name(reason));
    }
}

static void
expect_drop(const struct frame *f, unsigned int flags, enum packet_drop_reason expected)
{
    struct pkey key;
    enum packet_drop_reason reason;
    int rc = parse(f->b, f->n, flags, &key, &reason);
    if (rc != -EINVAL || reason != expected) {
        fail_msg("expected drop %s, got rc %d reason %s",
                 packet_drop_reason_name(expected), rc, packet_drop_reason_name(reason));
    }
}

#define EXPECT_FIELD(KEY, ID, VALUE) \
    assert_true(pkey_field_get(KEY, ID) == (lex_u128)(VALUE))

static void
expect_format(const struct pkey *key, const char *expected)
{
    char buf[1024];
    pkey_format(key, NULL, buf, sizeof buf);
    if (strcmp(buf, expected)) {
        fail_msg("expected: %s\nactual:   %s", expected, buf);
    }
}

/* ----- Well-formed frames. ----- */

static void
build_tcp4(struct frame *f, int vlan, int ip_opts, int tcp_opts)
{
    memset(f, 0, sizeof *f);
    eth(f, vlan, 0x0800);
    size_t l3 = ip4(f, 6, 0x4000, ip_opts);
    tcp(f, tcp_opts);
    finish_ip4(f, l3);
}

static void
test_packet_tcp4(void **state)
{
    struct frame f;
    struct pkey key;

    build_tcp4(&f, -1, 0, 0);
    expect_ok(&f, 0, &key);
    expect_format(&key, "eth.dst=00:00:00:00:00:02 eth.src=00:00:00:00:00:01 "
                        "eth.type=0x800 ip4.src=10.0.0.1 ip4.dst=10.0.0.2 ip.proto=0x6 "
                        "ip.dscp=0x2e ip.ecn=0x1 ip.ttl=0x40 tcp.src=0x3039 tcp.dst=0x50 "
                        "tcp.flags=0x12");

    /* With options, and a VLAN tag (priority 5, VID 100), and Ethernet padding. */
    build_tcp4(&f, 0xa064, 3, 2);
    put(&f, "\0\0\0\0\0\0", 6);
    expect_ok(&f, 0, &key);
    EXPECT_FIELD(&key, PKEY_F_VLAN_TCI, 0xa064 | PKEY_VLAN_PRESENT);
    EXPECT_FIELD(&key, PKEY_F_ETH_TYPE, 0x800);
    EXPECT_FIELD(&key, PKEY_F_TCP_DST, 80);
    EXPECT_FIELD(&key, PKEY_F_IP_FRAG, 0);
    (void)state;
}

static void
test_packet_ipv4_fragments(void **state)
{
    struct frame f;
    struct pkey key;

    /* First fragment: MF set, offset 0: L4 parsed. */
    memset(&f, 0, sizeof f);
    eth(&f, -1, 0x0800);
    size_t l3 = ip4(&f, 17, 0x2000, 0);
    size_t l4 = udp(&f, 53);
    put(&f, "xxxxxxxx", 8);
    finish_udp(&f, l4);
    finish_ip4(&f, l3);
    expect_ok(&f, 0, &key);
    EXPECT_FIELD(&key, PKEY_F_IP_FRAG, PKEY_FRAG_ANY);
    EXPECT_FIELD(&key, PKEY_F_UDP_DST, 53);

    /* First fragment of a datagram longer than the fragment: the UDP length covers
     * the whole datagram, which is not an error. */
    set16(&f, l4 + 4, 1400);
    expect_ok(&f, 0, &key);
    EXPECT_FIELD(&key, PKEY_F_UDP_DST, 53);
    set16(&f, l4 + 4, 7); /* Shorter than its header: still malformed. */
    expect_drop(&f, 0, PACKET_DROP_BAD_UDP_LENGTH);
    set16(&f, l4 + 4, 16);

    /* Later fragment: L4 not looked at, even if it is garbage. */
    set16(&f, l3 + 6, 0x0010);
    set16(&f, l4 + 4, 3); /* Would be a bad UDP length. */
    expect_ok(&f, 0, &key);
    EXPECT_FIELD(&key, PKEY_F_IP_FRAG, PKEY_FRAG_ANY | PKEY_FRAG_LATER);
    EXPECT_FIELD(&key, PKEY_F_IP_PROTO, 17);
    EXPECT_FIELD(&key, PKEY_F_UDP_DST, 0);
    (void)state;
}

static void
build_icmp4(struct frame *f)
{
    memset(f, 0, sizeof *f);
    eth(f, -1, 0x0800);
    size_t l3 = ip4(f, 1, 0, 0);
    put8(f, 8);
    put8(f, 0);
    put16(f, 0);
    put32(f, 0x00010001);
    finish_ip4(f, l3);
}

static void
build_sctp4(struct frame *f)
{
    memset(f, 0, sizeof *f);
    eth(f, -1, 0x0800);
    size_t l3 = ip4(f, 132, 0, 0);
    put16(f, 1000);
    put16(f, 2000);
    put32(f, 0xdeadbeef);
    put32(f, 0);
    finish_ip4(f, l3);
}

static void
build_arp(struct frame *f, uint16_t type)
{
    memset(f, 0, sizeof *f);
    eth(f, -1, type);
    put16(f, 1);
    put16(f, 0x0800);
    put8(f, 6);
    put8(f, 4);
    put16(f, 1);
    put(f, MAC_A, 6);
    put32(f, 0x0a000001);
    put(f, "\0\0\0\0\0\0", 6);
    put32(f, 0x0a000002);
}

static void
test_packet_icmp4_sctp_arp(void **state)
{
    struct frame f;
    struct pkey key;

    build_icmp4(&f);
    expect_ok(&f, 0, &key);
    EXPECT_FIELD(&key, PKEY_F_ICMP4_TYPE, 8);
    EXPECT_FIELD(&key, PKEY_F_ICMP4_CODE, 0);
    EXPECT_FIELD(&key, PKEY_F_IP_PROTO, 1);

    build_sctp4(&f);
    expect_ok(&f, 0, &key);
    EXPECT_FIELD(&key, PKEY_F_SCTP_SRC, 1000);
    EXPECT_FIELD(&key, PKEY_F_SCTP_DST, 2000);

    build_arp(&f, 0x0806);
    expect_ok(&f, 0, &key);
    expect_format(&key, "eth.dst=00:00:00:00:00:02 eth.src=00:00:00:00:00:01 "
                        "eth.type=0x806 arp.op=0x1 arp.spa=10.0.0.1 arp.tpa=10.0.0.2 "
                        "arp.sha=00:00:00:00:00:01");
    build_arp(&f, 0x8035);
    expect_ok(&f, 0, &key);
    EXPECT_FIELD(&key, PKEY_F_ETH_TYPE, 0x8035);
    EXPECT_FIELD(&key, PKEY_F_ARP_TPA, 0x0a000002);

    /* ARP for another hardware type: not parsed further, not an error. */
    build_arp(&f, 0x0806);
    set16(&f, 14, 6);
    expect_ok(&f, 0, &key);
    EXPECT_FIELD(&key, PKEY_F_ARP_OP, 0);

    /* 802.3 length frame, unknown EtherType, and a frame with nothing after L2. */
    memset(&f, 0, sizeof f);
    eth(&f, -1, 46);
    put(&f, "llc", 3);
    expect_ok(&f, 0, &key);
    EXPECT_FIELD(&key, PKEY_F_ETH_TYPE, PKEY_ETH_TYPE_NONE);
    memset(&f, 0, sizeof f);
    eth(&f, -1, 0x88cc);
    expect_ok(&f, 0, &key);
    EXPECT_FIELD(&key, PKEY_F_ETH_TYPE, 0x88cc);
    (void)state;
}

static void
build_udp6_ext(struct frame *f, int n_ext, bool frag)
{
    memset(f, 0, sizeof *f);
    eth(f, -1, 0x86dd);
    size_t l3 = ip6(f, n_ext ? 0 : (frag ? 44 : 17));
    for (int i = 0; i < n_ext; i++) {
        uint8_t next = i + 1 < n_ext ? 60 : (frag ? 44 : 17);
        ext8(f, next);
    }
    if (frag) {
        put8(f, 17);
        put8(f, 0);
        put16(f, 0x0001); /* Offset 0, M set. */
        put32(f, 0x12345678);
    }
    size_t l4 = udp(f, 547);
    put(f, "payload!", 8);
    finish_udp(f, l4);
    finish_ip6(f, l3);
}

static void
test_packet_ipv6(void **state)
{
    struct frame f;
    struct pkey key;

    build_udp6_ext(&f, 0, false);
    expect_ok(&f, 0, &key);
    expect_format(&key, "eth.dst=00:00:00:00:00:02 eth.src=00:00:00:00:00:01 "
                        "eth.type=0x86dd ip6.src=fd00::11 ip6.dst=fd00::22 "
                        "ip6.label=0x12345 ip.proto=0x11 ip.dscp=0x2e ip.ecn=0x1 "
                        "ip.ttl=0xff udp.src=0x14e9 udp.dst=0x223");

    /* Hop-by-hop, destination options and a first fragment. */
    build_udp6_ext(&f, 3, true);
    expect_ok(&f, 0, &key);
    EXPECT_FIELD(&key, PKEY_F_IP_PROTO, 17);
    EXPECT_FIELD(&key, PKEY_F_IP_FRAG, PKEY_FRAG_ANY);
    EXPECT_FIELD(&key, PKEY_F_UDP_DST, 547);

    /* Later fragment. */
    size_t frag_ofs = 14 + 40 + 3 * 8;
    set16(&f, frag_ofs + 2, 0x0100);
    expect_ok(&f, 0, &key);
    EXPECT_FIELD(&key, PKEY_F_IP_FRAG, PKEY_FRAG_ANY | PKEY_FRAG_LATER);
    EXPECT_FIELD(&key, PKEY_F_IP_PROTO, 17);
    EXPECT_FIELD(&key, PKEY_F_UDP_DST, 0);

    /* Routing header and AH. */
    memset(&f, 0, sizeof f);
    eth(&f, -1, 0x86dd);
    size_t l3 = ip6(&f, 43);
    ext8(&f, 51);
    put8(&f, 6); /* AH: next TCP, length (3 + 2) * 4 = 20. */
    put8(&f, 3);
    put16(&f, 0);
    put32(&f, 1);
    put32(&f, 2);
    put32(&f, 3);
    put32(&f, 4);
    tcp(&f, 0);
    finish_ip6(&f, l3);
    expect_ok(&f, 0, &key);
    EXPECT_FIELD(&key, PKEY_F_IP_PROTO, 6);
    EXPECT_FIELD(&key, PKEY_F_TCP_DST, 80);
    (void)state;
}

static void
build_nd(struct frame *f, uint8_t type, const uint8_t *opts, size_t optlen)
{
    memset(f, 0, sizeof *f);
    eth(f, -1, 0x86dd);
    size_t l3 = ip6(f, 58);
    put8(f, type);
    put8(f, 0);
    put16(f, 0);
    put32(f, type == 136 ? 0x60000000 : 0);
    put(f, IP6_B, 16);
    if (optlen) {
        put(f, opts, optlen);
    }
    finish_ip6(f, l3);
}

static const uint8_t OPT_SLL[8] = {1, 1, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
static const uint8_t OPT_TLL[8] = {2, 1, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};
static const uint8_t OPT_NONCE[8] = {14, 1, 1, 2, 3, 4, 5, 6};

static void
test_packet_icmp6_nd(void **state)
{
    struct frame f;
    struct pkey key;

    uint8_t opts[16];
    memcpy(opts, OPT_NONCE, 8);
    memcpy(opts + 8, OPT_SLL, 8);
    build_nd(&f, 135, opts, 16);
    expect_ok(&f, 0, &key);
    EXPECT_FIELD(&key, PKEY_F_ICMP6_TYPE, 135);
    EXPECT_FIELD(&key, PKEY_F_ND_SLL, 0x0a0b0c0d0e0fULL);
    EXPECT_FIELD(&key, PKEY_F_ND_TLL, 0);
    assert_memory_equal(key.f.nd_target, IP6_B, 16);

    build_nd(&f, 136, OPT_TLL, 8);
    expect_ok(&f, 0, &key);
    EXPECT_FIELD(&key, PKEY_F_ND_TLL, 0x1a1b1c1d1e1fULL);
    EXPECT_FIELD(&key, PKEY_F_ND_SLL, 0);

    /* An NA carrying an SLL option: ignored.  An NS with no options. */
    build_nd(&f, 136, OPT_SLL, 8);
    expect_ok(&f, 0, &key);
    EXPECT_FIELD(&key, PKEY_F_ND_SLL, 0);
    build_nd(&f, 135, NULL, 0);
    expect_ok(&f, 0, &key);
    EXPECT_FIELD(&key, PKEY_F_ND_SLL, 0);

    /* Echo request: no ND fields. */
    memset(&f, 0, sizeof f);
    eth(&f, -1, 0x86dd);
    size_t l3 = ip6(&f, 58);
    put32(&f, 0x80000000);
    finish_ip6(&f, l3);
    expect_ok(&f, 0, &key);
    EXPECT_FIELD(&key, PKEY_F_ICMP6_TYPE, 128);
    (void)state;
}

/* Geneve frame around 'inner' with the given options area. */
static void
build_geneve(struct frame *f, const struct frame *inner, const uint8_t *opts,
             size_t optlen)
{
    memset(f, 0, sizeof *f);
    eth(f, -1, 0x0800);
    size_t l3 = ip4(f, 17, 0x4000, 0);
    f->b[l3 + 12] = 192; /* Outer addresses 192.168.0.1 -> 192.168.0.2. */
    f->b[l3 + 13] = 168;
    f->b[l3 + 14] = 0;
    f->b[l3 + 15] = 1;
    f->b[l3 + 16] = 192;
    f->b[l3 + 17] = 168;
    f->b[l3 + 18] = 0;
    f->b[l3 + 19] = 2;
    size_t l4 = udp(f, 6081);
    put8(f, (uint8_t)(optlen / 4));
    put8(f, 0);
    put16(f, 0x6558);
    put32(f, 0x00abcd00); /* VNI 0xabcd. */
    put(f, opts, optlen);
    put(f, inner->b, inner->n);
    finish_udp(f, l4);
    finish_ip4(f, l3);
}

/* Another option, then OVN's: ingress 0x7abc (15 bits), egress 0x8001. */
static const uint8_t GENEVE_OPTS[] = {0x01, 0x03, 0x01, 0x01, 1,    2,    3,    4,
                                      0x01, 0x02, 0x80, 0x01, 0x7a, 0xbc, 0x80, 0x01};

static void
test_packet_geneve(void **state)
{
    struct frame inner, f;
    struct pkey key;

    build_tcp4(&inner, -1, 0, 0);
    build_geneve(&f, &inner, GENEVE_OPTS, sizeof GENEVE_OPTS);

    /* Decapsulated. */
    expect_ok(&f, PACKET_PARSE_TUNNEL, &key);
    EXPECT_FIELD(&key, PKEY_F_TUN_FLAGS, PKEY_TUN_PRESENT | PKEY_TUN_OVN_OPT);
    EXPECT_FIELD(&key, PKEY_F_TUN_ID, 0xabcd);
    EXPECT_FIELD(&key, PKEY_F_TUN_IP4_SRC, 0xc0a80001);
    EXPECT_FIELD(&key, PKEY_F_TUN_IP4_DST, 0xc0a80002);
    EXPECT_FIELD(&key, PKEY_F_TUN_OVN_INPORT, 0x7abc);
    EXPECT_FIELD(&key, PKEY_F_TUN_OVN_OUTPORT, 0x8001);
    EXPECT_FIELD(&key, PKEY_F_IP4_SRC, 0x0a000001);
    EXPECT_FIELD(&key, PKEY_F_TCP_DST, 80);
    EXPECT_FIELD(&key, PKEY_F_UDP_DST, 0);

    /* Not decapsulated without the flag: plain UDP. */
    expect_ok(&f, 0, &key);
    EXPECT_FIELD(&key, PKEY_F_TUN_FLAGS, 0);
    EXPECT_FIELD(&key, PKEY_F_UDP_DST, 6081);
    EXPECT_FIELD(&key, PKEY_F_IP4_SRC, 0xc0a80001);

    /* No options at all; inner Geneve is not decapsulated again. */
    struct frame inner2;
    build_geneve(&inner2, &inner, NULL, 0);
    build_geneve(&f, &inner2, NULL, 0);
    expect_ok(&f, PACKET_PARSE_TUNNEL, &key);
    EXPECT_FIELD(&key, PKEY_F_TUN_FLAGS, PKEY_TUN_PRESENT);
    EXPECT_FIELD(&key, PKEY_F_UDP_DST, 6081);
    EXPECT_FIELD(&key, PKEY_F_TCP_DST, 0);

    /* IPv6 underlay. */
    memset(&f, 0, sizeof f);
    eth(&f, -1, 0x86dd);
    size_t l3 = ip6(&f, 17);
    size_t l4 = udp(&f, 6081);
    put32(&f, 0x00006558);
    put32(&f, 0x00000500);
    put(&f, inner.b, inner.n);
    finish_udp(&f, l4);
    finish_ip6(&f, l3);
    expect_ok(&f, PACKET_PARSE_TUNNEL, &key);
    EXPECT_FIELD(&key, PKEY_F_TUN_ID, 5);
    assert_memory_equal(key.f.tun_ip6_src, IP6_A, 16);
    EXPECT_FIELD(&key, PKEY_F_IP6_SRC, 0);
    EXPECT_FIELD(&key, PKEY_F_ETH_TYPE, 0x800);
    (void)state;
}

/* ----- Every truncation of every kind of frame. ----- */

static void
all_frames(struct frame *frames, size_t *n, unsigned int *flags)
{
    size_t i = 0;
    struct frame inner;
    const uint8_t ns_opts[16] = {1, 1, 1, 2, 3, 4, 5, 6, 14, 1, 0, 0, 0, 0, 0, 0};

    build_tcp4(&frames[i], 7, 2, 3);
    flags[i++] = 0;
    build_icmp4(&frames[i]);
    flags[i++] = 0;
    build_sctp4(&frames[i]);
    flags[i++] = 0;
    build_arp(&frames[i], 0x0806);
    flags[i++] = 0;
    build_udp6_ext(&frames[i], 2, true);
    flags[i++] = 0;
    build_nd(&frames[i], 135, ns_opts, sizeof ns_opts);
    flags[i++] = 0;
    build_tcp4(&inner, 5, 1, 1);
    build_geneve(&frames[i], &inner, GENEVE_OPTS, sizeof GENEVE_OPTS);
    flags[i++] = PACKET_PARSE_TUNNEL;
    *n = i;
}

/* Sets the IP and UDP lengths of 'f', cut to 'n' bytes, to agree with the cut: then
 * the truncation shows in the innermost header instead of the IP length. */
static void
fix_lengths(struct frame *f, size_t n, unsigned int flags)
{
    struct pkey key;
    struct packet_layout lo;
    assert_int_equal(packet_parse(f->b, f->n, flags, &key, &lo, NULL, NULL), 0);
    uint32_t l3s[2] = {lo.outer_l3, lo.l3};
    uint32_t l4s[2] = {lo.outer_l4, lo.l4};
    for (int i = 0; i < 2; i++) {
        uint32_t l3 = l3s[i], l4 = l4s[i];
        if (l3 == PACKET_OFS_NONE || n < l3 + 20) {
            continue;
        }
        if (f->b[l3] >> 4 == 4) {
            set16(f, l3 + 2, (uint16_t)(n - l3));
        } else if (f->b[l3] >> 4 == 6 && n >= l3 + 40) {
            set16(f, l3 + 4, (uint16_t)(n - l3 - 40));
        }
        if (l4 != PACKET_OFS_NONE && n >= l4 + 8 && (i == 0 || key.f.udp_dst)) {
            set16(f, l4 + 4, (uint16_t)(n - l4));
        }
    }
}

static void
test_packet_truncation(void **state)
{
    struct frame frames[16];
    unsigned int flags[16];
    size_t n_frames;
    struct packet_drop_stats stats = {0};

    all_frames(frames, &n_frames, flags);
    for (size_t i = 0; i < n_frames; i++) {
        const struct frame *full = &frames[i];
        for (size_t n = 0; n < full->n; n++) {
            struct pkey key;
            enum packet_drop_reason reason;

            /* Raw cut: every length field now lies. */
            int rc = parse(full->b, n, flags[i], &key, &reason);
            if (!rc) {
                /* Only frames cut exactly after a complete header parse; none of ours
                 * ends early (IP lengths cover everything). */
                fail_msg("frame %zu cut at %zu parsed", i, n);
            }
            if (n < 14) {
                assert_int_equal(reason, PACKET_DROP_TRUNCATED_ETH);
            }
            stats.drops[reason]++;

            /* Consistent cut: lengths rewritten to the cut. */
            struct frame cut = *full;
            fix_lengths(&cut, n, flags[i]);
            rc = parse(cut.b, n, flags[i], &key, &reason);
            if (rc) {
                stats.drops[reason]++;
            } else {
                stats.n_parsed++;
            }
        }
    }
    /* Every kind of header got cut somewhere. */
    static const enum packet_drop_reason seen[] = {
        PACKET_DROP_TRUNCATED_ETH,     PACKET_DROP_TRUNCATED_VLAN,
        PACKET_DROP_TRUNCATED_ARP,     PACKET_DROP_TRUNCATED_IPV4,
        PACKET_DROP_TRUNCATED_IPV6,    PACKET_DROP_TRUNCATED_IPV6_EXT,
        PACKET_DROP_TRUNCATED_TCP,     PACKET_DROP_BAD_TCP_OFFSET,
        PACKET_DROP_TRUNCATED_UDP,     PACKET_DROP_TRUNCATED_SCTP,
        PACKET_DROP_TRUNCATED_ICMP4,   PACKET_DROP_TRUNCATED_ND,
        PACKET_DROP_BAD_ND_OPTION,     PACKET_DROP_TRUNCATED_GENEVE,
        PACKET_DROP_BAD_GENEVE_OPTLEN, PACKET_DROP_BAD_IPV6_EXT_LEN,
        PACKET_DROP_BAD_IHL,
    };
    for (size_t i = 0; i < sizeof seen / sizeof *seen; i++) {
        if (!stats.drops[seen[i]]) {
            fail_msg("no truncation gave %s", packet_drop_reason_name(seen[i]));
        }
    }
    (void)state;
}

/* ----- Length fields that lie. ----- */

static void
test_packet_lying_lengths(void **state)
{
    struct frame f, orig;

    /* IPv4: IHL too small and too large; total length too small and too large. */
    build_tcp4(&orig, -1, 1, 0);
    size_t l3 = 14;
    for (int ihl = 0; ihl < 5; ihl++) {
        f = orig;
        f.b[l3] = 0x40 | ihl;
        expect_drop(&f, 0, PACKET_DROP_BAD_IHL);
    }
    f = orig;
    f.b[l3] = 0x4f;
    set16(&f, l3 + 2, 40);
    expect_drop(&f, 0, PACKET_DROP_BAD_IHL);
    f = orig;
    set16(&f, l3 + 2, 19);
    expect_drop(&f, 0, PACKET_DROP_BAD_IPV4_LENGTH);
    f = orig;
    set16(&f, l3 + 2, (uint16_t)(f.n - l3 + 1));
    expect_drop(&f, 0, PACKET_DROP_TRUNCATED_IPV4);
    f = orig;
    set16(&f, l3 + 2, 24 + 10); /* Valid, but cuts the TCP header. */
    expect_drop(&f, 0, PACKET_DROP_TRUNCATED_TCP);
    f = orig;
    f.b[l3] = 0x60 | 5;
    expect_drop(&f, 0, PACKET_DROP_BAD_IP_VERSION);

    /* TCP data offset too small and too large. */
    size_t l4 = l3 + 24;
    f = orig;
    f.b[l4 + 12] = 0x40;
    expect_drop(&f, 0, PACKET_DROP_BAD_TCP_OFFSET);
    f = orig;
    f.b[l4 + 12] = 0xf0;
    expect_drop(&f, 0, PACKET_DROP_BAD_TCP_OFFSET);

    /* UDP length too small and too large. */
    build_udp6_ext(&orig, 0, false);
    l4 = 14 + 40;
    f = orig;
    set16(&f, l4 + 4, 7);
    expect_drop(&f, 0, PACKET_DROP_BAD_UDP_LENGTH);
    f = orig;
    set16(&f, l4 + 4, (uint16_t)(f.n - l4 + 1));
    expect_drop(&f, 0, PACKET_DROP_BAD_UDP_LENGTH);

    /* IPv6 payload length too large, too small (cuts UDP), wrong version. */
    f = orig;
    set16(&f, 14 + 4, (uint16_t)(f.n - 14 - 40 + 1));
    expect_drop(&f, 0, PACKET_DROP_TRUNCATED_IPV6);
    f = orig;
    set16(&f, 14 + 4, 4);
    expect_drop(&f, 0, PACKET_DROP_TRUNCATED_UDP);
    f = orig;
    f.b[14] = 0x45;
    expect_drop(&f, 0, PACKET_DROP_BAD_IP_VERSION);

    /* Extension header length beyond the payload; hop-by-hop not first; a chain of
     * more extension headers than the walk allows. */
    build_udp6_ext(&orig, 2, false);
    f = orig;
    f.b[14 + 40 + 8 + 1] = 200;
    expect_drop(&f, 0, PACKET_DROP_BAD_IPV6_EXT_LEN);
    f = orig;
    f.b[14 + 40] = 0; /* The second header claims to be hop-by-hop. */
    expect_drop(&f, 0, PACKET_DROP_BAD_IPV6_HBH);
    build_udp6_ext(&f, PACKET_MAX_IPV6_EXT, false);
    struct pkey key;
    expect_ok(&f, 0, &key);
    build_udp6_ext(&f, PACKET_MAX_IPV6_EXT + 1, false);
    expect_drop(&f, 0, PACKET_DROP_IPV6_EXT_LOOP);
    /* Destination options pointing to themselves until the payload runs out. */
    memset(&f, 0, sizeof f);
    eth(&f, -1, 0x86dd);
    l3 = ip6(&f, 60);
    for (int i = 0; i < 4; i++) {
        ext8(&f, 60);
    }
    finish_ip6(&f, l3);
    expect_drop(&f, 0, PACKET_DROP_TRUNCATED_IPV6_EXT);

    /* ND option length 0 and beyond the message; two SLL options. */
    const uint8_t opts[16] = {1, 1, 1, 2, 3, 4, 5, 6, 1, 1, 1, 2, 3, 4, 5, 6};
    build_nd(&orig, 135, opts, sizeof opts);
    size_t opt = 14 + 40 + 24;
    f = orig;
    f.b[opt + 1] = 0;
    expect_drop(&f, 0, PACKET_DROP_BAD_ND_OPTION);
    f = orig;
    f.b[opt + 1] = 3;
    expect_drop(&f, 0, PACKET_DROP_BAD_ND_OPTION);
    f = orig;
    expect_drop(&f, 0, PACKET_DROP_BAD_ND_OPTION);

    /* Geneve: options length beyond the datagram, an option overrunning the options
     * area, OVN option of the wrong length or repeated, version, protocol. */
    struct frame inner;
    build_icmp4(&inner);
    build_geneve(&orig, &inner, GENEVE_OPTS, sizeof GENEVE_OPTS);
    size_t gen = 14 + 20 + 8;
    f = orig;
    f.b[gen] = 0x3f;
    expect_drop(&f, PACKET_PARSE_TUNNEL, PACKET_DROP_BAD_GENEVE_OPTLEN);
    f = orig;
    f.b[gen + 8 + 3] = 0x1f;
    expect_drop(&f, PACKET_PARSE_TUNNEL, PACKET_DROP_BAD_GENEVE_OPTION);
    f = orig;
    f.b[gen] = 3; /* Options area ends inside the OVN option. */
    expect_drop(&f, PACKET_PARSE_TUNNEL, PACKET_DROP_BAD_GENEVE_OPTION);
    f = orig;
    f.b[gen + 8 + 8 + 3] = 0; /* OVN option claiming no data... */
    expect_drop(&f, PACKET_PARSE_TUNNEL, PACKET_DROP_BAD_OVN_OPTION);
    const uint8_t two_ovn[] = {0x01, 0x02, 0x80, 0x01, 0, 1, 0, 2,
                               0x01, 0x02, 0x80, 0x01, 0, 3, 0, 4};
    build_geneve(&f, &inner, two_ovn, sizeof two_ovn);
    expect_drop(&f, PACKET_PARSE_TUNNEL, PACKET_DROP_BAD_OVN_OPTION);
    f = orig;
    f.b[gen] |= 0x40;
    expect_drop(&f, PACKET_PARSE_TUNNEL, PACKET_DROP_BAD_GENEVE_VERSION);
    f = orig;
    set16(&f, gen + 2, 0x0800);
    expect_drop(&f, PACKET_PARSE_TUNNEL, PACKET_DROP_BAD_GENEVE_PROTO);
    /* The same frames are plain UDP without decapsulation. */
    expect_ok(&f, 0, &key);
    (void)state;
}

static void
test_packet_stats_and_names(void **state)
{
    struct packet_drop_stats stats = {0};
    struct pkey key;
    enum packet_drop_reason reason;
    struct frame f;

    build_icmp4(&f);
    assert_int_equal(packet_parse(f.b, f.n, 0, &key, NULL, &reason, &stats), 0);
    assert_int_equal(reason, PACKET_DROP_NONE);
    assert_int_equal(packet_parse(f.b, 10, 0, &key, NULL, &reason, &stats), -EINVAL);
    assert_int_equal(packet_parse(NULL, 0, 0, &key, NULL, NULL, &stats), -EINVAL);
    assert_int_equal(packet_parse(f.b, PACKET_MAX_LEN + 1, 0, &key, NULL, &reason, NULL),
                     -EINVAL);
    assert_int_equal(reason, PACKET_DROP_TOO_LONG);
    assert_int_equal(stats.n_parsed, 1);
    assert_int_equal(stats.drops[PACKET_DROP_TRUNCATED_ETH], 2);

    for (int r = 0; r < PACKET_N_DROP_REASONS; r++) {
        const char *name = packet_drop_reason_name(r);
        assert_non_null(name);
        assert_string_not_equal(name, "unknown");
        for (int s = 0; s < r; s++) {
            assert_string_not_equal(name, packet_drop_reason_name(s));
        }
    }
    assert_string_equal(packet_drop_reason_name(PACKET_DROP_BAD_IHL), "bad-ihl");
    assert_string_equal(packet_drop_reason_name(PACKET_DROP_IPV6_EXT_LOOP),
                        "ipv6-ext-loop");
    assert_string_equal(packet_drop_reason_name(PACKET_N_DROP_REASONS), "unknown");
    (void)state;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packet_tcp4),
        cmocka_unit_test(test_packet_ipv4_fragments),
        cmocka_unit_test(test_packet_icmp4_sctp_arp),
        cmocka_unit_test(test_packet_ipv6),
        cmocka_unit_test(test_packet_icmp6_nd),
        cmocka_unit_test(test_packet_geneve),
        cmocka_unit_test(test_packet_truncation),
        cmocka_unit_test(test_packet_lying_lengths),
        cmocka_unit_test(test_packet_stats_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
