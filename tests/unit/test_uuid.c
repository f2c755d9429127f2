/* Unit tests for shared/util/uuid. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "shared/util/uuid.h"

/* getrandom() as seen by uuid.c: defined here, so it takes precedence over libc's, to
 * check what happens when the kernel gives no randomness. */
static bool getrandom_fails;
static int getrandom_failures;

ssize_t
getrandom(void *buf, size_t len, unsigned int flags)
{
    if (getrandom_fails) {
        getrandom_failures++;
        errno = ENOSYS;
        return -1;
    }
    return syscall(SYS_getrandom, buf, len, flags);
}

static void
test_round_trip(void **state)
{
    const char *text = "0123abcd-4567-89ef-fedc-ba9876543210";
    struct uuid u;
    assert_int_equal(uuid_from_string(text, &u), 0);
    assert_int_equal(u.parts[0], 0x0123abcdu);
    assert_int_equal(u.parts[1], 0x456789efu);
    assert_int_equal(u.parts[2], 0xfedcba98u);
    assert_int_equal(u.parts[3], 0x76543210u);
    char buf[UUID_LEN + 1];
    assert_ptr_equal(uuid_to_string(&u, buf), buf);
    assert_string_equal(buf, text);
    assert_true(uuid_is_string(text));

    /* Upper case parses and formats back in lower case. */
    struct uuid v;
    assert_int_equal(uuid_from_string("0123ABCD-4567-89EF-FEDC-BA9876543210", &v), 0);
    assert_true(uuid_equals(&u, &v));
    assert_string_equal(uuid_to_string(&v, buf), text);

    struct uuid z;
    assert_int_equal(uuid_from_string("00000000-0000-0000-0000-000000000000", &z), 0);
    assert_true(uuid_is_zero(&z));
    assert_string_equal(uuid_to_string(&z, buf), "00000000-0000-0000-0000-000000000000");
    assert_int_equal(uuid_from_string("ffffffff-ffff-ffff-ffff-ffffffffffff", &z), 0);
    assert_string_equal(uuid_to_string(&z, buf), "ffffffff-ffff-ffff-ffff-ffffffffffff");
}

static void
test_bad_input(void **state)
{
    const char *bad[] = {
        "",
        "0123abcd",
        "0123abcd-4567-89ef-fedc-ba987654321",   /* One digit short. */
        "0123abcd-4567-89ef-fedc-ba98765432100", /* One digit long. */
        "0123abcd-4567-89ef-fedc-ba987654321 ",  /* Trailing space. */
        " 123abcd-4567-89ef-fedc-ba9876543210",  /* Leading space. */
        "0123abcd_4567-89ef-fedc-ba9876543210",  /* Wrong separator. */
        "0123abcd4-567-89ef-fedc-ba9876543210",  /* Dash misplaced. */
        "0123abcd-4567-89ef-fedcba-98765432100", /* Dash misplaced. */
        "0123abcg-4567-89ef-fedc-ba9876543210",  /* Not hex. */
        "0123abcd-4567-89ef-fedc-ba987654321x",
        "{0123abcd-4567-89ef-fedc-ba9876543210}",
        "0123abcd456789effedcba9876543210",
        "0123abcd-4567-89ef-fedc-ba98765432\xc3\xa9",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct uuid u = {{1, 2, 3, 4}};
        assert_int_equal(uuid_from_string(bad[i], &u), -EINVAL);
        /* Untouched on failure. */
        assert_int_equal(u.parts[0], 1);
        assert_int_equal(u.parts[1], 2);
        assert_int_equal(u.parts[2], 3);
        assert_int_equal(u.parts[3], 4);
        assert_false(uuid_is_string(bad[i]));
    }
}

static void
check_v4__(const struct uuid *u)
{
    char buf[UUID_LEN + 1];
    uuid_to_string(u, buf);
    assert_int_equal(buf[14], '4');
    assert_true(strchr("89ab", buf[19]) != NULL);
    struct uuid back;
    assert_int_equal(uuid_from_string(buf, &back), 0);
    assert_true(uuid_equals(u, &back));
}

static void
test_generate(void **state)
{
    struct uuid a, b;
    uuid_generate(&a);
    uuid_generate(&b);
    check_v4__(&a);
    check_v4__(&b);
    assert_false(uuid_equals(&a, &b));
    assert_false(uuid_is_zero(&a));

    /* Without kernel randomness UUIDs are still valid and distinct. */
    getrandom_fails = true;
    struct uuid c, d;
    memset(&c, 0, sizeof c);
    memset(&d, 0, sizeof d);
    uuid_generate(&c);
    uuid_generate(&d);
    getrandom_fails = false;
    assert_int_equal(getrandom_failures, 2);
    check_v4__(&c);
    check_v4__(&d);
    /* Every word differs, not only a counter in one of them. */
    for (int i = 0; i < 4; i++) {
        assert_true(c.parts[i] != d.parts[i]);
    }
}

static void
test_compare_hash(void **state)
{
    struct uuid a, b, c;
    assert_int_equal(uuid_from_string("00000001-0000-0000-0000-000000000000", &a), 0);
    assert_int_equal(uuid_from_string("00000001-0000-0000-0000-000000000001", &b), 0);
    assert_int_equal(uuid_from_string("00000002-0000-0000-0000-000000000000", &c), 0);
    assert_int_equal(uuid_compare(&a, &a), 0);
    assert_true(uuid_compare(&a, &b) < 0);
    assert_true(uuid_compare(&b, &a) > 0);
    assert_true(uuid_compare(&b, &c) < 0);
    assert_true(uuid_compare(&c, &a) > 0);
    assert_false(uuid_equals(&a, &b));

    struct uuid a2 = a;
    assert_true(uuid_equals(&a, &a2));
    assert_int_equal(uuid_hash(&a), uuid_hash(&a2));

    uuid_zero(&a2);
    assert_true(uuid_is_zero(&a2));
    assert_false(uuid_is_zero(&a));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_generate),
        cmocka_unit_test(test_compare_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
