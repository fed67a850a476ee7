"""Processor facts, asserted on the model (no templates): peers, AS numbers, route
reflection, passwords, pools, blocks, services, communities."""
from __future__ import annotations

import pytest

from confdpy.processor import (ProcessorError, build_bird_config, hash_router_id, parse_as,
                               parse_duration, protocol_name, split_peer_ip)
from confdpy.snapshot import BgpSnapshot
from tests.unit.confdpy.case_loader import model_of


def names(cfg):
    return [p.name for p in cfg.peers]


def test_mesh_of_three_peers_with_every_other_node():
    cfg = model_of("mesh-3")
    assert cfg.router_id == "10.0.0.1" and cfg.as_number == 64512
    assert names(cfg) == ["Mesh_10_0_0_2", "Mesh_10_0_0_3"]
    assert all(p.kind == "mesh" and p.as_number == 64512 and p.internal for p in cfg.peers)
    assert all(p.source_address == "10.0.0.1" for p in cfg.peers)


def test_mesh_exactly_one_side_is_passive():
    for a, b in [("node1", "node2"), ("node1", "node3"), ("node2", "node3")]:
        pa = model_of("mesh-3", a).peer(protocol_name("Mesh", f"10.0.0.{b[-1]}", None))
        pb = model_of("mesh-3", b).peer(protocol_name("Mesh", f"10.0.0.{a[-1]}", None))
        assert pa.passive != pb.passive
        assert pb.passive  # the greater address string waits


def test_only_confirmed_blocks_are_blackholed_and_exported():
    cfg = model_of("mesh-3")
    assert cfg.ipv4.blocks == ["10.65.0.0/26"]     # 10.65.0.64/26 is only pending
    assert cfg.ipv4.static_routes == ["10.65.0.0/26"]


def test_mesh_off_leaves_only_the_global_peer():
    cfg = model_of("mesh-off-global-peer")
    assert names(cfg) == ["Global_10_0_0_254"]
    peer = cfg.peers[0]
    assert (peer.as_number, peer.local_as, peer.internal) == (65000, 65001, False)


def test_route_reflector_peers_with_all_clients_as_rr_clients():
    cfg = model_of("route-reflector", "node1")
    assert names(cfg) == ["Node_10_0_0_2", "Node_10_0_0_3"]
    assert all(p.rr_client and p.rr_cluster_id == "224.0.0.1" for p in cfg.peers)


def test_route_reflector_client_peers_only_with_the_reflector():
    cfg = model_of("route-reflector", "node2")
    assert names(cfg) == ["Node_10_0_0_1"]
    assert not cfg.peers[0].rr_client


def test_reflector_with_mesh_on_skips_the_mesh_and_clients_skip_it():
    snap_case = model_of("mesh-3")  # sanity: no reflector there
    assert len(snap_case.peers) == 2
    docs = [
        {"kind": "Node", "metadata": {"name": "n1"}, "spec": {"bgp": {"ipv4Address": "10.0.0.1/24", "routeReflectorClusterID": "224.0.0.1"}}},
        {"kind": "Node", "metadata": {"name": "n2"}, "spec": {"bgp": {"ipv4Address": "10.0.0.2/24"}}},
        {"kind": "Node", "metadata": {"name": "n3"}, "spec": {"bgp": {"ipv4Address": "10.0.0.3/24"}}},
    ]
    snap = BgpSnapshot.from_documents(docs)
    assert names(build_bird_config(snap, "n1")) == []
    assert names(build_bird_config(snap, "n2")) == ["Mesh_10_0_0_3"]


def test_per_node_as_and_dotted_global_as():
    cfg = model_of("per-node-as")
    assert cfg.as_number == 65546
    assert {p.name: p.as_number for p in cfg.peers} == {"Mesh_10_0_0_2": 64600, "Mesh_10_0_0_3": 65546}
    other = model_of("per-node-as", "node2")
    assert other.as_number == 64600 and all(p.local_as == 64600 for p in other.peers)


def test_passwords_from_secret_refs_and_missing_secret_skips_the_peer():
    cfg = model_of("password-peer")
    assert names(cfg) == ["Mesh_10_0_0_2", "Global_10_0_0_254"]
    assert cfg.peer("Mesh_10_0_0_2").password == "s3cret-mesh"
    assert cfg.peer("Global_10_0_0_254").password == "s3cret-upstream"
    assert any("bgp-secrets/absent not found" in n for n in cfg.notes)


def test_password_bird_cannot_quote_is_refused():
    docs = [{"kind": "Node", "metadata": {"name": "n1"}, "spec": {"bgp": {"ipv4Address": "10.0.0.1/24"}}},
            {"kind": "BGPPeer", "metadata": {"name": "p"},
             "spec": {"peerIP": "10.0.0.9", "asNumber": 1, "password": {"secretKeyRef": {"name": "s", "key": "k"}}}}]
    cfg = build_bird_config(BgpSnapshot.from_documents(docs), "n1", secrets=lambda n, k: 'a"b')
    assert cfg.peers == [] and any("double quote" in n for n in cfg.notes)


def test_dual_stack_sessions_per_family():
    cfg = model_of("ipv6-pool")
    assert [p.name for p in cfg.peers_of(4)] == ["Mesh_10_0_0_2", "Mesh_10_0_0_3"]
    assert [p.name for p in cfg.peers_of(6)] == ["Mesh_fd00__2"]
    assert cfg.ipv6.blocks == ["fd65:0:0:1::/122"]
    assert [p.cidr for p in cfg.ipv6.pools] == ["fd65::/48"]
    assert cfg.ipv6.node_ip == "fd00::1"


def test_disabled_and_non_exported_pools():
    cfg = model_of("disabled-pool")
    pools = {p.cidr: p for p in cfg.ipv4.pools}
    assert pools["10.65.0.0/16"].export and pools["10.65.0.0/16"].kernel == "accept"
    assert not pools["10.66.0.0/16"].export        # disabled
    assert not pools["10.67.0.0/16"].export        # disableBGPExport
    assert pools["10.68.0.0/16"].kernel == "reject"  # IPIP: Felix
    assert pools["10.69.0.0/16"].kernel == "reject"  # VXLAN: Felix
    assert cfg.ipv4.blocks == ["10.65.0.0/26", "10.68.0.0/26"]
    assert cfg.ipv4.blocks_not_exported == ["10.66.0.0/26", "10.67.0.0/26"]


def test_node_specific_selector_and_peer_selector_peers():
    cfg = model_of("node-specific-peers")
    assert {p.name: p.as_number for p in cfg.peers} == {
        "Global_10_0_0_240": 65099,           # global wins over the node-specific duplicate
        "Node_10_0_0_250": 65010,             # node: node1
        "Node_10_0_0_251_port_1791": 65011,   # nodeSelector rack == 'a'
        "Node_10_0_0_3": 64600,               # peerSelector rack == 'b', AS from node3
    }
    assert cfg.peer("Node_10_0_0_251_port_1791").port == 1791
    node3 = model_of("node-specific-peers", "node3")
    # node3 gets its own tor, and reverse peerings to the rack-a nodes.
    assert {p.name for p in node3.peers} == {"Global_10_0_0_240", "Node_10_0_0_252",
                                             "Node_10_0_0_1", "Node_10_0_0_2"}
    assert node3.peer("Node_10_0_0_1").passive and not cfg.peer("Node_10_0_0_3").passive


def test_service_ranges_and_communities():
    cfg = model_of("service-ips")
    assert cfg.ipv4.service_cidrs == ["10.96.0.0/12", "192.0.2.0/24", "198.51.100.0/24"]
    assert cfg.ipv6.service_cidrs == ["fd96::/112"]
    rules = {r.cidr: r for r in cfg.ipv4.communities}
    assert rules["10.65.0.0/16"].standard == ((65001, 100),)
    assert rules["10.65.0.0/16"].large == ((65001, 1, 2),)
    assert rules["10.96.0.0/12"].standard == ((65001, 300),)


def test_peer_options():
    cfg = model_of("peer-options")
    assert cfg.router_id == hash_router_id("node1")
    assert cfg.debug == "all"
    mesh = cfg.peer("Mesh_10_0_0_2")
    assert (mesh.local_port, mesh.port, mesh.graceful_restart_time) == (1790, 1790, 120)
    keep = cfg.peer("Global_10_0_0_250")
    assert keep.next_hop == "keep" and keep.source_address is None
    assert (keep.graceful_restart_time, keep.allow_local_as, keep.ttl_security) == (300, 2, 1)
    self_ = cfg.peer("Global_10_0_0_251")
    assert (self_.next_hop, self_.keepalive_time, self_.local_as) == ("self", 10, 64999)


def test_router_id_setting():
    snap = BgpSnapshot.from_documents(
        [{"kind": "Node", "metadata": {"name": "n1"}, "spec": {"bgp": {"ipv6Address": "fd00::1/64"}}}])
    assert build_bird_config(snap, "n1").router_id == hash_router_id("n1")
    assert build_bird_config(snap, "n1", "192.0.2.7").router_id == "192.0.2.7"
    with pytest.raises(ProcessorError, match="CALICO_ROUTER_ID 'bogus'"):
        build_bird_config(snap, "n1", "bogus")


def test_missing_node_or_bgp_spec_is_an_error():
    snap = BgpSnapshot.from_documents([{"kind": "Node", "metadata": {"name": "n1"}, "spec": {}}])
    with pytest.raises(ProcessorError, match="'n2' does not exist"):
        build_bird_config(snap, "n2")
    with pytest.raises(ProcessorError, match="no spec.bgp"):
        build_bird_config(snap, "n1")


def test_hash_router_id_is_stable_ipv4_outside_multicast():
    rid = hash_router_id("node-a")
    assert rid == hash_router_id("node-a") != hash_router_id("node-b")
    assert int(rid.split(".")[0]) < 223


@pytest.mark.parametrize("text,expected", [
    ("10.0.0.1", ("10.0.0.1", None)), ("10.0.0.1:1790", ("10.0.0.1", 1790)),
    ("fd00::1", ("fd00::1", None)), ("[fd00::1]:1790", ("fd00::1", 1790)),
])
def test_split_peer_ip(text, expected):
    assert split_peer_ip(text) == expected


def test_parsers():
    assert parse_as("1.10") == 65546 and parse_as(64512) == 64512 and parse_as(None) is None
    assert parse_duration("1m30s") == 90 and parse_duration("2h") == 7200 and parse_duration(5) == 5
    with pytest.raises(ValueError):
        parse_duration("5x")


def test_bad_data_is_a_processor_error_not_a_crash():
    docs = [{"kind": "Node", "metadata": {"name": "n1"}, "spec": {"bgp": {"ipv4Address": "10.0.0.1/24"}}},
            {"kind": "BGPPeer", "metadata": {"name": "p"}, "spec": {"nodeSelector": "has(", "peerIP": "10.0.0.9", "asNumber": 1}}]
    with pytest.raises(ProcessorError, match="cannot build the BGP configuration of node 'n1'"):
        build_bird_config(BgpSnapshot.from_documents(docs), "n1")
