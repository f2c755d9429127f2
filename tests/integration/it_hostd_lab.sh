#!/usr/bin/env bash
# Integration: ovnic-hostd on a simulated host of `ovnic-sim lab` (one host, 4 VFs):
# inventory of the simulated NIC (PF, MAC, serial number from VPD), the VF count
# through sriov_numvfs (0 first between nonzero counts), VF 0 attached to a VM
# namespace as eth0 with a MAC and spoofchk off (the veth-backed VF has no VF
# netlink ops: each setting's error names it and the attachment goes on), the
# record in the inventory, refusals (attached twice, VF count while attached, a VM
# without vfio-pci, bad input), and detach.
#
# Usage: it_hostd_lab.sh BUILD-DIR   (root; exit 77 when it cannot run here)
set -euo pipefail

BUILD=$(cd "${1:?usage: it_hostd_lab.sh BUILD-DIR}" && pwd)
HOSTD="$BUILD/host/ovnic-hostd"
SIM="$BUILD/tests/hw-sim/lab/ovnic-sim"
export OVNIC_NICSIM="$BUILD/tests/hw-sim/nicsim/ovnic-nicsim"
for t in "$HOSTD" "$SIM" "$OVNIC_NICSIM"; do
    [ -x "$t" ] || { echo "it_hostd_lab: $t is missing (build first)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "it_hostd_lab: needs root" >&2; exit 77; }
command -v python3 >/dev/null || { echo "it_hostd_lab: python3 missing" >&2; exit 77; }

T=$(mktemp -d /tmp/ovnic-it-hostd.XXXXXX)
LAB=ith$$
VM="$LAB-h1-vm1"
cleanup() {
    "$SIM" lab down --name "$LAB" --dir "$T/lab" >/dev/null 2>&1 || true
    rm -rf "$T"
}
trap cleanup EXIT

fail() {
    echo "it_hostd_lab: FAILED: $*" >&2
    for f in "$T"/out "$T"/err; do
        [ -s "$f" ] && { echo "---- $f" >&2; cat "$f" >&2; }
    done
    exit 1
}

step() {
    echo "==> $*"
}

"$SIM" lab up --name "$LAB" --hosts 1 --vfs 4 --dir "$T/lab" >"$T/lab-up.log" 2>&1 ||
    { cat "$T/lab-up.log" >&2; fail "lab up"; }
SYSFS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["host_list"][0]["sysfs_root"])' "$T/lab/lab.json")
HOSTNS="$LAB-h1"

# hostd ARGS...: ovnic-hostd in the simulated host, stdout in $T/out, stderr in
# $T/err; returns its exit status.
hostd() {
    local rc=0
    ip netns exec "$HOSTNS" "$HOSTD" "$@" --sysfs-root "$SYSFS" --state-dir "$T/state" \
        >"$T/out" 2>"$T/err" || rc=$?
    return $rc
}

# check PYTHON-EXPRESSION: evaluated with j = the JSON in $T/out.
check() {
    python3 - "$T/out" "$1" <<'PY' || fail "check: $1"
import json, sys
j = json.load(open(sys.argv[1]))
if not eval(sys.argv[2]):
    print(json.dumps(j, indent=1), file=sys.stderr)
    sys.exit(1)
PY
}

expect_rc() {
    local want=$1 rc=0
    shift
    hostd "$@" || rc=$?
    [ "$rc" = "$want" ] || fail "ovnic-hostd $*: exit $rc, expected $want"
}

step "inventory: the simulated NIC, no VF yet"
expect_rc 0 inventory --format json
check 'len(j["pfs"]) == 1'
check 'j["pfs"][0]["pci_addr"] == "0000:03:00.0" and j["pfs"][0]["netdev"] == "pf0"'
check 'j["pfs"][0]["mac"] == "0c:42:a1:00:01:01"'
check 'j["pfs"][0]["serial_number"] == "SIMA1000101"'
check 'j["pfs"][0]["vendor"] == "15b3" and j["pfs"][0]["driver"] == "mlx5_core"'
check 'j["pfs"][0]["sriov_totalvfs"] == 4 and j["pfs"][0]["sriov_numvfs"] == 0'
check 'j["pfs"][0]["vfs"] == []'

step "vfs pf0 4, then 2 and 4 again (through 0)"
expect_rc 0 vfs pf0 4
grep -q "4 of 4 VFs" "$T/out" || fail "vfs output"
expect_rc 0 vfs pf0 2 --format json
check 'j["sriov_numvfs"] == 2'
ip -n "$HOSTNS" link show pf0v2 >/dev/null 2>&1 && fail "pf0v2 still exists with 2 VFs"
expect_rc 0 vfs 0000:03:00.0 4
expect_rc 1 vfs pf0 5
grep -q "more VFs than sriov_totalvfs" "$T/err" || fail "vfs 5 message"
expect_rc 0 inventory --format json
check '[v["netdev"] for v in j["pfs"][0]["vfs"]] == ["pf0v0", "pf0v1", "pf0v2", "pf0v3"]'
check '[v["pci_addr"] for v in j["pfs"][0]["vfs"]][3] == "0000:03:00.5"'
check 'all(v["driver"] == "mlx5_core" and v["attached"] is None for v in j["pfs"][0]["vfs"])'
check 'j["pfs"][0]["vfs"][1]["mac"] == "02:42:a1:00:01:11"'
ip -n "$HOSTNS" link show pf0v3 >/dev/null || fail "pf0v3 missing"

step "attach VF 0 to $VM as eth0, MAC and spoofchk off (veth: no VF ops)"
ip netns add "$VM"
expect_rc 0 attach --vf 0 --netns "$VM" --ifname eth0 --mac 02:42:a1:00:01:20 \
    --spoofchk off --iface-id lsp1 --format json
cat "$T/err"
grep -q "VF 0: spoofchk: operation not supported by the device" "$T/err" ||
    fail "no spoofchk error naming the setting"
check 'j["attached"] is True and j["netns"] == "'"$VM"'" and j["netdev"] == "eth0"'
check '[(s["setting"], s["result"]) for s in j["settings"]] == [("mac", "fallback"), ("spoofchk", "error")]'
check 'j["settings"][1]["message"] == "VF 0: spoofchk: operation not supported by the device"'
ip -n "$VM" -o link show eth0 | grep -q "link/ether 02:42:a1:00:01:20" ||
    fail "eth0 with the MAC is not in $VM"
ip -n "$HOSTNS" link show pf0v0 >/dev/null 2>&1 && fail "pf0v0 is still in the host"
expect_rc 0 inventory --format json
check 'j["pfs"][0]["vfs"][0]["attached"] == "netns" and j["pfs"][0]["vfs"][0]["netns"] == "'"$VM"'"'
check 'j["pfs"][0]["vfs"][0]["netdev"] == "eth0" and j["pfs"][0]["vfs"][0]["iface_id"] == "lsp1"'
check 'j["pfs"][0]["vfs"][0]["mac"] == "02:42:a1:00:01:20"'
check 'j["pfs"][0]["vfs"][0]["host_netdev"] == "pf0v0"'
check 'j["pfs"][0]["vfs"][1]["attached"] is None'
expect_rc 0 inventory
grep -q "netns $VM" "$T/out" || fail "table inventory"
python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["attachments"]; assert len(a)==1 and a[0]["iface_id"]=="lsp1"' \
    "$T/state/attachments.json" || fail "state file"

step "refusals: attached twice, VF count while attached, a VM without vfio-pci"
expect_rc 1 attach --vf 0 --netns "$VM"
grep -q "already attached" "$T/err" || fail "double attach message"
expect_rc 1 vfs pf0 2
grep -q "detach them first" "$T/err" || fail "vfs while attached message"
expect_rc 1 attach --vf 1 --vm --mac 02:42:a1:00:01:21
grep -q "vfio-pci: driver not loaded" "$T/err" || fail "vfio-pci message"
expect_rc 0 inventory --format json
check 'j["pfs"][0]["vfs"][1]["attached"] is None and j["pfs"][0]["vfs"][1]["mac"] == "02:42:a1:00:01:11"'
expect_rc 1 attach --vf 2 --netns "$LAB-nosuch"
grep -q "no such network namespace" "$T/err" || fail "missing netns message"
expect_rc 1 attach --vf 3 --netns "$VM" --ifname eth0
grep -q "the name is taken in the namespace" "$T/err" || fail "name taken message"
ip -n "$HOSTNS" link show pf0v3 >/dev/null || fail "pf0v3 moved despite the error"
expect_rc 2 attach --vf 2 --netns "$VM" --vlan 5000
expect_rc 2 attach --vf 2
expect_rc 2 frobnicate
expect_rc 2 inventory --vlan 3
expect_rc 0 attach --help
grep -q -- "--spoofchk on|off" "$T/out" || fail "attach --help"

step "detach VF 0"
expect_rc 0 detach --vf 0 --format json
check 'j["netns"] == "'"$VM"'" and j["netdev"] == "pf0v0" and j["iface_id"] == "lsp1"'
ip -n "$HOSTNS" link show pf0v0 >/dev/null || fail "pf0v0 is not back in the host"
ip -n "$VM" link show eth0 >/dev/null 2>&1 && fail "eth0 is still in $VM"
expect_rc 0 inventory --format json
check 'all(v["attached"] is None for v in j["pfs"][0]["vfs"])'
check 'j["pfs"][0]["vfs"][0]["netdev"] == "pf0v0"'
expect_rc 1 detach --vf 0
grep -q "not attached" "$T/err" || fail "second detach message"

step "detach while the host name is taken: refused, nothing moves"
expect_rc 0 attach --vf 2 --netns "$VM" --ifname eth1
ip -n "$HOSTNS" link add pf0v2 type veth peer name ithpeer
expect_rc 1 detach --vf 2
grep -q "the host name of the netdev is taken" "$T/err" || fail "taken host name message"
ip -n "$VM" link show eth1 >/dev/null || fail "eth1 left $VM"
ip -n "$HOSTNS" link del pf0v2
expect_rc 0 detach --vf 2
ip -n "$HOSTNS" link show pf0v2 >/dev/null || fail "pf0v2 is not back"

step "attach by pid, then the namespace goes away before detach"
ip netns add "$LAB-h1-vm2"
ip netns exec "$LAB-h1-vm2" sleep 120 &
SLEEPER=$!
sleep 0.2
expect_rc 0 attach --vf 1 --netns "$SLEEPER"
ip -n "$LAB-h1-vm2" link show pf0v1 >/dev/null || fail "pf0v1 not in the sleeper's namespace"
expect_rc 0 inventory --format json
check 'j["pfs"][0]["vfs"][1]["netns"] == "'"$SLEEPER"'" and j["pfs"][0]["vfs"][1]["link"] is not None'
kill "$SLEEPER"
wait "$SLEEPER" 2>/dev/null || true
ip netns del "$LAB-h1-vm2"
expect_rc 0 detach --vf 1
grep -q "no longer exists" "$T/err" || fail "gone namespace warning"
expect_rc 0 vfs pf0 0
echo "it_hostd_lab: all checks passed"
