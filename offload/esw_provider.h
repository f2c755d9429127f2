/* ovnic: the eSwitch backend interface.
 *
 * A backend defines one 'struct esw_class' and embeds 'struct esw' in its own instance
 * structure (first member or not: it uses CONTAINER_OF).  esw.c owns the rule handles
 * ('struct esw_rule'), checks arguments, dispatches to the class, logs a rejected rule
 * as a replayable testpmd command (rate-limited), and emulates the template/async API
 * on top of the synchronous operations when a class leaves those pointers NULL.
 *
 * Every operation returns 0 or a negative errno and fills 'error' (never NULL here:
 * esw.c always passes one) through esw_error_set().  An operation that a backend does
 * not provide is NULL; esw.c then returns -ENOTSUP "not supported: ...". */
#ifndef OVNIC_OFFLOAD_ESW_PROVIDER_H
#define OVNIC_OFFLOAD_ESW_PROVIDER_H 1

#include <stdbool.h>
#include <stdint.h>

#include "offload/esw.h"
#include "shared/util/hmap.h"
#include "shared/util/list.h"

struct esw_async_queue__;

/** The common part of an instance.  Fields are owned by esw.c; a backend reads them. */
struct esw {
    const struct esw_class *class;
    struct hmap rules;         /* 'struct esw_rule's, by 'node' (the pointer). */
    struct hmap rules_by_priv; /* 'struct esw_rule's in the device, by 'priv_node'. */
    struct ovnic_list tables;  /* Emulated template tables (esw.c). */
    struct ovnic_list pattern_templates;
    struct ovnic_list actions_templates;
    struct esw_async_queue__ *queues; /* Emulated async queues (esw.c). */
    uint32_t n_queues;
    uint32_t queue_size;
};

/** A rule handle.  Allocated and freed by esw.c; 'priv' belongs to the backend. */
struct esw_rule {
    struct hmap_node node;      /* In 'esw->rules', hashed on the pointer. */
    struct hmap_node priv_node; /* In 'esw->rules_by_priv' while 'in_device'. */
    struct esw *esw;
    void *cookie;                     /* The caller's. */
    uint64_t priv;                    /* Backend's: a device rule id or a pointer. */
    bool in_device;                   /* Created and not yet destroyed in the device. */
    struct esw_template_table *table; /* Bulk path: the table holding the rule. */
};

struct esw_class {
    const char *name; /* "sim", "rte_flow". */

    /** Allocates an instance from 'args' and stores its embedded 'struct esw' in
     * '*espp'.  esw.c initialises the common fields afterwards. */
    int (*open)(const char *args, struct esw **espp, struct esw_error *error);

    /** Frees the instance.  Rules stay in the device. */
    void (*close)(struct esw *esw);

    int (*caps_get)(struct esw *esw, struct esw_caps *caps, struct esw_error *error);

    /** As esw_port_list(). */
    int (*port_list)(struct esw *esw, struct esw_port *ports, size_t max,
                     struct esw_error *error);

    int (*rule_validate)(struct esw *esw, const struct rte_flow_attr *attr,
                         const struct rte_flow_item items[],
                         const struct rte_flow_action actions[], struct esw_error *error);

    /** Inserts the rule and stores the backend's identity for it in 'rule->priv'. */
    int (*rule_create)(struct esw *esw, struct esw_rule *rule,
                       const struct rte_flow_attr *attr,
                       const struct rte_flow_item items[],
                       const struct rte_flow_action actions[], struct esw_error *error);

    /** Removes 'rule' (identified by 'rule->priv') from the device. */
    int (*rule_destroy)(struct esw *esw, struct esw_rule *rule, struct esw_error *error);

    int (*rule_query)(struct esw *esw, struct esw_rule *rule, bool reset,
                      struct esw_rule_stats *stats, struct esw_error *error);

    /** Stores up to 'max' aged rules in 'rules' (use esw_rule_find() to map the
     * device's ids back to handles; skip ids without a handle) and returns the count. */
    int (*aged_get)(struct esw *esw, struct esw_rule **rules, size_t max,
                    struct esw_error *error);

    /** Removes every rule from the device (esw.c frees the handles). */
    int (*flush)(struct esw *esw, struct esw_error *error);

    int (*meter_set)(struct esw *esw, uint32_t id, uint64_t rate, uint64_t burst,
                     struct esw_error *error);

    /** Optional bulk insertion, used by the emulated esw_push(): creates 'n' rules
     * and stores each one's status in 'status[i]' (0 or negative errno, with the
     * error type in 'types[i]').  Returns 0 if the batch was processed (whatever the
     * per-rule statuses), or a negative errno if none was. */
    int (*rules_create_bulk)(struct esw *esw, struct esw_rule *rules[],
                             const struct rte_flow_attr *attrs[],
                             const struct rte_flow_item *items[],
                             const struct rte_flow_action *actions[], size_t n,
                             int status[], enum rte_flow_error_type types[],
                             struct esw_error *error);

    /* Native template/async API.  All NULL, or all set. */
    int (*pattern_template_create)(struct esw *esw, struct esw_pattern_template *pt,
                                   struct esw_error *error);
    void (*pattern_template_destroy)(struct esw *esw, struct esw_pattern_template *pt);
    int (*actions_template_create)(struct esw *esw, struct esw_actions_template *at,
                                   struct esw_error *error);
    void (*actions_template_destroy)(struct esw *esw, struct esw_actions_template *at);
    int (*table_create)(struct esw *esw, struct esw_template_table *table,
                        struct esw_error *error);
    void (*table_destroy)(struct esw *esw, struct esw_template_table *table);
    int (*async_create)(struct esw *esw, uint32_t queue, struct esw_rule *rule,
                        const struct rte_flow_item items[], uint8_t pt_index,
                        const struct rte_flow_action actions[], uint8_t at_index,
                        void *user_data, struct esw_error *error);
    int (*async_destroy)(struct esw *esw, uint32_t queue, struct esw_rule *rule,
                         void *user_data, struct esw_error *error);
    int (*push)(struct esw *esw, uint32_t queue, struct esw_error *error);
    int (*pull)(struct esw *esw, uint32_t queue, struct esw_op_result results[],
                size_t max, struct esw_error *error);
};

/** Templates and tables as esw.c keeps them.  A native backend stores its own object
 * in 'priv'. */
struct esw_pattern_template {
    struct ovnic_list node;
    struct rte_flow_pattern_template_attr attr;
    struct rte_flow_item *items; /* Deep copy, END-terminated. */
    void *copy__;                /* Storage of the deep copy. */
    unsigned int n_users;
    void *priv;
};

struct esw_actions_template {
    struct ovnic_list node;
    struct rte_flow_actions_template_attr attr;
    struct rte_flow_action *actions; /* Deep copy, END-terminated. */
    struct rte_flow_action *masks;   /* Deep copy, same length. */
    void *copy__;
    void *mask_copy__;
    unsigned int n_users;
    void *priv;
};

struct esw_template_table {
    struct ovnic_list node;
    struct rte_flow_template_table_attr attr;
    struct esw_pattern_template **pts;
    size_t n_pts;
    struct esw_actions_template **ats;
    size_t n_ats;
    uint32_t n_rules; /* Created or pending. */
    void *priv;
};

/** Returns the handle of 'esw' in the device whose 'priv' is 'priv', or NULL. */
struct esw_rule *esw_rule_find(const struct esw *esw, uint64_t priv);

#endif /* OVNIC_OFFLOAD_ESW_PROVIDER_H */
