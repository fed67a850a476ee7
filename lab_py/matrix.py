"""Connectivity matrices: every pod to every pod on one port and protocol."""
from __future__ import annotations

from lab_py.probe import probe_many
from lab_py.state import Lab


def matrix(lab: Lab, port: int, protocol: str, timeout: float = 1.0) -> dict[str, dict[str, bool]]:
    pods = sorted(lab.pods.values(), key=lambda p: p.key)
    pairs = [(a, b) for a in pods for b in pods if a.key != b.key]
    verdicts = probe_many([(a.netns, b.ip, port, protocol) for a, b in pairs], timeout)
    out = {a.key: {b.key: True for b in pods} for a in pods}   # a pod always reaches itself
    for (a, b), ok in zip(pairs, verdicts):
        out[a.key][b.key] = ok
    return out


def render(m: dict[str, dict[str, bool]], colour: bool) -> str:
    """A grid: rows are sources, columns destinations; '.' reachable, 'X' blocked."""
    keys = list(m)
    width = max((len(k) for k in keys), default=4)
    ok = "\033[32m.\033[0m" if colour else "."
    no = "\033[31mX\033[0m" if colour else "X"
    lines = [" " * (width + 1) + " ".join(str(i % 10) for i in range(len(keys)))]
    for i, src in enumerate(keys):
        cells = " ".join(ok if m[src][dst] else no for dst in keys)
        lines.append(f"{src:<{width}} {cells}   {i % 10}")
    return "\n".join(lines)
