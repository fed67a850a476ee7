"""EtcdDatastore against a real etcd: keys and stored JSON as Calico writes them,
create/update/apply/get/list/delete semantics, compare-and-swap, raw kv and transactions,
and an unreachable endpoint."""
import json
import re
import time

import etcd3
import pytest

from libcalico_py import model
from libcalico_py.datastore import keys
from libcalico_py.datastore.config import DatastoreConfig
from libcalico_py.datastore.etcd import EtcdDatastore
from libcalico_py.errors import (AlreadyExists, Conflict, DatastoreUnavailable, NotFound,
                                 ValidationError)
from tests.fixtures.etcd import free_port


@pytest.fixture
def ds(etcd):
    store = EtcdDatastore(DatastoreConfig([etcd.endpoint]))
    yield store
    store.close()


def raw(etcd):
    host, port = etcd.endpoint.split("://")[1].rsplit(":", 1)
    return etcd3.client(host=host, port=int(port), timeout=5)


def pool(name="pool1", cidr="10.65.0.0/16"):
    return model.make("IPPool", name, spec={"cidr": cidr})


def wep(name="node1-k8s-pod1-eth0", ns="prod", ip="10.65.0.1/32"):
    return model.make("WorkloadEndpoint", name, namespace=ns, spec={
        "node": "node1", "orchestrator": "k8s", "workload": "pod1", "pod": "pod1",
        "endpoint": "eth0", "interfaceName": "cali0123456789a", "ipNetworks": [ip]})


def test_create_stores_calico_json_at_calico_key(ds, etcd):
    created = ds.create(wep())
    key = "/calico/resources/v3/projectcalico.org/workloadendpoints/prod/node1-k8s-pod1-eth0"
    value, meta = raw(etcd).get(key)
    stored = json.loads(value)
    assert stored["kind"] == "WorkloadEndpoint"
    assert stored["apiVersion"] == "projectcalico.org/v3"
    assert "resourceVersion" not in stored["metadata"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stored["metadata"]["creationTimestamp"])
    assert re.fullmatch(r"[0-9a-f-]{36}", stored["metadata"]["uid"])
    assert stored["spec"]["ipNetworks"] == ["10.65.0.1/32"]
    assert created.metadata.resource_version == str(meta.mod_revision)
    assert created.metadata.uid == stored["metadata"]["uid"]


def test_create_twice_is_already_exists_and_keeps_first(ds):
    first = ds.create(pool())
    with pytest.raises(AlreadyExists):
        ds.create(pool(cidr="10.66.0.0/16"))
    assert ds.get("IPPool", "pool1") == first


def test_create_keeps_given_uid_and_timestamp(ds):
    doc = pool().to_dict()
    doc["metadata"].update(uid="11111111-2222-3333-4444-555555555555",
                           creationTimestamp="2020-01-02T03:04:05Z")
    created = ds.create(model.load(doc))
    assert created.metadata.uid == "11111111-2222-3333-4444-555555555555"
    assert created.metadata.creation_timestamp == "2020-01-02T03:04:05Z"


def test_create_with_resource_version_is_refused(ds):
    r = pool()
    r.metadata.resource_version = "5"
    with pytest.raises(ValidationError, match="metadata.resourceVersion"):
        ds.create(r)


def test_get_round_trips_what_was_created(ds):
    created = ds.create(wep())
    got = ds.get("WorkloadEndpoint", "node1-k8s-pod1-eth0", "prod")
    assert got.to_dict() == created.to_dict()
    assert model.load(got.to_dict()).to_dict() == got.to_dict()


def test_get_missing_is_not_found(ds):
    with pytest.raises(NotFound, match=r"IPPool\(nope\)"):
        ds.get("IPPool", "nope")


def test_update_cas_and_stale_resource_version(ds, etcd):
    created = ds.create(pool())
    key = keys.resource_key("IPPool", "pool1")
    changed = created.copy()
    changed.spec.disabled = True
    updated = ds.update(changed)
    assert int(updated.metadata.resource_version) > int(created.metadata.resource_version)
    assert updated.metadata.uid == created.metadata.uid
    before = raw(etcd).get(key)

    stale = created.copy()
    stale.spec.cidr = "10.99.0.0/16"
    with pytest.raises(Conflict) as e:
        ds.update(stale)
    assert e.value.key == key
    assert e.value.expected == created.metadata.resource_version
    assert e.value.actual == updated.metadata.resource_version
    after = raw(etcd).get(key)
    assert after[0] == before[0] and after[1].mod_revision == before[1].mod_revision
    assert ds.get("IPPool", "pool1").to_dict()["spec"]["cidr"] == "10.65.0.0/16"


def test_update_without_resource_version_is_refused(ds):
    ds.create(pool())
    with pytest.raises(ValidationError, match="metadata.resourceVersion"):
        ds.update(pool())


def test_update_missing_is_not_found(ds):
    r = pool()
    r.metadata.resource_version = "3"
    r.metadata.uid = "u"
    r.metadata.creation_timestamp = "2020-01-02T03:04:05Z"
    with pytest.raises(NotFound):
        ds.update(r)


def test_update_keeps_uid_and_timestamp_when_not_given(ds):
    created = ds.create(pool())
    r = pool(cidr="10.65.0.0/16")
    r.metadata.resource_version = created.metadata.resource_version
    updated = ds.update(r)
    assert updated.metadata.uid == created.metadata.uid
    assert updated.metadata.creation_timestamp == created.metadata.creation_timestamp


def test_apply_creates_then_updates(ds):
    a = ds.apply(pool())
    b = ds.apply(pool(cidr="10.65.0.0/16"))
    assert a.metadata.uid == b.metadata.uid
    assert int(b.metadata.resource_version) > int(a.metadata.resource_version)
    stale = pool()
    stale.metadata.resource_version = a.metadata.resource_version
    with pytest.raises(Conflict):
        ds.apply(stale)


def test_list_by_kind_namespace_and_name(ds):
    ds.create(wep("a-k8s-p-eth0", "ns1", "10.65.0.1/32"))
    ds.create(wep("b-k8s-p-eth0", "ns2", "10.65.0.2/32"))
    ds.create(wep("c-k8s-p-eth0", "ns1", "10.65.0.3/32"))
    ds.create(pool())
    items, rev = ds.list("WorkloadEndpoint")
    assert [(r.metadata.namespace, r.metadata.name) for r in items] == [
        ("ns1", "a-k8s-p-eth0"), ("ns1", "c-k8s-p-eth0"), ("ns2", "b-k8s-p-eth0")]
    assert rev >= max(int(r.metadata.resource_version) for r in items)
    assert [r.metadata.name for r in ds.list("WorkloadEndpoint", "ns2")[0]] == ["b-k8s-p-eth0"]
    assert [r.metadata.name for r in ds.list("WorkloadEndpoint", "ns1", "c-k8s-p-eth0")[0]] == \
        ["c-k8s-p-eth0"]
    assert [r.metadata.namespace for r in ds.list("WorkloadEndpoint", name="b-k8s-p-eth0")[0]] == \
        ["ns2"]
    assert ds.list("WorkloadEndpoint", "ns3")[0] == []
    assert [r.metadata.name for r in ds.list("IPPool")[0]] == ["pool1"]


def test_list_prefix_does_not_leak_into_longer_plurals(ds, etcd):
    # "networksets/" must not match "networksets2/..." or the global kind's keys.
    ds.create(model.make("GlobalNetworkSet", "g1", spec={"nets": ["10.0.0.0/8"]}))
    ds.create(model.make("NetworkSet", "n1", namespace="prod", spec={"nets": ["10.0.0.0/8"]}))
    assert [r.kind for r in ds.list("NetworkSet")[0]] == ["NetworkSet"]
    assert [r.kind for r in ds.list("GlobalNetworkSet")[0]] == ["GlobalNetworkSet"]


def test_list_pages_through_many_objects(ds):
    for i in range(2500):
        ds.kv.put(f"/calico/test/k{i:05d}", b"x")
    kvs, rev = ds.kv.get_prefix("/calico/test/")
    assert len(kvs) == 2500
    assert [kv.key for kv in kvs] == sorted(kv.key for kv in kvs)
    assert rev == ds.kv.revision()


def test_delete_returns_resource_and_guard(ds, etcd):
    created = ds.create(pool())
    changed = created.copy()
    changed.spec.disabled = True
    updated = ds.update(changed)
    with pytest.raises(Conflict):
        ds.delete("IPPool", "pool1", resource_version=created.metadata.resource_version)
    assert ds.get("IPPool", "pool1") == updated
    deleted = ds.delete("IPPool", "pool1", resource_version=updated.metadata.resource_version)
    assert deleted == updated
    with pytest.raises(NotFound):
        ds.get("IPPool", "pool1")
    with pytest.raises(NotFound):
        ds.delete("IPPool", "pool1")
    ds.create(pool())
    assert ds.delete("IPPool", "pool1").metadata.name == "pool1"


def test_kv_layer(ds):
    kv = ds.kv
    assert kv.get("/calico/ipam/v2/config") is None
    rev = kv.put("/calico/ipam/v2/config", '{"strict_affinity":false}')
    got = kv.get("/calico/ipam/v2/config")
    assert got.value == b'{"strict_affinity":false}'
    assert got.mod_revision == got.create_revision == rev
    block = keys.block_key("10.65.0.0/26")
    assert kv.txn([("version", block, 0)], [("put", block, b"v1")])
    assert not kv.txn([("version", block, 0)], [("put", block, b"v2")])
    cur = kv.get(block)
    assert not kv.txn([("mod", block, cur.mod_revision - 1)], [("put", block, b"v3")],
                      [("put", "/calico/failed", b"1")])
    assert kv.get("/calico/failed").value == b"1"
    assert kv.txn([("mod", block, cur.mod_revision), ("value", block, b"v1")],
                  [("put", block, b"v4"), ("delete", "/calico/failed")])
    assert kv.get(block).value == b"v4"
    assert kv.get("/calico/failed") is None
    assert kv.delete(block) is True
    assert kv.delete(block) is False


def test_kv_put_with_lease_expires(ds):
    ds.kv.put("/calico/felix/v2/no-region/host/n1/status", b"{}", lease_ttl=1)
    assert ds.kv.get("/calico/felix/v2/no-region/host/n1/status") is not None
    deadline = time.monotonic() + 10
    while ds.kv.get("/calico/felix/v2/no-region/host/n1/status") is not None:
        assert time.monotonic() < deadline, "leased key did not expire"
        time.sleep(0.2)


def test_unreachable_endpoint_is_datastore_unavailable_naming_it():
    endpoint = f"http://127.0.0.1:{free_port()}"
    store = EtcdDatastore(DatastoreConfig([endpoint]))
    start = time.monotonic()
    with pytest.raises(DatastoreUnavailable) as e:
        store.get("IPPool", "x")
    elapsed = time.monotonic() - start
    assert e.value.endpoints == [endpoint]
    assert endpoint in str(e.value)
    assert elapsed < 6, f"took {elapsed:.1f}s"
    store.close()


def test_username_password_authentication(request):
    import subprocess

    from libcalico_py.datastore.etcd import DatastoreError
    from tests.fixtures.etcd import EtcdServer

    server = EtcdServer().start()
    request.node._etcd_servers = [server]
    try:
        for args in (["user", "add", "root:s3cret"], ["user", "grant-role", "root", "root"],
                     ["auth", "enable"]):
            subprocess.run(["etcdctl", "--endpoints", server.endpoint, *args], check=True,
                           capture_output=True)
        cfg = DatastoreConfig.from_env({"ETCD_ENDPOINTS": server.endpoint,
                                        "ETCD_USERNAME": "root", "ETCD_PASSWORD": "s3cret"})
        with EtcdDatastore(cfg) as ds:
            assert ds.create(pool()).metadata.name == "pool1"
            assert ds.get("IPPool", "pool1").metadata.name == "pool1"
        with EtcdDatastore(DatastoreConfig([server.endpoint], username="root",
                                           password="wrong")) as ds:
            with pytest.raises(DatastoreError, match="authentication failed"):
                ds.get("IPPool", "pool1")
        with EtcdDatastore(DatastoreConfig([server.endpoint])) as ds:
            with pytest.raises(DatastoreError, match="user name is empty"):
                ds.get("IPPool", "pool1")
    finally:
        server.cleanup()
