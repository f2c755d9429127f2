/* ovnic hw-sim: the simulated eSwitch, an interpreter of rte_flow rules (see
 * eswitch.h). */
#include "tests/hw-sim/eswitch/eswitch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "offload/esw_wire.h"
#include "shared/util/hash.h"
#include "shared/util/hmap.h"
#include "shared/util/list.h"
#include "shared/util/log.h"

OVNIC_LOG_MODULE(eswitch);

#define GENEVE_PORT 6081
#define ETH_P_TEB 0x6558
#define MAX_LAYERS 16

struct rule {
    struct hmap_node id_node;     /* In 'eswitch->rules'. */
    struct ovnic_list group_node; /* In its group's list, by priority. */
    uint64_t id;
    struct esw_wire_rule *copy; /* Deep copy of attr, items, actions. */
    bool has_count;
    uint64_t packets;
    uint64_t bytes;
    bool has_age;
    uint32_t age_timeout_s;
    uint64_t last_hit_ms;
    bool age_reported;
};

struct meter {
    bool configured;
    uint64_t rate;         /* Bytes per second. */
    uint64_t burst;        /* Bytes. */
    uint64_t tokens_milli; /* Bytes x 1000. */
    uint64_t last_ms;
};

struct ct_entry {
    struct hmap_node node;
    struct eswitch_ct_key orig; /* Original direction. */
    int state;                  /* enum rte_flow_conntrack_state. */
    bool fin_from_orig;         /* Direction of the first FIN. */
};

struct eswitch {
    struct eswitch_profile profile;
    struct hmap rules;         /* By id. */
    struct ovnic_list *groups; /* [max_groups] lists of rules by priority. */
    uint32_t *group_counts;    /* [max_groups]. */
    struct rule **tails; /* [max_groups][max_priorities]: each priority's last rule. */
    size_t n_rules;
    uint64_t next_id;
    struct meter *meters;    /* [max_meters]. */
    struct hmap connections; /* 'struct ct_entry's. */
    struct eswitch_stats stats;
    uint8_t pkt[ESWITCH_PKT_MAX]; /* Scratch packet for eswitch_process(). */
};

/* ---------------------------------------------------------------------------------- */
/* Creation. */

int
eswitch_create(const struct eswitch_profile *profile, struct eswitch **eswp)
{
    if (!profile->max_rules || !profile->max_groups || !profile->max_priorities ||
        !profile->max_rules_per_group || !profile->max_ports || !profile->max_hops) {
        return -EINVAL;
    }
    struct eswitch *esw = calloc(1, sizeof *esw);
    if (!esw) {
        return -ENOMEM;
    }
    esw->profile = *profile;
    hmap_init(&esw->rules);
    hmap_init(&esw->connections);
    esw->next_id = 1;
    esw->groups = calloc(profile->max_groups, sizeof *esw->groups);
    esw->group_counts = calloc(profile->max_groups, sizeof *esw->group_counts);
    esw->tails = calloc((size_t)profile->max_groups * MAX(profile->max_priorities, 1),
                        sizeof *esw->tails);
    esw->meters =
        calloc(profile->max_meters ? profile->max_meters : 1, sizeof *esw->meters);
    if (!esw->groups || !esw->group_counts || !esw->tails || !esw->meters) {
        eswitch_destroy(esw);
        return -ENOMEM;
    }
    for (uint32_t g = 0; g < profile->max_groups; g++) {
        ovnic_list_init(&esw->groups[g]);
    }
    *eswp = esw;
    return 0;
}

/* The last rule of priority 'priority' in group 'group', where rules are inserted. */
static struct rule **
tail_of(struct eswitch *esw, uint32_t group, uint32_t priority)
{
    return &esw->tails[(size_t)group * MAX(esw->profile.max_priorities, 1) + priority];
}

static void
rule_free(struct eswitch *esw, struct rule *rule)
{
    uint32_t group = rule->copy->attr.group, priority = rule->copy->attr.priority;
    struct rule **tail = tail_of(esw, group, priority);
    if (*tail == rule) {
        struct ovnic_list *prev = rule->group_node.prev;
        struct rule *before = prev != &esw->groups[group]
                                  ? CONTAINER_OF(prev, struct rule, group_node)
                                  : NULL;
        *tail = before && before->copy->attr.priority == priority ? before : NULL;
    }
    hmap_remove(&esw->rules, &rule->id_node);
    ovnic_list_remove(&rule->group_node);
    esw->group_counts[rule->copy->attr.group]--;
    esw->n_rules--;
    esw_wire_rule_destroy(rule->copy);
    free(rule);
}

static void
connections_clear(struct eswitch *esw)
{
    struct ct_entry *ct, *next;
    HMAP_FOR_EACH_SAFE (ct, next, node, &esw->connections) {
        hmap_remove(&esw->connections, &ct->node);
        free(ct);
    }
}

void
eswitch_flush(struct eswitch *esw)
{
    struct rule *rule, *next;
    HMAP_FOR_EACH_SAFE (rule, next, id_node, &esw->rules) {
        rule_free(esw, rule);
        esw->stats.rules_removed++;
    }
    connections_clear(esw);
}

void
eswitch_destroy(struct eswitch *esw)
{
    if (!esw) {
        return;
    }
    if (esw->groups && esw->group_counts && esw->tails) {
        eswitch_flush(esw);
    }
    connections_clear(esw);
    hmap_destroy(&esw->rules);
    hmap_destroy(&esw->connections);
    free(esw->groups);
    free(esw->group_counts);
    free(esw->tails);
    free(esw->meters);
    free(esw);
}

const struct eswitch_profile *
eswitch_profile(const struct eswitch *esw)
{
    return &esw->profile;
}

/* ---------------------------------------------------------------------------------- */
/* Validation. */

static bool
bit_is_set(const uint64_t bits[ESW_TYPE_BITS / 64], int type)
{
    return type >= 0 && type < ESW_TYPE_BITS && (bits[type / 64] >> (type % 64)) & 1;
}

/* Offsets of the headers of a RAW_ENCAP template, or false if it is not
 * Ethernet / IPv4 / UDP 6081 / Geneve carrying Ethernet. */
struct encap_layout {
    size_t ip;
    size_t udp;
    size_t end; /* == size. */
};

static bool
encap_parse(const uint8_t *data, size_t size, struct encap_layout *lay)
{
    if (!data || size < 14) {
        return false;
    }
    size_t off = 12;
    uint16_t type = (uint16_t)(data[off] << 8 | data[off + 1]);
    off += 2;
    if (type == 0x8100) {
        if (size < off + 4) {
            return false;
        }
        type = (uint16_t)(data[off + 2] << 8 | data[off + 3]);
        off += 4;
    }
    if (type != 0x0800 || size < off + 20 || (data[off] >> 4) != 4) {
        return false;
    }
    size_t ihl = (data[off] & 0xf) * 4u;
    if (ihl < 20 || size < off + ihl + 8 || data[off + 9] != IPPROTO_UDP) {
        return false;
    }
    lay->ip = off;
    lay->udp = off + ihl;
    const uint8_t *udp = data + lay->udp;
    if ((udp[2] << 8 | udp[3]) != GENEVE_PORT) {
        return false;
    }
    const uint8_t *gnv = udp + 8;
    if (size < lay->udp + 16 || gnv[0] >> 6 != 0 || (gnv[2] << 8 | gnv[3]) != ETH_P_TEB) {
        return false;
    }
    size_t optlen = (gnv[0] & 0x3f) * 4u;
    if (size != lay->udp + 16 + optlen) {
        return false;
    }
    lay->end = size;
    return true;
}

/* Width in bytes of a MODIFY_FIELD field the interpreter supports, or 0. */
static size_t
field_width(enum rte_flow_field_id field)
{
    switch (field) {
    case RTE_FLOW_FIELD_MAC_DST:
    case RTE_FLOW_FIELD_MAC_SRC:
        return 6;
    case RTE_FLOW_FIELD_IPV4_TTL:
    case RTE_FLOW_FIELD_IPV6_HOPLIMIT:
        return 1;
    case RTE_FLOW_FIELD_IPV4_SRC:
    case RTE_FLOW_FIELD_IPV4_DST:
        return 4;
    case RTE_FLOW_FIELD_IPV6_SRC:
    case RTE_FLOW_FIELD_IPV6_DST:
        return 16;
    case RTE_FLOW_FIELD_TCP_PORT_SRC:
    case RTE_FLOW_FIELD_TCP_PORT_DST:
    case RTE_FLOW_FIELD_UDP_PORT_SRC:
    case RTE_FLOW_FIELD_UDP_PORT_DST:
        return 2;
    default:
        return 0;
    }
}

#define VERR(CODE, TYPE, INDEX, MSG, ...) \
    esw_error_set(error, CODE, TYPE, INDEX, MSG, __VA_ARGS__)

static int
validate_items(const struct eswitch *esw, const struct rte_flow_item items[],
               bool *has_geneve, struct esw_error *error)
{
    const struct eswitch_profile *p = &esw->profile;
    size_t n = 0;
    *has_geneve = false;
    for (; items[n].type != RTE_FLOW_ITEM_TYPE_END; n++) {
        const struct rte_flow_item *item = &items[n];
        int i = (int)n;
        if (n >= p->max_items) {
            return VERR(-ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM_NUM, i, "too many items",
                        "over %" PRIu32, p->max_items);
        }
        if (!bit_is_set(p->items, item->type) ||
            !esw_wire_item_is_supported(item->type)) {
            const char *name = esw_item_name(item->type);
            return VERR(-ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM, i,
                        "item not supported by the device", "%s on %s",
                        name ? name : "unknown", p->name);
        }
        if (item->last) {
            return VERR(-ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM_LAST, i,
                        "item ranges (last) not supported", NULL);
        }
        switch (item->type) {
        case RTE_FLOW_ITEM_TYPE_GENEVE:
            *has_geneve = true;
            break;
        case RTE_FLOW_ITEM_TYPE_GENEVE_OPT: {
            const struct rte_flow_item_geneve_opt *s = item->spec;
            const struct rte_flow_item_geneve_opt *m = item->mask;
            if (!*has_geneve) {
                return VERR(-EINVAL, RTE_FLOW_ERROR_TYPE_ITEM, i,
                            "GENEVE_OPT must follow a GENEVE item", NULL);
            }
            if (!s) {
                return VERR(-EINVAL, RTE_FLOW_ERROR_TYPE_ITEM_SPEC, i,
                            "GENEVE_OPT needs a spec", NULL);
            }
            if (!p->geneve_opt ||
                rte_be_to_cpu_16(s->option_class) != p->geneve_opt_class ||
                s->option_type != p->geneve_opt_type ||
                (m && (m->option_class != 0xffff || m->option_type != 0xff))) {
                return VERR(-ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM_SPEC, i,
                            "Geneve option class/type not supported by the device",
                            "0x%04x/0x%02x", rte_be_to_cpu_16(s->option_class),
                            s->option_type);
            }
            if (s->option_len > 31 || (s->option_len && !s->data)) {
                return VERR(-EINVAL, RTE_FLOW_ERROR_TYPE_ITEM_SPEC, i,
                            "GENEVE_OPT length or data invalid", NULL);
            }
            break;
        }
        case RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT:
        case RTE_FLOW_ITEM_TYPE_PORT_REPRESENTOR: {
            const struct rte_flow_item_ethdev *s = item->spec;
            if (s && s->port_id >= p->max_ports) {
                return VERR(-ERANGE, RTE_FLOW_ERROR_TYPE_ITEM_SPEC, i,
                            "port id beyond the device's", "%u", s->port_id);
            }
            break;
        }
        default:
            break;
        }
    }
    return 0;
}

static int
validate_actions(const struct eswitch *esw, const struct rte_flow_attr *attr,
                 const struct rte_flow_action actions[], bool has_geneve,
                 struct esw_error *error)
{
    const struct eswitch_profile *p = &esw->profile;
    int n_jump = 0, n_drop = 0, n_port = 0;
    size_t n = 0;
    for (; actions[n].type != RTE_FLOW_ACTION_TYPE_END; n++) {
        const struct rte_flow_action *a = &actions[n];
        const void *conf = a->conf;
        int i = (int)n;
        if (n >= p->max_actions) {
            return VERR(-ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION_NUM, i, "too many actions",
                        "over %" PRIu32, p->max_actions);
        }
        const char *name = esw_action_name(a->type);
        if (!bit_is_set(p->actions, a->type) || !esw_wire_action_is_supported(a->type)) {
            return VERR(-ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION, i,
                        "action not supported by the device", "%s on %s",
                        name ? name : "unknown", p->name);
        }
        if (attr->group == 0 && !bit_is_set(p->root_actions, a->type)) {
            return VERR(-ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION, i,
                        "action not supported in the root group (0)", "%s on %s",
                        name ? name : "unknown", p->name);
        }
        bool conf_optional = a->type == RTE_FLOW_ACTION_TYPE_VOID ||
                             a->type == RTE_FLOW_ACTION_TYPE_DROP ||
                             a->type == RTE_FLOW_ACTION_TYPE_DEC_TTL ||
                             a->type == RTE_FLOW_ACTION_TYPE_COUNT ||
                             a->type == RTE_FLOW_ACTION_TYPE_RAW_DECAP;
        if (!conf && !conf_optional) {
            return VERR(-EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF, i,
                        "action without its conf", "%s", name ? name : "unknown");
        }
        switch (a->type) {
        case RTE_FLOW_ACTION_TYPE_DROP:
            n_drop++;
            break;
        case RTE_FLOW_ACTION_TYPE_JUMP: {
            const struct rte_flow_action_jump *jump = conf;
            n_jump++;
            if (jump->group >= p->max_groups) {
                return VERR(-ERANGE, RTE_FLOW_ERROR_TYPE_ACTION_CONF, i,
                            "JUMP to a group beyond the device's",
                            "%" PRIu32 " >= %" PRIu32, jump->group, p->max_groups);
            }
            if (jump->group == attr->group ||
                (p->jump_forward_only && jump->group < attr->group)) {
                return VERR(-ERANGE, RTE_FLOW_ERROR_TYPE_ACTION_CONF, i,
                            p->jump_forward_only ? "JUMP must go to a higher group"
                                                 : "JUMP to its own group",
                            "%" PRIu32 " -> %" PRIu32, attr->group, jump->group);
            }
            break;
        }
        case RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT:
        case RTE_FLOW_ACTION_TYPE_PORT_REPRESENTOR: {
            const struct rte_flow_action_ethdev *dev = conf;
            n_port++;
            if (dev->port_id >= p->max_ports) {
                return VERR(-ERANGE, RTE_FLOW_ERROR_TYPE_ACTION_CONF, i,
                            "port id beyond the device's", "%u", dev->port_id);
            }
            break;
        }
        case RTE_FLOW_ACTION_TYPE_RAW_ENCAP: {
            const struct rte_flow_action_raw_encap *enc = conf;
            struct encap_layout lay;
            if (enc->size > p->max_encap_size) {
                return VERR(-ERANGE, RTE_FLOW_ERROR_TYPE_ACTION_CONF, i,
                            "RAW_ENCAP data larger than the device takes",
                            "%zu > %" PRIu32, enc->size, p->max_encap_size);
            }
            if (!encap_parse(enc->data, enc->size, &lay)) {
                return VERR(-EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF, i,
                            "RAW_ENCAP is not Ethernet/IPv4/UDP 6081/Geneve", NULL);
            }
            break;
        }
        case RTE_FLOW_ACTION_TYPE_RAW_DECAP:
            if (!has_geneve) {
                return VERR(-ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION, i,
                            "RAW_DECAP needs a GENEVE item in the pattern", NULL);
            }
            break;
        case RTE_FLOW_ACTION_TYPE_METER: {
            const struct rte_flow_action_meter *m = conf;
            if (m->mtr_id >= p->max_meters) {
                return VERR(-ERANGE, RTE_FLOW_ERROR_TYPE_ACTION_CONF, i,
                            "meter id beyond the device's", "%" PRIu32, m->mtr_id);
            }
            if (!esw->meters[m->mtr_id].configured) {
                return VERR(-ENOENT, RTE_FLOW_ERROR_TYPE_ACTION_CONF, i,
                            "meter not configured", "%" PRIu32, m->mtr_id);
            }
            break;
        }
        case RTE_FLOW_ACTION_TYPE_AGE: {
            const struct rte_flow_action_age *age = conf;
            if (!age->timeout) {
                return VERR(-EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF, i,
                            "AGE timeout of 0", NULL);
            }
            break;
        }
        case RTE_FLOW_ACTION_TYPE_MODIFY_FIELD: {
            const struct rte_flow_action_modify_field *mf = conf;
            size_t w = field_width(mf->dst.field);
            bool src_ok = mf->src.field == RTE_FLOW_FIELD_VALUE ||
                          (field_width(mf->src.field) == w && !mf->src.offset &&
                           mf->src.level <= 1);
            if (mf->operation != RTE_FLOW_MODIFY_SET || !w || mf->dst.offset ||
                mf->dst.level > 1 || mf->width != w * 8 || !src_ok) {
                return VERR(-ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION_CONF, i,
                            "MODIFY_FIELD supports SET of a whole MAC, IP address, "
                            "TTL/hop limit or L4 port",
                            NULL);
            }
            break;
        }
        default:
            break;
        }
    }
    if (!n_jump && !n_drop && !n_port) {
        return VERR(-EINVAL, RTE_FLOW_ERROR_TYPE_ACTION, -1, "rule without a fate action",
                    "needs DROP, JUMP, REPRESENTED_PORT or PORT_REPRESENTOR");
    }
    if ((n_drop && (n_jump || n_port)) || n_jump > 1 || n_port > ESWITCH_MAX_OUTPUTS) {
        return VERR(-EINVAL, RTE_FLOW_ERROR_TYPE_ACTION, -1, "conflicting fate actions",
                    "%d drop, %d jump, %d port", n_drop, n_jump, n_port);
    }
    return 0;
}

int
eswitch_rule_validate(const struct eswitch *esw, const struct rte_flow_attr *attr,
                      const struct rte_flow_item items[],
                      const struct rte_flow_action actions[], struct esw_error *error)
{
    const struct eswitch_profile *p = &esw->profile;
    if (!attr || !items || !actions) {
        return VERR(-EINVAL, RTE_FLOW_ERROR_TYPE_ATTR, -1,
                    "rule without attributes, items or actions", NULL);
    }
    if (!attr->transfer || attr->ingress || attr->egress) {
        return VERR(-EINVAL, RTE_FLOW_ERROR_TYPE_ATTR_TRANSFER, -1,
                    "eSwitch rules need transfer=1 and no ingress/egress", NULL);
    }
    if (attr->group >= p->max_groups) {
        return VERR(-ERANGE, RTE_FLOW_ERROR_TYPE_ATTR_GROUP, -1,
                    "group beyond the device's", "%" PRIu32 " >= %" PRIu32, attr->group,
                    p->max_groups);
    }
    if (attr->priority >= p->max_priorities) {
        return VERR(-ERANGE, RTE_FLOW_ERROR_TYPE_ATTR_PRIORITY, -1,
                    "priority beyond the device's", "%" PRIu32 " >= %" PRIu32,
                    attr->priority, p->max_priorities);
    }
    bool has_geneve;
    int retval = validate_items(esw, items, &has_geneve, error);
    if (retval) {
        return retval;
    }
    return validate_actions(esw, attr, actions, has_geneve, error);
}

/* ---------------------------------------------------------------------------------- */
/* Rules. */

static uint32_t
hash_id(uint64_t id)
{
    return hash_finish(hash_add64(0, id));
}

static struct rule *
rule_find(const struct eswitch *esw, uint64_t id)
{
    struct rule *rule;
    HMAP_FOR_EACH_WITH_HASH (rule, id_node, hash_id(id), &esw->rules) {
        if (rule->id == id) {
            return rule;
        }
    }
    return NULL;
}

int
eswitch_rule_add(struct eswitch *esw, const struct rte_flow_attr *attr,
                 const struct rte_flow_item items[],
                 const struct rte_flow_action actions[], uint64_t now_ms, uint64_t *idp,
                 struct esw_error *error)
{
    const struct eswitch_profile *p = &esw->profile;
    int retval = eswitch_rule_validate(esw, attr, items, actions, error);
    if (retval) {
        goto err;
    }
    if (esw->n_rules >= p->max_rules) {
        retval = VERR(-ENOSPC, RTE_FLOW_ERROR_TYPE_HANDLE, -1, "eSwitch table full",
                      "%" PRIu32 " rules", p->max_rules);
        goto err;
    }
    if (esw->group_counts[attr->group] >= p->max_rules_per_group) {
        retval = VERR(-ENOSPC, RTE_FLOW_ERROR_TYPE_HANDLE, -1, "eSwitch group full",
                      "group %" PRIu32 ": %" PRIu32 " rules", attr->group,
                      p->max_rules_per_group);
        goto err;
    }

    /* Copy the rule: through the wire format, which deep-copies every conf. */
    uint8_t *enc;
    size_t len;
    retval = esw_wire_rule_encode(attr, items, actions, NULL, &enc, &len, error);
    if (retval) {
        goto err;
    }
    struct esw_wire_rule *copy;
    retval = esw_wire_rule_decode(enc, len, &copy, error);
    free(enc);
    if (retval) {
        goto err;
    }
    struct rule *rule = calloc(1, sizeof *rule);
    if (!rule) {
        esw_wire_rule_destroy(copy);
        retval = VERR(-ENOMEM, RTE_FLOW_ERROR_TYPE_HANDLE, -1, "out of memory", NULL);
        goto err;
    }
    rule->id = esw->next_id++;
    rule->copy = copy;
    for (size_t i = 0; copy->actions[i].type != RTE_FLOW_ACTION_TYPE_END; i++) {
        if (copy->actions[i].type == RTE_FLOW_ACTION_TYPE_COUNT) {
            rule->has_count = true;
        } else if (copy->actions[i].type == RTE_FLOW_ACTION_TYPE_AGE) {
            const struct rte_flow_action_age *age = copy->actions[i].conf;
            rule->has_age = true;
            rule->age_timeout_s = age->timeout;
        }
    }
    /* The idle clock starts at creation; each hit restarts it. */
    rule->last_hit_ms = now_ms;

    /* Insert after every rule of the same or a better (lower) priority: after the last
     * rule of the nearest priority at or below this one, else first. */
    struct ovnic_list *after = &esw->groups[attr->group];
    for (uint32_t q = attr->priority + 1; q-- > 0;) {
        struct rule *tail = *tail_of(esw, attr->group, q);
        if (tail) {
            after = &tail->group_node;
            break;
        }
    }
    ovnic_list_insert(after->next, &rule->group_node);
    *tail_of(esw, attr->group, attr->priority) = rule;
    hmap_insert(&esw->rules, &rule->id_node, hash_id(rule->id));
    esw->group_counts[attr->group]++;
    esw->n_rules++;
    esw->stats.rules_added++;
    *idp = rule->id;
    return 0;

err:
    esw->stats.add_failures++;
    return retval;
}

int
eswitch_rule_del(struct eswitch *esw, uint64_t id, struct esw_error *error)
{
    struct rule *rule = rule_find(esw, id);
    if (!rule) {
        return VERR(-ENOENT, RTE_FLOW_ERROR_TYPE_HANDLE, -1, "no such rule", "%" PRIu64,
                    id);
    }
    rule_free(esw, rule);
    esw->stats.rules_removed++;
    return 0;
}

bool
eswitch_rule_exists(const struct eswitch *esw, uint64_t id)
{
    return rule_find(esw, id) != NULL;
}

static uint32_t
idle_sec(const struct rule *rule, uint64_t now_ms)
{
    return now_ms > rule->last_hit_ms ? (uint32_t)((now_ms - rule->last_hit_ms) / 1000)
                                      : 0;
}

int
eswitch_rule_query(struct eswitch *esw, uint64_t id, uint64_t now_ms, bool reset,
                   struct esw_rule_stats *stats, struct esw_error *error)
{
    struct rule *rule = rule_find(esw, id);
    if (!rule) {
        return VERR(-ENOENT, RTE_FLOW_ERROR_TYPE_HANDLE, -1, "no such rule", "%" PRIu64,
                    id);
    }
    memset(stats, 0, sizeof *stats);
    stats->has_count = rule->has_count;
    stats->packets = rule->packets;
    stats->bytes = rule->bytes;
    if (rule->has_age) {
        stats->has_age = true;
        stats->idle_sec = idle_sec(rule, now_ms);
        stats->aged = stats->idle_sec >= rule->age_timeout_s;
    }
    if (reset) {
        rule->packets = 0;
        rule->bytes = 0;
    }
    return 0;
}

size_t
eswitch_aged_get(struct eswitch *esw, uint64_t now_ms, uint64_t ids[], size_t max)
{
    size_t n = 0;
    /* In id order, so that reports are deterministic. */
    for (uint64_t id = 1; id < esw->next_id && n < max; id++) {
        struct rule *rule = rule_find(esw, id);
        if (!rule || !rule->has_age) {
            continue;
        }
        if (!rule->age_reported && idle_sec(rule, now_ms) >= rule->age_timeout_s) {
            rule->age_reported = true;
            ids[n++] = id;
        }
    }
    return n;
}

size_t
eswitch_rule_count(const struct eswitch *esw)
{
    return esw->n_rules;
}

size_t
eswitch_group_rule_count(const struct eswitch *esw, uint32_t group)
{
    return group < esw->profile.max_groups ? esw->group_counts[group] : 0;
}

void
eswitch_rule_foreach(const struct eswitch *esw, void (*cb)(uint64_t id, void *aux),
                     void *aux)
{
    for (uint64_t id = 1; id < esw->next_id; id++) {
        if (rule_find(esw, id)) {
            cb(id, aux);
        }
    }
}

int
eswitch_meter_set(struct eswitch *esw, uint32_t id, uint64_t rate, uint64_t burst,
                  struct esw_error *error)
{
    if (!rate || !burst) {
        return VERR(-EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF, -1,
                    "meter rate and burst must not be 0", NULL);
    }
    if (id >= esw->profile.max_meters) {
        return VERR(-ERANGE, RTE_FLOW_ERROR_TYPE_ACTION_CONF, -1,
                    "meter id beyond the device's", "%" PRIu32, id);
    }
    struct meter *m = &esw->meters[id];
    m->configured = true;
    m->rate = rate;
    m->burst = burst;
    m->tokens_milli = burst * 1000;
    m->last_ms = UINT64_MAX;
    return 0;
}

void
eswitch_stats_get(const struct eswitch *esw, struct eswitch_stats *stats)
{
    *stats = esw->stats;
    stats->connections = hmap_count(&esw->connections);
}

/* ---------------------------------------------------------------------------------- */
/* Packet parsing. */

enum layer_type { L_ETH, L_VLAN, L_IPV4, L_IPV6, L_UDP, L_TCP, L_ICMP, L_GENEVE };

struct layer {
    uint8_t type;  /* enum layer_type. */
    uint8_t level; /* 0: outer, 1: inside Geneve. */
    uint16_t off;  /* Of the header; for L_VLAN, of the TCI. */
    uint16_t len;  /* Of the header (Geneve: options included). */
    bool l4_ok;    /* L_IPV4/L_IPV6: an L4 header follows (not a later fragment). */
};

struct parsed {
    struct layer l[MAX_LAYERS];
    int n;
};

static uint16_t
rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void
wr16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = (uint8_t)v;
}

static void
add_layer(struct parsed *pp, uint8_t type, uint8_t level, size_t off, size_t len)
{
    if (pp->n < MAX_LAYERS) {
        pp->l[pp->n++] = (struct layer){type, level, (uint16_t)off, (uint16_t)len, false};
    }
}

static void parse_eth(const uint8_t *pkt, size_t len, size_t off, uint8_t level,
                      struct parsed *pp);

static void
parse_l4(const uint8_t *pkt, size_t end, size_t off, uint8_t proto, uint8_t level,
         struct parsed *pp)
{
    switch (proto) {
    case IPPROTO_UDP:
        if (end >= off + 8) {
            add_layer(pp, L_UDP, level, off, 8);
            if (level == 0 && rd16(pkt + off + 2) == GENEVE_PORT && end >= off + 16) {
                const uint8_t *g = pkt + off + 8;
                size_t glen = 8 + (g[0] & 0x3f) * 4u;
                if (g[0] >> 6 == 0 && end >= off + 8 + glen) {
                    add_layer(pp, L_GENEVE, level, off + 8, glen);
                    if (rd16(g + 2) == ETH_P_TEB) {
                        parse_eth(pkt, end, off + 8 + glen, 1, pp);
                    }
                }
            }
        }
        break;
    case IPPROTO_TCP:
        if (end >= off + 20) {
            size_t doff = (pkt[off + 12] >> 4) * 4u;
            if (doff >= 20 && end >= off + doff) {
                add_layer(pp, L_TCP, level, off, doff);
            }
        }
        break;
    case IPPROTO_ICMP:
        if (end >= off + 8) {
            add_layer(pp, L_ICMP, level, off, 8);
        }
        break;
    default:
        break;
    }
}

static void
parse_eth(const uint8_t *pkt, size_t len, size_t off, uint8_t level, struct parsed *pp)
{
    if (len < off + 14) {
        return;
    }
    add_layer(pp, L_ETH, level, off, 14);
    uint16_t type = rd16(pkt + off + 12);
    off += 14;
    for (int tags = 0; (type == 0x8100 || type == 0x88a8) && tags < 2; tags++) {
        if (len < off + 4) {
            return;
        }
        add_layer(pp, L_VLAN, level, off, 4);
        type = rd16(pkt + off + 2);
        off += 4;
    }
    if (type == 0x0800 && len >= off + 20 && pkt[off] >> 4 == 4) {
        size_t ihl = (pkt[off] & 0xf) * 4u;
        size_t tot = rd16(pkt + off + 2);
        if (ihl < 20 || tot < ihl || len < off + tot) {
            return;
        }
        add_layer(pp, L_IPV4, level, off, ihl);
        bool later_fragment = (rd16(pkt + off + 6) & 0x1fff) != 0;
        if (!later_fragment) {
            pp->l[pp->n - 1].l4_ok = true;
            parse_l4(pkt, off + tot, off + ihl, pkt[off + 9], level, pp);
        }
    } else if (type == 0x86dd && len >= off + 40 && pkt[off] >> 4 == 6) {
        size_t plen = rd16(pkt + off + 4);
        if (len < off + 40 + plen) {
            return;
        }
        add_layer(pp, L_IPV6, level, off, 40);
        pp->l[pp->n - 1].l4_ok = true;
        parse_l4(pkt, off + 40 + plen, off + 40, pkt[off + 6], level, pp);
    }
}

static void
parse(const uint8_t *pkt, size_t len, struct parsed *pp)
{
    pp->n = 0;
    parse_eth(pkt, len, 0, 0, pp);
}

/* The first layer of 'type' (at any level), or NULL. */
static const struct layer *
layer_first(const struct parsed *pp, uint8_t type)
{
    for (int i = 0; i < pp->n; i++) {
        if (pp->l[i].type == type) {
            return &pp->l[i];
        }
    }
    return NULL;
}

/* The first IP layer and the L4 layer right after it (if any). */
static const struct layer *
layer_ip(const struct parsed *pp, const struct layer **l4)
{
    *l4 = NULL;
    for (int i = 0; i < pp->n; i++) {
        if (pp->l[i].type == L_IPV4 || pp->l[i].type == L_IPV6) {
            if (i + 1 < pp->n && pp->l[i].l4_ok &&
                (pp->l[i + 1].type == L_TCP || pp->l[i + 1].type == L_UDP ||
                 pp->l[i + 1].type == L_ICMP)) {
                *l4 = &pp->l[i + 1];
            }
            return &pp->l[i];
        }
    }
    return NULL;
}

uint32_t
eswitch_flow_hash(const uint8_t *pkt, size_t len)
{
    struct parsed pp;
    parse(pkt, len, &pp);
    /* The innermost IP header. */
    int ip = -1;
    for (int i = 0; i < pp.n; i++) {
        if (pp.l[i].type == L_IPV4 || pp.l[i].type == L_IPV6) {
            ip = i;
        }
    }
    if (ip < 0) {
        return 0;
    }
    const struct layer *l = &pp.l[ip];
    uint32_t hash;
    if (l->type == L_IPV4) {
        hash = hash_bytes(pkt + l->off + 12, 8, pkt[l->off + 9]);
    } else {
        hash = hash_bytes(pkt + l->off + 8, 32, pkt[l->off + 6]);
    }
    if (ip + 1 < pp.n && (pp.l[ip + 1].type == L_TCP || pp.l[ip + 1].type == L_UDP)) {
        hash = hash_bytes(pkt + pp.l[ip + 1].off, 4, hash);
    }
    return hash;
}

/* ---------------------------------------------------------------------------------- */
/* Matching. */

static bool
masked_eq(const void *spec, const void *mask, const uint8_t *pkt, size_t n)
{
    const uint8_t *s = spec, *m = mask;
    for (size_t i = 0; i < n; i++) {
        if ((s[i] & m[i]) != (pkt[i] & m[i])) {
            return false;
        }
    }
    return true;
}

struct pkt_ctx {
    uint16_t in_port;
    bool from_representor;
    uint32_t ct_flags; /* RTE_FLOW_CONNTRACK_PKT_STATE_*, from a CONNTRACK action. */
    bool ct_done;
};

static bool
geneve_opt_match(const uint8_t *pkt, const struct layer *g,
                 const struct rte_flow_item_geneve_opt *s,
                 const struct rte_flow_item_geneve_opt *m)
{
    size_t off = g->off + 8;
    size_t end = g->off + g->len;
    while (off + 4 <= end) {
        const uint8_t *o = pkt + off;
        size_t olen = (o[3] & 0x1f) * 4u;
        if (off + 4 + olen > end) {
            return false;
        }
        uint16_t cls = rd16(o);
        if (cls == rte_be_to_cpu_16(s->option_class) && o[2] == s->option_type) {
            uint8_t mlen = m ? m->option_len : 0;
            if (mlen && (o[3] & 0x1f & mlen) != (s->option_len & mlen)) {
                return false;
            }
            if (s->data && s->option_len) {
                size_t n = s->option_len * 4u;
                if (olen < n) {
                    return false;
                }
                if (m && m->data) {
                    return masked_eq(s->data, m->data, o + 4, n);
                }
                return !memcmp(s->data, o + 4, n);
            }
            return true;
        }
        off += 4 + olen;
    }
    return false;
}

static bool
item_match(const uint8_t *pkt, const struct parsed *pp, const struct pkt_ctx *ctx,
           const struct rte_flow_item *items)
{
    int cursor = 0;
    uint8_t level = 0;
    const struct layer *geneve = NULL;
    for (const struct rte_flow_item *item = items; item->type != RTE_FLOW_ITEM_TYPE_END;
         item++) {
        const void *spec = item->spec;
        const void *mask = item->mask;
        int want = -1;
        size_t cmp = 0;
        switch (item->type) {
        case RTE_FLOW_ITEM_TYPE_VOID:
            continue;
        case RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT:
        case RTE_FLOW_ITEM_TYPE_PORT_REPRESENTOR: {
            bool rep = item->type == RTE_FLOW_ITEM_TYPE_PORT_REPRESENTOR;
            if (ctx->from_representor != rep) {
                return false;
            }
            if (spec) {
                const struct rte_flow_item_ethdev *s = spec;
                uint16_t m =
                    mask ? ((const struct rte_flow_item_ethdev *)mask)->port_id : 0xffff;
                if ((s->port_id & m) != (ctx->in_port & m)) {
                    return false;
                }
            }
            continue;
        }
        case RTE_FLOW_ITEM_TYPE_CONNTRACK: {
            if (spec) {
                uint32_t s = ((const struct rte_flow_item_conntrack *)spec)->flags;
                uint32_t m = mask ? ((const struct rte_flow_item_conntrack *)mask)->flags
                                  : UINT32_MAX;
                if ((ctx->ct_flags & m) != (s & m)) {
                    return false;
                }
            }
            continue;
        }
        case RTE_FLOW_ITEM_TYPE_GENEVE_OPT:
            if (!geneve || (spec && !geneve_opt_match(pkt, geneve, spec, mask))) {
                return false;
            }
            continue;
        case RTE_FLOW_ITEM_TYPE_ETH:
            want = L_ETH;
            cmp = 14;
            break;
        case RTE_FLOW_ITEM_TYPE_VLAN:
            want = L_VLAN;
            cmp = 4;
            break;
        case RTE_FLOW_ITEM_TYPE_IPV4:
            want = L_IPV4;
            cmp = 20;
            break;
        case RTE_FLOW_ITEM_TYPE_IPV6:
            want = L_IPV6;
            cmp = 40;
            break;
        case RTE_FLOW_ITEM_TYPE_UDP:
            want = L_UDP;
            cmp = 8;
            break;
        case RTE_FLOW_ITEM_TYPE_TCP:
            want = L_TCP;
            cmp = 20;
            break;
        case RTE_FLOW_ITEM_TYPE_ICMP:
            want = L_ICMP;
            cmp = 8;
            break;
        case RTE_FLOW_ITEM_TYPE_GENEVE:
            want = L_GENEVE;
            cmp = 8;
            break;
        default:
            return false;
        }
        if (!mask) {
            esw_item_default_mask(item->type, &mask);
        }
        int j;
        for (j = cursor; j < pp->n; j++) {
            if (pp->l[j].type == want && pp->l[j].level == level) {
                break;
            }
        }
        if (j >= pp->n) {
            return false;
        }
        const struct layer *l = &pp->l[j];
        if (spec) {
            /* VLAN's item header is TCI + inner type: the 4 bytes at the TCI. */
            if (!masked_eq(spec, mask, pkt + l->off, cmp)) {
                return false;
            }
            bool next_vlan = j + 1 < pp->n && pp->l[j + 1].type == L_VLAN;
            if (want == L_ETH) {
                const struct rte_flow_item_eth *s = spec, *m = mask;
                if (m->has_vlan && s->has_vlan != next_vlan) {
                    return false;
                }
            } else if (want == L_VLAN) {
                const struct rte_flow_item_vlan *s = spec, *m = mask;
                if (m->has_more_vlan && s->has_more_vlan != next_vlan) {
                    return false;
                }
            } else if (want == L_IPV6) {
                const struct rte_flow_item_ipv6 *s = spec, *m = mask;
                /* Extension headers are not parsed: every has_*_ext is 0. */
                if ((m->has_hop_ext && s->has_hop_ext) ||
                    (m->has_route_ext && s->has_route_ext) ||
                    (m->has_frag_ext && s->has_frag_ext) ||
                    (m->has_auth_ext && s->has_auth_ext) ||
                    (m->has_esp_ext && s->has_esp_ext) ||
                    (m->has_dest_ext && s->has_dest_ext)) {
                    return false;
                }
            }
        }
        if (want == L_GENEVE) {
            geneve = l;
            level = 1;
        }
        cursor = j + 1;
    }
    return true;
}

/* ---------------------------------------------------------------------------------- */
/* Checksums and header rewrites. */

static uint32_t
csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += rd16(p + i);
    }
    if (n & 1) {
        sum += (uint32_t)p[n - 1] << 8;
    }
    return sum;
}

static uint16_t
csum_fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

/* Updates the checksum at 'csum' for 'n' (even) bytes changing from 'old' to 'new'
 * (RFC 1624). */
static void
csum_replace(uint8_t *csum, const uint8_t *old, const uint8_t *new, size_t n)
{
    uint32_t sum = (uint16_t)~rd16(csum);
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += (uint16_t)~rd16(old + i);
        sum += rd16(new + i);
    }
    wr16(csum, csum_fold(sum));
}

static void
ipv4_csum_set(uint8_t *ip, size_t ihl)
{
    wr16(ip + 10, 0);
    wr16(ip + 10, csum_fold(csum_add(0, ip, ihl)));
}

/* The checksum field of an L4 layer, or NULL when there is none to maintain (UDP
 * over IPv4 with a zero checksum, ICMP for pseudo-header changes). */
static uint8_t *
l4_csum(uint8_t *pkt, const struct layer *l4, bool is_ipv4)
{
    if (!l4) {
        return NULL;
    }
    if (l4->type == L_TCP) {
        return pkt + l4->off + 16;
    }
    if (l4->type == L_UDP) {
        uint8_t *c = pkt + l4->off + 6;
        return is_ipv4 && !rd16(c) ? NULL : c;
    }
    return NULL;
}

static void
l4_csum_fixup(uint8_t *csum, const struct layer *l4, const uint8_t *old,
              const uint8_t *new, size_t n)
{
    if (!csum) {
        return;
    }
    csum_replace(csum, old, new, n);
    if (l4->type == L_UDP && !rd16(csum)) {
        wr16(csum, 0xffff);
    }
}

/* Rewrites one field of the packet's outermost header of its kind to 'val'. */
static void
field_set(uint8_t *pkt, const struct parsed *pp, enum rte_flow_field_id field,
          const uint8_t *val)
{
    const struct layer *l4;
    const struct layer *ip = layer_ip(pp, &l4);
    const struct layer *eth = layer_first(pp, L_ETH);
    switch (field) {
    case RTE_FLOW_FIELD_MAC_DST:
    case RTE_FLOW_FIELD_MAC_SRC:
        if (eth) {
            memcpy(pkt + eth->off + (field == RTE_FLOW_FIELD_MAC_SRC ? 6 : 0), val, 6);
        }
        break;
    case RTE_FLOW_FIELD_IPV4_SRC:
    case RTE_FLOW_FIELD_IPV4_DST:
        if (ip && ip->type == L_IPV4) {
            uint8_t *addr = pkt + ip->off + (field == RTE_FLOW_FIELD_IPV4_SRC ? 12 : 16);
            uint8_t old[4];
            memcpy(old, addr, 4);
            memcpy(addr, val, 4);
            csum_replace(pkt + ip->off + 10, old, val, 4);
            l4_csum_fixup(l4_csum(pkt, l4, true), l4, old, val, 4);
        }
        break;
    case RTE_FLOW_FIELD_IPV6_SRC:
    case RTE_FLOW_FIELD_IPV6_DST:
        if (ip && ip->type == L_IPV6) {
            uint8_t *addr = pkt + ip->off + (field == RTE_FLOW_FIELD_IPV6_SRC ? 8 : 24);
            uint8_t old[16];
            memcpy(old, addr, 16);
            memcpy(addr, val, 16);
            l4_csum_fixup(l4_csum(pkt, l4, false), l4, old, val, 16);
        }
        break;
    case RTE_FLOW_FIELD_IPV4_TTL:
        if (ip && ip->type == L_IPV4) {
            uint8_t *ttl = pkt + ip->off + 8;
            uint8_t old[2] = {ttl[0], ttl[1]};
            uint8_t new[2] = {val[0], ttl[1]};
            ttl[0] = val[0];
            csum_replace(pkt + ip->off + 10, old, new, 2);
        }
        break;
    case RTE_FLOW_FIELD_IPV6_HOPLIMIT:
        if (ip && ip->type == L_IPV6) {
            pkt[ip->off + 7] = val[0];
        }
        break;
    case RTE_FLOW_FIELD_TCP_PORT_SRC:
    case RTE_FLOW_FIELD_TCP_PORT_DST:
    case RTE_FLOW_FIELD_UDP_PORT_SRC:
    case RTE_FLOW_FIELD_UDP_PORT_DST: {
        bool tcp_field =
            field == RTE_FLOW_FIELD_TCP_PORT_SRC || field == RTE_FLOW_FIELD_TCP_PORT_DST;
        bool src =
            field == RTE_FLOW_FIELD_TCP_PORT_SRC || field == RTE_FLOW_FIELD_UDP_PORT_SRC;
        if (l4 && l4->type == (tcp_field ? L_TCP : L_UDP)) {
            uint8_t *port = pkt + l4->off + (src ? 0 : 2);
            uint8_t old[2] = {port[0], port[1]};
            memcpy(port, val, 2);
            l4_csum_fixup(l4_csum(pkt, l4, ip->type == L_IPV4), l4, old, val, 2);
        }
        break;
    }
    default:
        break;
    }
}

/* Reads one field (as field_set() writes it) into 'val'; false if absent. */
static bool
field_get(const uint8_t *pkt, const struct parsed *pp, enum rte_flow_field_id field,
          uint8_t *val)
{
    const struct layer *l4;
    const struct layer *ip = layer_ip(pp, &l4);
    const struct layer *eth = layer_first(pp, L_ETH);
    switch (field) {
    case RTE_FLOW_FIELD_MAC_DST:
    case RTE_FLOW_FIELD_MAC_SRC:
        if (!eth) {
            return false;
        }
        memcpy(val, pkt + eth->off + (field == RTE_FLOW_FIELD_MAC_SRC ? 6 : 0), 6);
        return true;
    case RTE_FLOW_FIELD_IPV4_SRC:
    case RTE_FLOW_FIELD_IPV4_DST:
        if (!ip || ip->type != L_IPV4) {
            return false;
        }
        memcpy(val, pkt + ip->off + (field == RTE_FLOW_FIELD_IPV4_SRC ? 12 : 16), 4);
        return true;
    case RTE_FLOW_FIELD_IPV6_SRC:
    case RTE_FLOW_FIELD_IPV6_DST:
        if (!ip || ip->type != L_IPV6) {
            return false;
        }
        memcpy(val, pkt + ip->off + (field == RTE_FLOW_FIELD_IPV6_SRC ? 8 : 24), 16);
        return true;
    case RTE_FLOW_FIELD_IPV4_TTL:
        if (!ip || ip->type != L_IPV4) {
            return false;
        }
        val[0] = pkt[ip->off + 8];
        return true;
    case RTE_FLOW_FIELD_IPV6_HOPLIMIT:
        if (!ip || ip->type != L_IPV6) {
            return false;
        }
        val[0] = pkt[ip->off + 7];
        return true;
    case RTE_FLOW_FIELD_TCP_PORT_SRC:
    case RTE_FLOW_FIELD_TCP_PORT_DST:
    case RTE_FLOW_FIELD_UDP_PORT_SRC:
    case RTE_FLOW_FIELD_UDP_PORT_DST: {
        bool tcp_field =
            field == RTE_FLOW_FIELD_TCP_PORT_SRC || field == RTE_FLOW_FIELD_TCP_PORT_DST;
        bool src =
            field == RTE_FLOW_FIELD_TCP_PORT_SRC || field == RTE_FLOW_FIELD_UDP_PORT_SRC;
        if (!l4 || l4->type != (tcp_field ? L_TCP : L_UDP)) {
            return false;
        }
        memcpy(val, pkt + l4->off + (src ? 0 : 2), 2);
        return true;
    }
    default:
        return false;
    }
}

static void
dec_ttl(uint8_t *pkt, const struct parsed *pp)
{
    const struct layer *l4;
    const struct layer *ip = layer_ip(pp, &l4);
    if (!ip) {
        return;
    }
    uint8_t ttl = pkt[ip->off + (ip->type == L_IPV4 ? 8 : 7)];
    if (ttl) {
        ttl--;
        field_set(pkt, pp,
                  ip->type == L_IPV4 ? RTE_FLOW_FIELD_IPV4_TTL
                                     : RTE_FLOW_FIELD_IPV6_HOPLIMIT,
                  &ttl);
    }
}

/* Prepends the Geneve headers of 'enc' to the 'len'-byte packet in 'pkt'. */
static bool
raw_encap(uint8_t *pkt, size_t *lenp, const struct rte_flow_action_raw_encap *enc)
{
    struct encap_layout lay;
    size_t len = *lenp;
    if (!encap_parse(enc->data, enc->size, &lay) || len + enc->size > ESWITCH_PKT_MAX) {
        return false;
    }
    uint32_t hash = eswitch_flow_hash(pkt, len);
    memmove(pkt + enc->size, pkt, len);
    memcpy(pkt, enc->data, enc->size);
    len += enc->size;
    uint8_t *ip = pkt + lay.ip;
    wr16(ip + 2, (uint16_t)(len - lay.ip));
    ipv4_csum_set(ip, (ip[0] & 0xf) * 4u);
    uint8_t *udp = pkt + lay.udp;
    if (!rd16(udp)) {
        wr16(udp, (uint16_t)(0xc000 | (hash & 0x3fff)));
    }
    wr16(udp + 4, (uint16_t)(len - lay.udp));
    wr16(udp + 6, 0);
    *lenp = len;
    return true;
}

/* Removes everything up to the end of the outer Geneve header. */
static bool
raw_decap(uint8_t *pkt, size_t *lenp, const struct parsed *pp)
{
    const struct layer *g = layer_first(pp, L_GENEVE);
    if (!g || rd16(pkt + g->off + 2) != ETH_P_TEB) {
        return false;
    }
    size_t cut = g->off + g->len;
    memmove(pkt, pkt + cut, *lenp - cut);
    *lenp -= cut;
    return true;
}

static bool
meter_pass(struct meter *m, size_t len, uint64_t now_ms)
{
    if (m->last_ms != UINT64_MAX && now_ms > m->last_ms) {
        uint64_t add = (now_ms - m->last_ms) * m->rate; /* Bytes x 1000. */
        m->tokens_milli = MIN(m->tokens_milli + add, m->burst * 1000);
    }
    m->last_ms = now_ms;
    if (m->tokens_milli >= len * 1000) {
        m->tokens_milli -= len * 1000;
        return true;
    }
    return false;
}

/* ---------------------------------------------------------------------------------- */
/* Connection tracking. */

static bool
ct_key_from_packet(const uint8_t *pkt, const struct parsed *pp, struct eswitch_ct_key *k,
                   uint8_t *tcp_flags)
{
    const struct layer *l4;
    const struct layer *ip = layer_ip(pp, &l4);
    memset(k, 0, sizeof *k);
    *tcp_flags = 0;
    if (!ip) {
        return false;
    }
    if (ip->type == L_IPV4) {
        memcpy(k->src, pkt + ip->off + 12, 4);
        memcpy(k->dst, pkt + ip->off + 16, 4);
        k->proto = pkt[ip->off + 9];
    } else {
        memcpy(k->src, pkt + ip->off + 8, 16);
        memcpy(k->dst, pkt + ip->off + 24, 16);
        k->proto = pkt[ip->off + 6];
        k->ipv6 = true;
    }
    if (l4 && (l4->type == L_TCP || l4->type == L_UDP)) {
        k->sport = rd16(pkt + l4->off);
        k->dport = rd16(pkt + l4->off + 2);
        if (l4->type == L_TCP) {
            *tcp_flags = pkt[l4->off + 13];
        }
    } else if (l4 && l4->type == L_ICMP) {
        k->sport = rd16(pkt + l4->off + 4); /* Identifier. */
    }
    return true;
}

static void
ct_key_reverse(const struct eswitch_ct_key *k, struct eswitch_ct_key *r)
{
    *r = *k;
    memcpy(r->src, k->dst, 16);
    memcpy(r->dst, k->src, 16);
    r->sport = k->dport;
    r->dport = k->sport;
}

static bool
ct_key_eq(const struct eswitch_ct_key *a, const struct eswitch_ct_key *b)
{
    return !memcmp(a->src, b->src, 16) && !memcmp(a->dst, b->dst, 16) &&
           a->sport == b->sport && a->dport == b->dport && a->proto == b->proto &&
           a->ipv6 == b->ipv6;
}

/* A hash that is the same in both directions. */
static uint32_t
ct_hash(const struct eswitch_ct_key *k)
{
    uint32_t a = hash_bytes(k->src, 16, k->sport);
    uint32_t b = hash_bytes(k->dst, 16, k->dport);
    return hash_finish(hash_add32(a ^ b, k->proto | (uint32_t)k->ipv6 << 8));
}

static struct ct_entry *
ct_find(const struct eswitch *esw, const struct eswitch_ct_key *k, bool *is_orig)
{
    struct eswitch_ct_key r;
    ct_key_reverse(k, &r);
    struct ct_entry *ct;
    HMAP_FOR_EACH_WITH_HASH (ct, node, ct_hash(k), &esw->connections) {
        if (ct_key_eq(&ct->orig, k)) {
            *is_orig = true;
            return ct;
        }
        if (ct_key_eq(&ct->orig, &r)) {
            *is_orig = false;
            return ct;
        }
    }
    return NULL;
}

int
eswitch_ct_state(const struct eswitch *esw, const struct eswitch_ct_key *key, int *state)
{
    bool is_orig;
    struct ct_entry *ct = ct_find(esw, key, &is_orig);
    if (!ct) {
        return -ENOENT;
    }
    *state = ct->state;
    return 0;
}

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

/* Runs the CONNTRACK action: returns the packet's RTE_FLOW_CONNTRACK_PKT_STATE_*. */
static uint32_t
ct_process(struct eswitch *esw, const uint8_t *pkt, const struct parsed *pp,
           const struct rte_flow_action_conntrack *conf)
{
    if (!conf->enable) {
        return RTE_FLOW_CONNTRACK_PKT_STATE_DISABLED;
    }
    struct eswitch_ct_key k;
    uint8_t flags;
    if (!ct_key_from_packet(pkt, pp, &k, &flags)) {
        return RTE_FLOW_CONNTRACK_PKT_STATE_BAD;
    }
    bool is_orig;
    struct ct_entry *ct = ct_find(esw, &k, &is_orig);
    uint32_t result = RTE_FLOW_CONNTRACK_PKT_STATE_VALID;
    if (!ct) {
        ct = calloc(1, sizeof *ct);
        if (!ct) {
            return RTE_FLOW_CONNTRACK_PKT_STATE_INVALID;
        }
        if (conf->is_original_dir) {
            ct->orig = k;
        } else {
            ct_key_reverse(&k, &ct->orig);
        }
        is_orig = conf->is_original_dir;
        ct->state = conf->state;
        hmap_insert(&esw->connections, &ct->node, ct_hash(&ct->orig));
        result |= RTE_FLOW_CONNTRACK_PKT_STATE_CHANGED;
    }
    if (k.proto != IPPROTO_TCP) {
        return result;
    }
    int old = ct->state;
    if ((flags & TCP_SYN && flags & TCP_FIN) ||
        !(flags & (TCP_SYN | TCP_FIN | TCP_RST | TCP_ACK))) {
        return RTE_FLOW_CONNTRACK_PKT_STATE_BAD;
    }
    if (flags & TCP_RST) {
        ct->state = RTE_FLOW_CONNTRACK_STATE_TIME_WAIT;
    } else if (flags & TCP_SYN) {
        if (old != RTE_FLOW_CONNTRACK_STATE_SYN_RECV) {
            return RTE_FLOW_CONNTRACK_PKT_STATE_INVALID;
        }
    } else {
        switch (old) {
        case RTE_FLOW_CONNTRACK_STATE_SYN_RECV:
            if (is_orig && flags & TCP_ACK) {
                ct->state = RTE_FLOW_CONNTRACK_STATE_ESTABLISHED;
            }
            break;
        case RTE_FLOW_CONNTRACK_STATE_ESTABLISHED:
            if (flags & TCP_FIN) {
                ct->state = RTE_FLOW_CONNTRACK_STATE_FIN_WAIT;
                ct->fin_from_orig = is_orig;
            }
            break;
        case RTE_FLOW_CONNTRACK_STATE_FIN_WAIT:
            if (is_orig != ct->fin_from_orig) {
                ct->state = flags & TCP_FIN ? RTE_FLOW_CONNTRACK_STATE_LAST_ACK
                                            : RTE_FLOW_CONNTRACK_STATE_CLOSE_WAIT;
            }
            break;
        case RTE_FLOW_CONNTRACK_STATE_CLOSE_WAIT:
            if (is_orig != ct->fin_from_orig && flags & TCP_FIN) {
                ct->state = RTE_FLOW_CONNTRACK_STATE_LAST_ACK;
            }
            break;
        case RTE_FLOW_CONNTRACK_STATE_LAST_ACK:
            if (is_orig == ct->fin_from_orig && flags & TCP_ACK) {
                ct->state = RTE_FLOW_CONNTRACK_STATE_TIME_WAIT;
            }
            break;
        default:
            break;
        }
    }
    if (ct->state != old) {
        result |= RTE_FLOW_CONNTRACK_PKT_STATE_CHANGED;
    }
    return result;
}

/* ---------------------------------------------------------------------------------- */
/* Processing. */

static struct rule *
lookup(const struct eswitch *esw, uint32_t group, const uint8_t *pkt,
       const struct parsed *pp, const struct pkt_ctx *ctx)
{
    struct rule *rule;
    LIST_FOR_EACH (rule, group_node, &esw->groups[group]) {
        if (item_match(pkt, pp, ctx, rule->copy->items)) {
            return rule;
        }
    }
    return NULL;
}

static void
output(struct eswitch_result *res, uint16_t port, bool to_rep, const uint8_t *pkt,
       size_t len)
{
    if (res->n_outputs < ESWITCH_MAX_OUTPUTS) {
        struct eswitch_output *o = &res->outputs[res->n_outputs++];
        o->port_id = port;
        o->to_representor = to_rep;
        o->len = len;
        memcpy(o->data, pkt, len);
    }
}

static enum eswitch_verdict
finish(struct eswitch *esw, struct eswitch_result *res, enum eswitch_verdict v,
       enum eswitch_drop_reason why)
{
    res->verdict = v;
    res->drop_reason = v == ESWITCH_DROP ? why : ESWITCH_DROP_NONE;
    if (v == ESWITCH_DROP) {
        res->n_outputs = 0;
        esw->stats.dropped++;
    } else if (v == ESWITCH_MISS) {
        esw->stats.missed++;
    } else {
        esw->stats.forwarded++;
    }
    return v;
}

enum eswitch_verdict
eswitch_process(struct eswitch *esw, uint16_t in_port, bool from_representor,
                const uint8_t *in, size_t len, uint64_t now_ms,
                struct eswitch_result *res)
{
    res->n_rules = 0;
    res->n_outputs = 0;
    esw->stats.packets++;
    if (!in || len < 14 || len > ESWITCH_PKT_MAX) {
        return finish(esw, res, ESWITCH_DROP, ESWITCH_DROP_MALFORMED);
    }
    uint8_t *pkt = esw->pkt;
    memcpy(pkt, in, len);
    struct pkt_ctx ctx = {.in_port = in_port, .from_representor = from_representor};
    uint32_t group = 0;
    for (uint32_t hop = 0; hop < esw->profile.max_hops; hop++) {
        struct parsed pp;
        parse(pkt, len, &pp);
        struct rule *rule = lookup(esw, group, pkt, &pp, &ctx);
        if (!rule) {
            /* Default miss: back to the other side of the ingress port. */
            output(res, in_port, !from_representor, pkt, len);
            return finish(esw, res, ESWITCH_MISS, ESWITCH_DROP_NONE);
        }
        if (res->n_rules < ARRAY_SIZE(res->rule_ids)) {
            res->rule_ids[res->n_rules++] = rule->id;
        }
        if (rule->has_count) {
            rule->packets++;
            rule->bytes += len;
        }
        if (rule->has_age) {
            rule->last_hit_ms = now_ms;
            rule->age_reported = false;
        }
        bool jumped = false;
        for (const struct rte_flow_action *a = rule->copy->actions;
             a->type != RTE_FLOW_ACTION_TYPE_END; a++) {
            const void *conf = a->conf;
            switch (a->type) {
            case RTE_FLOW_ACTION_TYPE_DROP:
                return finish(esw, res, ESWITCH_DROP, ESWITCH_DROP_ACTION);
            case RTE_FLOW_ACTION_TYPE_JUMP:
                group = ((const struct rte_flow_action_jump *)conf)->group;
                jumped = true;
                break;
            case RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT:
            case RTE_FLOW_ACTION_TYPE_PORT_REPRESENTOR:
                output(res, ((const struct rte_flow_action_ethdev *)conf)->port_id,
                       a->type == RTE_FLOW_ACTION_TYPE_PORT_REPRESENTOR, pkt, len);
                break;
            case RTE_FLOW_ACTION_TYPE_RAW_ENCAP:
                if (!raw_encap(pkt, &len, conf)) {
                    return finish(esw, res, ESWITCH_DROP, ESWITCH_DROP_TOO_BIG);
                }
                parse(pkt, len, &pp);
                break;
            case RTE_FLOW_ACTION_TYPE_RAW_DECAP:
                if (!raw_decap(pkt, &len, &pp)) {
                    return finish(esw, res, ESWITCH_DROP, ESWITCH_DROP_DECAP);
                }
                parse(pkt, len, &pp);
                break;
            case RTE_FLOW_ACTION_TYPE_SET_MAC_SRC:
                field_set(pkt, &pp, RTE_FLOW_FIELD_MAC_SRC,
                          ((const struct rte_flow_action_set_mac *)conf)->mac_addr);
                break;
            case RTE_FLOW_ACTION_TYPE_SET_MAC_DST:
                field_set(pkt, &pp, RTE_FLOW_FIELD_MAC_DST,
                          ((const struct rte_flow_action_set_mac *)conf)->mac_addr);
                break;
            case RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC:
            case RTE_FLOW_ACTION_TYPE_SET_IPV4_DST:
                field_set(
                    pkt, &pp,
                    a->type == RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC
                        ? RTE_FLOW_FIELD_IPV4_SRC
                        : RTE_FLOW_FIELD_IPV4_DST,
                    (const uint8_t *)&((const struct rte_flow_action_set_ipv4 *)conf)
                        ->ipv4_addr);
                break;
            case RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC:
            case RTE_FLOW_ACTION_TYPE_SET_IPV6_DST:
                field_set(pkt, &pp,
                          a->type == RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC
                              ? RTE_FLOW_FIELD_IPV6_SRC
                              : RTE_FLOW_FIELD_IPV6_DST,
                          ((const struct rte_flow_action_set_ipv6 *)conf)->ipv6_addr);
                break;
            case RTE_FLOW_ACTION_TYPE_SET_TP_SRC:
            case RTE_FLOW_ACTION_TYPE_SET_TP_DST: {
                const struct layer *l4;
                layer_ip(&pp, &l4);
                bool src = a->type == RTE_FLOW_ACTION_TYPE_SET_TP_SRC;
                if (l4 && (l4->type == L_TCP || l4->type == L_UDP)) {
                    enum rte_flow_field_id f = l4->type == L_TCP
                                                   ? (src ? RTE_FLOW_FIELD_TCP_PORT_SRC
                                                          : RTE_FLOW_FIELD_TCP_PORT_DST)
                                                   : (src ? RTE_FLOW_FIELD_UDP_PORT_SRC
                                                          : RTE_FLOW_FIELD_UDP_PORT_DST);
                    field_set(
                        pkt, &pp, f,
                        (const uint8_t *)&((const struct rte_flow_action_set_tp *)conf)
                            ->port);
                }
                break;
            }
            case RTE_FLOW_ACTION_TYPE_MODIFY_FIELD: {
                const struct rte_flow_action_modify_field *mf = conf;
                uint8_t val[16];
                if (mf->src.field == RTE_FLOW_FIELD_VALUE) {
                    memcpy(val, mf->src.value, sizeof val);
                    field_set(pkt, &pp, mf->dst.field, val);
                } else if (field_get(pkt, &pp, mf->src.field, val)) {
                    field_set(pkt, &pp, mf->dst.field, val);
                }
                break;
            }
            case RTE_FLOW_ACTION_TYPE_DEC_TTL:
                dec_ttl(pkt, &pp);
                break;
            case RTE_FLOW_ACTION_TYPE_METER: {
                uint32_t id = ((const struct rte_flow_action_meter *)conf)->mtr_id;
                if (!meter_pass(&esw->meters[id], len, now_ms)) {
                    return finish(esw, res, ESWITCH_DROP, ESWITCH_DROP_METER);
                }
                break;
            }
            case RTE_FLOW_ACTION_TYPE_CONNTRACK:
                ctx.ct_flags = ct_process(esw, pkt, &pp, conf);
                ctx.ct_done = true;
                break;
            default:
                break;
            }
        }
        if (!jumped) {
            return finish(esw, res, ESWITCH_FORWARD, ESWITCH_DROP_NONE);
        }
    }
    return finish(esw, res, ESWITCH_DROP, ESWITCH_DROP_LOOP);
}
