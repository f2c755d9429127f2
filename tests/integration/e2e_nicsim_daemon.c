/* End-to-end test of one ovnic-nicsim process in its own namespace: command line,
 * pidfile, idle CPU use, the control API through the sim backend of esw.h (faults on
 * rule inserts, table full, AGE, bulk inserts through the template API) and through
 * ovnicctl (link, uplink drop and delay with real packets on the wire, flash power
 * loss, SR-IOV), and a clean SIGTERM.
 *
 * Needs root; exits 77 without it.  Label e2e. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ithelp.h"
#include "offload/esw.h"
#include "shared/util/json.h"

static char nicsim_bin[PATH_MAX];
static char ovnicctl_bin[PATH_MAX];
static char *dir;
static char run_dir[PATH_MAX];
static char ctl[PATH_MAX + 16];
static char pidfile[PATH_MAX + 16];
static char dpu_ns[32];
static char host_ns[32];
static pid_t nicsim_pid = -1;

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

    nanosleep(&ts, NULL);
}

static void
namespaces_delete(void)
{
    it_run(NULL, "ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null", dpu_ns,
           host_ns);
}

static json_t *
ctl_call(const char *method, const char *arg)
{
    char *out = NULL;
    json_t *json;

    if (it_run(&out, "'%s' nicsim --socket '%s' call %s %s%s%s", ovnicctl_bin, ctl,
               method, arg ? "'" : "", arg ? arg : "", arg ? "'" : "")) {
        free(out);
        return NULL;
    }
    json = json_loads(out, 0, NULL);
    free(out);
    return json;
}

static int
ctlcmd(const char *args)
{
    return it_run(NULL, "'%s' nicsim --socket '%s' %s >/dev/null", ovnicctl_bin, ctl,
                  args);
}

static json_int_t
port_stat(const char *port, const char *stat)
{
    json_t *ports = ctl_call("ports", NULL);
    const json_t *p;
    json_int_t v = -1;
    size_t i;

    assert_non_null(ports);
    json_array_foreach(json_object_get(ports, "ports"), i, p)
    {
        if (!strcmp(json_string_value(json_object_get(p, "name")), port)) {
            v = json_integer_value(json_object_get(json_object_get(p, "stats"), stat));
        }
    }
    json_decref(ports);
    return v;
}

static int
group_setup(void **state)
{
    char log[PATH_MAX + 16];
    int i;

    (void)state;
    snprintf(nicsim_bin, sizeof nicsim_bin, "%s/tests/hw-sim/nicsim/ovnic-nicsim",
             it_build_dir());
    snprintf(ovnicctl_bin, sizeof ovnicctl_bin, "%s/tools/ovnicctl/ovnicctl",
             it_build_dir());
    dir = it_tmpdir_create();
    assert_non_null(dir);
    snprintf(run_dir, sizeof run_dir, "%s/run", dir);
    snprintf(ctl, sizeof ctl, "%s/nicsim.ctl", run_dir);
    snprintf(pidfile, sizeof pidfile, "%s/nicsim.pid", run_dir);
    snprintf(log, sizeof log, "%s/nicsim.log", dir);
    snprintf(dpu_ns, sizeof dpu_ns, "nsd%d", (int)getpid());
    snprintf(host_ns, sizeof host_ns, "nsh%d", (int)getpid());
    atexit(namespaces_delete);
    assert_int_equal(it_run(NULL, "ip netns add %s && ip netns add %s", dpu_ns, host_ns),
                     0);

    char *const argv[] = {"/usr/sbin/ip",
                          "netns",
                          "exec",
                          dpu_ns,
                          nicsim_bin,
                          "--run-dir",
                          run_dir,
                          "--host-netns",
                          host_ns,
                          "--total-vfs",
                          "4",
                          "--numvfs",
                          "2",
                          "--flash-size",
                          "65536",
                          "--idle-max-us",
                          "2000",
                          NULL};
    nicsim_pid = it_spawn(argv, log);
    assert_true(nicsim_pid > 0);
    for (i = 0; i < 600 && access(ctl, F_OK); i++) {
        sleep_ms(50);
    }
    assert_int_equal(access(ctl, F_OK), 0);
    /* The socket exists once the ports do; wait for the first answer. */
    for (i = 0; i < 100; i++) {
        json_t *status = ctl_call("status", NULL);

        if (status) {
            json_decref(status);
            break;
        }
        sleep_ms(50);
    }
    assert_true(i < 100);
    assert_int_equal(it_pidfile_read(pidfile), nicsim_pid);
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    if (nicsim_pid > 0) {
        it_proc_stop(nicsim_pid, IT_SIG_TERM, 10000);
    }
    namespaces_delete();
    free(dir);
    return 0;
}

static void
test_command_line(void **state)
{
    char *out = NULL;

    (void)state;
    assert_int_equal(it_run(&out, "'%s' --help", nicsim_bin), 0);
    assert_non_null(strstr(out, "Usage: ovnic-nicsim"));
    free(out);
    assert_int_equal(it_run(NULL, "'%s' --version >/dev/null", nicsim_bin), 0);
    assert_int_equal(it_run(NULL, "'%s' --bogus 2>/dev/null", nicsim_bin), 2);
    assert_int_equal(it_run(NULL, "'%s' 2>/dev/null", nicsim_bin), 2);
    assert_int_equal(
        it_run(NULL, "'%s' --run-dir %s/x --total-vfs 0 2>/dev/null", nicsim_bin, dir),
        2);
    assert_int_equal(it_run(NULL,
                            "'%s' --run-dir %s/x --total-vfs 2 --numvfs 3 2>/dev/null",
                            nicsim_bin, dir),
                     2);
    assert_int_equal(it_run(NULL,
                            "'%s' --run-dir %s/x --pf-mac 01:00:00:00:00:01 2>/dev/null",
                            nicsim_bin, dir),
                     2);
    /* Errors that need the process: a clear message and status 1. */
    assert_int_equal(
        it_run(&out, "'%s' --run-dir %s/x --profile /nonexistent 2>&1", nicsim_bin, dir),
        1);
    assert_non_null(strstr(out, "/nonexistent"));
    free(out);
    assert_int_equal(it_run(&out, "'%s' --run-dir %s 2>&1", nicsim_bin, run_dir), 1);
    assert_non_null(strstr(out, "already running"));
    free(out);
}

static void
test_idle_cpu(void **state)
{
    char path[64];
    unsigned long long u0, s0, u1, s1;
    long hz = sysconf(_SC_CLK_TCK);
    char *stat;
    double cpu;

    (void)state;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)nicsim_pid);
    stat = it_file_read(path);
    assert_non_null(stat);
    assert_int_equal(sscanf(strrchr(stat, ')') + 2,
                            "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &u0,
                            &s0),
                     2);
    free(stat);
    sleep_ms(3000);
    stat = it_file_read(path);
    assert_non_null(stat);
    assert_int_equal(sscanf(strrchr(stat, ')') + 2,
                            "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &u1,
                            &s1),
                     2);
    free(stat);
    cpu = (double)((u1 + s1) - (u0 + s0)) / (double)hz;
    fprintf(stderr, "ovnic-nicsim used %.3f s of CPU in 3 idle seconds\n", cpu);
    assert_true(cpu < 0.3);
}

static struct esw *
esw_connect(void)
{
    struct esw_error error;
    struct esw *esw = NULL;
    char args[PATH_MAX + 32];

    snprintf(args, sizeof args, "socket=%s", ctl);
    esw_error_clear(&error);
    assert_int_equal(esw_open(&esw_sim_class, args, &esw, &error), 0);
    return esw;
}

/* A rule: from port 'in' to the uplink, with a COUNT, in 'group'. */
static int
rule_add(struct esw *esw, uint32_t group, uint16_t in, uint32_t age_sec,
         struct esw_rule **rule, struct esw_error *error)
{
    struct rte_flow_attr attr = {.group = group, .priority = 0, .transfer = 1};
    struct rte_flow_item_ethdev port = {.port_id = in};
    struct rte_flow_action_ethdev out = {.port_id = 0};
    struct rte_flow_action_count count = {0};
    struct rte_flow_action_age age = {.timeout = age_sec};
    const struct rte_flow_item items[] = {
        {.type = RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, .spec = &port},
        {.type = RTE_FLOW_ITEM_TYPE_ETH},
        {.type = RTE_FLOW_ITEM_TYPE_END},
    };
    struct rte_flow_action actions[] = {
        {.type = RTE_FLOW_ACTION_TYPE_COUNT, .conf = &count},
        {.type = RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, .conf = &out},
        {.type = RTE_FLOW_ACTION_TYPE_END},
        {.type = RTE_FLOW_ACTION_TYPE_END},
    };

    if (age_sec) {
        actions[2].type = RTE_FLOW_ACTION_TYPE_AGE;
        actions[2].conf = &age;
    }
    esw_error_clear(error);
    return esw_rule_create(esw, &attr, items, actions, NULL, rule, error);
}

static void
test_rules_and_insert_faults(void **state)
{
    struct esw *esw = esw_connect();
    struct esw_rule *r1, *r2, *aged[4];
    struct esw_rule_stats stats;
    struct esw_port ports[8];
    struct esw_error error;
    struct esw_caps caps;

    (void)state;
    esw_error_clear(&error);
    assert_int_equal(esw_caps_get(esw, &caps, &error), 0);
    assert_string_equal(caps.device, "bf2");
    assert_int_equal(esw_port_list(esw, ports, 8, &error), 4);
    assert_string_equal(ports[0].name, "p0");
    assert_string_equal(ports[1].name, "pf0hpf");
    assert_string_equal(ports[3].name, "pf0vf1");
    assert_int_equal(ports[3].vf, 1);

    /* The second insert from now fails with the injected error. */
    assert_int_equal(ctlcmd("fault set insert-fail 2 EBUSY"), 0);
    assert_int_equal(rule_add(esw, 0, 2, 0, &r1, &error), 0);
    assert_int_equal(rule_add(esw, 0, 3, 0, &r2, &error), -EBUSY);
    assert_int_equal(error.type, RTE_FLOW_ERROR_TYPE_HANDLE);
    assert_int_equal(rule_add(esw, 0, 3, 0, &r2, &error), 0);

    assert_int_equal(ctlcmd("fault set table-full on"), 0);
    assert_int_equal(rule_add(esw, 0, 1, 0, &r2, &error), -ENOSPC);
    assert_int_equal(ctlcmd("fault clear"), 0);

    /* The device's own checks come back with their rte_flow error type. */
    assert_int_equal(rule_add(esw, 999, 1, 0, &r2, &error), -ERANGE);
    assert_int_equal(error.type, RTE_FLOW_ERROR_TYPE_ATTR_GROUP);
    assert_int_equal(rule_add(esw, 0, 1, 5, &r2, &error), -ENOTSUP); /* AGE in root. */

    assert_int_equal(esw_rule_query(esw, r1, false, &stats, &error), 0);
    assert_true(stats.has_count);
    assert_int_equal(stats.packets, 0);

    /* AGE, outside the root group: idle since creation. */
    assert_int_equal(rule_add(esw, 1, 1, 1, &r2, &error), 0);
    sleep_ms(2200);
    assert_int_equal(esw_rule_query(esw, r2, false, &stats, &error), 0);
    assert_true(stats.has_age);
    assert_true(stats.aged);
    assert_true(stats.idle_sec >= 2);
    assert_int_equal(esw_aged_get(esw, aged, 4, &error), 1);
    assert_ptr_equal(aged[0], r2);
    assert_int_equal(esw_aged_get(esw, aged, 4, &error), 0); /* Reported once. */

    assert_int_equal(esw_rule_destroy(esw, r2, &error), 0);
    assert_int_equal(esw_rule_count(esw), 2);
    esw_close(esw); /* Rules stay in the NIC. */

    esw = esw_connect();
    assert_int_equal(esw_flush(esw, &error), 0);
    esw_close(esw);
    {
        json_t *rules = ctl_call("rules", NULL);

        assert_int_equal(json_integer_value(json_object_get(rules, "count")), 0);
        json_decref(rules);
    }
}

static void
test_bulk_through_templates(void **state)
{
    struct esw *esw = esw_connect();
    struct rte_flow_pattern_template_attr pattr = {.transfer = 1};
    struct rte_flow_actions_template_attr aattr = {.transfer = 1};
    struct rte_flow_template_table_attr tattr = {
        .flow_attr = {.group = 2, .transfer = 1},
        .nb_flows = 8,
    };
    struct rte_flow_item_ethdev port_mask = {.port_id = 0xffff};
    const struct rte_flow_item pt_items[] = {
        {.type = RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, .mask = &port_mask},
        {.type = RTE_FLOW_ITEM_TYPE_ETH},
        {.type = RTE_FLOW_ITEM_TYPE_END},
    };
    const struct rte_flow_action at_actions[] = {
        {.type = RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT},
        {.type = RTE_FLOW_ACTION_TYPE_END},
    };
    const struct rte_flow_action at_masks[] = {
        {.type = RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT},
        {.type = RTE_FLOW_ACTION_TYPE_END},
    };
    struct esw_pattern_template *pt;
    struct esw_actions_template *at;
    struct esw_template_table *table;
    struct esw_op_result results[8];
    struct esw_error error;
    struct esw_rule *rules[3];
    json_t *list;
    int i, n;

    (void)state;
    esw_error_clear(&error);
    assert_int_equal(esw_pattern_template_create(esw, &pattr, pt_items, &pt, &error), 0);
    assert_int_equal(
        esw_actions_template_create(esw, &aattr, at_actions, at_masks, &at, &error), 0);
    assert_int_equal(
        esw_template_table_create(esw, &tattr, &pt, 1, &at, 1, &table, &error), 0);
    for (i = 0; i < 3; i++) {
        struct rte_flow_item_ethdev in = {.port_id = (uint16_t)(1 + i)};
        struct rte_flow_action_ethdev out = {.port_id = 0};
        const struct rte_flow_item items[] = {
            {.type = RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, .spec = &in},
            {.type = RTE_FLOW_ITEM_TYPE_ETH},
            {.type = RTE_FLOW_ITEM_TYPE_END},
        };
        const struct rte_flow_action actions[] = {
            {.type = RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, .conf = &out},
            {.type = RTE_FLOW_ACTION_TYPE_END},
        };

        assert_int_equal(esw_async_create(esw, 0, table, items, 0, actions, 0, NULL, NULL,
                                          &rules[i], &error),
                         0);
    }
    assert_int_equal(esw_push(esw, 0, &error), 0);
    n = esw_pull(esw, 0, results, 8, &error);
    assert_int_equal(n, 3);
    for (i = 0; i < n; i++) {
        assert_int_equal(results[i].status, 0);
    }
    list = ctl_call("rules", NULL);
    assert_int_equal(json_integer_value(json_object_get(list, "count")), 3);
    json_decref(list);
    assert_int_equal(esw_flush(esw, &error), 0);
    assert_int_equal(esw_template_table_destroy(esw, table, &error), 0);
    assert_int_equal(esw_pattern_template_destroy(esw, pt, &error), 0);
    assert_int_equal(esw_actions_template_destroy(esw, at, &error), 0);
    esw_close(esw);
}

/* Sends one UDP packet from the far end of the wire into the uplink. */
static void
wire_send(void)
{
    assert_int_equal(
        it_run(NULL, "ip netns exec %s bash -c 'echo x >/dev/udp/10.9.0.2/9'", dpu_ns),
        0);
}

static void
test_uplink_faults(void **state)
{
    json_int_t rx, misses;
    json_t *faults;

    (void)state;
    /* The wire's far end gets an address and a neighbour, so that each send is one
     * packet; with no rule, each is a miss towards the uplink's representor, which
     * has no client: counted as rep_tx_dropped. */
    assert_int_equal(it_run(NULL,
                            "ip -n %s addr add 10.9.0.1/24 dev nswire && "
                            "ip -n %s neigh add 10.9.0.2 lladdr 02:00:00:00:00:99 "
                            "dev nswire",
                            dpu_ns, dpu_ns),
                     0);
    rx = port_stat("p0", "rx_packets");
    misses = port_stat("p0", "rep_tx_dropped");
    wire_send();
    sleep_ms(200);
    assert_int_equal(port_stat("p0", "rx_packets"), rx + 1);
    assert_int_equal(port_stat("p0", "rep_tx_dropped"), misses + 1);

    assert_int_equal(ctlcmd("fault set uplink-drop 100"), 0);
    wire_send();
    wire_send();
    sleep_ms(200);
    assert_int_equal(port_stat("p0", "rx_packets"), rx + 3);
    assert_int_equal(port_stat("p0", "rep_tx_dropped"), misses + 1);
    faults = ctl_call("fault_list", NULL);
    assert_int_equal(json_integer_value(json_object_get(faults, "uplink-dropped")), 2);
    json_decref(faults);

    assert_int_equal(ctlcmd("fault set uplink-drop 0"), 0);
    assert_int_equal(ctlcmd("fault set uplink-delay 800"), 0);
    wire_send();
    sleep_ms(250);
    assert_int_equal(port_stat("p0", "rep_tx_dropped"), misses + 1);
    sleep_ms(1000);
    assert_int_equal(port_stat("p0", "rep_tx_dropped"), misses + 2);
    assert_int_equal(ctlcmd("fault clear"), 0);

    /* Link down: the far end loses its carrier, and comes back. */
    assert_int_equal(ctlcmd("fault set link p0 down"), 0);
    assert_int_equal(
        it_run(NULL, "ip -n %s link show nswire | grep -q NO-CARRIER", dpu_ns), 0);
    assert_int_equal(ctlcmd("fault set link nosuchport down"), 1);
    assert_int_equal(ctlcmd("fault clear"), 0);
    assert_int_not_equal(
        it_run(NULL, "ip -n %s link show nswire | grep -q NO-CARRIER", dpu_ns), 0);
}

static void
test_flash_power_loss(void **state)
{
    char image[PATH_MAX + 16];
    json_t *info, *data;
    FILE *f;

    (void)state;
    snprintf(image, sizeof image, "%s/image.bin", dir);
    f = fopen(image, "w");
    assert_non_null(f);
    fputs("ABCDEFGH", f);
    fclose(f);
    assert_int_equal(ctlcmd("fault set flash-powerloss 3"), 0);
    assert_int_not_equal(it_run(NULL,
                                "'%s' nicsim --socket '%s' flash write b 0 '%s' "
                                ">/dev/null 2>&1",
                                ovnicctl_bin, ctl, image),
                         0);
    info = ctl_call("flash_info", NULL);
    assert_true(json_is_false(json_object_get(info, "powered")));
    json_decref(info);
    assert_int_equal(ctlcmd("flash read b 0 4 2>/dev/null"), 1);
    assert_int_equal(ctlcmd("flash power-cycle"), 0);
    data = ctl_call("flash_read", "{\"slot\":\"b\",\"offset\":0,\"length\":4}");
    assert_non_null(data);
    assert_string_equal(json_string_value(json_object_get(data, "data")), "414243ff");
    json_decref(data);
}

static void
test_sriov_through_socket(void **state)
{
    (void)state;
    assert_int_equal(ctlcmd("sriov 3 2>/dev/null"), 1); /* 2 enabled: EBUSY. */
    assert_int_equal(ctlcmd("sriov 0"), 0);
    assert_int_not_equal(
        it_run(NULL, "ip -n %s link show pf0v0 >/dev/null 2>&1", host_ns), 0);
    assert_int_equal(ctlcmd("sriov 4"), 0);
    assert_int_equal(it_run(NULL, "ip -n %s link show pf0v3 >/dev/null", host_ns), 0);
}

static void
test_sigterm(void **state)
{
    struct esw *esw = esw_connect();
    struct esw_error error;
    struct esw_caps caps;
    struct esw *other = NULL;

    (void)state;
    esw_error_clear(&error);
    assert_int_equal(esw_open(&esw_sim_class, "socket=/nonexistent.sock", &other, &error),
                     -ENODEV);
    assert_int_equal(esw_open(&esw_sim_class, "sock=x", &other, &error), -EINVAL);
    assert_int_equal(esw_open(&esw_sim_class, NULL, &other, &error), -EINVAL);
    assert_null(other);

    /* A clean exit (status 0: no leak found either, when built with ASan). */
    assert_int_equal(it_proc_stop(nicsim_pid, IT_SIG_TERM, 10000), 0);
    nicsim_pid = -1;
    esw_error_clear(&error);
    assert_int_equal(esw_caps_get(esw, &caps, &error), -EIO);
    esw_close(esw);
    assert_int_not_equal(access(pidfile, F_OK), 0);
    assert_int_not_equal(access(ctl, F_OK), 0);
    /* The NIC took its netdevs along. */
    assert_int_not_equal(it_run(NULL, "ip -n %s link show pf0 >/dev/null 2>&1", host_ns),
                         0);
    assert_int_not_equal(
        it_run(NULL, "ip -n %s link show pf0v3 >/dev/null 2>&1", host_ns), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_command_line),
        cmocka_unit_test(test_idle_cpu),
        cmocka_unit_test(test_rules_and_insert_faults),
        cmocka_unit_test(test_bulk_through_templates),
        cmocka_unit_test(test_uplink_faults),
        cmocka_unit_test(test_flash_power_loss),
        cmocka_unit_test(test_sriov_through_socket),
        cmocka_unit_test(test_sigterm),
    };

    if (geteuid() != 0) {
        fprintf(stderr, "e2e_nicsim_daemon: needs root, skipped\n");
        return 77;
    }
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
