/* ovnic: byte format for eSwitch rules (see esw_wire.h). */
#include "offload/esw_wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/util/log.h"

OVNIC_LOG_MODULE(esw_wire);

/* ---------------------------------------------------------------------------------- */
/* Output buffer. */

struct wbuf {
    uint8_t *data;
    size_t len;
    size_t cap;
    bool nomem;
};

static uint8_t *
wbuf_put(struct wbuf *b, size_t n)
{
    if (b->nomem) {
        return NULL;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) {
            cap *= 2;
        }
        uint8_t *data = realloc(b->data, cap);
        if (!data) {
            b->nomem = true;
            return NULL;
        }
        b->data = data;
        b->cap = cap;
    }
    uint8_t *p = b->data + b->len;
    memset(p, 0, n);
    b->len += n;
    return p;
}

static void
wbuf_bytes(struct wbuf *b, const void *p, size_t n)
{
    uint8_t *dst = wbuf_put(b, n);
    if (dst && n) {
        memcpy(dst, p, n);
    }
}

static void
wbuf_u8(struct wbuf *b, uint8_t v)
{
    wbuf_bytes(b, &v, 1);
}

static void
wbuf_u16(struct wbuf *b, uint16_t v)
{
    uint8_t x[2] = {v >> 8, v};
    wbuf_bytes(b, x, 2);
}

static void
wbuf_u32(struct wbuf *b, uint32_t v)
{
    uint8_t x[4] = {v >> 24, v >> 16, v >> 8, v};
    wbuf_bytes(b, x, 4);
}

static void
put_be16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

static uint16_t
get_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
get_be64(const uint8_t *p)
{
    return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static void
put_be64(uint8_t *p, uint64_t v)
{
    put_be32(p, v >> 32);
    put_be32(p + 4, v);
}

/* ---------------------------------------------------------------------------------- */
/* Input cursor. */

struct rbuf {
    const uint8_t *p;
    size_t left;
};

static const uint8_t *
rbuf_get(struct rbuf *r, size_t n)
{
    if (r->left < n) {
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

/* ---------------------------------------------------------------------------------- */
/* Decoded rule storage. */

static void *
rule_alloc(struct esw_wire_rule *rule, size_t n)
{
    if (rule->n_allocs__ == rule->allocated__) {
        size_t cap = rule->allocated__ ? rule->allocated__ * 2 : 16;
        void **allocs = realloc(rule->allocs__, cap * sizeof *allocs);
        if (!allocs) {
            return NULL;
        }
        rule->allocs__ = allocs;
        rule->allocated__ = cap;
    }
    void *p = calloc(1, n ? n : 1);
    if (p) {
        rule->allocs__[rule->n_allocs__++] = p;
    }
    return p;
}

void
esw_wire_rule_destroy(struct esw_wire_rule *rule)
{
    if (!rule) {
        return;
    }
    for (size_t i = 0; i < rule->n_allocs__; i++) {
        free(rule->allocs__[i]);
    }
    free(rule->allocs__);
    free(rule->items);
    free(rule->actions);
    free(rule->masks);
    free(rule);
}

/* ---------------------------------------------------------------------------------- */
/* Items. */

bool
esw_wire_item_is_supported(int type)
{
    switch (type) {
    case RTE_FLOW_ITEM_TYPE_VOID:
    case RTE_FLOW_ITEM_TYPE_ETH:
    case RTE_FLOW_ITEM_TYPE_VLAN:
    case RTE_FLOW_ITEM_TYPE_IPV4:
    case RTE_FLOW_ITEM_TYPE_IPV6:
    case RTE_FLOW_ITEM_TYPE_UDP:
    case RTE_FLOW_ITEM_TYPE_TCP:
    case RTE_FLOW_ITEM_TYPE_ICMP:
    case RTE_FLOW_ITEM_TYPE_GENEVE:
    case RTE_FLOW_ITEM_TYPE_GENEVE_OPT:
    case RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT:
    case RTE_FLOW_ITEM_TYPE_PORT_REPRESENTOR:
    case RTE_FLOW_ITEM_TYPE_CONNTRACK:
        return true;
    default:
        return false;
    }
}

/* Bytes of the raw header that an item of 'type' carries, or 0 for items with their
 * own layout. */
static size_t
item_raw_size(int type)
{
    switch (type) {
    case RTE_FLOW_ITEM_TYPE_IPV4:
        return sizeof(struct rte_ipv4_hdr);
    case RTE_FLOW_ITEM_TYPE_UDP:
        return sizeof(struct rte_udp_hdr);
    case RTE_FLOW_ITEM_TYPE_TCP:
        return sizeof(struct rte_tcp_hdr);
    case RTE_FLOW_ITEM_TYPE_ICMP:
        return sizeof(struct rte_icmp_hdr);
    case RTE_FLOW_ITEM_TYPE_GENEVE:
        return sizeof(struct rte_flow_item_geneve);
    default:
        return 0;
    }
}

_Static_assert(sizeof(struct rte_ipv4_hdr) == 20, "ipv4 header");
_Static_assert(sizeof(struct rte_udp_hdr) == 8, "udp header");
_Static_assert(sizeof(struct rte_tcp_hdr) == 20, "tcp header");
_Static_assert(sizeof(struct rte_icmp_hdr) == 8, "icmp header");
_Static_assert(sizeof(struct rte_flow_item_geneve) == 8, "geneve header");
_Static_assert(sizeof(struct rte_ipv6_hdr) == 40, "ipv6 header");

static uint32_t
ipv6_ext_bits(const struct rte_flow_item_ipv6 *ip6)
{
    return ip6->has_hop_ext | ip6->has_route_ext << 1 | ip6->has_frag_ext << 2 |
           ip6->has_auth_ext << 3 | ip6->has_esp_ext << 4 | ip6->has_dest_ext << 5 |
           ip6->has_mobil_ext << 6 | ip6->has_hip_ext << 7 | ip6->has_shim6_ext << 8;
}

/* Appends the blob of one item spec/last/mask 'p' of 'type'.  'data_words' is the
 * length of GENEVE_OPT data: the spec's option_len, also for its mask (whose
 * option_len is a mask, not a length). */
static int
item_blob_encode(int type, const void *p, unsigned int data_words, int index,
                 struct wbuf *b, struct esw_error *error)
{
    size_t start = b->len;
    if (!wbuf_put(b, 2)) {
        return -ENOMEM;
    }
    size_t raw = item_raw_size(type);
    if (raw) {
        wbuf_bytes(b, p, raw);
    } else {
        switch (type) {
        case RTE_FLOW_ITEM_TYPE_ETH: {
            const struct rte_flow_item_eth *eth = p;
            wbuf_bytes(b, &eth->hdr, sizeof eth->hdr);
            wbuf_u8(b, eth->has_vlan);
            break;
        }
        case RTE_FLOW_ITEM_TYPE_VLAN: {
            const struct rte_flow_item_vlan *vlan = p;
            wbuf_bytes(b, &vlan->hdr, sizeof vlan->hdr);
            wbuf_u8(b, vlan->has_more_vlan);
            break;
        }
        case RTE_FLOW_ITEM_TYPE_IPV6: {
            const struct rte_flow_item_ipv6 *ip6 = p;
            wbuf_bytes(b, &ip6->hdr, sizeof ip6->hdr);
            wbuf_u32(b, ipv6_ext_bits(ip6));
            break;
        }
        case RTE_FLOW_ITEM_TYPE_GENEVE_OPT: {
            const struct rte_flow_item_geneve_opt *opt = p;
            if (opt->option_len > 31 || data_words > 31) {
                return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ITEM_SPEC, index,
                                     "Geneve option length over 31 words", "%u",
                                     opt->option_len);
            }
            wbuf_bytes(b, &opt->option_class, 2);
            wbuf_u8(b, opt->option_type);
            wbuf_u8(b, opt->option_len);
            wbuf_u8(b, opt->data != NULL);
            wbuf_u8(b, opt->data ? data_words : 0);
            if (opt->data) {
                wbuf_bytes(b, opt->data, data_words * 4u);
            }
            break;
        }
        case RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT:
        case RTE_FLOW_ITEM_TYPE_PORT_REPRESENTOR: {
            const struct rte_flow_item_ethdev *dev = p;
            wbuf_u16(b, dev->port_id);
            break;
        }
        case RTE_FLOW_ITEM_TYPE_CONNTRACK: {
            const struct rte_flow_item_conntrack *ct = p;
            wbuf_u32(b, ct->flags);
            break;
        }
        default:
            return esw_error_set(error, -ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM, index,
                                 "not supported: item type in the wire format", "%d",
                                 type);
        }
    }
    if (b->nomem) {
        return -ENOMEM;
    }
    put_be16(b->data + start, (uint16_t)(b->len - start - 2));
    return 0;
}

/* Decodes one item blob of 'type' from 'p' ('n' bytes) into a new allocation. */
static int
item_blob_decode(struct esw_wire_rule *rule, int type, const uint8_t *p, size_t n,
                 int index, const void **outp, struct esw_error *error)
{
    size_t raw = item_raw_size(type);
    void *out = NULL;
    if (raw) {
        if (n != raw) {
            goto bad_len;
        }
        out = rule_alloc(rule, raw);
        if (!out) {
            return -ENOMEM;
        }
        memcpy(out, p, raw);
        *outp = out;
        return 0;
    }
    switch (type) {
    case RTE_FLOW_ITEM_TYPE_ETH: {
        struct rte_flow_item_eth *eth;
        if (n != sizeof eth->hdr + 1 || p[sizeof eth->hdr] > 1) {
            goto bad_len;
        }
        eth = rule_alloc(rule, sizeof *eth);
        if (!eth) {
            return -ENOMEM;
        }
        memcpy(&eth->hdr, p, sizeof eth->hdr);
        eth->has_vlan = p[sizeof eth->hdr];
        out = eth;
        break;
    }
    case RTE_FLOW_ITEM_TYPE_VLAN: {
        struct rte_flow_item_vlan *vlan;
        if (n != sizeof vlan->hdr + 1 || p[sizeof vlan->hdr] > 1) {
            goto bad_len;
        }
        vlan = rule_alloc(rule, sizeof *vlan);
        if (!vlan) {
            return -ENOMEM;
        }
        memcpy(&vlan->hdr, p, sizeof vlan->hdr);
        vlan->has_more_vlan = p[sizeof vlan->hdr];
        out = vlan;
        break;
    }
    case RTE_FLOW_ITEM_TYPE_IPV6: {
        struct rte_flow_item_ipv6 *ip6;
        if (n != sizeof ip6->hdr + 4) {
            goto bad_len;
        }
        uint32_t bits = get_be32(p + sizeof ip6->hdr);
        if (bits >> 9) {
            goto bad_len;
        }
        ip6 = rule_alloc(rule, sizeof *ip6);
        if (!ip6) {
            return -ENOMEM;
        }
        memcpy(&ip6->hdr, p, sizeof ip6->hdr);
        ip6->has_hop_ext = bits & 1;
        ip6->has_route_ext = bits >> 1 & 1;
        ip6->has_frag_ext = bits >> 2 & 1;
        ip6->has_auth_ext = bits >> 3 & 1;
        ip6->has_esp_ext = bits >> 4 & 1;
        ip6->has_dest_ext = bits >> 5 & 1;
        ip6->has_mobil_ext = bits >> 6 & 1;
        ip6->has_hip_ext = bits >> 7 & 1;
        ip6->has_shim6_ext = bits >> 8 & 1;
        out = ip6;
        break;
    }
    case RTE_FLOW_ITEM_TYPE_GENEVE_OPT: {
        if (n < 6 || p[3] > 31 || p[4] > 1 || p[5] > 31 || (!p[4] && p[5]) ||
            n != 6u + p[5] * 4u) {
            goto bad_len;
        }
        struct rte_flow_item_geneve_opt *opt = rule_alloc(rule, sizeof *opt);
        if (!opt) {
            return -ENOMEM;
        }
        memcpy(&opt->option_class, p, 2);
        opt->option_type = p[2];
        opt->option_len = p[3];
        if (p[4]) {
            opt->data = rule_alloc(rule, p[5] * 4u);
            if (!opt->data) {
                return -ENOMEM;
            }
            memcpy(opt->data, p + 6, p[5] * 4u);
        }
        out = opt;
        break;
    }
    case RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT:
    case RTE_FLOW_ITEM_TYPE_PORT_REPRESENTOR: {
        if (n != 2) {
            goto bad_len;
        }
        struct rte_flow_item_ethdev *dev = rule_alloc(rule, sizeof *dev);
        if (!dev) {
            return -ENOMEM;
        }
        dev->port_id = get_be16(p);
        out = dev;
        break;
    }
    case RTE_FLOW_ITEM_TYPE_CONNTRACK: {
        if (n != 4) {
            goto bad_len;
        }
        struct rte_flow_item_conntrack *ct = rule_alloc(rule, sizeof *ct);
        if (!ct) {
            return -ENOMEM;
        }
        ct->flags = get_be32(p);
        out = ct;
        break;
    }
    default:
        goto bad_len;
    }
    *outp = out;
    return 0;

bad_len:
    return esw_error_set(error, -EBADMSG, RTE_FLOW_ERROR_TYPE_ITEM_SPEC, index,
                         "malformed item in rule encoding", "type %d, %zu bytes", type,
                         n);
}

/* ---------------------------------------------------------------------------------- */
/* Actions. */

bool
esw_wire_action_is_supported(int type)
{
    switch (type) {
    case RTE_FLOW_ACTION_TYPE_VOID:
    case RTE_FLOW_ACTION_TYPE_DROP:
    case RTE_FLOW_ACTION_TYPE_JUMP:
    case RTE_FLOW_ACTION_TYPE_COUNT:
    case RTE_FLOW_ACTION_TYPE_AGE:
    case RTE_FLOW_ACTION_TYPE_METER:
    case RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT:
    case RTE_FLOW_ACTION_TYPE_PORT_REPRESENTOR:
    case RTE_FLOW_ACTION_TYPE_RAW_ENCAP:
    case RTE_FLOW_ACTION_TYPE_RAW_DECAP:
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
    case RTE_FLOW_ACTION_TYPE_CONNTRACK:
        return true;
    default:
        return false;
    }
}

/* Actions whose conf is ignored (none is carried). */
static bool
action_has_no_conf(int type)
{
    return type == RTE_FLOW_ACTION_TYPE_VOID || type == RTE_FLOW_ACTION_TYPE_DROP ||
           type == RTE_FLOW_ACTION_TYPE_DEC_TTL;
}

/* Actions whose conf may be NULL (a default applies). */
static bool
action_conf_is_optional(int type)
{
    return type == RTE_FLOW_ACTION_TYPE_COUNT || type == RTE_FLOW_ACTION_TYPE_RAW_DECAP;
}

static void
modify_data_encode(const struct rte_flow_action_modify_data *d, struct wbuf *b)
{
    wbuf_u32(b, d->field);
    if (d->field == RTE_FLOW_FIELD_VALUE) {
        wbuf_bytes(b, d->value, 16);
    } else {
        wbuf_u32(b, d->level);
        wbuf_u32(b, d->offset);
        wbuf_put(b, 8);
    }
}

static void
tcp_dir_encode(const struct rte_flow_tcp_dir_param *d, struct wbuf *b)
{
    wbuf_u8(b, d->scale | d->close_initiated << 4 | d->last_ack_seen << 5 |
                   d->data_unacked << 6);
    wbuf_u32(b, d->sent_end);
    wbuf_u32(b, d->reply_end);
    wbuf_u32(b, d->max_win);
    wbuf_u32(b, d->max_ack);
}

static int
action_blob_encode(int type, const void *conf, int index, struct wbuf *b,
                   struct esw_error *error)
{
    size_t start = b->len;
    if (!wbuf_put(b, 2)) {
        return -ENOMEM;
    }
    switch (type) {
    case RTE_FLOW_ACTION_TYPE_JUMP:
        wbuf_u32(b, ((const struct rte_flow_action_jump *)conf)->group);
        break;
    case RTE_FLOW_ACTION_TYPE_COUNT:
        wbuf_u32(b, ((const struct rte_flow_action_count *)conf)->id);
        break;
    case RTE_FLOW_ACTION_TYPE_AGE:
        wbuf_u32(b, ((const struct rte_flow_action_age *)conf)->timeout);
        break;
    case RTE_FLOW_ACTION_TYPE_METER:
        wbuf_u32(b, ((const struct rte_flow_action_meter *)conf)->mtr_id);
        break;
    case RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT:
    case RTE_FLOW_ACTION_TYPE_PORT_REPRESENTOR:
        wbuf_u16(b, ((const struct rte_flow_action_ethdev *)conf)->port_id);
        break;
    case RTE_FLOW_ACTION_TYPE_RAW_ENCAP: {
        const struct rte_flow_action_raw_encap *enc = conf;
        if (!enc->data || !enc->size || enc->size > ESW_WIRE_MAX_RAW) {
            return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF, index,
                                 "RAW_ENCAP needs 1 to 512 bytes of data", "%zu",
                                 enc->size);
        }
        wbuf_u8(b, enc->preserve != NULL);
        wbuf_u16(b, enc->size);
        wbuf_bytes(b, enc->data, enc->size);
        if (enc->preserve) {
            wbuf_bytes(b, enc->preserve, enc->size);
        }
        break;
    }
    case RTE_FLOW_ACTION_TYPE_RAW_DECAP: {
        const struct rte_flow_action_raw_decap *dec = conf;
        if (dec->size > ESW_WIRE_MAX_RAW) {
            return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF, index,
                                 "RAW_DECAP data over 512 bytes", "%zu", dec->size);
        }
        wbuf_u8(b, dec->data != NULL);
        wbuf_u16(b, dec->size);
        if (dec->data) {
            wbuf_bytes(b, dec->data, dec->size);
        }
        break;
    }
    case RTE_FLOW_ACTION_TYPE_SET_MAC_SRC:
    case RTE_FLOW_ACTION_TYPE_SET_MAC_DST:
        wbuf_bytes(b, ((const struct rte_flow_action_set_mac *)conf)->mac_addr, 6);
        break;
    case RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC:
    case RTE_FLOW_ACTION_TYPE_SET_IPV4_DST:
        wbuf_bytes(b, &((const struct rte_flow_action_set_ipv4 *)conf)->ipv4_addr, 4);
        break;
    case RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC:
    case RTE_FLOW_ACTION_TYPE_SET_IPV6_DST:
        wbuf_bytes(b, ((const struct rte_flow_action_set_ipv6 *)conf)->ipv6_addr, 16);
        break;
    case RTE_FLOW_ACTION_TYPE_SET_TP_SRC:
    case RTE_FLOW_ACTION_TYPE_SET_TP_DST:
        wbuf_bytes(b, &((const struct rte_flow_action_set_tp *)conf)->port, 2);
        break;
    case RTE_FLOW_ACTION_TYPE_MODIFY_FIELD: {
        const struct rte_flow_action_modify_field *mf = conf;
        if (mf->dst.field == RTE_FLOW_FIELD_POINTER ||
            mf->src.field == RTE_FLOW_FIELD_POINTER) {
            return esw_error_set(error, -ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION_CONF, index,
                                 "not supported: MODIFY_FIELD from a POINTER; use VALUE",
                                 NULL);
        }
        wbuf_u32(b, mf->operation);
        modify_data_encode(&mf->dst, b);
        modify_data_encode(&mf->src, b);
        wbuf_u32(b, mf->width);
        break;
    }
    case RTE_FLOW_ACTION_TYPE_CONNTRACK: {
        const struct rte_flow_action_conntrack *ct = conf;
        wbuf_u16(b, ct->peer_port);
        wbuf_u8(b, ct->is_original_dir | ct->enable << 1 | ct->live_connection << 2 |
                       ct->selective_ack << 3 | ct->challenge_ack_passed << 4 |
                       ct->last_direction << 5 | ct->liberal_mode << 6);
        wbuf_u8(b, ct->state);
        wbuf_u8(b, ct->max_ack_window);
        wbuf_u8(b, ct->retransmission_limit);
        tcp_dir_encode(&ct->original_dir, b);
        tcp_dir_encode(&ct->reply_dir, b);
        wbuf_u16(b, ct->last_window);
        wbuf_u8(b, ct->last_index);
        wbuf_u32(b, ct->last_seq);
        wbuf_u32(b, ct->last_ack);
        wbuf_u32(b, ct->last_end);
        break;
    }
    default:
        return esw_error_set(error, -ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION, index,
                             "not supported: action type in the wire format", "%d", type);
    }
    if (b->nomem) {
        return -ENOMEM;
    }
    put_be16(b->data + start, (uint16_t)(b->len - start - 2));
    return 0;
}

#define MODIFY_DATA_SIZE 20
#define TCP_DIR_SIZE 17

static bool
modify_data_decode(const uint8_t *p, struct rte_flow_action_modify_data *d)
{
    uint32_t field = get_be32(p);
    if (field > RTE_FLOW_FIELD_METER_COLOR || field == RTE_FLOW_FIELD_POINTER) {
        return false;
    }
    d->field = field;
    if (field == RTE_FLOW_FIELD_VALUE) {
        memcpy(d->value, p + 4, 16);
    } else {
        static const uint8_t zero[8];
        if (memcmp(p + 12, zero, 8)) {
            return false;
        }
        d->level = get_be32(p + 4);
        d->offset = get_be32(p + 8);
    }
    return true;
}

static bool
tcp_dir_decode(const uint8_t *p, struct rte_flow_tcp_dir_param *d)
{
    if (p[0] & 0x80) {
        return false;
    }
    d->scale = p[0] & 0xf;
    d->close_initiated = p[0] >> 4 & 1;
    d->last_ack_seen = p[0] >> 5 & 1;
    d->data_unacked = p[0] >> 6 & 1;
    d->sent_end = get_be32(p + 1);
    d->reply_end = get_be32(p + 5);
    d->max_win = get_be32(p + 9);
    d->max_ack = get_be32(p + 13);
    return true;
}

static int
action_blob_decode(struct esw_wire_rule *rule, int type, const uint8_t *p, size_t n,
                   int index, const void **outp, struct esw_error *error)
{
    void *out = NULL;
#define ALLOC(VAR)                           \
    do {                                     \
        VAR = rule_alloc(rule, sizeof *VAR); \
        if (!VAR) {                          \
            return -ENOMEM;                  \
        }                                    \
    } while (0)

    switch (type) {
    case RTE_FLOW_ACTION_TYPE_JUMP: {
        struct rte_flow_action_jump *jump;
        if (n != 4) {
            goto bad;
        }
        ALLOC(jump);
        jump->group = get_be32(p);
        out = jump;
        break;
    }
    case RTE_FLOW_ACTION_TYPE_COUNT: {
        struct rte_flow_action_count *count;
        if (n != 4) {
            goto bad;
        }
        ALLOC(count);
        count->id = get_be32(p);
        out = count;
        break;
    }
    case RTE_FLOW_ACTION_TYPE_AGE: {
        struct rte_flow_action_age *age;
        if (n != 4 || get_be32(p) >> 24) {
            goto bad;
        }
        ALLOC(age);
        age->timeout = get_be32(p);
        out = age;
        break;
    }
    case RTE_FLOW_ACTION_TYPE_METER: {
        struct rte_flow_action_meter *meter;
        if (n != 4) {
            goto bad;
        }
        ALLOC(meter);
        meter->mtr_id = get_be32(p);
        out = meter;
        break;
    }
    case RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT:
    case RTE_FLOW_ACTION_TYPE_PORT_REPRESENTOR: {
        struct rte_flow_action_ethdev *dev;
        if (n != 2) {
            goto bad;
        }
        ALLOC(dev);
        dev->port_id = get_be16(p);
        out = dev;
        break;
    }
    case RTE_FLOW_ACTION_TYPE_RAW_ENCAP: {
        struct rte_flow_action_raw_encap *enc;
        if (n < 3 || p[0] > 1) {
            goto bad;
        }
        size_t size = get_be16(p + 1);
        if (!size || size > ESW_WIRE_MAX_RAW || n != 3 + size * (p[0] ? 2 : 1)) {
            goto bad;
        }
        ALLOC(enc);
        enc->size = size;
        enc->data = rule_alloc(rule, size);
        if (!enc->data) {
            return -ENOMEM;
        }
        memcpy(enc->data, p + 3, size);
        if (p[0]) {
            enc->preserve = rule_alloc(rule, size);
            if (!enc->preserve) {
                return -ENOMEM;
            }
            memcpy(enc->preserve, p + 3 + size, size);
        }
        out = enc;
        break;
    }
    case RTE_FLOW_ACTION_TYPE_RAW_DECAP: {
        struct rte_flow_action_raw_decap *dec;
        if (n < 3 || p[0] > 1) {
            goto bad;
        }
        size_t size = get_be16(p + 1);
        if (size > ESW_WIRE_MAX_RAW || n != 3 + (p[0] ? size : 0)) {
            goto bad;
        }
        ALLOC(dec);
        dec->size = size;
        if (p[0]) {
            dec->data = rule_alloc(rule, size);
            if (!dec->data) {
                return -ENOMEM;
            }
            memcpy(dec->data, p + 3, size);
        }
        out = dec;
        break;
    }
    case RTE_FLOW_ACTION_TYPE_SET_MAC_SRC:
    case RTE_FLOW_ACTION_TYPE_SET_MAC_DST: {
        struct rte_flow_action_set_mac *mac;
        if (n != 6) {
            goto bad;
        }
        ALLOC(mac);
        memcpy(mac->mac_addr, p, 6);
        out = mac;
        break;
    }
    case RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC:
    case RTE_FLOW_ACTION_TYPE_SET_IPV4_DST: {
        struct rte_flow_action_set_ipv4 *ip;
        if (n != 4) {
            goto bad;
        }
        ALLOC(ip);
        memcpy(&ip->ipv4_addr, p, 4);
        out = ip;
        break;
    }
    case RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC:
    case RTE_FLOW_ACTION_TYPE_SET_IPV6_DST: {
        struct rte_flow_action_set_ipv6 *ip6;
        if (n != 16) {
            goto bad;
        }
        ALLOC(ip6);
        memcpy(ip6->ipv6_addr, p, 16);
        out = ip6;
        break;
    }
    case RTE_FLOW_ACTION_TYPE_SET_TP_SRC:
    case RTE_FLOW_ACTION_TYPE_SET_TP_DST: {
        struct rte_flow_action_set_tp *tp;
        if (n != 2) {
            goto bad;
        }
        ALLOC(tp);
        memcpy(&tp->port, p, 2);
        out = tp;
        break;
    }
    case RTE_FLOW_ACTION_TYPE_MODIFY_FIELD: {
        struct rte_flow_action_modify_field *mf;
        if (n != 8 + 2 * MODIFY_DATA_SIZE) {
            goto bad;
        }
        ALLOC(mf);
        uint32_t op = get_be32(p);
        if (op > RTE_FLOW_MODIFY_SUB || !modify_data_decode(p + 4, &mf->dst) ||
            !modify_data_decode(p + 4 + MODIFY_DATA_SIZE, &mf->src)) {
            goto bad;
        }
        mf->operation = op;
        mf->width = get_be32(p + 4 + 2 * MODIFY_DATA_SIZE);
        out = mf;
        break;
    }
    case RTE_FLOW_ACTION_TYPE_CONNTRACK: {
        struct rte_flow_action_conntrack *ct;
        if (n != 6 + 2 * TCP_DIR_SIZE + 15 || p[2] & 0x80 ||
            p[3] > RTE_FLOW_CONNTRACK_STATE_TIME_WAIT) {
            goto bad;
        }
        const uint8_t *q = p + 6 + 2 * TCP_DIR_SIZE;
        if (q[2] > RTE_FLOW_CONNTRACK_FLAG_RST) {
            goto bad;
        }
        ALLOC(ct);
        ct->peer_port = get_be16(p);
        ct->is_original_dir = p[2] & 1;
        ct->enable = p[2] >> 1 & 1;
        ct->live_connection = p[2] >> 2 & 1;
        ct->selective_ack = p[2] >> 3 & 1;
        ct->challenge_ack_passed = p[2] >> 4 & 1;
        ct->last_direction = p[2] >> 5 & 1;
        ct->liberal_mode = p[2] >> 6 & 1;
        ct->state = p[3];
        ct->max_ack_window = p[4];
        ct->retransmission_limit = p[5];
        if (!tcp_dir_decode(p + 6, &ct->original_dir) ||
            !tcp_dir_decode(p + 6 + TCP_DIR_SIZE, &ct->reply_dir)) {
            goto bad;
        }
        ct->last_window = get_be16(q);
        ct->last_index = q[2];
        ct->last_seq = get_be32(q + 3);
        ct->last_ack = get_be32(q + 7);
        ct->last_end = get_be32(q + 11);
        out = ct;
        break;
    }
    default:
        goto bad;
    }
#undef ALLOC
    *outp = out;
    return 0;

bad:
    return esw_error_set(error, -EBADMSG, RTE_FLOW_ERROR_TYPE_ACTION_CONF, index,
                         "malformed action in rule encoding", "type %d, %zu bytes", type,
                         n);
}

/* ---------------------------------------------------------------------------------- */
/* Rules. */

static void
elem_begin(struct wbuf *b, int32_t type, uint8_t present, size_t *start)
{
    *start = b->len;
    uint8_t *p = wbuf_put(b, sizeof(struct esw_wire_elem));
    if (p) {
        put_be32(p, (uint32_t)type);
        p[4] = present;
    }
}

static int
elem_end(struct wbuf *b, size_t start)
{
    if (b->nomem) {
        return -ENOMEM;
    }
    size_t n = b->len - start - sizeof(struct esw_wire_elem);
    if (n > UINT16_MAX) {
        return -EMSGSIZE;
    }
    put_be16(b->data + start + 6, (uint16_t)n);
    return 0;
}

int
esw_wire_rule_encode(const struct rte_flow_attr *attr, const struct rte_flow_item items[],
                     const struct rte_flow_action actions[],
                     const struct rte_flow_action masks[], uint8_t **bufp, size_t *lenp,
                     struct esw_error *error)
{
    if (!attr || !items || !actions) {
        return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ATTR, -1,
                             "rule without attributes, items or actions", NULL);
    }
    size_t n_items = 0, n_actions = 0;
    while (items[n_items].type != RTE_FLOW_ITEM_TYPE_END) {
        if (++n_items > ESW_WIRE_MAX_ITEMS) {
            return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ITEM_NUM, -1,
                                 "too many items (or no END)", "over %d",
                                 ESW_WIRE_MAX_ITEMS);
        }
    }
    while (actions[n_actions].type != RTE_FLOW_ACTION_TYPE_END) {
        if (++n_actions > ESW_WIRE_MAX_ACTIONS) {
            return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_NUM, -1,
                                 "too many actions (or no END)", "over %d",
                                 ESW_WIRE_MAX_ACTIONS);
        }
    }

    struct wbuf b = {0};
    int error_code = 0;
    uint8_t *hdr = wbuf_put(&b, sizeof(struct esw_wire_hdr));
    if (!hdr) {
        return -ENOMEM;
    }
    memcpy(hdr, ESW_WIRE_MAGIC, 4);
    hdr[4] = ESW_WIRE_VERSION;
    hdr[5] = masks ? ESW_WIRE_F_MASKS : 0;
    put_be16(hdr + 6, (uint16_t)n_items);
    put_be16(hdr + 8, (uint16_t)n_actions);
    put_be32(hdr + 12, attr->group);
    put_be32(hdr + 16, attr->priority);
    put_be32(hdr + 20, (attr->ingress ? ESW_WIRE_ATTR_INGRESS : 0) |
                           (attr->egress ? ESW_WIRE_ATTR_EGRESS : 0) |
                           (attr->transfer ? ESW_WIRE_ATTR_TRANSFER : 0));

    for (size_t i = 0; i < n_items; i++) {
        const struct rte_flow_item *item = &items[i];
        int type = item->type;
        if (!esw_wire_item_is_supported(type)) {
            error_code =
                esw_error_set(error, -ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM, (int)i,
                              "not supported: item type in the wire format", "%d", type);
            goto out;
        }
        bool is_void = type == RTE_FLOW_ITEM_TYPE_VOID;
        uint8_t present = 0;
        if (!is_void) {
            present = (item->spec ? ESW_WIRE_P_SPEC : 0) |
                      (item->last ? ESW_WIRE_P_LAST : 0) |
                      (item->mask ? ESW_WIRE_P_MASK : 0);
        }
        size_t start;
        elem_begin(&b, type, present, &start);
        const void *blobs[] = {item->spec, item->last, item->mask};
        unsigned int words = 0;
        if (type == RTE_FLOW_ITEM_TYPE_GENEVE_OPT) {
            const struct rte_flow_item_geneve_opt *opt =
                item->spec ? item->spec : item->mask;
            words = opt ? opt->option_len : 0;
        }
        for (size_t k = 0; k < ARRAY_SIZE(blobs); k++) {
            if (present & (1u << k)) {
                unsigned int w = words;
                if (k == 1 && type == RTE_FLOW_ITEM_TYPE_GENEVE_OPT) {
                    w = ((const struct rte_flow_item_geneve_opt *)blobs[k])->option_len;
                }
                error_code = item_blob_encode(
                    type, blobs[k], type == RTE_FLOW_ITEM_TYPE_GENEVE_OPT ? w : 0, (int)i,
                    &b, error);
                if (error_code) {
                    goto out;
                }
            }
        }
        error_code = elem_end(&b, start);
        if (error_code) {
            goto out;
        }
    }

    for (size_t i = 0; i < n_actions; i++) {
        const struct rte_flow_action *action = &actions[i];
        int type = action->type;
        if (!esw_wire_action_is_supported(type)) {
            error_code = esw_error_set(
                error, -ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION, (int)i,
                "not supported: action type in the wire format", "%d", type);
            goto out;
        }
        const struct rte_flow_action *mask = masks ? &masks[i] : NULL;
        if (mask && mask->type != action->type) {
            error_code = esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ACTION, (int)i,
                                       "actions template mask of another type",
                                       "%d vs %d", mask->type, type);
            goto out;
        }
        bool no_conf = action_has_no_conf(type);
        if (!no_conf && !action->conf && !mask && !action_conf_is_optional(type)) {
            error_code = esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF,
                                       (int)i, "action without its conf", "%d", type);
            goto out;
        }
        uint8_t present = 0;
        if (!no_conf) {
            present = (action->conf ? ESW_WIRE_P_SPEC : 0) |
                      (mask && mask->conf ? ESW_WIRE_P_MASK : 0);
        }
        size_t start;
        elem_begin(&b, type, present, &start);
        if (present & ESW_WIRE_P_SPEC) {
            error_code = action_blob_encode(type, action->conf, (int)i, &b, error);
            if (error_code) {
                goto out;
            }
        }
        if (present & ESW_WIRE_P_MASK) {
            error_code = action_blob_encode(type, mask->conf, (int)i, &b, error);
            if (error_code) {
                goto out;
            }
        }
        error_code = elem_end(&b, start);
        if (error_code) {
            goto out;
        }
    }

    if (b.nomem) {
        error_code = -ENOMEM;
        goto out;
    }
    if (b.len > ESW_WIRE_MAX_LEN) {
        error_code = esw_error_set(error, -EMSGSIZE, RTE_FLOW_ERROR_TYPE_HANDLE, -1,
                                   "rule encoding too long", "%zu bytes", b.len);
        goto out;
    }
    put_be32(b.data + 24, (uint32_t)b.len);
    *bufp = b.data;
    *lenp = b.len;
    return 0;

out:
    if (error_code == -ENOMEM || error_code == -EMSGSIZE) {
        esw_error_set(error, error_code, RTE_FLOW_ERROR_TYPE_HANDLE, -1,
                      "cannot encode rule", NULL);
    }
    free(b.data);
    return error_code;
}

static int
bad_msg(struct esw_error *error, const char *what)
{
    static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(10, 10);
    OLOG_DBG_RL(&rl, "malformed rule encoding: %s", what);
    return esw_error_set(error, -EBADMSG, RTE_FLOW_ERROR_TYPE_HANDLE, -1,
                         "malformed rule encoding", "%s", what);
}

/* GENEVE_OPT blobs carry as many data words as the spec's option_len (the mask's
 * own option_len is a mask), or the mask's option_len without a spec. */
static bool
geneve_opt_is_canonical(const uint8_t *blobs[3])
{
    const uint8_t *ref = blobs[0] ? blobs[0] : blobs[2];
    for (int k = 0; k < 3; k++) {
        const uint8_t *own = k == 1 ? blobs[1] : ref;
        if (blobs[k] && blobs[k][4] && blobs[k][5] != own[3]) {
            return false;
        }
    }
    return true;
}

/* Reads one element header and splits its blobs.  'allowed' are the presence bits
 * permitted.  Stores up to 3 blob pointers and lengths, NULL where absent. */
static int
elem_read(struct rbuf *r, uint8_t allowed, int32_t *typep, const uint8_t *blobs[3],
          size_t lens[3], struct esw_error *error)
{
    const uint8_t *e = rbuf_get(r, sizeof(struct esw_wire_elem));
    if (!e) {
        return bad_msg(error, "truncated element");
    }
    int32_t type = (int32_t)get_be32(e);
    uint8_t present = e[4];
    size_t len = get_be16(e + 6);
    if (present & ~allowed || e[5]) {
        return bad_msg(error, "element with unknown presence or reserved bits");
    }
    struct rbuf body = {rbuf_get(r, len), len};
    if (!body.p) {
        return bad_msg(error, "truncated element body");
    }
    for (int k = 0; k < 3; k++) {
        blobs[k] = NULL;
        lens[k] = 0;
        if (present & (1u << k)) {
            const uint8_t *l = rbuf_get(&body, 2);
            if (!l) {
                return bad_msg(error, "truncated blob length");
            }
            lens[k] = get_be16(l);
            blobs[k] = rbuf_get(&body, lens[k]);
            if (!blobs[k]) {
                return bad_msg(error, "truncated blob");
            }
        }
    }
    if (body.left) {
        return bad_msg(error, "trailing bytes in element");
    }
    *typep = type;
    return 0;
}

int
esw_wire_rule_decode(const void *buf, size_t len, struct esw_wire_rule **rulep,
                     struct esw_error *error)
{
    struct rbuf r = {buf, len};
    const uint8_t *h = rbuf_get(&r, sizeof(struct esw_wire_hdr));
    if (!buf || !h) {
        return bad_msg(error, "shorter than its header");
    }
    if (memcmp(h, ESW_WIRE_MAGIC, 4)) {
        return bad_msg(error, "bad magic");
    }
    if (h[4] != ESW_WIRE_VERSION) {
        return bad_msg(error, "unknown version");
    }
    uint8_t flags = h[5];
    size_t n_items = get_be16(h + 6);
    size_t n_actions = get_be16(h + 8);
    uint32_t attr_flags = get_be32(h + 20);
    if (flags & ~ESW_WIRE_F_MASKS || get_be16(h + 10) ||
        attr_flags & ~(uint32_t)(ESW_WIRE_ATTR_INGRESS | ESW_WIRE_ATTR_EGRESS |
                                 ESW_WIRE_ATTR_TRANSFER)) {
        return bad_msg(error, "unknown flags or reserved bits");
    }
    if (n_items > ESW_WIRE_MAX_ITEMS || n_actions > ESW_WIRE_MAX_ACTIONS) {
        return bad_msg(error, "too many items or actions");
    }
    if (get_be32(h + 24) != len || len > ESW_WIRE_MAX_LEN) {
        return bad_msg(error, "length mismatch");
    }

    int retval = -ENOMEM;
    struct esw_wire_rule *rule = calloc(1, sizeof *rule);
    if (!rule) {
        return -ENOMEM;
    }
    rule->items = calloc(n_items + 1, sizeof *rule->items);
    rule->actions = calloc(n_actions + 1, sizeof *rule->actions);
    if (flags & ESW_WIRE_F_MASKS) {
        rule->masks = calloc(n_actions + 1, sizeof *rule->masks);
    }
    if (!rule->items || !rule->actions || (flags & ESW_WIRE_F_MASKS && !rule->masks)) {
        goto err_free_rule;
    }
    rule->attr.group = get_be32(h + 12);
    rule->attr.priority = get_be32(h + 16);
    rule->attr.ingress = !!(attr_flags & ESW_WIRE_ATTR_INGRESS);
    rule->attr.egress = !!(attr_flags & ESW_WIRE_ATTR_EGRESS);
    rule->attr.transfer = !!(attr_flags & ESW_WIRE_ATTR_TRANSFER);
    rule->n_items = n_items;
    rule->n_actions = n_actions;

    for (size_t i = 0; i < n_items; i++) {
        int32_t type;
        const uint8_t *blobs[3];
        size_t lens[3];
        retval = elem_read(&r, ESW_WIRE_P_SPEC | ESW_WIRE_P_LAST | ESW_WIRE_P_MASK, &type,
                           blobs, lens, error);
        if (retval) {
            goto err_free_rule;
        }
        if (!esw_wire_item_is_supported(type)) {
            retval =
                esw_error_set(error, -ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM, (int)i,
                              "not supported: item type in rule encoding", "%d", type);
            goto err_free_rule;
        }
        if (type == RTE_FLOW_ITEM_TYPE_VOID && (blobs[0] || blobs[1] || blobs[2])) {
            retval = bad_msg(error, "VOID item with data");
            goto err_free_rule;
        }
        rule->items[i].type = type;
        const void **outs[] = {&rule->items[i].spec, &rule->items[i].last,
                               &rule->items[i].mask};
        for (int k = 0; k < 3; k++) {
            if (blobs[k]) {
                retval = item_blob_decode(rule, type, blobs[k], lens[k], (int)i, outs[k],
                                          error);
                if (retval) {
                    goto err_free_rule;
                }
            }
        }
        if (type == RTE_FLOW_ITEM_TYPE_GENEVE_OPT && !geneve_opt_is_canonical(blobs)) {
            retval = bad_msg(error, "GENEVE_OPT data length differs from option_len");
            goto err_free_rule;
        }
    }
    rule->items[n_items].type = RTE_FLOW_ITEM_TYPE_END;

    for (size_t i = 0; i < n_actions; i++) {
        int32_t type;
        const uint8_t *blobs[3];
        size_t lens[3];
        uint8_t allowed = ESW_WIRE_P_SPEC | (rule->masks ? ESW_WIRE_P_MASK : 0);
        retval = elem_read(&r, allowed, &type, blobs, lens, error);
        if (retval) {
            goto err_free_rule;
        }
        if (!esw_wire_action_is_supported(type)) {
            retval =
                esw_error_set(error, -ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION, (int)i,
                              "not supported: action type in rule encoding", "%d", type);
            goto err_free_rule;
        }
        bool no_conf = action_has_no_conf(type);
        if (no_conf && (blobs[0] || blobs[2])) {
            retval = bad_msg(error, "conf on an action that takes none");
            goto err_free_rule;
        }
        if (!no_conf && !blobs[0] && !rule->masks && !action_conf_is_optional(type)) {
            retval = bad_msg(error, "action without its conf");
            goto err_free_rule;
        }
        rule->actions[i].type = type;
        if (blobs[0]) {
            retval = action_blob_decode(rule, type, blobs[0], lens[0], (int)i,
                                        &rule->actions[i].conf, error);
            if (retval) {
                goto err_free_rule;
            }
        }
        if (rule->masks) {
            rule->masks[i].type = type;
            if (blobs[2]) {
                retval = action_blob_decode(rule, type, blobs[2], lens[2], (int)i,
                                            &rule->masks[i].conf, error);
                if (retval) {
                    goto err_free_rule;
                }
            }
        }
    }
    rule->actions[n_actions].type = RTE_FLOW_ACTION_TYPE_END;
    if (rule->masks) {
        rule->masks[n_actions].type = RTE_FLOW_ACTION_TYPE_END;
    }
    if (r.left) {
        retval = bad_msg(error, "trailing bytes");
        goto err_free_rule;
    }
    *rulep = rule;
    return 0;

err_free_rule:
    if (retval == -ENOMEM) {
        esw_error_set(error, -ENOMEM, RTE_FLOW_ERROR_TYPE_HANDLE, -1,
                      "cannot decode rule", NULL);
    }
    esw_wire_rule_destroy(rule);
    return retval;
}

/* ---------------------------------------------------------------------------------- */
/* Errors, statistics, capabilities. */

void
esw_wire_error_encode(const struct esw_error *error, struct esw_wire_error *out)
{
    memset(out, 0, sizeof *out);
    put_be32((uint8_t *)&out->code, (uint32_t)error->err.code);
    put_be32((uint8_t *)&out->type, (uint32_t)error->type);
    put_be32((uint8_t *)&out->index, (uint32_t)error->index);
    const char *message = error->err.message ? error->err.message : "";
    if (error->err.detail[0]) {
        snprintf(out->text, sizeof out->text, "%s (%s)", message, error->err.detail);
    } else {
        snprintf(out->text, sizeof out->text, "%s", message);
    }
}

int
esw_wire_error_decode(const struct esw_wire_error *in, struct esw_error *error)
{
    int32_t code = (int32_t)get_be32((const uint8_t *)&in->code);
    uint32_t type = get_be32((const uint8_t *)&in->type);
    int32_t index = (int32_t)get_be32((const uint8_t *)&in->index);
    if (code >= 0 || code < -4095) {
        code = -EIO;
    }
    if (type > RTE_FLOW_ERROR_TYPE_STATE) {
        type = RTE_FLOW_ERROR_TYPE_UNSPECIFIED;
    }
    if (index < -1 || index > 1024) {
        index = -1;
    }
    char text[sizeof in->text];
    memcpy(text, in->text, sizeof text);
    text[sizeof text - 1] = '\0';
    return esw_error_set(error, code, type, index, "eSwitch reported an error", "%s",
                         text);
}

void
esw_wire_stats_encode(const struct esw_rule_stats *stats, struct esw_wire_stats *out)
{
    memset(out, 0, sizeof *out);
    put_be64((uint8_t *)&out->packets, stats->packets);
    put_be64((uint8_t *)&out->bytes, stats->bytes);
    put_be32((uint8_t *)&out->idle_sec, stats->idle_sec);
    out->flags =
        (stats->has_count ? 1 : 0) | (stats->has_age ? 2 : 0) | (stats->aged ? 4 : 0);
}

int
esw_wire_stats_decode(const struct esw_wire_stats *in, struct esw_rule_stats *stats)
{
    if (in->flags & ~7 || in->reserved[0] || in->reserved[1] || in->reserved[2]) {
        return -EBADMSG;
    }
    stats->packets = get_be64((const uint8_t *)&in->packets);
    stats->bytes = get_be64((const uint8_t *)&in->bytes);
    stats->idle_sec = get_be32((const uint8_t *)&in->idle_sec);
    stats->has_count = in->flags & 1;
    stats->has_age = in->flags & 2;
    stats->aged = in->flags & 4;
    return 0;
}

void
esw_wire_caps_encode(const struct esw_caps *caps, struct esw_wire_caps *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->device, sizeof out->device, "%s", caps->device);
    for (size_t i = 0; i < ARRAY_SIZE(out->items); i++) {
        put_be64((uint8_t *)&out->items[i], caps->items[i]);
        put_be64((uint8_t *)&out->actions[i], caps->actions[i]);
    }
    put_be32((uint8_t *)&out->max_groups, caps->max_groups);
    put_be32((uint8_t *)&out->max_priorities, caps->max_priorities);
    put_be32((uint8_t *)&out->max_rules_per_group, caps->max_rules_per_group);
    put_be32((uint8_t *)&out->max_rules, caps->max_rules);
    put_be32((uint8_t *)&out->max_items, caps->max_items);
    put_be32((uint8_t *)&out->max_actions, caps->max_actions);
    put_be32((uint8_t *)&out->max_encap_size, caps->max_encap_size);
    put_be32((uint8_t *)&out->async_queues, caps->async_queues);
    put_be32((uint8_t *)&out->async_queue_size, caps->async_queue_size);
    put_be16((uint8_t *)&out->geneve_opt_class, caps->geneve_opt_class);
    out->geneve_opt_type = caps->geneve_opt_type;
    out->flags = (caps->geneve_opt ? 1 : 0) | (caps->async_native ? 2 : 0);
}

int
esw_wire_caps_decode(const struct esw_wire_caps *in, struct esw_caps *caps)
{
    if (!memchr(in->device, '\0', sizeof in->device) || in->flags & ~3) {
        return -EBADMSG;
    }
    memset(caps, 0, sizeof *caps);
    memcpy(caps->device, in->device, sizeof caps->device);
    for (size_t i = 0; i < ARRAY_SIZE(in->items); i++) {
        caps->items[i] = get_be64((const uint8_t *)&in->items[i]);
        caps->actions[i] = get_be64((const uint8_t *)&in->actions[i]);
    }
    caps->max_groups = get_be32((const uint8_t *)&in->max_groups);
    caps->max_priorities = get_be32((const uint8_t *)&in->max_priorities);
    caps->max_rules_per_group = get_be32((const uint8_t *)&in->max_rules_per_group);
    caps->max_rules = get_be32((const uint8_t *)&in->max_rules);
    caps->max_items = get_be32((const uint8_t *)&in->max_items);
    caps->max_actions = get_be32((const uint8_t *)&in->max_actions);
    caps->max_encap_size = get_be32((const uint8_t *)&in->max_encap_size);
    caps->async_queues = get_be32((const uint8_t *)&in->async_queues);
    caps->async_queue_size = get_be32((const uint8_t *)&in->async_queue_size);
    caps->geneve_opt_class = get_be16((const uint8_t *)&in->geneve_opt_class);
    caps->geneve_opt_type = in->geneve_opt_type;
    caps->geneve_opt = in->flags & 1;
    caps->async_native = in->flags & 2;
    return 0;
}
