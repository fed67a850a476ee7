"""WorkloadEndpoint and HostEndpoint checks: addresses, NATs, gateways, MAC, interface
name, profiles and named ports."""
from __future__ import annotations

import re
from ipaddress import ip_address

from libcalico_py.validation import names
from libcalico_py.validation.collector import Collector
from libcalico_py.validation.net import cidr_reason, ip_reason, mac_reason, parse_network
from libcalico_py.validation.ports import named_port_reason

_IFACE = re.compile(r"^[a-zA-Z0-9_.@:-]{1,15}$")


def interface_reason(name: str, allow_star: bool = False) -> str | None:
    if allow_star and name == "*":
        return None
    return None if _IFACE.match(name) else f"{name!r} is not a valid interface name"


def _check_profiles(errs: Collector, profiles: list | None) -> None:
    errs.check_each("spec.profiles", profiles, names.dns_subdomain)


def _check_ports(errs: Collector, ports: list | None, with_host: bool) -> None:
    for i, port in enumerate(ports or []):
        if port is None:
            continue
        p = f"spec.ports[{i}]"
        errs.require(f"{p}.name", port.name, named_port_reason)
        if port.protocol is None:
            errs.add(f"{p}.protocol", "required field is missing")
        if port.port is None or not 1 <= port.port <= 65535:
            errs.add(f"{p}.port", "port must be between 1 and 65535", port.port)
        if with_host:
            if port.host_port is not None and not 0 <= port.host_port <= 65535:
                errs.add(f"{p}.hostPort", "hostPort must be between 0 and 65535", port.host_port)
            if port.host_ip:
                errs.check(f"{p}.hostIP", ip_reason(port.host_ip), port.host_ip)


def validate_workload_endpoint(errs: Collector, res) -> None:
    spec = res.spec
    if spec.node:
        errs.check("spec.node", names.dns_subdomain(spec.node), spec.node)
    if spec.interface_name:
        errs.check("spec.interfaceName", interface_reason(spec.interface_name),
                   spec.interface_name)
    if spec.mac:
        errs.check("spec.mac", mac_reason(spec.mac), spec.mac)
    if spec.service_account_name:
        errs.check("spec.serviceAccountName", names.dns_subdomain(spec.service_account_name),
                   spec.service_account_name)
    hosts = set()
    for i, text in enumerate(spec.ip_networks or []):
        if text is None:
            continue
        p = f"spec.ipNetworks[{i}]"
        try:
            net = parse_network(text)
        except ValueError as exc:
            errs.add(p, str(exc), text)
            continue
        if net.prefixlen != net.max_prefixlen:
            errs.add(p, "workload ipNetworks must be /32 (IPv4) or /128 (IPv6)", text)
        hosts.add(net.network_address)
    for i, nat in enumerate(spec.ip_nats or []):
        if nat is None:
            continue
        p = f"spec.ipNATs[{i}]"
        for attr, json in (("internal_ip", "internalIP"), ("external_ip", "externalIP")):
            value = getattr(nat, attr)
            if not value:
                errs.add(f"{p}.{json}", "required field is missing")
            elif errs.check(f"{p}.{json}", ip_reason(value), value) and attr == "internal_ip":
                if ip_address(value) not in hosts:
                    errs.add(f"{p}.internalIP", "internalIP must be one of the ipNetworks",
                             value)
    if spec.ipv4_gateway:
        errs.check("spec.ipv4Gateway", ip_reason(spec.ipv4_gateway, 4), spec.ipv4_gateway)
    if spec.ipv6_gateway:
        errs.check("spec.ipv6Gateway", ip_reason(spec.ipv6_gateway, 6), spec.ipv6_gateway)
    errs.check_each("spec.allowSpoofedSourcePrefixes", spec.allow_spoofed_source_prefixes,
                    cidr_reason)
    _check_profiles(errs, spec.profiles)
    _check_ports(errs, spec.ports, with_host=True)


def validate_host_endpoint(errs: Collector, res) -> None:
    spec = res.spec
    errs.require("spec.node", spec.node, names.dns_subdomain)
    if not spec.interface_name and not spec.expected_ips:
        errs.add("spec.interfaceName", "a HostEndpoint needs interfaceName or expectedIPs")
    if spec.interface_name:
        errs.check("spec.interfaceName", interface_reason(spec.interface_name, allow_star=True),
                   spec.interface_name)
    errs.check_each("spec.expectedIPs", spec.expected_ips, ip_reason)
    _check_profiles(errs, spec.profiles)
    _check_ports(errs, spec.ports, with_host=False)
