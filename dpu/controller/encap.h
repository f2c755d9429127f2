/* ovnic: the Encap rows of the other chassis, checked once per SB change.
 *
 * A tunnel to another chassis goes to the "ip" of its Encap row.  That text comes
 * from the SB, where anyone with write access may put anything: "not-an-ip", "",
 * "::1", "0.0.0.0", "255.255.255.255", or an address of the family the underlay does
 * not use.  Such a row cannot carry a tunnel, and the packets toward that chassis's
 * ports are dropped.  encap_ip_refusal() says why an address is refused, and struct
 * encap_check keeps the list of the refused rows, so that each is logged once (when it
 * appears, not for each packet or step) and shown in ovnic-dpud's status, and goes
 * away when the row is fixed or deleted. */
#ifndef OVNIC_CONTROLLER_ENCAP_H
#define OVNIC_CONTROLLER_ENCAP_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "shared/util/uuid.h"

struct ovsdb_replica;

/** Why 'ip' (the text of an Encap "ip") cannot be a tunnel endpoint, or NULL if it
 * can.  'underlay_family' is AF_INET or AF_INET6, the family of the underlay, or
 * AF_UNSPEC to accept either.  The reasons (static text) are "not an IP address", "a
 * loopback address", "the unspecified address", "a broadcast address", "a multicast
 * address", "an IPv6 address, but the underlay is IPv4" and "an IPv4 address, but the
 * underlay is IPv6". */
const char *encap_ip_refusal(const char *ip, int underlay_family);

/* One refused Encap row. */
struct encap_bad {
    struct uuid uuid;   /* Of the Encap row. */
    char *chassis;      /* Chassis.name of the chassis whose "encaps" holds it. */
    char *type;         /* Encap "type", e.g. "geneve". */
    char *ip;           /* Encap "ip", as the SB holds it. */
    const char *reason; /* encap_ip_refusal(). */
};

struct encap_check {
    struct encap_bad *bad; /* Sorted by chassis, then ip, then uuid. */
    size_t n_bad;
};

void encap_check_init(struct encap_check *check);
void encap_check_destroy(struct encap_check *check);

/** True if the Chassis or Encap table of 'replica' has tracked changes: then
 * encap_check_run() may find something new. */
bool encap_check_is_needed(const struct ovsdb_replica *replica);

/** Checks the Encap rows of every chassis of 'replica' except 'own_chassis' (this
 * chassis's name; may be NULL) against 'underlay_family' (as encap_ip_refusal()), and
 * makes 'check' the list of those refused.  A row newly refused (or refused with
 * another ip) is logged as a warning, a row no longer refused at info level, both
 * rate-limited.  '*changed' (may be NULL) says whether the list changed.  Returns 0,
 * or -ENOMEM (then 'check' is left as it was). */
int encap_check_run(struct encap_check *check, const struct ovsdb_replica *replica,
                    const char *own_chassis, int underlay_family, bool *changed);

/** The refused rows: [{"chassis", "type", "ip", "reason", "encap_uuid"}], in the order
 * of 'check'.  Caller owns; NULL on allocation failure. */
json_t *encap_check_to_json(const struct encap_check *check);

#endif /* OVNIC_CONTROLLER_ENCAP_H */
