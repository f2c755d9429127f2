/* ovnic: Geneve encapsulation with OVN's option, in software.
 *
 * The vswitch sends a packet to another chassis as OVN does: Ethernet, outer IPv4 or
 * IPv6 from this chassis's encap IP to the other's, UDP to port 6081 with a source
 * port taken from a hash of the inner flow (entropy for the underlay's ECMP), a
 * Geneve header with VNI = the logical datapath's tunnel key, protocol 0x6558, and
 * one option, class 0x0102 type 0x80, 4 bytes: 15-bit logical ingress port and 16-bit
 * logical egress port (bit 15 of the 32-bit value reserved, zero).
 *
 * Decapsulation is packet_parse() with PACKET_PARSE_TUNNEL (dpu/pipeline/packet.h):
 * it checks the headers and fills the key's tun_* fields; tunnel_decap_offset() says
 * where the inner frame starts.
 *
 * Fragmentation policy: the vswitch never fragments an encapsulated packet.  An inner
 * IPv4 packet without DF that does not fit the underlay MTU is fragmented before
 * encapsulation (tunnel_ip4_fragment()); one with DF, and every IPv6 packet, is
 * answered with ICMP "fragmentation needed" / ICMPv6 "packet too big" built by
 * tunnel_too_big_build(), carrying the largest inner size that fits. */
#ifndef OVNIC_VSWITCH_TUNNEL_H
#define OVNIC_VSWITCH_TUNNEL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpu/pipeline/packet.h"

/* Outer header sizes: Ethernet + IPv4/IPv6 + UDP + Geneve (8) + OVN option (8). */
#define TUNNEL_HDR_LEN_IP4 (14 + 20 + 8 + 8 + 8)
#define TUNNEL_HDR_LEN_IP6 (14 + 40 + 8 + 8 + 8)
#define TUNNEL_HDR_MAX TUNNEL_HDR_LEN_IP6

/* The UDP source ports tunnel_encap_header() uses: 49152..65535. */
#define TUNNEL_SRC_PORT_MIN 49152

/* One tunnel endpoint pair and what goes into the option. */
struct tunnel_params {
    bool ipv6;            /* Outer IPv6. */
    uint8_t src_ip[16];   /* This chassis's encap IP (IPv4: first 4 bytes). */
    uint8_t dst_ip[16];   /* The remote chassis's encap IP. */
    uint8_t src_mac[6];   /* Uplink MAC. */
    uint8_t dst_mac[6];   /* Next hop's MAC (neigh.h). */
    uint32_t vni;         /* 24 bits: the datapath key. */
    uint16_t ovn_inport;  /* 15 bits. */
    uint16_t ovn_outport; /* 16 bits. */
    uint32_t flow_hash;   /* Hash of the inner flow: the UDP source port comes from
                           * it, in 49152..65535. */
    uint8_t ttl;          /* Outer TTL / hop limit; 0: 64. */
    bool udp_csum;        /* IPv4: compute the UDP checksum (else 0).  IPv6:
                           * always computed, as RFC 8200 requires. */
};

/** Parses "IP" (IPv4 or IPv6) into 'ip' (16 bytes, IPv4 in the first 4) and
 * '*ipv6'.  Errors: -EINVAL. */
int tunnel_ip_parse(const char *text, uint8_t ip[16], bool *ipv6);

/** The UDP source port for inner flow hash 'flow_hash', in 49152..65535 (the same
 * one tunnel_encap_header() writes, for a rule that encapsulates in hardware). */
uint16_t tunnel_src_port(uint32_t flow_hash);

/** Bytes that encapsulation adds to the inner frame's length as the underlay's IP MTU
 * counts them: outer IPv4 (20) or IPv6 (40), UDP, Geneve and OVN's option (8 + 8 + 8);
 * the outer Ethernet header is not part of the IP MTU. */
size_t tunnel_overhead(bool ipv6);

/** Writes the outer headers for the 'inner_len'-byte Ethernet frame 'inner' into
 * 'hdr' ('size' bytes, at least TUNNEL_HDR_LEN_IP4 or _IP6), storing their length in
 * '*hdr_len'; the packet to send is hdr followed by inner.  The IPv4 header checksum
 * is set; the UDP checksum as 'params' says (it covers 'inner').
 *
 * Errors: -EINVAL (a field out of range, or inner shorter than an Ethernet header),
 * -EMSGSIZE (the result would exceed 65535 bytes of IP), -ENOSPC ('size' too small). */
int tunnel_encap_header(const struct tunnel_params *params, const uint8_t *inner,
                        size_t inner_len, uint8_t *hdr, size_t size, size_t *hdr_len);

/** Offset of the inner Ethernet frame in a frame that packet_parse() accepted with
 * PACKET_PARSE_TUNNEL and whose key has PKEY_TUN_PRESENT ('layout' from that call).
 * Errors: -EINVAL (not a tunnel layout). */
int tunnel_decap_offset(const struct packet_layout *layout, size_t *offset);

/** Whether the inner frame of 'inner_len' bytes fits 'mtu' (the underlay's IP MTU)
 * once encapsulated with outer IPv4 ('ipv6' false) or IPv6. */
bool tunnel_fits(size_t inner_len, bool ipv6, unsigned int mtu);

/** Builds, for the inner frame [inner, inner + len) that does not fit, the ICMPv4
 * "fragmentation needed" (type 3 code 4) or ICMPv6 "packet too big" (type 2) message
 * sent back to its source: Ethernet addresses swapped, from IP 'router_ip' (16 bytes
 * as in tunnel_params; IPv4 or IPv6 as the inner packet) to the inner source, MTU
 * field = 'mtu' minus the encapsulation overhead, quoting as much of the packet as
 * the error may carry (576 bytes of IPv4, 1280 of IPv6 in all).
 * Errors: -EINVAL (not IPv4/IPv6, malformed, an ICMP error itself, a non-initial IPv4
 * fragment, a source address that may not be sent an error (unspecified, multicast,
 * broadcast): never answered; or 'mtu' not above the overhead), -ENOSPC. */
int tunnel_too_big_build(const uint8_t *inner, size_t len, unsigned int mtu,
                         bool outer_ipv6, const uint8_t router_ip[16], uint8_t *out,
                         size_t size, size_t *out_len);

/** Splits the IPv4 frame [pkt, pkt + len) (Ethernet + IPv4 without DF) into
 * fragments whose IP length is at most 'ip_mtu' (rounded to 8-byte boundaries), each
 * a full Ethernet frame written into 'out' one after the other; lengths go to
 * 'lens' (at most 'max_frags').  The first fragment keeps every IP option, the
 * others only those with the copy flag; a packet that is itself a fragment keeps its
 * offset and its MF bit on the last piece; a packet that fits already comes out as one
 * fragment (without Ethernet padding).  Nothing is written on failure.
 * Returns the number of fragments, or -EINVAL (not IPv4, DF set, malformed, or
 * 'ip_mtu' too small for the header and 8 bytes), -ENOSPC ('out' or 'max_frags' too
 * small). */
int tunnel_ip4_fragment(const uint8_t *pkt, size_t len, unsigned int ip_mtu, uint8_t *out,
                        size_t size, size_t *lens, size_t max_frags);

#endif /* OVNIC_VSWITCH_TUNNEL_H */
