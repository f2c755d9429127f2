#!/usr/bin/env bash
# End to end: VMs on two simulated hosts get their addresses by DHCP from ovnic and
# reach each other through ovnic-dpud's DPDK datapath: on one logical switch across
# hosts (Geneve through the underlay), across a logical router, and the counters show
# that the packets went through the representors and the software pipeline.
#
# Usage: e2e_vswitch.sh BUILD-DIR [--keep]   (root; exit 77 when it cannot run here)
set -euo pipefail

BUILD=$(cd "${1:?usage: e2e_vswitch.sh BUILD-DIR}" && pwd)
KEEP=${2:-}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
E2E_DIR=$(mktemp -d /tmp/ovnic-e2e.XXXXXX)
. "$TOP/tests/e2e/lib.sh"

finish() {
    local rc=$?
    e2e_cleanup
    if [ "$KEEP" != "--keep" ] && [ $rc = 0 ]; then
        rm -rf "$E2E_DIR"
    else
        echo "e2e: files kept in $E2E_DIR"
    fi
}
trap finish EXIT
e2e_tools

e2e_step "OVN central and a two-host lab"
e2e_central
e2e_lab 2 2
e2e_vm 1 0 vm1
e2e_vm 2 0 vm2
e2e_vm 2 1 vm3
M1=$(vm_mac 1 vm1)
M2=$(vm_mac 2 vm2)
M3=$(vm_mac 2 vm3)

e2e_step "Topology: ls1 (vm1 on hv1, vm2 on hv2), ls2 (vm3 on hv2), router lr1, DHCP"
nbctl -- ls-add ls1 -- ls-add ls2 -- lr-add lr1 \
    -- lsp-add ls1 vm1 -- lsp-set-addresses vm1 "$M1 10.0.1.11" \
    -- lsp-add ls1 vm2 -- lsp-set-addresses vm2 "$M2 10.0.1.12" \
    -- lsp-add ls2 vm3 -- lsp-set-addresses vm3 "$M3 10.0.2.13" \
    -- lrp-add lr1 lr1-ls1 0a:00:00:00:01:01 10.0.1.1/24 \
    -- lrp-add lr1 lr1-ls2 0a:00:00:00:02:01 10.0.2.1/24 \
    -- lsp-add ls1 ls1-lr1 -- lsp-set-type ls1-lr1 router \
    -- lsp-set-addresses ls1-lr1 router -- lsp-set-options ls1-lr1 router-port=lr1-ls1 \
    -- lsp-add ls2 ls2-lr1 -- lsp-set-type ls2-lr1 router \
    -- lsp-set-addresses ls2-lr1 router -- lsp-set-options ls2-lr1 router-port=lr1-ls2
D1=$(nbctl dhcp-options-create 10.0.1.0/24)
D1=$(nbctl --bare --columns=_uuid find DHCP_Options cidr=10.0.1.0/24)
nbctl dhcp-options-set-options "$D1" lease_time=3600 router=10.0.1.1 \
    server_id=10.0.1.1 server_mac=0a:00:00:00:01:01
D2=$(nbctl dhcp-options-create 10.0.2.0/24)
D2=$(nbctl --bare --columns=_uuid find DHCP_Options cidr=10.0.2.0/24)
nbctl dhcp-options-set-options "$D2" lease_time=3600 router=10.0.2.1 \
    server_id=10.0.2.1 server_mac=0a:00:00:00:02:01
nbctl lsp-set-dhcpv4-options vm1 "$D1" -- lsp-set-dhcpv4-options vm2 "$D1" \
    -- lsp-set-dhcpv4-options vm3 "$D2"

e2e_step "ovnic-dpud with its DPDK datapath on each DPU"
e2e_dpud 1
e2e_dpud 2
dpud_ctl 1 dpud port-add pf0vf0 --iface-id=vm1
dpud_ctl 2 dpud port-add pf0vf0 --iface-id=vm2
dpud_ctl 2 dpud port-add pf0vf1 --iface-id=vm3
timeout 60 ovn-nbctl --db="$NB" --wait=hv sync || e2e_fail "--wait=hv"
for p in vm1 vm2 vm3; do
    up=$(ovn-sbctl --db="$SB" --bare --columns=up find Port_Binding logical_port=$p)
    [ "$up" = true ] || e2e_fail "Port_Binding $p is not up"
done
dpud_ctl 1 dpctl show
dpud_ctl 2 dpctl show

e2e_step "DHCPv4 from ovnic (busybox udhcpc in each VM)"
A1=$(e2e_dhcp 1 vm1) || e2e_fail "DHCP vm1"
A2=$(e2e_dhcp 2 vm2) || e2e_fail "DHCP vm2"
A3=$(e2e_dhcp 2 vm3) || e2e_fail "DHCP vm3"
echo "vm1 $A1  vm2 $A2  vm3 $A3"
[ "$A1" = 10.0.1.11/24 ] && [ "$A2" = 10.0.1.12/24 ] && [ "$A3" = 10.0.2.13/24 ] ||
    e2e_fail "unexpected DHCP addresses"

e2e_step "Ping on one switch across hosts (Geneve), then across the router"
ip netns exec "$(vm_ns 1 vm1)" ping -n -c 3 -i 0.2 -W 2 10.0.1.12 >/dev/null ||
    ip netns exec "$(vm_ns 1 vm1)" ping -n -c 5 -i 0.2 -W 2 10.0.1.12 ||
    e2e_fail "vm1 -> vm2"
ip netns exec "$(vm_ns 1 vm1)" ping -n -c 5 -i 0.2 -W 2 10.0.2.13 ||
    e2e_fail "vm1 -> vm3 (routed)"
ip netns exec "$(vm_ns 1 vm1)" ping -n -c 3 -i 0.2 -W 2 10.0.1.1 ||
    e2e_fail "vm1 -> router"

e2e_step "Counters: representors, pipeline walks, tunnels"
dpud_ctl 1 dpctl stats --format=json >"$E2E_DIR/stats1.json"
dpud_ctl 2 dpctl stats --format=json >"$E2E_DIR/stats2.json"
dpud_ctl 1 dpctl show
dpud_ctl 1 dpctl neigh
python3 - "$E2E_DIR/stats1.json" "$E2E_DIR/stats2.json" <<'EOF'
import json, sys
for path in sys.argv[1:]:
    s = json.load(open(path))
    print(path.rsplit("/", 1)[-1], {k: s.get(k) for k in
          ("rx", "tx", "walks", "megaflow_hits", "tunnel_rx", "tunnel_tx")})
    assert s["walks"] > 0, "no pipeline walk"
    assert s["tunnel_tx"] > 0 and s["tunnel_rx"] > 0, "no Geneve traffic"
EOF
dpud_ctl 1 dpctl dump-pipeline ls1 | head -5
dpud_ctl 1 dpctl dump-pipeline --format=json >"$E2E_DIR/pipeline1.json"
python3 - "$E2E_DIR/pipeline1.json" <<'EOF'
import json, sys
flows = json.load(open(sys.argv[1]))
hit = [f for f in flows if f["hits"] > 0]
print(len(flows), "logical flows in the live pipeline,", len(hit), "of them hit")
assert flows and hit, "no logical flow answered a lookup"
assert {f["datapath"] for f in hit} >= {"ls1", "lr1"}, "switch and router flows not hit"
EOF
echo "e2e_vswitch: PASSED"
