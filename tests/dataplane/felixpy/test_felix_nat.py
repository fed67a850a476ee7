"""natOutgoing: traffic from a pool with natOutgoing that leaves the pools is masqueraded
(cali-nat-outgoing + the masq/all-pools IP sets), for both backends; and the agent's exit
after repeated iptables failures."""
from __future__ import annotations

import time

import pytest

from felixpy.calc.messages import PolicyID
from felixpy.rules.names import policy_chain_name
from tests.dataplane.felixpy.felix_cluster import FelixNode

API = "projectcalico.org/v3"


def pool(nat: bool):
    return {"apiVersion": API, "kind": "IPPool", "metadata": {"name": "pool1"},
            "spec": {"cidr": "10.65.0.0/16", "natOutgoing": nat}}


@pytest.mark.parametrize("backend", ["nft", "legacy-iptc"])
def test_nat_outgoing_masquerades_traffic_leaving_the_pools(netns, backend):
    node = FelixNode(netns, backend=backend, external=True)
    try:
        node.allow_all_profile()
        a = node.add_pod("pod-a", "10.65.0.2", {"app": "a"})
        b = node.add_pod("pod-b", "10.65.0.3", {"app": "b"})
        node.etcdctl.apply(pool(False))
        node.start_felix()
        node.wait_ready()
        outside = node.external
        node.expect(a, b, "tcp", 8080, True)
        node.expect(a, outside.ip, "tcp", 8080, False)       # outside has no route back to the pool
        node.etcdctl.apply(pool(True))
        node.expect(a, outside.ip, "tcp", 8080, True)
        assert outside.cmd("lastpeer 8080") == "10.255.0.1", "source was masqueraded to the node's address"
        assert b.cmd("lastpeer 8080") == a.ip, "traffic inside the pools keeps its source"
        assert "MASQUERADE" in node.iptables_save("nat")
        node.etcdctl.apply(pool(False))
        node.expect(a, outside.ip, "tcp", 8080, False)
    finally:
        node.close()


def test_agent_exits_after_repeated_iptables_failures(netns):
    node = FelixNode(netns, backend="nft", env={"FELIX_MAXIPTABLESFAILURES": "3"})
    try:
        node.allow_all_profile()
        node.add_pod("pod-a", "10.65.0.2", {"app": "a"})
        node.etcdctl.apply({"apiVersion": API, "kind": "NetworkPolicy", "metadata": {"name": "p", "namespace": "default"},
                            "spec": {"selector": "all()", "ingress": [{"action": "Allow"}]}})
        node.start_felix()
        node.wait_ready()
        chain = policy_chain_name("cali-pi-", PolicyID("np", "default", "p"))
        deadline = time.monotonic() + 10
        while f":{chain} " not in node.iptables_save():
            assert time.monotonic() < deadline
            time.sleep(0.1)
        node.iptables("-A", "INPUT", "-j", chain)          # someone else pins our chain: it can't be deleted
        node.etcdctl.remove("NetworkPolicy", "p", "default")
        assert node.felix.wait(20) == 1
        log = node.log_tail(20)
        assert "3 consecutive iptables failures" in log, log
    finally:
        node.close()
