#!/usr/bin/env python3
"""A small stateful DHCPv6 client (RFC 8415) for the ovnic end-to-end scenarios.

It runs one SOLICIT / ADVERTISE / REQUEST / REPLY exchange on one interface and
prints what the server assigned as JSON: the IA_NA address with its lifetimes, the
server's DUID and the DNS servers and domain search list it sent.  It does not
configure the address (the caller does, with what it prints) and does not renew.

Only the standard library is used.  Messages from the server are parsed strictly:
an option running past its container, a wrong length, a foreign transaction id or
Client Identifier, a missing Server Identifier or an error status is reported (on
stderr) and the message discarded; when no acceptable answer arrives before the
retransmissions run out, the exit status is 1 with the last reason.

With --router-solicit it first sends router solicitations until a router
advertisement arrives and reports its M and O flags and prefixes (with
--require-managed, an advertisement without the M flag is a failure).

Usage: dhcpv6_client.py [--iface eth0] [--timeout S] [--ll-wait S] [--no-collect]
                        [--router-solicit [--require-managed]]
Exit status: 0 assigned, 1 no (valid) answer, 2 bad usage or local setup problem.
"""

import argparse
import ipaddress
import json
import os
import random
import select
import socket
import struct
import sys
import time

CLIENT_PORT = 546
SERVER_PORT = 547
ALL_SERVERS = "ff02::1:2"

SOLICIT, ADVERTISE, REQUEST, REPLY = 1, 2, 3, 7
MSG_NAMES = {1: "SOLICIT", 2: "ADVERTISE", 3: "REQUEST", 4: "CONFIRM", 5: "RENEW",
             6: "REBIND", 7: "REPLY", 8: "RELEASE", 9: "DECLINE", 10: "RECONFIGURE",
             11: "INFORMATION-REQUEST", 12: "RELAY-FORW", 13: "RELAY-REPL"}

OPT_CLIENTID, OPT_SERVERID, OPT_IA_NA, OPT_IAADDR = 1, 2, 3, 5
OPT_ORO, OPT_PREFERENCE, OPT_ELAPSED_TIME, OPT_STATUS_CODE = 6, 7, 8, 13
OPT_DNS_SERVERS, OPT_DOMAIN_LIST = 23, 24
STATUS_NAMES = {0: "Success", 1: "UnspecFail", 2: "NoAddrsAvail", 3: "NoBinding",
                4: "NotOnLink", 5: "UseMulticast", 6: "NoPrefixAvail"}

# Retransmission parameters (RFC 8415 section 7.6), in seconds.
SOL_TIMEOUT, SOL_MAX_RT = 1.0, 3600.0
REQ_TIMEOUT, REQ_MAX_RT, REQ_MAX_RC = 1.0, 30.0, 10

IFA_F_DADFAILED = 0x08
IFA_F_TENTATIVE = 0x40


class ParseError(Exception):
    """A message from the server that is malformed or not for this client."""


class SetupError(Exception):
    """A local problem: no such interface, no link-local address, no socket."""


def log(msg):
    print("dhcpv6_client: " + msg, file=sys.stderr, flush=True)


# ---- Encoding. ----

def option(code, value=b""):
    if len(value) > 0xffff:
        raise ValueError("option %d too long" % code)
    return struct.pack("!HH", code, len(value)) + value


def duid_ll(mac):
    """DUID-LL (type 3), hardware type Ethernet (1), the MAC."""
    return struct.pack("!HH", 3, 1) + mac


def ia_na(iaid, addrs=()):
    """IA_NA with T1 = T2 = 0 (the server chooses), an IA Address per (addr, pl, vl)."""
    body = struct.pack("!III", iaid, 0, 0)
    for addr, preferred, valid in addrs:
        body += option(OPT_IAADDR, ipaddress.IPv6Address(addr).packed
                       + struct.pack("!II", preferred, valid))
    return option(OPT_IA_NA, body)


def message(msg_type, xid, options):
    return bytes([msg_type]) + xid + b"".join(options)


def elapsed_option(start):
    """Elapsed Time in hundredths of a second, 0xffff when longer than that."""
    hundredths = int((time.monotonic() - start) * 100)
    return option(OPT_ELAPSED_TIME, struct.pack("!H", min(hundredths, 0xffff)))


# ---- Parsing. ----

def parse_options(data, where):
    """The options in 'data' as a list of (code, value); strict on lengths."""
    opts = []
    pos = 0
    while pos < len(data):
        if len(data) - pos < 4:
            raise ParseError("%s: %d trailing bytes, shorter than an option header"
                             % (where, len(data) - pos))
        code, length = struct.unpack_from("!HH", data, pos)
        if length > len(data) - pos - 4:
            raise ParseError("%s: option %d claims %d bytes, only %d left"
                             % (where, code, length, len(data) - pos - 4))
        opts.append((code, data[pos + 4:pos + 4 + length]))
        pos += 4 + length
    return opts


def only_one(opts, code, name, where):
    values = [v for c, v in opts if c == code]
    if len(values) > 1:
        raise ParseError("%s: %d %s options, at most one allowed"
                         % (where, len(values), name))
    return values[0] if values else None


def parse_status(value, where):
    if len(value) < 2:
        raise ParseError("%s: Status Code option of %d bytes, at least 2 needed"
                         % (where, len(value)))
    code = struct.unpack_from("!H", value)[0]
    try:
        text = value[2:].decode("utf-8")
    except UnicodeDecodeError as e:
        raise ParseError("%s: Status Code message is not UTF-8: %s" % (where, e))
    return code, text


def check_status(opts, where):
    value = only_one(opts, OPT_STATUS_CODE, "Status Code", where)
    if value is None:
        return
    code, text = parse_status(value, where)
    if code != 0:
        raise ParseError("%s: status %d (%s): %s"
                         % (where, code, STATUS_NAMES.get(code, "unknown"), text))


def parse_domains(value):
    """Domain Search List: uncompressed DNS names (RFC 8415 section 10)."""
    names = []
    pos = 0
    while pos < len(value):
        labels = []
        total = 1
        while True:
            if pos >= len(value):
                raise ParseError("Domain Search List: name not terminated by a "
                                 "zero label")
            n = value[pos]
            pos += 1
            if n == 0:
                break
            if n > 63:
                raise ParseError("Domain Search List: label length %d (compressed "
                                 "or over 63)" % n)
            if n > len(value) - pos:
                raise ParseError("Domain Search List: label of %d bytes runs past "
                                 "the option" % n)
            total += n + 1
            if total > 255:
                raise ParseError("Domain Search List: name longer than 255 bytes")
            try:
                labels.append(value[pos:pos + n].decode("ascii"))
            except UnicodeDecodeError:
                raise ParseError("Domain Search List: label is not ASCII")
            pos += n
        if not labels:
            raise ParseError("Domain Search List: empty (root) name")
        names.append(".".join(labels))
    return names


def parse_ia_na(value, iaid):
    where = "IA_NA"
    if len(value) < 12:
        raise ParseError("IA_NA of %d bytes, at least 12 needed" % len(value))
    got_iaid, t1, t2 = struct.unpack_from("!III", value)
    if got_iaid != iaid:
        raise ParseError("IA_NA for IAID %#x, ours is %#x" % (got_iaid, iaid))
    if t1 > t2 and t2 != 0:
        raise ParseError("IA_NA with T1 %d greater than T2 %d" % (t1, t2))
    opts = parse_options(value[12:], where)
    check_status(opts, where)
    addrs = []
    for code, v in opts:
        if code != OPT_IAADDR:
            continue
        if len(v) < 24:
            raise ParseError("IA Address option of %d bytes, at least 24 needed"
                             % len(v))
        addr = ipaddress.IPv6Address(v[:16])
        preferred, valid = struct.unpack_from("!II", v, 16)
        sub = parse_options(v[24:], "IA Address")
        check_status(sub, "IA Address %s" % addr)
        if preferred > valid:
            raise ParseError("IA Address %s: preferred lifetime %d greater than "
                             "valid lifetime %d" % (addr, preferred, valid))
        if valid == 0:
            continue  # Withdrawn: not an assignment.
        if addr.is_multicast or addr.is_link_local or addr.is_unspecified \
                or addr.is_loopback:
            raise ParseError("IA Address %s is not a unicast global address" % addr)
        addrs.append({"address": str(addr), "preferred_lifetime": preferred,
                      "valid_lifetime": valid})
    if not addrs:
        raise ParseError("IA_NA without a usable IA Address")
    return {"iaid": iaid, "t1": t1, "t2": t2, "addresses": addrs}


def parse_reply(data, want_type, xid, client_duid, iaid, server_duid=None):
    """Checks and decodes an ADVERTISE or REPLY for this client's transaction."""
    if len(data) < 4:
        raise ParseError("message of %d bytes, shorter than a DHCPv6 header"
                         % len(data))
    msg_type = data[0]
    name = MSG_NAMES.get(msg_type, "type %d" % msg_type)
    if msg_type != want_type:
        raise ParseError("got %s, waiting for %s" % (name, MSG_NAMES[want_type]))
    if data[1:4] != xid:
        raise ParseError("%s with transaction id %s, ours is %s"
                         % (name, data[1:4].hex(), xid.hex()))
    opts = parse_options(data[4:], name)

    cid = only_one(opts, OPT_CLIENTID, "Client Identifier", name)
    if cid is None:
        raise ParseError("%s without Client Identifier" % name)
    if cid != client_duid:
        raise ParseError("%s for client %s, ours is %s"
                         % (name, cid.hex(), client_duid.hex()))
    sid = only_one(opts, OPT_SERVERID, "Server Identifier", name)
    if sid is None:
        raise ParseError("%s without Server Identifier" % name)
    if not 2 < len(sid) <= 130:
        raise ParseError("%s: Server Identifier of %d bytes" % (name, len(sid)))
    if server_duid is not None and sid != server_duid:
        raise ParseError("%s from server %s, we requested from %s"
                         % (name, sid.hex(), server_duid.hex()))
    check_status(opts, name)

    pref = only_one(opts, OPT_PREFERENCE, "Preference", name)
    if pref is not None and len(pref) != 1:
        raise ParseError("%s: Preference option of %d bytes, 1 expected"
                         % (name, len(pref)))
    ias = [v for c, v in opts if c == OPT_IA_NA]
    ia = None
    for v in ias:
        if len(v) >= 4 and struct.unpack_from("!I", v)[0] == iaid:
            if ia is not None:
                raise ParseError("%s: two IA_NA options for IAID %#x" % (name, iaid))
            ia = parse_ia_na(v, iaid)
    if ia is None:
        raise ParseError("%s without an IA_NA for IAID %#x (%d IA_NA options)"
                         % (name, iaid, len(ias)))

    dns = []
    value = only_one(opts, OPT_DNS_SERVERS, "DNS Recursive Name Server", name)
    if value is not None:
        if len(value) % 16:
            raise ParseError("%s: DNS Recursive Name Server option of %d bytes, not "
                             "a multiple of 16" % (name, len(value)))
        dns = [str(ipaddress.IPv6Address(value[i:i + 16]))
               for i in range(0, len(value), 16)]
    domains = []
    value = only_one(opts, OPT_DOMAIN_LIST, "Domain Search List", name)
    if value is not None:
        domains = parse_domains(value)

    return {"type": name, "server_duid": sid.hex(),
            "preference": pref[0] if pref is not None else 0,
            "ia_na": ia, "dns_servers": dns, "domain_search": domains,
            "option_codes": sorted({c for c, _ in opts})}


# ---- The interface. ----

def read_mac(iface):
    try:
        with open("/sys/class/net/%s/address" % iface) as f:
            text = f.read().strip()
    except OSError as e:
        raise SetupError("no interface %s: %s" % (iface, e))
    parts = text.split(":")
    if len(parts) != 6:
        raise SetupError("%s has no Ethernet address (%r)" % (iface, text))
    return bytes(int(p, 16) for p in parts)


def link_local(iface):
    """(address, flags) of iface's link-local addresses, from /proc/net/if_inet6."""
    found = []
    try:
        with open("/proc/net/if_inet6") as f:
            for line in f:
                fields = line.split()
                if len(fields) != 6 or fields[5] != iface:
                    continue
                addr = ipaddress.IPv6Address(bytes.fromhex(fields[0]))
                if addr.is_link_local:
                    found.append((addr, int(fields[4], 16)))
    except OSError as e:
        raise SetupError("cannot read /proc/net/if_inet6: %s" % e)
    return found


def wait_link_local(iface, seconds):
    """Waits until iface has a usable (not tentative) link-local address."""
    deadline = time.monotonic() + seconds
    while True:
        lls = link_local(iface)
        for addr, flags in lls:
            if flags & IFA_F_DADFAILED:
                raise SetupError("link-local %s of %s failed DAD" % (addr, iface))
            if not flags & IFA_F_TENTATIVE:
                return addr
        if time.monotonic() >= deadline:
            raise SetupError("%s has no usable link-local address after %.1f s (%s)"
                             % (iface, seconds,
                                ", ".join("%s tentative" % a for a, _ in lls)
                                or "none"))
        time.sleep(0.1)


def open_socket(iface, ifindex):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode() + b"\0")
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
        s.bind(("::", CLIENT_PORT, 0, ifindex))
    except OSError as e:
        s.close()
        raise SetupError("UDP socket on [::]:%d dev %s: %s" % (CLIENT_PORT, iface, e))
    return s


# ---- Router solicitation (RFC 4861), to see the M and O flags. ----

ND_RS, ND_RA = 133, 134
RA_MANAGED, RA_OTHER = 0x80, 0x40
PI_ON_LINK, PI_AUTONOMOUS = 0x80, 0x40
ALL_ROUTERS = "ff02::2"


def parse_ra(data, hop_limit):
    """Checks and decodes a router advertisement (ICMPv6 message, no IPv6 header)."""
    if hop_limit is not None and hop_limit != 255:
        raise ParseError("router advertisement with hop limit %d, 255 required"
                         % hop_limit)
    if len(data) < 16:
        raise ParseError("router advertisement of %d bytes, at least 16 needed"
                         % len(data))
    if data[0] != ND_RA or data[1] != 0:
        raise ParseError("ICMPv6 type %d code %d, not a router advertisement"
                         % (data[0], data[1]))
    cur_hop_limit, flags, lifetime = struct.unpack_from("!BBH", data, 4)
    ra = {"managed": bool(flags & RA_MANAGED), "other": bool(flags & RA_OTHER),
          "router_lifetime": lifetime, "cur_hop_limit": cur_hop_limit,
          "prefixes": [], "mtu": None, "source_mac": None}
    pos = 16
    while pos < len(data):
        if len(data) - pos < 2:
            raise ParseError("router advertisement: trailing byte after the options")
        code, units = data[pos], data[pos + 1]
        if units == 0:
            raise ParseError("router advertisement: option %d of length 0" % code)
        if units * 8 > len(data) - pos:
            raise ParseError("router advertisement: option %d of %d bytes runs past "
                             "the message" % (code, units * 8))
        value = data[pos:pos + units * 8]
        if code == 1:
            ra["source_mac"] = ":".join("%02x" % b for b in value[2:8])
        elif code == 3:
            if units != 4:
                raise ParseError("prefix information of length %d, 4 expected" % units)
            plen, pflags, valid, preferred = struct.unpack_from("!BBII", value, 2)
            if plen > 128:
                raise ParseError("prefix information with prefix length %d" % plen)
            prefix = ipaddress.IPv6Address(value[16:32])
            ra["prefixes"].append({"prefix": "%s/%d" % (prefix, plen),
                                   "on_link": bool(pflags & PI_ON_LINK),
                                   "autonomous": bool(pflags & PI_AUTONOMOUS),
                                   "valid_lifetime": valid,
                                   "preferred_lifetime": preferred})
        elif code == 5:
            if units != 1:
                raise ParseError("MTU option of length %d, 1 expected" % units)
            ra["mtu"] = struct.unpack_from("!I", value, 4)[0]
        pos += units * 8
    return ra


def solicit_router(iface, ifindex, mac, deadline):
    """Sends router solicitations (every second) until a router advertisement
    arrives; returns it decoded with the router's address."""
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode() + b"\0")
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
    except OSError as e:
        s.close()
        raise SetupError("ICMPv6 socket on %s: %s" % (iface, e))
    # Type, code, checksum (the kernel fills it), reserved; source link-layer address.
    rs = struct.pack("!BBHI", ND_RS, 0, 0, 0) + bytes([1, 1]) + mac
    last_error = "no answer"
    try:
        while time.monotonic() < deadline:
            try:
                s.sendto(rs, (ALL_ROUTERS, 0, 0, ifindex))
            except OSError as e:
                raise SetupError("send router solicitation: %s" % e)
            log("sent router solicitation")
            timer = min(time.monotonic() + 1.0, deadline)
            while True:
                wait = timer - time.monotonic()
                if wait <= 0:
                    break
                ready, _, _ = select.select([s], [], [], wait)
                if not ready:
                    break
                data, anc, _, src = s.recvmsg(65535, socket.CMSG_SPACE(4))
                if not data or data[0] != ND_RA:
                    continue  # Other ICMPv6 traffic (our own RS, ND, ...).
                hop_limit = None
                for level, kind, value in anc:
                    if level == socket.IPPROTO_IPV6 and kind == socket.IPV6_HOPLIMIT \
                            and len(value) >= 4:
                        hop_limit = struct.unpack("=i", value[:4])[0]
                try:
                    ra = parse_ra(data, hop_limit)
                except ParseError as e:
                    last_error = str(e)
                    log("discarded router advertisement from %s: %s" % (src[0], e))
                    continue
                router = ipaddress.IPv6Address(src[0].split("%")[0])
                if not router.is_link_local:
                    last_error = "router advertisement from %s, not link-local" % router
                    log(last_error)
                    continue
                ra["router"] = str(router)
                log("received router advertisement from %s" % router)
                return ra
    finally:
        s.close()
    raise TimeoutError("no valid router advertisement: %s" % last_error)


# ---- The exchange. ----

class Exchange:
    """One message sent and retransmitted (RFC 8415 section 15) until answered."""

    def __init__(self, sock, ifindex, irt, mrt, mrc, deadline):
        self.sock, self.ifindex = sock, ifindex
        self.irt, self.mrt, self.mrc, self.deadline = irt, mrt, mrc, deadline
        self.last_error = "no answer"

    def run(self, build, accept, collect_first_rt=False):
        """Sends build(start) and retransmits it; accept(data, src) returns a result
        or raises ParseError.  With collect_first_rt, answers are gathered until the
        first timeout and the best one (highest 'preference') is returned, unless one
        has preference 255."""
        start = time.monotonic()
        rt = self.irt * (1 + random.uniform(-0.1, 0.1))
        count = 0
        best = None
        while True:
            now = time.monotonic()
            if now >= self.deadline:
                return best
            if self.mrc and count >= self.mrc:
                return best
            data = build(start)
            count += 1
            try:
                self.sock.sendto(data, (ALL_SERVERS, SERVER_PORT, 0, self.ifindex))
            except OSError as e:
                raise SetupError("send to [%s]:%d: %s" % (ALL_SERVERS, SERVER_PORT, e))
            log("sent %s (%d bytes, try %d)" % (MSG_NAMES[data[0]], len(data), count))
            timer = min(time.monotonic() + rt, self.deadline)
            while True:
                wait = timer - time.monotonic()
                if wait <= 0:
                    break
                ready, _, _ = select.select([self.sock], [], [], wait)
                if not ready:
                    break
                reply, src = self.sock.recvfrom(65535)
                try:
                    result = accept(reply, src)
                except ParseError as e:
                    self.last_error = str(e)
                    log("discarded %d bytes from %s: %s" % (len(reply), src[0], e))
                    continue
                log("received %s (%d bytes) from %s"
                    % (result["type"], len(reply), src[0]))
                if not collect_first_rt or result["preference"] == 255:
                    return result
                if best is None or result["preference"] > best["preference"]:
                    best = result
            if best is not None:
                return best
            # Next timeout: RT = 2 RT + RAND, capped at MRT (+ RAND).
            rt = 2 * rt + random.uniform(-0.1, 0.1) * rt
            if self.mrt and rt > self.mrt:
                rt = self.mrt * (1 + random.uniform(-0.1, 0.1))


def run(args):
    iface = args.iface
    mac = read_mac(iface)
    try:
        ifindex = socket.if_nametoindex(iface)
    except OSError as e:
        raise SetupError("no interface %s: %s" % (iface, e))
    ll = wait_link_local(iface, args.ll_wait)
    deadline = time.monotonic() + args.timeout
    ra = None
    if args.router_solicit:
        ra = solicit_router(iface, ifindex, mac, deadline)
        if args.require_managed and not ra["managed"]:
            raise TimeoutError("router %s does not set the M flag: no stateful "
                               "DHCPv6 on this link" % ra["router"])
    sock = open_socket(iface, ifindex)

    client_duid = duid_ll(mac)
    iaid = struct.unpack("!I", mac[2:])[0]
    oro = option(OPT_ORO, struct.pack("!HH", OPT_DNS_SERVERS, OPT_DOMAIN_LIST))
    common = [option(OPT_CLIENTID, client_duid)]

    def src_ok(src):
        addr = ipaddress.IPv6Address(src[0].split("%")[0])
        if src[1] != SERVER_PORT:
            raise ParseError("from port %d, not %d" % (src[1], SERVER_PORT))
        return str(addr)

    # SOLICIT until an ADVERTISE.
    xid = os.urandom(3)

    def build_solicit(start):
        return message(SOLICIT, xid, common + [ia_na(iaid), elapsed_option(start), oro])

    def accept_advertise(data, src):
        server = src_ok(src)
        result = parse_reply(data, ADVERTISE, xid, client_duid, iaid)
        result["server_address"] = server
        return result

    ex = Exchange(sock, ifindex, SOL_TIMEOUT, SOL_MAX_RT, 0, deadline)
    adv = ex.run(build_solicit, accept_advertise, collect_first_rt=args.collect)
    if adv is None:
        raise TimeoutError("no valid ADVERTISE in %.1f s: %s" % (args.timeout,
                                                                  ex.last_error))

    # REQUEST the advertised addresses from the chosen server, until a REPLY.
    server_duid = bytes.fromhex(adv["server_duid"])
    xid = os.urandom(3)
    wanted = [(a["address"], 0, 0) for a in adv["ia_na"]["addresses"]]

    def build_request(start):
        return message(REQUEST, xid, common + [option(OPT_SERVERID, server_duid),
                                               ia_na(iaid, wanted),
                                               elapsed_option(start), oro])

    def accept_reply(data, src):
        server = src_ok(src)
        result = parse_reply(data, REPLY, xid, client_duid, iaid, server_duid)
        result["server_address"] = server
        return result

    ex = Exchange(sock, ifindex, REQ_TIMEOUT, REQ_MAX_RT, REQ_MAX_RC, deadline)
    reply = ex.run(build_request, accept_reply)
    sock.close()
    if reply is None:
        raise TimeoutError("no valid REPLY in %.1f s: %s" % (args.timeout,
                                                              ex.last_error))

    first = reply["ia_na"]["addresses"][0]
    return {
        "interface": iface,
        "link_local": str(ll),
        "client_duid": client_duid.hex(),
        "iaid": iaid,
        "server_duid": reply["server_duid"],
        "server_address": reply["server_address"],
        "address": first["address"],
        "preferred_lifetime": first["preferred_lifetime"],
        "valid_lifetime": first["valid_lifetime"],
        "t1": reply["ia_na"]["t1"],
        "t2": reply["ia_na"]["t2"],
        "addresses": reply["ia_na"]["addresses"],
        "advertised": [a["address"] for a in adv["ia_na"]["addresses"]],
        "dns_servers": reply["dns_servers"],
        "domain_search": reply["domain_search"],
        "reply_options": reply["option_codes"],
        "router_advertisement": ra,
    }


def main():
    p = argparse.ArgumentParser(description="One stateful DHCPv6 exchange; prints "
                                "the assignment as JSON.")
    p.add_argument("--iface", default="eth0", help="interface (default eth0)")
    p.add_argument("--timeout", type=float, default=20.0,
                   help="seconds for the whole exchange (default 20)")
    p.add_argument("--ll-wait", type=float, default=5.0,
                   help="seconds to wait for a link-local address (default 5)")
    p.add_argument("--no-collect", dest="collect", action="store_false",
                   help="take the first valid ADVERTISE instead of collecting them "
                   "for the first retransmission timeout")
    p.add_argument("--router-solicit", action="store_true",
                   help="first solicit a router advertisement and report its flags "
                   "and prefixes (key router_advertisement)")
    p.add_argument("--require-managed", action="store_true",
                   help="with --router-solicit: fail unless the advertisement has "
                   "the M (managed address configuration) flag")
    args = p.parse_args()
    if args.require_managed and not args.router_solicit:
        p.error("--require-managed needs --router-solicit")
    if args.timeout <= 0 or args.ll_wait < 0:
        p.error("--timeout must be positive and --ll-wait not negative")
    try:
        result = run(args)
    except SetupError as e:
        log(str(e))
        return 2
    except TimeoutError as e:
        log(str(e))
        return 1
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
