#!/bin/bash
# Topology 02: a distributed router joining three switches (10.2.1.0/24, 10.2.2.0/24,
# 10.2.3.0/24 plus fd00:2:3::/64), two VIFs per switch, and a default route.
set -eu
. "$(dirname "$0")/common.sh"
topo_init "$@"

args=(-- lr-add r3-router)
for i in 1 2 3; do
    extra=
    if [ "$i" = 3 ]; then
        extra=fd00:2:3::1/64
    fi
    args+=(-- lrp-add r3-router "r3-lrp$i" "0a:00:00:02:0$i:01" "10.2.$i.1/24" $extra
           -- ls-add "r3-ls$i"
           -- lsp-add "r3-ls$i" "r3-ls$i-rp"
           -- lsp-set-type "r3-ls$i-rp" router
           -- lsp-set-addresses "r3-ls$i-rp" router
           -- lsp-set-options "r3-ls$i-rp" "router-port=r3-lrp$i")
    for j in 1 2; do
        addr="0a:00:00:02:0$i:1$j 10.2.$i.1$j"
        if [ "$i" = 3 ]; then
            addr="$addr fd00:2:3::1$j"
        fi
        args+=(-- lsp-add "r3-ls$i" "r3-vm$i$j"
               -- lsp-set-addresses "r3-vm$i$j" "$addr")
    done
done
args+=(-- lr-route-add r3-router 0.0.0.0/0 10.2.3.254
       -- lr-route-add r3-router 192.168.2.0/24 10.2.1.254)
nbctl --wait=sb "${args[@]}"
