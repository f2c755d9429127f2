/* ovnic-hostd: SR-IOV PFs and VFs in sysfs (see sriov.h). */
#include "host/sriov.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/sysfs.h"
#include "host/vpd.h"
#include "shared/util/log.h"

OVNIC_LOG_MODULE(host_sriov);

static int OVNIC_PRINTF(3, 4) pathf(char *buf, size_t size, const char *fmt, ...)
{
    va_list args;
    int n;

    va_start(args, fmt);
    n = vsnprintf(buf, size, fmt, args);
    va_end(args);
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

bool
sriov_pci_addr_is_valid(const char *s)
{
    static const char pattern[] = "xxxx:xx:xx.x";
    size_t i;

    if (strlen(s) != sizeof pattern - 1) {
        return false;
    }
    for (i = 0; pattern[i]; i++) {
        if (pattern[i] == 'x' ? !isxdigit((unsigned char)s[i]) : s[i] != pattern[i]) {
            return false;
        }
    }
    return s[11] >= '0' && s[11] <= '7';
}

static int
dev_dir(const char *root, const char *addr, char *buf, size_t size)
{
    return pathf(buf, size, "%s/bus/pci/devices/%s", root, addr);
}

/* The first entry of DIR/net/ (a netdev name) into 'buf', or "". */
static int
first_name_cb(const char *name, void *aux)
{
    char *buf = aux;

    if (strlen(name) < SRIOV_IFNAME_LEN) {
        memcpy(buf, name, strlen(name) + 1);
        return 1;
    }
    return 0;
}

static void
netdev_read(const char *dir, char ifname[SRIOV_IFNAME_LEN], char mac[SRIOV_MAC_LEN])
{
    char path[PATH_MAX];
    char text[64];

    ifname[0] = '\0';
    mac[0] = '\0';
    if (pathf(path, sizeof path, "%s/net", dir) ||
        host_sysfs_dir_foreach(path, first_name_cb, ifname) < 0) {
        ifname[0] = '\0';
        return;
    }
    if (ifname[0] && !pathf(path, sizeof path, "%s/net/%s/address", dir, ifname) &&
        host_sysfs_read(path, text, sizeof text) == SRIOV_MAC_LEN - 1) {
        memcpy(mac, text, SRIOV_MAC_LEN);
    }
}

static void
link_read(const char *dir, const char *name, char *buf, size_t size)
{
    char path[PATH_MAX];

    if (pathf(path, sizeof path, "%s/%s", dir, name) ||
        host_sysfs_link_name(path, buf, size)) {
        buf[0] = '\0';
    }
}

static unsigned long
uint_read(const char *dir, const char *name, unsigned long dflt)
{
    char path[PATH_MAX];
    unsigned long v;

    if (pathf(path, sizeof path, "%s/%s", dir, name) || host_sysfs_read_uint(path, &v)) {
        return dflt;
    }
    return v;
}

static void
vpd_read(const char *dir, struct sriov_pf *pf)
{
    char path[PATH_MAX];
    uint8_t *vpd;
    int len;

    if (pathf(path, sizeof path, "%s/vpd", dir)) {
        return;
    }
    vpd = malloc(VPD_MAX_SIZE);
    if (!vpd) {
        return;
    }
    /* Reading VPD can fail or stall on some devices; the serial number is then
     * simply unknown. */
    len = host_sysfs_read_bin(path, vpd, VPD_MAX_SIZE);
    if (len > 0) {
        if (vpd_keyword_find(vpd, (size_t)len, "SN", pf->serial, sizeof pf->serial) < 0) {
            pf->serial[0] = '\0';
        }
        if (vpd_id_string(vpd, (size_t)len, pf->product, sizeof pf->product) < 0) {
            pf->product[0] = '\0';
        }
    }
    free(vpd);
}

int
sriov_pf_get(const char *root, const char *pci_addr, struct sriov_pf *pf,
             struct ovnic_err *err)
{
    char dir[PATH_MAX];
    char path[PATH_MAX];
    struct sriov_pf p;
    unsigned long cls;

    if (!sriov_pci_addr_is_valid(pci_addr)) {
        return ovnic_err_set(err, -EINVAL, "PF", "not a PCI address",
                             "'%s': expected DDDD:BB:DD.F", pci_addr);
    }
    if (dev_dir(root, pci_addr, dir, sizeof dir) ||
        pathf(path, sizeof path, "%s/sriov_totalvfs", dir)) {
        return ovnic_err_set(err, -ENAMETOOLONG, "PF", "path too long", "%s", root);
    }
    memset(&p, 0, sizeof p);
    memcpy(p.pci_addr, pci_addr, strlen(pci_addr) + 1);
    if (!host_sysfs_exists(path)) {
        return ovnic_err_set(err, -ENODEV, "PF", "not an SR-IOV physical function",
                             "%s has no sriov_totalvfs", dir);
    }
    netdev_read(dir, p.ifname, p.mac);
    cls = uint_read(dir, "class", ULONG_MAX);
    if (cls == ULONG_MAX ? !p.ifname[0] : (cls >> 16) != 0x02) {
        return ovnic_err_set(err, -ENODEV, "PF", "not a network PF",
                             "%s: class %#lx, netdev '%s'", pci_addr, cls, p.ifname);
    }
    p.vendor = (unsigned int)uint_read(dir, "vendor", 0);
    p.device = (unsigned int)uint_read(dir, "device", 0);
    p.total_vfs = (unsigned int)uint_read(dir, "sriov_totalvfs", 0);
    p.num_vfs = (unsigned int)uint_read(dir, "sriov_numvfs", 0);
    link_read(dir, "driver", p.driver, sizeof p.driver);
    vpd_read(dir, &p);
    *pf = p;
    return 0;
}

struct pf_list {
    const char *root;
    struct sriov_pf *pfs;
    size_t n, allocated;
};

static int
pf_list_cb(const char *name, void *aux)
{
    struct pf_list *list = aux;
    struct sriov_pf pf;

    if (!sriov_pci_addr_is_valid(name) || sriov_pf_get(list->root, name, &pf, NULL)) {
        return 0;
    }
    if (list->n == list->allocated) {
        size_t allocated = list->allocated ? 2 * list->allocated : 4;
        struct sriov_pf *p = realloc(list->pfs, allocated * sizeof *p);

        if (!p) {
            return -ENOMEM;
        }
        list->pfs = p;
        list->allocated = allocated;
    }
    list->pfs[list->n++] = pf;
    return 0;
}

int
sriov_pf_list(const char *root, struct sriov_pf **pfs, size_t *n, struct ovnic_err *err)
{
    struct pf_list list = {.root = root};
    char path[PATH_MAX];
    int error;

    if (pathf(path, sizeof path, "%s/bus/pci/devices", root)) {
        return ovnic_err_set(err, -ENAMETOOLONG, "sysfs", "path too long", "%s", root);
    }
    error = host_sysfs_dir_foreach(path, pf_list_cb, &list);
    if (error) {
        free(list.pfs);
        return ovnic_err_set(err, error, "sysfs", "cannot list PCI devices", "%s", path);
    }
    *pfs = list.pfs;
    *n = list.n;
    return 0;
}

int
sriov_pf_find(const char *root, const char *name, struct sriov_pf *pf,
              struct ovnic_err *err)
{
    struct sriov_pf *pfs;
    size_t n, i;
    int error;

    if (name && sriov_pci_addr_is_valid(name)) {
        return sriov_pf_get(root, name, pf, err);
    }
    error = sriov_pf_list(root, &pfs, &n, err);
    if (error) {
        return error;
    }
    if (name) {
        for (i = 0; i < n; i++) {
            if (!strcmp(pfs[i].ifname, name)) {
                *pf = pfs[i];
                free(pfs);
                return 0;
            }
        }
        error = ovnic_err_set(err, -ENODEV, "PF", "no such PF",
                              "'%s' is neither the PCI address nor the netdev of an "
                              "SR-IOV PF under %s",
                              name, root);
    } else if (n == 1) {
        *pf = pfs[0];
    } else if (n == 0) {
        error = ovnic_err_set(err, -ENODEV, "PF", "no SR-IOV network PF",
                              "none under %s/bus/pci/devices", root);
    } else {
        char names[OVNIC_ERR_DETAIL_LEN] = "";
        size_t len = 0;

        for (i = 0; i < n && len < sizeof names; i++) {
            int w = snprintf(names + len, sizeof names - len, "%s%s (%s)", i ? ", " : "",
                             pfs[i].pci_addr, pfs[i].ifname);
            len += w > 0 ? (size_t)w : 0;
        }
        error = ovnic_err_set(err, -EEXIST, "PF", "several PFs: name one with --pf", "%s",
                              names);
    }
    free(pfs);
    return error;
}

/* ---- sriov_numvfs. ------------------------------------------------------------- */

static void
sleep_ms(unsigned int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* Parses "SEQ ERRNO TEXT" of a simulated NIC's sriov_status. */
static int
sim_status_parse(const char *text, uint64_t *seq, int *error, const char **rest)
{
    unsigned long long s;
    int e, n = 0;

    if (sscanf(text, "%llu %d %n", &s, &e, &n) != 2 || n == 0 || e > 0 || e < -4095) {
        return -EBADMSG;
    }
    *seq = s;
    *error = e;
    *rest = text + n;
    return 0;
}

static int
numvfs_write(const char *dir, unsigned int numvfs, struct ovnic_err *err)
{
    char status_path[PATH_MAX];
    char path[PATH_MAX];
    char status[HOST_SYSFS_ATTR_MAX];
    char text[16];
    uint64_t seq0 = 0, seq;
    const char *rest;
    bool sim = false;
    unsigned long now;
    int error, e;
    int waited;

    if (pathf(path, sizeof path, "%s/sriov_numvfs", dir) ||
        pathf(status_path, sizeof status_path, "%s/sriov_status", dir)) {
        return ovnic_err_set(err, -ENAMETOOLONG, "sriov_numvfs", "path too long", NULL);
    }
    if (host_sysfs_read(status_path, status, sizeof status) >= 0) {
        if (sim_status_parse(status, &seq0, &e, &rest)) {
            return ovnic_err_set(err, -EBADMSG, "sriov_numvfs",
                                 "unreadable sriov_status of the simulated NIC", "'%s'",
                                 status);
        }
        sim = true;
    }
    snprintf(text, sizeof text, "%u", numvfs);
    error = host_sysfs_write(path, text);
    if (error) {
        return ovnic_err_set(err, error, "sriov_numvfs", "the kernel refused the write",
                             "%s of %s", text, path);
    }
    if (sim) {
        for (waited = 0;; waited += 10) {
            if (host_sysfs_read(status_path, status, sizeof status) >= 0 &&
                !sim_status_parse(status, &seq, &e, &rest) && seq != seq0) {
                break;
            }
            if (waited >= SRIOV_SIM_TIMEOUT_MS) {
                return ovnic_err_set(err, -ETIMEDOUT, "sriov_numvfs",
                                     "the simulated NIC did not answer",
                                     "no new sriov_status in %d ms", waited);
            }
            sleep_ms(10);
        }
        if (e) {
            return ovnic_err_set(err, e, "sriov_numvfs", "the simulated NIC refused",
                                 "%s: %s", text, rest);
        }
    }
    now = ULONG_MAX;
    if (host_sysfs_read_uint(path, &now) || now != numvfs) {
        return ovnic_err_set(err, -EIO, "sriov_numvfs", "the count did not change",
                             "wrote %u, reads %lu", numvfs, now);
    }
    return 0;
}

int
sriov_numvfs_set(const char *root, struct sriov_pf *pf, unsigned int numvfs,
                 struct ovnic_err *err)
{
    char dir[PATH_MAX];
    unsigned long cur;
    int error;

    if (dev_dir(root, pf->pci_addr, dir, sizeof dir)) {
        return ovnic_err_set(err, -ENAMETOOLONG, "sriov_numvfs", "path too long", NULL);
    }
    if (numvfs > pf->total_vfs) {
        return ovnic_err_set(err, -ERANGE, "sriov_numvfs", "more VFs than sriov_totalvfs",
                             "%u > %u on %s", numvfs, pf->total_vfs, pf->pci_addr);
    }
    cur = uint_read(dir, "sriov_numvfs", ULONG_MAX);
    if (cur == ULONG_MAX) {
        return ovnic_err_set(err, -EIO, "sriov_numvfs", "unreadable", "%s/sriov_numvfs",
                             dir);
    }
    if (cur == numvfs) {
        pf->num_vfs = numvfs;
        return 0;
    }
    if (cur != 0 && numvfs != 0) {
        /* The kernel changes a nonzero count only through 0. */
        error = numvfs_write(dir, 0, err);
        if (error) {
            return error;
        }
        pf->num_vfs = 0;
    }
    error = numvfs_write(dir, numvfs, err);
    if (error) {
        return error;
    }
    OLOG_INFO("%s: %lu -> %u VFs", pf->pci_addr, cur, numvfs);
    pf->num_vfs = numvfs;
    return 0;
}

/* ---- VFs. ---------------------------------------------------------------------- */

int
sriov_vf_get(const char *root, const struct sriov_pf *pf, unsigned int vf,
             struct sriov_vf *out, struct ovnic_err *err)
{
    char path[PATH_MAX];
    char dir[PATH_MAX];
    struct sriov_vf v;
    int error;

    memset(&v, 0, sizeof v);
    v.vf = vf;
    if (pathf(path, sizeof path, "%s/bus/pci/devices/%s/virtfn%u", root, pf->pci_addr,
              vf)) {
        return ovnic_err_set(err, -ENAMETOOLONG, "VF", "path too long", NULL);
    }
    error = host_sysfs_link_name(path, v.pci_addr, sizeof v.pci_addr);
    if (error) {
        return ovnic_err_set(err, error == -ENOENT ? -ENOENT : error, "VF", "no such VF",
                             "%s has no virtfn%u (%u VFs enabled)", pf->pci_addr, vf,
                             pf->num_vfs);
    }
    if (!sriov_pci_addr_is_valid(v.pci_addr)) {
        return ovnic_err_set(err, -EBADMSG, "VF", "virtfn link is not a PCI address",
                             "%s -> %s", path, v.pci_addr);
    }
    if (dev_dir(root, v.pci_addr, dir, sizeof dir)) {
        return ovnic_err_set(err, -ENAMETOOLONG, "VF", "path too long", NULL);
    }
    netdev_read(dir, v.ifname, v.mac);
    link_read(dir, "driver", v.driver, sizeof v.driver);
    if (!pathf(path, sizeof path, "%s/driver_override", dir) &&
        (host_sysfs_read(path, v.driver_override, sizeof v.driver_override) < 0 ||
         !strcmp(v.driver_override, "(null)"))) {
        v.driver_override[0] = '\0';
    }
    *out = v;
    return 0;
}

/* Unbinds 'vf' from its driver, if it has one. */
static int
vf_unbind(const char *dir, struct sriov_vf *vf, struct ovnic_err *err)
{
    char path[PATH_MAX];
    int error;

    if (!vf->driver[0]) {
        return 0;
    }
    if (pathf(path, sizeof path, "%s/driver/unbind", dir)) {
        return -ENAMETOOLONG;
    }
    error = host_sysfs_write(path, vf->pci_addr);
    if (error) {
        return ovnic_err_set(err, error, "unbind", "cannot unbind the VF from its driver",
                             "%s from %s", vf->pci_addr, vf->driver);
    }
    vf->driver[0] = '\0';
    return 0;
}

static int
vf_probe(const char *root, const char *dir, struct sriov_vf *vf, struct ovnic_err *err)
{
    char path[PATH_MAX];
    int error;

    if (pathf(path, sizeof path, "%s/bus/pci/drivers_probe", root)) {
        return -ENAMETOOLONG;
    }
    error = host_sysfs_write(path, vf->pci_addr);
    link_read(dir, "driver", vf->driver, sizeof vf->driver);
    if (error && error != -ENODEV) {
        /* -ENODEV: no driver took it, which the caller checks. */
        return ovnic_err_set(err, error, "drivers_probe", "cannot probe the VF", "%s",
                             vf->pci_addr);
    }
    return 0;
}

static int
override_write(const char *dir, struct sriov_vf *vf, const char *driver,
               struct ovnic_err *err)
{
    char path[PATH_MAX];
    int error;

    if (pathf(path, sizeof path, "%s/driver_override", dir)) {
        return -ENAMETOOLONG;
    }
    /* A lone newline clears it. */
    error = host_sysfs_write(path, driver ? driver : "\n");
    if (error) {
        return ovnic_err_set(err, error, "driver_override", "cannot write", "%s of %s",
                             driver ? driver : "(clear)", vf->pci_addr);
    }
    snprintf(vf->driver_override, sizeof vf->driver_override, "%s", driver ? driver : "");
    return 0;
}

int
sriov_vf_bind_check(const char *root, const struct sriov_vf *vf, const char *driver,
                    struct ovnic_err *err)
{
    char path[PATH_MAX];
    char dir[PATH_MAX];

    if (dev_dir(root, vf->pci_addr, dir, sizeof dir) ||
        pathf(path, sizeof path, "%s/driver_override", dir)) {
        return ovnic_err_set(err, -ENAMETOOLONG, "VF", "path too long", NULL);
    }
    if (driver) {
        char drv[PATH_MAX];

        if (pathf(drv, sizeof drv, "%s/bus/pci/drivers/%s", root, driver)) {
            return -ENAMETOOLONG;
        }
        if (!host_sysfs_exists(drv)) {
            return ovnic_err_set(err, -ENODEV, driver,
                                 "driver not loaded (modprobe it first)", "no %s", drv);
        }
    }
    if (!host_sysfs_exists(path)) {
        return ovnic_err_set(err, -EOPNOTSUPP, "driver_override",
                             "the VF has no driver_override: cannot choose its driver",
                             "%s", path);
    }
    return 0;
}

int
sriov_vf_bind(const char *root, struct sriov_vf *vf, const char *driver,
              struct ovnic_err *err)
{
    char dir[PATH_MAX];
    int error;

    error = sriov_vf_bind_check(root, vf, driver, err);
    if (error) {
        return error;
    }
    if (dev_dir(root, vf->pci_addr, dir, sizeof dir)) {
        return -ENAMETOOLONG;
    }
    if (driver && !strcmp(vf->driver, driver)) {
        return 0;
    }
    error = override_write(dir, vf, driver, err);
    if (!error) {
        error = vf_unbind(dir, vf, err);
    }
    if (!error) {
        error = vf_probe(root, dir, vf, err);
    }
    if (!error && driver && strcmp(vf->driver, driver)) {
        error = ovnic_err_set(err, -EIO, driver, "the driver did not take the VF",
                              "%s is bound to '%s'", vf->pci_addr, vf->driver);
    }
    if (error && driver) {
        /* Back to the default driver; the first error is the one reported. */
        override_write(dir, vf, NULL, NULL);
        if (vf->driver[0] && !strcmp(vf->driver, driver)) {
            vf_unbind(dir, vf, NULL);
        }
        if (!vf->driver[0]) {
            vf_probe(root, dir, vf, NULL);
        }
    }
    return error;
}
