/* Test packets for the simulated eSwitch, built byte by byte with full checksums, so
 * that a rewritten packet can be compared byte-exactly with one built fresh. */
#ifndef OVNIC_TESTS_ESWITCH_PKT_H
#define OVNIC_TESTS_ESWITCH_PKT_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct pspec {
    uint8_t dst[6];
    uint8_t src[6];
    uint16_t vlan_tci; /* 0: untagged. */
    int l3;            /* 4 or 6. */
    uint8_t src4[4];
    uint8_t dst4[4];
    uint8_t src6[16];
    uint8_t dst6[16];
    uint8_t ttl;
    uint8_t proto; /* 17 UDP, 6 TCP, 1 ICMP. */
    uint16_t sport;
    uint16_t dport;
    uint8_t tcp_flags;
    uint8_t icmp_type;
    size_t payload; /* Bytes of 0xab after the L4 header. */
};

static inline void
pkt_put16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = (uint8_t)v;
}

static inline uint16_t
pkt_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
pkt_sum(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += pkt_get16(p + i);
    }
    if (n & 1) {
        sum += (uint32_t)p[n - 1] << 8;
    }
    return sum;
}

static inline uint16_t
pkt_fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

/* Default test flow: 00:00:00:00:00:01 -> 00:00:00:00:00:02, 10.0.0.1 -> 10.0.0.2,
 * UDP 1000 -> 2000, TTL 64, 16 bytes of payload. */
static inline struct pspec
pspec_default(void)
{
    struct pspec s;
    memset(&s, 0, sizeof s);
    s.dst[5] = 2;
    s.src[5] = 1;
    s.l3 = 4;
    s.src4[0] = 10, s.src4[3] = 1;
    s.dst4[0] = 10, s.dst4[3] = 2;
    s.src6[0] = 0xfd, s.src6[15] = 1;
    s.dst6[0] = 0xfd, s.dst6[15] = 2;
    s.ttl = 64;
    s.proto = 17;
    s.sport = 1000;
    s.dport = 2000;
    s.tcp_flags = 0x10;
    s.icmp_type = 8;
    s.payload = 16;
    return s;
}

/* Builds the packet into 'b' and returns its length. */
static inline size_t
pkt_build(const struct pspec *s, uint8_t *b)
{
    size_t off = 0;
    memcpy(b, s->dst, 6);
    memcpy(b + 6, s->src, 6);
    off = 12;
    if (s->vlan_tci) {
        pkt_put16(b + off, 0x8100);
        pkt_put16(b + off + 2, s->vlan_tci);
        off += 4;
    }
    pkt_put16(b + off, s->l3 == 6 ? 0x86dd : 0x0800);
    off += 2;
    size_t l3 = off;
    size_t l3len = s->l3 == 6 ? 40 : 20;
    size_t l4 = l3 + l3len;
    size_t l4hdr = s->proto == 6 ? 20 : 8;
    size_t l4len = l4hdr + s->payload;
    memset(b + l3, 0, l3len + l4len);
    memset(b + l4 + l4hdr, 0xab, s->payload);
    if (s->l3 == 6) {
        b[l3] = 0x60;
        pkt_put16(b + l3 + 4, (uint16_t)l4len);
        b[l3 + 6] = s->proto;
        b[l3 + 7] = s->ttl;
        memcpy(b + l3 + 8, s->src6, 16);
        memcpy(b + l3 + 24, s->dst6, 16);
    } else {
        b[l3] = 0x45;
        pkt_put16(b + l3 + 2, (uint16_t)(l3len + l4len));
        pkt_put16(b + l3 + 4, 0x1234);
        b[l3 + 8] = s->ttl;
        b[l3 + 9] = s->proto;
        memcpy(b + l3 + 12, s->src4, 4);
        memcpy(b + l3 + 16, s->dst4, 4);
        pkt_put16(b + l3 + 10, pkt_fold(pkt_sum(0, b + l3, 20)));
    }
    uint8_t *p = b + l4;
    if (s->proto == 1) {
        p[0] = s->icmp_type;
        pkt_put16(p + 4, 0x77);
        pkt_put16(p + 2, pkt_fold(pkt_sum(0, p, l4len)));
        return l4 + l4len;
    }
    pkt_put16(p, s->sport);
    pkt_put16(p + 2, s->dport);
    if (s->proto == 6) {
        p[12] = 5 << 4;
        p[13] = s->tcp_flags;
        pkt_put16(p + 14, 1024);
    } else {
        pkt_put16(p + 4, (uint16_t)l4len);
    }
    /* Pseudo-header. */
    uint32_t sum = 0;
    if (s->l3 == 6) {
        sum = pkt_sum(sum, b + l3 + 8, 32);
    } else {
        sum = pkt_sum(sum, b + l3 + 12, 8);
    }
    sum += s->proto + (uint32_t)l4len;
    sum = pkt_sum(sum, p, l4len);
    uint16_t csum = pkt_fold(sum);
    if (s->proto == 17 && !csum) {
        csum = 0xffff;
    }
    pkt_put16(p + (s->proto == 6 ? 16 : 6), csum);
    return l4 + l4len;
}

#endif /* OVNIC_TESTS_ESWITCH_PKT_H */
