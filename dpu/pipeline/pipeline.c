/* ovnic: the pipeline proper (see pipeline.h). */
#include "dpu/pipeline/pipeline.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/controller/lflow.h"
#include "dpu/controller/symtab.h"
#include "dpu/ovsdb/datum.h"
#include "dpu/ovsdb/replica.h"
#include "dpu/pipeline/classifier.h"
#include "dpu/pipeline/ctrl.h"
#include "dpu/pipeline/exec.h"
#include "dpu/pipeline/packet.h"
#include "dpu/pipeline/physical.h"
#include "shared/util/log.h"

OVNIC_LOG_MODULE(pipeline);

#define N_LOG_REGS 10 /* reg0..reg9: cleared on entry to the egress pipeline. */
#define FLAG_LOOPBACK 0x1
#define CTRL_PKT_MAX 4096 /* Room for a controller-built packet beyond the input. */

/* One parsed Logical_Flow, shared by the datapaths it applies to. */
struct pl_flow {
    struct lflow_parsed *parsed;
    char *match;
    char *actions;
};

/* What a datapath's classifier resolves names with. */
struct pl_dp_ctx {
    const struct phys *phys;
    const struct phys_datapath *dp;
};

/* Everything a sync builds, swapped in as a whole. */
struct pl_state {
    struct phys phys;
    struct pl_dp_ctx *dp_ctx;
    size_t n_dps;
    struct pl_flow *flows;
    size_t n_flows;
    char **errors;
    size_t n_errors;
    uint64_t n_rules;
};

struct pipeline {
    struct pipeline_config cfg;
    char *chassis;
    struct symtab *symtab;
    struct pl_state *st; /* Never NULL. */
    uint64_t generation;
    struct pipeline_stats stats;
};

/* ---- Helpers on keys. ---- */

static uint32_t
key_get32(const struct pkey *key, enum pkey_field_id id)
{
    return (uint32_t)pkey_field_get(key, id);
}

static lex_u128
field_all(enum pkey_field_id id)
{
    return lex_u128_bits(0, pkey_field_info(id)->n_bits);
}

static void
mask_add(struct pkey_mask *mask, enum pkey_field_id id, lex_u128 bits)
{
    pkey_mask_field_set(mask, id, pkey_mask_field_get(mask, id) | bits);
}

/* ---- Sync. ---- */

static struct pl_state *
state_create(void)
{
    struct pl_state *st = calloc(1, sizeof *st);
    if (st) {
        phys_init(&st->phys);
    }
    return st;
}

static void
state_destroy(struct pl_state *st)
{
    if (!st) {
        return;
    }
    struct phys_datapath *dp;
    HMAP_FOR_EACH (dp, node, &st->phys.datapaths) {
        cls_destroy(dp->cls);
        dp->cls = NULL;
    }
    phys_destroy(&st->phys);
    for (size_t i = 0; i < st->n_flows; i++) {
        lflow_parsed_destroy(st->flows[i].parsed);
        free(st->flows[i].match);
        free(st->flows[i].actions);
    }
    free(st->flows);
    for (size_t i = 0; i < st->n_errors; i++) {
        free(st->errors[i]);
    }
    free(st->errors);
    free(st->dp_ctx);
    free(st);
}

static int
resolve_port_key(void *aux, const char *name, uint32_t *key)
{
    const struct pl_dp_ctx *ctx = aux;
    if (!strcmp(name, "none")) {
        /* The name of "no port" (what get_fdb() and lookups that find nothing
         * store), as ovn-controller resolves it. */
        *key = 0;
        return 0;
    }
    const struct phys_port *port = phys_port_find(ctx->phys, name);
    if (port && port->dp == ctx->dp) {
        /* A port of another datapath does not exist here (a flow shared by several
         * datapaths names the ports of all of them). */
        *key = port->key;
        return 0;
    }
    const struct phys_mcgroup *mc;
    HMAP_FOR_EACH (mc, node, &ctx->phys->mcgroups) {
        if (mc->dp == ctx->dp && !strcmp(mc->name, name)) {
            *key = mc->key;
            return 0;
        }
    }
    return -ENOENT;
}

static bool
resolve_resident(void *aux, const char *name)
{
    const struct pl_dp_ctx *ctx = aux;
    return phys_port_is_resident(ctx->phys, name);
}

static int
add_error(struct pl_state *st, const char *text)
{
    char **errors = realloc(st->errors, (st->n_errors + 1) * sizeof *errors);
    if (!errors) {
        return -ENOMEM;
    }
    st->errors = errors;
    errors[st->n_errors] = strdup(text);
    return errors[st->n_errors++] ? 0 : -ENOMEM;
}

/* Adds 'flow' to datapath 'dp_uuid'. */
static int
install_flow(struct pl_state *st, struct pl_flow *flow, const struct uuid *dp_uuid)
{
    struct phys_datapath *dp;
    HMAP_FOR_EACH (dp, node, &st->phys.datapaths) {
        if (uuid_equals(&dp->uuid, dp_uuid)) {
            break;
        }
    }
    if (!dp || flow->parsed->table_id < 0 ||
        flow->parsed->table_id >= ACTION_MAX_TABLES) {
        return 0;
    }
    unsigned int table = (unsigned int)flow->parsed->table_id;
    if (flow->parsed->pipeline == ACTION_PIPELINE_EGRESS) {
        table += PIPELINE_EGRESS_BASE;
    }
    struct ovnic_err err = {0};
    int error = cls_rule_add(dp->cls, table, (uint32_t)flow->parsed->priority,
                             flow->parsed->matches, flow, NULL, &err);
    if (error == -ENOMEM) {
        return error;
    }
    if (error) {
        char u[UUID_LEN + 1], buf[512];
        snprintf(buf, sizeof buf, "%s %s table %d (%s): %s",
                 uuid_to_string(&flow->parsed->uuid, u),
                 flow->parsed->pipeline == ACTION_PIPELINE_EGRESS ? "egress" : "ingress",
                 flow->parsed->table_id, flow->parsed->stage,
                 ovnic_err_format(&err, (char[256]){0}, 256));
        return add_error(st, buf);
    }
    st->n_rules++;
    return 0;
}

static int
build_flows(struct pipeline *p, struct pl_state *st, const struct ovsdb_replica *replica,
            struct ovnic_err *err)
{
    struct ovsdb_replica_table *t = ovsdb_replica_table(replica, "Logical_Flow");
    if (!t || !ovsdb_table_schema_find_column(ovsdb_replica_table_schema(t),
                                              "logical_datapath")) {
        return ovnic_err_set(err, -EINVAL, "Logical_Flow", "not an SB replica",
                             "table Logical_Flow missing");
    }
    struct ovsdb_replica_table *groups = ovsdb_replica_table(replica, "Logical_DP_Group");
    size_t n = ovsdb_replica_table_count(t);
    st->flows = calloc(n ? n : 1, sizeof *st->flows);
    if (!st->flows) {
        return -ENOMEM;
    }
    const struct ovsdb_row *row;
    OVSDB_TABLE_FOR_EACH_ROW (row, t) {
        struct lflow_parsed *parsed = NULL;
        struct lflow_error lerr;
        memset(&lerr, 0, sizeof lerr);
        int error = lflow_parse_row(p->symtab, replica, row, &parsed, &lerr, NULL);
        if (error == -ENOMEM) {
            return error;
        }
        if (error) {
            char buf[512];
            error = add_error(st, lflow_error_format(&lerr, buf, sizeof buf));
            if (error) {
                return error;
            }
            continue;
        }
        struct pl_flow *flow = &st->flows[st->n_flows++];
        flow->parsed = parsed;
        flow->match = strdup(ovsdb_datum_get_string(ovsdb_row_get(row, "match"), ""));
        flow->actions = strdup(ovsdb_datum_get_string(ovsdb_row_get(row, "actions"), ""));
        if (!flow->match || !flow->actions) {
            return -ENOMEM;
        }
        const struct uuid *dp =
            ovsdb_datum_get_uuid(ovsdb_row_get(row, "logical_datapath"));
        if (dp) {
            error = install_flow(st, flow, dp);
        }
        const struct ovsdb_datum *g = ovsdb_row_get(row, "logical_dp_group");
        const struct uuid *gu = g ? ovsdb_datum_get_uuid(g) : NULL;
        const struct ovsdb_row *grow =
            gu && groups ? ovsdb_replica_table_find(groups, gu) : NULL;
        const struct ovsdb_datum *dps = grow ? ovsdb_row_get(grow, "datapaths") : NULL;
        for (size_t i = 0; !error && dps && i < dps->n; i++) {
            error = install_flow(st, flow, &dps->keys[i].uuid);
        }
        if (error) {
            return error;
        }
    }
    return 0;
}

int
pipeline_sync(struct pipeline *p, const struct ovsdb_replica *replica,
              struct ovnic_err *err)
{
    struct pl_state *st = calloc(1, sizeof *st);
    if (!st) {
        return ovnic_err_set(err, -ENOMEM, "pipeline", "out of memory", NULL);
    }
    int error = phys_build(&st->phys, replica, p->chassis, p->cfg.trace_mode, err);
    if (error) {
        free(st);
        return error;
    }
    size_t n_dps = hmap_count(&st->phys.datapaths);
    st->dp_ctx = calloc(n_dps ? n_dps : 1, sizeof *st->dp_ctx);
    if (!st->dp_ctx) {
        error = -ENOMEM;
        goto fail;
    }
    struct phys_datapath *dp;
    HMAP_FOR_EACH (dp, node, &st->phys.datapaths) {
        struct pl_dp_ctx *ctx = &st->dp_ctx[st->n_dps++];
        ctx->phys = &st->phys;
        ctx->dp = dp;
        struct cls_resolver resolver = {
            .port_key = resolve_port_key,
            .is_chassis_resident = resolve_resident,
            .aux = ctx,
        };
        error = cls_create(&resolver, &dp->cls);
        if (error) {
            goto fail;
        }
    }
    error = build_flows(p, st, replica, err);
    if (error) {
        goto fail;
    }

    state_destroy(p->st);
    p->st = st;
    p->generation++;
    p->stats.generation = p->generation;
    p->stats.n_datapaths = hmap_count(&st->phys.datapaths);
    p->stats.n_ports = hmap_count(&st->phys.ports_by_name);
    p->stats.n_mcgroups = hmap_count(&st->phys.mcgroups);
    p->stats.n_lflows = st->n_flows;
    p->stats.n_lflow_errors = st->n_errors;
    p->stats.n_rules = st->n_rules;
    if (st->n_errors) {
        static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(5, 5);
        OLOG_WARN_RL(&rl, "%zu logical flows not installed, first: %s", st->n_errors,
                     st->errors[0]);
    }
    return 0;

fail:
    if (error == -ENOMEM) {
        ovnic_err_set(err, error, "pipeline", "out of memory", NULL);
    }
    state_destroy(st);
    return error;
}

int
pipeline_create(const struct pipeline_config *config, struct pipeline **pipelinep)
{
    if (!config->trace_mode && (!config->chassis || !config->chassis[0])) {
        return -EINVAL;
    }
    struct pipeline *p = calloc(1, sizeof *p);
    if (!p) {
        return -ENOMEM;
    }
    p->cfg = *config;
    p->cfg.max_depth = config->max_depth ? config->max_depth : PIPELINE_DEFAULT_MAX_DEPTH;
    p->cfg.max_lookups =
        config->max_lookups ? config->max_lookups : PIPELINE_DEFAULT_MAX_LOOKUPS;
    if (config->chassis && config->chassis[0]) {
        p->chassis = strdup(config->chassis);
        if (!p->chassis) {
            goto err_free;
        }
    }
    p->cfg.chassis = p->chassis;
    p->st = state_create();
    if (!p->st) {
        goto err_free;
    }
    if (symtab_create(&p->symtab)) {
        goto err_free;
    }
    *pipelinep = p;
    return 0;

err_free:
    state_destroy(p->st);
    free(p->chassis);
    free(p);
    return -ENOMEM;
}

void
pipeline_destroy(struct pipeline *p)
{
    if (p) {
        state_destroy(p->st);
        symtab_destroy(p->symtab);
        free(p->chassis);
        free(p);
    }
}

uint64_t
pipeline_generation(const struct pipeline *p)
{
    return p->generation;
}

void
pipeline_get_stats(const struct pipeline *p, struct pipeline_stats *stats)
{
    *stats = p->stats;
}

size_t
pipeline_n_lflow_errors(const struct pipeline *p)
{
    return p->st->n_errors;
}

const char *
pipeline_lflow_error(const struct pipeline *p, size_t i)
{
    return i < p->st->n_errors ? p->st->errors[i] : NULL;
}

int
pipeline_port_key(const struct pipeline *p, const char *name, uint32_t *key)
{
    const struct phys_port *port = phys_port_find(&p->st->phys, name);
    if (!port) {
        return -ENOENT;
    }
    *key = port->key;
    return 0;
}

const char *
pipeline_port_name(const struct pipeline *p, uint32_t datapath, uint32_t key)
{
    const struct phys_port *port = phys_port_find_key(&p->st->phys, datapath, key);
    if (port) {
        return port->name;
    }
    const struct phys_mcgroup *mc = phys_mcgroup_find(&p->st->phys, datapath, key);
    return mc ? mc->name : NULL;
}

int
pipeline_datapath_key(const struct pipeline *p, const char *name, uint32_t *key)
{
    const struct phys_datapath *dp = phys_datapath_find_name(&p->st->phys, name);
    if (!dp) {
        const struct phys_port *port = phys_port_find(&p->st->phys, name);
        dp = port ? port->dp : NULL;
    }
    if (!dp) {
        return -ENOENT;
    }
    *key = dp->key;
    return 0;
}

const char *
pipeline_datapath_name(const struct pipeline *p, uint32_t key)
{
    const struct phys_datapath *dp = phys_datapath_find(&p->st->phys, key);
    return dp ? dp->name : NULL;
}

int
pipeline_ct_zone(const struct pipeline *p, const char *name, uint16_t *zone)
{
    return phys_zone_find(&p->st->phys, name, zone);
}

/* ---- Results. ---- */

void
pipeline_result_init(struct pipeline_result *r)
{
    memset(r, 0, sizeof *r);
    megaflow_init(&r->megaflow);
}

void
pipeline_result_destroy(struct pipeline_result *r)
{
    if (!r) {
        return;
    }
    for (size_t i = 0; i < r->n_outputs; i++) {
        struct pipeline_output *o = &r->outputs[i];
        free(o->port);
        free(o->packet);
        free(o->chassis);
        free(o->encap_ip);
        free(o->network);
    }
    free(r->outputs);
    for (size_t i = 0; i < r->n_drops; i++) {
        free(r->drops[i].reason);
    }
    free(r->drops);
    for (size_t i = 0; i < r->n_ctrls; i++) {
        free(r->ctrls[i].text);
        free(r->ctrls[i].packet);
    }
    free(r->ctrls);
    for (size_t i = 0; i < r->n_trace; i++) {
        struct pipeline_trace_entry *t = &r->trace[i];
        free(t->dp_name);
        free(t->stage);
        free(t->match);
        free(t->actions);
        free(t->text);
    }
    free(r->trace);
    megaflow_destroy(&r->megaflow);
    free(r->error_msg);
    pipeline_result_init(r);
}

/* Grows '*array' (of '*n' elements of 'size' bytes) by one zeroed element. */
static void *
array_push(void **array, size_t *n, size_t size)
{
    char *a = realloc(*array, (*n + 1) * size);
    if (!a) {
        return NULL;
    }
    *array = a;
    memset(a + *n * size, 0, size);
    return a + (*n)++ * size;
}

static char *OVNIC_PRINTF(1, 0) xvasprintf(const char *fmt, va_list args)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, args) < 0) {
        return NULL;
    }
    return s;
}

/* ---- The walk. ---- */

/* One copy of the packet going through the pipeline. */
struct branch {
    struct pkey key;
    struct exec_result r;
    const struct phys_datapath *dp;
    uint8_t *pkt; /* The bytes r.changes apply to, or NULL.  Owned. */
    size_t len;
    bool from_ctrl;
    char built_by[PIPELINE_BUILT_BY_MAX]; /* See struct pipeline_output. */
    unsigned int crossings;
    unsigned int depth;
};

struct walk {
    struct pipeline *p;
    const struct phys *phys;
    struct pipeline_result *out;
    bool trace;
    bool from_tunnel;
    struct pkey_mask wc;
    struct exec_env env;
    const struct phys_datapath *cur_dp; /* For port names in actions. */
    unsigned int n_lookups;
    unsigned int n_branches;
    bool nomem;
    struct pkey mf_state; /* Headers as the composed actions leave them. */
    struct pkey start;    /* The key the walk started from. */
    struct exec_result tmp;
};

static const char *
pipeline_name(enum action_pipeline pl)
{
    return pl == ACTION_PIPELINE_EGRESS ? "egress" : "ingress";
}

static const char *
port_name(const struct walk *w, uint32_t dp, uint32_t key)
{
    const char *name = pipeline_port_name(w->p, dp, key);
    return name ? name : "";
}

static struct pipeline_trace_entry *OVNIC_PRINTF(6, 7)
    trace_add(struct walk *w, const struct branch *b, enum pipeline_trace_type type,
              enum action_pipeline pl, int table, const char *fmt, ...)
{
    if (!w->trace) {
        return NULL;
    }
    struct pipeline_trace_entry *t =
        array_push((void **)&w->out->trace, &w->out->n_trace, sizeof *t);
    if (!t) {
        w->nomem = true;
        return NULL;
    }
    t->type = type;
    t->depth = b->depth;
    t->datapath = b->dp ? b->dp->key : 0;
    t->dp_name = strdup(b->dp ? b->dp->name : "");
    t->pipeline = pl;
    t->table = table;
    va_list args;
    va_start(args, fmt);
    t->text = xvasprintf(fmt, args);
    va_end(args);
    if (!t->dp_name || !t->text) {
        w->nomem = true;
    }
    return t;
}

/* Adds the key bits of 'bits' that the branch did not write to the megaflow. */
static void
wc_add(struct walk *w, const struct branch *b, const struct pkey_mask *bits)
{
    if (b->from_ctrl) {
        return;
    }
    for (size_t i = 0; i < PKEY_N_WORDS; i++) {
        w->wc.w[i] |= bits->w[i] & ~b->r.written.w[i];
    }
}

static void
wc_add_field(struct walk *w, const struct branch *b, enum pkey_field_id id, lex_u128 bits)
{
    struct pkey_mask m;
    pkey_mask_init(&m);
    pkey_mask_field_set(&m, id, bits);
    wc_add(w, b, &m);
}

/* A write by the physical translation: the value follows from the path. */
static void
phys_write(struct branch *b, enum pkey_field_id id, uint32_t value)
{
    pkey_field_set(&b->key, id, value);
    mask_add(&b->r.written, id, field_all(id));
}

/* Applies the first 'n' header changes of 'r' to 'key'. */
static void
apply_changes(struct pkey *key, const struct exec_result *r, size_t n)
{
    for (size_t i = 0; i < n && i < r->n_changes; i++) {
        const struct exec_change *c = &r->changes[i];
        lex_u128 v = pkey_field_get(key, c->field);
        pkey_field_set(key, c->field, (v & ~c->mask) | (c->value & c->mask));
    }
}

static void
mf_append(struct walk *w, const struct megaflow_action *a)
{
    if (megaflow_action_append(&w->out->megaflow, a)) {
        w->nomem = true;
    }
}

/* Composes set-field actions that bring the datapath's view of the headers to
 * 'target'. */
static void
mf_sync_headers(struct walk *w, const struct pkey *target)
{
    for (int id = 0; id < PKEY_N_FIELDS; id++) {
        if (!exec_field_is_header(id)) {
            continue;
        }
        lex_u128 have = pkey_field_get(&w->mf_state, id);
        lex_u128 want = pkey_field_get(target, id);
        if (have == want) {
            continue;
        }
        struct megaflow_action a = {.field = id, .value = want, .mask = field_all(id)};
        a.type = id == PKEY_F_IP_TTL && want + 1 == have ? MEGAFLOW_ACT_DEC_TTL
                                                         : MEGAFLOW_ACT_SET;
        mf_append(w, &a);
        pkey_field_set(&w->mf_state, id, want);
    }
}

static struct branch *
branch_create(struct walk *w)
{
    if (w->n_branches >= PIPELINE_MAX_BRANCHES) {
        return NULL;
    }
    struct branch *b = calloc(1, sizeof *b);
    if (!b) {
        w->nomem = true;
        return NULL;
    }
    w->n_branches++;
    return b;
}

static void
branch_destroy(struct branch *b)
{
    if (b) {
        free(b->pkt);
        free(b);
    }
}

/* A copy of 'b', or NULL (counted as a drop by the caller). */
static struct branch *
branch_clone(struct walk *w, const struct branch *b)
{
    struct branch *c = branch_create(w);
    if (!c) {
        return NULL;
    }
    *c = *b;
    c->pkt = NULL;
    if (b->pkt) {
        c->pkt = malloc(b->len ? b->len : 1);
        if (!c->pkt) {
            w->nomem = true;
            free(c);
            return NULL;
        }
        memcpy(c->pkt, b->pkt, b->len);
    }
    return c;
}

static void add_drop(struct walk *w, struct branch *b, enum action_pipeline pl, int table,
                     int error, const char *fmt, ...) OVNIC_PRINTF(6, 7);

static void
add_drop(struct walk *w, struct branch *b, enum action_pipeline pl, int table, int error,
         const char *fmt, ...)
{
    struct pipeline_drop *d =
        array_push((void **)&w->out->drops, &w->out->n_drops, sizeof *d);
    va_list args;
    va_start(args, fmt);
    char *reason = xvasprintf(fmt, args);
    va_end(args);
    w->p->stats.n_drops++;
    if (!d || !reason) {
        free(reason);
        w->nomem = true;
        return;
    }
    d->datapath = b->dp ? b->dp->key : 0;
    d->pipeline = pl;
    d->table = table;
    d->reason = reason;
    d->error = error;
    d->from_controller = b->from_ctrl;
    memcpy(d->built_by, b->built_by, sizeof d->built_by);
    trace_add(w, b, PIPELINE_TRACE_DROP, pl, table, "drop: %s", reason);
}

/* The branch's bytes with its first 'n_changes' header changes applied (all of them
 * with SIZE_MAX), in a new buffer; NULL if it has none or they cannot be applied. */
static uint8_t *
branch_bytes(struct walk *w, const struct branch *b, size_t n_changes, size_t extra,
             size_t *len, int *error)
{
    *error = 0;
    if (!b->pkt) {
        return NULL;
    }
    uint8_t *buf = malloc(b->len + extra + 1);
    if (!buf) {
        w->nomem = true;
        return NULL;
    }
    memcpy(buf, b->pkt, b->len);
    *len = b->len;
    w->tmp = b->r;
    if (n_changes < w->tmp.n_changes) {
        w->tmp.n_changes = n_changes;
        w->tmp.has_frag_mtu = false;
    }
    if (w->tmp.n_changes || w->tmp.has_frag_mtu) {
        *error = ctrl_packet_apply(buf, b->len, &w->tmp, 0, NULL);
        if (*error) {
            free(buf);
            return NULL;
        }
    }
    return buf;
}

/* Makes the bytes of output 'o' follow its key where conntrack rewrote the packet:
 * NAT and load balancing change the key's addresses and ports (the tracker's doing,
 * not header changes of the walk), so those are written into the frame too. */
static void
output_bytes_follow_nat(struct walk *w, struct pipeline_output *o)
{
    static const enum pkey_field_id nat_fields[] = {
        PKEY_F_IP4_SRC, PKEY_F_IP4_DST, PKEY_F_IP6_SRC, PKEY_F_IP6_DST,  PKEY_F_TCP_SRC,
        PKEY_F_TCP_DST, PKEY_F_UDP_SRC, PKEY_F_UDP_DST, PKEY_F_SCTP_SRC, PKEY_F_SCTP_DST,
    };
    struct pkey parsed;

    if (!o->packet || packet_parse(o->packet, o->len, 0, &parsed, NULL, NULL, NULL)) {
        return;
    }
    exec_result_init(&w->tmp, NULL);
    for (size_t i = 0; i < ARRAY_SIZE(nat_fields); i++) {
        enum pkey_field_id id = nat_fields[i];
        lex_u128 want = pkey_field_get(&o->key, id);
        if (pkey_field_get(&parsed, id) != want && w->tmp.n_changes < EXEC_MAX_CHANGES) {
            w->tmp.changes[w->tmp.n_changes++] =
                (struct exec_change){.field = id, .value = want, .mask = field_all(id)};
        }
    }
    if (w->tmp.n_changes && ctrl_packet_apply(o->packet, o->len, &w->tmp, 0, NULL)) {
        free(o->packet);
        o->packet = NULL;
        o->len = 0;
    }
}

static void
add_output(struct walk *w, struct branch *b, enum pipeline_output_type type,
           const struct phys_port *port, uint32_t port_key, const char *name,
           const struct phys_chassis *ch)
{
    struct pipeline_output *o =
        array_push((void **)&w->out->outputs, &w->out->n_outputs, sizeof *o);
    if (!o) {
        w->nomem = true;
        return;
    }
    w->p->stats.n_deliveries++;
    o->type = type;
    o->datapath = b->dp->key;
    o->port_key = port_key;
    o->port = strdup(name);
    o->key = b->key;
    o->from_controller = b->from_ctrl;
    memcpy(o->built_by, b->built_by, sizeof o->built_by);
    o->vlan = -1;
    int error;
    o->packet = branch_bytes(w, b, SIZE_MAX, 0, &o->len, &error);
    output_bytes_follow_nat(w, o);
    struct megaflow_action a = {
        .type = MEGAFLOW_ACT_OUTPUT, .port_key = port_key, .vlan = -1};
    snprintf(a.port, sizeof a.port, "%s", name);
    const char *what = "output";
    if (type == PIPELINE_OUT_TUNNEL) {
        o->chassis = strdup(ch->name);
        o->encap_ip = strdup(ch->encap_ip);
        o->tun_id = b->dp->key;
        o->tun_ovn_inport = (uint16_t)(key_get32(&b->key, PKEY_F_INPORT) & 0x7fff);
        o->tun_ovn_outport = (uint16_t)port_key;
        a.output_type = MEGAFLOW_OUT_TUNNEL;
        a.tun_id = o->tun_id;
        a.tun_inport = o->tun_ovn_inport;
        a.tun_outport = o->tun_ovn_outport;
        snprintf(a.remote_ip, sizeof a.remote_ip, "%s", ch->encap_ip);
        what = "tunnel";
        if (!o->chassis || !o->encap_ip) {
            w->nomem = true;
        }
    } else if (type == PIPELINE_OUT_LOCALNET) {
        o->network = strdup(port && port->network ? port->network : "");
        o->vlan = port ? port->tag : -1;
        a.output_type = MEGAFLOW_OUT_LOCALNET;
        a.vlan = o->vlan;
        what = "localnet";
        if (!o->network) {
            w->nomem = true;
        }
    } else {
        a.output_type =
            type == PIPELINE_OUT_LOCAL ? MEGAFLOW_OUT_LOCAL : MEGAFLOW_OUT_LOGICAL;
    }
    if (!o->port) {
        w->nomem = true;
    }
    if (!b->from_ctrl) {
        mf_sync_headers(w, &b->key);
        mf_append(w, &a);
    }
    if (type == PIPELINE_OUT_TUNNEL) {
        trace_add(w, b, PIPELINE_TRACE_OUTPUT, ACTION_PIPELINE_EGRESS, -1,
                  "output to \"%s\" via Geneve to chassis \"%s\" (%s), vni 0x%x, "
                  "ingress 0x%x, egress 0x%x",
                  name, ch->name, ch->encap_ip, b->dp->key, o->tun_ovn_inport,
                  o->tun_ovn_outport);
    } else if (type == PIPELINE_OUT_LOCALNET && o->vlan >= 0) {
        trace_add(w, b, PIPELINE_TRACE_OUTPUT, ACTION_PIPELINE_EGRESS, -1,
                  "output to \"%s\" (network \"%s\", vlan %d)", name, o->network,
                  o->vlan);
    } else {
        trace_add(w, b, PIPELINE_TRACE_OUTPUT, ACTION_PIPELINE_EGRESS, -1, "%s to \"%s\"",
                  type == PIPELINE_OUT_LOGICAL ? "output" : what, name);
    }
    if (error && b->pkt) {
        trace_add(w, b, PIPELINE_TRACE_PHYSICAL, ACTION_PIPELINE_EGRESS, -1,
                  "packet bytes not rewritten: %s", strerror(-error));
    }
}

static void walk_from(struct walk *w, struct branch *b, enum action_pipeline pl,
                      int table, const struct action_list *pre);

/* Loads the zones of 'port' (reg13) and of its datapath (reg11, reg12). */
static void
load_zones(struct branch *b, const struct phys_port *port)
{
    phys_write(b, PKEY_F_REG0 + CT_REG_CT_ZONE, port ? port->zone : 0);
    phys_write(b, PKEY_F_REG0 + CT_REG_DNAT_ZONE, b->dp->dnat_zone);
    phys_write(b, PKEY_F_REG0 + CT_REG_SNAT_ZONE, b->dp->snat_zone);
}

/* Into the egress pipeline of local port 'port' (OVN's tables 38-40). */
static void
to_egress(struct walk *w, struct branch *b, const struct phys_port *port)
{
    uint32_t inport = key_get32(&b->key, PKEY_F_INPORT);
    uint32_t flags = key_get32(&b->key, PKEY_F_FLAGS);
    wc_add_field(w, b, PKEY_F_INPORT, field_all(PKEY_F_INPORT));
    wc_add_field(w, b, PKEY_F_OUTPORT, field_all(PKEY_F_OUTPORT));
    if (port->key == inport) {
        wc_add_field(w, b, PKEY_F_FLAGS, FLAG_LOOPBACK);
        if (!(flags & FLAG_LOOPBACK)) {
            add_drop(w, b, ACTION_PIPELINE_INGRESS, -1, 0,
                     "inport == outport && !flags.loopback (\"%s\")", port->name);
            branch_destroy(b);
            return;
        }
    }
    phys_write(b, PKEY_F_OUTPORT, port->key);
    for (int i = 0; i < N_LOG_REGS; i++) {
        phys_write(b, PKEY_F_REG0 + i, 0);
    }
    load_zones(b, port);
    trace_add(w, b, PIPELINE_TRACE_PIPELINE, ACTION_PIPELINE_EGRESS, 0,
              "egress(dp=\"%s\", inport=\"%s\", outport=\"%s\")", b->dp->name,
              port_name(w, b->dp->key, inport), port->name);
    b->depth++;
    walk_from(w, b, ACTION_PIPELINE_EGRESS, 0, NULL);
}

static void
to_tunnel(struct walk *w, struct branch *b, const char *chassis, uint32_t out_key,
          const char *out_name)
{
    const struct phys_chassis *ch = phys_chassis_find(w->phys, chassis);
    if (ch && !ch->encap_ip && ch->refused_ip) {
        add_drop(w, b, ACTION_PIPELINE_INGRESS, -1, 0,
                 "refused Encap (%s): chassis \"%s\" ip \"%s\"", ch->encap_refusal,
                 chassis, ch->refused_ip);
    } else if (!ch || !ch->encap_ip) {
        add_drop(w, b, ACTION_PIPELINE_INGRESS, -1, 0,
                 "no Geneve encapsulation known for chassis \"%s\"", chassis);
    } else {
        add_output(w, b, PIPELINE_OUT_TUNNEL, NULL, out_key, out_name, ch);
    }
    branch_destroy(b);
}

/* Output of the ingress pipeline to a single port (OVN's tables 37 and 38). */
static void
output_port(struct walk *w, struct branch *b, const struct phys_port *port)
{
    if (port->type == PHYS_PORT_CHASSISREDIRECT) {
        const struct phys_port *dist =
            port->distributed ? phys_port_find(w->phys, port->distributed) : NULL;
        if (w->phys->trace_mode || port->is_local) {
            if (!dist || dist->dp != port->dp) {
                add_drop(w, b, ACTION_PIPELINE_INGRESS, -1, 0,
                         "chassisredirect port \"%s\" has no valid distributed port",
                         port->name);
                branch_destroy(b);
                return;
            }
            trace_add(w, b, PIPELINE_TRACE_PHYSICAL, ACTION_PIPELINE_INGRESS, -1,
                      "replacing chassisredirect outport \"%s\" with distributed port "
                      "\"%s\"",
                      port->name, dist->name);
            phys_write(b, PKEY_F_OUTPORT, dist->key);
            to_egress(w, b, dist);
            return;
        }
        if (!port->chassis) {
            add_drop(w, b, ACTION_PIPELINE_INGRESS, -1, 0,
                     "chassisredirect port \"%s\" is not bound to any chassis",
                     port->name);
            branch_destroy(b);
            return;
        }
        to_tunnel(w, b, port->chassis, port->key, port->name);
        return;
    }
    if (port->is_local) {
        to_egress(w, b, port);
        return;
    }
    if (!port->chassis) {
        add_drop(w, b, ACTION_PIPELINE_INGRESS, -1, 0,
                 "port \"%s\" is not bound to any chassis", port->name);
        branch_destroy(b);
        return;
    }
    if (b->dp->localnet && port->type == PHYS_PORT_VIF) {
        trace_add(w, b, PIPELINE_TRACE_PHYSICAL, ACTION_PIPELINE_INGRESS, -1,
                  "\"%s\" is on chassis \"%s\": through localnet port \"%s\"", port->name,
                  port->chassis, b->dp->localnet->name);
        phys_write(b, PKEY_F_OUTPORT, b->dp->localnet->key);
        to_egress(w, b, b->dp->localnet);
        return;
    }
    to_tunnel(w, b, port->chassis, port->key, port->name);
}

static int
compare_cstr(const void *a_, const void *b_)
{
    const char *const *a = a_;
    const char *const *b = b_;
    return strcmp(*a, *b);
}

/* Output of the ingress pipeline to multicast group 'mc'. */
static void
output_mcgroup(struct walk *w, struct branch *b, const struct phys_mcgroup *mc)
{
    trace_add(w, b, PIPELINE_TRACE_PIPELINE, ACTION_PIPELINE_INGRESS, -1,
              "multicast(dp=\"%s\", mcgroup=\"%s\")", b->dp->name, mc->name);
    b->depth++;

    /* One copy per remote chassis hosting a member, unless the packet came from a
     * tunnel (the sender already did that) or goes through a localnet port. */
    if (!w->phys->trace_mode && !w->from_tunnel && !b->dp->localnet) {
        const char **remote = calloc(mc->n_ports ? mc->n_ports : 1, sizeof *remote);
        size_t n_remote = 0;
        if (!remote) {
            w->nomem = true;
        }
        for (size_t i = 0; remote && i < mc->n_ports; i++) {
            const struct phys_port *p = mc->ports[i];
            if (p->chassis && !p->is_local) {
                remote[n_remote++] = p->chassis;
            }
        }
        if (n_remote) {
            qsort(remote, n_remote, sizeof *remote, compare_cstr);
        }
        for (size_t i = 0; i < n_remote; i++) {
            if (i && !strcmp(remote[i], remote[i - 1])) {
                continue;
            }
            struct branch *c = branch_clone(w, b);
            if (!c) {
                add_drop(w, b, ACTION_PIPELINE_INGRESS, -1, -ENOSPC, "too many copies");
                continue;
            }
            to_tunnel(w, c, remote[i], mc->key, mc->name);
        }
        free(remote);
    }

    for (size_t i = 0; i < mc->n_ports; i++) {
        const struct phys_port *p = mc->ports[i];
        if (!p->is_local) {
            continue;
        }
        struct branch *c = branch_clone(w, b);
        if (!c) {
            add_drop(w, b, ACTION_PIPELINE_INGRESS, -1, -ENOSPC, "too many copies");
            continue;
        }
        to_egress(w, c, p);
    }
    branch_destroy(b);
}

/* The ingress pipeline said "output". */
static void
output_ingress(struct walk *w, struct branch *b)
{
    uint32_t out = key_get32(&b->key, PKEY_F_OUTPORT);
    wc_add_field(w, b, PKEY_F_OUTPORT, field_all(PKEY_F_OUTPORT));
    const struct phys_mcgroup *mc = phys_mcgroup_find(w->phys, b->dp->key, out);
    const struct phys_port *port = phys_port_find_key(w->phys, b->dp->key, out);
    if (!out) {
        add_drop(w, b, ACTION_PIPELINE_INGRESS, -1, 0, "output to null logical port");
        branch_destroy(b);
    } else if (mc) {
        output_mcgroup(w, b, mc);
    } else if (port) {
        output_port(w, b, port);
    } else {
        add_drop(w, b, ACTION_PIPELINE_INGRESS, -1, 0,
                 "unknown port or multicast group %" PRIu32, out);
        branch_destroy(b);
    }
}

/* The egress pipeline said "output" (OVN's table 65). */
static void
output_egress(struct walk *w, struct branch *b)
{
    uint32_t out = key_get32(&b->key, PKEY_F_OUTPORT);
    wc_add_field(w, b, PKEY_F_OUTPORT, field_all(PKEY_F_OUTPORT));
    const struct phys_port *port = phys_port_find_key(w->phys, b->dp->key, out);
    if (!port) {
        add_drop(w, b, ACTION_PIPELINE_EGRESS, -1, 0,
                 "egress output to unknown port %" PRIu32, out);
        branch_destroy(b);
        return;
    }
    if (port->peer && (port->type == PHYS_PORT_PATCH || port->is_local)) {
        const struct phys_port *peer = port->peer;
        if (++b->crossings > w->p->cfg.max_depth) {
            w->p->stats.n_loop_drops++;
            megaflow_set_uncacheable(&w->out->megaflow, "walk too deep");
            add_drop(w, b, ACTION_PIPELINE_EGRESS, -1, -ELOOP,
                     "more than %u datapath crossings", w->p->cfg.max_depth);
            branch_destroy(b);
            return;
        }
        trace_add(w, b, PIPELINE_TRACE_PHYSICAL, ACTION_PIPELINE_EGRESS, -1,
                  "output to \"%s\", type \"%s\"", port->name, port->type_name);
        b->dp = peer->dp;
        phys_write(b, PKEY_F_DATAPATH, peer->dp->key);
        phys_write(b, PKEY_F_INPORT, peer->key);
        phys_write(b, PKEY_F_OUTPORT, 0);
        phys_write(b, PKEY_F_FLAGS, 0);
        for (int i = 0; i < N_LOG_REGS; i++) {
            phys_write(b, PKEY_F_REG0 + i, 0);
        }
        load_zones(b, peer);
        trace_add(w, b, PIPELINE_TRACE_PIPELINE, ACTION_PIPELINE_INGRESS, 0,
                  "ingress(dp=\"%s\", inport=\"%s\")", peer->dp->name, peer->name);
        b->depth++;
        walk_from(w, b, ACTION_PIPELINE_INGRESS, 0, NULL);
        return;
    }
    if (w->phys->trace_mode) {
        add_output(w, b, PIPELINE_OUT_LOGICAL, port, port->key, port->name, NULL);
    } else if (port->type == PHYS_PORT_LOCALNET ||
               (port->type == PHYS_PORT_L2GATEWAY && port->is_local)) {
        add_output(w, b, PIPELINE_OUT_LOCALNET, port, port->key, port->name, NULL);
    } else if (port->type == PHYS_PORT_PATCH || port->type == PHYS_PORT_CHASSISREDIRECT) {
        add_drop(w, b, ACTION_PIPELINE_EGRESS, -1, 0,
                 "output to %s port \"%s\" without a peer", port->type_name, port->name);
    } else if (port->is_local) {
        add_output(w, b, PIPELINE_OUT_LOCAL, port, port->key, port->name, NULL);
    } else {
        add_drop(w, b, ACTION_PIPELINE_EGRESS, -1, 0,
                 "port \"%s\" does not reside on this chassis", port->name);
    }
    branch_destroy(b);
}

/* ---- Controller actions. ---- */

static bool
is_packet_builder(enum action_type type)
{
    switch (type) {
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
        return true;
    default:
        return false;
    }
}

/* Without packet bytes: the key of the packet 'type' builds, as ovn-trace derives
 * it from the flow. */
static int
synth_key(enum action_type type, const struct pkey *in, struct pkey *k)
{
    *k = *in;
    struct pkey_fields *f = &k->f;
    const struct pkey_fields *o = &in->f;
    bool ip6 = o->eth_type == htons(0x86dd);
    bool reject = type == ACTION_REJECT;
    bool udp = o->ip_proto == 17;
    if (reject) {
        type = o->ip_proto == 6     ? ACTION_TCP_RESET
               : o->ip_proto == 132 ? ACTION_SCTP_ABORT
               : ip6                ? ACTION_ICMP6
                                    : ACTION_ICMP4;
        /* reject swaps the Ethernet and IP addresses itself: its answer goes back to
         * the sender. */
        memcpy(f->eth_src, o->eth_dst, 6);
        memcpy(f->eth_dst, o->eth_src, 6);
        if (ip6) {
            memcpy(f->ip6_src, o->ip6_dst, 16);
            memcpy(f->ip6_dst, o->ip6_src, 16);
        } else {
            f->ip4_src = o->ip4_dst;
            f->ip4_dst = o->ip4_src;
        }
    }
    memset(&f->tcp_src, 0, sizeof *f - offsetof(struct pkey_fields, tcp_src));
    if (type != ACTION_ARP) {
        /* A fresh IP header: no traffic class, no flow label, not a fragment. */
        f->ip_dscp = 0;
        f->ip_ecn = 0;
        f->ip6_label = 0;
        f->ip_frag = 0;
    }
    switch (type) {
    case ACTION_ARP:
        memset(&f->ip4_src, 0,
               offsetof(struct pkey_fields, tcp_src) -
                   offsetof(struct pkey_fields, ip4_src));
        f->eth_type = htons(0x0806);
        f->arp_op = htons(1);
        f->arp_spa = o->ip4_src;
        f->arp_tpa = o->ip4_dst;
        memcpy(f->arp_sha, o->eth_src, 6);
        return 0;
    case ACTION_ND_NS:
        f->ip_proto = 58;
        f->icmp6_type = 135;
        memcpy(f->nd_target, o->ip6_dst, 16);
        memcpy(
            f->eth_dst,
            (uint8_t[]){0x33, 0x33, 0xff, o->ip6_dst[13], o->ip6_dst[14], o->ip6_dst[15]},
            6);
        memset(f->ip6_dst, 0, 16);
        f->ip6_dst[0] = 0xff;
        f->ip6_dst[1] = 0x02;
        f->ip6_dst[11] = 0x01;
        f->ip6_dst[12] = 0xff;
        memcpy(&f->ip6_dst[13], &o->ip6_dst[13], 3);
        memcpy(f->nd_sll, o->eth_src, 6);
        f->ip_ttl = 255;
        return 0;
    case ACTION_ND_NA:
    case ACTION_ND_NA_ROUTER:
        memcpy(f->eth_src, o->eth_dst, 6);
        memcpy(f->eth_dst, o->eth_src, 6);
        memcpy(f->ip6_dst, o->ip6_src, 16);
        memcpy(f->ip6_src, o->nd_target, 16);
        memcpy(f->nd_target, o->nd_target, 16);
        memcpy(f->nd_tll, o->eth_dst, 6);
        f->ip_proto = 58;
        f->icmp6_type = 136;
        f->ip_ttl = 255;
        return 0;
    case ACTION_ICMP4:
    case ACTION_ICMP4_ERROR:
        f->ip_proto = 1;
        f->ip_ttl = 255;
        f->icmp4_type = 3;
        f->icmp4_code = reject && udp ? 3 : 1;
        return 0;
    case ACTION_ICMP6:
    case ACTION_ICMP6_ERROR:
        f->ip_proto = 58;
        f->ip_ttl = 255;
        f->icmp6_type = 1;
        f->icmp6_code = reject && udp ? 4 : 1;
        return 0;
    case ACTION_TCP_RESET:
        /* As ctrl_packet_build(): ports swapped; RST to a segment with ACK, else
         * RST+ACK. */
        f->ip_proto = 6;
        f->ip_ttl = 255;
        f->tcp_src = o->tcp_dst;
        f->tcp_dst = o->tcp_src;
        f->tcp_flags = htons(o->tcp_flags & htons(0x010) ? 0x004 : 0x014);
        return 0;
    case ACTION_SCTP_ABORT:
        f->ip_proto = 132;
        f->ip_ttl = 255;
        f->sctp_src = o->sctp_dst;
        f->sctp_dst = o->sctp_src;
        return 0;
    default:
        return -EOPNOTSUPP;
    }
}

static char *
ctrl_text(const struct exec_ctrl *c)
{
    char *s = NULL;
    char a1[64], a2[64];
    switch (c->type) {
    case ACTION_PUT_ARP:
    case ACTION_PUT_ND:
        if (asprintf(&s, "%s(port=0x%x, ip=%s, mac=%s)", action_type_name(c->type),
                     (unsigned int)c->args[0],
                     lex_value_format(c->args[1],
                                      c->type == ACTION_PUT_ND ? LEX_F_IPV6 : LEX_F_IPV4,
                                      a1, sizeof a1),
                     lex_value_format(c->args[2], LEX_F_ETHERNET, a2, sizeof a2)) < 0) {
            s = NULL;
        }
        return s;
    default:
        return strdup(action_type_name(c->type));
    }
}

static struct pipeline_ctrl *
record_ctrl(struct walk *w, struct branch *b, const struct exec_ctrl *c,
            const struct exec_params *params)
{
    struct pipeline_ctrl *pc =
        array_push((void **)&w->out->ctrls, &w->out->n_ctrls, sizeof *pc);
    if (!pc) {
        w->nomem = true;
        return NULL;
    }
    pc->type = c->type;
    pc->datapath = c->datapath;
    pc->pipeline = params->pipeline;
    pc->table = params->table;
    pc->text = ctrl_text(c);
    if (!pc->text) {
        w->nomem = true;
    }
    if (c->type == ACTION_PUT_ARP || c->type == ACTION_PUT_ND) {
        struct ctrl_mac_binding mb;
        if (!ctrl_mac_binding_get(c, &mb)) {
            pc->has_mac_binding = true;
            pc->mb_port = mb.port;
            pc->mb_ipv6 = mb.ipv6;
            pc->mb_ip = mb.ip;
            memcpy(pc->mb_mac, mb.mac, 6);
        }
    }
    if (!b->from_ctrl) {
        struct megaflow_action a = {.type = MEGAFLOW_ACT_CONTROLLER, .ctrl = c->type};
        mf_sync_headers(w, &b->key);
        mf_append(w, &a);
    }
    megaflow_set_uncacheable(&w->out->megaflow, "controller action");
    trace_add(w, b, PIPELINE_TRACE_CTRL, params->pipeline, params->table,
              "controller: %s", pc->text ? pc->text : "");
    return pc;
}

/* A packet-building action: build the packet and walk it from where it was built. */
static void
run_packet_builder(struct walk *w, struct branch *b, const struct exec_ctrl *c,
                   const struct exec_params *params, struct pipeline_ctrl *pc)
{
    struct branch *nb = branch_create(w);
    if (!nb) {
        add_drop(w, b, params->pipeline, params->table, -ENOSPC, "too many copies");
        return;
    }
    nb->dp = b->dp;
    nb->from_ctrl = true;
    int n = snprintf(nb->built_by, sizeof nb->built_by, "%s%s%s", b->built_by,
                     b->built_by[0] ? "/" : "", action_type_name(c->type));
    if (n < 0 || (size_t)n >= sizeof nb->built_by) {
        /* A chain longer than the field: it ends with "..." to say so. */
        memcpy(nb->built_by + sizeof nb->built_by - 4, "...", 4);
    }
    nb->crossings = b->crossings;
    nb->depth = b->depth + 1;
    exec_result_init(&nb->r, NULL);
    int error = 0;
    struct ovnic_err err = {0};
    if (b->pkt) {
        size_t cur_len = 0;
        uint8_t *cur = branch_bytes(w, b, c->change_mark, 0, &cur_len, &error);
        size_t size = cur_len + CTRL_PKT_MAX;
        nb->pkt = cur ? malloc(size) : NULL;
        if (cur && nb->pkt) {
            error =
                ctrl_packet_build(c->type, cur, cur_len, nb->pkt, size, &nb->len, &err);
        } else if (!error) {
            error = -ENOMEM;
        }
        free(cur);
        if (!error) {
            error = packet_parse(nb->pkt, nb->len, 0, &nb->key, NULL, NULL, NULL);
        }
        if (!error) {
            memcpy(nb->key.w, b->key.w, PKEY_STAGE_END[0] * sizeof nb->key.w[0]);
            pc->packet = malloc(nb->len);
            if (pc->packet) {
                memcpy(pc->packet, nb->pkt, nb->len);
                pc->len = nb->len;
            }
        }
    } else {
        error = synth_key(c->type, &b->key, &nb->key);
    }
    if (error) {
        pc->error = error;
        add_drop(w, nb, params->pipeline, params->table, error,
                 "controller could not build the %s packet: %s",
                 action_type_name(c->type),
                 ovnic_err_is_set(&err) ? err.message : strerror(-error));
        branch_destroy(nb);
        return;
    }
    trace_add(w, nb, PIPELINE_TRACE_CTRL, params->pipeline, params->table,
              "%s: packet built, its actions run", action_type_name(c->type));
    walk_from(w, nb, params->pipeline, params->table, c->action->nested);
}

/* Handles what the last exec_run()/exec_resume() added to the branch's result. */
static void
post_exec(struct walk *w, struct branch *b, const struct exec_params *params, size_t nct,
          size_t nctrl, size_t nfork)
{
    struct exec_result *r = &b->r;
    if (r->n_overflows) {
        megaflow_set_uncacheable(&w->out->megaflow, "executor arrays overflowed");
    }
    for (size_t i = nct; i < r->n_ct; i++) {
        const struct ct_op *op = &r->ct[i];
        char st[64];
        trace_add(w, b, PIPELINE_TRACE_CT, params->pipeline, params->table,
                  "%s(zone=%u%s) -> ct_state=%s", ct_op_type_name(op->type), op->zone,
                  op->commit ? ", commit" : "",
                  ct_state_format(op->state_out, st, sizeof st));
        if (!b->from_ctrl) {
            struct pkey at = w->start;
            apply_changes(&at, r, op->change_mark);
            mf_sync_headers(w, &at);
            struct megaflow_action a = {.type = MEGAFLOW_ACT_CT, .ct = *op};
            a.ct.lb = NULL;
            mf_append(w, &a);
        }
        if (op->recirc) {
            megaflow_set_uncacheable(&w->out->megaflow, "conntrack recirculation");
        }
    }
    for (size_t i = nctrl; i < r->n_ctrl; i++) {
        const struct exec_ctrl *c = &r->ctrl[i];
        if (c->pause) {
            continue; /* Handled by the caller. */
        }
        struct pipeline_ctrl *pc = record_ctrl(w, b, c, params);
        if (pc && is_packet_builder(c->type)) {
            run_packet_builder(w, b, c, params, pc);
        }
    }
    for (size_t i = nfork; i < r->n_forks; i++) {
        const struct exec_fork *f = &r->forks[i];
        struct branch *c = branch_clone(w, b);
        if (!c) {
            add_drop(w, b, params->pipeline, params->table, -ENOSPC, "too many copies");
            continue;
        }
        c->key = f->key;
        exec_result_init_fork(&c->r, r, f);
        c->depth++;
        trace_add(w, c, PIPELINE_TRACE_PHYSICAL, f->params.pipeline, f->params.table,
                  "clone");
        walk_from(w, c, f->params.pipeline, f->params.table, f->actions);
    }
}

/* dns_lookup's view of the SB DNS table: the records of one datapath. */
struct dns_aux {
    const struct phys *phys;
    uint32_t datapath;
};

static const char *
dns_lookup_cb(void *aux_, const char *name)
{
    const struct dns_aux *aux = aux_;
    return phys_dns_lookup(aux->phys, aux->datapath, name);
}

/* Builds the controller's answer to paused action 'c' from the packet 'cur'. */
static int
build_answer(const struct walk *w, const struct exec_ctrl *c, const uint8_t *cur,
             size_t cur_len, uint8_t *out, size_t size, size_t *out_len,
             struct ovnic_err *err)
{
    switch (c->type) {
    case ACTION_PUT_DHCPV4_OPTS:
        return ctrl_dhcpv4_reply_build(c->action, cur, cur_len, out, size, out_len, err);
    case ACTION_PUT_DHCPV6_OPTS:
        return ctrl_dhcpv6_reply_build(c->action, cur, cur_len, out, size, out_len, err);
    case ACTION_PUT_ND_RA_OPTS:
        return ctrl_nd_ra_build(c->action, cur, cur_len, out, size, out_len, err);
    case ACTION_DNS_LOOKUP: {
        struct dns_aux aux = {.phys = w->phys, .datapath = c->datapath};
        return ctrl_dns_reply_build(dns_lookup_cb, &aux, cur, cur_len, out, size, out_len,
                                    err);
    }
    default:
        return ovnic_err_set(err, -EOPNOTSUPP, "controller action",
                             "not supported: answering this action", "%s",
                             action_type_name(c->type));
    }
}

static const char *
answer_name(enum action_type type)
{
    switch (type) {
    case ACTION_PUT_DHCPV4_OPTS:
        return "DHCP reply";
    case ACTION_PUT_DHCPV6_OPTS:
        return "DHCPv6 reply";
    case ACTION_PUT_ND_RA_OPTS:
        return "router advertisement";
    case ACTION_DNS_LOOKUP:
        return "DNS answer";
    default:
        return "answer";
    }
}

/* After EXEC_PAUSE: what the controller answers, and resuming.  With packet bytes,
 * the answer (DHCP or DHCPv6 reply, router advertisement, DNS answer) replaces the
 * packet and the walk resumes on it with the result bit 1, or 0 if there is none.
 * Without bytes, as ovn-trace: 1, except for dns_lookup (no query name to look up). */
static void
handle_pause(struct walk *w, struct branch *b, const struct exec_params *params)
{
    const struct exec_ctrl c = b->r.ctrl[b->r.n_ctrl - 1];
    struct pipeline_ctrl *pc = record_ctrl(w, b, &c, params);
    lex_u128 result = c.type == ACTION_DNS_LOOKUP ? 0 : 1;
    if (b->pkt) {
        int error = 0;
        size_t cur_len = 0;
        struct ovnic_err err = {0};
        uint8_t *cur = branch_bytes(w, b, c.change_mark, 0, &cur_len, &error);
        size_t size = cur_len + CTRL_PKT_MAX;
        uint8_t *reply = cur ? malloc(size) : NULL;
        size_t reply_len = 0;
        struct pkey key;
        if (cur && reply) {
            error = build_answer(w, &c, cur, cur_len, reply, size, &reply_len, &err);
        } else if (!error) {
            error = -ENOMEM;
        }
        free(cur);
        if (!error) {
            error = packet_parse(reply, reply_len, 0, &key, NULL, NULL, NULL);
        }
        if (error) {
            free(reply);
            result = 0;
            if (pc) {
                pc->error = error;
            }
            trace_add(w, b, PIPELINE_TRACE_CTRL, params->pipeline, params->table,
                      "no %s: %s", answer_name(c.type),
                      ovnic_err_is_set(&err) ? err.message : strerror(-error));
        } else {
            /* The walk goes on with the answer, from where it paused. */
            result = 1;
            memcpy(key.w, b->key.w, PKEY_STAGE_END[0] * sizeof key.w[0]);
            b->key = key;
            free(b->pkt);
            b->pkt = reply;
            b->len = reply_len;
            b->r.n_changes = 0;
            b->r.change_floor = 0;
            b->from_ctrl = true;
            if (pc) {
                pc->packet = malloc(reply_len);
                if (pc->packet) {
                    memcpy(pc->packet, reply, reply_len);
                    pc->len = reply_len;
                }
            }
        }
    }
    exec_resume(&w->env, params, &b->key, &b->r, result);
}

static unsigned int
cls_table(enum action_pipeline pl, int table)
{
    return (unsigned int)table +
           (pl == ACTION_PIPELINE_EGRESS ? PIPELINE_EGRESS_BASE : 0);
}

/* Walks 'b' (taken) from table 'table' of pipeline 'pl'; with 'pre', runs that list
 * first at that place, without a lookup. */
static void
walk_from(struct walk *w, struct branch *b, enum action_pipeline pl, int table,
          const struct action_list *pre)
{
    for (;;) {
        struct exec_params params = {
            .pipeline = pl,
            .table = table,
            .is_router = b->dp->is_router,
            .pkt_len = b->pkt ? (uint32_t)b->len : 64,
        };
        const struct action_list *acts = pre;
        size_t trace_idx = SIZE_MAX;
        if (pre) {
            pre = NULL;
        } else {
            if (++w->n_lookups > w->p->cfg.max_lookups) {
                w->p->stats.n_loop_drops++;
                megaflow_set_uncacheable(&w->out->megaflow, "walk too long");
                add_drop(w, b, pl, table, -ELOOP, "more than %u lookups",
                         w->p->cfg.max_lookups);
                break;
            }
            w->p->stats.n_lookups++;
            struct pkey_mask lwc;
            pkey_mask_init(&lwc);
            const struct cls_rule *rule =
                b->dp->cls ? cls_lookup(b->dp->cls, cls_table(pl, table), &b->key, &lwc)
                           : NULL;
            mask_add(&lwc, PKEY_F_DATAPATH, field_all(PKEY_F_DATAPATH));
            wc_add(w, b, &lwc);
            if (!rule) {
                trace_add(w, b, PIPELINE_TRACE_NO_MATCH, pl, table, "no flow matched");
                add_drop(w, b, pl, table, 0, "no flow matched in %s table %d",
                         pipeline_name(pl), table);
                break;
            }
            const struct pl_flow *flow = cls_rule_data(rule);
            acts = flow->parsed->actions;
            struct pipeline_trace_entry *t =
                trace_add(w, b, PIPELINE_TRACE_FLOW, pl, table, "%s", "");
            if (t) {
                trace_idx = (size_t)(t - w->out->trace);
                t->priority = flow->parsed->priority;
                t->uuid = flow->parsed->uuid;
                t->stage = strdup(flow->parsed->stage);
                t->match = strdup(flow->match);
                t->actions = strdup(flow->actions);
                if (!t->stage || !t->match || !t->actions) {
                    w->nomem = true;
                }
            }
        }
        size_t nct = b->r.n_ct, nctrl = b->r.n_ctrl, nfork = b->r.n_forks;
        w->cur_dp = b->dp;
        exec_run(&w->env, &params, acts, &b->key, &b->r);
        post_exec(w, b, &params, nct, nctrl, nfork);
        while (b->r.verdict == EXEC_PAUSE) {
            nct = b->r.n_ct, nctrl = b->r.n_ctrl, nfork = b->r.n_forks;
            handle_pause(w, b, &params);
            post_exec(w, b, &params, nct, nctrl, nfork);
        }
        if (trace_idx != SIZE_MAX) {
            struct pipeline_trace_entry *t = &w->out->trace[trace_idx];
            char *text = NULL;
            if (b->r.verdict == EXEC_NEXT) {
                if (asprintf(&text, "next(%s, %d)", pipeline_name(b->r.next_pipeline),
                             b->r.next_table) < 0) {
                    text = NULL;
                }
            } else {
                text = strdup(exec_verdict_name(b->r.verdict));
            }
            if (text) {
                free(t->text);
                t->text = text;
            }
        }
        switch (b->r.verdict) {
        case EXEC_NEXT:
            pl = b->r.next_pipeline;
            table = b->r.next_table;
            continue;
        case EXEC_OUTPUT:
            if (pl == ACTION_PIPELINE_INGRESS) {
                output_ingress(w, b);
            } else {
                output_egress(w, b);
            }
            return;
        case EXEC_PAUSE:
        case EXEC_DROP:
        default:
            if (b->r.error) {
                add_drop(w, b, pl, table, b->r.error, "%s",
                         b->r.error_msg ? b->r.error_msg : strerror(-b->r.error));
            } else {
                add_drop(w, b, pl, table, 0, "dropped by the actions");
            }
            break;
        }
        break;
    }
    branch_destroy(b);
}

/* ---- Exec callbacks. ---- */

static int
env_port_key(void *aux, const char *name, uint32_t *key)
{
    const struct walk *w = aux;
    struct pl_dp_ctx ctx = {.phys = w->phys, .dp = w->cur_dp};
    return resolve_port_key(&ctx, name, key);
}

static int
env_mac_binding(void *aux, uint32_t datapath, uint32_t port, bool ipv6, lex_u128 ip,
                uint8_t mac[6])
{
    const struct walk *w = aux;
    if (w->p->cfg.mac_binding) {
        return w->p->cfg.mac_binding(w->p->cfg.aux, datapath, port, ipv6, ip, mac);
    }
    return phys_mac_binding_lookup(w->phys, datapath, port, ipv6, ip, mac);
}

static int
env_fdb(void *aux, uint32_t datapath, const uint8_t mac[6], uint32_t *port)
{
    const struct walk *w = aux;
    if (w->p->cfg.fdb) {
        return w->p->cfg.fdb(w->p->cfg.aux, datapath, mac, port);
    }
    return phys_fdb_lookup(w->phys, datapath, mac, port);
}

/* ---- Port security (check_in_port_sec, check_out_port_sec). ---- */

/* Reads key field 'id' and records in 'wc' (may be NULL) that the result depends on
 * all of it. */
static lex_u128
ps_read(const struct pkey *key, struct pkey_mask *wc, enum pkey_field_id id)
{
    if (wc) {
        mask_add(wc, id, field_all(id));
    }
    return pkey_field_get(key, id);
}

static lex_u128
mac_value(const uint8_t mac[6])
{
    lex_u128 v = 0;
    for (int i = 0; i < 6; i++) {
        v = (v << 8) | mac[i];
    }
    return v;
}

/* The IPv6 link-local address derived from 'mac' (EUI-64). */
static lex_u128
mac_lla(const uint8_t mac[6])
{
    uint8_t b[16] = {0xfe,          0x80,   0,      0,    0,    0,      0,      0,
                     mac[0] ^ 0x02, mac[1], mac[2], 0xff, 0xfe, mac[3], mac[4], mac[5]};
    lex_u128 v = 0;
    for (int i = 0; i < 16; i++) {
        v = (v << 8) | b[i];
    }
    return v;
}

/* Whether 'ip' is one of the addresses of family 'ipv6' in 'ps'.  An address whose
 * host part (beyond its prefix) is zero admits the whole subnet; any other admits
 * itself only. */
static bool
ps_has_ip(const struct phys_port_sec *ps, bool ipv6, lex_u128 ip)
{
    unsigned int width = ipv6 ? 128 : 32;
    for (size_t i = 0; i < ps->n_addrs; i++) {
        const struct phys_port_sec_addr *a = &ps->addrs[i];
        if (a->ipv6 != ipv6) {
            continue;
        }
        lex_u128 host = a->plen >= width ? 0 : lex_u128_bits(0, width - a->plen);
        if ((a->ip & host) ? ip == a->ip : (ip & ~host) == a->ip) {
            return true;
        }
    }
    return false;
}

/* Whether entry 'ps' admits a packet from the port (its eth.src is the entry's). */
static bool
ps_admits_in(const struct phys_port_sec *ps, const struct pkey *key, struct pkey_mask *wc)
{
    uint32_t eth_type = (uint32_t)ps_read(key, wc, PKEY_F_ETH_TYPE);
    lex_u128 mac = mac_value(ps->mac);

    if (eth_type == 0x806) {
        if ((!ps->n_ip4 && ps->n_ip6) || ps_read(key, wc, PKEY_F_ARP_SHA) != mac) {
            return false; /* With IPv6 addresses only, no ARP at all. */
        }
        return !ps->n_ip4 || ps_has_ip(ps, false, ps_read(key, wc, PKEY_F_ARP_SPA));
    }
    if (eth_type == 0x800) {
        if (!ps->n_addrs) {
            return true;
        }
        if (ps_has_ip(ps, false, ps_read(key, wc, PKEY_F_IP4_SRC))) {
            return true;
        }
        /* A DHCP request from a port that has no address yet. */
        return ps_read(key, wc, PKEY_F_IP_PROTO) == 17 &&
               ps_read(key, wc, PKEY_F_UDP_SRC) == 68 &&
               ps_read(key, wc, PKEY_F_UDP_DST) == 67 &&
               ps_read(key, wc, PKEY_F_IP4_SRC) == 0 &&
               ps_read(key, wc, PKEY_F_IP4_DST) == 0xffffffff;
    }
    if (eth_type == 0x86dd) {
        if (!ps->n_addrs) {
            return true;
        }
        if (!ps->n_ip6) {
            return false;
        }
        lex_u128 src = ps_read(key, wc, PKEY_F_IP6_SRC);
        bool icmp6 = ps_read(key, wc, PKEY_F_IP_PROTO) == 58;
        uint32_t type = icmp6 ? (uint32_t)ps_read(key, wc, PKEY_F_ICMP6_TYPE) : 0;
        if (!src && icmp6 && (type == 131 || type == 135 || type == 143) &&
            ps_read(key, wc, PKEY_F_ICMP6_CODE) == 0 &&
            (ps_read(key, wc, PKEY_F_IP6_DST) >> 112) == 0xff02) {
            /* Duplicate address detection and MLD before an address is set. */
        } else if (!ps_has_ip(ps, true, src) && src != mac_lla(ps->mac)) {
            return false;
        }
        if (!icmp6) {
            return true;
        }
        if (type == 135) {
            lex_u128 sll = ps_read(key, wc, PKEY_F_ND_SLL);
            return !sll || sll == mac;
        }
        if (type == 136) {
            lex_u128 tll = ps_read(key, wc, PKEY_F_ND_TLL);
            if (tll && tll != mac) {
                return false;
            }
            lex_u128 target = ps_read(key, wc, PKEY_F_ND_TARGET);
            return !ps->n_ip6 || ps_has_ip(ps, true, target) ||
                   target == mac_lla(ps->mac);
        }
        return true;
    }
    return true;
}

/* Whether 'ip' is the broadcast address of the subnet of an IPv4 address of 'ps'
 * that has a prefix and a host part. */
static bool
ps_is_subnet_bcast(const struct phys_port_sec *ps, uint32_t ip)
{
    for (size_t i = 0; i < ps->n_addrs; i++) {
        const struct phys_port_sec_addr *a = &ps->addrs[i];
        uint32_t host = a->plen >= 32 ? 0 : (uint32_t)lex_u128_bits(0, 32 - a->plen);
        if (!a->ipv6 && host && (a->ip & host) && ip == ((uint32_t)a->ip | host)) {
            return true;
        }
    }
    return false;
}

/* Whether entry 'ps' admits a packet to the port (its eth.dst is the entry's). */
static bool
ps_admits_out(const struct phys_port_sec *ps, const struct pkey *key,
              struct pkey_mask *wc)
{
    uint32_t eth_type = (uint32_t)ps_read(key, wc, PKEY_F_ETH_TYPE);

    if (eth_type == 0x800) {
        if (!ps->n_addrs) {
            return true;
        }
        uint32_t dst = (uint32_t)ps_read(key, wc, PKEY_F_IP4_DST);
        return ps->n_ip4 &&
               (ps_has_ip(ps, false, dst) || dst == 0xffffffff ||
                (dst & 0xf0000000) == 0xe0000000 || ps_is_subnet_bcast(ps, dst));
    }
    if (eth_type == 0x86dd) {
        if (!ps->n_addrs) {
            return true;
        }
        lex_u128 dst = ps_read(key, wc, PKEY_F_IP6_DST);
        return ps->n_ip6 && (ps_has_ip(ps, true, dst) || dst == mac_lla(ps->mac) ||
                             (dst >> 120) == 0xff);
    }
    return true;
}

static bool
env_port_sec(void *aux, const struct pkey *key, struct pkey_mask *wc, bool egress)
{
    const struct walk *w = aux;
    enum pkey_field_id port_field = egress ? PKEY_F_OUTPORT : PKEY_F_INPORT;
    uint32_t dp = (uint32_t)ps_read(key, wc, PKEY_F_DATAPATH);
    uint32_t port_key = (uint32_t)ps_read(key, wc, port_field);
    const struct phys_port *port = phys_port_find_key(w->phys, dp, port_key);

    if (!port || !port->n_port_sec) {
        return false;
    }
    lex_u128 mac = ps_read(key, wc, egress ? PKEY_F_ETH_DST : PKEY_F_ETH_SRC);
    for (size_t i = 0; i < port->n_port_sec; i++) {
        const struct phys_port_sec *ps = &port->port_sec[i];
        if (mac_value(ps->mac) == mac &&
            (egress ? ps_admits_out(ps, key, wc) : ps_admits_in(ps, key, wc))) {
            return false;
        }
    }
    return true;
}

/* chk_lb_hairpin: whether a connection the load balancer DNATed goes back to its
 * source, i.e. the backend chosen is the client itself.  ovn-controller's hairpin
 * table matches ip.src == ip.dst == a backend of the VIP on a destination-NATed
 * connection; conntrack DNATs only to a backend of the VIP the flow matched, so a
 * destination-NATed packet whose source equals its destination is such a packet.
 *
 * chk_lb_hairpin_reply: ovn-controller answers it from flows that ct_snat_to_vip
 * learns, one per hairpinned connection (the reversed tuple), so it is true only for
 * the backend's replies on a connection already hairpinned.  ovnic keeps no such
 * learned flows: it is false, which is exact for a walk with no earlier packet (a
 * trace) and leaves such replies to the ct_snat zone's reverse NAT. */
static bool
env_lb_hairpin(void *aux, const struct pkey *key, struct pkey_mask *wc, bool reply)
{
    (void)aux;
    if (reply) {
        return false;
    }
    uint16_t type = (uint16_t)ps_read(key, wc, PKEY_F_ETH_TYPE);
    bool ipv6 = type == 0x86dd;
    if (type != 0x0800 && !ipv6) {
        return false;
    }
    uint32_t state = (uint32_t)ps_read(key, wc, PKEY_F_CT_STATE);
    if ((state & (CT_STATE_TRK | CT_STATE_DNAT)) != (CT_STATE_TRK | CT_STATE_DNAT)) {
        return false;
    }
    return ps_read(key, wc, ipv6 ? PKEY_F_IP6_SRC : PKEY_F_IP4_SRC) ==
           ps_read(key, wc, ipv6 ? PKEY_F_IP6_DST : PKEY_F_IP4_DST);
}

/* ---- Entry. ---- */

/* The start of a walk: key, bytes (a new buffer, or NULL), datapath, port. */
struct entry {
    struct pkey key;
    uint8_t *pkt;
    size_t len;
    const struct phys_datapath *dp;
    const struct phys_port *port;  /* VIF/localnet: inport; tunnel: outport, or NULL. */
    const struct phys_mcgroup *mc; /* Tunnel to a multicast group. */
    bool vlan_popped;
};

static int
entry_fail(struct ovnic_err *err, int code, const char *msg, const char *detail)
{
    return ovnic_err_set(err, code, "pipeline input", msg, "%s", detail ? detail : "");
}

static int
entry_build(const struct pipeline *p, const struct pipeline_input *in, struct entry *e,
            struct ovnic_err *err)
{
    const struct phys *phys = &p->st->phys;
    memset(e, 0, sizeof *e);
    enum packet_drop_reason reason = PACKET_DROP_NONE;
    struct packet_layout layout;
    if (in->packet) {
        unsigned int flags = in->type == PIPELINE_IN_TUNNEL ? PACKET_PARSE_TUNNEL : 0;
        if (packet_parse(in->packet, in->len, flags, &e->key, &layout, &reason, NULL)) {
            return entry_fail(err, -EINVAL, "malformed packet",
                              packet_drop_reason_name(reason));
        }
        size_t ofs = in->type == PIPELINE_IN_TUNNEL ? layout.l2 : 0;
        e->len = in->len - ofs;
        e->pkt = malloc(e->len ? e->len : 1);
        if (!e->pkt) {
            return -ENOMEM;
        }
        memcpy(e->pkt, in->packet + ofs, e->len);
    } else if (in->key) {
        e->key = *in->key;
        size_t keep = in->type == PIPELINE_IN_TUNNEL
                          ? offsetof(struct pkey_fields, tun_id)
                          : offsetof(struct pkey_fields, eth_dst);
        memset(e->key.w, 0, offsetof(struct pkey_fields, tun_id));
        if (keep == offsetof(struct pkey_fields, eth_dst)) {
            memset(&e->key.f.tun_id, 0, keep - offsetof(struct pkey_fields, tun_id));
        }
    } else {
        return entry_fail(err, -EINVAL, "no packet and no key", NULL);
    }
    int error = 0;
    switch (in->type) {
    case PIPELINE_IN_VIF:
        e->port = in->port ? phys_port_find(phys, in->port) : NULL;
        if (!e->port) {
            error = entry_fail(err, -ENOENT, "unknown logical port", in->port);
        } else if (!phys->trace_mode && e->port->chassis && !e->port->is_local) {
            error = entry_fail(err, -EHOSTUNREACH, "port bound to another chassis",
                               e->port->chassis);
        }
        break;
    case PIPELINE_IN_LOCALNET: {
        uint16_t tci = ntohs(e->key.f.vlan_tci);
        int vlan = tci & PKEY_VLAN_PRESENT ? tci & 0xfff : -1;
        e->port = in->port ? phys_localnet_find(phys, in->port, vlan) : NULL;
        if (!e->port) {
            error = entry_fail(err, -ENOENT, "no localnet port for that network and VLAN",
                               in->port);
            break;
        }
        if (vlan >= 0) {
            e->vlan_popped = true;
            e->key.f.vlan_tci = 0;
            if (e->pkt && e->len >= 18) {
                memmove(e->pkt + 12, e->pkt + 16, e->len - 16);
                e->len -= 4;
            }
        }
        break;
    }
    case PIPELINE_IN_TUNNEL: {
        uint8_t tf = e->key.f.tun_flags;
        if (!(tf & PKEY_TUN_PRESENT) || !(tf & PKEY_TUN_OVN_OPT)) {
            error = entry_fail(err, -EINVAL, "no Geneve tunnel with OVN's option", NULL);
            break;
        }
        uint32_t vni = ntohl(e->key.f.tun_id);
        uint32_t out = ntohs(e->key.f.tun_ovn_outport);
        e->dp = phys_datapath_find(phys, vni);
        if (!e->dp) {
            error = entry_fail(err, -ENOENT, "unknown datapath (VNI)", NULL);
            break;
        }
        e->mc = phys_mcgroup_find(phys, vni, out);
        e->port = e->mc ? NULL : phys_port_find_key(phys, vni, out);
        if (!e->mc && !e->port) {
            error = entry_fail(err, -ENOENT, "unknown egress port", NULL);
        } else if (e->port && !phys->trace_mode && !e->port->is_local) {
            error = entry_fail(err, -EHOSTUNREACH, "egress port not on this chassis",
                               e->port->name);
        }
        break;
    }
    default:
        error = entry_fail(err, -EINVAL, "unknown input type", NULL);
        break;
    }
    if (error) {
        free(e->pkt);
        e->pkt = NULL;
        return error;
    }
    struct pkey *k = &e->key;
    pkey_field_set(k, PKEY_F_IN_PORT, in->in_port);
    if (in->type == PIPELINE_IN_TUNNEL) {
        pkey_field_set(k, PKEY_F_DATAPATH, e->dp->key);
        pkey_field_set(k, PKEY_F_INPORT, ntohs(k->f.tun_ovn_inport));
        pkey_field_set(k, PKEY_F_OUTPORT, ntohs(k->f.tun_ovn_outport));
    } else {
        e->dp = e->port->dp;
        pkey_field_set(k, PKEY_F_DATAPATH, e->dp->key);
        pkey_field_set(k, PKEY_F_INPORT, e->port->key);
        pkey_field_set(k, PKEY_F_REG0 + CT_REG_CT_ZONE, e->port->zone);
        pkey_field_set(k, PKEY_F_REG0 + CT_REG_DNAT_ZONE, e->dp->dnat_zone);
        pkey_field_set(k, PKEY_F_REG0 + CT_REG_SNAT_ZONE, e->dp->snat_zone);
    }
    return 0;
}

int
pipeline_input_key(const struct pipeline *p, const struct pipeline_input *in,
                   struct pkey *key, struct ovnic_err *err)
{
    struct entry e;
    int error = entry_build(p, in, &e, err);
    if (!error) {
        *key = e.key;
        free(e.pkt);
    }
    return error;
}

int
pipeline_process(struct pipeline *p, const struct pipeline_input *in,
                 struct pipeline_result *out)
{
    pipeline_result_destroy(out);
    p->stats.n_walks++;
    struct walk *w = calloc(1, sizeof *w);
    struct branch *b = calloc(1, sizeof *b);
    if (!w || !b) {
        free(w);
        free(b);
        return -ENOMEM;
    }
    w->p = p;
    w->phys = &p->st->phys;
    w->out = out;
    w->trace = in->trace;
    w->from_tunnel = in->type == PIPELINE_IN_TUNNEL;
    w->n_branches = 1;
    w->env = (struct exec_env){
        .ct_class = p->cfg.ct_class,
        .ct = p->cfg.ct,
        .port_key = env_port_key,
        .mac_binding = env_mac_binding,
        .fdb = env_fdb,
        .port_sec = env_port_sec,
        .lb_hairpin = env_lb_hairpin,
        .aux = w,
        .select_id = p->cfg.select_id,
    };
    pkey_mask_init(&w->wc);
    out->megaflow.generation = p->generation;

    struct ovnic_err err = {0};
    struct entry e;
    int error = entry_build(p, in, &e, &err);
    if (error) {
        char buf[256];
        out->error = error;
        out->error_msg = strdup(ovnic_err_format(&err, buf, sizeof buf));
        megaflow_set_uncacheable(&out->megaflow, "input refused");
        struct pipeline_drop *d =
            array_push((void **)&out->drops, &out->n_drops, sizeof *d);
        if (d) {
            d->table = -1;
            d->error = error;
            d->reason = strdup(out->error_msg ? out->error_msg : "input refused");
        }
        p->stats.n_drops++;
        free(w);
        free(b);
        return error == -ENOMEM ? error : 0;
    }
    out->input_key = e.key;
    w->start = e.key;
    w->mf_state = e.key;
    b->key = e.key;
    b->pkt = e.pkt;
    b->len = e.len;
    b->dp = e.dp;
    exec_result_init(&b->r, &w->wc);

    /* What the entry itself depends on. */
    mask_add(&w->wc, PKEY_F_IN_PORT, field_all(PKEY_F_IN_PORT));
    mask_add(&w->wc, PKEY_F_DATAPATH, field_all(PKEY_F_DATAPATH));
    mask_add(&w->wc, PKEY_F_INPORT, field_all(PKEY_F_INPORT));
    if (in->type == PIPELINE_IN_TUNNEL) {
        static const enum pkey_field_id tun[] = {PKEY_F_TUN_ID, PKEY_F_TUN_FLAGS,
                                                 PKEY_F_TUN_OVN_INPORT,
                                                 PKEY_F_TUN_OVN_OUTPORT, PKEY_F_OUTPORT};
        for (size_t i = 0; i < ARRAY_SIZE(tun); i++) {
            mask_add(&w->wc, tun[i], field_all(tun[i]));
        }
        struct megaflow_action a = {.type = MEGAFLOW_ACT_TUNNEL_POP};
        mf_append(w, &a);
    } else if (e.vlan_popped) {
        struct megaflow_action a = {.type = MEGAFLOW_ACT_VLAN_POP};
        mf_append(w, &a);
    }

    if (in->type == PIPELINE_IN_TUNNEL) {
        trace_add(w, b, PIPELINE_TRACE_PHYSICAL, ACTION_PIPELINE_EGRESS, -1,
                  "from Geneve: vni 0x%x, ingress \"%s\", egress \"%s\"", e.dp->key,
                  port_name(w, e.dp->key, ntohs(e.key.f.tun_ovn_inport)),
                  port_name(w, e.dp->key, ntohs(e.key.f.tun_ovn_outport)));
        if (e.mc) {
            output_mcgroup(w, b, e.mc);
        } else {
            output_port(w, b, e.port);
        }
    } else {
        trace_add(w, b, PIPELINE_TRACE_PIPELINE, ACTION_PIPELINE_INGRESS, 0,
                  "ingress(dp=\"%s\", inport=\"%s\")", e.dp->name, e.port->name);
        walk_from(w, b, ACTION_PIPELINE_INGRESS, 0, NULL);
    }

    out->megaflow.mask = w->wc;
    out->megaflow.key = e.key;
    pkey_apply_mask(&out->megaflow.key, &w->wc);
    bool nomem = w->nomem;
    free(w);
    return nomem ? -ENOMEM : 0;
}

/* ---- Text and JSON. ---- */

const char *
pipeline_output_type_name(enum pipeline_output_type type)
{
    switch (type) {
    case PIPELINE_OUT_LOCAL:
        return "local";
    case PIPELINE_OUT_TUNNEL:
        return "tunnel";
    case PIPELINE_OUT_LOCALNET:
        return "localnet";
    case PIPELINE_OUT_LOGICAL:
        return "logical";
    }
    return "?";
}

const char *
pipeline_trace_type_name(enum pipeline_trace_type type)
{
    switch (type) {
    case PIPELINE_TRACE_PIPELINE:
        return "pipeline";
    case PIPELINE_TRACE_FLOW:
        return "flow";
    case PIPELINE_TRACE_NO_MATCH:
        return "no-match";
    case PIPELINE_TRACE_PHYSICAL:
        return "physical";
    case PIPELINE_TRACE_CT:
        return "ct";
    case PIPELINE_TRACE_CTRL:
        return "controller";
    case PIPELINE_TRACE_OUTPUT:
        return "output";
    case PIPELINE_TRACE_DROP:
        return "drop";
    }
    return "?";
}

/* A growing string. */
struct strbuf {
    char *s;
    size_t len;
    size_t alloc;
    bool nomem;
};

static void OVNIC_PRINTF(2, 3) sb_put(struct strbuf *sb, const char *fmt, ...)
{
    for (;;) {
        va_list args;
        va_start(args, fmt);
        size_t room = sb->alloc - sb->len;
        int n = vsnprintf(sb->s ? sb->s + sb->len : NULL, sb->s ? room : 0, fmt, args);
        va_end(args);
        if (n < 0) {
            return;
        }
        if (sb->s && (size_t)n < room) {
            sb->len += (size_t)n;
            return;
        }
        size_t alloc = MAX(sb->alloc * 2, sb->len + (size_t)n + 256);
        char *s = realloc(sb->s, alloc);
        if (!s) {
            sb->nomem = true;
            return;
        }
        sb->s = s;
        sb->alloc = alloc;
    }
}

static char *
sb_finish(struct strbuf *sb)
{
    if (sb->nomem) {
        free(sb->s);
        return NULL;
    }
    return sb->s ? sb->s : strdup("");
}

char *
pipeline_trace_format(const struct pipeline_result *r)
{
    struct strbuf sb = {0};
    if (r->error_msg) {
        sb_put(&sb, "*** input refused: %s\n", r->error_msg);
    }
    for (size_t i = 0; i < r->n_trace; i++) {
        const struct pipeline_trace_entry *t = &r->trace[i];
        int ind = (int)(2 * t->depth);
        switch (t->type) {
        case PIPELINE_TRACE_PIPELINE:
            sb_put(&sb, "%*s%s\n", ind, "", t->text);
            break;
        case PIPELINE_TRACE_FLOW: {
            char u[UUID_LEN + 1];
            sb_put(&sb, "%*s%2d. %s (priority %d, uuid %.8s): %s\n", ind, "", t->table,
                   t->stage && t->stage[0] ? t->stage : pipeline_name(t->pipeline),
                   t->priority, uuid_to_string(&t->uuid, u), t->match ? t->match : "");
            sb_put(&sb, "%*s    %s\n", ind, "", t->actions ? t->actions : "");
            break;
        }
        case PIPELINE_TRACE_NO_MATCH:
            sb_put(&sb, "%*s%2d. no flow matched\n", ind, "", t->table);
            break;
        default:
            sb_put(&sb, "%*s    %s%s\n", ind, "",
                   t->type == PIPELINE_TRACE_DROP || t->type == PIPELINE_TRACE_OUTPUT
                       ? "=> "
                       : "",
                   t->text ? t->text : "");
            break;
        }
    }
    return sb_finish(&sb);
}

char *
pipeline_megaflow_format(const struct pipeline_result *r)
{
    size_t n = megaflow_format(&r->megaflow, NULL, 0);
    char *s = malloc(n + 1);
    if (s) {
        megaflow_format(&r->megaflow, s, n + 1);
    }
    return s;
}

static json_t *
hex_json(const uint8_t *p, size_t n)
{
    char *s = malloc(2 * n + 1);
    if (!s) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(s + 2 * i, 3, "%02x", p[i]);
    }
    s[2 * n] = '\0';
    json_t *j = json_string(s);
    free(s);
    return j;
}

static json_t *
key_json(const struct pkey *key, const struct pkey_mask *mask)
{
    size_t n = pkey_format(key, mask, NULL, 0);
    char *s = malloc(n + 1);
    if (!s) {
        return NULL;
    }
    pkey_format(key, mask, s, n + 1);
    json_t *j = json_string(s);
    free(s);
    return j;
}

/* json_object_set_new() that tolerates NULL values (an allocation failure). */
static bool
jset(json_t *obj, const char *name, json_t *value)
{
    return value && !json_object_set_new(obj, name, value);
}

/* Appends the rules of datapath 'dp' to 'out'.  Returns 0 or -ENOMEM. */
static int
dp_flows_json(const struct phys_datapath *dp, json_t *out)
{
    const struct cls_rule **rules;
    size_t n;

    if (!dp->cls) {
        return 0;
    }
    if (cls_rules_sorted(dp->cls, &rules, &n)) {
        return -ENOMEM;
    }
    int error = 0;
    for (size_t i = 0; i < n && !error; i++) {
        const struct pl_flow *flow = cls_rule_data(rules[i]);
        unsigned int table = cls_rule_table(rules[i]);
        bool egress = table >= PIPELINE_EGRESS_BASE;
        char u[UUID_LEN + 1];
        json_t *j = json_pack(
            "{s:s,s:I,s:s,s:i,s:I,s:s,s:s,s:s,s:s,s:I,s:I}", "datapath", dp->name,
            "datapath_key", (json_int_t)dp->key, "pipeline",
            egress ? "egress" : "ingress", "table",
            (int)(egress ? table - PIPELINE_EGRESS_BASE : table), "priority",
            (json_int_t)cls_rule_priority(rules[i]), "stage", flow->parsed->stage, "uuid",
            uuid_to_string(&flow->parsed->uuid, u), "match",
            flow->match ? flow->match : "", "actions", flow->actions ? flow->actions : "",
            "installed", (json_int_t)cls_rule_n_entries(rules[i]), "hits",
            (json_int_t)cls_rule_hits(rules[i]));
        error = !j || json_array_append_new(out, j) ? -ENOMEM : 0;
    }
    free(rules);
    return error;
}

static int
dp_key_order(const void *a_, const void *b_)
{
    const struct phys_datapath *a = *(const struct phys_datapath *const *)a_;
    const struct phys_datapath *b = *(const struct phys_datapath *const *)b_;
    return (a->key > b->key) - (a->key < b->key);
}

json_t *
pipeline_flows_json(const struct pipeline *p, const char *datapath, struct ovnic_err *err)
{
    const struct phys *phys = &p->st->phys;
    size_t n = hmap_count(&phys->datapaths), k = 0;
    const struct phys_datapath **dps = malloc((n ? n : 1) * sizeof *dps);
    json_t *out = json_array();
    const struct phys_datapath *dp;

    if (!dps || !out) {
        free(dps);
        json_decref(out);
        ovnic_err_set(err, -ENOMEM, "pipeline", "out of memory", NULL);
        return NULL;
    }
    HMAP_FOR_EACH (dp, node, &phys->datapaths) {
        if (!datapath || !strcmp(dp->name, datapath)) {
            dps[k++] = dp;
        }
    }
    if (datapath && !k) {
        free(dps);
        json_decref(out);
        ovnic_err_set(err, -ENOENT, "datapath", "no such datapath", "%s", datapath);
        return NULL;
    }
    if (k > 1) {
        qsort(dps, k, sizeof *dps, dp_key_order);
    }
    for (size_t i = 0; i < k; i++) {
        if (dp_flows_json(dps[i], out)) {
            json_decref(out);
            out = NULL;
            ovnic_err_set(err, -ENOMEM, "pipeline", "out of memory", NULL);
            break;
        }
    }
    free(dps);
    return out;
}

json_t *
pipeline_result_to_json(const struct pipeline_result *r)
{
    json_t *root = json_object();
    json_t *outputs = json_array(), *drops = json_array(), *ctrls = json_array();
    json_t *trace = json_array(), *mf = json_object();
    bool ok = root && outputs && drops && ctrls && trace && mf;
    if (ok && r->error_msg) {
        ok = jset(root, "error", json_string(r->error_msg));
    }
    for (size_t i = 0; ok && i < r->n_outputs; i++) {
        const struct pipeline_output *o = &r->outputs[i];
        json_t *j = json_object();
        ok = j && !json_array_append_new(outputs, j) &&
             jset(j, "type", json_string(pipeline_output_type_name(o->type))) &&
             jset(j, "datapath", json_integer(o->datapath)) &&
             jset(j, "port", json_string(o->port ? o->port : "")) &&
             jset(j, "port_key", json_integer(o->port_key)) &&
             jset(j, "key", key_json(&o->key, NULL)) &&
             jset(j, "from_controller", json_boolean(o->from_controller)) &&
             jset(j, "built_by", json_string(o->built_by));
        if (ok && o->packet) {
            ok = jset(j, "packet", hex_json(o->packet, o->len));
        }
        if (ok && o->type == PIPELINE_OUT_TUNNEL) {
            ok = jset(j, "chassis", json_string(o->chassis)) &&
                 jset(j, "encap_ip", json_string(o->encap_ip)) &&
                 jset(j, "tun_id", json_integer(o->tun_id)) &&
                 jset(j, "tun_ovn_inport", json_integer(o->tun_ovn_inport)) &&
                 jset(j, "tun_ovn_outport", json_integer(o->tun_ovn_outport));
        }
        if (ok && o->type == PIPELINE_OUT_LOCALNET) {
            ok = jset(j, "network", json_string(o->network)) &&
                 jset(j, "vlan", json_integer(o->vlan));
        }
    }
    for (size_t i = 0; ok && i < r->n_drops; i++) {
        const struct pipeline_drop *d = &r->drops[i];
        json_t *j = json_object();
        ok = j && !json_array_append_new(drops, j) &&
             jset(j, "datapath", json_integer(d->datapath)) &&
             jset(j, "pipeline", json_string(pipeline_name(d->pipeline))) &&
             jset(j, "table", json_integer(d->table)) &&
             jset(j, "reason", json_string(d->reason ? d->reason : "")) &&
             jset(j, "from_controller", json_boolean(d->from_controller)) &&
             jset(j, "built_by", json_string(d->built_by));
    }
    for (size_t i = 0; ok && i < r->n_ctrls; i++) {
        const struct pipeline_ctrl *c = &r->ctrls[i];
        json_t *j = json_object();
        ok = j && !json_array_append_new(ctrls, j) &&
             jset(j, "action", json_string(action_type_name(c->type))) &&
             jset(j, "datapath", json_integer(c->datapath)) &&
             jset(j, "text", json_string(c->text ? c->text : ""));
        if (ok && c->packet) {
            ok = jset(j, "packet", hex_json(c->packet, c->len));
        }
    }
    if (ok) {
        char *m = pipeline_megaflow_format(r);
        size_t n = megaflow_actions_format(&r->megaflow, NULL, 0);
        char *a = malloc(n + 1);
        if (a) {
            megaflow_actions_format(&r->megaflow, a, n + 1);
        }
        ok = m && a && jset(mf, "match", key_json(&r->megaflow.key, &r->megaflow.mask)) &&
             jset(mf, "actions", json_string(a)) &&
             jset(mf, "cacheable", json_boolean(r->megaflow.cacheable));
        if (ok && r->megaflow.uncacheable_reason) {
            ok = jset(mf, "uncacheable_reason",
                      json_string(r->megaflow.uncacheable_reason));
        }
        free(m);
        free(a);
    }
    for (size_t i = 0; ok && i < r->n_trace; i++) {
        const struct pipeline_trace_entry *t = &r->trace[i];
        json_t *j = json_object();
        ok = j && !json_array_append_new(trace, j) &&
             jset(j, "type", json_string(pipeline_trace_type_name(t->type))) &&
             jset(j, "depth", json_integer(t->depth)) &&
             jset(j, "datapath", json_integer(t->datapath)) &&
             jset(j, "dp", json_string(t->dp_name ? t->dp_name : "")) &&
             jset(j, "pipeline", json_string(pipeline_name(t->pipeline))) &&
             jset(j, "table", json_integer(t->table)) &&
             jset(j, "text", json_string(t->text ? t->text : ""));
        if (ok && t->type == PIPELINE_TRACE_FLOW) {
            char u[UUID_LEN + 1];
            ok = jset(j, "priority", json_integer(t->priority)) &&
                 jset(j, "stage", json_string(t->stage ? t->stage : "")) &&
                 jset(j, "uuid", json_string(uuid_to_string(&t->uuid, u))) &&
                 jset(j, "match", json_string(t->match ? t->match : "")) &&
                 jset(j, "actions", json_string(t->actions ? t->actions : ""));
        }
    }
    if (ok) {
        ok = !json_object_set(root, "outputs", outputs) &&
             !json_object_set(root, "drops", drops) &&
             !json_object_set(root, "controller", ctrls) &&
             !json_object_set(root, "megaflow", mf) &&
             !json_object_set(root, "trace", trace);
    }
    json_decref(outputs);
    json_decref(drops);
    json_decref(ctrls);
    json_decref(trace);
    json_decref(mf);
    if (!ok) {
        json_decref(root);
        return NULL;
    }
    return root;
}
