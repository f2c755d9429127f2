/* ovnic-hostd: SR-IOV physical and virtual functions in sysfs.
 *
 * Everything is read from, and written to, a sysfs tree under 'root' ("/sys" on a
 * real host, or the tree of a simulated NIC, tests/hw-sim/nicsim/sysfs.h):
 *
 *   ROOT/bus/pci/devices/PF/          a PF: has "sriov_totalvfs"
 *       vendor device class sriov_totalvfs sriov_numvfs vpd driver net/IFNAME/address
 *       virtfnN -> ../VF              VF N
 *   ROOT/bus/pci/devices/VF/          a VF: driver, driver_override, net/IFNAME/
 *   ROOT/bus/pci/drivers/NAME/        bind, unbind
 *   ROOT/bus/pci/drivers_probe
 *
 * A PF counts as a NIC's PF when it has "sriov_totalvfs" and either a "class" of
 * 0x02xxxx (network controller) or, where the tree has no "class" file, a netdev. */
#ifndef OVNIC_HOST_SRIOV_H
#define OVNIC_HOST_SRIOV_H 1

#include <stdbool.h>
#include <stddef.h>

#include "shared/util/err.h"

#define SRIOV_PCI_ADDR_LEN 16 /* "DDDD:BB:DD.F" and a NUL, rounded up. */
#define SRIOV_IFNAME_LEN 16   /* IFNAMSIZ. */
#define SRIOV_MAC_LEN 18      /* "xx:xx:xx:xx:xx:xx" and a NUL. */
#define SRIOV_DRIVER_LEN 64
#define SRIOV_SERIAL_LEN 64
#define SRIOV_PRODUCT_LEN 128
#define SRIOV_MAX_VFS 256 /* Bound on the VF numbers handled (virtfn0..255). */

/* How long sriov_numvfs_set() waits for a simulated NIC to publish the outcome of a
 * write (it creates VFs at about 50 ms each). */
#define SRIOV_SIM_TIMEOUT_MS 30000

/* A physical function.  Strings are empty when the tree does not say. */
struct sriov_pf {
    char pci_addr[SRIOV_PCI_ADDR_LEN];
    char ifname[SRIOV_IFNAME_LEN]; /* Its netdev (first entry of net/). */
    char mac[SRIOV_MAC_LEN];       /* net/IFNAME/address. */
    unsigned int vendor, device;   /* PCI ids, 0 if unknown. */
    unsigned int total_vfs;        /* sriov_totalvfs. */
    unsigned int num_vfs;          /* sriov_numvfs. */
    char driver[SRIOV_DRIVER_LEN];
    char serial[SRIOV_SERIAL_LEN];   /* VPD keyword SN: the card's serial number. */
    char product[SRIOV_PRODUCT_LEN]; /* VPD Identifier String. */
};

/* A virtual function of a PF. */
struct sriov_vf {
    unsigned int vf; /* Its number N (virtfnN). */
    char pci_addr[SRIOV_PCI_ADDR_LEN];
    char ifname[SRIOV_IFNAME_LEN];          /* Its netdev as sysfs shows it, or empty. */
    char mac[SRIOV_MAC_LEN];                /* net/IFNAME/address, or empty. */
    char driver[SRIOV_DRIVER_LEN];          /* Bound driver, or empty. */
    char driver_override[SRIOV_DRIVER_LEN]; /* Empty when unset ("(null)"). */
};

/** The NIC PFs under 'root', in PCI address order.  Caller owns '*pfs'; free with
 * free().  Returns 0 (with '*n' possibly 0), -ENOENT if 'root' has no
 * bus/pci/devices (with 'err' set), or -ENOMEM. */
int sriov_pf_list(const char *root, struct sriov_pf **pfs, size_t *n,
                  struct ovnic_err *err);

/** Reads the PF at PCI address 'pci_addr'.  Returns 0, -ENODEV if it is not a NIC PF
 * (with 'err' set), or -EINVAL for an address that is not DDDD:BB:DD.F. */
int sriov_pf_get(const char *root, const char *pci_addr, struct sriov_pf *pf,
                 struct ovnic_err *err);

/** Finds the PF named 'name', a PCI address or a netdev name; with 'name' NULL, the
 * only PF there is.  Returns 0, -ENODEV if there is none of that name (or no PF at
 * all), -EEXIST if 'name' is NULL and there are several (the error lists them). */
int sriov_pf_find(const char *root, const char *name, struct sriov_pf *pf,
                  struct ovnic_err *err);

/** Sets the PF's VF count to 'numvfs'.  From a nonzero count to another nonzero one,
 * it writes 0 first, since the kernel refuses that change with -EBUSY.  Where the
 * PF directory has "sriov_status" (a simulated NIC, whose writes complete
 * asynchronously), it waits for the outcome published there.  Updates
 * 'pf->num_vfs'.  Returns 0, -ERANGE above sriov_totalvfs, the kernel's error of the
 * write (with 'err' naming it), -ETIMEDOUT if a simulated NIC did not answer, or -EIO
 * if the count read back differs. */
int sriov_numvfs_set(const char *root, struct sriov_pf *pf, unsigned int numvfs,
                     struct ovnic_err *err);

/** Reads VF 'vf' of 'pf' (virtfnN, its PCI device, netdev, driver).  Returns 0,
 * -ENOENT if the PF has no such VF (with 'err' set), or a negative errno. */
int sriov_vf_get(const char *root, const struct sriov_pf *pf, unsigned int vf,
                 struct sriov_vf *out, struct ovnic_err *err);

/** Binds VF 'vf' to 'driver' ("vfio-pci"): writes driver_override, unbinds it from
 * its current driver, writes its address to drivers_probe, and checks that 'driver'
 * took it.  With 'driver' NULL, it clears driver_override, unbinds it, and probes
 * again, so that the default driver takes it (for detach).  Updates 'vf->driver'.
 * On failure, it clears driver_override and probes again before returning.  Returns
 * 0, -ENODEV if 'driver' is not loaded (no ROOT/bus/pci/drivers/DRIVER),
 * -EOPNOTSUPP if the VF has no driver_override (an old kernel or a simulated tree),
 * -EIO if the driver did not take the device, or the error of a write (each with
 * 'err' naming the file). */
int sriov_vf_bind(const char *root, struct sriov_vf *vf, const char *driver,
                  struct ovnic_err *err);

/** The checks of sriov_vf_bind() before it changes anything: 'driver' (unless NULL)
 * is loaded, and the VF has driver_override.  Returns 0, -ENODEV or -EOPNOTSUPP
 * (with 'err' set). */
int sriov_vf_bind_check(const char *root, const struct sriov_vf *vf, const char *driver,
                        struct ovnic_err *err);

/** True if 's' is a PCI address "DDDD:BB:DD.F" (hexadecimal, lower or upper case). */
bool sriov_pci_addr_is_valid(const char *s);

#endif /* OVNIC_HOST_SRIOV_H */
