"""Independent clients from Debian's containernetworking-plugins: the reference `bridge`
using calico-ipam-py, calico-py using `host-local`, and a conflist chaining calico-py with
`tuning` and `portmap` (run as libcni runs a list: ADD in order with prevResult, DEL in
reverse)."""
from __future__ import annotations

import json
import os

from tests.dataplane.cni.test_cni_calico_plugin import ipj, sh
from tests.integration.cni.cni_harness import (CALICO, CALICO_IPAM, REF_CNI, allocated, ipam_keys,
                                               run_plugin)

K8S_ARGS = "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=pod-x"


def cni_path(tmp_path) -> list[str]:
    """A CNI_PATH dir holding calico-py, calico-ipam-py and every reference plugin."""
    d = tmp_path / "cni-bin"
    d.mkdir()
    for name in os.listdir(REF_CNI):
        os.symlink(os.path.join(REF_CNI, name), d / name)
    os.symlink(CALICO, d / "calico-py")
    os.symlink(CALICO_IPAM, d / "calico-ipam-py")
    return [str(d)]


def test_reference_bridge_gets_its_address_from_calico_ipam(cni_node, tmp_path):
    node = cni_node
    pod = node.pod("br")
    path = cni_path(tmp_path)
    conf = {"cniVersion": "1.0.0", "name": "bridgenet", "type": "bridge", "bridge": "cnibr0",
            "etcd_endpoints": node.etcd.endpoint, "nodename": "node1",
            "ipam": {"type": "calico-ipam-py"}}
    netns = f"/var/run/netns/{pod}"
    bridge = os.path.join(path[0], "bridge")
    result = run_plugin(bridge, "ADD", conf, "br-1", netns=netns, cni_args=K8S_ARGS, path=path,
                        in_netns=node.node).assert_ok()
    [ipcfg] = result["ips"]
    ip, plen = ipcfg["address"].split("/")
    assert ip.startswith("10.65.") and plen == "26"  # calico-ipam hands out block-masked CIDRs
    [eth0] = ipj(pod, "addr", "show", "dev", "eth0")
    assert (ip, 26) in [(a["local"], a["prefixlen"]) for a in eth0["addr_info"] if a["family"] == "inet"]
    assert ipj(node.node, "link", "show", "cnibr0")
    assert allocated(node.kv) == [(ip, "bridgenet.br-1")]
    info = json.loads(node.kv.get(ipam_keys(node.kv)["assignment"][0]).value)["attributes"][0]
    assert info["secondary"]["pod"] == "pod-x" and info["secondary"]["node"] == "node1"

    run_plugin(bridge, "DEL", dict(conf, prevResult=result), "br-1", netns=netns, cni_args=K8S_ARGS,
               path=path, in_netns=node.node).assert_ok()
    assert allocated(node.kv) == [] and ipam_keys(node.kv)["handle"] == []
    assert ipj(pod, "link", "show", "eth0") == []


def test_calico_with_host_local_ipam(cni_node, tmp_path):
    node = cni_node
    pod = node.pod("hl")
    data_dir = tmp_path / "host-local"
    conf = {"cniVersion": "1.0.0", "name": "hlnet", "type": "calico-py",
            "etcd_endpoints": node.etcd.endpoint, "nodename": "node1",
            "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.80.0.0/24"}]],
                     "dataDir": str(data_dir)}}
    netns = f"/var/run/netns/{pod}"
    path = cni_path(tmp_path)
    result = run_plugin(CALICO, "ADD", conf, "hl-1", netns=netns, cni_args=K8S_ARGS, path=path,
                        in_netns=node.node).assert_ok()
    ip = result["ips"][0]["address"].split("/")[0]
    assert result["ips"][0]["address"] == f"{ip}/32" and ip.startswith("10.80.0.")
    assert (data_dir / "hlnet" / ip).read_text().startswith("hl-1")
    [eth0] = ipj(pod, "addr", "show", "dev", "eth0")
    assert [(a["local"], a["prefixlen"]) for a in eth0["addr_info"] if a["family"] == "inet"] == [(ip, 32)]
    wep = json.loads(node.kv.get(
        "/calico/resources/v3/projectcalico.org/workloadendpoints/ns/node1-k8s-pod--x-eth0").value)
    assert wep["spec"]["ipNetworks"] == [f"{ip}/32"]
    assert allocated(node.kv) == []  # Calico IPAM not involved

    run_plugin(CALICO, "CHECK", dict(conf, prevResult=result), "hl-1", netns=netns,
               cni_args=K8S_ARGS, path=path, in_netns=node.node).assert_ok()
    run_plugin(CALICO, "DEL", conf, "hl-1", netns=netns, cni_args=K8S_ARGS, path=path,
               in_netns=node.node).assert_ok()
    assert not (data_dir / "hlnet" / ip).exists()
    assert ipj(pod, "link", "show", "eth0") == []


def test_conflist_chain_with_tuning_and_portmap(cni_node, tmp_path):
    node = cni_node
    pod = node.pod("chain")
    netns = f"/var/run/netns/{pod}"
    path = cni_path(tmp_path)
    conflist = {"cniVersion": "1.0.0", "name": "k8s-pod-network", "plugins": [
        {"type": "calico-py", "etcd_endpoints": node.etcd.endpoint, "nodename": "node1",
         "ipam": {"type": "calico-ipam-py"}},
        {"type": "tuning", "sysctl": {"net.core.somaxconn": "777"}},
        {"type": "portmap", "snat": True, "capabilities": {"portMappings": True}},
    ]}
    runtime_config = {"portMappings": [{"hostPort": 18080, "containerPort": 80, "protocol": "tcp"}]}

    def plugin_conf(p: dict, prev: dict | None) -> dict:
        c = dict(p, cniVersion=conflist["cniVersion"], name=conflist["name"])
        if p.get("capabilities", {}).get("portMappings"):
            c["runtimeConfig"] = runtime_config
        if prev is not None:
            c["prevResult"] = prev
        return c

    def call(p: dict, command: str, prev: dict | None):
        binary = os.path.join(path[0], p["type"])
        return run_plugin(binary, command, plugin_conf(p, prev), "chain-1", netns=netns,
                          cni_args=K8S_ARGS, path=path, in_netns=node.node)

    prev = None
    results = []
    for p in conflist["plugins"]:
        prev = call(p, "ADD", prev).assert_ok()
        results.append(prev)
    calico_result = results[0]
    # prevResult went through the chain untouched in substance.
    assert results[-1]["ips"] == calico_result["ips"]
    assert results[-1]["interfaces"][:2] == calico_result["interfaces"]
    ip = calico_result["ips"][0]["address"].split("/")[0]
    assert sh(pod, "cat", "/proc/sys/net/core/somaxconn").stdout.strip() == "777"
    nat = sh(node.node, "iptables", "-t", "nat", "-S").stdout
    assert "--dport 18080" in nat and f"{ip}:80" in nat

    # CHECK through the list (portmap's CHECK is broken upstream for IPv4-only results).
    final = results[-1]
    for p in conflist["plugins"][:2]:
        call(p, "CHECK", final).assert_ok()

    for p in reversed(conflist["plugins"]):
        call(p, "DEL", final).assert_ok()
    nat = sh(node.node, "iptables", "-t", "nat", "-S").stdout
    assert "--dport 18080" not in nat
    assert ipj(pod, "link", "show", "eth0") == []
    assert allocated(node.kv) == []
