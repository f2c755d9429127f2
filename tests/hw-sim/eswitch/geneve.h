/* ovnic hw-sim: Geneve headers as OVN uses them (UDP 6081, option class 0x0102 type
 * 0x80 carrying the logical ingress and egress port keys).
 *
 * geneve_encap_build() produces the outer headers that a RAW_ENCAP action carries;
 * geneve_ovn_parse() reads the tunnel key and port keys back from a packet. */
#ifndef OVNIC_HWSIM_ESWITCH_GENEVE_H
#define OVNIC_HWSIM_ESWITCH_GENEVE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GENEVE_UDP_PORT 6081
#define GENEVE_OVN_CLASS 0x0102
#define GENEVE_OVN_TYPE 0x80
/* Ethernet 14 + IPv4 20 + UDP 8 + Geneve 8 + OVN option 8. */
#define GENEVE_OVN_ENCAP_LEN 58

struct geneve_encap {
    uint8_t eth_src[6];
    uint8_t eth_dst[6];
    uint8_t ip_src[4]; /* Network order. */
    uint8_t ip_dst[4];
    uint8_t ttl;       /* 0 means 64. */
    uint16_t udp_src;  /* 0: the eSwitch fills in flow entropy. */
    uint32_t vni;      /* 24 bits: OVN's datapath tunnel key. */
    bool ovn_opt;      /* Carry the OVN option. */
    uint16_t in_port;  /* 15 bits: logical ingress port key. */
    uint16_t out_port; /* Logical egress port key. */
};

/** Writes the outer headers (Ethernet, IPv4 with checksum over a zero total length,
 * UDP, Geneve, and the OVN option if asked) into 'buf' of 'size' bytes.  Returns their
 * length, or 0 if 'size' is too small or a field is out of range. */
size_t geneve_encap_build(const struct geneve_encap *p, uint8_t *buf, size_t size);

/** Parses 'pkt' ('len' bytes from the Ethernet header; untrusted) as Ethernet / IPv4 /
 * UDP 6081 / Geneve.  On success stores the VNI, whether the OVN option is present,
 * its port keys (0 when absent), and the offset of the inner Ethernet header, and
 * returns 0; returns -EINVAL otherwise.  Every out-parameter may be NULL. */
int geneve_ovn_parse(const uint8_t *pkt, size_t len, uint32_t *vni, bool *has_opt,
                     uint16_t *in_port, uint16_t *out_port, size_t *inner_off);

#endif /* OVNIC_HWSIM_ESWITCH_GENEVE_H */
