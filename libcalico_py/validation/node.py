"""Node checks: BGP addresses (CIDR form allowed, as calico-node writes them), tunnel
addresses and MACs, route reflector cluster ID, orchestrator references. An empty
`spec.bgp: {}` is invalid, as in Calico."""
from __future__ import annotations

from libcalico_py.validation.collector import Collector, one_of
from libcalico_py.validation.net import cidr_reason, ip_reason, mac_reason

ADDRESS_TYPES = ("CalicoNodeIP", "InternalIP", "ExternalIP")


def validate_node(errs: Collector, res) -> None:
    spec = res.spec
    bgp = spec.bgp
    if bgp is not None:
        if not bgp.to_dict():
            errs.add("spec.bgp", "must not be empty: set ipv4Address or ipv6Address, or remove "
                                 "spec.bgp")
        for attr, json, version in (("ipv4_address", "ipv4Address", 4),
                                    ("ipv6_address", "ipv6Address", 6)):
            value = getattr(bgp, attr)
            if value:
                errs.check(f"spec.bgp.{json}", cidr_reason(value, version), value)
        if bgp.ipv4_ipip_tunnel_addr:
            errs.check("spec.bgp.ipv4IPIPTunnelAddr", ip_reason(bgp.ipv4_ipip_tunnel_addr, 4),
                       bgp.ipv4_ipip_tunnel_addr)
        if bgp.route_reflector_cluster_id:
            errs.check("spec.bgp.routeReflectorClusterID",
                       ip_reason(bgp.route_reflector_cluster_id, 4),
                       bgp.route_reflector_cluster_id)
    for attr, json, version in (("ipv4_vxlan_tunnel_addr", "ipv4VXLANTunnelAddr", 4),
                                ("ipv6_vxlan_tunnel_addr", "ipv6VXLANTunnelAddr", 6)):
        value = getattr(spec, attr)
        if value:
            errs.check(f"spec.{json}", ip_reason(value, version), value)
    for attr, json in (("vxlan_tunnel_mac_addr", "vxlanTunnelMACAddr"),
                       ("vxlan_tunnel_mac_addr_v6", "vxlanTunnelMACAddrV6")):
        value = getattr(spec, attr)
        if value:
            errs.check(f"spec.{json}", mac_reason(value), value)
    for i, ref in enumerate(spec.orch_refs or []):
        if ref is not None and not ref.orchestrator:
            errs.add(f"spec.orchRefs[{i}].orchestrator", "required field is missing")
    for i, addr in enumerate(spec.addresses or []):
        if addr is None:
            continue
        errs.require(f"spec.addresses[{i}].address", addr.address, cidr_reason)
        if addr.type:
            errs.check(f"spec.addresses[{i}].type", one_of(addr.type, ADDRESS_TYPES), addr.type)
