"""Namespaces and pods in a lab.

A namespace is what Calico makes of one: Profile `kns.<ns>` (allow-all rules, the
namespace's labels as `pcns.`-prefixed labelsToApply). A pod is a network namespace wired
by the real CNI plugin (`calico-py`, exec'd inside its node's namespace exactly as a
runtime would), its named ports recorded on the WorkloadEndpoint, and a small server
answering on every declared TCP and UDP port.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import uuid

import yaml

from lab_py import cluster, endpoints, netns
from lab_py.state import Lab, Pod

NS_NAME_LABEL = "kubernetes.io/metadata.name"
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
MAX_POD_NAME = 150          # keeps /var/run/netns/<lab>-p-<ns>.<pod> within a file name's 255 bytes


class LabError(Exception):
    pass


def profile_doc(namespace: str, labels: dict) -> dict:
    to_apply = {f"pcns.{k}": v for k, v in labels.items()}
    to_apply["pcns.projectcalico.org/name"] = namespace
    return {"apiVersion": "projectcalico.org/v3", "kind": "Profile",
            "metadata": {"name": f"kns.{namespace}"},
            "spec": {"ingress": [{"action": "Allow"}], "egress": [{"action": "Allow"}],
                     "labelsToApply": to_apply}}


def set_namespace(lab: Lab, namespace: str, labels: dict) -> None:
    validate_namespace_name(namespace)
    labels = {**labels, NS_NAME_LABEL: namespace}
    cluster.calicoctl(lab, ["apply", "-f", "-"], input=yaml.safe_dump(profile_doc(namespace, labels)))
    lab.namespaces[namespace] = labels


def _pod_netns(lab: Lab, namespace: str, pod: str) -> str:
    # A namespace name has no '.', so "<ns>.<pod>" cannot collide ("a-b"/"c" vs "a"/"b-c").
    return f"{lab.name}-p-{namespace}.{pod}"


def validate_namespace_name(ns: str) -> None:
    if len(ns) > 63 or not _DNS_LABEL.match(ns):
        raise LabError(f"invalid namespace name {ns!r}: a DNS-1123 label (lower case letters, digits "
                       f"and '-', starting and ending with a letter or digit, at most 63 characters)")


def validate_pod_name(pod: str) -> None:
    if len(pod) > MAX_POD_NAME or not all(_DNS_LABEL.match(part) for part in pod.split(".")):
        raise LabError(f"invalid pod name {pod!r}: a DNS-1123 subdomain (lower case letters, digits, "
                       f"'-' and '.', at most {MAX_POD_NAME} characters here)")


def _cni(lab: Lab, node, command: str, pod: Pod, labels: dict) -> dict:
    """Exec the node's installed calico-py as a runtime does: config on stdin, CNI_* env."""
    conf_dir = os.path.join(node.run_dir, "cni", "net.d")
    bin_dir = os.path.join(node.run_dir, "cni", "bin")
    with open(os.path.join(conf_dir, "10-calico-py.conflist")) as f:
        conflist = json.load(f)
    plugin = dict(conflist["plugins"][0], name=conflist["name"], cniVersion=conflist["cniVersion"])
    plugin["args"] = {"cni": {"labels": labels}}
    env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
           "CNI_COMMAND": command, "CNI_CONTAINERID": pod.container_id,
           "CNI_NETNS": f"/var/run/netns/{pod.netns}", "CNI_IFNAME": "eth0",
           "CNI_PATH": f"{bin_dir}:/usr/lib/cni",
           "CNI_ARGS": f"IgnoreUnknown=1;K8S_POD_NAMESPACE={pod.namespace};K8S_POD_NAME={pod.name};"
                       f"K8S_POD_INFRA_CONTAINER_ID={pod.container_id}"}
    p = netns.in_ns(node.netns, os.path.join(bin_dir, "calico-py"), input=json.dumps(plugin),
                    env=env, check=False)
    if p.returncode != 0:
        try:
            err = json.loads(p.stdout)
            msg = f"{err.get('msg')} {err.get('details', '')}".strip()
        except ValueError:
            msg = (p.stdout + p.stderr).strip()
        raise LabError(f"CNI {command} for {pod.key} failed: {msg}")
    return json.loads(p.stdout) if p.stdout.strip() else {}


def endpoint_name(node: str, pod: str) -> str:
    from libcalico_py.model.endpoint import workload_endpoint_name
    return workload_endpoint_name(node, "k8s", pod, "eth0")


def parse_port(spec: str) -> dict:
    """NAME:PROTO:PORT, e.g. serve-80-tcp:TCP:80."""
    parts = spec.split(":")
    if len(parts) != 3 or not parts[2].isdigit():
        raise LabError(f"invalid port {spec!r}: expected NAME:PROTO:PORT (e.g. http:TCP:80)")
    name, proto, port = parts
    if proto.upper() not in ("TCP", "UDP", "SCTP"):
        raise LabError(f"invalid protocol in {spec!r}: TCP, UDP or SCTP")
    if not 1 <= int(port) <= 65535:
        raise LabError(f"invalid port number in {spec!r}: 1-65535")
    # Kubernetes' IANA_SVC_NAME: at most 15 characters, lower case alphanumerics and '-',
    # at least one letter, no leading/trailing or double '-'.
    if (not 1 <= len(name) <= 15 or not _DNS_LABEL.match(name) or "--" in name
            or not any(c.isalpha() for c in name)):
        raise LabError(f"invalid port name in {spec!r}: at most 15 lower case letters, digits and '-', "
                       f"with at least one letter (Kubernetes' IANA_SVC_NAME)")
    return {"name": name, "protocol": proto.upper(), "port": int(port)}


def add_pod(lab: Lab, namespace: str, pod_name: str, node_name: str, labels: dict, ports: list[dict]) -> Pod:
    validate_pod_name(pod_name)
    names = [p["name"] for p in ports]
    if len(set(names)) != len(names):
        raise LabError(f"duplicate port name {next(n for n in names if names.count(n) > 1)!r}")
    if namespace not in lab.namespaces:
        raise LabError(f"namespace {namespace!r} does not exist in lab {lab.name!r} "
                       f"(calico-lab namespace add --name {lab.name} {namespace})")
    if node_name not in lab.nodes:
        raise LabError(f"node {node_name!r} is not in lab {lab.name!r} (nodes: {', '.join(lab.nodes)})")
    key = f"{namespace}/{pod_name}"
    if key in lab.pods:
        raise LabError(f"pod {key} already exists")
    node = lab.nodes[node_name]
    pod = Pod(namespace, pod_name, node_name, _pod_netns(lab, namespace, pod_name),
              hashlib.sha1(f"{lab.name}/{key}/{uuid.uuid4()}".encode()).hexdigest()[:24], "",
              dict(labels), list(ports))
    netns.add(pod.netns)
    try:
        result = _cni(lab, node, "ADD", pod, labels)
        pod.ip = result["ips"][0]["address"].split("/")[0]
        if ports:
            endpoints.set_ports(lab, namespace, endpoint_name(node_name, pod_name), ports)
        # One socket per (protocol, number) even when several names share it; no SCTP in this kernel.
        served = sorted({(p["protocol"], p["port"]) for p in ports if p["protocol"] in ("TCP", "UDP")})
        if served:
            args = [sys.executable, "-m", "lab_py.podserver"]
            for proto, number in served:
                args += [f"--{proto.lower()}", str(number)]
            pod.server_pid = netns.spawn(pod.netns, args, os.path.join(lab.dir, f"pod-{namespace}-{pod_name}.log"))
    except BaseException:
        try:
            _cni(lab, node, "DEL", pod, labels)
        except LabError:
            pass
        netns.delete(pod.netns)
        raise
    lab.pods[key] = pod
    return pod


def del_pod(lab: Lab, key: str) -> None:
    pod = lab.pods.get(key)
    if pod is None:
        raise LabError(f"pod {key} does not exist in lab {lab.name!r}")
    netns.kill(pod.server_pid, 9)
    _cni(lab, lab.nodes[pod.node], "DEL", pod, pod.labels)
    netns.delete(pod.netns)
    del lab.pods[key]


def set_pod_labels(lab: Lab, key: str, labels: dict) -> None:
    pod = lab.pods.get(key)
    if pod is None:
        raise LabError(f"pod {key} does not exist in lab {lab.name!r}")
    endpoints.set_labels(lab, pod.namespace, endpoint_name(pod.node, pod.name), pod.labels, labels)
    pod.labels = dict(labels)
