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
 * are DPDK ethdev port ids: the representors' and the uplink's.
 *
 * Rule insertion uses the device's template/async API when rte_flow_info_get() on the
 * transfer proxy succeeds and reports queues (mlx5 probed with dv_flow_en=2; open the
 * backend before the proxy port is started, as rte_flow_configure() requires): every
 * rule then goes into a template table chosen by its shape (group, priority, item
 * types and masks, action types and fixed confs), created on first use.  Otherwise
 * rules go through rte_flow_create().  esw_open() logs which one it chose. */
#ifndef OVNIC_OFFLOAD_ESW_RTE_FLOW_H
#define OVNIC_OFFLOAD_ESW_RTE_FLOW_H 1

#include <stdbool.h>
#include <stddef.h>
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

/* ---------------------------------------------------------------------------------- */
/* Template form, for the device's template/async API. */

/** Bytes of mask storage per item of a template (the largest rte_flow item ovnic
 * programs fits). */
#define ESW_RTE_FLOW_MASK_SLOT 64

/** Rules per template table when the caller's table gives no size. */
#define ESW_RTE_FLOW_TABLE_SIZE 65536

/** The template structures of one rule shape.  Self-contained: every pointer points
 * into the structure itself. */
struct esw_rte_flow_template {
    struct rte_flow_pattern_template_attr pt_attr;
    struct rte_flow_item items[ESW_RTE_FLOW_MAX_ELEMS]; /* Types and masks; no spec. */
    struct rte_flow_actions_template_attr at_attr;
    struct rte_flow_action actions[ESW_RTE_FLOW_MAX_ELEMS];
    struct rte_flow_action masks[ESW_RTE_FLOW_MAX_ELEMS]; /* Non-NULL conf: fixed. */
    struct rte_flow_template_table_attr table_attr;
    /* Storage. */
    uint8_t item_masks[ESW_RTE_FLOW_MAX_ELEMS][ESW_RTE_FLOW_MASK_SLOT];
    uint32_t opt_data_mask[31];
    uint8_t opt_words; /* Words of 'opt_data_mask' in use. */
    struct rte_flow_action_raw_decap decap;
    uint8_t decap_data[ESW_RTE_FLOW_DECAP_LEN];
    struct rte_flow_action_modify_field mf[2];      /* A fixed MODIFY_FIELD and ... */
    struct rte_flow_action_modify_field mf_mask[2]; /* ... its mask (at most two). */
};

/** Builds the template form of 'rule' (a translation by esw_rte_flow_translate()) for
 * a table of 'nb_flows' rules (0: ESW_RTE_FLOW_TABLE_SIZE):
 *
 *   - pattern template: the rule's item types, each with its mask (an item with a spec
 *     and no mask gets rte_flow's default mask for its type; an item with neither
 *     matches the layer's presence only);
 *   - actions template: the rule's action types; confs are per rule (mask conf NULL)
 *     except the RAW_DECAP header that the translation supplies and the field
 *     selection of MODIFY_FIELD, which are fixed;
 *   - table: the rule's group and priority, transfer, 'nb_flows' rules.
 *
 * Errors: -ENOTSUP (an item without a known mask size, more than two MODIFY_FIELD;
 * 'error->index' points to it). */
int esw_rte_flow_template_build(const struct esw_rte_flow_rule *rule, uint32_t nb_flows,
                                struct esw_rte_flow_template *out,
                                struct esw_error *error);

/** Serialises what makes two rules share a template table ('t''s group, priority,
 * item types and masks, action types and fixed confs) into 'buf' and returns the
 * length it needs (as snprintf; nothing is written beyond 'size'). */
size_t esw_rte_flow_template_key(const struct esw_rte_flow_template *t, uint8_t *buf,
                                 size_t size);

/** How the template/async API is configured on a device that reports 'port' and
 * 'queue' (rte_flow_info_get()): one queue of at most 1024 operations, counters and
 * aging objects for up to 'max_rules' rules each (capped by the device's maxima when
 * it reports any). */
struct esw_rte_flow_port_cfg {
    struct rte_flow_port_attr port_attr;
    struct rte_flow_queue_attr queue_attr;
    uint16_t nb_queues;
};
void esw_rte_flow_port_cfg_choose(const struct rte_flow_port_info *port,
                                  const struct rte_flow_queue_info *queue,
                                  uint32_t max_rules, struct esw_rte_flow_port_cfg *out);

/** Renders the testpmd commands that set up the template API with 'pcfg' and create
 * template 't' on 'port': "flow configure ...", "flow pattern_template ... create",
 * "flow actions_template ... create", "flow template_table ... create", one per line,
 * each ending in '\n', using 'id' for the templates' and table's ids ('pcfg' may be
 * NULL to leave out the first line).  Truncates, always NUL-terminates; returns the
 * length the full text needs. */
int esw_rte_flow_template_format(const struct esw_rte_flow_port_cfg *pcfg,
                                 const struct esw_rte_flow_template *t, uint16_t port,
                                 uint32_t id, char *buf, size_t size);

/** Renders the insertion of 'rule' into table 'table_id' through 'queue' as testpmd
 * commands ("set raw_encap" lines if any, "flow queue PORT create QUEUE template_table
 * T pattern_template 0 actions_template 0 postpone P pattern ... actions ...").  As
 * esw_rte_flow_template_format() for the buffer and the return value. */
int esw_rte_flow_queue_format(const struct esw_rte_flow_rule *rule, uint16_t port,
                              uint32_t queue, uint32_t table_id, bool postpone, char *buf,
                              size_t size);

#endif /* OVNIC_OFFLOAD_ESW_RTE_FLOW_H */
