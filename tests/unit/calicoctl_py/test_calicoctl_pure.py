"""Fast tests of calicoctl-py's pure parts: manifests, patches, templates, tables."""
import io

import pytest

from calicoctl_py import manifests, output, patch_cmd
from calicoctl_py.exit import CommandError
from libcalico_py.model import kinds


def test_manifest_reads_multi_doc_yaml_json_and_lists(tmp_path):
    f = tmp_path / "a.yaml"
    f.write_text("kind: A\n---\n\n---\nkind: BList\nitems:\n- kind: B\n- kind: C\n")
    docs = manifests.read(str(f))
    assert [d.body["kind"] for d in docs] == ["A", "B", "C"]
    assert [d.index for d in docs] == [1, 2, 3]
    docs = manifests.read("-", stdin=io.StringIO('[{"kind": "X"}, {"kind": "Y"}]'))
    assert [d.body["kind"] for d in docs] == ["X", "Y"]


def test_manifest_yaml_stream_of_json_documents():
    docs = manifests.read("-", stdin=io.StringIO('{"kind": "A"}\n---\n{"kind": "B"}\n'))
    assert [d.body["kind"] for d in docs] == ["A", "B"]


def test_manifest_directory_is_read_in_name_order(tmp_path):
    (tmp_path / "b.yaml").write_text("kind: B\n")
    (tmp_path / "a.json").write_text('{"kind": "A"}')
    (tmp_path / "notes.txt").write_text("ignored")
    assert [d.body["kind"] for d in manifests.read(str(tmp_path))] == ["A", "B"]


@pytest.mark.parametrize("text, where", [
    ("a: [1, 2\n", "line 2"),
    ("a: b\n c: d\n", "line 2"),
    ('{"a": }', "line 1, column 7"),
])
def test_manifest_syntax_errors_name_line_and_column(tmp_path, text, where):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(manifests.ManifestError) as e:
        manifests.read(str(f))
    assert where in str(e.value) and str(f) in str(e.value)


def test_manifest_missing_file():
    with pytest.raises(manifests.ManifestError, match="file does not exist"):
        manifests.read("/nonexistent/x.yaml")


def test_merge_patch_rfc7386():
    target = {"a": {"b": 1, "c": 2}, "d": [1]}
    assert patch_cmd.merge_patch(target, {"a": {"b": None, "e": 3}, "d": [2]}) == {"a": {"c": 2, "e": 3}, "d": [2]}
    assert target == {"a": {"b": 1, "c": 2}, "d": [1]}


def test_json_patch_rfc6902():
    doc = {"spec": {"ports": [80], "x": 1}}
    out = patch_cmd.json_patch(doc, [
        {"op": "add", "path": "/spec/ports/-", "value": 81},
        {"op": "replace", "path": "/spec/x", "value": 2},
        {"op": "copy", "from": "/spec/x", "path": "/spec/y"},
        {"op": "remove", "path": "/spec/ports/0"},
        {"op": "test", "path": "/spec/y", "value": 2},
    ])
    assert out == {"spec": {"ports": [81], "x": 2, "y": 2}}
    with pytest.raises(CommandError, match=r"patch\[0\]"):
        patch_cmd.json_patch(doc, [{"op": "replace", "path": "/spec/nope", "value": 1}])
    with pytest.raises(CommandError, match="test operation"):
        patch_cmd.json_patch(doc, [{"op": "test", "path": "/spec/x", "value": 9}])


def test_go_template_subset():
    data = {"items": [{"metadata": {"name": "a"}}, {"metadata": {"name": "b"}}]}
    assert output.go_template('{{range .items}}{{.metadata.name}}{{"\\n"}}{{end}}', data) == "a\nb\n"
    assert output.go_template("{{.missing}}", {}) == "<no value>"
    assert output.go_template("x{{range .items}}{{.n}}{{end}}y", {"items": []}) == "xy"


def test_table_columns_and_namespace_prefix():
    spec = kinds.by_kind("NetworkPolicy")
    items = [{"metadata": {"name": "p1", "namespace": "ns"}, "spec": {"order": 10.0, "selector": "a == 'b'"}}]
    text = output.table(spec, items, spec.wide_columns, with_namespace=True, ctx={})
    lines = text.splitlines()
    assert lines[0].split() == ["NAMESPACE", "NAME", "TIER", "ORDER", "SELECTOR"]
    assert lines[1].split()[:4] == ["ns", "p1", "default", "10"]


def test_node_asn_column_shows_inherited_as():
    spec = kinds.by_kind("Node")
    items = [{"metadata": {"name": "n1"}, "spec": {"bgp": {"ipv4Address": "10.0.0.1/24"}}},
             {"metadata": {"name": "n2"}, "spec": {"bgp": {"asNumber": 65001, "ipv4Address": "10.0.0.2/24"}}}]
    rows = [line.split() for line in output.table(spec, items, spec.wide_columns, False, {}).splitlines()]
    assert rows[1][:3] == ["n1", "(64512)", "10.0.0.1/24"]
    assert rows[2][:3] == ["n2", "65001", "10.0.0.2/24"]
