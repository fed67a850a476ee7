"""Failover across a 3-member etcd cluster, and TLS with client certificates from the
`tls_certs`/`tls_etcd` fixtures (a client without a certificate is refused)."""
import threading
import time

import pytest

from libcalico_py import model
from libcalico_py.datastore.config import DatastoreConfig
from libcalico_py.datastore.etcd import EtcdDatastore
from libcalico_py.datastore.syncer import Syncer
from libcalico_py.errors import DatastoreUnavailable, NotFound

RES = "/calico/resources/v3/projectcalico.org/"


def pool(name, cidr):
    return model.make("IPPool", name, spec={"cidr": cidr})


def test_killing_the_member_in_use_does_not_fail_reads_or_writes(etcd_cluster):
    endpoints = [m.endpoint for m in etcd_cluster]
    ds = EtcdDatastore(DatastoreConfig(endpoints))
    try:
        created = ds.create(pool("before", "10.65.0.0/16"))
        assert ds.get("IPPool", "before") == created  # connected to the first endpoint
        etcd_cluster[0].kill()
        assert ds.get("IPPool", "before") == created
        after = ds.create(pool("after", "10.66.0.0/16"))
        assert ds.get("IPPool", "after") == after
        changed = after.copy()
        changed.spec.disabled = True
        ds.update(changed)
        assert sorted(r.metadata.name for r in ds.list("IPPool")[0]) == ["after", "before"]
    finally:
        ds.close()


def test_concurrent_users_of_one_datastore_survive_failover(etcd_cluster):
    """Threads sharing one client while it fails over: none sees an error (a call in
    flight on the abandoned channel is retried, not reported)."""
    ds = EtcdDatastore(DatastoreConfig([m.endpoint for m in etcd_cluster]))
    errors: list = []
    counts = [0] * 4
    stop = threading.Event()

    def work(i):
        n = 0
        while not stop.is_set():
            try:
                ds.kv.put(f"/calico/test/t{i}", str(n))
                assert ds.kv.get(f"/calico/test/t{i}").value == str(n).encode()
                n += 1
                counts[i] = n
            except Exception as e:  # noqa: BLE001 - collected and asserted below
                errors.append(repr(e))
                return

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    try:
        for t in threads:
            t.start()
        time.sleep(0.5)
        before = list(counts)
        etcd_cluster[0].kill()
        deadline = time.monotonic() + 20
        while any(c <= b + 5 for c, b in zip(counts, before)) and not errors:
            assert time.monotonic() < deadline, f"no progress after failover: {counts}"
            time.sleep(0.1)
    finally:
        stop.set()
        for t in threads:
            t.join(15)
        ds.close()
    assert errors == []


def test_syncer_follows_failover_without_loss(etcd_cluster):
    endpoints = [m.endpoint for m in etcd_cluster]
    ds = EtcdDatastore(DatastoreConfig(endpoints))
    writer = EtcdDatastore(DatastoreConfig(endpoints[1:]))
    seen: list = []
    statuses: list = []
    cond = threading.Condition()

    def on_updates(batch):
        with cond:
            seen.extend(batch)
            cond.notify_all()

    def wait_for(n):
        deadline = time.monotonic() + 20
        with cond:
            while len(seen) < n:
                assert time.monotonic() < deadline, f"got {len(seen)} of {n}; {statuses}"
                cond.wait(0.2)

    syncer = Syncer(ds, [RES], on_updates, statuses.append, min_backoff=0.1, max_backoff=0.5)
    syncer.start()
    try:
        for i in range(3):
            writer.kv.put(f"{RES}ippools/a{i}", b"x")
        wait_for(3)
        etcd_cluster[0].kill()
        for i in range(3):
            writer.kv.put(f"{RES}ippools/b{i}", b"y")
        wait_for(6)
        time.sleep(0.3)
        assert [u.key.rsplit("/", 1)[1] for u in seen] == ["a0", "a1", "a2", "b0", "b1", "b2"]
        assert statuses.count("resync") == 1
    finally:
        syncer.stop()
        ds.close()
        writer.close()


def test_tls_with_client_certificate_works(tls_etcd, tls_certs):
    cfg = DatastoreConfig.from_env({
        "ETCD_ENDPOINTS": tls_etcd.endpoint, "ETCD_CA_CERT_FILE": tls_certs["ca.pem"],
        "ETCD_CERT_FILE": tls_certs["client.pem"], "ETCD_KEY_FILE": tls_certs["client.key"]})
    with EtcdDatastore(cfg) as ds:
        created = ds.create(pool("tls", "10.65.0.0/16"))
        assert ds.get("IPPool", "tls") == created
        ds.delete("IPPool", "tls")
        with pytest.raises(NotFound):
            ds.get("IPPool", "tls")


def test_tls_client_without_certificate_is_refused(tls_etcd, tls_certs):
    cfg = DatastoreConfig.from_env({"ETCD_ENDPOINTS": tls_etcd.endpoint,
                                    "ETCD_CA_CERT_FILE": tls_certs["ca.pem"]})
    with EtcdDatastore(cfg) as ds:
        start = time.monotonic()
        with pytest.raises(DatastoreUnavailable) as e:
            ds.get("IPPool", "tls")
        assert time.monotonic() - start < 8
        assert tls_etcd.endpoint in str(e.value)
        assert "ETCD_CERT_FILE" in str(e.value)  # the hint for the missing client cert


def test_plain_http_client_against_tls_endpoint_is_refused(tls_etcd):
    plain = tls_etcd.endpoint.replace("https://", "http://")
    with EtcdDatastore(DatastoreConfig([plain])) as ds:
        with pytest.raises(DatastoreUnavailable):
            ds.kv.get("/calico/x")
