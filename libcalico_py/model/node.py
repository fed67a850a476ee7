"""Node spec (`libcalico-go/lib/apis/internalapi/node.go`): BGP addresses and AS number,
tunnel addresses, orchestrator references, addresses and WireGuard settings. The status
block (WireGuard keys, pod CIDRs) is kept as given."""
from __future__ import annotations

from libcalico_py.model.schema import Converted, F, ListOf, Obj, Str, Struct
from libcalico_py.validation.asnumber import parse_as_number

ASNumber = Converted(parse_as_number)


class NodeBGPSpec(Struct):
    FIELDS = (
        F("asNumber", ASNumber, ptr=True),
        F("ipv4Address", Str()),
        F("ipv6Address", Str()),
        F("ipv4IPIPTunnelAddr", Str(), attr="ipv4_ipip_tunnel_addr"),
        F("routeReflectorClusterID", Str(), attr="route_reflector_cluster_id"),
    )


class OrchRef(Struct):
    FIELDS = (F("nodeName", Str()), F("orchestrator", Str(), always=True))


class NodeAddress(Struct):
    FIELDS = (F("address", Str(), always=True), F("type", Str()))


class NodeInterface(Struct):
    FIELDS = (F("name", Str(), always=True), F("addresses", ListOf(Str())))


class NodeWireguardSpec(Struct):
    FIELDS = (F("interfaceIPv4Address", Str(), attr="interface_ipv4_address"),
              F("interfaceIPv6Address", Str(), attr="interface_ipv6_address"))


class NodeSpec(Struct):
    FIELDS = (
        F("bgp", Obj(NodeBGPSpec)),
        F("ipv4VXLANTunnelAddr", Str(), attr="ipv4_vxlan_tunnel_addr"),
        F("vxlanTunnelMACAddr", Str(), attr="vxlan_tunnel_mac_addr"),
        F("ipv6VXLANTunnelAddr", Str(), attr="ipv6_vxlan_tunnel_addr"),
        F("vxlanTunnelMACAddrV6", Str(), attr="vxlan_tunnel_mac_addr_v6"),
        F("orchRefs", ListOf(Obj(OrchRef))),
        F("wireguard", Obj(NodeWireguardSpec)),
        F("addresses", ListOf(Obj(NodeAddress))),
        F("interfaces", ListOf(Obj(NodeInterface))),
    )
