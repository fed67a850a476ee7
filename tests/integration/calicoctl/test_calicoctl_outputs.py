"""The rest of the `get` surface through the real CLI: per-kind default and wide columns,
List output, --export, templates from a file, `get -f` across kinds, recursive
directories and `List` manifests; and `validate`."""
import json
import textwrap

import pytest

from tests.integration.calicoctl.cli_runner import calicoctl, etcd_snapshot

MIXED = textwrap.dedent("""\
    apiVersion: projectcalico.org/v3
    kind: BGPConfiguration
    metadata: {name: default}
    spec: {asNumber: 64513, nodeToNodeMeshEnabled: false, logSeverityScreen: Info}
    ---
    apiVersion: projectcalico.org/v3
    kind: Node
    metadata: {name: node1}
    spec: {bgp: {ipv4Address: 10.0.0.1/24}}
    ---
    apiVersion: projectcalico.org/v3
    kind: Node
    metadata: {name: node2}
    spec: {bgp: {ipv4Address: 10.0.0.2/24, asNumber: 65002}}
    ---
    apiVersion: projectcalico.org/v3
    kind: BGPPeer
    metadata: {name: tor}
    spec: {peerIP: 10.0.0.254, asNumber: 65000}
    ---
    apiVersion: projectcalico.org/v3
    kind: BGPPeer
    metadata: {name: rack1}
    spec: {peerIP: 10.0.0.253, asNumber: 65001, node: node1}
    ---
    apiVersion: projectcalico.org/v3
    kind: HostEndpoint
    metadata: {name: node1-eth0, labels: {role: host}}
    spec: {node: node1, interfaceName: eth0, expectedIPs: [10.0.0.1]}
    ---
    apiVersion: projectcalico.org/v3
    kind: GlobalNetworkSet
    metadata: {name: dns-servers}
    spec: {nets: [8.8.8.8/32, 1.1.1.1/32]}
    ---
    apiVersion: projectcalico.org/v3
    kind: Profile
    metadata: {name: kns.prod}
    spec: {labelsToApply: {team: a, env: prod}}
    """)


@pytest.fixture
def ctl(etcd):
    return lambda *a, **kw: calicoctl(etcd.endpoint, *a, **kw)


def test_default_and_wide_columns_per_kind(ctl):
    ctl("apply", "-f", "-", stdin=MIXED).assert_ok()
    assert ctl("get", "nodes").rows() == [["NAME"], ["node1"], ["node2"]]
    assert ctl("get", "no", "-o", "wide").rows() == [
        ["NAME", "ASN", "IPV4", "IPV6"], ["node1", "(64513)", "10.0.0.1/24"], ["node2", "65002", "10.0.0.2/24"]]
    assert ctl("get", "bgppeers").rows() == [
        ["NAME", "PEERIP", "NODE", "ASN"], ["rack1", "10.0.0.253", "node1", "65001"],
        ["tor", "10.0.0.254", "(global)", "65000"]]
    assert ctl("get", "bgpconfig").rows() == [
        ["NAME", "LOGSEVERITY", "MESHENABLED", "ASNUMBER"], ["default", "Info", "false", "64513"]]
    assert ctl("get", "hep", "-o", "wide").rows() == [
        ["NAME", "NODE", "INTERFACE", "IPS", "PROFILES"], ["node1-eth0", "node1", "eth0", "10.0.0.1"]]
    assert ctl("get", "globalnetworksets", "-o", "wide").rows() == [
        ["NAME", "NETS"], ["dns-servers", "8.8.8.8/32,1.1.1.1/32"]]
    assert ctl("get", "profile", "-o", "wide").rows() == [["NAME", "LABELS"], ["kns.prod", "env=prod,team=a"]]


def test_list_output_export_and_template_file(ctl, tmp_path):
    ctl("apply", "-f", "-", stdin=MIXED).assert_ok()
    lst = ctl("get", "nodes", "-o", "yaml").assert_ok().yaml()
    assert lst["kind"] == "NodeList" and lst["apiVersion"] == "projectcalico.org/v3"
    assert int(lst["metadata"]["resourceVersion"]) > 0
    assert [i["metadata"]["name"] for i in lst["items"]] == ["node1", "node2"]
    one = json.loads(ctl("get", "node", "node2", "-o", "json", "--export").assert_ok().out)
    assert set(one["metadata"]) == {"name"}
    full = json.loads(ctl("get", "node", "node2", "-o", "json").assert_ok().out)
    assert {"resourceVersion", "uid", "creationTimestamp"} <= set(full["metadata"])
    tpl = tmp_path / "peers.tmpl"
    tpl.write_text('{{range .items}}{{.metadata.name}}={{.spec.peerIP}};{{end}}')
    out = ctl("get", "bgpp", "-o", f"go-template-file={tpl}").assert_ok().out
    assert out == "rack1=10.0.0.253;tor=10.0.0.254;"
    ctl("get", "bgpp", "-o", f"go-template-file={tmp_path / 'none'}").assert_error("cannot read template")
    ctl("get", "bgpp", "-o", "xml").assert_error("unrecognized output format 'xml'")


def test_get_by_manifest_across_kinds(ctl, tmp_path):
    ctl("apply", "-f", "-", stdin=MIXED).assert_ok()
    f = tmp_path / "some.yaml"
    f.write_text("\n---\n".join(MIXED.split("---\n")[1:4]))   # node1, node2, bgppeer tor
    got = ctl("get", "-f", str(f), "-o", "yaml").assert_ok().yaml()
    assert got["kind"] == "List"
    assert [(i["kind"], i["metadata"]["name"]) for i in got["items"]] == [
        ("Node", "node1"), ("Node", "node2"), ("BGPPeer", "tor")]


def test_recursive_directory_and_list_manifests(ctl, tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.yaml").write_text(MIXED.split("---\n")[1])
    lst = {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkSet",
         "metadata": {"name": f"set{i}"}, "spec": {"nets": [f"10.9.{i}.0/24"]}} for i in range(3)]}
    (tmp_path / "sub" / "sets.json").write_text(json.dumps(lst))
    assert "Successfully applied 1 'Node'" in ctl("apply", "-f", str(tmp_path)).assert_ok().out
    r = ctl("apply", "-R", "-f", str(tmp_path)).assert_ok()
    assert r.out.strip() == "Successfully applied 4 resource(s)"
    assert len(ctl("get", "gnetsets").rows()) == 4


def test_validate_writes_nothing(ctl, etcd):
    r = calicoctl(None, "validate", "-f", "-", stdin=MIXED).assert_ok()
    assert r.out.strip() == "Successfully validated 8 resource(s)"
    bad = MIXED.replace("peerIP: 10.0.0.254", "peerIP: 10.0.0.999")
    r = calicoctl(None, "validate", "-f", "-", stdin=bad).assert_error("spec.peerIP")
    assert "document 4" in r.err and "BGPPeer 'tor'" in r.err
    assert etcd_snapshot(etcd.endpoint) == {}


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_round_trip_of_every_kind_is_byte_identical(ctl, etcd, fmt):
    import pathlib
    from libcalico_py.model import kinds
    examples = pathlib.Path(__file__).parents[3] / "examples"
    ctl("apply", "-f", "-", stdin=MIXED).assert_ok()
    ctl("apply", "-f", str(examples)).assert_ok()
    ctl("apply", "-f", "-", stdin=textwrap.dedent("""\
        apiVersion: projectcalico.org/v3
        kind: FelixConfiguration
        metadata: {name: default}
        spec: {logSeverityScreen: Warning, iptablesRefreshInterval: 90s}
        ---
        apiVersion: projectcalico.org/v3
        kind: IPReservation
        metadata: {name: gw}
        spec: {reservedCIDRs: [10.65.0.1/32]}
        """)).assert_ok()
    before = etcd_snapshot(etcd.endpoint)
    assert len(before) >= 15
    for spec in kinds.KINDS:
        extra = ["-A"] if spec.namespaced else []
        got = ctl("get", spec.plural, *extra, "-o", fmt).assert_ok()
        if got.yaml()["items"]:   # an empty list is "no resources", as in calicoctl
            ctl("apply", "-f", "-", stdin=got.out).assert_ok()
    assert etcd_snapshot(etcd.endpoint) == before


def test_patch_merge_and_label_namespaced(ctl):
    ctl("apply", "-f", "-", stdin=textwrap.dedent("""\
        apiVersion: projectcalico.org/v3
        kind: NetworkPolicy
        metadata: {name: p1, namespace: prod, labels: {keep: "yes"}}
        spec: {selector: app == 'a', order: 10}
        """)).assert_ok()
    r = ctl("patch", "np", "p1", "-n", "prod", "-t", "merge", "-p", '{"spec":{"order":20}}').assert_ok()
    assert r.out.strip() == "Successfully patched 1 'NetworkPolicy' resource"
    ctl("label", "np", "p1", "-n", "prod", "tier=web").assert_ok()
    got = ctl("get", "np", "p1", "-n", "prod", "-o", "yaml").assert_ok().yaml()
    assert got["spec"]["order"] == 20
    assert {"keep": "yes", "tier": "web"}.items() <= got["metadata"]["labels"].items()
    ctl("label", "np", "p1", "tier=web").assert_error("NetworkPolicy(default/p1)")
    ctl("patch", "np", "p1", "-n", "prod", "-p", "[not json").assert_error("neither JSON nor YAML")
