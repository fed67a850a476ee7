"""The consistency check on hand-made snapshots."""
from __future__ import annotations

import json

from libcalico_py.ipam.block import Block, affinity_value, handle_value
from libcalico_py.ipam.check import check_snapshot

BK = "/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-30"
AK = "/calico/ipam/v2/host/n1/ipv4/block/10.0.0.0-30"


def consistent():
    b = Block.new("10.0.0.0/30", "n1")
    b.allocate(2, "h")
    return ({BK: b.to_json()}, {AK: affinity_value("confirmed")},
            {"/calico/ipam/v2/handle/h": handle_value({"10.0.0.0/30": 2})}, {"n1"})


def test_consistent_snapshot_is_clean():
    r = check_snapshot(*consistent())
    assert r.ok and (r.blocks, r.affinities, r.handles, r.allocations) == (1, 1, 1, 2)
    assert r.summary().endswith("no problems found")


def test_each_problem_kind():
    blocks, affs, handles, nodes = consistent()
    handles["/calico/ipam/v2/handle/h"] = handle_value({"10.0.0.0/30": 3})
    r = check_snapshot(blocks, affs, handles, nodes)
    assert [p.kind for p in r.problems] == ["handle-count-mismatch"]
    r = check_snapshot(blocks, {}, {}, set())
    assert sorted(p.kind for p in r.problems) == ["allocation-no-handle", "allocation-no-handle",
                                                 "block-no-affinity", "host-no-node"]
    blocks, affs, handles, nodes = consistent()
    bad = json.loads(blocks[BK])
    bad["unallocated"].append(0)
    r = check_snapshot({BK: json.dumps(bad)}, affs, handles, nodes)
    assert [p.kind for p in r.problems] == ["block-invalid"]
    assert "both free and allocated" in str(r.problems[0])
    r = check_snapshot({}, {AK: affinity_value("pending")}, {}, nodes)
    assert sorted(p.kind for p in r.problems) == ["affinity-no-block", "affinity-pending"]
