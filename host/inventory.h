/* ovnic-hostd: the inventory of the host's NIC: its PFs, their VFs, and what each VF
 * is attached to, from sysfs, rtnetlink and the record of attachments.  This is what
 * the host reports to the DPU, which checks it against what the host owns. */
#ifndef OVNIC_HOST_INVENTORY_H
#define OVNIC_HOST_INVENTORY_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "host/nl.h"
#include "host/sriov.h"
#include "host/state.h"
#include "host/vf.h"
#include "shared/util/err.h"

struct inv_vf {
    struct sriov_vf vf;
    bool attached;
    struct host_attachment att;       /* If 'attached'. */
    char netdev[SRIOV_IFNAME_LEN];    /* Its name where it is now, or empty. */
    char netns[HOST_STATE_NETNS_LEN]; /* Where its netdev is; empty: the host's. */
    char mac[SRIOV_MAC_LEN];          /* Live (netlink) where seen, else sysfs's. */
    char link[16];                    /* Operational state where seen, else empty. */
    bool has_info;                    /* The PF reports this VF (IFLA_VFINFO_LIST). */
    struct host_nl_vf_info info;
};

struct inv_pf {
    struct sriov_pf pf;
    char link[16]; /* The PF netdev's operational state, or empty. */
    size_t n_vfs;
    struct inv_vf *vfs;
};

struct host_inventory {
    size_t n_pfs;
    struct inv_pf *pfs;
};

/** Collects the inventory of 'ctx'.  The record of attachments is read without the
 * lock (it is replaced atomically).  A VF netdev that cannot be looked at (a
 * namespace gone, no rtnetlink) leaves its live fields empty.  Caller owns 'inv';
 * free with host_inventory_clear().  Returns 0 or a negative errno (with 'err'
 * set): sysfs cannot be listed, or the record is unreadable. */
int host_inventory_get(const struct host_ctx *ctx, struct host_inventory *inv,
                       struct ovnic_err *err);

void host_inventory_clear(struct host_inventory *inv);

/** The inventory as JSON: {"pfs": [{PF fields..., "vfs": [{VF fields...}]}]} with
 * the fields of docs/ovnic-hostd.md.  Caller owns the result (json_decref()); NULL
 * if out of memory. */
json_t *host_inventory_to_json(const struct host_inventory *inv);

/** What a VF is attached to, in words: "netns NAME", "vm", or "" (not attached). */
void inv_vf_attached_format(const struct inv_vf *v, char *buf, size_t size);

#endif /* OVNIC_HOST_INVENTORY_H */
