/* ovnic: load-balancer health checks (OVN's Service_Monitor), as ovn-controller's
 * pinctrl runs them.
 *
 * ovn-northd writes one SB Service_Monitor row per (load balancer backend IP, port,
 * protocol) whose load balancer has a health check and whose backend is mapped to a
 * logical port (Load_Balancer.ip_port_mappings).  The chassis that hosts that logical
 * port probes the backend and writes the row's status ("online" / "offline"); northd
 * then leaves offline backends out of the load balancer's ct_lb_mark() flows.
 *
 * A struct svc_mon holds one monitor per Service_Monitor row (keyed by the row's
 * uuid) and runs, per monitor:
 *
 *   probe      TCP: a SYN from (src_mac, src_ip, a random port >= 1024, a random
 *              sequence number) to (the logical port's MAC, ip, port); UDP: an 8-byte
 *              datagram of zeros from a random port kept for the monitor's life.
 *              IPv4 only (ovn-northd creates IPv4 monitors only).  Sent out of the
 *              monitored logical port (ops->send), every 'interval' ms.
 *   reply      what handle_svc_check() hands back (svc_mon_input()), matched on the
 *              backend's address and port and the probe's port (and, for TCP, its
 *              acknowledgement of the probe's sequence number):
 *                TCP SYN+ACK        success; the half-open connection is reset (RST+ACK
 *                                   sent back through ops->send);
 *                TCP RST            failure;
 *                ICMP port unreachable quoting the UDP probe   failure.
 *   timeout    no reply within 'timeout' ms: failure for TCP, success for UDP (a UDP
 *              service answers nothing when it is there).
 *   status     'success_count' consecutive successes make it "online",
 *              'failure_count' consecutive failures "offline"; each change is
 *              reported once (ops->status).  Before the first verdict the status is
 *              unknown (nothing is reported).
 *
 * Defaults, as ovn-controller's: interval 5 s, timeout 3 s, success_count 1,
 * failure_count 1 (Service_Monitor options, in seconds and counts).
 *
 * Time is passed in (ms, any monotonic origin) and randomness comes from a seeded
 * generator: runs are reproducible.  Not thread-safe: one thread owns a svc_mon. */
#ifndef OVNIC_VSWITCH_SVC_MON_H
#define OVNIC_VSWITCH_SVC_MON_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/util/uuid.h"

struct svc_mon;

/* Frames built here are at most this long. */
#define SVC_MON_FRAME_MAX 64

/* Defaults and bounds of the options. */
#define SVC_MON_DEFAULT_INTERVAL_MS 5000
#define SVC_MON_DEFAULT_TIMEOUT_MS 3000
#define SVC_MON_DEFAULT_SUCCESS_COUNT 1
#define SVC_MON_DEFAULT_FAILURE_COUNT 1
#define SVC_MON_MAX_SECONDS 86400

/** One Service_Monitor row, as the caller found it (strings borrowed for the call). */
struct svc_mon_spec {
    struct uuid uuid;         /* The row. */
    const char *logical_port; /* Where the backend is (and probes go out). */
    const char *protocol;     /* "tcp" or "udp"; NULL or "" means "tcp". */
    const char *ip;           /* Backend IPv4 address. */
    int64_t port;             /* Backend port, 1..65535. */
    const char *src_mac;      /* Probe source MAC (SB_Global svc_monitor_mac). */
    const char *src_ip;       /* Probe source IPv4 address. */
    const char *dst_mac;      /* The logical port's MAC (Port_Binding.mac). */
    /* Options, as given (seconds, counts); <= 0 (absent): the default. */
    int64_t interval;
    int64_t timeout;
    int64_t success_count;
    int64_t failure_count;
};

enum svc_mon_status {
    SVC_MON_UNKNOWN,
    SVC_MON_ONLINE,
    SVC_MON_OFFLINE,
};

/** Where a svc_mon's output goes.  Called from svc_mon_run() and svc_mon_input(). */
struct svc_mon_ops {
    /* Sends Ethernet frame [frame, frame + len) out of logical port 'lport' (both
     * borrowed for the call). */
    void (*send)(void *aux, const char *lport, const uint8_t *frame, size_t len);
    /* The status of monitor 'uuid' became 'status' ("online" or "offline"). */
    void (*status)(void *aux, const struct uuid *uuid, const char *status);
    void *aux;
};

/** Counters since creation. */
struct svc_mon_stats {
    uint64_t n_monitors; /* Monitors now. */
    uint64_t n_invalid;  /* Specs refused by the last svc_mon_set(). */
    uint64_t probes;     /* Probes sent. */
    uint64_t resets;     /* RSTs sent after a SYN+ACK. */
    uint64_t successes;  /* Verdicts. */
    uint64_t failures;   /* Verdicts, timeouts included. */
    uint64_t timeouts;   /* Probes that got no reply. */
    uint64_t replies;    /* svc_mon_input() frames that matched a monitor. */
    uint64_t unmatched;  /* Well-formed frames that matched none. */
    uint64_t malformed;  /* Frames svc_mon_input() could not parse. */
    uint64_t status_changes;
};

/** Creates an empty set of monitors; 'ops' is copied; 'seed' seeds the generator of
 * source ports and sequence numbers.  Caller owns; free with svc_mon_destroy().
 * Errors: -EINVAL ('ops' or ops->send missing), -ENOMEM. */
int svc_mon_create(const struct svc_mon_ops *ops, uint64_t seed, struct svc_mon **monp);

/** Frees 'mon'.  NULL is a no-op. */
void svc_mon_destroy(struct svc_mon *mon);

/** Makes the monitors those of 'specs' (n of them; borrowed for the call): a new uuid
 * starts a monitor whose first probe is due at once; a uuid that is gone stops its
 * monitor; a monitor whose target (port, addresses, protocol) changed starts over
 * (status unknown); changed options apply from the next probe on.  A spec that does
 * not parse (bad address, port or protocol) is skipped, counted in n_invalid and
 * logged (rate-limited); a duplicate uuid keeps the first.
 * Returns the number of monitors, or -ENOMEM (the set is left partly updated; call
 * again). */
int svc_mon_set(struct svc_mon *mon, const struct svc_mon_spec *specs, size_t n,
                uint64_t now_ms);

/** Sends the probes that are due and turns the probes that timed out into verdicts.
 * Returns the ms until it wants to run again (UINT64_MAX when there is no monitor). */
uint64_t svc_mon_run(struct svc_mon *mon, uint64_t now_ms);

/** A frame that handle_svc_check() sent up from logical port 'lport' (borrowed).
 * Errors: -EINVAL (not an IPv4 TCP segment or ICMP destination unreachable that can
 * be read), -ENOENT (well formed, but no monitor of 'lport' waits for it: a late or
 * foreign reply). */
int svc_mon_input(struct svc_mon *mon, const char *lport, const uint8_t *frame,
                  size_t len, uint64_t now_ms);

/** Status of monitor 'uuid' (SVC_MON_UNKNOWN as well for a uuid it does not know). */
enum svc_mon_status svc_mon_status(const struct svc_mon *mon, const struct uuid *uuid);

/** "online", "offline", or NULL for SVC_MON_UNKNOWN. */
const char *svc_mon_status_name(enum svc_mon_status status);

void svc_mon_get_stats(const struct svc_mon *mon, struct svc_mon_stats *stats);

/** The monitors, by logical port then uuid: [{"uuid", "logical_port", "protocol",
 * "ip", "port", "src_ip", "status" (or null), "state" ("init", "waiting", "idle"),
 * "interval_ms", "timeout_ms", "success_count", "failure_count", "n_success",
 * "n_failures", "probes", "replies", "next_ms" (ms until the next event)}].  Caller
 * owns; NULL on allocation failure. */
json_t *svc_mon_json(const struct svc_mon *mon, uint64_t now_ms);

/** Counters as {"monitors", "invalid", "probes", "resets", "successes", "failures",
 * "timeouts", "replies", "unmatched", "malformed", "status_changes"}.  Caller owns;
 * NULL on allocation failure. */
json_t *svc_mon_stats_json(const struct svc_mon *mon);

#endif /* OVNIC_VSWITCH_SVC_MON_H */
