/* Unit tests of the rte_flow eSwitch backend that run without hardware: device
 * discovery when libibverbs finds nothing (ibv_get_device_list() is wrapped), and the
 * translation's refusals.  The translation's output is covered by the golden tests of
 * tests/golden/esw_rte_flow/. */
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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_device),
        cmocka_unit_test(test_translate_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
