"""Kubernetes NetworkPolicy cases for the x/y/z lab, written from the Kubernetes
NetworkPolicy documentation (concepts page and API reference), each with the truth
table its intent implies.

A case is a function of the lab's pod IPs and pool returning a `Case`: the policies to
apply, the (port, protocol, expected Reachability) probes to check as full 9x9 matrices,
and optional calico-lab commands to run before the policies (label changes) and after.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from tests.e2e.lab.reachability import (Reachability, anyone, either, from_, in_ns, named, not_, same_ns,
                                        to)

PODS = [f"{ns}/{p}" for ns in "xyz" for p in "abc"]


@dataclass
class Case:
    policies: list[dict]
    probes: list[tuple[int, str, Reachability]]
    before: list[list[str]] = field(default_factory=list)   # calico-lab args, "{lab}" = lab name
    after: list[list[str]] = field(default_factory=list)


CASES: dict[str, Callable[[dict, str], Case]] = {}


def case(fn):
    CASES[fn.__name__.removeprefix("case_").replace("_", "-")] = fn
    return fn


def R() -> Reachability:
    return Reachability(PODS)


def np(name: str, ns: str, pod_selector: dict | None = None, types: list[str] | None = None,
       ingress: list | None = None, egress: list | None = None) -> dict:
    spec: dict = {"podSelector": pod_selector or {}}
    if types is not None:
        spec["policyTypes"] = types
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def labels(**kv) -> dict:
    return {"matchLabels": kv}


def expr(key: str, op: str, *values: str) -> dict:
    e = {"key": key, "operator": op}
    if values:
        e["values"] = list(values)
    return {"matchExpressions": [e]}


X, Y, Z = in_ns("x"), in_ns("y"), in_ns("z")


@case
def case_deny_all_ingress(ips, pool):
    """Default deny all ingress traffic in x."""
    return Case([np("default-deny-ingress", "x", types=["Ingress"])], [(80, "TCP", R().ingress(X))])


@case
def case_allow_all_ingress(ips, pool):
    """Allow all ingress (`ingress: [{}]`): selected, yet nothing changes."""
    return Case([np("allow-all-ingress", "x", types=["Ingress"], ingress=[{}])],
                [(80, "TCP", R().ingress(X, anyone))])


@case
def case_deny_all_then_allow_same_namespace(ips, pool):
    """A default-deny plus a second policy allowing ingress from the same namespace."""
    return Case([np("default-deny", "x", types=["Ingress"]),
                 np("allow-same-ns", "x", ingress=[{"from": [{"podSelector": {}}]}])],
                [(80, "TCP", R().ingress(X).ingress(X, same_ns))])


@case
def case_allow_from_namespace_by_label(ips, pool):
    return Case([np("allow-from-y", "x", ingress=[{"from": [{"namespaceSelector": labels(ns="y")}]}])],
                [(80, "TCP", R().ingress(X, from_(Y)))])


@case
def case_allow_from_pod_same_namespace(ips, pool):
    """podSelector alone in `from` means pods of the policy's own namespace."""
    return Case([np("a-from-b", "x", labels(pod="a"), ingress=[{"from": [{"podSelector": labels(pod="b")}]}])],
                [(80, "TCP", R().ingress(named("x/a"), from_(named("x/b"))))])


@case
def case_namespace_and_pod_selector_in_one_peer(ips, pool):
    """One peer with both selectors: pods c of namespaces labelled ns=y (AND)."""
    peer = {"namespaceSelector": labels(ns="y"), "podSelector": labels(pod="c")}
    return Case([np("a-from-y-c", "x", labels(pod="a"), ingress=[{"from": [peer]}])],
                [(80, "TCP", R().ingress(named("x/a"), from_(named("y/c"))))])


@case
def case_namespace_and_pod_selector_as_two_peers(ips, pool):
    """Two peers: namespace y OR pods c of x (OR)."""
    peers = [{"namespaceSelector": labels(ns="y")}, {"podSelector": labels(pod="c")}]
    return Case([np("a-from-y-or-c", "x", labels(pod="a"), ingress=[{"from": peers}])],
                [(80, "TCP", R().ingress(named("x/a"), from_(either(Y, named("x/c")))))])


@case
def case_pod_in_all_namespaces(ips, pool):
    """namespaceSelector {} with a podSelector: pods b of every namespace."""
    peer = {"namespaceSelector": {}, "podSelector": labels(pod="b")}
    return Case([np("from-all-b", "x", ingress=[{"from": [peer]}])],
                [(80, "TCP", R().ingress(X, from_(named("b"))))])


@case
def case_deny_all_egress(ips, pool):
    return Case([np("default-deny-egress", "x", types=["Egress"])], [(80, "TCP", R().egress(X))])


@case
def case_egress_allow_to_one_pod(ips, pool):
    peer = {"namespaceSelector": labels(ns="y"), "podSelector": labels(pod="b")}
    return Case([np("egress-to-y-b", "x", types=["Egress"], egress=[{"to": [peer]}])],
                [(80, "TCP", R().egress(X, to(named("y/b"))))])


@case
def case_ingress_port_by_number(ips, pool):
    return Case([np("allow-81", "x", ingress=[{"ports": [{"protocol": "TCP", "port": 81}]}])],
                [(80, "TCP", R().ingress(X)), (81, "TCP", R().ingress(X, anyone))])


@case
def case_ingress_port_by_name(ips, pool):
    return Case([np("allow-serve-81", "x", ingress=[{"ports": [{"protocol": "TCP", "port": "serve-81-tcp"}]}])],
                [(80, "TCP", R().ingress(X)), (81, "TCP", R().ingress(X, anyone))])


@case
def case_ingress_end_port_range(ips, pool):
    """port 81 endPort 82: 81 is in the range, 80 is not."""
    rule = {"from": [{"namespaceSelector": labels(ns="z")}], "ports": [{"protocol": "TCP", "port": 81, "endPort": 82}]}
    return Case([np("allow-81-82-from-z", "x", ingress=[rule])],
                [(80, "TCP", R().ingress(X)), (81, "TCP", R().ingress(X, from_(Z)))])


@case
def case_egress_end_port_range(ips, pool):
    rule = {"ports": [{"protocol": "TCP", "port": 79, "endPort": 80}]}
    return Case([np("egress-79-80", "x", types=["Egress"], egress=[rule])],
                [(80, "TCP", R().egress(X, anyone)), (81, "TCP", R().egress(X))])


@case
def case_udp_only(ips, pool):
    return Case([np("allow-udp-81", "x", ingress=[{"ports": [{"protocol": "UDP", "port": 81}]}])],
                [(81, "UDP", R().ingress(X, anyone)), (81, "TCP", R().ingress(X))])


@case
def case_port_protocol_defaults_to_tcp(ips, pool):
    return Case([np("allow-81-tcp", "x", ingress=[{"ports": [{"port": 81}]}])],
                [(81, "TCP", R().ingress(X, anyone)), (81, "UDP", R().ingress(X))])


@case
def case_ip_block_with_except(ips, pool):
    """x/a accepts the whole pool except y/b's address."""
    block = {"ipBlock": {"cidr": pool, "except": [f"{ips['y/b']}/32"]}}
    return Case([np("a-from-pool-but-y-b", "x", labels(pod="a"), ingress=[{"from": [block]}])],
                [(80, "TCP", R().ingress(named("x/a"), from_(not_(named("y/b")))))])


@case
def case_ip_block_egress(ips, pool):
    block = {"ipBlock": {"cidr": f"{ips['z/c']}/32"}}
    return Case([np("egress-to-z-c-ip", "x", types=["Egress"], egress=[{"to": [block]}])],
                [(80, "TCP", R().egress(X, to(named("z/c"))))])


@case
def case_both_policy_types_empty_rules(ips, pool):
    """policyTypes [Ingress, Egress] with no rules isolates x/a both ways."""
    return Case([np("isolate-a", "x", labels(pod="a"), types=["Ingress", "Egress"])],
                [(80, "TCP", R().ingress(named("x/a")).egress(named("x/a")))])


@case
def case_multiple_policies_are_additive(ips, pool):
    return Case([np("a-from-b", "x", labels(pod="a"), ingress=[{"from": [{"podSelector": labels(pod="b")}]}]),
                 np("a-from-z", "x", labels(pod="a"), ingress=[{"from": [{"namespaceSelector": labels(ns="z")}]}])],
                [(80, "TCP", R().ingress(named("x/a"), from_(named("x/b"))).ingress(named("x/a"), from_(Z)))])


@case
def case_match_expressions_in(ips, pool):
    return Case([np("from-y-z", "x", ingress=[{"from": [{"namespaceSelector": expr("ns", "In", "y", "z")}]}])],
                [(80, "TCP", R().ingress(X, from_(either(Y, Z))))])


@case
def case_match_expressions_not_in(ips, pool):
    return Case([np("not-from-y", "x", ingress=[{"from": [{"namespaceSelector": expr("ns", "NotIn", "y")}]}])],
                [(80, "TCP", R().ingress(X, from_(not_(Y))))])


@case
def case_policy_pod_selector_in(ips, pool):
    """The policy's own podSelector with `In`: isolates x/a and x/b, x/c stays open."""
    return Case([np("isolate-a-b", "x", expr("pod", "In", "a", "b"), types=["Ingress"])],
                [(80, "TCP", R().ingress(named("x/a", "x/b")))])


@case
def case_match_expressions_exists(ips, pool):
    """Label y/b team=blue, then allow from pods having `team` in any namespace."""
    peer = {"namespaceSelector": {}, "podSelector": expr("team", "Exists")}
    return Case([np("from-team", "x", ingress=[{"from": [peer]}])],
                [(80, "TCP", R().ingress(X, from_(named("y/b"))))],
                before=[["pod", "label", "--name", "{lab}", "y/b", "team=blue"]],
                after=[["pod", "label", "--name", "{lab}", "y/b", "team-"]])


@case
def case_match_expressions_does_not_exist(ips, pool):
    peer = {"namespaceSelector": {}, "podSelector": expr("team", "DoesNotExist")}
    return Case([np("from-no-team", "x", ingress=[{"from": [peer]}])],
                [(80, "TCP", R().ingress(X, from_(not_(named("y/b")))))],
                before=[["pod", "label", "--name", "{lab}", "y/b", "team=blue"]],
                after=[["pod", "label", "--name", "{lab}", "y/b", "team-"]])


@case
def case_namespace_label_added_later(ips, pool):
    """A namespace label set with `calico-lab namespace label` lets y in."""
    return Case([np("from-blue-ns", "x", ingress=[{"from": [{"namespaceSelector": labels(team="blue")}]}])],
                [(80, "TCP", R().ingress(X, from_(Y)))],
                before=[["namespace", "label", "--name", "{lab}", "y", "team=blue"]],
                after=[["namespace", "label", "--name", "{lab}", "y", "team-"]])


@case
def case_empty_pod_selector_in_from(ips, pool):
    """`from: [{podSelector: {}}]` alone: every pod of the policy's namespace, nothing else."""
    return Case([np("same-ns", "x", ingress=[{"from": [{"podSelector": {}}]}])],
                [(80, "TCP", R().ingress(X, same_ns))])


@case
def case_allow_all_egress(ips, pool):
    return Case([np("allow-all-egress", "x", types=["Egress"], egress=[{}])],
                [(80, "TCP", R().egress(X, anyone))])


@case
def case_policy_in_other_namespace(ips, pool):
    """A policy in y selecting pod=a isolates y/a only: x/a carries the same label."""
    return Case([np("isolate-a", "y", labels(pod="a"), types=["Ingress"])],
                [(80, "TCP", R().ingress(named("y/a")))])


@case
def case_named_port_only_some_pods_have(ips, pool):
    """`alt-80-tcp` exists on the b pods only: in x, only x/b opens port 80 through it."""
    return Case([np("allow-alt-80", "x", ingress=[{"ports": [{"port": "alt-80-tcp"}]}])],
                [(80, "TCP", R().ingress(X, lambda s, d: d.name == "b"))])


@case
def case_egress_udp_to_namespace(ips, pool):
    rule = {"to": [{"namespaceSelector": labels(ns="z")}], "ports": [{"protocol": "UDP", "port": 81}]}
    return Case([np("egress-udp-81-to-z", "x", types=["Egress"], egress=[rule])],
                [(81, "UDP", R().egress(X, to(Z))), (80, "TCP", R().egress(X))])


@case
def case_ingress_and_egress_in_one_policy(ips, pool):
    a = named("x/a")
    return Case([np("a-in-from-y-out-to-z", "x", labels(pod="a"), types=["Ingress", "Egress"],
                    ingress=[{"from": [{"namespaceSelector": labels(ns="y")}]}],
                    egress=[{"to": [{"namespaceSelector": labels(ns="z")}]}])],
                [(80, "TCP", R().ingress(a, from_(Y)).egress(a, to(Z)))])


@case
def case_egress_named_port(ips, pool):
    """An egress named port resolves on the destination pods: serve-81-tcp is 81 on all."""
    return Case([np("egress-serve-81", "x", types=["Egress"], egress=[{"ports": [{"port": "serve-81-tcp"}]}])],
                [(81, "TCP", R().egress(X, anyone)), (80, "TCP", R().egress(X))])


@case
def case_ip_block_except_egress(ips, pool):
    """Egress to the pool except z/a: everything but x -> z/a (and x -> x stays open)."""
    block = {"ipBlock": {"cidr": pool, "except": [f"{ips['z/a']}/32"]}}
    return Case([np("egress-pool-but-z-a", "x", types=["Egress"], egress=[{"to": [block]}])],
                [(80, "TCP", R().egress(X, to(not_(named("z/a")))))])


@case
def case_namespace_by_metadata_name(ips, pool):
    """The label every namespace carries, kubernetes.io/metadata.name, selects z by name."""
    peer = {"namespaceSelector": expr("kubernetes.io/metadata.name", "In", "z")}
    return Case([np("from-z-by-name", "x", ingress=[{"from": [peer]}])],
                [(80, "TCP", R().ingress(X, from_(Z)))])

