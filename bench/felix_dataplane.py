"""B2: bulk dataplane programming and no-op resync (reference/benchmarks.md).

Feeds Felix's nft-bench shapes through felixpy's real managers and drivers (InternalDataplane:
RuleRenderer -> Table / IPSets) inside a throwaway network namespace and times
  program  = messages -> managers -> render -> ipset restore -> iptables restore (4 tables)
  resync   = forced read-back of every table and set against an unchanged kernel + diff
and, in the same run, the floor: the exact restore payloads we generated fed to raw
`ipset restore` + `iptables-<backend>-restore` in a fresh namespace, and `iptables-save` +
`ipset list -n` for the resync floor. Prints ratio = ours / floor; a no-op resync must write
nothing (checked, and reported as "writes"). The cpu columns are this process's own CPU
seconds for program and resync (rendering, diffing, parsing; the restore/save tools excluded):
steadier than wall time on a shared machine.

    .venv/bin/python bench/felix_dataplane.py [--shapes S1,S2,S3] [--backends nft,legacy,legacy-iptc]
"""
from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pyroute2 import netns as pyroute_netns  # noqa: E402

from felixpy.calc.messages import (ActivePolicyUpdate, IPSetUpdate, ParsedRule, PolicyID,  # noqa: E402
                                   PolicyRules)
from felixpy.dataplane.internal_dataplane import InternalDataplane  # noqa: E402
from felixpy.ipsets.ipsets import IPSets  # noqa: E402
from felixpy.iptables.iptc_writer import IptcWriter  # noqa: E402
from felixpy.iptables.restore_writer import RestoreWriter  # noqa: E402
from felixpy.rules.defs import RulesConfig  # noqa: E402

SHAPES = {"S1": (100, 20, 100, 10), "S2": (500, 50, 500, 10), "S3": (2000, 100, 2000, 10)}
PREFIX = f"b2-{os.getpid()}-"
_ns_counter = iter(range(1000))


@contextlib.contextmanager
def namespace():
    name = f"{PREFIX}{next(_ns_counter)}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


@contextlib.contextmanager
def inside(ns):
    pyroute_netns.pushns(ns)
    try:
        yield
    finally:
        pyroute_netns.popns()


def messages(n_sets, n_members, n_pols, n_rules):
    base = int(ipaddress.ip_address("10.0.0.0"))
    msgs = []
    for i in range(n_sets):
        members = frozenset(f"{ipaddress.ip_address(base + i * n_members + j)}/32" for j in range(n_members))
        msgs.append(IPSetUpdate(f"s:bench{i:05d}", "hash:net", members))
    for i in range(n_pols):
        rules = tuple(ParsedRule(action="allow", protocol="tcp", src_ipset_ids=(f"s:bench{(i + k) % n_sets:05d}",),
                                 dst_ports=(str(1000 + k),)) for k in range(n_rules))
        msgs.append(ActivePolicyUpdate(PolicyID("gnp", "", f"bench-{i}"), PolicyRules(inbound_rules=rules)))
    return msgs


class RecordingRestoreWriter(RestoreWriter):
    def __init__(self, backend):
        super().__init__(backend)
        self.payloads: list[tuple[str, str]] = []

    def write(self, table, delta):
        self.payloads.append((table, delta.render_restore(table)))
        super().write(table, delta)


class RecordingIptcWriter(IptcWriter):
    def __init__(self):
        super().__init__()
        self.payloads: list[tuple[str, str]] = []

    def write(self, table, delta):
        self.payloads.append((table, delta.render_restore(table)))
        super().write(table, delta)


def timed(argv, stdin_path=None):
    fh = open(stdin_path) if stdin_path else None
    t0 = time.perf_counter()
    res = subprocess.run(argv, stdin=fh, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if fh:
        fh.close()
    if res.returncode != 0:
        raise RuntimeError(f"{argv}: {res.stderr}")
    return dt, res.stdout


def run_case(shape, variant):
    backend = "legacy" if variant.startswith("legacy") else "nft"
    msgs = messages(*SHAPES[shape])
    ipset_lines: list[str] = []

    class RecordingIPSets(IPSets):
        def _restore(self, lines, operation):
            ipset_lines.extend(lines)
            super()._restore(lines, operation)

    with namespace() as ns, inside(ns):
        writer = RecordingIptcWriter() if variant == "legacy-iptc" else RecordingRestoreWriter(backend)
        t0, c0 = time.perf_counter(), time.process_time()
        dp = InternalDataplane(writer, RulesConfig())
        dp.ipsets.__class__ = RecordingIPSets
        for m in msgs:
            dp.on_update(m)
        dp.apply()
        program, program_cpu = time.perf_counter() - t0, time.process_time() - c0
        payload_bytes = sum(len(p) for _, p in writer.payloads)
        rules = sum(p.count("\n-A ") + p.count("\n-I ") for _, p in writer.payloads)
        members = sum(1 for line in ipset_lines if line.startswith("add "))
        writes_before = sum(t.stats.writes for t in dp.tables.values()) + dp.ipsets.stats.writes
        t0, c0 = time.perf_counter(), time.process_time()
        dp.queue_iptables_resync()
        dp.queue_ipsets_resync()
        dp.queue_routes_resync()
        dp.apply()
        resync, resync_cpu = time.perf_counter() - t0, time.process_time() - c0
        resync_writes = sum(t.stats.writes for t in dp.tables.values()) + dp.ipsets.stats.writes - writes_before
        # resync floor on the same, programmed namespace: one save of every table plus set names
        f1, _ = timed([f"iptables-{backend}-save"])
        f2, _ = timed(["ipset", "list", "-n"])
        resync_floor = f1 + f2
    with tempfile.TemporaryDirectory() as tmp, namespace() as ns2:
        ipf = os.path.join(tmp, "ipsets")
        with open(ipf, "w") as fh:
            fh.write("\n".join(ipset_lines) + "\n")
        floor, _ = timed(["ip", "netns", "exec", ns2, "ipset", "restore"], ipf)
        for i, (table, payload) in enumerate(writer.payloads):
            path = os.path.join(tmp, f"{i}-{table}")
            with open(path, "w") as fh:
                fh.write(payload)
            dt, _ = timed(["ip", "netns", "exec", ns2, f"iptables-{backend}-restore", "--noflush"], path)
            floor += dt
        exec_overhead = sum(timed(["ip", "netns", "exec", ns2, "true"])[0] for _ in range(3)) / 3
        floor -= exec_overhead * (1 + len(writer.payloads))   # `ip netns exec` is not part of the floor
    return dict(shape=shape, variant=variant, rules=rules, members=members, bytes=payload_bytes,
                program=program, program_cpu=program_cpu, floor=floor, resync=resync,
                resync_cpu=resync_cpu, resync_floor=resync_floor,
                resync_writes=resync_writes)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", default="S1,S2,S3")
    ap.add_argument("--backends", default="nft,legacy,legacy-iptc")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("B2 needs root (it creates network namespaces)")
    print("B2 bulk programming and no-op resync (times in seconds; ratio = ours / floor)")
    hdr = (f"{'shape':5} {'backend':12} {'rules':>6} {'members':>7} {'bytes':>8} {'program':>8} {'floor':>7} "
           f"{'ratio':>6} {'resync':>7} {'rfloor':>7} {'ratio':>6} {'writes':>6} {'cpu:prog':>8} {'resync':>6}")
    print(hdr)
    for shape in args.shapes.split(","):
        for variant in args.backends.split(","):
            r = run_case(shape, variant)
            print(f"{r['shape']:5} {r['variant']:12} {r['rules']:6d} {r['members']:7d} {r['bytes']:8d} "
                  f"{r['program']:8.3f} {r['floor']:7.3f} {r['program'] / r['floor']:6.2f} {r['resync']:7.3f} "
                  f"{r['resync_floor']:7.3f} {r['resync'] / r['resync_floor']:6.2f} {r['resync_writes']:6d} "
                  f"{r['program_cpu']:8.3f} {r['resync_cpu']:6.3f}",
                  flush=True)


if __name__ == "__main__":
    main()
