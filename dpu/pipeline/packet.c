/* ovnic: packet parser. */
#include "dpu/pipeline/packet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "shared/util/util.h"

#define ETH_TYPE_IP 0x0800
#define ETH_TYPE_ARP 0x0806
#define ETH_TYPE_RARP 0x8035
#define ETH_TYPE_VLAN 0x8100
#define ETH_TYPE_QINQ 0x88a8
#define ETH_TYPE_IPV6 0x86dd
#define ETH_TYPE_TEB 0x6558 /* Transparent Ethernet Bridging: Geneve payload. */

#define IPPROTO_HBH 0
#define IPPROTO_ICMP4 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_AH_ 51
#define IPPROTO_ICMP6 58
#define IPPROTO_DSTOPTS_ 60
#define IPPROTO_SCTP_ 132

#define ND_NS 135
#define ND_NA 136
#define ND_OPT_SLL 1
#define ND_OPT_TLL 2

static const char *const drop_names[PACKET_N_DROP_REASONS] = {
    [PACKET_DROP_NONE] = "none",
    [PACKET_DROP_TRUNCATED_ETH] = "truncated-eth",
    [PACKET_DROP_TRUNCATED_VLAN] = "truncated-vlan",
    [PACKET_DROP_TRUNCATED_ARP] = "truncated-arp",
    [PACKET_DROP_TRUNCATED_IPV4] = "truncated-ipv4",
    [PACKET_DROP_BAD_IP_VERSION] = "bad-ip-version",
    [PACKET_DROP_BAD_IHL] = "bad-ihl",
    [PACKET_DROP_BAD_IPV4_LENGTH] = "bad-ipv4-length",
    [PACKET_DROP_TRUNCATED_IPV6] = "truncated-ipv6",
    [PACKET_DROP_TRUNCATED_IPV6_EXT] = "truncated-ipv6-ext",
    [PACKET_DROP_BAD_IPV6_EXT_LEN] = "bad-ipv6-ext-length",
    [PACKET_DROP_IPV6_EXT_LOOP] = "ipv6-ext-loop",
    [PACKET_DROP_BAD_IPV6_HBH] = "bad-ipv6-hop-by-hop",
    [PACKET_DROP_TRUNCATED_TCP] = "truncated-tcp",
    [PACKET_DROP_BAD_TCP_OFFSET] = "bad-tcp-offset",
    [PACKET_DROP_TRUNCATED_UDP] = "truncated-udp",
    [PACKET_DROP_BAD_UDP_LENGTH] = "bad-udp-length",
    [PACKET_DROP_TRUNCATED_SCTP] = "truncated-sctp",
    [PACKET_DROP_TRUNCATED_ICMP4] = "truncated-icmp4",
    [PACKET_DROP_TRUNCATED_ICMP6] = "truncated-icmp6",
    [PACKET_DROP_TRUNCATED_ND] = "truncated-nd",
    [PACKET_DROP_BAD_ND_OPTION] = "bad-nd-option",
    [PACKET_DROP_TRUNCATED_GENEVE] = "truncated-geneve",
    [PACKET_DROP_BAD_GENEVE_VERSION] = "bad-geneve-version",
    [PACKET_DROP_BAD_GENEVE_OPTLEN] = "bad-geneve-optlen",
    [PACKET_DROP_BAD_GENEVE_OPTION] = "bad-geneve-option",
    [PACKET_DROP_BAD_GENEVE_PROTO] = "bad-geneve-proto",
    [PACKET_DROP_BAD_OVN_OPTION] = "bad-ovn-option",
    [PACKET_DROP_TOO_LONG] = "too-long",
};

const char *
packet_drop_reason_name(enum packet_drop_reason reason)
{
    if ((unsigned int)reason >= PACKET_N_DROP_REASONS) {
        return "unknown";
    }
    return drop_names[reason];
}

struct parser {
    const uint8_t *p;
    unsigned int flags;
    bool inner; /* Parsing the frame inside a tunnel. */
    struct pkey *key;
    struct packet_layout *lo;
};

static inline uint16_t
rd16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t
rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static enum packet_drop_reason parse_eth(struct parser *, size_t ofs, size_t end);

/* Geneve header at 'ofs', UDP payload ending at 'end'. */
static enum packet_drop_reason
parse_geneve(struct parser *ps, size_t ofs, size_t end)
{
    const uint8_t *p = ps->p + ofs;
    struct pkey *key = ps->key;
    size_t avail = end - ofs;

    if (avail < 8) {
        return PACKET_DROP_TRUNCATED_GENEVE;
    }
    if (p[0] >> 6) {
        return PACKET_DROP_BAD_GENEVE_VERSION;
    }
    size_t optlen = (size_t)(p[0] & 0x3f) * 4;
    if (optlen > avail - 8) {
        return PACKET_DROP_BAD_GENEVE_OPTLEN;
    }
    if (rd16(p + 2) != ETH_TYPE_TEB) {
        return PACKET_DROP_BAD_GENEVE_PROTO;
    }

    uint8_t tun_flags = PKEY_TUN_PRESENT;
    uint16_t ovn_in = 0, ovn_out = 0;
    size_t o = 8;
    while (o < 8 + optlen) {
        size_t left = 8 + optlen - o;
        if (left < 4) {
            return PACKET_DROP_BAD_GENEVE_OPTION;
        }
        size_t olen = (size_t)(p[o + 3] & 0x1f) * 4;
        if (olen > left - 4) {
            return PACKET_DROP_BAD_GENEVE_OPTION;
        }
        if (rd16(p + o) == PACKET_OVN_OPT_CLASS && p[o + 2] == PACKET_OVN_OPT_TYPE) {
            if (olen != 4 || tun_flags & PKEY_TUN_OVN_OPT) {
                return PACKET_DROP_BAD_OVN_OPTION;
            }
            uint32_t data = rd32(p + o + 4);
            ovn_in = (data >> 16) & 0x7fff;
            ovn_out = data & 0xffff;
            tun_flags |= PKEY_TUN_OVN_OPT;
        }
        o += 4 + olen;
    }

    /* The outer headers become tunnel metadata; the inner frame fills the rest. */
    struct pkey_fields *f = &key->f;
    f->tun_id = htonl(rd32(p + 4) >> 8);
    f->tun_ip4_src = f->ip4_src;
    f->tun_ip4_dst = f->ip4_dst;
    memcpy(f->tun_ip6_src, f->ip6_src, 16);
    memcpy(f->tun_ip6_dst, f->ip6_dst, 16);
    f->tun_ovn_inport = htons(ovn_in);
    f->tun_ovn_outport = htons(ovn_out);
    f->tun_flags = tun_flags;
    memset(&key->w[PKEY_STAGE_END[0]], 0,
           (PKEY_N_WORDS - PKEY_STAGE_END[0]) * sizeof key->w[0]);

    struct packet_layout *lo = ps->lo;
    lo->outer_l3 = lo->l3;
    lo->outer_l4 = lo->l4;
    lo->tunnel = (uint32_t)ofs;
    lo->l3 = lo->l4 = lo->l7 = PACKET_OFS_NONE;
    ps->inner = true;
    return parse_eth(ps, ofs + 8 + optlen, end);
}

static enum packet_drop_reason
parse_nd(struct parser *ps, size_t ofs, size_t end, uint8_t type)
{
    const uint8_t *p = ps->p;
    struct pkey_fields *f = &ps->key->f;
    bool have_ll = false;

    if (end - ofs < 24) {
        return PACKET_DROP_TRUNCATED_ND;
    }
    memcpy(f->nd_target, p + ofs + 8, 16);
    for (size_t o = ofs + 24; o < end;) {
        if (end - o < 2) {
            return PACKET_DROP_BAD_ND_OPTION;
        }
        size_t olen = (size_t)p[o + 1] * 8;
        if (!olen || olen > end - o) {
            return PACKET_DROP_BAD_ND_OPTION;
        }
        uint8_t *ll = NULL;
        if (p[o] == ND_OPT_SLL && type == ND_NS) {
            ll = f->nd_sll;
        } else if (p[o] == ND_OPT_TLL && type == ND_NA) {
            ll = f->nd_tll;
        }
        if (ll && olen == 8) {
            if (have_ll) {
                return PACKET_DROP_BAD_ND_OPTION;
            }
            memcpy(ll, p + o + 2, 6);
            have_ll = true;
        }
        o += olen;
    }
    return PACKET_DROP_NONE;
}

/* L4 header of protocol 'proto' at 'ofs', IP payload ending at 'end'. */
static enum packet_drop_reason
parse_l4(struct parser *ps, uint8_t proto, bool ipv6, size_t ofs, size_t end)
{
    const uint8_t *p = ps->p + ofs;
    struct pkey_fields *f = &ps->key->f;
    size_t avail = end - ofs;

    switch (proto) {
    case IPPROTO_TCP_: {
        if (avail < 20) {
            return PACKET_DROP_TRUNCATED_TCP;
        }
        size_t doff = (size_t)(p[12] >> 4) * 4;
        if (doff < 20 || doff > avail) {
            return PACKET_DROP_BAD_TCP_OFFSET;
        }
        memcpy(&f->tcp_src, p, 2);
        memcpy(&f->tcp_dst, p + 2, 2);
        f->tcp_flags = htons(rd16(p + 12) & 0x0fff);
        ps->lo->l4 = (uint32_t)ofs;
        ps->lo->l7 = (uint32_t)(ofs + doff);
        return PACKET_DROP_NONE;
    }
    case IPPROTO_UDP_: {
        if (avail < 8) {
            return PACKET_DROP_TRUNCATED_UDP;
        }
        /* A first fragment holds only part of the datagram its length covers. */
        bool first_frag = (f->ip_frag & PKEY_FRAG_ANY) != 0;
        size_t ulen = rd16(p + 4);
        if (ulen < 8 || (ulen > avail && !first_frag)) {
            return PACKET_DROP_BAD_UDP_LENGTH;
        }
        memcpy(&f->udp_src, p, 2);
        memcpy(&f->udp_dst, p + 2, 2);
        ps->lo->l4 = (uint32_t)ofs;
        ps->lo->l7 = (uint32_t)(ofs + 8);
        if (ps->flags & PACKET_PARSE_TUNNEL && !ps->inner && !first_frag &&
            rd16(p + 2) == PACKET_GENEVE_PORT) {
            return parse_geneve(ps, ofs + 8, ofs + ulen);
        }
        return PACKET_DROP_NONE;
    }
    case IPPROTO_SCTP_:
        if (avail < 12) {
            return PACKET_DROP_TRUNCATED_SCTP;
        }
        memcpy(&f->sctp_src, p, 2);
        memcpy(&f->sctp_dst, p + 2, 2);
        ps->lo->l4 = (uint32_t)ofs;
        ps->lo->l7 = (uint32_t)(ofs + 12);
        return PACKET_DROP_NONE;
    case IPPROTO_ICMP4:
        if (ipv6) {
            return PACKET_DROP_NONE;
        }
        if (avail < 4) {
            return PACKET_DROP_TRUNCATED_ICMP4;
        }
        f->icmp4_type = p[0];
        f->icmp4_code = p[1];
        ps->lo->l4 = (uint32_t)ofs;
        ps->lo->l7 = (uint32_t)(ofs + MIN(avail, 8));
        return PACKET_DROP_NONE;
    case IPPROTO_ICMP6:
        if (!ipv6) {
            return PACKET_DROP_NONE;
        }
        if (avail < 4) {
            return PACKET_DROP_TRUNCATED_ICMP6;
        }
        f->icmp6_type = p[0];
        f->icmp6_code = p[1];
        ps->lo->l4 = (uint32_t)ofs;
        ps->lo->l7 = (uint32_t)(ofs + 4);
        if (!p[1] && (p[0] == ND_NS || p[0] == ND_NA)) {
            return parse_nd(ps, ofs, end, p[0]);
        }
        return PACKET_DROP_NONE;
    default:
        return PACKET_DROP_NONE;
    }
}

static enum packet_drop_reason
parse_ipv4(struct parser *ps, size_t ofs, size_t end)
{
    const uint8_t *p = ps->p + ofs;
    struct pkey_fields *f = &ps->key->f;
    size_t avail = end - ofs;

    if (avail < 20) {
        return PACKET_DROP_TRUNCATED_IPV4;
    }
    if (p[0] >> 4 != 4) {
        return PACKET_DROP_BAD_IP_VERSION;
    }
    size_t ihl = (size_t)(p[0] & 0xf) * 4;
    if (ihl < 20) {
        return PACKET_DROP_BAD_IHL;
    }
    size_t tot = rd16(p + 2);
    if (tot < 20) {
        return PACKET_DROP_BAD_IPV4_LENGTH;
    }
    if (tot > avail) {
        return PACKET_DROP_TRUNCATED_IPV4;
    }
    if (ihl > tot) {
        return PACKET_DROP_BAD_IHL;
    }
    ps->lo->end = (uint32_t)(ofs + tot);

    f->ip_dscp = p[1] >> 2;
    f->ip_ecn = p[1] & 3;
    f->ip_ttl = p[8];
    f->ip_proto = p[9];
    memcpy(&f->ip4_src, p + 12, 4);
    memcpy(&f->ip4_dst, p + 16, 4);

    uint16_t frag = rd16(p + 6);
    if (frag & 0x3fff) { /* More fragments, or an offset. */
        f->ip_frag = PKEY_FRAG_ANY;
        if (frag & 0x1fff) {
            f->ip_frag |= PKEY_FRAG_LATER;
            return PACKET_DROP_NONE;
        }
    }
    return parse_l4(ps, p[9], false, ofs + ihl, ofs + tot);
}

static enum packet_drop_reason
parse_ipv6(struct parser *ps, size_t ofs, size_t end)
{
    const uint8_t *p = ps->p;
    struct pkey_fields *f = &ps->key->f;

    if (end - ofs < 40) {
        return PACKET_DROP_TRUNCATED_IPV6;
    }
    uint32_t vtcfl = rd32(p + ofs);
    if (vtcfl >> 28 != 6) {
        return PACKET_DROP_BAD_IP_VERSION;
    }
    size_t plen = rd16(p + ofs + 4);
    if (plen > end - ofs - 40) {
        return PACKET_DROP_TRUNCATED_IPV6;
    }
    end = ofs + 40 + plen;
    ps->lo->end = (uint32_t)end;

    uint8_t tc = (vtcfl >> 20) & 0xff;
    f->ip_dscp = tc >> 2;
    f->ip_ecn = tc & 3;
    f->ip6_label = htonl(vtcfl & 0xfffff);
    f->ip_ttl = p[ofs + 7];
    memcpy(f->ip6_src, p + ofs + 8, 16);
    memcpy(f->ip6_dst, p + ofs + 24, 16);

    uint8_t nh = p[ofs + 6];
    size_t cur = ofs + 40;
    for (int n = 0;; n++) {
        if (nh != IPPROTO_HBH && nh != IPPROTO_ROUTING_ && nh != IPPROTO_FRAGMENT_ &&
            nh != IPPROTO_DSTOPTS_ && nh != IPPROTO_AH_) {
            break;
        }
        if (n >= PACKET_MAX_IPV6_EXT) {
            return PACKET_DROP_IPV6_EXT_LOOP;
        }
        if (nh == IPPROTO_HBH && n) {
            return PACKET_DROP_BAD_IPV6_HBH;
        }
        if (end - cur < (nh == IPPROTO_FRAGMENT_ ? 8 : 2)) {
            return PACKET_DROP_TRUNCATED_IPV6_EXT;
        }
        uint8_t next = p[cur];
        size_t len;
        if (nh == IPPROTO_FRAGMENT_) {
            uint16_t fo = rd16(p + cur + 2);
            f->ip_frag |= PKEY_FRAG_ANY;
            if (fo & 0xfff8) {
                f->ip_frag |= PKEY_FRAG_LATER;
                f->ip_proto = next;
                return PACKET_DROP_NONE;
            }
            len = 8;
        } else if (nh == IPPROTO_AH_) {
            len = ((size_t)p[cur + 1] + 2) * 4;
        } else {
            len = ((size_t)p[cur + 1] + 1) * 8;
        }
        if (len > end - cur) {
            return PACKET_DROP_BAD_IPV6_EXT_LEN;
        }
        cur += len;
        nh = next;
    }
    f->ip_proto = nh;
    return parse_l4(ps, nh, true, cur, end);
}

static enum packet_drop_reason
parse_arp(struct parser *ps, size_t ofs, size_t end)
{
    const uint8_t *p = ps->p + ofs;
    struct pkey_fields *f = &ps->key->f;

    if (end - ofs < 8) {
        return PACKET_DROP_TRUNCATED_ARP;
    }
    if (rd16(p) != 1 || rd16(p + 2) != ETH_TYPE_IP || p[4] != 6 || p[5] != 4) {
        return PACKET_DROP_NONE; /* Not Ethernet/IPv4: nothing to match on. */
    }
    if (end - ofs < 28) {
        return PACKET_DROP_TRUNCATED_ARP;
    }
    memcpy(&f->arp_op, p + 6, 2);
    memcpy(f->arp_sha, p + 8, 6);
    memcpy(&f->arp_spa, p + 14, 4);
    memcpy(f->arp_tha, p + 18, 6);
    memcpy(&f->arp_tpa, p + 24, 4);
    return PACKET_DROP_NONE;
}

static enum packet_drop_reason
parse_eth(struct parser *ps, size_t ofs, size_t end)
{
    const uint8_t *p = ps->p;
    struct pkey_fields *f = &ps->key->f;

    ps->lo->l2 = (uint32_t)ofs;
    ps->lo->end = (uint32_t)end;
    if (end - ofs < 14) {
        return PACKET_DROP_TRUNCATED_ETH;
    }
    memcpy(f->eth_dst, p + ofs, 6);
    memcpy(f->eth_src, p + ofs + 6, 6);
    uint16_t type = rd16(p + ofs + 12);
    ofs += 14;
    if (type == ETH_TYPE_VLAN || type == ETH_TYPE_QINQ) {
        if (end - ofs < 4) {
            return PACKET_DROP_TRUNCATED_VLAN;
        }
        f->vlan_tci = htons(rd16(p + ofs) | PKEY_VLAN_PRESENT);
        type = rd16(p + ofs + 2);
        ofs += 4;
    }
    if (type < 0x600) {
        f->eth_type = htons(PKEY_ETH_TYPE_NONE);
        return PACKET_DROP_NONE;
    }
    f->eth_type = htons(type);

    switch (type) {
    case ETH_TYPE_IP:
        ps->lo->l3 = (uint32_t)ofs;
        return parse_ipv4(ps, ofs, end);
    case ETH_TYPE_IPV6:
        ps->lo->l3 = (uint32_t)ofs;
        return parse_ipv6(ps, ofs, end);
    case ETH_TYPE_ARP:
    case ETH_TYPE_RARP:
        ps->lo->l3 = (uint32_t)ofs;
        return parse_arp(ps, ofs, end);
    default:
        return PACKET_DROP_NONE;
    }
}

int
packet_parse(const uint8_t *data, size_t len, unsigned int flags, struct pkey *key,
             struct packet_layout *layout, enum packet_drop_reason *reason,
             struct packet_drop_stats *stats)
{
    struct packet_layout lo = {
        .l2 = PACKET_OFS_NONE,
        .l3 = PACKET_OFS_NONE,
        .l4 = PACKET_OFS_NONE,
        .l7 = PACKET_OFS_NONE,
        .end = PACKET_OFS_NONE,
        .outer_l3 = PACKET_OFS_NONE,
        .outer_l4 = PACKET_OFS_NONE,
        .tunnel = PACKET_OFS_NONE,
    };
    struct parser ps = {
        .p = data,
        .flags = flags,
        .inner = false,
        .key = key,
        .lo = &lo,
    };
    enum packet_drop_reason r;

    pkey_init(key);
    if (len > PACKET_MAX_LEN) {
        r = PACKET_DROP_TOO_LONG;
    } else {
        r = parse_eth(&ps, 0, data ? len : 0);
    }
    if (layout) {
        *layout = lo;
    }
    if (reason) {
        *reason = r;
    }
    if (stats) {
        if (r == PACKET_DROP_NONE) {
            stats->n_parsed++;
        } else {
            stats->drops[r]++;
        }
    }
    return r == PACKET_DROP_NONE ? 0 : -EINVAL;
}
