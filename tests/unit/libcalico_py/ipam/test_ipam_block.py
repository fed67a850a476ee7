"""Block maths and Calico's block JSON, without etcd."""
from __future__ import annotations

import ipaddress
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libcalico_py.ipam import block as blk
from libcalico_py.ipam.block import Block, BlockError


def test_block_cidrs_and_counts():
    cidrs = [str(c) for c in blk.block_cidrs("10.65.0.0/24", 26)]
    assert cidrs == ["10.65.0.0/26", "10.65.0.64/26", "10.65.0.128/26", "10.65.0.192/26"]
    assert blk.block_count("10.65.0.0/16", 26) == 1024
    assert str(blk.nth_block("10.65.0.0/16", 26, 1023)) == "10.65.255.192/26"
    assert str(blk.nth_block("fd00::/120", 122, 3)) == "fd00::c0/122"
    with pytest.raises(BlockError, match="shorter than the pool prefix"):
        list(blk.block_cidrs("10.0.0.0/24", 20))


def test_host_block_order_is_a_rotation_seeded_by_host():
    order = list(blk.host_block_order("node1", 16))
    assert sorted(order) == list(range(16))
    assert order == [(order[0] + i) % 16 for i in range(16)]
    assert order == list(blk.host_block_order("node1", 16))
    starts = {next(blk.host_block_order(f"node{i}", 1024)) for i in range(20)}
    assert len(starts) > 15  # hosts spread over the pool


def test_new_block_json_matches_calico_layout():
    b = Block.new("10.65.0.0/30", "node1", "2026-01-01T00:00:00Z")
    d = json.loads(b.to_json())
    assert d == {"cidr": "10.65.0.0/30", "affinity": "host:node1",
                 "affinityClaimTime": "2026-01-01T00:00:00Z",
                 "allocations": [None] * 4, "unallocated": [0, 1, 2, 3], "attributes": [],
                 "sequenceNumber": 0, "sequenceNumberForAllocation": {}, "deleted": False,
                 "strictAffinity": False}
    assert Block.from_json(b.to_json()) == b
    assert Block.new("10.65.0.0/30").to_dict()["affinity"] is None


def test_allocate_release_fifo_and_attributes():
    b = Block.new("10.0.0.0/29", "n")
    a = b.allocate(2, "h1", {"pod": "a"})
    assert [str(i) for i in a] == ["10.0.0.0", "10.0.0.1"]
    c = b.allocate(1, "h2")
    assert b.allocations[:3] == [0, 0, 1]
    assert b.attributes == [{"handle_id": "h1", "secondary": {"pod": "a"}}, {"handle_id": "h2"}]
    assert b.seq_for_allocation == {"0": 1, "1": 1, "2": 2}
    assert b.handle_counts() == {"h1": 2, "h2": 1}
    # Releasing h1 drops its attribute and renumbers h2's.
    assert b.release_handle("h1") == a
    assert b.attributes == [{"handle_id": "h2"}] and b.allocations[2] == 0
    assert b.unallocated == [3, 4, 5, 6, 7, 0, 1]  # released ordinals go to the tail
    assert b.handle_of(c[0]) == "h2"
    assert b.release(["10.0.0.5"]) == {}  # already free: nothing happens
    assert b.sequence_number == 3
    assert b.free_count() == 7 and b.in_use() == 1


def test_assign_specific_and_errors():
    b = Block.new("10.0.0.0/30")
    b.assign("10.0.0.2", "h")
    assert 2 not in b.unallocated
    with pytest.raises(BlockError, match="already allocated"):
        b.assign("10.0.0.2", "x")
    with pytest.raises(BlockError, match="not in block"):
        b.ordinal("10.0.0.9")
    assert b.allocate(5, "y") == [ipaddress.ip_address(f"10.0.0.{i}") for i in (0, 1, 3)]
    assert b.allocate(1, "z") == []


def test_reads_calico_written_block():
    calico = {"cidr": "10.65.79.0/26", "affinity": "host:k8s-node", "allocations": [0, None, 1] + [None] * 61,
              "unallocated": list(range(3, 64)) + [1],
              "attributes": [{"handle_id": "ipip-tunnel-addr-k8s-node",
                              "secondary": {"node": "k8s-node", "type": "ipipTunnelAddress"}},
                             {"handle_id": "k8s-pod-network.abc",
                              "secondary": {"namespace": "default", "node": "k8s-node", "pod": "x"}}],
              "strictAffinity": False, "sequenceNumber": 7,
              "sequenceNumberForAllocation": {"0": 0, "2": 6}, "deleted": False}
    b = Block.from_json(json.dumps(calico))
    assert b.host == "k8s-node"
    assert b.allocated_ips() == [(ipaddress.ip_address("10.65.79.0"), "ipip-tunnel-addr-k8s-node"),
                                 (ipaddress.ip_address("10.65.79.2"), "k8s-pod-network.abc")]
    assert json.loads(b.to_json()) == calico


def test_handle_and_affinity_values():
    assert json.loads(blk.handle_value({"10.0.0.0/26": 2, "10.0.0.64/26": 0})) == \
        {"block": {"10.0.0.0/26": 2}, "deleted": False}
    assert blk.parse_handle(b'{"block":{"10.0.0.0/26":2}}') == {"10.0.0.0/26": 2}
    assert blk.parse_affinity(b"") == "confirmed"  # Calico's old empty value
    assert blk.parse_affinity(blk.affinity_value("pending")) == "pending"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 15), st.sampled_from(["a", "b", "c"])),
                max_size=60))
def test_invariants_hold_under_random_operations(ops):
    b = Block.new("10.1.0.0/28", "n")
    for alloc, n, handle in ops:
        if alloc:
            b.allocate(n % 4 + 1, handle)
        else:
            b.release([b.ip(n)])
        allocated = {i for i, a in enumerate(b.allocations) if a is not None}
        assert allocated.isdisjoint(b.unallocated)
        assert allocated | set(b.unallocated) == set(range(16))
        assert len(b.unallocated) == len(set(b.unallocated))
        assert sorted({b.allocations[i] for i in allocated}) == list(range(len(b.attributes)))
