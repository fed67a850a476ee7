"""Raw etcd keys -> BgpSnapshot, through the model (defaults, invalid objects dropped)."""
from __future__ import annotations

import json

from confdpy.passwords import SecretStore, env_name
from confdpy.snapshot import BgpSnapshot, affinity_state, watched_prefixes

NODE_KEY = "/calico/resources/v3/projectcalico.org/nodes/node1"


def node_doc(ip):
    return json.dumps({"apiVersion": "projectcalico.org/v3", "kind": "Node",
                       "metadata": {"name": "node1"}, "spec": {"bgp": {"ipv4Address": ip}}})


def test_resources_are_loaded_with_defaults_and_deleted():
    snap = BgpSnapshot()
    pool = {"apiVersion": "projectcalico.org/v3", "kind": "IPPool", "metadata": {"name": "p"},
            "spec": {"cidr": "10.65.0.0/16"}}
    assert snap.apply_kv("/calico/resources/v3/projectcalico.org/ippools/p", json.dumps(pool), "node1")
    assert snap.pools["p"]["spec"]["blockSize"] == 26           # Calico default filled
    assert snap.apply_kv(NODE_KEY, node_doc("10.0.0.1/24"), "node1")
    assert snap.apply_kv(NODE_KEY, None, "node1") and snap.nodes == {}


def test_invalid_resource_is_dropped():
    snap = BgpSnapshot()
    snap.apply_kv(NODE_KEY, node_doc("10.0.0.1/24"), "node1")
    assert snap.apply_kv(NODE_KEY, node_doc("not-an-ip"), "node1")
    assert snap.nodes == {}


def test_only_this_nodes_affinities_are_kept():
    snap = BgpSnapshot()
    value = b'{"state":"confirmed","deleted":false}'
    assert snap.apply_kv("/calico/ipam/v2/host/node1/ipv4/block/10.65.0.0-26", value, "node1")
    assert not snap.apply_kv("/calico/ipam/v2/host/node2/ipv4/block/10.65.1.0-26", value, "node1")
    assert snap.apply_kv("/calico/ipam/v2/host/node1/ipv6/block/fd65::-122", value, "node1")
    assert snap.affinities == {"10.65.0.0/26": "confirmed", "fd65::/122": "confirmed"}
    assert not snap.apply_kv("/calico/resources/v3/projectcalico.org/workloadendpoints/ns/x", b"{}", "node1")


def test_affinity_states():
    assert affinity_state(b"") == "confirmed"
    assert affinity_state(b'{"state":"pending"}') == "pending"
    assert affinity_state(b'{"state":"confirmed","deleted":true}') == "pendingDeletion"


def test_watched_prefixes():
    assert watched_prefixes("node1") == [
        "/calico/resources/v3/projectcalico.org/nodes/",
        "/calico/resources/v3/projectcalico.org/bgpconfigurations/",
        "/calico/resources/v3/projectcalico.org/bgppeers/",
        "/calico/resources/v3/projectcalico.org/ippools/",
        "/calico/ipam/v2/host/node1/"]


def test_secret_store_file_then_env(tmp_path):
    (tmp_path / "bgp-secrets").mkdir()
    (tmp_path / "bgp-secrets" / "mesh").write_text("from-file\n")
    store = SecretStore(str(tmp_path), environ={env_name("bgp-secrets", "peer.key"): "from-env"})
    assert store("bgp-secrets", "mesh") == "from-file"
    assert store("bgp-secrets", "peer.key") == "from-env"
    assert env_name("bgp-secrets", "peer.key") == "CALICO_BGP_SECRET_BGP_SECRETS_PEER_KEY"
    assert store("bgp-secrets", "nope") is None
    assert store("../etc", "passwd") is None
