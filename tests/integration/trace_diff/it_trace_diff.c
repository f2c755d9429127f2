/* ovnic integration: the differential test of ovnic's pipeline against the real
 * ovn-trace.  Every reference topology (tests/topologies) is applied to one OVN
 * central; the generator (gen.h) makes at least 3,000 packets from the SB; each is
 * traced by "ovnicctl trace --batch --format=json" and by ovn-trace --minimal with the
 * same conntrack assumptions; the verdicts (ovntrace.h) must agree for every packet.
 *
 * Prints the agreement ("agreement: N/M (P%)"), counts per category, and the first
 * differences with both traces.  docs/trace-diff.md describes the method.
 *
 * Environment, to iterate on a part of it (a filtered run does not assert the
 * minimum number of compared packets):
 *   OVNIC_TRACE_DIFF_CATEGORIES  comma-separated categories to run ("lb-vip,spoof-mac")
 *   OVNIC_TRACE_DIFF_DATAPATHS   comma-separated datapath names to send into
 *   OVNIC_TRACE_DIFF_SHOW        how many differences to print (default 10)
 *   OVNIC_TRACE_DIFF_FAILED      file to write every difference to, one line each:
 *                                category, datapath, microflow, ct, lb-dst (tabs) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/ovsdb/cs.h"
#include "gen.h"
#include "ithelp.h"
#include "ovntrace.h"
#include "shared/util/util.h"

#define MIN_COMPARED 3000
#define MIN_PACKETS 3300
#define SEED 20231121
#define MAX_SHOWN 10
/* select() member both tools pick (ovn-trace otherwise picks one at random). */
#define SELECT_ID "1"
#define ORACLE_EXTRA "--select-id=" SELECT_ID

struct central {
    char *dir;
    char *sb;
    char *nb;
};

static struct central central;

static int
group_setup(void **state OVNIC_UNUSED)
{
    central.dir = it_tmpdir_create();
    if (!central.dir) {
        return -1;
    }
    central.sb = it_central("start-sb '%s'", central.dir);
    central.nb = it_central("start-nb '%s'", central.dir);
    free(it_central("start-northd '%s'", central.dir));
    if (!central.sb || !central.nb) {
        return -1;
    }
    return it_run(NULL, "'%s/tests/topologies/all.sh' apply '%s' 2>/dev/null",
                  it_source_dir(), central.nb)
               ? -1
               : 0;
}

static int
group_teardown(void **state OVNIC_UNUSED)
{
    if (central.dir) {
        it_tmpdir_remove(central.dir);
    }
    free(central.dir);
    free(central.sb);
    free(central.nb);
    return 0;
}

/* The model of the SB, with the NAT addresses from the NB. */
static struct gen_model *
load_model(void)
{
    void *st = NULL;
    struct gen_model *model = NULL;
    char *nat = NULL;

    assert_int_equal(it_fixture_setup(&st), 0);
    struct it_fixture *f = st;
    struct ovsdb_cs_config cfg = it_cs_config(central.sb, "OVN_Southbound");
    assert_int_equal(it_fixture_client_start(f, &cfg, 20000), 0);
    assert_int_equal(gen_model_from_replica(ovsdb_cs_replica(f->cs), &model), 0);
    it_fixture_teardown(&st);

    assert_int_equal(it_run(&nat,
                            "ovn-nbctl --db='%s' --bare --columns=external_ip list NAT",
                            central.nb),
                     0);
    for (char *save = NULL, *ip = strtok_r(nat, " \n", &save); ip;
         ip = strtok_r(NULL, " \n", &save)) {
        assert_int_equal(gen_model_add_nat(model, ip), 0);
    }
    free(nat);
    return model;
}

/* "new new ... new" (OVNTRACE_CT_REPEAT times), as ovnicctl's --batch takes it. */
static void
ct_queue(const char *ct, char *buf, size_t size)
{
    size_t len = 0;

    buf[0] = '\0';
    if (!ct) {
        snprintf(buf, size, "-");
        return;
    }
    for (int i = 0; i < OVNTRACE_CT_REPEAT && len + strlen(ct) + 2 < size; i++) {
        len += snprintf(buf + len, size - len, "%s%s", i ? " " : "", ct);
    }
}

/* Runs every packet through "ovnicctl trace --batch".  Returns one JSON object per
 * packet (caller owns the array and its elements). */
static json_t **
run_ovnic(const struct gen_packet *packets, size_t n)
{
    char *path = NULL, *out = NULL;
    char ct[512];
    FILE *f;

    assert_true(asprintf(&path, "%s/batch.txt", central.dir) > 0);
    f = fopen(path, "w");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++) {
        ct_queue(packets[i].ct, ct, sizeof ct);
        fprintf(f, "%s\t%s\t%s\t%s\n", packets[i].datapath, packets[i].microflow, ct,
                packets[i].lb_dst ? packets[i].lb_dst : "-");
    }
    fclose(f);
    char *cmd = NULL;
    assert_true(asprintf(&cmd,
                         "'%s/tools/ovnicctl/ovnicctl' trace --db='%s' --batch"
                         " --format=json --timeout=30 --select-id=" SELECT_ID " < '%s'",
                         it_build_dir(), central.sb, path) > 0);
    int status = it_run_timeout(&out, 250000, cmd);
    free(cmd);
    free(path);
    assert_non_null(out);
    if (status) {
        fprintf(stderr, "ovnicctl trace --batch exited with %d\n", status);
    }

    json_t **results = calloc(n, sizeof *results);
    assert_non_null(results);
    size_t i = 0;
    for (char *save = NULL, *line = strtok_r(out, "\n", &save); line && i < n;
         line = strtok_r(NULL, "\n", &save)) {
        json_error_t jerr;
        results[i] = json_loads(line, 0, &jerr);
        assert_non_null(results[i]);
        i++;
    }
    free(out);
    assert_int_equal(i, n);
    return results;
}

/* The ovn-trace daemons, one per uniform ct state. */
struct servers {
    const char *ct[8];
    struct ovntrace_server *s[8];
    size_t n;
};

static struct ovntrace_server *
server_for(struct servers *sv, const char *ct)
{
    for (size_t i = 0; i < sv->n; i++) {
        if ((!ct && !sv->ct[i]) || (ct && sv->ct[i] && !strcmp(ct, sv->ct[i]))) {
            return sv->s[i];
        }
    }
    assert_true(sv->n < ARRAY_SIZE(sv->s));
    char name[32];
    snprintf(name, sizeof name, "ovn-trace-%zu", sv->n);
    assert_int_equal(ovntrace_server_create(central.sb, ORACLE_EXTRA, central.dir, name,
                                            ct, &sv->s[sv->n]),
                     0);
    sv->ct[sv->n] = ct;
    return sv->s[sv->n++];
}

/* Whether comma-separated list 'list' (NULL or empty: everything) holds 'name'. */
static bool
list_has(const char *list, const char *name)
{
    if (!list || !*list) {
        return true;
    }
    size_t len = strlen(name);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && !strncmp(p, name, n)) {
            return true;
        }
        p += n + (end != NULL);
    }
    return false;
}

/* Keeps the packets the environment selects; frees the others.  Returns whether any
 * filter applies. */
static bool
filter_packets(struct gen_packet *packets, size_t *n)
{
    const char *cats = getenv("OVNIC_TRACE_DIFF_CATEGORIES");
    const char *dps = getenv("OVNIC_TRACE_DIFF_DATAPATHS");
    size_t kept = 0;

    for (size_t i = 0; i < *n; i++) {
        if (list_has(cats, packets[i].category) && list_has(dps, packets[i].datapath)) {
            packets[kept++] = packets[i];
        } else {
            free(packets[i].datapath);
            free(packets[i].microflow);
            free(packets[i].ct);
            free(packets[i].lb_dst);
        }
    }
    *n = kept;
    return (cats && *cats) || (dps && *dps);
}

/* Agreement per category. */
struct category {
    const char *name;
    size_t total, agreed, no_oracle, limited;
};

/* Whether 'actions' holds "ct_snat;", conntrack SNAT without an address. */
static bool
has_addressless_ct_snat(const char *actions)
{
    for (const char *p = strstr(actions, "ct_snat"); p; p = strstr(p + 1, "ct_snat")) {
        bool start = p == actions || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
        const char *q = p + strlen("ct_snat");
        while (*q == ' ') {
            q++;
        }
        if (start && *q == ';') {
            return true;
        }
    }
    return false;
}

/* Whether datapath 'dp' has an l3gateway port (a gateway router). */
static bool
is_gateway_router(const struct gen_model *model, const char *dp)
{
    for (size_t i = 0; i < model->n_ports; i++) {
        const struct gen_port *port = &model->ports[i];
        if (port->type && !strcmp(port->type, "l3gateway") && port->datapath &&
            !strcmp(port->datapath, dp)) {
            return true;
        }
    }
    return false;
}

/* The documented oracle limitation (docs/trace-diff.md): ovn-trace ends a path at
 * "ct_snat;" without an address in a datapath that has an l3gateway port, where
 * OpenFlow's ct(nat) goes on with the next table.  True if ovnic's walk 'json'
 * executed such a flow and the oracle's verdict 'oracle' is part of ovnic's 'ovnic'
 * (what is left of it when that path ends there). */
static bool
is_gateway_ct_snat_limitation(const struct gen_model *model, const json_t *json,
                              const struct ovntrace_verdict *oracle,
                              const struct ovntrace_verdict *ovnic)
{
    const json_t *trace = json_object_get(json, "trace");
    const json_t *t;
    size_t i;
    bool hit = false;

    json_array_foreach(trace, i, t)
    {
        const char *type = json_string_value(json_object_get(t, "type"));
        const char *dp = json_string_value(json_object_get(t, "dp"));
        const char *actions = json_string_value(json_object_get(t, "actions"));
        if (type && !strcmp(type, "flow") && dp && actions &&
            has_addressless_ct_snat(actions) && is_gateway_router(model, dp)) {
            hit = true;
            break;
        }
    }
    return hit && ovntrace_verdict_is_part_of(oracle, ovnic);
}

/* The oracle limitations that docs/trace-diff.md documents. */
#define LIMIT_CT_SNAT "ovn-trace ends the path at \"ct_snat;\" in a gateway router"
#define LIMIT_SUBNET_PS                                                 \
    "ovn-trace compares a network-form port security address exactly; " \
    "ovn-controller admits the subnet"

static const struct gen_port *
model_port(const struct gen_model *model, const char *name)
{
    for (size_t i = 0; name && i < model->n_ports; i++) {
        if (!strcmp(model->ports[i].name, name)) {
            return &model->ports[i];
        }
    }
    return NULL;
}

/* Copies into 'buf' the value of 'field' in microflow 'mf' ("field==VALUE", quotes
 * removed).  False if the microflow does not give it. */
static bool
microflow_value(const char *mf, const char *field, char *buf, size_t size)
{
    size_t flen = strlen(field);

    for (const char *p = strstr(mf, field); p; p = strstr(p + 1, field)) {
        if ((p == mf || p[-1] == ' ' || p[-1] == '(') && !strncmp(p + flen, "==", 2)) {
            const char *v = p + flen + 2;
            size_t n = 0;
            v += *v == '"';
            while (v[n] && v[n] != '"' && v[n] != ' ' && v[n] != ')' && n + 1 < size) {
                n++;
            }
            memcpy(buf, v, n);
            buf[n] = '\0';
            return n > 0;
        }
    }
    return false;
}

/* Whether one of the first microflow fields in 'fields' (NULL-terminated) gives an
 * address that lies in a network-form port security address of 'port'. */
static bool
port_subnet_admits(const struct gen_port *port, const char *mf, const char *const *fields)
{
    char ip[64];

    for (size_t i = 0; port && fields[i]; i++) {
        if (microflow_value(mf, fields[i], ip, sizeof ip)) {
            for (size_t j = 0; j < port->n_ps_subnets; j++) {
                if (gen_subnet_contains_host(&port->ps_subnets[j], ip)) {
                    return true;
                }
            }
            return false;
        }
    }
    return false;
}

/* The second documented oracle limitation (docs/trace-diff.md): a port security
 * address written as a network ("MAC 10.9.0.0/24") admits the whole subnet in
 * ovn-controller's port security flows (nw_src=10.9.0.0/24 in its table 73,
 * nw_dst=10.9.0.0/24 in table 75), and ovnic admits it likewise, while ovn-trace
 * compares the address exactly and drops.  True if the packet comes from such a port
 * with a source in that subnet and the oracle drops it, or if the oracle's verdict is
 * ovnic's without the copies delivered to such ports for a destination in that
 * subnet. */
static bool
is_subnet_port_sec_limitation(const struct gen_model *model, const struct gen_packet *p,
                              const struct ovntrace_verdict *oracle,
                              const struct ovntrace_verdict *ovnic)
{
    static const char *const src_fields[] = {"ip4.src", "arp.spa", "ip6.src", NULL};
    static const char *const dst_fields[] = {"ip4.dst", "arp.tpa", "ip6.dst", NULL};
    char inport[128];

    if (microflow_value(p->microflow, "inport", inport, sizeof inport) &&
        port_subnet_admits(model_port(model, inport), p->microflow, src_fields)) {
        return !oracle->n_outputs && !oracle->n_ctrls;
    }
    if (!ovntrace_verdict_is_part_of(oracle, ovnic)) {
        return false;
    }
    size_t n_missing = 0;
    for (size_t i = 0; i < ovnic->n_outputs; i++) {
        bool found = false;
        for (size_t j = 0; j < oracle->n_outputs && !found; j++) {
            found = !strcmp(oracle->outputs[j].port, ovnic->outputs[i].port);
        }
        if (!found) {
            if (!port_subnet_admits(model_port(model, ovnic->outputs[i].port),
                                    p->microflow, dst_fields)) {
                return false;
            }
            n_missing++;
        }
    }
    return n_missing > 0;
}

static void
count_category(struct category *cats, size_t *n_cats, const char *name, bool agreed,
               bool no_oracle, bool limited)
{
    size_t i;
    for (i = 0; i < *n_cats && strcmp(cats[i].name, name); i++) {
        continue;
    }
    if (i == *n_cats) {
        cats[(*n_cats)++] = (struct category){.name = name};
    }
    cats[i].total += !no_oracle;
    cats[i].agreed += agreed;
    cats[i].no_oracle += no_oracle;
    cats[i].limited += limited;
}

static void
test_against_ovn_trace(void **state OVNIC_UNUSED)
{
    struct gen_model *model = load_model();
    struct gen_packet *packets;
    size_t n, agreed = 0, shown = 0, oracle_errors = 0, oracle_failed = 0, n_cats = 0;
    size_t n_limited = 0, n_limited_snat = 0, n_limited_ps = 0, shown_limited = 0;
    /* Controller-built outputs (nested in a controller action) of compared packets,
     * and of those that agree. */
    size_t n_nested = 0, n_nested_agreed = 0;
    struct category cats[64];
    struct servers sv = {0};

    assert_int_equal(gen_packets(model, SEED, MIN_PACKETS, &packets, &n), 0);
    assert_true(n >= MIN_PACKETS);
    bool filtered = filter_packets(packets, &n);
    const char *show = getenv("OVNIC_TRACE_DIFF_SHOW");
    size_t max_shown = show ? strtoul(show, NULL, 10) : MAX_SHOWN;
    const char *failed_path = getenv("OVNIC_TRACE_DIFF_FAILED");
    FILE *failed = NULL;
    if (failed_path && *failed_path) {
        failed = fopen(failed_path, "w");
        assert_non_null(failed);
    }
    fprintf(stderr, "%zu packets from %zu ports, %zu VIPs, %zu NAT addresses\n", n,
            model->n_ports, model->n_vips, model->n_nat_ips);

    uint64_t t0 = time_msec();
    json_t **ovnic = run_ovnic(packets, n);
    uint64_t t1 = time_msec();
    size_t n_processes = 0;

    for (size_t i = 0; i < n; i++) {
        const struct gen_packet *p = &packets[i];
        char *oracle_text = NULL;
        int ret;

        if (p->lb_dst) {
            struct ovntrace_opts opts = {.ct = p->ct, .lb_dst = p->lb_dst};
            ret = ovntrace_run(central.sb, ORACLE_EXTRA, &opts, p->datapath, p->microflow,
                               &oracle_text);
            n_processes++;
        } else {
            ret = ovntrace_server_trace(server_for(&sv, p->ct), p->datapath, p->microflow,
                                        &oracle_text);
        }
        if (ret == -ECANCELED || (ret == -EIO && p->lb_dst)) {
            /* No oracle for this packet: ovn-trace itself aborts on it. */
            if (oracle_failed < MAX_SHOWN) {
                fprintf(stderr, "ovn-trace aborts on: %s '%s'\n", p->datapath,
                        p->microflow);
            }
            oracle_failed++;
            count_category(cats, &n_cats, p->category, false, true, false);
            continue;
        }
        assert_int_equal(ret, 0);

        struct ovntrace_verdict a = {0}, b = {0};
        bool same = false;
        int pa = ovntrace_verdict_parse(oracle_text, p->lb_dst, &a);
        int pb = ovntrace_verdict_from_json(ovnic[i], &b);
        if (pa) {
            oracle_errors++;
        }
        const char *limitation = NULL;
        if (!pa && !pb) {
            same = ovntrace_verdict_equal(&a, &b);
            if (same) {
                /* Nothing to explain. */
            } else if (is_gateway_ct_snat_limitation(model, ovnic[i], &a, &b)) {
                limitation = LIMIT_CT_SNAT;
                n_limited_snat++;
            } else if (is_subnet_port_sec_limitation(model, p, &a, &b)) {
                limitation = LIMIT_SUBNET_PS;
                n_limited_ps++;
            }
        }
        bool limited = limitation != NULL;
        if (!pa && !pb) {
            for (size_t k = 0; k < a.n_outputs; k++) {
                n_nested += a.outputs[k].ctrl;
                n_nested_agreed += a.outputs[k].ctrl && same;
            }
        }
        agreed += same;
        n_limited += limited;
        count_category(cats, &n_cats, p->category, same, false, limited);
        if (!same && failed) {
            fprintf(failed, "%s\t%s\t%s\t%s\t%s%s%s\n", p->category, p->datapath,
                    p->microflow, p->ct ? p->ct : "-", p->lb_dst ? p->lb_dst : "-",
                    limited ? "\toracle limitation: " : "", limited ? limitation : "");
        }
        if (limited && shown_limited < max_shown) {
            fprintf(stderr, "\n--- oracle limitation %zu (%s, %s): %s '%s'%s%s\n",
                    shown_limited + 1, p->category, limitation, p->datapath, p->microflow,
                    p->ct ? " --ct=" : "", p->ct ? p->ct : "");
            shown_limited++;
        }
        if (!same && !limited && shown < max_shown) {
            char *fa = pa ? NULL : ovntrace_verdict_format(&a);
            char *fb = pb ? NULL : ovntrace_verdict_format(&b);
            const char *minimal = json_string_value(json_object_get(ovnic[i], "minimal"));
            const char *error = json_string_value(json_object_get(ovnic[i], "error"));
            fprintf(
                stderr,
                "\n--- difference %zu (%s): ovn-trace --db=SB --minimal%s%s%s%s %s '%s'\n"
                "ovn-trace:\n%s\novnic:\n%s\nverdicts:\n  ovn-trace: %s\n  ovnic:     "
                "%s\n",
                shown + 1, p->category, p->ct ? " --ct=" : "", p->ct ? p->ct : "",
                p->lb_dst ? " --lb-dst=" : "", p->lb_dst ? p->lb_dst : "", p->datapath,
                p->microflow, oracle_text,
                minimal ? minimal
                : error ? error
                        : "(no output)",
                fa ? fa : "(does not parse)", fb ? fb : "(not a result)");
            free(fa);
            free(fb);
            shown++;
        }
        ovntrace_verdict_destroy(&a);
        ovntrace_verdict_destroy(&b);
        free(oracle_text);
    }
    uint64_t t2 = time_msec();

    fprintf(stderr, "\nper category (agreed/total):\n");
    for (size_t i = 0; i < n_cats; i++) {
        if (cats[i].limited) {
            fprintf(stderr, "  %-18s %4zu/%zu (%zu oracle limitation)\n", cats[i].name,
                    cats[i].agreed, cats[i].total, cats[i].limited);
        } else {
            fprintf(stderr, "  %-18s %4zu/%zu\n", cats[i].name, cats[i].agreed,
                    cats[i].total);
        }
    }
    fprintf(stderr,
            "ovnic: %.1f s for %zu packets; ovn-trace: %.1f s (%zu daemon traces, %zu"
            " daemon restarts, %zu processes)\n",
            (t1 - t0) / 1000.0, n, (t2 - t1) / 1000.0, n - n_processes,
            sv.n ? ovntrace_server_n_restarts(sv.s[0]) : 0, n_processes);
    size_t compared = n - oracle_failed;
    fprintf(stderr, "ovn-trace aborted on %zu packets (not compared)\n", oracle_failed);
    fprintf(stderr, "agreement: %zu/%zu (%.1f%%)\n", agreed, compared,
            compared ? 100.0 * agreed / compared : 0.0);
    fprintf(stderr,
            "nested packets compared (built by a controller action): %zu, "
            "%zu agree\n",
            n_nested, n_nested_agreed);
    fprintf(stderr, "oracle limitations: %zu (%s), %zu (%s)\n", n_limited_snat,
            LIMIT_CT_SNAT, n_limited_ps, LIMIT_SUBNET_PS);
    fprintf(stderr, "agreement apart from them: %zu/%zu (%.1f%%)\n", agreed,
            compared - n_limited,
            compared > n_limited ? 100.0 * agreed / (compared - n_limited) : 0.0);

    if (failed) {
        fclose(failed);
    }
    for (size_t i = 0; i < sv.n; i++) {
        ovntrace_server_destroy(sv.s[i]);
    }
    for (size_t i = 0; i < n; i++) {
        json_decref(ovnic[i]);
    }
    free(ovnic);
    gen_packets_destroy(packets, n);
    gen_model_destroy(model);

    assert_int_equal(oracle_errors, 0);
    assert_true(filtered || compared >= MIN_COMPARED);
    assert_int_equal(agreed + n_limited, compared);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_ovn_trace),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
