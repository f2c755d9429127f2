#!/usr/bin/env bash
# End to end: stateful DHCPv6 answered by ovnic-dpud's DPDK datapath.
# ls1 holds a DHCP_Options row for fd00:1::/64 (server_id, dns_server, domain_search)
# and two ports listing "MAC fd00:1::1N" with those options, vm1 on hv1 and vm2 on hv2
# (vm3 on hv2 has no DHCPv6 options, and no answer);
# the router port lr1-ls1 announces ipv6_ra_configs:address_mode=dhcpv6_stateful.
# In each VM (namespace) tests/e2e/dhcpv6_client.py solicits a router advertisement
# (M flag, prefix on-link but not autonomous, built by put_nd_ra_opts), then runs
# SOLICIT / ADVERTISE / REQUEST / REPLY against ovnic (put_dhcpv6_opts) and prints the
# assignment as JSON.  The address must be the one the logical port lists, the DNS
# server and domain search list those of the DHCP_Options row, the server's DUID and
# link-local address those of server_id.  The VM configures ADDR/128 (the on-link
# prefix comes from the advertisement) and the VMs ping6 each other across the hosts
# (Geneve) and the router.
#
# Usage: e2e_dhcpv6.sh BUILD-DIR [--keep]   (root; exit 77 when it cannot run here)
set -euo pipefail

BUILD=$(cd "${1:?usage: e2e_dhcpv6.sh BUILD-DIR}" && pwd)
KEEP=${2:-}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
CLIENT="$TOP/tests/e2e/dhcpv6_client.py"
command -v python3 >/dev/null || { echo "e2e: python3 not installed" >&2; exit 77; }
E2E_DIR=$(mktemp -d /tmp/ovnic-e2e.XXXXXX)
. "$TOP/tests/e2e/lib.sh"
trap e2e_finish EXIT
e2e_tools
command -v sysctl >/dev/null || { echo "e2e: sysctl not installed" >&2; exit 77; }

SERVER_MAC=0a:00:00:00:00:53
DNS6=fd00:1::53
DOMAINS=ovnic.test,example.org

e2e_step "OVN central and a two-host lab"
e2e_central
e2e_lab 2 2
e2e_vm 1 0 vm1
e2e_vm 2 0 vm2
e2e_vm 2 1 vm3
M1=$(vm_mac 1 vm1)
M2=$(vm_mac 2 vm2)
M3=$(vm_mac 2 vm3)
for vm in "1 vm1" "2 vm2" "2 vm3"; do
    # Router advertisements taken (for the on-link prefix and the default route),
    # no duplicate address detection: link-local and leased addresses usable at once.
    # shellcheck disable=SC2086
    e2e_vm_ra $vm
done

e2e_step "Topology: ls1 (vm1 on hv1, vm2 and vm3 on hv2), DHCPv6 for vm1 and vm2, lr1 (M)"
nbctl dhcp-options-create fd00:1::/64
OPTS=$(nbctl --bare --columns=_uuid find DHCP_Options 'cidr="fd00:1::/64"')
[ -n "$OPTS" ] || e2e_fail "no DHCP_Options row for fd00:1::/64"
nbctl dhcp-options-set-options "$OPTS" server_id="$SERVER_MAC" dns_server="{$DNS6}" \
    domain_search="\"$DOMAINS\""
nbctl -- ls-add ls1 -- lr-add lr1 \
    -- lsp-add ls1 vm1 -- lsp-set-addresses vm1 "$M1 fd00:1::11" \
    -- lsp-add ls1 vm2 -- lsp-set-addresses vm2 "$M2 fd00:1::12" \
    -- lsp-add ls1 vm3 -- lsp-set-addresses vm3 "$M3 fd00:1::13" \
    -- lsp-set-dhcpv6-options vm1 "$OPTS" -- lsp-set-dhcpv6-options vm2 "$OPTS" \
    -- lrp-add lr1 lr1-ls1 0a:00:00:00:01:01 fd00:1::1/64 \
    -- set Logical_Router_Port lr1-ls1 ipv6_ra_configs:address_mode=dhcpv6_stateful \
    -- lsp-add ls1 ls1-lr1 -- lsp-set-type ls1-lr1 router \
    -- lsp-set-addresses ls1-lr1 router -- lsp-set-options ls1-lr1 router-port=lr1-ls1
nbctl dhcp-options-get-options "$OPTS"

e2e_step "ovnic-dpud on each DPU"
e2e_dpud 1
e2e_dpud 2
e2e_bind 1 pf0vf0 vm1
e2e_bind 2 pf0vf0 vm2 pf0vf1 vm3
e2e_wait_up
for vm in "1 vm1" "2 vm2" "2 vm3"; do
    # A fresh link-local address (DAD off) and router solicitations by the kernel.
    # shellcheck disable=SC2086
    e2e_vm_relink $vm
done

# nb_addr6 LPORT: the IPv6 address the logical port lists in the NB.
nb_addr6() {
    nbctl --bare get Logical_Switch_Port "$1" addresses | python3 -c '
import ipaddress, sys
for word in sys.stdin.read().replace("\"", " ").strip("[]\n ").split():
    try:
        print(ipaddress.IPv6Address(word))
    except ValueError:
        pass'
}

# json_get FILE EXPR: a value of the client's JSON output (EXPR indexes the object
# 'j'); lists, objects and booleans as JSON, strings and numbers as they are.
json_get() {
    python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
v = eval(sys.argv[2], {"j": j})
print(v if isinstance(v, (str, int)) and not isinstance(v, bool) else json.dumps(v))' \
        "$1" "$2"
}

# json_expect FILE WHAT EXPR WANT: fails unless EXPR (as json_get) prints WANT.
json_expect() {
    local got
    got=$(json_get "$1" "$3") || e2e_fail "$2: cannot read $3 from $1"
    [ "$got" = "$4" ] || e2e_fail "$2 is $got, want $4"
}

SERVER_LL=$(eui64 fe80:: "$SERVER_MAC")
SERVER_DUID=00030001$(echo "$SERVER_MAC" | tr -d :)

# dhcpv6 HOST VM LPORT: the exchange in the VM, checks, then the address on eth0.
dhcpv6() {
    local h=$1 vm=$2 lport=$3 out="$E2E_DIR/dhcpv6-$2.json" want addr
    want=$(nb_addr6 "$lport")
    [ -n "$want" ] || e2e_fail "$lport lists no IPv6 address"
    vm_exec "$h" "$vm" python3 "$CLIENT" --iface eth0 --timeout 20 \
        --router-solicit --require-managed >"$out" 2>"$E2E_DIR/dhcpv6-$vm.log" ||
        { cat "$E2E_DIR/dhcpv6-$vm.log" >&2; e2e_fail "DHCPv6 in $vm"; }
    cat "$out"
    addr=$(json_get "$out" 'j["address"]')
    [ "$addr" = "$want" ] || e2e_fail "$vm leased $addr, $lport lists $want"
    json_expect "$out" "$vm: DNS servers" 'j["dns_servers"]' "[\"$DNS6\"]"
    json_expect "$out" "$vm: domain search" '",".join(j["domain_search"])' "$DOMAINS"
    json_expect "$out" "$vm: server DUID" 'j["server_duid"]' "$SERVER_DUID"
    json_expect "$out" "$vm: server address" 'j["server_address"]' "$SERVER_LL"
    json_expect "$out" "$vm: M flag" 'j["router_advertisement"]["managed"]' true
    json_expect "$out" "$vm: prefixes (prefix, on-link, autonomous)" \
        '[(p["prefix"], p["on_link"], p["autonomous"])
          for p in j["router_advertisement"]["prefixes"]]' \
        '[["fd00:1::/64", true, false]]'
    vm_exec "$h" "$vm" ip -6 addr add "$addr/128" dev eth0
    echo "$vm: $addr/128 on eth0 (valid lifetime $(json_get "$out" 'j["valid_lifetime"]')," \
        "DNS $DNS6, search $DOMAINS)"
}

e2e_step "DHCPv6 from ovnic: router advertisement (M), SOLICIT/ADVERTISE/REQUEST/REPLY"
dhcpv6 1 vm1 vm1
dhcpv6 2 vm2 vm2
A1=$(nb_addr6 vm1)
A2=$(nb_addr6 vm2)
for hv in "1 vm1 $A1" "2 vm2 $A2"; do
    read -r h vm addr <<<"$hv"
    vm_exec "$h" "$vm" ip -6 addr show dev eth0
    vm_exec "$h" "$vm" ip -6 route show
    # The only global address is the lease: the prefix is not autonomous (no SLAAC).
    globals=$(vm_exec "$h" "$vm" ip -6 -o addr show dev eth0 scope global |
        awk '{print $4}')
    [ "$globals" = "$addr/128" ] ||
        e2e_fail "$vm: global addresses $globals, want $addr/128"
    # The /128 lease makes no prefix route: fd00:1::/64 is on-link by the
    # advertisement's prefix information.
    vm_exec "$h" "$vm" ip -6 route show fd00:1::/64 | grep -q "^fd00:1::/64 dev eth0" ||
        e2e_fail "$vm: no on-link route for fd00:1::/64 from the advertisement"
done

e2e_step "No DHCPv6 options on vm3's port: ovnic leaves its SOLICIT unanswered"
if vm_exec 2 vm3 python3 "$CLIENT" --iface eth0 --timeout 3 --no-collect \
    >"$E2E_DIR/dhcpv6-vm3.json" 2>"$E2E_DIR/dhcpv6-vm3.log"; then
    cat "$E2E_DIR/dhcpv6-vm3.json"
    e2e_fail "vm3 got a DHCPv6 lease without DHCPv6 options on its port"
fi
grep "no valid ADVERTISE" "$E2E_DIR/dhcpv6-vm3.log" ||
    { cat "$E2E_DIR/dhcpv6-vm3.log" >&2; e2e_fail "vm3: unexpected client failure"; }

e2e_step "ping6 between the leased addresses across hosts (Geneve), and to the router"
RTT=$(e2e_ping 1 vm1 "$A2") || e2e_fail "vm1 -> vm2"
echo "ping6 vm1 $A1 -> vm2 $A2 (hv1 -> hv2) rtt min/avg/max = $RTT ms"
RTT=$(e2e_ping 2 vm2 "$A1") || e2e_fail "vm2 -> vm1"
echo "ping6 vm2 $A2 -> vm1 $A1 (hv2 -> hv1) rtt min/avg/max = $RTT ms"
RTT=$(e2e_ping 1 vm1 fd00:1::1 3) || e2e_fail "vm1 -> router"
echo "ping6 vm1 -> lr1 fd00:1::1 rtt min/avg/max = $RTT ms"

dpud_ctl 1 dpctl stats
echo "e2e_dhcpv6: PASSED"
