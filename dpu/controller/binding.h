/* ovnic: binding local VIFs to their Port_Binding rows.
 *
 * A local VIF is a representor of the DPU with the name of the logical port it
 * carries (its iface-id).  VIFs come from two places:
 *   - binding_port_add(): registered explicitly (ovnicctl dpud port-add);
 *   - "plugging": a Port_Binding requested for this chassis (requested_chassis) with
 *     options:vif-plug-type=representor, vif-plug:representor:pf-mac and
 *     vif-plug:representor:vf-num, resolved through the representor table
 *     (binding_representor_add()) to a local representor.  When those options change
 *     the port is released and plugged again on the new representor; when they are
 *     withdrawn it is released and unplugged.
 *
 * binding_run() writes what ovn-controller 23.03 writes: a claim sets "chassis" (and
 * "encap" when the VIF names one of this chassis's encap IPs), or adds this chassis
 * to "additional_chassis" when it is only requested as an additional chassis; "up"
 * becomes true only once the flows of the port are installed (the flows hook) and
 * its representor forwards (binding_ctx.vif_ready), and false again while the
 * representor does not (the NIC reset or went away: the port stays bound here);
 * a release clears "chassis" and sets "up" to false.  A port requested for another
 * chassis is never claimed (and released if it was ours).  A port that another
 * chassis holds is taken over only when it is explicitly requested for this one;
 * otherwise ovnic backs off and logs it (rate-limited): it never fights.  A port
 * bound to this chassis without a local VIF is released, as ovn-controller does. */
#ifndef OVNIC_CONTROLLER_BINDING_H
#define OVNIC_CONTROLLER_BINDING_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "shared/util/err.h"
#include "shared/util/hmap.h"
#include "shared/util/uuid.h"

struct binding;
struct ovsdb_replica;
struct ovsdb_txn;

/** Asks for the flows of logical port 'iface_id' to be installed; the owner answers
 * with binding_flows_installed() once they are (possibly later, from the loop). */
typedef void (*binding_flows_request_cb)(void *aux, const char *iface_id);

struct binding_stats {
    uint64_t claims;          /* Claims committed. */
    uint64_t releases;        /* Releases committed. */
    uint64_t takeovers;       /* Claims of a port another chassis held. */
    uint64_t backoffs;        /* Times a port was left to another chassis. */
    uint64_t plugs;           /* VIFs plugged from vif-plug options. */
    uint64_t unplugs;         /* Plugged VIFs removed. */
    uint64_t plug_unresolved; /* vif-plug requests without a local representor. */
    uint64_t up_set;          /* "up" written true. */
    uint64_t up_cleared;      /* "up" written false for a representor that is down. */
};

/** What binding_run() needs from the rest of the controller.  All borrowed. */
struct binding_ctx {
    const struct ovsdb_replica *replica;
    const struct uuid *chassis_uuid; /* This chassis's row; required. */
    const char *chassis_name;
    const char *hostname;
    bool full; /* Re-examine every row (not just the tracked changes). */
    /* Whether the representor of a VIF forwards; NULL: always. */
    bool (*vif_ready)(void *aux, const char *representor);
    void *vif_ready_aux;
};

/** Creates an empty binding table.  Caller owns; free with binding_destroy().
 * Returns 0 or -ENOMEM. */
int binding_create(struct binding **binding);

/** Frees 'binding' (may be NULL). */
void binding_destroy(struct binding *binding);

void binding_set_flows_hook(struct binding *binding, binding_flows_request_cb cb,
                            void *aux);

/* The longest representor name, in bytes.  The datapath names a memif representor's
 * DPDK port "net_memif_NAME", and DPDK's port names are at most RTE_ETH_NAME_MAX_LEN
 * (64) bytes with their NUL: 63 - strlen("net_memif_") = 53. */
#define BINDING_REPRESENTOR_NAME_MAX 53

/* The longest iface-id (logical port name) a VIF may carry, in bytes.  OVN itself sets
 * no limit; this one only bounds what is kept and saved. */
#define BINDING_IFACE_ID_MAX 1024

/** Checks that 'name' may name a representor: 1 to BINDING_REPRESENTOR_NAME_MAX bytes
 * of letters, digits, '_', '.' and '-', not starting with '.' or '-'.  Such a name is
 * safe to splice into a file name ("NAME.sock") and into DPDK devargs.  Every path by
 * which a representor name enters (port-add, representor-add, the configuration, the
 * state file) goes through this check.  Returns 0 or -EINVAL, with 'err' (may be NULL)
 * saying what is wrong and what is allowed. */
int binding_representor_name_check(const char *name, struct ovnic_err *err);

/** Registers representor 'representor' as the VIF of logical port 'iface_id'.
 * 'encap_ip' (may be NULL) selects one of this chassis's encaps for the port.
 * Returns 0, -EINVAL (a representor name that binding_representor_name_check()
 * refuses, an empty iface-id or one longer than BINDING_IFACE_ID_MAX; 'err' says
 * which), -EEXIST if the representor is
 * already registered or plugged (with another iface-id; the same registration again
 * is 0), or -ENOMEM. */
int binding_port_add(struct binding *binding, const char *representor,
                     const char *iface_id, const char *encap_ip, struct ovnic_err *err);

/** Removes the VIF on 'representor' (the port is released).  Returns 0, -ENOENT if
 * none, or -EPERM if it was plugged from vif-plug options (withdraw those instead). */
int binding_port_del(struct binding *binding, const char *representor);

/** Adds (or replaces) the representor of VF 'vf_num' of the PF with MAC 'pf_mac'
 * (lowercase "xx:xx:xx:xx:xx:xx").  Returns 0, -EINVAL (also for a name that
 * binding_representor_name_check() refuses) or -ENOMEM. */
int binding_representor_add(struct binding *binding, const char *pf_mac, uint32_t vf_num,
                            const char *name);

/** Updates the Port_Binding index from the tracked changes of 'replica' (call before
 * ovsdb_replica_track_clear()), or rebuilds it if 'full'.  Returns 0 or -ENOMEM
 * (then call it again with 'full'). */
int binding_track(struct binding *binding, const struct ovsdb_replica *replica,
                  bool full);

/** Appends to 'txn' the claims, releases and "up" updates that are due.  Returns 0 or
 * -ENOMEM. */
int binding_run(struct binding *binding, const struct binding_ctx *ctx,
                struct ovsdb_txn *txn);

/** Appends the release of every port bound to 'chassis_uuid' (for a clean exit).
 * Returns 0 or -ENOMEM. */
int binding_release_all(struct binding *binding, const struct ovsdb_replica *replica,
                        const struct uuid *chassis_uuid, struct ovsdb_txn *txn);

/** Reports the outcome of the transaction that carried the last binding_run()'s
 * operations: 0 (committed) or a negative errno. */
void binding_txn_done(struct binding *binding, int error);

/** The flows of 'iface_id' are installed: "up" may be set. */
void binding_flows_installed(struct binding *binding, const char *iface_id);

/** True if no claim is waiting for its commit or its flows, and nothing is queued
 * for release. */
bool binding_is_settled(const struct binding *binding);

/** The logical ports of the local VIFs (NULL-terminated array of borrowed strings,
 * valid until the next change of the VIFs; caller frees the array only).  '*n' gets
 * the count.  NULL on allocation failure. */
const char **binding_lports(const struct binding *binding, size_t *n);

size_t binding_n_vifs(const struct binding *binding);

/** Number of VIFs whose port is bound here and up. */
size_t binding_n_up(const struct binding *binding);

void binding_get_stats(const struct binding *binding, struct binding_stats *stats);

/** The VIFs as a JSON array of objects {"representor", "iface_id", "origin"
 * ("added"/"plugged"), "state" ("no-binding", "releasing", "claiming", "bound", "up",
 * "down" (bound here, its representor does not forward), "additional",
 * "requested-elsewhere", "claimed-elsewhere"), "encap_ip"?, "mtu"?}.  Caller owns. */
json_t *binding_vifs_to_json(const struct binding *binding);

/** The VIFs registered with binding_port_add() and the representor table, as
 * {"ports": [...], "representors": [...]} for saving, and back.  Caller owns. */
json_t *binding_save(const struct binding *binding);

/** Restores what binding_save() produced.  An entry whose representor name or
 * iface-id binding_port_add() or binding_representor_name_check() refuses is skipped
 * and logged.  Returns 0, -EINVAL for a malformed object (nothing restored), or
 * -ENOMEM. */
int binding_restore(struct binding *binding, const json_t *saved);

#endif /* OVNIC_CONTROLLER_BINDING_H */
