"""confdpy + real BIRD 2 on three node namespaces: mesh, kernel routes, pod traffic, a
block claimed at run time, then a route reflector, then an upstream eBGP router."""
from __future__ import annotations

import json

import pytest

from libcalico_py import model
from libcalico_py.datastore.config import DatastoreConfig
from libcalico_py.datastore.etcd import EtcdDatastore
from libcalico_py.datastore.keys import affinity_key
from tests.e2e.confd.bgp_lab import UPSTREAM_AS, UPSTREAM_IP, BgpLab, restarted, run, wait_for

AFFINITY = json.dumps({"state": "confirmed", "deleted": False})
BLOCKS = {1: "10.65.0.0/26", 2: "10.65.1.0/26", 3: "10.65.2.0/26"}
PODS = {1: "10.65.0.1", 3: "10.65.2.1"}
CONVERGE = 30


def res(kind, name, spec, labels=None):
    md = {"name": name}
    if labels:
        md["labels"] = labels
    return model.load({"apiVersion": "projectcalico.org/v3", "kind": kind, "metadata": md, "spec": spec})


@pytest.fixture
def lab(netns, tmp_path):
    lab = BgpLab(netns, str(tmp_path))
    yield lab
    lab.close()


def expect_routes(node, others):
    """node's kernel has each other node's blocks via that node's address."""
    def check():
        routes = node.kernel_routes()
        for other, blocks in others.items():
            for block in blocks:
                line = routes.get(block, "")
                if f"via {other.ip} " not in line + " ":
                    return None
        return routes
    return wait_for(check, CONVERGE, f"{node.name} kernel routes {others}")


def test_mesh_reflector_and_upstream(lab):
    endpoint = lab.start_etcd()
    ds = EtcdDatastore(DatastoreConfig(endpoints=[endpoint]))
    try:
        _scenario(lab, ds)
    except BaseException:
        print(lab.diagnostics())
        raise
    finally:
        ds.close()


def _scenario(lab, ds):
    nodes = [lab.add_node(i) for i in (1, 2, 3)]
    n1, n2, n3 = nodes
    for n in nodes:
        ds.create(res("Node", n.name, {"bgp": {"ipv4Address": f"{n.ip}/24"}}))
        ds.kv.put(affinity_key(n.name, BLOCKS[n.index]), AFFINITY)
    ds.create(res("IPPool", "pool1", {"cidr": "10.65.0.0/16"}))
    pod1 = lab.add_pod(n1, PODS[1])
    lab.add_pod(n3, PODS[3])
    for n in nodes:
        n.start()

    # 1. full mesh established
    for n in nodes:
        want = {f"Mesh_10_0_0_{o.index}" for o in nodes if o is not n}
        wait_for(lambda: want <= n.established(), CONVERGE, f"{n.name} mesh sessions {want}")

    # 2. each node's kernel has the other nodes' blocks via their addresses,
    #    and its own block as a blackhole
    for n in nodes:
        routes = expect_routes(n, {o: [BLOCKS[o.index]] for o in nodes if o is not n})
        assert routes[BLOCKS[n.index]].startswith("blackhole")

    # 3. pod on node1 pings pod on node3
    run(pod1, "ping", "-c", "2", "-W", "2", PODS[3])

    # 4. a block claimed while running appears on the other nodes
    new_block = "10.65.1.64/26"
    ds.kv.put(affinity_key("node2", new_block), AFFINITY)
    for n in (n1, n3):
        expect_routes(n, {n2: [new_block]})
    blocks = dict(BLOCKS)

    # 5. mesh off, node1 a route reflector; everyone peers with the reflector
    node1 = ds.get("Node", "node1")
    doc = node1.to_dict()
    doc["metadata"]["labels"] = {"route-reflector": "true"}
    doc["spec"]["bgp"]["routeReflectorClusterID"] = "224.0.0.1"
    ds.update(model.load(doc))
    ds.create(res("BGPPeer", "peer-with-rr", {"nodeSelector": "all()",
                                              "peerSelector": "route-reflector == 'true'"}))
    ds.create(res("BGPConfiguration", "default", {"nodeToNodeMeshEnabled": False}))
    wait_for(lambda: n1.established() >= {"Node_10_0_0_2", "Node_10_0_0_3"}
             and not any(p.startswith("Mesh_") for p in n1.protocols()), CONVERGE, "reflector sessions")
    for n in (n2, n3):
        wait_for(lambda: set(n.protocols()) == {"Node_10_0_0_1"} and n.established() == {"Node_10_0_0_1"},
                 CONVERGE, f"{n.name}: only the reflector session")
    expect_routes(n1, {n2: [blocks[2], new_block], n3: [blocks[3]]})
    expect_routes(n2, {n1: [blocks[1]], n3: [blocks[3]]})       # reflected, next hop kept
    expect_routes(n3, {n1: [blocks[1]], n2: [blocks[2], new_block]})
    run(pod1, "ping", "-c", "2", "-W", "2", PODS[3])

    # 6. an upstream router as a global BGPPeer learns the pod blocks and nothing else
    upstream = lab.start_upstream(nodes)
    since = {n.name: {p.name: p.since for p in n.client.show_protocols() if p.proto == "BGP"}
             for n in nodes}
    ds.create(res("BGPPeer", "upstream", {"peerIP": UPSTREAM_IP, "asNumber": UPSTREAM_AS}))
    wait_for(lambda: upstream.established() == {"node1", "node2", "node3"}, CONVERGE,
             "upstream sessions")
    want = {blocks[1], blocks[2], blocks[3], new_block}
    wait_for(lambda: upstream.prefixes() == want, CONVERGE, f"upstream learns exactly {want}")
    assert all(f"Global_{UPSTREAM_IP.replace('.', '_')}" in n.established() for n in nodes)
    # adding a peer flapped none of the existing sessions
    for n in nodes:
        now = {p.name: p.since for p in n.client.show_protocols() if p.proto == "BGP"}
        assert restarted(since[n.name], now) == [], (n.name, since[n.name], now)
    print("\n".join(f"{n.name}: {sorted(n.established())}\n  " + "\n  ".join(n.kernel_routes().values())
                    for n in nodes))
    print("upstream:", sorted(upstream.prefixes()))
