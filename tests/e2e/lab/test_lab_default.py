"""Pods across 3 nodes reach each other by default: full 9x9 matrices over TCP and UDP,
through the CNI-made veths, felixpy's chains and BIRD-learned routes between nodes."""
from tests.e2e.lab.conftest import PLACEMENT


def test_lab_pods_span_three_nodes(lab):
    assert sorted(set(PLACEMENT.values())) == ["node1", "node2", "node3"]
    st = lab.status()
    assert len(st["pods"]) == 9 and len(set(p["ip"] for p in st["pods"].values())) == 9


def test_lab_default_tcp_80_all_open(lab):
    lab.wait_matrix(lab.baseline(), 80, "TCP", what="default")


def test_lab_default_udp_81_all_open(lab):
    lab.wait_matrix(lab.baseline(), 81, "UDP", what="default")
