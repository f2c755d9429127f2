/* Unit tests of dpu/pipeline/megaflow.c: composition helpers, formatting, and the
 * cache (exact-match front, masked lookup, replacement, capacity, generations). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/pipeline/megaflow.h"
#include "shared/util/util.h"

/* A megaflow matching ip4.dst == 'dst' (and datapath 1) that outputs to 'port'. */
static void
make_mf(struct megaflow *mf, uint32_t dst, uint32_t dst_mask, const char *port,
        uint64_t gen)
{
    megaflow_init(mf);
    pkey_field_set(&mf->key, PKEY_F_DATAPATH, 1);
    pkey_mask_field_set(&mf->mask, PKEY_F_DATAPATH, 0xffffffff);
    pkey_field_set(&mf->key, PKEY_F_IP4_DST, dst & dst_mask);
    pkey_mask_field_set(&mf->mask, PKEY_F_IP4_DST, dst_mask);
    mf->generation = gen;
    struct megaflow_action a = {.type = MEGAFLOW_ACT_OUTPUT,
                                .output_type = MEGAFLOW_OUT_LOCAL,
                                .port_key = 2,
                                .vlan = -1};
    strcpy(a.port, port);
    assert_int_equal(megaflow_action_append(mf, &a), 0);
}

static void
make_key(struct pkey *key, uint32_t dp, uint32_t dst, uint32_t src)
{
    pkey_init(key);
    pkey_field_set(key, PKEY_F_DATAPATH, dp);
    pkey_field_set(key, PKEY_F_IP4_DST, dst);
    pkey_field_set(key, PKEY_F_IP4_SRC, src);
}

static void
test_format(void **state OVNIC_UNUSED)
{
    struct megaflow mf;
    make_mf(&mf, 0x0a000001, 0xffffffff, "vm1", 1);
    struct megaflow_action set = {.type = MEGAFLOW_ACT_SET,
                                  .field = PKEY_F_ETH_SRC,
                                  .value = 0x0a0000000001,
                                  .mask = 0xffffffffffff};
    struct megaflow_action dec = {.type = MEGAFLOW_ACT_DEC_TTL, .field = PKEY_F_IP_TTL};
    struct megaflow_action tun = {.type = MEGAFLOW_ACT_OUTPUT,
                                  .output_type = MEGAFLOW_OUT_TUNNEL,
                                  .port_key = 3,
                                  .tun_id = 5,
                                  .tun_inport = 1,
                                  .tun_outport = 3,
                                  .vlan = -1};
    strcpy(tun.port, "vm3");
    strcpy(tun.remote_ip, "192.168.0.2");
    assert_int_equal(megaflow_action_append(&mf, &set), 0);
    assert_int_equal(megaflow_action_append(&mf, &dec), 0);
    assert_int_equal(megaflow_action_append(&mf, &tun), 0);
    char buf[512];
    megaflow_actions_format(&mf, buf, sizeof buf);
    assert_string_equal(buf,
                        "output(local:\"vm1\"),set(eth.src=0a:00:00:00:00:01),dec_ttl,"
                        "tnl_push(geneve,vni=0x5,dst=192.168.0.2,opt=0x0102/0x80:"
                        "ingress=0x1,egress=0x3),output(tunnel:\"vm3\")");
    size_t need = megaflow_format(&mf, NULL, 0);
    assert_true(need > strlen(buf));
    char *full = malloc(need + 1);
    assert_int_equal(megaflow_format(&mf, full, need + 1), need);
    assert_non_null(strstr(full, "ip4.dst=10.0.0.1"));
    assert_non_null(strstr(full, ", actions:output("));
    /* Truncation keeps the NUL and reports the full length. */
    char small[8];
    assert_int_equal(megaflow_format(&mf, small, sizeof small), need);
    assert_int_equal(strlen(small), sizeof small - 1);
    free(full);

    struct megaflow copy;
    assert_int_equal(megaflow_clone(&copy, &mf), 0);
    assert_true(megaflow_equal(&copy, &mf));
    copy.actions[1].value ^= 1;
    assert_false(megaflow_actions_equal(&copy, &mf));
    megaflow_destroy(&copy);
    megaflow_destroy(&mf);

    struct megaflow empty;
    megaflow_init(&empty);
    megaflow_actions_format(&empty, buf, sizeof buf);
    assert_string_equal(buf, "drop");
    megaflow_set_uncacheable(&empty, "first");
    megaflow_set_uncacheable(&empty, "second");
    assert_false(empty.cacheable);
    assert_string_equal(empty.uncacheable_reason, "first");
    megaflow_destroy(NULL);
}

static void
test_cache_lookup(void **state OVNIC_UNUSED)
{
    struct megaflow_cache *c;
    assert_int_equal(megaflow_cache_create(0, 16, &c), 0);
    struct megaflow a, b;
    make_mf(&a, 0x0a000001, 0xffffffff, "vm1", 7);
    make_mf(&b, 0x0a000100, 0xffffff00, "vm2", 7);
    assert_int_equal(megaflow_cache_insert(c, &a), 0);
    assert_int_equal(megaflow_cache_insert(c, &b), 0);

    struct pkey k;
    make_key(&k, 1, 0x0a000001, 0x01020304);
    const struct megaflow *hit = megaflow_cache_lookup(c, &k, 7);
    assert_non_null(hit);
    assert_string_equal(hit->actions[0].port, "vm1");
    assert_true(megaflow_matches(hit, &k));
    /* Same key: exact-match cache. */
    assert_ptr_equal(megaflow_cache_lookup(c, &k, 7), hit);
    /* Another source: wildcarded, masked hit. */
    make_key(&k, 1, 0x0a000001, 0x05060708);
    assert_ptr_equal(megaflow_cache_lookup(c, &k, 7), hit);
    make_key(&k, 1, 0x0a000177, 0);
    hit = megaflow_cache_lookup(c, &k, 7);
    assert_non_null(hit);
    assert_string_equal(hit->actions[0].port, "vm2");
    /* Another datapath, another subnet: misses. */
    make_key(&k, 2, 0x0a000001, 0);
    assert_null(megaflow_cache_lookup(c, &k, 7));
    make_key(&k, 1, 0x0a000201, 0);
    assert_null(megaflow_cache_lookup(c, &k, 7));

    struct megaflow_cache_stats st;
    megaflow_cache_get_stats(c, &st);
    assert_int_equal(st.n_entries, 2);
    assert_int_equal(st.n_masks, 2);
    assert_int_equal(st.n_emc_hits, 1);
    assert_int_equal(st.n_masked_hits, 3);
    assert_int_equal(st.n_misses, 2);

    /* Replacing a megaflow with the same mask and key: the old one is gone, also
     * from the exact-match cache. */
    struct megaflow a2;
    make_mf(&a2, 0x0a000001, 0xffffffff, "vm9", 7);
    make_key(&k, 1, 0x0a000001, 0x01020304);
    assert_non_null(megaflow_cache_lookup(c, &k, 7));
    assert_int_equal(megaflow_cache_insert(c, &a2), 0);
    hit = megaflow_cache_lookup(c, &k, 7);
    assert_non_null(hit);
    assert_string_equal(hit->actions[0].port, "vm9");
    megaflow_cache_get_stats(c, &st);
    assert_int_equal(st.n_entries, 2);

    /* Not cacheable: refused. */
    struct megaflow u;
    make_mf(&u, 0x0b000001, 0xffffffff, "x", 7);
    megaflow_set_uncacheable(&u, "controller action");
    assert_int_equal(megaflow_cache_insert(c, &u), -EINVAL);

    /* A new generation flushes everything. */
    assert_null(megaflow_cache_lookup(c, &k, 8));
    megaflow_cache_get_stats(c, &st);
    assert_int_equal(st.n_entries, 0);
    assert_int_equal(st.n_invalidations, 1);
    /* Inserting a megaflow of an older generation moves the cache to it. */
    assert_int_equal(megaflow_cache_insert(c, &a), 0);
    assert_null(megaflow_cache_lookup(c, &k, 8));

    megaflow_destroy(&a);
    megaflow_destroy(&a2);
    megaflow_destroy(&b);
    megaflow_destroy(&u);
    megaflow_cache_destroy(c);
    megaflow_cache_destroy(NULL);
}

static void
test_cache_capacity(void **state OVNIC_UNUSED)
{
    struct megaflow_cache *c;
    assert_int_equal(megaflow_cache_create(100, 0, &c), 0);
    struct megaflow mf;
    for (uint32_t i = 0; i < 100; i++) {
        make_mf(&mf, 0x0a000000 + i, 0xffffffff, "p", 1);
        assert_int_equal(megaflow_cache_insert(c, &mf), 0);
        megaflow_destroy(&mf);
    }
    make_mf(&mf, 0x0b000000, 0xffffffff, "p", 1);
    assert_int_equal(megaflow_cache_insert(c, &mf), -ENOSPC);
    megaflow_destroy(&mf);
    /* Every one is found by a masked lookup, then by the exact-match cache. */
    for (uint32_t i = 0; i < 100; i++) {
        struct pkey k;
        make_key(&k, 1, 0x0a000000 + i, i);
        assert_non_null(megaflow_cache_lookup(c, &k, 1));
        assert_non_null(megaflow_cache_lookup(c, &k, 1));
    }
    struct megaflow_cache_stats st;
    megaflow_cache_get_stats(c, &st);
    assert_int_equal(st.n_masked_hits + st.n_emc_hits, 200);
    assert_true(st.n_emc_hits >= 1);
    assert_int_equal(st.n_rejected, 1);
    megaflow_cache_flush(c);
    megaflow_cache_get_stats(c, &st);
    assert_int_equal(st.n_entries, 0);
    megaflow_cache_destroy(c);
}

struct walk_seen {
    size_t n;
    uint64_t packets, bytes, used_ms;
    uint32_t tag;
};

static void
walk_cb(void *aux, const struct megaflow *mf, const struct megaflow_usage *u)
{
    struct walk_seen *w = aux;
    w->n++;
    w->packets += u->n_packets;
    w->bytes += u->n_bytes;
    w->used_ms = u->used_ms > w->used_ms ? u->used_ms : w->used_ms;
    w->tag |= mf->tag;
}

/* Usage counters, the tag, and the walk over the cache. */
static void
test_cache_usage_walk(void **state OVNIC_UNUSED)
{
    struct megaflow_cache *c;
    assert_int_equal(megaflow_cache_create(0, 0, &c), 0);
    struct megaflow a, b;
    make_mf(&a, 0x0a000001, 0xffffffff, "vm1", 3);
    make_mf(&b, 0x0a000100, 0xffffff00, "vm2", 3);
    a.tag = 0x40;
    assert_int_equal(megaflow_cache_insert(c, &a), 0);
    assert_int_equal(megaflow_cache_insert(c, &b), 0);

    struct pkey k;
    make_key(&k, 1, 0x0a000001, 0);
    const struct megaflow *hit = megaflow_cache_lookup(c, &k, 3);
    assert_non_null(hit);
    assert_int_equal(hit->tag, 0x40);
    megaflow_cache_account(c, hit, 100, 1000);
    hit = megaflow_cache_lookup(c, &k, 3);
    megaflow_cache_account(c, hit, 60, 1500);

    struct walk_seen w = {0};
    assert_int_equal(megaflow_cache_walk(c, walk_cb, &w, 0), 2);
    assert_int_equal(w.n, 2);
    assert_int_equal(w.packets, 2);
    assert_int_equal(w.bytes, 160);
    assert_int_equal(w.used_ms, 1500);
    assert_int_equal(w.tag, 0x40);
    memset(&w, 0, sizeof w);
    assert_int_equal(megaflow_cache_walk(c, walk_cb, &w, 1), 1);
    assert_int_equal(w.n, 1);

    megaflow_cache_flush(c);
    memset(&w, 0, sizeof w);
    assert_int_equal(megaflow_cache_walk(c, walk_cb, &w, 0), 0);
    megaflow_destroy(&a);
    megaflow_destroy(&b);
    megaflow_cache_destroy(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_cache_lookup),
        cmocka_unit_test(test_cache_capacity),
        cmocka_unit_test(test_cache_usage_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
