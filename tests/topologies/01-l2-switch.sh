#!/bin/bash
# Topology 01: one logical switch, three VIFs (IPv4, dual-stack) and a port that
# accepts unknown MACs.
set -eu
. "$(dirname "$0")/common.sh"
topo_init "$@"

nbctl --wait=sb \
    -- ls-add l2-sw \
    -- lsp-add l2-sw l2-vm1 \
    -- lsp-set-addresses l2-vm1 "0a:00:00:01:00:11 10.1.0.11" \
    -- lsp-add l2-sw l2-vm2 \
    -- lsp-set-addresses l2-vm2 "0a:00:00:01:00:12 10.1.0.12 fd00:1::12" \
    -- lsp-add l2-sw l2-vm3 \
    -- lsp-set-addresses l2-vm3 "0a:00:00:01:00:13 10.1.0.13" \
    -- lsp-add l2-sw l2-unknown \
    -- lsp-set-addresses l2-unknown "0a:00:00:01:00:14" unknown
