"""The cluster index the evaluator reads: workload endpoints by address with their
effective labels, network sets, and policies and profiles with compiled rules.

Built once from model Resources (`Cluster.from_resources`) and then read-only. What is
indexed follows what Felix's calculation graph sees:

* a WorkloadEndpoint without `ipNetworks` is not an endpoint at all;
* effective labels come from `labels.effective_labels` (profiles' labelsToApply, the
  namespace / orchestrator / service-account labels; user `pcns.`/`pcsa.` labels
  dropped); a NetworkSet inherits the labelsToApply of `kns.<namespace>`;
* a KubernetesNetworkPolicy is converted with `k8s_policy_to_calico` (one that does not
  convert is ignored, as Felix ignores it) and keeps Felix's short kind `knp` and its
  Kubernetes name; NetworkPolicy is `np`, GlobalNetworkPolicy `gnp`;
* doNotTrack and preDNAT policies only ever apply to host endpoints: never here;
* a policy applies to an endpoint when its selector matches (a namespaced policy only
  in its own namespace; serviceAccountSelector and a GNP's namespaceSelector AND-ed);
* policies sort by tier (Calico's built-in tiers `kube-admin` 1,000 / Pass,
  `default` 1,000,000 / Deny, `kube-baseline` 10,000,000 / Pass; any other tier last,
  by name, default action Deny), then `order` (absent = +inf), then name, namespace,
  kind, as Felix's policy sorter does;
* the profile `projectcalico-default-allow` exists without being stored (allow-all);
  a profile an endpoint lists that does not exist denies (Felix's fail-closed rules).
"""
from __future__ import annotations

import ipaddress
import logging
import math
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from libcalico_py.convert.k8s_policy import k8s_policy_to_calico
from libcalico_py.errors import ValidationError
from libcalico_py.model import Resource
from libcalico_py.model.policy import default_types
from libcalico_py.selector import Selector, parse
from libcalico_py.selector.labels import (LABEL_NAMESPACE, effective_labels,
                                          namespace_profile_name,
                                          namespace_selector_to_label_selector,
                                          service_account_selector_to_label_selector)
from libcalico_py.policy.tiers import BUILTIN_TIERS, DEFAULT_TIER, tier_default_action, tier_sort_key
from libcalico_py.policy.matching import (CompiledRule, IPAddress, IPNetwork, Item, compile_rules,
                                          protocol_number)

log = logging.getLogger(__name__)

DEFAULT_ALLOW_PROFILE = "projectcalico-default-allow"
POLICY_KINDS = {"NetworkPolicy": "np", "GlobalNetworkPolicy": "gnp", "KubernetesNetworkPolicy": "knp"}
INGRESS, EGRESS = "ingress", "egress"


@dataclass(frozen=True)
class Endpoint:
    namespace: str
    name: str
    nets: tuple[IPNetwork, ...]
    labels: Mapping[str, str]
    profiles: tuple[str, ...]
    ports: tuple[tuple[str, int, int], ...] = ()      # (name, protocol number, port)

    @property
    def item(self) -> Item:
        return Item(self.labels, self.ports)

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


@dataclass(frozen=True)
class NetworkSet:
    namespace: str
    name: str
    nets: tuple[IPNetwork, ...]
    labels: Mapping[str, str]

    @property
    def item(self) -> Item:
        return Item(self.labels)


@dataclass(frozen=True)
class Policy:
    kind: str                  # np | gnp | knp
    namespace: str             # "" for global policies
    name: str
    tier: str
    order: float               # math.inf when absent
    selectors: tuple[Selector, ...]     # all must match the endpoint
    types: frozenset[str]               # {"ingress", "egress"}
    ingress: tuple[CompiledRule, ...] = ()
    egress: tuple[CompiledRule, ...] = ()

    def selects(self, labels: Mapping[str, str]) -> bool:
        return all(s.evaluate(labels) for s in self.selectors)

    def rules(self, direction: str) -> tuple[CompiledRule, ...]:
        return self.ingress if direction == INGRESS else self.egress

    @property
    def sort_key(self) -> tuple:
        return (tier_sort_key(self.tier), self.order, self.name, self.namespace, self.kind)


@dataclass(frozen=True)
class Profile:
    name: str
    labels_to_apply: Mapping[str, str] = field(default_factory=dict)
    ingress: tuple[CompiledRule, ...] = ()
    egress: tuple[CompiledRule, ...] = ()

    def rules(self, direction: str) -> tuple[CompiledRule, ...]:
        return self.ingress if direction == INGRESS else self.egress


def _allow_all() -> tuple[CompiledRule, ...]:
    return (CompiledRule(action="allow", index=0),)


def _host_net(text: str) -> IPNetwork:
    return ipaddress.ip_network(text, strict=False)


class Cluster:
    """Endpoints, network sets, policies (sorted) and profiles. `allow_vxlan_from_workloads`
    / `allow_ipip_from_workloads` mirror Felix's AllowVXLANPacketsFromWorkloads /
    AllowIPIPPacketsFromWorkloads (our agent's defaults: allowed); when False, egress from
    a workload drops UDP/4789 or IP protocol 4 before any policy."""

    def __init__(self, endpoints: Iterable[Endpoint] = (), network_sets: Iterable[NetworkSet] = (),
                 policies: Iterable[Policy] = (), profiles: Iterable[Profile] = (),
                 allow_vxlan_from_workloads: bool = False, allow_ipip_from_workloads: bool = False):
        self.endpoints = tuple(sorted(endpoints, key=lambda e: (e.namespace, e.name)))
        self.network_sets = tuple(network_sets)
        self.policies = tuple(sorted(policies, key=lambda p: p.sort_key))
        self.profiles = {p.name: p for p in profiles}
        self.profiles.setdefault(DEFAULT_ALLOW_PROFILE, Profile(DEFAULT_ALLOW_PROFILE, {}, _allow_all(),
                                                                _allow_all()))
        self.allow_vxlan_from_workloads = allow_vxlan_from_workloads
        self.allow_ipip_from_workloads = allow_ipip_from_workloads
        self._by_ip: dict[IPAddress, Endpoint] = {}
        for ep in self.endpoints:
            for net in ep.nets:
                self._by_ip.setdefault(net.network_address, ep)

    # ---------------------------------------------------------------- lookups

    def endpoint_at(self, ip: IPAddress) -> Endpoint | None:
        """The workload endpoint that owns this address (first by namespace/name if
        several claim it)."""
        return self._by_ip.get(ip)

    def items_at(self, ip: IPAddress) -> tuple[Item, ...]:
        """Every endpoint and network set whose nets contain the address: what the
        selector IP sets would hold it for."""
        out = [ep.item for ep in self.endpoints if any(ip in n for n in ep.nets)]
        out.extend(ns.item for ns in self.network_sets if any(ip in n for n in ns.nets))
        return tuple(out)

    def tiers_for(self, endpoint: Endpoint, direction: str) -> list[tuple[str, list[Policy]]]:
        """The tiers (in order) with the policies that apply to the endpoint in this
        direction; tiers with none are left out, as Felix leaves them out of the chain."""
        tiers: dict[str, list[Policy]] = {}
        for policy in self.policies:
            if direction in policy.types and policy.selects(endpoint.labels):
                tiers.setdefault(policy.tier, []).append(policy)
        return list(tiers.items())

    # ---------------------------------------------------------------- building

    @classmethod
    def from_resources(cls, resources: Iterable[Resource], **options) -> "Cluster":
        """Index model Resources (WorkloadEndpoint, NetworkPolicy, GlobalNetworkPolicy,
        KubernetesNetworkPolicy, Profile, NetworkSet, GlobalNetworkSet; other kinds are
        ignored). `options` are the Cluster flags."""
        resources = list(resources)
        profile_res = [r for r in resources if r.kind == "Profile"]
        labels_to_apply = {r.metadata.name: dict(r.spec.labels_to_apply or {}) for r in profile_res}
        profiles = [Profile(r.metadata.name, labels_to_apply[r.metadata.name],
                            compile_rules(r.spec.ingress, None), compile_rules(r.spec.egress, None))
                    for r in profile_res]
        endpoints, network_sets, policies = [], [], []
        for r in resources:
            if r.kind == "WorkloadEndpoint":
                ep = _endpoint(r, labels_to_apply)
                if ep is not None:
                    endpoints.append(ep)
            elif r.kind in ("NetworkSet", "GlobalNetworkSet"):
                network_sets.append(_network_set(r, labels_to_apply))
            elif r.kind in POLICY_KINDS:
                policy = _policy(r)
                if policy is not None:
                    policies.append(policy)
        return cls(endpoints, network_sets, policies, profiles, **options)


def _endpoint(r: Resource, labels_to_apply: Mapping[str, dict]) -> Endpoint | None:
    spec = r.spec
    if not spec.ip_networks:
        return None
    profiles = tuple(spec.profiles or ())
    namespace = r.metadata.namespace or ""
    labels = effective_labels(r.metadata.labels, [labels_to_apply.get(p) for p in profiles],
                              namespace or None, spec.orchestrator or None,
                              spec.service_account_name or None)
    ports = tuple((p.name, protocol_number(p.protocol or "TCP"), int(p.port))
                  for p in spec.ports or () if p.name)
    return Endpoint(namespace, r.metadata.name, tuple(_host_net(n) for n in spec.ip_networks),
                    labels, profiles, ports)


def _network_set(r: Resource, labels_to_apply: Mapping[str, dict]) -> NetworkSet:
    namespace = r.metadata.namespace or ""
    inherited = [labels_to_apply.get(namespace_profile_name(namespace))] if namespace else []
    labels = effective_labels(r.metadata.labels, inherited, namespace or None, None)
    return NetworkSet(namespace, r.metadata.name, tuple(_host_net(n) for n in r.spec.nets or ()),
                      labels)


def _policy(r: Resource) -> Policy | None:
    kind = POLICY_KINDS[r.kind]
    name, namespace = r.metadata.name, r.metadata.namespace or ""
    if r.kind == "KubernetesNetworkPolicy":
        try:
            r = k8s_policy_to_calico(r)
        except (ValueError, ValidationError) as exc:
            log.warning("ignoring Kubernetes NetworkPolicy %s/%s that does not convert: %s",
                        namespace, name, exc)
            return None
    spec = r.spec
    if getattr(spec, "do_not_track", None) or getattr(spec, "pre_dnat", None):
        return None
    if r.kind == "GlobalNetworkPolicy":
        namespace = ""
    selectors = [parse(spec.selector or "all()")]
    if namespace:
        selectors.append(parse(f"{LABEL_NAMESPACE} == '{namespace}'"))
    if spec.service_account_selector:
        selectors.append(parse(service_account_selector_to_label_selector(spec.service_account_selector)))
    ns_sel = getattr(spec, "namespace_selector", None)
    if ns_sel and not namespace:
        selectors.append(parse(namespace_selector_to_label_selector(ns_sel)))
    types = frozenset(t.lower() for t in spec.types or default_types(spec.ingress, spec.egress))
    return Policy(
        kind=kind, namespace=namespace, name=name, tier=spec.tier or DEFAULT_TIER,
        order=math.inf if spec.order is None else float(spec.order),
        selectors=tuple(selectors), types=types,
        ingress=compile_rules(spec.ingress, namespace or None),
        egress=compile_rules(spec.egress, namespace or None),
    )
