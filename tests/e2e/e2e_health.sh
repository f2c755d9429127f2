#!/usr/bin/env bash
# End to end: load-balancer health checks (SB Service_Monitor) through ovnic-dpud's
# DPDK datapath.  vm1 (hv1) opens HTTP connections to a VIP whose two backends, vm2
# and vm3, run on hv2; the load balancer has a health check and maps each backend to
# its logical port (ip_port_mappings), so ovn-northd creates one Service_Monitor per
# backend and hv2's ovnic-dpud probes them (TCP SYN out of the backend's representor;
# the SYN+ACK comes back through handle_svc_check()).
#
#   1. both monitors go online; connections to the VIP reach both backends;
#   2. vm2's server stops (its kernel answers the probes with RST): vm2's monitor goes
#      offline within a few intervals, northd drops vm2 from the VIP, and every new
#      connection reaches vm3;
#   3. vm2's server starts again: online, and vm2 serves connections again.
#
# Usage: e2e_health.sh BUILD-DIR [--keep]   (root; exit 77 when it cannot run here)
set -euo pipefail

BUILD=$(cd "${1:?usage: e2e_health.sh BUILD-DIR}" && pwd)
KEEP=${2:-}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
E2E_DIR=$(mktemp -d /tmp/ovnic-e2e.XXXXXX)
. "$TOP/tests/e2e/lib.sh"
trap e2e_finish EXIT
e2e_tools
for t in wget ss python3; do
    command -v "$t" >/dev/null || { echo "e2e: $t not installed" >&2; exit 77; }
done
VIP=172.16.0.100
SVC_SRC=10.0.1.254
N_CONN=12
INTERVAL=1 # s
FAILURES=2

# svc_json HOST: the health checks of hv HOST (ovnicctl dpctl svc-monitors), as JSON.
svc_json() {
    dpud_ctl "$1" dpctl svc-monitors --format=json
}

# svc_status BACKEND-IP: the Service_Monitor status of the backend ("" if none yet).
svc_status() {
    ovn-sbctl --db="$SB" --bare --columns=status find Service_Monitor ip="$1"
}

# wait_status BACKEND-IP STATUS SECONDS
wait_status() {
    local st=
    for _ in $(seq $(($3 * 10))); do
        st=$(svc_status "$1")
        [ "$st" = "$2" ] && return 0
        sleep 0.1
    done
    ovn-sbctl --db="$SB" list Service_Monitor >&2
    svc_json 2 >&2 || true
    e2e_fail "Service_Monitor $1 is '$st', not '$2', after $3 s"
}

# connect N: N HTTP connections from vm1 to the VIP; the answers in $E2E_DIR/answers.
connect() {
    : >"$E2E_DIR/answers"
    for i in $(seq "$1"); do
        vm_exec 1 vm1 wget -q -T 3 -O - "http://$VIP/index.html" >>"$E2E_DIR/answers" ||
            e2e_fail "connection $i to the VIP"
    done
    sort "$E2E_DIR/answers" | uniq -c
    N2=$(grep -c '^vm2$' "$E2E_DIR/answers" || true)
    N3=$(grep -c '^vm3$' "$E2E_DIR/answers" || true)
    [ $((N2 + N3)) = "$1" ] || e2e_fail "unexpected answers"
}

# lb_backends: the backends of the VIP's ct_lb_mark flow, as northd wrote it.
lb_backends() {
    ovn-sbctl --db="$SB" lflow-list ls1 | grep "ls_in_lb" | grep "$VIP" |
        sed -n 's/.*ct_lb_mark(backends=\([^)]*\)).*/\1/p' | head -n 1
}

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
e2e_vm_ip 2 vm3 10.0.1.13/24 10.0.1.1

e2e_step "Topology: ls1 (vm1 hv1; vm2, vm3 hv2), lr1; lb1 $VIP:80 with a health check"
nbctl -- ls-add ls1 -- lr-add lr1 \
    -- lsp-add ls1 vm1 -- lsp-set-addresses vm1 "$M1 10.0.1.11" \
    -- lsp-add ls1 vm2 -- lsp-set-addresses vm2 "$M2 10.0.1.12" \
    -- lsp-add ls1 vm3 -- lsp-set-addresses vm3 "$M3 10.0.1.13" \
    -- lrp-add lr1 lr1-ls1 0a:00:00:00:01:01 10.0.1.1/24 \
    -- lsp-add ls1 ls1-lr1 -- lsp-set-type ls1-lr1 router \
    -- lsp-set-addresses ls1-lr1 router -- lsp-set-options ls1-lr1 router-port=lr1-ls1 \
    -- lb-add lb1 "$VIP:80" 10.0.1.12:80,10.0.1.13:80 tcp \
    -- ls-lb-add ls1 lb1
nbctl set Load_Balancer lb1 ip_port_mappings:10.0.1.12=vm2:$SVC_SRC \
    ip_port_mappings:10.0.1.13=vm3:$SVC_SRC
nbctl -- --id=@hc create Load_Balancer_Health_Check vip="$VIP\:80" \
    options:interval=$INTERVAL options:timeout=1 options:success_count=1 \
    options:failure_count=$FAILURES \
    -- add Load_Balancer lb1 health_check @hc
nbctl lb-list
timeout 30 ovn-nbctl --db="$NB" --wait=sb sync
ovn-sbctl --db="$SB" --columns=logical_port,ip,port,protocol,src_ip,src_mac,options \
    list Service_Monitor
[ "$(ovn-sbctl --db="$SB" --bare --columns=_uuid list Service_Monitor | grep -c .)" = 2 ] ||
    e2e_fail "northd did not create two Service_Monitor rows"

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

e2e_step "Health checks from hv2: both backends online"
wait_status 10.0.1.12 online 20
wait_status 10.0.1.13 online 20
ovn-sbctl --db="$SB" --columns=logical_port,ip,port,status list Service_Monitor
svc_json 2 | python3 -c '
import json, sys
d = json.load(sys.stdin)
for m in d["monitors"]:
    print("  %-4s %s:%s %-7s probes %d replies %d" % (m["logical_port"], m["ip"], m["port"],
          m["status"], m["probes"], m["replies"]))
s = d["stats"]
print("  hv2: %d probes, %d resets, %d replies" % (s["probes"], s["resets"], s["replies"]))
assert s["resets"] > 0 and s["replies"] > 0, "no SYN+ACK reached the monitors"'
[ "$(svc_json 1 | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["monitors"]))')" = 0 ] ||
    e2e_fail "hv1 monitors backends it does not host"
timeout 30 ovn-nbctl --db="$NB" --wait=hv sync
echo "VIP backends: $(lb_backends)"

e2e_step "$N_CONN connections to the VIP: both backends serve"
connect "$N_CONN"
if [ "$N2" = 0 ] || [ "$N3" = 0 ]; then
    e2e_fail "connections not spread: vm2 $N2, vm3 $N3"
fi

e2e_step "vm2's server stops: vm2 goes offline, the VIP sends everything to vm3"
kill "$(cat "$E2E_DIR/httpd-vm2.pid")"
T0=$(date +%s%N)
wait_status 10.0.1.12 offline 20
T1=$(date +%s%N)
echo "vm2 offline after $(((T1 - T0) / 1000000)) ms (interval ${INTERVAL} s, failure_count $FAILURES)"
[ "$(svc_status 10.0.1.13)" = online ] || e2e_fail "vm3 went offline too"
timeout 30 ovn-nbctl --db="$NB" --wait=hv sync
B=$(lb_backends)
echo "VIP backends: $B"
[ "$B" = "10.0.1.13:80" ] || e2e_fail "northd still balances to '$B'"
connect "$N_CONN"
[ "$N3" = "$N_CONN" ] || e2e_fail "vm2 served $N2 connections while offline"

e2e_step "vm2's server starts again: online, and vm2 serves again"
e2e_spawn 2 vm2 httpd-vm2-again busybox httpd -f -p 80 -h "$E2E_DIR/www-vm2"
e2e_wait_listen 2 vm2 80
T0=$(date +%s%N)
wait_status 10.0.1.12 online 20
T1=$(date +%s%N)
echo "vm2 online after $(((T1 - T0) / 1000000)) ms"
timeout 30 ovn-nbctl --db="$NB" --wait=hv sync
echo "VIP backends: $(lb_backends)"
connect "$N_CONN"
[ "$N2" -gt 0 ] || e2e_fail "vm2 serves no connection after coming back"
echo "e2e_health: PASSED"
