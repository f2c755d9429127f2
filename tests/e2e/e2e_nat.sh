#!/usr/bin/env bash
# End to end: NAT to a provider network through ovnic-dpud's DPDK datapath.  Both
# DPUs map the provider network physnet to their uplink (bridge-mappings), so
# untunnelled frames on the lab's underlay bridge are the localnet port of the
# logical switch "public"; an external host (an address on the underlay bridge, in the
# underlay namespace) sits on it.  lr1's gateway port lr1-public is bound to hv1:
# - SNAT: vm1 (hv1) and vm2 (hv2, its traffic tunnelled to the gateway) reach the
#   external host, which has no route back to 10.0.1.0/24: only the router's address
#   172.24.0.10 can answer;
# - floating IP (dnat_and_snat): the external host reaches vm2 at 172.24.0.50 through
#   the gateway chassis;
# - distributed floating IP (dnat_and_snat with logical_port and external_mac): vm3
#   (hv2) is reached at 172.24.0.51 and answers from hv2's own uplink with the
#   floating IP's MAC, and hv2 (not the gateway) holds the translation.
#
# Usage: e2e_nat.sh BUILD-DIR [--keep]   (root; exit 77 when it cannot run here)
set -euo pipefail

BUILD=$(cd "${1:?usage: e2e_nat.sh BUILD-DIR}" && pwd)
KEEP=${2:-}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
E2E_DIR=$(mktemp -d /tmp/ovnic-e2e.XXXXXX)
. "$TOP/tests/e2e/lib.sh"
trap e2e_finish EXIT
e2e_tools
EXT=172.24.0.100
GW=172.24.0.10
FIP=172.24.0.50
DFIP=172.24.0.51
DMAC=0a:00:00:00:ff:51

e2e_step "OVN central and a two-host lab; external host $EXT on the underlay bridge"
e2e_central
e2e_lab 2 2
UNDERLAY="$E2E_LAB-underlay"
ip -n "$UNDERLAY" addr add "$EXT/24" dev br0
e2e_vm 1 0 vm1
e2e_vm 2 0 vm2
e2e_vm 2 1 vm3
M1=$(vm_mac 1 vm1)
M2=$(vm_mac 2 vm2)
M3=$(vm_mac 2 vm3)
e2e_vm_ip 1 vm1 10.0.1.11/24 10.0.1.1
e2e_vm_ip 2 vm2 10.0.1.12/24 10.0.1.1
e2e_vm_ip 2 vm3 10.0.1.13/24 10.0.1.1

e2e_step "Topology: ls1 (vm1 hv1, vm2 vm3 hv2) - lr1 - public (localnet physnet); NAT"
nbctl -- ls-add ls1 -- ls-add public -- lr-add lr1 \
    -- lsp-add ls1 vm1 -- lsp-set-addresses vm1 "$M1 10.0.1.11" \
    -- lsp-add ls1 vm2 -- lsp-set-addresses vm2 "$M2 10.0.1.12" \
    -- lsp-add ls1 vm3 -- lsp-set-addresses vm3 "$M3 10.0.1.13" \
    -- lrp-add lr1 lr1-ls1 0a:00:00:00:01:01 10.0.1.1/24 \
    -- lsp-add ls1 ls1-lr1 -- lsp-set-type ls1-lr1 router \
    -- lsp-set-addresses ls1-lr1 router -- lsp-set-options ls1-lr1 router-port=lr1-ls1 \
    -- lrp-add lr1 lr1-public 0a:00:00:00:ff:01 "$GW/24" \
    -- lrp-set-gateway-chassis lr1-public hv1 \
    -- lsp-add public public-lr1 -- lsp-set-type public-lr1 router \
    -- lsp-set-addresses public-lr1 router \
    -- lsp-set-options public-lr1 router-port=lr1-public \
    -- lsp-add public ln -- lsp-set-type ln localnet -- lsp-set-addresses ln unknown \
    -- lsp-set-options ln network_name=physnet \
    -- lr-nat-add lr1 snat "$GW" 10.0.1.0/24 \
    -- lr-nat-add lr1 dnat_and_snat "$FIP" 10.0.1.12 \
    -- lr-nat-add lr1 dnat_and_snat "$DFIP" 10.0.1.13 vm3 "$DMAC"
nbctl lr-nat-list lr1

e2e_step "ovnic-dpud on each DPU, physnet on the uplink"
e2e_dpud 1 --bridge-mappings=physnet:uplink
e2e_dpud 2 --bridge-mappings=physnet:uplink
e2e_bind 1 pf0vf0 vm1
e2e_bind 2 pf0vf0 vm2 pf0vf1 vm3
e2e_wait_up
# The gateway port follows lr1-public's HA chassis group: hv1 is active and claims
# cr-lr1-public in the SB, as ovn-controller does.
ovn-sbctl --db="$SB" --bare --columns=name find HA_Chassis_Group | grep -q lr1-public ||
    e2e_fail "no HA chassis group for lr1-public"
HV1=$(ovn-sbctl --db="$SB" --bare --columns=_uuid find Chassis name=hv1)
for _ in $(seq 50); do
    CR=$(ovn-sbctl --db="$SB" --bare --columns=chassis find Port_Binding \
        logical_port=cr-lr1-public)
    [ "$CR" = "$HV1" ] && break
    sleep 0.1
done
[ "$CR" = "$HV1" ] || e2e_fail "cr-lr1-public is bound to '$CR', not hv1 ($HV1)"

e2e_step "SNAT: the VMs reach the external host as $GW"
RTT=$(e2e_ping 1 vm1 10.0.1.1 3) || e2e_fail "vm1 -> router"
echo "ping vm1 -> lr1 rtt min/avg/max = $RTT ms"
RTT=$(e2e_ping 1 vm1 "$EXT") || e2e_fail "vm1 -> external (SNAT on hv1)"
echo "ping vm1 (hv1) -> external via SNAT rtt min/avg/max = $RTT ms"
ip -n "$UNDERLAY" neigh show "$GW" | grep -q 0a:00:00:00:ff:01 ||
    e2e_fail "the external host did not learn the router's MAC for $GW"
RTT=$(e2e_ping 2 vm2 "$EXT") || e2e_fail "vm2 -> external (tunnel to the gateway)"
echo "ping vm2 (hv2) -> external via the gateway on hv1 rtt min/avg/max = $RTT ms"

e2e_step "Floating IP: the external host reaches vm2 at $FIP"
out=$(ip netns exec "$UNDERLAY" ping -n -c 5 -i 0.2 -W 2 "$FIP" 2>&1) ||
    out=$(ip netns exec "$UNDERLAY" ping -n -c 5 -i 0.2 -W 2 "$FIP" 2>&1) ||
    { echo "$out" >&2; e2e_fail "external -> $FIP"; }
echo "$out" | tail -n 1

e2e_step "Distributed floating IP: the external host reaches vm3 (hv2) at $DFIP"
out=$(ip netns exec "$UNDERLAY" ping -n -c 5 -i 0.2 -W 2 "$DFIP" 2>&1) ||
    out=$(ip netns exec "$UNDERLAY" ping -n -c 5 -i 0.2 -W 2 "$DFIP" 2>&1) ||
    { echo "$out" >&2; e2e_fail "external -> $DFIP"; }
echo "$out" | tail -n 1
ip -n "$UNDERLAY" neigh show "$DFIP" | grep -q "$DMAC" ||
    e2e_fail "the external host did not learn $DMAC for $DFIP"
RTT=$(e2e_ping 2 vm3 "$EXT" 3) || e2e_fail "vm3 -> external (distributed)"
echo "ping vm3 (hv2) -> external from hv2's uplink rtt min/avg/max = $RTT ms"
dpud_ctl 2 conntrack dump >"$E2E_DIR/ct2.txt"
grep -E "snat|dnat" "$E2E_DIR/ct2.txt" | head -n 4 || true
grep -q '"src":"'"$EXT"'","dst":"'"$DFIP"'".*"src":"10.0.1.13".*dnat' "$E2E_DIR/ct2.txt" ||
    e2e_fail "no DNAT of $DFIP to vm3 on hv2"

e2e_step "The gateway chassis hv1 tracks the translations"
dpud_ctl 1 conntrack dump >"$E2E_DIR/ct1.txt"
grep -E "snat|dnat" "$E2E_DIR/ct1.txt" | head -n 6 || true
grep -q '"src":"10.0.1.11","dst":"'"$EXT"'".*"dst":"'"$GW"'".*snat' "$E2E_DIR/ct1.txt" ||
    e2e_fail "no SNAT of vm1 to $GW on hv1"
grep -q '"src":"10.0.1.12","dst":"'"$EXT"'".*"dst":"'"$FIP"'".*snat' "$E2E_DIR/ct1.txt" ||
    e2e_fail "no SNAT of vm2 to its floating IP $FIP on hv1"
grep -q '"src":"'"$EXT"'","dst":"'"$FIP"'".*"src":"10.0.1.12".*dnat' "$E2E_DIR/ct1.txt" ||
    e2e_fail "no DNAT of $FIP to vm2 on hv1"
if grep -q "$DFIP" "$E2E_DIR/ct1.txt"; then
    e2e_fail "the distributed floating IP $DFIP was translated on the gateway hv1"
fi
dpud_ctl 1 conntrack stats | grep n_nat
dpud_ctl 1 dpctl stats
echo "e2e_nat: PASSED"
