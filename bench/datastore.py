"""Datastore benchmark: create N WorkloadEndpoints, list them back, and measure the watch
delivery rate through the Syncer while writers write.

Starts its own single-member etcd (the test harness's EtcdServer) on a free loopback port
with a temp data dir, so it never touches a shared etcd. Each figure is printed next to a
floor measured in the same run:

* create:  `EtcdDatastore.create` (serialise, txn version==0, decode the stored object)
           vs raw `kv.put` of the same JSON values to the same number of keys;
* list:    `EtcdDatastore.list` (range read + JSON + model load and validation)
           vs raw `kv.get_prefix` and vs `kv.get_prefix` + `json.loads`;
* watch:   events/s delivered by a Syncer while `--writers` threads put N updates
           vs a bare watch stream counting the same burst.

Usage: .venv/bin/python bench/datastore.py [--count 10000] [--writers 4]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from libcalico_py import model  # noqa: E402
from libcalico_py.datastore import keys  # noqa: E402
from libcalico_py.datastore.config import DatastoreConfig  # noqa: E402
from libcalico_py.datastore.etcd import EtcdDatastore  # noqa: E402
from libcalico_py.datastore.syncer import Syncer  # noqa: E402
from tests.fixtures.etcd import EtcdServer  # noqa: E402


def make_weps(n: int) -> list:
    out = []
    for i in range(n):
        node = f"node{i % 50}"
        pod = f"pod-{i}"
        ns = f"ns{i % 100}"
        ip = f"10.{64 + i // 65536}.{(i // 256) % 256}.{i % 256}/32"
        out.append(model.load({
            "apiVersion": "projectcalico.org/v3", "kind": "WorkloadEndpoint",
            "metadata": {"name": f"{node}-k8s-{pod}-eth0", "namespace": ns,
                         "labels": {"app": f"app{i % 20}", "projectcalico.org/namespace": ns,
                                    "projectcalico.org/orchestrator": "k8s"}},
            "spec": {"orchestrator": "k8s", "node": node, "pod": pod, "endpoint": "eth0",
                     "workload": pod, "interfaceName": f"cali{i:011x}", "ipNetworks": [ip],
                     "profiles": [f"kns.{ns}"]},
        }))
    return out


def rate(n: int, seconds: float) -> str:
    return f"{seconds:7.2f} s  {n / seconds:9.0f} /s"


def bench_create_list(ds: EtcdDatastore, weps: list) -> None:
    n = len(weps)
    values = [json.dumps(w.to_dict(), separators=(",", ":")).encode() for w in weps]
    t = time.perf_counter()
    for i, v in enumerate(values):
        ds.kv.put(f"/bench/raw/{i:06d}", v)
    floor_put = time.perf_counter() - t

    t = time.perf_counter()
    for w in weps:
        ds.create(w)
    create = time.perf_counter() - t

    prefix = keys.resource_prefix("WorkloadEndpoint")
    t = time.perf_counter()
    kvs, _ = ds.kv.get_prefix(prefix)
    floor_range = time.perf_counter() - t
    t = time.perf_counter()
    for kv in kvs:
        json.loads(kv.value)
    floor_json = time.perf_counter() - t + floor_range

    t = time.perf_counter()
    items, _ = ds.list("WorkloadEndpoint")
    list_time = time.perf_counter() - t
    assert len(items) == n, (len(items), n)

    print(f"create {n} WorkloadEndpoints (serial)     {rate(n, create)}")
    print(f"  floor: raw kv.put of the same values     {rate(n, floor_put)}"
          f"   (create = {create / floor_put:.1f}x floor)")
    print(f"list {n} WorkloadEndpoints                {rate(n, list_time)}")
    print(f"  floor: kv.get_prefix                     {rate(n, floor_range)}")
    print(f"  floor: kv.get_prefix + json.loads        {rate(n, floor_json)}"
          f"   (list = {list_time / floor_json:.1f}x floor)")
    print(f"  mean stored value                        {sum(map(len, values)) / n:7.0f} bytes")
    ds.kv.delete_prefix("/bench/")


def burst(ds: EtcdDatastore, weps: list, writers: int, tag: str) -> tuple[float, float]:
    """Write one update per WEP with `writers` threads; returns (start, end) times."""
    chunks = [weps[i::writers] for i in range(writers)]

    def write(chunk):
        for w in chunk:
            d = w.to_dict()
            d["metadata"]["labels"]["burst"] = tag
            ds.kv.put(keys.resource_key("WorkloadEndpoint", w.metadata.name, w.metadata.namespace),
                      json.dumps(d, separators=(",", ":")))

    threads = [threading.Thread(target=write, args=(c,)) for c in chunks]
    start = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return start, time.perf_counter()


def bench_watch(ds: EtcdDatastore, writer_ds: EtcdDatastore, weps: list, writers: int) -> None:
    n = len(weps)
    prefix = keys.resource_prefix("WorkloadEndpoint")

    # Floor: a bare watch stream counting events.
    rev = ds.kv.revision()
    stream = ds.kv.watch(prefix, start_revision=rev + 1)
    seen = 0
    done = threading.Event()
    last = [0.0]

    def count():
        nonlocal seen
        for resp in stream:
            seen += len(resp.events)
            if seen >= n:
                last[0] = time.perf_counter()
                done.set()
                return

    th = threading.Thread(target=count, daemon=True)
    th.start()
    start, write_end = burst(writer_ds, weps, writers, "floor")
    done.wait(120)
    stream.cancel()
    bare = last[0] - start
    write_time = write_end - start

    # The Syncer over the same burst.
    got = 0
    synced = threading.Event()
    finished = threading.Event()
    end = [0.0]

    def on_updates(batch):
        nonlocal got
        if not synced.is_set():
            return  # the initial list
        got += len(batch)
        if got >= n:
            end[0] = time.perf_counter()
            finished.set()

    def on_status(status):
        if status == "in-sync":
            synced.set()

    t = time.perf_counter()
    syncer = Syncer(ds, [prefix], on_updates, on_status).start()
    synced.wait(60)
    initial = time.perf_counter() - t
    start, syncer_write_end = burst(writer_ds, weps, writers, "syncer")
    finished.wait(120)
    syncer.stop()
    delivered = end[0] - start

    print(f"writers: {writers} threads put {n} updates     {rate(n, write_time)}")
    print(f"Syncer initial list of {n} keys to in-sync {initial:7.2f} s")
    print(f"Syncer watch delivery, {n} events          {rate(n, delivered)}"
          f"   (last event {max(0.0, end[0] - syncer_write_end) * 1000:.0f} ms after last write)")
    print(f"  floor: bare watch stream, same burst     {rate(n, bare)}"
          f"   (syncer = {(n / delivered) / (n / bare) * 100:.0f}% of floor rate)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--writers", type=int, default=4)
    args = ap.parse_args()

    server = EtcdServer(extra_args=["--quota-backend-bytes", str(4 * 1024 ** 3)]).start()
    try:
        cfg = DatastoreConfig([server.endpoint])
        with EtcdDatastore(cfg) as ds, EtcdDatastore(cfg) as writer_ds:
            t = time.perf_counter()
            weps = make_weps(args.count)
            print(f"etcd {server.endpoint}; build {args.count} WEP objects (model.load) "
                  f"{time.perf_counter() - t:.2f} s")
            bench_create_list(ds, weps)
            bench_watch(ds, writer_ds, weps, args.writers)
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()
