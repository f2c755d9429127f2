/* Unit tests of offload/esw.c (dispatch, handles, the emulated template/async path)
 * over an in-process backend that drives the simulated eSwitch directly. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "offload/esw_provider.h"
#include "tests/hw-sim/eswitch/eswitch.h"
#include "tests/unit/eswitch/pkt.h"

struct local {
    struct esw up;
    struct eswitch *sw;
    uint64_t now_ms;
    int bulk_calls;
};

static struct local *
local_cast(struct esw *esw)
{
    return CONTAINER_OF(esw, struct local, up);
}

static int
local_open(const char *args, struct esw **espp, struct esw_error *error)
{
    struct eswitch_profile p;
    if (eswitch_profile_load(args, &p, error)) {
        return error->err.code;
    }
    struct local *l = calloc(1, sizeof *l);
    if (!l || eswitch_create(&p, &l->sw)) {
        free(l);
        return esw_error_set(error, -ENOMEM, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                             "out of memory", NULL);
    }
    *espp = &l->up;
    return 0;
}

static void
local_close(struct esw *esw)
{
    struct local *l = local_cast(esw);
    eswitch_destroy(l->sw);
    free(l);
}

static int
local_caps_get(struct esw *esw, struct esw_caps *caps, struct esw_error *error)
{
    eswitch_profile_to_caps(eswitch_profile(local_cast(esw)->sw), caps);
    caps->async_native = false;
    return 0;
}

static int
local_validate(struct esw *esw, const struct rte_flow_attr *attr,
               const struct rte_flow_item items[], const struct rte_flow_action actions[],
               struct esw_error *error)
{
    return eswitch_rule_validate(local_cast(esw)->sw, attr, items, actions, error);
}

static int
local_create(struct esw *esw, struct esw_rule *rule, const struct rte_flow_attr *attr,
             const struct rte_flow_item items[], const struct rte_flow_action actions[],
             struct esw_error *error)
{
    return eswitch_rule_add(local_cast(esw)->sw, attr, items, actions,
                            local_cast(esw)->now_ms, &rule->priv, error);
}

static int
local_destroy(struct esw *esw, struct esw_rule *rule, struct esw_error *error)
{
    return eswitch_rule_del(local_cast(esw)->sw, rule->priv, error);
}

static int
local_query(struct esw *esw, struct esw_rule *rule, bool reset,
            struct esw_rule_stats *stats, struct esw_error *error)
{
    struct local *l = local_cast(esw);
    return eswitch_rule_query(l->sw, rule->priv, l->now_ms, reset, stats, error);
}

static int
local_aged_get(struct esw *esw, struct esw_rule **rules, size_t max,
               struct esw_error *error)
{
    struct local *l = local_cast(esw);
    uint64_t ids[64];
    size_t n = eswitch_aged_get(l->sw, l->now_ms, ids, MIN(max, 64));
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        struct esw_rule *rule = esw_rule_find(esw, ids[i]);
        if (rule) {
            rules[k++] = rule;
        }
    }
    return k;
}

static int
local_meter_set(struct esw *esw, uint32_t id, uint64_t rate, uint64_t burst,
                struct esw_error *error)
{
    return eswitch_meter_set(local_cast(esw)->sw, id, rate, burst, error);
}

static int
local_bulk(struct esw *esw, struct esw_rule *rules[], const struct rte_flow_attr *attrs[],
           const struct rte_flow_item *items[], const struct rte_flow_action *actions[],
           size_t n, int status[], enum rte_flow_error_type types[],
           struct esw_error *error)
{
    local_cast(esw)->bulk_calls++;
    for (size_t i = 0; i < n; i++) {
        struct esw_error e;
        esw_error_clear(&e);
        status[i] = local_create(esw, rules[i], attrs[i], items[i], actions[i], &e);
        types[i] = e.type;
    }
    return 0;
}

static const struct esw_class local_class = {
    .name = "local",
    .open = local_open,
    .close = local_close,
    .caps_get = local_caps_get,
    .rule_validate = local_validate,
    .rule_create = local_create,
    .rule_destroy = local_destroy,
    .rule_query = local_query,
    .aged_get = local_aged_get,
    .meter_set = local_meter_set,
};

static const struct esw_class local_bulk_class = {
    .name = "local-bulk",
    .open = local_open,
    .close = local_close,
    .caps_get = local_caps_get,
    .rule_create = local_create,
    .rule_destroy = local_destroy,
    .rules_create_bulk = local_bulk,
};

static struct eswitch_result res;
static const struct rte_flow_attr attr0 = {.transfer = 1};
static const struct rte_flow_action_ethdev to2 = {.port_id = 2};

static struct esw *
open_local(const struct esw_class *class, const char *profile)
{
    struct esw *esw = NULL;
    struct esw_error err;
    esw_error_clear(&err);
    assert_int_equal(esw_open(class, profile, &esw, &err), 0);
    return esw;
}

static void
test_sync_rules(void **state)
{
    struct esw_error err;
    esw_error_clear(&err);
    struct esw *esw = NULL;
    assert_int_equal(esw_open(NULL, NULL, &esw, &err), -EINVAL);
    esw_error_clear(&err);
    assert_int_equal(esw_open(&local_class, "no-such-profile", &esw, &err), -ENOENT);
    assert_null(esw);

    esw = open_local(&local_class, "bf2");
    assert_string_equal(esw_backend_name(esw), "local");
    struct esw_caps caps;
    assert_int_equal(esw_caps_get(esw, &caps, &err), 0);
    assert_string_equal(caps.device, "bf2");
    assert_false(caps.async_native);
    assert_int_equal(caps.async_queues, 4);
    assert_true(caps.async_queue_size > 0);
    struct esw_port ports[2];
    assert_int_equal(esw_port_list(esw, ports, 2, &err), -ENOTSUP);

    struct rte_flow_item any[] = {{.type = RTE_FLOW_ITEM_TYPE_END}};
    struct rte_flow_action_age age = {.timeout = 1};
    struct rte_flow_action_jump j1 = {.group = 1};
    struct rte_flow_action jump[] = {{.type = RTE_FLOW_ACTION_TYPE_JUMP, .conf = &j1},
                                     {.type = RTE_FLOW_ACTION_TYPE_END}};
    struct rte_flow_action out[] = {
        {.type = RTE_FLOW_ACTION_TYPE_COUNT},
        {.type = RTE_FLOW_ACTION_TYPE_AGE, .conf = &age},
        {.type = RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, .conf = &to2},
        {.type = RTE_FLOW_ACTION_TYPE_END}};
    struct rte_flow_attr g1 = {.transfer = 1, .group = 1};

    /* Checks that esw.c makes before the backend. */
    struct esw_rule *rule = NULL;
    esw_error_clear(&err);
    assert_int_equal(
        esw_rule_create(esw, &(struct rte_flow_attr){0}, any, jump, NULL, &rule, &err),
        -EINVAL);
    assert_int_equal(err.type, RTE_FLOW_ERROR_TYPE_ATTR_TRANSFER);
    assert_null(rule);
    /* The backend's refusal comes through with its type (bf2: no AGE in group 0). */
    esw_error_clear(&err);
    assert_int_equal(esw_rule_validate(esw, &attr0, any, out, &err), -ENOTSUP);
    assert_int_equal(err.type, RTE_FLOW_ERROR_TYPE_ACTION);
    assert_int_equal(err.index, 1);
    esw_error_clear(&err);
    assert_int_equal(esw_rule_create(esw, &attr0, any, out, NULL, &rule, &err), -ENOTSUP);
    assert_int_equal(esw_rule_count(esw), 0);

    int cookie_a, cookie_b;
    struct esw_rule *ra, *rb;
    assert_int_equal(esw_rule_create(esw, &attr0, any, jump, &cookie_a, &ra, NULL), 0);
    assert_int_equal(esw_rule_create(esw, &g1, any, out, &cookie_b, &rb, NULL), 0);
    assert_ptr_equal(esw_rule_cookie(rb), &cookie_b);
    assert_int_equal(esw_rule_count(esw), 2);

    struct local *l = local_cast(esw);
    struct pspec s = pspec_default();
    uint8_t pkt[256];
    size_t len = pkt_build(&s, pkt);
    assert_int_equal(eswitch_process(l->sw, 1, false, pkt, len, 0, &res),
                     ESWITCH_FORWARD);
    struct esw_rule_stats st;
    assert_int_equal(esw_rule_query(esw, rb, false, &st, NULL), 0);
    assert_int_equal(st.packets, 1);
    assert_int_equal(st.bytes, len);

    /* Aged rules map back to their handles. */
    l->now_ms = 5000;
    struct esw_rule *aged[4];
    assert_int_equal(esw_aged_get(esw, aged, 4, NULL), 1);
    assert_ptr_equal(aged[0], rb);
    assert_ptr_equal(esw_rule_cookie(aged[0]), &cookie_b);

    assert_int_equal(esw_meter_set(esw, 1, 0, 10, NULL), -EINVAL);
    assert_int_equal(esw_meter_set(esw, 1, 100, 10, NULL), 0);

    assert_int_equal(esw_rule_destroy(esw, rb, NULL), 0);
    assert_int_equal(esw_rule_destroy(esw, NULL, NULL), 0);
    esw_error_clear(&err);
    assert_int_equal(esw_rule_destroy(esw, rb, &err), -ENOENT);
    assert_int_equal(esw_rule_query(esw, rb, false, &st, NULL), -ENOENT);
    assert_int_equal(esw_rule_count(esw), 1);
    assert_int_equal(esw_flush(esw, NULL), 0);
    assert_int_equal(esw_rule_count(esw), 0);
    assert_int_equal(eswitch_rule_count(l->sw), 0);
    esw_close(esw);
    esw_close(NULL);
}

static void
test_async_emulated(void **state)
{
    struct esw *esw = open_local(&local_class, "bf3");
    struct local *l = local_cast(esw);
    struct esw_error err;
    esw_error_clear(&err);

    /* Pattern: UDP destination port; actions: COUNT + output port per rule. */
    struct rte_flow_item_udp udp_m = {.hdr.dst_port = RTE_BE16(0xffff)};
    struct rte_flow_item pt_items[] = {{.type = RTE_FLOW_ITEM_TYPE_UDP, .mask = &udp_m},
                                       {.type = RTE_FLOW_ITEM_TYPE_END}};
    struct rte_flow_pattern_template_attr pattr = {.transfer = 1};
    struct esw_pattern_template *pt;
    assert_int_equal(esw_pattern_template_create(esw, &pattr, pt_items, &pt, &err), 0);

    struct rte_flow_action at_actions[] = {
        {.type = RTE_FLOW_ACTION_TYPE_COUNT},
        {.type = RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT},
        {.type = RTE_FLOW_ACTION_TYPE_END}};
    struct rte_flow_action at_masks[] = {{.type = RTE_FLOW_ACTION_TYPE_COUNT},
                                         {.type = RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT},
                                         {.type = RTE_FLOW_ACTION_TYPE_END}};
    struct rte_flow_actions_template_attr aattr = {.transfer = 1};
    struct esw_actions_template *at;
    assert_int_equal(
        esw_actions_template_create(esw, &aattr, at_actions, at_masks, &at, &err), 0);

    struct rte_flow_template_table_attr tattr = {.flow_attr = {.transfer = 1},
                                                 .nb_flows = 2};
    struct esw_template_table *table;
    assert_int_equal(esw_template_table_create(esw, &tattr, &pt, 1, &at, 1, &table, &err),
                     0);
    assert_int_equal(esw_pattern_template_destroy(esw, pt, &err), -EBUSY);

    struct rte_flow_item_udp u1 = {.hdr.dst_port = RTE_BE16(2000)};
    struct rte_flow_item_udp u2 = {.hdr.dst_port = RTE_BE16(3000)};
    struct rte_flow_item r1[] = {{.type = RTE_FLOW_ITEM_TYPE_UDP, .spec = &u1},
                                 {.type = RTE_FLOW_ITEM_TYPE_END}};
    struct rte_flow_item r2[] = {{.type = RTE_FLOW_ITEM_TYPE_UDP, .spec = &u2},
                                 {.type = RTE_FLOW_ITEM_TYPE_END}};
    struct rte_flow_action_ethdev p5 = {.port_id = 5}, p999 = {.port_id = 999};
    struct rte_flow_action a1[] = {
        {.type = RTE_FLOW_ACTION_TYPE_COUNT},
        {.type = RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, .conf = &p5},
        {.type = RTE_FLOW_ACTION_TYPE_END}};
    struct rte_flow_action a2[] = {
        {.type = RTE_FLOW_ACTION_TYPE_COUNT},
        {.type = RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, .conf = &p999},
        {.type = RTE_FLOW_ACTION_TYPE_END}};
    struct rte_flow_item wrong[] = {{.type = RTE_FLOW_ITEM_TYPE_TCP},
                                    {.type = RTE_FLOW_ITEM_TYPE_END}};

    struct esw_rule *x1, *x2, *x3;
    int ud1, ud2;
    esw_error_clear(&err);
    assert_int_equal(
        esw_async_create(esw, 0, table, wrong, 0, a1, 0, NULL, NULL, &x1, &err), -EINVAL);
    assert_int_equal(esw_async_create(esw, 9, table, r1, 0, a1, 0, NULL, NULL, &x1, NULL),
                     -EINVAL);
    assert_int_equal(esw_async_create(esw, 0, table, r1, 0, a1, 0, NULL, &ud1, &x1, NULL),
                     0);
    assert_int_equal(esw_async_create(esw, 0, table, r2, 0, a2, 0, NULL, &ud2, &x2, NULL),
                     0);
    esw_error_clear(&err);
    assert_int_equal(esw_async_create(esw, 0, table, r1, 0, a1, 0, NULL, NULL, &x3, &err),
                     -ENOSPC);

    /* Nothing reaches the device before the push. */
    assert_int_equal(eswitch_rule_count(l->sw), 0);
    struct esw_op_result results[8];
    assert_int_equal(esw_pull(esw, 0, results, 8, NULL), 0);
    assert_int_equal(esw_push(esw, 0, NULL), 0);
    assert_int_equal(eswitch_rule_count(l->sw), 1);
    assert_int_equal(esw_pull(esw, 0, results, 8, NULL), 2);
    assert_int_equal(results[0].status, 0);
    assert_ptr_equal(results[0].user_data, &ud1);
    assert_ptr_equal(results[0].rule, x1);
    /* Port 999 is beyond the profile: the completion carries the device's error. */
    assert_int_equal(results[1].status, -ERANGE);
    assert_int_equal(results[1].type, RTE_FLOW_ERROR_TYPE_ACTION_CONF);
    assert_int_equal(esw_rule_count(esw), 1);

    /* The rule works: UDP 2000 goes to port 5, counted. */
    struct pspec s = pspec_default();
    uint8_t pkt[256];
    size_t len = pkt_build(&s, pkt);
    assert_int_equal(eswitch_process(l->sw, 1, false, pkt, len, 0, &res),
                     ESWITCH_FORWARD);
    assert_int_equal(res.outputs[0].port_id, 5);
    struct esw_rule_stats st;
    assert_int_equal(esw_rule_query(esw, x1, false, &st, NULL), 0);
    assert_int_equal(st.packets, 1);

    assert_int_equal(esw_template_table_destroy(esw, table, NULL), -EBUSY);
    assert_int_equal(esw_async_destroy(esw, 1, x1, &ud2, NULL), 0);
    assert_int_equal(esw_async_destroy(esw, 1, x1, &ud2, NULL), -EINVAL);
    assert_int_equal(esw_push(esw, 1, NULL), 0);
    assert_int_equal(esw_pull(esw, 1, results, 1, NULL), 1);
    assert_true(results[0].is_destroy);
    assert_int_equal(results[0].status, 0);
    assert_int_equal(esw_rule_count(esw), 0);
    assert_int_equal(eswitch_rule_count(l->sw), 0);

    assert_int_equal(esw_template_table_destroy(esw, table, NULL), 0);
    assert_int_equal(esw_pattern_template_destroy(esw, pt, NULL), 0);
    assert_int_equal(esw_actions_template_destroy(esw, at, NULL), 0);
    esw_close(esw);
}

static void
test_async_bulk_and_queue_full(void **state)
{
    struct esw *esw = open_local(&local_bulk_class, "bf3");
    struct local *l = local_cast(esw);
    struct rte_flow_item pt_items[] = {{.type = RTE_FLOW_ITEM_TYPE_END}};
    struct rte_flow_pattern_template_attr pattr = {.transfer = 1};
    struct esw_pattern_template *pt;
    assert_int_equal(esw_pattern_template_create(esw, &pattr, pt_items, &pt, NULL), 0);
    /* The output port is fixed by the template (mask conf set). */
    struct rte_flow_action_ethdev fixed = {.port_id = 7};
    struct rte_flow_action at_actions[] = {
        {.type = RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, .conf = &fixed},
        {.type = RTE_FLOW_ACTION_TYPE_END}};
    struct rte_flow_action at_masks[] = {
        {.type = RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, .conf = &fixed},
        {.type = RTE_FLOW_ACTION_TYPE_END}};
    struct rte_flow_actions_template_attr aattr = {.transfer = 1};
    struct esw_actions_template *at;
    assert_int_equal(
        esw_actions_template_create(esw, &aattr, at_actions, at_masks, &at, NULL), 0);
    struct esw_caps caps;
    assert_int_equal(esw_caps_get(esw, &caps, NULL), 0);
    struct rte_flow_template_table_attr tattr = {.flow_attr = {.transfer = 1},
                                                 .nb_flows = caps.async_queue_size + 10};
    struct esw_template_table *table;
    assert_int_equal(esw_template_table_create(esw, &tattr, &pt, 1, &at, 1, &table, NULL),
                     0);
    /* Group beyond the device. */
    struct rte_flow_template_table_attr bad = {
        .flow_attr = {.transfer = 1, .group = 5000}, .nb_flows = 1};
    struct esw_template_table *t2;
    struct esw_error err;
    esw_error_clear(&err);
    assert_int_equal(esw_template_table_create(esw, &bad, &pt, 1, &at, 1, &t2, &err),
                     -ERANGE);
    assert_int_equal(err.type, RTE_FLOW_ERROR_TYPE_ATTR_GROUP);

    struct rte_flow_action rule_actions[] = {
        {.type = RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT},
        {.type = RTE_FLOW_ACTION_TYPE_END}};
    struct esw_rule *r;
    for (uint32_t i = 0; i < caps.async_queue_size; i++) {
        assert_int_equal(esw_async_create(esw, 2, table, pt_items, 0, rule_actions, 0,
                                          NULL, NULL, &r, NULL),
                         0);
    }
    esw_error_clear(&err);
    assert_int_equal(esw_async_create(esw, 2, table, pt_items, 0, rule_actions, 0, NULL,
                                      NULL, &r, &err),
                     -EAGAIN);
    assert_int_equal(esw_push(esw, 2, NULL), 0);
    assert_int_equal(l->bulk_calls, 1);
    assert_int_equal(eswitch_rule_count(l->sw), caps.async_queue_size);
    /* Completions still fill the queue until pulled. */
    assert_int_equal(esw_async_create(esw, 2, table, pt_items, 0, rule_actions, 0, NULL,
                                      NULL, &r, NULL),
                     -EAGAIN);
    struct esw_op_result results[64];
    size_t total = 0;
    int n;
    while ((n = esw_pull(esw, 2, results, 64, NULL)) > 0) {
        for (int i = 0; i < n; i++) {
            assert_int_equal(results[i].status, 0);
        }
        total += (size_t)n;
    }
    assert_int_equal(total, caps.async_queue_size);

    struct pspec s = pspec_default();
    uint8_t pkt[256];
    size_t len = pkt_build(&s, pkt);
    assert_int_equal(eswitch_process(l->sw, 1, false, pkt, len, 0, &res),
                     ESWITCH_FORWARD);
    assert_int_equal(res.outputs[0].port_id, 7);

    /* Close with rules, tables and templates still there: everything is freed. */
    assert_int_equal(esw_async_create(esw, 0, table, pt_items, 0, rule_actions, 0, NULL,
                                      NULL, &r, NULL),
                     0);
    esw_close(esw);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sync_rules),
        cmocka_unit_test(test_async_emulated),
        cmocka_unit_test(test_async_bulk_and_queue_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
