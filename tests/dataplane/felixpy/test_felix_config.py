"""felixpy configured as Felix is: FelixConfiguration `default` < `node.<host>` < FELIX_* env,
applied live; Felix's own status report written with a lease."""
from __future__ import annotations

import json
import subprocess
import time

import pytest

from tests.dataplane.felixpy.felix_cluster import FelixNode

API = "projectcalico.org/v3"


@pytest.fixture
def node(netns):
    n = FelixNode(netns, backend="nft", env={"FELIX_DEFAULTENDPOINTTOHOSTACTION": "RETURN",
                                              "FELIX_REPORTINGINTERVAL": "1", "FELIX_REPORTINGTTL": "5"})
    yield n
    n.close()


def felixconfig(name, spec):
    return {"apiVersion": API, "kind": "FelixConfiguration", "metadata": {"name": name}, "spec": spec}


def wait_for(pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline
        time.sleep(0.1)


def chain_rules(node, chain):
    return [line for line in node.iptables_save().splitlines() if line.startswith(f"-A {chain} ")]


def test_felixconfiguration_precedence_and_live_update(node):
    node.etcdctl.apply(felixconfig("default", {
        "defaultEndpointToHostAction": "Accept", "chainInsertMode": "Append",
        "failsafeInboundHostPorts": [{"protocol": "TCP", "port": 2222}], "logPrefix": "from-default"}))
    node.etcdctl.apply(felixconfig("node.node1", {"logPrefix": "from-node"}))
    node.etcdctl.apply(felixconfig("node.other", {"failsafeInboundHostPorts": [{"protocol": "TCP", "port": 4444}]}))
    node.allow_all_profile()
    a = node.add_pod("pod-a", "10.65.0.2", {"app": "a"})
    node.iptables("-A", "FORWARD", "-s", "192.0.2.9/32", "-j", "ACCEPT")       # foreign rule present at start
    node.start_felix()
    node.wait_ready()
    wl_to_host = chain_rules(node, "cali-wl-to-host")
    assert "RETURN" in wl_to_host[-1], "env FELIX_DEFAULTENDPOINTTOHOSTACTION beats the datastore"
    failsafe = "\n".join(chain_rules(node, "cali-failsafe-in"))
    assert "2222" in failsafe and "4444" not in failsafe and "6443" not in failsafe
    forward = [line for line in node.iptables_save().splitlines() if line.startswith("-A FORWARD ")]
    assert "192.0.2.9" in forward[0], "chainInsertMode Append: our hooks go after existing rules"
    node.etcdctl.apply(felixconfig("default", {
        "defaultEndpointToHostAction": "Accept", "chainInsertMode": "Append",
        "failsafeInboundHostPorts": [{"protocol": "UDP", "port": 3333}]}))
    wait_for(lambda: "3333" in "\n".join(chain_rules(node, "cali-failsafe-in")))
    assert "2222" not in "\n".join(chain_rules(node, "cali-failsafe-in"))
    assert node.felix.poll() is None
    node.expect(a, "10.255.0.1", "icmp", None, True)        # workload -> host: RETURN then INPUT's ACCEPT policy


def test_felix_status_report_with_lease(node):
    node.start_felix()
    node.wait_ready()
    key = "/calico/felix/v2/no-region/host/node1/status"
    wait_for(lambda: node.etcdctl.get(key) is not None)
    first = json.loads(node.etcdctl.get("/calico/felix/v2/no-region/host/node1/last_reported_status"))
    assert set(first) == {"time", "uptime", "first_update"}
    wait_for(lambda: json.loads(node.etcdctl.get(key))["first_update"] is False)
    node.kill_felix()
    wait_for(lambda: node.etcdctl.get(key) is None, timeout=15)      # the lease (TTL 5 s) expires
    assert node.etcdctl.get("/calico/felix/v2/no-region/host/node1/last_reported_status") is not None


def _openssl(cwd, *args):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def certs(tmp_path):
    """CA, server certificate for 127.0.0.1, client certificate."""
    d = str(tmp_path)
    _openssl(d, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
             "-days", "1", "-subj", "/CN=felixpy-test-ca")
    (tmp_path / "server.ext").write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n")
    (tmp_path / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    for who in ("server", "client"):
        _openssl(d, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{who}.key", "-out", f"{who}.csr",
                 "-subj", f"/CN=felixpy-{who}")
        _openssl(d, "x509", "-req", "-in", f"{who}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", f"{who}.pem", "-days", "1", "-extfile", f"{who}.ext")
    return {n: str(tmp_path / n) for n in ("ca.pem", "server.pem", "server.key", "client.pem", "client.key")}


def test_etcd_over_tls_from_felix_env(netns, certs):
    node = FelixNode(netns, backend="nft", tls=certs)
    try:
        node.allow_all_profile()
        a = node.add_pod("pod-a", "10.65.0.2", {"app": "a"})
        b = node.add_pod("pod-b", "10.65.0.3", {"app": "b"})
        node.start_felix()
        node.wait_ready()
        assert node.etcd.endpoint.startswith("https://")
        node.etcdctl.apply({"apiVersion": API, "kind": "GlobalNetworkPolicy", "metadata": {"name": "dd"},
                            "spec": {"selector": "app == 'b'", "types": ["Ingress"]}})
        node.expect(a, b, "tcp", 8080, False)
    finally:
        node.close()
