"""calicoctl-py through the real CLI process against a real etcd: the resource verbs,
every output format, all-or-nothing validation, messages and exit codes."""
import json
import textwrap

import pytest

from tests.integration.calicoctl.cli_runner import calicoctl, etcd_snapshot

POLICIES = textwrap.dedent("""\
    apiVersion: projectcalico.org/v3
    kind: NetworkPolicy
    metadata:
      name: allow-web
      namespace: prod
    spec:
      order: 100
      selector: app == 'web'
      ingress:
      - action: Allow
        protocol: TCP
        source:
          selector: app == 'frontend'
        destination:
          ports: [80, "8080:8090"]
    ---
    apiVersion: projectcalico.org/v3
    kind: NetworkPolicy
    metadata:
      name: deny-all
      namespace: prod
    spec:
      selector: all()
      types: [Ingress, Egress]
    """)

POOL = textwrap.dedent("""\
    apiVersion: projectcalico.org/v3
    kind: IPPool
    metadata:
      name: pool1
    spec:
      cidr: 10.65.0.0/16
      natOutgoing: true
    """)


@pytest.fixture
def ctl(etcd):
    return lambda *a, **kw: calicoctl(etcd.endpoint, *a, **kw)


def test_create_reports_count_and_kind(ctl):
    r = ctl("create", "-f", "-", stdin=POLICIES).assert_ok()
    assert r.out.strip() == "Successfully created 2 'NetworkPolicy' resource(s)"
    ctl("create", "-f", "-", stdin=POLICIES).assert_error("already exists")
    r = ctl("create", "-f", "-", "--skip-exists", stdin=POLICIES).assert_ok()
    assert "Successfully created 2" in r.out


def test_get_table_wide_and_namespace_column(ctl):
    ctl("apply", "-f", "-", stdin=POLICIES).assert_ok()
    rows = ctl("get", "networkpolicy", "-n", "prod").assert_ok().rows()
    assert rows[0] == ["NAMESPACE", "NAME", "TIER"]
    assert ["prod", "allow-web", "default"] in rows and ["prod", "deny-all", "default"] in rows
    rows = ctl("get", "np", "-n", "prod", "-o", "wide").assert_ok().rows()
    assert rows[0] == ["NAMESPACE", "NAME", "TIER", "ORDER", "SELECTOR"]
    assert rows[1][:4] == ["prod", "allow-web", "default", "100"]
    rows = ctl("get", "policies", "-A").assert_ok().rows()
    assert rows[0][0] == "NAMESPACE" and len(rows) == 3
    # Without -n the default namespace is listed, which is empty here.
    assert ctl("get", "networkpolicies").assert_ok().rows() == [["NAME", "TIER"]]


def test_get_yaml_json_custom_columns_and_template(ctl):
    ctl("apply", "-f", "-", stdin=POLICIES + "---\n" + POOL).assert_ok()
    one = ctl("get", "np", "allow-web", "-n", "prod", "-o", "yaml").assert_ok().yaml()
    assert one["kind"] == "NetworkPolicy" and one["metadata"]["name"] == "allow-web"
    assert one["metadata"]["resourceVersion"]
    assert one["spec"]["ingress"][0]["destination"]["ports"] == [80, "8080:8090"]
    lst = json.loads(ctl("get", "np", "-n", "prod", "-o", "json").assert_ok().out)
    assert lst["kind"] == "NetworkPolicyList" and len(lst["items"]) == 2
    rows = ctl("get", "ippools", "-o", "custom-columns=NAME,CIDR,NAT").assert_ok().rows()
    assert rows == [["NAME", "CIDR", "NAT"], ["pool1", "10.65.0.0/16", "true"]]
    ctl("get", "ippools", "-o", "custom-columns=NAME,BOGUS").assert_error("BOGUS")
    out = ctl("get", "ippool", "-o", 'go-template={{range .items}}{{.metadata.name}}:{{.spec.cidr}}{{"\\n"}}{{end}}')
    assert out.assert_ok().out == "pool1:10.65.0.0/16\n"
    rows = ctl("get", "ippool", "-o", "wide").assert_ok().rows()
    assert rows[0][:3] == ["NAME", "CIDR", "NAT"] and rows[1][:3] == ["pool1", "10.65.0.0/16", "true"]


def test_get_yaml_apply_round_trip_is_byte_identical(ctl, etcd):
    ctl("apply", "-f", "-", stdin=POLICIES + "---\n" + POOL).assert_ok()
    before = etcd_snapshot(etcd.endpoint)
    for kind, extra in (("np", ["-A"]), ("ippool", [])):
        text = ctl("get", kind, *extra, "-o", "yaml").assert_ok().out
        ctl("apply", "-f", "-", stdin=text).assert_ok()
    assert etcd_snapshot(etcd.endpoint) == before


def test_invalid_document_in_file_writes_nothing_and_lists_every_error(ctl, etcd):
    bad = POLICIES + textwrap.dedent("""\
        ---
        apiVersion: projectcalico.org/v3
        kind: GlobalNetworkPolicy
        metadata:
          name: bad-ports
        spec:
          ingress:
          - action: Allow
            protocol: TCP
            destination:
              ports: ["90:80"]
          - action: Jump
        ---
        apiVersion: projectcalico.org/v3
        kind: IPPool
        metadata:
          name: bad-pool
        spec:
          cidr: 10.0.0.0/33
        """)
    r = ctl("apply", "-f", "-", stdin=bad).assert_error("nothing was written")
    assert "document 3" in r.err and "GlobalNetworkPolicy 'bad-ports'" in r.err
    assert "spec.ingress[0].destination.ports[0]" in r.err
    assert "spec.ingress[1].action" in r.err
    assert "document 4" in r.err and "spec.cidr" in r.err
    assert etcd_snapshot(etcd.endpoint) == {}


def test_clear_one_line_errors(ctl, tmp_path):
    ctl("get", "frobnicators").assert_error("resource type 'frobnicators' is not supported")
    ctl("apply", "-f", str(tmp_path / "missing.yaml")).assert_error("file does not exist")
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: IPPool\nmetadata:\n  name: [unclosed\n")
    r = ctl("apply", "-f", str(broken)).assert_error("invalid YAML at line")
    assert len(r.err.strip().splitlines()) == 1
    r = ctl("apply", "-f", "-", stdin="apiVersion: projectcalico.org/v3\nkind: Frob\nmetadata: {name: x}\n")
    r.assert_error("resource type 'Frob'")


def test_unreachable_etcd_names_the_endpoint(tmp_path):
    r = calicoctl("http://127.0.0.1:1", "get", "nodes")
    r.assert_error("127.0.0.1:1")
    assert len(r.err.strip().splitlines()) == 1


def test_delete_replace_and_skip_flags(ctl):
    ctl("apply", "-f", "-", stdin=POOL).assert_ok()
    changed = POOL.replace("natOutgoing: true", "natOutgoing: false")
    assert "Successfully replaced 1 'IPPool'" in ctl("replace", "-f", "-", stdin=changed).assert_ok().out
    assert ctl("get", "ippool", "pool1", "-o", "yaml").yaml()["spec"].get("natOutgoing", False) is False
    assert "Successfully deleted 1 'IPPool'" in ctl("delete", "ippool", "pool1").assert_ok().out
    ctl("delete", "ippool", "pool1").assert_error("does not exist")
    ctl("delete", "ippool", "pool1", "--skip-not-exists").assert_ok()
    ctl("replace", "-f", "-", stdin=POOL).assert_error("does not exist")
    ctl("apply", "-f", "-", stdin=POLICIES).assert_ok()
    assert "Successfully deleted 2 'NetworkPolicy'" in ctl("delete", "-f", "-", stdin=POLICIES).assert_ok().out


def test_patch_and_label(ctl):
    ctl("apply", "-f", "-", stdin=POOL).assert_ok()
    ctl("patch", "ippool", "pool1", "-p", '{"spec":{"disabled":true}}').assert_ok()
    assert ctl("get", "ippool", "pool1", "-o", "yaml").yaml()["spec"]["disabled"] is True
    ctl("patch", "ippool", "pool1", "-t", "json",
        "-p", '[{"op":"replace","path":"/spec/natOutgoing","value":false}]').assert_ok()
    assert ctl("get", "ippool", "pool1", "-o", "yaml").yaml()["spec"].get("natOutgoing", False) is False
    ctl("patch", "ippool", "pool1", "-p", '{"spec":{"blockSize":99}}').assert_error("blockSize")
    ctl("label", "ippool", "pool1", "rack=r1").assert_ok()
    ctl("label", "ippool", "pool1", "rack=r2").assert_error("--overwrite")
    ctl("label", "ippool", "pool1", "rack=r2", "--overwrite").assert_ok()
    assert ctl("get", "ippool", "pool1", "-o", "yaml").yaml()["metadata"]["labels"] == {"rack": "r2"}
    ctl("label", "ippool", "pool1", "rack", "--remove").assert_ok()
    assert "labels" not in ctl("get", "ippool", "pool1", "-o", "yaml").yaml()["metadata"]


def test_kubernetes_network_policy_accepted_as_is(ctl):
    knp = textwrap.dedent("""\
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata:
          name: default-deny
          namespace: x
        spec:
          podSelector: {}
          policyTypes: [Ingress]
        """)
    r = ctl("apply", "-f", "-", stdin=knp).assert_ok()
    assert "Successfully applied 1 'NetworkPolicy'" in r.out
    got = ctl("get", "knp", "default-deny", "-n", "x", "-o", "yaml").assert_ok().yaml()
    assert got["apiVersion"] == "networking.k8s.io/v1" and got["spec"]["policyTypes"] == ["Ingress"]


def test_migrate_export_wipe_import_restores_identical_datastore(ctl, etcd):
    ctl("apply", "-f", "-", stdin=POLICIES + "---\n" + POOL).assert_ok()
    import etcd3
    host, port = etcd.endpoint.split("://")[1].rsplit(":", 1)
    c = etcd3.client(host=host, port=int(port))
    c.put("/calico/ipam/v2/handle/k8s-pod-network.abc", '{"block":{"10.65.0.0/26":1},"deleted":false}')
    before = etcd_snapshot(etcd.endpoint)
    dump = ctl("datastore", "migrate", "export").assert_ok().out
    ctl("datastore", "migrate", "import", "-f", "-", stdin=dump).assert_error("not empty")
    c.delete_prefix("/calico/")
    assert etcd_snapshot(etcd.endpoint) == {}
    ctl("datastore", "migrate", "import", "-f", "-", stdin=dump).assert_ok()
    assert etcd_snapshot(etcd.endpoint) == before   # byte for byte, uid and timestamps too


def test_version_reports_client_and_cluster(ctl):
    ctl("apply", "-f", "-", stdin=textwrap.dedent("""\
        apiVersion: projectcalico.org/v3
        kind: ClusterInformation
        metadata: {name: default}
        spec: {calicoVersion: v3.30.0, clusterType: lab, datastoreReady: true}
        """)).assert_ok()
    out = ctl("version").assert_ok().out
    assert "Client Version:" in out and "Cluster Version:   v3.30.0" in out
    assert "Cluster" not in ctl("version", "--client").assert_ok().out
