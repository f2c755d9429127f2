/* ovnic: Geneve encapsulation with OVN's option, and the MTU policy around it. */
#include "dpu/vswitch/tunnel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "dpu/pipeline/ctrl.h"
#include "dpu/pipeline/exec.h"
#include "dpu/pipeline/key.h"
#include "shared/util/util.h"

#define ETH_LEN 14
#define IP4_LEN 20
#define IP6_LEN 40
#define UDP_LEN 8
#define GENEVE_LEN 8
#define OVN_OPT_LEN 8
#define ETH_TYPE_IP 0x0800
#define ETH_TYPE_IPV6 0x86dd
#define ETH_TYPE_TEB 0x6558
#define IP4_DF 0x4000
#define IP4_MF 0x2000
#define IP4_OFFSET_MASK 0x1fff

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

/* One's-complement sum of [p, p + n) added to 'sum', folded to 16 bits (not
 * complemented): a partial sum to chain into ctrl_csum(). */
static uint32_t
csum_partial(const void *p, size_t n, uint32_t sum)
{
    return (uint16_t)~ctrl_csum(p, n, sum);
}

static bool
is_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i]) {
            return false;
        }
    }
    return true;
}

int
tunnel_ip_parse(const char *text, uint8_t ip[16], bool *ipv6)
{
    uint8_t buf[16] = {0};

    if (!text || !ip || !ipv6) {
        return -EINVAL;
    }
    if (inet_pton(AF_INET, text, buf) == 1) {
        memcpy(ip, buf, 16);
        *ipv6 = false;
        return 0;
    }
    if (inet_pton(AF_INET6, text, buf) == 1) {
        memcpy(ip, buf, 16);
        *ipv6 = true;
        return 0;
    }
    return -EINVAL;
}

uint16_t
tunnel_src_port(uint32_t flow_hash)
{
    /* Fold the high half in so that hashes differing only there still spread. */
    uint32_t h = flow_hash ^ (flow_hash >> 16);
    return (uint16_t)(TUNNEL_SRC_PORT_MIN | (h & 0x3fff));
}

size_t
tunnel_overhead(bool ipv6)
{
    return (ipv6 ? TUNNEL_HDR_LEN_IP6 : TUNNEL_HDR_LEN_IP4) - ETH_LEN;
}

int
tunnel_encap_header(const struct tunnel_params *params, const uint8_t *inner,
                    size_t inner_len, uint8_t *hdr, size_t size, size_t *hdr_len)
{
    if (!params || !inner || !hdr || !hdr_len || inner_len < ETH_LEN) {
        return -EINVAL;
    }
    if (params->vni > 0xffffff || params->ovn_inport > 0x7fff) {
        return -EINVAL;
    }
    bool v6 = params->ipv6;
    size_t ip_alen = v6 ? 16 : 4;
    if (is_zero(params->src_ip, ip_alen) || is_zero(params->dst_ip, ip_alen)) {
        return -EINVAL;
    }

    size_t l3_len = v6 ? IP6_LEN : IP4_LEN;
    size_t len = ETH_LEN + l3_len + UDP_LEN + GENEVE_LEN + OVN_OPT_LEN;
    size_t udp_len = UDP_LEN + GENEVE_LEN + OVN_OPT_LEN + inner_len;
    size_t ip_total = (v6 ? 0 : IP4_LEN) + udp_len; /* IPv6: the payload length. */
    if (ip_total > 0xffff) {
        return -EMSGSIZE;
    }
    if (size < len) {
        return -ENOSPC;
    }

    uint8_t ttl = params->ttl ? params->ttl : 64;
    uint8_t *p = hdr;

    /* Ethernet. */
    memcpy(p, params->dst_mac, 6);
    memcpy(p + 6, params->src_mac, 6);
    put16(p + 12, v6 ? ETH_TYPE_IPV6 : ETH_TYPE_IP);
    p += ETH_LEN;

    /* IP. */
    uint8_t *l3 = p;
    if (v6) {
        /* Version 6, traffic class 0, flow label from the inner flow (RFC 6438). */
        put32(p, 0x60000000u | (params->flow_hash & 0xfffff));
        put16(p + 4, (uint16_t)udp_len);
        p[6] = 17;
        p[7] = ttl;
        memcpy(p + 8, params->src_ip, 16);
        memcpy(p + 24, params->dst_ip, 16);
    } else {
        memset(p, 0, IP4_LEN);
        p[0] = 0x45;
        put16(p + 2, (uint16_t)ip_total);
        put16(p + 6, IP4_DF); /* Never fragmented: identification 0 (RFC 6864). */
        p[8] = ttl;
        p[9] = 17;
        memcpy(p + 12, params->src_ip, 4);
        memcpy(p + 16, params->dst_ip, 4);
        put16(p + 10, ctrl_csum(p, IP4_LEN, 0));
    }
    p += l3_len;

    /* UDP. */
    uint8_t *udp = p;
    put16(p, tunnel_src_port(params->flow_hash));
    put16(p + 2, PACKET_GENEVE_PORT);
    put16(p + 4, (uint16_t)udp_len);
    put16(p + 6, 0);
    p += UDP_LEN;

    /* Geneve: version 0, options length 2 words, no O/C flags, TEB, VNI. */
    p[0] = OVN_OPT_LEN / 4;
    p[1] = 0;
    put16(p + 2, ETH_TYPE_TEB);
    put32(p + 4, params->vni << 8);
    p += GENEVE_LEN;

    /* OVN's option: class 0x0102, type 0x80, 1 word of data. */
    put16(p, PACKET_OVN_OPT_CLASS);
    p[2] = PACKET_OVN_OPT_TYPE;
    p[3] = 1;
    put32(p + 4, ((uint32_t)params->ovn_inport << 16) | params->ovn_outport);
    p += OVN_OPT_LEN;

    if (v6 || params->udp_csum) {
        uint32_t sum;
        if (v6) {
            sum = csum_partial(l3 + 8, 32, 0);
        } else {
            sum = csum_partial(l3 + 12, 8, 0);
        }
        sum += (uint32_t)udp_len + 17;
        /* The header part is an even number of bytes, so 'inner' continues the
         * 16-bit word sequence. */
        sum = csum_partial(udp, (size_t)(p - udp), sum);
        uint16_t c = ctrl_csum(inner, inner_len, sum);
        put16(udp + 6, c ? c : 0xffff);
    }

    *hdr_len = len;
    return 0;
}

int
tunnel_decap_offset(const struct packet_layout *layout, size_t *offset)
{
    if (!layout || !offset || layout->tunnel == PACKET_OFS_NONE ||
        layout->l2 == PACKET_OFS_NONE || layout->l2 <= layout->tunnel) {
        return -EINVAL;
    }
    *offset = layout->l2;
    return 0;
}

bool
tunnel_fits(size_t inner_len, bool ipv6, unsigned int mtu)
{
    return inner_len + tunnel_overhead(ipv6) <= mtu;
}

/* ---- ICMP "too big". ---- */

static bool
icmp4_is_error(uint8_t type)
{
    return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

static lex_u128
bytes_value(const uint8_t *p, size_t n)
{
    lex_u128 v = 0;
    for (size_t i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

static void
change_add(struct exec_result *r, enum pkey_field_id field, const uint8_t *p, size_t n)
{
    struct exec_change *c = &r->changes[r->n_changes++];
    c->field = field;
    c->value = bytes_value(p, n);
    c->mask = n >= 16 ? ~(lex_u128)0 : (((lex_u128)1 << (n * 8)) - 1);
}

/* May an ICMP error be sent about a packet from this source (RFC 1122 3.2.2, RFC
 * 4443 2.4 (e))? */
static bool
src_may_get_error(const struct pkey_fields *f, bool ipv6)
{
    if (ipv6) {
        return !is_zero(f->ip6_src, 16) && f->ip6_src[0] != 0xff;
    }
    uint32_t src = ntohl(f->ip4_src);
    return src != 0 && src != 0xffffffffu && (src >> 28) != 0xe;
}

int
tunnel_too_big_build(const uint8_t *inner, size_t len, unsigned int mtu, bool outer_ipv6,
                     const uint8_t router_ip[16], uint8_t *out, size_t size,
                     size_t *out_len)
{
    struct pkey key;
    struct packet_layout lay;

    if (!inner || !router_ip || !out || !out_len) {
        return -EINVAL;
    }
    if (packet_parse(inner, len, 0, &key, &lay, NULL, NULL)) {
        return -EINVAL;
    }
    const struct pkey_fields *f = &key.f;
    uint16_t eth_type = ntohs(f->eth_type);
    bool ipv6;
    if (eth_type == ETH_TYPE_IP && lay.l3 != PACKET_OFS_NONE) {
        ipv6 = false;
        if (f->ip_frag & PKEY_FRAG_LATER) {
            return -EINVAL; /* No ICMP error about a non-initial fragment. */
        }
        if (f->ip_proto == 1 &&
            (lay.l4 == PACKET_OFS_NONE || icmp4_is_error(f->icmp4_type))) {
            return -EINVAL;
        }
    } else if (eth_type == ETH_TYPE_IPV6 && lay.l3 != PACKET_OFS_NONE) {
        ipv6 = true;
        if (f->ip_proto == 58 && lay.l4 != PACKET_OFS_NONE && f->icmp6_type < 128) {
            return -EINVAL;
        }
        if (f->ip_proto == 58 && lay.l4 == PACKET_OFS_NONE &&
            !(f->ip_frag & PKEY_FRAG_LATER)) {
            return -EINVAL;
        }
    } else {
        return -EINVAL;
    }
    if (!src_may_get_error(f, ipv6)) {
        return -EINVAL;
    }

    size_t overhead = tunnel_overhead(outer_ipv6) + (lay.l3 - lay.l2);
    if (mtu <= overhead) {
        return -EINVAL;
    }
    uint32_t inner_mtu = (uint32_t)(mtu - overhead);

    size_t n;
    int error = ctrl_packet_build(ipv6 ? ACTION_ICMP6_ERROR : ACTION_ICMP4_ERROR, inner,
                                  len, out, size, &n, NULL);
    if (error) {
        return error == -ENOSPC ? -ENOSPC : -EINVAL;
    }

    /* The base packet has the original addresses and a generic unreachable code:
     * turn it around and make it the "too big" message. */
    struct exec_result r;
    exec_result_init(&r, NULL);
    change_add(&r, PKEY_F_ETH_DST, f->eth_src, 6);
    change_add(&r, PKEY_F_ETH_SRC, f->eth_dst, 6);
    if (ipv6) {
        static const uint8_t type = 2, code = 0;
        change_add(&r, PKEY_F_IP6_SRC, router_ip, 16);
        change_add(&r, PKEY_F_IP6_DST, f->ip6_src, 16);
        change_add(&r, PKEY_F_ICMP6_TYPE, &type, 1);
        change_add(&r, PKEY_F_ICMP6_CODE, &code, 1);
    } else {
        static const uint8_t type = 3, code = 4;
        change_add(&r, PKEY_F_IP4_SRC, router_ip, 4);
        change_add(&r, PKEY_F_IP4_DST, (const uint8_t *)&f->ip4_src, 4);
        change_add(&r, PKEY_F_ICMP4_TYPE, &type, 1);
        change_add(&r, PKEY_F_ICMP4_CODE, &code, 1);
        inner_mtu = MIN(inner_mtu, 0xffffu);
    }
    r.has_frag_mtu = true;
    r.frag_mtu = inner_mtu;
    error = ctrl_packet_apply(out, n, &r, 0, NULL);
    if (error) {
        return -EINVAL;
    }
    *out_len = n;
    return 0;
}

/* ---- IPv4 fragmentation. ---- */

/* Writes into 'opts' the options of the IPv4 header 'ip' ('ihl' bytes) that RFC 791
 * copies into every fragment, padded to a multiple of 4.  Returns their length, or
 * -EINVAL for malformed options. */
static int
ip4_copied_options(const uint8_t *ip, size_t ihl, uint8_t opts[40])
{
    size_t n = 0;
    for (size_t o = IP4_LEN; o < ihl;) {
        uint8_t type = ip[o];
        if (type == 0) { /* End of options list. */
            break;
        }
        if (type == 1) { /* No operation: not copied. */
            o++;
            continue;
        }
        if (ihl - o < 2 || ip[o + 1] < 2 || ip[o + 1] > ihl - o) {
            return -EINVAL;
        }
        size_t olen = ip[o + 1];
        if (type & 0x80) {
            memcpy(opts + n, ip + o, olen);
            n += olen;
        }
        o += olen;
    }
    while (n % 4) {
        opts[n++] = 0;
    }
    return (int)n;
}

int
tunnel_ip4_fragment(const uint8_t *pkt, size_t len, unsigned int ip_mtu, uint8_t *out,
                    size_t size, size_t *lens, size_t max_frags)
{
    if (!pkt || !out || !lens || len < ETH_LEN) {
        return -EINVAL;
    }
    /* Parsed here rather than by packet_parse(): the input may itself be the first
     * fragment of a datagram whose L4 header announces more than it holds. */
    size_t l2_len = ETH_LEN;
    uint16_t eth_type = get16(pkt + 12);
    if (eth_type == 0x8100 || eth_type == 0x88a8) {
        if (len < ETH_LEN + 4) {
            return -EINVAL;
        }
        l2_len += 4;
        eth_type = get16(pkt + 16);
    }
    if (eth_type != ETH_TYPE_IP || len - l2_len < IP4_LEN) {
        return -EINVAL;
    }
    const uint8_t *ip = pkt + l2_len;
    size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
    size_t total = get16(ip + 2);
    if (ip[0] >> 4 != 4 || ihl < IP4_LEN || total < ihl || total > len - l2_len) {
        return -EINVAL;
    }
    uint16_t frag = get16(ip + 6);
    if (frag & IP4_DF) {
        return -EINVAL;
    }
    size_t data_len = total - ihl;
    size_t base_off = (size_t)(frag & IP4_OFFSET_MASK) * 8;
    bool last_mf = frag & IP4_MF;
    if (base_off + data_len > 0xffff) {
        return -EINVAL;
    }

    uint8_t opts[40];
    int n_opts = ip4_copied_options(ip, ihl, opts);
    if (n_opts < 0) {
        return -EINVAL;
    }
    size_t later_ihl = IP4_LEN + (size_t)n_opts;

    if (total <= ip_mtu) {
        /* Fits already: one "fragment", the packet without Ethernet padding. */
        if (max_frags < 1 || size < l2_len + total) {
            return -ENOSPC;
        }
        memcpy(out, pkt, l2_len + total);
        lens[0] = l2_len + total;
        return 1;
    }
    if (ip_mtu < ihl + 8 || ip_mtu < later_ihl + 8) {
        return -EINVAL;
    }
    size_t first_chunk = (ip_mtu - ihl) & ~(size_t)7;
    size_t later_chunk = (ip_mtu - later_ihl) & ~(size_t)7;

    /* Count and size first, so that nothing is written unless all of it fits. */
    size_t n_frags = 1, bytes = l2_len + ihl + first_chunk;
    for (size_t off = first_chunk; off < data_len; off += later_chunk) {
        n_frags++;
        bytes += l2_len + later_ihl + MIN(later_chunk, data_len - off);
    }
    if (n_frags > max_frags || bytes > size) {
        return -ENOSPC;
    }

    uint8_t *p = out;
    size_t off = 0;
    for (size_t i = 0; i < n_frags; i++) {
        size_t hl = i ? later_ihl : ihl;
        size_t chunk = MIN(i ? later_chunk : first_chunk, data_len - off);
        bool last = off + chunk == data_len;

        memcpy(p, pkt, l2_len);
        uint8_t *h = p + l2_len;
        memcpy(h, ip, IP4_LEN);
        if (i) {
            memcpy(h + IP4_LEN, opts, (size_t)n_opts);
        } else {
            memcpy(h + IP4_LEN, ip + IP4_LEN, ihl - IP4_LEN);
        }
        h[0] = (uint8_t)(0x40 | (hl / 4));
        put16(h + 2, (uint16_t)(hl + chunk));
        uint16_t fo = (uint16_t)((base_off + off) / 8);
        if (!last || last_mf) {
            fo |= IP4_MF;
        }
        put16(h + 6, fo);
        put16(h + 10, 0);
        put16(h + 10, ctrl_csum(h, hl, 0));
        memcpy(h + hl, ip + ihl + off, chunk);

        lens[i] = l2_len + hl + chunk;
        p += lens[i];
        off += chunk;
    }
    return (int)n_frags;
}
