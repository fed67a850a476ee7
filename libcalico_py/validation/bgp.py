"""BGPConfiguration and BGPPeer checks (`validateBGPConfigurationSpec`,
`validateBGPPeerSpec`): log levels, service CIDRs, communities, listen port, mesh-only
fields, and the BGPPeer mutual exclusions."""
from __future__ import annotations

import re

from libcalico_py.validation import names
from libcalico_py.validation.collector import Collector, one_of
from libcalico_py.validation.net import cidr_reason, ip_reason
from libcalico_py.validation.policy import check_selector

LOG_LEVELS = ("Debug", "Info", "Warning", "Error", "Fatal")
BIND_MODES = ("None", "NodeIP")
AGGREGATION = ("Enabled", "Disabled")
SOURCE_ADDRESSES = ("UseNodeIP", "None")
NEXT_HOP_MODES = ("Auto", "Self", "Keep")
REVERSE_PEERING = ("Auto", "Manual")
_DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$")
_STANDARD_COMMUNITY = re.compile(r"^(\d+):(\d+)$")
_LARGE_COMMUNITY = re.compile(r"^(\d+):(\d+):(\d+)$")


def duration_reason(text: str) -> str | None:
    return None if _DURATION.match(text) else f"{text!r} is not a duration such as '90s' or '2m'"


def community_reason(value: str) -> str | None:
    m = _STANDARD_COMMUNITY.match(value)
    if m:
        ok = all(int(g) <= 0xFFFF for g in m.groups())
        return None if ok else "standard community parts must be 16-bit numbers (aa:nn)"
    m = _LARGE_COMMUNITY.match(value)
    if m:
        ok = all(int(g) <= 0xFFFFFFFF for g in m.groups())
        return None if ok else "large community parts must be 32-bit numbers (aa:nn:mm)"
    return f"{value!r} is not a community value ('aa:nn' or 'aa:nn:mm')"


def peer_ip_reason(text: str) -> str | None:
    """`ip`, `ipv4:port` or `[ipv6]:port`."""
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d+)", text)
    if m:
        host, port = m.group(1), int(m.group(2))
        return ip_reason(host, 6) or (None if 1 <= port <= 65535 else "port out of range")
    if text.count(":") == 1:
        host, port = text.split(":")
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            return f"{text!r} has an invalid port"
        return ip_reason(host, 4)
    return ip_reason(text)


def validate_bgp_configuration(errs: Collector, res) -> None:
    spec = res.spec
    if spec.log_severity_screen:
        errs.check("spec.logSeverityScreen",
                   one_of(spec.log_severity_screen, LOG_LEVELS, ignore_case=True),
                   spec.log_severity_screen)
    for attr, json in (("service_cluster_ips", "serviceClusterIPs"),
                       ("service_external_ips", "serviceExternalIPs"),
                       ("service_load_balancer_ips", "serviceLoadBalancerIPs")):
        for i, block in enumerate(getattr(spec, attr) or []):
            if block is not None:
                errs.require(f"spec.{json}[{i}].cidr", block.cidr, cidr_reason)
    defined = set()
    for i, c in enumerate(spec.communities or []):
        if c is None:
            continue
        if c.name:
            defined.add(c.name)
        errs.require(f"spec.communities[{i}].name", c.name, names.dns_label)
        errs.require(f"spec.communities[{i}].value", c.value, community_reason)
    for i, adv in enumerate(spec.prefix_advertisements or []):
        if adv is None:
            continue
        p = f"spec.prefixAdvertisements[{i}]"
        errs.require(f"{p}.cidr", adv.cidr, cidr_reason)
        for j, c in enumerate(adv.communities or []):
            if c is not None and c not in defined and community_reason(c):
                errs.add(f"{p}.communities[{j}]", "must be a community value or the name of "
                                                  "one in spec.communities", c)
    if spec.listen_port is not None and not 1 <= spec.listen_port <= 65535:
        errs.add("spec.listenPort", "listenPort must be between 1 and 65535", spec.listen_port)
    if spec.bind_mode:
        errs.check("spec.bindMode", one_of(spec.bind_mode, BIND_MODES), spec.bind_mode)
    if spec.service_load_balancer_aggregation:
        errs.check("spec.serviceLoadBalancerAggregation",
                   one_of(spec.service_load_balancer_aggregation, AGGREGATION),
                   spec.service_load_balancer_aggregation)
    if spec.node_mesh_max_restart_time:
        errs.check("spec.nodeMeshMaxRestartTime", duration_reason(spec.node_mesh_max_restart_time),
                   spec.node_mesh_max_restart_time)
    if spec.node_to_node_mesh_enabled is False:
        if spec.node_mesh_password is not None:
            errs.add("spec.nodeMeshPassword", "only allowed when nodeToNodeMeshEnabled is true")
        if spec.node_mesh_max_restart_time:
            errs.add("spec.nodeMeshMaxRestartTime", "only allowed when nodeToNodeMeshEnabled is "
                                                    "true")
    for attr, json in (("local_workload_peering_ipv4", "localWorkloadPeeringIPV4"),
                       ("local_workload_peering_ipv6", "localWorkloadPeeringIPV6")):
        value = getattr(spec, attr)
        if value:
            errs.check(f"spec.{json}", ip_reason(value, 4 if json.endswith("4") else 6), value)


def validate_bgp_peer(errs: Collector, res) -> None:
    spec = res.spec
    if spec.node and spec.node_selector:
        errs.add("spec.nodeSelector", "node and nodeSelector cannot both be set")
    if spec.peer_ip and spec.peer_selector:
        errs.add("spec.peerSelector", "peerIP and peerSelector cannot both be set")
    if spec.peer_selector and spec.as_number:
        errs.add("spec.asNumber", "asNumber cannot be set with peerSelector (the AS comes from "
                                  "the selected nodes)", spec.as_number)
    if spec.keep_original_next_hop and spec.next_hop_mode:
        errs.add("spec.nextHopMode", "keepOriginalNextHop and nextHopMode cannot both be set")
    if spec.node:
        errs.check("spec.node", names.dns_subdomain(spec.node), spec.node)
    if spec.peer_ip:
        errs.check("spec.peerIP", peer_ip_reason(spec.peer_ip), spec.peer_ip)
    check_selector(errs, "spec.nodeSelector", spec.node_selector)
    check_selector(errs, "spec.peerSelector", spec.peer_selector)
    check_selector(errs, "spec.localWorkloadSelector", spec.local_workload_selector)
    for attr, json, allowed in (("source_address", "sourceAddress", SOURCE_ADDRESSES),
                                ("next_hop_mode", "nextHopMode", NEXT_HOP_MODES),
                                ("reverse_peering", "reversePeering", REVERSE_PEERING)):
        value = getattr(spec, attr)
        if value:
            errs.check(f"spec.{json}", one_of(value, allowed), value)
    for attr, json in (("max_restart_time", "maxRestartTime"), ("keepalive_time", "keepaliveTime")):
        value = getattr(spec, attr)
        if value:
            errs.check(f"spec.{json}", duration_reason(value), value)
    if spec.ttl_security is not None and not 0 <= spec.ttl_security <= 255:
        errs.add("spec.ttlSecurity", "ttlSecurity must be between 0 and 255", spec.ttl_security)
    if spec.num_allowed_local_as_numbers is not None and spec.num_allowed_local_as_numbers < 0:
        errs.add("spec.numAllowedLocalASNumbers", "must not be negative",
                 spec.num_allowed_local_as_numbers)
    if spec.reachable_by:
        errs.check("spec.reachableBy", ip_reason(spec.reachable_by), spec.reachable_by)
    if spec.password is not None and (spec.password.secret_key_ref is None
                                      or not spec.password.secret_key_ref.name):
        errs.add("spec.password.secretKeyRef.name", "required field is missing")
