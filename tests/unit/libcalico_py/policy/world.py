"""A small fixed cluster for the evaluator's tests, built from manifests through
`model.load` exactly as a user would write them.

    namespace prod (env=prod)            namespace dev (env=dev)
      web    10.0.1.1  app=web, sa web     client 10.0.2.1  app=client, sa client
             ports http/TCP 8080, metrics/TCP 9090, dns/UDP 53
      db     10.0.1.2  app=db              fd00::21 (IPv6) app=v6
      lonely 10.0.1.9  no profiles
      ghost  10.0.1.8  profile "missing" (does not exist)
      chain  10.0.1.7  profiles [noop, kns.prod]
      gated  10.0.1.6  profiles [gate, kns.prod]  (gate egress: Pass TCP, Deny UDP)
      NetworkSet partners 192.168.10.0/24 role=partner
    GlobalNetworkSet corp 172.20.0.0/16 role=corp;   8.8.8.8 is outside everything.
"""
from __future__ import annotations

from libcalico_py.model import load

API = "projectcalico.org/v3"

WEB, DB, LONELY, GHOST, CHAIN, GATED = "10.0.1.1", "10.0.1.2", "10.0.1.9", "10.0.1.8", "10.0.1.7", "10.0.1.6"
CLIENT, CLIENT6, PARTNER, CORP, EXTERNAL = "10.0.2.1", "fd00::21", "192.168.10.5", "172.20.3.4", "8.8.8.8"


def wep(pod: str, ns: str, ips, labels=None, profiles=None, ports=(), sa=None) -> dict:
    spec = {"orchestrator": "k8s", "node": "node1", "pod": pod, "endpoint": "eth0",
            "ipNetworks": list(ips), "interfaceName": f"cali{pod}",
            "profiles": list(profiles if profiles is not None else [f"kns.{ns}"])}
    if ports:
        spec["ports"] = [{"name": n, "protocol": p, "port": num} for n, p, num in ports]
    if sa:
        spec["serviceAccountName"] = sa
    return {"apiVersion": API, "kind": "WorkloadEndpoint",
            "metadata": {"name": f"node1-k8s-{pod}-eth0", "namespace": ns, "labels": labels or {}},
            "spec": spec}


def ns_profile(ns: str, labels=None, ingress=None, egress=None) -> dict:
    lta = {"pcns.projectcalico.org/name": ns}
    lta.update({f"pcns.{k}": v for k, v in (labels or {}).items()})
    return {"apiVersion": API, "kind": "Profile", "metadata": {"name": f"kns.{ns}"},
            "spec": {"labelsToApply": lta,
                     "ingress": ingress if ingress is not None else [{"action": "Allow"}],
                     "egress": egress if egress is not None else [{"action": "Allow"}]}}


def profile(name: str, ingress=None, egress=None, labels_to_apply=None) -> dict:
    spec: dict = {}
    if ingress:
        spec["ingress"] = ingress
    if egress:
        spec["egress"] = egress
    if labels_to_apply:
        spec["labelsToApply"] = labels_to_apply
    return {"apiVersion": API, "kind": "Profile", "metadata": {"name": name}, "spec": spec}


def np(name: str, ns: str = "prod", **spec) -> dict:
    return {"apiVersion": API, "kind": "NetworkPolicy", "metadata": {"name": name, "namespace": ns},
            "spec": spec}


def gnp(name: str, **spec) -> dict:
    return {"apiVersion": API, "kind": "GlobalNetworkPolicy", "metadata": {"name": name}, "spec": spec}


def knp(name: str, ns: str = "prod", **spec) -> dict:
    spec.setdefault("podSelector", {})
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def base_docs() -> list[dict]:
    return [
        ns_profile("prod", {"env": "prod"}),
        ns_profile("dev", {"env": "dev"}),
        profile("noop", ingress=[{"action": "Deny", "protocol": "UDP"}],
                egress=[{"action": "Pass", "protocol": "TCP"}]),
        profile("gate", egress=[{"action": "Pass", "protocol": "TCP"}, {"action": "Deny", "protocol": "UDP"}]),
        wep("gated", "prod", [GATED + "/32"], {"app": "gated"}, profiles=["gate", "kns.prod"]),
        wep("web", "prod", [WEB + "/32"], {"app": "web"}, sa="web",
            ports=[("http", "TCP", 8080), ("metrics", "TCP", 9090), ("dns", "UDP", 53)]),
        wep("db", "prod", [DB + "/32"], {"app": "db"}),
        wep("lonely", "prod", [LONELY + "/32"], {"app": "lonely"}, profiles=[]),
        wep("ghost", "prod", [GHOST + "/32"], {"app": "ghost"}, profiles=["missing"]),
        wep("chain", "prod", [CHAIN + "/32"], {"app": "chain"}, profiles=["noop", "kns.prod"]),
        wep("client", "dev", [CLIENT + "/32"], {"app": "client"}, sa="client"),
        wep("client6", "dev", [CLIENT6 + "/128"], {"app": "v6"}),
        {"apiVersion": API, "kind": "NetworkSet",
         "metadata": {"name": "partners", "namespace": "prod", "labels": {"role": "partner"}},
         "spec": {"nets": ["192.168.10.0/24"]}},
        {"apiVersion": API, "kind": "GlobalNetworkSet",
         "metadata": {"name": "corp", "labels": {"role": "corp"}}, "spec": {"nets": ["172.20.0.0/16"]}},
    ]


def resources(extra_docs=()) -> list:
    return [load(d) for d in base_docs() + list(extra_docs)]
