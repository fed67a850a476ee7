"""calico-py exec'd as a runtime would, inside a node namespace, wiring real pod namespaces;
kernel and etcd checked after ADD, CHECK and DEL."""
from __future__ import annotations

import hashlib
import json
import subprocess

from libcalico_py.ipam.check import check as ipam_check
from tests.integration.cni.cni_harness import CALICO, allocated, ipam_keys, put_pool, run_plugin

K8S_ARGS = "IgnoreUnknown=1;K8S_POD_NAMESPACE=team-a;K8S_POD_NAME=web-1;K8S_POD_INFRA_CONTAINER_ID=x"
WEP_KEY = "/calico/resources/v3/projectcalico.org/workloadendpoints/team-a/node1-k8s-web--1-eth0"


def conf(node, **extra) -> dict:
    c = {"cniVersion": "1.0.0", "name": "k8s-pod-network", "type": "calico-py",
         "etcd_endpoints": node.etcd.endpoint, "nodename": "node1", "mtu": 1450,
         "ipam": {"type": "calico-ipam-py"}}
    c.update(extra)
    return c


def sh(ns: str, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", "netns", "exec", ns, *argv], capture_output=True, text=True,
                          check=check)


def ipj(ns: str, *argv: str) -> list:
    p = sh(ns, "ip", "-j", *argv, check=False)
    return json.loads(p.stdout) if p.returncode == 0 and p.stdout.strip() else []


def plugin(node, command, c, cid, pod_ns, args=K8S_ARGS, **kw):
    return run_plugin(CALICO, command, c, cid, netns=f"/var/run/netns/{pod_ns}" if pod_ns else "",
                      cni_args=args, in_netns=node.node, **kw)


def expected_veth(namespace: str, pod: str) -> str:
    return "cali" + hashlib.sha1(f"{namespace}.{pod}".encode()).hexdigest()[:11]


def test_add_check_del_wires_kernel_and_etcd(cni_node):
    node = cni_node
    pod = node.pod("pod1")
    c = conf(node, args={"cni": {"labels": [{"key": "app", "value": "web"}]}})
    result = plugin(node, "ADD", c, "cid-1", pod).assert_ok()

    veth = expected_veth("team-a", "web-1")
    assert len(veth) == 15
    assert result["cniVersion"] == "1.0.0"
    assert result["interfaces"][0] == {"name": veth, "mac": "ee:ee:ee:ee:ee:ee"}
    assert result["interfaces"][1]["name"] == "eth0"
    assert result["interfaces"][1]["sandbox"] == f"/var/run/netns/{pod}"
    [ipcfg] = result["ips"]
    assert "version" not in ipcfg and ipcfg["interface"] == 1
    ip = ipcfg["address"].split("/")[0]
    assert ipcfg["address"].endswith("/32") and ip.startswith("10.65.")

    # Kernel, pod side: /32 on eth0, link route to the gateway, default via it, MTU.
    [eth0] = ipj(pod, "addr", "show", "dev", "eth0")
    assert "UP" in eth0["flags"] and eth0["mtu"] == 1450
    assert eth0["address"] == result["interfaces"][1]["mac"]
    assert [(a["local"], a["prefixlen"]) for a in eth0["addr_info"] if a["family"] == "inet"] == [(ip, 32)]
    routes = ipj(pod, "route", "show")
    assert {"dst": "169.254.1.1", "dev": "eth0", "scope": "link"}.items() <= _route(routes, "169.254.1.1").items()
    assert _route(routes, "default")["gateway"] == "169.254.1.1"
    # Kernel, node side: host end up with Calico's MAC, proxy ARP, host route, permanent neighbour.
    [host] = ipj(node.node, "link", "show", veth)
    assert "UP" in host["flags"] and host["address"] == "ee:ee:ee:ee:ee:ee"
    assert sh(node.node, "cat", f"/proc/sys/net/ipv4/conf/{veth}/proxy_arp").stdout.strip() == "1"
    assert sh(node.node, "cat", f"/proc/sys/net/ipv4/conf/{veth}/forwarding").stdout.strip() == "1"
    assert _route(ipj(node.node, "route", "show", "dev", veth), ip)["scope"] == "link"
    neigh = ipj(node.node, "neigh", "show", "dev", veth)
    assert any(n["dst"] == ip and "PERMANENT" in n["state"] for n in neigh)
    # Proxy ARP really answers: the pod reaches the node's uplink address through 169.254.1.1.
    sh(pod, "ping", "-c", "1", "-W", "2", "192.168.250.1")
    assert any(n["dst"] == "169.254.1.1" and n.get("lladdr") == "ee:ee:ee:ee:ee:ee"
               for n in ipj(pod, "neigh", "show"))

    # etcd: the endpoint and the allocation.
    wep = json.loads(node.kv.get(WEP_KEY).value)
    assert wep["kind"] == "WorkloadEndpoint"
    assert wep["metadata"]["labels"] == {"app": "web", "projectcalico.org/namespace": "team-a",
                                         "projectcalico.org/orchestrator": "k8s"}
    spec = wep["spec"]
    assert spec["node"] == "node1" and spec["orchestrator"] == "k8s" and spec["pod"] == "web-1"
    assert spec["endpoint"] == "eth0" and spec["containerID"] == "cid-1"
    assert spec["ipNetworks"] == [f"{ip}/32"] and spec["profiles"] == ["kns.team-a"]
    assert spec["interfaceName"] == veth and spec["mac"] == eth0["address"]
    assert allocated(node.kv) == [(ip, "k8s-pod-network.cid-1")]
    aff = node.kv.get_prefix("/calico/ipam/v2/host/node1/ipv4/block/")[0]
    assert [json.loads(a.value)["state"] for a in aff] == ["confirmed"]
    assert ipam_check(node.kv).ok, ipam_check(node.kv).summary()

    # CHECK passes with the runtime's cached result, then names what we break.
    c_check = dict(c, prevResult=result)
    assert plugin(node, "CHECK", c_check, "cid-1", pod).rc == 0
    sh(node.node, "ip", "route", "del", f"{ip}/32", "dev", veth)
    sh(pod, "ip", "route", "del", "default")
    err = plugin(node, "CHECK", c_check, "cid-1", pod).assert_error(999, "CHECK failed")
    assert f"host route {ip}/32 dev {veth} missing" in err["msg"]
    assert "default route via 169.254.1.1 dev eth0 missing" in err["msg"]
    node.kv.delete(WEP_KEY)
    err = plugin(node, "CHECK", c_check, "cid-1", pod).assert_error(999, "WorkloadEndpoint")
    assert "team-a/node1-k8s-web--1-eth0 missing" in err["msg"]

    # DEL removes everything; a second DEL is fine too.
    plugin(node, "DEL", dict(c, prevResult=result), "cid-1", pod).assert_ok()
    assert ipj(node.node, "link", "show", veth) == []
    assert ipj(pod, "link", "show", "eth0") == []
    assert node.kv.get(WEP_KEY) is None
    assert allocated(node.kv) == []
    assert ipam_keys(node.kv)["handle"] == []
    plugin(node, "DEL", c, "cid-1", pod).assert_ok()


def _route(routes: list, dst: str) -> dict:
    for r in routes:
        if r.get("dst") == dst:
            return r
    raise AssertionError(f"no route to {dst} in {routes}")


def test_results_in_the_configs_version(cni_node):
    node = cni_node
    for i, version in enumerate(("0.3.1", "0.4.0")):
        pod = node.pod(f"v{i}")
        args = f"IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p{i}"
        result = plugin(node, "ADD", conf(node, cniVersion=version), f"c{i}", pod, args=args).assert_ok()
        assert result["cniVersion"] == version
        assert result["ips"][0]["version"] == "4"
    # CHECK is not allowed below 0.4.0.
    plugin(node, "CHECK", conf(node, cniVersion="0.3.1"), "c0", node.pods[0],
           args="IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p0").assert_error(1, "does not allow CHECK")
    assert plugin(node, "CHECK", conf(node, cniVersion="0.4.0"), "c1", node.pods[1],
                  args="IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p1").rc == 0


def test_plain_cni_container_without_k8s_args(cni_node):
    node = cni_node
    pod = node.pod("plain")
    cid = "0123456789abcdef0123"
    result = plugin(node, "ADD", conf(node), cid, pod, args="").assert_ok()
    assert result["interfaces"][0]["name"] == "cali0123456789a"
    key = f"/calico/resources/v3/projectcalico.org/workloadendpoints/default/node1-cni-{cid}-eth0"
    spec = json.loads(node.kv.get(key).value)["spec"]
    assert spec["orchestrator"] == "cni" and spec["workload"] == cid
    assert spec["profiles"] == ["k8s-pod-network"]
    plugin(node, "DEL", conf(node), cid, pod, args="").assert_ok()
    assert node.kv.get(key) is None and allocated(node.kv) == []


def test_del_of_unknown_container_and_vanished_netns(cni_node):
    node = cni_node
    # Never seen, empty CNI_NETNS (containerd's DEL).
    plugin(node, "DEL", conf(node), "never-seen", "").assert_ok()
    # ADD, then the pod's netns disappears before DEL.
    pod = node.pod("gone")
    plugin(node, "ADD", conf(node), "cid-g", pod).assert_ok()
    subprocess.run(["ip", "netns", "del", pod], check=True)
    plugin(node, "DEL", conf(node), "cid-g", pod).assert_ok()
    assert ipj(node.node, "link", "show", expected_veth("team-a", "web-1")) == []
    assert allocated(node.kv) == [] and node.kv.get(WEP_KEY) is None


def test_failed_add_leaves_nothing_behind(cni_node):
    node = cni_node
    pod = node.pod("busy")
    # eth0 already exists in the pod: the veth cannot be created.
    sh(pod, "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "other0")
    err = plugin(node, "ADD", conf(node), "cid-b", pod).assert_error(999, "eth0")
    assert "File exists" in err["msg"]
    assert allocated(node.kv) == [] and ipam_keys(node.kv)["handle"] == []
    assert node.kv.get(WEP_KEY) is None
    assert [l["ifname"] for l in ipj(node.node, "link", "show") if l["ifname"].startswith("cali")] == []
    # A netns path that does not exist.
    err = plugin(node, "ADD", conf(node), "cid-c", "nonexistent-ns").assert_error(999, "does not exist")
    assert allocated(node.kv) == [] and node.kv.get(WEP_KEY) is None
    # The runtime's cleanup DEL after a failed ADD succeeds.
    plugin(node, "DEL", conf(node), "cid-b", pod).assert_ok()


def test_exhausted_pool_and_unreachable_etcd(cni_node):
    node = cni_node
    node.kv.delete("/calico/resources/v3/projectcalico.org/ippools/default-ipv4-ippool")
    put_pool(node.kv, "tiny", "10.70.0.0/31", block_size=31)
    pods = [node.pod(f"t{i}") for i in range(3)]
    for i in range(2):
        plugin(node, "ADD", conf(node), f"t{i}", pods[i],
               args=f"IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=t{i}").assert_ok()
    err = plugin(node, "ADD", conf(node), "t2", pods[2],
                 args="IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=t2").assert_error(999, "exhausted")
    assert "tiny (10.70.0.0/31)" in err["msg"]
    assert sorted(h for _, h in allocated(node.kv)) == ["k8s-pod-network.t0", "k8s-pod-network.t1"]
    assert ipj(pods[2], "link", "show", "eth0") == []
    # etcd unreachable: code 11 (try again later), nothing in the kernel.
    bad = conf(node, etcd_endpoints="http://127.0.0.1:1")
    err = plugin(node, "ADD", bad, "t3", pods[2],
                 args="IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=t3").assert_error(11, "127.0.0.1:1")
    assert ipj(pods[2], "link", "show", "eth0") == []
    assert sorted(l["ifname"] for l in ipj(node.node, "link", "show") if l["ifname"].startswith("cali")) \
        == sorted(expected_veth("ns", f"t{i}") for i in range(2))
    report = ipam_check(node.kv)
    assert report.ok, report.summary()


def test_repeated_add_keeps_its_address_and_logs(cni_node, tmp_path):
    node = cni_node
    pod = node.pod("again")
    log_file = tmp_path / "cni.log"
    c = conf(node, log_level="debug", log_file_path=str(log_file))
    first = plugin(node, "ADD", c, "cid-r", pod).assert_ok()
    again = plugin(node, "ADD", c, "cid-r", pod).assert_ok()
    assert again["ips"] == first["ips"]
    assert [h for _, h in allocated(node.kv)] == ["k8s-pod-network.cid-r"]
    assert plugin(node, "CHECK", dict(c, prevResult=again), "cid-r", pod).rc == 0
    plugin(node, "DEL", c, "cid-r", pod).assert_ok()
    text = log_file.read_text()
    assert "[INFO]" in text and "ADD cid-r (team-a/web-1): done" in text and "DEL cid-r" in text


def test_fifty_parallel_pod_adds_over_three_node_names(cni_node):
    from tests.integration.cni.cni_harness import put_node, spawn_plugin
    node = cni_node
    names = ["node1", "node2", "node3"]
    for n in names[1:]:
        put_node(node.kv, n)
    pods = [node.pod(f"par{i}") for i in range(50)]
    procs = [spawn_plugin(CALICO, "ADD", conf(node, nodename=names[i % 3]), f"par-{i}",
                          cni_args=f"IgnoreUnknown=1;K8S_POD_NAMESPACE=par;K8S_POD_NAME=p{i}",
                          netns=f"/var/run/netns/{pod}", in_netns=node.node)
             for i, pod in enumerate(pods)]
    outs = [(p.wait(timeout=180), p.stdout.read().decode(), p.stderr.read().decode()) for p in procs]
    assert [o for o in outs if o[0] != 0] == []
    ips = [json.loads(o[1])["ips"][0]["address"].split("/")[0] for o in outs]
    assert len(set(ips)) == 50
    host_routes = {r["dst"] for r in ipj(node.node, "route", "show") if r.get("dev", "").startswith("cali")}
    assert host_routes == set(ips)
    report = ipam_check(node.kv)
    assert report.ok and report.allocations == 50, report.summary()
    for n in names:
        kvs, _ = node.kv.get_prefix(f"/calico/ipam/v2/host/{n}/")
        assert kvs and {json.loads(k.value)["state"] for k in kvs} == {"confirmed"}
    weps, _ = node.kv.get_prefix("/calico/resources/v3/projectcalico.org/workloadendpoints/par/")
    assert len(weps) == 50

    procs = [spawn_plugin(CALICO, "DEL", conf(node, nodename=names[i % 3]), f"par-{i}",
                          cni_args=f"IgnoreUnknown=1;K8S_POD_NAMESPACE=par;K8S_POD_NAME=p{i}",
                          netns=f"/var/run/netns/{pod}", in_netns=node.node)
             for i, pod in enumerate(pods)]
    assert [p.wait(timeout=180) for p in procs] == [0] * 50
    assert allocated(node.kv) == [] and ipam_keys(node.kv)["handle"] == []
    assert node.kv.get_prefix("/calico/resources/v3/projectcalico.org/workloadendpoints/")[0] == []
    assert [l for l in ipj(node.node, "link", "show") if l["ifname"].startswith("cali")] == []
