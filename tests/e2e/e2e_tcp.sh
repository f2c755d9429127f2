#!/usr/bin/env bash
# End to end: TCP between VMs on two simulated hosts through ovnic-dpud's DPDK
# datapath (Geneve through the underlay), and a stateful ACL on the logical switch:
# iperf3 throughput across hosts, then a port group whose to-lport ACLs drop TCP port
# 22 and allow-related everything else over IPv4, so a connection to port 22 fails
# while HTTP (request and the replies of the established connection) and iperf3 pass,
# and the connection tracker holds the allowed connections.
#
# Usage: e2e_tcp.sh BUILD-DIR [--keep]   (root; exit 77 when it cannot run here)
set -euo pipefail

BUILD=$(cd "${1:?usage: e2e_tcp.sh BUILD-DIR}" && pwd)
KEEP=${2:-}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
E2E_DIR=$(mktemp -d /tmp/ovnic-e2e.XXXXXX)
. "$TOP/tests/e2e/lib.sh"
trap e2e_finish EXIT
e2e_tools
for t in iperf3 nc wget ss; do
    command -v "$t" >/dev/null || { echo "e2e: $t not installed" >&2; exit 77; }
done

e2e_step "OVN central and a two-host lab"
e2e_central
e2e_lab 2 1
e2e_vm 1 0 vm1
e2e_vm 2 0 vm2
M1=$(vm_mac 1 vm1)
M2=$(vm_mac 2 vm2)
e2e_vm_ip 1 vm1 10.0.1.11/24
e2e_vm_ip 2 vm2 10.0.1.12/24

e2e_step "Topology: ls1 with vm1 (hv1) and vm2 (hv2), port group pg = {vm2}"
nbctl -- ls-add ls1 \
    -- lsp-add ls1 vm1 -- lsp-set-addresses vm1 "$M1 10.0.1.11" \
    -- lsp-add ls1 vm2 -- lsp-set-addresses vm2 "$M2 10.0.1.12" \
    -- pg-add pg vm2

e2e_step "ovnic-dpud on each DPU"
e2e_dpud 1
e2e_dpud 2
e2e_bind 1 pf0vf0 vm1
e2e_bind 2 pf0vf0 vm2
e2e_wait_up

e2e_step "Servers in vm2: iperf3 (5201), HTTP on 80 and on 22 (busybox httpd)"
mkdir -p "$E2E_DIR/www"
echo "hello from vm2" >"$E2E_DIR/www/index.html"
vm_exec 2 vm2 iperf3 -s -D -p 5201 --pidfile "$E2E_DIR/iperf3.pid" \
    --logfile "$E2E_DIR/iperf3-server.log"
e2e_track_pidfile "$E2E_DIR/iperf3.pid"
e2e_spawn 2 vm2 httpd80 busybox httpd -f -p 80 -h "$E2E_DIR/www"
e2e_spawn 2 vm2 httpd22 busybox httpd -f -p 22 -h "$E2E_DIR/www"
e2e_wait_listen 2 vm2 5201
e2e_wait_listen 2 vm2 80
e2e_wait_listen 2 vm2 22

e2e_step "Without ACLs: ping, and TCP 22 and 80 both answer"
RTT=$(e2e_ping 1 vm1 10.0.1.12) || e2e_fail "vm1 -> vm2 ping"
echo "ping vm1 -> vm2 rtt min/avg/max = $RTT ms"
vm_exec 1 vm1 nc -z -w 3 10.0.1.12 22 || e2e_fail "port 22 closed before the ACL"
vm_exec 1 vm1 nc -z -w 3 10.0.1.12 80 || e2e_fail "port 80 closed before the ACL"

e2e_step "iperf3 TCP vm1 (hv1) -> vm2 (hv2) over Geneve, 3 s"
vm_exec 1 vm1 iperf3 -c 10.0.1.12 -p 5201 -t 3 -J >"$E2E_DIR/iperf3.json" ||
    { cat "$E2E_DIR/iperf3.json" >&2; e2e_fail "iperf3"; }
python3 - "$E2E_DIR/iperf3.json" <<'EOF' || e2e_fail "iperf3 moved no data"
import json, sys
r = json.load(open(sys.argv[1]))
bps = r["end"]["sum_received"]["bits_per_second"]
retr = r["end"]["sum_sent"].get("retransmits", 0)
print("iperf3 TCP vm1 -> vm2: %.1f Mbit/s received (%d retransmits)" % (bps / 1e6, retr))
sys.exit(0 if bps > 0 else 1)
EOF

e2e_step "ACLs on ls1: to-lport drop tcp.dst == 22 to @pg, allow-related IPv4"
nbctl -- acl-add ls1 to-lport 1002 'outport == @pg && tcp.dst == 22' drop \
    -- acl-add ls1 to-lport 1001 'outport == @pg && ip4' allow-related
nbctl acl-list ls1
timeout 60 ovn-nbctl --db="$NB" --wait=hv sync || e2e_fail "--wait=hv"

if vm_exec 1 vm1 nc -z -w 2 10.0.1.12 22; then
    e2e_fail "TCP 22 passed the drop ACL"
fi
echo "TCP 22: dropped by the ACL (as configured)"
BODY=$(vm_exec 1 vm1 wget -q -T 3 -O - http://10.0.1.12:80/index.html) ||
    e2e_fail "HTTP to port 80 through the allow-related ACL"
[ "$BODY" = "hello from vm2" ] || e2e_fail "unexpected HTTP body: $BODY"
echo "TCP 80: HTTP answer \"$BODY\" (request and established replies passed)"
RTT=$(e2e_ping 1 vm1 10.0.1.12 3) || e2e_fail "ping through the allow-related ACL"
echo "ping vm1 -> vm2 with ACLs rtt min/avg/max = $RTT ms"

vm_exec 1 vm1 iperf3 -c 10.0.1.12 -p 5201 -t 3 -J >"$E2E_DIR/iperf3-acl.json" ||
    { cat "$E2E_DIR/iperf3-acl.json" >&2; e2e_fail "iperf3 through the ACL"; }
python3 - "$E2E_DIR/iperf3-acl.json" <<'EOF' || e2e_fail "iperf3 through the ACL moved no data"
import json, sys
r = json.load(open(sys.argv[1]))
bps = r["end"]["sum_received"]["bits_per_second"]
print("iperf3 TCP vm1 -> vm2 through the stateful ACL: %.1f Mbit/s" % (bps / 1e6))
sys.exit(0 if bps > 0 else 1)
EOF

e2e_step "Connection tracker of hv2 (vm2's side of the ACL)"
dpud_ctl 2 conntrack stats
dpud_ctl 2 conntrack dump --format=json >"$E2E_DIR/ct2.json"
dpud_ctl 2 conntrack dump | head -n 20
python3 - "$E2E_DIR/ct2.json" <<'EOF' || e2e_fail "no tracked TCP connection to vm2:80 or :5201"
import json, sys
text = json.dumps(json.load(open(sys.argv[1])))
ok = "10.0.1.12" in text and ("5201" in text or '"80"' in text or ": 80" in text)
sys.exit(0 if ok else 1)
EOF
dpud_ctl 2 dpctl stats
echo "e2e_tcp: PASSED"
