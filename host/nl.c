/* ovnic-hostd: rtnetlink through libnl-route-3 (see nl.h). */
#include "host/nl.h"

#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/sriov.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/netns.h"
#include "shared/util/util.h"

struct host_nl {
    struct nl_sock *sock;
    int kernel_errno; /* Errno of the kernel's last error answer, 0 if none. */
};

static const char *const setting_names[HOST_VF_N_SETTINGS] = {
    [HOST_VF_MAC] = "mac",
    [HOST_VF_VLAN] = "vlan",
    [HOST_VF_TRUST] = "trust",
    [HOST_VF_SPOOFCHK] = "spoofchk",
    [HOST_VF_LINK_STATE] = "link-state",
    [HOST_VF_RATE] = "rate",
};

const char *
host_vf_setting_name(enum host_vf_setting setting)
{
    return (unsigned int)setting < HOST_VF_N_SETTINGS ? setting_names[setting]
                                                      : "unknown";
}

const char *
host_vf_link_state_name(uint32_t state)
{
    switch (state) {
    case HOST_VF_LINK_AUTO:
        return "auto";
    case HOST_VF_LINK_ENABLE:
        return "enable";
    case HOST_VF_LINK_DISABLE:
        return "disable";
    default:
        return "unknown";
    }
}

int
host_nl_errno(int nle)
{
    switch (abs(nle)) {
    case 0:
        return 0;
    case NLE_INTR:
        return -EINTR;
    case NLE_BAD_SOCK:
        return -ENOTSOCK;
    case NLE_AGAIN:
        return -EAGAIN;
    case NLE_NOMEM:
        return -ENOMEM;
    case NLE_EXIST:
        return -EEXIST;
    case NLE_INVAL:
        return -EINVAL;
    case NLE_RANGE:
        return -ERANGE;
    case NLE_MSGSIZE:
        return -EMSGSIZE;
    case NLE_OPNOTSUPP:
        return -EOPNOTSUPP;
    case NLE_AF_NOSUPPORT:
        return -EAFNOSUPPORT;
    case NLE_OBJ_NOTFOUND:
        return -ENOENT;
    case NLE_NOATTR:
    case NLE_MISSING_ATTR:
        return -ENODATA;
    case NLE_AF_MISMATCH:
    case NLE_PROTO_MISMATCH:
        return -EPROTO;
    case NLE_NOACCESS:
        return -EACCES;
    case NLE_PERM:
        return -EPERM;
    case NLE_NODEV:
        return -ENODEV;
    case NLE_BUSY:
        return -EBUSY;
    case NLE_IMMUTABLE:
        return -EROFS;
    case NLE_NOADDR:
        return -EADDRNOTAVAIL;
    case NLE_SEQ_MISMATCH:
    case NLE_MSG_TRUNC:
    case NLE_MSG_OVERFLOW:
    case NLE_PARSE_ERR:
    case NLE_MSGTYPE_NOSUPPORT:
    case NLE_MSG_TOOSHORT:
    case NLE_DUMP_INTR:
        return -EBADMSG;
    default:
        return -EIO;
    }
}

static int
err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
    struct host_nl *nl = arg;

    (void)nla;
    nl->kernel_errno = e->error < 0 ? -e->error : e->error;
    return NL_STOP;
}

/* The errno of a failed libnl call: the kernel's own if it answered with one. */
static int
nl_result(struct host_nl *nl, int nle)
{
    if (nle >= 0) {
        return 0;
    }
    if (nl->kernel_errno > 0 && nl->kernel_errno < 4096) {
        return -nl->kernel_errno;
    }
    return host_nl_errno(nle);
}

int
host_nl_open(int netns_fd, struct host_nl **nlp)
{
    struct host_nl *nl;
    int saved = -1;
    int error;

    nl = calloc(1, sizeof *nl);
    if (!nl) {
        return -ENOMEM;
    }
    nl->sock = nl_socket_alloc();
    if (!nl->sock) {
        free(nl);
        return -ENOMEM;
    }
    error = host_nl_errno(nl_socket_modify_err_cb(nl->sock, NL_CB_CUSTOM, err_cb, nl));
    if (error) {
        goto err_free;
    }
    if (netns_fd >= 0) {
        error = netns_enter(netns_fd, &saved);
        if (error) {
            goto err_free;
        }
    }
    /* The socket belongs to the namespace it is created in, for good. */
    error = host_nl_errno(nl_connect(nl->sock, NETLINK_ROUTE));
    if (saved >= 0) {
        int error2 = netns_leave(saved);

        if (error2 && !error) {
            /* The thread is stuck in the other namespace: nothing is safe now. */
            abort();
        }
    }
    if (error) {
        goto err_free;
    }
    *nlp = nl;
    return 0;

err_free:
    nl_socket_free(nl->sock);
    free(nl);
    return error;
}

void
host_nl_close(struct host_nl *nl)
{
    if (nl) {
        nl_socket_free(nl->sock);
        free(nl);
    }
}

/* Sends the change request of 'changes' to 'orig' and waits for the answer. */
static int
link_change(struct host_nl *nl, struct rtnl_link *orig, struct rtnl_link *changes)
{
    struct nl_msg *msg;
    int nle;

    nle = rtnl_link_build_change_request(orig, changes, 0, &msg);
    if (nle < 0) {
        return host_nl_errno(nle);
    }
    nl->kernel_errno = 0;
    nle = nl_send_auto(nl->sock, msg);
    nlmsg_free(msg);
    if (nle >= 0) {
        nle = nl_wait_for_ack(nl->sock);
    }
    return nl_result(nl, nle);
}

static int
link_get(struct host_nl *nl, const char *ifname, struct rtnl_link **link)
{
    int nle;

    if (!ifname[0] || strlen(ifname) >= IFNAMSIZ) {
        return -ENODEV;
    }
    nl->kernel_errno = 0;
    nle = rtnl_link_get_kernel(nl->sock, 0, ifname, link);
    if (nle < 0) {
        int error = nl_result(nl, nle);

        /* An unknown name is ENODEV from the kernel, NLE_OBJ_NOTFOUND from libnl. */
        return error == -ENOENT ? -ENODEV : error;
    }
    return 0;
}

int
host_nl_link_get(struct host_nl *nl, const char *ifname, struct host_nl_link *out)
{
    struct host_nl_link l;
    struct rtnl_link *link;
    struct nl_addr *addr;
    const char *name;
    int error;

    error = link_get(nl, ifname, &link);
    if (error) {
        return error;
    }
    memset(&l, 0, sizeof l);
    l.ifindex = rtnl_link_get_ifindex(link);
    name = rtnl_link_get_name(link);
    snprintf(l.ifname, sizeof l.ifname, "%s", name ? name : ifname);
    addr = rtnl_link_get_addr(link);
    if (addr && nl_addr_get_len(addr) == 6) {
        memcpy(l.mac, nl_addr_get_binary_addr(addr), 6);
        l.has_mac = true;
    }
    l.up = (rtnl_link_get_flags(link) & IFF_UP) != 0;
    rtnl_link_operstate2str(rtnl_link_get_operstate(link), l.operstate,
                            sizeof l.operstate);
    rtnl_link_put(link);
    *out = l;
    return 0;
}

int
host_nl_vf_info_get(struct host_nl *nl, const char *pf_ifname, unsigned int vf,
                    struct host_nl_vf_info *out)
{
    struct host_nl_vf_info info;
    struct rtnl_link_vf *v = NULL;
    struct rtnl_link *link;
    struct nl_addr *addr;
    nl_vf_vlans_t *vlans;
    struct nl_vf_rate rate;
    uint32_t u;
    int error;

    error = link_get(nl, pf_ifname, &link);
    if (error) {
        return error;
    }
    if (rtnl_link_has_vf_list(link)) {
        v = rtnl_link_vf_get(link, vf);
    }
    if (!v) {
        rtnl_link_put(link);
        return -ENOENT;
    }
    memset(&info, 0, sizeof info);
    if (!rtnl_link_vf_get_addr(v, &addr) && addr && nl_addr_get_len(addr) == 6) {
        memcpy(info.mac, nl_addr_get_binary_addr(addr), 6);
        info.has_mac = true;
    }
    if (!rtnl_link_vf_get_vlans(v, &vlans)) {
        if (vlans->size > 0) {
            info.vlan = (uint16_t)vlans->vlans[0].vf_vlan;
        }
        info.has_vlan = true;
        rtnl_link_vf_vlan_put(vlans);
    } else {
        /* libnl reports VLAN 0 (none) as no attribute. */
        info.has_vlan = true;
    }
    if (!rtnl_link_vf_get_trust(v, &u)) {
        info.trust = u != 0;
        info.has_trust = true;
    }
    if (!rtnl_link_vf_get_spoofchk(v, &u)) {
        info.spoofchk = u != 0;
        info.has_spoofchk = true;
    }
    if (!rtnl_link_vf_get_linkstate(v, &u)) {
        info.link_state = u;
        info.has_link_state = true;
    }
    /* A rate of 0 (no limit) is no attribute to libnl either. */
    info.has_rate = true;
    if (!rtnl_link_vf_get_rate(v, &rate)) {
        info.max_tx_rate =
            rate.api == RTNL_LINK_VF_RATE_API_OLD ? rate.rate : rate.max_tx_rate;
    }
    rtnl_link_vf_put(v);
    rtnl_link_put(link);
    *out = info;
    return 0;
}

static int
vf_value_check(enum host_vf_setting setting, const struct host_vf_value *value)
{
    switch (setting) {
    case HOST_VF_MAC:
        return value->mac[0] & 1 ? -EINVAL : 0;
    case HOST_VF_VLAN:
        return value->vlan > 4095 || value->qos > 7 ? -EINVAL : 0;
    case HOST_VF_TRUST:
    case HOST_VF_SPOOFCHK:
        return 0;
    case HOST_VF_LINK_STATE:
        return value->link_state > HOST_VF_LINK_DISABLE ? -EINVAL : 0;
    case HOST_VF_RATE:
        return value->min_tx_rate > value->max_tx_rate && value->max_tx_rate ? -EINVAL
                                                                             : 0;
    case HOST_VF_N_SETTINGS:
    default:
        return -EINVAL;
    }
}

/* Puts 'setting' into 'v'. */
static int
vf_value_put(struct rtnl_link_vf *v, enum host_vf_setting setting,
             const struct host_vf_value *value)
{
    struct nl_vf_rate rate;
    nl_vf_vlans_t *vlans;
    struct nl_addr *addr;

    switch (setting) {
    case HOST_VF_MAC:
        addr = nl_addr_build(AF_LLC, value->mac, 6);
        if (!addr) {
            return -ENOMEM;
        }
        rtnl_link_vf_set_addr(v, addr);
        nl_addr_put(addr);
        return 0;
    case HOST_VF_VLAN:
        if (rtnl_link_vf_vlan_alloc(&vlans, 1) < 0) {
            return -ENOMEM;
        }
        vlans->vlans[0].vf_vlan = value->vlan;
        vlans->vlans[0].vf_vlan_qos = value->qos;
        vlans->vlans[0].vf_vlan_proto = ETH_P_8021Q;
        rtnl_link_vf_set_vlans(v, vlans);
        rtnl_link_vf_vlan_put(vlans);
        return 0;
    case HOST_VF_TRUST:
        rtnl_link_vf_set_trust(v, value->trust);
        return 0;
    case HOST_VF_SPOOFCHK:
        rtnl_link_vf_set_spoofchk(v, value->spoofchk);
        return 0;
    case HOST_VF_LINK_STATE:
        rtnl_link_vf_set_linkstate(v, value->link_state);
        return 0;
    case HOST_VF_RATE:
        memset(&rate, 0, sizeof rate);
        rate.api = RTNL_LINK_VF_RATE_API_NEW;
        rate.max_tx_rate = value->max_tx_rate;
        rate.min_tx_rate = value->min_tx_rate;
        rtnl_link_vf_set_rate(v, &rate);
        return 0;
    case HOST_VF_N_SETTINGS:
    default:
        return -EINVAL;
    }
}

int
host_nl_vf_set(struct host_nl *nl, int pf_ifindex, unsigned int vf,
               enum host_vf_setting setting, const struct host_vf_value *value)
{
    struct rtnl_link *orig = NULL, *changes = NULL;
    struct rtnl_link_vf *v = NULL;
    int error;

    error = vf_value_check(setting, value);
    if (error) {
        return error;
    }
    orig = rtnl_link_alloc();
    changes = rtnl_link_alloc();
    v = rtnl_link_vf_alloc();
    if (!orig || !changes || !v) {
        error = -ENOMEM;
        goto out;
    }
    rtnl_link_set_ifindex(orig, pf_ifindex);
    rtnl_link_vf_set_index(v, vf);
    error = vf_value_put(v, setting, value);
    if (!error) {
        error = host_nl_errno(rtnl_link_vf_add(changes, v));
    }
    if (!error) {
        error = link_change(nl, orig, changes);
    }

out:
    rtnl_link_vf_put(v);
    rtnl_link_put(changes);
    rtnl_link_put(orig);
    return error;
}

int
host_nl_link_set_mac(struct host_nl *nl, int ifindex, const uint8_t mac[6])
{
    struct rtnl_link *orig = rtnl_link_alloc();
    struct rtnl_link *changes = rtnl_link_alloc();
    struct nl_addr *addr = nl_addr_build(AF_LLC, mac, 6);
    int error = -ENOMEM;

    if (orig && changes && addr) {
        rtnl_link_set_ifindex(orig, ifindex);
        rtnl_link_set_addr(changes, addr);
        error = link_change(nl, orig, changes);
    }
    nl_addr_put(addr);
    rtnl_link_put(changes);
    rtnl_link_put(orig);
    return error;
}

int
host_nl_link_set_up(struct host_nl *nl, int ifindex, bool up)
{
    struct rtnl_link *orig = rtnl_link_alloc();
    struct rtnl_link *changes = rtnl_link_alloc();
    int error = -ENOMEM;

    if (orig && changes) {
        rtnl_link_set_ifindex(orig, ifindex);
        if (up) {
            rtnl_link_set_flags(changes, IFF_UP);
        } else {
            rtnl_link_unset_flags(changes, IFF_UP);
        }
        error = link_change(nl, orig, changes);
    }
    rtnl_link_put(changes);
    rtnl_link_put(orig);
    return error;
}

int
host_nl_link_move(struct host_nl *nl, int ifindex, int netns_fd, const char *new_name)
{
    struct rtnl_link *orig, *changes;
    int error = -ENOMEM;

    if (new_name && !host_nl_ifname_is_valid(new_name)) {
        return -EINVAL;
    }
    orig = rtnl_link_alloc();
    changes = rtnl_link_alloc();
    if (orig && changes) {
        rtnl_link_set_ifindex(orig, ifindex);
        rtnl_link_set_ns_fd(changes, netns_fd);
        if (new_name) {
            rtnl_link_set_name(changes, new_name);
        }
        error = link_change(nl, orig, changes);
    }
    rtnl_link_put(changes);
    rtnl_link_put(orig);
    return error;
}

bool
host_nl_ifname_is_valid(const char *name)
{
    return name[0] && strlen(name) < IFNAMSIZ && !strpbrk(name, "/: \t\n\r\v\f") &&
           strcmp(name, ".") && strcmp(name, "..");
}

int
host_nl_link_rename(struct host_nl *nl, int ifindex, const char *new_name)
{
    struct rtnl_link *orig, *changes;
    int error = -ENOMEM;

    if (!host_nl_ifname_is_valid(new_name)) {
        return -EINVAL;
    }
    orig = rtnl_link_alloc();
    changes = rtnl_link_alloc();
    if (orig && changes) {
        rtnl_link_set_ifindex(orig, ifindex);
        rtnl_link_set_name(changes, new_name);
        error = link_change(nl, orig, changes);
    }
    rtnl_link_put(changes);
    rtnl_link_put(orig);
    return error;
}
