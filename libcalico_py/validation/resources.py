"""Per-kind validation entry point: `validate(resource) -> list[FieldError]`, run by
`libcalico_py.model.load` after defaulting. Each kind's checks live in the module of
its family; this table only dispatches."""
from __future__ import annotations

from libcalico_py.errors import FieldError
from libcalico_py.validation import bgp, endpoint, felixconfig, ippool, k8s, node, policy
from libcalico_py.validation.collector import Collector
from libcalico_py.validation.meta import validate_labels, validate_metadata
from libcalico_py.validation.net import cidr_reason

NAMESPACE_LABEL = "projectcalico.org/namespace"


def _network_policy(errs, res):
    policy.validate_policy_spec(errs, res.spec, is_global=False)


def _global_network_policy(errs, res):
    policy.validate_policy_spec(errs, res.spec, is_global=True)


def _profile(errs, res):
    policy.validate_rules(errs, "spec.ingress", res.spec.ingress, "ingress")
    policy.validate_rules(errs, "spec.egress", res.spec.egress, "egress")
    validate_labels(errs, "spec.labelsToApply", res.spec.labels_to_apply or {})


def _network_set(errs, res):
    errs.check_each("spec.nets", res.spec.nets, cidr_reason)
    if NAMESPACE_LABEL in res.metadata.labels:
        errs.add(f"metadata.labels[{NAMESPACE_LABEL}]", "this label is reserved for Calico")


def _nothing(errs, res):
    return None


VALIDATORS = {
    "NetworkPolicy": _network_policy,
    "GlobalNetworkPolicy": _global_network_policy,
    "Profile": _profile,
    "WorkloadEndpoint": endpoint.validate_workload_endpoint,
    "HostEndpoint": endpoint.validate_host_endpoint,
    "IPPool": ippool.validate_ippool,
    "IPReservation": ippool.validate_ipreservation,
    "Node": node.validate_node,
    "BGPPeer": bgp.validate_bgp_peer,
    "BGPConfiguration": bgp.validate_bgp_configuration,
    "FelixConfiguration": felixconfig.validate_felix_configuration,
    "NetworkSet": _network_set,
    "GlobalNetworkSet": _network_set,
    "ClusterInformation": _nothing,
    "KubernetesNetworkPolicy": k8s.validate_k8s_network_policy,
}


def validate(resource) -> list[FieldError]:
    errs = Collector()
    validate_metadata(errs, resource.kind, resource.kind_spec.namespaced, resource.metadata)
    VALIDATORS[resource.kind](errs, resource)
    return list(errs)
