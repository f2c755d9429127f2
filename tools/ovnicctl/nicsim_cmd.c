/* ovnicctl: "nicsim" command, a client of ovnic-nicsim's control socket (see
 * nicsim_cmd.h and docs/ovnic-nicsim.md). */
#include "nicsim_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/util/jsonrpc.h"
#include "ovnicctl.h"
#include "shared/util/json.h"
#include "shared/util/poll.h"
#include "shared/util/stream.h"
#include "shared/util/util.h"

#define NICSIM_TIMEOUT_MS 15000
#define FLASH_CHUNK 65536

static const char nicsim_help[] =
    "Usage: ovnicctl nicsim [--socket PATH] [--format=table|json] COMMAND [ARGS...]\n"
    "\n"
    "Drives a simulated NIC (ovnic-nicsim) through its control socket: PATH, else\n"
    "$OVNIC_NICSIM_SOCKET, else " OVNICCTL_NICSIM_DEFAULT_SOCKET ".\n"
    "\n"
    "Options (before COMMAND):\n"
    "  --socket=PATH         the control socket\n" OVNICCTL_FORMAT_HELP
    "                        (json: the NIC's answer as it is)\n"
    "\n"
    "Commands:\n"
    "  status                     process, profile, VFs, rules\n"
    "  ports                      ports with their counters\n"
    "  rules                      eSwitch rules with their counters\n"
    "  stats                      eSwitch totals\n"
    "  caps                       device capabilities\n"
    "  flush                      remove every rule\n"
    "  sriov NUMVFS               set the VF count (as writing sriov_numvfs)\n"
    "  fault set insert-fail NTH [ERRNO]   fail the NTH rule insert from now\n"
    "  fault set table-full on|off         every insert fails with ENOSPC\n"
    "  fault set link PORT up|down         take a port's link down or up\n"
    "  fault set uplink-drop PERCENT       drop a share of the uplink's packets\n"
    "  fault set uplink-delay MS           delay the uplink's packets\n"
    "  fault set flash-fail BYTE           fail the flash write reaching BYTE\n"
    "  fault set flash-powerloss BYTE      lose power at flash byte BYTE\n"
    "  fault clear | fault list\n"
    "  flash info                 boot selection and slot size\n"
    "  flash read SLOT OFFSET LENGTH       print bytes as hex\n"
    "  flash write SLOT OFFSET FILE        write FILE's bytes\n"
    "  flash erase SLOT\n"
    "  flash boot SLOT|none       slot to try on the next boot\n"
    "  flash reboot | flash confirm | flash power-cycle\n"
    "  call METHOD [JSON-OBJECT]  any control method; prints the JSON result\n"
    "\n"
    "SLOT is a or b.  Exit status: 0, 1 if the NIC refused or is unreachable, 2 for\n"
    "a bad command line.\n";

struct nicsim_conn {
    struct jsonrpc *rpc;
    const char *socket;
    int64_t next_id;
    bool json; /* --format=json */
};

static int
conn_open(struct nicsim_conn *c, const char *socket)
{
    struct ovnic_err err = {0};
    struct stream *stream;
    char remote[4200];
    char text[512];
    int rc;

    c->socket = socket;
    c->next_id = 1;
    snprintf(remote, sizeof remote, "unix:%s", socket);
    rc = stream_open(remote, NULL, &stream, &err);
    if (!rc) {
        rc = jsonrpc_open(stream, 0, &c->rpc);
    }
    if (rc) {
        return ovnicctl_error("cannot connect to %s: %s", socket,
                              ovnic_err_format(&err, text, sizeof text));
    }
    return 0;
}

/* Calls 'method' with 'arg' (takes ownership; NULL: none).  On success stores the
 * result in '*result' (caller owns).  Returns an OVNICCTL_EXIT_* status. */
static int
conn_call(struct nicsim_conn *c, const char *method, json_t *arg, json_t **result)
{
    uint64_t deadline = time_msec() + NICSIM_TIMEOUT_MS;
    struct ovnic_err err = {0};
    json_t *id = json_integer(c->next_id++);
    struct jsonrpc_msg *req;
    char text[512];
    int rc;

    req = jsonrpc_msg_create_request(method, arg ? json_pack("[o]", arg) : json_array(),
                                     json_incref(id));
    rc = req ? jsonrpc_send(c->rpc, req) : -ENOMEM;
    while (!rc) {
        struct jsonrpc_msg *msg;
        struct pollfd pfd;
        uint32_t events;
        uint64_t now;

        rc = jsonrpc_run(c->rpc);
        if (rc) {
            break;
        }
        rc = jsonrpc_recv(c->rpc, &msg, &err);
        if (!rc) {
            if ((msg->type == JSONRPC_REPLY || msg->type == JSONRPC_ERROR) &&
                json_equal(msg->id, id)) {
                if (msg->type == JSONRPC_ERROR) {
                    const char *e = NULL, *d = NULL;

                    json_get_string_opt(msg->error, "error", &e, NULL);
                    json_get_string_opt(msg->error, "details", &d, NULL);
                    rc = ovnicctl_error("%s: %s%s%s", method, e ? e : "error",
                                        d && d[0] ? ": " : "", d ? d : "");
                } else {
                    *result = json_incref(msg->result);
                    rc = OVNICCTL_EXIT_OK;
                }
                jsonrpc_msg_destroy(msg);
                json_decref(id);
                return rc;
            }
            jsonrpc_msg_destroy(msg);
            continue;
        }
        if (rc != -EAGAIN) {
            break;
        }
        now = time_msec();
        if (now >= deadline) {
            rc = -ETIMEDOUT;
            break;
        }
        events = jsonrpc_poll_events(c->rpc);
        pfd.fd = jsonrpc_fd(c->rpc);
        pfd.events = (short)((events & OVNIC_POLL_IN ? POLLIN : 0) |
                             (events & OVNIC_POLL_OUT ? POLLOUT : 0));
        poll(&pfd, 1, (int)(deadline - now));
        rc = 0;
    }
    json_decref(id);
    if (!err.code) {
        ovnic_err_set(&err, rc, "nicsim", "request failed", "%s", method);
    }
    return ovnicctl_error("%s: %s", c->socket, ovnic_err_format(&err, text, sizeof text));
}

static void
print_json(const json_t *json)
{
    char *text = json_dumps(json, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY);

    puts(text ? text : "null");
    free(text);
}

static void
print_object_lines(const json_t *obj)
{
    const char *key;
    json_t *value;

    json_object_foreach((json_t *)obj, key, value)
    {
        char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);

        if (json_is_string(value)) {
            printf("%s: %s\n", key, json_string_value(value));
        } else {
            printf("%s: %s\n", key, text ? text : "");
        }
        free(text);
    }
}

static json_int_t
stat_of(const json_t *port, const char *key)
{
    return json_integer_value(json_object_get(json_object_get(port, "stats"), key));
}

static void
print_ports(const json_t *result)
{
    const json_t *p;
    size_t i;

    printf("%-3s %-8s %-6s %-8s %-11s %-4s %-4s %10s %10s %10s %10s %8s\n", "ID", "NAME",
           "KIND", "NETDEV", "HOST-NETDEV", "LINK", "REP", "RX", "TX", "REP-RX", "REP-TX",
           "DROPS");
    json_array_foreach(json_object_get(result, "ports"), i, p)
    {
        printf("%-3d %-8s %-6s %-8s %-11s %-4s %-4s %10lld %10lld %10lld %10lld %8lld\n",
               (int)json_integer_value(json_object_get(p, "id")),
               json_string_value(json_object_get(p, "name")),
               json_string_value(json_object_get(p, "kind")),
               json_string_value(json_object_get(p, "netdev")),
               json_string_value(json_object_get(p, "host_netdev")),
               json_string_value(json_object_get(p, "link")),
               json_is_true(json_object_get(p, "memif_connected")) ? "up" : "-",
               (long long)stat_of(p, "rx_packets"), (long long)stat_of(p, "tx_packets"),
               (long long)stat_of(p, "rep_rx_packets"),
               (long long)stat_of(p, "rep_tx_packets"),
               (long long)(stat_of(p, "tx_dropped") + stat_of(p, "rep_tx_dropped") +
                           stat_of(p, "link_dropped")));
    }
}

static void
print_rules(const json_t *result)
{
    const json_t *r;
    size_t i;

    printf("%lld rules\n",
           (long long)json_integer_value(json_object_get(result, "count")));
    printf("%-10s %12s %14s %8s %s\n", "ID", "PACKETS", "BYTES", "IDLE-S", "AGED");
    json_array_foreach(json_object_get(result, "rules"), i, r)
    {
        bool has_count = json_is_true(json_object_get(r, "has_count"));
        bool has_age = json_is_true(json_object_get(r, "has_age"));
        char packets[24] = "-", bytes[24] = "-", idle[16] = "-";

        if (has_count) {
            snprintf(packets, sizeof packets, "%lld",
                     (long long)json_integer_value(json_object_get(r, "packets")));
            snprintf(bytes, sizeof bytes, "%lld",
                     (long long)json_integer_value(json_object_get(r, "bytes")));
        }
        if (has_age) {
            snprintf(idle, sizeof idle, "%lld",
                     (long long)json_integer_value(json_object_get(r, "idle_sec")));
        }
        printf("%-10lld %12s %14s %8s %s\n",
               (long long)json_integer_value(json_object_get(r, "id")), packets, bytes,
               idle,
               !has_age                                   ? "-"
               : json_is_true(json_object_get(r, "aged")) ? "yes"
                                                          : "no");
    }
}

static bool
parse_int(const char *s, long long min, long long max, long long *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || !*s || *end || v < min || v > max) {
        return false;
    }
    *out = v;
    return true;
}

/* Builds the argument of "fault set". */
static int
fault_arg(int argc, char *argv[], json_t **argp)
{
    const char *kind = argc > 0 ? argv[0] : "";
    long long v;

    if (!strcmp(kind, "insert-fail") && (argc == 2 || argc == 3) &&
        parse_int(argv[1], 1, INT32_MAX, &v)) {
        *argp = json_pack("{s:s,s:I,s:s}", "kind", kind, "nth", (json_int_t)v, "errno",
                          argc == 3 ? argv[2] : "EIO");
    } else if (!strcmp(kind, "table-full") && argc == 2 &&
               (!strcmp(argv[1], "on") || !strcmp(argv[1], "off"))) {
        *argp = json_pack("{s:s,s:b}", "kind", kind, "on", !strcmp(argv[1], "on"));
    } else if (!strcmp(kind, "link") && argc == 3 &&
               (!strcmp(argv[2], "up") || !strcmp(argv[2], "down"))) {
        *argp = json_pack("{s:s,s:s,s:b}", "kind", kind, "port", argv[1], "up",
                          !strcmp(argv[2], "up"));
    } else if (!strcmp(kind, "uplink-drop") && argc == 2 &&
               parse_int(argv[1], 0, 100, &v)) {
        *argp = json_pack("{s:s,s:I}", "kind", kind, "percent", (json_int_t)v);
    } else if (!strcmp(kind, "uplink-delay") && argc == 2 &&
               parse_int(argv[1], 0, 10000, &v)) {
        *argp = json_pack("{s:s,s:I}", "kind", kind, "ms", (json_int_t)v);
    } else if ((!strcmp(kind, "flash-fail") || !strcmp(kind, "flash-powerloss")) &&
               argc == 2 && parse_int(argv[1], 0, INT64_MAX, &v)) {
        *argp = json_pack("{s:s,s:I}", "kind", kind, "byte", (json_int_t)v);
    } else {
        return ovnicctl_usage_error("nicsim", "bad 'fault set' arguments");
    }
    return OVNICCTL_EXIT_OK;
}

static int
flash_write_file(struct nicsim_conn *c, const char *slot, long long offset,
                 const char *path)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char buf[FLASH_CHUNK];
    char hex[FLASH_CHUNK * 2 + 1];
    long long total = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = OVNICCTL_EXIT_OK;

    if (fd < 0) {
        return ovnicctl_error("cannot open %s: %s", path, strerror(errno));
    }
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        json_t *result = NULL;
        ssize_t i;

        if (n < 0) {
            rc = ovnicctl_error("cannot read %s: %s", path, strerror(errno));
            break;
        }
        if (n == 0) {
            break;
        }
        for (i = 0; i < n; i++) {
            hex[2 * i] = digits[buf[i] >> 4];
            hex[2 * i + 1] = digits[buf[i] & 0xf];
        }
        hex[2 * n] = '\0';
        rc = conn_call(c, "flash_write",
                       json_pack("{s:s,s:I,s:s}", "slot", slot, "offset",
                                 (json_int_t)(offset + total), "data", hex),
                       &result);
        json_decref(result);
        if (rc) {
            break;
        }
        total += n;
    }
    close(fd);
    if (!rc && c->json) {
        json_t *j = json_pack("{s:s,s:I,s:I}", "slot", slot, "offset", (json_int_t)offset,
                              "bytes", (json_int_t)total);
        print_json(j);
        json_decref(j);
    } else if (!rc) {
        printf("wrote %lld bytes to slot %s at offset %lld\n", total, slot, offset);
    }
    return rc;
}

/* Runs one command; 'argv[0]' is its name. */
static int
run_command(struct nicsim_conn *c, int argc, char *argv[])
{
    const char *cmd = argv[0];
    json_t *result = NULL;
    json_t *arg = NULL;
    const char *method = NULL;
    long long v, w;
    int rc;

    if (!strcmp(cmd, "status") || !strcmp(cmd, "stats") || !strcmp(cmd, "caps") ||
        !strcmp(cmd, "ports") || !strcmp(cmd, "rules") || !strcmp(cmd, "flush")) {
        if (argc != 1) {
            return ovnicctl_usage_error("nicsim", "'%s' takes no argument", cmd);
        }
        method = cmd;
    } else if (!strcmp(cmd, "sriov")) {
        if (argc != 2 || !parse_int(argv[1], 0, 64, &v)) {
            return ovnicctl_usage_error("nicsim", "usage: sriov NUMVFS");
        }
        method = "sriov_set";
        arg = json_pack("{s:I}", "numvfs", (json_int_t)v);
    } else if (!strcmp(cmd, "call")) {
        if (argc < 2 || argc > 3) {
            return ovnicctl_usage_error("nicsim", "usage: call METHOD [JSON-OBJECT]");
        }
        method = argv[1];
        if (argc == 3) {
            arg = json_loads(argv[2], JSON_REJECT_DUPLICATES, NULL);
            if (!json_is_object(arg)) {
                json_decref(arg);
                return ovnicctl_usage_error("nicsim", "'%s' is not a JSON object",
                                            argv[2]);
            }
        }
    } else if (!strcmp(cmd, "fault")) {
        if (argc >= 3 && !strcmp(argv[1], "set")) {
            rc = fault_arg(argc - 2, argv + 2, &arg);
            if (rc) {
                return rc;
            }
            method = "fault_set";
        } else if (argc == 2 && !strcmp(argv[1], "clear")) {
            method = "fault_clear";
        } else if (argc == 2 && !strcmp(argv[1], "list")) {
            method = "fault_list";
        } else {
            return ovnicctl_usage_error("nicsim", "usage: fault set|clear|list ...");
        }
    } else if (!strcmp(cmd, "flash")) {
        const char *sub = argc >= 2 ? argv[1] : "";

        if (argc == 2 && !strcmp(sub, "info")) {
            method = "flash_info";
        } else if (argc == 5 && !strcmp(sub, "read") &&
                   parse_int(argv[3], 0, INT64_MAX, &v) &&
                   parse_int(argv[4], 0, 1 << 20, &w)) {
            method = "flash_read";
            arg = json_pack("{s:s,s:I,s:I}", "slot", argv[2], "offset", (json_int_t)v,
                            "length", (json_int_t)w);
        } else if (argc == 5 && !strcmp(sub, "write") &&
                   parse_int(argv[3], 0, INT64_MAX, &v)) {
            return flash_write_file(c, argv[2], v, argv[4]);
        } else if (argc == 3 && !strcmp(sub, "erase")) {
            method = "flash_erase";
            arg = json_pack("{s:s}", "slot", argv[2]);
        } else if (argc == 3 && !strcmp(sub, "boot")) {
            method = "boot_set";
            arg = !strcmp(argv[2], "none") ? json_pack("{s:n}", "pending")
                                           : json_pack("{s:s}", "pending", argv[2]);
        } else if (argc == 2 && !strcmp(sub, "reboot")) {
            method = "flash_reboot";
        } else if (argc == 2 && !strcmp(sub, "confirm")) {
            method = "flash_confirm";
        } else if (argc == 2 && !strcmp(sub, "power-cycle")) {
            method = "flash_power_cycle";
        } else {
            return ovnicctl_usage_error("nicsim", "bad 'flash' arguments");
        }
    } else {
        return ovnicctl_usage_error("nicsim", "unknown command '%s'", cmd);
    }

    rc = conn_call(c, method, arg, &result);
    if (rc) {
        return rc;
    }
    if (c->json) {
        print_json(result);
    } else if (!strcmp(cmd, "ports")) {
        print_ports(result);
    } else if (!strcmp(cmd, "rules")) {
        print_rules(result);
    } else if (!strcmp(cmd, "flash") && !strcmp(argv[1], "read")) {
        puts(json_string_value(json_object_get(result, "data")));
    } else if (!strcmp(cmd, "call") || !strcmp(cmd, "fault")) {
        print_json(result);
    } else {
        print_object_lines(result);
    }
    json_decref(result);
    return OVNICCTL_EXIT_OK;
}

static int
nicsim_run(int argc, char *argv[])
{
    const char *socket = getenv("OVNIC_NICSIM_SOCKET");
    struct nicsim_conn c;
    int i = 1;
    int rc;

    if (!socket || !socket[0]) {
        socket = OVNICCTL_NICSIM_DEFAULT_SOCKET;
    }
    c.json = false;
    while (i < argc) {
        bool with_value = !strcmp(argv[i], "--socket") || !strcmp(argv[i], "--format");
        const char *value;

        if (with_value) {
            if (i + 1 >= argc) {
                return ovnicctl_usage_error("nicsim", "%s needs a value", argv[i]);
            }
            value = argv[i + 1];
        } else if (!strncmp(argv[i], "--socket=", 9) ||
                   !strncmp(argv[i], "--format=", 9)) {
            value = argv[i] + 9;
        } else {
            break;
        }
        if (!strncmp(argv[i], "--socket", 8)) {
            socket = value;
        } else {
            enum ovnicctl_format format;

            if (ovnicctl_format_parse("nicsim", value, &format) >= 0) {
                return OVNICCTL_EXIT_USAGE;
            }
            c.json = format == OVNICCTL_FORMAT_JSON;
        }
        i += with_value ? 2 : 1;
    }
    if (i >= argc) {
        return ovnicctl_usage_error("nicsim", "missing command");
    }
    if (argv[i][0] == '-') {
        return ovnicctl_usage_error("nicsim", "unknown option '%s'", argv[i]);
    }
    rc = conn_open(&c, socket);
    if (rc) {
        return rc;
    }
    rc = run_command(&c, argc - i, argv + i);
    jsonrpc_close(c.rpc);
    return rc;
}

const struct ovnicctl_command ovnicctl_nicsim_command = {
    .name = "nicsim",
    .summary = "drive a simulated NIC (ovnic-nicsim): ports, rules, faults, flash",
    .help = nicsim_help,
    .run = nicsim_run,
};
