/* ovnic: the rte_flow eSwitch backend (mlx5 on BlueField), its device-facing rule
 * translation exposed for golden tests.
 *
 * Callers use esw_rte_flow_class through offload/esw.h.  Arguments of esw_open():
 *
 *   dev=NAME          the RDMA device (ibv name "mlx5_0", or a PCI address) to use;
 *                     default: the first mlx5 device.
 *   representor=SPEC  representors to probe with the device if the EAL has not, e.g.
 *                     "pf0vf[0-7]" (passed as the devargs "PCI,representor=SPEC").
 *   group_offset=N    added to every group (default 0); 1 keeps group 0, the root
 *                     table, for a single catch-all JUMP rule.
 *
 * The EAL must already be initialised by the caller (ovnic-dpud).  Port ids in rules
 * are DPDK ethdev port ids: the representors' and the uplink's. */
#ifndef OVNIC_OFFLOAD_ESW_RTE_FLOW_H
#define OVNIC_OFFLOAD_ESW_RTE_FLOW_H 1

#include <stdint.h>

#include "offload/esw.h"

#define ESW_RTE_FLOW_MAX_ELEMS \
    40 /* Items or actions of a translated rule, END included. */
#define ESW_RTE_FLOW_DECAP_LEN 50 /* Ethernet + IPv4 + UDP + Geneve. */

/** How rules are translated for one device. */
struct esw_rte_flow_xlate_cfg {
    uint16_t proxy_port;   /* The transfer proxy ethdev port. */
    uint32_t group_offset; /* Added to every group and JUMP target. */
};

/** A rule in the form the device takes.  Self-contained: the arrays point into the
 * structure itself, or to the caller's arrays (valid as long as those are). */
struct esw_rte_flow_rule {
    struct rte_flow_attr attr;
    struct rte_flow_item items[ESW_RTE_FLOW_MAX_ELEMS];
    struct rte_flow_action actions[ESW_RTE_FLOW_MAX_ELEMS];
    /* Storage for what the translation adds or rewrites. */
    struct rte_flow_item_udp geneve_udp;
    struct rte_flow_item_udp geneve_udp_mask;
    struct rte_flow_item_geneve_opt opt_mask;
    uint32_t opt_mask_data[31];
    struct rte_flow_action_jump jump;
    struct rte_flow_action_age age;
    struct rte_flow_action_raw_decap decap;
    uint8_t decap_data[ESW_RTE_FLOW_DECAP_LEN];
};

/** Translates a caller's rule into the device's form: groups shifted by
 * 'cfg->group_offset'; a UDP 6081 item inserted before a GENEVE item that has none;
 * an explicit GENEVE_OPT mask (mlx5 needs class, type and length masked); a
 * RAW_DECAP without conf given the Ethernet/IPv4/UDP/Geneve header it removes; the
 * AGE context set to 'age_context'.  'out' is filled; the caller's arrays must
 * outlive it.
 *
 * Errors: -EINVAL (missing END, transfer not set, missing conf), -E2BIG (too many
 * elements), -ENOTSUP (CONNTRACK: mlx5 takes it only as an indirect action; an item
 * or action that this backend does not program; 'error->index' points to it). */
int esw_rte_flow_translate(const struct esw_rte_flow_xlate_cfg *cfg,
                           const struct rte_flow_attr *attr,
                           const struct rte_flow_item items[],
                           const struct rte_flow_action actions[], void *age_context,
                           struct esw_rte_flow_rule *out, struct esw_error *error);

#endif /* OVNIC_OFFLOAD_ESW_RTE_FLOW_H */
