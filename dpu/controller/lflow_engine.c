/* ovnic: incremental translation of SB logical flows into IR (see lflow_engine.h). */
#include "dpu/controller/lflow_engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dpu/controller/ldp.h"
#include "dpu/controller/lex.h"
#include "dpu/ovsdb/datum.h"
#include "dpu/ovsdb/replica.h"
#include "shared/util/hash.h"
#include "shared/util/hmap.h"
#include "shared/util/list.h"
#include "shared/util/log.h"
#include "shared/util/util.h"

OVNIC_LOG_MODULE(lflow_engine);

static struct ovnic_ratelimit parse_rl = OVNIC_RATELIMIT_INIT(30, 30);

/* What a flow depends on, besides its own row. */
enum ref_kind {
    REF_ADDRESS_SET, /* Address_Set name (without "$"). */
    REF_PORT_GROUP,  /* Port group name as the match writes it (without "@"). */
    REF_DATAPATH,    /* Datapath_Binding uuid, as text. */
    REF_DP_GROUP,    /* Logical_DP_Group uuid, as text. */
};

/* One entry of the reverse index: a name (or row) and the flows that depend on it. */
struct lflow_ref {
    struct hmap_node node; /* In 'engine->refs', by ref_hash(). */
    enum ref_kind kind;
    char *key;
    struct ovnic_list links; /* Of struct ref_link. */
};

struct ref_link {
    struct ovnic_list node; /* In 'ref->links'. */
    struct lflow_ref *ref;
    struct lflow_entry *flow;
};

/* One local Logical_Flow row: its IR, or why it has none. */
struct lflow_entry {
    struct hmap_node node; /* In 'engine->flows', by uuid_hash(). */
    struct uuid uuid;
    struct lflow_parsed *parsed; /* Owned; NULL if the row failed to parse. */
    struct lflow_error *error;   /* Owned; NULL if the row parsed. */
    char *match;                 /* Failed rows only: the texts, for reports. */
    char *actions;
    int64_t *keys; /* Tunnel keys of the datapaths the flow applies to. */
    size_t n_keys;
    bool names_port_group;
    struct ref_link *links; /* Owned array; each is in its ref's list. */
    size_t n_links;
};

/* Why a flow is parsed again (the first reason found wins). */
enum work_reason {
    WORK_FLOW,        /* Its row was inserted, modified or deleted. */
    WORK_ADDRESS_SET, /* An address set it names changed. */
    WORK_PORT_GROUP,  /* A port group it names changed. */
    WORK_DATAPATH,    /* Its datapath or datapath group changed. */
    WORK_LOCAL,       /* Its datapath became local, or stopped being local. */
};

struct uuid_node {
    struct hmap_node node; /* By uuid_hash(). */
    struct uuid uuid;
    enum work_reason reason;
};

struct name_node {
    struct hmap_node node; /* By hash_string(). */
    char *name;
};

struct lflow_engine {
    struct symtab *symtab;
    struct hmap flows; /* Of struct lflow_entry. */
    struct hmap refs;  /* Of struct lflow_ref. */
    size_t n_failures;

    /* Pending changes, from lflow_engine_track(). */
    struct hmap dirty_flows;  /* Of struct uuid_node: Logical_Flow rows. */
    struct hmap dirty_sets;   /* Of struct name_node: Address_Set names. */
    struct hmap dirty_groups; /* Of struct name_node: Port_Group row names. */
    struct hmap dirty_dps;    /* Of struct uuid_node: Datapath_Binding rows. */
    struct hmap dirty_dpgs;   /* Of struct uuid_node: Logical_DP_Group rows. */

    bool need_full;
    const char *full_reason; /* Of the pending full recompute. */
    const struct ovsdb_replica *last_replica;

    /* The local datapaths at the last run. */
    bool had_ldp;
    struct hmap local; /* Of struct uuid_node. */

    struct lflow_engine_stats stats;
};

/* ---- Sets of uuids and names ---- */

static struct uuid_node *
uuid_set_find(const struct hmap *set, const struct uuid *uuid)
{
    struct uuid_node *n;

    HMAP_FOR_EACH_WITH_HASH (n, node, uuid_hash(uuid), set) {
        if (uuid_equals(&n->uuid, uuid)) {
            return n;
        }
    }
    return NULL;
}

/* Adds 'uuid' to 'set' with 'reason' unless it is there.  Returns 0 or -ENOMEM. */
static int
uuid_set_add(struct hmap *set, const struct uuid *uuid, enum work_reason reason)
{
    struct uuid_node *n;

    if (uuid_set_find(set, uuid)) {
        return 0;
    }
    n = malloc(sizeof *n);
    if (!n) {
        return -ENOMEM;
    }
    n->uuid = *uuid;
    n->reason = reason;
    hmap_insert(set, &n->node, uuid_hash(uuid));
    return 0;
}

static void
uuid_set_clear(struct hmap *set)
{
    struct uuid_node *n, *next;

    HMAP_FOR_EACH_SAFE (n, next, node, set) {
        hmap_remove(set, &n->node);
        free(n);
    }
}

static int
name_set_add(struct hmap *set, const char *name)
{
    uint32_t hash = hash_string(name, 0);
    struct name_node *n;

    HMAP_FOR_EACH_WITH_HASH (n, node, hash, set) {
        if (!strcmp(n->name, name)) {
            return 0;
        }
    }
    n = malloc(sizeof *n);
    if (!n || !(n->name = strdup(name))) {
        free(n);
        return -ENOMEM;
    }
    hmap_insert(set, &n->node, hash);
    return 0;
}

static void
name_set_clear(struct hmap *set)
{
    struct name_node *n, *next;

    HMAP_FOR_EACH_SAFE (n, next, node, set) {
        hmap_remove(set, &n->node);
        free(n->name);
        free(n);
    }
}

static void
pending_clear(struct lflow_engine *engine)
{
    uuid_set_clear(&engine->dirty_flows);
    name_set_clear(&engine->dirty_sets);
    name_set_clear(&engine->dirty_groups);
    uuid_set_clear(&engine->dirty_dps);
    uuid_set_clear(&engine->dirty_dpgs);
}

static bool
pending_is_empty(const struct lflow_engine *engine)
{
    return hmap_is_empty(&engine->dirty_flows) && hmap_is_empty(&engine->dirty_sets) &&
           hmap_is_empty(&engine->dirty_groups) && hmap_is_empty(&engine->dirty_dps) &&
           hmap_is_empty(&engine->dirty_dpgs);
}

/* ---- The reverse index ---- */

static uint32_t
ref_hash(enum ref_kind kind, const char *key)
{
    return hash_string(key, kind);
}

static struct lflow_ref *
ref_find(const struct lflow_engine *engine, enum ref_kind kind, const char *key)
{
    struct lflow_ref *ref;

    HMAP_FOR_EACH_WITH_HASH (ref, node, ref_hash(kind, key), &engine->refs) {
        if (ref->kind == kind && !strcmp(ref->key, key)) {
            return ref;
        }
    }
    return NULL;
}

/* Links 'flow' to the ref (kind, key), creating the ref if needed.  A second link to
 * the same ref is not made.  'flow->links' has room for one more.  Returns 0 or
 * -ENOMEM. */
static int
ref_link(struct lflow_engine *engine, struct lflow_entry *flow, enum ref_kind kind,
         const char *key)
{
    struct lflow_ref *ref = ref_find(engine, kind, key);
    struct ref_link *link;

    if (ref) {
        for (size_t i = 0; i < flow->n_links; i++) {
            if (flow->links[i].ref == ref) {
                return 0;
            }
        }
    } else {
        ref = calloc(1, sizeof *ref);
        if (!ref || !(ref->key = strdup(key))) {
            free(ref);
            return -ENOMEM;
        }
        ref->kind = kind;
        ovnic_list_init(&ref->links);
        hmap_insert(&engine->refs, &ref->node, ref_hash(kind, key));
    }
    link = &flow->links[flow->n_links++];
    link->ref = ref;
    link->flow = flow;
    ovnic_list_push_back(&ref->links, &link->node);
    return 0;
}

static void
entry_unlink(struct lflow_engine *engine, struct lflow_entry *flow)
{
    for (size_t i = 0; i < flow->n_links; i++) {
        struct lflow_ref *ref = flow->links[i].ref;

        ovnic_list_remove(&flow->links[i].node);
        if (ovnic_list_is_empty(&ref->links)) {
            hmap_remove(&engine->refs, &ref->node);
            free(ref->key);
            free(ref);
        }
    }
    flow->n_links = 0;
}

/* ---- Flows ---- */

static void
entry_free(struct lflow_entry *flow)
{
    if (flow) {
        lflow_parsed_destroy(flow->parsed);
        free(flow->error);
        free(flow->match);
        free(flow->actions);
        free(flow->keys);
        free(flow->links);
        free(flow);
    }
}

static struct lflow_entry *
entry_find(const struct lflow_engine *engine, const struct uuid *uuid)
{
    struct lflow_entry *flow;

    HMAP_FOR_EACH_WITH_HASH (flow, node, uuid_hash(uuid), &engine->flows) {
        if (uuid_equals(&flow->uuid, uuid)) {
            return flow;
        }
    }
    return NULL;
}

/* Removes 'flow' from the engine and frees it. */
static void
entry_remove(struct lflow_engine *engine, struct lflow_entry *flow)
{
    entry_unlink(engine, flow);
    hmap_remove(&engine->flows, &flow->node);
    if (flow->error) {
        engine->n_failures--;
    }
    entry_free(flow);
}

static void
entries_clear(struct lflow_engine *engine)
{
    struct lflow_entry *flow, *next;

    HMAP_FOR_EACH_SAFE (flow, next, node, &engine->flows) {
        entry_remove(engine, flow);
    }
}

static const struct ovsdb_row *
find_row(const struct ovsdb_replica *replica, const char *table, const struct uuid *uuid)
{
    const struct ovsdb_replica_table *t = ovsdb_replica_table(replica, table);

    return t && uuid ? ovsdb_replica_table_find(t, uuid) : NULL;
}

static const struct uuid *
flow_datapath(const struct ovsdb_row *row)
{
    return ovsdb_datum_get_uuid(ovsdb_row_get(row, "logical_datapath"));
}

static const struct uuid *
flow_dp_group(const struct ovsdb_row *row)
{
    return ovsdb_datum_get_uuid(ovsdb_row_get(row, "logical_dp_group"));
}

/* The datapaths of the Logical_DP_Group row 'group' (may be NULL), or NULL. */
static const struct ovsdb_datum *
group_datapaths(const struct ovsdb_replica *replica, const struct uuid *group)
{
    const struct ovsdb_row *g = find_row(replica, "Logical_DP_Group", group);

    return g ? ovsdb_row_get(g, "datapaths") : NULL;
}

/* True if Logical_Flow row 'row' applies to a local datapath (every datapath is local
 * when 'ldp' is NULL). */
static bool
flow_is_local(const struct ovsdb_replica *replica, const struct ovsdb_row *row,
              const struct ldp *ldp)
{
    const struct uuid *dp = flow_datapath(row);
    const struct ovsdb_datum *dps;

    if (!ldp) {
        return true;
    }
    if (dp && ldp_contains(ldp, dp)) {
        return true;
    }
    dps = group_datapaths(replica, flow_dp_group(row));
    for (size_t i = 0; dps && i < dps->n; i++) {
        if (ldp_contains(ldp, &dps->keys[i].uuid)) {
            return true;
        }
    }
    return false;
}

/* Adds the tunnel key of datapath 'dp' (may be NULL; ignored if unknown). */
static int
entry_add_key(struct lflow_entry *flow, const struct ovsdb_replica *replica,
              const struct uuid *dp, size_t max)
{
    const struct ovsdb_row *row = find_row(replica, "Datapath_Binding", dp);

    if (!row) {
        return 0;
    }
    if (!flow->keys) {
        flow->keys = malloc(max * sizeof *flow->keys);
        if (!flow->keys) {
            return -ENOMEM;
        }
    }
    flow->keys[flow->n_keys++] = ovsdb_datum_get_int(ovsdb_row_get(row, "tunnel_key"), 0);
    return 0;
}

static bool
entry_has_key(const struct lflow_entry *flow, int64_t key)
{
    for (size_t i = 0; i < flow->n_keys; i++) {
        if (flow->keys[i] == key) {
            return true;
        }
    }
    return false;
}

/* The address-set and port-group names of match text 'match', for a row the parser
 * rejected (the parser's own list is lost with its result).  Appends them to
 * 'refs'. */
static int
refs_from_text(const char *match, struct expr_refs *refs)
{
    struct lexer lexer;
    int error = 0;

    lexer_init(&lexer, match);
    while (!error && lexer_get(&lexer) != LEX_T_END && lexer.token.type != LEX_T_ERROR) {
        enum lex_type type = lexer.token.type;
        char ***names;
        size_t *n;
        char **p;

        if (type == LEX_T_MACRO) {
            names = &refs->address_sets;
            n = &refs->n_address_sets;
        } else if (type == LEX_T_PORT_GROUP) {
            names = &refs->port_groups;
            n = &refs->n_port_groups;
        } else {
            continue;
        }
        p = realloc(*names, (*n + 1) * sizeof **names);
        if (!p) {
            error = -ENOMEM;
            break;
        }
        *names = p;
        if (!(p[*n] = strdup(lexer.token.s))) {
            error = -ENOMEM;
            break;
        }
        (*n)++;
    }
    if (!error && lexer.token.type == LEX_T_ERROR && lexer.token.enomem) {
        error = -ENOMEM;
    }
    lexer_destroy(&lexer);
    return error;
}

/* Parses Logical_Flow row 'row' into a new entry (not yet in the engine, but linked
 * into its reverse index).  A row that does not parse gives an entry with its error.
 * Returns 0 or -ENOMEM. */
static int
entry_build(struct lflow_engine *engine, const struct ovsdb_replica *replica,
            const struct ovsdb_row *row, struct lflow_entry **flowp)
{
    const struct uuid *dp = flow_datapath(row);
    const struct uuid *group = flow_dp_group(row);
    const struct ovsdb_datum *dps = group_datapaths(replica, group);
    struct lflow_entry *flow = calloc(1, sizeof *flow);
    struct expr_refs text_refs;
    const struct expr_refs *refs;
    struct lflow_error error;
    char buf[UUID_LEN + 1];
    size_t max_keys = 1 + (dps ? dps->n : 0);
    int rc;

    expr_refs_init(&text_refs);
    if (!flow) {
        return -ENOMEM;
    }
    flow->uuid = *ovsdb_row_uuid(row);
    rc = entry_add_key(flow, replica, dp, max_keys);
    for (size_t i = 0; !rc && dps && i < dps->n; i++) {
        rc = entry_add_key(flow, replica, &dps->keys[i].uuid, max_keys);
    }
    if (rc) {
        goto err;
    }

    engine->stats.parsed_total++;
    rc = lflow_parse_row(engine->symtab, replica, row, &flow->parsed, &error, NULL);
    if (rc == -ENOMEM) {
        goto err;
    } else if (rc) {
        const char *match = ovsdb_datum_get_string(ovsdb_row_get(row, "match"), "");
        const char *actions = ovsdb_datum_get_string(ovsdb_row_get(row, "actions"), "");
        char line[UUID_LEN + LFLOW_STAGE_LEN + OVNIC_ERR_DETAIL_LEN + 128];

        flow->error = malloc(sizeof *flow->error);
        flow->match = strdup(match);
        flow->actions = strdup(actions);
        if (!flow->error || !flow->match || !flow->actions) {
            rc = -ENOMEM;
            goto err;
        }
        *flow->error = error;
        rc = refs_from_text(match, &text_refs);
        if (rc) {
            goto err;
        }
        refs = &text_refs;
        engine->stats.failures_total++;
        OLOG_WARN_RL(&parse_rl, "logical flow skipped: %s",
                     lflow_error_format(&error, line, sizeof line));
    } else {
        refs = &flow->parsed->refs;
    }

    flow->names_port_group = refs->n_port_groups > 0;
    flow->links =
        calloc(refs->n_address_sets + refs->n_port_groups + 2, sizeof *flow->links);
    if (!flow->links) {
        rc = -ENOMEM;
        goto err;
    }
    for (size_t i = 0; !rc && i < refs->n_address_sets; i++) {
        rc = ref_link(engine, flow, REF_ADDRESS_SET, refs->address_sets[i]);
    }
    for (size_t i = 0; !rc && i < refs->n_port_groups; i++) {
        rc = ref_link(engine, flow, REF_PORT_GROUP, refs->port_groups[i]);
    }
    if (!rc && dp) {
        rc = ref_link(engine, flow, REF_DATAPATH, uuid_to_string(dp, buf));
    }
    if (!rc && group) {
        rc = ref_link(engine, flow, REF_DP_GROUP, uuid_to_string(group, buf));
    }
    if (rc) {
        entry_unlink(engine, flow);
        goto err;
    }
    expr_refs_destroy(&text_refs);
    *flowp = flow;
    return 0;

err:
    expr_refs_destroy(&text_refs);
    entry_free(flow);
    return -ENOMEM;
}

/* Puts 'flow' (from entry_build()) in place of 'old' (may be NULL). */
static void
entry_install(struct lflow_engine *engine, struct lflow_entry *flow,
              struct lflow_entry *old)
{
    if (old) {
        entry_remove(engine, old);
    }
    hmap_insert(&engine->flows, &flow->node, uuid_hash(&flow->uuid));
    if (flow->error) {
        engine->n_failures++;
    }
}

/* ---- Tracking ---- */

static size_t
column_index(const struct ovsdb_row *row, const char *name)
{
    const struct ovsdb_table_schema *ts = ovsdb_row_table(row);

    for (size_t i = 0; i < ts->n_columns; i++) {
        if (!strcmp(ts->columns[i].name, name)) {
            return i;
        }
    }
    return SIZE_MAX;
}

static bool
column_changed(const struct ovsdb_row *row, const char *name)
{
    size_t idx = column_index(row, name);

    return idx != SIZE_MAX && ovsdb_row_column_changed(row, idx);
}

/* Records the names of the changed rows of 'table' (Address_Set or Port_Group) in
 * 'set'. */
static int
track_names(struct lflow_engine *engine, const struct ovsdb_replica *replica,
            const char *table, struct hmap *set)
{
    const struct ovsdb_replica_table *t = ovsdb_replica_table(replica, table);
    const struct ovsdb_row *row;
    int error = 0;

    if (!t) {
        return 0;
    }
    OVSDB_TABLE_FOR_EACH_TRACKED (row, t) {
        const char *name = ovsdb_datum_get_string(ovsdb_row_get(row, "name"), NULL);

        if (ovsdb_row_change(row) == OVSDB_ROW_MODIFIED && column_changed(row, "name")) {
            /* The old name is gone from the row: re-parse everything. */
            lflow_engine_request_full(engine, "an address set or port group was renamed");
            return 0;
        }
        if (name && (error = name_set_add(set, name))) {
            break;
        }
    }
    return error;
}

/* Records the uuids of the changed rows of 'table' in 'set'.  With 'column', a
 * modified row counts only if that column changed. */
static int
track_uuids(const struct ovsdb_replica *replica, const char *table, const char *column,
            struct hmap *set)
{
    const struct ovsdb_replica_table *t = ovsdb_replica_table(replica, table);
    const struct ovsdb_row *row;
    int error = 0;

    if (!t) {
        return 0;
    }
    OVSDB_TABLE_FOR_EACH_TRACKED (row, t) {
        if (column && ovsdb_row_change(row) == OVSDB_ROW_MODIFIED &&
            !column_changed(row, column)) {
            continue;
        }
        if ((error = uuid_set_add(set, ovsdb_row_uuid(row), WORK_FLOW))) {
            break;
        }
    }
    return error;
}

void
lflow_engine_track(struct lflow_engine *engine, const struct ovsdb_replica *replica)
{
    int error;

    if (engine->need_full) {
        return;
    }
    error = track_uuids(replica, "Logical_Flow", NULL, &engine->dirty_flows);
    if (!error) {
        error = track_names(engine, replica, "Address_Set", &engine->dirty_sets);
    }
    if (!error) {
        error = track_names(engine, replica, "Port_Group", &engine->dirty_groups);
    }
    if (!error) {
        error =
            track_uuids(replica, "Datapath_Binding", "tunnel_key", &engine->dirty_dps);
    }
    if (!error) {
        error = track_uuids(replica, "Logical_DP_Group", NULL, &engine->dirty_dpgs);
    }
    if (error) {
        lflow_engine_request_full(engine, "out of memory while tracking changes");
    }
    if (engine->need_full) {
        pending_clear(engine);
    }
}

/* ---- Runs ---- */

/* True if the local datapaths differ from those of the last run. */
static bool
ldp_changed(const struct lflow_engine *engine, const struct ldp *ldp)
{
    const struct ldp_datapath *dp;

    if (!ldp || !engine->had_ldp) {
        return !ldp != !engine->had_ldp;
    }
    if (hmap_count(&ldp->datapaths) != hmap_count(&engine->local)) {
        return true;
    }
    HMAP_FOR_EACH (dp, node, &ldp->datapaths) {
        if (!uuid_set_find(&engine->local, &dp->uuid)) {
            return true;
        }
    }
    return false;
}

static int
ldp_snapshot(struct lflow_engine *engine, const struct ldp *ldp)
{
    const struct ldp_datapath *dp;

    uuid_set_clear(&engine->local);
    engine->had_ldp = ldp != NULL;
    if (ldp) {
        HMAP_FOR_EACH (dp, node, &ldp->datapaths) {
            if (uuid_set_add(&engine->local, &dp->uuid, WORK_LOCAL)) {
                /* Force a rescan at the next run. */
                uuid_set_clear(&engine->local);
                engine->had_ldp = false;
                return -ENOMEM;
            }
        }
    }
    return 0;
}

/* Adds the flows linked to (kind, key) to 'work' with 'reason'.  With 'pg_only',
 * only those that name a port group or failed; with 'key_filter' >= 0, only those
 * that apply to the datapath with that tunnel key, or failed. */
static int
work_add_ref(struct lflow_engine *engine, struct hmap *work, enum ref_kind kind,
             const char *key, enum work_reason reason, bool pg_only, int64_t key_filter)
{
    struct lflow_ref *ref = ref_find(engine, kind, key);
    struct ref_link *link;

    if (!ref) {
        return 0;
    }
    LIST_FOR_EACH (link, node, &ref->links) {
        const struct lflow_entry *flow = link->flow;
        int error;

        if (pg_only && !flow->names_port_group && !flow->error) {
            continue;
        }
        if (key_filter >= 0 && !flow->error && !entry_has_key(flow, key_filter)) {
            continue;
        }
        if ((error = uuid_set_add(work, &flow->uuid, reason))) {
            return error;
        }
    }
    return 0;
}

/* For Port_Group row name "<key>_<name>": stores the parts and returns true. */
static bool
split_pg_name(const char *full, int64_t *key, const char **name)
{
    const char *p = full;
    int64_t k = 0;

    if (*p < '0' || *p > '9') {
        return false;
    }
    while (*p >= '0' && *p <= '9') {
        if (k > (INT64_MAX - 9) / 10) {
            return false;
        }
        k = k * 10 + (*p++ - '0');
    }
    if (*p != '_' || !p[1]) {
        return false;
    }
    *key = k;
    *name = p + 1;
    return true;
}

/* Turns the pending changes into the set of flows to parse again ('work'). */
static int
work_collect(struct lflow_engine *engine, const struct ovsdb_replica *replica,
             const struct ldp *ldp, struct hmap *work)
{
    const struct name_node *nn;
    const struct uuid_node *un;
    char buf[UUID_LEN + 1];
    int error = 0;

    HMAP_FOR_EACH (un, node, &engine->dirty_flows) {
        if ((error = uuid_set_add(work, &un->uuid, WORK_FLOW))) {
            return error;
        }
    }
    HMAP_FOR_EACH (nn, node, &engine->dirty_sets) {
        error = work_add_ref(engine, work, REF_ADDRESS_SET, nn->name, WORK_ADDRESS_SET,
                             false, -1);
        if (error) {
            return error;
        }
    }
    HMAP_FOR_EACH (nn, node, &engine->dirty_groups) {
        const char *name;
        int64_t key;

        error = work_add_ref(engine, work, REF_PORT_GROUP, nn->name, WORK_PORT_GROUP,
                             false, -1);
        if (!error && split_pg_name(nn->name, &key, &name)) {
            error = work_add_ref(engine, work, REF_PORT_GROUP, name, WORK_PORT_GROUP,
                                 false, key);
        }
        if (error) {
            return error;
        }
    }
    if (!hmap_is_empty(&engine->dirty_dps)) {
        /* A datapath's tunnel key decides which "<key>_<name>" row a port group of
         * its flows, and of the flows of the groups that hold it, resolves to. */
        const struct ovsdb_replica_table *gt =
            ovsdb_replica_table(replica, "Logical_DP_Group");
        const struct ovsdb_row *g;

        HMAP_FOR_EACH (un, node, &engine->dirty_dps) {
            error = work_add_ref(engine, work, REF_DATAPATH,
                                 uuid_to_string(&un->uuid, buf), WORK_DATAPATH, true, -1);
            if (error) {
                return error;
            }
        }
        if (gt) {
            OVSDB_TABLE_FOR_EACH_ROW (g, gt) {
                const struct ovsdb_datum *dps = ovsdb_row_get(g, "datapaths");

                for (size_t i = 0; dps && i < dps->n; i++) {
                    if (uuid_set_find(&engine->dirty_dps, &dps->keys[i].uuid)) {
                        error = work_add_ref(engine, work, REF_DP_GROUP,
                                             uuid_to_string(ovsdb_row_uuid(g), buf),
                                             WORK_DATAPATH, true, -1);
                        if (error) {
                            return error;
                        }
                        break;
                    }
                }
            }
        }
    }
    HMAP_FOR_EACH (un, node, &engine->dirty_dpgs) {
        error = work_add_ref(engine, work, REF_DP_GROUP, uuid_to_string(&un->uuid, buf),
                             WORK_DATAPATH, true, -1);
        if (error) {
            return error;
        }
    }

    /* Flows whose locality changed: their datapath became local or stopped being
     * local, or their datapath group changed.  Only rows whose state differs from
     * what the engine holds are added. */
    if (ldp_changed(engine, ldp) || (ldp && !hmap_is_empty(&engine->dirty_dpgs))) {
        const struct ovsdb_replica_table *t =
            ovsdb_replica_table(replica, "Logical_Flow");
        const struct ovsdb_row *row;

        if (t) {
            OVSDB_TABLE_FOR_EACH_ROW (row, t) {
                bool held = entry_find(engine, ovsdb_row_uuid(row)) != NULL;

                if (held != flow_is_local(replica, row, ldp) &&
                    (error = uuid_set_add(work, ovsdb_row_uuid(row), WORK_LOCAL))) {
                    return error;
                }
            }
        }
        /* Held flows whose row is gone are in 'dirty_flows' already. */
    }
    return 0;
}

/* Parses again, or drops, each flow of 'work'. */
static int
work_process(struct lflow_engine *engine, const struct ovsdb_replica *replica,
             const struct ldp *ldp, const struct hmap *work)
{
    const struct ovsdb_replica_table *t = ovsdb_replica_table(replica, "Logical_Flow");
    const struct uuid_node *un;

    HMAP_FOR_EACH (un, node, work) {
        const struct ovsdb_row *row = t ? ovsdb_replica_table_find(t, &un->uuid) : NULL;
        struct lflow_entry *old = entry_find(engine, &un->uuid);
        struct lflow_entry *flow;
        int error;

        if (!row || !flow_is_local(replica, row, ldp)) {
            if (old) {
                entry_remove(engine, old);
                engine->stats.removed++;
            }
            continue;
        }
        error = entry_build(engine, replica, row, &flow);
        if (error) {
            return error;
        }
        engine->stats.parsed_incremental++;
        if (!old) {
            engine->stats.parsed_new++;
        } else if (un->reason == WORK_ADDRESS_SET) {
            engine->stats.reparsed_address_set++;
        } else if (un->reason == WORK_PORT_GROUP) {
            engine->stats.reparsed_port_group++;
        } else if (un->reason == WORK_DATAPATH) {
            engine->stats.reparsed_datapath++;
        } else {
            engine->stats.reparsed_flow++;
        }
        entry_install(engine, flow, old);
    }
    return 0;
}

static int
run_incremental(struct lflow_engine *engine, const struct ovsdb_replica *replica,
                const struct ldp *ldp)
{
    struct hmap work = HMAP_INITIALIZER(&work);
    int error;

    error = work_collect(engine, replica, ldp, &work);
    if (!error) {
        error = work_process(engine, replica, ldp, &work);
    }
    uuid_set_clear(&work);
    hmap_destroy(&work);
    return error;
}

static int
run_full(struct lflow_engine *engine, const struct ovsdb_replica *replica,
         const struct ldp *ldp)
{
    const struct ovsdb_replica_table *t = ovsdb_replica_table(replica, "Logical_Flow");
    const struct ovsdb_row *row;

    entries_clear(engine);
    if (!t) {
        return 0;
    }
    OVSDB_TABLE_FOR_EACH_ROW (row, t) {
        struct lflow_entry *flow;
        int error;

        if (!flow_is_local(replica, row, ldp)) {
            continue;
        }
        error = entry_build(engine, replica, row, &flow);
        if (error) {
            return error;
        }
        engine->stats.parsed_full++;
        entry_install(engine, flow, NULL);
    }
    return 0;
}

int
lflow_engine_run(struct lflow_engine *engine, const struct ovsdb_replica *replica,
                 const struct ldp *ldp)
{
    uint64_t start = time_usec();
    bool full;
    int error;

    if (replica != engine->last_replica) {
        if (engine->last_replica) {
            lflow_engine_request_full(engine, "replica rebuilt");
        }
        engine->last_replica = replica;
    }
    full = engine->need_full;
    if (!full && pending_is_empty(engine) && !ldp_changed(engine, ldp)) {
        return 0;
    }
    if (full) {
        engine->stats.full_recomputes++;
        engine->stats.last_full_reason = engine->full_reason;
        engine->need_full = false;
        pending_clear(engine);
        error = run_full(engine, replica, ldp);
        OLOG_INFO("full recompute (%s): %zu flow(s) parsed, %zu failing",
                  engine->stats.last_full_reason,
                  hmap_count(&engine->flows) - engine->n_failures, engine->n_failures);
    } else {
        engine->stats.incremental_runs++;
        error = run_incremental(engine, replica, ldp);
        pending_clear(engine);
    }
    if (!error) {
        error = ldp_snapshot(engine, ldp);
    }
    if (error) {
        OLOG_ERR("cannot translate logical flows: %s", strerror(-error));
        lflow_engine_request_full(engine, "recovering from an allocation failure");
    }
    engine->stats.last_run_us = time_usec() - start;
    return error;
}

/* ---- Life cycle and queries ---- */

int
lflow_engine_create(struct lflow_engine **enginep)
{
    struct lflow_engine *engine = calloc(1, sizeof *engine);

    if (!engine) {
        return -ENOMEM;
    }
    if (symtab_create(&engine->symtab)) {
        free(engine);
        return -ENOMEM;
    }
    hmap_init(&engine->flows);
    hmap_init(&engine->refs);
    hmap_init(&engine->dirty_flows);
    hmap_init(&engine->dirty_sets);
    hmap_init(&engine->dirty_groups);
    hmap_init(&engine->dirty_dps);
    hmap_init(&engine->dirty_dpgs);
    hmap_init(&engine->local);
    engine->need_full = true;
    engine->full_reason = "first run";
    engine->stats.last_full_reason = "";
    *enginep = engine;
    return 0;
}

void
lflow_engine_destroy(struct lflow_engine *engine)
{
    if (!engine) {
        return;
    }
    entries_clear(engine);
    pending_clear(engine);
    uuid_set_clear(&engine->local);
    hmap_destroy(&engine->flows);
    hmap_destroy(&engine->refs);
    hmap_destroy(&engine->dirty_flows);
    hmap_destroy(&engine->dirty_sets);
    hmap_destroy(&engine->dirty_groups);
    hmap_destroy(&engine->dirty_dps);
    hmap_destroy(&engine->dirty_dpgs);
    hmap_destroy(&engine->local);
    symtab_destroy(engine->symtab);
    free(engine);
}

void
lflow_engine_request_full(struct lflow_engine *engine, const char *reason)
{
    if (!engine->need_full) {
        engine->need_full = true;
        engine->full_reason = reason;
    }
}

bool
lflow_engine_is_current(const struct lflow_engine *engine)
{
    return !engine->need_full && pending_is_empty(engine);
}

const struct lflow_parsed *
lflow_engine_find(const struct lflow_engine *engine, const struct uuid *uuid)
{
    const struct lflow_entry *flow = entry_find(engine, uuid);

    return flow ? flow->parsed : NULL;
}

const struct lflow_error *
lflow_engine_find_failure(const struct lflow_engine *engine, const struct uuid *uuid)
{
    const struct lflow_entry *flow = entry_find(engine, uuid);

    return flow ? flow->error : NULL;
}

void
lflow_engine_get_stats(const struct lflow_engine *engine,
                       struct lflow_engine_stats *stats)
{
    *stats = engine->stats;
    stats->failures = engine->n_failures;
    stats->flows = hmap_count(&engine->flows) - engine->n_failures;
}

static int
compare_entries(const void *a_, const void *b_)
{
    const struct lflow_entry *const *a = a_;
    const struct lflow_entry *const *b = b_;

    return uuid_compare(&(*a)->uuid, &(*b)->uuid);
}

static json_t *
failure_to_json(const struct lflow_entry *flow)
{
    char uuid[UUID_LEN + 1];
    char reason[OVNIC_ERR_DETAIL_LEN + 64];
    const struct lflow_error *e = flow->error;

    return json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s}", "uuid",
                     uuid_to_string(&e->uuid, uuid), "pipeline",
                     e->pipeline ? e->pipeline : "", "table", e->table_id, "stage",
                     e->stage, "part", e->part ? e->part : "row", "reason",
                     lflow_error_reason(e, reason, sizeof reason), "match", flow->match,
                     "actions", flow->actions);
}

json_t *
lflow_engine_to_json(const struct lflow_engine *engine, bool with_failures,
                     size_t max_failures)
{
    struct lflow_engine_stats s;
    const struct lflow_entry **failed = NULL;
    const struct lflow_entry *flow;
    size_t n = 0;
    json_t *json, *list;

    lflow_engine_get_stats(engine, &s);
    json = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
        " s:s, s:b}",
        "flows", (json_int_t)s.flows, "failures", (json_int_t)s.failures,
        "incremental_runs", (json_int_t)s.incremental_runs, "full_recomputes",
        (json_int_t)s.full_recomputes, "parsed_total", (json_int_t)s.parsed_total,
        "parsed_full", (json_int_t)s.parsed_full, "parsed_incremental",
        (json_int_t)s.parsed_incremental, "parsed_new", (json_int_t)s.parsed_new,
        "reparsed_flow", (json_int_t)s.reparsed_flow, "reparsed_address_set",
        (json_int_t)s.reparsed_address_set, "reparsed_port_group",
        (json_int_t)s.reparsed_port_group, "reparsed_datapath",
        (json_int_t)s.reparsed_datapath, "removed", (json_int_t)s.removed,
        "failures_total", (json_int_t)s.failures_total, "last_run_us",
        (json_int_t)s.last_run_us, "last_full_reason", s.last_full_reason, "current",
        lflow_engine_is_current(engine));
    if (!json || !with_failures) {
        return json;
    }
    list = json_array();
    if (engine->n_failures) {
        failed = malloc(engine->n_failures * sizeof *failed);
    }
    if (!list || (engine->n_failures && !failed)) {
        goto err;
    }
    HMAP_FOR_EACH (flow, node, &engine->flows) {
        if (flow->error) {
            failed[n++] = flow;
        }
    }
    if (n) {
        qsort(failed, n, sizeof *failed, compare_entries);
    }
    for (size_t i = 0; i < n && i < max_failures; i++) {
        if (json_array_append_new(list, failure_to_json(failed[i]))) {
            goto err;
        }
    }
    if (json_object_set_new(json, "failed_flows_truncated",
                            json_boolean(n > max_failures))) {
        goto err;
    }
    if (json_object_set_new(json, "failed_flows", list)) {
        list = NULL; /* Freed by jansson. */
        goto err;
    }
    free(failed);
    return json;

err:
    free(failed);
    json_decref(list);
    json_decref(json);
    return NULL;
}
