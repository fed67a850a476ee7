"""felixpy staying right: drift repair, restart without a hole, etcd outages and failover.

Each test builds its own node namespace (etcd + agent) and pods, as test_felix_policy does.
"""
from __future__ import annotations

import hashlib
import json
import re
import signal
import time

import pytest

from tests.dataplane.felixpy.felix_cluster import FelixNode

API = "projectcalico.org/v3"


@pytest.fixture
def make_node(netns):
    made = []

    def make(backend="nft", env=None, start=True, etcd_members=1):
        node = FelixNode(netns, backend=backend, env=env, etcd_members=etcd_members)
        made.append(node)
        node.allow_all_profile("default")
        node.add_pod("pod-a", "10.65.0.2", {"app": "a"})
        node.add_pod("pod-b", "10.65.0.3", {"app": "b"})
        if start:
            node.start_felix()
            node.wait_ready()
        return node

    yield make
    for node in made:
        node.close()


def only_tcp_8080_to_b(node):
    node.etcdctl.apply({"apiVersion": API, "kind": "NetworkPolicy",
                        "metadata": {"name": "b-web-only", "namespace": "default"},
                        "spec": {"selector": "app == 'b'", "ingress": [
                            {"action": "Allow", "protocol": "TCP", "destination": {"ports": [8080]}}]}})


def metric(node, name: str) -> float:
    body = node.http(node.metrics_port, "/metrics")[1]
    m = re.search(rf"^{name} (\S+)$", body, re.M)
    assert m, f"{name} not in metrics:\n{body}"
    return float(m.group(1))


@pytest.mark.parametrize("backend", ["nft", "legacy-iptc"])
def test_drift_by_hand_is_repaired_within_refresh_interval(make_node, backend):
    node = make_node(backend, env={"FELIX_IPTABLESREFRESHINTERVAL": "1", "FELIX_ROUTEREFRESHINTERVAL": "1"})
    a, b = node.pods["pod-a"], node.pods["pod-b"]
    only_tcp_8080_to_b(node)
    node.expect(a, b, "udp", 5353, False)
    node.iptables("-I", "FORWARD", "1", "-s", "192.0.2.1/32", "-j", "DROP")        # someone else's rule
    node.iptables("-F", f"cali-tw-{b.iface}")
    node.factory.run(node.ns, "ip", "route", "del", f"{b.ip}/32", "dev", b.iface)
    start = time.monotonic()
    node.expect(a, b, "udp", 5353, False, timeout=5)
    node.expect(a, b, "tcp", 8080, True, timeout=5)
    assert time.monotonic() - start < 4
    saved = node.iptables_save()
    assert "192.0.2.1/32" in saved, "foreign rule survives"
    assert f"-A cali-tw-{b.iface} " in saved
    assert f"{b.ip} dev {b.iface}" in node.factory.run(node.ns, "ip", "route").stdout


@pytest.mark.parametrize("backend", ["nft", "legacy-iptc"])
def test_kill9_and_restart_lets_no_denied_packet_through(make_node, backend):
    node = make_node(backend)
    a, b = node.pods["pod-a"], node.pods["pod-b"]
    only_tcp_8080_to_b(node)
    node.expect(a, b, "udp", 5353, False)
    b.cmd("reset 5353")
    a.agent.stdin.write(f"flood {b.ip} 5353 0.01 4\n")           # 10 ms apart, 4 s, in the background
    time.sleep(0.3)
    node.kill_felix()
    time.sleep(0.5)
    node.start_felix()
    node.wait_ready()
    sent = int(a.agent.stdout.readline())
    assert sent > 300
    assert b.cmd("count 5353") == "0", "a denied datagram got through during kill -9 / restart"
    node.expect(a, b, "tcp", 8080, True)
    node.expect(a, b, "udp", 5353, False)
    assert metric(node, "felix_iptables_restore_calls") == 0, "restart adopted the kernel state unchanged"


def test_endpoint_status_is_written_back(make_node):
    node = make_node("nft")
    a = node.pods["pod-a"]
    key = "/calico/felix/v2/no-region/host/node1/workload/k8s/default/pod-a/endpoint/eth0"
    deadline = time.monotonic() + 10
    while node.etcdctl.get(key) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert json.loads(node.etcdctl.get(key)) == {"status": "up"}
    node.etcdctl.remove("WorkloadEndpoint", a.wep_name, "default")
    while node.etcdctl.get(key) is not None and time.monotonic() < deadline + 5:
        time.sleep(0.1)
    assert node.etcdctl.get(key) is None


def test_etcd_outage_keeps_programmed_state_and_readiness_reports_it(make_node):
    node = make_node("nft")
    a, b = node.pods["pod-a"], node.pods["pod-b"]
    only_tcp_8080_to_b(node)
    node.expect(a, b, "udp", 5353, False)
    node.etcd.stop()
    deadline = time.monotonic() + 10
    while node.http(node.health_port, "/readiness")[0] != 503:
        assert time.monotonic() < deadline, "readiness did not report the etcd outage"
        time.sleep(0.2)
    code, body = node.http(node.health_port, "/readiness")
    assert json.loads(body)["conditions"]["datastore"]["ready"] is False
    assert node.http(node.health_port, "/liveness")[0] == 200
    outage_end = time.monotonic() + 30
    while time.monotonic() < outage_end:
        assert a.can("tcp", b, 8080), "allowed traffic broke during the etcd outage"
        assert not a.can("udp", b, 5353), "denied traffic got through during the etcd outage"
        assert node.http(node.health_port, "/readiness")[0] == 503
        time.sleep(2)
    assert node.felix.poll() is None
    node.etcd.start()
    node.wait_ready(timeout=30)
    node.etcdctl.remove("NetworkPolicy", "b-web-only", "default")
    node.expect(a, b, "udp", 5353, True)


def test_killing_the_watched_etcd_member_loses_no_update(make_node):
    node = make_node("nft", etcd_members=3)
    node.etcd.kill()                   # the member the agent watches through (its first endpoint)
    for i in range(30):
        node.etcdctl.apply({"apiVersion": API, "kind": "GlobalNetworkPolicy", "metadata": {"name": f"p{i}"},
                            "spec": {"selector": "all()", "order": i, "ingress": [{"action": "Allow"}]}})
    deadline = time.monotonic() + 20
    while True:
        chains = set(re.findall(r"^:(cali-pi-gnp/p\d+) ", node.iptables_save(), re.M))
        if len(chains) == 30:
            break
        assert time.monotonic() < deadline, f"only {len(chains)} of 30 policies arrived\n{node.log_tail()}"
        time.sleep(0.2)
    node.expect(node.pods["pod-a"], node.pods["pod-b"], "tcp", 8080, True)


def test_nothing_is_programmed_before_the_first_complete_sync(make_node):
    node = make_node("nft", start=False)
    node.etcd.stop()
    node.start_felix()
    time.sleep(2.5)
    assert node.felix.poll() is None, node.log_tail()
    assert "cali" not in node.iptables_save() + node.factory.run(node.ns, "ip", "route").stdout
    assert node.http(node.health_port, "/readiness")[0] == 503
    node.etcd.start()
    node.wait_ready(timeout=30)
    assert ":cali-FORWARD" in node.iptables_save()
    node.expect(node.pods["pod-a"], node.pods["pod-b"], "tcp", 8080, True)


def test_endpoint_that_arrives_before_its_interface(make_node):
    node = make_node("nft")
    a = node.pods["pod-a"]
    key = "/calico/felix/v2/no-region/host/node1/workload/k8s/default/pod-late/endpoint/eth0"
    iface = "cali" + hashlib.sha1(b"default.pod-late").hexdigest()[:11]
    node.etcdctl.apply({"apiVersion": API, "kind": "WorkloadEndpoint",
                        "metadata": {"name": "node1-k8s-pod--late-eth0", "namespace": "default",
                                     "labels": {"app": "late"}},
                        "spec": {"orchestrator": "k8s", "node": "node1", "pod": "pod-late", "endpoint": "eth0",
                                 "interfaceName": iface, "ipNetworks": ["10.65.0.9/32"], "profiles": ["kns.default"]}})
    deadline = time.monotonic() + 10
    while node.etcdctl.get(key) is None:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert json.loads(node.etcdctl.get(key)) == {"status": "down"}
    late = node.add_pod("pod-late", "10.65.0.9", {"app": "late"})
    assert late.iface == iface
    node.expect(a, late, "tcp", 8080, True, timeout=5)
    deadline = time.monotonic() + 5
    while json.loads(node.etcdctl.get(key)) != {"status": "up"}:
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_sigterm_exits_cleanly_and_leaves_policy_in_force(make_node):
    node = make_node("nft")
    a, b = node.pods["pod-a"], node.pods["pod-b"]
    only_tcp_8080_to_b(node)
    node.expect(a, b, "udp", 5353, False)
    node.kill_felix(signal.SIGTERM)
    assert node.felix.returncode == 0, node.log_tail()
    assert not a.can("udp", b, 5353) and a.can("tcp", b, 8080)


def test_post_write_check_repairs_drift_right_after_a_write(make_node):
    node = make_node("nft", env={"FELIX_IPTABLESREFRESHINTERVAL": "300", "FELIX_IPTABLESPOSTWRITECHECKINTERVAL": "2"})
    a, b = node.pods["pod-a"], node.pods["pod-b"]
    time.sleep(2.5)                                   # let the start-up write's own check pass
    only_tcp_8080_to_b(node)
    chain = f"cali-tw-{b.iface}"
    deadline = time.monotonic() + 5
    while "cali-pi-" not in node.iptables("-S", chain).stdout:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    node.iptables("-F", chain)                        # clobbered right after our write
    node.expect(a, b, "udp", 5353, False, timeout=5)
    assert "cali-pi-" in node.iptables("-S", chain).stdout
