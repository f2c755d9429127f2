/* Unit tests for the description and checks of ovnic-sim labs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/hw-sim/lab/lab.h"

static char *
write_temp(const char *text)
{
    static char path[64];
    FILE *f;
    int fd;

    snprintf(path, sizeof path, "/tmp/nicsim-lab-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void
test_defaults(void **state)
{
    struct lab_config cfg;

    (void)state;
    lab_config_init(&cfg);
    assert_string_equal(cfg.name, "lab");
    assert_int_equal(cfg.hosts, 2);
    assert_int_equal(cfg.vfs, 4);
    assert_false(cfg.enable_vfs);
    assert_string_equal(cfg.underlay, "192.168.100.0/24");
    assert_string_equal(cfg.profile, "bf2");
    snprintf(cfg.dir, sizeof cfg.dir, "/tmp/x");
    assert_int_equal(lab_config_check(&cfg, NULL), 0);
}

static void
test_read_description(void **state)
{
    struct lab_config cfg;
    struct ovnic_err err = {0};
    char *path;

    (void)state;
    lab_config_init(&cfg);
    path = write_temp("# a lab\n"
                      "name = demo\n"
                      "hosts = 3   # three hosts\n"
                      "vfs=8\n"
                      "enable_vfs = yes\n"
                      "\n"
                      "underlay = 10.20.0.0/16\n"
                      "profile = bf3\n");
    assert_int_equal(lab_config_read(&cfg, path, &err), 0);
    unlink(path);
    assert_string_equal(cfg.name, "demo");
    assert_int_equal(cfg.hosts, 3);
    assert_int_equal(cfg.vfs, 8);
    assert_true(cfg.enable_vfs);
    assert_string_equal(cfg.underlay, "10.20.0.0/16");
    assert_string_equal(cfg.profile, "bf3");
}

static void
test_read_errors(void **state)
{
    static const char *const bad[] = {
        "colour = blue\n", "hosts = 0\n",          "hosts = 17\n",
        "vfs = many\n",    "enable_vfs = maybe\n", "just words\n",
    };
    struct lab_config cfg;
    struct ovnic_err err = {0};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *path = write_temp(bad[i]);

        lab_config_init(&cfg);
        memset(&err, 0, sizeof err);
        assert_int_equal(lab_config_read(&cfg, path, &err), -EINVAL);
        assert_non_null(strstr(err.detail, ":1"));
        unlink(path);
    }
    assert_int_equal(lab_config_read(&cfg, "/nonexistent/lab.conf", &err), -ENOENT);
}

static void
test_checks(void **state)
{
    struct lab_config cfg;

    (void)state;
    lab_config_init(&cfg);
    snprintf(cfg.dir, sizeof cfg.dir, "/tmp/x");
    snprintf(cfg.name, sizeof cfg.name, "Demo");
    assert_int_equal(lab_config_check(&cfg, NULL), -EINVAL);
    snprintf(cfg.name, sizeof cfg.name, "-demo");
    assert_int_equal(lab_config_check(&cfg, NULL), -EINVAL);
    snprintf(cfg.name, sizeof cfg.name, "a-name-too-long-x");
    assert_int_equal(lab_config_check(&cfg, NULL), -EINVAL);
    snprintf(cfg.name, sizeof cfg.name, "demo-2");
    assert_int_equal(lab_config_check(&cfg, NULL), 0);

    snprintf(cfg.underlay, sizeof cfg.underlay, "192.168.1.0/29");
    assert_int_equal(lab_config_check(&cfg, NULL), -EINVAL); /* .11, .12 do not fit. */
    snprintf(cfg.underlay, sizeof cfg.underlay, "192.168.1.0/28");
    assert_int_equal(lab_config_check(&cfg, NULL), 0);
    snprintf(cfg.underlay, sizeof cfg.underlay, "192.168.1.0");
    assert_int_equal(lab_config_check(&cfg, NULL), -EINVAL);
    snprintf(cfg.underlay, sizeof cfg.underlay, "192.168.300.0/24");
    assert_int_equal(lab_config_check(&cfg, NULL), -EINVAL);
    snprintf(cfg.underlay, sizeof cfg.underlay, "192.168.1.0/24");

    cfg.hosts = 0;
    assert_int_equal(lab_config_check(&cfg, NULL), -EINVAL);
    cfg.hosts = 2;
    cfg.vfs = 63;
    assert_int_equal(lab_config_check(&cfg, NULL), -EINVAL);
}

static void
test_status_without_lab(void **state)
{
    struct lab_config cfg;
    struct ovnic_err err = {0};
    json_t *status = NULL;

    (void)state;
    lab_config_init(&cfg);
    snprintf(cfg.dir, sizeof cfg.dir, "/nonexistent/lab");
    assert_int_equal(lab_status(&cfg, &status, &err), -ENOENT);
    assert_null(status);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_read_description),
        cmocka_unit_test(test_read_errors),
        cmocka_unit_test(test_checks),
        cmocka_unit_test(test_status_without_lab),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
