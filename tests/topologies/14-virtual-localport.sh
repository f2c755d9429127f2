#!/bin/bash
# Topology 14: special port types: a virtual port (a VIP that moves between two
# parents, as with keepalived), a localport (metadata proxy), an external port
# served by an HA chassis group, and a switch port with port security learning MACs
# into the FDB (a port with "unknown" and a fixed MAC).
set -eu
. "$(dirname "$0")/common.sh"
topo_init "$@"

nbctl --wait=sb \
    -- ls-add vp-net \
    -- lsp-add vp-net vp-vm1 \
    -- lsp-set-addresses vp-vm1 "0a:00:00:14:00:11 10.14.0.11" \
    -- lsp-add vp-net vp-vm2 \
    -- lsp-set-addresses vp-vm2 "0a:00:00:14:00:12 10.14.0.12" \
    -- lsp-add vp-net vp-vip \
    -- lsp-set-type vp-vip virtual \
    -- lsp-set-addresses vp-vip "0a:00:00:14:00:99 10.14.0.100" \
    -- lsp-set-options vp-vip virtual-ip=10.14.0.100 virtual-parents=vp-vm1,vp-vm2 \
    -- lsp-add vp-net vp-meta \
    -- lsp-set-type vp-meta localport \
    -- lsp-set-addresses vp-meta "0a:00:00:14:00:02 10.14.0.2" \
    -- --id=@hc1 create HA_Chassis chassis_name=vp-chassis-1 priority=30 \
    -- --id=@hc2 create HA_Chassis chassis_name=vp-chassis-2 priority=20 \
    -- --id=@hg create HA_Chassis_Group name=vp-hagrp 'ha_chassis=[@hc1, @hc2]' \
    -- lsp-add vp-net vp-ext \
    -- lsp-set-type vp-ext external \
    -- lsp-set-addresses vp-ext "0a:00:00:14:00:31 10.14.0.31" \
    -- set Logical_Switch_Port vp-ext ha_chassis_group=@hg \
    -- lsp-add vp-net vp-learn \
    -- lsp-set-addresses vp-learn "0a:00:00:14:00:41 10.14.0.41" unknown \
    -- lsp-set-options vp-learn pkt_clone_type=mc_unknown
