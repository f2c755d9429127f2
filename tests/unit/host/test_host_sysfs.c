/* Unit tests of host/sysfs.c on files in a temporary directory.  write() is wrapped
 * (-Wl,--wrap=write, in this binary only) so that a write can fail as a sysfs
 * attribute's store function makes it fail (-EBUSY from sriov_numvfs, a short
 * write). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/types.h>

#include "host/sysfs.h"
#include "shared/util/util.h"
#include "tests/unit/host/fake_sysfs.h"

static int write_error;  /* errno for the next write(), 0: the real one. */
static bool write_short; /* The next write() writes one byte less. */

ssize_t __real_write(int fd, const void *buf, size_t count);
ssize_t __wrap_write(int fd, const void *buf, size_t count);

ssize_t
__wrap_write(int fd, const void *buf, size_t count)
{
    if (write_error) {
        errno = write_error;
        write_error = 0;
        return -1;
    }
    if (write_short && count > 1) {
        write_short = false;
        return __real_write(fd, buf, count - 1);
    }
    return __real_write(fd, buf, count);
}

static int
setup(void **state)
{
    *state = fake_tmpdir();
    write_error = 0;
    write_short = false;
    return 0;
}

static int
teardown(void **state)
{
    fake_rm_rf(*state);
    free(*state);
    return 0;
}

static const char *
path_of(void **state, const char *rel)
{
    static char path[512];

    snprintf(path, sizeof path, "%s/%s", (const char *)*state, rel);
    return path;
}

static void
test_read(void **state)
{
    char buf[16];
    unsigned long v;

    fake_writef(*state, "a", "mlx5_core\n");
    assert_int_equal(host_sysfs_read(path_of(state, "a"), buf, sizeof buf), 9);
    assert_string_equal(buf, "mlx5_core");
    /* One newline only is removed. */
    fake_writef(*state, "b", "x\n\n");
    assert_int_equal(host_sysfs_read(path_of(state, "b"), buf, sizeof buf), 2);
    assert_string_equal(buf, "x\n");
    /* Does not fit. */
    fake_writef(*state, "c", "0123456789abcdef\n");
    assert_int_equal(host_sysfs_read(path_of(state, "c"), buf, sizeof buf), -EFBIG);
    assert_string_equal(buf, "");
    assert_int_equal(host_sysfs_read(path_of(state, "none"), buf, sizeof buf), -ENOENT);
    assert_int_equal(host_sysfs_read(path_of(state, "a"), buf, 0), -EINVAL);

    fake_writef(*state, "n", "0x15b3\n");
    assert_int_equal(host_sysfs_read_uint(path_of(state, "n"), &v), 0);
    assert_int_equal(v, 0x15b3);
    fake_writef(*state, "n", "8\n");
    assert_int_equal(host_sysfs_read_uint(path_of(state, "n"), &v), 0);
    assert_int_equal(v, 8);
    v = 99;
    fake_writef(*state, "n", "-1\n");
    assert_int_equal(host_sysfs_read_uint(path_of(state, "n"), &v), -EINVAL);
    fake_writef(*state, "n", "8 VFs\n");
    assert_int_equal(host_sysfs_read_uint(path_of(state, "n"), &v), -EINVAL);
    fake_writef(*state, "n", "\n");
    assert_int_equal(host_sysfs_read_uint(path_of(state, "n"), &v), -EINVAL);
    fake_writef(*state, "n", "99999999999999999999999\n");
    assert_int_equal(host_sysfs_read_uint(path_of(state, "n"), &v), -EINVAL);
    assert_int_equal(v, 99);
}

static void
test_read_bin(void **state)
{
    static const uint8_t data[] = {0x82, 0x00, 0x01, 0x00, 0x78};
    uint8_t buf[8];

    fake_write(*state, "vpd", data, sizeof data);
    assert_int_equal(host_sysfs_read_bin(path_of(state, "vpd"), buf, sizeof buf), 5);
    assert_memory_equal(buf, data, 5);
    assert_int_equal(host_sysfs_read_bin(path_of(state, "vpd"), buf, 3), 3);
    assert_int_equal(host_sysfs_read_bin(path_of(state, "none"), buf, 3), -ENOENT);
}

static void
test_write(void **state)
{
    fake_writef(*state, "sriov_numvfs", "10\n");
    /* Truncates, as '>' does: "4" over "10\n" reads "4". */
    assert_int_equal(host_sysfs_write(path_of(state, "sriov_numvfs"), "4"), 0);
    assert_string_equal(fake_read(*state, "sriov_numvfs"), "4");
    /* Never creates. */
    assert_int_equal(host_sysfs_write(path_of(state, "new"), "1"), -ENOENT);
    assert_null(fake_read(*state, "new"));
    /* The store function's error is the result. */
    write_error = EBUSY;
    assert_int_equal(host_sysfs_write(path_of(state, "sriov_numvfs"), "2"), -EBUSY);
    write_short = true;
    assert_int_equal(host_sysfs_write(path_of(state, "sriov_numvfs"), "12"), -EIO);
    /* EINTR is retried. */
    write_error = EINTR;
    assert_int_equal(host_sysfs_write(path_of(state, "sriov_numvfs"), "3"), 0);
    assert_string_equal(fake_read(*state, "sriov_numvfs"), "3");
}

static int
collect_cb(const char *name, void *aux)
{
    strcat(aux, name);
    return 0;
}

static int
collect_until_b_cb(const char *name, void *aux)
{
    strcat(aux, name);
    return !strcmp(name, "b") ? 7 : 0;
}

static void
test_links_and_dirs(void **state)
{
    char buf[16];
    char names[64] = "";
    int n;

    fake_symlink(*state, "dev/driver", "../../bus/pci/drivers/mlx5_core");
    fake_symlink(*state, "dev/virtfn0", "../0000:03:00.2/");
    assert_int_equal(host_sysfs_link_name(path_of(state, "dev/driver"), buf, sizeof buf),
                     0);
    assert_string_equal(buf, "mlx5_core");
    assert_int_equal(host_sysfs_link_name(path_of(state, "dev/virtfn0"), buf, sizeof buf),
                     0);
    assert_string_equal(buf, "0000:03:00.2");
    assert_int_equal(host_sysfs_link_name(path_of(state, "dev/driver"), buf, 4),
                     -ENAMETOOLONG);
    assert_int_equal(host_sysfs_link_name(path_of(state, "dev/none"), buf, sizeof buf),
                     -ENOENT);
    fake_writef(*state, "dev/file", "x");
    assert_int_equal(host_sysfs_link_name(path_of(state, "dev/file"), buf, sizeof buf),
                     -EINVAL);
    assert_true(host_sysfs_exists(path_of(state, "dev/file")));
    assert_false(host_sysfs_exists(path_of(state, "dev/driver"))); /* Dangling. */

    fake_writef(*state, "list/b", "x");
    fake_writef(*state, "list/c", "x");
    fake_writef(*state, "list/a", "x");
    n = host_sysfs_dir_foreach(path_of(state, "list"), collect_cb, names);
    assert_int_equal(n, 0);
    assert_string_equal(names, "abc");
    /* Stops at the first nonzero return. */
    names[0] = '\0';
    n = host_sysfs_dir_foreach(path_of(state, "list"), collect_until_b_cb, names);
    assert_int_equal(n, 7);
    assert_string_equal(names, "ab");
    assert_int_equal(host_sysfs_dir_foreach(path_of(state, "nolist"), NULL, NULL),
                     -ENOENT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_bin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_links_and_dirs, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
