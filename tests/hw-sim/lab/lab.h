/* ovnic-sim lab: builds and tears down a simulated data centre.
 *
 * A lab named NAME with H hosts consists of:
 *   - namespace NAME-underlay: bridge "br0" (MTU 9000), with the first address of
 *     the underlay subnet;
 *   - per host I (1..H): namespace NAME-hI (the host: its PF "pf0" and VFs "pf0vN"
 *     appear there), namespace NAME-dpuI (the DPU: ovnic-nicsim runs there, with the
 *     uplink "p0", a veth whose other end "hI" is a port of br0), and a directory
 *     DIR/hI with ovnic-nicsim's run directory (control socket, memif sockets),
 *     the simulated sysfs root, and its log.  Host I's tunnel endpoint address is
 *     the subnet's address 10 + I.
 *   - DIR/lab.json, the state that "status" and "down" read.
 * Namespaces that tests add for VMs are named NAME-hI-SOMETHING; "down" removes
 * them too. */
#ifndef OVNIC_LAB_LAB_H
#define OVNIC_LAB_LAB_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "shared/util/err.h"

#define LAB_MAX_HOSTS 16

struct lab_config {
    char name[24];
    char dir[1024];
    unsigned int hosts;
    unsigned int vfs;   /* sriov_totalvfs of each host. */
    bool enable_vfs;    /* Enable every VF at start (else: sriov_numvfs is 0). */
    char underlay[32];  /* "A.B.C.D/N". */
    char profile[1024]; /* bf2, bf3 or a file. */
    char nicsim[1024];  /* Path of ovnic-nicsim ("" = find it). */
};

/** Fills 'cfg' with the defaults (2 hosts, 4 VFs, 192.168.100.0/24, bf2). */
void lab_config_init(struct lab_config *cfg);

/** Reads a description file of "key = value" lines (name, hosts, vfs, enable_vfs,
 * underlay, profile; '#' starts a comment) into 'cfg'.  Returns 0, -EINVAL (with
 * 'err' set) or a negative errno from reading the file. */
int lab_config_read(struct lab_config *cfg, const char *path, struct ovnic_err *err);

/** Checks 'cfg' (name syntax, counts, subnet room).  Returns 0 or -EINVAL. */
int lab_config_check(const struct lab_config *cfg, struct ovnic_err *err);

/** Brings the lab up.  On failure, tears down whatever it made.  Returns 0, -EEXIST
 * (a lab of that name is up), or another negative errno, with 'err' set. */
int lab_up(const struct lab_config *cfg, struct ovnic_err *err);

/** Tears down lab 'cfg->name' in 'cfg->dir': stops each ovnic-nicsim by its pid
 * (SIGTERM, then SIGKILL after 10 s), deletes the lab's namespaces, and removes the
 * run directories and lab.json (logs stay).  Works from the names alone if lab.json
 * is missing.  Returns 0, or the first negative errno met (it carries on). */
int lab_down(const struct lab_config *cfg, struct ovnic_err *err);

/** Takes host 'host''s NIC away, as a NIC reset or a firmware update that reboots it
 * does: stops its ovnic-nicsim by the pid in its pidfile, with SIGTERM (it removes its
 * ports, VF netdevs and sockets, and sets sriov_numvfs to 0, as a driver does when the
 * device goes) or, if 'kill', SIGKILL (it removes nothing; the next start removes its
 * VF netdevs).  Returns 0, -ENOENT (no lab.json), -EINVAL (no such host), -ESRCH (not
 * running), -ETIMEDOUT (SIGTERM ignored for 10 s: then killed), with 'err' set. */
int lab_nic_stop(const struct lab_config *cfg, unsigned int host, bool kill,
                 struct ovnic_err *err);

/** Starts host 'host''s ovnic-nicsim again with the command line 'up' gave it, so
 * that the NIC comes back as it booted then: uplink, PF, and VFs only if the lab
 * enables them at start (a reset destroys the VFs; the host enables them again with
 * sriov_numvfs, and their netdevs appear in the host's namespace).  Waits until it
 * answers, and records its pid in lab.json.  '*ready_ms' (may be NULL) gets how long
 * that took.  Returns 0, -ENOENT, -EINVAL, -EEXIST (it runs), or what starting it
 * gives, with 'err' set. */
int lab_nic_start(const struct lab_config *cfg, unsigned int host, uint64_t *ready_ms,
                  struct ovnic_err *err);

/** The state of the lab, with each ovnic-nicsim's live status and ports, as JSON
 * (caller owns).  Returns 0, -ENOENT (no lab.json), or another negative errno. */
int lab_status(const struct lab_config *cfg, json_t **status, struct ovnic_err *err);

#endif /* OVNIC_LAB_LAB_H */
