#!/usr/bin/env bash
# End to end: the simulated NIC of one host goes away and comes back, as when a NIC
# resets or a firmware update reboots it, while a VM on the other host pings a VM on
# it every 10 ms.  ovnic-dpud must notice that its uplink and representor are gone,
# mark the VM's Port_Binding down in the SB, reconnect with back-off once the NIC is
# back, and mark it up again; forwarding must resume within 3 s of the NIC's return.
# Three cases: ovnic-nicsim killed (SIGKILL), stopped cleanly (SIGTERM), and
# ovnic-dpud started while the NIC is absent.
#
# A NIC reset destroys the VFs (docs/ovnic-sim-lab.md, "nic-stop, nic-start"): when
# the NIC is back, this script does what the host's agent does (sriov_numvfs again)
# and gives the VM its new VF, as a hypervisor would.
#
# Usage: e2e_nicreset.sh BUILD-DIR [--keep]   (root; exit 77 when it cannot run here)
set -euo pipefail

BUILD=$(cd "${1:?usage: e2e_nicreset.sh BUILD-DIR}" && pwd)
KEEP=${2:-}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
E2E_DIR=$(mktemp -d /tmp/ovnic-e2e.XXXXXX)
. "$TOP/tests/e2e/lib.sh"

RESUME_MAX_MS=3000
PING_PID=

finish() {
    local rc=$?
    [ -z "$PING_PID" ] || kill "$PING_PID" 2>/dev/null || true
    e2e_cleanup
    if [ "$KEEP" != "--keep" ] && [ $rc = 0 ]; then
        rm -rf "$E2E_DIR"
    else
        echo "e2e: files kept in $E2E_DIR"
    fi
}
trap finish EXIT
e2e_tools

lab() {
    "$SIM" lab "$@" --name "$E2E_LAB" --dir "$E2E_DIR/lab"
}

now() {
    date +%s.%N
}

# ping_start NAME: vm2 (hv2) pings vm1 (hv1) every 10 ms, with timestamps.
ping_start() {
    ip netns exec "$(vm_ns 2 vm2)" ping -D -n -i 0.01 -W 1 10.0.1.11 \
        >"$E2E_DIR/$1.ping" 2>&1 &
    PING_PID=$!
}

ping_stop() {
    kill -INT "$PING_PID"
    wait "$PING_PID" || true
    PING_PID=
}

# wait_reply NAME SINCE SECONDS: waits until the ping log NAME has a reply stamped
# after SINCE (epoch seconds).
wait_reply() {
    local deadline=$(($(date +%s) + $3))
    while [ "$(date +%s)" -le "$deadline" ]; do
        python3 - "$E2E_DIR/$1.ping" "$2" <<'EOF' && return 0
import re, sys
since = float(sys.argv[2])
for line in open(sys.argv[1]):
    m = re.match(r"\[(\d+\.\d+)\] \d+ bytes from", line)
    if m and float(m.group(1)) > since:
        sys.exit(0)
sys.exit(1)
EOF
        sleep 0.05
    done
    return 1
}

# report NAME T_GONE T_BACK T_SB_DOWN: the outage (last reply before T_GONE to first
# reply after T_BACK), the time to resume (T_BACK to that reply) and how long after
# the last reply the SB showed the port down, in ms, from the ping log; fails if
# forwarding took more than RESUME_MAX_MS to resume.
report() {
    python3 - "$E2E_DIR/$1.ping" "$2" "$3" "$RESUME_MAX_MS" "$1" "$4" <<'EOF'
import re, sys
path, gone, back, limit, name = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), \
    int(sys.argv[4]), sys.argv[5]
sb_down = float(sys.argv[6])
replies = []
sent = received = None
for line in open(path):
    m = re.match(r"\[(\d+\.\d+)\] \d+ bytes from", line)
    if m:
        replies.append(float(m.group(1)))
    m = re.match(r"(\d+) packets transmitted, (\d+) received", line)
    if m:
        sent, received = int(m.group(1)), int(m.group(2))
before = [t for t in replies if t < gone]
after = [t for t in replies if t > back]
assert before, "no reply before the NIC went away"
assert after, "no reply after the NIC came back"
outage = (after[0] - before[-1]) * 1000
resume = (after[0] - back) * 1000
print(f"{name}: NIC away {(back - gone) * 1000:.0f} ms; outage {outage:.0f} ms; "
      f"forwarding resumed {resume:.0f} ms after the NIC's return; "
      f"{sent} pings, {sent - received} lost; SB showed vm1 down "
      f"{(sb_down - before[-1]) * 1000:.0f} ms after its last reply")
assert resume <= limit, f"forwarding resumed after {resume:.0f} ms (> {limit} ms)"
EOF
}

# dp_port_state HOST PORT: the state ovnic-dpud shows for datapath port PORT.
dp_port_state() {
    dpud_ctl "$1" dpud status --format=json | python3 -c '
import json, sys
for p in json.load(sys.stdin).get("dp_ports", []):
    if p["name"] == sys.argv[1]:
        print(p["state"])' "$2"
}

# expect_dp_state HOST PORT STATE...: PORT is in one of the STATEs within 5 s.
expect_dp_state() {
    local h=$1 port=$2 st
    shift 2
    for _ in $(seq 100); do
        st=$(dp_port_state "$h" "$port")
        for want in "$@"; do
            [ "$st" = "$want" ] && return 0
        done
        sleep 0.05
    done
    dpud_ctl "$h" dpud status >&2
    e2e_fail "hv$h: $port is '$st', not $*"
}

# nic_back: what the host and the hypervisor do once host 1's NIC is back: enable the
# VF again and give vm1 its new netdev, with its address (and its neighbour, see
# below).
nic_back() {
    e2e_host_vfs 1 1
    e2e_vm_plug 1 0 vm1
    e2e_vm_ip 1 vm1 10.0.1.11/24
    vm_exec 1 vm1 ip neigh replace 10.0.1.12 lladdr "$M2" dev eth0 nud permanent
}

# ms_since T: milliseconds from T (epoch seconds) to now.
ms_since() {
    python3 -c 'import sys, time; print(int((time.time() - float(sys.argv[1])) * 1000))' "$1"
}

e2e_step "OVN central, a two-host lab, vm1 on hv1 and vm2 on hv2"
e2e_central
e2e_lab 2 1
e2e_vm 1 0 vm1
e2e_vm 2 0 vm2
M1=$(vm_mac 1 vm1)
M2=$(vm_mac 2 vm2)
nbctl -- ls-add ls1 \
    -- lsp-add ls1 vm1 -- lsp-set-addresses vm1 "$M1 10.0.1.11" \
    -- lsp-add ls1 vm2 -- lsp-set-addresses vm2 "$M2 10.0.1.12"
e2e_vm_ip 1 vm1 10.0.1.11/24
e2e_vm_ip 2 vm2 10.0.1.12/24
# The VMs know each other's MAC, so that what is measured is the datapath's recovery,
# not the kernel's ARP retries after a long outage (up to 1 s each).
vm_exec 1 vm1 ip neigh replace 10.0.1.12 lladdr "$M2" dev eth0 nud permanent
vm_exec 2 vm2 ip neigh replace 10.0.1.11 lladdr "$M1" dev eth0 nud permanent
e2e_dpud 1
e2e_dpud 2
e2e_bind 1 pf0vf0 vm1
e2e_bind 2 pf0vf0 vm2
e2e_wait_up
e2e_ping 2 vm2 10.0.1.11 >/dev/null || e2e_fail "vm2 -> vm1 before any reset"

e2e_step "ovnic-sim lab nic-*: refused uses"
# expect STATUS TEXT CMD...: CMD exits with STATUS and says TEXT.
expect() {
    local want=$1 text=$2 rc=0 out
    shift 2
    out=$("$@" 2>&1) || rc=$?
    [ "$rc" = "$want" ] && [[ "$out" == *"$text"* ]] ||
        e2e_fail "'$*': exit $rc, '$out' (want $want, '$text')"
}
expect 1 "is running" lab nic-start --host 1
expect 1 "no such host" lab nic-stop --host 3
expect 2 "--host is required" lab nic-stop
expect 2 "bad --host" lab nic-stop --host 0
expect 2 "bad --down-ms" lab nic-restart --host 1 --down-ms -5
expect 2 "do not go with" lab nic-start --host 1 --kill
expect 2 "go with nic-stop" lab status --host 1

for mode in kill term; do
    e2e_step "NIC of hv1 away ($([ $mode = kill ] && echo SIGKILL || echo SIGTERM)) under traffic"
    ping_start "$mode"
    sleep 1
    T_GONE=$(now)
    # (In the background: ovnic-nicsim takes a second or two to exit under ASan,
    # while the SB is watched.)
    if [ $mode = kill ]; then
        lab nic-stop --host 1 --kill &
    else
        lab nic-stop --host 1 &
    fi
    STOP_PID=$!
    e2e_wait_sb_up vm1 false 10 >/dev/null ||
        e2e_fail "vm1 still up in the SB with its NIC gone"
    T_SB_DOWN=$(now)
    wait "$STOP_PID" || e2e_fail "nic-stop"
    expect_dp_state 1 pf0vf0 down
    expect_dp_state 1 uplink down
    grep -q "port pf0vf0 .*link down" "$E2E_DIR/dpu1/dpud.log" ||
        e2e_fail "hv1 did not log the loss of pf0vf0"
    [ "$(sb_up vm2)" = true ] || e2e_fail "vm2 (hv2) went down too"
    sleep 1
    lab nic-start --host 1
    T_BACK=$(now)
    nic_back
    wait_reply "$mode" "$T_BACK" 10 || e2e_fail "forwarding did not resume"
    e2e_wait_sb_up vm1 true 5 >/dev/null || e2e_fail "vm1 not up again in the SB"
    echo "SB: vm1 up=true again $(ms_since "$T_BACK") ms after the NIC's return"
    expect_dp_state 1 pf0vf0 up
    expect_dp_state 1 uplink up
    sleep 0.5
    ping_stop
    report "$mode" "$T_GONE" "$T_BACK" "$T_SB_DOWN"
    grep -E "port (uplink|pf0vf0): link up again" "$E2E_DIR/dpu1/dpud.log" | tail -n 2 |
        sed 's/^.*|INFO|/hv1: /'
done

e2e_step "ovnic-dpud started while the NIC is absent"
lab nic-stop --host 1
e2e_dpud_stop 1
: >"$E2E_DIR/dpu1/dpud.log"
e2e_dpud 1
sleep 1
expect_dp_state 1 uplink waiting
expect_dp_state 1 pf0vf0 waiting
grep -q "waiting for" "$E2E_DIR/dpu1/dpud.log" || e2e_fail "hv1 did not log that it waits"
dpud_ctl 1 dpud status | sed -n '/^dp_ports:/,$p'
[ "$(sb_up vm1)" != true ] || e2e_fail "vm1 up in the SB without its NIC"
ping_start absent
sleep 1
T_GONE=$(now)
lab nic-start --host 1
T_BACK=$(now)
nic_back
wait_reply absent "$T_BACK" 10 || e2e_fail "forwarding did not start"
e2e_wait_sb_up vm1 true 5 >/dev/null || e2e_fail "vm1 not up in the SB"
expect_dp_state 1 uplink up
sleep 0.5
ping_stop
python3 - "$E2E_DIR/absent.ping" "$T_BACK" "$RESUME_MAX_MS" <<'EOF'
import re, sys
back, limit = float(sys.argv[2]), int(sys.argv[3])
first = min(float(m.group(1)) for m in
            (re.match(r"\[(\d+\.\d+)\] \d+ bytes from", l) for l in open(sys.argv[1])) if m)
resume = (first - back) * 1000
print(f"start while absent: forwarding began {resume:.0f} ms after the NIC's arrival")
assert resume <= limit, f"took {resume:.0f} ms (> {limit} ms)"
EOF
echo "e2e_nicreset: PASSED"
