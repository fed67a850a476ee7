"""The harness itself: a real etcd answers, the 3-member cluster forms and survives a member."""
import time

import etcd3


def _client(server):
    host, port = server.endpoint.split("://")[1].rsplit(":", 1)
    return etcd3.client(host=host, port=int(port), timeout=5)


def test_etcd_fixture_is_real_and_empty(etcd):
    c = _client(etcd)
    assert list(c.get_prefix("/")) == []
    c.put("/calico/x", "1")
    assert c.get("/calico/x")[0] == b"1"


def test_etcd_cluster_keeps_serving_after_a_member_dies(etcd_cluster):
    a, b, c = etcd_cluster
    _client(a).put("/k", "v")
    a.kill()
    # A raw client sees "leader changed" while the survivors elect; the datastore layer
    # retries that for users. Here: the cluster must serve again within 10 s.
    deadline = time.monotonic() + 10
    while True:
        try:
            _client(c).put("/k", "w")
            break
        except (etcd3.exceptions.ConnectionFailedError, etcd3.exceptions.ConnectionTimeoutError):
            assert time.monotonic() < deadline, "cluster did not recover from losing one member"
            time.sleep(0.2)
    assert _client(b).get("/k")[0] == b"w"
