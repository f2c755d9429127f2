/* ovnic-hostd: the host agent's command line (see docs/ovnic-hostd.md). */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/daemon.h"
#include "host/inventory.h"
#include "host/nl.h"
#include "host/sriov.h"
#include "host/state.h"
#include "host/vf.h"
#include "shared/util/log.h"
#include "shared/util/poll.h"
#include "shared/util/rpc_client.h"
#include "shared/util/util.h"

#define HOSTD_VERSION "0.1.0"
#define EXIT_USAGE 2

enum cmd {
    CMD_NONE,
    CMD_INVENTORY,
    CMD_VFS,
    CMD_ATTACH,
    CMD_DETACH,
    CMD_RUN,
    CMD_STATUS
};
#define ONLY(c) (1u << (c))
#define ALL_CMDS                                                                 \
    (ONLY(CMD_INVENTORY) | ONLY(CMD_VFS) | ONLY(CMD_ATTACH) | ONLY(CMD_DETACH) | \
     ONLY(CMD_RUN) | ONLY(CMD_STATUS))
#define CTL_TIMEOUT_MS 30000

OVNIC_LOG_MODULE(hostd_main);

static const char usage_main[] =
    "Usage: ovnic-hostd COMMAND [OPTIONS]\n"
    "\n"
    "The host agent of ovnic: SR-IOV VFs of the host's NIC, their settings, and their\n"
    "attachment to containers (network namespaces) and VMs (vfio-pci).\n"
    "\n"
    "Commands:\n"
    "  inventory                    the PFs and VFs, and what each VF is attached to\n"
    "  vfs PF N                     set the VF count of PF to N\n"
    "  attach --vf N (--netns NS | --vm) [SETTINGS]\n"
    "                               attach a VF to a network namespace or a VM\n"
    "  detach --vf N                undo an attachment\n"
    "  run --dpu NAME=REMOTE ...    the daemon: a hostlink session per DPU\n"
    "  status                       the running daemon's DPU sessions\n"
    "\n"
    "attach and detach go through the running daemon when there is one (its control\n"
    "socket STATE-DIR/ovnic-hostd.ctl, or --ctl), which then tells the DPU.\n"
    "\n"
    "Options of every command:\n"
    "  --sysfs-root DIR   sysfs tree (default: /sys; a simulated NIC's tree)\n"
    "  --state-dir DIR    record of attachments (default: /var/lib/ovnic-hostd)\n"
    "  --format F         output: table or json (default: table)\n"
    "  -v, --verbose      log what is done to stderr\n"
    "  -h, --help         show this help, or a command's ('attach --help')\n"
    "  -V, --version      show the version\n"
    "\n"
    "See docs/ovnic-hostd.md.\n";

static const char usage_inventory[] =
    "Usage: ovnic-hostd inventory [--sysfs-root DIR] [--state-dir DIR]\n"
    "                             [--format table|json]\n"
    "\n"
    "Lists the SR-IOV network PFs under the sysfs root (PCI address, netdev, MAC,\n"
    "PCI ids, driver, serial number, VF counts) and each enabled VF: PCI address,\n"
    "netdev and the namespace it is in, driver, MAC, link, what it is attached to,\n"
    "iface-id, and the VF settings the PF reports.\n";

static const char usage_vfs[] =
    "Usage: ovnic-hostd vfs PF N [--force] [--sysfs-root DIR] [--state-dir DIR]\n"
    "                       [--format table|json]\n"
    "\n"
    "Sets the VF count of PF (PCI address or netdev) to N, writing sriov_numvfs (0\n"
    "first when changing one nonzero count to another, as the kernel requires).\n"
    "A change removes every VF: it is refused while a VF of the PF is attached.\n"
    "\n"
    "  --force            change it anyway, and drop the records of the attachments\n";

static const char usage_attach[] =
    "Usage: ovnic-hostd attach --vf N [--pf PF] (--netns NS [--ifname NAME] | --vm)\n"
    "                          [--mac MAC] [--vlan V] [--trust on|off]\n"
    "                          [--spoofchk on|off] [--link-state auto|enable|disable]\n"
    "                          [--rate MBPS] [--iface-id ID]\n"
    "                          [--sysfs-root DIR] [--state-dir DIR] [--format F]\n"
    "\n"
    "Applies the VF settings through the PF (netlink), then moves the VF's netdev\n"
    "into the network namespace NS, or binds the VF to vfio-pci and prints the\n"
    "libvirt <interface> element for it, and records the attachment.  Settings are\n"
    "best effort: one the device refuses is reported by name and the attachment\n"
    "goes on (the DPU enforces MAC and addresses, whatever the host sets).\n"
    "\n"
    "  --vf N             VF number (virtfnN of the PF)\n"
    "  --pf PF            PCI address or netdev of the PF (default: the only one)\n"
    "  --netns NS         namespace name (/run/netns/NS), pid, or path\n"
    "  --ifname NAME      the netdev's name in the namespace (default: unchanged)\n"
    "  --vm               bind to vfio-pci for a VM instead\n"
    "  --mac MAC          the VF's MAC (set on its netdev if the PF has no VF op)\n"
    "  --vlan V           port VLAN 1..4094, 0 for none\n"
    "  --trust on|off     VF trust\n"
    "  --spoofchk on|off  source MAC check of the device\n"
    "  --link-state S     auto (follow the PF), enable or disable\n"
    "  --rate MBPS        maximum transmit rate in Mbit/s, 0 for no limit\n"
    "  --iface-id ID      the OVN logical port (iface-id) it stands for\n";

static const char usage_run[] =
    "Usage: ovnic-hostd run --dpu NAME=REMOTE [--dpu NAME=REMOTE...]\n"
    "                       [--pf PF=NAME...] --ca-cert FILE --certificate FILE\n"
    "                       --private-key FILE [--name HOST] [--allow-plain]\n"
    "                       [--keepalive-ms MS] [--ctl PATH]\n"
    "                       [--sysfs-root DIR] [--state-dir DIR]\n"
    "\n"
    "Runs the host agent: one hostlink session with each DPU (REMOTE ssl:IP:PORT;\n"
    "unix:PATH only with --allow-plain), reporting the PFs of that DPU, their VFs\n"
    "and the attachments with an iface-id, again after every reconnect (resync).\n"
    "attach and detach then go through it.  Stops on SIGTERM or SIGINT.\n"
    "\n"
    "  --dpu NAME=REMOTE  a DPU and its hostlink address (up to 8)\n"
    "  --pf PF=NAME       PF (PCI address or MAC) belongs to DPU NAME; needed with\n"
    "                     several DPUs (a PF mapped to none is not reported)\n"
    "  --ca-cert FILE     CA of the DPUs' certificates (PEM)\n"
    "  --certificate FILE this host's certificate (its CN is the host's identity)\n"
    "  --private-key FILE its key\n"
    "  --name HOST        the name given in hello (default: the host name)\n"
    "  --allow-plain      allow unix: and tcp: remotes (no TLS; tests)\n"
    "  --keepalive-ms MS  keepalive interval (default 5000, or the DPU's if shorter)\n"
    "  --ctl PATH         control socket (default STATE-DIR/ovnic-hostd.ctl)\n";

static const char usage_status[] =
    "Usage: ovnic-hostd status [--ctl PATH] [--state-dir DIR] [--format table|json]\n"
    "\n"
    "Shows each DPU of the running daemon: its remote, PFs, session state, hostlink\n"
    "version, the DPU's name, lease, attempts, last error.\n";

static const char usage_detach[] =
    "Usage: ovnic-hostd detach --vf N [--pf PF] [--sysfs-root DIR] [--state-dir DIR]\n"
    "                          [--format table|json]\n"
    "\n"
    "Moves the VF's netdev back from its namespace under its host name, or gives the\n"
    "VF back to its own driver (from vfio-pci), and drops the record.\n";

enum opt_id {
    OPT_SYSFS_ROOT = 256,
    OPT_STATE_DIR,
    OPT_FORMAT,
    OPT_VF,
    OPT_PF,
    OPT_NETNS,
    OPT_IFNAME,
    OPT_VM,
    OPT_MAC,
    OPT_VLAN,
    OPT_TRUST,
    OPT_SPOOFCHK,
    OPT_LINK_STATE,
    OPT_RATE,
    OPT_IFACE_ID,
    OPT_FORCE,
    OPT_DPU,
    OPT_CA_CERT,
    OPT_CERTIFICATE,
    OPT_PRIVATE_KEY,
    OPT_NAME,
    OPT_ALLOW_PLAIN,
    OPT_KEEPALIVE_MS,
    OPT_CTL,
};

static const struct option long_options[] = {
    {"sysfs-root", required_argument, NULL, OPT_SYSFS_ROOT},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"vf", required_argument, NULL, OPT_VF},
    {"pf", required_argument, NULL, OPT_PF},
    {"netns", required_argument, NULL, OPT_NETNS},
    {"ifname", required_argument, NULL, OPT_IFNAME},
    {"vm", no_argument, NULL, OPT_VM},
    {"mac", required_argument, NULL, OPT_MAC},
    {"vlan", required_argument, NULL, OPT_VLAN},
    {"trust", required_argument, NULL, OPT_TRUST},
    {"spoofchk", required_argument, NULL, OPT_SPOOFCHK},
    {"link-state", required_argument, NULL, OPT_LINK_STATE},
    {"rate", required_argument, NULL, OPT_RATE},
    {"iface-id", required_argument, NULL, OPT_IFACE_ID},
    {"force", no_argument, NULL, OPT_FORCE},
    {"dpu", required_argument, NULL, OPT_DPU},
    {"ca-cert", required_argument, NULL, OPT_CA_CERT},
    {"certificate", required_argument, NULL, OPT_CERTIFICATE},
    {"private-key", required_argument, NULL, OPT_PRIVATE_KEY},
    {"name", required_argument, NULL, OPT_NAME},
    {"allow-plain", no_argument, NULL, OPT_ALLOW_PLAIN},
    {"keepalive-ms", required_argument, NULL, OPT_KEEPALIVE_MS},
    {"ctl", required_argument, NULL, OPT_CTL},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* Which commands take each option. */
static unsigned int
option_cmds(int id)
{
    switch (id) {
    case OPT_VF:
        return ONLY(CMD_ATTACH) | ONLY(CMD_DETACH);
    case OPT_PF:
        return ONLY(CMD_ATTACH) | ONLY(CMD_DETACH) | ONLY(CMD_RUN);
    case OPT_DPU:
    case OPT_CA_CERT:
    case OPT_CERTIFICATE:
    case OPT_PRIVATE_KEY:
    case OPT_NAME:
    case OPT_ALLOW_PLAIN:
    case OPT_KEEPALIVE_MS:
        return ONLY(CMD_RUN);
    case OPT_CTL:
        return ONLY(CMD_RUN) | ONLY(CMD_STATUS) | ONLY(CMD_ATTACH) | ONLY(CMD_DETACH);
    case OPT_NETNS:
    case OPT_IFNAME:
    case OPT_VM:
    case OPT_MAC:
    case OPT_VLAN:
    case OPT_TRUST:
    case OPT_SPOOFCHK:
    case OPT_LINK_STATE:
    case OPT_RATE:
    case OPT_IFACE_ID:
        return ONLY(CMD_ATTACH);
    case OPT_FORCE:
        return ONLY(CMD_VFS);
    default:
        return ALL_CMDS;
    }
}

struct args {
    enum cmd cmd;
    struct host_ctx ctx;
    bool json;
    bool force;
    const char *pf;
    long vf;
    bool vm;
    const char *netns;
    const char *ifname;
    const char *iface_id;
    struct vf_config config;
    const char *positional[2];
    int n_positional;

    /* run */
    struct hostd_dpu_config dpus[HOSTD_MAX_DPUS];
    size_t n_dpus;
    struct hostd_pf_map pf_map[64];
    size_t n_pf_map;
    const char *pf_args[64]; /* Every --pf, checked once the command is known. */
    size_t n_pf_args;
    const char *ca_cert, *certificate, *private_key, *name, *ctl;
    bool allow_plain;
    long keepalive_ms;
};

static int
usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "ovnic-hostd: ");
    fprintf(stderr, fmt, arg ? arg : "");
    fprintf(stderr, "\nTry 'ovnic-hostd --help' for more information.\n");
    return EXIT_USAGE;
}

static int
fail(const struct ovnic_err *err, int code)
{
    char text[512];

    if (ovnic_err_is_set(err)) {
        fprintf(stderr, "ovnic-hostd: %s\n", ovnic_err_format(err, text, sizeof text));
    } else {
        fprintf(stderr, "ovnic-hostd: %s\n", strerror(-code));
    }
    return EXIT_FAILURE;
}

static bool
parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    if (!s[0] || s[0] == '-' || s[0] == '+') {
        return false;
    }
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max) {
        return false;
    }
    *out = v;
    return true;
}

static bool
parse_on_off(const char *s, bool *on)
{
    if (!strcmp(s, "on")) {
        *on = true;
    } else if (!strcmp(s, "off")) {
        *on = false;
    } else {
        return false;
    }
    return true;
}

static bool
is_printable(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            return false;
        }
    }
    return true;
}

static int
option_apply(struct args *a, int id, const char *arg)
{
    struct host_vf_value *v = &a->config.value;
    long n;
    bool on;

    switch (id) {
    case OPT_SYSFS_ROOT:
        a->ctx.sysfs_root = arg;
        break;
    case OPT_STATE_DIR:
        a->ctx.state_dir = arg;
        break;
    case OPT_FORMAT:
        if (strcmp(arg, "table") && strcmp(arg, "json")) {
            return usage_error("--format: '%s' is neither table nor json", arg);
        }
        a->json = !strcmp(arg, "json");
        break;
    case OPT_VF:
        if (!parse_long(arg, 0, SRIOV_MAX_VFS - 1, &a->vf)) {
            return usage_error("--vf: '%s' is not a VF number (0 to 255)", arg);
        }
        break;
    case OPT_PF:
        if (a->n_pf_args >= ARRAY_SIZE(a->pf_args)) {
            return usage_error("too many --pf options ('%s')", arg);
        }
        a->pf_args[a->n_pf_args++] = arg;
        a->pf = arg;
        break;
    case OPT_DPU: {
        const char *eq = strchr(arg, '=');
        static char names[HOSTD_MAX_DPUS][65];

        if (a->n_dpus >= HOSTD_MAX_DPUS) {
            return usage_error("--dpu: at most 8 DPUs ('%s')", arg);
        }
        if (!eq || eq == arg || (size_t)(eq - arg) > 64 || !eq[1] ||
            strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789._-") != (size_t)(eq - arg)) {
            return usage_error("--dpu: '%s' is not NAME=REMOTE (NAME: letters, digits, "
                               "'._-')",
                               arg);
        }
        snprintf(names[a->n_dpus], sizeof names[0], "%.*s", (int)(eq - arg), arg);
        for (size_t i = 0; i < a->n_dpus; i++) {
            if (!strcmp(a->dpus[i].name, names[a->n_dpus])) {
                return usage_error("--dpu: DPU '%s' given twice", names[a->n_dpus]);
            }
        }
        a->dpus[a->n_dpus].name = names[a->n_dpus];
        a->dpus[a->n_dpus].remote = eq + 1;
        a->n_dpus++;
        break;
    }
    case OPT_CA_CERT:
        a->ca_cert = arg;
        break;
    case OPT_CERTIFICATE:
        a->certificate = arg;
        break;
    case OPT_PRIVATE_KEY:
        a->private_key = arg;
        break;
    case OPT_NAME:
        a->name = arg;
        break;
    case OPT_ALLOW_PLAIN:
        a->allow_plain = true;
        break;
    case OPT_KEEPALIVE_MS:
        if (!parse_long(arg, 100, 3600000, &a->keepalive_ms)) {
            return usage_error("--keepalive-ms: '%s' is not 100 to 3600000", arg);
        }
        break;
    case OPT_CTL:
        if (!arg[0]) {
            return usage_error("--ctl: empty path%s", "");
        }
        a->ctl = arg;
        break;
    case OPT_NETNS:
        if (!arg[0] || strlen(arg) >= HOST_STATE_NETNS_LEN || !is_printable(arg)) {
            return usage_error("--netns: '%s' is not a namespace name, pid or path", arg);
        }
        a->netns = arg;
        break;
    case OPT_IFNAME:
        if (!host_nl_ifname_is_valid(arg)) {
            return usage_error("--ifname: '%s' is not a netdev name (1 to 15 bytes, no "
                               "'/', ':' or space)",
                               arg);
        }
        a->ifname = arg;
        break;
    case OPT_VM:
        a->vm = true;
        break;
    case OPT_MAC:
        if (util_mac_parse(arg, v->mac) || (v->mac[0] & 1) ||
            !(v->mac[0] | v->mac[1] | v->mac[2] | v->mac[3] | v->mac[4] | v->mac[5])) {
            return usage_error("--mac: '%s' is not a unicast MAC xx:xx:xx:xx:xx:xx", arg);
        }
        a->config.has[HOST_VF_MAC] = true;
        break;
    case OPT_VLAN:
        if (!parse_long(arg, 0, 4094, &n)) {
            return usage_error("--vlan: '%s' is not a VLAN (1 to 4094, 0 for none)", arg);
        }
        v->vlan = (uint16_t)n;
        a->config.has[HOST_VF_VLAN] = true;
        break;
    case OPT_TRUST:
    case OPT_SPOOFCHK:
        if (!parse_on_off(arg, &on)) {
            return usage_error(id == OPT_TRUST ? "--trust: '%s' is neither on nor off"
                                               : "--spoofchk: '%s' is neither on nor off",
                               arg);
        }
        if (id == OPT_TRUST) {
            a->config.has[HOST_VF_TRUST] = true;
            v->trust = on;
        } else {
            a->config.has[HOST_VF_SPOOFCHK] = true;
            v->spoofchk = on;
        }
        break;
    case OPT_LINK_STATE:
        if (!strcmp(arg, "auto")) {
            v->link_state = HOST_VF_LINK_AUTO;
        } else if (!strcmp(arg, "enable")) {
            v->link_state = HOST_VF_LINK_ENABLE;
        } else if (!strcmp(arg, "disable")) {
            v->link_state = HOST_VF_LINK_DISABLE;
        } else {
            return usage_error("--link-state: '%s' is not auto, enable or disable", arg);
        }
        a->config.has[HOST_VF_LINK_STATE] = true;
        break;
    case OPT_RATE:
        if (!parse_long(arg, 0, UINT32_MAX > LONG_MAX ? LONG_MAX : UINT32_MAX, &n)) {
            return usage_error("--rate: '%s' is not a rate in Mbit/s", arg);
        }
        v->max_tx_rate = (uint32_t)n;
        a->config.has[HOST_VF_RATE] = true;
        break;
    case OPT_IFACE_ID:
        if (!arg[0] || strlen(arg) >= HOST_STATE_IFACE_ID_LEN || !is_printable(arg)) {
            return usage_error("--iface-id: '%s' is not an iface-id (1 to 255 printable "
                               "bytes)",
                               arg);
        }
        a->iface_id = arg;
        break;
    case OPT_FORCE:
        a->force = true;
        break;
    default:
        return EXIT_USAGE;
    }
    return 0;
}

static enum cmd
cmd_from_name(const char *name)
{
    return !strcmp(name, "inventory") ? CMD_INVENTORY
           : !strcmp(name, "vfs")     ? CMD_VFS
           : !strcmp(name, "attach")  ? CMD_ATTACH
           : !strcmp(name, "detach")  ? CMD_DETACH
           : !strcmp(name, "run")     ? CMD_RUN
           : !strcmp(name, "status")  ? CMD_STATUS
                                      : CMD_NONE;
}

static const char *
cmd_usage(enum cmd cmd)
{
    switch (cmd) {
    case CMD_INVENTORY:
        return usage_inventory;
    case CMD_VFS:
        return usage_vfs;
    case CMD_ATTACH:
        return usage_attach;
    case CMD_DETACH:
        return usage_detach;
    case CMD_RUN:
        return usage_run;
    case CMD_STATUS:
        return usage_status;
    case CMD_NONE:
    default:
        return usage_main;
    }
}

/* ---- Output. ------------------------------------------------------------------- */

static void
json_print(json_t *j)
{
    char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

    if (text) {
        printf("%s\n", text);
        free(text);
    } else {
        fprintf(stderr, "ovnic-hostd: out of memory\n");
    }
    json_decref(j);
}

static const char *
dash(const char *s)
{
    return s && s[0] ? s : "-";
}

static void
inventory_table(const struct host_inventory *inv)
{
    size_t i, j;

    if (!inv->n_pfs) {
        printf("no SR-IOV network PF\n");
        return;
    }
    for (i = 0; i < inv->n_pfs; i++) {
        const struct inv_pf *p = &inv->pfs[i];

        printf("%s%-13s %-15s %-17s %-6s %-6s %-10s %-8s %-20s %-14s %s\n", i ? "\n" : "",
               "PCI-ADDR", "NETDEV", "MAC", "VENDOR", "DEVICE", "DRIVER", "LINK",
               "SERIAL-NUMBER", "SRIOV-NUMVFS", "SRIOV-TOTALVFS");
        printf("%-13s %-15s %-17s %04x   %04x   %-10s %-8s %-20s %-14u %u\n",
               p->pf.pci_addr, dash(p->pf.ifname), dash(p->pf.mac), p->pf.vendor & 0xffff,
               p->pf.device & 0xffff, dash(p->pf.driver), dash(p->link),
               dash(p->pf.serial), p->pf.num_vfs, p->pf.total_vfs);
        if (!p->n_vfs) {
            continue;
        }
        printf("  %-3s %-13s %-15s %-12s %-10s %-17s %-8s %-16s %-16s %-4s %-8s %s\n",
               "VF", "PCI-ADDR", "NETDEV", "NETNS", "DRIVER", "MAC", "LINK", "ATTACHED",
               "IFACE-ID", "VLAN", "SPOOFCHK", "TRUST");
        for (j = 0; j < p->n_vfs; j++) {
            const struct inv_vf *v = &p->vfs[j];
            char attached[HOST_STATE_NETNS_LEN + 8];
            char vlan[8] = "-";

            inv_vf_attached_format(v, attached, sizeof attached);
            if (v->has_info) {
                snprintf(vlan, sizeof vlan, "%u", v->info.vlan);
            }
            printf("  %-3u %-13s %-15s %-12s %-10s %-17s %-8s %-16s %-16s %-4s %-8s %s\n",
                   v->vf.vf, v->vf.pci_addr, dash(v->netdev), dash(v->netns),
                   dash(v->vf.driver), dash(v->mac), dash(v->link), dash(attached),
                   v->attached ? dash(v->att.iface_id) : "-", vlan,
                   v->has_info && v->info.has_spoofchk ? (v->info.spoofchk ? "on" : "off")
                                                       : "-",
                   v->has_info && v->info.has_trust ? (v->info.trust ? "on" : "off")
                                                    : "-");
        }
    }
}

static int
cmd_inventory(const struct args *a)
{
    struct host_inventory inv;
    struct ovnic_err err;
    int error;

    ovnic_err_clear(&err);
    error = host_inventory_get(&a->ctx, &inv, &err);
    if (error) {
        return fail(&err, error);
    }
    if (a->json) {
        json_print(host_inventory_to_json(&inv));
    } else {
        inventory_table(&inv);
    }
    host_inventory_clear(&inv);
    return 0;
}

static int
cmd_vfs(const struct args *a)
{
    struct ovnic_err err;
    struct sriov_pf pf;
    long n;
    int error;

    if (a->n_positional != 2) {
        return usage_error("vfs needs PF and N%s", "");
    }
    if (!parse_long(a->positional[1], 0, SRIOV_MAX_VFS, &n)) {
        return usage_error("vfs: '%s' is not a VF count", a->positional[1]);
    }
    ovnic_err_clear(&err);
    error =
        vf_numvfs_set(&a->ctx, a->positional[0], (unsigned int)n, a->force, &pf, &err);
    if (error) {
        return fail(&err, error);
    }
    if (a->json) {
        json_print(json_pack("{s:s, s:s?, s:i, s:i}", "pci_addr", pf.pci_addr, "netdev",
                             pf.ifname[0] ? pf.ifname : NULL, "sriov_numvfs",
                             (int)pf.num_vfs, "sriov_totalvfs", (int)pf.total_vfs));
    } else {
        printf("%s (%s): %u of %u VFs\n", pf.pci_addr, dash(pf.ifname), pf.num_vfs,
               pf.total_vfs);
    }
    return 0;
}

static const char *
setting_result_word(const struct vf_setting_result *r)
{
    return r->error ? "error" : r->fallback ? "fallback" : "ok";
}

static json_t *
settings_json(const struct vf_config_result *res)
{
    json_t *list = json_array();
    size_t i;

    for (i = 0; i < res->n; i++) {
        const struct vf_setting_result *r = &res->r[i];

        json_array_append_new(list, json_pack("{s:s, s:s, s:i, s:s}", "setting",
                                              host_vf_setting_name(r->setting), "result",
                                              setting_result_word(r), "errno", -r->error,
                                              "message", r->text));
    }
    return list;
}

static void
settings_report(const struct vf_config_result *res, bool table)
{
    size_t i;

    for (i = 0; i < res->n; i++) {
        const struct vf_setting_result *r = &res->r[i];

        if (r->error) {
            fprintf(stderr, "ovnic-hostd: warning: %s\n", r->text);
        }
    }
    if (!table || !res->n) {
        return;
    }
    printf("%-11s %-9s %s\n", "SETTING", "RESULT", "MESSAGE");
    for (i = 0; i < res->n; i++) {
        const struct vf_setting_result *r = &res->r[i];

        printf("%-11s %-9s %s\n", host_vf_setting_name(r->setting),
               setting_result_word(r), r->text);
    }
}

/* ---- The running daemon. ------------------------------------------------------ */

static void
ctl_path(const struct args *a, char *buf, size_t size)
{
    if (a->ctl) {
        snprintf(buf, size, "%s", a->ctl);
    } else {
        snprintf(buf, size, "%s/%s", a->ctx.state_dir, HOSTD_CTL_NAME);
    }
}

/* Whether a daemon's control socket is there. */
static bool
daemon_is_running(const struct args *a)
{
    char path[PATH_MAX];
    struct stat st;

    ctl_path(a, path, sizeof path);
    return !stat(path, &st) && S_ISSOCK(st.st_mode);
}

/* Calls 'method' of the daemon with 'args' (taken).  Returns 0 with '*result'
 * (caller owns), or an exit code after printing the error. */
static int
daemon_call(const struct args *a, const char *method, json_t *args, json_t **result)
{
    char path[PATH_MAX], remote[PATH_MAX + 8], text[512];
    struct rpc_client *c = NULL;
    struct ovnic_err err = {0};
    json_t *reply = NULL;
    int error;

    ctl_path(a, path, sizeof path);
    snprintf(remote, sizeof remote, "unix:%s", path);
    error = rpc_client_open(remote, CTL_TIMEOUT_MS, &c, &err);
    if (!error) {
        error = rpc_client_call(c, method, json_pack("[o]", args ? args : json_object()),
                                &reply, &err);
        args = NULL;
    }
    json_decref(args);
    rpc_client_close(c);
    if (error) {
        fprintf(stderr, "ovnic-hostd: the daemon (%s): %s\n", path,
                ovnic_err_is_set(&err) ? ovnic_err_format(&err, text, sizeof text)
                                       : strerror(-error));
        return 1;
    }
    const json_t *e = json_object_get(reply, "error");
    if (e && !json_is_null(e)) {
        const char *msg = json_string_value(json_object_get(e, "error"));
        fprintf(stderr, "ovnic-hostd: %s\n",
                msg                 ? msg
                : json_is_string(e) ? json_string_value(e)
                                    : "error");
        json_decref(reply);
        return 1;
    }
    *result = json_incref(json_object_get(reply, "result"));
    json_decref(reply);
    return *result ? 0 : 1;
}

static int
daemon_attach(const struct args *a, const struct vf_attach_request *req)
{
    json_t *r = NULL;
    int rc = daemon_call(a, "attach", hostd_attach_request_to_json(req), &r);

    if (rc) {
        return rc;
    }
    if (a->json) {
        json_print(r);
        return 0;
    }
    const char *netns = json_string_value(json_object_get(r, "netns"));
    printf("VF %d (%s) of %s attached to %s%s%s%s%s\n",
           (int)json_integer_value(json_object_get(r, "vf")),
           json_string_value(json_object_get(r, "vf_pci")),
           json_string_value(json_object_get(r, "pf")), netns ? "netns " : "vfio-pci",
           netns ? netns : "", a->iface_id ? ", iface-id " : "",
           a->iface_id ? a->iface_id : "", "");
    if (json_string_value(json_object_get(r, "dpu"))) {
        printf("DPU %s: %s\n", json_string_value(json_object_get(r, "dpu")),
               dash(json_string_value(json_object_get(r, "dpu_status"))));
    }
    json_decref(r);
    return 0;
}

static int
cmd_status(const struct args *a)
{
    json_t *r = NULL, *dpu;
    size_t i;
    int rc;

    if (a->n_positional) {
        return usage_error("status takes no argument '%s'", a->positional[0]);
    }
    if (!daemon_is_running(a)) {
        char path[PATH_MAX];
        ctl_path(a, path, sizeof path);
        fprintf(stderr, "ovnic-hostd: no daemon running (no control socket %s)\n", path);
        return 1;
    }
    rc = daemon_call(a, "status", NULL, &r);
    if (rc) {
        return rc;
    }
    if (a->json) {
        json_print(r);
        return 0;
    }
    printf("host %s\n", dash(json_string_value(json_object_get(r, "name"))));
    printf("%-10s %-24s %-10s %-3s %-12s %-8s %-9s %s\n", "DPU", "REMOTE", "STATE", "VER",
           "DPU-NAME", "LEASE", "ATTEMPTS", "PFS / LAST ERROR");
    json_array_foreach(json_object_get(r, "dpus"), i, dpu)
    {
        const json_t *s = json_object_get(dpu, "session");
        char pfs[256] = "";
        size_t j;
        json_t *pf;

        json_array_foreach(json_object_get(dpu, "pfs"), j, pf)
        {
            size_t len = strlen(pfs);
            snprintf(pfs + len, sizeof pfs - len, "%s%s", len ? "," : "",
                     json_string_value(json_object_get(pf, "pci")));
        }
        printf("%-10s %-24s %-10s %-3d %-12s %-8d %-9d %s",
               json_string_value(json_object_get(dpu, "name")),
               json_string_value(json_object_get(dpu, "remote")),
               dash(json_string_value(json_object_get(s, "state"))),
               (int)json_integer_value(json_object_get(s, "version")),
               dash(json_string_value(json_object_get(s, "dpu-name"))),
               (int)json_integer_value(json_object_get(s, "lease-ms")),
               (int)json_integer_value(json_object_get(s, "attempts")), dash(pfs));
        const char *last = json_string_value(json_object_get(s, "last-message"));
        if (last && *last) {
            printf(" / %s", last);
        }
        printf("\n");
    }
    json_decref(r);
    return 0;
}

static volatile sig_atomic_t stop_requested;

static void
signal_cb(struct poll_loop *loop OVNIC_UNUSED, int fd, uint32_t events OVNIC_UNUSED,
          void *aux OVNIC_UNUSED)
{
    struct signalfd_siginfo si;

    if (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        OLOG_INFO("%s: exiting", strsignal((int)si.ssi_signo));
        stop_requested = 1;
    }
}

static int
cmd_run(struct args *a)
{
    struct hostd_config c;
    struct poll_loop *loop = NULL;
    struct hostd *hd = NULL;
    struct ovnic_err err = {0};
    char hostname[65] = "";
    sigset_t set;
    int sig_fd = -1, error;

    if (a->n_positional) {
        return usage_error("run takes no argument '%s'", a->positional[0]);
    }
    if (!a->n_dpus) {
        return usage_error("run needs --dpu NAME=REMOTE%s", "");
    }
    if (!a->allow_plain && (!a->ca_cert || !a->certificate || !a->private_key)) {
        return usage_error("run needs --ca-cert, --certificate and --private-key%s", "");
    }
    for (size_t i = 0; i < a->n_pf_args; i++) {
        const char *eq = strchr(a->pf_args[i], '=');
        static char keys[64][64];

        if (!eq || eq == a->pf_args[i] || !eq[1] || (size_t)(eq - a->pf_args[i]) >= 64) {
            return usage_error("--pf: '%s' is not PF=DPU (PF: PCI address or MAC)",
                               a->pf_args[i]);
        }
        snprintf(keys[i], sizeof keys[i], "%.*s", (int)(eq - a->pf_args[i]),
                 a->pf_args[i]);
        a->pf_map[i].pf = keys[i];
        a->pf_map[i].dpu = eq + 1;
    }
    a->n_pf_map = a->n_pf_args;
    if (!a->name) {
        if (gethostname(hostname, sizeof hostname - 1) || !hostname[0]) {
            snprintf(hostname, sizeof hostname, "host");
        }
        a->name = hostname;
    }
    memset(&c, 0, sizeof c);
    c.ctx = a->ctx;
    c.name = a->name;
    c.dpus = a->dpus;
    c.n_dpus = a->n_dpus;
    c.pf_map = a->pf_map;
    c.n_pf_map = a->n_pf_map;
    c.ca_cert = a->ca_cert;
    c.certificate = a->certificate;
    c.private_key = a->private_key;
    c.allow_plain = a->allow_plain;
    c.ctl_path = a->ctl;
    c.keepalive_ms = (unsigned int)(a->keepalive_ms > 0 ? a->keepalive_ms : 0);

    ovnic_log_set_level(NULL, OVNIC_LOG_INFO);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    error = poll_loop_create(&loop);
    if (error || sig_fd < 0 ||
        poll_loop_fd_add(loop, sig_fd, OVNIC_POLL_IN, signal_cb, NULL)) {
        fprintf(stderr, "ovnic-hostd: cannot set up the loop\n");
        error = -ENOMEM;
        goto out;
    }
    error = hostd_create(loop, &c, &hd, &err);
    if (error) {
        fail(&err, error);
        goto out;
    }
    while (!stop_requested && !hostd_is_done(hd)) {
        if (poll_loop_run_once(loop, -1) < 0) {
            error = -EIO;
            break;
        }
    }
out:
    hostd_destroy(hd);
    poll_loop_destroy(loop);
    if (sig_fd >= 0) {
        close(sig_fd);
    }
    return error ? 1 : 0;
}

static int
cmd_attach(struct args *a)
{
    struct vf_attach_request req;
    struct vf_attach_result res;
    struct ovnic_err err;
    char xml[1024] = "";
    int error;

    if (a->n_positional) {
        return usage_error("attach takes no argument '%s'", a->positional[0]);
    }
    if (a->vf < 0) {
        return usage_error("attach needs --vf N%s", "");
    }
    if (!!a->netns == a->vm) {
        return usage_error("attach needs one of --netns NS and --vm%s", "");
    }
    if (a->vm && a->ifname) {
        return usage_error("--ifname goes with --netns, not --vm%s", "");
    }
    memset(&req, 0, sizeof req);
    req.pf = a->pf;
    req.vf = (unsigned int)a->vf;
    req.kind = a->vm ? HOST_ATTACH_VM : HOST_ATTACH_NETNS;
    req.netns = a->netns;
    req.ifname = a->ifname;
    req.iface_id = a->iface_id;
    req.config = a->config;
    if (daemon_is_running(a)) {
        return daemon_attach(a, &req);
    }

    ovnic_err_clear(&err);
    error = vf_attach(&a->ctx, &req, &res, &err);
    if (!error && a->vm) {
        vf_libvirt_xml(res.record.vf_pci, res.record.mac, res.record.vlan, xml,
                       sizeof xml);
    }
    if (a->json) {
        json_t *j = json_pack(
            "{s:s, s:i, s:s, s:b, s:s, s:s?, s:s?, s:s?, s:o}", "pf", res.pf.pci_addr,
            "vf", (int)req.vf, "vf_pci", res.vf.pci_addr, "attached", !error, "kind",
            host_attach_kind_name(req.kind), "netns",
            error ? a->netns : (res.record.netns[0] ? res.record.netns : NULL), "netdev",
            res.record.ifname[0] ? res.record.ifname : NULL, "iface_id", a->iface_id,
            "settings", settings_json(&res.settings));

        if (j && xml[0]) {
            json_object_set_new(j, "libvirt_xml", json_string(xml));
        }
        if (j && error) {
            char text[512];

            json_object_set_new(j, "error",
                                json_string(ovnic_err_format(&err, text, sizeof text)));
        }
        json_print(j);
        settings_report(&res.settings, false);
    } else {
        settings_report(&res.settings, true);
        if (!error) {
            if (a->vm) {
                printf("VF %u (%s) of %s bound to %s%s%s\n%s", req.vf, res.vf.pci_addr,
                       res.pf.pci_addr, HOST_VM_DRIVER, a->iface_id ? ", iface-id " : "",
                       a->iface_id ? a->iface_id : "", xml);
            } else {
                printf("VF %u (%s) of %s attached to netns %s as %s%s%s\n", req.vf,
                       res.vf.pci_addr, res.pf.pci_addr, res.record.netns,
                       res.record.ifname, a->iface_id ? ", iface-id " : "",
                       a->iface_id ? a->iface_id : "");
            }
        }
    }
    return error ? fail(&err, error) : 0;
}

static int
cmd_detach(const struct args *a)
{
    struct vf_detach_result res;
    struct ovnic_err err;
    int error;

    if (a->n_positional) {
        return usage_error("detach takes no argument '%s'", a->positional[0]);
    }
    if (a->vf < 0) {
        return usage_error("detach needs --vf N%s", "");
    }
    if (daemon_is_running(a)) {
        json_t *r = NULL;
        int rc = daemon_call(a, "detach",
                             json_pack("{s:s?, s:i}", "pf", a->pf, "vf", (int)a->vf), &r);
        if (rc) {
            return rc;
        }
        if (a->json) {
            json_print(r);
        } else {
            printf("VF %ld of %s detached%s%s\n", a->vf,
                   json_string_value(json_object_get(r, "pf")),
                   json_string_value(json_object_get(r, "dpu")) ? "; DPU " : "",
                   json_string_value(json_object_get(r, "dpu"))
                       ? json_string_value(json_object_get(r, "dpu"))
                       : "");
            if (json_string_value(json_object_get(r, "dpu_status"))) {
                printf("DPU status: %s\n",
                       json_string_value(json_object_get(r, "dpu_status")));
            }
        }
        json_decref(r);
        return 0;
    }
    ovnic_err_clear(&err);
    error = vf_detach(&a->ctx, a->pf, (unsigned int)a->vf, &res, &err);
    if (error) {
        return fail(&err, error);
    }
    if (res.warning[0]) {
        fprintf(stderr, "ovnic-hostd: warning: %s\n", res.warning);
    }
    if (a->json) {
        json_print(
            json_pack("{s:s, s:i, s:s, s:s, s:s?, s:s?, s:s?, s:s?}", "pf", res.record.pf,
                      "vf", (int)res.record.vf, "vf_pci", res.record.vf_pci, "kind",
                      host_attach_kind_name(res.record.kind), "netns",
                      res.record.netns[0] ? res.record.netns : NULL, "netdev",
                      res.record.host_ifname[0] ? res.record.host_ifname : NULL,
                      "iface_id", res.record.iface_id[0] ? res.record.iface_id : NULL,
                      "warning", res.warning[0] ? res.warning : NULL));
    } else if (res.record.kind == HOST_ATTACH_VM) {
        printf("VF %u (%s) of %s detached from vfio-pci\n", res.record.vf,
               res.record.vf_pci, res.record.pf);
    } else {
        printf("VF %u (%s) of %s detached from netns %s (%s is %s again)\n",
               res.record.vf, res.record.vf_pci, res.record.pf, res.record.netns,
               res.record.ifname, dash(res.record.host_ifname));
    }
    return 0;
}

int
main(int argc, char *argv[])
{
    struct args a;
    bool help = false;
    int opt;
    int i;

    memset(&a, 0, sizeof a);
    a.vf = -1;
    a.ctx.sysfs_root = HOST_SYSFS_ROOT_DEFAULT;
    a.ctx.state_dir = HOST_STATE_DIR_DEFAULT;
    ovnic_log_set_level(NULL, OVNIC_LOG_WARN);

    /* The options given, checked against the command once it is known. */
    int given[64];
    int n_given = 0;

    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+:vhV", long_options, NULL)) != -1 ||
           optind < argc) {
        if (opt == -1) {
            /* A positional argument: the command, or one of its arguments. */
            const char *arg = argv[optind++];

            if (a.cmd == CMD_NONE) {
                a.cmd = cmd_from_name(arg);
                if (a.cmd == CMD_NONE) {
                    return usage_error("unknown command '%s'", arg);
                }
            } else if (a.n_positional < 2) {
                a.positional[a.n_positional++] = arg;
            } else {
                return usage_error("too many arguments ('%s')", arg);
            }
            continue;
        }
        switch (opt) {
        case 'v':
            ovnic_log_set_level(NULL, OVNIC_LOG_INFO);
            break;
        case 'h':
            help = true;
            break;
        case 'V':
            printf("ovnic-hostd (ovnic) %s\n", HOSTD_VERSION);
            return 0;
        case '?':
            return usage_error("unknown option '%s'", argv[optind - 1]);
        case ':':
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        default: {
            int rc = option_apply(&a, opt, optarg);

            if (rc) {
                return rc;
            }
            if (n_given < (int)ARRAY_SIZE(given)) {
                given[n_given++] = opt;
            }
            break;
        }
        }
    }
    if (help) {
        fputs(cmd_usage(a.cmd), stdout);
        return 0;
    }
    if (a.cmd == CMD_NONE) {
        return usage_error("no command given%s", "");
    }
    for (i = 0; i < n_given; i++) {
        if (!(option_cmds(given[i]) & ONLY(a.cmd))) {
            const struct option *o;

            for (o = long_options; o->name && o->val != given[i]; o++) {
                continue;
            }
            fprintf(stderr, "ovnic-hostd: option --%s does not go with this command\n",
                    o->name ? o->name : "?");
            return usage_error("see 'ovnic-hostd COMMAND --help'%s", "");
        }
    }
    switch (a.cmd) {
    case CMD_INVENTORY:
        if (a.n_positional) {
            return usage_error("inventory takes no argument '%s'", a.positional[0]);
        }
        return cmd_inventory(&a);
    case CMD_VFS:
        return cmd_vfs(&a);
    case CMD_ATTACH:
        return cmd_attach(&a);
    case CMD_DETACH:
        return cmd_detach(&a);
    case CMD_RUN:
        return cmd_run(&a);
    case CMD_STATUS:
        return cmd_status(&a);
    case CMD_NONE:
    default:
        return EXIT_USAGE;
    }
}
