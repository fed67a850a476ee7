"""The WorkloadEndpoint a pod gets: built from the CNI invocation, validated by the model,
stored at Calico's key (reference §2.5).

Kubernetes pods (CNI_ARGS has K8S_POD_NAME): orchestrator `k8s`, workload = pod name,
namespace = the pod's, profiles `kns.<namespace>`, labels from `args.cni.labels` plus
`projectcalico.org/namespace` and `projectcalico.org/orchestrator`. Plain CNI: orchestrator
`cni`, workload = container ID, namespace `default`, profile = the network name (as Calico's
plain CNI path does). The name is Calico's `<node>-<orch>-<workload>-<endpoint>` with dashes
doubled inside each segment.

Writes are raw-KV transactions: create when absent, otherwise replace guarded by the stored
mod revision (a re-ADD of the same pod updates its endpoint). Delete is guarded by the mod
revision too and only happens when the stored endpoint belongs to this container, so a late
DEL of an old sandbox cannot remove its successor's endpoint.
"""
from __future__ import annotations

import json
import time
import uuid

from libcalico_py.datastore import keys
from libcalico_py.errors import CalicoError, Conflict

KIND = "WorkloadEndpoint"
API_VERSION = "projectcalico.org/v3"
NAMESPACE_LABEL = "projectcalico.org/namespace"
ORCHESTRATOR_LABEL = "projectcalico.org/orchestrator"


def identity(node: str, pod_namespace: str, pod: str, container_id: str, ifname: str,
             network: str) -> tuple[str, str, str, str, list[str]]:
    """(name, namespace, orchestrator, workload, profiles) for one endpoint."""
    from libcalico_py.model.endpoint import workload_endpoint_name
    if pod:
        ns = pod_namespace or "default"
        return (workload_endpoint_name(node, "k8s", pod, ifname), ns, "k8s", pod, [f"kns.{ns}"])
    return (workload_endpoint_name(node, "cni", container_id, ifname), "default", "cni",
            container_id, [network])


def build(node: str, pod_namespace: str, pod: str, container_id: str, ifname: str,
          network: str, host_ifname: str, mac: str, ip_networks: list[str],
          labels: dict[str, str]) -> dict:
    """The endpoint document, validated (raises ValidationError)."""
    from libcalico_py import model
    name, ns, orch, workload, profiles = identity(node, pod_namespace, pod, container_id,
                                                  ifname, network)
    all_labels = dict(labels)
    all_labels[NAMESPACE_LABEL] = ns
    all_labels[ORCHESTRATOR_LABEL] = orch
    spec = {"orchestrator": orch, "node": node, "containerID": container_id,
            "endpoint": ifname, "ipNetworks": ip_networks, "profiles": profiles,
            "interfaceName": host_ifname, "mac": mac}
    if orch == "k8s":
        spec["pod"] = pod
    else:
        spec["workload"] = workload
    doc = {"apiVersion": API_VERSION, "kind": KIND,
           "metadata": {"name": name, "namespace": ns, "labels": all_labels,
                        "uid": str(uuid.uuid4()),
                        "creationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
           "spec": spec}
    return model.load(doc).to_dict()


def key_of(doc: dict) -> str:
    return keys.resource_key(KIND, doc["metadata"]["name"], doc["metadata"]["namespace"])


def write(ds, doc: dict) -> None:
    """Create or replace the endpoint (CAS on what was read)."""
    kv = getattr(ds, "kv", ds)
    key = key_of(doc)
    body = dict(doc)
    body["metadata"] = {k: v for k, v in doc["metadata"].items() if k != "resourceVersion"}
    for _ in range(5):
        cur = kv.get(key)
        if cur is not None:
            old_meta = json.loads(cur.value).get("metadata") or {}
            # Keep the identity the endpoint was created with.
            for k in ("uid", "creationTimestamp"):
                if old_meta.get(k):
                    body["metadata"][k] = old_meta[k]
        value = json.dumps(body, separators=(",", ":"))
        compare = [("mod", key, cur.mod_revision)] if cur else [("version", key, 0)]
        if kv.txn(compare=compare, success=[("put", key, value)]):
            return
    raise Conflict(key, None, None)


def read(ds, name: str, namespace: str) -> dict | None:
    kv = getattr(ds, "kv", ds)
    cur = kv.get(keys.resource_key(KIND, name, namespace))
    if cur is None:
        return None
    doc = json.loads(cur.value)
    doc.setdefault("metadata", {})["resourceVersion"] = str(cur.mod_revision)
    return doc


def delete(ds, name: str, namespace: str, container_id: str) -> bool:
    """Delete the endpoint if it belongs to `container_id`; True if deleted."""
    kv = getattr(ds, "kv", ds)
    key = keys.resource_key(KIND, name, namespace)
    for _ in range(5):
        cur = kv.get(key)
        if cur is None:
            return False
        spec = json.loads(cur.value).get("spec") or {}
        if spec.get("containerID") and spec["containerID"] != container_id:
            return False
        if kv.txn(compare=[("mod", key, cur.mod_revision)], success=[("delete", key)]):
            return True
    raise CalicoError(f"could not delete {key}: it kept changing")
