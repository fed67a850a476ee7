"""calico-ipam-py exec'd as a main plugin execs it (any main plugin: whole config on stdin,
CNI_* environment), against a real etcd; and 50 parallel ADDs spread over three nodes."""
from __future__ import annotations

import ipaddress
import json
import time

from cni_py.etcd_gateway import EtcdGateway
from libcalico_py.ipam.block import Block
from libcalico_py.ipam.check import check
from tests.fixtures.etcd import free_port
from tests.integration.cni.cni_harness import (CALICO_IPAM, allocated, ipam_keys, put_node, put_pool,
                                               run_plugin, spawn_plugin)

ARGS = "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=pod-1"


def conf(etcd, **extra) -> dict:
    c = {"cniVersion": "1.0.0", "name": "net1", "type": "bridge", "etcd_endpoints": etcd.endpoint,
         "nodename": "n1", "ipam": {"type": "calico-ipam-py"}}
    c.update(extra)
    return c


def ipam(etcd, command, c, cid="c1", args=ARGS):
    return run_plugin(CALICO_IPAM, command, c, cid, cni_args=args)


def test_add_del_check_version(etcd):
    kv = EtcdGateway([etcd.endpoint])
    put_pool(kv, "pool1", "10.11.0.0/16")
    result = ipam(etcd, "ADD", conf(etcd)).assert_ok()
    [ipcfg] = result["ips"]
    addr = ipaddress.ip_interface(ipcfg["address"])
    assert addr.network.prefixlen == 26 and addr.ip in ipaddress.ip_network("10.11.0.0/16")
    assert allocated(kv) == [(str(addr.ip), "net1.c1")]
    [bkey] = ipam_keys(kv)["assignment"]
    attrs = Block.from_json(kv.get(bkey).value).attributes[0]
    assert attrs["handle_id"] == "net1.c1"
    assert {k: attrs["secondary"][k] for k in ("node", "namespace", "pod")} == \
        {"node": "n1", "namespace": "ns1", "pod": "pod-1"}
    # Old result shapes for old configs.
    r04 = ipam(etcd, "ADD", conf(etcd, cniVersion="0.4.0"), cid="c2").assert_ok()
    assert r04["cniVersion"] == "0.4.0" and r04["ips"][0]["version"] == "4"
    # CHECK: the cached result still matches; a result naming another address does not.
    assert ipam(etcd, "CHECK", conf(etcd, prevResult=result)).rc == 0
    ipam(etcd, "CHECK", conf(etcd, prevResult=r04)).assert_error(999, "not allocated to handle net1.c1")
    # DEL releases by handle <network>.<containerID>; repeating it is fine.
    ipam(etcd, "DEL", conf(etcd)).assert_ok()
    ipam(etcd, "DEL", conf(etcd)).assert_ok()
    assert [h for _, h in allocated(kv)] == ["net1.c2"]
    v = run_plugin(CALICO_IPAM, "VERSION", b'{"cniVersion":"1.0.0"}', netns="dummy").assert_ok()
    assert v == {"cniVersion": "1.0.0", "supportedVersions": ["0.3.0", "0.3.1", "0.4.0", "1.0.0"]}


def test_requested_ips_and_pools(etcd):
    kv = EtcdGateway([etcd.endpoint])
    put_pool(kv, "a", "10.12.0.0/24")
    put_pool(kv, "b", "10.13.0.0/24")
    r = ipam(etcd, "ADD", conf(etcd, args={"cni": {"ips": ["10.13.0.9"]}})).assert_ok()
    assert r["ips"][0]["address"] == "10.13.0.9/26"
    ipam(etcd, "ADD", conf(etcd, args={"cni": {"ips": ["10.13.0.9"]}}), cid="c2") \
        .assert_error(999, "already allocated")
    assert kv.get("/calico/ipam/v2/handle/net1.c2") is None
    r = ipam(etcd, "ADD", conf(etcd, ipam={"type": "calico-ipam-py", "ipv4_pools": ["b"]}), cid="c3").assert_ok()
    assert r["ips"][0]["address"].startswith("10.13.0.")
    ipam(etcd, "ADD", conf(etcd, ipam={"type": "calico-ipam-py", "ipv4_pools": ["zzz"]}), cid="c4") \
        .assert_error(7, "requested IP pool 'zzz' does not exist")
    ipam(etcd, "ADD", conf(etcd, args={"cni": {"ips": ["192.0.2.1"]}}), cid="c5") \
        .assert_error(7, "192.0.2.1 is not in any configured IP pool")


def test_exhausted_pool_and_unreachable_etcd(etcd):
    kv = EtcdGateway([etcd.endpoint])
    put_pool(kv, "small", "10.14.0.0/31", block_size=31)
    ipam(etcd, "ADD", conf(etcd), cid="a").assert_ok()
    ipam(etcd, "ADD", conf(etcd), cid="b").assert_ok()
    ipam(etcd, "ADD", conf(etcd), cid="c").assert_error(999, "no free IPv4 address left in IP pool(s) small")
    assert kv.get("/calico/ipam/v2/handle/net1.c") is None
    dead = f"http://127.0.0.1:{free_port()}"
    for command in ("ADD", "DEL"):
        err = ipam(etcd, command, conf(etcd, etcd_endpoints=dead), cid="d").assert_error(11, dead)
        assert "unavailable" in err["msg"]
    # No pool at all.
    kv.delete("/calico/resources/v3/projectcalico.org/ippools/small")
    ipam(etcd, "ADD", conf(etcd), cid="e").assert_error(999, "no enabled IPv4 IP pool")


def test_fifty_parallel_adds_over_three_nodes(etcd):
    kv = EtcdGateway([etcd.endpoint])
    put_pool(kv, "big", "10.15.0.0/16")
    nodes = ["node-a", "node-b", "node-c"]
    for n in nodes:
        put_node(kv, n)
    start = time.monotonic()
    procs = [spawn_plugin(CALICO_IPAM, "ADD", conf(etcd, nodename=nodes[i % 3]), f"pod{i}",
                          cni_args=f"IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p{i}")
             for i in range(50)]
    outs = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]
    add_time = time.monotonic() - start
    assert [o for o in outs if o[0] != 0] == []
    ips = [json.loads(o[1])["ips"][0]["address"].split("/")[0] for o in outs]
    assert len(set(ips)) == 50
    allocs = allocated(kv)
    assert sorted(ip for ip, _ in allocs) == sorted(ips)
    assert sorted(h for _, h in allocs) == sorted(f"net1.pod{i}" for i in range(50))
    # Affinities: every node holds confirmed blocks, and every address sits in a block
    # affine to the node that asked for it (no borrowing needed in a /16).
    by_block = {}
    for k in kv.get_prefix("/calico/ipam/v2/assignment/")[0]:
        b = Block.from_json(k.value)
        by_block[b.cidr] = b
    for i, ip in enumerate(ips):
        addr = ipaddress.ip_address(ip)
        [b] = [b for c, b in by_block.items() if addr in c]
        assert b.host == nodes[i % 3]
    for n in nodes:
        states = [json.loads(a.value)["state"] for a in kv.get_prefix(f"/calico/ipam/v2/host/{n}/")[0]]
        assert states and set(states) == {"confirmed"}
    report = check(kv)
    assert report.ok and report.allocations == 50, report.summary()

    procs = [spawn_plugin(CALICO_IPAM, "DEL", conf(etcd, nodename=nodes[i % 3]), f"pod{i}")
             for i in range(50)]
    assert [p.wait(timeout=120) for p in procs] == [0] * 50
    assert allocated(kv) == [] and ipam_keys(kv)["handle"] == []
    assert check(kv).ok
    print(f"50 parallel ADDs took {add_time:.1f}s")
