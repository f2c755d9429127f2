/* ovnic-nicsim: the Linux netdevs behind the simulated ports (veth pairs), through
 * rtnetlink (libnl-route-3).  Every name is at most 15 characters. */
#ifndef OVNIC_NICSIM_NETDEV_H
#define OVNIC_NICSIM_NETDEV_H 1

#include <stdbool.h>
#include <stdint.h>

#include "shared/util/err.h"

/** Creates the veth pair 'name' (in the calling thread's network namespace, left
 * down, MTU 'mtu' if nonzero) and 'peer' (in the namespace of 'peer_netns_fd', or the
 * same one if it is -1; left down; MAC 'peer_mac' if nonnull; MTU 'peer_mtu' if
 * nonzero).  Returns 0, -EEXIST, or another negative errno with 'err' set. */
int nicsim_veth_create(const char *name, unsigned int mtu, const char *peer,
                       int peer_netns_fd, const uint8_t *peer_mac, unsigned int peer_mtu,
                       struct ovnic_err *err);

/** Deletes netdev 'name' of the calling thread's namespace (a veth takes its peer
 * along).  Returns 0, -ENODEV, or another negative errno. */
int nicsim_netdev_delete(const char *name);

/** Sets netdev 'name' administratively up or down.  Returns 0 or a negative errno. */
int nicsim_netdev_set_up(const char *name, bool up);

/** Sets the MTU of netdev 'name'.  Returns 0 or a negative errno. */
int nicsim_netdev_set_mtu(const char *name, unsigned int mtu);

/** Reads the MAC of netdev 'name'.  Returns 0 or a negative errno. */
int nicsim_netdev_get_mac(const char *name, uint8_t mac[6]);

/** True if netdev 'name' exists in the calling thread's namespace. */
bool nicsim_netdev_exists(const char *name);

/** Turns IPv6 off on netdev 'name', so that the kernel sends nothing of its own
 * (router solicitations, MLD) on a port that ovnic-nicsim reads with a packet socket.
 * Returns 0 or a negative errno. */
int nicsim_netdev_disable_ipv6(const char *name);

/** Opens network namespace 'spec': a name under /var/run/netns, or a path.  Returns
 * the fd (>= 0; caller closes it) or a negative errno. */
int nicsim_netns_open(const char *spec);

#endif /* OVNIC_NICSIM_NETDEV_H */
