"""The selector syntax tree, Calico's canonical text for it, and a fast evaluator.

Each node mirrors one node type of Calico's `libcalico-go/lib/selector/parser/ast.go`
and has the same meaning:

- `k == "v"`, `k in {...}`, `k contains/starts with/ends with "s"` and `has(k)` need the
  label to be present; `k != "v"` and `k not in {...}` are true when it is absent.
- `all()` and `global()` are always true while evaluating; `global()` only has a
  meaning once a namespaceSelector is translated (see `labels.py`).

`canonical(node)` produces exactly Calico's `String()`: values in double quotes unless
they contain one, sets sorted and de-duplicated, every `&&`/`||` group in parentheses,
`!` glued to its operand. Two selectors with the same canonical text are the same
selector, and `unique_id` (the ipset name source) is a hash of that text.

`compile_evaluator(node)` turns the tree into one Python function of the labels
mapping. It generates the source of a single lambda whose constants are bound as
closure cells (so no user text ever becomes code), which costs one call per evaluation
instead of one per node. Very deep trees fall back to nested closures.

`restrictions(node)` is the static analysis the label index uses to skip selectors that
cannot be affected by a change (Calico's `LabelRestrictions`).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Mapping, Optional

Evaluator = Callable[[Mapping[str, str]], bool]


class Node:
    """Base of all selector nodes; nodes are immutable and hashable."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class LabelOp(Node):
    """`label <op> "value"` for op in ==, !=, contains, starts with, ends with."""

    op: str
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class LabelSetOp(Node):
    """`label in {...}` or `label not in {...}`; `values` is sorted and de-duplicated."""

    negated: bool
    label: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Has(Node):
    label: str


@dataclass(frozen=True, slots=True)
class All(Node):
    pass


@dataclass(frozen=True, slots=True)
class Global(Node):
    pass


@dataclass(frozen=True, slots=True)
class Not(Node):
    operand: Node


@dataclass(frozen=True, slots=True)
class And(Node):
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or(Node):
    operands: tuple[Node, ...]


EQ, NE, CONTAINS, STARTS_WITH, ENDS_WITH = "==", "!=", "contains", "starts with", "ends with"
LABEL_OPS = (EQ, NE, CONTAINS, STARTS_WITH, ENDS_WITH)

# Beyond this depth the generated lambda would hit CPython's parser nesting limit.
_MAX_CODEGEN_DEPTH = 40


def _quote(value: str) -> str:
    return "'" + value + "'" if '"' in value else '"' + value + '"'


def canonical(node: Node) -> str:
    """Calico's `String()` of the tree."""
    out: list[str] = []
    _fragments(node, out)
    return "".join(out)


def _fragments(node: Node, out: list[str]) -> None:
    t = type(node)
    if t is LabelOp:
        out.append(f"{node.label} {node.op} {_quote(node.value)}")
    elif t is LabelSetOp:
        op = "not in" if node.negated else "in"
        out.append(f"{node.label} {op} {{" + ", ".join(_quote(v) for v in node.values) + "}")
    elif t is Has:
        out.append(f"has({node.label})")
    elif t is All:
        out.append("all()")
    elif t is Global:
        out.append("global()")
    elif t is Not:
        out.append("!")
        _fragments(node.operand, out)
    else:
        joiner = " && " if t is And else " || "
        out.append("(")
        for i, operand in enumerate(node.operands):
            if i:
                out.append(joiner)
            _fragments(operand, out)
        out.append(")")


def depth(node: Node) -> int:
    t = type(node)
    if t is Not:
        return 1 + depth(node.operand)
    if t is And or t is Or:
        return 1 + max(depth(o) for o in node.operands)
    return 1


def label_keys(node: Node) -> frozenset[str]:
    """Every label key the selector reads; its value depends on nothing else."""
    keys: set[str] = set()
    _collect_keys(node, keys)
    return frozenset(keys)


def _collect_keys(node: Node, keys: set[str]) -> None:
    t = type(node)
    if t is LabelOp or t is LabelSetOp or t is Has:
        keys.add(node.label)
    elif t is Not:
        _collect_keys(node.operand, keys)
    elif t is And or t is Or:
        for o in node.operands:
            _collect_keys(o, keys)


def uses_global(node: Node) -> bool:
    t = type(node)
    if t is Global:
        return True
    if t is Not:
        return uses_global(node.operand)
    if t is And or t is Or:
        return any(uses_global(o) for o in node.operands)
    return False


def map_labels(node: Node, rename: Callable[[str], str]) -> Node:
    """A copy of the tree with every label key passed through `rename`
    (Calico's PrefixVisitor is `rename = lambda k: prefix + k`)."""
    t = type(node)
    if t is LabelOp:
        return LabelOp(node.op, rename(node.label), node.value)
    if t is LabelSetOp:
        return LabelSetOp(node.negated, rename(node.label), node.values)
    if t is Has:
        return Has(rename(node.label))
    if t is Not:
        return Not(map_labels(node.operand, rename))
    if t is And or t is Or:
        return t(tuple(map_labels(o, rename) for o in node.operands))
    return node


def replace_nodes(node: Node, replace: Callable[[Node], Optional[Node]]) -> Node:
    """A copy of the tree where each node for which `replace` returns a node is
    substituted (children of a replaced node are not visited)."""
    new = replace(node)
    if new is not None:
        return new
    t = type(node)
    if t is Not:
        return Not(replace_nodes(node.operand, replace))
    if t is And or t is Or:
        return t(tuple(replace_nodes(o, replace) for o in node.operands))
    return node


# ---------------------------------------------------------------------------
# Label restrictions: what any matching label set must look like.
# ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Restriction:
    """For one key: `present` means every match has the key, `absent` that none
    has it, `values` (when not None) that every match has one of these values.
    An empty `values` means the selector can match nothing."""

    present: bool = False
    absent: bool = False
    values: Optional[frozenset[str]] = None


def restrictions(node: Node) -> dict[str, Restriction]:
    t = type(node)
    if t is LabelOp:
        if node.op == EQ:
            return {node.label: Restriction(present=True, values=frozenset((node.value,)))}
        if node.op == NE:
            return {}
        return {node.label: Restriction(present=True)}
    if t is LabelSetOp:
        if node.negated:
            return {}
        return {node.label: Restriction(present=True, values=frozenset(node.values))}
    if t is Has:
        return {node.label: Restriction(present=True)}
    if t is Not:
        if type(node.operand) is Has:
            return {node.operand.label: Restriction(absent=True)}
        return {}
    if t is And:
        out: dict[str, Restriction] = {}
        for operand in node.operands:
            for key, r in restrictions(operand).items():
                base = out.get(key)
                if base is None:
                    out[key] = r
                    continue
                if base.values is None:
                    values = r.values
                elif r.values is None:
                    values = base.values
                else:
                    values = base.values & r.values
                out[key] = Restriction(base.present or r.present, base.absent or r.absent, values)
        return out
    if t is Or:
        acc = restrictions(node.operands[0])
        for operand in node.operands[1:]:
            other = restrictions(operand)
            merged: dict[str, Restriction] = {}
            for key, r in acc.items():
                o = other.get(key, Restriction())
                present = r.present and o.present
                absent = r.absent and o.absent
                values = None
                if present and r.values is not None and o.values is not None:
                    values = r.values | o.values
                if present or absent:
                    merged[key] = Restriction(present, absent, values)
            acc = merged
        return acc
    return {}


# ---------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------

def compile_evaluator(node: Node) -> Evaluator:
    """One function `labels -> bool` for the tree."""
    if depth(node) > _MAX_CODEGEN_DEPTH:
        return _closure(node)
    consts: list[object] = []

    def const(value: object) -> str:
        consts.append(value)
        return f"c{len(consts) - 1}"

    expr = _expr(node, const)
    return _factory(len(consts), expr)(*consts)


@lru_cache(maxsize=4096)
def _factory(n_consts: int, expr: str) -> Callable[..., Evaluator]:
    """Compile once per selector shape: `a == "x"` and `b == "y"` share the code and
    differ only in the constants bound to it."""
    params = ", ".join(f"c{i}" for i in range(n_consts))
    source = f"def factory({params}):\n    return lambda labels: {expr}\n"
    namespace: dict[str, object] = {}
    exec(compile(source, "<selector>", "exec"), {"__builtins__": {}}, namespace)
    return namespace["factory"]  # type: ignore[return-value]


def _expr(node: Node, const: Callable[[object], str]) -> str:
    t = type(node)
    if t is LabelOp:
        k, v = const(node.label), const(node.value)
        if node.op == EQ:
            return f"(labels.get({k}) == {v})"
        if node.op == NE:
            return f"(labels.get({k}) != {v})"
        if node.op == CONTAINS:
            return f"({k} in labels and {v} in labels[{k}])"
        if node.op == STARTS_WITH:
            return f"({k} in labels and labels[{k}].startswith({v}))"
        return f"({k} in labels and labels[{k}].endswith({v}))"
    if t is LabelSetOp:
        k, s = const(node.label), const(frozenset(node.values))
        op = "not in" if node.negated else "in"
        # A missing label reads as None, which is in no set of strings.
        return f"(labels.get({k}) {op} {s})"
    if t is Has:
        return f"({const(node.label)} in labels)"
    if t is All or t is Global:
        return "True"
    if t is Not:
        return f"(not {_expr(node.operand, const)})"
    joiner = " and " if t is And else " or "
    return "(" + joiner.join(_expr(o, const) for o in node.operands) + ")"


def _closure(node: Node) -> Evaluator:
    t = type(node)
    if t is LabelOp:
        k, v = node.label, node.value
        if node.op == EQ:
            return lambda labels: labels.get(k) == v
        if node.op == NE:
            return lambda labels: labels.get(k) != v
        if node.op == CONTAINS:
            return lambda labels: k in labels and v in labels[k]
        if node.op == STARTS_WITH:
            return lambda labels: k in labels and labels[k].startswith(v)
        return lambda labels: k in labels and labels[k].endswith(v)
    if t is LabelSetOp:
        k, s = node.label, frozenset(node.values)
        if node.negated:
            return lambda labels: labels.get(k) not in s
        return lambda labels: labels.get(k) in s
    if t is Has:
        k = node.label
        return lambda labels: k in labels
    if t is All or t is Global:
        return lambda labels: True
    if t is Not:
        inner = _closure(node.operand)
        return lambda labels: not inner(labels)
    fns = tuple(_closure(o) for o in node.operands)
    if t is And:
        return lambda labels: all(f(labels) for f in fns)
    return lambda labels: any(f(labels) for f in fns)
