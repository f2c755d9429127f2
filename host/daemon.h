/* ovnic-hostd: the daemon ("ovnic-hostd run"): one hostlink session per DPU, and a
 * control socket through which "ovnic-hostd attach|detach|status" reach it.
 *
 * Each PF of the host belongs to one DPU (struct hostd_pf_map: by PCI address or
 * MAC; with a single DPU, every PF is its).  The session of a DPU reports the PFs of
 * that DPU, their VFs and the attachments of those VFs that carry an iface-id
 * (from the record of attachments, state.h): in the resync after every hello, so
 * that a restart of either side converges without re-plugging.
 *
 * attach: the daemon does the local VF work (vf_attach()), then sends the DPU an
 * inventory (the VF count may have changed) and an attach-request; the caller's
 * answer waits for the DPU's.  A refusal undoes the local attachment, and the error
 * names the DPU's code and reason.  detach: vf_detach(), then a detach-request.
 * While the DPU's session is down, the local work is done and the DPU learns it at
 * the next resync. */
#ifndef OVNIC_HOST_DAEMON_H
#define OVNIC_HOST_DAEMON_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "host/vf.h"
#include "shared/util/err.h"

struct poll_loop;
struct hostd;

#define HOSTD_MAX_DPUS 8
#define HOSTD_CTL_NAME "ovnic-hostd.ctl"

struct hostd_dpu_config {
    const char *name;   /* Letters, digits, "._-". */
    const char *remote; /* ssl:IP:PORT (unix:PATH with allow_plain). */
};

struct hostd_pf_map {
    const char *pf;  /* PCI address or MAC of a PF. */
    const char *dpu; /* A hostd_dpu_config name. */
};

struct hostd_config {
    struct host_ctx ctx;
    const char *name; /* This host's name in hello. */
    const struct hostd_dpu_config *dpus;
    size_t n_dpus; /* 1 to HOSTD_MAX_DPUS. */
    const struct hostd_pf_map *pf_map;
    size_t n_pf_map;
    const char *ca_cert, *certificate, *private_key;
    bool allow_plain;
    const char *ctl_path;      /* Control socket; NULL: STATE-DIR/HOSTD_CTL_NAME. */
    unsigned int keepalive_ms; /* 0: default. */
};

/** Starts the daemon: checks the configuration against the PFs found (a PF mapped
 * to no DPU, a mapping naming an unknown PF or DPU are errors), opens the control
 * socket and starts a session per DPU.  'config' is borrowed and must outlive it.
 * Returns 0 or a negative errno with 'err' set. */
int hostd_create(struct poll_loop *loop, const struct hostd_config *config,
                 struct hostd **hostd, struct ovnic_err *err);

void hostd_destroy(struct hostd *hostd);

/** True once "exit" came through the control socket and was answered. */
bool hostd_is_done(const struct hostd *hostd);

/** The attach request of the command line as the control socket takes it, and
 * back (strictly checked).  Strings of 'req' point into 'json' (borrowed). */
json_t *hostd_attach_request_to_json(const struct vf_attach_request *req);
int hostd_attach_request_from_json(const json_t *json, struct vf_attach_request *req,
                                   struct ovnic_err *err);

#endif /* OVNIC_HOST_DAEMON_H */
