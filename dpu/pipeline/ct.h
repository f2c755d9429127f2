/* ovnic: the connection-tracking interface of the pipeline.
 *
 * The action executor (exec.h) turns every conntrack action of a logical flow
 * (ct_next, ct_commit, ct_dnat, ct_snat, their _in_czone forms, ct_lb, ct_lb_mark,
 * ct_commit_nat, ct_snat_to_vip, ct_clear) into one struct ct_op and hands it to a
 * conntrack backend through struct ct_class.  The backend updates the packet key as
 * the connection tracker would: ct_state, ct_mark, ct_label, ct_zone, and the
 * addresses and ports that NAT or load balancing rewrite.
 *
 * Two backends exist:
 *
 *   - the DPDK vswitch's connection tracker (dpu/vswitch), with real connections;
 *   - ct_det (this file): a deterministic backend whose answers are given from outside,
 *     in the manner of "ovn-trace --ct=FLAGS ... --lb-dst=IP[:PORT]", for unit tests
 *     and for comparing the pipeline with ovn-trace.
 *
 * docs/pipeline-actions.md describes the zones each action uses and what ct_det does
 * for each operation. */
#ifndef OVNIC_PIPELINE_CT_H
#define OVNIC_PIPELINE_CT_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpu/controller/actions.h"
#include "dpu/pipeline/key.h"

/* Bits of ct_state, as the OVN language numbers them (ct.new is ct_state[0]). */
#define CT_STATE_NEW 0x01
#define CT_STATE_EST 0x02
#define CT_STATE_REL 0x04
#define CT_STATE_RPL 0x08
#define CT_STATE_INV 0x10
#define CT_STATE_TRK 0x20
#define CT_STATE_SNAT 0x40
#define CT_STATE_DNAT 0x80

/* ct_mark and ct_label bits that ct_lb/ct_lb_mark set (ct_mark.natted, ...). */
#define CT_MARK_NATTED 0x02
#define CT_MARK_SKIP_SNAT 0x04
#define CT_MARK_FORCE_SNAT 0x08

/* What is wrong with a conntrack zone that ct_zone_parse() refuses: the same text
 * wherever a zone is given (the control socket, ovnicctl). */
#define CT_ZONE_ERROR "a conntrack zone is an integer from 0 to 65535"

/** Parses a conntrack zone: a JSON integer, or a string of decimal digits, from 0 to
 * 65535 (OVN's zones are 16 bits).  Returns 0 and sets '*zone', or -EINVAL (then
 * CT_ZONE_ERROR says why) and leaves it alone. */
int ct_zone_parse(const json_t *value, uint16_t *zone);

/* Registers holding the conntrack zones, as in OVN's physical pipeline: the low 16
 * bits of reg11 (a router's DNAT zone), reg12 (a router's SNAT zone) and reg13 (a
 * switch port's zone). */
#define CT_REG_DNAT_ZONE 11
#define CT_REG_SNAT_ZONE 12
#define CT_REG_CT_ZONE 13

enum ct_op_type {
    CT_OP_NEXT,        /* ct_next: look the packet up, continue at the next table. */
    CT_OP_COMMIT,      /* ct_commit [{ ct_mark/ct_label writes }]. */
    CT_OP_COMMIT_NAT,  /* ct_commit_nat: commit, applying the connection's NAT. */
    CT_OP_DNAT,        /* ct_dnat[(ip[, ports])] and ct_dnat_in_czone. */
    CT_OP_SNAT,        /* ct_snat[(ip[, ports])] and ct_snat_in_czone. */
    CT_OP_LB,          /* ct_lb / ct_lb_mark. */
    CT_OP_CLEAR,       /* ct_clear. */
    CT_OP_SNAT_TO_VIP, /* ct_snat_to_vip. */
};

/** One conntrack operation.  Filled by the executor; a backend reads it and fills
 * 'backend' and 'state_out'. */
struct ct_op {
    enum ct_op_type type;
    enum action_type action; /* The action it came from (ACTION_CT_LB_MARK...). */
    uint16_t zone;           /* Zone, from register 'zone_reg'. */
    uint8_t zone_reg;        /* CT_REG_*: where the zone was read. */
    bool commit;             /* Creates the connection if it does not exist. */
    bool recirc;             /* The walk continues at the next table afterwards. */

    /* NAT (DNAT, SNAT) with an explicit address.  'has_nat_ip' false: NAT as the
     * connection already says. */
    bool has_nat_ip;
    bool nat_ipv6;
    lex_u128 nat_ip;
    uint16_t nat_port_lo; /* 0: no port given. */
    uint16_t nat_port_hi;

    /* LB.  Borrowed from the action list: valid as long as it is. */
    const struct action_lb *lb;
    bool lb_mark; /* ct_lb_mark: natted/skip_snat/force_snat go to ct_mark, not
                   * ct_label. */

    /* COMMIT: what to write into the connection's mark and label. */
    uint32_t mark_value, mark_mask;
    lex_u128 label_value, label_mask;

    /* Filled by the backend. */
    int backend;        /* LB: index of the chosen backend, -1 for none. */
    uint32_t state_out; /* ct_state after the operation (CT_STATE_*). */

    size_t change_mark; /* Header changes that precede it (exec_result.changes). */
};

/** A conntrack backend. */
struct ct_class {
    const char *name;

    /** Runs 'op' for the packet 'key' (the key as it is at that point of the walk),
     * updating 'key' as the tracker does, and filling 'op->backend' and
     * 'op->state_out'.  'ct' is the backend's instance.  Returns 0 or a negative
     * errno (the executor counts it and drops the packet). */
    int (*execute)(void *ct, struct ct_op *op, struct pkey *key);
};

/** Short name of 'type' ("ct_next", "ct_commit", "ct_dnat", ...).  Static. */
const char *ct_op_type_name(enum ct_op_type type);

/** Parses ct_state flags written as ovn-trace takes them: names among trk, new, est,
 * rel, rpl, inv, snat, dnat separated by ',', '|' or spaces ("trk,est", "new").
 * Stores the bits (CT_STATE_*) in '*state'.  Errors: -EINVAL (unknown name; '*state'
 * untouched). */
int ct_state_parse(const char *s, uint32_t *state);

/** Writes 'state' as "trk|est|..." (or "0") into 'buf'.  Returns 'buf'. */
const char *ct_state_format(uint32_t state, char *buf, size_t size);

/* ---- ct_det: the deterministic backend. ---- */

/** How many --ct states a ct_det holds. */
#define CT_DET_MAX_STATES 16

struct ct_det;

/** The class of ct_det instances: pass a struct ct_det * as the 'ct' argument. */
extern const struct ct_class ct_det_class;

/** Creates a deterministic tracker with no states queued and no --lb-dst.  Caller
 * owns; free with ct_det_destroy().  Errors: -ENOMEM. */
int ct_det_create(struct ct_det **ctp);

/** Frees 'ct'.  NULL is a no-op. */
void ct_det_destroy(struct ct_det *ct);

/** Queues the ct_state that the next looking-up operation (ct_next, ct_dnat, ct_snat,
 * ct_lb...) reports, like one --ct=FLAGS option of ovn-trace: 'flags' as for
 * ct_state_parse(); "trk" is always added.  When the queue is empty, operations report
 * trk|est, as ovn-trace does.  Errors: -EINVAL (bad flags), -ENOSPC (more than
 * CT_DET_MAX_STATES queued). */
int ct_det_push_state(struct ct_det *ct, const char *flags);

/** Sets the load-balancer destination that ct_lb/ct_lb_mark prefer, like ovn-trace's
 * --lb-dst: "IP", "IP:PORT", "IP6" or "[IP6]:PORT".  A backend with this address (and
 * port, if given) is chosen when the list has one; a bare ct_lb/ct_lb_mark without
 * backends uses it as such.  NULL clears it.  Errors: -EINVAL (not an address). */
int ct_det_set_lb_dst(struct ct_det *ct, const char *ip_port);

/** Number of operations 'ct' has executed, of each type. */
uint64_t ct_det_count(const struct ct_det *ct, enum ct_op_type type);

#endif /* OVNIC_PIPELINE_CT_H */
