/* ovnic: the action executor of the pipeline.
 *
 * Runs the actions of one logical flow (a struct action_list from action_parse()) on a
 * packet key, as OVN's physical translation of those actions would, and says what
 * happens next.  A walk through the pipeline is a loop:
 *
 *     struct exec_result r;
 *     struct pkey_mask wc;
 *     pkey_mask_init(&wc);
 *     exec_result_init(&r, &wc);
 *     params.table = 0;
 *     for (;;) {
 *         rule = cls_lookup(cls, table_of(params), &key, &wc);
 *         exec_run(&env, &params, actions_of(rule), &key, &r);
 *         if (r.verdict == EXEC_NEXT) { params.pipeline/table = r.next_*; continue; }
 *         ...EXEC_OUTPUT: go on in the egress pipeline, or deliver to r.outport...
 *         ...EXEC_PAUSE: hand r.ctrl[r.n_ctrl - 1] to the controller, then
 *            exec_resume() with its result bit...
 *         break;
 *     }
 *
 * The result accumulates over the walk what a megaflow needs:
 *
 *   - 'changes': the packet-header rewrites (set-field actions), in order; a write to a
 *     field already rewritten since the last ct operation merges into that entry.
 *     Registers, flags, inport/outport and the other metadata are not header changes.
 *   - 'ct': the conntrack operations (ct.h), each with the number of header changes
 *     that precede it ('change_mark').  The executor runs them through the ct backend
 *     at once, so that the walk can go on with the resulting ct_state; the datapath
 *     ends a megaflow at a recirculating one (ct_op.recirc).
 *   - 'ctrl': the controller actions (arp{}, put_dhcp_opts, put_arp, ...), with their
 *     arguments evaluated; dpu/pipeline/ctrl.h builds what they describe.
 *   - 'forks': clone { ... } blocks, with a copy of the key at the clone: the caller
 *     walks each one on its own (exec_result_init_fork()).
 *   - 'wc' (optional): every key bit the actions read before any action of the walk
 *     wrote it is added to the caller's wildcard mask, so a megaflow that includes
 *     the classifier's wildcards and these is exact.
 *
 * Execution of a list stops at its first next, output, recirculating ct operation or
 * pausing controller action (put_dhcp_opts, put_dhcpv6_opts, put_nd_ra_opts,
 * dns_lookup); ops after a next or output are not run and are counted in
 * 'n_skipped' (ovn-northd never writes any).
 *
 * Nothing here allocates: the result has fixed arrays (EXEC_MAX_*).  When one
 * overflows, the walk goes on but the result is marked incomplete ('n_overflows') and
 * must not be cached as a megaflow.  Nothing in a packet or an action list can crash
 * the executor: an action that cannot run (an unknown port name, a nesting too deep, a
 * ct backend error) makes the verdict EXEC_DROP, with the reason in 'error'.
 *
 * docs/pipeline-actions.md gives the semantics of every action. */
#ifndef OVNIC_PIPELINE_EXEC_H
#define OVNIC_PIPELINE_EXEC_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpu/controller/actions.h"
#include "dpu/pipeline/ct.h"
#include "dpu/pipeline/key.h"

#define EXEC_MAX_CHANGES 32 /* Header changes in one walk. */
#define EXEC_MAX_CT 8       /* Conntrack operations in one walk. */
#define EXEC_MAX_CTRL 8     /* Controller actions in one walk. */
#define EXEC_MAX_FORKS 4    /* clone { } blocks in one walk. */
#define EXEC_MAX_LOGS 4     /* log() actions in one walk. */
#define EXEC_MAX_STACK 8    /* push() depth within one list. */

enum exec_verdict {
    EXEC_NEXT,   /* Continue at 'next_pipeline', table 'next_table'. */
    EXEC_OUTPUT, /* output: to the egress pipeline (from ingress) or to 'outport'. */
    EXEC_DROP,   /* The list ended without next or output, or failed ('error'). */
    EXEC_PAUSE,  /* A pausing controller action: see exec_resume(). */
};

/** How the executor learns what the SB and the datapath know.  Every callback may be
 * NULL; the documented default applies. */
struct exec_env {
    /** Conntrack backend ('ct_class' NULL: ct operations are recorded, and the key is
     * left as it is). */
    const struct ct_class *ct_class;
    void *ct;

    /** Logical port 'name' to its tunnel key: 0 and '*key', or -ENOENT.  NULL: every
     * name is unknown.  The empty name "" is always 0. */
    int (*port_key)(void *aux, const char *name, uint32_t *key);

    /** MAC_Binding lookup on logical port 'port' of 'datapath' for 'ip' (IPv4 as a
     * 32-bit number, IPv6 as 128): 0 and '*mac', or -ENOENT.  NULL: none known. */
    int (*mac_binding)(void *aux, uint32_t datapath, uint32_t port, bool ipv6,
                       lex_u128 ip, uint8_t mac[6]);

    /** FDB lookup of 'mac' in 'datapath': 0 and the port key, or -ENOENT.  NULL: none
     * known. */
    int (*fdb)(void *aux, uint32_t datapath, const uint8_t mac[6], uint32_t *port);

    /* The checks below read what they like of 'key'; each must add the bits it
     * consulted to 'wc' (may be NULL) so that megaflows stay exact. */

    /** chk_lb_hairpin ('reply' false) and chk_lb_hairpin_reply (true).  NULL: false. */
    bool (*lb_hairpin)(void *aux, const struct pkey *key, struct pkey_mask *wc,
                       bool reply);

    /** chk_ecmp_nh_mac ('mac' true) and chk_ecmp_nh (false): whether
     * commit_ecmp_nh recorded this next hop.  NULL: false. */
    bool (*ecmp_nh)(void *aux, const struct pkey *key, struct pkey_mask *wc, bool mac);

    /** chk_lb_aff: whether an affinity entry exists.  NULL: false. */
    bool (*lb_aff)(void *aux, const struct pkey *key, struct pkey_mask *wc);

    /** check_in_port_sec ('egress' false) and check_out_port_sec (true): true when
     * port security refuses the packet.  NULL: false (allowed). */
    bool (*port_sec)(void *aux, const struct pkey *key, struct pkey_mask *wc,
                     bool egress);

    void *aux;

    /** select() picks the member with this id when it has one (as ovn-trace
     * --select-id); 0, or no such member: by the packet's hash. */
    uint16_t select_id;
};

/** Where the actions run. */
struct exec_params {
    enum action_pipeline pipeline; /* ACTION_PIPELINE_INGRESS or _EGRESS. */
    int table;                     /* The flow's table. */
    bool is_router;                /* The datapath is a logical router (ct zones). */
    uint32_t pkt_len;              /* Frame length with the Ethernet header. */
};

/** One header rewrite: bits 'mask' of key field 'field' become 'value'. */
struct exec_change {
    enum pkey_field_id field;
    lex_u128 value; /* Within 'mask'. */
    lex_u128 mask;
};

/** A controller action, with its field arguments evaluated when it ran. */
struct exec_ctrl {
    enum action_type type;
    const struct action *action; /* Borrowed from the list (options, nested...). */
    lex_u128 args[3];            /* Values of action->args[], in order. */
    uint32_t datapath;           /* The key's datapath then. */
    bool pause;                  /* Waits for a result (exec_resume()). */
    size_t change_mark;          /* Header changes that precede it. */
};

/** A clone { } block: the caller runs 'actions' on 'key' in a walk of its own. */
struct exec_fork {
    const struct action_list *actions; /* Borrowed. */
    struct pkey key;                   /* The key when the clone ran. */
    size_t change_mark;                /* Header changes that precede it. */
    struct exec_params params;         /* Where it ran. */
};

struct exec_result {
    enum exec_verdict verdict;
    enum action_pipeline next_pipeline; /* EXEC_NEXT. */
    int next_table;                     /* EXEC_NEXT. */
    uint32_t outport;                   /* EXEC_OUTPUT: the key's outport. */

    struct exec_change changes[EXEC_MAX_CHANGES];
    size_t n_changes;

    struct ct_op ct[EXEC_MAX_CT];
    size_t n_ct;

    struct exec_ctrl ctrl[EXEC_MAX_CTRL];
    size_t n_ctrl;

    struct exec_fork forks[EXEC_MAX_FORKS];
    size_t n_forks;

    const struct action *logs[EXEC_MAX_LOGS]; /* log() actions that ran. Borrowed. */
    size_t n_logs;

    int queue_id;               /* set_queue, or -1. */
    const struct action *meter; /* set_meter, or NULL.  Borrowed. */
    bool pkt_len_checked;       /* check_pkt_larger ran: the megaflow depends on */
    uint32_t pkt_len_threshold; /* ...whether the length exceeds this. */
    bool has_frag_mtu;          /* icmp4.frag_mtu / icmp6.frag_mtu was written */
    uint32_t frag_mtu;          /* ...inside a packet-building block. */

    /* EXEC_PAUSE: where to resume. */
    const struct action_list *pause_list;
    size_t pause_index;

    /* Walk state. */
    struct pkey_mask written; /* Key bits some action wrote. */
    struct pkey_mask *wc;     /* Caller's wildcards, or NULL.  Borrowed. */
    size_t change_floor;      /* Changes before this index are never merged into. */

    uint32_t n_overflows;  /* Entries lost to a full array: do not cache. */
    uint32_t n_skipped;    /* Ops after next/output, not run. */
    int error;             /* 0, or why the verdict is EXEC_DROP (negative errno). */
    const char *error_msg; /* Static, or NULL. */
};

/** Prepares 'r' for a new walk.  'wc' (may be NULL) is borrowed for the walk: read
 * bits are ORed into it. */
void exec_result_init(struct exec_result *r, struct pkey_mask *wc);

/** Prepares 'child' to walk 'fork' (one of 'parent->forks'): it starts with the
 * parent's header changes up to the clone and its written bits.  Then call
 * exec_run(env, &fork->params, fork->actions, &key, child) with a copy of fork->key. */
void exec_result_init_fork(struct exec_result *child, const struct exec_result *parent,
                           const struct exec_fork *fork);

/** Runs 'list' (borrowed; must outlive 'r') on 'key' (updated in place) for a flow at
 * 'params', adding to 'r'.  Sets r->verdict and what goes with it.
 *
 * Returns 0, or a negative errno when an action could not run; then r->verdict is
 * EXEC_DROP and r->error/r->error_msg say why: -ENOENT (unknown port name),
 * -EINVAL (an op the executor cannot run: a table out of range, pop() of an empty
 * stack, an unsupported op inside ct_commit { }), -ENOSPC (push() beyond
 * EXEC_MAX_STACK), or the ct backend's error. */
int exec_run(const struct exec_env *env, const struct exec_params *params,
             const struct action_list *list, struct pkey *key, struct exec_result *r);

/** After EXEC_PAUSE: stores 'value' (the controller's answer, e.g. 1 for a DHCP reply
 * built) in the paused action's result field and runs the rest of the list.  Returns
 * as exec_run(); -EINVAL if 'r' is not paused. */
int exec_resume(const struct exec_env *env, const struct exec_params *params,
                struct pkey *key, struct exec_result *r, lex_u128 value);

/** Appends to 'r' a header change for every header field in which 'after' differs
 * from 'before' (e.g. a fork's key against the walk's start). */
void exec_changes_diff(const struct pkey *before, const struct pkey *after,
                       struct exec_result *r);

/** Name of 'verdict' ("next", "output", "drop", "pause").  Static. */
const char *exec_verdict_name(enum exec_verdict verdict);

/** True for the controller actions that wait for an answer (put_dhcp_opts,
 * put_dhcpv6_opts, put_nd_ra_opts, dns_lookup). */
bool exec_action_pauses(enum action_type type);

/** True for key fields that are packet headers (changes to them are set-field
 * actions), false for metadata. */
bool exec_field_is_header(enum pkey_field_id field);

#endif /* OVNIC_PIPELINE_EXEC_H */
