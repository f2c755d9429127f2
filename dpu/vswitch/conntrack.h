/* ovnic: the vswitch's connection tracker, the pipeline's real conntrack backend.
 *
 * It implements struct ct_class (dpu/pipeline/ct.h): conntrack_class with a struct
 * conntrack * as the instance.  Connections are kept per zone, keyed by their
 * original-direction 5-tuple (IPv4 or IPv6; TCP, UDP, SCTP, ICMP echo / ICMPv6 echo
 * by identifier, other protocols by addresses only), with a reply tuple that NAT
 * rewrites.  What it does:
 *
 *   - ct_next: looks the packet up in the zone and sets ct_state (trk plus new, est,
 *     rel, rpl, inv, snat, dnat), ct_mark, ct_label and ct_zone in the key;
 *   - ct_commit: creates the connection (new) and writes the mark and label bits the
 *     operation carries; a committed connection becomes est after the first reply;
 *   - ct_dnat / ct_snat with an address (and port range): creates a NAT connection
 *     and rewrites the key; without an address: applies the connection's NAT in the
 *     direction of the packet (reverse NAT for replies);
 *   - ct_lb / ct_lb_mark: picks a backend by the hash of the fields the action
 *     names (hash_fields) or of the 5-tuple, DNATs to it, and keeps the choice for
 *     the connection's lifetime; sets ct_mark/ct_label natted (and skip_snat,
 *     force_snat when the action says so);
 *   - ct_commit_nat, ct_snat_to_vip, ct_clear as ct.h describes them;
 *   - related: an ICMPv4/ICMPv6 error quoting the header of a tracked connection is
 *     "rel" (and is NATed like its connection);
 *   - TCP: a state machine (SYN_SENT, SYN_RECV, ESTABLISHED, FIN_WAIT, CLOSE_WAIT,
 *     LAST_ACK, TIME_WAIT, CLOSED) with sequence-window checks when the packet's
 *     bytes are known (conntrack_set_packet()); a segment outside the window is
 *     "inv"; RST closes; a SYN on a closed connection reopens it;
 *   - timeouts per protocol and state (struct conntrack_config), expired connections
 *     removed by conntrack_sweep() and found dead at lookup;
 *   - a size limit: a new connection when 'max_conns' are held is not created, the
 *     packet gets "inv", and the drop is counted (n_full_drops).
 *
 * Threads: the datapath thread runs the class's execute() and conntrack_sweep();
 * conntrack_dump_json(), conntrack_flush() and conntrack_get_stats() may run from
 * another thread at the same time (an internal lock). */
#ifndef OVNIC_VSWITCH_CONNTRACK_H
#define OVNIC_VSWITCH_CONNTRACK_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpu/pipeline/ct.h"
#include "dpu/pipeline/packet.h"

struct conntrack;

/** The class: pass a struct conntrack * as the 'ct' of pipeline_config. */
extern const struct ct_class conntrack_class;

/** Limits and timeouts, in milliseconds.  0 takes the default in brackets. */
struct conntrack_config {
    size_t max_conns;         /* [262144] */
    uint32_t tcp_syn_ms;      /* SYN_SENT, SYN_RECV [30000] */
    uint32_t tcp_est_ms;      /* ESTABLISHED [86400000] */
    uint32_t tcp_fin_ms;      /* FIN_WAIT, CLOSE_WAIT, TIME_WAIT [30000] */
    uint32_t tcp_closed_ms;   /* CLOSED (after RST) [1000] */
    uint32_t udp_first_ms;    /* UDP, one direction seen [30000] */
    uint32_t udp_est_ms;      /* UDP, both directions [180000] */
    uint32_t icmp_ms;         /* ICMP echo [30000] */
    uint32_t other_ms;        /* Other protocols [60000] */
    bool tcp_liberal;         /* No sequence-window checks. */
    uint64_t (*now_ms)(void); /* Clock, for tests; NULL: time_msec(). */
};

struct conntrack_stats {
    uint64_t n_conns;      /* Connections held. */
    uint64_t n_created;    /* Connections created. */
    uint64_t n_expired;    /* Removed by timeout. */
    uint64_t n_lookups;    /* execute() calls. */
    uint64_t n_invalid;    /* Packets that got ct_state inv. */
    uint64_t n_full_drops; /* New connections refused: max_conns reached. */
    uint64_t n_nat;        /* Packets whose addresses or ports were rewritten. */
    uint64_t n_related;    /* ICMP errors found related. */
};

/** Creates an empty tracker.  'config' may be NULL (defaults).  Caller owns; free
 * with conntrack_destroy().  Errors: -EINVAL (a limit out of range), -ENOMEM. */
int conntrack_create(const struct conntrack_config *config, struct conntrack **ctp);

/** Frees 'ct' and its connections.  NULL is a no-op. */
void conntrack_destroy(struct conntrack *ct);

/** Gives the tracker the bytes of the packet that the next execute() calls are about
 * (the same packet the key was parsed from; 'layout' from packet_parse()), so that
 * TCP sequence numbers, windows and ICMP error payloads can be checked.  Both
 * borrowed until the next call; NULL clears (then TCP is tracked from the key's
 * flags alone, and an ICMP error is never "rel").  Datapath thread only. */
void conntrack_set_packet(struct conntrack *ct, const uint8_t *pkt, size_t len,
                          const struct packet_layout *layout);

/** After the operations on the packet given to conntrack_set_packet(): if one of
 * them found that packet to be an ICMP/ICMPv6 error related to a NAT connection and
 * translated its outer header, writes the same translation into the header it
 * quotes, in 'pkt' (the same frame, writable here; 'len' its length): addresses and
 * ports, the quoted IPv4 header checksum, the quoted TCP/UDP checksum when it is
 * quoted, and the ICMP checksum for the bytes changed.  The outer header is the
 * pipeline's to rewrite (its header changes).  Returns 1 if it rewrote, 0 if there
 * was nothing to rewrite.  Errors: -EINVAL ('len' is not the frame's). */
int conntrack_rewrite_related(struct conntrack *ct, uint8_t *pkt, size_t len);

/** Removes connections that have expired, at most 'max' of them (0: no limit).
 * Returns the number removed. */
size_t conntrack_sweep(struct conntrack *ct, size_t max);

/** Removes every connection of zone 'zone', or of every zone if 'zone' < 0.  Returns
 * the number removed. */
size_t conntrack_flush(struct conntrack *ct, int zone);

void conntrack_get_stats(const struct conntrack *ct, struct conntrack_stats *stats);

/** The connections of zone 'zone' (every zone if < 0), at most 'limit' (0: all), as
 * a JSON array of {"zone", "proto", "orig": {"src", "dst", "sport", "dport"},
 * "reply": {...}, "state", "mark", "label", "expires_ms", "nat": "snat"|"dnat"|...}
 * sorted by zone then original tuple.  Caller owns; NULL on allocation failure. */
json_t *conntrack_dump_json(const struct conntrack *ct, int zone, size_t limit);

/** The statistics as a JSON object (the members of struct conntrack_stats, plus
 * "max_conns").  Caller owns; NULL on allocation failure. */
json_t *conntrack_stats_json(const struct conntrack *ct);

#endif /* OVNIC_VSWITCH_CONNTRACK_H */
