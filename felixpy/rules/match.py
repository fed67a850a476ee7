"""Match and action text in iptables-restore syntax.

`Match` collects match fragments in the order they are added and renders them as
one string for `Rule.match`; the helpers below it build action strings for
`Rule.action`. Keeping the spelling of every iptables option here means the policy,
endpoint, dispatch and static renderers only decide *what* to match, and the text
stays identical wherever the same match is used (rule hashes depend on the text).

Marks are written as iptables-save prints them (`0x10000/0x10000`, `0x0/0x20000`),
so what we write and what we read back look the same to a human.
"""
from __future__ import annotations

from felixpy.rules.defs import MAX_LOG_PREFIX_LENGTH


def _hex(value: int) -> str:
    return f"{value:#x}"


class Match:
    """An ordered list of iptables match fragments."""

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts: list[str] = []

    def __str__(self) -> str:
        return self.render()

    def render(self) -> str:
        return " ".join(self._parts)

    def copy(self) -> "Match":
        m = Match()
        m._parts = list(self._parts)
        return m

    def extend(self, other: "Match") -> "Match":
        self._parts.extend(other._parts)
        return self

    def _add(self, text: str) -> "Match":
        self._parts.append(text)
        return self

    # -------------------------------------------------------- generic

    def comment(self, text: str) -> "Match":
        return self._add(f'-m comment --comment "{comment_text(text)}"')

    def protocol(self, proto: str) -> "Match":
        return self._add(f"-p {proto}")

    def not_protocol(self, proto: str) -> "Match":
        return self._add(f"! -p {proto}")

    def source_net(self, cidr: str) -> "Match":
        return self._add(f"-s {cidr}")

    def not_source_net(self, cidr: str) -> "Match":
        return self._add(f"! -s {cidr}")

    def dest_net(self, cidr: str) -> "Match":
        return self._add(f"-d {cidr}")

    def not_dest_net(self, cidr: str) -> "Match":
        return self._add(f"! -d {cidr}")

    def in_interface(self, iface: str) -> "Match":
        return self._add(f"-i {iface}")

    def out_interface(self, iface: str) -> "Match":
        return self._add(f"-o {iface}")

    # -------------------------------------------------------- IP sets

    def ipset(self, name: str, direction: str, negate: bool = False) -> "Match":
        """`direction` is "src", "dst", "src,src" or "dst,dst" (ip,port sets)."""
        bang = "! " if negate else ""
        return self._add(f"-m set {bang}--match-set {name} {direction}")

    # -------------------------------------------------------- ports

    def source_ports(self, ports: list[str] | tuple[str, ...], negate: bool = False) -> "Match":
        bang = "! " if negate else ""
        return self._add(f"-m multiport {bang}--source-ports {','.join(ports)}")

    def dest_ports(self, ports: list[str] | tuple[str, ...], negate: bool = False) -> "Match":
        bang = "! " if negate else ""
        return self._add(f"-m multiport {bang}--destination-ports {','.join(ports)}")

    # -------------------------------------------------------- ICMP

    def icmp(self, icmp_type: int, icmp_code: int | None, ip_version: int, negate: bool = False) -> "Match":
        value = str(icmp_type) if icmp_code is None else f"{icmp_type}/{icmp_code}"
        bang = "! " if negate else ""
        if ip_version == 6:
            return self._add(f"-m icmp6 {bang}--icmpv6-type {value}")
        return self._add(f"-m icmp {bang}--icmp-type {value}")

    # -------------------------------------------------------- marks and conntrack

    def mark_single_bit_set(self, bit: int) -> "Match":
        return self._add(f"-m mark --mark {_hex(bit)}/{_hex(bit)}")

    def mark_clear(self, bits: int) -> "Match":
        return self._add(f"-m mark --mark 0x0/{_hex(bits)}")

    def conntrack_state(self, states: str, negate: bool = False) -> "Match":
        bang = "! " if negate else ""
        return self._add(f"-m conntrack {bang}--ctstate {states}")

    def rpfilter_invalid(self) -> "Match":
        """Packets that fail a strict reverse-path check (mark-aware)."""
        return self._add("-m rpfilter --validmark --invert")


def comment_text(text: str) -> str:
    """A comment as iptables accepts it: no double quotes, at most 256 bytes."""
    cleaned = text.replace('"', "'").replace("\n", " ")
    if len(cleaned) <= 64:      # at most 4 bytes per character: fits without cutting
        return cleaned
    return cleaned.encode()[:256].decode(errors="ignore")


# ------------------------------------------------------------ actions

def jump(chain: str) -> str:
    return f"-j {chain}"


def goto(chain: str) -> str:
    return f"-g {chain}"


def set_mark(bits: int) -> str:
    return f"-j MARK --set-xmark {_hex(bits)}/{_hex(bits)}"


def clear_mark(bits: int) -> str:
    return f"-j MARK --set-xmark 0x0/{_hex(bits)}"


def set_masked_mark(value: int, mask: int) -> str:
    return f"-j MARK --set-xmark {_hex(value)}/{_hex(mask)}"


def log(prefix: str) -> str:
    """LOG with "<prefix>: " cut to the kernel's 29-character limit."""
    text = comment_text(prefix)[:MAX_LOG_PREFIX_LENGTH - 2] + ": "
    return f'-j LOG --log-prefix "{text}" --log-level 5'


ACCEPT = "-j ACCEPT"
DROP = "-j DROP"
RETURN = "-j RETURN"
