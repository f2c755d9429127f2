/* ovnicctl dpctl ... and ovnicctl conntrack ...: the DPDK datapath of a running
 * ovnic-dpud (ports and counters, megaflows, neighbours, live trace, connection
 * tracking), through its control socket. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/pipeline/ct.h"
#include "dpud_cmd.h"
#include "ovnicctl.h"

#define DP_TIMEOUT_MS 30000

enum {
    OPT_TARGET = 256,
    OPT_FORMAT,
    OPT_ZONE,
    OPT_LIMIT,
};

struct dp_opts {
    const char *path;
    char *target;
    bool json;
    long zone;  /* -1: every zone. */
    long limit; /* 0: no limit. */
};

/* Parses the options of 'path'; 'zone_ok' and 'limit_ok' say which it takes.
 * Returns -1 to proceed, or an exit status. */
static int
dp_parse(const char *path, int argc, char *argv[], struct dp_opts *o, bool zone_ok,
         bool limit_ok)
{
    static const struct option longopts[] = {
        {"target", required_argument, NULL, OPT_TARGET},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"zone", required_argument, NULL, OPT_ZONE},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {NULL, 0, NULL, 0},
    };
    int c;

    memset(o, 0, sizeof *o);
    o->path = path;
    o->zone = -1;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case OPT_TARGET:
            free(o->target);
            o->target = strdup(optarg);
            break;
        case OPT_FORMAT: {
            enum ovnicctl_format format;

            if (ovnicctl_format_parse(path, optarg, &format) >= 0) {
                return OVNICCTL_EXIT_USAGE;
            }
            o->json = format == OVNICCTL_FORMAT_JSON;
            break;
        }
        case OPT_ZONE: {
            json_t *text = json_string(optarg);
            uint16_t zone;
            int error = text ? ct_zone_parse(text, &zone) : -ENOMEM;

            json_decref(text);
            if (!zone_ok) {
                return ovnicctl_usage_error(path, "unknown option '%s'",
                                            argv[optind - 1]);
            }
            if (error) {
                return ovnicctl_usage_error(path, "bad --zone '%s': " CT_ZONE_ERROR,
                                            optarg);
            }
            o->zone = zone;
            break;
        }
        case OPT_LIMIT: {
            if (!limit_ok) {
                return ovnicctl_usage_error(path, "unknown option '%s'",
                                            argv[optind - 1]);
            }
            long v = strtol(optarg, &end, 10);
            if (*end || !*optarg || v < 0 || v > INT32_MAX) {
                return ovnicctl_usage_error(
                    path, "bad --limit '%s': a number from 0 (no limit) to %d", optarg,
                    INT32_MAX);
            }
            o->limit = v;
            break;
        }
        default:
            return ovnicctl_usage_error(path, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (!o->target && !(o->target = ovnicctl_dpud_default_target())) {
        return ovnicctl_error("out of memory");
    }
    return -1;
}

/* Calls 'method' with 'args' (taken).  Returns an exit status. */
static int
dp_call(struct dp_opts *o, const char *method, json_t *args, json_t **result)
{
    char *errmsg = NULL;
    int error =
        ovnicctl_dpud_call(o->target, method, args, DP_TIMEOUT_MS, result, &errmsg);

    return error ? ovnicctl_dpud_report(o->path, o->target, error, errmsg)
                 : OVNICCTL_EXIT_OK;
}

/* Prints an array of objects as a table with the columns 'cols' (NULL-ended). */
static void
print_table(const json_t *rows, const char *const *cols)
{
    size_t i;
    const json_t *row;

    for (size_t c = 0; cols[c]; c++) {
        printf("%s%s", c ? "  " : "", cols[c]);
    }
    putchar('\n');
    json_array_foreach(rows, i, row)
    {
        for (size_t c = 0; cols[c]; c++) {
            if (c) {
                fputs("  ", stdout);
            }
            ovnicctl_print_value(json_object_get(row, cols[c]));
        }
        putchar('\n');
    }
}

/* Prints an object as "key: value" lines (nested objects indented). */
static void
print_object(const json_t *obj, int indent)
{
    const char *key;
    const json_t *v;

    json_object_foreach((json_t *)obj, key, v)
    {
        printf("%*s%s:", indent, "", key);
        if (json_is_object(v)) {
            putchar('\n');
            print_object(v, indent + 2);
        } else {
            putchar(' ');
            ovnicctl_print_value(v);
            putchar('\n');
        }
    }
}

/* Runs one datapath query: options, then 'method', then the output. */
static int
dp_query(const char *path, int argc, char *argv[], const char *method, bool zone_ok,
         bool limit_ok, const char *const *cols)
{
    struct dp_opts o;
    json_t *result = NULL;
    int status = dp_parse(path, argc, argv, &o, zone_ok, limit_ok);

    if (status < 0 && optind < argc) {
        status = ovnicctl_usage_error(path, "unexpected argument '%s'", argv[optind]);
    }
    if (status < 0) {
        json_t *args = json_object();
        if (zone_ok && o.zone >= 0) {
            json_object_set_new(args, "zone", json_integer(o.zone));
        }
        if (limit_ok && o.limit) {
            json_object_set_new(args, "limit", json_integer(o.limit));
        }
        status = dp_call(&o, method, args, &result);
        if (!status) {
            if (o.json) {
                status = ovnicctl_print_json(result);
            } else if (json_is_array(result) && cols) {
                print_table(result, cols);
            } else if (json_is_object(result)) {
                print_object(result, 0);
            } else {
                status = ovnicctl_print_json(result);
            }
        }
    }
    json_decref(result);
    free(o.target);
    return status;
}

static int
run_show(int argc, char *argv[])
{
    static const char *const cols[] = {
        "name",       "lport",      "state",      "link",           "rx_packets",
        "tx_packets", "rx_dropped", "tx_dropped", "pipeline_walks", NULL};
    return dp_query("dpctl show", argc, argv, "dp-ports", false, false, cols);
}

static int
run_stats(int argc, char *argv[])
{
    return dp_query("dpctl stats", argc, argv, "dp-stats", false, false, NULL);
}

static int
run_dump_flows(int argc, char *argv[])
{
    static const char *const cols[] = {"packets", "bytes",   "used_ms",
                                       "match",   "actions", NULL};
    return dp_query("dpctl dump-flows", argc, argv, "dp-flows", false, true, cols);
}

static int
run_dump_pipeline(int argc, char *argv[])
{
    struct dp_opts o;
    json_t *result = NULL;
    int status = dp_parse("dpctl dump-pipeline", argc, argv, &o, false, false);

    if (status < 0 && argc - optind > 1) {
        status =
            ovnicctl_usage_error(o.path, "unexpected argument '%s'", argv[optind + 1]);
    }
    if (status < 0) {
        json_t *args = json_object();
        if (optind < argc) {
            json_object_set_new(args, "datapath", json_string(argv[optind]));
        }
        status = dp_call(&o, "dp-pipeline", args, &result);
        if (!status && o.json) {
            status = ovnicctl_print_json(result);
        } else if (!status) {
            size_t i;
            const json_t *f;
            json_array_foreach(result, i, f)
            {
                printf(" datapath=%s, %s table=%" JSON_INTEGER_FORMAT
                       ", priority=%" JSON_INTEGER_FORMAT ", n_hits=%" JSON_INTEGER_FORMAT
                       ", stage=%s, match=(%s), actions=(%s)\n",
                       json_string_value(json_object_get(f, "datapath")),
                       json_string_value(json_object_get(f, "pipeline")),
                       json_integer_value(json_object_get(f, "table")),
                       json_integer_value(json_object_get(f, "priority")),
                       json_integer_value(json_object_get(f, "hits")),
                       json_string_value(json_object_get(f, "stage")),
                       json_string_value(json_object_get(f, "match")),
                       json_string_value(json_object_get(f, "actions")));
            }
        }
    }
    json_decref(result);
    free(o.target);
    return status;
}

static int
run_svc_monitors(int argc, char *argv[])
{
    struct dp_opts o;
    json_t *result = NULL;
    int status = dp_parse("dpctl svc-monitors", argc, argv, &o, false, false);

    if (status < 0 && optind < argc) {
        status = ovnicctl_usage_error(o.path, "unexpected argument '%s'", argv[optind]);
    }
    if (status < 0) {
        status = dp_call(&o, "dp-svc-monitors", json_object(), &result);
        if (!status && o.json) {
            status = ovnicctl_print_json(result);
        } else if (!status) {
            const json_t *mons = json_object_get(result, "monitors");
            const json_t *m;
            size_t i;
            json_array_foreach(mons, i, m)
            {
                const char *key;
                const json_t *v;
                bool first = true;
                json_object_foreach((json_t *)m, key, v)
                {
                    printf("%s%s=", first ? "" : " ", key);
                    ovnicctl_print_value(v);
                    first = false;
                }
                putchar('\n');
            }
            printf("stats:");
            const char *key;
            const json_t *v;
            json_object_foreach(json_object_get(result, "stats"), key, v)
            {
                printf(" %s=", key);
                ovnicctl_print_value(v);
            }
            putchar('\n');
        }
    }
    json_decref(result);
    free(o.target);
    return status;
}

static int
run_neigh(int argc, char *argv[])
{
    struct dp_opts o;
    json_t *result = NULL;
    int status = dp_parse("dpctl neigh", argc, argv, &o, false, false);

    if (status < 0 && optind < argc) {
        status = ovnicctl_usage_error(o.path, "unexpected argument '%s'", argv[optind]);
    }
    if (status < 0) {
        status = dp_call(&o, "dp-neigh", json_object(), &result);
        if (!status && o.json) {
            status = ovnicctl_print_json(result);
        } else if (!status) {
            static const char *const cols[] = {"ip",     "mac",      "state",
                                               "age_ms", "requests", NULL};
            printf("local %s %s gateway ",
                   json_string_value(json_object_get(result, "local_ip")),
                   json_string_value(json_object_get(result, "local_mac")));
            ovnicctl_print_value(json_object_get(result, "gateway"));
            putchar('\n');
            print_table(json_object_get(result, "entries"), cols);
        }
    }
    json_decref(result);
    free(o.target);
    return status;
}

/* Member 'key' of 'obj' if it is a string, else "". */
static const char *
jstr(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

/* Prints a "dp-trace" result as ovnicctl trace prints its detailed form: the walk
 * (indented by depth), then the verdict and the megaflow. */
static void
print_trace(const json_t *r)
{
    const char *refused = jstr(r, "error");
    const json_t *mf = json_object_get(r, "megaflow");
    const json_t *v;
    size_t i;

    if (*refused) {
        printf("*** input refused: %s\n", refused);
    }
    json_array_foreach(json_object_get(r, "trace"), i, v)
    {
        const char *type = jstr(v, "type");
        const char *text = jstr(v, "text");
        int ind = 2 * (int)json_integer_value(json_object_get(v, "depth"));
        int table = (int)json_integer_value(json_object_get(v, "table"));

        if (!strcmp(type, "pipeline")) {
            printf("%*s%s\n", ind, "", text);
        } else if (!strcmp(type, "flow")) {
            const char *stage = jstr(v, "stage");
            const char *uuid = jstr(v, "uuid");

            printf("%*s%2d. %s (priority %d, uuid %.8s): %s\n", ind, "", table,
                   *stage ? stage : jstr(v, "pipeline"),
                   (int)json_integer_value(json_object_get(v, "priority")), uuid,
                   jstr(v, "match"));
            printf("%*s    %s\n", ind, "", jstr(v, "actions"));
        } else if (!strcmp(type, "no-match")) {
            printf("%*s%2d. no flow matched\n", ind, "", table);
        } else {
            printf("%*s    %s%s\n", ind, "",
                   !strcmp(type, "drop") || !strcmp(type, "output") ? "=> " : "", text);
        }
    }
    putchar('\n');
    json_array_foreach(json_object_get(r, "outputs"), i, v)
    {
        const char *type = jstr(v, "type");

        printf("output: %s %s", type, jstr(v, "port"));
        if (!strcmp(type, "tunnel")) {
            printf(" via chassis %s (%s)", jstr(v, "chassis"), jstr(v, "encap_ip"));
        }
        putchar('\n');
    }
    json_array_foreach(json_object_get(r, "drops"), i, v)
    {
        printf("drop: %s\n", jstr(v, "reason"));
    }
    json_array_foreach(json_object_get(r, "controller"), i, v)
    {
        printf("controller: %s %s\n", jstr(v, "action"), jstr(v, "text"));
    }
    if (json_is_object(mf)) {
        const char *why = jstr(mf, "uncacheable_reason");

        printf("megaflow: %s\n  actions: %s\n", jstr(mf, "match"), jstr(mf, "actions"));
        if (!json_is_true(json_object_get(mf, "cacheable"))) {
            printf("  not cacheable%s%s\n", *why ? ": " : "", why);
        }
    }
}

static int
run_trace(int argc, char *argv[])
{
    struct dp_opts o;
    json_t *result = NULL;
    int status = dp_parse("dpctl trace", argc, argv, &o, false, false);

    if (status < 0 && argc - optind != 2) {
        status = ovnicctl_usage_error(o.path, "expected PORT and FRAME (hex)");
    }
    if (status < 0) {
        json_t *args =
            json_pack("{s:s,s:s}", "port", argv[optind], "packet", argv[optind + 1]);
        status = dp_call(&o, "dp-trace", args, &result);
        if (!status && o.json) {
            status = ovnicctl_print_json(result);
        } else if (!status) {
            print_trace(result);
        }
    }
    json_decref(result);
    free(o.target);
    return status;
}

static int
run_ct_dump(int argc, char *argv[])
{
    static const char *const cols[] = {"zone", "proto", "orig",       "reply", "state",
                                       "mark", "nat",   "expires_ms", NULL};
    return dp_query("conntrack dump", argc, argv, "conntrack-dump", true, true, cols);
}

static int
run_ct_flush(int argc, char *argv[])
{
    return dp_query("conntrack flush", argc, argv, "conntrack-flush", true, false, NULL);
}

static int
run_ct_stats(int argc, char *argv[])
{
    return dp_query("conntrack stats", argc, argv, "conntrack-stats", false, false, NULL);
}

#define DP_COMMON_OPTIONS                                             \
    "Options:\n"                                                      \
    "  --target=PATH         ovnic-dpud's control socket (default:\n" \
    "                        $OVNIC_RUNDIR/ovnic-dpud.ctl, else\n"    \
    "                        /var/run/ovnic/ovnic-dpud.ctl)\n" OVNICCTL_FORMAT_HELP

static const struct ovnicctl_command show_cmd = {
    .name = "show",
    .summary = "list the datapath's ports and their counters",
    .help = "Usage: ovnicctl dpctl show [OPTIONS]\n"
            "\n"
            "Lists the representor ports of the DPDK datapath (the uplink included),\n"
            "the logical port each carries, link state, and packet counters.\n"
            "\n" DP_COMMON_OPTIONS,
    .run = run_show,
};

static const struct ovnicctl_command stats_cmd = {
    .name = "stats",
    .summary = "show datapath totals and drops by reason",
    .help = "Usage: ovnicctl dpctl stats [OPTIONS]\n"
            "\n"
            "Shows the datapath lcore's totals (polls, idle sleeps, packets, pipeline\n"
            "walks, cache hits) and every drop counter by its reason.\n"
            "\n" DP_COMMON_OPTIONS,
    .run = run_stats,
};

static const struct ovnicctl_command dump_flows_cmd = {
    .name = "dump-flows",
    .summary = "list the megaflows the datapath holds",
    .help = "Usage: ovnicctl dpctl dump-flows [--limit=N] [OPTIONS]\n"
            "\n"
            "Lists the megaflow cache: each masked match, its composed actions, and\n"
            "its packet and byte counters.\n"
            "\n" DP_COMMON_OPTIONS "  --limit=N             at most N megaflows\n",
    .run = run_dump_flows,
};

static const struct ovnicctl_command dump_pipeline_cmd = {
    .name = "dump-pipeline",
    .summary = "list the logical flows the datapath runs, with hit counts",
    .help = "Usage: ovnicctl dpctl dump-pipeline [DATAPATH] [OPTIONS]\n"
            "\n"
            "Lists the logical flows installed in the pipeline the datapath runs, like\n"
            "ovs-ofctl dump-flows: datapath, ingress or egress table, priority, the\n"
            "number of lookups each answered, stage, match and actions; of DATAPATH\n"
            "(its name) only, if given.\n"
            "\n" DP_COMMON_OPTIONS,
    .run = run_dump_pipeline,
};

static const struct ovnicctl_command svc_monitors_cmd = {
    .name = "svc-monitors",
    .summary = "show the load-balancer health checks this datapath runs",
    .help = "Usage: ovnicctl dpctl svc-monitors [OPTIONS]\n"
            "\n"
            "Lists the Service_Monitor rows probed from this chassis (backends whose\n"
            "logical port is bound here): backend address and port, protocol, status,\n"
            "consecutive successes and failures, and the probe counters\n"
            "(docs/svc-monitor.md).\n"
            "\n" DP_COMMON_OPTIONS,
    .run = run_svc_monitors,
};

static const struct ovnicctl_command neigh_cmd = {
    .name = "neigh",
    .summary = "show the underlay neighbour table",
    .help = "Usage: ovnicctl dpctl neigh [OPTIONS]\n"
            "\n"
            "Shows the local tunnel endpoint and the MACs of the remote endpoints (or\n"
            "gateway) the datapath resolved on the uplink.\n"
            "\n" DP_COMMON_OPTIONS,
    .run = run_neigh,
};

static const struct ovnicctl_command trace_cmd = {
    .name = "trace",
    .summary = "trace a frame through the live pipeline",
    .help = "Usage: ovnicctl dpctl trace PORT FRAME [OPTIONS]\n"
            "\n"
            "Runs the Ethernet frame FRAME (hexadecimal) as if it arrived on PORT (a\n"
            "representor name, or \"uplink\") through the pipeline the datapath runs\n"
            "now, and prints what would become of it.  Nothing is sent.\n"
            "\n" DP_COMMON_OPTIONS,
    .run = run_trace,
};

static const struct ovnicctl_command *const dpctl_subcommands[] = {
    &show_cmd,  &stats_cmd, &dump_flows_cmd,   &dump_pipeline_cmd,
    &neigh_cmd, &trace_cmd, &svc_monitors_cmd, NULL,
};

const struct ovnicctl_command ovnicctl_dpctl_command = {
    .name = "dpctl",
    .summary = "show the DPDK datapath of a running ovnic-dpud",
    .help = "Usage: ovnicctl dpctl COMMAND [ARGS...]\n"
            "\n"
            "Shows the datapath of an ovnic-dpud started with datapath = dpdk.\n",
    .subcommands = dpctl_subcommands,
};

static const struct ovnicctl_command ct_dump_cmd = {
    .name = "dump",
    .summary = "list tracked connections",
    .help = "Usage: ovnicctl conntrack dump [--zone=Z] [--limit=N] [OPTIONS]\n"
            "\n"
            "Lists the connections of zone Z (default: every zone): original and\n"
            "reply tuples, state, mark, NAT and time left.\n"
            "\n" DP_COMMON_OPTIONS "  --zone=Z              only zone Z (0 to 65535)\n"
            "  --limit=N             at most N connections\n",
    .run = run_ct_dump,
};

static const struct ovnicctl_command ct_flush_cmd = {
    .name = "flush",
    .summary = "remove tracked connections",
    .help = "Usage: ovnicctl conntrack flush [--zone=Z] [OPTIONS]\n"
            "\n"
            "Removes the connections of zone Z, or every connection.\n"
            "\n" DP_COMMON_OPTIONS "  --zone=Z              only zone Z (0 to 65535)\n",
    .run = run_ct_flush,
};

static const struct ovnicctl_command ct_stats_cmd = {
    .name = "stats",
    .summary = "show connection-tracking counters",
    .help = "Usage: ovnicctl conntrack stats [OPTIONS]\n"
            "\n"
            "Shows connections held, created, expired, invalid packets, drops because\n"
            "the table was full, NAT and related counts.\n"
            "\n" DP_COMMON_OPTIONS,
    .run = run_ct_stats,
};

static const struct ovnicctl_command *const ct_subcommands[] = {
    &ct_dump_cmd,
    &ct_flush_cmd,
    &ct_stats_cmd,
    NULL,
};

const struct ovnicctl_command ovnicctl_conntrack_command = {
    .name = "conntrack",
    .summary = "show or flush the connection tracker of a running ovnic-dpud",
    .help = "Usage: ovnicctl conntrack COMMAND [ARGS...]\n"
            "\n"
            "The connection tracker of an ovnic-dpud started with datapath = dpdk.\n",
    .subcommands = ct_subcommands,
};
