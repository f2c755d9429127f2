/* ovnic: this chassis's registration in the OVN Southbound database.
 *
 * A chassis is three kinds of rows, written as ovn-controller 23.03 writes them:
 *   - Chassis: name (the system-id), hostname, encaps, and other_config with the keys
 *     ovn-controller publishes (port-up-notif, ct-no-masked-label, ovn-bridge-mappings,
 *     ovn-cms-options, ovn-monitor-all, ...); keys written by others are kept;
 *   - Encap: one per encap IP, type "geneve", options:csum, chassis_name;
 *   - Chassis_Private: name, chassis, nb_cfg, nb_cfg_timestamp.
 *
 * chassis_run() is stateless: it compares what the replica holds with the wanted
 * configuration and appends the operations that make them equal.  Existing rows are
 * adopted (so a restart changes nothing), rows deleted by someone else are created
 * again, and rows that differ are updated. */
#ifndef OVNIC_CONTROLLER_CHASSIS_H
#define OVNIC_CONTROLLER_CHASSIS_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ovsdb_replica;
struct ovsdb_row;
struct ovsdb_txn;

struct chassis_config {
    const char *name;     /* Chassis name (system-id).  Required. */
    const char *hostname; /* Required. */
    const char *const *encap_ips;
    size_t n_encap_ips; /* At least one. */
    bool encap_csum;
    const char *bridge_mappings; /* "" if none. */
    const char *cms_options;     /* "" if none. */
    bool monitor_all;
};

/** The Chassis row named 'name' in 'replica', or NULL.  Borrowed; valid until the
 * replica changes. */
const struct ovsdb_row *chassis_lookup(const struct ovsdb_replica *replica,
                                       const char *name);

/** The Chassis_Private row named 'name', or NULL.  As above. */
const struct ovsdb_row *chassis_private_lookup(const struct ovsdb_replica *replica,
                                               const char *name);

/** True if the Chassis, Encap and Chassis_Private rows of 'config->name' all exist in
 * 'replica' and match 'config' (nothing for chassis_run() to write). */
bool chassis_is_current(const struct ovsdb_replica *replica,
                        const struct chassis_config *config);

/** Appends to 'txn' the operations that create or update this chassis's rows so that
 * they match 'config'.  A Chassis_Private row created again carries 'nb_cfg' and
 * 'nb_cfg_ts' (the last acknowledged values; not written if 'nb_cfg' is 0).
 * '*wrote' says whether any operation was appended; '*what' (static) names the main
 * change for logs ("registering", "updating").  Returns 0, -ENOENT if the replica
 * lacks one of the tables (wrong schema), or -ENOMEM. */
int chassis_run(const struct ovsdb_replica *replica, const struct chassis_config *config,
                int64_t nb_cfg, int64_t nb_cfg_ts, struct ovsdb_txn *txn, bool *wrote,
                const char **what);

/** Appends to 'txn' the deletion of the Chassis_Private and Chassis rows named
 * 'name' (the Encap rows go with the Chassis).  '*wrote' says whether any operation
 * was appended.  Returns 0 or -ENOMEM. */
int chassis_cleanup(const struct ovsdb_replica *replica, const char *name,
                    struct ovsdb_txn *txn, bool *wrote);

/** The other_config keys this chassis publishes, as a JSON object of strings.  Caller
 * owns.  NULL on allocation failure. */
json_t *chassis_other_config(const struct chassis_config *config);

#endif /* OVNIC_CONTROLLER_CHASSIS_H */
