/* ovnic: multi-table, priority-ordered, masked-match packet classifier.
 *
 * The classifier holds up to CLS_MAX_TABLES tables.  A rule lives in one table with a
 * priority and an opaque pointer (a logical flow, for the pipeline), and matches what
 * an expr_match_list (dpu/controller/expr.h) matches: one entry per conjunction, all
 * pointing at the same rule.  Rules are added and removed one at a time; nothing is
 * ever rebuilt.
 *
 *     struct cls *cls;
 *     cls_create(&resolver, &cls);
 *     cls_rule_add(cls, table, priority, list, lflow, &rule, &err);
 *     ...
 *     struct pkey_mask wc;
 *     pkey_mask_init(&wc);
 *     const struct cls_rule *r = cls_lookup(cls, table, &key, &wc);
 *
 * A lookup returns the rule of highest priority that matches; among several of equal
 * priority, the one added first.  It also adds to 'wc' every key bit it consulted, so
 * that any packet that agrees with 'key' on the bits of 'wc' gets the same answer:
 * the lookups of one packet's walk through the pipeline, ORed together, give the mask
 * of its megaflow.  docs/pipeline-classifier.md explains the structure (tuple-space
 * search with staged lookup) and how the wildcards stay small.
 *
 * Names in the IR:
 *
 *   - inport/outport compare logical port NAMES; the resolver maps each to the 32-bit
 *     key stored in struct pkey.  A conjunction that names a port the resolver does not
 *     know cannot match any packet, so it is not installed: it is counted in the rule
 *     (cls_rule_n_unresolved()) and in the statistics, and the caller, which knows
 *     which names each flow uses (struct expr_refs), adds the rule again once the port
 *     exists.
 *   - is_chassis_resident(port) conditions are evaluated through the resolver when the
 *     rule is added; a conjunction whose condition is false is not installed.  Without
 *     a callback, every port resides nowhere.  Again, the caller re-adds the rule when
 *     a port's residence changes.
 *
 * Not thread-safe: one thread adds, removes and looks up (lookups update counters). */
#ifndef OVNIC_PIPELINE_CLASSIFIER_H
#define OVNIC_PIPELINE_CLASSIFIER_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpu/controller/expr.h"
#include "dpu/pipeline/key.h"
#include "shared/util/err.h"

#define CLS_MAX_TABLES 256

/** How the classifier resolves the names an IR refers to.  Any member may be NULL. */
struct cls_resolver {
    /** Maps logical port 'name' to its tunnel key.  Returns 0 and stores the key in
     * '*key', or -ENOENT if the port is unknown (any other negative errno is treated
     * the same way). */
    int (*port_key)(void *aux, const char *name, uint32_t *key);

    /** Whether logical port 'port' resides on this chassis. */
    bool (*is_chassis_resident)(void *aux, const char *port);

    void *aux;
};

struct cls;
struct cls_rule;

struct cls_stats {
    uint64_t n_rules;      /* Rules added and not removed. */
    uint64_t n_entries;    /* Installed conjunctions. */
    uint64_t n_subtables;  /* Distinct (table, mask) pairs. */
    uint64_t n_unresolved; /* Conjunctions not installed: unknown port name. */
    uint64_t n_not_local;  /* Conjunctions not installed: is_chassis_resident() false. */
    uint64_t n_lookups;    /* cls_lookup() calls. */
    uint64_t n_hits;       /* ...that found a rule. */
    uint64_t n_subtable_visits; /* Subtables examined by lookups. */
    uint64_t n_stage_misses;    /* ...of which a staged check ended early. */
};

/** Creates an empty classifier.  'resolver' is copied; may be NULL (no port known).
 * On success stores it in '*clsp' (caller owns; free with cls_destroy()).
 * Errors: -ENOMEM. */
int cls_create(const struct cls_resolver *resolver, struct cls **clsp);

/** Frees 'cls' and every rule in it (not the rules' data).  NULL is a no-op. */
void cls_destroy(struct cls *cls);

/** Adds a rule to table 'table' (< CLS_MAX_TABLES) with 'priority', matching what
 * 'match' (borrowed) matches, carrying 'rule_data' (borrowed; returned by
 * cls_rule_data()).  An empty list ("0") is valid and makes a rule that matches
 * nothing.  On success stores the rule in '*rulep' (may be NULL; owned by 'cls',
 * valid until cls_rule_remove() or cls_destroy()).
 *
 * Errors (nothing is added): -EINVAL (table out of range, a term on a field that
 * cannot be matched, such as icmp4.frag_mtu; 'err' says which), -ENOMEM. */
int cls_rule_add(struct cls *cls, unsigned int table, uint32_t priority,
                 const struct expr_match_list *match, void *rule_data,
                 struct cls_rule **rulep, struct ovnic_err *err);

/** Removes 'rule' (from cls_rule_add() on 'cls') and frees it.  NULL is a no-op. */
void cls_rule_remove(struct cls *cls, struct cls_rule *rule);

/** Returns the highest-priority rule of table 'table' that matches 'key' (ties: the
 * rule added first), or NULL if none does (or 'table' is out of range).  If 'wc' is
 * nonnull, ORs into it the key bits the lookup consulted (see the top of this file).
 * Borrowed: valid until the rule is removed. */
const struct cls_rule *cls_lookup(struct cls *cls, unsigned int table,
                                  const struct pkey *key, struct pkey_mask *wc);

/** Accessors. */
void *cls_rule_data(const struct cls_rule *rule);
uint32_t cls_rule_priority(const struct cls_rule *rule);
unsigned int cls_rule_table(const struct cls_rule *rule);
size_t cls_rule_n_entries(const struct cls_rule *rule);    /* Installed conjunctions. */
size_t cls_rule_n_unresolved(const struct cls_rule *rule); /* Unknown port names. */

/** Lookups that 'rule' answered (the highest-priority match). */
uint64_t cls_rule_hits(const struct cls_rule *rule);

/** Every rule of 'cls', by table, then priority (highest first), then order of
 * addition, into a new array '*rulesp' of '*np' borrowed rules (caller frees the
 * array).  Errors: -ENOMEM. */
int cls_rules_sorted(const struct cls *cls, const struct cls_rule ***rulesp, size_t *np);

/** Copies the counters of 'cls' into '*stats'. */
void cls_get_stats(const struct cls *cls, struct cls_stats *stats);

#endif /* OVNIC_PIPELINE_CLASSIFIER_H */
