"""Pure parts of `ipam check` / `ipam release` (leak analysis, report merging) and the
boxed tables and BIRD peer names of `node status`."""
from calicoctl_py import boxtable, ipam_report, node_cmd
from libcalico_py.birdctl import Protocol
from libcalico_py.datastore import keys
from libcalico_py.ipam import block as blk


def _snapshot():
    b = blk.Block.new("10.65.0.0/30", "n1")
    b.allocate(1, "h-web", {"node": "n1", "pod": "web", "namespace": "prod"})
    b.allocate(1, "h-gone", {"node": "n1", "pod": "gone", "namespace": "prod"})
    b.allocate(1, "h-borrow", {"node": "n2", "pod": "x", "namespace": "prod"})
    handles = {keys.handle_key(h): (blk.handle_value({"10.65.0.0/30": 1}).encode(), 7)
               for h in ("h-web", "h-gone", "h-borrow")}
    handles[keys.handle_key("h-orphan")] = (blk.handle_value({}).encode(), 9)
    weps = [{"metadata": {"name": "w", "namespace": "prod"}, "spec": {"ipNetworks": ["10.65.0.0/32"]}},
            {"metadata": {"name": "v", "namespace": "prod"}, "spec": {"ipNetworks": ["10.65.0.2/32"]}},
            {"metadata": {"name": "o", "namespace": "prod"}, "spec": {"ipNetworks": ["192.168.9.9/32"]}}]
    nodes = [{"metadata": {"name": "n1"}, "spec": {}}, {"metadata": {"name": "n2"}, "spec": {}}]
    return ipam_report.Snapshot(
        blocks={keys.block_key("10.65.0.0/30"): b.to_json().encode()},
        affinities={keys.affinity_key("n1", "10.65.0.0/30"): blk.affinity_value("confirmed").encode()},
        handles=handles, nodes=nodes, workload_endpoints=weps,
        pools=[{"metadata": {"name": "p"}, "spec": {"cidr": "10.65.0.0/16"}}])


def test_analyse_finds_leaks_outsiders_and_orphan_handles():
    r = ipam_report.analyse(_snapshot(), show_all_ips=False, show_problem_ips=True, version="v")
    text = "\n".join(r.lines)
    assert "  10.65.0.1 leaked; attrs Main:h-gone Extra:namespace=prod,node=n1,pod=gone" in text
    assert "  192.168.9.9 in use by Workload(prod/o) is not in any active IP pool." in text
    assert "Found 1 handles with no matching IPs (and 3 handles with matches)." in text
    assert r.problems == 3 and r.lines[-1] == "Check complete; found 3 problems."
    allocs = r.report["allocations"]
    assert allocs["10.65.0.1"][0]["inUse"] is False and allocs["10.65.0.0"][0]["inUse"] is True
    assert allocs["10.65.0.2"][0]["borrowed"] is True and allocs["10.65.0.2"][0]["node"] == "n2"
    assert allocs["10.65.0.1"][0]["sequenceNumber"] == 2
    assert r.report["leakedHandles"] == [{"ID": "h-orphan", "UID": None, "Revision": "9"}]


def test_merge_reports_keeps_only_what_every_report_calls_leaked():
    def rep(leaked_ips, handles):
        return {"allocations": {ip: [{"ip": ip, "handle": f"h{ip}", "sequenceNumber": 1,
                                      "inUse": ip not in leaked_ips}] for ip in ("a", "b", "c")},
                "leakedHandles": [{"ID": h, "Revision": rev} for h, rev in handles]}
    plan = ipam_report.merge_reports([rep({"a", "b"}, [("x", "1"), ("y", "1")]),
                                      rep({"b", "c"}, [("x", "1"), ("y", "2")])])
    assert plan.ips == {"b": ("hb", 1)}
    assert plan.handles == {"x": "1"}


def test_boxtable_alignment():
    text = boxtable.render(["A", "NUM"], [["xx", "1"], ["y", "100"]], right=(1,))
    assert text.splitlines() == ["+----+-----+", "| A  | NUM |", "+----+-----+",
                                 "| xx |   1 |", "| y  | 100 |", "+----+-----+"]
    centred = boxtable.render(["AB"], [["abcdef"]], center_header=True)
    assert centred.splitlines()[1] == "|   AB   |"


def test_bird_peer_names():
    def row(name, proto="BGP"):
        return node_cmd.peer_row(Protocol(name, proto, "---", "up", "05:00:00", "Established"))
    assert row("Mesh_10_0_0_2")[:3] == [4, "10.0.0.2", "node-to-node mesh"]
    assert row("Global_fd00__1")[:3] == [6, "fd00::1", "global"]
    assert row("Node_10_0_0_3_port_1790")[:3] == [4, "10.0.0.3:1790", "node specific"]
    assert row("device1", "Device") is None and row("upstream") is None
    assert row("Mesh_not_an_ip") is None
