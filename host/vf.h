/* ovnic-hostd: VF provisioning: VF count, VF settings, attaching a VF to a network
 * namespace (a container) or to a VM (vfio-pci), detaching it, and the record of it.
 *
 * This is the library the host agent is made of; the ovnic-hostd command line
 * (host/main.c) is one user, the hostlink session another.  Every call works on the
 * sysfs tree under 'ctx->sysfs_root' and keeps its record in 'ctx->state_dir'
 * (state.h), under the state lock.
 *
 * VF settings are best effort.  The host is not trusted: the DPU enforces each VF's
 * MAC and addresses in its own pipeline whatever the host sets, so a device that
 * lacks a VF operation (a veth in the simulation; BlueField-3 VFs refuse spoofchk)
 * gives an error that names the setting, and the attachment goes on. */
#ifndef OVNIC_HOST_VF_H
#define OVNIC_HOST_VF_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/nl.h"
#include "host/sriov.h"
#include "host/state.h"
#include "shared/util/err.h"

#define HOST_SYSFS_ROOT_DEFAULT "/sys"
#define HOST_STATE_DIR_DEFAULT "/var/lib/ovnic-hostd"
#define HOST_VM_DRIVER "vfio-pci"

struct host_ctx {
    const char *sysfs_root; /* "/sys", or a simulated tree. */
    const char *state_dir;  /* Where attachments.json lives. */
};

/* The settings to apply to a VF: 'has[S]' says whether setting S is asked for. */
struct vf_config {
    bool has[HOST_VF_N_SETTINGS];
    struct host_vf_value value;
};

/* The outcome of one setting. */
struct vf_setting_result {
    enum host_vf_setting setting;
    int error;      /* 0, or the negative errno of the failure. */
    bool fallback;  /* MAC only: set on the VF's netdev, the PF having no VF op. */
    char text[192]; /* "VF 3: spoofchk: operation not supported by the device". */
};

struct vf_config_result {
    size_t n; /* Results in 'r', in enum host_vf_setting order. */
    struct vf_setting_result r[HOST_VF_N_SETTINGS];
};

struct vf_attach_request {
    const char *pf; /* PF PCI address or netdev, or NULL for the only PF. */
    unsigned int vf;
    enum host_attach_kind kind;
    const char *netns;    /* HOST_ATTACH_NETNS: name, pid or path. */
    const char *ifname;   /* HOST_ATTACH_NETNS: its name in there, or NULL to keep. */
    const char *iface_id; /* May be NULL. */
    struct vf_config config;
};

struct vf_attach_result {
    struct sriov_pf pf;
    struct sriov_vf vf; /* As it is after the attachment. */
    struct host_attachment record;
    struct vf_config_result settings;
};

struct vf_detach_result {
    struct host_attachment record; /* What was attached. */
    char warning[512];             /* Empty, or what could not be undone. */
};

/** Sets the VF count of PF 'pf' (see sriov_pf_find()) to 'numvfs'
 * (sriov_numvfs_set()).  A change removes every VF, so it is refused with -EBUSY
 * while a VF of that PF is attached, unless 'force' (which drops their records).
 * Fills '*out' (may be NULL) with the PF after the change.  Returns 0 or a negative
 * errno (with 'err' set). */
int vf_numvfs_set(const struct host_ctx *ctx, const char *pf, unsigned int numvfs,
                  bool force, struct sriov_pf *out, struct ovnic_err *err);

/** Applies each setting of 'config' to VF 'vf' of 'pf' through 'nl' (a socket in the
 * namespace of the PF's netdev), one request per setting, and reports each in
 * '*res'.  A MAC that the PF cannot set (no VF op) is set on the VF's own netdev if
 * it is visible through 'nl'.  Returns the number of settings that failed (>= 0). */
int vf_configure(struct host_nl *nl, const struct sriov_pf *pf, const struct sriov_vf *vf,
                 const struct vf_config *config, struct vf_config_result *res);

/** Attaches a VF as 'req' says: checks that it is not attached, applies the settings
 * (vf_configure(); their failures do not stop it), then moves its netdev into the
 * namespace (optionally renamed) or binds it to vfio-pci, and records it.  Fills
 * '*res' (settings included, even on failure).  Returns 0, -EBUSY if it is attached
 * already, -ENODEV if it has no netdev here to move (or, for a VM, vfio-pci is not
 * loaded), -EEXIST if the name is taken in the namespace, or another negative errno
 * (with 'err' set). */
int vf_attach(const struct host_ctx *ctx, const struct vf_attach_request *req,
              struct vf_attach_result *res, struct ovnic_err *err);

/** Undoes the attachment of VF 'vf' of PF 'pf': moves its netdev back into the
 * caller's namespace under its host name, or gives it back to its driver, and drops
 * the record.  A namespace that no longer exists, with the netdev nowhere to be
 * found, drops the record with a warning in '*res'.  Returns 0, -ENOENT if it is not
 * attached, or another negative errno (with 'err' set; the record is kept). */
int vf_detach(const struct host_ctx *ctx, const char *pf, unsigned int vf,
              struct vf_detach_result *res, struct ovnic_err *err);

/** The libvirt <interface type='hostdev' managed='no'> element for VF 'vf_pci' into
 * 'buf': its PCI address, the MAC 'mac' (may be empty) and VLAN 'vlan' (-1 or 0 for
 * none).  Returns the length, or -ENAMETOOLONG if 'buf' is too small, or -EINVAL for
 * a bad PCI address. */
int vf_libvirt_xml(const char *vf_pci, const char *mac, int vlan, char *buf, size_t size);

#endif /* OVNIC_HOST_VF_H */
