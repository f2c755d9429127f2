/* ovnic hw-sim: Geneve headers as OVN uses them (see geneve.h). */
#include "tests/hw-sim/eswitch/geneve.h"

#include <errno.h>
#include <string.h>

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

size_t
geneve_encap_build(const struct geneve_encap *p, uint8_t *buf, size_t size)
{
    size_t len = p->ovn_opt ? GENEVE_OVN_ENCAP_LEN : GENEVE_OVN_ENCAP_LEN - 8;
    if (size < len || p->vni > 0xffffff || p->in_port > 0x7fff) {
        return 0;
    }
    memset(buf, 0, len);
    memcpy(buf, p->eth_dst, 6);
    memcpy(buf + 6, p->eth_src, 6);
    put16(buf + 12, 0x0800);

    uint8_t *ip = buf + 14;
    ip[0] = 0x45;
    put16(ip + 6, 0x4000); /* Don't fragment. */
    ip[8] = p->ttl ? p->ttl : 64;
    ip[9] = 17;
    memcpy(ip + 12, p->ip_src, 4);
    memcpy(ip + 16, p->ip_dst, 4);
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2) {
        sum += get16(ip + i);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    put16(ip + 10, (uint16_t)~sum);

    uint8_t *udp = ip + 20;
    put16(udp, p->udp_src);
    put16(udp + 2, GENEVE_UDP_PORT);

    uint8_t *gnv = udp + 8;
    gnv[0] = p->ovn_opt ? 2 : 0; /* Version 0, options length in 4-byte words. */
    put16(gnv + 2, 0x6558);
    gnv[4] = (uint8_t)(p->vni >> 16);
    gnv[5] = (uint8_t)(p->vni >> 8);
    gnv[6] = (uint8_t)p->vni;
    if (p->ovn_opt) {
        uint8_t *opt = gnv + 8;
        put16(opt, GENEVE_OVN_CLASS);
        opt[2] = GENEVE_OVN_TYPE;
        opt[3] = 1;
        put16(opt + 4, p->in_port & 0x7fff);
        put16(opt + 6, p->out_port);
    }
    return len;
}

int
geneve_ovn_parse(const uint8_t *pkt, size_t len, uint32_t *vni, bool *has_opt,
                 uint16_t *in_port, uint16_t *out_port, size_t *inner_off)
{
    if (len < 14 + 20 || get16(pkt + 12) != 0x0800 || pkt[14] >> 4 != 4) {
        return -EINVAL;
    }
    size_t ihl = (pkt[14] & 0xf) * 4u;
    size_t udp = 14 + ihl;
    if (ihl < 20 || pkt[14 + 9] != 17 || len < udp + 16 ||
        get16(pkt + udp + 2) != GENEVE_UDP_PORT) {
        return -EINVAL;
    }
    const uint8_t *gnv = pkt + udp + 8;
    size_t optlen = (gnv[0] & 0x3f) * 4u;
    size_t inner = udp + 16 + optlen;
    if (gnv[0] >> 6 || len < inner) {
        return -EINVAL;
    }
    bool found = false;
    uint16_t in = 0, out = 0;
    for (size_t off = udp + 16; off + 4 <= inner;) {
        const uint8_t *opt = pkt + off;
        size_t olen = (opt[3] & 0x1f) * 4u;
        if (off + 4 + olen > inner) {
            return -EINVAL;
        }
        if (get16(opt) == GENEVE_OVN_CLASS && opt[2] == GENEVE_OVN_TYPE && olen == 4) {
            found = true;
            in = get16(opt + 4) & 0x7fff;
            out = get16(opt + 6);
        }
        off += 4 + olen;
    }
    if (vni) {
        *vni = (uint32_t)gnv[4] << 16 | (uint32_t)gnv[5] << 8 | gnv[6];
    }
    if (has_opt) {
        *has_opt = found;
    }
    if (in_port) {
        *in_port = in;
    }
    if (out_port) {
        *out_port = out;
    }
    if (inner_off) {
        *inner_off = inner;
    }
    return 0;
}
