"""B4: cold start to first complete programming, then watch throughput under a burst.

etcd (inside a node namespace) is preloaded with 10,000 WorkloadEndpoints (200 on this node,
each on a real cali veth), 1,000 NetworkPolicies (5 rules, selector peers) and 100 Profiles.
Then felixpy starts and we time start -> in sync -> first complete programming (readiness),
read its peak RSS, and write a burst of 10,000 WEP label updates from 4 writers while polling
the agent's metrics (updates processed, revision reached). Floors in the same run: one range
read of the whole prefix (list time) and a bare watcher (the same Syncer) counting the burst.

    .venv/bin/python bench/felix_coldstart.py [--backend nft|legacy] [--endpoints 10000] [--local 200]
                                              [--policies 1000] [--burst 10000]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from libcalico_py import model  # noqa: E402
from libcalico_py.datastore.keys import RESOURCE_PREFIX, resource_key  # noqa: E402
from tests.dataplane.felixpy.felix_cluster import FelixNode  # noqa: E402
from tests.fixtures.netns import NetnsFactory  # noqa: E402

API = "projectcalico.org/v3"


class EtcdAgent:
    def __init__(self, ns: str, endpoint: str):
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable,
                                      os.path.join(ROOT, "bench", "felix_etcd_agent.py"), endpoint],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def __call__(self, **cmd) -> dict:
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(10)


def kv(doc: dict) -> list:
    r = model.load(doc)
    return [resource_key(r.kind, r.metadata.name, r.metadata.namespace), json.dumps(r.to_dict())]


def wep(i: int, node: str, iface: str, labels: dict) -> dict:
    ns = f"ns{i % 100}"
    return {"apiVersion": API, "kind": "WorkloadEndpoint",
            "metadata": {"name": f"{node}-k8s-pod{i}-eth0", "namespace": ns, "labels": labels},
            "spec": {"orchestrator": "k8s", "node": node, "pod": f"pod{i}", "endpoint": "eth0",
                     "interfaceName": iface, "ipNetworks": [f"10.{64 + i // 65536}.{i // 256 % 256}.{i % 256}/32"],
                     "profiles": [f"kns.{ns}"]}}


def dataset(n_eps: int, n_local: int, n_pols: int, n_profiles: int = 100):
    items, local_ifaces = [], []
    for i in range(n_eps):
        local = i < n_local
        iface = f"calib4{i:09d}" if local else f"calir{i:010d}"
        if local:
            local_ifaces.append(iface)
        items.append(kv(wep(i, "node1" if local else f"node{2 + i % 50}", iface,
                            {"app": f"app{i % 100}", "tier": f"t{i % 7}"})))
    for p in range(n_profiles):
        items.append(kv({"apiVersion": API, "kind": "Profile", "metadata": {"name": f"kns.ns{p}"},
                         "spec": {"ingress": [{"action": "Allow"}], "egress": [{"action": "Allow"}]}}))
    for i in range(n_pols):
        rules = [{"action": "Allow", "protocol": "TCP", "source": {"selector": f"app == 'app{(i + k) % 100}'"},
                  "destination": {"ports": [1000 + k]}} for k in range(5)]
        items.append(kv({"apiVersion": API, "kind": "NetworkPolicy",
                         "metadata": {"name": f"pol{i}", "namespace": f"ns{i % 100}"},
                         "spec": {"selector": f"app == 'app{i % 100}'", "order": i, "ingress": rules}}))
    return items, local_ifaces


def log_seconds(path: str, pattern: str) -> float | None:
    with open(path, errors="replace") as fh:
        m = re.search(pattern, fh.read())
    return float(m.group(1)) if m else None


def metrics(node) -> dict:
    body = node.http(node.metrics_port, "/metrics")[1]
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^(\w+) (\S+)$", body, re.M)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", default="nft", choices=["nft", "legacy", "legacy-iptc"])
    ap.add_argument("--endpoints", type=int, default=10000)
    ap.add_argument("--local", type=int, default=200)
    ap.add_argument("--policies", type=int, default=1000)
    ap.add_argument("--burst", type=int, default=10000)
    args = ap.parse_args()
    factory = NetnsFactory(f"b4-{os.getpid()}-")
    agent = None
    node = None
    try:
        node = FelixNode(factory, backend=args.backend, env={"FELIX_ROUTEREFRESHINTERVAL": "0"})
        items, ifaces = dataset(args.endpoints, args.local, args.policies)
        batch = "".join(f"link add {n} type veth peer name p{n[4:]}\nlink set {n} up\nlink set p{n[4:]} up\n"
                        for n in ifaces)
        subprocess.run(["ip", "-n", node.ns, "-batch", "-"], input=batch, text=True, check=True)
        agent = EtcdAgent(node.ns, node.etcd.endpoint)
        load = agent(op="put_many", items=items)
        listing = agent(op="list_time", prefix=RESOURCE_PREFIX)
        print(f"B4 cold start ({args.backend}): {args.endpoints} WEPs ({args.local} local on veths), "
              f"{args.policies} policies, 100 profiles; {len(items)} keys loaded in {load['seconds']:.2f}s")
        t0 = time.monotonic()
        node.start_felix()
        node.wait_ready(timeout=300)
        ready = time.monotonic() - t0
        rss_kb = int(re.search(r"VmHWM:\s+(\d+)", open(f"/proc/{node.felix.pid}/status").read()).group(1))
        in_sync = log_seconds(node.log_path, r"datastore in sync after ([\d.]+)s")
        first = log_seconds(node.log_path, r"first complete dataplane programming done ([\d.]+)s")
        filter_rules = node.iptables_save().count("\n-A ")
        print(f"  floor: list of {listing['count']} keys            {listing['seconds']:7.3f} s")
        print(f"  start -> in sync (agent clock)            {in_sync:7.3f} s")
        print(f"  start -> first apply done (agent clock)   {first:7.3f} s   (in sync -> applied "
              f"{first - in_sync:.3f} s, {filter_rules} filter rules)")
        print(f"  spawn -> readiness 200 (incl. interpreter) {ready:7.3f} s   goal <= 10 s")
        print(f"  peak RSS                                  {rss_kb / 1024:7.1f} MB")

        agent(op="watch_start", prefix=RESOURCE_PREFIX)
        before = metrics(node)
        burst = [kv(wep(i, f"node{2 + i % 50}", f"calir{i:010d}", {"app": f"app{(i * 7 + 3) % 100}", "tier": "b"}))
                 for i in range(args.local, args.local + args.burst)]
        burst = (burst * (args.burst // max(1, len(burst)) + 1))[:args.burst]
        b = agent(op="burst", items=burst, writers=4)
        samples = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            m = metrics(node)
            samples.append((time.time(), m["felix_datastore_revision"], m["felix_datastore_updates"]))
            if m["felix_datastore_revision"] >= b["rev"]:
                break
            time.sleep(0.05)
        caught_up = samples[-1][0]
        ev = agent(op="watch_events")["events"]
        watcher_done = max(t for _, _, t in ev) if ev else b["t1"]
        agent_updates = samples[-1][2] - before["felix_datastore_updates"]
        writer_rate = args.burst / b["seconds"]
        watcher_rate = len(ev) / max(1e-6, watcher_done - b["t0"])
        agent_rate = agent_updates / max(1e-6, caught_up - b["t0"])
        lag_at_end = caught_up - b["t1"]
        print(f"  burst: {args.burst} WEP updates by 4 writers in {b['seconds']:.2f}s ({writer_rate:.0f}/s)")
        print(f"  floor: bare watcher {len(ev)} events, {watcher_rate:7.0f} ev/s (done {watcher_done - b['t1']:+.2f}s "
              f"after the last write)")
        print(f"  agent: {agent_updates:.0f} updates, {agent_rate:7.0f} ev/s, caught up {lag_at_end:+.2f}s after the "
              f"last write; ratio agent/watcher {agent_rate / watcher_rate:.2f} (goal >= 0.90)")
    finally:
        if agent:
            agent.close()
        if node:
            node.close()
        factory.cleanup()


if __name__ == "__main__":
    main()
