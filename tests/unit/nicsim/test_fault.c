/* Unit tests for ovnic-nicsim's injectable faults: parsing, the Nth insert, table
 * full, evenly spread uplink drops, and errno names. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/hw-sim/nicsim/fault.h"

static int
set(struct nicsim_faults *f, const char *text)
{
    json_t *desc = json_loads(text, 0, NULL);
    int rc;

    assert_non_null(desc);
    rc = nicsim_faults_set_json(f, desc, NULL);
    json_decref(desc);
    return rc;
}

static void
test_insert_fail_nth(void **state)
{
    struct nicsim_faults f;

    (void)state;
    nicsim_faults_init(&f);
    assert_int_equal(nicsim_faults_insert_check(&f), 0);
    assert_int_equal(set(&f, "{\"kind\":\"insert-fail\",\"nth\":3,\"errno\":\"EBUSY\"}"),
                     0);
    assert_int_equal(nicsim_faults_insert_check(&f), 0);
    assert_int_equal(nicsim_faults_insert_check(&f), 0);
    assert_int_equal(nicsim_faults_insert_check(&f), -EBUSY);
    assert_int_equal(nicsim_faults_insert_check(&f), 0); /* One-shot. */

    assert_int_equal(set(&f, "{\"kind\":\"insert-fail\",\"nth\":1,\"errno\":-12}"), 0);
    assert_int_equal(nicsim_faults_insert_check(&f), -ENOMEM);
    assert_int_equal(set(&f, "{\"kind\":\"insert-fail\",\"nth\":1}"), 0);
    assert_int_equal(nicsim_faults_insert_check(&f), -EIO);
}

static void
test_table_full(void **state)
{
    struct nicsim_faults f;

    (void)state;
    nicsim_faults_init(&f);
    assert_int_equal(set(&f, "{\"kind\":\"table-full\"}"), 0);
    assert_int_equal(nicsim_faults_insert_check(&f), -ENOSPC);
    assert_int_equal(nicsim_faults_insert_check(&f), -ENOSPC);
    assert_int_equal(set(&f, "{\"kind\":\"table-full\",\"on\":false}"), 0);
    assert_int_equal(nicsim_faults_insert_check(&f), 0);
}

static void
test_uplink_drop_spread(void **state)
{
    struct nicsim_faults f;
    int dropped = 0;
    int i;

    (void)state;
    nicsim_faults_init(&f);
    assert_false(nicsim_faults_uplink_drop(&f));
    assert_int_equal(set(&f, "{\"kind\":\"uplink-drop\",\"percent\":25}"), 0);
    for (i = 0; i < 100; i++) {
        dropped += nicsim_faults_uplink_drop(&f);
    }
    assert_int_equal(dropped, 25);
    assert_int_equal(f.uplink_dropped, 25);
    assert_int_equal(set(&f, "{\"kind\":\"uplink-drop\",\"percent\":100}"), 0);
    assert_true(nicsim_faults_uplink_drop(&f));
    assert_int_equal(set(&f, "{\"kind\":\"uplink-delay\",\"ms\":40}"), 0);
    assert_int_equal(f.uplink_delay_ms, 40);
}

static void
test_flash_fault_accounting(void **state)
{
    struct nicsim_faults f;
    bool powerloss = false;
    int error = 0;

    (void)state;
    nicsim_faults_init(&f);
    assert_int_equal(nicsim_faults_flash_write(&f, 100, &error, &powerloss), 100);
    assert_int_equal(set(&f, "{\"kind\":\"flash-powerloss\",\"byte\":150}"), 0);
    assert_int_equal(nicsim_faults_flash_write(&f, 100, &error, &powerloss), 100);
    assert_int_equal(error, 0);
    assert_int_equal(nicsim_faults_flash_write(&f, 100, &error, &powerloss), 50);
    assert_int_equal(error, -EIO);
    assert_true(powerloss);
    error = 0;
    assert_int_equal(nicsim_faults_flash_write(&f, 100, &error, &powerloss), 100);
    assert_int_equal(error, 0);
}

static void
test_bad_descriptions(void **state)
{
    struct nicsim_faults f;

    (void)state;
    nicsim_faults_init(&f);
    assert_int_equal(set(&f, "{\"kind\":\"meteor\"}"), -EINVAL);
    assert_int_equal(set(&f, "{}"), -EINVAL);
    assert_int_equal(set(&f, "{\"kind\":\"insert-fail\",\"nth\":0}"), -EINVAL);
    assert_int_equal(set(&f, "{\"kind\":\"insert-fail\",\"nth\":1,\"errno\":\"EFOO\"}"),
                     -EINVAL);
    assert_int_equal(set(&f, "{\"kind\":\"insert-fail\",\"nth\":1,\"errno\":0}"),
                     -EINVAL);
    assert_int_equal(set(&f, "{\"kind\":\"uplink-drop\",\"percent\":101}"), -EINVAL);
    assert_int_equal(set(&f, "{\"kind\":\"uplink-delay\",\"ms\":\"x\"}"), -EINVAL);
    assert_int_equal(set(&f, "{\"kind\":\"flash-fail\",\"byte\":-1}"), -EINVAL);
    assert_int_equal(f.insert_fail_nth, 0);
    assert_int_equal(f.flash_fail_at, -1);
}

static void
test_errno_names(void **state)
{
    int error = 0;

    (void)state;
    assert_int_equal(nicsim_errno_parse("ENOSPC", &error), 0);
    assert_int_equal(error, -ENOSPC);
    assert_int_equal(nicsim_errno_parse("5", &error), 0);
    assert_int_equal(error, -5);
    assert_int_equal(nicsim_errno_parse("-22", &error), 0);
    assert_int_equal(error, -22);
    assert_int_equal(nicsim_errno_parse("0", &error), -EINVAL);
    assert_int_equal(nicsim_errno_parse("x", &error), -EINVAL);
    assert_string_equal(nicsim_errno_name(-ENOSPC), "ENOSPC");
    assert_null(nicsim_errno_name(4000));
}

static void
test_to_json(void **state)
{
    struct nicsim_faults f;
    json_t *obj;

    (void)state;
    nicsim_faults_init(&f);
    assert_int_equal(set(&f, "{\"kind\":\"insert-fail\",\"nth\":2,\"errno\":\"ENOSPC\"}"),
                     0);
    obj = nicsim_faults_to_json(&f);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(obj, "insert-fail"), "errno")),
        "ENOSPC");
    assert_true(json_is_false(json_object_get(obj, "table-full")));
    json_decref(obj);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_fail_nth),
        cmocka_unit_test(test_table_full),
        cmocka_unit_test(test_uplink_drop_spread),
        cmocka_unit_test(test_flash_fault_accounting),
        cmocka_unit_test(test_bad_descriptions),
        cmocka_unit_test(test_errno_names),
        cmocka_unit_test(test_to_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
