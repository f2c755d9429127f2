/* ovnic-nicsim: veth pairs through rtnetlink (see netdev.h). */
#include "tests/hw-sim/nicsim/netdev.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* libnl's -NLE_* into a negative errno, once, here. */
static int
nle_to_errno(int nle)
{
    switch (nle < 0 ? -nle : nle) {
    case 0:
        return 0;
    case NLE_EXIST:
        return -EEXIST;
    case NLE_NOMEM:
        return -ENOMEM;
    case NLE_PERM:
        return -EPERM;
    case NLE_NODEV:
    case NLE_OBJ_NOTFOUND:
        return -ENODEV;
    case NLE_INVAL:
    case NLE_RANGE:
        return -EINVAL;
    case NLE_BUSY:
        return -EBUSY;
    case NLE_OPNOTSUPP:
        return -EOPNOTSUPP;
    default:
        return -EIO;
    }
}

static int
sock_open(struct nl_sock **sockp)
{
    struct nl_sock *sock = nl_socket_alloc();
    int error;

    if (!sock) {
        return -ENOMEM;
    }
    error = nl_connect(sock, NETLINK_ROUTE);
    if (error) {
        nl_socket_free(sock);
        return nle_to_errno(error);
    }
    *sockp = sock;
    return 0;
}

static bool
name_is_valid(const char *name)
{
    return name && name[0] && strlen(name) < IFNAMSIZ;
}

int
nicsim_veth_create(const char *name, unsigned int mtu, const char *peer_name,
                   int peer_netns_fd, const uint8_t *peer_mac, unsigned int peer_mtu,
                   struct ovnic_err *err)
{
    struct rtnl_link *link = NULL;
    struct rtnl_link *peer;
    struct nl_sock *sock;
    int error;

    if (!name_is_valid(name) || !name_is_valid(peer_name)) {
        return ovnic_err_set(err, -EINVAL, "veth", "bad netdev name",
                             "'%s'/'%s': 1 to 15 characters", name ? name : "",
                             peer_name ? peer_name : "");
    }
    error = sock_open(&sock);
    if (error) {
        return ovnic_err_set(err, error, "veth", "cannot open rtnetlink", NULL);
    }
    link = rtnl_link_veth_alloc();
    if (!link) {
        error = -ENOMEM;
        goto out;
    }
    rtnl_link_set_name(link, name);
    if (mtu) {
        rtnl_link_set_mtu(link, mtu);
    }
    peer = rtnl_link_veth_get_peer(link);
    rtnl_link_set_name(peer, peer_name);
    if (peer_netns_fd >= 0) {
        rtnl_link_set_ns_fd(peer, peer_netns_fd);
    }
    if (peer_mtu) {
        rtnl_link_set_mtu(peer, peer_mtu);
    }
    if (peer_mac) {
        struct nl_addr *addr = nl_addr_build(AF_LLC, peer_mac, 6);

        if (!addr) {
            rtnl_link_put(peer);
            error = -ENOMEM;
            goto out;
        }
        rtnl_link_set_addr(peer, addr);
        nl_addr_put(addr);
    }
    rtnl_link_put(peer);
    error = nle_to_errno(rtnl_link_add(sock, link, NLM_F_CREATE | NLM_F_EXCL));

out:
    if (error) {
        ovnic_err_set(err, error, "veth", "cannot create veth pair", "%s/%s", name,
                      peer_name);
    }
    if (link) {
        rtnl_link_veth_release(link);
    }
    nl_socket_free(sock);
    return error;
}

int
nicsim_netdev_delete(const char *name)
{
    struct rtnl_link *link;
    struct nl_sock *sock;
    int error;

    if (!name_is_valid(name)) {
        return -EINVAL;
    }
    error = sock_open(&sock);
    if (error) {
        return error;
    }
    link = rtnl_link_alloc();
    if (!link) {
        nl_socket_free(sock);
        return -ENOMEM;
    }
    rtnl_link_set_name(link, name);
    error = nle_to_errno(rtnl_link_delete(sock, link));
    rtnl_link_put(link);
    nl_socket_free(sock);
    return error;
}

/* Applies 'edit' to a change request for netdev 'name'. */
static int
netdev_change(const char *name, void (*edit)(struct rtnl_link *, const void *),
              const void *arg)
{
    struct rtnl_link *orig = NULL;
    struct rtnl_link *change;
    struct nl_sock *sock;
    int error;

    if (!name_is_valid(name)) {
        return -EINVAL;
    }
    error = sock_open(&sock);
    if (error) {
        return error;
    }
    error = nle_to_errno(rtnl_link_get_kernel(sock, 0, name, &orig));
    if (error) {
        goto out;
    }
    change = rtnl_link_alloc();
    if (!change) {
        error = -ENOMEM;
        goto out;
    }
    edit(change, arg);
    error = nle_to_errno(rtnl_link_change(sock, orig, change, 0));
    rtnl_link_put(change);
out:
    if (orig) {
        rtnl_link_put(orig);
    }
    nl_socket_free(sock);
    return error;
}

static void
edit_up(struct rtnl_link *change, const void *arg)
{
    if (*(const bool *)arg) {
        rtnl_link_set_flags(change, IFF_UP);
    } else {
        rtnl_link_unset_flags(change, IFF_UP);
    }
}

int
nicsim_netdev_set_up(const char *name, bool up)
{
    return netdev_change(name, edit_up, &up);
}

static void
edit_mtu(struct rtnl_link *change, const void *arg)
{
    rtnl_link_set_mtu(change, *(const unsigned int *)arg);
}

int
nicsim_netdev_set_mtu(const char *name, unsigned int mtu)
{
    return netdev_change(name, edit_mtu, &mtu);
}

int
nicsim_netdev_get_mac(const char *name, uint8_t mac[6])
{
    struct rtnl_link *link = NULL;
    struct nl_addr *addr;
    struct nl_sock *sock;
    int error;

    if (!name_is_valid(name)) {
        return -EINVAL;
    }
    error = sock_open(&sock);
    if (error) {
        return error;
    }
    error = nle_to_errno(rtnl_link_get_kernel(sock, 0, name, &link));
    if (!error) {
        addr = rtnl_link_get_addr(link);
        if (addr && nl_addr_get_len(addr) == 6) {
            memcpy(mac, nl_addr_get_binary_addr(addr), 6);
        } else {
            error = -EINVAL;
        }
        rtnl_link_put(link);
    }
    nl_socket_free(sock);
    return error;
}

bool
nicsim_netdev_exists(const char *name)
{
    return name_is_valid(name) && if_nametoindex(name) != 0;
}

int
nicsim_netns_open(const char *spec)
{
    char path[PATH_MAX];
    int fd;

    if (!spec || !spec[0]) {
        return -EINVAL;
    }
    if (strchr(spec, '/')) {
        snprintf(path, sizeof path, "%s", spec);
    } else {
        snprintf(path, sizeof path, "/var/run/netns/%s", spec);
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int
nicsim_netdev_disable_ipv6(const char *name)
{
    char path[PATH_MAX];
    int error = 0;
    int fd;

    if (!name_is_valid(name) || strchr(name, '/')) {
        return -EINVAL;
    }
    snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT ? 0 : -errno; /* No IPv6 in this kernel: nothing to do. */
    }
    if (write(fd, "1\n", 2) != 2) {
        error = -errno;
    }
    close(fd);
    return error;
}
