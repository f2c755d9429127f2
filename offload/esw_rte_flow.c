/* ovnic: the rte_flow eSwitch backend, for mlx5 devices (BlueField) in switchdev mode.
 *
 * Devices are found with libibverbs, representors are probed with the devargs
 * "PCI,representor=SPEC", and rules go to the transfer proxy port that
 * rte_flow_pick_transfer_proxy() names, with REPRESENTED_PORT / PORT_REPRESENTOR for
 * the ports and RAW_ENCAP / RAW_DECAP for Geneve.
 *
 * Insertion: when the device has the template/async API (rte_flow_info_get() reports
 * queues), the instance configures one queue and puts every rule into a template
 * table chosen by the rule's shape, created on first use; a batch of esw_push()
 * reaches the device through rules_create_bulk as enqueued creates, pushed every 256
 * and pulled until each has completed.  Otherwise rules go through rte_flow_create().
 * esw.c's queues stay in front of both (its esw_async_*() API), so a caller sees the
 * same semantics either way. */
#define ALLOW_EXPERIMENTAL_API 1

#include "offload/esw_rte_flow.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <infiniband/verbs.h>
#include <rte_bus_pci.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_flow.h>

#include "offload/esw_provider.h"
#include "shared/util/hash.h"
#include "shared/util/log.h"
#include "shared/util/util.h"

OVNIC_LOG_MODULE(esw_rte_flow);

struct esw_rte_flow {
    struct esw up;
    char ibdev[64]; /* RDMA device name, e.g. "mlx5_0". */
    char pci[64];   /* Its PCI address. */
    uint16_t port;  /* An ethdev port of the device. */
    struct esw_rte_flow_xlate_cfg cfg;

    /* Template/async API, when 'native'. */
    bool native;
    struct esw_rte_flow_port_cfg pcfg;
    struct hmap shapes; /* 'struct rf_shape's, by the hash of their key. */
    uint32_t next_id;   /* Of the next shape's templates and table. */
    uint32_t inflight;  /* Operations enqueued on queue 0 and not yet pulled. */
    uint32_t unpushed;  /* Of those, the ones not yet pushed. */
    struct esw_rte_flow_rule scratch; /* Translation of the rule being enqueued. */
};

/* The template table that every rule of one shape goes to. */
struct rf_shape {
    struct hmap_node node;
    uint8_t *key;
    size_t key_len;
    uint32_t id;
    struct rte_flow_pattern_template *pt;
    struct rte_flow_actions_template *at;
    struct rte_flow_template_table *table;
};

#define RF_QUEUE 0        /* The one queue an instance uses. */
#define RF_PUSH_EVERY 256 /* Operations enqueued between two pushes. */
#define RF_DRAIN_MS 5000  /* How long completions are waited for. */
#define RF_MAX_RULES (1u << 20)

static struct esw_rte_flow *
esw_rte_flow_cast(struct esw *esw)
{
    return CONTAINER_OF(esw, struct esw_rte_flow, up);
}

/* ---------------------------------------------------------------------------------- */
/* Translation. */

static int
xlate_error(struct esw_error *error, int code, enum rte_flow_error_type type, int index,
            const char *message)
{
    return esw_error_set(error, code, type, index, message, NULL);
}

int
esw_rte_flow_translate(const struct esw_rte_flow_xlate_cfg *cfg,
                       const struct rte_flow_attr *attr,
                       const struct rte_flow_item items[],
                       const struct rte_flow_action actions[], void *age_context,
                       struct esw_rte_flow_rule *out, struct esw_error *error)
{
    if (!attr || !items || !actions) {
        return xlate_error(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ATTR, -1,
                           "rule without attributes, items or actions");
    }
    if (!attr->transfer || attr->ingress || attr->egress) {
        return xlate_error(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ATTR_TRANSFER, -1,
                           "eSwitch rules need transfer=1 and no ingress/egress");
    }
    memset(out, 0, sizeof *out);
    out->attr = *attr;
    out->attr.group += cfg->group_offset;

    size_t n = 0;
    bool saw_udp = false;
    for (size_t i = 0; items[i].type != RTE_FLOW_ITEM_TYPE_END; i++) {
        const struct rte_flow_item *item = &items[i];
        if (n + 2 >= ESW_RTE_FLOW_MAX_ELEMS) {
            return xlate_error(error, -E2BIG, RTE_FLOW_ERROR_TYPE_ITEM_NUM, (int)i,
                               "too many items");
        }
        switch (item->type) {
        case RTE_FLOW_ITEM_TYPE_VOID:
            continue;
        case RTE_FLOW_ITEM_TYPE_ETH:
        case RTE_FLOW_ITEM_TYPE_VLAN:
        case RTE_FLOW_ITEM_TYPE_IPV4:
        case RTE_FLOW_ITEM_TYPE_IPV6:
        case RTE_FLOW_ITEM_TYPE_TCP:
        case RTE_FLOW_ITEM_TYPE_ICMP:
        case RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT:
        case RTE_FLOW_ITEM_TYPE_PORT_REPRESENTOR:
            out->items[n++] = *item;
            break;
        case RTE_FLOW_ITEM_TYPE_UDP:
            saw_udp = true;
            out->items[n++] = *item;
            break;
        case RTE_FLOW_ITEM_TYPE_GENEVE:
            if (!saw_udp) {
                /* mlx5 matches a tunnel through its UDP port: make it explicit. */
                out->geneve_udp.hdr.dst_port = RTE_BE16(6081);
                out->geneve_udp_mask.hdr.dst_port = RTE_BE16(0xffff);
                out->items[n++] = (struct rte_flow_item){.type = RTE_FLOW_ITEM_TYPE_UDP,
                                                         .spec = &out->geneve_udp,
                                                         .mask = &out->geneve_udp_mask};
                saw_udp = true;
            }
            out->items[n++] = *item;
            break;
        case RTE_FLOW_ITEM_TYPE_GENEVE_OPT: {
            const struct rte_flow_item_geneve_opt *s = item->spec;
            if (!s) {
                return xlate_error(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ITEM_SPEC, (int)i,
                                   "GENEVE_OPT needs a spec");
            }
            if (s->option_len > 31 || (s->option_len && !s->data)) {
                return xlate_error(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ITEM_SPEC, (int)i,
                                   "GENEVE_OPT length or data invalid");
            }
            const struct rte_flow_item_geneve_opt *m = item->mask;
            out->opt_mask.option_class = RTE_BE16(0xffff);
            out->opt_mask.option_type = 0xff;
            out->opt_mask.option_len = 0x1f;
            if (s->option_len) {
                for (size_t w = 0; w < s->option_len; w++) {
                    out->opt_mask_data[w] = m && m->data ? m->data[w] : UINT32_MAX;
                }
                out->opt_mask.data = out->opt_mask_data;
            }
            out->items[n++] = (struct rte_flow_item){
                .type = RTE_FLOW_ITEM_TYPE_GENEVE_OPT, .spec = s, .mask = &out->opt_mask};
            break;
        }
        default: {
            const char *name = esw_item_name(item->type);
            return esw_error_set(error, -ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM, (int)i,
                                 "item not programmed by the rte_flow backend", "%s",
                                 name ? name : "unknown");
        }
        }
    }
    out->items[n].type = RTE_FLOW_ITEM_TYPE_END;

    n = 0;
    for (size_t i = 0; actions[i].type != RTE_FLOW_ACTION_TYPE_END; i++) {
        const struct rte_flow_action *a = &actions[i];
        if (n + 1 >= ESW_RTE_FLOW_MAX_ELEMS) {
            return xlate_error(error, -E2BIG, RTE_FLOW_ERROR_TYPE_ACTION_NUM, (int)i,
                               "too many actions");
        }
        bool needs_conf = a->type != RTE_FLOW_ACTION_TYPE_VOID &&
                          a->type != RTE_FLOW_ACTION_TYPE_DROP &&
                          a->type != RTE_FLOW_ACTION_TYPE_DEC_TTL &&
                          a->type != RTE_FLOW_ACTION_TYPE_COUNT &&
                          a->type != RTE_FLOW_ACTION_TYPE_RAW_DECAP;
        if (needs_conf && !a->conf) {
            return xlate_error(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF, (int)i,
                               "action without its conf");
        }
        switch (a->type) {
        case RTE_FLOW_ACTION_TYPE_VOID:
            continue;
        case RTE_FLOW_ACTION_TYPE_DROP:
        case RTE_FLOW_ACTION_TYPE_COUNT:
        case RTE_FLOW_ACTION_TYPE_METER:
        case RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT:
        case RTE_FLOW_ACTION_TYPE_PORT_REPRESENTOR:
        case RTE_FLOW_ACTION_TYPE_RAW_ENCAP:
        case RTE_FLOW_ACTION_TYPE_SET_MAC_SRC:
        case RTE_FLOW_ACTION_TYPE_SET_MAC_DST:
        case RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC:
        case RTE_FLOW_ACTION_TYPE_SET_IPV4_DST:
        case RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC:
        case RTE_FLOW_ACTION_TYPE_SET_IPV6_DST:
        case RTE_FLOW_ACTION_TYPE_SET_TP_SRC:
        case RTE_FLOW_ACTION_TYPE_SET_TP_DST:
        case RTE_FLOW_ACTION_TYPE_DEC_TTL:
        case RTE_FLOW_ACTION_TYPE_MODIFY_FIELD:
            out->actions[n++] = *a;
            break;
        case RTE_FLOW_ACTION_TYPE_JUMP:
            out->jump = *(const struct rte_flow_action_jump *)a->conf;
            out->jump.group += cfg->group_offset;
            out->actions[n++] = (struct rte_flow_action){
                .type = RTE_FLOW_ACTION_TYPE_JUMP, .conf = &out->jump};
            break;
        case RTE_FLOW_ACTION_TYPE_AGE:
            out->age = *(const struct rte_flow_action_age *)a->conf;
            out->age.context = age_context;
            out->actions[n++] = (struct rte_flow_action){.type = RTE_FLOW_ACTION_TYPE_AGE,
                                                         .conf = &out->age};
            break;
        case RTE_FLOW_ACTION_TYPE_RAW_DECAP:
            if (a->conf) {
                out->actions[n++] = *a;
                break;
            }
            /* The outer headers of an OVN Geneve packet (without options: the PMD
             * takes the size as the decapsulation type, L2 tunnel). */
            memset(out->decap_data, 0, sizeof out->decap_data);
            out->decap_data[12] = 0x08;
            out->decap_data[14] = 0x45;
            out->decap_data[14 + 9] = 17;
            out->decap_data[34 + 2] = 6081 >> 8;
            out->decap_data[34 + 3] = 6081 & 0xff;
            out->decap_data[42 + 2] = 0x65;
            out->decap_data[42 + 3] = 0x58;
            out->decap.data = out->decap_data;
            out->decap.size = sizeof out->decap_data;
            out->actions[n++] = (struct rte_flow_action){
                .type = RTE_FLOW_ACTION_TYPE_RAW_DECAP, .conf = &out->decap};
            break;
        case RTE_FLOW_ACTION_TYPE_CONNTRACK:
            return xlate_error(error, -ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION, (int)i,
                               "not supported: CONNTRACK (mlx5 takes it only as an "
                               "indirect action)");
        default: {
            const char *name = esw_action_name(a->type);
            return esw_error_set(error, -ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION, (int)i,
                                 "action not programmed by the rte_flow backend", "%s",
                                 name ? name : "unknown");
        }
        }
    }
    out->actions[n].type = RTE_FLOW_ACTION_TYPE_END;
    return 0;
}

/* ---------------------------------------------------------------------------------- */
/* Template form. */

_Static_assert(sizeof(struct rte_flow_item_ipv6) <= ESW_RTE_FLOW_MASK_SLOT,
               "mask slot too small");
_Static_assert(sizeof(struct rte_flow_item_tcp) <= ESW_RTE_FLOW_MASK_SLOT,
               "mask slot too small");

int
esw_rte_flow_template_build(const struct esw_rte_flow_rule *rule, uint32_t nb_flows,
                            struct esw_rte_flow_template *out, struct esw_error *error)
{
    memset(out, 0, sizeof *out);
    out->pt_attr.relaxed_matching = 0;
    out->pt_attr.transfer = 1;
    out->at_attr.transfer = 1;
    out->table_attr.flow_attr = rule->attr;
    out->table_attr.nb_flows = nb_flows ? nb_flows : ESW_RTE_FLOW_TABLE_SIZE;

    size_t i;
    for (i = 0; rule->items[i].type != RTE_FLOW_ITEM_TYPE_END; i++) {
        const struct rte_flow_item *item = &rule->items[i];
        struct rte_flow_item *t = &out->items[i];
        const void *default_mask = NULL;
        size_t size = esw_item_default_mask(item->type, &default_mask);
        if (!size) {
            return xlate_error(error, -ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM, (int)i,
                               "item without a template mask");
        }
        t->type = item->type;
        const void *mask = item->mask ? item->mask : item->spec ? default_mask : NULL;
        if (!mask) {
            continue;
        }
        memcpy(out->item_masks[i], mask, size);
        t->mask = out->item_masks[i];
        if (item->type == RTE_FLOW_ITEM_TYPE_GENEVE_OPT) {
            struct rte_flow_item_geneve_opt *m = (void *)out->item_masks[i];
            const struct rte_flow_item_geneve_opt *s = item->spec;
            size_t words = s && m->data ? MIN(s->option_len, 31) : 0;
            if (words) {
                memcpy(out->opt_data_mask, m->data, words * sizeof *m->data);
            }
            m->data = words ? out->opt_data_mask : NULL;
            out->opt_words = (uint8_t)words;
        }
    }
    out->items[i].type = RTE_FLOW_ITEM_TYPE_END;

    size_t n_mf = 0;
    for (i = 0; rule->actions[i].type != RTE_FLOW_ACTION_TYPE_END; i++) {
        const struct rte_flow_action *a = &rule->actions[i];
        out->actions[i] = (struct rte_flow_action){.type = a->type};
        out->masks[i] = (struct rte_flow_action){.type = a->type};
        if (a->type == RTE_FLOW_ACTION_TYPE_RAW_DECAP && a->conf == &rule->decap) {
            /* The header the translation supplies is the same for every rule. */
            memcpy(out->decap_data, rule->decap_data, sizeof out->decap_data);
            out->decap.data = out->decap_data;
            out->decap.size = sizeof out->decap_data;
            out->actions[i].conf = &out->decap;
            out->masks[i].conf = &out->decap;
        } else if (a->type == RTE_FLOW_ACTION_TYPE_MODIFY_FIELD) {
            if (n_mf >= ARRAY_SIZE(out->mf)) {
                return xlate_error(error, -ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION_NUM,
                                   (int)i, "more than two MODIFY_FIELD actions");
            }
            /* The fields, operation and width are fixed; a source value is per rule. */
            const struct rte_flow_action_modify_field *mf = a->conf;
            struct rte_flow_action_modify_field *c = &out->mf[n_mf];
            struct rte_flow_action_modify_field *m = &out->mf_mask[n_mf++];
            *c = *mf;
            if (c->src.field == RTE_FLOW_FIELD_VALUE) {
                memset(c->src.value, 0, sizeof c->src.value);
            }
            memset(m, 0, sizeof *m);
            m->operation = mf->operation;
            m->dst.field = mf->dst.field;
            m->dst.level = UINT32_MAX;
            m->dst.offset = UINT32_MAX;
            m->src.field = mf->src.field;
            if (mf->src.field != RTE_FLOW_FIELD_VALUE) {
                m->src.level = UINT32_MAX;
                m->src.offset = UINT32_MAX;
            }
            m->width = UINT32_MAX;
            out->actions[i].conf = c;
            out->masks[i].conf = m;
        }
    }
    out->actions[i].type = RTE_FLOW_ACTION_TYPE_END;
    out->masks[i].type = RTE_FLOW_ACTION_TYPE_END;
    return 0;
}

struct keybuf {
    uint8_t *buf;
    size_t size;
    size_t len;
};

static void
key_put(struct keybuf *k, const void *p, size_t n)
{
    if (k->len < k->size) {
        memcpy(k->buf + k->len, p, MIN(n, k->size - k->len));
    }
    k->len += n;
}

static void
key_put32(struct keybuf *k, uint32_t v)
{
    key_put(k, &v, sizeof v);
}

size_t
esw_rte_flow_template_key(const struct esw_rte_flow_template *t, uint8_t *buf,
                          size_t size)
{
    struct keybuf k = {buf, size, 0};
    key_put32(&k, t->table_attr.flow_attr.group);
    key_put32(&k, t->table_attr.flow_attr.priority);
    for (size_t i = 0; t->items[i].type != RTE_FLOW_ITEM_TYPE_END; i++) {
        const struct rte_flow_item *item = &t->items[i];
        key_put32(&k, (uint32_t)item->type);
        key_put32(&k, item->mask != NULL);
        if (!item->mask) {
            continue;
        }
        if (item->type == RTE_FLOW_ITEM_TYPE_GENEVE_OPT) {
            const struct rte_flow_item_geneve_opt *m = item->mask;
            key_put(&k, &m->option_class, sizeof m->option_class);
            key_put(&k, &m->option_type, sizeof m->option_type);
            key_put(&k, &m->option_len, sizeof m->option_len);
            key_put(&k, &t->opt_words, 1);
            key_put(&k, t->opt_data_mask, t->opt_words * sizeof *t->opt_data_mask);
            continue;
        }
        const void *dflt;
        key_put(&k, item->mask, esw_item_default_mask(item->type, &dflt));
    }
    key_put32(&k, UINT32_MAX);
    for (size_t i = 0; t->actions[i].type != RTE_FLOW_ACTION_TYPE_END; i++) {
        const struct rte_flow_action *a = &t->actions[i];
        key_put32(&k, (uint32_t)a->type);
        if (!t->masks[i].conf) {
            continue;
        }
        if (a->type == RTE_FLOW_ACTION_TYPE_RAW_DECAP) {
            key_put(&k, t->decap_data, sizeof t->decap_data);
        } else if (a->type == RTE_FLOW_ACTION_TYPE_MODIFY_FIELD) {
            const struct rte_flow_action_modify_field *mf = a->conf;
            key_put32(&k, (uint32_t)mf->operation);
            key_put32(&k, (uint32_t)mf->dst.field);
            key_put32(&k, mf->dst.level);
            key_put32(&k, mf->dst.offset);
            key_put32(&k, (uint32_t)mf->src.field);
            key_put32(&k, mf->src.level);
            key_put32(&k, mf->src.offset);
            key_put32(&k, mf->width);
        }
    }
    return k.len;
}

void
esw_rte_flow_port_cfg_choose(const struct rte_flow_port_info *port,
                             const struct rte_flow_queue_info *queue, uint32_t max_rules,
                             struct esw_rte_flow_port_cfg *out)
{
    memset(out, 0, sizeof *out);
    out->nb_queues = 1; /* The instance is used from one thread. */
    out->queue_attr.size = queue->max_size ? MIN(queue->max_size, 1024) : 1024;
    out->port_attr.nb_counters =
        port->max_nb_counters ? MIN(port->max_nb_counters, max_rules) : max_rules;
    out->port_attr.nb_aging_objects = port->max_nb_aging_objects
                                          ? MIN(port->max_nb_aging_objects, max_rules)
                                          : max_rules;
}

/* Appending to a bounded buffer, keeping the length the full text needs. */
struct sbuf {
    char *buf;
    size_t size;
    size_t len;
};

static void OVNIC_PRINTF(2, 3) sbuf_add(struct sbuf *s, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    size_t room = s->len < s->size ? s->size - s->len : 0;
    int n = vsnprintf(room ? s->buf + s->len : NULL, room, format, args);
    va_end(args);
    if (n > 0) {
        s->len += (size_t)n;
    }
}

/* Renders with esw_rule_format() into a new string.  Caller owns; free with free(). */
static char *
rule_text(const struct rte_flow_attr *attr, const struct rte_flow_item items[],
          const struct rte_flow_action actions[], uint16_t port)
{
    int n = esw_rule_format(attr, items, actions, port, NULL, 0);
    char *text = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (text) {
        esw_rule_format(attr, items, actions, port, text, (size_t)n + 1);
    }
    return text;
}

/* Appends the pattern of 'text' ("... pattern ITEMS end actions ...") with every
 * "F is V" and "F spec S F mask M" turned into "F mask V" / "F mask M": in a pattern
 * template the values are masks. */
static void
append_template_items(struct sbuf *s, const char *text)
{
    const char *p = strstr(text, " pattern ");
    const char *e = p ? strstr(p, " end actions") : NULL;
    if (!p || !e) {
        sbuf_add(s, " end");
        return;
    }
    p += strlen(" pattern ");
    char *copy = strndup(p, (size_t)(e - p));
    if (!copy) {
        return;
    }
    char *tok[ESW_RTE_FLOW_MAX_ELEMS * 24];
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r(copy, " ", &save); t && n < ARRAY_SIZE(tok);
         t = strtok_r(NULL, " ", &save)) {
        tok[n++] = t;
    }
    for (size_t i = 0; i < n;) {
        if (i + 2 < n && !strcmp(tok[i + 1], "is")) {
            sbuf_add(s, " %s mask %s", tok[i], tok[i + 2]);
            i += 3;
        } else if (i + 5 < n && !strcmp(tok[i + 1], "spec") &&
                   !strcmp(tok[i + 3], tok[i]) && !strcmp(tok[i + 4], "mask")) {
            sbuf_add(s, " %s mask %s", tok[i], tok[i + 5]);
            i += 6;
        } else {
            sbuf_add(s, " %s", tok[i++]);
        }
    }
    sbuf_add(s, " end");
    free(copy);
}

/* Appends the actions of 'text' ("... end actions ACTIONS / end"). */
static void
append_actions(struct sbuf *s, const char *text)
{
    const char *p = strstr(text, " end actions ");
    sbuf_add(s, " %s", p ? p + strlen(" end actions ") : "end");
}

/* Appends the "set raw_..." lines that precede "flow create" in 'text'. */
static void
append_set_lines(struct sbuf *s, const char *text)
{
    const char *p = strstr(text, "flow create ");
    if (p && p > text) {
        sbuf_add(s, "%.*s", (int)(p - text), text);
    }
}

int
esw_rte_flow_template_format(const struct esw_rte_flow_port_cfg *pcfg,
                             const struct esw_rte_flow_template *t, uint16_t port,
                             uint32_t id, char *buf, size_t size)
{
    struct sbuf s = {buf, size, 0};
    if (size) {
        buf[0] = '\0';
    }
    if (pcfg) {
        sbuf_add(&s,
                 "flow configure %u queues_number %u queues_size %" PRIu32
                 " counters_number %" PRIu32 " aging_counters_number %" PRIu32
                 " meters_number %" PRIu32 "\n",
                 port, pcfg->nb_queues, pcfg->queue_attr.size,
                 pcfg->port_attr.nb_counters, pcfg->port_attr.nb_aging_objects,
                 pcfg->port_attr.nb_meters);
    }

    /* Pattern template: each mask rendered as if it were a spec. */
    struct rte_flow_item shown[ESW_RTE_FLOW_MAX_ELEMS];
    struct rte_flow_item_geneve_opt opt;
    size_t i;
    for (i = 0; t->items[i].type != RTE_FLOW_ITEM_TYPE_END; i++) {
        shown[i] = (struct rte_flow_item){
            .type = t->items[i].type, .spec = t->items[i].mask, .mask = t->items[i].mask};
        if (t->items[i].type == RTE_FLOW_ITEM_TYPE_GENEVE_OPT && t->items[i].mask) {
            opt = *(const struct rte_flow_item_geneve_opt *)t->items[i].mask;
            opt.option_len = t->opt_words;
            shown[i].spec = &opt;
        }
    }
    shown[i].type = RTE_FLOW_ITEM_TYPE_END;
    struct rte_flow_attr attr = {.transfer = 1};
    static const struct rte_flow_item no_items[] = {{.type = RTE_FLOW_ITEM_TYPE_END}};
    static const struct rte_flow_action no_actions[] = {
        {.type = RTE_FLOW_ACTION_TYPE_END}};
    char *text = rule_text(&attr, shown, no_actions, port);
    sbuf_add(&s,
             "flow pattern_template %u create pattern_template_id %" PRIu32
             " relaxed %s transfer template",
             port, id, t->pt_attr.relaxed_matching ? "yes" : "no");
    if (text) {
        append_template_items(&s, text);
    }
    sbuf_add(&s, "\n");
    free(text);

    /* Actions template: fixed confs in both lists, the set lines once. */
    char *atext = rule_text(&attr, no_items, t->actions, port);
    char *mtext = rule_text(&attr, no_items, t->masks, port);
    if (atext) {
        append_set_lines(&s, atext);
    }
    sbuf_add(&s,
             "flow actions_template %u create actions_template_id %" PRIu32
             " transfer template",
             port, id);
    if (atext) {
        append_actions(&s, atext);
    }
    sbuf_add(&s, " mask");
    if (mtext) {
        append_actions(&s, mtext);
    }
    sbuf_add(&s, "\n");
    free(atext);
    free(mtext);

    const struct rte_flow_attr *fa = &t->table_attr.flow_attr;
    sbuf_add(&s,
             "flow template_table %u create table_id %" PRIu32 " group %" PRIu32
             " priority %" PRIu32 "%s%s%s rules_number %" PRIu32
             " pattern_template %" PRIu32 " actions_template %" PRIu32 "\n",
             port, id, fa->group, fa->priority, fa->ingress ? " ingress" : "",
             fa->egress ? " egress" : "", fa->transfer ? " transfer" : "",
             t->table_attr.nb_flows, id, id);
    return (int)s.len;
}

int
esw_rte_flow_queue_format(const struct esw_rte_flow_rule *rule, uint16_t port,
                          uint32_t queue, uint32_t table_id, bool postpone, char *buf,
                          size_t size)
{
    struct sbuf s = {buf, size, 0};
    if (size) {
        buf[0] = '\0';
    }
    char *text = rule_text(&rule->attr, rule->items, rule->actions, port);
    if (!text) {
        return 0;
    }
    append_set_lines(&s, text);
    const char *p = strstr(text, " pattern ");
    sbuf_add(&s,
             "flow queue %u create %" PRIu32 " template_table %" PRIu32
             " pattern_template 0 actions_template 0 postpone %s%s",
             port, queue, table_id, postpone ? "yes" : "no", p ? p : " pattern end");
    free(text);
    return (int)s.len;
}

/* ---------------------------------------------------------------------------------- */
/* Device discovery. */

/* Parses "key=value,key=value" for 'key' into 'buf'.  Brackets may hold commas. */
static bool
arg_get(const char *args, const char *key, char *buf, size_t size)
{
    size_t klen = strlen(key);
    const char *p = args;
    while (p && *p) {
        const char *end = p;
        int depth = 0;
        while (*end && (depth || *end != ',')) {
            depth += *end == '[' ? 1 : *end == ']' ? -1 : 0;
            end++;
        }
        if (!strncmp(p, key, klen) && p[klen] == '=') {
            size_t vlen = (size_t)(end - (p + klen + 1));
            if (vlen >= size) {
                return false;
            }
            memcpy(buf, p + klen + 1, vlen);
            buf[vlen] = '\0';
            return true;
        }
        p = *end ? end + 1 : end;
    }
    return false;
}

/* The PCI address of RDMA device 'dev' (from sysfs), into 'pci'. */
static bool
ibdev_pci(struct ibv_device *dev, char *pci, size_t size)
{
    char path[512], link[512];
    snprintf(path, sizeof path, "%s/device", dev->ibdev_path);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n <= 0) {
        return false;
    }
    link[n] = '\0';
    const char *base = strrchr(link, '/');
    const char *name = base ? base + 1 : link;
    size_t len = strlen(name);
    if (!len || len >= size) {
        return false;
    }
    memcpy(pci, name, len + 1);
    return true;
}

/* The first ethdev port on PCI device 'pci', or -1. */
static int
port_of_pci(const char *pci)
{
    struct rte_pci_addr want;
    if (rte_pci_addr_parse(pci, &want)) {
        return -1;
    }
    uint16_t port;
    RTE_ETH_FOREACH_DEV(port)
    {
        char name[RTE_ETH_NAME_MAX_LEN];
        struct rte_pci_addr have;
        if (!rte_eth_dev_get_name_by_port(port, name) &&
            !rte_pci_addr_parse(name, &have) && !rte_pci_addr_cmp(&want, &have)) {
            return port;
        }
    }
    return -1;
}

static void native_probe(struct esw_rte_flow *rf);
static void shape_free(struct esw_rte_flow *rf, struct rf_shape *shape);

static int
rte_flow_open(const char *args, struct esw **espp, struct esw_error *error)
{
    static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(5, 5);
    char want[64] = "", reps[128] = "", offset[16] = "";
    args = args ? args : "";
    arg_get(args, "dev", want, sizeof want);
    arg_get(args, "representor", reps, sizeof reps);
    arg_get(args, "group_offset", offset, sizeof offset);

    int n_devs = 0;
    struct ibv_device **devs = ibv_get_device_list(&n_devs);
    if (!devs || n_devs <= 0) {
        if (devs) {
            ibv_free_device_list(devs);
        }
        OLOG_WARN_RL(&rl, "no RDMA device: the rte_flow eSwitch needs an mlx5 device "
                          "(BlueField/ConnectX) in switchdev mode");
        return esw_error_set(error, -ENODEV, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                             "no RDMA device found",
                             "the rte_flow eSwitch needs an mlx5 device "
                             "(BlueField/ConnectX) in switchdev mode");
    }
    struct ibv_device *chosen = NULL;
    char pci[64] = "";
    for (int i = 0; i < n_devs && !chosen; i++) {
        char this_pci[64] = "";
        ibdev_pci(devs[i], this_pci, sizeof this_pci);
        bool match = want[0] ? !strcmp(devs[i]->name, want) || !strcmp(this_pci, want)
                             : !strncmp(devs[i]->name, "mlx5", 4);
        if (match) {
            chosen = devs[i];
            snprintf(pci, sizeof pci, "%s", this_pci);
        }
    }
    char ibname[64] = "";
    if (chosen) {
        snprintf(ibname, sizeof ibname, "%s", chosen->name);
    }
    ibv_free_device_list(devs);
    if (!chosen || !pci[0]) {
        return esw_error_set(error, -ENODEV, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                             "no matching mlx5 device", "wanted '%s'",
                             want[0] ? want : "mlx5*");
    }

    if (reps[0]) {
        char devargs[256];
        snprintf(devargs, sizeof devargs, "%s,representor=%s", pci, reps);
        int r = rte_dev_probe(devargs);
        if (r && r != -EEXIST) {
            return esw_error_set(error, r < 0 ? r : -EIO, RTE_FLOW_ERROR_TYPE_UNSPECIFIED,
                                 -1, "cannot probe the device's representors", "%s",
                                 devargs);
        }
    }
    int port = port_of_pci(pci);
    if (port < 0) {
        return esw_error_set(error, -ENODEV, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                             "the device has no DPDK port",
                             "%s (%s): start the EAL with -a %s,representor=pf0vf[0-N]",
                             ibname, pci, pci);
    }
    struct rte_flow_error ferr;
    memset(&ferr, 0, sizeof ferr);
    uint16_t proxy;
    if (rte_flow_pick_transfer_proxy((uint16_t)port, &proxy, &ferr)) {
        return esw_error_set(error, -rte_errno ? -rte_errno : -EIO, ferr.type, -1,
                             "no transfer proxy port", "%s",
                             ferr.message ? ferr.message : "");
    }

    struct esw_rte_flow *rf = calloc(1, sizeof *rf);
    if (!rf) {
        return esw_error_set(error, -ENOMEM, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                             "out of memory", NULL);
    }
    snprintf(rf->ibdev, sizeof rf->ibdev, "%s", ibname);
    snprintf(rf->pci, sizeof rf->pci, "%s", pci);
    rf->port = (uint16_t)port;
    rf->cfg.proxy_port = proxy;
    rf->cfg.group_offset = offset[0] ? (uint32_t)strtoul(offset, NULL, 10) : 0;
    hmap_init(&rf->shapes);
    OLOG_INFO("eSwitch on %s (%s), transfer proxy port %u", ibname, pci, proxy);
    native_probe(rf);
    *espp = &rf->up;
    return 0;
}

static void
rte_flow_close(struct esw *esw)
{
    struct esw_rte_flow *rf = esw_rte_flow_cast(esw);
    struct rf_shape *shape, *next;
    HMAP_FOR_EACH_SAFE (shape, next, node, &rf->shapes) {
        hmap_remove(&rf->shapes, &shape->node);
        shape_free(rf, shape);
    }
    hmap_destroy(&rf->shapes);
    free(rf);
}

static int
rte_flow_caps_get(struct esw *esw, struct esw_caps *caps, struct esw_error *error)
{
    struct esw_rte_flow *rf = esw_rte_flow_cast(esw);
    static const int items[] = {
        RTE_FLOW_ITEM_TYPE_VOID,
        RTE_FLOW_ITEM_TYPE_ETH,
        RTE_FLOW_ITEM_TYPE_VLAN,
        RTE_FLOW_ITEM_TYPE_IPV4,
        RTE_FLOW_ITEM_TYPE_IPV6,
        RTE_FLOW_ITEM_TYPE_UDP,
        RTE_FLOW_ITEM_TYPE_TCP,
        RTE_FLOW_ITEM_TYPE_ICMP,
        RTE_FLOW_ITEM_TYPE_GENEVE,
        RTE_FLOW_ITEM_TYPE_GENEVE_OPT,
        RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT,
        RTE_FLOW_ITEM_TYPE_PORT_REPRESENTOR,
    };
    static const int actions[] = {
        RTE_FLOW_ACTION_TYPE_VOID,
        RTE_FLOW_ACTION_TYPE_DROP,
        RTE_FLOW_ACTION_TYPE_JUMP,
        RTE_FLOW_ACTION_TYPE_COUNT,
        RTE_FLOW_ACTION_TYPE_AGE,
        RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT,
        RTE_FLOW_ACTION_TYPE_PORT_REPRESENTOR,
        RTE_FLOW_ACTION_TYPE_RAW_ENCAP,
        RTE_FLOW_ACTION_TYPE_RAW_DECAP,
        RTE_FLOW_ACTION_TYPE_SET_MAC_SRC,
        RTE_FLOW_ACTION_TYPE_SET_MAC_DST,
        RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC,
        RTE_FLOW_ACTION_TYPE_SET_IPV4_DST,
        RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC,
        RTE_FLOW_ACTION_TYPE_SET_IPV6_DST,
        RTE_FLOW_ACTION_TYPE_SET_TP_SRC,
        RTE_FLOW_ACTION_TYPE_SET_TP_DST,
        RTE_FLOW_ACTION_TYPE_DEC_TTL,
        RTE_FLOW_ACTION_TYPE_MODIFY_FIELD,
    };
    memset(caps, 0, sizeof *caps);
    snprintf(caps->device, sizeof caps->device, "mlx5:%.26s", rf->pci);
    for (size_t i = 0; i < ARRAY_SIZE(items); i++) {
        esw_caps_bit_set(caps->items, items[i]);
    }
    for (size_t i = 0; i < ARRAY_SIZE(actions); i++) {
        esw_caps_bit_set(caps->actions, actions[i]);
    }
    /* The PMD does not publish table sizes: these are the ones ovnic plans for. */
    caps->max_groups = 64;
    caps->max_priorities = 16;
    caps->max_rules_per_group = 1u << 20;
    caps->max_rules = 1u << 20;
    caps->max_items = ESW_RTE_FLOW_MAX_ELEMS - 2;
    caps->max_actions = ESW_RTE_FLOW_MAX_ELEMS - 1;
    caps->max_encap_size = 128;
    caps->geneve_opt = true;
    caps->geneve_opt_class = 0x0102;
    caps->geneve_opt_type = 0x80;
    caps->async_native = rf->native;
    /* Callers go through esw.c's queues, which feed rules_create_bulk. */
    caps->async_queues = esw->n_queues;
    caps->async_queue_size = esw->queue_size;
    return 0;
}

static int
rte_flow_port_list(struct esw *esw, struct esw_port *ports, size_t max,
                   struct esw_error *error)
{
    struct esw_rte_flow *rf = esw_rte_flow_cast(esw);
    struct rte_eth_dev_info proxy_info;
    if (rte_eth_dev_info_get(rf->cfg.proxy_port, &proxy_info)) {
        return esw_error_set(error, -EIO, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                             "cannot read the proxy port", NULL);
    }
    size_t n = 0;
    uint16_t port;
    RTE_ETH_FOREACH_DEV(port)
    {
        struct rte_eth_dev_info info;
        char name[RTE_ETH_NAME_MAX_LEN];
        if (rte_eth_dev_info_get(port, &info) ||
            info.switch_info.domain_id != proxy_info.switch_info.domain_id ||
            rte_eth_dev_get_name_by_port(port, name)) {
            continue;
        }
        if (n < max) {
            struct esw_port *p = &ports[n];
            memset(p, 0, sizeof *p);
            p->port_id = port;
            unsigned int pf = 0, vf = 0;
            const char *rep = strstr(name, "representor_");
            const char *tail = rep ? rep + strlen("representor_") : NULL;
            if (tail && tail[0] == 'c') {
                tail = strchr(tail, 'p');
            }
            if (tail && sscanf(tail, "pf%uvf%u", &pf, &vf) == 2) {
                p->kind = ESW_PORT_VF;
                snprintf(p->name, sizeof p->name, "pf%uvf%u", pf, vf);
            } else if (tail && strstr(tail, "hpf")) {
                p->kind = ESW_PORT_PF;
                sscanf(tail, "pf%u", &pf);
                snprintf(p->name, sizeof p->name, "pf%uhpf", pf);
            } else {
                p->kind = ESW_PORT_UPLINK;
                snprintf(p->name, sizeof p->name, "p%u", pf);
            }
            p->pf = (uint16_t)pf;
            p->vf = (uint16_t)vf;
        }
        n++;
    }
    return (int)n;
}

static int
from_flow_error(struct esw_error *error, const struct rte_flow_error *ferr, int code,
                const char *what)
{
    return esw_error_set(error, code < 0 ? code : -EIO, ferr->type, -1, what, "%s",
                         ferr->message ? ferr->message : "");
}

/* ---------------------------------------------------------------------------------- */
/* Template/async API. */

static void
shape_free(struct esw_rte_flow *rf, struct rf_shape *shape)
{
    struct rte_flow_error ferr;
    /* A table that still holds rules stays in the device until the port closes. */
    if (shape->table) {
        memset(&ferr, 0, sizeof ferr);
        rte_flow_template_table_destroy(rf->cfg.proxy_port, shape->table, &ferr);
    }
    if (shape->at) {
        memset(&ferr, 0, sizeof ferr);
        rte_flow_actions_template_destroy(rf->cfg.proxy_port, shape->at, &ferr);
    }
    if (shape->pt) {
        memset(&ferr, 0, sizeof ferr);
        rte_flow_pattern_template_destroy(rf->cfg.proxy_port, shape->pt, &ferr);
    }
    free(shape->key);
    free(shape);
}

/* Logs the template commands of 't' that the device refused, as testpmd commands. */
static void
log_template_refused(struct esw_rte_flow *rf, const struct esw_rte_flow_template *t,
                     uint32_t id, const char *what, const struct rte_flow_error *ferr)
{
    static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(20, 20);
    char text[4096];
    esw_rte_flow_template_format(NULL, t, rf->cfg.proxy_port, id, text, sizeof text);
    OLOG_WARN_RL(&rl, "the device refused the %s (%s):\n%s", what,
                 ferr->message ? ferr->message : "no message", text);
}

/* Finds or creates the template table of the shape of 'dev' (sized 'nb_flows' when it
 * is created) and stores it in '*shapep'. */
static int
shape_get(struct esw_rte_flow *rf, const struct esw_rte_flow_rule *dev, uint32_t nb_flows,
          struct rf_shape **shapep, struct esw_error *error)
{
    struct esw_rte_flow_template *t = malloc(sizeof *t);
    uint8_t *key = NULL;
    struct rf_shape *shape = NULL;
    int retval;
    if (!t) {
        goto err_nomem;
    }
    retval = esw_rte_flow_template_build(dev, nb_flows, t, error);
    if (retval) {
        goto err_free;
    }
    size_t len = esw_rte_flow_template_key(t, NULL, 0);
    key = malloc(len);
    if (!key) {
        goto err_nomem;
    }
    esw_rte_flow_template_key(t, key, len);
    uint32_t hash = hash_bytes(key, len, 0);
    struct rf_shape *s;
    HMAP_FOR_EACH_WITH_HASH (s, node, hash, &rf->shapes) {
        if (s->key_len == len && !memcmp(s->key, key, len)) {
            free(key);
            free(t);
            *shapep = s;
            return 0;
        }
    }

    shape = calloc(1, sizeof *shape);
    if (!shape) {
        goto err_nomem;
    }
    shape->key = key;
    shape->key_len = len;
    key = NULL;
    shape->id = rf->next_id++;
    struct rte_flow_error ferr;
    memset(&ferr, 0, sizeof ferr);
    shape->pt = rte_flow_pattern_template_create(rf->cfg.proxy_port, &t->pt_attr,
                                                 t->items, &ferr);
    if (!shape->pt) {
        log_template_refused(rf, t, shape->id, "pattern template", &ferr);
        retval = from_flow_error(error, &ferr, -rte_errno,
                                 "the device refused the pattern template");
        goto err_free;
    }
    memset(&ferr, 0, sizeof ferr);
    shape->at = rte_flow_actions_template_create(rf->cfg.proxy_port, &t->at_attr,
                                                 t->actions, t->masks, &ferr);
    if (!shape->at) {
        log_template_refused(rf, t, shape->id, "actions template", &ferr);
        retval = from_flow_error(error, &ferr, -rte_errno,
                                 "the device refused the actions template");
        goto err_free;
    }
    memset(&ferr, 0, sizeof ferr);
    shape->table = rte_flow_template_table_create(rf->cfg.proxy_port, &t->table_attr,
                                                  &shape->pt, 1, &shape->at, 1, &ferr);
    if (!shape->table) {
        log_template_refused(rf, t, shape->id, "template table", &ferr);
        retval = from_flow_error(error, &ferr, -rte_errno,
                                 "the device refused the template table");
        goto err_free;
    }
    OLOG_DBG("template table %" PRIu32 ": group %" PRIu32 " priority %" PRIu32
             ", %" PRIu32 " rules",
             shape->id, t->table_attr.flow_attr.group, t->table_attr.flow_attr.priority,
             t->table_attr.nb_flows);
    hmap_insert(&rf->shapes, &shape->node, hash);
    free(t);
    *shapep = shape;
    return 0;

err_nomem:
    retval = esw_error_set(error, -ENOMEM, RTE_FLOW_ERROR_TYPE_HANDLE, -1,
                           "out of memory", NULL);
err_free:
    if (shape) {
        shape_free(rf, shape);
    }
    free(key);
    free(t);
    return retval;
}

/* Pushes what is enqueued on the queue. */
static int
native_push(struct esw_rte_flow *rf, struct esw_error *error)
{
    if (!rf->unpushed) {
        return 0;
    }
    struct rte_flow_error ferr;
    memset(&ferr, 0, sizeof ferr);
    int r = rte_flow_push(rf->cfg.proxy_port, RF_QUEUE, &ferr);
    if (r) {
        return from_flow_error(error, &ferr, r, "cannot push the queue");
    }
    rf->unpushed = 0;
    return 0;
}

/* Pushes, then pulls until every operation in flight has completed.  An operation
 * whose user data is 'k' + 1 stores its status in 'status[k]' (k < 'n'). */
static int
native_drain(struct esw_rte_flow *rf, int status[], size_t n, struct esw_error *error)
{
    int retval = native_push(rf, error);
    if (retval) {
        return retval;
    }
    uint64_t deadline = time_msec() + RF_DRAIN_MS;
    unsigned int idle = 0;
    while (rf->inflight) {
        struct rte_flow_op_result res[64];
        struct rte_flow_error ferr;
        memset(&ferr, 0, sizeof ferr);
        int got =
            rte_flow_pull(rf->cfg.proxy_port, RF_QUEUE, res, ARRAY_SIZE(res), &ferr);
        if (got < 0) {
            return from_flow_error(error, &ferr, got, "cannot pull completions");
        }
        if (!got) {
            if (++idle % 1024 == 0 && time_msec() > deadline) {
                return esw_error_set(error, -ETIMEDOUT, RTE_FLOW_ERROR_TYPE_UNSPECIFIED,
                                     -1, "the device did not complete the operations",
                                     "%" PRIu32 " in flight", rf->inflight);
            }
            continue;
        }
        for (int i = 0; i < got; i++) {
            rf->inflight--;
            uintptr_t k = (uintptr_t)res[i].user_data;
            if (k && k <= n && status) {
                status[k - 1] = res[i].status == RTE_FLOW_OP_SUCCESS ? 0 : -EIO;
            }
        }
    }
    return 0;
}

/* Translates 'rule', finds its table and enqueues its creation (postponed) with user
 * data 'k' + 1.  The flow goes to 'rule->priv' once enqueued. */
static int
native_enqueue_create(struct esw_rte_flow *rf, struct esw_rule *rule,
                      const struct rte_flow_attr *attr,
                      const struct rte_flow_item items[],
                      const struct rte_flow_action actions[], size_t k,
                      struct esw_error *error)
{
    struct esw_rte_flow_rule *dev = &rf->scratch;
    int retval = esw_rte_flow_translate(&rf->cfg, attr, items, actions, rule, dev, error);
    if (retval) {
        return retval;
    }
    struct rf_shape *shape = NULL;
    uint32_t nb_flows = rule->table ? rule->table->attr.nb_flows : 0;
    retval = shape_get(rf, dev, nb_flows, &shape, error);
    if (retval) {
        return retval;
    }
    if (rf->unpushed >= RF_PUSH_EVERY) {
        retval = native_push(rf, error);
        if (retval) {
            return retval;
        }
    }
    struct rte_flow_op_attr op = {.postpone = 1};
    struct rte_flow_error ferr;
    memset(&ferr, 0, sizeof ferr);
    struct rte_flow *flow =
        rte_flow_async_create(rf->cfg.proxy_port, RF_QUEUE, &op, shape->table, dev->items,
                              0, dev->actions, 0, (void *)(uintptr_t)(k + 1), &ferr);
    if (!flow) {
        static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(20, 20);
        char text[4096];
        esw_rte_flow_queue_format(dev, rf->cfg.proxy_port, RF_QUEUE, shape->id, true,
                                  text, sizeof text);
        OLOG_WARN_RL(&rl, "the device refused the rule (%s):\n%s",
                     ferr.message ? ferr.message : "no message", text);
        return from_flow_error(error, &ferr, -rte_errno, "the device refused the rule");
    }
    rule->priv = (uint64_t)(uintptr_t)flow;
    rf->inflight++;
    rf->unpushed++;
    return 0;
}

/* Creates 'n' rules through the queue: statuses and error types in 'status' and
 * 'types'.  Returns 0, or a negative errno when the queue itself failed (every rule
 * whose completion did not arrive then fails with it). */
static int
native_create_bulk(struct esw_rte_flow *rf, struct esw_rule *rules[],
                   const struct rte_flow_attr *attrs[],
                   const struct rte_flow_item *items[],
                   const struct rte_flow_action *actions[], size_t n, int status[],
                   enum rte_flow_error_type types[], struct esw_error *error)
{
    enum { PENDING = 1 };
    int retval = 0;
    for (size_t k = 0; k < n; k++) {
        struct esw_error rerr;
        esw_error_clear(&rerr);
        if (rf->inflight >= rf->pcfg.queue_attr.size) {
            retval = native_drain(rf, status, n, error);
            if (retval) {
                break;
            }
        }
        status[k] =
            native_enqueue_create(rf, rules[k], attrs[k], items[k], actions[k], k, &rerr);
        types[k] = status[k] ? rerr.type : RTE_FLOW_ERROR_TYPE_NONE;
        if (!status[k]) {
            status[k] = PENDING;
        }
    }
    if (!retval) {
        retval = native_drain(rf, status, n, error);
    }
    for (size_t k = 0; k < n; k++) {
        if (status[k] == PENDING) {
            /* Never completed: the queue failed. */
            status[k] = retval ? retval : -EIO;
            types[k] = RTE_FLOW_ERROR_TYPE_UNSPECIFIED;
        } else if (status[k] == -EIO && !types[k]) {
            types[k] = RTE_FLOW_ERROR_TYPE_HANDLE;
        }
    }
    return 0;
}

/* Enqueues the destruction of 'flow' (postponed). */
static int
native_enqueue_destroy(struct esw_rte_flow *rf, struct rte_flow *flow, size_t k,
                       struct esw_error *error)
{
    if (rf->inflight >= rf->pcfg.queue_attr.size) {
        int retval = native_drain(rf, NULL, 0, error);
        if (retval) {
            return retval;
        }
    } else if (rf->unpushed >= RF_PUSH_EVERY) {
        int retval = native_push(rf, error);
        if (retval) {
            return retval;
        }
    }
    struct rte_flow_op_attr op = {.postpone = 1};
    struct rte_flow_error ferr;
    memset(&ferr, 0, sizeof ferr);
    int r = rte_flow_async_destroy(rf->cfg.proxy_port, RF_QUEUE, &op, flow,
                                   (void *)(uintptr_t)(k + 1), &ferr);
    if (r) {
        return from_flow_error(error, &ferr, r, "cannot destroy the rule");
    }
    rf->inflight++;
    rf->unpushed++;
    return 0;
}

/* Chooses the insertion path of 'rf': the template/async API if the device reports
 * queues and accepts the configuration, rte_flow_create() otherwise. */
static void
native_probe(struct esw_rte_flow *rf)
{
    struct rte_flow_port_info pinfo;
    struct rte_flow_queue_info qinfo;
    struct rte_flow_error ferr;
    memset(&pinfo, 0, sizeof pinfo);
    memset(&qinfo, 0, sizeof qinfo);
    memset(&ferr, 0, sizeof ferr);
    int r = rte_flow_info_get(rf->cfg.proxy_port, &pinfo, &qinfo, &ferr);
    if (r || !pinfo.max_nb_queues) {
        OLOG_INFO("port %u: rule insertion through rte_flow_create() (template/async "
                  "API: %s)",
                  rf->cfg.proxy_port,
                  r ? (ferr.message ? ferr.message : rte_strerror(-r))
                    : "the device reports no queues");
        return;
    }
    esw_rte_flow_port_cfg_choose(&pinfo, &qinfo, RF_MAX_RULES, &rf->pcfg);
    const struct rte_flow_queue_attr *qattr[] = {&rf->pcfg.queue_attr};
    memset(&ferr, 0, sizeof ferr);
    r = rte_flow_configure(rf->cfg.proxy_port, &rf->pcfg.port_attr, rf->pcfg.nb_queues,
                           qattr, &ferr);
    if (r) {
        OLOG_INFO("port %u: rule insertion through rte_flow_create() (rte_flow_configure "
                  "refused %u queue of %" PRIu32 ": %s)",
                  rf->cfg.proxy_port, rf->pcfg.nb_queues, rf->pcfg.queue_attr.size,
                  ferr.message ? ferr.message : rte_strerror(-r));
        return;
    }
    rf->native = true;
    OLOG_INFO("port %u: rule insertion through the template/async API (%u queue of "
              "%" PRIu32 ", %" PRIu32 " counters, %" PRIu32 " aging objects)",
              rf->cfg.proxy_port, rf->pcfg.nb_queues, rf->pcfg.queue_attr.size,
              rf->pcfg.port_attr.nb_counters, rf->pcfg.port_attr.nb_aging_objects);
}

static int
rte_flow_rule_validate(struct esw *esw, const struct rte_flow_attr *attr,
                       const struct rte_flow_item items[],
                       const struct rte_flow_action actions[], struct esw_error *error)
{
    struct esw_rte_flow *rf = esw_rte_flow_cast(esw);
    struct esw_rte_flow_rule *dev = malloc(sizeof *dev);
    if (!dev) {
        return esw_error_set(error, -ENOMEM, RTE_FLOW_ERROR_TYPE_HANDLE, -1,
                             "out of memory", NULL);
    }
    int retval = esw_rte_flow_translate(&rf->cfg, attr, items, actions, NULL, dev, error);
    if (!retval) {
        struct rte_flow_error ferr;
        memset(&ferr, 0, sizeof ferr);
        retval = rte_flow_validate(rf->cfg.proxy_port, &dev->attr, dev->items,
                                   dev->actions, &ferr);
        if (retval) {
            retval = from_flow_error(error, &ferr, retval, "the device refused the rule");
        }
    }
    free(dev);
    return retval;
}

static int
rte_flow_rule_create(struct esw *esw, struct esw_rule *rule,
                     const struct rte_flow_attr *attr, const struct rte_flow_item items[],
                     const struct rte_flow_action actions[], struct esw_error *error)
{
    struct esw_rte_flow *rf = esw_rte_flow_cast(esw);
    if (rf->native) {
        int status;
        enum rte_flow_error_type type;
        struct esw_error qerr;
        esw_error_clear(&qerr);
        native_create_bulk(rf, &rule, &attr, &items, &actions, 1, &status, &type, &qerr);
        if (status && qerr.err.code) {
            *error = qerr;
        } else if (status) {
            esw_error_set(error, status, type, -1, "the device refused the rule", NULL);
        }
        return status;
    }
    struct esw_rte_flow_rule *dev = malloc(sizeof *dev);
    if (!dev) {
        return esw_error_set(error, -ENOMEM, RTE_FLOW_ERROR_TYPE_HANDLE, -1,
                             "out of memory", NULL);
    }
    int retval = esw_rte_flow_translate(&rf->cfg, attr, items, actions, rule, dev, error);
    if (!retval) {
        struct rte_flow_error ferr;
        memset(&ferr, 0, sizeof ferr);
        struct rte_flow *flow = rte_flow_create(rf->cfg.proxy_port, &dev->attr,
                                                dev->items, dev->actions, &ferr);
        if (flow) {
            rule->priv = (uint64_t)(uintptr_t)flow;
        } else {
            retval =
                from_flow_error(error, &ferr, -rte_errno, "the device refused the rule");
        }
    }
    free(dev);
    return retval;
}

static int
rte_flow_rule_destroy(struct esw *esw, struct esw_rule *rule, struct esw_error *error)
{
    struct esw_rte_flow *rf = esw_rte_flow_cast(esw);
    struct rte_flow *flow = (struct rte_flow *)(uintptr_t)rule->priv;
    if (rf->native) {
        int status = -EIO;
        int retval = native_enqueue_destroy(rf, flow, 0, error);
        if (!retval) {
            retval = native_drain(rf, &status, 1, error);
        }
        if (!retval && status) {
            retval = esw_error_set(error, status, RTE_FLOW_ERROR_TYPE_HANDLE, -1,
                                   "the device failed to destroy the rule", NULL);
        }
        return retval;
    }
    struct rte_flow_error ferr;
    memset(&ferr, 0, sizeof ferr);
    int r = rte_flow_destroy(rf->cfg.proxy_port, flow, &ferr);
    return r ? from_flow_error(error, &ferr, r, "cannot destroy the rule") : 0;
}

static int
rte_flow_rule_query(struct esw *esw, struct esw_rule *rule, bool reset,
                    struct esw_rule_stats *stats, struct esw_error *error)
{
    struct esw_rte_flow *rf = esw_rte_flow_cast(esw);
    struct rte_flow *flow = (struct rte_flow *)(uintptr_t)rule->priv;
    struct rte_flow_query_count count = {.reset = reset};
    struct rte_flow_action qcount[] = {{.type = RTE_FLOW_ACTION_TYPE_COUNT},
                                       {.type = RTE_FLOW_ACTION_TYPE_END}};
    struct rte_flow_error ferr;
    memset(&ferr, 0, sizeof ferr);
    if (!rte_flow_query(rf->cfg.proxy_port, flow, qcount, &count, &ferr)) {
        stats->has_count = true;
        stats->packets = count.hits_set ? count.hits : 0;
        stats->bytes = count.bytes_set ? count.bytes : 0;
    }
    struct rte_flow_query_age age;
    memset(&age, 0, sizeof age);
    struct rte_flow_action qage[] = {{.type = RTE_FLOW_ACTION_TYPE_AGE},
                                     {.type = RTE_FLOW_ACTION_TYPE_END}};
    memset(&ferr, 0, sizeof ferr);
    if (!rte_flow_query(rf->cfg.proxy_port, flow, qage, &age, &ferr)) {
        stats->has_age = true;
        stats->aged = age.aged;
        stats->idle_sec = age.sec_since_last_hit_valid ? age.sec_since_last_hit : 0;
    }
    return 0;
}

static int
rte_flow_aged_get(struct esw *esw, struct esw_rule **rules, size_t max,
                  struct esw_error *error)
{
    struct esw_rte_flow *rf = esw_rte_flow_cast(esw);
    if (!max) {
        return 0;
    }
    void **contexts = calloc(max, sizeof *contexts);
    if (!contexts) {
        return esw_error_set(error, -ENOMEM, RTE_FLOW_ERROR_TYPE_HANDLE, -1,
                             "out of memory", NULL);
    }
    struct rte_flow_error ferr;
    memset(&ferr, 0, sizeof ferr);
    int n = rte_flow_get_aged_flows(rf->cfg.proxy_port, contexts,
                                    (uint32_t)MIN(max, UINT32_MAX), &ferr);
    int retval;
    if (n < 0) {
        retval = from_flow_error(error, &ferr, n, "cannot read aged rules");
    } else {
        /* Contexts are the handles given at creation; keep the ones still alive. */
        retval = 0;
        for (int i = 0; i < n; i++) {
            struct esw_rule *rule;
            HMAP_FOR_EACH (rule, priv_node, &esw->rules_by_priv) {
                if (rule == contexts[i]) {
                    rules[retval++] = rule;
                    break;
                }
            }
        }
    }
    free(contexts);
    return retval;
}

static int
rte_flow_flush_(struct esw *esw, struct esw_error *error)
{
    struct esw_rte_flow *rf = esw_rte_flow_cast(esw);
    struct rte_flow_error ferr;
    if (rf->native) {
        /* Rules of template tables go through the queue, the others (a previous
         * instance's) through rte_flow_flush(). */
        struct esw_rule *rule;
        HMAP_FOR_EACH (rule, priv_node, &esw->rules_by_priv) {
            int retval = native_enqueue_destroy(
                rf, (struct rte_flow *)(uintptr_t)rule->priv, 0, error);
            if (retval) {
                return retval;
            }
        }
        int retval = native_drain(rf, NULL, 0, error);
        if (retval) {
            return retval;
        }
        memset(&ferr, 0, sizeof ferr);
        int r = rte_flow_flush(rf->cfg.proxy_port, &ferr);
        return r && r != -ENOTSUP
                   ? from_flow_error(error, &ferr, r, "cannot flush the rules")
                   : 0;
    }
    memset(&ferr, 0, sizeof ferr);
    int r = rte_flow_flush(rf->cfg.proxy_port, &ferr);
    return r ? from_flow_error(error, &ferr, r, "cannot flush the rules") : 0;
}

/* The bulk insertion of esw_push(): enqueued on the device's queue when 'native',
 * one rte_flow_create() each otherwise. */
static int
rte_flow_rules_create_bulk(struct esw *esw, struct esw_rule *rules[],
                           const struct rte_flow_attr *attrs[],
                           const struct rte_flow_item *items[],
                           const struct rte_flow_action *actions[], size_t n,
                           int status[], enum rte_flow_error_type types[],
                           struct esw_error *error)
{
    struct esw_rte_flow *rf = esw_rte_flow_cast(esw);
    if (rf->native) {
        return native_create_bulk(rf, rules, attrs, items, actions, n, status, types,
                                  error);
    }
    for (size_t k = 0; k < n; k++) {
        static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(20, 20);
        struct esw_error rerr;
        esw_error_clear(&rerr);
        status[k] =
            rte_flow_rule_create(esw, rules[k], attrs[k], items[k], actions[k], &rerr);
        types[k] = status[k] ? rerr.type : RTE_FLOW_ERROR_TYPE_NONE;
        if (status[k]) {
            char text[4096];
            esw_rule_format(attrs[k], items[k], actions[k], rf->cfg.proxy_port, text,
                            sizeof text);
            OLOG_WARN_RL(&rl, "the device refused the rule (%s):\n%s",
                         rerr.err.message ? rerr.err.message : "no message", text);
        }
    }
    return 0;
}

const struct esw_class esw_rte_flow_class = {
    .name = "rte_flow",
    .open = rte_flow_open,
    .close = rte_flow_close,
    .caps_get = rte_flow_caps_get,
    .port_list = rte_flow_port_list,
    .rule_validate = rte_flow_rule_validate,
    .rule_create = rte_flow_rule_create,
    .rule_destroy = rte_flow_rule_destroy,
    .rule_query = rte_flow_rule_query,
    .aged_get = rte_flow_aged_get,
    .flush = rte_flow_flush_,
    .rules_create_bulk = rte_flow_rules_create_bulk,
};
