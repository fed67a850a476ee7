"""felixpy's operational pieces without a kernel: configuration precedence and errors, the
health and metrics HTTP endpoints, and endpoint status reporting against a real etcd."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from felixpy.calc.messages import WorkloadEndpointID
from felixpy.config import ConfigError, FelixConfig
from felixpy.dataplane.status_reporter import StatusReporter, status_key
from felixpy.health import Health, HealthServer
from felixpy.metrics import FelixMetrics, MetricsServer
from libcalico_py.datastore.config import DatastoreConfig
from libcalico_py.datastore.etcd import EtcdDatastore
from tests.fixtures.etcd import free_port


def test_config_precedence_default_datastore_env():
    env = {"FELIX_IPTABLESREFRESHINTERVAL": "5", "FELIX_ETCDENDPOINTS": "http://10.0.0.1:2379,http://10.0.0.2:2379",
           "NODENAME": "n7"}
    cfg = FelixConfig.from_env(env)
    assert cfg.hostname == "n7" and cfg.source("FelixHostname") == "environment NODENAME"
    assert cfg.RouteRefreshInterval == 90.0 and cfg.source("RouteRefreshInterval") == "default"
    merged = cfg.merge_datastore({"iptablesRefreshInterval": "60s", "routeRefreshInterval": "1m30s",
                                  "ipsetsRefreshInterval": "10", "etcdEndpoints": "http://evil:2379",
                                  "felixHostname": "other", "defaultEndpointToHostAction": "Return"})
    assert merged.IptablesRefreshInterval == 5.0, "env beats the datastore"
    assert merged.RouteRefreshInterval == 90.0 and merged.IpsetsRefreshInterval == 10.0
    assert merged.EtcdEndpoints == ["http://10.0.0.1:2379", "http://10.0.0.2:2379"], "datastore params are local-only"
    assert merged.hostname == "n7"
    assert merged.rules_dict()["DefaultEndpointToHostAction"] == "RETURN"
    assert FelixConfig.from_env({"FELIX_FELIXHOSTNAME": "h1", "NODENAME": "n"}).hostname == "h1"


@pytest.mark.parametrize("var,value,param", [
    ("FELIX_IPTABLESBACKEND", "iptables", "IptablesBackend"),
    ("FELIX_HEALTHPORT", "70000", "HealthPort"),
    ("FELIX_ROUTEREFRESHINTERVAL", "soon", "RouteRefreshInterval"),
    ("FELIX_ETCDENDPOINTS", "127.0.0.1:2379", "EtcdEndpoints"),
    ("FELIX_DATASTORETYPE", "kubernetes", "DatastoreType"),
])
def test_bad_env_value_names_the_parameter(var, value, param):
    with pytest.raises(ConfigError) as err:
        FelixConfig.from_env({var: value})
    assert err.value.param == param and var in str(err.value)


def test_felixpy_exits_2_with_one_message_on_bad_config():
    felixpy = os.path.join(os.path.dirname(sys.executable), "felixpy")
    res = subprocess.run([felixpy], env={**os.environ, "FELIX_IPTABLESBACKEND": "bogus"},
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 2
    errors = [line for line in res.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and "IptablesBackend" in errors[0] and "FELIX_IPTABLESBACKEND" in errors[0]


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_health_endpoints_follow_conditions():
    health = Health(live_timeout=0.5)
    port = free_port()
    server = HealthServer(health, "127.0.0.1", port).start()
    try:
        base = f"http://127.0.0.1:{port}"
        assert _get(base + "/liveness")[0] == 200
        assert _get(base + "/readiness")[0] == 503
        for c in ("in-sync-applied", "datastore", "dataplane"):
            health.set_ready(c, True)
        assert _get(base + "/readiness")[0] == 200
        health.set_ready("datastore", False, "syncer disconnected")
        code, body = _get(base + "/readiness")
        assert code == 503 and json.loads(body)["conditions"]["datastore"]["reason"] == "syncer disconnected"
        time.sleep(0.6)
        assert _get(base + "/liveness")[0] == 503, "no heartbeat: not live"
        health.heartbeat()
        assert _get(base + "/liveness")[0] == 200
        assert _get(base + "/other")[0] == 404
    finally:
        server.stop()


def test_metrics_exposition_format():
    m = FelixMetrics()
    m.active_endpoints.set(3)
    m.resyncs.inc()
    for v in (0.004, 0.02, 3.0):
        m.apply_time.observe(v)
    port = free_port()
    server = MetricsServer(m.registry, "127.0.0.1", port).start()
    try:
        code, body = _get(f"http://127.0.0.1:{port}/metrics")
    finally:
        server.stop()
    assert code == 200
    lines = body.splitlines()
    assert "# TYPE felix_active_local_endpoints gauge" in lines and "felix_active_local_endpoints 3" in lines
    assert "felix_resyncs_started 1" in lines
    assert 'felix_int_dataplane_apply_time_seconds_bucket{le="0.005"} 1' in lines
    assert 'felix_int_dataplane_apply_time_seconds_bucket{le="0.025"} 2' in lines
    assert 'felix_int_dataplane_apply_time_seconds_bucket{le="+Inf"} 3' in lines
    assert "felix_int_dataplane_apply_time_seconds_count 3" in lines
    for name in ("felix_active_local_policies", "felix_ipset_members", "felix_update_to_applied_latency_seconds_count"):
        assert any(line.startswith(name) for line in lines), name


def test_status_key_layout():
    assert status_key("node1", "prod", "node1-k8s-web--1-eth0") == \
        "/calico/felix/v2/no-region/host/node1/workload/k8s/prod/web-1/endpoint/eth0"
    assert status_key("my-node", "", "my--node-cni-abc123-eth0") == \
        "/calico/felix/v2/no-region/host/my-node/workload/cni/abc123/endpoint/eth0"


def _wait(pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_status_reporter_writes_deletes_and_survives_outage(etcd):
    ds = EtcdDatastore(DatastoreConfig(endpoints=[etcd.endpoint], request_timeout=1.0, retry_timeout=1.0))
    reporter = StatusReporter(ds.kv, "node1", min_backoff=0.05, max_backoff=0.5).start()
    try:
        a, b = WorkloadEndpointID("default", "node1-k8s-a-eth0"), WorkloadEndpointID("default", "node1-k8s-b-eth0")
        ka, kb = (status_key("node1", "default", e.name) for e in (a, b))
        reporter.report({a: "up", b: "down"})
        _wait(lambda: ds.kv.get(kb) is not None and ds.kv.get(ka) is not None)
        assert json.loads(ds.kv.get(ka).value) == {"status": "up"}
        assert json.loads(ds.kv.get(kb).value) == {"status": "down"}
        etcd.stop()
        reporter.report({a: "down"})
        _wait(lambda: reporter.errors > 0)
        assert reporter.pending()
        etcd.start()
        _wait(lambda: not reporter.pending(), timeout=20)
        assert json.loads(ds.kv.get(ka).value) == {"status": "down"}
        assert ds.kv.get(kb) is None
    finally:
        reporter.stop()
        ds.close()
