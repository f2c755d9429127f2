/* ovnic-nicsim: a simulated sysfs tree for one SR-IOV physical function.
 *
 * Under a root directory that stands for /sys, the tree looks like this (PCI address
 * 0000:03:00.0, PF netdev "pf0", 4 VFs enabled):
 *
 *   ROOT/devices/pci0000:00/0000:03:00.0/          the PF's device directory
 *       vendor device class                         "0x15b3", "0xa2dc", "0x020000"
 *       vpd                                         PCI VPD: product name, PN, EC,
 *                                                   SN (nicsim_sysfs_serial()), RV
 *       sriov_totalvfs                              "8"
 *       sriov_numvfs                                "4" (read/write)
 *       sriov_status                                "SEQ ERRNO TEXT" (see below)
 *       virtfn0 -> ../0000:03:00.2                  one per VF
 *       driver -> ../../../bus/pci/drivers/mlx5_core
 *       net/pf0/{address,phys_port_name,phys_switch_id,ifindex_name}
 *       net/pf0/device -> ../../../0000:03:00.0
 *       net/pf0/smart_nic/pf/config                 "MAC : xx:..\n..."
 *   ROOT/devices/pci0000:00/0000:03:00.2/          VF 0
 *       physfn -> ../0000:03:00.0
 *       driver -> ../../../bus/pci/drivers/mlx5_core
 *       net/pf0v0/{address,phys_port_name}          phys_port_name: "pf0vf0", the
 *                                                   name of its representor
 *       net/pf0v0/device -> ../../../0000:03:00.2
 *   ROOT/bus/pci/devices/<addr> -> ../../../devices/pci0000:00/<addr>
 *   ROOT/bus/pci/drivers/mlx5_core/<addr> -> ../../../../devices/pci0000:00/<addr>
 *   ROOT/class/net/<ifname> -> ../../devices/pci0000:00/<addr>/net/<ifname>
 *
 * A writer (the host side) changes the VF count with a plain file write of
 * "sriov_numvfs", as on Linux.  The owner of the tree watches it with inotify
 * (nicsim_sysfs_fd(), nicsim_sysfs_run()) and applies it with the kernel's rules:
 * 0 removes every VF; N creates N VFs when none exist; any other change while VFs
 * exist is -EBUSY; N above sriov_totalvfs is -ERANGE; text that is not a decimal
 * number is -EINVAL.  A plain file write cannot fail, so the result is published
 * afterwards: "sriov_numvfs" is rewritten with the count in force, and
 * "sriov_status" holds "SEQ ERRNO TEXT", SEQ counting the writes processed, ERRNO 0
 * or a negative errno.  A writer reads SEQ, writes, and waits for SEQ to change.
 *
 * The VF netdevs themselves are made by the owner's vf_add callback (veth pairs in
 * ovnic-nicsim), so that this module has no netlink in it and tests can fake it. */
#ifndef OVNIC_NICSIM_SYSFS_H
#define OVNIC_NICSIM_SYSFS_H 1

#include <stdbool.h>
#include <stdint.h>

#include "shared/util/err.h"

#define NICSIM_SYSFS_MAX_VFS 64

struct nicsim_sysfs;

struct nicsim_sysfs_ops {
    /** Creates VF 'vf': its netdev named 'ifname' with MAC 'mac'.  Returns 0 or a
     * negative errno (the write that asked for it then fails with that error, and
     * the VFs created by the same write are removed again). */
    int (*vf_add)(void *aux, unsigned int vf, const char *ifname, const uint8_t mac[6]);
    /** Removes VF 'vf'.  Cannot fail. */
    void (*vf_del)(void *aux, unsigned int vf);
};

struct nicsim_sysfs_config {
    const char *root;       /* Directory standing for /sys; created if missing. */
    const char *pci_addr;   /* PF address "DDDD:BB:DD.F" (default "0000:03:00.0"). */
    const char *pf_ifname;  /* PF netdev name (default "pf0"). */
    const char *port_name;  /* PF's phys_port_name (default "p0"). */
    uint8_t pf_mac[6];      /* PF MAC; VF N gets 02:m1:m2:m3:m4:(0x10 + N). */
    unsigned int total_vfs; /* 1..NICSIM_SYSFS_MAX_VFS. */
};

/** Builds the PF's tree under 'cfg->root' (an existing tree of the same PCI address
 * is removed first) and starts watching it.  'ops' and 'aux' are borrowed and must
 * outlive the tree.  Caller owns '*sysfs'; free with nicsim_sysfs_destroy().
 * Returns 0, -EINVAL for a bad configuration (with 'err' set), or a negative errno
 * from the file system or inotify. */
int nicsim_sysfs_create(const struct nicsim_sysfs_config *cfg,
                        const struct nicsim_sysfs_ops *ops, void *aux,
                        struct nicsim_sysfs **sysfs, struct ovnic_err *err);

/** Removes every VF (through vf_del), then the PF's tree, and frees 'sysfs' (may be
 * NULL). */
void nicsim_sysfs_destroy(struct nicsim_sysfs *sysfs);

/** The inotify fd to watch for OVNIC_POLL_IN. */
int nicsim_sysfs_fd(const struct nicsim_sysfs *sysfs);

/** Processes the writes seen since the last call (non-blocking).  Returns the number
 * of writes of "sriov_numvfs" processed (>= 0), or a negative errno if inotify
 * failed. */
int nicsim_sysfs_run(struct nicsim_sysfs *sysfs);

/** Sets the VF count as a write of "sriov_numvfs" would, and publishes the result the
 * same way.  Returns 0, -EINVAL, -ERANGE, -EBUSY (see above), or the error of
 * vf_add. */
int nicsim_sysfs_numvfs_set(struct nicsim_sysfs *sysfs, unsigned int numvfs,
                            struct ovnic_err *err);

/** The number of VFs in force. */
unsigned int nicsim_sysfs_numvfs(const struct nicsim_sysfs *sysfs);

unsigned int nicsim_sysfs_total_vfs(const struct nicsim_sysfs *sysfs);

/** The netdev name of VF 'vf' ("<pf_ifname>v<vf>") into 'buf' (16 bytes).  Returns
 * 'buf'. */
const char *nicsim_sysfs_vf_ifname(const struct nicsim_sysfs *sysfs, unsigned int vf,
                                   char buf[16]);

#define NICSIM_SYSFS_SERIAL_LEN 16

/** The card's serial number (VPD keyword SN) into 'buf': "SIM" and the last four
 * bytes of the PF MAC in hexadecimal ("SIMA1000101" for 0c:42:a1:00:01:01). */
void nicsim_sysfs_serial(const struct nicsim_sysfs *sysfs,
                         char buf[NICSIM_SYSFS_SERIAL_LEN]);

/** The MAC of VF 'vf' into 'mac'. */
void nicsim_sysfs_vf_mac(const struct nicsim_sysfs *sysfs, unsigned int vf,
                         uint8_t mac[6]);

/** The PF's device directory (ROOT/devices/pci0000:00/ADDR).  Valid until
 * nicsim_sysfs_destroy(). */
const char *nicsim_sysfs_pf_dir(const struct nicsim_sysfs *sysfs);

/** The sequence number of the last processed write (as in "sriov_status"). */
uint64_t nicsim_sysfs_seq(const struct nicsim_sysfs *sysfs);

#endif /* OVNIC_NICSIM_SYSFS_H */
