"""The CNI plugins' JSON-gateway etcd client against a real etcd."""
from __future__ import annotations

import pytest

from cni_py.etcd_gateway import EtcdGateway
from libcalico_py.errors import DatastoreUnavailable
from tests.fixtures.etcd import free_port


def test_kv_contract_and_large_chunked_replies(etcd):
    gw = EtcdGateway([etcd.endpoint])
    assert gw.get("/t/missing") is None
    gw.put("/t/a", "1")
    a = gw.get("/t/a")
    assert a.value == b"1" and a.mod_revision == a.create_revision > 0
    assert gw.txn(compare=[("mod", "/t/a", a.mod_revision)], success=[("put", "/t/a", b"2")])
    assert not gw.txn(compare=[("mod", "/t/a", a.mod_revision)], success=[("put", "/t/a", b"3")])
    assert not gw.txn(compare=[("version", "/t/a", 0)], success=[("put", "/t/a", b"4")])
    assert gw.txn(compare=[("value", "/t/a", b"2")], success=[("delete", "/t/a")])
    assert gw.get("/t/a") is None and not gw.delete("/t/a")
    big = "x" * 2000
    for i in range(150):
        gw.put(f"/t/big/{i:03d}", big)
    kvs, rev = gw.get_prefix("/t/big/")
    assert [k.key for k in kvs] == [f"/t/big/{i:03d}" for i in range(150)]
    assert all(k.value == big.encode() for k in kvs) and rev >= kvs[-1].mod_revision
    gw.put("/t/lease", "v", lease_ttl=30)
    assert gw.get("/t/lease").value == b"v"
    gw.close()


def test_failover_and_unavailable(etcd):
    dead = f"http://127.0.0.1:{free_port()}"
    gw = EtcdGateway([dead, etcd.endpoint])
    gw.put("/t/x", "y")
    assert gw.get("/t/x").value == b"y"
    with pytest.raises(DatastoreUnavailable, match=dead.replace(".", r"\.")):
        EtcdGateway([dead]).get("/t/x")
    # The server restarting under a kept-alive connection is survived.
    etcd.restart()
    assert gw.get("/t/x").value == b"y"
