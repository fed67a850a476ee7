"""`Selector`: a parsed selector with its evaluator, canonical text and unique id.

A Selector is immutable and shared: `parse()` caches them by text, so the agent may
parse the same policy selector on every update for free. Equality and hashing go by
canonical text, which is Calico's notion of "the same selector".

`unique_id()` is Calico's `hash.MakeUniqueID("s", String())`:
"s:" + base64url-without-padding(SHA-224("s:" + canonical)). Felix names selector
ipsets after it, so it must be identical to Calico's for the same selector.
"""
from __future__ import annotations

import base64
import hashlib
from typing import Mapping, Optional

from libcalico_py.selector import ast


def make_unique_id(prefix: str, content: str) -> str:
    digest = hashlib.sha224(f"{prefix}:{content}".encode("utf-8", "surrogatepass")).digest()
    return prefix + ":" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class Selector:
    __slots__ = ("root", "_canonical", "_uid", "_evaluate", "_keys", "_restrictions")

    def __init__(self, root: ast.Node):
        self.root = root
        self._canonical: Optional[str] = None
        self._uid: Optional[str] = None
        self._evaluate: Optional[ast.Evaluator] = None
        self._keys: Optional[frozenset[str]] = None
        self._restrictions: Optional[dict[str, ast.Restriction]] = None

    @property
    def evaluator(self) -> ast.Evaluator:
        """The compiled `labels -> bool` function (for callers in tight loops)."""
        fn = self._evaluate
        if fn is None:
            fn = self._evaluate = ast.compile_evaluator(self.root)
        return fn

    def evaluate(self, labels: Mapping[str, str]) -> bool:
        fn = self._evaluate
        if fn is None:
            fn = self.evaluator
        return fn(labels)

    def __str__(self) -> str:
        text = self._canonical
        if text is None:
            text = self._canonical = ast.canonical(self.root)
        return text

    def unique_id(self) -> str:
        uid = self._uid
        if uid is None:
            uid = self._uid = make_unique_id("s", str(self))
        return uid

    @property
    def label_keys(self) -> frozenset[str]:
        """The label keys the selector reads; nothing else affects its result."""
        if self._keys is None:
            self._keys = ast.label_keys(self.root)
        return self._keys

    @property
    def restrictions(self) -> dict[str, ast.Restriction]:
        """Per key, what every matching label set must satisfy (do not mutate)."""
        if self._restrictions is None:
            self._restrictions = ast.restrictions(self.root)
        return self._restrictions

    @property
    def uses_global(self) -> bool:
        return ast.uses_global(self.root)

    @property
    def is_all(self) -> bool:
        return type(self.root) is ast.All

    def with_label_prefix(self, prefix: str) -> "Selector":
        """Calico's PrefixVisitor: every label key gets `prefix` in front."""
        return Selector(ast.map_labels(self.root, lambda key: prefix + key))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Selector):
            return NotImplemented
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def __repr__(self) -> str:
        return f"Selector({str(self)!r})"
