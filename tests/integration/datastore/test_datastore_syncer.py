"""Syncer against a real etcd: initial list as one batch then in-sync, live events in
order, resume without loss or repeats across an etcd restart, and a re-list whose emitted
difference is exactly what changed when the resume revision was compacted."""
import threading
import time

import etcd3
import pytest

from libcalico_py.datastore.config import DatastoreConfig
from libcalico_py.datastore.etcd import EtcdDatastore
from libcalico_py.datastore.syncer import Syncer, Update

RES = "/calico/resources/v3/projectcalico.org/"
IPAM = "/calico/ipam/v2/assignment/"


class Recorder:
    """Collects batches and statuses from the syncer thread; `wait` polls a predicate."""

    def __init__(self):
        self.batches: list[list[Update]] = []
        self.statuses: list[str] = []
        self.cond = threading.Condition()
        self.gate: threading.Event | None = None  # when set to an Event, block on it
        self.blocked = threading.Event()

    def on_updates(self, batch):
        with self.cond:
            self.batches.append(list(batch))
            self.cond.notify_all()
        gate = self.gate
        if gate is not None and any(u.key.endswith("/trigger") for u in batch):
            self.blocked.set()
            gate.wait(30)

    def on_status(self, status):
        with self.cond:
            self.statuses.append(status)
            self.cond.notify_all()

    @property
    def updates(self):
        with self.cond:
            return [u for b in self.batches for u in b]

    def wait(self, pred, timeout=20.0, what="condition"):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred():
                left = deadline - time.monotonic()
                assert left > 0, f"timed out waiting for {what}; statuses={self.statuses}"
                self.cond.wait(min(left, 0.2))


def raw(server):
    host, port = server.endpoint.split("://")[1].rsplit(":", 1)
    return etcd3.client(host=host, port=int(port), timeout=5)


@pytest.fixture
def ds(etcd):
    store = EtcdDatastore(DatastoreConfig([etcd.endpoint]))
    yield store
    store.close()


@pytest.fixture
def syncers():
    started = []

    def make(ds, prefixes, rec, **kw):
        s = Syncer(ds, prefixes, rec.on_updates, rec.on_status, **kw)
        started.append(s)
        return s.start()

    yield make
    for s in started:
        s.stop()


def test_initial_list_is_one_batch_then_in_sync_then_events(ds, syncers):
    ds.kv.put(RES + "ippools/p1", b"1")
    ds.kv.put(RES + "nodes/n1", b"2")
    ds.kv.put(IPAM + "ipv4/block/10.65.0.0-26", b"3")
    ds.kv.put("/calico/felix/v2/no-region/host/n1/status", b"not watched")
    rec = Recorder()
    syncers(ds, [RES, IPAM], rec)
    rec.wait(lambda: "in-sync" in rec.statuses, what="in-sync")
    assert rec.statuses[:3] == ["wait-for-ready", "resync", "in-sync"]
    assert len(rec.batches) == 1
    assert sorted(u.key for u in rec.batches[0]) == sorted(
        [RES + "ippools/p1", RES + "nodes/n1", IPAM + "ipv4/block/10.65.0.0-26"])

    ds.kv.put(RES + "ippools/p2", b"4")
    ds.kv.put("/calico/felix/v2/no-region/host/n1/status", b"ignored")
    ds.kv.put("/calico/ipam/v2/handle/h1", b"inside the watched range, outside the prefixes")
    ds.kv.delete(RES + "ippools/p1")
    ds.kv.put(IPAM + "ipv4/block/10.65.0.0-26", b"5")
    rec.wait(lambda: len(rec.updates) == 6, what="3 live events")
    live = rec.updates[3:]
    assert [(u.key, u.value) for u in live] == [
        (RES + "ippools/p2", b"4"), (RES + "ippools/p1", None),
        (IPAM + "ipv4/block/10.65.0.0-26", b"5")]
    revs = [u.revision for u in live]
    assert revs == sorted(revs) and len(set(revs)) == 3


def test_watch_resumes_without_loss_across_etcd_restart(etcd, ds, syncers):
    for i in range(5):
        ds.kv.put(f"{RES}ippools/a{i}", f"{i}")
    rec = Recorder()
    syncer = syncers(ds, [RES], rec, min_backoff=0.1, max_backoff=0.5)
    rec.wait(lambda: "in-sync" in rec.statuses)
    for i in range(5):
        ds.kv.put(f"{RES}ippools/b{i}", f"{i}")
    rec.wait(lambda: len(rec.updates) == 10, what="before restart")

    etcd.stop()
    rec.wait(lambda: "disconnected" in rec.statuses, what="disconnected")
    etcd.start()
    for i in range(5):
        ds.kv.put(f"{RES}ippools/c{i}", f"{i}")
    ds.kv.delete(f"{RES}ippools/a0")
    rec.wait(lambda: len(rec.updates) == 16, what="after restart")
    time.sleep(0.5)  # nothing more (no repeats) may arrive
    updates = rec.updates
    assert len(updates) == 16
    live = updates[5:]
    assert [u.key.rsplit("/", 1)[1] for u in live] == \
        [f"b{i}" for i in range(5)] + [f"c{i}" for i in range(5)] + ["a0"]
    assert live[-1].value is None
    revs = [u.revision for u in live]
    assert revs == sorted(revs) and len(set(revs)) == len(revs)
    assert rec.statuses[-1] == "in-sync"
    assert rec.statuses.count("resync") == 1  # resumed the watch, did not re-list
    assert syncer.revision == ds.kv.revision()


def test_compacted_resume_revision_relists_and_emits_exact_difference(etcd, ds, syncers):
    base = {f"{RES}ippools/k{i}": f"v{i}".encode() for i in range(6)}
    for k, v in base.items():
        ds.kv.put(k, v)
    rec = Recorder()
    syncer = syncers(ds, [RES], rec, min_backoff=0.1, max_backoff=0.5)
    rec.wait(lambda: "in-sync" in rec.statuses)
    assert len(rec.updates) == 6

    # Hold the syncer inside a callback while etcd restarts (breaking its stream) and the
    # changes are written and compacted away; when released it must resume from a
    # compacted revision.
    rec.gate = threading.Event()
    ds.kv.put(RES + "ippools/trigger", b"t")
    assert rec.blocked.wait(10)
    n_before = len(rec.updates)
    etcd.stop()
    etcd.start()
    ds.kv.put(RES + "ippools/k0", b"changed")            # changed value
    ds.kv.put(RES + "ippools/k1", b"v1")                 # rewritten, same value: new revision
    ds.kv.delete(RES + "ippools/k2")                     # deleted
    ds.kv.put(RES + "ippools/new", b"n")                 # new
    ds.kv.put(RES + "ippools/tmp", b"x")                 # created and deleted in between:
    ds.kv.delete(RES + "ippools/tmp")                    # must not appear at all
    ds.kv.put("/calico/ipam/v2/handle/h", b"outside")    # outside the prefixes
    rev = ds.kv.revision()
    raw(etcd).compact(rev, physical=True)
    rec.gate.set()

    rec.wait(lambda: rec.statuses.count("resync") == 2 and rec.statuses[-1] == "in-sync",
             what="re-list after compaction")
    diff = rec.updates[n_before:]
    assert {(u.key, u.value) for u in diff} == {
        (RES + "ippools/k0", b"changed"),
        (RES + "ippools/k1", b"v1"),
        (RES + "ippools/k2", None),
        (RES + "ippools/new", b"n"),
    }
    assert len(diff) == 4
    assert rec.batches[-1] == diff  # one batch
    assert "disconnected" in rec.statuses
    assert syncer.revision == rev

    ds.kv.put(RES + "ippools/after", b"a")
    rec.wait(lambda: rec.updates[-1].key == RES + "ippools/after", what="watch after re-list")


def test_stop_ends_thread(ds):
    rec = Recorder()
    s = Syncer(ds, [RES], rec.on_updates, rec.on_status).start()
    rec.wait(lambda: "in-sync" in rec.statuses)
    s.stop()
    assert not s._thread.is_alive()


def test_callback_error_ends_syncer_and_is_kept(ds):
    def boom(batch):
        raise RuntimeError("consumer broke")

    statuses = []
    ds.kv.put(RES + "ippools/p1", b"1")
    s = Syncer(ds, [RES], boom, statuses.append).start()
    s._thread.join(10)
    assert not s.is_alive()
    assert isinstance(s.error, RuntimeError)
    s.stop()
