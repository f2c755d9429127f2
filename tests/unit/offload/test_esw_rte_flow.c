/* Unit tests of the rte_flow eSwitch backend that run without hardware: device
 * discovery when libibverbs finds nothing (ibv_get_device_list() is wrapped), and the
 * translation's refusals, the template form's shape keys and the template API's
 * configuration.  The translation's output and the template commands are covered by
 * the golden tests of tests/golden/esw_rte_flow/. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <infiniband/verbs.h>

#include "offload/esw_rte_flow.h"

struct ibv_device **__wrap_ibv_get_device_list(int *num_devices);
void __wrap_ibv_free_device_list(struct ibv_device **list);

static int fake_devices; /* How many devices the wrapped libibverbs reports. */
static struct ibv_device fake_device;

struct ibv_device **
__wrap_ibv_get_device_list(int *num_devices)
{
    struct ibv_device **list = calloc(fake_devices + 1, sizeof *list);
    for (int i = 0; list && i < fake_devices; i++) {
        list[i] = &fake_device;
    }
    if (num_devices) {
        *num_devices = list ? fake_devices : 0;
    }
    return list;
}

void
__wrap_ibv_free_device_list(struct ibv_device **list)
{
    free(list);
}

static void
test_no_device(void **state)
{
    struct esw *esw = NULL;
    struct esw_error err;
    esw_error_clear(&err);
    fake_devices = 0;
    assert_int_equal(esw_open(&esw_rte_flow_class, NULL, &esw, &err), -ENODEV);
    assert_null(esw);
    assert_string_equal(err.err.message, "no RDMA device found");
    assert_non_null(strstr(err.err.detail, "mlx5"));

    /* A device that is not the one asked for. */
    snprintf(fake_device.name, sizeof fake_device.name, "mlx5_0");
    snprintf(fake_device.ibdev_path, sizeof fake_device.ibdev_path, "/nonexistent/ibdev");
    fake_devices = 1;
    esw_error_clear(&err);
    assert_int_equal(esw_open(&esw_rte_flow_class, "dev=mlx5_7", &esw, &err), -ENODEV);
    assert_null(esw);
    assert_string_equal(err.err.message, "no matching mlx5 device");
    assert_non_null(strstr(err.err.detail, "mlx5_7"));
}

static void
test_translate_refusals(void **state)
{
    struct esw_rte_flow_xlate_cfg cfg = {.proxy_port = 0};
    struct esw_rte_flow_rule *out = malloc(sizeof *out);
    struct rte_flow_attr attr = {.transfer = 1};
    struct rte_flow_item any[] = {{.type = RTE_FLOW_ITEM_TYPE_END}};
    struct rte_flow_item flex[] = {{.type = RTE_FLOW_ITEM_TYPE_FLEX},
                                   {.type = RTE_FLOW_ITEM_TYPE_END}};
    struct rte_flow_action_conntrack ct = {.enable = 1};
    struct rte_flow_action ctact[] = {
        {.type = RTE_FLOW_ACTION_TYPE_CONNTRACK, .conf = &ct},
        {.type = RTE_FLOW_ACTION_TYPE_END}};
    struct rte_flow_action drop[] = {{.type = RTE_FLOW_ACTION_TYPE_DROP},
                                     {.type = RTE_FLOW_ACTION_TYPE_END}};
    struct rte_flow_action nojump[] = {{.type = RTE_FLOW_ACTION_TYPE_JUMP},
                                       {.type = RTE_FLOW_ACTION_TYPE_END}};
    struct esw_error err;

    esw_error_clear(&err);
    assert_int_equal(esw_rte_flow_translate(&cfg, &attr, any, ctact, NULL, out, &err),
                     -ENOTSUP);
    assert_int_equal(err.type, RTE_FLOW_ERROR_TYPE_ACTION);
    assert_int_equal(err.index, 0);
    esw_error_clear(&err);
    assert_int_equal(esw_rte_flow_translate(&cfg, &attr, flex, drop, NULL, out, &err),
                     -ENOTSUP);
    assert_int_equal(err.type, RTE_FLOW_ERROR_TYPE_ITEM);
    esw_error_clear(&err);
    assert_int_equal(esw_rte_flow_translate(&cfg, &attr, any, nojump, NULL, out, &err),
                     -EINVAL);
    assert_int_equal(err.type, RTE_FLOW_ERROR_TYPE_ACTION_CONF);
    struct rte_flow_attr ingress = {.ingress = 1};
    esw_error_clear(&err);
    assert_int_equal(esw_rte_flow_translate(&cfg, &ingress, any, drop, NULL, out, &err),
                     -EINVAL);
    assert_int_equal(err.type, RTE_FLOW_ERROR_TYPE_ATTR_TRANSFER);
    esw_error_clear(&err);
    assert_int_equal(esw_rte_flow_translate(&cfg, &attr, any, drop, NULL, out, &err), 0);
    assert_int_equal(out->actions[0].type, RTE_FLOW_ACTION_TYPE_DROP);
    assert_int_equal(out->actions[1].type, RTE_FLOW_ACTION_TYPE_END);
    free(out);
}

/* Translates a rule matching VF 'port' and destination MAC (under 'mac_mask') to VF
 * 'out' with COUNT, then builds its template form. */
static void
template_of(uint16_t port, const uint8_t mac_mask[6], uint16_t out, uint32_t group,
            struct esw_rte_flow_template *t)
{
    struct esw_rte_flow_xlate_cfg cfg = {.proxy_port = 0};
    struct rte_flow_attr attr = {.transfer = 1, .group = group};
    struct rte_flow_item_ethdev in = {.port_id = port};
    struct rte_flow_item_eth eth = {.hdr.dst_addr.addr_bytes = {2, 0, 0, 0, 0, 2}};
    struct rte_flow_item_eth eth_m;
    memset(&eth_m, 0, sizeof eth_m);
    memcpy(eth_m.hdr.dst_addr.addr_bytes, mac_mask, 6);
    struct rte_flow_action_ethdev dst = {.port_id = out};
    struct rte_flow_item items[] = {
        {.type = RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, .spec = &in},
        {.type = RTE_FLOW_ITEM_TYPE_ETH, .spec = &eth, .mask = &eth_m},
        {.type = RTE_FLOW_ITEM_TYPE_END}};
    struct rte_flow_action actions[] = {
        {.type = RTE_FLOW_ACTION_TYPE_COUNT},
        {.type = RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, .conf = &dst},
        {.type = RTE_FLOW_ACTION_TYPE_END}};
    struct esw_rte_flow_rule *dev = malloc(sizeof *dev);
    struct esw_error err;
    esw_error_clear(&err);
    assert_non_null(dev);
    assert_int_equal(esw_rte_flow_translate(&cfg, &attr, items, actions, NULL, dev, &err),
                     0);
    assert_int_equal(esw_rte_flow_template_build(dev, 0, t, &err), 0);
    free(dev);
}

static size_t
key_of(const struct esw_rte_flow_template *t, uint8_t *buf, size_t size)
{
    size_t len = esw_rte_flow_template_key(t, buf, size);
    assert_true(len <= size);
    return len;
}

static void
test_template_shapes(void **state)
{
    static const uint8_t full[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t oui[6] = {0xff, 0xff, 0xff, 0, 0, 0};
    struct esw_rte_flow_template *a = malloc(sizeof *a);
    struct esw_rte_flow_template *b = malloc(sizeof *b);
    uint8_t ka[512], kb[512];
    assert_non_null(a);
    assert_non_null(b);

    /* The template form holds masks, no specs; a spec without a mask takes the
     * default mask; the table gets the default size. */
    template_of(1, full, 2, 1, a);
    assert_int_equal(a->items[0].type, RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT);
    assert_null(a->items[0].spec);
    assert_non_null(a->items[0].mask);
    assert_int_equal(((const struct rte_flow_item_ethdev *)a->items[0].mask)->port_id,
                     0xffff);
    assert_int_equal(a->items[2].type, RTE_FLOW_ITEM_TYPE_END);
    assert_null(a->masks[1].conf);
    assert_int_equal(a->table_attr.nb_flows, ESW_RTE_FLOW_TABLE_SIZE);
    assert_int_equal(a->table_attr.flow_attr.group, 1);
    assert_true(a->table_attr.flow_attr.transfer);

    /* Other ports and MACs under the same masks: the same table. */
    template_of(5, full, 7, 1, b);
    size_t la = key_of(a, ka, sizeof ka), lb = key_of(b, kb, sizeof kb);
    assert_int_equal(la, lb);
    assert_memory_equal(ka, kb, la);

    /* Another mask, or another group: another table. */
    template_of(1, oui, 2, 1, b);
    lb = key_of(b, kb, sizeof kb);
    assert_true(la != lb || memcmp(ka, kb, la));
    template_of(1, full, 2, 3, b);
    lb = key_of(b, kb, sizeof kb);
    assert_true(la != lb || memcmp(ka, kb, la));

    /* The key is measured without a buffer, and truncated safely. */
    assert_int_equal(esw_rte_flow_template_key(a, NULL, 0), la);
    assert_int_equal(esw_rte_flow_template_key(a, ka, 4), la);
    free(a);
    free(b);
}

static void
test_template_refusals(void **state)
{
    struct esw_rte_flow_rule *dev = calloc(1, sizeof *dev);
    struct esw_rte_flow_template *t = malloc(sizeof *t);
    struct esw_error err;
    assert_non_null(dev);
    assert_non_null(t);
    dev->attr.transfer = 1;
    dev->items[0].type = RTE_FLOW_ITEM_TYPE_FLEX;
    dev->items[1].type = RTE_FLOW_ITEM_TYPE_END;
    dev->actions[0].type = RTE_FLOW_ACTION_TYPE_DROP;
    dev->actions[1].type = RTE_FLOW_ACTION_TYPE_END;
    esw_error_clear(&err);
    assert_int_equal(esw_rte_flow_template_build(dev, 16, t, &err), -ENOTSUP);
    assert_int_equal(err.type, RTE_FLOW_ERROR_TYPE_ITEM);
    assert_int_equal(err.index, 0);

    struct rte_flow_action_modify_field mf = {.operation = RTE_FLOW_MODIFY_SET,
                                              .dst.field = RTE_FLOW_FIELD_IPV4_DST,
                                              .src.field = RTE_FLOW_FIELD_VALUE,
                                              .width = 32};
    dev->items[0].type = RTE_FLOW_ITEM_TYPE_END;
    for (int i = 0; i < 3; i++) {
        dev->actions[i] = (struct rte_flow_action){
            .type = RTE_FLOW_ACTION_TYPE_MODIFY_FIELD, .conf = &mf};
    }
    dev->actions[3].type = RTE_FLOW_ACTION_TYPE_END;
    esw_error_clear(&err);
    assert_int_equal(esw_rte_flow_template_build(dev, 16, t, &err), -ENOTSUP);
    assert_int_equal(err.index, 2);

    /* Two are fine: fields fixed, the value per rule. */
    dev->actions[2].type = RTE_FLOW_ACTION_TYPE_END;
    esw_error_clear(&err);
    assert_int_equal(esw_rte_flow_template_build(dev, 16, t, &err), 0);
    const struct rte_flow_action_modify_field *m = t->masks[0].conf;
    assert_non_null(m);
    assert_int_equal(m->dst.field, RTE_FLOW_FIELD_IPV4_DST);
    assert_int_equal(m->width, UINT32_MAX);
    assert_int_equal(t->table_attr.nb_flows, 16);
    free(dev);
    free(t);
}

static void
test_port_cfg(void **state)
{
    struct esw_rte_flow_port_cfg cfg;
    struct rte_flow_port_info port = {.max_nb_queues = 8};
    struct rte_flow_queue_info queue = {.max_size = 0};

    /* No maxima reported: one queue of 1024, counters and aging objects per rule. */
    esw_rte_flow_port_cfg_choose(&port, &queue, 1000, &cfg);
    assert_int_equal(cfg.nb_queues, 1);
    assert_int_equal(cfg.queue_attr.size, 1024);
    assert_int_equal(cfg.port_attr.nb_counters, 1000);
    assert_int_equal(cfg.port_attr.nb_aging_objects, 1000);

    /* The device's maxima cap them. */
    port.max_nb_counters = 100;
    port.max_nb_aging_objects = 10;
    queue.max_size = 64;
    esw_rte_flow_port_cfg_choose(&port, &queue, 1000, &cfg);
    assert_int_equal(cfg.queue_attr.size, 64);
    assert_int_equal(cfg.port_attr.nb_counters, 100);
    assert_int_equal(cfg.port_attr.nb_aging_objects, 10);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_device),       cmocka_unit_test(test_translate_refusals),
        cmocka_unit_test(test_template_shapes), cmocka_unit_test(test_template_refusals),
        cmocka_unit_test(test_port_cfg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
