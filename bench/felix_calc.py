"""B1: calculation-graph snapshot (pure Python, no I/O). See shared/reference/benchmarks.md.

Workloads (shaped like Felix's `calc_graph_bench_test.go`):
  tags          10,000 remote + 200 local endpoints, 1,000 GlobalNetworkPolicies x 5 rules
                with has(<marker>) selectors, 100 namespaces (profiles kns.*).
  tenants-1k    1,000 namespaces, 1 pod each (100 local), a per-namespace
  tenants-10k   10,000 ...                  "allow same namespace" NetworkPolicy.
Each run: feed policies, profiles, remote endpoints, local endpoints; in-sync; flush;
then delete the local endpoints and flush again.

Reported per workload: wall and CPU time (snapshot, and delete-locals; the CPU figure
is the useful one on a shared machine), output message counts,
peak RSS (each workload in its own process), tracemalloc peak (separate run), selector
evaluations, and the floor measured in the same process: json.loads of every value plus
inserting each endpoint's labels into a plain dict; ratio = time / floor.

Usage: .venv/bin/python bench/felix_calc.py [--repeat N] [tags tenants-1k tenants-10k]
(--repeat: best of N runs, each in a fresh process; useful on a shared machine)
"""
from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from felixpy.calc.graph import CalcGraph  # noqa: E402
from felixpy.calc.snapshot import delete_for, update_for  # noqa: E402
from libcalico_py.selector.selector import Selector  # noqa: E402

API = "projectcalico.org/v3"
LOCAL = "localhost"
MARKERS = [
    "FOO_BAR", "FOO_BAR", "BIFF_BOP", "calico/FizzBuzz", "calico/BoffBip", "calico/Bazzle",
    "calico/Razzle", "calico/DoopDeeDoo", "calico/SOME_LABEL", "calico/BORED_NOW",
    "MyMarkerLabel", "xFOO_BAR", "xBIFF_BOP", "xcalico/FizzBuzz", "xcalico/BoffBip",
    "xcalico/Bazzle", "xcalico/Razzle", "xcalico/DoopDeeDoo", "xcalico/SOME_LABEL",
    "xcalico/BORED_NOW", "yxMyMarkerLabel", "yxFOO_BAR", "yxBIFF_BOP", "yxcalico/FizzBuzz",
    "yxcalico/BoffBip", "yxcalico/Bazzle", "yxcalico/Razzle", "yxcalico/DoopDeeDoo",
    "yxcalico/SOME_LABEL", "yxcalico/BORED_NOW", "yxMyMarkerLabel",
]


def _ip(n: int) -> str:
    n += 0x0A000001
    return f"{n >> 24 & 255}.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}/32"


def wep(node: str, pod: str, namespace: str, ip: str, labels: dict, profiles: list) -> dict:
    return {
        "apiVersion": API, "kind": "WorkloadEndpoint",
        "metadata": {"name": f"{node}-k8s-{pod}-eth0", "namespace": namespace, "labels": labels},
        "spec": {"orchestrator": "k8s", "node": node, "pod": pod, "endpoint": "eth0",
                 "ipNetworks": [ip], "profiles": profiles,
                 "interfaceName": "cali" + format(abs(hash((node, pod))) % 16 ** 11, "011x")},
    }


def namespace_profile(ns: str) -> dict:
    return {"apiVersion": API, "kind": "Profile", "metadata": {"name": f"kns.{ns}"},
            "spec": {"labelsToApply": {"pcns.projectcalico.org/name": ns},
                     "ingress": [{"action": "Allow"}], "egress": [{"action": "Allow"}]}}


def tags_workload(remote=10_000, local=200, policies=1_000, namespaces=100):
    seed = [0]
    ip = [0]

    def labels():
        seed[0] += 1
        out = {f"one-in-{n}": f"value-{seed[0] % n}" for n in (10, 11, 20, 30, 40)}
        out[MARKERS[seed[0] % len(MARKERS)]] = "true"
        return out

    def endpoints(count, node):
        out = []
        for n in range(count):
            ns = f"namespace-{n % namespaces}"
            ip[0] += 1
            out.append(wep(node, f"wep-{n}", ns, _ip(ip[0]), labels(), [f"kns.{ns}"]))
        return out

    pols = []
    for i in range(policies):
        pols.append({
            "apiVersion": API, "kind": "GlobalNetworkPolicy", "metadata": {"name": f"tag-pol-{i}"},
            "spec": {"selector": f"has({MARKERS[i % len(MARKERS)]})",
                     "ingress": [{"action": "Allow",
                                  "source": {"selector": f"has({MARKERS[(i + j) % len(MARKERS)]})"}}
                                 for j in range(5)]}})
    profiles = [namespace_profile(f"namespace-{i}") for i in range(namespaces)]
    return pols, profiles, endpoints(remote, "remotehost"), endpoints(local, LOCAL)


def tenants_workload(tenants: int, local=100):
    pols, profiles, remote, locals_ = [], [], [], []
    for i in range(tenants):
        ns = f"tenant-{i}"
        profiles.append(namespace_profile(ns))
        pols.append({
            "apiVersion": API, "kind": "NetworkPolicy",
            "metadata": {"name": "allow-same-namespace", "namespace": ns},
            "spec": {"selector": "all()", "types": ["Ingress", "Egress"],
                     "ingress": [{"action": "Allow", "source": {"selector": "all()"}}],
                     "egress": [{"action": "Allow", "destination": {"selector": "all()"}}]}})
        node = LOCAL if i < local else "remotehost"
        ep = wep(node, f"pod-{i}", ns, _ip(i), {"app": f"app-{i % 7}", "tenant": ns}, [f"kns.{ns}"])
        (locals_ if node == LOCAL else remote).append(ep)
    return pols, profiles, remote, locals_


WORKLOADS = {
    "tags": lambda: tags_workload(),
    "tenants-1k": lambda: tenants_workload(1_000),
    "tenants-10k": lambda: tenants_workload(10_000),
}


class _EvalCounter:
    """Counts selector evaluations by wrapping every compiled evaluator."""

    def __init__(self):
        self.count = 0
        original = Selector.evaluator
        counter = self

        def counting(sel):
            fn = original.fget(sel)

            def wrapped(labels):
                counter.count += 1
                return fn(labels)
            return wrapped
        Selector.evaluator = property(counting)


def floor_time(all_updates) -> tuple[float, float]:
    """(wall, cpu) of touching each object once."""
    t0, c0 = time.perf_counter(), time.process_time()
    labels_by_item = {}
    for u in all_updates:
        doc = json.loads(u.value)
        if doc["kind"] == "WorkloadEndpoint":
            labels_by_item[u.key] = dict(doc["metadata"].get("labels") or {})
    return time.perf_counter() - t0, time.process_time() - c0


# What we recommend the agent process sets before its initial snapshot: CPython's default
# gen-0 threshold (700) makes the collector rescan the growing graph tens of thousands
# of times during a bulk load (~40 % of the snapshot time at 10k tenants).
TUNED_GC_THRESHOLD = (100_000, 50, 50)


def run_one(name: str, mode: str) -> dict:
    use_tracemalloc = mode == "tracemalloc"
    if mode == "tuned-gc":
        gc.set_threshold(*TUNED_GC_THRESHOLD)
    pols, profiles, remote, local = WORKLOADS[name]()
    batches = [[update_for(d) for d in docs] for docs in (pols, profiles, remote, local)]
    deletes = [delete_for(d) for d in local]
    # The agent only ever holds the raw updates, not decoded documents: drop them so
    # the collector does not rescan them during the run.
    del pols, profiles, remote, local
    counter = None if use_tracemalloc else _EvalCounter()
    gc.collect()
    floor, floor_cpu = floor_time([u for b in batches for u in b])
    gc.collect()
    if use_tracemalloc:
        tracemalloc.start()
    graph = CalcGraph(hostname=LOCAL)
    t0, c0 = time.perf_counter(), time.process_time()
    for batch in batches:
        graph.on_updates(batch)
    graph.on_status("in-sync")
    msgs = graph.flush()
    t1, c1 = time.perf_counter(), time.process_time()
    graph.on_updates(deletes)
    del_msgs = graph.flush()
    t2 = time.perf_counter()
    out = {"workload": name, "inputs": sum(len(b) for b in batches)}
    if use_tracemalloc:
        out["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2 ** 20
        tracemalloc.stop()
        return out
    out.update({
        "snapshot_s": t1 - t0, "snapshot_cpu_s": c1 - c0, "delete_locals_s": t2 - t1,
        "floor_s": floor, "floor_cpu_s": floor_cpu, "ratio": (c1 - c0) / floor_cpu,
        "load_avg": os.getloadavg()[0],
        "messages": dict(Counter(type(m).__name__ for m in msgs)),
        "delete_messages": dict(Counter(type(m).__name__ for m in del_msgs)),
        "selector_evaluations": counter.count,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rejected": graph.rejected_updates,
    })
    return out


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        print(json.dumps(run_one(argv[1], argv[2])))
        return
    repeat = 1
    if argv[:1] == ["--repeat"]:
        repeat, argv = int(argv[1]), argv[2:]
    names = argv or list(WORKLOADS)

    def one(name, mode):
        """Best of `repeat` runs (each in a fresh process): the machine is shared."""
        runs = [json.loads(subprocess.check_output([sys.executable, __file__, "--one", name, mode]))
                for _ in range(repeat if mode != "tracemalloc" else 1)]
        return min(runs, key=lambda r: r.get("snapshot_cpu_s", 0))

    for name in names:
        res = one(name, "default")
        tuned = one(name, "tuned-gc")
        tm = one(name, "tracemalloc")
        print(f"B1 {name}: {res['inputs']} inputs")
        print(f"  snapshot wall {res['snapshot_s']:.3f} s cpu {res['snapshot_cpu_s']:.3f} s   "
              f"floor wall {res['floor_s']:.3f} s cpu {res['floor_cpu_s']:.3f} s   "
              f"ratio (cpu) {res['ratio']:.1f}x   delete locals {res['delete_locals_s']:.3f} s   "
              f"(load avg {res['load_avg']:.1f})")
        print(f"  peak RSS {res['peak_rss_mb']:.0f} MB   tracemalloc peak {tm['tracemalloc_peak_mb']:.0f} MB   "
              f"selector evaluations {res['selector_evaluations']}   rejected {res['rejected']}")
        print(f"  with gc.set_threshold{TUNED_GC_THRESHOLD}: snapshot wall {tuned['snapshot_s']:.3f} s "
              f"cpu {tuned['snapshot_cpu_s']:.3f} s   ratio (cpu) {tuned['ratio']:.1f}x   "
              f"peak RSS {tuned['peak_rss_mb']:.0f} MB")
        print(f"  messages {res['messages']}")
        print(f"  after delete {res['delete_messages']}")


if __name__ == "__main__":
    main(sys.argv[1:])
