/* Unit tests of Geneve encapsulation and the MTU policy (dpu/vswitch/tunnel.h): the
 * encapsulated frame is taken apart again by packet_parse(), and every checksum is
 * verified independently. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dpu/pipeline/key.h"
#include "dpu/pipeline/packet.h"
#include "dpu/vswitch/tunnel.h"

/* ---- Independent checksums. ---- */

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

static uint16_t
rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
rd32(const uint8_t *p)
{
    return (uint32_t)rd16(p) << 16 | rd16(p + 2);
}

static void
wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void
assert_ip4_hdr_csum(const uint8_t *l3)
{
    size_t ihl = (size_t)(l3[0] & 0xf) * 4;
    assert_int_equal(fold(sum16(l3, ihl, 0)), 0xffff);
}

/* The UDP (17) or ICMPv6 (58) checksum of the L4 segment after the IP header 'l3'. */
static void
assert_l4_csum(const uint8_t *l3, bool ipv6, uint8_t proto)
{
    uint32_t sum;
    const uint8_t *l4;
    size_t l4_len;
    if (ipv6) {
        l4_len = rd16(l3 + 4);
        l4 = l3 + 40;
        sum = sum16(l3 + 8, 32, 0) + proto + (uint32_t)l4_len;
    } else {
        size_t ihl = (size_t)(l3[0] & 0xf) * 4;
        l4_len = rd16(l3 + 2) - ihl;
        l4 = l3 + ihl;
        sum = proto == 1 ? 0 : sum16(l3 + 12, 8, 0) + proto + (uint32_t)l4_len;
    }
    assert_int_equal(fold(sum16(l4, l4_len, sum)), 0xffff);
}

/* ---- Frames. ---- */

static const uint8_t vm1_mac[6] = {0x0a, 0, 0, 0, 0, 0x0b};
static const uint8_t vm2_mac[6] = {0x0a, 0, 0, 0, 0, 0x0c};

static size_t
eth(uint8_t *p, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
    memcpy(p, dst, 6);
    memcpy(p + 6, src, 6);
    wr16(p + 12, type);
    return 14;
}

/* IPv4 header with 'opt_len' bytes of options 'opts', 'payload' bytes after it,
 * fragment field 'frag'. */
static size_t
ip4(uint8_t *p, const uint8_t *opts, size_t opt_len, size_t payload, uint8_t proto,
    uint16_t frag)
{
    size_t ihl = 20 + opt_len;
    memset(p, 0, 20);
    p[0] = (uint8_t)(0x40 | ihl / 4);
    wr16(p + 2, (uint16_t)(ihl + payload));
    wr16(p + 4, 0x1234);
    wr16(p + 6, frag);
    p[8] = 64;
    p[9] = proto;
    static const uint8_t src[4] = {10, 0, 0, 11}, dst[4] = {10, 0, 0, 12};
    memcpy(p + 12, src, 4);
    memcpy(p + 16, dst, 4);
    if (opt_len) {
        memcpy(p + 20, opts, opt_len);
    }
    wr16(p + 10, (uint16_t)~fold(sum16(p, ihl, 0)));
    return ihl;
}

/* Ethernet + IPv4 + UDP 40000 -> 5000 with 'payload' patterned bytes. */
static size_t
udp4_frame(uint8_t *p, size_t payload, uint16_t frag, const uint8_t *opts, size_t opt_len)
{
    size_t n = eth(p, vm2_mac, vm1_mac, 0x0800);
    uint8_t *l3 = p + n;
    n += ip4(l3, opts, opt_len, 8 + payload, 17, frag);
    uint8_t *u = p + n;
    wr16(u, 40000);
    wr16(u + 2, 5000);
    wr16(u + 4, (uint16_t)(8 + payload));
    wr16(u + 6, 0);
    for (size_t i = 0; i < payload; i++) {
        u[8 + i] = (uint8_t)(i * 7 + 3);
    }
    return n + 8 + payload;
}

/* Ethernet + IPv4 + ICMP type/code with 'payload' bytes. */
static size_t
icmp4_frame(uint8_t *p, uint8_t type, uint8_t code, size_t payload)
{
    size_t n = eth(p, vm2_mac, vm1_mac, 0x0800);
    n += ip4(p + n, NULL, 0, 8 + payload, 1, 0x4000);
    uint8_t *l4 = p + n;
    memset(l4, 0, 8 + payload);
    l4[0] = type;
    l4[1] = code;
    wr16(l4 + 2, (uint16_t)~fold(sum16(l4, 8 + payload, 0)));
    return n + 8 + payload;
}

static const uint8_t v6_src[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b};
static const uint8_t v6_dst[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0c};

/* Ethernet + IPv6 + next header 'nh' with an 'l4_len'-byte L4 part whose first byte is
 * 'type' (checksummed as ICMPv6 if nh is 58, as UDP if 17). */
static size_t
ip6_frame(uint8_t *p, uint8_t nh, uint8_t type, size_t l4_len)
{
    size_t n = eth(p, vm2_mac, vm1_mac, 0x86dd);
    uint8_t *l3 = p + n;
    memset(l3, 0, 40);
    l3[0] = 0x60;
    wr16(l3 + 4, (uint16_t)l4_len);
    l3[6] = nh;
    l3[7] = 64;
    memcpy(l3 + 8, v6_src, 16);
    memcpy(l3 + 24, v6_dst, 16);
    uint8_t *l4 = l3 + 40;
    for (size_t i = 0; i < l4_len; i++) {
        l4[i] = (uint8_t)(i * 13 + 1);
    }
    if (nh == 17) {
        wr16(l4, 40000);
        wr16(l4 + 2, 5000);
        wr16(l4 + 4, (uint16_t)l4_len);
        wr16(l4 + 6, 0);
        uint32_t sum = sum16(l3 + 8, 32, 0) + 17 + (uint32_t)l4_len;
        wr16(l4 + 6, (uint16_t)~fold(sum16(l4, l4_len, sum)));
    } else if (nh == 58) {
        l4[0] = type;
        l4[1] = 0;
        wr16(l4 + 2, 0);
        uint32_t sum = sum16(l3 + 8, 32, 0) + 58 + (uint32_t)l4_len;
        wr16(l4 + 2, (uint16_t)~fold(sum16(l4, l4_len, sum)));
    }
    return n + 40 + l4_len;
}

static void
params_init(struct tunnel_params *tp, bool ipv6)
{
    memset(tp, 0, sizeof *tp);
    tp->ipv6 = ipv6;
    bool v6;
    assert_int_equal(
        tunnel_ip_parse(ipv6 ? "fd00::11" : "192.168.100.11", tp->src_ip, &v6), 0);
    assert_int_equal(v6, ipv6);
    assert_int_equal(
        tunnel_ip_parse(ipv6 ? "fd00::12" : "192.168.100.12", tp->dst_ip, &v6), 0);
    static const uint8_t smac[6] = {0x0c, 0x42, 0xa1, 0, 0, 0x11};
    static const uint8_t dmac[6] = {0x0c, 0x42, 0xa1, 0, 0, 0x12};
    memcpy(tp->src_mac, smac, 6);
    memcpy(tp->dst_mac, dmac, 6);
    tp->vni = 0xabcdef;
    tp->ovn_inport = 0x7ffe;
    tp->ovn_outport = 0x8001;
    tp->flow_hash = 0x12345678;
}

/* Encapsulates 'inner' with 'tp' into 'frame' (>= len + TUNNEL_HDR_MAX) and returns
 * the frame's length. */
static size_t
encap(const struct tunnel_params *tp, const uint8_t *inner, size_t len, uint8_t *frame)
{
    size_t hlen = 0;
    assert_int_equal(tunnel_encap_header(tp, inner, len, frame, TUNNEL_HDR_MAX, &hlen),
                     0);
    assert_int_equal(hlen, tp->ipv6 ? TUNNEL_HDR_LEN_IP6 : TUNNEL_HDR_LEN_IP4);
    memcpy(frame + hlen, inner, len);
    return hlen + len;
}

/* ---- Encapsulation. ---- */

static void
check_round_trip(bool ipv6, bool udp_csum)
{
    uint8_t inner[1200], frame[1200 + TUNNEL_HDR_MAX];
    size_t len = udp4_frame(inner, 1000, 0, NULL, 0);
    struct tunnel_params tp;
    params_init(&tp, ipv6);
    tp.udp_csum = udp_csum;
    size_t n = encap(&tp, inner, len, frame);

    struct pkey key;
    struct packet_layout lay;
    enum packet_drop_reason reason;
    assert_int_equal(
        packet_parse(frame, n, PACKET_PARSE_TUNNEL, &key, &lay, &reason, NULL), 0);
    const struct pkey_fields *f = &key.f;
    assert_int_equal(f->tun_flags, PKEY_TUN_PRESENT | PKEY_TUN_OVN_OPT);
    assert_int_equal(ntohl(f->tun_id), 0xabcdef);
    assert_int_equal(ntohs(f->tun_ovn_inport), 0x7ffe);
    assert_int_equal(ntohs(f->tun_ovn_outport), 0x8001);
    if (ipv6) {
        assert_memory_equal(f->tun_ip6_src, tp.src_ip, 16);
        assert_memory_equal(f->tun_ip6_dst, tp.dst_ip, 16);
    } else {
        assert_memory_equal(&f->tun_ip4_src, tp.src_ip, 4);
        assert_memory_equal(&f->tun_ip4_dst, tp.dst_ip, 4);
    }
    /* The inner frame fills the rest of the key. */
    assert_memory_equal(f->eth_src, vm1_mac, 6);
    assert_int_equal(ntohs(f->udp_dst), 5000);

    size_t ofs = 0;
    assert_int_equal(tunnel_decap_offset(&lay, &ofs), 0);
    assert_int_equal(ofs, n - len);
    assert_memory_equal(frame + ofs, inner, len);

    /* Outer Ethernet. */
    assert_memory_equal(frame, tp.dst_mac, 6);
    assert_memory_equal(frame + 6, tp.src_mac, 6);
    assert_int_equal(rd16(frame + 12), ipv6 ? 0x86dd : 0x0800);

    const uint8_t *l3 = frame + 14;
    const uint8_t *udp = l3 + (ipv6 ? 40 : 20);
    if (ipv6) {
        assert_int_equal(l3[0] >> 4, 6);
        assert_int_equal(rd32(l3) & 0xfffff, 0x12345678 & 0xfffff); /* Flow label. */
        assert_int_equal(rd16(l3 + 4), n - 14 - 40);
        assert_int_equal(l3[6], 17);
        assert_int_equal(l3[7], 64);
        assert_int_not_equal(rd16(udp + 6), 0);
        assert_l4_csum(l3, true, 17);
    } else {
        assert_int_equal(l3[0], 0x45);
        assert_int_equal(rd16(l3 + 2), n - 14);
        assert_int_equal(rd16(l3 + 6), 0x4000); /* DF, offset 0. */
        assert_int_equal(l3[8], 64);
        assert_int_equal(l3[9], 17);
        assert_ip4_hdr_csum(l3);
        if (udp_csum) {
            assert_int_not_equal(rd16(udp + 6), 0);
            assert_l4_csum(l3, false, 17);
        } else {
            assert_int_equal(rd16(udp + 6), 0);
        }
    }

    /* UDP and Geneve, byte by byte. */
    uint16_t sport = rd16(udp);
    assert_true(sport >= 49152);
    assert_int_equal(sport, tunnel_src_port(tp.flow_hash));
    assert_int_equal(rd16(udp + 2), 6081);
    assert_int_equal(rd16(udp + 4), n - (size_t)(udp - frame));
    static const uint8_t geneve[16] = {0x02, 0x00, 0x65, 0x58, 0xab, 0xcd, 0xef, 0x00,
                                       0x01, 0x02, 0x80, 0x01, 0x7f, 0xfe, 0x80, 0x01};
    assert_memory_equal(udp + 8, geneve, 16);
}

static void
test_encap_ip4(void **state)
{
    (void)state;
    check_round_trip(false, false);
    check_round_trip(false, true);
}

static void
test_encap_ip6(void **state)
{
    (void)state;
    check_round_trip(true, false);
}

static void
test_encap_ttl_and_odd_length(void **state)
{
    (void)state;
    /* An odd inner length exercises the checksum's last byte. */
    uint8_t inner[200], frame[200 + TUNNEL_HDR_MAX];
    size_t len = udp4_frame(inner, 33, 0, NULL, 0);
    assert_true(len & 1);
    for (int v6 = 0; v6 < 2; v6++) {
        struct tunnel_params tp;
        params_init(&tp, v6);
        tp.ttl = 7;
        tp.udp_csum = true;
        size_t n = encap(&tp, inner, len, frame);
        const uint8_t *l3 = frame + 14;
        assert_int_equal(l3[v6 ? 7 : 8], 7);
        assert_l4_csum(l3, v6, 17);
        struct pkey key;
        assert_int_equal(
            packet_parse(frame, n, PACKET_PARSE_TUNNEL, &key, NULL, NULL, NULL), 0);
        assert_int_equal(key.f.tun_flags, PKEY_TUN_PRESENT | PKEY_TUN_OVN_OPT);
    }
}

static void
test_src_port(void **state)
{
    (void)state;
    uint8_t inner[100], frame[100 + TUNNEL_HDR_MAX];
    size_t len = udp4_frame(inner, 20, 0, NULL, 0);
    static bool seen[65536];
    size_t distinct = 0;
    memset(seen, 0, sizeof seen);
    for (uint32_t i = 0; i < 2000; i++) {
        struct tunnel_params tp;
        params_init(&tp, false);
        tp.flow_hash = i * 2654435761u;
        encap(&tp, inner, len, frame);
        uint16_t port = rd16(frame + 14 + 20);
        assert_true(port >= 49152);
        if (!seen[port]) {
            seen[port] = true;
            distinct++;
        }
    }
    assert_true(distinct > 1500);
    /* Hashes differing only in the high half give different ports too. */
    assert_int_not_equal(tunnel_src_port(0x00010000), tunnel_src_port(0x00020000));
    assert_int_equal(tunnel_src_port(0xffffffff) >> 14, 3);
}

static void
test_encap_errors(void **state)
{
    (void)state;
    uint8_t inner[100], hdr[TUNNEL_HDR_MAX];
    size_t len = udp4_frame(inner, 20, 0, NULL, 0);
    size_t hlen = 12345;
    struct tunnel_params tp;

    params_init(&tp, false);
    tp.vni = 0x1000000;
    assert_int_equal(tunnel_encap_header(&tp, inner, len, hdr, sizeof hdr, &hlen),
                     -EINVAL);
    params_init(&tp, false);
    tp.ovn_inport = 0x8000;
    assert_int_equal(tunnel_encap_header(&tp, inner, len, hdr, sizeof hdr, &hlen),
                     -EINVAL);
    params_init(&tp, false);
    assert_int_equal(tunnel_encap_header(&tp, inner, 13, hdr, sizeof hdr, &hlen),
                     -EINVAL);
    assert_int_equal(tunnel_encap_header(NULL, inner, len, hdr, sizeof hdr, &hlen),
                     -EINVAL);
    assert_int_equal(tunnel_encap_header(&tp, NULL, len, hdr, sizeof hdr, &hlen),
                     -EINVAL);
    memset(tp.dst_ip, 0, 16);
    assert_int_equal(tunnel_encap_header(&tp, inner, len, hdr, sizeof hdr, &hlen),
                     -EINVAL);
    params_init(&tp, true);
    memset(tp.src_ip, 0, 16);
    assert_int_equal(tunnel_encap_header(&tp, inner, len, hdr, sizeof hdr, &hlen),
                     -EINVAL);

    params_init(&tp, false);
    assert_int_equal(
        tunnel_encap_header(&tp, inner, len, hdr, TUNNEL_HDR_LEN_IP4 - 1, &hlen),
        -ENOSPC);
    params_init(&tp, true);
    assert_int_equal(
        tunnel_encap_header(&tp, inner, len, hdr, TUNNEL_HDR_LEN_IP6 - 1, &hlen),
        -ENOSPC);
    assert_int_equal(hlen, 12345);

    /* 65535 bytes of IP at most: outer IPv4 allows 65535 - 44 bytes of inner frame,
     * outer IPv6 65535 - 24. */
    uint8_t *big = calloc(1, 65536);
    assert_non_null(big);
    memcpy(big, inner, 14);
    params_init(&tp, false);
    assert_int_equal(tunnel_encap_header(&tp, big, 65535 - 44, hdr, sizeof hdr, &hlen),
                     0);
    assert_int_equal(tunnel_encap_header(&tp, big, 65535 - 43, hdr, sizeof hdr, &hlen),
                     -EMSGSIZE);
    params_init(&tp, true);
    assert_int_equal(tunnel_encap_header(&tp, big, 65535 - 24, hdr, sizeof hdr, &hlen),
                     0);
    assert_int_equal(tunnel_encap_header(&tp, big, 65535 - 23, hdr, sizeof hdr, &hlen),
                     -EMSGSIZE);
    free(big);
}

static void
test_ip_parse_and_decap_offset(void **state)
{
    (void)state;
    uint8_t ip[16];
    bool v6 = true;
    memset(ip, 0xaa, sizeof ip);
    assert_int_equal(tunnel_ip_parse("192.168.100.11", ip, &v6), 0);
    assert_false(v6);
    static const uint8_t want[16] = {192, 168, 100, 11};
    assert_memory_equal(ip, want, 16);
    assert_int_equal(tunnel_ip_parse("fd00::1", ip, &v6), 0);
    assert_true(v6);
    assert_int_equal(ip[0], 0xfd);
    assert_int_equal(ip[15], 1);
    assert_int_equal(tunnel_ip_parse("192.168.100.256", ip, &v6), -EINVAL);
    assert_int_equal(tunnel_ip_parse("", ip, &v6), -EINVAL);
    assert_int_equal(tunnel_ip_parse(NULL, ip, &v6), -EINVAL);
    assert_int_equal(ip[15], 1); /* Untouched on failure. */

    /* A plain frame has no tunnel layout. */
    uint8_t inner[100];
    size_t len = udp4_frame(inner, 20, 0, NULL, 0), ofs = 77;
    struct pkey key;
    struct packet_layout lay;
    assert_int_equal(
        packet_parse(inner, len, PACKET_PARSE_TUNNEL, &key, &lay, NULL, NULL), 0);
    assert_int_equal(tunnel_decap_offset(&lay, &ofs), -EINVAL);
    assert_int_equal(tunnel_decap_offset(NULL, &ofs), -EINVAL);
    assert_int_equal(ofs, 77);
}

static void
test_fits(void **state)
{
    (void)state;
    assert_int_equal(tunnel_overhead(false), 44);
    assert_int_equal(tunnel_overhead(true), 64);
    /* 1500-byte underlay: 1456 bytes of inner frame (1442 of IP) over IPv4. */
    assert_true(tunnel_fits(1456, false, 1500));
    assert_false(tunnel_fits(1457, false, 1500));
    assert_true(tunnel_fits(1436, true, 1500));
    assert_false(tunnel_fits(1437, true, 1500));
    assert_false(tunnel_fits(14, false, 40));
}

/* ---- Fragmentation. ---- */

struct frag_check {
    size_t n;
    uint8_t payload[70000]; /* Reassembled IP payload. */
    size_t payload_len;
};

/* Checks fragments [out, lens[0..n)) against the original 'l3' (its payload) and
 * reassembles them. */
static void
check_fragments(const uint8_t *orig, size_t orig_len, const uint8_t *out,
                const size_t *lens, size_t n, unsigned int mtu, uint16_t base_off,
                bool base_mf, size_t first_ihl, size_t later_ihl)
{
    const uint8_t *ol3 = orig + 14;
    size_t oihl = (size_t)(ol3[0] & 0xf) * 4;
    size_t odata = rd16(ol3 + 2) - oihl;
    (void)orig_len;
    static uint8_t re[70000];
    size_t expect_off = base_off;
    const uint8_t *p = out;

    for (size_t i = 0; i < n; i++) {
        const uint8_t *l3 = p + 14;
        assert_memory_equal(p, orig, 14);
        size_t ihl = (size_t)(l3[0] & 0xf) * 4;
        size_t total = rd16(l3 + 2);
        assert_int_equal(lens[i], 14 + total);
        assert_true(total <= mtu);
        assert_int_equal(ihl, i ? later_ihl : first_ihl);
        assert_ip4_hdr_csum(l3);
        assert_memory_equal(l3 + 4, ol3 + 4, 2);   /* Identification. */
        assert_memory_equal(l3 + 8, ol3 + 8, 2);   /* TTL, protocol. */
        assert_memory_equal(l3 + 12, ol3 + 12, 8); /* Addresses. */
        uint16_t fo = rd16(l3 + 6);
        assert_int_equal((fo & 0x1fff) * 8, expect_off);
        bool last = i == n - 1;
        assert_int_equal(!!(fo & 0x2000), last ? base_mf : true);
        assert_int_equal(fo & 0x4000, 0);
        size_t chunk = total - ihl;
        if (!last) {
            assert_int_equal(chunk % 8, 0);
        }
        memcpy(re + (expect_off - base_off), l3 + ihl, chunk);
        expect_off += chunk;

        if (expect_off - chunk) {
            /* A later fragment parses as one.  (A first fragment's UDP header
             * announces the whole datagram, which the parser does not accept.) */
            struct pkey key;
            assert_int_equal(packet_parse(p, lens[i], 0, &key, NULL, NULL, NULL), 0);
            assert_int_equal(key.f.ip_frag, PKEY_FRAG_ANY | PKEY_FRAG_LATER);
        }
        p += lens[i];
    }
    assert_int_equal(expect_off - base_off, odata);
    assert_memory_equal(re, ol3 + oihl, odata);
}

static void
test_fragment(void **state)
{
    (void)state;
    static uint8_t pkt[4000], out[8000];
    size_t lens[16];
    size_t len = udp4_frame(pkt, 3000, 0, NULL, 0);

    int n = tunnel_ip4_fragment(pkt, len, 1400, out, sizeof out, lens, 16);
    assert_int_equal(n, 3); /* 3008 bytes of UDP in 1376 + 1376 + 256. */
    check_fragments(pkt, len, out, lens, (size_t)n, 1400, 0, false, 20, 20);
    assert_int_equal(lens[0], 14 + 20 + 1376);
    assert_int_equal(lens[2], 14 + 20 + 256);

    /* An MTU not a multiple of 8 rounds the data down. */
    n = tunnel_ip4_fragment(pkt, len, 1403, out, sizeof out, lens, 16);
    assert_int_equal(n, 3);
    check_fragments(pkt, len, out, lens, (size_t)n, 1403, 0, false, 20, 20);

    /* Ethernet padding is not payload: a frame that fits comes out as one. */
    uint8_t small[80];
    size_t slen = udp4_frame(small, 10, 0, NULL, 0);
    memset(small + slen, 0xee, sizeof small - slen);
    n = tunnel_ip4_fragment(small, sizeof small, 1500, out, sizeof out, lens, 16);
    assert_int_equal(n, 1);
    assert_int_equal(lens[0], slen);
    assert_memory_equal(out, small, slen);
}

static void
test_fragment_options_and_refragment(void **state)
{
    (void)state;
    static uint8_t pkt[4000], out[8000];
    size_t lens[16];

    /* Router alert (copied), NOP, record route (not copied), end of list. */
    static const uint8_t opts[16] = {0x94, 4, 0, 0, 0x01, 0x07, 7, 4,
                                     0,    0, 0, 0, 0x00, 0x00, 0, 0};
    size_t len = udp4_frame(pkt, 2000, 0, opts, sizeof opts);
    int n = tunnel_ip4_fragment(pkt, len, 1000, out, sizeof out, lens, 16);
    assert_true(n >= 3);
    check_fragments(pkt, len, out, lens, (size_t)n, 1000, 0, false, 36, 24);
    /* Later fragments carry only the router alert, padded. */
    const uint8_t *l3b = out + lens[0] + 14;
    static const uint8_t later_opts[4] = {0x94, 4, 0, 0};
    assert_memory_equal(l3b + 20, later_opts, 4);
    assert_memory_equal(out + 14 + 20, opts, sizeof opts);

    /* A fragment of a fragment: offset 185 * 8, MF set, keeps both. */
    len = udp4_frame(pkt, 1992, 0x2000 | 185, NULL, 0);
    n = tunnel_ip4_fragment(pkt, len, 600, out, sizeof out, lens, 16);
    assert_int_equal(n, 4);
    check_fragments(pkt, len, out, lens, (size_t)n, 600, 185 * 8, true, 20, 20);

    /* The last fragment of a datagram, refragmented: the last piece has MF clear. */
    len = udp4_frame(pkt, 1992, 185, NULL, 0);
    n = tunnel_ip4_fragment(pkt, len, 600, out, sizeof out, lens, 16);
    assert_int_equal(n, 4);
    check_fragments(pkt, len, out, lens, (size_t)n, 600, 185 * 8, false, 20, 20);
}

static void
test_fragment_errors(void **state)
{
    (void)state;
    static uint8_t pkt[4000], out[8000];
    size_t lens[16] = {0};
    size_t len = udp4_frame(pkt, 3000, 0x4000, NULL, 0);

    /* DF set. */
    assert_int_equal(tunnel_ip4_fragment(pkt, len, 1400, out, sizeof out, lens, 16),
                     -EINVAL);
    /* Not IPv4. */
    uint8_t v6[200];
    size_t v6len = ip6_frame(v6, 17, 0, 100);
    assert_int_equal(tunnel_ip4_fragment(v6, v6len, 100, out, sizeof out, lens, 16),
                     -EINVAL);
    /* Malformed: total length beyond the frame. */
    len = udp4_frame(pkt, 3000, 0, NULL, 0);
    assert_int_equal(tunnel_ip4_fragment(pkt, 1000, 400, out, sizeof out, lens, 16),
                     -EINVAL);
    /* MTU below a header and 8 bytes. */
    assert_int_equal(tunnel_ip4_fragment(pkt, len, 27, out, sizeof out, lens, 16),
                     -EINVAL);
    /* Too many fragments, too little room. */
    assert_int_equal(tunnel_ip4_fragment(pkt, len, 1400, out, sizeof out, lens, 2),
                     -ENOSPC);
    assert_int_equal(tunnel_ip4_fragment(pkt, len, 1400, out, 3000, lens, 16), -ENOSPC);
    assert_int_equal(lens[0], 0); /* Nothing written. */
    /* Malformed options: a length running past the header. */
    static const uint8_t bad_opts[4] = {0x94, 8, 0, 0};
    len = udp4_frame(pkt, 3000, 0, bad_opts, sizeof bad_opts);
    assert_int_equal(tunnel_ip4_fragment(pkt, len, 1400, out, sizeof out, lens, 16),
                     -EINVAL);
    /* The smallest MTU that works: 8 bytes per fragment. */
    len = udp4_frame(pkt, 24, 0, NULL, 0);
    assert_int_equal(tunnel_ip4_fragment(pkt, len, 28, out, sizeof out, lens, 16), 4);
    check_fragments(pkt, len, out, lens, 4, 28, 0, false, 20, 20);
}

/* ---- Too big. ---- */

static const uint8_t router4[16] = {10, 0, 0, 1};
static const uint8_t router6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

static void
test_too_big_ip4(void **state)
{
    (void)state;
    static uint8_t pkt[2000], out[2000];
    size_t len = udp4_frame(pkt, 1472, 0x4000, NULL, 0); /* 1500 bytes of IP, DF. */
    size_t n = 0;

    for (int outer6 = 0; outer6 < 2; outer6++) {
        assert_false(tunnel_fits(len, outer6, 1500));
        assert_int_equal(
            tunnel_too_big_build(pkt, len, 1500, outer6, router4, out, sizeof out, &n),
            0);
        assert_int_equal(n, 14 + 576);
        assert_memory_equal(out, vm1_mac, 6);
        assert_memory_equal(out + 6, vm2_mac, 6);
        assert_int_equal(rd16(out + 12), 0x0800);
        const uint8_t *l3 = out + 14;
        assert_int_equal(rd16(l3 + 2), 576);
        assert_int_equal(l3[9], 1);
        assert_memory_equal(l3 + 12, router4, 4);
        assert_memory_equal(l3 + 16, pkt + 14 + 12, 4); /* To the inner source. */
        assert_ip4_hdr_csum(l3);
        const uint8_t *icmp = l3 + 20;
        assert_int_equal(icmp[0], 3);
        assert_int_equal(icmp[1], 4);
        unsigned int mtu = rd16(icmp + 6);
        assert_int_equal(mtu, outer6 ? 1500 - 78 : 1500 - 58);
        /* A packet of that size fits; one byte more does not. */
        assert_true(tunnel_fits(14 + mtu, outer6, 1500));
        assert_false(tunnel_fits(14 + mtu + 1, outer6, 1500));
        assert_l4_csum(l3, false, 1);
        assert_memory_equal(icmp + 8, pkt + 14, 576 - 28); /* The quote. */
        struct pkey key;
        assert_int_equal(packet_parse(out, n, 0, &key, NULL, NULL, NULL), 0);
        assert_int_equal(key.f.icmp4_type, 3);
    }

    /* A short packet is quoted whole. */
    len = udp4_frame(pkt, 100, 0x4000, NULL, 0);
    assert_int_equal(
        tunnel_too_big_build(pkt, len, 100, false, router4, out, sizeof out, &n), 0);
    assert_int_equal(n, 14 + 20 + 8 + 128);
    assert_memory_equal(out + 14 + 28, pkt + 14, 128);
    assert_int_equal(rd16(out + 14 + 20 + 6), 100 - 58);

    /* An echo request gets one; ICMP errors never do. */
    len = icmp4_frame(pkt, 8, 0, 1500);
    assert_int_equal(
        tunnel_too_big_build(pkt, len, 1500, false, router4, out, sizeof out, &n), 0);
    static const uint8_t errors[] = {3, 4, 5, 11, 12};
    for (size_t i = 0; i < sizeof errors; i++) {
        len = icmp4_frame(pkt, errors[i], 0, 1500);
        n = 99;
        assert_int_equal(
            tunnel_too_big_build(pkt, len, 1500, false, router4, out, sizeof out, &n),
            -EINVAL);
        assert_int_equal(n, 99);
    }
    /* Nor do later fragments, or a broadcast or multicast source. */
    len = udp4_frame(pkt, 1472, 100, NULL, 0);
    assert_int_equal(
        tunnel_too_big_build(pkt, len, 1500, false, router4, out, sizeof out, &n),
        -EINVAL);
    len = udp4_frame(pkt, 1472, 0x4000, NULL, 0);
    static const uint8_t bcast[4] = {255, 255, 255, 255}, mcast[4] = {224, 0, 0, 5};
    memcpy(pkt + 14 + 12, bcast, 4);
    assert_int_equal(
        tunnel_too_big_build(pkt, len, 1500, false, router4, out, sizeof out, &n),
        -EINVAL);
    memcpy(pkt + 14 + 12, mcast, 4);
    assert_int_equal(
        tunnel_too_big_build(pkt, len, 1500, false, router4, out, sizeof out, &n),
        -EINVAL);
    /* No room; an MTU below the overhead; not IP. */
    len = udp4_frame(pkt, 1472, 0x4000, NULL, 0);
    assert_int_equal(tunnel_too_big_build(pkt, len, 1500, false, router4, out, 100, &n),
                     -ENOSPC);
    assert_int_equal(
        tunnel_too_big_build(pkt, len, 58, false, router4, out, sizeof out, &n), -EINVAL);
    uint8_t arp[60] = {0};
    eth(arp, vm2_mac, vm1_mac, 0x0806);
    assert_int_equal(
        tunnel_too_big_build(arp, sizeof arp, 1500, false, router4, out, sizeof out, &n),
        -EINVAL);
    assert_int_equal(
        tunnel_too_big_build(pkt, 30, 1500, false, router4, out, sizeof out, &n),
        -EINVAL);
}

static void
test_too_big_ip6(void **state)
{
    (void)state;
    static uint8_t pkt[2000], out[2000];
    size_t len = ip6_frame(pkt, 17, 0, 1460); /* 1500 bytes of IPv6. */
    size_t n = 0;

    for (int outer6 = 0; outer6 < 2; outer6++) {
        assert_int_equal(
            tunnel_too_big_build(pkt, len, 1500, outer6, router6, out, sizeof out, &n),
            0);
        assert_int_equal(n, 14 + 1280);
        assert_memory_equal(out, vm1_mac, 6);
        assert_memory_equal(out + 6, vm2_mac, 6);
        assert_int_equal(rd16(out + 12), 0x86dd);
        const uint8_t *l3 = out + 14;
        assert_int_equal(rd16(l3 + 4), 1240);
        assert_int_equal(l3[6], 58);
        assert_int_equal(l3[7], 255);
        assert_memory_equal(l3 + 8, router6, 16);
        assert_memory_equal(l3 + 24, v6_src, 16);
        const uint8_t *icmp = l3 + 40;
        assert_int_equal(icmp[0], 2);
        assert_int_equal(icmp[1], 0);
        assert_int_equal(rd32(icmp + 4), outer6 ? 1500 - 78 : 1500 - 58);
        assert_l4_csum(l3, true, 58);
        assert_memory_equal(icmp + 8, pkt + 14, 1232); /* The quote. */
    }

    /* Echo requests get one, ICMPv6 errors (types below 128) never. */
    len = ip6_frame(pkt, 58, 128, 1460);
    assert_int_equal(
        tunnel_too_big_build(pkt, len, 1500, true, router6, out, sizeof out, &n), 0);
    static const uint8_t errors[] = {1, 2, 3, 4};
    for (size_t i = 0; i < sizeof errors; i++) {
        len = ip6_frame(pkt, 58, errors[i], 1460);
        assert_int_equal(
            tunnel_too_big_build(pkt, len, 1500, true, router6, out, sizeof out, &n),
            -EINVAL);
    }
    /* Nor a multicast or unspecified source. */
    len = ip6_frame(pkt, 17, 0, 1460);
    pkt[14 + 8] = 0xff;
    assert_int_equal(
        tunnel_too_big_build(pkt, len, 1500, true, router6, out, sizeof out, &n),
        -EINVAL);
    memset(pkt + 14 + 8, 0, 16);
    assert_int_equal(
        tunnel_too_big_build(pkt, len, 1500, true, router6, out, sizeof out, &n),
        -EINVAL);
    len = ip6_frame(pkt, 17, 0, 1460);
    assert_int_equal(tunnel_too_big_build(pkt, len, 1500, true, router6, out, 1000, &n),
                     -ENOSPC);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encap_ip4),
        cmocka_unit_test(test_encap_ip6),
        cmocka_unit_test(test_encap_ttl_and_odd_length),
        cmocka_unit_test(test_src_port),
        cmocka_unit_test(test_encap_errors),
        cmocka_unit_test(test_ip_parse_and_decap_offset),
        cmocka_unit_test(test_fits),
        cmocka_unit_test(test_fragment),
        cmocka_unit_test(test_fragment_options_and_refragment),
        cmocka_unit_test(test_fragment_errors),
        cmocka_unit_test(test_too_big_ip4),
        cmocka_unit_test(test_too_big_ip6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
