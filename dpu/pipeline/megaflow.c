/* ovnic: megaflows and the megaflow cache (see megaflow.h). */
#include "dpu/pipeline/megaflow.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/util/hash.h"
#include "shared/util/hmap.h"
#include "shared/util/util.h"

void
megaflow_init(struct megaflow *mf)
{
    memset(mf, 0, sizeof *mf);
    mf->cacheable = true;
}

void
megaflow_destroy(struct megaflow *mf)
{
    if (mf) {
        free(mf->actions);
        megaflow_init(mf);
    }
}

int
megaflow_clone(struct megaflow *dst, const struct megaflow *src)
{
    struct megaflow_action *actions = NULL;
    if (src->n_actions) {
        actions = malloc(src->n_actions * sizeof *actions);
        if (!actions) {
            return -ENOMEM;
        }
        memcpy(actions, src->actions, src->n_actions * sizeof *actions);
    }
    *dst = *src;
    dst->actions = actions;
    dst->alloc = src->n_actions;
    return 0;
}

int
megaflow_action_append(struct megaflow *mf, const struct megaflow_action *action)
{
    if (mf->n_actions == mf->alloc) {
        size_t alloc = mf->alloc ? 2 * mf->alloc : 8;
        struct megaflow_action *a = realloc(mf->actions, alloc * sizeof *a);
        if (!a) {
            return -ENOMEM;
        }
        mf->actions = a;
        mf->alloc = alloc;
    }
    mf->actions[mf->n_actions++] = *action;
    return 0;
}

void
megaflow_set_uncacheable(struct megaflow *mf, const char *reason)
{
    if (mf->cacheable) {
        mf->cacheable = false;
        mf->uncacheable_reason = reason;
    }
}

static bool
action_equal(const struct megaflow_action *a, const struct megaflow_action *b)
{
    if (a->type != b->type) {
        return false;
    }
    switch (a->type) {
    case MEGAFLOW_ACT_TUNNEL_POP:
    case MEGAFLOW_ACT_VLAN_POP:
        return true;
    case MEGAFLOW_ACT_SET:
    case MEGAFLOW_ACT_DEC_TTL:
        return a->field == b->field && a->value == b->value && a->mask == b->mask;
    case MEGAFLOW_ACT_CT:
        return a->ct.type == b->ct.type && a->ct.zone == b->ct.zone &&
               a->ct.commit == b->ct.commit && a->ct.has_nat_ip == b->ct.has_nat_ip &&
               a->ct.nat_ip == b->ct.nat_ip && a->ct.mark_value == b->ct.mark_value &&
               a->ct.mark_mask == b->ct.mark_mask;
    case MEGAFLOW_ACT_CONTROLLER:
        return a->ctrl == b->ctrl;
    case MEGAFLOW_ACT_OUTPUT:
        return a->output_type == b->output_type && a->port_key == b->port_key &&
               !strcmp(a->port, b->port) && a->tun_id == b->tun_id &&
               a->tun_inport == b->tun_inport && a->tun_outport == b->tun_outport &&
               !strcmp(a->remote_ip, b->remote_ip) && a->vlan == b->vlan;
    }
    return false;
}

bool
megaflow_actions_equal(const struct megaflow *a, const struct megaflow *b)
{
    if (a->n_actions != b->n_actions) {
        return false;
    }
    for (size_t i = 0; i < a->n_actions; i++) {
        if (!action_equal(&a->actions[i], &b->actions[i])) {
            return false;
        }
    }
    return true;
}

bool
megaflow_equal(const struct megaflow *a, const struct megaflow *b)
{
    return !memcmp(&a->mask, &b->mask, sizeof a->mask) &&
           pkey_equal_masked(&a->key, &b->key, &a->mask) && megaflow_actions_equal(a, b);
}

bool
megaflow_matches(const struct megaflow *mf, const struct pkey *key)
{
    return pkey_equal_masked(&mf->key, key, &mf->mask);
}

/* snprintf-style appending. */
struct mf_buf {
    char *buf;
    size_t size;
    size_t len;
};

static void OVNIC_PRINTF(2, 3) mf_put(struct mf_buf *b, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    size_t room = b->len < b->size ? b->size - b->len : 0;
    int n = vsnprintf(room ? b->buf + b->len : NULL, room, fmt, args);
    va_end(args);
    if (n > 0) {
        b->len += (size_t)n;
    }
}

static const char *const output_type_names[] = {"local", "tunnel", "localnet", "logical"};

static void
format_action(struct mf_buf *b, const struct megaflow_action *a)
{
    const struct pkey_field_info *info;
    char v[80];
    switch (a->type) {
    case MEGAFLOW_ACT_TUNNEL_POP:
        mf_put(b, "tnl_pop(geneve)");
        break;
    case MEGAFLOW_ACT_VLAN_POP:
        mf_put(b, "pop_vlan");
        break;
    case MEGAFLOW_ACT_SET:
        info = pkey_field_info(a->field);
        lex_masked_value_format(a->value, a->mask, info->format, v, sizeof v);
        if (a->mask == lex_u128_bits(0, info->n_bits)) {
            lex_value_format(a->value, info->format, v, sizeof v);
        }
        mf_put(b, "set(%s=%s)", info->name, v);
        break;
    case MEGAFLOW_ACT_DEC_TTL:
        mf_put(b, "dec_ttl");
        break;
    case MEGAFLOW_ACT_CT:
        if (a->ct.type == CT_OP_CLEAR) {
            mf_put(b, "ct_clear");
            break;
        }
        mf_put(b, "ct(%s,zone=%u", ct_op_type_name(a->ct.type), a->ct.zone);
        if (a->ct.commit) {
            mf_put(b, ",commit");
        }
        if (a->ct.has_nat_ip) {
            lex_value_format(a->ct.nat_ip, a->ct.nat_ipv6 ? LEX_F_IPV6 : LEX_F_IPV4, v,
                             sizeof v);
            mf_put(b, ",nat=%s", v);
            if (a->ct.nat_port_lo) {
                mf_put(b, ":%u-%u", a->ct.nat_port_lo, a->ct.nat_port_hi);
            }
        }
        if (a->ct.mark_mask) {
            mf_put(b, ",mark=0x%x/0x%x", a->ct.mark_value, a->ct.mark_mask);
        }
        mf_put(b, "%s)", a->ct.recirc ? ",recirc" : "");
        break;
    case MEGAFLOW_ACT_CONTROLLER:
        mf_put(b, "controller(%s)", action_type_name(a->ctrl));
        break;
    case MEGAFLOW_ACT_OUTPUT:
        if (a->output_type == MEGAFLOW_OUT_TUNNEL) {
            mf_put(b,
                   "tnl_push(geneve,vni=0x%x,dst=%s,opt=0x0102/0x80:ingress=0x%x,"
                   "egress=0x%x),",
                   a->tun_id, a->remote_ip, a->tun_inport, a->tun_outport);
        } else if (a->output_type == MEGAFLOW_OUT_LOCALNET && a->vlan >= 0) {
            mf_put(b, "push_vlan(vid=%d),", a->vlan);
        }
        mf_put(b, "output(%s:\"%s\")",
               a->output_type < ARRAY_SIZE(output_type_names)
                   ? output_type_names[a->output_type]
                   : "?",
               a->port);
        break;
    }
}

size_t
megaflow_actions_format(const struct megaflow *mf, char *buf, size_t size)
{
    struct mf_buf b = {buf, size, 0};
    if (size) {
        buf[0] = '\0';
    }
    if (!mf->n_actions) {
        mf_put(&b, "drop");
    }
    for (size_t i = 0; i < mf->n_actions; i++) {
        if (i) {
            mf_put(&b, ",");
        }
        format_action(&b, &mf->actions[i]);
    }
    return b.len;
}

size_t
megaflow_format(const struct megaflow *mf, char *buf, size_t size)
{
    size_t n = pkey_format(&mf->key, &mf->mask, buf, size);
    struct mf_buf b = {buf, size, n};
    mf_put(&b, ", actions:");
    size_t room = b.len < size ? size - b.len : 0;
    b.len += megaflow_actions_format(mf, room ? buf + b.len : NULL, room);
    return b.len;
}

/* ---- The cache. ---- */

struct mf_entry {
    struct hmap_node node; /* In its mask's 'entries', by hash of the masked key. */
    struct mf_mask *mask;
    struct megaflow mf;
    struct megaflow_usage usage;
};

struct mf_mask {
    struct hmap_node node; /* In cache->masks, by hash of the mask. */
    struct pkey_mask mask;
    struct hmap entries;
};

struct emc_slot {
    struct pkey key;
    const struct mf_entry *entry; /* NULL: empty. */
};

struct megaflow_cache {
    struct hmap masks;
    size_t n_entries;
    size_t max_entries;
    struct emc_slot *emc;
    size_t emc_mask;
    uint64_t generation;
    uint64_t epoch; /* See megaflow_cache_epoch(). */
    struct megaflow_cache_stats stats;
};

static uint32_t
key_hash(const struct pkey *key)
{
    return hash_bytes(key->w, sizeof key->w, 0);
}

static uint32_t
masked_hash(const struct pkey *key, const struct pkey_mask *mask)
{
    uint32_t h = 0;
    for (size_t i = 0; i < PKEY_N_WORDS; i++) {
        if (mask->w[i]) {
            h = hash_add64(h, key->w[i] & mask->w[i]);
        }
    }
    return hash_finish(h);
}

int
megaflow_cache_create(size_t max_entries, size_t emc_entries,
                      struct megaflow_cache **cachep)
{
    struct megaflow_cache *c = calloc(1, sizeof *c);
    if (!c) {
        return -ENOMEM;
    }
    size_t n = 1;
    emc_entries = emc_entries ? emc_entries : 8192;
    while (n < emc_entries && n < ((size_t)1 << 24)) {
        n <<= 1;
    }
    c->emc = calloc(n, sizeof *c->emc);
    if (!c->emc) {
        free(c);
        return -ENOMEM;
    }
    c->emc_mask = n - 1;
    c->max_entries = max_entries ? max_entries : 65536;
    hmap_init(&c->masks);
    *cachep = c;
    return 0;
}

void
megaflow_cache_flush(struct megaflow_cache *c)
{
    struct mf_mask *m, *next_m;
    HMAP_FOR_EACH_SAFE (m, next_m, node, &c->masks) {
        struct mf_entry *e, *next_e;
        HMAP_FOR_EACH_SAFE (e, next_e, node, &m->entries) {
            hmap_remove(&m->entries, &e->node);
            megaflow_destroy(&e->mf);
            free(e);
        }
        hmap_destroy(&m->entries);
        hmap_remove(&c->masks, &m->node);
        free(m);
    }
    memset(c->emc, 0, (c->emc_mask + 1) * sizeof *c->emc);
    c->n_entries = 0;
    c->epoch++;
}

uint64_t
megaflow_cache_epoch(const struct megaflow_cache *c)
{
    return c->epoch;
}

void
megaflow_cache_destroy(struct megaflow_cache *c)
{
    if (c) {
        megaflow_cache_flush(c);
        hmap_destroy(&c->masks);
        free(c->emc);
        free(c);
    }
}

static void
check_generation(struct megaflow_cache *c, uint64_t generation)
{
    if (generation != c->generation) {
        if (c->n_entries) {
            c->stats.n_invalidations++;
        }
        megaflow_cache_flush(c);
        c->generation = generation;
    }
}

const struct megaflow *
megaflow_cache_lookup(struct megaflow_cache *c, const struct pkey *key,
                      uint64_t generation)
{
    check_generation(c, generation);
    uint32_t h = key_hash(key);
    struct emc_slot *slot = &c->emc[h & c->emc_mask];
    if (slot->entry && !memcmp(&slot->key, key, sizeof *key)) {
        c->stats.n_emc_hits++;
        return &slot->entry->mf;
    }
    struct mf_mask *m;
    HMAP_FOR_EACH (m, node, &c->masks) {
        struct mf_entry *e;
        HMAP_FOR_EACH_WITH_HASH (e, node, masked_hash(key, &m->mask), &m->entries) {
            if (pkey_equal_masked(&e->mf.key, key, &m->mask)) {
                c->stats.n_masked_hits++;
                slot->key = *key;
                slot->entry = e;
                return &e->mf;
            }
        }
    }
    c->stats.n_misses++;
    return NULL;
}

/* Empties the exact-match slots that point at 'e'. */
static void
emc_forget(struct megaflow_cache *c, const struct mf_entry *e)
{
    for (size_t i = 0; i <= c->emc_mask; i++) {
        if (c->emc[i].entry == e) {
            c->emc[i].entry = NULL;
        }
    }
}

int
megaflow_cache_insert(struct megaflow_cache *c, const struct megaflow *mf)
{
    check_generation(c, mf->generation);
    if (!mf->cacheable) {
        c->stats.n_rejected++;
        return -EINVAL;
    }
    uint32_t mh = hash_bytes(mf->mask.w, sizeof mf->mask.w, 0);
    struct mf_mask *m = NULL, *iter;
    HMAP_FOR_EACH_WITH_HASH (iter, node, mh, &c->masks) {
        if (!memcmp(&iter->mask, &mf->mask, sizeof mf->mask)) {
            m = iter;
            break;
        }
    }
    uint32_t kh = masked_hash(&mf->key, &mf->mask);
    struct mf_entry *old = NULL, *e;
    if (m) {
        HMAP_FOR_EACH_WITH_HASH (e, node, kh, &m->entries) {
            if (pkey_equal_masked(&e->mf.key, &mf->key, &m->mask)) {
                old = e;
                break;
            }
        }
    }
    if (!old && c->n_entries >= c->max_entries) {
        c->stats.n_rejected++;
        return -ENOSPC;
    }
    e = calloc(1, sizeof *e);
    if (!e || megaflow_clone(&e->mf, mf)) {
        free(e);
        return -ENOMEM;
    }
    pkey_apply_mask(&e->mf.key, &mf->mask);
    if (!m) {
        m = calloc(1, sizeof *m);
        if (!m) {
            megaflow_destroy(&e->mf);
            free(e);
            return -ENOMEM;
        }
        m->mask = mf->mask;
        hmap_init(&m->entries);
        hmap_insert(&c->masks, &m->node, mh);
    }
    e->mask = m;
    if (old) {
        c->epoch++;
        emc_forget(c, old);
        hmap_replace(&m->entries, &old->node, &e->node);
        megaflow_destroy(&old->mf);
        free(old);
    } else {
        hmap_insert(&m->entries, &e->node, kh);
        c->n_entries++;
    }
    c->stats.n_inserts++;
    return 0;
}

void
megaflow_cache_get_stats(const struct megaflow_cache *c,
                         struct megaflow_cache_stats *stats)
{
    *stats = c->stats;
    stats->n_entries = c->n_entries;
    stats->n_masks = hmap_count(&c->masks);
}

void
megaflow_cache_account(struct megaflow_cache *c OVNIC_UNUSED, const struct megaflow *mf,
                       uint64_t bytes, uint64_t now_ms)
{
    struct mf_entry *e = CONTAINER_OF(mf, struct mf_entry, mf);
    e->usage.n_packets++;
    e->usage.n_bytes += bytes;
    e->usage.used_ms = now_ms;
}

size_t
megaflow_cache_walk(const struct megaflow_cache *c,
                    void (*cb)(void *aux, const struct megaflow *mf,
                               const struct megaflow_usage *usage),
                    void *aux, size_t limit)
{
    size_t n = 0;
    const struct mf_mask *m;
    HMAP_FOR_EACH (m, node, &c->masks) {
        const struct mf_entry *e;
        HMAP_FOR_EACH (e, node, &m->entries) {
            if (limit && n >= limit) {
                return n;
            }
            cb(aux, &e->mf, &e->usage);
            n++;
        }
    }
    return n;
}
