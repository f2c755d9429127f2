#!/bin/bash
# Scale topology: a large logical network for benchmarks, not one of the numbered
# reference topologies (all.sh does not apply it).
#
#   NB_REMOTE=REMOTE scale.sh [SWITCHES [PORTS]]    (defaults: 10 switches, 235 ports)
#
# - SWITCHES tenant switches sc-ls0..sc-lsN-1, subnet 10.(100+s).0.0/16, each with PORTS
#   VIFs sc-s<s>-p<p> (MAC 0a:01:00:<s>:<p/256>:<p%256>, IPv4 10.(100+s).<p/200>.<p%200
#   + 10>), addresses and port security set;
# - one distributed router sc-router joining them (port sc-lrp<s>, 10.(100+s).0.1,
#   MAC 0a:01:01:00:00:<s>);
# - stateless security groups on the tenant switches: every VIF in sc_pg_all, even
#   ports in sc_pg_web, odd ports in sc_pg_db; web accepts TCP 80/443 and ICMP, db
#   accepts TCP 5432 from the address set sc_as_app and drops SSH (22); traffic to or
#   from the address set sc_as_blocked drops; everything else is allowed statelessly;
# - one more switch sc-lbnet (10.99.0.0/16) on the router, with 8 client VIFs
#   (sc-lb-c<i>), an allow-related ACL and a load balancer sc-lb-web
#   (10.99.0.100:80 -> port 8080 of the first VIF of every tenant switch, at most 8).
#
# Stateless ACLs keep the tenant switches free of conntrack, so that walks within and
# between them give cacheable megaflows; traffic of sc-lbnet goes through conntrack.
# With the defaults ovn-northd 23.03 writes about 10,000 Logical_Flow rows.
#
# The whole network is one ovn-nbctl transaction ending with --wait=sb.
set -eu
. "$(dirname "$0")/common.sh"
topo_init "${NB_REMOTE:-}"
switches=${1:-10}
ports=${2:-235}
if [ "$switches" -lt 1 ] || [ "$switches" -gt 100 ] || [ "$ports" -lt 1 ] ||
    [ "$ports" -gt 10000 ]; then
    echo "${0##*/}: SWITCHES must be 1..100 and PORTS 1..10000" >&2
    exit 2
fi

args=()
args+=(-- lr-add sc-router)
args+=(-- create Address_Set name=sc_as_app 'addresses=["10.99.0.0/24", "10.100.0.0/24"]')
args+=(-- create Address_Set name=sc_as_blocked
    'addresses=["192.0.2.0/24", "198.51.100.7"]')
all=()
web=()
db=()
for s in $(seq 0 $((switches - 1))); do
    net=$((100 + s))
    args+=(-- ls-add "sc-ls$s")
    args+=(-- lrp-add sc-router "sc-lrp$s" "$(printf 0a:01:01:00:00:%02x "$s")" "10.$net.0.1/16")
    args+=(-- lsp-add "sc-ls$s" "sc-rp$s" -- lsp-set-type "sc-rp$s" router)
    args+=(-- lsp-set-addresses "sc-rp$s" router)
    args+=(-- lsp-set-options "sc-rp$s" "router-port=sc-lrp$s")
    for p in $(seq 0 $((ports - 1))); do
        name=sc-s$s-p$p
        mac=$(printf "0a:01:00:%02x:%02x:%02x" "$s" $((p / 256)) $((p % 256)))
        ip=10.$net.$((p / 200)).$((p % 200 + 10))
        args+=(-- lsp-add "sc-ls$s" "$name")
        args+=(-- lsp-set-addresses "$name" "$mac $ip")
        args+=(-- lsp-set-port-security "$name" "$mac $ip")
        all+=("$name")
        if [ $((p % 2)) -eq 0 ]; then
            web+=("$name")
        else
            db+=("$name")
        fi
    done
done
args+=(-- pg-add sc_pg_all "${all[@]}")
args+=(-- pg-add sc_pg_web "${web[@]}")
args+=(-- pg-add sc_pg_db "${db[@]}")
args+=(-- acl-add sc_pg_all from-lport 1000 'inport == @sc_pg_all && ip4' allow-stateless)
args+=(-- acl-add sc_pg_all to-lport 1000 'outport == @sc_pg_all && ip4' allow-stateless)
args+=(-- acl-add sc_pg_all from-lport 1003
    'inport == @sc_pg_all && ip4.dst == $sc_as_blocked' drop)
args+=(-- acl-add sc_pg_all to-lport 1003
    'outport == @sc_pg_all && ip4.src == $sc_as_blocked' drop)
args+=(-- acl-add sc_pg_web to-lport 1002
    'outport == @sc_pg_web && tcp && tcp.dst == {80, 443}' allow-stateless)
args+=(-- acl-add sc_pg_web to-lport 1002 'outport == @sc_pg_web && icmp4' allow-stateless)
args+=(-- acl-add sc_pg_db to-lport 1002
    'outport == @sc_pg_db && ip4.src == $sc_as_app && tcp.dst == 5432' allow-stateless)
args+=(-- acl-add sc_pg_db to-lport 1002 'outport == @sc_pg_db && tcp.dst == 22' drop)

args+=(-- ls-add sc-lbnet)
args+=(-- lrp-add sc-router sc-lrp-lb 0a:01:01:00:01:00 10.99.0.1/16)
args+=(-- lsp-add sc-lbnet sc-rp-lb -- lsp-set-type sc-rp-lb router)
args+=(-- lsp-set-addresses sc-rp-lb router)
args+=(-- lsp-set-options sc-rp-lb router-port=sc-lrp-lb)
for c in $(seq 0 7); do
    args+=(-- lsp-add sc-lbnet "sc-lb-c$c")
    args+=(-- lsp-set-addresses "sc-lb-c$c" "0a:01:02:00:00:0$c 10.99.0.1$c")
done
args+=(-- acl-add sc-lbnet from-lport 1000 ip4 allow-related)
backends=
for s in $(seq 0 $((switches > 8 ? 7 : switches - 1))); do
    backends="$backends${backends:+,}10.$((100 + s)).0.10:8080"
done
args+=(-- lb-add sc-lb-web 10.99.0.100:80 "$backends" tcp)
args+=(-- ls-lb-add sc-lbnet sc-lb-web)

nbctl --wait=sb "${args[@]}"
