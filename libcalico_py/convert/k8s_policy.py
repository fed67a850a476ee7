"""Kubernetes networking.k8s.io/v1 NetworkPolicy -> Calico NetworkPolicy, exactly as
Calico converts it (`K8sNetworkPolicyToCalico` and helpers in
`libcalico-go/lib/backend/k8s/conversion/conversion.go`, name prefix from
kube-controllers):

* name `knp.default.<name>`, same namespace, tier `default`, order 1000; only name and
  namespace are copied into the metadata;
* the policy selector is `projectcalico.org/orchestrator == 'k8s'` AND-ed with the pod
  selector's matchLabels (keys sorted) and matchExpressions;
* `types` come from `policyTypes`, and an empty `policyTypes` means `[Ingress]` only;
* every rule is Allow; one Calico rule per (protocol x peer), ingress peers as `source`,
  egress peers as `destination`; ports of one protocol are merged and contiguous numbers
  coalesced into ranges (`simplify_ports`); a port without a protocol is TCP (the
  Kubernetes API default); ipBlock becomes nets/notNets; a peer namespaceSelector `{}` is
  `all()` and an absent one means the policy's own namespace;
* a rule whose conversion fails is dropped and the rest are kept.
"""
from __future__ import annotations

import ipaddress
import logging

from libcalico_py.model import Resource, load
from libcalico_py.validation.ports import parse_port, port_range

log = logging.getLogger(__name__)

NAME_PREFIX = "knp.default."
ORDER = 1000.0
ORCHESTRATOR_TERM = "projectcalico.org/orchestrator == 'k8s'"


class PortConversionError(ValueError):
    """A Kubernetes port that has no Calico form (bad number, endPort without a number)."""


def selector_to_calico(sel, pod: bool) -> str:
    """A Kubernetes LabelSelector (typed, or None) as a Calico selector. Pod selectors
    start with the orchestrator term; a namespace selector with no terms is `all()`, and a
    missing one is the empty string (meaning "the policy's namespace")."""
    terms = [ORCHESTRATOR_TERM] if pod else []
    if sel is None:
        return " && ".join(terms)
    labels = sel.match_labels or {}
    exprs = sel.match_expressions or []
    if not pod and not labels and not exprs:
        return "all()"
    for key in sorted(labels):
        terms.append(f"{key} == '{labels[key]}'")
    for e in exprs:
        values = "', '".join(e.values or [])
        if e.operator == "In":
            terms.append(f"{e.key} in {{ '{values}' }}")
        elif e.operator == "NotIn":
            terms.append(f"{e.key} not in {{ '{values}' }}")
        elif e.operator == "Exists":
            terms.append(f"has({e.key})")
        elif e.operator == "DoesNotExist":
            terms.append(f"! has({e.key})")
    return " && ".join(terms)


def _port_to_calico(port) -> tuple[str, list | None]:
    """(protocol, ports) of one Kubernetes port; ports None = every port."""
    protocol = (port.protocol or "TCP")
    if port.port is None:
        return protocol, None
    text = str(port.port)
    if port.end_port is not None:
        text = f"{text}:{port.end_port}"
    try:
        return protocol, [parse_port(text)]
    except ValueError as exc:
        raise PortConversionError(f"invalid port {text}: {exc}") from None


def simplify_ports(ports: list | None) -> list | None:
    """Calico's SimplifyPorts: named ports first (in input order), then the numeric ports
    and ranges merged into the fewest contiguous ranges, ascending. When the numeric
    entries cover at most one port number the list is returned unchanged."""
    if ports is None or len(ports) <= 1:
        return ports
    named = [p for p in ports if port_range(p) is None]
    ranges = sorted(port_range(p) for p in ports if port_range(p) is not None)
    if sum(hi - lo + 1 for lo, hi in ranges) <= 1:
        return ports
    merged: list[list[int]] = []
    for lo, hi in ranges:
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return named + [lo if lo == hi else f"{lo}:{hi}" for lo, hi in merged]


def _peer_fields(peer) -> dict:
    """EntityRule fields for one peer (None = any peer)."""
    if peer is None:
        return {}
    if peer.ip_block is not None:
        fields = {"nets": [str(ipaddress.ip_network(peer.ip_block.cidr, strict=False))]}
        not_nets = [str(ipaddress.ip_network(c, strict=False)) for c in peer.ip_block.except_ or []]
        if not_nets:
            fields["notNets"] = not_nets
        return fields
    fields = {"selector": selector_to_calico(peer.pod_selector, pod=True)}
    ns = selector_to_calico(peer.namespace_selector, pod=False)
    if ns:
        fields["namespaceSelector"] = ns
    return fields


def rule_to_calico(peers: list | None, ports: list | None, ingress: bool) -> list[dict]:
    """The Calico rules (as dicts) for one Kubernetes ingress/egress rule."""
    peer_list = list(peers) if peers else [None]
    proto_ports: dict[str, list | None] = {}
    if not ports:
        proto_ports = {"": None}
    for port in ports or []:
        protocol, calico_ports = _port_to_calico(port)
        if calico_ports is None:
            proto_ports[protocol] = None
        elif protocol not in proto_ports or proto_ports[protocol]:
            proto_ports.setdefault(protocol, [])
            proto_ports[protocol] = proto_ports[protocol] + calico_ports
    rules = []
    for protocol in sorted(proto_ports):
        calico_ports = simplify_ports(proto_ports[protocol])
        for peer in peer_list:
            rule: dict = {"action": "Allow"}
            if protocol:
                rule["protocol"] = protocol
            peer_fields = _peer_fields(peer)
            dest: dict = {"ports": calico_ports} if calico_ports else {}
            if ingress:
                rule["source"] = peer_fields
                rule["destination"] = dest
            else:
                rule["source"] = {}
                rule["destination"] = {**dest, **peer_fields}
            rules.append(rule)
    return rules


def _convert_rules(rules: list | None, ingress: bool, policy_name: str) -> list[dict]:
    out: list[dict] = []
    for i, r in enumerate(rules or []):
        try:
            out.extend(rule_to_calico(r.from_ if ingress else r.to, r.ports, ingress))
        except (PortConversionError, ValueError) as exc:
            log.warning("dropping %s rule %d of Kubernetes policy %s: %s",
                        "ingress" if ingress else "egress", i, policy_name, exc)
    return out


def policy_types(spec) -> list[str]:
    types = spec.policy_types or []
    out = [t for t in ("Ingress", "Egress") if t in types]
    return out or ["Ingress"]


def k8s_policy_to_calico(knp: Resource) -> Resource:
    """Convert a KubernetesNetworkPolicy resource into the Calico NetworkPolicy
    `knp.default.<name>` (defaulted and validated like any other policy)."""
    if knp.kind != "KubernetesNetworkPolicy":
        raise ValueError(f"expected a KubernetesNetworkPolicy, got {knp.kind}")
    spec = knp.spec
    name = knp.metadata.name
    ingress = _convert_rules(spec.ingress, True, name)
    egress = _convert_rules(spec.egress, False, name)
    meta = {"name": NAME_PREFIX + name}
    if knp.metadata.namespace:
        meta["namespace"] = knp.metadata.namespace
    calico_spec: dict = {
        "tier": "default",
        "order": ORDER,
        "selector": selector_to_calico(spec.pod_selector, pod=True),
        "types": policy_types(spec),
    }
    if ingress:
        calico_spec["ingress"] = ingress
    if egress:
        calico_spec["egress"] = egress
    return load({"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy",
                 "metadata": meta, "spec": calico_spec})
