#!/usr/bin/env bash
# End to end: a load balancer on a logical switch, through ovnic-dpud's DPDK datapath.
# vm1 (hv1) opens HTTP connections to a VIP; the switch's load balancer picks a
# backend per connection (ct_lb_mark: DNAT in vm1's conntrack zone): vm2 on the same
# switch (hv2) or vm3 behind the router (hv2).  The replies are un-NATed on the way
# back, so wget sees the VIP answer; both backends must serve some connections, and
# hv1's connection tracker must hold DNAT entries for the VIP.
#
# Usage: e2e_lb.sh BUILD-DIR [--keep]   (root; exit 77 when it cannot run here)
set -euo pipefail

BUILD=$(cd "${1:?usage: e2e_lb.sh BUILD-DIR}" && pwd)
KEEP=${2:-}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
E2E_DIR=$(mktemp -d /tmp/ovnic-e2e.XXXXXX)
. "$TOP/tests/e2e/lib.sh"
trap e2e_finish EXIT
e2e_tools
for t in wget ss; do
    command -v "$t" >/dev/null || { echo "e2e: $t not installed" >&2; exit 77; }
done
VIP=172.16.0.100
N_CONN=16

e2e_step "OVN central and a two-host lab"
e2e_central
e2e_lab 2 2
e2e_vm 1 0 vm1
e2e_vm 2 0 vm2
e2e_vm 2 1 vm3
M1=$(vm_mac 1 vm1)
M2=$(vm_mac 2 vm2)
M3=$(vm_mac 2 vm3)
e2e_vm_ip 1 vm1 10.0.1.11/24 10.0.1.1
e2e_vm_ip 2 vm2 10.0.1.12/24 10.0.1.1
e2e_vm_ip 2 vm3 10.0.2.13/24 10.0.2.1

e2e_step "Topology: ls1 (vm1 hv1, vm2 hv2), ls2 (vm3 hv2), lr1; lb1 $VIP:80 on ls1"
nbctl -- ls-add ls1 -- ls-add ls2 -- lr-add lr1 \
    -- lsp-add ls1 vm1 -- lsp-set-addresses vm1 "$M1 10.0.1.11" \
    -- lsp-add ls1 vm2 -- lsp-set-addresses vm2 "$M2 10.0.1.12" \
    -- lsp-add ls2 vm3 -- lsp-set-addresses vm3 "$M3 10.0.2.13" \
    -- lrp-add lr1 lr1-ls1 0a:00:00:00:01:01 10.0.1.1/24 \
    -- lrp-add lr1 lr1-ls2 0a:00:00:00:02:01 10.0.2.1/24 \
    -- lsp-add ls1 ls1-lr1 -- lsp-set-type ls1-lr1 router \
    -- lsp-set-addresses ls1-lr1 router -- lsp-set-options ls1-lr1 router-port=lr1-ls1 \
    -- lsp-add ls2 ls2-lr1 -- lsp-set-type ls2-lr1 router \
    -- lsp-set-addresses ls2-lr1 router -- lsp-set-options ls2-lr1 router-port=lr1-ls2 \
    -- lb-add lb1 "$VIP:80" 10.0.1.12:80,10.0.2.13:80 tcp \
    -- ls-lb-add ls1 lb1
nbctl lb-list

e2e_step "ovnic-dpud on each DPU"
e2e_dpud 1
e2e_dpud 2
e2e_bind 1 pf0vf0 vm1
e2e_bind 2 pf0vf0 vm2 pf0vf1 vm3
e2e_wait_up

e2e_step "Backends: busybox httpd in vm2 and vm3, each page naming its VM"
for vm in vm2 vm3; do
    mkdir -p "$E2E_DIR/www-$vm"
    echo "$vm" >"$E2E_DIR/www-$vm/index.html"
    e2e_spawn 2 "$vm" "httpd-$vm" busybox httpd -f -p 80 -h "$E2E_DIR/www-$vm"
done
e2e_wait_listen 2 vm2 80
e2e_wait_listen 2 vm3 80
RTT=$(e2e_ping 1 vm1 10.0.1.12 3) || e2e_fail "vm1 -> vm2"
echo "ping vm1 -> vm2 rtt min/avg/max = $RTT ms"
RTT=$(e2e_ping 1 vm1 10.0.2.13 3) || e2e_fail "vm1 -> vm3 (routed)"
echo "ping vm1 -> vm3 (routed) rtt min/avg/max = $RTT ms"
for b in 10.0.1.12 10.0.2.13; do
    vm_exec 1 vm1 wget -q -T 3 -O - "http://$b/index.html" >/dev/null ||
        e2e_fail "backend $b does not answer directly"
done

e2e_step "$N_CONN HTTP connections from vm1 to the VIP $VIP:80"
: >"$E2E_DIR/answers"
for i in $(seq "$N_CONN"); do
    vm_exec 1 vm1 wget -q -T 3 -O - "http://$VIP/index.html" >>"$E2E_DIR/answers" ||
        e2e_fail "connection $i to the VIP"
done
sort "$E2E_DIR/answers" | uniq -c
N2=$(grep -c '^vm2$' "$E2E_DIR/answers" || true)
N3=$(grep -c '^vm3$' "$E2E_DIR/answers" || true)
[ $((N2 + N3)) = "$N_CONN" ] || e2e_fail "unexpected answers"
if [ "$N2" = 0 ] || [ "$N3" = 0 ]; then
    e2e_fail "connections not spread: vm2 $N2, vm3 $N3"
fi
echo "load balanced: vm2 served $N2, vm3 served $N3 of $N_CONN connections"

e2e_step "Connection tracker of hv1: DNAT entries for the VIP"
dpud_ctl 1 conntrack stats
dpud_ctl 1 conntrack dump | grep "$VIP" | head -n 6 || true
N_NAT=$(dpud_ctl 1 conntrack dump | grep "$VIP" | grep -vc "  none  " || true)
[ "$N_NAT" -gt 0 ] || e2e_fail "no NATed connection to $VIP in hv1's tracker"
echo "hv1 tracks $N_NAT NATed connections to the VIP"
echo "e2e_lb: PASSED"
