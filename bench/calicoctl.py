"""Startup cost of calicoctl-py: wall time of `version --client`, `version` and
`get nodes` (median of N runs each, fresh interpreter per run, real etcd with a few Nodes),
then where the time goes: `python -X importtime` per command, summed by top-level package.

Run: .venv/bin/python bench/calicoctl.py [--runs 20]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.fixtures.etcd import EtcdServer  # noqa: E402

CLI = os.path.join(os.path.dirname(sys.executable), "calicoctl-py")
COMMANDS = [("version", "--client"), ("version",), ("get", "nodes")]


def _env(endpoint: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ETCD_", "CALICO_"))}
    env["ETCD_ENDPOINTS"] = endpoint
    return env


def wall_times(argv: tuple, env: dict, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([CLI, *argv], env=env, check=True, stdout=subprocess.DEVNULL)
        out.append(time.perf_counter() - start)
    return out


def import_profile(argv: tuple, env: dict) -> tuple[float, dict[str, float]]:
    """Total import time and per top-level package (ms), from -X importtime."""
    code = ("import sys; from calicoctl_py.cli import main; "
            f"sys.argv = ['calicoctl-py', *{list(argv)!r}]; main()")
    p = subprocess.run([sys.executable, "-X", "importtime", "-c", code], env=env,
                       capture_output=True, text=True)
    per_pkg: dict[str, float] = {}
    total = 0.0
    for line in p.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        fields = line.split("|")
        try:
            self_us = int(fields[0].split(":")[1])
        except ValueError:
            continue
        name = fields[2].strip()
        pkg = name.split(".")[0]
        per_pkg[pkg] = per_pkg.get(pkg, 0.0) + self_us / 1000
        total += self_us / 1000
    return total, per_pkg


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    server = EtcdServer().start()
    try:
        env = _env(server.endpoint)
        nodes = "\n---\n".join(json.dumps({
            "apiVersion": "projectcalico.org/v3", "kind": "Node", "metadata": {"name": f"node{i}"},
            "spec": {"bgp": {"ipv4Address": f"10.0.0.{i}/24"}}}) for i in range(1, 4))
        subprocess.run([CLI, "apply", "-f", "-"], input=nodes, text=True, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        print(f"calicoctl-py startup, median of {args.runs} runs (min / max), "
              f"load average {os.getloadavg()[0]:.1f}")
        for argv in COMMANDS:
            times = wall_times(argv, env, args.runs)
            print(f"  {' '.join(argv):<18} {statistics.median(times) * 1000:7.0f} ms "
                  f"({min(times) * 1000:.0f} / {max(times) * 1000:.0f})")
        start = time.perf_counter()
        for _ in range(args.runs):
            subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare = (time.perf_counter() - start) / args.runs
        print(f"  {'(bare python)':<18} {bare * 1000:7.0f} ms")
        print("\nimport time by top-level package (ms, self time summed, one run):")
        for argv in COMMANDS:
            total, per_pkg = import_profile(argv, env)
            top = sorted(per_pkg.items(), key=lambda kv: -kv[1])[:8]
            print(f"  {' '.join(argv):<18} total {total:6.0f} ms: "
                  + ", ".join(f"{k} {v:.0f}" for k, v in top))
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()
