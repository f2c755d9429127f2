/* Unit tests for the packet key: field layout, the symtab mapping, accessors, text. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dpu/pipeline/key.h"

static void
test_key_layout(void **state)
{
    uint8_t owner[sizeof(struct pkey)];
    memset(owner, 0xff, sizeof owner);

    for (int id = 0; id < PKEY_N_FIELDS; id++) {
        const struct pkey_field_info *fi = pkey_field_info(id);
        assert_non_null(fi->name);
        assert_true(fi->n_bytes >= 1 && fi->n_bytes <= 16);
        assert_true(fi->n_bits >= 1 && fi->n_bits <= fi->n_bytes * 8);
        assert_true(fi->ofs + fi->n_bytes <= sizeof(struct pkey));
        for (int i = 0; i < fi->n_bytes; i++) {
            if (owner[fi->ofs + i] != 0xff) {
                fail_msg("%s overlaps %s", fi->name,
                         pkey_field_info(owner[fi->ofs + i])->name);
            }
            owner[fi->ofs + i] = (uint8_t)id;
        }
        for (int j = 0; j < id; j++) {
            assert_string_not_equal(fi->name, pkey_field_info(j)->name);
        }
    }
    /* Only padding is left unowned, and the stages are in order. */
    size_t unowned = 0;
    for (size_t i = 0; i < sizeof owner; i++) {
        unowned += owner[i] == 0xff;
    }
    assert_int_equal(unowned, 2 + 3 + 1 + 2);
    assert_int_equal(PKEY_STAGE_END[PKEY_N_STAGES - 1], PKEY_N_WORDS);
    assert_true(pkey_field_info(PKEY_F_TUN_FLAGS)->ofs < PKEY_STAGE_END[0] * 8);
    assert_true(pkey_field_info(PKEY_F_ETH_DST)->ofs == PKEY_STAGE_END[0] * 8);
    assert_true(pkey_field_info(PKEY_F_IP4_SRC)->ofs == PKEY_STAGE_END[1] * 8);
    assert_true(pkey_field_info(PKEY_F_TCP_SRC)->ofs == PKEY_STAGE_END[2] * 8);
    (void)state;
}

static void
test_key_symtab_mapping(void **state)
{
    for (int id = 0; id < SYMTAB_N_FIELDS; id++) {
        const struct symtab_field *sf = symtab_field_get(id);
        enum pkey_field_id pf;
        int rc = pkey_field_from_symtab(id, &pf);
        if (sf->n_view || !sf->matchable) {
            assert_int_equal(rc, -ENOENT);
            continue;
        }
        assert_int_equal(rc, 0);
        const struct pkey_field_info *fi = pkey_field_info(pf);
        if (symtab_field_is_string(sf)) {
            assert_int_equal(fi->n_bits, 32);
        } else {
            if (fi->n_bits != sf->width) {
                fail_msg("%s: %d bits in symtab, %d in the key", sf->name, sf->width,
                         fi->n_bits);
            }
            assert_string_equal(fi->name, sf->name);
        }
        /* No two symtab fields share storage. */
        for (int j = 0; j < id; j++) {
            enum pkey_field_id other;
            if (!pkey_field_from_symtab(j, &other)) {
                assert_int_not_equal(other, pf);
            }
        }
    }
    enum pkey_field_id pf;
    assert_int_equal(pkey_field_from_symtab(SYMTAB_N_FIELDS, &pf), -ENOENT);
    (void)state;
}

static void
test_key_accessors(void **state)
{
    struct pkey key;
    struct pkey_mask mask;
    pkey_init(&key);
    pkey_mask_init(&mask);

    lex_u128 all = ~(lex_u128)0;
    for (int id = 0; id < PKEY_N_FIELDS; id++) {
        const struct pkey_field_info *fi = pkey_field_info(id);
        lex_u128 width = fi->n_bits == 128 ? all : ((lex_u128)1 << fi->n_bits) - 1;
        pkey_field_set(&key, id, all);
        assert_true(pkey_field_get(&key, id) == width);
        pkey_field_set(&key, id, 0x5a5a5a5a5a5aULL);
        assert_true(pkey_field_get(&key, id) == ((lex_u128)0x5a5a5a5a5a5aULL & width));
        pkey_mask_field_set(&mask, id, all);
        assert_true(pkey_mask_field_get(&mask, id) == width);
    }
    /* Bits beyond a field's width never spill into padding or neighbours. */
    assert_int_equal(key.f.pad0[0] | key.f.pad0[1] | key.f.pad1[0] | key.f.pad2, 0);
    assert_int_equal(key.f.tun_ovn_inport, htons(0x5a5a & 0x7fff));

    /* Network byte order. */
    pkey_init(&key);
    pkey_field_set(&key, PKEY_F_ETH_TYPE, 0x86dd);
    assert_int_equal(((uint8_t *)&key.f.eth_type)[0], 0x86);
    pkey_field_set(&key, PKEY_F_REG0 + 12, 0x01020304);
    assert_int_equal(((uint8_t *)&key.f.regs[12])[0], 0x01);
    assert_int_equal(((uint8_t *)&key.f.regs[12])[3], 0x04);

    /* Masked helpers. */
    struct pkey a, b;
    pkey_init(&a);
    pkey_init(&b);
    pkey_field_set(&a, PKEY_F_IP4_DST, 0x0a000001);
    pkey_field_set(&b, PKEY_F_IP4_DST, 0x0a0000fe);
    pkey_mask_init(&mask);
    pkey_mask_field_set(&mask, PKEY_F_IP4_DST, 0xffffff00);
    assert_true(pkey_equal_masked(&a, &b, &mask));
    pkey_mask_field_set(&mask, PKEY_F_IP4_DST, 0xffffffff);
    assert_false(pkey_equal_masked(&a, &b, &mask));
    struct pkey_mask m2;
    pkey_mask_init(&m2);
    pkey_mask_field_set(&m2, PKEY_F_IP4_DST, 0xff000000);
    assert_true(pkey_mask_is_subset(&m2, &mask));
    pkey_mask_field_set(&m2, PKEY_F_TCP_DST, 1);
    assert_false(pkey_mask_is_subset(&m2, &mask));
    pkey_mask_or(&mask, &m2);
    assert_true(pkey_mask_is_subset(&m2, &mask));
    pkey_apply_mask(&b, &m2);
    assert_true(pkey_field_get(&b, PKEY_F_IP4_DST) == 0x0a000000);
    (void)state;
}

static void
test_key_format(void **state)
{
    struct pkey key;
    struct pkey_mask mask;
    char buf[512];

    pkey_init(&key);
    pkey_mask_init(&mask);
    assert_int_equal(pkey_format(&key, NULL, buf, sizeof buf), 1);
    assert_string_equal(buf, "*");
    assert_int_equal(pkey_mask_format(&mask, buf, sizeof buf), 1);

    pkey_field_set(&key, PKEY_F_DATAPATH, 5);
    pkey_field_set(&key, PKEY_F_REG0 + 14, 0x10);
    pkey_field_set(&key, PKEY_F_IP4_DST, 0x0a000102);
    pkey_field_set(&key, PKEY_F_IP6_SRC, ((lex_u128)0xfe80 << 112) | 1);
    pkey_field_set(&key, PKEY_F_ETH_SRC, 0x0a0b0c0d0e0fULL);
    pkey_field_set(&key, PKEY_F_CT_LABEL, (lex_u128)1 << 100);
    pkey_format(&key, NULL, buf, sizeof buf);
    assert_string_equal(buf, "metadata=0x5 reg14=0x10 ct_label=0x100000000000000000000000"
                             "00 eth.src=0a:0b:0c:0d:0e:0f ip4.dst=10.0.1.2 "
                             "ip6.src=fe80::1");

    pkey_mask_field_set(&mask, PKEY_F_IP4_DST, 0xffffff00);
    pkey_mask_field_set(&mask, PKEY_F_DATAPATH, 0xffffffff);
    pkey_mask_field_set(&mask, PKEY_F_TCP_DST, 0);
    pkey_mask_field_set(&mask, PKEY_F_UDP_DST, 0xffff);
    pkey_format(&key, &mask, buf, sizeof buf);
    assert_string_equal(buf, "metadata=0x5 ip4.dst=10.0.1.0/255.255.255.0 udp.dst=0x0");
    pkey_mask_format(&mask, buf, sizeof buf);
    assert_string_equal(buf, "metadata/0xffffffff ip4.dst/255.255.255.0 udp.dst/0xffff");

    /* Truncation: snprintf semantics. */
    size_t need = pkey_format(&key, &mask, NULL, 0);
    assert_int_equal(need,
                     strlen("metadata=0x5 ip4.dst=10.0.1.0/255.255.255.0 udp.dst=0x0"));
    assert_int_equal(pkey_format(&key, &mask, buf, 10), need);
    assert_string_equal(buf, "metadata=");
    (void)state;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_layout),
        cmocka_unit_test(test_key_symtab_mapping),
        cmocka_unit_test(test_key_accessors),
        cmocka_unit_test(test_key_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
