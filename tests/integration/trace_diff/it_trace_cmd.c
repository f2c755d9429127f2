/* ovnic integration: "ovnicctl trace" on a real OVN central with the reference
 * topologies: its output forms, agreement with ovn-trace on routed and switched
 * packets, reject ACLs answered back to the sender, --batch, and its errors (unknown
 * datapath or port, bad microflow, unreachable database, usage). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ithelp.h"
#include "ovntrace.h"
#include "shared/util/util.h"

static char *dir, *sb, *nb;

static const char routed_dp[] = "r3-ls1";
static const char routed_flow[] =
    "inport==\"r3-vm11\" && eth.src==0a:00:00:02:01:11 && eth.dst==0a:00:00:02:01:01"
    " && ip4.src==10.2.1.11 && ip4.dst==10.2.2.12 && ip.ttl==64 && icmp4";

static int
group_setup(void **state OVNIC_UNUSED)
{
    dir = it_tmpdir_create();
    if (!dir) {
        return -1;
    }
    sb = it_central("start-sb '%s'", dir);
    nb = it_central("start-nb '%s'", dir);
    free(it_central("start-northd '%s'", dir));
    if (!sb || !nb) {
        return -1;
    }
    return it_run(NULL, "'%s/tests/topologies/all.sh' apply '%s' 1 2 3 11 2>/dev/null",
                  it_source_dir(), nb)
               ? -1
               : 0;
}

static int
group_teardown(void **state OVNIC_UNUSED)
{
    if (dir) {
        it_tmpdir_remove(dir);
    }
    free(dir);
    free(sb);
    free(nb);
    return 0;
}

/* Runs ovnicctl trace with 'args' (shell syntax) and returns its exit status, with
 * stdout in '*out' (caller owns). */
static int
ovnicctl_trace(char **out, const char *args)
{
    return it_run(out, "'%s/tools/ovnicctl/ovnicctl' trace --timeout=10 %s",
                  it_build_dir(), args);
}

static void
test_forms(void **state OVNIC_UNUSED)
{
    char *out = NULL;
    char args[1024];

    /* --detailed (default): stages, verdict, megaflow. */
    snprintf(args, sizeof args, "--db='%s' %s '%s'", sb, routed_dp, routed_flow);
    assert_int_equal(ovnicctl_trace(&out, args), 0);
    assert_non_null(strstr(out, "ingress(dp=\"r3-ls1\", inport=\"r3-vm11\")"));
    assert_non_null(strstr(out, "ls_in_l2_lkup"));
    assert_non_null(strstr(out, "verdict: delivered"));
    assert_non_null(strstr(out, "output \"r3-vm22\""));
    assert_non_null(strstr(out, "megaflow: "));
    free(out);

    /* --summary: no flows, the pipelines and the output. */
    snprintf(args, sizeof args, "--db='%s' --summary %s '%s'", sb, routed_dp,
             routed_flow);
    assert_int_equal(ovnicctl_trace(&out, args), 0);
    assert_null(strstr(out, "ls_in_l2_lkup"));
    assert_non_null(strstr(out, "verdict: delivered"));
    free(out);

    /* --minimal agrees with ovn-trace --minimal. */
    snprintf(args, sizeof args, "--db='%s' --minimal %s '%s'", sb, routed_dp,
             routed_flow);
    assert_int_equal(ovnicctl_trace(&out, args), 0);
    assert_non_null(strstr(out, "output(\"r3-vm22\");"));
    assert_non_null(strstr(out, "eth.src = 0a:00:00:02:02:01;"));
    free(out);

    char *oracle = NULL;
    assert_int_equal(ovntrace_run(sb, NULL, NULL, routed_dp, routed_flow, &oracle), 0);
    snprintf(args, sizeof args, "--db='%s' --format=json %s '%s'", sb, routed_dp,
             routed_flow);
    assert_int_equal(ovnicctl_trace(&out, args), 0);
    json_error_t jerr;
    json_t *json = json_loads(out, 0, &jerr);
    assert_non_null(json);
    assert_string_equal(json_string_value(json_object_get(json, "verdict")), "delivered");
    assert_non_null(json_object_get(json, "megaflow"));
    struct ovntrace_verdict a, b;
    assert_int_equal(ovntrace_verdict_parse(oracle, NULL, &a), 0);
    assert_int_equal(ovntrace_verdict_from_json(json, &b), 0);
    assert_true(ovntrace_verdict_equal(&a, &b));
    ovntrace_verdict_destroy(&a);
    ovntrace_verdict_destroy(&b);
    json_decref(json);
    free(oracle);
    free(out);
}

/* reject ACLs of topology 11, as northd writes them: to-lport (acl-vm2 -> acl-vm1,
 * TCP/UDP port 23, SCTP to acl-vm2) and from-lport (acl-vm1, port 2121), on IPv4 and
 * IPv6.  The answer (TCP reset, ICMP port unreachable, SCTP abort) is built by the
 * controller and reaches the sender, as with ovn-trace. */
static void
test_reject(void **state OVNIC_UNUSED)
{
    static const struct {
        const char *from, *to, *l4, *built;
    } cases[] = {
        {"acl-vm2", "acl-vm1", "tcp.dst==23", "tcp.flags=0x14"},
        {"acl-vm2", "acl-vm1", "udp.dst==23", "icmp"},
        {"acl-vm1", "acl-vm2", "sctp.dst==80", "ip.proto=0x84"},
        {"acl-vm1", "acl-vm2", "tcp.dst==2121", "tcp.flags=0x14"},
        {"acl-vm1", "acl-vm2", "udp.dst==2121", "icmp"},
        {"acl-vm1", "acl-vm2", "sctp.dst==2121", "ip.proto=0x84"},
    };
    static const struct {
        const char *vm, *mac, *ip4, *ip6;
    } vms[] = {
        {"acl-vm1", "0a:00:00:11:00:11", "10.11.0.11", "fd00:11::11"},
        {"acl-vm2", "0a:00:00:11:00:12", "10.11.0.12", "fd00:11::12"},
    };
    int n = 0;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        for (int v6 = 0; v6 < 2; v6++) {
            int s = !strcmp(cases[i].from, vms[0].vm) ? 0 : 1, d = 1 - s;
            char flow[512], args[1024];
            snprintf(flow, sizeof flow,
                     "inport==\"%s\" && eth.src==%s && eth.dst==%s && %s.src==%s && "
                     "%s.dst==%s && ip.ttl==64 && %s",
                     vms[s].vm, vms[s].mac, vms[d].mac, v6 ? "ip6" : "ip4",
                     v6 ? vms[s].ip6 : vms[s].ip4, v6 ? "ip6" : "ip4",
                     v6 ? vms[d].ip6 : vms[d].ip4, cases[i].l4);
            snprintf(args, sizeof args, "--db='%s' --format=json acl-net '%s'", sb, flow);
            char *out = NULL;
            assert_int_equal(ovnicctl_trace(&out, args), 0);
            json_error_t jerr;
            json_t *json = json_loads(out, 0, &jerr);
            assert_non_null(json);
            const json_t *outs = json_object_get(json, "outputs");
            if (json_array_size(outs) != 1) {
                fprintf(stderr, "%s\n%s\n", flow, out);
            }
            assert_int_equal(json_array_size(outs), 1);
            const json_t *o = json_array_get(outs, 0);
            assert_string_equal(json_string_value(json_object_get(o, "port")),
                                cases[i].from);
            assert_true(json_is_true(json_object_get(o, "from_controller")));
            const char *key = json_string_value(json_object_get(o, "key"));
            assert_non_null(strstr(key, cases[i].built));
            char want[64];
            snprintf(want, sizeof want, "eth.dst=%s", vms[s].mac);
            assert_non_null(strstr(key, want));
            assert_string_equal(
                json_string_value(json_object_get(
                    json_array_get(json_object_get(json, "controller"), 0), "action")),
                "reject");

            /* The same verdict as ovn-trace's. */
            char *oracle = NULL;
            assert_int_equal(ovntrace_run(sb, NULL, NULL, "acl-net", flow, &oracle), 0);
            struct ovntrace_verdict a, b;
            assert_int_equal(ovntrace_verdict_parse(oracle, NULL, &a), 0);
            assert_int_equal(ovntrace_verdict_from_json(json, &b), 0);
            assert_true(ovntrace_verdict_equal(&a, &b));
            ovntrace_verdict_destroy(&a);
            ovntrace_verdict_destroy(&b);
            free(oracle);
            json_decref(json);
            free(out);

            /* --minimal: the answer's delivery nested in the reject block. */
            snprintf(args, sizeof args, "--db='%s' --minimal acl-net '%s'", sb, flow);
            assert_int_equal(ovnicctl_trace(&out, args), 0);
            char nested[128];
            snprintf(nested, sizeof nested, "\n    output(\"%s\");\n};\n", cases[i].from);
            assert_non_null(strstr(out, "\nreject {\n"));
            assert_non_null(strstr(out, nested));
            free(out);
            n++;
        }
    }
    assert_int_equal(n, 12);
}

static void
test_batch(void **state OVNIC_UNUSED)
{
    char *out = NULL;
    char *path = NULL;

    assert_true(asprintf(&path, "%s/batch.txt", dir) > 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%s\t%s\n", routed_dp, routed_flow);
    fprintf(f, "# a comment\n");
    fprintf(f,
            "l2-sw\tinport==\"l2-vm1\" && eth.src==0a:00:00:01:00:11"
            " && eth.dst==0a:00:00:01:00:12 && ip4.src==10.1.0.11"
            " && ip4.dst==10.1.0.12 && ip.ttl==64 && udp && udp.dst==53\tnew est\t-\n");
    fprintf(f, "no-such-dp\tinport==\"x\"\n");
    fprintf(f, "just-one-field\n");
    fclose(f);

    char args[1024];
    snprintf(args, sizeof args, "--db='%s' --batch --format=json < '%s'", sb, path);
    /* Some lines fail: exit status 1, one JSON object per line all the same. */
    assert_int_equal(ovnicctl_trace(&out, args), 1);
    json_t *lines[4] = {NULL};
    size_t n = 0;
    for (char *save = NULL, *l = strtok_r(out, "\n", &save); l && n < 4;
         l = strtok_r(NULL, "\n", &save)) {
        json_error_t jerr;
        lines[n] = json_loads(l, 0, &jerr);
        assert_non_null(lines[n]);
        n++;
    }
    assert_int_equal(n, 4);
    assert_string_equal(json_string_value(json_object_get(lines[0], "verdict")),
                        "delivered");
    assert_string_equal(json_string_value(json_object_get(lines[1], "verdict")),
                        "delivered");
    assert_non_null(strstr(json_string_value(json_object_get(lines[2], "error")),
                           "unknown datapath"));
    assert_non_null(
        strstr(json_string_value(json_object_get(lines[3], "error")), "malformed"));
    for (size_t i = 0; i < n; i++) {
        json_decref(lines[i]);
    }
    free(out);
    free(path);
}

static void
test_errors(void **state OVNIC_UNUSED)
{
    char args[1024];

    /* Unknown datapath, unknown port, port of another datapath. */
    snprintf(args, sizeof args, "--db='%s' no-such-dp '%s' 2>/dev/null", sb, routed_flow);
    assert_int_equal(ovnicctl_trace(NULL, args), 1);
    snprintf(args, sizeof args, "--db='%s' r3-ls1 'inport==\"nope\" && ip4' 2>/dev/null",
             sb);
    assert_int_equal(ovnicctl_trace(NULL, args), 1);
    snprintf(args, sizeof args,
             "--db='%s' l2-sw 'inport==\"r3-vm11\" && ip4' 2>/dev/null", sb);
    assert_int_equal(ovnicctl_trace(NULL, args), 1);

    /* Bad microflows: syntax, alternatives, no inport. */
    snprintf(args, sizeof args, "--db='%s' r3-ls1 'inport==\"r3-vm11\" &&' 2>/dev/null",
             sb);
    assert_int_equal(ovnicctl_trace(NULL, args), 1);
    snprintf(args, sizeof args,
             "--db='%s' r3-ls1 'inport==\"r3-vm11\" && (tcp || udp)' 2>/dev/null", sb);
    assert_int_equal(ovnicctl_trace(NULL, args), 1);
    snprintf(args, sizeof args, "--db='%s' r3-ls1 'ip4.dst==10.0.0.1' 2>/dev/null", sb);
    assert_int_equal(ovnicctl_trace(NULL, args), 1);

    /* Unreachable database. */
    assert_int_equal(it_run(NULL,
                            "'%s/tools/ovnicctl/ovnicctl' trace --timeout=1"
                            " --db=unix:%s/no-such.sock r3-ls1 '%s' 2>/dev/null",
                            it_build_dir(), dir, routed_flow),
                     1);

    /* Usage errors. */
    snprintf(args, sizeof args, "--db='%s' r3-ls1 2>/dev/null", sb);
    assert_int_equal(ovnicctl_trace(NULL, args), 2);
    snprintf(args, sizeof args, "--db='%s' --ct=bogus r3-ls1 '%s' 2>/dev/null", sb,
             routed_flow);
    assert_int_equal(ovnicctl_trace(NULL, args), 2);
    snprintf(args, sizeof args, "--db='%s' --ct r3-ls1 '%s' 2>/dev/null", sb,
             routed_flow);
    assert_int_equal(ovnicctl_trace(NULL, args), 2);
    snprintf(args, sizeof args, "--db='%s' --lb-dst=nonsense r3-ls1 '%s' 2>/dev/null", sb,
             routed_flow);
    assert_int_equal(ovnicctl_trace(NULL, args), 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_reject),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
