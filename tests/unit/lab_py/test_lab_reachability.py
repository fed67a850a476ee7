"""The e2e Reachability helper (tests/e2e/lab/reachability.py): Kubernetes' isolation
model (ingress AND egress, policies additive, self always open), diff and render."""
from tests.e2e.lab.reachability import (Reachability, anyone, diff, from_, in_ns, named, not_, render,
                                        same_ns, to)

PODS = [f"{ns}/{p}" for ns in "xy" for p in "ab"]


def test_baseline_all_open():
    t = Reachability(PODS).table()
    assert all(all(row.values()) for row in t.values()) and len(t) == 4


def test_ingress_isolation_keeps_self():
    t = Reachability(PODS).ingress(in_ns("x")).table()
    assert t["x/a"]["x/a"] and not t["x/b"]["x/a"] and not t["y/a"]["x/b"] and t["x/a"]["y/b"]


def test_policies_add_up():
    r = Reachability(PODS).ingress(named("x/a"), from_(named("x/b"))).ingress(named("x/a"), from_(in_ns("y")))
    t = r.table()
    assert t["x/b"]["x/a"] and t["y/a"]["x/a"] and t["y/b"]["x/a"]


def test_egress_and_ingress_both_needed():
    r = Reachability(PODS).egress(named("x/a"), to(in_ns("y"))).ingress(named("y/b"), from_(not_(named("x/a"))))
    t = r.table()
    assert t["x/a"]["y/a"] and not t["x/a"]["y/b"] and not t["x/a"]["x/b"] and t["x/b"]["y/b"]


def test_allow_all_rule_equals_baseline():
    assert Reachability(PODS).ingress(in_ns("x"), anyone).table() == Reachability(PODS).table()


def test_same_namespace():
    t = Reachability(PODS).ingress(in_ns("x", "y"), same_ns).table()
    assert t["x/a"]["x/b"] and not t["x/a"]["y/b"]


def test_diff_and_render_mark_differences():
    want = Reachability(PODS).ingress(named("x/a")).table()
    got = Reachability(PODS).table()
    lines = diff(want, got)
    assert lines == ["x/b -> x/a: expected blocked, observed open", "y/a -> x/a: expected blocked, observed open",
                     "y/b -> x/a: expected blocked, observed open"]
    grid = render(want, got).splitlines()
    assert grid[3].split()[1:] == ["o", ".", ".", "."]
    assert "missing" in diff(want, {})[0]
