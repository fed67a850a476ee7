"""calico-py's answers to bad input: the CNI error object on stdout with the spec's code and
a message naming the cause, non-zero exit, and nothing written to etcd."""
from __future__ import annotations

from cni_py.etcd_gateway import EtcdGateway
from tests.integration.cni.cni_harness import CALICO, PluginResult, put_pool, run_plugin

ARGS = "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p"


def good(etcd) -> dict:
    return {"cniVersion": "1.0.0", "name": "net", "type": "calico-py", "nodename": "n1",
            "etcd_endpoints": etcd.endpoint, "ipam": {"type": "calico-ipam-py"}}


def add(conf, **kw) -> PluginResult:
    kw.setdefault("netns", "/var/run/netns/does-not-matter")
    kw.setdefault("cni_args", ARGS)
    return run_plugin(CALICO, "ADD", conf, "cid", **kw)


def nothing_written(etcd) -> None:
    kvs, _ = EtcdGateway([etcd.endpoint]).get_prefix("/calico/")
    assert [k.key for k in kvs] == ["/calico/resources/v3/projectcalico.org/ippools/p"]


def test_config_errors(etcd):
    put_pool(EtcdGateway([etcd.endpoint]), "p", "10.1.0.0/24")
    c = good(etcd)
    no_name = {k: v for k, v in c.items() if k != "name"}
    add(no_name).assert_error(7, "network config has no name")
    no_version = {k: v for k, v in c.items() if k != "cniVersion"}
    add(no_version).assert_error(7, "network config has no cniVersion")
    err = add(dict(c, cniVersion="0.2.0")).assert_error(1, "incompatible CNI versions")
    assert "0.2.0" in err["msg"] and "1.0.0" in err["msg"]
    add(dict(c, cniVersion="1.1.0")).assert_error(1, "'1.1.0'")
    add(b"{not json").assert_error(6, "not valid JSON")
    add(dict(c, mtu="big")).assert_error(7, "mtu")
    add(dict(c, args={"cni": {"ips": ["nope"]}})).assert_error(7, "args.cni.ips[0]")
    nothing_written(etcd)


def test_environment_errors(etcd):
    c = good(etcd)
    r = run_plugin(CALICO, "ADD", c, "", netns="/x", cni_args=ARGS)
    r.assert_error(4, "CNI_CONTAINERID")
    run_plugin(CALICO, "ADD", c, "cid", netns="", cni_args=ARGS).assert_error(4, "CNI_NETNS")
    run_plugin(CALICO, "FROB", c, "cid", netns="/x").assert_error(4, "CNI_COMMAND")
    run_plugin(CALICO, "ADD", c, "cid", netns="/x", cni_args="K8S_POD_NAME=p;FOO=1") \
        .assert_error(4, "unknown key 'FOO'")
    run_plugin(CALICO, "ADD", c, "cid", netns="/x", cni_args=ARGS, ifname="a" * 16) \
        .assert_error(4, "CNI_IFNAME")


def test_version_is_answered_without_validation():
    # podman's probe: dummy values, a bare config.
    r = run_plugin(CALICO, "VERSION", b'{"cniVersion":"1.0.0"}', netns="dummy", ifname="dummy",
                   path=["dummy"])
    assert r.assert_ok() == {"cniVersion": "1.0.0",
                             "supportedVersions": ["0.3.0", "0.3.1", "0.4.0", "1.0.0"]}
    r = run_plugin(CALICO, "VERSION", b"", netns="dummy")
    assert r.assert_ok()["supportedVersions"][-1] == "1.0.0"


def test_error_carries_the_configs_version(etcd):
    c = dict(good(etcd), cniVersion="0.4.0", etcd_endpoints="http://127.0.0.1:1")
    err = add(c).assert_error(11, "127.0.0.1:1")
    assert err["cniVersion"] == "0.4.0"
