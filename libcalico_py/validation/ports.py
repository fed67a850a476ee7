"""Ports, port ranges and protocols in Calico's `numorstring` forms.

* A port is an integer 1-65535, a range string "min:max" (min <= max), or a named port
  (a Kubernetes port name). "80" and "80:80" are the number 80, as Calico marshals them.
* A protocol is one of TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite (any case on input,
  canonical on output) or a number 1-255.

Converters raise ValueError with the reason; the schema engine turns that into a
FieldError at the field's path.
"""
from __future__ import annotations

import re

PROTOCOL_NAMES = ("TCP", "UDP", "ICMP", "ICMPv6", "SCTP", "UDPLite")
_CANONICAL = {p.lower(): p for p in PROTOCOL_NAMES}
# Protocols that carry ports: TCP, UDP, SCTP by name or number (6, 17, 132).
PORT_PROTOCOLS = frozenset({"TCP", "UDP", "SCTP", 6, 17, 132})
PROTOCOL_NUMBERS = {"TCP": 6, "UDP": 17, "ICMP": 1, "ICMPv6": 58, "SCTP": 132, "UDPLite": 136}

_NAMED_PORT = re.compile(r"^[a-zA-Z0-9_.-]{1,128}$")
_IANA_NAME = re.compile(r"^[-a-z0-9]+$")


def named_port_reason(name: str) -> str | None:
    """Kubernetes IsValidPortName: at most 15 characters of [-a-z0-9], at least one
    letter, no leading, trailing or doubled '-'."""
    if not _NAMED_PORT.match(name):
        return f"{name!r} is not a valid port name"
    if len(name) > 15:
        return f"port name {name!r} must be no more than 15 characters"
    if not _IANA_NAME.match(name):
        return f"port name {name!r} must contain only lower-case letters, digits and '-'"
    if not re.search(r"[a-z]", name):
        return f"port name {name!r} must contain at least one letter"
    if name.startswith("-") or name.endswith("-") or "--" in name:
        return f"port name {name!r} must not begin or end with '-' or contain '--'"
    return None


def _number(value: int, text: object) -> int:
    if value < 1 or value > 65535:
        raise ValueError(f"port {text} is out of range 1-65535")
    return value


def parse_port(value: object) -> int | str:
    """One entry of `ports`/`notPorts`, canonicalised (int, "min:max" or a name)."""
    if isinstance(value, bool):
        raise ValueError("expected a port number, range or name")
    if isinstance(value, int):
        return _number(value, value)
    if isinstance(value, float) and value.is_integer():
        return _number(int(value), value)
    if not isinstance(value, str) or not value:
        raise ValueError("expected a port number, range or name")
    if re.fullmatch(r"\d+", value):
        return _number(int(value), value)
    m = re.fullmatch(r"(\d+):(\d+)", value)
    if m:
        lo, hi = _number(int(m.group(1)), m.group(1)), _number(int(m.group(2)), m.group(2))
        if lo > hi:
            raise ValueError(f"port range {value!r} has min > max")
        return lo if lo == hi else f"{lo}:{hi}"
    if ":" in value:
        raise ValueError(f"{value!r} is not a valid port range (expected 'min:max')")
    reason = named_port_reason(value)
    if reason:
        raise ValueError(reason)
    return value


def port_range(port: int | str) -> tuple[int, int] | None:
    """(min, max) of a canonical numeric port or range; None for a named port."""
    if isinstance(port, int):
        return port, port
    m = re.fullmatch(r"(\d+):(\d+)", port)
    return (int(m.group(1)), int(m.group(2))) if m else None


def is_named(port: int | str) -> bool:
    return port_range(port) is None


def parse_protocol(value: object) -> int | str:
    if isinstance(value, bool):
        raise ValueError("expected a protocol name or number")
    if isinstance(value, str) and re.fullmatch(r"\d+", value):
        value = int(value)
    if isinstance(value, int):
        if 1 <= value <= 255:
            return value
        raise ValueError(f"protocol number {value} is out of range 1-255")
    if isinstance(value, str):
        canonical = _CANONICAL.get(value.lower())
        if canonical:
            return canonical
        raise ValueError(f"{value!r} is not a valid protocol (one of "
                         f"{', '.join(PROTOCOL_NAMES)} or a number 1-255)")
    raise ValueError("expected a protocol name or number")


def supports_ports(protocol: int | str | None) -> bool:
    return protocol in PORT_PROTOCOLS
