"""Selector benchmark: parse and evaluation rates, and the label index at agent scale.

Run: .venv/bin/python bench/selector.py [--items 20000] [--selectors 1000] [--changes 1000]

Prints:
- parses/s (uncached: tokenize + tree; and with the compiled evaluator), cached parses/s
- evaluations/s over a realistic mix of policy selectors and pod label sets
- LabelIndex: time to compute all matches for N selectors over M label sets
- time to absorb single-label changes (mean, p50, p99, max per change; wall clock and
  this thread's CPU time, which a busy shared machine disturbs less), and the
  linear-scan reference as a yardstick
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from libcalico_py.selector import parse  # noqa: E402
from libcalico_py.selector.index import LabelIndex  # noqa: E402
from libcalico_py.selector.linear_index import LinearScanLabelIndex  # noqa: E402

NAMESPACES = [f"ns-{i}" for i in range(50)]
APPS = [f"app-{i}" for i in range(200)]
TIERS = ["frontend", "backend", "db", "cache"]
ENVS = ["prod", "staging", "dev"]
VERSIONS = [f"v{i}.{j}" for i in range(1, 4) for j in range(5)]


def make_labels(rnd: random.Random) -> dict[str, str]:
    ns = rnd.choice(NAMESPACES)
    labels = {
        "projectcalico.org/namespace": ns,
        "projectcalico.org/orchestrator": "k8s",
        "projectcalico.org/serviceaccount": "default",
        "pcns.projectcalico.org/name": ns,
        "pcns.env": ENVS[NAMESPACES.index(ns) % 3],
        "app": rnd.choice(APPS),
        "tier": rnd.choice(TIERS),
        "version": rnd.choice(VERSIONS),
        "pod-template-hash": f"{rnd.getrandbits(32):08x}",
    }
    if rnd.random() < 0.02:
        labels["quarantine"] = "true"
    return labels


def make_selector(rnd: random.Random) -> str:
    r = rnd.random()
    ns, app = rnd.choice(NAMESPACES), rnd.choice(APPS)
    if r < 0.40:
        return f"(projectcalico.org/namespace == '{ns}') && (app == '{app}')"
    if r < 0.55:
        apps = ", ".join(f"'{a}'" for a in rnd.sample(APPS, 3))
        return f"app in {{{apps}}} && tier != 'db'"
    if r < 0.65:
        return f"(projectcalico.org/namespace == '{ns}') && (tier == '{rnd.choice(TIERS)}' && !has(quarantine))"
    if r < 0.75:
        return f"pcns.env == '{rnd.choice(ENVS)}' && app == '{app}'"
    if r < 0.82:
        return f"tier == '{rnd.choice(TIERS)}' && version starts with 'v{rnd.randint(1, 3)}.'"
    if r < 0.88:
        return f"app == '{app}' || app == '{rnd.choice(APPS)}'"
    if r < 0.93:
        return f"projectcalico.org/namespace == '{ns}'"
    if r < 0.96:
        return f"has(app) && app not in {{'{app}'}} && projectcalico.org/namespace == '{ns}'"
    if r < 0.98:
        return "!has(quarantine) && tier == 'frontend'"
    if r < 0.99:
        return "has(quarantine)"
    return "all()"


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=20000)
    ap.add_argument("--selectors", type=int, default=1000)
    ap.add_argument("--changes", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    texts = [make_selector(rnd) for _ in range(args.selectors)]
    label_sets = [make_labels(rnd) for _ in range(args.items)]
    uncached = parse.__wrapped__

    print(f"selector benchmark: {args.selectors} selectors, {args.items} label sets, "
          f"Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs")

    def best_of(runs: int, fn) -> float:
        """Fastest of several runs: the machine is shared, the minimum is the signal."""
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times)

    def parse_all() -> None:
        for text in texts:
            uncached(text)

    def parse_compile_all() -> None:
        for text in texts:
            sel = uncached(text)
            sel.evaluate({})
            str(sel)

    reps = 20

    def parse_cached() -> None:
        for _ in range(reps):
            for text in texts:
                parse(text)

    for text in texts:
        parse(text)
    print(f"parse (tokenize + tree), uncached:          {rate(len(texts), best_of(3, parse_all))}")
    print(f"parse + compile evaluator + canonical text: {rate(len(texts), best_of(3, parse_compile_all))}")
    print(f"parse, cached (same text again):            {rate(len(texts) * reps, best_of(3, parse_cached))}")

    selectors = [parse(t) for t in texts]
    for s in selectors:
        s.evaluate({})
    sample = label_sets[:200]

    def evaluate_all() -> None:
        for s in selectors:
            fn = s.evaluate
            for labels in sample:
                fn(labels)

    n = len(selectors) * len(sample)
    seconds = best_of(3, evaluate_all)
    print(f"evaluations (realistic mix):                {rate(n, seconds)} "
          f"({seconds / n * 1e9:.0f} ns each)")

    # Index: all matches.
    idx = LabelIndex()
    t0 = time.perf_counter()
    for i, labels in enumerate(label_sets):
        idx.update_labels(i, labels)
    t1 = time.perf_counter()
    for j, s in enumerate(selectors):
        idx.update_selector(j, s)
    t2 = time.perf_counter()
    total = sum(len(idx.matching_items(j)) for j in range(len(selectors)))
    print(f"index: load {args.items} label sets:               {(t1 - t0) * 1e3:.0f} ms")
    print(f"index: all matches for {args.selectors} selectors "
          f"(selectors after labels): {(t2 - t1) * 1e3:.0f} ms, {total:,} matches")
    idx2 = LabelIndex()
    t0 = time.perf_counter()
    for j, s in enumerate(selectors):
        idx2.update_selector(j, s)
    for i, labels in enumerate(label_sets):
        idx2.update_labels(i, labels)
    t1 = time.perf_counter()
    total2 = sum(len(idx2.matching_items(j)) for j in range(len(selectors)))
    assert total2 == total, (total, total2)
    print(f"index: all matches (labels after selectors):       {(t1 - t0) * 1e3:.0f} ms, {total2:,} matches")

    # Single-label changes.
    events = [0]

    def count(_sel, _item):
        events[0] += 1

    idx3 = LabelIndex(count, count)
    lin = LinearScanLabelIndex(count, count)
    for j, s in enumerate(selectors):
        idx3.update_selector(j, s)
    for i, labels in enumerate(label_sets):
        idx3.update_labels(i, labels)
    changes = []
    current = [dict(x) for x in label_sets]
    for _ in range(args.changes):
        i = rnd.randrange(args.items)
        labels = dict(current[i])
        r = rnd.random()
        if r < 0.4:
            labels["app"] = rnd.choice(APPS)
        elif r < 0.6:
            labels["tier"] = rnd.choice(TIERS)
        elif r < 0.75:
            labels["version"] = rnd.choice(VERSIONS)
        elif r < 0.9:
            if "quarantine" in labels:
                del labels["quarantine"]
            else:
                labels["quarantine"] = "true"
        else:
            labels["pod-template-hash"] = f"{rnd.getrandbits(32):08x}"
        current[i] = labels
        changes.append((i, labels))
    us, cpu_us = [], []
    events[0] = 0
    for i, labels in changes:
        c0 = time.thread_time_ns()
        t0 = time.perf_counter()
        idx3.update_labels(i, labels)
        us.append((time.perf_counter() - t0) * 1e6)
        cpu_us.append((time.thread_time_ns() - c0) / 1e3)
    print(f"index: {len(changes)} single-label changes ({events[0]} match events):")
    for name, values in (("wall", us), ("cpu ", cpu_us)):
        print(f"    {name}: mean {statistics.mean(values):.1f} us, p50 {percentile(values, 50):.1f} us, "
              f"p99 {percentile(values, 99):.1f} us, max {max(values):.1f} us")

    # Yardstick: the linear scan evaluates every selector for each change.
    for j, s in enumerate(selectors):
        lin.update_selector(j, s)
    for i, labels in enumerate(label_sets[:1000]):
        lin.update_labels(i, labels)
    lin_timings = []
    for i, labels in changes[:200]:
        i = i % 1000
        t0 = time.perf_counter()
        lin.update_labels(i, labels)
        lin_timings.append((time.perf_counter() - t0) * 1e6)
    print(f"linear-scan reference, per label change:   mean {statistics.mean(lin_timings):.1f} us, "
          f"p99 {percentile(lin_timings, 99):.1f} us")

    # Selector changes against the full index.
    sel_timings = []
    for _ in range(100):
        j = rnd.randrange(len(selectors))
        new = parse(make_selector(rnd))
        t0 = time.perf_counter()
        idx3.update_selector(j, new)
        sel_timings.append((time.perf_counter() - t0) * 1e3)
    print(f"index: 100 selector changes: mean {statistics.mean(sel_timings):.2f} ms, "
          f"p99 {percentile(sel_timings, 99):.2f} ms")


if __name__ == "__main__":
    main()
