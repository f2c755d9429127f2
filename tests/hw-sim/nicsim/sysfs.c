/* ovnic-nicsim: simulated SR-IOV sysfs tree (see sysfs.h). */
#include "tests/hw-sim/nicsim/sysfs.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared/util/log.h"
#include "shared/util/util.h"

OVNIC_LOG_MODULE(nicsim_sysfs);

#define PCI_PARENT "devices/pci0000:00"
#define DRIVER_NAME "mlx5_core"

struct nicsim_sysfs {
    char *root;
    char *pf_dir;
    char pf_addr[16];
    char pf_ifname[16];
    char port_name[16];
    uint8_t pf_mac[6];
    unsigned int pf_domain, pf_bus, pf_devfn;
    unsigned int total_vfs;
    unsigned int numvfs;
    uint64_t seq;
    int inotify_fd;
    const struct nicsim_sysfs_ops *ops;
    void *aux;
};

/* snprintf() into a path buffer; the root's length is bounded at creation, so a
 * truncation means a bug, and yields -ENAMETOOLONG. */
static int OVNIC_PRINTF(3, 4) pathf(char *buf, size_t size, const char *fmt, ...)
{
    va_list args;
    int n;

    va_start(args, fmt);
    n = vsnprintf(buf, size, fmt, args);
    va_end(args);
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* ---- File helpers. ------------------------------------------------------------ */

static int
rm_rf_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type == FTW_DP) {
        return rmdir(path) ? -1 : 0;
    }
    return unlink(path) ? -1 : 0;
}

static int
rm_rf(const char *path)
{
    struct stat st;

    if (lstat(path, &st)) {
        return errno == ENOENT ? 0 : -errno;
    }
    if (!S_ISDIR(st.st_mode)) {
        return unlink(path) ? -errno : 0;
    }
    return nftw(path, rm_rf_cb, 16, FTW_DEPTH | FTW_PHYS) ? -errno : 0;
}

/* Writes 'text' to 'path' through a temporary file and rename(), so that readers
 * never see a partial file and the watch does not take it for an outside write. */
static int
write_atomic_len(const char *path, const void *text, size_t len)
{
    char tmp[PATH_MAX];
    int error = 0;
    int fd;

    if (pathf(tmp, sizeof tmp, "%s.tmp~", path) >= (int)sizeof tmp) {
        return -ENAMETOOLONG;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        return -errno;
    }
    if (write(fd, text, len) != (ssize_t)len) {
        error = errno ? -errno : -EIO;
    }
    if (close(fd) && !error) {
        error = -errno;
    }
    if (!error && rename(tmp, path)) {
        error = -errno;
    }
    if (error) {
        unlink(tmp);
    }
    return error;
}

static int
write_atomic(const char *path, const char *text)
{
    return write_atomic_len(path, text, strlen(text));
}

static int OVNIC_PRINTF(3, 4)
    write_filef(const char *dir, const char *name, const char *fmt, ...)
{
    char path[PATH_MAX];
    char text[512];
    va_list args;

    if (pathf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) {
        return -ENAMETOOLONG;
    }
    va_start(args, fmt);
    vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    return write_atomic(path, text);
}

static int
symlink_replace(const char *target, const char *path)
{
    unlink(path);
    return symlink(target, path) ? -errno : 0;
}

/* ---- Addresses and names. ----------------------------------------------------- */

static int
parse_pci_addr(const char *s, unsigned int *domain, unsigned int *bus,
               unsigned int *devfn)
{
    unsigned int d, b, dev, fn;
    int n = 0;

    if (sscanf(s, "%4x:%2x:%2x.%1u%n", &d, &b, &dev, &fn, &n) != 4 || s[n] != '\0' ||
        n != 12 || dev > 31 || fn > 7) {
        return -EINVAL;
    }
    *domain = d;
    *bus = b;
    *devfn = (dev << 3) | fn;
    return 0;
}

static void
vf_addr(const struct nicsim_sysfs *s, unsigned int vf, char buf[16])
{
    /* First VF offset 2, stride 1, as on ConnectX. */
    unsigned int rid = (s->pf_bus << 8) + s->pf_devfn + 2 + vf;

    pathf(buf, 16, "%04x:%02x:%02x.%u", s->pf_domain, (rid >> 8) & 0xff,
          (rid >> 3) & 0x1f, rid & 7);
}

const char *
nicsim_sysfs_vf_ifname(const struct nicsim_sysfs *s, unsigned int vf, char buf[16])
{
    pathf(buf, 16, "%sv%u", s->pf_ifname, vf);
    return buf;
}

void
nicsim_sysfs_vf_mac(const struct nicsim_sysfs *s, unsigned int vf, uint8_t mac[6])
{
    mac[0] = 0x02;
    memcpy(mac + 1, s->pf_mac + 1, 4);
    mac[5] = (uint8_t)(0x10 + vf);
}

static void
mac_format(const uint8_t mac[6], char buf[18])
{
    pathf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
          mac[4], mac[5]);
}

static bool
ifname_is_valid(const char *name, size_t max)
{
    size_t len = strlen(name);
    size_t i;

    if (len == 0 || len > max) {
        return false;
    }
    for (i = 0; i < len; i++) {
        if (!isalnum((unsigned char)name[i]) && name[i] != '-' && name[i] != '_') {
            return false;
        }
    }
    return true;
}

/* ---- The tree. ---------------------------------------------------------------- */

/* Writes one netdev directory 'DEVDIR/net/IFNAME'. */
static int
netdev_dir_create(const char *dev_dir, const char *ifname, const uint8_t mac[6],
                  const char *port_name, const char *dev_link_target)
{
    char dir[PATH_MAX];
    char link[PATH_MAX];
    char macs[18];
    int error;

    pathf(dir, sizeof dir, "%s/net/%s", dev_dir, ifname);
    error = util_mkdir_p(dir);
    if (error) {
        return error;
    }
    mac_format(mac, macs);
    error = write_filef(dir, "address", "%s\n", macs);
    if (!error) {
        error = write_filef(dir, "phys_port_name", "%s\n", port_name);
    }
    if (!error) {
        pathf(link, sizeof link, "%s/device", dir);
        error = symlink_replace(dev_link_target, link);
    }
    return error;
}

/* Links ROOT/bus/pci/devices/ADDR, the driver's ADDR, and ROOT/class/net/IFNAME. */
static int
device_links_create(const struct nicsim_sysfs *s, const char *addr, const char *ifname)
{
    char path[PATH_MAX];
    char target[PATH_MAX];
    int error;

    pathf(path, sizeof path, "%s/bus/pci/devices/%s", s->root, addr);
    pathf(target, sizeof target, "../../../" PCI_PARENT "/%s", addr);
    error = symlink_replace(target, path);
    if (!error) {
        pathf(path, sizeof path, "%s/bus/pci/drivers/" DRIVER_NAME "/%s", s->root, addr);
        pathf(target, sizeof target, "../../../../" PCI_PARENT "/%s", addr);
        error = symlink_replace(target, path);
    }
    if (!error) {
        pathf(path, sizeof path, "%s/class/net/%s", s->root, ifname);
        pathf(target, sizeof target, "../../" PCI_PARENT "/%s/net/%s", addr, ifname);
        error = symlink_replace(target, path);
    }
    return error;
}

static void
device_links_remove(const struct nicsim_sysfs *s, const char *addr, const char *ifname)
{
    char path[PATH_MAX];

    pathf(path, sizeof path, "%s/bus/pci/devices/%s", s->root, addr);
    unlink(path);
    pathf(path, sizeof path, "%s/bus/pci/drivers/" DRIVER_NAME "/%s", s->root, addr);
    unlink(path);
    pathf(path, sizeof path, "%s/class/net/%s", s->root, ifname);
    unlink(path);
}

static void
vf_tree_remove(struct nicsim_sysfs *s, unsigned int vf)
{
    char addr[16];
    char ifname[16];
    char path[PATH_MAX];

    vf_addr(s, vf, addr);
    nicsim_sysfs_vf_ifname(s, vf, ifname);
    pathf(path, sizeof path, "%s/virtfn%u", s->pf_dir, vf);
    unlink(path);
    device_links_remove(s, addr, ifname);
    pathf(path, sizeof path, "%s/" PCI_PARENT "/%s", s->root, addr);
    rm_rf(path);
}

static int
vf_tree_create(struct nicsim_sysfs *s, unsigned int vf)
{
    char addr[16];
    char ifname[16];
    char dir[PATH_MAX];
    char path[PATH_MAX];
    char target[PATH_MAX];
    char port_name[32];
    uint8_t mac[6];
    int error;

    vf_addr(s, vf, addr);
    nicsim_sysfs_vf_ifname(s, vf, ifname);
    nicsim_sysfs_vf_mac(s, vf, mac);
    pathf(dir, sizeof dir, "%s/" PCI_PARENT "/%s", s->root, addr);
    error = util_mkdir_p(dir);
    if (!error) {
        error = write_filef(dir, "vendor", "0x15b3\n");
    }
    if (!error) {
        error = write_filef(dir, "device", "0x101e\n");
    }
    if (!error) {
        pathf(path, sizeof path, "%s/physfn", dir);
        pathf(target, sizeof target, "../%s", s->pf_addr);
        error = symlink_replace(target, path);
    }
    if (!error) {
        pathf(path, sizeof path, "%s/driver", dir);
        error = symlink_replace("../../../bus/pci/drivers/" DRIVER_NAME, path);
    }
    if (!error) {
        pathf(port_name, sizeof port_name, "pf0vf%u", vf);
        pathf(target, sizeof target, "../../../%s", addr);
        error = netdev_dir_create(dir, ifname, mac, port_name, target);
    }
    if (!error) {
        error = device_links_create(s, addr, ifname);
    }
    if (!error) {
        pathf(path, sizeof path, "%s/virtfn%u", s->pf_dir, vf);
        pathf(target, sizeof target, "../%s", addr);
        error = symlink_replace(target, path);
    }
    if (error) {
        vf_tree_remove(s, vf);
    }
    return error;
}

/* Appends keyword 'kw' with value 'value' to 'buf' at '*off'. */
static void
vpd_keyword_put(uint8_t *buf, size_t *off, const char *kw, const char *value)
{
    size_t len = strlen(value);

    buf[(*off)++] = (uint8_t)kw[0];
    buf[(*off)++] = (uint8_t)kw[1];
    buf[(*off)++] = (uint8_t)len;
    memcpy(buf + *off, value, len);
    *off += len;
}

/* The PF's PCI VPD: Identifier String, VPD-R (PN, EC, SN, RV checksum), End. */
static int
vpd_create(const struct nicsim_sysfs *s)
{
    static const char product[] = "ovnic simulated BlueField NIC";
    uint8_t buf[256];
    char serial[NICSIM_SYSFS_SERIAL_LEN];
    char path[PATH_MAX];
    size_t off = 0, r_start, i;
    uint8_t sum = 0;

    nicsim_sysfs_serial(s, serial);
    buf[off++] = 0x82;
    buf[off++] = (uint8_t)(sizeof product - 1);
    buf[off++] = 0;
    memcpy(buf + off, product, sizeof product - 1);
    off += sizeof product - 1;
    buf[off++] = 0x90;
    r_start = off;
    off += 2;
    vpd_keyword_put(buf, &off, "PN", "OVNIC-SIM-1");
    vpd_keyword_put(buf, &off, "EC", "A1");
    vpd_keyword_put(buf, &off, "SN", serial);
    /* RV: one checksum byte making the sum of every byte up to it zero. */
    buf[off++] = 'R';
    buf[off++] = 'V';
    buf[off++] = 1;
    buf[r_start] = (uint8_t)(off + 1 - (r_start + 2));
    buf[r_start + 1] = 0;
    for (i = 0; i < off; i++) {
        sum = (uint8_t)(sum + buf[i]);
    }
    buf[off++] = (uint8_t)(0x100 - sum);
    buf[off++] = 0x78;
    pathf(path, sizeof path, "%s/vpd", s->pf_dir);
    return write_atomic_len(path, buf, off);
}

void
nicsim_sysfs_serial(const struct nicsim_sysfs *s, char buf[NICSIM_SYSFS_SERIAL_LEN])
{
    pathf(buf, NICSIM_SYSFS_SERIAL_LEN, "SIM%02X%02X%02X%02X", s->pf_mac[2], s->pf_mac[3],
          s->pf_mac[4], s->pf_mac[5]);
}

static int
pf_tree_create(struct nicsim_sysfs *s)
{
    char path[PATH_MAX];
    char target[PATH_MAX];
    char macs[18];
    int error;

    pathf(path, sizeof path, "%s/bus/pci/drivers/" DRIVER_NAME, s->root);
    error = util_mkdir_p(path);
    if (!error) {
        pathf(path, sizeof path, "%s/bus/pci/devices", s->root);
        error = util_mkdir_p(path);
    }
    if (!error) {
        pathf(path, sizeof path, "%s/class/net", s->root);
        error = util_mkdir_p(path);
    }
    if (!error) {
        error = util_mkdir_p(s->pf_dir);
    }
    if (error) {
        return error;
    }
    mac_format(s->pf_mac, macs);
    if ((error = write_filef(s->pf_dir, "vendor", "0x15b3\n")) ||
        (error = write_filef(s->pf_dir, "device", "0xa2dc\n")) ||
        (error = write_filef(s->pf_dir, "class", "0x020000\n")) ||
        (error = vpd_create(s)) ||
        (error = write_filef(s->pf_dir, "sriov_totalvfs", "%u\n", s->total_vfs)) ||
        (error = write_filef(s->pf_dir, "sriov_numvfs", "0\n")) ||
        (error = write_filef(s->pf_dir, "sriov_status", "0 0 ok\n"))) {
        return error;
    }
    pathf(path, sizeof path, "%s/driver", s->pf_dir);
    error = symlink_replace("../../../bus/pci/drivers/" DRIVER_NAME, path);
    if (error) {
        return error;
    }
    pathf(target, sizeof target, "../../../%s", s->pf_addr);
    error = netdev_dir_create(s->pf_dir, s->pf_ifname, s->pf_mac, s->port_name, target);
    if (error) {
        return error;
    }
    pathf(path, sizeof path, "%s/net/%s", s->pf_dir, s->pf_ifname);
    error =
        write_filef(path, "phys_switch_id", "%02x%02x%02x%02x%02x%02x\n", s->pf_mac[0],
                    s->pf_mac[1], s->pf_mac[2], s->pf_mac[3], s->pf_mac[4], s->pf_mac[5]);
    if (error) {
        return error;
    }
    pathf(path, sizeof path, "%s/net/%s/smart_nic/pf", s->pf_dir, s->pf_ifname);
    error = util_mkdir_p(path);
    if (!error) {
        error = write_filef(path, "config",
                            "MAC        : %s\n"
                            "MaxTxRate  : 0\n"
                            "State      : Follow\n",
                            macs);
    }
    if (!error) {
        error = device_links_create(s, s->pf_addr, s->pf_ifname);
    }
    return error;
}

static void
pf_tree_remove(struct nicsim_sysfs *s)
{
    device_links_remove(s, s->pf_addr, s->pf_ifname);
    rm_rf(s->pf_dir);
}

/* ---- VF count. ---------------------------------------------------------------- */

static void
vfs_disable(struct nicsim_sysfs *s, unsigned int from, unsigned int to)
{
    while (to > from) {
        to--;
        vf_tree_remove(s, to);
        s->ops->vf_del(s->aux, to);
    }
}

static int
vfs_enable(struct nicsim_sysfs *s, unsigned int n, struct ovnic_err *err)
{
    unsigned int vf;
    int error;

    for (vf = 0; vf < n; vf++) {
        char ifname[16];
        uint8_t mac[6];

        nicsim_sysfs_vf_ifname(s, vf, ifname);
        nicsim_sysfs_vf_mac(s, vf, mac);
        error = s->ops->vf_add(s->aux, vf, ifname, mac);
        if (error) {
            ovnic_err_set(err, error, "sriov_numvfs", "cannot create VF", "VF %u (%s)",
                          vf, ifname);
            goto err_undo;
        }
        error = vf_tree_create(s, vf);
        if (error) {
            s->ops->vf_del(s->aux, vf);
            ovnic_err_set(err, error, "sriov_numvfs", "cannot create VF sysfs entries",
                          "VF %u", vf);
            goto err_undo;
        }
    }
    return 0;

err_undo:
    vfs_disable(s, 0, vf);
    return error;
}

static void
publish(struct nicsim_sysfs *s, int error, const char *text)
{
    char line[256];
    size_t i;

    s->seq++;
    pathf(line, sizeof line, "%" PRIu64 " %d %s\n", s->seq, error, text);
    for (i = 0; line[i]; i++) {
        if (line[i] == '\n' && line[i + 1]) {
            line[i] = ' ';
        }
    }
    if (write_filef(s->pf_dir, "sriov_numvfs", "%u\n", s->numvfs) ||
        write_filef(s->pf_dir, "sriov_status", "%s", line)) {
        OLOG_WARN("%s: cannot publish the SR-IOV state", s->pf_dir);
    }
}

static int
numvfs_apply(struct nicsim_sysfs *s, unsigned int n, struct ovnic_err *err)
{
    int error;

    if (n == s->numvfs) {
        return 0;
    }
    if (n > s->total_vfs) {
        return ovnic_err_set(err, -ERANGE, "sriov_numvfs", "exceeds sriov_totalvfs",
                             "%u > %u", n, s->total_vfs);
    }
    if (n == 0) {
        vfs_disable(s, 0, s->numvfs);
        OLOG_INFO("%s: removed %u VFs", s->pf_addr, s->numvfs);
        s->numvfs = 0;
        return 0;
    }
    if (s->numvfs) {
        return ovnic_err_set(err, -EBUSY, "sriov_numvfs", "VFs already enabled",
                             "%u enabled, write 0 first", s->numvfs);
    }
    error = vfs_enable(s, n, err);
    if (!error) {
        s->numvfs = n;
        OLOG_INFO("%s: created %u VFs", s->pf_addr, n);
    }
    return error;
}

int
nicsim_sysfs_numvfs_set(struct nicsim_sysfs *s, unsigned int n, struct ovnic_err *err)
{
    struct ovnic_err local;
    char text[256];
    int error;

    ovnic_err_clear(&local);
    error = numvfs_apply(s, n, &local);
    if (error) {
        ovnic_err_format(&local, text, sizeof text);
        if (err) {
            *err = local;
        }
    } else {
        pathf(text, sizeof text, "ok: %u VFs", s->numvfs);
    }
    publish(s, error, text);
    return error;
}

/* Parses the text of a write as the kernel's kstrtouint() would (decimal, an
 * optional trailing newline). */
static int
numvfs_parse(const char *text, unsigned int *n)
{
    unsigned long v = 0;
    size_t i = 0;

    if (!isdigit((unsigned char)text[0])) {
        return -EINVAL;
    }
    for (; isdigit((unsigned char)text[i]); i++) {
        v = v * 10 + (unsigned long)(text[i] - '0');
        if (v > UINT16_MAX) {
            return -ERANGE;
        }
    }
    if (text[i] == '\n') {
        i++;
    }
    if (text[i] != '\0') {
        return -EINVAL;
    }
    *n = (unsigned int)v;
    return 0;
}

static int
numvfs_file_process(struct nicsim_sysfs *s)
{
    static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(30, 10);
    char path[PATH_MAX];
    char text[64];
    unsigned int n;
    ssize_t len;
    int error;
    int fd;

    pathf(path, sizeof path, "%s/sriov_numvfs", s->pf_dir);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        publish(s, -errno, "cannot read sriov_numvfs");
        return 0;
    }
    len = read(fd, text, sizeof text - 1);
    close(fd);
    if (len < 0) {
        publish(s, -EIO, "cannot read sriov_numvfs");
        return 0;
    }
    text[len] = '\0';
    error = numvfs_parse(text, &n);
    if (error) {
        OLOG_WARN_RL(&rl, "%s: invalid write of sriov_numvfs", s->pf_addr);
        publish(s, error, "sriov_numvfs: not a decimal number");
        return 0;
    }
    error = nicsim_sysfs_numvfs_set(s, n, NULL);
    if (error) {
        OLOG_WARN_RL(&rl, "%s: write of sriov_numvfs %u refused: %s", s->pf_addr, n,
                     strerror(-error));
    }
    return 0;
}

int
nicsim_sysfs_run(struct nicsim_sysfs *s)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    int processed = 0;

    for (;;) {
        ssize_t len = read(s->inotify_fd, buf, sizeof buf);
        char *p;

        if (len < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                return processed;
            }
            return -errno;
        }
        for (p = buf; p < buf + len;) {
            const struct inotify_event *ev = (const struct inotify_event *)(void *)p;

            if (ev->len && !strcmp(ev->name, "sriov_numvfs")) {
                numvfs_file_process(s);
                processed++;
            }
            p += sizeof *ev + ev->len;
        }
    }
}

/* ---- Life cycle. -------------------------------------------------------------- */

int
nicsim_sysfs_create(const struct nicsim_sysfs_config *cfg,
                    const struct nicsim_sysfs_ops *ops, void *aux,
                    struct nicsim_sysfs **sysfsp, struct ovnic_err *err)
{
    const char *addr = cfg->pci_addr ? cfg->pci_addr : "0000:03:00.0";
    const char *pf_ifname = cfg->pf_ifname ? cfg->pf_ifname : "pf0";
    const char *port_name = cfg->port_name ? cfg->port_name : "p0";
    struct nicsim_sysfs *s;
    unsigned int vf;
    int error;

    if (!cfg->root || !cfg->root[0] || strlen(cfg->root) > PATH_MAX - 128) {
        return ovnic_err_set(err, -EINVAL, "sysfs", "bad root directory", NULL);
    }
    if (!ifname_is_valid(pf_ifname, 12)) {
        return ovnic_err_set(err, -EINVAL, "sysfs", "bad PF netdev name",
                             "'%s': 1 to 12 characters [A-Za-z0-9_-]", pf_ifname);
    }
    if (!ifname_is_valid(port_name, 15)) {
        return ovnic_err_set(err, -EINVAL, "sysfs", "bad phys_port_name", "'%s'",
                             port_name);
    }
    if (cfg->total_vfs < 1 || cfg->total_vfs > NICSIM_SYSFS_MAX_VFS) {
        return ovnic_err_set(err, -EINVAL, "sysfs", "bad sriov_totalvfs",
                             "%u: must be 1 to %d", cfg->total_vfs, NICSIM_SYSFS_MAX_VFS);
    }

    s = calloc(1, sizeof *s);
    if (!s) {
        return -ENOMEM;
    }
    s->inotify_fd = -1;
    s->ops = ops;
    s->aux = aux;
    s->total_vfs = cfg->total_vfs;
    memcpy(s->pf_mac, cfg->pf_mac, 6);
    pathf(s->pf_ifname, sizeof s->pf_ifname, "%s", pf_ifname);
    pathf(s->port_name, sizeof s->port_name, "%s", port_name);
    if (parse_pci_addr(addr, &s->pf_domain, &s->pf_bus, &s->pf_devfn)) {
        error = ovnic_err_set(err, -EINVAL, "sysfs", "bad PCI address",
                              "'%s': expected DDDD:BB:DD.F", addr);
        goto err_free;
    }
    pathf(s->pf_addr, sizeof s->pf_addr, "%s", addr);
    s->root = strdup(cfg->root);
    if (!s->root ||
        asprintf(&s->pf_dir, "%s/" PCI_PARENT "/%s", s->root, s->pf_addr) < 0) {
        s->pf_dir = NULL;
        error = -ENOMEM;
        goto err_free;
    }

    /* Leftovers of an earlier run (which may have died) go first. */
    for (vf = 0; vf < NICSIM_SYSFS_MAX_VFS; vf++) {
        vf_tree_remove(s, vf);
    }
    pf_tree_remove(s);
    error = pf_tree_create(s);
    if (error) {
        ovnic_err_set(err, error, "sysfs", "cannot create the PF tree", "%s", s->pf_dir);
        goto err_remove;
    }

    s->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (s->inotify_fd < 0 ||
        inotify_add_watch(s->inotify_fd, s->pf_dir, IN_CLOSE_WRITE) < 0) {
        error = -errno;
        ovnic_err_set(err, error, "sysfs", "cannot watch the PF tree", "%s", s->pf_dir);
        goto err_remove;
    }
    OLOG_INFO("%s: PF %s (%s), %u VFs possible, tree at %s", s->pf_addr, s->pf_ifname,
              s->port_name, s->total_vfs, s->pf_dir);
    *sysfsp = s;
    return 0;

err_remove:
    if (s->inotify_fd >= 0) {
        close(s->inotify_fd);
    }
    pf_tree_remove(s);
err_free:
    free(s->pf_dir);
    free(s->root);
    free(s);
    return error;
}

void
nicsim_sysfs_destroy(struct nicsim_sysfs *s)
{
    if (!s) {
        return;
    }
    vfs_disable(s, 0, s->numvfs);
    s->numvfs = 0;
    close(s->inotify_fd);
    pf_tree_remove(s);
    free(s->pf_dir);
    free(s->root);
    free(s);
}

int
nicsim_sysfs_fd(const struct nicsim_sysfs *s)
{
    return s->inotify_fd;
}

unsigned int
nicsim_sysfs_numvfs(const struct nicsim_sysfs *s)
{
    return s->numvfs;
}

unsigned int
nicsim_sysfs_total_vfs(const struct nicsim_sysfs *s)
{
    return s->total_vfs;
}

const char *
nicsim_sysfs_pf_dir(const struct nicsim_sysfs *s)
{
    return s->pf_dir;
}

uint64_t
nicsim_sysfs_seq(const struct nicsim_sysfs *s)
{
    return s->seq;
}
