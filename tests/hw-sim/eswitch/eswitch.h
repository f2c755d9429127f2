/* ovnic hw-sim: the simulated eSwitch, an interpreter of rte_flow rules.
 *
 * ovnic-nicsim owns one 'struct eswitch'.  It holds rules in tables (one per group),
 * in priority order (lower value first, as rte_flow; equal priorities in insertion
 * order), and runs packets through them: a packet enters group 0, the first rule that
 * matches applies its actions in order, a JUMP continues in another group, and a port
 * action emits a copy of the packet as it is at that point.
 *
 * Items: ETH, VLAN, IPV4, IPV6, UDP, TCP, ICMP, GENEVE, GENEVE_OPT, REPRESENTED_PORT,
 * PORT_REPRESENTOR, CONNTRACK, VOID; with spec and mask (NULL mask: rte_flow's
 * default mask; 'last' ranges are refused).  Items match protocol layers in order;
 * items before a GENEVE item match the outer headers, items after it the inner ones.
 *
 * Actions: JUMP, REPRESENTED_PORT, PORT_REPRESENTOR, RAW_ENCAP (outer Ethernet /
 * IPv4 / UDP / Geneve; IPv4 total length and checksum and UDP length are filled in,
 * and a UDP source port of 0 becomes entropy from the inner flow hash), RAW_DECAP
 * (Geneve), SET_MAC_SRC/DST, SET_IPV4_SRC/DST, SET_IPV6_SRC/DST, SET_TP_SRC/DST
 * (with IPv4 and L4 checksum fix-ups), MODIFY_FIELD (SET of MAC, IPv4/IPv6 address,
 * TTL/hop limit, L4 port fields, from an immediate value or another of those fields),
 * DEC_TTL (a TTL of 0 stays 0, as in hardware), COUNT, AGE, METER (token bucket),
 * CONNTRACK (a 5-tuple state table: TCP state machine, result flags matched by the
 * CONNTRACK item in a later group), DROP, VOID.
 *
 * A miss: a packet that came from a represented port (VF, uplink) goes to that port's
 * representor; a packet that software sent through a representor goes to the
 * represented port; the packet is delivered as it is at the miss (as mlx5 switchdev).
 *
 * Time is passed in explicitly ('now_ms', any monotonic clock) so that AGE and meters
 * are deterministic under test. */
#ifndef OVNIC_HWSIM_ESWITCH_H
#define OVNIC_HWSIM_ESWITCH_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "offload/esw.h"
#include "tests/hw-sim/eswitch/profile.h"

struct eswitch;

#define ESWITCH_PKT_MAX 9728  /* Largest packet in or out, encapsulation included. */
#define ESWITCH_MAX_OUTPUTS 4 /* Port actions one packet may take (mirroring). */

/** Creates an empty eSwitch with a copy of 'profile'.  Caller owns; free with
 * eswitch_destroy().  Errors: -EINVAL (a limit of 0 in 'profile'), -ENOMEM. */
int eswitch_create(const struct eswitch_profile *profile, struct eswitch **eswp);

/** Frees 'esw' and its rules (may be NULL). */
void eswitch_destroy(struct eswitch *esw);

/** The profile of 'esw'.  Valid until eswitch_destroy(). */
const struct eswitch_profile *eswitch_profile(const struct eswitch *esw);

/** Checks a rule against the profile and the current tables without inserting it.
 *
 * Errors, with 'error->type' as a PMD reports them:
 *   -EINVAL  malformed (NULL arrays, no END, transfer not set, ingress/egress set,
 *            missing conf, RAW_ENCAP that is not Ethernet/IPv4/UDP/Geneve, no fate
 *            action, two conflicting fates); type ATTR, ITEM_SPEC, ACTION_CONF,
 *            ACTION.
 *   -ENOTSUP an item (ITEM) or action (ACTION) outside the profile, 'last' (ITEM_LAST),
 *            a Geneve option class/type other than the profile's (ITEM_SPEC), an
 *            action not allowed in group 0 (ACTION), RAW_DECAP without a GENEVE item
 *            (ACTION), too many items (ITEM_NUM) or actions (ACTION_NUM).
 *   -ERANGE  group (ATTR_GROUP) or priority (ATTR_PRIORITY) beyond the profile, JUMP
 *            to a group beyond it or not forward (ACTION_CONF), a port id beyond
 *            max_ports (ITEM_SPEC / ACTION_CONF), RAW_ENCAP over max_encap_size
 *            (ACTION_CONF), a meter id beyond max_meters (ACTION_CONF).
 *   -ENOENT  METER on a meter id that eswitch_meter_set() never configured
 *            (ACTION_CONF). */
int eswitch_rule_validate(const struct eswitch *esw, const struct rte_flow_attr *attr,
                          const struct rte_flow_item items[],
                          const struct rte_flow_action actions[],
                          struct esw_error *error);

/** Validates and inserts a rule (the arrays are borrowed for the call; everything is
 * copied) at time 'now_ms', when the idle clock of its AGE action starts.  On success
 * stores its id (never 0) in '*idp'.
 *
 * Errors: as eswitch_rule_validate(); -ENOSPC when the table (max_rules) or the
 * group (max_rules_per_group) is full, with type RTE_FLOW_ERROR_TYPE_HANDLE;
 * -ENOMEM. */
int eswitch_rule_add(struct eswitch *esw, const struct rte_flow_attr *attr,
                     const struct rte_flow_item items[],
                     const struct rte_flow_action actions[], uint64_t now_ms,
                     uint64_t *idp, struct esw_error *error);

/** Removes rule 'id'.  Errors: -ENOENT (no such rule; type HANDLE). */
int eswitch_rule_del(struct eswitch *esw, uint64_t id, struct esw_error *error);

/** True if rule 'id' exists. */
bool eswitch_rule_exists(const struct eswitch *esw, uint64_t id);

/** Stores the counters and age of rule 'id' at time 'now_ms' in '*stats'; when
 * 'reset', its counters restart from zero.  Errors: -ENOENT. */
int eswitch_rule_query(struct eswitch *esw, uint64_t id, uint64_t now_ms, bool reset,
                       struct esw_rule_stats *stats, struct esw_error *error);

/** Stores in 'ids' up to 'max' rules whose AGE timeout expired by 'now_ms' and that
 * were not reported before, marks them reported, and returns how many were stored.
 * A reported rule is reported again only after a new hit and a new expiry. */
size_t eswitch_aged_get(struct eswitch *esw, uint64_t now_ms, uint64_t ids[], size_t max);

/** Removes every rule and connection; keeps meters. */
void eswitch_flush(struct eswitch *esw);

/** Number of rules, in total or in 'group'. */
size_t eswitch_rule_count(const struct eswitch *esw);
size_t eswitch_group_rule_count(const struct eswitch *esw, uint32_t group);

/** Calls 'cb' for every rule id in ascending order (for listing rules).  'cb' must not
 * add or remove rules. */
void eswitch_rule_foreach(const struct eswitch *esw, void (*cb)(uint64_t id, void *aux),
                          void *aux);

/** Configures meter 'id': 'rate' bytes per second, 'burst' bytes (the bucket starts
 * full).  Errors: -EINVAL (rate or burst 0), -ERANGE (id beyond max_meters). */
int eswitch_meter_set(struct eswitch *esw, uint32_t id, uint64_t rate, uint64_t burst,
                      struct esw_error *error);

enum eswitch_verdict {
    ESWITCH_FORWARD, /* 'n_outputs' >= 1 copies to send. */
    ESWITCH_DROP,    /* Dropped; see 'drop_reason'. */
    ESWITCH_MISS,    /* No rule: 'outputs[0]' is the default destination. */
};

enum eswitch_drop_reason {
    ESWITCH_DROP_NONE,
    ESWITCH_DROP_ACTION,    /* A DROP action. */
    ESWITCH_DROP_METER,     /* The meter's bucket was empty. */
    ESWITCH_DROP_MALFORMED, /* Input too short or too long for what it claims. */
    ESWITCH_DROP_DECAP,     /* RAW_DECAP on a packet that is not Geneve. */
    ESWITCH_DROP_TOO_BIG,   /* Encapsulation would exceed ESWITCH_PKT_MAX. */
    ESWITCH_DROP_LOOP,      /* More than max_hops tables. */
};

/** One packet leaving the eSwitch. */
struct eswitch_output {
    uint16_t port_id;
    bool to_representor; /* To the representor (software) rather than the port. */
    size_t len;
    uint8_t data[ESWITCH_PKT_MAX];
};

/** The outcome of eswitch_process().  Large: allocate it once, not on a small stack. */
struct eswitch_result {
    enum eswitch_verdict verdict;
    enum eswitch_drop_reason drop_reason;
    size_t n_rules; /* Rules that matched, in order (up to max_hops). */
    uint64_t rule_ids[16];
    size_t n_outputs;
    struct eswitch_output outputs[ESWITCH_MAX_OUTPUTS];
};

/** Runs one packet through the eSwitch at time 'now_ms'.  'in_port' is the port it
 * entered from; 'from_representor' is true when software sent it through that port's
 * representor (matched by PORT_REPRESENTOR), false when it came from the represented
 * port itself, i.e. a VF or the wire (matched by REPRESENTED_PORT).  'pkt' (borrowed;
 * untrusted) holds 'len' bytes from the Ethernet header on.  Stores the verdict and
 * output packets in '*result' and returns the verdict.  Never fails: a malformed
 * packet is dropped with ESWITCH_DROP_MALFORMED. */
enum eswitch_verdict eswitch_process(struct eswitch *esw, uint16_t in_port,
                                     bool from_representor, const uint8_t *pkt,
                                     size_t len, uint64_t now_ms,
                                     struct eswitch_result *result);

/** Totals since creation. */
struct eswitch_stats {
    uint64_t packets; /* Processed. */
    uint64_t forwarded;
    uint64_t dropped;
    uint64_t missed;
    uint64_t rules_added;
    uint64_t rules_removed;
    uint64_t add_failures; /* eswitch_rule_add() errors. */
    uint64_t connections;  /* Current CONNTRACK entries. */
};

void eswitch_stats_get(const struct eswitch *esw, struct eswitch_stats *stats);

/** The 5-tuple a CONNTRACK entry is kept under (addresses in network byte order,
 * IPv4 in the first 4 bytes). */
struct eswitch_ct_key {
    uint8_t src[16];
    uint8_t dst[16];
    uint16_t sport; /* Host byte order. */
    uint16_t dport;
    uint8_t proto;
    bool ipv6;
};

/** Stores the state (enum rte_flow_conntrack_state) of the connection of 'key' (in
 * either direction) in '*state'.  Returns 0 or -ENOENT. */
int eswitch_ct_state(const struct eswitch *esw, const struct eswitch_ct_key *key,
                     int *state);

/** A hash of a packet's innermost flow (addresses, protocol, ports), as used for the
 * UDP source port of RAW_ENCAP.  'pkt' from its Ethernet header.  Returns 0 for
 * packets it cannot parse. */
uint32_t eswitch_flow_hash(const uint8_t *pkt, size_t len);

#endif /* OVNIC_HWSIM_ESWITCH_H */
