"""`confdpy --onetime` against a real etcd: renders, validates and writes the files;
a second run changes nothing; a datastore that cannot produce a config (this node
gone) exits non-zero with one message and leaves the previous files in place."""
from __future__ import annotations

import os
import subprocess
import sys

from libcalico_py import model
from libcalico_py.datastore.config import DatastoreConfig
from libcalico_py.datastore.etcd import EtcdDatastore
from libcalico_py.datastore.keys import affinity_key

CONFDPY = os.path.join(os.path.dirname(sys.executable), "confdpy")


def onetime(etcd, confdir, node="node1", **env):
    return subprocess.run([CONFDPY, "--onetime", "--node", node, "--confdir", str(confdir)],
                          capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, ETCD_ENDPOINTS=etcd.endpoint, **env))


def test_onetime_render_noop_and_failure(etcd, tmp_path):
    with EtcdDatastore(DatastoreConfig(endpoints=[etcd.endpoint])) as ds:
        for i in (1, 2):
            ds.create(model.load({"apiVersion": "projectcalico.org/v3", "kind": "Node",
                                  "metadata": {"name": f"node{i}"},
                                  "spec": {"bgp": {"ipv4Address": f"10.0.0.{i}/24"}}}))
        ds.create(model.load({"apiVersion": "projectcalico.org/v3", "kind": "IPPool",
                              "metadata": {"name": "p"}, "spec": {"cidr": "10.65.0.0/16"}}))
        ds.kv.put(affinity_key("node1", "10.65.3.0/26"), '{"state":"confirmed","deleted":false}')
        confdir = tmp_path / "confd"

        first = onetime(etcd, confdir, CALICO_ROUTER_ID="10.9.9.9")
        assert first.returncode == 0, first.stderr
        assert "updated" in first.stderr
        text = (confdir / "bird.cfg").read_text()
        assert "router id 10.9.9.9;" in text and "protocol bgp Mesh_10_0_0_2" in text
        assert "route 10.65.3.0/26 blackhole;" in (confdir / "bird_aggr.cfg").read_text()
        before = {p: (confdir / p).stat().st_mtime_ns for p in os.listdir(confdir)}

        again = onetime(etcd, confdir, CALICO_ROUTER_ID="10.9.9.9")
        assert again.returncode == 0 and "unchanged" in again.stderr
        assert {p: (confdir / p).stat().st_mtime_ns for p in os.listdir(confdir)} == before

        ds.delete("Node", "node1")
        gone = onetime(etcd, confdir, CALICO_ROUTER_ID="10.9.9.9")
        assert gone.returncode == 1
        assert "node 'node1' does not exist in the datastore" in gone.stderr
        assert {p: (confdir / p).stat().st_mtime_ns for p in os.listdir(confdir)} == before

        bad = onetime(etcd, confdir, node="node2", CALICO_ROUTER_ID="bogus")
        assert bad.returncode == 1 and "CALICO_ROUTER_ID 'bogus'" in bad.stderr
