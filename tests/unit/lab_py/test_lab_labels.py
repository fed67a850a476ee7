"""kubectl label semantics of lab_py.labels."""
import pytest

from lab_py.labels import LabelError, apply_changes, missing_removals, parse_changes, parse_pairs


def test_set_new_label():
    assert apply_changes({"a": "1"}, ["b=2"], False) == {"a": "1", "b": "2"}


def test_change_needs_overwrite():
    with pytest.raises(LabelError, match=r"'a' already has a value \(1\), and --overwrite is false"):
        apply_changes({"a": "1"}, ["a=2"], False)
    assert apply_changes({"a": "1"}, ["a=2"], True) == {"a": "2"}


def test_same_value_without_overwrite_is_fine():
    assert apply_changes({"a": "1"}, ["a=1"], False) == {"a": "1"}


def test_remove():
    assert apply_changes({"a": "1", "b": "2"}, ["a-"], False) == {"b": "2"}


def test_remove_missing_is_not_an_error():
    assert apply_changes({"a": "1"}, ["zz-"], False) == {"a": "1"}
    assert missing_removals({"a": "1"}, ["zz-", "a-"]) == ["zz"]


def test_set_and_remove_same_key_refused():
    with pytest.raises(LabelError, match="both modify and remove"):
        apply_changes({"a": "1"}, ["a=2", "a-"], True)


def test_empty_value_allowed():
    assert apply_changes({}, ["a="], False) == {"a": ""}


def test_prefixed_key():
    assert apply_changes({}, ["example.com/team=blue"], False) == {"example.com/team": "blue"}


@pytest.mark.parametrize("arg", ["-", "novalue", "bad key=v", "a=b c", "a=" + "v" * 64, "-a=1", "a/b/c=1",
                                 "Bad_Prefix/x=1"])
def test_invalid_specs(arg):
    with pytest.raises(LabelError) as e:
        apply_changes({}, [arg], True)
    assert repr(arg) in str(e.value)


def test_no_changes_refused():
    with pytest.raises(LabelError, match="at least one"):
        parse_changes([])


def test_changes_applied_together():
    assert apply_changes({"a": "1", "b": "2"}, ["a-", "b=3", "c=4"], True) == {"b": "3", "c": "4"}


def test_input_not_mutated():
    cur = {"a": "1"}
    apply_changes(cur, ["a-"], False)
    assert cur == {"a": "1"}


def test_parse_pairs():
    assert parse_pairs(["a=1", "b=x=y"[:3]]) == {"a": "1", "b": "x"}
    with pytest.raises(LabelError, match="expected key=value"):
        parse_pairs(["a"])
    with pytest.raises(LabelError, match="invalid label 'a b=1'"):
        parse_pairs(["a b=1"])
