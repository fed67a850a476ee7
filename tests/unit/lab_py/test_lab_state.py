"""Lab state: JSON round trip, atomic save/load under CALICO_LAB_ROOT, names, locking,
crash detection and which namespaces a lab owns."""
import os

import pytest

from lab_py import cluster, state
from lab_py.state import Lab, Node, Pod


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setattr(state, "LAB_ROOT", str(tmp_path))
    return tmp_path


def _lab() -> Lab:
    lab = Lab("t1", "10.9.0.0/16", 1234, complete=True)
    lab.nodes["node1"] = Node("node1", "t1-node1", "172.30.0.11/24", "/run/calico-lab/t1/node1", 42)
    lab.namespaces["x"] = {"ns": "x", "kubernetes.io/metadata.name": "x"}
    lab.pods["x/a"] = Pod("x", "a", "node1", "t1-p-x.a", "abc", "10.9.0.1", {"pod": "a"},
                          [{"name": "http", "protocol": "TCP", "port": 80}], 99)
    return lab


def test_json_round_trip():
    lab = _lab()
    again = Lab.from_json(lab.to_json())
    assert again == lab
    assert again.to_json() == lab.to_json()


def test_save_load(root):
    lab = _lab()
    state.save(lab)
    assert state.load("t1") == lab
    assert state.known_labs() == ["t1"]
    assert not os.path.exists(state.state_path("t1") + ".tmp")


def test_old_state_without_complete_flag_is_complete():
    d = _lab().to_json()
    del d["complete"]
    assert Lab.from_json(d).complete


def test_load_missing(root):
    with pytest.raises(state.LabNotFound, match="no lab named 'zz'.*calico-lab up --name zz"):
        state.load("zz")


def test_lock_does_not_create_unknown_lab(root):
    with pytest.raises(state.LabNotFound):
        with state.locked("zz"):
            pass
    assert state.known_labs() == []
    with state.locked("zz", create=True):
        assert state.in_use("zz")          # flock is per open file: a second open sees it held
    assert state.known_labs() == ["zz"]


def test_in_use_sees_another_holder(root):
    import fcntl
    os.makedirs(root / "busy")
    with open(root / "busy" / "lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        assert state.in_use("busy")
    assert not state.in_use("busy")


@pytest.mark.parametrize("name", ["a", "demo", "e1234567", "lab9"])
def test_valid_names(name):
    state.validate_name(name)


@pytest.mark.parametrize("name", ["", "9lab", "Lab", "toolongname", "a-b", "a_b"])
def test_invalid_names(name):
    with pytest.raises(ValueError, match="invalid lab name"):
        state.validate_name(name)


def test_owned_namespaces():
    own = cluster.owns_namespace
    assert own("e1", "e1-fabric") and own("e1", "e1-node3") and own("e1", "e1-p-x.a")
    assert not own("e1", "e12-fabric") and not own("e1", "e1-nodeX") and not own("e1", "e1-other")
    assert not own("e1", "bce1-fabric") and not own("e1", "e1")


def test_crashed_reasons():
    lab = Lab("t", etcd_pid=os.getpid(), complete=True)
    lab.nodes["node1"] = Node("node1", "t-node1", "a", "/d", os.getpid())
    assert cluster.crashed(lab) is None
    lab.complete = False
    assert "never finished" in cluster.crashed(lab)
    lab.complete = True
    lab.nodes["node1"].pid = 2 ** 22 + 7           # beyond pid_max: never alive
    assert "none of its nodes" in cluster.crashed(lab)
    lab.etcd_pid = None
    assert "etcd" in cluster.crashed(lab)
