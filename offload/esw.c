/* ovnic: the eSwitch interface: dispatch, rule handles, logging of rejected rules,
 * and the template/async path emulated over synchronous operations. */
#include "offload/esw.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "offload/esw_provider.h"
#include "offload/esw_wire.h"
#include "shared/util/hash.h"
#include "shared/util/log.h"

OVNIC_LOG_MODULE(esw);

#define ESW_EMU_QUEUES 4
#define ESW_EMU_QUEUE_SIZE 1024

/* ---------------------------------------------------------------------------------- */
/* Errors. */

int
esw_error_set(struct esw_error *error, int code, enum rte_flow_error_type type, int index,
              const char *message, const char *fmt, ...)
{
    if (!error || error->err.code) {
        return code;
    }
    error->err.code = code;
    error->err.message = message;
    error->err.object[0] = '\0';
    error->err.detail[0] = '\0';
    if (fmt) {
        va_list args;
        va_start(args, fmt);
        vsnprintf(error->err.detail, sizeof error->err.detail, fmt, args);
        va_end(args);
    }
    error->type = type;
    error->index = index;
    return code;
}

void
esw_error_clear(struct esw_error *error)
{
    if (error) {
        ovnic_err_clear(&error->err);
        error->type = RTE_FLOW_ERROR_TYPE_NONE;
        error->index = -1;
    }
}

const char *
esw_error_type_name(enum rte_flow_error_type type)
{
    static const char *const names[] = {
        [RTE_FLOW_ERROR_TYPE_NONE] = "none",
        [RTE_FLOW_ERROR_TYPE_UNSPECIFIED] = "unspecified",
        [RTE_FLOW_ERROR_TYPE_HANDLE] = "handle",
        [RTE_FLOW_ERROR_TYPE_ATTR_GROUP] = "group",
        [RTE_FLOW_ERROR_TYPE_ATTR_PRIORITY] = "priority",
        [RTE_FLOW_ERROR_TYPE_ATTR_INGRESS] = "ingress",
        [RTE_FLOW_ERROR_TYPE_ATTR_EGRESS] = "egress",
        [RTE_FLOW_ERROR_TYPE_ATTR_TRANSFER] = "transfer",
        [RTE_FLOW_ERROR_TYPE_ATTR] = "attributes",
        [RTE_FLOW_ERROR_TYPE_ITEM_NUM] = "item count",
        [RTE_FLOW_ERROR_TYPE_ITEM_SPEC] = "item spec",
        [RTE_FLOW_ERROR_TYPE_ITEM_LAST] = "item last",
        [RTE_FLOW_ERROR_TYPE_ITEM_MASK] = "item mask",
        [RTE_FLOW_ERROR_TYPE_ITEM] = "item",
        [RTE_FLOW_ERROR_TYPE_ACTION_NUM] = "action count",
        [RTE_FLOW_ERROR_TYPE_ACTION_CONF] = "action conf",
        [RTE_FLOW_ERROR_TYPE_ACTION] = "action",
        [RTE_FLOW_ERROR_TYPE_STATE] = "state",
    };
    if ((unsigned int)type < ARRAY_SIZE(names) && names[type]) {
        return names[type];
    }
    return "unknown";
}

const char *
esw_error_format(const struct esw_error *error, char *buf, size_t size)
{
    if (!size) {
        return buf;
    }
    char idx[16] = "";
    if (error->index >= 0) {
        snprintf(idx, sizeof idx, "[%d]", error->index);
    }
    snprintf(buf, size, "%s%s: %s%s%s%s: %s", esw_error_type_name(error->type), idx,
             error->err.message ? error->err.message : "error",
             error->err.detail[0] ? " (" : "", error->err.detail,
             error->err.detail[0] ? ")" : "", strerror(-error->err.code));
    return buf;
}

/* ---------------------------------------------------------------------------------- */
/* Names. */

struct type_name {
    int type;
    const char *name;
};

static const struct type_name item_names[] = {
    {RTE_FLOW_ITEM_TYPE_VOID, "void"},
    {RTE_FLOW_ITEM_TYPE_ETH, "eth"},
    {RTE_FLOW_ITEM_TYPE_VLAN, "vlan"},
    {RTE_FLOW_ITEM_TYPE_IPV4, "ipv4"},
    {RTE_FLOW_ITEM_TYPE_IPV6, "ipv6"},
    {RTE_FLOW_ITEM_TYPE_UDP, "udp"},
    {RTE_FLOW_ITEM_TYPE_TCP, "tcp"},
    {RTE_FLOW_ITEM_TYPE_ICMP, "icmp"},
    {RTE_FLOW_ITEM_TYPE_ICMP6, "icmp6"},
    {RTE_FLOW_ITEM_TYPE_VXLAN, "vxlan"},
    {RTE_FLOW_ITEM_TYPE_GENEVE, "geneve"},
    {RTE_FLOW_ITEM_TYPE_GENEVE_OPT, "geneve-opt"},
    {RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, "represented_port"},
    {RTE_FLOW_ITEM_TYPE_PORT_REPRESENTOR, "port_representor"},
    {RTE_FLOW_ITEM_TYPE_CONNTRACK, "conntrack"},
    {RTE_FLOW_ITEM_TYPE_TAG, "tag"},
    {RTE_FLOW_ITEM_TYPE_META, "meta"},
    {RTE_FLOW_ITEM_TYPE_MARK, "mark"},
};

static const struct type_name action_names[] = {
    {RTE_FLOW_ACTION_TYPE_VOID, "void"},
    {RTE_FLOW_ACTION_TYPE_PASSTHRU, "passthru"},
    {RTE_FLOW_ACTION_TYPE_JUMP, "jump"},
    {RTE_FLOW_ACTION_TYPE_MARK, "mark"},
    {RTE_FLOW_ACTION_TYPE_DROP, "drop"},
    {RTE_FLOW_ACTION_TYPE_COUNT, "count"},
    {RTE_FLOW_ACTION_TYPE_AGE, "age"},
    {RTE_FLOW_ACTION_TYPE_METER, "meter"},
    {RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, "represented_port"},
    {RTE_FLOW_ACTION_TYPE_PORT_REPRESENTOR, "port_representor"},
    {RTE_FLOW_ACTION_TYPE_RAW_ENCAP, "raw_encap"},
    {RTE_FLOW_ACTION_TYPE_RAW_DECAP, "raw_decap"},
    {RTE_FLOW_ACTION_TYPE_SET_MAC_SRC, "set_mac_src"},
    {RTE_FLOW_ACTION_TYPE_SET_MAC_DST, "set_mac_dst"},
    {RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC, "set_ipv4_src"},
    {RTE_FLOW_ACTION_TYPE_SET_IPV4_DST, "set_ipv4_dst"},
    {RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC, "set_ipv6_src"},
    {RTE_FLOW_ACTION_TYPE_SET_IPV6_DST, "set_ipv6_dst"},
    {RTE_FLOW_ACTION_TYPE_SET_TP_SRC, "set_tp_src"},
    {RTE_FLOW_ACTION_TYPE_SET_TP_DST, "set_tp_dst"},
    {RTE_FLOW_ACTION_TYPE_SET_TTL, "set_ttl"},
    {RTE_FLOW_ACTION_TYPE_DEC_TTL, "dec_ttl"},
    {RTE_FLOW_ACTION_TYPE_MODIFY_FIELD, "modify_field"},
    {RTE_FLOW_ACTION_TYPE_CONNTRACK, "conntrack"},
    {RTE_FLOW_ACTION_TYPE_OF_PUSH_VLAN, "of_push_vlan"},
    {RTE_FLOW_ACTION_TYPE_OF_POP_VLAN, "of_pop_vlan"},
};

static const char *
name_of(const struct type_name *names, size_t n, int type)
{
    for (size_t i = 0; i < n; i++) {
        if (names[i].type == type) {
            return names[i].name;
        }
    }
    return NULL;
}

static int
type_of(const struct type_name *names, size_t n, const char *name)
{
    for (size_t i = 0; name && i < n; i++) {
        if (!strcmp(names[i].name, name)) {
            return names[i].type;
        }
    }
    return -1;
}

const char *
esw_item_name(int type)
{
    return name_of(item_names, ARRAY_SIZE(item_names), type);
}

size_t
esw_item_default_mask(int type, const void **default_mask)
{
    switch (type) {
    case RTE_FLOW_ITEM_TYPE_ETH:
        *default_mask = &rte_flow_item_eth_mask;
        return sizeof(struct rte_flow_item_eth);
    case RTE_FLOW_ITEM_TYPE_VLAN:
        *default_mask = &rte_flow_item_vlan_mask;
        return sizeof(struct rte_flow_item_vlan);
    case RTE_FLOW_ITEM_TYPE_IPV4:
        *default_mask = &rte_flow_item_ipv4_mask;
        return sizeof(struct rte_flow_item_ipv4);
    case RTE_FLOW_ITEM_TYPE_IPV6:
        *default_mask = &rte_flow_item_ipv6_mask;
        return sizeof(struct rte_flow_item_ipv6);
    case RTE_FLOW_ITEM_TYPE_UDP:
        *default_mask = &rte_flow_item_udp_mask;
        return sizeof(struct rte_flow_item_udp);
    case RTE_FLOW_ITEM_TYPE_TCP:
        *default_mask = &rte_flow_item_tcp_mask;
        return sizeof(struct rte_flow_item_tcp);
    case RTE_FLOW_ITEM_TYPE_ICMP:
        *default_mask = &rte_flow_item_icmp_mask;
        return sizeof(struct rte_flow_item_icmp);
    case RTE_FLOW_ITEM_TYPE_GENEVE:
        *default_mask = &rte_flow_item_geneve_mask;
        return sizeof(struct rte_flow_item_geneve);
    case RTE_FLOW_ITEM_TYPE_GENEVE_OPT:
        *default_mask = &rte_flow_item_geneve_opt_mask;
        return sizeof(struct rte_flow_item_geneve_opt);
    case RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT:
    case RTE_FLOW_ITEM_TYPE_PORT_REPRESENTOR:
        *default_mask = &rte_flow_item_ethdev_mask;
        return sizeof(struct rte_flow_item_ethdev);
    default:
        return 0;
    }
}

const char *
esw_action_name(int type)
{
    return name_of(action_names, ARRAY_SIZE(action_names), type);
}

int
esw_item_from_name(const char *name)
{
    return type_of(item_names, ARRAY_SIZE(item_names), name);
}

int
esw_action_from_name(const char *name)
{
    return type_of(action_names, ARRAY_SIZE(action_names), name);
}

/* ---------------------------------------------------------------------------------- */
/* testpmd rendering. */

struct fmt {
    char *buf;
    size_t size;
    size_t len; /* That the full text needs. */
};

static void OVNIC_PRINTF(2, 3) fmt_add(struct fmt *f, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    size_t room = f->len < f->size ? f->size - f->len : 0;
    int n = vsnprintf(room ? f->buf + f->len : NULL, room, format, args);
    va_end(args);
    if (n > 0) {
        f->len += (size_t)n;
    }
}

static bool
bytes_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        if (b[i]) {
            return false;
        }
    }
    return true;
}

static bool
bytes_ones(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        if (b[i] != 0xff) {
            return false;
        }
    }
    return true;
}

enum vfmt { V_UINT, V_HEX, V_MAC, V_IP4, V_IP6 };

/* Renders a value of 'n' bytes (network order for V_UINT/V_HEX). */
static void
fmt_value(struct fmt *f, const uint8_t *p, size_t n, enum vfmt how)
{
    switch (how) {
    case V_MAC:
        fmt_add(f, "%02x:%02x:%02x:%02x:%02x:%02x", p[0], p[1], p[2], p[3], p[4], p[5]);
        break;
    case V_IP4:
        fmt_add(f, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
        break;
    case V_IP6:
        for (size_t i = 0; i < 16; i += 2) {
            fmt_add(f, "%s%x", i ? ":" : "", (unsigned int)(p[i] << 8 | p[i + 1]));
        }
        break;
    case V_UINT:
    case V_HEX: {
        if (n > 8) {
            fmt_add(f, "0x");
            for (size_t i = 0; i < n; i++) {
                fmt_add(f, "%02x", p[i]);
            }
            break;
        }
        uint64_t v = 0;
        for (size_t i = 0; i < n; i++) {
            v = v << 8 | p[i];
        }
        fmt_add(f, how == V_HEX ? "0x%" PRIx64 : "%" PRIu64, v);
        break;
    }
    }
}

static void
fmt_hex(struct fmt *f, const uint8_t *p, size_t n)
{
    fmt_add(f, "0x");
    for (size_t i = 0; i < n; i++) {
        fmt_add(f, "%02x", p[i]);
    }
}

/* One field of an item: rendered when its mask is non-zero, as "name is V" for a full
 * mask or "name spec V name mask M" otherwise. */
static void
fmt_field(struct fmt *f, const char *name, const void *spec, const void *mask, size_t n,
          enum vfmt how)
{
    if (bytes_zero(mask, n)) {
        return;
    }
    if (bytes_ones(mask, n)) {
        fmt_add(f, " %s is ", name);
        fmt_value(f, spec, n, how);
    } else {
        fmt_add(f, " %s spec ", name);
        fmt_value(f, spec, n, how);
        fmt_add(f, " %s mask ", name);
        fmt_value(f, mask, n, how == V_IP4 || how == V_IP6 || how == V_MAC ? how : V_HEX);
    }
}

/* A bit-field or host-order value, rendered like fmt_field(). */
static void
fmt_uint_field(struct fmt *f, const char *name, uint32_t spec, uint32_t mask,
               uint32_t full)
{
    if (!mask) {
        return;
    }
    if (mask == full) {
        fmt_add(f, " %s is %" PRIu32, name, spec);
    } else {
        fmt_add(f, " %s spec %" PRIu32 " %s mask 0x%" PRIx32, name, spec, name, mask);
    }
}

#define FIELD(NAME, S, M, MEMBER, HOW) \
    fmt_field(f, NAME, &(S)->MEMBER, &(M)->MEMBER, sizeof(S)->MEMBER, HOW)

static void
fmt_item(struct fmt *f, const struct rte_flow_item *item)
{
    const char *name = esw_item_name(item->type);
    if (name) {
        fmt_add(f, " %s", name);
    } else {
        fmt_add(f, " unknown-item-%d", (int)item->type);
        return;
    }
    if (!item->spec) {
        return;
    }
    const void *mask = item->mask;
    if (!mask) {
        esw_item_default_mask(item->type, &mask);
    }
    switch (item->type) {
    case RTE_FLOW_ITEM_TYPE_ETH: {
        const struct rte_flow_item_eth *s = item->spec;
        const struct rte_flow_item_eth *m = mask;
        FIELD("dst", s, m, hdr.dst_addr, V_MAC);
        FIELD("src", s, m, hdr.src_addr, V_MAC);
        FIELD("type", s, m, hdr.ether_type, V_HEX);
        fmt_uint_field(f, "has_vlan", s->has_vlan, m->has_vlan, 1);
        break;
    }
    case RTE_FLOW_ITEM_TYPE_VLAN: {
        const struct rte_flow_item_vlan *s = item->spec;
        const struct rte_flow_item_vlan *m = mask;
        FIELD("tci", s, m, hdr.vlan_tci, V_UINT);
        FIELD("inner_type", s, m, hdr.eth_proto, V_HEX);
        fmt_uint_field(f, "has_more_vlan", s->has_more_vlan, m->has_more_vlan, 1);
        break;
    }
    case RTE_FLOW_ITEM_TYPE_IPV4: {
        const struct rte_flow_item_ipv4 *s = item->spec;
        const struct rte_flow_item_ipv4 *m = mask;
        FIELD("version_ihl", s, m, hdr.version_ihl, V_HEX);
        FIELD("tos", s, m, hdr.type_of_service, V_UINT);
        FIELD("packet_id", s, m, hdr.packet_id, V_UINT);
        FIELD("fragment_offset", s, m, hdr.fragment_offset, V_HEX);
        FIELD("ttl", s, m, hdr.time_to_live, V_UINT);
        FIELD("proto", s, m, hdr.next_proto_id, V_UINT);
        FIELD("src", s, m, hdr.src_addr, V_IP4);
        FIELD("dst", s, m, hdr.dst_addr, V_IP4);
        break;
    }
    case RTE_FLOW_ITEM_TYPE_IPV6: {
        const struct rte_flow_item_ipv6 *s = item->spec;
        const struct rte_flow_item_ipv6 *m = mask;
        uint32_t sv = rte_be_to_cpu_32(s->hdr.vtc_flow);
        uint32_t mv = rte_be_to_cpu_32(m->hdr.vtc_flow);
        fmt_uint_field(f, "tc", sv >> 20 & 0xff, mv >> 20 & 0xff, 0xff);
        fmt_uint_field(f, "flow", sv & 0xfffff, mv & 0xfffff, 0xfffff);
        FIELD("proto", s, m, hdr.proto, V_UINT);
        FIELD("hop", s, m, hdr.hop_limits, V_UINT);
        FIELD("src", s, m, hdr.src_addr, V_IP6);
        FIELD("dst", s, m, hdr.dst_addr, V_IP6);
        break;
    }
    case RTE_FLOW_ITEM_TYPE_UDP: {
        const struct rte_flow_item_udp *s = item->spec;
        const struct rte_flow_item_udp *m = mask;
        FIELD("src", s, m, hdr.src_port, V_UINT);
        FIELD("dst", s, m, hdr.dst_port, V_UINT);
        break;
    }
    case RTE_FLOW_ITEM_TYPE_TCP: {
        const struct rte_flow_item_tcp *s = item->spec;
        const struct rte_flow_item_tcp *m = mask;
        FIELD("src", s, m, hdr.src_port, V_UINT);
        FIELD("dst", s, m, hdr.dst_port, V_UINT);
        FIELD("flags", s, m, hdr.tcp_flags, V_HEX);
        break;
    }
    case RTE_FLOW_ITEM_TYPE_ICMP: {
        const struct rte_flow_item_icmp *s = item->spec;
        const struct rte_flow_item_icmp *m = mask;
        FIELD("type", s, m, hdr.icmp_type, V_UINT);
        FIELD("code", s, m, hdr.icmp_code, V_UINT);
        FIELD("ident", s, m, hdr.icmp_ident, V_UINT);
        FIELD("seq", s, m, hdr.icmp_seq_nb, V_UINT);
        break;
    }
    case RTE_FLOW_ITEM_TYPE_GENEVE: {
        const struct rte_flow_item_geneve *s = item->spec;
        const struct rte_flow_item_geneve *m = mask;
        FIELD("vni", s, m, vni, V_UINT);
        FIELD("protocol", s, m, protocol, V_HEX);
        uint16_t sv = rte_be_to_cpu_16(s->ver_opt_len_o_c_rsvd0);
        uint16_t mv = rte_be_to_cpu_16(m->ver_opt_len_o_c_rsvd0);
        fmt_uint_field(f, "optlen", sv >> 8 & 0x3f, mv >> 8 & 0x3f, 0x3f);
        break;
    }
    case RTE_FLOW_ITEM_TYPE_GENEVE_OPT: {
        const struct rte_flow_item_geneve_opt *s = item->spec;
        const struct rte_flow_item_geneve_opt *m = mask;
        FIELD("class", s, m, option_class, V_HEX);
        FIELD("type", s, m, option_type, V_HEX);
        FIELD("length", s, m, option_len, V_UINT);
        if (s->data && s->option_len) {
            size_t n = s->option_len * 4u;
            if (m->data) {
                fmt_field(f, "data", s->data, m->data, n, V_HEX);
            } else {
                fmt_add(f, " data is ");
                fmt_hex(f, (const uint8_t *)s->data, n);
            }
        }
        break;
    }
    case RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT:
    case RTE_FLOW_ITEM_TYPE_PORT_REPRESENTOR: {
        const struct rte_flow_item_ethdev *s = item->spec;
        const struct rte_flow_item_ethdev *m = mask;
        fmt_uint_field(f,
                       item->type == RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT
                           ? "ethdev_port_id"
                           : "port_id",
                       s->port_id, m->port_id, 0xffff);
        break;
    }
    case RTE_FLOW_ITEM_TYPE_CONNTRACK: {
        const struct rte_flow_item_conntrack *s = item->spec;
        fmt_add(f, " is %" PRIu32, s->flags);
        break;
    }
    default:
        break;
    }
}

/* Renders encapsulation headers 'data' as the items of a testpmd "set raw_encap" or
 * "set raw_decap" command. */
static void
fmt_headers(struct fmt *f, const uint8_t *data, size_t size)
{
    size_t off = 0;
    uint16_t ethertype = 0;
    uint8_t proto = 0;
    if (size >= 14) {
        struct rte_flow_item_eth eth = {0};
        memcpy(&eth.hdr, data, 14);
        struct rte_flow_item item = {.type = RTE_FLOW_ITEM_TYPE_ETH, .spec = &eth};
        fmt_item(f, &item);
        fmt_add(f, " /");
        ethertype = (uint16_t)(data[12] << 8 | data[13]);
        off = 14;
    }
    if (ethertype == 0x0800 && size >= off + 20) {
        struct rte_flow_item_ipv4 ip = {0};
        memcpy(&ip.hdr, data + off, 20);
        struct rte_flow_item item = {.type = RTE_FLOW_ITEM_TYPE_IPV4, .spec = &ip};
        fmt_item(f, &item);
        fmt_add(f, " /");
        proto = data[off + 9];
        off += 20;
    } else if (ethertype == 0x86dd && size >= off + 40) {
        struct rte_flow_item_ipv6 ip6 = {0};
        memcpy(&ip6.hdr, data + off, 40);
        struct rte_flow_item item = {.type = RTE_FLOW_ITEM_TYPE_IPV6, .spec = &ip6};
        fmt_item(f, &item);
        fmt_add(f, " /");
        proto = data[off + 6];
        off += 40;
    }
    if (proto == IPPROTO_UDP && size >= off + 8) {
        struct rte_flow_item_udp udp = {0};
        memcpy(&udp.hdr, data + off, 8);
        struct rte_flow_item item = {.type = RTE_FLOW_ITEM_TYPE_UDP, .spec = &udp};
        fmt_item(f, &item);
        fmt_add(f, " /");
        off += 8;
        if (size >= off + 8 && (data[off - 6] << 8 | data[off - 5]) == 6081) {
            struct rte_flow_item_geneve gnv = {0};
            memcpy(&gnv, data + off, 8);
            struct rte_flow_item gitem = {.type = RTE_FLOW_ITEM_TYPE_GENEVE,
                                          .spec = &gnv};
            fmt_item(f, &gitem);
            fmt_add(f, " /");
            size_t opt_end = off + 8 + (data[off] & 0x3f) * 4u;
            off += 8;
            while (opt_end <= size && off + 4 <= opt_end) {
                uint32_t odata[31] = {0};
                struct rte_flow_item_geneve_opt opt = {
                    .option_class = (rte_be16_t)(data[off] | data[off + 1] << 8),
                    .option_type = data[off + 2],
                    .option_len = data[off + 3] & 0x1f,
                    .data = odata,
                };
                size_t olen = opt.option_len * 4u;
                if (off + 4 + olen > opt_end) {
                    break;
                }
                memcpy(odata, data + off + 4, olen);
                uint32_t mdata[31];
                memset(mdata, 0xff, sizeof mdata);
                struct rte_flow_item_geneve_opt omask = {
                    .option_class = 0xffff,
                    .option_type = 0xff,
                    .option_len = 0xff,
                    .data = mdata,
                };
                struct rte_flow_item oitem = {
                    .type = RTE_FLOW_ITEM_TYPE_GENEVE_OPT, .spec = &opt, .mask = &omask};
                fmt_item(f, &oitem);
                fmt_add(f, " /");
                off += 4 + olen;
            }
            off = opt_end <= size ? opt_end : off;
        }
    }
    if (off < size) {
        fmt_add(f, " raw pattern is ");
        fmt_hex(f, data + off, size - off);
        fmt_add(f, " /");
    }
    fmt_add(f, " end_set");
}

static const char *
field_name(enum rte_flow_field_id field)
{
    static const char *const names[] = {
        [RTE_FLOW_FIELD_START] = "start",
        [RTE_FLOW_FIELD_MAC_DST] = "mac_dst",
        [RTE_FLOW_FIELD_MAC_SRC] = "mac_src",
        [RTE_FLOW_FIELD_VLAN_ID] = "vlan_id",
        [RTE_FLOW_FIELD_MAC_TYPE] = "mac_type",
        [RTE_FLOW_FIELD_IPV4_TTL] = "ipv4_ttl",
        [RTE_FLOW_FIELD_IPV4_SRC] = "ipv4_src",
        [RTE_FLOW_FIELD_IPV4_DST] = "ipv4_dst",
        [RTE_FLOW_FIELD_IPV6_HOPLIMIT] = "ipv6_hoplimit",
        [RTE_FLOW_FIELD_IPV6_SRC] = "ipv6_src",
        [RTE_FLOW_FIELD_IPV6_DST] = "ipv6_dst",
        [RTE_FLOW_FIELD_TCP_PORT_SRC] = "tcp_port_src",
        [RTE_FLOW_FIELD_TCP_PORT_DST] = "tcp_port_dst",
        [RTE_FLOW_FIELD_UDP_PORT_SRC] = "udp_port_src",
        [RTE_FLOW_FIELD_UDP_PORT_DST] = "udp_port_dst",
        [RTE_FLOW_FIELD_GENEVE_VNI] = "geneve_vni",
        [RTE_FLOW_FIELD_TAG] = "tag",
        [RTE_FLOW_FIELD_META] = "meta",
        [RTE_FLOW_FIELD_VALUE] = "value",
    };
    if ((unsigned int)field < ARRAY_SIZE(names) && names[field]) {
        return names[field];
    }
    return "unknown";
}

static void
fmt_action(struct fmt *f, const struct rte_flow_action *action, int *raw_index)
{
    const char *name = esw_action_name(action->type);
    if (!name) {
        fmt_add(f, " unknown-action-%d", (int)action->type);
        return;
    }
    fmt_add(f, " %s", name);
    const void *conf = action->conf;
    if (!conf) {
        return;
    }
    switch (action->type) {
    case RTE_FLOW_ACTION_TYPE_JUMP:
        fmt_add(f, " group %" PRIu32, ((const struct rte_flow_action_jump *)conf)->group);
        break;
    case RTE_FLOW_ACTION_TYPE_COUNT:
        if (((const struct rte_flow_action_count *)conf)->id) {
            fmt_add(f, " identifier %" PRIu32,
                    ((const struct rte_flow_action_count *)conf)->id);
        }
        break;
    case RTE_FLOW_ACTION_TYPE_AGE:
        fmt_add(f, " timeout %u",
                (unsigned int)((const struct rte_flow_action_age *)conf)->timeout);
        break;
    case RTE_FLOW_ACTION_TYPE_METER:
        fmt_add(f, " mtr_id %" PRIu32,
                ((const struct rte_flow_action_meter *)conf)->mtr_id);
        break;
    case RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT:
    case RTE_FLOW_ACTION_TYPE_PORT_REPRESENTOR:
        fmt_add(f, " %s %u",
                action->type == RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT ? "ethdev_port_id"
                                                                      : "port_id",
                ((const struct rte_flow_action_ethdev *)conf)->port_id);
        break;
    case RTE_FLOW_ACTION_TYPE_RAW_ENCAP:
    case RTE_FLOW_ACTION_TYPE_RAW_DECAP:
        fmt_add(f, " index %d", (*raw_index)++);
        break;
    case RTE_FLOW_ACTION_TYPE_SET_MAC_SRC:
    case RTE_FLOW_ACTION_TYPE_SET_MAC_DST:
        fmt_add(f, " mac_addr ");
        fmt_value(f, ((const struct rte_flow_action_set_mac *)conf)->mac_addr, 6, V_MAC);
        break;
    case RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC:
    case RTE_FLOW_ACTION_TYPE_SET_IPV4_DST:
        fmt_add(f, " ipv4_addr ");
        fmt_value(
            f,
            (const uint8_t *)&((const struct rte_flow_action_set_ipv4 *)conf)->ipv4_addr,
            4, V_IP4);
        break;
    case RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC:
    case RTE_FLOW_ACTION_TYPE_SET_IPV6_DST:
        fmt_add(f, " ipv6_addr ");
        fmt_value(f, ((const struct rte_flow_action_set_ipv6 *)conf)->ipv6_addr, 16,
                  V_IP6);
        break;
    case RTE_FLOW_ACTION_TYPE_SET_TP_SRC:
    case RTE_FLOW_ACTION_TYPE_SET_TP_DST:
        fmt_add(f, " port %u",
                rte_be_to_cpu_16(((const struct rte_flow_action_set_tp *)conf)->port));
        break;
    case RTE_FLOW_ACTION_TYPE_MODIFY_FIELD: {
        const struct rte_flow_action_modify_field *mf = conf;
        fmt_add(f, " op %s dst_type %s",
                mf->operation == RTE_FLOW_MODIFY_SET   ? "set"
                : mf->operation == RTE_FLOW_MODIFY_ADD ? "add"
                                                       : "sub",
                field_name(mf->dst.field));
        if (mf->dst.level || mf->dst.offset) {
            fmt_add(f, " dst_level %" PRIu32 " dst_offset %" PRIu32, mf->dst.level,
                    mf->dst.offset);
        }
        fmt_add(f, " src_type %s", field_name(mf->src.field));
        if (mf->src.field == RTE_FLOW_FIELD_VALUE) {
            fmt_add(f, " src_value ");
            fmt_value(f, mf->src.value, 16, V_HEX);
        } else if (mf->src.level || mf->src.offset) {
            fmt_add(f, " src_level %" PRIu32 " src_offset %" PRIu32, mf->src.level,
                    mf->src.offset);
        }
        fmt_add(f, " width %" PRIu32, mf->width);
        break;
    }
    default:
        break;
    }
}

int
esw_rule_format(const struct rte_flow_attr *attr, const struct rte_flow_item items[],
                const struct rte_flow_action actions[], uint16_t port_id, char *buf,
                size_t size)
{
    struct fmt f = {buf, size, 0};
    if (size) {
        buf[0] = '\0';
    }
    if (!attr || !items || !actions) {
        fmt_add(&f, "(incomplete rule)");
        return (int)f.len;
    }
    /* Encapsulation data first, as the testpmd commands that define it. */
    int raw_index = 0;
    for (size_t i = 0; actions[i].type != RTE_FLOW_ACTION_TYPE_END && i < 64; i++) {
        const struct rte_flow_action *a = &actions[i];
        if (a->type == RTE_FLOW_ACTION_TYPE_RAW_ENCAP && a->conf) {
            const struct rte_flow_action_raw_encap *enc = a->conf;
            fmt_add(&f, "set raw_encap %d", raw_index++);
            fmt_headers(&f, enc->data, enc->data ? enc->size : 0);
            fmt_add(&f, "\n");
        } else if (a->type == RTE_FLOW_ACTION_TYPE_RAW_DECAP && a->conf) {
            const struct rte_flow_action_raw_decap *dec = a->conf;
            fmt_add(&f, "set raw_decap %d", raw_index++);
            if (dec->data) {
                fmt_headers(&f, dec->data, dec->size);
            } else {
                fmt_add(&f, " eth / ipv4 / udp / geneve / end_set");
            }
            fmt_add(&f, "\n");
        }
    }
    fmt_add(&f, "flow create %u", port_id);
    if (attr->group) {
        fmt_add(&f, " group %" PRIu32, attr->group);
    }
    if (attr->priority) {
        fmt_add(&f, " priority %" PRIu32, attr->priority);
    }
    if (attr->ingress) {
        fmt_add(&f, " ingress");
    }
    if (attr->egress) {
        fmt_add(&f, " egress");
    }
    if (attr->transfer) {
        fmt_add(&f, " transfer");
    }
    fmt_add(&f, " pattern");
    for (size_t i = 0; items[i].type != RTE_FLOW_ITEM_TYPE_END && i < 64; i++) {
        fmt_item(&f, &items[i]);
        fmt_add(&f, " /");
    }
    fmt_add(&f, " end actions");
    raw_index = 0;
    for (size_t i = 0; actions[i].type != RTE_FLOW_ACTION_TYPE_END && i < 64; i++) {
        fmt_action(&f, &actions[i], &raw_index);
        fmt_add(&f, " /");
    }
    fmt_add(&f, " end");
    return (int)f.len;
}

/* ---------------------------------------------------------------------------------- */
/* Instances. */

struct esw_op__ {
    bool is_destroy;
    struct esw_rule *rule;
    void *user_data;
    uint8_t *enc; /* Create: the merged rule, encoded. */
    size_t enc_len;
};

struct esw_async_queue__ {
    struct esw_op__ *pending; /* Enqueued, not pushed. */
    size_t n_pending;
    struct esw_op_result *done; /* Completed, not pulled. */
    size_t n_done;
};

static void
log_rejected(const struct esw *esw, const struct rte_flow_attr *attr,
             const struct rte_flow_item items[], const struct rte_flow_action actions[],
             const struct esw_error *error)
{
    static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(20, 20);
    if (!ovnic_log_is_enabled(&ovnic_log_module__, OVNIC_LOG_WARN) ||
        !ovnic_ratelimit_allow(&rl)) {
        return;
    }
    char cmd[2048];
    char why[384];
    esw_rule_format(attr, items, actions, 0, cmd, sizeof cmd);
    esw_error_format(error, why, sizeof why);
    OLOG_WARN("%s rejected a rule: %s; replay with:\n%s", esw->class->name, why, cmd);
}

int
esw_open(const struct esw_class *class, const char *args, struct esw **espp,
         struct esw_error *error)
{
    if (!class || !class->open || !class->close || !class->rule_create ||
        !class->rule_destroy) {
        return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                             "incomplete eSwitch backend", NULL);
    }
    struct esw_error local;
    esw_error_clear(&local);
    struct esw *esw = NULL;
    int retval = class->open(args, &esw, error ? error : &local);
    if (retval) {
        return retval;
    }
    esw->class = class;
    hmap_init(&esw->rules);
    hmap_init(&esw->rules_by_priv);
    ovnic_list_init(&esw->tables);
    ovnic_list_init(&esw->pattern_templates);
    ovnic_list_init(&esw->actions_templates);
    esw->queues = NULL;
    esw->n_queues = 0;
    esw->queue_size = 0;
    if (!class->async_create) {
        esw->queues = calloc(ESW_EMU_QUEUES, sizeof *esw->queues);
        if (!esw->queues) {
            goto err_nomem;
        }
        esw->n_queues = ESW_EMU_QUEUES;
        esw->queue_size = ESW_EMU_QUEUE_SIZE;
        for (uint32_t q = 0; q < esw->n_queues; q++) {
            esw->queues[q].pending = calloc(ESW_EMU_QUEUE_SIZE, sizeof(struct esw_op__));
            esw->queues[q].done =
                calloc(ESW_EMU_QUEUE_SIZE, sizeof(struct esw_op_result));
            if (!esw->queues[q].pending || !esw->queues[q].done) {
                goto err_nomem;
            }
        }
    }
    *espp = esw;
    return 0;

err_nomem:
    esw_close(esw);
    return esw_error_set(error, -ENOMEM, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                         "out of memory", NULL);
}

static void
rule_free(struct esw *esw, struct esw_rule *rule)
{
    if (rule->in_device) {
        hmap_remove(&esw->rules_by_priv, &rule->priv_node);
    }
    if (rule->table) {
        rule->table->n_rules--;
    }
    hmap_remove(&esw->rules, &rule->node);
    free(rule);
}

static uint32_t
hash_ptr(const void *p)
{
    return hash_add64(0, (uint64_t)(uintptr_t)p);
}

static uint32_t
hash_priv(uint64_t priv)
{
    return hash_finish(hash_add64(0x5eed, priv));
}

static struct esw_rule *
rule_alloc(struct esw *esw, void *cookie)
{
    struct esw_rule *rule = calloc(1, sizeof *rule);
    if (rule) {
        rule->esw = esw;
        rule->cookie = cookie;
        hmap_insert(&esw->rules, &rule->node, hash_ptr(rule));
    }
    return rule;
}

static void
rule_set_in_device(struct esw *esw, struct esw_rule *rule)
{
    rule->in_device = true;
    hmap_insert(&esw->rules_by_priv, &rule->priv_node, hash_priv(rule->priv));
}

struct esw_rule *
esw_rule_find(const struct esw *esw, uint64_t priv)
{
    struct esw_rule *rule;
    HMAP_FOR_EACH_WITH_HASH (rule, priv_node, hash_priv(priv), &esw->rules_by_priv) {
        if (rule->priv == priv) {
            return rule;
        }
    }
    return NULL;
}

static void
queues_free(struct esw *esw)
{
    for (uint32_t q = 0; esw->queues && q < esw->n_queues; q++) {
        struct esw_async_queue__ *queue = &esw->queues[q];
        for (size_t i = 0; queue->pending && i < queue->n_pending; i++) {
            free(queue->pending[i].enc);
        }
        free(queue->pending);
        free(queue->done);
    }
    free(esw->queues);
    esw->queues = NULL;
}

static void
pattern_template_free(struct esw_pattern_template *pt)
{
    esw_wire_rule_destroy(pt->copy__);
    free(pt);
}

static void
actions_template_free(struct esw_actions_template *at)
{
    esw_wire_rule_destroy(at->copy__);
    free(at);
}

void
esw_close(struct esw *esw)
{
    if (!esw) {
        return;
    }
    struct esw_rule *rule, *next;
    HMAP_FOR_EACH_SAFE (rule, next, node, &esw->rules) {
        rule->table = NULL;
        rule_free(esw, rule);
    }
    struct esw_template_table *table, *tnext;
    LIST_FOR_EACH_SAFE (table, tnext, node, &esw->tables) {
        if (esw->class->table_destroy) {
            esw->class->table_destroy(esw, table);
        }
        ovnic_list_remove(&table->node);
        free(table->pts);
        free(table->ats);
        free(table);
    }
    struct esw_pattern_template *pt, *ptnext;
    LIST_FOR_EACH_SAFE (pt, ptnext, node, &esw->pattern_templates) {
        if (esw->class->pattern_template_destroy) {
            esw->class->pattern_template_destroy(esw, pt);
        }
        ovnic_list_remove(&pt->node);
        pattern_template_free(pt);
    }
    struct esw_actions_template *at, *atnext;
    LIST_FOR_EACH_SAFE (at, atnext, node, &esw->actions_templates) {
        if (esw->class->actions_template_destroy) {
            esw->class->actions_template_destroy(esw, at);
        }
        ovnic_list_remove(&at->node);
        actions_template_free(at);
    }
    queues_free(esw);
    hmap_destroy(&esw->rules);
    hmap_destroy(&esw->rules_by_priv);
    esw->class->close(esw);
}

const char *
esw_backend_name(const struct esw *esw)
{
    return esw->class->name;
}

/* Every operation passes a non-NULL error to the backend. */
#define LOCAL_ERROR(ERROR)           \
    struct esw_error local_error__;  \
    esw_error_clear(&local_error__); \
    if (!(ERROR)) {                  \
        (ERROR) = &local_error__;    \
    }

static int
not_supported(struct esw *esw, struct esw_error *error, const char *what)
{
    return esw_error_set(error, -ENOTSUP, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                         "not supported by this eSwitch backend", "%s: %s",
                         esw->class->name, what);
}

int
esw_caps_get(struct esw *esw, struct esw_caps *caps, struct esw_error *error)
{
    LOCAL_ERROR(error);
    if (!esw->class->caps_get) {
        return not_supported(esw, error, "capabilities");
    }
    struct esw_caps tmp;
    memset(&tmp, 0, sizeof tmp);
    int retval = esw->class->caps_get(esw, &tmp, error);
    if (retval) {
        return retval;
    }
    if (!tmp.async_native) {
        tmp.async_queues = esw->n_queues;
        tmp.async_queue_size = esw->queue_size;
    }
    *caps = tmp;
    return 0;
}

int
esw_port_list(struct esw *esw, struct esw_port *ports, size_t max,
              struct esw_error *error)
{
    LOCAL_ERROR(error);
    if (!esw->class->port_list) {
        return not_supported(esw, error, "port list");
    }
    return esw->class->port_list(esw, ports, max, error);
}

/* Checks what every backend requires of a rule. */
static int
rule_check(const struct rte_flow_attr *attr, const struct rte_flow_item items[],
           const struct rte_flow_action actions[], struct esw_error *error)
{
    if (!attr) {
        return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ATTR, -1,
                             "rule without attributes", NULL);
    }
    if (!attr->transfer || attr->ingress || attr->egress) {
        return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ATTR_TRANSFER, -1,
                             "eSwitch rules need transfer=1 and no ingress/egress", NULL);
    }
    if (!items) {
        return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ITEM_NUM, -1,
                             "rule without items", NULL);
    }
    if (!actions) {
        return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_NUM, -1,
                             "rule without actions", NULL);
    }
    return 0;
}

int
esw_rule_validate(struct esw *esw, const struct rte_flow_attr *attr,
                  const struct rte_flow_item items[],
                  const struct rte_flow_action actions[], struct esw_error *error)
{
    LOCAL_ERROR(error);
    int retval = rule_check(attr, items, actions, error);
    if (retval) {
        return retval;
    }
    if (!esw->class->rule_validate) {
        return not_supported(esw, error, "validation");
    }
    return esw->class->rule_validate(esw, attr, items, actions, error);
}

int
esw_rule_create(struct esw *esw, const struct rte_flow_attr *attr,
                const struct rte_flow_item items[],
                const struct rte_flow_action actions[], void *cookie,
                struct esw_rule **rulep, struct esw_error *error)
{
    LOCAL_ERROR(error);
    int retval = rule_check(attr, items, actions, error);
    if (retval) {
        return retval;
    }
    struct esw_rule *rule = rule_alloc(esw, cookie);
    if (!rule) {
        return esw_error_set(error, -ENOMEM, RTE_FLOW_ERROR_TYPE_HANDLE, -1,
                             "out of memory", NULL);
    }
    retval = esw->class->rule_create(esw, rule, attr, items, actions, error);
    if (retval) {
        log_rejected(esw, attr, items, actions, error);
        rule_free(esw, rule);
        return retval;
    }
    rule_set_in_device(esw, rule);
    *rulep = rule;
    return 0;
}

static bool
rule_is_valid(const struct esw *esw, const struct esw_rule *rule)
{
    const struct esw_rule *r;
    HMAP_FOR_EACH_WITH_HASH (r, node, hash_ptr(rule), &esw->rules) {
        if (r == rule) {
            return true;
        }
    }
    return false;
}

int
esw_rule_destroy(struct esw *esw, struct esw_rule *rule, struct esw_error *error)
{
    LOCAL_ERROR(error);
    if (!rule) {
        return 0;
    }
    if (!rule_is_valid(esw, rule)) {
        return esw_error_set(error, -ENOENT, RTE_FLOW_ERROR_TYPE_HANDLE, -1,
                             "unknown rule handle", NULL);
    }
    int retval = 0;
    if (rule->in_device) {
        retval = esw->class->rule_destroy(esw, rule, error);
    }
    rule_free(esw, rule);
    return retval;
}

void *
esw_rule_cookie(const struct esw_rule *rule)
{
    return rule->cookie;
}

int
esw_rule_query(struct esw *esw, struct esw_rule *rule, bool reset,
               struct esw_rule_stats *stats, struct esw_error *error)
{
    LOCAL_ERROR(error);
    if (!esw->class->rule_query) {
        return not_supported(esw, error, "rule query");
    }
    if (!rule || !rule_is_valid(esw, rule) || !rule->in_device) {
        return esw_error_set(error, -ENOENT, RTE_FLOW_ERROR_TYPE_HANDLE, -1,
                             "rule not in the device", NULL);
    }
    struct esw_rule_stats tmp;
    memset(&tmp, 0, sizeof tmp);
    int retval = esw->class->rule_query(esw, rule, reset, &tmp, error);
    if (!retval) {
        *stats = tmp;
    }
    return retval;
}

int
esw_aged_get(struct esw *esw, struct esw_rule **rules, size_t max,
             struct esw_error *error)
{
    LOCAL_ERROR(error);
    if (!esw->class->aged_get) {
        return not_supported(esw, error, "aged rules");
    }
    return esw->class->aged_get(esw, rules, max, error);
}

int
esw_flush(struct esw *esw, struct esw_error *error)
{
    LOCAL_ERROR(error);
    int retval = 0;
    if (esw->class->flush) {
        retval = esw->class->flush(esw, error);
    } else {
        struct esw_rule *rule;
        HMAP_FOR_EACH (rule, node, &esw->rules) {
            if (rule->in_device) {
                int r = esw->class->rule_destroy(esw, rule, error);
                retval = retval ? retval : r;
            }
        }
    }
    struct esw_rule *rule, *next;
    HMAP_FOR_EACH_SAFE (rule, next, node, &esw->rules) {
        rule_free(esw, rule);
    }
    return retval;
}

size_t
esw_rule_count(const struct esw *esw)
{
    return hmap_count(&esw->rules);
}

int
esw_meter_set(struct esw *esw, uint32_t id, uint64_t rate, uint64_t burst,
              struct esw_error *error)
{
    LOCAL_ERROR(error);
    if (!rate) {
        return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF, -1,
                             "meter rate of 0", NULL);
    }
    if (!esw->class->meter_set) {
        return not_supported(esw, error, "meters");
    }
    return esw->class->meter_set(esw, id, rate, burst, error);
}

/* ---------------------------------------------------------------------------------- */
/* Template/async path. */

static bool
native_async(const struct esw *esw)
{
    return esw->class->async_create != NULL;
}

/* Checks the items, or the actions and masks, of a template and copies them deeply
 * into '*copyp' (caller owns; free with esw_wire_rule_destroy()) by a round trip
 * through the wire codec. */
static int
template_copy(const struct rte_flow_item items[], const struct rte_flow_action actions[],
              const struct rte_flow_action masks[], struct esw_wire_rule **copyp,
              struct esw_error *error)
{
    struct rte_flow_attr fattr = {.transfer = 1};
    uint8_t *enc;
    size_t len;
    int retval = esw_wire_rule_encode(&fattr, items, actions, masks, &enc, &len, error);

    if (retval) {
        return retval;
    }
    retval = esw_wire_rule_decode(enc, len, copyp, error);
    free(enc);
    return retval;
}

int
esw_pattern_template_create(struct esw *esw,
                            const struct rte_flow_pattern_template_attr *attr,
                            const struct rte_flow_item items[],
                            struct esw_pattern_template **ptp, struct esw_error *error)
{
    LOCAL_ERROR(error);
    if (!attr || !items) {
        return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ATTR, -1,
                             "pattern template without attributes or items", NULL);
    }
    struct rte_flow_action end = {.type = RTE_FLOW_ACTION_TYPE_END};
    struct esw_wire_rule *copy;
    int retval = template_copy(items, &end, NULL, &copy, error);
    if (retval) {
        return retval;
    }
    struct esw_pattern_template *pt = calloc(1, sizeof *pt);
    if (!pt) {
        esw_wire_rule_destroy(copy);
        return esw_error_set(error, -ENOMEM, RTE_FLOW_ERROR_TYPE_HANDLE, -1,
                             "out of memory", NULL);
    }
    pt->attr = *attr;
    pt->copy__ = copy;
    pt->items = copy->items;
    if (native_async(esw)) {
        retval = esw->class->pattern_template_create(esw, pt, error);
        if (retval) {
            pattern_template_free(pt);
            return retval;
        }
    }
    ovnic_list_push_back(&esw->pattern_templates, &pt->node);
    *ptp = pt;
    return 0;
}

int
esw_pattern_template_destroy(struct esw *esw, struct esw_pattern_template *pt,
                             struct esw_error *error)
{
    LOCAL_ERROR(error);
    if (!pt) {
        return 0;
    }
    if (pt->n_users) {
        return esw_error_set(error, -EBUSY, RTE_FLOW_ERROR_TYPE_STATE, -1,
                             "pattern template used by a table", NULL);
    }
    if (native_async(esw)) {
        esw->class->pattern_template_destroy(esw, pt);
    }
    ovnic_list_remove(&pt->node);
    pattern_template_free(pt);
    return 0;
}

int
esw_actions_template_create(struct esw *esw,
                            const struct rte_flow_actions_template_attr *attr,
                            const struct rte_flow_action actions[],
                            const struct rte_flow_action masks[],
                            struct esw_actions_template **atp, struct esw_error *error)
{
    LOCAL_ERROR(error);
    if (!attr || !actions || !masks) {
        return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ATTR, -1,
                             "actions template without attributes, actions or masks",
                             NULL);
    }
    struct rte_flow_item end = {.type = RTE_FLOW_ITEM_TYPE_END};
    struct esw_wire_rule *copy;
    int retval = template_copy(&end, actions, masks, &copy, error);
    if (retval) {
        return retval;
    }
    struct esw_actions_template *at = calloc(1, sizeof *at);
    if (!at) {
        esw_wire_rule_destroy(copy);
        return esw_error_set(error, -ENOMEM, RTE_FLOW_ERROR_TYPE_HANDLE, -1,
                             "out of memory", NULL);
    }
    at->attr = *attr;
    at->copy__ = copy;
    at->actions = copy->actions;
    at->masks = copy->masks;
    if (native_async(esw)) {
        retval = esw->class->actions_template_create(esw, at, error);
        if (retval) {
            actions_template_free(at);
            return retval;
        }
    }
    ovnic_list_push_back(&esw->actions_templates, &at->node);
    *atp = at;
    return 0;
}

int
esw_actions_template_destroy(struct esw *esw, struct esw_actions_template *at,
                             struct esw_error *error)
{
    LOCAL_ERROR(error);
    if (!at) {
        return 0;
    }
    if (at->n_users) {
        return esw_error_set(error, -EBUSY, RTE_FLOW_ERROR_TYPE_STATE, -1,
                             "actions template used by a table", NULL);
    }
    if (native_async(esw)) {
        esw->class->actions_template_destroy(esw, at);
    }
    ovnic_list_remove(&at->node);
    actions_template_free(at);
    return 0;
}

int
esw_template_table_create(struct esw *esw,
                          const struct rte_flow_template_table_attr *attr,
                          struct esw_pattern_template *pts[], size_t n_pts,
                          struct esw_actions_template *ats[], size_t n_ats,
                          struct esw_template_table **tablep, struct esw_error *error)
{
    LOCAL_ERROR(error);
    if (!attr || !n_pts || !n_ats || !pts || !ats || n_pts > 255 || n_ats > 255 ||
        !attr->nb_flows) {
        return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ATTR, -1,
                             "table needs 1 to 255 templates of each kind and nb_flows",
                             NULL);
    }
    if (!attr->flow_attr.transfer) {
        return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ATTR_TRANSFER, -1,
                             "eSwitch tables need transfer=1", NULL);
    }
    struct esw_caps caps;
    int retval = esw_caps_get(esw, &caps, error);
    if (retval) {
        return retval;
    }
    if (caps.max_groups && attr->flow_attr.group >= caps.max_groups) {
        return esw_error_set(error, -ERANGE, RTE_FLOW_ERROR_TYPE_ATTR_GROUP, -1,
                             "group beyond the device's", "%" PRIu32 " >= %" PRIu32,
                             attr->flow_attr.group, caps.max_groups);
    }
    if (caps.max_priorities && attr->flow_attr.priority >= caps.max_priorities) {
        return esw_error_set(error, -ERANGE, RTE_FLOW_ERROR_TYPE_ATTR_PRIORITY, -1,
                             "priority beyond the device's", "%" PRIu32 " >= %" PRIu32,
                             attr->flow_attr.priority, caps.max_priorities);
    }
    uint64_t reserved = attr->nb_flows;
    struct esw_template_table *t;
    LIST_FOR_EACH (t, node, &esw->tables) {
        reserved += t->attr.nb_flows;
    }
    if (caps.max_rules && reserved > caps.max_rules) {
        return esw_error_set(error, -ENOSPC, RTE_FLOW_ERROR_TYPE_HANDLE, -1,
                             "cannot reserve the table's rules", "%" PRIu64 " > %" PRIu32,
                             reserved, caps.max_rules);
    }
    struct esw_template_table *table = calloc(1, sizeof *table);
    if (!table) {
        goto err_nomem;
    }
    table->pts = calloc(n_pts, sizeof *table->pts);
    table->ats = calloc(n_ats, sizeof *table->ats);
    if (!table->pts || !table->ats) {
        goto err_free_table;
    }
    memcpy(table->pts, pts, n_pts * sizeof *pts);
    memcpy(table->ats, ats, n_ats * sizeof *ats);
    table->n_pts = n_pts;
    table->n_ats = n_ats;
    table->attr = *attr;
    if (native_async(esw)) {
        retval = esw->class->table_create(esw, table, error);
        if (retval) {
            free(table->pts);
            free(table->ats);
            free(table);
            return retval;
        }
    }
    for (size_t i = 0; i < n_pts; i++) {
        pts[i]->n_users++;
    }
    for (size_t i = 0; i < n_ats; i++) {
        ats[i]->n_users++;
    }
    ovnic_list_push_back(&esw->tables, &table->node);
    *tablep = table;
    return 0;

err_free_table:
    free(table->pts);
    free(table->ats);
    free(table);
err_nomem:
    return esw_error_set(error, -ENOMEM, RTE_FLOW_ERROR_TYPE_HANDLE, -1, "out of memory",
                         NULL);
}

int
esw_template_table_destroy(struct esw *esw, struct esw_template_table *table,
                           struct esw_error *error)
{
    LOCAL_ERROR(error);
    if (!table) {
        return 0;
    }
    if (table->n_rules) {
        return esw_error_set(error, -EBUSY, RTE_FLOW_ERROR_TYPE_STATE, -1,
                             "table still holds rules", "%" PRIu32, table->n_rules);
    }
    if (native_async(esw)) {
        esw->class->table_destroy(esw, table);
    }
    for (size_t i = 0; i < table->n_pts; i++) {
        table->pts[i]->n_users--;
    }
    for (size_t i = 0; i < table->n_ats; i++) {
        table->ats[i]->n_users--;
    }
    ovnic_list_remove(&table->node);
    free(table->pts);
    free(table->ats);
    free(table);
    return 0;
}

static struct esw_async_queue__ *
queue_get(struct esw *esw, uint32_t queue, struct esw_error *error)
{
    if (queue >= esw->n_queues) {
        esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                      "no such queue", "%" PRIu32, queue);
        return NULL;
    }
    struct esw_async_queue__ *q = &esw->queues[queue];
    if (q->n_pending + q->n_done >= esw->queue_size) {
        esw_error_set(error, -EAGAIN, RTE_FLOW_ERROR_TYPE_STATE, -1,
                      "queue full: pull completions first", NULL);
        return NULL;
    }
    return q;
}

/* Builds the rule of an emulated async create: the rule's specs with the pattern
 * template's masks, the actions template's fixed confs or the rule's, encoded. */
static int
async_merge(const struct esw_template_table *table, const struct rte_flow_item items[],
            const struct esw_pattern_template *pt, const struct rte_flow_action actions[],
            const struct esw_actions_template *at, uint8_t **encp, size_t *lenp,
            struct esw_error *error)
{
    struct rte_flow_item mitems[ESW_WIRE_MAX_ITEMS + 1];
    struct rte_flow_action mactions[ESW_WIRE_MAX_ACTIONS + 1];
    size_t i;
    for (i = 0; pt->items[i].type != RTE_FLOW_ITEM_TYPE_END; i++) {
        if (items[i].type != pt->items[i].type) {
            return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ITEM, (int)i,
                                 "item does not fit the pattern template", NULL);
        }
        mitems[i] = (struct rte_flow_item){
            .type = items[i].type,
            .spec = items[i].spec,
            .mask = pt->items[i].mask ? pt->items[i].mask : items[i].mask,
        };
    }
    if (items[i].type != RTE_FLOW_ITEM_TYPE_END) {
        return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ITEM_NUM, (int)i,
                             "more items than the pattern template", NULL);
    }
    mitems[i].type = RTE_FLOW_ITEM_TYPE_END;
    for (i = 0; at->actions[i].type != RTE_FLOW_ACTION_TYPE_END; i++) {
        if (actions[i].type != at->actions[i].type) {
            return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ACTION, (int)i,
                                 "action does not fit the actions template", NULL);
        }
        mactions[i] = (struct rte_flow_action){
            .type = actions[i].type,
            .conf = at->masks[i].conf && at->actions[i].conf ? at->actions[i].conf
                                                             : actions[i].conf,
        };
    }
    if (actions[i].type != RTE_FLOW_ACTION_TYPE_END) {
        return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_NUM, (int)i,
                             "more actions than the actions template", NULL);
    }
    mactions[i].type = RTE_FLOW_ACTION_TYPE_END;
    return esw_wire_rule_encode(&table->attr.flow_attr, mitems, mactions, NULL, encp,
                                lenp, error);
}

int
esw_async_create(struct esw *esw, uint32_t queue, struct esw_template_table *table,
                 const struct rte_flow_item items[], uint8_t pt_index,
                 const struct rte_flow_action actions[], uint8_t at_index, void *cookie,
                 void *user_data, struct esw_rule **rulep, struct esw_error *error)
{
    LOCAL_ERROR(error);
    if (!table || !items || !actions || pt_index >= table->n_pts ||
        at_index >= table->n_ats) {
        return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                             "bad table, template index, items or actions", NULL);
    }
    if (table->n_rules >= table->attr.nb_flows) {
        return esw_error_set(error, -ENOSPC, RTE_FLOW_ERROR_TYPE_HANDLE, -1,
                             "template table full", "%" PRIu32, table->attr.nb_flows);
    }
    struct esw_rule *rule;
    if (native_async(esw)) {
        rule = rule_alloc(esw, cookie);
        if (!rule) {
            return esw_error_set(error, -ENOMEM, RTE_FLOW_ERROR_TYPE_HANDLE, -1,
                                 "out of memory", NULL);
        }
        rule->table = table;
        table->n_rules++;
        int retval = esw->class->async_create(esw, queue, rule, items, pt_index, actions,
                                              at_index, user_data, error);
        if (retval) {
            rule_free(esw, rule);
            return retval;
        }
        *rulep = rule;
        return 0;
    }

    struct esw_async_queue__ *q = queue_get(esw, queue, error);
    if (!q) {
        return error->err.code;
    }
    uint8_t *enc;
    size_t len;
    int retval = async_merge(table, items, table->pts[pt_index], actions,
                             table->ats[at_index], &enc, &len, error);
    if (retval) {
        return retval;
    }
    rule = rule_alloc(esw, cookie);
    if (!rule) {
        free(enc);
        return esw_error_set(error, -ENOMEM, RTE_FLOW_ERROR_TYPE_HANDLE, -1,
                             "out of memory", NULL);
    }
    rule->table = table;
    table->n_rules++;
    q->pending[q->n_pending++] = (struct esw_op__){
        .rule = rule, .user_data = user_data, .enc = enc, .enc_len = len};
    *rulep = rule;
    return 0;
}

int
esw_async_destroy(struct esw *esw, uint32_t queue, struct esw_rule *rule, void *user_data,
                  struct esw_error *error)
{
    LOCAL_ERROR(error);
    if (!rule || !rule_is_valid(esw, rule)) {
        return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_HANDLE, -1,
                             "unknown rule handle", NULL);
    }
    if (native_async(esw)) {
        return esw->class->async_destroy(esw, queue, rule, user_data, error);
    }
    struct esw_async_queue__ *q = queue_get(esw, queue, error);
    if (!q) {
        return error->err.code;
    }
    for (uint32_t qi = 0; qi < esw->n_queues; qi++) {
        const struct esw_async_queue__ *other = &esw->queues[qi];
        for (size_t i = 0; i < other->n_pending; i++) {
            if (other->pending[i].rule == rule && other->pending[i].is_destroy) {
                return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_HANDLE, -1,
                                     "rule already being destroyed", NULL);
            }
        }
    }
    q->pending[q->n_pending++] =
        (struct esw_op__){.is_destroy = true, .rule = rule, .user_data = user_data};
    return 0;
}

static void
complete(struct esw_async_queue__ *q, const struct esw_op__ *op, int status,
         enum rte_flow_error_type type)
{
    q->done[q->n_done++] = (struct esw_op_result){
        .status = status,
        .type = status ? type : RTE_FLOW_ERROR_TYPE_NONE,
        .is_destroy = op->is_destroy,
        .rule = op->rule,
        .user_data = op->user_data,
    };
}

int
esw_push(struct esw *esw, uint32_t queue, struct esw_error *error)
{
    LOCAL_ERROR(error);
    if (native_async(esw)) {
        return esw->class->push(esw, queue, error);
    }
    if (queue >= esw->n_queues) {
        return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                             "no such queue", "%" PRIu32, queue);
    }
    struct esw_async_queue__ *q = &esw->queues[queue];
    size_t n = q->n_pending;
    int first_error = 0;

    /* Decode every create of the batch, then insert them in one bulk call when the
     * backend has one. */
    struct esw_wire_rule **decoded = calloc(n ? n : 1, sizeof *decoded);
    struct esw_rule **rules = calloc(n ? n : 1, sizeof *rules);
    const struct rte_flow_attr **attrs = calloc(n ? n : 1, sizeof *attrs);
    const struct rte_flow_item **items = calloc(n ? n : 1, sizeof *items);
    const struct rte_flow_action **actions = calloc(n ? n : 1, sizeof *actions);
    int *status = calloc(n ? n : 1, sizeof *status);
    enum rte_flow_error_type *types = calloc(n ? n : 1, sizeof *types);
    size_t *op_of = calloc(n ? n : 1, sizeof *op_of);
    if (!decoded || !rules || !attrs || !items || !actions || !status || !types ||
        !op_of) {
        first_error = esw_error_set(error, -ENOMEM, RTE_FLOW_ERROR_TYPE_HANDLE, -1,
                                    "out of memory", NULL);
        goto out;
    }
    size_t n_creates = 0;
    for (size_t i = 0; i < n; i++) {
        struct esw_op__ *op = &q->pending[i];
        if (op->is_destroy) {
            continue;
        }
        struct esw_error derr;
        esw_error_clear(&derr);
        if (esw_wire_rule_decode(op->enc, op->enc_len, &decoded[n_creates], &derr)) {
            decoded[n_creates] = NULL;
        }
        rules[n_creates] = op->rule;
        if (decoded[n_creates]) {
            attrs[n_creates] = &decoded[n_creates]->attr;
            items[n_creates] = decoded[n_creates]->items;
            actions[n_creates] = decoded[n_creates]->actions;
        }
        op_of[n_creates++] = i;
    }
    bool bulk_done = false;
    if (esw->class->rules_create_bulk && n_creates) {
        bool all_decoded = true;
        for (size_t k = 0; k < n_creates; k++) {
            all_decoded = all_decoded && decoded[k];
        }
        if (all_decoded) {
            struct esw_error berr;
            esw_error_clear(&berr);
            int r = esw->class->rules_create_bulk(esw, rules, attrs, items, actions,
                                                  n_creates, status, types, &berr);
            if (!r) {
                bulk_done = true;
            } else {
                for (size_t k = 0; k < n_creates; k++) {
                    status[k] = r;
                    types[k] = berr.type;
                }
                bulk_done = true;
                first_error =
                    esw_error_set(error, r, berr.type, -1, "bulk insertion failed", "%s",
                                  berr.err.message ? berr.err.message : "");
            }
        }
    }
    if (!bulk_done) {
        for (size_t k = 0; k < n_creates; k++) {
            struct esw_error rerr;
            esw_error_clear(&rerr);
            if (!decoded[k]) {
                status[k] = -ENOMEM;
                types[k] = RTE_FLOW_ERROR_TYPE_HANDLE;
                continue;
            }
            status[k] = esw->class->rule_create(esw, rules[k], attrs[k], items[k],
                                                actions[k], &rerr);
            types[k] = rerr.type;
            if (status[k]) {
                log_rejected(esw, attrs[k], items[k], actions[k], &rerr);
            }
        }
    }

    /* Completions, in the order the operations were enqueued. */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        struct esw_op__ *op = &q->pending[i];
        if (!op->is_destroy) {
            if (!status[k]) {
                rule_set_in_device(esw, op->rule);
            }
            complete(q, op, status[k], types[k]);
            if (status[k]) {
                rule_free(esw, op->rule);
            }
            k++;
        } else if (!rule_is_valid(esw, op->rule)) {
            /* Its create failed earlier in this batch. */
            complete(q, op, -ENOENT, RTE_FLOW_ERROR_TYPE_HANDLE);
        } else {
            struct esw_error derr;
            esw_error_clear(&derr);
            int r = 0;
            if (op->rule->in_device) {
                r = esw->class->rule_destroy(esw, op->rule, &derr);
                if (!r) {
                    hmap_remove(&esw->rules_by_priv, &op->rule->priv_node);
                    op->rule->in_device = false;
                }
            }
            complete(q, op, r, derr.type);
        }
    }
    for (size_t i = 0; i < n; i++) {
        free(q->pending[i].enc);
    }
    q->n_pending = 0;

out:
    for (size_t j = 0; decoded && j < n; j++) {
        esw_wire_rule_destroy(decoded[j]);
    }
    free(decoded);
    free(rules);
    free(attrs);
    free(items);
    free(actions);
    free(status);
    free(types);
    free(op_of);
    return first_error;
}

int
esw_pull(struct esw *esw, uint32_t queue, struct esw_op_result results[], size_t max,
         struct esw_error *error)
{
    LOCAL_ERROR(error);
    if (native_async(esw)) {
        return esw->class->pull(esw, queue, results, max, error);
    }
    if (queue >= esw->n_queues) {
        return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                             "no such queue", "%" PRIu32, queue);
    }
    struct esw_async_queue__ *q = &esw->queues[queue];
    size_t n = MIN(max, q->n_done);
    for (size_t i = 0; i < n; i++) {
        results[i] = q->done[i];
        if (results[i].is_destroy && !results[i].status) {
            struct esw_rule *rule = results[i].rule;
            if (rule_is_valid(esw, rule)) {
                rule_free(esw, rule);
            }
        }
    }
    memmove(q->done, q->done + n, (q->n_done - n) * sizeof *q->done);
    q->n_done -= n;
    return (int)n;
}
