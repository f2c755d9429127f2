#!/bin/bash
# Topology 09: port security.  ps-vm1 has allowed address pairs (an extra IP on its
# own MAC, a second MAC with its own IP, IPv6); ps-vm2 is locked to its MAC only;
# ps-vm3 may use any address of its subnet.
set -eu
. "$(dirname "$0")/common.sh"
topo_init "$@"

nbctl --wait=sb \
    -- ls-add ps-net \
    -- lsp-add ps-net ps-vm1 \
    -- lsp-set-addresses ps-vm1 "0a:00:00:09:00:11 10.9.0.11 fd00:9::11" \
    -- lsp-set-port-security ps-vm1 "0a:00:00:09:00:11 10.9.0.11 10.9.0.200 fd00:9::11" \
       "0a:00:00:09:00:99 10.9.0.99" \
    -- lsp-add ps-net ps-vm2 \
    -- lsp-set-addresses ps-vm2 "0a:00:00:09:00:12 10.9.0.12" \
    -- lsp-set-port-security ps-vm2 "0a:00:00:09:00:12" \
    -- lsp-add ps-net ps-vm3 \
    -- lsp-set-addresses ps-vm3 "0a:00:00:09:00:13 10.9.0.13" \
    -- lsp-set-port-security ps-vm3 "0a:00:00:09:00:13 10.9.0.0/24"
