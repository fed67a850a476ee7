"""History independence: after any sequence of puts and deletes, flushed at random points,
the dataplane view equals that of a fresh graph fed only the final datastore contents,
and no step breaks the enforcing fake's contract."""
from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as hs

from felixpy.calc.graph import CalcGraph
from felixpy.calc.snapshot import delete_for, key_for, update_for
from tests.unit.felixpy.calc import states as st
from tests.unit.felixpy.calc.enforcing_dataplane import EnforcingDataplane


def _variants():
    """Several values per key, so puts also change existing objects."""
    out = []
    docs = {key_for(d): d for s in st.ALL_STATES for d in s.resources}
    for key, doc in sorted(docs.items()):
        values = [doc]
        if doc["kind"] == "WorkloadEndpoint":
            moved = copy.deepcopy(doc)
            moved["spec"]["node"] = "node2" if doc["spec"]["node"] == st.HOST else st.HOST
            relabelled = copy.deepcopy(doc)
            relabelled["metadata"]["labels"] = {"app": "db", "role": "ext"}
            values += [moved, relabelled]
        elif doc["kind"] == "Profile":
            other = copy.deepcopy(doc)
            other["spec"]["labelsToApply"]["pcns.env"] = "dev"
            values.append(other)
        elif doc["kind"] in ("NetworkPolicy", "GlobalNetworkPolicy"):
            other = copy.deepcopy(doc)
            other["spec"]["order"] = 7
            other["spec"]["selector"] = "all()"
            values.append(other)
        out.append((key, values))
    return out


VARIANTS = _variants()

operation = hs.tuples(hs.integers(0, len(VARIANTS) - 1), hs.integers(0, 3), hs.booleans())


def view_of(docs: dict) -> dict:
    graph = CalcGraph(hostname=st.HOST)
    dataplane = EnforcingDataplane()
    graph.on_updates([update_for(d) for d in docs.values()])
    graph.on_status("in-sync")
    dataplane.apply(graph.flush())
    return dataplane.view()


@settings(max_examples=60, deadline=None)
@given(hs.lists(operation, min_size=1, max_size=40))
def test_final_view_depends_only_on_final_contents(ops):
    graph = CalcGraph(hostname=st.HOST)
    dataplane = EnforcingDataplane()
    graph.on_status("in-sync")
    contents: dict[str, dict] = {}
    for rev, (index, choice, flush) in enumerate(ops, start=1):
        key, values = VARIANTS[index]
        if choice == 3:
            if key in contents:
                graph.on_updates([delete_for(contents.pop(key), revision=rev)])
        else:
            doc = values[choice % len(values)]
            contents[key] = doc
            graph.on_updates([update_for(doc, rev)])
        if flush:
            dataplane.apply(graph.flush())
    dataplane.apply(graph.flush())
    assert dataplane.view() == view_of(contents)
