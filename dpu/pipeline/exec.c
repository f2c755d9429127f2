/* ovnic: the action executor of the pipeline. */
#include "dpu/pipeline/exec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "shared/util/hash.h"
#include "shared/util/log.h"
#include "shared/util/util.h"

OVNIC_LOG_MODULE(exec);

/* What one exec_run() works with. */
struct xstate {
    const struct exec_env *env;
    const struct exec_params *params;
    struct pkey *key;
    struct exec_result *r;
    lex_u128 stack[EXEC_MAX_STACK];
    size_t n_stack;
};

static const char *const verdict_names[] = {
    [EXEC_NEXT] = "next",
    [EXEC_OUTPUT] = "output",
    [EXEC_DROP] = "drop",
    [EXEC_PAUSE] = "pause",
};

const char *
exec_verdict_name(enum exec_verdict verdict)
{
    return (unsigned int)verdict < ARRAY_SIZE(verdict_names) ? verdict_names[verdict]
                                                             : "?";
}

bool
exec_action_pauses(enum action_type type)
{
    return type == ACTION_PUT_DHCPV4_OPTS || type == ACTION_PUT_DHCPV6_OPTS ||
           type == ACTION_PUT_ND_RA_OPTS || type == ACTION_DNS_LOOKUP;
}

bool
exec_field_is_header(enum pkey_field_id field)
{
    return pkey_field_info(field)->ofs >= PKEY_STAGE_END[0] * 8;
}

void
exec_result_init(struct exec_result *r, struct pkey_mask *wc)
{
    memset(r, 0, sizeof *r);
    r->verdict = EXEC_DROP;
    r->queue_id = -1;
    r->wc = wc;
}

void
exec_result_init_fork(struct exec_result *child, const struct exec_result *parent,
                      const struct exec_fork *fork)
{
    size_t n = MIN(fork->change_mark, parent->n_changes);

    exec_result_init(child, parent->wc);
    memcpy(child->changes, parent->changes, n * sizeof *child->changes);
    child->n_changes = n;
    child->change_floor = n;
    child->written = parent->written;
}

static int
fail(struct xstate *st, int code, const char *msg)
{
    struct exec_result *r = st->r;
    if (!r->error) {
        r->error = code;
        r->error_msg = msg;
    }
    r->verdict = EXEC_DROP;
    return code;
}

static lex_u128
field_mask(int n_bits)
{
    return n_bits >= 128 ? ~(lex_u128)0 : ((lex_u128)1 << n_bits) - 1;
}

/* ---- Key access with wildcard and change tracking. ---- */

/* Returns key field 'id', noting that the bits 'bits' of it were consulted. */
static lex_u128
key_read(struct xstate *st, enum pkey_field_id id, lex_u128 bits)
{
    struct exec_result *r = st->r;

    if (r->wc) {
        lex_u128 need = bits & ~pkey_mask_field_get(&r->written, id);
        if (need) {
            pkey_mask_field_set(r->wc, id, pkey_mask_field_get(r->wc, id) | need);
        }
    }
    return pkey_field_get(st->key, id);
}

static void
note_overflow(struct exec_result *r)
{
    static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(5, 5);
    r->n_overflows++;
    OLOG_WARN_RL(&rl, "walk result full: the flow will not be cached");
}

/* Records that header field 'id' now holds the key's value under 'mask'. */
static void
add_change(struct exec_result *r, const struct pkey *key, enum pkey_field_id id,
           lex_u128 mask)
{
    lex_u128 value = pkey_field_get(key, id);

    for (size_t i = r->n_changes; i-- > r->change_floor;) {
        struct exec_change *c = &r->changes[i];
        if (c->field == id) {
            c->mask |= mask;
            c->value = value & c->mask;
            return;
        }
    }
    if (r->n_changes >= EXEC_MAX_CHANGES) {
        note_overflow(r);
        return;
    }
    struct exec_change *c = &r->changes[r->n_changes++];
    c->field = id;
    c->mask = mask;
    c->value = value & mask;
}

/* Sets bits 'mask' of key field 'id' to those of 'value'. */
static void
key_write(struct xstate *st, enum pkey_field_id id, lex_u128 value, lex_u128 mask)
{
    struct exec_result *r = st->r;
    lex_u128 old = pkey_field_get(st->key, id);

    mask &= field_mask(pkey_field_info(id)->n_bits);
    pkey_field_set(st->key, id, (old & ~mask) | (value & mask));
    pkey_mask_field_set(&r->written, id, pkey_mask_field_get(&r->written, id) | mask);
    if (exec_field_is_header(id)) {
        add_change(r, st->key, id, mask);
    }
}

/* Marks whole fields as written without recording header changes (the ct backend
 * or a recirculation set them). */
static void
mark_written(struct exec_result *r, enum pkey_field_id id)
{
    pkey_mask_field_set(&r->written, id, field_mask(pkey_field_info(id)->n_bits));
}

/* ---- Action fields (symtab storage fields, register views, actions-only fields). */

static bool
is_frag_mtu(const struct symtab_field *sf)
{
    return sf->id == SYMTAB_F_ICMP4_FRAG_MTU || sf->id == SYMTAB_F_ICMP6_FRAG_MTU;
}

static int
field_width(const struct action_field *f)
{
    return symtab_field_is_string(f->field) ? 32 : f->n_bits;
}

/* Applies 'fn' to each register-sized piece of 'f'.  For a plain field there is one
 * piece.  A piece is: key field 'id', its bits [lo, lo + n) corresponding to bits
 * [pos, pos + n) of the action field's value. */
struct piece {
    enum pkey_field_id id;
    int lo;
    int pos;
    int n;
};

static int
field_pieces(const struct action_field *f, struct piece pieces[4], size_t *n_pieces)
{
    const struct symtab_field *sf = f->field;

    *n_pieces = 0;
    if (sf->n_view) {
        for (int i = 0; i < sf->n_view; i++) {
            int lo = MAX(f->ofs, 32 * i);
            int hi = MIN(f->ofs + f->n_bits, 32 * (i + 1));
            if (lo >= hi) {
                continue;
            }
            enum pkey_field_id id;
            int reg = (int)sf->view + (sf->n_view - 1 - i);
            if (pkey_field_from_symtab((enum symtab_field_id)reg, &id) ||
                *n_pieces >= 4) {
                return -EINVAL;
            }
            pieces[(*n_pieces)++] = (struct piece){id, lo - 32 * i, lo - f->ofs, hi - lo};
        }
        return 0;
    }
    enum pkey_field_id id;
    if (pkey_field_from_symtab(sf->id, &id)) {
        return -EINVAL;
    }
    pieces[0] =
        (struct piece){id, symtab_field_is_string(sf) ? 0 : f->ofs, 0, field_width(f)};
    *n_pieces = 1;
    return 0;
}

static int
fld_get(struct xstate *st, const struct action_field *f, lex_u128 *valuep)
{
    struct piece pieces[4];
    size_t n;
    lex_u128 value = 0;

    if (is_frag_mtu(f->field)) {
        *valuep = (st->r->frag_mtu >> f->ofs) & field_mask(f->n_bits);
        return 0;
    }
    if (field_pieces(f, pieces, &n)) {
        return fail(st, -EINVAL, "field not in the packet key");
    }
    for (size_t i = 0; i < n; i++) {
        const struct piece *p = &pieces[i];
        lex_u128 bits = field_mask(p->n) << p->lo;
        lex_u128 v = (key_read(st, p->id, bits) & bits) >> p->lo;
        value |= v << p->pos;
    }
    *valuep = value;
    return 0;
}

/* Writes the bits 'mask' (both relative to the field's bit 0) of 'value'. */
static int
fld_set_masked(struct xstate *st, const struct action_field *f, lex_u128 value,
               lex_u128 mask)
{
    struct piece pieces[4];
    size_t n;

    mask &= field_mask(field_width(f));
    if (is_frag_mtu(f->field)) {
        lex_u128 m = mask << f->ofs;
        st->r->frag_mtu = (uint32_t)((st->r->frag_mtu & ~m) | ((value << f->ofs) & m));
        st->r->has_frag_mtu = true;
        return 0;
    }
    if (field_pieces(f, pieces, &n)) {
        return fail(st, -EINVAL, "field not in the packet key");
    }
    for (size_t i = 0; i < n; i++) {
        const struct piece *p = &pieces[i];
        lex_u128 pm = ((mask >> p->pos) & field_mask(p->n)) << p->lo;
        lex_u128 pv = ((value >> p->pos) & field_mask(p->n)) << p->lo;
        if (pm) {
            key_write(st, p->id, pv, pm);
        }
    }
    return 0;
}

static int
fld_set(struct xstate *st, const struct action_field *f, lex_u128 value)
{
    return fld_set_masked(st, f, value, field_mask(field_width(f)));
}

static int
port_lookup(struct xstate *st, const char *name, uint32_t *keyp)
{
    if (!name[0]) {
        *keyp = 0;
        return 0;
    }
    if (!st->env->port_key || st->env->port_key(st->env->aux, name, keyp)) {
        static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(5, 5);
        OLOG_WARN_RL(&rl, "actions name unknown logical port \"%s\"", name);
        return fail(st, -ENOENT, "unknown logical port");
    }
    return 0;
}

/* ---- Conntrack. ---- */

static uint16_t
zone_from_reg(struct xstate *st, uint8_t reg)
{
    lex_u128 v = key_read(st, PKEY_F_REG0 + reg, 0xffff);
    return (uint16_t)(v & 0xffff);
}

static enum ct_op_type
ct_type_of(enum action_type t)
{
    switch (t) {
    case ACTION_CT_NEXT:
        return CT_OP_NEXT;
    case ACTION_CT_COMMIT:
        return CT_OP_COMMIT;
    case ACTION_CT_COMMIT_NAT:
        return CT_OP_COMMIT_NAT;
    case ACTION_CT_DNAT:
    case ACTION_CT_DNAT_IN_CZONE:
        return CT_OP_DNAT;
    case ACTION_CT_SNAT:
    case ACTION_CT_SNAT_IN_CZONE:
        return CT_OP_SNAT;
    case ACTION_CT_LB:
    case ACTION_CT_LB_MARK:
        return CT_OP_LB;
    case ACTION_CT_SNAT_TO_VIP:
        return CT_OP_SNAT_TO_VIP;
    case ACTION_CT_CLEAR:
    default:
        return CT_OP_CLEAR;
    }
}

/* The register holding the zone of action 't' (see docs/pipeline-actions.md). */
static uint8_t
ct_zone_reg(enum action_type t, bool is_router)
{
    if (!is_router) {
        return CT_REG_CT_ZONE;
    }
    switch (t) {
    case ACTION_CT_COMMIT:
    case ACTION_CT_SNAT:
    case ACTION_CT_SNAT_TO_VIP:
    case ACTION_CT_DNAT_IN_CZONE:
    case ACTION_CT_SNAT_IN_CZONE:
        return CT_REG_SNAT_ZONE;
    default:
        return CT_REG_DNAT_ZONE;
    }
}

/* Folds the ct_mark/ct_label writes of ct_commit { ... } into 'op'. */
static int
ct_commit_fields(struct xstate *st, const struct action_list *nested, struct ct_op *op)
{
    for (size_t i = 0; nested && i < nested->n_ops; i++) {
        const struct action *a = &nested->ops[i];
        lex_u128 value, mask;

        if (a->type == ACTION_LOAD && !a->value.is_string) {
            value = a->value.value;
            mask = a->value.masked ? a->value.mask : field_mask(a->dst.n_bits);
        } else if (a->type == ACTION_MOVE) {
            int error = fld_get(st, &a->src, &value);
            if (error) {
                return error;
            }
            mask = field_mask(a->dst.n_bits);
        } else {
            return fail(st, -EINVAL, "unsupported op inside ct_commit");
        }
        mask &= field_mask(a->dst.n_bits);
        value &= mask;
        if (a->dst.field->id == SYMTAB_F_CT_MARK) {
            op->mark_mask |= (uint32_t)(mask << a->dst.ofs);
            op->mark_value = (op->mark_value & ~(uint32_t)(mask << a->dst.ofs)) |
                             (uint32_t)(value << a->dst.ofs);
        } else if (a->dst.field->id == SYMTAB_F_CT_LABEL) {
            op->label_mask |= mask << a->dst.ofs;
            op->label_value =
                (op->label_value & ~(mask << a->dst.ofs)) | (value << a->dst.ofs);
        } else {
            return fail(st, -EINVAL, "ct_commit writes a field other than ct_mark/label");
        }
    }
    return 0;
}

static void
set_next(struct xstate *st, enum action_pipeline pipeline, int table)
{
    struct exec_result *r = st->r;
    r->verdict = EXEC_NEXT;
    r->next_pipeline =
        pipeline == ACTION_PIPELINE_CURRENT ? st->params->pipeline : pipeline;
    r->next_table = table < 0 ? st->params->table + 1 : table;
}

static int
run_ct(struct xstate *st, const struct action *a, bool *stop)
{
    struct exec_result *r = st->r;
    struct ct_op op;

    memset(&op, 0, sizeof op);
    op.type = ct_type_of(a->type);
    op.action = a->type;
    op.backend = -1;
    op.change_mark = r->n_changes;
    if (op.type != CT_OP_CLEAR) {
        op.zone_reg = ct_zone_reg(a->type, st->params->is_router);
        op.zone = zone_from_reg(st, op.zone_reg);
    }
    switch (op.type) {
    case CT_OP_NEXT:
        op.recirc = true;
        break;
    case CT_OP_COMMIT: {
        op.commit = true;
        int error = ct_commit_fields(st, a->nested, &op);
        if (error) {
            return error;
        }
        break;
    }
    case CT_OP_COMMIT_NAT:
        op.commit = true;
        op.recirc = true;
        break;
    case CT_OP_DNAT:
    case CT_OP_SNAT:
        op.recirc = true;
        op.commit = a->nat.has_ip;
        op.has_nat_ip = a->nat.has_ip;
        op.nat_ipv6 = a->nat.ipv6;
        op.nat_ip = a->nat.ip;
        op.nat_port_lo = a->nat.port_lo;
        op.nat_port_hi = a->nat.port_hi;
        break;
    case CT_OP_LB:
        op.recirc = true;
        op.commit = true;
        op.lb = &a->lb;
        op.lb_mark = a->type == ACTION_CT_LB_MARK;
        break;
    case CT_OP_SNAT_TO_VIP:
        op.commit = true;
        break;
    case CT_OP_CLEAR:
        break;
    }

    if (st->env->ct_class) {
        int error = st->env->ct_class->execute(st->env->ct, &op, st->key);
        if (error) {
            return fail(st, error, "conntrack operation failed");
        }
    }
    /* What the tracker sets is not read from the packet. */
    if (op.recirc || op.type == CT_OP_CLEAR || op.type == CT_OP_COMMIT) {
        mark_written(r, PKEY_F_CT_MARK);
        mark_written(r, PKEY_F_CT_LABEL);
    }
    if (op.recirc || op.type == CT_OP_CLEAR) {
        mark_written(r, PKEY_F_CT_STATE);
        mark_written(r, PKEY_F_CT_ZONE);
    }

    if (r->n_ct < EXEC_MAX_CT) {
        r->ct[r->n_ct++] = op;
    } else {
        note_overflow(r);
    }
    r->change_floor = r->n_changes;
    if (op.recirc) {
        set_next(st, ACTION_PIPELINE_CURRENT, -1);
        *stop = true;
    }
    return 0;
}

/* ---- Lookups and checks. ---- */

static int
write_bool(struct xstate *st, const struct action *a, bool b)
{
    return fld_set(st, &a->dst, b ? 1 : 0);
}

static int
eval_args(struct xstate *st, const struct action *a, lex_u128 args[3])
{
    memset(args, 0, 3 * sizeof *args);
    for (size_t i = 0; i < a->n_args && i < 3; i++) {
        int error = fld_get(st, &a->args[i], &args[i]);
        if (error) {
            return error;
        }
    }
    return 0;
}

static uint32_t
key_datapath(struct xstate *st)
{
    return (uint32_t)key_read(st, PKEY_F_DATAPATH, 0xffffffff);
}

static void
u128_to_mac(lex_u128 v, uint8_t mac[6])
{
    for (int i = 5; i >= 0; i--) {
        mac[i] = (uint8_t)v;
        v >>= 8;
    }
}

static lex_u128
mac_to_u128(const uint8_t mac[6])
{
    lex_u128 v = 0;
    for (int i = 0; i < 6; i++) {
        v = (v << 8) | mac[i];
    }
    return v;
}

/* lookup_arp, lookup_arp_ip, lookup_nd, lookup_nd_ip, get_arp, get_nd. */
static int
run_mac_binding(struct xstate *st, const struct action *a)
{
    lex_u128 args[3];
    uint8_t mac[6] = {0};
    bool ipv6 = a->type == ACTION_LOOKUP_ND || a->type == ACTION_LOOKUP_ND_IP ||
                a->type == ACTION_GET_ND;
    int error = eval_args(st, a, args);
    if (error) {
        return error;
    }
    uint32_t dp = key_datapath(st);
    bool found =
        st->env->mac_binding &&
        !st->env->mac_binding(st->env->aux, dp, (uint32_t)args[0], ipv6, args[1], mac);

    switch (a->type) {
    case ACTION_GET_ARP:
    case ACTION_GET_ND:
        if (!found) {
            memset(mac, 0, sizeof mac);
        }
        key_write(st, PKEY_F_ETH_DST, mac_to_u128(mac), field_mask(48));
        return 0;
    case ACTION_LOOKUP_ARP:
    case ACTION_LOOKUP_ND:
        return write_bool(st, a, found && mac_to_u128(mac) == args[2]);
    default:
        return write_bool(st, a, found);
    }
}

static int
run_fdb(struct xstate *st, const struct action *a)
{
    lex_u128 args[3];
    uint8_t mac[6];
    uint32_t port = 0;
    int error = eval_args(st, a, args);
    if (error) {
        return error;
    }
    u128_to_mac(a->type == ACTION_GET_FDB ? args[0] : args[1], mac);
    uint32_t dp = key_datapath(st);
    bool found = st->env->fdb && !st->env->fdb(st->env->aux, dp, mac, &port);

    if (a->type == ACTION_GET_FDB) {
        return fld_set(st, &a->dst, found ? port : 0);
    }
    return write_bool(st, a, found && port == (uint32_t)args[0]);
}

/* Hash of the packet's addresses, protocol and L4 ports, for select() and
 * fwd_group. */
static uint32_t
flow_hash(struct xstate *st)
{
    static const enum pkey_field_id ids[] = {
        PKEY_F_ETH_TYPE, PKEY_F_IP_PROTO, PKEY_F_IP4_SRC,  PKEY_F_IP4_DST,
        PKEY_F_IP6_SRC,  PKEY_F_IP6_DST,  PKEY_F_TCP_SRC,  PKEY_F_TCP_DST,
        PKEY_F_UDP_SRC,  PKEY_F_UDP_DST,  PKEY_F_SCTP_SRC, PKEY_F_SCTP_DST,
    };
    uint32_t h = 0;

    for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
        lex_u128 v = key_read(st, ids[i], field_mask(pkey_field_info(ids[i])->n_bits));
        h = hash_add64(h, (uint64_t)v);
        h = hash_add64(h, (uint64_t)(v >> 64));
    }
    return hash_finish(h);
}

static int
run_select(struct xstate *st, const struct action *a, bool *stop)
{
    uint64_t total = 0;
    const struct action_select_member *pick_member = NULL;

    for (size_t i = 0; i < a->n_members; i++) {
        total += a->members[i].weight;
        if (st->env->select_id && a->members[i].value == st->env->select_id) {
            pick_member = &a->members[i];
        }
    }
    if (!total) {
        return fail(st, -EINVAL, "select() without members");
    }
    if (!pick_member) {
        uint64_t pick = flow_hash(st) % total;
        pick_member = &a->members[a->n_members - 1];
        for (size_t i = 0; i < a->n_members; i++) {
            if (pick < a->members[i].weight) {
                pick_member = &a->members[i];
                break;
            }
            pick -= a->members[i].weight;
        }
    }
    int error = fld_set(st, &a->dst, pick_member->value);
    if (error) {
        return error;
    }
    /* Each member continues in the next table, as a group bucket resubmits. */
    set_next(st, ACTION_PIPELINE_CURRENT, -1);
    *stop = true;
    return 0;
}

static int
run_fwd_group(struct xstate *st, const struct action *a, bool *stop)
{
    size_t n = 0;

    for (size_t i = 0; i < a->n_kvs; i++) {
        n += !strcmp(a->kvs[i].key, "childports");
    }
    if (!n) {
        return fail(st, -EINVAL, "fwd_group without child ports");
    }
    size_t pick = flow_hash(st) % n;
    for (size_t i = 0; i < a->n_kvs; i++) {
        if (strcmp(a->kvs[i].key, "childports")) {
            continue;
        }
        if (!pick--) {
            uint32_t port;
            int error = port_lookup(st, a->kvs[i].value, &port);
            if (error) {
                return error;
            }
            key_write(st, PKEY_F_OUTPORT, port, 0xffffffff);
            st->r->verdict = EXEC_OUTPUT;
            st->r->outport = port;
            *stop = true;
            return 0;
        }
    }
    return 0;
}

/* A controller action: recorded with its arguments. */
static int
run_ctrl(struct xstate *st, const struct action_list *list, size_t index, bool *stop)
{
    struct exec_result *r = st->r;
    const struct action *a = &list->ops[index];
    struct exec_ctrl c;

    memset(&c, 0, sizeof c);
    c.type = a->type;
    c.action = a;
    c.pause = exec_action_pauses(a->type);
    c.change_mark = r->n_changes;
    int error = eval_args(st, a, c.args);
    if (error) {
        return error;
    }
    c.datapath = key_datapath(st);
    if (r->n_ctrl < EXEC_MAX_CTRL) {
        r->ctrl[r->n_ctrl++] = c;
    } else {
        note_overflow(r);
    }
    r->change_floor = r->n_changes;
    if (c.pause) {
        r->verdict = EXEC_PAUSE;
        r->pause_list = list;
        r->pause_index = index;
        *stop = true;
    }
    return 0;
}

static int
run_clone(struct xstate *st, const struct action *a)
{
    struct exec_result *r = st->r;

    if (r->n_forks >= EXEC_MAX_FORKS) {
        note_overflow(r);
        return 0;
    }
    struct exec_fork *f = &r->forks[r->n_forks++];
    f->actions = a->nested;
    f->key = *st->key;
    f->change_mark = r->n_changes;
    f->params = *st->params;
    r->change_floor = r->n_changes;
    return 0;
}

/* Runs one op.  Sets '*stop' when the list ends here. */
static int
run_op(struct xstate *st, const struct action_list *list, size_t index, bool *stop)
{
    const struct action *a = &list->ops[index];
    struct exec_result *r = st->r;
    const struct exec_env *env = st->env;
    lex_u128 v, w;
    int error;

    switch (a->type) {
    case ACTION_OUTPUT:
        r->verdict = EXEC_OUTPUT;
        r->outport = (uint32_t)key_read(st, PKEY_F_OUTPORT, 0xffffffff);
        *stop = true;
        return 0;

    case ACTION_NEXT:
        if (a->next.table >= ACTION_MAX_TABLES) {
            return fail(st, -EINVAL, "next table out of range");
        }
        set_next(st, a->next.pipeline, a->next.table);
        if (r->next_table >= ACTION_MAX_TABLES) {
            return fail(st, -EINVAL, "next table out of range");
        }
        *stop = true;
        return 0;

    case ACTION_LOAD:
        if (a->value.is_string) {
            uint32_t port;
            error = port_lookup(st, a->value.string ? a->value.string : "", &port);
            return error ? error : fld_set(st, &a->dst, port);
        }
        if (a->value.masked) {
            return fld_set_masked(st, &a->dst, a->value.value, a->value.mask);
        }
        return fld_set(st, &a->dst, a->value.value);

    case ACTION_MOVE:
        error = fld_get(st, &a->src, &v);
        return error ? error : fld_set(st, &a->dst, v);

    case ACTION_EXCHANGE:
        error = fld_get(st, &a->src, &v);
        if (!error) {
            error = fld_get(st, &a->dst, &w);
        }
        if (!error) {
            error = fld_set(st, &a->dst, v);
        }
        return error ? error : fld_set(st, &a->src, w);

    case ACTION_DEC_TTL:
        v = key_read(st, PKEY_F_IP_TTL, 0xff);
        if (v <= 1) {
            /* As OpenFlow's dec_ttl: the packet goes no further. */
            r->verdict = EXEC_DROP;
            *stop = true;
            return 0;
        }
        key_write(st, PKEY_F_IP_TTL, v - 1, 0xff);
        return 0;

    case ACTION_PUSH:
        if (st->n_stack >= EXEC_MAX_STACK) {
            return fail(st, -ENOSPC, "push() stack full");
        }
        error = fld_get(st, &a->dst, &v);
        if (!error) {
            st->stack[st->n_stack++] = v;
        }
        return error;

    case ACTION_POP:
        if (!st->n_stack) {
            return fail(st, -EINVAL, "pop() of an empty stack");
        }
        return fld_set(st, &a->dst, st->stack[--st->n_stack]);

    case ACTION_CT_NEXT:
    case ACTION_CT_COMMIT:
    case ACTION_CT_COMMIT_NAT:
    case ACTION_CT_DNAT:
    case ACTION_CT_SNAT:
    case ACTION_CT_DNAT_IN_CZONE:
    case ACTION_CT_SNAT_IN_CZONE:
    case ACTION_CT_LB:
    case ACTION_CT_LB_MARK:
    case ACTION_CT_CLEAR:
    case ACTION_CT_SNAT_TO_VIP:
        return run_ct(st, a, stop);

    case ACTION_CLONE:
        return run_clone(st, a);

    case ACTION_ARP:
    case ACTION_ND_NA:
    case ACTION_ND_NA_ROUTER:
    case ACTION_ND_NS:
    case ACTION_ICMP4:
    case ACTION_ICMP4_ERROR:
    case ACTION_ICMP6:
    case ACTION_ICMP6_ERROR:
    case ACTION_TCP_RESET:
    case ACTION_SCTP_ABORT:
    case ACTION_REJECT:
    case ACTION_IGMP:
    case ACTION_PUT_ARP:
    case ACTION_PUT_ND:
    case ACTION_PUT_DHCPV4_OPTS:
    case ACTION_PUT_DHCPV6_OPTS:
    case ACTION_PUT_ND_RA_OPTS:
    case ACTION_DNS_LOOKUP:
    case ACTION_TRIGGER_EVENT:
    case ACTION_BIND_VPORT:
    case ACTION_HANDLE_SVC_CHECK:
    case ACTION_HANDLE_DHCPV6_REPLY:
    case ACTION_PUT_FDB:
    case ACTION_COMMIT_ECMP_NH:
    case ACTION_COMMIT_LB_AFF:
        return run_ctrl(st, list, index, stop);

    case ACTION_GET_ARP:
    case ACTION_GET_ND:
    case ACTION_LOOKUP_ARP:
    case ACTION_LOOKUP_ARP_IP:
    case ACTION_LOOKUP_ND:
    case ACTION_LOOKUP_ND_IP:
        return run_mac_binding(st, a);

    case ACTION_LOOKUP_FDB:
    case ACTION_GET_FDB:
        return run_fdb(st, a);

    case ACTION_SET_QUEUE:
        r->queue_id = (int)a->integer;
        return 0;

    case ACTION_LOG:
        if (r->n_logs < EXEC_MAX_LOGS) {
            r->logs[r->n_logs++] = a;
        } else {
            note_overflow(r);
        }
        return 0;

    case ACTION_SET_METER:
        r->meter = a;
        return 0;

    case ACTION_CHECK_PKT_LARGER:
        r->pkt_len_checked = true;
        r->pkt_len_threshold = (uint32_t)MIN(a->integer, UINT32_MAX);
        return write_bool(st, a, st->params->pkt_len > a->integer);

    case ACTION_CHK_LB_HAIRPIN:
    case ACTION_CHK_LB_HAIRPIN_REPLY:
        return write_bool(st, a,
                          env->lb_hairpin &&
                              env->lb_hairpin(env->aux, st->key, r->wc,
                                              a->type == ACTION_CHK_LB_HAIRPIN_REPLY));

    case ACTION_CHK_ECMP_NH_MAC:
    case ACTION_CHK_ECMP_NH:
        return write_bool(st, a,
                          env->ecmp_nh &&
                              env->ecmp_nh(env->aux, st->key, r->wc,
                                           a->type == ACTION_CHK_ECMP_NH_MAC));

    case ACTION_CHK_LB_AFF:
        return write_bool(st, a, env->lb_aff && env->lb_aff(env->aux, st->key, r->wc));

    case ACTION_CHECK_IN_PORT_SEC:
    case ACTION_CHECK_OUT_PORT_SEC:
        return write_bool(st, a,
                          env->port_sec &&
                              env->port_sec(env->aux, st->key, r->wc,
                                            a->type == ACTION_CHECK_OUT_PORT_SEC));

    case ACTION_SELECT:
        return run_select(st, a, stop);

    case ACTION_FWD_GROUP:
        return run_fwd_group(st, a, stop);

    case ACTION_N_TYPES:
    default:
        return fail(st, -EINVAL, "unknown action type");
    }
}

static int
run_list(struct xstate *st, const struct action_list *list, size_t start)
{
    struct exec_result *r = st->r;

    r->verdict = EXEC_DROP;
    for (size_t i = start; i < list->n_ops; i++) {
        bool stop = false;
        int error = run_op(st, list, i, &stop);
        if (error) {
            return fail(st, error, "action failed");
        }
        if (stop) {
            if (r->verdict == EXEC_NEXT || r->verdict == EXEC_OUTPUT) {
                r->n_skipped += (uint32_t)(list->n_ops - i - 1);
            }
            return 0;
        }
    }
    return 0;
}

int
exec_run(const struct exec_env *env, const struct exec_params *params,
         const struct action_list *list, struct pkey *key, struct exec_result *r)
{
    struct xstate st = {.env = env, .params = params, .key = key, .r = r};

    r->pause_list = NULL;
    if (!list) {
        r->verdict = EXEC_DROP;
        return 0;
    }
    return run_list(&st, list, 0);
}

int
exec_resume(const struct exec_env *env, const struct exec_params *params,
            struct pkey *key, struct exec_result *r, lex_u128 value)
{
    struct xstate st = {.env = env, .params = params, .key = key, .r = r};
    const struct action_list *list = r->pause_list;
    size_t index = r->pause_index;

    if (r->verdict != EXEC_PAUSE || !list || index >= list->n_ops) {
        return -EINVAL;
    }
    r->pause_list = NULL;
    const struct action *a = &list->ops[index];
    if (a->dst.field) {
        int error = fld_set(&st, &a->dst, value);
        if (error) {
            return error;
        }
    }
    return run_list(&st, list, index + 1);
}

void
exec_changes_diff(const struct pkey *before, const struct pkey *after,
                  struct exec_result *r)
{
    for (int id = 0; id < PKEY_N_FIELDS; id++) {
        if (!exec_field_is_header(id)) {
            continue;
        }
        lex_u128 a = pkey_field_get(before, id);
        lex_u128 b = pkey_field_get(after, id);
        if (a != b) {
            add_change(r, after, id, field_mask(pkey_field_info(id)->n_bits));
        }
    }
}
