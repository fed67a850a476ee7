"""`LinearScanLabelIndex`: the obviously-correct reference for `LabelIndex`.

Same API and callbacks; every change re-evaluates the changed selector against every
item, or every selector against the changed item. Tests run one suite against both and
check with hypothesis that they agree on random operation sequences (the pairing
Python Felix used for its label index).
"""
from __future__ import annotations

from typing import Hashable, Mapping, Optional

from libcalico_py.selector.index import MatchCallback
from libcalico_py.selector.selector import Selector


class LinearScanLabelIndex:
    def __init__(self, on_match_started: Optional[MatchCallback] = None,
                 on_match_stopped: Optional[MatchCallback] = None):
        self._on_started = on_match_started
        self._on_stopped = on_match_stopped
        self._selectors: dict[Hashable, Selector] = {}
        self._labels: dict[Hashable, dict[str, str]] = {}
        self._matches: set[tuple[Hashable, Hashable]] = set()

    def matching_items(self, sel_id: Hashable) -> set:
        return {item for sel, item in self._matches if sel == sel_id}

    def matching_selectors(self, item_id: Hashable) -> set:
        return {sel for sel, item in self._matches if item == item_id}

    def selector_ids(self) -> set:
        return set(self._selectors)

    def item_ids(self) -> set:
        return set(self._labels)

    def update_selector(self, sel_id: Hashable, selector: Selector) -> None:
        self._selectors[sel_id] = selector
        for item_id, labels in self._labels.items():
            self._set(sel_id, item_id, selector.evaluate(labels))

    def remove_selector(self, sel_id: Hashable) -> None:
        if self._selectors.pop(sel_id, None) is not None:
            for item_id in self._labels:
                self._set(sel_id, item_id, False)

    def update_labels(self, item_id: Hashable, labels: Mapping[str, str]) -> None:
        self._labels[item_id] = dict(labels)
        for sel_id, selector in self._selectors.items():
            self._set(sel_id, item_id, selector.evaluate(labels))

    def remove_labels(self, item_id: Hashable) -> None:
        if self._labels.pop(item_id, None) is not None:
            for sel_id in self._selectors:
                self._set(sel_id, item_id, False)

    def _set(self, sel_id: Hashable, item_id: Hashable, matches: bool) -> None:
        pair = (sel_id, item_id)
        if matches and pair not in self._matches:
            self._matches.add(pair)
            if self._on_started is not None:
                self._on_started(sel_id, item_id)
        elif not matches and pair in self._matches:
            self._matches.discard(pair)
            if self._on_stopped is not None:
                self._on_stopped(sel_id, item_id)
