/* ovnic: local datapaths and monitor conditions (see ldp.h). */
#include "ldp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/ovsdb/datum.h"
#include "dpu/ovsdb/replica.h"
#include "shared/util/hash.h"
#include "shared/util/json.h"
#include "shared/util/log.h"

OVNIC_LOG_MODULE(ldp);

static const char *const monitored_tables[] = {
    "Address_Set",
    "BFD",
    "Chassis",
    "Chassis_Private",
    "Chassis_Template_Var",
    "Controller_Event",
    "DHCP_Options",
    "DHCPv6_Options",
    "DNS",
    "Datapath_Binding",
    "Encap",
    "FDB",
    "Gateway_Chassis",
    "HA_Chassis",
    "HA_Chassis_Group",
    "IGMP_Group",
    "IP_Multicast",
    "Load_Balancer",
    "Logical_DP_Group",
    "Logical_Flow",
    "MAC_Binding",
    "Meter",
    "Meter_Band",
    "Mirror",
    "Multicast_Group",
    "Port_Binding",
    "Port_Group",
    "RBAC_Permission",
    "RBAC_Role",
    "SB_Global",
    "SSL",
    "Service_Monitor",
    "Static_MAC_Binding",
    NULL,
};

const char *const *
ldp_monitored_tables(void)
{
    return monitored_tables;
}

void
ldp_init(struct ldp *ldp)
{
    hmap_init(&ldp->datapaths);
    ldp->localnet = NULL;
    ldp->n_localnet = 0;
}

static void
ldp_clear_datapaths(struct hmap *datapaths)
{
    struct ldp_datapath *dp, *next;

    HMAP_FOR_EACH_SAFE (dp, next, node, datapaths) {
        hmap_remove(datapaths, &dp->node);
        free(dp);
    }
}

static void
free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
}

void
ldp_destroy(struct ldp *ldp)
{
    if (!ldp) {
        return;
    }
    ldp_clear_datapaths(&ldp->datapaths);
    hmap_destroy(&ldp->datapaths);
    free_names(ldp->localnet, ldp->n_localnet);
    ldp->localnet = NULL;
    ldp->n_localnet = 0;
}

static struct ldp_datapath *
dp_find(const struct hmap *datapaths, const struct uuid *uuid)
{
    struct ldp_datapath *dp;

    HMAP_FOR_EACH_WITH_HASH (dp, node, uuid_hash(uuid), datapaths) {
        if (uuid_equals(&dp->uuid, uuid)) {
            return dp;
        }
    }
    return NULL;
}

bool
ldp_contains(const struct ldp *ldp, const struct uuid *dp)
{
    return dp_find(&ldp->datapaths, dp) != NULL;
}

size_t
ldp_count(const struct ldp *ldp)
{
    return hmap_count(&ldp->datapaths);
}

/* Port_Binding rows indexed by logical_port, and the patch ports by datapath. */
struct pb_node {
    struct hmap_node name_node; /* In 'by_name'. */
    struct hmap_node dp_node;   /* In 'patch_by_dp' (patch ports only). */
    const struct ovsdb_row *row;
    const char *name;
    const struct uuid *dp;
};

static const char *
pb_string(const struct ovsdb_row *row, const char *column)
{
    return ovsdb_datum_get_string(ovsdb_row_get(row, column), "");
}

static bool
name_in(const char *name, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(names[i], name)) {
            return true;
        }
    }
    return false;
}

static int
dp_add(struct hmap *datapaths, const struct uuid *uuid, const struct uuid **queue,
       size_t *n_queue)
{
    struct ldp_datapath *dp;

    if (dp_find(datapaths, uuid)) {
        return 0;
    }
    dp = calloc(1, sizeof *dp);
    if (!dp) {
        return -ENOMEM;
    }
    dp->uuid = *uuid;
    hmap_insert(datapaths, &dp->node, uuid_hash(uuid));
    queue[(*n_queue)++] = &dp->uuid;
    return 0;
}

static int
compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
names_equal(char **a, size_t na, char **b, size_t nb)
{
    if (na != nb) {
        return false;
    }
    for (size_t i = 0; i < na; i++) {
        if (strcmp(a[i], b[i])) {
            return false;
        }
    }
    return true;
}

static bool
datapaths_equal(const struct hmap *a, const struct hmap *b)
{
    const struct ldp_datapath *dp;

    if (hmap_count(a) != hmap_count(b)) {
        return false;
    }
    HMAP_FOR_EACH (dp, node, a) {
        if (!dp_find(b, &dp->uuid)) {
            return false;
        }
    }
    return true;
}

int
ldp_compute(struct ldp *ldp, const struct ovsdb_replica *replica,
            const struct uuid *chassis_uuid, const char *chassis_name,
            const char *const *lports, size_t n_lports, bool *changed)
{
    const struct ovsdb_replica_table *pbt = ovsdb_replica_table(replica, "Port_Binding");
    const struct ovsdb_replica_table *dpt =
        ovsdb_replica_table(replica, "Datapath_Binding");
    struct hmap by_name = HMAP_INITIALIZER(&by_name);
    struct hmap patch_by_dp = HMAP_INITIALIZER(&patch_by_dp);
    struct hmap datapaths = HMAP_INITIALIZER(&datapaths);
    const struct uuid **queue = NULL;
    struct pb_node *nodes = NULL;
    char **localnet = NULL;
    size_t n_nodes = 0, n_queue = 0, head = 0, n_localnet = 0;
    const struct ovsdb_row *row;
    int error = 0;

    *changed = false;
    if (!pbt) {
        return 0;
    }
    nodes = calloc(ovsdb_replica_table_count(pbt) + 1, sizeof *nodes);
    queue = calloc(ovsdb_replica_table_count(pbt) + 1, sizeof *queue);
    if (!nodes || !queue) {
        error = -ENOMEM;
        goto out;
    }

    /* Index the ports and seed the set. */
    OVSDB_TABLE_FOR_EACH_ROW (row, pbt) {
        struct pb_node *n = &nodes[n_nodes++];
        const struct uuid *ch = ovsdb_datum_get_uuid(ovsdb_row_get(row, "chassis"));
        const char *type = pb_string(row, "type");
        bool local = false;

        n->row = row;
        n->name = pb_string(row, "logical_port");
        n->dp = ovsdb_datum_get_uuid(ovsdb_row_get(row, "datapath"));
        if (!n->dp) {
            continue;
        }
        hmap_insert(&by_name, &n->name_node, hash_string(n->name, 0));
        if (!strcmp(type, "patch")) {
            hmap_insert(&patch_by_dp, &n->dp_node, uuid_hash(n->dp));
        }
        if (chassis_uuid) {
            local = (ch && uuid_equals(ch, chassis_uuid)) ||
                    ovsdb_datum_contains_uuid(ovsdb_row_get(row, "additional_chassis"),
                                              chassis_uuid);
        }
        if (!strcmp(type, "l3gateway") &&
            !strcmp(ovsdb_datum_map_get_string(ovsdb_row_get(row, "options"),
                                               "l3gateway-chassis", ""),
                    chassis_name)) {
            local = true;
        }
        if (!local && !*type && name_in(n->name, lports, n_lports)) {
            local = true;
        }
        if (local && (error = dp_add(&datapaths, n->dp, queue, &n_queue))) {
            goto out;
        }
    }

    /* Close over patch ports. */
    while (head < n_queue) {
        const struct uuid *dp = queue[head++];
        struct pb_node *n;

        HMAP_FOR_EACH_WITH_HASH (n, dp_node, uuid_hash(dp), &patch_by_dp) {
            const char *peer = ovsdb_datum_map_get_string(
                ovsdb_row_get(n->row, "options"), "peer", NULL);
            struct pb_node *p;

            if (!uuid_equals(n->dp, dp) || !peer) {
                continue;
            }
            HMAP_FOR_EACH_WITH_HASH (p, name_node, hash_string(peer, 0), &by_name) {
                if (!strcmp(p->name, peer) &&
                    (error = dp_add(&datapaths, p->dp, queue, &n_queue))) {
                    goto out;
                }
            }
        }
    }

    /* Tunnel keys, and the localnet ports of the local datapaths. */
    if (dpt) {
        struct ldp_datapath *dp;

        HMAP_FOR_EACH (dp, node, &datapaths) {
            const struct ovsdb_row *r = ovsdb_replica_table_find(dpt, &dp->uuid);

            dp->tunnel_key =
                r ? ovsdb_datum_get_int(ovsdb_row_get(r, "tunnel_key"), 0) : 0;
        }
    }
    for (size_t i = 0; i < n_nodes; i++) {
        if (nodes[i].dp && !strcmp(pb_string(nodes[i].row, "type"), "localnet") &&
            dp_find(&datapaths, nodes[i].dp)) {
            char **l = realloc(localnet, (n_localnet + 1) * sizeof *localnet);

            if (!l) {
                error = -ENOMEM;
                goto out;
            }
            localnet = l;
            if (!(localnet[n_localnet] = strdup(nodes[i].name))) {
                error = -ENOMEM;
                goto out;
            }
            n_localnet++;
        }
    }
    if (n_localnet) {
        qsort(localnet, n_localnet, sizeof *localnet, compare_names);
    }

    *changed = !datapaths_equal(&datapaths, &ldp->datapaths) ||
               !names_equal(localnet, n_localnet, ldp->localnet, ldp->n_localnet);
    hmap_swap(&datapaths, &ldp->datapaths);
    {
        char **tmp = ldp->localnet;
        size_t n_tmp = ldp->n_localnet;

        ldp->localnet = localnet;
        ldp->n_localnet = n_localnet;
        localnet = tmp;
        n_localnet = n_tmp;
    }
    if (*changed) {
        OLOG_DBG("%zu local datapath(s), %zu localnet port(s)", ldp_count(ldp),
                 ldp->n_localnet);
    }

out:
    ldp_clear_datapaths(&datapaths);
    hmap_destroy(&datapaths);
    hmap_destroy(&by_name);
    hmap_destroy(&patch_by_dp);
    free_names(localnet, n_localnet);
    free(nodes);
    free(queue);
    return error;
}

/* ---- Conditions ---- */

static json_t *
clause(const char *column, const char *function, json_t *value)
{
    return json_pack("[s, s, o]", column, function, value);
}

static json_t *
map1(const char *key, const char *value)
{
    return json_pack("[s, [[s, s]]]", "map", key, value);
}

static int
compare_json_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts the clauses of 'array' by their text so that equal conditions compare equal
 * as JSON.  Returns 'array', or NULL (and releases it) on allocation failure. */
static json_t *
sorted(json_t *array)
{
    size_t n = json_array_size(array);
    char **texts = calloc(n + 1, sizeof *texts);
    json_t *out = json_array();
    size_t i;

    if (!array || !texts || !out) {
        goto fail;
    }
    for (i = 0; i < n; i++) {
        texts[i] = json_to_string(json_array_get(array, i));
        if (!texts[i]) {
            goto fail;
        }
    }
    qsort(texts, n, sizeof *texts, compare_json_text);
    for (i = 0; i < n; i++) {
        json_t *v = NULL;

        if (i && !strcmp(texts[i], texts[i - 1])) {
            continue;
        }
        if (json_from_buffer(texts[i], strlen(texts[i]), &v, NULL) ||
            json_array_append_new(out, v)) {
            goto fail;
        }
    }
    if (!n) {
        json_array_append_new(out, json_false());
    }
    for (i = 0; i < n; i++) {
        free(texts[i]);
    }
    free(texts);
    json_decref(array);
    return out;

fail:
    for (i = 0; texts && i < n; i++) {
        free(texts[i]);
    }
    free(texts);
    json_decref(array);
    json_decref(out);
    return NULL;
}

static int
add(json_t *array, json_t *clause_)
{
    return clause_ ? json_array_append_new(array, clause_) : -1;
}

json_t *
ldp_conditions(const struct ldp *ldp, const char *chassis_name,
               const struct uuid *chassis_uuid, const char *const *lports,
               size_t n_lports)
{
    json_t *conds = json_object();
    json_t *pb = json_array(), *lf = json_array(), *mb = json_array();
    json_t *mg = json_array(), *ipm = json_array(), *dns = json_array();
    json_t *cp = NULL, *ctv = NULL, *ce = NULL, *igmp = NULL;
    const struct ldp_datapath *dp;
    int bad = 0;

    if (!conds || !pb || !lf || !mb || !mg || !ipm || !dns) {
        goto fail;
    }
    bad |= add(pb, clause("type", "==", json_string("patch")));
    bad |= add(pb, clause("type", "==", json_string("external")));
    bad |= add(pb, clause("type", "==", json_string("chassisredirect")));
    if (chassis_uuid) {
        bad |= add(pb, clause("chassis", "==", json_ovsdb_uuid(chassis_uuid)));
        bad |= add(pb, clause("requested_chassis", "==", json_ovsdb_uuid(chassis_uuid)));
        bad |= add(
            pb, clause("options", "includes", map1("l2gateway-chassis", chassis_name)));
        bad |= add(
            pb, clause("options", "includes", map1("l3gateway-chassis", chassis_name)));
        bad |= add(
            pb, clause("options", "includes", map1("requested-chassis", chassis_name)));
        bad |= add(lf, clause("logical_dp_group", "!=", json_ovsdb_set(NULL)));
        cp = json_pack("[o]", clause("name", "==", json_string(chassis_name)));
        ctv = json_pack("[o]", clause("chassis", "==", json_string(chassis_name)));
        ce = json_pack("[o]", clause("chassis", "==", json_ovsdb_uuid(chassis_uuid)));
        igmp = json_pack("[o]", clause("chassis", "==", json_ovsdb_uuid(chassis_uuid)));
    } else {
        bad |= add(pb, clause("type", "==", json_string("l2gateway")));
        bad |= add(pb, clause("type", "==", json_string("l3gateway")));
        cp = json_pack("[b]", 1);
        ctv = json_pack("[b]", 1);
        ce = json_pack("[b]", 0);
        igmp = json_pack("[b]", 0);
    }
    for (size_t i = 0; i < n_lports; i++) {
        bad |= add(pb, clause("logical_port", "==", json_string(lports[i])));
        bad |= add(pb, clause("parent_port", "==", json_string(lports[i])));
    }
    for (size_t i = 0; i < ldp->n_localnet; i++) {
        bad |= add(pb, clause("logical_port", "==", json_string(ldp->localnet[i])));
        bad |= add(pb, clause("parent_port", "==", json_string(ldp->localnet[i])));
    }
    HMAP_FOR_EACH (dp, node, &ldp->datapaths) {
        bad |= add(pb, clause("datapath", "==", json_ovsdb_uuid(&dp->uuid)));
        bad |= add(lf, clause("logical_datapath", "==", json_ovsdb_uuid(&dp->uuid)));
        bad |= add(mb, clause("datapath", "==", json_ovsdb_uuid(&dp->uuid)));
        bad |= add(mg, clause("datapath", "==", json_ovsdb_uuid(&dp->uuid)));
        bad |= add(ipm, clause("datapath", "==", json_ovsdb_uuid(&dp->uuid)));
        bad |= add(dns, clause("datapaths", "includes", json_ovsdb_uuid(&dp->uuid)));
    }
    if (bad || !cp || !ctv || !ce || !igmp) {
        goto fail;
    }
    bad |= json_object_set_new(conds, "Port_Binding", sorted(pb));
    bad |= json_object_set_new(conds, "Logical_Flow", sorted(lf));
    bad |= json_object_set_new(conds, "MAC_Binding", sorted(mb));
    bad |= json_object_set_new(conds, "Multicast_Group", sorted(mg));
    bad |= json_object_set_new(conds, "IP_Multicast", sorted(ipm));
    bad |= json_object_set_new(conds, "DNS", sorted(dns));
    bad |= json_object_set_new(conds, "Chassis_Private", cp);
    bad |= json_object_set_new(conds, "Chassis_Template_Var", ctv);
    bad |= json_object_set_new(conds, "Controller_Event", ce);
    bad |= json_object_set_new(conds, "IGMP_Group", igmp);
    bad |= json_object_set_new(conds, "Logical_DP_Group", json_pack("[b]", 1));
    if (bad || json_object_size(conds) != 11) {
        json_decref(conds);
        return NULL;
    }
    return conds;

fail:
    json_decref(conds);
    json_decref(pb);
    json_decref(lf);
    json_decref(mb);
    json_decref(mg);
    json_decref(ipm);
    json_decref(dns);
    json_decref(cp);
    json_decref(ctv);
    json_decref(ce);
    json_decref(igmp);
    return NULL;
}
