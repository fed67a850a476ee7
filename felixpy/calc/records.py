"""The graph's own view of each resource: small immutable records built once per update.

Records are built from the documented Calico JSON form (camelCase) of a value the
validation filter has accepted, so the graph does not depend on the model's Python
attribute names. We read the stored document itself rather than `to_dict()` of the
parsed resource (re-serialising costs as much as parsing); the only default that matters
here, a policy's `types`, is filled with the model's own `default_types`. Each record keeps only what the calculation needs; the rest of the
resource is dropped right away to keep a 10,000-endpoint snapshot small.

Calico's pre-processing that Felix gets from its update processors happens here:

* a WorkloadEndpoint without `ipNetworks` is no endpoint at all (filtered out);
* user-supplied `pcns.`/`pcsa.` labels on endpoints are ignored (see
  `libcalico_py.selector.labels.effective_labels`);
* a policy's `types` decide which directions it governs; its `order` is +inf if absent;
* named ports carry a lower-case protocol (`tcp`, `udp`, `sctp`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from libcalico_py.model.policy import default_types
from libcalico_py.selector import Selector

from felixpy.calc.messages import PolicyID, WorkloadEndpointID
from felixpy.calc.policy_sorter import DEFAULT_TIER, PolicyMeta
from felixpy.calc.rule_scanner import parse_cached, policy_selector_text

# Felix's short kind per internal kind name.
POLICY_KINDS = {
    "NetworkPolicy": "np",
    "GlobalNetworkPolicy": "gnp",
    "KubernetesNetworkPolicy": "knp",
}


@dataclass(frozen=True, slots=True)
class EndpointRecord:
    endpoint_id: WorkloadEndpointID
    node: str
    iface: str
    mac: str | None
    ipv4_nets: tuple[str, ...]
    ipv6_nets: tuple[str, ...]
    profiles: tuple[str, ...]
    labels: dict = field(hash=False, compare=True)
    orchestrator: str | None = None
    service_account: str | None = None
    ports: tuple[tuple[str, str, int], ...] = ()

    @property
    def nets(self) -> tuple[str, ...]:
        return self.ipv4_nets + self.ipv6_nets


@dataclass(frozen=True, slots=True)
class NetworkSetRecord:
    item_id: tuple
    namespace: str | None
    labels: dict = field(hash=False, compare=True)
    nets: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PolicyRecord:
    policy_id: PolicyID
    meta: PolicyMeta
    selector: Selector
    ingress: tuple = ()
    egress: tuple = ()


@dataclass(frozen=True, slots=True)
class ProfileRecord:
    name: str
    labels_to_apply: dict = field(hash=False, compare=True)
    ingress: tuple = ()
    egress: tuple = ()


@dataclass(frozen=True, slots=True)
class PoolRecord:
    name: str
    cidr: str
    nat_outgoing: bool
    disabled: bool


def _host_net(net: str, v6: bool) -> str:
    return net if "/" in net else net + ("/128" if v6 else "/32")


def endpoint_record(endpoint_id: WorkloadEndpointID, doc: dict) -> EndpointRecord | None:
    """None when the endpoint has no addresses (Felix never sees those)."""
    spec = doc.get("spec") or {}
    nets = spec.get("ipNetworks") or ()
    if not nets:
        return None
    v4 = tuple(_host_net(n, False) for n in nets if ":" not in n)
    v6 = tuple(_host_net(n, True) for n in nets if ":" in n)
    ports = tuple(
        (p.get("name", ""), str(p.get("protocol") or "TCP").lower(), int(p.get("port", 0)))
        for p in spec.get("ports") or () if p.get("name")
    )
    return EndpointRecord(
        endpoint_id=endpoint_id,
        node=spec.get("node", ""),
        iface=spec.get("interfaceName", ""),
        mac=spec.get("mac") or None,
        ipv4_nets=v4,
        ipv6_nets=v6,
        profiles=tuple(spec.get("profiles") or ()),
        labels=dict((doc.get("metadata") or {}).get("labels") or {}),
        orchestrator=spec.get("orchestrator") or None,
        service_account=spec.get("serviceAccountName") or None,
        ports=ports,
    )


def network_set_record(kind: str, namespace: str | None, name: str, doc: dict) -> NetworkSetRecord:
    item_kind = "netset" if namespace else "gnetset"
    return NetworkSetRecord(
        item_id=(item_kind, namespace or "", name),
        namespace=namespace or None,
        labels=dict((doc.get("metadata") or {}).get("labels") or {}),
        nets=tuple(_host_net(n, ":" in n) for n in (doc.get("spec") or {}).get("nets") or ()),
    )


def policy_id_for(kind: str, namespace: str | None, name: str) -> PolicyID:
    return PolicyID(POLICY_KINDS[kind], namespace or "", name)


def policy_record(policy_id: PolicyID, doc: dict) -> PolicyRecord:
    spec = doc.get("spec") or {}
    types = spec.get("types") or default_types(spec.get("ingress"), spec.get("egress"))
    order = spec.get("order")
    meta = PolicyMeta(
        tier=spec.get("tier") or DEFAULT_TIER,
        order=math.inf if order is None else float(order),
        ingress="Ingress" in types,
        egress="Egress" in types,
    )
    return PolicyRecord(
        policy_id=policy_id,
        meta=meta,
        selector=parse_cached(policy_selector_text(spec, policy_id.namespace)),
        ingress=tuple(spec.get("ingress") or ()),
        egress=tuple(spec.get("egress") or ()),
    )


def profile_record(name: str, doc: dict) -> ProfileRecord:
    spec = doc.get("spec") or {}
    return ProfileRecord(
        name=name,
        labels_to_apply=dict(spec.get("labelsToApply") or {}),
        ingress=tuple(spec.get("ingress") or ()),
        egress=tuple(spec.get("egress") or ()),
    )


def pool_record(name: str, doc: dict) -> PoolRecord:
    spec = doc.get("spec") or {}
    return PoolRecord(name, spec.get("cidr", ""), bool(spec.get("natOutgoing")),
                      bool(spec.get("disabled")))


# Calico synthesises this profile on reads; it is never stored, so never watched.
DEFAULT_ALLOW_PROFILE = ProfileRecord(
    name="projectcalico-default-allow",
    labels_to_apply={},
    ingress=({"action": "Allow"},),
    egress=({"action": "Allow"},),
)

# Rules for a profile an endpoint names but the datastore lacks: fail closed, as
# Felix's DummyDropRules.
MISSING_PROFILE_INGRESS = ({"action": "Deny"},)
MISSING_PROFILE_EGRESS = ({"action": "Deny"},)
