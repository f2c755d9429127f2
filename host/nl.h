/* ovnic-hostd: rtnetlink through libnl-route-3: VF settings on a PF, and the VF
 * netdevs themselves (address, namespace, name).
 *
 * Each VF setting is its own RTM_NEWLINK request on the PF, an IFLA_VFINFO_LIST
 * holding one IFLA_VF_INFO with one attribute (IFLA_VF_MAC, IFLA_VF_VLAN,
 * IFLA_VF_TRUST, IFLA_VF_SPOOFCHK, IFLA_VF_LINK_STATE or IFLA_VF_RATE), so that a
 * setting the device refuses fails alone and the others still apply.
 *
 * libnl's -NLE_* codes are converted to negative errnos here, once; where the kernel
 * answered with an error, that errno is kept as it was (libnl's own mapping loses
 * some). */
#ifndef OVNIC_HOST_NL_H
#define OVNIC_HOST_NL_H 1

#include <stdbool.h>
#include <stdint.h>

struct host_nl;

/* The VF settings, in the order they are applied. */
enum host_vf_setting {
    HOST_VF_MAC,
    HOST_VF_VLAN,
    HOST_VF_TRUST,
    HOST_VF_SPOOFCHK,
    HOST_VF_LINK_STATE,
    HOST_VF_RATE,
    HOST_VF_N_SETTINGS
};

/* IFLA_VF_LINK_STATE values. */
enum host_vf_link_state {
    HOST_VF_LINK_AUTO = 0,    /* Follows the PF's link (IFLA_VF_LINK_STATE_AUTO). */
    HOST_VF_LINK_ENABLE = 1,  /* Always up. */
    HOST_VF_LINK_DISABLE = 2, /* Always down. */
};

/* The value of one setting; which member counts depends on the setting. */
struct host_vf_value {
    uint8_t mac[6];       /* HOST_VF_MAC. */
    uint16_t vlan;        /* HOST_VF_VLAN: 0..4095, 0 removes the VLAN. */
    uint8_t qos;          /* HOST_VF_VLAN: 802.1p priority 0..7. */
    bool trust;           /* HOST_VF_TRUST. */
    bool spoofchk;        /* HOST_VF_SPOOFCHK. */
    uint32_t link_state;  /* HOST_VF_LINK_STATE: enum host_vf_link_state. */
    uint32_t max_tx_rate; /* HOST_VF_RATE, Mbit/s, 0 for no limit. */
    uint32_t min_tx_rate; /* HOST_VF_RATE, Mbit/s. */
};

/* A netdev as RTM_GETLINK reports it. */
struct host_nl_link {
    int ifindex;
    char ifname[16];
    uint8_t mac[6];
    bool has_mac;
    bool up;            /* IFF_UP. */
    char operstate[16]; /* "up", "down", "unknown", ... */
};

/* What the PF reports about one of its VFs (IFLA_VFINFO_LIST). */
struct host_nl_vf_info {
    bool has_mac, has_vlan, has_trust, has_spoofchk, has_link_state, has_rate;
    uint8_t mac[6];
    uint16_t vlan;
    bool trust, spoofchk;
    uint32_t link_state;
    uint32_t max_tx_rate;
};

/** "mac", "vlan", "trust", "spoofchk", "link-state", "rate". */
const char *host_vf_setting_name(enum host_vf_setting setting);

/** "auto", "enable", "disable", or "unknown". */
const char *host_vf_link_state_name(uint32_t state);

/** Opens an rtnetlink socket in the network namespace 'netns_fd' (an fd of
 * /run/netns/NAME or /proc/PID/ns/net), or in the caller's with -1; the caller's
 * namespace is the thread's own again on return (if the thread cannot go back, the
 * process aborts rather than act in the wrong namespace).  Caller owns '*nl'; free
 * with host_nl_close().  Returns 0, -ENOMEM, or the errno of setns() or of the
 * socket. */
int host_nl_open(int netns_fd, struct host_nl **nl);

/** Closes 'nl' (may be NULL). */
void host_nl_close(struct host_nl *nl);

/** Reads netdev 'ifname'.  Returns 0, -ENODEV if there is none of that name in the
 * socket's namespace, or another negative errno. */
int host_nl_link_get(struct host_nl *nl, const char *ifname, struct host_nl_link *link);

/** Reads what the PF 'pf_ifname' reports of VF 'vf'.  Returns 0, -ENODEV if there is
 * no such PF, -ENOENT if the PF reports no such VF (a device without VF ops, such
 * as a veth), or another negative errno. */
int host_nl_vf_info_get(struct host_nl *nl, const char *pf_ifname, unsigned int vf,
                        struct host_nl_vf_info *info);

/** Applies one VF setting through the PF 'pf_ifindex'.  Returns 0, -EINVAL for a
 * value out of range (without asking the kernel), -EOPNOTSUPP if the device has no
 * such VF operation, or the kernel's error (-EINVAL, -EPERM, -ENODEV, ...). */
int host_nl_vf_set(struct host_nl *nl, int pf_ifindex, unsigned int vf,
                   enum host_vf_setting setting, const struct host_vf_value *value);

/** Sets the hardware address of netdev 'ifindex'.  Returns 0 or a negative errno. */
int host_nl_link_set_mac(struct host_nl *nl, int ifindex, const uint8_t mac[6]);

/** Brings netdev 'ifindex' up or down.  Returns 0 or a negative errno. */
int host_nl_link_set_up(struct host_nl *nl, int ifindex, bool up);

/** Moves netdev 'ifindex' into the namespace 'netns_fd' and, if 'new_name' is not
 * NULL, names it 'new_name' there, in one request (the kernel takes the name as the
 * name in the new namespace).  Returns 0, -EEXIST if the name is taken there,
 * -EINVAL for a bad name, or another negative errno. */
int host_nl_link_move(struct host_nl *nl, int ifindex, int netns_fd,
                      const char *new_name);

/** Renames netdev 'ifindex' to 'new_name' (it must be down, or the kernel must allow
 * renaming it up).  Returns 0, -EEXIST, -EINVAL for a bad name, -EBUSY, or another
 * negative errno. */
int host_nl_link_rename(struct host_nl *nl, int ifindex, const char *new_name);

/** True if 'name' can name a netdev: 1 to 15 bytes, no '/', ':' or white space,
 * not "." or "..". */
bool host_nl_ifname_is_valid(const char *name);

/** Converts a libnl error (-NLE_* or NLE_*) to a negative errno. */
int host_nl_errno(int nle);

#endif /* OVNIC_HOST_NL_H */
