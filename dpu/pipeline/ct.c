/* ovnic: the conntrack interface and its deterministic backend. */
#include "dpu/pipeline/ct.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/util/hash.h"
#include "shared/util/log.h"
#include "shared/util/util.h"

OVNIC_LOG_MODULE(ct);

int
ct_zone_parse(const json_t *value, uint16_t *zone)
{
    json_int_t v = -1;

    if (json_is_integer(value)) {
        v = json_integer_value(value);
    } else if (json_is_string(value)) {
        const char *s = json_string_value(value);
        size_t len = strlen(s);

        /* At most 5 digits, so that the value fits before the range check. */
        if (!len || len > 5 || strspn(s, "0123456789") != len) {
            return -EINVAL;
        }
        v = strtol(s, NULL, 10);
    }
    if (v < 0 || v > UINT16_MAX) {
        return -EINVAL;
    }
    *zone = (uint16_t)v;
    return 0;
}

static const char *const ct_op_names[] = {
    [CT_OP_NEXT] = "ct_next",
    [CT_OP_COMMIT] = "ct_commit",
    [CT_OP_COMMIT_NAT] = "ct_commit_nat",
    [CT_OP_DNAT] = "ct_dnat",
    [CT_OP_SNAT] = "ct_snat",
    [CT_OP_LB] = "ct_lb",
    [CT_OP_CLEAR] = "ct_clear",
    [CT_OP_SNAT_TO_VIP] = "ct_snat_to_vip",
};

#define CT_N_OP_TYPES (CT_OP_SNAT_TO_VIP + 1)

const char *
ct_op_type_name(enum ct_op_type type)
{
    return (unsigned int)type < ARRAY_SIZE(ct_op_names) ? ct_op_names[type] : "?";
}

static const struct {
    const char *name;
    uint32_t bit;
} ct_flags[] = {
    {"new", CT_STATE_NEW},   {"est", CT_STATE_EST},   {"rel", CT_STATE_REL},
    {"rpl", CT_STATE_RPL},   {"inv", CT_STATE_INV},   {"trk", CT_STATE_TRK},
    {"snat", CT_STATE_SNAT}, {"dnat", CT_STATE_DNAT},
};

int
ct_state_parse(const char *s, uint32_t *state)
{
    uint32_t bits = 0;
    const char *p = s;

    while (*p) {
        size_t n = strcspn(p, ",| ");
        if (n) {
            bool found = false;
            for (size_t i = 0; i < ARRAY_SIZE(ct_flags); i++) {
                if (strlen(ct_flags[i].name) == n && !strncmp(p, ct_flags[i].name, n)) {
                    bits |= ct_flags[i].bit;
                    found = true;
                    break;
                }
            }
            if (!found) {
                return -EINVAL;
            }
        }
        p += n;
        if (*p) {
            p++;
        }
    }
    *state = bits;
    return 0;
}

const char *
ct_state_format(uint32_t state, char *buf, size_t size)
{
    size_t len = 0;

    if (!size) {
        return buf;
    }
    buf[0] = '\0';
    /* trk first, as ovn-trace lists it. */
    static const int order[] = {5, 0, 1, 2, 3, 4, 6, 7};
    for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
        if (state & ct_flags[order[i]].bit) {
            int n = snprintf(buf + len, size - len, "%s%s", len ? "|" : "",
                             ct_flags[order[i]].name);
            if (n < 0 || (size_t)n >= size - len) {
                break;
            }
            len += (size_t)n;
        }
    }
    if (!len) {
        snprintf(buf, size, "0");
    }
    return buf;
}

/* ---- ct_det ---- */

struct ct_det {
    uint32_t states[CT_DET_MAX_STATES];
    size_t n_states;
    size_t next_state;

    bool has_lb_dst;
    bool lb_dst_ipv6;
    lex_u128 lb_dst_ip;
    uint16_t lb_dst_port; /* 0: any. */

    uint64_t counts[CT_N_OP_TYPES];
};

int
ct_det_create(struct ct_det **ctp)
{
    struct ct_det *ct = calloc(1, sizeof *ct);
    if (!ct) {
        return -ENOMEM;
    }
    *ctp = ct;
    return 0;
}

void
ct_det_destroy(struct ct_det *ct)
{
    free(ct);
}

int
ct_det_push_state(struct ct_det *ct, const char *flags)
{
    uint32_t state;
    int error = ct_state_parse(flags, &state);
    if (error) {
        return error;
    }
    if (ct->n_states >= CT_DET_MAX_STATES) {
        return -ENOSPC;
    }
    ct->states[ct->n_states++] = state | CT_STATE_TRK;
    return 0;
}

static lex_u128
ip6_to_u128(const uint8_t b[16])
{
    lex_u128 v = 0;
    for (int i = 0; i < 16; i++) {
        v = (v << 8) | b[i];
    }
    return v;
}

static int
parse_port(const char *s, uint16_t *port)
{
    char *end;
    unsigned long v;

    if (!*s || *s == '-' || *s == '+') {
        return -EINVAL;
    }
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v == 0 || v > 65535) {
        return -EINVAL;
    }
    *port = (uint16_t)v;
    return 0;
}

int
ct_det_set_lb_dst(struct ct_det *ct, const char *ip_port)
{
    char buf[INET6_ADDRSTRLEN + 16];
    uint16_t port = 0;
    struct in_addr a4;
    struct in6_addr a6;

    if (!ip_port) {
        ct->has_lb_dst = false;
        return 0;
    }
    if (strlen(ip_port) >= sizeof buf) {
        return -EINVAL;
    }
    snprintf(buf, sizeof buf, "%s", ip_port);

    if (buf[0] == '[') {
        char *close = strchr(buf, ']');
        if (!close) {
            return -EINVAL;
        }
        *close = '\0';
        if (close[1] == ':') {
            if (parse_port(close + 2, &port)) {
                return -EINVAL;
            }
        } else if (close[1]) {
            return -EINVAL;
        }
        if (inet_pton(AF_INET6, buf + 1, &a6) != 1) {
            return -EINVAL;
        }
        ct->lb_dst_ipv6 = true;
        ct->lb_dst_ip = ip6_to_u128(a6.s6_addr);
    } else if (inet_pton(AF_INET6, buf, &a6) == 1) {
        ct->lb_dst_ipv6 = true;
        ct->lb_dst_ip = ip6_to_u128(a6.s6_addr);
    } else {
        char *colon = strchr(buf, ':');
        if (colon) {
            *colon = '\0';
            if (parse_port(colon + 1, &port)) {
                return -EINVAL;
            }
        }
        if (inet_pton(AF_INET, buf, &a4) != 1) {
            return -EINVAL;
        }
        ct->lb_dst_ipv6 = false;
        ct->lb_dst_ip = ntohl(a4.s_addr);
    }
    ct->lb_dst_port = port;
    ct->has_lb_dst = true;
    return 0;
}

uint64_t
ct_det_count(const struct ct_det *ct, enum ct_op_type type)
{
    return (unsigned int)type < CT_N_OP_TYPES ? ct->counts[type] : 0;
}

/* The ct_state the next looking-up operation reports. */
static uint32_t
det_next_state(struct ct_det *ct)
{
    if (ct->next_state < ct->n_states) {
        return ct->states[ct->next_state++];
    }
    return CT_STATE_TRK | CT_STATE_EST;
}

/* The L4 port field of 'key' for its IP protocol, by direction. */
static bool
l4_port_field(const struct pkey *key, bool dst, enum pkey_field_id *f)
{
    switch (key->f.ip_proto) {
    case 6:
        *f = dst ? PKEY_F_TCP_DST : PKEY_F_TCP_SRC;
        return true;
    case 17:
        *f = dst ? PKEY_F_UDP_DST : PKEY_F_UDP_SRC;
        return true;
    case 132:
        *f = dst ? PKEY_F_SCTP_DST : PKEY_F_SCTP_SRC;
        return true;
    default:
        return false;
    }
}

static bool
key_is_ipv6(const struct pkey *key)
{
    return ntohs(key->f.eth_type) == 0x86dd;
}

/* Rewrites the destination (or source) address and port of 'key'. */
static void
det_nat(struct pkey *key, bool dst, bool ipv6, lex_u128 ip, uint16_t port)
{
    if (ipv6) {
        pkey_field_set(key, dst ? PKEY_F_IP6_DST : PKEY_F_IP6_SRC, ip);
    } else {
        pkey_field_set(key, dst ? PKEY_F_IP4_DST : PKEY_F_IP4_SRC, ip);
    }
    enum pkey_field_id pf;
    if (port && l4_port_field(key, dst, &pf)) {
        pkey_field_set(key, pf, port);
    }
}

/* Hash of the packet's addresses, protocol and ports: picks a backend. */
static uint32_t
det_flow_hash(const struct pkey *key)
{
    uint32_t h = 0;
    enum pkey_field_id ids[] = {PKEY_F_IP4_SRC,  PKEY_F_IP4_DST,  PKEY_F_IP6_SRC,
                                PKEY_F_IP6_DST,  PKEY_F_IP_PROTO, PKEY_F_TCP_SRC,
                                PKEY_F_TCP_DST,  PKEY_F_UDP_SRC,  PKEY_F_UDP_DST,
                                PKEY_F_SCTP_SRC, PKEY_F_SCTP_DST};
    for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
        const struct pkey_field_info *fi = pkey_field_info(ids[i]);
        h = hash_add32(h, hash_bytes((const uint8_t *)key + fi->ofs, fi->n_bytes, 0));
    }
    return hash_finish(h);
}

static int
det_lb_choose(const struct ct_det *ct, const struct action_lb *lb, const struct pkey *key)
{
    if (!lb || !lb->has_backends || !lb->n_backends) {
        return -1;
    }
    if (ct->has_lb_dst) {
        for (size_t i = 0; i < lb->n_backends; i++) {
            const struct action_backend *b = &lb->backends[i];
            if (b->ipv6 == ct->lb_dst_ipv6 && b->ip == ct->lb_dst_ip &&
                (!ct->lb_dst_port || b->port == ct->lb_dst_port)) {
                return (int)i;
            }
        }
    }
    return (int)(det_flow_hash(key) % lb->n_backends);
}

static void
set_natted_bits(struct pkey *key, const struct ct_op *op)
{
    uint32_t bits = CT_MARK_NATTED;
    if (op->lb->ct_flag == ACTION_CT_FLAG_SKIP_SNAT) {
        bits |= CT_MARK_SKIP_SNAT;
    } else if (op->lb->ct_flag == ACTION_CT_FLAG_FORCE_SNAT) {
        bits |= CT_MARK_FORCE_SNAT;
    }
    if (op->lb_mark) {
        key->f.ct_mark = htonl(ntohl(key->f.ct_mark) | bits);
    } else {
        lex_u128 label = pkey_field_get(key, PKEY_F_CT_LABEL);
        pkey_field_set(key, PKEY_F_CT_LABEL, label | bits);
    }
}

static int
det_execute(void *ct_, struct ct_op *op, struct pkey *key)
{
    struct ct_det *ct = ct_;
    uint32_t state = ntohl(key->f.ct_state);

    if ((unsigned int)op->type >= CT_N_OP_TYPES) {
        return -EINVAL;
    }
    ct->counts[op->type]++;
    op->backend = -1;

    switch (op->type) {
    case CT_OP_NEXT:
        state = det_next_state(ct);
        break;

    case CT_OP_DNAT:
    case CT_OP_SNAT:
        state = det_next_state(ct);
        if (op->has_nat_ip && !(state & CT_STATE_INV)) {
            bool dst = op->type == CT_OP_DNAT;
            if (op->nat_ipv6 != key_is_ipv6(key)) {
                return -EAFNOSUPPORT;
            }
            det_nat(key, dst, op->nat_ipv6, op->nat_ip, op->nat_port_lo);
            state |= dst ? CT_STATE_DNAT : CT_STATE_SNAT;
        }
        break;

    case CT_OP_LB: {
        state = det_next_state(ct);
        if (state & CT_STATE_INV) {
            break;
        }
        int i = det_lb_choose(ct, op->lb, key);
        if (i >= 0) {
            const struct action_backend *b = &op->lb->backends[i];
            if (b->ipv6 != key_is_ipv6(key)) {
                return -EAFNOSUPPORT;
            }
            det_nat(key, true, b->ipv6, b->ip, b->port);
            op->backend = i;
            state |= CT_STATE_DNAT;
            set_natted_bits(key, op);
        } else if (ct->has_lb_dst && (!op->lb || !op->lb->has_backends)) {
            if (ct->lb_dst_ipv6 != key_is_ipv6(key)) {
                return -EAFNOSUPPORT;
            }
            det_nat(key, true, ct->lb_dst_ipv6, ct->lb_dst_ip, ct->lb_dst_port);
            state |= CT_STATE_DNAT;
        }
        break;
    }

    case CT_OP_COMMIT: {
        uint32_t mark = ntohl(key->f.ct_mark);
        key->f.ct_mark =
            htonl((mark & ~op->mark_mask) | (op->mark_value & op->mark_mask));
        lex_u128 label = pkey_field_get(key, PKEY_F_CT_LABEL);
        pkey_field_set(key, PKEY_F_CT_LABEL,
                       (label & ~op->label_mask) | (op->label_value & op->label_mask));
        break;
    }

    case CT_OP_COMMIT_NAT:
    case CT_OP_SNAT_TO_VIP:
        break;

    case CT_OP_CLEAR:
        key->f.ct_mark = 0;
        memset(key->f.ct_label, 0, sizeof key->f.ct_label);
        key->f.ct_zone = 0;
        state = 0;
        break;
    }

    if (op->type != CT_OP_CLEAR && op->recirc) {
        key->f.ct_zone = htons(op->zone);
    }
    key->f.ct_state = htonl(state);
    op->state_out = state;
    return 0;
}

const struct ct_class ct_det_class = {
    .name = "deterministic",
    .execute = det_execute,
};
