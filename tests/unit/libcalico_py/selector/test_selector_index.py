"""One behaviour suite for both label indexes, plus a hypothesis check that the
incremental index always agrees with the linear-scan reference."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from libcalico_py.selector import parse
from libcalico_py.selector.index import LabelIndex
from libcalico_py.selector.linear_index import LinearScanLabelIndex


class Recorder:
    """Builds an index whose callbacks are checked for consistency and recorded."""

    def __init__(self, cls):
        self.events = []
        self.state = set()
        self.index = cls(on_match_started=self.started, on_match_stopped=self.stopped)

    def started(self, sel_id, item_id):
        assert (sel_id, item_id) not in self.state, "started twice"
        self.state.add((sel_id, item_id))
        self.events.append(("+", sel_id, item_id))

    def stopped(self, sel_id, item_id):
        assert (sel_id, item_id) in self.state, "stopped without start"
        self.state.discard((sel_id, item_id))
        self.events.append(("-", sel_id, item_id))

    def take(self):
        events, self.events = set(self.events), []
        return events


@pytest.fixture(params=[LabelIndex, LinearScanLabelIndex], ids=["incremental", "linear"])
def rec(request):
    return Recorder(request.param)


def test_selector_then_labels(rec):
    idx = rec.index
    idx.update_selector("s1", parse("a == 'x'"))
    assert rec.take() == set()
    idx.update_labels("i1", {"a": "x"})
    assert rec.take() == {("+", "s1", "i1")}
    idx.update_labels("i2", {"a": "y"})
    assert rec.take() == set()
    assert idx.matching_items("s1") == {"i1"}
    assert idx.matching_selectors("i1") == {"s1"}
    assert idx.matching_selectors("i2") == set()


def test_labels_then_selector(rec):
    idx = rec.index
    idx.update_labels("i1", {"a": "x"})
    idx.update_labels("i2", {"a": "y"})
    idx.update_labels("i3", {})
    idx.update_selector("s1", parse("a in {'x', 'y'}"))
    assert rec.take() == {("+", "s1", "i1"), ("+", "s1", "i2")}
    assert idx.matching_items("s1") == {"i1", "i2"}


def test_label_change_starts_and_stops(rec):
    idx = rec.index
    idx.update_selector("sx", parse("a == 'x'"))
    idx.update_selector("sy", parse("a == 'y'"))
    idx.update_labels("i", {"a": "x"})
    assert rec.take() == {("+", "sx", "i")}
    idx.update_labels("i", {"a": "y"})
    assert rec.take() == {("-", "sx", "i"), ("+", "sy", "i")}
    idx.update_labels("i", {"a": "y"})  # no change, no events
    assert rec.take() == set()
    idx.update_labels("i", {"b": "y"})
    assert rec.take() == {("-", "sy", "i")}


def test_selectors_that_match_items_without_the_label(rec):
    idx = rec.index
    idx.update_selector("nothas", parse("!has(a)"))
    idx.update_selector("ne", parse("a != 'x'"))
    idx.update_selector("notin", parse("a not in {}"))
    idx.update_selector("all", parse("all()"))
    idx.update_selector("either", parse("!has(a) || a == 'x'"))
    idx.update_selector("empty_in", parse("a in {}"))
    idx.update_labels("bare", {})
    assert idx.matching_selectors("bare") == {"nothas", "ne", "notin", "all", "either"}
    idx.update_labels("bare", {"a": "x"})
    assert idx.matching_selectors("bare") == {"notin", "all", "either"}
    idx.update_labels("bare", {"a": "z"})
    assert idx.matching_selectors("bare") == {"ne", "notin", "all"}
    idx.update_labels("other", {"b": "1"})
    assert idx.matching_selectors("other") == {"nothas", "ne", "notin", "all", "either"}
    assert idx.matching_items("empty_in") == set()


def test_change_of_unrelated_key_reevaluates_compound_selector(rec):
    idx = rec.index
    idx.update_selector("s", parse("app == 'web' && tier == 'fe'"))
    idx.update_labels("i", {"app": "web"})
    assert rec.take() == set()
    idx.update_labels("i", {"app": "web", "tier": "fe"})
    assert rec.take() == {("+", "s", "i")}
    idx.update_labels("i", {"app": "web", "tier": "be"})
    assert rec.take() == {("-", "s", "i")}


def test_selector_update_and_remove(rec):
    idx = rec.index
    for i in range(5):
        idx.update_labels(i, {"n": str(i), "even": str(i % 2 == 0)})
    idx.update_selector("s", parse("even == 'True'"))
    assert rec.take() == {("+", "s", 0), ("+", "s", 2), ("+", "s", 4)}
    idx.update_selector("s", parse("n in {'1', '2'}"))
    assert rec.take() == {("-", "s", 0), ("-", "s", 4), ("+", "s", 1)}
    idx.update_selector("s", parse("n in {'2', '1'}"))  # same selector: nothing
    assert rec.take() == set()
    idx.remove_selector("s")
    assert rec.take() == {("-", "s", 1), ("-", "s", 2)}
    assert idx.matching_items("s") == set()
    idx.remove_selector("s")  # unknown: no-op
    idx.remove_selector("never-added")
    assert rec.take() == set()


def test_remove_labels(rec):
    idx = rec.index
    idx.update_selector("a", parse("has(a)"))
    idx.update_selector("na", parse("!has(a)"))
    idx.update_labels("i1", {"a": ""})
    idx.update_labels("i2", {"b": ""})
    rec.take()
    idx.remove_labels("i1")
    assert rec.take() == {("-", "a", "i1")}
    idx.remove_labels("i2")
    assert rec.take() == {("-", "na", "i2")}
    idx.remove_labels("i2")
    assert rec.take() == set()
    assert idx.item_ids() == set()


def test_string_ops_and_global(rec):
    idx = rec.index
    idx.update_selector("c", parse("name contains 'ab'"))
    idx.update_selector("s", parse("name starts with 'ab'"))
    idx.update_selector("e", parse("name ends with 'ab'"))
    idx.update_selector("g", parse("global()"))
    idx.update_labels("i", {"name": "xaby"})
    assert idx.matching_selectors("i") == {"c", "g"}
    idx.update_labels("i", {"name": "abab"})
    assert idx.matching_selectors("i") == {"c", "s", "e", "g"}


def test_returned_sets_are_copies(rec):
    idx = rec.index
    idx.update_selector("s", parse("all()"))
    idx.update_labels("i", {})
    idx.matching_items("s").clear()
    idx.matching_selectors("i").clear()
    assert idx.matching_items("s") == {"i"}
    assert idx.matching_selectors("i") == {"s"}


def test_labels_are_copied_on_update(rec):
    idx = rec.index
    idx.update_selector("s", parse("a == 'x'"))
    labels = {"a": "x"}
    idx.update_labels("i", labels)
    labels["a"] = "y"  # mutating the caller's dict must not affect the index
    idx.update_labels("i", {"a": "x"})
    assert rec.take() == {("+", "s", "i")}


def test_no_callbacks_is_fine():
    for cls in (LabelIndex, LinearScanLabelIndex):
        idx = cls()
        idx.update_selector("s", parse("has(a)"))
        idx.update_labels("i", {"a": "1"})
        assert idx.matching_items("s") == {"i"}
        idx.remove_selector("s")
        assert idx.matching_selectors("i") == set()


# ---------------------------------------------------------------------------
# Agreement on random operation sequences
# ---------------------------------------------------------------------------

KEYS = ["a", "b", "c", "d"]
VALUES = ["", "x", "y", "z"]
SELECTORS = [
    "all()", "global()", "has(a)", "!has(a)", "a == 'x'", "a != 'x'", "a in {'x', 'y'}", "a not in {}",
    "a in {}", "a not in {'x'}", "b contains 'y'", "c starts with 'z'", "d ends with ''",
    "a == 'x' && b == 'y'", "a == 'x' || b == 'y'", "!has(a) || a == 'x'", "!(a == 'x' && has(b))",
    "(a == 'x' || a == 'y') && b in {'z'}", "a == 'x' && a == 'y'", "has(a) && !has(b) && c != 'z'",
    "a in {'x', 'y'} && a not in {'y'}", "(a == 'x' || has(b)) && (c == 'y' || d == 'z')",
    "!(a != 'x')", "a == '' || b == ''", "has(a) && !has(a)", "(has(a) || has(b)) && !has(a)",
]

label_sets = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=4)
operations = st.lists(st.one_of(
    st.tuples(st.just("sel"), st.integers(0, 3), st.sampled_from(SELECTORS)),
    st.tuples(st.just("unsel"), st.integers(0, 3), st.none()),
    st.tuples(st.just("labels"), st.integers(0, 4), label_sets),
    st.tuples(st.just("unlabels"), st.integers(0, 4), st.none()),
), max_size=60)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(operations)
def test_incremental_agrees_with_linear_scan(ops):
    fast, slow = Recorder(LabelIndex), Recorder(LinearScanLabelIndex)
    selectors, items = {}, {}
    for op, ident, arg in ops:
        if op == "sel":
            selectors[ident] = arg
        elif op == "unsel":
            selectors.pop(ident, None)
        elif op == "labels":
            items[ident] = arg
        else:
            items.pop(ident, None)
        for r in (fast, slow):
            if op == "sel":
                r.index.update_selector(ident, parse(arg))
            elif op == "unsel":
                r.index.remove_selector(ident)
            elif op == "labels":
                r.index.update_labels(ident, arg)
            else:
                r.index.remove_labels(ident)
        assert fast.take() == slow.take()
        truth = {(s, i) for s, text in selectors.items() for i, labels in items.items()
                 if parse(text).evaluate(labels)}
        assert fast.state == truth
        assert slow.state == truth
    for sel_id in range(6):
        assert fast.index.matching_items(sel_id) == slow.index.matching_items(sel_id)
    for item_id in range(8):
        assert fast.index.matching_selectors(item_id) == slow.index.matching_selectors(item_id)


@pytest.mark.parametrize("seed", range(5))
def test_incremental_agrees_with_linear_scan_on_long_random_runs(seed):
    """Every selector registered at once, then many random label and selector changes:
    each step compares the full match state of both indexes."""
    import random
    rnd = random.Random(seed)
    fast, slow = Recorder(LabelIndex), Recorder(LinearScanLabelIndex)
    for sel_id, text in enumerate(SELECTORS):
        fast.index.update_selector(sel_id, parse(text))
        slow.index.update_selector(sel_id, parse(text))
    for _ in range(600):
        roll = rnd.random()
        ident = rnd.randrange(6)
        labels = {k: rnd.choice(VALUES) for k in rnd.sample(KEYS, rnd.randint(0, 4))}
        new_selector = parse(rnd.choice(SELECTORS))
        for r in (fast, slow):
            if roll < 0.75:
                r.index.update_labels(ident, labels)
            elif roll < 0.85:
                r.index.remove_labels(ident)
            elif roll < 0.95:
                r.index.update_selector(ident, new_selector)
            else:
                r.index.remove_selector(ident)
        assert fast.take() == slow.take()
        assert fast.state == slow.state
