/* ovnic: one SB Logical_Flow row -> match and actions IR (see lflow.h). */
#include "dpu/controller/lflow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/ovsdb/datum.h"
#include "shared/util/log.h"
#include "shared/util/util.h"

OVNIC_LOG_MODULE(lflow);

/* What the lookup callbacks need: the replica, the flow's datapath tunnel keys, and
 * a scratch array that holds the last answer (the parser copies it). */
struct lflow_lookup_aux {
    const struct ovsdb_replica *replica;
    int64_t *keys; /* Tunnel keys of the datapaths the flow applies to. */
    size_t n_keys;
    const char **scratch;
};

/* The rows of 'table' whose "name" is 'name', or NULL. */
static const struct ovsdb_row *
find_by_name(const struct ovsdb_replica *replica, const char *table, const char *name)
{
    const struct ovsdb_replica_table *t = ovsdb_replica_table(replica, table);
    const struct ovsdb_row *row;

    if (!t) {
        return NULL;
    }
    OVSDB_TABLE_FOR_EACH_ROW (row, t) {
        const char *n = ovsdb_datum_get_string(ovsdb_row_get(row, "name"), NULL);
        if (n && !strcmp(n, name)) {
            return row;
        }
    }
    return NULL;
}

/* Answers with the string set 'column' of 'row'. */
static int
answer_strings(struct lflow_lookup_aux *aux, const struct ovsdb_row *row,
               const char *column, const char *const **values, size_t *n_values)
{
    const struct ovsdb_datum *d = ovsdb_row_get(row, column);
    size_t n = d ? d->n : 0;

    free(aux->scratch);
    aux->scratch = calloc(n ? n : 1, sizeof *aux->scratch);
    if (!aux->scratch) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        aux->scratch[i] = d->keys[i].string;
    }
    *values = aux->scratch;
    *n_values = n;
    return 0;
}

static int
lookup_address_set(void *aux_, const char *name, const char *const **values,
                   size_t *n_values)
{
    struct lflow_lookup_aux *aux = aux_;
    const struct ovsdb_row *row = find_by_name(aux->replica, "Address_Set", name);

    return row ? answer_strings(aux, row, "addresses", values, n_values) : -ENOENT;
}

/* A flow shared by several datapaths (a logical_dp_group) names each datapath's own
 * port group "<tunnel key>_<name>": the answer is the union of their ports.  Each
 * datapath's classifier then resolves only its own ports (a port name belongs to one
 * datapath), so the union gives every datapath exactly its own members. */
static int
lookup_port_group(void *aux_, const char *name, const char *const **values,
                  size_t *n_values)
{
    struct lflow_lookup_aux *aux = aux_;
    const struct ovsdb_datum **found = NULL;
    size_t n_found = 0, n_ports = 0;
    char full[256];

    for (size_t i = 0; i < aux->n_keys; i++) {
        snprintf(full, sizeof full, "%lld_%s", (long long)aux->keys[i], name);
        const struct ovsdb_row *row = find_by_name(aux->replica, "Port_Group", full);
        const struct ovsdb_datum *d = row ? ovsdb_row_get(row, "ports") : NULL;
        if (d) {
            const struct ovsdb_datum **nf = realloc(found, (n_found + 1) * sizeof *nf);
            if (!nf) {
                free(found);
                return -ENOMEM;
            }
            found = nf;
            found[n_found++] = d;
            n_ports += d->n;
        }
    }
    if (!n_found) {
        const struct ovsdb_row *row = find_by_name(aux->replica, "Port_Group", name);
        return row ? answer_strings(aux, row, "ports", values, n_values) : -ENOENT;
    }
    free(aux->scratch);
    aux->scratch = calloc(n_ports ? n_ports : 1, sizeof *aux->scratch);
    if (!aux->scratch) {
        free(found);
        return -ENOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; i < n_found; i++) {
        for (size_t j = 0; j < found[i]->n; j++) {
            aux->scratch[n++] = found[i]->keys[j].string;
        }
    }
    free(found);
    *values = aux->scratch;
    *n_values = n;
    return 0;
}

/* Adds the tunnel key of datapath 'uuid' to 'aux'. */
static int
add_datapath_key(struct lflow_lookup_aux *aux, const struct uuid *uuid)
{
    const struct ovsdb_replica_table *t =
        ovsdb_replica_table(aux->replica, "Datapath_Binding");
    const struct ovsdb_row *dp = t && uuid ? ovsdb_replica_table_find(t, uuid) : NULL;

    if (!dp) {
        return 0;
    }
    int64_t *keys = realloc(aux->keys, (aux->n_keys + 1) * sizeof *keys);
    if (!keys) {
        return -ENOMEM;
    }
    aux->keys = keys;
    keys[aux->n_keys++] = ovsdb_datum_get_int(ovsdb_row_get(dp, "tunnel_key"), 0);
    return 0;
}

/* The datapaths a flow applies to: its logical_datapath, or every datapath of its
 * logical_dp_group. */
static int
collect_datapath_keys(struct lflow_lookup_aux *aux, const struct ovsdb_row *row)
{
    const struct uuid *dp = ovsdb_datum_get_uuid(ovsdb_row_get(row, "logical_datapath"));
    const struct uuid *grp = ovsdb_datum_get_uuid(ovsdb_row_get(row, "logical_dp_group"));
    int error = add_datapath_key(aux, dp);

    if (!error && grp) {
        const struct ovsdb_replica_table *t =
            ovsdb_replica_table(aux->replica, "Logical_DP_Group");
        const struct ovsdb_row *g = t ? ovsdb_replica_table_find(t, grp) : NULL;
        const struct ovsdb_datum *dps = g ? ovsdb_row_get(g, "datapaths") : NULL;
        for (size_t i = 0; !error && dps && i < dps->n; i++) {
            error = add_datapath_key(aux, &dps->keys[i].uuid);
        }
    }
    return error;
}

void
lflow_parsed_destroy(struct lflow_parsed *parsed)
{
    if (parsed) {
        expr_match_list_destroy(parsed->matches);
        action_list_destroy(parsed->actions);
        expr_refs_destroy(&parsed->refs);
        free(parsed);
    }
}

/* Copies the error of 'part' into 'error' (if any). */
static int
record_error(struct lflow_error *error, const char *part, const struct ovnic_err *err,
             int code)
{
    if (error) {
        error->part = part;
        if (err && ovnic_err_is_set(err)) {
            error->err = *err;
        } else {
            ovnic_err_clear(&error->err);
            ovnic_err_set(&error->err, code, part, "invalid row", NULL);
        }
    }
    return code;
}

static int
lflow_parse_row__(const struct symtab *symtab, const struct ovsdb_replica *replica,
                  const struct ovsdb_row *row, struct lflow_parsed **parsedp,
                  struct lflow_error *error)
{
    const struct ovsdb_table_schema *ts = ovsdb_row_table(row);
    const char *pipeline = ovsdb_datum_get_string(ovsdb_row_get(row, "pipeline"), NULL);
    const char *match = ovsdb_datum_get_string(ovsdb_row_get(row, "match"), NULL);
    const char *actions = ovsdb_datum_get_string(ovsdb_row_get(row, "actions"), NULL);
    const char *stage =
        ovsdb_datum_map_get_string(ovsdb_row_get(row, "external_ids"), "stage-name", "");
    struct ovnic_err err = {0};
    int error_code;

    if (error) {
        memset(error, 0, sizeof *error);
        error->uuid = *ovsdb_row_uuid(row);
        error->pipeline = "";
        error->part = "row";
    }
    if (strcmp(ts->name, "Logical_Flow") || !pipeline || !match || !actions) {
        ovnic_err_set(&err, -EINVAL, "row", "not a Logical_Flow row", NULL);
        return record_error(error, "row", &err, -EINVAL);
    }

    struct lflow_parsed *p = calloc(1, sizeof *p);
    if (!p) {
        return record_error(error, "row", NULL, -ENOMEM);
    }
    p->uuid = *ovsdb_row_uuid(row);
    p->pipeline =
        !strcmp(pipeline, "egress") ? ACTION_PIPELINE_EGRESS : ACTION_PIPELINE_INGRESS;
    p->table_id = (int)ovsdb_datum_get_int(ovsdb_row_get(row, "table_id"), 0);
    p->priority = (int)ovsdb_datum_get_int(ovsdb_row_get(row, "priority"), 0);
    snprintf(p->stage, sizeof p->stage, "%s", stage);
    expr_refs_init(&p->refs);
    if (error) {
        error->pipeline = p->pipeline == ACTION_PIPELINE_EGRESS ? "egress" : "ingress";
        error->table_id = p->table_id;
        snprintf(error->stage, sizeof error->stage, "%s", stage);
    }

    struct action_parse_params params = {.pipeline = p->pipeline,
                                         .cur_table = p->table_id};
    error_code = action_parse(symtab, actions, &params, &p->actions, &err);
    if (error_code) {
        lflow_parsed_destroy(p);
        return record_error(error, "actions", &err, error_code);
    }

    struct lflow_lookup_aux aux = {.replica = replica};
    struct expr_lookup lookup = {
        .address_set = lookup_address_set,
        .port_group = lookup_port_group,
        .aux = &aux,
    };
    error_code = collect_datapath_keys(&aux, row);
    if (!error_code) {
        if (p->actions->prereqs) {
            size_t len = strlen(match) + strlen(p->actions->prereqs) + 16;
            char *combined = malloc(len);
            if (!combined) {
                error_code = -ENOMEM;
            } else {
                snprintf(combined, len, "(%s) && (%s)", match, p->actions->prereqs);
                error_code =
                    expr_compile(symtab, combined, &lookup, &p->refs, &p->matches, &err);
                free(combined);
            }
            if (error_code && error_code != -ENOMEM) {
                /* Report the match's own error, with its own positions. */
                struct expr_match_list *alone = NULL;
                struct ovnic_err err2 = {0};
                if (expr_compile(symtab, match, &lookup, NULL, &alone, &err2)) {
                    err = err2;
                }
                expr_match_list_destroy(alone);
            }
        } else {
            error_code =
                expr_compile(symtab, match, &lookup, &p->refs, &p->matches, &err);
        }
    }
    free(aux.keys);
    free(aux.scratch);
    if (error_code) {
        lflow_parsed_destroy(p);
        return record_error(error, "match", &err, error_code);
    }
    *parsedp = p;
    return 0;
}

int
lflow_parse_row(const struct symtab *symtab, const struct ovsdb_replica *replica,
                const struct ovsdb_row *row, struct lflow_parsed **parsedp,
                struct lflow_error *error, struct lflow_parse_stats *stats)
{
    int rc = lflow_parse_row__(symtab, replica, row, parsedp, error);

    if (stats) {
        if (rc) {
            stats->failed++;
        } else {
            stats->parsed++;
        }
    }
    return rc;
}

const char *
lflow_error_reason(const struct lflow_error *error, char *buf, size_t size)
{
    const struct ovnic_err *e = &error->err;

    if (e->detail[0]) {
        snprintf(buf, size, "%s (%s)", e->message ? e->message : "error", e->detail);
    } else {
        snprintf(buf, size, "%s", e->message ? e->message : "error");
    }
    return buf;
}

const char *
lflow_error_format(const struct lflow_error *error, char *buf, size_t size)
{
    char uuid[UUID_LEN + 1];
    char reason[OVNIC_ERR_DETAIL_LEN + 64];

    snprintf(buf, size, "%s %s table %d (%s) %s: %s", uuid_to_string(&error->uuid, uuid),
             error->pipeline && *error->pipeline ? error->pipeline : "?", error->table_id,
             error->stage[0] ? error->stage : "?", error->part ? error->part : "row",
             lflow_error_reason(error, reason, sizeof reason));
    return buf;
}
