"""Kubernetes NetworkPolicy checks, as the Kubernetes API server validates them
(`ValidateNetworkPolicySpec`): label selectors, peers, ipBlock and except, ports with
endPort, policyTypes."""
from __future__ import annotations

from libcalico_py.selector.label_names import validate_label_key, validate_label_value
from libcalico_py.validation.collector import Collector, one_of
from libcalico_py.validation.net import parse_network
from libcalico_py.validation.ports import named_port_reason

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
PROTOCOLS = ("TCP", "UDP", "SCTP")
POLICY_TYPES = ("Ingress", "Egress")


def validate_label_selector(errs: Collector, path: str, sel) -> None:
    if sel is None:
        return
    for key, value in (sel.match_labels or {}).items():
        errs.check(f"{path}.matchLabels[{key}]", validate_label_key(key), key)
        if value is not None:
            errs.check(f"{path}.matchLabels[{key}]", validate_label_value(value), value)
    for i, expr in enumerate(sel.match_expressions or []):
        if expr is None:
            continue
        p = f"{path}.matchExpressions[{i}]"
        errs.require(f"{p}.key", expr.key, validate_label_key)
        if not errs.check(f"{p}.operator", one_of(expr.operator or "", OPERATORS),
                          expr.operator):
            continue
        if expr.operator in ("In", "NotIn") and not expr.values:
            errs.add(f"{p}.values", f"must be non-empty for operator {expr.operator}")
        if expr.operator in ("Exists", "DoesNotExist") and expr.values:
            errs.add(f"{p}.values", f"must be empty for operator {expr.operator}", expr.values)
        errs.check_each(f"{p}.values", expr.values, validate_label_value)


def _validate_peer(errs: Collector, path: str, peer) -> None:
    has_sel = peer.pod_selector is not None or peer.namespace_selector is not None
    if peer.ip_block is not None:
        if has_sel:
            errs.add(f"{path}.ipBlock", "ipBlock cannot be combined with podSelector or "
                                        "namespaceSelector")
        block = peer.ip_block
        try:
            net = parse_network(block.cidr, strict=False) if block.cidr else None
        except ValueError as exc:
            errs.add(f"{path}.ipBlock.cidr", str(exc), block.cidr)
            net = None
        if not block.cidr:
            errs.add(f"{path}.ipBlock.cidr", "required field is missing")
        for i, text in enumerate(block.except_ or []):
            p = f"{path}.ipBlock.except[{i}]"
            try:
                ex = parse_network(text)
            except (ValueError, TypeError) as exc:
                errs.add(p, str(exc), text)
                continue
            if net is not None and (ex.version != net.version or not ex.subnet_of(net)):
                errs.add(p, f"{text} must be within the ipBlock cidr {block.cidr}", text)
    elif not has_sel:
        errs.add(path, "must specify podSelector, namespaceSelector or ipBlock")
    validate_label_selector(errs, f"{path}.podSelector", peer.pod_selector)
    validate_label_selector(errs, f"{path}.namespaceSelector", peer.namespace_selector)


def _validate_port(errs: Collector, path: str, port) -> None:
    if port.protocol is not None:
        errs.check(f"{path}.protocol", one_of(port.protocol, PROTOCOLS), port.protocol)
    if isinstance(port.port, int):
        if not 1 <= port.port <= 65535:
            errs.add(f"{path}.port", "port must be between 1 and 65535", port.port)
    elif isinstance(port.port, str):
        errs.check(f"{path}.port", named_port_reason(port.port), port.port)
    if port.end_port is not None:
        if not isinstance(port.port, int):
            errs.add(f"{path}.endPort", "endPort requires a numeric port", port.end_port)
        elif not port.port <= port.end_port <= 65535:
            errs.add(f"{path}.endPort", "endPort must be between port and 65535", port.end_port)


def validate_k8s_network_policy(errs: Collector, res) -> None:
    spec = res.spec
    validate_label_selector(errs, "spec.podSelector", spec.pod_selector)
    for direction, peers_attr, peers_json in (("ingress", "from_", "from"), ("egress", "to", "to")):
        for i, rule in enumerate(getattr(spec, direction) or []):
            if rule is None:
                continue
            p = f"spec.{direction}[{i}]"
            for j, port in enumerate(rule.ports or []):
                if port is not None:
                    _validate_port(errs, f"{p}.ports[{j}]", port)
            for j, peer in enumerate(getattr(rule, peers_attr) or []):
                if peer is not None:
                    _validate_peer(errs, f"{p}.{peers_json}[{j}]", peer)
    types = spec.policy_types or []
    errs.check_each("spec.policyTypes", types, one_of, POLICY_TYPES)
    if len(types) != len(set(types)):
        errs.add("spec.policyTypes", "must not contain duplicates", types)
