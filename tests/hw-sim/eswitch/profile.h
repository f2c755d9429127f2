/* ovnic hw-sim: device profiles of the simulated eSwitch.
 *
 * A profile says what the simulated device can hold: table capacity, groups,
 * priorities, the item and action types it supports and some combinations it refuses,
 * the one Geneve option class/type it can match, and what inserting a rule costs.
 * Two profiles are built in, "bf2" and "bf3" (modelled on BlueField-2 and BlueField-3),
 * and a file of "key = value" lines can define others (see docs/eswitch.md):
 *
 *     # comment
 *     base = bf2                    start from a built-in profile (first line only)
 *     name = small
 *     max_rules = 16
 *     max_rules_per_group = 8
 *     max_groups = 4
 *     max_priorities = 8
 *     max_ports = 64
 *     max_items = 12
 *     max_actions = 12
 *     max_encap_size = 128
 *     max_meters = 64
 *     max_hops = 8
 *     items = eth vlan ipv4 ipv6 udp tcp icmp geneve geneve-opt represented_port ...
 *     actions = jump drop count age meter represented_port raw_encap ...
 *     root_actions = jump drop count represented_port ...   allowed in group 0
 *     geneve_opt = 0x0102/0x80      or "none"
 *     jump_forward_only = yes       JUMP only to a higher group
 *     cost_sync_us = 40             modelled insertion time per rule, synchronous
 *     cost_bulk_us = 5              ... and through the template/async path
 *     async_queues = 4
 *     async_queue_size = 1024
 */
#ifndef OVNIC_HWSIM_ESWITCH_PROFILE_H
#define OVNIC_HWSIM_ESWITCH_PROFILE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "offload/esw.h"

struct eswitch_profile {
    char name[32];
    uint32_t max_rules; /* Total table capacity. */
    uint32_t max_rules_per_group;
    uint32_t max_groups;                  /* Groups 0 .. max_groups - 1. */
    uint32_t max_priorities;              /* Priorities 0 .. max_priorities - 1. */
    uint32_t max_ports;                   /* Port ids 0 .. max_ports - 1. */
    uint32_t max_items;                   /* Per rule, END excluded. */
    uint32_t max_actions;                 /* Per rule, END excluded. */
    uint32_t max_encap_size;              /* RAW_ENCAP bytes. */
    uint32_t max_meters;                  /* Meter ids 0 .. max_meters - 1. */
    uint32_t max_hops;                    /* Tables one packet may visit (JUMP chain). */
    uint64_t items[ESW_TYPE_BITS / 64];   /* Supported item types. */
    uint64_t actions[ESW_TYPE_BITS / 64]; /* Supported action types. */
    uint64_t root_actions[ESW_TYPE_BITS / 64]; /* Of those, allowed in group 0. */
    bool geneve_opt;                           /* GENEVE_OPT matching supported ... */
    uint16_t geneve_opt_class;                 /* ... for this class ... */
    uint8_t geneve_opt_type;                   /* ... and type only. */
    bool jump_forward_only;                    /* JUMP must target a higher group. */
    uint32_t cost_sync_us; /* Modelled time to insert one rule synchronously. */
    uint32_t cost_bulk_us; /* ... in a bulk (template/async) batch. */
    uint32_t async_queues;
    uint32_t async_queue_size;
};

/** Stores built-in profile 'name' ("bf2" or "bf3") in '*profile'.  Returns 0 or
 * -ENOENT. */
int eswitch_profile_builtin(const char *name, struct eswitch_profile *profile);

/** Parses profile text 'text' (the file format above; NUL-terminated).  On success
 * stores the profile in '*profile'.  'origin' names the text in error messages.
 *
 * Errors: -EINVAL (unknown key, bad value, unknown item or action name, "base" not on
 * the first line, limits of 0), -ENOENT (unknown base); 'error->err.detail' holds
 * "origin:line: reason". */
int eswitch_profile_parse(const char *text, const char *origin,
                          struct eswitch_profile *profile, struct esw_error *error);

/** Loads 'spec': a built-in name, or else a file path.  Errors: as
 * eswitch_profile_parse(), -errno of reading the file. */
int eswitch_profile_load(const char *spec, struct eswitch_profile *profile,
                         struct esw_error *error);

/** Fills '*caps' from 'profile'. */
void eswitch_profile_to_caps(const struct eswitch_profile *profile,
                             struct esw_caps *caps);

/** Modelled time, in microseconds, to insert 'n_rules' rules synchronously (one call
 * each) or in bulk ('bulk'). */
uint64_t eswitch_profile_insert_cost_us(const struct eswitch_profile *profile, bool bulk,
                                        size_t n_rules);

#endif /* OVNIC_HWSIM_ESWITCH_PROFILE_H */
