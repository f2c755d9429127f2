/* ovnic-sim: command line of the simulated data centre ("lab up|down|status"). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shared/util/json.h"
#include "shared/util/log.h"
#include "tests/hw-sim/lab/lab.h"

#define OVNIC_SIM_VERSION "0.1.0"
#define EXIT_USAGE 2

static const char usage_text[] =
    "Usage: ovnic-sim lab up|down|status|nic-stop|nic-start|nic-restart [OPTIONS]\n"
    "\n"
    "Builds a simulated data centre: per host, a host namespace NAME-hI, a DPU\n"
    "namespace NAME-dpuI running ovnic-nicsim (with its sysfs tree and memif\n"
    "representors under DIR/hI), and an uplink into the underlay namespace\n"
    "NAME-underlay (bridge br0).  See docs/ovnic-sim-lab.md.\n"
    "\n"
    "Commands:\n"
    "  lab up       create the lab (fails if a lab of that name is up)\n"
    "  lab down     stop its ovnic-nicsim processes (by pid) and delete its\n"
    "               namespaces, including VM namespaces named NAME-hI-*\n"
    "  lab status   show the lab and each simulated NIC\n"
    "  lab nic-stop --host I [--kill]\n"
    "               take host I's NIC away as a reset does: SIGTERM its\n"
    "               ovnic-nicsim (or SIGKILL with --kill)\n"
    "  lab nic-start --host I\n"
    "               start it again with the command line 'up' gave it: the NIC\n"
    "               comes back as it booted (VFs are enabled again by the host)\n"
    "  lab nic-restart --host I [--kill] [--down-ms MS]\n"
    "               nic-stop, MS ms (default 0) without the NIC, nic-start\n"
    "\n"
    "Options:\n"
    "  --name NAME        lab name, [a-z0-9-], at most 16 characters (default: lab)\n"
    "  --dir DIR          state directory (default: /tmp/ovnic-lab-NAME)\n"
    "  --config FILE      description file: name, hosts, vfs, enable_vfs, underlay,\n"
    "                     profile as 'key = value' lines (options given after it\n"
    "                     override it)\n"
    "  --hosts N          number of hosts, 1 to 16 (default: 2)\n"
    "  --vfs N            sriov_totalvfs per host, 1 to 62 (default: 4)\n"
    "  --enable-vfs       enable every VF at start (default: sriov_numvfs 0)\n"
    "  --underlay CIDR    underlay subnet (default: 192.168.100.0/24); .1 is the\n"
    "                     bridge, host I uses .(10+I)\n"
    "  --profile P        eSwitch profile: bf2, bf3 or a file (default: bf2)\n"
    "  --nicsim PATH      ovnic-nicsim binary (default: $OVNIC_NICSIM, next to this\n"
    "                     program, or $PATH)\n"
    "  --format F         status output: table or json (default: table)\n"
    "  --host I           the host of nic-stop, nic-start, nic-restart (1-based)\n"
    "  --kill             nic-stop, nic-restart: SIGKILL instead of SIGTERM\n"
    "  --down-ms MS       nic-restart: how long the NIC stays away (0 to 600000)\n"
    "  -h, --help         show this help\n"
    "  -V, --version      show the version\n";

static int
usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "ovnic-sim: %s%s%s\nTry 'ovnic-sim --help' for more information.\n",
            msg, arg ? " " : "", arg ? arg : "");
    return EXIT_USAGE;
}

static int
fail(const struct ovnic_err *err)
{
    char text[1024];

    fprintf(stderr, "ovnic-sim: %s\n", ovnic_err_format(err, text, sizeof text));
    return EXIT_FAILURE;
}

static void
print_table(const json_t *state)
{
    const json_t *hosts = json_object_get(state, "host_list");
    const json_t *h;
    size_t i;

    printf("lab %s  underlay %s (%s, gateway %s)  dir %s\n",
           json_string_value(json_object_get(state, "name")),
           json_string_value(json_object_get(state, "underlay")),
           json_string_value(json_object_get(state, "underlay_netns")),
           json_string_value(json_object_get(state, "gateway")),
           json_string_value(json_object_get(state, "dir")));
    printf("%-5s %-16s %-16s %-8s %-8s %-16s %-18s %-5s %-6s %s\n", "HOST", "NETNS",
           "DPU-NETNS", "PID", "STATE", "ENCAP-IP", "UPLINK-MAC", "VFS", "RULES",
           "CONTROL");
    json_array_foreach(hosts, i, h)
    {
        const json_t *st = json_object_get(h, "nicsim");
        char vfs[16] = "-";
        char rules[16] = "-";

        if (st) {
            snprintf(vfs, sizeof vfs, "%d/%d",
                     (int)json_integer_value(json_object_get(st, "numvfs")),
                     (int)json_integer_value(json_object_get(st, "total_vfs")));
            snprintf(rules, sizeof rules, "%d",
                     (int)json_integer_value(json_object_get(st, "rules")));
        }
        printf("%-5s %-16s %-16s %-8d %-8s %-16s %-18s %-5s %-6s %s\n",
               json_string_value(json_object_get(h, "host")),
               json_string_value(json_object_get(h, "netns")),
               json_string_value(json_object_get(h, "dpu_netns")),
               (int)json_integer_value(json_object_get(h, "pid")),
               json_is_true(json_object_get(h, "running")) ? "running" : "stopped",
               json_string_value(json_object_get(h, "encap_ip")),
               json_string_value(json_object_get(h, "uplink_mac")), vfs, rules,
               json_string_value(json_object_get(h, "ctl")));
    }
}

enum {
    OPT_NAME = 256,
    OPT_DIR,
    OPT_CONFIG,
    OPT_HOSTS,
    OPT_VFS,
    OPT_ENABLE_VFS,
    OPT_UNDERLAY,
    OPT_PROFILE,
    OPT_NICSIM,
    OPT_FORMAT,
    OPT_HOST,
    OPT_KILL,
    OPT_DOWN_MS,
};

static int
copy_opt(char *dst, size_t size, const char *what, const char *value)
{
    if (snprintf(dst, size, "%s", value) >= (int)size) {
        return usage_error(what, "too long");
    }
    return 0;
}

int
main(int argc, char *argv[])
{
    static const struct option longopts[] = {
        {"name", required_argument, NULL, OPT_NAME},
        {"dir", required_argument, NULL, OPT_DIR},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"hosts", required_argument, NULL, OPT_HOSTS},
        {"vfs", required_argument, NULL, OPT_VFS},
        {"enable-vfs", no_argument, NULL, OPT_ENABLE_VFS},
        {"underlay", required_argument, NULL, OPT_UNDERLAY},
        {"profile", required_argument, NULL, OPT_PROFILE},
        {"nicsim", required_argument, NULL, OPT_NICSIM},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"host", required_argument, NULL, OPT_HOST},
        {"kill", no_argument, NULL, OPT_KILL},
        {"down-ms", required_argument, NULL, OPT_DOWN_MS},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct lab_config cfg;
    struct ovnic_err err = {0};
    const char *cmd;
    bool json_format = false;
    bool nic_cmd, kill_nic = false;
    unsigned int host = 0;
    unsigned long down_ms = 0;
    char *end;
    int rc;
    int c;

    ovnic_log_set_level(NULL, OVNIC_LOG_WARN);
    lab_config_init(&cfg);
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (argc >= 2 && (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version"))) {
        printf("ovnic-sim (ovnic) %s\n", OVNIC_SIM_VERSION);
        return 0;
    }
    if (argc < 3 || strcmp(argv[1], "lab")) {
        return usage_error("expected 'lab up|down|status|nic-stop|nic-start|nic-restart'",
                           NULL);
    }
    cmd = argv[2];
    nic_cmd = !strcmp(cmd, "nic-stop") || !strcmp(cmd, "nic-start") ||
              !strcmp(cmd, "nic-restart");
    if (strcmp(cmd, "up") && strcmp(cmd, "down") && strcmp(cmd, "status") && !nic_cmd) {
        return usage_error("unknown lab command", cmd);
    }
    optind = 3;
    while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
        unsigned long v;

        switch (c) {
        case OPT_NAME:
            if ((rc = copy_opt(cfg.name, sizeof cfg.name, "--name", optarg))) {
                return rc;
            }
            break;
        case OPT_DIR:
            if ((rc = copy_opt(cfg.dir, sizeof cfg.dir, "--dir", optarg))) {
                return rc;
            }
            break;
        case OPT_CONFIG:
            if (lab_config_read(&cfg, optarg, &err)) {
                return fail(&err);
            }
            break;
        case OPT_HOSTS:
        case OPT_VFS:
            v = strtoul(optarg, &end, 10);
            if (!*optarg || *end || v == 0 || v > (c == OPT_HOSTS ? LAB_MAX_HOSTS : 62)) {
                return usage_error(c == OPT_HOSTS ? "bad --hosts (1 to 16):"
                                                  : "bad --vfs (1 to 62):",
                                   optarg);
            }
            if (c == OPT_HOSTS) {
                cfg.hosts = (unsigned int)v;
            } else {
                cfg.vfs = (unsigned int)v;
            }
            break;
        case OPT_ENABLE_VFS:
            cfg.enable_vfs = true;
            break;
        case OPT_UNDERLAY:
            if ((rc =
                     copy_opt(cfg.underlay, sizeof cfg.underlay, "--underlay", optarg))) {
                return rc;
            }
            break;
        case OPT_PROFILE:
            if ((rc = copy_opt(cfg.profile, sizeof cfg.profile, "--profile", optarg))) {
                return rc;
            }
            break;
        case OPT_NICSIM:
            if ((rc = copy_opt(cfg.nicsim, sizeof cfg.nicsim, "--nicsim", optarg))) {
                return rc;
            }
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "json") && strcmp(optarg, "table")) {
                return usage_error("bad --format (table or json):", optarg);
            }
            json_format = !strcmp(optarg, "json");
            break;
        case OPT_HOST:
            v = strtoul(optarg, &end, 10);
            if (!*optarg || *end || v == 0 || v > LAB_MAX_HOSTS) {
                return usage_error("bad --host (1 to 16):", optarg);
            }
            host = (unsigned int)v;
            break;
        case OPT_KILL:
            kill_nic = true;
            break;
        case OPT_DOWN_MS:
            v = strtoul(optarg, &end, 10);
            if (!*optarg || *end || *optarg == '-' || v > 600000) {
                return usage_error("bad --down-ms (0 to 600000):", optarg);
            }
            down_ms = v;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        case 'V':
            printf("ovnic-sim (ovnic) %s\n", OVNIC_SIM_VERSION);
            return 0;
        default:
            return usage_error("bad option", NULL);
        }
    }
    if (optind < argc) {
        return usage_error("unexpected argument", argv[optind]);
    }
    if (nic_cmd && !host) {
        return usage_error("--host is required with", cmd);
    }
    if (!nic_cmd && (host || kill_nic || down_ms)) {
        return usage_error("--host, --kill and --down-ms go with nic-stop, nic-start "
                           "and nic-restart, not",
                           cmd);
    }
    if (!strcmp(cmd, "nic-start") && (kill_nic || down_ms)) {
        return usage_error("--kill and --down-ms do not go with", cmd);
    }
    if (!strcmp(cmd, "nic-stop") && down_ms) {
        return usage_error("--down-ms does not go with", cmd);
    }
    if (!cfg.dir[0]) {
        snprintf(cfg.dir, sizeof cfg.dir, "/tmp/ovnic-lab-%s", cfg.name);
    }
    if (geteuid() != 0 && strcmp(cmd, "status")) {
        fprintf(stderr, "ovnic-sim: lab %s needs root (namespaces, veths)\n", cmd);
        return EXIT_FAILURE;
    }

    if (!strcmp(cmd, "up")) {
        rc = lab_up(&cfg, &err);
        if (rc) {
            return fail(&err);
        }
        printf("lab %s is up: %u hosts, state in %s/lab.json\n", cfg.name, cfg.hosts,
               cfg.dir);
        return 0;
    }
    if (nic_cmd) {
        uint64_t ready_ms = 0;

        if (strcmp(cmd, "nic-start")) {
            rc = lab_nic_stop(&cfg, host, kill_nic, &err);
            if (rc) {
                return fail(&err);
            }
            printf("host h%u: ovnic-nicsim stopped (%s)\n", host,
                   kill_nic ? "SIGKILL" : "SIGTERM");
            if (!strcmp(cmd, "nic-stop")) {
                return 0;
            }
            struct timespec ts = {(time_t)(down_ms / 1000),
                                  (long)(down_ms % 1000) * 1000000};
            nanosleep(&ts, NULL);
        }
        rc = lab_nic_start(&cfg, host, &ready_ms, &err);
        if (rc) {
            return fail(&err);
        }
        printf("host h%u: ovnic-nicsim started, ready in %llu ms\n", host,
               (unsigned long long)ready_ms);
        return 0;
    }
    if (!strcmp(cmd, "down")) {
        rc = lab_down(&cfg, &err);
        if (rc) {
            return fail(&err);
        }
        printf("lab %s is down\n", cfg.name);
        return 0;
    }
    {
        json_t *state = NULL;

        rc = lab_status(&cfg, &state, &err);
        if (rc) {
            return fail(&err);
        }
        if (json_format) {
            char *text = json_dumps(state, JSON_INDENT(2) | JSON_SORT_KEYS);

            puts(text ? text : "{}");
            free(text);
        } else {
            print_table(state);
        }
        json_decref(state);
    }
    return 0;
}
