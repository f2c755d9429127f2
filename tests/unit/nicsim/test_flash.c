/* Unit tests for the firmware flash of ovnic-nicsim: slots, persistence, boot
 * selection with fallback, and injected write failures and power loss. */
#include <errno.h>
#include <limits.h>
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

#include "tests/hw-sim/nicsim/fault.h"
#include "tests/hw-sim/nicsim/flash.h"

#define SLOT 8192

struct ctx {
    char dir[64];
    struct nicsim_faults faults;
    struct nicsim_flash *flash;
};

static int
setup(void **state)
{
    struct ctx *ctx = calloc(1, sizeof *ctx);

    snprintf(ctx->dir, sizeof ctx->dir, "/tmp/nicsim-flash-XXXXXX");
    assert_non_null(mkdtemp(ctx->dir));
    nicsim_faults_init(&ctx->faults);
    assert_int_equal(nicsim_flash_open(ctx->dir, SLOT, &ctx->faults, &ctx->flash, NULL),
                     0);
    *state = ctx;
    return 0;
}

static int
teardown(void **state)
{
    struct ctx *ctx = *state;
    char cmd[128];

    nicsim_flash_close(ctx->flash);
    snprintf(cmd, sizeof cmd, "rm -rf %s", ctx->dir);
    assert_int_equal(system(cmd), 0);
    free(ctx);
    return 0;
}

static void
reopen(struct ctx *ctx)
{
    nicsim_flash_close(ctx->flash);
    ctx->flash = NULL;
    assert_int_equal(nicsim_flash_open(ctx->dir, SLOT, &ctx->faults, &ctx->flash, NULL),
                     0);
}

static void
test_fresh_flash(void **state)
{
    struct ctx *ctx = *state;
    struct nicsim_flash_boot boot;
    uint8_t buf[16];
    size_t i;

    assert_int_equal(nicsim_flash_read(ctx->flash, 1, SLOT - 16, buf, 16, NULL), 0);
    for (i = 0; i < sizeof buf; i++) {
        assert_int_equal(buf[i], 0xff);
    }
    assert_int_equal(nicsim_flash_boot_get(ctx->flash, &boot), 0);
    assert_int_equal(boot.active, 0);
    assert_int_equal(boot.pending, -1);
    assert_int_equal(boot.booted, 0);
}

static void
test_write_read_persist(void **state)
{
    struct ctx *ctx = *state;
    uint8_t buf[5];

    assert_int_equal(nicsim_flash_write(ctx->flash, 1, 100, "hello", 5, NULL), 0);
    reopen(ctx);
    assert_int_equal(nicsim_flash_read(ctx->flash, 1, 100, buf, 5, NULL), 0);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(nicsim_flash_read(ctx->flash, 0, 100, buf, 5, NULL), 0);
    assert_int_equal(buf[0], 0xff);

    assert_int_equal(nicsim_flash_erase(ctx->flash, 1, NULL), 0);
    assert_int_equal(nicsim_flash_read(ctx->flash, 1, 100, buf, 5, NULL), 0);
    assert_int_equal(buf[0], 0xff);
}

static void
test_bad_ranges(void **state)
{
    struct ctx *ctx = *state;
    struct ovnic_err err = {0};
    uint8_t buf[8];

    assert_int_equal(nicsim_flash_read(ctx->flash, 2, 0, buf, 1, &err), -EINVAL);
    assert_int_equal(nicsim_flash_read(ctx->flash, 0, SLOT - 4, buf, 8, NULL), -EINVAL);
    assert_int_equal(nicsim_flash_write(ctx->flash, 0, SLOT + 1, buf, 0, NULL), -EINVAL);
    assert_int_equal(nicsim_flash_write(ctx->flash, -1, 0, buf, 1, NULL), -EINVAL);
    assert_int_equal(nicsim_flash_boot_set(ctx->flash, 5, NULL), -EINVAL);
}

static void
test_other_size_refused(void **state)
{
    struct ctx *ctx = *state;
    struct nicsim_flash *other = NULL;

    assert_int_equal(nicsim_flash_open(ctx->dir, SLOT * 2, NULL, &other, NULL), -EINVAL);
    assert_null(other);
    assert_int_equal(nicsim_flash_open(ctx->dir, 100, NULL, &other, NULL), -EINVAL);
}

static void
test_boot_trial_and_confirm(void **state)
{
    struct ctx *ctx = *state;
    struct nicsim_flash_boot boot;

    assert_int_equal(nicsim_flash_boot_set(ctx->flash, 1, NULL), 0);
    assert_int_equal(nicsim_flash_reboot(ctx->flash, NULL), 0);
    nicsim_flash_boot_get(ctx->flash, &boot);
    assert_int_equal(boot.booted, 1);
    assert_int_equal(boot.active, 0);
    assert_int_equal(boot.tries, 1);
    assert_int_equal(nicsim_flash_confirm(ctx->flash, NULL), 0);
    reopen(ctx);
    nicsim_flash_boot_get(ctx->flash, &boot);
    assert_int_equal(boot.active, 1);
    assert_int_equal(boot.pending, -1);
    assert_int_equal(boot.booted, 1);
}

static void
test_boot_fallback(void **state)
{
    struct ctx *ctx = *state;
    struct nicsim_flash_boot boot;
    int i;

    assert_int_equal(nicsim_flash_boot_set(ctx->flash, 1, NULL), 0);
    for (i = 0; i < NICSIM_FLASH_MAX_TRIES; i++) {
        assert_int_equal(nicsim_flash_reboot(ctx->flash, NULL), 0);
        nicsim_flash_boot_get(ctx->flash, &boot);
        assert_int_equal(boot.booted, 1);
    }
    assert_int_equal(nicsim_flash_reboot(ctx->flash, NULL), 0);
    nicsim_flash_boot_get(ctx->flash, &boot);
    assert_int_equal(boot.booted, 0);
    assert_int_equal(boot.pending, -1);
    assert_int_equal(boot.active, 0);
}

static void
test_injected_write_failure(void **state)
{
    struct ctx *ctx = *state;
    json_t *desc = json_pack("{s:s,s:i}", "kind", "flash-fail", "byte", 6);
    uint8_t buf[8];

    assert_int_equal(nicsim_faults_set_json(&ctx->faults, desc, NULL), 0);
    json_decref(desc);
    assert_int_equal(nicsim_flash_write(ctx->flash, 0, 0, "abcd", 4, NULL), 0);
    assert_int_equal(nicsim_flash_write(ctx->flash, 0, 4, "efgh", 4, NULL), -EIO);
    assert_int_equal(nicsim_flash_read(ctx->flash, 0, 0, buf, 8, NULL), 0);
    assert_memory_equal(buf, "abcdef\xff\xff", 8);
    /* One-shot, and the flash stays powered. */
    assert_true(nicsim_flash_is_powered(ctx->flash));
    assert_int_equal(nicsim_flash_write(ctx->flash, 0, 6, "gh", 2, NULL), 0);
}

static void
test_injected_power_loss(void **state)
{
    struct ctx *ctx = *state;
    json_t *desc = json_pack("{s:s,s:i}", "kind", "flash-powerloss", "byte", 3);
    struct nicsim_flash_boot boot;
    uint8_t buf[4];

    assert_int_equal(nicsim_flash_boot_set(ctx->flash, 1, NULL), 0);
    assert_int_equal(nicsim_faults_set_json(&ctx->faults, desc, NULL), 0);
    json_decref(desc);
    assert_int_equal(nicsim_flash_write(ctx->flash, 1, 0, "wxyz", 4, NULL), -EIO);
    assert_false(nicsim_flash_is_powered(ctx->flash));
    assert_int_equal(nicsim_flash_read(ctx->flash, 1, 0, buf, 4, NULL), -ENODEV);
    assert_int_equal(nicsim_flash_write(ctx->flash, 1, 0, "a", 1, NULL), -ENODEV);
    assert_int_equal(nicsim_flash_boot_get(ctx->flash, &boot), -ENODEV);

    assert_int_equal(nicsim_flash_power_cycle(ctx->flash, NULL), 0);
    assert_int_equal(nicsim_flash_read(ctx->flash, 1, 0, buf, 4, NULL), 0);
    assert_memory_equal(buf, "wxy\xff", 4);
    /* The power cycle booted the pending slot: the boot file was not torn. */
    assert_int_equal(nicsim_flash_boot_get(ctx->flash, &boot), 0);
    assert_int_equal(boot.booted, 1);
    assert_int_equal(boot.tries, 1);
}

/* A power loss inside the bytes of the boot selection leaves the old one in force. */
static void
test_power_loss_in_boot_selection(void **state)
{
    struct ctx *ctx = *state;
    struct nicsim_flash_boot boot;
    unsigned int cuts = 0;

    for (int byte = 0;; byte++) {
        json_t *desc = json_pack("{s:s,s:i}", "kind", "flash-powerloss", "byte", byte);
        int rc;

        assert_int_equal(nicsim_faults_set_json(&ctx->faults, desc, NULL), 0);
        json_decref(desc);
        rc = nicsim_flash_boot_set(ctx->flash, 1, NULL);
        if (!rc) {
            break; /* The fault lies past the boot file: it was stored whole. */
        }
        assert_int_equal(rc, -EIO);
        assert_false(nicsim_flash_is_powered(ctx->flash));
        assert_int_equal(nicsim_flash_power_cycle(ctx->flash, NULL), 0);
        assert_int_equal(nicsim_flash_boot_get(ctx->flash, &boot), 0);
        assert_int_equal(boot.pending, -1);
        assert_int_equal(boot.booted, 0);
        cuts++;
    }
    nicsim_faults_init(&ctx->faults);
    assert_true(cuts >= strlen("active=a\npending=b\ntries=0\nbooted=a\n"));
    assert_int_equal(nicsim_flash_boot_get(ctx->flash, &boot), 0);
    assert_int_equal(boot.pending, 1);
    /* And the state survives a reopen. */
    reopen(ctx);
    assert_int_equal(nicsim_flash_boot_get(ctx->flash, &boot), 0);
    assert_int_equal(boot.pending, 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fresh_flash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_read_persist, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_size_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_boot_trial_and_confirm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_boot_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_injected_write_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_injected_power_loss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_power_loss_in_boot_selection, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
