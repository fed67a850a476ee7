"""CNI ADD/DEL wall time, as a runtime sees it, and how much of it is Python start-up.

Sets up a node namespace (with an uplink and its own etcd on 127.0.0.1) and 100 pod
namespaces, then execs `calico-py` ADD for each pod one after another, then DEL for each,
timing every exec from spawn to exit. Interleaved with the ADDs it times a bare interpreter
start and an interpreter that only imports what ADD imports, so the figures split into
start-up, imports and real work (etcd transactions and two `ip -batch` runs) under the same
load.

Run as root from the repository root: `.venv/bin/python bench/cni.py [--pods N]`.
Everything it creates carries the prefix `bcni<pid>-` and is removed at the end.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.fixtures.etcd import EtcdServer  # noqa: E402
from tests.fixtures.netns import NetnsFactory  # noqa: E402
from tests.integration.cni.cni_harness import CALICO, gateway_in, put_node, put_pool, run_plugin  # noqa: E402

PY = sys.executable
ADD_IMPORTS = ("import cni_py.calico_plugin, cni_py.etcd_gateway, libcalico_py.ipam.allocator, "
               "libcalico_py.model, libcalico_py.model.endpoint")


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def fmt(name: str, values: list[float]) -> str:
    return (f"{name:<28} p50 {pct(values, 50) * 1000:7.1f} ms   p99 {pct(values, 99) * 1000:7.1f} ms"
            f"   mean {statistics.mean(values) * 1000:7.1f} ms   (n={len(values)})")


def time_exec(argv: list[str], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=100)
    opts = ap.parse_args()

    ns = NetnsFactory(f"bcni{os.getpid()}-")
    server = None
    try:
        node = ns("node")
        uplink = ns("uplink")
        ns.veth(node, "uplink0", uplink, "peer0")
        ns.run(node, "ip", "addr", "add", "192.168.250.1/24", "dev", "uplink0")
        ns.run(uplink, "ip", "addr", "add", "192.168.250.254/24", "dev", "peer0")
        ns.run(node, "ip", "route", "add", "default", "via", "192.168.250.254")
        server = EtcdServer(netns=node).start()
        kv = gateway_in(node, server.endpoint)
        put_pool(kv, "default-ipv4-ippool", "10.65.0.0/16")
        put_node(kv, "node1")
        conf = {"cniVersion": "1.0.0", "name": "k8s-pod-network", "type": "calico-py",
                "etcd_endpoints": server.endpoint, "nodename": "node1",
                "ipam": {"type": "calico-ipam-py"}}
        pods = [ns(f"p{i}") for i in range(opts.pods)]
        adds, dels, startup, imports = [], [], [], []
        for i, pod in enumerate(pods):
            # Interleaved so that all three see the same machine load.
            startup += time_exec([PY, "-c", "pass"], 1)
            imports += time_exec([PY, "-c", ADD_IMPORTS], 1)
            t = time.perf_counter()
            r = run_plugin(CALICO, "ADD", conf, f"bench{i}", netns=f"/var/run/netns/{pod}",
                           cni_args=f"IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME=pod{i}",
                           in_netns=node)
            adds.append(time.perf_counter() - t)
            r.assert_ok()
        for i, pod in enumerate(pods):
            t = time.perf_counter()
            r = run_plugin(CALICO, "DEL", conf, f"bench{i}", netns=f"/var/run/netns/{pod}",
                           cni_args=f"IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME=pod{i}",
                           in_netns=node)
            dels.append(time.perf_counter() - t)
            r.assert_ok()
        netns_exec = time_exec(["ip", "netns", "exec", node, "true"], 30)
        kv.close()
    finally:
        if server is not None:
            server.cleanup()
        ns.cleanup()

    load = os.getloadavg()
    print(f"CNI bench: {opts.pods} pods, sequential, plugin exec'd via `ip netns exec <node>`; "
          f"{os.cpu_count()} CPUs, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(fmt("ADD (wall, per pod)", adds))
    print(fmt("DEL (wall, per pod)", dels))
    print(fmt("python -c pass", startup))
    print(fmt("python + ADD's imports", imports))
    print(fmt("ip netns exec <node> true", netns_exec))
    p50_add = pct(adds, 50)
    share_start = pct(startup, 50) / p50_add * 100
    share_imports = (pct(imports, 50) - pct(startup, 50)) / p50_add * 100
    print(f"of ADD p50: interpreter start {share_start:.0f}%, imports {share_imports:.0f}%, "
          f"`ip netns exec` {pct(netns_exec, 50) / p50_add * 100:.0f}%, rest is etcd + kernel work")
    print(f"goal ADD p50 <= 300 ms: {'met' if p50_add <= 0.3 else 'NOT met'}")


if __name__ == "__main__":
    main()
