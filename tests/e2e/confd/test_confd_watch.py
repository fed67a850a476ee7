"""The long-running confdpy against real etcd and a real BIRD: a change is rendered and
BIRD reconfigured; a no-op update writes nothing and reloads nothing; a datastore that
cannot produce a config (this node's Node deleted) keeps the old files and BIRD's running
config, and confdpy recovers when the Node returns."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from libcalico_py import model
from libcalico_py.birdctl import BirdClient
from libcalico_py.datastore.config import DatastoreConfig
from libcalico_py.datastore.etcd import EtcdDatastore
from libcalico_py.datastore.keys import affinity_key
from tests.e2e.confd.bgp_lab import wait_for

CONFDPY = os.path.join(os.path.dirname(sys.executable), "confdpy")
AFFINITY = json.dumps({"state": "confirmed", "deleted": False})


def node_doc(ip="10.0.0.1/24"):
    return model.load({"apiVersion": "projectcalico.org/v3", "kind": "Node",
                       "metadata": {"name": "node1"}, "spec": {"bgp": {"ipv4Address": ip}}})


def routes(client) -> set[str]:
    return {text.split()[0] for _c, text in client.command("show route")
            if text.strip() and "/" in text.split()[0]}


def mtimes(confdir):
    return {p: os.stat(os.path.join(confdir, p)).st_mtime_ns for p in sorted(os.listdir(confdir))}


@pytest.fixture
def confd(etcd, netns, tmp_path):
    ds = EtcdDatastore(DatastoreConfig(endpoints=[etcd.endpoint]))
    ds.create(node_doc())
    ds.create(model.load({"apiVersion": "projectcalico.org/v3", "kind": "IPPool",
                          "metadata": {"name": "p"}, "spec": {"cidr": "10.65.0.0/16"}}))
    ds.kv.put(affinity_key("node1", "10.65.0.0/26"), AFFINITY)
    confdir, sock = str(tmp_path / "confd"), str(tmp_path / "bird.ctl")
    env = dict(os.environ, ETCD_ENDPOINTS=etcd.endpoint, NODENAME="node1")
    subprocess.run([CONFDPY, "--onetime", "--confdir", confdir], env=env, check=True,
                   capture_output=True, timeout=60)
    ns = netns("watch")
    netns.spawn(ns, ["bird", "-f", "-c", f"{confdir}/bird.cfg", "-s", sock],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: os.path.exists(sock), 10, "BIRD socket")
    log = open(tmp_path / "confd.log", "wb")
    # confdpy needs no namespace of its own: it talks to etcd and to BIRD's socket file.
    proc = subprocess.Popen([CONFDPY, "--confdir", confdir, "--bird-socket", sock], env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield ds, BirdClient(sock), confdir, proc, tmp_path / "confd.log"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        ds.close()


def test_watch_render_noop_and_failure(confd):
    ds, bird, confdir, proc, log_path = confd
    try:
        ds.kv.put(affinity_key("node1", "10.65.0.64/26"), AFFINITY)
        wait_for(lambda: {"10.65.0.0/26", "10.65.0.64/26"} <= routes(bird), 20, "new block in BIRD")
        wait_for(lambda: b"BIRD reconfigured" in log_path.read_bytes(), 10, "reload logged")

        before, reconf = mtimes(confdir), bird.show_status().last_reconfiguration
        ds.update(ds.get("Node", "node1"))                       # same content, new revision
        ds.kv.put(affinity_key("node2", "10.65.9.0/26"), AFFINITY)  # another node's: not ours
        time.sleep(1.0)   # a pass takes ~50 ms; give the no-op every chance to write
        assert mtimes(confdir) == before
        assert bird.show_status().last_reconfiguration == reconf

        ds.delete("Node", "node1")
        wait_for(lambda: b"does not exist in the datastore" in log_path.read_bytes(), 10,
                 "processor error reported")
        assert proc.poll() is None and mtimes(confdir) == before
        assert {"10.65.0.0/26", "10.65.0.64/26"} <= routes(bird)  # old config still running

        ds.create(node_doc("10.0.0.7/24"))
        wait_for(lambda: "router id 10.0.0.7;" in open(f"{confdir}/bird.cfg").read(), 10, "recovered")
        wait_for(lambda: bird.show_status().router_id == "10.0.0.7", 10, "BIRD has the new router id")
    except BaseException:
        print(log_path.read_text(errors="replace")[-4000:])
        raise
