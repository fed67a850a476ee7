"""A node to run CNI plugins on: a "node" namespace with an uplink (default route, so the
kernel answers proxy ARP for pods), its own etcd on 127.0.0.1 inside it, and pod namespaces
on demand. The plugins run inside the node namespace (`ip netns exec`), as on a real node."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tests.fixtures.etcd import EtcdServer
from tests.integration.cni.cni_harness import gateway_in, put_node, put_pool


@dataclass
class CNINode:
    node: str
    uplink: str
    etcd: EtcdServer
    kv: object
    make_ns: object
    pods: list = field(default_factory=list)

    def pod(self, name: str) -> str:
        ns = self.make_ns(name)
        self.pods.append(ns)
        return ns

    def netns_path(self, ns: str) -> str:
        return f"/var/run/netns/{ns}"


@pytest.fixture
def cni_node(netns, request):
    node = netns("node")
    uplink = netns("uplink")
    netns.veth(node, "uplink0", uplink, "peer0")
    netns.run(node, "ip", "addr", "add", "192.168.250.1/24", "dev", "uplink0")
    netns.run(uplink, "ip", "addr", "add", "192.168.250.254/24", "dev", "peer0")
    netns.run(node, "ip", "route", "add", "default", "via", "192.168.250.254")
    server = EtcdServer(netns=node).start()
    request.node._etcd_servers = [server]
    kv = gateway_in(node, server.endpoint)
    put_pool(kv, "default-ipv4-ippool", "10.65.0.0/16")
    put_node(kv, "node1")
    try:
        yield CNINode(node, uplink, server, kv, netns)
    finally:
        kv.close()
        server.cleanup()
