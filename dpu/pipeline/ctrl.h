/* ovnic: what the controller actions of the pipeline build, as pure functions.
 *
 * A controller action (struct exec_ctrl from exec.h) describes a packet or an update
 * that the DPU's control plane produces.  Packet-generating actions (arp { },
 * nd_ns { }, nd_na { }, icmp4 { }, tcp_reset { }, ...) work in three steps, as in
 * OVN:
 *
 *   1. ctrl_packet_build() makes the base packet from the packet that reached the
 *      action (with the header changes of the walk so far applied);
 *   2. the action's nested actions run on the new packet's key (exec_run()), which
 *      gives header changes and where the packet goes (next, output);
 *   3. ctrl_packet_apply() writes those changes into the new packet's bytes and
 *      recomputes its checksums.
 *
 * The actions that pause the walk get their answer here: put_dhcp_opts the DHCP reply
 * (ctrl_dhcpv4_reply_build()), put_dhcpv6_opts the DHCPv6 reply
 * (ctrl_dhcpv6_reply_build()), put_nd_ra_opts the router advertisement
 * (ctrl_nd_ra_build()) and dns_lookup the DNS answer (ctrl_dns_reply_build()).  Each
 * replaces the payload of the request and keeps its Ethernet and IP headers: the flows
 * after the action rewrite those.  put_arp and put_nd give a MAC_Binding update
 * (ctrl_mac_binding_get()).
 *
 * Every function writes into a buffer the caller provides (nothing is allocated),
 * reads only [pkt, pkt + len), and rejects what it cannot build with a negative errno
 * and, where it takes one, a struct ovnic_err saying why ("not supported: ...").
 * docs/pipeline-actions.md describes each packet byte by byte. */
#ifndef OVNIC_PIPELINE_CTRL_H
#define OVNIC_PIPELINE_CTRL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpu/controller/actions.h"
#include "dpu/pipeline/exec.h"
#include "shared/util/err.h"

/* Total size of the IPv4 datagram icmp4_error { } quotes into (RFC 1812), and of the
 * IPv6 packet icmp6_error { } fills (the IPv6 minimum MTU). */
#define CTRL_ICMP4_ERROR_MAX 576
#define CTRL_ICMP6_ERROR_MAX 1280

/** Builds the base packet of nested action 'type' (ACTION_ARP, ACTION_ND_NS,
 * ACTION_ND_NA, ACTION_ND_NA_ROUTER, ACTION_ICMP4, ACTION_ICMP4_ERROR, ACTION_ICMP6,
 * ACTION_ICMP6_ERROR, ACTION_TCP_RESET, ACTION_SCTP_ABORT, ACTION_REJECT) from the
 * Ethernet frame
 * [pkt, pkt + len) into 'out' ('size' bytes), storing its length in '*out_len'.
 *
 * Errors: -EINVAL (the frame is malformed or not of the kind the action needs, e.g.
 * arp { } on a non-IPv4 frame, sctp_abort on an SCTP ABORT), -ENOSPC ('out' too
 * small).  'err' (may be NULL) says which. */
int ctrl_packet_build(enum action_type type, const uint8_t *pkt, size_t len, uint8_t *out,
                      size_t size, size_t *out_len, struct ovnic_err *err);

/** Writes into the frame [pkt, pkt + len) the header changes r->changes[first..] and,
 * if r->has_frag_mtu, the MTU of an ICMPv4 "fragmentation needed" or ICMPv6 "packet
 * too big" message, then recomputes the IPv4 header checksum and the TCP, UDP, ICMPv4
 * or ICMPv6 checksum.
 *
 * Errors: -EINVAL (malformed frame, or a change to a header the frame lacks),
 * -EOPNOTSUPP (a change that needs a new header, e.g. a VLAN tag on an untagged frame,
 * or an SCTP port: its CRC32c is not recomputed).  On failure the frame may be
 * partly rewritten. */
int ctrl_packet_apply(uint8_t *pkt, size_t len, const struct exec_result *r, size_t first,
                      struct ovnic_err *err);

/** Builds the reply of put_dhcp_opts 'action' (borrowed) to the DHCP request in the
 * frame [pkt, pkt + len) (Ethernet, IPv4, UDP to port 67): DHCPOFFER for a
 * DHCPDISCOVER, DHCPACK for a DHCPREQUEST for the offered address (DHCPNAK for another)
 * and for a DHCPINFORM (without address or lease options).  The Ethernet, IP and UDP
 * headers are those of the request (the flows after put_dhcp_opts rewrite them).
 *
 * Errors: -EINVAL (not a DHCP request, a message type that gets no reply, an option
 * value that cannot be encoded; 'err' says which), -ENOSPC. */
int ctrl_dhcpv4_reply_build(const struct action *action, const uint8_t *pkt, size_t len,
                            uint8_t *out, size_t size, size_t *out_len,
                            struct ovnic_err *err);

/** Builds the reply of put_dhcpv6_opts 'action' (borrowed) to the DHCPv6 message in
 * the frame [pkt, pkt + len) (Ethernet, IPv6, UDP to port 547): ADVERTISE for a
 * SOLICIT; REPLY for a REQUEST, CONFIRM, RENEW, REBIND or INFORMATION-REQUEST.  The
 * reply carries the message's transaction id and Client Identifier, then the action's
 * options in the order written: server_id as a DUID-LL Server Identifier, ia_addr in
 * an IA_NA with the client's IAID (not for an INFORMATION-REQUEST), dns_server,
 * domain_search (DNS names), bootfile_name (Boot File URL; bootfile_name_alt instead
 * for a client whose User Class is "iPXE").
 *
 * Errors: -EINVAL (not a DHCPv6 client message, a message type that gets no reply, a
 * malformed option, no Client Identifier, no IA_NA where one is needed, an option
 * value that cannot be encoded; 'err' says which), -ENOSPC. */
int ctrl_dhcpv6_reply_build(const struct action *action, const uint8_t *pkt, size_t len,
                            uint8_t *out, size_t size, size_t *out_len,
                            struct ovnic_err *err);

/** Builds the router advertisement of put_nd_ra_opts 'action' (borrowed) that answers
 * the router solicitation in the frame [pkt, pkt + len) (Ethernet, IPv6, ICMPv6 type
 * 133): hop limit 255, the M flag for addr_mode "dhcpv6_stateful", O for
 * "dhcpv6_stateless", the router preference, router lifetime 65535, then the options
 * in the order written (slla: source link-layer address; mtu; each prefix: prefix
 * information, on-link, autonomous unless stateful, infinite lifetimes; rdnss; dnssl;
 * route_info "PRF-PREFIX/LEN,...").
 *
 * Errors: -EINVAL (not a router solicitation, an option value that cannot be
 * encoded), -ENOSPC. */
int ctrl_nd_ra_build(const struct action *action, const uint8_t *pkt, size_t len,
                     uint8_t *out, size_t size, size_t *out_len, struct ovnic_err *err);

/** What dns_lookup answers from: the value of the DNS record called 'name' (lower
 * case, labels joined by '.', no final dot), or NULL.  A value is a space-separated
 * list of IPv4 and IPv6 addresses, or for a reverse name ("5.0.0.10.in-addr.arpa") a
 * host name.  The string must stay valid until the builder returns. */
typedef const char *ctrl_dns_lookup_fn(void *aux, const char *name);

/** Builds the answer of dns_lookup to the DNS query in the frame [pkt, pkt + len)
 * (Ethernet, IPv4 or IPv6, UDP), looking its first question up with 'lookup' ('aux'
 * passed along): the query's header with QR set, one question and the answers (A, AAAA,
 * both for ANY, or PTR; class IN, TTL 3600), no authority or additional records.
 *
 * Errors: -EINVAL (not a DNS query, a malformed question, a record that cannot be
 * encoded), -ENOENT (no record of that name, or none of the queried type), -EOPNOTSUPP
 * (a query type other than A, AAAA, ANY and PTR; an opcode other than QUERY),
 * -ENOSPC. */
int ctrl_dns_reply_build(ctrl_dns_lookup_fn *lookup, void *aux, const uint8_t *pkt,
                         size_t len, uint8_t *out, size_t size, size_t *out_len,
                         struct ovnic_err *err);

/** A MAC_Binding update, from put_arp or put_nd. */
struct ctrl_mac_binding {
    uint32_t datapath;
    uint32_t port; /* Logical port tunnel key. */
    bool ipv6;
    lex_u128 ip;
    uint8_t mac[6];
};

/** Fills '*mb' from 'c', a put_arp or put_nd controller action.
 * Errors: -EINVAL (another action). */
int ctrl_mac_binding_get(const struct exec_ctrl *c, struct ctrl_mac_binding *mb);

/** The Internet checksum (RFC 1071) of [p, p + n), folded and complemented, added to
 * 'sum' (a partial sum, e.g. of a pseudo-header).  Returned in host byte order. */
uint16_t ctrl_csum(const void *p, size_t n, uint32_t sum);

#endif /* OVNIC_PIPELINE_CTRL_H */
