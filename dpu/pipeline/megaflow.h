/* ovnic: megaflows, and the cache that holds them.
 *
 * A megaflow is what one walk through the pipeline (pipeline.h) means for the
 * datapath: a masked match over the key the walk started from (struct pkey with the
 * physical metadata set), and the composed list of datapath actions that does to any
 * packet matching it what the walk did:
 *
 *     in_port=0x3 datapath=0x1 inport=0x1 eth.dst=0a:00:00:01:00:12 eth.type=0x800,
 *     actions:set(eth.src=...),dec_ttl,output(local:"vm2")
 *
 * Actions are applied in order to one packet; an output sends a copy of the packet as
 * it is at that point, and its encapsulation (Geneve push with OVN's option, a VLAN
 * push) applies to that copy only.
 *
 * The cache (struct megaflow_cache) holds megaflows of one pipeline generation: an
 * exact-match cache (the full key, hashed) in front of a masked lookup that probes,
 * for each distinct mask, a hash of 'key & mask'.  When the pipeline's generation
 * moves, the whole cache is invalidated at the next lookup or insert.  Megaflows with
 * the same mask never overlap, since each came from a walk that only the bits of its
 * mask decided; megaflows with different masks may, and then any of them is right.
 *
 * Not thread-safe. */
#ifndef OVNIC_PIPELINE_MEGAFLOW_H
#define OVNIC_PIPELINE_MEGAFLOW_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpu/controller/actions.h"
#include "dpu/pipeline/ct.h"
#include "dpu/pipeline/key.h"

enum megaflow_action_type {
    MEGAFLOW_ACT_TUNNEL_POP, /* Remove the outer headers (Geneve input). */
    MEGAFLOW_ACT_VLAN_POP,   /* Remove the VLAN tag (localnet input). */
    MEGAFLOW_ACT_SET,        /* Set bits 'mask' of header field 'field' to 'value'. */
    MEGAFLOW_ACT_DEC_TTL,    /* ip.ttl-- (a set of ip.ttl to one less than it was). */
    MEGAFLOW_ACT_CT,         /* Conntrack operation 'ct' (zone, commit, NAT...). */
    MEGAFLOW_ACT_CONTROLLER, /* To the control plane: controller action 'ctrl'. */
    MEGAFLOW_ACT_OUTPUT,     /* A copy out of 'output_type' port 'port'. */
};

/* Kinds of output, as in pipeline.h's enum pipeline_output_type. */
enum megaflow_output_type {
    MEGAFLOW_OUT_LOCAL,
    MEGAFLOW_OUT_TUNNEL,
    MEGAFLOW_OUT_LOCALNET,
    MEGAFLOW_OUT_LOGICAL,
};

#define MEGAFLOW_NAME_LEN 64
#define MEGAFLOW_IP_LEN 48

struct megaflow_action {
    enum megaflow_action_type type;

    /* SET, DEC_TTL. */
    enum pkey_field_id field;
    lex_u128 value;
    lex_u128 mask;

    /* CT: a copy of the executor's operation ('lb' is not kept: NULL). */
    struct ct_op ct;

    /* CONTROLLER. */
    enum action_type ctrl;

    /* OUTPUT. */
    enum megaflow_output_type output_type;
    uint32_t port_key;
    char port[MEGAFLOW_NAME_LEN];
    /* ...TUNNEL: Geneve push with VNI 'tun_id' and OVN's option (class 0x0102, type
     * 0x80) carrying 'tun_inport' and 'tun_outport', toward 'remote_ip'. */
    uint32_t tun_id;
    uint16_t tun_inport;
    uint16_t tun_outport;
    char remote_ip[MEGAFLOW_IP_LEN];
    /* ...LOCALNET: VLAN ID pushed, or -1. */
    int vlan;
};

/** A megaflow.  'key' holds only bits of 'mask'.  'actions' is owned: free with
 * megaflow_destroy(); an empty list is a drop. */
struct megaflow {
    struct pkey key;
    struct pkey_mask mask;
    struct megaflow_action *actions;
    size_t n_actions;
    size_t alloc;
    bool cacheable;
    const char *uncacheable_reason; /* Static, or NULL. */
    uint64_t generation;            /* Pipeline generation it was computed at. */
    uint32_t tag;                   /* For the cache's user (e.g. why a drop drops);
                                     * copied with the megaflow, never compared. */
};

/** Initialises 'mf' as an empty, cacheable drop matching everything. */
void megaflow_init(struct megaflow *mf);

/** Frees what 'mf' holds and leaves it initialised.  NULL is a no-op. */
void megaflow_destroy(struct megaflow *mf);

/** Deep copy of 'src' into 'dst' (initialised or destroyed).  Returns 0 or -ENOMEM
 * ('dst' untouched). */
int megaflow_clone(struct megaflow *dst, const struct megaflow *src);

/** Appends a copy of 'action' to 'mf'.  Returns 0 or -ENOMEM. */
int megaflow_action_append(struct megaflow *mf, const struct megaflow_action *action);

/** Marks 'mf' as not cacheable, for 'reason' (static); the first reason is kept. */
void megaflow_set_uncacheable(struct megaflow *mf, const char *reason);

/** True if 'a' and 'b' have the same mask, key and actions. */
bool megaflow_equal(const struct megaflow *a, const struct megaflow *b);

/** True if the action lists of 'a' and 'b' are the same. */
bool megaflow_actions_equal(const struct megaflow *a, const struct megaflow *b);

/** True if 'key' matches 'mf'. */
bool megaflow_matches(const struct megaflow *mf, const struct pkey *key);

/** Writes the actions as "set(eth.src=...),dec_ttl,output(local:\"vm2\")" ("drop"
 * for none), or the whole megaflow as "MATCH, actions:ACTIONS" (the match as
 * pkey_format() with the mask).  Snprintf conventions: at most 'size' bytes, NUL
 * included; returns the length the whole text needs. */
size_t megaflow_actions_format(const struct megaflow *mf, char *buf, size_t size);
size_t megaflow_format(const struct megaflow *mf, char *buf, size_t size);

/* ---- The cache. ---- */

struct megaflow_cache;

struct megaflow_cache_stats {
    uint64_t n_entries;       /* Megaflows held. */
    uint64_t n_masks;         /* Distinct masks. */
    uint64_t n_emc_hits;      /* Lookups answered by the exact-match cache. */
    uint64_t n_masked_hits;   /* ...by the masked lookup. */
    uint64_t n_misses;        /* ...by neither. */
    uint64_t n_inserts;       /* Megaflows inserted. */
    uint64_t n_rejected;      /* Inserts refused: not cacheable, or full. */
    uint64_t n_invalidations; /* Flushes because the generation moved. */
};

/** Creates an empty cache holding at most 'max_entries' megaflows (0: 65536) and an
 * exact-match cache of 'emc_entries' slots (0: 8192; rounded up to a power of 2).
 * Caller owns; free with megaflow_cache_destroy().  Errors: -ENOMEM. */
int megaflow_cache_create(size_t max_entries, size_t emc_entries,
                          struct megaflow_cache **cachep);

/** Frees 'cache' and its megaflows.  NULL is a no-op. */
void megaflow_cache_destroy(struct megaflow_cache *cache);

/** Returns the megaflow that matches 'key' (borrowed: valid until the next insert,
 * flush or invalidation), or NULL.  If 'generation' differs from the cache's, the
 * cache is flushed first (and NULL returned). */
const struct megaflow *megaflow_cache_lookup(struct megaflow_cache *cache,
                                             const struct pkey *key, uint64_t generation);

/** Inserts a copy of 'mf', valid at 'mf->generation' (flushing the cache first if it
 * holds another generation).  A megaflow with the same mask and key replaces the old
 * one.  Errors: -EINVAL (not cacheable), -ENOSPC (full), -ENOMEM. */
int megaflow_cache_insert(struct megaflow_cache *cache, const struct megaflow *mf);

/** Removes every megaflow. */
void megaflow_cache_flush(struct megaflow_cache *cache);

/** A number that changes whenever a megaflow that megaflow_cache_lookup() returned may
 * have been freed (a replacement, a flush, a generation change): a pointer obtained
 * while the epoch was E stays valid while it is still E. */
uint64_t megaflow_cache_epoch(const struct megaflow_cache *cache);

void megaflow_cache_get_stats(const struct megaflow_cache *cache,
                              struct megaflow_cache_stats *stats);

/* Traffic of one cached megaflow. */
struct megaflow_usage {
    uint64_t n_packets;
    uint64_t n_bytes;
    uint64_t used_ms; /* When it last matched (the caller's clock), 0: never. */
};

/** Credits 'mf', a megaflow that megaflow_cache_lookup() returned from 'cache' and that
 * is still valid, with one packet of 'bytes' bytes matched at 'now_ms'. */
void megaflow_cache_account(struct megaflow_cache *cache, const struct megaflow *mf,
                            uint64_t bytes, uint64_t now_ms);

/** Calls 'cb' for each megaflow of 'cache' (borrowed for the call) and its usage, at
 * most 'limit' of them (0: all), in no particular order.  The cache must not change
 * during the walk.  Returns the number visited. */
size_t megaflow_cache_walk(const struct megaflow_cache *cache,
                           void (*cb)(void *aux, const struct megaflow *mf,
                                      const struct megaflow_usage *usage),
                           void *aux, size_t limit);

#endif /* OVNIC_PIPELINE_MEGAFLOW_H */
