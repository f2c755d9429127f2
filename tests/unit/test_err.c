/* Unit tests for shared/util/err. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "shared/util/err.h"

static void
test_set_and_clear(void **state)
{
    struct ovnic_err err;
    memset(&err, 0x5a, sizeof err);
    ovnic_err_clear(&err);
    assert_false(ovnic_err_is_set(&err));
    assert_int_equal(err.code, 0);
    assert_null(err.message);
    assert_string_equal(err.object, "");
    assert_string_equal(err.detail, "");

    assert_int_equal(ovnic_err_set(&err, -EINVAL, "Port_Binding", "bad column",
                                   "column %s, row %d", "chassis", 7),
                     -EINVAL);
    assert_true(ovnic_err_is_set(&err));
    assert_int_equal(err.code, -EINVAL);
    assert_string_equal(err.message, "bad column");
    assert_string_equal(err.object, "Port_Binding");
    assert_string_equal(err.detail, "column chassis, row 7");

    /* The first (innermost) failure wins. */
    assert_int_equal(ovnic_err_set(&err, -ENOMEM, "outer", "outer failure", NULL),
                     -ENOMEM);
    assert_int_equal(err.code, -EINVAL);
    assert_string_equal(err.object, "Port_Binding");

    ovnic_err_clear(&err);
    assert_false(ovnic_err_is_set(&err));
    assert_int_equal(ovnic_err_set(&err, -ENOENT, NULL, "no such row", NULL), -ENOENT);
    assert_string_equal(err.object, "");
    assert_string_equal(err.detail, "");

    /* NULL is allowed everywhere. */
    assert_int_equal(ovnic_err_set(NULL, -EPROTO, "x", "y", "%d", 1), -EPROTO);
    ovnic_err_clear(NULL);
    assert_false(ovnic_err_is_set(NULL));
}

static void
test_truncation(void **state)
{
    char big[1000];
    memset(big, 'o', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    struct ovnic_err err = {0};
    ovnic_err_set(&err, -E2BIG, big, "too big", "%s", big);
    assert_int_equal(strlen(err.object), OVNIC_ERR_OBJECT_LEN - 1);
    assert_int_equal(strlen(err.detail), OVNIC_ERR_DETAIL_LEN - 1);
    char buf[64];
    const char *s = ovnic_err_format(&err, buf, sizeof buf);
    assert_ptr_equal(s, buf);
    assert_int_equal(strlen(buf), sizeof buf - 1);
}

static void
test_format(void **state)
{
    char buf[512];
    struct ovnic_err err = {0};
    assert_string_equal(ovnic_err_format(&err, buf, sizeof buf), "no error");
    assert_string_equal(ovnic_err_format(NULL, buf, sizeof buf), "no error");

    ovnic_err_set(&err, -EINVAL, "Logical_Flow", "unsupported action", "%s", "ct_foo");
    assert_string_equal(ovnic_err_format(&err, buf, sizeof buf),
                        "Logical_Flow: unsupported action (ct_foo): Invalid argument");

    ovnic_err_clear(&err);
    ovnic_err_set(&err, -ENOENT, NULL, "missing", NULL);
    assert_string_equal(ovnic_err_format(&err, buf, sizeof buf),
                        "missing: No such file or directory");

    ovnic_err_clear(&err);
    ovnic_err_set(&err, -EIO, "dev", NULL, NULL);
    assert_string_equal(ovnic_err_format(&err, buf, sizeof buf),
                        "dev: error: Input/output error");

    ovnic_err_clear(&err);
    ovnic_err_set(&err, -ENOMEM, "", "alloc", "%d bytes", 12);
    assert_string_equal(ovnic_err_format(&err, buf, sizeof buf),
                        "alloc (12 bytes): Cannot allocate memory");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_and_clear),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
