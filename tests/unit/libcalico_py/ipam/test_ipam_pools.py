"""Pool choice: disabled, family, allowedUses, nodeSelector, requested pools."""
from __future__ import annotations

import pytest

from libcalico_py.ipam.pools import Pool, PoolSelectionError, eligible_pools


def pool(name, cidr, **spec):
    return Pool.from_document({"metadata": {"name": name}, "spec": dict(cidr=cidr, **spec)})


POOLS = [pool("b", "10.2.0.0/16"), pool("a", "10.1.0.0/16", blockSize=28),
         pool("off", "10.3.0.0/16", disabled=True), pool("v6", "fd00::/48"),
         pool("tun", "10.4.0.0/16", allowedUses=["Tunnel"]),
         pool("rack", "10.5.0.0/16", nodeSelector="rack == 'r1'")]


def test_defaults_from_document():
    p = pool("x", "10.0.0.0/16")
    assert p.block_size == 26 and p.node_selector == "all()" and not p.disabled
    assert pool("y", "fd00::/64").block_size == 122


def test_eligible_filters_and_orders():
    assert [p.name for p in eligible_pools(POOLS, {})] == ["a", "b"]
    assert [p.name for p in eligible_pools(POOLS, {"rack": "r1"})] == ["a", "b", "rack"]
    assert [p.name for p in eligible_pools(POOLS, {}, version=6)] == ["v6"]


def test_requested_pools_by_name_or_cidr():
    assert [p.name for p in eligible_pools(POOLS, {}, requested=["10.2.0.0/16"])] == ["b"]
    assert [p.name for p in eligible_pools(POOLS, {"rack": "r1"}, requested=["rack", "a"])] == ["a", "rack"]
    with pytest.raises(PoolSelectionError, match="'off' is disabled"):
        eligible_pools(POOLS, {}, requested=["off"])
    with pytest.raises(PoolSelectionError, match="does not exist"):
        eligible_pools(POOLS, {}, requested=["10.9.0.0/16"])
    with pytest.raises(PoolSelectionError, match="not an IPv4 pool"):
        eligible_pools(POOLS, {}, requested=["v6"])
    # Requested but the node does not match the selector: nothing eligible.
    assert eligible_pools(POOLS, {}, requested=["rack"]) == []


def test_bad_selector_is_reported():
    with pytest.raises(PoolSelectionError, match="invalid nodeSelector"):
        eligible_pools([pool("bad", "10.0.0.0/16", nodeSelector="rack ==")], {})
