/* ovnic: local datapaths and the SB monitor conditions that follow from them.
 *
 * The local datapaths are the Datapath_Bindings of the ports bound to this chassis
 * (as main or additional chassis), of the ports being bound here, and of the
 * l3gateway ports pinned to it, closed over patch ports: a patch port's peer
 * (options:peer) brings its own datapath in, and so on.
 *
 * ldp_conditions() gives, table by table, the monitor conditions ovn-controller 23.03
 * uses: before the chassis row exists only the tables every chassis needs; then the
 * rows that name this chassis; and the rows of the local datapaths (Port_Binding,
 * Logical_Flow, MAC_Binding, Multicast_Group, IP_Multicast, DNS).  Logical_Flow rows
 * with a datapath group are always monitored, as is every Logical_DP_Group. */
#ifndef OVNIC_CONTROLLER_LDP_H
#define OVNIC_CONTROLLER_LDP_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "shared/util/hmap.h"
#include "shared/util/uuid.h"

struct ovsdb_replica;

struct ldp {
    struct hmap datapaths; /* Of struct ldp_datapath, by uuid_hash(). */
    char **localnet;       /* Sorted names of localnet ports on local datapaths. */
    size_t n_localnet;
};

struct ldp_datapath {
    struct hmap_node node;
    struct uuid uuid;
    int64_t tunnel_key;
};

void ldp_init(struct ldp *ldp);
void ldp_destroy(struct ldp *ldp);

/** Recomputes the local datapaths from 'replica' for the chassis 'chassis_uuid' (may
 * be NULL: then only 'lports' count) named 'chassis_name', where 'lports' (may be
 * NULL if 'n_lports' is 0) are the logical ports being bound here.  '*changed' says
 * whether the set or the localnet ports changed.  Returns 0 or -ENOMEM (then 'ldp'
 * is left as it was). */
int ldp_compute(struct ldp *ldp, const struct ovsdb_replica *replica,
                const struct uuid *chassis_uuid, const char *chassis_name,
                const char *const *lports, size_t n_lports, bool *changed);

/** True if 'dp' is a local datapath. */
bool ldp_contains(const struct ldp *ldp, const struct uuid *dp);

size_t ldp_count(const struct ldp *ldp);

/** The monitor conditions, as an object {"Table": [clause, ...], ...} with clauses in
 * a stable order, for the chassis named 'chassis_name' whose row is 'chassis_uuid'
 * (NULL if it does not exist yet) and the logical ports 'lports' bound or being bound
 * here.  Caller owns; NULL on allocation failure. */
json_t *ldp_conditions(const struct ldp *ldp, const char *chassis_name,
                       const struct uuid *chassis_uuid, const char *const *lports,
                       size_t n_lports);

/** The SB tables ovnic-dpud monitors (NULL-terminated, static). */
const char *const *ldp_monitored_tables(void);

#endif /* OVNIC_CONTROLLER_LDP_H */
