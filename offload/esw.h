/* ovnic: the eSwitch interface (caller API).
 *
 * An eSwitch rule is expressed with rte_flow's own structures: a 'struct rte_flow_attr'
 * (transfer = 1), an END-terminated 'struct rte_flow_item' array and an END-terminated
 * 'struct rte_flow_action' array.  Two backends take them:
 *
 *   - esw_rte_flow_class (offload/esw_rte_flow.c): an mlx5 device through DPDK.
 *   - esw_sim_class (offload/esw_sim.c): the simulated NIC, ovnic-nicsim, over its
 *     control socket.
 *
 * A caller opens an instance with esw_open(), asks for its capabilities, and then
 * creates, queries and destroys rules.  Rules are identified by an opaque handle.
 * The bulk path mirrors rte_flow's template API (pattern and actions templates, a
 * template table of fixed size, enqueued creates and destroys, push, pull).  When a
 * backend has no native template API, esw.c provides the same semantics on top of its
 * synchronous operations (see 'struct esw_caps'.async_native).
 *
 * Errors: every function returns 0 (or a count where stated) or a negative errno.  A
 * failure is also described in an optional 'struct esw_error *', which mirrors
 * 'struct rte_flow_error': the rte_flow error type, the index of the offending item or
 * action, and a message.
 *
 * Threading: an instance is used from one thread at a time. */
#ifndef OVNIC_OFFLOAD_ESW_H
#define OVNIC_OFFLOAD_ESW_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_flow.h>

#include "shared/util/err.h"

struct esw;
struct esw_class;
struct esw_rule;
struct esw_pattern_template;
struct esw_actions_template;
struct esw_template_table;

/** Backends.  Each is defined in its own file; link the library that holds it. */
extern const struct esw_class esw_sim_class;      /* offload/esw_sim.c */
extern const struct esw_class esw_rte_flow_class; /* offload/esw_rte_flow.c */

/* ---------------------------------------------------------------------------------- */
/* Errors. */

/** A failure, in the manner of 'struct rte_flow_error'.
 *
 * 'err.code' is the negative errno that the function returned, 'err.message' a static
 * text, 'err.detail' formatted specifics.  'type' is what rte_flow's PMDs would report
 * (RTE_FLOW_ERROR_TYPE_ITEM for an unsupported item, ..._ACTION for an unsupported
 * action, ..._ATTR_GROUP for a group beyond the device's, ..._HANDLE with -ENOSPC for
 * a full table, ...).  'index' is the position of the offending item or action in its
 * array, or -1. */
struct esw_error {
    struct ovnic_err err;
    enum rte_flow_error_type type;
    int index;
};

/** Records a failure in 'error' (may be NULL) unless one is already recorded.
 * 'code' is a negative errno, 'message' a static string, 'fmt' may be NULL.  Returns
 * 'code'. */
int esw_error_set(struct esw_error *error, int code, enum rte_flow_error_type type,
                  int index, const char *message, const char *fmt, ...)
    OVNIC_PRINTF(6, 7);

/** Clears 'error' (may be NULL): code 0, type RTE_FLOW_ERROR_TYPE_NONE, index -1. */
void esw_error_clear(struct esw_error *error);

/** Formats 'error' as "type[index]: message (detail): strerror" into 'buf'.  Returns
 * 'buf'. */
const char *esw_error_format(const struct esw_error *error, char *buf, size_t size);

/** The name of an rte_flow error type, e.g. "item" for RTE_FLOW_ERROR_TYPE_ITEM. */
const char *esw_error_type_name(enum rte_flow_error_type type);

/* ---------------------------------------------------------------------------------- */
/* Opening an instance, capabilities, ports. */

/** Opens an instance of backend 'class' configured by 'args' (a backend-specific
 * "key=value,key=value" string, may be NULL):
 *
 *   - esw_sim_class: "socket=PATH" (the ovnic-nicsim control socket).
 *   - esw_rte_flow_class: see offload/esw_rte_flow.c and docs/eswitch.md; the EAL
 *     must already be initialised by the caller.
 *
 * On success stores a new instance in '*espp'; caller owns; free with esw_close().
 *
 * Errors: -EINVAL (bad 'args'), -ENODEV (no device), -ENOMEM, or a backend error. */
int esw_open(const struct esw_class *class, const char *args, struct esw **espp,
             struct esw_error *error);

/** Closes 'esw' (may be NULL).  Every rule, template and table handle of 'esw' becomes
 * invalid; rules are left in the device unless esw_flush() was called first (a
 * restarted DPU can find them in the NIC again). */
void esw_close(struct esw *esw);

/** The name of 'esw''s backend ("sim", "rte_flow"). */
const char *esw_backend_name(const struct esw *esw);

#define ESW_TYPE_BITS 128

/** What an instance can hold.  The translator never emits a rule beyond these. */
struct esw_caps {
    char device[32];                      /* E.g. "bf2", "bf3", "mlx5:0000:03:00.0". */
    uint64_t items[ESW_TYPE_BITS / 64];   /* Bit 't' set: item type 't' supported. */
    uint64_t actions[ESW_TYPE_BITS / 64]; /* Bit 't' set: action type 't' supported. */
    uint32_t max_groups;                  /* Groups 0 .. max_groups - 1. */
    uint32_t max_priorities;              /* Priorities 0 .. max_priorities - 1. */
    uint32_t max_rules_per_group;         /* Per group. */
    uint32_t max_rules;                   /* In total. */
    uint32_t max_items;                   /* Per rule, END excluded. */
    uint32_t max_actions;                 /* Per rule, END excluded. */
    uint32_t max_encap_size;              /* RAW_ENCAP data, bytes. */
    bool geneve_opt;           /* GENEVE_OPT supported, with the class/type below. */
    uint16_t geneve_opt_class; /* Host byte order; OVN uses 0x0102. */
    uint8_t geneve_opt_type;   /* OVN uses 0x80. */
    bool async_native;         /* The device has the template/async API itself. */
    uint32_t async_queues;     /* Queues usable with esw_async_*(). */
    uint32_t async_queue_size; /* Operations in flight per queue. */
};

/** True if 'caps' lists item type 'type'. */
static inline bool
esw_caps_has_item(const struct esw_caps *caps, int type)
{
    return type >= 0 && type < ESW_TYPE_BITS &&
           (caps->items[type / 64] >> (type % 64)) & 1;
}

/** True if 'caps' lists action type 'type'. */
static inline bool
esw_caps_has_action(const struct esw_caps *caps, int type)
{
    return type >= 0 && type < ESW_TYPE_BITS &&
           (caps->actions[type / 64] >> (type % 64)) & 1;
}

/** Sets bit 'type' of a capability bitmap ('items' or 'actions'); ignores types
 * outside 0 .. ESW_TYPE_BITS - 1. */
static inline void
esw_caps_bit_set(uint64_t bits[ESW_TYPE_BITS / 64], int type)
{
    if (type >= 0 && type < ESW_TYPE_BITS) {
        bits[type / 64] |= UINT64_C(1) << (type % 64);
    }
}

/** Stores 'esw''s capabilities in '*caps'.  Errors: a backend error (e.g. -EIO when
 * the simulated NIC is unreachable). */
int esw_caps_get(struct esw *esw, struct esw_caps *caps, struct esw_error *error);

enum esw_port_kind {
    ESW_PORT_UPLINK, /* The physical port ("p0"). */
    ESW_PORT_PF,     /* A host PF ("pf0hpf"). */
    ESW_PORT_VF,     /* A VF of a PF ("pf0vf3"). */
};

/** One port of the eSwitch, as seen through its representor. */
struct esw_port {
    uint16_t port_id; /* Used in REPRESENTED_PORT / PORT_REPRESENTOR. */
    enum esw_port_kind kind;
    uint16_t pf;   /* PF number (uplink: its PF). */
    uint16_t vf;   /* VF number, for ESW_PORT_VF. */
    char name[32]; /* Representor name: "p0", "pf0hpf", "pf0vf3". */
};

/** Stores up to 'max' ports of 'esw' in 'ports' and returns how many the eSwitch has
 * (which may exceed 'max').  Errors: a backend error. */
int esw_port_list(struct esw *esw, struct esw_port *ports, size_t max,
                  struct esw_error *error);

/* ---------------------------------------------------------------------------------- */
/* Synchronous rules. */

/** Checks whether 'esw' would accept the rule, without inserting it.
 *
 * Errors: -EINVAL (malformed: missing END, transfer not set, bad conf), -ENOTSUP (an
 * item, action or combination the device does not hold; 'error->type' is ..._ITEM or
 * ..._ACTION and 'error->index' its position), -ERANGE (group or priority beyond the
 * device's), or a backend error. */
int esw_rule_validate(struct esw *esw, const struct rte_flow_attr *attr,
                      const struct rte_flow_item items[],
                      const struct rte_flow_action actions[], struct esw_error *error);

/** Inserts a rule.  'cookie' is the caller's, returned by esw_rule_cookie() (for
 * example with the rules that esw_aged_get() reports).  The arrays are borrowed for
 * the duration of the call.  On success stores the handle in '*rulep'; valid until
 * esw_rule_destroy(), esw_flush() or esw_close().
 *
 * Errors: as esw_rule_validate(), plus -ENOSPC (table or group full;
 * RTE_FLOW_ERROR_TYPE_HANDLE), -ENOMEM, -EIO (backend unreachable). */
int esw_rule_create(struct esw *esw, const struct rte_flow_attr *attr,
                    const struct rte_flow_item items[],
                    const struct rte_flow_action actions[], void *cookie,
                    struct esw_rule **rulep, struct esw_error *error);

/** Removes 'rule' from the device and frees the handle (also when the device reports
 * an error, which is returned: the handle is invalid afterwards in every case).
 * 'rule' may be NULL (returns 0). */
int esw_rule_destroy(struct esw *esw, struct esw_rule *rule, struct esw_error *error);

/** The caller's cookie given when 'rule' was created. */
void *esw_rule_cookie(const struct esw_rule *rule);

/** Counters and age of one rule. */
struct esw_rule_stats {
    bool has_count; /* The rule has a COUNT action: 'packets' and 'bytes' valid. */
    uint64_t packets;
    uint64_t bytes;
    bool has_age;      /* The rule has an AGE action: 'idle_sec' and 'aged' valid. */
    uint32_t idle_sec; /* Seconds since the rule last matched (or was created). */
    bool aged;         /* 'idle_sec' reached the AGE timeout. */
};

/** Stores the counters of 'rule' in '*stats'.  When 'reset', the device's counters
 * restart from zero.  Errors: -ENOENT (the device no longer has the rule), a backend
 * error. */
int esw_rule_query(struct esw *esw, struct esw_rule *rule, bool reset,
                   struct esw_rule_stats *stats, struct esw_error *error);

/** Stores in 'rules' up to 'max' rules that have aged out (their AGE timeout passed
 * without a hit) and returns how many were stored.  The rules stay installed until
 * destroyed; each is reported once.  Errors: -ENOTSUP (no AGE support), a backend
 * error. */
int esw_aged_get(struct esw *esw, struct esw_rule **rules, size_t max,
                 struct esw_error *error);

/** Removes every rule of 'esw' from the device, including rules that a previous
 * instance left there, and frees every rule handle.  Errors: a backend error. */
int esw_flush(struct esw *esw, struct esw_error *error);

/** Number of rules that 'esw' holds handles for. */
size_t esw_rule_count(const struct esw *esw);

/** Configures meter 'id' (referenced by RTE_FLOW_ACTION_TYPE_METER): a token bucket of
 * 'rate' bytes per second and 'burst' bytes.  Replaces an existing meter of that id.
 * Errors: -EINVAL ('rate' is 0), -ENOTSUP (no METER support), a backend error. */
int esw_meter_set(struct esw *esw, uint32_t id, uint64_t rate, uint64_t burst,
                  struct esw_error *error);

/* ---------------------------------------------------------------------------------- */
/* Bulk path, shaped like rte_flow's template API. */

/** Creates a pattern template: 'items' give the types and masks (spec may be NULL)
 * that every rule of a table will match.  Caller owns; free with
 * esw_pattern_template_destroy() after every table that uses it.  Errors: as
 * esw_rule_validate(), -ENOMEM. */
int esw_pattern_template_create(struct esw *esw,
                                const struct rte_flow_pattern_template_attr *attr,
                                const struct rte_flow_item items[],
                                struct esw_pattern_template **ptp,
                                struct esw_error *error);

/** Frees 'pt' (may be NULL).  Errors: -EBUSY (a table still uses it). */
int esw_pattern_template_destroy(struct esw *esw, struct esw_pattern_template *pt,
                                 struct esw_error *error);

/** Creates an actions template: 'actions' give the action types; where 'masks[i].conf'
 * is non-NULL the conf of 'actions[i]' is fixed for every rule, otherwise each rule
 * supplies it.  'masks' has the same length as 'actions'.  Caller owns; free with
 * esw_actions_template_destroy().  Errors: as esw_rule_validate(), -ENOMEM. */
int esw_actions_template_create(struct esw *esw,
                                const struct rte_flow_actions_template_attr *attr,
                                const struct rte_flow_action actions[],
                                const struct rte_flow_action masks[],
                                struct esw_actions_template **atp,
                                struct esw_error *error);

/** Frees 'at' (may be NULL).  Errors: -EBUSY (a table still uses it). */
int esw_actions_template_destroy(struct esw *esw, struct esw_actions_template *at,
                                 struct esw_error *error);

/** Creates a table of 'attr->nb_flows' rules with attributes 'attr->flow_attr', whose
 * rules combine one of 'pts' with one of 'ats' (borrowed; they must outlive the
 * table).  Caller owns; free with esw_template_table_destroy().  Errors: -EINVAL
 * (no templates, nb_flows 0), -ENOSPC (the device cannot reserve nb_flows),
 * -ERANGE (group or priority), -ENOMEM. */
int esw_template_table_create(struct esw *esw,
                              const struct rte_flow_template_table_attr *attr,
                              struct esw_pattern_template *pts[], size_t n_pts,
                              struct esw_actions_template *ats[], size_t n_ats,
                              struct esw_template_table **tablep,
                              struct esw_error *error);

/** Frees 'table' (may be NULL).  Errors: -EBUSY (the table still holds rules). */
int esw_template_table_destroy(struct esw *esw, struct esw_template_table *table,
                               struct esw_error *error);

/** Enqueues, on 'queue', the creation of a rule in 'table' from pattern template
 * 'pt_index' (with the specs of 'items') and actions template 'at_index' (with the
 * confs of 'actions').  The handle is stored in '*rulep' at once, but the rule exists
 * only once its completion reports success; 'user_data' comes back with the
 * completion and 'cookie' as with esw_rule_create().  Nothing reaches the device
 * before esw_push().
 *
 * Errors: -EINVAL (bad index or queue, items that do not fit the template), -EAGAIN
 * (queue full: pull completions first), -ENOSPC (table full), -ENOMEM. */
int esw_async_create(struct esw *esw, uint32_t queue, struct esw_template_table *table,
                     const struct rte_flow_item items[], uint8_t pt_index,
                     const struct rte_flow_action actions[], uint8_t at_index,
                     void *cookie, void *user_data, struct esw_rule **rulep,
                     struct esw_error *error);

/** Enqueues, on 'queue', the destruction of 'rule'.  Its completion reports the
 * handle, which is freed once esw_pull() has returned it.  Errors: -EINVAL (bad queue,
 * or 'rule' already being destroyed), -EAGAIN (queue full). */
int esw_async_destroy(struct esw *esw, uint32_t queue, struct esw_rule *rule,
                      void *user_data, struct esw_error *error);

/** Sends every operation enqueued on 'queue' to the device.  Errors: -EINVAL (bad
 * queue), a backend error (the operations then complete with that error). */
int esw_push(struct esw *esw, uint32_t queue, struct esw_error *error);

/** One completed operation. */
struct esw_op_result {
    int status;                    /* 0, or the negative errno of the operation. */
    enum rte_flow_error_type type; /* When 'status' < 0: as in 'struct esw_error'. */
    bool is_destroy;               /* The operation was esw_async_destroy(). */
    struct esw_rule *rule;         /* A create that failed: the handle is already freed
                                    * and this is only a token to compare with. */
    void *user_data;
};

/** Stores up to 'max' completions of 'queue' in 'results' and returns their count
 * (0 when none is ready).  Errors: -EINVAL (bad queue). */
int esw_pull(struct esw *esw, uint32_t queue, struct esw_op_result results[], size_t max,
             struct esw_error *error);

/* ---------------------------------------------------------------------------------- */
/* Rendering. */

/** Renders a rule as a testpmd command "flow create PORT transfer group G priority P
 * pattern ... / end actions ... / end" into 'buf' (truncated, always NUL-terminated).
 * Returns the length the full text needs (as snprintf), so that a rule can be logged
 * in a form that can be replayed. */
int esw_rule_format(const struct rte_flow_attr *attr, const struct rte_flow_item items[],
                    const struct rte_flow_action actions[], uint16_t port_id, char *buf,
                    size_t size);

/** The testpmd name of item type 'type' ("eth", "geneve_opt", "represented_port"), or
 * NULL if ovnic does not know it. */
const char *esw_item_name(int type);

/** The size of the rte_flow structure of item 'type' (spec, last and mask share it),
 * with the mask rte_flow applies when an item has none in '*default_mask'.  Returns 0
 * (and leaves '*default_mask' untouched) for an item without a default mask, such as
 * VOID, END or CONNTRACK. */
size_t esw_item_default_mask(int type, const void **default_mask);

/** The testpmd name of action type 'type' ("jump", "raw_encap", "set_ipv4_src"), or
 * NULL if ovnic does not know it. */
const char *esw_action_name(int type);

/** The item type whose testpmd name is 'name', or -1. */
int esw_item_from_name(const char *name);

/** The action type whose testpmd name is 'name', or -1. */
int esw_action_from_name(const char *name);

#endif /* OVNIC_OFFLOAD_ESW_H */
