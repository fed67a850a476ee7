"""What the lab's "orchestrator" writes on a pod's WorkloadEndpoint after the CNI plugin
made it: the pod's named ports, and label changes.

In Kubernetes these come from the pod spec; here calico-lab writes them itself, as a
compare-and-swap of the stored endpoint over etcd's JSON gateway (the small client the CNI
plugin uses), validated with the Calico model first. The HTTP connection is opened by the
calling thread from inside the lab's fabric namespace, where etcd listens on 127.0.0.1, so
nothing is exposed in the root namespace and no `calicoctl-py` process (about half a second
of start-up and gRPC import per pod) is needed.
"""
from __future__ import annotations

import json

from lab_py.probe import InNetns
from lab_py.state import ETCD_PORT, Lab

CAS_ATTEMPTS = 10


class EndpointError(Exception):
    pass


def patch(lab: Lab, namespace: str, name: str, mutate) -> dict:
    """Apply `mutate(doc)` (in place, Calico's JSON form) to WorkloadEndpoint
    namespace/name; return the stored document."""
    from cni_py.etcd_gateway import EtcdGateway
    from libcalico_py import model
    from libcalico_py.datastore import keys
    from libcalico_py.errors import CalicoError, ValidationError

    key = keys.resource_key("WorkloadEndpoint", name, namespace)
    with InNetns(lab.fabric_ns):
        gw = EtcdGateway([f"http://127.0.0.1:{ETCD_PORT}"])
        try:
            for _ in range(CAS_ATTEMPTS):
                cur = gw.get(key)
                if cur is None:
                    raise EndpointError(f"workload endpoint {namespace}/{name} not found in the datastore")
                doc = json.loads(cur.value)
                mutate(doc)
                try:
                    doc = model.load(doc).to_dict()
                except ValidationError as e:
                    raise EndpointError(f"workload endpoint {namespace}/{name}: {e}") from None
                doc["metadata"].pop("resourceVersion", None)
                value = json.dumps(doc, separators=(",", ":"))
                if gw.txn(compare=[("mod", key, cur.mod_revision)], success=[("put", key, value)]):
                    return doc
        except CalicoError as e:
            raise EndpointError(f"updating workload endpoint {namespace}/{name}: {e}") from None
        finally:
            gw.close()
    raise EndpointError(f"workload endpoint {namespace}/{name} kept changing under us ({CAS_ATTEMPTS} attempts)")


def set_ports(lab: Lab, namespace: str, name: str, ports: list[dict]) -> dict:
    def mutate(doc):
        doc.setdefault("spec", {})["ports"] = [{"name": p["name"], "protocol": p["protocol"], "port": p["port"]}
                                               for p in ports]
    return patch(lab, namespace, name, mutate)


def set_labels(lab: Lab, namespace: str, name: str, old: dict, new: dict) -> dict:
    """Replace the pod's own labels `old` by `new`, keeping the labels Calico adds
    (projectcalico.org/namespace, /orchestrator, ...)."""
    def mutate(doc):
        labels = doc.setdefault("metadata", {}).setdefault("labels", {})
        for k in old:
            labels.pop(k, None)
        labels.update(new)
    return patch(lab, namespace, name, mutate)
