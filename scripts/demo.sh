#!/usr/bin/env bash
# make demo: the most complete real scenario ovnic can run today.
#
# A real OVN central (NB standalone, SB as a 3-member RAFT cluster, ovn-northd), a logical
# topology made with ovn-nbctl as a CMS would make it, and ovnic's OVSDB client following
# the Southbound database that northd produces, across the loss of a cluster member;
# then VMs on two simulated hosts (ovnic-sim lab) that get their addresses by DHCP from
# ovnic and ping each other through ovnic-dpud's DPDK datapath.
set -euo pipefail

BUILD=${1:-build}
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$TOP" && cd "$BUILD" && pwd)
OVNICCTL="$BUILD/tools/ovnicctl/ovnicctl"
DPUD="$BUILD/dpu/daemon/ovnic-dpud"
CENTRAL="$TOP/scripts/ovn-central.sh"
DIR=$(mktemp -d /tmp/ovnic-demo.XXXXXX)
MONITOR_PID=""

step() {
    printf '\n\033[1m==> %s\033[0m\n' "$*"
}

cleanup() {
    if [ -f "$DIR/dpu-1/ovnic-dpud.pid" ]; then
        kill "$(cat "$DIR/dpu-1/ovnic-dpud.pid")" 2>/dev/null || true
    fi
    if [ -n "$MONITOR_PID" ]; then
        kill "$MONITOR_PID" 2>/dev/null || true
        wait "$MONITOR_PID" 2>/dev/null || true
    fi
    "$CENTRAL" stop "$DIR" >/dev/null 2>&1 || true
    rm -rf "$DIR"
}
trap cleanup EXIT

[ -x "$DPUD" ] || { echo "demo: $DPUD is missing; run 'make build'" >&2; exit 1; }
[ -x "$OVNICCTL" ] || { echo "demo: $OVNICCTL is missing; run 'make build'" >&2; exit 1; }

step "Starting OVN central in $DIR (NB standalone, SB 3-member RAFT cluster, northd)"
"$CENTRAL" start-nb "$DIR" >/dev/null
SB=$("$CENTRAL" start-sb "$DIR" --cluster 3)
"$CENTRAL" start-northd "$DIR"
"$CENTRAL" status "$DIR"
NB="unix:$DIR/nb.sock"
echo "SB remotes: $SB"

step "Creating a logical topology with ovn-nbctl (2 switches, 1 router, 4 VM ports, LB, ACL)"
ovn-nbctl --db="$NB" --wait=sb \
    -- ls-add sw0 -- ls-add sw1 -- lr-add lr0 \
    -- lsp-add sw0 vm1 -- lsp-set-addresses vm1 "00:00:00:00:00:01 10.0.0.11" \
    -- lsp-add sw0 vm2 -- lsp-set-addresses vm2 "00:00:00:00:00:02 10.0.0.12" \
    -- lsp-add sw1 vm3 -- lsp-set-addresses vm3 "00:00:00:00:00:03 10.0.1.13" \
    -- lsp-add sw1 vm4 -- lsp-set-addresses vm4 "00:00:00:00:00:04 10.0.1.14" \
    -- lrp-add lr0 lr0-sw0 00:00:00:00:ff:01 10.0.0.1/24 \
    -- lrp-add lr0 lr0-sw1 00:00:00:00:ff:02 10.0.1.1/24 \
    -- lsp-add sw0 sw0-lr0 -- lsp-set-type sw0-lr0 router \
    -- lsp-set-addresses sw0-lr0 router -- lsp-set-options sw0-lr0 router-port=lr0-sw0 \
    -- lsp-add sw1 sw1-lr0 -- lsp-set-type sw1-lr0 router \
    -- lsp-set-addresses sw1-lr0 router -- lsp-set-options sw1-lr0 router-port=lr0-sw1 \
    -- lb-add lb0 10.0.0.100:80 10.0.1.13:8080,10.0.1.14:8080 tcp \
    -- ls-lb-add sw0 lb0 \
    -- acl-add sw1 to-lport 1000 'tcp.dst == 22' drop
ovn-nbctl --db="$NB" show

step "ovnic's OVSDB client: one full synchronisation of the Southbound cluster"
"$OVNICCTL" ovsdb dump --db="$SB" --timeout=20 >"$DIR/dump.txt"
grep -E '^[A-Za-z_]+ table \([0-9]+ rows\)' "$DIR/dump.txt" | grep -v '(0 rows)'
echo "Port bindings as ovnic's replica holds them:"
"$OVNICCTL" ovsdb dump --db="$SB" --timeout=20 Port_Binding |
    grep -oE 'logical_port=[^ ]+|tunnel_key=[0-9]+|type=[^ ]*' | paste - - - | sort | head -20

step "ovnic-dpud joins as chassis dpu-1 (encap 192.0.2.10) and binds vm1..vm4"
mkdir -p "$DIR/dpu-1"
export OVNIC_RUNDIR="$DIR/dpu-1"
"$DPUD" --system-id=dpu-1 --sb-remote="$SB" --encap-ip=192.0.2.10 --rundir="$DIR/dpu-1" \
    --log-file="$DIR/dpu-1/ovnic-dpud.log" --detach
for i in 1 2 3 4; do
    "$OVNICCTL" dpud port-add "pf0vf$((i - 1))" --iface-id="vm$i"
done
echo "ovn-nbctl --wait=hv sync (returns once ovnic-dpud acknowledged nb_cfg)..."
timeout 30 ovn-nbctl --db="$NB" --wait=hv sync
ovn-sbctl --db="$SB" show
"$OVNICCTL" dpud port-list
"$OVNICCTL" dpud status

step "ovnicctl lflow-check: every logical flow northd wrote parses into ovnic's IR"
"$OVNICCTL" lflow-check --db="$SB" --timeout=20

step "ovnicctl trace: vm1 pings vm3 across lr0, through ovnic's pipeline (and ovn-trace's)"
FLOW='inport=="vm1" && eth.src==00:00:00:00:00:01 && eth.dst==00:00:00:00:ff:01 && ip4.src==10.0.0.11 && ip4.dst==10.0.1.13 && ip.ttl==64 && icmp4'
echo "ovnic:"
"$OVNICCTL" trace --db="$SB" --timeout=20 --minimal sw0 "$FLOW"
echo "ovn-trace:"
ovn-trace --db="$SB" --no-leader-only --minimal sw0 "$FLOW"

step "Following the Southbound live: monitor Port_Binding while ports come and a member dies"
"$OVNICCTL" ovsdb monitor --db="$SB" --no-initial --timeout=20 Port_Binding \
    >"$DIR/monitor.txt" 2>"$DIR/monitor.err" &
MONITOR_PID=$!
sleep 1
ovn-nbctl --db="$NB" --wait=sb lsp-add sw0 vm5 -- lsp-set-addresses vm5 "00:00:00:00:00:05 10.0.0.15"
echo "Killing SB cluster member 1 (SIGKILL)..."
"$CENTRAL" kill-member "$DIR" 1 --db sb
sleep 2
ovn-nbctl --db="$NB" --wait=sb lsp-add sw1 vm6 -- lsp-set-addresses vm6 "00:00:00:00:00:06 10.0.1.16"
ovn-nbctl --db="$NB" --wait=sb lsp-del vm2
sleep 2
kill "$MONITOR_PID"
wait "$MONITOR_PID" || true
MONITOR_PID=""
echo "What the monitor printed (insert vm5, insert vm6, delete vm2, across the failover):"
while read -r change table uuid rest; do
    port=$(grep -oE 'logical_port=[^ ]+' <<<"$rest" || true)
    echo "  $change $table $uuid ${port:-}"
done <"$DIR/monitor.txt"
for port in vm5 vm6; do
    grep -qE "^insert +Port_Binding .*logical_port=\"?$port\"?( |$)" "$DIR/monitor.txt" ||
        { echo "demo: the monitor did not see $port" >&2; exit 1; }
done
grep -qE '^delete +Port_Binding' "$DIR/monitor.txt" ||
    { echo "demo: the monitor did not see vm2 go" >&2; exit 1; }

step "ovnic-dpud leaves cleanly: ports released, Chassis rows removed"
"$OVNICCTL" dpud exit
ovn-sbctl --db="$SB" show

step "VMs on two simulated hosts reach each other through ovnic-dpud's DPDK datapath"
echo "Each scenario below builds a 2-host ovnic-sim lab (ovnic-nicsim per DPU, VF netdevs"
echo "in VM namespaces) with its own OVN central and ovnic-dpud per DPU (docs/e2e.md)."
if [ "$(id -u)" = 0 ]; then
    for scenario in vswitch tcp nat lb health ipv6 dhcpv6; do
        case $scenario in
        vswitch) what="DHCPv4 from ovnic, ping across hosts (Geneve) and across a router" ;;
        tcp) what="iperf3 TCP across hosts; a stateful ACL drops SSH, allows the rest" ;;
        nat) what="SNAT and floating IPs to an external host on the provider network" ;;
        lb) what="a load-balancer VIP spreads HTTP connections over two backends" ;;
        health) what="health checks take a dead backend out of the VIP and back" ;;
        ipv6) what="IPv6: router advertisements (SLAAC), ping6 across hosts and the router" ;;
        dhcpv6) what="DHCPv6 leases from ovnic, ping6 across hosts" ;;
        esac
        step "Scenario $scenario: $what"
        bash "$TOP/tests/e2e/e2e_$scenario.sh" "$BUILD"
    done
else
    echo "(skipped: needs root)"
fi

step "Done. What this demo does not show yet"
cat <<'TXT'
- No offload yet: every packet goes through the software pipeline on the DPU (the
  eSwitch holds no rules); megaflows are cached in software.
- Gateway failover, VLAN-tagged provider networks, IPv6 NAT and load balancers.
- No ovnic-hostd, no ovnic-fw.
What it did show: real OVN central; ovnic-dpud registering as a chassis, claiming the VM
ports and answering --wait=hv; every logical flow parsed; a packet traced through ovnic's
pipeline next to ovn-trace; ovnic's OVSDB client following the Southbound live across
the loss of a RAFT member; VMs on simulated hosts getting addresses by DHCP from ovnic
and pinging across hosts and a router through ovnic-dpud's DPDK datapath, TCP through a
stateful ACL, NAT to a provider network, a load balancer with health checks, IPv6 with
SLAAC and DHCPv6 — with the datapath's counters.
TXT
