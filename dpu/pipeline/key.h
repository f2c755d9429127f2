/* ovnic: the packet key, the classifier's view of a packet.
 *
 * A struct pkey holds every field the OVN logical-flow language can match (see
 * dpu/controller/symtab.h), plus what the physical pipeline needs on top of it: the
 * logical datapath ("metadata"), the physical receive port, registers reg10..reg15,
 * the conntrack zone and the tunnel (Geneve) metadata.
 *
 * Every field is an unsigned big-endian byte string at a fixed offset (network byte
 * order, as on the wire, including the metadata fields), so that:
 *
 *   - a parsed packet header can be copied into the key as it is;
 *   - a masked match (field, value, mask) is a masked compare of key bytes;
 *   - the key can be hashed and compared as 64-bit words, padding included (padding
 *     is always zero).
 *
 * A struct pkey_mask has the same layout; a 1 bit means "this bit matters".  The
 * classifier records into one which key bits a lookup consulted (the wildcards of a
 * megaflow).
 *
 * The words are grouped in four stages, in the order a staged lookup examines them:
 * metadata and tunnel, L2, L3, L4.  PKEY_STAGE_END[] gives where each one ends. */
#ifndef OVNIC_PIPELINE_KEY_H
#define OVNIC_PIPELINE_KEY_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpu/controller/lex.h"
#include "dpu/controller/symtab.h"

/* Bits of 'tun_flags'. */
#define PKEY_TUN_PRESENT 0x01 /* The packet arrived in a Geneve tunnel. */
#define PKEY_TUN_OVN_OPT 0x02 /* ...carrying OVN's option (class 0x0102, type 0x80). */

/* 'vlan_tci' has this bit set when a VLAN tag is present (as vlan.present expects). */
#define PKEY_VLAN_PRESENT 0x1000

/* Bits of 'ip_frag' (ip.is_frag is ip.frag[0], ip.later_frag is ip.frag[1]). */
#define PKEY_FRAG_ANY 0x01
#define PKEY_FRAG_LATER 0x02

/* 'eth_type' of an IEEE 802.3 frame with a length field instead of an EtherType. */
#define PKEY_ETH_TYPE_NONE 0x05ff

/* The fields, in key order.  Multi-byte integers hold network byte order. */
struct pkey_fields {
    /* ---- Stage 0: metadata and tunnel (words 0..20). ---- */
    uint32_t datapath; /* Logical datapath tunnel key ("metadata"). */
    uint32_t inport;   /* Logical input port tunnel key. */
    uint32_t outport;  /* Logical output port tunnel key. */
    uint32_t in_port;  /* Physical receive port. */
    uint32_t regs[16]; /* reg0..reg15. */
    uint32_t flags;
    uint32_t pkt_mark;
    uint32_t ct_state;
    uint32_t ct_mark;
    uint8_t ct_label[16];
    uint16_t ct_zone;
    uint8_t pad0[2];
    uint32_t tun_id; /* Geneve VNI (24 bits). */
    uint32_t tun_ip4_src;
    uint32_t tun_ip4_dst;
    uint8_t tun_ip6_src[16];
    uint8_t tun_ip6_dst[16];
    uint16_t tun_ovn_inport;  /* 15 bits. */
    uint16_t tun_ovn_outport; /* 16 bits. */
    uint8_t tun_flags;        /* PKEY_TUN_*. */
    uint8_t pad1[3];

    /* ---- Stage 1: L2 (words 21..22). ---- */
    uint8_t eth_dst[6];
    uint8_t eth_src[6];
    uint16_t eth_type;
    uint16_t vlan_tci; /* With PKEY_VLAN_PRESENT when tagged. */

    /* ---- Stage 2: L3 (words 23..31). ---- */
    uint32_t ip4_src;
    uint32_t ip4_dst;
    uint8_t ip6_src[16];
    uint8_t ip6_dst[16];
    uint32_t ip6_label; /* 20 bits. */
    uint8_t ip_proto;
    uint8_t ip_dscp; /* 6 bits. */
    uint8_t ip_ecn;  /* 2 bits. */
    uint8_t ip_ttl;
    uint8_t ip_frag; /* PKEY_FRAG_*. */
    uint8_t pad2;
    uint16_t arp_op;
    uint32_t arp_spa;
    uint32_t arp_tpa;
    uint8_t arp_sha[6];
    uint8_t arp_tha[6];

    /* ---- Stage 3: L4 (words 32..37). ---- */
    uint16_t tcp_src;
    uint16_t tcp_dst;
    uint16_t udp_src;
    uint16_t udp_dst;
    uint16_t sctp_src;
    uint16_t sctp_dst;
    uint16_t tcp_flags; /* 12 bits. */
    uint8_t icmp4_type;
    uint8_t icmp4_code;
    uint8_t icmp6_type;
    uint8_t icmp6_code;
    uint8_t nd_target[16];
    uint8_t nd_sll[6];
    uint8_t nd_tll[6];
    uint8_t pad3[2];
};

#define PKEY_N_WORDS 38
#define PKEY_N_STAGES 4

_Static_assert(sizeof(struct pkey_fields) == PKEY_N_WORDS * 8, "pkey size");
_Static_assert(offsetof(struct pkey_fields, eth_dst) == 21 * 8, "pkey L2 stage");
_Static_assert(offsetof(struct pkey_fields, ip4_src) == 23 * 8, "pkey L3 stage");
_Static_assert(offsetof(struct pkey_fields, tcp_src) == 32 * 8, "pkey L4 stage");

/* One past the last word of each stage. */
static const uint8_t PKEY_STAGE_END[PKEY_N_STAGES] = {21, 23, 32, PKEY_N_WORDS};

/** A packet key.  Zero it (pkey_init()) before filling it: padding must stay 0. */
struct pkey {
    union {
        struct pkey_fields f;
        uint64_t w[PKEY_N_WORDS];
    };
};

/** Which bits of a key matter: same layout as struct pkey, 1 = significant. */
struct pkey_mask {
    union {
        struct pkey_fields f;
        uint64_t w[PKEY_N_WORDS];
    };
};

/* Every field of the key. */
enum pkey_field_id {
    PKEY_F_DATAPATH,
    PKEY_F_INPORT,
    PKEY_F_OUTPORT,
    PKEY_F_IN_PORT,
    PKEY_F_REG0,
    PKEY_F_REG15 = PKEY_F_REG0 + 15,
    PKEY_F_FLAGS,
    PKEY_F_PKT_MARK,
    PKEY_F_CT_STATE,
    PKEY_F_CT_MARK,
    PKEY_F_CT_LABEL,
    PKEY_F_CT_ZONE,
    PKEY_F_TUN_ID,
    PKEY_F_TUN_IP4_SRC,
    PKEY_F_TUN_IP4_DST,
    PKEY_F_TUN_IP6_SRC,
    PKEY_F_TUN_IP6_DST,
    PKEY_F_TUN_OVN_INPORT,
    PKEY_F_TUN_OVN_OUTPORT,
    PKEY_F_TUN_FLAGS,
    PKEY_F_ETH_DST,
    PKEY_F_ETH_SRC,
    PKEY_F_ETH_TYPE,
    PKEY_F_VLAN_TCI,
    PKEY_F_IP4_SRC,
    PKEY_F_IP4_DST,
    PKEY_F_IP6_SRC,
    PKEY_F_IP6_DST,
    PKEY_F_IP6_LABEL,
    PKEY_F_IP_PROTO,
    PKEY_F_IP_DSCP,
    PKEY_F_IP_ECN,
    PKEY_F_IP_TTL,
    PKEY_F_IP_FRAG,
    PKEY_F_ARP_OP,
    PKEY_F_ARP_SPA,
    PKEY_F_ARP_TPA,
    PKEY_F_ARP_SHA,
    PKEY_F_ARP_THA,
    PKEY_F_TCP_SRC,
    PKEY_F_TCP_DST,
    PKEY_F_UDP_SRC,
    PKEY_F_UDP_DST,
    PKEY_F_SCTP_SRC,
    PKEY_F_SCTP_DST,
    PKEY_F_TCP_FLAGS,
    PKEY_F_ICMP4_TYPE,
    PKEY_F_ICMP4_CODE,
    PKEY_F_ICMP6_TYPE,
    PKEY_F_ICMP6_CODE,
    PKEY_F_ND_TARGET,
    PKEY_F_ND_SLL,
    PKEY_F_ND_TLL,
    PKEY_N_FIELDS
};

/* Where a field lives: the low 'n_bits' bits of the 'n_bytes'-byte big-endian
 * integer at byte 'ofs'. */
struct pkey_field_info {
    const char *name; /* As in the OVN language where the field exists there. */
    uint16_t ofs;
    uint8_t n_bytes;
    uint8_t n_bits;
    enum lex_format format; /* How pkey_format() prints it. */
};

/** Field 'id' (< PKEY_N_FIELDS).  Static data. */
const struct pkey_field_info *pkey_field_info(enum pkey_field_id id);

/** Maps symtab storage field 'id' to the key field holding it.  inport and outport map
 * to the 32-bit logical port keys.  Returns 0 and stores it in '*out', or -ENOENT for
 * register views and fields only actions use (icmp4.frag_mtu, icmp6.frag_mtu). */
int pkey_field_from_symtab(enum symtab_field_id id, enum pkey_field_id *out);

/** Zeroes 'key' (every field 0, padding included). */
void pkey_init(struct pkey *key);

/** Zeroes 'mask' (everything wildcarded). */
void pkey_mask_init(struct pkey_mask *mask);

/** Reads field 'id' of 'key' (bit 0 = the field's lowest bit). */
lex_u128 pkey_field_get(const struct pkey *key, enum pkey_field_id id);

/** Writes field 'id' of 'key'; bits above the field's width are ignored. */
void pkey_field_set(struct pkey *key, enum pkey_field_id id, lex_u128 value);

/** The same for a mask. */
lex_u128 pkey_mask_field_get(const struct pkey_mask *mask, enum pkey_field_id id);
void pkey_mask_field_set(struct pkey_mask *mask, enum pkey_field_id id, lex_u128 bits);

/** True if 'a' and 'b' agree on every bit set in 'mask'. */
static inline bool
pkey_equal_masked(const struct pkey *a, const struct pkey *b,
                  const struct pkey_mask *mask)
{
    uint64_t diff = 0;
    for (size_t i = 0; i < PKEY_N_WORDS; i++) {
        diff |= (a->w[i] ^ b->w[i]) & mask->w[i];
    }
    return !diff;
}

/** Clears the bits of 'key' not set in 'mask'. */
static inline void
pkey_apply_mask(struct pkey *key, const struct pkey_mask *mask)
{
    for (size_t i = 0; i < PKEY_N_WORDS; i++) {
        key->w[i] &= mask->w[i];
    }
}

/** Adds the bits of 'src' to 'dst'. */
static inline void
pkey_mask_or(struct pkey_mask *dst, const struct pkey_mask *src)
{
    for (size_t i = 0; i < PKEY_N_WORDS; i++) {
        dst->w[i] |= src->w[i];
    }
}

/** True if 'inner' has no bit that 'outer' lacks. */
static inline bool
pkey_mask_is_subset(const struct pkey_mask *inner, const struct pkey_mask *outer)
{
    for (size_t i = 0; i < PKEY_N_WORDS; i++) {
        if (inner->w[i] & ~outer->w[i]) {
            return false;
        }
    }
    return true;
}

/** Writes 'key' as text, "field=value" or "field=value/mask" separated by spaces,
 * for debugging and traces.  With 'mask' (may be NULL), only the fields it covers are
 * shown, with the mask where it does not cover the whole field; without, only fields
 * that are not zero.  IPv4, IPv6 and Ethernet addresses are written as such, anything
 * else in hexadecimal.  An empty key or mask gives "*".  Writes at most 'size' bytes
 * including the NUL (truncating) and returns the length the whole text needs, as
 * snprintf() does. */
size_t pkey_format(const struct pkey *key, const struct pkey_mask *mask, char *buf,
                   size_t size);

/** Writes 'mask' as text, "field/mask" for each field it covers (the same notation). */
size_t pkey_mask_format(const struct pkey_mask *mask, char *buf, size_t size);

#endif /* OVNIC_PIPELINE_KEY_H */
