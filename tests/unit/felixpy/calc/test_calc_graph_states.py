"""State-sequence tests of the whole calculation graph (after calc_graph_fv_test.go).

Each sequence of datastore states is driven through one CalcGraph into the enforcing
fake dataplane; after every state the fake's view must equal the state's expected view.
Every sequence is also run reversed, with an empty state between each pair, with each
state's updates in reverse key order, one update per flush ("split"), and squashed to
its last state, so the result must depend only on the current datastore contents.
"""
from __future__ import annotations

import itertools

import pytest

from felixpy.calc.graph import CalcGraph
from felixpy.calc.snapshot import delete_for, key_for, update_for
from tests.unit.felixpy.calc import states as st
from tests.unit.felixpy.calc.enforcing_dataplane import EnforcingDataplane


class Driver:
    """Moves one graph from datastore state to datastore state."""

    def __init__(self, reverse_kv: bool = False, split: bool = False):
        self.graph = CalcGraph(hostname=st.HOST)
        self.dataplane = EnforcingDataplane()
        self.current: dict[str, dict] = {}
        self.revision = 0
        self.reverse_kv = reverse_kv
        self.split = split
        self.synced = False

    def go_to(self, state: st.State) -> None:
        target = {key_for(doc): doc for doc in state.resources}
        updates = []
        for key in sorted(set(self.current) | set(target), reverse=self.reverse_kv):
            old, new = self.current.get(key), target.get(key)
            if old == new:
                continue
            self.revision += 1
            updates.append(update_for(new, self.revision) if new is not None
                           else delete_for(old, revision=self.revision))
        self.current = target
        if self.split:
            for update in updates:
                self.graph.on_updates([update])
                self._sync_and_flush()
        else:
            self.graph.on_updates(updates)
        self._sync_and_flush()

    def _sync_and_flush(self) -> None:
        if not self.synced:
            self.graph.on_status("in-sync")
            self.synced = True
        self.dataplane.apply(self.graph.flush())


def run_sequence(sequence, **driver_args) -> Driver:
    driver = Driver(**driver_args)
    for state in sequence:
        driver.go_to(state)
        assert driver.dataplane.view() == state.view(), f"after state {state.name!r}"
    return driver


def with_empties(sequence):
    out = []
    for state in sequence:
        out += [state, st.EMPTY]
    return out


SEQUENCES = {
    "all-states": st.ALL_STATES,
    "grow-and-shrink": [st.ONE_ENDPOINT, st.ALLOW_DB, st.ORDERED, st.ALLOW_DB, st.ONE_ENDPOINT],
    "remote-then-local": [st.REMOTE_ONLY, st.ALLOW_DB, st.REMOTE_ONLY],
    "netsets-and-tiers": [st.NETSETS, st.TIERS, st.NETSETS, st.ORDERED],
    "missing-profile": [st.MISSING_PROFILE, st.ONE_ENDPOINT, st.MISSING_PROFILE],
}
VARIANTS = {
    "forward": (lambda s: s, {}),
    "reversed": (lambda s: list(reversed(s)), {}),
    "empties": (with_empties, {}),
    "reverse-kv": (lambda s: s, {"reverse_kv": True}),
    "split": (lambda s: s, {"split": True}),
    "squashed": (lambda s: s[-1:], {}),
}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", SEQUENCES)
def test_state_sequence(name, variant):
    transform, args = VARIANTS[variant]
    run_sequence(transform(SEQUENCES[name]), **args)


@pytest.mark.parametrize("pair", list(itertools.permutations(st.ALL_STATES, 2)),
                         ids=lambda p: f"{p[0].name[:20]}->{p[1].name[:20]}")
def test_every_pair_of_states(pair):
    run_sequence(list(pair) + [st.EMPTY])


def test_in_sync_emitted_once_after_first_flush():
    driver = run_sequence([st.ONE_ENDPOINT, st.ALLOW_DB, st.EMPTY])
    kinds = [type(m).__name__ for m in driver.dataplane.messages]
    assert kinds.count("InSync") == 1
    first_in_sync = kinds.index("InSync")
    assert "WorkloadEndpointUpdate" in kinds[:first_in_sync]


def test_nothing_is_sent_for_an_empty_datastore_but_config_and_in_sync():
    graph = CalcGraph(hostname=st.HOST)
    graph.on_status("in-sync")
    msgs = graph.flush()
    assert [type(m).__name__ for m in msgs] == ["ConfigUpdate", "InSync"]
    assert graph.flush() == []
