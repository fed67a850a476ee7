"""Resource: one typed Calico (or Kubernetes NetworkPolicy) object, and `parse_document`
that turns a manifest dict into one without defaulting or validating.

Which spec class parses which kind is the table `SPEC_CLASSES`; the kind registry itself
(plurals, aliases, columns) is `kinds.py`.
"""
from __future__ import annotations

import copy
from typing import Any

from libcalico_py.errors import FieldError
from libcalico_py.model import kinds
from libcalico_py.model.bgp import BGPConfigurationSpec, BGPPeerSpec
from libcalico_py.model.cluster import ClusterInformationSpec
from libcalico_py.model.endpoint import HostEndpointSpec, WorkloadEndpointSpec
from libcalico_py.model.felixconfig import FelixConfigurationSpec
from libcalico_py.model.ippool import IPPoolSpec
from libcalico_py.model.ipreservation import IPReservationSpec
from libcalico_py.model.k8s import KubernetesNetworkPolicySpec
from libcalico_py.model.meta import ObjectMeta
from libcalico_py.model.networkset import GlobalNetworkSetSpec, NetworkSetSpec
from libcalico_py.model.node import NodeSpec
from libcalico_py.model.policy import GlobalNetworkPolicySpec, NetworkPolicySpec
from libcalico_py.model.profile import ProfileSpec
from libcalico_py.model.schema import UNKNOWN_FIELD, Struct

SPEC_CLASSES: dict[str, type[Struct]] = {
    "NetworkPolicy": NetworkPolicySpec,
    "GlobalNetworkPolicy": GlobalNetworkPolicySpec,
    "Profile": ProfileSpec,
    "WorkloadEndpoint": WorkloadEndpointSpec,
    "HostEndpoint": HostEndpointSpec,
    "IPPool": IPPoolSpec,
    "IPReservation": IPReservationSpec,
    "Node": NodeSpec,
    "BGPPeer": BGPPeerSpec,
    "BGPConfiguration": BGPConfigurationSpec,
    "FelixConfiguration": FelixConfigurationSpec,
    "NetworkSet": NetworkSetSpec,
    "GlobalNetworkSet": GlobalNetworkSetSpec,
    "ClusterInformation": ClusterInformationSpec,
    "KubernetesNetworkPolicy": KubernetesNetworkPolicySpec,
}
# Kinds whose documents may carry a `status` block (kept as given).
KINDS_WITH_STATUS = frozenset({"Node", "IPPool"})


class Resource:
    """A typed resource. `kind` is the internal kind name (KubernetesNetworkPolicy for a
    networking.k8s.io/v1 NetworkPolicy); `to_dict()` writes the manifest form."""

    def __init__(self, kind: str, metadata: ObjectMeta | None = None, spec: Struct | None = None,
                 api_version: str | None = None, status: Any = None):
        ks = kinds.by_kind(kind)
        self.kind = kind
        self.api_version = api_version or ks.api_version
        self.metadata = metadata if metadata is not None else ObjectMeta()
        self.spec = spec if spec is not None else SPEC_CLASSES[kind]()
        self.status = status

    @property
    def kind_spec(self) -> kinds.KindSpec:
        return kinds.by_kind(self.kind)

    @property
    def name(self) -> str | None:
        return self.metadata.name

    @property
    def namespace(self) -> str | None:
        return self.metadata.namespace

    def to_dict(self) -> dict:
        out = {"apiVersion": self.api_version, "kind": self.kind_spec.doc_kind,
               "metadata": self.metadata.to_dict(), "spec": self.spec.to_dict()}
        if self.status is not None:
            out["status"] = copy.deepcopy(self.status)
        return out

    def copy(self) -> "Resource":
        return copy.deepcopy(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Resource) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"Resource({self.kind} {where})"


def parse_document(doc: Any, errs: list[FieldError]) -> Resource | None:
    """Parse a manifest into a Resource, appending every problem to `errs`. Returns None
    only when the kind cannot be determined."""
    if not isinstance(doc, dict):
        errs.append(FieldError("(document)", "expected an object with apiVersion, kind, "
                                             "metadata and spec", doc))
        return None
    kind, api_version = doc.get("kind"), doc.get("apiVersion")
    if not kind:
        errs.append(FieldError("kind", "required field is missing"))
        return None
    if not isinstance(kind, str) or (api_version is not None and not isinstance(api_version, str)):
        errs.append(FieldError("kind", "expected a string", kind))
        return None
    ks = kinds.by_document(api_version, kind)
    if ks is None:
        if api_version is not None and kinds.by_document(None, kind) is not None:
            errs.append(FieldError("apiVersion", f"unsupported apiVersion for kind {kind}",
                                   api_version))
        else:
            errs.append(FieldError("kind", "resource type is not supported", kind))
        return None
    allowed = {"apiVersion", "kind", "metadata", "spec"}
    if ks.kind in KINDS_WITH_STATUS:
        allowed.add("status")
    for key in doc:
        if key not in allowed:
            errs.append(FieldError(str(key), UNKNOWN_FIELD))
    meta = ObjectMeta.parse(doc.get("metadata"), "metadata", errs) or ObjectMeta()
    spec = SPEC_CLASSES[ks.kind].parse(doc.get("spec"), "spec", errs) or SPEC_CLASSES[ks.kind]()
    status = doc.get("status")
    return Resource(ks.kind, meta, spec, api_version=ks.api_version,
                    status=None if status is None else copy.deepcopy(status))
