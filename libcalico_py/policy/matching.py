"""Does one Calico rule match one flow? Calico's rule semantics, as Felix programs them
into iptables (`felix/rules/rule_defs.go`, `felix/calc/rule_scanner.go`).

A rule is compiled once (`compile_rule`) from the typed model `Rule` of a policy or
profile; `rule_matches` then checks a `FlowFacts` (the flow with its addresses already
resolved to the endpoints / network sets that contain them). All match fields AND:

* `ipVersion`, and the family filter Felix applies: a non-empty `nets`/`notNets` list
  with no CIDR of the flow's family makes the rule match nothing in that family (Felix
  skips it rather than widen it); a `notNets` holding a /0 of the family matches nothing;
  ICMP rules never match IPv6 flows and ICMPv6 rules never IPv4 ones;
* `protocol` / `notProtocol` by number (`TCP` = 6, ...), so `6` and `TCP` are the same;
* `icmp` / `notICMP` type and optional code; they only match ICMP packets of the
  flow's family (the rule must name the ICMP protocol, which validation enforces);
* `nets` (any of) / `notNets` (none of);
* selectors: Felix turns an EntityRule's selector, serviceAccounts and
  namespaceSelector into one selector (`labels.entity_rule_selector`; a namespaced
  policy's rule is limited to its namespace as soon as any selector field is used) and
  matches the address against the IP set of everything (endpoints and network sets)
  that selector matches: the address matches if ANY item holding it matches. A
  notSelector is absorbed into that selector as `(pos) && (!(neg))`; only without a
  positive selector is it a separate "not in the set of neg" check (which then also
  passes addresses Calico does not know);
* `ports` (any of: numeric ports and ranges, or named ports) / `notPorts` (none of);
  numeric ports only match protocols that carry ports. A named port `N` matches a packet
  whose address and port are an endpoint's port named `N` for the rule's protocol (UDP
  or SCTP when the rule says so, TCP otherwise), where that endpoint also matches the
  side's positive selector (or any endpoint, without one);
* `services`: Kubernetes Service endpoints are not known here, so a side that names a
  service matches nothing, as Felix's empty service IP set does.

`http` (application-layer) matches are not enforced by Felix's iptables rules and are
ignored here too.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from libcalico_py.selector import Selector, parse
from libcalico_py.selector.labels import entity_rule_selector

PROTOCOL_NUMBERS = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58, "sctp": 132, "udplite": 136}
PROTOCOL_NAMES = {number: name for name, number in PROTOCOL_NUMBERS.items()}
TCP, UDP, SCTP, ICMP, ICMPV6 = 6, 17, 132, 1, 58
# Protocols iptables' multiport match accepts (tcp, udp, udplite, dccp, sctp).
PORT_PROTOCOLS = frozenset({6, 17, 136, 33, 132})
ACTIONS = ("allow", "deny", "pass", "log")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def protocol_number(value: int | str) -> int:
    """6 for "TCP", "tcp", 6 or "6"; ValueError for anything else."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a protocol")
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip().lower()
        if text.isdigit():
            number = int(text)
        elif text in PROTOCOL_NUMBERS:
            return PROTOCOL_NUMBERS[text]
        else:
            raise ValueError(f"{value!r} is not a protocol name ({', '.join(PROTOCOL_NUMBERS)}) "
                             "or number")
    if not 0 <= number <= 255:
        raise ValueError(f"protocol number {value!r} is out of range 0-255")
    return number


@dataclass(frozen=True)
class Item:
    """Something an address can belong to: a workload endpoint or a network set, with
    its effective labels and (endpoints only) named ports as (name, protocol number,
    port)."""

    labels: Mapping[str, str]
    ports: tuple[tuple[str, int, int], ...] = ()


@dataclass(frozen=True)
class FlowFacts:
    """A flow with its protocol as a number and its addresses resolved to items."""

    version: int
    src: IPAddress
    dst: IPAddress
    protocol: int
    src_port: int | None
    dst_port: int | None
    icmp_type: int | None
    icmp_code: int | None
    src_items: tuple[Item, ...] = ()
    dst_items: tuple[Item, ...] = ()


@dataclass(frozen=True)
class Side:
    """One EntityRule (source or destination), compiled."""

    nets: tuple[IPNetwork, ...] = ()
    not_nets: tuple[IPNetwork, ...] = ()
    selector: Selector | None = None        # positive selector (notSelector absorbed)
    not_selector: Selector | None = None    # only when there is no positive selector
    ports: tuple[tuple[int, int], ...] = ()
    named_ports: tuple[str, ...] = ()
    not_ports: tuple[tuple[int, int], ...] = ()
    not_named_ports: tuple[str, ...] = ()
    services: bool = False

    @property
    def named_port_selector(self) -> Selector:
        return self.selector if self.selector is not None else parse("all()")


@dataclass(frozen=True)
class CompiledRule:
    action: str                                  # allow | deny | pass | log
    index: int                                   # position in its rule list
    ip_version: int | None = None
    protocol: int | None = None
    not_protocol: int | None = None
    icmp: tuple[int, int | None] | None = None
    not_icmp: tuple[int, int | None] | None = None
    named_port_protocol: int = TCP
    source: Side = field(default_factory=Side)
    destination: Side = field(default_factory=Side)


# ------------------------------------------------------------------ compiling


def _split_ports(ports: Sequence | None) -> tuple[tuple[tuple[int, int], ...], tuple[str, ...]]:
    numeric: list[tuple[int, int]] = []
    named: list[str] = []
    for port in ports or ():
        if isinstance(port, int):
            numeric.append((port, port))
            continue
        text = str(port)
        lo, sep, hi = text.partition(":")
        if lo.isdigit() and (not sep or hi.isdigit()):
            numeric.append((int(lo), int(hi) if sep else int(lo)))
        else:
            named.append(text)
    return tuple(numeric), tuple(named)


def _icmp(value) -> tuple[int, int | None] | None:
    if value is None or value.type is None:
        return None
    return value.type, value.code


def _nets(cidrs: Sequence[str] | None) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs or ())


def compile_side(entity, policy_namespace: str | None) -> Side:
    """Compile one EntityRule of a rule owned by a policy in `policy_namespace` (None for
    global policies and profiles). A missing EntityRule matches everything."""
    if entity is None:
        return Side()
    sa = entity.service_accounts
    positive = entity_rule_selector(
        selector=entity.selector or None,
        not_selector=entity.not_selector or None,
        namespace_selector=entity.namespace_selector or None,
        service_account_selector=(sa.selector or None) if sa is not None else None,
        service_account_names=tuple((sa.names or ()) if sa is not None else ()),
        policy_namespace=policy_namespace or None,
    )
    negative = entity.not_selector or ""
    if positive and negative:
        positive, negative = f"({positive}) && (!({negative}))", ""
    ports, named = _split_ports(entity.ports)
    not_ports, not_named = _split_ports(entity.not_ports)
    services = entity.services is not None and bool(entity.services.name)
    return Side(
        nets=_nets(entity.nets),
        not_nets=_nets(entity.not_nets),
        selector=parse(positive) if positive else None,
        not_selector=parse(negative) if negative else None,
        ports=ports, named_ports=named, not_ports=not_ports, not_named_ports=not_named,
        services=services,
    )


def compile_rule(rule, policy_namespace: str | None, index: int) -> CompiledRule:
    """Compile one model `Rule` (see the module docstring for the semantics)."""
    action = (rule.action or "").lower()
    if action == "next-tier":
        action = "pass"
    if action not in ACTIONS:
        raise ValueError(f"rule {index}: unknown action {rule.action!r}")
    protocol = protocol_number(rule.protocol) if rule.protocol is not None else None
    named_proto = protocol if protocol in (UDP, SCTP) else TCP
    return CompiledRule(
        action=action,
        index=index,
        ip_version=rule.ip_version,
        protocol=protocol,
        not_protocol=protocol_number(rule.not_protocol) if rule.not_protocol is not None else None,
        icmp=_icmp(rule.icmp),
        not_icmp=_icmp(rule.not_icmp),
        named_port_protocol=named_proto,
        source=compile_side(rule.source, policy_namespace),
        destination=compile_side(rule.destination, policy_namespace),
    )


def compile_rules(rules: Sequence | None, policy_namespace: str | None) -> tuple[CompiledRule, ...]:
    return tuple(compile_rule(r, policy_namespace, i) for i, r in enumerate(rules or ()))


# ------------------------------------------------------------------ matching


def _family(nets: tuple[IPNetwork, ...], version: int) -> tuple[tuple[IPNetwork, ...], bool]:
    """(the nets of this family, whether the list rules the rule out for this family)."""
    if not nets:
        return (), False
    kept = tuple(n for n in nets if n.version == version)
    return kept, not kept


def _in_any(ip: IPAddress, nets: tuple[IPNetwork, ...]) -> bool:
    return any(ip in n for n in nets)


def _in_set(selector: Selector, items: tuple[Item, ...]) -> bool:
    return any(selector.evaluate(item.labels) for item in items)


def _named_port_hit(names: tuple[str, ...], selector: Selector, protocol: int, port: int | None,
                    packet_protocol: int, items: tuple[Item, ...]) -> bool:
    if not names or port is None or packet_protocol != protocol:
        return False
    for item in items:
        for name, proto, number in item.ports:
            if name in names and proto == protocol and number == port and selector.evaluate(item.labels):
                return True
    return False


def _in_ranges(port: int | None, ranges: tuple[tuple[int, int], ...]) -> bool:
    return port is not None and any(lo <= port <= hi for lo, hi in ranges)


def _side_matches(side: Side, ip: IPAddress, port: int | None, items: tuple[Item, ...],
                  facts: FlowFacts, named_proto: int) -> bool:
    if side.services:
        return False
    nets, skip = _family(side.nets, facts.version)
    if skip or (nets and not _in_any(ip, nets)):
        return False
    not_nets, skip = _family(side.not_nets, facts.version)
    if skip or any(n.prefixlen == 0 for n in not_nets) or _in_any(ip, not_nets):
        return False
    if side.selector is not None and not _in_set(side.selector, items):
        return False
    if side.not_selector is not None and _in_set(side.not_selector, items):
        return False
    carries_ports = facts.protocol in PORT_PROTOCOLS
    if side.ports or side.named_ports:
        numeric = carries_ports and _in_ranges(port, side.ports)
        if not numeric and not _named_port_hit(side.named_ports, side.named_port_selector,
                                               named_proto, port, facts.protocol, items):
            return False
    if carries_ports and _in_ranges(port, side.not_ports):
        return False
    if _named_port_hit(side.not_named_ports, side.named_port_selector, named_proto, port,
                       facts.protocol, items):
        return False
    return True


def _icmp_hit(icmp: tuple[int, int | None], facts: FlowFacts) -> bool:
    icmp_type, icmp_code = icmp
    return facts.icmp_type == icmp_type and (icmp_code is None or facts.icmp_code == icmp_code)


def rule_matches(rule: CompiledRule, facts: FlowFacts) -> bool:
    if rule.ip_version is not None and rule.ip_version != facts.version:
        return False
    family_icmp = ICMP if facts.version == 4 else ICMPV6
    other_icmp = ICMPV6 if facts.version == 4 else ICMP
    if rule.protocol is not None:
        if rule.protocol == other_icmp or rule.protocol != facts.protocol:
            return False
    if rule.not_protocol is not None and rule.not_protocol == facts.protocol:
        return False
    if rule.icmp is not None and (facts.protocol != family_icmp or not _icmp_hit(rule.icmp, facts)):
        return False
    if rule.not_icmp is not None and (facts.protocol != family_icmp or _icmp_hit(rule.not_icmp, facts)):
        return False
    return (_side_matches(rule.source, facts.src, facts.src_port, facts.src_items, facts,
                          rule.named_port_protocol)
            and _side_matches(rule.destination, facts.dst, facts.dst_port, facts.dst_items, facts,
                              rule.named_port_protocol))
