/* ovnic: packets and updates that controller actions describe. */
#include "dpu/pipeline/ctrl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
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
build_icmp4(bool error, const uint8_t *pkt, const struct frame *f, uint8_t *out,
            size_t size, size_t *out_len, struct ovnic_err *err)
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
    l4[0] = 3; /* Destination unreachable, */
    l4[1] = 1; /* host unreachable. */
    memcpy(l4 + ICMP_LEN, pkt + f->lay.l3, quote);
    put16(l4 + 2, ctrl_csum(l4, ICMP_LEN + quote, 0));
    *out_len = l2 + total;
    return 0;
}

static int
build_icmp6(bool error, const uint8_t *pkt, const struct frame *f, uint8_t *out,
            size_t size, size_t *out_len, struct ovnic_err *err)
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
    l4[0] = 1; /* Destination unreachable, */
    l4[1] = 1; /* administratively prohibited. */
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
        return build_icmp4(type == ACTION_ICMP4_ERROR, pkt, &f, out, size, out_len, err);
    case ACTION_ICMP6:
    case ACTION_ICMP6_ERROR:
        return build_icmp6(type == ACTION_ICMP6_ERROR, pkt, &f, out, size, out_len, err);
    case ACTION_TCP_RESET:
        return build_tcp_reset(pkt, &f, out, size, out_len, err);
    case ACTION_REJECT:
        if ((f.ipv4 || f.ipv6) && f.key.f.ip_proto == 6) {
            error = build_tcp_reset(pkt, &f, out, size, out_len, err);
        } else if ((f.ipv4 || f.ipv6) && f.key.f.ip_proto == 132) {
            return ERR(err, -EOPNOTSUPP, "not supported: reject of SCTP", NULL);
        } else if (f.ipv4) {
            error = build_icmp4(true, pkt, &f, out, size, out_len, err);
        } else if (f.ipv6) {
            error = build_icmp6(true, pkt, &f, out, size, out_len, err);
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
        return ERR(err, -EOPNOTSUPP, "not supported: sctp_abort", NULL);
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
