/* ovnic: packets and updates that controller actions describe. */
#include "dpu/pipeline/ctrl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/pipeline/packet.h"
#include "shared/util/log.h"
#include "shared/util/util.h"

OVNIC_LOG_MODULE(ctrl);

#define ETH_LEN 14
#define IP4_LEN 20
#define IP6_LEN 40
#define UDP_LEN 8
#define TCP_LEN 20
#define ICMP_LEN 8
#define ARP_LEN 28

#define ERR(ERR, CODE, MSG, ...) \
    ovnic_err_set(ERR, CODE, "controller action", MSG, __VA_ARGS__)

/* ---- Byte helpers. ---- */

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

static uint16_t
get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
    return ((uint32_t)get16(p) << 16) | get16(p + 2);
}

/* Big-endian integer of 'n' (<= 16) bytes. */
static lex_u128
getn(const uint8_t *p, size_t n)
{
    lex_u128 v = 0;
    for (size_t i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

static void
putn(uint8_t *p, size_t n, lex_u128 v)
{
    for (size_t i = n; i-- > 0;) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static uint32_t
csum_add(const void *p_, size_t n, uint32_t sum)
{
    const uint8_t *p = p_;
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += get16(p + i);
    }
    if (n & 1) {
        sum += (uint32_t)p[n - 1] << 8;
    }
    return sum;
}

uint16_t
ctrl_csum(const void *p, size_t n, uint32_t sum)
{
    sum = csum_add(p, n, sum);
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

/* Partial sum of the pseudo-header of an L4 segment of 'l4_len' bytes. */
static uint32_t
pseudo_sum(const uint8_t *l3, bool ipv6, uint8_t proto, size_t l4_len)
{
    uint32_t sum;
    if (ipv6) {
        sum = csum_add(l3 + 8, 32, 0);
        sum += (uint32_t)(l4_len >> 16) + (uint32_t)(l4_len & 0xffff);
    } else {
        sum = csum_add(l3 + 12, 8, 0);
        sum += (uint32_t)l4_len;
    }
    return sum + proto;
}

/* ---- Parsing the input. ---- */

struct frame {
    struct pkey key;
    struct packet_layout lay;
    bool ipv6, ipv4, arp;
};

static int
frame_parse(const uint8_t *pkt, size_t len, struct frame *f, struct ovnic_err *err)
{
    enum packet_drop_reason reason;
    if (packet_parse(pkt, len, 0, &f->key, &f->lay, &reason, NULL)) {
        return ERR(err, -EINVAL, "malformed packet", "%s",
                   packet_drop_reason_name(reason));
    }
    uint16_t type = ntohs(f->key.f.eth_type);
    f->ipv4 = type == 0x0800 && f->lay.l3 != PACKET_OFS_NONE;
    f->ipv6 = type == 0x86dd && f->lay.l3 != PACKET_OFS_NONE;
    f->arp = type == 0x0806 && f->lay.l3 != PACKET_OFS_NONE;
    return 0;
}

/* Copies the frame's L2 header (with its VLAN tag) and sets its EtherType.  Returns
 * its length. */
static size_t
copy_l2(const uint8_t *pkt, const struct frame *f, uint8_t *out, uint16_t eth_type)
{
    size_t l2_len = f->lay.l3 - f->lay.l2;
    memcpy(out, pkt + f->lay.l2, l2_len);
    put16(out + l2_len - 2, eth_type);
    return l2_len;
}

static void
ip4_header(uint8_t *p, size_t total, uint8_t proto, const uint8_t src[4],
           const uint8_t dst[4])
{
    memset(p, 0, IP4_LEN);
    p[0] = 0x45;
    put16(p + 2, (uint16_t)total);
    p[8] = 255;
    p[9] = proto;
    memcpy(p + 12, src, 4);
    memcpy(p + 16, dst, 4);
    put16(p + 10, ctrl_csum(p, IP4_LEN, 0));
}

static void
ip6_header(uint8_t *p, size_t payload, uint8_t next, const uint8_t src[16],
           const uint8_t dst[16])
{
    memset(p, 0, IP6_LEN);
    p[0] = 0x60;
    put16(p + 4, (uint16_t)payload);
    p[6] = next;
    p[7] = 255;
    memcpy(p + 8, src, 16);
    memcpy(p + 24, dst, 16);
}

/* ---- Packet builders. ---- */

static int
build_arp(const uint8_t *pkt, const struct frame *f, uint8_t *out, size_t size,
          size_t *out_len, struct ovnic_err *err)
{
    size_t l2 = f->lay.l3 - f->lay.l2;
    if (!f->ipv4) {
        return ERR(err, -EINVAL, "arp needs an IPv4 packet", NULL);
    }
    if (size < l2 + ARP_LEN) {
        return -ENOSPC;
    }
    copy_l2(pkt, f, out, 0x0806);
    memset(out, 0xff, 6);
    uint8_t *a = out + l2;
    put16(a, 1);
    put16(a + 2, 0x0800);
    a[4] = 6;
    a[5] = 4;
    put16(a + 6, 1);
    memcpy(a + 8, f->key.f.eth_src, 6);
    memcpy(a + 14, &f->key.f.ip4_src, 4);
    memset(a + 18, 0, 6);
    memcpy(a + 24, &f->key.f.ip4_dst, 4);
    *out_len = l2 + ARP_LEN;
    return 0;
}

static void
icmp6_finish(uint8_t *l3, size_t l4_len)
{
    uint8_t *l4 = l3 + IP6_LEN;
    put16(l4 + 2, 0);
    put16(l4 + 2, ctrl_csum(l4, l4_len, pseudo_sum(l3, true, 58, l4_len)));
}

static int
build_nd(enum action_type type, const uint8_t *pkt, const struct frame *f, uint8_t *out,
         size_t size, size_t *out_len, struct ovnic_err *err)
{
    size_t l2 = f->lay.l3 - f->lay.l2;
    size_t l4_len = 24 + 8;
    if (!f->ipv6) {
        return ERR(err, -EINVAL, "neighbour discovery needs an IPv6 packet", NULL);
    }
    if (size < l2 + IP6_LEN + l4_len) {
        return -ENOSPC;
    }
    copy_l2(pkt, f, out, 0x86dd);
    uint8_t *l3 = out + l2;
    uint8_t *l4 = l3 + IP6_LEN;
    memset(l4, 0, l4_len);
    if (type == ACTION_ND_NS) {
        /* Solicit the packet's destination from its solicited-node group. */
        const uint8_t *target = f->key.f.ip6_dst;
        uint8_t dst[16] = {0xff, 0x02, [11] = 0x01, [12] = 0xff};
        memcpy(dst + 13, target + 13, 3);
        static const uint8_t mc[3] = {0x33, 0x33, 0xff};
        memcpy(out, mc, 3);
        memcpy(out + 3, target + 13, 3);
        memcpy(out + 6, f->key.f.eth_src, 6);
        ip6_header(l3, l4_len, 58, f->key.f.ip6_src, dst);
        l4[0] = 135;
        memcpy(l4 + 8, target, 16);
        l4[24] = 1; /* Source link-layer address. */
        l4[25] = 1;
        memcpy(l4 + 26, f->key.f.eth_src, 6);
    } else {
        if (f->lay.l4 == PACKET_OFS_NONE || f->key.f.ip_proto != 58 ||
            f->key.f.icmp6_type != 135) {
            return ERR(err, -EINVAL, "nd_na needs a neighbour solicitation", NULL);
        }
        memcpy(out, f->key.f.eth_src, 6);
        memcpy(out + 6, f->key.f.eth_dst, 6);
        ip6_header(l3, l4_len, 58, f->key.f.nd_target, f->key.f.ip6_src);
        l4[0] = 136;
        l4[4] = type == ACTION_ND_NA_ROUTER ? 0xe0 : 0x60; /* [R]SO flags. */
        memcpy(l4 + 8, f->key.f.nd_target, 16);
        l4[24] = 2; /* Target link-layer address. */
        l4[25] = 1;
        memcpy(l4 + 26, f->key.f.eth_dst, 6);
    }
    icmp6_finish(l3, l4_len);
    *out_len = l2 + IP6_LEN + l4_len;
    return 0;
}

static int
build_icmp4(bool error, uint8_t code, const uint8_t *pkt, const struct frame *f,
            uint8_t *out, size_t size, size_t *out_len, struct ovnic_err *err)
{
    size_t l2 = f->lay.l3 - f->lay.l2;
    if (!f->ipv4) {
        return ERR(err, -EINVAL, "icmp4 needs an IPv4 packet", NULL);
    }
    /* The original header and 8 bytes; for icmp4_error as much as fits in 576. */
    size_t ihl = (size_t)(pkt[f->lay.l3] & 0x0f) * 4;
    size_t avail = f->lay.end - f->lay.l3;
    size_t quote = MIN(avail, ihl + 8);
    if (error) {
        quote = MIN(avail, (size_t)CTRL_ICMP4_ERROR_MAX - IP4_LEN - ICMP_LEN);
    }
    size_t total = IP4_LEN + ICMP_LEN + quote;
    if (size < l2 + total) {
        return -ENOSPC;
    }
    copy_l2(pkt, f, out, 0x0800);
    uint8_t *l3 = out + l2;
    ip4_header(l3, total, 1, (const uint8_t *)&f->key.f.ip4_src,
               (const uint8_t *)&f->key.f.ip4_dst);
    uint8_t *l4 = l3 + IP4_LEN;
    memset(l4, 0, ICMP_LEN);
    l4[0] = 3;    /* Destination unreachable, */
    l4[1] = code; /* 1: host unreachable, 3: port unreachable. */
    memcpy(l4 + ICMP_LEN, pkt + f->lay.l3, quote);
    put16(l4 + 2, ctrl_csum(l4, ICMP_LEN + quote, 0));
    *out_len = l2 + total;
    return 0;
}

static int
build_icmp6(bool error, uint8_t code, const uint8_t *pkt, const struct frame *f,
            uint8_t *out, size_t size, size_t *out_len, struct ovnic_err *err)
{
    size_t l2 = f->lay.l3 - f->lay.l2;
    if (!f->ipv6) {
        return ERR(err, -EINVAL, "icmp6 needs an IPv6 packet", NULL);
    }
    size_t avail = f->lay.end - f->lay.l3;
    size_t quote = MIN(avail, (size_t)IP6_LEN + 8);
    if (error) {
        quote = MIN(avail, (size_t)CTRL_ICMP6_ERROR_MAX - IP6_LEN - ICMP_LEN);
    }
    size_t l4_len = ICMP_LEN + quote;
    if (size < l2 + IP6_LEN + l4_len) {
        return -ENOSPC;
    }
    copy_l2(pkt, f, out, 0x86dd);
    uint8_t *l3 = out + l2;
    ip6_header(l3, l4_len, 58, f->key.f.ip6_src, f->key.f.ip6_dst);
    uint8_t *l4 = l3 + IP6_LEN;
    memset(l4, 0, ICMP_LEN);
    l4[0] = 1;    /* Destination unreachable, */
    l4[1] = code; /* 1: administratively prohibited, 4: port unreachable. */
    memcpy(l4 + ICMP_LEN, pkt + f->lay.l3, quote);
    icmp6_finish(l3, l4_len);
    *out_len = l2 + IP6_LEN + l4_len;
    return 0;
}

static int
build_tcp_reset(const uint8_t *pkt, const struct frame *f, uint8_t *out, size_t size,
                size_t *out_len, struct ovnic_err *err)
{
    size_t l2 = f->lay.l3 - f->lay.l2;
    size_t l3_len = f->ipv6 ? IP6_LEN : IP4_LEN;
    if ((!f->ipv4 && !f->ipv6) || f->key.f.ip_proto != 6 ||
        f->lay.l4 == PACKET_OFS_NONE) {
        return ERR(err, -EINVAL, "tcp_reset needs a TCP segment", NULL);
    }
    if (size < l2 + l3_len + TCP_LEN) {
        return -ENOSPC;
    }
    const uint8_t *in = pkt + f->lay.l4;
    uint8_t in_flags = in[13];
    size_t in_payload = f->lay.end - f->lay.l7;

    copy_l2(pkt, f, out, f->ipv6 ? 0x86dd : 0x0800);
    uint8_t *l3 = out + l2;
    if (f->ipv6) {
        ip6_header(l3, TCP_LEN, 6, f->key.f.ip6_src, f->key.f.ip6_dst);
    } else {
        ip4_header(l3, IP4_LEN + TCP_LEN, 6, (const uint8_t *)&f->key.f.ip4_src,
                   (const uint8_t *)&f->key.f.ip4_dst);
    }
    uint8_t *th = l3 + l3_len;
    memset(th, 0, TCP_LEN);
    memcpy(th, in + 2, 2); /* Ports swapped. */
    memcpy(th + 2, in, 2);
    th[12] = 5 << 4;
    if (in_flags & 0x10) { /* ACK: RST with the acknowledged sequence. */
        memcpy(th + 4, in + 8, 4);
        th[13] = 0x04;
    } else {
        uint32_t ack = get32(in + 4) + (uint32_t)in_payload + !!(in_flags & 0x02) +
                       !!(in_flags & 0x01);
        put32(th + 8, ack);
        th[13] = 0x14;
    }
    put16(th + 16, ctrl_csum(th, TCP_LEN, pseudo_sum(l3, f->ipv6, 6, TCP_LEN)));
    *out_len = l2 + l3_len + TCP_LEN;
    return 0;
}

/* CRC32c (Castagnoli, reflected), as SCTP's checksum uses it (RFC 4960, appendix B). */
static uint32_t
crc32c(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xffffffff;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0x82f63b78 & (0u - (crc & 1)));
        }
    }
    return ~crc;
}

#define SCTP_LEN 12
#define SCTP_CHUNK_LEN 4

/* An SCTP ABORT for the packet: ports swapped, the verification tag as RFC 4960
 * section 8.4 says (the initiate tag of an INIT sent with tag 0, with the T bit clear;
 * else the packet's own tag, reflected, T bit set). */
static int
build_sctp_abort(const uint8_t *pkt, const struct frame *f, uint8_t *out, size_t size,
                 size_t *out_len, struct ovnic_err *err)
{
    size_t l2 = f->lay.l3 - f->lay.l2;
    size_t l3_len = f->ipv6 ? IP6_LEN : IP4_LEN;
    size_t l4_len = SCTP_LEN + SCTP_CHUNK_LEN;
    if ((!f->ipv4 && !f->ipv6) || f->key.f.ip_proto != 132 ||
        f->lay.l4 == PACKET_OFS_NONE) {
        return ERR(err, -EINVAL, "sctp_abort needs an SCTP packet", NULL);
    }
    const uint8_t *in = pkt + f->lay.l4;
    if (f->lay.end < f->lay.l4 + SCTP_LEN + SCTP_CHUNK_LEN) {
        return ERR(err, -EINVAL, "sctp_abort needs an SCTP packet with a chunk", NULL);
    }
    uint8_t chunk = in[SCTP_LEN];
    if (chunk == 6) {
        return ERR(err, -EINVAL, "sctp_abort does not answer an SCTP ABORT", NULL);
    }
    uint32_t vtag = get32(in + 4);
    bool reflected = true;
    if (chunk == 1 && !vtag) { /* INIT with tag 0: answer with its initiate tag. */
        if (f->lay.end < f->lay.l4 + SCTP_LEN + SCTP_CHUNK_LEN + 4) {
            return ERR(err, -EINVAL, "incomplete SCTP INIT chunk", NULL);
        }
        vtag = get32(in + SCTP_LEN + SCTP_CHUNK_LEN);
        reflected = false;
    }
    if (size < l2 + l3_len + l4_len) {
        return -ENOSPC;
    }

    copy_l2(pkt, f, out, f->ipv6 ? 0x86dd : 0x0800);
    uint8_t *l3 = out + l2;
    if (f->ipv6) {
        ip6_header(l3, l4_len, 132, f->key.f.ip6_src, f->key.f.ip6_dst);
    } else {
        ip4_header(l3, IP4_LEN + l4_len, 132, (const uint8_t *)&f->key.f.ip4_src,
                   (const uint8_t *)&f->key.f.ip4_dst);
    }
    uint8_t *sh = l3 + l3_len;
    memset(sh, 0, l4_len);
    memcpy(sh, in + 2, 2); /* Ports swapped. */
    memcpy(sh + 2, in, 2);
    put32(sh + 4, vtag);
    sh[SCTP_LEN] = 6; /* ABORT */
    sh[SCTP_LEN + 1] = reflected ? 0x01 : 0x00;
    put16(sh + SCTP_LEN + 2, SCTP_CHUNK_LEN);
    uint32_t crc = crc32c(sh, l4_len);
    /* The checksum goes on the wire least significant byte first. */
    sh[8] = (uint8_t)crc;
    sh[9] = (uint8_t)(crc >> 8);
    sh[10] = (uint8_t)(crc >> 16);
    sh[11] = (uint8_t)(crc >> 24);
    *out_len = l2 + l3_len + l4_len;
    return 0;
}

int
ctrl_packet_build(enum action_type type, const uint8_t *pkt, size_t len, uint8_t *out,
                  size_t size, size_t *out_len, struct ovnic_err *err)
{
    struct frame f;
    int error = frame_parse(pkt, len, &f, err);
    if (error) {
        return error;
    }

    switch (type) {
    case ACTION_ARP:
        return build_arp(pkt, &f, out, size, out_len, err);
    case ACTION_ND_NS:
    case ACTION_ND_NA:
    case ACTION_ND_NA_ROUTER:
        return build_nd(type, pkt, &f, out, size, out_len, err);
    case ACTION_ICMP4:
    case ACTION_ICMP4_ERROR:
        return build_icmp4(type == ACTION_ICMP4_ERROR, 1, pkt, &f, out, size, out_len,
                           err);
    case ACTION_ICMP6:
    case ACTION_ICMP6_ERROR:
        return build_icmp6(type == ACTION_ICMP6_ERROR, 1, pkt, &f, out, size, out_len,
                           err);
    case ACTION_TCP_RESET:
        return build_tcp_reset(pkt, &f, out, size, out_len, err);
    case ACTION_REJECT:
        if ((f.ipv4 || f.ipv6) && f.key.f.ip_proto == 6) {
            error = build_tcp_reset(pkt, &f, out, size, out_len, err);
        } else if ((f.ipv4 || f.ipv6) && f.key.f.ip_proto == 132) {
            error = build_sctp_abort(pkt, &f, out, size, out_len, err);
        } else if (f.ipv4) {
            /* UDP: port unreachable, as a closed port would answer. */
            error = build_icmp4(true, f.key.f.ip_proto == 17 ? 3 : 1, pkt, &f, out, size,
                                out_len, err);
        } else if (f.ipv6) {
            error = build_icmp6(true, f.key.f.ip_proto == 17 ? 4 : 1, pkt, &f, out, size,
                                out_len, err);
        } else {
            return ERR(err, -EINVAL, "reject needs an IP packet", NULL);
        }
        if (!error) {
            /* reject swaps the addresses itself ("eth.dst <-> eth.src; ip.dst <->
             * ip.src" is implicit). */
            uint8_t tmp[16];
            size_t l3 = f.lay.l3 - f.lay.l2;
            size_t ofs = f.ipv6 ? 8 : 12, n = f.ipv6 ? 16 : 4;
            memcpy(tmp, out, 6);
            memcpy(out, out + 6, 6);
            memcpy(out + 6, tmp, 6);
            memcpy(tmp, out + l3 + ofs, n);
            memcpy(out + l3 + ofs, out + l3 + ofs + n, n);
            memcpy(out + l3 + ofs + n, tmp, n);
            /* The checksums cover both addresses: their sum is unchanged. */
        }
        return error;
    case ACTION_SCTP_ABORT:
        return build_sctp_abort(pkt, &f, out, size, out_len, err);
    default:
        return ERR(err, -EINVAL, "not a packet-building action", "%s",
                   action_type_name(type));
    }
}

/* ---- Applying header changes. ---- */

static int
nd_option(uint8_t *pkt, const struct packet_layout *lay, uint8_t type, uint8_t **optp)
{
    size_t p = lay->l4 + 24;
    while (p + 8 <= lay->end) {
        size_t n = (size_t)pkt[p + 1] * 8;
        if (!n || p + n > lay->end) {
            return -EINVAL;
        }
        if (pkt[p] == type && n >= 8) {
            *optp = pkt + p + 2;
            return 0;
        }
        p += n;
    }
    return -EINVAL;
}

/* Where header field 'id' lives in the frame: 'n' bytes at '*pp', the field's bits
 * shifted left by '*shift' within them. */
static int
field_location(uint8_t *pkt, const struct frame *f, enum pkey_field_id id, uint8_t **pp,
               size_t *n, int *shift, struct ovnic_err *err)
{
    uint8_t *l2 = pkt + f->lay.l2;
    uint8_t *l3 = f->lay.l3 != PACKET_OFS_NONE ? pkt + f->lay.l3 : NULL;
    uint8_t *l4 = f->lay.l4 != PACKET_OFS_NONE ? pkt + f->lay.l4 : NULL;
    uint8_t proto = f->key.f.ip_proto;
    bool ip = f->ipv4 || f->ipv6;

    *shift = 0;
    switch (id) {
    case PKEY_F_ETH_DST:
        *pp = l2;
        *n = 6;
        return 0;
    case PKEY_F_ETH_SRC:
        *pp = l2 + 6;
        *n = 6;
        return 0;
    case PKEY_F_VLAN_TCI:
        if (!(ntohs(f->key.f.vlan_tci) & PKEY_VLAN_PRESENT)) {
            return ERR(err, -EOPNOTSUPP, "not supported: pushing a VLAN tag", NULL);
        }
        *pp = l2 + 14;
        *n = 2;
        return 0;
    case PKEY_F_IP4_SRC:
    case PKEY_F_IP4_DST:
        if (!f->ipv4) {
            break;
        }
        *pp = l3 + (id == PKEY_F_IP4_SRC ? 12 : 16);
        *n = 4;
        return 0;
    case PKEY_F_IP6_SRC:
    case PKEY_F_IP6_DST:
        if (!f->ipv6) {
            break;
        }
        *pp = l3 + (id == PKEY_F_IP6_SRC ? 8 : 24);
        *n = 16;
        return 0;
    case PKEY_F_IP6_LABEL:
        if (!f->ipv6) {
            break;
        }
        *pp = l3;
        *n = 4;
        return 0;
    case PKEY_F_IP_TTL:
        if (!ip) {
            break;
        }
        *pp = l3 + (f->ipv4 ? 8 : 7);
        *n = 1;
        return 0;
    case PKEY_F_IP_DSCP:
    case PKEY_F_IP_ECN:
        if (!ip) {
            break;
        }
        *shift = id == PKEY_F_IP_DSCP ? 2 : 0;
        if (f->ipv4) {
            *pp = l3 + 1;
            *n = 1;
        } else {
            *pp = l3;
            *n = 2;
            *shift += 4;
        }
        return 0;
    case PKEY_F_ARP_OP:
    case PKEY_F_ARP_SHA:
    case PKEY_F_ARP_SPA:
    case PKEY_F_ARP_THA:
    case PKEY_F_ARP_TPA: {
        static const uint8_t ofs[] = {6, 8, 14, 18, 24}, len[] = {2, 6, 4, 6, 4};
        int i = id == PKEY_F_ARP_OP    ? 0
                : id == PKEY_F_ARP_SHA ? 1
                : id == PKEY_F_ARP_SPA ? 2
                : id == PKEY_F_ARP_THA ? 3
                                       : 4;
        if (!f->arp) {
            break;
        }
        *pp = l3 + ofs[i];
        *n = len[i];
        return 0;
    }
    case PKEY_F_TCP_SRC:
    case PKEY_F_TCP_DST:
    case PKEY_F_UDP_SRC:
    case PKEY_F_UDP_DST: {
        uint8_t want = id == PKEY_F_TCP_SRC || id == PKEY_F_TCP_DST ? 6 : 17;
        if (!l4 || proto != want) {
            break;
        }
        *pp = l4 + (id == PKEY_F_TCP_SRC || id == PKEY_F_UDP_SRC ? 0 : 2);
        *n = 2;
        return 0;
    }
    case PKEY_F_ICMP4_TYPE:
    case PKEY_F_ICMP4_CODE:
        if (!l4 || !f->ipv4 || proto != 1) {
            break;
        }
        *pp = l4 + (id == PKEY_F_ICMP4_CODE);
        *n = 1;
        return 0;
    case PKEY_F_ICMP6_TYPE:
    case PKEY_F_ICMP6_CODE:
        if (!l4 || !f->ipv6 || proto != 58) {
            break;
        }
        *pp = l4 + (id == PKEY_F_ICMP6_CODE);
        *n = 1;
        return 0;
    case PKEY_F_ND_TARGET:
        if (!l4 || !f->ipv6 || proto != 58 || f->lay.l4 + 24 > f->lay.end) {
            break;
        }
        *pp = l4 + 8;
        *n = 16;
        return 0;
    case PKEY_F_ND_SLL:
    case PKEY_F_ND_TLL:
        if (!l4 || !f->ipv6 || proto != 58 ||
            nd_option(pkt, &f->lay, id == PKEY_F_ND_SLL ? 1 : 2, pp)) {
            break;
        }
        *n = 6;
        return 0;
    default:
        return ERR(err, -EOPNOTSUPP, "not supported: rewriting this field", "%s",
                   pkey_field_info(id)->name);
    }
    return ERR(err, -EINVAL, "packet lacks the rewritten header", "%s",
               pkey_field_info(id)->name);
}

static void
fix_checksums(uint8_t *pkt, const struct frame *f)
{
    if (f->ipv4) {
        uint8_t *l3 = pkt + f->lay.l3;
        size_t ihl = (size_t)(l3[0] & 0x0f) * 4;
        put16(l3 + 10, 0);
        put16(l3 + 10, ctrl_csum(l3, ihl, 0));
    }
    if ((!f->ipv4 && !f->ipv6) || f->lay.l4 == PACKET_OFS_NONE ||
        (f->key.f.ip_frag & PKEY_FRAG_LATER)) {
        return;
    }
    uint8_t *l3 = pkt + f->lay.l3;
    uint8_t *l4 = pkt + f->lay.l4;
    size_t l4_len = f->lay.end - f->lay.l4;
    uint8_t proto = f->key.f.ip_proto;
    size_t ofs;
    uint32_t sum;

    switch (proto) {
    case 6:
        ofs = 16;
        sum = pseudo_sum(l3, f->ipv6, 6, l4_len);
        break;
    case 17:
        ofs = 6;
        sum = pseudo_sum(l3, f->ipv6, 17, l4_len);
        break;
    case 1:
        ofs = 2;
        sum = 0;
        break;
    case 58:
        ofs = 2;
        sum = pseudo_sum(l3, true, 58, l4_len);
        break;
    default:
        return;
    }
    if (ofs + 2 > l4_len) {
        return;
    }
    put16(l4 + ofs, 0);
    uint16_t c = ctrl_csum(l4, l4_len, sum);
    if (proto == 17 && !c) {
        c = 0xffff;
    }
    put16(l4 + ofs, c);
}

int
ctrl_packet_apply(uint8_t *pkt, size_t len, const struct exec_result *r, size_t first,
                  struct ovnic_err *err)
{
    struct frame f;
    int error = frame_parse(pkt, len, &f, err);
    if (error) {
        return error;
    }
    for (size_t i = first; i < r->n_changes; i++) {
        const struct exec_change *c = &r->changes[i];
        uint8_t *p = NULL;
        size_t n = 0;
        int shift;

        if (c->field == PKEY_F_SCTP_SRC || c->field == PKEY_F_SCTP_DST) {
            return ERR(err, -EOPNOTSUPP, "not supported: rewriting SCTP ports", NULL);
        }
        error = field_location(pkt, &f, c->field, &p, &n, &shift, err);
        if (error) {
            return error;
        }
        lex_u128 mask = c->mask << shift, value = c->value << shift;
        lex_u128 cur = getn(p, n);
        putn(p, n, (cur & ~mask) | (value & mask));
    }
    if (r->has_frag_mtu && f.lay.l4 != PACKET_OFS_NONE && f.lay.l4 + 8 <= f.lay.end) {
        uint8_t *l4 = pkt + f.lay.l4;
        if (f.ipv4 && f.key.f.ip_proto == 1 && l4[0] == 3) {
            put16(l4 + 6, (uint16_t)r->frag_mtu);
        } else if (f.ipv6 && f.key.f.ip_proto == 58 && l4[0] == 2) {
            put32(l4 + 4, r->frag_mtu);
        }
    }
    /* Re-read: the protocol fields stay, but fragments and lengths are as before. */
    fix_checksums(pkt, &f);
    return 0;
}

/* ---- DHCPv4. ---- */

#define BOOTP_LEN 236
#define DHCP_MAGIC 0x63825363

enum {
    DHCP_DISCOVER = 1,
    DHCP_OFFER = 2,
    DHCP_REQUEST = 3,
    DHCP_ACK = 5,
    DHCP_NAK = 6,
    DHCP_INFORM = 8,
};

/* Finds option 'code' in the options [p, end): its value in '*vp', '*np'. */
static bool
dhcp_find(const uint8_t *p, const uint8_t *end, uint8_t code, const uint8_t **vp,
          size_t *np)
{
    while (p < end) {
        if (*p == 0) {
            p++;
            continue;
        }
        if (*p == 255 || p + 2 > end || p + 2 + p[1] > end) {
            return false;
        }
        if (*p == code) {
            *vp = p + 2;
            *np = p[1];
            return true;
        }
        p += 2 + p[1];
    }
    return false;
}

struct obuf {
    uint8_t *p;
    size_t len, size;
    bool full;
};

static void
ob_put(struct obuf *b, const void *data, size_t n)
{
    if (b->full || n > b->size - b->len) {
        b->full = true;
        return;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void
ob_u8(struct obuf *b, uint8_t v)
{
    ob_put(b, &v, 1);
}

/* Encodes a domain list "a.test,b.test" as DNS names (RFC 1035, uncompressed). */
static int
encode_domains(struct obuf *b, const char *s)
{
    while (*s) {
        size_t n = strcspn(s, ", ");
        const char *end = s + n;
        while (s < end) {
            size_t l = strcspn(s, ".");
            if (s + l > end) {
                l = (size_t)(end - s);
            }
            if (!l || l > 63) {
                return -EINVAL;
            }
            ob_u8(b, (uint8_t)l);
            ob_put(b, s, l);
            s += l;
            if (s < end && *s == '.') {
                s++;
            }
        }
        if (n) {
            ob_u8(b, 0);
        }
        s = end;
        while (*s == ',' || *s == ' ') {
            s++;
        }
    }
    return 0;
}

/* Writes one option's value (without code and length). */
static int
encode_option_value(struct obuf *b, const struct action_option *o, struct ovnic_err *err)
{
    for (size_t i = 0; i < o->n_values; i++) {
        const struct action_const *c = &o->values[i];
        uint8_t tmp[4];

        switch (o->type) {
        case ACTION_OPT_IPV4:
            put32(tmp, (uint32_t)c->value);
            ob_put(b, tmp, 4);
            break;
        case ACTION_OPT_BOOL:
        case ACTION_OPT_UINT8:
            ob_u8(b, (uint8_t)c->value);
            break;
        case ACTION_OPT_UINT16:
            put16(tmp, (uint16_t)c->value);
            ob_put(b, tmp, 2);
            break;
        case ACTION_OPT_UINT32:
            put32(tmp, (uint32_t)c->value);
            ob_put(b, tmp, 4);
            break;
        case ACTION_OPT_STR:
            ob_put(b, c->string, strlen(c->string));
            break;
        case ACTION_OPT_HOST_ID:
            if (c->is_string) {
                ob_put(b, c->string, strlen(c->string));
            } else {
                char text[16];
                uint32_t a = (uint32_t)c->value;
                int n = snprintf(text, sizeof text, "%u.%u.%u.%u", a >> 24,
                                 (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
                ob_put(b, text, (size_t)n);
            }
            break;
        case ACTION_OPT_DOMAINS:
            if (encode_domains(b, c->string)) {
                return ERR(err, -EINVAL, "invalid DHCP option value", "%s: bad domain",
                           o->name);
            }
            break;
        case ACTION_OPT_STATIC_ROUTES: {
            /* Pairs: network/prefix, router (RFC 3442). */
            if (i + 1 >= o->n_values) {
                return ERR(err, -EINVAL, "invalid DHCP option value",
                           "%s: network without a router", o->name);
            }
            const struct action_const *gw = &o->values[++i];
            int plen = c->masked ? lex_u128_prefix_len(c->mask, 32) : 32;
            if (plen < 0 || c->is_string || gw->is_string) {
                return ERR(err, -EINVAL, "invalid DHCP option value", "%s: bad route",
                           o->name);
            }
            put32(tmp, (uint32_t)c->value);
            ob_u8(b, (uint8_t)plen);
            ob_put(b, tmp, (size_t)(plen + 7) / 8);
            put32(tmp, (uint32_t)gw->value);
            ob_put(b, tmp, 4);
            break;
        }
        case ACTION_OPT_IPV6:
        case ACTION_OPT_MAC:
        default:
            return ERR(err, -EINVAL, "not supported: DHCPv4 option type", "%s", o->name);
        }
    }
    return 0;
}

static int
put_option(struct obuf *b, const struct action_option *o, uint8_t code,
           struct ovnic_err *err)
{
    size_t start = b->len;
    ob_u8(b, code);
    ob_u8(b, 0);
    int error = encode_option_value(b, o, err);
    if (error) {
        return error;
    }
    if (b->full) {
        return -ENOSPC;
    }
    size_t n = b->len - start - 2;
    if (n > 255) {
        return ERR(err, -EINVAL, "invalid DHCP option value", "%s: longer than 255 bytes",
                   o->name);
    }
    b->p[start + 1] = (uint8_t)n;
    return 0;
}

static const struct action_option *
find_opt(const struct action *a, int code)
{
    for (size_t i = 0; i < a->n_options; i++) {
        if (a->options[i].code == code) {
            return &a->options[i];
        }
    }
    return NULL;
}

static bool
opt_is_lease(int code)
{
    return code == 51 || code == 58 || code == 59;
}

int
ctrl_dhcpv4_reply_build(const struct action *action, const uint8_t *pkt, size_t len,
                        uint8_t *out, size_t size, size_t *out_len, struct ovnic_err *err)
{
    struct frame f;
    int error;

    if (action->type != ACTION_PUT_DHCPV4_OPTS) {
        return ERR(err, -EINVAL, "not put_dhcp_opts", "%s",
                   action_type_name(action->type));
    }
    error = frame_parse(pkt, len, &f, err);
    if (error) {
        return error;
    }
    if (!f.ipv4 || f.key.f.ip_proto != 17 || ntohs(f.key.f.udp_dst) != 67 ||
        f.lay.l7 == PACKET_OFS_NONE || f.lay.end - f.lay.l7 < BOOTP_LEN + 4) {
        return ERR(err, -EINVAL, "not a DHCP request", NULL);
    }
    const uint8_t *req = pkt + f.lay.l7;
    const uint8_t *req_end = pkt + f.lay.end;
    if (req[0] != 1 || get32(req + BOOTP_LEN) != DHCP_MAGIC) {
        return ERR(err, -EINVAL, "not a DHCP request", "bad op or magic cookie");
    }
    const uint8_t *v;
    size_t n;
    const uint8_t *opts = req + BOOTP_LEN + 4;
    if (!dhcp_find(opts, req_end, 53, &v, &n) || n != 1) {
        return ERR(err, -EINVAL, "not a DHCP request", "no message type");
    }
    const struct action_option *offer = find_opt(action, 0);
    if (!offer || !offer->n_values) {
        return ERR(err, -EINVAL, "invalid DHCP options", "no offerip");
    }
    uint32_t offerip = (uint32_t)offer->values[0].value;

    uint8_t reply_type;
    switch (v[0]) {
    case DHCP_DISCOVER:
        reply_type = DHCP_OFFER;
        break;
    case DHCP_REQUEST: {
        uint32_t want = get32(req + 12); /* ciaddr */
        const uint8_t *rv;
        size_t rn;
        if (dhcp_find(opts, req_end, 50, &rv, &rn) && rn == 4) {
            want = get32(rv);
        }
        reply_type = want == offerip ? DHCP_ACK : DHCP_NAK;
        break;
    }
    case DHCP_INFORM:
        reply_type = DHCP_ACK;
        break;
    default:
        return ERR(err, -EINVAL, "DHCP message type gets no reply", "type %u", v[0]);
    }
    bool inform = v[0] == DHCP_INFORM;
    bool nak = reply_type == DHCP_NAK;

    /* iPXE clients get bootfile_name_alt instead of bootfile_name. */
    bool ipxe = false;
    if (dhcp_find(opts, req_end, 77, &v, &n) && n == 4 && !memcmp(v, "iPXE", 4)) {
        ipxe = find_opt(action, 254) != NULL;
    }

    size_t l2 = f.lay.l3 - f.lay.l2;
    size_t hdr = l2 + IP4_LEN + UDP_LEN;
    if (size < hdr + BOOTP_LEN + 4) {
        return -ENOSPC;
    }
    struct obuf b = {.p = out + hdr, .len = 0, .size = size - hdr};
    uint8_t bootp[BOOTP_LEN];
    memcpy(bootp, req, BOOTP_LEN);
    bootp[0] = 2;            /* BOOTREPLY */
    bootp[3] = 0;            /* hops */
    memset(bootp + 8, 0, 2); /* secs */
    if (!inform) {
        memset(bootp + 12, 0, 4); /* ciaddr */
    }
    put32(bootp + 16, inform || nak ? 0 : offerip);
    const struct action_option *next_server = find_opt(action, 253);
    put32(bootp + 20, next_server && !nak ? (uint32_t)next_server->values[0].value : 0);
    memset(bootp + 44, 0, 64 + 128); /* sname, file */
    ob_put(&b, bootp, BOOTP_LEN);
    uint8_t cookie[4];
    put32(cookie, DHCP_MAGIC);
    ob_put(&b, cookie, 4);
    ob_u8(&b, 53);
    ob_u8(&b, 1);
    ob_u8(&b, reply_type);

    for (size_t i = 0; i < action->n_options; i++) {
        const struct action_option *o = &action->options[i];
        int code = o->code;
        if (code == 0 || code == 253 || (code == 254 && !ipxe)) {
            continue;
        }
        if (code == 67 && ipxe) {
            continue;
        }
        if (nak && code != 54) {
            continue;
        }
        if (inform && opt_is_lease(code)) {
            continue;
        }
        error = put_option(&b, o, (uint8_t)(code == 254 ? 67 : code), err);
        if (error) {
            return error;
        }
    }
    ob_u8(&b, 255);
    if (b.full) {
        return -ENOSPC;
    }

    copy_l2(pkt, &f, out, 0x0800);
    uint8_t *l3 = out + l2;
    const uint8_t *in3 = pkt + f.lay.l3;
    ip4_header(l3, IP4_LEN + UDP_LEN + b.len, 17, in3 + 12, in3 + 16);
    l3[1] = in3[1];
    l3[8] = in3[8];
    put16(l3 + 10, 0);
    put16(l3 + 10, ctrl_csum(l3, IP4_LEN, 0));
    uint8_t *udp = l3 + IP4_LEN;
    memcpy(udp, pkt + f.lay.l4, 4);
    put16(udp + 4, (uint16_t)(UDP_LEN + b.len));
    put16(udp + 6, 0);
    uint16_t c =
        ctrl_csum(udp, UDP_LEN + b.len, pseudo_sum(l3, false, 17, UDP_LEN + b.len));
    put16(udp + 6, c ? c : 0xffff);
    *out_len = hdr + b.len;
    return 0;
}

/* ---- MAC bindings. ---- */

int
ctrl_mac_binding_get(const struct exec_ctrl *c, struct ctrl_mac_binding *mb)
{
    if (c->type != ACTION_PUT_ARP && c->type != ACTION_PUT_ND) {
        return -EINVAL;
    }
    memset(mb, 0, sizeof *mb);
    mb->datapath = c->datapath;
    mb->port = (uint32_t)c->args[0];
    mb->ipv6 = c->type == ACTION_PUT_ND;
    mb->ip = c->args[1];
    putn(mb->mac, 6, c->args[2]);
    return 0;
}

/* ---- Replies that replace the request's payload. ---- */

/* Where the payload of 'f' ends: the UDP length when it is shorter than the IP
 * datagram. */
static size_t
udp_end(const uint8_t *pkt, const struct frame *f)
{
    size_t udp_len = get16(pkt + f->lay.l4 + 4);
    size_t end = f->lay.end;
    if (udp_len >= UDP_LEN && f->lay.l4 + udp_len < end) {
        end = f->lay.l4 + udp_len;
    }
    return end;
}

/* Copies the request's headers up to its L4 header into 'out'; the new L4 header and
 * payload go at 'out + *l4ofs'.  Returns -ENOSPC if not even those headers fit. */
static int
reply_start(const uint8_t *pkt, const struct frame *f, uint8_t *out, size_t size,
            size_t *l4ofs)
{
    size_t n = f->lay.l4 - f->lay.l2;
    if (size < n) {
        return -ENOSPC;
    }
    memcpy(out, pkt + f->lay.l2, n);
    *l4ofs = n;
    return 0;
}

/* With 'l4_len' bytes of L4 header and payload written at 'out + l4ofs': sets the IP
 * and UDP lengths and recomputes the checksums. */
static int
reply_finish(uint8_t *out, const struct frame *f, size_t l4ofs, size_t l4_len,
             struct ovnic_err *err)
{
    size_t l3ofs = f->lay.l3 - f->lay.l2;
    uint8_t *l3 = out + l3ofs;
    uint8_t *l4 = out + l4ofs;
    size_t ip_len = l4ofs - l3ofs + l4_len;

    if (ip_len > 0xffff) {
        return ERR(err, -EINVAL, "reply too long", "%zu bytes", ip_len);
    }
    if (f->ipv4) {
        put16(l3 + 2, (uint16_t)ip_len);
        put16(l3 + 10, 0);
        put16(l3 + 10, ctrl_csum(l3, l4ofs - l3ofs, 0));
    } else {
        put16(l3 + 4, (uint16_t)(ip_len - IP6_LEN));
    }
    uint8_t proto = f->key.f.ip_proto;
    if (proto == 17) {
        put16(l4 + 4, (uint16_t)l4_len);
        put16(l4 + 6, 0);
        uint16_t c = ctrl_csum(l4, l4_len, pseudo_sum(l3, f->ipv6, 17, l4_len));
        put16(l4 + 6, c ? c : 0xffff);
    } else {
        put16(l4 + 2, 0);
        put16(l4 + 2, ctrl_csum(l4, l4_len, pseudo_sum(l3, true, 58, l4_len)));
    }
    return 0;
}

static void
ob_put16(struct obuf *b, uint16_t v)
{
    uint8_t t[2];
    put16(t, v);
    ob_put(b, t, 2);
}

static void
ob_put32(struct obuf *b, uint32_t v)
{
    uint8_t t[4];
    put32(t, v);
    ob_put(b, t, 4);
}

static void
ob_put_ip6(struct obuf *b, lex_u128 v)
{
    uint8_t t[16];
    putn(t, 16, v);
    ob_put(b, t, 16);
}

/* ---- DHCPv6 (RFC 8415). ---- */

enum {
    DHCP6_SOLICIT = 1,
    DHCP6_ADVERTISE = 2,
    DHCP6_REQUEST = 3,
    DHCP6_CONFIRM = 4,
    DHCP6_RENEW = 5,
    DHCP6_REBIND = 6,
    DHCP6_REPLY = 7,
    DHCP6_INFORMATION_REQUEST = 11,
};

enum {
    DHCP6_OPT_CLIENTID = 1,
    DHCP6_OPT_SERVERID = 2,
    DHCP6_OPT_IA_NA = 3,
    DHCP6_OPT_IAADDR = 5,
    DHCP6_OPT_USER_CLASS = 15,
    DHCP6_OPT_DNS_SERVERS = 23,
    DHCP6_OPT_DOMAIN_LIST = 24,
    DHCP6_OPT_BOOTFILE_URL = 59,
};

#define DHCP6_INFINITY 0xffffffffu
#define DHCP6_BOOTFILE_ALT 254 /* bootfile_name_alt: sent as option 59. */

/* What the reply needs from the client's message. */
struct dhcp6_req {
    uint8_t type;
    const uint8_t *xid; /* 3 bytes. */
    const uint8_t *client_id;
    size_t client_id_len; /* Option header included. */
    bool has_iaid;
    uint8_t iaid[4];
    bool ipxe;
};

/* Whether the User Class option [p, p + n) holds the class "iPXE". */
static bool
dhcp6_user_class_is_ipxe(const uint8_t *p, size_t n)
{
    while (n >= 2) {
        size_t l = get16(p);
        if (l > n - 2) {
            return false;
        }
        if (l == 4 && !memcmp(p + 2, "iPXE", 4)) {
            return true;
        }
        p += 2 + l;
        n -= 2 + l;
    }
    return false;
}

static int
dhcp6_req_parse(const uint8_t *p, const uint8_t *end, struct dhcp6_req *req,
                struct ovnic_err *err)
{
    if (end - p < 4) {
        return ERR(err, -EINVAL, "not a DHCPv6 message", "shorter than 4 bytes");
    }
    memset(req, 0, sizeof *req);
    req->type = p[0];
    req->xid = p + 1;
    for (p += 4; p < end;) {
        if (end - p < 4) {
            return ERR(err, -EINVAL, "malformed DHCPv6 option", "truncated header");
        }
        uint16_t code = get16(p);
        size_t n = get16(p + 2);
        if (n > (size_t)(end - p) - 4) {
            return ERR(err, -EINVAL, "malformed DHCPv6 option", "option %u too long",
                       code);
        }
        const uint8_t *v = p + 4;
        if (code == DHCP6_OPT_CLIENTID && !req->client_id) {
            req->client_id = p;
            req->client_id_len = 4 + n;
        } else if (code == DHCP6_OPT_IA_NA && !req->has_iaid) {
            if (n < 12) {
                return ERR(err, -EINVAL, "malformed DHCPv6 option", "IA_NA too short");
            }
            req->has_iaid = true;
            memcpy(req->iaid, v, 4);
        } else if (code == DHCP6_OPT_USER_CLASS) {
            req->ipxe = req->ipxe || dhcp6_user_class_is_ipxe(v, n);
        }
        p += 4 + n;
    }
    return 0;
}

static int
dhcp6_put_option(struct obuf *b, const struct action_option *o,
                 const struct dhcp6_req *req, struct ovnic_err *err)
{
    size_t start = b->len;
    int code = o->code == DHCP6_BOOTFILE_ALT ? DHCP6_OPT_BOOTFILE_URL : o->code;

    switch (o->code) {
    case DHCP6_OPT_SERVERID: {
        /* DUID-LL (type 3), hardware type Ethernet (1), the MAC. */
        uint8_t mac[6];
        if (o->n_values != 1 || o->values[0].is_string) {
            return ERR(err, -EINVAL, "invalid DHCPv6 option value", "%s", o->name);
        }
        putn(mac, 6, o->values[0].value);
        ob_put16(b, DHCP6_OPT_SERVERID);
        ob_put16(b, 10);
        ob_put16(b, 3);
        ob_put16(b, 1);
        ob_put(b, mac, 6);
        return 0;
    }
    case DHCP6_OPT_IAADDR:
        /* IA_NA (IAID, T1, T2) holding one IA Address per value. */
        if (!req->has_iaid) {
            return 0;
        }
        ob_put16(b, DHCP6_OPT_IA_NA);
        ob_put16(b, (uint16_t)(12 + 28 * o->n_values));
        ob_put(b, req->iaid, 4);
        ob_put32(b, DHCP6_INFINITY);
        ob_put32(b, DHCP6_INFINITY);
        for (size_t i = 0; i < o->n_values; i++) {
            ob_put16(b, DHCP6_OPT_IAADDR);
            ob_put16(b, 24);
            ob_put_ip6(b, o->values[i].value);
            ob_put32(b, DHCP6_INFINITY); /* Preferred lifetime. */
            ob_put32(b, DHCP6_INFINITY); /* Valid lifetime. */
        }
        return 0;
    case DHCP6_OPT_DNS_SERVERS:
        ob_put16(b, DHCP6_OPT_DNS_SERVERS);
        ob_put16(b, (uint16_t)(16 * o->n_values));
        for (size_t i = 0; i < o->n_values; i++) {
            ob_put_ip6(b, o->values[i].value);
        }
        return 0;
    case DHCP6_OPT_DOMAIN_LIST:
    case DHCP6_OPT_BOOTFILE_URL:
    case DHCP6_BOOTFILE_ALT:
        ob_put16(b, (uint16_t)code);
        ob_put16(b, 0);
        for (size_t i = 0; i < o->n_values; i++) {
            const struct action_const *c = &o->values[i];
            if (!c->is_string) {
                return ERR(err, -EINVAL, "invalid DHCPv6 option value", "%s", o->name);
            }
            if (code == DHCP6_OPT_DOMAIN_LIST) {
                if (encode_domains(b, c->string)) {
                    return ERR(err, -EINVAL, "invalid DHCPv6 option value",
                               "%s: bad domain", o->name);
                }
            } else {
                ob_put(b, c->string, strlen(c->string));
            }
        }
        if (!b->full) {
            size_t n = b->len - start - 4;
            if (n > 0xffff) {
                return ERR(err, -EINVAL, "invalid DHCPv6 option value", "%s: too long",
                           o->name);
            }
            put16(b->p + start + 2, (uint16_t)n);
        }
        return 0;
    default:
        return ERR(err, -EINVAL, "not supported: DHCPv6 option", "%s", o->name);
    }
}

int
ctrl_dhcpv6_reply_build(const struct action *action, const uint8_t *pkt, size_t len,
                        uint8_t *out, size_t size, size_t *out_len, struct ovnic_err *err)
{
    struct frame f;
    struct dhcp6_req req;
    int error;

    if (action->type != ACTION_PUT_DHCPV6_OPTS) {
        return ERR(err, -EINVAL, "not put_dhcpv6_opts", "%s",
                   action_type_name(action->type));
    }
    error = frame_parse(pkt, len, &f, err);
    if (error) {
        return error;
    }
    if (!f.ipv6 || f.key.f.ip_proto != 17 || ntohs(f.key.f.udp_dst) != 547 ||
        f.lay.l7 == PACKET_OFS_NONE || (f.key.f.ip_frag & PKEY_FRAG_LATER)) {
        return ERR(err, -EINVAL, "not a DHCPv6 client message", NULL);
    }
    error = dhcp6_req_parse(pkt + f.lay.l7, pkt + udp_end(pkt, &f), &req, err);
    if (error) {
        return error;
    }

    uint8_t reply_type;
    switch (req.type) {
    case DHCP6_SOLICIT:
        reply_type = DHCP6_ADVERTISE;
        break;
    case DHCP6_REQUEST:
    case DHCP6_CONFIRM:
    case DHCP6_RENEW:
    case DHCP6_REBIND:
    case DHCP6_INFORMATION_REQUEST:
        reply_type = DHCP6_REPLY;
        break;
    default:
        return ERR(err, -EINVAL, "DHCPv6 message type gets no reply", "type %u",
                   req.type);
    }
    if (!req.client_id) {
        return ERR(err, -EINVAL, "DHCPv6 message without Client Identifier", NULL);
    }
    if (req.type == DHCP6_INFORMATION_REQUEST) {
        req.has_iaid = false;
    } else if (!req.has_iaid) {
        return ERR(err, -EINVAL, "DHCPv6 message without IA_NA", "type %u", req.type);
    }

    size_t l4ofs;
    if (reply_start(pkt, &f, out, size, &l4ofs)) {
        return -ENOSPC;
    }
    struct obuf b = {.p = out + l4ofs, .len = 0, .size = size - l4ofs};
    ob_put(&b, pkt + f.lay.l4, UDP_LEN); /* Ports kept: the flows set them. */
    ob_u8(&b, reply_type);
    ob_put(&b, req.xid, 3);
    ob_put(&b, req.client_id, req.client_id_len);
    bool has_alt = find_opt(action, DHCP6_BOOTFILE_ALT) != NULL;
    for (size_t i = 0; i < action->n_options; i++) {
        const struct action_option *o = &action->options[i];
        if ((o->code == DHCP6_BOOTFILE_ALT && !req.ipxe) ||
            (o->code == DHCP6_OPT_BOOTFILE_URL && req.ipxe && has_alt)) {
            continue;
        }
        error = dhcp6_put_option(&b, o, &req, err);
        if (error) {
            return error;
        }
    }
    if (b.full) {
        return -ENOSPC;
    }
    error = reply_finish(out, &f, l4ofs, b.len, err);
    if (error) {
        return error;
    }
    *out_len = l4ofs + b.len;
    return 0;
}

/* ---- Router advertisements (RFC 4861, RFC 4191, RFC 8106). ---- */

#define RA_LEN 16 /* ICMPv6 header, hop limit, flags, lifetime, reachable, retrans. */
#define RA_FLAG_MANAGED 0x80
#define RA_FLAG_OTHER 0x40
#define RA_PRF_HIGH 0x08
#define RA_PRF_LOW 0x18
#define RA_LIFETIME 0xffff
#define RA_INFINITY 0xffffffffu

static const struct action_option *
find_opt_name(const struct action *a, const char *name)
{
    for (size_t i = 0; i < a->n_options; i++) {
        if (!strcmp(a->options[i].name, name)) {
            return &a->options[i];
        }
    }
    return NULL;
}

static const char *
opt_string(const struct action_option *o)
{
    return o && o->n_values == 1 && o->values[0].is_string ? o->values[0].string : NULL;
}

/* Pads the option started at 'start' to 8 bytes and writes its length. */
static int
ra_option_end(struct obuf *b, size_t start, const char *name, struct ovnic_err *err)
{
    while ((b->len - start) % 8) {
        ob_u8(b, 0);
    }
    if (b->full) {
        return -ENOSPC;
    }
    size_t units = (b->len - start) / 8;
    if (units > 255) {
        return ERR(err, -EINVAL, "invalid RA option value", "%s: too long", name);
    }
    b->p[start + 1] = (uint8_t)units;
    return 0;
}

/* One route_info entry "PRF-PREFIX/LEN" (RFC 4191 route information option). */
static int
ra_route_info(struct obuf *b, const char *s, size_t n, struct ovnic_err *err)
{
    char text[INET6_ADDRSTRLEN + 16];
    if (n >= sizeof text) {
        goto bad;
    }
    memcpy(text, s, n);
    text[n] = '\0';
    char *dash = strchr(text, '-');
    char *slash = dash ? strchr(dash, '/') : NULL;
    if (!dash || !slash) {
        goto bad;
    }
    *dash = *slash = '\0';
    uint8_t prf;
    if (!strcmp(text, "HIGH")) {
        prf = RA_PRF_HIGH;
    } else if (!strcmp(text, "LOW")) {
        prf = RA_PRF_LOW;
    } else if (!strcmp(text, "MEDIUM")) {
        prf = 0;
    } else {
        goto bad;
    }
    uint8_t prefix[16];
    char *endp;
    long plen = strtol(slash + 1, &endp, 10);
    if (inet_pton(AF_INET6, dash + 1, prefix) != 1 || *endp || endp == slash + 1 ||
        plen < 0 || plen > 128) {
        goto bad;
    }
    size_t bytes = plen == 0 ? 0 : plen <= 64 ? 8 : 16;
    size_t start = b->len;
    ob_u8(b, 24);
    ob_u8(b, 0);
    ob_u8(b, (uint8_t)plen);
    ob_u8(b, prf);
    ob_put32(b, RA_INFINITY);
    for (size_t i = 0; i < bytes; i++) {
        size_t bit = i * 8;
        uint8_t mask = bit + 8 <= (size_t)plen ? 0xff
                       : bit >= (size_t)plen   ? 0
                                               : (uint8_t)(0xff << (8 - (plen - bit)));
        ob_u8(b, prefix[i] & mask);
    }
    return ra_option_end(b, start, "route_info", err);

bad:
    return ERR(err, -EINVAL, "invalid RA option value", "route_info: \"%.*s\"", (int)n,
               s);
}

static int
ra_put_option(struct obuf *b, const struct action_option *o, bool managed,
              struct ovnic_err *err)
{
    size_t start = b->len;

    if (!strcmp(o->name, "slla")) {
        uint8_t mac[6];
        putn(mac, 6, o->values[0].value);
        ob_u8(b, 1);
        ob_u8(b, 1);
        ob_put(b, mac, 6);
    } else if (!strcmp(o->name, "mtu")) {
        ob_u8(b, 5);
        ob_u8(b, 1);
        ob_put16(b, 0);
        ob_put32(b, (uint32_t)o->values[0].value);
    } else if (!strcmp(o->name, "prefix")) {
        for (size_t i = 0; i < o->n_values; i++) {
            const struct action_const *c = &o->values[i];
            int plen = c->masked ? lex_u128_prefix_len(c->mask, 128) : 128;
            if (c->is_string || plen < 0) {
                return ERR(err, -EINVAL, "invalid RA option value", "prefix");
            }
            ob_u8(b, 3);
            ob_u8(b, 4);
            ob_u8(b, (uint8_t)plen);
            ob_u8(b, managed ? 0x80 : 0xc0); /* On-link; autonomous unless managed. */
            ob_put32(b, RA_INFINITY);        /* Valid lifetime. */
            ob_put32(b, RA_INFINITY);        /* Preferred lifetime. */
            ob_put32(b, 0);
            ob_put_ip6(b, c->masked ? c->value & c->mask : c->value);
        }
        return 0;
    } else if (!strcmp(o->name, "rdnss")) {
        ob_u8(b, 25);
        ob_u8(b, 0);
        ob_put16(b, 0);
        ob_put32(b, RA_INFINITY);
        for (size_t i = 0; i < o->n_values; i++) {
            ob_put_ip6(b, o->values[i].value);
        }
    } else if (!strcmp(o->name, "dnssl")) {
        ob_u8(b, 31);
        ob_u8(b, 0);
        ob_put16(b, 0);
        ob_put32(b, RA_INFINITY);
        for (size_t i = 0; i < o->n_values; i++) {
            if (!o->values[i].is_string || encode_domains(b, o->values[i].string)) {
                return ERR(err, -EINVAL, "invalid RA option value", "dnssl");
            }
        }
    } else if (!strcmp(o->name, "route_info")) {
        for (size_t i = 0; i < o->n_values; i++) {
            const char *s = o->values[i].is_string ? o->values[i].string : NULL;
            if (!s) {
                return ERR(err, -EINVAL, "invalid RA option value", "route_info");
            }
            while (*s) {
                size_t n = strcspn(s, ",");
                if (n) {
                    int error = ra_route_info(b, s, n, err);
                    if (error) {
                        return error;
                    }
                }
                s += n + (s[n] == ',');
            }
        }
        return 0;
    } else {
        return 0; /* addr_mode, router_preference: in the RA header. */
    }
    return ra_option_end(b, start, o->name, err);
}

int
ctrl_nd_ra_build(const struct action *action, const uint8_t *pkt, size_t len,
                 uint8_t *out, size_t size, size_t *out_len, struct ovnic_err *err)
{
    struct frame f;
    int error;

    if (action->type != ACTION_PUT_ND_RA_OPTS) {
        return ERR(err, -EINVAL, "not put_nd_ra_opts", "%s",
                   action_type_name(action->type));
    }
    error = frame_parse(pkt, len, &f, err);
    if (error) {
        return error;
    }
    if (!f.ipv6 || f.key.f.ip_proto != 58 || f.lay.l4 == PACKET_OFS_NONE ||
        f.key.f.icmp6_type != 133 || (f.key.f.ip_frag & PKEY_FRAG_LATER)) {
        return ERR(err, -EINVAL, "put_nd_ra_opts needs a router solicitation", NULL);
    }
    const char *mode = opt_string(find_opt_name(action, "addr_mode"));
    const char *prf = opt_string(find_opt_name(action, "router_preference"));
    const struct action_option *slla = find_opt_name(action, "slla");
    if (!mode || !slla || slla->n_values != 1) {
        return ERR(err, -EINVAL, "invalid RA options", "addr_mode and slla required");
    }
    bool managed = !strcmp(mode, "dhcpv6_stateful");
    uint8_t flags = managed                             ? RA_FLAG_MANAGED
                    : !strcmp(mode, "dhcpv6_stateless") ? RA_FLAG_OTHER
                                                        : 0;
    if (prf && !strcmp(prf, "HIGH")) {
        flags |= RA_PRF_HIGH;
    } else if (prf && !strcmp(prf, "LOW")) {
        flags |= RA_PRF_LOW;
    }

    size_t l4ofs;
    if (reply_start(pkt, &f, out, size, &l4ofs)) {
        return -ENOSPC;
    }
    struct obuf b = {.p = out + l4ofs, .len = 0, .size = size - l4ofs};
    ob_u8(&b, 134); /* Router advertisement, code 0, checksum below. */
    ob_u8(&b, 0);
    ob_put16(&b, 0);
    ob_u8(&b, 255); /* Cur hop limit. */
    ob_u8(&b, flags);
    ob_put16(&b, RA_LIFETIME);
    ob_put32(&b, 0); /* Reachable time: unspecified. */
    ob_put32(&b, 0); /* Retrans timer: unspecified. */
    for (size_t i = 0; i < action->n_options; i++) {
        error = ra_put_option(&b, &action->options[i], managed, err);
        if (error) {
            return error;
        }
    }
    if (b.full) {
        return -ENOSPC;
    }
    error = reply_finish(out, &f, l4ofs, b.len, err);
    if (error) {
        return error;
    }
    *out_len = l4ofs + b.len;
    return 0;
}

/* ---- DNS (RFC 1035, RFC 3596). ---- */

#define DNS_HEADER_LEN 12
#define DNS_MAX_NAME 255
#define DNS_TTL 3600

enum {
    DNS_TYPE_A = 1,
    DNS_TYPE_PTR = 12,
    DNS_TYPE_AAAA = 28,
    DNS_TYPE_ANY = 255,
};

/* Reads the name at 'p' (uncompressed labels up to a zero label) into 'text' (lower
 * case, '.'-joined).  Returns its length in the message, or 0 if malformed. */
static size_t
dns_name_read(const uint8_t *p, const uint8_t *end, char text[DNS_MAX_NAME + 1])
{
    size_t n = 0, t = 0;
    for (;;) {
        if (p + n >= end) {
            return 0;
        }
        size_t l = p[n++];
        if (!l) {
            break;
        }
        /* No compression in a question's only name; labels of 1..63 bytes. */
        if (l > 63 || l > (size_t)(end - p) - n || t + l + 1 > DNS_MAX_NAME) {
            return 0;
        }
        if (t) {
            text[t++] = '.';
        }
        for (size_t i = 0; i < l; i++) {
            uint8_t c = p[n + i];
            if (!c || c == '.') {
                return 0;
            }
            text[t++] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
        }
        n += l;
    }
    text[t] = '\0';
    return n;
}

/* Encodes host name 's' as an uncompressed DNS name. */
static int
dns_name_put(struct obuf *b, const char *s)
{
    size_t total = 1;
    while (*s) {
        size_t l = strcspn(s, ".");
        if (!l || l > 63 || (total += l + 1) > DNS_MAX_NAME) {
            return -EINVAL;
        }
        ob_u8(b, (uint8_t)l);
        ob_put(b, s, l);
        s += l;
        if (*s == '.') {
            s++;
        }
    }
    ob_u8(b, 0);
    return 0;
}

/* Starts one answer: the question's name, type, class IN, TTL. */
static void
dns_answer_start(struct obuf *b, const uint8_t *qname, size_t qname_len, uint16_t type)
{
    ob_put(b, qname, qname_len);
    ob_put16(b, type);
    ob_put16(b, 1);
    ob_put32(b, DNS_TTL);
}

int
ctrl_dns_reply_build(ctrl_dns_lookup_fn *lookup, void *aux, const uint8_t *pkt,
                     size_t len, uint8_t *out, size_t size, size_t *out_len,
                     struct ovnic_err *err)
{
    struct frame f;
    int error = frame_parse(pkt, len, &f, err);
    if (error) {
        return error;
    }
    if ((!f.ipv4 && !f.ipv6) || f.key.f.ip_proto != 17 || f.lay.l7 == PACKET_OFS_NONE ||
        (f.key.f.ip_frag & PKEY_FRAG_LATER)) {
        return ERR(err, -EINVAL, "not a DNS query", "not UDP");
    }
    const uint8_t *dns = pkt + f.lay.l7;
    const uint8_t *end = pkt + udp_end(pkt, &f);
    if (end - dns < DNS_HEADER_LEN) {
        return ERR(err, -EINVAL, "not a DNS query", "shorter than its header");
    }
    if (dns[2] & 0x80) {
        return ERR(err, -EINVAL, "not a DNS query", "a response");
    }
    if ((dns[2] >> 3) & 0x0f) {
        return ERR(err, -EOPNOTSUPP, "not supported: DNS opcode", "%u",
                   (dns[2] >> 3) & 0x0f);
    }
    if (!get16(dns + 4)) {
        return ERR(err, -EINVAL, "not a DNS query", "no question");
    }
    char name[DNS_MAX_NAME + 1];
    const uint8_t *qname = dns + DNS_HEADER_LEN;
    size_t qname_len = dns_name_read(qname, end, name);
    if (!qname_len || end - qname - (ptrdiff_t)qname_len < 4) {
        return ERR(err, -EINVAL, "malformed DNS question", NULL);
    }
    uint16_t qtype = get16(qname + qname_len);
    if (qtype != DNS_TYPE_A && qtype != DNS_TYPE_AAAA && qtype != DNS_TYPE_ANY &&
        qtype != DNS_TYPE_PTR) {
        return ERR(err, -EOPNOTSUPP, "not supported: DNS query type", "%u", qtype);
    }
    const char *value = lookup(aux, name);
    if (!value) {
        return ERR(err, -ENOENT, "no DNS record", "%s", name);
    }

    size_t l4ofs;
    if (reply_start(pkt, &f, out, size, &l4ofs)) {
        return -ENOSPC;
    }
    struct obuf b = {.p = out + l4ofs, .len = 0, .size = size - l4ofs};
    ob_put(&b, pkt + f.lay.l4, UDP_LEN);
    size_t hdr = b.len;
    ob_put(&b, dns, 4); /* Id and flags (QR set below). */
    ob_put16(&b, 1);    /* One question, */
    ob_put16(&b, 0);    /* its answers (counted below), */
    ob_put32(&b, 0);    /* no authority or additional records. */
    ob_put(&b, qname, qname_len + 4);

    unsigned int ancount = 0;
    if (qtype == DNS_TYPE_PTR) {
        dns_answer_start(&b, qname, qname_len, DNS_TYPE_PTR);
        size_t rdlen_at = b.len;
        ob_put16(&b, 0);
        if (dns_name_put(&b, value)) {
            return ERR(err, -EINVAL, "bad DNS record", "%s: \"%s\"", name, value);
        }
        if (!b.full) {
            put16(b.p + rdlen_at, (uint16_t)(b.len - rdlen_at - 2));
        }
        ancount++;
    } else {
        /* Addresses; A answers first, then AAAA (ANY gives both). */
        for (int pass = 0; pass < 2; pass++) {
            bool want6 = pass == 1;
            if ((want6 && qtype == DNS_TYPE_A) || (!want6 && qtype == DNS_TYPE_AAAA)) {
                continue;
            }
            for (const char *s = value; *s;) {
                size_t n = strcspn(s, " \t,");
                char ip[INET6_ADDRSTRLEN + 1];
                uint8_t addr[16];
                if (n) {
                    if (n >= sizeof ip) {
                        return ERR(err, -EINVAL, "bad DNS record", "%s", name);
                    }
                    memcpy(ip, s, n);
                    ip[n] = '\0';
                    bool is6 = strchr(ip, ':') != NULL;
                    if (inet_pton(is6 ? AF_INET6 : AF_INET, ip, addr) != 1) {
                        return ERR(err, -EINVAL, "bad DNS record", "%s: \"%s\"", name,
                                   ip);
                    }
                    if (is6 == want6) {
                        dns_answer_start(&b, qname, qname_len,
                                         want6 ? DNS_TYPE_AAAA : DNS_TYPE_A);
                        ob_put16(&b, want6 ? 16 : 4);
                        ob_put(&b, addr, want6 ? 16 : 4);
                        ancount++;
                    }
                }
                s += n;
                s += strspn(s, " \t,");
            }
        }
    }
    if (!ancount) {
        return ERR(err, -ENOENT, "no DNS record of the queried type", "%s", name);
    }
    if (b.full || ancount > 0xffff) {
        return -ENOSPC;
    }
    b.p[hdr + 2] |= 0x80; /* QR: a response. */
    put16(b.p + hdr + 6, (uint16_t)ancount);
    error = reply_finish(out, &f, l4ofs, b.len, err);
    if (error) {
        return error;
    }
    *out_len = l4ofs + b.len;
    return 0;
}
