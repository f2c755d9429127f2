/* ovnic-dpud: the daemon's side of the DPDK vswitch (dpu/vswitch/vswitch.h).
 *
 * With "datapath = dpdk" the daemon owns a vswitch: this module creates it from the
 * configuration, keeps its representor ports equal to the VIFs the binding table
 * knows (reconciled after every SB step), rebuilds its pipeline from the SB replica,
 * tells which pipeline generation the datapath runs (so that a port's flows count as
 * installed, and Port_Binding.up and nb_cfg follow, only once they forward), queues
 * the MAC bindings the datapath learns for the SB, and answers the control-socket
 * methods that show the datapath.
 *
 * Built without DPDK, dpud_dp_create() fails with -EOPNOTSUPP. */
#ifndef OVNIC_DPUD_DATAPATH_H
#define OVNIC_DPUD_DATAPATH_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/util/err.h"

struct dpud_config;
struct dpud_dp;
struct ovsdb_replica;
struct uuid;

/** A MAC binding the datapath learned (put_arp / put_nd). */
struct dpud_mac_binding {
    char *logical_port; /* Owned. */
    uint32_t datapath;  /* Tunnel key. */
    char ip[48];
    char mac[18];
};

/** Starts the vswitch described by 'config' (borrowed; must outlive it).  Caller owns;
 * free with dpud_dp_destroy().  Errors: -EOPNOTSUPP (built without DPDK), and what
 * vswitch_create() gives ('err' says why). */
int dpud_dp_create(const struct dpud_config *config, struct dpud_dp **dpp,
                   struct ovnic_err *err);

/** Starts what dpud_dp_create() with the same 'config' needs before any port: DPDK
 * and its packet buffers (vswitch_prepare()).  Errors as dpud_dp_create(). */
int dpud_dp_prepare(const struct dpud_config *config, struct ovnic_err *err);

/** Stops the datapath.  NULL is a no-op. */
void dpud_dp_destroy(struct dpud_dp *dp);

/** Makes the representor ports those of 'vifs' (binding_vifs_to_json(): objects with
 * "representor" and "iface_id"): attaches what is new, detaches what is gone, and
 * attaches again a port whose devargs changed (dpud_dp_port_devargs_set()).  A port
 * that cannot be attached is logged (rate-limited) and retried at the next call. */
void dpud_dp_sync_ports(struct dpud_dp *dp, const json_t *vifs);

/** True if representor 'name' is attached. */
bool dpud_dp_has_port(const struct dpud_dp *dp, const char *name);

/** True if representor 'name' is attached and up: its device forwards (see enum
 * vswitch_port_state: a port whose NIC went away is down until it is back, one whose
 * NIC has not come yet is waiting). */
bool dpud_dp_port_is_up(const struct dpud_dp *dp, const char *name);

/** True once after a port (a representor or the uplink) went up, down or waiting. */
bool dpud_dp_take_ports_changed(struct dpud_dp *dp);

/** The ports of the datapath, the uplink included, for "status": an array of
 * {"name", "lport", "state", "state_ms", "attempts", "error"} (vswitch_ports_json()),
 * or NULL if out of memory.  Caller owns. */
json_t *dpud_dp_ports_status(const struct dpud_dp *dp);

/** Makes 'devargs' (NULL: none) the DPDK devargs representor 'name' is attached with,
 * instead of the configuration's ("representor-devargs" or "memif-dir").  A port
 * attached with other devargs is detached and attached again at the next
 * dpud_dp_sync_ports().  Returns 0, or -ENOMEM. */
int dpud_dp_port_devargs_set(struct dpud_dp *dp, const char *name, const char *devargs);

/** The devargs set with dpud_dp_port_devargs_set(), as an object mapping each
 * representor to its devargs (for the state file), or NULL if out of memory.  Caller
 * owns. */
json_t *dpud_dp_devargs_save(const struct dpud_dp *dp);

/** Sets the devargs of 'saved' (borrowed; what dpud_dp_devargs_save() gave).  Returns
 * 0, -EINVAL if 'saved' is malformed (nothing set), or -ENOMEM. */
int dpud_dp_devargs_restore(struct dpud_dp *dp, const json_t *saved);

/** Rebuilds the pipeline from 'replica'.  Returns the new generation (> 0) or a
 * negative errno ('err' says why; the datapath keeps the previous one). */
int64_t dpud_dp_sync_pipeline(struct dpud_dp *dp, const struct ovsdb_replica *replica,
                              struct ovnic_err *err);

/** The generation the datapath runs. */
uint64_t dpud_dp_generation_live(const struct dpud_dp *dp);

/** Housekeeping (vswitch_run()); returns the ms until it wants to run again. */
unsigned int dpud_dp_run(struct dpud_dp *dp);

/** Moves the queued MAC bindings to the caller: '*mbs' (caller frees each
 * logical_port and the array), their count returned. */
size_t dpud_dp_take_mac_bindings(struct dpud_dp *dp, struct dpud_mac_binding **mbs);

/** Load-balancer health checks: hands the Service_Monitor rows of 'replica' whose
 * logical port is bound to chassis 'chassis' (Port_Binding.chassis; NULL: none) to
 * the datapath, which probes them (vswitch_svc_monitors_set()).  Returns the number
 * of monitors, or a negative errno. */
int dpud_dp_sync_svc_monitors(struct dpud_dp *dp, const struct ovsdb_replica *replica,
                              const struct uuid *chassis);

/** The status the datapath found for Service_Monitor 'uuid': "online", "offline", or
 * NULL while unknown (or not monitored here). */
const char *dpud_dp_svc_status(const struct dpud_dp *dp, const struct uuid *uuid);

/** True once after a health check changed a status (then the SB wants a write). */
bool dpud_dp_take_svc_changed(struct dpud_dp *dp);

/** Answers control-socket method 'method' with arguments 'args' (an object) if it is
 * one of the datapath's ("dp-ports", "dp-stats", "dp-flows", "dp-pipeline", "dp-neigh",
 * "conntrack-dump", "conntrack-stats", "conntrack-flush", "dp-trace",
 * "dp-svc-monitors"): returns true
 * and sets either '*result' (caller owns) or '*error' and 'errbuf'.  Returns false
 * for other methods. */
bool dpud_dp_ctl(struct dpud_dp *dp, const char *method, const json_t *args,
                 json_t **result, int *error, char *errbuf, size_t errlen);

#endif /* OVNIC_DPUD_DATAPATH_H */
