/* ovnic: the rte_flow eSwitch backend, for mlx5 devices (BlueField) in switchdev mode.
 *
 * Devices are found with libibverbs, representors are probed with the devargs
 * "PCI,representor=SPEC", and rules go to the transfer proxy port that
 * rte_flow_pick_transfer_proxy() names, with REPRESENTED_PORT / PORT_REPRESENTOR for
 * the ports and RAW_ENCAP / RAW_DECAP for Geneve.  Rules are inserted with
 * rte_flow_create(); the bulk path of esw.h runs over it (esw.c's emulation). */
#define ALLOW_EXPERIMENTAL_API 1

#include "offload/esw_rte_flow.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <infiniband/verbs.h>
#include <rte_bus_pci.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_flow.h>

#include "offload/esw_provider.h"
#include "shared/util/log.h"

OVNIC_LOG_MODULE(esw_rte_flow);

struct esw_rte_flow {
    struct esw up;
    char ibdev[64]; /* RDMA device name, e.g. "mlx5_0". */
    char pci[64];   /* Its PCI address. */
    uint16_t port;  /* An ethdev port of the device. */
    struct esw_rte_flow_xlate_cfg cfg;
};

static struct esw_rte_flow *
esw_rte_flow_cast(struct esw *esw)
{
    return CONTAINER_OF(esw, struct esw_rte_flow, up);
}

/* ---------------------------------------------------------------------------------- */
/* Translation. */

static int
xlate_error(struct esw_error *error, int code, enum rte_flow_error_type type, int index,
            const char *message)
{
    return esw_error_set(error, code, type, index, message, NULL);
}

int
esw_rte_flow_translate(const struct esw_rte_flow_xlate_cfg *cfg,
                       const struct rte_flow_attr *attr,
                       const struct rte_flow_item items[],
                       const struct rte_flow_action actions[], void *age_context,
                       struct esw_rte_flow_rule *out, struct esw_error *error)
{
    if (!attr || !items || !actions) {
        return xlate_error(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ATTR, -1,
                           "rule without attributes, items or actions");
    }
    if (!attr->transfer || attr->ingress || attr->egress) {
        return xlate_error(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ATTR_TRANSFER, -1,
                           "eSwitch rules need transfer=1 and no ingress/egress");
    }
    memset(out, 0, sizeof *out);
    out->attr = *attr;
    out->attr.group += cfg->group_offset;

    size_t n = 0;
    bool saw_udp = false;
    for (size_t i = 0; items[i].type != RTE_FLOW_ITEM_TYPE_END; i++) {
        const struct rte_flow_item *item = &items[i];
        if (n + 2 >= ESW_RTE_FLOW_MAX_ELEMS) {
            return xlate_error(error, -E2BIG, RTE_FLOW_ERROR_TYPE_ITEM_NUM, (int)i,
                               "too many items");
        }
        switch (item->type) {
        case RTE_FLOW_ITEM_TYPE_VOID:
            continue;
        case RTE_FLOW_ITEM_TYPE_ETH:
        case RTE_FLOW_ITEM_TYPE_VLAN:
        case RTE_FLOW_ITEM_TYPE_IPV4:
        case RTE_FLOW_ITEM_TYPE_IPV6:
        case RTE_FLOW_ITEM_TYPE_TCP:
        case RTE_FLOW_ITEM_TYPE_ICMP:
        case RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT:
        case RTE_FLOW_ITEM_TYPE_PORT_REPRESENTOR:
            out->items[n++] = *item;
            break;
        case RTE_FLOW_ITEM_TYPE_UDP:
            saw_udp = true;
            out->items[n++] = *item;
            break;
        case RTE_FLOW_ITEM_TYPE_GENEVE:
            if (!saw_udp) {
                /* mlx5 matches a tunnel through its UDP port: make it explicit. */
                out->geneve_udp.hdr.dst_port = RTE_BE16(6081);
                out->geneve_udp_mask.hdr.dst_port = RTE_BE16(0xffff);
                out->items[n++] = (struct rte_flow_item){.type = RTE_FLOW_ITEM_TYPE_UDP,
                                                         .spec = &out->geneve_udp,
                                                         .mask = &out->geneve_udp_mask};
                saw_udp = true;
            }
            out->items[n++] = *item;
            break;
        case RTE_FLOW_ITEM_TYPE_GENEVE_OPT: {
            const struct rte_flow_item_geneve_opt *s = item->spec;
            if (!s) {
                return xlate_error(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ITEM_SPEC, (int)i,
                                   "GENEVE_OPT needs a spec");
            }
            if (s->option_len > 31 || (s->option_len && !s->data)) {
                return xlate_error(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ITEM_SPEC, (int)i,
                                   "GENEVE_OPT length or data invalid");
            }
            const struct rte_flow_item_geneve_opt *m = item->mask;
            out->opt_mask.option_class = RTE_BE16(0xffff);
            out->opt_mask.option_type = 0xff;
            out->opt_mask.option_len = 0x1f;
            if (s->option_len) {
                for (size_t w = 0; w < s->option_len; w++) {
                    out->opt_mask_data[w] = m && m->data ? m->data[w] : UINT32_MAX;
                }
                out->opt_mask.data = out->opt_mask_data;
            }
            out->items[n++] = (struct rte_flow_item){
                .type = RTE_FLOW_ITEM_TYPE_GENEVE_OPT, .spec = s, .mask = &out->opt_mask};
            break;
        }
        default: {
            const char *name = esw_item_name(item->type);
            return esw_error_set(error, -ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM, (int)i,
                                 "item not programmed by the rte_flow backend", "%s",
                                 name ? name : "unknown");
        }
        }
    }
    out->items[n].type = RTE_FLOW_ITEM_TYPE_END;

    n = 0;
    for (size_t i = 0; actions[i].type != RTE_FLOW_ACTION_TYPE_END; i++) {
        const struct rte_flow_action *a = &actions[i];
        if (n + 1 >= ESW_RTE_FLOW_MAX_ELEMS) {
            return xlate_error(error, -E2BIG, RTE_FLOW_ERROR_TYPE_ACTION_NUM, (int)i,
                               "too many actions");
        }
        bool needs_conf = a->type != RTE_FLOW_ACTION_TYPE_VOID &&
                          a->type != RTE_FLOW_ACTION_TYPE_DROP &&
                          a->type != RTE_FLOW_ACTION_TYPE_DEC_TTL &&
                          a->type != RTE_FLOW_ACTION_TYPE_COUNT &&
                          a->type != RTE_FLOW_ACTION_TYPE_RAW_DECAP;
        if (needs_conf && !a->conf) {
            return xlate_error(error, -EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF, (int)i,
                               "action without its conf");
        }
        switch (a->type) {
        case RTE_FLOW_ACTION_TYPE_VOID:
            continue;
        case RTE_FLOW_ACTION_TYPE_DROP:
        case RTE_FLOW_ACTION_TYPE_COUNT:
        case RTE_FLOW_ACTION_TYPE_METER:
        case RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT:
        case RTE_FLOW_ACTION_TYPE_PORT_REPRESENTOR:
        case RTE_FLOW_ACTION_TYPE_RAW_ENCAP:
        case RTE_FLOW_ACTION_TYPE_SET_MAC_SRC:
        case RTE_FLOW_ACTION_TYPE_SET_MAC_DST:
        case RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC:
        case RTE_FLOW_ACTION_TYPE_SET_IPV4_DST:
        case RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC:
        case RTE_FLOW_ACTION_TYPE_SET_IPV6_DST:
        case RTE_FLOW_ACTION_TYPE_SET_TP_SRC:
        case RTE_FLOW_ACTION_TYPE_SET_TP_DST:
        case RTE_FLOW_ACTION_TYPE_DEC_TTL:
        case RTE_FLOW_ACTION_TYPE_MODIFY_FIELD:
            out->actions[n++] = *a;
            break;
        case RTE_FLOW_ACTION_TYPE_JUMP:
            out->jump = *(const struct rte_flow_action_jump *)a->conf;
            out->jump.group += cfg->group_offset;
            out->actions[n++] = (struct rte_flow_action){
                .type = RTE_FLOW_ACTION_TYPE_JUMP, .conf = &out->jump};
            break;
        case RTE_FLOW_ACTION_TYPE_AGE:
            out->age = *(const struct rte_flow_action_age *)a->conf;
            out->age.context = age_context;
            out->actions[n++] = (struct rte_flow_action){.type = RTE_FLOW_ACTION_TYPE_AGE,
                                                         .conf = &out->age};
            break;
        case RTE_FLOW_ACTION_TYPE_RAW_DECAP:
            if (a->conf) {
                out->actions[n++] = *a;
                break;
            }
            /* The outer headers of an OVN Geneve packet (without options: the PMD
             * takes the size as the decapsulation type, L2 tunnel). */
            memset(out->decap_data, 0, sizeof out->decap_data);
            out->decap_data[12] = 0x08;
            out->decap_data[14] = 0x45;
            out->decap_data[14 + 9] = 17;
            out->decap_data[34 + 2] = 6081 >> 8;
            out->decap_data[34 + 3] = 6081 & 0xff;
            out->decap_data[42 + 2] = 0x65;
            out->decap_data[42 + 3] = 0x58;
            out->decap.data = out->decap_data;
            out->decap.size = sizeof out->decap_data;
            out->actions[n++] = (struct rte_flow_action){
                .type = RTE_FLOW_ACTION_TYPE_RAW_DECAP, .conf = &out->decap};
            break;
        case RTE_FLOW_ACTION_TYPE_CONNTRACK:
            return xlate_error(error, -ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION, (int)i,
                               "not supported: CONNTRACK (mlx5 takes it only as an "
                               "indirect action)");
        default: {
            const char *name = esw_action_name(a->type);
            return esw_error_set(error, -ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION, (int)i,
                                 "action not programmed by the rte_flow backend", "%s",
                                 name ? name : "unknown");
        }
        }
    }
    out->actions[n].type = RTE_FLOW_ACTION_TYPE_END;
    return 0;
}

/* ---------------------------------------------------------------------------------- */
/* Device discovery. */

/* Parses "key=value,key=value" for 'key' into 'buf'.  Brackets may hold commas. */
static bool
arg_get(const char *args, const char *key, char *buf, size_t size)
{
    size_t klen = strlen(key);
    const char *p = args;
    while (p && *p) {
        const char *end = p;
        int depth = 0;
        while (*end && (depth || *end != ',')) {
            depth += *end == '[' ? 1 : *end == ']' ? -1 : 0;
            end++;
        }
        if (!strncmp(p, key, klen) && p[klen] == '=') {
            size_t vlen = (size_t)(end - (p + klen + 1));
            if (vlen >= size) {
                return false;
            }
            memcpy(buf, p + klen + 1, vlen);
            buf[vlen] = '\0';
            return true;
        }
        p = *end ? end + 1 : end;
    }
    return false;
}

/* The PCI address of RDMA device 'dev' (from sysfs), into 'pci'. */
static bool
ibdev_pci(struct ibv_device *dev, char *pci, size_t size)
{
    char path[512], link[512];
    snprintf(path, sizeof path, "%s/device", dev->ibdev_path);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n <= 0) {
        return false;
    }
    link[n] = '\0';
    const char *base = strrchr(link, '/');
    const char *name = base ? base + 1 : link;
    size_t len = strlen(name);
    if (!len || len >= size) {
        return false;
    }
    memcpy(pci, name, len + 1);
    return true;
}

/* The first ethdev port on PCI device 'pci', or -1. */
static int
port_of_pci(const char *pci)
{
    struct rte_pci_addr want;
    if (rte_pci_addr_parse(pci, &want)) {
        return -1;
    }
    uint16_t port;
    RTE_ETH_FOREACH_DEV(port)
    {
        char name[RTE_ETH_NAME_MAX_LEN];
        struct rte_pci_addr have;
        if (!rte_eth_dev_get_name_by_port(port, name) &&
            !rte_pci_addr_parse(name, &have) && !rte_pci_addr_cmp(&want, &have)) {
            return port;
        }
    }
    return -1;
}

static int
rte_flow_open(const char *args, struct esw **espp, struct esw_error *error)
{
    static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(5, 5);
    char want[64] = "", reps[128] = "", offset[16] = "";
    args = args ? args : "";
    arg_get(args, "dev", want, sizeof want);
    arg_get(args, "representor", reps, sizeof reps);
    arg_get(args, "group_offset", offset, sizeof offset);

    int n_devs = 0;
    struct ibv_device **devs = ibv_get_device_list(&n_devs);
    if (!devs || n_devs <= 0) {
        if (devs) {
            ibv_free_device_list(devs);
        }
        OLOG_WARN_RL(&rl, "no RDMA device: the rte_flow eSwitch needs an mlx5 device "
                          "(BlueField/ConnectX) in switchdev mode");
        return esw_error_set(error, -ENODEV, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                             "no RDMA device found",
                             "the rte_flow eSwitch needs an mlx5 device "
                             "(BlueField/ConnectX) in switchdev mode");
    }
    struct ibv_device *chosen = NULL;
    char pci[64] = "";
    for (int i = 0; i < n_devs && !chosen; i++) {
        char this_pci[64] = "";
        ibdev_pci(devs[i], this_pci, sizeof this_pci);
        bool match = want[0] ? !strcmp(devs[i]->name, want) || !strcmp(this_pci, want)
                             : !strncmp(devs[i]->name, "mlx5", 4);
        if (match) {
            chosen = devs[i];
            snprintf(pci, sizeof pci, "%s", this_pci);
        }
    }
    char ibname[64] = "";
    if (chosen) {
        snprintf(ibname, sizeof ibname, "%s", chosen->name);
    }
    ibv_free_device_list(devs);
    if (!chosen || !pci[0]) {
        return esw_error_set(error, -ENODEV, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                             "no matching mlx5 device", "wanted '%s'",
                             want[0] ? want : "mlx5*");
    }

    if (reps[0]) {
        char devargs[256];
        snprintf(devargs, sizeof devargs, "%s,representor=%s", pci, reps);
        int r = rte_dev_probe(devargs);
        if (r && r != -EEXIST) {
            return esw_error_set(error, r < 0 ? r : -EIO, RTE_FLOW_ERROR_TYPE_UNSPECIFIED,
                                 -1, "cannot probe the device's representors", "%s",
                                 devargs);
        }
    }
    int port = port_of_pci(pci);
    if (port < 0) {
        return esw_error_set(error, -ENODEV, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                             "the device has no DPDK port",
                             "%s (%s): start the EAL with -a %s,representor=pf0vf[0-N]",
                             ibname, pci, pci);
    }
    struct rte_flow_error ferr;
    memset(&ferr, 0, sizeof ferr);
    uint16_t proxy;
    if (rte_flow_pick_transfer_proxy((uint16_t)port, &proxy, &ferr)) {
        return esw_error_set(error, -rte_errno ? -rte_errno : -EIO, ferr.type, -1,
                             "no transfer proxy port", "%s",
                             ferr.message ? ferr.message : "");
    }

    struct esw_rte_flow *rf = calloc(1, sizeof *rf);
    if (!rf) {
        return esw_error_set(error, -ENOMEM, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                             "out of memory", NULL);
    }
    snprintf(rf->ibdev, sizeof rf->ibdev, "%s", ibname);
    snprintf(rf->pci, sizeof rf->pci, "%s", pci);
    rf->port = (uint16_t)port;
    rf->cfg.proxy_port = proxy;
    rf->cfg.group_offset = offset[0] ? (uint32_t)strtoul(offset, NULL, 10) : 0;
    OLOG_INFO("eSwitch on %s (%s), transfer proxy port %u", ibname, pci, proxy);
    *espp = &rf->up;
    return 0;
}

static void
rte_flow_close(struct esw *esw)
{
    free(esw_rte_flow_cast(esw));
}

static int
rte_flow_caps_get(struct esw *esw, struct esw_caps *caps, struct esw_error *error)
{
    struct esw_rte_flow *rf = esw_rte_flow_cast(esw);
    static const int items[] = {
        RTE_FLOW_ITEM_TYPE_VOID,
        RTE_FLOW_ITEM_TYPE_ETH,
        RTE_FLOW_ITEM_TYPE_VLAN,
        RTE_FLOW_ITEM_TYPE_IPV4,
        RTE_FLOW_ITEM_TYPE_IPV6,
        RTE_FLOW_ITEM_TYPE_UDP,
        RTE_FLOW_ITEM_TYPE_TCP,
        RTE_FLOW_ITEM_TYPE_ICMP,
        RTE_FLOW_ITEM_TYPE_GENEVE,
        RTE_FLOW_ITEM_TYPE_GENEVE_OPT,
        RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT,
        RTE_FLOW_ITEM_TYPE_PORT_REPRESENTOR,
    };
    static const int actions[] = {
        RTE_FLOW_ACTION_TYPE_VOID,
        RTE_FLOW_ACTION_TYPE_DROP,
        RTE_FLOW_ACTION_TYPE_JUMP,
        RTE_FLOW_ACTION_TYPE_COUNT,
        RTE_FLOW_ACTION_TYPE_AGE,
        RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT,
        RTE_FLOW_ACTION_TYPE_PORT_REPRESENTOR,
        RTE_FLOW_ACTION_TYPE_RAW_ENCAP,
        RTE_FLOW_ACTION_TYPE_RAW_DECAP,
        RTE_FLOW_ACTION_TYPE_SET_MAC_SRC,
        RTE_FLOW_ACTION_TYPE_SET_MAC_DST,
        RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC,
        RTE_FLOW_ACTION_TYPE_SET_IPV4_DST,
        RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC,
        RTE_FLOW_ACTION_TYPE_SET_IPV6_DST,
        RTE_FLOW_ACTION_TYPE_SET_TP_SRC,
        RTE_FLOW_ACTION_TYPE_SET_TP_DST,
        RTE_FLOW_ACTION_TYPE_DEC_TTL,
        RTE_FLOW_ACTION_TYPE_MODIFY_FIELD,
    };
    memset(caps, 0, sizeof *caps);
    snprintf(caps->device, sizeof caps->device, "mlx5:%.26s", rf->pci);
    for (size_t i = 0; i < ARRAY_SIZE(items); i++) {
        esw_caps_bit_set(caps->items, items[i]);
    }
    for (size_t i = 0; i < ARRAY_SIZE(actions); i++) {
        esw_caps_bit_set(caps->actions, actions[i]);
    }
    /* The PMD does not publish table sizes: these are the ones ovnic plans for. */
    caps->max_groups = 64;
    caps->max_priorities = 16;
    caps->max_rules_per_group = 1u << 20;
    caps->max_rules = 1u << 20;
    caps->max_items = ESW_RTE_FLOW_MAX_ELEMS - 2;
    caps->max_actions = ESW_RTE_FLOW_MAX_ELEMS - 1;
    caps->max_encap_size = 128;
    caps->geneve_opt = true;
    caps->geneve_opt_class = 0x0102;
    caps->geneve_opt_type = 0x80;
    caps->async_native = false;
    return 0;
}

static int
rte_flow_port_list(struct esw *esw, struct esw_port *ports, size_t max,
                   struct esw_error *error)
{
    struct esw_rte_flow *rf = esw_rte_flow_cast(esw);
    struct rte_eth_dev_info proxy_info;
    if (rte_eth_dev_info_get(rf->cfg.proxy_port, &proxy_info)) {
        return esw_error_set(error, -EIO, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                             "cannot read the proxy port", NULL);
    }
    size_t n = 0;
    uint16_t port;
    RTE_ETH_FOREACH_DEV(port)
    {
        struct rte_eth_dev_info info;
        char name[RTE_ETH_NAME_MAX_LEN];
        if (rte_eth_dev_info_get(port, &info) ||
            info.switch_info.domain_id != proxy_info.switch_info.domain_id ||
            rte_eth_dev_get_name_by_port(port, name)) {
            continue;
        }
        if (n < max) {
            struct esw_port *p = &ports[n];
            memset(p, 0, sizeof *p);
            p->port_id = port;
            unsigned int pf = 0, vf = 0;
            const char *rep = strstr(name, "representor_");
            const char *tail = rep ? rep + strlen("representor_") : NULL;
            if (tail && tail[0] == 'c') {
                tail = strchr(tail, 'p');
            }
            if (tail && sscanf(tail, "pf%uvf%u", &pf, &vf) == 2) {
                p->kind = ESW_PORT_VF;
                snprintf(p->name, sizeof p->name, "pf%uvf%u", pf, vf);
            } else if (tail && strstr(tail, "hpf")) {
                p->kind = ESW_PORT_PF;
                sscanf(tail, "pf%u", &pf);
                snprintf(p->name, sizeof p->name, "pf%uhpf", pf);
            } else {
                p->kind = ESW_PORT_UPLINK;
                snprintf(p->name, sizeof p->name, "p%u", pf);
            }
            p->pf = (uint16_t)pf;
            p->vf = (uint16_t)vf;
        }
        n++;
    }
    return (int)n;
}

static int
from_flow_error(struct esw_error *error, const struct rte_flow_error *ferr, int code,
                const char *what)
{
    return esw_error_set(error, code < 0 ? code : -EIO, ferr->type, -1, what, "%s",
                         ferr->message ? ferr->message : "");
}

static int
rte_flow_rule_validate(struct esw *esw, const struct rte_flow_attr *attr,
                       const struct rte_flow_item items[],
                       const struct rte_flow_action actions[], struct esw_error *error)
{
    struct esw_rte_flow *rf = esw_rte_flow_cast(esw);
    struct esw_rte_flow_rule *dev = malloc(sizeof *dev);
    if (!dev) {
        return esw_error_set(error, -ENOMEM, RTE_FLOW_ERROR_TYPE_HANDLE, -1,
                             "out of memory", NULL);
    }
    int retval = esw_rte_flow_translate(&rf->cfg, attr, items, actions, NULL, dev, error);
    if (!retval) {
        struct rte_flow_error ferr;
        memset(&ferr, 0, sizeof ferr);
        retval = rte_flow_validate(rf->cfg.proxy_port, &dev->attr, dev->items,
                                   dev->actions, &ferr);
        if (retval) {
            retval = from_flow_error(error, &ferr, retval, "the device refused the rule");
        }
    }
    free(dev);
    return retval;
}

static int
rte_flow_rule_create(struct esw *esw, struct esw_rule *rule,
                     const struct rte_flow_attr *attr, const struct rte_flow_item items[],
                     const struct rte_flow_action actions[], struct esw_error *error)
{
    struct esw_rte_flow *rf = esw_rte_flow_cast(esw);
    struct esw_rte_flow_rule *dev = malloc(sizeof *dev);
    if (!dev) {
        return esw_error_set(error, -ENOMEM, RTE_FLOW_ERROR_TYPE_HANDLE, -1,
                             "out of memory", NULL);
    }
    int retval = esw_rte_flow_translate(&rf->cfg, attr, items, actions, rule, dev, error);
    if (!retval) {
        struct rte_flow_error ferr;
        memset(&ferr, 0, sizeof ferr);
        struct rte_flow *flow = rte_flow_create(rf->cfg.proxy_port, &dev->attr,
                                                dev->items, dev->actions, &ferr);
        if (flow) {
            rule->priv = (uint64_t)(uintptr_t)flow;
        } else {
            retval =
                from_flow_error(error, &ferr, -rte_errno, "the device refused the rule");
        }
    }
    free(dev);
    return retval;
}

static int
rte_flow_rule_destroy(struct esw *esw, struct esw_rule *rule, struct esw_error *error)
{
    struct esw_rte_flow *rf = esw_rte_flow_cast(esw);
    struct rte_flow_error ferr;
    memset(&ferr, 0, sizeof ferr);
    int r = rte_flow_destroy(rf->cfg.proxy_port, (struct rte_flow *)(uintptr_t)rule->priv,
                             &ferr);
    return r ? from_flow_error(error, &ferr, r, "cannot destroy the rule") : 0;
}

static int
rte_flow_rule_query(struct esw *esw, struct esw_rule *rule, bool reset,
                    struct esw_rule_stats *stats, struct esw_error *error)
{
    struct esw_rte_flow *rf = esw_rte_flow_cast(esw);
    struct rte_flow *flow = (struct rte_flow *)(uintptr_t)rule->priv;
    struct rte_flow_query_count count = {.reset = reset};
    struct rte_flow_action qcount[] = {{.type = RTE_FLOW_ACTION_TYPE_COUNT},
                                       {.type = RTE_FLOW_ACTION_TYPE_END}};
    struct rte_flow_error ferr;
    memset(&ferr, 0, sizeof ferr);
    if (!rte_flow_query(rf->cfg.proxy_port, flow, qcount, &count, &ferr)) {
        stats->has_count = true;
        stats->packets = count.hits_set ? count.hits : 0;
        stats->bytes = count.bytes_set ? count.bytes : 0;
    }
    struct rte_flow_query_age age;
    memset(&age, 0, sizeof age);
    struct rte_flow_action qage[] = {{.type = RTE_FLOW_ACTION_TYPE_AGE},
                                     {.type = RTE_FLOW_ACTION_TYPE_END}};
    memset(&ferr, 0, sizeof ferr);
    if (!rte_flow_query(rf->cfg.proxy_port, flow, qage, &age, &ferr)) {
        stats->has_age = true;
        stats->aged = age.aged;
        stats->idle_sec = age.sec_since_last_hit_valid ? age.sec_since_last_hit : 0;
    }
    return 0;
}

static int
rte_flow_aged_get(struct esw *esw, struct esw_rule **rules, size_t max,
                  struct esw_error *error)
{
    struct esw_rte_flow *rf = esw_rte_flow_cast(esw);
    if (!max) {
        return 0;
    }
    void **contexts = calloc(max, sizeof *contexts);
    if (!contexts) {
        return esw_error_set(error, -ENOMEM, RTE_FLOW_ERROR_TYPE_HANDLE, -1,
                             "out of memory", NULL);
    }
    struct rte_flow_error ferr;
    memset(&ferr, 0, sizeof ferr);
    int n = rte_flow_get_aged_flows(rf->cfg.proxy_port, contexts,
                                    (uint32_t)MIN(max, UINT32_MAX), &ferr);
    int retval;
    if (n < 0) {
        retval = from_flow_error(error, &ferr, n, "cannot read aged rules");
    } else {
        /* Contexts are the handles given at creation; keep the ones still alive. */
        retval = 0;
        for (int i = 0; i < n; i++) {
            struct esw_rule *rule;
            HMAP_FOR_EACH (rule, priv_node, &esw->rules_by_priv) {
                if (rule == contexts[i]) {
                    rules[retval++] = rule;
                    break;
                }
            }
        }
    }
    free(contexts);
    return retval;
}

static int
rte_flow_flush_(struct esw *esw, struct esw_error *error)
{
    struct esw_rte_flow *rf = esw_rte_flow_cast(esw);
    struct rte_flow_error ferr;
    memset(&ferr, 0, sizeof ferr);
    int r = rte_flow_flush(rf->cfg.proxy_port, &ferr);
    return r ? from_flow_error(error, &ferr, r, "cannot flush the rules") : 0;
}

const struct esw_class esw_rte_flow_class = {
    .name = "rte_flow",
    .open = rte_flow_open,
    .close = rte_flow_close,
    .caps_get = rte_flow_caps_get,
    .port_list = rte_flow_port_list,
    .rule_validate = rte_flow_rule_validate,
    .rule_create = rte_flow_rule_create,
    .rule_destroy = rte_flow_rule_destroy,
    .rule_query = rte_flow_rule_query,
    .aged_get = rte_flow_aged_get,
    .flush = rte_flow_flush_,
};
