#!/usr/bin/env bash
# End to end: the host agent.  ovnic-hostd runs in hv1's host namespace with a
# certificate of the DPU's CA (shared/util/pki) and talks hostlink over TLS to hv1's
# ovnic-dpud on its host-facing address.  With 4 VFs: VF0 is attached to VM vm1 with
# an iface-id, and the DPU claims the port (Port_Binding up=true); vm1 pings vm2 on
# hv2; detach gives up=false.  Killing hostd: the DPU keeps forwarding, and after the
# down delay the port is marked down; restarting it resyncs without a re-plug (up
# again, no new plug).  A re-plug to VF1 works.  Refusals, each with a clear error
# while the honest host keeps being served: a certificate of another CA, a host that
# the DPU does not list (another host's PFs), a MAC other than the SB's, an iface-id
# bound to another chassis.
#
# Usage: e2e_hostd.sh BUILD-DIR [--keep]   (root; exit 77 when it cannot run here)
set -euo pipefail

BUILD=$(cd "${1:?usage: e2e_hostd.sh BUILD-DIR}" && pwd)
KEEP=${2:-}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
E2E_DIR=$(mktemp -d /tmp/ovnic-e2e.XXXXXX)
. "$TOP/tests/e2e/lib.sh"

HOSTD="$BUILD/host/ovnic-hostd"
PKI="$BUILD/dpu/daemon/ovnic-e2e-pki"
HL_DPU=169.254.41.1
HL_HOST=169.254.41.2
HL_PORT=6650

finish() {
    local rc=$?
    e2e_cleanup
    ip link del "${E2E_LAB}hl" 2>/dev/null || true
    for vm in "$(vm_ns 1 vm1)" "$(vm_ns 1 vm3)" "$(vm_ns 2 vm2)"; do
        ip netns del "$vm" 2>/dev/null || true
    done
    if [ "$KEEP" != "--keep" ] && [ $rc = 0 ]; then
        rm -rf "$E2E_DIR"
    else
        echo "e2e: files kept in $E2E_DIR"
    fi
}
trap finish EXIT
e2e_tools
for t in "$HOSTD" "$PKI"; do
    [ -x "$t" ] || { echo "e2e: $t is missing (build first)" >&2; exit 1; }
done

e2e_step "Certificates: the DPU's CA, hv1's DPU, host1, host9, and a rogue CA"
P="$E2E_DIR/pki"
mkdir -p "$P"
"$PKI" ca ovnic-e2e-ca "$P/ca.pem" "$P/ca.key"
"$PKI" issue "$P/ca.pem" "$P/ca.key" hv1 "$P/dpu.pem" "$P/dpu.key"
"$PKI" issue "$P/ca.pem" "$P/ca.key" host1 "$P/host1.pem" "$P/host1.key"
"$PKI" issue "$P/ca.pem" "$P/ca.key" host9 "$P/host9.pem" "$P/host9.key"
"$PKI" ca ovnic-rogue-ca "$P/rogue-ca.pem" "$P/rogue-ca.key"
"$PKI" issue "$P/rogue-ca.pem" "$P/rogue-ca.key" host1 "$P/rogue.pem" "$P/rogue.key"

e2e_step "OVN central, a two-host lab with 4 VFs each, the host-facing link of hv1"
e2e_central
e2e_lab 2 4
H1="$E2E_LAB-h1"
ip link add "${E2E_LAB}hl" type veth peer name hl0 netns "$H1"
ip addr add "$HL_DPU/30" dev "${E2E_LAB}hl"
ip link set "${E2E_LAB}hl" up
ip -n "$H1" addr add "$HL_HOST/30" dev hl0
ip -n "$H1" link set hl0 up
SYSFS1=$(lab_get 1 sysfs_root)
PFMAC=$(cat "$SYSFS1"/devices/pci0000:00/0000:03:00.0/net/*/address | head -n1)
[ -n "$PFMAC" ] || e2e_fail "no PF MAC in hv1's sysfs"
REPS="$PFMAC/0=pf0vf0,$PFMAC/1=pf0vf1,$PFMAC/2=pf0vf2,$PFMAC/3=pf0vf3"

M1=02:00:00:00:01:11
e2e_vm 2 0 vm2
M2=$(vm_mac 2 vm2)
nbctl -- ls-add ls1 \
    -- lsp-add ls1 vm1 -- lsp-set-addresses vm1 "$M1 10.0.1.11" \
    -- lsp-add ls1 vm2 -- lsp-set-addresses vm2 "$M2 10.0.1.12" \
    -- lsp-add ls1 vm3 -- lsp-set-addresses vm3 "02:00:00:00:01:13 10.0.1.13"
e2e_vm_ip 2 vm2 10.0.1.12/24
e2e_dpud 1 --representors="$REPS" --hostlink-listen="pssl:$HL_PORT:$HL_DPU" \
    --hostlink-ca-cert="$P/ca.pem" --hostlink-certificate="$P/dpu.pem" \
    --hostlink-private-key="$P/dpu.key" --hostlink-lease-ms=3000 \
    --hostlink-down-delay-ms=2000 --hostlink-hosts="host1=$PFMAC" \
    --cms-options=enable-chassis-as-gw=false
e2e_dpud 2
e2e_bind 2 pf0vf0 vm2
e2e_wait_up

ip netns add "$(vm_ns 1 vm1)"
ip -n "$(vm_ns 1 vm1)" link set lo up

# hostd_run NAME CERT KEY CA [ARGS...]: ovnic-hostd run in hv1's host namespace;
# state in $E2E_DIR/NAME.
hostd_run() {
    local name=$1 cert=$2 key=$3 ca=$4
    shift 4
    ip netns exec "$H1" "$HOSTD" run --dpu "dpu1=ssl:$HL_DPU:$HL_PORT" \
        --ca-cert "$ca" --certificate "$cert" --private-key "$key" --name "$name" \
        --keepalive-ms 500 --sysfs-root "$SYSFS1" --state-dir "$E2E_DIR/$name" "$@" \
        >>"$E2E_DIR/$name.log" 2>&1 </dev/null &
    echo $! >"$E2E_DIR/$name.pid"
    E2E_PIDFILES+=("$E2E_DIR/$name.pid")
}

hostd() {
    local name=$1
    shift
    ip netns exec "$H1" "$HOSTD" "$@" --sysfs-root "$SYSFS1" --state-dir "$E2E_DIR/$name"
}

hostd_state() {
    hostd "$1" status --format json 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["dpus"][0]["session"]["state"])' \
            2>/dev/null || true
}

wait_hostd_state() {
    for _ in $(seq 100); do
        [ "$(hostd_state "$1")" = "$2" ] && return 0
        sleep 0.1
    done
    hostd "$1" status >&2 || true
    e2e_fail "hostd $1 is not $2"
}

plugs() {
    grep -c "plugged on" "$E2E_DIR/dpu1/dpud.log" || true
}

vm1_link() {
    local ns
    ns=$(vm_ns 1 vm1)
    ip -n "$ns" link set eth0 up
    ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null
    ip -n "$ns" addr replace 10.0.1.11/24 dev eth0
}

e2e_step "hostd run with host1's certificate: the session comes up"
hostd_run host1 "$P/host1.pem" "$P/host1.key" "$P/ca.pem"
wait_hostd_state host1 up
hostd host1 status
dpud_ctl 1 dpud hosts --format json >"$E2E_DIR/hosts.json" ||
    e2e_fail "ovnicctl dpud hosts"
python3 - "$E2E_DIR/hosts.json" <<'PY' || e2e_fail "dpud hosts does not show host1 up"
import json, sys
h = json.load(open(sys.argv[1]))
hosts = {x["identity"]: x for x in h["hosts"]}
assert hosts["host1"]["state"] == "up", hosts
assert hosts["host1"]["pfs"][0]["vf_count"] == 4, hosts
PY

e2e_step "attach VF0 to vm1 with iface-id vm1: the DPU claims it, up=true"
hostd host1 attach --vf 0 --netns "$(vm_ns 1 vm1)" --ifname eth0 --mac "$M1" \
    --iface-id vm1 || e2e_fail "attach VF0"
vm1_link
ms=$(e2e_wait_sb_up vm1 true 20) || e2e_fail "vm1 is not up in the SB"
echo "vm1 up in the SB ${ms} ms after the attach returned"
rtt=$(e2e_ping 1 vm1 10.0.1.12) || e2e_fail "vm1 -> vm2 through VF0"
echo "vm1 -> vm2: rtt min/avg/max $rtt ms"

e2e_step "detach: up=false; attach again"
hostd host1 detach --vf 0 || e2e_fail "detach VF0"
e2e_wait_sb_up vm1 false 10 >/dev/null || e2e_fail "vm1 still up after the detach"
hostd host1 attach --vf 0 --netns "$(vm_ns 1 vm1)" --ifname eth0 --mac "$M1" \
    --iface-id vm1 || e2e_fail "attach VF0 again"
vm1_link
e2e_wait_sb_up vm1 true 20 >/dev/null || e2e_fail "vm1 not up after the second attach"
e2e_ping 1 vm1 10.0.1.12 >/dev/null || e2e_fail "vm1 -> vm2 after the second attach"

e2e_step "kill hostd: the DPU keeps forwarding; the port goes down after the delay"
before=$(plugs)
kill -9 "$(cat "$E2E_DIR/host1.pid")"
e2e_ping 1 vm1 10.0.1.12 >/dev/null || e2e_fail "no forwarding without hostd"
e2e_wait_sb_up vm1 false 15 >/dev/null || e2e_fail "vm1 not marked down without its host"
e2e_ping 1 vm1 10.0.1.12 >/dev/null || e2e_fail "no forwarding once marked down"

e2e_step "restart hostd: resync, up again, without a re-plug"
rm -f "$E2E_DIR/host1/ovnic-hostd.ctl"
hostd_run host1 "$P/host1.pem" "$P/host1.key" "$P/ca.pem"
wait_hostd_state host1 up
e2e_wait_sb_up vm1 true 15 >/dev/null || e2e_fail "vm1 not up after the resync"
[ "$(plugs)" = "$before" ] || e2e_fail "the resync re-plugged ($before -> $(plugs))"
e2e_ping 1 vm1 10.0.1.12 >/dev/null || e2e_fail "vm1 -> vm2 after the resync"

e2e_step "re-plug vm1 to VF1"
hostd host1 attach --vf 1 --netns "$(vm_ns 1 vm1)" --ifname eth0 --mac "$M1" \
    --iface-id vm1 || e2e_fail "attach VF1"
vm1_link
e2e_wait_sb_up vm1 true 20 >/dev/null || e2e_fail "vm1 not up on VF1"
dpud_ctl 1 dpud port-list --format json | grep -q '"pf0vf1"' ||
    e2e_fail "pf0vf1 does not carry vm1"
e2e_ping 1 vm1 10.0.1.12 >/dev/null || e2e_fail "vm1 -> vm2 through VF1"

e2e_step "refused: a MAC other than the SB's"
ip netns add "$(vm_ns 1 vm3)"
if out=$(hostd host1 attach --vf 2 --netns "$(vm_ns 1 vm3)" --mac 02:00:00:00:09:99 \
    --iface-id vm3 2>&1); then
    e2e_fail "a wrong MAC was accepted"
fi
echo "$out"
echo "$out" | grep -q "mac-mismatch" || e2e_fail "no mac-mismatch error: $out"

e2e_step "refused: an iface-id bound to another chassis"
if out=$(hostd host1 attach --vf 3 --netns "$(vm_ns 1 vm3)" --mac "$M2" \
    --iface-id vm2 2>&1); then
    e2e_fail "vm2 (bound to hv2) was accepted"
fi
echo "$out"
echo "$out" | grep -q "bound-elsewhere" || e2e_fail "no bound-elsewhere error: $out"

e2e_step "refused: a certificate of another CA"
hostd_run rogue "$P/rogue.pem" "$P/rogue.key" "$P/ca.pem"
sleep 3
[ "$(hostd_state rogue)" != up ] || e2e_fail "a certificate of another CA was admitted"
hostd rogue status || true

e2e_step "refused: a host that does not own this DPU's PFs"
hostd_run host9 "$P/host9.pem" "$P/host9.key" "$P/ca.pem"
sleep 3
[ "$(hostd_state host9)" != up ] || e2e_fail "host9 was admitted"
hostd host9 status --format json | grep -q unauthorized ||
    e2e_fail "host9 was not refused as unauthorized"

e2e_step "the honest host is still served"
[ "$(hostd_state host1)" = up ] || e2e_fail "host1 lost its session"
e2e_ping 1 vm1 10.0.1.12 >/dev/null || e2e_fail "vm1 -> vm2 after the refusals"
[ "$(sb_up vm1)" = true ] || e2e_fail "vm1 is not up after the refusals"
dpud_ctl 1 dpud hosts
ovn-sbctl --db="$SB" get Chassis hv1 other_config:ovn-cms-options
e2e_step "PASS"
