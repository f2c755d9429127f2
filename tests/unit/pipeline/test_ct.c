/* Unit tests of the conntrack interface and its deterministic backend
 * (dpu/pipeline/ct.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dpu/pipeline/ct.h"

static void
test_ct_state_parse(void **state)
{
    uint32_t s = 0xdead;
    char buf[64];

    assert_int_equal(ct_state_parse("trk,est", &s), 0);
    assert_int_equal(s, CT_STATE_TRK | CT_STATE_EST);
    assert_int_equal(ct_state_parse("new|rel rpl", &s), 0);
    assert_int_equal(s, CT_STATE_NEW | CT_STATE_REL | CT_STATE_RPL);
    assert_int_equal(ct_state_parse("inv,snat,dnat", &s), 0);
    assert_int_equal(s, CT_STATE_INV | CT_STATE_SNAT | CT_STATE_DNAT);
    assert_int_equal(ct_state_parse("", &s), 0);
    assert_int_equal(s, 0);
    s = 7;
    assert_int_equal(ct_state_parse("est,bogus", &s), -EINVAL);
    assert_int_equal(s, 7);
    assert_int_equal(ct_state_parse("ne", &s), -EINVAL);

    assert_string_equal(ct_state_format(CT_STATE_TRK | CT_STATE_NEW, buf, sizeof buf),
                        "trk|new");
    assert_string_equal(ct_state_format(0, buf, sizeof buf), "0");
    assert_string_equal(ct_op_type_name(CT_OP_LB), "ct_lb");
    (void)state;
}

static void
make_key(struct pkey *key)
{
    pkey_init(key);
    key->f.eth_type = htons(0x0800);
    key->f.ip_proto = 17;
    key->f.ip4_src = htonl(0x0a000005);
    key->f.ip4_dst = htonl(0xac100064);
    key->f.udp_src = htons(5353);
    key->f.udp_dst = htons(53);
}

static void
test_ct_det_states(void **state)
{
    struct ct_det *ct;
    struct ct_op op = {.type = CT_OP_NEXT, .zone = 12, .recirc = true};
    struct pkey key;

    assert_int_equal(ct_det_create(&ct), 0);
    assert_int_equal(ct_det_push_state(ct, "new"), 0);
    assert_int_equal(ct_det_push_state(ct, "est,rpl"), 0);
    assert_int_equal(ct_det_push_state(ct, "nonsense"), -EINVAL);
    make_key(&key);
    assert_int_equal(ct_det_class.execute(ct, &op, &key), 0);
    assert_int_equal(ntohl(key.f.ct_state), CT_STATE_TRK | CT_STATE_NEW);
    assert_int_equal(op.state_out, CT_STATE_TRK | CT_STATE_NEW);
    assert_int_equal(ntohs(key.f.ct_zone), 12);
    assert_int_equal(ct_det_class.execute(ct, &op, &key), 0);
    assert_int_equal(ntohl(key.f.ct_state), CT_STATE_TRK | CT_STATE_EST | CT_STATE_RPL);
    assert_int_equal(ct_det_class.execute(ct, &op, &key), 0);
    assert_int_equal(ntohl(key.f.ct_state), CT_STATE_TRK | CT_STATE_EST);

    /* The queue has a limit. */
    for (int i = 2; i < CT_DET_MAX_STATES; i++) {
        assert_int_equal(ct_det_push_state(ct, "est"), 0);
    }
    assert_int_equal(ct_det_push_state(ct, "est"), -ENOSPC);

    /* ct_clear. */
    op = (struct ct_op){.type = CT_OP_CLEAR};
    key.f.ct_mark = htonl(5);
    assert_int_equal(ct_det_class.execute(ct, &op, &key), 0);
    assert_int_equal(key.f.ct_state, 0);
    assert_int_equal(key.f.ct_mark, 0);
    assert_int_equal(key.f.ct_zone, 0);
    assert_int_equal(ct_det_count(ct, CT_OP_NEXT), 3);
    assert_int_equal(ct_det_count(ct, CT_OP_CLEAR), 1);
    ct_det_destroy(ct);
    ct_det_destroy(NULL);
    (void)state;
}

static void
test_ct_det_lb(void **state)
{
    struct action_backend backends[3] = {
        {.ip = 0x0a000101, .port = 53},
        {.ip = 0x0a000102, .port = 53},
        {.ip = 0x0a000103, .port = 5353},
    };
    struct action_lb lb = {.has_backends = true, .backends = backends, .n_backends = 3};
    struct ct_det *ct;
    struct ct_op op;
    struct pkey key;

    assert_int_equal(ct_det_create(&ct), 0);

    /* --lb-dst picks its backend, whatever the flow. */
    assert_int_equal(ct_det_set_lb_dst(ct, "10.0.1.2"), 0);
    for (int sport = 1; sport < 50; sport++) {
        make_key(&key);
        key.f.udp_src = htons((uint16_t)sport);
        op = (struct ct_op){.type = CT_OP_LB, .lb = &lb, .recirc = true, .commit = true};
        assert_int_equal(ct_det_class.execute(ct, &op, &key), 0);
        assert_int_equal(op.backend, 1);
        assert_int_equal(ntohl(key.f.ip4_dst), 0x0a000102);
        assert_int_equal(ntohs(key.f.udp_dst), 53);
        assert_int_equal(ntohl(key.f.ct_state),
                         CT_STATE_TRK | CT_STATE_EST | CT_STATE_DNAT);
        /* ct_lb (not _mark): natted goes to ct_label. */
        assert_true((pkey_field_get(&key, PKEY_F_CT_LABEL) & CT_MARK_NATTED) != 0);
    }

    /* IP and port must both match. */
    assert_int_equal(ct_det_set_lb_dst(ct, "10.0.1.3:5353"), 0);
    make_key(&key);
    op = (struct ct_op){.type = CT_OP_LB, .lb = &lb, .lb_mark = true, .recirc = true};
    assert_int_equal(ct_det_class.execute(ct, &op, &key), 0);
    assert_int_equal(op.backend, 2);
    assert_int_equal(ntohs(key.f.udp_dst), 5353);
    assert_int_equal(ntohl(key.f.ct_mark), CT_MARK_NATTED);

    /* No backend matches: a hash of the flow, the same every time. */
    assert_int_equal(ct_det_set_lb_dst(ct, "10.0.1.3:53"), 0);
    int first = -1;
    for (int rep = 0; rep < 3; rep++) {
        make_key(&key);
        op = (struct ct_op){.type = CT_OP_LB, .lb = &lb, .recirc = true};
        assert_int_equal(ct_det_class.execute(ct, &op, &key), 0);
        assert_true(op.backend >= 0 && op.backend < 3);
        if (first >= 0) {
            assert_int_equal(op.backend, first);
        }
        first = op.backend;
    }

    /* ct_lb without backends takes --lb-dst itself. */
    struct action_lb none = {0};
    assert_int_equal(ct_det_set_lb_dst(ct, "192.168.9.9:99"), 0);
    make_key(&key);
    op = (struct ct_op){.type = CT_OP_LB, .lb = &none, .recirc = true};
    assert_int_equal(ct_det_class.execute(ct, &op, &key), 0);
    assert_int_equal(ntohl(key.f.ip4_dst), 0xc0a80909);
    assert_int_equal(ntohs(key.f.udp_dst), 99);

    /* An invalid connection is not balanced. */
    assert_int_equal(ct_det_push_state(ct, "inv"), 0);
    make_key(&key);
    op = (struct ct_op){.type = CT_OP_LB, .lb = &lb, .recirc = true};
    assert_int_equal(ct_det_class.execute(ct, &op, &key), 0);
    assert_int_equal(op.backend, -1);
    assert_int_equal(ntohl(key.f.ip4_dst), 0xac100064);

    /* Address family mismatch is an error, not a rewrite. */
    struct action_backend v6 = {.ipv6 = true, .ip = 1, .port = 80};
    struct action_lb lb6 = {.has_backends = true, .backends = &v6, .n_backends = 1};
    assert_int_equal(ct_det_set_lb_dst(ct, NULL), 0);
    make_key(&key);
    op = (struct ct_op){.type = CT_OP_LB, .lb = &lb6, .recirc = true};
    assert_int_equal(ct_det_class.execute(ct, &op, &key), -EAFNOSUPPORT);

    /* --lb-dst syntax. */
    assert_int_equal(ct_det_set_lb_dst(ct, "[fd00::1]:80"), 0);
    assert_int_equal(ct_det_set_lb_dst(ct, "fd00::1"), 0);
    assert_int_equal(ct_det_set_lb_dst(ct, "10.0.0.1:0"), -EINVAL);
    assert_int_equal(ct_det_set_lb_dst(ct, "10.0.0.1:65536"), -EINVAL);
    assert_int_equal(ct_det_set_lb_dst(ct, "[fd00::1"), -EINVAL);
    assert_int_equal(ct_det_set_lb_dst(ct, "host:80"), -EINVAL);
    ct_det_destroy(ct);
    (void)state;
}

static void
test_ct_det_nat_commit(void **state)
{
    struct ct_det *ct;
    struct ct_op op;
    struct pkey key;

    assert_int_equal(ct_det_create(&ct), 0);
    make_key(&key);
    op = (struct ct_op){.type = CT_OP_DNAT,
                        .has_nat_ip = true,
                        .nat_ip = 0x0a000009,
                        .nat_port_lo = 5300,
                        .nat_port_hi = 5300,
                        .recirc = true};
    assert_int_equal(ct_det_class.execute(ct, &op, &key), 0);
    assert_int_equal(ntohl(key.f.ip4_dst), 0x0a000009);
    assert_int_equal(ntohs(key.f.udp_dst), 5300);
    assert_int_equal(ntohl(key.f.ct_state), CT_STATE_TRK | CT_STATE_EST | CT_STATE_DNAT);

    /* Without an address the packet is left alone. */
    make_key(&key);
    op = (struct ct_op){.type = CT_OP_SNAT, .recirc = true};
    assert_int_equal(ct_det_class.execute(ct, &op, &key), 0);
    assert_int_equal(ntohl(key.f.ip4_src), 0x0a000005);
    assert_int_equal(ntohl(key.f.ct_state), CT_STATE_TRK | CT_STATE_EST);

    /* Commit writes the mark and label under their masks. */
    make_key(&key);
    key.f.ct_mark = htonl(0xf0);
    op = (struct ct_op){.type = CT_OP_COMMIT,
                        .commit = true,
                        .mark_value = 0x1,
                        .mark_mask = 0x11,
                        .label_value = (lex_u128)7 << 96,
                        .label_mask = (lex_u128)0xffffffff << 96};
    assert_int_equal(ct_det_class.execute(ct, &op, &key), 0);
    assert_int_equal(ntohl(key.f.ct_mark), 0xe1);
    assert_true(pkey_field_get(&key, PKEY_F_CT_LABEL) == (lex_u128)7 << 96);
    assert_int_equal(key.f.ct_state, 0); /* Commit does not look up. */
    ct_det_destroy(ct);
    (void)state;
}

/* Conntrack zones: 0..65535, as a JSON integer or a string of digits; anything else
 * refused, with '*zone' left alone. */
static void
test_ct_zone_parse(void **state)
{
    (void)state;
    static const char *const good[] = {"0",     "7",         "65535",
                                       "\"0\"", "\"65535\"", "\"00042\""};
    static const int64_t good_v[] = {0, 7, 65535, 0, 65535, 42};
    static const char *const bad[] = {"-1",        "65536",      "70000",   "\"-1\"",
                                      "\"70000\"", "\"\"",       "\"1e3\"", "\" 7\"",
                                      "\"0x10\"",  "1.5",        "true",    "null",
                                      "[7]",       "\"123456\"", "{}"};

    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        json_t *v = json_loads(good[i], JSON_DECODE_ANY, NULL);
        uint16_t zone = 1;

        assert_non_null(v);
        assert_int_equal(ct_zone_parse(v, &zone), 0);
        assert_int_equal(zone, good_v[i]);
        json_decref(v);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *v = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        uint16_t zone = 1234;

        assert_non_null(v);
        if (ct_zone_parse(v, &zone) != -EINVAL) {
            fail_msg("zone %s accepted", bad[i]);
        }
        assert_int_equal(zone, 1234);
        json_decref(v);
    }
    assert_int_equal(ct_zone_parse(NULL, &(uint16_t){0}), -EINVAL);
    assert_string_equal(CT_ZONE_ERROR, "a conntrack zone is an integer from 0 to 65535");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ct_state_parse),    cmocka_unit_test(test_ct_zone_parse),
        cmocka_unit_test(test_ct_det_states),     cmocka_unit_test(test_ct_det_lb),
        cmocka_unit_test(test_ct_det_nat_commit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
