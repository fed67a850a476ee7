"""The kind registry: every resource kind we store, with Calico's plural (the etcd path
segment), scope, CLI aliases and `get` table columns.

One table that the datastore (keys), the CLI (aliases, columns) and the model (which
class parses which kind) all read, as calicoctl's per-kind resourcemgr does.
"""
from __future__ import annotations

from dataclasses import dataclass, field

CALICO_API_VERSION = "projectcalico.org/v3"
K8S_NETWORKING_API_VERSION = "networking.k8s.io/v1"


@dataclass(frozen=True)
class KindSpec:
    kind: str                  # Calico kind name, e.g. "NetworkPolicy"
    plural: str                # etcd path segment, lower case
    namespaced: bool
    aliases: tuple[str, ...]   # CLI names besides the lower-case kind (plurals, short names)
    columns: tuple[str, ...] = ("NAME",)        # `get` default table (-o ps)
    wide_columns: tuple[str, ...] = ("NAME",)   # `get -o wide`
    api_version: str = CALICO_API_VERSION
    # Document kind as written in manifests (differs only for Kubernetes NetworkPolicy).
    manifest_kind: str = field(default="")

    @property
    def doc_kind(self) -> str:
        return self.manifest_kind or self.kind


KINDS: tuple[KindSpec, ...] = (
    KindSpec("NetworkPolicy", "networkpolicies", True,
             ("networkpolicies", "policy", "np", "policies", "pol", "pols"),
             ("NAME", "TIER"), ("NAME", "TIER", "ORDER", "SELECTOR")),
    KindSpec("GlobalNetworkPolicy", "globalnetworkpolicies", False,
             ("globalnetworkpolicies", "gnp", "gnps"),
             ("NAME", "TIER"), ("NAME", "TIER", "ORDER", "SELECTOR")),
    KindSpec("Profile", "profiles", False, ("profiles", "pro", "pros"),
             ("NAME",), ("NAME", "LABELS")),
    KindSpec("WorkloadEndpoint", "workloadendpoints", True,
             ("workloadendpoints", "wep", "weps"),
             ("WORKLOAD", "NODE", "NETWORKS", "INTERFACE"),
             ("NAME", "WORKLOAD", "NODE", "NETWORKS", "INTERFACE", "PROFILES", "NATS")),
    KindSpec("HostEndpoint", "hostendpoints", False, ("hostendpoints", "hep", "heps"),
             ("NAME", "NODE"), ("NAME", "NODE", "INTERFACE", "IPS", "PROFILES")),
    KindSpec("IPPool", "ippools", False, ("ippools", "ipp", "ipps", "pool", "pools"),
             ("NAME", "CIDR", "SELECTOR"),
             ("NAME", "CIDR", "NAT", "IPIPMODE", "VXLANMODE", "DISABLED", "DISABLEBGPEXPORT",
              "SELECTOR", "ASSIGNMENTMODE")),
    KindSpec("IPReservation", "ipreservations", False, ("ipreservations", "reservation", "reservations"),
             ("NAME",), ("NAME", "CIDRS")),
    KindSpec("Node", "nodes", False, ("nodes", "no", "nos"),
             ("NAME",), ("NAME", "ASN", "IPV4", "IPV6")),
    KindSpec("BGPPeer", "bgppeers", False, ("bgppeers", "bgpp", "bgpps", "bp", "bps"),
             ("NAME", "PEERIP", "NODE", "ASN"), ("NAME", "PEERIP", "NODE", "ASN")),
    KindSpec("BGPConfiguration", "bgpconfigurations", False,
             ("bgpconfigurations", "bgpconfig", "bgpconfigs"),
             ("NAME", "LOGSEVERITY", "MESHENABLED", "ASNUMBER"),
             ("NAME", "LOGSEVERITY", "MESHENABLED", "ASNUMBER")),
    KindSpec("FelixConfiguration", "felixconfigurations", False,
             ("felixconfigurations", "felixconfig", "felixconfigs"), ("NAME",), ("NAME",)),
    KindSpec("NetworkSet", "networksets", True, ("networksets", "netset", "netsets"),
             ("NAME",), ("NAME", "NETS")),
    KindSpec("GlobalNetworkSet", "globalnetworksets", False,
             ("globalnetworksets", "gnetset", "gnetsets"), ("NAME",), ("NAME", "NETS")),
    KindSpec("ClusterInformation", "clusterinformations", False,
             ("clusterinformations", "clusterinfo", "clusterinfos"),
             ("NAME", "CLUSTERGUID", "CLUSTERTYPE", "CALICOVERSION", "DATASTOREREADY"),
             ("NAME", "CLUSTERGUID", "CLUSTERTYPE", "CALICOVERSION", "DATASTOREREADY")),
    # Kubernetes networking.k8s.io/v1 NetworkPolicy, stored as its own kind and converted
    # to a Calico policy (knp.default.<name>) by the agent.
    KindSpec("KubernetesNetworkPolicy", "kubernetesnetworkpolicies", True,
             ("kubernetesnetworkpolicies", "knp", "knps", "networkpolicy.networking.k8s.io"),
             ("NAME",), ("NAME", "SELECTOR"),
             api_version=K8S_NETWORKING_API_VERSION, manifest_kind="NetworkPolicy"),
)

_BY_KIND = {k.kind: k for k in KINDS}
_BY_DOC = {(k.api_version, k.doc_kind): k for k in KINDS}
_BY_PLURAL = {k.plural: k for k in KINDS}
_BY_ALIAS: dict[str, KindSpec] = {}
for _k in KINDS:
    for _name in (_k.kind.lower(), *_k.aliases):
        _BY_ALIAS.setdefault(_name.lower(), _k)


def by_kind(kind: str) -> KindSpec:
    """The spec of an internal kind name (`NetworkPolicy`, `KubernetesNetworkPolicy`)."""
    return _BY_KIND[kind]


def by_document(api_version: str | None, kind: str) -> KindSpec | None:
    """The spec for a manifest's apiVersion + kind; None if we do not know the kind."""
    if api_version is None:
        return _BY_KIND.get(kind)
    return _BY_DOC.get((api_version, kind))


def by_plural(plural: str) -> KindSpec | None:
    return _BY_PLURAL.get(plural)


def lookup(name: str) -> KindSpec | None:
    """Resolve what a user typed on the command line (kind, plural or short name,
    any case) to a KindSpec, or None."""
    key = name.lower()
    return _BY_ALIAS.get(key) or _BY_KIND.get(name)


def all_kind_names() -> list[str]:
    return [k.kind for k in KINDS]
