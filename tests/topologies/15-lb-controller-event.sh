#!/bin/bash
# Topology 15: controller events: with NB_Global options:controller_event=true, a
# load balancer VIP without backends makes ovn-controller report an
# "empty_lb_backends" event instead of dropping silently.  A second VIP rejects
# instead (options:reject=true), and a router load balancer forces SNAT to the
# router's address.
set -eu
. "$(dirname "$0")/common.sh"
topo_init "$@"

nbctl --wait=sb \
    -- set NB_Global . options:controller_event=true \
    -- ls-add ev-net \
    -- lsp-add ev-net ev-vm1 \
    -- lsp-set-addresses ev-vm1 "0a:00:00:15:00:11 10.15.0.11" \
    -- lb-add ev-empty 10.15.0.100:80 "" tcp \
    -- set Load_Balancer ev-empty options:event=true \
    -- lb-add ev-reject 10.15.0.101:80 "" tcp \
    -- set Load_Balancer ev-reject options:reject=true \
    -- lb-add ev-snat 10.15.0.102:80 10.15.0.11:8080 tcp \
    -- set Load_Balancer ev-snat options:hairpin_snat_ip=10.15.0.250 \
    -- ls-lb-add ev-net ev-empty \
    -- ls-lb-add ev-net ev-reject \
    -- ls-lb-add ev-net ev-snat \
    -- lr-add ev-router \
    -- set Logical_Router ev-router options:lb_force_snat_ip=router \
       options:chassis=ev-chassis-1 \
    -- lrp-add ev-router ev-lrp 0a:00:00:15:00:01 10.15.0.1/24 \
    -- lsp-add ev-net ev-rp \
    -- lsp-set-type ev-rp router \
    -- lsp-set-addresses ev-rp router \
    -- lsp-set-options ev-rp router-port=ev-lrp \
    -- lr-lb-add ev-router ev-snat
