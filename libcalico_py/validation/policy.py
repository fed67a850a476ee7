"""Rule, EntityRule and policy-spec checks (`validateRule`, `validateEntityRule`,
`validateNetworkPolicySpec`, `validateGlobalNetworkPolicySpec` in Calico's validator).

Paths name the offending field from the document root, e.g.
`spec.ingress[0].destination.ports[1]`.
"""
from __future__ import annotations

from libcalico_py.validation import names
from libcalico_py.validation.collector import Collector, one_of
from libcalico_py.validation.net import parse_network
from libcalico_py.validation.ports import is_named, supports_ports
from libcalico_py.validation.selectors import selector_reason

ACTIONS = ("Allow", "Deny", "Log", "Pass")
POLICY_TYPES = ("Ingress", "Egress")
MAX_RULES = 1024
MAX_NETS = 256
MAX_PORTS = 50
PERFORMANCE_HINTS = ("AssumeNeededOnEveryNode",)
HTTP_METHODS_MAX = 20


def check_selector(errs: Collector, path: str, text: str | None,
                   entity_namespace_selector: bool = False) -> None:
    if text:
        errs.check(path, selector_reason(text, entity_namespace_selector=entity_namespace_selector),
                   text)


def _check_nets(errs: Collector, path: str, nets: list | None, versions: list, negated: bool):
    if not nets:
        return
    if len(nets) > MAX_NETS:
        errs.add(path, f"at most {MAX_NETS} entries are allowed")
    for i, text in enumerate(nets):
        p = f"{path}[{i}]"
        if text is None:
            continue
        try:
            net = parse_network(text)
        except ValueError as exc:
            errs.add(p, str(exc), text)
            continue
        if negated and net.prefixlen == 0:
            errs.add(p, f"{text} in notNets matches no traffic", text)
        versions.append((p, net.version, text))


def _check_ports(errs: Collector, path: str, ports: list | None, protocol):
    if not ports:
        return
    if len(ports) > MAX_PORTS:
        errs.add(path, f"at most {MAX_PORTS} ports are allowed")
    for i, port in enumerate(ports):
        if port is None:
            continue
        p = f"{path}[{i}]"
        if protocol is None:
            if not is_named(port):
                errs.add(p, "numeric ports require protocol TCP, UDP or SCTP", port)
        elif not supports_ports(protocol):
            errs.add(p, f"protocol {protocol} does not support ports "
                        "(only TCP, UDP and SCTP do)", port)


def validate_entity(errs: Collector, path: str, ent, protocol, versions: list,
                    services_allowed: bool) -> None:
    if ent is None:
        return
    _check_nets(errs, f"{path}.nets", ent.nets, versions, negated=False)
    _check_nets(errs, f"{path}.notNets", ent.not_nets, versions, negated=True)
    check_selector(errs, f"{path}.selector", ent.selector)
    check_selector(errs, f"{path}.notSelector", ent.not_selector)
    check_selector(errs, f"{path}.namespaceSelector", ent.namespace_selector,
                   entity_namespace_selector=True)
    _check_ports(errs, f"{path}.ports", ent.ports, protocol)
    _check_ports(errs, f"{path}.notPorts", ent.not_ports, protocol)
    if ent.service_accounts is not None:
        check_selector(errs, f"{path}.serviceAccounts.selector", ent.service_accounts.selector)
        errs.check_each(f"{path}.serviceAccounts.names", ent.service_accounts.names,
                        names.dns_subdomain)
    if ent.services is not None:
        sp = f"{path}.services"
        if not services_allowed:
            errs.add(sp, "services may only be used as the source of ingress rules or the "
                         "destination of egress rules")
        if not ent.services.name:
            errs.add(f"{sp}.name", "required field is missing")
        for attr, json in (("selector", "selector"), ("not_selector", "notSelector"),
                           ("namespace_selector", "namespaceSelector"), ("nets", "nets"),
                           ("not_nets", "notNets"), ("service_accounts", "serviceAccounts")):
            if getattr(ent, attr):
                errs.add(f"{path}.{json}", "cannot be combined with services")


def _check_icmp(errs: Collector, path: str, icmp, protocol):
    if icmp is None:
        return
    if icmp.type is not None and not 0 <= icmp.type <= 254:
        errs.add(f"{path}.type", "ICMP type must be between 0 and 254", icmp.type)
    if icmp.code is not None:
        if not 0 <= icmp.code <= 255:
            errs.add(f"{path}.code", "ICMP code must be between 0 and 255", icmp.code)
        if icmp.type is None:
            errs.add(f"{path}.code", "ICMP code requires an ICMP type", icmp.code)
    if protocol not in ("ICMP", "ICMPv6", 1, 58):
        errs.add(path, "ICMP fields require protocol ICMP or ICMPv6", protocol)


def validate_rule(errs: Collector, path: str, rule, direction: str) -> None:
    errs.require(f"{path}.action", rule.action, one_of, ACTIONS)
    if rule.ip_version is not None and rule.ip_version not in (4, 6):
        errs.add(f"{path}.ipVersion", "must be 4 or 6", rule.ip_version)
    proto = rule.protocol
    _check_icmp(errs, f"{path}.icmp", rule.icmp, proto)
    _check_icmp(errs, f"{path}.notICMP", rule.not_icmp, proto)
    if rule.icmp is not None or rule.not_icmp is not None:
        if proto in ("ICMP", 1) and rule.ip_version == 6:
            errs.add(f"{path}.protocol", "protocol ICMP requires ipVersion 4", proto)
        if proto in ("ICMPv6", 58) and rule.ip_version == 4:
            errs.add(f"{path}.protocol", "protocol ICMPv6 requires ipVersion 6", proto)
    versions: list = []
    validate_entity(errs, f"{path}.source", rule.source, proto, versions,
                    services_allowed=direction == "ingress")
    validate_entity(errs, f"{path}.destination", rule.destination, proto, versions,
                    services_allowed=direction == "egress")
    if rule.destination is not None and rule.destination.services is not None \
            and rule.destination.ports:
        errs.add(f"{path}.destination.ports", "ports cannot be combined with destination "
                                              "services")
    seen = {v for _, v, _ in versions}
    if rule.ip_version is not None:
        for p, v, text in versions:
            if v != rule.ip_version:
                errs.add(p, f"{text} does not match ipVersion {rule.ip_version}", text)
    elif len(seen) > 1:
        errs.add(versions[-1][0], "a rule cannot mix IPv4 and IPv6 CIDRs", versions[-1][2])
    if rule.http is not None:
        hp = f"{path}.http"
        if rule.action != "Allow":
            errs.add(hp, "HTTP match is only allowed on Allow rules")
        if proto not in (None, "TCP", 6):
            errs.add(hp, "HTTP match requires protocol TCP or no protocol")
        if direction == "egress":
            errs.add(hp, "HTTP match is not allowed in egress rules")
        if len(rule.http.methods or []) > HTTP_METHODS_MAX:
            errs.add(f"{hp}.methods", f"at most {HTTP_METHODS_MAX} methods are allowed")
        for i, m in enumerate(rule.http.paths or []):
            if m is not None and bool(m.exact) == bool(m.prefix):
                errs.add(f"{hp}.paths[{i}]", "exactly one of exact or prefix is required")


def validate_rules(errs: Collector, path: str, rules: list | None, direction: str) -> None:
    if not rules:
        return
    if len(rules) > MAX_RULES:
        errs.add(path, f"at most {MAX_RULES} rules are allowed")
    for i, rule in enumerate(rules):
        if rule is not None:
            validate_rule(errs, f"{path}[{i}]", rule, direction)


def validate_policy_spec(errs: Collector, spec, is_global: bool) -> None:
    if spec.tier:
        errs.check("spec.tier", names.tier_name(spec.tier), spec.tier)
    check_selector(errs, "spec.selector", spec.selector)
    check_selector(errs, "spec.serviceAccountSelector", spec.service_account_selector)
    types = spec.types or []
    errs.check_each("spec.types", types, one_of, POLICY_TYPES)
    if len(types) != len(set(types)):
        errs.add("spec.types", "types must not contain duplicates", types)
    if len(types) > 2:
        errs.add("spec.types", "at most 2 types are allowed", types)
    errs.check_each("spec.performanceHints", spec.performance_hints, one_of, PERFORMANCE_HINTS)
    validate_rules(errs, "spec.ingress", spec.ingress, "ingress")
    validate_rules(errs, "spec.egress", spec.egress, "egress")
    if not is_global:
        return
    check_selector(errs, "spec.namespaceSelector", spec.namespace_selector)
    if spec.pre_dnat and spec.do_not_track:
        errs.add("spec.preDNAT", "preDNAT and doNotTrack cannot both be true")
    if spec.pre_dnat:
        if spec.egress:
            errs.add("spec.egress", "a preDNAT policy cannot have egress rules")
        if "Egress" in types:
            errs.add("spec.types", "a preDNAT policy cannot have type Egress", types)
    if (spec.pre_dnat or spec.do_not_track) and not spec.apply_on_forward:
        errs.add("spec.applyOnForward", "applyOnForward must be true when preDNAT or "
                                        "doNotTrack is true")
