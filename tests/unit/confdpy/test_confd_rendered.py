"""Facts read back from the rendered text (not from the model): protocol names,
neighbors, AS numbers, options and filter clauses, per representative datastore."""
from __future__ import annotations

import pytest

from tests.unit.confdpy.case_loader import bgp_protocols, case_names, model_of, render_case


@pytest.mark.parametrize("case", case_names())
def test_every_model_peer_is_one_protocol_with_its_neighbor_and_as(case):
    cfg = model_of(case)
    protos = bgp_protocols(render_case(case)["bird.cfg"])
    assert sorted(protos) == sorted(p.name for p in cfg.peers)
    for peer in cfg.peers:
        facts = protos[peer.name]
        assert (facts["neighbor"], facts["port"], facts["peer_as"], facts["local_as"]) == \
            (peer.ip, peer.port, peer.as_number, peer.local_as)


def test_mesh_3_text():
    files = render_case("mesh-3")
    assert "router id 10.0.0.1;" in files["bird.cfg"]
    protos = bgp_protocols(files["bird.cfg"])
    assert {n: (f["neighbor"], f["peer_as"]) for n, f in protos.items()} == {
        "Mesh_10_0_0_2": ("10.0.0.2", 64512), "Mesh_10_0_0_3": ("10.0.0.3", 64512)}
    assert "route 10.65.0.0/26 blackhole;" in files["bird_aggr.cfg"]
    assert "10.65.0.64/26" not in "".join(files.values())       # pending affinity
    assert "if ( net ~ 10.65.0.0/16 ) then { accept; }" in files["bird_ipam.cfg"]
    # from node2 the session to node1 is passive (10.0.0.2 > 10.0.0.1)
    assert "passive on" in bgp_protocols(render_case("mesh-3", "node2")["bird.cfg"])["Mesh_10_0_0_1"]["options"]


def test_route_reflector_text():
    rr = bgp_protocols(render_case("route-reflector", "node1")["bird.cfg"])
    for name in ("Node_10_0_0_2", "Node_10_0_0_3"):
        assert {"rr client", "rr cluster id 224.0.0.1"} <= rr[name]["options"]
    client = bgp_protocols(render_case("route-reflector", "node3")["bird.cfg"])
    assert list(client) == ["Node_10_0_0_1"]
    assert not any(o.startswith("rr ") for o in client["Node_10_0_0_1"]["options"])


def test_password_and_options_text():
    protos = bgp_protocols(render_case("password-peer")["bird.cfg"])
    assert 'password "s3cret-upstream"' in protos["Global_10_0_0_254"]["options"]
    assert "Global_10_0_0_253" not in protos
    opts = bgp_protocols(render_case("peer-options")["bird.cfg"])
    assert {"ttl security on", "multihop 1", "allow local as 2", "graceful restart time 300",
            "next hop keep"} <= opts["Global_10_0_0_250"]["options"]
    assert opts["Global_10_0_0_250"]["local_ip"] is None          # sourceAddress: None
    assert opts["Mesh_10_0_0_2"]["local_port"] == 1790             # listenPort


def test_ipv6_channels_in_one_config():
    text = render_case("ipv6-pool")["bird.cfg"]
    protos = bgp_protocols(text)
    assert protos["Mesh_fd00__2"]["neighbor"] == "fd00::2"
    block = text[text.index("protocol bgp Mesh_fd00__2"):]
    assert "ipv6 {" in block.split("\n}\n")[0]
    assert "protocol kernel kernel_v6" in text and "protocol kernel kernel_v4" in text


def test_disabled_pool_text():
    ipam = render_case("disabled-pool")["bird_ipam.cfg"]
    export = ipam[ipam.index("function calico_export_to_bgp_peers_v4"):].split("\n}\n")[0]
    lines = [ln.strip() for ln in export.splitlines()]
    # the rejections come before anything can accept a block of those pools
    assert lines.index("if ( net ~ 10.66.0.0/16 ) then { reject; }  # pool disabled or disableBGPExport") \
        < lines.index("calico_aggr_v4();")
    aggr = render_case("disabled-pool")["bird_aggr.cfg"]
    assert "if ( net = 10.66.0.0/26 ) then { accept; }" not in aggr
    assert "route 10.66.0.0/26 blackhole;" in aggr


def test_service_ips_text():
    files = render_case("service-ips")
    kernel = files["bird_ipam.cfg"].split("filter calico_kernel_programming_v4")[1]
    assert "if ( net ~ 10.96.0.0/12 ) then { reject; }" in kernel
    assert "route 192.0.2.0/24 blackhole;" in files["bird_aggr.cfg"]
    assert "bgp_community.add((65001, 300));" in files["bird_ipam.cfg"]
    assert "bgp_large_community.add((65001, 1, 2));" in files["bird_ipam.cfg"]
