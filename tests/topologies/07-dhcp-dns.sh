#!/bin/bash
# Topology 07: native DHCPv4 (with most of the options a CMS sets), stateful and
# stateless DHCPv6, and DNS records answered by OVN.
set -eu
. "$(dirname "$0")/common.sh"
topo_init "$@"

nbctl --wait=sb \
    -- ls-add dhcp-net \
    -- --id=@d4 create DHCP_Options cidr=10.7.0.0/24 \
       options:server_id=10.7.0.1 options:server_mac=0a:00:00:07:00:01 \
       options:lease_time=3600 options:router=10.7.0.1 \
       'options:dns_server="{8.8.8.8, 10.7.0.53}"' \
       'options:domain_name="\"ovnic.test\""' options:mtu=1442 \
       'options:classless_static_route="{192.168.7.0/24,10.7.0.254, 0.0.0.0/0,10.7.0.1}"' \
       options:ntp_server=10.7.0.2 options:T1=1800 options:T2=3150 \
       options:ip_forward_enable=0 'options:tftp_server="\"10.7.0.3\""' \
       'options:bootfile_name="\"pxelinux.0\""' \
       'options:wpad="\"http://wpad.ovnic.test/wpad.dat\""' \
       'options:domain_search_list="\"ovnic.test,lab.ovnic.test\""' \
       options:broadcast_address=10.7.0.255 \
    -- --id=@d6 create DHCP_Options cidr='"fd00:7::/64"' \
       options:server_id=0a:00:00:07:00:02 'options:dns_server="{fd00:7::53}"' \
       'options:domain_search="\"ovnic.test\""' \
    -- --id=@d6s create DHCP_Options cidr='"fd00:7:1::/64"' \
       options:server_id=0a:00:00:07:00:03 options:dhcpv6_stateless=true \
       'options:dns_server="{fd00:7:1::53}"' \
    -- lsp-add dhcp-net dhcp-vm1 \
    -- lsp-set-addresses dhcp-vm1 "0a:00:00:07:00:11 10.7.0.11 fd00:7::11" \
    -- set Logical_Switch_Port dhcp-vm1 dhcpv4_options=@d4 dhcpv6_options=@d6 \
       'options:hostname="\"vm1\""' \
    -- lsp-add dhcp-net dhcp-vm2 \
    -- lsp-set-addresses dhcp-vm2 "0a:00:00:07:00:12 10.7.0.12 fd00:7:1::12" \
    -- set Logical_Switch_Port dhcp-vm2 dhcpv4_options=@d4 dhcpv6_options=@d6s \
    -- --id=@dns create DNS \
       'records={"vm1.ovnic.test"="10.7.0.11 fd00:7::11", "vm2.ovnic.test"="10.7.0.12", "11.0.7.10.in-addr.arpa"="vm1.ovnic.test"}' \
    -- add Logical_Switch dhcp-net dns_records @dns
