/* Unit tests of host/: a fake sysfs tree in a temporary directory, laid out as the
 * kernel lays out /sys for SR-IOV PFs and VFs (see host/sriov.h). */
#ifndef OVNIC_TESTS_UNIT_HOST_FAKE_SYSFS_H
#define OVNIC_TESTS_UNIT_HOST_FAKE_SYSFS_H 1

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void OVNIC_UNUSED
fake_mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    size_t i, len = strlen(path);

    memcpy(buf, path, len + 1);
    for (i = 1; i <= len; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];

            buf[i] = '\0';
            if (mkdir(buf, 0755) && errno != EEXIST) {
                fprintf(stderr, "mkdir %s: %s\n", buf, strerror(errno));
                abort();
            }
            buf[i] = c;
        }
    }
}

/* Writes 'len' bytes (or the string, with len (size_t)-1) to ROOT/REL. */
static void OVNIC_UNUSED
fake_write(const char *root, const char *rel, const void *data, size_t len)
{
    char path[PATH_MAX];
    char dir[PATH_MAX];
    char *slash;
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", root, rel);
    snprintf(dir, sizeof dir, "%s", path);
    slash = strrchr(dir, '/');
    *slash = '\0';
    fake_mkdir_p(dir);
    f = fopen(path, "w");
    if (!f) {
        abort();
    }
    if (len == (size_t)-1) {
        len = strlen(data);
    }
    if (len && fwrite(data, 1, len, f) != len) {
        abort();
    }
    fclose(f);
}

static void OVNIC_UNUSED OVNIC_PRINTF(3, 4)
    fake_writef(const char *root, const char *rel, const char *fmt, ...)
{
    char text[512];
    va_list args;

    va_start(args, fmt);
    vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    fake_write(root, rel, text, (size_t)-1);
}

/* ROOT/REL -> TARGET. */
static void OVNIC_UNUSED
fake_symlink(const char *root, const char *rel, const char *target)
{
    char path[PATH_MAX];
    char dir[PATH_MAX];
    char *slash;

    snprintf(path, sizeof path, "%s/%s", root, rel);
    snprintf(dir, sizeof dir, "%s", path);
    slash = strrchr(dir, '/');
    *slash = '\0';
    fake_mkdir_p(dir);
    unlink(path);
    if (symlink(target, path)) {
        abort();
    }
}

static char *OVNIC_UNUSED
fake_read(const char *root, const char *rel)
{
    static char buf[4096];
    char path[PATH_MAX];
    size_t n;
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", root, rel);
    f = fopen(path, "r");
    if (!f) {
        return NULL;
    }
    n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* A PCI device directory ROOT/bus/pci/devices/ADDR with vendor/device/class and,
 * if 'driver' is not NULL, a driver link (and the driver's directory). */
static void OVNIC_UNUSED
fake_device(const char *root, const char *addr, unsigned int cls, const char *driver)
{
    char rel[256];
    char target[256];

    snprintf(rel, sizeof rel, "bus/pci/devices/%s/vendor", addr);
    fake_writef(root, rel, "0x15b3\n");
    snprintf(rel, sizeof rel, "bus/pci/devices/%s/device", addr);
    fake_writef(root, rel, "0x101d\n");
    snprintf(rel, sizeof rel, "bus/pci/devices/%s/class", addr);
    fake_writef(root, rel, "0x%06x\n", cls);
    if (driver) {
        snprintf(rel, sizeof rel, "bus/pci/drivers/%s/bind", driver);
        fake_writef(root, rel, "%s", "");
        snprintf(rel, sizeof rel, "bus/pci/drivers/%s/unbind", driver);
        fake_writef(root, rel, "%s", "");
        snprintf(rel, sizeof rel, "bus/pci/devices/%s/driver", addr);
        snprintf(target, sizeof target, "../../drivers/%s", driver);
        fake_symlink(root, rel, target);
    }
}

/* A netdev IFNAME of device ADDR with MAC. */
static void OVNIC_UNUSED
fake_netdev(const char *root, const char *addr, const char *ifname, const char *mac)
{
    char rel[256];

    snprintf(rel, sizeof rel, "bus/pci/devices/%s/net/%s/address", addr, ifname);
    fake_writef(root, rel, "%s\n", mac);
}

/* A PF at ADDR with netdev IFNAME, TOTAL VFs possible, NUM enabled (VF N at
 * 0000:03:00.(2+N) with netdev IFNAMEvN, driver mlx5_core). */
static void OVNIC_UNUSED
fake_pf(const char *root, const char *addr, const char *ifname, unsigned int total,
        unsigned int num)
{
    char rel[256];
    char target[64];
    char vf_addr[32];
    char vf_ifname[32];
    char mac[18];
    unsigned int i;

    fake_device(root, addr, 0x020000, "mlx5_core");
    fake_netdev(root, addr, ifname, "0c:42:a1:00:00:01");
    snprintf(rel, sizeof rel, "bus/pci/devices/%s/sriov_totalvfs", addr);
    fake_writef(root, rel, "%u\n", total);
    snprintf(rel, sizeof rel, "bus/pci/devices/%s/sriov_numvfs", addr);
    fake_writef(root, rel, "%u\n", num);
    for (i = 0; i < num; i++) {
        snprintf(vf_addr, sizeof vf_addr, "%.11s%u", addr, (2 + i) & 7);
        snprintf(vf_ifname, sizeof vf_ifname, "%.8sv%u", ifname, i);
        snprintf(mac, sizeof mac, "02:00:00:00:00:%02x", (0x10 + i) & 0xff);
        fake_device(root, vf_addr, 0x020000, "mlx5_core");
        fake_netdev(root, vf_addr, vf_ifname, mac);
        snprintf(rel, sizeof rel, "bus/pci/devices/%s/driver_override", vf_addr);
        fake_writef(root, rel, "(null)\n");
        snprintf(rel, sizeof rel, "bus/pci/devices/%s/virtfn%u", addr, i);
        snprintf(target, sizeof target, "../%s", vf_addr);
        fake_symlink(root, rel, target);
    }
    fake_writef(root, "bus/pci/drivers_probe", "%s", "");
}

static int
fake_rm_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void OVNIC_UNUSED
fake_rm_rf(const char *path)
{
    nftw(path, fake_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static char *OVNIC_UNUSED
fake_tmpdir(void)
{
    char *dir = strdup("/tmp/ovnic-host-test.XXXXXX");

    if (!dir || !mkdtemp(dir)) {
        abort();
    }
    return dir;
}

#endif /* OVNIC_TESTS_UNIT_HOST_FAKE_SYSFS_H */
