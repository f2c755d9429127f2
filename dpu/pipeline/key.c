/* ovnic: the packet key. */
#include "dpu/pipeline/key.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define F(ID, NAME, MEMBER, BITS, FMT)                  \
    [ID] = {NAME, offsetof(struct pkey_fields, MEMBER), \
            sizeof(((struct pkey_fields *)0)->MEMBER), BITS, LEX_F_##FMT}
#define REG(N) F(PKEY_F_REG0 + N, "reg" #N, regs[N], 32, HEXADECIMAL)

static const struct pkey_field_info fields[PKEY_N_FIELDS] = {
    F(PKEY_F_DATAPATH, "metadata", datapath, 32, HEXADECIMAL),
    F(PKEY_F_INPORT, "inport", inport, 32, HEXADECIMAL),
    F(PKEY_F_OUTPORT, "outport", outport, 32, HEXADECIMAL),
    F(PKEY_F_IN_PORT, "in_port", in_port, 32, HEXADECIMAL),
    REG(0),
    REG(1),
    REG(2),
    REG(3),
    REG(4),
    REG(5),
    REG(6),
    REG(7),
    REG(8),
    REG(9),
    REG(10),
    REG(11),
    REG(12),
    REG(13),
    REG(14),
    REG(15),
    F(PKEY_F_FLAGS, "flags", flags, 32, HEXADECIMAL),
    F(PKEY_F_PKT_MARK, "pkt.mark", pkt_mark, 32, HEXADECIMAL),
    F(PKEY_F_CT_STATE, "ct_state", ct_state, 32, HEXADECIMAL),
    F(PKEY_F_CT_MARK, "ct_mark", ct_mark, 32, HEXADECIMAL),
    F(PKEY_F_CT_LABEL, "ct_label", ct_label, 128, HEXADECIMAL),
    F(PKEY_F_CT_ZONE, "ct_zone", ct_zone, 16, HEXADECIMAL),
    F(PKEY_F_TUN_ID, "tun_id", tun_id, 24, HEXADECIMAL),
    F(PKEY_F_TUN_IP4_SRC, "tun_src", tun_ip4_src, 32, IPV4),
    F(PKEY_F_TUN_IP4_DST, "tun_dst", tun_ip4_dst, 32, IPV4),
    F(PKEY_F_TUN_IP6_SRC, "tun_ipv6_src", tun_ip6_src, 128, IPV6),
    F(PKEY_F_TUN_IP6_DST, "tun_ipv6_dst", tun_ip6_dst, 128, IPV6),
    F(PKEY_F_TUN_OVN_INPORT, "tun_ovn_inport", tun_ovn_inport, 15, HEXADECIMAL),
    F(PKEY_F_TUN_OVN_OUTPORT, "tun_ovn_outport", tun_ovn_outport, 16, HEXADECIMAL),
    F(PKEY_F_TUN_FLAGS, "tun_flags", tun_flags, 8, HEXADECIMAL),
    F(PKEY_F_ETH_DST, "eth.dst", eth_dst, 48, ETHERNET),
    F(PKEY_F_ETH_SRC, "eth.src", eth_src, 48, ETHERNET),
    F(PKEY_F_ETH_TYPE, "eth.type", eth_type, 16, HEXADECIMAL),
    F(PKEY_F_VLAN_TCI, "vlan.tci", vlan_tci, 16, HEXADECIMAL),
    F(PKEY_F_IP4_SRC, "ip4.src", ip4_src, 32, IPV4),
    F(PKEY_F_IP4_DST, "ip4.dst", ip4_dst, 32, IPV4),
    F(PKEY_F_IP6_SRC, "ip6.src", ip6_src, 128, IPV6),
    F(PKEY_F_IP6_DST, "ip6.dst", ip6_dst, 128, IPV6),
    F(PKEY_F_IP6_LABEL, "ip6.label", ip6_label, 20, HEXADECIMAL),
    F(PKEY_F_IP_PROTO, "ip.proto", ip_proto, 8, HEXADECIMAL),
    F(PKEY_F_IP_DSCP, "ip.dscp", ip_dscp, 6, HEXADECIMAL),
    F(PKEY_F_IP_ECN, "ip.ecn", ip_ecn, 2, HEXADECIMAL),
    F(PKEY_F_IP_TTL, "ip.ttl", ip_ttl, 8, HEXADECIMAL),
    F(PKEY_F_IP_FRAG, "ip.frag", ip_frag, 2, HEXADECIMAL),
    F(PKEY_F_ARP_OP, "arp.op", arp_op, 16, HEXADECIMAL),
    F(PKEY_F_ARP_SPA, "arp.spa", arp_spa, 32, IPV4),
    F(PKEY_F_ARP_TPA, "arp.tpa", arp_tpa, 32, IPV4),
    F(PKEY_F_ARP_SHA, "arp.sha", arp_sha, 48, ETHERNET),
    F(PKEY_F_ARP_THA, "arp.tha", arp_tha, 48, ETHERNET),
    F(PKEY_F_TCP_SRC, "tcp.src", tcp_src, 16, HEXADECIMAL),
    F(PKEY_F_TCP_DST, "tcp.dst", tcp_dst, 16, HEXADECIMAL),
    F(PKEY_F_UDP_SRC, "udp.src", udp_src, 16, HEXADECIMAL),
    F(PKEY_F_UDP_DST, "udp.dst", udp_dst, 16, HEXADECIMAL),
    F(PKEY_F_SCTP_SRC, "sctp.src", sctp_src, 16, HEXADECIMAL),
    F(PKEY_F_SCTP_DST, "sctp.dst", sctp_dst, 16, HEXADECIMAL),
    F(PKEY_F_TCP_FLAGS, "tcp.flags", tcp_flags, 12, HEXADECIMAL),
    F(PKEY_F_ICMP4_TYPE, "icmp4.type", icmp4_type, 8, HEXADECIMAL),
    F(PKEY_F_ICMP4_CODE, "icmp4.code", icmp4_code, 8, HEXADECIMAL),
    F(PKEY_F_ICMP6_TYPE, "icmp6.type", icmp6_type, 8, HEXADECIMAL),
    F(PKEY_F_ICMP6_CODE, "icmp6.code", icmp6_code, 8, HEXADECIMAL),
    F(PKEY_F_ND_TARGET, "nd.target", nd_target, 128, IPV6),
    F(PKEY_F_ND_SLL, "nd.sll", nd_sll, 48, ETHERNET),
    F(PKEY_F_ND_TLL, "nd.tll", nd_tll, 48, ETHERNET),
};

#undef REG
#undef F

const struct pkey_field_info *
pkey_field_info(enum pkey_field_id id)
{
    return &fields[id];
}

/* Key field of each symtab storage field, plus one (0: none). */
static const uint8_t from_symtab[SYMTAB_N_FIELDS] = {
    [SYMTAB_F_INPORT] = PKEY_F_INPORT + 1,
    [SYMTAB_F_OUTPORT] = PKEY_F_OUTPORT + 1,
    [SYMTAB_F_REG0] = PKEY_F_REG0 + 1,
    [SYMTAB_F_REG1] = PKEY_F_REG0 + 1 + 1,
    [SYMTAB_F_REG2] = PKEY_F_REG0 + 2 + 1,
    [SYMTAB_F_REG3] = PKEY_F_REG0 + 3 + 1,
    [SYMTAB_F_REG4] = PKEY_F_REG0 + 4 + 1,
    [SYMTAB_F_REG5] = PKEY_F_REG0 + 5 + 1,
    [SYMTAB_F_REG6] = PKEY_F_REG0 + 6 + 1,
    [SYMTAB_F_REG7] = PKEY_F_REG0 + 7 + 1,
    [SYMTAB_F_REG8] = PKEY_F_REG0 + 8 + 1,
    [SYMTAB_F_REG9] = PKEY_F_REG0 + 9 + 1,
    [SYMTAB_F_FLAGS] = PKEY_F_FLAGS + 1,
    [SYMTAB_F_PKT_MARK] = PKEY_F_PKT_MARK + 1,
    [SYMTAB_F_CT_STATE] = PKEY_F_CT_STATE + 1,
    [SYMTAB_F_CT_MARK] = PKEY_F_CT_MARK + 1,
    [SYMTAB_F_CT_LABEL] = PKEY_F_CT_LABEL + 1,
    [SYMTAB_F_ETH_SRC] = PKEY_F_ETH_SRC + 1,
    [SYMTAB_F_ETH_DST] = PKEY_F_ETH_DST + 1,
    [SYMTAB_F_ETH_TYPE] = PKEY_F_ETH_TYPE + 1,
    [SYMTAB_F_VLAN_TCI] = PKEY_F_VLAN_TCI + 1,
    [SYMTAB_F_IP_PROTO] = PKEY_F_IP_PROTO + 1,
    [SYMTAB_F_IP_DSCP] = PKEY_F_IP_DSCP + 1,
    [SYMTAB_F_IP_ECN] = PKEY_F_IP_ECN + 1,
    [SYMTAB_F_IP_TTL] = PKEY_F_IP_TTL + 1,
    [SYMTAB_F_IP_FRAG] = PKEY_F_IP_FRAG + 1,
    [SYMTAB_F_IP4_SRC] = PKEY_F_IP4_SRC + 1,
    [SYMTAB_F_IP4_DST] = PKEY_F_IP4_DST + 1,
    [SYMTAB_F_IP6_SRC] = PKEY_F_IP6_SRC + 1,
    [SYMTAB_F_IP6_DST] = PKEY_F_IP6_DST + 1,
    [SYMTAB_F_IP6_LABEL] = PKEY_F_IP6_LABEL + 1,
    [SYMTAB_F_ARP_OP] = PKEY_F_ARP_OP + 1,
    [SYMTAB_F_ARP_SPA] = PKEY_F_ARP_SPA + 1,
    [SYMTAB_F_ARP_TPA] = PKEY_F_ARP_TPA + 1,
    [SYMTAB_F_ARP_SHA] = PKEY_F_ARP_SHA + 1,
    [SYMTAB_F_ARP_THA] = PKEY_F_ARP_THA + 1,
    [SYMTAB_F_ICMP4_TYPE] = PKEY_F_ICMP4_TYPE + 1,
    [SYMTAB_F_ICMP4_CODE] = PKEY_F_ICMP4_CODE + 1,
    [SYMTAB_F_ICMP6_TYPE] = PKEY_F_ICMP6_TYPE + 1,
    [SYMTAB_F_ICMP6_CODE] = PKEY_F_ICMP6_CODE + 1,
    [SYMTAB_F_ND_TARGET] = PKEY_F_ND_TARGET + 1,
    [SYMTAB_F_ND_SLL] = PKEY_F_ND_SLL + 1,
    [SYMTAB_F_ND_TLL] = PKEY_F_ND_TLL + 1,
    [SYMTAB_F_TCP_SRC] = PKEY_F_TCP_SRC + 1,
    [SYMTAB_F_TCP_DST] = PKEY_F_TCP_DST + 1,
    [SYMTAB_F_TCP_FLAGS] = PKEY_F_TCP_FLAGS + 1,
    [SYMTAB_F_UDP_SRC] = PKEY_F_UDP_SRC + 1,
    [SYMTAB_F_UDP_DST] = PKEY_F_UDP_DST + 1,
    [SYMTAB_F_SCTP_SRC] = PKEY_F_SCTP_SRC + 1,
    [SYMTAB_F_SCTP_DST] = PKEY_F_SCTP_DST + 1,
};

int
pkey_field_from_symtab(enum symtab_field_id id, enum pkey_field_id *out)
{
    if ((unsigned int)id >= SYMTAB_N_FIELDS || !from_symtab[id]) {
        return -ENOENT;
    }
    *out = (enum pkey_field_id)(from_symtab[id] - 1);
    return 0;
}

void
pkey_init(struct pkey *key)
{
    memset(key, 0, sizeof *key);
}

void
pkey_mask_init(struct pkey_mask *mask)
{
    memset(mask, 0, sizeof *mask);
}

static lex_u128
width_mask__(int n_bits)
{
    return n_bits >= 128 ? ~(lex_u128)0 : ((lex_u128)1 << n_bits) - 1;
}

static lex_u128
bytes_get__(const uint8_t *p, const struct pkey_field_info *fi)
{
    lex_u128 v = 0;
    for (int i = 0; i < fi->n_bytes; i++) {
        v = (v << 8) | p[fi->ofs + i];
    }
    return v & width_mask__(fi->n_bits);
}

static void
bytes_set__(uint8_t *p, const struct pkey_field_info *fi, lex_u128 v)
{
    v &= width_mask__(fi->n_bits);
    for (int i = fi->n_bytes - 1; i >= 0; i--) {
        p[fi->ofs + i] = (uint8_t)v;
        v >>= 8;
    }
}

lex_u128
pkey_field_get(const struct pkey *key, enum pkey_field_id id)
{
    return bytes_get__((const uint8_t *)key->w, &fields[id]);
}

void
pkey_field_set(struct pkey *key, enum pkey_field_id id, lex_u128 value)
{
    bytes_set__((uint8_t *)key->w, &fields[id], value);
}

lex_u128
pkey_mask_field_get(const struct pkey_mask *mask, enum pkey_field_id id)
{
    return bytes_get__((const uint8_t *)mask->w, &fields[id]);
}

void
pkey_mask_field_set(struct pkey_mask *mask, enum pkey_field_id id, lex_u128 bits)
{
    bytes_set__((uint8_t *)mask->w, &fields[id], bits);
}

/* ----- Formatting. ----- */

struct fmt_buf {
    char *buf;
    size_t size;
    size_t len; /* Length of the whole text, even beyond 'size'. */
};

static void OVNIC_PRINTF(2, 3) fmt_put__(struct fmt_buf *fb, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    size_t avail = fb->len < fb->size ? fb->size - fb->len : 0;
    int n = vsnprintf(avail ? fb->buf + fb->len : NULL, avail, fmt, args);
    va_end(args);
    if (n > 0) {
        fb->len += (size_t)n;
    }
}

static void
fmt_value__(struct fmt_buf *fb, const struct pkey_field_info *fi, lex_u128 v)
{
    uint8_t bytes[16];
    for (int i = 15; i >= 0; i--) {
        bytes[i] = (uint8_t)v;
        v >>= 8;
    }
    switch (fi->format) {
    case LEX_F_IPV4:
        fmt_put__(fb, "%u.%u.%u.%u", bytes[12], bytes[13], bytes[14], bytes[15]);
        break;
    case LEX_F_IPV6: {
        char s[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, bytes, s, sizeof s);
        fmt_put__(fb, "%s", s);
        break;
    }
    case LEX_F_ETHERNET:
        fmt_put__(fb, "%02x:%02x:%02x:%02x:%02x:%02x", bytes[10], bytes[11], bytes[12],
                  bytes[13], bytes[14], bytes[15]);
        break;
    case LEX_F_DECIMAL:
    case LEX_F_HEXADECIMAL:
    default: {
        uint64_t hi = 0, lo = 0;
        for (int i = 0; i < 8; i++) {
            hi = (hi << 8) | bytes[i];
            lo = (lo << 8) | bytes[i + 8];
        }
        if (hi) {
            fmt_put__(fb, "0x%llx%016llx", (unsigned long long)hi,
                      (unsigned long long)lo);
        } else {
            fmt_put__(fb, "0x%llx", (unsigned long long)lo);
        }
        break;
    }
    }
}

static size_t
format__(const struct pkey *key, const struct pkey_mask *mask, char *buf, size_t size)
{
    struct fmt_buf fb = {buf, size, 0};
    bool any = false;

    if (size) {
        buf[0] = '\0';
    }
    for (int id = 0; id < PKEY_N_FIELDS; id++) {
        const struct pkey_field_info *fi = &fields[id];
        lex_u128 m = mask ? pkey_mask_field_get(mask, id) : width_mask__(fi->n_bits);
        lex_u128 v = key ? pkey_field_get(key, id) & m : 0;
        if (mask ? !m : !v) {
            continue;
        }
        fmt_put__(&fb, "%s%s", any ? " " : "", fi->name);
        if (key) {
            fmt_put__(&fb, "=");
            fmt_value__(&fb, fi, v);
        }
        if (!key || m != width_mask__(fi->n_bits)) {
            fmt_put__(&fb, "/");
            fmt_value__(&fb, fi, m);
        }
        any = true;
    }
    if (!any) {
        fmt_put__(&fb, "*");
    }
    return fb.len;
}

size_t
pkey_format(const struct pkey *key, const struct pkey_mask *mask, char *buf, size_t size)
{
    return format__(key, mask, buf, size);
}

size_t
pkey_mask_format(const struct pkey_mask *mask, char *buf, size_t size)
{
    return format__(NULL, mask, buf, size);
}
