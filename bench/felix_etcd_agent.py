"""Helper process for the felix benchmarks (B3, B4): etcd writes and a bare watcher, run
inside the node namespace (`ip netns exec <node> python bench/felix_etcd_agent.py <endpoint>`),
because etcd listens on that namespace's loopback.

One JSON command per stdin line, one JSON answer per line. Wall-clock times (time.time())
so they compare with the agent's log timestamps on the same host.
  {"op": "put", "key": k, "value": v}            -> {"t0", "t1", "rev"}
  {"op": "delete", "key": k}                     -> {"t0", "t1"}
  {"op": "put_many", "items": [[k, v], ...]}     -> {"seconds", "rev"}   (txns of 100)
  {"op": "burst", "items": [...], "writers": 4}  -> {"seconds", "rev", "t0", "t1"}
  {"op": "list_time", "prefix": p}               -> {"seconds", "count"}
  {"op": "watch_start", "prefix": p}             -> {}    bare watcher (the same Syncer felixpy uses)
  {"op": "watch_events"}                         -> {"events": [[key, rev, t], ...]} since start
  {"op": "revision"}                             -> {"rev"}
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from libcalico_py.datastore.config import DatastoreConfig  # noqa: E402
from libcalico_py.datastore.etcd import EtcdDatastore  # noqa: E402
from libcalico_py.datastore.syncer import Syncer  # noqa: E402


def main() -> None:
    ds = EtcdDatastore(DatastoreConfig(endpoints=[sys.argv[1]], request_timeout=10, retry_timeout=30))
    events: list = []
    lock = threading.Lock()
    syncer = None

    def on_updates(updates):
        t = time.time()
        with lock:
            events.extend((u.key, u.revision, t) for u in updates)

    for line in sys.stdin:
        cmd = json.loads(line)
        op = cmd["op"]
        out: dict = {}
        if op == "put":
            t0 = time.time()
            rev = ds.kv.put(cmd["key"], cmd["value"])
            out = {"t0": t0, "t1": time.time(), "rev": rev}
        elif op == "delete":
            t0 = time.time()
            ds.kv.delete(cmd["key"])
            out = {"t0": t0, "t1": time.time()}
        elif op == "put_many":
            t0 = time.perf_counter()
            items = cmd["items"]
            for i in range(0, len(items), 100):
                ds.kv.txn([], [("put", k, v) for k, v in items[i:i + 100]])
            out = {"seconds": time.perf_counter() - t0, "rev": ds.kv.revision()}
        elif op == "burst":
            items, n = cmd["items"], cmd.get("writers", 4)
            t0, p0 = time.time(), time.perf_counter()
            threads = [threading.Thread(target=lambda part: [ds.kv.put(k, v) for k, v in part],
                                        args=(items[i::n],)) for i in range(n)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            out = {"seconds": time.perf_counter() - p0, "rev": ds.kv.revision(), "t0": t0, "t1": time.time()}
        elif op == "list_time":
            t0 = time.perf_counter()
            kvs, _ = ds.kv.get_prefix(cmd["prefix"])
            out = {"seconds": time.perf_counter() - t0, "count": len(kvs)}
        elif op == "watch_start":
            syncer = Syncer(ds, [cmd["prefix"]], on_updates, lambda s: None, name="bare-watcher").start()
            while syncer.status != "in-sync":
                time.sleep(0.01)
            with lock:
                events.clear()
        elif op == "watch_events":
            with lock:
                out = {"events": list(events)}
        elif op == "revision":
            out = {"rev": ds.kv.revision()}
        print(json.dumps(out), flush=True)
    if syncer:
        syncer.stop(timeout=2)
    ds.close()


if __name__ == "__main__":
    main()
