/* Unit tests for shared/util/hmap (and the hash functions it is used with). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shared/util/hash.h"
#include "shared/util/hmap.h"

struct elem {
    struct hmap_node node;
    int key;
    int seen;
};

static uint32_t
key_hash__(int key)
{
    return hash_bytes(&key, sizeof key, 0);
}

static struct elem *
find__(const struct hmap *map, int key, uint32_t hash)
{
    struct elem *e;
    HMAP_FOR_EACH_WITH_HASH (e, node, hash, map) {
        if (e->key == key) {
            return e;
        }
    }
    return NULL;
}

static size_t
count_iter__(const struct hmap *map)
{
    size_t n = 0;
    struct elem *e;
    HMAP_FOR_EACH (e, node, map) {
        n++;
    }
    return n;
}

static void
test_empty(void **state)
{
    struct hmap map = HMAP_INITIALIZER(&map);
    assert_true(hmap_is_empty(&map));
    assert_int_equal(hmap_count(&map), 0);
    assert_null(hmap_first(&map));
    assert_null(hmap_first_with_hash(&map, 123));
    assert_int_equal(count_iter__(&map), 0);
    hmap_clear(&map);
    hmap_destroy(&map);
    hmap_destroy(NULL);

    struct hmap map2;
    hmap_init(&map2);
    assert_true(hmap_is_empty(&map2));
    assert_null(hmap_first(&map2));
    hmap_destroy(&map2);
}

static void
test_insert_remove_many(void **state)
{
    enum { N = 10000 };
    struct elem *elems = calloc(N, sizeof *elems);
    assert_non_null(elems);
    struct hmap map;
    hmap_init(&map);

    for (int i = 0; i < N; i++) {
        elems[i].key = i;
        hmap_insert(&map, &elems[i].node, key_hash__(i));
        assert_int_equal(hmap_count(&map), (size_t)i + 1);
    }
    for (int i = 0; i < N; i++) {
        assert_ptr_equal(find__(&map, i, key_hash__(i)), &elems[i]);
    }
    assert_null(find__(&map, N, key_hash__(N)));

    /* Iteration visits every node exactly once. */
    struct elem *e;
    HMAP_FOR_EACH (e, node, &map) {
        e->seen++;
    }
    for (int i = 0; i < N; i++) {
        assert_int_equal(elems[i].seen, 1);
    }

    /* Remove the odd keys. */
    for (int i = 1; i < N; i += 2) {
        hmap_remove(&map, &elems[i].node);
    }
    assert_int_equal(hmap_count(&map), N / 2);
    assert_int_equal(count_iter__(&map), N / 2);
    for (int i = 0; i < N; i++) {
        struct elem *found = find__(&map, i, key_hash__(i));
        if (i % 2) {
            assert_null(found);
        } else {
            assert_ptr_equal(found, &elems[i]);
        }
    }

    /* Clear keeps the buckets; the map is usable afterwards. */
    hmap_clear(&map);
    assert_true(hmap_is_empty(&map));
    assert_null(hmap_first(&map));
    hmap_insert(&map, &elems[3].node, key_hash__(3));
    assert_ptr_equal(find__(&map, 3, key_hash__(3)), &elems[3]);
    assert_int_equal(count_iter__(&map), 1);

    hmap_destroy(&map);
    free(elems);
}

static void
test_duplicates_and_collisions(void **state)
{
    struct hmap map;
    hmap_init(&map);
    struct elem a = {.key = 1}, b = {.key = 1}, c = {.key = 2};
    /* Same key twice, and a different key with the same hash. */
    hmap_insert(&map, &a.node, 77);
    hmap_insert(&map, &b.node, 77);
    hmap_insert(&map, &c.node, 77);
    assert_int_equal(hmap_count(&map), 3);

    int ones = 0, twos = 0;
    struct elem *e;
    HMAP_FOR_EACH_WITH_HASH (e, node, 77, &map) {
        ones += e->key == 1;
        twos += e->key == 2;
    }
    assert_int_equal(ones, 2);
    assert_int_equal(twos, 1);

    /* Other hashes that land in the same bucket are not returned. */
    struct elem d = {.key = 3};
    hmap_insert(&map, &d.node, 77 + 1024 * 1024);
    int n = 0;
    HMAP_FOR_EACH_WITH_HASH (e, node, 77, &map) {
        n++;
        assert_true(e != &d);
    }
    assert_int_equal(n, 3);
    assert_ptr_equal(hmap_first_with_hash(&map, 77 + 1024 * 1024), &d.node);
    assert_null(hmap_next_with_hash(&d.node));

    hmap_remove(&map, &b.node);
    ones = 0;
    HMAP_FOR_EACH_WITH_HASH (e, node, 77, &map) {
        ones += e->key == 1;
    }
    assert_int_equal(ones, 1);
    hmap_destroy(&map);

    /* Many nodes, all with one hash. */
    enum { N = 500 };
    struct elem same[N];
    hmap_init(&map);
    for (int i = 0; i < N; i++) {
        same[i].key = i;
        same[i].seen = 0;
        hmap_insert(&map, &same[i].node, 5);
    }
    n = 0;
    HMAP_FOR_EACH_WITH_HASH (e, node, 5, &map) {
        e->seen++;
        n++;
    }
    assert_int_equal(n, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(same[i].seen, 1);
    }
    for (int i = 0; i < N; i += 3) {
        hmap_remove(&map, &same[i].node);
    }
    assert_int_equal(count_iter__(&map), N - (N + 2) / 3);
    hmap_destroy(&map);
}

static void
test_safe_iteration(void **state)
{
    enum { N = 3000 };
    struct hmap map;
    hmap_init(&map);
    for (int i = 0; i < N; i++) {
        struct elem *e = calloc(1, sizeof *e);
        assert_non_null(e);
        e->key = i;
        hmap_insert(&map, &e->node, key_hash__(i));
    }

    /* Remove and free every multiple of 3 while iterating. */
    struct elem *e, *next;
    size_t visited = 0;
    HMAP_FOR_EACH_SAFE (e, next, node, &map) {
        visited++;
        if (e->key % 3 == 0) {
            hmap_remove(&map, &e->node);
            free(e);
        }
    }
    assert_int_equal(visited, N);
    assert_int_equal(hmap_count(&map), N - N / 3);
    HMAP_FOR_EACH (e, node, &map) {
        assert_true(e->key % 3 != 0);
    }

    /* Then remove and free everything. */
    HMAP_FOR_EACH_SAFE (e, next, node, &map) {
        hmap_remove(&map, &e->node);
        free(e);
    }
    assert_true(hmap_is_empty(&map));
    assert_null(hmap_first(&map));
    hmap_destroy(&map);
}

static void
test_swap(void **state)
{
    struct hmap big, small, empty;
    hmap_init(&big);
    hmap_init(&small);
    hmap_init(&empty);
    struct elem be[100], se = {.key = -1};
    for (int i = 0; i < 100; i++) {
        be[i].key = i;
        hmap_insert(&big, &be[i].node, key_hash__(i));
    }
    /* One node keeps a map at its initial single bucket. */
    hmap_insert(&small, &se.node, key_hash__(-1));

    hmap_swap(&big, &small);
    assert_int_equal(hmap_count(&big), 1);
    assert_int_equal(hmap_count(&small), 100);
    assert_ptr_equal(find__(&big, -1, key_hash__(-1)), &se);
    assert_null(find__(&big, 5, key_hash__(5)));
    for (int i = 0; i < 100; i++) {
        assert_ptr_equal(find__(&small, i, key_hash__(i)), &be[i]);
    }
    assert_int_equal(count_iter__(&big), 1);
    assert_int_equal(count_iter__(&small), 100);

    /* The single-bucket map must not point into the other struct after a swap. */
    hmap_swap(&big, &empty);
    assert_true(hmap_is_empty(&big));
    assert_int_equal(count_iter__(&empty), 1);
    struct elem extra = {.key = 1000};
    hmap_insert(&big, &extra.node, key_hash__(1000));
    assert_int_equal(count_iter__(&big), 1);
    assert_int_equal(count_iter__(&empty), 1);
    assert_ptr_equal(find__(&empty, -1, key_hash__(-1)), &se);
    assert_null(find__(&empty, 1000, key_hash__(1000)));

    hmap_destroy(&big);
    hmap_destroy(&small);
    hmap_destroy(&empty);
}

static void
test_replace(void **state)
{
    struct hmap map;
    hmap_init(&map);
    struct elem a = {.key = 1}, b = {.key = 2}, a2 = {.key = 1};
    hmap_insert(&map, &a.node, key_hash__(1));
    hmap_insert(&map, &b.node, key_hash__(2));
    hmap_replace(&map, &a.node, &a2.node);
    assert_int_equal(hmap_count(&map), 2);
    assert_ptr_equal(find__(&map, 1, key_hash__(1)), &a2);
    assert_ptr_equal(find__(&map, 2, key_hash__(2)), &b);
    assert_int_equal(count_iter__(&map), 2);
    hmap_destroy(&map);
}

static void
test_hash_functions(void **state)
{
    /* Deterministic, sensitive to every byte, the length and the basis. */
    const char data[] = "abcdefghij";
    assert_int_equal(hash_bytes(data, 10, 0), hash_bytes(data, 10, 0));
    assert_int_equal(hash_string("abcdefghij", 7), hash_bytes(data, 10, 7));
    assert_true(hash_bytes(data, 10, 0) != hash_bytes(data, 10, 1));
    assert_true(hash_bytes(data, 9, 0) != hash_bytes(data, 10, 0));
    assert_true(hash_bytes("\0", 1, 0) != hash_bytes("", 0, 0));
    for (size_t i = 0; i < 10; i++) {
        char copy[10];
        memcpy(copy, data, 10);
        copy[i] ^= 1;
        assert_true(hash_bytes(copy, 10, 0) != hash_bytes(data, 10, 0));
    }
    assert_true(hash_add64(0, 1) != hash_add64(0, 1ull << 32));

    /* Sequential keys spread over the buckets of a small table. */
    int buckets[16] = {0};
    for (int i = 0; i < 1600; i++) {
        buckets[key_hash__(i) & 15]++;
    }
    for (int i = 0; i < 16; i++) {
        assert_true(buckets[i] > 50 && buckets[i] < 150);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_insert_remove_many),
        cmocka_unit_test(test_duplicates_and_collisions),
        cmocka_unit_test(test_safe_iteration),
        cmocka_unit_test(test_swap),
        cmocka_unit_test(test_replace),
        cmocka_unit_test(test_hash_functions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
