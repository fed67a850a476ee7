"""Rule scanner: Calico rules (v3 JSON form) -> `ParsedRule`s plus the IP sets they need.

This is where selectors disappear from the data flow. Each rule's source/destination is
turned into one combined selector string exactly as Calico builds it
(`GetEntityRuleSelector` in libcalico-go's update processors, then `extractSelectors`
and `namedPortsToIPSets` in Felix's rule scanner), because the canonical text of that
selector is hashed into the IP set's name; any difference in how the text is assembled
would give a different `cali40s:` set than Calico programs.

Combination rules (calico.md §2.3):

* serviceAccounts: `names` -> `projectcalico.org/serviceaccount in {...}`, `selector`
  gets the `pcsa.` prefix; both AND-ed.
* namespaceSelector gets the `pcns.` prefix (`all()` -> any namespaced entity,
  `global()` -> no namespaced entity); without one, a namespaced policy's rule is
  limited to the policy's namespace as soon as any selector field is used.
* a positive selector absorbs the notSelector (`(pos) && (!(neg))`); without a positive
  selector, notSelector becomes a `not_*_ipset_ids` entry.
* named ports become `hash:ip,port` sets filtered by the positive selector (or `all()`),
  protocol tcp unless the rule says udp/sctp; numeric ports stay in the rule.

The selector-text rules themselves live in `libcalico_py.selector.labels` (shared with
the CLI); this module applies them per rule. Pure functions; no state. Parsing results
are cached per selector text because a snapshot repeats the same few selectors
thousands of times.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from libcalico_py.selector import Selector, parse
from libcalico_py.selector.labels import (LABEL_NAMESPACE, entity_rule_selector,
                                          namespace_selector_to_label_selector,
                                          service_account_selector_to_label_selector)
from libcalico_py.selector.selector import make_unique_id

from felixpy.calc.messages import ParsedRule, RuleOrigin

SET_TYPE_NET = "hash:net"
SET_TYPE_IP_PORT = "hash:ip,port"

_NUMERIC_PORT = re.compile(r"^\d+(:\d+)?$")


@dataclass(frozen=True)
class IPSetSpec:
    """What one IP set holds: endpoints/network sets matching `selector`, or, for a
    named-port set, `ip,proto:port` of matching endpoints' port `named_port`. A service
    set (`service` = "ns/name") has no members here: see `_service_set`."""

    set_id: str
    selector: Selector
    named_port: str = ""
    protocol: str = ""          # "tcp" | "udp" | "sctp" for named-port sets
    service: str = ""
    with_ports: bool = False    # service sets: hash:ip,port (destination) or hash:net

    @property
    def set_type(self) -> str:
        if self.service:
            return SET_TYPE_IP_PORT if self.with_ports else SET_TYPE_NET
        return SET_TYPE_IP_PORT if self.named_port else SET_TYPE_NET


@lru_cache(maxsize=65536)
def parse_cached(text: str) -> Selector:
    return parse(text)


@lru_cache(maxsize=65536)
def _selector_set(text: str) -> IPSetSpec:
    sel = parse_cached(text)
    return IPSetSpec(sel.unique_id(), sel)


@lru_cache(maxsize=65536)
def _named_port_set(text: str, proto: str, port_name: str) -> IPSetSpec:
    sel = parse_cached(text)
    set_id = make_unique_id("n", f"{sel.unique_id()},{proto},{port_name}")
    return IPSetSpec(set_id, sel, port_name, proto)


# Matches no label set; the label index files it as "never" and skips it.
_NOTHING = "projectcalico.org/namespace in {}"


@lru_cache(maxsize=4096)
def _service_set(service: str, with_ports: bool) -> IPSetSpec:
    """A rule naming a Kubernetes Service matches that service's endpoints, which Calico
    learns from EndpointSlices (Kubernetes datastore only). We have none, so the set is
    named as Calico names it (`svc:` / `svcnoport:`) and stays empty: the rule matches
    nothing rather than everything."""
    prefix = "svc" if with_ports else "svcnoport"
    return IPSetSpec(make_unique_id(prefix, service), parse_cached(_NOTHING), service=service,
                     with_ports=with_ports)


# ------------------------------------------------------------------ selector text


def entity_selector(entity: dict, namespace: str) -> str:
    """The one selector an EntityRule stands for (`GetEntityRuleSelector`); "" = none."""
    sa = entity.get("serviceAccounts") or {}
    return entity_rule_selector(
        selector=entity.get("selector") or None,
        not_selector=entity.get("notSelector") or None,
        namespace_selector=entity.get("namespaceSelector") or None,
        service_account_selector=sa.get("selector") or None,
        service_account_names=tuple(sa.get("names") or ()),
        policy_namespace=namespace or None,
    )


def policy_selector_text(spec: dict, namespace: str) -> str:
    """Which endpoints a policy applies to, as one selector (namespaced policies are
    limited to their namespace; serviceAccountSelector / GNP namespaceSelector AND-ed)."""
    selector = spec.get("selector") or "all()"
    if namespace:
        selector = f"({selector}) && {LABEL_NAMESPACE} == '{namespace}'"
    sa = spec.get("serviceAccountSelector") or ""
    if sa:
        selector = f"({selector}) && ({service_account_selector_to_label_selector(sa)})"
    ns_sel = spec.get("namespaceSelector") or ""
    if ns_sel and not namespace:
        selector = f"({selector}) && ({namespace_selector_to_label_selector(ns_sel)})"
    return selector


# ------------------------------------------------------------------ rules


def _split_ports(ports: Iterable | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    numeric: list[str] = []
    named: list[str] = []
    for p in ports or ():
        if isinstance(p, int):
            numeric.append(str(p))
        else:
            text = str(p)
            if _NUMERIC_PORT.match(text):
                numeric.append(text)
            else:
                named.append(text)
    return tuple(numeric), tuple(named)


def _protocol(value) -> str | None:
    if value is None or value == "":
        return None
    return str(value).lower()


def _icmp(value: dict | None) -> tuple[int | None, int | None]:
    if not value:
        return None, None
    return value.get("type"), value.get("code")


def _ids(specs: Iterable[IPSetSpec]) -> tuple[str, ...]:
    return tuple(s.set_id for s in specs)


def _direction_sets(entity: dict, namespace: str, proto: str):
    """(positive sets, negative sets, named sets, not-named sets, numeric ports,
    not-numeric ports) for one side of a rule."""
    positive = entity_selector(entity, namespace)
    negative = entity.get("notSelector") or ""
    if positive and negative:
        positive = f"({positive}) && (!({negative}))"
        negative = ""
    numeric, named = _split_ports(entity.get("ports"))
    not_numeric, not_named = _split_ports(entity.get("notPorts"))

    base = positive or "all()"
    named_sets = [_named_port_set(base, proto, n) for n in named]
    not_named_sets = [_named_port_set(base, proto, n) for n in not_named]
    pos_sets = [_selector_set(positive)] if positive and (numeric or not named) else []
    neg_sets = [_selector_set(negative)] if negative else []
    return pos_sets, neg_sets, named_sets, not_named_sets, numeric, not_numeric


def _service_name(entity: dict, namespace: str) -> str:
    svc = entity.get("services") or {}
    if not svc.get("name"):
        return ""
    return f"{svc.get('namespace') or namespace}/{svc['name']}"


def parse_rule(rule: dict, namespace: str, origin: RuleOrigin | None = None
               ) -> tuple[ParsedRule, list[IPSetSpec]]:
    """One v3 rule (camelCase dict) -> (ParsedRule, IP sets it references)."""
    protocol = _protocol(rule.get("protocol"))
    named_proto = "tcp"
    if protocol in ("udp", "17"):
        named_proto = "udp"
    elif protocol in ("sctp", "132"):
        named_proto = "sctp"

    src = rule.get("source") or {}
    dst = rule.get("destination") or {}
    s_pos, s_neg, s_named, s_not_named, s_ports, s_not_ports = _direction_sets(src, namespace, named_proto)
    d_pos, d_neg, d_named, d_not_named, d_ports, d_not_ports = _direction_sets(dst, namespace, named_proto)
    src_service = _service_name(src, namespace)
    if src_service:      # source services: the service's addresses, as a hash:net set
        s_pos = s_pos + [_service_set(src_service, False)]
    dst_service = _service_name(dst, namespace)
    if dst_service:      # destination services: address+port pairs (any may match)
        d_named = d_named + [_service_set(dst_service, True)]
    icmp_type, icmp_code = _icmp(rule.get("icmp"))
    not_icmp_type, not_icmp_code = _icmp(rule.get("notICMP"))

    parsed = ParsedRule(
        action=str(rule.get("action", "")).lower(),
        ip_version=rule.get("ipVersion"),
        protocol=protocol,
        not_protocol=_protocol(rule.get("notProtocol")),
        icmp_type=icmp_type,
        icmp_code=icmp_code,
        not_icmp_type=not_icmp_type,
        not_icmp_code=not_icmp_code,
        src_nets=tuple(src.get("nets") or ()),
        not_src_nets=tuple(src.get("notNets") or ()),
        src_ports=s_ports,
        not_src_ports=s_not_ports,
        src_named_port_ipset_ids=_ids(s_named),
        not_src_named_port_ipset_ids=_ids(s_not_named),
        src_ipset_ids=_ids(s_pos),
        not_src_ipset_ids=_ids(s_neg),
        dst_nets=tuple(dst.get("nets") or ()),
        not_dst_nets=tuple(dst.get("notNets") or ()),
        dst_ports=d_ports,
        not_dst_ports=d_not_ports,
        dst_named_port_ipset_ids=_ids(d_named),
        not_dst_named_port_ipset_ids=_ids(d_not_named),
        dst_ipset_ids=_ids(d_pos),
        not_dst_ipset_ids=_ids(d_neg),
        origin=origin,
    )
    sets = s_named + s_not_named + d_named + d_not_named + s_pos + d_pos + s_neg + d_neg
    return parsed, sets


def parse_rules(rules: Iterable[dict], namespace: str, owner: str, tier: str, kind: str,
                name: str, direction: str) -> tuple[tuple[ParsedRule, ...], dict[str, IPSetSpec]]:
    """All rules of one direction of a policy/profile, each with its RuleOrigin."""
    out: list[ParsedRule] = []
    sets: dict[str, IPSetSpec] = {}
    for index, rule in enumerate(rules or ()):
        origin = RuleOrigin(owner, tier, kind, namespace, name, direction, index)
        parsed, rule_sets = parse_rule(rule, namespace, origin)
        out.append(parsed)
        for spec in rule_sets:
            sets[spec.set_id] = spec
    return tuple(out), sets
