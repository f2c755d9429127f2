/* ovnic-hostd: the record of VF attachments, kept in STATE-DIR/attachments.json.
 *
 * One record per attached VF: which PF and VF, whether it went to a network
 * namespace (and under which name there) or to a VM (through vfio-pci), its
 * iface-id, and what detach needs to undo the attachment (the netdev's name and the
 * driver it had before).  The file is rewritten whole through a temporary file,
 * fsync() and rename(), so a reader sees the old or the new record and never a
 * partial one; host_state_lock() serialises the writers.
 *
 *   {"version": 1, "attachments": [{"pf": "0000:03:00.0", "vf": 0,
 *     "vf_pci": "0000:03:00.2", "kind": "netns", "netns": "vm1", "ifname": "eth0",
 *     "host_ifname": "pf0v0", "host_driver": "mlx5_core", "iface_id": "lsp1",
 *     "mac": "02:42:a1:00:01:10", "vlan": 0, "since_ms": 1700000000000}]}
 *
 * The file is read back as outside input (it may have been edited or damaged):
 * every member is checked, and a bad file is an error that names the member. */
#ifndef OVNIC_HOST_STATE_H
#define OVNIC_HOST_STATE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/sriov.h"
#include "shared/util/err.h"

#define HOST_STATE_FILE "attachments.json"
#define HOST_STATE_VERSION 1
#define HOST_STATE_MAX_RECORDS 4096
#define HOST_STATE_MAX_BYTES (1024 * 1024)
#define HOST_STATE_NETNS_LEN 256
#define HOST_STATE_IFACE_ID_LEN 256

enum host_attach_kind {
    HOST_ATTACH_NETNS, /* The VF's netdev is in a network namespace. */
    HOST_ATTACH_VM,    /* The VF is bound to vfio-pci for a VM. */
};

struct host_attachment {
    char pf[SRIOV_PCI_ADDR_LEN]; /* PF PCI address. */
    unsigned int vf;
    char vf_pci[SRIOV_PCI_ADDR_LEN];
    enum host_attach_kind kind;
    char netns[HOST_STATE_NETNS_LEN]; /* HOST_ATTACH_NETNS: as given (name, pid, path). */
    char ifname[SRIOV_IFNAME_LEN];    /* HOST_ATTACH_NETNS: its name in there. */
    char host_ifname[SRIOV_IFNAME_LEN];     /* Its name before, in the host. */
    char host_driver[SRIOV_DRIVER_LEN];     /* HOST_ATTACH_VM: its driver before. */
    char iface_id[HOST_STATE_IFACE_ID_LEN]; /* May be empty. */
    char mac[SRIOV_MAC_LEN];                /* The MAC asked for, or empty. */
    int vlan;                               /* The VLAN asked for, -1 for none. */
    uint64_t since_ms;                      /* Wall clock of the attachment. */
};

struct host_state {
    struct host_attachment *records;
    size_t n, allocated;
};

/** "netns" or "vm". */
const char *host_attach_kind_name(enum host_attach_kind kind);

/** Parses the text of an attachments file ('len' bytes at 'buf') into 'st' (which
 * must be empty, as host_state_init() leaves it).  Returns 0, -EINVAL or -ERANGE for a
 * bad file (with 'err' naming the member and the record), -EFBIG beyond
 * HOST_STATE_MAX_BYTES or HOST_STATE_MAX_RECORDS, or -ENOMEM; 'st' stays empty on
 * failure. */
int host_state_parse(const char *buf, size_t len, struct host_state *st,
                     struct ovnic_err *err);

/** Reads DIR/attachments.json into 'st' (which must be empty); a missing file or
 * directory is an empty state.  Returns 0, the errors of host_state_parse(), or the
 * errno of reading it. */
int host_state_load(const char *dir, struct host_state *st, struct ovnic_err *err);

/** Writes 'st' to DIR/attachments.json atomically (temporary file, fsync, rename,
 * fsync of DIR), creating DIR (mode 0755) if missing.  Returns 0 or a negative errno
 * (with 'err' set). */
int host_state_save(const char *dir, const struct host_state *st, struct ovnic_err *err);

/** Takes the exclusive lock DIR/lock (flock), creating DIR if missing, waiting for
 * another holder.  '*fd' is the lock; release it with host_state_unlock().  Returns 0
 * or a negative errno (with 'err' set). */
int host_state_lock(const char *dir, int *fd, struct ovnic_err *err);
void host_state_unlock(int fd);

void host_state_init(struct host_state *st);

/** Frees the records of 'st' and empties it. */
void host_state_clear(struct host_state *st);

/** The record of VF 'vf' of PF 'pf', or NULL.  Valid until 'st' changes. */
struct host_attachment *host_state_find(const struct host_state *st, const char *pf,
                                        unsigned int vf);

/** Adds 'a' to 'st', replacing a record of the same PF and VF.  Returns 0, -EFBIG
 * beyond HOST_STATE_MAX_RECORDS, or -ENOMEM. */
int host_state_put(struct host_state *st, const struct host_attachment *a);

/** Removes the record of VF 'vf' of PF 'pf'.  Returns true if there was one. */
bool host_state_remove(struct host_state *st, const char *pf, unsigned int vf);

#endif /* OVNIC_HOST_STATE_H */
