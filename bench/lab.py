"""calico-lab figures: `up` with 3 and 10 nodes, pods per second through the CNI plugin,
and the time from applying a default-deny policy until every pod pair of a 30-pod lab is
closed (and back open once it is deleted).

Everything goes through the `calico-lab` command line, as a user would run it. In the
same run it measures floors with raw tools: a bare interpreter start (every CLI call and
every CNI exec pays one), and wiring one pod by hand with `ip` (netns, veth, address,
route: the kernel work the CNI plugin does).

Policy latency is sampled with the lab's own prober in-process (every pair, TCP, short
timeout), so the resolution is about one probe timeout (0.3 s), not one CLI call.

Run as root from the repository root: `.venv/bin/python bench/lab.py [--pods 30] [--nodes 10]`.
Labs are named `bl<pid>` / `bs<pid>` (≤ 8 chars) and are removed at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from lab_py import state  # noqa: E402
from lab_py.probe import probe_many  # noqa: E402

LAB_BIN = os.path.join(os.path.dirname(sys.executable), "calico-lab")
PROBE_TIMEOUT = 0.3


def lab(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
    p = subprocess.run([LAB_BIN, *args], capture_output=True, text=True, input=input)
    if p.returncode != 0:
        raise SystemExit(f"calico-lab {' '.join(args)} failed: {p.stderr.strip() or p.stdout.strip()}")
    return p


def timed(*args: str, input: str | None = None) -> float:
    t0 = time.monotonic()
    lab(*args, input=input)
    return time.monotonic() - t0


def mesh_established(name: str, nodes: int) -> bool:
    from libcalico_py.birdctl import BirdClient, BirdError
    for i in range(1, nodes + 1):
        sock = os.path.join(state.LAB_ROOT, name, f"node{i}", "run", "bird.ctl")
        try:
            up = [p for p in BirdClient(sock, timeout=2).show_protocols()
                  if p.proto == "BGP" and p.info.startswith("Established")]
        except (OSError, BirdError):
            return False
        if len(up) < nodes - 1:
            return False
    return True


def bring_up(name: str, nodes: int) -> tuple[float, float]:
    """(`up` wall time, time until every node has its full BGP mesh Established)."""
    subprocess.run([LAB_BIN, "down", "--name", name], capture_output=True)
    t0 = time.monotonic()
    lab("up", "--name", name, "--nodes", str(nodes))
    t_up = time.monotonic() - t0
    while not mesh_established(name, nodes):
        if time.monotonic() - t0 > 180:
            return t_up, float("nan")
        time.sleep(0.2)
    return t_up, time.monotonic() - t0


def floor_interpreter(n: int = 10) -> float:
    ts = []
    for _ in range(n):
        t0 = time.monotonic()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        ts.append(time.monotonic() - t0)
    return statistics.median(ts)


def floor_wire_pod(prefix: str, n: int = 10) -> float:
    """netns + veth (directly inside both namespaces) + address + route, with `ip`."""
    host, ts = f"{prefix}-h", []
    subprocess.run(["ip", "netns", "add", host], check=True)
    try:
        for i in range(n):
            ns = f"{prefix}-{i}"
            t0 = time.monotonic()
            for argv in (["ip", "netns", "add", ns],
                         ["ip", "-n", host, "link", "add", f"v{i}", "type", "veth", "peer", "name", "eth0",
                          "netns", ns],
                         ["ip", "-n", ns, "addr", "add", f"10.99.0.{i + 1}/32", "dev", "eth0"],
                         ["ip", "-n", ns, "link", "set", "eth0", "up"],
                         ["ip", "-n", host, "link", "set", f"v{i}", "up"],
                         ["ip", "-n", host, "route", "add", f"10.99.0.{i + 1}/32", "dev", f"v{i}"]):
                subprocess.run(argv, check=True, capture_output=True)
            ts.append(time.monotonic() - t0)
            subprocess.run(["ip", "netns", "del", ns], check=True)
    finally:
        subprocess.run(["ip", "netns", "del", host])
    return statistics.median(ts)


def pairs(name: str) -> list[tuple[str, str, int, str]]:
    st = state.load(name)
    pods = list(st.pods.values())
    return [(a.netns, b.ip, 80, "TCP") for a in pods for b in pods if a.key != b.key]


class Sampler:
    """Probes every pair in back-to-back rounds on a thread, recording when each round
    started and how many pairs were open. A round's verdicts describe the dataplane at the
    round's start (a blocked SYN is the first one, sent then), so an event is located
    between the start of the last round that did not show it and the first that did."""

    def __init__(self, attempts):
        import threading
        self.attempts = attempts
        self.rounds: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            t = time.monotonic()
            self.rounds.append((t, sum(probe_many(self.attempts, PROBE_TIMEOUT))))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def wait(self, t0: float, all_open: bool, limit: float = 120.0) -> dict:
        """After t0: the first round with a changed pair and the first round where every pair
        is as wanted; each as (lower bound, upper bound) seconds after t0."""
        n = len(self.attempts)
        want = n if all_open else 0
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            after = [(t - t0, open_) for t, open_ in list(self.rounds) if t >= t0]
            done = next((i for i, (_, o) in enumerate(after) if o == want), None)
            if done is not None:
                first = next(i for i, (_, o) in enumerate(after) if o != (0 if all_open else n))
                bound = lambda i: (after[i - 1][0] if i else 0.0, after[i][0])  # noqa: E731
                return {"first": bound(first), "all": bound(done), "rounds": len(after)}
            time.sleep(0.05)
        return {"first": (float("nan"),) * 2, "all": (float("nan"),) * 2, "rounds": 0}


DENY = {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy",
        "metadata": {"name": "bench-default-deny"},
        "spec": {"selector": "projectcalico.org/orchestrator == 'k8s'", "types": ["Ingress", "Egress"]}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pods", type=int, default=30)
    parser.add_argument("--nodes", type=int, default=10)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench/lab.py must run as root", file=sys.stderr)
        return 1
    tag = str(os.getpid())[-6:]
    small, big = f"bs{tag}", f"bl{tag}"
    fig: dict = {}
    try:
        fig["floor: python -c pass (median)"] = floor_interpreter()
        fig["floor: wire 1 pod with ip (netns+veth+addr+route, median)"] = floor_wire_pod(f"bw{tag}")

        t_up, t_mesh = bring_up(small, 3)
        fig["up, 3 nodes (CLI wall, all nodes ready)"] = t_up
        fig["up, 3 nodes, until full BGP mesh Established"] = t_mesh
        lab("down", "--name", small)

        t_up, t_mesh = bring_up(big, args.nodes)
        fig[f"up, {args.nodes} nodes (CLI wall, all nodes ready)"] = t_up
        fig[f"up, {args.nodes} nodes, until full BGP mesh Established"] = t_mesh

        namespaces = ["b1", "b2", "b3"]
        for ns in namespaces:
            lab("namespace", "add", "--name", big, ns, "--label", f"ns={ns}")
        adds = []
        for i in range(args.pods):
            adds.append(timed("pod", "add", "--name", big, f"{namespaces[i % 3]}/p{i}", "--node",
                              f"node{i % args.nodes + 1}", "--label", f"app=a{i % 5}", "--port", "http:TCP:80"))
        fig[f"pod add x{args.pods} with a named port (CNI ADD + WEP ports patch + server): total"] = sum(adds)
        fig["  pods/s"] = args.pods / sum(adds)
        fig["  per pod p50"] = statistics.median(adds)
        fig["  per pod max"] = max(adds)
        bare, dels = [], []
        for i in range(5):
            bare.append(timed("pod", "add", "--name", big, f"b1/bare{i}", "--node", f"node{i % args.nodes + 1}"))
        for i in range(5):
            dels.append(timed("pod", "del", "--name", big, f"b1/bare{i}"))
        fig["pod add without ports (CNI ADD only), per pod p50"] = statistics.median(bare)
        fig["pod del (CNI DEL), per pod p50"] = statistics.median(dels)

        attempts = pairs(big)
        import yaml
        with Sampler(attempts) as sampler:
            res = sampler.wait(time.monotonic(), True)
            fig[f"all {len(attempts)} pairs open after the last pod (s, upper bound)"] = res["all"][1]
            t0 = time.monotonic()
            lab("ctl", "--name", big, "--", "apply", "-f", "-", input=yaml.safe_dump(DENY))
            fig["default-deny GNP: calicoctl-py apply (CLI wall)"] = time.monotonic() - t0
            res = sampler.wait(t0, False)
            fig["default-deny: apply started -> first pair closed (between)"] = res["first"]
            fig[f"default-deny: apply started -> all {len(attempts)} pairs closed (between)"] = res["all"]
            t0 = time.monotonic()
            lab("ctl", "--name", big, "--", "delete", "globalnetworkpolicy", DENY["metadata"]["name"])
            fig["delete of the policy (CLI wall)"] = time.monotonic() - t0
            res = sampler.wait(t0, True)
            fig["policy deleted: delete started -> all pairs open again (between)"] = res["all"]
            fig["probe round length (s, mean)"] = statistics.mean(
                b[0] - a[0] for a, b in zip(sampler.rounds, sampler.rounds[1:]))
    finally:
        for name in (small, big):
            subprocess.run([LAB_BIN, "down", "--name", name], capture_output=True)
    width = max(len(k) for k in fig)
    print(f"\nbench/lab.py  ({os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; probe timeout {PROBE_TIMEOUT}s)")
    for k, v in fig.items():
        if isinstance(v, tuple):
            print(f"  {k:<{width}}  {v[0]:6.3f} .. {v[1]:.3f} s")
        else:
            print(f"  {k:<{width}}  {v:8.3f}{'' if k.strip().startswith('pods/s') else ' s'}")
    print(json.dumps({k: [round(x, 4) for x in v] if isinstance(v, tuple) else round(v, 4)
                      for k, v in fig.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
