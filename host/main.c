/* ovnic-hostd: the host agent's command line (see docs/ovnic-hostd.md). */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/inventory.h"
#include "host/nl.h"
#include "host/sriov.h"
#include "host/state.h"
#include "host/vf.h"
#include "shared/util/log.h"

#define HOSTD_VERSION "0.1.0"
#define EXIT_USAGE 2

enum cmd { CMD_NONE, CMD_INVENTORY, CMD_VFS, CMD_ATTACH, CMD_DETACH };
#define ONLY(c) (1u << (c))
#define ALL_CMDS \
    (ONLY(CMD_INVENTORY) | ONLY(CMD_VFS) | ONLY(CMD_ATTACH) | ONLY(CMD_DETACH))

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
    case OPT_PF:
        return ONLY(CMD_ATTACH) | ONLY(CMD_DETACH);
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
        a->pf = arg;
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
        if (vf_mac_parse(arg, v->mac) || (v->mac[0] & 1) ||
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
    case CMD_NONE:
    default:
        return EXIT_USAGE;
    }
}
