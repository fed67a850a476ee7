"""WorkloadEndpoint and HostEndpoint specs, and Calico's workload endpoint naming.

A WorkloadEndpoint name is `<node>-<orchestrator>-<workload>-<endpoint>` with every '-'
inside a segment doubled, so the segments can be told apart again
(`libcalico-go/lib/names/workloadendpoint.go`); Kubernetes uses the pod name as the
workload, plain CNI uses the container ID with orchestrator `cni`.
"""
from __future__ import annotations

from libcalico_py.model.schema import Converted, F, Int, ListOf, Obj, Raw, Str, Struct
from libcalico_py.validation.ports import parse_protocol

ORCHESTRATOR_K8S = "k8s"
ORCHESTRATOR_CNI = "cni"
NAMESPACE_LABEL = "projectcalico.org/namespace"
ORCHESTRATOR_LABEL = "projectcalico.org/orchestrator"
SERVICE_ACCOUNT_LABEL = "projectcalico.org/serviceaccount"


def _escape(segment: str) -> str:
    return segment.replace("-", "--")


def workload_endpoint_name(node: str, orchestrator: str, workload_or_pod: str,
                           endpoint: str) -> str:
    """Calico's WorkloadEndpoint name, e.g. ("node-1", "k8s", "my-pod", "eth0") ->
    "node--1-k8s-my--pod-eth0"."""
    return "-".join(_escape(p) for p in (node, orchestrator, workload_or_pod, endpoint))


def parse_workload_endpoint_name(name: str) -> tuple[str, str, str, str] | None:
    """Split a name made by `workload_endpoint_name` back into (node, orchestrator,
    workload, endpoint); None if it does not have four segments."""
    parts, cur, i = [], [], 0
    while i < len(name):
        if name[i] == "-":
            if name[i + 1:i + 2] == "-":
                cur.append("-")
                i += 2
                continue
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(name[i])
        i += 1
    parts.append("".join(cur))
    if len(parts) != 4 or not all(parts):
        return None
    return parts[0], parts[1], parts[2], parts[3]


class IPNAT(Struct):
    FIELDS = (F("internalIP", Str(), attr="internal_ip"),
              F("externalIP", Str(), attr="external_ip"))


class WorkloadEndpointPort(Struct):
    FIELDS = (
        F("name", Str(), always=True),
        F("protocol", Converted(parse_protocol), always=True),
        F("port", Int(), always=True),
        F("hostPort", Int()),
        F("hostIP", Str(), attr="host_ip"),
    )


class EndpointPort(Struct):
    FIELDS = (
        F("name", Str(), always=True),
        F("protocol", Converted(parse_protocol), always=True),
        F("port", Int(), always=True),
    )


class WorkloadEndpointSpec(Struct):
    FIELDS = (
        F("orchestrator", Str()),
        F("workload", Str()),
        F("node", Str()),
        F("containerID", Str(), attr="container_id"),
        F("pod", Str()),
        F("endpoint", Str()),
        F("serviceAccountName", Str()),
        F("ipNetworks", ListOf(Str()), attr="ip_networks"),
        F("ipNATs", ListOf(Obj(IPNAT)), attr="ip_nats"),
        F("ipv4Gateway", Str()),
        F("ipv6Gateway", Str()),
        F("profiles", ListOf(Str())),
        F("interfaceName", Str()),
        F("mac", Str()),
        F("ports", ListOf(Obj(WorkloadEndpointPort))),
        F("allowSpoofedSourcePrefixes", ListOf(Str())),
        F("qosControls", Raw()),
        F("awsElasticIPs", ListOf(Str()), attr="aws_elastic_ips"),
    )


class HostEndpointSpec(Struct):
    FIELDS = (
        F("node", Str()),
        F("interfaceName", Str()),
        F("expectedIPs", ListOf(Str()), attr="expected_ips"),
        F("profiles", ListOf(Str())),
        F("ports", ListOf(Obj(EndpointPort))),
    )
