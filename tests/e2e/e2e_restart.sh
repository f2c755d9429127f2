#!/usr/bin/env bash
# End to end: how long forwarding stops when ovnic-dpud restarts. A VM on hv1 pings a
# VM on hv2 every 10 ms (Geneve through the underlay) while hv1's ovnic-dpud restarts,
# four ways: SIGTERM then a new start, `ovnicctl dpud exit --restart` then a new start,
# SIGKILL then a new start, and a new start with --replace while the old daemon runs
# (it starts DPDK first, then makes the old one exit). For each, the test prints the
# outage (the longest silence between two replies), the pings lost, how long the old
# process took to go and the new one to be ready. It asserts that forwarding resumes,
# that the port stays up in the SB, that every outage stays under
# E2E_RESTART_MAX_GAP_MS (default 3000 ms: the datapath is software only, so
# forwarding stops while no process runs it), and that --replace's outage is shorter
# than that of a stop and start.
#
# Usage: e2e_restart.sh BUILD-DIR [--keep]   (root; exit 77 when it cannot run here)
set -euo pipefail

BUILD=$(cd "${1:?usage: e2e_restart.sh BUILD-DIR}" && pwd)
KEEP=${2:-}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
E2E_DIR=$(mktemp -d /tmp/ovnic-e2e.XXXXXX)
MAX_GAP_MS=${E2E_RESTART_MAX_GAP_MS:-3000}
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

e2e_step "OVN central and a two-host lab, vm1 on hv1, vm2 on hv2, one switch"
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
e2e_dpud 1
e2e_dpud 2
e2e_bind 1 pf0vf0 vm1
e2e_bind 2 pf0vf0 vm2
e2e_wait_up
e2e_ping 1 vm1 10.0.1.12 >/dev/null || e2e_fail "vm1 -> vm2 before any restart"

# hv1's lab values, read once: so that a restart's time is ovnic-dpud's, not that of
# reading lab.json.
declare -A LAB1
for k in encap_ip memif_dir uplink_mac; do
    LAB1[$k]=$(lab_get 1 "$k")
done
lab_get() {
    if [ "$1" = 1 ] && [ -n "${LAB1[$2]:-}" ]; then
        echo "${LAB1[$2]}"
    else
        python3 -c 'import json,sys; h=json.load(open(sys.argv[1]))["host_list"][int(sys.argv[2])-1]; print(h[sys.argv[3]])' \
            "$E2E_DIR/lab/lab.json" "$1" "$2"
    fi
}

# gone PID: true once PID has exited: no process, or a zombie whose threads have all
# exited (then it holds no file, socket or lock any more, and the lab's init may take
# a while to reap it).
gone() {
    local st
    st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
    [ -n "$st" ] || return 0
    [ "$st" = Z ] || [ "$st" = X ] || return 1
    [ "$(find "/proc/$1/task" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)" -le 1 ]
}

# restart_gap HOW: pings from vm1 every 10 ms while hv1's ovnic-dpud stops (HOW: term,
# exit-restart, kill) and starts again; prints one line of KEY=VALUE: lost pings, the
# outage (from the last reply before it to the first reply after it), how long the old
# process took to exit, and how long the new one took until its control socket
# answered.
restart_gap() {
    local how=$1 pidf="$E2E_DIR/dpu1/ovnic-dpud.pid" log="$E2E_DIR/ping-$1.log"
    local pid
    pid=$(cat "$pidf")
    # -D: a timestamp on every reply.
    vm_exec 1 vm1 ping -n -D -i 0.01 -W 1 -w 8 10.0.1.12 >"$log" 2>&1 &
    local ping=$!
    sleep 2
    local t0 t1 t2
    t0=$(date +%s.%N)
    case "$how" in
    term) kill -TERM "$pid" ;;
    exit-restart) dpud_ctl 1 dpud exit --restart >/dev/null ;;
    kill) kill -KILL "$pid" ;;
    esac
    if [ "$how" = replace ]; then
        # The new daemon starts while the old one forwards, and makes it exit.
        t1=$t0
        e2e_dpud 1 --replace
        for _ in $(seq 100); do
            gone "$pid" && break
            sleep 0.01
        done
        gone "$pid" || e2e_fail "--replace: the old ovnic-dpud still runs"
    else
        for _ in $(seq 500); do
            gone "$pid" && break
            sleep 0.002
        done
        gone "$pid" || e2e_fail "ovnic-dpud ($how) did not stop"
        t1=$(date +%s.%N)
        e2e_dpud 1
    fi
    t2=$(date +%s.%N)
    wait "$ping" || true
    python3 - "$log" "$how" "$t0" "$t1" "$t2" <<'PY'
import re, sys
log, how = sys.argv[1], sys.argv[2]
t0, t1, t2 = map(float, sys.argv[3:6])
replies = []
sent = 0
for line in open(log):
    m = re.match(r"\[(\d+\.\d+)\] \d+ bytes from .* icmp_seq=(\d+)", line)
    if m:
        replies.append((float(m.group(1)), int(m.group(2))))
    m = re.search(r"(\d+) packets transmitted, (\d+) received", line)
    if m:
        sent = int(m.group(1))
lost = sent - len({s for _, s in replies})
times = sorted(t for t, _ in replies)
after = [t for t in times if t > t0]
before = [t for t in times if t <= t0]
if not after or not before:
    print(f"{how}: forwarding did not resume", file=sys.stderr)
    sys.exit(1)
# The outage: the longest silence between two replies from the stop on.
pts = [before[-1]] + after
outage = max(b - a for a, b in zip(pts, pts[1:]))
print(f"{how} lost={lost} outage_ms={outage * 1000:.0f} "
      f"exit_ms={(t1 - t0) * 1000:.0f} start_ms={(t2 - t1) * 1000:.0f}")
PY
}

e2e_step "Restart gaps (10 ms pings from vm1 to vm2 while hv1's ovnic-dpud restarts)"
: >"$E2E_DIR/gaps.txt"
for how in term exit-restart kill replace; do
    restart_gap "$how" | tee -a "$E2E_DIR/gaps.txt" || e2e_fail "$how: no forwarding after restart"
    up=$(ovn-sbctl --db="$SB" --bare --columns=up find Port_Binding logical_port=vm1)
    [ "$up" = true ] || e2e_fail "$how: Port_Binding vm1 is not up after the restart"
done
python3 - "$E2E_DIR/gaps.txt" "$MAX_GAP_MS" <<'PY'
import sys
rows = [dict(kv.split("=") for kv in l.split()[1:]) | {"how": l.split()[0]}
        for l in open(sys.argv[1]) if l.strip()]
limit = int(sys.argv[2])
for r in rows:
    print(f"restart gap: {r['how']:<13} outage {int(r['outage_ms']):>5} ms, "
          f"{r['lost']:>4} pings lost (10 ms apart); old process gone in "
          f"{r['exit_ms']} ms, new one ready in {r['start_ms']} ms")
bad = [r for r in rows if int(r["outage_ms"]) > limit]
assert not bad, f"gap over {limit} ms: {bad}"
by = {r["how"]: int(r["outage_ms"]) for r in rows}
assert by["replace"] < by["term"], f"--replace is no shorter than stop and start: {by}"
PY
echo "e2e_restart: PASSED"
