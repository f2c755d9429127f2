/* Unit tests for shared/util/backoff. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "shared/util/backoff.h"

/* The n-th delay (n >= 1) lies in [max(min, 3/4 * base), base] with base
 * min(min * 2^(n-1), max). */
static void
check_sequence__(uint32_t min_ms, uint32_t max_ms, uint32_t seed, int n)
{
    struct backoff b;
    backoff_init(&b, min_ms, max_ms);
    b.seed = seed;
    uint64_t base = min_ms;
    for (int i = 1; i <= n; i++) {
        uint32_t delay = backoff_next(&b);
        assert_int_equal(b.attempts, (uint32_t)i);
        if (i == 1) {
            assert_int_equal(delay, min_ms);
        } else {
            base = base * 2 > max_ms ? max_ms : base * 2;
            uint64_t low = base - base / 4;
            assert_true(delay <= base);
            assert_true(delay >= low);
            assert_true(delay >= min_ms);
        }
        assert_true(delay <= max_ms);
    }
}

static void
test_sequence_bounds(void **state)
{
    for (uint32_t seed = 1; seed < 200; seed++) {
        check_sequence__(100, 8000, seed * 2654435761u, 20);
        check_sequence__(1, 1000, seed, 20);
        check_sequence__(250, 250, seed, 5);
        check_sequence__(1000, 3000, seed, 6);
    }
    /* No overflow near the top of the range. */
    check_sequence__(1u << 31, UINT32_MAX, 7, 40);
    check_sequence__(3000000000u, UINT32_MAX, 7, 10);
}

static void
test_first_is_exact_then_grows(void **state)
{
    struct backoff b;
    backoff_init(&b, 100, 8000);
    assert_int_equal(b.attempts, 0);
    assert_int_equal(b.cur_ms, 0);
    assert_int_equal(backoff_next(&b), 100);
    uint32_t prev_base = 100;
    uint32_t last = 0;
    for (int i = 0; i < 12; i++) {
        last = backoff_next(&b);
        assert_true(last > prev_base / 2);
        prev_base = prev_base * 2 > 8000 ? 8000 : prev_base * 2;
    }
    /* Capped: at least 3/4 of max, at most max. */
    assert_true(last >= 6000 && last <= 8000);
}

static void
test_reset(void **state)
{
    struct backoff b;
    backoff_init(&b, 50, 5000);
    for (int i = 0; i < 10; i++) {
        backoff_next(&b);
    }
    assert_int_equal(b.attempts, 10);
    backoff_reset(&b);
    assert_int_equal(b.attempts, 0);
    assert_int_equal(backoff_next(&b), 50);
    uint32_t second = backoff_next(&b);
    assert_true(second >= 75 && second <= 100);
}

static void
test_jitter_varies(void **state)
{
    /* Clients that fail together must not all retry together. */
    uint32_t first = 0;
    int distinct = 0;
    for (uint32_t seed = 1; seed <= 50; seed++) {
        struct backoff b;
        backoff_init(&b, 1000, 60000);
        b.seed = seed * 0x9e3779b9u;
        backoff_next(&b);
        backoff_next(&b);
        uint32_t third = backoff_next(&b);
        if (seed == 1) {
            first = third;
        } else if (third != first) {
            distinct++;
        }
    }
    assert_true(distinct > 10);

    /* Two fresh objects are seeded differently. */
    struct backoff a, c;
    backoff_init(&a, 1, 2);
    backoff_init(&c, 1, 2);
    assert_true(a.seed != c.seed);
    assert_true(a.seed != 0 && c.seed != 0);
}

static void
test_degenerate_ranges(void **state)
{
    /* min 0: the first delay is 0, then it still grows. */
    struct backoff b;
    backoff_init(&b, 0, 1000);
    assert_int_equal(backoff_next(&b), 0);
    uint32_t d = 0;
    for (int i = 0; i < 30; i++) {
        d = backoff_next(&b);
        assert_true(d <= 1000);
    }
    assert_true(d >= 750);

    /* All zero. */
    backoff_init(&b, 0, 0);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(backoff_next(&b), 0);
    }

    /* max below min behaves as max == min. */
    backoff_init(&b, 500, 100);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(backoff_next(&b), 500);
    }

    /* A zero seed does not get stuck. */
    backoff_init(&b, 1000, 60000);
    b.seed = 0;
    backoff_next(&b);
    backoff_next(&b);
    uint32_t x = backoff_next(&b);
    assert_true(x >= 3000 && x <= 4000);
    assert_true(b.seed != 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sequence_bounds),
        cmocka_unit_test(test_first_is_exact_then_grows),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_jitter_varies),
        cmocka_unit_test(test_degenerate_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
