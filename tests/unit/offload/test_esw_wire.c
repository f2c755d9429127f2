/* Unit tests of the eSwitch rule wire format: round trips and hostile input.
 *
 * With OVNIC_ESW_WIRE_SEEDS=DIR in the environment, also writes the encodings it
 * builds into DIR (the fuzz corpus tests/fuzz/corpus/esw_wire/). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "offload/esw_wire.h"

static void
save_seed(const char *name, const uint8_t *buf, size_t len)
{
    const char *dir = getenv("OVNIC_ESW_WIRE_SEEDS");
    if (!dir) {
        return;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
}

/* Encodes, decodes, re-encodes: the bytes must be identical, and the decoded arrays
 * must carry the same values.  Returns the decoded rule (caller frees). */
static struct esw_wire_rule *
round_trip(const char *seed, const struct rte_flow_attr *attr,
           const struct rte_flow_item *items, const struct rte_flow_action *actions,
           const struct rte_flow_action *masks)
{
    struct esw_error err;
    esw_error_clear(&err);
    uint8_t *buf;
    size_t len;
    assert_int_equal(esw_wire_rule_encode(attr, items, actions, masks, &buf, &len, &err),
                     0);
    save_seed(seed, buf, len);
    struct esw_wire_rule *rule;
    assert_int_equal(esw_wire_rule_decode(buf, len, &rule, &err), 0);
    uint8_t *buf2;
    size_t len2;
    assert_int_equal(esw_wire_rule_encode(&rule->attr, rule->items, rule->actions,
                                          rule->masks, &buf2, &len2, &err),
                     0);
    assert_int_equal(len, len2);
    assert_memory_equal(buf, buf2, len);

    /* Every truncation is refused cleanly. */
    for (size_t n = 0; n < len; n++) {
        struct esw_wire_rule *bad = NULL;
        esw_error_clear(&err);
        assert_int_equal(esw_wire_rule_decode(buf, n, &bad, &err), -EBADMSG);
        assert_null(bad);
    }
    free(buf);
    free(buf2);
    return rule;
}

static void
test_rule_round_trip(void **state)
{
    struct rte_flow_attr attr = {.group = 3, .priority = 7, .transfer = 1};
    struct rte_flow_item_ethdev port = {.port_id = 4};
    struct rte_flow_item_eth eth = {.hdr.ether_type = RTE_BE16(0x0800), .has_vlan = 1};
    struct rte_flow_item_eth eth_m = {.hdr.ether_type = RTE_BE16(0xffff), .has_vlan = 1};
    struct rte_flow_item_vlan vlan = {.hdr.vlan_tci = RTE_BE16(42), .has_more_vlan = 1};
    struct rte_flow_item_ipv4 ip4 = {.hdr.src_addr = RTE_BE32(0x0a000001),
                                     .hdr.next_proto_id = 17};
    struct rte_flow_item_ipv4 ip4_last = {.hdr.src_addr = RTE_BE32(0x0a0000ff)};
    struct rte_flow_item_ipv6 ip6 = {.hdr.proto = 6, .has_frag_ext = 1};
    struct rte_flow_item_udp udp = {.hdr.dst_port = RTE_BE16(6081)};
    struct rte_flow_item_tcp tcp = {.hdr.tcp_flags = 0x12};
    struct rte_flow_item_icmp icmp = {.hdr.icmp_type = 8};
    struct rte_flow_item_geneve gnv = {.vni = {1, 2, 3}};
    uint32_t opt_data[2] = {RTE_BE32(0x00050007), RTE_BE32(0xdeadbeef)};
    uint32_t opt_mask[2] = {RTE_BE32(0x0000ffff), 0};
    struct rte_flow_item_geneve_opt opt = {.option_class = RTE_BE16(0x0102),
                                           .option_type = 0x80,
                                           .option_len = 2,
                                           .data = opt_data};
    struct rte_flow_item_geneve_opt opt_m = {.option_class = 0xffff,
                                             .option_type = 0xff,
                                             .option_len = 0x1f,
                                             .data = opt_mask};
    struct rte_flow_item_conntrack ct = {.flags = 1};
    struct rte_flow_item items[] = {
        {.type = RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, .spec = &port},
        {.type = RTE_FLOW_ITEM_TYPE_PORT_REPRESENTOR, .spec = &port, .mask = &port},
        {.type = RTE_FLOW_ITEM_TYPE_VOID},
        {.type = RTE_FLOW_ITEM_TYPE_ETH, .spec = &eth, .mask = &eth_m},
        {.type = RTE_FLOW_ITEM_TYPE_VLAN, .spec = &vlan},
        {.type = RTE_FLOW_ITEM_TYPE_IPV4, .spec = &ip4, .last = &ip4_last},
        {.type = RTE_FLOW_ITEM_TYPE_IPV6, .spec = &ip6},
        {.type = RTE_FLOW_ITEM_TYPE_UDP, .spec = &udp},
        {.type = RTE_FLOW_ITEM_TYPE_TCP, .spec = &tcp},
        {.type = RTE_FLOW_ITEM_TYPE_ICMP, .spec = &icmp},
        {.type = RTE_FLOW_ITEM_TYPE_GENEVE, .spec = &gnv},
        {.type = RTE_FLOW_ITEM_TYPE_GENEVE_OPT, .spec = &opt, .mask = &opt_m},
        {.type = RTE_FLOW_ITEM_TYPE_CONNTRACK, .spec = &ct},
        {.type = RTE_FLOW_ITEM_TYPE_END},
    };
    uint8_t encap[60];
    for (size_t i = 0; i < sizeof encap; i++) {
        encap[i] = (uint8_t)i;
    }
    uint8_t preserve[60] = {0xff};
    struct rte_flow_action_raw_encap enc = {
        .data = encap, .preserve = preserve, .size = sizeof encap};
    struct rte_flow_action_raw_decap dec = {.data = encap, .size = 50};
    struct rte_flow_action_jump jump = {.group = 9};
    struct rte_flow_action_ethdev out = {.port_id = 2};
    struct rte_flow_action_set_mac mac = {.mac_addr = {1, 2, 3, 4, 5, 6}};
    struct rte_flow_action_set_ipv4 sip = {.ipv4_addr = RTE_BE32(0xc0a80001)};
    struct rte_flow_action_set_ipv6 sip6 = {.ipv6_addr = {0xfd, [15] = 9}};
    struct rte_flow_action_set_tp tp = {.port = RTE_BE16(80)};
    struct rte_flow_action_count count = {.id = 77};
    struct rte_flow_action_age age = {.timeout = 30};
    struct rte_flow_action_meter meter = {.mtr_id = 5};
    struct rte_flow_action_modify_field mf = {
        .operation = RTE_FLOW_MODIFY_SET,
        .dst = {.field = RTE_FLOW_FIELD_IPV4_DST, .level = 1, .offset = 0},
        .src = {.field = RTE_FLOW_FIELD_VALUE, .value = {10, 0, 0, 9}},
        .width = 32,
    };
    struct rte_flow_action_conntrack ctc = {
        .peer_port = 3,
        .is_original_dir = 1,
        .enable = 1,
        .liberal_mode = 1,
        .state = RTE_FLOW_CONNTRACK_STATE_ESTABLISHED,
        .max_ack_window = 7,
        .original_dir = {.scale = 5, .last_ack_seen = 1, .sent_end = 100, .max_ack = 9},
        .reply_dir = {.scale = 0xf, .data_unacked = 1, .reply_end = 200},
        .last_window = 1000,
        .last_index = RTE_FLOW_CONNTRACK_FLAG_ACK,
        .last_seq = 1,
        .last_ack = 2,
        .last_end = 3,
    };
    struct rte_flow_action actions[] = {
        {.type = RTE_FLOW_ACTION_TYPE_RAW_DECAP, .conf = &dec},
        {.type = RTE_FLOW_ACTION_TYPE_RAW_DECAP},
        {.type = RTE_FLOW_ACTION_TYPE_SET_MAC_SRC, .conf = &mac},
        {.type = RTE_FLOW_ACTION_TYPE_SET_MAC_DST, .conf = &mac},
        {.type = RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC, .conf = &sip},
        {.type = RTE_FLOW_ACTION_TYPE_SET_IPV4_DST, .conf = &sip},
        {.type = RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC, .conf = &sip6},
        {.type = RTE_FLOW_ACTION_TYPE_SET_IPV6_DST, .conf = &sip6},
        {.type = RTE_FLOW_ACTION_TYPE_SET_TP_SRC, .conf = &tp},
        {.type = RTE_FLOW_ACTION_TYPE_SET_TP_DST, .conf = &tp},
        {.type = RTE_FLOW_ACTION_TYPE_MODIFY_FIELD, .conf = &mf},
        {.type = RTE_FLOW_ACTION_TYPE_DEC_TTL},
        {.type = RTE_FLOW_ACTION_TYPE_COUNT, .conf = &count},
        {.type = RTE_FLOW_ACTION_TYPE_COUNT},
        {.type = RTE_FLOW_ACTION_TYPE_AGE, .conf = &age},
        {.type = RTE_FLOW_ACTION_TYPE_METER, .conf = &meter},
        {.type = RTE_FLOW_ACTION_TYPE_CONNTRACK, .conf = &ctc},
        {.type = RTE_FLOW_ACTION_TYPE_RAW_ENCAP, .conf = &enc},
        {.type = RTE_FLOW_ACTION_TYPE_VOID},
        {.type = RTE_FLOW_ACTION_TYPE_PORT_REPRESENTOR, .conf = &out},
        {.type = RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, .conf = &out},
        {.type = RTE_FLOW_ACTION_TYPE_JUMP, .conf = &jump},
        {.type = RTE_FLOW_ACTION_TYPE_DROP},
        {.type = RTE_FLOW_ACTION_TYPE_END},
    };
    struct esw_wire_rule *r = round_trip("all-types", &attr, items, actions, NULL);

    assert_int_equal(r->attr.group, 3);
    assert_int_equal(r->attr.priority, 7);
    assert_true(r->attr.transfer);
    assert_false(r->attr.ingress);
    assert_int_equal(r->n_items, 13);
    assert_int_equal(r->n_actions, 23);
    assert_int_equal(r->items[13].type, RTE_FLOW_ITEM_TYPE_END);
    assert_int_equal(r->actions[23].type, RTE_FLOW_ACTION_TYPE_END);
    assert_null(r->masks);

    const struct rte_flow_item_eth *e = r->items[3].spec;
    assert_int_equal(e->hdr.ether_type, RTE_BE16(0x0800));
    assert_true(e->has_vlan);
    assert_true(((const struct rte_flow_item_vlan *)r->items[4].spec)->has_more_vlan);
    assert_memory_equal(r->items[5].last, &ip4_last, sizeof ip4_last);
    assert_true(((const struct rte_flow_item_ipv6 *)r->items[6].spec)->has_frag_ext);
    const struct rte_flow_item_geneve_opt *o = r->items[11].spec;
    assert_int_equal(o->option_len, 2);
    assert_memory_equal(o->data, opt_data, 8);
    const struct rte_flow_item_geneve_opt *om = r->items[11].mask;
    assert_int_equal(om->option_len, 0x1f);
    assert_memory_equal(om->data, opt_mask, 8);
    assert_int_equal(((const struct rte_flow_item_ethdev *)r->items[0].spec)->port_id, 4);

    const struct rte_flow_action_raw_decap *d = r->actions[0].conf;
    assert_int_equal(d->size, 50);
    assert_memory_equal(d->data, encap, 50);
    assert_null(r->actions[1].conf);
    const struct rte_flow_action_modify_field *m = r->actions[10].conf;
    assert_int_equal(m->dst.field, RTE_FLOW_FIELD_IPV4_DST);
    assert_int_equal(m->dst.level, 1);
    assert_memory_equal(m->src.value, mf.src.value, 16);
    assert_int_equal(m->width, 32);
    assert_int_equal(((const struct rte_flow_action_count *)r->actions[12].conf)->id, 77);
    assert_null(r->actions[13].conf);
    assert_int_equal(((const struct rte_flow_action_age *)r->actions[14].conf)->timeout,
                     30);
    assert_null(((const struct rte_flow_action_age *)r->actions[14].conf)->context);
    const struct rte_flow_action_conntrack *c = r->actions[16].conf;
    assert_int_equal(c->peer_port, 3);
    assert_true(c->is_original_dir && c->enable && c->liberal_mode);
    assert_false(c->selective_ack);
    assert_int_equal(c->state, RTE_FLOW_CONNTRACK_STATE_ESTABLISHED);
    assert_int_equal(c->original_dir.scale, 5);
    assert_int_equal(c->reply_dir.scale, 0xf);
    assert_int_equal(c->original_dir.sent_end, 100);
    assert_int_equal(c->reply_dir.reply_end, 200);
    assert_int_equal(c->last_window, 1000);
    assert_int_equal(c->last_end, 3);
    const struct rte_flow_action_raw_encap *en = r->actions[17].conf;
    assert_int_equal(en->size, sizeof encap);
    assert_memory_equal(en->data, encap, sizeof encap);
    assert_memory_equal(en->preserve, preserve, sizeof preserve);
    assert_int_equal(((const struct rte_flow_action_jump *)r->actions[21].conf)->group,
                     9);
    esw_wire_rule_destroy(r);
    esw_wire_rule_destroy(NULL);
}

static void
test_template_masks(void **state)
{
    struct rte_flow_attr attr = {.transfer = 1};
    struct rte_flow_item items[] = {{.type = RTE_FLOW_ITEM_TYPE_ETH},
                                    {.type = RTE_FLOW_ITEM_TYPE_END}};
    struct rte_flow_action_jump jump = {.group = 2};
    struct rte_flow_action_jump jump_m = {.group = UINT32_MAX};
    struct rte_flow_action actions[] = {
        {.type = RTE_FLOW_ACTION_TYPE_JUMP, .conf = &jump},
        {.type = RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT},
        {.type = RTE_FLOW_ACTION_TYPE_END}};
    struct rte_flow_action masks[] = {
        {.type = RTE_FLOW_ACTION_TYPE_JUMP, .conf = &jump_m},
        {.type = RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT},
        {.type = RTE_FLOW_ACTION_TYPE_END}};
    struct esw_wire_rule *r = round_trip("template", &attr, items, actions, masks);
    assert_non_null(r->masks);
    assert_int_equal(((const struct rte_flow_action_jump *)r->masks[0].conf)->group,
                     UINT32_MAX);
    assert_null(r->actions[1].conf);
    assert_null(r->masks[1].conf);
    assert_int_equal(r->masks[2].type, RTE_FLOW_ACTION_TYPE_END);
    esw_wire_rule_destroy(r);

    /* A mask of another type is refused. */
    masks[0].type = RTE_FLOW_ACTION_TYPE_DROP;
    struct esw_error err;
    esw_error_clear(&err);
    uint8_t *buf;
    size_t len;
    assert_int_equal(esw_wire_rule_encode(&attr, items, actions, masks, &buf, &len, &err),
                     -EINVAL);
    assert_int_equal(err.type, RTE_FLOW_ERROR_TYPE_ACTION);
    assert_int_equal(err.index, 0);
}

static void
test_encode_errors(void **state)
{
    struct rte_flow_attr attr = {.transfer = 1};
    struct rte_flow_item any[] = {{.type = RTE_FLOW_ITEM_TYPE_END}};
    struct rte_flow_item flex[] = {{.type = RTE_FLOW_ITEM_TYPE_FLEX},
                                   {.type = RTE_FLOW_ITEM_TYPE_END}};
    struct rte_flow_action drop[] = {{.type = RTE_FLOW_ACTION_TYPE_DROP},
                                     {.type = RTE_FLOW_ACTION_TYPE_END}};
    struct rte_flow_action rss[] = {{.type = RTE_FLOW_ACTION_TYPE_RSS},
                                    {.type = RTE_FLOW_ACTION_TYPE_END}};
    struct rte_flow_action nojump[] = {{.type = RTE_FLOW_ACTION_TYPE_JUMP},
                                       {.type = RTE_FLOW_ACTION_TYPE_END}};
    struct rte_flow_action_modify_field mf = {.dst = {.field = RTE_FLOW_FIELD_IPV4_DST},
                                              .src = {.field = RTE_FLOW_FIELD_POINTER}};
    struct rte_flow_action ptr[] = {
        {.type = RTE_FLOW_ACTION_TYPE_MODIFY_FIELD, .conf = &mf},
        {.type = RTE_FLOW_ACTION_TYPE_END}};
    struct rte_flow_action_raw_encap empty = {0};
    struct rte_flow_action enc[] = {
        {.type = RTE_FLOW_ACTION_TYPE_RAW_ENCAP, .conf = &empty},
        {.type = RTE_FLOW_ACTION_TYPE_END}};
    struct rte_flow_item many[ESW_WIRE_MAX_ITEMS + 2];
    for (size_t i = 0; i < ESW_WIRE_MAX_ITEMS + 1; i++) {
        many[i] = (struct rte_flow_item){.type = RTE_FLOW_ITEM_TYPE_VOID};
    }
    many[ESW_WIRE_MAX_ITEMS + 1].type = RTE_FLOW_ITEM_TYPE_END;

    struct {
        const struct rte_flow_item *items;
        const struct rte_flow_action *actions;
        int code;
        enum rte_flow_error_type type;
    } cases[] = {
        {flex, drop, -ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM},
        {any, rss, -ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION},
        {any, nojump, -EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF},
        {any, ptr, -ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION_CONF},
        {any, enc, -EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF},
        {many, drop, -EINVAL, RTE_FLOW_ERROR_TYPE_ITEM_NUM},
        {NULL, drop, -EINVAL, RTE_FLOW_ERROR_TYPE_ATTR},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct esw_error err;
        esw_error_clear(&err);
        uint8_t *buf = NULL;
        size_t len = 0;
        assert_int_equal(esw_wire_rule_encode(&attr, cases[i].items, cases[i].actions,
                                              NULL, &buf, &len, &err),
                         cases[i].code);
        assert_int_equal(err.type, cases[i].type);
        assert_null(buf);
    }
}

static void
test_decode_hostile(void **state)
{
    struct rte_flow_attr attr = {.transfer = 1};
    struct rte_flow_item_ethdev port = {.port_id = 1};
    struct rte_flow_item items[] = {
        {.type = RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, .spec = &port},
        {.type = RTE_FLOW_ITEM_TYPE_END}};
    struct rte_flow_action_jump jump = {.group = 1};
    struct rte_flow_action actions[] = {
        {.type = RTE_FLOW_ACTION_TYPE_JUMP, .conf = &jump},
        {.type = RTE_FLOW_ACTION_TYPE_END}};
    struct esw_error err;
    esw_error_clear(&err);
    uint8_t *buf;
    size_t len;
    assert_int_equal(esw_wire_rule_encode(&attr, items, actions, NULL, &buf, &len, &err),
                     0);
    save_seed("small", buf, len);
    /* Layout: header 28, item elem 8 + blob len 2 + 2, action elem 8 + 2 + 4. */
    assert_int_equal(len, 28 + 12 + 14);

    struct {
        size_t off;
        uint8_t value;
        int code;
    } cases[] = {
        {0, 'X', -EBADMSG},       /* Magic. */
        {4, 2, -EBADMSG},         /* Version. */
        {5, 0x80, -EBADMSG},      /* Flags. */
        {7, 2, -ENOTSUP},         /* Two items: the action is read as an item. */
        {9, 40, -EBADMSG},        /* Action count over the maximum. */
        {11, 1, -EBADMSG},        /* Reserved. */
        {23, 0x08, -EBADMSG},     /* Unknown attribute flag. */
        {27, 0xff, -EBADMSG},     /* Total length. */
        {31, 0x30, -ENOTSUP},     /* Unknown item type. */
        {32, 0x08, -EBADMSG},     /* Unknown presence bit. */
        {33, 1, -EBADMSG},        /* Element reserved byte. */
        {35, 5, -EBADMSG},        /* Element length. */
        {37, 3, -EBADMSG},        /* Blob length. */
        {40 + 3, 0x7f, -ENOTSUP}, /* Unknown action type. */
        {40 + 4, 0x02, -EBADMSG}, /* Last on an action. */
        {40 + 9, 2, -EBADMSG},    /* JUMP conf of 2 bytes. */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint8_t copy[64];
        memcpy(copy, buf, len);
        copy[cases[i].off] = cases[i].value;
        struct esw_wire_rule *r = NULL;
        esw_error_clear(&err);
        int code = esw_wire_rule_decode(copy, len, &r, &err);
        if (code != cases[i].code) {
            fail_msg("case %zu (offset %zu): %d", i, cases[i].off, code);
        }
        assert_null(r);
    }
    /* Trailing bytes. */
    uint8_t longer[64];
    memcpy(longer, buf, len);
    longer[len] = 0;
    struct esw_wire_rule *r = NULL;
    assert_int_equal(esw_wire_rule_decode(longer, len + 1, &r, &err), -EBADMSG);
    assert_int_equal(esw_wire_rule_decode(NULL, 0, &r, &err), -EBADMSG);
    free(buf);
}

static void
test_error_stats_caps(void **state)
{
    struct esw_error err, back;
    esw_error_clear(&err);
    esw_error_set(&err, -ENOSPC, RTE_FLOW_ERROR_TYPE_HANDLE, 3, "table full", "%d", 7);
    struct esw_wire_error w;
    esw_wire_error_encode(&err, &w);
    esw_error_clear(&back);
    assert_int_equal(esw_wire_error_decode(&w, &back), -ENOSPC);
    assert_int_equal(back.type, RTE_FLOW_ERROR_TYPE_HANDLE);
    assert_int_equal(back.index, 3);
    assert_string_equal(back.err.detail, "table full (7)");
    /* A peer's nonsense is made safe. */
    memset(&w, 0x7f, sizeof w);
    esw_error_clear(&back);
    assert_int_equal(esw_wire_error_decode(&w, &back), -EIO);
    assert_int_equal(back.type, RTE_FLOW_ERROR_TYPE_UNSPECIFIED);
    assert_int_equal(back.index, -1);

    struct esw_rule_stats st = {.has_count = true,
                                .packets = 1ull << 40,
                                .bytes = 5,
                                .has_age = true,
                                .idle_sec = 9,
                                .aged = true};
    struct esw_wire_stats ws;
    esw_wire_stats_encode(&st, &ws);
    struct esw_rule_stats st2;
    assert_int_equal(esw_wire_stats_decode(&ws, &st2), 0);
    assert_true(st2.has_count && st2.has_age && st2.aged);
    assert_int_equal(st2.packets, st.packets);
    assert_int_equal(st2.bytes, 5);
    assert_int_equal(st2.idle_sec, 9);
    ws.flags |= 0x40;
    assert_int_equal(esw_wire_stats_decode(&ws, &st2), -EBADMSG);

    struct esw_caps caps;
    memset(&caps, 0, sizeof caps);
    snprintf(caps.device, sizeof caps.device, "bf3");
    esw_caps_bit_set(caps.items, RTE_FLOW_ITEM_TYPE_GENEVE_OPT);
    esw_caps_bit_set(caps.actions, RTE_FLOW_ACTION_TYPE_MODIFY_FIELD);
    caps.max_rules = 1000;
    caps.geneve_opt = true;
    caps.geneve_opt_class = 0x0102;
    caps.geneve_opt_type = 0x80;
    caps.async_native = true;
    caps.async_queues = 4;
    struct esw_wire_caps wc;
    esw_wire_caps_encode(&caps, &wc);
    struct esw_caps caps2;
    assert_int_equal(esw_wire_caps_decode(&wc, &caps2), 0);
    assert_memory_equal(&caps, &caps2, sizeof caps);
    assert_true(esw_caps_has_item(&caps2, RTE_FLOW_ITEM_TYPE_GENEVE_OPT));
    assert_false(esw_caps_has_item(&caps2, RTE_FLOW_ITEM_TYPE_GENEVE));
    assert_false(esw_caps_has_item(&caps2, -5));
    memset(wc.device, 'x', sizeof wc.device);
    assert_int_equal(esw_wire_caps_decode(&wc, &caps2), -EBADMSG);
}

static void
test_format(void **state)
{
    struct rte_flow_attr attr = {.group = 1, .priority = 2, .transfer = 1};
    struct rte_flow_item_ethdev port = {.port_id = 3};
    struct rte_flow_item_ipv4 ip = {.hdr.dst_addr = RTE_BE32(0x0a000002)};
    struct rte_flow_item_ipv4 ip_m = {.hdr.dst_addr = RTE_BE32(0xffffff00)};
    struct rte_flow_item items[] = {
        {.type = RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, .spec = &port},
        {.type = RTE_FLOW_ITEM_TYPE_ETH},
        {.type = RTE_FLOW_ITEM_TYPE_IPV4, .spec = &ip, .mask = &ip_m},
        {.type = RTE_FLOW_ITEM_TYPE_END}};
    struct rte_flow_action_ethdev out = {.port_id = 0};
    struct rte_flow_action actions[] = {
        {.type = RTE_FLOW_ACTION_TYPE_COUNT},
        {.type = RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, .conf = &out},
        {.type = RTE_FLOW_ACTION_TYPE_END}};
    char buf[512];
    int n = esw_rule_format(&attr, items, actions, 0, buf, sizeof buf);
    assert_string_equal(buf, "flow create 0 group 1 priority 2 transfer pattern "
                             "represented_port ethdev_port_id is 3 / eth / ipv4 dst spec "
                             "10.0.0.2 dst mask 255.255.255.0 / end actions count / "
                             "represented_port ethdev_port_id 0 / end");
    assert_int_equal(n, (int)strlen(buf));
    /* Truncation keeps the full length. */
    char small[10];
    assert_int_equal(esw_rule_format(&attr, items, actions, 0, small, sizeof small), n);
    assert_int_equal(strlen(small), sizeof small - 1);

    assert_string_equal(esw_item_name(RTE_FLOW_ITEM_TYPE_GENEVE_OPT), "geneve-opt");
    assert_int_equal(esw_action_from_name("raw_encap"), RTE_FLOW_ACTION_TYPE_RAW_ENCAP);
    assert_int_equal(esw_item_from_name("nope"), -1);
    assert_null(esw_action_name(-3));

    struct esw_error err;
    esw_error_clear(&err);
    esw_error_set(&err, -ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM, 4, "no", "vlan");
    esw_error_set(&err, -EIO, RTE_FLOW_ERROR_TYPE_HANDLE, 1, "later", NULL);
    assert_string_equal(esw_error_format(&err, buf, sizeof buf),
                        "item[4]: no (vlan): Operation not supported");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_round_trip),  cmocka_unit_test(test_template_masks),
        cmocka_unit_test(test_encode_errors),    cmocka_unit_test(test_decode_hostile),
        cmocka_unit_test(test_error_stats_caps), cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
