"""felixpy enforcing Calico policy on real packets, for both iptables backends.

One node namespace runs etcd and the felixpy agent (a subprocess configured only by FELIX_*
variables); pods are namespaces on cali… veths with a probe agent each. Every test writes
resources to etcd, waits for the verdict it expects with TCP/UDP/ICMP probes, and the
`clean` fixture removes its policies again. The module runs once per backend: nft through
iptables-nft-restore, legacy through iptables-legacy-restore and through python-iptables.
"""
from __future__ import annotations

import re
import time

import pytest

from felixpy.calc.messages import PolicyID
from felixpy.rules.names import policy_chain_name
from libcalico_py.datastore.keys import RESOURCE_PREFIX
from tests.dataplane.felixpy.felix_cluster import FelixNode
from tests.fixtures.netns import RUN_PREFIX, NetnsFactory

API = "projectcalico.org/v3"
_n = iter(range(1, 1000))


@pytest.fixture(scope="module", params=["nft", "legacy", "legacy-iptc"])
def node(request):
    factory = NetnsFactory(f"{RUN_PREFIX}pol{next(_n)}-")
    try:
        node = FelixNode(factory, backend=request.param, env={"FELIX_IPTABLESREFRESHINTERVAL": "30"})
        node.allow_all_profile("default")
        node.add_pod("pod-a", "10.65.0.2", {"app": "a"})
        node.add_pod("pod-b", "10.65.0.3", {"app": "b"}, ports=[
            {"name": "http", "port": 8080, "protocol": "TCP"}, {"name": "dns", "port": 5353, "protocol": "UDP"}])
        node.add_pod("pod-c", "10.65.0.4", {"app": "c"})
        node.add_pod("pod-d", "10.65.0.5", {"app": "d"}, profiles=[])
        node.etcdctl.apply({"apiVersion": API, "kind": "Profile", "metadata": {"name": "kns.other"},
                            "spec": {"ingress": [{"action": "Allow"}], "egress": [{"action": "Allow"}],
                                     "labelsToApply": {"pcns.team": "blue",
                                                       "pcns.projectcalico.org/name": "other"}}})
        node.add_pod("pod-e", "10.65.0.6", {"app": "e"}, namespace="other")
        node.start_felix()
        node.wait_ready()
        yield node
    finally:
        node_ref = locals().get("node")
        if node_ref is not None:
            node_ref.close()
        factory.cleanup()


@pytest.fixture
def clean(node):
    yield node
    for prefix in ("networkpolicies/", "globalnetworkpolicies/"):
        for key in node.etcdctl.keys(RESOURCE_PREFIX + prefix):
            node.etcdctl.delete(key)
    for name, labels in (("pod-a", {"app": "a"}), ("pod-c", {"app": "c"})):
        if node.pods[name].labels != labels:
            node.pods[name].set_labels(labels)
    node.expect(node.pods["pod-a"], node.pods["pod-b"], "tcp", 8080, True)


def np(name, spec, namespace="default"):
    return {"apiVersion": API, "kind": "NetworkPolicy", "metadata": {"name": name, "namespace": namespace},
            "spec": spec}


def gnp(name, spec):
    return {"apiVersion": API, "kind": "GlobalNetworkPolicy", "metadata": {"name": name}, "spec": spec}


def pods(node):
    return node.pods["pod-a"], node.pods["pod-b"], node.pods["pod-c"], node.pods["pod-d"]


def test_profile_fall_through_allows_every_protocol(clean):
    node = clean
    a, b, c, _ = pods(node)
    for proto, port in (("tcp", 8080), ("udp", 5353), ("icmp", None)):
        node.expect(a, b, proto, port, True)
        node.expect(b, c, proto, port, True) if proto != "udp" else None
    node.expect(c, a, "tcp", 9050, True)


def test_endpoint_without_profile_or_policy_is_denied(clean):
    node = clean
    a, b, c, d = pods(node)
    node.expect(a, d, "tcp", 8080, False)
    node.expect(a, d, "icmp", None, False)
    node.expect(d, a, "tcp", 8080, False)
    assert "Drop if no profiles matched" in node.iptables_save()


def test_default_deny_then_removal(clean):
    node = clean
    a, b, c, _ = pods(node)
    node.etcdctl.apply(gnp("default-deny", {"selector": "all()", "types": ["Ingress"]}))
    for proto, port in (("tcp", 8080), ("udp", 5353), ("icmp", None)):
        node.expect(a, b, proto, port, False)
    node.expect(b, c, "tcp", 8080, False)
    node.etcdctl.remove("GlobalNetworkPolicy", "default-deny")
    node.expect(a, b, "tcp", 8080, True)
    node.expect(a, b, "icmp", None, True)


def test_allow_ports_and_ranges(clean):
    node = clean
    a, b, c, _ = pods(node)
    node.etcdctl.apply(np("web", {"selector": "app == 'b'", "ingress": [
        {"action": "Allow", "protocol": "TCP", "destination": {"ports": [8080, "9000:9100"]}}]}))
    node.expect(a, b, "tcp", 7070, False)
    node.expect(a, b, "tcp", 8080, True)
    node.expect(a, b, "tcp", 9050, True)
    node.expect(a, b, "udp", 5353, False)
    node.expect(a, b, "icmp", None, False)
    node.expect(b, a, "tcp", 7070, True), "egress of b and ingress of a are not selected"


def test_named_ports(clean):
    node = clean
    a, b, c, _ = pods(node)
    node.etcdctl.apply(np("named", {"selector": "app == 'b'", "ingress": [
        {"action": "Allow", "protocol": "TCP", "destination": {"ports": ["http"]}},
        {"action": "Allow", "protocol": "UDP", "destination": {"ports": ["dns"]}}]}))
    node.expect(a, b, "tcp", 9050, False)
    node.expect(a, b, "tcp", 8080, True)
    node.expect(a, b, "udp", 5353, True)
    assert re.search(r"cali40n:\S+ dst,dst", node.iptables_save())


def test_nets_and_not_nets(clean):
    node = clean
    a, b, c, _ = pods(node)
    node.etcdctl.apply(np("nets", {"selector": "app == 'b'", "ingress": [
        {"action": "Allow", "source": {"nets": [f"{a.ip}/32", "192.0.2.0/24"]}}]}))
    node.expect(c, b, "tcp", 8080, False)
    node.expect(a, b, "tcp", 8080, True)
    node.etcdctl.apply(np("nets", {"selector": "app == 'b'", "ingress": [
        {"action": "Allow", "source": {"notNets": [f"{a.ip}/32"]}}]}))
    node.expect(a, b, "tcp", 8080, False)
    node.expect(c, b, "tcp", 8080, True)


def test_selector_membership_change_while_traffic_flows(clean):
    node = clean
    a, b, c, _ = pods(node)
    node.etcdctl.apply(np("clients", {"selector": "app == 'b'", "ingress": [
        {"action": "Allow", "source": {"selector": "role == 'client'"}}]}))
    node.expect(a, b, "tcp", 8080, False)
    a.set_labels({"app": "a", "role": "client"})
    flip = node.expect(a, b, "tcp", 8080, True, timeout=5)
    node.expect(c, b, "tcp", 8080, False)
    a.set_labels({"app": "a"})
    node.expect(a, b, "tcp", 8080, False, timeout=5)
    c.set_labels({"app": "c", "role": "client"})
    node.expect(c, b, "tcp", 8080, True, timeout=5)
    assert flip < 5


def test_policy_order(clean):
    node = clean
    a, b, c, _ = pods(node)
    node.etcdctl.apply(np("first-deny-a", {"selector": "app == 'b'", "order": 10, "ingress": [
        {"action": "Deny", "source": {"selector": "app == 'a'"}}]}))
    node.etcdctl.apply(np("then-allow", {"selector": "app == 'b'", "order": 20, "ingress": [{"action": "Allow"}]}))
    node.expect(a, b, "tcp", 8080, False)
    node.expect(c, b, "tcp", 8080, True)
    node.etcdctl.apply(np("first-deny-a", {"selector": "app == 'b'", "order": 30, "ingress": [
        {"action": "Deny", "source": {"selector": "app == 'a'"}}]}))
    node.expect(a, b, "tcp", 8080, True)


def test_pass_and_log(clean):
    node = clean
    a, b, c, _ = pods(node)
    node.etcdctl.apply(np("log-pass-a", {"selector": "app == 'b'", "order": 10, "ingress": [
        {"action": "Log", "source": {"selector": "app == 'a'"}},
        {"action": "Pass", "source": {"selector": "app == 'a'"}}]}))
    node.etcdctl.apply(np("deny-rest", {"selector": "app == 'b'", "order": 20, "ingress": [{"action": "Deny"}]}))
    node.expect(c, b, "tcp", 8080, False)
    node.expect(a, b, "tcp", 8080, True), "Pass skips the tier's later Deny and reaches the allow-all profile"
    chain = policy_chain_name("cali-pi-", PolicyID("np", "default", "log-pass-a"))
    rules = node.iptables("-S", chain).stdout
    assert "LOG" in rules and "calico-packet" in rules
    counters = node.iptables("-L", chain, "-v", "-x", "-n").stdout
    logged = [line for line in counters.splitlines() if "LOG" in line]
    assert logged and int(logged[0].split()[0]) > 0, counters


def test_egress_policy_and_icmp(clean):
    node = clean
    a, b, c, _ = pods(node)
    node.etcdctl.apply(np("a-egress", {"selector": "app == 'a'", "types": ["Egress"], "egress": [
        {"action": "Allow", "protocol": "ICMP"}]}))
    node.expect(a, b, "tcp", 8080, False)
    node.expect(a, b, "icmp", None, True)
    node.expect(a, b, "udp", 5353, False)
    node.expect(b, a, "tcp", 8080, True)          # ingress to a is not selected; replies pass by conntrack
    node.etcdctl.apply(np("a-egress", {"selector": "app == 'a'", "types": ["Egress"], "egress": [
        {"action": "Deny", "protocol": "ICMP", "icmp": {"type": 8}}, {"action": "Allow"}]}))
    node.expect(a, b, "icmp", None, False)
    node.expect(a, b, "tcp", 8080, True)


def test_namespace_selector(clean):
    node = clean
    a, b, c, _ = pods(node)
    e = node.pods["pod-e"]
    node.expect(e, b, "tcp", 8080, True)
    node.etcdctl.apply(np("from-blue", {"selector": "app == 'b'", "ingress": [
        {"action": "Allow", "source": {"namespaceSelector": "team == 'blue'"}}]}))
    node.expect(a, b, "tcp", 8080, False)
    node.expect(e, b, "tcp", 8080, True)
    node.etcdctl.apply(np("from-blue", {"selector": "app == 'b'", "ingress": [
        {"action": "Allow", "source": {"namespaceSelector": "projectcalico.org/name == 'default'",
                                       "selector": "app == 'c'"}}]}))
    node.expect(e, b, "tcp", 8080, False)
    node.expect(a, b, "tcp", 8080, False)
    node.expect(c, b, "tcp", 8080, True)
