/* ovnicctl: "dpud" commands over ovnic-dpud's control socket (see dpud_cmd.h). */
#include "dpud_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ovnicctl.h"
#include "shared/util/json.h"
#include "shared/util/util.h"

#define DEFAULT_RUNDIR "/var/run/ovnic"
#define DEFAULT_TIMEOUT_S 30.0
#define MAX_REPLY (16u << 20)

/* ---- Client ---- */

static int
connect_unix(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd;

    if (strlen(path) >= sizeof sun.sun_path) {
        return -ENAMETOOLONG;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    if (connect(fd, (struct sockaddr *)&sun, sizeof sun)) {
        int error = -errno;

        close(fd);
        return error;
    }
    return fd;
}

static int
wait_fd(int fd, short events, uint64_t deadline)
{
    for (;;) {
        uint64_t now = time_msec();
        struct pollfd pfd = {.fd = fd, .events = events};
        int n;

        if (now >= deadline) {
            return -ETIMEDOUT;
        }
        n = poll(&pfd, 1, (int)MIN(deadline - now, (uint64_t)INT32_MAX));
        if (n > 0) {
            return 0;
        }
        if (n < 0 && errno != EINTR) {
            return -errno;
        }
    }
}

int
ovnicctl_dpud_call(const char *path, const char *method, json_t *args, int timeout_ms,
                   json_t **result, char **errmsg)
{
    uint64_t deadline = time_msec() + (uint64_t)timeout_ms;
    json_t *req =
        args ? json_pack("{s:s, s:[o], s:i}", "method", method, "params", args, "id", 1)
             : json_pack("{s:s, s:[], s:i}", "method", method, "params", "id", 1);
    char *text = req ? json_to_string(req) : NULL;
    char *buf = NULL;
    size_t len = 0, off = 0, cap = 0;
    json_t *reply = NULL;
    int fd, error = 0, send_error = 0;

    json_decref(req);
    if (!text) {
        return -ENOMEM;
    }
    fd = connect_unix(path);
    if (fd < 0) {
        free(text);
        return fd;
    }
    len = strlen(text);
    while (off < len) {
        ssize_t n = send(fd, text + off, len - off, MSG_NOSIGNAL);

        if (n > 0) {
            off += n;
        } else if (n < 0 && errno == EAGAIN) {
            if ((error = wait_fd(fd, POLLOUT, deadline))) {
                goto out;
            }
        } else if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
            /* A daemon that refuses the connection answers, then closes it before
             * reading the request: its answer may be waiting. */
            send_error = -errno;
            break;
        } else if (n < 0 && errno != EINTR) {
            error = -errno;
            goto out;
        }
    }
    len = 0;
    for (;;) {
        size_t consumed;
        ssize_t n;

        if (len && !json_parse_prefix(buf, len, &reply, &consumed, NULL)) {
            break;
        }
        if ((error = wait_fd(fd, POLLIN, deadline))) {
            goto out;
        }
        if (cap - len < 4096) {
            char *b = cap + 65536 > MAX_REPLY ? NULL : realloc(buf, cap + 65536);

            if (!b) {
                error = -EMSGSIZE;
                goto out;
            }
            buf = b;
            cap += 65536;
        }
        n = recv(fd, buf + len, cap - len, 0);
        if (n == 0) {
            error = send_error ? send_error : -ECONNRESET;
            goto out;
        } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
            error = send_error ? send_error : -errno;
            goto out;
        } else if (n > 0) {
            len += n;
        }
    }
    {
        const json_t *e = json_object_get(reply, "error");

        if (e && !json_is_null(e)) {
            const char *msg = json_string_value(json_object_get(e, "error"));
            json_t *code = json_object_get(e, "code");

            *errmsg = strdup(msg                 ? msg
                             : json_is_string(e) ? json_string_value(e)
                                                 : "error");
            error = json_is_integer(code) && json_integer_value(code) < 0
                        ? (int)json_integer_value(code)
                        : -EPROTO;
        } else {
            *result = json_incref(json_object_get(reply, "result"));
        }
    }
out:
    json_decref(reply);
    free(buf);
    free(text);
    close(fd);
    return error;
}

/* ---- Commands ---- */

enum {
    OPT_TARGET = 256,
    OPT_FORMAT,
    OPT_TIMEOUT,
    OPT_IFACE_ID,
    OPT_ENCAP_IP,
    OPT_DEVARGS,
    OPT_RESTART,
    OPT_FAILURES,
};

struct dpud_opts {
    const char *path;
    char *target;
    bool json;
    double timeout_s;
    const char *iface_id;
    const char *encap_ip;
    const char *devargs;
    bool restart;
    bool failures;
};

char *
ovnicctl_dpud_default_target(void)
{
    const char *rundir = getenv("OVNIC_RUNDIR");
    char *path = NULL;

    if (asprintf(&path, "%s/ovnic-dpud.ctl",
                 rundir && *rundir ? rundir : DEFAULT_RUNDIR) < 0) {
        return NULL;
    }
    return path;
}

/* Parses the common options and those of 'cmd'; leaves positional arguments in
 * argv[optind...].  Returns -1 to proceed, or an exit status. */
static int
parse_opts(const char *path, int argc, char *argv[], struct dpud_opts *o, bool port_add,
           bool exit_cmd, bool lflows_cmd)
{
    static const struct option longopts[] = {
        {"target", required_argument, NULL, OPT_TARGET},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"iface-id", required_argument, NULL, OPT_IFACE_ID},
        {"encap-ip", required_argument, NULL, OPT_ENCAP_IP},
        {"devargs", required_argument, NULL, OPT_DEVARGS},
        {"restart", no_argument, NULL, OPT_RESTART},
        {"failures", no_argument, NULL, OPT_FAILURES},
        {NULL, 0, NULL, 0},
    };
    int c;

    memset(o, 0, sizeof *o);
    o->path = path;
    o->timeout_s = DEFAULT_TIMEOUT_S;
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
        case OPT_TIMEOUT:
            o->timeout_s = strtod(optarg, &end);
            if (*end || o->timeout_s <= 0 || o->timeout_s > 86400) {
                return ovnicctl_usage_error(path, "bad timeout '%s'", optarg);
            }
            break;
        case OPT_IFACE_ID:
        case OPT_ENCAP_IP:
        case OPT_DEVARGS:
            if (!port_add) {
                return ovnicctl_usage_error(path, "unknown option '%s'",
                                            argv[optind - 1]);
            }
            *(c == OPT_IFACE_ID   ? &o->iface_id
              : c == OPT_ENCAP_IP ? &o->encap_ip
                                  : &o->devargs) = optarg;
            break;
        case OPT_RESTART:
            if (!exit_cmd) {
                return ovnicctl_usage_error(path, "unknown option '%s'",
                                            argv[optind - 1]);
            }
            o->restart = true;
            break;
        case OPT_FAILURES:
            if (!lflows_cmd) {
                return ovnicctl_usage_error(path, "unknown option '%s'",
                                            argv[optind - 1]);
            }
            o->failures = true;
            break;
        default:
            return ovnicctl_usage_error(path, "unknown or incomplete option '%s'",
                                        argv[optind - 1]);
        }
    }
    if (!o->target && !(o->target = ovnicctl_dpud_default_target())) {
        return ovnicctl_error("out of memory");
    }
    return -1;
}

int
ovnicctl_dpud_report(const char *path, const char *target, int error, char *errmsg)
{
    int status;

    if (errmsg && error == -EBUSY) {
        status =
            ovnicctl_error("%s: %s refused the connection: %s", path, target, errmsg);
    } else if (errmsg) {
        status = ovnicctl_error("%s: %s", path, errmsg);
    } else if (error == -ENOENT || error == -ECONNREFUSED) {
        status = ovnicctl_error("%s: cannot connect to %s: %s (is ovnic-dpud running?)",
                                path, target, strerror(-error));
    } else {
        status = ovnicctl_error("%s: %s: %s", path, target, strerror(-error));
    }
    free(errmsg);
    return status;
}

static int
call(struct dpud_opts *o, const char *method, json_t *args, json_t **result)
{
    char *errmsg = NULL;
    int error = ovnicctl_dpud_call(o->target, method, args, (int)(o->timeout_s * 1000),
                                   result, &errmsg);

    return error ? ovnicctl_dpud_report(o->path, o->target, error, errmsg)
                 : OVNICCTL_EXIT_OK;
}

int
ovnicctl_print_json(const json_t *json)
{
    char *s = json_dumps(json, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY);

    if (!s) {
        return ovnicctl_error("out of memory");
    }
    puts(s);
    free(s);
    return OVNICCTL_EXIT_OK;
}

void
ovnicctl_print_value(const json_t *v)
{
    if (json_is_string(v)) {
        fputs(json_string_value(v), stdout);
    } else if (json_is_null(v)) {
        fputs("-", stdout);
    } else {
        char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

        fputs(s ? s : "?", stdout);
        free(s);
    }
}

static int
finish(struct dpud_opts *o, int status)
{
    free(o->target);
    return status;
}

/* The control socket's counters, nested objects flattened: "  closed.idle: 0". */
static void
print_control_socket(const json_t *ctl)
{
    const char *key, *key2;
    json_t *v, *v2;

    if (!json_is_object(ctl)) {
        return;
    }
    printf("control_socket:\n");
    json_object_foreach((json_t *)ctl, key, v)
    {
        if (json_is_object(v)) {
            json_object_foreach(v, key2, v2)
            {
                printf("  %s.%s: ", key, key2);
                ovnicctl_print_value(v2);
                putchar('\n');
            }
        } else {
            printf("  %s: ", key);
            ovnicctl_print_value(v);
            putchar('\n');
        }
    }
}

/* The refused Encap rows: "bad_encaps: N", then one line each with the words of the
 * JSON form: chassis NAME type TYPE ip "IP": REASON. */
static void
print_bad_encaps(const json_t *bad)
{
    const json_t *e;
    size_t i;

    printf("bad_encaps: %zu\n", json_array_size(bad));
    json_array_foreach(bad, i, e)
    {
        char *ip = json_dumps(json_object_get(e, "ip"), JSON_ENCODE_ANY);

        printf("  chassis %s type %s ip %s: %s\n",
               json_string_value(json_object_get(e, "chassis")),
               json_string_value(json_object_get(e, "type")), ip ? ip : "?",
               json_string_value(json_object_get(e, "reason")));
        free(ip);
    }
}

/* The datapath's ports: "NAME (LPORT): STATE[ for S s, N attempts: ERROR]". */
static void
print_dp_ports(const json_t *ports)
{
    size_t i;
    const json_t *p;

    if (!json_array_size(ports)) {
        return;
    }
    printf("dp_ports:\n");
    json_array_foreach(ports, i, p)
    {
        const char *lport = json_string_value(json_object_get(p, "lport"));
        const char *state = json_string_value(json_object_get(p, "state"));
        const char *error = json_string_value(json_object_get(p, "error"));

        printf("  %s", json_string_value(json_object_get(p, "name")));
        if (lport) {
            printf(" (%s)", lport);
        }
        printf(": %s", state ? state : "?");
        if (state && strcmp(state, "up")) {
            printf(" for %.1f s, %lld attempts",
                   (double)json_integer_value(json_object_get(p, "state_ms")) / 1000,
                   (long long)json_integer_value(json_object_get(p, "attempts")));
            if (error) {
                printf(": %s", error);
            }
        }
        putchar('\n');
    }
}

static int
run_status(int argc, char *argv[])
{
    static const char *const order[] = {
        "system_id",
        "hostname",
        "sb_remote",
        "sb_connected_remote",
        "sb_state",
        "chassis_uuid",
        "chassis_private_uuid",
        "chassis_current",
        "registration_error",
        "monitor_all",
        "local_datapaths",
        "local_ports",
        "ports_up",
        "nb_cfg_seen",
        "nb_cfg_acked",
        "datapath",
        "last_full_reason",
    };
    struct dpud_opts o;
    json_t *result = NULL;
    int status = parse_opts("dpud status", argc, argv, &o, false, false, false);

    if (status >= 0) {
        return finish(&o, status);
    }
    if (optind < argc) {
        return finish(
            &o, ovnicctl_usage_error(o.path, "unexpected argument '%s'", argv[optind]));
    }
    status = call(&o, "status", NULL, &result);
    if (!status) {
        if (o.json) {
            status = ovnicctl_print_json(result);
        } else {
            const json_t *counters = json_object_get(result, "counters");
            const char *key;
            json_t *v;

            for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
                printf("%s: ", order[i]);
                ovnicctl_print_value(json_object_get(result, order[i]));
                putchar('\n');
            }
            print_bad_encaps(json_object_get(result, "bad_encaps"));
            printf("counters:\n");
            json_object_foreach((json_t *)counters, key, v)
            {
                printf("  %s: ", key);
                ovnicctl_print_value(v);
                putchar('\n');
            }
            print_control_socket(json_object_get(result, "control_socket"));
            print_dp_ports(json_object_get(result, "dp_ports"));
        }
    }
    json_decref(result);
    return finish(&o, status);
}

static int
run_port_add(int argc, char *argv[])
{
    struct dpud_opts o;
    json_t *result = NULL;
    int status = parse_opts("dpud port-add", argc, argv, &o, true, false, false);

    if (status >= 0) {
        return finish(&o, status);
    }
    if (argc - optind != 1) {
        return finish(&o, ovnicctl_usage_error(o.path, "expected one REPRESENTOR"));
    }
    if (!o.iface_id || !*o.iface_id) {
        return finish(&o, ovnicctl_usage_error(o.path, "--iface-id=LSP is required"));
    }
    if (o.devargs && !*o.devargs) {
        return finish(&o, ovnicctl_usage_error(o.path, "--devargs is empty"));
    }
    status =
        call(&o, "port-add",
             json_pack("{s:s, s:s, s:s?, s:s?}", "representor", argv[optind], "iface_id",
                       o.iface_id, "encap_ip", o.encap_ip, "devargs", o.devargs),
             &result);
    json_decref(result);
    return finish(&o, status);
}

static int
run_port_del(int argc, char *argv[])
{
    struct dpud_opts o;
    json_t *result = NULL;
    int status = parse_opts("dpud port-del", argc, argv, &o, false, false, false);

    if (status >= 0) {
        return finish(&o, status);
    }
    if (argc - optind != 1) {
        return finish(&o, ovnicctl_usage_error(o.path, "expected one REPRESENTOR"));
    }
    status =
        call(&o, "port-del", json_pack("{s:s}", "representor", argv[optind]), &result);
    json_decref(result);
    return finish(&o, status);
}

static int
run_port_list(int argc, char *argv[])
{
    struct dpud_opts o;
    json_t *result = NULL;
    int status = parse_opts("dpud port-list", argc, argv, &o, false, false, false);

    if (status >= 0) {
        return finish(&o, status);
    }
    if (optind < argc) {
        return finish(
            &o, ovnicctl_usage_error(o.path, "unexpected argument '%s'", argv[optind]));
    }
    status = call(&o, "port-list", NULL, &result);
    if (!status) {
        if (o.json) {
            status = ovnicctl_print_json(result);
        } else {
            const json_t *p;
            size_t i;

            printf("%-16s %-24s %-8s %s\n", "REPRESENTOR", "IFACE-ID", "ORIGIN", "STATE");
            json_array_foreach(result, i, p)
            {
                printf("%-16s %-24s %-8s %s\n",
                       json_string_value(json_object_get(p, "representor")),
                       json_string_value(json_object_get(p, "iface_id")),
                       json_string_value(json_object_get(p, "origin")),
                       json_string_value(json_object_get(p, "state")));
            }
        }
    }
    json_decref(result);
    return finish(&o, status);
}

static int
run_hosts(int argc, char *argv[])
{
    struct dpud_opts o;
    json_t *result = NULL;
    int status = parse_opts("dpud hosts", argc, argv, &o, false, false, false);

    if (status >= 0) {
        return finish(&o, status);
    }
    if (optind < argc) {
        return finish(
            &o, ovnicctl_usage_error(o.path, "unexpected argument '%s'", argv[optind]));
    }
    status = call(&o, "hosts", NULL, &result);
    if (!status) {
        if (o.json) {
            status = ovnicctl_print_json(result);
        } else {
            const json_t *h, *a;
            size_t i, j;

            printf("listen %s, lease %d ms, down delay %d ms, card serial %s\n",
                   json_string_value(json_object_get(result, "listen")),
                   (int)json_integer_value(json_object_get(result, "lease_ms")),
                   (int)json_integer_value(json_object_get(result, "down_delay_ms")),
                   *json_string_value(json_object_get(result, "card_serial_number"))
                       ? json_string_value(json_object_get(result, "card_serial_number"))
                       : "-");
            printf("sessions %d, refused at hello %d, rate-limited %d, malformed %d\n",
                   (int)json_integer_value(json_object_get(result, "sessions")),
                   (int)json_integer_value(json_object_get(result, "refused_hello")),
                   (int)json_integer_value(json_object_get(result, "rate_limited")),
                   (int)json_integer_value(json_object_get(result, "malformed")));
            printf("%-20s %-6s %-22s %-8s %-8s %s\n", "HOST", "STATE", "REMOTE",
                   "REQUESTS", "REFUSED", "ATTACHMENTS (IFACE-ID@REPRESENTOR)");
            json_array_foreach(json_object_get(result, "hosts"), i, h)
            {
                const json_t *r = json_object_get(h, "refused");
                json_int_t refused = 0;
                const char *k;
                const json_t *v;
                char atts[512] = "";

                json_object_foreach((json_t *)r, k, v)
                {
                    refused += json_integer_value(v);
                }
                json_array_foreach(json_object_get(h, "attachments"), j, a)
                {
                    size_t len = strlen(atts);
                    snprintf(atts + len, sizeof atts - len, "%s%s@%s", len ? " " : "",
                             json_string_value(json_object_get(a, "iface_id")),
                             json_string_value(json_object_get(a, "representor")));
                }
                const char *remote = json_string_value(json_object_get(h, "remote"));
                printf("%-20s %-6s %-22s %-8d %-8d %s\n",
                       json_string_value(json_object_get(h, "identity")),
                       json_string_value(json_object_get(h, "state")),
                       remote ? remote : "-",
                       (int)json_integer_value(json_object_get(h, "requests")),
                       (int)refused, *atts ? atts : "-");
            }
        }
    }
    json_decref(result);
    return finish(&o, status);
}

static int
run_representor_add(int argc, char *argv[])
{
    struct dpud_opts o;
    json_t *result = NULL;
    unsigned long vf;
    char *end;
    int status = parse_opts("dpud representor-add", argc, argv, &o, false, false, false);

    if (status >= 0) {
        return finish(&o, status);
    }
    if (argc - optind != 3) {
        return finish(&o, ovnicctl_usage_error(o.path, "expected PF_MAC VF_NUM NAME"));
    }
    errno = 0;
    vf = strtoul(argv[optind + 1], &end, 10);
    if (errno || *end || !*argv[optind + 1] || vf > UINT16_MAX) {
        return finish(
            &o, ovnicctl_usage_error(o.path, "bad VF number '%s'", argv[optind + 1]));
    }
    status = call(&o, "representor-add",
                  json_pack("{s:s, s:I, s:s}", "pf_mac", argv[optind], "vf_num",
                            (json_int_t)vf, "name", argv[optind + 2]),
                  &result);
    json_decref(result);
    return finish(&o, status);
}

static int
run_exit(int argc, char *argv[])
{
    struct dpud_opts o;
    json_t *result = NULL;
    int status = parse_opts("dpud exit", argc, argv, &o, false, true, false);

    if (status >= 0) {
        return finish(&o, status);
    }
    if (optind < argc) {
        return finish(
            &o, ovnicctl_usage_error(o.path, "unexpected argument '%s'", argv[optind]));
    }
    status = call(&o, "exit", json_pack("{s:b}", "restart", o.restart), &result);
    json_decref(result);
    return finish(&o, status);
}

static int
run_lflows(int argc, char *argv[])
{
    static const char *const order[] = {
        "flows",
        "failures",
        "current",
        "incremental_runs",
        "full_recomputes",
        "last_full_reason",
        "parsed_total",
        "parsed_full",
        "parsed_incremental",
        "parsed_new",
        "reparsed_flow",
        "reparsed_address_set",
        "reparsed_port_group",
        "reparsed_datapath",
        "removed",
        "failures_total",
        "last_run_us",
    };
    struct dpud_opts o;
    json_t *result = NULL;
    int status = parse_opts("dpud lflows", argc, argv, &o, false, false, true);

    if (status >= 0) {
        return finish(&o, status);
    }
    if (optind < argc) {
        return finish(
            &o, ovnicctl_usage_error(o.path, "unexpected argument '%s'", argv[optind]));
    }
    status =
        call(&o, "lflow-status", json_pack("{s:b}", "failures", o.failures), &result);
    if (!status) {
        if (o.json) {
            status = ovnicctl_print_json(result);
        } else {
            const json_t *f;
            size_t i;

            for (i = 0; i < ARRAY_SIZE(order); i++) {
                printf("%s: ", order[i]);
                ovnicctl_print_value(json_object_get(result, order[i]));
                putchar('\n');
            }
            json_array_foreach(json_object_get(result, "failed_flows"), i, f)
            {
                if (!i) {
                    printf("failed flows:\n");
                }
                printf("  %s %s table %d (%s) %s: %s\n    match: %s\n    actions: %s\n",
                       json_string_value(json_object_get(f, "uuid")),
                       json_string_value(json_object_get(f, "pipeline")),
                       (int)json_integer_value(json_object_get(f, "table")),
                       json_string_value(json_object_get(f, "stage")),
                       json_string_value(json_object_get(f, "part")),
                       json_string_value(json_object_get(f, "reason")),
                       json_string_value(json_object_get(f, "match")),
                       json_string_value(json_object_get(f, "actions")));
            }
            if (json_is_true(json_object_get(result, "failed_flows_truncated"))) {
                printf("  (more failed flows not shown)\n");
            }
        }
    }
    json_decref(result);
    return finish(&o, status);
}

#define COMMON_OPTIONS                                                                 \
    "Options:\n"                                                                       \
    "  --target=PATH         control socket (default: $OVNIC_RUNDIR/ovnic-dpud.ctl,\n" \
    "                        else " DEFAULT_RUNDIR "/ovnic-dpud.ctl)\n"                \
    "  --timeout=SECS        give up after SECS seconds (default 30)\n"

static const struct ovnicctl_command status_cmd = {
    .name = "status",
    .summary = "show the daemon's SB state and counters",
    .help = "Usage: ovnicctl dpud status [--format=table|json] [OPTIONS]\n"
            "\n"
            "Shows the chassis name, the SB connection, the Chassis row, the counts of\n"
            "local datapaths and ports, nb_cfg seen and acknowledged, and counters.\n"
            "\n" COMMON_OPTIONS OVNICCTL_FORMAT_HELP,
    .run = run_status,
};

static const struct ovnicctl_command lflows_cmd = {
    .name = "lflows",
    .summary = "show the logical-flow translation counters and failures",
    .help = "Usage: ovnicctl dpud lflows [--failures] [--format=table|json] [OPTIONS]\n"
            "\n"
            "Shows how many logical flows of the local datapaths are parsed into IR,\n"
            "how many fail, and the counters of the incremental engine (flows parsed\n"
            "in full recomputes and incrementally, and why they were parsed again).\n"
            "With --failures, also lists each failing flow with its uuid, pipeline,\n"
            "table, stage, the part that failed and the parser's message.\n"
            "\n" COMMON_OPTIONS OVNICCTL_FORMAT_HELP
            "  --failures            list the failing flows\n",
    .run = run_lflows,
};

static const struct ovnicctl_command port_add_cmd = {
    .name = "port-add",
    .summary = "bind a representor to a logical port",
    .help = "Usage: ovnicctl dpud port-add REPRESENTOR --iface-id=LSP [--encap-ip=IP]\n"
            "                               [--devargs=DEVARGS]\n"
            "\n"
            "Registers REPRESENTOR as the local VIF of logical switch port LSP; the\n"
            "daemon claims its Port_Binding unless it is requested for another\n"
            "chassis.  --encap-ip selects one of the chassis's encap IPs for it.\n"
            "--devargs gives the DPDK devargs the datapath attaches REPRESENTOR with,\n"
            "instead of those of representor-devargs or memif-dir (datapath = dpdk\n"
            "only); the port's devargs are those of its last port-add, and a port-add\n"
            "with other devargs (or none) attaches it again.\n"
            "\n" COMMON_OPTIONS,
    .run = run_port_add,
};

static const struct ovnicctl_command port_del_cmd = {
    .name = "port-del",
    .summary = "remove a representor's binding",
    .help = "Usage: ovnicctl dpud port-del REPRESENTOR\n"
            "\n"
            "Removes the VIF; its Port_Binding is released (chassis cleared, up=false).\n"
            "\n" COMMON_OPTIONS,
    .run = run_port_del,
};

static const struct ovnicctl_command port_list_cmd = {
    .name = "port-list",
    .summary = "list the local VIFs and their binding state",
    .help = "Usage: ovnicctl dpud port-list [--format=table|json] [OPTIONS]\n"
            "\n" COMMON_OPTIONS OVNICCTL_FORMAT_HELP,
    .run = run_port_list,
};

static const struct ovnicctl_command hosts_cmd = {
    .name = "hosts",
    .summary = "list the hosts served over hostlink and their attachments",
    .help = "Usage: ovnicctl dpud hosts [--format=table|json] [OPTIONS]\n"
            "\n"
            "Shows the hostlink listener, each host (its certificate's identity), its\n"
            "session state (up, down, lost), its PFs, attachments and refusals.\n"
            "\n" COMMON_OPTIONS OVNICCTL_FORMAT_HELP,
    .run = run_hosts,
};

static const struct ovnicctl_command representor_add_cmd = {
    .name = "representor-add",
    .summary = "map a PF MAC and VF number to a representor",
    .help = "Usage: ovnicctl dpud representor-add PF_MAC VF_NUM NAME\n"
            "\n"
            "Adds to the table that resolves the vif-plug options of Port_Bindings\n"
            "(vif-plug:representor:pf-mac, vif-plug:representor:vf-num) to a local\n"
            "representor.\n"
            "\n" COMMON_OPTIONS,
    .run = run_representor_add,
};

static const struct ovnicctl_command exit_cmd = {
    .name = "exit",
    .summary = "stop the daemon",
    .help = "Usage: ovnicctl dpud exit [--restart] [OPTIONS]\n"
            "\n"
            "Without --restart: releases this chassis's port bindings, removes its\n"
            "Chassis and Chassis_Private rows (and Encaps), then exits.\n"
            "With --restart: exits at once and keeps every SB row, so that the next\n"
            "start adopts them without disturbing the network.\n"
            "\n" COMMON_OPTIONS,
    .run = run_exit,
};

static const struct ovnicctl_command *const dpud_subcommands[] = {
    &status_cmd,          &lflows_cmd, &port_add_cmd, &port_del_cmd, &port_list_cmd,
    &representor_add_cmd, &hosts_cmd,  &exit_cmd,     NULL,
};

const struct ovnicctl_command ovnicctl_dpud_command = {
    .name = "dpud",
    .summary = "control a running ovnic-dpud",
    .help = "Usage: ovnicctl dpud COMMAND [ARGS...]\n"
            "\n"
            "Talks to ovnic-dpud's control socket.\n",
    .subcommands = dpud_subcommands,
};
