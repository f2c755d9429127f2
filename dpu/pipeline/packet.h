/* ovnic: packet parser, a raw Ethernet frame -> struct pkey.
 *
 * Parses Ethernet, one 802.1Q tag, ARP/RARP, IPv4 (options, fragments), IPv6 (hop-by-
 * hop, routing, fragment, destination-options and AH extension headers, at most
 * PACKET_MAX_IPV6_EXT of them), TCP, UDP, SCTP, ICMPv4, ICMPv6 with the neighbour-
 * discovery fields of NS/NA (target, SLL/TLL options), and, when asked to, a Geneve
 * tunnel (UDP port 6081) with OVN's option (class 0x0102, type 0x80: 15-bit ingress
 * port, 16-bit egress port) around an inner Ethernet frame.
 *
 * The parser never reads outside [data, data + len) and checks every length field
 * against what it covers: a frame that does not hold together is rejected with a
 * reason from enum packet_drop_reason, which the caller counts (struct
 * packet_drop_stats).  Frames it simply does not look into (an unknown EtherType, an
 * L4 protocol it does not parse, a later fragment, ARP for other than Ethernet/IPv4,
 * a second VLAN tag) are not errors: the key holds what was parsed up to there.
 *
 * Lengths: bytes past an IPv4 total length or IPv6 payload length (Ethernet padding)
 * are ignored; L4 headers are looked for within the IP length only. */
#ifndef OVNIC_PIPELINE_PACKET_H
#define OVNIC_PIPELINE_PACKET_H 1

#include <stddef.h>
#include <stdint.h>

#include "dpu/pipeline/key.h"

#define PACKET_GENEVE_PORT 6081
#define PACKET_OVN_OPT_CLASS 0x0102
#define PACKET_OVN_OPT_TYPE 0x80
#define PACKET_MAX_IPV6_EXT 8 /* Extension headers walked before giving up. */
#define PACKET_MAX_LEN 262144 /* Longest frame accepted (a large TSO/GSO buffer). */

/* Why a frame was rejected. */
enum packet_drop_reason {
    PACKET_DROP_NONE,
    PACKET_DROP_TRUNCATED_ETH,   /* Less than an Ethernet header. */
    PACKET_DROP_TRUNCATED_VLAN,  /* 802.1Q tag cut short. */
    PACKET_DROP_TRUNCATED_ARP,   /* ARP shorter than its Ethernet/IPv4 form. */
    PACKET_DROP_TRUNCATED_IPV4,  /* Less than 20 bytes, or less than the total length. */
    PACKET_DROP_BAD_IP_VERSION,  /* Version nibble disagrees with the EtherType. */
    PACKET_DROP_BAD_IHL,         /* IHL < 5, or beyond the total length. */
    PACKET_DROP_BAD_IPV4_LENGTH, /* Total length < 20. */
    PACKET_DROP_TRUNCATED_IPV6,  /* Less than 40 bytes, or than the payload length. */
    PACKET_DROP_TRUNCATED_IPV6_EXT, /* Extension header cut short. */
    PACKET_DROP_BAD_IPV6_EXT_LEN,   /* Extension header longer than the payload. */
    PACKET_DROP_IPV6_EXT_LOOP,      /* More than PACKET_MAX_IPV6_EXT extension headers. */
    PACKET_DROP_BAD_IPV6_HBH,       /* Hop-by-hop options not first. */
    PACKET_DROP_TRUNCATED_TCP,      /* Less than 20 bytes. */
    PACKET_DROP_BAD_TCP_OFFSET,     /* Data offset < 5 or beyond the segment. */
    PACKET_DROP_TRUNCATED_UDP,      /* Less than 8 bytes. */
    PACKET_DROP_BAD_UDP_LENGTH,     /* Length < 8 or beyond the IP payload. */
    PACKET_DROP_TRUNCATED_SCTP,     /* Less than 12 bytes. */
    PACKET_DROP_TRUNCATED_ICMP4,    /* Less than 4 bytes. */
    PACKET_DROP_TRUNCATED_ICMP6,    /* Less than 4 bytes. */
    PACKET_DROP_TRUNCATED_ND,       /* NS/NA shorter than 24 bytes. */
    PACKET_DROP_BAD_ND_OPTION,      /* Option length 0 or beyond the message, or a
                                     * second SLL/TLL. */
    PACKET_DROP_TRUNCATED_GENEVE,   /* Less than the 8-byte header. */
    PACKET_DROP_BAD_GENEVE_VERSION, /* Version is not 0. */
    PACKET_DROP_BAD_GENEVE_OPTLEN,  /* Options beyond the UDP payload. */
    PACKET_DROP_BAD_GENEVE_OPTION,  /* An option overruns the options area. */
    PACKET_DROP_BAD_GENEVE_PROTO,   /* Not Transparent Ethernet Bridging (0x6558). */
    PACKET_DROP_BAD_OVN_OPTION,     /* OVN option of the wrong length, or repeated. */
    PACKET_DROP_TOO_LONG,           /* More than PACKET_MAX_LEN bytes. */
    PACKET_N_DROP_REASONS
};

/** Name of 'reason', e.g. "truncated-ipv4", "bad-ihl", "ipv6-ext-loop".  Static. */
const char *packet_drop_reason_name(enum packet_drop_reason reason);

/** Per-reason drop counters, for the caller to keep. */
struct packet_drop_stats {
    uint64_t n_parsed; /* Frames accepted. */
    uint64_t drops[PACKET_N_DROP_REASONS];
};

/* Offsets into the frame of what was found (PACKET_OFS_NONE if absent).  For a
 * decapsulated Geneve frame, l2..l7 describe the inner frame and the outer_* fields
 * the tunnel headers. */
#define PACKET_OFS_NONE UINT32_MAX
struct packet_layout {
    uint32_t l2;       /* Ethernet header. */
    uint32_t l3;       /* IPv4/IPv6/ARP header. */
    uint32_t l4;       /* TCP/UDP/SCTP/ICMP header. */
    uint32_t l7;       /* L4 payload. */
    uint32_t end;      /* End of the (inner) packet: IP length, else 'len'. */
    uint32_t outer_l3; /* Tunnel: outer IP header. */
    uint32_t outer_l4; /* Tunnel: outer UDP header. */
    uint32_t tunnel;   /* Tunnel: Geneve header. */
};

/* Flags for packet_parse(). */
#define PACKET_PARSE_TUNNEL 0x1 /* Decapsulate Geneve (frames from the underlay). */

/** Parses the 'len'-byte Ethernet frame at 'data' (borrowed) into 'key', which it
 * zeroes first (set the metadata, e.g. in_port, afterwards).  With
 * PACKET_PARSE_TUNNEL in 'flags', a UDP datagram to port 6081 is taken as Geneve: the
 * outer addresses, VNI and OVN option go to the tun_* fields and the inner frame is
 * parsed into the rest of the key; without it, Geneve is ordinary UDP.
 *
 * 'layout' (may be NULL) receives header offsets.  If 'stats' (may be NULL) is given,
 * the outcome is counted there.
 *
 * Returns 0, or -EINVAL for a malformed frame, with its reason stored in '*reason'
 * (may be NULL; PACKET_DROP_NONE on success).  On failure 'key' holds what was parsed
 * before the error and must not be used to forward the frame. */
int packet_parse(const uint8_t *data, size_t len, unsigned int flags, struct pkey *key,
                 struct packet_layout *layout, enum packet_drop_reason *reason,
                 struct packet_drop_stats *stats);

#endif /* OVNIC_PIPELINE_PACKET_H */
