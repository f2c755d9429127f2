/* Unit tests of host/sriov.c: PF discovery, the VF count (the 0-first rule of the
 * kernel, the simulated NIC's published outcome), virtfn mapping, and binding a VF
 * to vfio-pci.  Runs on a fake sysfs tree in a temporary directory, and on the tree
 * ovnic-nicsim makes; host_sysfs_write() is wrapped (-Wl,--wrap) to play the
 * kernel's part in the writes and to record them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "host/sriov.h"
#include "host/sysfs.h"
#include "shared/util/util.h"
#include "tests/hw-sim/nicsim/sysfs.h"
#include "tests/unit/host/fake_sysfs.h"

#define PF "0000:03:00.0"
#define PFDIR "bus/pci/devices/" PF

/* ---- The wrapped write: the kernel's side. ------------------------------------- */

enum kernel_mode { KERNEL_REAL, KERNEL_SIM };

static struct {
    const char *root;
    enum kernel_mode mode;
    char writes[16][128]; /* "REL=TEXT" of each write, relative to root. */
    int n_writes;
    int fail_on;       /* Index of the write that fails (-1: none)... */
    int fail_error;    /* ... with this error. */
    int sim_error;     /* KERNEL_SIM: the errno published for the next write. */
    bool vfio_refuses; /* vfio-pci does not take the device on probe. */
    bool sim_never;    /* KERNEL_SIM: never publishes (timeout). */
} k;

int __real_host_sysfs_write(const char *path, const char *text);
int __wrap_host_sysfs_write(const char *path, const char *text);

static const char *
rel_of(const char *path)
{
    size_t len = strlen(k.root);

    return !strncmp(path, k.root, len) && path[len] == '/' ? path + len + 1 : path;
}

static bool
ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);

    return a >= b && !strcmp(s + a - b, suffix);
}

/* The VF address of a path ".../bus/pci/devices/ADDR/..." */
static void
addr_of(const char *rel, char addr[16])
{
    const char *p = strstr(rel, "devices/");

    snprintf(addr, 16, "%.12s", p ? p + 8 : "");
}

int
__wrap_host_sysfs_write(const char *path, const char *text)
{
    const char *rel = rel_of(path);
    int i = k.n_writes;

    if (k.n_writes < (int)ARRAY_SIZE(k.writes)) {
        snprintf(k.writes[k.n_writes++], sizeof k.writes[0], "%s=%s", rel, text);
    }
    if (i == k.fail_on) {
        return k.fail_error;
    }
    if (!host_sysfs_exists(path)) {
        return -ENOENT;
    }
    if (ends_with(rel, "/sriov_numvfs")) {
        char status_rel[256];
        unsigned long cur = strtoul(fake_read(k.root, rel), NULL, 10);
        unsigned long n = strtoul(text, NULL, 10);

        snprintf(status_rel, sizeof status_rel, "%.*s/sriov_status",
                 (int)(strlen(rel) - strlen("/sriov_numvfs")), rel);
        if (k.mode == KERNEL_REAL) {
            if (cur && n) {
                return -EBUSY;
            }
            fake_writef(k.root, rel, "%lu\n", n);
        } else if (!k.sim_never) {
            unsigned long long seq = strtoull(fake_read(k.root, status_rel), NULL, 10);

            if (!k.sim_error && cur && n) {
                fake_writef(k.root, status_rel, "%llu -16 VFs already enabled\n",
                            seq + 1);
            } else if (k.sim_error) {
                fake_writef(k.root, status_rel, "%llu %d refused\n", seq + 1,
                            k.sim_error);
            } else {
                fake_writef(k.root, rel, "%lu\n", n);
                fake_writef(k.root, status_rel, "%llu 0 ok: %lu VFs\n", seq + 1, n);
            }
        }
        return 0;
    }
    if (ends_with(rel, "/driver_override")) {
        fake_writef(k.root, rel, "%s", strcmp(text, "\n") ? text : "(null)\n");
        return 0;
    }
    if (ends_with(rel, "/driver/unbind")) {
        char link[256];
        char addr[16];

        addr_of(rel, addr);
        snprintf(link, sizeof link, "%s/bus/pci/devices/%s/driver", k.root, addr);
        unlink(link);
        return 0;
    }
    if (ends_with(rel, "drivers_probe")) {
        char link_rel[256], override_rel[256], target[256], drv_path[512];
        char *override;

        snprintf(link_rel, sizeof link_rel, "bus/pci/devices/%s/driver", text);
        snprintf(override_rel, sizeof override_rel, "bus/pci/devices/%s/driver_override",
                 text);
        override = fake_read(k.root, override_rel);
        if (!override || !strcmp(override, "(null)\n")) {
            snprintf(target, sizeof target, "../../drivers/mlx5_core");
        } else {
            if (k.vfio_refuses) {
                return -ENODEV;
            }
            snprintf(target, sizeof target, "../../drivers/%s", override);
        }
        snprintf(drv_path, sizeof drv_path, "%s/bus/pci/drivers/%s", k.root,
                 target + strlen("../../drivers/"));
        if (!host_sysfs_exists(drv_path)) {
            return -ENODEV;
        }
        fake_symlink(k.root, link_rel, target);
        return 0;
    }
    return __real_host_sysfs_write(path, text);
}

/* ---- Fixture. ------------------------------------------------------------------ */

static int
setup(void **state)
{
    char *root = fake_tmpdir();

    memset(&k, 0, sizeof k);
    k.root = root;
    k.fail_on = -1;
    *state = root;
    return 0;
}

static int
teardown(void **state)
{
    fake_rm_rf(*state);
    free(*state);
    return 0;
}

/* ---- Discovery. ---------------------------------------------------------------- */

static void
test_pf_list(void **state)
{
    const char *root = *state;
    struct sriov_pf *pfs;
    struct ovnic_err err;
    size_t n;

    fake_pf(root, "0000:03:00.0", "p0", 8, 2);
    fake_pf(root, "0000:81:00.0", "p1", 4, 0);
    /* Not NIC PFs: an NVMe device with SR-IOV, a NIC without SR-IOV, junk. */
    fake_device(root, "0000:05:00.0", 0x010802, "nvme");
    fake_writef(root, "bus/pci/devices/0000:05:00.0/sriov_totalvfs", "16\n");
    fake_device(root, "0000:06:00.0", 0x020000, "e1000e");
    fake_netdev(root, "0000:06:00.0", "eno1", "00:11:22:33:44:55");
    fake_writef(root, "bus/pci/devices/not-an-address/sriov_totalvfs", "1\n");

    ovnic_err_clear(&err);
    assert_int_equal(sriov_pf_list(root, &pfs, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(pfs[0].pci_addr, "0000:03:00.0");
    assert_string_equal(pfs[0].ifname, "p0");
    assert_string_equal(pfs[0].mac, "0c:42:a1:00:00:01");
    assert_int_equal(pfs[0].vendor, 0x15b3);
    assert_int_equal(pfs[0].device, 0x101d);
    assert_int_equal(pfs[0].total_vfs, 8);
    assert_int_equal(pfs[0].num_vfs, 2);
    assert_string_equal(pfs[0].driver, "mlx5_core");
    assert_string_equal(pfs[0].serial, ""); /* No vpd file. */
    assert_string_equal(pfs[1].pci_addr, "0000:81:00.0");
    free(pfs);
}

static void
test_pf_list_no_tree(void **state)
{
    struct sriov_pf *pfs = NULL;
    struct ovnic_err err;
    size_t n = 7;
    char path[512];

    snprintf(path, sizeof path, "%s/nothing", (const char *)*state);
    ovnic_err_clear(&err);
    assert_int_equal(sriov_pf_list(path, &pfs, &n, &err), -ENOENT);
    assert_true(ovnic_err_is_set(&err));
    assert_null(pfs);
    assert_int_equal(n, 7);
}

static void
test_pf_find(void **state)
{
    const char *root = *state;
    struct sriov_pf pf;
    struct ovnic_err err;

    ovnic_err_clear(&err);
    assert_int_equal(sriov_pf_find(root, NULL, &pf, &err), -ENOENT);

    fake_pf(root, "0000:03:00.0", "p0", 8, 0);
    assert_int_equal(sriov_pf_find(root, NULL, &pf, NULL), 0);
    assert_string_equal(pf.ifname, "p0");

    fake_pf(root, "0000:81:00.0", "p1", 4, 0);
    ovnic_err_clear(&err);
    assert_int_equal(sriov_pf_find(root, NULL, &pf, &err), -EEXIST);
    assert_non_null(strstr(err.detail, "0000:03:00.0 (p0), 0000:81:00.0 (p1)"));
    assert_int_equal(sriov_pf_find(root, "p1", &pf, NULL), 0);
    assert_string_equal(pf.pci_addr, "0000:81:00.0");
    assert_int_equal(sriov_pf_find(root, "0000:03:00.0", &pf, NULL), 0);
    assert_string_equal(pf.ifname, "p0");
    ovnic_err_clear(&err);
    assert_int_equal(sriov_pf_find(root, "p9", &pf, &err), -ENODEV);
    assert_int_equal(sriov_pf_find(root, "0000:09:00.0", &pf, NULL), -ENODEV);
    assert_int_equal(sriov_pf_get(root, "0000:3:00.0", &pf, NULL), -EINVAL);
    assert_int_equal(sriov_pf_get(root, "0000:03:00.8", &pf, NULL), -EINVAL);
}

static void
test_pf_serial_from_vpd(void **state)
{
    const char *root = *state;
    static const uint8_t vpd[] = {
        0x82, 0x05, 0x00, 'B', 'F', '-',  '3', ' ',      /* ID string, padded. */
        0x90, 0x0e, 0x00, 'P', 'N', 0x02, 'X', '1',      /* VPD-R: PN "X1" */
        'S',  'N',  0x06, 'M', 'T', '2',  '3', '4', '5', /* SN "MT2345" */
        0x78,
    };
    struct sriov_pf pf;

    fake_pf(root, "0000:03:00.0", "p0", 8, 0);
    fake_write(root, PFDIR "/vpd", vpd, sizeof vpd);
    assert_int_equal(sriov_pf_get(root, PF, &pf, NULL), 0);
    assert_string_equal(pf.serial, "MT2345");
    assert_string_equal(pf.product, "BF-3");

    /* A damaged VPD leaves the serial number unknown and the PF usable. */
    fake_write(root, PFDIR "/vpd", vpd, 12);
    assert_int_equal(sriov_pf_get(root, PF, &pf, NULL), 0);
    assert_string_equal(pf.serial, "");
}

/* The tree that ovnic-nicsim itself makes. */
static int
sim_vf_add(void *aux, unsigned int vf, const char *ifname, const uint8_t mac[6])
{
    (void)aux;
    (void)vf;
    (void)ifname;
    (void)mac;
    return 0;
}

static void
sim_vf_del(void *aux, unsigned int vf)
{
    (void)aux;
    (void)vf;
}

static void
test_nicsim_tree(void **state)
{
    static const struct nicsim_sysfs_ops ops = {sim_vf_add, sim_vf_del};
    struct nicsim_sysfs_config cfg = {
        .root = *state,
        .pf_mac = {0x0c, 0x42, 0xa1, 0x00, 0x01, 0x01},
        .total_vfs = 4,
    };
    char serial[NICSIM_SYSFS_SERIAL_LEN];
    struct nicsim_sysfs *sim;
    struct sriov_vf vf;
    struct sriov_pf pf;

    assert_int_equal(nicsim_sysfs_create(&cfg, &ops, NULL, &sim, NULL), 0);
    assert_int_equal(nicsim_sysfs_numvfs_set(sim, 3, NULL), 0);
    assert_int_equal(sriov_pf_find(*state, NULL, &pf, NULL), 0);
    assert_string_equal(pf.pci_addr, "0000:03:00.0");
    assert_string_equal(pf.ifname, "pf0");
    assert_string_equal(pf.mac, "0c:42:a1:00:01:01");
    assert_int_equal(pf.vendor, 0x15b3);
    assert_int_equal(pf.device, 0xa2dc);
    assert_int_equal(pf.total_vfs, 4);
    assert_int_equal(pf.num_vfs, 3);
    nicsim_sysfs_serial(sim, serial);
    assert_string_equal(pf.serial, serial);
    assert_string_equal(pf.serial, "SIMA1000101");
    assert_string_equal(pf.product, "ovnic simulated BlueField NIC");

    assert_int_equal(sriov_vf_get(*state, &pf, 2, &vf, NULL), 0);
    assert_string_equal(vf.pci_addr, "0000:03:00.4");
    assert_string_equal(vf.ifname, "pf0v2");
    assert_string_equal(vf.mac, "02:42:a1:00:01:12");
    assert_string_equal(vf.driver, "mlx5_core");
    assert_int_equal(sriov_vf_get(*state, &pf, 3, &vf, NULL), -ENOENT);
    nicsim_sysfs_destroy(sim);
}

/* ---- virtfn mapping. ----------------------------------------------------------- */

static void
test_vf_get(void **state)
{
    const char *root = *state;
    struct sriov_pf pf;
    struct sriov_vf vf;
    struct ovnic_err err;

    fake_pf(root, PF, "p0", 8, 3);
    assert_int_equal(sriov_pf_get(root, PF, &pf, NULL), 0);
    assert_int_equal(sriov_vf_get(root, &pf, 1, &vf, NULL), 0);
    assert_int_equal(vf.vf, 1);
    assert_string_equal(vf.pci_addr, "0000:03:00.3");
    assert_string_equal(vf.ifname, "p0v1");
    assert_string_equal(vf.mac, "02:00:00:00:00:11");
    assert_string_equal(vf.driver, "mlx5_core");
    assert_string_equal(vf.driver_override, "");

    /* A VF whose netdev is elsewhere (another namespace, or vfio-pci): no net/. */
    fake_rm_rf(strcat(strcpy((char[512]){0}, root), "/bus/pci/devices/0000:03:00.4/net"));
    assert_int_equal(sriov_vf_get(root, &pf, 2, &vf, NULL), 0);
    assert_string_equal(vf.ifname, "");
    assert_string_equal(vf.mac, "");

    ovnic_err_clear(&err);
    assert_int_equal(sriov_vf_get(root, &pf, 3, &vf, &err), -ENOENT);
    assert_non_null(strstr(err.detail, "virtfn3"));

    /* A virtfn link that does not name a PCI device. */
    fake_symlink(root, PFDIR "/virtfn5", "../garbage");
    assert_int_equal(sriov_vf_get(root, &pf, 5, &vf, NULL), -EBADMSG);
}

/* ---- sriov_numvfs. ------------------------------------------------------------- */

static void
test_numvfs_zero_first(void **state)
{
    const char *root = *state;
    struct sriov_pf pf;
    struct ovnic_err err;

    fake_pf(root, PF, "p0", 8, 0);
    assert_int_equal(sriov_pf_get(root, PF, &pf, NULL), 0);

    /* 0 -> 4: one write. */
    assert_int_equal(sriov_numvfs_set(root, &pf, 4, NULL), 0);
    assert_int_equal(k.n_writes, 1);
    assert_string_equal(k.writes[0], PFDIR "/sriov_numvfs=4");
    assert_int_equal(pf.num_vfs, 4);

    /* 4 -> 2: through 0, as the kernel requires. */
    k.n_writes = 0;
    assert_int_equal(sriov_numvfs_set(root, &pf, 2, NULL), 0);
    assert_int_equal(k.n_writes, 2);
    assert_string_equal(k.writes[0], PFDIR "/sriov_numvfs=0");
    assert_string_equal(k.writes[1], PFDIR "/sriov_numvfs=2");
    assert_string_equal(fake_read(root, PFDIR "/sriov_numvfs"), "2\n");

    /* 2 -> 2: nothing written. */
    k.n_writes = 0;
    assert_int_equal(sriov_numvfs_set(root, &pf, 2, NULL), 0);
    assert_int_equal(k.n_writes, 0);

    /* 2 -> 0: one write. */
    assert_int_equal(sriov_numvfs_set(root, &pf, 0, NULL), 0);
    assert_int_equal(k.n_writes, 1);
    assert_string_equal(k.writes[0], PFDIR "/sriov_numvfs=0");

    /* Above sriov_totalvfs: refused without a write. */
    k.n_writes = 0;
    ovnic_err_clear(&err);
    assert_int_equal(sriov_numvfs_set(root, &pf, 9, &err), -ERANGE);
    assert_int_equal(k.n_writes, 0);
    assert_non_null(strstr(err.detail, "9 > 8"));
}

static void
test_numvfs_kernel_errors(void **state)
{
    const char *root = *state;
    struct sriov_pf pf;
    struct ovnic_err err;

    fake_pf(root, PF, "p0", 8, 4);
    assert_int_equal(sriov_pf_get(root, PF, &pf, NULL), 0);

    /* The write of 0 fails: the count is not touched further. */
    k.fail_on = 0;
    k.fail_error = -EPERM;
    ovnic_err_clear(&err);
    assert_int_equal(sriov_numvfs_set(root, &pf, 2, &err), -EPERM);
    assert_int_equal(k.n_writes, 1);
    assert_string_equal(err.object, "sriov_numvfs");
    assert_int_equal(pf.num_vfs, 4);

    /* The write of N fails after 0 went through (the driver cannot make them). */
    k.n_writes = 0;
    k.fail_on = 1;
    k.fail_error = -ENOMEM;
    assert_int_equal(sriov_numvfs_set(root, &pf, 2, NULL), -ENOMEM);
    assert_int_equal(k.n_writes, 2);
    assert_int_equal(pf.num_vfs, 0);

    /* A write that "succeeds" but leaves the count unchanged. */
    k.n_writes = 0;
    k.fail_on = 0;
    k.fail_error = 0;
    fake_writef(root, PFDIR "/sriov_numvfs", "0\n");
    ovnic_err_clear(&err);
    assert_int_equal(sriov_numvfs_set(root, &pf, 3, &err), -EIO);
    assert_string_equal(err.message, "the count did not change");
}

static void
test_numvfs_simulated_nic(void **state)
{
    const char *root = *state;
    struct sriov_pf pf;
    struct ovnic_err err;

    k.mode = KERNEL_SIM;
    fake_pf(root, PF, "p0", 8, 0);
    fake_writef(root, PFDIR "/sriov_status", "7 0 ok\n");
    assert_int_equal(sriov_pf_get(root, PF, &pf, NULL), 0);

    assert_int_equal(sriov_numvfs_set(root, &pf, 4, NULL), 0);
    assert_string_equal(fake_read(root, PFDIR "/sriov_status"), "8 0 ok: 4 VFs\n");
    /* 4 -> 3 through 0: the simulated NIC refuses 4 -> 3 as the kernel does. */
    k.n_writes = 0;
    assert_int_equal(sriov_numvfs_set(root, &pf, 3, NULL), 0);
    assert_int_equal(k.n_writes, 2);
    assert_string_equal(k.writes[0], PFDIR "/sriov_numvfs=0");

    /* A refusal published in sriov_status is the write's error. */
    k.sim_error = -ENOSPC;
    ovnic_err_clear(&err);
    assert_int_equal(sriov_numvfs_set(root, &pf, 0, &err), -ENOSPC);
    assert_string_equal(err.message, "the simulated NIC refused");
    assert_non_null(strstr(err.detail, "refused"));

    /* A damaged sriov_status. */
    fake_writef(root, PFDIR "/sriov_status", "garbage\n");
    assert_int_equal(sriov_numvfs_set(root, &pf, 0, NULL), -EBADMSG);
}

/* ---- Binding to vfio-pci. ------------------------------------------------------ */

static void
vfio_setup(const char *root, struct sriov_pf *pf, struct sriov_vf *vf)
{
    fake_pf(root, PF, "p0", 8, 2);
    fake_writef(root, "bus/pci/drivers/vfio-pci/bind", "%s", "");
    fake_writef(root, "bus/pci/drivers/vfio-pci/unbind", "%s", "");
    assert_int_equal(sriov_pf_get(root, PF, pf, NULL), 0);
    assert_int_equal(sriov_vf_get(root, pf, 1, vf, NULL), 0);
}

static void
test_vf_bind_vfio(void **state)
{
    const char *root = *state;
    struct sriov_pf pf;
    struct sriov_vf vf;

    vfio_setup(root, &pf, &vf);
    assert_int_equal(sriov_vf_bind(root, &vf, "vfio-pci", NULL), 0);
    assert_int_equal(k.n_writes, 3);
    assert_string_equal(k.writes[0],
                        "bus/pci/devices/0000:03:00.3/driver_override=vfio-pci");
    assert_string_equal(k.writes[1], "bus/pci/devices/0000:03:00.3/driver/unbind="
                                     "0000:03:00.3");
    assert_string_equal(k.writes[2], "bus/pci/drivers_probe=0000:03:00.3");
    assert_string_equal(vf.driver, "vfio-pci");
    assert_string_equal(vf.driver_override, "vfio-pci");

    /* Bound already: nothing to do. */
    k.n_writes = 0;
    assert_int_equal(sriov_vf_bind(root, &vf, "vfio-pci", NULL), 0);
    assert_int_equal(k.n_writes, 0);

    /* Back to the default driver (detach). */
    assert_int_equal(sriov_vf_bind(root, &vf, NULL, NULL), 0);
    assert_int_equal(k.n_writes, 3);
    assert_string_equal(k.writes[0], "bus/pci/devices/0000:03:00.3/driver_override=\n");
    assert_string_equal(k.writes[1], "bus/pci/devices/0000:03:00.3/driver/unbind="
                                     "0000:03:00.3");
    assert_string_equal(k.writes[2], "bus/pci/drivers_probe=0000:03:00.3");
    assert_string_equal(vf.driver, "mlx5_core");
    assert_int_equal(sriov_vf_get(root, &pf, 1, &vf, NULL), 0);
    assert_string_equal(vf.driver, "mlx5_core");
}

static void
test_vf_bind_errors(void **state)
{
    const char *root = *state;
    struct sriov_pf pf;
    struct sriov_vf vf;
    struct ovnic_err err;
    char path[512];

    vfio_setup(root, &pf, &vf);

    /* vfio-pci does not take it: back to mlx5_core, override cleared. */
    k.vfio_refuses = true;
    ovnic_err_clear(&err);
    assert_int_equal(sriov_vf_bind(root, &vf, "vfio-pci", &err), -EIO);
    assert_string_equal(err.message, "the driver did not take the VF");
    assert_string_equal(k.writes[0],
                        "bus/pci/devices/0000:03:00.3/driver_override=vfio-pci");
    assert_string_equal(k.writes[3], "bus/pci/devices/0000:03:00.3/driver_override=\n");
    assert_string_equal(k.writes[4], "bus/pci/drivers_probe=0000:03:00.3");
    assert_int_equal(k.n_writes, 5);
    assert_string_equal(vf.driver, "mlx5_core");
    k.vfio_refuses = false;

    /* The unbind fails: the override is cleared again, nothing else changes. */
    k.n_writes = 0;
    k.fail_on = 1;
    k.fail_error = -EACCES;
    ovnic_err_clear(&err);
    assert_int_equal(sriov_vf_bind(root, &vf, "vfio-pci", &err), -EACCES);
    assert_string_equal(err.object, "unbind");
    assert_string_equal(k.writes[2], "bus/pci/devices/0000:03:00.3/driver_override=\n");
    assert_string_equal(vf.driver, "mlx5_core");
    k.fail_on = -1;

    /* An unknown driver, and a kernel without driver_override: nothing written. */
    k.n_writes = 0;
    ovnic_err_clear(&err);
    assert_int_equal(sriov_vf_bind(root, &vf, "nosuch", &err), -ENODEV);
    assert_string_equal(err.message, "driver not loaded (modprobe it first)");
    snprintf(path, sizeof path, "%s/bus/pci/devices/0000:03:00.3/driver_override", root);
    unlink(path);
    ovnic_err_clear(&err);
    assert_int_equal(sriov_vf_bind(root, &vf, "vfio-pci", &err), -EOPNOTSUPP);
    assert_string_equal(err.object, "driver_override");
    assert_int_equal(k.n_writes, 0);

    /* No vfio-pci (as in the simulation): said before anything is written. */
    fake_rm_rf(strcat(strcpy((char[512]){0}, root), "/bus/pci/drivers/vfio-pci"));
    ovnic_err_clear(&err);
    assert_int_equal(sriov_vf_bind_check(root, &vf, "vfio-pci", &err), -ENODEV);
    assert_string_equal(err.object, "vfio-pci");
    assert_int_equal(k.n_writes, 0);
}

static void
test_pci_addr(void **state)
{
    (void)state;
    assert_true(sriov_pci_addr_is_valid("0000:03:00.0"));
    assert_true(sriov_pci_addr_is_valid("abcd:EF:1f.7"));
    assert_false(sriov_pci_addr_is_valid("0000:03:00.8"));
    assert_false(sriov_pci_addr_is_valid("0000:03:00"));
    assert_false(sriov_pci_addr_is_valid("0000:03:00.00"));
    assert_false(sriov_pci_addr_is_valid("0000-03:00.0"));
    assert_false(sriov_pci_addr_is_valid("g000:03:00.0"));
    assert_false(sriov_pci_addr_is_valid(""));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pf_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pf_list_no_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pf_find, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pf_serial_from_vpd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nicsim_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vf_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numvfs_zero_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numvfs_kernel_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numvfs_simulated_nic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vf_bind_vfio, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vf_bind_errors, setup, teardown),
        cmocka_unit_test(test_pci_addr),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
