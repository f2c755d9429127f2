/* ovnic-dpud: the hosts of this DPU, served through hostlink (shared/proto).
 *
 * The host is not trusted (DESIGN.md §1): every request of a host session is checked
 * against what this host owns before anything is plugged:
 *   - the PF: one of this DPU's PFs (the PF MACs of the representor table), and one
 *     of this host's ("hostlink-hosts"; without it, one host owns them all);
 *   - the VF: below the VF count that the host reported for that PF, and with a
 *     representor in the representor table;
 *   - the iface-id: a VIF Port_Binding of the SB, not bound to (nor requested for)
 *     another chassis, and not attached here by another host;
 *   - the MAC: one that the Port_Binding's "mac" column assigns.
 * Only then is the representor registered as the port's VIF (as "ovnicctl dpud
 * port-add" does), so that the binding claims the port and sets "up".  A refusal is
 * answered with its code (not-owned, mac-mismatch, bound-elsewhere, not-found),
 * logged with a rate limit and counted; the session goes on.
 *
 * A changed request re-plugs: the same iface-id on another VF releases the old
 * representor first, and a VF given to another iface-id drops its old port.  A
 * resync replaces whatever the host had: what it does not list is detached, what it
 * lists as already plugged is left as it is (no re-plug).
 *
 * Liveness: a host whose session ends (lease expired, closed) keeps its ports bound
 * and forwarding; after "hostlink-down-delay-ms" without a new session, their
 * Port_Binding "up" becomes false (dpud_hosts_vif_ready()), and true again once
 * the host is back.
 *
 * Host facts: the card serial number of the host's PFs goes into the Chassis's
 * other_config:ovn-cms-options as "card-serial-number=SERIAL", after the configured
 * cms-options. */
#ifndef OVNIC_DPUD_HOSTS_H
#define OVNIC_DPUD_HOSTS_H 1

#include <jansson.h>
#include <stdbool.h>

#include "shared/util/err.h"
#include "shared/util/uuid.h"

struct binding;
struct dpud_config;
struct dpud_hosts;
struct ovsdb_replica;
struct poll_loop;

/** Callbacks to the daemon. */
struct dpud_hosts_ops {
    void (*schedule)(void *aux); /* Run a step: requests are waiting, or a VIF or
                                  * the cms-options changed. */
    void (*save)(void *aux);     /* The saved state changed. */
};

/** What dpud_hosts_run() needs from the step.  All borrowed. */
struct dpud_hosts_ctx {
    const struct ovsdb_replica *replica;
    const struct uuid *chassis_uuid; /* This chassis's row. */
    const char *chassis_name;
    const char *hostname;
    bool conditions_acked; /* The SB has every monitor condition set so far. */
};

/** Starts serving hosts on 'config->hostlink_listen' (which must be set) with
 * 'binding' (borrowed, must outlive it).  Caller owns '*hosts'; free with
 * dpud_hosts_destroy().  Returns 0 or a negative errno with 'err' set (bad listen
 * name, TLS files, address in use). */
int dpud_hosts_create(struct poll_loop *loop, const struct dpud_config *config,
                      struct binding *binding, const struct dpud_hosts_ops *ops,
                      void *aux, struct dpud_hosts **hosts, struct ovnic_err *err);

void dpud_hosts_destroy(struct dpud_hosts *hosts);

/** Answers the requests that came in, against the SB state of 'ctx'.  Changes of
 * the VIFs are made on the binding (binding_run() of the same step claims them). */
void dpud_hosts_run(struct dpud_hosts *hosts, const struct dpud_hosts_ctx *ctx);

/** The iface-ids of requests that wait for their Port_Binding: the SB is asked to
 * send these rows too (the monitor condition).  NULL-terminated array of borrowed
 * strings, valid until the next dpud_hosts_run(); '*n' gets the count. */
const char *const *dpud_hosts_wanted_lports(const struct dpud_hosts *hosts, size_t *n);

/** False for a VIF of a host that has been gone for longer than the down delay:
 * its port's "up" is written false (it still forwards). */
bool dpud_hosts_vif_ready(const struct dpud_hosts *hosts, const char *representor);

/** The Chassis ovn-cms-options: the configured ones, then card-serial-number=S once
 * a host reported its card serial number.  Valid until the next dpud_hosts_run(). */
const char *dpud_hosts_cms_options(const struct dpud_hosts *hosts);

/** The hosts, their sessions, attachments and refusals, as JSON (docs/ovnic-dpud.md,
 * "Hosts").  Caller owns; NULL if out of memory. */
json_t *dpud_hosts_to_json(const struct dpud_hosts *hosts);

/** The attachments of every host, for the state file, and back (after the binding's
 * own state is restored).  Caller owns the result. */
json_t *dpud_hosts_save(const struct dpud_hosts *hosts);
int dpud_hosts_restore(struct dpud_hosts *hosts, const json_t *saved);

#endif /* OVNIC_DPUD_HOSTS_H */
