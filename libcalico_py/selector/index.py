"""`LabelIndex`: which items (label sets) each selector matches, kept up to date
incrementally.

The agent's calculation graph feeds it endpoint/network-set labels and policy or rule
selectors and listens for `on_match_started(sel_id, item_id)` /
`on_match_stopped(sel_id, item_id)`. The brute-force `LinearScanLabelIndex` in
`linear_index.py` has the same behaviour and is the reference in tests.

How a change is kept cheap:

- A selector's result depends only on the label keys it mentions, so when an item's
  labels change only selectors that mention a changed key are looked at.
- From the tree we derive, per key, what every match must have (`ast.restrictions`):
  `app == "x"` or `app in {...}` pin the values of `app`. For each key a selector
  mentions it is filed either under each pinned (key, value) or, when the values are
  not pinned, under the key alone. A change of key k from v_old to v_new can only
  flip selectors filed under (k, v_old), (k, v_new) or k alone: a selector that pins k
  to values excluding both matched neither before nor after.
- Each selector also has one primary requirement: a key it pins (filed under each
  allowed value) or else a key it needs present. A new item is checked only against
  selectors whose primary requirement it meets, plus the selectors that have none
  (`all()`, `!has(a)`, `a != "x"`, `a not in {...}`, and combinations of those).
- A new or changed selector is evaluated only against items that have the most
  selective of its required (key, value) pairs or keys; only a selector with no
  required label (e.g. `all()`, `!has(a)`) scans every item.

Items are indexed by (key, value), so those candidate sets are dictionary lookups.
"""
from __future__ import annotations

from typing import Callable, Hashable, Iterable, Mapping, Optional

from libcalico_py.selector.selector import Selector

MatchCallback = Callable[[Hashable, Hashable], None]
_EMPTY: frozenset = frozenset()


class _SelectorEntry:
    __slots__ = ("selector", "evaluate", "pinned", "unpinned", "never", "primary")

    def __init__(self, selector: Selector):
        self.selector = selector
        self.evaluate = selector.evaluator
        restrictions = selector.restrictions
        # Contradictions such as `a in {}` or `has(a) && !has(a)` match nothing.
        self.never = any((r.values is not None and not r.values) or (r.present and r.absent)
                         for r in restrictions.values())
        # key -> pinned values, for keys whose values every match must come from.
        self.pinned: dict[str, frozenset[str]] = {}
        self.unpinned: list[str] = []
        for key in selector.label_keys:
            r = restrictions.get(key)
            if r is not None and r.values is not None:
                self.pinned[key] = r.values
            else:
                self.unpinned.append(key)
        # The one requirement used to find candidate selectors for a new item: a
        # pinned key (any of its values) or else a key that must be present; None
        # when every match may lack every key it mentions.
        self.primary: Optional[str] = None
        if self.pinned:
            self.primary = min(self.pinned, key=lambda k: (len(self.pinned[k]), k))
        else:
            present = sorted(k for k in self.unpinned if restrictions.get(k) is not None
                             and restrictions[k].present)
            if present:
                self.primary = present[0]


class LabelIndex:
    def __init__(self, on_match_started: Optional[MatchCallback] = None,
                 on_match_stopped: Optional[MatchCallback] = None):
        self._on_started = on_match_started
        self._on_stopped = on_match_stopped
        self._selectors: dict[Hashable, _SelectorEntry] = {}
        self._labels: dict[Hashable, dict[str, str]] = {}
        self._matches_by_sel: dict[Hashable, set] = {}
        self._matches_by_item: dict[Hashable, set] = {}
        # Selector side, for changed items: every mentioned key, by pinned value or
        # by key alone.
        self._sels_by_pinned: dict[str, dict[str, set]] = {}
        self._sels_by_key: dict[str, set] = {}
        # Selector side, for new items: the primary requirement only, and the
        # selectors without one.
        self._sels_by_primary_value: dict[str, dict[str, set]] = {}
        self._sels_by_primary_key: dict[str, set] = {}
        self._sels_unrestricted: set = set()
        # Item side: key -> value -> item ids; key -> item ids.
        self._items_by_kv: dict[str, dict[str, set]] = {}
        self._items_by_key: dict[str, set] = {}

    # ----- queries -------------------------------------------------------

    def matching_items(self, sel_id: Hashable) -> set:
        return set(self._matches_by_sel.get(sel_id, _EMPTY))

    def matching_selectors(self, item_id: Hashable) -> set:
        return set(self._matches_by_item.get(item_id, _EMPTY))

    def selector_ids(self) -> set:
        return set(self._selectors)

    def item_ids(self) -> set:
        return set(self._labels)

    # ----- selectors -----------------------------------------------------

    def update_selector(self, sel_id: Hashable, selector: Selector) -> None:
        old = self._selectors.get(sel_id)
        if old is not None:
            if old.selector == selector:
                return
            self._unfile_selector(sel_id, old)
        entry = _SelectorEntry(selector)
        self._selectors[sel_id] = entry
        self._file_selector(sel_id, entry)

        previous = self._matches_by_sel.get(sel_id, _EMPTY)
        evaluate = entry.evaluate
        labels = self._labels
        now = set()
        if not entry.never:
            for item_id in self._candidate_items(entry):
                if evaluate(labels[item_id]):
                    now.add(item_id)
        for item_id in previous - now:
            self._stop(sel_id, item_id)
        for item_id in now - previous:
            self._start(sel_id, item_id)

    def remove_selector(self, sel_id: Hashable) -> None:
        entry = self._selectors.pop(sel_id, None)
        if entry is None:
            return
        self._unfile_selector(sel_id, entry)
        for item_id in list(self._matches_by_sel.get(sel_id, ())):
            self._stop(sel_id, item_id)

    def _candidate_items(self, entry: _SelectorEntry) -> Iterable[Hashable]:
        best: Optional[Iterable[Hashable]] = None
        best_size = len(self._labels)
        for key, values in entry.pinned.items():
            by_value = self._items_by_kv.get(key)
            if not by_value:
                return ()
            sets = [by_value[v] for v in values if v in by_value]
            size = sum(len(s) for s in sets)
            if size < best_size or best is None:
                best_size = size
                best = sets[0] if len(sets) == 1 else [i for s in sets for i in s]
        restrictions = entry.selector.restrictions
        for key in entry.unpinned:
            r = restrictions.get(key)
            if r is not None and r.present:
                items = self._items_by_key.get(key, _EMPTY)
                if len(items) < best_size or best is None:
                    best_size, best = len(items), items
        return self._labels.keys() if best is None else best

    def _file_selector(self, sel_id: Hashable, entry: _SelectorEntry) -> None:
        if entry.never:
            return
        for key, values in entry.pinned.items():
            by_value = self._sels_by_pinned.setdefault(key, {})
            for value in values:
                by_value.setdefault(value, set()).add(sel_id)
        for key in entry.unpinned:
            self._sels_by_key.setdefault(key, set()).add(sel_id)
        key = entry.primary
        if key is None:
            self._sels_unrestricted.add(sel_id)
        elif key in entry.pinned:
            by_value = self._sels_by_primary_value.setdefault(key, {})
            for value in entry.pinned[key]:
                by_value.setdefault(value, set()).add(sel_id)
        else:
            self._sels_by_primary_key.setdefault(key, set()).add(sel_id)

    def _unfile_selector(self, sel_id: Hashable, entry: _SelectorEntry) -> None:
        if entry.never:
            return
        for key, values in entry.pinned.items():
            by_value = self._sels_by_pinned[key]
            for value in values:
                _discard(by_value, value, sel_id)
            if not by_value:
                del self._sels_by_pinned[key]
        for key in entry.unpinned:
            _discard(self._sels_by_key, key, sel_id)
        key = entry.primary
        if key is None:
            self._sels_unrestricted.discard(sel_id)
        elif key in entry.pinned:
            by_value = self._sels_by_primary_value[key]
            for value in entry.pinned[key]:
                _discard(by_value, value, sel_id)
            if not by_value:
                del self._sels_by_primary_value[key]
        else:
            _discard(self._sels_by_primary_key, key, sel_id)

    # ----- items ---------------------------------------------------------

    def update_labels(self, item_id: Hashable, labels: Mapping[str, str]) -> None:
        new = dict(labels)
        old = self._labels.get(item_id)
        if old == new:
            return
        self._labels[item_id] = new
        sels_by_pinned = self._sels_by_pinned
        sels_by_key = self._sels_by_key
        candidates: set = set()
        if old is None:
            candidates.update(self._sels_unrestricted)
            primary_value = self._sels_by_primary_value
            primary_key = self._sels_by_primary_key
            for key, value in new.items():
                self._add_item_label(item_id, key, value)
                by_value = primary_value.get(key)
                if by_value is not None:
                    candidates.update(by_value.get(value, _EMPTY))
                candidates.update(primary_key.get(key, _EMPTY))
        else:
            for key, old_value in old.items():
                new_value = new.get(key)
                if new_value == old_value:
                    continue
                self._remove_item_label(item_id, key, old_value)
                by_value = sels_by_pinned.get(key)
                if by_value is not None:
                    candidates.update(by_value.get(old_value, _EMPTY))
                    if new_value is not None:
                        candidates.update(by_value.get(new_value, _EMPTY))
                candidates.update(sels_by_key.get(key, _EMPTY))
            for key, new_value in new.items():
                old_value = old.get(key)
                if old_value == new_value:
                    continue
                self._add_item_label(item_id, key, new_value)
                if old_value is None:
                    by_value = sels_by_pinned.get(key)
                    if by_value is not None:
                        candidates.update(by_value.get(new_value, _EMPTY))
                    candidates.update(sels_by_key.get(key, _EMPTY))
        matched = self._matches_by_item.get(item_id, _EMPTY)
        selectors = self._selectors
        started = []
        stopped = []
        for sel_id in candidates:
            now = selectors[sel_id].evaluate(new)
            if now != (sel_id in matched):
                (started if now else stopped).append(sel_id)
        for sel_id in stopped:
            self._stop(sel_id, item_id)
        for sel_id in started:
            self._start(sel_id, item_id)

    def remove_labels(self, item_id: Hashable) -> None:
        old = self._labels.pop(item_id, None)
        if old is None:
            return
        for key, value in old.items():
            self._remove_item_label(item_id, key, value)
        for sel_id in list(self._matches_by_item.get(item_id, ())):
            self._stop(sel_id, item_id)

    def _add_item_label(self, item_id: Hashable, key: str, value: str) -> None:
        self._items_by_kv.setdefault(key, {}).setdefault(value, set()).add(item_id)
        self._items_by_key.setdefault(key, set()).add(item_id)

    def _remove_item_label(self, item_id: Hashable, key: str, value: str) -> None:
        by_value = self._items_by_kv[key]
        _discard(by_value, value, item_id)
        if not by_value:
            del self._items_by_kv[key]
        _discard(self._items_by_key, key, item_id)

    # ----- match bookkeeping ---------------------------------------------

    def _start(self, sel_id: Hashable, item_id: Hashable) -> None:
        self._matches_by_sel.setdefault(sel_id, set()).add(item_id)
        self._matches_by_item.setdefault(item_id, set()).add(sel_id)
        if self._on_started is not None:
            self._on_started(sel_id, item_id)

    def _stop(self, sel_id: Hashable, item_id: Hashable) -> None:
        _discard(self._matches_by_sel, sel_id, item_id)
        _discard(self._matches_by_item, item_id, sel_id)
        if self._on_stopped is not None:
            self._on_stopped(sel_id, item_id)


def _discard(mapping: dict, key: Hashable, member: Hashable) -> None:
    members = mapping.get(key)
    if members is not None:
        members.discard(member)
        if not members:
            del mapping[key]
