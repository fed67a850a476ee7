"""libcalico_py.ipam.IPAM against a real etcd, through both KV clients (the JSON gateway the
CNI plugins use and the gRPC datastore the rest of the project uses)."""
from __future__ import annotations

import ipaddress
import json
import threading

import pytest

from cni_py.etcd_gateway import EtcdGateway
from libcalico_py.datastore.config import DatastoreConfig
from libcalico_py.datastore.etcd import EtcdDatastore
from libcalico_py.ipam.allocator import (IPAM, AddressInUse, AddressNotInPool, IPAMConfig,
                                         InvalidPoolRequest, PoolExhausted)
from libcalico_py.ipam.block import Block
from libcalico_py.ipam.check import check
from tests.integration.cni.cni_harness import allocated, put_node, put_pool

AFF = "/calico/ipam/v2/host/"


@pytest.fixture(params=["gateway", "grpc"])
def kv(etcd, request):
    if request.param == "gateway":
        client = EtcdGateway([etcd.endpoint])
        yield client
    else:
        ds = EtcdDatastore(DatastoreConfig(endpoints=[etcd.endpoint]))
        yield ds.kv
        ds.close()
        return
    client.close()


def affinities(kv, host):
    kvs, _ = kv.get_prefix(f"{AFF}{host}/")
    return {k.key.rsplit("/", 1)[1]: json.loads(k.value)["state"] for k in kvs}


def test_claims_a_block_then_fills_it_before_claiming_another(kv):
    put_pool(kv, "p", "10.10.0.0/24", block_size=28)
    put_node(kv, "n1")
    ipam = IPAM(kv)
    first = ipam.auto_assign("h1", "n1", 1, attrs={"pod": "a"})
    [block] = affinities(kv, "n1")
    assert affinities(kv, "n1") == {block: "confirmed"}
    cidr = ipaddress.ip_network(block.replace("-", "/"))
    assert first[0] == cidr.network_address  # head of the free list
    more = ipam.auto_assign("h2", "n1", 15)
    assert all(ip in cidr for ip in more) and len(set(first + more)) == 16
    assert len(affinities(kv, "n1")) == 1
    overflow = ipam.auto_assign("h3", "n1", 1)
    assert overflow[0] not in cidr and len(affinities(kv, "n1")) == 2
    b = Block.from_json(kv.get(f"/calico/ipam/v2/assignment/ipv4/block/{block}").value)
    assert b.affinity == "host:n1" and b.attributes[0] == {"handle_id": "h1", "secondary": {"pod": "a"}}
    assert json.loads(kv.get("/calico/ipam/v2/handle/h2").value) == \
        {"block": {str(cidr): 15}, "deleted": False}
    assert check(kv).ok, check(kv).summary()


def test_borrows_from_another_hosts_block_unless_strict(kv):
    put_pool(kv, "p", "10.20.0.0/27", block_size=28)  # two blocks of 16
    for n in ("n1", "n2", "n3"):
        put_node(kv, n)
    ipam = IPAM(kv)
    a = ipam.auto_assign("a", "n1", 1)
    b = ipam.auto_assign("b", "n2", 1)
    assert len(affinities(kv, "n1")) == 1 and len(affinities(kv, "n2")) == 1
    # n3 finds no free block: it borrows an address from someone else's block.
    c = ipam.auto_assign("c", "n3", 1, attrs={"node": "n3"})
    assert affinities(kv, "n3") == {}
    [borrowed] = ipam.borrowed()
    assert borrowed["ip"] == str(c[0]) and borrowed["borrowing_node"] == "n3"
    assert borrowed["block_owner"] in ("n1", "n2")
    assert len({*a, *b, *c}) == 3
    assert ipam.ip_info(str(c[0]))["affinity"] in ("host:n1", "host:n2")
    ipam.set_config(IPAMConfig(strict_affinity=True))
    with pytest.raises(PoolExhausted, match="strict affinity"):
        ipam.auto_assign("d", "n3", 1)
    assert kv.get("/calico/ipam/v2/handle/d") is None
    assert check(kv).ok, check(kv).summary()


def test_exhaustion_is_all_or_nothing(kv):
    put_pool(kv, "tiny", "10.30.0.0/30", block_size=30)
    ipam = IPAM(kv)
    ipam.auto_assign("x", "n1", 3)
    with pytest.raises(PoolExhausted, match=r"tiny \(10.30.0.0/30\)"):
        ipam.auto_assign("y", "n1", 2)
    assert [h for _, h in allocated(kv)] == ["x", "x", "x"]
    assert kv.get("/calico/ipam/v2/handle/y") is None


def test_pool_choice_disabled_selector_and_requested(kv):
    put_pool(kv, "off", "10.40.0.0/24", disabled=True)
    put_pool(kv, "gpu", "10.41.0.0/24", nodeSelector="gpu == 'true'")
    put_pool(kv, "all", "10.42.0.0/24")
    put_node(kv, "plain")
    put_node(kv, "gpunode", {"gpu": "true"})
    ipam = IPAM(kv)
    plain = [ipam.auto_assign(f"p{i}", "plain", 1)[0] for i in range(3)]
    assert all(ip in ipaddress.ip_network("10.42.0.0/24") for ip in plain)
    [g] = ipam.auto_assign("g", "gpunode", 1, pools=["gpu"])
    assert g in ipaddress.ip_network("10.41.0.0/24")
    [g2] = ipam.auto_assign("g2", "gpunode", 1, pools=["10.42.0.0/24"])
    assert g2 in ipaddress.ip_network("10.42.0.0/24")
    with pytest.raises(InvalidPoolRequest, match="'off' is disabled"):
        ipam.auto_assign("z", "plain", 1, pools=["off"])
    with pytest.raises(InvalidPoolRequest, match="'nope' does not exist"):
        ipam.auto_assign("z", "plain", 1, pools=["nope"])
    # The gpu pool's nodeSelector does not match "plain": nothing eligible.
    with pytest.raises(PoolExhausted):
        ipam.auto_assign("z", "plain", 1, pools=["gpu"])


def test_assign_specific_address_and_release(kv):
    put_pool(kv, "p", "10.50.0.0/24")
    put_node(kv, "n1")
    ipam = IPAM(kv)
    assert str(ipam.assign("10.50.0.77", "h", "n1", {"pod": "p"})) == "10.50.0.77"
    with pytest.raises(AddressInUse, match="10.50.0.77 is already allocated"):
        ipam.assign("10.50.0.77", "other", "n1")
    with pytest.raises(AddressNotInPool):
        ipam.assign("192.0.2.1", "other", "n1")
    assert ipam.ip_info("10.50.0.77")["handle_id"] == "h"
    assert affinities(kv, "n1") == {"10.50.0.64-26": "confirmed"}
    assert [str(i) for i in ipam.release_ips(["10.50.0.77", "10.50.0.78"])] == ["10.50.0.77"]
    assert kv.get("/calico/ipam/v2/handle/h") is None
    assert ipam.release_ips(["10.50.0.77"]) == []
    assert ipam.release_by_handle("h") == []
    assert check(kv).ok


def test_release_by_handle_and_usage(kv):
    put_pool(kv, "p", "10.60.0.0/26", block_size=28)
    ipam = IPAM(kv)
    ips = ipam.auto_assign("multi", "n1", 20)  # spans two blocks
    ipam.auto_assign("keep", "n1", 1)
    usage = ipam.usage()
    assert usage["pools"] == [{"name": "p", "cidr": "10.60.0.0/26", "total": 64, "in_use": 21,
                               "free": 43, "disabled": False}]
    assert sum(b["in_use"] for b in usage["blocks"]) == 21
    released = ipam.release_by_handle("multi")
    assert sorted(released) == sorted(ips)
    assert [h for _, h in allocated(kv)] == ["keep"]
    assert kv.get("/calico/ipam/v2/handle/multi") is None
    # Released addresses go to the tail of the free list: the next one is not a reused one.
    [nxt] = ipam.auto_assign("next", "n1", 1)
    assert nxt not in ips


def test_concurrent_allocations_never_collide(kv, etcd):
    put_pool(kv, "p", "10.90.0.0/24", block_size=28)
    results: list = []
    errors: list = []

    def worker(i: int) -> None:
        client = EtcdGateway([etcd.endpoint])
        try:
            results.extend(IPAM(client).auto_assign(f"h{i}", f"n{i % 3}", 1))
        except Exception as e:  # collected and asserted below
            errors.append(e)
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 30 and len(set(results)) == 30
    report = check(kv)
    assert [p.kind for p in report.problems] == ["host-no-node"] * len(report.problems)


def test_check_reports_planted_inconsistencies(kv):
    put_pool(kv, "p", "10.70.0.0/24")
    put_node(kv, "n1")
    ipam = IPAM(kv)
    ipam.auto_assign("h1", "n1", 2)
    assert check(kv).ok
    kv.delete("/calico/ipam/v2/handle/h1")
    kv.put("/calico/ipam/v2/handle/ghost", json.dumps({"block": {"10.70.0.192/26": 1}}))
    kv.put("/calico/ipam/v2/host/n9/ipv4/block/10.70.0.128-26", json.dumps({"state": "pending"}))
    b = Block.new("10.70.0.64/26", "gone-node")
    kv.put("/calico/ipam/v2/assignment/ipv4/block/10.70.0.64-26", b.to_json())
    report = check(kv)
    assert sorted(report.leaked_ips()) == sorted(ip for ip, _ in allocated(kv))
    kinds = sorted({p.kind for p in report.problems})
    assert kinds == ["affinity-no-block", "affinity-pending", "allocation-no-handle",
                     "block-no-affinity", "handle-dangling", "host-no-node"]
    assert "2 allocated addresses" in check(kv).summary()


def test_a_claim_left_pending_by_a_crash_is_completed(kv):
    put_pool(kv, "p", "10.80.0.0/24", block_size=28)
    put_node(kv, "n1")
    # What a crash between the two claim steps leaves: the block and a pending affinity.
    kv.put("/calico/ipam/v2/host/n1/ipv4/block/10.80.0.32-28", json.dumps({"state": "pending"}))
    kv.put("/calico/ipam/v2/assignment/ipv4/block/10.80.0.32-28", Block.new("10.80.0.32/28", "n1").to_json())
    assert [p.kind for p in check(kv).problems] == ["affinity-pending"]
    [ip] = IPAM(kv).auto_assign("h", "n1", 1)
    assert ip in ipaddress.ip_network("10.80.0.32/28")
    assert affinities(kv, "n1") == {"10.80.0.32-28": "confirmed"}
    assert check(kv).ok
