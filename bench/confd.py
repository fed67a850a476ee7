"""B7: confd render -> BIRD reload (see shared/reference/benchmarks.md), plus the time
from a block affinity written to etcd until its route is in another node's kernel table.

Lab (all in throwaway namespaces, nothing in the root namespace but a loopback TCP
proxy to etcd): a fabric bridge with etcd; node1 and node2 each run a real BIRD 2.
node1's confdpy is the `BgpWatcher` run in this process so each pass can be timed step
by step; node2 is configured once by `confdpy --onetime` (run in its namespace) and then
left alone, so on the 2-core VM its BIRD is not reconfiguring at the same moment as
node1's (the e2e tests cover the long-running confdpy process). The rest
of the mesh are Node objects with addresses nobody answers (their sessions stay in
Connect/Active), so BIRD carries N mesh peers.

Workload per size N (10, 100, 500 mesh peers): 5 IP pools, 500 block affinities of
node1. Events, each repeated --reps times: node added (one more mesh peer), BGPPeer
added (a global peer), pool disabled/enabled, no-op update (a Node re-written with the
same content).

Reported per event: p50 of etcd put -> BIRD acknowledged `configure` (total), and its
parts: render (model + templates), files (compare + stage + swap), check (`bird -p`),
reload (`configure` over the socket); the rest of the total is the etcd write, the
watch delivery and the snapshot update. Floor, same run, same files, same transition:
BIRD is put back on the previous files, then `bird -p -c CONFDIR/bird.cfg` plus
`birdc -s SOCK configure` of it, both invoked directly, are timed; overhead = total -
floor. For no-op updates: whether any file was written or BIRD reconfigured (BIRD's own
"Last reconfiguration" time). For every event: whether any protocol that was up (the
established node1<->node2 session, device, kernel, static) restarted.

Then the affinity -> kernel route latency (p50 over --affinity-reps writes), measured
with `ip monitor route` in node2's namespace, at the 10-peer size.

Usage: .venv/bin/python bench/confd.py [--sizes 10 100 500] [--reps 5] [--affinity-reps 20]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from confdpy.passwords import SecretStore  # noqa: E402
from confdpy.sync import ConfigWriter  # noqa: E402
from confdpy.watcher import BgpWatcher, ConfdPipeline, load_snapshot  # noqa: E402
from libcalico_py import model  # noqa: E402
from libcalico_py.datastore import keys  # noqa: E402
from libcalico_py.datastore.config import DatastoreConfig  # noqa: E402
from libcalico_py.datastore.etcd import EtcdDatastore  # noqa: E402
from tests.e2e.confd.bgp_lab import BgpLab, restarted, wait_for  # noqa: E402
from tests.fixtures.netns import NetnsFactory  # noqa: E402

AFFINITY = json.dumps({"state": "confirmed", "deleted": False})
POOLS = [f"10.{64 + i}.0.0/16" for i in range(5)]


def res(kind, name, spec, labels=None):
    md = {"name": name, **({"labels": labels} if labels else {})}
    return model.load({"apiVersion": "projectcalico.org/v3", "kind": kind, "metadata": md, "spec": spec})


def fake_ip(i: int) -> str:
    return f"10.1.{i // 250}.{i % 250 + 1}"


class PassWaiter:
    """Collects node1 watcher passes so a write can wait for the pass it caused."""

    def __init__(self):
        self.cond = threading.Condition()
        self.results = []

    def __call__(self, result):
        with self.cond:
            self.results.append((time.perf_counter(), result))
            self.cond.notify_all()

    def mark(self) -> int:
        with self.cond:
            return len(self.results)

    def wait_after(self, mark: int, timeout: float = 60):
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.results) <= mark:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no confdpy pass after the write")
                self.cond.wait(left)
            return self.results[-1]

    def quiesce(self, quiet: float = 0.3):
        while True:
            m = self.mark()
            time.sleep(quiet)
            if self.mark() == m:
                return


def save_previous(node, prev_dir: str) -> None:
    shutil.rmtree(prev_dir, ignore_errors=True)
    shutil.copytree(node.confdir, prev_dir)


def floor(node, prev_dir: str) -> float:
    """Raw tools doing the same transition confdpy just did: BIRD is first put back on
    the previous files (untimed), then `bird -p -c CONFDIR/bird.cfg` and
    `birdc configure "CONFDIR/bird.cfg"` are timed. (Configuring the unchanged file
    again would be cheaper than what confdpy had to do.)"""
    cfg = os.path.join(node.confdir, "bird.cfg")
    subprocess.run(["birdc", "-s", node.socket, "configure", f'"{prev_dir}/bird.cfg"'], check=True,
                   capture_output=True)
    time.sleep(0.2)
    t = time.perf_counter()
    subprocess.run(["bird", "-p", "-c", cfg], check=True, capture_output=True)
    subprocess.run(["birdc", "-s", node.socket, "configure", f'"{cfg}"'], check=True, capture_output=True)
    return time.perf_counter() - t


def p50(xs):
    return statistics.median(xs) if xs else float("nan")


def protocol_since(node) -> dict[str, str]:
    """Established/up protocols -> their `since` (state-change time)."""
    return {p.name: p.since for p in node.client.show_protocols() if p.state == "up"}


def run_size(lab, ds, n1, n2, waiter, size, reps, next_ids):
    # grow the mesh to `size` peers of node1: node2 + fake nodes
    for _ in range(len(ds.list("Node")[0]) - 1, size):
        i = next_ids["node"]
        next_ids["node"] += 1
        ds.create(res("Node", f"fake{i}", {"bgp": {"ipv4Address": f"{fake_ip(i)}/16"}}))
    waiter.quiesce(1.0)
    wait_for(lambda: "Mesh_10_0_0_2" in n1.established(), 60, "node1<->node2 session")
    print(f"\n== {size} mesh peers (5 pools, 500 affinities on node1) ==")
    rows = []

    def event(name, write, expect_change=True):
        totals, renders, checks, reloads, floors, flaps, files = [], [], [], [], [], [], []
        for _ in range(reps):
            before = protocol_since(n1)
            status_before = n1.client.show_status().last_reconfiguration
            prev_dir = os.path.join(lab.tmp, "prev-config")
            save_previous(n1, prev_dir)
            mark = waiter.mark()
            t0 = time.perf_counter()
            write()
            t_done, result = waiter.wait_after(mark)
            if isinstance(result, Exception):
                raise result
            totals.append(t_done - t0)
            renders.append(result.render_seconds)
            checks.append(result.sync.timings.get("check", 0.0))
            files.append(sum(result.sync.timings.get(k, 0.0) for k in ("compare", "stage", "swap")))
            reloads.append(result.sync.timings.get("reload", 0.0))
            if expect_change:
                floors.append(floor(n1, prev_dir))
                waiter.quiesce(0.2)
            else:
                assert result.sync.changed == () and not result.sync.reloaded, result.sync
                assert n1.client.show_status().last_reconfiguration == status_before
            after = protocol_since(n1)
            flapped = restarted(before, after) + sorted(set(before) - set(after))
            if flapped:
                print(f"  {name}: {[(k, before[k], after[k]) for k in flapped][:3]} "
                      f"last reboot {n1.client.show_status().last_reboot}", flush=True)
            flaps.append(flapped)
        rows.append((name, totals, renders, files, checks, reloads, floors, flaps))

    def add_node():
        i = next_ids["node"]
        next_ids["node"] += 1
        ds.create(res("Node", f"fake{i}", {"bgp": {"ipv4Address": f"{fake_ip(i)}/16"}}))

    def add_peer():
        i = next_ids["peer"]
        next_ids["peer"] += 1
        ds.create(res("BGPPeer", f"peer{i}", {"peerIP": f"10.2.{i // 250}.{i % 250 + 1}", "asNumber": 65000}))

    def toggle_pool():
        pool = ds.get("IPPool", "pool4")
        doc = pool.to_dict()
        doc["spec"]["disabled"] = not doc["spec"].get("disabled", False)
        ds.update(model.load(doc))

    def noop():
        node = ds.get("Node", "node2")
        ds.update(node)

    event("node added", add_node)
    event("BGPPeer added", add_peer)
    event("pool disabled/enabled", toggle_pool)
    event("no-op update", noop, expect_change=False)

    print(f"{'event':24} {'total p50':>10} {'render':>8} {'files':>8} {'check':>8} {'reload':>8} "
          f"{'floor':>8} {'overhead':>9}  flapped")
    for name, totals, renders, files, checks, reloads, floors, flaps in rows:
        fl = p50(floors)
        over = p50(totals) - fl if floors else float("nan")
        flapped = sorted({x for f in flaps for x in f})
        print(f"{name:24} {p50(totals)*1e3:8.1f}ms {p50(renders)*1e3:6.1f}ms {p50(files)*1e3:6.1f}ms "
              f"{p50(checks)*1e3:6.1f}ms "
              f"{p50(reloads)*1e3:6.1f}ms {fl*1e3:6.1f}ms {over*1e3:7.1f}ms  {flapped or 'none'}")
    noop_row = rows[-1]
    print(f"no-op update: files written 0, BIRD reconfigured 0 (asserted over {len(noop_row[1])} updates)")


def affinity_latency(lab, ds, n2, reps):
    proc = subprocess.Popen(["ip", "-n", n2.ns, "monitor", "route"], stdout=subprocess.PIPE,
                            text=True, bufsize=1)
    seen: dict[str, float] = {}
    cond = threading.Condition()

    def reader():
        for line in proc.stdout:
            t = time.perf_counter()
            parts = line.split()
            if parts and "/" in parts[0] and not line.startswith("Deleted"):
                with cond:
                    seen.setdefault(parts[0], t)
                    cond.notify_all()

    threading.Thread(target=reader, daemon=True).start()
    time.sleep(0.5)
    lat = []
    try:
        for i in range(reps):
            cidr = f"10.64.{200 + i // 4}.{(i % 4) * 64}/26"
            t0 = time.perf_counter()
            ds.kv.put(keys.affinity_key("node1", cidr), AFFINITY)
            with cond:
                if not cond.wait_for(lambda: cidr in seen, 30):
                    raise TimeoutError(f"{cidr} never reached node2's kernel")
            lat.append(seen[cidr] - t0)
            time.sleep(0.1)
    finally:
        proc.kill()
        proc.wait()
    lat.sort()
    print(f"\n== block affinity written -> route in node2's kernel (over {reps}) ==")
    print(f"p50 {p50(lat)*1e3:.1f} ms  min {lat[0]*1e3:.1f} ms  max {lat[-1]*1e3:.1f} ms")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 500])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--affinity-reps", type=int, default=20)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/confd.py needs root (network namespaces)")

    tmp = tempfile.mkdtemp(prefix="bench-confd-")
    netns = NetnsFactory(f"bc{os.getpid()}x-")
    lab = BgpLab(netns, tmp)
    watcher = ds = None
    try:
        endpoint = lab.start_etcd()
        ds = EtcdDatastore(DatastoreConfig(endpoints=[endpoint]))
        n1, n2 = lab.add_node(1), lab.add_node(2)
        for n in (n1, n2):
            ds.create(res("Node", n.name, {"bgp": {"ipv4Address": f"{n.ip}/24"}}))
        for i, cidr in enumerate(POOLS):
            ds.create(res("IPPool", f"pool{i}", {"cidr": cidr}))
        for i in range(500):
            pool = i % 5
            ds.kv.put(keys.affinity_key("node1", f"10.{64 + pool}.{i // 5}.0/26"), AFFINITY)
        ds.kv.put(keys.affinity_key("node2", "10.64.250.0/26"), AFFINITY)

        # node1: rendered once, BIRD started, then the in-process watcher
        pipeline = ConfdPipeline("node1", ConfigWriter(n1.confdir), None, SecretStore())
        pipeline.run_once(load_snapshot(ds, "node1"))
        n1.bird = netns.spawn(n1.ns, ["bird", "-f", "-c", os.path.join(n1.confdir, "bird.cfg"),
                                      "-s", n1.socket], stdout=open(os.path.join(tmp, "bird1.log"), "ab"),
                              stderr=subprocess.STDOUT)
        wait_for(lambda: os.path.exists(n1.socket), 10, "node1 BIRD socket")
        waiter = PassWaiter()
        watcher = BgpWatcher(ds, ConfdPipeline("node1", ConfigWriter(n1.confdir, n1.socket), None,
                                               SecretStore()), on_pass=waiter)
        threading.Thread(target=watcher.run, daemon=True).start()
        # node2: rendered once and BIRD started, no confdpy afterwards, so its BIRD does
        # not reconfigure at the same moment as node1's and skew node1's timings.
        subprocess.run(["ip", "netns", "exec", n2.ns, *n2.confd_argv("--onetime")], check=True,
                       capture_output=True, timeout=60)
        netns.spawn(n2.ns, ["bird", "-f", "-c", os.path.join(n2.confdir, "bird.cfg"), "-s", n2.socket],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: os.path.exists(n2.socket), 10, "node2 BIRD socket")
        wait_for(lambda: "Mesh_10_0_0_1" in n2.established(), 60, "node2 session")
        waiter.quiesce(1.0)

        print(f"node1 BIRD started {n1.client.show_status().last_reboot}")
        next_ids = {"node": 0, "peer": 0}
        for size in sorted(args.sizes):
            run_size(lab, ds, n1, n2, waiter, size, args.reps, next_ids)
            if size == min(args.sizes):
                affinity_latency(lab, ds, n2, args.affinity_reps)
    finally:
        if watcher is not None:
            watcher.stop()
            time.sleep(0.2)
        if ds is not None:
            ds.close()
        netns.cleanup()
        lab.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
