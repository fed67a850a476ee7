"""B3: incremental change latency, etcd write -> kernel -> packet verdict.

A node namespace (etcd + felixpy) with a client and a server pod, a background of 2,000
remote WorkloadEndpoints and 200 NetworkPolicies (these select only remote endpoints, so
they load the calculation graph but program nothing here). Then N events of each kind:
  label   : the client's label moves it in/out of the server policy's source selector
  rule    : the server policy's only rule flips Deny <-> Allow
  delete  : an Allow policy in front of a Deny policy is deleted (and re-created: "add")
  pod     : a new pod (netns + veth + IP already wired) gets its WorkloadEndpoint; ICMP to it
For each: put -> bare watcher sees it (the floor), put -> agent finished the apply that
carries it (its log timestamp), put -> probe verdict flips (TCP connects / pings every 10 ms).
Also the iptables/ipset lines the agent wrote per event, and the kernel floors: one
`ipset add` and a one-chain `iptables-restore --noflush`.

    .venv/bin/python bench/felix_latency.py [--backend nft|legacy] [--events 50] [--pods 20]
"""
from __future__ import annotations

import argparse
import datetime
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

from felix_coldstart import API, EtcdAgent, kv, wep  # noqa: E402
from libcalico_py.datastore.keys import RESOURCE_PREFIX, resource_key  # noqa: E402
from tests.dataplane.felixpy.felix_cluster import FelixNode  # noqa: E402
from tests.fixtures.netns import NetnsFactory  # noqa: E402

_LOG_TS = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) \[\w+\] (\S+): (.*)$")


def log_entries(path: str, offset: int):
    with open(path, errors="replace") as fh:
        fh.seek(offset)
        data = fh.read()
        end = fh.tell()
    out = []
    for line in data.splitlines():
        m = _LOG_TS.match(line)
        if m:
            t = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()
            out.append((t, m.group(2), m.group(3)))
    return out, end


def pct(values, q):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]


class Bench:
    def __init__(self, node: FelixNode, agent: EtcdAgent):
        self.node, self.agent = node, agent
        self.client, self.server = node.pods["client"], node.pods["server"]
        self.log_offset = os.path.getsize(node.log_path)
        self.results: dict[str, dict[str, list]] = {}

    def put(self, doc: dict) -> dict:
        key, value = kv(doc)
        return self.agent(op="put", key=key, value=value) | {"key": key}

    def delete(self, kind: str, name: str, namespace: str | None) -> dict:
        key = resource_key(kind, name, namespace)
        return self.agent(op="delete", key=key) | {"key": key}

    def wait_verdict(self, allowed: bool, target=None, proto="tcp", timeout=10.0) -> float:
        dst = target or self.server
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.client.can(proto, dst, 8080, timeout=0.01) == allowed:
                return time.time()
        raise RuntimeError(f"verdict did not flip to {allowed} within {timeout}s\n{self.node.log_tail()}")

    def record(self, kind: str, put: dict, t_flip: float) -> None:
        time.sleep(0.05)
        entries, self.log_offset = log_entries(self.node.log_path, self.log_offset)
        applied = [t for t, name, msg in entries if name == "felixpy.dataplane.loop" and msg.startswith("dataplane applied")
                   and t >= put["t0"] - 0.001]
        lines = sum(int(m.group(1)) for _, name, msg in entries
                    for m in [re.search(r"\((\d+) lines\)$", msg)] if m and name.endswith((".table", ".ipsets")))
        events = self.agent(op="watch_events")["events"]
        seen = [t for key, rev, t in events if key == put["key"] and rev >= put["rev"]] if "rev" in put else \
            [t for key, rev, t in events if key == put["key"] and t >= put["t0"]]
        r = self.results.setdefault(kind, {"watch": [], "kernel": [], "verdict": [], "lines": []})
        if seen:
            r["watch"].append(seen[0] - put["t0"])
        if applied:
            r["kernel"].append(applied[0] - put["t0"])
        r["verdict"].append(t_flip - put["t0"])
        r["lines"].append(lines)

    # ------------------------------------------------------------- event kinds

    def labels(self, n: int) -> None:
        self.put({"apiVersion": API, "kind": "NetworkPolicy", "metadata": {"name": "clients", "namespace": "default"},
                  "spec": {"selector": "app == 'server'", "ingress": [
                      {"action": "Allow", "source": {"selector": "role == 'client'"}}]}})
        self.wait_verdict(False)
        for i in range(n):
            on = i % 2 == 0
            labels = {"app": "client", **({"role": "client"} if on else {})}
            self.client.labels = labels
            put = self.put(self.client.wep_doc())
            self.record("label", put, self.wait_verdict(on))
        self.delete("NetworkPolicy", "clients", "default")
        self.wait_verdict(True)

    def rules(self, n: int) -> None:
        def pol(action):
            return {"apiVersion": API, "kind": "NetworkPolicy", "metadata": {"name": "flip", "namespace": "default"},
                    "spec": {"selector": "app == 'server'", "ingress": [{"action": action}]}}
        self.put(pol("Deny"))
        self.wait_verdict(False)
        for i in range(n):
            allow = i % 2 == 0
            put = self.put(pol("Allow" if allow else "Deny"))
            self.record("rule", put, self.wait_verdict(allow))
        self.delete("NetworkPolicy", "flip", "default")
        self.wait_verdict(True)

    def deletes(self, n: int) -> None:
        allow = {"apiVersion": API, "kind": "NetworkPolicy", "metadata": {"name": "allow", "namespace": "default"},
                 "spec": {"selector": "app == 'server'", "order": 10, "ingress": [{"action": "Allow"}]}}
        self.put({"apiVersion": API, "kind": "NetworkPolicy", "metadata": {"name": "deny", "namespace": "default"},
                  "spec": {"selector": "app == 'server'", "order": 2000, "ingress": [{"action": "Deny"}]}})
        self.put(allow)
        self.wait_verdict(True)
        for _ in range(n // 2):
            put = self.delete("NetworkPolicy", "allow", "default")
            self.record("delete", put, self.wait_verdict(False))
            put = self.put(allow)
            self.record("add", put, self.wait_verdict(True))
        self.delete("NetworkPolicy", "deny", "default")
        self.delete("NetworkPolicy", "allow", "default")
        self.wait_verdict(True)

    def pods(self, n: int) -> None:
        f, node = self.node.factory, self.node
        for i in range(n):
            ip = f"10.66.0.{10 + i}"
            iface = f"calib3p{i:07d}"
            ns = f(f"p{i}")
            f.veth(node.ns, iface, ns, "eth0")
            f.run(ns, "ip", "addr", "add", f"{ip}/32", "dev", "eth0")
            f.run(ns, "ip", "route", "add", "169.254.1.1", "dev", "eth0", "scope", "link")
            f.run(ns, "ip", "route", "add", "default", "via", "169.254.1.1", "dev", "eth0")
            self.wait_verdict(False, target=ip, proto="icmp")
            doc = {"apiVersion": API, "kind": "WorkloadEndpoint",
                   "metadata": {"name": f"node1-k8s-new{i}-eth0", "namespace": "default", "labels": {"app": "new"}},
                   "spec": {"orchestrator": "k8s", "node": "node1", "pod": f"new{i}", "endpoint": "eth0",
                            "interfaceName": iface, "ipNetworks": [f"{ip}/32"], "profiles": ["kns.default"]}}
            put = self.put(doc)
            self.record("pod", put, self.wait_verdict(True, target=ip, proto="icmp"))


def kernel_floors(node: FelixNode) -> tuple[float, float]:
    f = node.factory
    f.run(node.ns, "ipset", "create", "b3floor", "hash:net")
    binary = f"iptables-{'nft' if node.backend == 'nft' else 'legacy'}-restore"
    t_ipset, t_restore = [], []
    for i in range(20):
        t0 = time.perf_counter()
        f.run(node.ns, "ipset", "add", "b3floor", f"10.99.0.{i}")
        t_ipset.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        f.run(node.ns, binary, "--noflush", input=f"*filter\n:b3floor - [0:0]\n-A b3floor -s 10.99.0.{i} -j ACCEPT\nCOMMIT\n")
        t_restore.append(time.perf_counter() - t0)
    return statistics.median(t_ipset), statistics.median(t_restore)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", default="nft", choices=["nft", "legacy", "legacy-iptc"])
    ap.add_argument("--events", type=int, default=50)
    ap.add_argument("--pods", type=int, default=20)
    ap.add_argument("--background-endpoints", type=int, default=2000)
    ap.add_argument("--background-policies", type=int, default=200)
    args = ap.parse_args()
    factory = NetnsFactory(f"b3-{os.getpid()}-")
    node = agent = None
    try:
        node = FelixNode(factory, backend=args.backend)
        node.allow_all_profile("default")
        agent = EtcdAgent(node.ns, node.etcd.endpoint)
        bg = [kv(wep(i, f"node{2 + i % 50}", f"calir{i:010d}", {"app": f"bg{i % 100}"}))
              for i in range(args.background_endpoints)]
        bg += [kv({"apiVersion": API, "kind": "NetworkPolicy", "metadata": {"name": f"bg{i}", "namespace": f"ns{i % 100}"},
                   "spec": {"selector": f"app == 'bg{i % 100}'", "ingress": [
                       {"action": "Allow", "source": {"selector": f"app == 'bg{(i + 1) % 100}'"}}]}})
               for i in range(args.background_policies)]
        agent(op="put_many", items=bg)
        node.add_pod("client", "10.65.0.2", {"app": "client"})
        node.add_pod("server", "10.65.0.3", {"app": "server"})
        node.start_felix()
        node.wait_ready(timeout=120)
        agent(op="watch_start", prefix=RESOURCE_PREFIX)
        bench = Bench(node, agent)
        bench.wait_verdict(True)
        bench.labels(args.events)
        bench.rules(args.events)
        bench.deletes(args.events)
        bench.pods(args.pods)
        f_ipset, f_restore = kernel_floors(node)
        print(f"B3 etcd write -> kernel -> verdict ({args.backend}); background {args.background_endpoints} remote "
              f"WEPs, {args.background_policies} policies; ms, p50 / p99")
        print(f"{'event':8} {'n':>4} {'put->watch':>14} {'put->kernel':>14} {'put->verdict':>14} {'lines/event':>11}")
        for kind, r in bench.results.items():
            def fmt(v):
                return f"{pct(v, 50) * 1000:6.1f} /{pct(v, 99) * 1000:6.1f}"
            print(f"{kind:8} {len(r['verdict']):4d} {fmt(r['watch']):>14} {fmt(r['kernel']):>14} "
                  f"{fmt(r['verdict']):>14} {statistics.mean(r['lines']):11.1f}")
        print(f"floors: ipset add {f_ipset * 1000:.1f} ms, one-chain restore --noflush {f_restore * 1000:.1f} ms "
              f"(each incl. `ip netns exec` fork/exec); goals: kernel p99 <= 100 ms (label), verdict p99 <= 1 s")
    finally:
        if agent:
            agent.close()
        if node:
            node.close()
        factory.cleanup()


if __name__ == "__main__":
    main()
