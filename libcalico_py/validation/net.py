"""Network value checks: IP addresses, CIDRs (strictly masked where Calico requires it),
MAC addresses, and the overlap arithmetic used by the IP pool checks.

Converters return the canonical text (Python's `ipaddress` form, lower-case IPv6) and
raise ValueError with the reason; `*_reason` helpers return None or the reason.
"""
from __future__ import annotations

import ipaddress
import re

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_MAC = re.compile(r"^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$")
LINK_LOCAL_V4 = ipaddress.ip_network("169.254.0.0/16")
LINK_LOCAL_V6 = ipaddress.ip_network("fe80::/10")


def parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    if not isinstance(text, str):
        raise ValueError("expected an IP address string")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a valid IP address") from None


def parse_network(text: str, strict: bool = False) -> Network:
    """A CIDR, or a bare IP taken as a /32 or /128 (Calico's ParseCIDROrIP). With
    `strict`, host bits must be zero and a bare IP is refused."""
    if not isinstance(text, str):
        raise ValueError("expected a CIDR string")
    if strict and "/" not in text:
        raise ValueError(f"{text!r} is not a valid CIDR (prefix length missing)")
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(f"{text!r} is not a valid CIDR") from None
    if strict and net.network_address != ipaddress.ip_interface(text).ip:
        raise ValueError(f"{text!r} is not strictly masked (expected {net})")
    return net


def ip_reason(text: str, version: int | None = None) -> str | None:
    try:
        ip = parse_ip(text)
    except ValueError as exc:
        return str(exc)
    if version and ip.version != version:
        return f"{text!r} is not an IPv{version} address"
    return None


def cidr_reason(text: str, version: int | None = None, strict: bool = False) -> str | None:
    try:
        net = parse_network(text, strict=strict)
    except ValueError as exc:
        return str(exc)
    if version and net.version != version:
        return f"{text!r} is not an IPv{version} CIDR"
    return None


def mac_reason(text: str) -> str | None:
    return None if _MAC.match(text) else f"{text!r} is not a valid MAC address"


def overlaps(a: Network, b: Network) -> bool:
    return a.version == b.version and a.overlaps(b)
