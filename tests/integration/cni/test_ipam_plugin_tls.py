"""calico-ipam-py with Calico's etcd TLS keys (etcd_ca_cert_file, etcd_cert_file,
etcd_key_file) against an etcd that requires client certificates; and the host-affinity
release used by `calicoctl ipam release`."""
from __future__ import annotations

import pytest

from cni_py.etcd_gateway import EtcdGateway
from libcalico_py.ipam.allocator import IPAM
from tests.integration.cni.cni_harness import CALICO_IPAM, allocated, put_pool, run_plugin


@pytest.fixture
def tls_files(tls_certs):
    """The client side of `tls_certs` under Calico's CNI config keys."""
    return {"etcd_ca_cert_file": tls_certs["ca.pem"], "etcd_cert_file": tls_certs["client.pem"],
            "etcd_key_file": tls_certs["client.key"]}


def test_tls_keys_are_used(tls_etcd, tls_files):
    kv = EtcdGateway([tls_etcd.endpoint], ca_cert_file=tls_files["etcd_ca_cert_file"],
                     cert_file=tls_files["etcd_cert_file"], key_file=tls_files["etcd_key_file"])
    put_pool(kv, "p", "10.16.0.0/24")
    conf = {"cniVersion": "1.0.0", "name": "tlsnet", "type": "x", "nodename": "n1",
            "etcd_endpoints": tls_etcd.endpoint, "ipam": {"type": "calico-ipam-py"}, **tls_files}
    run_plugin(CALICO_IPAM, "ADD", conf, "c1").assert_ok()
    assert [h for _, h in allocated(kv)] == ["tlsnet.c1"]
    no_cert = {k: v for k, v in conf.items() if k not in ("etcd_cert_file", "etcd_key_file")}
    run_plugin(CALICO_IPAM, "ADD", no_cert, "c2").assert_error(11, tls_etcd.endpoint)
    # The same keys from the environment (ETCD_* fallbacks).
    env = {"ETCD_ENDPOINTS": tls_etcd.endpoint,
           "ETCD_CA_CERT_FILE": tls_files["etcd_ca_cert_file"],
           "ETCD_CERT_FILE": tls_files["etcd_cert_file"], "ETCD_KEY_FILE": tls_files["etcd_key_file"]}
    bare = {"cniVersion": "1.0.0", "name": "tlsnet", "type": "x", "nodename": "n1",
            "ipam": {"type": "calico-ipam-py"}}
    run_plugin(CALICO_IPAM, "DEL", bare, "c1", env=env).assert_ok()
    assert allocated(kv) == []


def test_release_host_affinities_keeps_blocks_in_use(etcd):
    kv = EtcdGateway([etcd.endpoint])
    put_pool(kv, "p", "10.17.0.0/24", block_size=29)
    ipam = IPAM(kv)
    keep = ipam.auto_assign("keep", "n1", 1)
    gone = ipam.auto_assign("gone", "n1", 8)  # fills a second block
    assert len(kv.get_prefix("/calico/ipam/v2/host/n1/")[0]) == 2
    ipam.release_by_handle("gone")
    keep_block = ipam.ip_info(str(keep[0]))["block"]
    released = ipam.release_host_affinities("n1")
    # Only the now-empty second block is given up; the block still holding "keep" stays.
    assert len(released) == 1 and gone[-1] in released[0] and str(released[0]) != keep_block
    [left] = kv.get_prefix("/calico/ipam/v2/host/n1/")[0]
    assert left.key.endswith(keep_block.replace("/", "-"))
    assert kv.get("/calico/ipam/v2/assignment/ipv4/block/" + str(released[0]).replace("/", "-")) is None
    assert [h for _, h in allocated(kv)] == ["keep"]
