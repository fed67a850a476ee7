"""Expected connectivity for the e2e lab, computed from a case's intent.

The model is the one Kubernetes' own network-policy e2e tests use: a pod is isolated for
ingress (egress) once any policy selects it for that direction, and a connection gets
through only when the source's egress and the destination's ingress both allow it; the
allows of several policies add up. A pod always reaches itself.

    r = Reachability(PODS)
    r.ingress(in_ns("x"), allow=from_ns("y"))    # a policy on x allowing ingress from y
    r.table()  ->  {"x/a": {"x/a": True, "x/b": False, ...}, ...}

Selectors and allow rules are plain predicates: over one pod (`Pred`) for the pods a
policy selects, over (src, dst) for what a rule lets through.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class PodRef:
    ns: str
    name: str

    @property
    def key(self) -> str:
        return f"{self.ns}/{self.name}"

    @classmethod
    def parse(cls, key: str) -> "PodRef":
        ns, _, name = key.partition("/")
        return cls(ns, name)


Pred = Callable[[PodRef], bool]
PairPred = Callable[[PodRef, PodRef], bool]


def in_ns(*namespaces: str) -> Pred:
    return lambda p: p.ns in namespaces


def named(*pods: str) -> Pred:
    """Pods by name in any namespace ("a") or by key ("x/a")."""
    return lambda p: p.name in pods or p.key in pods


def every(p: PodRef) -> bool:
    return True


def nothing(*_args) -> bool:
    return False


def both(a: Pred, b: Pred) -> Pred:
    return lambda p: a(p) and b(p)


def either(*preds: Pred) -> Pred:
    return lambda p: any(f(p) for f in preds)


def not_(a: Pred) -> Pred:
    return lambda p: not a(p)


def from_(sel: Pred) -> PairPred:
    """An ingress rule's peer: the source matches `sel`."""
    return lambda src, dst: sel(src)


def to(sel: Pred) -> PairPred:
    """An egress rule's peer: the destination matches `sel`."""
    return lambda src, dst: sel(dst)


def same_ns(src: PodRef, dst: PodRef) -> bool:
    return src.ns == dst.ns


def anyone(src: PodRef, dst: PodRef) -> bool:
    return True


class Reachability:
    def __init__(self, pods: list[str] | list[PodRef]):
        self.pods = [p if isinstance(p, PodRef) else PodRef.parse(p) for p in pods]
        self._ingress: dict[PodRef, list[PairPred]] = {}
        self._egress: dict[PodRef, list[PairPred]] = {}

    def ingress(self, selected: Pred, allow: PairPred = nothing) -> "Reachability":
        """One policy with policyTypes Ingress: `selected` pods accept only what `allow` (and
        any other ingress policy selecting them) lets in."""
        for p in self.pods:
            if selected(p):
                self._ingress.setdefault(p, []).append(allow)
        return self

    def egress(self, selected: Pred, allow: PairPred = nothing) -> "Reachability":
        for p in self.pods:
            if selected(p):
                self._egress.setdefault(p, []).append(allow)
        return self

    def allowed(self, src: PodRef, dst: PodRef) -> bool:
        if src == dst:
            return True
        out_ok = src not in self._egress or any(a(src, dst) for a in self._egress[src])
        in_ok = dst not in self._ingress or any(a(src, dst) for a in self._ingress[dst])
        return out_ok and in_ok

    def table(self) -> dict[str, dict[str, bool]]:
        return {s.key: {d.key: self.allowed(s, d) for d in self.pods} for s in self.pods}


def render(table: dict[str, dict[str, bool]], other: dict[str, dict[str, bool]] | None = None) -> str:
    """A grid, '.' open and 'X' blocked; with `other`, a cell that differs shows the
    observed value in lower case ('o' observed open, 'x' observed blocked)."""
    keys = sorted(table)
    width = max(len(k) for k in keys)
    lines = [" " * (width + 1) + " ".join(k.split("/")[1] for k in keys),
             " " * (width + 1) + " ".join(k.split("/")[0] for k in keys)]
    for s in keys:
        cells = []
        for d in keys:
            want = table[s][d]
            got = other.get(s, {}).get(d) if other is not None else want
            cells.append(("." if want else "X") if got == want else ("o" if got else "x"))
        lines.append(f"{s:<{width}} " + " ".join(cells))
    return "\n".join(lines)


def diff(expected: dict[str, dict[str, bool]], observed: dict[str, dict[str, bool]]) -> list[str]:
    """One line per pair whose observed verdict differs from the expected one."""
    out = []
    for s in sorted(set(expected) | set(observed)):
        for d in sorted(set(expected.get(s, {})) | set(observed.get(s, {}))):
            want, got = expected.get(s, {}).get(d), observed.get(s, {}).get(d)
            if want != got:
                word = {True: "open", False: "blocked", None: "missing"}
                out.append(f"{s} -> {d}: expected {word[want]}, observed {word[got]}")
    return out
