"""Rendering connectivity matrices (lab_py.matrix.render) and the trivial matrix."""
from lab_py import matrix
from lab_py.state import Lab, Pod


def _m():
    return {"x/a": {"x/a": True, "y/bb": False}, "y/bb": {"x/a": True, "y/bb": True}}


def test_render_plain():
    assert matrix.render(_m(), colour=False).splitlines() == [
        "     0 1",
        "x/a  . X   0",
        "y/bb . .   1",
    ]


def test_render_colour_marks_cells():
    out = matrix.render(_m(), colour=True)
    assert "\033[32m.\033[0m" in out and "\033[31mX\033[0m" in out
    assert out.count("\033[31mX") == 1


def test_render_empty():
    assert matrix.render({}, colour=False) == "     "


def test_render_column_index_wraps_after_ten():
    keys = [f"n/p{i:02d}" for i in range(12)]
    m = {a: {b: True for b in keys} for a in keys}
    header = matrix.render(m, colour=False).splitlines()[0].split()
    assert header == [str(i % 10) for i in range(12)]


def test_single_pod_reaches_itself_without_probing():
    lab = Lab("t")
    lab.pods["x/a"] = Pod("x", "a", "node1", "t-p-x.a", "cid", "10.0.0.1")
    assert matrix.matrix(lab, 80, "TCP") == {"x/a": {"x/a": True}}


def test_probe_from_a_vanished_namespace_names_it():
    import pytest

    from lab_py.probe import probe_many
    with pytest.raises(FileNotFoundError, match="network namespace nosuch-p-x.a is gone"):
        probe_many([("nosuch-p-x.a", "10.0.0.1", 80, "TCP")])
