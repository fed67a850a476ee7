"""Parsing the CNI environment and Calico's network config keys."""
from __future__ import annotations

import pytest

from cni_py.config import CNIEnv, NetConf, parse_cni_args
from cni_py.dataplane import veth_name
from cni_py.spec import CNIError

ENV = {"CNI_COMMAND": "ADD", "CNI_CONTAINERID": "c1", "CNI_NETNS": "/var/run/netns/x",
       "CNI_IFNAME": "eth0", "CNI_PATH": "/opt/cni/bin:/usr/lib/cni",
       "CNI_ARGS": "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=web;K8S_POD_UID=u;OTHER=x"}


def code_of(fn, *a, **kw) -> int:
    with pytest.raises(CNIError) as e:
        fn(*a, **kw)
    return e.value.code


def test_cni_env():
    e = CNIEnv.from_environ(ENV)
    assert (e.command, e.container_id, e.ifname) == ("ADD", "c1", "eth0")
    assert e.path == ["/opt/cni/bin", "/usr/lib/cni"]
    assert (e.pod_namespace, e.pod_name) == ("ns", "web")
    assert code_of(CNIEnv.from_environ, dict(ENV, CNI_NETNS="")) == 4
    assert CNIEnv.from_environ(dict(ENV, CNI_COMMAND="DEL", CNI_NETNS="")).netns == ""
    assert CNIEnv.from_environ(dict(ENV, CNI_NETNS=""), need_netns=False).netns == ""
    assert CNIEnv.from_environ({"CNI_COMMAND": "VERSION"}).command == "VERSION"


def test_cni_args():
    assert parse_cni_args("") == {}
    assert parse_cni_args("K8S_POD_NAME=a;IP=10.0.0.1") == {"K8S_POD_NAME": "a", "IP": "10.0.0.1"}
    assert code_of(parse_cni_args, "FOO=1") == 4
    assert parse_cni_args("IgnoreUnknown=true;FOO=1")["FOO"] == "1"
    assert code_of(parse_cni_args, "novalue") == 4


def test_netconf_calico_keys_and_defaults():
    raw = {"cniVersion": "0.4.0", "name": "k8s-pod-network", "type": "calico",
           "etcd_endpoints": "http://a:2379, http://b:2379", "etcd_ca_cert_file": "/ca",
           "nodename": "n1", "log_level": "debug", "mtu": 1440,
           "ipam": {"type": "calico-ipam", "ipv4_pools": ["default-ipv4-ippool"]},
           "args": {"cni": {"labels": [{"key": "app", "value": "web"}], "ips": ["10.1.2.3/32"]}},
           "prevResult": {"cniVersion": "0.4.0", "ips": []}}
    import json
    c = NetConf.parse(json.dumps(raw), "ADD", {})
    assert c.etcd_endpoints == ["http://a:2379", "http://b:2379"]
    assert (c.nodename, c.mtu, c.log_level, c.etcd_ca_cert_file) == ("n1", 1440, "debug", "/ca")
    assert c.calico_ipam and c.ipv4_pools == ["default-ipv4-ippool"]
    assert c.labels == {"app": "web"} and c.requested_ips == ["10.1.2.3"]
    assert c.prev_result == {"cniVersion": "0.4.0", "ips": []}
    assert c.handle_id("abc") == "k8s-pod-network.abc"


def test_netconf_env_fallbacks():
    c = NetConf.parse(b'{"cniVersion":"1.0.0","name":"n","type":"calico"}', "ADD",
                      {"NODENAME": "from-env", "ETCD_ENDPOINTS": "http://e:1", "ETCD_KEY_FILE": "/k"})
    assert (c.nodename, c.etcd_endpoints, c.etcd_key_file, c.mtu) == ("from-env", ["http://e:1"], "/k", 1500)
    assert not c.calico_ipam


@pytest.mark.parametrize("doc,code", [
    (b'{"name":"n"}', 7), (b'{"cniVersion":"1.0.0"}', 7), (b'{"cniVersion":"0.1.0","name":"n"}', 1),
    (b"[]", 6), (b'{"cniVersion":"1.0.0","name":"n","mtu":10}', 7),
    (b'{"cniVersion":"1.0.0","name":"n","ipam":{"ipv4_pools":"x"}}', 7),
    (b'{"cniVersion":"1.0.0","name":"n","args":{"cni":{"labels":[1]}}}', 7),
])
def test_netconf_errors(doc, code):
    assert code_of(NetConf.parse, doc, "ADD", {}) == code


def test_veth_names_as_calico():
    # cali + first 11 hex of sha1("default.nginx") (Calico's VethNameForWorkload).
    assert veth_name("default", "nginx", "cid") == "calic440f455693"
    name = veth_name("team-a", "web-1", "x")
    assert name.startswith("cali") and len(name) == 15
    assert veth_name("", "", "0123456789abcdef") == "cali0123456789a"
