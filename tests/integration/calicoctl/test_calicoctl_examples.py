"""Every manifest in examples/ applies cleanly and reads back as written."""
import pathlib

import pytest
import yaml

from tests.integration.calicoctl.cli_runner import calicoctl

EXAMPLES = sorted((pathlib.Path(__file__).parents[3] / "examples").glob("*.yaml"))


def _prune(value):
    """Drop empty mappings: Calico prints an absent source/destination as `{}`."""
    if isinstance(value, dict):
        return {k: _prune(v) for k, v in value.items() if v != {}}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def test_there_are_examples():
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_applies_and_reads_back(etcd, path):
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    calicoctl(etcd.endpoint, "apply", "-f", str(path)).assert_ok()
    got = calicoctl(etcd.endpoint, "get", "-f", str(path), "-o", "yaml").assert_ok().yaml()
    items = got["items"] if "items" in got else [got]
    assert len(items) == len(docs)
    for doc, item in zip(docs, items):
        assert item["kind"] == doc["kind"] and item["metadata"]["name"] == doc["metadata"]["name"]
        for key, value in doc["spec"].items():
            assert _prune(item["spec"][key]) == value, (path.name, key)
