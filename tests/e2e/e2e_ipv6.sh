#!/usr/bin/env bash
# End to end: IPv6 with stateless autoconfiguration through ovnic-dpud's DPDK datapath.
# The router ports of lr1 announce their /64 (ipv6_ra_configs:address_mode=slaac);
# each VM (namespace, accept_ra=2) solicits a router advertisement when its link comes
# up, which ovnic builds in the pipeline walk (put_nd_ra_opts); the VM derives its
# EUI-64 address, which must be the address its logical port lists.  Then ping6 on one
# switch across hosts (Geneve), to the router, and across the router to another switch,
# and HTTP over IPv6 across the router.
#
# Usage: e2e_ipv6.sh BUILD-DIR [--keep]   (root; exit 77 when it cannot run here)
set -euo pipefail

BUILD=$(cd "${1:?usage: e2e_ipv6.sh BUILD-DIR}" && pwd)
KEEP=${2:-}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
E2E_DIR=$(mktemp -d /tmp/ovnic-e2e.XXXXXX)
. "$TOP/tests/e2e/lib.sh"
trap e2e_finish EXIT
e2e_tools
for t in sysctl wget ss; do
    command -v "$t" >/dev/null || { echo "e2e: $t not installed" >&2; exit 77; }
done

e2e_step "OVN central and a two-host lab"
e2e_central
e2e_lab 2 2
e2e_vm 1 0 vm1
e2e_vm 2 0 vm2
e2e_vm 2 1 vm3
M1=$(vm_mac 1 vm1)
M2=$(vm_mac 2 vm2)
M3=$(vm_mac 2 vm3)
A1=$(eui64 fd00:1:: "$M1")
A2=$(eui64 fd00:1:: "$M2")
A3=$(eui64 fd00:2:: "$M3")
echo "expected SLAAC addresses: vm1 $A1  vm2 $A2  vm3 $A3"
for vm in "1 vm1" "2 vm2" "2 vm3"; do
    # shellcheck disable=SC2086
    e2e_vm_ra $vm
done

e2e_step "Topology: ls1 (vm1 on hv1, vm2 on hv2), ls2 (vm3 on hv2), lr1 announcing SLAAC"
nbctl -- ls-add ls1 -- ls-add ls2 -- lr-add lr1 \
    -- lsp-add ls1 vm1 -- lsp-set-addresses vm1 "$M1 10.0.1.11 $A1" \
    -- lsp-add ls1 vm2 -- lsp-set-addresses vm2 "$M2 10.0.1.12 $A2" \
    -- lsp-add ls2 vm3 -- lsp-set-addresses vm3 "$M3 10.0.2.13 $A3" \
    -- lrp-add lr1 lr1-ls1 0a:00:00:00:01:01 10.0.1.1/24 fd00:1::1/64 \
    -- lrp-add lr1 lr1-ls2 0a:00:00:00:02:01 10.0.2.1/24 fd00:2::1/64 \
    -- set Logical_Router_Port lr1-ls1 ipv6_ra_configs:address_mode=slaac \
    -- set Logical_Router_Port lr1-ls2 ipv6_ra_configs:address_mode=slaac \
    -- lsp-add ls1 ls1-lr1 -- lsp-set-type ls1-lr1 router \
    -- lsp-set-addresses ls1-lr1 router -- lsp-set-options ls1-lr1 router-port=lr1-ls1 \
    -- lsp-add ls2 ls2-lr1 -- lsp-set-type ls2-lr1 router \
    -- lsp-set-addresses ls2-lr1 router -- lsp-set-options ls2-lr1 router-port=lr1-ls2

e2e_step "ovnic-dpud on each DPU"
e2e_dpud 1
e2e_dpud 2
e2e_bind 1 pf0vf0 vm1
e2e_bind 2 pf0vf0 vm2 pf0vf1 vm3
e2e_wait_up

e2e_step "Router solicitation on link up, SLAAC from ovnic's router advertisement"
for vm in "1 vm1" "2 vm2" "2 vm3"; do
    # shellcheck disable=SC2086
    e2e_vm_relink $vm
done
e2e_wait_addr6 1 vm1 "$A1" || e2e_fail "vm1 did not configure $A1"
e2e_wait_addr6 2 vm2 "$A2" || e2e_fail "vm2 did not configure $A2"
e2e_wait_addr6 2 vm3 "$A3" || e2e_fail "vm3 did not configure $A3"
vm_exec 1 vm1 ip -6 addr show dev eth0
vm_exec 1 vm1 ip -6 route show
vm_exec 1 vm1 ip -6 route show default | grep -q "via fe80::" ||
    e2e_fail "no default route from the router advertisement"

e2e_step "ping6 across hosts (Geneve), to the router, across the router"
RTT=$(e2e_ping 1 vm1 "$A2") || e2e_fail "vm1 -> vm2"
echo "ping6 vm1 -> vm2 (hv1 -> hv2) rtt min/avg/max = $RTT ms"
RTT=$(e2e_ping 1 vm1 fd00:1::1 3) || e2e_fail "vm1 -> router"
echo "ping6 vm1 -> lr1 fd00:1::1 rtt min/avg/max = $RTT ms"
RTT=$(e2e_ping 1 vm1 "$A3") || e2e_fail "vm1 -> vm3 (routed)"
echo "ping6 vm1 -> vm3 (routed, hv1 -> hv2) rtt min/avg/max = $RTT ms"
RTT=$(e2e_ping 2 vm3 "$A1" 3) || e2e_fail "vm3 -> vm1 (routed)"
echo "ping6 vm3 -> vm1 (routed, hv2 -> hv1) rtt min/avg/max = $RTT ms"

e2e_step "TCP over IPv6 across the router: HTTP from vm1 to vm3"
mkdir -p "$E2E_DIR/www"
echo "hello from vm3" >"$E2E_DIR/www/index.html"
e2e_spawn 2 vm3 httpd busybox httpd -f -p 80 -h "$E2E_DIR/www"
e2e_wait_listen 2 vm3 80
BODY=$(vm_exec 1 vm1 wget -q -T 3 -O - "http://[$A3]/index.html") ||
    e2e_fail "HTTP over IPv6 vm1 -> vm3"
[ "$BODY" = "hello from vm3" ] || e2e_fail "unexpected HTTP body: $BODY"
echo "HTTP over IPv6 vm1 -> [$A3]: \"$BODY\""

dpud_ctl 1 dpctl stats
echo "e2e_ipv6: PASSED"
