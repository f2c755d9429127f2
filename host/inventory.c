/* ovnic-hostd: inventory (see inventory.h). */
#include "host/inventory.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/netns.h"
#include "shared/util/util.h"

void
host_inventory_clear(struct host_inventory *inv)
{
    size_t i;

    for (i = 0; i < inv->n_pfs; i++) {
        free(inv->pfs[i].vfs);
    }
    free(inv->pfs);
    memset(inv, 0, sizeof *inv);
}

static void
live_read(struct host_nl *nl, const char *ifname, struct inv_vf *v)
{
    struct host_nl_link link;

    if (nl && ifname[0] && !host_nl_link_get(nl, ifname, &link)) {
        if (link.has_mac) {
            util_mac_format(link.mac, v->mac);
        }
        snprintf(v->link, sizeof v->link, "%s", link.operstate);
    }
}

static void
vf_fill(struct host_nl *host_nl, const struct sriov_pf *pf, const struct host_state *st,
        struct inv_vf *v)
{
    const struct host_attachment *a = host_state_find(st, pf->pci_addr, v->vf.vf);

    snprintf(v->mac, sizeof v->mac, "%s", v->vf.mac);
    if (host_nl && pf->ifname[0] &&
        !host_nl_vf_info_get(host_nl, pf->ifname, v->vf.vf, &v->info)) {
        v->has_info = true;
    }
    if (!a) {
        snprintf(v->netdev, sizeof v->netdev, "%s", v->vf.ifname);
        live_read(host_nl, v->netdev, v);
        return;
    }
    v->attached = true;
    v->att = *a;
    if (a->kind == HOST_ATTACH_VM) {
        if (v->has_info && v->info.has_mac) {
            util_mac_format(v->info.mac, v->mac);
        }
        return;
    }
    snprintf(v->netdev, sizeof v->netdev, "%s", a->ifname);
    snprintf(v->netns, sizeof v->netns, "%s", a->netns);
    v->mac[0] = '\0';
    {
        struct host_nl *nl = NULL;
        int fd = -1;

        if (!netns_open(a->netns, &fd, NULL)) {
            if (host_nl_open(fd, &nl)) {
                nl = NULL;
            }
            close(fd);
        }
        live_read(nl, a->ifname, v);
        host_nl_close(nl);
    }
}

int
host_inventory_get(const struct host_ctx *ctx, struct host_inventory *out,
                   struct ovnic_err *err)
{
    struct host_inventory inv = {0};
    struct host_nl *host_nl = NULL;
    struct sriov_pf *pfs = NULL;
    struct host_state st;
    size_t n = 0, i;
    int error;

    host_state_init(&st);
    error = host_state_load(ctx->state_dir, &st, err);
    if (!error) {
        error = sriov_pf_list(ctx->sysfs_root, &pfs, &n, err);
    }
    if (error) {
        host_state_clear(&st);
        return error;
    }
    if (host_nl_open(-1, &host_nl)) {
        host_nl = NULL;
    }
    inv.pfs = calloc(n ? n : 1, sizeof *inv.pfs);
    if (!inv.pfs) {
        error = -ENOMEM;
        goto out;
    }
    for (i = 0; i < n; i++) {
        struct inv_pf *p = &inv.pfs[inv.n_pfs++];
        struct host_nl_link link;
        unsigned int vf;

        p->pf = pfs[i];
        if (host_nl && p->pf.ifname[0] &&
            !host_nl_link_get(host_nl, p->pf.ifname, &link)) {
            snprintf(p->link, sizeof p->link, "%s", link.operstate);
            if (link.has_mac) {
                util_mac_format(link.mac, p->pf.mac);
            }
        }
        p->vfs = calloc(p->pf.num_vfs ? p->pf.num_vfs : 1, sizeof *p->vfs);
        if (!p->vfs) {
            error = -ENOMEM;
            goto out;
        }
        for (vf = 0; vf < p->pf.num_vfs && vf < SRIOV_MAX_VFS; vf++) {
            struct inv_vf *v = &p->vfs[p->n_vfs];

            if (sriov_vf_get(ctx->sysfs_root, &p->pf, vf, &v->vf, NULL)) {
                continue;
            }
            p->n_vfs++;
            vf_fill(host_nl, &p->pf, &st, v);
        }
    }
    *out = inv;
    memset(&inv, 0, sizeof inv);

out:
    host_inventory_clear(&inv);
    host_nl_close(host_nl);
    host_state_clear(&st);
    free(pfs);
    return error;
}

void
inv_vf_attached_format(const struct inv_vf *v, char *buf, size_t size)
{
    if (!v->attached) {
        snprintf(buf, size, "%s", "");
    } else if (v->att.kind == HOST_ATTACH_VM) {
        snprintf(buf, size, "vm");
    } else {
        snprintf(buf, size, "netns %s", v->att.netns);
    }
}

static json_t *
str_or_null(const char *s)
{
    return s && s[0] ? json_string(s) : json_null();
}

static json_t *
vf_to_json(const struct inv_vf *v)
{
    json_t *o = json_object();

    if (!o) {
        return NULL;
    }
    json_object_set_new(o, "vf", json_integer(v->vf.vf));
    json_object_set_new(o, "pci_addr", json_string(v->vf.pci_addr));
    json_object_set_new(o, "netdev", str_or_null(v->netdev));
    json_object_set_new(o, "netns", str_or_null(v->netns));
    json_object_set_new(o, "driver", str_or_null(v->vf.driver));
    json_object_set_new(o, "mac", str_or_null(v->mac));
    json_object_set_new(o, "link", str_or_null(v->link));
    json_object_set_new(o, "attached",
                        v->attached ? json_string(host_attach_kind_name(v->att.kind))
                                    : json_null());
    json_object_set_new(o, "iface_id",
                        v->attached ? str_or_null(v->att.iface_id) : json_null());
    json_object_set_new(o, "host_netdev",
                        v->attached ? str_or_null(v->att.host_ifname) : json_null());
    if (v->has_info) {
        char mac[SRIOV_MAC_LEN];

        json_object_set_new(o, "vf_mac",
                            v->info.has_mac
                                ? (util_mac_format(v->info.mac, mac), json_string(mac))
                                : json_null());
        json_object_set_new(o, "vlan", json_integer(v->info.vlan));
        json_object_set_new(o, "spoofchk",
                            v->info.has_spoofchk ? json_boolean(v->info.spoofchk)
                                                 : json_null());
        json_object_set_new(
            o, "trust", v->info.has_trust ? json_boolean(v->info.trust) : json_null());
        json_object_set_new(o, "link_state",
                            v->info.has_link_state
                                ? json_string(host_vf_link_state_name(v->info.link_state))
                                : json_null());
        json_object_set_new(o, "rate", json_integer(v->info.max_tx_rate));
    } else {
        json_object_set_new(o, "vf_mac", json_null());
        json_object_set_new(o, "vlan",
                            v->attached && v->att.vlan >= 0 ? json_integer(v->att.vlan)
                                                            : json_null());
        json_object_set_new(o, "spoofchk", json_null());
        json_object_set_new(o, "trust", json_null());
        json_object_set_new(o, "link_state", json_null());
        json_object_set_new(o, "rate", json_null());
    }
    return o;
}

json_t *
host_inventory_to_json(const struct host_inventory *inv)
{
    json_t *root = json_object();
    json_t *pfs = json_array();
    size_t i, j;

    if (!root || !pfs) {
        json_decref(root);
        json_decref(pfs);
        return NULL;
    }
    json_object_set_new(root, "pfs", pfs);
    for (i = 0; i < inv->n_pfs; i++) {
        const struct inv_pf *p = &inv->pfs[i];
        json_t *o = json_object();
        json_t *vfs = json_array();
        char id[8];

        if (!o || !vfs) {
            json_decref(o);
            json_decref(vfs);
            json_decref(root);
            return NULL;
        }
        json_object_set_new(o, "pci_addr", json_string(p->pf.pci_addr));
        json_object_set_new(o, "netdev", str_or_null(p->pf.ifname));
        json_object_set_new(o, "mac", str_or_null(p->pf.mac));
        snprintf(id, sizeof id, "%04x", p->pf.vendor & 0xffff);
        json_object_set_new(o, "vendor", json_string(id));
        snprintf(id, sizeof id, "%04x", p->pf.device & 0xffff);
        json_object_set_new(o, "device", json_string(id));
        json_object_set_new(o, "driver", str_or_null(p->pf.driver));
        json_object_set_new(o, "serial_number", str_or_null(p->pf.serial));
        json_object_set_new(o, "product", str_or_null(p->pf.product));
        json_object_set_new(o, "link", str_or_null(p->link));
        json_object_set_new(o, "sriov_totalvfs", json_integer(p->pf.total_vfs));
        json_object_set_new(o, "sriov_numvfs", json_integer(p->pf.num_vfs));
        for (j = 0; j < p->n_vfs; j++) {
            json_array_append_new(vfs, vf_to_json(&p->vfs[j]));
        }
        json_object_set_new(o, "vfs", vfs);
        json_array_append_new(pfs, o);
    }
    return root;
}
