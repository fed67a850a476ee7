"""`calicoctl-py ipam show/check/release` through the real CLI against a real etcd, with
addresses allocated by libcalico_py.ipam exactly as the CNI plugin allocates them."""
import ipaddress
import json
import textwrap

import pytest

from libcalico_py.datastore.config import DatastoreConfig
from libcalico_py.datastore.etcd import EtcdDatastore
from libcalico_py.ipam.allocator import IPAM, IPAMConfig
from tests.integration.calicoctl.cli_runner import calicoctl


def pool_doc(name, cidr, block_size=None):
    extra = f"\n  blockSize: {block_size}" if block_size else ""
    return textwrap.dedent(f"""\
        apiVersion: projectcalico.org/v3
        kind: IPPool
        metadata: {{name: {name}}}
        spec:
          cidr: {cidr}""") + extra + "\n"


def node_doc(name, tunnel=None):
    bgp = {"ipv4Address": "10.0.0.1/24"}
    if tunnel:
        bgp["ipv4IPIPTunnelAddr"] = tunnel
    return json.dumps({"apiVersion": "projectcalico.org/v3", "kind": "Node",
                       "metadata": {"name": name}, "spec": {"bgp": bgp}})


def wep_doc(node, pod, ip, ns="prod"):
    return json.dumps({
        "apiVersion": "projectcalico.org/v3", "kind": "WorkloadEndpoint",
        "metadata": {"name": f"{node}-k8s-{pod}-eth0", "namespace": ns},
        "spec": {"node": node, "orchestrator": "k8s", "pod": pod, "endpoint": "eth0",
                 "interfaceName": "cali" + pod.ljust(11, "0")[:11], "ipNetworks": [f"{ip}/32"]}})


@pytest.fixture
def ctl(etcd):
    return lambda *a, **kw: calicoctl(etcd.endpoint, *a, **kw)


@pytest.fixture
def ipam(etcd):
    ds = EtcdDatastore(DatastoreConfig([etcd.endpoint]))
    yield IPAM(ds)
    ds.close()


def pod_attrs(node, pod, ns="prod"):
    return {"namespace": ns, "node": node, "pod": pod, "timestamp": "2026-11-24 05:00:00", "type": "pod"}


def table(out: str) -> list[list[str]]:
    """Rows of a boxed table, header first, cells stripped."""
    return [[c.strip() for c in line.strip("|").split("|")]
            for line in out.splitlines() if line.startswith("|")]


def test_show_pool_use_and_blocks(ctl, ipam):
    ctl("apply", "-f", "-", stdin=pool_doc("pool1", "10.65.0.0/16")).assert_ok()
    a = ipam.auto_assign("k8s-pod-network.c1", "node1", 3, attrs=pod_attrs("node1", "web"))
    b = ipam.auto_assign("k8s-pod-network.c2", "node2", 1, attrs=pod_attrs("node2", "db"))
    rows = table(ctl("ipam", "show").assert_ok().out)
    assert rows == [["GROUPING", "CIDR", "IPS TOTAL", "IPS IN USE", "IPS FREE"],
                    ["IP Pool", "10.65.0.0/16", "65536", "4 (0%)", "65532 (100%)"]]
    rows = table(ctl("ipam", "show", "--show-blocks").assert_ok().out)
    block_a = str(ipaddress.ip_network(f"{a[0]}/26", strict=False))
    block_b = str(ipaddress.ip_network(f"{b[0]}/26", strict=False))
    assert rows[1][0] == "IP Pool"
    assert sorted(rows[2:]) == sorted([["Block", block_a, "64", "3 (5%)", "61 (95%)"],
                                       ["Block", block_b, "64", "1 (2%)", "63 (98%)"]])
    out = ctl("ipam", "show").out
    assert out.splitlines()[0].startswith("+--") and out.endswith("+\n")


def test_show_ip_says_who_holds_it(ctl, ipam):
    ctl("apply", "-f", "-", stdin=pool_doc("pool1", "10.65.0.0/16")).assert_ok()
    [ip] = ipam.auto_assign("k8s-pod-network.abc", "node1", 1, attrs=pod_attrs("node1", "web-1"))
    out = ctl("ipam", "show", f"--ip={ip}").assert_ok().out
    assert out.splitlines()[:2] == [f"IP {ip} is in use", "Handle ID: k8s-pod-network.abc"]
    assert "  pod: web-1" in out and "  namespace: prod" in out and "  node: node1" in out
    assert "affine to node1" in out
    free = ip + 1
    assert ctl("ipam", "show", "--ip", str(free)).assert_ok().out == f"{free} is not assigned\n"
    ctl("ipam", "show", "--ip=10.65.0.300").assert_error("invalid IP address specified")


def test_show_borrowed_and_configuration(ctl, ipam):
    # One /30 block in the pool: node1 claims it, node2 has to borrow from it.
    ctl("apply", "-f", "-", stdin=pool_doc("tiny", "10.70.0.0/30", block_size=30)).assert_ok()
    ipam.auto_assign("h1", "node1", 1, attrs=pod_attrs("node1", "a"))
    [borrowed] = ipam.auto_assign("h2", "node2", 1, attrs=pod_attrs("node2", "b", ns="ops"))
    rows = table(ctl("ipam", "show", "--show-borrowed").assert_ok().out)
    assert rows == [["IP", "BORROWING-NODE", "BLOCK", "BLOCK OWNER", "TYPE", "ALLOCATED-TO"],
                    [str(borrowed), "node2", "10.70.0.0/30", "node1", "pod", "ops/b"]]
    rows = table(ctl("ipam", "show", "--show-configuration").assert_ok().out)
    assert rows == [["PROPERTY", "VALUE"], ["StrictAffinity", "false"],
                    ["AutoAllocateBlocks", "true"], ["MaxBlocksPerHost", "0"]]
    r = ctl("ipam", "configure", "--strictaffinity=true").assert_ok()
    assert r.out == "Successfully set StrictAffinity to: true\n"
    r = ctl("ipam", "configure", "--max-blocks-per-host", "4").assert_ok()
    assert r.out == "Successfully set MaxBlocksPerHost to: 4\n"
    assert ipam.config() == IPAMConfig(strict_affinity=True, max_blocks_per_host=4)
    rows = table(ctl("ipam", "show", "--show-configuration").assert_ok().out)
    assert ["StrictAffinity", "true"] in rows and ["MaxBlocksPerHost", "4"] in rows
    ctl("ipam", "configure", "--strictaffinity=maybe").assert_error("Use true or false")
    ctl("ipam", "configure", "--max-blocks-per-host=-2").assert_error("Use a valid number")
    ctl("ipam", "configure").assert_error("at least one configuration option")


def _leaky_cluster(ctl, ipam, etcd):
    """node1 runs pod web (in use) and has a tunnel address (in use); pod gone's address
    leaked (no endpoint); handle orphan holds nothing."""
    ctl("apply", "-f", "-", stdin=pool_doc("pool1", "10.65.0.0/16")).assert_ok()
    [web] = ipam.auto_assign("k8s-pod-network.web", "node1", 1, attrs=pod_attrs("node1", "web"))
    [gone] = ipam.auto_assign("k8s-pod-network.gone", "node1", 1, attrs=pod_attrs("node1", "gone"))
    [tunnel] = ipam.auto_assign("ipip-tunnel-addr-node1", "node1", 1,
                                attrs={"node": "node1", "type": "ipipTunnelAddress"})
    ctl("apply", "-f", "-", stdin=node_doc("node1", str(tunnel))).assert_ok()
    ctl("apply", "-f", "-", stdin=wep_doc("node1", "web", web)).assert_ok()
    ipam.kv.put("/calico/ipam/v2/handle/k8s-pod-network.orphan", '{"block":{},"deleted":false}')
    return web, gone, tunnel


def test_check_finds_leaks_and_writes_report(ctl, ipam, etcd, tmp_path):
    web, gone, tunnel = _leaky_cluster(ctl, ipam, etcd)
    report = tmp_path / "report.json"
    r = ctl("ipam", "check", "--show-problem-ips", "-o", str(report)).assert_ok()
    assert "Found 1 IPAM blocks." in r.out
    assert "IPAM blocks record 3 allocations." in r.out
    assert "Found 1 node tunnel IPs." in r.out and "Found 1 workload IPs." in r.out
    assert f"  {gone} leaked; attrs Main:k8s-pod-network.gone Extra:namespace=prod,node=node1,pod=gone" in r.out
    assert "Found 1 IPs that are allocated in IPAM but not actually in use." in r.out
    assert "Found 1 handles with no matching IPs (and 3 handles with matches)." in r.out
    assert r.out.rstrip().endswith("Check complete; found 2 problems.")
    data = json.loads(report.read_text())
    assert data["allocations"][str(gone)][0]["inUse"] is False
    assert data["allocations"][str(web)][0]["inUse"] is True
    assert data["allocations"][str(web)][0]["owners"] == ["Workload(prod/node1-k8s-web-eth0)"]
    assert data["allocations"][str(tunnel)][0]["owners"] == ["Node(node1)"]
    assert [h["ID"] for h in data["leakedHandles"]] == ["k8s-pod-network.orphan"]
    everything = ctl("ipam", "check", "--show-all-ips").assert_ok().out
    assert f"  {web} belongs to Workload(prod/node1-k8s-web-eth0)" in everything
    assert f"  {tunnel} allocated; attrs Main:ipip-tunnel-addr-node1" in everything


def test_check_reports_structural_inconsistency(ctl, ipam, etcd):
    ctl("apply", "-f", "-", stdin=pool_doc("pool1", "10.65.0.0/16")).assert_ok()
    ipam.auto_assign("h1", "ghost-node", 1, attrs=pod_attrs("ghost-node", "p"))
    r = ctl("ipam", "check").assert_ok()
    assert "host-no-node" in r.out and "'ghost-node'" in r.out


def test_release_from_report_frees_only_what_is_still_leaked(ctl, ipam, etcd, tmp_path):
    web, gone, tunnel = _leaky_cluster(ctl, ipam, etcd)
    report = tmp_path / "report.json"
    ctl("ipam", "check", "-o", str(report)).assert_ok()
    ctl("ipam", "release", "--from-report", str(report)).assert_error("data store is not locked")
    r = ctl("ipam", "release", "--from-report", str(report), "--force").assert_ok()
    assert "Released 1 IPs successfully" in r.out
    assert "Released 1 handles; 0 skipped; 0 errors." in r.out
    assert ipam.ip_info(str(gone)) is None
    assert ipam.ip_info(str(web))["handle_id"] == "k8s-pod-network.web"
    assert ipam.ip_info(str(tunnel)) is not None
    assert ipam.kv.get("/calico/ipam/v2/handle/k8s-pod-network.orphan") is None
    after = ctl("ipam", "check").assert_ok().out
    assert after.rstrip().endswith("Check complete; found 0 problems.")


def test_release_from_stale_report_leaves_reallocated_address(ctl, ipam, etcd, tmp_path):
    web, gone, tunnel = _leaky_cluster(ctl, ipam, etcd)
    report = tmp_path / "report.json"
    ctl("ipam", "check", "-o", str(report)).assert_ok()
    # The leaked address is freed and handed to a new pod before the report is used.
    ipam.release_ips([gone])
    ipam.assign(str(gone), "k8s-pod-network.new", "node1", attrs=pod_attrs("node1", "new"))
    r = ctl("ipam", "release", "--from-report", str(report), "--force").assert_ok()
    assert "Released 0 IPs successfully" in r.out
    assert ipam.ip_info(str(gone))["handle_id"] == "k8s-pod-network.new"


def test_release_from_report_refuses_foreign_or_bad_reports(ctl, ipam, etcd, tmp_path):
    _leaky_cluster(ctl, ipam, etcd)
    report = tmp_path / "report.json"
    ctl("ipam", "check", "-o", str(report)).assert_ok()
    data = json.loads(report.read_text())
    other = tmp_path / "other.json"
    other.write_text(json.dumps(dict(data, clusterGUID="another-cluster")))
    ctl("ipam", "release", "--from-report", str(other), "--force").assert_error("mismatched cluster GUID")
    old = tmp_path / "old.json"
    old.write_text(json.dumps(dict(data, version="v0.0.1")))
    ctl("ipam", "release", "--from-report", str(old)).assert_error("different version")
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    ctl("ipam", "release", "--from-report", str(junk)).assert_error("not a JSON ipam check report")
    ctl("ipam", "release", "--from-report", str(tmp_path / "nope.json")).assert_error("No such file")
    ctl("ipam", "release").assert_error("--ip=ADDR or --from-report")


def test_release_ip(ctl, ipam, etcd):
    web, gone, tunnel = _leaky_cluster(ctl, ipam, etcd)
    r = ctl("ipam", "release", f"--ip={web}").assert_error("in use by Workload(prod/node1-k8s-web-eth0)")
    assert ipam.ip_info(str(web)) is not None
    r = ctl("ipam", "release", f"--ip={gone}").assert_ok()
    assert r.out == f"Successfully released IP address {gone}\n"
    ctl("ipam", "release", f"--ip={gone}").assert_error(f"IP address {gone} is not assigned")
    ctl("ipam", "release", f"--ip={web}", "--force").assert_ok()
    assert ipam.ip_info(str(web)) is None
    ctl("ipam", "release", "--ip=bogus").assert_error("invalid IP address specified")


def test_migrate_export_import_restores_ipam_byte_for_byte(ctl, ipam, etcd):
    from tests.integration.calicoctl.cli_runner import etcd_snapshot
    web, gone, tunnel = _leaky_cluster(ctl, ipam, etcd)
    ipam.auto_assign("k8s-pod-network.two", "node2", 2, attrs=pod_attrs("node2", "two"))
    before = etcd_snapshot(etcd.endpoint)
    assert any("/ipam/v2/assignment/" in k for k in before) and any("/ipam/v2/host/" in k for k in before)
    dump = ctl("datastore", "migrate", "export").assert_ok().out
    ipam.kv.txn(compare=[], success=[("delete", k) for k in before])
    assert etcd_snapshot(etcd.endpoint) == {}
    r = ctl("datastore", "migrate", "import", "-f", "-", stdin=dump).assert_ok()
    assert "IPAM record(s)" in r.out
    assert etcd_snapshot(etcd.endpoint) == before
    assert ipam.ip_info(str(web))["handle_id"] == "k8s-pod-network.web"


def test_locked_datastore_release_flow_needs_no_force(ctl, ipam, etcd, tmp_path):
    web, gone, tunnel = _leaky_cluster(ctl, ipam, etcd)
    stale = tmp_path / "stale.json"
    ctl("ipam", "check", "-o", str(stale)).assert_ok()
    assert ctl("datastore", "migrate", "lock").assert_ok().out == "Datastore locked.\n"
    assert ctl("get", "clusterinfo", "default", "-o", "yaml").yaml()["spec"]["datastoreReady"] is False
    # Made before the lock: ClusterInformation has moved on since.
    ctl("ipam", "release", "--from-report", str(stale)).assert_error("all stale")
    report = tmp_path / "report.json"
    ctl("ipam", "check", "-o", str(report)).assert_ok()
    assert json.loads(report.read_text())["datastoreLocked"] is True
    r = ctl("ipam", "release", "--from-report", str(report)).assert_ok()
    assert "Released 1 IPs successfully" in r.out and "WARNING" not in r.out
    assert r.out.rstrip().endswith("You may now unlock the data store.")
    assert ipam.ip_info(str(gone)) is None and ipam.ip_info(str(web)) is not None
    assert ctl("datastore", "migrate", "unlock").assert_ok().out == "Datastore unlocked.\n"
    assert ctl("get", "clusterinfo", "default", "-o", "yaml").yaml()["spec"]["datastoreReady"] is True
