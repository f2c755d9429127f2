/* ovnic: a self-describing byte format for eSwitch rules.
 *
 * The simulated NIC's control socket carries rules between processes, so a rule's
 * rte_flow arrays (which hold pointers) are serialised into bytes and rebuilt on the
 * other side.  The format:
 *
 *   struct esw_wire_hdr                      magic "ESWR", version, counts, attr
 *   n_items   x { struct esw_wire_elem, [len16, spec], [len16, last], [len16, mask] }
 *   n_actions x { struct esw_wire_elem, [len16, conf], [len16, mask conf] }
 *
 * Every integer is big-endian.  Each element names its rte_flow type and the length of
 * each blob that follows; a blob is the type's fixed layout (listed in
 * docs/eswitch.md), never a raw copy of a host structure, so that bit-fields,
 * pointers and host byte order stay out of the format.  Pointers become inline data
 * (GENEVE_OPT option data, RAW_ENCAP/RAW_DECAP bytes).  The END elements are implicit:
 * the decoder appends them.
 *
 * Item types: VOID, ETH, VLAN, IPV4, IPV6, UDP, TCP, ICMP, GENEVE, GENEVE_OPT,
 * REPRESENTED_PORT, PORT_REPRESENTOR, CONNTRACK.
 * Action types: VOID, DROP, JUMP, COUNT, AGE (timeout only; the context pointer is not
 * carried), METER, REPRESENTED_PORT, PORT_REPRESENTOR, RAW_ENCAP, RAW_DECAP,
 * SET_MAC_SRC/DST, SET_IPV4_SRC/DST, SET_IPV6_SRC/DST, SET_TP_SRC/DST, DEC_TTL,
 * MODIFY_FIELD (immediate VALUE or field sources; not POINTER), CONNTRACK.
 *
 * The decoder treats its input as hostile: every length, count, type and blob size is
 * checked, and a failure leaves nothing allocated. */
#ifndef OVNIC_OFFLOAD_ESW_WIRE_H
#define OVNIC_OFFLOAD_ESW_WIRE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "offload/esw.h"

#define ESW_WIRE_MAGIC "ESWR"
#define ESW_WIRE_VERSION 1
#define ESW_WIRE_MAX_ITEMS 32   /* Per rule, END excluded. */
#define ESW_WIRE_MAX_ACTIONS 32 /* Per rule, END excluded. */
#define ESW_WIRE_MAX_RAW 512    /* RAW_ENCAP / RAW_DECAP data bytes. */
#define ESW_WIRE_MAX_LEN 65536  /* A whole encoded rule. */

/** The header of an encoded rule.  Big-endian integers. */
struct esw_wire_hdr {
    uint8_t magic[4];   /* ESW_WIRE_MAGIC, without NUL. */
    uint8_t version;    /* ESW_WIRE_VERSION. */
    uint8_t flags;      /* ESW_WIRE_F_*. */
    uint16_t n_items;   /* Item elements that follow (END excluded). */
    uint16_t n_actions; /* Action elements that follow (END excluded). */
    uint16_t reserved;  /* Zero. */
    uint32_t group;
    uint32_t priority;
    uint32_t attr_flags; /* ESW_WIRE_ATTR_*. */
    uint32_t total_len;  /* Of the whole encoding, header included. */
};
_Static_assert(sizeof(struct esw_wire_hdr) == 28, "esw_wire_hdr layout");

#define ESW_WIRE_F_MASKS 0x01 /* Each action carries a mask conf (actions template). */

#define ESW_WIRE_ATTR_INGRESS 0x1
#define ESW_WIRE_ATTR_EGRESS 0x2
#define ESW_WIRE_ATTR_TRANSFER 0x4

/** One item or action.  Followed by 'len' bytes: for each bit of 'present', in bit
 * order, a big-endian uint16 blob length and the blob.  Big-endian integers. */
struct esw_wire_elem {
    int32_t type;     /* enum rte_flow_item_type or enum rte_flow_action_type. */
    uint8_t present;  /* ESW_WIRE_P_*. */
    uint8_t reserved; /* Zero. */
    uint16_t len;     /* Bytes that follow for this element. */
};
_Static_assert(sizeof(struct esw_wire_elem) == 8, "esw_wire_elem layout");

#define ESW_WIRE_P_SPEC 0x1 /* Item spec, or action conf. */
#define ESW_WIRE_P_LAST 0x2 /* Item last. */
#define ESW_WIRE_P_MASK 0x4 /* Item mask, or action mask conf. */

/** A decoded rule.  Every pointer inside is owned by the structure; free the whole
 * with esw_wire_rule_destroy(). */
struct esw_wire_rule {
    struct rte_flow_attr attr;
    struct rte_flow_item *items;     /* 'n_items' + END. */
    struct rte_flow_action *actions; /* 'n_actions' + END. */
    struct rte_flow_action *masks;   /* NULL, or 'n_actions' + END (templates). */
    size_t n_items;
    size_t n_actions;
    void **allocs__; /* Every blob, for esw_wire_rule_destroy(). */
    size_t n_allocs__;
    size_t allocated__;
};

/** Encodes a rule.  'masks' is NULL, or an array parallel to 'actions' (actions
 * template masks).  On success stores a malloc'd buffer in '*bufp' (caller owns; free
 * with free()) and its length in '*lenp'.
 *
 * Errors: -EINVAL (NULL arrays, missing END, more than ESW_WIRE_MAX_* elements, a
 * malformed conf such as RAW_ENCAP without data; 'error->type' and 'index' point to
 * it), -ENOTSUP (a type or feature the format does not carry, e.g. MODIFY_FIELD from a
 * POINTER), -EMSGSIZE (over
 * ESW_WIRE_MAX_LEN), -ENOMEM. */
int esw_wire_rule_encode(const struct rte_flow_attr *attr,
                         const struct rte_flow_item items[],
                         const struct rte_flow_action actions[],
                         const struct rte_flow_action masks[], uint8_t **bufp,
                         size_t *lenp, struct esw_error *error);

/** Decodes 'len' bytes at 'buf' (borrowed; untrusted) into a new rule stored in
 * '*rulep'; caller owns; free with esw_wire_rule_destroy().  The encoding must take
 * exactly 'len' bytes.
 *
 * Errors: -EBADMSG (bad magic, version, lengths, counts, reserved bits, blob sizes,
 * truncation, trailing bytes), -ENOTSUP (an unknown item or action type; 'error->type'
 * is ..._ITEM or ..._ACTION with its index), -ENOMEM. */
int esw_wire_rule_decode(const void *buf, size_t len, struct esw_wire_rule **rulep,
                         struct esw_error *error);

/** Frees 'rule' and everything it points to (may be NULL). */
void esw_wire_rule_destroy(struct esw_wire_rule *rule);

/** True if the format carries item type 'type' / action type 'type'. */
bool esw_wire_item_is_supported(int type);
bool esw_wire_action_is_supported(int type);

/** An error on the wire: fixed size.  Big-endian integers. */
struct esw_wire_error {
    int32_t code;   /* Negative errno. */
    uint32_t type;  /* enum rte_flow_error_type. */
    int32_t index;  /* Item or action index, or -1. */
    char text[244]; /* "message (detail)", NUL-terminated. */
};
_Static_assert(sizeof(struct esw_wire_error) == 256, "esw_wire_error layout");

/** Encodes 'error' into '*out'. */
void esw_wire_error_encode(const struct esw_error *error, struct esw_wire_error *out);

/** Decodes '*in' (untrusted) into 'error' (may be NULL) and returns the code, which is
 * forced to a negative errno (-EIO if the peer sent 0 or a positive value). */
int esw_wire_error_decode(const struct esw_wire_error *in, struct esw_error *error);

/** Rule statistics on the wire.  Big-endian integers. */
struct esw_wire_stats {
    uint64_t packets;
    uint64_t bytes;
    uint32_t idle_sec;
    uint8_t flags; /* 0x1 has_count, 0x2 has_age, 0x4 aged. */
    uint8_t reserved[3];
};
_Static_assert(sizeof(struct esw_wire_stats) == 24, "esw_wire_stats layout");

void esw_wire_stats_encode(const struct esw_rule_stats *stats,
                           struct esw_wire_stats *out);

/** Returns 0, or -EBADMSG if reserved bits are set. */
int esw_wire_stats_decode(const struct esw_wire_stats *in, struct esw_rule_stats *stats);

/** Capabilities on the wire.  Big-endian integers. */
struct esw_wire_caps {
    char device[32];
    uint64_t items[ESW_TYPE_BITS / 64];
    uint64_t actions[ESW_TYPE_BITS / 64];
    uint32_t max_groups;
    uint32_t max_priorities;
    uint32_t max_rules_per_group;
    uint32_t max_rules;
    uint32_t max_items;
    uint32_t max_actions;
    uint32_t max_encap_size;
    uint32_t async_queues;
    uint32_t async_queue_size;
    uint16_t geneve_opt_class;
    uint8_t geneve_opt_type;
    uint8_t flags; /* 0x1 geneve_opt, 0x2 async_native. */
};
_Static_assert(sizeof(struct esw_wire_caps) == 104, "esw_wire_caps layout");

void esw_wire_caps_encode(const struct esw_caps *caps, struct esw_wire_caps *out);

/** Returns 0, or -EBADMSG if the device name is not NUL-terminated or reserved flag
 * bits are set. */
int esw_wire_caps_decode(const struct esw_wire_caps *in, struct esw_caps *caps);

#endif /* OVNIC_OFFLOAD_ESW_WIRE_H */
