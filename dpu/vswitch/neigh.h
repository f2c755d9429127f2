/* ovnic: the underlay neighbour table of the vswitch.
 *
 * The DPU's datapath owns its encap IP on the uplink: nothing in a kernel holds it.
 * So the vswitch answers ARP requests and IPv6 neighbour solicitations for it, and
 * resolves the MAC of each remote tunnel endpoint (or of the underlay gateway, for
 * endpoints outside the uplink's subnet) itself:
 *
 *   - neigh_lookup() gives a next hop's MAC, or says that a request must be sent
 *     (rate-limited: one per entry per 'retry_ms') and builds it;
 *   - neigh_input() takes every ARP and ICMPv6 ND frame that arrives on the uplink:
 *     replies and gratuitous announcements update the table; a request for the local
 *     IP gets a reply built into the caller's buffer;
 *   - entries expire after 'reachable_ms' without confirmation (then the next lookup
 *     sends a request but keeps using the old MAC until 'stale_ms' more have passed).
 *
 * Threads: lookups and input on the datapath thread; neigh_dump_json() and
 * neigh_flush() from any thread (an internal lock). */
#ifndef OVNIC_VSWITCH_NEIGH_H
#define OVNIC_VSWITCH_NEIGH_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct neigh_table;

struct neigh_config {
    const char *local_ip;    /* This chassis's encap IP ("192.168.100.11", "fd00::11"). */
    unsigned int prefix_len; /* The uplink subnet's prefix length (0: /24 or /64). */
    const char *gateway;     /* Next hop for endpoints outside it (must be inside
                              * it), or NULL: then every endpoint is on-link. */
    uint8_t local_mac[6];    /* The uplink's MAC. */
    uint32_t reachable_ms;   /* [300000] */
    uint32_t stale_ms;       /* [60000] */
    uint32_t retry_ms;       /* [1000] */
    size_t max_entries;      /* [4096] */
    uint64_t (*now_ms)(void); /* Clock, for tests; NULL: time_msec(). */
};

/** Creates an empty table.  Caller owns; free with neigh_destroy().
 * Errors: -EINVAL (bad local_ip or gateway), -ENOMEM. */
int neigh_create(const struct neigh_config *config, struct neigh_table **tablep);

void neigh_destroy(struct neigh_table *table);

enum neigh_result {
    NEIGH_FOUND,   /* '*mac' is set.  '*req_len' too: 0, or, for a stale entry, the
                    * length of a unicast refresh request built into 'req' that the
                    * caller sends as well (once per retry_ms). */
    NEIGH_REQUEST, /* Unknown (or expired): a request was built into 'req' (send it on
                    * the uplink); the packet waiting for it may be queued or dropped. */
    NEIGH_PENDING, /* A request is outstanding and the retry time has not passed. */
};

/** Resolves the next hop toward tunnel endpoint 'ip' (16 bytes, IPv4 in the first
 * 4; 'ipv6' says which).  On NEIGH_REQUEST the ARP request or neighbour solicitation
 * is written into 'req' ('size' bytes, at least 128) with its length in '*req_len'
 * (on NEIGH_PENDING neither is touched).
 * Returns a negative errno on error: -EINVAL (family differs from local_ip; 'ip'
 * unspecified, multicast, broadcast or the local IP), -ENOSPC (table full and
 * nothing to evict, or 'req' too small).  When the table is full, a dead entry or an
 * incomplete one whose last request is older than retry_ms makes room. */
int neigh_lookup(struct neigh_table *table, const uint8_t ip[16], bool ipv6,
                 uint8_t mac[6], uint8_t *req, size_t size, size_t *req_len);

/** Takes an ARP or ICMPv6 ND frame received on the uplink.  Learns from replies,
 * gratuitous ARP and NA, and from requests addressed to the local IP (their sender):
 * an ARP reply to the local IP, a request for it, or a solicited NA to it creates an
 * entry; a gratuitous ARP or an unsolicited NA only refreshes an existing one.
 * Other frames (IPv4, other ICMPv6, ARP/ND of the other family) are counted as
 * "ignored" and return 0.  A malformed frame is one that packet_parse() rejects, ARP
 * other than Ethernet/IPv4 request/reply or from a non-unicast MAC, or NS/NA that
 * fails RFC 4861's checks (hop limit 255, code 0, checksum, non-multicast target,
 * no solicited NA to multicast, DAD NS without SLL to multicast).
 * For a request for the local IP, writes the reply into 'reply' ('size' bytes, at
 * least 128), sets '*reply_len' and returns 1; otherwise returns 0.  Returns
 * -EINVAL for a malformed frame (counted), -ENOSPC. */
int neigh_input(struct neigh_table *table, const uint8_t *pkt, size_t len, uint8_t *reply,
                size_t size, size_t *reply_len);

/** Adds or replaces a static entry (never expires).  Errors: -EINVAL, -ENOSPC. */
int neigh_add_static(struct neigh_table *table, const char *ip, const uint8_t mac[6]);

/** Removes every learned entry.  Returns the number removed. */
size_t neigh_flush(struct neigh_table *table);

/** Removes the entries of no more use: learned ones unconfirmed for reachable_ms +
 * stale_ms, incomplete ones not requested for max(stale_ms, retry_ms).  Call it
 * periodically (any thread).  Returns the number removed. */
size_t neigh_expire(struct neigh_table *table);

/** The table as a JSON object {"local_ip", "local_mac", "gateway", "entries": [{"ip",
 * "mac" (or null while incomplete), "state": "reachable"|"stale"|"incomplete"|
 * "static", "age_ms", "requests"}], "stats": {"requests_sent", "replies_sent",
 * "learned", "malformed", "ignored"}}, entries sorted by IP ("gateway" null if none;
 * "age_ms": since the last confirmation, or since creation while incomplete).  Caller
 * owns; NULL on allocation failure. */
json_t *neigh_dump_json(const struct neigh_table *table);

#endif /* OVNIC_VSWITCH_NEIGH_H */
