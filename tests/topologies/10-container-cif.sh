#!/bin/bash
# Topology 10: containers inside a VM (CIF ports): cif-c1 with VLAN tag 42 and
# cif-c2 with a tag that ovn-northd allocates, both behind parent port cif-vm1.
set -eu
. "$(dirname "$0")/common.sh"
topo_init "$@"

nbctl --wait=sb \
    -- ls-add cif-net \
    -- lsp-add cif-net cif-vm1 \
    -- lsp-set-addresses cif-vm1 "0a:00:00:10:00:11 10.10.0.11" \
    -- lsp-add cif-net cif-c1 cif-vm1 42 \
    -- lsp-set-addresses cif-c1 "0a:00:00:10:00:21 10.10.0.21" \
    -- lsp-add cif-net cif-c2 cif-vm1 0 \
    -- lsp-set-addresses cif-c2 "0a:00:00:10:00:22 10.10.0.22" \
    -- lsp-add cif-net cif-vm2 \
    -- lsp-set-addresses cif-vm2 "0a:00:00:10:00:12 10.10.0.12"
