/* Unit tests for the simulated SR-IOV sysfs tree of ovnic-nicsim: writes of
 * sriov_numvfs create and remove VF entries through the callbacks, bad values are
 * refused and reported, and a failing VF creation is rolled back. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/hw-sim/nicsim/sysfs.h"

struct fake {
    bool present[NICSIM_SYSFS_MAX_VFS];
    char ifname[NICSIM_SYSFS_MAX_VFS][16];
    unsigned int adds;
    unsigned int dels;
    int fail_vf; /* -1: none. */
};

static int
fake_add(void *aux, unsigned int vf, const char *ifname, const uint8_t mac[6])
{
    struct fake *f = aux;

    assert_true(vf < NICSIM_SYSFS_MAX_VFS);
    assert_false(f->present[vf]);
    assert_int_equal(mac[0], 0x02);
    assert_int_equal(mac[5], 0x10 + vf);
    if ((int)vf == f->fail_vf) {
        return -ENOMEM;
    }
    f->present[vf] = true;
    snprintf(f->ifname[vf], sizeof f->ifname[vf], "%s", ifname);
    f->adds++;
    return 0;
}

static void
fake_del(void *aux, unsigned int vf)
{
    struct fake *f = aux;

    assert_true(f->present[vf]);
    f->present[vf] = false;
    f->dels++;
}

static const struct nicsim_sysfs_ops fake_ops = {fake_add, fake_del};

struct ctx {
    char root[64];
    struct fake fake;
    struct nicsim_sysfs *sysfs;
};

static int
setup(void **state)
{
    struct nicsim_sysfs_config cfg = {0};
    struct ctx *ctx = calloc(1, sizeof *ctx);
    static const uint8_t mac[6] = {0x0c, 0x42, 0xa1, 0x01, 0x02, 0x03};

    snprintf(ctx->root, sizeof ctx->root, "/tmp/nicsim-sysfs-XXXXXX");
    assert_non_null(mkdtemp(ctx->root));
    ctx->fake.fail_vf = -1;
    cfg.root = ctx->root;
    cfg.total_vfs = 8;
    memcpy(cfg.pf_mac, mac, 6);
    assert_int_equal(nicsim_sysfs_create(&cfg, &fake_ops, &ctx->fake, &ctx->sysfs, NULL),
                     0);
    *state = ctx;
    return 0;
}

static int
teardown(void **state)
{
    struct ctx *ctx = *state;
    char cmd[128];

    nicsim_sysfs_destroy(ctx->sysfs);
    snprintf(cmd, sizeof cmd, "rm -rf %s", ctx->root);
    assert_int_equal(system(cmd), 0);
    free(ctx);
    return 0;
}

static char *
read_file(const struct ctx *ctx, const char *rel)
{
    static char buf[256];
    char path[PATH_MAX];
    FILE *f;
    size_t n;

    snprintf(path, sizeof path, "%s/%s", ctx->root, rel);
    f = fopen(path, "r");
    if (!f) {
        return NULL;
    }
    n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static bool
exists(const struct ctx *ctx, const char *rel)
{
    char path[PATH_MAX];
    struct stat st;

    snprintf(path, sizeof path, "%s/%s", ctx->root, rel);
    return stat(path, &st) == 0; /* Follows symlinks: they must resolve. */
}

#define PF "devices/pci0000:00/0000:03:00.0"

/* Writes 'text' to sriov_numvfs as a shell would, waits for the watch and runs it. */
static void
write_numvfs(struct ctx *ctx, const char *text)
{
    char path[PATH_MAX];
    struct pollfd pfd;
    FILE *f;

    snprintf(path, sizeof path, "%s/" PF "/sriov_numvfs", ctx->root);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    pfd.fd = nicsim_sysfs_fd(ctx->sysfs);
    pfd.events = POLLIN;
    assert_int_equal(poll(&pfd, 1, 2000), 1);
    assert_true(nicsim_sysfs_run(ctx->sysfs) >= 1);
}

static void
assert_status(struct ctx *ctx, int error)
{
    unsigned long long seq;
    int code;
    char *status = read_file(ctx, PF "/sriov_status");

    assert_non_null(status);
    assert_int_equal(sscanf(status, "%llu %d", &seq, &code), 2);
    assert_int_equal(seq, nicsim_sysfs_seq(ctx->sysfs));
    assert_int_equal(code, error);
}

static void
test_initial_tree(void **state)
{
    struct ctx *ctx = *state;

    assert_string_equal(read_file(ctx, PF "/sriov_totalvfs"), "8\n");
    assert_string_equal(read_file(ctx, PF "/sriov_numvfs"), "0\n");
    assert_string_equal(read_file(ctx, "class/net/pf0/address"), "0c:42:a1:01:02:03\n");
    assert_string_equal(read_file(ctx, "class/net/pf0/phys_port_name"), "p0\n");
    assert_true(exists(ctx, "class/net/pf0/device/sriov_numvfs"));
    assert_true(exists(ctx, "bus/pci/devices/0000:03:00.0/vendor"));
    assert_true(exists(ctx, PF "/driver"));
    assert_string_equal(read_file(ctx, PF "/class"), "0x020000\n");
    assert_true(exists(ctx, PF "/vpd"));
    assert_int_equal((unsigned char)read_file(ctx, PF "/vpd")[0], 0x82);
    assert_non_null(
        strstr(read_file(ctx, "class/net/pf0/smart_nic/pf/config"), "0c:42:a1:01:02:03"));
    assert_false(exists(ctx, PF "/virtfn0"));
}

static void
test_create_and_remove(void **state)
{
    struct ctx *ctx = *state;

    write_numvfs(ctx, "4\n");
    assert_status(ctx, 0);
    assert_int_equal(nicsim_sysfs_numvfs(ctx->sysfs), 4);
    assert_int_equal(ctx->fake.adds, 4);
    assert_string_equal(ctx->fake.ifname[3], "pf0v3");
    assert_string_equal(read_file(ctx, PF "/sriov_numvfs"), "4\n");
    assert_true(exists(ctx, PF "/virtfn0/physfn/sriov_numvfs"));
    assert_true(exists(ctx, PF "/virtfn3/net/pf0v3/address"));
    assert_true(exists(ctx, PF "/virtfn3/driver"));
    assert_string_equal(read_file(ctx, PF "/virtfn2/net/pf0v2/phys_port_name"),
                        "pf0vf2\n");
    assert_string_equal(read_file(ctx, "class/net/pf0v1/address"), "02:42:a1:01:02:11\n");
    assert_true(exists(ctx, "class/net/pf0v1/device/physfn"));
    assert_true(exists(ctx, "bus/pci/devices/0000:03:00.5/physfn"));
    assert_false(exists(ctx, PF "/virtfn4"));

    /* The same value again is accepted and changes nothing. */
    write_numvfs(ctx, "4");
    assert_status(ctx, 0);
    assert_int_equal(ctx->fake.adds, 4);

    write_numvfs(ctx, "0\n");
    assert_status(ctx, 0);
    assert_int_equal(nicsim_sysfs_numvfs(ctx->sysfs), 0);
    assert_int_equal(ctx->fake.dels, 4);
    assert_false(exists(ctx, PF "/virtfn0"));
    assert_false(exists(ctx, "class/net/pf0v0"));
    assert_false(exists(ctx, "bus/pci/devices/0000:03:00.2"));
    assert_string_equal(read_file(ctx, PF "/sriov_numvfs"), "0\n");
}

static void
test_bad_values(void **state)
{
    struct ctx *ctx = *state;

    write_numvfs(ctx, "9\n");
    assert_status(ctx, -ERANGE);
    assert_string_equal(read_file(ctx, PF "/sriov_numvfs"), "0\n");

    write_numvfs(ctx, "two\n");
    assert_status(ctx, -EINVAL);
    write_numvfs(ctx, "-1\n");
    assert_status(ctx, -EINVAL);
    write_numvfs(ctx, "");
    assert_status(ctx, -EINVAL);
    write_numvfs(ctx, "3 4\n");
    assert_status(ctx, -EINVAL);
    write_numvfs(ctx, "99999999999\n");
    assert_status(ctx, -ERANGE);
    assert_int_equal(ctx->fake.adds, 0);

    write_numvfs(ctx, "2\n");
    assert_status(ctx, 0);
    write_numvfs(ctx, "3\n"); /* Must go through 0 first, as on Linux. */
    assert_status(ctx, -EBUSY);
    assert_string_equal(read_file(ctx, PF "/sriov_numvfs"), "2\n");
    assert_int_equal(nicsim_sysfs_numvfs(ctx->sysfs), 2);
}

static void
test_add_failure_rolls_back(void **state)
{
    struct ctx *ctx = *state;
    struct ovnic_err err = {0};
    unsigned int i;

    ctx->fake.fail_vf = 2;
    assert_int_equal(nicsim_sysfs_numvfs_set(ctx->sysfs, 4, &err), -ENOMEM);
    assert_int_equal(err.code, -ENOMEM);
    assert_status(ctx, -ENOMEM);
    assert_int_equal(nicsim_sysfs_numvfs(ctx->sysfs), 0);
    for (i = 0; i < NICSIM_SYSFS_MAX_VFS; i++) {
        assert_false(ctx->fake.present[i]);
    }
    assert_false(exists(ctx, PF "/virtfn0"));
    assert_false(exists(ctx, PF "/virtfn1"));

    ctx->fake.fail_vf = -1;
    assert_int_equal(nicsim_sysfs_numvfs_set(ctx->sysfs, 4, NULL), 0);
    assert_true(exists(ctx, PF "/virtfn3"));
}

static void
test_bad_config(void **state)
{
    struct nicsim_sysfs_config cfg = {0};
    struct nicsim_sysfs *s = NULL;
    struct ovnic_err err = {0};

    (void)state;
    cfg.root = "/tmp/nicsim-sysfs-bad";
    cfg.total_vfs = 0;
    assert_int_equal(nicsim_sysfs_create(&cfg, &fake_ops, NULL, &s, &err), -EINVAL);
    cfg.total_vfs = NICSIM_SYSFS_MAX_VFS + 1;
    assert_int_equal(nicsim_sysfs_create(&cfg, &fake_ops, NULL, &s, &err), -EINVAL);
    cfg.total_vfs = 4;
    cfg.pci_addr = "03:00.0";
    assert_int_equal(nicsim_sysfs_create(&cfg, &fake_ops, NULL, &s, &err), -EINVAL);
    cfg.pci_addr = NULL;
    cfg.pf_ifname = "a-name-far-too-long";
    assert_int_equal(nicsim_sysfs_create(&cfg, &fake_ops, NULL, &s, &err), -EINVAL);
    assert_null(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_initial_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_and_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_failure_rolls_back, setup, teardown),
        cmocka_unit_test(test_bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
